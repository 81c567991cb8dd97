//! What the registry tests share: import files in the import layout, multipart bodies, the
//! registry's size.

use choucha_service::fixtures::test_uscc;
use choucha_store::enterprises::{self as store_ent, EnterpriseFilter};
use reqwest::StatusCode;
use serde_json::Value;

use super::{Api, TestServer};

pub const HEADER: &str = "企业名称,统一社会信用代码,行政区划代码,地址,企业类型,企业规模,生产/经营产品,生产许可证编号,许可证有效期至,CCC证书编号,经营状态";
pub const TRADE_NAMES: [&str; 6] = ["华兴", "晋北", "云冈", "御河", "恒泰", "塞上"];

pub fn good_row(division: &str, n: u32) -> String {
    let trade = TRADE_NAMES[n as usize % TRADE_NAMES.len()];
    format!(
        "大同市{trade}商贸有限公司{n:04},{},{division},山西省大同市某街{n}号,销售者,小型,电冰箱；空调,,,,在营",
        test_uscc(division, n)
    )
}

pub fn csv(rows: &[String]) -> Vec<u8> {
    let mut text = String::from(HEADER);
    for r in rows {
        text.push('\n');
        text.push_str(r);
    }
    text.push('\n');
    text.into_bytes()
}

pub const BOUNDARY: &str = "----choucha-test-boundary-7MA4YWxkTrZu0gW";

/// A multipart/form-data body with one file and some text fields.
pub fn multipart(file_name: &str, bytes: &[u8], fields: &[(&str, &str)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

pub async fn api_import(api: &Api, file_name: &str, bytes: &[u8], fields: &[(&str, &str)]) -> (StatusCode, Value) {
    let r = api
        .client
        .post(format!("{}/api/v1/enterprises/import", api.base))
        .bearer_auth(&api.token)
        .header("content-type", multipart_type())
        .body(multipart(file_name, bytes, fields))
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

pub async fn registry_count(srv: &TestServer) -> u64 {
    store_ent::count_up_to(srv.fx.services.store().reader(), &EnterpriseFilter::default(), 1_000_000).await.unwrap()
}

pub fn with_wrong_check_char(uscc: &str) -> String {
    let last = uscc.chars().last().unwrap();
    format!("{}{}", &uscc[..17], if last == '0' { '1' } else { '0' })
}

pub fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}
