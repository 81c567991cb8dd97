//! Custody signed by both hands (issue 18): every hand-over of a portion names the handing and the
//! receiving party; the party that writes it confirms its own side at once, the other party
//! confirms in the app (its own audited write), or — a courier or a disposal witness without an
//! account — signs on the writer's phone. Who may confirm is the permission table's
//! `ConfirmHandOver`, asked with the one relation the kind of hand-over calls for.

use choucha_domain::access::{Action, Relation, Relations};
use choucha_store::audit::AuditEntry;
use choucha_store::custody::{self, ConfirmationRow, CustodyRow, NewConfirmation};
use choucha_store::lab as store_lab;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::Ask;
use crate::custody::{custody_kind_label, portion_label};
pub use crate::custody_sign::{TEMPERATURE_RANGE, counter_party_label};
use crate::task_context::{ctx, rule};
use crate::{Actor, Result, ServiceError, Services};

/// A counter-party's confirmation, as shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = CustodyConfirmationView)]
pub struct ConfirmationView {
    pub event_id: i64,
    pub confirmed_name: String,
    pub confirmed_at: DateTime<Utc>,
    /// A signature image was given (drawn or the stored one).
    pub signed: bool,
    /// Confirmed in the app by a signed-in person (false: signed on the writer's phone).
    pub in_app: bool,
}

pub(crate) fn confirmation_view(c: &ConfirmationRow) -> ConfirmationView {
    ConfirmationView {
        event_id: c.event_id,
        confirmed_name: c.confirmed_name.clone(),
        confirmed_at: c.confirmed_at,
        signed: !c.signature_sha.is_empty(),
        in_app: c.confirmed_by.is_some(),
    }
}

/// A hand-over as the parties to it see it: no task, no place, no note (a blind tester is one
/// of them, rule 13).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HandOverView {
    pub id: i64,
    pub portion: String,
    pub portion_label: String,
    pub kind: String,
    pub kind_label: String,
    pub seal_state: choucha_domain::lab::SealState,
    pub temperature_c: Option<f64>,
    pub from_party: String,
    pub to_party: String,
    /// custodian | tester | retest_custodian | witness
    pub counter_party: String,
    pub counter_party_label: String,
    pub happened_at: DateTime<Utc>,
    pub confirmation: Option<ConfirmationView>,
}

pub(crate) fn hand_over_view(e: &CustodyRow, c: Option<&ConfirmationRow>) -> HandOverView {
    HandOverView {
        id: e.id,
        portion: e.portion.clone(),
        portion_label: portion_label(&e.portion).into(),
        kind: e.kind.clone(),
        kind_label: custody_kind_label(&e.kind).into(),
        seal_state: e.seal_state,
        temperature_c: e.temperature_c,
        from_party: e.from_party.clone(),
        to_party: e.to_party.clone(),
        counter_party: e.counter_party.clone(),
        counter_party_label: counter_party_label(&e.counter_party).into(),
        happened_at: e.happened_at,
        confirmation: c.map(confirmation_view),
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ConfirmInput {
    /// Sign with the signature kept under 我的签名 (optional: the signed-in action is the confirmation).
    #[serde(default)]
    pub use_stored_signature: bool,
    /// Or a signature drawn now (PNG, base64).
    #[serde(default)]
    pub image_png_base64: String,
    #[serde(default)]
    pub note: String,
}

/// How the caller stands towards the other side of hand-over `e`: the one relation its kind calls
/// for, or none. Also whether the caller may see that the event exists at all.
async fn counter_relation(s: &Services, actor: &Actor, e: &CustodyRow) -> Result<(Relations, bool)> {
    let db = s.store.reader();
    let c = ctx(s, e.task_id).await?;
    let on_task = c.rel(actor);
    let sample = store_lab::sample_of_task(db, e.task_id).await?;
    let on_sample = sample.as_ref().map(|x| crate::lab::lab_relations(actor, x)).unwrap_or(Relations::NONE);
    let on_retest = match &sample {
        Some(x) => {
            let mut r = Relations::NONE;
            for rt in choucha_store::retests::retests_of_sample(db, x.id).await? {
                r = r.union(actor.to_retest(rt.organising_org_id, rt.retest_org_id));
            }
            r
        }
        None => Relations::NONE,
    };
    let seen = on_task.may(Action::ViewCustody)
        || on_sample.contains(Relation::Tester)
        || on_retest.contains(Relation::RetestCustodian);
    let (from, want) = match e.counter_party.as_str() {
        "custodian" => (on_task, Relation::Custodian),
        "witness" => (on_task, Relation::Custodian),
        "tester" => (on_sample, Relation::Tester),
        "retest_custodian" => (on_retest, Relation::RetestCustodian),
        _ => return Ok((Relations::NONE, seen)),
    };
    let mut ok = from.contains(want);
    // The very person, when the hand-over names one (the sample's assigned tester).
    if let Some(u) = e.counter_user_id {
        ok &= u == actor.user_id;
    }
    // Never a sampler of the sample (rule 1), when no tester is named yet.
    if e.counter_party == "tester" {
        ok &= !c.team.contains(&actor.user_id);
    }
    // A witness is another custodian than the one who disposed of it.
    if e.counter_party == "witness" {
        ok &= e.actor_id != Some(actor.user_id);
    }
    Ok((Relations::NONE.with_if(ok, want), seen))
}

/// The counter-party confirms hand-over `event_id`: only the party the hand-over names; once;
/// never an event that is not a hand-over. Its own audited write.
pub async fn confirm(s: &Services, actor: &Actor, event_id: i64, input: ConfirmInput) -> Result<HandOverView> {
    let db = s.store.reader();
    let e = custody::get(db, event_id).await.map_err(ServiceError::not_found("样品交接"))?;
    let (rel, seen) = counter_relation(s, actor, &e).await?;
    if e.counter_party.is_empty() {
        if !seen {
            return Err(ServiceError::NotFound("样品交接"));
        }
        return Err(rule("not_a_handover", format!("“{}”不是交接，无需对方确认", custody_kind_label(&e.kind))));
    }
    if !rel.may(Action::ConfirmHandOver) && !seen {
        return Err(ServiceError::NotFound("样品交接"));
    }
    rel.require_or(
        Action::ConfirmHandOver,
        &format!("只有交接的另一方（{}）可以确认这次交接", counter_party_label(&e.counter_party)),
    )?;
    if custody::confirmation_of(db, e.id).await?.is_some() {
        return Err(rule("already_confirmed", "这次交接已经确认，不能重复确认"));
    }
    let png = if input.use_stored_signature || !input.image_png_base64.trim().is_empty() {
        crate::signature::for_signing(s, actor, &input.image_png_base64, true, "image_png_base64").await?
    } else {
        String::new()
    };
    let sha = crate::custody_sign::store_drawn_signature(s, &png, "image_png_base64").await?;
    let tx = s.write(actor).await?;
    let c = custody::confirm(
        &tx,
        NewConfirmation {
            event_id: e.id,
            task_id: e.task_id,
            confirmed_by: Some(actor.user_id),
            confirmed_name: actor.display_name.clone(),
            signature_sha: sha.clone(),
            note: input.note.trim().chars().take(500).collect(),
            confirmed_at: None,
        },
    )
    .await
    .map_err(|err| match err {
        choucha_store::StoreError::Duplicate(_) => rule("already_confirmed", "这次交接已经确认，不能重复确认"),
        other => other.into(),
    })?;
    tx.commit(AuditEntry::new(
        "custody.confirm",
        "custody_event",
        e.id,
        json!(null),
        json!({"kind": e.kind, "portion": e.portion, "counter_party": e.counter_party, "signature_sha256": sha}),
    ))
    .await?;
    Ok(hand_over_view(&e, Some(&c)))
}

/// The hand-overs of a blind sample the caller is party to (its tester, its custodian, the
/// re-test institution's custodian), newest first: what a tester confirms, with nothing that
/// names the enterprise.
pub async fn hand_overs_of_sample(s: &Services, actor: &Actor, blind_code: &str) -> Result<Vec<HandOverView>> {
    let (sample, _) = crate::lab::by_code(s, actor, blind_code).await?;
    let db = s.store.reader();
    let confirmations = custody::confirmations_of_task(db, sample.task_id).await?;
    let mut out = Vec::new();
    for e in custody::of_task(db, sample.task_id).await?.into_iter().rev() {
        if e.counter_party.is_empty() {
            continue;
        }
        let (rel, _) = counter_relation(s, actor, &e).await?;
        let custodian = crate::lab::lab_relations(actor, &sample).contains(Relation::Custodian);
        if rel.may(Action::ConfirmHandOver) || custodian {
            out.push(hand_over_view(&e, confirmations.iter().find(|c| c.event_id == e.id)));
        }
    }
    Ok(out)
}
