//! Where a request comes from: the peer's address (the server is served with connect info) and the
//! user agent, recorded with sign-ins, failures, unlocks and sessions.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use choucha_service::auth::Client;

/// The client of this request (an empty address when the server runs without connect info).
pub struct ClientInfo(pub Client);

/// The peer address of a request, if the server knows it.
pub fn peer(parts_extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    parts_extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0)
}

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo {
    type Rejection = Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let address = peer(&parts.extensions).map(|a| a.ip().to_string()).unwrap_or_default();
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(200)
            .collect();
        Ok(ClientInfo(Client { address, user_agent }))
    }
}
