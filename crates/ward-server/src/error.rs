//! The one table from `ErrorKind` to HTTP status and error body, in the OpenAI shape for `/v1`
//! and Ward routes and in Ollama's shape for `/api`.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use ward_core::{ErrorKind, WardError};

/// Which API's error shape a route speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiFlavor {
    /// `{"error": {"message", "type", "param", "code"}}`
    OpenAi,
    /// `{"error": "message"}`
    Ollama,
}

impl ApiFlavor {
    pub fn of_path(path: &str) -> Self {
        if path.starts_with("/api/") {
            ApiFlavor::Ollama
        } else {
            ApiFlavor::OpenAi
        }
    }
}

/// HTTP status and OpenAI error `type` for each kind.
pub fn status_of(kind: ErrorKind) -> (StatusCode, &'static str) {
    match kind {
        ErrorKind::InvalidRequest => (StatusCode::BAD_REQUEST, "invalid_request_error"),
        ErrorKind::Unauthorized => (StatusCode::UNAUTHORIZED, "authentication_error"),
        ErrorKind::Forbidden => (StatusCode::FORBIDDEN, "permission_error"),
        ErrorKind::NotFound => (StatusCode::NOT_FOUND, "not_found_error"),
        ErrorKind::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "invalid_request_error"),
        ErrorKind::PolicyViolation => (StatusCode::FORBIDDEN, "policy_error"),
        ErrorKind::BackendUnavailable => (StatusCode::SERVICE_UNAVAILABLE, "backend_error"),
        ErrorKind::BackendTimeout => (StatusCode::GATEWAY_TIMEOUT, "backend_error"),
        ErrorKind::Overloaded => (StatusCode::TOO_MANY_REQUESTS, "rate_limit_error"),
        ErrorKind::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
    }
}

/// The JSON error body for `error` in the given flavour.
pub fn error_body(flavor: ApiFlavor, error: &WardError) -> serde_json::Value {
    match flavor {
        ApiFlavor::OpenAi => {
            let (_, error_type) = status_of(error.kind);
            json!({"error": {
                "message": error.message,
                "type": error_type,
                "param": error.param,
                "code": error.kind.code(),
            }})
        }
        ApiFlavor::Ollama => json!({"error": error.message}),
    }
}

/// An error on its way out of a handler.
#[derive(Debug)]
pub struct ApiError {
    pub flavor: ApiFlavor,
    pub error: WardError,
    /// Headers the response carries anyway (the request id and PHI verdict of a refused call);
    /// boxed to keep `Result<_, ApiError>` small.
    pub headers: Option<Box<HeaderMap>>,
}

impl ApiError {
    pub fn new(flavor: ApiFlavor, error: WardError) -> Self {
        ApiError {
            flavor,
            error,
            headers: None,
        }
    }

    pub fn with_headers(mut self, headers: HeaderMap) -> Self {
        self.headers = Some(Box::new(headers));
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, _) = status_of(self.error.kind);
        if status.is_server_error() {
            tracing::warn!(kind = self.error.kind.code(), error = %self.error.message, "request failed");
        }
        let headers = self.headers.map(|headers| *headers).unwrap_or_default();
        (status, headers, Json(error_body(self.flavor, &self.error))).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_distinct_code_and_an_error_status() {
        let kinds = [
            ErrorKind::InvalidRequest,
            ErrorKind::Unauthorized,
            ErrorKind::Forbidden,
            ErrorKind::NotFound,
            ErrorKind::PayloadTooLarge,
            ErrorKind::PolicyViolation,
            ErrorKind::BackendUnavailable,
            ErrorKind::BackendTimeout,
            ErrorKind::Overloaded,
            ErrorKind::Internal,
        ];
        let mut codes = std::collections::HashSet::new();
        for kind in kinds {
            let (status, _) = status_of(kind);
            assert!(
                status.is_client_error() || status.is_server_error(),
                "{kind:?}"
            );
            assert!(codes.insert(kind.code()), "duplicate code for {kind:?}");
        }
    }

    #[test]
    fn openai_and_ollama_shapes() {
        let error = WardError::not_found("model 'x' not found").with_param("model");
        assert_eq!(
            error_body(ApiFlavor::OpenAi, &error),
            json!({"error": {"message": "model 'x' not found", "type": "not_found_error", "param": "model", "code": "not_found"}})
        );
        assert_eq!(
            error_body(ApiFlavor::Ollama, &error),
            json!({"error": "model 'x' not found"})
        );
        assert_eq!(ApiFlavor::of_path("/api/chat"), ApiFlavor::Ollama);
        assert_eq!(
            ApiFlavor::of_path("/v1/chat/completions"),
            ApiFlavor::OpenAi
        );
    }
}
