//! The enterprise registry (检查对象名录库): search, view, create and edit entries. Bureau staff see
//! and edit their own area only (the division prefix of their bureau); testers and enterprise users
//! never read the registry (a tester must not learn who was sampled, rule 13).

use choucha_domain::RuleViolation;
use choucha_domain::access::Action;
use choucha_domain::enterprise::{
    EnterpriseData, EnterpriseDraft, EnterpriseKind, EnterpriseStatus, KindSet, SizeClass,
};
use choucha_store::Page;
use choucha_store::audit::AuditEntry;
use choucha_store::enterprises::{self as store_ent, EnterpriseCursor, EnterpriseFilter, EnterpriseRow};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{Actor, Result, ServiceError, Services, page_limit};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EnterpriseView {
    pub id: i64,
    pub uscc: String,
    pub name: String,
    pub division_code: String,
    pub address: String,
    /// Kind codes: producer, seller, fuel_station, e_commerce.
    pub kinds: Vec<String>,
    pub kind_labels: String,
    pub size_class: Option<String>,
    pub size_class_label: Option<String>,
    pub product_lines: Vec<String>,
    pub licence_no: Option<String>,
    pub licence_valid_until: Option<chrono::NaiveDate>,
    pub ccc_cert_no: Option<String>,
    pub status: String,
    pub status_label: String,
}

impl From<EnterpriseRow> for EnterpriseView {
    fn from(r: EnterpriseRow) -> Self {
        choucha_store::enterprises::ListedEnterprise::from(r).into()
    }
}

impl From<choucha_store::enterprises::ListedEnterprise> for EnterpriseView {
    fn from(r: choucha_store::enterprises::ListedEnterprise) -> Self {
        let ks = KindSet(r.kinds);
        let size: Option<SizeClass> = r.size_class.as_deref().and_then(|s| s.parse().ok());
        let status_label =
            r.status.parse::<EnterpriseStatus>().map(|s| s.label().to_string()).unwrap_or_else(|_| r.status.clone());
        EnterpriseView {
            id: r.id,
            uscc: r.uscc,
            name: r.name,
            division_code: r.division_code,
            address: r.address,
            kinds: ks.kinds().into_iter().map(|k| k.as_str().to_string()).collect(),
            kind_labels: ks.labels(),
            size_class: size.map(|s| s.as_str().to_string()),
            size_class_label: size.map(|s| s.label().to_string()),
            product_lines: choucha_domain::enterprise::split_product_lines(&r.product_lines),
            licence_no: r.licence_no,
            licence_valid_until: r.licence_valid_until,
            ccc_cert_no: r.ccc_cert_no,
            status: r.status,
            status_label,
        }
    }
}

impl EnterpriseView {
    /// Back to the editable form (for the edit page).
    pub fn to_draft(&self) -> EnterpriseDraft {
        EnterpriseDraft {
            name: self.name.clone(),
            uscc: self.uscc.clone(),
            division_code: self.division_code.clone(),
            address: self.address.clone(),
            kinds: self.kind_labels.clone(),
            size_class: self.size_class_label.clone().unwrap_or_default(),
            product_lines: self.product_lines.join("；"),
            licence_no: self.licence_no.clone().unwrap_or_default(),
            licence_valid_until: self.licence_valid_until.map(|d| d.to_string()).unwrap_or_default(),
            ccc_cert_no: self.ccc_cert_no.clone().unwrap_or_default(),
            status: self.status_label.clone(),
        }
    }
}

/// What the search box and filters send.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegistryQuery {
    /// Name prefix, or a whole USCC.
    #[serde(default)]
    pub q: Option<String>,
    /// Division code or prefix: 14 (province), 1402 or 140200 (city), 140213 (county).
    #[serde(default)]
    pub division: Option<String>,
    /// producer | seller | fuel_station | e_commerce (or the Chinese label)
    #[serde(default)]
    pub kind: Option<String>,
    /// operating | suspended | deregistered
    #[serde(default)]
    pub status: Option<String>,
    /// Cursor from the previous page's `next`.
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<u64>,
}

fn division_prefix(d: &str) -> String {
    let d = d.trim();
    // A full code of a city or province selects everything under it.
    if d.len() == 6
        && let Ok(code) = choucha_domain::division::DivisionCode::parse(d)
    {
        return code.scope_prefix().to_string();
    }
    d.to_string()
}

/// Turn the query into an index-served filter, limited to the actor's area.
pub(crate) fn filter_for(actor: &Actor, q: &RegistryQuery) -> Result<EnterpriseFilter> {
    let mut f = EnterpriseFilter::default();
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let upper = text.to_uppercase();
        if upper.len() == 18 && upper.chars().all(|c| c.is_ascii_alphanumeric()) {
            f.uscc = Some(upper);
        } else {
            f.name_prefix = Some(text.to_string());
        }
    }
    if let Some(d) = q.division.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        if !d.bytes().all(|b| b.is_ascii_digit()) || d.len() > 6 {
            return Err(ServiceError::invalid(
                RuleViolation::new("invalid_division", "行政区划代码应为1至6位数字").on_field("division"),
            ));
        }
        f.division_prefix = Some(division_prefix(d));
    }
    if let Some(scope) = actor.registry_scope() {
        match &f.division_prefix {
            Some(p) if p.starts_with(&scope) => {}
            // A narrower scope than the requested area: narrow to the scope.
            Some(p) if scope.starts_with(p.as_str()) => f.division_prefix = Some(scope),
            Some(_) => return Err(ServiceError::Forbidden("只能查询本辖区的企业".into())),
            None => f.division_prefix = Some(scope),
        }
    }
    if let Some(k) = q.kind.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        f.kind_bit = Some(k.parse::<EnterpriseKind>().map_err(ServiceError::from)?.bit());
    }
    if let Some(st) = q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        f.status = Some(st.parse::<EnterpriseStatus>().map_err(ServiceError::from)?.as_str().to_string());
    }
    Ok(f)
}

pub async fn search(s: &Services, actor: &Actor, q: &RegistryQuery) -> Result<Page<EnterpriseView>> {
    actor.require(Action::ViewRegistry)?;
    let f = filter_for(actor, q)?;
    let cursor = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(EnterpriseCursor::decode(c).ok_or_else(|| {
            ServiceError::invalid(RuleViolation::new("invalid_cursor", "分页参数无效").on_field("cursor"))
        })?),
        None => None,
    };
    let p = store_ent::search(s.store.reader(), &f, cursor.as_ref(), page_limit(q.limit)?).await?;
    Ok(Page { items: p.items.into_iter().map(EnterpriseView::from).collect(), next: p.next })
}

pub(crate) fn in_scope(actor: &Actor, division: &str) -> bool {
    actor.registry_scope().is_none_or(|scope| division.starts_with(&scope))
}

pub async fn get(s: &Services, actor: &Actor, id: i64) -> Result<EnterpriseView> {
    actor.require(Action::ViewRegistry)?;
    let row = store_ent::get(s.store.reader(), id).await.map_err(ServiceError::not_found("企业"))?;
    if !in_scope(actor, &row.division_code) {
        // Out of the actor's area: not told apart from a missing entry.
        return Err(ServiceError::NotFound("企业"));
    }
    Ok(row.into())
}

/// Every problem of an entry: the domain's rules, the database's column bounds, and the actor's
/// area (a bureau registers enterprises of its own area only). Shared by the form and the import.
pub(crate) fn check_entry(
    actor: &Actor,
    draft: &EnterpriseDraft,
) -> std::result::Result<EnterpriseData, Vec<RuleViolation>> {
    let mut errs = Vec::new();
    for (field, label, value) in
        [("licence_no", "生产许可证编号", &draft.licence_no), ("ccc_cert_no", "CCC证书编号", &draft.ccc_cert_no)]
    {
        if value.trim().chars().count() > 64 {
            errs.push(RuleViolation::new("too_long", format!("{label}不能超过64个字符")).on_field(field));
        }
    }
    match draft.validate() {
        Ok(data) if errs.is_empty() => {
            if in_scope(actor, data.division_code.as_str()) {
                Ok(data)
            } else {
                Err(vec![
                    RuleViolation::new(
                        "out_of_area",
                        format!("行政区划“{}”不在本辖区内，无权登记", data.division_code),
                    )
                    .on_field("division_code"),
                ])
            }
        }
        Ok(_) => Err(errs),
        Err(mut v) => {
            v.extend(errs);
            Err(v)
        }
    }
}

fn validate(actor: &Actor, draft: &EnterpriseDraft) -> Result<EnterpriseData> {
    check_entry(actor, draft).map_err(ServiceError::Invalid)
}

fn duplicate_uscc(uscc: &str) -> ServiceError {
    ServiceError::Invalid(vec![
        RuleViolation::new("duplicate", format!("统一社会信用代码“{uscc}”已在名录库中")).on_field("uscc"),
    ])
}

#[tracing::instrument(skip_all)]
pub async fn create(s: &Services, actor: &Actor, draft: EnterpriseDraft) -> Result<EnterpriseView> {
    actor.require(Action::EditRegistry)?;
    let data = validate(actor, &draft)?;
    if store_ent::find_by_uscc(s.store.reader(), data.uscc.as_str()).await?.is_some() {
        return Err(duplicate_uscc(data.uscc.as_str()));
    }
    let tx = s.write(actor).await?;
    let row = store_ent::insert(&tx, &data).await.map_err(|e| match e {
        choucha_store::StoreError::Duplicate(_) => duplicate_uscc(data.uscc.as_str()),
        other => other.into(),
    })?;
    let view = EnterpriseView::from(row);
    tx.commit(AuditEntry::new("enterprise.create", "enterprise", view.id, json!(null), json!(view))).await?;
    Ok(view)
}

#[tracing::instrument(skip_all)]
pub async fn update(s: &Services, actor: &Actor, id: i64, draft: EnterpriseDraft) -> Result<EnterpriseView> {
    actor.require(Action::EditRegistry)?;
    let before = get(s, actor, id).await?;
    let data = validate(actor, &draft)?;
    if data.uscc.as_str() != before.uscc
        && let Some(other) = store_ent::find_by_uscc(s.store.reader(), data.uscc.as_str()).await?
        && other.id != id
    {
        return Err(duplicate_uscc(data.uscc.as_str()));
    }
    let tx = s.write(actor).await?;
    let row = store_ent::update(&tx, id, &data).await?;
    let view = EnterpriseView::from(row);
    tx.commit(AuditEntry::new("enterprise.update", "enterprise", id, json!(before), json!(view))).await?;
    Ok(view)
}

/// An enterprise user's own registry entry (the only one it may see).
pub async fn own_enterprise(s: &Services, actor: &Actor) -> Result<Option<EnterpriseView>> {
    match actor.enterprise_id {
        Some(id) => Ok(Some(store_ent::get(s.store.reader(), id).await?.into())),
        None => Ok(None),
    }
}

/// Entries matching the query, counted no further than `cap` (the list shows "more than …").
pub async fn count_up_to(s: &Services, actor: &Actor, q: &RegistryQuery, cap: u64) -> Result<u64> {
    actor.require(Action::ViewRegistry)?;
    let f = filter_for(actor, q)?;
    Ok(store_ent::count_up_to(s.store.reader(), &f, cap).await?)
}
