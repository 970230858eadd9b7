//! The HTTP API over a scripted backend: wire shapes of both APIs, streaming, headers, and the
//! error catalogue (malformed, oversized, unknown model, wrong method, unknown route, a client
//! that leaves mid-stream), then a healthy server afterwards. In-process through `oneshot`, and
//! on a real socket for disconnects and graceful shutdown.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use futures::StreamExt;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use ward_core::{
    Backend, FinishReason, GenerationEvent, GenerationRequest, GenerationStream, GenerationSummary,
    ModelCard, ModelCatalog, Timings, Usage, WardError,
};
use ward_server::{router, AppState, ServerSettings};

mod access;
mod notes;
mod structured;
mod upstreams;

/// Answers every request with the same pieces, one every `delay`.
struct ScriptedBackend {
    pieces: Vec<&'static str>,
    delay: Duration,
    cards: Vec<ModelCard>,
    /// Set when a stream was dropped before it finished (the client left).
    abandoned: Arc<AtomicBool>,
    last_request: std::sync::Mutex<Option<GenerationRequest>>,
}

impl ScriptedBackend {
    fn new(pieces: Vec<&'static str>, delay: Duration) -> Arc<Self> {
        Arc::new(ScriptedBackend {
            pieces,
            delay,
            cards: vec![card("test-model:1b")],
            abandoned: Arc::new(AtomicBool::new(false)),
            last_request: std::sync::Mutex::new(None),
        })
    }
}

fn card(name: &str) -> ModelCard {
    ModelCard {
        name: name.into(),
        aliases: vec!["scripted".into()],
        size_bytes: 1234,
        sha256: "ab".repeat(32),
        architecture: "llama".into(),
        context_length: 2048,
        parameter_size: Some("1B".into()),
        quantization: Some("Q4_K_M".into()),
        has_chat_template: true,
        chat_template: Some("{{ messages }}".into()),
        created_unix: 1_700_000_000,
    }
}

/// Sets its flag when dropped unless disarmed: detects streams abandoned mid-way.
struct DropFlag(Arc<AtomicBool>, bool);

impl Drop for DropFlag {
    fn drop(&mut self) {
        if self.1 {
            self.0.store(true, Ordering::SeqCst);
        }
    }
}

#[async_trait::async_trait]
impl Backend for ScriptedBackend {
    fn backend_id(&self) -> &str {
        "scripted-backend"
    }

    fn loaded_models(&self) -> &[ModelCard] {
        &self.cards
    }

    fn is_ready(&self) -> bool {
        true
    }

    async fn generate(&self, request: GenerationRequest) -> Result<GenerationStream, WardError> {
        let max = request.max_tokens.unwrap_or(u32::MAX) as usize;
        *self.last_request.lock().unwrap() = Some(request);
        let pieces: Vec<String> = self
            .pieces
            .iter()
            .take(max)
            .map(|piece| piece.to_string())
            .collect();
        let finish_reason = if max < self.pieces.len() {
            FinishReason::Length
        } else {
            FinishReason::Stop
        };
        let delay = self.delay;
        let flag = self.abandoned.clone();
        let stream = async_stream::stream! {
            let mut guard = DropFlag(flag, true);
            let count = pieces.len() as u32;
            for piece in pieces {
                tokio::time::sleep(delay).await;
                yield Ok(GenerationEvent::Delta(piece));
            }
            guard.1 = false;
            yield Ok(GenerationEvent::Done(GenerationSummary {
                finish_reason,
                usage: Usage { prompt_tokens: 7, completion_tokens: count },
                timings: Timings::default(),
            }));
        };
        Ok(stream.boxed())
    }
}

struct StoreCatalog;

impl ModelCatalog for StoreCatalog {
    fn list(&self) -> Vec<ModelCard> {
        vec![card("test-model:1b"), card("stored-only:7b")]
    }
}

/// The state of a test server over `router`: the store catalogue above, the built-in profiles,
/// no auth and no audit log (tests that need them set those fields).
fn state_over(router: ward_router::Router) -> AppState {
    AppState {
        router: Arc::new(router),
        catalog: Arc::new(StoreCatalog),
        auth: None,
        audit: None,
        records: None,
        profiles: Arc::new(ward_clinical::ProfileSet::builtin()),
        metrics: Arc::default(),
        costs: Arc::default(),
        traces: None,
    }
}

/// A fresh SQLite audit log with encrypted content in `directory`, and where it is.
fn audit_log_in(directory: &std::path::Path) -> (ward_audit::AuditLog, ward_audit::Location) {
    let location = ward_audit::Location::Sqlite(directory.join("audit.db"));
    let keyring = Arc::new(ward_audit::Keyring::parse(&ward_audit::crypto::new_secret()).unwrap());
    let settings = ward_audit::AuditSettings {
        location: location.clone(),
        content: ward_audit::ContentMode::Encrypted,
    };
    (
        ward_audit::AuditLog::open(&settings, keyring).unwrap(),
        location,
    )
}

/// The default tiers over one local backend.
fn default_tiers_over(backend: Arc<dyn Backend>) -> ward_router::Router {
    ward_router::Router::with_default_tiers(vec![ward_router::RoutedBackend::Local(backend)])
        .unwrap()
}

fn app_with(backend: Arc<ScriptedBackend>, settings: ServerSettings) -> Router {
    router(state_over(default_tiers_over(backend)), &settings)
}

fn app() -> (Router, Arc<ScriptedBackend>) {
    let backend = ScriptedBackend::new(vec!["Hello", ",", " world"], Duration::ZERO);
    (
        app_with(backend.clone(), ServerSettings::default()),
        backend,
    )
}

async fn send(
    app: &Router,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, |body| Body::from(body.to_owned())))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

/// The JSON chunks of an SSE answer, after checking it is an event stream ending in `[DONE]`.
fn sse_chunks(headers: &axum::http::HeaderMap, text: &str) -> Vec<Value> {
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let events: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .collect();
    assert_eq!(*events.last().unwrap(), "[DONE]");
    events[..events.len() - 1]
        .iter()
        .map(|event| json_of(event))
        .collect()
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("not JSON ({error}): {text}"))
}

#[tokio::test]
async fn openai_chat_non_streaming_shape_and_headers() {
    let (app, backend) = app();
    let body = r#"{"model":"test-model:1b","messages":[{"role":"system","content":"Be kind."},{"role":"user","content":[{"type":"text","text":"Hi"}]}],"temperature":0.2,"seed":-1,"stop":"END","max_completion_tokens":50,"unknown_field":{"ignored":true}}"#;
    let (status, headers, text) = send(&app, "POST", "/v1/chat/completions", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let value = json_of(&text);
    assert_eq!(value["object"], "chat.completion");
    assert_eq!(value["model"], "test-model:1b");
    assert_eq!(
        value["choices"][0]["message"],
        json!({"role": "assistant", "content": "Hello, world"})
    );
    assert_eq!(value["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        value["usage"],
        json!({"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10})
    );
    assert!(value["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(headers["x-ward-backend"], "scripted-backend");
    assert_eq!(headers["x-ward-tier"], "local");
    assert!(!headers["x-ward-request-id"].is_empty());
    let request = backend.last_request.lock().unwrap().clone().unwrap();
    assert_eq!(request.stop, vec!["END".to_string()]);
    assert_eq!(request.max_tokens, Some(50));
    assert_eq!(request.sampling.temperature, Some(0.2));
    assert_eq!(request.sampling.seed, Some(u32::MAX));
}

#[tokio::test]
async fn openai_chat_streaming_with_usage() {
    let (app, _) = app();
    let body = r#"{"model":"scripted","messages":[{"role":"user","content":"Hi"}],"stream":true,"stream_options":{"include_usage":true},"max_tokens":2}"#;
    let (status, headers, text) = send(&app, "POST", "/v1/chat/completions", Some(body)).await;
    assert_eq!(status, StatusCode::OK);
    let chunks = sse_chunks(&headers, &text);
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let content: String = chunks
        .iter()
        .filter_map(|chunk| chunk["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(content, "Hello,");
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "length");
    let usage_chunk = chunks.last().unwrap();
    assert_eq!(usage_chunk["choices"], json!([]));
    assert_eq!(usage_chunk["usage"]["completion_tokens"], 2);
    assert!(chunks.iter().all(
        |chunk| chunk["object"] == "chat.completion.chunk" && chunk["model"] == "test-model:1b"
    ));
}

#[tokio::test]
async fn openai_completions_and_models() {
    let (app, backend) = app();
    let (status, _, text) = send(
        &app,
        "POST",
        "/v1/completions",
        Some(r#"{"model":"test-model:1b","prompt":"Once"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let value = json_of(&text);
    assert_eq!(value["object"], "text_completion");
    assert_eq!(value["choices"][0]["text"], "Hello, world");
    // OpenAI's legacy default.
    assert_eq!(
        backend
            .last_request
            .lock()
            .unwrap()
            .as_ref()
            .unwrap()
            .max_tokens,
        Some(16)
    );
    let (_, _, text) = send(
        &app,
        "POST",
        "/v1/completions",
        Some(r#"{"model":"test-model:1b","prompt":["Once"],"stream":true}"#),
    )
    .await;
    let texts: String = text
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter(|event| *event != "[DONE]")
        .filter_map(|event| {
            json_of(event)["choices"][0]["text"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(texts, "Hello, world");
    let (status, _, text) = send(&app, "GET", "/v1/models", None).await;
    assert_eq!(status, StatusCode::OK);
    let value = json_of(&text);
    assert_eq!(value["object"], "list");
    assert_eq!(value["data"][0]["id"], "test-model:1b");
    assert_eq!(value["data"][0]["object"], "model");
}

#[tokio::test]
async fn ollama_chat_and_generate_stream_ndjson_by_default() {
    let (app, backend) = app();
    let (status, headers, text) = send(&app, "POST", "/api/chat", Some(r#"{"model":"test-model:1b","messages":[{"role":"user","content":"Hi"}],"options":{"num_predict":10,"stop":["x"],"seed":3,"top_k":5}}"#)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/x-ndjson");
    let lines: Vec<Value> = text.lines().map(json_of).collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(
        lines[0]["message"],
        json!({"role": "assistant", "content": "Hello"})
    );
    assert_eq!(lines[0]["done"], false);
    let last = lines.last().unwrap();
    assert_eq!(last["done"], true);
    assert_eq!(last["done_reason"], "stop");
    assert_eq!(last["eval_count"], 3);
    assert_eq!(last["prompt_eval_count"], 7);
    assert!(last["total_duration"].as_u64().unwrap() > 0);
    let request = backend.last_request.lock().unwrap().clone().unwrap();
    assert_eq!(
        (
            request.max_tokens,
            request.sampling.seed,
            request.sampling.top_k
        ),
        (Some(10), Some(3), Some(5))
    );

    let (status, _, text) = send(
        &app,
        "POST",
        "/api/generate",
        Some(r#"{"model":"scripted","prompt":"Hi","stream":false,"system":"S"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let value = json_of(&text);
    assert_eq!(value["response"], "Hello, world");
    assert_eq!(value["done"], true);
    assert_eq!(value["model"], "test-model:1b");
}

#[tokio::test]
async fn ollama_listing_routes() {
    let (app, _) = app();
    let (_, _, text) = send(&app, "GET", "/api/tags", None).await;
    let tags = json_of(&text);
    assert_eq!(tags["models"].as_array().unwrap().len(), 2);
    assert_eq!(tags["models"][1]["name"], "stored-only:7b");
    assert_eq!(tags["models"][0]["details"]["quantization_level"], "Q4_K_M");
    assert!(tags["models"][0]["modified_at"]
        .as_str()
        .unwrap()
        .starts_with("2023-11-14T"));
    let (_, _, text) = send(&app, "GET", "/api/ps", None).await;
    assert_eq!(json_of(&text)["models"][0]["name"], "test-model:1b");
    let (status, _, text) = send(
        &app,
        "POST",
        "/api/show",
        Some(r#"{"model":"stored-only:7b"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json_of(&text)["model_info"]["llama.context_length"], 2048);
    let (_, _, text) = send(&app, "GET", "/api/version", None).await;
    assert!(json_of(&text)["version"].is_string());
    let (status, _, _) = send(&app, "GET", "/health", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, text) = send(&app, "GET", "/ready", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json_of(&text)["models"][0], "test-model:1b");
}

/// Each bad request gets the right status and an error body in its API's shape.
#[tokio::test]
async fn error_catalogue_then_healthy() {
    let small = ScriptedBackend::new(vec!["ok"], Duration::ZERO);
    let app = app_with(
        small,
        ServerSettings {
            body_limit_bytes: 2048,
        },
    );
    let oversized = format!(
        r#"{{"model":"test-model:1b","messages":[{{"role":"user","content":"{}"}}]}}"#,
        "a".repeat(4096)
    );
    let cases: Vec<(&str, &str, Option<&str>, StatusCode, &str)> = vec![
        (
            "POST",
            "/v1/chat/completions",
            Some("{not json"),
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        (
            "POST",
            "/v1/chat/completions",
            Some(r#"{"model":"test-model:1b","messages":[{"role":"user","#),
            StatusCode::BAD_REQUEST,
            "ends early",
        ),
        (
            "POST",
            "/v1/chat/completions",
            Some(r#"{"model":"test-model:1b"}"#),
            StatusCode::BAD_REQUEST,
            "missing field `messages`",
        ),
        (
            "POST",
            "/v1/chat/completions",
            Some(r#"{"model":"test-model:1b","messages":[{"role":"wizard","content":"x"}]}"#),
            StatusCode::BAD_REQUEST,
            "messages[0].role",
        ),
        (
            "POST",
            "/v1/chat/completions",
            Some(r#"{"model":"test-model:1b","messages":[]}"#),
            StatusCode::BAD_REQUEST,
            "at least one message",
        ),
        (
            "POST",
            "/v1/chat/completions",
            Some(
                r#"{"model":"test-model:1b","messages":[{"role":"user","content":"x"}],"temperature":9}"#,
            ),
            StatusCode::BAD_REQUEST,
            "temperature",
        ),
        (
            "POST",
            "/v1/chat/completions",
            Some(r#"{"model":"test-model:1b","messages":[{"role":"user","content":"x"}],"n":3}"#),
            StatusCode::BAD_REQUEST,
            "n = 1",
        ),
        (
            "POST",
            "/v1/chat/completions",
            Some(r#"{"model":"nope","messages":[{"role":"user","content":"x"}]}"#),
            StatusCode::NOT_FOUND,
            "model 'nope' not found",
        ),
        (
            "POST",
            "/v1/chat/completions",
            Some(r#"{"model":"stored-only:7b","messages":[{"role":"user","content":"x"}]}"#),
            StatusCode::NOT_FOUND,
            "no backend serves it",
        ),
        (
            "POST",
            "/v1/chat/completions",
            Some(""),
            StatusCode::BAD_REQUEST,
            "empty",
        ),
        (
            "POST",
            "/v1/chat/completions",
            Some(oversized.as_str()),
            StatusCode::PAYLOAD_TOO_LARGE,
            "limit",
        ),
        (
            "GET",
            "/v1/chat/completions",
            None,
            StatusCode::METHOD_NOT_ALLOWED,
            "method GET",
        ),
        (
            "GET",
            "/v1/nothing",
            None,
            StatusCode::NOT_FOUND,
            "no route",
        ),
    ];
    for (method, path, body, status, needle) in cases {
        let (got, _, text) = send(&app, method, path, body).await;
        assert_eq!(got, status, "{method} {path}: {text}");
        let error = &json_of(&text)["error"];
        let message = error["message"]
            .as_str()
            .unwrap_or_else(|| panic!("OpenAI shape expected: {text}"));
        assert!(message.contains(needle), "{method} {path}: {message}");
        assert!(
            error["type"].is_string() && error["code"].is_string(),
            "{text}"
        );
    }
    let ollama_cases: Vec<(&str, &str, Option<&str>, StatusCode)> = vec![
        ("POST", "/api/chat", Some("[1,2"), StatusCode::BAD_REQUEST),
        (
            "POST",
            "/api/chat",
            Some(r#"{"model":"nope","messages":[{"role":"user","content":"x"}]}"#),
            StatusCode::NOT_FOUND,
        ),
        (
            "POST",
            "/api/generate",
            Some(r#"{"model":"test-model:1b","prompt":"x","format":"yaml"}"#),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/api/show",
            Some(r#"{"model":"nope"}"#),
            StatusCode::NOT_FOUND,
        ),
        ("GET", "/api/chat", None, StatusCode::METHOD_NOT_ALLOWED),
        (
            "POST",
            "/api/generate",
            Some(oversized.as_str()),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (method, path, body, status) in ollama_cases {
        let (got, _, text) = send(&app, method, path, body).await;
        assert_eq!(got, status, "{method} {path}: {text}");
        assert!(
            json_of(&text)["error"].is_string(),
            "Ollama shape expected: {text}"
        );
    }
    let (status, _, _) = send(
        &app,
        "POST",
        "/v1/chat/completions",
        Some(r#"{"model":"test-model:1b","messages":[{"role":"user","content":"x"}]}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

/// A real server on a free loopback port, stopped by sending on the returned channel.
async fn spawn_app(
    app: Router,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(ward_server::serve(
        listener,
        app,
        async move {
            let _ = stopped.await;
        },
        Duration::from_secs(10),
    ));
    (address, stop, server)
}

async fn spawn_server(
    backend: Arc<ScriptedBackend>,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    spawn_app(app_with(backend, ServerSettings::default())).await
}

async fn raw_request(address: std::net::SocketAddr, body: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
    socket.write_all(request.as_bytes()).await.unwrap();
    socket
}

const STREAM_BODY: &str =
    r#"{"model":"test-model:1b","messages":[{"role":"user","content":"x"}],"stream":true}"#;

#[tokio::test]
async fn a_client_leaving_mid_stream_cancels_the_generation() {
    use tokio::io::AsyncReadExt;
    let backend = ScriptedBackend::new(vec!["a"; 200], Duration::from_millis(10));
    let (address, stop, server) = spawn_server(backend.clone()).await;
    let mut socket = raw_request(address, STREAM_BODY).await;
    let mut buffer = vec![0u8; 512];
    let read = socket.read(&mut buffer).await.unwrap();
    assert!(String::from_utf8_lossy(&buffer[..read]).starts_with("HTTP/1.1 200"));
    drop(socket);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !backend.abandoned.load(Ordering::SeqCst) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "generation was not cancelled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_stream_finish() {
    use tokio::io::AsyncReadExt;
    let backend = ScriptedBackend::new(vec!["b"; 30], Duration::from_millis(20));
    let (address, stop, server) = spawn_server(backend.clone()).await;
    let mut socket = raw_request(address, STREAM_BODY).await;
    let mut first = vec![0u8; 64];
    let _ = socket.read(&mut first).await.unwrap();
    let _ = stop.send(());
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut rest))
        .await
        .expect("stream finished")
        .unwrap();
    let text = String::from_utf8_lossy(&rest);
    assert!(text.contains("[DONE]"), "stream was cut: {text}");
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("server stopped")
        .unwrap()
        .unwrap();
    assert!(!backend.abandoned.load(Ordering::SeqCst));
    assert!(
        tokio::net::TcpStream::connect(address).await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn phi_detect_returns_byte_spans_and_rejects_bad_bodies() {
    let (app, _) = app();
    let body = r#"{"text":"Pt José Díaz, MRN 4827193, seen 03/05/2024."}"#;
    let (status, _, text) = send(&app, "POST", "/v1/phi/detect", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let spans = json_of(&text)["spans"].as_array().unwrap().clone();
    let labelled: Vec<(u64, u64, &str)> = spans
        .iter()
        .map(|s| {
            (
                s["start"].as_u64().unwrap(),
                s["end"].as_u64().unwrap(),
                s["label"].as_str().unwrap(),
            )
        })
        .collect();
    // Byte offsets: "José Díaz" is 11 bytes long.
    assert_eq!(
        labelled,
        vec![(3, 14, "NAME"), (20, 27, "MRN"), (34, 44, "DATE")]
    );

    let (status, _, text) = send(
        &app,
        "POST",
        "/v1/phi/detect",
        Some(r#"{"txt":"Maria Lopez"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        !text.contains("Maria"),
        "errors never echo request text: {text}"
    );
    assert_eq!(json_of(&text)["error"]["type"], "invalid_request_error");
}

/// A server with an audit log in `directory` over backend `priced`, serving `priced-model` at
/// $3 / $15 per million prompt / completion tokens; and where its audit log is.
fn priced_app(directory: &std::path::Path) -> (Router, ward_audit::Location) {
    let (log, location) = audit_log_in(directory);
    let backend =
        ward_router::fake::ScriptedBackend::new("priced", "priced-model").priced(3.0, 15.0);
    let state = AppState {
        audit: Some(log),
        ..state_over(default_tiers_over(Arc::new(backend)))
    };
    (router(state, &ServerSettings::default()), location)
}

#[tokio::test]
async fn a_priced_backend_answers_with_its_cost_and_records_it() {
    let directory = tempfile::tempdir().unwrap();
    let (priced, location) = priced_app(directory.path());
    let body = r#"{"model":"priced-model","messages":[{"role":"user","content":"Hi there"}]}"#;
    let (status, headers, text) = send(&priced, "POST", "/v1/chat/completions", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let usage = &json_of(&text)["usage"];
    let expected = (usage["prompt_tokens"].as_f64().unwrap() * 3.0
        + usage["completion_tokens"].as_f64().unwrap() * 15.0)
        / 1e6;
    assert!(expected > 0.0);
    let header: f64 = headers["x-ward-cost-usd"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((header - expected).abs() < 1e-15, "{header} {expected}");
    // A stream's headers leave before its tokens are counted; its record has the cost.
    let streamed = r#"{"model":"priced-model","stream":true,"messages":[{"role":"user","content":"Hi there"}]}"#;
    let (status, headers, _) = send(&priced, "POST", "/v1/chat/completions", Some(streamed)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.get("x-ward-cost-usd").is_none());
    let records = ward_audit::Store::open(&location)
        .unwrap()
        .records(&ward_audit::Filter::default())
        .unwrap();
    assert_eq!(records.len(), 2);
    for record in records {
        let cost = record.event().unwrap().cost_usd.unwrap();
        assert!((cost - expected).abs() < 1e-12, "{cost} {expected}");
    }
    // A backend without prices (owned hardware) has no per-call cost.
    let (unpriced, _) = app();
    let (_, headers, _) = send(&unpriced, "POST", "/v1/chat/completions", Some(body)).await;
    assert!(headers.get("x-ward-cost-usd").is_none());
}

/// The value of the first sample named `name` whose labels include every one of `labels`.
fn sample(exposition: &str, name: &str, labels: &[&str]) -> Option<f64> {
    exposition.lines().find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (series_name, rest) = series.split_once('{').unwrap_or((series, ""));
        (series_name == name && labels.iter().all(|label| rest.contains(label)))
            .then(|| value.parse().ok())
            .flatten()
    })
}

#[tokio::test]
async fn metrics_count_every_call_from_its_record() {
    let directory = tempfile::tempdir().unwrap();
    let (app, _) = priced_app(directory.path());
    let plain = r#"{"model":"priced-model","messages":[{"role":"user","content":"Hi there"}]}"#;
    let phi = r#"{"model":"auto","messages":[{"role":"user","content":"Summarise the visit of Orla Quillfeather, MRN 48213377"}]}"#;
    let unknown = r#"{"model":"no-such-model","messages":[{"role":"user","content":"Hi"}]}"#;
    for body in [plain, plain, phi] {
        let (status, _, text) = send(&app, "POST", "/v1/chat/completions", Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{text}");
    }
    let (status, _, _) = send(&app, "POST", "/v1/chat/completions", Some(unknown)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, headers, text) = send(&app, "GET", "/metrics", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    assert!(text.ends_with("# EOF\n"), "{text}");
    let ok = [
        "endpoint=\"/v1/chat/completions\"",
        "tier=\"local\"",
        "backend=\"priced\"",
        "status=\"200\"",
    ];
    let without_phi = [&ok[..], &["phi=\"no\""]].concat();
    assert_eq!(
        sample(&text, "ward_requests_total", &without_phi),
        Some(2.0)
    );
    let with_phi = [&ok[..], &["phi=\"yes\""]].concat();
    assert_eq!(sample(&text, "ward_requests_total", &with_phi), Some(1.0));
    assert_eq!(
        sample(&text, "ward_requests_total", &["status=\"404\""]),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "ward_refusals_total", &["reason=\"not_found\""]),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "ward_phi_findings_total", &["category=\"NAME\""]),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "ward_phi_findings_total", &["category=\"MRN\""]),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "ward_request_duration_seconds_count", &ok[..2]),
        Some(3.0)
    );
    assert_eq!(
        sample(&text, "ward_overhead_seconds_count", &ok[..2]),
        Some(3.0)
    );
    let prompt = sample(&text, "ward_tokens_total", &["kind=\"prompt\""]).unwrap();
    let completion = sample(&text, "ward_tokens_total", &["kind=\"completion\""]).unwrap();
    let cost = sample(&text, "ward_cost_usd_total", &["tier=\"local\""]).unwrap();
    assert!((cost - (prompt * 3.0 + completion * 15.0) / 1e6).abs() < 1e-12);
    assert_eq!(
        sample(&text, "ward_in_flight_requests", &["backend=\"priced\""]),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &text,
            "ward_backend_ready",
            &["backend=\"priced\"", "locality=\"local\""]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "ward_audit_write_seconds_count", &[]),
        Some(4.0)
    );
    // No id and no text in any label.
    assert!(!text.contains("Quillfeather") && !text.contains("48213377"));
}
