//! `choucha backup --to DIR` and `choucha restore --from DIR` (issue 17): a consistent snapshot of a
//! deployment and its return into an empty one.
//!
//! A backup folder holds the database (`database/choucha.db`, written by SQLite's `VACUUM INTO`, or
//! `database/choucha.dump`, pg_dump's custom format taken in one exported snapshot), every stored
//! file (`files/<key>`, copied from the file store, local or S3), the audit key files and checkpoint
//! file (`audit/`), and `manifest.json`: the SHA-256 and size of every other file, the schema
//! version, the database kind, the time (Beijing) and the audit chain's head in the snapshot.
//!
//! The order makes the snapshot consistent: the checkpoints are copied before the database is
//! snapshotted (so no checkpoint is ahead of the chain, which `audit verify` would take for a
//! truncation), the stored files after it (they are never changed or removed, so every file the
//! snapshot refers to is there).
//!
//! Restore checks every hash first and refuses a tampered or incomplete backup naming the file,
//! refuses a target that holds data unless `--force`, then restores the database, the files (into
//! the configured file store) and the audit files, and runs the check of `audit verify`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use choucha_domain::clock::{self, Clock};
use choucha_service::files::FileStore;
use choucha_store::{Store, audit, redact_url};
use futures::TryStreamExt;
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::commands::{self, file_store, open};
use crate::config::Settings;

const MANIFEST: &str = "manifest.json";
/// The layout of a backup folder, this version.
const FORMAT: u32 = 1;
const SQLITE_FILE: &str = "database/choucha.db";
const PG_FILE: &str = "database/choucha.dump";
const FILES: &str = "files";
const AUDIT_KEY: &str = "audit/audit.key";
const SIGNING_KEY: &str = "audit/audit-signing.key";
const CHECKPOINTS: &str = "audit/audit-checkpoints.jsonl";

/// What a backup holds, written last (a folder without it is an unfinished backup).
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    /// When the backup was taken, Beijing time (RFC 3339, +08:00).
    created_at: String,
    /// `sqlite` or `postgres`.
    database: String,
    /// The last migration applied to the database backed up.
    schema_version: String,
    /// The audit chain's head in the snapshot.
    audit_head_seq: i64,
    audit_head_hash: String,
    /// Where the stored files were (a folder or an `s3://` URL).
    files_from: String,
    /// The audit key came from `CHOUCHA_AUDIT_KEY`, not a file: it is not in the backup.
    audit_key_in_environment: bool,
    /// Every file of the backup but the manifest, by its path in the folder (`/`-separated).
    files: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    path: String,
    size: u64,
    sha256: String,
}

/// `choucha backup --to DIR`.
pub async fn backup(settings: &Settings, to: &Path) -> anyhow::Result<ExitCode> {
    if to.exists() {
        let mut entries = std::fs::read_dir(to).with_context(|| format!("无法读取备份目录“{}”", to.display()))?;
        if entries.next().is_some() {
            eprintln!("备份目录“{}”不是空的：请指定一个新的或空的目录", to.display());
            return Ok(ExitCode::from(2));
        }
    }
    std::fs::create_dir_all(to.join("database")).with_context(|| format!("无法创建备份目录“{}”", to.display()))?;
    std::fs::create_dir_all(to.join("audit")).with_context(|| format!("无法创建备份目录“{}”", to.display()))?;
    let s = open(settings).await?;
    let mut entries = Vec::new();

    // The audit files first: no checkpoint may be ahead of the snapshot's chain.
    let audit_key_in_environment = settings.audit_key.is_some();
    let mut audit_files =
        vec![(&settings.audit_signing_key_file, SIGNING_KEY), (&settings.audit_checkpoint_file, CHECKPOINTS)];
    if !audit_key_in_environment {
        audit_files.insert(0, (&settings.audit_key_file, AUDIT_KEY));
    }
    for (from, name) in audit_files {
        if from.is_file() {
            std::fs::copy(from, to.join(name)).with_context(|| format!("无法复制“{}”", from.display()))?;
            entries.push(entry_of(to, name).await?);
        }
    }

    let store = s.store();
    let (database, db_file, schema_version, (head_seq, head_hash)) = match store.backend() {
        DbBackend::Postgres => {
            let (version, head) = pg_dump(store, &settings.database_url, &to.join(PG_FILE)).await?;
            ("postgres", PG_FILE, version, head)
        }
        _ => {
            let path = to.join(SQLITE_FILE);
            let quoted = path.display().to_string().replace('\'', "''");
            store
                .reader()
                .execute_unprepared(&format!("VACUUM INTO '{quoted}'"))
                .await
                .context("SQLite 数据库快照（VACUUM INTO）失败")?;
            let (version, head) = sqlite_snapshot_facts(&path).await?;
            ("sqlite", SQLITE_FILE, version, head)
        }
    };
    entries.push(entry_of(to, db_file).await?);

    // The stored files after the snapshot: every file it refers to is there.
    let files = s.files().clone();
    let listed = files.list().await.context("无法列出存储的文件")?;
    for (key, _) in &listed {
        let name = format!("{FILES}/{key}");
        entries.push(copy_out(&files, key, to, &name).await?);
    }
    s.close().await?;

    let created = Clock::system().now();
    let manifest = Manifest {
        format: FORMAT,
        created_at: created.with_timezone(&clock::beijing_offset()).to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        database: database.into(),
        schema_version,
        audit_head_seq: head_seq,
        audit_head_hash: head_hash,
        files_from: files.describe(),
        audit_key_in_environment,
        files: entries,
    };
    let json = serde_json::to_string_pretty(&manifest)?;
    std::fs::write(to.join(MANIFEST), format!("{json}\n")).context("无法写入 manifest.json")?;
    println!(
        "备份完成：“{}”（北京时间 {}）：{} 数据库（迁移版本 {}），存储的文件 {} 个，审计链头记录 #{}",
        to.display(),
        clock::beijing_minutes(created),
        if database == "postgres" { "PostgreSQL" } else { "SQLite" },
        manifest.schema_version,
        listed.len(),
        head_seq
    );
    if audit_key_in_environment {
        println!("注意：审计密钥来自环境变量 CHOUCHA_AUDIT_KEY，未写入备份；恢复时须设置同一密钥，请另行保管");
    }
    Ok(ExitCode::SUCCESS)
}

/// `choucha restore --from DIR [--force]`.
pub async fn restore(settings: &Settings, from: &Path, force: bool) -> anyhow::Result<ExitCode> {
    let manifest_path = from.join(MANIFEST);
    let text = match std::fs::read_to_string(&manifest_path) {
        Ok(t) => t,
        Err(_) => {
            eprintln!("拒绝恢复：“{}”中没有 manifest.json，不是完整的备份", from.display());
            return Ok(ExitCode::FAILURE);
        }
    };
    let manifest: Manifest = match serde_json::from_str(&text) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("拒绝恢复：manifest.json 无法解析（{e}）");
            return Ok(ExitCode::FAILURE);
        }
    };
    if manifest.format != FORMAT {
        eprintln!("拒绝恢复：备份格式版本 {} 不受本程序支持（支持 {FORMAT}）", manifest.format);
        return Ok(ExitCode::FAILURE);
    }
    // Every hash before anything is touched.
    for e in &manifest.files {
        if let Some(problem) = check_entry(from, e).await? {
            eprintln!("拒绝恢复：{problem}");
            return Ok(ExitCode::FAILURE);
        }
    }
    println!("备份完整：{} 个文件与清单的 SHA-256 一致（备份于 {}）", manifest.files.len(), manifest.created_at);

    let target = if settings.database_url.starts_with("sqlite:") { "sqlite" } else { "postgres" };
    if manifest.database != target {
        eprintln!(
            "拒绝恢复：备份的数据库为 {}，而配置的目标数据库为 {}",
            kind_label(&manifest.database),
            kind_label(target)
        );
        return Ok(ExitCode::FAILURE);
    }
    let has_file = |name: &str| manifest.files.iter().any(|e| e.path == name);
    let db_file = if target == "postgres" { PG_FILE } else { SQLITE_FILE };
    if !has_file(db_file) {
        eprintln!("拒绝恢复：备份中没有数据库文件 {db_file}");
        return Ok(ExitCode::FAILURE);
    }

    // The target must be empty.
    let files = file_store(settings).await?;
    let mut occupied = Vec::new();
    let records = stored_audit_records(settings).await?;
    if records > 0 {
        occupied.push(format!("数据库“{}”已有 {records} 条审计记录", redact_url(&settings.database_url)));
    }
    let stored = files.list().await.context("无法列出目标文件存储")?.len();
    if stored > 0 {
        occupied.push(format!("文件存储“{}”已有 {stored} 个文件", files.describe()));
    }
    let audit_targets = audit_targets(settings, &manifest);
    for (path, name) in &audit_targets {
        if path.exists() && std::fs::read(path).ok() != std::fs::read(from.join(name)).ok() {
            occupied.push(format!("审计文件“{}”已存在且与备份不同", path.display()));
        }
    }
    if !occupied.is_empty() {
        if !force {
            eprintln!(
                "拒绝恢复：目标部署不是空的：{}。恢复只能在空部署上进行；确需覆盖，请加 --force",
                occupied.join("；")
            );
            return Ok(ExitCode::FAILURE);
        }
        println!("按 --force 覆盖目标部署：{}", occupied.join("；"));
    }

    // The database.
    if target == "postgres" {
        pg_restore(&settings.database_url, &from.join(PG_FILE)).await?;
    } else {
        restore_sqlite(&settings.database_url, &from.join(SQLITE_FILE))?;
    }
    println!("数据库已恢复：{}（迁移版本 {}）", redact_url(&settings.database_url), manifest.schema_version);

    // The stored files, into the configured store.
    let mut placed = 0usize;
    for e in manifest.files.iter().filter(|e| e.path.starts_with(&format!("{FILES}/"))) {
        let key = &e.path[FILES.len() + 1..];
        files
            .put_file(key, &from.join(&e.path))
            .await
            .with_context(|| format!("无法把“{}”放入文件存储“{}”", e.path, files.describe()))?;
        placed += 1;
    }
    println!("存储的文件已恢复：{placed} 个，位于“{}”", files.describe());

    // The audit files.
    for (path, name) in &audit_targets {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("无法创建目录“{}”", dir.display()))?;
        }
        let tmp = path.with_extension("restoring");
        std::fs::copy(from.join(name), &tmp).with_context(|| format!("无法写入“{}”", tmp.display()))?;
        if *name != CHECKPOINTS {
            restrict(&tmp)?;
        }
        std::fs::rename(&tmp, path).with_context(|| format!("无法写入“{}”", path.display()))?;
    }
    println!("审计密钥与检查点已恢复");
    if manifest.audit_key_in_environment {
        println!("注意：备份时审计密钥来自环境变量 CHOUCHA_AUDIT_KEY：须设置同一密钥，审计链才能校验");
    }

    // The same check as `choucha audit verify`.
    println!("正在校验恢复后的审计链（备份时链头为记录 #{}）：", manifest.audit_head_seq);
    commands::audit_verify(settings, false, None).await
}

/// The audit files of a backup and where they go: the configured paths.
fn audit_targets(settings: &Settings, manifest: &Manifest) -> Vec<(PathBuf, &'static str)> {
    [
        (settings.audit_key_file.clone(), AUDIT_KEY),
        (settings.audit_signing_key_file.clone(), SIGNING_KEY),
        (settings.audit_checkpoint_file.clone(), CHECKPOINTS),
    ]
    .into_iter()
    .filter(|(_, name)| manifest.files.iter().any(|e| e.path == *name))
    .collect()
}

fn kind_label(kind: &str) -> &'static str {
    if kind == "postgres" { "PostgreSQL" } else { "SQLite" }
}

/// Key files are readable by their owner only.
fn restrict(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("无法设置“{}”的权限", path.display()))?;
    }
    Ok(())
}

/// A file of the backup as the manifest lists it.
async fn entry_of(root: &Path, name: &str) -> anyhow::Result<Entry> {
    let path = root.join(name);
    let (size, sha256) = tokio::task::spawn_blocking(move || hash_file(&path)).await??;
    Ok(Entry { path: name.to_string(), size, sha256 })
}

fn hash_file(path: &Path) -> anyhow::Result<(u64, String)> {
    let mut f = std::fs::File::open(path).with_context(|| format!("无法读取“{}”", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).with_context(|| format!("无法读取“{}”", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex::encode(h.finalize())))
}

/// The stored file `key` copied to `root/name`, hashed on the way.
async fn copy_out(files: &FileStore, key: &str, root: &Path, name: &str) -> anyhow::Result<Entry> {
    let path = root.join(name);
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await.with_context(|| format!("无法创建“{}”", dir.display()))?;
    }
    let mut out = tokio::fs::File::create(&path).await.with_context(|| format!("无法写入“{}”", path.display()))?;
    let mut stream = files.stream(key, None).await.with_context(|| format!("无法读取存储的文件“{key}”"))?;
    let mut h = Sha256::new();
    let mut size = 0u64;
    while let Some(block) = stream.try_next().await.with_context(|| format!("无法读取存储的文件“{key}”"))?
    {
        h.update(&block);
        size += block.len() as u64;
        out.write_all(&block).await.with_context(|| format!("无法写入“{}”", path.display()))?;
    }
    out.sync_all().await.with_context(|| format!("无法写入“{}”", path.display()))?;
    Ok(Entry { path: name.to_string(), size, sha256: hex::encode(h.finalize()) })
}

/// `None` when the file is there with the manifest's size and hash, else what is wrong, naming it.
async fn check_entry(root: &Path, e: &Entry) -> anyhow::Result<Option<String>> {
    let safe = !e.path.is_empty()
        && e.path.split('/').all(|s| !s.is_empty() && s != "." && s != ".." && !s.contains('\\'))
        && e.path != MANIFEST;
    if !safe {
        return Ok(Some(format!("清单中的路径“{}”无效", e.path)));
    }
    let path = root.join(&e.path);
    if !path.is_file() {
        return Ok(Some(format!("备份不完整：缺少文件“{}”", e.path)));
    }
    let (size, sha256) = tokio::task::spawn_blocking(move || hash_file(&path)).await??;
    if size != e.size || sha256 != e.sha256 {
        return Ok(Some(format!("备份中的文件“{}”与清单记录的 SHA-256 不符：备份已被篡改或损坏", e.path)));
    }
    Ok(None)
}

/// The last migration applied, read on `db`.
async fn schema_version(db: &impl ConnectionTrait) -> anyhow::Result<String> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM seaql_migrations ORDER BY version DESC LIMIT 1",
        ))
        .await
        .context("无法读取数据库的迁移版本")?;
    Ok(row.and_then(|r| r.try_get_by_index::<String>(0).ok()).unwrap_or_default())
}

/// The schema version and audit head of a SQLite snapshot, read without changing the file.
async fn sqlite_snapshot_facts(path: &Path) -> anyhow::Result<(String, (i64, String))> {
    let db =
        sea_orm::Database::connect(format!("sqlite:{}?mode=ro", path.display())).await.context("无法打开数据库快照")?;
    let version = schema_version(&db).await?;
    let head = audit::head(&db).await?;
    db.close().await?;
    Ok((version, head))
}

/// The SQLite file of a `sqlite:` URL.
fn sqlite_path(url: &str) -> PathBuf {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    PathBuf::from(rest.split('?').next().unwrap_or(rest))
}

/// Audit records in the configured database; 0 when it has no tables (a new deployment). The
/// database is not created nor migrated.
async fn stored_audit_records(settings: &Settings) -> anyhow::Result<i64> {
    let url = &settings.database_url;
    if url.starts_with("sqlite:") && !sqlite_path(url).exists() {
        return Ok(0);
    }
    let store = Store::connect(url).await.with_context(|| format!("无法连接数据库“{}”", redact_url(url)))?;
    let db = store.reader();
    let exists = match store.backend() {
        DbBackend::Postgres => {
            "SELECT count(*) FROM pg_catalog.pg_tables WHERE tablename = 'audit_head' AND schemaname = current_schema()"
        }
        _ => "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'audit_head'",
    };
    let n = db
        .query_one_raw(Statement::from_string(store.backend(), exists))
        .await?
        .and_then(|r| r.try_get_by_index::<i64>(0).ok())
        .unwrap_or(0);
    let records = if n > 0 { audit::head(db).await.map(|(seq, _)| seq).unwrap_or(0) } else { 0 };
    store.close().await?;
    Ok(records)
}

/// Put the SQLite snapshot in place of the configured database file (and its journal files).
fn restore_sqlite(url: &str, snapshot: &Path) -> anyhow::Result<()> {
    let dest = sqlite_path(url);
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("无法创建目录“{}”", dir.display()))?;
    }
    let tmp = dest.with_extension("restoring");
    std::fs::copy(snapshot, &tmp).with_context(|| format!("无法写入“{}”", tmp.display()))?;
    for suffix in ["-wal", "-shm"] {
        let mut p = dest.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    std::fs::rename(&tmp, &dest).with_context(|| format!("无法写入“{}”", dest.display()))?;
    Ok(())
}

/// A PostgreSQL client program: on `PATH`, else the newest of `/usr/lib/postgresql/*/bin`.
fn pg_tool(name: &str) -> anyhow::Result<PathBuf> {
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let p = dir.join(name);
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|d| {
            let version = d.file_name().to_string_lossy().parse::<u32>().ok()?;
            let p = d.path().join("bin").join(name);
            p.is_file().then_some((version, p))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, p)) => Ok(p),
        None => anyhow::bail!(
            "未找到 {name}：请安装 PostgreSQL 客户端（与服务器同一主版本或更新，如 apt install postgresql-client），或把 {name} 所在目录加入 PATH"
        ),
    }
}

/// The schema named by `options=-c search_path=…` in a PostgreSQL URL (the test and multi-tenant
/// layout), if any.
fn pg_schema(url: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let decoded = percent_decode(query);
    let at = decoded.find("search_path=")? + "search_path=".len();
    let schema: String = decoded[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    (!schema.is_empty() && schema != "public").then_some(schema)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The URL without its password, and the password: pg_dump and pg_restore get it in `PGPASSWORD`,
/// never on their command line (which every user of the machine can read).
fn without_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else { return (url.to_string(), None) };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else { return (url.to_string(), None) };
    match userinfo.split_once(':') {
        Some((user, password)) => (format!("{scheme}://{user}@{host}{tail}"), Some(percent_decode(password))),
        None => (url.to_string(), None),
    }
}

/// A PostgreSQL client program for `url`.
fn pg_command(tool: &Path, url: &str) -> tokio::process::Command {
    let (url, password) = without_password(url);
    let mut cmd = tokio::process::Command::new(tool);
    cmd.arg(format!("--dbname={url}"));
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    cmd
}

async fn run_tool(mut cmd: tokio::process::Command, name: &str) -> anyhow::Result<()> {
    let out = cmd.output().await.with_context(|| format!("无法运行 {name}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        anyhow::bail!("{name} 失败（{}）：{}", out.status, err.trim());
    }
    Ok(())
}

/// pg_dump (custom format) of the database in a snapshot exported from a repeatable-read
/// transaction, in which the schema version and the audit head are read too: the dump and the
/// manifest describe the same instant.
async fn pg_dump(store: &Store, url: &str, to: &Path) -> anyhow::Result<(String, (i64, String))> {
    let tool = pg_tool("pg_dump")?;
    let tx = store
        .reader()
        .begin_with_config(Some(sea_orm::IsolationLevel::RepeatableRead), Some(sea_orm::AccessMode::ReadOnly))
        .await?;
    let snapshot = tx
        .query_one_raw(Statement::from_string(DbBackend::Postgres, "SELECT pg_export_snapshot()"))
        .await?
        .and_then(|r| r.try_get_by_index::<String>(0).ok())
        .context("无法导出数据库快照")?;
    let version = schema_version(&tx).await?;
    let head = audit::head(&tx).await?;
    let mut cmd = pg_command(&tool, url);
    cmd.arg("--format=custom")
        .arg("--no-owner")
        .arg("--no-privileges")
        .arg(format!("--snapshot={snapshot}"))
        .arg(format!("--file={}", to.display()));
    if let Some(schema) = pg_schema(url) {
        cmd.arg(format!("--schema={schema}"));
    }
    let dumped = run_tool(cmd, "pg_dump").await;
    tx.rollback().await?;
    dumped?;
    Ok((version, head))
}

/// pg_restore of a custom-format dump into the configured database (objects of the dump that exist
/// are dropped first: the target was found empty, or `--force` was given).
async fn pg_restore(url: &str, dump: &Path) -> anyhow::Result<()> {
    let tool = pg_tool("pg_restore")?;
    let mut cmd = pg_command(&tool, url);
    cmd.arg("--no-owner").arg("--no-privileges").arg("--exit-on-error").arg("--clean").arg("--if-exists").arg(dump);
    run_tool(cmd, "pg_restore").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_schema_of_a_search_path_url() {
        assert_eq!(pg_schema("postgres://u@h/db?options=-c%20search_path%3Dt_cli_1"), Some("t_cli_1".into()));
        assert_eq!(pg_schema("postgres://u@h/db?sslmode=disable&options=-c search_path=bureau"), Some("bureau".into()));
        assert_eq!(pg_schema("postgres://u@h/db"), None);
        assert_eq!(pg_schema("postgres://u@h/db?options=-c%20search_path%3Dpublic"), None);
    }

    #[test]
    fn the_password_leaves_the_url_for_the_environment() {
        assert_eq!(
            without_password("postgres://choucha:p%40ss@db:5432/choucha?sslmode=require"),
            ("postgres://choucha@db:5432/choucha?sslmode=require".to_string(), Some("p@ss".to_string()))
        );
        assert_eq!(
            without_password("postgres://postgres@127.0.0.1/test"),
            ("postgres://postgres@127.0.0.1/test".into(), None)
        );
        assert_eq!(without_password("postgres://db/x"), ("postgres://db/x".into(), None));
    }

    #[test]
    fn reads_the_file_of_a_sqlite_url() {
        assert_eq!(sqlite_path("sqlite:./data/choucha.db"), PathBuf::from("./data/choucha.db"));
        assert_eq!(sqlite_path("sqlite:///srv/c.db?mode=rwc"), PathBuf::from("/srv/c.db"));
    }
}
