//! Results imported from a sheet (XLSX or CSV): the institution's sheet keyed by blind code, or one
//! sample's instrument sheet, through the same checks as results typed on the sample page.

use std::collections::HashMap;

use choucha_domain::RuleViolation;
use choucha_domain::access::Action;
use choucha_domain::lab::SampleState;
use choucha_domain::workflow::Transition;
use choucha_store::audit::AuditEntry;
use choucha_store::lab::SampleRow;
use serde::Serialize;
use serde_json::json;

use super::testing::{Checked, ResultInput, check_result, check_testable, check_tester, write_results};
use super::{by_code, ctx_of};
use crate::access::Ask;
use crate::{Actor, Result, ServiceError, Services};

/// What an import did: rows written, or every problem with its row (nothing written then).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportOutcome {
    pub written: usize,
    pub samples: Vec<String>,
    pub errors: Vec<ImportError>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportError {
    pub row: u32,
    pub message: String,
}

fn parse_pass(s: &str) -> Option<bool> {
    match s.trim() {
        "符合" | "合格" | "是" | "通过" | "pass" | "PASS" | "Y" | "y" => Some(true),
        "不符合" | "不合格" | "否" | "不通过" | "fail" | "FAIL" | "N" | "n" => Some(false),
        _ => None,
    }
}

/// Import results from a sheet keyed by blind code: columns 盲样编号, 检验项目, 检验结果, and optionally
/// 检验方法, 仪器设备, 检验日期. Every row is checked first; if any is wrong nothing is written.
pub async fn import_results(s: &Services, actor: &Actor, file_name: &str, bytes: Vec<u8>) -> Result<ImportOutcome> {
    import_sheet(s, actor, file_name, bytes, None).await
}

/// Import one sample's results from the instrument's sheet, through the same checks: the 盲样编号
/// column may be left out; where it is present, every row must name this sample.
pub async fn import_sample_results(
    s: &Services,
    actor: &Actor,
    code: &str,
    file_name: &str,
    bytes: Vec<u8>,
) -> Result<ImportOutcome> {
    // The sample must be the caller's to test before the file is even read.
    let (sample, st) = by_code(s, actor, code).await?;
    check_tester(s, actor, &sample, st).await?;
    import_sheet(s, actor, file_name, bytes, Some(&code.trim().to_uppercase())).await
}

async fn import_sheet(
    s: &Services,
    actor: &Actor,
    file_name: &str,
    bytes: Vec<u8>,
    only: Option<&str>,
) -> Result<ImportOutcome> {
    use choucha_documents::{TableFormat, read_table};
    actor.require_or(Action::ImportResults, "只有检验人员可以导入检验结果")?;
    let format = TableFormat::from_file_name(file_name).ok_or_else(|| {
        ServiceError::invalid(RuleViolation::new("bad_file", "请上传 .xlsx 或 .csv 文件").on_field("file"))
    })?;
    let table = tokio::task::spawn_blocking(move || read_table(&bytes, format))
        .await
        .map_err(ServiceError::internal)?
        .map_err(|e| ServiceError::unreadable_table("bad_file", "无法读取表格：", e))?;
    let col = |names: &[&str]| names.iter().find_map(|n| table.column(n));
    let c_code = col(&["盲样编号", "样品编号"]);
    let (Some(c_item), Some(c_result), true) =
        (col(&["检验项目"]), col(&["检验结果", "结果"]), c_code.is_some() || only.is_some())
    else {
        let need = if only.is_some() {
            "“检验项目”“检验结果”两列"
        } else {
            "“盲样编号”“检验项目”“检验结果”三列"
        };
        return Err(ServiceError::invalid(
            RuleViolation::new("bad_header", format!("表头须包含{need}")).on_field("file"),
        ));
    };
    let c_method = col(&["检验方法"]);
    let c_instrument = col(&["仪器设备", "仪器"]);
    let c_date = col(&["检验日期"]);
    let mut errors = Vec::new();
    let mut by_sample: Vec<(SampleRow, Transition<SampleState>, Vec<Checked>)> = Vec::new();
    let mut cache: HashMap<String, std::result::Result<(usize, crate::implementation_rules::RulesBody), String>> =
        HashMap::new();
    for (row, cells) in table.numbered_rows() {
        let get = |c: Option<usize>| c.and_then(|c| cells.get(c)).map(|v| v.trim().to_string()).unwrap_or_default();
        let code = match (c_code, only) {
            (Some(c), _) => get(Some(c)).to_uppercase(),
            (None, Some(o)) => o.to_string(),
            (None, None) => String::new(),
        };
        if let Some(o) = only
            && code != o
        {
            errors.push(ImportError { row, message: format!("盲样编号“{code}”不是本样品（{o}）") });
            continue;
        }
        if !cache.contains_key(&code) {
            let loaded = match by_code(s, actor, &code).await {
                Ok((sample, st)) => {
                    match check_tester(s, actor, &sample, st).await.and_then(|_| check_testable(&sample)) {
                        Ok(next) => match ctx_of(s, &sample).await {
                            Ok(c) => {
                                by_sample.push((sample, next, Vec::new()));
                                Ok((by_sample.len() - 1, c.body))
                            }
                            Err(e) => Err(crate::error::ServiceError::to_string(&e)),
                        },
                        Err(e) => Err(format!("样品{code}：{e}")),
                    }
                }
                Err(_) => Err(format!("没有盲样编号为“{code}”的样品")),
            };
            cache.insert(code.clone(), loaded);
        }
        let (slot, body) = match cache.get(&code) {
            Some(Ok((slot, body))) => (*slot, body),
            Some(Err(m)) => {
                errors.push(ImportError { row, message: m.clone() });
                continue;
            }
            None => continue,
        };
        let item_name = get(Some(c_item));
        let raw = get(Some(c_result));
        let Some(item) = body.test_items.iter().find(|t| t.name.trim() == item_name) else {
            errors.push(ImportError { row, message: format!("实施细则中没有检验项目“{item_name}”") });
            continue;
        };
        let mut input = ResultInput {
            item_name: Some(item_name.clone()),
            method: get(c_method),
            instrument: get(c_instrument),
            ..Default::default()
        };
        match super::result_kind(&item.limit) {
            "number" => match raw.trim_end_matches(item.unit.as_str()).trim().parse::<f64>() {
                Ok(v) => input.value = Some(v),
                Err(_) => {
                    errors.push(ImportError {
                        row, message: format!("“{item_name}”的结果“{raw}”不是数值")
                    });
                    continue;
                }
            },
            "text" => input.text = Some(raw.clone()),
            _ => match parse_pass(&raw) {
                Some(p) => input.pass = Some(p),
                None => {
                    errors.push(ImportError {
                        row, message: format!("“{item_name}”的结果应为“符合”或“不符合”")
                    });
                    continue;
                }
            },
        }
        let date = get(c_date);
        if !date.is_empty() {
            match choucha_domain::enterprise::parse_date(&date) {
                Some(d) => input.tested_on = Some(d),
                None => {
                    errors.push(ImportError { row, message: format!("检验日期“{date}”无法识别") });
                    continue;
                }
            }
        }
        match check_result(body, &input, s.today()) {
            Ok(c) => {
                if let Some(entry) = by_sample.get_mut(slot) {
                    entry.2.push(c);
                }
            }
            Err(e) => errors.push(ImportError { row, message: e.message }),
        }
    }
    if table.is_empty() {
        errors.push(ImportError { row: table.header_row(), message: "表格中没有数据行".into() });
    }
    if !errors.is_empty() {
        return Ok(ImportOutcome { written: 0, samples: Vec::new(), errors });
    }
    let tx = s.write(actor).await?;
    let mut written = 0;
    let mut samples = Vec::new();
    for (sample, next, results) in &by_sample {
        write_results(s, &tx, actor, sample, *next, results).await?;
        written += results.len();
        samples.push(sample.blind_code.clone().unwrap_or_default());
    }
    tx.commit(AuditEntry::new(
        "lab.import",
        "lab_results",
        0,
        json!(null),
        json!({"file": file_name, "rows": written, "samples": samples}),
    ))
    .await?;
    Ok(ImportOutcome { written, samples, errors })
}
