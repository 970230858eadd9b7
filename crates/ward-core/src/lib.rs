//! Ward's shared vocabulary: chat and generation types, the `Backend` trait that decouples the
//! server from the engines behind it, the model catalogue seen by clients, and the closed
//! `ErrorKind` every library error maps to.
//!
//! This crate does no IO and owns no runtime, so every other crate can depend on it.

pub mod backend;
pub mod chat;
pub mod error;
pub mod model;

pub use backend::{Backend, GenerationEvent, GenerationStream, TokenPrice};
pub use chat::{
    ChatMessage, ChatRole, FinishReason, GenerationRequest, GenerationSummary, OutputFormat,
    Prompt, SamplingParams, Timings, Usage,
};
pub use error::{ErrorKind, WardError};
pub use model::{ModelCard, ModelCatalog};
