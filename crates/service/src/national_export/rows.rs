//! One row per sample: the signed sampling record and the issued report, field by field as the
//! format names them (the same data the printed 抽样单 and 检验报告 carry).

use choucha_domain::clock;
use choucha_domain::national_export::{ResultItem, ResultRow, RowKeys, SamplingRow, joined};
use choucha_domain::sampling::{self as rules, PriceBasis, RecordFields, RecordState};
use choucha_store::lab as store_lab;
use choucha_store::plans::{ItemRow, PlanRow};
use choucha_store::{draws as store_draws, enterprises, organisations, sampling as store_sampling, users};
use chrono::{DateTime, NaiveDateTime, Utc};

use crate::{Result, ServiceError, Services};

/// A moment as RFC 3339 in Beijing time (`2025-10-10T10:30:00+08:00`).
pub(super) fn beijing_rfc3339(t: DateTime<Utc>) -> String {
    t.with_timezone(&clock::beijing_offset()).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

fn local_rfc3339(t: NaiveDateTime) -> String {
    beijing_rfc3339(clock::from_beijing(t))
}

fn domain_label(domain: &str) -> &'static str {
    match domain {
        "production" => "生产",
        "e_commerce" => "电子商务",
        _ => "流通",
    }
}

/// The row of a task's signed record version `record_id`.
pub(super) async fn sampling_row(
    s: &Services,
    plan: &PlanRow,
    items: &[ItemRow],
    task_id: i64,
    record_id: i64,
) -> Result<SamplingRow> {
    let db = s.store.reader();
    let r = store_sampling::get_record(db, record_id).await?;
    let f: RecordFields = serde_json::from_str(&r.fields_json).map_err(ServiceError::internal)?;
    let task = store_draws::get_task(db, task_id).await?;
    let item = items.iter().find(|i| i.id == task.item_id);
    let ent = enterprises::get(db, task.enterprise_id).await?;
    let organiser = organisations::get(db, plan.organising_org_id).await?.name;
    let institution = match item.and_then(|i| i.sampling_org_id) {
        Some(o) => organisations::get(db, o).await?.name,
        None => String::new(),
    };
    let mut samplers = Vec::new();
    for u in store_draws::team_of(db, task_id).await? {
        samplers.push(users::get(db, u).await?.display_name);
    }
    let enterprise_signature = match store_sampling::signatures_of(db, record_id)
        .await?
        .iter()
        .find(|g| g.signer == "enterprise")
    {
        Some(g) if g.refused => {
            let witness =
                if g.witness_name.is_empty() { String::new() } else { format!("（见证人：{}）", g.witness_name) };
            format!("拒绝签字：{}{witness}", g.refusal_reason)
        }
        Some(g) => format!("{}（{}签字）", g.signer_name, clock::beijing_minutes(g.signed_at)),
        None => String::new(),
    };
    let corrections = if r.version > 1 {
        let changes: Vec<(String, String, String)> = serde_json::from_str(&r.diff_json).unwrap_or_default();
        changes
            .iter()
            .map(|(k, old, new)| format!("{}：{old} → {new}", rules::field_label(k)))
            .collect::<Vec<_>>()
            .join("；")
    } else {
        String::new()
    };
    Ok(SamplingRow {
        record_no: crate::sampling::record_no(plan.year, task_id, r.version),
        plan_title: plan.title.clone(),
        organising_bureau: organiser,
        check_kind: "监督抽查".into(),
        plan_product: item.map(|i| i.product.clone()).unwrap_or_default(),
        enterprise_name: ent.name,
        enterprise_uscc: ent.uscc,
        enterprise_address: ent.address,
        enterprise_licence_no: ent.licence_no.unwrap_or_default(),
        contact_name: f.contact_name.clone(),
        contact_phone: f.contact_phone.clone(),
        producer_name: f.producer_name.clone(),
        producer_address: f.producer_address.clone(),
        producer_uscc: f.producer_uscc.clone(),
        product_name: f.product_name.clone(),
        brand: f.brand.clone(),
        model: f.model.clone(),
        batch: f.batch.clone(),
        standard: f.standard.clone(),
        grade: f.grade.clone(),
        sampling_base: f.sampling_base,
        test_quantity: f.test_quantity,
        backup_quantity: f.backup_quantity,
        unit: f.unit.clone(),
        unit_price: f.unit_price,
        price_basis: match f.price_basis {
            PriceBasis::Marked => "标价",
            PriceBasis::Market => "无标价，按同类产品市场价",
        }
        .into(),
        total_paid: f.total_paid_fen() as f64 / 100.0,
        domain: domain_label(&f.domain).into(),
        place: f.place.clone(),
        sampled_at: rules::parse_local_time(&f.sampled_at).map(local_rfc3339).unwrap_or_else(|| f.sampled_at.clone()),
        test_seals: joined(&f.test_seals),
        backup_seals: joined(&f.backup_seals),
        backup_kept_at: crate::backup_requests::backup_kept_at(s, task_id).await?,
        sampling_institution: institution,
        samplers: joined(&samplers),
        enterprise_signature,
        locked_at: r.locked_at.map(beijing_rfc3339).unwrap_or_default(),
        corrections,
        remarks: f.remarks.clone(),
        keys: RowKeys { plan_id: plan.id, task_id, record_id: Some(record_id), report_id: None },
    })
}

/// The row of an issued report `report_id` of a task's sample.
pub(super) async fn result_row(s: &Services, plan: &PlanRow, task_id: i64, report_id: i64) -> Result<ResultRow> {
    let db = s.store.reader();
    let r = store_lab::get_report(db, report_id).await?;
    let sample = store_lab::get_sample(db, r.sample_id).await?;
    let task = store_draws::get_task(db, task_id).await?;
    let ent = enterprises::get(db, task.enterprise_id).await?;
    let record =
        store_sampling::records_of_task(db, task_id).await?.into_iter().find(|v| v.state == RecordState::Signed);
    let data = crate::lab::issued_report_data(s, report_id).await?;
    let report_no = data.report_no.clone();
    let blind_code = sample.blind_code.clone().unwrap_or_default();
    let items: Vec<ResultItem> = data
        .items
        .iter()
        .enumerate()
        .map(|(i, l)| ResultItem {
            report_no: report_no.clone(),
            blind_code: blind_code.clone(),
            index: u32::try_from(i + 1).unwrap_or(u32::MAX),
            name: l.name.clone(),
            unit: l.unit.clone(),
            requirement: l.requirement.clone(),
            result: l.result.clone(),
            judgement: l.judgement.clone(),
            method: l.method.clone(),
        })
        .collect();
    let failing: Vec<String> = items.iter().filter(|i| i.judgement == "不符合").map(|i| i.name.clone()).collect();
    let (from, to) = match data.tested_period.split_once(" 至 ") {
        Some((a, b)) => (a.to_string(), b.to_string()),
        None => (data.tested_period.clone(), data.tested_period.clone()),
    };
    Ok(ResultRow {
        record_no: record.map(|v| crate::sampling::record_no(plan.year, task_id, v.version)).unwrap_or_default(),
        blind_code,
        product: data.product,
        inspected_unit: data.inspected_unit,
        inspected_uscc: ent.uscc,
        producer: data.producer,
        brand: data.brand,
        model: data.model,
        batch: data.batch,
        sampled_on: data.sampled_on,
        sampling_unit: data.sampling_unit,
        sampling_base: data.sampling_base,
        report_no,
        institution: data.institution,
        qualification_no: data.qualification_no,
        test_kind: data.test_kind,
        task_source: data.task_source,
        received_on: data.received_on,
        tested_from: from,
        tested_to: to,
        test_portion: data.test_portion,
        standards: data.standards.join("；"),
        qualified: if data.qualified { "合格" } else { "不合格" }.into(),
        conclusion: data.conclusion,
        failing_items: failing.join("、"),
        item_count: u32::try_from(items.len()).unwrap_or(u32::MAX),
        items_text: ResultRow::items_as_text(&items),
        prepared_by: data.prepared_by.signer,
        reviewed_by: data.reviewed_by.signer,
        approved_by: data.approved_by.signer,
        // The day it was approved, not the day of this export (the PDF data is rebuilt today).
        issued_on: r.approved_at.map(|t| clock::beijing_date(t).to_string()).unwrap_or_default(),
        supersedes: data.supersedes.unwrap_or_default(),
        correction_reason: data.correction_reason,
        report_sha256: r.pdf_sha256,
        items,
        keys: RowKeys { plan_id: plan.id, task_id, record_id: None, report_id: Some(report_id) },
    })
}
