//! The `choucha` binary: serve the web application, migrate the database, load the demo data,
//! create users from the server's shell, verify, checkpoint and re-key the audit chain. Messages are in Chinese; logs go
//! to standard error (RUST_LOG), results to standard output.

mod backup;
mod bench;
mod commands;
mod config;
mod serve;
mod signing;
mod tls;
mod words;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::config::FlagOverrides;

/// mimalloc instead of glibc's malloc: a request allocates and frees many small buffers (rows,
/// strings, JSON), which glibc's allocator spent a fifth of the server's time on (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(name = "choucha", version, about = "抽查：产品质量监督抽查系统", long_about = None)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug)]
struct GlobalArgs {
    /// 配置文件（TOML）
    #[arg(long, global = true, value_name = "文件", env = "CHOUCHA_CONFIG")]
    config: Option<PathBuf>,
    /// 数据目录（SQLite 数据库、证据文件），默认 ./data [环境变量 CHOUCHA_DATA_DIR]
    #[arg(long, global = true, value_name = "目录")]
    data_dir: Option<PathBuf>,
    /// 数据库地址：sqlite:<文件> 或 postgres://用户:密码@主机/库 [环境变量 CHOUCHA_DATABASE_URL]
    #[arg(long, global = true, value_name = "数据库地址")]
    database_url: Option<String>,
    /// 只读副本（PostgreSQL）地址：统计、导出、质量分析和看板的读取走副本；不设则走主库 [环境变量 CHOUCHA_DATABASE_READ_URL]
    #[arg(long, global = true, value_name = "只读副本地址")]
    database_read_url: Option<String>,
    /// 存储文件（证据、报告等）的对象存储地址：s3://存储桶/前缀；不设则保存在数据目录 [环境变量 CHOUCHA_FILES_URL]
    #[arg(long, global = true, value_name = "对象存储地址")]
    files_url: Option<String>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// 启动 Web 服务（自动迁移数据库）
    Serve(ServeArgs),
    /// 将数据库迁移到最新版本
    Migrate,
    /// 载入演示数据（机构、用户、企业名录）并显示演示账号；可重复执行
    Demo,
    /// 用户管理
    #[command(subcommand)]
    User(UserCommand),
    /// 审计日志
    #[command(subcommand)]
    Audit(AuditCommand),
    /// 随机抽取（双随机）
    #[command(subcommand)]
    Draw(DrawCommand),
    /// 报告的 SM2 电子签名密钥（按机构）
    #[command(subcommand)]
    Signing(SigningCommand),
    /// 检验报告
    #[command(subcommand)]
    Report(ReportCommand),
    /// 显示生效的配置（密码已隐藏）
    Config,
    /// 备份：数据库快照、存储的文件、审计密钥与检查点，以及含各文件 SHA-256 的清单 manifest.json
    Backup {
        /// 备份目录（须不存在或为空）
        #[arg(long, value_name = "目录")]
        to: PathBuf,
    },
    /// 从备份恢复到空部署：先核对清单中每个文件的 SHA-256，恢复后校验审计链
    Restore {
        /// 备份目录（含 manifest.json）
        #[arg(long, value_name = "目录")]
        from: PathBuf,
        /// 目标部署已有数据时仍然覆盖
        #[arg(long)]
        force: bool,
    },
    /// 生成基准测试数据（合成的全国规模部署：企业名录、计划、各状态的抽样任务）
    BenchData(BenchDataArgs),
    /// 在基准数据上测量性能，并与无服务层的基线对比（p50/p95/p99）
    Bench(BenchArgs),
}

#[derive(Args, Debug)]
struct BenchDataArgs {
    /// 企业数
    #[arg(long, default_value_t = 1_000_000, value_name = "数量")]
    enterprises: u64,
    /// 抽样任务（样品）数
    #[arg(long, default_value_t = 100_000, value_name = "数量")]
    samples: u64,
    /// 随机种子（同一种子、同一基准日生成相同的数据）
    #[arg(long, default_value = "choucha", value_name = "种子")]
    seed: String,
    /// 基准日（YYYY-MM-DD），时间戳由此向前推算；默认今天（UTC）
    #[arg(long, value_name = "日期")]
    as_of: Option<chrono::NaiveDate>,
}

#[derive(Args, Debug)]
struct BenchArgs {
    /// 每项测量次数（随机抽取和 PDF 为其五分之一）
    #[arg(long, default_value_t = 100, value_name = "次数")]
    iterations: usize,
    /// 每项预热次数
    #[arg(long, default_value_t = 5, value_name = "次数")]
    warmup: usize,
    /// HTTP 压测时长（秒）
    #[arg(long, default_value_t = 10, value_name = "秒")]
    http_seconds: u64,
    /// HTTP 并发连接数
    #[arg(long, default_value_t = 32, value_name = "连接数")]
    connections: u32,
    /// 结果另存为 JSON
    #[arg(long, value_name = "文件")]
    json: Option<PathBuf>,
    /// 只测量名称含这些词的项目（逗号分隔：search, worklist, dashboard, summary, draw, record, pdf, http-clicks, http）
    #[arg(long, value_name = "项目")]
    only: Option<String>,
    /// 与另一规模数据上的一次运行（其 --json 文件）对比：逐项列出两种规模下的耗时及增长倍数
    #[arg(long, value_name = "文件")]
    compare: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// 监听地址，默认 127.0.0.1:8080 [环境变量 CHOUCHA_LISTEN]
    #[arg(long, value_name = "IP:端口")]
    listen: Option<String>,
    /// 字体目录（生成 PDF 时优先查找） [环境变量 CHOUCHA_FONT_DIR]
    #[arg(long, value_name = "目录")]
    font_dir: Option<PathBuf>,
    /// TLS 证书链文件（PEM）：给出时直接以 HTTPS 提供服务，须与 --tls-key 同时使用 [环境变量 CHOUCHA_TLS_CERT]
    #[arg(long, value_name = "PEM文件")]
    tls_cert: Option<PathBuf>,
    /// TLS 私钥文件（PEM） [环境变量 CHOUCHA_TLS_KEY]
    #[arg(long, value_name = "PEM文件")]
    tls_key: Option<PathBuf>,
    /// 启动前载入演示数据（已载入则跳过）；以此启动的是培训实例
    #[arg(long)]
    demo: bool,
    /// 培训实例的系统日期（YYYY-MM-DD，如 2025-10-20）：整个系统按此日期运行；生产实例拒绝此参数
    #[arg(long, value_name = "日期")]
    today: Option<chrono::NaiveDate>,
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// 创建用户；密码从标准输入的第一行读取
    Create(UserCreateArgs),
}

#[derive(Args, Debug)]
pub struct UserCreateArgs {
    /// 用户名（3至32位字母、数字、“_”“.”或“-”）
    #[arg(value_name = "用户名")]
    pub username: String,
    /// 角色，可多次指定：admin、regulator、local_regulator、sampler、sample_custodian、tester、report_approver、enterprise
    #[arg(long = "role", value_name = "角色", required = true)]
    pub roles: Vec<String>,
    /// 所属机构代码
    #[arg(long, value_name = "机构代码")]
    pub org: Option<String>,
    /// 姓名（默认为用户名）
    #[arg(long, value_name = "显示名")]
    pub name: Option<String>,
    /// 企业用户绑定的企业（统一社会信用代码）
    #[arg(long, value_name = "信用代码")]
    pub enterprise: Option<String>,
    /// 联系电话
    #[arg(long, value_name = "电话")]
    pub phone: Option<String>,
}

#[derive(Subcommand, Debug)]
enum DrawCommand {
    /// 按记录的种子与候选名单重新抽取，核对结果是否与原抽取一致
    Verify {
        /// 抽取记录编号
        #[arg(value_name = "编号")]
        id: i64,
    },
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// 校验审计链（带密钥的哈希链）是否完整，并与最新的签名检查点核对
    Verify {
        /// 同时重算检验结果、检验报告和抽样单的内容哈希，与其最后一条审计记录核对
        #[arg(long)]
        deep: bool,
        /// 检查点文件（默认为数据目录中的 audit-checkpoints.jsonl；也可为导出的文件）
        #[arg(long, value_name = "文件")]
        checkpoints: Option<PathBuf>,
    },
    /// 立即签署并记录审计链头（检查点）
    Checkpoint {
        #[command(subcommand)]
        action: Option<CheckpointCommand>,
    },
    /// 轮换审计密钥（旧密钥保留，用于校验旧记录）
    RotateKey,
    /// 导出一段日期（北京时间，含首尾两日）的审计记录归档（zip：audit.jsonl、签名检查点与清单），供离线保存
    Export {
        /// 起始日期，如 2025-01-01
        #[arg(long, value_name = "日期")]
        from: chrono::NaiveDate,
        /// 结束日期（含），如 2025-12-31
        #[arg(long, value_name = "日期")]
        to: chrono::NaiveDate,
        /// 输出的 zip 文件（默认为当前目录下的 audit-<起>-<止>.zip）
        #[arg(long, value_name = "文件")]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum SigningCommand {
    /// 为机构生成新的签名密钥并停用旧密钥（旧密钥签发的文件仍可验证）
    Rotate {
        /// 机构代码
        #[arg(long, value_name = "机构代码")]
        org: String,
    },
    /// 导出全部签名公钥（含已停用的），供离线验证报告
    ExportKeys {
        /// 输出的 JSON 文件
        #[arg(long, value_name = "文件")]
        to: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum ReportCommand {
    /// 离线验证报告 PDF 的 SM2 签名：文件是否自签发后未被改动、由哪个机构的密钥签发
    Verify {
        /// 报告 PDF 文件
        #[arg(value_name = "文件")]
        file: PathBuf,
        /// 导出的公钥文件（choucha signing export-keys）；不给则读取所配置的数据库
        #[arg(long, value_name = "文件")]
        keys: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum CheckpointCommand {
    /// 导出全部检查点和签名公钥，交组织抽查的市场监管部门保存
    Export {
        /// 输出文件（默认输出到标准输出）
        #[arg(long, value_name = "文件")]
        out: Option<PathBuf>,
    },
}

/// Logs go to standard error: JSON lines when `CHOUCHA_LOG_FORMAT=json` (for a log collector),
/// else plain text, coloured only on a terminal.
fn init_logging(default: &str) {
    use std::io::IsTerminal;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let fmt = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if std::env::var("CHOUCHA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        fmt.json().with_current_span(true).with_span_list(false).try_init()
    } else {
        fmt.with_ansi(std::io::stderr().is_terminal()).try_init()
    };
}

/// The command line, parsed with Chinese help and Chinese errors (`words`).
fn parse() -> Result<Cli, ExitCode> {
    let args: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    let mut cmd = words::localize(Cli::command());
    let failed = |e: clap::Error, cmd: &clap::Command| {
        use clap::error::ErrorKind;
        match e.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                println!("{}", e.render().to_string().trim_end());
                ExitCode::SUCCESS
            }
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                eprintln!("{}", e.render().to_string().trim_end());
                ExitCode::from(2)
            }
            _ => {
                eprintln!("错误：{}\n{}", words::explain(&e), words::help_hint(cmd, &args));
                ExitCode::from(2)
            }
        }
    };
    let matches = match cmd.try_get_matches_from_mut(args.clone()) {
        Ok(m) => m,
        Err(e) => return Err(failed(e, &cmd)),
    };
    Cli::from_arg_matches(&matches).map_err(|e| failed(e, &cmd))
}

fn main() -> ExitCode {
    let cli = match parse() {
        Ok(c) => c,
        Err(code) => return code,
    };
    // One rustls provider for every TLS client and server of the process (object storage, the
    // bench's HTTP client, serve's TLS): a release build has no other (the tests' dev-dependencies
    // enable one, which hid its absence from `bench` in the tests).
    tls::install_provider();
    // Long-running commands log at info; one-shot commands keep their output to the result.
    init_logging(match cli.command {
        Command::Serve(_) | Command::Migrate => "info",
        Command::Bench(_) | Command::BenchData(_) => "error",
        _ => "warn",
    });
    let mut flags = FlagOverrides {
        data_dir: cli.global.data_dir.clone(),
        database_url: cli.global.database_url.clone(),
        database_read_url: cli.global.database_read_url.clone(),
        files: cli.global.files_url.clone().map(|url| config::FilesFlags { url: Some(url) }),
        ..Default::default()
    };
    if let Command::Serve(a) = &cli.command {
        flags.listen = a.listen.clone();
        flags.font_dir = a.font_dir.clone();
        flags.tls_cert = a.tls_cert.clone();
        flags.tls_key = a.tls_key.clone();
    }
    let settings = match config::load(cli.global.config.as_deref(), &flags) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("配置错误：\n{e}");
            return ExitCode::from(2);
        }
    };
    tracing::debug!(?settings, "configuration");
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("错误：无法启动运行时：{e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(a) => serve::run(&settings, a.demo, a.today).await,
            Command::Migrate => commands::migrate(&settings).await,
            Command::Demo => commands::demo(&settings).await,
            Command::User(UserCommand::Create(a)) => commands::user_create(&settings, a).await,
            Command::Audit(AuditCommand::Verify { deep, checkpoints }) => {
                commands::audit_verify(&settings, deep, checkpoints.as_deref()).await
            }
            Command::Audit(AuditCommand::Checkpoint { action: None }) => commands::audit_checkpoint(&settings).await,
            Command::Audit(AuditCommand::Checkpoint { action: Some(CheckpointCommand::Export { out }) }) => {
                commands::audit_checkpoint_export(&settings, out.as_deref())
            }
            Command::Audit(AuditCommand::RotateKey) => commands::audit_rotate_key(&settings),
            Command::Audit(AuditCommand::Export { from, to, out }) => {
                commands::audit_export(&settings, from, to, out.as_deref()).await
            }
            Command::Draw(DrawCommand::Verify { id }) => commands::draw_verify(&settings, id).await,
            Command::Signing(SigningCommand::Rotate { org }) => signing::rotate(&settings, &org).await,
            Command::Signing(SigningCommand::ExportKeys { to }) => signing::export_keys(&settings, &to).await,
            Command::Report(ReportCommand::Verify { file, keys }) => {
                signing::verify(&settings, &file, keys.as_deref()).await
            }
            Command::BenchData(a) => {
                bench::data::run(
                    &settings,
                    bench::data::DataArgs {
                        enterprises: a.enterprises,
                        samples: a.samples,
                        seed: a.seed,
                        as_of: a.as_of,
                    },
                )
                .await
            }
            Command::Bench(a) => {
                bench::run::run(
                    &settings,
                    bench::run::BenchArgs {
                        iterations: a.iterations,
                        warmup: a.warmup,
                        http_seconds: a.http_seconds,
                        connections: a.connections,
                        json: a.json,
                        only: a.only,
                        compare: a.compare,
                    },
                )
                .await
            }
            Command::Backup { to } => backup::backup(&settings, &to).await,
            Command::Restore { from, force } => backup::restore(&settings, &from, force).await,
            Command::Config => {
                print!("{}", settings.to_toml());
                Ok(ExitCode::SUCCESS)
            }
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("错误：{e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_well_formed() {
        Cli::command().debug_assert();
        words::localize(Cli::command()).debug_assert();
    }

    #[test]
    fn user_create_takes_several_roles() {
        let cli = Cli::try_parse_from([
            "choucha",
            "user",
            "create",
            "lab1",
            "--role",
            "tester",
            "--role",
            "report_approver",
            "--org",
            "tfb",
        ])
        .expect("parses");
        match cli.command {
            Command::User(UserCommand::Create(a)) => {
                assert_eq!(a.roles, vec!["tester", "report_approver"]);
                assert_eq!(a.org.as_deref(), Some("tfb"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
