//! The link between a blind code and its sampled task, the portions' custody, and the receipt's
//! photos.

use choucha_domain::lab::{LicenceState, SampleState, SealState};

use choucha_store::custody::{self};
use choucha_store::lab::{self as store, SampleRow};
use choucha_store::{Page, draws as store_draws, enterprises, plans as store_plans};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{signed_record, standing};
use crate::access::Ask;
use crate::{Actor, Result, ServiceError, Services, page_limit};
use choucha_domain::access::{Action, Relations};

use super::{ReceiptPhoto, custodian_org};

/// The link between a blind code and its sampled task (custodian, organising bureau, admin).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LinkView {
    pub sample_id: i64,
    pub task_id: i64,
    pub blind_code: Option<String>,
    pub state: SampleState,
    pub state_label: String,
    pub product: String,
    pub enterprise_name: String,
    pub enterprise_uscc: String,
    pub producer_name: String,
    pub place: String,
    pub samplers: Vec<String>,
    pub received_at: DateTime<Utc>,
    pub delivered_by: String,
    pub carrier: String,
    pub tracking_no: String,
    pub backup_location: String,
    pub mismatches: Vec<String>,
    pub reject_reason: String,
    pub licence_state: LicenceState,
    pub custody: Vec<CustodyView>,
    /// The receipt photos (appearance, state, seals).
    pub photos: Vec<ReceiptPhoto>,
    /// What the caller may do with the sample.
    #[schema(value_type = Vec<String>)]
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = LabCustodyEntry)]
pub struct CustodyView {
    pub portion: String,
    pub portion_label: String,
    pub kind: String,
    pub kind_label: String,
    pub seal_state: SealState,
    pub location: String,
    pub note: String,
    pub actor_name: String,
    pub happened_at: DateTime<Utc>,
}

async fn require_link(s: &Services, actor: &Actor, sample: &SampleRow) -> Result<Relations> {
    let rel = standing(s, actor, sample).await?;
    rel.visible(Action::ViewLink, "样品")?;
    Ok(rel)
}

pub async fn link(s: &Services, actor: &Actor, sample_id: i64) -> Result<LinkView> {
    let db = s.store.reader();
    let sample = store::get_sample(db, sample_id).await.map_err(ServiceError::not_found("样品"))?;
    let rel = require_link(s, actor, &sample).await?;
    let task = store_draws::get_task(db, sample.task_id).await?;
    let item = store_plans::get_item(db, sample.item_id).await?;
    let ent = enterprises::get(db, task.enterprise_id).await?;
    let rec = signed_record(s, sample.task_id).await?.map(|(f, _)| f).unwrap_or_default();
    let mut samplers = Vec::new();
    for u in store_draws::team_of(db, sample.task_id).await? {
        samplers.push(super::user_name(s, u).await);
    }
    let receipt: serde_json::Value = serde_json::from_str(&sample.receipt_json).unwrap_or_default();
    let mismatches = serde_json::from_value(receipt["mismatches"].clone()).unwrap_or_default();
    let photos = serde_json::from_value(receipt["photos"].clone()).unwrap_or_default();
    let custody = custody::of_task(db, sample.task_id)
        .await?
        .into_iter()
        .map(|e| CustodyView {
            portion_label: crate::custody::portion_label(&e.portion).into(),
            portion: e.portion,
            kind_label: crate::custody::custody_kind_label(&e.kind).into(),
            kind: e.kind,
            seal_state: e.seal_state,
            location: e.location,
            note: e.note,
            actor_name: e.actor_name,
            happened_at: e.happened_at,
        })
        .collect();
    Ok(LinkView {
        sample_id: sample.id,
        task_id: sample.task_id,
        blind_code: sample.blind_code.clone(),
        state_label: sample.state.label().into(),
        state: sample.state,
        product: item.product,
        enterprise_name: ent.name,
        enterprise_uscc: ent.uscc,
        producer_name: rec.producer_name,
        place: rec.place,
        samplers,
        received_at: sample.received_at,
        delivered_by: sample.delivered_by.clone(),
        carrier: sample.carrier.clone(),
        tracking_no: sample.tracking_no.clone(),
        backup_location: sample.backup_location.clone(),
        mismatches,
        reject_reason: sample.reject_reason.clone(),
        licence_state: sample.licence_state,
        custody,
        photos,
        actions: rel.actions(super::SAMPLE_ACTIONS),
    })
}

/// A receipt photo's file, for those who see the sample's link (custodian, bureau).
pub async fn receipt_photo(
    s: &Services,
    actor: &Actor,
    sample_id: i64,
    sha256: &str,
) -> Result<(ReceiptPhoto, Vec<u8>)> {
    let l = link(s, actor, sample_id).await?;
    let p = l.photos.into_iter().find(|p| p.sha256 == sha256).ok_or(ServiceError::NotFound("照片"))?;
    let bytes = crate::evidence::read_stored(s, &p.sha256).await?;
    Ok((p, bytes))
}

/// The institution's received samples with their links (custodian), newest first.
pub async fn received(
    s: &Services,
    actor: &Actor,
    state: Option<SampleState>,
    before: Option<i64>,
    limit: Option<u64>,
) -> Result<Page<LinkView>> {
    let org = custodian_org(actor)?;
    let f =
        store::SampleFilter { testing_org_id: Some(org), states: state.into_iter().collect(), ..Default::default() };
    let p = store::list_samples(s.store.reader(), &f, before, page_limit(limit)?).await?;
    let mut items = Vec::with_capacity(p.items.len());
    for r in &p.items {
        items.push(link(s, actor, r.id).await?);
    }
    Ok(Page { items, next: p.next })
}
