//! Pulls from `file:` references, and the store operations around them.

use std::fs;

use ward_core::model::ModelCatalog;
use ward_store::{ModelStore, PullOptions, StoreError};

use crate::{assert_store_empty, files_in, store_root, write_model, RecordingProgress};

#[test]
fn imports_a_file_then_lists_resolves_and_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(store_root(&dir)).unwrap();
    let source = dir.path().join("My-Model.gguf");
    let (bytes, sha256) = write_model(&source, 50_000);
    let reference = format!("file:{}", source.display()).parse().unwrap();

    let progress = RecordingProgress::default();
    let manifest = store
        .pull(&reference, &PullOptions::default(), &progress)
        .unwrap();

    assert_eq!(manifest.name, "my-model");
    assert_eq!(manifest.aliases, Vec::<String>::new());
    assert_eq!(manifest.source, format!("file:{}", source.display()));
    assert_eq!(manifest.sha256, sha256);
    assert_eq!(manifest.file, format!("sha256-{sha256}.gguf"));
    assert_eq!(manifest.size_bytes, bytes.len() as u64);
    assert_eq!(manifest.architecture, "llama");
    assert_eq!(manifest.context_length, 2048);
    assert!(manifest.has_chat_template);
    assert_eq!(manifest.chat_template.as_deref(), Some("{{ messages }}"));
    assert_eq!(manifest.parameter_size.as_deref(), Some("1K"));
    assert_eq!(manifest.quantization.as_deref(), Some("Q4_K_M"));
    assert!(manifest.created_unix > 0);
    assert_eq!(progress.advanced_bytes(), bytes.len() as u64);
    assert_eq!(
        progress.transfers(),
        vec![("My-Model.gguf".to_string(), Some(bytes.len() as u64))]
    );

    let model_path = store.model_path(&manifest);
    assert!(model_path.is_absolute());
    assert!(model_path.starts_with(store.root().join("blobs")));
    assert_eq!(fs::read(&model_path).unwrap(), bytes);
    assert_eq!(files_in(store.root(), "manifests"), ["my-model.json"]);
    assert_eq!(files_in(store.root(), "partial"), Vec::<String>::new());

    assert_eq!(store.list().unwrap(), vec![manifest.clone()]);
    assert_eq!(store.resolve("my-model").unwrap(), Some(manifest.clone()));
    assert_eq!(
        store.resolve("my-model:latest").unwrap(),
        Some(manifest.clone())
    );
    assert_eq!(store.resolve("other").unwrap(), None);
    let cards = ModelCatalog::list(&store);
    assert_eq!(cards, vec![manifest.to_card()]);

    // A second model with the same bytes shares the blob, and keeps it alive on removal.
    let options = PullOptions {
        name: Some("copy:v2".into()),
        ..PullOptions::default()
    };
    let copy = store
        .pull(&reference, &options, &RecordingProgress::default())
        .unwrap();
    assert_eq!(copy.name, "copy:v2");
    assert_eq!(copy.file, manifest.file);
    assert_eq!(files_in(store.root(), "blobs").len(), 1);
    assert_eq!(
        files_in(store.root(), "manifests"),
        ["copy_v2.json", "my-model.json"]
    );
    let names: Vec<String> = store.list().unwrap().into_iter().map(|m| m.name).collect();
    assert_eq!(names, ["copy:v2", "my-model"]);

    assert!(store.remove("my-model").unwrap());
    assert!(model_path.exists(), "the blob is still used by copy:v2");
    assert!(store.remove("copy:v2").unwrap());
    assert!(!model_path.exists(), "the last user of the blob is gone");
    assert!(!store.remove("copy:v2").unwrap());
    assert_store_empty(store.root());
}

#[test]
fn reopening_the_store_sees_the_same_models() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("model.gguf");
    write_model(&source, 0);
    let reference = format!("file:{}", source.display()).parse().unwrap();
    let pulled = ModelStore::open(store_root(&dir))
        .unwrap()
        .pull(
            &reference,
            &PullOptions::default(),
            &RecordingProgress::default(),
        )
        .unwrap();
    let reopened = ModelStore::open(store_root(&dir)).unwrap();
    assert_eq!(reopened.resolve("model").unwrap(), Some(pulled));
}

#[test]
fn a_file_that_is_not_gguf_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(store_root(&dir)).unwrap();
    let source = dir.path().join("weights.bin");
    fs::write(&source, vec![7u8; 4096]).unwrap();
    let reference = format!("file:{}", source.display()).parse().unwrap();

    let error = store
        .pull(
            &reference,
            &PullOptions::default(),
            &RecordingProgress::default(),
        )
        .unwrap_err();
    assert!(matches!(error, StoreError::NotGguf { .. }), "{error}");
    assert_eq!(
        error.to_string(),
        format!("not a GGUF file: {}", source.display())
    );
    assert_store_empty(store.root());
}

#[test]
fn a_file_with_an_unexpected_sha256_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(store_root(&dir)).unwrap();
    let source = dir.path().join("model.gguf");
    let (_, sha256) = write_model(&source, 1000);
    let reference = format!("file:{}", source.display()).parse().unwrap();
    let options = PullOptions {
        expected_sha256: Some("0".repeat(64)),
        ..PullOptions::default()
    };

    let error = store
        .pull(&reference, &options, &RecordingProgress::default())
        .unwrap_err();
    assert!(
        error.to_string().ends_with(&format!(
            "expected {}, got {sha256}; the download was discarded",
            "0".repeat(64)
        )),
        "{error}"
    );
    assert_store_empty(store.root());

    let options = PullOptions {
        expected_sha256: Some("not-hex".into()),
        ..PullOptions::default()
    };
    let error = store
        .pull(&reference, &options, &RecordingProgress::default())
        .unwrap_err();
    assert!(matches!(error, StoreError::InvalidSha256 { .. }), "{error}");
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(store_root(&dir)).unwrap();
    let missing = dir.path().join("missing.gguf");
    let reference = format!("file:{}", missing.display()).parse().unwrap();
    let error = store
        .pull(
            &reference,
            &PullOptions::default(),
            &RecordingProgress::default(),
        )
        .unwrap_err();
    assert!(
        error.to_string().contains(&missing.display().to_string()),
        "{error}"
    );
    assert_store_empty(store.root());
}

#[test]
fn names_that_would_share_a_manifest_file_are_kept_apart() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(store_root(&dir)).unwrap();
    let source = dir.path().join("model.gguf");
    write_model(&source, 0);
    let reference: ward_store::ModelRef = format!("file:{}", source.display()).parse().unwrap();
    let named = |name: &str| PullOptions {
        name: Some(name.to_string()),
        ..PullOptions::default()
    };
    store
        .pull(
            &reference,
            &named("clinic:small"),
            &RecordingProgress::default(),
        )
        .unwrap();
    let error = store
        .pull(
            &reference,
            &named("clinic_small"),
            &RecordingProgress::default(),
        )
        .unwrap_err();
    assert!(error.to_string().contains("clinic:small"), "{error}");
    assert_eq!(store.resolve("clinic_small").unwrap(), None);
    assert_eq!(
        store.resolve("clinic:small").unwrap().unwrap().name,
        "clinic:small"
    );
}
