//! API keys: roles, expiry, limits, and how a key is stored.
//!
//! A key is `ward_<id>_<secret>`: the id (public, 12 hex digits) finds the row, the secret is 32
//! random bytes. Rows keep HMAC-SHA256(server secret, key), never the key. A key carries 256
//! bits of randomness, so a slow password hash such as argon2id adds nothing against guessing and
//! would cost milliseconds on every cache miss (the `audit` bench measures both); the server
//! secret means a stolen database alone cannot be used to check guesses either.

use std::fmt;

use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::OsRng;
use base64::Engine;
use ward_core::{ErrorKind, WardError};

use crate::record::now_micros;
use crate::sql::{Column, Value};
use crate::store::Store;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Model calls and their own history.
    Clinician,
    /// Model calls only.
    Service,
    /// Audit metadata; decrypted content only with the decrypt right.
    Auditor,
    /// Everything: keys, configuration, audit.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Clinician, Role::Service, Role::Auditor, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Clinician => "clinician",
            Role::Service => "service",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Result<Self, WardError> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| {
                WardError::invalid_request(format!(
                    "unknown role '{text}'; roles are clinician, service, auditor and admin"
                ))
                .with_param("role")
            })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored key, without its secret.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// HMAC-SHA256 of the whole key under the server secret.
    pub hash: Vec<u8>,
    pub created_us: i64,
    pub expires_us: Option<i64>,
    pub revoked_us: Option<i64>,
    pub rate_limit_per_minute: Option<u32>,
    pub token_budget_per_day: Option<u64>,
    /// Auditors only: may read decrypted audit content.
    pub can_decrypt: bool,
}

impl ApiKey {
    /// Whether the key is usable at `now_us`.
    pub fn is_active(&self, now_us: i64) -> bool {
        self.revoked_us.is_none() && self.expires_us.is_none_or(|expires| now_us < expires)
    }

    pub fn status(&self, now_us: i64) -> &'static str {
        if self.revoked_us.is_some() {
            "revoked"
        } else if !self.is_active(now_us) {
            "expired"
        } else {
            "active"
        }
    }
}

/// What `create` needs besides the name and role.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyLimits {
    pub expires_us: Option<i64>,
    pub rate_limit_per_minute: Option<u32>,
    pub token_budget_per_day: Option<u64>,
    pub can_decrypt: bool,
}

/// Hashes keys with the server secret.
#[derive(Clone)]
pub struct KeyHasher {
    secret: [u8; 32],
}

impl fmt::Debug for KeyHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyHasher(..)")
    }
}

impl KeyHasher {
    pub fn new(secret: [u8; 32]) -> Self {
        KeyHasher { secret }
    }

    pub fn hash(&self, key: &str) -> Vec<u8> {
        crate::crypto::tag(&self.secret, key.as_bytes())
    }

    /// Constant-time comparison of a presented key with a stored hash.
    pub fn matches(&self, key: &str, stored: &[u8]) -> bool {
        crate::crypto::tag_matches(&self.secret, key.as_bytes(), stored)
    }
}

/// The id part of a presented key, if it has the key's shape.
pub fn key_id_of(key: &str) -> Option<&str> {
    let rest = key.strip_prefix("ward_")?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 12 && id.bytes().all(|byte| byte.is_ascii_hexdigit()) && secret.len() >= 32)
        .then_some(id)
}

fn new_key(id: &str) -> String {
    let mut secret = [0u8; 32];
    OsRng.fill_bytes(&mut secret);
    format!(
        "ward_{id}_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    )
}

const KEY_COLUMNS: &str = "id, name, role, hash, created_us, expires_us, revoked_us, rate_limit_per_minute, token_budget_per_day, can_decrypt";
const KEY_TYPES: [Column; 10] = [
    Column::Text,
    Column::Text,
    Column::Text,
    Column::Bytes,
    Column::Int,
    Column::Int,
    Column::Int,
    Column::Int,
    Column::Int,
    Column::Int,
];

fn key_from_row(row: Vec<Value>) -> Result<ApiKey, WardError> {
    Ok(ApiKey {
        id: row[0].text().unwrap_or_default(),
        name: row[1].text().unwrap_or_default(),
        role: Role::parse(&row[2].text().unwrap_or_default())?,
        hash: row[3].bytes().unwrap_or_default(),
        created_us: row[4].int().unwrap_or_default(),
        expires_us: row[5].int(),
        revoked_us: row[6].int(),
        rate_limit_per_minute: row[7].int().map(|limit| limit as u32),
        token_budget_per_day: row[8].int().map(|budget| budget as u64),
        can_decrypt: row[9].int().unwrap_or_default() != 0,
    })
}

impl Store {
    /// Creates a key; the returned string is the only time the key exists in clear.
    pub fn create_key(
        &mut self,
        hasher: &KeyHasher,
        name: &str,
        role: Role,
        limits: &KeyLimits,
    ) -> Result<(ApiKey, String), WardError> {
        if name.trim().is_empty() {
            return Err(WardError::invalid_request("a key needs a name").with_param("name"));
        }
        if limits.can_decrypt && !matches!(role, Role::Auditor | Role::Admin) {
            return Err(WardError::invalid_request(
                "only auditor (or admin) keys can have the decrypt right",
            ));
        }
        let mut id_bytes = [0u8; 6];
        OsRng.fill_bytes(&mut id_bytes);
        let id = hex::encode(id_bytes);
        let key = new_key(&id);
        let record = ApiKey {
            id,
            name: name.trim().to_owned(),
            role,
            hash: hasher.hash(&key),
            created_us: now_micros(),
            expires_us: limits.expires_us,
            revoked_us: None,
            rate_limit_per_minute: limits.rate_limit_per_minute,
            token_budget_per_day: limits.token_budget_per_day,
            can_decrypt: limits.can_decrypt || role == Role::Admin,
        };
        self.sql.execute(
            &format!("INSERT INTO api_keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"),
            &[
                Value::Text(Some(record.id.clone())),
                Value::Text(Some(record.name.clone())),
                Value::Text(Some(role.as_str().to_owned())),
                Value::Bytes(Some(record.hash.clone())),
                Value::Int(Some(record.created_us)),
                Value::Int(record.expires_us),
                Value::Int(None),
                Value::Int(record.rate_limit_per_minute.map(i64::from)),
                Value::Int(record.token_budget_per_day.map(|budget| budget as i64)),
                Value::Int(Some(i64::from(record.can_decrypt))),
            ],
        )?;
        Ok((record, key))
    }

    /// Every key, oldest first.
    pub fn keys(&mut self) -> Result<Vec<ApiKey>, WardError> {
        self.sql
            .query(
                &format!("SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_us, id"),
                &[],
                &KEY_TYPES,
            )?
            .into_iter()
            .map(key_from_row)
            .collect()
    }

    /// One key by id.
    pub fn key(&mut self, id: &str) -> Result<Option<ApiKey>, WardError> {
        self.sql
            .query(
                &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1"),
                &[Value::Text(Some(id.to_owned()))],
                &KEY_TYPES,
            )?
            .into_iter()
            .map(key_from_row)
            .next()
            .transpose()
    }

    fn existing_key(&mut self, id: &str) -> Result<ApiKey, WardError> {
        self.key(id)?.ok_or_else(|| {
            WardError::new(
                ErrorKind::NotFound,
                format!("no key with id {id}; `ward keys list` shows the ids"),
            )
        })
    }

    /// Revokes a key from now on; revoking twice is harmless.
    pub fn revoke_key(&mut self, id: &str) -> Result<ApiKey, WardError> {
        self.existing_key(id)?;
        self.sql.execute(
            "UPDATE api_keys SET revoked_us = $1 WHERE id = $2 AND revoked_us IS NULL",
            &[
                Value::Int(Some(now_micros())),
                Value::Text(Some(id.to_owned())),
            ],
        )?;
        self.existing_key(id)
    }

    /// Gives a key a new secret (same id, role and limits); the old secret stops working.
    pub fn rotate_key(
        &mut self,
        hasher: &KeyHasher,
        id: &str,
    ) -> Result<(ApiKey, String), WardError> {
        let existing = self.existing_key(id)?;
        if existing.revoked_us.is_some() {
            return Err(WardError::invalid_request(format!(
                "key {id} is revoked; create a new key instead"
            )));
        }
        let key = new_key(id);
        self.sql.execute(
            "UPDATE api_keys SET hash = $1 WHERE id = $2",
            &[
                Value::Bytes(Some(hasher.hash(&key))),
                Value::Text(Some(id.to_owned())),
            ],
        )?;
        Ok((self.existing_key(id)?, key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::Location;

    fn store() -> (tempfile::TempDir, Store) {
        let directory = tempfile::tempdir().unwrap();
        let store = Store::open(&Location::Sqlite(directory.path().join("audit.db"))).unwrap();
        (directory, store)
    }

    #[test]
    fn keys_are_shown_once_stored_hashed_and_checked_in_constant_time() {
        let (_directory, mut store) = store();
        let hasher = KeyHasher::new([7; 32]);
        let (created, key) = store
            .create_key(
                &hasher,
                "front desk",
                Role::Clinician,
                &KeyLimits::default(),
            )
            .unwrap();
        assert_eq!(key_id_of(&key), Some(created.id.as_str()));
        let stored = store.key(&created.id).unwrap().unwrap();
        assert_eq!(stored, created);
        assert!(!stored
            .hash
            .windows(8)
            .any(|window| key.as_bytes().windows(8).any(|part| part == window)));
        assert!(hasher.matches(&key, &stored.hash));
        assert!(!hasher.matches(&format!("{key}x"), &stored.hash));
        assert!(!KeyHasher::new([8; 32]).matches(&key, &stored.hash));
    }

    #[test]
    fn rotate_revoke_and_expiry() {
        let (_directory, mut store) = store();
        let hasher = KeyHasher::new([1; 32]);
        let limits = KeyLimits {
            expires_us: Some(now_micros() - 1),
            ..KeyLimits::default()
        };
        let (expired, _) = store
            .create_key(&hasher, "old", Role::Service, &limits)
            .unwrap();
        assert_eq!(expired.status(now_micros()), "expired");
        let (key, first) = store
            .create_key(&hasher, "svc", Role::Service, &KeyLimits::default())
            .unwrap();
        let (rotated, second) = store.rotate_key(&hasher, &key.id).unwrap();
        assert_eq!(rotated.id, key.id);
        assert!(!hasher.matches(&first, &rotated.hash));
        assert!(hasher.matches(&second, &rotated.hash));
        let revoked = store.revoke_key(&key.id).unwrap();
        assert_eq!(revoked.status(now_micros()), "revoked");
        assert!(store.rotate_key(&hasher, &key.id).is_err());
        assert_eq!(store.keys().unwrap().len(), 2);
        let missing = store.revoke_key("000000000000").unwrap_err();
        assert_eq!(missing.kind, ErrorKind::NotFound);
        let error = store
            .create_key(
                &hasher,
                "x",
                Role::Service,
                &KeyLimits {
                    can_decrypt: true,
                    ..KeyLimits::default()
                },
            )
            .unwrap_err();
        assert!(error.message.contains("decrypt"));
        assert!(Role::parse("nurse")
            .unwrap_err()
            .message
            .contains("clinician"));
    }

    #[test]
    fn key_ids_are_read_only_from_well_formed_keys() {
        assert_eq!(
            key_id_of("ward_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            Some("0123456789ab")
        );
        assert_eq!(key_id_of("sk-0123"), None);
        assert_eq!(key_id_of("ward_0123456789ab_short"), None);
        assert_eq!(
            key_id_of("ward_zz23456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            None
        );
    }
}
