//! Per-address throttling of sign-in: the page's `POST /login` and `POST /login/code` (the second
//! factor) and `POST /api/v1/auth/token` share one quota per peer address (`tower_governor`'s keyed
//! limiter and peer-address key, sized by the security policy). A throttled request gets 429: `{code, message}` in Chinese on the API,
//! a Chinese page otherwise. Account lockout is the service's (`auth::lockout`).

use std::sync::Arc;

use axum::Json;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use choucha_service::auth::SecurityPolicy;
use governor::middleware::NoOpMiddleware;
use tower_governor::governor::{GovernorConfig, GovernorConfigBuilder};
use tower_governor::key_extractor::{KeyExtractor, PeerIpKeyExtractor};

use crate::error::{ErrorBody, error_page};

/// Code of the API's answer to a throttled sign-in.
pub const THROTTLED_CODE: &str = "too_many_requests";

/// The shared sign-in quota.
#[derive(Clone)]
pub struct SignInThrottle {
    config: Arc<GovernorConfig<PeerIpKeyExtractor, NoOpMiddleware<governor::clock::QuantaInstant>>>,
}

impl SignInThrottle {
    /// The quota of `policy`: a burst of `sign_in_burst`, then one more every `sign_in_refill_seconds`.
    pub fn new(policy: &SecurityPolicy) -> Option<Self> {
        let config = GovernorConfigBuilder::default()
            .per_second(policy.sign_in_refill_seconds.max(1))
            .burst_size(policy.sign_in_burst.max(1))
            .finish()?;
        Some(Self { config: Arc::new(config) })
    }

    fn is_sign_in(req: &Request) -> bool {
        req.method() == Method::POST && matches!(req.uri().path(), "/login" | "/login/code" | "/api/v1/auth/token")
    }

    /// Lets a sign-in through while its address has quota left; every other request passes.
    pub async fn guard(self, req: Request, next: Next) -> Response {
        if Self::is_sign_in(&req)
            && let Ok(ip) = PeerIpKeyExtractor.extract(&req)
            && self.config.limiter().check_key(&ip).is_err()
        {
            tracing::warn!(%ip, path = req.uri().path(), "sign-in throttled");
            let message = "登录尝试过于频繁，请稍后再试";
            return if req.uri().path().starts_with("/api/") {
                (StatusCode::TOO_MANY_REQUESTS, Json(ErrorBody::new(THROTTLED_CODE, message))).into_response()
            } else {
                error_page(StatusCode::TOO_MANY_REQUESTS, "登录过于频繁", "登录尝试过于频繁，请稍后再试。")
            };
        }
        next.run(req).await
    }
}
