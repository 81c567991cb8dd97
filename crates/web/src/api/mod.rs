//! The JSON API under `/api/v1`. Every route is registered through `utoipa_axum::routes!`, so
//! `/api/openapi.json` documents all of them.

pub mod analysis;
pub mod announcements;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod cases;
pub mod custody;
pub mod disposals;
pub mod documents;
pub mod draws;
pub mod evidence;
pub mod handover;
pub mod lab;
pub mod national_export;
pub mod organisations;
pub mod overview;
pub mod plans;
pub mod registry;
pub mod results;
pub mod retests;
pub mod sampling;
pub mod users;
pub mod verify;

use utoipa::OpenApi;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "抽查 Choucha API", version = "1", description = "产品质量监督抽查系统接口。错误统一返回 {code, message}。\
        调用者以令牌（Authorization: Bearer）或网页登录会话（Cookie choucha_session）认证；以会话认证时，修改数据的请求\
        （POST、PUT、PATCH、DELETE）须在 X-CSRF-Token 请求头中带上页面的令牌，否则答 403 csrf_token。撤销令牌只接受令牌本身。"),
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
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "choucha_session",
                "网页登录会话；修改数据的请求须在 X-CSRF-Token 请求头中带上页面的令牌",
            ))),
        );
    }
}

/// Operations that take a bearer token only (`crate::auth::BearerActor`), never the session cookie.
const TOKEN_ONLY: [(&str, &str); 1] = [("delete", "/api/v1/auth/token")];

/// Every operation that takes a bearer token takes the pages' session cookie as well
/// (`crate::auth::ApiActor`), except those of `TOKEN_ONLY`: document the second way in.
pub fn document_session(doc: &mut utoipa::openapi::OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops = [("get", &mut item.get), ("post", &mut item.post), ("put", &mut item.put)];
        let more = [("patch", &mut item.patch), ("delete", &mut item.delete)];
        for (method, op) in ops.into_iter().chain(more) {
            let Some(security) = op.as_mut().and_then(|op| op.security.as_mut()) else { continue };
            if !security.is_empty() && !TOKEN_ONLY.contains(&(method, path.as_str())) {
                security.push(SecurityRequirement::new("session", Vec::<String>::new()));
            }
        }
    }
}

/// The module routers of the API, by module name.
fn modules() -> Vec<(&'static str, OpenApiRouter<AppState>)> {
    vec![
        ("auth", auth::router()),
        ("users", users::router()),
        ("organisations", organisations::router()),
        ("audit", audit::router()),
        ("calendar", calendar::router()),
        ("documents", documents::router()),
        ("registry", registry::router()),
        ("plans", plans::router()),
        ("draws", draws::router()),
        ("disposals", disposals::router()),
        ("cases", cases::router()),
        ("sampling", sampling::router()),
        ("evidence", evidence::router()),
        ("handover", handover::router()),
        ("custody", custody::router()),
        ("lab", lab::router()),
        ("results", results::router()),
        ("retests", retests::router()),
        ("overview", overview::router()),
        ("national_export", national_export::router()),
        ("announcements", announcements::router()),
        ("analysis", analysis::router()),
        ("verify", verify::router()),
    ]
}

pub fn router() -> OpenApiRouter<AppState> {
    modules().into_iter().fold(OpenApiRouter::with_openapi(ApiDoc::openapi()), |all, (_, m)| all.merge(m))
}

/// Schema names that two modules define differently. The OpenAPI document keeps one schema per
/// name, so such a clash documents one module's operations with the other's type (give one of
/// the types `#[schema(as = …)]`). Empty when every name is unique.
pub fn schema_name_clashes() -> Vec<String> {
    let mut seen: std::collections::BTreeMap<String, (&'static str, String)> = Default::default();
    let mut clashes = Vec::new();
    for (module, r) in modules() {
        let (_, doc) = r.split_for_parts();
        for (name, schema) in doc.components.map(|c| c.schemas).unwrap_or_default() {
            let json = serde_json::to_string(&schema).unwrap_or_default();
            match seen.get(&name) {
                Some((other, j)) if *j != json => clashes.push(format!("{name}: {other} ≠ {module}")),
                Some(_) => {}
                None => {
                    seen.insert(name, (module, json));
                }
            }
        }
    }
    clashes
}

/// The error answers every operation shares, each `{code, message}` (`ErrorBody`): named once
/// under `components.responses` and referenced by each operation that does not document its own.
/// 401 and 403 only where the operation needs a bearer token; 409 only on writes.
pub fn document_errors(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::Operation;
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};

    const SHARED: [(&str, &str, &str); 6] = [
        (
            "400",
            "BadRequest",
            "请求格式有误：路径参数（如非数字的编号）、查询参数或请求体无法解析（code 为 bad_path、bad_query、bad_json 等）",
        ),
        ("401", "Unauthorized", "未登录或令牌无效、已过期"),
        ("403", "Forbidden", "无权执行此操作"),
        ("404", "NotFound", "对象不存在或调用者无权看到"),
        ("409", "Conflict", "与对象当前状态或业务规则冲突"),
        ("422", "Unprocessable", "输入有误：errors 列出每个问题，field 为字段路径（如 items[2].quota）"),
    ];
    let components = doc.components.get_or_insert_with(Default::default);
    for (_, name, description) in SHARED {
        let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
        let response = ResponseBuilder::new().description(description).content("application/json", content).build();
        components.responses.insert(name.to_string(), RefOr::T(response));
    }
    let add = |op: &mut Operation, write: bool| {
        let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
        for (status, name, _) in SHARED {
            let applies = match status {
                "401" | "403" => secured,
                "409" => write,
                _ => true,
            };
            if applies {
                op.responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
            }
        }
    };
    for item in doc.paths.paths.values_mut() {
        let ops = [(&mut item.get, false), (&mut item.post, true), (&mut item.put, true)];
        let more = [(&mut item.patch, true), (&mut item.delete, true)];
        for (op, write) in ops.into_iter().chain(more) {
            if let Some(op) = op {
                add(op, write);
            }
        }
    }
}
