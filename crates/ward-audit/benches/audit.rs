//! What auth and audit cost per request: checking an API key (HMAC-SHA256 against argon2id, the
//! choice `keys.rs` explains), sealing a record (AES-256-GCM), and appending it through the group
//! committing writer while many requests append at once (fsync per batch, SQLite in WAL mode).
//!
//! `cargo bench -p ward-audit --bench audit`

use std::sync::Arc;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use criterion::{criterion_group, criterion_main, Criterion};
use ward_audit::{
    AuditContent, AuditEvent, AuditLog, AuditSettings, ContentMode, KeyHasher, Keyring, Location,
    Outcome, SealedRecord,
};

const KEY: &str = "ward_0123456789ab_q3Jx1Xw9bZ0mJ6yq2xK8yTQ4yQ7oH3n1aV5cU2eR9fA";

fn call_record() -> (AuditEvent, AuditContent) {
    let event = AuditEvent {
        id: "0192f000-0000-7000-8000-000000000000".into(),
        key_id: Some("0123456789ab".into()),
        role: Some("clinician".into()),
        endpoint: "/v1/chat/completions".into(),
        tier: Some("phi".into()),
        backend: Some("local-small".into()),
        phi: [("NAME".to_owned(), 2), ("DATE".to_owned(), 1)].into(),
        prompt_tokens: Some(400),
        completion_tokens: Some(250),
        status: 200,
        outcome: Outcome::Ok,
        ..AuditEvent::default()
    };
    let content = AuditContent {
        request: serde_json::json!({"messages": [{"role": "user", "content": "x".repeat(2000)}]}),
        response: "y".repeat(1200),
    };
    (event, content)
}

fn keys(c: &mut Criterion) {
    let hasher = KeyHasher::new([9; 32]);
    let stored = hasher.hash(KEY);
    c.bench_function("key check: HMAC-SHA256", |b| {
        b.iter(|| hasher.matches(std::hint::black_box(KEY), &stored))
    });
    let argon = argon2::Argon2::default();
    let salt = SaltString::from_b64("c2FsdHNhbHRzYWx0c2FsdA").unwrap();
    let hash = argon
        .hash_password(KEY.as_bytes(), &salt)
        .unwrap()
        .to_string();
    let parsed = argon2::PasswordHash::new(&hash).unwrap();
    let mut group = c.benchmark_group("key check: argon2id (default parameters)");
    group.sample_size(10);
    group.bench_function("verify", |b| {
        b.iter(|| argon.verify_password(KEY.as_bytes(), &parsed).is_ok())
    });
    group.finish();
}

fn records(c: &mut Criterion) {
    let keyring = Arc::new(Keyring::parse(&ward_audit::crypto::new_secret()).unwrap());
    let (event, content) = call_record();
    c.bench_function("seal a record (3 KB content, AES-256-GCM)", |b| {
        b.iter(|| {
            SealedRecord::seal(
                event.clone(),
                Some(&content),
                ContentMode::Encrypted,
                &keyring,
                1,
            )
        })
    });

    let directory = tempfile::tempdir().unwrap();
    let log = AuditLog::open(
        &AuditSettings {
            location: Location::Sqlite(directory.path().join("bench.db")),
            content: ContentMode::Encrypted,
        },
        keyring,
    )
    .unwrap();
    let mut group = c.benchmark_group("append, 64 requests at once (per record)");
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("sqlite group commit", |b| {
        b.iter_custom(|records| {
            let per_thread = records.div_ceil(64).max(1);
            let started = Instant::now();
            let threads: Vec<_> = (0..64)
                .map(|_| {
                    let log = log.clone();
                    let (event, content) = call_record();
                    std::thread::spawn(move || {
                        for _ in 0..per_thread {
                            futures::executor::block_on(log.append(event.clone(), Some(&content)))
                                .unwrap();
                        }
                    })
                })
                .collect();
            for thread in threads {
                thread.join().unwrap();
            }
            started
                .elapsed()
                .mul_f64(records as f64 / (per_thread * 64) as f64)
        })
    });
    group.finish();
}

criterion_group!(benches, keys, records);
criterion_main!(benches);
