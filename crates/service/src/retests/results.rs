//! The re-test's results, entered by a blind tester for the objected items only.

use choucha_domain::RuleViolation;
use choucha_domain::implementation_rules::ItemJudgement;
use choucha_domain::lab::{self as lab_rules, LabDuty};
use choucha_domain::retest::RetestAction;
use choucha_domain::workflow;
use choucha_store::audit::AuditEntry;
use choucha_store::lab as store_lab;
use choucha_store::retests::{self as store, RetestChange};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::Ask;
use crate::lab::{ResultInput, display_of};
use crate::{Actor, Result, ServiceError, Services};
use choucha_domain::access::Action;

use super::{RetestLine, RetestView, conflict, first_content, get, judgement_label, load};

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RetestResultsInput {
    /// One result per objected item (by name or rules index).
    pub results: Vec<ResultInput>,
}

/// A tester of the re-test institution enters the objected items' results (only those), by the
/// re-test's blind code; the sample's samplers may not (rule 1).
pub async fn enter_results(s: &Services, actor: &Actor, id: i64, input: RetestResultsInput) -> Result<RetestView> {
    let (r, rel) = load(s, actor, id).await?;
    rel.require_or(Action::RetestResults, "复检结果由复检机构的检验人员录入")?;
    let next = workflow::step(r.state, RetestAction::EnterResults)?;
    let sample = store_lab::get_sample(s.store.reader(), r.sample_id).await?;
    lab_rules::check_not_sampler(actor.user_id, &crate::lab::samplers_of(s, &sample).await?, LabDuty::Test)?;
    let c = crate::lab::ctx_of(s, &sample).await?;
    let (first, _) = first_content(s, &r).await?;
    let objected: Vec<&str> = r.items.lines().collect();
    let mut errs = Vec::new();
    let mut lines: Vec<RetestLine> = Vec::new();
    for input in &input.results {
        match crate::lab::check_result(&c.body, input, s.today()) {
            Ok(ch) if !objected.contains(&ch.name.as_str()) => errs.push(
                RuleViolation::new(
                    "rule18_items_only",
                    format!("复检只检验有异议的项目，“{}”不在申请之列（规则18）", ch.name),
                )
                .on_field("results"),
            ),
            Ok(ch) if lines.iter().any(|l| l.name == ch.name) => {
                errs.push(RuleViolation::new("duplicate_item", format!("“{}”重复填写", ch.name)).on_field("results"))
            }
            Ok(ch) => {
                let f = first.items.iter().find(|i| i.name == ch.name);
                lines.push(RetestLine {
                    index: ch.index,
                    result: display_of(&ch.measured, &ch.unit),
                    name: ch.name,
                    unit: ch.unit,
                    requirement: ch.requirement,
                    judgement: match ch.judgement {
                        ItemJudgement::Conforming => "conforming".into(),
                        ItemJudgement::NonConforming => "non_conforming".into(),
                    },
                    judgement_label: judgement_label(ch.judgement).into(),
                    method: ch.method,
                    instrument: ch.instrument,
                    tested_on: ch.tested_on,
                    first_judgement: f.map(|i| i.judgement.clone()).unwrap_or_default(),
                    first_result: f.map(|i| i.result.clone()).unwrap_or_default(),
                });
            }
            Err(v) => errs.push(v.on_field("results")),
        }
    }
    for name in &objected {
        if !lines.iter().any(|l| l.name == *name) && !errs.iter().any(|e| e.message.contains(name)) {
            errs.push(
                RuleViolation::new("required", format!("请填写有异议项目“{name}”的复检结果")).on_field("results"),
            );
        }
    }
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    lines.sort_by_key(|l| l.index);
    let tx = s.write(actor).await?;
    store::update_retest(
        &tx,
        r.id,
        next,
        RetestChange::Results {
            tester: actor.user_id,
            results_json: serde_json::to_string(&lines).map_err(ServiceError::internal)?,
        },
    )
    .await
    .map_err(conflict)?;
    tx.commit(AuditEntry::new(
            "retest.results",
            "retest",
            r.id,
            json!({"state": r.state}),
            json!({"state": next.to().as_str(),
                   "results": lines.iter().map(|l| json!({"item": l.name, "result": l.result, "judgement": l.judgement_label})).collect::<Vec<_>>()}),
        )).await?;
    get(s, actor, id).await
}
