//! The `Backend` trait: anything that turns a `GenerationRequest` into a stream of text.
//!
//! The embedded llama.cpp engine implements it in `ward-engine`; remote engines will implement it
//! in `ward-router`. The server only ever sees `Arc<dyn Backend>`, so everything except the engine
//! builds and tests without C++.

use futures::stream::BoxStream;

use crate::chat::{GenerationRequest, GenerationSummary, Usage};
use crate::error::WardError;
use crate::model::ModelCard;

/// One step of a generation stream: a piece of text, then exactly one `Done` at the end.
#[derive(Debug, Clone, PartialEq)]
pub enum GenerationEvent {
    Delta(String),
    Done(GenerationSummary),
}

/// Text as it is generated. Dropping the stream cancels the generation.
pub type GenerationStream = BoxStream<'static, Result<GenerationEvent, WardError>>;

/// What a backend charges per million tokens, as a cloud API's price list says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenPrice {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
}

impl TokenPrice {
    /// The price of one call's tokens, in US dollars.
    pub fn cost_usd(&self, usage: &Usage) -> f64 {
        (f64::from(usage.prompt_tokens) * self.input_per_mtok
            + f64::from(usage.completion_tokens) * self.output_per_mtok)
            / 1_000_000.0
    }
}

#[async_trait::async_trait]
pub trait Backend: Send + Sync {
    /// Stable identifier, reported in `x-ward-backend` and logs.
    fn backend_id(&self) -> &str;

    /// The models this backend serves right now (loaded, ready to answer). Borrowed: the
    /// server consults it on every request.
    fn loaded_models(&self) -> &[ModelCard];

    /// Whether the backend can take requests.
    fn is_ready(&self) -> bool;

    /// Starts a generation. Errors before the first token (unknown model, prompt too long,
    /// engine down) come back here; later ones arrive in the stream.
    async fn generate(&self, request: GenerationRequest) -> Result<GenerationStream, WardError>;

    /// Its token prices, when calls are charged per token (cloud APIs); owned hardware has none.
    fn price(&self) -> Option<TokenPrice> {
        None
    }
}
