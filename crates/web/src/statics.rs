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
];

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
