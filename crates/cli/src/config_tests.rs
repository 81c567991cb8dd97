//! The configuration's tests: defaults, refusals in Chinese, the sources' precedence.

use super::*;
use choucha_domain::role::Role;

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
fn a_replica_is_postgresql_beside_postgresql_and_its_password_hidden() {
    let mut r = raw();
    r.database_url = Some("postgres://choucha:s3cret@db:5432/choucha".into());
    r.database_read_url = Some("postgres://reader:r3plica@replica:5432/choucha".into());
    let s = validate(r.clone()).expect("valid");
    assert_eq!(s.database_read_url.as_deref(), Some("postgres://reader:r3plica@replica:5432/choucha"));
    assert!(!format!("{s:?}").contains("r3plica"));
    assert!(
        s.to_toml().contains("database_read_url = \"postgres://reader:***@replica:5432/choucha\""),
        "{}",
        s.to_toml()
    );
    r.database_read_url = Some("mysql://reader:r3plica@replica/choucha".into());
    let e = validate(r).unwrap_err().0;
    assert!(e.contains("只读副本地址") && e.contains("应以 postgres:// 开头") && !e.contains("r3plica"), "{e}");
    let mut r = raw();
    r.database_read_url = Some("postgres://reader@replica/choucha".into());
    let e = validate(r).unwrap_err().0;
    assert!(e.contains("仅适用于 PostgreSQL"), "beside SQLite: {e}");
    let mut r = raw();
    r.database_read_url = Some("  ".into());
    assert_eq!(validate(r).expect("blank is unset").database_read_url, None);
}

#[test]
fn audit_key_from_the_environment_is_hidden_and_sm3_is_selectable() {
    let mut r = raw();
    r.audit_key = Some("00112233445566778899aabbccddeeff".into());
    r.audit_hash = "hmac-sm3".into();
    let s = validate(r).expect("valid");
    assert_eq!(s.audit_hash, AuditHash::HmacSm3);
    assert!(!format!("{s:?}").contains("00112233"));
    assert!(!s.to_toml().contains("00112233"));
    assert_eq!(s.audit_keyring().expect("keyring").hash(), AuditHash::HmacSm3);
    let mut bad = raw();
    bad.audit_hash = "sha256".into();
    assert!(validate(bad).unwrap_err().0.contains("应为 hmac-sha256 或 hmac-sm3"));
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
fn tls_needs_both_the_certificate_and_the_key() {
    let mut r = raw();
    r.tls_cert = Some("cert.pem".into());
    assert!(validate(r.clone()).unwrap_err().0.contains("须同时给出"));
    r.tls_key = Some("key.pem".into());
    let s = validate(r).expect("valid");
    assert_eq!(s.tls, Some(TlsFiles { cert: "cert.pem".into(), key: "key.pem".into() }));
    assert!(s.to_toml().contains("tls_key = \"key.pem\""));
    assert_eq!(validate(raw()).expect("valid").tls, None);
}

#[test]
fn the_security_table_sets_the_policy_and_refuses_nonsense() {
    let dir = std::env::temp_dir().join(format!("choucha-config-security-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("choucha.toml");
    std::fs::write(
        &file,
        "[security]\nmax_failed_sign_ins = 3\nsession_idle_minutes = 10\npassword_max_age_days = 90\n",
    )
    .expect("write");
    let s = load(Some(&file), &FlagOverrides::default()).expect("valid");
    assert_eq!(s.security.max_failed_sign_ins, 3);
    assert_eq!(s.security.session_idle_minutes, 10);
    assert_eq!(s.security.password_max_age_days, Some(90));
    assert_eq!(s.security.lockout_minutes, 15, "the rest keeps the defaults");
    assert!(s.to_toml().contains("[security]\nmax_failed_sign_ins = 3"), "{}", s.to_toml());
    assert_eq!(validate(raw()).expect("valid").security, SecurityPolicy::default());
    std::fs::write(&file, "[security]\ntoken_minutes = 0\npassword_min_length = 4\n").expect("write");
    let e = load(Some(&file), &FlagOverrides::default()).unwrap_err().0;
    assert!(e.contains("security.token_minutes 须大于 0"), "{e}");
    assert!(e.contains("password_min_length 不能小于 8"), "{e}");
    // The second factor: every staff role by default, the roles named, none, or a refusal.
    assert!(validate(raw()).expect("valid").security.requires_second_factor(&[Role::Tester]));
    assert!(!validate(raw()).expect("valid").security.requires_second_factor(&[Role::Enterprise]));
    std::fs::write(&file, "[security]\nsecond_factor_roles = [\"regulator\", \"安全管理员\"]\n").expect("write");
    let s = load(Some(&file), &FlagOverrides::default()).expect("valid");
    assert_eq!(s.security.second_factor_roles, vec![Role::Regulator, Role::SecurityAdmin]);
    assert!(s.to_toml().contains("second_factor_roles = [\"regulator\", \"security_admin\"]"), "{}", s.to_toml());
    std::fs::write(&file, "[security]\nsecond_factor_roles = []\n").expect("write");
    assert!(load(Some(&file), &FlagOverrides::default()).expect("valid").security.second_factor_roles.is_empty());
    std::fs::write(&file, "[security]\nsecond_factor_roles = [\"boss\"]\n").expect("write");
    let e = load(Some(&file), &FlagOverrides::default()).unwrap_err().0;
    assert!(e.contains("second_factor_roles 中的角色“boss”不存在"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_metrics_token_is_long_enough_and_never_shown() {
    let mut r = raw();
    r.metrics_token = Some("short".into());
    assert!(validate(r.clone()).unwrap_err().0.contains("metrics_token 至少须为16个字符"));
    r.metrics_token = Some("scrape-secret-2025-x".into());
    let s = validate(r).expect("valid");
    assert_eq!(s.metrics_token.as_deref(), Some("scrape-secret-2025-x"));
    assert!(!format!("{s:?}").contains("scrape-secret") && !s.to_toml().contains("scrape-secret"));
}

#[test]
fn files_stay_in_the_data_folder_unless_an_s3_url_is_given() {
    let s = validate(raw()).expect("valid");
    assert_eq!(s.files, None);
    assert!(s.file_store().expect("store").is_local());
    assert!(s.to_toml().contains("[files]\n# 未设置 url"), "{}", s.to_toml());
}

#[test]
fn the_files_table_is_layered_under_the_flag_and_hides_the_secret() {
    let dir = std::env::temp_dir().join(format!("choucha-config-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("choucha.toml");
    std::fs::write(
        &file,
        "[files]\nurl = \"s3://from-file/prov\"\nendpoint = \"http://127.0.0.1:9000\"\nregion = \"cn-north-1\"\naccess_key_id = \"AKID\"\nsecret_access_key = \"hush-hush-secret\"\nallow_http = true\n",
    )
    .expect("write");
    let s = load(Some(&file), &FlagOverrides::default()).expect("valid");
    let c = s.files.clone().expect("object storage");
    assert_eq!(c.url, "s3://from-file/prov");
    assert_eq!(c.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
    assert_eq!(c.secret_access_key.as_deref(), Some("hush-hush-secret"));
    assert!(c.allow_http);
    let shown = s.to_toml();
    assert!(shown.contains("[files]\nurl = \"s3://from-file/prov\""), "{shown}");
    assert!(shown.contains("secret_access_key = \"***\""), "{shown}");
    assert!(!shown.contains("hush-hush") && !format!("{s:?}").contains("hush-hush"), "{shown}");
    assert_eq!(s.file_store().expect("store").describe(), "s3://from-file/prov");
    // The flag overrides the file's URL; the rest of the table stays.
    let flags = FlagOverrides { files: Some(FilesFlags { url: Some("s3://from-flag".into()) }), ..Default::default() };
    let s = load(Some(&file), &flags).expect("valid");
    let c = s.files.expect("object storage");
    assert_eq!(c.url, "s3://from-flag");
    assert_eq!(c.region.as_deref(), Some("cn-north-1"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn refuses_a_bad_files_url_and_settings_without_a_url_in_chinese() {
    let mut r = raw();
    r.files.url = Some("s3://Upper_Case".into());
    let e = validate(r).unwrap_err().0;
    assert!(e.contains("对象存储地址 files.url“s3://Upper_Case”无效"), "{e}");
    let mut r = raw();
    r.files.endpoint = Some("https://oss.example.gov.cn".into());
    assert!(validate(r).unwrap_err().0.contains("未设置对象存储地址 files.url"));
    let mut r = raw();
    r.files.url = Some("s3://choucha".into());
    r.files.endpoint = Some("http://10.0.0.5:9000".into());
    assert!(validate(r.clone()).unwrap_err().0.contains("files.allow_http = true"));
    r.files.allow_http = true;
    assert!(validate(r).is_ok());
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
