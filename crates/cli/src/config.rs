//! Configuration of the binary, layered: defaults → TOML file (`--config`) → `CHOUCHA_*` environment
//! → command-line flags. It is validated once at start and passed in; the database URL's password
//! never appears in `Debug` output or logs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use choucha_store::redact_url;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Environment variables read (after the `CHOUCHA_` prefix, case-insensitive).
const ENV_KEYS: [&str; 5] = ["listen", "data_dir", "database_url", "font_dir", "secure_cookies"];

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
    /// Extra folder searched for fonts (PDF documents) before the system's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub font_dir: Option<PathBuf>,
    /// Send session cookies only over HTTPS (when served behind TLS).
    #[serde(default)]
    pub secure_cookies: bool,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            font_dir: None,
            secure_cookies: false,
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
    pub font_dir: Option<PathBuf>,
}

/// Validated settings.
#[derive(Clone, PartialEq, Eq)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub font_dir: Option<PathBuf>,
    pub secure_cookies: bool,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact_url(&self.database_url))
            .field("font_dir", &self.font_dir)
            .field("secure_cookies", &self.secure_cookies)
            .finish()
    }
}

impl Settings {
    /// Where evidence files are kept.
    pub fn evidence_dir(&self) -> PathBuf {
        self.data_dir.join("evidence")
    }

    /// The effective configuration as TOML (password redacted), for `choucha config`.
    pub fn to_toml(&self) -> String {
        let mut out = format!(
            "listen = {:?}\ndata_dir = {:?}\ndatabase_url = {:?}\n",
            self.listen.to_string(),
            self.data_dir.display().to_string(),
            redact_url(&self.database_url)
        );
        if let Some(d) = &self.font_dir {
            out.push_str(&format!("font_dir = {:?}\n", d.display().to_string()));
        }
        out.push_str(&format!("secure_cookies = {}\n", self.secure_cookies));
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
    f.merge(Env::prefixed("CHOUCHA_").only(&ENV_KEYS)).merge(Serialized::defaults(flags))
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
    let database_url = match raw.database_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => u.to_string(),
        None => format!("sqlite:{}", raw.data_dir.join("choucha.db").display()),
    };
    let known = ["sqlite:", "postgres://", "postgresql://"];
    if !known.iter().any(|p| database_url.starts_with(p)) {
        errs.push(format!("数据库地址“{}”无效：应以 sqlite: 或 postgres:// 开头", redact_url(&database_url)));
    }
    if let Some(d) = &raw.font_dir
        && !d.is_dir()
    {
        errs.push(format!("字体目录“{}”不存在", d.display()));
    }
    match listen {
        Some(listen) if errs.is_empty() => Ok(Settings {
            listen,
            data_dir: raw.data_dir,
            database_url,
            font_dir: raw.font_dir,
            secure_cookies: raw.secure_cookies,
        }),
        _ => Err(ConfigError(errs.join("\n"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawConfig {
        RawConfig::default()
    }

    #[test]
    fn defaults_use_sqlite_under_data() {
        let s = validate(raw()).expect("valid");
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.database_url, "sqlite:./data/choucha.db");
        assert_eq!(s.evidence_dir(), PathBuf::from("./data/evidence"));
    }

    #[test]
    fn refuses_bad_listen_and_database_url_in_chinese() {
        let mut r = raw();
        r.listen = "localhost".into();
        r.database_url = Some("mysql://root:pw@h/db".into());
        let e = validate(r).unwrap_err().0;
        assert!(e.contains("监听地址“localhost”无效"), "{e}");
        assert!(e.contains("应以 sqlite: 或 postgres:// 开头"), "{e}");
        assert!(!e.contains("pw@"), "password leaked: {e}");
    }

    #[test]
    fn debug_and_toml_hide_the_password() {
        let mut r = raw();
        r.database_url = Some("postgres://choucha:s3cret@db:5432/choucha".into());
        let s = validate(r).expect("valid");
        assert!(!format!("{s:?}").contains("s3cret"));
        assert!(!s.to_toml().contains("s3cret"));
        assert!(s.to_toml().contains("choucha:***@db"));
    }

    #[test]
    fn flags_override_the_file() {
        let dir = std::env::temp_dir().join(format!("choucha-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("choucha.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9001\"\ndata_dir = \"/srv/choucha\"\n").expect("write");
        let flags = FlagOverrides { listen: Some("127.0.0.1:9002".into()), ..Default::default() };
        let s = load(Some(&file), &flags).expect("valid");
        assert_eq!(s.listen.to_string(), "127.0.0.1:9002");
        assert_eq!(s.data_dir, PathBuf::from("/srv/choucha"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        let dir = std::env::temp_dir().join(format!("choucha-config-unknown-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("choucha.toml");
        std::fs::write(&file, "listn = \"127.0.0.1:9001\"\n").expect("write");
        let e = load(Some(&file), &FlagOverrides::default()).unwrap_err().0;
        assert!(e.contains("配置项"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
