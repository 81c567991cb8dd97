//! Public pages, no sign-in (一公开): issued plans with their Annex 1 table, published implementation
//! rules, and published draws with a 复核 button that re-runs the draw from its record. Drafts,
//! unpublished rules and unpublished draws are "not found" here. No session is created for a
//! visitor: these pages carry no form that changes anything.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use choucha_domain::announcement::AnnouncementState;
use choucha_domain::plan::PlanState;
use choucha_service::draws::{self, DrawVerification};
use choucha_service::implementation_rules::{self as irules, RulesView};
use choucha_service::plans::{self, PlanSummary, PlanView};
use serde::Deserialize;

use crate::AppState;
use crate::error::PageResult;
use crate::extract::PagePath;
use crate::filters;
use crate::pages::Chrome;
use crate::pages::draws::{ExclusionLine, FilterLine, exclusion_lines, filter_lines};
use crate::pages::implementation_rules::BodyDisplay;
use crate::pages::plans::{Annex1Line, annex1_lines, id_of, plan_badge};
use crate::pages::users::query_string;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/public", get(index))
        .route("/public/plans/{id}", get(plan))
        .route("/public/rules/{item_id}", get(rules))
        .route("/public/draws/{id}", get(draw))
        .route("/public/announcements", get(announcements))
        .route("/public/announcements/{id}", get(announcement))
        .route("/public/announcements/{id}/pdf", get(announcement_pdf))
}

/// The page frame of a visitor: no user, no navigation, no session.
pub(crate) fn public_chrome() -> Chrome {
    Chrome {
        user: None,
        csrf: String::new(),
        nav: Vec::new(),
        active: "public",
        flash: None,
        training_today: crate::pages::training_today(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CursorQuery {
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "public/index.html")]
pub struct IndexPage {
    pub chrome: Chrome,
    pub plans: Vec<PlanSummary>,
    pub next_href: Option<String>,
    pub first_href: Option<String>,
}

async fn index(State(state): State<AppState>, Query(q): Query<CursorQuery>) -> PageResult<IndexPage> {
    let cursor = q.cursor.as_deref().and_then(|c| c.trim().parse::<i64>().ok());
    let page = plans::list_public(&state.services, cursor, Some(50)).await?;
    Ok(IndexPage {
        plans: page.items,
        next_href: page.next.map(|c| format!("/public{}", query_string(&[("cursor", Some(c.as_str()))]))),
        first_href: cursor.map(|_| "/public".to_string()),
        chrome: public_chrome(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "public/plan.html")]
pub struct PlanPage {
    pub chrome: Chrome,
    pub plan: PlanView,
    pub lines: Vec<Annex1Line>,
    pub badge: &'static str,
    /// The plan's published draws (一公开).
    pub draws: Vec<choucha_service::draws::PublicDrawView>,
    /// Every seed commitment of the plan's items, used or not.
    pub commitments: Vec<choucha_service::draws::SeedCommitmentView>,
}

async fn plan(State(state): State<AppState>, PagePath(id): PagePath<String>) -> PageResult<PlanPage> {
    let plan = plans::get_public(&state.services, id_of(&id, "计划")?).await?;
    let draws = choucha_service::draws::published_for_plan(&state.services, plan.id).await?;
    let commitments = choucha_service::draws::commitments_of_plan(&state.services, plan.id).await?;
    Ok(PlanPage {
        lines: annex1_lines(&plan.items),
        badge: plan_badge(&plan.state),
        plan,
        draws,
        commitments,
        chrome: public_chrome(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "public/rules.html")]
pub struct RulesPage {
    pub chrome: Chrome,
    pub r: RulesView,
    pub b: BodyDisplay,
}

async fn rules(State(state): State<AppState>, PagePath(item_id): PagePath<String>) -> PageResult<RulesPage> {
    let r = irules::get_published(&state.services, id_of(&item_id, "已公开的实施细则")?).await?;
    Ok(RulesPage { b: BodyDisplay::of(&r.body), r, chrome: public_chrome() })
}

#[derive(Debug, Default, Deserialize)]
pub struct VerifyQuery {
    #[serde(default)]
    verify: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "public/draw.html")]
pub struct DrawPage {
    pub chrome: Chrome,
    pub d: choucha_service::draws::PublicDrawView,
    pub at: chrono::DateTime<chrono::Utc>,
    pub filters: Vec<FilterLine>,
    pub exclusions: Vec<ExclusionLine>,
    pub verification: Option<DrawVerification>,
    /// The record's files for a re-run without Choucha.
    pub files: [(&'static str, &'static str); 4],
}

/// A published draw; `?verify=1` re-runs it from its record (reading only, so a plain link).
async fn draw(
    State(state): State<AppState>,
    PagePath(id): PagePath<String>,
    Query(q): Query<VerifyQuery>,
) -> PageResult<DrawPage> {
    let s = &state.services;
    let id = id_of(&id, "抽取记录")?;
    let d = draws::get_published(s, id).await?;
    let verification = if q.verify.is_some_and(|v| !v.is_empty()) { Some(draws::verify(s, id).await?) } else { None };
    Ok(DrawPage {
        at: d.created_at,
        filters: filter_lines(&d.filters),
        exclusions: exclusion_lines(&d.exclusions),
        d,
        verification,
        files: crate::pages::draw_record::FILES,
        chrome: public_chrome(),
    })
}

pub struct AnnouncementLine {
    pub id: i64,
    pub title: String,
    pub organising_bureau: String,
    pub published: Option<chrono::DateTime<chrono::Utc>>,
    pub state: AnnouncementState,
    pub state_label: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "public/announcements.html")]
pub struct AnnouncementsPage {
    pub chrome: Chrome,
    pub items: Vec<AnnouncementLine>,
    pub next_href: Option<String>,
    pub first_href: Option<String>,
}

/// Published result announcements (结果公告), newest first; corrected and withdrawn ones stay listed.
async fn announcements(State(state): State<AppState>, Query(q): Query<CursorQuery>) -> PageResult<AnnouncementsPage> {
    let cursor = q.cursor.as_deref().and_then(|c| c.trim().parse::<i64>().ok());
    let page = choucha_service::announcements::list_public(&state.services, cursor, Some(50)).await?;
    Ok(AnnouncementsPage {
        items: page
            .items
            .into_iter()
            .map(|a| AnnouncementLine {
                id: a.id,
                title: a.title,
                organising_bureau: a.organising_bureau,
                published: a.published_at,
                state: a.state,
                state_label: a.state_label,
            })
            .collect(),
        next_href: page.next.map(|c| format!("/public/announcements{}", query_string(&[("cursor", Some(c.as_str()))]))),
        first_href: cursor.map(|_| "/public/announcements".to_string()),
        chrome: public_chrome(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "public/announcement.html")]
pub struct AnnouncementPage {
    pub chrome: Chrome,
    pub a: choucha_service::announcements::PublicAnnouncement,
    pub paragraphs: Vec<String>,
}

/// A published announcement: its frozen content, and its withdrawal or correction if any.
async fn announcement(State(state): State<AppState>, PagePath(id): PagePath<String>) -> PageResult<AnnouncementPage> {
    let a = choucha_service::announcements::get_public(&state.services, id_of(&id, "公告")?).await?;
    Ok(AnnouncementPage {
        paragraphs: a.snapshot.preface.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect(),
        a,
        chrome: public_chrome(),
    })
}

async fn announcement_pdf(
    State(state): State<AppState>,
    PagePath(id): PagePath<String>,
) -> PageResult<axum::response::Response> {
    let id = id_of(&id, "公告")?;
    let pdf = choucha_service::announcements::public_pdf(&state.services, id).await?;
    Ok(crate::api::lab::pdf_response(pdf, &format!("announcement-{id}.pdf")))
}
