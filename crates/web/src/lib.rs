//! The HTTP layer of Choucha: the JSON API under `/api/v1` (documented at `/api/openapi.json`), the
//! HTML pages (askama + htmx, Chinese, phone-friendly), sessions and static assets. Handlers only
//! translate HTTP to use cases of `choucha_service` and back; they hold no rules and no permissions.

pub mod api;
pub mod auth;
pub mod error;
pub mod pages;
pub mod session_store;
pub mod state;
pub mod statics;
pub mod text_guard;

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::{Expiry, SessionManagerLayer};

pub use state::AppState;

/// Largest request body: registry imports of a few hundred thousand rows fit.
const BODY_LIMIT: usize = 200 * 1024 * 1024;

/// The whole application.
pub fn router(state: AppState) -> Router {
    let sessions = SessionManagerLayer::new(session_store::DbSessionStore::new(state.services.store.clone()))
        .with_name("choucha_session")
        .with_http_only(true)
        .with_same_site(tower_sessions::cookie::SameSite::Lax)
        .with_secure(state.secure_cookies)
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(8)));
    let (api_router, openapi) = api::router().split_for_parts();
    let openapi_json = serde_json::to_string(&openapi).unwrap_or_else(|_| "{}".into());
    Router::new()
        .route("/healthz", get(healthz))
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
        .fallback(error::fallback)
        .layer(axum::middleware::from_fn(auth::csrf_guard))
        .layer(axum::middleware::from_fn_with_state(state.clone(), text_guard::text_guard))
        .layer(sessions)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.services.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::warn!("health check failed: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// Serve until `shutdown` resolves, then finish the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let store = state.services.store.clone();
    // Expired sessions are swept every hour.
    let sweeper = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(e) = store.session_delete_expired(chrono::Utc::now()).await {
                tracing::warn!("session sweep failed: {e}");
            }
        }
    });
    let r = axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await;
    sweeper.abort();
    r
}
