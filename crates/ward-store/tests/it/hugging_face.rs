//! Pulls from `hf:` references against a fake hub on 127.0.0.1: redirects, resume, bad hashes.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use ward_store::{ModelRef, ModelStore, PullOptions, StoreError};

use crate::{assert_store_empty, files_in, store_root, write_model, RecordingProgress};

const RESOLVE_PATH: &str = "/owner/repo/resolve/main/Tiny-Model.gguf";
const CDN_PATH: &str = "/cdn/Tiny-Model.gguf";

/// A request the fake hub received.
#[derive(Debug, Clone, PartialEq)]
struct Received {
    method: String,
    path: String,
    range: Option<String>,
    authorization: Option<String>,
}

struct HubState {
    body: Vec<u8>,
    advertised_sha256: String,
    /// Whether the first download sends only half the body before hanging up.
    break_first_download: bool,
    broke: AtomicBool,
    received: Mutex<Vec<Received>>,
}

/// Imitates the hub: `HEAD` on the resolve URL answers 302 with `x-linked-*` headers pointing at
/// a CDN path, whose `GET` honours `Range: bytes=N-`. Every response closes its connection.
struct FakeHub {
    address: SocketAddr,
    state: Arc<HubState>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeHub {
    fn start(body: Vec<u8>, advertised_sha256: &str, break_first_download: bool) -> FakeHub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();
        let state = Arc::new(HubState {
            body,
            advertised_sha256: advertised_sha256.to_string(),
            break_first_download,
            broke: AtomicBool::new(false),
            received: Mutex::new(Vec::new()),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let state = Arc::clone(&state);
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => serve(stream, &state),
                        Err(_) => thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        FakeHub {
            address,
            state,
            stop,
            thread: Some(thread),
        }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    fn downloads(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|request| request.method == "GET")
            .collect()
    }
}

impl Drop for FakeHub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }
}

fn serve(stream: TcpStream, state: &HubState) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    let mut words = request_line.split_whitespace();
    let received = Received {
        method: words.next().unwrap_or_default().to_string(),
        path: words.next().unwrap_or_default().to_string(),
        range: headers.get("range").cloned(),
        authorization: headers.get("authorization").cloned(),
    };
    state.received.lock().unwrap().push(received.clone());

    let mut stream = stream;
    let total = state.body.len();
    let response = match (received.method.as_str(), received.path.as_str()) {
        ("HEAD", RESOLVE_PATH) => format!(
            "HTTP/1.1 302 Found\r\nLocation: {CDN_PATH}\r\nX-Linked-Etag: \"{}\"\r\nX-Linked-Size: {total}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            state.advertised_sha256
        ),
        ("GET", CDN_PATH) => {
            let start = received
                .range
                .as_deref()
                .and_then(|range| range.strip_prefix("bytes="))
                .and_then(|range| range.strip_suffix('-'))
                .and_then(|start| start.parse::<usize>().ok());
            let (head, body) = match start {
                Some(start) => (
                    format!(
                        "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {start}-{}/{total}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        total - 1,
                        total - start
                    ),
                    &state.body[start..],
                ),
                None => (
                    format!("HTTP/1.1 200 OK\r\nContent-Length: {total}\r\nConnection: close\r\n\r\n"),
                    &state.body[..],
                ),
            };
            let _ = stream.write_all(head.as_bytes());
            let body = if state.break_first_download && !state.broke.swap(true, Ordering::SeqCst) {
                &body[..body.len() / 2]
            } else {
                body
            };
            let _ = stream.write_all(body);
            let _ = stream.flush();
            return;
        }
        _ => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
    };
    let _ = stream.write_all(response.as_bytes());
}

fn hub_options(hub: &FakeHub) -> PullOptions {
    PullOptions {
        hf_endpoint: hub.endpoint(),
        hf_token: Some("hf_secret".into()),
        ..PullOptions::default()
    }
}

fn reference() -> ModelRef {
    "hf:owner/repo/Tiny-Model.gguf".parse().unwrap()
}

#[test]
fn downloads_through_the_redirect_and_reuses_the_blob_next_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(store_root(&dir)).unwrap();
    let (bytes, sha256) = write_model(&dir.path().join("source.gguf"), 200_000);
    let hub = FakeHub::start(bytes.clone(), &sha256, false);

    let progress = RecordingProgress::default();
    let manifest = store
        .pull(&reference(), &hub_options(&hub), &progress)
        .unwrap();

    assert_eq!(manifest.name, "tiny-model");
    assert_eq!(manifest.source, "hf:owner/repo/Tiny-Model.gguf");
    assert_eq!(manifest.sha256, sha256);
    assert_eq!(fs::read(store.model_path(&manifest)).unwrap(), bytes);
    assert_eq!(progress.advanced_bytes(), bytes.len() as u64);
    assert_eq!(
        progress.transfers(),
        vec![("Tiny-Model.gguf".to_string(), Some(bytes.len() as u64))]
    );
    assert_eq!(files_in(store.root(), "partial"), Vec::<String>::new());
    let bearer = Some("Bearer hf_secret".to_string());
    assert_eq!(
        hub.received(),
        vec![
            Received {
                method: "HEAD".into(),
                path: RESOLVE_PATH.into(),
                range: None,
                authorization: bearer.clone()
            },
            Received {
                method: "GET".into(),
                path: CDN_PATH.into(),
                range: None,
                authorization: bearer
            },
        ]
    );

    // The advertised sha256 is already in the store: no second download.
    let progress = RecordingProgress::default();
    let again = store
        .pull(&reference(), &hub_options(&hub), &progress)
        .unwrap();
    assert_eq!(again.file, manifest.file);
    assert_eq!(hub.downloads().len(), 1);
    assert!(progress
        .stages()
        .contains(&"the model is already in the store".to_string()));
}

#[test]
fn a_broken_download_is_kept_and_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(store_root(&dir)).unwrap();
    let (bytes, sha256) = write_model(&dir.path().join("source.gguf"), 300_000);
    let hub = FakeHub::start(bytes.clone(), &sha256, true);

    let error = store
        .pull(
            &reference(),
            &hub_options(&hub),
            &RecordingProgress::default(),
        )
        .unwrap_err();
    assert!(matches!(error, StoreError::Http { .. }), "{error}");
    assert!(
        error.to_string().contains("pull again to resume"),
        "{error}"
    );
    let part_name = format!("{sha256}.part");
    assert_eq!(files_in(store.root(), "partial"), vec![part_name.clone()]);
    let kept = fs::metadata(store.root().join("partial").join(&part_name))
        .unwrap()
        .len();
    assert!(
        kept > 0 && kept < bytes.len() as u64,
        "kept {kept} of {} bytes",
        bytes.len()
    );
    assert_eq!(files_in(store.root(), "blobs"), Vec::<String>::new());
    assert_eq!(files_in(store.root(), "manifests"), Vec::<String>::new());

    let progress = RecordingProgress::default();
    let manifest = store
        .pull(&reference(), &hub_options(&hub), &progress)
        .unwrap();
    assert_eq!(manifest.sha256, sha256);
    assert_eq!(fs::read(store.model_path(&manifest)).unwrap(), bytes);
    let ranges: Vec<Option<String>> = hub
        .downloads()
        .into_iter()
        .map(|request| request.range)
        .collect();
    assert_eq!(ranges, vec![None, Some(format!("bytes={kept}-"))]);
    // Progress counts the kept bytes too, so a resumed bar ends at the full size.
    assert_eq!(progress.advanced_bytes(), bytes.len() as u64);
    assert_eq!(files_in(store.root(), "partial"), Vec::<String>::new());
}

#[test]
fn a_download_whose_sha256_differs_from_the_advertised_one_is_discarded() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(store_root(&dir)).unwrap();
    let (bytes, sha256) = write_model(&dir.path().join("source.gguf"), 10_000);
    let wrong_sha256 = "e".repeat(64);
    let hub = FakeHub::start(bytes, &wrong_sha256, false);

    let error = store
        .pull(
            &reference(),
            &hub_options(&hub),
            &RecordingProgress::default(),
        )
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "sha256 mismatch for hf:owner/repo/Tiny-Model.gguf: expected {wrong_sha256}, got {sha256}; the download was discarded"
        )
    );
    assert_eq!(hub.downloads().len(), 1);
    assert_store_empty(store.root());
}

#[test]
fn a_missing_file_reports_the_status_and_what_to_check() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(store_root(&dir)).unwrap();
    let hub = FakeHub::start(Vec::new(), &"e".repeat(64), false);
    let reference: ModelRef = "hf:owner/repo/other.gguf".parse().unwrap();

    let error = store
        .pull(
            &reference,
            &hub_options(&hub),
            &RecordingProgress::default(),
        )
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "HTTP 404 from {}/owner/repo/resolve/main/other.gguf; check the owner, repository, file path and revision",
            hub.endpoint()
        )
    );
    assert_store_empty(store.root());
}
