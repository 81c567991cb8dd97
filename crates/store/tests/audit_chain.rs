#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! The audit chain on a real database (SQLite, or PostgreSQL with CHOUCHA_TEST_DATABASE_URL).

use choucha_domain::audit::{
    AuditContent, AuditHash, AuditKey, AuditKeyring, ChainBreak, GENESIS_HASH, Seal, chain_hash,
};
use choucha_domain::audit_checkpoint::{Checkpoint, verify_checkpoint};
use choucha_store::audit::{self, AuditActor, AuditEntry, Verification, VerifyOptions};
use choucha_store::fixtures::TestDb;
use choucha_store::{StoreError, audit_files};
use sea_orm::ConnectionTrait;
use serde_json::json;

async fn write(db: &TestDb, n: usize) {
    for i in 0..n {
        let tx = db.store.begin().await.expect("begin");
        audit::append(
            &tx,
            &AuditActor { id: Some(1), name: "admin".into() },
            AuditEntry::new("test.write", "thing", i, json!(null), json!({ "i": i, "名称": "大同" })),
        )
        .await
        .expect("append");
        tx.commit().await.expect("commit");
    }
}

#[tokio::test]
async fn intact_chain_verifies_and_an_altered_row_is_named() {
    let db = TestDb::new().await.expect("db");
    write(&db, 5).await;
    assert_eq!(audit::verify(&db.store, |_| {}).await.expect("verify"), Verification::Intact { records: 5 });

    db.store
        .reader()
        .execute_unprepared("UPDATE audit_log SET after_json = '{\"i\":99}' WHERE seq = 3")
        .await
        .expect("tamper");
    match audit::verify(&db.store, |_| {}).await.expect("verify") {
        Verification::Broken(b) => assert!(b.to_string().contains("#3"), "{b}"),
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

#[tokio::test]
async fn deleted_row_is_found() {
    let db = TestDb::new().await.expect("db");
    write(&db, 4).await;
    db.store.reader().execute_unprepared("DELETE FROM audit_log WHERE seq = 4").await.expect("delete");
    assert!(matches!(audit::verify(&db.store, |_| {}).await.expect("verify"), Verification::Broken(_)));
}

#[tokio::test]
async fn a_write_without_audit_record_is_refused_and_rolled_back() {
    let db = TestDb::new().await.expect("db");
    let tx = db.store.begin().await.expect("begin");
    tx.execute_unprepared("UPDATE audit_head SET seq = seq WHERE id = 1").await.expect("write");
    assert!(matches!(tx.commit().await, Err(StoreError::Unaudited)));
}

#[tokio::test]
async fn concurrent_writers_keep_one_chain() {
    let db = TestDb::new().await.expect("db");
    let mut handles = Vec::new();
    for w in 0..4 {
        let store = db.store.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..10 {
                let tx = store.begin().await.expect("begin");
                audit::append(
                    &tx,
                    &AuditActor::system("t"),
                    AuditEntry::new("t", "w", format!("{w}-{i}"), json!(null), json!(i)),
                )
                .await
                .expect("append");
                tx.commit().await.expect("commit");
            }
        }));
    }
    for h in handles {
        h.await.expect("join");
    }
    assert_eq!(audit::verify(&db.store, |_| {}).await.expect("verify"), Verification::Intact { records: 40 });
}

// ---- The keyed chain and its checkpoints against the attacks of issue 13 ----

/// A data folder of its own (key files, checkpoint file), removed at the end.
struct Folder(std::path::PathBuf);

impl Folder {
    fn new() -> Folder {
        let p = std::env::temp_dir().join(format!("choucha-audit-{}", uuid_like()));
        std::fs::create_dir_all(&p).expect("folder");
        Folder(p)
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn uuid_like() -> String {
    hex::encode(rand::random::<[u8; 8]>())
}

async fn exec(db: &TestDb, sql: &str) {
    db.store.reader().execute_unprepared(sql).await.expect(sql);
}

async fn rows(db: &TestDb, from: i64) -> Vec<choucha_store::audit::AuditRow> {
    let mut out = Vec::new();
    let mut before = None;
    loop {
        let page = audit::list(db.store.reader(), &Default::default(), before, 100).await.expect("list");
        out.extend(page.items.into_iter().filter(|r| r.seq >= from));
        match page.next {
            Some(n) => before = Some(n.parse().expect("cursor")),
            None => break,
        }
    }
    out.sort_by_key(|r| r.seq);
    out
}

fn content_of(r: &choucha_store::audit::AuditRow) -> AuditContent {
    AuditContent {
        seq: r.seq,
        at: r.at.clone(),
        actor_id: r.actor_id,
        actor_name: r.actor_name.clone(),
        action: r.action.clone(),
        object_type: r.object_type.clone(),
        object_id: r.object_id.clone(),
        before: r.before_json.clone(),
        after: r.after_json.clone(),
        rows: r.rows_json.clone(),
    }
}

/// What a database writer without the key does: alter record `seq`, then recompute every later hash
/// with `seal` (and `key`, a key of their own) and move the head, so the chain links up again.
async fn alter_and_rehash(db: &TestDb, seq: i64, seal: &Seal, key: Option<&AuditKey>) {
    exec(db, &format!("UPDATE audit_log SET after_json = '{{\"i\":999}}' WHERE seq = {seq}")).await;
    let all = rows(db, 1).await;
    let mut prev = all.iter().find(|r| r.seq == seq - 1).map(|r| r.hash.clone()).unwrap_or(GENESIS_HASH.into());
    for r in all.iter().filter(|r| r.seq >= seq) {
        let h = chain_hash(seal, key, &prev, &content_of(r));
        exec(
            db,
            &format!(
                "UPDATE audit_log SET prev_hash = '{prev}', hash = '{h}', hash_alg = '{}', key_id = '{}' WHERE seq = {}",
                seal.hash.as_str(),
                seal.key_id,
                r.seq
            ),
        )
        .await;
        prev = h;
    }
    exec(db, &format!("UPDATE audit_head SET hash = '{prev}' WHERE id = 1")).await;
}

async fn verify_against(db: &TestDb, checkpoint: Option<&Checkpoint>) -> Verification {
    let opts = VerifyOptions { checkpoint: checkpoint.map(|c| (c.seq, c.hash.clone())), deep: false };
    audit::verify_with(&db.store, &opts, |_| {}).await.expect("verify").verification
}

fn broken(v: Verification) -> ChainBreak {
    match v {
        Verification::Broken(b) => b,
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

#[tokio::test]
async fn records_are_sealed_with_the_key_named_in_each_record() {
    let db = TestDb::new().await.expect("db");
    write(&db, 3).await;
    for r in rows(&db, 1).await {
        assert_eq!(r.hash_alg, "hmac-sha256");
        assert_eq!(r.key_id, db.keyring.current().id());
    }
    assert_eq!(audit::verify(&db.store, |_| {}).await.expect("verify"), Verification::Intact { records: 3 });
}

#[tokio::test]
async fn deleting_the_last_records_and_moving_the_head_back_is_named_by_the_checkpoint() {
    let db = TestDb::new().await.expect("db");
    let dir = Folder::new();
    let signer = audit_files::load_or_create_signer(&dir.0.join("audit-signing.key")).expect("signer");
    let file = dir.0.join("audit-checkpoints.jsonl");
    write(&db, 6).await;
    let cp = audit_files::write_checkpoint(&db.store, &signer, &file, true).await.expect("cp").expect("written");
    assert_eq!(cp.seq, 6);
    assert!(cp.at.ends_with("+08:00"), "Beijing time: {}", cp.at);
    assert_eq!(audit_files::write_checkpoint(&db.store, &signer, &file, true).await.expect("cp"), None, "unmoved");
    let read = audit_files::read_checkpoints(&file).expect("read");
    assert_eq!(read, vec![cp.clone()]);
    assert_eq!(verify_checkpoint(&read[0], &signer.public_key()), Ok(()));
    assert_eq!(verify_against(&db, Some(&cp)).await, Verification::Intact { records: 6 });

    // The attack: delete #5 and #6 and point the head at #4; the chain alone is consistent.
    let h4 = rows(&db, 4).await[0].hash.clone();
    exec(&db, "DELETE FROM audit_log WHERE seq > 4").await;
    exec(&db, &format!("UPDATE audit_head SET seq = 4, hash = '{h4}' WHERE id = 1")).await;
    assert_eq!(verify_against(&db, None).await, Verification::Intact { records: 4 }, "unseen without a checkpoint");
    let b = broken(verify_against(&db, Some(&cp)).await);
    assert_eq!(b, ChainBreak::CheckpointTruncated { checkpoint_seq: 6, last_seq: 4 });
    assert_eq!(b.to_string(), "审计链已被截断：检查点记录到 #6，数据库只到 #4");
}

#[tokio::test]
async fn altering_a_record_and_rehashing_without_the_key_is_named() {
    let db = TestDb::new().await.expect("db");
    write(&db, 5).await;
    // Plain SHA-256 over the keyed record's canonical form, the columns left as they were.
    let keep = Seal { hash: AuditHash::HmacSha256, key_id: db.keyring.current().id().to_string() };
    let plain = Seal { hash: AuditHash::Sha256, ..keep.clone() };
    alter_and_rehash(&db, 3, &plain, None).await;
    exec(&db, &format!("UPDATE audit_log SET hash_alg = 'hmac-sha256', key_id = '{}'", keep.key_id)).await;
    let b = broken(verify_against(&db, None).await);
    assert_eq!(b, ChainBreak::Altered { seq: 3 });
    assert!(b.to_string().contains("#3"), "{b}");
}

#[tokio::test]
async fn rehashing_as_unkeyed_records_is_named_as_a_downgrade() {
    let db = TestDb::new().await.expect("db");
    write(&db, 5).await;
    alter_and_rehash(&db, 2, &Seal { hash: AuditHash::Sha256, key_id: String::new() }, None).await;
    assert_eq!(broken(verify_against(&db, None).await), ChainBreak::Downgraded { seq: 2 });
}

#[tokio::test]
async fn a_chain_forged_with_another_key_is_named() {
    let db = TestDb::new().await.expect("db");
    write(&db, 5).await;
    let mallory = AuditKey::new(vec![0x4d; 32]).expect("key");
    // Under its own key id: an unknown key.
    let own = Seal { hash: AuditHash::HmacSha256, key_id: mallory.id().to_string() };
    alter_and_rehash(&db, 4, &own, Some(&mallory)).await;
    assert_eq!(
        broken(verify_against(&db, None).await),
        ChainBreak::UnknownKey { seq: 4, key_id: mallory.id().to_string() }
    );
    // Under the real key's id: the seal does not match.
    let db = TestDb::new().await.expect("db");
    write(&db, 5).await;
    let posing = Seal { hash: AuditHash::HmacSha256, key_id: db.keyring.current().id().to_string() };
    alter_and_rehash(&db, 4, &posing, Some(&mallory)).await;
    assert_eq!(broken(verify_against(&db, None).await), ChainBreak::Altered { seq: 4 });
}

#[tokio::test]
async fn a_chain_rewritten_from_the_first_record_is_named_by_the_checkpoint() {
    let db = TestDb::new().await.expect("db");
    let dir = Folder::new();
    let signer = audit_files::load_or_create_signer(&dir.0.join("s.key")).expect("signer");
    let file = dir.0.join("cp.jsonl");
    write(&db, 4).await;
    let cp = audit_files::write_checkpoint(&db.store, &signer, &file, true).await.expect("cp").expect("written");
    write(&db, 2).await;
    // Every record rewritten in the unkeyed form from #1 on: a legacy chain that verifies alone.
    alter_and_rehash(&db, 1, &Seal { hash: AuditHash::Sha256, key_id: String::new() }, None).await;
    let b = broken(verify_against(&db, Some(&cp)).await);
    assert_eq!(b, ChainBreak::Rehashed { seq: 4 });
    assert!(b.to_string().contains("#4"), "{b}");
}

#[tokio::test]
async fn sm3_is_selectable_as_the_chain_hash() {
    let db = TestDb::new().await.expect("db");
    let ring = AuditKeyring::new(AuditHash::HmacSm3, db.keyring.current().clone(), Vec::new()).expect("ring");
    let store = db.store.clone().with_audit_keys(ring);
    let tx = store.begin().await.expect("begin");
    audit::append(&tx, &AuditActor::system("t"), AuditEntry::new("t", "w", 1, json!(null), json!(1)))
        .await
        .expect("append");
    tx.commit().await.expect("commit");
    assert_eq!(rows(&db, 1).await[0].hash_alg, "hmac-sm3");
    assert_eq!(audit::verify(&store, |_| {}).await.expect("verify"), Verification::Intact { records: 1 });
}

#[tokio::test]
async fn key_rotation_keeps_older_records_verifying() {
    let db = TestDb::new().await.expect("db");
    let dir = Folder::new();
    let path = dir.0.join("audit.key");
    let first = audit_files::load_or_create_keyring(&path, AuditHash::HmacSha256).expect("created");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777, 0o600);
    }
    let store = db.store.clone().with_audit_keys(first.clone());
    for i in 0..3 {
        let tx = store.begin().await.expect("begin");
        audit::append(&tx, &AuditActor::system("t"), AuditEntry::new("t", "w", i, json!(null), json!(i)))
            .await
            .expect("append");
        tx.commit().await.expect("commit");
    }
    let new_id = audit_files::rotate_key(&path, AuditHash::HmacSha256).expect("rotated");
    assert_ne!(new_id, first.current().id());
    let rotated = audit_files::load_or_create_keyring(&path, AuditHash::HmacSha256).expect("reload");
    assert_eq!(rotated.current().id(), new_id);
    assert_eq!(rotated.ids(), vec![new_id.clone(), first.current().id().to_string()]);
    let store = db.store.clone().with_audit_keys(rotated);
    for i in 3..5 {
        let tx = store.begin().await.expect("begin");
        audit::append(&tx, &AuditActor::system("t"), AuditEntry::new("t", "w", i, json!(null), json!(i)))
            .await
            .expect("append");
        tx.commit().await.expect("commit");
    }
    let all = rows(&db, 1).await;
    assert!(all[..3].iter().all(|r| r.key_id == first.current().id()));
    assert!(all[3..].iter().all(|r| r.key_id == new_id));
    assert_eq!(audit::verify(&store, |_| {}).await.expect("verify"), Verification::Intact { records: 5 });
    // A keyring that lost the old key names the first record it can no longer check.
    let only_new = AuditKeyring::new(AuditHash::HmacSha256, store.audit_keys().expect("k").current().clone(), vec![])
        .expect("ring");
    let b = broken(audit::verify(&db.store.clone().with_audit_keys(only_new), |_| {}).await.expect("verify"));
    assert_eq!(b, ChainBreak::UnknownKey { seq: 1, key_id: first.current().id().to_string() });
}

#[cfg(unix)]
#[test]
fn a_key_file_others_may_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = Folder::new();
    let path = dir.0.join("audit.key");
    audit_files::load_or_create_keyring(&path, AuditHash::HmacSha256).expect("created");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let e = audit_files::load_or_create_keyring(&path, AuditHash::HmacSha256).expect_err("refused").to_string();
    assert!(e.contains("权限过宽") && e.contains("chmod 600"), "{e}");
}

#[tokio::test]
async fn records_written_before_keying_stay_verifiable_as_the_prefix() {
    let db = TestDb::new().await.expect("db");
    // An unkeyed store: the records of an installation before this change.
    let legacy = choucha_store::Store::connect(&db.connect_url()).await.expect("connect");
    for i in 0..2 {
        let tx = legacy.begin().await.expect("begin");
        audit::append(&tx, &AuditActor::system("old"), AuditEntry::new("t", "w", i, json!(null), json!(i)))
            .await
            .expect("append");
        tx.commit().await.expect("commit");
    }
    write(&db, 2).await;
    let report = audit::verify_with(&db.store, &VerifyOptions::default(), |_| {}).await.expect("verify");
    assert_eq!((report.verification, report.legacy), (Verification::Intact { records: 4 }, 2));
    // An unkeyed record after keyed ones is a downgrade.
    let tx = legacy.begin().await.expect("begin");
    audit::append(&tx, &AuditActor::system("old"), AuditEntry::new("t", "w", 9, json!(null), json!(9)))
        .await
        .expect("append");
    tx.commit().await.expect("commit");
    assert_eq!(broken(verify_against(&db, None).await), ChainBreak::Downgraded { seq: 5 });
}
