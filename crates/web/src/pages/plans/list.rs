//! The plan list with its year and state filters.

use super::*;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    year: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

pub struct StateChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "plans/list.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub year: String,
    pub states: Vec<StateChoice>,
    pub plans: Vec<PlanSummary>,
    pub error: Option<String>,
    pub next_href: Option<String>,
    pub first_href: Option<String>,
    pub can_create: bool,
}

pub(super) async fn list(
    Page { state, session, actor }: Page,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> PageResult<Response> {
    let Ok(Query(q)) = query else {
        return Ok(error_page(StatusCode::BAD_REQUEST, "查询条件有误", "查询条件格式错误，请返回计划列表重新查询。"));
    };
    actor.require(Action::ViewPlans)?;
    let year_text = q.year.as_deref().map(str::trim).unwrap_or_default().to_string();
    let state_code = q.state.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let mut error = None;
    let state_filter = match crate::extract::parse_state::<PlanState>(state_code.as_deref()) {
        Ok(s) => s,
        Err(_) => {
            error = Some("状态应为草稿、已下达或已结束".to_string());
            None
        }
    };
    let year = if year_text.is_empty() {
        None
    } else {
        match year_text.parse::<i32>() {
            Ok(y) => Some(y),
            Err(_) => {
                error = Some(format!("年度“{year_text}”应为4位数字，如 2025"));
                None
            }
        }
    };
    let cursor = q.cursor.as_deref().and_then(|c| c.trim().parse::<i64>().ok());
    let (plans, next) = if error.is_none() {
        let page =
            plans::list(&state.services, &actor, &PlanQuery { year, state: state_filter, cursor, limit: Some(50) })
                .await?;
        (page.items, page.next)
    } else {
        (Vec::new(), None)
    };
    let filters = [("year", Some(year_text.as_str())), ("state", state_code.as_deref())];
    let next_href = next.map(|c| {
        let mut pairs = filters.to_vec();
        pairs.push(("cursor", Some(c.as_str())));
        format!("/plans{}", query_string(&pairs))
    });
    let page = ListPage {
        states: [PlanState::Draft, PlanState::Issued, PlanState::Closed]
            .into_iter()
            .map(|s| StateChoice {
                value: s.as_str(),
                label: s.label(),
                selected: state_code.as_deref() == Some(s.as_str()),
            })
            .collect(),
        year: year_text.clone(),
        plans,
        error,
        next_href,
        first_href: cursor.map(|_| format!("/plans{}", query_string(&filters))),
        can_create: actor.may(Action::CreatePlan),
        chrome: chrome(&session, Some(&actor), "plans").await,
    };
    Ok(page.into_response())
}
