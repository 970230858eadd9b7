//! Ward in front of real HTTP upstreams on 127.0.0.1: a recording "cloud" speaking the OpenAI
//! wire, a local engine speaking Ollama's, and an Anthropic-wire cloud. Proves that PHI never
//! reaches a cloud upstream (also while the local engine fails), that clean requests are routed
//! by complexity, that streams are translated between wires, and that replicas fail over.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use ward_router::{
    remote_backend, HealthSettings, Locality, RemoteSettings, RemoteWire, RoutedBackend,
    RoutingSettings, TierSettings, Timeouts,
};
use ward_server::{router, ServerSettings};

use crate::{json_of, send, state_over};

const ANSWER: [&str; 3] = ["All ", "clear", "."];

/// How a mock upstream behaves on the next requests (0, the default, answers).
const BEHAVE_500: u8 = 1;
const BEHAVE_HANG: u8 = 2;
/// Sends the first chunk of the answer, then drops the connection.
const BEHAVE_CUT: u8 = 3;
/// Answers with the last user message it received, in three chunks cut anywhere.
const BEHAVE_ECHO: u8 = 4;

#[derive(Clone, Default)]
struct Upstream {
    bodies: Arc<Mutex<Vec<String>>>,
    behaviour: Arc<AtomicU8>,
}

impl Upstream {
    fn bodies(&self) -> Vec<String> {
        self.bodies.lock().unwrap().clone()
    }

    fn set(&self, behaviour: u8) {
        self.behaviour.store(behaviour, Ordering::SeqCst);
    }

    /// Records the body and answers by the current behaviour: `Err` with a response other than
    /// text, or `Ok` with the pieces to stream and whether to cut the stream after the first.
    async fn take(&self, body: String) -> Result<(Vec<String>, bool), Response> {
        self.bodies.lock().unwrap().push(body.clone());
        let answer = || ANSWER.iter().map(|piece| piece.to_string()).collect();
        match self.behaviour.load(Ordering::SeqCst) {
            BEHAVE_500 => Err(StatusCode::INTERNAL_SERVER_ERROR.into_response()),
            BEHAVE_HANG => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                Err(StatusCode::GATEWAY_TIMEOUT.into_response())
            }
            BEHAVE_CUT => Ok((answer(), true)),
            BEHAVE_ECHO => {
                let request = json_of(&body);
                let last_user = request["messages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .rfind(|message| message["role"] == "user")
                    .map(|message| message["content"].as_str().unwrap().to_owned())
                    .unwrap_or_default();
                let chars: Vec<char> = last_user.chars().collect();
                let (a, b) = (chars.len() / 3, 2 * chars.len() / 3);
                Ok((
                    [&chars[..a], &chars[a..b], &chars[b..]]
                        .iter()
                        .map(|piece| piece.iter().collect())
                        .collect(),
                    false,
                ))
            }
            _ => Ok((answer(), false)),
        }
    }

    /// Health endpoints fail while the upstream answers 500s.
    fn health(&self) -> Response {
        if self.behaviour.load(Ordering::SeqCst) == BEHAVE_500 {
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        } else {
            axum::Json(json!({"data": [], "version": "0.0.0"})).into_response()
        }
    }
}

/// A streamed response body of `chunks`, cut (the connection dropped) a moment after the first
/// chunk went out if `cut`.
fn streamed(content_type: &'static str, chunks: Vec<String>, cut: bool) -> Response {
    use futures::StreamExt;
    let count = if cut { 1 } else { chunks.len() };
    let sent = futures::stream::iter(chunks.into_iter().take(count).map(Ok));
    let cut_off = futures::stream::once(async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        Err(std::io::Error::other("upstream went away"))
    })
    .take(usize::from(cut));
    let body = axum::body::Body::from_stream(sent.chain(cut_off));
    ([("content-type", content_type)], body).into_response()
}

async fn openai_chat(State(upstream): State<Upstream>, body: String) -> Response {
    let (pieces, cut) = match upstream.take(body).await {
        Ok(answer) => answer,
        Err(response) => return response,
    };
    let mut events: Vec<String> = pieces
        .iter()
        .map(|piece| {
            let chunk = json!({"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": null}]});
            format!("data: {chunk}\n\n")
        })
        .collect();
    events.push(format!(
        "data: {}\n\n",
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    ));
    events.push(format!(
        "data: {}\n\n",
        json!({"choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 3}})
    ));
    events.push("data: [DONE]\n\n".into());
    streamed("text/event-stream", events, cut)
}

async fn ollama_chat(State(upstream): State<Upstream>, body: String) -> Response {
    let (pieces, cut) = match upstream.take(body).await {
        Ok(answer) => answer,
        Err(response) => return response,
    };
    let mut lines: Vec<String> = pieces
        .iter()
        .map(|piece| {
            format!(
                "{}\n",
                json!({"message": {"role": "assistant", "content": piece}, "done": false})
            )
        })
        .collect();
    lines.push(format!("{}\n", json!({"message": {"role": "assistant", "content": ""}, "done": true, "done_reason": "stop", "prompt_eval_count": 9, "eval_count": 3})));
    streamed("application/x-ndjson", lines, cut)
}

async fn anthropic_messages(State(upstream): State<Upstream>, body: String) -> Response {
    let (pieces, cut) = match upstream.take(body).await {
        Ok(answer) => answer,
        Err(response) => return response,
    };
    let mut events = vec![format!(
        "event: message_start\ndata: {}\n\n",
        json!({"type": "message_start", "message": {"usage": {"input_tokens": 12, "output_tokens": 1}}})
    )];
    for piece in pieces {
        events.push(format!("event: content_block_delta\ndata: {}\n\n", json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}})));
    }
    events.push(format!("event: message_delta\ndata: {}\n\n", json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 3}})));
    events.push("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".into());
    streamed("text/event-stream", events, cut)
}

/// Starts one mock upstream on a free loopback port; returns its base URL and the task.
async fn start(upstream: Upstream) -> (String, tokio::task::JoinHandle<()>) {
    let app = Router::new()
        .route("/v1/chat/completions", post(openai_chat))
        .route(
            "/v1/models",
            get(|State(upstream): State<Upstream>| async move { upstream.health() }),
        )
        .route("/api/chat", post(ollama_chat))
        .route(
            "/api/version",
            get(|State(upstream): State<Upstream>| async move { upstream.health() }),
        )
        .route("/v1/messages", post(anthropic_messages))
        .with_state(upstream);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{address}"), task)
}

fn remote(name: &str, wire: RemoteWire, locality: Locality, urls: Vec<String>) -> RemoteSettings {
    RemoteSettings {
        name: name.into(),
        wire,
        locality,
        model: format!("{name}-model"),
        urls,
        api_key: Some(ward_router::Secret::new("sk-upstream-test")),
        price: None,
        timeouts: Timeouts {
            connect: Duration::from_millis(500),
            first_token: Duration::from_millis(800),
            total: Duration::from_secs(5),
        },
        health: HealthSettings {
            failure_threshold: 2,
            open_for: Duration::from_millis(300),
            check_interval: None,
            retry_ratio: 0.5,
        },
    }
}

/// Ward's HTTP app over `backends` with these tiers and routing.
fn app_with(
    backends: Vec<RoutedBackend>,
    tiers: &[TierSettings],
    routing: &RoutingSettings,
) -> Router {
    let router_state = ward_router::Router::new(backends, tiers, routing).unwrap();
    router(state_over(router_state), &ServerSettings::default())
}

struct Gateway {
    app: Router,
    local: Upstream,
    cloud: Upstream,
    anthropic: Upstream,
    _tasks: Vec<tokio::task::JoinHandle<()>>,
}

async fn gateway(local_urls_before: Vec<String>) -> Gateway {
    let (local, cloud, anthropic) = (
        Upstream::default(),
        Upstream::default(),
        Upstream::default(),
    );
    let (local_url, local_task) = start(local.clone()).await;
    let (cloud_url, cloud_task) = start(cloud.clone()).await;
    let (anthropic_url, anthropic_task) = start(anthropic.clone()).await;
    let mut local_urls = local_urls_before;
    local_urls.push(local_url);
    let backends = vec![
        remote_backend(remote(
            "ollama",
            RemoteWire::Ollama,
            Locality::Local,
            local_urls,
        ))
        .unwrap(),
        remote_backend(remote(
            "gpt",
            RemoteWire::OpenAi,
            Locality::Cloud,
            vec![format!("{cloud_url}/v1")],
        ))
        .unwrap(),
        remote_backend(remote(
            "claude",
            RemoteWire::Anthropic,
            Locality::Cloud,
            vec![anthropic_url],
        ))
        .unwrap(),
    ];
    let tiers = vec![
        TierSettings::new("phi", &["ollama"]),
        TierSettings::new("small", &["ollama"]),
        TierSettings::new("frontier", &["gpt", "claude", "ollama"]),
    ];
    let routing = RoutingSettings {
        simple: "small".into(),
        moderate: "small".into(),
        complex: "frontier".into(),
        ..RoutingSettings::all_to("phi")
    };
    Gateway {
        app: app_with(backends, &tiers, &routing),
        local,
        cloud,
        anthropic,
        _tasks: vec![local_task, cloud_task, anthropic_task],
    }
}

/// PHI requests sent through the gateway in the egress test.
const PHI_REQUESTS: usize = 1200;

const COMPLEX: &str = "Give a differential diagnosis for exertional chest pain with a normal ECG, weigh the workup options, and justify each step considering CKD.";

/// Synthetic PHI values and sentences that carry them, in many shapes.
fn phi_requests(count: usize) -> Vec<(String, Vec<String>)> {
    let given = [
        "John", "Maria", "Aiyana", "Dmitri", "Keisha", "Tomas", "Ingrid", "Rahul",
    ];
    let family = [
        "Whitfield",
        "Okafor",
        "Castellano",
        "Lindqvist",
        "Nakamura",
        "Oyelaran",
        "Brennan",
    ];
    let mut requests = Vec::new();
    for index in 0..count {
        let name = format!(
            "{} {}",
            given[index % given.len()],
            family[(index / 3) % family.len()]
        );
        let mrn = format!("{}", 40_000_000 + index * 7919);
        let phone = format!("(617) 555-{:04}", 1000 + index);
        let date = format!(
            "{:02}/{:02}/19{}",
            1 + index % 12,
            1 + index % 28,
            40 + index % 50
        );
        let sentences = [
            format!("Patient {name} was admitted overnight."),
            format!("MRN {mrn}."),
            format!("Call back at {phone}."),
            format!("DOB {date}."),
        ];
        let pick = index % 4;
        let values = match pick {
            0 => vec![name.clone()],
            1 => vec![mrn.clone()],
            2 => vec![phone.clone()],
            _ => vec![date.clone()],
        };
        requests.push((sentences[pick].clone(), values));
    }
    requests
}

fn messages_with(phi_text: &str, position: usize) -> Value {
    let mut messages = vec![
        json!({"role": "system", "content": "You are a careful clinical assistant."}),
        json!({"role": "user", "content": COMPLEX}),
        json!({"role": "assistant", "content": "Could you share more context?"}),
        json!({"role": "user", "content": "Please continue with the analysis, weigh the options and justify them."}),
    ];
    let slot = position % messages.len();
    let original = messages[slot]["content"].as_str().unwrap().to_owned();
    messages[slot]["content"] = json!(format!("{original} {phi_text}"));
    if position % 5 == 4 {
        messages.push(json!({"role": "tool", "content": phi_text}));
    }
    Value::Array(messages)
}

/// The text of an OpenAI SSE response, joined.
fn streamed_text(sse: &str) -> String {
    sse.lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter(|data| *data != "[DONE]")
        .filter_map(|data| {
            json_of(data)["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

fn assert_no_value_in(bodies: &[String], values: &[String]) {
    for body in bodies {
        for value in values {
            assert!(
                !body.contains(value.as_str()),
                "a PHI value reached a cloud upstream"
            );
        }
    }
}

#[tokio::test]
async fn phi_never_reaches_a_cloud_upstream_and_clean_complex_work_does() {
    let gateway = gateway(Vec::new()).await;
    let mut all_values = Vec::new();
    for (index, (phi_text, values)) in phi_requests(PHI_REQUESTS).into_iter().enumerate() {
        let messages = messages_with(&phi_text, index);
        // Both APIs, streamed and not (Ollama's /api/chat streams unless told otherwise).
        let (path, stream) = [
            ("/v1/chat/completions", false),
            ("/v1/chat/completions", true),
            ("/api/chat", true),
        ][index % 3];
        let body = json!({"model": "auto", "messages": messages, "stream": stream});
        let (status, headers, text) = post_json(&gateway.app, path, &body).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        assert_eq!(headers["x-ward-tier"], "phi");
        assert_eq!(headers["x-ward-backend"], "ollama");
        assert_ne!(headers["x-ward-phi"], "none");
        all_values.extend(values);
    }
    assert_no_value_in(&gateway.cloud.bodies(), &all_values);
    assert_no_value_in(&gateway.anthropic.bodies(), &all_values);
    assert!(gateway.cloud.bodies().is_empty());
    assert_eq!(gateway.local.bodies().len(), PHI_REQUESTS);

    // PHI-free complex work goes to the cloud tier, simple work to the small local tier.
    let body = json!({"model": "auto", "messages": [{"role": "user", "content": COMPLEX}]});
    let (status, headers, text) = post_json(&gateway.app, "/v1/chat/completions", &body).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(headers["x-ward-tier"], "frontier");
    assert_eq!(headers["x-ward-backend"], "gpt");
    assert_eq!(headers["x-ward-phi"], "none");
    assert_eq!(headers["x-ward-complexity"], "complex");
    assert_eq!(
        json_of(&text)["choices"][0]["message"]["content"],
        "All clear."
    );
    let sent: Value = serde_json::from_str(&gateway.cloud.bodies()[0]).unwrap();
    assert_eq!(sent["model"], "gpt-model");
    assert_eq!(sent["stream"], true);
    let body = json!({"model": "auto", "messages": [{"role": "user", "content": "What does BID stand for?"}]});
    let (_, headers, _) = post_json(&gateway.app, "/v1/chat/completions", &body).await;
    assert_eq!(headers["x-ward-tier"], "small");
    assert_eq!(headers["x-ward-backend"], "ollama");
}

#[tokio::test]
async fn phi_fails_closed_when_the_local_engine_fails() {
    let gateway = gateway(Vec::new()).await;
    let phi = json!({"model": "auto", "messages": [{"role": "user", "content": format!("{COMPLEX} Patient John Whitfield, MRN 48213377.")}]});
    for behaviour in [BEHAVE_500, BEHAVE_HANG] {
        gateway.local.set(behaviour);
        let (status, headers, text) = post_json(&gateway.app, "/v1/chat/completions", &phi).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
        let message = json_of(&text)["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            message.contains("never sent to a cloud backend"),
            "{message}"
        );
        assert!(!message.contains("Whitfield"));
        assert!(headers["x-ward-phi"].to_str().unwrap().contains("NAME"));
        assert!(!headers["x-ward-request-id"].is_empty());
    }
    // One replica killed (its port refuses connections), the other answering 500.
    let killed = gateway_with_dead_replica().await;
    killed.local.set(BEHAVE_500);
    let (status, _, text) = post_json(&killed.app, "/api/chat", &phi).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert!(killed.cloud.bodies().is_empty() && killed.anthropic.bodies().is_empty());
    assert!(gateway.cloud.bodies().is_empty());
    assert!(gateway.anthropic.bodies().is_empty());
    // A clean complex request still reaches the cloud while the local engine is down.
    let clean = json!({"model": "auto", "messages": [{"role": "user", "content": COMPLEX}]});
    let (status, _, _) = post_json(&gateway.app, "/v1/chat/completions", &clean).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(gateway.cloud.bodies().len(), 1);
}

#[tokio::test]
async fn cloud_failure_falls_over_to_the_next_backend_of_the_tier() {
    let gateway = gateway(Vec::new()).await;
    gateway.cloud.set(BEHAVE_500);
    let clean = json!({"model": "auto", "messages": [{"role": "user", "content": COMPLEX}], "stream": true});
    let (status, headers, text) = post_json(&gateway.app, "/v1/chat/completions", &clean).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(headers["x-ward-backend"], "claude");
    assert_eq!(headers["x-ward-fallbacks"], "gpt");
    assert_eq!(streamed_text(&text), "All clear.");
    let sent: Value = serde_json::from_str(&gateway.anthropic.bodies()[0]).unwrap();
    assert_eq!(sent["model"], "claude-model");
}

#[tokio::test]
async fn wires_translate_both_ways() {
    let gateway = gateway(Vec::new()).await;
    // An OpenAI client, streaming, from the Ollama-wire engine and the Anthropic-wire cloud.
    for (model, backend) in [("ollama-model", "ollama"), ("claude-model", "claude")] {
        let body = json!({"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": true, "stream_options": {"include_usage": true}});
        let (status, headers, text) = post_json(&gateway.app, "/v1/chat/completions", &body).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        assert_eq!(headers["x-ward-backend"], backend);
        assert_eq!(streamed_text(&text), "All clear.", "{model}");
        let last_chunk = text
            .lines()
            .filter_map(|line| line.strip_prefix("data: "))
            .rfind(|data| *data != "[DONE]")
            .map(json_of)
            .unwrap();
        let usage = &last_chunk["usage"];
        assert_eq!(usage["completion_tokens"], 3, "{model}");
    }
    // An Ollama client, streaming NDJSON, from the OpenAI-wire cloud.
    let body = json!({"model": "gpt-model", "messages": [{"role": "user", "content": "hi"}]});
    let (status, _, text) = post_json(&gateway.app, "/api/chat", &body).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let lines: Vec<Value> = text.lines().map(json_of).collect();
    let streamed: String = lines
        .iter()
        .filter_map(|line| line["message"]["content"].as_str())
        .collect();
    assert_eq!(streamed, "All clear.");
    assert_eq!(lines.last().unwrap()["done"], true);
    assert_eq!(lines.last().unwrap()["eval_count"], 3);
    // What the upstreams received is in their own wire.
    let ollama: Value = serde_json::from_str(&gateway.local.bodies()[0]).unwrap();
    assert_eq!(
        ollama["messages"][0],
        json!({"role": "user", "content": "hi"})
    );
    let anthropic: Value = serde_json::from_str(&gateway.anthropic.bodies()[0]).unwrap();
    assert_eq!(anthropic["max_tokens"], 4096);
}

/// A gateway whose local engine has a second replica on a port nobody listens on.
async fn gateway_with_dead_replica() -> Gateway {
    // A port that was free a moment ago: connections to it are refused.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    gateway(vec![dead]).await
}

#[tokio::test]
async fn a_dead_replica_is_skipped() {
    let gateway = gateway_with_dead_replica().await;
    for _ in 0..6 {
        let body = json!({"model": "ollama-model", "messages": [{"role": "user", "content": "hi"}], "stream": false});
        let (status, _, text) = post_json(&gateway.app, "/api/chat", &body).await;
        assert_eq!(status, StatusCode::OK, "{text}");
    }
    assert_eq!(gateway.local.bodies().len(), 6);
}

/// The body of one chat request carrying `content` as the user message.
fn chat(model: &str, content: &str, stream: bool) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": content}], "stream": stream})
}

/// POSTs `body` as JSON to `path`.
async fn post_json(
    app: &Router,
    path: &str,
    body: &Value,
) -> (StatusCode, axum::http::HeaderMap, String) {
    send(app, "POST", path, Some(&body.to_string())).await
}

/// Sends `count` chat requests at once, so that they are in flight together.
async fn burst(app: &Router, count: usize, model: &str) -> Vec<StatusCode> {
    let body = chat(model, "hi", false);
    let requests = (0..count).map(|_| post_json(app, "/v1/chat/completions", &body));
    futures::future::join_all(requests)
        .await
        .into_iter()
        .map(|(status, _, _)| status)
        .collect()
}

/// One local Ollama-wire backend, "engine", over these replicas, alone in the "phi" tier.
async fn replicated(
    replicas: &[&Upstream],
    health: HealthSettings,
) -> (Router, Vec<tokio::task::JoinHandle<()>>) {
    let mut urls = Vec::new();
    let mut tasks = Vec::new();
    for upstream in replicas {
        let (url, task) = start((*upstream).clone()).await;
        urls.push(url);
        tasks.push(task);
    }
    let mut settings = remote("engine", RemoteWire::Ollama, Locality::Local, urls);
    settings.health = health;
    let backends = vec![remote_backend(settings).unwrap()];
    let tiers = [TierSettings::new("phi", &["engine"])];
    (
        app_with(backends, &tiers, &RoutingSettings::all_to("phi")),
        tasks,
    )
}

#[tokio::test]
async fn a_stream_is_never_retried_after_its_first_byte() {
    // Two replicas of one engine that both cut their stream after the first chunk, and a
    // second backend in the same tier: neither may see the request again once a byte went out.
    let engine = Upstream::default();
    engine.set(BEHAVE_CUT);
    let spare = Upstream::default();
    let (first, first_task) = start(engine.clone()).await;
    let (second, second_task) = start(engine.clone()).await;
    let (spare_url, spare_task) = start(spare.clone()).await;
    let backends = vec![
        remote_backend(remote(
            "engine",
            RemoteWire::Ollama,
            Locality::Local,
            vec![first, second],
        ))
        .unwrap(),
        remote_backend(remote(
            "spare",
            RemoteWire::OpenAi,
            Locality::Local,
            vec![format!("{spare_url}/v1")],
        ))
        .unwrap(),
    ];
    let tiers = [TierSettings::new("phi", &["engine", "spare"])];
    let app = app_with(backends, &tiers, &RoutingSettings::all_to("phi"));

    let (status, headers, text) =
        post_json(&app, "/v1/chat/completions", &chat("auto", "hi", true)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-ward-backend"], "engine");
    assert_eq!(streamed_text(&text), "All ");
    let last = text
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .rfind(|data| *data != "[DONE]")
        .unwrap();
    assert_eq!(
        json_of(last)["error"]["code"],
        "backend_unavailable",
        "{text}"
    );

    let (status, _, text) = post_json(&app, "/api/chat", &chat("auto", "hi", false)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert!(json_of(&text)["error"].is_string(), "{text}");

    assert_eq!(engine.bodies().len(), 2, "one attempt per request");
    assert!(
        spare.bodies().is_empty(),
        "no failover after the first byte"
    );
    for task in [first_task, second_task, spare_task] {
        task.abort();
    }
}

#[tokio::test]
async fn a_failing_replica_is_ejected_then_probed_back() {
    let (flaky, steady) = (Upstream::default(), Upstream::default());
    flaky.set(BEHAVE_500);
    let health = HealthSettings {
        failure_threshold: 2,
        open_for: Duration::from_millis(1500),
        check_interval: None,
        retry_ratio: 1.0,
    };
    let (app, _tasks) = replicated(&[&flaky, &steady], health).await;
    // Requests in flight together spread over both replicas; the failures are retried on the
    // steady one, and after two the flaky one's circuit opens.
    let statuses = burst(&app, 16, "engine-model").await;
    assert!(
        statuses.iter().all(|status| *status == StatusCode::OK),
        "{statuses:?}"
    );
    let failed = flaky.bodies().len();
    assert!(
        failed >= 2,
        "the burst reached the flaky replica {failed} times"
    );
    // While the circuit is open the flaky replica gets nothing.
    let statuses = burst(&app, 16, "engine-model").await;
    assert!(statuses.iter().all(|status| *status == StatusCode::OK));
    assert_eq!(
        flaky.bodies().len(),
        failed,
        "an open circuit takes no requests"
    );
    // Recovered, and past the pause: the next request is the probe, and it closes the circuit.
    flaky.set(0);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let (status, _, _) = post_json(
        &app,
        "/v1/chat/completions",
        &chat("engine-model", "hi", false),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        flaky.bodies().len(),
        failed + 1,
        "the probe went to the recovering replica"
    );
    let statuses = burst(&app, 16, "engine-model").await;
    assert!(statuses.iter().all(|status| *status == StatusCode::OK));
    assert!(
        flaky.bodies().len() > failed + 1,
        "a closed circuit takes traffic again"
    );
}

#[tokio::test]
async fn health_checks_follow_a_flapping_replica() {
    let (flapping, steady) = (Upstream::default(), Upstream::default());
    let health = HealthSettings {
        failure_threshold: 100,
        open_for: Duration::from_secs(1),
        check_interval: Some(Duration::from_millis(50)),
        retry_ratio: 0.0,
    };
    let (app, _tasks) = replicated(&[&flapping, &steady], health).await;
    for _ in 0..2 {
        // Its health endpoint fails: the checks take it out before any request is lost to it.
        flapping.set(BEHAVE_500);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let before = flapping.bodies().len();
        let statuses = burst(&app, 16, "engine-model").await;
        assert!(
            statuses.iter().all(|status| *status == StatusCode::OK),
            "{statuses:?}"
        );
        assert_eq!(
            flapping.bodies().len(),
            before,
            "an unhealthy replica takes no requests"
        );
        // Healthy again: the checks bring it back.
        flapping.set(0);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let statuses = burst(&app, 16, "engine-model").await;
        assert!(statuses.iter().all(|status| *status == StatusCode::OK));
        assert!(
            flapping.bodies().len() > before,
            "a healthy replica takes requests again"
        );
    }
}

#[tokio::test]
async fn deidentify_sends_only_surrogates_and_restores_the_answer() {
    // The cloud echoes the (pseudonymised) user message back in three chunks cut anywhere; the
    // client must see its own message, with the original values, on every endpoint.
    let cloud = Upstream::default();
    cloud.set(BEHAVE_ECHO);
    let (cloud_url, cloud_task) = start(cloud.clone()).await;
    let backends = vec![remote_backend(remote(
        "gpt",
        RemoteWire::OpenAi,
        Locality::Cloud,
        vec![format!("{cloud_url}/v1")],
    ))
    .unwrap()];
    let mut tier = TierSettings::new("private-cloud", &["gpt"]);
    tier.deidentify = true;
    let app = app_with(backends, &[tier], &RoutingSettings::all_to("private-cloud"));
    let requests = phi_requests(60);
    let mut all_values = Vec::new();
    for (index, (phi_text, values)) in requests.iter().enumerate() {
        let message =
            format!("Summarise: {phi_text} Seen on 03/14/2026 by Dr. Brennan at Mercy Clinic.");
        let (path, stream) = [
            ("/v1/chat/completions", false),
            ("/v1/chat/completions", true),
            ("/api/chat", true),
        ][index % 3];
        let (status, headers, text) = post_json(&app, path, &chat("auto", &message, stream)).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        assert_eq!(headers["x-ward-backend"], "gpt");
        assert_ne!(headers["x-ward-phi"], "none");
        let answer = match (path, stream) {
            ("/api/chat", _) => text
                .lines()
                .filter_map(|line| {
                    json_of(line)["message"]["content"]
                        .as_str()
                        .map(str::to_owned)
                })
                .collect(),
            (_, true) => streamed_text(&text),
            _ => json_of(&text)["choices"][0]["message"]["content"]
                .as_str()
                .unwrap()
                .to_owned(),
        };
        assert_eq!(answer, message, "the answer is restored");
        all_values.extend(values.iter().cloned());
    }
    all_values.extend(["Brennan".to_owned(), "03/14/2026".to_owned()]);
    let sent = cloud.bodies();
    assert_eq!(sent.len(), requests.len());
    assert_no_value_in(&sent, &all_values);
    cloud_task.abort();
}

/// An upstream's time ends when its answer's last bytes reached the host, not when Ward got
/// round to reading them: here the answer is read 300 ms after the upstream sent all of it.
#[tokio::test]
async fn an_upstreams_time_is_measured_at_the_socket() {
    use futures::StreamExt;
    use ward_core::{Backend, ChatMessage, ChatRole, GenerationEvent, GenerationRequest};
    let upstream = Upstream::default();
    let (url, _task) = start(upstream).await;
    let settings = remote(
        "engine",
        RemoteWire::OpenAi,
        Locality::Local,
        vec![format!("{url}/v1")],
    );
    let backend = ward_router::RemoteBackend::new(settings).unwrap();
    // The kernel turns receive stamps on a moment after the first socket asks for them.
    let stamping = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    assert!(ward_router::stamped::ask_for_timestamps(&stamping));
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..3 {
        let request = GenerationRequest::chat(
            "engine",
            vec![ChatMessage::new(ChatRole::User, "What does BID stand for?")],
        );
        let dispatched = std::time::Instant::now();
        let mut events = backend.generate(request).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut summary = None;
        while let Some(event) = events.next().await {
            if let GenerationEvent::Done(done) = event.unwrap() {
                summary = Some(done);
            }
        }
        let upstream = summary
            .unwrap()
            .timings
            .upstream
            .expect("timed at the socket");
        assert!(upstream > Duration::ZERO);
        assert!(upstream < Duration::from_millis(250), "{upstream:?}");
        assert!(dispatched.elapsed() >= Duration::from_millis(300));
    }
}
