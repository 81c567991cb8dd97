//! A published draw's whole record, for anyone to re-run it without Choucha (issue 18, part 5):
//! `record.json` (everything, read by docs/draw_reference.py) and, for a spreadsheet, the
//! candidate list, the exclusions and the sampler pool as CSV (UTF-8 with a byte-order mark, so
//! Excel reads the Chinese). No sign-in; an unpublished draw is "not found".

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use choucha_service::draws::{self, PublicDrawRecord};

use crate::AppState;
use crate::error::PageResult;
use crate::extract::PagePath;
use crate::pages::plans::id_of;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/public/draws/{id}/{file}", get(file))
        .route("/public/draw-reference.py", get(reference))
        .route("/public/draw-algorithm.md", get(algorithm))
}

/// The reference implementation (docs/draw_reference.py), served from the binary.
async fn reference() -> Response {
    let body = include_str!("../../../../docs/draw_reference.py");
    download(body, "text/x-python; charset=utf-8", "draw_reference.py")
}

/// The algorithm and the record's format (docs/DRAW.md), served from the binary.
async fn algorithm() -> Response {
    let body = include_str!("../../../../docs/DRAW.md");
    download(body, "text/markdown; charset=utf-8", "DRAW.md")
}

fn download(body: &'static str, content_type: &'static str, name: &str) -> Response {
    let disposition = format!("attachment; filename=\"{name}\"");
    ([(header::CONTENT_TYPE, content_type.to_string()), (header::CONTENT_DISPOSITION, disposition)], body)
        .into_response()
}

/// The files next to the public draw page.
pub const FILES: [(&str, &str); 4] = [
    ("record.json", "完整抽取记录（JSON）"),
    ("candidates.csv", "候选企业名单（CSV）"),
    ("exclusions.csv", "排除的企业及依据（CSV）"),
    ("samplers.csv", "抽样人员库（CSV，公开编号）"),
];

async fn file(State(state): State<AppState>, PagePath((id, file)): PagePath<(String, String)>) -> PageResult<Response> {
    let id = id_of(&id, "抽取记录")?;
    let Some((name, _)) = FILES.iter().find(|(name, _)| *name == file) else {
        return Err(choucha_service::ServiceError::NotFound("文件").into());
    };
    let record = draws::published_record(&state.services, id).await?;
    let (body, content_type) = match *name {
        "record.json" => (serde_json::to_vec_pretty(&record).unwrap_or_default(), "application/json; charset=utf-8"),
        csv_name => (csv_of(&record, csv_name), "text/csv; charset=utf-8"),
    };
    let disposition = format!("attachment; filename=\"draw-{id}-{name}\"");
    Ok(([(header::CONTENT_TYPE, content_type.to_string()), (header::CONTENT_DISPOSITION, disposition)], body)
        .into_response())
}

fn csv_of(r: &PublicDrawRecord, name: &str) -> Vec<u8> {
    let rows: Vec<Vec<String>> = match name {
        "candidates.csv" => {
            // A risk-weighted draw's list carries each candidate's class (A–D): the record hashes it.
            let risky = r.risk_weights.is_some();
            let mut head = vec!["序号".into(), "统一社会信用代码".into(), "行政区划代码".into()];
            if risky {
                head.push("风险等级".into());
            }
            std::iter::once(head)
                .chain(r.candidates.iter().enumerate().map(|(i, c)| {
                    let mut row = vec![(i + 1).to_string(), c.uscc.clone(), c.division_code.clone()];
                    if risky {
                        row.push(c.risk_class.map(|k| k.as_str().to_string()).unwrap_or_default());
                    }
                    row
                }))
                .collect()
        }
        "exclusions.csv" => {
            std::iter::once(vec!["统一社会信用代码".into(), "企业名称".into(), "排除规则".into(), "排除依据".into()])
                .chain(
                    r.exclusions.iter().map(|e| vec![e.uscc.clone(), e.name.clone(), e.rule.clone(), e.reason.clone()]),
                )
                .collect()
        }
        _ => std::iter::once(vec!["公开编号".into(), "回避的企业（统一社会信用代码，以;分隔）".into()])
            .chain(r.samplers.iter().map(|s| vec![s.id.clone(), s.conflicts.join(";")]))
            .collect(),
    };
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    for row in rows {
        let _ = w.write_record(row.iter().map(|f| inert(f).into_owned()));
    }
    w.into_inner().unwrap_or_default()
}

/// A field a spreadsheet shows as text: one that would start a formula (`=`, `+`, `-`, `@`) gets a
/// leading apostrophe (a registry name is anyone's text).
fn inert(field: &str) -> std::borrow::Cow<'_, str> {
    if field.starts_with(['=', '+', '-', '@']) { format!("'{field}").into() } else { field.into() }
}
