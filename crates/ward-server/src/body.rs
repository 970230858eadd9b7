//! Request bodies: size limit, JSON parsing with errors that name the offending field but never
//! repeat what the client sent (it may be patient data).

use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use ward_core::{ErrorKind, WardError};

use crate::error::{ApiError, ApiFlavor};

/// A handler's body: read within the size limit, then parsed; errors in the route's API shape.
pub fn parse_request<T: DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    flavor: ApiFlavor,
) -> Result<T, ApiError> {
    let body = body.map_err(|rejection| ApiError::new(flavor, body_rejection(rejection)))?;
    parse_json(&body).map_err(|error| ApiError::new(flavor, error))
}

/// Turns axum's body rejection (too large, unreadable) into a `WardError`.
fn body_rejection(rejection: BytesRejection) -> WardError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        WardError::new(
            ErrorKind::PayloadTooLarge,
            "request body is larger than the server's limit (server.body_limit)",
        )
    } else {
        WardError::invalid_request("the request body could not be read")
    }
}

/// Parses a JSON body; the error names the field path and the kind of problem only.
pub fn parse_json<T: DeserializeOwned>(body: &Bytes) -> Result<T, WardError> {
    if body.is_empty() {
        return Err(WardError::invalid_request(
            "the request body is empty; send a JSON object",
        ));
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let position = format!("line {} column {}", inner.line(), inner.column());
        let message = match inner.classify() {
            serde_json::error::Category::Syntax => format!("malformed JSON at {position}"),
            serde_json::error::Category::Eof => format!("the JSON body ends early, at {position}"),
            serde_json::error::Category::Io => "the request body could not be read".to_owned(),
            serde_json::error::Category::Data => {
                let problem = redact_serde_message(&inner.to_string());
                if path == "." {
                    format!("invalid request: {problem}")
                } else {
                    format!("invalid field `{path}`: {problem}")
                }
            }
        };
        let error = WardError::invalid_request(message);
        if path == "." || path.is_empty() {
            error
        } else {
            error.with_param(path)
        }
    })
}

/// Keeps serde's description of a data error ("invalid type: string, expected u32") while
/// dropping any value it quotes and the trailing position.
fn redact_serde_message(message: &str) -> String {
    let message = message.split(" at line ").next().unwrap_or(message);
    let mut redacted = String::with_capacity(message.len());
    let mut chars = message.chars().peekable();
    // serde quotes values as "…" and, for unknown variants and numbers, as `…`; field names in
    // "missing field `x`" and the expected list are safe because they come from our own types.
    let quotes_value = message.starts_with("invalid type")
        || message.starts_with("invalid value")
        || message.starts_with("unknown variant")
        || message.starts_with("invalid length");
    let mut first_backtick_dropped = !quotes_value;
    while let Some(character) = chars.next() {
        match character {
            '"' => {
                for inner in chars.by_ref() {
                    if inner == '"' {
                        break;
                    }
                }
                redacted.push_str("(value)");
            }
            '`' if !first_backtick_dropped => {
                for inner in chars.by_ref() {
                    if inner == '`' {
                        break;
                    }
                }
                redacted.push_str("(value)");
                first_backtick_dropped = true;
            }
            other => redacted.push(other),
        }
    }
    redacted
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Probe {
        messages: Vec<Message>,
        #[serde(default)]
        max_tokens: Option<u32>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Message {
        role: Role,
        content: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Role {
        User,
    }

    fn message_of(body: &str) -> (String, Option<String>) {
        let error = parse_json::<Probe>(&Bytes::from(body.to_owned())).unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidRequest);
        (error.message, error.param)
    }

    #[test]
    fn names_the_field_and_never_echoes_values() {
        let secret = "John Smith 123-45-6789";
        let cases = [
            format!(r#"{{"messages":[{{"role":"user","content":5}}],"x":"{secret}"}}"#),
            format!(r#"{{"messages":[{{"role":"{secret}","content":"a"}}]}}"#),
            format!(
                r#"{{"messages":[{{"role":"user","content":"{secret}"}}],"max_tokens":"{secret}"}}"#
            ),
            r#"{"messages":[{"role":"user","content":"a"}],"max_tokens":-123456789}"#.to_owned(),
        ];
        let expected_params = [
            "messages[0].content",
            "messages[0].role",
            "max_tokens",
            "max_tokens",
        ];
        for (body, expected) in cases.iter().zip(expected_params) {
            let (message, param) = message_of(body);
            assert_eq!(param.as_deref(), Some(expected), "{message}");
            assert!(message.contains(expected), "{message}");
            assert!(
                !message.contains("John") && !message.contains("6789"),
                "{message}"
            );
            assert!(!message.contains("123456789"), "{message}");
        }
    }

    #[test]
    fn missing_field_syntax_and_truncation() {
        assert!(message_of(r#"{"max_tokens": 3}"#)
            .0
            .contains("missing field `messages`"));
        assert!(message_of(r#"{"messages": [}"#)
            .0
            .starts_with("malformed JSON"));
        assert!(message_of(r#"{"messages": [{"role":"user""#)
            .0
            .starts_with("the JSON body ends early"));
        assert!(parse_json::<Probe>(&Bytes::new())
            .unwrap_err()
            .message
            .contains("empty"));
    }
}
