//! The Ollama API: `POST /api/chat` and `POST /api/generate` (NDJSON streaming by default, as
//! Ollama does), `GET /api/tags`, `POST /api/show`, `GET /api/ps`, `GET /api/version`; `format`
//! (structured output) is checked in `structured`.
//! Durations are reported in nanoseconds, as Ollama reports them.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use axum::Json;
use bytes::Bytes;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use ward_core::{
    ChatMessage, ChatRole, GenerationEvent, GenerationRequest, GenerationSummary, ModelCard,
    OutputFormat, Prompt, SamplingParams, WardError,
};

use crate::auth::Caller;
use crate::body::parse_request;
use crate::call::{CallContext, StartedCall};
use crate::error::{error_body, ApiError, ApiFlavor};
use crate::routes::{rfc3339, rfc3339_unix, AppState};
use crate::structured;

#[derive(Debug, Deserialize)]
struct ChatRequest {
    model: String,
    #[serde(default)]
    messages: Vec<OllamaMessage>,
    stream: Option<bool>,
    #[serde(default)]
    options: OllamaOptions,
    format: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct GenerateRequest {
    model: String,
    #[serde(default)]
    prompt: String,
    system: Option<String>,
    #[serde(default)]
    raw: bool,
    stream: Option<bool>,
    #[serde(default)]
    options: OllamaOptions,
    format: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct OllamaMessage {
    role: ChatRole,
    #[serde(default)]
    content: String,
    #[serde(default)]
    images: Option<Vec<Value>>,
}

#[derive(Debug, Default, Deserialize)]
struct OllamaOptions {
    temperature: Option<f32>,
    top_p: Option<f32>,
    top_k: Option<i32>,
    min_p: Option<f32>,
    repeat_penalty: Option<f32>,
    repeat_last_n: Option<i32>,
    presence_penalty: Option<f32>,
    frequency_penalty: Option<f32>,
    seed: Option<i64>,
    /// -1: no limit; -2: fill the context.
    num_predict: Option<i64>,
    stop: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
struct ShowRequest {
    model: Option<String>,
    name: Option<String>,
}

impl OllamaOptions {
    /// Builds the engine-neutral request; `num_predict` of -1 or -2 means no limit.
    fn into_request(
        self,
        model: String,
        prompt: Prompt,
        format: OutputFormat,
    ) -> GenerationRequest {
        let sampling = SamplingParams {
            temperature: self.temperature,
            top_p: self.top_p,
            top_k: self.top_k,
            min_p: self.min_p,
            repeat_penalty: self.repeat_penalty,
            repeat_last_n: self.repeat_last_n,
            presence_penalty: self.presence_penalty,
            frequency_penalty: self.frequency_penalty,
            seed: self.seed.map(|seed| seed as u32),
        };
        let max_tokens = self
            .num_predict
            .filter(|limit| *limit > 0)
            .map(|limit| limit.min(u32::MAX as i64) as u32);
        GenerationRequest {
            model,
            prompt,
            sampling,
            max_tokens,
            stop: self.stop.unwrap_or_default(),
            format,
        }
    }
}

fn ollama_error(error: WardError) -> ApiError {
    ApiError::new(ApiFlavor::Ollama, error)
}

fn output_format(format: &Option<Value>) -> Result<OutputFormat, ApiError> {
    structured::ollama_format(format.as_ref()).map_err(ollama_error)
}

/// Which endpoint a response is for: chat answers in `message`, generate in `response`.
#[derive(Clone, Copy)]
enum Endpoint {
    Chat,
    Generate,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Endpoint::Chat => "/api/chat",
            Endpoint::Generate => "/api/generate",
        }
    }

    fn body(self, model: &str, text: &str, done: bool) -> Value {
        let mut body = json!({"model": model, "created_at": rfc3339(std::time::SystemTime::now()), "done": done});
        match self {
            Endpoint::Chat => body["message"] = json!({"role": "assistant", "content": text}),
            Endpoint::Generate => body["response"] = json!(text),
        }
        body
    }

    fn final_body(
        self,
        model: &str,
        text: &str,
        summary: &GenerationSummary,
        started: Instant,
    ) -> Value {
        let nanos = |duration: Duration| duration.as_nanos() as u64;
        let mut body = self.body(model, text, true);
        body["done_reason"] = json!(summary.finish_reason.as_str());
        body["total_duration"] = json!(nanos(started.elapsed()));
        body["load_duration"] = json!(nanos(summary.timings.queued));
        body["prompt_eval_count"] = json!(summary.usage.prompt_tokens);
        body["prompt_eval_duration"] = json!(nanos(summary.timings.prompt_eval));
        body["eval_count"] = json!(summary.usage.completion_tokens);
        body["eval_duration"] = json!(nanos(summary.timings.generation));
        body
    }
}

pub async fn chat(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let request: ChatRequest = parse_request(body, ApiFlavor::Ollama)?;
    let format = output_format(&request.format)?;
    if request.messages.is_empty() {
        return Err(ollama_error(
            WardError::invalid_request("messages must hold at least one message")
                .with_param("messages"),
        ));
    }
    if request.messages.iter().any(|message| {
        message
            .images
            .as_ref()
            .is_some_and(|images| !images.is_empty())
    }) {
        return Err(ollama_error(
            WardError::invalid_request("images are not supported").with_param("messages"),
        ));
    }
    let messages = request
        .messages
        .into_iter()
        .map(|message| ChatMessage::new(message.role, message.content))
        .collect();
    let generation = request
        .options
        .into_request(request.model, Prompt::Chat(messages), format);
    respond(
        &state,
        &caller,
        generation,
        Endpoint::Chat,
        request.stream.unwrap_or(true),
        started,
    )
    .await
}

pub async fn generate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let request: GenerateRequest = parse_request(body, ApiFlavor::Ollama)?;
    let format = output_format(&request.format)?;
    if request.prompt.is_empty() {
        return Err(ollama_error(
            WardError::invalid_request("prompt is empty").with_param("prompt"),
        ));
    }
    let prompt = Prompt::Text {
        text: request.prompt,
        system: request.system,
        raw: request.raw,
    };
    let generation = request.options.into_request(request.model, prompt, format);
    respond(
        &state,
        &caller,
        generation,
        Endpoint::Generate,
        request.stream.unwrap_or(true),
        started,
    )
    .await
}

async fn respond(
    state: &AppState,
    caller: &Caller,
    generation: GenerationRequest,
    endpoint: Endpoint,
    streaming: bool,
    started: Instant,
) -> Result<Response, ApiError> {
    let context = CallContext {
        caller,
        endpoint: endpoint.path(),
        streaming,
        flavor: ApiFlavor::Ollama,
        profile_model: None,
    };
    let call = structured::start(state, context, generation).await?;
    if streaming {
        let headers = call.headers();
        let body = Body::from_stream(ndjson_lines(call, endpoint, started));
        return Ok((
            headers,
            [(header::CONTENT_TYPE, "application/x-ndjson")],
            body,
        )
            .into_response());
    }
    let model = call.model.clone();
    let (text, summary, headers) = call.collect().await.map_err(ollama_error)?;
    Ok((
        headers,
        Json(endpoint.final_body(&model, &text, &summary, started)),
    )
        .into_response())
}

fn ndjson_lines(
    call: StartedCall,
    endpoint: Endpoint,
    started: Instant,
) -> impl futures::Stream<Item = Result<Bytes, std::convert::Infallible>> {
    let model = call.model;
    let mut stream = call.stream;
    let line = |value: Value| {
        let mut line = value.to_string();
        line.push('\n');
        Ok(Bytes::from(line))
    };
    async_stream::stream! {
        while let Some(event) = stream.next().await {
            match event {
                Ok(GenerationEvent::Delta(text)) => yield line(endpoint.body(&model, &text, false)),
                Ok(GenerationEvent::Done(summary)) => {
                    yield line(endpoint.final_body(&model, "", &summary, started));
                    break;
                }
                Err(error) => {
                    yield line(error_body(ApiFlavor::Ollama, &error));
                    break;
                }
            }
        }
    }
}

fn details(card: &ModelCard) -> Value {
    json!({
        "parent_model": "",
        "format": "gguf",
        "family": card.architecture,
        "families": [card.architecture],
        "parameter_size": card.parameter_size.clone().unwrap_or_default(),
        "quantization_level": card.quantization.clone().unwrap_or_default(),
    })
}

fn tag_entry(card: &ModelCard) -> Value {
    json!({
        "name": card.name,
        "model": card.name,
        "modified_at": rfc3339_unix(card.created_unix),
        "size": card.size_bytes,
        "digest": card.sha256,
        "details": details(card),
    })
}

pub async fn tags(State(state): State<AppState>) -> Json<Value> {
    // The model store, plus what remote backends serve that the store does not hold.
    let mut cards = state.catalog.list();
    for card in state
        .router
        .backends()
        .iter()
        .flat_map(|backend| backend.loaded_models())
    {
        if !cards.iter().any(|stored| stored.name == card.name) {
            cards.push(card.clone());
        }
    }
    let models: Vec<Value> = cards.iter().map(tag_entry).collect();
    Json(json!({"models": models}))
}

pub async fn ps(State(state): State<AppState>) -> Json<Value> {
    let models: Vec<Value> = state
        .router
        .backends()
        .iter()
        .flat_map(|backend| backend.loaded_models())
        .map(|card| {
            let mut entry = tag_entry(card);
            // Ward keeps its models loaded for the life of the process.
            entry["expires_at"] = json!("9999-12-31T23:59:59Z");
            entry["size_vram"] = json!(0);
            entry["context_length"] = json!(card.context_length);
            entry
        })
        .collect();
    Json(json!({"models": models}))
}

pub async fn show(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let request: ShowRequest = parse_request(body, ApiFlavor::Ollama)?;
    let Some(requested) = request.model.or(request.name) else {
        return Err(ollama_error(
            WardError::invalid_request("`model` is required").with_param("model"),
        ));
    };
    let card = state
        .router
        .backends()
        .iter()
        .flat_map(|backend| backend.loaded_models())
        .find(|card| card.answers_to(&requested))
        .cloned()
        .or_else(|| {
            let stored = state.catalog.list();
            stored.into_iter().find(|card| card.answers_to(&requested))
        })
        .ok_or_else(|| {
            ollama_error(
                WardError::not_found(format!("model '{requested}' not found")).with_param("model"),
            )
        })?;
    let mut model_info = serde_json::Map::new();
    model_info.insert("general.architecture".into(), json!(card.architecture));
    model_info.insert(
        format!("{}.context_length", card.architecture),
        json!(card.context_length),
    );
    Ok(Json(json!({
        "license": "",
        "modelfile": "",
        "parameters": "",
        "template": card.chat_template.clone().unwrap_or_default(),
        "details": details(&card),
        "model_info": model_info,
        "capabilities": ["completion"],
        "modified_at": rfc3339_unix(card.created_unix),
    })))
}

pub async fn version() -> Json<Value> {
    Json(json!({"version": env!("CARGO_PKG_VERSION")}))
}
