//! The laboratory side of a dispatched sample: receipt (or rejection) with its blind code, results,
//! conclusion and reports prepared, reviewed or approved, following the age of the plan.

use choucha_domain::clock;
use choucha_domain::implementation_rules::{ItemJudgement, Limit, Measured};
use choucha_domain::lab::conclude;
use choucha_domain::sampling::RecordFields;
use choucha_service::lab::{ReportContent, ReportItem};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::Counts;
use super::generator::{Gen, blind_bits, midnight};
use super::plans::ItemPlan;
use super::reference::{PRODUCTS, SURNAMES};
use super::sink::V;
use super::tasks::TaskRows;

/// Codes of the testing institutions, in the order of `testing_orgs` (report numbers start with them).
pub(super) const TESTING_CODES: [&str; 3] = ["sxjc", "tj51", "tfb"];

pub(super) struct LabStaff<'a> {
    /// The testing institutions' ids.
    pub(super) orgs: [i64; 3],
    pub(super) testers: &'a [Vec<(i64, String)>],
    pub(super) approvers: &'a [Vec<(i64, String)>],
    pub(super) custodians: &'a [(i64, String)],
    pub(super) codes: [&'static str; 3],
}

pub(super) struct LabIds {
    pub(super) sample: i64,
    pub(super) result: i64,
    pub(super) report: i64,
    /// Blind codes handed out so far, and the offset of their permutation.
    pub(super) blind_n: u64,
    pub(super) blind_offset: u64,
    pub(super) sample_count: u64,
    pub(super) result_count: u64,
    pub(super) report_count: u64,
}

/// A signed, dispatched task on its way to the testing institution.
pub(super) struct LabTask<'a> {
    pub(super) id: i64,
    pub(super) ip: &'a ItemPlan,
    pub(super) fields: &'a RecordFields,
    pub(super) dispatched: DateTime<Utc>,
    /// Age of the plan in days.
    pub(super) age: i64,
}

/// The laboratory side of a dispatched sample: not yet received, rejected, or received with its blind
/// code and a state that follows the plan's age (results, conclusion, reports prepared, reviewed or
/// approved), with the received / stored (or rejected) custody events.
#[allow(clippy::too_many_arguments)]
pub(super) fn lab_side(
    g: &mut Gen,
    rows: &mut TaskRows,
    lab: &mut LabIds,
    staff: &LabStaff<'_>,
    t: &LabTask<'_>,
    now: DateTime<Utc>,
    custody_id: &mut i64,
    counts: &mut Counts,
) -> anyhow::Result<()> {
    let received_at = t.dispatched + Duration::hours(20 + g.below(72) as i64);
    let recent = t.age < 60;
    if received_at >= now || g.percent(if recent { 12 } else { 1 }) {
        return Ok(());
    }
    let roll = g.below(100);
    let state = if recent {
        match roll {
            0..=1 => "rejected",
            2 => "stopped",
            3..=24 => "accepted",
            25..=49 => "testing",
            50..=69 => "tested",
            _ => "reported",
        }
    } else {
        match roll {
            0..=1 => "rejected",
            2 => "stopped",
            3..=4 => "testing",
            5..=7 => "tested",
            _ => "reported",
        }
    };
    let k = t.ip.testing_org;
    let (custodian, custodian_name) = staff.custodians[k].clone();
    let (_, _, _, standard, _, _) = PRODUCTS[t.ip.product];
    let f = t.fields;
    let received_on = clock::beijing_date(received_at);
    let rejected = state == "rejected";
    let blind_code = (!rejected).then(|| {
        let year = received_on.format("%Y").to_string().parse::<i32>().unwrap_or(2025);
        lab.blind_n += 1;
        choucha_domain::lab::BlindCode::from_random(year, blind_bits(lab.blind_n, lab.blind_offset)).to_string()
    });
    let tester = match state {
        "rejected" => None,
        "accepted" if g.percent(50) => None,
        _ => Some(g.pick(&staff.testers[k]).0),
    };
    let ended = received_on + Duration::days(3 + g.below(8) as i64);
    let done = matches!(state, "tested" | "reported");
    let qualified = done.then(|| !g.percent(8));
    let conclusion = qualified.map(|q| {
        let j = if q { ItemJudgement::Conforming } else { ItemJudgement::NonConforming };
        conclude(&[("标志和说明".to_string(), j)], &[standard.to_string()]).text
    });
    let completed = done.then(|| midnight(ended) + Duration::hours(10 + g.below(20) as i64));
    let stopped = state == "stopped";
    let receipt = json!({
        "observed": {
            "test_seals": f.test_seals, "backup_seals": f.backup_seals,
            "test_quantity": f.test_quantity, "backup_quantity": f.backup_quantity,
            "seals_intact": !rejected, "labels_match": true, "appearance": "外观完好，封条完整",
        },
        "mismatches": if rejected { vec!["封条有破损"] } else { Vec::new() },
        "photos": [],
    });
    let updated = completed.unwrap_or(received_at).min(now);
    let sample_id = lab.sample;
    rows.labs.push(vec![
        sample_id.into(),
        t.id.into(),
        t.ip.plan_id.into(),
        t.ip.id.into(),
        staff.orgs[k].into(),
        V::Null,
        t.ip.rules_id.into(),
        blind_code.clone().into(),
        state.into(),
        received_at.into(),
        custodian.into(),
        format!("{}（抽样人员）", g.chars(SURNAMES, 1)).into(),
        "".into(),
        "".into(),
        receipt.to_string().into(),
        (if rejected { "封条有破损，样品与抽样单不符" } else { "" }).into(),
        (if rejected { String::new() } else { format!("备样库{}号柜", 1 + g.below(40)) }).into(),
        (if stopped { "production_licence" } else { "none" }).into(),
        (if stopped { "failed" } else { "not_required" }).into(),
        (if stopped { "标称生产者未取得生产许可证" } else { "" }).into(),
        tester.into(),
        (if done { Some(ended) } else { None }).into(),
        (if done || state == "testing" { Some(ended + Duration::days(5)) } else { None }).into(),
        completed.into(),
        false.into(),
        qualified.into(),
        conclusion.clone().unwrap_or_default().into(),
        "".into(),
        received_at.into(),
        updated.into(),
    ]);
    lab.sample += 1;
    lab.sample_count += 1;
    // Custody at the institution (the receipt writes these).
    let events: Vec<(&str, &str, String, String)> = if rejected {
        vec![("all", "rejected", String::new(), "封条有破损，样品与抽样单不符".into())]
    } else {
        vec![
            ("all", "received", String::new(), "送样人：抽样人员".into()),
            ("backup", "stored", "备样库".into(), String::new()),
        ]
    };
    for (portion, kind, location, note) in events {
        rows.custody.push(vec![
            (*custody_id).into(),
            t.id.into(),
            portion.into(),
            kind.into(),
            (if rejected { "broken" } else { "intact" }).into(),
            location.into(),
            "".into(),
            "".into(),
            "".into(),
            note.into(),
            custodian.into(),
            custodian_name.clone().into(),
            received_at.into(),
            received_at.into(),
        ]);
        *custody_id += 1;
        counts.custody_events += 1;
    }
    // One result (the rules have one test item) once testing started.
    let has_result = done || (state == "testing" && g.percent(50));
    if let (true, Some(tester)) = (has_result, tester) {
        let pass = qualified.unwrap_or(true);
        let display = if pass { "符合" } else { "不符合" };
        rows.results.push(vec![
            lab.result.into(),
            sample_id.into(),
            0i64.into(),
            "标志和说明".into(),
            "".into(),
            Limit::PassFail.display("").into(),
            serde_json::to_string(&Limit::PassFail)?.into(),
            serde_json::to_string(&Measured::Pass(pass))?.into(),
            display.into(),
            standard.into(),
            "".into(),
            (if pass { "conforming" } else { "non_conforming" }).into(),
            ended.into(),
            tester.into(),
            completed.unwrap_or(received_at).min(now).into(),
        ]);
        lab.result += 1;
        lab.result_count += 1;
    }
    // Reports: the issued one of a reported sample; a tested sample's prepared or reviewed one.
    let report_state = match state {
        "reported" => Some("approved"),
        "tested" => match g.below(10) {
            0..=3 => Some("prepared"),
            4..=6 => Some("reviewed"),
            _ => None,
        },
        _ => None,
    };
    if let (Some(rs), Some(tester), Some(done_at), Some(q)) = (report_state, tester, completed, qualified) {
        let approvers = &staff.approvers[k];
        let reviewer = approvers[g.below(approvers.len() as u64) as usize].0;
        let approver = approvers.iter().map(|a| a.0).find(|a| *a != reviewer).unwrap_or(reviewer);
        let prepared_at = (done_at + Duration::hours(20)).min(now);
        let reviewed_at = (prepared_at + Duration::hours(20)).min(now);
        let approved_at = (reviewed_at + Duration::hours(20)).min(now);
        let pass = if q { "符合" } else { "不符合" };
        let content = ReportContent {
            blind_code: blind_code.clone().unwrap_or_default(),
            product: PRODUCTS[t.ip.product].0.into(),
            standards: vec![standard.into()],
            rules_version: 1,
            test_portion: format!("{}{}", f.test_quantity, f.unit),
            received_on: received_on.to_string(),
            tested_from: ended.to_string(),
            tested_to: ended.to_string(),
            items: vec![ReportItem {
                name: "标志和说明".into(),
                unit: String::new(),
                requirement: Limit::PassFail.display(""),
                result: pass.into(),
                judgement: pass.into(),
                method: standard.into(),
            }],
            qualified: q,
            conclusion: conclusion.clone().unwrap_or_default(),
            judgement_principle: format!("{}全部检验项目符合{standard}要求的，判定为合格", PRODUCTS[t.ip.product].0),
        };
        let mut content = serde_json::to_value(&content)?;
        let approved = rs == "approved";
        let report_no = approved.then(|| {
            format!(
                "{}-{}-{:06}",
                staff.codes[k].to_uppercase(),
                clock::beijing_date(approved_at).format("%Y"),
                lab.report
            )
        });
        if let Some(no) = &report_no {
            content["report_no"] = json!(no);
        }
        let reviewed = rs != "prepared";
        rows.reports.push(vec![
            lab.report.into(),
            sample_id.into(),
            staff.orgs[k].into(),
            1i64.into(),
            rs.into(),
            report_no.into(),
            content.to_string().into(),
            tester.into(),
            prepared_at.into(),
            (if reviewed { Some(reviewer) } else { None }).into(),
            (if reviewed { Some(reviewed_at) } else { None }).into(),
            (if approved { Some(approver) } else { None }).into(),
            (if approved { Some(approved_at) } else { None }).into(),
            "".into(),
            "".into(),
            V::Null,
            "".into(),
        ]);
        lab.report += 1;
        lab.report_count += 1;
    }
    Ok(())
}
