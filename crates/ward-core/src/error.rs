//! The closed set of error kinds that every library error maps to.
//!
//! `ward-server` holds the one table from `ErrorKind` to HTTP status and wire body. Messages must
//! never contain request or response text: only names, counts and limits.

use std::fmt;

/// What went wrong, from the client's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    InvalidRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    PolicyViolation,
    BackendUnavailable,
    BackendTimeout,
    Overloaded,
    Internal,
}

impl ErrorKind {
    /// A stable snake_case code for error bodies and metrics.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not_found",
            ErrorKind::PayloadTooLarge => "payload_too_large",
            ErrorKind::PolicyViolation => "policy_violation",
            ErrorKind::BackendUnavailable => "backend_unavailable",
            ErrorKind::BackendTimeout => "backend_timeout",
            ErrorKind::Overloaded => "overloaded",
            ErrorKind::Internal => "internal",
        }
    }
}

/// An error that crosses a crate boundary: a kind, a client-safe message, and optionally the
/// request field it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WardError {
    pub kind: ErrorKind,
    pub message: String,
    pub param: Option<String>,
}

impl WardError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        WardError {
            kind,
            message: message.into(),
            param: None,
        }
    }

    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        WardError::new(ErrorKind::InvalidRequest, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        WardError::new(ErrorKind::NotFound, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        WardError::new(ErrorKind::Internal, message)
    }
}

impl fmt::Display for WardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for WardError {}
