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
    remote_backend, HealthSettings, Locality, RemoteSettings, RemoteWire, RoutingSettings,
    TierSettings, Timeouts,
};
use ward_server::{router, AppState, ServerSettings};

use crate::{json_of, send, StoreCatalog};

const ANSWER: [&str; 3] = ["All ", "clear", "."];

/// How a mock upstream behaves on the next requests (0, the default, answers).
const BEHAVE_500: u8 = 1;
const BEHAVE_HANG: u8 = 2;

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

    /// Records the body; `None` when the behaviour says to answer something other than text.
    async fn take(&self, body: String) -> Option<Response> {
        self.bodies.lock().unwrap().push(body);
        match self.behaviour.load(Ordering::SeqCst) {
            BEHAVE_500 => Some(StatusCode::INTERNAL_SERVER_ERROR.into_response()),
            BEHAVE_HANG => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                Some(StatusCode::GATEWAY_TIMEOUT.into_response())
            }
            _ => None,
        }
    }
}

async fn openai_chat(State(upstream): State<Upstream>, body: String) -> Response {
    if let Some(response) = upstream.take(body).await {
        return response;
    }
    let mut events = String::new();
    for piece in ANSWER {
        let chunk =
            json!({"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": null}]});
        events.push_str(&format!("data: {chunk}\n\n"));
    }
    events.push_str(&format!(
        "data: {}\n\n",
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    ));
    events.push_str(&format!(
        "data: {}\n\n",
        json!({"choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 3}})
    ));
    events.push_str("data: [DONE]\n\n");
    ([("content-type", "text/event-stream")], events).into_response()
}

async fn ollama_chat(State(upstream): State<Upstream>, body: String) -> Response {
    if let Some(response) = upstream.take(body).await {
        return response;
    }
    let mut lines = String::new();
    for piece in ANSWER {
        lines.push_str(&format!(
            "{}\n",
            json!({"message": {"role": "assistant", "content": piece}, "done": false})
        ));
    }
    lines.push_str(&format!("{}\n", json!({"message": {"role": "assistant", "content": ""}, "done": true, "done_reason": "stop", "prompt_eval_count": 9, "eval_count": 3})));
    ([("content-type", "application/x-ndjson")], lines).into_response()
}

async fn anthropic_messages(State(upstream): State<Upstream>, body: String) -> Response {
    if let Some(response) = upstream.take(body).await {
        return response;
    }
    let mut events = format!(
        "event: message_start\ndata: {}\n\n",
        json!({"type": "message_start", "message": {"usage": {"input_tokens": 12, "output_tokens": 1}}})
    );
    for piece in ANSWER {
        events.push_str(&format!("event: content_block_delta\ndata: {}\n\n", json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}})));
    }
    events.push_str(&format!("event: message_delta\ndata: {}\n\n", json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 3}})));
    events.push_str("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    ([("content-type", "text/event-stream")], events).into_response()
}

/// Starts one mock upstream on a free loopback port; returns its base URL and the task.
async fn start(upstream: Upstream) -> (String, tokio::task::JoinHandle<()>) {
    let app = Router::new()
        .route("/v1/chat/completions", post(openai_chat))
        .route(
            "/v1/models",
            get(|| async { axum::Json(json!({"data": []})) }),
        )
        .route("/api/chat", post(ollama_chat))
        .route(
            "/api/version",
            get(|| async { axum::Json(json!({"version": "0.0.0"})) }),
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
    let router_state = ward_router::Router::new(backends, &tiers, &routing).unwrap();
    let app = router(
        AppState {
            router: Arc::new(router_state),
            catalog: Arc::new(StoreCatalog),
        },
        &ServerSettings::default(),
    );
    Gateway {
        app,
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
        let (status, headers, text) = match index % 3 {
            0 => {
                let body = json!({"model": "auto", "messages": messages});
                send(
                    &gateway.app,
                    "POST",
                    "/v1/chat/completions",
                    Some(&body.to_string()),
                )
                .await
            }
            1 => {
                let body = json!({"model": "auto", "messages": messages, "stream": true});
                send(
                    &gateway.app,
                    "POST",
                    "/v1/chat/completions",
                    Some(&body.to_string()),
                )
                .await
            }
            _ => {
                let body = json!({"model": "auto", "messages": messages});
                send(&gateway.app, "POST", "/api/chat", Some(&body.to_string())).await
            }
        };
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
    let (status, headers, text) = send(
        &gateway.app,
        "POST",
        "/v1/chat/completions",
        Some(&body.to_string()),
    )
    .await;
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
    let (_, headers, _) = send(
        &gateway.app,
        "POST",
        "/v1/chat/completions",
        Some(&body.to_string()),
    )
    .await;
    assert_eq!(headers["x-ward-tier"], "small");
    assert_eq!(headers["x-ward-backend"], "ollama");
}

#[tokio::test]
async fn phi_fails_closed_when_the_local_engine_fails() {
    let gateway = gateway(Vec::new()).await;
    let phi = json!({"model": "auto", "messages": [{"role": "user", "content": format!("{COMPLEX} Patient John Whitfield, MRN 48213377.")}]});
    for behaviour in [BEHAVE_500, BEHAVE_HANG] {
        gateway.local.set(behaviour);
        let (status, headers, text) = send(
            &gateway.app,
            "POST",
            "/v1/chat/completions",
            Some(&phi.to_string()),
        )
        .await;
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
    let (status, _, text) = send(&killed.app, "POST", "/api/chat", Some(&phi.to_string())).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert!(killed.cloud.bodies().is_empty() && killed.anthropic.bodies().is_empty());
    assert!(gateway.cloud.bodies().is_empty());
    assert!(gateway.anthropic.bodies().is_empty());
    // A clean complex request still reaches the cloud while the local engine is down.
    let clean = json!({"model": "auto", "messages": [{"role": "user", "content": COMPLEX}]});
    let (status, _, _) = send(
        &gateway.app,
        "POST",
        "/v1/chat/completions",
        Some(&clean.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(gateway.cloud.bodies().len(), 1);
}

#[tokio::test]
async fn cloud_failure_falls_over_to_the_next_backend_of_the_tier() {
    let gateway = gateway(Vec::new()).await;
    gateway.cloud.set(BEHAVE_500);
    let clean = json!({"model": "auto", "messages": [{"role": "user", "content": COMPLEX}], "stream": true});
    let (status, headers, text) = send(
        &gateway.app,
        "POST",
        "/v1/chat/completions",
        Some(&clean.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(headers["x-ward-backend"], "claude");
    assert_eq!(headers["x-ward-fallbacks"], "gpt");
    let streamed: String = text
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter(|data| *data != "[DONE]")
        .filter_map(|data| {
            json_of(data)["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(streamed, "All clear.");
    let sent: Value = serde_json::from_str(&gateway.anthropic.bodies()[0]).unwrap();
    assert_eq!(sent["model"], "claude-model");
}

#[tokio::test]
async fn wires_translate_both_ways() {
    let gateway = gateway(Vec::new()).await;
    // An OpenAI client, streaming, from the Ollama-wire engine and the Anthropic-wire cloud.
    for (model, backend) in [("ollama-model", "ollama"), ("claude-model", "claude")] {
        let body = json!({"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": true, "stream_options": {"include_usage": true}});
        let (status, headers, text) = send(
            &gateway.app,
            "POST",
            "/v1/chat/completions",
            Some(&body.to_string()),
        )
        .await;
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
    let (status, _, text) = send(&gateway.app, "POST", "/api/chat", Some(&body.to_string())).await;
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
        let (status, _, text) =
            send(&gateway.app, "POST", "/api/chat", Some(&body.to_string())).await;
        assert_eq!(status, StatusCode::OK, "{text}");
    }
    assert_eq!(gateway.local.bodies().len(), 6);
}
