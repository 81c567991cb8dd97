//! `choucha signing rotate`, `choucha signing export-keys` and `choucha report verify` through the
//! real binary (issue 18): a file signed with an institution's key verifies offline from the
//! exported keys and from the database; one changed byte and an unknown key exit 1 with the reason
//! in Chinese; a rotated-out key still verifies what it signed. SQLite; the report rendering and
//! signing at issue are covered by the service tests.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::process::Output;

use choucha_domain::signed_pdf::{self, KeyPair};
use choucha_service::organisations::{self, OrgInput};
use choucha_service::{Services, signing};

mod common;
use common::{TempDir, output};

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A PDF-like body signed with the institution's key file, as the server signs a report.
fn signed_file(key_file: &Path, body: &[u8]) -> Vec<u8> {
    let key = KeyPair::from_secret_hex(&std::fs::read_to_string(key_file).unwrap()).unwrap();
    signed_pdf::attach(body, &key.key_id(), &key.sign(body))
}

#[tokio::test]
async fn a_signed_file_verifies_offline_and_a_changed_byte_or_unknown_key_is_refused() {
    let t = TempDir::new("report-verify");
    let data = t.data();
    let url = format!("sqlite:{}", t.path().join("choucha.db").display());
    let dir = data.display().to_string();
    let base = ["--database-url", url.as_str(), "--data-dir", dir.as_str()];
    let o = output(&[&["migrate"][..], &base[..]].concat());
    assert!(o.status.success(), "{}", text(&o));
    let store = choucha_store::Store::connect(&url).await.unwrap();
    let s = Services::new(store.clone(), data.clone());
    let org = OrgInput {
        code: "lab".into(),
        name: "山西省检验检测中心".into(),
        kind: "institution".into(),
        active: true,
        cap_testing: true,
        qualification_no: Some("CMA 140000000001".into()),
        ..Default::default()
    };
    let org = organisations::create_as_system(&s, "test", org).await.unwrap();
    store.close().await.unwrap();

    let o = output(&[&["signing", "rotate", "--org", "lab"][..], &base[..]].concat());
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("新密钥指纹（SM3）"), "{}", text(&o));
    let key_file = signing::key_path(&data.join("signing"), org.id);
    let body = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
    let first = signed_file(&key_file, body);
    let pdf = t.path().join("report.pdf");
    std::fs::write(&pdf, &first).unwrap();
    let keys = t.path().join("keys.json");
    let k = keys.display().to_string();
    let p = pdf.display().to_string();
    let o = output(&[&["signing", "export-keys", "--to", k.as_str()][..], &base[..]].concat());
    assert!(o.status.success(), "{}", text(&o));

    // Offline, from the export only (no database named).
    let o = output(&["report", "verify", p.as_str(), "--keys", k.as_str()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("验证通过") && text(&o).contains("山西省检验检测中心"), "{}", text(&o));

    // One changed byte.
    let mut bad = first.clone();
    bad[10] ^= 0x01;
    let tampered = t.path().join("tampered.pdf");
    std::fs::write(&tampered, &bad).unwrap();
    let tp = tampered.display().to_string();
    let o = output(&["report", "verify", tp.as_str(), "--keys", k.as_str()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("验证失败") && text(&o).contains("已被改动"), "{}", text(&o));

    // Rotation: the old file still verifies from the database; a file of the new key is unknown to
    // the old export.
    let o = output(&[&["signing", "rotate", "--org", "lab"][..], &base[..]].concat());
    assert!(o.status.success(), "{}", text(&o));
    let o = output(&[&["report", "verify", p.as_str()][..], &base[..]].concat());
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("停用"), "{}", text(&o));
    let second = t.path().join("second.pdf");
    std::fs::write(&second, signed_file(&key_file, body)).unwrap();
    let sp = second.display().to_string();
    let o = output(&["report", "verify", sp.as_str(), "--keys", k.as_str()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("不在已知密钥中"), "{}", text(&o));
    let o = output(&[&["report", "verify", sp.as_str()][..], &base[..]].concat());
    assert!(o.status.success(), "{}", text(&o));
}
