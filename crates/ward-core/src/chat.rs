//! Chat and generation types shared by the server (which parses wire formats into them) and the
//! backends (which serve them).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Who said a message in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    System,
    Developer,
    User,
    Assistant,
    Tool,
}

impl ChatRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ChatRole::System => "system",
            ChatRole::Developer => "developer",
            ChatRole::User => "user",
            ChatRole::Assistant => "assistant",
            ChatRole::Tool => "tool",
        }
    }
}

/// One message of a conversation, its content already flattened to text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: ChatRole,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: ChatRole, content: impl Into<String>) -> Self {
        ChatMessage {
            role,
            content: content.into(),
        }
    }
}

/// What the model is asked to continue: a conversation rendered through the model's chat
/// template, or raw text passed as is.
#[derive(Debug, Clone, PartialEq)]
pub enum Prompt {
    Chat(Vec<ChatMessage>),
    Text {
        text: String,
        system: Option<String>,
        raw: bool,
    },
}

/// Sampling settings; `None` means the backend's default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SamplingParams {
    pub temperature: Option<f32>,
    pub top_p: Option<f32>,
    pub top_k: Option<i32>,
    pub min_p: Option<f32>,
    pub repeat_penalty: Option<f32>,
    pub repeat_last_n: Option<i32>,
    pub presence_penalty: Option<f32>,
    pub frequency_penalty: Option<f32>,
    pub seed: Option<u32>,
}

/// A request for generation, independent of the wire format it arrived in.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationRequest {
    /// The model name the client asked for, resolved by the backend.
    pub model: String,
    pub prompt: Prompt,
    pub sampling: SamplingParams,
    /// Upper bound on generated tokens; `None` lets the backend use the context that is left.
    pub max_tokens: Option<u32>,
    /// Generation stops before any of these strings; they are not part of the output.
    pub stop: Vec<String>,
    /// The shape the answer must have; `Text` unless the client asked for JSON.
    pub format: OutputFormat,
}

/// The shape an answer must have (OpenAI `response_format`, Ollama `format`).
///
/// Backends enforce it as far as they can (the embedded engine with a grammar, a remote one by
/// passing it upstream); the server validates every answer against it in any case.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum OutputFormat {
    /// Free text.
    #[default]
    Text,
    /// One JSON object.
    JsonObject,
    /// JSON that conforms to `schema` (a JSON Schema the server has already compiled once).
    JsonSchema {
        /// The schema's name, as OpenAI requires one.
        name: String,
        schema: serde_json::Value,
        /// The client's `strict` flag, passed on upstream; Ward validates either way.
        strict: bool,
    },
}

impl OutputFormat {
    pub fn is_text(&self) -> bool {
        matches!(self, OutputFormat::Text)
    }
}

impl GenerationRequest {
    /// A chat request with default sampling, no token limit, no stop strings and free text.
    pub fn chat(model: impl Into<String>, messages: Vec<ChatMessage>) -> Self {
        GenerationRequest {
            model: model.into(),
            prompt: Prompt::Chat(messages),
            sampling: SamplingParams::default(),
            max_tokens: None,
            stop: Vec::new(),
            format: OutputFormat::Text,
        }
    }
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model ended its turn or a stop string matched.
    Stop,
    /// `max_tokens` or the context window was reached.
    Length,
    /// The client went away or the server shut down.
    Cancelled,
}

impl FinishReason {
    /// The OpenAI and Ollama spelling (`stop` / `length`).
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::Cancelled => "cancelled",
        }
    }
}

/// Token counts of one generation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

impl Usage {
    pub fn total_tokens(&self) -> u32 {
        self.prompt_tokens + self.completion_tokens
    }
}

/// Where the time of one generation went.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// Waiting for the backend (queue) and loading.
    pub queued: Duration,
    /// Evaluating the prompt.
    pub prompt_eval: Duration,
    /// Generating the completion.
    pub generation: Duration,
    /// How long the backend had the request, measured at its connection's socket: from the
    /// request's last byte sent to the answer's last byte received, plus any time on replicas
    /// that failed before. `None` where a socket cannot tell (in-process engines, HTTP/2).
    pub upstream: Option<Duration>,
}

/// The end of a generation: why it stopped, what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationSummary {
    pub finish_reason: FinishReason,
    pub usage: Usage,
    pub timings: Timings,
}
