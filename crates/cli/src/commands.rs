//! The one-shot commands: migrate, demo, user create, audit verify, checkpoint and key rotation. Each opens the database from the
//! settings, does its work through the service layer, prints its result in Chinese and returns the
//! exit code.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use choucha_domain::audit_checkpoint::verify_checkpoint;
use choucha_domain::clock::Clock;
use choucha_seed::demo::{self, DemoProgress, DemoSummary};
use choucha_service::files::FileStore;
use choucha_service::users::{self, NewUserInput};
use choucha_service::{ServiceError, Services};
use choucha_store::audit::{self, Verification, VerifyOptions};
use choucha_store::{ConnectSettings, Store, StoreError, audit_files, redact_url};

use crate::UserCreateArgs;
use crate::config::Settings;

/// How long the start-up check of the file store may take.
const FILES_CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The name the audit records of CLI actions carry.
pub(crate) const CLI_ACTOR: &str = "cli";

/// The configured file store (the data folder or object storage), checked to answer: a bucket that
/// cannot be reached stops the command at start with a Chinese message.
pub async fn file_store(settings: &Settings) -> anyhow::Result<FileStore> {
    let files = settings.file_store()?;
    // object_store retries for minutes by itself: a start-up check gives up sooner.
    let checked = tokio::time::timeout(FILES_CHECK_TIMEOUT, files.check()).await;
    let problem = match checked {
        Ok(Ok(())) => return Ok(files),
        Ok(Err(e)) => format!("详情见日志：{e}"),
        Err(_) => format!("{} 秒内无应答", FILES_CHECK_TIMEOUT.as_secs()),
    };
    match settings.files {
        Some(_) => anyhow::bail!(
            "对象存储“{}”无法访问（{problem}）：请检查服务地址 files.endpoint、存储桶是否存在、files.region 和访问密钥",
            files.describe()
        ),
        None => anyhow::bail!("无法创建文件目录“{}”（{problem}）", files.describe()),
    }
}

/// Create the data folders, check the file store, connect and migrate.
pub async fn open(settings: &Settings) -> anyhow::Result<Services> {
    std::fs::create_dir_all(settings.evidence_dir())
        .with_context(|| format!("无法创建数据目录“{}”", settings.data_dir.display()))?;
    let files = file_store(settings).await?;
    let url = redact_url(&settings.database_url);
    let keys = settings.audit_keyring()?;
    let connect = ConnectSettings { read_url: settings.database_read_url.clone(), ..Default::default() };
    let store = match Store::connect_with(&settings.database_url, connect).await {
        Ok(s) => s,
        // A replica that is wrong or does not answer is named as such (the store's message).
        Err(e @ StoreError::Config(_)) => anyhow::bail!("{e}"),
        Err(e) => return Err(e).with_context(|| format!("无法连接数据库“{url}”")),
    }
    .with_audit_keys(keys);
    store.migrate().await.with_context(|| format!("数据库“{url}”迁移失败"))?;
    tracing::info!(database = %url, "database ready");
    tracing::info!(files = %files.describe(), "file store ready");
    let s = Services::new(store, settings.data_dir.clone())
        .with_files(files)
        .with_font_dirs(settings.font_dir.iter().cloned().collect())
        .with_policy(settings.security.clone())
        .with_signing_dir(settings.signing_key_dir.clone())
        .with_public_url(&settings.public_url);
    // Personal data written before it was encrypted is sealed now (等保 8.1.4.8).
    let sealed = choucha_service::personal::seal_stored(&s).await.context("个人信息加密失败")?;
    if sealed > 0 {
        tracing::info!(users = sealed, "personal data sealed");
    }
    Ok(s)
}

pub async fn migrate(settings: &Settings) -> anyhow::Result<ExitCode> {
    let s = open(settings).await?;
    s.close().await?;
    println!("数据库已迁移到最新版本：{}", redact_url(&settings.database_url));
    Ok(ExitCode::SUCCESS)
}

pub async fn demo(settings: &Settings) -> anyhow::Result<ExitCode> {
    let s = open(settings).await?;
    let summary = load_demo(&s).await?;
    s.close().await?;
    print_demo(&summary);
    Ok(ExitCode::SUCCESS)
}

/// Load the demo data, reporting progress on standard error when it is a terminal.
pub async fn load_demo(s: &Services) -> anyhow::Result<DemoSummary> {
    let tty = std::io::stderr().is_terminal();
    let summary = demo::load(s, |p| {
        if tty {
            eprint!("\r正在载入演示数据：{p}    ");
        } else if let DemoProgress::Enterprises { done, total } = p {
            tracing::debug!(done, total, "demo registry");
        }
    })
    .await
    .map_err(service_error)?;
    if tty {
        eprintln!();
    }
    Ok(summary)
}

pub fn print_demo(summary: &DemoSummary) {
    if summary.already_loaded {
        println!("演示数据此前已载入，本次未作改动。");
    } else {
        println!(
            "演示数据已载入：新建机构 {} 个，企业 {} 家，用户 {} 个，抽查计划 {} 个。",
            summary.organisations_created, summary.enterprises_created, summary.users_created, summary.plans_created
        );
    }
    println!("演示账号（密码均为 {}）：", summary.password);
    for a in &summary.accounts {
        let belongs = a.belongs_to.as_deref().map(|b| format!("，{b}")).unwrap_or_default();
        let note =
            if a.created || summary.already_loaded { "" } else { "（账号此前已存在，密码未改动）" };
        println!("  {:<18} {}（{}{}）{}", a.username, a.role_labels, a.display_name, belongs, note);
    }
}

/// Service errors as people read them: every validation problem on its own line.
pub(crate) fn service_error(e: ServiceError) -> anyhow::Error {
    match e {
        ServiceError::Invalid(vs) if vs.len() > 1 => {
            anyhow::anyhow!("{}", vs.iter().map(|v| format!("\n  - {}", v.message)).collect::<String>())
        }
        other => anyhow::anyhow!("{other}"),
    }
}

/// The first line of standard input, without its line ending.
fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("请输入密码（8至128位，须含字母和数字）：");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).context("无法从标准输入读取密码")?;
    let pw = line.trim_end_matches(['\n', '\r']).to_string();
    if pw.is_empty() {
        anyhow::bail!("未从标准输入读到密码（请在第一行输入密码）");
    }
    Ok(pw)
}

pub async fn user_create(settings: &Settings, a: UserCreateArgs) -> anyhow::Result<ExitCode> {
    let password = read_password()?;
    // Text from the command line is refused at this edge as the HTTP layer refuses it.
    let texts = [("用户名", Some(&a.username)), ("显示名", a.name.as_ref()), ("手机号", a.phone.as_ref())];
    for (field, text) in texts {
        if let Some((_, c)) = text.and_then(|t| choucha_domain::text::forbidden_char(t)) {
            eprintln!("创建用户失败：{}", choucha_domain::text::refusal_message(field, c));
            return Ok(ExitCode::FAILURE);
        }
    }
    let s = open(settings).await?;
    let input = NewUserInput {
        display_name: a.name.clone().unwrap_or_else(|| a.username.clone()),
        username: a.username,
        password,
        roles: a.roles,
        org_code: a.org,
        enterprise_uscc: a.enterprise,
        phone: a.phone.unwrap_or_default(),
        id_card_no: String::new(),
    };
    // A bootstrap password is changed at the first sign-in.
    let result = match users::create_as_system(&s, CLI_ACTOR, input).await {
        Ok(u) => choucha_service::auth::passwords::require_change(&s, CLI_ACTOR, u.id).await.map(|()| u),
        Err(e) => Err(e),
    };
    s.close().await?;
    match result {
        Ok(u) => {
            let belongs = u.org_name.or(u.enterprise_name).map(|o| format!("，{o}")).unwrap_or_default();
            println!("已创建用户 {}（{}{}），首次登录时须修改密码", u.username, u.role_labels, belongs);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("创建用户失败：{}", service_error(e));
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Chains above this length report progress.
const PROGRESS_FROM: i64 = 5000;

/// `choucha audit verify [--deep] [--checkpoints FILE]`: the keyed chain, against the latest signed
/// checkpoint (of the checkpoint file, or of FILE from the organising bureau), and with `--deep` the
/// business rows against their latest audit records. Exit 1 names the first problem.
pub async fn audit_verify(settings: &Settings, deep: bool, checkpoints: Option<&Path>) -> anyhow::Result<ExitCode> {
    let signer = audit_files::load_or_create_signer(&settings.audit_signing_key_file)?;
    let file = checkpoints.unwrap_or(&settings.audit_checkpoint_file);
    let latest = audit_files::read_checkpoints(file)?.into_iter().max_by_key(|c| c.seq);
    if let Some(cp) = &latest
        && let Err(e) = verify_checkpoint(cp, &signer.public_key())
    {
        println!("检查点不可信：{e}");
        return Ok(ExitCode::FAILURE);
    }
    let s = open(settings).await?;
    let (head_seq, _) = audit::head(s.store().reader()).await?;
    let opts = VerifyOptions { checkpoint: latest.as_ref().map(|c| (c.seq, c.hash.clone())), deep };
    let result = audit::verify_with(s.store(), &opts, |n| {
        if head_seq > PROGRESS_FROM {
            let pct = n.saturating_mul(100) / head_seq.max(1);
            eprintln!("已校验 {n}/{head_seq} 条审计记录（{pct}%）");
        }
    })
    .await;
    s.close().await?;
    let report = result?;
    match report.verification {
        Verification::Intact { records } => {
            println!("审计链完整：共 {records} 条记录");
            if report.legacy > 0 {
                println!("其中前 {} 条为启用密钥前写入的无密钥记录（SHA-256）", report.legacy);
            }
            match &latest {
                Some(cp) => println!("与签名检查点一致：记录 #{}（{}）", cp.seq, beijing_text(&cp.at)),
                None => println!("注意：未找到检查点（{}），末尾记录被删除无法发现", file.display()),
            }
            if deep {
                println!("业务数据一致：{} 行检验结果、检验报告和抽样单与其最后一条审计记录相符", report.rows_checked);
            }
            Ok(ExitCode::SUCCESS)
        }
        Verification::Broken(b) => {
            // Messages that already name the chain (a truncation, a re-hash) need no second prefix.
            let message = b.to_string();
            if message.starts_with("审计链") || message.starts_with("业务数据") {
                println!("{message}");
            } else {
                println!("审计链已损坏：{message}");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

/// A stored RFC 3339 time as a person reads it: Beijing time `YYYY-MM-DD HH:MM` (北京时间).
fn beijing_text(at: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(at) {
        Ok(t) => format!("北京时间 {}", choucha_domain::clock::beijing_minutes(t.with_timezone(&chrono::Utc))),
        Err(_) => at.to_string(),
    }
}

/// `choucha audit checkpoint`: sign the chain's head now and append it to the checkpoint file.
pub async fn audit_checkpoint(settings: &Settings) -> anyhow::Result<ExitCode> {
    let signer = audit_files::load_or_create_signer(&settings.audit_signing_key_file)?;
    let s = open(settings).await?;
    let (seq, _) = audit::head(s.store().reader()).await?;
    let written = if seq == 0 {
        None
    } else {
        audit_files::write_checkpoint(s.store(), &signer, &settings.audit_checkpoint_file, false).await?
    };
    s.close().await?;
    match written {
        Some(cp) => println!(
            "已写入检查点：记录 #{}，时间 {}，签名公钥 {}（{}）",
            cp.seq,
            beijing_text(&cp.at),
            cp.key_id,
            settings.audit_checkpoint_file.display()
        ),
        None => println!("审计链为空，无需检查点"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `choucha audit checkpoint export [--out FILE]`: all checkpoints and the public key, as JSON.
pub fn audit_checkpoint_export(settings: &Settings, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    let signer = audit_files::load_or_create_signer(&settings.audit_signing_key_file)?;
    let export = audit_files::export_checkpoints(&signer, &settings.audit_checkpoint_file, Clock::system().now())?;
    let json = serde_json::to_string_pretty(&export)?;
    match out {
        Some(path) => {
            std::fs::write(path, format!("{json}\n")).with_context(|| format!("无法写入“{}”", path.display()))?;
            println!(
                "已导出 {} 个检查点及签名公钥 {} 到“{}”，请交组织抽查的市场监管部门保存",
                export.checkpoints.len(),
                export.key_id,
                path.display()
            );
        }
        None => println!("{json}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `choucha audit export --from --to [--out FILE]`: the records of a range of Beijing days, the
/// signed checkpoints and the public key, and a manifest, as one zip for off-line keeping.
pub async fn audit_export(
    settings: &Settings,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    out: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    if from > to {
        eprintln!("起始日期 {from} 不能晚于结束日期 {to}");
        return Ok(ExitCode::from(2));
    }
    let signer = audit_files::load_or_create_signer(&settings.audit_signing_key_file)?;
    let checkpoints = audit_files::export_checkpoints(&signer, &settings.audit_checkpoint_file, Clock::system().now())?;
    let checkpoints = serde_json::to_vec_pretty(&checkpoints)?;
    let path = out.map(Path::to_path_buf).unwrap_or_else(|| format!("audit-{from}-{to}.zip").into());
    let file = std::fs::File::create(&path).with_context(|| format!("无法写入“{}”", path.display()))?;
    let s = open(settings).await?;
    let written = choucha_service::audit::export_as_system(&s, "cli", from, to, Some(&checkpoints), file).await;
    s.close().await?;
    match written {
        Ok(summary) => {
            println!(
                "已导出 {} 至 {} 的审计记录 {} 条（#{} 至 #{}）及签名检查点到“{}”；audit.jsonl 的 SHA-256 为 {}",
                from,
                to,
                summary.records,
                summary.first_seq.map(|s| s.to_string()).unwrap_or_else(|| "—".into()),
                summary.last_seq.map(|s| s.to_string()).unwrap_or_else(|| "—".into()),
                path.display(),
                summary.jsonl_sha256
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            eprintln!("导出失败：{e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `choucha audit rotate-key`: a new audit key becomes current; the old ones stay to verify older
/// records.
pub fn audit_rotate_key(settings: &Settings) -> anyhow::Result<ExitCode> {
    if settings.audit_key.is_some() {
        println!(
            "审计密钥来自环境变量 CHOUCHA_AUDIT_KEY：请在密钥管理处生成新密钥，追加到该变量末尾（逗号分隔，旧密钥保留），再重启服务"
        );
        return Ok(ExitCode::from(2));
    }
    if !settings.audit_key_file.exists() {
        settings.audit_keyring()?;
    }
    let id = audit_files::rotate_key(&settings.audit_key_file, settings.audit_hash)?;
    println!(
        "已轮换审计密钥：新密钥 {id} 自下次启动起签署新记录；旧密钥保留在“{}”中用于校验旧记录。请重启服务并备份该文件",
        settings.audit_key_file.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `choucha draw verify <id>`: re-run a draw from its stored record.
pub async fn draw_verify(settings: &Settings, id: i64) -> anyhow::Result<ExitCode> {
    let s = open(settings).await?;
    let result = choucha_service::draws::verify(&s, id).await;
    s.close().await?;
    match result {
        Ok(v) => {
            println!("抽取记录 #{}（算法 {}，候选名单哈希 {}）", v.draw_id, v.algorithm, v.candidate_hash);
            println!("{}", v.message);
            Ok(if v.verified { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Err(e) => {
            eprintln!("错误：{e}");
            Ok(ExitCode::from(2))
        }
    }
}
