//! The real `choucha` binary, run as an operator would: migrate, demo, user creation from standard
//! input, audit verification (intact and tampered), configuration layering, and `serve` stopped by
//! SIGTERM — on SQLite in a temporary data folder, and on PostgreSQL when
//! `CHOUCHA_TEST_DATABASE_URL` is set.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

mod common;
use common::{TempDir, nanos, run_with_stdin};

const DEMO_PASSWORD: &str = "Choucha2025";

/// The binary with a clean environment (no configuration leaking in from the developer's shell),
/// run in `cwd`.
fn choucha(cwd: &Path) -> Command {
    let mut c = common::choucha();
    c.current_dir(cwd);
    c
}

fn run(cwd: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    run_with_stdin(choucha(cwd).args(args), stdin)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_ok(o: &Output, what: &str) {
    assert!(o.status.success(), "{what} failed ({:?})\nstdout:\n{}\nstderr:\n{}", o.status, stdout(o), stderr(o));
}

fn data_args(t: &TempDir) -> Vec<String> {
    vec!["--data-dir".into(), t.data().display().to_string()]
}

fn args<'a>(base: &'a [String], more: &[&'a str]) -> Vec<&'a str> {
    let mut v: Vec<&str> = more.to_vec();
    v.extend(base.iter().map(String::as_str));
    v
}

/// A running `choucha serve`, killed if a test fails before stopping it.
struct Server {
    child: Child,
    base: String,
    output: mpsc::Receiver<String>,
}

impl Server {
    /// Start `serve` on a free port (port 0) and wait until /healthz answers.
    async fn start(cwd: &Path, extra: &[&str]) -> Server {
        let mut cmd = choucha(cwd);
        cmd.arg("serve").args(["--listen", "127.0.0.1:0"]).args(extra);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("spawn serve");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel::<String>();
        // Keep draining standard output so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let started = Instant::now();
        let mut seen = Vec::new();
        let base = loop {
            match rx.recv_timeout(Duration::from_secs(1)) {
                Ok(line) => {
                    if let Some(i) = line.find("http://") {
                        break line[i..].trim().to_string();
                    }
                    seen.push(line);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait().expect("wait");
                    panic!("serve exited early ({status:?}); stdout:\n{}", seen.join("\n"));
                }
            }
            assert!(started.elapsed() < Duration::from_secs(120), "serve did not start; stdout:\n{}", seen.join("\n"));
        };
        let server = Server { child, base, output: rx };
        server.wait_healthy().await;
        server
    }

    async fn wait_healthy(&self) {
        let client = reqwest::Client::new();
        for _ in 0..100 {
            if let Ok(r) = client.get(format!("{}/healthz", self.base)).send().await
                && r.status().is_success()
            {
                assert_eq!(r.text().await.expect("body"), "ok");
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("/healthz never answered at {}", self.base);
    }

    /// Send SIGTERM and wait for a clean exit.
    fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
        assert!(sent.success(), "kill -TERM {pid}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "serve did not stop within 30 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Lines the server printed after its address.
    fn printed(&self) -> Vec<String> {
        self.output.try_iter().collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

async fn token(base: &str, username: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("token request")
}

#[test]
fn migrate_demo_and_audit_verify_pass() {
    let t = TempDir::new("cli");
    let d = data_args(&t);
    let o = run(t.path(), &args(&d, &["migrate"]), None);
    assert_ok(&o, "migrate");
    assert!(stdout(&o).contains("数据库已迁移到最新版本"), "{}", stdout(&o));
    assert!(t.data().join("choucha.db").is_file());
    assert!(t.data().join("evidence").is_dir());

    let o = run(t.path(), &args(&d, &["demo"]), None);
    assert_ok(&o, "demo");
    let out = stdout(&o);
    assert!(out.contains("演示数据已载入"), "{out}");
    assert!(out.contains(DEMO_PASSWORD), "{out}");
    for user in [
        "admin",
        "security",
        "auditor",
        "regulator",
        "local_regulator",
        "sampler",
        "sampler2",
        "sample_custodian",
        "tester",
        "report_approver",
        "enterprise",
    ] {
        assert!(out.lines().any(|l| l.trim_start().starts_with(&format!("{user} "))), "account {user} listed:\n{out}");
    }

    let again = run(t.path(), &args(&d, &["demo"]), None);
    assert_ok(&again, "second demo");
    assert!(stdout(&again).contains("此前已载入"), "{}", stdout(&again));

    let v = run(t.path(), &args(&d, &["audit", "verify"]), None);
    assert_ok(&v, "audit verify");
    let out = stdout(&v);
    let line = out.lines().next().unwrap_or_default();
    assert!(line.starts_with("审计链完整：共 "), "{out}");
    let n: i64 = line.trim().trim_start_matches("审计链完整：共 ").trim_end_matches(" 条记录").parse().expect("count");
    assert!(n > 30, "{n} records");
}

#[tokio::test]
async fn audit_verify_names_the_tampered_record() {
    let t = TempDir::new("cli");
    let d = data_args(&t);
    assert_ok(&run(t.path(), &args(&d, &["demo"]), None), "demo");

    let url = format!("sqlite:{}", t.data().join("choucha.db").display());
    let store = choucha_store::Store::connect(&url).await.expect("open the database");
    let r = store
        .reader()
        .execute_unprepared(r#"UPDATE audit_log SET after_json = '{"name":"篡改后的名称"}' WHERE seq = 7"#)
        .await
        .expect("tamper");
    assert_eq!(r.rows_affected(), 1);
    store.close().await.expect("close");

    let v = run(t.path(), &args(&d, &["audit", "verify"]), None);
    assert_eq!(v.status.code(), Some(1), "stdout:\n{}\nstderr:\n{}", stdout(&v), stderr(&v));
    assert!(stdout(&v).contains("#7"), "names the record: {}", stdout(&v));
    assert!(stdout(&v).contains("篡改"), "{}", stdout(&v));
}

#[tokio::test]
async fn created_user_signs_in_for_an_api_token_and_serve_stops_on_sigterm() {
    let t = TempDir::new("cli");
    let d = data_args(&t);
    assert_ok(&run(t.path(), &args(&d, &["demo"]), None), "demo");
    let o = run(
        t.path(),
        &args(
            &d,
            &[
                "user",
                "create",
                "lab.zhang",
                "--role",
                "tester",
                "--role",
                "sample_custodian",
                "--org",
                "tfb",
                "--name",
                "张检验",
            ],
        ),
        Some("Lab2025secret\nsecond line is ignored\n"),
    );
    assert_ok(&o, "user create");
    assert!(stdout(&o).contains("已创建用户 lab.zhang"), "{}", stdout(&o));
    assert!(stdout(&o).contains("天纺标检测认证股份有限公司"), "{}", stdout(&o));

    // A production configuration requires a second factor of a lab's staff: no token before one is
    // enrolled.
    let server = Server::start(t.path(), &args(&d, &[])).await;
    let r = token(&server.base, "lab.zhang", "Lab2025secret").await;
    assert_eq!(r.status(), reqwest::StatusCode::FORBIDDEN);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["code"], "second_factor_enrolment_required", "{body}");
    assert!(server.stop().success());

    // A deployment that requires it of regulators only.
    let config = t.path().join("choucha.toml");
    std::fs::write(&config, "[security]\nsecond_factor_roles = [\"regulator\"]\n").expect("config");
    let config = config.display().to_string();
    let server = Server::start(t.path(), &args(&d, &["--config", &config])).await;
    let r = token(&server.base, "lab.zhang", "Lab2025secret").await;
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let body: Value = r.json().await.expect("json");
    let tok = body["token"].as_str().expect("token").to_string();
    let me: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/me", server.base))
        .bearer_auth(&tok)
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    assert_eq!(me["display_name"], "张检验");
    assert_eq!(me["roles"], json!(["sample_custodian", "tester"]));
    let wrong = token(&server.base, "lab.zhang", "Lab2025secreT").await;
    assert_eq!(wrong.status(), reqwest::StatusCode::UNAUTHORIZED);

    let status = server.stop();
    assert!(status.success(), "serve exits cleanly on SIGTERM: {status:?}");

    // On shutdown the chain's head is signed into the checkpoint file, and the chain verifies against it.
    let file = std::fs::read_to_string(t.data().join("audit-checkpoints.jsonl")).expect("checkpoint file");
    let last: Value = serde_json::from_str(file.lines().last().expect("a checkpoint")).expect("checkpoint json");
    let v = run(t.path(), &args(&d, &["audit", "verify"]), None);
    assert_ok(&v, "audit verify");
    let records = format!("共 {} 条记录", last["seq"].as_i64().expect("seq"));
    assert!(stdout(&v).contains(&records), "the checkpoint is the head at shutdown: {}\n{file}", stdout(&v));
}

#[test]
fn user_create_refuses_bad_input_in_chinese() {
    let t = TempDir::new("cli");
    let d = data_args(&t);
    assert_ok(&run(t.path(), &args(&d, &["demo"]), None), "demo");

    let nul = run(
        t.path(),
        &args(&d, &["user", "create", "lab.nul", "--role", "tester", "--org", "tfb", "--name", "张\u{1b}[31m检验"]),
        Some("Lab2025secret\n"),
    );
    assert!(!nul.status.success());
    assert!(stderr(&nul).contains("“显示名”含有不允许的控制字符（U+001B）"), "{}", stderr(&nul));

    let weak =
        run(t.path(), &args(&d, &["user", "create", "weakling", "--role", "tester", "--org", "tfb"]), Some("short\n"));
    assert!(!weak.status.success());
    assert!(stderr(&weak).contains("密码须为10至128位"), "{}", stderr(&weak));

    let several =
        run(t.path(), &args(&d, &["user", "create", "x", "--role", "boss", "--org", "nowhere"]), Some("Password123\n"));
    assert!(!several.status.success());
    let e = stderr(&several);
    assert!(e.contains("用户名须为3至32位"), "{e}");
    assert!(e.contains("未知角色“boss”"), "{e}");
    assert!(e.contains("机构“nowhere”不存在"), "{e}");

    let mismatch = run(
        t.path(),
        &args(&d, &["user", "create", "wrongplace", "--role", "tester", "--org", "dt-amr"]),
        Some("Password123\n"),
    );
    assert!(!mismatch.status.success());
    assert!(stderr(&mismatch).contains("不能属于"), "{}", stderr(&mismatch));

    let empty = run(t.path(), &args(&d, &["user", "create", "nopass", "--role", "admin"]), Some(""));
    assert!(!empty.status.success());
    assert!(stderr(&empty).contains("未从标准输入读到密码"), "{}", stderr(&empty));

    let dup = run(t.path(), &args(&d, &["user", "create", "admin", "--role", "admin"]), Some("Tiangong-Zx9-2025\n"));
    assert!(!dup.status.success());
    assert!(stderr(&dup).contains("已被使用"), "{}", stderr(&dup));

    // 三权分立: a deployment bootstraps each administrator; none may hold a second role.
    for (name, role) in [("sys2", "system_admin"), ("sec2", "security_admin"), ("aud2", "audit_admin")] {
        let o = run(t.path(), &args(&d, &["user", "create", name, "--role", role]), Some("Tiangong-Zx9-2025\n"));
        assert_ok(&o, role);
    }
    let two = run(
        t.path(),
        &args(&d, &["user", "create", "both", "--role", "security_admin", "--role", "audit_admin"]),
        Some("Tiangong-Zx9-2025\n"),
    );
    assert!(!two.status.success());
    assert!(stderr(&two).contains("三者分设"), "{}", stderr(&two));
}

#[test]
fn configuration_layers_file_then_environment_then_flags() {
    let t = TempDir::new("cli");
    let file = t.path().join("choucha.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:7001\"\ndata_dir = \"from-file\"\ndatabase_url = \"postgres://choucha:s3cret@db.example:5432/choucha\"\n",
    )
    .unwrap();
    let file_arg = file.display().to_string();

    let o = run(t.path(), &["config", "--config", &file_arg], None);
    assert_ok(&o, "config from file");
    let out = stdout(&o);
    assert!(out.contains("listen = \"127.0.0.1:7001\""), "{out}");
    assert!(out.contains("data_dir = \"from-file\""), "{out}");
    assert!(out.contains("choucha:***@db.example"), "{out}");
    assert!(!out.contains("s3cret"), "password shown: {out}");

    let mut cmd = choucha(t.path());
    cmd.args(["config", "--config", &file_arg])
        .env("CHOUCHA_DATA_DIR", "from-env")
        .env("CHOUCHA_LISTEN", "127.0.0.1:7002");
    let o = cmd.output().unwrap();
    assert_ok(&o, "config with env");
    let out = stdout(&o);
    assert!(out.contains("listen = \"127.0.0.1:7002\""), "{out}");
    assert!(out.contains("data_dir = \"from-env\""), "{out}");

    let mut cmd = choucha(t.path());
    cmd.args(["config", "--config", &file_arg, "--data-dir", "from-flag", "--database-url", "sqlite:flag.db"])
        .env("CHOUCHA_DATA_DIR", "from-env");
    let o = cmd.output().unwrap();
    assert_ok(&o, "config with flags");
    let out = stdout(&o);
    assert!(out.contains("data_dir = \"from-flag\""), "{out}");
    assert!(out.contains("database_url = \"sqlite:flag.db\""), "{out}");

    // Defaults: SQLite under ./data.
    let o = run(t.path(), &["config"], None);
    assert_ok(&o, "defaults");
    assert!(stdout(&o).contains("database_url = \"sqlite:./data/choucha.db\""), "{}", stdout(&o));
    assert!(stdout(&o).contains("listen = \"127.0.0.1:8080\""), "{}", stdout(&o));
}

#[test]
fn invalid_configuration_is_refused_at_start_in_chinese() {
    let t = TempDir::new("cli");
    let o = run(t.path(), &["serve", "--listen", "localhost", "--database-url", "mysql://root:pw@h/db"], None);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("监听地址“localhost”无效"), "{e}");
    assert!(e.contains("应以 sqlite: 或 postgres:// 开头"), "{e}");
    assert!(!e.contains("pw@"), "{e}");

    let o = run(t.path(), &["migrate", "--config", "missing.toml"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("配置文件“missing.toml”不存在"), "{}", stderr(&o));
}

#[tokio::test]
async fn serve_with_no_configuration_keeps_its_data_under_dot_data() {
    let t = TempDir::new("cli");
    // Only the port is chosen (8080 may be taken on a developer's machine).
    let server = Server::start(t.path(), &["--demo"]).await;
    assert!(t.path().join("data/choucha.db").is_file());
    assert!(t.path().join("data/choucha.db-wal").is_file(), "SQLite runs in WAL mode");
    assert!(t.path().join("data/evidence").is_dir());
    assert_eq!(token(&server.base, "regulator", DEMO_PASSWORD).await.status(), reqwest::StatusCode::OK);
    let status = server.stop();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn serves_on_postgresql_when_configured() {
    let Some(base_url) = std::env::var("CHOUCHA_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("CHOUCHA_TEST_DATABASE_URL not set: PostgreSQL test skipped");
        return;
    };
    let nanos = nanos();
    // "t_" like the store's test schemas, so leftover schemas are swept by the same cleanup.
    let schema = format!("t_cli_{}_{}", std::process::id(), nanos % 1_000_000_000);
    let admin = choucha_store::Store::connect(&base_url).await.expect("connect to PostgreSQL");
    admin.reader().execute_unprepared(&format!("CREATE SCHEMA {schema}")).await.expect("create schema");
    let sep = if base_url.contains('?') { '&' } else { '?' };
    let url = format!("{base_url}{sep}options=-c%20search_path%3D{schema}");

    let t = TempDir::new("cli");
    let server =
        Server::start(t.path(), &["--demo", "--database-url", &url, "--data-dir", &t.data().display().to_string()])
            .await;
    let printed = server.printed();
    let r = token(&server.base, "report_approver", DEMO_PASSWORD).await;
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    assert!(!t.data().join("choucha.db").exists(), "no SQLite file when PostgreSQL is configured");
    let status = server.stop();
    assert!(status.success(), "{status:?} {printed:?}");

    // The demo landed in the test's own schema, and its audit chain verifies.
    let v = run(
        t.path(),
        &["audit", "verify", "--database-url", &url, "--data-dir", &t.data().display().to_string()],
        None,
    );
    assert_ok(&v, "audit verify on PostgreSQL");
    let row = admin
        .reader()
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!("SELECT count(*) AS n FROM {schema}.enterprises"),
        ))
        .await
        .expect("count")
        .expect("row");
    let n: i64 = row.try_get("", "n").expect("n");
    assert_eq!(n, 3000);
    admin.reader().execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE")).await.expect("drop schema");
    admin.close().await.expect("close");
}

#[test]
fn logs_are_json_lines_when_configured_and_plain_without_colour_otherwise() {
    let t = TempDir::new("cli");
    let d = data_args(&t);
    let mut cmd = choucha(t.path());
    cmd.env("RUST_LOG", "info").env("CHOUCHA_LOG_FORMAT", "json").args(args(&d, &["migrate"]));
    let o = run_with_stdin(&mut cmd, None);
    assert_ok(&o, "migrate");
    let lines: Vec<String> = stderr(&o).lines().map(str::to_string).collect();
    assert!(!lines.is_empty(), "migrate logs at info");
    for l in &lines {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"));
        assert!(v["level"].is_string() && v["timestamp"].is_string(), "{l}");
    }
    let mut cmd = choucha(t.path());
    cmd.env("RUST_LOG", "info").args(args(&d, &["migrate"]));
    let o = run_with_stdin(&mut cmd, None);
    assert_ok(&o, "migrate");
    assert!(!stderr(&o).is_empty() && !stderr(&o).contains('\u{1b}'), "no colour codes into a pipe: {}", stderr(&o));
}

/// The training clock: `serve --demo --today 2025-10-20` runs the whole server on that date (the
/// banner on every page, the demo's plan deadlines and the audit records' times); a production
/// instance refuses `--today`, and `[training] enabled = true` makes one a training instance.
#[tokio::test]
async fn serve_on_a_training_date() {
    let t = TempDir::new("cli");
    let d = data_args(&t);
    // Production (no --demo, no [training]): refused before anything is opened.
    let o = run(t.path(), &args(&d, &["serve", "--listen", "127.0.0.1:0", "--today", "2025-10-20"]), None);
    assert!(!o.status.success(), "--today on production is refused");
    let err = stderr(&o);
    assert!(err.contains("只有培训实例可以设定系统日期") && err.contains("[training] enabled = true"), "{err}");
    assert!(!t.data().join("choucha.db").exists(), "nothing opened: {err}");

    let data_dir = t.data().display().to_string();
    let server = Server::start(t.path(), &["--demo", "--today", "2025-10-20", "--data-dir", &data_dir]).await;
    let client = reqwest::Client::new();
    let login = client.get(format!("{}/login", server.base)).send().await.expect("login page");
    let html = login.text().await.expect("html");
    assert!(html.contains("培训模式：系统日期为 2025-10-20"), "the banner:\n{html}");

    // The demo's plan has the notice's own deadlines (not overdue on 2025-10-20).
    let tok: Value = token(&server.base, "regulator", DEMO_PASSWORD).await.json().await.expect("token");
    let tok = tok["token"].as_str().expect("token").to_string();
    let plans: Value = client
        .get(format!("{}/api/v1/plans", server.base))
        .bearer_auth(&tok)
        .send()
        .await
        .expect("plans")
        .json()
        .await
        .expect("json");
    let datong = plans["items"]
        .as_array()
        .expect("plans")
        .iter()
        .find(|p| p["year"] == 2025)
        .map(|p| p["id"].clone())
        .expect("the Datong plan");
    let plan: Value = client
        .get(format!("{}/api/v1/plans/{datong}", server.base))
        .bearer_auth(&tok)
        .send()
        .await
        .expect("plan")
        .json()
        .await
        .expect("json");
    let text = plan.to_string();
    assert!(text.contains("2025-11-15"), "the Datong deadline on the training date: {text}");

    // New records carry the training date.
    let tok: Value = token(&server.base, "auditor", DEMO_PASSWORD).await.json().await.expect("token");
    let tok = tok["token"].as_str().expect("token").to_string();
    let audit: Value = client
        .get(format!("{}/api/v1/audit?limit=5", server.base))
        .bearer_auth(&tok)
        .send()
        .await
        .expect("audit")
        .json()
        .await
        .expect("json");
    let newest = audit["items"][0]["at_local"].as_str().expect("a record").to_string();
    assert!(newest.starts_with("2025-10-20"), "the newest record is stamped on the training date: {audit}");
    assert!(server.stop().success());

    // A configured training instance accepts --today without --demo.
    let config = t.path().join("training.toml");
    std::fs::write(&config, "[training]\nenabled = true\n").expect("config");
    let config = config.display().to_string();
    let server =
        Server::start(t.path(), &["--config", &config, "--data-dir", &data_dir, "--today", "2025-11-05"]).await;
    let html = client.get(format!("{}/login", server.base)).send().await.expect("login").text().await.expect("html");
    assert!(html.contains("培训模式：系统日期为 2025-11-05"), "{html}");
    assert!(server.stop().success());
}
