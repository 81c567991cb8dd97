//! The one place where errors become HTTP: `ApiError` answers `{code, message}` JSON (with field
//! errors for invalid input), `PageError` answers a Chinese HTML page. Internal details never leave
//! the server (the service logs them under an id the user can quote).

use askama::Template;
use axum::Json;
use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use choucha_service::ServiceError;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// One field problem of invalid input.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: Option<String>,
    pub code: String,
    pub message: String,
}

/// The error body of every API answer that is not 2xx.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `invalid_uscc`, `forbidden`.
    pub code: String,
    /// Chinese message for people.
    pub message: String,
    /// For developers: the parser's own (English) words about malformed input. Never shown to people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Every problem of invalid input.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorBody { code: code.into(), message: message.into(), detail: None, errors: Vec::new() }
    }
}

pub fn status_of(e: &ServiceError) -> StatusCode {
    match e {
        ServiceError::Unauthenticated
        | ServiceError::BadCredentials
        | ServiceError::SecondFactorRequired
        | ServiceError::BadSecondFactor => StatusCode::UNAUTHORIZED,
        ServiceError::Forbidden(_) | ServiceError::SecondFactorEnrolmentRequired => StatusCode::FORBIDDEN,
        ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
        ServiceError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ServiceError::Rule(_) | ServiceError::Duplicate(_) | ServiceError::Conflict => StatusCode::CONFLICT,
        ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub fn body_of(e: &ServiceError) -> ErrorBody {
    let errors = match e {
        ServiceError::Invalid(v) => v
            .iter()
            .map(|v| FieldError {
                field: v.field.as_deref().map(str::to_string),
                code: v.code.to_string(),
                message: v.message.clone(),
            })
            .collect(),
        _ => Vec::new(),
    };
    let message = match e {
        ServiceError::Invalid(v) if v.len() > 1 => v.iter().map(|v| v.message.as_str()).collect::<Vec<_>>().join("；"),
        other => other.to_string(),
    };
    ErrorBody { code: e.code().to_string(), message, detail: None, errors }
}

/// An error answered as JSON.
#[derive(Debug)]
pub struct ApiError(pub ServiceError);

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        ApiError(e)
    }
}

impl ApiError {
    pub fn bad_request(code: &str, message: impl Into<String>) -> Response {
        (StatusCode::BAD_REQUEST, Json(ErrorBody::new(code, message))).into_response()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (status_of(&self.0), Json(body_of(&self.0))).into_response();
        if matches!(self.0, ServiceError::Unauthenticated) {
            r.headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        r
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The minimal page used for errors (no navigation: the error may be that nobody is signed in).
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub status: u16,
    pub title: String,
    pub message: String,
    /// The request's id, to quote to the administrator (it is in the server's log lines).
    pub request_id: String,
}

pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let page = ErrorPage {
        status: status.as_u16(),
        title: title.to_string(),
        message: message.to_string(),
        request_id: crate::observe::current_request_id(),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, message.to_string()).into_response(),
    }
}

/// An error answered as a page. Not signed in: to the sign-in page.
#[derive(Debug)]
pub struct PageError(pub ServiceError);

impl From<ServiceError> for PageError {
    fn from(e: ServiceError) -> Self {
        PageError(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = status_of(&self.0);
        let title = match status {
            StatusCode::UNAUTHORIZED => return Redirect::to("/login").into_response(),
            StatusCode::FORBIDDEN => "无权访问",
            StatusCode::NOT_FOUND => "未找到",
            StatusCode::UNPROCESSABLE_ENTITY => "输入有误",
            StatusCode::CONFLICT => "操作未执行",
            _ => "出错了",
        };
        error_page(status, title, &body_of(&self.0).message)
    }
}

pub type PageResult<T> = Result<T, PageError>;

/// Form extractor for pages whose rejection is a Chinese error page.
pub struct PageForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for PageForm<T> {
    type Rejection = Response;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(PageForm(v)),
            Err(e @ FormRejection::FailedToDeserializeForm(_)) => {
                tracing::debug!("form refused: {}", e.body_text());
                Err(error_page(
                    StatusCode::BAD_REQUEST,
                    "表单内容有误",
                    "表单内容有误：请检查各项的格式（数字、日期、选项）后重新提交",
                ))
            }
            Err(e) => {
                tracing::debug!("form refused: {}", e.body_text());
                Err(error_page(StatusCode::BAD_REQUEST, "表单内容有误", "表单无法读取，请刷新页面后重新提交"))
            }
        }
    }
}

/// Unknown paths: JSON under /api, a page elsewhere.
pub async fn fallback(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        (StatusCode::NOT_FOUND, Json(ErrorBody::new("not_found", format!("接口“{}”不存在", uri.path()))))
            .into_response()
    } else {
        error_page(StatusCode::NOT_FOUND, "未找到", "您访问的页面不存在")
    }
}
