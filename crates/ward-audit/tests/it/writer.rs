//! The writer thread: concurrent appenders, two writers on one store, key files it refuses.

use std::sync::Arc;

use ward_audit::{AuditLog, AuditSettings, ContentMode, Filter, Store};

use crate::{keyring, phi_call, TestDb};

#[test]
fn concurrent_appends_each_get_one_record_and_the_chain_holds() {
    for db in TestDb::all() {
        let keyring = Arc::new(keyring());
        let settings = AuditSettings {
            location: db.location.clone(),
            content: ContentMode::Encrypted,
        };
        let log = AuditLog::open(&settings, keyring.clone()).unwrap();
        let threads: Vec<_> = (0..8)
            .map(|thread| {
                let log = log.clone();
                std::thread::spawn(move || {
                    let mut positions = Vec::new();
                    for number in 0..50 {
                        let (event, content) = phi_call(thread * 100 + number);
                        if number % 10 == 9 {
                            // A client that went away: nobody waits for this one.
                            log.append_detached(event, Some(&content));
                        } else {
                            positions.push(
                                futures::executor::block_on(log.append(event, Some(&content)))
                                    .unwrap(),
                            );
                        }
                    }
                    positions
                })
            })
            .collect();
        let mut positions: Vec<i64> = threads
            .into_iter()
            .flat_map(|thread| thread.join().unwrap())
            .collect();
        drop(log); // commits what is queued and stops the writer
        positions.sort_unstable();
        positions.dedup();
        assert_eq!(positions.len(), 360);
        let mut store = Store::open(&db.location).unwrap();
        assert_eq!(store.records(&Filter::default()).unwrap().len(), 400);
        assert_eq!(store.verify(&keyring).unwrap().unwrap().records, 400);
    }
}

#[test]
fn two_writers_on_one_store_share_one_chain() {
    // Two replicas (or a server and a CLI) appending to the same database.
    for db in TestDb::all() {
        let keyring = Arc::new(keyring());
        let settings = AuditSettings {
            location: db.location.clone(),
            content: ContentMode::Hash,
        };
        let first = AuditLog::open(&settings, keyring.clone()).unwrap();
        let second = AuditLog::open(&settings, keyring.clone()).unwrap();
        let writes: Vec<_> = (0..60)
            .map(|number| {
                let log = if number % 2 == 0 {
                    first.clone()
                } else {
                    second.clone()
                };
                std::thread::spawn(move || {
                    let (event, content) = phi_call(number);
                    futures::executor::block_on(log.append(event, Some(&content))).unwrap()
                })
            })
            .collect();
        for write in writes {
            write.join().unwrap();
        }
        drop((first, second));
        let mut store = Store::open(&db.location).unwrap();
        assert_eq!(store.verify(&keyring).unwrap().unwrap().records, 60);
        assert_eq!(store.tokens_used("k1", 0).unwrap(), 20 * 27);
    }
}

#[test]
fn a_writer_refuses_a_key_file_that_did_not_sign_the_store() {
    let db = TestDb::sqlite();
    let old = ward_audit::crypto::new_secret();
    let settings = AuditSettings {
        location: db.location.clone(),
        content: ContentMode::Encrypted,
    };
    let append = |keyring: &str, number: usize| {
        let log = AuditLog::open(
            &settings,
            Arc::new(ward_audit::Keyring::parse(keyring).unwrap()),
        )?;
        let (event, content) = phi_call(number);
        futures::executor::block_on(log.append(event, Some(&content)))
    };
    append(&old, 1).unwrap();
    let stranger = ward_audit::crypto::new_secret();
    let error = append(&stranger, 2).unwrap_err();
    assert!(error.message.contains("not in the key file"), "{error}");
    // A rotated key file (new key first, old key kept) is accepted and signs from then on.
    let rotated = format!("{}\n{old}\n", ward_audit::crypto::new_secret());
    append(&rotated, 3).unwrap();
    let mut store = Store::open(&db.location).unwrap();
    let keyring = ward_audit::Keyring::parse(&rotated).unwrap();
    assert_eq!(store.verify(&keyring).unwrap().unwrap().records, 2);
    let records = store.records(&Filter::default()).unwrap();
    assert_eq!(
        records[0].content_key.as_deref(),
        Some(keyring.key_ids()[1])
    );
    assert_eq!(
        records[1].content_key.as_deref(),
        Some(keyring.current_id())
    );
    assert!(records[0].decrypt(&keyring).unwrap().is_some());
}
