//! The keyed audit chain through the real `choucha` binary on a real data folder (SQLite), and on
//! PostgreSQL when `CHOUCHA_TEST_DATABASE_URL` is set: the key files are created owner-only, a
//! checkpoint is signed, deleting the last records and moving the head back is named against it
//! (from the local checkpoint file and from the bureau's export), and a rotated key keeps the older
//! records verifying.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::process::Output;

use sea_orm::ConnectionTrait;
use serde_json::Value;

mod common;
use common::{TempDir, choucha, nanos, run_with_stdin, scalar};

/// Run the binary with a clean environment and these global arguments appended.
fn run(t: &TempDir, global: &[String], args: &[&str], stdin: Option<&str>) -> Output {
    run_with_stdin(choucha().current_dir(t.path()).args(args).args(global), stdin)
}

fn out(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn ok(o: &Output, what: &str) {
    assert!(o.status.success(), "{what}: {}", out(o));
}

async fn exec(url: &str, sql: &str) {
    let store = choucha_store::Store::connect(url).await.expect("connect");
    store.reader().execute_unprepared(sql).await.expect(sql);
    store.close().await.expect("close");
}

#[cfg(unix)]
fn owner_only(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777 == 0o600).unwrap_or(false)
}

#[cfg(not(unix))]
fn owner_only(p: &Path) -> bool {
    p.exists()
}

/// The truncation attack on the database at `url` (the data folder of `t` holds the keys).
async fn truncation_is_named_against_the_checkpoint(t: &TempDir, global: &[String], url: &str) {
    ok(&run(t, global, &["demo"], None), "demo");
    assert!(owner_only(&t.data().join("audit.key")), "audit.key is created 0600");
    let clean = run(t, global, &["audit", "verify", "--deep"], None);
    ok(&clean, "clean verify");
    assert!(stdout(&clean).contains("业务数据一致"), "{}", out(&clean));

    let cp = run(t, global, &["audit", "checkpoint"], None);
    ok(&cp, "checkpoint");
    assert!(owner_only(&t.data().join("audit-signing.key")), "the signing key is created 0600");
    let head = scalar(url, "SELECT seq FROM audit_head WHERE id = 1").await;
    assert!(stdout(&cp).contains(&format!("已写入检查点：记录 #{head}")), "{}", out(&cp));
    ok(&run(t, global, &["audit", "verify"], None), "verify against the checkpoint");

    let export = t.path().join("bureau-checkpoints.json");
    let e = run(t, global, &["audit", "checkpoint", "export", "--out", &export.display().to_string()], None);
    ok(&e, "export");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&export).expect("export file")).expect("json");
    assert_eq!(doc["algorithm"], "ed25519");
    assert_eq!(doc["public_key"].as_str().map(str::len), Some(64));
    assert_eq!(doc["checkpoints"][0]["seq"], head);

    // The archive of a range of days for off-line keeping: records, checkpoints, manifest (issue 15).
    let today = choucha_domain::clock::Clock::system().today();
    let archive = t.path().join("audit-archive.zip");
    let (from, to) = ((today - chrono::Duration::days(1)).to_string(), today.to_string());
    let a = run(
        t,
        global,
        &["audit", "export", "--from", &from, "--to", &to, "--out", &archive.display().to_string()],
        None,
    );
    ok(&a, "audit export");
    assert!(stdout(&a).contains("审计记录") && stdout(&a).contains("SHA-256"), "{}", out(&a));
    assert!(std::fs::read(&archive).expect("archive").starts_with(b"PK"));
    let bad = run(t, global, &["audit", "export", "--from", &to, "--to", &from], None);
    assert!(!bad.status.success(), "{}", out(&bad));
    // The export is itself a record: the head moved on, so sign it again before the attack.
    ok(&run(t, global, &["audit", "checkpoint"], None), "checkpoint after the export");
    let head = scalar(url, "SELECT seq FROM audit_head WHERE id = 1").await;
    let e = run(t, global, &["audit", "checkpoint", "export", "--out", &export.display().to_string()], None);
    ok(&e, "export again");

    // Delete the last three records and move the head back to the one before them.
    let kept = head - 3;
    let hash = {
        let store = choucha_store::Store::connect(url).await.expect("connect");
        let r = choucha_store::audit::get(store.reader(), kept).await.expect("record");
        store.close().await.expect("close");
        r.hash
    };
    exec(url, &format!("DELETE FROM audit_log WHERE seq > {kept}")).await;
    exec(url, &format!("UPDATE audit_head SET seq = {kept}, hash = '{hash}' WHERE id = 1")).await;
    let expected = format!("审计链已被截断：检查点记录到 #{head}，数据库只到 #{kept}");
    let v = run(t, global, &["audit", "verify"], None);
    assert_eq!(v.status.code(), Some(1), "{}", out(&v));
    assert!(stdout(&v).contains(&expected), "{}", out(&v));
    // The bureau's copy names it too, even with the local checkpoint file gone.
    std::fs::remove_file(t.data().join("audit-checkpoints.jsonl")).expect("remove");
    let v = run(t, global, &["audit", "verify", "--checkpoints", &export.display().to_string()], None);
    assert_eq!(v.status.code(), Some(1), "{}", out(&v));
    assert!(stdout(&v).contains(&expected), "{}", out(&v));
}

#[tokio::test]
async fn sqlite_truncation_after_a_checkpoint_is_named() {
    let t = TempDir::new("audit-cli-trunc");
    let global = vec!["--data-dir".to_string(), t.data().display().to_string()];
    let url = format!("sqlite:{}", t.data().join("choucha.db").display());
    truncation_is_named_against_the_checkpoint(&t, &global, &url).await;
}

#[tokio::test]
async fn postgresql_truncation_after_a_checkpoint_is_named() {
    let Some(base) = std::env::var("CHOUCHA_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("CHOUCHA_TEST_DATABASE_URL not set: PostgreSQL test skipped");
        return;
    };
    let nanos = nanos();
    let schema = format!("t_audit_{}_{}", std::process::id(), nanos % 1_000_000_000);
    exec(&base, &format!("CREATE SCHEMA {schema}")).await;
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    let t = TempDir::new("audit-cli-pg");
    let global =
        vec!["--data-dir".to_string(), t.data().display().to_string(), "--database-url".to_string(), url.clone()];
    truncation_is_named_against_the_checkpoint(&t, &global, &url).await;
    exec(&base, &format!("DROP SCHEMA {schema} CASCADE")).await;
}

#[tokio::test]
async fn a_rotated_key_seals_new_records_and_the_old_ones_still_verify() {
    let t = TempDir::new("audit-cli-rotate");
    let global = vec!["--data-dir".to_string(), t.data().display().to_string()];
    let url = format!("sqlite:{}", t.data().join("choucha.db").display());
    ok(&run(&t, &global, &["demo"], None), "demo");
    let r = run(&t, &global, &["audit", "rotate-key"], None);
    ok(&r, "rotate-key");
    assert!(stdout(&r).contains("已轮换审计密钥"), "{}", out(&r));
    let key_file = std::fs::read_to_string(t.data().join("audit.key")).expect("key file");
    assert_eq!(key_file.lines().filter(|l| !l.trim().is_empty()).count(), 2, "the old key is kept");
    assert!(owner_only(&t.data().join("audit.key")));
    let u =
        run(&t, &global, &["user", "create", "lab.li", "--role", "tester", "--org", "tfb"], Some("Lab2025secret\n"));
    ok(&u, "user create after the rotation");
    assert_eq!(scalar(&url, "SELECT COUNT(DISTINCT key_id) FROM audit_log").await, 2);
    ok(&run(&t, &global, &["audit", "verify"], None), "verify across the rotation");
    // Losing the old key is named, not silently accepted.
    let new_key = key_file.lines().rfind(|l| !l.trim().is_empty()).expect("new key").to_string();
    std::fs::write(t.data().join("only-new.key"), format!("{new_key}\n")).expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(t.data().join("only-new.key"), std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    let mut g = global.clone();
    g.extend(["--config".to_string(), t.path().join("c.toml").display().to_string()]);
    std::fs::write(
        t.path().join("c.toml"),
        format!("audit_key_file = {:?}\n", t.data().join("only-new.key").display().to_string()),
    )
    .expect("config");
    let v = run(&t, &g, &["audit", "verify"], None);
    assert_eq!(v.status.code(), Some(1), "{}", out(&v));
    assert!(stdout(&v).contains("审计记录 #1 由未知密钥"), "{}", out(&v));
}
