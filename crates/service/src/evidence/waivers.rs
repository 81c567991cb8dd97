//! Rule 7 before signing: the evidence categories the item's implementation rules require must each
//! have a photo or video, or a reason recorded by the team why there can be none (an enterprise that
//! forbids filming its stock, a sample without a label), before anyone signs the sampling record.
//! The organising bureau sees the reasons beside the evidence.

use choucha_domain::RuleViolation;
use choucha_domain::sampling::{EvidenceCategory, evidence_incomplete, missing_evidence};
use choucha_store::audit::AuditEntry;
use choucha_store::evidence as store_evidence;
use choucha_store::implementation_rules as store_rules;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{EvidenceList, check_uploader, list, load_task};
use crate::implementation_rules::RulesBody;
use crate::{Actor, Result, ServiceError, Services};

/// Why a required category has no photo or video.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct WaiverInput {
    /// site | storage | labels | stock | process | seals | documents (or the Chinese label)
    pub category: String,
    /// Why it could not be photographed or filmed (4 to 500 characters).
    pub reason: String,
}

/// The categories rule 7 requires of an item's samplings: those its published implementation rules
/// name, else the notices' six.
pub(crate) async fn required_of(s: &Services, item_id: i64) -> Result<Vec<EvidenceCategory>> {
    let Some(rules) = store_rules::published_of(s.store.reader(), item_id).await? else {
        return Ok(EvidenceCategory::REQUIRED_BY_NOTICE.to_vec());
    };
    let body: RulesBody = serde_json::from_str(&rules.body_json).map_err(ServiceError::internal)?;
    Ok(body.required_evidence())
}

/// Refuses (rule 7) while a required category has neither an item nor a reason.
pub(crate) async fn check_complete(s: &Services, task_id: i64, item_id: i64) -> Result<()> {
    let db = s.store.reader();
    let required = required_of(s, item_id).await?;
    let present = categories(store_evidence::of_task(db, task_id).await?.iter().map(|e| e.category.as_str()));
    let explained = categories(store_evidence::waivers_of(db, task_id).await?.iter().map(|w| w.category.as_str()));
    let missing = missing_evidence(&required, &present, &explained);
    if missing.is_empty() { Ok(()) } else { Err(ServiceError::Rule(evidence_incomplete(&missing))) }
}

fn categories<'a>(names: impl Iterator<Item = &'a str>) -> Vec<EvidenceCategory> {
    names.filter_map(|n| n.parse().ok()).collect()
}

/// The team records why a required category cannot be photographed; refused for a category that is
/// not required, that already has an item, or that already has a reason.
#[tracing::instrument(skip_all, fields(task_id))]
pub async fn explain_missing(s: &Services, actor: &Actor, task_id: i64, input: WaiverInput) -> Result<EvidenceList> {
    let task = load_task(s, task_id).await?;
    check_uploader(s, actor, &task).await?;
    let category: EvidenceCategory = input.category.parse()?;
    let reason = input.reason.trim();
    let len = reason.chars().count();
    if !(4..=500).contains(&len) {
        return Err(ServiceError::invalid(
            RuleViolation::new("required", "请写明无法拍摄的原因（4至500字）").on_field("reason"),
        ));
    }
    let required = required_of(s, task.item_id).await?;
    if !required.contains(&category) {
        return Err(ServiceError::Rule(RuleViolation::new(
            "not_required",
            format!("实施细则未要求“{}”类证据，无需说明", category.label()),
        )));
    }
    let db = s.store.reader();
    if store_evidence::of_task(db, task_id).await?.iter().any(|e| e.category == category.as_str()) {
        return Err(ServiceError::Rule(RuleViolation::new(
            "already_present",
            format!("“{}”已有照片或视频，无需说明", category.label()),
        )));
    }
    let tx = s.write(actor).await?;
    let row = store_evidence::insert_waiver(&tx, task_id, category.as_str(), reason, actor.user_id).await.map_err(
        |e| match e {
            choucha_store::StoreError::Duplicate(_) => {
                ServiceError::Rule(RuleViolation::new("already_explained", format!("“{}”已注明原因", category.label())))
            }
            other => other.into(),
        },
    )?;
    tx.commit(AuditEntry::new(
        "evidence.explain",
        "sampling_task",
        task_id,
        json!(null),
        json!({"category": row.category, "reason": row.reason}),
    ))
    .await?;
    list(s, actor, task_id).await
}
