//! The result notice (检验结果告知书) as an SM2-signed document (issue 18 part 1): the first time a
//! report's notice to a recipient (the enterprise, or the nominal producer) is asked for, it is
//! rendered with its verification block, signed with the testing institution's key, kept in the
//! file store and its signature recorded in one audited write; every later request serves that same
//! file, so the copy delivered and the copy checked on the public page are one document.

use choucha_store::audit::AuditEntry;
use choucha_store::signing as store;
use serde_json::json;

use crate::{Actor, Result, ServiceError, Services};

/// Where the signed notice with verification token `token` is kept.
fn path(token: &str) -> String {
    format!("notices/{token}.pdf")
}

/// The signed notice `kind` of report `report_id`: the stored one, or `notice` rendered, signed by
/// institution `org_id` and stored now.
pub(crate) async fn signed(
    s: &Services,
    actor: &Actor,
    report_id: i64,
    org_id: i64,
    kind: &'static str,
    mut notice: choucha_documents::ResultNotice,
) -> Result<Vec<u8>> {
    if let Some(sig) = store::signature_of(s.store.reader(), kind, report_id).await? {
        return s.files().get(&path(&sig.token)).await;
    }
    let key = crate::signing::issuing_key(s, org_id)?;
    let token = crate::signing::new_token();
    notice.verification = Some(choucha_documents::Verification { key_id: key.key_id(), url: s.verify_url(&token) });
    let renderer = s.renderer().await?;
    let body = tokio::task::spawn_blocking(move || choucha_documents::result_notice_pdf(&renderer, &notice))
        .await
        .map_err(ServiceError::internal)?
        .map_err(|e| ServiceError::internal(format!("result notice PDF: {e}")))?;
    let signed = crate::signing::sign(&key, &body, token);
    s.files().put_bytes(&path(&signed.token), signed.bytes.clone()).await?;
    let written = async {
        let tx = s.write(actor).await?;
        crate::signing::record(&tx, kind, report_id, org_id, &key, &signed).await?;
        tx.commit(AuditEntry::new(
            "result_notice.sign",
            "lab_report",
            report_id,
            json!(null),
            json!({"recipient": kind, "pdf_sha256": signed.sha256, "pdf_sm3": signed.sm3, "signing_key": signed.key_id}),
        ))
        .await?;
        Ok::<(), ServiceError>(())
    }
    .await;
    if let Err(e) = written {
        // Asked for twice at once: the other request's notice was recorded first; serve that one.
        if let Some(sig) = store::signature_of(s.store.reader(), kind, report_id).await? {
            return s.files().get(&path(&sig.token)).await;
        }
        return Err(e);
    }
    Ok(signed.bytes)
}
