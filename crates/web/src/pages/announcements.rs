//! 抽查结果: a plan's results for its organising bureau — the figures, the downloads (summary table
//! XLSX, quality analysis report and bound volume PDF) and the result announcements, with the draft
//! form (title, preface, rows left out with a reason) and the approve / publish / withdraw /
//! correct buttons. Everything is checked in `choucha_service::announcements` and `statistics`.
//! The public pages of published announcements live in `pages::public`.

use choucha_domain::announcement::AnnouncementState;
use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use choucha_service::announcements::{self as ann, AnnouncementEdit, AnnouncementView, Exclusion};
use choucha_service::statistics::{self, PlanFigures};
use serde::Deserialize;

use crate::AppState;
use crate::api::lab::pdf_response;
use crate::api::plans::summary_download;
use crate::auth::{Page, PageActor};
use crate::error::{PageForm, PageResult};
use crate::extract::PagePath;
use crate::filters;
use crate::pages::plans::id_of;
use crate::pages::respond::{done, done_to};
use crate::pages::{Chrome, chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/plans/{id}/results", get(results))
        .route("/plans/{id}/announcements", post(draft))
        .route("/plans/{id}/summary.xlsx", get(summary_xlsx))
        .route("/plans/{id}/quality-analysis.pdf", get(analysis_pdf))
        .route("/plans/{id}/bound-volume.pdf", get(bound_volume))
        .route("/announcements/{id}", get(detail).post(save))
        .route("/announcements/{id}/{action}", post(act))
}

#[derive(Template, WebTemplate)]
#[template(path = "announcements/results.html")]
pub struct ResultsPage {
    pub chrome: Chrome,
    pub plan_id: i64,
    pub plan_title: String,
    pub figures: PlanFigures,
    pub volumes: Vec<usize>,
    pub announcements: Vec<AnnouncementView>,
}

async fn results(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
) -> PageResult<ResultsPage> {
    let id = id_of(&id, "计划")?;
    let figures = statistics::plan_figures(&st.services, &a, id).await?;
    let plan = choucha_service::plans::get(&st.services, &a, id).await?;
    let count = choucha_service::bound_volume::volume_count(&st.services, &a, id).await?;
    Ok(ResultsPage {
        plan_id: id,
        plan_title: plan.title,
        figures,
        volumes: (1..=count).collect(),
        announcements: ann::of_plan(&st.services, &a, id).await?,
        chrome: chrome(&session, Some(&a), "plans").await,
    })
}

async fn draft(Page { state: st, session, actor: a }: Page, PagePath(id): PagePath<String>) -> PageResult<Response> {
    let id = id_of(&id, "计划")?;
    done_to(&session, ann::draft(&st.services, &a, id).await, &format!("/plans/{id}/results"), |v| {
        (format!("/announcements/{}", v.id), "已起草结果公告")
    })
    .await
}

async fn summary_xlsx(
    State(st): State<AppState>,
    PageActor(a): PageActor,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let id = id_of(&id, "计划")?;
    Ok(summary_download(&st.services, &a, id).await?)
}

async fn analysis_pdf(
    State(st): State<AppState>,
    PageActor(a): PageActor,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let id = id_of(&id, "计划")?;
    let pdf = statistics::quality_analysis_pdf(&st.services, &a, id).await?;
    Ok(pdf_response(pdf, &format!("quality-analysis-{id}.pdf")))
}

#[derive(Debug, Default, Deserialize)]
pub struct VolumeQuery {
    #[serde(default)]
    volume: Option<usize>,
}

async fn bound_volume(
    State(st): State<AppState>,
    PageActor(a): PageActor,
    PagePath(id): PagePath<String>,
    Query(q): Query<VolumeQuery>,
) -> PageResult<Response> {
    let id = id_of(&id, "计划")?;
    let v = q.volume.unwrap_or(1);
    let pdf = choucha_service::bound_volume::bound_volume_pdf(&st.services, &a, id, v).await?;
    Ok(pdf_response(pdf, &format!("bound-volume-{id}-{v}.pdf")))
}

/// A row of the draft form.
pub struct RowLine {
    pub key: String,
    pub product: String,
    pub enterprise: String,
    pub producer: String,
    pub model: String,
    pub batch: String,
    pub failing: String,
    pub institution: String,
    pub result: String,
    pub excluded: bool,
    pub reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "announcements/detail.html")]
pub struct DetailPage {
    pub chrome: Chrome,
    pub a: AnnouncementView,
    pub rows: Vec<RowLine>,
}

async fn detail(Page { state: st, session, actor }: Page, PagePath(id): PagePath<String>) -> PageResult<DetailPage> {
    let id = id_of(&id, "公告")?;
    let a = ann::get(&st.services, &actor, id).await?;
    let rows = a
        .content
        .rows
        .iter()
        .map(|r| RowLine {
            key: format!("report:{}", r.line.report_id),
            product: r.line.product.clone(),
            enterprise: r.line.enterprise.clone(),
            producer: r.line.producer.clone(),
            model: r.line.model.clone(),
            batch: r.line.batch.clone(),
            failing: r.line.failing_items.join("、"),
            institution: r.line.institution.clone(),
            result: if r.line.qualified { "合格".into() } else { "不合格".into() },
            excluded: r.excluded,
            reason: r.exclusion_reason.clone(),
        })
        .chain(a.content.refusals.iter().map(|r| RowLine {
            key: format!("task:{}", r.line.task_id),
            product: r.line.product.clone(),
            enterprise: r.line.enterprise.clone(),
            producer: String::new(),
            model: String::new(),
            batch: String::new(),
            failing: String::new(),
            institution: String::new(),
            result: "拒检".into(),
            excluded: r.excluded,
            reason: r.exclusion_reason.clone(),
        }))
        .collect();
    Ok(DetailPage { rows, a, chrome: chrome(&session, Some(&actor), "plans").await })
}

/// The draft form: `title`, `preface`, and `reason:{row key}` for each row (a reason leaves the row out).
async fn save(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
    PageForm(f): PageForm<HashMap<String, String>>,
) -> PageResult<Response> {
    let id = id_of(&id, "公告")?;
    let back = format!("/announcements/{id}");
    let exclusions = f
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("reason:").map(|key| (key, v)))
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(key, v)| Exclusion { key: key.to_string(), reason: v.trim().to_string() })
        .collect();
    let edit = AnnouncementEdit {
        title: f.get("title").cloned().unwrap_or_default(),
        doc_number: f.get("doc_number").cloned().unwrap_or_default(),
        preface: f.get("preface").cloned().unwrap_or_default(),
        exclusions,
    };
    done(&session, ann::update(&st.services, &a, id, edit).await, &back, |_| "已保存").await
}

#[derive(Debug, Default, Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
}

async fn act(
    Page { state: st, session, actor: a }: Page,
    PagePath((id, action)): PagePath<(String, String)>,
    PageForm(f): PageForm<ReasonForm>,
) -> PageResult<Response> {
    let id = id_of(&id, "公告")?;
    let back = format!("/announcements/{id}");
    let s = &st.services;
    let outcome = match action.as_str() {
        "approve" => ann::approve(s, &a, id).await.map(|v| (v.id, "已审核")),
        "return" => ann::return_to_draft(s, &a, id).await.map(|v| (v.id, "已退回修改")),
        "publish" => {
            let input = ann::PublishInput { open_objection_reason: f.reason.clone() };
            ann::publish(s, &a, id, input).await.map(|v| (v.id, "已发布"))
        }
        "withdraw" => ann::withdraw(s, &a, id, &f.reason).await.map(|v| (v.id, "已撤回")),
        "corrections" => ann::draft_correction(s, &a, id, &f.reason).await.map(|v| (v.id, "已起草更正公告")),
        _ => return Err(choucha_service::ServiceError::NotFound("操作").into()),
    };
    done_to(&session, outcome, &back, |(to, msg)| (format!("/announcements/{to}"), msg)).await
}
