//! Request extractors whose every refusal speaks Choucha's language: `{code, message}` JSON in
//! Chinese for the API (`ApiPath`, `ApiQuery`, `ApiJson`, `ApiMultipart`), a Chinese error page for
//! the pages (`PagePath`). The parsers' own English words never reach the message; the API carries
//! them in the optional `detail` member for developers.
//!
//! axum's own `Path`, `Query`, `Json` and `Multipart` answer `text/plain` English; handlers never
//! take them directly. Every upload, API or page, is read by `MultipartForm::read`: the one loop
//! over the parts, whose problems (`MultipartProblem`) each route words in Chinese as its callers
//! expect; the size limits stay the routes' body limits (`DefaultBodyLimit`, the global limit).

use axum::Json;
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Multipart, Path, Query, RawPathParams, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::error::{ErrorBody, FieldError, error_page};

/// A refusal of malformed input as the API answers it.
fn refuse(status: StatusCode, code: &str, message: String, detail: String, errors: Vec<FieldError>) -> Response {
    let body = ErrorBody { code: code.into(), message, detail: Some(detail).filter(|d| !d.is_empty()), errors };
    (status, Json(body)).into_response()
}

/// Path parameters (`/api/v1/plans/{id}`); `abc` for an id answers 400 `bad_path`.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(ApiPath(v)),
            Err(e) => {
                let raw = RawPathParams::from_request_parts(parts, state).await.ok();
                let (status, message) = path_refusal(&e, raw.as_ref());
                Err(refuse(status, "bad_path", message, e.body_text(), Vec::new()))
            }
        }
    }
}

/// Path parameters of a page; a malformed one answers a Chinese error page.
pub struct PagePath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PagePath<T> {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(PagePath(v)),
            Err(e) => {
                let raw = RawPathParams::from_request_parts(parts, state).await.ok();
                let (status, message) = path_refusal(&e, raw.as_ref());
                Err(error_page(status, "网址有误", &message))
            }
        }
    }
}

/// The status and Chinese message for a path that does not parse. A missing parameter is a
/// routing mistake of ours, not the caller's.
fn path_refusal(e: &PathRejection, raw: Option<&RawPathParams>) -> (StatusCode, String) {
    let PathRejection::FailedToDeserializePathParams(d) = e else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "服务器内部错误：路由缺少路径参数".into());
    };
    let at_key = |key: &str, value: &str, expected_type: &str| {
        format!("路径参数无效：“{key}”应为{}，收到“{}”", type_words(expected_type), shorten(value))
    };
    let message = match d.kind() {
        ErrorKind::ParseErrorAtKey { key, value, expected_type } => at_key(key, value, expected_type),
        ErrorKind::ParseErrorAtIndex { value, expected_type, .. } | ErrorKind::ParseError { value, expected_type } => {
            // A single value or a tuple: name the parameter from the route when the value tells it.
            match raw.and_then(|r| r.iter().find(|(_, v)| *v == value.as_str())) {
                Some((key, _)) => at_key(key, value, expected_type),
                None => format!("路径参数无效：应为{}，收到“{}”", type_words(expected_type), shorten(value)),
            }
        }
        ErrorKind::InvalidUtf8InPathParam { key } => format!("路径参数无效：“{key}”不是有效的 UTF-8 文本"),
        _ => "路径参数无效".into(),
    };
    (StatusCode::BAD_REQUEST, message)
}

fn type_words(rust_type: &str) -> &'static str {
    match rust_type {
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "usize" | "isize" => "整数",
        "bool" => "true 或 false",
        _ => "规定格式的值",
    }
}

/// A caller's value echoed in a message, cut to a readable length.
fn shorten(v: &str) -> String {
    const MAX: usize = 40;
    if v.chars().count() <= MAX { v.to_string() } else { format!("{}…", v.chars().take(MAX).collect::<String>()) }
}

/// Query-string parameters; a value that does not parse answers 400 `bad_query`.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(e @ QueryRejection::FailedToDeserializeQueryString(_)) => {
                let detail = e.body_text();
                Err(refuse(StatusCode::BAD_REQUEST, "bad_query", query_message(&detail), detail, Vec::new()))
            }
            Err(e) => {
                Err(refuse(StatusCode::BAD_REQUEST, "bad_query", "查询参数无效".into(), e.body_text(), Vec::new()))
            }
        }
    }
}

/// A Chinese message for serde's words about a query string.
fn query_message(detail: &str) -> String {
    let quoted = detail.split('`').nth(1).map(shorten).unwrap_or_default();
    if detail.contains("missing field") {
        format!("查询参数无效：缺少“{quoted}”")
    } else if detail.contains("unknown variant") {
        format!("查询参数无效：取值“{quoted}”不在可选范围内")
    } else {
        "查询参数无效：请检查各参数的格式（数字、日期、可选值）".into()
    }
}

/// A JSON body. Not JSON at all: 400 `bad_json`; JSON of the wrong shape: 422 `bad_json` with the
/// field's path (`items[2].quota`) in `errors`.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Response;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(e) => Err(json_refusal(&e)),
        }
    }
}

fn json_refusal(e: &JsonRejection) -> Response {
    let detail = e.body_text();
    match e {
        JsonRejection::MissingJsonContentType(_) => refuse(
            StatusCode::BAD_REQUEST,
            "bad_content_type",
            "请求须为 JSON（Content-Type: application/json）".into(),
            detail,
            Vec::new(),
        ),
        JsonRejection::JsonSyntaxError(_) => {
            refuse(StatusCode::BAD_REQUEST, "bad_json", "请求内容不是有效的 JSON".into(), detail, Vec::new())
        }
        JsonRejection::JsonDataError(_) => {
            let (field, message) = json_data_problem(&detail);
            let errors = vec![FieldError { field, code: "bad_json".into(), message: message.clone() }];
            refuse(StatusCode::UNPROCESSABLE_ENTITY, "bad_json", message, detail, errors)
        }
        _ if e.status() == StatusCode::PAYLOAD_TOO_LARGE => refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "上传内容超过服务器允许的大小上限".into(),
            detail,
            Vec::new(),
        ),
        _ => refuse(StatusCode::BAD_REQUEST, "bad_json", "请求内容无法读取".into(), detail, Vec::new()),
    }
}

/// The field path and a Chinese message from axum's text for JSON of the wrong shape, e.g.
/// `Failed to deserialize the JSON body into the target type: items[2].quota: invalid type: …`.
pub fn json_data_problem(text: &str) -> (Option<String>, String) {
    let rest = text.split_once("target type: ").map_or(text, |(_, r)| r);
    let rest = rest.split(" at line ").next().unwrap_or(rest);
    let (path, what) = match rest.split_once(": ") {
        Some((p, w)) if !p.contains(' ') => (Some(p.to_string()).filter(|p| p != "."), w),
        _ => (None, rest),
    };
    let join = |name: &str| match &path {
        Some(p) => format!("{p}.{name}"),
        None => name.to_string(),
    };
    let quoted = |w: &str| w.split('`').nth(1).unwrap_or_default().to_string();
    if what.starts_with("missing field") {
        let f = join(&quoted(what));
        return (Some(f.clone()), format!("请求内容有误：缺少必填字段“{f}”"));
    }
    if what.starts_with("unknown field") {
        let f = join(&quoted(what));
        return (Some(f.clone()), format!("请求内容有误：不认识的字段“{f}”"));
    }
    let why = if what.starts_with("unknown variant") {
        "取值不在可选范围内"
    } else if what.starts_with("invalid type") {
        "类型不对"
    } else {
        "取值无效"
    };
    match path {
        Some(p) => (Some(p.clone()), format!("请求内容有误：字段“{p}”{why}")),
        None => (None, format!("请求内容有误：{why}")),
    }
}

/// A `multipart/form-data` upload; a request that is not one answers 400 `bad_multipart`.
pub struct ApiMultipart(pub Multipart);

impl<S: Send + Sync> FromRequest<S> for ApiMultipart {
    type Rejection = Response;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Multipart::from_request(req, state).await {
            Ok(m) => Ok(ApiMultipart(m)),
            Err(e) => Err(multipart_refusal(&e)),
        }
    }
}

fn multipart_refusal(e: &MultipartRejection) -> Response {
    refuse(
        StatusCode::BAD_REQUEST,
        "bad_multipart",
        "请求须为文件上传表单（Content-Type: multipart/form-data）".into(),
        e.body_text(),
        Vec::new(),
    )
}

/// A multipart form read whole: its text fields in the order sent and the files of the fields
/// named as file fields (a file input left empty arrives as an empty file; callers decide).
#[derive(Debug, Default)]
pub struct MultipartForm {
    pub texts: Vec<(String, String)>,
    pub files: Vec<UploadedFile>,
}

/// One file of a multipart form.
#[derive(Debug)]
pub struct UploadedFile {
    pub field: String,
    /// As the browser sent it; empty when it sent none.
    pub file_name: String,
    /// As the browser sent it; empty when it sent none.
    pub content_type: String,
    pub bytes: Bytes,
}

impl UploadedFile {
    /// The content in standard base64, as the service takes photos and proofs.
    pub fn base64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&self.bytes)
    }
}

/// Why a multipart form could not be read. Both happen when the body is malformed, the connection
/// drops or the body passes the route's size limit; they differ in where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultipartProblem {
    /// Between the parts or in a text field: the form as a whole is unreadable.
    Unreadable,
    /// In the content of a file of the field named.
    File(String),
}

impl MultipartProblem {
    /// The problem as a page says it; `file` names what the file field holds (照片, 文件).
    pub fn for_page(&self, file: &str) -> String {
        match self {
            MultipartProblem::Unreadable => "表单读取失败（内容不完整或超过大小上限），请重新提交".to_owned(),
            MultipartProblem::File(_) => format!("{file}上传失败（内容不完整或超过大小上限），请重新上传"),
        }
    }
}

impl MultipartForm {
    /// Read every part of `mp`; the parts named in `file_fields` are files, the others text.
    pub async fn read(mut mp: Multipart, file_fields: &[&str]) -> Result<MultipartForm, MultipartProblem> {
        let mut form = MultipartForm::default();
        loop {
            let field = match mp.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => return Ok(form),
                Err(e) => {
                    tracing::debug!("multipart form unreadable: {e}");
                    return Err(MultipartProblem::Unreadable);
                }
            };
            let name = field.name().unwrap_or_default().to_owned();
            if file_fields.contains(&name.as_str()) {
                let file_name = field.file_name().unwrap_or_default().to_owned();
                let content_type = field.content_type().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map_err(|e| {
                    tracing::debug!("multipart file {name} unreadable: {e}");
                    MultipartProblem::File(name.clone())
                })?;
                form.files.push(UploadedFile { field: name, file_name, content_type, bytes });
            } else {
                let text = field.text().await.map_err(|e| {
                    tracing::debug!("multipart field {name} unreadable: {e}");
                    MultipartProblem::Unreadable
                })?;
                form.texts.push((name, text));
            }
        }
    }

    /// The text of a field (the last one sent under that name).
    pub fn text(&self, name: &str) -> Option<&str> {
        self.texts.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The file of a field (the last one sent under that name), taken out of the form.
    pub fn take_file(&mut self, field: &str) -> Option<UploadedFile> {
        let at = self.files.iter().rposition(|f| f.field == field)?;
        Some(self.files.remove(at))
    }

    /// The text fields as a typed form, the way `PageForm` reads an urlencoded one; a field that
    /// does not fit answers a Chinese message.
    pub fn fields_as<F: DeserializeOwned>(&self) -> Result<F, String> {
        let refused = |e: &dyn std::fmt::Display| {
            tracing::debug!("multipart fields refused: {e}");
            "表单内容有误：请检查各项的格式（数字、日期、选项）后重新提交".to_owned()
        };
        let encoded = serde_urlencoded::to_string(&self.texts).map_err(|e| refused(&e))?;
        serde_urlencoded::from_str(&encoded).map_err(|e| refused(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::json_data_problem;

    #[test]
    fn json_data_problems_name_the_field_in_chinese() {
        let t = "Failed to deserialize the JSON body into the target type: items[2].quota: invalid type: \
                 string \"x\", expected u32 at line 1 column 40";
        assert_eq!(
            json_data_problem(t),
            (Some("items[2].quota".into()), "请求内容有误：字段“items[2].quota”类型不对".into())
        );
        let t = "Failed to deserialize the JSON body into the target type: missing field `year` at line 1 column 2";
        assert_eq!(json_data_problem(t), (Some("year".into()), "请求内容有误：缺少必填字段“year”".into()));
        let t =
            "Failed to deserialize the JSON body into the target type: plan: missing field `year` at line 1 column 9";
        assert_eq!(json_data_problem(t).0.as_deref(), Some("plan.year"));
        let t = "Failed to deserialize the JSON body into the target type: state: unknown variant `x`, expected `a`";
        assert_eq!(json_data_problem(t).1, "请求内容有误：字段“state”取值不在可选范围内");
    }
}

/// A page filter's value (`?state=testing`): an empty field (the form's “全部”) is no filter; any
/// other value must parse, or the request is refused like any malformed query.
pub fn blank_as_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let raw: Option<String> = serde::Deserialize::deserialize(d)?;
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => s.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

/// One choice of a page's state filter.
#[derive(Debug, Clone)]
pub struct StateOption {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

/// A query's state filter (`?state=pending` or, where a list is allowed, `?state=pending,sent`)
/// parsed into its workflow's states; an unknown state is refused (422, field `state`).
pub fn parse_states<T>(raw: Option<&str>) -> Result<Vec<T>, choucha_service::ServiceError>
where
    T: std::str::FromStr<Err = choucha_domain::RuleViolation>,
{
    raw.unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<T>().map_err(|e| choucha_service::ServiceError::invalid(e.on_field("state"))))
        .collect()
}

/// One state (the last one given), as [`parse_states`] reads it.
pub fn parse_state<T>(raw: Option<&str>) -> Result<Option<T>, choucha_service::ServiceError>
where
    T: std::str::FromStr<Err = choucha_domain::RuleViolation>,
{
    Ok(parse_states(raw)?.pop())
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod multipart_tests {
    use super::*;
    use axum::body::Body;

    fn request(body: &'static str) -> Request {
        axum::http::Request::builder()
            .method("POST")
            .header("content-type", "multipart/form-data; boundary=X")
            .body(Body::from(body.replace('\n', "\r\n")))
            .unwrap()
    }

    async fn read(body: &'static str) -> Result<MultipartForm, MultipartProblem> {
        let mp = Multipart::from_request(request(body), &()).await.expect("multipart");
        MultipartForm::read(mp, &["file", "photos"]).await
    }

    #[tokio::test]
    async fn reads_texts_in_order_and_files_by_field() {
        let body = "--X\nContent-Disposition: form-data; name=\"year\"\n\n2025\n\
                    --X\nContent-Disposition: form-data; name=\"photos\"; filename=\"a.jpg\"\nContent-Type: image/jpeg\n\nAB\n\
                    --X\nContent-Disposition: form-data; name=\"photos\"; filename=\"b.jpg\"\n\n\n\
                    --X\nContent-Disposition: form-data; name=\"year\"\n\n2026\n--X--\n";
        let mut form = read(body).await.expect("read");
        assert_eq!(form.text("year"), Some("2026"), "the last value of a field");
        assert_eq!(form.texts.len(), 2);
        assert_eq!(form.files.len(), 2, "an empty file is kept for the caller to judge");
        let b = form.take_file("photos").expect("last photo");
        assert_eq!((b.file_name.as_str(), b.bytes.len()), ("b.jpg", 0));
        let a = form.take_file("photos").expect("first photo");
        assert_eq!((a.content_type.as_str(), a.base64().as_str()), ("image/jpeg", "QUI="));
        assert!(form.take_file("file").is_none());
    }

    #[tokio::test]
    async fn a_cut_off_body_is_a_problem_not_a_short_form() {
        let cut = "--X\nContent-Disposition: form-data; name=\"file\"; filename=\"a.xlsx\"\n\nABC";
        assert_eq!(read(cut).await.unwrap_err(), MultipartProblem::File("file".into()));
        let cut = "--X\nContent-Disposition: form-data; name=\"year\"\n\n20";
        assert_eq!(read(cut).await.unwrap_err(), MultipartProblem::Unreadable);
    }

    #[tokio::test]
    async fn text_fields_read_as_a_typed_form_or_a_chinese_refusal() {
        #[derive(serde::Deserialize)]
        struct F {
            year: i32,
        }
        let ok = "--X\nContent-Disposition: form-data; name=\"year\"\n\n2025\n--X--\n";
        assert_eq!(read(ok).await.unwrap().fields_as::<F>().unwrap().year, 2025);
        let bad = "--X\nContent-Disposition: form-data; name=\"year\"\n\nabc\n--X--\n";
        let e = read(bad).await.unwrap().fields_as::<F>().err().unwrap();
        assert!(e.starts_with("表单内容有误") && !e.contains("invalid"), "{e}");
    }
}
