//! Users and their roles. A role must fit the user's organisation (a tester belongs to an
//! institution, a local regulator to a county bureau, an enterprise user to a registry entry).

use choucha_domain::RuleViolation;
use choucha_domain::access::Action;
use choucha_domain::organisation::OrgKind;
use choucha_domain::role::Role;
use choucha_domain::uscc::Uscc;
use choucha_store::audit::{AuditActor, AuditEntry};
pub use choucha_store::users::UserFilter;
use choucha_store::users::{self as store_users, NewUser, UserPatch, UserRow};
use choucha_store::{Page, StoreError, enterprises, organisations, tokens};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::Ask;
use crate::auth::passwords;
use crate::auth::{hash_password, verify_password};
use crate::organisations::check_admin_scope;
use crate::{Actor, Result, ServiceError, Services, page_limit, personal};

#[derive(Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewUserInput {
    pub username: String,
    pub display_name: String,
    pub password: String,
    /// Role codes: system_admin, security_admin, audit_admin, regulator, local_regulator, sampler,
    /// sample_custodian, tester, report_approver, enterprise. Only the security administrator (and
    /// the CLI's bootstrap) may give roles here; the system administrator creates the account
    /// without roles and the security administrator grants them (三权分立).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Organisation code (bureaus and institutions).
    #[serde(default)]
    pub org_code: Option<String>,
    /// USCC of the registry entry an enterprise user acts for.
    #[serde(default)]
    pub enterprise_uscc: Option<String>,
    #[serde(default)]
    pub phone: String,
    /// Identity document number (samplers show it on site).
    #[serde(default)]
    pub id_card_no: String,
}

impl std::fmt::Debug for NewUserInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUserInput")
            .field("username", &self.username)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

/// The account's details, kept by the system administrator; roles are granted apart
/// ([`set_roles`]).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct UserUpdateInput {
    pub display_name: String,
    #[serde(default)]
    pub org_code: Option<String>,
    #[serde(default)]
    pub enterprise_uscc: Option<String>,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub id_card_no: String,
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub role_labels: String,
    pub org_id: Option<i64>,
    pub org_code: Option<String>,
    pub org_name: Option<String>,
    pub enterprise_id: Option<i64>,
    pub enterprise_name: Option<String>,
    /// USCC of the registry entry an enterprise user acts for (needed to edit the user).
    pub enterprise_uscc: Option<String>,
    pub phone: String,
    /// Identity document number (shown to admins, who edit it).
    pub id_card_no: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

async fn view(s: &Services, u: UserRow) -> Result<UserView> {
    let db = s.store.reader();
    let roles = store_users::roles_of(db, u.id).await?;
    let org = match u.org_id {
        Some(id) => Some(organisations::get(db, id).await?),
        None => None,
    };
    let ent = match u.enterprise_id {
        Some(id) => Some(enterprises::get(db, id).await?),
        None => None,
    };
    let role_labels =
        roles.iter().filter_map(|r| r.parse::<Role>().ok()).map(Role::label).collect::<Vec<_>>().join("、");
    Ok(UserView {
        id: u.id,
        username: u.username,
        display_name: u.display_name,
        roles,
        role_labels,
        org_id: u.org_id,
        org_code: org.as_ref().map(|o| o.code.clone()),
        org_name: org.map(|o| o.name),
        enterprise_id: u.enterprise_id,
        enterprise_uscc: ent.as_ref().map(|e| e.uscc.clone()),
        enterprise_name: ent.map(|e| e.name),
        phone: personal::open(s, &u.phone)?,
        id_card_no: personal::open(s, &u.id_card_no)?,
        active: u.active,
        created_at: u.created_at,
    })
}

fn validate_username(name: &str) -> std::result::Result<String, RuleViolation> {
    let n = name.trim();
    if n.len() < 3 || n.len() > 32 || !n.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')) {
        return Err(
            RuleViolation::new("invalid_username", "用户名须为3至32位字母、数字、“_”“.”或“-”").on_field("username")
        );
    }
    Ok(n.to_string())
}

/// Resolve and check roles against the organisation or enterprise; returns (roles, org_id, enterprise_id).
async fn resolve_membership(
    s: &Services,
    roles: &[String],
    org_code: Option<&str>,
    enterprise_uscc: Option<&str>,
    errs: &mut Vec<RuleViolation>,
) -> Result<(Vec<Role>, Option<i64>, Option<i64>)> {
    let db = s.store.reader();
    let mut parsed = Vec::new();
    for r in roles {
        match r.parse::<Role>() {
            Ok(r) => parsed.push(r),
            Err(e) => errs.push(e),
        }
    }
    parsed.sort();
    parsed.dedup();
    if let Err(e) = choucha_domain::role::check_separation(&parsed) {
        errs.push(e);
    }
    let org = match org_code.map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => {
            let o = organisations::find_by_code(db, c).await?;
            if o.is_none() {
                errs.push(RuleViolation::new("unknown_org", format!("机构“{c}”不存在")).on_field("org_code"));
            }
            o
        }
    };
    let ent = match enterprise_uscc.map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(u) => {
            // A mistyped code gets the check-character message (GB 32100), not just "not found".
            let e = match Uscc::parse(u) {
                Ok(code) => enterprises::find_by_uscc(db, code.as_str()).await?,
                Err(v) => {
                    errs.push(v.on_field("enterprise_uscc"));
                    None
                }
            };
            if e.is_none() && errs.iter().all(|v| v.field.as_deref() != Some("enterprise_uscc")) {
                errs.push(
                    RuleViolation::new("unknown_enterprise", format!("名录库中没有统一社会信用代码为“{u}”的企业"))
                        .on_field("enterprise_uscc"),
                );
            }
            e
        }
    };
    let org_kind = org.as_ref().and_then(|o| o.kind.parse::<OrgKind>().ok());
    for r in &parsed {
        match r {
            Role::Enterprise => {
                if ent.is_none() && enterprise_uscc.unwrap_or("").trim().is_empty() {
                    errs.push(
                        RuleViolation::new("required", "企业用户须绑定名录库中的企业（统一社会信用代码）")
                            .on_field("enterprise_uscc"),
                    );
                }
                if parsed.len() > 1 {
                    errs.push(
                        RuleViolation::new("role_mix", "企业用户不能同时拥有监管或检验机构的角色").on_field("roles"),
                    );
                }
            }
            Role::SystemAdmin | Role::SecurityAdmin | Role::AuditAdmin => {}
            other => match org_kind {
                Some(k) if other.fits_org(k) => {}
                Some(k) => errs.push(
                    RuleViolation::new("role_org_mismatch", format!("角色“{}”不能属于{}", other.label(), k.label()))
                        .on_field("roles"),
                ),
                None if org_code.unwrap_or("").trim().is_empty() => errs.push(
                    RuleViolation::new("required", format!("角色“{}”须指定所属机构", other.label()))
                        .on_field("org_code"),
                ),
                None => {}
            },
        }
    }
    // An account awaiting its roles may already be bound to its enterprise.
    if ent.is_some() && !parsed.is_empty() && !parsed.contains(&Role::Enterprise) {
        errs.push(RuleViolation::new("role_mix", "绑定企业的用户须为企业用户角色").on_field("roles"));
    }
    Ok((parsed, org.map(|o| o.id), ent.map(|e| e.id)))
}

fn role_codes(roles: &[Role]) -> Vec<String> {
    roles.iter().map(|r| r.as_str().to_string()).collect()
}

/// `must_change`: the password was set by an administrator, so it is changed at the first sign-in.
async fn insert_user(
    s: &Services,
    who: &AuditActor,
    input: NewUserInput,
    scope: Option<&Actor>,
    must_change: bool,
) -> Result<UserView> {
    let mut errs = Vec::new();
    let username = validate_username(&input.username).map_err(|e| errs.push(e)).ok();
    let display_name = input.display_name.trim().to_string();
    if display_name.is_empty() || display_name.chars().count() > 50 {
        errs.push(RuleViolation::new("required", "姓名不能为空且不超过50字").on_field("display_name"));
    }
    if let Err(e) = s.policy().check_password(&input.username, &input.password) {
        errs.push(e);
    }
    let (roles, org_id, enterprise_id) =
        resolve_membership(s, &input.roles, input.org_code.as_deref(), input.enterprise_uscc.as_deref(), &mut errs)
            .await?;
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    if let Some(actor) = scope {
        check_admin_scope(s, actor, org_id).await?;
    }
    let username = username.unwrap_or_default();
    if store_users::find_by_username(s.store.reader(), &username).await?.is_some() {
        return Err(ServiceError::Invalid(vec![
            RuleViolation::new("duplicate", format!("用户名“{username}”已被使用")).on_field("username"),
        ]));
    }
    let password_hash = hash_password(&input.password).await?;
    let tx = s.write(who).await?;
    let row = store_users::insert(
        &tx,
        NewUser {
            username: username.clone(),
            display_name,
            password_hash,
            org_id,
            enterprise_id,
            phone: personal::seal(s, input.phone.trim())?,
            id_card_no: personal::seal(s, input.id_card_no.trim())?,
            must_change_password: must_change,
        },
        &role_codes(&roles),
    )
    .await
    .map_err(|e| match e {
        StoreError::Duplicate(_) => ServiceError::Invalid(vec![
            RuleViolation::new("duplicate", format!("用户名“{username}”已被使用")).on_field("username"),
        ]),
        other => other.into(),
    })?;
    let after = json!({"username": row.username, "display_name": row.display_name, "roles": role_codes(&roles), "org_id": org_id, "enterprise_id": enterprise_id});
    tx.commit(AuditEntry::new("user.create", "user", row.id, json!(null), after)).await?;
    view(s, row).await
}

/// An admin creates a user.
#[tracing::instrument(skip_all)]
pub async fn create(s: &Services, actor: &Actor, input: NewUserInput) -> Result<UserView> {
    actor.require(Action::ManageUsers)?;
    if !input.roles.is_empty() {
        actor.require_or(
            Action::GrantRoles,
            "角色由安全管理员授予：系统管理员只建立账号，请留空角色后由安全管理员授权",
        )?;
    }
    insert_user(s, &actor.audit_actor(), input, Some(actor), true).await
}

/// Bootstrap of a new deployment from the CLI (`choucha user create`): whoever runs the binary on
/// the server is trusted; the audit record names the CLI.
pub async fn create_as_system(s: &Services, who: &str, input: NewUserInput) -> Result<UserView> {
    insert_user(s, &AuditActor::system(who), input, None, false).await
}

#[tracing::instrument(skip_all)]
pub async fn update(s: &Services, actor: &Actor, id: i64, input: UserUpdateInput) -> Result<UserView> {
    actor.require(Action::ManageUsers)?;
    let db = s.store.reader();
    let before_row = store_users::get(db, id).await.map_err(ServiceError::not_found("用户"))?;
    check_admin_scope(s, actor, before_row.org_id).await?;
    let before = view(s, before_row).await?;
    let mut errs = Vec::new();
    let display_name = input.display_name.trim().to_string();
    if display_name.is_empty() || display_name.chars().count() > 50 {
        errs.push(RuleViolation::new("required", "姓名不能为空且不超过50字").on_field("display_name"));
    }
    // The roles stay as granted; they must still fit the (new) organisation.
    let (_, org_id, enterprise_id) =
        resolve_membership(s, &before.roles, input.org_code.as_deref(), input.enterprise_uscc.as_deref(), &mut errs)
            .await?;
    if id == actor.user_id && !input.active {
        errs.push(RuleViolation::new("self_lockout", "不能停用自己的账号").on_field("active"));
    }
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    check_admin_scope(s, actor, org_id).await?;
    let tx = s.write(actor).await?;
    let row = store_users::update(
        &tx,
        id,
        UserPatch {
            display_name,
            org_id,
            enterprise_id,
            phone: personal::seal(s, input.phone.trim())?,
            id_card_no: personal::seal(s, input.id_card_no.trim())?,
            active: input.active,
        },
    )
    .await?;
    if !input.active {
        tokens::delete_for_user(&tx, id).await?;
    }
    let after = json!({"display_name": row.display_name, "org_id": org_id, "enterprise_id": enterprise_id, "active": row.active});
    tx.commit(AuditEntry::new("user.update", "user", id, json!({"display_name": before.display_name, "org_id": before.org_id, "enterprise_id": before.enterprise_id, "active": before.active}), after)).await?;
    view(s, row).await
}

/// The roles to grant a user, all at once (the ones missing are revoked).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct RolesInput {
    /// Role codes (see [`NewUserInput::roles`]); empty revokes every role.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// The security administrator grants and revokes a user's roles (三权分立). The roles must fit
/// the user's organisation, an administrator's account holds that one role only, and nobody
/// takes the security administrator's role from themselves. Audited with before and after.
#[tracing::instrument(skip_all)]
pub async fn set_roles(s: &Services, actor: &Actor, id: i64, input: RolesInput) -> Result<UserView> {
    actor.require(Action::GrantRoles)?;
    let row = store_users::get(s.store.reader(), id).await.map_err(ServiceError::not_found("用户"))?;
    check_admin_scope(s, actor, row.org_id).await?;
    let before = view(s, row).await?;
    let mut errs = Vec::new();
    let (roles, _, _) =
        resolve_membership(s, &input.roles, before.org_code.as_deref(), before.enterprise_uscc.as_deref(), &mut errs)
            .await?;
    if id == actor.user_id && !roles.contains(&Role::SecurityAdmin) {
        errs.push(RuleViolation::new("self_lockout", "不能取消自己的安全管理员角色").on_field("roles"));
    }
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    let codes = role_codes(&roles);
    let tx = s.write(actor).await?;
    store_users::set_roles(&tx, id, &codes).await?;
    // Whatever the user held in a token was granted under the old roles.
    tokens::delete_for_user(&tx, id).await?;
    tx.commit(AuditEntry::new("user.roles", "user", id, json!({"roles": before.roles}), json!({"roles": codes})))
        .await?;
    get(s, actor, id).await
}

/// An admin sets a new password for a user: the user must change it at the next sign-in, and
/// every session and API token of the user ends.
pub async fn reset_password(s: &Services, actor: &Actor, id: i64, new_password: &str) -> Result<()> {
    actor.require(Action::ManageUsers)?;
    let u = store_users::get(s.store.reader(), id).await.map_err(ServiceError::not_found("用户"))?;
    check_admin_scope(s, actor, u.org_id).await?;
    let hash = passwords::new_hash(s, &u, new_password, "password").await?;
    let tx = s.write(actor).await?;
    passwords::replace(s, &tx, &u, hash, true).await?;
    tx.commit(AuditEntry::new("user.password_reset", "user", id, json!(null), json!({"must_change_password": true})))
        .await?;
    Ok(())
}

/// A user changes their own password; every session and API token of the user ends (they sign in
/// again with the new password).
pub async fn change_own_password(s: &Services, actor: &Actor, old: &str, new: &str) -> Result<()> {
    let u = store_users::get(s.store.reader(), actor.user_id).await?;
    if !verify_password(old, &u.password_hash).await? {
        return Err(ServiceError::Invalid(vec![
            RuleViolation::new("bad_password", "原密码不正确").on_field("old_password"),
        ]));
    }
    if old == new {
        return Err(ServiceError::invalid(
            RuleViolation::new("same_password", "新密码不能与原密码相同").on_field("new_password"),
        ));
    }
    let hash = passwords::new_hash(s, &u, new, "new_password").await?;
    let tx = s.write(actor).await?;
    passwords::replace(s, &tx, &u, hash, false).await?;
    tx.commit(AuditEntry::new("user.password_change", "user", actor.user_id, json!(null), json!(null))).await?;
    Ok(())
}

pub async fn get(s: &Services, actor: &Actor, id: i64) -> Result<UserView> {
    if id != actor.user_id {
        actor.require(Action::ViewUsers)?;
    }
    let u = store_users::get(s.store.reader(), id).await.map_err(ServiceError::not_found("用户"))?;
    if id != actor.user_id {
        check_admin_scope(s, actor, u.org_id).await?;
    }
    view(s, u).await
}

pub async fn list(
    s: &Services,
    actor: &Actor,
    f: &UserFilter,
    after: Option<i64>,
    limit: Option<u64>,
) -> Result<Page<UserView>> {
    actor.require(Action::ViewUsers)?;
    let mut filter = f.clone();
    // A scoped admin lists its own organisation's users.
    if let Some(mine) = actor.org_id {
        match filter.org_id {
            Some(o) => check_admin_scope(s, actor, Some(o)).await?,
            None => filter.org_id = Some(mine),
        }
    }
    let p = store_users::list(s.store.reader(), &filter, after, page_limit(limit)?).await?;
    let mut items = Vec::with_capacity(p.items.len());
    for u in p.items {
        let mut v = view(s, u).await?;
        // Lists show personal numbers masked; the user's own page shows them whole to who edits it.
        v.phone = personal::mask_phone(&v.phone);
        v.id_card_no = personal::mask_id(&v.id_card_no);
        items.push(v);
    }
    Ok(Page { items, next: p.next })
}
