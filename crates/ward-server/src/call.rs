//! One model call, whichever API it came through: pick the backend that serves the requested
//! model, give the call a request id, and say in response headers where it went.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use futures::StreamExt;
use ward_core::{
    Backend, ErrorKind, GenerationEvent, GenerationRequest, GenerationStream, GenerationSummary,
    ModelCard, WardError,
};

use crate::routes::AppState;

/// The model name that lets Ward choose.
pub const AUTO_MODEL: &str = "auto";

pub const REQUEST_ID_HEADER: &str = "x-ward-request-id";
pub const TIER_HEADER: &str = "x-ward-tier";
pub const BACKEND_HEADER: &str = "x-ward-backend";

/// A generation that has started, with what the response must say about it.
pub struct StartedCall {
    pub request_id: String,
    /// The model name to report: the served model's canonical name.
    pub model: String,
    pub backend_id: String,
    pub stream: GenerationStream,
}

impl StartedCall {
    pub fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let mut put = |name: &'static str, value: &str| {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        };
        put(REQUEST_ID_HEADER, &self.request_id);
        // Routing tiers arrive with the router; today every call is served locally.
        put(TIER_HEADER, "local");
        put(BACKEND_HEADER, &self.backend_id);
        headers
    }

    /// Drains the stream into the full text and its summary (non-streaming responses).
    pub async fn collect(mut self) -> Result<(String, GenerationSummary), WardError> {
        let mut text = String::new();
        while let Some(event) = self.stream.next().await {
            match event? {
                GenerationEvent::Delta(piece) => text.push_str(&piece),
                GenerationEvent::Done(summary) => return Ok((text, summary)),
            }
        }
        Err(WardError::new(
            ErrorKind::BackendUnavailable,
            "the backend ended the generation without finishing it",
        ))
    }
}

fn find_backend(state: &AppState, model: &str) -> Result<(Arc<dyn Backend>, String), WardError> {
    if model.trim().is_empty() {
        return Err(WardError::invalid_request("`model` is required").with_param("model"));
    }
    for backend in &state.backends {
        let serves = |card: &&ModelCard| model == AUTO_MODEL || card.answers_to(model);
        if let Some(card) = backend.loaded_models().iter().find(serves) {
            return Ok((backend.clone(), card.name.clone()));
        }
    }
    let in_store = state
        .catalog
        .list()
        .into_iter()
        .any(|card| card.answers_to(model));
    let message = if in_store {
        format!("model '{model}' is in the model store but not loaded; start `ward serve --model {model}` to serve it")
    } else {
        format!("model '{model}' not found; `ward models` lists the models this server knows, `ward pull {model}` fetches one")
    };
    Err(WardError::not_found(message).with_param("model"))
}

/// Resolves the backend and starts generating.
pub async fn start(
    state: &AppState,
    mut request: GenerationRequest,
) -> Result<StartedCall, WardError> {
    let (backend, model) = find_backend(state, &request.model)?;
    if !backend.is_ready() {
        return Err(WardError::new(
            ErrorKind::BackendUnavailable,
            format!("backend '{}' is not ready", backend.backend_id()),
        ));
    }
    request.model = model.clone();
    let request_id = uuid::Uuid::now_v7().to_string();
    let stream = backend.generate(request).await?;
    tracing::info!(request_id = %request_id, backend_id = backend.backend_id(), model = %model, "model call started");
    Ok(StartedCall {
        request_id,
        model,
        backend_id: backend.backend_id().to_owned(),
        stream,
    })
}
