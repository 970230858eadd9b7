//! Ward's HTTP face: the OpenAI and Ollama wire formats, parsed into `ward_core` types and served
//! by whatever `Backend`s the binary wires in.
//!
//! This is the only crate that knows HTTP. `error` holds the one table from `ErrorKind` to HTTP
//! status and body; `body` parses JSON without ever echoing request text; `openai` and `ollama`
//! translate the two APIs; `routes` assembles the router and serves it with graceful shutdown;
//! `arrival` stamps each request with the time its first bytes were received; `auth` turns API keys into roles and limits; `call` puts every model call on record;
//! `audit` serves the records; `notes` serves clinical profiles and the note workflow;
//! `structured` parses `response_format` / `format` and checks every structured answer;
//! `metrics` counts every call for `GET /metrics`; `otlp` sends each call's spans to an
//! OpenTelemetry collector when one is configured; `console` serves the web console at `/ui`.

mod arrival;
mod audit;
pub mod auth;
mod body;
mod call;
mod console;
pub mod error;
pub mod metrics;
mod notes;
mod ollama;
mod openai;
pub mod otlp;
mod phi;
mod routes;
mod structured;

pub use audit::AuditAccess;
pub use auth::{Auth, AuthSettings};
pub use call::{
    BACKEND_HEADER, COST_HEADER, PHI_HEADER, PROFILE_HEADER, PROFILE_VERSION_HEADER, TIER_HEADER,
};
pub use metrics::Metrics;
/// The application `router` builds, for callers that hold one without naming axum.
pub type App = axum::Router;

pub use routes::{call_in_process, router, serve, serve_tls, AppState, ServerSettings, TlsFiles};
