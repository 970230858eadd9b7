//! The hash chain: what verify finds after each kind of tampering, purge anchors, content modes,
//! and no request text in the database file.

use ward_audit::{ContentMode, Filter, SealedRecord, Store};

use crate::{keyring, phi_call, TestDb};

fn filled(db: &TestDb, keyring: &ward_audit::Keyring, count: usize) -> Store {
    let mut store = Store::open(&db.location).unwrap();
    let records: Vec<SealedRecord> = (0..count)
        .map(|number| {
            let (event, content) = phi_call(number);
            SealedRecord::seal(
                event,
                Some(&content),
                ContentMode::Encrypted,
                keyring,
                1_000 + number as i64,
            )
        })
        .collect();
    // Several commits, as a server makes them.
    for part in records.chunks(7) {
        store.append(part, keyring).unwrap();
    }
    store
}

fn broken_at(store: &mut Store, keyring: &ward_audit::Keyring) -> String {
    store.verify(keyring).unwrap().unwrap_err().to_string()
}

#[test]
fn an_untouched_chain_verifies_and_content_decrypts() {
    for db in TestDb::all() {
        let keyring = keyring();
        let mut store = filled(&db, &keyring, 30);
        let verified = store.verify(&keyring).unwrap().unwrap();
        assert_eq!(
            (verified.records, verified.first_seq, verified.last_seq),
            (30, Some(1), Some(30))
        );
        let records = store.records(&Filter::default()).unwrap();
        let content = records[4].decrypt(&keyring).unwrap().unwrap();
        assert!(content.response.starts_with("Marguerite Oyelaran-4 "));
        assert_eq!(records[4].event().unwrap().phi["MRN"], 1);
        // The wrong key fails cleanly and names the record's key.
        let error = records[4].decrypt(&crate::keyring()).unwrap_err();
        assert!(error.message.contains("not in the key file"), "{error}");
    }
}

#[test]
fn one_changed_byte_is_found_and_named() {
    for db in TestDb::all() {
        let keyring = keyring();
        let mut store = filled(&db, &keyring, 20);
        let id = store.records(&Filter::default()).unwrap()[11].id.clone();
        db.tamper("UPDATE audit_records SET meta = replace(meta, '\"status\":200', '\"status\":201') WHERE seq = 12");
        let message = broken_at(&mut store, &keyring);
        assert!(
            message.starts_with(&format!("record 12 ({id}): was altered")),
            "{message}"
        );
    }
}

#[test]
fn changed_content_and_changed_key_columns_are_found() {
    for db in TestDb::all() {
        let keyring = keyring();
        let mut store = filled(&db, &keyring, 10);
        db.tamper("UPDATE audit_records SET key_id = 'someone-else' WHERE seq = 3");
        assert!(broken_at(&mut store, &keyring).starts_with("record 3 "));
        db.tamper("UPDATE audit_records SET key_id = 'k2' WHERE seq = 3");
        store.verify(&keyring).unwrap().unwrap();
        let blob = store.records(&Filter::default()).unwrap()[5]
            .content
            .clone()
            .unwrap();
        let mut flipped = blob.clone();
        flipped[15] ^= 0x01;
        let hex_of = |bytes: &[u8]| {
            bytes
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect::<String>()
        };
        let literal = match db.location {
            ward_audit::Location::Sqlite(_) => format!("X'{}'", hex_of(&flipped)),
            ward_audit::Location::Postgres(_) => format!("'\\x{}'::bytea", hex_of(&flipped)),
        };
        db.tamper(&format!(
            "UPDATE audit_records SET content = {literal} WHERE seq = 6"
        ));
        assert!(broken_at(&mut store, &keyring).starts_with("record 6 "));
    }
}

#[test]
fn deleting_inserting_or_reordering_records_is_found() {
    for db in TestDb::all() {
        let keyring = keyring();
        let mut store = filled(&db, &keyring, 12);
        db.tamper("DELETE FROM audit_records WHERE seq = 5");
        let message = broken_at(&mut store, &keyring);
        assert!(
            message.starts_with("record 6 ") && message.contains("missing"),
            "{message}"
        );
    }
    for db in TestDb::all() {
        let keyring = keyring();
        let mut store = filled(&db, &keyring, 12);
        // Swap two records' positions, keeping every stored hash.
        db.tamper("UPDATE audit_records SET seq = -1 WHERE seq = 8; UPDATE audit_records SET seq = 8 WHERE seq = 9; UPDATE audit_records SET seq = 9 WHERE seq = -1;");
        let message = broken_at(&mut store, &keyring);
        assert!(
            message.starts_with("record 8 ") && message.contains("does not link"),
            "{message}"
        );
    }
    for db in TestDb::all() {
        let keyring = keyring();
        let mut store = filled(&db, &keyring, 12);
        // A forged record in the middle, renumbering the rest.
        db.tamper("UPDATE audit_records SET seq = seq + 100 WHERE seq > 4; UPDATE audit_records SET seq = seq - 99 WHERE seq > 100; INSERT INTO audit_records (seq, id, time_us, key_id, meta, content_mode, content_key, content, prev_hash, hash) SELECT 5, 'forged', time_us, key_id, meta, content_mode, content_key, content, hash, hash FROM audit_records WHERE seq = 4;");
        let message = broken_at(&mut store, &keyring);
        assert!(message.starts_with("record 5 (forged)"), "{message}");
    }
}

#[test]
fn records_cut_off_the_end_are_found_through_the_signed_head() {
    for db in TestDb::all() {
        let keyring = keyring();
        let mut store = filled(&db, &keyring, 9);
        db.tamper("DELETE FROM audit_records WHERE seq >= 8");
        let message = broken_at(&mut store, &keyring);
        assert!(
            message.contains("records 8 to 9 were removed from the end"),
            "{message}"
        );
        // Moving the head back needs the key: a copied signature does not fit.
        db.tamper("UPDATE audit_anchors SET seq = 7 WHERE kind = 'head'");
        assert!(broken_at(&mut store, &keyring).contains("bad signature"));
    }
}

#[test]
fn purge_keeps_the_rest_verifiable_and_appends_continue() {
    for db in TestDb::all() {
        let keyring = keyring();
        let mut store = filled(&db, &keyring, 25);
        // Another key file cannot purge (and nothing is deleted trying).
        let error = store.purge(1_010, &crate::keyring()).unwrap_err();
        assert!(
            error.message.contains("not in the key file"),
            "{}",
            error.message
        );
        let purged = store.purge(1_010, &keyring).unwrap();
        assert_eq!((purged.records, purged.through_seq), (10, Some(10)));
        let verified = store.verify(&keyring).unwrap().unwrap();
        assert_eq!(
            (
                verified.records,
                verified.first_seq,
                verified.purged_through
            ),
            (15, Some(11), Some(10))
        );
        let (event, content) = phi_call(99);
        let sealed = SealedRecord::seal(event, Some(&content), ContentMode::Hash, &keyring, 5_000);
        assert_eq!(store.append(&[sealed], &keyring).unwrap(), vec![26]);
        store.verify(&keyring).unwrap().unwrap();
        // Purging everything leaves an anchor the next record links to.
        assert_eq!(store.purge(10_000, &keyring).unwrap().records, 16);
        assert_eq!(store.purge(10_000, &keyring).unwrap().records, 0);
        let (event, content) = phi_call(100);
        let sealed = SealedRecord::seal(event, Some(&content), ContentMode::Off, &keyring, 20_000);
        assert_eq!(store.append(&[sealed], &keyring).unwrap(), vec![27]);
        let verified = store.verify(&keyring).unwrap().unwrap();
        assert_eq!((verified.records, verified.purged_through), (1, Some(26)));
        // Removing a kept record just after the anchor is still found.
        db.tamper("DELETE FROM audit_records WHERE seq = 27");
        assert!(broken_at(&mut store, &keyring).contains("removed from the end"));
    }
}

#[test]
fn content_modes_keep_what_they_say() {
    let db = TestDb::sqlite();
    let keyring = keyring();
    let mut store = Store::open(&db.location).unwrap();
    let (event, content) = phi_call(1);
    let hashed = SealedRecord::seal(
        event.clone(),
        Some(&content),
        ContentMode::Hash,
        &keyring,
        1,
    );
    assert_eq!(hashed.content.as_ref().map(Vec::len), Some(32));
    let off = SealedRecord::seal(event, Some(&content), ContentMode::Off, &keyring, 2);
    assert_eq!(off.content, None);
    store.append(&[hashed, off], &keyring).unwrap();
    let records = store
        .records(&Filter {
            newest_first: true,
            limit: Some(1),
            ..Filter::default()
        })
        .unwrap();
    assert_eq!(
        (
            records.len(),
            records[0].seq,
            records[0].content_mode.as_str()
        ),
        (1, 2, "off")
    );
    assert_eq!(records[0].decrypt(&keyring).unwrap(), None);
}

#[test]
fn the_database_file_holds_no_request_text_when_content_is_encrypted() {
    let db = TestDb::sqlite();
    let keyring = keyring();
    drop(filled(&db, &keyring, 40));
    let ward_audit::Location::Sqlite(path) = &db.location else {
        unreachable!()
    };
    let mut raw = std::fs::read(path).unwrap();
    for suffix in ["-wal", "-shm"] {
        raw.extend(std::fs::read(format!("{}{suffix}", path.display())).unwrap_or_default());
    }
    let raw = String::from_utf8_lossy(&raw);
    assert!(raw.contains("/v1/chat/completions"), "metadata is in clear");
    for value in ["Marguerite", "Oyelaran", "8800007", "follow-up"] {
        assert!(
            !raw.contains(value),
            "{value} is readable in the database file"
        );
    }
}
