//! Organisations: the bureau tree and the institutions. Admins manage them; an admin who belongs to
//! a bureau manages only that bureau's subtree.

use choucha_domain::RuleViolation;
use choucha_domain::access::Action;
use choucha_domain::division::DivisionCode;
use choucha_domain::organisation::{OrgKind, validate_org_code};
use choucha_store::audit::AuditEntry;
pub use choucha_store::organisations::OrgFilter;
use choucha_store::organisations::{self as store_orgs, OrgFields, OrgRow};
use choucha_store::{Page, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{Actor, Result, ServiceError, Services, page_limit};

/// What a person types to create or edit an organisation.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct OrgInput {
    pub code: String,
    pub name: String,
    /// province_bureau | city_bureau | local_bureau | institution
    pub kind: String,
    /// Code of the parent organisation (bureaus: the bureau above).
    #[serde(default)]
    pub parent_code: Option<String>,
    #[serde(default)]
    pub division_code: Option<String>,
    /// CMA / accreditation number of an institution.
    #[serde(default)]
    pub qualification_no: Option<String>,
    #[serde(default)]
    pub cap_sampling: bool,
    #[serde(default)]
    pub cap_testing: bool,
    #[serde(default)]
    pub cap_screening: bool,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// An organisation as shown to people.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrgView {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub kind_label: String,
    pub parent_id: Option<i64>,
    pub division_code: Option<String>,
    pub qualification_no: Option<String>,
    pub cap_sampling: bool,
    pub cap_testing: bool,
    pub cap_screening: bool,
    pub capabilities: String,
    pub address: String,
    pub phone: String,
    pub active: bool,
}

impl From<OrgRow> for OrgView {
    fn from(r: OrgRow) -> Self {
        let kind_label = r.kind.parse::<OrgKind>().map(|k| k.label().to_string()).unwrap_or_else(|_| r.kind.clone());
        let caps = choucha_domain::organisation::Capabilities {
            sampling: r.cap_sampling,
            testing: r.cap_testing,
            screening: r.cap_screening,
        };
        OrgView {
            id: r.id,
            code: r.code,
            name: r.name,
            kind: r.kind,
            kind_label,
            parent_id: r.parent_id,
            division_code: r.division_code,
            qualification_no: r.qualification_no,
            cap_sampling: r.cap_sampling,
            cap_testing: r.cap_testing,
            cap_screening: r.cap_screening,
            capabilities: caps.labels().join("、"),
            address: r.address,
            phone: r.phone,
            active: r.active,
        }
    }
}

/// Whether `actor` may administer the organisation `org_id` (None: an organisation-less record).
/// A scoped administrator (one with an organisation) acts on its own organisation and those below
/// it; the callers have asked the matrix for the action itself.
pub(crate) async fn check_admin_scope(s: &Services, actor: &Actor, org_id: Option<i64>) -> Result<()> {
    match (actor.org_id, org_id) {
        (None, _) => Ok(()),
        (Some(mine), Some(target)) if store_orgs::is_ancestor(s.store.reader(), mine, target).await? => Ok(()),
        _ => Err(ServiceError::Forbidden("只能管理本机构及下级机构的数据".into())),
    }
}

async fn validate(s: &Services, input: &OrgInput, editing: Option<i64>) -> Result<OrgFields> {
    let mut errs: Vec<RuleViolation> = Vec::new();
    let code = validate_org_code(&input.code).map_err(|e| errs.push(e)).ok();
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        errs.push(RuleViolation::new("required", "机构名称不能为空且不超过200字").on_field("name"));
    }
    let kind = input.kind.parse::<OrgKind>().map_err(|e| errs.push(e)).ok();
    let parent = match input.parent_code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => match store_orgs::find_by_code(s.store.reader(), c).await? {
            Some(p) => Some(p),
            None => {
                errs.push(RuleViolation::new("unknown_parent", format!("上级机构“{c}”不存在")).on_field("parent_code"));
                None
            }
        },
    };
    if let Some(k) = kind {
        let parent_kind = parent.as_ref().and_then(|p| p.kind.parse::<OrgKind>().ok());
        if let Err(e) = k.parent_allowed(parent_kind) {
            // An unknown parent code is reported above; the form's field is `parent_code`.
            let parent_unknown = parent.is_none() && input.parent_code.as_deref().is_some_and(|c| !c.trim().is_empty());
            if !parent_unknown {
                errs.push(e.on_field("parent_code"));
            }
        }
    }
    let division_code = match input.division_code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(d) => DivisionCode::parse(d).map_err(|e| errs.push(e)).ok().map(|d| d.to_string()),
    };
    if kind.is_some_and(OrgKind::is_bureau)
        && division_code.is_none()
        && input.division_code.as_deref().unwrap_or("").trim().is_empty()
    {
        errs.push(RuleViolation::new("required", "市场监管局须填写行政区划代码").on_field("division_code"));
    }
    let qualification_no =
        input.qualification_no.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_string);
    if kind == Some(OrgKind::Institution) {
        if !(input.cap_sampling || input.cap_testing || input.cap_screening) {
            errs.push(
                RuleViolation::new("required", "检验检测机构须至少具备抽样、检验或快速筛查之一")
                    .on_field("capabilities"),
            );
        }
        if input.cap_testing && qualification_no.is_none() {
            errs.push(
                RuleViolation::new("required", "承担检验的机构须填写资质认定（CMA）证书编号")
                    .on_field("qualification_no"),
            );
        }
    }
    if let (Some(id), Some(p)) = (editing, parent.as_ref())
        && store_orgs::is_ancestor(s.store.reader(), id, p.id).await?
    {
        errs.push(RuleViolation::new("cycle", "上级机构不能是本机构或其下级").on_field("parent_code"));
    }
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    let is_inst = kind == Some(OrgKind::Institution);
    Ok(OrgFields {
        code: code.unwrap_or_default(),
        name,
        kind: kind.map(|k| k.as_str().to_string()).unwrap_or_default(),
        parent_id: parent.map(|p| p.id),
        division_code,
        qualification_no,
        cap_sampling: is_inst && input.cap_sampling,
        cap_testing: is_inst && input.cap_testing,
        cap_screening: is_inst && input.cap_screening,
        address: input.address.trim().to_string(),
        phone: input.phone.trim().to_string(),
        active: input.active,
    })
}

fn dup(e: StoreError, code: &str) -> ServiceError {
    match e {
        StoreError::Duplicate(_) => ServiceError::Invalid(vec![
            RuleViolation::new("duplicate", format!("机构代码“{code}”已被使用")).on_field("code"),
        ]),
        other => other.into(),
    }
}

#[tracing::instrument(skip_all)]
pub async fn create(s: &Services, actor: &Actor, input: OrgInput) -> Result<OrgView> {
    actor.require(Action::ManageOrganisations)?;
    let fields = validate(s, &input, None).await?;
    // A scoped admin creates only below its own organisation.
    if actor.org_id.is_some() {
        check_admin_scope(s, actor, fields.parent_id).await?;
    }
    let tx = s.write(actor).await?;
    let code = fields.code.clone();
    let row = store_orgs::insert(&tx, fields).await.map_err(|e| dup(e, &code))?;
    let view = OrgView::from(row);
    tx.commit(AuditEntry::new("organisation.create", "organisation", view.id, json!(null), json!(view))).await?;
    Ok(view)
}

/// Create an organisation as the system (CLI bootstrap and demo data).
pub async fn create_as_system(s: &Services, who: &str, input: OrgInput) -> Result<OrgView> {
    let fields = validate(s, &input, None).await?;
    let tx = s.write(choucha_store::audit::AuditActor::system(who)).await?;
    let code = fields.code.clone();
    let row = store_orgs::insert(&tx, fields).await.map_err(|e| dup(e, &code))?;
    let view = OrgView::from(row);
    tx.commit(AuditEntry::new("organisation.create", "organisation", view.id, json!(null), json!(view))).await?;
    Ok(view)
}

#[tracing::instrument(skip_all)]
pub async fn update(s: &Services, actor: &Actor, id: i64, input: OrgInput) -> Result<OrgView> {
    actor.require(Action::ManageOrganisations)?;
    let before = OrgView::from(store_orgs::get(s.store.reader(), id).await.map_err(ServiceError::not_found("机构"))?);
    check_admin_scope(s, actor, Some(id)).await?;
    let fields = validate(s, &input, Some(id)).await?;
    let tx = s.write(actor).await?;
    let code = fields.code.clone();
    let row = store_orgs::update(&tx, id, fields).await.map_err(|e| dup(e, &code))?;
    let view = OrgView::from(row);
    tx.commit(AuditEntry::new("organisation.update", "organisation", id, json!(before), json!(view))).await?;
    Ok(view)
}

/// Organisations are visible to every signed-in user except enterprises (they need the names of
/// bureaus and institutions on forms).
pub async fn get(s: &Services, actor: &Actor, id: i64) -> Result<OrgView> {
    actor.require(Action::ViewOrganisations)?;
    Ok(store_orgs::get(s.store.reader(), id).await.map_err(ServiceError::not_found("机构"))?.into())
}

pub async fn get_by_code(s: &Services, code: &str) -> Result<Option<OrgView>> {
    Ok(store_orgs::find_by_code(s.store.reader(), code).await?.map(OrgView::from))
}

pub async fn list(
    s: &Services,
    actor: &Actor,
    f: &OrgFilter,
    after: Option<i64>,
    limit: Option<u64>,
) -> Result<Page<OrgView>> {
    actor.require(Action::ViewOrganisations)?;
    let p = store_orgs::list(s.store.reader(), f, after, page_limit(limit)?).await?;
    Ok(Page { items: p.items.into_iter().map(OrgView::from).collect(), next: p.next })
}
