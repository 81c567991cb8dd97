//! Published announcements as the public reads them, and their printed form.

use choucha_store::announcements::{self as store};
use choucha_store::{Page, organisations};
use chrono::{DateTime, NaiveDate, Utc};

use crate::{Result, ServiceError, Services, page_limit};

use super::{PublicAnnouncement, PublicSummary, Snapshot, label};

/// A published (or since corrected or withdrawn) announcement, for anyone; drafts are not found.
pub async fn get_public(s: &Services, id: i64) -> Result<PublicAnnouncement> {
    let db = s.store.reader();
    let row = store::get(db, id).await.map_err(ServiceError::not_found("公告"))?;
    if !row.state.is_public() {
        return Err(ServiceError::NotFound("公告"));
    }
    let snapshot: Snapshot = serde_json::from_str(&row.snapshot_json).map_err(ServiceError::internal)?;
    let corrects_title = match row.corrects_id {
        Some(e) => store::get(db, e).await.map(|r| r.title).unwrap_or_default(),
        None => String::new(),
    };
    Ok(PublicAnnouncement {
        id: row.id,
        state_label: label(&row.state),
        state: row.state,
        snapshot,
        snapshot_sha256: row.snapshot_sha256,
        published_at: row.published_at,
        corrects_id: row.corrects_id,
        corrects_title,
        correction_reason: row.correction_reason,
        corrected_by_id: row.corrected_by_id,
        withdrawn_at: row.withdrawn_at,
        withdrawal_reason: row.withdrawal_reason,
    })
}

/// Public announcements, newest first.
pub async fn list_public(s: &Services, cursor: Option<i64>, limit: Option<u64>) -> Result<Page<PublicSummary>> {
    let db = s.store.reader();
    let page = store::list_public(db, cursor, page_limit(limit)?).await?;
    let org_ids: Vec<i64> = page.items.iter().map(|r| r.organising_org_id).collect();
    let orgs = organisations::get_many(db, &org_ids).await?;
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(|r| PublicSummary {
                id: r.id,
                organising_bureau: orgs
                    .iter()
                    .find(|o| o.id == r.organising_org_id)
                    .map(|o| o.name.clone())
                    .unwrap_or_default(),
                title: r.title,
                state_label: label(&r.state),
                state: r.state,
                published_at: r.published_at,
            })
            .collect(),
        next: page.next,
    })
}

fn china_date(t: DateTime<Utc>) -> NaiveDate {
    choucha_domain::sampling::utc_to_local(t).date()
}

/// The public announcement as PDF: while it stands, the SM2-signed file as published; once
/// withdrawn or corrected, the frozen snapshot printed with its withdrawal or correction note.
pub async fn public_pdf(s: &Services, id: i64) -> Result<Vec<u8>> {
    let a = get_public(s, id).await?;
    if a.state == choucha_domain::announcement::AnnouncementState::Published {
        let path = store::get(s.store.reader(), id).await?.signed_pdf_path;
        if !path.is_empty() {
            return s.files().get(&path).await;
        }
    }
    render(s, document_of(&a)).await
}

/// Renders an announcement document.
pub(super) async fn render(s: &Services, doc: choucha_documents::AnnouncementDocument) -> Result<Vec<u8>> {
    let renderer = s.renderer().await?;
    tokio::task::spawn_blocking(move || choucha_documents::announcement_pdf(&renderer, &doc))
        .await
        .map_err(ServiceError::internal)?
        .map_err(|e| ServiceError::internal(format!("announcement PDF: {e}")))
}

pub(super) fn document_of(a: &PublicAnnouncement) -> choucha_documents::AnnouncementDocument {
    use choucha_documents as d;
    let sn = &a.snapshot;
    d::AnnouncementDocument {
        title: sn.title.clone(),
        doc_number: sn.doc_number.clone(),
        organising_bureau: sn.organising_bureau.clone(),
        date: sn.published_on,
        preface: sn.preface.clone(),
        rows: sn
            .rows
            .iter()
            .map(|r| d::AnnouncementRow {
                product: r.product.clone(),
                enterprise: r.enterprise.clone(),
                producer: r.producer.clone(),
                brand: r.brand.clone(),
                model: r.model.clone(),
                batch: r.batch.clone(),
                failing_items: r.failing_items.clone(),
                institution: r.institution.clone(),
                qualified: r.qualified,
            })
            .collect(),
        refusals: sn
            .refusals
            .iter()
            .map(|r| d::AnnouncementRefusal {
                product: r.product.clone(),
                enterprise: r.enterprise.clone(),
                enterprise_address: r.enterprise_address.clone(),
                determined_on: r.determined_on.clone(),
            })
            .collect(),
        totals: d::AnnouncementTotals {
            sampled: sn.sampled,
            qualified: sn.qualified,
            unqualified: sn.unqualified,
            refusals: sn.refusals.len() as i64,
        },
        correction: a.corrects_id.map(|_| d::AnnouncementCorrection {
            reason: a.correction_reason.clone(),
            earlier_title: a.corrects_title.clone(),
        }),
        withdrawn: a.withdrawn_at.map(|t| d::AnnouncementWithdrawal {
            at: china_date(t).format("%Y年%-m月%-d日").to_string(),
            reason: a.withdrawal_reason.clone(),
        }),
        verification: None,
    }
}
