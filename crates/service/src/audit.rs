//! Browsing and verifying the audit chain.

use choucha_domain::access::Action;
use choucha_store::Page;
use choucha_store::audit::{self as store_audit};
pub use choucha_store::audit::{AuditFilter, AuditRow, Verification};

use crate::{Actor, Result, Services, page_limit};

pub async fn list(
    s: &Services,
    actor: &Actor,
    f: &AuditFilter,
    before_seq: Option<i64>,
    limit: Option<u64>,
) -> Result<Page<AuditRow>> {
    actor.require(Action::ViewAudit)?;
    Ok(store_audit::list(s.store.reader(), f, before_seq, page_limit(limit)?).await?)
}

pub async fn get(s: &Services, actor: &Actor, seq: i64) -> Result<AuditRow> {
    actor.require(Action::ViewAudit)?;
    store_audit::get(s.store.reader(), seq).await.map_err(crate::ServiceError::not_found("审计记录"))
}

/// Verify the whole chain (admins; the CLI calls the store directly).
pub async fn verify(s: &Services, actor: &Actor) -> Result<Verification> {
    actor.require(Action::ViewAudit)?;
    Ok(store_audit::verify(&s.store, |_| {}).await?)
}
