//! The `Backend` trait: anything that turns a `GenerationRequest` into a stream of text.
//!
//! The embedded llama.cpp engine implements it in `ward-engine`; remote engines will implement it
//! in `ward-router`. The server only ever sees `Arc<dyn Backend>`, so everything except the engine
//! builds and tests without C++.

use futures::stream::BoxStream;

use crate::chat::{GenerationRequest, GenerationSummary};
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
}
