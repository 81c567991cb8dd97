//! Excel downloads, for the API and the pages alike: the answer (content type, a Chinese file name
//! with an ASCII fallback that says what the file is), sheets written off the runtime, and every
//! page of a list read for an export.
//!
//! The exports of the lists a bureau works from live in `pages::exports`; each calls the same use
//! case as its page, so the service decides who may export what, exactly as for the page.

use std::future::Future;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use choucha_documents::Sheet;
use choucha_service::{MAX_PAGE_LIMIT, ServiceError};

pub const XLSX_CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Rows an export reads at most (a bureau's year is a few thousand): beyond that the export stops
/// rather than hold the server.
pub const MAX_EXPORT_ROWS: usize = 20_000;

/// An XLSX answer to download, named `file_name` (RFC 5987, UTF-8) with `ascii_fallback` for
/// programs that only read `filename="…"`. Characters a file name cannot hold on Windows (a plan
/// title with a slash) become `_`.
pub fn download(bytes: Vec<u8>, file_name: &str, ascii_fallback: &str) -> Response {
    let file_name = file_name_of(file_name);
    let ascii_fallback = file_name_of(ascii_fallback);
    let (file_name, ascii_fallback) = (file_name.as_str(), ascii_fallback.as_str());
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(XLSX_CONTENT_TYPE)),
            (header::CONTENT_DISPOSITION, crate::api::documents::attachment(file_name, ascii_fallback)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        Body::from(bytes),
    )
        .into_response()
}

/// Writes `sheets` to one workbook (in `spawn_blocking`) and answers it as a download.
///
/// # Errors
/// An internal error when the workbook cannot be written.
pub async fn workbook(sheets: Vec<Sheet>, file_name: &str, ascii_fallback: &str) -> Result<Response, ServiceError> {
    let bytes = tokio::task::spawn_blocking(move || choucha_documents::write_workbook(&sheets))
        .await
        .map_err(ServiceError::internal)?
        .map_err(ServiceError::internal)?;
    Ok(download(bytes, file_name, ascii_fallback))
}

/// Every page of a list, read with the largest page size: `fetch(cursor)` answers one page and
/// the cursor of the next. Stops after [`MAX_EXPORT_ROWS`] rows.
///
/// # Errors
/// The first error of `fetch`.
pub async fn every_page<T, F, Fut>(mut fetch: F) -> Result<Vec<T>, ServiceError>
where
    F: FnMut(Option<String>, u64) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), ServiceError>>,
{
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let (items, next) = fetch(cursor, MAX_PAGE_LIMIT).await?;
        out.extend(items);
        match next {
            Some(next) if out.len() < MAX_EXPORT_ROWS => cursor = Some(next),
            _ => break,
        }
    }
    out.truncate(MAX_EXPORT_ROWS);
    Ok(out)
}

/// `name` with the characters Windows refuses in file names (and quotes, which would end the
/// header's quoted name) replaced by `_`.
pub fn file_name_of(name: &str) -> String {
    name.trim()
        .chars()
        .map(
            |c| {
                if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                    '_'
                } else {
                    c
                }
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_what_windows_refuses() {
        assert_eq!(file_name_of("2025年/第一批：汽油?.xlsx"), "2025年_第一批：汽油_.xlsx");
        assert_eq!(file_name_of("a\"b\".xlsx"), "a_b_.xlsx");
    }
}
