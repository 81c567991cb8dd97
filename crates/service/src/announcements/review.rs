//! A draft's edits, its approval by a second regulator, publication as a frozen snapshot, and
//! withdrawal.

use choucha_domain::RuleViolation;
use choucha_domain::announcement::{self as rules, AnnouncementAction as Action, AnnouncementState};
use choucha_domain::workflow;
use choucha_store::announcements::{self as store, AnnouncementRow, DraftChange, StateChange};
use choucha_store::audit::AuditEntry;
use choucha_store::{organisations, plans as store_plans};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{Actor, Result, ServiceError, Services};

use super::{
    AnnouncementView, Content, Exclusion, PublicResultLine, Snapshot, load, open_windows, require_regulator, to_json,
    view,
};

/// Changes to a draft.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct AnnouncementEdit {
    pub title: String,
    /// 文号, e.g. 大市监公告〔2025〕12号 (may stay empty until it is assigned).
    #[serde(default)]
    pub doc_number: String,
    pub preface: String,
    /// The rows left out, each with its reason; every other row is included.
    #[serde(default)]
    pub exclusions: Vec<Exclusion>,
}

pub async fn update(s: &Services, actor: &Actor, id: i64, edit: AnnouncementEdit) -> Result<AnnouncementView> {
    let row = load(s, actor, id).await?;
    require_regulator(actor, row.organising_org_id)?;
    rules::transition(row.state, Action::Edit).map_err(ServiceError::Rule)?;
    let mut content: Content = serde_json::from_str(&row.content_json).map_err(ServiceError::internal)?;
    let mut errs = Vec::new();
    if edit.title.trim().is_empty() {
        errs.push(RuleViolation::new("required", "请填写公告标题").on_field("title"));
    }
    if edit.title.chars().count() > 300 {
        errs.push(RuleViolation::new("too_long", "公告标题不能超过300字").on_field("title"));
    }
    if let Err(v) = rules::check_doc_number(&edit.doc_number) {
        errs.push(v);
    }
    let keys = content.keys();
    for e in &edit.exclusions {
        if !keys.contains(&e.key) {
            errs.push(RuleViolation::new("unknown_row", format!("公告中没有“{}”这一行", e.key)).on_field("exclusions"));
        } else if e.reason.trim().is_empty() {
            errs.push(RuleViolation::new("exclusion_reason", "不予公告的行须说明原因").on_field("exclusions"));
        }
    }
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    let before = json!({"title": row.title, "doc_number": row.doc_number, "preface": row.preface, "exclusions": content.exclusions()});
    content.apply(&edit.exclusions);
    let tx = s.write(actor).await?;
    let content_json = to_json(&content)?;
    let change = DraftChange {
        title: edit.title.trim(),
        doc_number: edit.doc_number.trim(),
        preface: edit.preface.trim(),
        content_json: &content_json,
    };
    store::update_draft(&tx, id, change, actor.user_id).await.map_err(conflict)?;
    tx.commit(AuditEntry::new(
        "announcement.update",
        "announcement",
        id,
        before,
        json!({"title": edit.title.trim(), "doc_number": edit.doc_number.trim(), "preface": edit.preface.trim(), "exclusions": content.exclusions()}),
    ))
    .await?;
    view(s, store::get(s.store.reader(), id).await?).await
}

fn conflict(e: choucha_store::StoreError) -> ServiceError {
    match e {
        choucha_store::StoreError::Conflict => ServiceError::Conflict,
        other => other.into(),
    }
}

/// A state change with its audit record, in one transaction.
async fn change(
    s: &Services,
    actor: &Actor,
    row: &AnnouncementRow,
    action: Action,
    c: StateChange,
    audit_action: &str,
    detail: serde_json::Value,
) -> Result<AnnouncementState> {
    let next = workflow::step(row.state, action).map_err(ServiceError::Rule)?;
    let tx = s.write(actor).await?;
    store::set_state(&tx, row.id, next, c).await.map_err(conflict)?;
    tx.commit(AuditEntry::new(audit_action, "announcement", row.id, json!({"state": row.state}), {
        let mut after = json!({"state": next.to()});
        if let (Some(a), Some(d)) = (after.as_object_mut(), detail.as_object()) {
            a.extend(d.clone());
        }
        after
    }))
    .await?;
    Ok(next.to())
}

/// A second regulator of the organising bureau approves the draft (never its drafter or last editor).
pub async fn approve(s: &Services, actor: &Actor, id: i64) -> Result<AnnouncementView> {
    let row = load(s, actor, id).await?;
    require_regulator(actor, row.organising_org_id)?;
    rules::check_approver(row.drafted_by, actor.user_id).map_err(ServiceError::Rule)?;
    rules::check_approver(row.updated_by, actor.user_id).map_err(ServiceError::Rule)?;
    let c = StateChange { approved_by: Some(Some(actor.user_id)), ..StateChange::default() };
    change(s, actor, &row, Action::Approve, c, "announcement.approve", json!({})).await?;
    view(s, store::get(s.store.reader(), id).await?).await
}

/// Sends an approved announcement back to draft (for changes before publication).
pub async fn return_to_draft(s: &Services, actor: &Actor, id: i64) -> Result<AnnouncementView> {
    let row = load(s, actor, id).await?;
    require_regulator(actor, row.organising_org_id)?;
    let c = StateChange { approved_by: Some(None), ..StateChange::default() };
    change(s, actor, &row, Action::Return, c, "announcement.return", json!({})).await?;
    view(s, store::get(s.store.reader(), id).await?).await
}

/// What publishing needs besides the approval.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct PublishInput {
    /// Why the announcement is published while an objection window of one of its results is still
    /// open (required then; recorded on the announcement and in the audit log).
    #[serde(default)]
    pub open_objection_reason: String,
}

/// Publishes an approved announcement: the included rows are frozen into the snapshot, hashed; a
/// correction marks the announcement it corrects as corrected, in the same transaction. While an
/// included result may still be objected to (rule 18), publishing is refused unless a reason is
/// given, which is recorded.
pub async fn publish(s: &Services, actor: &Actor, id: i64, input: PublishInput) -> Result<AnnouncementView> {
    let row = load(s, actor, id).await?;
    require_regulator(actor, row.organising_org_id)?;
    let next = workflow::step(row.state, Action::Publish).map_err(ServiceError::Rule)?;
    let content: Content = serde_json::from_str(&row.content_json).map_err(ServiceError::internal)?;
    let open = open_windows(s, &content).await?;
    let note = input.open_objection_reason.trim().to_string();
    if !open.is_empty() && note.is_empty() {
        let named: Vec<String> =
            open.iter().take(3).map(|w| format!("{}（{}，{}）", w.enterprise, w.product, w.why)).collect();
        let more = if open.len() > 3 { format!("等{}批次", open.len()) } else { String::new() };
        return Err(ServiceError::Rule(
            RuleViolation::new(
                "announcement_objection_open",
                format!(
                    "{}{more}的异议期尚未结束，结果可能因异议或复检而改变；如确需现在发布，请填写发布理由",
                    named.join("、")
                ),
            )
            .on_field("open_objection_reason"),
        ));
    }
    let note = if open.is_empty() { String::new() } else { note };
    let earlier = match row.corrects_id {
        Some(e) => Some(store::get(s.store.reader(), e).await?),
        None => None,
    };
    let superseded = match &earlier {
        Some(e) => Some(workflow::step(e.state, Action::Supersede).map_err(ServiceError::Rule)?),
        None => None,
    };
    let db = s.store.reader();
    let plan = store_plans::get_plan(db, row.plan_id).await?;
    let rows: Vec<PublicResultLine> = content.rows.into_iter().filter(|r| !r.excluded).map(|r| r.line.into()).collect();
    let snapshot = Snapshot {
        title: row.title.clone(),
        doc_number: row.doc_number.clone(),
        preface: row.preface.clone(),
        plan_title: plan.title,
        organising_bureau: organisations::get(db, row.organising_org_id).await?.name,
        published_on: s.today(),
        sampled: rows.len() as i64,
        qualified: rows.iter().filter(|r| r.qualified).count() as i64,
        unqualified: rows.iter().filter(|r| !r.qualified).count() as i64,
        rows,
        refusals: content.refusals.into_iter().filter(|r| !r.excluded).map(|r| r.line.into()).collect(),
    };
    let json_text = to_json(&snapshot)?;
    let sha = hex::encode(Sha256::digest(json_text.as_bytes()));
    // Issue 18: the announcement as published is printed, SM2-signed by the publishing bureau's key
    // and kept; the public reads that file while it stands.
    let published = super::PublicAnnouncement {
        id,
        state: next.to(),
        state_label: next.to().label().to_string(),
        snapshot: snapshot.clone(),
        snapshot_sha256: sha.clone(),
        published_at: Some(s.now()),
        corrects_id: row.corrects_id,
        corrects_title: earlier.as_ref().map(|e| e.title.clone()).unwrap_or_default(),
        correction_reason: row.correction_reason.clone(),
        corrected_by_id: None,
        withdrawn_at: None,
        withdrawal_reason: String::new(),
    };
    let key = crate::signing::issuing_key(s, row.organising_org_id)?;
    let token = crate::signing::new_token();
    let mut doc = super::public::document_of(&published);
    doc.verification = Some(choucha_documents::Verification { key_id: key.key_id(), url: s.verify_url(&token) });
    let signed = crate::signing::sign(&key, &super::public::render(s, doc).await?, token);
    let pdf_path = format!("announcements/{id}-{}.pdf", uuid::Uuid::new_v4().simple());
    s.files().put_bytes(&pdf_path, signed.bytes.clone()).await?;
    let tx = s.write(actor).await?;
    store::set_state(
        &tx,
        id,
        next,
        StateChange {
            published_by: Some(actor.user_id),
            snapshot: Some((json_text, sha.clone())),
            publish_note: Some(note.clone()),
            signed_pdf_path: Some(pdf_path),
            ..StateChange::default()
        },
    )
    .await
    .map_err(conflict)?;
    crate::signing::record(&tx, crate::signing::ANNOUNCEMENT, id, row.organising_org_id, &key, &signed).await?;
    tx.audit(AuditEntry::new(
            "announcement.publish",
            "announcement",
            id,
            json!({"state": row.state}),
            json!({"state": next.to(), "snapshot_sha256": sha, "pdf_sha256": signed.sha256, "pdf_sm3": signed.sm3, "signing_key": signed.key_id,
                "rows": snapshot.rows.len(), "refusals": snapshot.refusals.len(),
                "open_objection_windows": open.len(), "open_objection_reason": note}),
        ));
    if let (Some(e), Some(t)) = (&earlier, superseded) {
        store::set_state(&tx, e.id, t, StateChange { corrected_by_id: Some(id), ..StateChange::default() })
            .await
            .map_err(conflict)?;
        tx.audit(AuditEntry::new(
            "announcement.corrected",
            "announcement",
            e.id,
            json!({"state": e.state}),
            json!({"state": t.to(), "corrected_by_id": id, "reason": row.correction_reason}),
        ));
    }
    tx.commit_recorded().await?;
    view(s, store::get(s.store.reader(), id).await?).await
}

/// Withdraws a published announcement, with the reason (shown on the public page).
pub async fn withdraw(s: &Services, actor: &Actor, id: i64, reason: &str) -> Result<AnnouncementView> {
    let row = load(s, actor, id).await?;
    require_regulator(actor, row.organising_org_id)?;
    if reason.trim().is_empty() {
        return Err(ServiceError::invalid(RuleViolation::new("required", "请填写撤回原因").on_field("reason")));
    }
    let c = StateChange { withdrawn: Some((actor.user_id, reason.trim().to_string())), ..StateChange::default() };
    change(s, actor, &row, Action::Withdraw, c, "announcement.withdraw", json!({"reason": reason.trim()})).await?;
    view(s, store::get(s.store.reader(), id).await?).await
}
