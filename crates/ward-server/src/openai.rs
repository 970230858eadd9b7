//! The OpenAI API: `POST /v1/chat/completions`, `POST /v1/completions`, `GET /v1/models`, with
//! SSE streaming (`data: …`, then `data: [DONE]`), `stream_options.include_usage`, and
//! `response_format` (checked in `structured`).

use std::convert::Infallible;

use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use axum::Json;
use bytes::Bytes;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use ward_core::{
    ChatMessage, ChatRole, GenerationEvent, GenerationRequest, OutputFormat, Prompt,
    SamplingParams, Usage, WardError,
};

use crate::auth::Caller;
use crate::body::parse_request;
use crate::call::{CallContext, StartedCall};
use crate::error::{error_body, ApiError, ApiFlavor};
use crate::routes::{unix_now, AppState};
use crate::structured;

/// OpenAI's default `max_tokens` for the legacy completions endpoint.
const LEGACY_COMPLETION_MAX_TOKENS: u32 = 16;

#[derive(Debug, Deserialize)]
struct ChatCompletionRequest {
    model: String,
    messages: Vec<WireMessage>,
    #[serde(flatten)]
    streaming: WireStreaming,
    #[serde(flatten)]
    sampling: WireSampling,
}

#[derive(Debug, Deserialize)]
struct CompletionRequest {
    model: String,
    prompt: PromptField,
    #[serde(flatten)]
    streaming: WireStreaming,
    #[serde(flatten)]
    sampling: WireSampling,
}

/// Sampling fields shared by both endpoints; `top_k`, `min_p` and `repeat_penalty` are the
/// extensions llama.cpp's server accepts too.
#[derive(Debug, Default, Deserialize)]
struct WireSampling {
    max_tokens: Option<u32>,
    max_completion_tokens: Option<u32>,
    temperature: Option<f32>,
    top_p: Option<f32>,
    top_k: Option<i32>,
    min_p: Option<f32>,
    repeat_penalty: Option<f32>,
    presence_penalty: Option<f32>,
    frequency_penalty: Option<f32>,
    seed: Option<i64>,
    stop: Option<StopField>,
    n: Option<u32>,
    /// Parsed by `structured::openai_response_format`, which names the faulty field.
    response_format: Option<Value>,
}

/// `stream` and `stream_options`, the same on both endpoints.
#[derive(Debug, Deserialize)]
struct WireStreaming {
    #[serde(default)]
    stream: bool,
    stream_options: Option<StreamOptions>,
}

impl WireStreaming {
    fn include_usage(&self) -> bool {
        self.stream_options
            .as_ref()
            .is_some_and(|options| options.include_usage)
    }
}

#[derive(Debug, Deserialize)]
struct StreamOptions {
    #[serde(default)]
    include_usage: bool,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum StopField {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum PromptField {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
struct WireMessage {
    role: ChatRole,
    #[serde(default)]
    content: Option<WireContent>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum WireContent {
    Text(String),
    Parts(Vec<ContentPart>),
}

#[derive(Debug, Deserialize)]
struct ContentPart {
    #[serde(rename = "type")]
    part_type: String,
    text: Option<String>,
}

impl WireSampling {
    /// Validates the fields and builds the engine-neutral request.
    fn into_request(
        self,
        model: String,
        prompt: Prompt,
        default_max_tokens: Option<u32>,
    ) -> Result<GenerationRequest, WardError> {
        if self.n.unwrap_or(1) != 1 {
            return Err(WardError::invalid_request("only n = 1 is supported").with_param("n"));
        }
        let format = match &self.response_format {
            None | Some(Value::Null) => OutputFormat::Text,
            Some(format) => structured::openai_response_format(format)?,
        };
        check_range("temperature", self.temperature, 0.0, 2.0)?;
        check_range("top_p", self.top_p, 0.0, 1.0)?;
        check_range("min_p", self.min_p, 0.0, 1.0)?;
        check_range("presence_penalty", self.presence_penalty, -2.0, 2.0)?;
        check_range("frequency_penalty", self.frequency_penalty, -2.0, 2.0)?;
        let max_tokens = self
            .max_completion_tokens
            .or(self.max_tokens)
            .or(default_max_tokens);
        if max_tokens == Some(0) {
            return Err(WardError::invalid_request("max_tokens must be at least 1")
                .with_param("max_tokens"));
        }
        let stop = match self.stop {
            None => Vec::new(),
            Some(StopField::One(stop)) => vec![stop],
            Some(StopField::Many(stops)) => stops,
        };
        let sampling = SamplingParams {
            temperature: self.temperature,
            top_p: self.top_p,
            top_k: self.top_k,
            min_p: self.min_p,
            repeat_penalty: self.repeat_penalty,
            repeat_last_n: None,
            presence_penalty: self.presence_penalty,
            frequency_penalty: self.frequency_penalty,
            // OpenAI seeds are any integer; the engine takes 32 bits.
            seed: self.seed.map(|seed| seed as u32),
        };
        Ok(GenerationRequest {
            model,
            prompt,
            sampling,
            max_tokens,
            stop,
            format,
        })
    }
}

fn check_range(field: &str, value: Option<f32>, low: f32, high: f32) -> Result<(), WardError> {
    match value {
        Some(value) if !(low..=high).contains(&value) => Err(WardError::invalid_request(format!(
            "{field} must be between {low} and {high}"
        ))
        .with_param(field)),
        _ => Ok(()),
    }
}

fn flatten_messages(messages: Vec<WireMessage>) -> Result<Vec<ChatMessage>, WardError> {
    if messages.is_empty() {
        return Err(
            WardError::invalid_request("messages must hold at least one message")
                .with_param("messages"),
        );
    }
    messages
        .into_iter()
        .enumerate()
        .map(|(index, message)| {
            let content = match message.content {
                None => String::new(),
                Some(WireContent::Text(text)) => text,
                Some(WireContent::Parts(parts)) => {
                    let mut text = String::new();
                    for part in parts {
                        match (part.part_type.as_str(), part.text) {
                            ("text", Some(piece)) => text.push_str(&piece),
                            _ => {
                                return Err(WardError::invalid_request(
                                    "only text content parts are supported",
                                )
                                .with_param(format!("messages[{index}].content")))
                            }
                        }
                    }
                    text
                }
            };
            Ok(ChatMessage::new(message.role, content))
        })
        .collect()
}

fn openai_error(error: WardError) -> ApiError {
    ApiError::new(ApiFlavor::OpenAi, error)
}

fn usage_json(usage: &Usage) -> Value {
    json!({
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens(),
    })
}

/// Which of the two endpoints a response is for.
#[derive(Clone, Copy)]
enum Endpoint {
    Chat,
    Completion,
}

impl Endpoint {
    fn id_prefix(self) -> &'static str {
        match self {
            Endpoint::Chat => "chatcmpl-",
            Endpoint::Completion => "cmpl-",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Endpoint::Chat => "/v1/chat/completions",
            Endpoint::Completion => "/v1/completions",
        }
    }

    fn object(self, streaming: bool) -> &'static str {
        match (self, streaming) {
            (Endpoint::Chat, false) => "chat.completion",
            (Endpoint::Chat, true) => "chat.completion.chunk",
            (Endpoint::Completion, _) => "text_completion",
        }
    }

    fn choice(self, text: Value, finish_reason: Value, streaming: bool) -> Value {
        match (self, streaming) {
            (Endpoint::Chat, false) => {
                json!({"index": 0, "message": {"role": "assistant", "content": text}, "logprobs": null, "finish_reason": finish_reason})
            }
            (Endpoint::Chat, true) => {
                let delta = if text.is_null() {
                    json!({})
                } else {
                    json!({"content": text})
                };
                json!({"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason})
            }
            (Endpoint::Completion, _) => {
                json!({"index": 0, "text": if text.is_null() { json!("") } else { text }, "logprobs": null, "finish_reason": finish_reason})
            }
        }
    }
}

pub async fn chat_completions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: ChatCompletionRequest = parse_request(body, ApiFlavor::OpenAi)?;
    let messages = flatten_messages(request.messages).map_err(openai_error)?;
    let generation = request
        .sampling
        .into_request(request.model, Prompt::Chat(messages), None)
        .map_err(openai_error)?;
    respond(
        &state,
        &caller,
        generation,
        Endpoint::Chat,
        &request.streaming,
    )
    .await
}

pub async fn completions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: CompletionRequest = parse_request(body, ApiFlavor::OpenAi)?;
    let text = match request.prompt {
        PromptField::One(prompt) => prompt,
        PromptField::Many(mut prompts) if prompts.len() == 1 => prompts.remove(0),
        PromptField::Many(_) => {
            return Err(openai_error(
                WardError::invalid_request("prompt must be one string").with_param("prompt"),
            ))
        }
    };
    let prompt = Prompt::Text {
        text,
        system: None,
        raw: true,
    };
    let generation = request
        .sampling
        .into_request(request.model, prompt, Some(LEGACY_COMPLETION_MAX_TOKENS))
        .map_err(openai_error)?;
    respond(
        &state,
        &caller,
        generation,
        Endpoint::Completion,
        &request.streaming,
    )
    .await
}

async fn respond(
    state: &AppState,
    caller: &Caller,
    generation: GenerationRequest,
    endpoint: Endpoint,
    streaming: &WireStreaming,
) -> Result<Response, ApiError> {
    let context = CallContext {
        caller,
        endpoint: endpoint.path(),
        streaming: streaming.stream,
        flavor: ApiFlavor::OpenAi,
        profile_model: None,
    };
    let call = structured::start(state, context, generation).await?;
    if streaming.stream {
        let headers = call.headers();
        let events = sse_events(call, endpoint, streaming.include_usage());
        return Ok((headers, Sse::new(events)).into_response());
    }
    let id = format!("{}{}", endpoint.id_prefix(), call.request_id);
    let model = call.model.clone();
    let (text, summary, headers) = call.collect().await.map_err(openai_error)?;
    let body = json!({
        "id": id,
        "object": endpoint.object(false),
        "created": unix_now(),
        "model": model,
        "choices": [endpoint.choice(json!(text), json!(summary.finish_reason.as_str()), false)],
        "usage": usage_json(&summary.usage),
        "system_fingerprint": null,
    });
    Ok((headers, Json(body)).into_response())
}

fn sse_events(
    call: StartedCall,
    endpoint: Endpoint,
    include_usage: bool,
) -> impl futures::Stream<Item = Result<Event, Infallible>> {
    let id = format!("{}{}", endpoint.id_prefix(), call.request_id);
    let model = call.model;
    let created = unix_now();
    let mut stream = call.stream;
    async_stream::stream! {
        let chunk = |choices: Value, usage: Value| {
            let mut chunk = json!({"id": id, "object": endpoint.object(true), "created": created, "model": model, "choices": choices});
            if include_usage {
                chunk["usage"] = usage;
            }
            Event::default().data(chunk.to_string())
        };
        if matches!(endpoint, Endpoint::Chat) {
            let opening = json!([{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": null, "finish_reason": null}]);
            yield Ok(chunk(opening, Value::Null));
        }
        while let Some(event) = stream.next().await {
            match event {
                Ok(GenerationEvent::Delta(text)) => {
                    yield Ok(chunk(json!([endpoint.choice(json!(text), Value::Null, true)]), Value::Null));
                }
                Ok(GenerationEvent::Done(summary)) => {
                    let reason = json!(summary.finish_reason.as_str());
                    yield Ok(chunk(json!([endpoint.choice(Value::Null, reason, true)]), Value::Null));
                    if include_usage {
                        yield Ok(chunk(json!([]), usage_json(&summary.usage)));
                    }
                    break;
                }
                Err(error) => {
                    yield Ok(Event::default().data(error_body(ApiFlavor::OpenAi, &error).to_string()));
                    break;
                }
            }
        }
        yield Ok(Event::default().data("[DONE]"));
    }
}

pub async fn models(State(state): State<AppState>) -> Json<Value> {
    let auto =
        json!({"id": ward_router::AUTO_MODEL, "object": "model", "created": 0, "owned_by": "ward"});
    let data: Vec<Value> = state
        .router
        .backends()
        .iter()
        .flat_map(|backend| backend.loaded_models())
        .map(|card| json!({"id": card.name, "object": "model", "created": card.created_unix, "owned_by": "ward"}))
        .chain(std::iter::once(auto))
        .chain(state.profiles.iter().map(|profile| {
            json!({"id": profile.name, "object": "model", "created": 0, "owned_by": "ward-profile"})
        }))
        .collect();
    Json(json!({"object": "list", "data": data}))
}
