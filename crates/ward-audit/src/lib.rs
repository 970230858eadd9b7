//! Ward's record of every model call, and the API keys that say who made it.
//!
//! - `record`: what a record says (`AuditEvent`, metadata in clear) and holds (`AuditContent`,
//!   request and response text, encrypted, hashed or left out).
//! - `costs`: what calls cost per tier, and at a reference cloud model's prices, from records.
//! - `crypto`: the keyring (AES-256-GCM content keys, HMAC-signed anchors) and secret files.
//! - `store`: the hash chain over SQLite or PostgreSQL (`sql`): append, read, verify, purge.
//! - `writer`: the one writer thread with group commit that a server appends through.
//! - `handle`: a store on a thread of its own, for reads from async code.
//! - `keys`: API keys, roles and limits, stored as HMAC-SHA256 under a server secret.

pub mod costs;
pub mod crypto;
pub mod handle;
pub mod keys;
pub mod record;
pub mod sql;
pub mod store;
pub mod writer;

pub use costs::{BackendCost, CostModel, CostReport, CostTally, PricedBackend, Reference};
pub use crypto::Keyring;
pub use handle::StoreHandle;
pub use keys::{key_id_of, ApiKey, KeyHasher, KeyLimits, Role};
pub use record::{AuditContent, AuditEvent, ContentMode, Latency, Outcome};
pub use sql::Location;
pub use store::{ChainBreak, Filter, Purged, SealedRecord, Store, StoredRecord, Verified};
pub use writer::{AuditLog, AuditSettings};
