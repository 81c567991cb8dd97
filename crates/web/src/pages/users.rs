//! User administration pages: the list with search and filters (`/admin/users`), creation
//! (`/admin/users/new`), editing, password reset and lifting a sign-in lock (`/admin/users/{id}`).
//!
//! Also home of the small form helpers the other admin pages share: [`FormData`] (urlencoded
//! pairs, so repeated keys such as several role checkboxes survive) and [`FieldErrors`] (the
//! per-field Chinese messages of a 422, shown next to each input and summarised at the top).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::Query;
use axum::response::Response;
use axum::routing::{get, post};
use choucha_domain::access::Action;
use choucha_domain::role::Role;
use choucha_service::organisations;
use choucha_service::organisations::OrgFilter;
use choucha_service::users::UserFilter;
use choucha_service::users::{self, NewUserInput, RolesInput, UserUpdateInput, UserView};
use choucha_service::{Actor, ServiceError, Services, auth};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::AppState;
use crate::auth::Page;
use crate::client::ClientInfo;
use crate::error::{PageError, PageForm, PageResult};
use crate::extract::PagePath;
use crate::pages::respond::{done, saved_or_again};
use crate::pages::{Chrome, chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list_page))
        .route("/admin/users/new", get(new_page).post(create_submit))
        .route("/admin/users/{id}", get(edit_page).post(update_submit))
        .route("/admin/users/{id}/password", post(reset_submit))
        .route("/admin/users/{id}/roles", post(roles_submit))
        .route("/admin/users/{id}/unlock", post(unlock_submit))
        .route("/admin/users/{id}/second-factor/reset", post(second_factor_reset_submit))
}

// ---------------------------------------------------------------------------------------------
// Form helpers shared by the admin, account, calendar and document pages.

/// A submitted urlencoded form as its pairs, in order.
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    /// The first value of `key`, trimmed of nothing (an absent key is empty).
    pub fn get(&self, key: &str) -> String {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    /// The value of `key`, `None` when absent or blank.
    pub fn opt(&self, key: &str) -> Option<String> {
        let v = self.get(key);
        if v.trim().is_empty() { None } else { Some(v) }
    }

    /// Every value of a repeated key (checkboxes).
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect()
    }

    /// Whether a checkbox was ticked.
    pub fn checked(&self, key: &str) -> bool {
        self.0.iter().any(|(k, v)| k == key && !v.is_empty() && v != "false")
    }
}

/// The problems of invalid input, by field, for a form to show.
#[derive(Debug, Default)]
pub struct FieldErrors {
    by_field: Vec<(String, String)>,
    /// Every message, for the summary at the top of the form.
    pub all: Vec<String>,
}

impl FieldErrors {
    /// The field errors of `e`, or `e` itself when it is not invalid input (the page shows an
    /// error page then).
    pub fn from_service(e: ServiceError) -> Result<FieldErrors, ServiceError> {
        match e {
            ServiceError::Invalid(v) => {
                let mut f = FieldErrors::default();
                for x in v {
                    f.add(x.field.as_deref().unwrap_or(""), &x.message);
                }
                Ok(f)
            }
            other => Err(other),
        }
    }

    /// Like [`FieldErrors::from_service`], but a refusal a form shows (a rule, a conflict, a duplicate)
    /// is a message for the whole form.
    pub fn from_refusal(e: ServiceError) -> Result<FieldErrors, ServiceError> {
        match FieldErrors::from_service(e) {
            Err(e) if crate::pages::respond::shown_on_page(&e) => {
                let mut f = FieldErrors::default();
                f.add("", &crate::error::body_of(&e).message);
                Ok(f)
            }
            other => other,
        }
    }

    pub fn add(&mut self, field: &str, message: &str) {
        self.by_field.push((field.to_string(), message.to_string()));
        self.all.push(message.to_string());
    }

    /// Move the messages of field `from` to field `to` (a service field named differently on a form).
    pub fn rename(mut self, from: &str, to: &str) -> Self {
        for (f, _) in &mut self.by_field {
            if f == from {
                *f = to.to_string();
            }
        }
        self
    }

    /// The messages of one field, joined.
    pub fn get(&self, field: &str) -> Option<String> {
        let msgs: Vec<&str> = self.by_field.iter().filter(|(f, _)| f == field).map(|(_, m)| m.as_str()).collect();
        if msgs.is_empty() { None } else { Some(msgs.join("；")) }
    }

    pub fn has(&self, field: &str) -> bool {
        self.by_field.iter().any(|(f, _)| f == field)
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }
}

/// A checkbox or option of a form.
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

/// An organisation offered in a form's list (datalist).
pub struct OrgOption {
    pub code: String,
    pub name: String,
}

/// The first page of organisations for a form's suggestions; longer lists are typed by code.
pub async fn org_options(s: &Services, actor: &Actor) -> Vec<OrgOption> {
    match organisations::list(s, actor, &OrgFilter::default(), None, Some(200)).await {
        Ok(p) => p.items.into_iter().map(|o| OrgOption { code: o.code, name: o.name }).collect(),
        Err(_) => Vec::new(),
    }
}

/// A query string (`?a=1&b=2`) of the non-empty pairs.
pub fn query_string(pairs: &[(&str, Option<&str>)]) -> String {
    let kept: Vec<(&str, &str)> =
        pairs.iter().filter_map(|(k, v)| v.map(str::trim).filter(|v| !v.is_empty()).map(|v| (*k, v))).collect();
    match serde_urlencoded::to_string(&kept) {
        Ok(q) if !q.is_empty() => format!("?{q}"),
        _ => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// The list.

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct ListQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    org: Option<String>,
    #[serde(default)]
    after: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    pub chrome: Chrome,
    pub users: Vec<UserView>,
    pub q: String,
    pub org: String,
    pub roles: Vec<Choice>,
    pub orgs: Vec<OrgOption>,
    pub errors: FieldErrors,
    pub next_href: Option<String>,
    pub first_href: Option<String>,
    /// The system administrator creates accounts.
    pub can_manage: bool,
}

fn role_choices(selected: &[String]) -> Vec<Choice> {
    Role::ALL
        .into_iter()
        .map(|r| Choice { value: r.as_str(), label: r.label(), checked: selected.iter().any(|s| s == r.as_str()) })
        .collect()
}

async fn list_page(Page { state, session, actor }: Page, Query(q): Query<ListQuery>) -> PageResult<UsersPage> {
    let s = &state.services;
    let mut errors = FieldErrors::default();
    let org_code = q.org.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let org_id = match org_code {
        None => None,
        Some(code) => match organisations::get_by_code(s, code).await? {
            Some(o) => Some(o.id),
            None => {
                errors.add("org", &format!("机构“{code}”不存在"));
                None
            }
        },
    };
    let after = q.after.as_deref().and_then(|a| a.trim().parse::<i64>().ok());
    let filter = UserFilter { org_id, role: q.role.clone(), q: q.q.clone() };
    let (users, next) = if errors.is_empty() {
        let page = users::list(s, &actor, &filter, after, None).await?;
        (page.items, page.next)
    } else {
        // Still refuse non-admins before saying anything about organisations.
        actor.require(Action::ViewUsers)?;
        (Vec::new(), None)
    };
    let base = [("q", q.q.as_deref()), ("role", q.role.as_deref()), ("org", org_code)];
    let next_href = next.map(|n| {
        let mut pairs = base.to_vec();
        pairs.push(("after", Some(n.as_str())));
        format!("/admin/users{}", query_string(&pairs))
    });
    let first_href = after.map(|_| format!("/admin/users{}", query_string(&base)));
    Ok(UsersPage {
        users,
        q: q.q.unwrap_or_default(),
        org: org_code.unwrap_or_default().to_string(),
        roles: role_choices(q.role.as_slice()),
        orgs: org_options(s, &actor).await,
        errors,
        next_href,
        first_href,
        can_manage: actor.may(Action::ManageUsers),
        chrome: chrome(&session, Some(&actor), "users").await,
    })
}

// ---------------------------------------------------------------------------------------------
// Create and edit.

/// What the user form holds, as typed.
#[derive(Debug, Default)]
pub struct UserFormValues {
    pub username: String,
    pub display_name: String,
    pub org_code: String,
    pub enterprise_uscc: String,
    pub phone: String,
    pub id_card_no: String,
    pub active: bool,
    pub roles: Vec<String>,
}

impl UserFormValues {
    fn from_form(f: &FormData) -> Self {
        UserFormValues {
            username: f.get("username"),
            display_name: f.get("display_name"),
            org_code: f.get("org_code"),
            enterprise_uscc: f.get("enterprise_uscc"),
            phone: f.get("phone"),
            id_card_no: f.get("id_card_no"),
            active: f.checked("active"),
            roles: f.all("roles"),
        }
    }

    fn from_view(u: &UserView) -> Self {
        UserFormValues {
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            org_code: u.org_code.clone().unwrap_or_default(),
            enterprise_uscc: u.enterprise_uscc.clone().unwrap_or_default(),
            phone: u.phone.clone(),
            id_card_no: u.id_card_no.clone(),
            active: u.active,
            roles: u.roles.clone(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/user_form.html")]
pub struct UserFormPage {
    pub chrome: Chrome,
    /// The user being edited; `None` on the creation form.
    pub editing: Option<UserView>,
    pub v: UserFormValues,
    pub roles: Vec<Choice>,
    pub orgs: Vec<OrgOption>,
    pub errors: FieldErrors,
    /// Errors of the password reset form (edit page only).
    pub reset_errors: FieldErrors,
    /// Whether the caller may lift a sign-in lock, and the edited user's lock (Beijing time).
    pub may_unlock: bool,
    pub locked_until: Option<String>,
    /// For the security administrator: whether the edited user has a second factor (to reset).
    pub second_factor: Option<bool>,
    /// Errors of the roles form (edit page only).
    pub role_errors: FieldErrors,
    /// The system administrator: the account's details and password.
    pub can_manage: bool,
    /// The security administrator: the roles (三权分立).
    pub can_grant: bool,
}

/// The errors of the three forms of the user page; only one holds any at a time.
#[derive(Default)]
pub struct UserFormErrors {
    pub account: FieldErrors,
    pub reset: FieldErrors,
    pub roles: FieldErrors,
}

impl UserFormPage {
    pub fn action(&self) -> String {
        match &self.editing {
            Some(u) => format!("/admin/users/{}", u.id),
            None => "/admin/users/new".to_string(),
        }
    }
}

async fn form_page(
    s: &Services,
    session: &Session,
    actor: &Actor,
    editing: Option<UserView>,
    v: UserFormValues,
    errors: UserFormErrors,
) -> UserFormPage {
    let may_unlock = actor.may(Action::UnlockAccount);
    let locked_until = match &editing {
        Some(u) if may_unlock => {
            auth::lockout::locked_until(s, u.id).await.ok().flatten().map(choucha_domain::clock::beijing_minutes)
        }
        _ => None,
    };
    let second_factor = match &editing {
        Some(u) if actor.may(Action::ResetSecondFactor) => choucha_service::second_factor::enrolled(s, u.id).await.ok(),
        _ => None,
    };
    UserFormPage {
        may_unlock,
        locked_until,
        second_factor,
        roles: role_choices(&v.roles),
        v,
        editing,
        orgs: org_options(s, actor).await,
        errors: errors.account,
        reset_errors: errors.reset,
        role_errors: errors.roles,
        can_manage: actor.may(Action::ManageUsers),
        can_grant: actor.may(Action::GrantRoles),
        chrome: chrome(session, Some(actor), "users").await,
    }
}

async fn new_page(Page { state, session, actor }: Page) -> PageResult<UserFormPage> {
    actor.require(Action::ManageUsers)?;
    let v = UserFormValues { active: true, ..Default::default() };
    Ok(form_page(&state.services, &session, &actor, None, v, UserFormErrors::default()).await)
}

async fn create_submit(
    Page { state, session, actor }: Page,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Response {
    let s = &state.services;
    let f = FormData(pairs);
    let input = NewUserInput {
        username: f.get("username"),
        display_name: f.get("display_name"),
        password: f.get("password"),
        roles: f.all("roles"),
        org_code: f.opt("org_code"),
        enterprise_uscc: f.opt("enterprise_uscc"),
        phone: f.get("phone"),
        id_card_no: f.get("id_card_no"),
    };
    let created = users::create(s, &actor, input).await;
    let (session, actor) = (&session, &actor);
    saved_or_again(
        session,
        created,
        |u| ("/admin/users".into(), format!("已新建用户“{}”（{}）", u.display_name, u.username)),
        |errors| async move {
            let v = UserFormValues { active: true, ..UserFormValues::from_form(&f) };
            let errors = UserFormErrors { account: errors, ..Default::default() };
            Ok::<_, PageError>(form_page(s, session, actor, None, v, errors).await)
        },
    )
    .await
}

async fn edit_page(Page { state, session, actor }: Page, PagePath(id): PagePath<i64>) -> PageResult<UserFormPage> {
    let s = &state.services;
    let u = users::get(s, &actor, id).await?;
    // A user may read their own record through the use case; the page is the administrators'.
    actor.require(Action::ViewUsers)?;
    let v = UserFormValues::from_view(&u);
    Ok(form_page(s, &session, &actor, Some(u), v, UserFormErrors::default()).await)
}

async fn update_submit(
    Page { state, session, actor }: Page,
    PagePath(id): PagePath<i64>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Response {
    let s = &state.services;
    let f = FormData(pairs);
    let input = UserUpdateInput {
        display_name: f.get("display_name"),
        org_code: f.opt("org_code"),
        enterprise_uscc: f.opt("enterprise_uscc"),
        phone: f.get("phone"),
        id_card_no: f.get("id_card_no"),
        active: f.checked("active"),
    };
    let updated = users::update(s, &actor, id, input).await;
    let (session, actor) = (&session, &actor);
    saved_or_again(
        session,
        updated,
        |u| (format!("/admin/users/{id}"), format!("已保存用户“{}”（{}）", u.display_name, u.username)),
        |account| {
            let values = |c: &UserView| UserFormValues {
                username: c.username.clone(),
                roles: c.roles.clone(),
                ..UserFormValues::from_form(&f)
            };
            form_again(s, session, actor, id, values, UserFormErrors { account, ..Default::default() })
        },
    )
    .await
}

async fn reset_submit(
    Page { state, session, actor }: Page,
    PagePath(id): PagePath<i64>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Response {
    let s = &state.services;
    let f = FormData(pairs);
    let password = f.get("password");
    let confirm = f.get("password_confirm");
    let result = if password != confirm {
        Err(ServiceError::invalid(
            choucha_domain::RuleViolation::new("mismatch", "两次输入的新密码不一致").on_field("password_confirm"),
        ))
    } else {
        users::reset_password(s, &actor, id, &password).await
    };
    let (session, actor) = (&session, &actor);
    saved_or_again(
        session,
        result,
        |()| {
            let message = "密码已重置，该用户的 API 令牌已全部失效。请将新密码当面或通过安全渠道告知本人。";
            (format!("/admin/users/{id}"), message)
        },
        |reset| {
            form_again(s, session, actor, id, UserFormValues::from_view, UserFormErrors { reset, ..Default::default() })
        },
    )
    .await
}

/// The security administrator grants and revokes roles (the ticked ones are the user's roles).
async fn roles_submit(
    Page { state, session, actor }: Page,
    PagePath(id): PagePath<i64>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Response {
    let s = &state.services;
    let roles = FormData(pairs).all("roles");
    let result = users::set_roles(s, &actor, id, RolesInput { roles: roles.clone() }).await;
    let (session, actor) = (&session, &actor);
    saved_or_again(
        session,
        result,
        |u| {
            (
                format!("/admin/users/{id}"),
                format!("已更新“{}”的角色：{}", u.display_name, none_if_empty(&u.role_labels)),
            )
        },
        |errors| {
            let values = |c: &UserView| UserFormValues { roles, ..UserFormValues::from_view(c) };
            form_again(s, session, actor, id, values, UserFormErrors { roles: errors, ..Default::default() })
        },
    )
    .await
}

/// The user's form again after a refused change: the stored user, the values to show and the errors.
async fn form_again(
    s: &Services,
    session: &Session,
    actor: &Actor,
    id: i64,
    values: impl FnOnce(&UserView) -> UserFormValues,
    errors: UserFormErrors,
) -> Result<UserFormPage, PageError> {
    let current = users::get(s, actor, id).await?;
    let v = values(&current);
    Ok(form_page(s, session, actor, Some(current), v, errors).await)
}

fn none_if_empty(labels: &str) -> &str {
    if labels.is_empty() { "（无）" } else { labels }
}

async fn unlock_submit(
    Page { state, session, actor }: Page,
    ClientInfo(client): ClientInfo,
    PagePath(id): PagePath<i64>,
) -> PageResult<Response> {
    let result = auth::lockout::unlock(&state.services, &actor, id, &client).await;
    done(&session, result, &format!("/admin/users/{id}"), |()| "已解锁该账号，其登录失败次数已清零").await
}

async fn second_factor_reset_submit(
    Page { state, session, actor }: Page,
    PagePath(id): PagePath<i64>,
) -> PageResult<Response> {
    let result = choucha_service::second_factor::reset(&state.services, &actor, id).await;
    done(&session, result, &format!("/admin/users/{id}"), |()| "已重置该用户的动态验证码，其下次登录时须重新绑定").await
}
