//! A deployment as an operator runs it (a data folder, a database, perhaps object storage) and its
//! `choucha serve` processes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use choucha_domain::audit::AuditHash;
use choucha_service::Services;
use choucha_service::files::{FileStore, S3Config};

use super::TempDir;

/// One deployment: a data folder, a database and where its files are.
pub struct Deployment {
    pub dir: TempDir,
    pub url: String,
    /// Object storage (`CHOUCHA_FILES_*`), or the data folder when `None`.
    pub s3: Option<S3Config>,
}

impl Deployment {
    pub fn sqlite(tag: &str) -> Deployment {
        let dir = TempDir::new(tag);
        let url = format!("sqlite:{}", dir.data().join("choucha.db").display());
        Deployment { dir, url, s3: None }
    }

    pub fn data(&self) -> PathBuf {
        self.dir.data()
    }

    /// The binary with this deployment's configuration: flags for the folder and the database,
    /// the environment for object storage.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = super::choucha();
        c.current_dir(self.dir.path());
        c.args(args).args(["--data-dir", &self.data().display().to_string(), "--database-url", &self.url]);
        if let Some(s3) = &self.s3 {
            c.env("CHOUCHA_FILES_URL", &s3.url)
                .env("CHOUCHA_FILES_ENDPOINT", s3.endpoint.as_deref().unwrap_or_default())
                .env("CHOUCHA_FILES_REGION", s3.region.as_deref().unwrap_or_default())
                .env("CHOUCHA_FILES_ACCESS_KEY_ID", s3.access_key_id.as_deref().unwrap_or_default())
                .env("CHOUCHA_FILES_SECRET_ACCESS_KEY", s3.secret_access_key.as_deref().unwrap_or_default())
                .env("CHOUCHA_FILES_ALLOW_HTTP", "true");
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).stdin(Stdio::null()).output().expect("run choucha")
    }

    pub fn files(&self) -> FileStore {
        match &self.s3 {
            Some(c) => FileStore::s3(c).expect("object storage"),
            None => FileStore::local(self.data()),
        }
    }

    /// The services of this deployment, in this process (its audit key from the data folder).
    pub async fn services(&self) -> Services {
        let keys =
            choucha_store::audit_files::load_or_create_keyring(&self.data().join("audit.key"), AuditHash::HmacSha256)
                .expect("audit key");
        let store = choucha_store::Store::connect(&self.url).await.expect("connect").with_audit_keys(keys);
        Services::new(store, self.data()).with_files(self.files())
    }
}

pub fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

pub fn assert_ok(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what} failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
}

/// A running `choucha serve` of a deployment, killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    pub async fn start(d: &Deployment, config: &Path) -> Server {
        let mut cmd = d.cmd(&["serve", "--listen", "127.0.0.1:0", "--config", &config.display().to_string()]);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("spawn serve");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let started = Instant::now();
        let base = loop {
            match rx.recv_timeout(Duration::from_secs(1)) {
                Ok(line) => {
                    if let Some(i) = line.find("http://") {
                        break line[i..].trim().to_string();
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => panic!("serve exited early"),
            }
            assert!(started.elapsed() < Duration::from_secs(120), "serve did not start");
        };
        Server { child, base }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
