//! Shared state of the handlers.

use choucha_service::Services;

#[derive(Clone, Debug)]
pub struct AppState {
    pub services: Services,
    /// Send cookies only over HTTPS (set when served behind TLS).
    pub secure_cookies: bool,
}

impl AppState {
    pub fn new(services: Services) -> Self {
        Self { services, secure_cookies: false }
    }
}
