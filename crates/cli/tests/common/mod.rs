//! What the CLI's integration tests share: the binary with a clean environment, a temporary folder
//! and one number read from the database.
#![allow(dead_code)] // each test binary uses its own part
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sea_orm::{ConnectionTrait, Statement};

pub mod deployment;

/// Nanoseconds since the epoch: part of unique names (folders, PostgreSQL schemas).
pub fn nanos() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

/// A folder removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "choucha-{tag}-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            nanos()
        ));
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn data(&self) -> PathBuf {
        self.0.join("data")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The binary with a clean environment: no `CHOUCHA_*` configuration leaking in from the developer's
/// shell.
pub fn choucha() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_choucha"));
    c.env("RUST_LOG", "warn");
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("CHOUCHA_")) {
        c.env_remove(k);
    }
    c
}

/// Runs the binary with these arguments and waits for it.
pub fn output(args: &[&str]) -> Output {
    choucha().args(args).output().expect("run choucha")
}

/// Runs `cmd` with `stdin` on its standard input (closed after it), and waits for it.
pub fn run_with_stdin(cmd: &mut Command, stdin: Option<&str>) -> Output {
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn choucha");
    {
        let mut input = child.stdin.take().expect("stdin");
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).expect("write stdin");
        }
    }
    child.wait_with_output().expect("wait")
}

/// The one number `sql` selects.
pub async fn scalar(url: &str, sql: &str) -> i64 {
    let store = choucha_store::Store::connect(url).await.expect("connect");
    let row = store
        .reader()
        .query_one_raw(Statement::from_string(store.backend(), sql.to_string()))
        .await
        .expect(sql)
        .expect("row");
    let n = row.try_get_by_index::<i64>(0).expect("i64");
    store.close().await.expect("close");
    n
}
