//! Keys, roles, limits and the audit record of every call, on a real socket with a real SQLite
//! store: refusals with their statuses and bodies, then a mixed load (answers, refusals, a
//! failing backend, clients that leave mid-stream) after which the store holds exactly one record
//! per routed request and the chain verifies.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{json, Value};
use ward_audit::{
    AuditLog, AuditSettings, ContentMode, Filter, KeyHasher, KeyLimits, Keyring, Location, Role,
    Store,
};
use ward_core::{ErrorKind, FinishReason};
use ward_router::fake::Script;
use ward_server::{router, AppState, AuditAccess, Auth, AuthSettings, ServerSettings};

use crate::{card, ScriptedBackend};

struct Secured {
    base: String,
    client: reqwest::Client,
    location: Location,
    keyring: Arc<Keyring>,
    hasher: KeyHasher,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _directory: tempfile::TempDir,
}

impl Secured {
    /// Ward with an audit store (and auth when `with_auth`), over a quick model, a slow one and
    /// a broken one.
    async fn start(with_auth: bool) -> Self {
        let directory = tempfile::tempdir().unwrap();
        let location = Location::Sqlite(directory.path().join("audit.db"));
        let keyring = Arc::new(Keyring::parse(&ward_audit::crypto::new_secret()).unwrap());
        let hasher = KeyHasher::new([3; 32]);
        let store = ward_audit::StoreHandle::open(&location).unwrap();
        let auth = Auth::new(
            store.clone(),
            hasher.clone(),
            AuthSettings {
                refresh: Duration::from_millis(100),
            },
        )
        .unwrap();
        let log = AuditLog::open(
            &AuditSettings {
                location: location.clone(),
                content: ContentMode::Encrypted,
            },
            keyring.clone(),
        )
        .unwrap();
        let quick = ward_router::fake::ScriptedBackend::new("quick", "test-model:1b");
        quick.set_script(Script::Reply(
            vec!["Noted".into(), " for".into(), " Ms. Quill.".into()],
            FinishReason::Stop,
        ));
        let slow = Arc::new(ScriptedBackend {
            cards: vec![card("slow:1b")],
            ..Arc::into_inner(ScriptedBackend::new(
                vec!["x"; 400],
                Duration::from_millis(5),
            ))
            .unwrap()
        });
        let broken = ward_router::fake::ScriptedBackend::new("broken", "broken:1b");
        broken.set_script(Script::FailToStart(ErrorKind::BackendUnavailable));
        let backends = vec![
            quick.into_local(),
            ward_router::RoutedBackend::Local(slow),
            broken.into_local(),
        ];
        let app = router(
            AppState {
                auth: with_auth.then(|| Arc::new(auth)),
                audit: Some(log.clone()),
                records: Some(AuditAccess { log, store }),
                ..crate::state_over(ward_router::Router::with_default_tiers(backends).unwrap())
            },
            &ServerSettings::default(),
        );
        let (address, stop, server) = crate::spawn_app(app).await;
        Secured {
            base: format!("http://{address}"),
            client: reqwest::Client::new(),
            location,
            keyring,
            hasher,
            stop: Some(stop),
            server: Some(server),
            _directory: directory,
        }
    }

    fn key(&self, role: Role, limits: KeyLimits) -> (String, String) {
        let mut store = Store::open(&self.location).unwrap();
        let (key, secret) = store
            .create_key(&self.hasher, "test", role, &limits)
            .unwrap();
        (key.id, secret)
    }

    fn store(&self) -> Store {
        Store::open(&self.location).unwrap()
    }

    async fn call(
        &self,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut request = match &body {
            Some(body) => self
                .client
                .post(format!("{}{path}", self.base))
                .header("content-type", "application/json")
                .body(body.to_string()),
            None => self.client.get(format!("{}{path}", self.base)),
        };
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.unwrap();
        let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, headers, value)
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.server.take().unwrap().await.unwrap().unwrap();
    }
}

fn chat(model: &str, stream: bool) -> Value {
    json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": "Pt Orla Quill, MRN 5521907, seen today for a rash."}]})
}

fn assert_openai_error(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|message| !message.is_empty()));
    assert!(body["error"]["type"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_roles_and_limits_answer_with_the_right_status() {
    let ward = Secured::start(true).await;
    let (status, _, body) = ward.call("/health", None, None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );

    let (status, _, body) = ward
        .call(
            "/v1/chat/completions",
            None,
            Some(chat("test-model:1b", false)),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_openai_error(&body, "unauthorized");
    let (status, _, body) = ward
        .call("/api/chat", None, Some(chat("test-model:1b", false)))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["error"].as_str().unwrap().contains("API key"),
        "{body}"
    );
    let (status, _, body) = ward
        .call(
            "/v1/models",
            Some("ward_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_openai_error(&body, "unauthorized");

    let (_, clinician) = ward.key(Role::Clinician, KeyLimits::default());
    let (status, headers, body) = ward
        .call(
            "/v1/chat/completions",
            Some(&clinician),
            Some(chat("test-model:1b", false)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(headers.contains_key("x-ward-request-id"));

    // Wrong role: an auditor makes no model calls, a service key reads no audit.
    let (_, auditor) = ward.key(Role::Auditor, KeyLimits::default());
    let (status, _, body) = ward
        .call(
            "/v1/chat/completions",
            Some(&auditor),
            Some(chat("test-model:1b", false)),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_openai_error(&body, "forbidden");
    let (_, service) = ward.key(Role::Service, KeyLimits::default());
    let (status, _, body) = ward.call("/v1/audit", Some(&service), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_openai_error(&body, "forbidden");

    // Revoked by another process (seen after the cache refresh), and expired keys.
    let (revoked_id, revoked) = ward.key(Role::Service, KeyLimits::default());
    let (status, _, _) = ward.call("/v1/models", Some(&revoked), None).await;
    assert_eq!(status, StatusCode::OK);
    ward.store().revoke_key(&revoked_id).unwrap();
    let mut answer = (StatusCode::OK, Value::Null);
    for _ in 0..50 {
        let (status, _, body) = ward.call("/v1/models", Some(&revoked), None).await;
        answer = (status, body);
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        answer.0,
        StatusCode::UNAUTHORIZED,
        "revocation was not seen"
    );
    assert!(answer.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("revoked"));
    let (_, expired) = ward.key(
        Role::Service,
        KeyLimits {
            expires_us: Some(ward_audit::record::now_micros() - 1_000_000),
            ..KeyLimits::default()
        },
    );
    let (status, _, body) = ward
        .call(
            "/v1/chat/completions",
            Some(&expired),
            Some(chat("test-model:1b", false)),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("expired"));

    // Rate limit: 3 a minute, then 429 with retry-after; other keys are unaffected.
    let (_, limited) = ward.key(
        Role::Service,
        KeyLimits {
            rate_limit_per_minute: Some(3),
            ..KeyLimits::default()
        },
    );
    for _ in 0..3 {
        let (status, _, _) = ward
            .call(
                "/v1/chat/completions",
                Some(&limited),
                Some(chat("test-model:1b", false)),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, headers, body) = ward
        .call(
            "/v1/chat/completions",
            Some(&limited),
            Some(chat("test-model:1b", false)),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_openai_error(&body, "overloaded");
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&wait), "retry-after {wait}");
    let (status, _, _) = ward
        .call(
            "/v1/chat/completions",
            Some(&clinician),
            Some(chat("test-model:1b", false)),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // Token budget: each answer costs 3 prompt + 3 completion tokens; 10 allows two calls.
    let (_, budgeted) = ward.key(
        Role::Clinician,
        KeyLimits {
            token_budget_per_day: Some(10),
            ..KeyLimits::default()
        },
    );
    for _ in 0..2 {
        let (status, _, _) = ward
            .call(
                "/v1/chat/completions",
                Some(&budgeted),
                Some(chat("test-model:1b", false)),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, headers, body) = ward
        .call(
            "/api/chat",
            Some(&budgeted),
            Some(chat("test-model:1b", false)),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body["error"].as_str().unwrap().contains("budget"));
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=86_400).contains(&wait));
    ward.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_reads_follow_roles_and_reading_content_is_recorded() {
    let ward = Secured::start(true).await;
    let (mine, clinician) = ward.key(Role::Clinician, KeyLimits::default());
    let (_, other) = ward.key(Role::Clinician, KeyLimits::default());
    let (_, auditor) = ward.key(Role::Auditor, KeyLimits::default());
    let (_, decrypting) = ward.key(
        Role::Auditor,
        KeyLimits {
            can_decrypt: true,
            ..KeyLimits::default()
        },
    );
    let (_, headers, _) = ward
        .call(
            "/v1/chat/completions",
            Some(&clinician),
            Some(chat("test-model:1b", false)),
        )
        .await;
    let id = headers["x-ward-request-id"].to_str().unwrap().to_owned();
    ward.call(
        "/v1/chat/completions",
        Some(&other),
        Some(chat("test-model:1b", true)),
    )
    .await;

    let (status, _, listing) = ward.call("/v1/audit", Some(&clinician), None).await;
    assert_eq!(status, StatusCode::OK);
    let data = listing["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "a clinician sees only their own calls");
    let record = &data[0];
    assert_eq!(
        (record["id"].as_str(), record["key_id"].as_str()),
        (Some(id.as_str()), Some(mine.as_str()))
    );
    assert_eq!(record["role"], "clinician");
    assert_eq!(record["phi"]["NAME"], 1, "{record}");
    assert_eq!(
        (record["status"].as_u64(), record["outcome"].as_str()),
        (Some(200), Some("ok"))
    );
    assert_eq!(
        (record["tier"].as_str(), record["backend"].as_str()),
        (Some("local"), Some("quick"))
    );
    assert_eq!(
        (
            record["prompt_tokens"].as_u64(),
            record["completion_tokens"].as_u64()
        ),
        (Some(3), Some(3))
    );
    assert_eq!(record["client_ip"], "127.0.0.1");
    assert!(
        record["latency"]["total_ms"].as_f64().unwrap()
            >= record["latency"]["upstream_ms"].as_f64().unwrap()
    );
    assert!(
        !record.to_string().contains("Quill"),
        "metadata holds no text: {record}"
    );

    let (_, _, everyone) = ward.call("/v1/audit", Some(&auditor), None).await;
    assert_eq!(everyone["data"].as_array().unwrap().len(), 2);
    let (status, _, body) = ward
        .call(
            &format!("/v1/audit/{id}?content=true"),
            Some(&auditor),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, body) = ward
        .call(
            &format!("/v1/audit/{id}?content=true"),
            Some(&decrypting),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["content"]["response"], "Noted for Ms. Quill.");
    assert!(body["content"]["request"]["messages"][0]["content"]
        .as_str()
        .unwrap()
        .contains("Orla Quill"));
    let (status, _, _) = ward
        .call("/v1/audit/no-such-record", Some(&decrypting), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, body) = ward
        .call("/v1/audit?since=last+week", Some(&auditor), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["param"], "since");

    // The decrypting read is on record, as an action by that key.
    let (_, _, everyone) = ward.call("/v1/audit", Some(&auditor), None).await;
    let newest = &everyone["data"][0];
    assert_eq!(newest["outcome"], "action");
    assert!(newest["endpoint"].as_str().unwrap().contains(&id));
    assert!(ward.store().verify(&ward.keyring).unwrap().is_ok());
    ward.stop().await;
}

/// What the client saw of one request.
enum Seen {
    /// Got an answer or a refusal: the record must exist already.
    Complete(String, u16),
    /// Went away mid-stream.
    Left(String),
    /// Turned away before routing: no record.
    Unrouted,
}

async fn one_request(ward: &Secured, key: &str, number: usize) -> Seen {
    let (path, body, leave) = match number % 10 {
        0..=3 => ("/v1/chat/completions", chat("test-model:1b", false), false),
        4 | 5 => ("/v1/chat/completions", chat("test-model:1b", true), false),
        6 => ("/v1/chat/completions", chat("no-such-model", false), false),
        7 => ("/v1/chat/completions", chat("broken:1b", false), false),
        8 => ("/api/chat", chat("test-model:1b", false), false),
        _ => ("/v1/chat/completions", chat("slow:1b", true), true),
    };
    let mut request = ward
        .client
        .post(format!("{}{path}", ward.base))
        .header("content-type", "application/json")
        .body(body.to_string());
    if number % 25 != 24 {
        request = request.bearer_auth(key);
    }
    let mut response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let Some(id) = response
        .headers()
        .get("x-ward-request-id")
        .map(|id| id.to_str().unwrap().to_owned())
    else {
        assert_eq!(status, 401);
        return Seen::Unrouted;
    };
    if leave {
        let _ = response.chunk().await.unwrap();
        drop(response);
        return Seen::Left(id);
    }
    let _ = response.bytes().await.unwrap();
    Seen::Complete(id, status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mixed_load_leaves_exactly_one_record_per_routed_request() {
    let ward = Arc::new(Secured::start(true).await);
    let (_, key) = ward.key(Role::Service, KeyLimits::default());
    let total = 1500;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let workers: Vec<_> = (0..16)
        .map(|_| {
            let (ward, key, next) = (ward.clone(), key.clone(), next.clone());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut store = ward.store();
                loop {
                    let number = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if number >= total {
                        return seen;
                    }
                    let outcome = one_request(&ward, &key, number).await;
                    if let Seen::Complete(id, status) = &outcome {
                        let record = store.record(id).unwrap();
                        let record = record.unwrap_or_else(|| {
                            panic!("request {id} answered {status} before its record was written")
                        });
                        assert_eq!(record.event().unwrap().status, *status);
                    }
                    seen.push(outcome);
                }
            })
        })
        .collect();
    let mut complete = HashSet::new();
    let mut left = HashSet::new();
    let mut unrouted = 0;
    for worker in workers {
        for seen in worker.await.unwrap() {
            match seen {
                Seen::Complete(id, _) => assert!(complete.insert(id)),
                Seen::Left(id) => assert!(left.insert(id)),
                Seen::Unrouted => unrouted += 1,
            }
        }
    }
    assert_eq!(unrouted, total / 25);
    assert_eq!(complete.len() + left.len(), total - unrouted);
    // Records of clients that left are written without anyone waiting: give them a moment.
    let mut store = ward.store();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let records = loop {
        let records = store.records(&Filter::default()).unwrap();
        if records.len() >= complete.len() + left.len() || std::time::Instant::now() > deadline {
            break records;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        records.len(),
        complete.len() + left.len(),
        "one record per routed request"
    );
    let mut by_status = std::collections::BTreeMap::new();
    for record in &records {
        let event = record.event().unwrap();
        if left.contains(&record.id) {
            assert_eq!(
                (event.status, event.outcome),
                (499, ward_audit::Outcome::ClientClosed)
            );
        } else {
            assert!(complete.contains(&record.id));
        }
        *by_status.entry(event.status).or_insert(0) += 1;
    }
    // Every kind of outcome was exercised.
    for status in [200u16, 404, 503, 499] {
        assert!(
            by_status.get(&status).copied().unwrap_or(0) >= total / 20,
            "{by_status:?}"
        );
    }
    let verified = store.verify(&ward.keyring).unwrap().unwrap();
    assert_eq!(verified.records as usize, records.len());
    Arc::into_inner(ward).unwrap().stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_auth_calls_are_recorded_but_content_stays_closed() {
    let ward = Secured::start(false).await;
    let (status, headers, _) = ward
        .call(
            "/v1/chat/completions",
            None,
            Some(chat("test-model:1b", false)),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let id = headers["x-ward-request-id"].to_str().unwrap().to_owned();
    let (status, _, listing) = ward.call("/v1/audit", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listing["data"][0]["id"].as_str(), Some(id.as_str()));
    assert!(listing["data"][0]["key_id"].is_null());
    let (status, _, body) = ward
        .call(&format!("/v1/audit/{id}?content=true"), None, None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    ward.stop().await;
}
