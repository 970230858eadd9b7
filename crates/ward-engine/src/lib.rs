//! Ward's embedded inference engine: llama.cpp (through the `llama-cpp-2` crate) behind the
//! `ward_core::Backend` trait.
//!
//! This is the only crate that links C++. `ffi` owns every llama.cpp call and runs on one
//! dedicated thread per loaded model; requests queue in front of it. The chat template is rendered
//! with a real Jinja engine (`template`), stop strings are handled in pure Rust (`stop`), and
//! structured output is enforced with a llama.cpp grammar derived from the JSON schema in pure
//! Rust (`grammar`).

mod ffi;
pub mod grammar;
pub mod stop;
pub mod template;

pub use ffi::{EmbeddedEngine, EngineConfig, EngineError};
pub use template::ChatTemplate;
