//! Configuration of the binary, layered: defaults → TOML file (`--config`) → `CHOUCHA_*` environment
//! → command-line flags. It is validated once at start and passed in; the database URL's password
//! never appears in `Debug` output or logs, nor does the audit key given in the environment, nor the
//! object storage's secret key (`[files]`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use choucha_domain::audit::{AuditHash, AuditKeyring};
use choucha_service::auth::SecurityPolicy;
use choucha_service::files::{FileStore, S3Config, parse_s3_url};
use choucha_store::{StoreError, audit_files, redact_url};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Environment variables read (after the `CHOUCHA_` prefix, case-insensitive).
const ENV_KEYS: [&str; 18] = [
    "listen",
    "public_url",
    "signing_key_dir",
    "data_dir",
    "database_url",
    "database_read_url",
    "font_dir",
    "secure_cookies",
    "audit_hash",
    "audit_key",
    "audit_key_file",
    "audit_signing_key_file",
    "audit_checkpoint_file",
    "audit_checkpoint_minutes",
    "tls_cert",
    "tls_key",
    "trust_proxy_https",
    "metrics_token",
];

/// Environment variables of the `[files]` table (after the `CHOUCHA_FILES_` prefix).
const FILES_ENV_KEYS: [&str; 6] = ["url", "endpoint", "region", "access_key_id", "secret_access_key", "allow_http"];

/// The configuration as written in a file, the environment or flags.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Address and port to serve on.
    pub listen: String,
    /// Folder of the SQLite database (by default), evidence files and generated documents.
    pub data_dir: PathBuf,
    /// `sqlite:<path>` or `postgres://…`; by default `sqlite:<data_dir>/choucha.db`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// A PostgreSQL replica (`postgres://…`) for the reads that may lag: statistics, exports,
    /// quality analysis, dashboards; by default they go to `database_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_read_url: Option<String>,
    /// Extra folder searched for fonts (PDF documents) before the system's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub font_dir: Option<PathBuf>,
    /// Send session cookies only over HTTPS (when served behind TLS).
    #[serde(default)]
    pub secure_cookies: bool,
    /// The audit chain's keyed hash: `hmac-sha256` or `hmac-sm3`.
    #[serde(default = "default_audit_hash")]
    pub audit_hash: String,
    /// The audit keys in hex, comma-separated, the last current (production: from a secret store,
    /// as `CHOUCHA_AUDIT_KEY`); when absent the key file is used.
    #[serde(default, skip_serializing)]
    pub audit_key: Option<String>,
    /// The audit key file; by default `<data_dir>/audit.key` (created 0600 on first start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_key_file: Option<PathBuf>,
    /// The checkpoint signing key (Ed25519); by default `<data_dir>/audit-signing.key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_signing_key_file: Option<PathBuf>,
    /// Where signed checkpoints are appended; by default `<data_dir>/audit-checkpoints.jsonl`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_checkpoint_file: Option<PathBuf>,
    /// Minutes between checkpoints written by `serve` (when the chain moved).
    #[serde(default = "default_checkpoint_minutes")]
    pub audit_checkpoint_minutes: u64,
    /// The address people reach the system at, printed as the verification URL and QR code of a
    /// signed report; by default `http://<listen>` (`https://` when `serve` answers TLS itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// The folder of the institutions' SM2 signing key files; by default `<data_dir>/signing`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key_dir: Option<PathBuf>,
    /// Certificate chain (PEM) for `serve` to answer HTTPS itself; with `tls_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) of `tls_cert`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// A proxy in front terminates TLS and sets `X-Forwarded-Proto: https`: such requests get
    /// `Strict-Transport-Security`. Only where every request comes through that proxy.
    #[serde(default)]
    pub trust_proxy_https: bool,
    /// A bearer token that opens `/metrics` to a scraper on another machine (none: this machine
    /// only). Secret: never shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_token: Option<String>,
    /// Sign-in protection, password rules and session limits (`[security]`).
    #[serde(default)]
    pub security: SecurityConfig,
    /// A training instance and its starting business date (`[training]`).
    #[serde(default)]
    pub training: TrainingConfig,
    /// Where stored files are kept (`[files]`): the data folder, or S3-compatible object storage.
    #[serde(default)]
    pub files: FilesConfig,
}

/// The `[files]` table: without `url` the stored files stay in the data folder; with
/// `url = "s3://bucket/prefix"` they go to S3-compatible object storage. What is not given here
/// comes from the usual `AWS_*` environment variables.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesConfig {
    /// `s3://bucket` or `s3://bucket/prefix`; absent: the data folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The S3-compatible server, e.g. `https://oss.example.gov.cn` (absent: AWS itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// Secret: never shown.
    #[serde(default, skip_serializing)]
    pub secret_access_key: Option<String>,
    /// Allow a plain `http://` endpoint (a server on the same machine or network).
    #[serde(default)]
    pub allow_http: bool,
}

impl FilesConfig {
    /// The object storage settings, `None` for the data folder, with every problem named in
    /// Chinese in `errs`.
    fn s3(self, errs: &mut Vec<String>) -> Option<S3Config> {
        let text = |v: Option<String>| v.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
        let endpoint = text(self.endpoint);
        let Some(url) = text(self.url) else {
            if endpoint.is_some() || self.access_key_id.is_some() || self.secret_access_key.is_some() {
                errs.push(
                    "已设置对象存储的访问参数（files.endpoint 或密钥），但未设置对象存储地址 files.url（--files-url / CHOUCHA_FILES_URL）"
                        .to_string(),
                );
            }
            return None;
        };
        if parse_s3_url(&url).is_none() {
            errs.push(format!(
                "对象存储地址 files.url“{url}”无效：应为 s3://存储桶 或 s3://存储桶/前缀（存储桶名为3至63个小写字母、数字、“-”或“.”）"
            ));
            return None;
        }
        if let Some(e) = &endpoint
            && !(e.starts_with("https://") || e.starts_with("http://"))
        {
            errs.push(format!("对象存储服务地址 files.endpoint“{e}”无效：应以 https:// 或 http:// 开头"));
        }
        if endpoint.as_deref().is_some_and(|e| e.starts_with("http://")) && !self.allow_http {
            errs.push("对象存储服务地址为 http://：须同时设置 files.allow_http = true（仅限本机或内网）".to_string());
        }
        Some(S3Config {
            url,
            endpoint,
            region: text(self.region),
            access_key_id: text(self.access_key_id),
            secret_access_key: text(self.secret_access_key),
            allow_http: self.allow_http,
        })
    }
}

/// The `[training]` table: a training instance (a copy of the system staff practise on) may run on
/// a moved business date; a production instance never does.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingConfig {
    /// This instance is a training instance: `serve --today` and the administrator's
    /// 培训日期 page may move its business date.
    #[serde(default)]
    pub enabled: bool,
    /// The business date `serve` starts on (YYYY-MM-DD), as `--today`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub today: Option<String>,
}

fn default_audit_hash() -> String {
    AuditHash::HmacSha256.as_str().into()
}

fn default_checkpoint_minutes() -> u64 {
    5
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            database_read_url: None,
            font_dir: None,
            secure_cookies: false,
            audit_hash: default_audit_hash(),
            audit_key: None,
            audit_key_file: None,
            audit_signing_key_file: None,
            audit_checkpoint_file: None,
            audit_checkpoint_minutes: default_checkpoint_minutes(),
            public_url: None,
            signing_key_dir: None,
            tls_cert: None,
            tls_key: None,
            trust_proxy_https: false,
            metrics_token: None,
            security: SecurityConfig::default(),
            training: TrainingConfig::default(),
            files: FilesConfig::default(),
        }
    }
}

/// Values given as flags; only those present override the layers below.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_read_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub font_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<FilesFlags>,
}

/// The `[files]` values given as flags (`serve --files-url`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct FilesFlags {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Validated settings.
#[derive(Clone, PartialEq, Eq)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// The replica of the lagging reads (PostgreSQL only); `None`: the primary.
    pub database_read_url: Option<String>,
    pub font_dir: Option<PathBuf>,
    pub secure_cookies: bool,
    pub audit_hash: AuditHash,
    /// Secret: never shown.
    pub audit_key: Option<String>,
    pub audit_key_file: PathBuf,
    pub audit_signing_key_file: PathBuf,
    pub audit_checkpoint_file: PathBuf,
    pub audit_checkpoint_interval: Duration,
    /// Printed in the verification URL of signed reports.
    pub public_url: String,
    /// The SM2 signing key files of the institutions.
    pub signing_key_dir: PathBuf,
    /// Sign-in protection, password rules and session limits.
    pub security: SecurityPolicy,
    /// A training instance (`[training] enabled`).
    pub training: bool,
    /// The business date to start on (`[training] today`; `serve --today` overrides it).
    pub training_today: Option<chrono::NaiveDate>,
    /// `serve` answers HTTPS itself with these files (cookies are then always `Secure`).
    pub tls: Option<TlsFiles>,
    pub trust_proxy_https: bool,
    /// Secret: never shown.
    pub metrics_token: Option<String>,
    /// Object storage for the stored files (`[files]`); `None`: the data folder.
    pub files: Option<S3Config>,
}

/// The certificate chain and private key files (PEM) of `serve --tls-cert --tls-key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact_url(&self.database_url))
            .field("database_read_url", &self.database_read_url.as_deref().map(redact_url))
            .field("font_dir", &self.font_dir)
            .field("secure_cookies", &self.secure_cookies)
            .field("audit_hash", &self.audit_hash.as_str())
            .field("audit_key", &self.audit_key.as_ref().map(|_| "***"))
            .field("audit_key_file", &self.audit_key_file)
            .field("audit_signing_key_file", &self.audit_signing_key_file)
            .field("audit_checkpoint_file", &self.audit_checkpoint_file)
            .field("audit_checkpoint_interval", &self.audit_checkpoint_interval)
            .field("public_url", &self.public_url)
            .field("signing_key_dir", &self.signing_key_dir)
            .field("tls", &self.tls)
            .field("trust_proxy_https", &self.trust_proxy_https)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .field("security", &self.security)
            .field("training", &self.training)
            .field("training_today", &self.training_today)
            .field("files", &self.files)
            .finish()
    }
}

impl Settings {
    /// Where evidence files are kept.
    pub fn evidence_dir(&self) -> PathBuf {
        self.data_dir.join("evidence")
    }

    /// The file store: object storage when `[files] url` is set, else the data folder. Whether it
    /// answers is checked by the caller ([`FileStore::check`]).
    pub fn file_store(&self) -> Result<FileStore, ConfigError> {
        match &self.files {
            Some(c) => FileStore::s3(c).map_err(ConfigError),
            None => Ok(FileStore::local(self.data_dir.clone())),
        }
    }

    /// The audit keyring: from `CHOUCHA_AUDIT_KEY` when given, else the key file (created if absent).
    pub fn audit_keyring(&self) -> Result<AuditKeyring, StoreError> {
        match &self.audit_key {
            Some(k) => audit_files::keyring_from_text(k, self.audit_hash, "环境变量 CHOUCHA_AUDIT_KEY "),
            None => audit_files::load_or_create_keyring(&self.audit_key_file, self.audit_hash),
        }
    }

    /// The effective configuration as TOML (password redacted), for `choucha config`.
    pub fn to_toml(&self) -> String {
        let mut out = format!(
            "listen = {:?}\ndata_dir = {:?}\ndatabase_url = {:?}\n",
            self.listen.to_string(),
            self.data_dir.display().to_string(),
            redact_url(&self.database_url)
        );
        if let Some(r) = &self.database_read_url {
            out.push_str(&format!("database_read_url = {:?}\n", redact_url(r)));
        }
        if let Some(d) = &self.font_dir {
            out.push_str(&format!("font_dir = {:?}\n", d.display().to_string()));
        }
        out.push_str(&format!("secure_cookies = {}\n", self.secure_cookies));
        out.push_str(&format!("audit_hash = {:?}\n", self.audit_hash.as_str()));
        match &self.audit_key {
            Some(_) => out.push_str("audit_key = \"***\"\n"),
            None => out.push_str(&format!("audit_key_file = {:?}\n", self.audit_key_file.display().to_string())),
        }
        out.push_str(&format!(
            "audit_signing_key_file = {:?}\naudit_checkpoint_file = {:?}\naudit_checkpoint_minutes = {}\n",
            self.audit_signing_key_file.display().to_string(),
            self.audit_checkpoint_file.display().to_string(),
            self.audit_checkpoint_interval.as_secs() / 60
        ));
        out.push_str(&format!(
            "public_url = {:?}\nsigning_key_dir = {:?}\n",
            self.public_url,
            self.signing_key_dir.display().to_string()
        ));
        if let Some(t) = &self.tls {
            out.push_str(&format!(
                "tls_cert = {:?}\ntls_key = {:?}\n",
                t.cert.display().to_string(),
                t.key.display().to_string()
            ));
        }
        out.push_str(&format!("trust_proxy_https = {}\n", self.trust_proxy_https));
        let p = &self.security;
        out.push_str(&format!(
            "\n[security]\nmax_failed_sign_ins = {}\nlockout_minutes = {}\nsign_in_burst = {}\nsign_in_refill_seconds = {}\nsession_idle_minutes = {}\nsession_absolute_hours = {}\ntoken_minutes = {}\npassword_min_length = {}\npassword_history = {}\n",
            p.max_failed_sign_ins,
            p.lockout_minutes,
            p.sign_in_burst,
            p.sign_in_refill_seconds,
            p.session_idle_minutes,
            p.session_absolute_hours,
            p.token_minutes,
            p.password_min_length,
            p.password_history
        ));
        if let Some(days) = p.password_max_age_days {
            out.push_str(&format!("password_max_age_days = {days}\n"));
        }
        let roles: Vec<String> = p.second_factor_roles.iter().map(|r| format!("\"{}\"", r.as_str())).collect();
        out.push_str(&format!("second_factor_roles = [{}]\n", roles.join(", ")));
        out.push_str(&format!("\n[training]\nenabled = {}\n", self.training));
        if let Some(d) = self.training_today {
            out.push_str(&format!("today = \"{d}\"\n"));
        }
        out.push_str("\n[files]\n");
        match &self.files {
            None => out.push_str("# 未设置 url：存储的文件保存在数据目录中\n"),
            Some(c) => {
                out.push_str(&format!("url = {:?}\n", c.url));
                for (key, value) in
                    [("endpoint", &c.endpoint), ("region", &c.region), ("access_key_id", &c.access_key_id)]
                {
                    if let Some(v) = value {
                        out.push_str(&format!("{key} = {v:?}\n"));
                    }
                }
                if c.secret_access_key.is_some() {
                    out.push_str("secret_access_key = \"***\"\n");
                }
                out.push_str(&format!("allow_http = {}\n", c.allow_http));
            }
        }
        out
    }
}

/// A configuration problem, in Chinese for the person starting the program.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// The layers: defaults, the file, the environment (`CHOUCHA_*`), the flags.
pub fn figment(file: Option<&Path>, flags: &FlagOverrides) -> Figment {
    let mut f = Figment::from(Serialized::defaults(RawConfig::default()));
    if let Some(path) = file {
        f = f.merge(Toml::file_exact(path));
    }
    f.merge(Env::prefixed("CHOUCHA_").only(&ENV_KEYS))
        .merge(Env::prefixed("CHOUCHA_FILES_").only(&FILES_ENV_KEYS).map(|k| format!("files.{k}").into()))
        .merge(Serialized::defaults(flags))
}

/// Read and validate the configuration.
pub fn load(file: Option<&Path>, flags: &FlagOverrides) -> Result<Settings, ConfigError> {
    if let Some(path) = file
        && !path.is_file()
    {
        return Err(ConfigError(format!("配置文件“{}”不存在或不是文件", path.display())));
    }
    let raw: RawConfig = figment(file, flags).extract().map_err(|e| ConfigError(describe(e)))?;
    validate(raw)
}

fn describe(e: figment::Error) -> String {
    let mut lines = Vec::new();
    for err in e {
        let key = if err.path.is_empty() { String::new() } else { format!("“{}”", err.path.join(".")) };
        let source = err.metadata.as_ref().map(|m| format!("（来自{}）", m.name)).unwrap_or_default();
        lines.push(format!("配置项{key}有误{source}：{}", err.kind));
    }
    if lines.is_empty() { "配置有误".into() } else { lines.join("\n") }
}

pub fn validate(raw: RawConfig) -> Result<Settings, ConfigError> {
    let mut errs = Vec::new();
    let listen = raw
        .listen
        .trim()
        .parse::<SocketAddr>()
        .map_err(|_| errs.push(format!("监听地址“{}”无效：应为“IP:端口”，例如 127.0.0.1:8080", raw.listen)))
        .ok();
    if raw.data_dir.as_os_str().is_empty() {
        errs.push("数据目录不能为空".to_string());
    }
    if raw.metrics_token.as_ref().is_some_and(|t| t.trim().chars().count() < 16) {
        errs.push("metrics_token 至少须为16个字符（它是抓取 /metrics 的凭据）".to_string());
    }
    let database_url = match raw.database_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => u.to_string(),
        None => format!("sqlite:{}", raw.data_dir.join("choucha.db").display()),
    };
    let known = ["sqlite:", "postgres://", "postgresql://"];
    if !known.iter().any(|p| database_url.starts_with(p)) {
        errs.push(format!("数据库地址“{}”无效：应以 sqlite: 或 postgres:// 开头", redact_url(&database_url)));
    }
    let database_read_url = raw.database_read_url.as_deref().map(str::trim).filter(|u| !u.is_empty());
    match database_read_url {
        Some(r) if !(r.starts_with("postgres://") || r.starts_with("postgresql://")) => {
            errs.push(format!("只读副本地址 database_read_url“{}”无效：应以 postgres:// 开头", redact_url(r)))
        }
        Some(_) if database_url.starts_with("sqlite:") => {
            errs.push("只读副本地址 database_read_url 仅适用于 PostgreSQL：数据库为 SQLite 时请删除该设置".to_string())
        }
        _ => {}
    }
    let database_read_url = database_read_url.map(str::to_string);
    if let Some(d) = &raw.font_dir
        && !d.is_dir()
    {
        errs.push(format!("字体目录“{}”不存在", d.display()));
    }
    let audit_hash = match AuditHash::parse(raw.audit_hash.trim()).filter(|h| h.is_keyed()) {
        Some(h) => h,
        None => {
            errs.push(format!("审计哈希“{}”无效：应为 hmac-sha256 或 hmac-sm3", raw.audit_hash));
            AuditHash::HmacSha256
        }
    };
    if raw.audit_checkpoint_minutes == 0 {
        errs.push("检查点间隔（audit_checkpoint_minutes）至少为 1 分钟".to_string());
    }
    let tls = match (raw.tls_cert, raw.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        (None, None) => None,
        _ => {
            errs.push("TLS 证书（tls_cert / --tls-cert）与私钥（tls_key / --tls-key）须同时给出".to_string());
            None
        }
    };
    let security = raw.security.policy(&mut errs);
    let training_today = match raw.training.today.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => match chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                errs.push(format!("培训日期 training.today“{t}”无效：应为 YYYY-MM-DD，例如 2025-10-20"));
                None
            }
        },
        None => None,
    };
    let files = raw.files.s3(&mut errs);
    let audit_key = raw.audit_key.map(|k| k.trim().to_string()).filter(|k| !k.is_empty());
    let audit_key_file = raw.audit_key_file.unwrap_or_else(|| raw.data_dir.join("audit.key"));
    let audit_signing_key_file = raw.audit_signing_key_file.unwrap_or_else(|| raw.data_dir.join("audit-signing.key"));
    let audit_checkpoint_file =
        raw.audit_checkpoint_file.unwrap_or_else(|| raw.data_dir.join("audit-checkpoints.jsonl"));
    let signing_key_dir = raw.signing_key_dir.unwrap_or_else(|| raw.data_dir.join("signing"));
    let public_url = match raw.public_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) if u.starts_with("http://") || u.starts_with("https://") => u.trim_end_matches('/').to_string(),
        Some(u) => {
            errs.push(format!("对外访问地址 public_url“{u}”无效：应以 http:// 或 https:// 开头"));
            String::new()
        }
        None => {
            let scheme = if tls.is_some() { "https" } else { "http" };
            listen.map(|l| format!("{scheme}://{l}")).unwrap_or_default()
        }
    };
    match listen {
        Some(listen) if errs.is_empty() => Ok(Settings {
            public_url,
            signing_key_dir,
            audit_hash,
            audit_key,
            audit_key_file,
            audit_signing_key_file,
            audit_checkpoint_file,
            audit_checkpoint_interval: Duration::from_secs(raw.audit_checkpoint_minutes.saturating_mul(60)),
            listen,
            data_dir: raw.data_dir,
            database_url,
            database_read_url,
            font_dir: raw.font_dir,
            secure_cookies: raw.secure_cookies,
            tls,
            trust_proxy_https: raw.trust_proxy_https,
            metrics_token: raw.metrics_token,
            security,
            training: raw.training.enabled,
            training_today,
            files,
        }),
        _ => Err(ConfigError(errs.join("\n"))),
    }
}

#[path = "config_security.rs"]
mod security;
pub use security::SecurityConfig;

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
