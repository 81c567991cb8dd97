//! The HTTP figures of `choucha bench`: our server and the bare axum baseline in this process, `wrk`
//! (a separate process) against each in turn.

use anyhow::{Context, bail};
use choucha_seed::demo;
use choucha_service::{Services, auth};

use super::bare::{Bare, router};
use super::run::{BenchArgs, svc};
use super::stats::Stats;

/// Both servers in this process, wrk (a separate process) against each in turn.
pub(super) async fn http(s: &Services, bare: &Bare, args: &BenchArgs) -> anyhow::Result<(Stats, Stats)> {
    which("wrk").context("wrk 未安装（apt-get install -y wrk）")?;
    let token = svc(auth::issue_token(s, "regulator", demo::PASSWORD).await)?.token;
    let dir = std::env::temp_dir().join(format!("choucha-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let lua = dir.join("auth.lua");
    std::fs::write(&lua, format!("wrk.headers[\"Authorization\"] = \"Bearer {token}\"\n"))?;

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let ours_l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let ours_addr = ours_l.local_addr()?;
    // No periodic jobs: one starting with the server (an ANALYZE of millions of rows) would be timed.
    let state = choucha_web::AppState { background_jobs: false, ..choucha_web::AppState::new(s.clone()) };
    let mut rx = stop_rx.clone();
    let ours_srv = tokio::spawn(choucha_web::serve(ours_l, state, async move {
        let _ = rx.wait_for(|s| *s).await;
    }));
    let bare_l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let bare_addr = bare_l.local_addr()?;
    let mut rx = stop_rx.clone();
    let bare = bare.clone();
    let bare_srv = tokio::spawn(async move {
        axum::serve(bare_l, router(bare))
            .with_graceful_shutdown(async move {
                let _ = rx.wait_for(|s| *s).await;
            })
            .await
    });
    let prefix = "%E5%A4%A7%E5%90%8C%E5%B8%82%E5%8D%8E"; // 大同市华
    let ours_url = format!("http://{ours_addr}/api/v1/enterprises?q={prefix}&limit=50");
    let bare_url = format!("http://{bare_addr}/bare/enterprises?q={prefix}&division=1402");
    let ours = wrk(&lua, &ours_url, args).await?;
    let base = wrk(&lua, &bare_url, args).await?;
    let _ = stop_tx.send(true);
    let _ = ours_srv.await;
    let _ = bare_srv.await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok((ours, base))
}

fn which(cmd: &str) -> anyhow::Result<()> {
    let ok = std::process::Command::new("sh").args(["-c", &format!("command -v {cmd}")]).output()?.status.success();
    if ok { Ok(()) } else { bail!("未找到命令 {cmd}") }
}

/// One wrk run (after a short warm-up run); parses requests/s and the latency distribution.
async fn wrk(lua: &std::path::Path, url: &str, args: &BenchArgs) -> anyhow::Result<Stats> {
    let run = |secs: u64| {
        tokio::process::Command::new("wrk")
            .arg("-t2")
            .arg(format!("-c{}", args.connections))
            .arg(format!("-d{secs}s"))
            .arg("--latency")
            .arg("-s")
            .arg(lua)
            .arg(url)
            .output()
    };
    run(2).await?;
    let out = run(args.http_seconds).await?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if text.contains("Non-2xx") {
        bail!("wrk 收到非 2xx 答复（{url}）：\n{text}");
    }
    let num = |line_start: &str| -> Option<f64> {
        text.lines().find(|l| l.trim_start().starts_with(line_start)).and_then(|l| {
            let v = l.trim_start().trim_start_matches(line_start).trim();
            parse_ms(v.split_whitespace().next()?)
        })
    };
    let rps = text
        .lines()
        .find(|l| l.starts_with("Requests/sec:"))
        .and_then(|l| l.trim_start_matches("Requests/sec:").trim().parse::<f64>().ok())
        .with_context(|| format!("wrk output:\n{text}"))?;
    let reqs = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next()?.parse::<usize>().ok())
        .unwrap_or(0);
    Ok(Stats {
        n: reqs,
        p50_ms: num("50%").unwrap_or(0.0),
        p95_ms: num("90%").unwrap_or(0.0),
        p99_ms: num("99%").unwrap_or(0.0),
        mean_ms: 0.0,
        rps: Some(rps),
    })
}

/// wrk's "1.23ms", "456.00us", "1.02s".
fn parse_ms(v: &str) -> Option<f64> {
    if let Some(x) = v.strip_suffix("us") {
        x.parse::<f64>().ok().map(|x| x / 1000.0)
    } else if let Some(x) = v.strip_suffix("ms") {
        x.parse().ok()
    } else if let Some(x) = v.strip_suffix('s') {
        x.parse::<f64>().ok().map(|x| x * 1000.0)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_units() {
        assert_eq!(parse_ms("456.00us"), Some(0.456));
        assert_eq!(parse_ms("1.50ms"), Some(1.5));
        assert_eq!(parse_ms("1.02s"), Some(1020.0));
    }
}
