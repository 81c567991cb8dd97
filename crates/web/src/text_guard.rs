//! The edge where text enters: every request's path, query string and body (JSON, form or
//! multipart text fields and file names) is checked once, before any handler runs, for characters
//! no text input may hold (`choucha_domain::text`: control characters other than tab and line
//! breaks, and bidirectional overrides). A refusal is the same 422 on SQLite and PostgreSQL
//! (PostgreSQL would otherwise answer 500 to a NUL): `{code: "control_character", message}` under
//! `/api/`, a Chinese error page elsewhere. Bodies that do not parse are passed on unchanged, so
//! the handler's own extractor answers them as today.

use axum::Json;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use choucha_domain::text::{forbidden_char, refusal_message};
use choucha_service::auth;
use serde_json::Value;
use tower_sessions::Session;

use crate::AppState;
use crate::auth::{SESSION_USER, bearer_token};
use crate::error::{ErrorBody, FieldError, error_page};

/// Code of the refusal in the API's `{code, message}`.
pub const CODE: &str = "control_character";

/// A refused character and where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The field, query parameter or path; empty when nothing names it.
    pub field: String,
    pub character: char,
}

impl Refusal {
    /// The message a person reads. A form key or JSON path (`reason`, `rows[0].name`) is a code,
    /// never shown to a person: it stays in the error's `field`, and the message names none.
    fn message(&self) -> String {
        let named = if self.field.is_ascii() { "" } else { self.field.as_str() };
        refusal_message(named, self.character)
    }
}

/// The middleware: refuses a request carrying a forbidden character anywhere a person's text can be.
pub async fn text_guard(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    if let Some(r) = check_uri(req.uri()) {
        return refuse(api, &r);
    }
    let kind = BodyKind::of(&req);
    if kind == BodyKind::Other {
        return next.run(req).await;
    }
    // Multipart bodies (uploads) are read whole only for a signed-in caller: every multipart route
    // requires one, and an anonymous upload must not make the server hold its body before the
    // route refuses it.
    let signed_in = matches!(kind, BodyKind::Multipart(_)) && signed_in(&st, credentials(&req)).await;
    if matches!(kind, BodyKind::Multipart(_)) && !signed_in {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    // The body-size limit layer outside bounds this read; past it the request is refused as too large.
    let bytes = match to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(_) => return too_large(api),
    };
    let refusal = match &kind {
        BodyKind::Json => check_json_bytes(&bytes),
        BodyKind::Form => check_pairs(&bytes),
        BodyKind::Multipart(boundary) => check_multipart(bytes.clone(), boundary).await,
        BodyKind::Other => None,
    };
    if let Some(r) = refusal {
        return refuse(api, &r);
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// The request's bearer token and page session, taken out so that nothing borrowed from the
/// request lives across an await (its body is not `Sync`).
fn credentials(req: &Request) -> (Option<String>, Option<Session>) {
    let token = bearer_token(req.headers()).filter(|t| !t.is_empty()).map(str::to_owned);
    (token, req.extensions().get::<Session>().cloned())
}

/// Whether the request carries a valid bearer token or a signed-in page session.
async fn signed_in(st: &AppState, (token, session): (Option<String>, Option<Session>)) -> bool {
    if let Some(token) = token {
        return auth::actor_from_token(&st.services, &token).await.is_ok();
    }
    match session {
        Some(session) => matches!(session.get::<i64>(SESSION_USER).await, Ok(Some(_))),
        None => false,
    }
}

#[derive(Debug, PartialEq, Eq)]
enum BodyKind {
    Json,
    Form,
    Multipart(String),
    Other,
}

impl BodyKind {
    fn of(req: &Request) -> BodyKind {
        let Some(ct) = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
            return BodyKind::Other;
        };
        let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if essence == "application/json" || essence.ends_with("+json") {
            BodyKind::Json
        } else if essence == "application/x-www-form-urlencoded" {
            BodyKind::Form
        } else if essence == "multipart/form-data" {
            multer::parse_boundary(ct).map_or(BodyKind::Other, BodyKind::Multipart)
        } else {
            BodyKind::Other
        }
    }
}

/// The path (percent-decoded) and every query parameter's name and value.
pub fn check_uri(uri: &axum::http::Uri) -> Option<Refusal> {
    let path = percent_encoding::percent_decode_str(uri.path()).decode_utf8_lossy();
    if let Some((_, c)) = forbidden_char(&path) {
        return Some(Refusal { field: "路径".to_owned(), character: c });
    }
    uri.query().and_then(|q| check_pairs(q.as_bytes()))
}

/// `application/x-www-form-urlencoded` pairs (a query string or a form body).
pub fn check_pairs(bytes: &[u8]) -> Option<Refusal> {
    form_urlencoded::parse(bytes).find_map(|(k, v)| {
        forbidden_char(&k).or_else(|| forbidden_char(&v)).map(|(_, c)| Refusal {
            field: k.chars().filter(|&c| !choucha_domain::text::is_forbidden(c)).collect(),
            character: c,
        })
    })
}

/// Every string and key of a JSON body; a body that is not JSON is left to the handler.
pub fn check_json_bytes(bytes: &[u8]) -> Option<Refusal> {
    let value: Value = serde_json::from_slice(bytes).ok()?;
    check_json(&value, &mut String::new())
}

fn check_json(value: &Value, path: &mut String) -> Option<Refusal> {
    match value {
        Value::String(s) => forbidden_char(s).map(|(_, c)| Refusal { field: path.clone(), character: c }),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let r = check_json(v, path);
            path.truncate(len);
            r
        }),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            if let Some((_, c)) = forbidden_char(k) {
                return Some(Refusal { field: path.clone(), character: c });
            }
            path.push_str(k);
            let r = check_json(v, path);
            path.truncate(len);
            r
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => None,
    }
}

/// The names, file names and text fields (parts without a file name) of a multipart body; file
/// contents are binary and not checked. A body that does not parse is left to the handler.
async fn check_multipart(bytes: Bytes, boundary: &str) -> Option<Refusal> {
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(bytes) });
    let mut mp = multer::Multipart::new(stream, boundary);
    while let Ok(Some(mut field)) = mp.next_field().await {
        let name = field.name().unwrap_or("").to_owned();
        if let Some((_, c)) = forbidden_char(&name) {
            return Some(Refusal { field: String::new(), character: c });
        }
        if let Some(file_name) = field.file_name() {
            if let Some((_, c)) = forbidden_char(file_name) {
                return Some(Refusal { field: format!("{name}（文件名）"), character: c });
            }
            // Drain the file's content without keeping it.
            while let Ok(Some(_)) = field.chunk().await {}
            continue;
        }
        let Ok(text) = field.text().await else { return None };
        if let Some((_, c)) = forbidden_char(&text) {
            return Some(Refusal { field: name, character: c });
        }
    }
    None
}

fn refuse(api: bool, r: &Refusal) -> Response {
    let message = r.message();
    if api {
        let errors = vec![FieldError {
            field: (!r.field.is_empty()).then(|| r.field.clone()),
            code: CODE.to_owned(),
            message: message.clone(),
        }];
        (StatusCode::UNPROCESSABLE_ENTITY, Json(ErrorBody { code: CODE.to_owned(), message, detail: None, errors }))
            .into_response()
    } else {
        error_page(StatusCode::UNPROCESSABLE_ENTITY, "输入有误", &message)
    }
}

fn too_large(api: bool) -> Response {
    let message = "请求内容过大或上传中断，请缩小文件后重试";
    if api {
        (StatusCode::PAYLOAD_TOO_LARGE, Json(ErrorBody::new("payload_too_large", message))).into_response()
    } else {
        error_page(StatusCode::PAYLOAD_TOO_LARGE, "内容过大", message)
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn names_the_json_field_holding_a_nul() {
        let body = br#"{"name":"ok","items":[{"note":"x"},{"note":"a\u0000b"}]}"#;
        let r = check_json_bytes(body).expect("refused");
        assert_eq!(r, Refusal { field: "items[1].note".into(), character: '\0' });
    }

    #[test]
    fn refuses_a_control_character_in_a_json_key() {
        let r = check_json_bytes(br#"{"a\u0001":1}"#).expect("refused");
        assert_eq!(r.character, '\u{1}');
    }

    #[test]
    fn passes_ordinary_json_and_leaves_bad_json_to_the_handler() {
        assert_eq!(check_json_bytes("{\"name\":\"恒信\\n羊绒\\t\"}".as_bytes()), None);
        assert_eq!(check_json_bytes(b"{not json"), None);
    }

    #[test]
    fn refuses_percent_encoded_nul_in_query_and_path() {
        let uri: axum::http::Uri = "/api/v1/enterprises?q=%E6%81%92%00".parse().expect("uri");
        assert_eq!(check_uri(&uri), Some(Refusal { field: "q".into(), character: '\0' }));
        let uri: axum::http::Uri = "/api/v1/case-rule-selections/1402%01".parse().expect("uri");
        assert_eq!(check_uri(&uri).map(|r| r.character), Some('\u{1}'));
        let uri: axum::http::Uri = "/api/v1/enterprises?q=%E6%81%92%E4%BF%A1&limit=20".parse().expect("uri");
        assert_eq!(check_uri(&uri), None);
    }

    #[test]
    fn refuses_a_form_field_with_an_escape_character() {
        assert_eq!(check_pairs(b"csrf=abc&name=%1B%5B31m").map(|r| r.field), Some("name".to_owned()));
    }
}
