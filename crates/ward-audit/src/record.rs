//! What one audit record says. `AuditEvent` is metadata only (ids, decisions, counts, timings):
//! it is stored in clear so reports can read it. `AuditContent` holds the request and response
//! text and is stored encrypted, as a hash, or not at all.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Metadata of one request that reached routing. Never holds request or response text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// The request id (UUIDv7), as in `x-ward-request-id`; a new UUIDv7 when left empty.
    pub id: String,
    /// RFC 3339, UTC, microseconds; set when the record is submitted if left empty.
    #[serde(default)]
    pub time: String,
    pub key_id: Option<String>,
    pub role: Option<String>,
    pub client_ip: Option<String>,
    /// The route, e.g. `/v1/chat/completions`, or `cli:audit export` for CLI actions.
    pub endpoint: String,
    pub profile: Option<String>,
    pub requested_model: Option<String>,
    pub served_model: Option<String>,
    pub tier: Option<String>,
    pub backend: Option<String>,
    #[serde(default)]
    pub fallbacks: Vec<String>,
    /// PHI label -> number of findings; never the values.
    #[serde(default)]
    pub phi: BTreeMap<String, u32>,
    pub complexity: Option<String>,
    pub prompt_tokens: Option<u32>,
    pub completion_tokens: Option<u32>,
    pub latency: Latency,
    pub cost_usd: Option<f64>,
    #[serde(default)]
    pub output_flags: Vec<String>,
    pub quality_score: Option<f64>,
    /// The HTTP status the client got (499: the client went away first).
    pub status: u16,
    pub outcome: Outcome,
    /// The error code (`policy_violation`, `backend_unavailable`, ...) when there was one.
    pub error: Option<String>,
}

/// Where the time went, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub total_ms: f64,
    pub first_token_ms: Option<f64>,
    /// From dispatch to the backend's last event.
    pub upstream_ms: Option<f64>,
    /// Ward's own share: total minus upstream.
    pub overhead_ms: Option<f64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Answered.
    #[default]
    Ok,
    /// Refused before any backend ran (policy, unknown model, PHI to the cloud).
    Refused,
    /// A backend failed or timed out.
    Failed,
    /// The client went away before the answer was complete.
    ClientClosed,
    /// A CLI or admin action, e.g. a decrypting export.
    Action,
}

/// The text of a request and its answer; what `content = "encrypted"` protects.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditContent {
    pub request: serde_json::Value,
    pub response: String,
}

/// How record content is kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ContentMode {
    /// AES-256-GCM under the keyring's current key.
    #[default]
    Encrypted,
    /// Only a SHA-256 of the content, to prove later what was said.
    Hash,
    /// Nothing.
    Off,
}

impl ContentMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ContentMode::Encrypted => "encrypted",
            ContentMode::Hash => "hash",
            ContentMode::Off => "off",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "encrypted" => Some(ContentMode::Encrypted),
            "hash" => Some(ContentMode::Hash),
            "off" => Some(ContentMode::Off),
            _ => None,
        }
    }
}

/// Microseconds since the Unix epoch, now.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_micros() as i64)
}

/// RFC 3339 with microseconds, UTC.
pub fn rfc3339_micros(micros: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .ok()
        .and_then(|at| {
            at.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Parses an RFC 3339 time or a date (`2026-11-21`, midnight UTC) into microseconds.
pub fn parse_time(text: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    let text = text.trim();
    if let Ok(at) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return Some((at.unix_timestamp_nanos() / 1000) as i64);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(text, &format).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() * 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_and_dates_are_midnight_utc() {
        let micros = 1_795_000_000_123_456;
        let text = rfc3339_micros(micros);
        assert!(text.ends_with(".123456Z"), "{text}");
        assert_eq!(parse_time(&text), Some(micros));
        assert_eq!(parse_time("2026-11-21"), Some(1_795_219_200_000_000));
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn events_serialise_with_snake_case_outcomes() {
        let event = AuditEvent {
            id: "r".into(),
            outcome: Outcome::ClientClosed,
            status: 499,
            ..AuditEvent::default()
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["outcome"], "client_closed");
        let back: AuditEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }
}
