//! Structured output over a scripted backend that answers from a list, one answer per model call: a
//! valid answer is delivered as bare JSON (fence stripped), an invalid first answer is asked for
//! once more, two invalid answers give a 503 that quotes neither, malformed `response_format` /
//! `format` values are 400s naming the field, streaming delivers the checked answer as ordinary
//! chunks, and every attempt has its own audit record.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::Router;
use serde_json::{json, Value};
use ward_audit::{AuditLog, Filter, Store};
use ward_core::OutputFormat;
use ward_router::fake::{Script, ScriptedBackend};
use ward_server::{router, AppState, ServerSettings};

use crate::{default_tiers_over, json_of, send, sse_chunks, state_over};

/// A backend that answers the n-th call with the n-th answer (the last one again once they run
/// out) and keeps every request. It charges $1 / $2 per million prompt / completion tokens.
fn answer_list(answers: Vec<&str>) -> Arc<ScriptedBackend> {
    let backend = ScriptedBackend::new("answer-list", "test-model:1b").priced(1.0, 2.0);
    backend.set_script(Script::Replies(
        answers.into_iter().map(str::to_owned).collect(),
    ));
    Arc::new(backend)
}

/// The output format of every request the backend received.
fn formats(backend: &ScriptedBackend) -> Vec<OutputFormat> {
    backend
        .received()
        .into_iter()
        .map(|request| request.format)
        .collect()
}

fn app_over(backend: Arc<ScriptedBackend>, audit: Option<AuditLog>) -> Router {
    let state = AppState {
        audit,
        ..state_over(default_tiers_over(backend))
    };
    router(state, &ServerSettings::default())
}

const VALID: &str = r#"{"urgency": "urgent", "reasons": ["chest pain"]}"#;
const SECRET: &str = "Orla Quill";

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "urgency": {"enum": ["urgent", "routine"]},
            "reasons": {"type": "array", "items": {"type": "string"}}
        },
        "required": ["urgency", "reasons"],
        "additionalProperties": false
    })
}

fn openai_body(response_format: Value, stream: bool) -> String {
    json!({
        "model": "test-model:1b",
        "messages": [{"role": "user", "content": "Triage: chest pain."}],
        "response_format": response_format,
        "stream": stream,
    })
    .to_string()
}

fn json_schema_format() -> Value {
    json!({"type": "json_schema", "json_schema": {"name": "triage", "schema": schema(), "strict": true}})
}

#[tokio::test]
async fn a_valid_answer_is_delivered_and_the_format_reaches_the_backend() {
    let backend = answer_list(vec![VALID]);
    let app = app_over(backend.clone(), None);
    let (status, _, text) = send(
        &app,
        "POST",
        "/v1/chat/completions",
        Some(&openai_body(json_schema_format(), false)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let content = json_of(&text)["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(content, VALID);
    assert_eq!(backend.received().len(), 1);
    assert_eq!(
        formats(&backend),
        [OutputFormat::JsonSchema {
            name: "triage".into(),
            schema: schema(),
            strict: true
        }]
    );
}

#[tokio::test]
async fn an_invalid_answer_is_asked_for_once_more_and_a_fence_is_stripped() {
    // Not JSON, then valid JSON in a Markdown fence, as remote models like to write it.
    let backend = answer_list(vec![
        "Sure! The urgency is urgent.",
        "```json\n{\"urgency\": \"routine\", \"reasons\": []}\n```",
    ]);
    let app = app_over(backend.clone(), None);
    let (status, headers, text) = send(
        &app,
        "POST",
        "/v1/chat/completions",
        Some(&openai_body(json_schema_format(), false)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let value = json_of(&text);
    assert_eq!(
        value["choices"][0]["message"]["content"],
        r#"{"urgency": "routine", "reasons": []}"#
    );
    assert_eq!(backend.received().len(), 2);
    // Usage counts both attempts.
    let one_attempt = 5 + ("Sure! The urgency is urgent.".len() as u64).div_ceil(4);
    assert!(value["usage"]["total_tokens"].as_u64().unwrap() > one_attempt);
    // So does the cost.
    assert_eq!(cost_header(&headers), Some(usage_cost(&value["usage"])));
}

/// `x-ward-cost-usd`, when there is one.
fn cost_header(headers: &axum::http::HeaderMap) -> Option<f64> {
    headers
        .get("x-ward-cost-usd")
        .map(|value| value.to_str().unwrap().parse().unwrap())
}

/// What `usage` costs at `answer_list`'s prices.
fn usage_cost(usage: &Value) -> f64 {
    (usage["prompt_tokens"].as_f64().unwrap() + 2.0 * usage["completion_tokens"].as_f64().unwrap())
        / 1e6
}

#[tokio::test]
async fn two_invalid_answers_are_a_clear_error_that_quotes_neither() {
    let wrong = r#"{"urgency": "Orla Quill", "reasons": []}"#;
    for (path, body, param) in [
        (
            "/v1/chat/completions",
            openai_body(json_schema_format(), false),
            Some("response_format"),
        ),
        (
            "/v1/chat/completions",
            openai_body(json!({"type": "json_object"}), true),
            Some("response_format"),
        ),
        (
            "/api/chat",
            json!({"model": "test-model:1b", "messages": [{"role": "user", "content": "x"}], "format": schema()})
                .to_string(),
            None,
        ),
    ] {
        let answers = if body.contains("json_object") {
            vec!["[1, 2]", "Orla Quill"]
        } else {
            vec![wrong]
        };
        let backend = answer_list(answers);
        let app = app_over(backend.clone(), None);
        let (status, headers, text) = send(&app, "POST", path, Some(&body)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {text}");
        assert_eq!(backend.received().len(), 2, "{path}");
        assert!(!text.contains(SECRET), "{text}");
        assert!(headers.contains_key("x-ward-request-id"));
        let error = &json_of(&text)["error"];
        let message = match param {
            Some(param) => {
                assert_eq!(error["code"], "backend_unavailable", "{text}");
                assert_eq!(error["param"], param, "{text}");
                error["message"].as_str().unwrap()
            }
            None => error.as_str().expect("Ollama shape"),
        };
        assert!(
            message.contains("did not satisfy") && message.contains("after 2 attempts"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn malformed_formats_are_refused_naming_the_field() {
    let backend = answer_list(vec![VALID]);
    let app = app_over(backend.clone(), None);
    let openai_cases = [
        (json!("json"), "response_format"),
        (json!({"type": "xml"}), "response_format.type"),
        (
            json!({"type": "json_schema", "json_schema": {"name": "t"}}),
            "response_format.json_schema.schema",
        ),
        (
            json!({"type": "json_schema", "json_schema": {"name": "t", "schema": {"type": "Orla Quill"}}}),
            "response_format.json_schema.schema",
        ),
    ];
    for (format, param) in openai_cases {
        for path in ["/v1/chat/completions", "/v1/completions"] {
            let body = json!({"model": "test-model:1b", "messages": [{"role": "user", "content": "x"}], "prompt": "x", "response_format": format});
            let (status, _, text) = send(&app, "POST", path, Some(&body.to_string())).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {format}: {text}");
            let error = &json_of(&text)["error"];
            assert_eq!(error["param"], param, "{text}");
            assert_eq!(error["code"], "invalid_request", "{text}");
            assert!(!text.contains(SECRET), "{text}");
        }
    }
    for (path, format) in [
        ("/api/chat", json!("yaml")),
        ("/api/generate", json!(7)),
        ("/api/generate", json!({"type": "Orla Quill"})),
    ] {
        let body = json!({"model": "test-model:1b", "messages": [{"role": "user", "content": "x"}], "prompt": "x", "format": format});
        let (status, _, text) = send(&app, "POST", path, Some(&body.to_string())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {format}: {text}");
        let message = json_of(&text)["error"].as_str().unwrap().to_owned();
        assert!(message.contains("format"), "{message}");
        assert!(!message.contains(SECRET), "{message}");
    }
    assert_eq!(
        backend.received().len(),
        0,
        "no refused request reached the backend"
    );
}

#[tokio::test]
async fn streaming_delivers_the_checked_answer_as_ordinary_chunks() {
    let backend = answer_list(vec!["not json at all", VALID]);
    let app = app_over(backend.clone(), None);
    let body = json!({
        "model": "test-model:1b",
        "messages": [{"role": "user", "content": "Triage: chest pain."}],
        "response_format": json_schema_format(),
        "stream": true,
        "stream_options": {"include_usage": true},
    });
    let (status, headers, text) = send(
        &app,
        "POST",
        "/v1/chat/completions",
        Some(&body.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let chunks = sse_chunks(&headers, &text);
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let content: String = chunks
        .iter()
        .filter_map(|chunk| chunk["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(content, VALID);
    assert_eq!(
        chunks[chunks.len() - 2]["choices"][0]["finish_reason"],
        "stop"
    );
    assert!(
        chunks.last().unwrap()["usage"]["total_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(backend.received().len(), 2);
    // Sent whole once checked, the stream's headers carry what both attempts cost.
    assert_eq!(
        cost_header(&headers),
        Some(usage_cost(&chunks.last().unwrap()["usage"]))
    );

    // Ollama's NDJSON: the answer in one line, then the final line.
    let backend = answer_list(vec![r#"{"ok": true}"#]);
    let app = app_over(backend.clone(), None);
    let body = json!({"model": "test-model:1b", "prompt": "x", "format": "json"});
    let (status, _, text) = send(&app, "POST", "/api/generate", Some(&body.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let lines: Vec<Value> = text.lines().map(json_of).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["response"], r#"{"ok": true}"#);
    assert_eq!(lines[1]["done"], true);
    assert_eq!(formats(&backend), [OutputFormat::JsonObject]);
}

#[tokio::test]
async fn ollama_schema_format_and_a_request_without_format_is_untouched() {
    let backend = answer_list(vec![VALID]);
    let app = app_over(backend.clone(), None);
    let body = json!({"model": "test-model:1b", "messages": [{"role": "user", "content": "x"}], "format": schema(), "stream": false});
    let (status, _, text) = send(&app, "POST", "/api/chat", Some(&body.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(json_of(&text)["message"]["content"], VALID);
    assert!(matches!(
        &formats(&backend)[0],
        OutputFormat::JsonSchema { schema: sent, .. } if *sent == schema()
    ));
    // Free text is passed through as generated, fence and all, after one call.
    let backend = answer_list(vec!["```json\n{}\n```"]);
    let app = app_over(backend.clone(), None);
    let body = json!({"model": "test-model:1b", "messages": [{"role": "user", "content": "x"}], "stream": false});
    let (_, _, text) = send(&app, "POST", "/api/chat", Some(&body.to_string())).await;
    assert_eq!(json_of(&text)["message"]["content"], "```json\n{}\n```");
    assert_eq!(formats(&backend), [OutputFormat::Text]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_attempt_has_its_own_audit_record() {
    let directory = tempfile::tempdir().unwrap();
    let (log, location) = crate::audit_log_in(directory.path());
    let backend = answer_list(vec!["no", VALID]);
    let app = app_over(backend.clone(), Some(log));
    let (status, headers, text) = send(
        &app,
        "POST",
        "/v1/chat/completions",
        Some(&openai_body(json_schema_format(), false)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let answered_id = headers["x-ward-request-id"].to_str().unwrap().to_owned();
    let mut records = Store::open(&location)
        .unwrap()
        .records(&Filter::default())
        .unwrap();
    records.sort_by_key(|record| record.seq);
    assert_eq!(records.len(), 2);
    let first = records[0].event().unwrap();
    assert_eq!(first.output_flags, ["response_format_unsatisfied"]);
    assert_eq!(first.outcome, ward_audit::Outcome::Failed);
    assert_eq!(first.status, 503);
    let second = records[1].event().unwrap();
    assert_eq!(records[1].id, answered_id);
    assert!(second.output_flags.is_empty(), "{:?}", second.output_flags);
    assert_eq!(
        (second.status, second.outcome),
        (200, ward_audit::Outcome::Ok)
    );
}
