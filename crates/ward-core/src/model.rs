//! What clients see of a model: `GET /v1/models`, `GET /api/tags`, `POST /api/show`.

use serde::{Deserialize, Serialize};

/// A model as listed to clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// The canonical name, e.g. `qwen2.5-coder:1.5b`.
    pub name: String,
    /// Other names that resolve to this model.
    pub aliases: Vec<String>,
    pub size_bytes: u64,
    pub sha256: String,
    /// GGUF `general.architecture`, e.g. `qwen2`.
    pub architecture: String,
    pub context_length: u32,
    /// Parameter count label such as `1.5B`, when known.
    pub parameter_size: Option<String>,
    /// Quantisation such as `Q4_K_M`, when known.
    pub quantization: Option<String>,
    pub has_chat_template: bool,
    /// The chat template itself, for `/api/show`.
    pub chat_template: Option<String>,
    /// Unix seconds of when the model entered the store.
    pub created_unix: i64,
}

impl ModelCard {
    /// A card known only by name (a model served by a remote engine).
    pub fn named(name: impl Into<String>) -> Self {
        ModelCard {
            name: name.into(),
            aliases: Vec::new(),
            size_bytes: 0,
            sha256: String::new(),
            architecture: String::new(),
            context_length: 0,
            parameter_size: None,
            quantization: None,
            has_chat_template: true,
            chat_template: None,
            created_unix: 0,
        }
    }

    /// Whether `requested` names this model, by name or alias; a missing `:latest` tag is allowed.
    pub fn answers_to(&self, requested: &str) -> bool {
        let requested = requested.strip_suffix(":latest").unwrap_or(requested);
        self.name == requested || self.aliases.iter().any(|alias| alias == requested)
    }
}

/// The models a deployment can serve; implemented by the model store.
pub trait ModelCatalog: Send + Sync {
    fn list(&self) -> Vec<ModelCard>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card() -> ModelCard {
        ModelCard {
            name: "qwen2.5-coder:1.5b".into(),
            aliases: vec!["qwen".into()],
            size_bytes: 1,
            sha256: String::new(),
            architecture: "qwen2".into(),
            context_length: 4096,
            parameter_size: None,
            quantization: None,
            has_chat_template: true,
            chat_template: None,
            created_unix: 0,
        }
    }

    #[test]
    fn answers_to_name_alias_and_latest_tag() {
        let card = card();
        assert!(card.answers_to("qwen2.5-coder:1.5b"));
        assert!(card.answers_to("qwen"));
        assert!(card.answers_to("qwen:latest"));
        assert!(!card.answers_to("llama3"));
    }
}
