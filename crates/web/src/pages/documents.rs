//! Document pages: the form of the 产品质量改进建议书 (Annex 2) at `/documents/improvement-letter`,
//! which downloads the PDF, or shows the form again with its Chinese field errors.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use choucha_service::documents::{self, ImprovementLetterInput};

use crate::AppState;
use crate::api::documents::pdf_download;
use crate::auth::Page;
use crate::error::{PageError, PageForm, PageResult};
use crate::pages::users::{FieldErrors, FormData};
use crate::pages::{Chrome, chrome};

pub fn router() -> Router<AppState> {
    Router::new().route("/documents/improvement-letter", get(page).post(submit))
}

/// The form's fields as typed; the failing items stay one per line.
#[derive(Debug, Default)]
pub struct LetterValues {
    pub report_no: String,
    pub product_name: String,
    pub model: String,
    pub inspected_unit: String,
    pub producer: String,
    pub institution: String,
    pub failing_items: String,
    pub problem_description: String,
    pub cause_analysis: String,
    pub suggestions: String,
    pub remarks: String,
    pub date: String,
}

impl LetterValues {
    fn from_form(f: &FormData) -> Self {
        LetterValues {
            report_no: f.get("report_no"),
            product_name: f.get("product_name"),
            model: f.get("model"),
            inspected_unit: f.get("inspected_unit"),
            producer: f.get("producer"),
            institution: f.get("institution"),
            failing_items: f.get("failing_items"),
            problem_description: f.get("problem_description"),
            cause_analysis: f.get("cause_analysis"),
            suggestions: f.get("suggestions"),
            remarks: f.get("remarks"),
            date: f.get("date"),
        }
    }

    fn input(&self) -> ImprovementLetterInput {
        ImprovementLetterInput {
            report_no: self.report_no.clone(),
            product_name: self.product_name.clone(),
            model: self.model.clone(),
            inspected_unit: self.inspected_unit.clone(),
            producer: self.producer.clone(),
            institution: self.institution.clone(),
            failing_items: self.failing_items.lines().map(str::to_string).collect(),
            problem_description: self.problem_description.clone(),
            cause_analysis: self.cause_analysis.clone(),
            suggestions: self.suggestions.clone(),
            remarks: self.remarks.clone(),
            date: Some(self.date.clone()),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "documents/improvement_letter.html")]
pub struct LetterPage {
    pub chrome: Chrome,
    pub v: LetterValues,
    pub errors: FieldErrors,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct LetterQuery {
    /// An unqualified issued report to pre-fill the letter from.
    #[serde(default)]
    report: Option<String>,
}

async fn page(Page { state, session, actor }: Page, Query(q): Query<LetterQuery>) -> PageResult<LetterPage> {
    documents::require_letter_writer(&actor)?;
    if let Some(raw) = q.report.as_deref().filter(|r| !r.trim().is_empty()) {
        let id = crate::pages::plans::id_of(raw, "检验报告")?;
        let i = choucha_service::results::improvement_letter_prefill(&state.services, &actor, id).await?;
        let v = LetterValues {
            report_no: i.report_no,
            product_name: i.product_name,
            model: i.model,
            inspected_unit: i.inspected_unit,
            producer: i.producer,
            institution: i.institution,
            failing_items: i.failing_items.join("\n"),
            problem_description: i.problem_description,
            cause_analysis: i.cause_analysis,
            suggestions: i.suggestions,
            remarks: i.remarks,
            date: i.date.unwrap_or_default(),
        };
        return Ok(LetterPage {
            v,
            errors: FieldErrors::default(),
            chrome: chrome(&session, Some(&actor), "documents").await,
        });
    }
    // An institution's staff write letters in its name.
    let institution = if actor.org_kind.as_deref() == Some("institution") { actor.org_name.clone() } else { None };
    let v = LetterValues {
        institution: institution.unwrap_or_default(),
        date: state.services.today().to_string(),
        ..Default::default()
    };
    Ok(LetterPage { v, errors: FieldErrors::default(), chrome: chrome(&session, Some(&actor), "documents").await })
}

async fn submit(Page { state, session, actor }: Page, PageForm(pairs): PageForm<Vec<(String, String)>>) -> Response {
    let v = LetterValues::from_form(&FormData(pairs));
    let name = documents::letter_file_name(&v.report_no);
    match documents::improvement_letter_pdf(&state.services, &actor, v.input()).await {
        Ok(pdf) => pdf_download(pdf, &name, "improvement-letter.pdf"),
        Err(e) => match FieldErrors::from_service(e) {
            Ok(errors) => {
                let page = LetterPage { v, errors, chrome: chrome(&session, Some(&actor), "documents").await };
                (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
            }
            Err(e) => PageError(e).into_response(),
        },
    }
}
