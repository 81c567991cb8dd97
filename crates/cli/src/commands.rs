//! The one-shot commands: migrate, demo, user create, audit verify. Each opens the database from the
//! settings, does its work through the service layer, prints its result in Chinese and returns the
//! exit code.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use choucha_service::demo::{self, DemoProgress, DemoSummary};
use choucha_service::users::{self, NewUserInput};
use choucha_service::{ServiceError, Services};
use choucha_store::audit::{self, Verification};
use choucha_store::{Store, redact_url};

use crate::UserCreateArgs;
use crate::config::Settings;

/// The name the audit records of CLI actions carry.
const CLI_ACTOR: &str = "cli";

/// Create the data folders, connect and migrate.
pub async fn open(settings: &Settings) -> anyhow::Result<Services> {
    std::fs::create_dir_all(settings.evidence_dir())
        .with_context(|| format!("无法创建数据目录“{}”", settings.data_dir.display()))?;
    let url = redact_url(&settings.database_url);
    let store = Store::connect(&settings.database_url).await.with_context(|| format!("无法连接数据库“{url}”"))?;
    store.migrate().await.with_context(|| format!("数据库“{url}”迁移失败"))?;
    tracing::info!(database = %url, "database ready");
    Ok(Services::new(store, settings.data_dir.clone()).with_font_dirs(settings.font_dir.iter().cloned().collect()))
}

pub async fn migrate(settings: &Settings) -> anyhow::Result<ExitCode> {
    let s = open(settings).await?;
    s.store.close().await?;
    println!("数据库已迁移到最新版本：{}", redact_url(&settings.database_url));
    Ok(ExitCode::SUCCESS)
}

pub async fn demo(settings: &Settings) -> anyhow::Result<ExitCode> {
    let s = open(settings).await?;
    let summary = load_demo(&s).await?;
    s.store.close().await?;
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
fn service_error(e: ServiceError) -> anyhow::Error {
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
    let result = users::create_as_system(&s, CLI_ACTOR, input).await;
    s.store.close().await?;
    match result {
        Ok(u) => {
            let belongs = u.org_name.or(u.enterprise_name).map(|o| format!("，{o}")).unwrap_or_default();
            println!("已创建用户 {}（{}{}）", u.username, u.role_labels, belongs);
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

pub async fn audit_verify(settings: &Settings) -> anyhow::Result<ExitCode> {
    let s = open(settings).await?;
    let (head_seq, _) = audit::head(s.store.reader()).await?;
    let result = audit::verify(&s.store, |n| {
        if head_seq > PROGRESS_FROM {
            let pct = n.saturating_mul(100) / head_seq.max(1);
            eprintln!("已校验 {n}/{head_seq} 条审计记录（{pct}%）");
        }
    })
    .await;
    s.store.close().await?;
    match result? {
        Verification::Intact { records } => {
            println!("审计链完整：共 {records} 条记录");
            Ok(ExitCode::SUCCESS)
        }
        Verification::Broken(b) => {
            println!("审计链已损坏：{b}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `choucha draw verify <id>`: re-run a draw from its stored record.
pub async fn draw_verify(settings: &Settings, id: i64) -> anyhow::Result<ExitCode> {
    let s = open(settings).await?;
    let result = choucha_service::draws::verify(&s, id).await;
    s.store.close().await?;
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
