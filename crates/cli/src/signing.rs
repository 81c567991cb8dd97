//! `choucha signing rotate | export-keys` and `choucha report verify` (issue 18): the institutions'
//! SM2 keys, and the offline check of a signed report PDF (docs/SIGNATURES.md).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use choucha_domain::signed_pdf;
use choucha_service::signing::{self, PublicKeyEntry};
use choucha_store::audit::AuditActor;
use serde::{Deserialize, Serialize};

use crate::commands::{CLI_ACTOR, open, service_error};
use crate::config::Settings;

/// The key export: what an offline check needs, nothing secret.
#[derive(Debug, Serialize, Deserialize)]
struct KeyExport {
    format: String,
    exported_at: String,
    keys: Vec<PublicKeyEntry>,
}

const FORMAT: &str = "choucha-sm2-keys-v1";

/// `choucha signing rotate --org CODE`.
pub async fn rotate(settings: &Settings, org: &str) -> anyhow::Result<ExitCode> {
    let s = open(settings).await?;
    let r = signing::rotate(&s, &AuditActor::system(CLI_ACTOR), org).await;
    s.close().await?;
    match r {
        Ok(r) => {
            println!("已为{}生成新的 SM2 签名密钥", r.org_name);
            println!("新密钥指纹（SM3）：{}", r.new_key_id);
            println!("私钥文件：{}", r.key_file.display());
            println!("停用旧密钥 {} 个；旧密钥签发的文件仍可验证", r.retired);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("更换签名密钥失败：{}", service_error(e));
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `choucha signing export-keys --to FILE`.
pub async fn export_keys(settings: &Settings, to: &Path) -> anyhow::Result<ExitCode> {
    let s = open(settings).await?;
    let keys = signing::export_keys(&s).await.map_err(service_error);
    s.close().await?;
    let keys = keys?;
    let export = KeyExport {
        format: FORMAT.into(),
        exported_at: chrono::Utc::now().with_timezone(&choucha_domain::clock::beijing_offset()).to_rfc3339(),
        keys,
    };
    std::fs::write(to, serde_json::to_string_pretty(&export)?)
        .with_context(|| format!("无法写入文件“{}”", to.display()))?;
    println!("已导出 {} 个签名公钥到 {}", export.keys.len(), to.display());
    Ok(ExitCode::SUCCESS)
}

/// `choucha report verify FILE [--keys KEYS.json]`: with `--keys` no database is opened.
pub async fn verify(settings: &Settings, file: &Path, keys: Option<&Path>) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("无法读取文件“{}”", file.display()))?;
    let keys = match keys {
        Some(k) => {
            let text = std::fs::read_to_string(k).with_context(|| format!("无法读取密钥文件“{}”", k.display()))?;
            let export: KeyExport = serde_json::from_str(&text)
                .ok()
                .filter(|e: &KeyExport| e.format == FORMAT)
                .with_context(|| format!("“{}”不是 choucha signing export-keys 导出的密钥文件", k.display()))?;
            export.keys
        }
        None => {
            let s = open(settings).await?;
            let keys = signing::export_keys(&s).await.map_err(service_error);
            s.close().await?;
            keys?
        }
    };
    println!("文件：{}", file.display());
    println!("SHA-256：{}", signed_pdf::sha256_hex(&bytes));
    println!("SM3：{}", signed_pdf::sm3_hex(&bytes));
    match signing::check_file(&bytes, &keys) {
        Ok(k) => {
            println!("验证通过：SM2 签名有效，文件自签发后未被改动");
            println!("签发机构：{}（{}）", k.org_name, k.org_code);
            println!("密钥指纹（SM3）：{}", k.key_id);
            match &k.retired_at {
                Some(t) => println!("密钥状态：已于 {t} 停用（停用前签发的文件仍然有效）"),
                None => println!("密钥状态：在用"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("验证失败：{e}");
            Ok(ExitCode::FAILURE)
        }
    }
}
