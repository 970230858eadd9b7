//! The audit keyring: AES-256-GCM data keys for record content and HMAC-SHA256 signatures for
//! chain anchors. A key file holds one base64 key per line, newest first; the first encrypts and
//! signs, all of them decrypt, so keys rotate by adding a line on top. A key's id is the start
//! of its SHA-256, stored with each record so the right key is found later.

use std::io::Write;
use std::path::Path;

use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::{Aead, OsRng, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use ward_core::WardError;

const NONCE_BYTES: usize = 12;

struct DataKey {
    id: String,
    cipher: Aes256Gcm,
    /// Derived from the data key, so one file carries both jobs.
    signing: [u8; 32],
}

/// The data keys an audit store is encrypted and signed with; never printed.
pub struct Keyring {
    keys: Vec<DataKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("key_ids", &self.key_ids())
            .finish()
    }
}

/// 32 random bytes, base64: a new line for a key file (also used for the auth secret).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Reads a secret file, or creates it (mode 0600) with a new secret when it does not exist.
/// Returns the text and whether it was created.
pub fn load_or_create_secret_file(path: &Path) -> Result<(String, bool), WardError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((text, false)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let text = format!("{}\n", new_secret());
            crate::sql::create_parent_dir(path)?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path).map_err(|error| {
                WardError::internal(format!("cannot create {}: {error}", path.display()))
            })?;
            file.write_all(text.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|error| {
                    WardError::internal(format!("cannot write {}: {error}", path.display()))
                })?;
            Ok((text, true))
        }
        Err(error) => Err(WardError::internal(format!(
            "cannot read {}: {error}",
            path.display()
        ))),
    }
}

/// Decodes one base64 secret of 32 bytes.
pub fn decode_secret(line: &str, what: &str) -> Result<[u8; 32], WardError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(line.trim())
        .map_err(|_| WardError::invalid_request(format!("{what} is not valid base64")))?;
    bytes.try_into().map_err(|_| {
        WardError::invalid_request(format!("{what} must be 32 bytes (44 base64 characters)"))
    })
}

impl Keyring {
    /// Parses a key file's text: one base64 key of 32 bytes per line, newest first; blank lines
    /// and `#` comments are skipped.
    pub fn parse(text: &str) -> Result<Self, WardError> {
        let mut keys = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let key = decode_secret(line, &format!("audit key on line {}", number + 1))?;
            let id = hex::encode(&Sha256::digest(key)[..6]);
            keys.push(DataKey {
                id,
                cipher: Aes256Gcm::new(&key.into()),
                signing: mac_of(&key, b"ward-audit-anchor-key")
                    .finalize()
                    .into_bytes()
                    .into(),
            });
        }
        if keys.is_empty() {
            return Err(WardError::invalid_request(
                "the audit key file holds no key (one base64 key of 32 bytes per line)",
            ));
        }
        Ok(Keyring { keys })
    }

    /// The id of the key new records are encrypted and signed with.
    pub fn current_id(&self) -> &str {
        &self.keys[0].id
    }

    pub fn key_ids(&self) -> Vec<&str> {
        self.keys.iter().map(|key| key.id.as_str()).collect()
    }

    fn key(&self, id: &str) -> Result<&DataKey, WardError> {
        self.keys.iter().find(|key| key.id == id).ok_or_else(|| {
            WardError::new(
                ward_core::ErrorKind::Forbidden,
                format!(
                    "audit key {id} is not in the key file; add the key that wrote these records"
                ),
            )
        })
    }

    /// Encrypts `plaintext` bound to `record_id`: nonce followed by ciphertext and tag.
    pub fn seal(&self, record_id: &str, plaintext: &[u8]) -> (String, Vec<u8>) {
        let key = &self.keys[0];
        let mut nonce = [0u8; NONCE_BYTES];
        OsRng.fill_bytes(&mut nonce);
        let sealed = key
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: record_id.as_bytes(),
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer does not fail");
        let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        (key.id.clone(), out)
    }

    /// Decrypts what `seal` made; a wrong key or an altered byte is an error, never garbage.
    pub fn open(&self, key_id: &str, record_id: &str, sealed: &[u8]) -> Result<Vec<u8>, WardError> {
        let key = self.key(key_id)?;
        if sealed.len() < NONCE_BYTES {
            return Err(WardError::internal(format!(
                "the content of record {record_id} is truncated"
            )));
        }
        let (nonce, body) = sealed.split_at(NONCE_BYTES);
        key.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: record_id.as_bytes(),
                },
            )
            .map_err(|_| {
                WardError::new(
                    ward_core::ErrorKind::Forbidden,
                    format!("the content of record {record_id} does not decrypt with key {key_id}: wrong key, or the content was altered"),
                )
            })
    }

    /// Signs `message` with the current key; returns the key id and the tag.
    pub fn sign(&self, message: &[u8]) -> (String, Vec<u8>) {
        let key = &self.keys[0];
        (key.id.clone(), tag(&key.signing, message))
    }

    /// Checks a tag made by `sign` with the key `key_id`.
    pub fn verify(
        &self,
        key_id: &str,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, WardError> {
        Ok(tag_matches(&self.key(key_id)?.signing, message, signature))
    }
}

fn mac_of(key: &[u8], message: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(message);
    mac
}

/// HMAC-SHA256 of `message` under `key`.
pub fn tag(key: &[u8], message: &[u8]) -> Vec<u8> {
    mac_of(key, message).finalize().into_bytes().to_vec()
}

/// Whether `expected` is the HMAC-SHA256 of `message` under `key`, compared in constant time.
pub fn tag_matches(key: &[u8], message: &[u8], expected: &[u8]) -> bool {
    mac_of(key, message).verify_slice(expected).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(lines: &[&str]) -> Keyring {
        Keyring::parse(&lines.join("\n")).unwrap()
    }

    #[test]
    fn seal_opens_with_any_key_of_the_ring_and_not_another() {
        let old = new_secret();
        let new = new_secret();
        let before = ring(&[&old]);
        let (old_id, sealed) = before.seal("r1", b"Jane Roe, MRN 123");
        let rotated = ring(&["# rotated", &new, &old]);
        assert_ne!(rotated.current_id(), old_id);
        assert_eq!(
            rotated.open(&old_id, "r1", &sealed).unwrap(),
            b"Jane Roe, MRN 123"
        );
        // Bound to its record: moving content to another record does not decrypt.
        assert!(rotated.open(&old_id, "r2", &sealed).is_err());
        let stranger = ring(&[&new_secret()]);
        let error = stranger.open(&old_id, "r1", &sealed).unwrap_err();
        assert!(error.message.contains("not in the key file"), "{error}");
        let mut altered = sealed.clone();
        altered[20] ^= 1;
        assert!(before.open(&old_id, "r1", &altered).is_err());
    }

    #[test]
    fn signatures_check_and_bad_files_are_explained() {
        let keyring = ring(&[&new_secret()]);
        let (id, signature) = keyring.sign(b"head 7");
        assert!(keyring.verify(&id, b"head 7", &signature).unwrap());
        assert!(!keyring.verify(&id, b"head 8", &signature).unwrap());
        assert!(Keyring::parse("\n# nothing\n").is_err());
        let error = Keyring::parse("not base64!").unwrap_err();
        assert!(error.message.contains("line 1"), "{error}");
        assert!(Keyring::parse("AAAA")
            .unwrap_err()
            .message
            .contains("32 bytes"));
    }

    #[test]
    fn secret_files_are_created_once_and_private() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("sub").join("ward-audit.key");
        let (first, created) = load_or_create_secret_file(&path).unwrap();
        assert!(created);
        let (second, created) = load_or_create_secret_file(&path).unwrap();
        assert!(!created);
        assert_eq!(first, second);
        Keyring::parse(&first).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
