//! One model call, whichever API it came through: give it a request id, hand it to the router
//! (PHI gate, tier, fallback chain), and say in response headers where it went and what PHI
//! categories were found, on answers and refusals alike.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use futures::StreamExt;
use ward_core::{
    ErrorKind, GenerationEvent, GenerationRequest, GenerationStream, GenerationSummary, WardError,
};
use ward_router::{DispatchError, PhiSummary};

use crate::error::{ApiError, ApiFlavor};
use crate::routes::AppState;

pub const REQUEST_ID_HEADER: &str = "x-ward-request-id";
pub const TIER_HEADER: &str = "x-ward-tier";
pub const BACKEND_HEADER: &str = "x-ward-backend";
pub const PHI_HEADER: &str = "x-ward-phi";
pub const FALLBACKS_HEADER: &str = "x-ward-fallbacks";
pub const COMPLEXITY_HEADER: &str = "x-ward-complexity";

/// A generation that has started, with what the response must say about it.
pub struct StartedCall {
    pub request_id: String,
    /// The model name to report: the served model's name.
    pub model: String,
    pub stream: GenerationStream,
    headers: HeaderMap,
}

fn put(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), value);
    }
}

fn decision_headers(
    request_id: &str,
    phi: &PhiSummary,
    tier: Option<&str>,
    fallbacks: &[String],
) -> HeaderMap {
    let mut headers = HeaderMap::new();
    put(&mut headers, REQUEST_ID_HEADER, request_id);
    put(&mut headers, PHI_HEADER, &phi.header_value());
    if let Some(tier) = tier {
        put(&mut headers, TIER_HEADER, tier);
    }
    if !fallbacks.is_empty() {
        put(&mut headers, FALLBACKS_HEADER, &fallbacks.join(","));
    }
    headers
}

impl StartedCall {
    pub fn headers(&self) -> HeaderMap {
        self.headers.clone()
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

/// Routes the request and starts generating; a refusal comes back as an error response that
/// still carries the request id and the PHI verdict.
pub async fn start(
    state: &AppState,
    request: GenerationRequest,
    flavor: ApiFlavor,
) -> Result<StartedCall, ApiError> {
    let request_uuid = uuid::Uuid::now_v7();
    let request_id = request_uuid.to_string();
    if request.model.trim().is_empty() {
        return Err(ApiError::new(
            flavor,
            WardError::invalid_request("`model` is required").with_param("model"),
        ));
    }
    let requested = request.model.clone();
    match state
        .router
        .dispatch(request, request_uuid.as_u128() as u64)
        .await
    {
        Ok(dispatch) => {
            tracing::info!(
                request_id = %request_id,
                tier = %dispatch.tier,
                backend_id = %dispatch.backend_id,
                phi = %dispatch.phi.header_value(),
                complexity = dispatch.complexity.map_or("", |assessment| assessment.complexity.as_str()),
                fallbacks = dispatch.fallbacks.len(),
                "model call started"
            );
            let mut headers = decision_headers(
                &request_id,
                &dispatch.phi,
                Some(&dispatch.tier),
                &dispatch.fallbacks,
            );
            put(&mut headers, BACKEND_HEADER, &dispatch.backend_id);
            if let Some(assessment) = dispatch.complexity {
                put(
                    &mut headers,
                    COMPLEXITY_HEADER,
                    assessment.complexity.as_str(),
                );
            }
            Ok(StartedCall {
                request_id,
                model: dispatch.model,
                stream: dispatch.stream,
                headers,
            })
        }
        Err(DispatchError {
            error,
            phi,
            tier,
            fallbacks,
        }) => {
            tracing::info!(
                request_id = %request_id,
                kind = error.kind.code(),
                phi = %phi.header_value(),
                fallbacks = fallbacks.len(),
                "model call refused"
            );
            let error = if error.kind == ErrorKind::NotFound {
                not_found(state, &requested)
            } else {
                error
            };
            let headers = decision_headers(&request_id, &phi, tier.as_deref(), &fallbacks);
            Err(ApiError::new(flavor, error).with_headers(headers))
        }
    }
}

fn not_found(state: &AppState, model: &str) -> WardError {
    let in_store = state
        .catalog
        .list()
        .into_iter()
        .any(|card| card.answers_to(model));
    let message = if in_store {
        format!("model '{model}' is in the model store but no backend serves it; add a backend for it in ward.toml or start `ward serve --model {model}`")
    } else {
        format!("model '{model}' not found; `ward models` lists the models this server knows, `ward pull {model}` fetches one, and 'auto' lets Ward choose")
    };
    WardError::not_found(message).with_param("model")
}
