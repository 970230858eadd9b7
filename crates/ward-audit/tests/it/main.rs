//! The audit store against a real database file (SQLite) and, when `WARD_TEST_POSTGRES_URL`
//! names a server (CI starts one on loopback), against PostgreSQL with the same tests.

mod chain;
mod writer;

use ward_audit::{AuditContent, AuditEvent, Keyring, Location, Outcome};

/// One fresh database for one test.
pub struct TestDb {
    pub location: Location,
    _directory: Option<tempfile::TempDir>,
}

impl TestDb {
    pub fn sqlite() -> Self {
        let directory = tempfile::tempdir().unwrap();
        TestDb {
            location: Location::Sqlite(directory.path().join("audit.db")),
            _directory: Some(directory),
        }
    }

    /// A new database on the test server, or `None` when no server is configured.
    pub fn postgres() -> Option<Self> {
        let url = std::env::var("WARD_TEST_POSTGRES_URL").ok()?;
        let name = format!("ward_test_{}", uuid::Uuid::now_v7().simple());
        let mut admin = postgres::Client::connect(&url, postgres::NoTls)
            .expect("WARD_TEST_POSTGRES_URL is set but the server does not answer");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let (base, _) = url.rsplit_once('/').expect("a URL ending in /database");
        Some(TestDb {
            location: Location::Postgres(format!("{base}/{name}")),
            _directory: None,
        })
    }

    /// Every database this machine can test: SQLite, and PostgreSQL when configured.
    pub fn all() -> Vec<Self> {
        let mut all = vec![TestDb::sqlite()];
        all.extend(TestDb::postgres());
        all
    }

    /// Runs a statement behind the store's back, as someone with database access would.
    pub fn tamper(&self, statement: &str) {
        match &self.location {
            Location::Sqlite(path) => {
                rusqlite::Connection::open(path)
                    .unwrap()
                    .execute_batch(statement)
                    .unwrap();
            }
            Location::Postgres(url) => {
                postgres::Client::connect(url, postgres::NoTls)
                    .unwrap()
                    .batch_execute(statement)
                    .unwrap();
            }
        }
    }
}

pub fn keyring() -> Keyring {
    Keyring::parse(&ward_audit::crypto::new_secret()).unwrap()
}

/// A record of a PHI request: the metadata names categories, the content holds the values.
pub fn phi_call(number: usize) -> (AuditEvent, AuditContent) {
    let event = AuditEvent {
        id: uuid::Uuid::now_v7().to_string(),
        key_id: Some(format!("k{}", number % 3)),
        role: Some("clinician".into()),
        endpoint: "/v1/chat/completions".into(),
        requested_model: Some("auto".into()),
        served_model: Some("qwen2.5-coder:1.5b".into()),
        tier: Some("phi".into()),
        backend: Some("local-small".into()),
        phi: [("NAME".to_owned(), 1), ("MRN".to_owned(), 1)].into(),
        prompt_tokens: Some(20),
        completion_tokens: Some(7),
        status: 200,
        outcome: Outcome::Ok,
        ..AuditEvent::default()
    };
    let content = AuditContent {
        request: serde_json::json!({"messages": [{"role": "user", "content": format!("Summarise the visit of Marguerite Oyelaran-{number}, MRN 88{number:05}")}]}),
        response: format!("Marguerite Oyelaran-{number} was seen for follow-up."),
    };
    (event, content)
}
