//! The API contract, checked against the served OpenAPI document (issue 14, item 6): every
//! operation's documented parameters match its route and their place (`in: path` only for the
//! route's own parameters, everything else `in: query`); every operation documents its error
//! answers with the `{code, message}` schema, 401 where it needs a token; no schema name is used by
//! two types; and the server keeps the document's word: a malformed id (`abc`) and a missing token
//! are answered `{code, message}` JSON with a Chinese message, never axum's English text/plain.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use common::{TestServer, is_chinese};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn route_params(path: &str) -> Vec<String> {
    path.split('{').skip(1).filter_map(|s| s.split_once('}')).map(|(name, _)| name.to_string()).collect()
}

/// Follow a `$ref` into the document.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => r.trim_start_matches("#/").split('/').fold(doc, |at, key| &at[key]),
        None => v,
    }
}

/// Whether a documented response answers JSON with a `code` and a `message`.
fn is_error_shape(doc: &Value, response: &Value) -> bool {
    let response = resolve(doc, response);
    let schema = resolve(doc, &response["content"]["application/json"]["schema"]);
    let props = &schema["properties"];
    props.get("code").is_some() && props.get("message").is_some()
}

/// The problem with an answer that should be a refusal in `{code, message}` JSON, if any.
async fn refusal_problem(r: reqwest::Response) -> Option<String> {
    let status = r.status();
    let json =
        r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").starts_with("application/json");
    let text = r.text().await.unwrap_or_default();
    if !status.is_client_error() {
        return Some(format!("answered {status}, not 4xx: {text}"));
    }
    if !json {
        return Some(format!("answered {status} without JSON: {text}"));
    }
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let (Some(code), Some(message)) = (body["code"].as_str(), body["message"].as_str()) else {
        return Some(format!("answered {status} without {{code, message}}: {text}"));
    };
    if code.is_empty() || !is_chinese(message) {
        return Some(format!("answered {status} without a Chinese message: {text}"));
    }
    let english = ["Failed to", "Cannot parse", "Invalid URL", "invalid type", "expected"];
    if english.iter().any(|w| message.contains(w)) {
        return Some(format!("answered {status} with the parser's English in the message: {text}"));
    }
    None
}

#[tokio::test]
async fn every_operation_keeps_the_documented_error_contract() {
    let srv = TestServer::start().await;
    let doc: Value = reqwest::get(srv.url("/api/openapi.json")).await.unwrap().json().await.unwrap();
    let token = srv.token("admin").await;
    let client = reqwest::Client::new();
    let mut problems = Vec::new();
    let mut operations = 0;
    let mut probed = 0;

    for clash in choucha_web::api::schema_name_clashes() {
        problems.push(format!("schema name used by two types: {clash}"));
    }

    let empty = Map::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let in_route = route_params(path);
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            operations += 1;
            let label = format!("{} {path}", method.to_uppercase());
            let params = op["parameters"].as_array().cloned().unwrap_or_default();

            // Parameters: the route's own in the path, the rest in the query.
            let mut documented_path = Vec::new();
            for p in &params {
                let name = p["name"].as_str().unwrap_or_default().to_string();
                match p["in"].as_str() {
                    Some("path") if in_route.contains(&name) => documented_path.push(name),
                    Some("path") => problems.push(format!(
                        "{label}: parameter “{name}” is declared in: path but the route has no {{{name}}} (a query parameter?)"
                    )),
                    Some("query" | "header") => {}
                    other => problems.push(format!("{label}: parameter “{name}” declared in {other:?}")),
                }
            }
            for name in &in_route {
                if !documented_path.contains(name) {
                    problems.push(format!("{label}: path parameter {{{name}}} is not documented"));
                }
            }

            // Error answers: documented, with the error schema.
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            let responses = op["responses"].as_object().unwrap_or(&empty);
            let mut expected = vec!["400", "404", "422"];
            if secured {
                expected.extend(["401", "403"]);
            }
            if method != "get" {
                expected.push("409");
            }
            for status in expected {
                match responses.get(status) {
                    None => problems.push(format!("{label}: {status} not documented")),
                    Some(r) if !is_error_shape(&doc, r) && status != "422" => {
                        problems.push(format!("{label}: {status} documented without the {{code, message}} schema"))
                    }
                    Some(_) => {}
                }
            }

            // The server: `abc` for every integer id, everything else plausible.
            let integer = |name: &str| {
                params
                    .iter()
                    .any(|p| p["name"] == name && p["in"] == "path" && resolve(&doc, &p["schema"])["type"] == "integer")
            };
            let with = |bad: bool| {
                in_route.iter().fold(path.clone(), |url, name| {
                    let value = if integer(name) { if bad { "abc" } else { "1" } } else { "x" };
                    url.replace(&format!("{{{name}}}"), value)
                })
            };
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            if in_route.iter().any(|n| integer(n)) {
                probed += 1;
                let r = client.request(m.clone(), srv.url(&with(true))).bearer_auth(&token).send().await.unwrap();
                if let Some(p) = refusal_problem(r).await {
                    problems.push(format!("{label} with abc: {p}"));
                }
            }
            if secured {
                let r = client.request(m, srv.url(&with(false))).send().await.unwrap();
                if r.status() != StatusCode::UNAUTHORIZED {
                    problems.push(format!("{label} without a token: answered {}, not 401", r.status()));
                } else if let Some(p) = refusal_problem(r).await {
                    problems.push(format!("{label} without a token: {p}"));
                }
            }
        }
    }
    assert!(operations > 100, "the document lists every operation ({operations})");
    assert!(probed > 100, "most operations take an id ({probed})");
    assert!(problems.is_empty(), "{} contract problems:\n{}", problems.len(), problems.join("\n"));
}

#[tokio::test]
async fn a_malformed_id_answers_bad_path_in_chinese() {
    let srv = TestServer::start().await;
    let api = srv.api("admin").await;
    let (status, body) = api.get("/api/v1/plans/abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "bad_path");
    let message = body["message"].as_str().unwrap();
    assert!(message.starts_with("路径参数无效"), "{message}");
    assert!(message.contains("“id”") && message.contains("abc"), "{message}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "serde's words go to detail: {body}");

    // A page answers a Chinese page, not text/plain.
    let browser = srv.browser("admin").await;
    let r = browser.client.get(srv.url("/admin/audit/abc")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let ct = r.headers().get("content-type").unwrap().to_str().unwrap().to_string();
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(r.text().await.unwrap().contains("路径参数无效"));
}

#[tokio::test]
async fn out_of_range_paging_is_refused_not_clamped() {
    let srv = TestServer::start().await;
    let api = srv.api("admin").await;
    for limit in ["0", "201", "100000"] {
        let (status, body) = api.get(&format!("/api/v1/users?limit={limit}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "limit={limit}: {body}");
        assert_eq!(body["code"], "invalid_limit");
        assert!(body["message"].as_str().unwrap().contains("200"), "names the bound: {body}");
        assert_eq!(body["errors"][0]["field"], "limit");
    }
    let (status, _) = api.get("/api/v1/users?limit=200").await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = api.get("/api/v1/users?limit=-1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "bad_query");
    assert!(is_chinese(body["message"].as_str().unwrap()) && !body["message"].as_str().unwrap().contains("invalid"));
}

#[tokio::test]
async fn field_errors_carry_the_path_of_a_list_item() {
    let srv = TestServer::start().await;
    srv.fx.user("dt_reg", &["regulator"], Some("dt")).await;
    let reg = srv.api("dt_reg").await;
    let item = |product: &str, quota: Value| json!({"number": "1", "category": "电子电器", "product": product, "quota": quota, "scopes": "生产者、销售者"});
    let plan = |items: Vec<Value>| json!({"plan": {"year": 2025, "title": "测试抽查", "organising_org_code": "dt"}, "items": items});

    // The service's rule: the third item's quota.
    let (status, body) =
        reg.post("/api/v1/plans", plan(vec![item("甲", json!(3)), item("乙", json!(2)), item("丙", json!(0))])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let errors = body["errors"].as_array().unwrap();
    let quota = errors.iter().find(|e| e["field"] == "items[2].quota").unwrap_or_else(|| panic!("{body}"));
    assert!(is_chinese(quota["message"].as_str().unwrap()), "{quota}");

    // The JSON's shape: a string where a number belongs.
    let (status, body) = reg.post("/api/v1/plans", plan(vec![item("甲", json!(3)), item("乙", json!("两"))])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "bad_json");
    assert_eq!(body["errors"][0]["field"], "items[1].quota", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("items[1].quota") && !message.contains("invalid type"), "{message}");
    assert!(body["detail"].as_str().unwrap().contains("invalid type"), "{body}");

    // Not JSON at all.
    let r = reg
        .client
        .post(srv.url("/api/v1/plans"))
        .bearer_auth(&reg.token)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "bad_json");
    assert_eq!(body["message"], "请求内容不是有效的 JSON");
}
