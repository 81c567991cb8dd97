//! `choucha serve --tls-cert --tls-key` (等保三级, issue 15 item 7): HTTPS answered by the binary with
//! a self-signed certificate the client trusts, `Strict-Transport-Security` and `Secure` session
//! cookies; every demo page a signed-in user reaches carries the security headers and holds no code
//! the Content-Security-Policy would block; SIGTERM still stops it cleanly; a missing certificate
//! stops the start with a Chinese error.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
#[path = "../../web/tests/common/csp.rs"]
mod csp;

use std::collections::{BTreeSet, VecDeque};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{TempDir, choucha};
use reqwest::StatusCode;

const DEMO_PASSWORD: &str = "Choucha2025";

/// A self-signed certificate for 127.0.0.1 and localhost: (certificate PEM, key PEM).
fn self_signed() -> (String, String) {
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).expect("certificate");
    (ck.cert.pem(), ck.signing_key.serialize_pem())
}

struct Server {
    child: Child,
    base: String,
    output: mpsc::Receiver<String>,
}

impl Server {
    fn start(cwd: &Path, args: &[&str]) -> Server {
        let mut cmd = choucha();
        cmd.current_dir(cwd).arg("serve").args(["--listen", "127.0.0.1:0"]).args(args);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("spawn serve");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel::<String>();
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
                    if let Some(i) = line.find("https://") {
                        break line[i..].trim().to_string();
                    }
                    seen.push(line);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("serve exited early ({:?}); stdout:\n{}", child.wait(), seen.join("\n"));
                }
            }
            assert!(started.elapsed() < Duration::from_secs(300), "serve did not start:\n{}", seen.join("\n"));
        };
        Server { child, base, output: rx }
    }

    fn stop(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                std::thread::sleep(Duration::from_millis(100));
                return (status, self.output.try_iter().collect());
            }
            assert!(Instant::now() < deadline, "serve did not stop within 30 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
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

fn header<'a>(r: &'a reqwest::Response, name: &str) -> &'a str {
    r.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn assert_security_headers(r: &reqwest::Response, what: &str) {
    assert!(header(r, "content-security-policy").contains("script-src 'self';"), "{what}");
    assert_eq!(header(r, "x-frame-options"), "DENY", "{what}");
    assert_eq!(header(r, "x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header(r, "referrer-policy"), "same-origin", "{what}");
    assert_eq!(header(r, "strict-transport-security"), "max-age=31536000; includeSubDomains", "{what}");
}

fn client(cert_pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(cert_pem.as_bytes()).expect("cert")])
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn value_after(html: &str, key: &str) -> String {
    let at = html.find(key).map(|i| i + key.len()).unwrap_or_else(|| panic!("{key} not in page"));
    html[at..].split('"').next().unwrap_or_default().to_string()
}

/// Links a crawl follows: this site's pages, not downloads, files or sign-out.
fn followed(href: &str) -> bool {
    const SKIP: [&str; 13] = [
        "/static/", "/logout", "/api/", "pdf", "download", "export", "xlsx", "csv", "proof", "photo", "evidence",
        "file", "document",
    ];
    href.starts_with('/') && !href.starts_with("//") && !SKIP.iter().any(|s| href.to_ascii_lowercase().contains(s))
}

fn links(html: &str) -> Vec<String> {
    html.split("href=\"").skip(1).filter_map(|s| s.split('"').next()).map(|h| h.replace("&amp;", "&")).collect()
}

/// Sign in as `user` and visit the pages reachable from the home page (at most `limit`); each must
/// carry the headers and hold no inline code. The number of pages seen.
async fn crawl(base: &str, cert: &str, user: &str, limit: usize) -> usize {
    let c = client(cert);
    let login = c.get(format!("{base}/login")).send().await.expect("login page").text().await.expect("html");
    let csrf = value_after(&login, "name=\"csrf\" value=\"");
    let r = c
        .post(format!("{base}/login"))
        .form(&[("csrf", csrf.as_str()), ("username", user), ("password", DEMO_PASSWORD), ("next", "/")])
        .send()
        .await
        .expect("sign in");
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "sign-in of {user}");
    let mut seen = BTreeSet::from(["/".to_owned()]);
    let mut queue = VecDeque::from(["/".to_owned()]);
    let mut pages = 0;
    while let Some(path) = queue.pop_front() {
        let r = c.get(format!("{base}{path}")).send().await.expect("page");
        assert_security_headers(&r, &format!("{user} {path}"));
        let html_page = header(&r, "content-type").starts_with("text/html");
        let status = r.status();
        let html = r.text().await.expect("body");
        if !html_page {
            continue;
        }
        assert!(status != StatusCode::INTERNAL_SERVER_ERROR, "{user} {path}: {html}");
        pages += 1;
        let bad = csp::inline_code(&html);
        assert!(bad.is_empty(), "{user} {path}:\n{}", bad.join("\n"));
        assert!(!html.contains("?csrf=") && !html.contains("&amp;csrf="), "{user} {path}: CSRF token in a URL");
        for l in links(&html) {
            if followed(&l) && seen.len() < limit && seen.insert(l.clone()) {
                queue.push_back(l);
            }
        }
    }
    pages
}

#[tokio::test]
async fn serve_answers_https_with_hsts_secure_cookies_and_clean_pages() {
    let t = TempDir::new("tls");
    let (cert, key) = self_signed();
    let (cert_file, key_file) = (t.path().join("cert.pem"), t.path().join("key.pem"));
    std::fs::write(&cert_file, &cert).unwrap();
    std::fs::write(&key_file, &key).unwrap();
    let data = t.data().display().to_string();
    let server = Server::start(
        t.path(),
        &[
            "--demo",
            "--tls-cert",
            cert_file.to_str().unwrap(),
            "--tls-key",
            key_file.to_str().unwrap(),
            "--data-dir",
            &data,
        ],
    );
    let base = server.base.clone();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");

    let c = client(&cert);
    let r = c.get(format!("{base}/healthz")).send().await.expect("HTTPS request");
    assert_eq!(r.status(), StatusCode::OK);
    assert_security_headers(&r, "healthz");
    let r = c.get(format!("{base}/login")).send().await.expect("login");
    assert_eq!(r.status(), StatusCode::OK);
    assert_security_headers(&r, "login");
    let cookie = header(&r, "set-cookie").to_owned();
    assert!(cookie.starts_with("choucha_session="), "{cookie}");
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly"), "{cookie}");

    // Plain HTTP on the HTTPS port gets no page.
    let plain = base.replace("https://", "http://");
    let r = reqwest::Client::new().get(format!("{plain}/healthz")).send().await;
    assert!(r.map(|r| !r.status().is_success()).unwrap_or(true), "plain HTTP answered");

    let mut total = 0;
    for user in [
        "regulator",
        "local_regulator",
        "sampler",
        "sample_custodian",
        "tester",
        "report_approver",
        "enterprise",
        "admin",
    ] {
        total += crawl(&base, &cert, user, 60).await;
    }
    assert!(total > 40, "{total} pages crawled");

    let (status, printed) = server.stop();
    assert!(status.success(), "{status:?}");
    assert!(printed.iter().any(|l| l.contains("抽查系统已停止")), "{printed:?}");
}

#[test]
fn a_missing_or_half_given_certificate_stops_the_start_in_chinese() {
    let t = TempDir::new("tls-bad");
    let data = t.data().display().to_string();
    let missing = t.path().join("nope.pem").display().to_string();
    let o = choucha()
        .current_dir(t.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", &data, "--tls-cert", &missing, "--tls-key", &missing])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("无法读取 TLS 证书文件") && err.contains("nope.pem"), "{err}");

    let o = choucha()
        .current_dir(t.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", &data, "--tls-cert", &missing])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("须同时给出"), "{err}");

    let garbage = t.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    let g = garbage.display().to_string();
    let o = choucha()
        .current_dir(t.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", &data, "--tls-cert", &g, "--tls-key", &g])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("TLS 证书文件") && err.contains("没有证书"), "{err}");
}
