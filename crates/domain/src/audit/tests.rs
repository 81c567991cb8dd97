use super::*;

fn key(b: u8) -> AuditKey {
    AuditKey::new(vec![b; 32]).expect("key")
}

fn content(seq: i64) -> AuditContent {
    AuditContent {
        seq,
        at: format!("2025-10-0{seq}T08:00:00.000000Z"),
        actor_id: Some(1),
        actor_name: "admin".into(),
        action: "user.create".into(),
        object_type: "user".into(),
        object_id: seq.to_string(),
        before: "null".into(),
        after: format!("{{\"username\":\"u{seq}\"}}"),
        rows: String::new(),
    }
}

/// A chain of `n` records sealed with `hash` and `key` (unkeyed when `key` is `None`).
fn chain_from(start: i64, n: i64, prev: &str, hash: AuditHash, key: Option<&AuditKey>) -> Vec<StoredAudit> {
    let mut prev = prev.to_string();
    (start..start + n)
        .map(|seq| {
            let seal = Seal { hash, key_id: key.map(|k| k.id().to_string()).unwrap_or_default() };
            let content = content(seq);
            let h = chain_hash(&seal, key, &prev, &content);
            let r = StoredAudit { content, seal, prev_hash: prev.clone(), hash: h.clone() };
            prev = h;
            r
        })
        .collect()
}

fn chain(n: i64) -> Vec<StoredAudit> {
    chain_from(1, n, GENESIS_HASH, AuditHash::Sha256, None)
}

fn keyed(n: i64, k: &AuditKey) -> Vec<StoredAudit> {
    chain_from(1, n, GENESIS_HASH, AuditHash::HmacSha256, Some(k))
}

fn ring(k: &AuditKey) -> AuditKeyring {
    AuditKeyring::new(AuditHash::HmacSha256, k.clone(), Vec::new()).expect("keyring")
}

fn verify_with(v: ChainVerifier, records: &[StoredAudit], head: (i64, &str)) -> Result<i64, ChainBreak> {
    let mut v = v;
    for r in records {
        v.push(r)?;
    }
    v.finish(head.0, head.1)
}

fn verify(records: &[StoredAudit], head: (i64, &str)) -> Result<i64, ChainBreak> {
    verify_with(ChainVerifier::default(), records, head)
}

#[test]
fn intact_chain_verifies() {
    let c = chain(4);
    let head = c[3].hash.clone();
    assert_eq!(verify(&c, (4, &head)), Ok(4));
}

#[test]
fn legacy_records_keep_their_original_hash() {
    // The canonical form of records written before keying must not change, or old chains break.
    let c = content(1);
    let old = serde_json::json!([
        "sha256",
        GENESIS_HASH,
        1,
        c.at,
        c.actor_id,
        c.actor_name,
        c.action,
        c.object_type,
        c.object_id,
        c.before,
        c.after
    ]);
    let expected = hex::encode(Sha256::digest(old.to_string().as_bytes()));
    assert_eq!(chain(1)[0].hash, expected);
}

#[test]
fn keyed_records_keep_their_canonical_form() {
    // The canonical form of keyed records must not change either, or stored chains break.
    let k = key(7);
    let mut c = content(1);
    c.rows = r#"[{"table":"users","id":"1","hash":"ab"}]"#.into();
    for hash in [AuditHash::HmacSha256, AuditHash::HmacSm3] {
        let seal = Seal { hash, key_id: k.id().to_string() };
        let canonical = serde_json::json!([
            hash.as_str(),
            k.id(),
            GENESIS_HASH,
            1,
            c.at,
            c.actor_id,
            c.actor_name,
            c.action,
            c.object_type,
            c.object_id,
            c.before,
            c.after,
            c.rows
        ]);
        let expected = hash.seal(&[7; 32], canonical.to_string().as_bytes());
        assert_eq!(chain_hash(&seal, Some(&k), GENESIS_HASH, &c), expected);
    }
}

#[test]
fn altered_record_is_named() {
    let mut c = chain(4);
    let head = c[3].hash.clone();
    c[1].content.after = "{\"username\":\"mallory\"}".into();
    assert_eq!(verify(&c, (4, &head)), Err(ChainBreak::Altered { seq: 2 }));
}

#[test]
fn rehashed_record_breaks_the_link_of_the_next() {
    let mut c = chain(4);
    let head = c[3].hash.clone();
    c[1].content.after = "{}".into();
    c[1].hash = chain_hash(&c[1].seal, None, &c[1].prev_hash, &c[1].content);
    assert_eq!(verify(&c, (4, &head)), Err(ChainBreak::Unlinked { seq: 3 }));
}

#[test]
fn deleted_records_are_found() {
    let c = chain(4);
    let head = c[3].hash.clone();
    let mut middle = c.clone();
    middle.remove(2);
    assert_eq!(verify(&middle, (4, &head)), Err(ChainBreak::Gap { expected: 3, found: 4 }));
    let mut tail = c;
    tail.pop();
    assert_eq!(verify(&tail, (4, &head)), Err(ChainBreak::Truncated { head_seq: 4, last_seq: 3 }));
}

#[test]
fn keyed_chain_verifies_with_its_key_only() {
    let k = key(7);
    let c = keyed(5, &k);
    let head = c[4].hash.clone();
    assert_eq!(verify_with(ChainVerifier::new(Some(&ring(&k))), &c, (5, &head)), Ok(5));
    let other = key(8);
    assert_eq!(
        verify_with(ChainVerifier::new(Some(&ring(&other))), &c, (5, &head)),
        Err(ChainBreak::UnknownKey { seq: 1, key_id: k.id().to_string() })
    );
}

#[test]
fn sm3_chain_verifies_and_differs_from_sha256() {
    let k = key(7);
    let sm3 = chain_from(1, 3, GENESIS_HASH, AuditHash::HmacSm3, Some(&k));
    let sha = keyed(3, &k);
    assert_ne!(sm3[0].hash, sha[0].hash);
    let ring = AuditKeyring::new(AuditHash::HmacSm3, k.clone(), Vec::new()).expect("ring");
    assert_eq!(verify_with(ChainVerifier::new(Some(&ring)), &sm3, (3, &sm3[2].hash.clone())), Ok(3));
    // The SM3 digest of "abc" from GB/T 32905's example.
    assert_eq!(AuditHash::HmacSm3.digest(b"abc"), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
}

#[test]
fn altering_and_rehashing_without_the_key_is_named_at_the_altered_record() {
    let k = key(7);
    let mut c = keyed(5, &k);
    // The attacker changes record 3 and recomputes 3..5 with plain SHA-256, keeping the columns.
    c[2].content.after = "{\"username\":\"mallory\"}".into();
    let mut prev = c[1].hash.clone();
    for r in &mut c[2..] {
        r.prev_hash = prev.clone();
        r.hash = chain_hash(&Seal { hash: AuditHash::Sha256, key_id: String::new() }, None, &prev, &r.content);
        prev = r.hash.clone();
    }
    let head = prev.clone();
    let v = ChainVerifier::new(Some(&ring(&k)));
    assert_eq!(verify_with(v, &c, (5, &head)), Err(ChainBreak::Altered { seq: 3 }));
    // Marking them unkeyed is a downgrade.
    for r in &mut c[2..] {
        r.seal = Seal { hash: AuditHash::Sha256, key_id: String::new() };
    }
    let v = ChainVerifier::new(Some(&ring(&k)));
    assert_eq!(verify_with(v, &c, (5, &head)), Err(ChainBreak::Downgraded { seq: 3 }));
}

#[test]
fn legacy_prefix_then_keyed_records_verify() {
    let k = key(7);
    let mut c = chain(2);
    let prev = c[1].hash.clone();
    c.extend(chain_from(3, 2, &prev, AuditHash::HmacSha256, Some(&k)));
    let head = c[3].hash.clone();
    let mut v = ChainVerifier::new(Some(&ring(&k)));
    for r in &c {
        v.push(r).expect("intact");
    }
    assert_eq!(v.legacy(), 2);
    assert_eq!(v.finish(4, &head), Ok(4));
}

#[test]
fn rotated_keys_verify_their_own_records() {
    let (old, new) = (key(1), key(2));
    let mut c = keyed(2, &old);
    let prev = c[1].hash.clone();
    c.extend(chain_from(3, 2, &prev, AuditHash::HmacSha256, Some(&new)));
    let head = c[3].hash.clone();
    let rotated = AuditKeyring::new(AuditHash::HmacSha256, new.clone(), vec![old.clone()]).expect("ring");
    assert_eq!(verify_with(ChainVerifier::new(Some(&rotated)), &c, (4, &head)), Ok(4));
    // Without the retired key the old records are named.
    assert_eq!(
        verify_with(ChainVerifier::new(Some(&ring(&new))), &c, (4, &head)),
        Err(ChainBreak::UnknownKey { seq: 1, key_id: old.id().to_string() })
    );
}

#[test]
fn checkpoint_names_a_truncation_and_a_rehash() {
    let c = chain(5);
    let cp = (4, c[3].hash.clone());
    // Records 4 and 5 deleted and the head moved back to 3.
    let v = ChainVerifier::default().with_checkpoint(cp.0, &cp.1);
    let b = verify_with(v, &c[..3], (3, &c[2].hash.clone())).expect_err("truncated");
    assert_eq!(b, ChainBreak::CheckpointTruncated { checkpoint_seq: 4, last_seq: 3 });
    assert_eq!(b.to_string(), "审计链已被截断：检查点记录到 #4，数据库只到 #3");
    // The whole chain rewritten consistently from record 2 on.
    let mut forged = chain(1);
    let mut rest = chain_from(2, 4, &forged[0].hash.clone(), AuditHash::Sha256, None);
    rest[0].content.after = "{}".into();
    let mut prev = forged[0].hash.clone();
    for r in &mut rest {
        r.prev_hash = prev.clone();
        r.hash = chain_hash(&r.seal, None, &prev, &r.content);
        prev = r.hash.clone();
    }
    forged.extend(rest);
    let v = ChainVerifier::default().with_checkpoint(cp.0, &cp.1);
    assert_eq!(verify_with(v, &forged, (5, &prev)), Err(ChainBreak::Rehashed { seq: 4 }));
}

#[test]
fn key_debug_hides_the_secret() {
    let k = key(0xab);
    assert!(!format!("{k:?}").contains("abab"));
    assert_eq!(k.id().len(), 16);
    assert!(AuditKey::from_hex("abcd").is_none(), "short keys are refused");
}
