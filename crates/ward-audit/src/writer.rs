//! The one writer: a thread that owns the store's write connection and commits records in
//! groups. Callers seal their record (encryption runs on their thread), hand it over, and may wait
//! for the commit; a caller that goes away does not cancel its write, because the record is
//! already in the writer's queue.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use futures::channel::oneshot;
use ward_core::WardError;

use crate::crypto::Keyring;
use crate::record::{now_micros, AuditContent, AuditEvent, ContentMode};
use crate::sql::Location;
use crate::store::{SealedRecord, Store};

/// Most records committed in one transaction.
const MAX_BATCH: usize = 512;

struct Job {
    record: SealedRecord,
    done: Option<oneshot::Sender<Result<i64, WardError>>>,
}

/// How the log keeps content.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    pub location: Location,
    pub content: ContentMode,
}

/// Joins the writer thread when the last `AuditLog` clone is gone (its queue sender is dropped
/// first, so the thread has committed everything and stopped by then).
struct WriterThread(Mutex<Option<JoinHandle<()>>>);

impl Drop for WriterThread {
    fn drop(&mut self) {
        let thread = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

/// The audit log a server writes to; cheap to clone.
#[derive(Clone)]
pub struct AuditLog {
    // Declared before `writer`: dropped first.
    queue: mpsc::Sender<Job>,
    _writer: Arc<WriterThread>,
    keyring: Arc<Keyring>,
    content: ContentMode,
    location: Location,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("location", &self.location.describe())
            .field("content", &self.content.as_str())
            .finish()
    }
}

impl AuditLog {
    /// Opens the store (creating its tables), checks that `keyring` holds the key the chain was
    /// signed with, and starts the writer thread.
    pub fn open(settings: &AuditSettings, keyring: Arc<Keyring>) -> Result<Self, WardError> {
        let mut store = Store::open(&settings.location)?;
        store.check_keyring(&keyring)?;
        let (queue, jobs) = mpsc::channel::<Job>();
        let thread_keyring = keyring.clone();
        let thread = std::thread::Builder::new()
            .name("ward-audit-writer".into())
            .spawn(move || write_loop(store, &thread_keyring, &jobs))
            .map_err(|error| {
                WardError::internal(format!("cannot start the audit writer: {error}"))
            })?;
        Ok(AuditLog {
            queue,
            _writer: Arc::new(WriterThread(Mutex::new(Some(thread)))),
            keyring,
            content: settings.content,
            location: settings.location.clone(),
        })
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Whether records keep content (encrypted or hashed), so callers know to collect it.
    pub fn keeps_content(&self) -> bool {
        self.content != ContentMode::Off
    }

    pub fn keyring(&self) -> &Arc<Keyring> {
        &self.keyring
    }

    /// Queues a record and resolves with its chain position once it is committed. Dropping the
    /// future does not cancel the write.
    pub fn append(
        &self,
        event: AuditEvent,
        content: Option<&AuditContent>,
    ) -> impl std::future::Future<Output = Result<i64, WardError>> + Send + 'static {
        let record = SealedRecord::seal(event, content, self.content, &self.keyring, now_micros());
        let (done, committed) = oneshot::channel();
        let queued = self.queue.send(Job {
            record,
            done: Some(done),
        });
        async move {
            queued.map_err(|_| WardError::internal("the audit writer has stopped"))?;
            committed
                .await
                .map_err(|_| WardError::internal("the audit writer stopped before committing"))?
        }
    }

    /// Queues a record without waiting (a client that went away).
    pub fn append_detached(&self, event: AuditEvent, content: Option<&AuditContent>) {
        let record = SealedRecord::seal(event, content, self.content, &self.keyring, now_micros());
        if self.queue.send(Job { record, done: None }).is_err() {
            tracing::error!("audit writer has stopped; a record was not written");
        }
    }
}

fn write_loop(mut store: Store, keyring: &Keyring, jobs: &mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let records: Vec<SealedRecord> = batch.iter().map(|job| job.record.clone()).collect();
        let started = std::time::Instant::now();
        let mut result = store.append(&records, keyring);
        if result.is_err() {
            // One retry on a fresh connection (a restarted PostgreSQL, a dropped socket).
            if let Ok(fresh) = Store::open(store.location()) {
                store = fresh;
                result = store.append(&records, keyring);
            }
        }
        match result {
            Ok(positions) => {
                tracing::debug!(
                    records = positions.len(),
                    commit_ms = started.elapsed().as_secs_f64() * 1000.0,
                    "audit batch committed"
                );
                for (job, seq) in batch.into_iter().zip(positions) {
                    if let Some(done) = job.done {
                        let _ = done.send(Ok(seq));
                    }
                }
            }
            Err(error) => {
                tracing::error!(records = batch.len(), error = %error.message, "audit batch not written");
                for job in batch {
                    if let Some(done) = job.done {
                        let _ = done.send(Err(error.clone()));
                    }
                }
            }
        }
    }
}
