//! Static assets, embedded in the binary (the app needs no internet and no CDN). Every script a
//! page runs is one of these files: the Content-Security-Policy (`headers`) allows no other.

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;

const FILES: &[(&str, &str, &[u8])] = &[
    ("htmx.min.js", "text/javascript; charset=utf-8", include_bytes!("../static/htmx.min.js")),
    ("app.css", "text/css; charset=utf-8", include_bytes!("../static/app.css")),
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../static/app.js")),
    ("sampling.js", "text/javascript; charset=utf-8", include_bytes!("../static/sampling.js")),
    ("sampling.css", "text/css; charset=utf-8", include_bytes!("../static/sampling.css")),
    ("signoff.js", "text/javascript; charset=utf-8", include_bytes!("../static/signoff.js")),
    ("rows.js", "text/javascript; charset=utf-8", include_bytes!("../static/rows.js")),
    ("field.js", "text/javascript; charset=utf-8", include_bytes!("../static/field.js")),
    ("outbox.js", "text/javascript; charset=utf-8", include_bytes!("../static/outbox.js")),
    ("icon-192.png", "image/png", include_bytes!("../static/icon-192.png")),
    ("icon-512.png", "image/png", include_bytes!("../static/icon-512.png")),
];

/// The field app's service worker; `__CACHE_VERSION__` is replaced by [`version`].
const SERVICE_WORKER: &str = include_str!("../static/sw.js");

/// The web app manifest: the sampler's pages installed on a phone's home screen.
const MANIFEST: &str = r##"{
  "name": "抽查 · 现场抽样",
  "short_name": "现场抽样",
  "description": "产品质量监督抽查的现场抽样：没有网络也能打开当天的任务、实施细则和表单",
  "lang": "zh-CN",
  "dir": "ltr",
  "id": "/tasks",
  "start_url": "/tasks",
  "scope": "/",
  "display": "standalone",
  "background_color": "#ffffff",
  "theme_color": "#1f5fa8",
  "icons": [
    {"src": "/static/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
    {"src": "/static/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any maskable"}
  ]
}
"##;

/// The build's version of the static files: the service worker's cache name carries it, so a new
/// binary (a changed script, style or worker) replaces the phones' caches on their next visit.
pub fn version() -> &'static str {
    static V: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        env!("CARGO_PKG_VERSION").hash(&mut h);
        SERVICE_WORKER.hash(&mut h);
        for (name, _, bytes) in FILES {
            name.hash(&mut h);
            bytes.hash(&mut h);
        }
        format!("{}-{:016x}", env!("CARGO_PKG_VERSION"), h.finish())
    })
}

/// `/sw.js` and `/app.webmanifest`, at the root so that the worker's scope covers the pages.
pub fn root_router() -> Router<AppState> {
    Router::new().route("/sw.js", get(service_worker)).route("/app.webmanifest", get(manifest))
}

async fn service_worker() -> Response {
    let body = SERVICE_WORKER.replace("__CACHE_VERSION__", version());
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            // Browsers check the worker for updates on every visit; never an old one from a cache.
            (header::CACHE_CONTROL, "no-cache"),
            (header::HeaderName::from_static("service-worker-allowed"), "/"),
        ],
        body,
    )
        .into_response()
}

async fn manifest() -> Response {
    ([(header::CONTENT_TYPE, "application/manifest+json"), (header::CACHE_CONTROL, "no-cache")], MANIFEST)
        .into_response()
}

pub fn router() -> Router<AppState> {
    Router::new().route("/{file}", get(asset))
}

async fn asset(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, mime, bytes)) => {
            ([(header::CONTENT_TYPE, *mime), (header::CACHE_CONTROL, "public, max-age=3600")], *bytes).into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
