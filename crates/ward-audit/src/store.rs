//! The audit store: records in one hash chain, signed anchors, and the schema, over SQLite or
//! PostgreSQL.
//!
//! Each record's hash covers every stored column and the previous record's hash, so editing,
//! deleting, inserting or reordering records breaks the chain at a named record. Two kinds of
//! anchor, signed with the keyring, cover what a chain alone cannot: the `head` anchor (rewritten
//! with every append) catches records cut off the end, and a `purge` anchor marks where a
//! retention purge cut the beginning, so the remaining chain still verifies.

use sha2::{Digest, Sha256};
use ward_core::WardError;

use crate::crypto::Keyring;
use crate::record::{rfc3339_micros, AuditContent, AuditEvent, ContentMode};
use crate::sql::{Column, Location, Sql, Value};

/// A record as stored: the chain position, the clear metadata, the protected content.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    pub seq: i64,
    pub id: String,
    pub time_us: i64,
    pub key_id: Option<String>,
    /// `AuditEvent` as JSON.
    pub meta: String,
    pub content_mode: String,
    /// The id of the data key the content is encrypted with.
    pub content_key: Option<String>,
    pub content: Option<Vec<u8>>,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// A record ready to be chained: everything but its position.
#[derive(Debug, Clone, PartialEq)]
pub struct SealedRecord {
    pub id: String,
    pub time_us: i64,
    pub key_id: Option<String>,
    pub meta: String,
    pub content_mode: ContentMode,
    pub content_key: Option<String>,
    pub content: Option<Vec<u8>>,
}

impl SealedRecord {
    /// Serialises the event (giving it an id and a time when it has none) and protects the
    /// content as `mode` says.
    pub fn seal(
        mut event: AuditEvent,
        content: Option<&AuditContent>,
        mode: ContentMode,
        keyring: &Keyring,
        time_us: i64,
    ) -> Self {
        if event.id.is_empty() {
            event.id = uuid::Uuid::now_v7().to_string();
        }
        if event.time.is_empty() {
            event.time = rfc3339_micros(time_us);
        }
        let plaintext = content
            .map(|content| serde_json::to_vec(content).expect("audit content serialises to JSON"));
        let (content_key, content) = match (mode, plaintext) {
            (ContentMode::Encrypted, Some(plaintext)) => {
                let (key, sealed) = keyring.seal(&event.id, &plaintext);
                (Some(key), Some(sealed))
            }
            (ContentMode::Hash, Some(plaintext)) => {
                (None, Some(Sha256::digest(plaintext).to_vec()))
            }
            _ => (None, None),
        };
        SealedRecord {
            id: event.id.clone(),
            time_us,
            key_id: event.key_id.clone(),
            meta: serde_json::to_string(&event).expect("audit events serialise to JSON"),
            content_mode: mode,
            content_key,
            content,
        }
    }
}

/// A signed position in the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Anchor {
    pub kind: String,
    pub seq: i64,
    pub hash: Vec<u8>,
    pub time_us: i64,
    pub signing_key: String,
    pub signature: Vec<u8>,
}

impl Anchor {
    fn message(kind: &str, seq: i64, hash: &[u8], time_us: i64) -> Vec<u8> {
        let mut message = b"ward-audit-anchor-v1\0".to_vec();
        put_field(&mut message, Some(kind.as_bytes()));
        message.extend_from_slice(&seq.to_be_bytes());
        put_field(&mut message, Some(hash));
        message.extend_from_slice(&time_us.to_be_bytes());
        message
    }

    fn signed(kind: &str, seq: i64, hash: Vec<u8>, keyring: &Keyring) -> Self {
        let time_us = crate::record::now_micros();
        let (signing_key, signature) = keyring.sign(&Anchor::message(kind, seq, &hash, time_us));
        Anchor {
            kind: kind.to_owned(),
            seq,
            hash,
            time_us,
            signing_key,
            signature,
        }
    }

    fn check(&self, keyring: &Keyring) -> Result<bool, WardError> {
        keyring.verify(
            &self.signing_key,
            &Anchor::message(&self.kind, self.seq, &self.hash, self.time_us),
            &self.signature,
        )
    }
}

fn put_field(out: &mut Vec<u8>, field: Option<&[u8]>) {
    match field {
        None => out.push(0),
        Some(bytes) => {
            out.push(1);
            out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
            out.extend_from_slice(bytes);
        }
    }
}

/// The hash that links a record into the chain: every column and the previous hash.
pub fn record_hash(seq: i64, record: &SealedRecordView<'_>, prev_hash: &[u8]) -> Vec<u8> {
    let mut hasher = Sha256::new();
    let mut buffer = b"ward-audit-record-v1\0".to_vec();
    buffer.extend_from_slice(&seq.to_be_bytes());
    put_field(&mut buffer, Some(record.id.as_bytes()));
    buffer.extend_from_slice(&record.time_us.to_be_bytes());
    put_field(&mut buffer, record.key_id.map(str::as_bytes));
    put_field(&mut buffer, Some(record.meta.as_bytes()));
    put_field(&mut buffer, Some(record.content_mode.as_bytes()));
    put_field(&mut buffer, record.content_key.map(str::as_bytes));
    put_field(&mut buffer, record.content);
    put_field(&mut buffer, Some(prev_hash));
    hasher.update(&buffer);
    hasher.finalize().to_vec()
}

/// The hashed columns of a record, borrowed from either a new or a stored record.
#[derive(Debug, Clone, Copy)]
pub struct SealedRecordView<'a> {
    pub id: &'a str,
    pub time_us: i64,
    pub key_id: Option<&'a str>,
    pub meta: &'a str,
    pub content_mode: &'a str,
    pub content_key: Option<&'a str>,
    pub content: Option<&'a [u8]>,
}

impl SealedRecord {
    fn view(&self) -> SealedRecordView<'_> {
        SealedRecordView {
            id: &self.id,
            time_us: self.time_us,
            key_id: self.key_id.as_deref(),
            meta: &self.meta,
            content_mode: self.content_mode.as_str(),
            content_key: self.content_key.as_deref(),
            content: self.content.as_deref(),
        }
    }
}

impl StoredRecord {
    fn view(&self) -> SealedRecordView<'_> {
        SealedRecordView {
            id: &self.id,
            time_us: self.time_us,
            key_id: self.key_id.as_deref(),
            meta: &self.meta,
            content_mode: &self.content_mode,
            content_key: self.content_key.as_deref(),
            content: self.content.as_deref(),
        }
    }

    /// The metadata as an event.
    pub fn event(&self) -> Result<AuditEvent, WardError> {
        serde_json::from_str(&self.meta).map_err(|error| {
            WardError::internal(format!(
                "record {} has unreadable metadata: {error}",
                self.seq
            ))
        })
    }

    /// The record as one JSON object, as `ward audit export` and `/v1/audit` show it: the
    /// metadata with `seq` and `content_mode`, and with a keyring the decrypted `content`.
    pub fn to_json(&self, keyring: Option<&Keyring>) -> Result<serde_json::Value, WardError> {
        let mut value = serde_json::to_value(self.event()?).expect("audit events serialise");
        value["seq"] = self.seq.into();
        value["content_mode"] = self.content_mode.clone().into();
        if let Some(keyring) = keyring {
            value["content"] =
                serde_json::to_value(self.decrypt(keyring)?).expect("audit content serialises");
        }
        Ok(value)
    }

    /// Decrypts the content; `None` when the record keeps none (hash or off).
    pub fn decrypt(&self, keyring: &Keyring) -> Result<Option<AuditContent>, WardError> {
        let (Some(key), Some(sealed)) = (&self.content_key, &self.content) else {
            return Ok(None);
        };
        let plaintext = keyring.open(key, &self.id, sealed)?;
        serde_json::from_slice(&plaintext)
            .map(Some)
            .map_err(|error| {
                WardError::internal(format!(
                    "record {} has unreadable content: {error}",
                    self.seq
                ))
            })
    }
}

const GENESIS: [u8; 32] = [0; 32];

/// Which records to read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub since_us: Option<i64>,
    pub until_us: Option<i64>,
    pub key_id: Option<String>,
    /// Only records after this position.
    pub after_seq: Option<i64>,
    pub limit: Option<usize>,
    /// Newest first (for `tail` and listings) instead of chain order.
    pub newest_first: bool,
}

/// Where a verification found the chain broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub seq: Option<i64>,
    pub id: Option<String>,
    pub reason: String,
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.seq, &self.id) {
            (Some(seq), Some(id)) => write!(f, "record {seq} ({id}): {}", self.reason),
            (Some(seq), None) => write!(f, "record {seq}: {}", self.reason),
            _ => f.write_str(&self.reason),
        }
    }
}

/// What a verification walked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub records: u64,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    /// Records before this position were purged under a signed anchor.
    pub purged_through: Option<i64>,
}

/// What a purge removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purged {
    pub records: u64,
    pub through_seq: Option<i64>,
}

const RECORD_COLUMNS: &str =
    "seq, id, time_us, key_id, meta, content_mode, content_key, content, prev_hash, hash";
const RECORD_TYPES: [Column; 10] = [
    Column::Int,
    Column::Text,
    Column::Int,
    Column::Text,
    Column::Text,
    Column::Text,
    Column::Text,
    Column::Bytes,
    Column::Bytes,
    Column::Bytes,
];

fn record_from_row(row: Vec<Value>) -> StoredRecord {
    StoredRecord {
        seq: row[0].int().unwrap_or_default(),
        id: row[1].text().unwrap_or_default(),
        time_us: row[2].int().unwrap_or_default(),
        key_id: row[3].text(),
        meta: row[4].text().unwrap_or_default(),
        content_mode: row[5].text().unwrap_or_default(),
        content_key: row[6].text(),
        content: row[7].bytes(),
        prev_hash: row[8].bytes().unwrap_or_default(),
        hash: row[9].bytes().unwrap_or_default(),
    }
}

const ANCHOR_COLUMNS: &str = "kind, seq, hash, time_us, signing_key, signature";
const ANCHOR_TYPES: [Column; 6] = [
    Column::Text,
    Column::Int,
    Column::Bytes,
    Column::Int,
    Column::Text,
    Column::Bytes,
];

fn anchor_from_row(row: Vec<Value>) -> Anchor {
    Anchor {
        kind: row[0].text().unwrap_or_default(),
        seq: row[1].int().unwrap_or_default(),
        hash: row[2].bytes().unwrap_or_default(),
        time_us: row[3].int().unwrap_or_default(),
        signing_key: row[4].text().unwrap_or_default(),
        signature: row[5].bytes().unwrap_or_default(),
    }
}

/// One connection to the audit store.
pub struct Store {
    pub(crate) sql: Box<dyn Sql>,
    location: Location,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.location.describe())
            .finish()
    }
}

impl Store {
    /// Connects and creates the tables when they are missing.
    pub fn open(location: &Location) -> Result<Self, WardError> {
        let mut store = Store {
            sql: location.connect()?,
            location: location.clone(),
        };
        store.migrate()?;
        Ok(store)
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    fn migrate(&mut self) -> Result<(), WardError> {
        let bytes = self.sql.bytes_type();
        let schema = format!(
            "CREATE TABLE IF NOT EXISTS audit_records (
                seq BIGINT PRIMARY KEY,
                id TEXT NOT NULL,
                time_us BIGINT NOT NULL,
                key_id TEXT,
                meta TEXT NOT NULL,
                content_mode TEXT NOT NULL,
                content_key TEXT,
                content {bytes},
                prev_hash {bytes} NOT NULL,
                hash {bytes} NOT NULL
            );
            CREATE INDEX IF NOT EXISTS audit_records_time ON audit_records (time_us);
            CREATE INDEX IF NOT EXISTS audit_records_key ON audit_records (key_id, time_us);
            CREATE TABLE IF NOT EXISTS audit_anchors (
                kind TEXT NOT NULL,
                seq BIGINT NOT NULL,
                hash {bytes} NOT NULL,
                time_us BIGINT NOT NULL,
                signing_key TEXT NOT NULL,
                signature {bytes} NOT NULL,
                PRIMARY KEY (kind, seq)
            );
            CREATE TABLE IF NOT EXISTS api_keys (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                role TEXT NOT NULL,
                hash {bytes} NOT NULL,
                created_us BIGINT NOT NULL,
                expires_us BIGINT,
                revoked_us BIGINT,
                rate_limit_per_minute BIGINT,
                token_budget_per_day BIGINT,
                can_decrypt BIGINT NOT NULL
            );"
        );
        self.in_exclusive(|sql| sql.batch(&schema))
    }

    /// Runs `work` in a transaction that holds the chain lock; rolls back on error.
    pub(crate) fn in_exclusive<T>(
        &mut self,
        work: impl FnOnce(&mut dyn Sql) -> Result<T, WardError>,
    ) -> Result<T, WardError> {
        self.sql.begin_exclusive()?;
        match work(self.sql.as_mut()) {
            Ok(value) => {
                self.sql.batch("COMMIT")?;
                Ok(value)
            }
            Err(error) => {
                let _ = self.sql.batch("ROLLBACK");
                Err(error)
            }
        }
    }

    /// Appends records in one transaction (one commit, one fsync for the batch) and re-signs
    /// the head. Returns the positions given, in order.
    pub fn append(
        &mut self,
        records: &[SealedRecord],
        keyring: &Keyring,
    ) -> Result<Vec<i64>, WardError> {
        self.in_exclusive(|sql| {
            let (mut seq, mut prev) = chain_end(sql)?;
            let mut positions = Vec::with_capacity(records.len());
            let insert = format!(
                "INSERT INTO audit_records ({RECORD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            );
            for record in records {
                seq += 1;
                let hash = record_hash(seq, &record.view(), &prev);
                sql.execute(
                    &insert,
                    &[
                        Value::Int(Some(seq)),
                        Value::Text(Some(record.id.clone())),
                        Value::Int(Some(record.time_us)),
                        Value::Text(record.key_id.clone()),
                        Value::Text(Some(record.meta.clone())),
                        Value::Text(Some(record.content_mode.as_str().to_owned())),
                        Value::Text(record.content_key.clone()),
                        Value::Bytes(record.content.clone()),
                        Value::Bytes(Some(prev.clone())),
                        Value::Bytes(Some(hash.clone())),
                    ],
                )?;
                positions.push(seq);
                prev = hash;
            }
            if !records.is_empty() {
                sql.execute("DELETE FROM audit_anchors WHERE kind = 'head'", &[])?;
                insert_anchor(sql, &Anchor::signed("head", seq, prev, keyring))?;
            }
            Ok(positions)
        })
    }

    /// Reads records in chain order (or newest first) that match `filter`.
    pub fn records(&mut self, filter: &Filter) -> Result<Vec<StoredRecord>, WardError> {
        let mut clauses = Vec::new();
        let mut params = Vec::new();
        let mut bind = |clause: &str, value: Value| {
            params.push(value);
            clauses.push(format!("{clause} ${}", params.len()));
        };
        if let Some(since) = filter.since_us {
            bind("time_us >=", Value::Int(Some(since)));
        }
        if let Some(until) = filter.until_us {
            bind("time_us <", Value::Int(Some(until)));
        }
        if let Some(key) = &filter.key_id {
            bind("key_id =", Value::Text(Some(key.clone())));
        }
        if let Some(after) = filter.after_seq {
            bind("seq >", Value::Int(Some(after)));
        }
        let mut query = format!("SELECT {RECORD_COLUMNS} FROM audit_records");
        if !clauses.is_empty() {
            query.push_str(" WHERE ");
            query.push_str(&clauses.join(" AND "));
        }
        query.push_str(if filter.newest_first {
            " ORDER BY seq DESC"
        } else {
            " ORDER BY seq"
        });
        if let Some(limit) = filter.limit {
            query.push_str(&format!(" LIMIT {limit}"));
        }
        Ok(self
            .sql
            .query(&query, &params, &RECORD_TYPES)?
            .into_iter()
            .map(record_from_row)
            .collect())
    }

    /// Visits every record in `[since_us, until_us)` in chain order, a page at a time.
    pub fn each_record<E: From<WardError>>(
        &mut self,
        since_us: Option<i64>,
        until_us: Option<i64>,
        mut visit: impl FnMut(StoredRecord) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut after = None;
        loop {
            let page = self.records(&Filter {
                since_us,
                until_us,
                after_seq: after,
                limit: Some(1000),
                ..Filter::default()
            })?;
            let Some(last) = page.last() else { break };
            after = Some(last.seq);
            for record in page {
                visit(record)?;
            }
        }
        Ok(())
    }

    /// One record by its request id.
    pub fn record(&mut self, id: &str) -> Result<Option<StoredRecord>, WardError> {
        let query = format!("SELECT {RECORD_COLUMNS} FROM audit_records WHERE id = $1");
        Ok(self
            .sql
            .query(&query, &[Value::Text(Some(id.to_owned()))], &RECORD_TYPES)?
            .into_iter()
            .map(record_from_row)
            .next())
    }

    /// Prompt plus completion tokens a key used since a time (for daily token budgets).
    pub fn tokens_used(&mut self, key_id: &str, since_us: i64) -> Result<u64, WardError> {
        let mut total = 0u64;
        let mut after = None;
        loop {
            let page = self.records(&Filter {
                key_id: Some(key_id.to_owned()),
                since_us: Some(since_us),
                after_seq: after,
                limit: Some(1000),
                ..Filter::default()
            })?;
            let Some(last) = page.last() else {
                return Ok(total);
            };
            after = Some(last.seq);
            for record in &page {
                let event = record.event()?;
                total += u64::from(event.prompt_tokens.unwrap_or(0))
                    + u64::from(event.completion_tokens.unwrap_or(0));
            }
        }
    }

    fn anchors(&mut self, kind: &str) -> Result<Vec<Anchor>, WardError> {
        let query =
            format!("SELECT {ANCHOR_COLUMNS} FROM audit_anchors WHERE kind = $1 ORDER BY seq DESC");
        Ok(self
            .sql
            .query(&query, &[Value::Text(Some(kind.to_owned()))], &ANCHOR_TYPES)?
            .into_iter()
            .map(anchor_from_row)
            .collect())
    }

    /// Refuses a keyring that does not hold the key the chain's head was signed with: writing
    /// with another key would leave a head that holders of the right key cannot verify.
    pub fn check_keyring(&mut self, keyring: &Keyring) -> Result<(), WardError> {
        let Some(head) = self.anchors("head")?.into_iter().next() else {
            return Ok(());
        };
        if head.check(keyring)? {
            Ok(())
        } else {
            Err(WardError::new(
                ward_core::ErrorKind::Forbidden,
                format!(
                    "the audit store's head does not verify with audit key {}; is this the key file that wrote it?",
                    head.signing_key
                ),
            ))
        }
    }

    /// Walks the whole chain. `Err(ChainBreak)` names the first record (or anchor) that fails.
    pub fn verify(&mut self, keyring: &Keyring) -> Result<Result<Verified, ChainBreak>, WardError> {
        let anchor_break = |anchor: &Anchor, reason: &str| ChainBreak {
            seq: Some(anchor.seq),
            id: None,
            reason: format!("the {} anchor {reason}", anchor.kind),
        };
        let purge = self.anchors("purge")?.into_iter().next();
        if let Some(anchor) = &purge {
            if !anchor.check(keyring)? {
                return Ok(Err(anchor_break(anchor, "has a bad signature")));
            }
        }
        let (mut expected, mut prev) = match &purge {
            Some(anchor) => (anchor.seq + 1, anchor.hash.clone()),
            None => (1, GENESIS.to_vec()),
        };
        let mut verified = Verified {
            records: 0,
            first_seq: None,
            last_seq: None,
            purged_through: purge.as_ref().map(|anchor| anchor.seq),
        };
        loop {
            let page = self.records(&Filter {
                after_seq: Some(expected - 1),
                limit: Some(2000),
                ..Filter::default()
            })?;
            if page.is_empty() {
                break;
            }
            for record in &page {
                let fail = |reason: &str| {
                    Ok(Err(ChainBreak {
                        seq: Some(record.seq),
                        id: Some(record.id.clone()),
                        reason: reason.to_owned(),
                    }))
                };
                if record.seq != expected {
                    return fail(&format!(
                        "expected record {expected} here: records are missing before this one"
                    ));
                }
                if record.prev_hash != prev {
                    return fail("does not link to the record before it (a record was removed, inserted or moved)");
                }
                if record_hash(record.seq, &record.view(), &prev) != record.hash {
                    return fail("was altered: its hash does not match its content");
                }
                verified.first_seq.get_or_insert(record.seq);
                verified.last_seq = Some(record.seq);
                verified.records += 1;
                prev = record.hash.clone();
                expected += 1;
            }
        }
        let last = expected - 1;
        match self.anchors("head")?.into_iter().next() {
            Some(head) => {
                if !head.check(keyring)? {
                    return Ok(Err(anchor_break(&head, "has a bad signature")));
                }
                if head.seq > last {
                    return Ok(Err(ChainBreak {
                        seq: Some(last + 1),
                        id: None,
                        reason: format!(
                            "records {} to {} were removed from the end of the chain",
                            last + 1,
                            head.seq
                        ),
                    }));
                }
                if head.seq < last || head.hash != prev {
                    return Ok(Err(anchor_break(
                        &head,
                        "does not match the last record (records were added without the key)",
                    )));
                }
            }
            None if verified.records > 0 => {
                return Ok(Err(ChainBreak {
                    seq: None,
                    id: None,
                    reason: "the head anchor is missing".to_owned(),
                }))
            }
            None => {}
        }
        Ok(Ok(verified))
    }

    /// Deletes the records before `before_us` and leaves a signed anchor where they ended, so
    /// the rest still verifies. Purging never cuts into the middle of the chain's time order: it
    /// stops at the first record that is not older than `before_us`.
    pub fn purge(&mut self, before_us: i64, keyring: &Keyring) -> Result<Purged, WardError> {
        // A purge signs an anchor and deletes for good: only the key file that wrote the store.
        self.check_keyring(keyring)?;
        self.in_exclusive(|sql| {
            let first_kept = sql.query(
                "SELECT MIN(seq) FROM audit_records WHERE time_us >= $1",
                &[Value::Int(Some(before_us))],
                &[Column::Int],
            )?;
            let last_purged = match first_kept.first().and_then(|row| row[0].int()) {
                Some(kept) => kept - 1,
                None => chain_end(sql)?.0,
            };
            let target = sql.query(
                "SELECT seq, hash FROM audit_records WHERE seq = $1",
                &[Value::Int(Some(last_purged))],
                &[Column::Int, Column::Bytes],
            )?;
            let Some(row) = target.into_iter().next() else {
                return Ok(Purged {
                    records: 0,
                    through_seq: None,
                });
            };
            let hash = row[1].bytes().unwrap_or_default();
            insert_anchor(sql, &Anchor::signed("purge", last_purged, hash, keyring))?;
            let removed = sql.execute(
                "DELETE FROM audit_records WHERE seq <= $1",
                &[Value::Int(Some(last_purged))],
            )?;
            Ok(Purged {
                records: removed,
                through_seq: Some(last_purged),
            })
        })
    }
}

/// The last position and hash of the chain (after a purge of everything: the purge anchor).
fn chain_end(sql: &mut dyn Sql) -> Result<(i64, Vec<u8>), WardError> {
    let last = sql.query(
        "SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1",
        &[],
        &[Column::Int, Column::Bytes],
    )?;
    if let Some(row) = last.into_iter().next() {
        return Ok((
            row[0].int().unwrap_or_default(),
            row[1].bytes().unwrap_or_default(),
        ));
    }
    let anchor = sql.query(
        "SELECT seq, hash FROM audit_anchors WHERE kind = 'purge' ORDER BY seq DESC LIMIT 1",
        &[],
        &[Column::Int, Column::Bytes],
    )?;
    Ok(match anchor.into_iter().next() {
        Some(row) => (
            row[0].int().unwrap_or_default(),
            row[1].bytes().unwrap_or_default(),
        ),
        None => (0, GENESIS.to_vec()),
    })
}

fn insert_anchor(sql: &mut dyn Sql, anchor: &Anchor) -> Result<(), WardError> {
    sql.execute(
        &format!("INSERT INTO audit_anchors ({ANCHOR_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"),
        &[
            Value::Text(Some(anchor.kind.clone())),
            Value::Int(Some(anchor.seq)),
            Value::Bytes(Some(anchor.hash.clone())),
            Value::Int(Some(anchor.time_us)),
            Value::Text(Some(anchor.signing_key.clone())),
            Value::Bytes(Some(anchor.signature.clone())),
        ],
    )
    .map(|_| ())
}
