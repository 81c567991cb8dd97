//! Organisation administration pages: the list (`/admin/orgs`, bureaus indented under their level,
//! with parent, division code, qualification number and capabilities), creation
//! (`/admin/orgs/new`) and editing (`/admin/orgs/{id}`).

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::Query;
use axum::response::Response;
use axum::routing::get;
use choucha_domain::access::Action;
use choucha_domain::organisation::OrgKind;
use choucha_service::organisations::OrgFilter;
use choucha_service::organisations::{self, OrgInput, OrgView};
use choucha_service::{Actor, Services};
use serde::Deserialize;
use tower_sessions::Session;

use crate::AppState;
use crate::auth::Page;
use crate::error::{PageError, PageForm, PageResult};
use crate::extract::PagePath;
#[allow(unused_imports)]
use crate::filters;
use crate::pages::respond::saved_or_again;
use crate::pages::users::{Choice, FieldErrors, FormData, OrgOption, org_options, query_string};
use crate::pages::{Chrome, chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/orgs", get(list_page))
        .route("/admin/orgs/new", get(new_page).post(create_submit))
        .route("/admin/orgs/{id}", get(edit_page).post(update_submit))
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    capability: Option<String>,
    #[serde(default)]
    after: Option<String>,
}

/// One row of the list.
pub struct OrgRow {
    pub o: OrgView,
    pub parent_name: String,
    pub parent_code: String,
    /// Level in the bureau tree (province 0, city 1, county 2), for indentation.
    pub indent: u8,
    pub capabilities: Vec<&'static str>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/orgs.html")]
pub struct OrgsPage {
    pub chrome: Chrome,
    pub rows: Vec<OrgRow>,
    pub q: String,
    pub parent: String,
    pub parent_name: Option<String>,
    pub kinds: Vec<Choice>,
    pub capabilities: Vec<Choice>,
    pub orgs: Vec<OrgOption>,
    pub errors: FieldErrors,
    pub can_edit: bool,
    pub next_href: Option<String>,
    pub first_href: Option<String>,
}

fn kind_choices(selected: &str) -> Vec<Choice> {
    OrgKind::ALL
        .into_iter()
        .map(|k| Choice { value: k.as_str(), label: k.label(), checked: k.as_str() == selected })
        .collect()
}

fn capability_choices(selected: &str) -> Vec<Choice> {
    [("sampling", "抽样"), ("testing", "检验"), ("screening", "快速筛查")]
        .into_iter()
        .map(|(v, l)| Choice { value: v, label: l, checked: v == selected })
        .collect()
}

fn indent_of(kind: &str) -> u8 {
    match kind.parse::<OrgKind>() {
        Ok(OrgKind::CityBureau) => 1,
        Ok(OrgKind::LocalBureau) => 2,
        _ => 0,
    }
}

async fn rows_of(s: &Services, actor: &Actor, items: Vec<OrgView>) -> Vec<OrgRow> {
    let mut parents: BTreeMap<i64, (String, String)> = BTreeMap::new();
    for id in items.iter().filter_map(|o| o.parent_id) {
        if parents.contains_key(&id) {
            continue;
        }
        if let Ok(p) = organisations::get(s, actor, id).await {
            parents.insert(id, (p.name, p.code));
        }
    }
    items
        .into_iter()
        .map(|o| {
            let (parent_name, parent_code) = o.parent_id.and_then(|id| parents.get(&id).cloned()).unwrap_or_default();
            let mut capabilities = Vec::new();
            if o.cap_sampling {
                capabilities.push("抽样");
            }
            if o.cap_testing {
                capabilities.push("检验");
            }
            if o.cap_screening {
                capabilities.push("快速筛查");
            }
            OrgRow { indent: indent_of(&o.kind), o, parent_name, parent_code, capabilities }
        })
        .collect()
}

async fn list_page(Page { state, session, actor }: Page, Query(q): Query<ListQuery>) -> PageResult<OrgsPage> {
    let s = &state.services;
    let mut errors = FieldErrors::default();
    let parent_code = q.parent.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let parent = match parent_code {
        None => None,
        Some(code) => {
            let p = organisations::get_by_code(s, code).await?;
            if p.is_none() {
                errors.add("parent", &format!("上级机构“{code}”不存在"));
            }
            p
        }
    };
    let after = q.after.as_deref().and_then(|a| a.trim().parse::<i64>().ok());
    let filter = OrgFilter {
        kind: q.kind.clone(),
        parent_id: parent.as_ref().map(|p| p.id),
        q: q.q.clone(),
        capability: q.capability.clone(),
    };
    let (items, next) = if errors.is_empty() {
        let page = organisations::list(s, &actor, &filter, after, None).await?;
        (page.items, page.next)
    } else {
        (Vec::new(), None)
    };
    let base = [
        ("q", q.q.as_deref()),
        ("kind", q.kind.as_deref()),
        ("parent", parent_code),
        ("capability", q.capability.as_deref()),
    ];
    let next_href = next.map(|n| {
        let mut pairs = base.to_vec();
        pairs.push(("after", Some(n.as_str())));
        format!("/admin/orgs{}", query_string(&pairs))
    });
    let first_href = after.map(|_| format!("/admin/orgs{}", query_string(&base)));
    Ok(OrgsPage {
        rows: rows_of(s, &actor, items).await,
        q: q.q.clone().unwrap_or_default(),
        parent: parent_code.unwrap_or_default().to_string(),
        parent_name: parent.map(|p| p.name),
        kinds: kind_choices(q.kind.as_deref().unwrap_or("")),
        capabilities: capability_choices(q.capability.as_deref().unwrap_or("")),
        orgs: org_options(s, &actor).await,
        errors,
        can_edit: actor.may(Action::ManageOrganisations),
        next_href,
        first_href,
        chrome: chrome(&session, Some(&actor), "orgs").await,
    })
}

/// What the organisation form holds, as typed.
#[derive(Debug, Default)]
pub struct OrgFormValues {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_code: String,
    pub division_code: String,
    pub qualification_no: String,
    pub cap_sampling: bool,
    pub cap_testing: bool,
    pub cap_screening: bool,
    pub address: String,
    pub phone: String,
    pub active: bool,
}

impl OrgFormValues {
    fn from_form(f: &FormData, editing: bool) -> Self {
        OrgFormValues {
            code: f.get("code"),
            name: f.get("name"),
            kind: f.get("kind"),
            parent_code: f.get("parent_code"),
            division_code: f.get("division_code"),
            qualification_no: f.get("qualification_no"),
            cap_sampling: f.checked("cap_sampling"),
            cap_testing: f.checked("cap_testing"),
            cap_screening: f.checked("cap_screening"),
            address: f.get("address"),
            phone: f.get("phone"),
            // The creation form has no "active" box: a new organisation is active.
            active: !editing || f.checked("active"),
        }
    }

    fn input(&self) -> OrgInput {
        let opt = |s: &str| {
            if s.trim().is_empty() { None } else { Some(s.to_string()) }
        };
        OrgInput {
            code: self.code.clone(),
            name: self.name.clone(),
            kind: self.kind.clone(),
            parent_code: opt(&self.parent_code),
            division_code: opt(&self.division_code),
            qualification_no: opt(&self.qualification_no),
            cap_sampling: self.cap_sampling,
            cap_testing: self.cap_testing,
            cap_screening: self.cap_screening,
            address: self.address.clone(),
            phone: self.phone.clone(),
            active: self.active,
        }
    }

    async fn from_view(s: &Services, actor: &Actor, o: &OrgView) -> Self {
        let parent_code = match o.parent_id {
            Some(id) => organisations::get(s, actor, id).await.map(|p| p.code).unwrap_or_default(),
            None => String::new(),
        };
        OrgFormValues {
            code: o.code.clone(),
            name: o.name.clone(),
            kind: o.kind.clone(),
            parent_code,
            division_code: o.division_code.clone().unwrap_or_default(),
            qualification_no: o.qualification_no.clone().unwrap_or_default(),
            cap_sampling: o.cap_sampling,
            cap_testing: o.cap_testing,
            cap_screening: o.cap_screening,
            address: o.address.clone(),
            phone: o.phone.clone(),
            active: o.active,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/org_form.html")]
pub struct OrgFormPage {
    pub chrome: Chrome,
    pub editing: Option<OrgView>,
    pub v: OrgFormValues,
    pub kinds: Vec<Choice>,
    pub orgs: Vec<OrgOption>,
    pub errors: FieldErrors,
}

impl OrgFormPage {
    pub fn action(&self) -> String {
        match &self.editing {
            Some(o) => format!("/admin/orgs/{}", o.id),
            None => "/admin/orgs/new".to_string(),
        }
    }
}

async fn form_page(
    s: &Services,
    session: &Session,
    actor: &Actor,
    editing: Option<OrgView>,
    v: OrgFormValues,
    errors: FieldErrors,
) -> OrgFormPage {
    OrgFormPage {
        kinds: kind_choices(&v.kind),
        v,
        editing,
        orgs: org_options(s, actor).await,
        errors,
        chrome: chrome(session, Some(actor), "orgs").await,
    }
}

async fn new_page(Page { state, session, actor }: Page) -> PageResult<OrgFormPage> {
    actor.require(Action::ManageOrganisations)?;
    let v = OrgFormValues { active: true, ..Default::default() };
    Ok(form_page(&state.services, &session, &actor, None, v, FieldErrors::default()).await)
}

async fn create_submit(
    Page { state, session, actor }: Page,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Response {
    let s = &state.services;
    let v = OrgFormValues::from_form(&FormData(pairs), false);
    let created = organisations::create(s, &actor, v.input()).await;
    let (session, actor) = (&session, &actor);
    saved_or_again(
        session,
        created,
        |o| ("/admin/orgs".into(), format!("已新建机构“{}”", o.name)),
        |errors| async move { Ok::<_, PageError>(form_page(s, session, actor, None, v, errors).await) },
    )
    .await
}

async fn edit_page(Page { state, session, actor }: Page, PagePath(id): PagePath<i64>) -> PageResult<OrgFormPage> {
    let s = &state.services;
    actor.require(Action::ManageOrganisations)?;
    let o = organisations::get(s, &actor, id).await?;
    let v = OrgFormValues::from_view(s, &actor, &o).await;
    Ok(form_page(s, &session, &actor, Some(o), v, FieldErrors::default()).await)
}

async fn update_submit(
    Page { state, session, actor }: Page,
    PagePath(id): PagePath<i64>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Response {
    let s = &state.services;
    let v = OrgFormValues::from_form(&FormData(pairs), true);
    let updated = organisations::update(s, &actor, id, v.input()).await;
    let (session, actor) = (&session, &actor);
    saved_or_again(
        session,
        updated,
        |o| (format!("/admin/orgs/{id}"), format!("已保存机构“{}”", o.name)),
        |errors| async move {
            let current = organisations::get(s, actor, id).await?;
            Ok::<_, PageError>(form_page(s, session, actor, Some(current), v, errors).await)
        },
    )
    .await
}
