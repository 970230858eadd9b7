//! One model call, whichever API it came through: give it a request id, hand it to the router
//! (PHI gate, tier, fallback chain), say in response headers where it went and what PHI
//! categories were found, and put it on record: a refusal is recorded before its error goes out,
//! an answer before its last event does (the generation stream is wrapped so that its `Done`
//! waits for the commit), and a client that goes away leaves a `client_closed` record. An
//! answer that does not satisfy the requested output format is recorded as failed, with the
//! `response_format_unsatisfied` flag (`structured.rs` decides what the client gets).

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use futures::StreamExt;
use serde_json::json;
use ward_audit::{AuditContent, AuditEvent, AuditLog, Latency, Outcome};
use ward_clinical::{CodeSet, Profile, ProfileSet, Review};
use ward_core::{
    ChatRole, ErrorKind, GenerationEvent, GenerationRequest, GenerationStream, GenerationSummary,
    OutputFormat, Prompt, TokenPrice, WardError,
};
use ward_router::{DispatchError, PhiSummary};

use crate::auth::{Auth, Caller};
use crate::error::{status_of, ApiError, ApiFlavor};
use crate::metrics::AnswerClock;
use crate::otlp::{CallSpan, SpanExporter};
use crate::routes::AppState;

pub const REQUEST_ID_HEADER: &str = "x-ward-request-id";
pub const TIER_HEADER: &str = "x-ward-tier";
pub const BACKEND_HEADER: &str = "x-ward-backend";
pub const PHI_HEADER: &str = "x-ward-phi";
pub const FALLBACKS_HEADER: &str = "x-ward-fallbacks";
pub const COMPLEXITY_HEADER: &str = "x-ward-complexity";
pub const PROFILE_HEADER: &str = "x-ward-profile";
pub const PROFILE_VERSION_HEADER: &str = "x-ward-profile-version";
/// What a complete (non-streaming) answer cost, in US dollars, when its backend has token prices.
pub const COST_HEADER: &str = "x-ward-cost-usd";
/// The output flag of a record whose answer did not satisfy the requested output format.
pub const FORMAT_UNSATISFIED_FLAG: &str = "response_format_unsatisfied";

/// A generation that has started, with what the response must say about it.
pub struct StartedCall {
    pub request_id: String,
    /// The model name to report: the served model's name.
    pub model: String,
    pub stream: GenerationStream,
    headers: HeaderMap,
    /// A profile call's review, filled when its audit record is committed (before `Done`).
    review: Option<ReviewSlot>,
    /// The serving backend's token prices.
    price: Option<TokenPrice>,
}

/// Where the review of a profile call's answer is left for the handler, so it is made once.
pub type ReviewSlot = Arc<OnceLock<Review>>;

fn put(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), value);
    }
}

/// Puts what a complete answer cost in its headers.
pub(crate) fn set_cost(headers: &mut HeaderMap, cost_usd: f64) {
    put(headers, COST_HEADER, &cost_usd.to_string());
}

fn decision_headers(
    request_id: &str,
    profile: Option<&Profile>,
    phi: &PhiSummary,
    tier: Option<&str>,
    fallbacks: &[String],
) -> HeaderMap {
    let mut headers = HeaderMap::new();
    put(&mut headers, REQUEST_ID_HEADER, request_id);
    if let Some(profile) = profile {
        put(&mut headers, PROFILE_HEADER, &profile.name);
        put(&mut headers, PROFILE_VERSION_HEADER, &profile.version);
    }
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

    /// A call whose answer is already complete and checked (structured output): its stream
    /// gives the answer as one piece, then `Done`. Its headers already say what it cost.
    pub fn answered(
        request_id: String,
        model: String,
        headers: HeaderMap,
        answer: String,
        summary: GenerationSummary,
    ) -> StartedCall {
        let events = [
            Ok(GenerationEvent::Delta(answer)),
            Ok(GenerationEvent::Done(summary)),
        ];
        StartedCall {
            request_id,
            model,
            stream: futures::stream::iter(events).boxed(),
            headers,
            review: None,
            price: None,
        }
    }

    /// The serving backend's token prices.
    pub fn price(&self) -> Option<TokenPrice> {
        self.price
    }

    /// Where the answer's review will be once the stream has ended (a profile call with an
    /// audit log); empty otherwise.
    pub fn review_slot(&self) -> Option<ReviewSlot> {
        self.review.clone()
    }

    /// Drains the stream into the full text and its summary (non-streaming responses), with
    /// the response headers, the call's cost among them when its backend is priced.
    pub async fn collect(mut self) -> Result<(String, GenerationSummary, HeaderMap), WardError> {
        let mut text = String::new();
        while let Some(event) = self.stream.next().await {
            match event? {
                GenerationEvent::Delta(piece) => text.push_str(&piece),
                GenerationEvent::Done(summary) => {
                    if let Some(price) = self.price {
                        set_cost(&mut self.headers, price.cost_usd(&summary.usage));
                    }
                    return Ok((text, summary, self.headers));
                }
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
/// Where a call came from, for its record.
#[derive(Debug, Clone, Copy)]
pub struct CallContext<'a> {
    pub caller: &'a Caller,
    /// The route, e.g. `/v1/chat/completions`.
    pub endpoint: &'static str,
    pub streaming: bool,
    pub flavor: ApiFlavor,
    /// With a profile: the model to use instead of the profile's (`/v1/notes` `model`, so an
    /// evaluation can compare models under one profile).
    pub profile_model: Option<&'a str>,
}

pub async fn start(
    state: &AppState,
    context: CallContext<'_>,
    mut request: GenerationRequest,
) -> Result<StartedCall, ApiError> {
    // From the receipt of the request's first bytes (before auth and body parsing).
    let started = context.caller.arrived;
    let flavor = context.flavor;
    let request_uuid = uuid::Uuid::now_v7();
    let request_id = request_uuid.to_string();
    if request.model.trim().is_empty() {
        return Err(ApiError::new(
            flavor,
            WardError::invalid_request("`model` is required").with_param("model"),
        ));
    }
    let requested = request.model.clone();
    // A profile name as the model: its prompt goes first, then the client's messages; the
    // answer is checked as the profile says and the outcome put on record.
    let profile = state.profiles.get(&requested);
    let review = profile.map(|profile| ReviewPlan {
        profiles: state.profiles.clone(),
        profile: profile.name.clone(),
        input: input_text(&request),
        output: String::new(),
        result: ReviewSlot::default(),
    });
    let review_slot = review.as_ref().map(|plan| plan.result.clone());
    if let Some(profile) = profile {
        profile.apply(&mut request);
        if let Some(model) = context.profile_model {
            request.model = model.to_owned();
        }
    }
    let mut recorder = state.audit.as_ref().map(|audit| Recorder {
        audit: audit.clone(),
        metrics: state.metrics.clone(),
        traces: state.traces.clone(),
        in_flight_on: None,
        answer_clock: context.caller.answer_clock.clone(),
        auth: state.auth.clone(),
        content: audit.keeps_content().then(|| AuditContent {
            request: request_content(&request),
            response: String::new(),
        }),
        event: AuditEvent {
            id: request_id.clone(),
            key_id: context.caller.key_id(),
            role: context.caller.role().map(|role| role.as_str().to_owned()),
            client_ip: context.caller.client_ip.map(|ip| ip.to_string()),
            endpoint: context.endpoint.to_owned(),
            requested_model: Some(requested.clone()),
            profile: profile.map(|profile| format!("{}@{}", profile.name, profile.version)),
            status: 200,
            ..AuditEvent::default()
        },
        streaming: context.streaming,
        started,
        upstream_started: None,
        first_token: None,
        finished: false,
        review,
        format: request.format.clone(),
        answer: String::new(),
        price: None,
    });
    let preferred_tier = profile.and_then(|profile| profile.tier.as_deref());
    match state
        .router
        .dispatch_preferring(request, preferred_tier, request_uuid.as_u128() as u64)
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
                profile,
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
            let price = state.router.price_of(&dispatch.backend_id);
            let stream = match recorder.take() {
                Some(mut recorder) => {
                    recorder.price = price;
                    recorder.metrics.call_started(&dispatch.backend_id);
                    recorder.in_flight_on = Some(dispatch.backend_id.clone());
                    let event = &mut recorder.event;
                    event.served_model = Some(dispatch.model.clone());
                    event.tier = Some(dispatch.tier.clone());
                    event.backend = Some(dispatch.backend_id.clone());
                    event.fallbacks = dispatch.fallbacks.clone();
                    event.phi = phi_counts(&dispatch.phi);
                    event.complexity = dispatch
                        .complexity
                        .map(|assessment| assessment.complexity.as_str().to_owned());
                    recorder.upstream_started = Some(dispatch.upstream_started);
                    recorder.first_token = Some(Instant::now());
                    audited(dispatch.stream, recorder)
                }
                None => dispatch.stream,
            };
            Ok(StartedCall {
                request_id,
                model: dispatch.model,
                stream,
                headers,
                review: review_slot,
                price,
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
            let error = match profile {
                _ if error.kind != ErrorKind::NotFound => error,
                Some(profile) => WardError::not_found(format!(
                    "profile '{}' uses model '{}', which no backend here serves; change the profile's model or add a backend for it",
                    profile.name, profile.model
                ))
                .with_param("model"),
                None => not_found(state, &requested),
            };
            let headers = decision_headers(&request_id, profile, &phi, tier.as_deref(), &fallbacks);
            if let Some(mut recorder) = recorder {
                let event = &mut recorder.event;
                event.tier = tier;
                event.fallbacks = fallbacks;
                event.phi = phi_counts(&phi);
                if let Err(failure) = recorder.commit(Err(&error)).await {
                    return Err(ApiError::new(flavor, failure).with_headers(headers));
                }
            }
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

fn phi_counts(phi: &PhiSummary) -> std::collections::BTreeMap<String, u32> {
    let mut counts: std::collections::BTreeMap<String, u32> = phi
        .categories
        .iter()
        .map(|(label, count)| (label.as_str().to_owned(), *count))
        .collect();
    if phi.unscreened.is_some() {
        counts.insert("UNSCREENED".to_owned(), 1);
    }
    counts
}

/// The text a profile's answer may draw its facts from: every message but the system ones.
fn input_text(request: &GenerationRequest) -> String {
    match &request.prompt {
        Prompt::Chat(messages) => messages
            .iter()
            .filter(|message| !matches!(message.role, ChatRole::System | ChatRole::Developer))
            .map(|message| message.content.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        Prompt::Text { text, .. } => text.clone(),
    }
}

/// What a profile call's answer is checked against once it is complete.
struct ReviewPlan {
    profiles: Arc<ProfileSet>,
    profile: String,
    input: String,
    output: String,
    result: ReviewSlot,
}

impl ReviewPlan {
    /// Text-free flags and the quality score, for the record; the review itself is left in
    /// the slot for the handler.
    fn outcome(&self) -> Option<(Vec<String>, f64)> {
        let profile = self.profiles.get(&self.profile)?;
        let review = ward_clinical::review(profile, CodeSet::builtin(), &self.input, &self.output);
        let outcome = (review.flags(), review.quality.score);
        let _ = self.result.set(review);
        Some(outcome)
    }
}

/// The request as the audit content keeps it.
fn request_content(request: &GenerationRequest) -> serde_json::Value {
    match &request.prompt {
        Prompt::Chat(messages) => json!({"model": request.model, "messages": messages}),
        Prompt::Text { text, system, .. } => {
            json!({"model": request.model, "prompt": text, "system": system})
        }
    }
}

fn millis(duration: std::time::Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The record of one call in progress. Dropped unfinished (the client went away), it still
/// writes its record, without waiting.
struct Recorder {
    audit: AuditLog,
    auth: Option<std::sync::Arc<Auth>>,
    event: AuditEvent,
    content: Option<AuditContent>,
    streaming: bool,
    started: Instant,
    upstream_started: Option<Instant>,
    first_token: Option<Instant>,
    finished: bool,
    review: Option<ReviewPlan>,
    /// The requested output format, and the answer so far when it is not free text.
    format: OutputFormat,
    answer: String,
    /// The serving backend's token prices, for the record's cost.
    price: Option<TokenPrice>,
    metrics: Arc<crate::metrics::Metrics>,
    traces: Option<Arc<SpanExporter>>,
    /// The backend whose in-flight gauge this call holds up.
    in_flight_on: Option<String>,
    /// Ends the call's latency when the answer is sent; `None`: when the record is committed.
    answer_clock: Option<AnswerClock>,
}

impl Recorder {
    /// The record's latency as of now. The upstream's share is `measured` at the socket when
    /// the backend could tell, else the time since dispatch.
    fn stamp_latency(&mut self, measured: Option<std::time::Duration>) {
        let now = Instant::now();
        let total = millis(now - self.started);
        let upstream = match (self.upstream_started, measured) {
            (Some(_), Some(measured)) => Some(millis(measured)),
            (at, _) => at.map(|at| millis(now - at)),
        };
        self.event.latency = Latency {
            total_ms: total,
            first_token_ms: self.first_token.map(|at| millis(at - self.started)),
            upstream_ms: upstream,
            overhead_ms: upstream.map(|upstream| (total - upstream).max(0.0)),
        };
    }

    /// Writes the record and waits for the commit; an answer is only completed after this.
    async fn commit(
        &mut self,
        result: Result<&GenerationSummary, &WardError>,
    ) -> Result<(), WardError> {
        self.finished = true;
        self.stamp_latency(result.ok().and_then(|summary| summary.timings.upstream));
        match result {
            Ok(summary) => {
                if let Some((flags, score)) = self.review.as_ref().and_then(ReviewPlan::outcome) {
                    self.event.output_flags = flags;
                    self.event.quality_score = Some(score);
                }
                self.event.prompt_tokens = Some(summary.usage.prompt_tokens);
                self.event.completion_tokens = Some(summary.usage.completion_tokens);
                self.event.cost_usd = self.price.map(|price| price.cost_usd(&summary.usage));
                if !self.format.is_text()
                    && crate::structured::conforming_answer(&self.format, &self.answer).is_err()
                {
                    // The client never gets this answer: it is asked for again or refused.
                    let kind = ErrorKind::BackendUnavailable;
                    self.event
                        .output_flags
                        .push(FORMAT_UNSATISFIED_FLAG.to_owned());
                    self.event.outcome = Outcome::Failed;
                    self.event.error = Some(kind.code().to_owned());
                    self.event.status = status_of(kind).0.as_u16();
                }
                if let (Some(auth), Some(key)) = (&self.auth, &self.event.key_id) {
                    auth.spend(key, u64::from(summary.usage.total_tokens()));
                }
            }
            Err(error) => {
                self.event.error = Some(error.kind.code().to_owned());
                self.event.outcome = match error.kind {
                    ErrorKind::BackendUnavailable
                    | ErrorKind::BackendTimeout
                    | ErrorKind::Internal => Outcome::Failed,
                    _ => Outcome::Refused,
                };
                if !(self.streaming && self.upstream_started.is_some()) {
                    self.event.status = status_of(error.kind).0.as_u16();
                }
            }
        }
        let event = std::mem::take(&mut self.event);
        let latency = self.metrics.observe_call(&event, result.ok(), self.started);
        let span = self.traces.as_ref().map(|_| CallSpan::of(&event));
        self.leave_in_flight();
        let writing = Instant::now();
        let written = self.audit.append(event, self.content.as_ref()).await;
        let commit_wait = writing.elapsed();
        self.metrics.observe_audit_write(commit_wait);
        match &self.answer_clock {
            Some(clock) => clock.observe_at_end(self.metrics.clone(), latency),
            None => self.metrics.observe_latency(latency, Instant::now()),
        }
        if let (Some(traces), Some(span)) = (&self.traces, span) {
            traces.export(span, commit_wait);
        }
        written.map(|_| ()).map_err(|error| {
            tracing::error!(error = %error.message, "audit record not written; failing the call");
            WardError::internal("the audit record of this call could not be written")
        })
    }
}

impl Recorder {
    fn leave_in_flight(&mut self) {
        if let Some(backend) = self.in_flight_on.take() {
            self.metrics.call_ended(&backend);
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        self.stamp_latency(None);
        self.event.outcome = Outcome::ClientClosed;
        self.event.status = 499;
        let event = std::mem::take(&mut self.event);
        let latency = self.metrics.observe_call(&event, None, self.started);
        self.metrics.observe_latency(latency, Instant::now());
        if let Some(traces) = &self.traces {
            traces.export(CallSpan::of(&event), std::time::Duration::ZERO);
        }
        self.leave_in_flight();
        self.audit.append_detached(event, self.content.as_ref());
    }
}

/// The backend's stream with its record: text is kept for the content, and `Done` (or an error)
/// is passed on only once the record is committed.
fn audited(mut stream: GenerationStream, mut recorder: Recorder) -> GenerationStream {
    Box::pin(async_stream::stream! {
        while let Some(event) = stream.next().await {
            match event {
                Ok(GenerationEvent::Delta(text)) => {
                    if let Some(content) = &mut recorder.content {
                        content.response.push_str(&text);
                    }
                    if let Some(review) = &mut recorder.review {
                        review.output.push_str(&text);
                    }
                    if !recorder.format.is_text() {
                        recorder.answer.push_str(&text);
                    }
                    yield Ok(GenerationEvent::Delta(text));
                }
                Ok(GenerationEvent::Done(summary)) => {
                    match recorder.commit(Ok(&summary)).await {
                        Ok(()) => yield Ok(GenerationEvent::Done(summary)),
                        Err(error) => yield Err(error),
                    }
                    return;
                }
                Err(error) => {
                    let failure = recorder.commit(Err(&error)).await.err();
                    yield Err(failure.unwrap_or(error));
                    return;
                }
            }
        }
        let error = WardError::new(
            ErrorKind::BackendUnavailable,
            "the backend ended the generation without finishing it",
        );
        let failure = recorder.commit(Err(&error)).await.err();
        yield Err(failure.unwrap_or(error));
    })
}
