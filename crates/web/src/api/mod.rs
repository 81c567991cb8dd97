//! The JSON API under `/api/v1`. Every route is registered through `utoipa_axum::routes!`, so
//! `/api/openapi.json` documents all of them.

pub mod announcements;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod documents;
pub mod draws;
pub mod evidence;
pub mod followup;
pub mod handover;
pub mod lab;
pub mod organisations;
pub mod overview;
pub mod plans;
pub mod registry;
pub mod results;
pub mod retests;
pub mod sampling;
pub mod users;

use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "抽查 Choucha API", version = "1", description = "产品质量监督抽查系统接口。错误统一返回 {code, message}。"),
    modifiers(&BearerAuth),
    components(schemas(crate::error::ErrorBody, crate::error::FieldError))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::router())
        .merge(users::router())
        .merge(organisations::router())
        .merge(audit::router())
        .merge(calendar::router())
        .merge(documents::router())
        .merge(registry::router())
        .merge(plans::router())
        .merge(draws::router())
        .merge(followup::router())
        .merge(sampling::router())
        .merge(evidence::router())
        .merge(handover::router())
        .merge(lab::router())
        .merge(results::router())
        .merge(retests::router())
        .merge(overview::router())
        .merge(announcements::router())
}
