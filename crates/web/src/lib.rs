//! The HTTP layer of Choucha: the JSON API under `/api/v1` (documented at `/api/openapi.json`), the
//! HTML pages (askama + htmx, Chinese, phone-friendly), sessions and static assets. Handlers only
//! translate HTTP to use cases of `choucha_service` and back; they hold no rules and no permissions.

pub mod api;
pub mod auth;
pub mod client;
pub mod error;
pub mod extract;
pub mod filters;
pub mod headers;
pub mod jobs;
pub mod observe;
pub mod pages;
pub mod session_store;
pub mod state;
pub mod statics;
pub mod text_guard;
pub mod throttle;
pub mod xlsx;

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::{Expiry, SessionManagerLayer};

pub use state::AppState;

/// Largest request body: registry imports of a few hundred thousand rows fit.
const BODY_LIMIT: usize = 200 * 1024 * 1024;

/// Longest a request may take (a registry import of a few hundred thousand rows fits).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// The whole application.
pub fn router(state: AppState) -> Router {
    let sessions = SessionManagerLayer::new(session_store::DbSessionStore::new(state.services.clone()))
        .with_name("choucha_session")
        .with_http_only(true)
        .with_same_site(tower_sessions::cookie::SameSite::Lax)
        .with_secure(state.secure_cookies || state.tls)
        // The cookie ends with the browser; the session's idle and absolute limits are the
        // security policy's, kept by the store (`session_store`).
        .with_expiry(Expiry::OnSessionEnd);
    let throttle = throttle::SignInThrottle::new(state.services.policy());
    let (api_router, mut openapi) = api::router().split_for_parts();
    api::document_errors(&mut openapi);
    api::document_session(&mut openapi);
    let openapi_json = serde_json::to_string(&openapi).unwrap_or_else(|_| "{}".into());
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(observe::metrics))
        .route(
            "/api/openapi.json",
            get(move || {
                let body = openapi_json.clone();
                async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], body) }
            }),
        )
        .merge(utoipa_swagger_ui::SwaggerUi::new("/api/docs").url("/api/openapi-ui.json", openapi))
        .merge(api_router)
        .merge(pages::router())
        .nest("/static", statics::router())
        .merge(statics::root_router())
        .fallback(error::fallback)
        .layer(axum::middleware::from_fn(auth::csrf_guard))
        .layer(axum::middleware::from_fn(move |req: axum::extract::Request, next: axum::middleware::Next| {
            let throttle = throttle.clone();
            async move {
                match throttle {
                    Some(t) => t.guard(req, next).await,
                    None => next.run(req).await,
                }
            }
        }))
        .layer(axum::middleware::from_fn_with_state(state.clone(), text_guard::text_guard))
        .layer(axum::middleware::from_fn_with_state(state.clone(), pages::training_banner))
        .layer(sessions)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        // A request that takes longer than this is answered 408 (in Chinese, by the layer outside).
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(axum::middleware::from_fn(json_payload_too_large))
        // Outermost but for tracing: every response, refusals of the layers above included.
        .layer(axum::middleware::from_fn_with_state(state.clone(), headers::security_headers))
        .layer(TraceLayer::new_for_http())
        // Outermost: the request id and the metrics see every response.
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe::observe))
        .with_state(state)
}

/// An API request over a body limit (the global one or a route's) gets `{code, message}` JSON in
/// Chinese like every other refusal, instead of the limit layers' plain English text; one that
/// timed out gets the same in JSON, or a Chinese page.
async fn json_payload_too_large(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if api && response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        let body = error::ErrorBody::new("payload_too_large", "上传内容超过服务器允许的大小上限，请拆分文件后重新上传");
        return (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(body)).into_response();
    }
    if response.status() == StatusCode::REQUEST_TIMEOUT && !is_json {
        let message = "请求处理超时，请稍后重试；如果反复出现，请把错误页上的请求编号告诉管理员";
        if api {
            return (StatusCode::REQUEST_TIMEOUT, axum::Json(error::ErrorBody::new("timeout", message)))
                .into_response();
        }
        return error::error_page(StatusCode::REQUEST_TIMEOUT, "请求超时", message);
    }
    response
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.services.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::warn!("health check failed: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// Serve until `shutdown` resolves, then finish the requests in flight. The listener is a plain
/// `tokio::net::TcpListener`, or one that hands over TLS streams (`choucha serve --tls-cert`).
pub async fn serve<L>(
    listener: L,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = std::net::SocketAddr>,
{
    let jobs = if state.background_jobs { background_jobs(&state) } else { Vec::new() };
    // The peer's address is known to every request (sign-in throttling and audit records).
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    // `tap_io` makes any listener of socket addresses (plain TCP, or the TLS listener of
    // `serve --tls-cert`) give its peer's address as connect info.
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|_| {});
    let r = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    for job in jobs {
        job.abort();
    }
    r
}

/// The server's periodic jobs, each run by one server of the deployment at a time.
fn background_jobs(state: &AppState) -> Vec<tokio::task::JoinHandle<()>> {
    // Every hour: expired sessions are swept and the planner's statistics kept current (each in one
    // server of the deployment at a time).
    let hourly = Duration::from_secs(3600);
    let services = state.services.clone();
    let sweeper = tokio::spawn(jobs::periodic(services.clone(), state.metrics.clone(), "session_sweep", hourly, {
        let services = services.clone();
        move || {
            let services = services.clone();
            async move { jobs::logged("session sweep", services.sweep_sessions().await) }
        }
    }));
    let statistics =
        tokio::spawn(jobs::periodic(services.clone(), state.metrics.clone(), "planner_statistics", hourly, {
            move || {
                let services = services.clone();
                async move { jobs::logged("updating the planner's statistics", services.optimize().await) }
            }
        }));
    // Every 5 minutes: the overdue work is counted for `/metrics` (in one server at a time).
    let overdue = tokio::spawn(jobs::periodic(
        state.services.clone(),
        state.metrics.clone(),
        "overdue_counts",
        Duration::from_secs(300),
        {
            let services = state.services.clone();
            move || {
                let services = services.clone();
                async move { jobs::logged("counting the overdue work", services.refresh_overdue_counts().await) }
            }
        },
    ));
    vec![sweeper, statistics, overdue]
}
