//! `choucha serve`: open (and migrate) the database, optionally load the demo, serve the web
//! application until SIGINT or SIGTERM, then finish the requests in flight and close the database.
//! While serving, the audit chain's head is signed into the checkpoint file every few minutes (when
//! it moved) and once more on shutdown. With `--tls-cert` and `--tls-key` it answers HTTPS itself
//! (`crate::tls`), sends `Strict-Transport-Security` and marks its cookies `Secure`.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use choucha_domain::audit_checkpoint::CheckpointSigner;
use choucha_web::AppState;
use tokio::sync::watch;

use crate::commands::{load_demo, open, print_demo};
use crate::config::Settings;

/// How long requests in flight may take after a stop signal.
const DRAIN: Duration = Duration::from_secs(10);

pub async fn run(settings: &Settings, demo: bool, today: Option<chrono::NaiveDate>) -> anyhow::Result<ExitCode> {
    tracing::info!(?settings, "starting");
    // A training instance is one configured so (`[training] enabled`) or a demo; only it may run
    // on a moved business date.
    let training = settings.training || demo;
    let today = today.or(settings.training_today);
    if today.is_some() && !training {
        anyhow::bail!(
            "只有培训实例可以设定系统日期（--today 或 [training] today）：这是生产实例。培训实例须在配置文件中设置 [training] enabled = true，或以 --demo 启动"
        );
    }
    // Read the certificate before anything else: a wrong path stops the start with a clear error.
    let tls = match &settings.tls {
        Some(files) => {
            crate::tls::install_provider();
            Some(crate::tls::server_config(&files.cert, &files.key)?)
        }
        None => None,
    };
    let signer = choucha_store::audit_files::load_or_create_signer(&settings.audit_signing_key_file)?;
    // The demo asks nobody for a second factor, and says so (a production configuration requires
    // it of every bureau, lab and administrator role).
    let demo_settings;
    let settings = if demo && !settings.security.second_factor_roles.is_empty() {
        let mut relaxed = settings.clone();
        relaxed.security.second_factor_roles.clear();
        demo_settings = relaxed;
        println!("演示模式：登录不要求动态验证码（正式部署默认要求各机关、检验机构和管理员角色使用）");
        &demo_settings
    } else {
        settings
    };
    let services = open(settings).await?.with_training(training);
    if choucha_service::auth::record_policy(&services, "serve").await? {
        tracing::info!("security policy recorded in the audit log");
    }
    if let Some(day) = today {
        choucha_service::training::start_on(services.clock(), day);
        println!("培训模式：系统日期为 {day}");
    }
    if demo {
        let summary = load_demo(&services).await?;
        print_demo(&summary);
    }
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("无法监听 {}", settings.listen))?;
    let addr = listener.local_addr()?;
    // Standard output: tests and scripts read the address from here (port 0 picks a free port).
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("抽查系统已启动：{scheme}://{addr}");
    let _ = std::io::stdout().flush();
    tracing::info!(%addr, "listening");

    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        stop_signal().await;
        let _ = stop_tx.send(true);
    });
    let mut graceful_rx = stop_rx.clone();
    let graceful = async move {
        let _ = graceful_rx.wait_for(|stop| *stop).await;
        tracing::info!("stop signal received, finishing requests in flight");
    };
    let mut deadline_rx = stop_rx;
    let deadline = async move {
        let _ = deadline_rx.wait_for(|stop| *stop).await;
        tokio::time::sleep(DRAIN).await;
    };
    let signer = std::sync::Arc::new(signer);
    let mut state = AppState::new(services.clone());
    state.secure_cookies = settings.secure_cookies || tls.is_some();
    state.tls = tls.is_some();
    state.trust_proxy_https = settings.trust_proxy_https;
    state.metrics_token = settings.metrics_token.clone();
    let every = settings.audit_checkpoint_interval;
    let checkpoints = tokio::spawn(choucha_web::jobs::periodic(
        services.clone(),
        state.metrics.clone(),
        "audit_checkpoint",
        every,
        {
            let (store, signer, path) =
                (services.store().clone(), signer.clone(), settings.audit_checkpoint_file.clone());
            move || {
                let (store, signer, path) = (store.clone(), signer.clone(), path.clone());
                async move { checkpoint(&store, &signer, &path).await }
            }
        },
    ));
    let served = async move {
        match tls {
            Some(config) => {
                let listener = crate::tls::TlsListener::new(listener, config)?;
                choucha_web::serve(listener, state, graceful).await
            }
            None => choucha_web::serve(listener, state, graceful).await,
        }
    };
    tokio::select! {
        r = served => r.context("服务异常退出")?,
        () = deadline => tracing::warn!("requests still running after {DRAIN:?}; stopping anyway"),
    }
    checkpoints.abort();
    // The last checkpoint is this server's to write only while it holds the job; then another
    // server of the deployment takes the jobs over at its next turn.
    if services.lease_job("audit_checkpoint", every).await.unwrap_or(false) {
        checkpoint(services.store(), &signer, &settings.audit_checkpoint_file).await;
    }
    if let Err(e) = services.release_jobs().await {
        tracing::warn!("cannot give up the background jobs' leases: {e}");
    }
    services.close().await?;
    println!("抽查系统已停止");
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Sign the head into the checkpoint file if it moved since the last checkpoint; a failure is logged
/// (the next attempt may succeed) and never stops the server.
async fn checkpoint(store: &choucha_store::Store, signer: &CheckpointSigner, path: &Path) -> bool {
    match choucha_store::audit_files::write_checkpoint(store, signer, path, true).await {
        Ok(Some(cp)) => {
            tracing::info!(seq = cp.seq, "audit checkpoint written");
            true
        }
        Ok(None) => true,
        Err(e) => {
            tracing::error!("cannot write the audit checkpoint: {e}");
            false
        }
    }
}

/// SIGINT (Ctrl-C) or SIGTERM.
async fn stop_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
