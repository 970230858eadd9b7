//! Optional OpenTelemetry export of model calls, off unless configured. Each call is one trace
//! whose id is the call's request id (the audit record's id, a UUID, without its dashes): a server
//! span for the call and, when a backend answered, a client span for the upstream call. Spans are
//! sent in batches as OTLP/HTTP JSON to `{endpoint}/v1/traces`. Like the metrics they carry ids,
//! route, tier, backend, model, status, PHI categories and token counts, never request text. A
//! collector that is slow or down never slows a call: spans beyond the queue are dropped.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tokio::sync::mpsc;
use ward_audit::{AuditEvent, Outcome};

/// Where spans go.
#[derive(Debug, Clone, PartialEq)]
pub struct OtlpSettings {
    /// The collector's OTLP/HTTP base URL, e.g. `http://127.0.0.1:4318`.
    pub endpoint: String,
    /// `service.name` of every span.
    pub service_name: String,
}

const QUEUE: usize = 4096;
const BATCH: usize = 256;
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Sends spans from a task of its own; cheap to share.
#[derive(Debug)]
pub struct SpanExporter {
    spans: mpsc::Sender<Value>,
}

impl SpanExporter {
    /// Starts the sending task on the current Tokio runtime.
    pub fn start(settings: OtlpSettings) -> Self {
        let (spans, queue) = mpsc::channel(QUEUE);
        tokio::spawn(send_batches(settings, queue));
        SpanExporter { spans }
    }

    /// Queues the spans of one finished call; `commit_wait` is the time its record took to commit,
    /// which the client waited for too.
    pub fn export(&self, call: CallSpan, commit_wait: Duration) {
        let end = SystemTime::now();
        for span in call.spans(end, commit_wait) {
            if self.spans.try_send(span).is_err() {
                tracing::debug!("span queue full or closed; span dropped");
            }
        }
    }
}

async fn send_batches(settings: OtlpSettings, mut queue: mpsc::Receiver<Value>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    let url = format!("{}/v1/traces", settings.endpoint.trim_end_matches('/'));
    let mut batch = Vec::new();
    // One deadline per batch, not per span: steady traffic must not hold spans back.
    let mut deadline = tokio::time::Instant::now() + FLUSH_EVERY;
    loop {
        let next = tokio::time::timeout_at(deadline, queue.recv()).await;
        let closed = matches!(next, Ok(None));
        if let Ok(Some(span)) = next {
            batch.push(span);
            if batch.len() < BATCH {
                continue;
            }
        }
        deadline = tokio::time::Instant::now() + FLUSH_EVERY;
        if !batch.is_empty() {
            let body = request_body(&settings.service_name, std::mem::take(&mut batch));
            let sent = client
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string())
                .send()
                .await;
            match sent {
                Ok(response) if response.status().is_success() => {}
                Ok(response) => {
                    tracing::warn!(
                        status = response.status().as_u16(),
                        "OTLP collector refused spans"
                    )
                }
                Err(error) => {
                    tracing::warn!(error = %error, "OTLP collector unreachable; spans dropped")
                }
            }
        }
        if closed {
            return;
        }
    }
}

/// An `ExportTraceServiceRequest` in OTLP's JSON encoding.
fn request_body(service_name: &str, spans: Vec<Value>) -> Value {
    json!({"resourceSpans": [{
        "resource": {"attributes": [attribute("service.name", service_name)]},
        "scopeSpans": [{"scope": {"name": "ward", "version": env!("CARGO_PKG_VERSION")}, "spans": spans}],
    }]})
}

fn attribute(key: &str, value: impl Into<AttributeValue>) -> Value {
    let value = match value.into() {
        AttributeValue::Text(text) => json!({"stringValue": text}),
        // OTLP's JSON encoding writes 64-bit integers as strings.
        AttributeValue::Int(number) => json!({"intValue": number.to_string()}),
    };
    json!({"key": key, "value": value})
}

enum AttributeValue {
    Text(String),
    Int(i64),
}

impl From<&str> for AttributeValue {
    fn from(text: &str) -> Self {
        AttributeValue::Text(text.to_owned())
    }
}

impl From<i64> for AttributeValue {
    fn from(number: i64) -> Self {
        AttributeValue::Int(number)
    }
}

/// What a call's spans say, taken from its audit record before the record is written.
#[derive(Debug)]
pub struct CallSpan {
    trace_id: String,
    endpoint: String,
    attributes: Vec<Value>,
    total_ms: f64,
    upstream_ms: Option<f64>,
    backend: Option<String>,
    failed: bool,
}

impl CallSpan {
    pub fn of(event: &AuditEvent) -> Self {
        let mut attributes = vec![
            attribute("ward.request_id", event.id.as_str()),
            attribute("http.route", event.endpoint.as_str()),
            attribute("http.response.status_code", i64::from(event.status)),
            attribute(
                "ward.phi",
                event
                    .phi
                    .keys()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(",")
                    .as_str(),
            ),
        ];
        let optional = [
            ("ward.tier", &event.tier),
            ("ward.backend", &event.backend),
            ("ward.model", &event.served_model),
            ("ward.profile", &event.profile),
            ("ward.key_id", &event.key_id),
            ("error.type", &event.error),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                attributes.push(attribute(key, value.as_str()));
            }
        }
        for (key, tokens) in [
            ("gen_ai.usage.input_tokens", event.prompt_tokens),
            ("gen_ai.usage.output_tokens", event.completion_tokens),
        ] {
            if let Some(tokens) = tokens {
                attributes.push(attribute(key, i64::from(tokens)));
            }
        }
        CallSpan {
            trace_id: event.id.replace('-', ""),
            endpoint: event.endpoint.clone(),
            attributes,
            total_ms: event.latency.total_ms,
            upstream_ms: event.latency.upstream_ms,
            backend: event.backend.clone(),
            failed: !matches!(event.outcome, Outcome::Ok),
        }
    }

    /// The call's server span and, when a backend ran, its client span; the call ended at `end`.
    fn spans(self, end: SystemTime, commit_wait: Duration) -> Vec<Value> {
        let nanos = |at: SystemTime| {
            at.duration_since(UNIX_EPOCH)
                .map_or(0, |since| since.as_nanos())
                .to_string()
        };
        let before = |ms: f64| end - Duration::from_secs_f64(ms.max(0.0) / 1000.0);
        let start = before(self.total_ms) - commit_wait;
        // The trace id is the request's UUIDv7; its last 8 bytes (random) name the call's span.
        let call_span = self.trace_id.get(16..).unwrap_or_default().to_owned();
        let status = json!({"code": if self.failed { 2 } else { 1 }});
        let mut spans = vec![json!({
            "traceId": self.trace_id,
            "spanId": call_span,
            "name": self.endpoint,
            "kind": 2,
            "startTimeUnixNano": nanos(start),
            "endTimeUnixNano": nanos(end),
            "attributes": self.attributes,
            "status": status,
        })];
        if let (Some(upstream_ms), Some(backend)) = (self.upstream_ms, self.backend) {
            let upstream_end = end - commit_wait;
            spans.push(json!({
                "traceId": self.trace_id,
                "spanId": &uuid::Uuid::now_v7().simple().to_string()[16..],
                "parentSpanId": call_span,
                "name": format!("upstream {backend}"),
                "kind": 3,
                "startTimeUnixNano": nanos(upstream_end - Duration::from_secs_f64(upstream_ms.max(0.0) / 1000.0)),
                "endTimeUnixNano": nanos(upstream_end),
                "attributes": [attribute("ward.backend", backend.as_str())],
                "status": status,
            }));
        }
        spans
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_audit::Latency;

    #[test]
    fn a_call_is_one_trace_named_by_its_request_id_without_text() {
        let event = AuditEvent {
            id: "0192f5e4-7c1a-7b3d-9e2f-a1b2c3d4e5f6".into(),
            endpoint: "/v1/chat/completions".into(),
            tier: Some("phi".into()),
            backend: Some("gpu".into()),
            phi: [("NAME".to_owned(), 1), ("MRN".to_owned(), 1)].into(),
            prompt_tokens: Some(12),
            latency: Latency {
                total_ms: 30.0,
                upstream_ms: Some(20.0),
                ..Latency::default()
            },
            status: 200,
            ..AuditEvent::default()
        };
        let end = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let spans = CallSpan::of(&event).spans(end, Duration::from_millis(1));
        assert_eq!(spans.len(), 2);
        let (call, upstream) = (&spans[0], &spans[1]);
        assert_eq!(call["traceId"], "0192f5e47c1a7b3d9e2fa1b2c3d4e5f6");
        assert_eq!(call["spanId"], "9e2fa1b2c3d4e5f6");
        assert_eq!(upstream["parentSpanId"], call["spanId"]);
        assert_eq!(upstream["traceId"], call["traceId"]);
        // 30 ms of handling plus 1 ms of commit, ending at `end`.
        assert_eq!(call["startTimeUnixNano"], "1799999999969000000");
        assert_eq!(call["endTimeUnixNano"], "1800000000000000000");
        assert_eq!(upstream["startTimeUnixNano"], "1799999999979000000");
        assert_eq!(call["status"]["code"], 1);
        let text = call["attributes"].to_string();
        for expected in [
            r#"{"key":"ward.phi","value":{"stringValue":"MRN,NAME"}}"#,
            r#"{"key":"http.response.status_code","value":{"intValue":"200"}}"#,
            r#"{"key":"gen_ai.usage.input_tokens","value":{"intValue":"12"}}"#,
        ] {
            assert!(text.contains(expected), "{text}");
        }
        let body = request_body("ward", spans);
        assert_eq!(
            body["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"],
            "ward"
        );
    }

    #[test]
    fn a_refused_call_has_no_upstream_span_and_an_error_status() {
        let event = AuditEvent {
            id: "0192f5e4-7c1a-7b3d-9e2f-a1b2c3d4e5f6".into(),
            outcome: Outcome::Refused,
            error: Some("policy_violation".into()),
            status: 403,
            ..AuditEvent::default()
        };
        let spans = CallSpan::of(&event).spans(SystemTime::now(), Duration::ZERO);
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0]["status"]["code"], 2);
        assert!(spans[0]["attributes"]
            .to_string()
            .contains("policy_violation"));
    }
}
