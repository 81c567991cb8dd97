//! Security headers on every response (等保三级, 入侵防范): pages, API, static files, error pages, the
//! fallback, body-limit refusals and the API documentation all pass through [`security_headers`],
//! the outermost layer of [`crate::router`].
//!
//! - `Content-Security-Policy`: scripts only from the binary's own static files (`script-src 'self'`,
//!   no inline script, no `eval`, no inline event handler); styles from the static files plus inline
//!   `style="…"` attributes (`'unsafe-inline'` for styles only: the templates still carry layout
//!   attributes); images and media also from `data:`/`blob:` URLs (signature canvases, photo
//!   previews); no plugin, no `<base>` elsewhere, forms only to this site, no framing.
//! - `X-Frame-Options: DENY` (browsers without `frame-ancestors`), `X-Content-Type-Options: nosniff`,
//!   `Referrer-Policy: same-origin`.
//! - `Strict-Transport-Security` only when the request arrived over HTTPS: `serve` terminates TLS
//!   itself, or a proxy the configuration trusts (`trust_proxy_https`) says `X-Forwarded-Proto: https`.
//!   Never on plain HTTP otherwise: a browser would pin an HTTPS the server does not offer.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

/// The policy of every response.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob:; media-src 'self' blob:; font-src 'self' data:; connect-src 'self'; \
object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// One year, subdomains included.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Adds the headers; a handler's own value of any of them is replaced.
pub async fn security_headers(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let https = st.tls || (st.trust_proxy_https && forwarded_https(req.headers()));
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    let set = |h: &mut HeaderMap, name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CSP);
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "same-origin");
    if https {
        set(h, header::STRICT_TRANSPORT_SECURITY, HSTS);
    } else {
        h.remove(header::STRICT_TRANSPORT_SECURITY);
    }
    response
}

/// `X-Forwarded-Proto: https` (the first value when a chain of proxies appended theirs).
fn forwarded_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_https_forwarded_proto_counts() {
        let mut h = HeaderMap::new();
        assert!(!forwarded_https(&h));
        h.insert("x-forwarded-proto", HeaderValue::from_static("http"));
        assert!(!forwarded_https(&h));
        h.insert("x-forwarded-proto", HeaderValue::from_static("HTTPS, http"));
        assert!(forwarded_https(&h));
    }

    #[test]
    fn scripts_are_strict() {
        let script = CSP.split(';').find(|d| d.trim().starts_with("script-src")).unwrap_or_default();
        assert_eq!(script.trim(), "script-src 'self'");
        assert!(CSP.contains("frame-ancestors 'none'") && CSP.contains("object-src 'none'"));
    }
}
