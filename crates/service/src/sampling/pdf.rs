//! The sampling record as a printed form (PDF).

use choucha_domain::sampling::{self as rules, RecordFields, RecordState};
use choucha_store::sampling::{self as store};
use choucha_store::{enterprises, organisations};

use crate::{Actor, Result, ServiceError, Services};

use super::load_unchecked;

fn parse_time(s: &str) -> Option<chrono::NaiveDateTime> {
    let t = s.trim();
    chrono::DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|d| d.naive_local())
        .or_else(|| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M").ok())
        .or_else(|| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M").ok())
}

fn png_of(b64: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    (!b64.trim().is_empty()).then(|| base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok()).flatten()
}

/// 抽样单编号: the plan's year, the task and the record's version.
pub(crate) fn record_no(year: i32, task_id: i64, version: i32) -> String {
    format!("{year}-{task_id:06}-{version}")
}

/// The sampling record as the paper form (抽样单), with the signatures placed, as PDF.
/// Like the task's other documents: the team, the organising bureau and the enterprise's local bureau.
pub async fn record_pdf(s: &Services, actor: &Actor, task_id: i64) -> Result<Vec<u8>> {
    crate::inbox::task_brief(s, actor, task_id).await?;
    record_pdf_unchecked(s, task_id).await
}

/// The record PDF, once the caller's access is checked.
pub(crate) async fn record_pdf_unchecked(s: &Services, task_id: i64) -> Result<Vec<u8>> {
    use choucha_documents as docs;
    let c = load_unchecked(s, task_id).await?;
    let db = s.store.reader();
    let versions = store::records_of_task(db, task_id).await?;
    // The version in force: the newest signed one, else the newest.
    let current = versions
        .iter()
        .find(|v| v.state == RecordState::Signed)
        .or(versions.first())
        .cloned()
        .ok_or(ServiceError::NotFound("抽样单"))?;
    let correction =
        versions.first().filter(|v| v.version > current.version || (v.id == current.id && v.version > 1)).cloned();
    let f: RecordFields = serde_json::from_str(&current.fields_json).map_err(ServiceError::internal)?;
    let ent = enterprises::get(db, c.task.enterprise_id).await?;
    let organiser = organisations::get(db, c.plan.organising_org_id).await?;
    let institution = match c.item.sampling_org_id {
        Some(o) => organisations::get(db, o).await?.name,
        None => String::new(),
    };
    let sigs = store::signatures_of(db, current.id).await?;
    let mut samplers = Vec::new();
    let mut sampler_signatures = Vec::new();
    for u in &c.team {
        let user = choucha_store::users::get(db, *u).await?;
        let sig = sigs.iter().find(|g| g.signer == format!("sampler:{u}"));
        sampler_signatures.push(docs::Signature {
            signer: user.display_name.clone(),
            image: sig.and_then(|g| png_of(&g.image_b64)),
            signed_at: sig.map(|g| rules::utc_to_local(g.signed_at)),
        });
        let id_number = crate::personal::open(s, &user.id_card_no)?;
        samplers.push(docs::Sampler { name: user.display_name, id_number });
    }
    let bj = |g: &choucha_store::sampling::SignatureRow| Some(rules::utc_to_local(g.signed_at));
    let enterprise_signature = match sigs.iter().find(|g| g.signer == "enterprise") {
        Some(g) if g.refused => docs::EnterpriseSignature::Refused {
            reason: g.refusal_reason.clone(),
            witness: (!g.witness_name.is_empty()).then(|| docs::Signature {
                signer: g.witness_name.clone(),
                image: png_of(&g.witness_image_b64),
                signed_at: bj(g),
            }),
        },
        Some(g) => docs::EnterpriseSignature::Signed(docs::Signature {
            signer: g.signer_name.clone(),
            image: png_of(&g.image_b64),
            signed_at: bj(g),
        }),
        None => {
            docs::EnterpriseSignature::Signed(docs::Signature { signer: String::new(), image: None, signed_at: None })
        }
    };
    let (corrections, correction_confirmation) = match &correction {
        Some(v) if v.version > 1 => {
            let changes: Vec<(String, String, String)> = serde_json::from_str(&v.diff_json).unwrap_or_default();
            let confirm =
                store::signatures_of(db, v.id).await?.into_iter().find(|g| g.signer == "enterprise" && !g.refused).map(
                    |g| docs::Signature {
                        signer: g.signer_name.clone(),
                        image: png_of(&g.image_b64),
                        signed_at: bj(&g),
                    },
                );
            (
                changes
                    .into_iter()
                    .map(|(k, o, n)| docs::Correction {
                        field: choucha_domain::sampling::field_label(&k).to_string(),
                        old_value: o,
                        new_value: n,
                    })
                    .collect(),
                confirm,
            )
        }
        _ => (Vec::new(), None),
    };
    let unit = f.unit.clone();
    let record = docs::SamplingRecord {
        record_no: record_no(c.plan.year, task_id, current.version),
        kind: docs::SamplingKind::SpotCheck,
        organising_bureau: organiser.name,
        plan: c.plan.title.clone(),
        enterprise: docs::Enterprise {
            name: ent.name,
            uscc: ent.uscc,
            address: ent.address,
            licence_no: ent.licence_no.unwrap_or_default(),
            contact: f.contact_name.clone(),
            phone: f.contact_phone.clone(),
        },
        producer: docs::NominalProducer {
            name: f.producer_name.clone(),
            address: f.producer_address.clone(),
            uscc: f.producer_uscc.clone(),
        },
        product_name: f.product_name.clone(),
        brand: f.brand.clone(),
        model: f.model.clone(),
        batch: f.batch.clone(),
        standard: f.standard.clone(),
        grade: f.grade.clone(),
        sampling_base: format!("{}{unit}", f.sampling_base),
        test_portion_qty: format!("{}{unit}", f.test_quantity),
        backup_portion_qty: format!("{}{unit}", f.backup_quantity),
        unit_price: docs::Amount::from_fen((f.unit_price * 100.0).round().max(0.0) as u64),
        total_paid: docs::Amount::from_fen(f.total_paid_fen().max(0) as u64),
        place: f.place.clone(),
        domain: match f.domain.as_str() {
            "production" => docs::SamplingDomain::Production,
            "e_commerce" => docs::SamplingDomain::ECommerce,
            _ => docs::SamplingDomain::Circulation,
        },
        sampled_at: parse_time(&f.sampled_at).unwrap_or_else(|| current.created_at.naive_utc()),
        test_seal_numbers: f.test_seals.clone(),
        backup_seal_numbers: f.backup_seals.clone(),
        backup_kept_at: crate::backup_requests::backup_kept_at(s, task_id).await?,
        sampling_institution: institution,
        samplers,
        remarks: f.remarks.clone(),
        sampler_signatures,
        enterprise_signature,
        corrections,
        correction_confirmation,
    };
    let renderer = s.renderer().await?;
    tokio::task::spawn_blocking(move || docs::sampling_record_pdf(&renderer, &record))
        .await
        .map_err(ServiceError::internal)?
        .map_err(|e| ServiceError::internal(format!("sampling record PDF: {e}")))
}
