//! The searchable registry list, its CSV export and the import template.

use super::*;

#[derive(Template, WebTemplate)]
#[template(path = "registry/list.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub q: String,
    pub division: String,
    pub kinds: Vec<Choice>,
    pub statuses: Vec<Choice>,
    pub items: Vec<EnterpriseView>,
    /// "共 12 家" or "超过 10000 家".
    pub count_label: String,
    pub error: Option<String>,
    pub next_href: Option<String>,
    /// Shown on pages after the first.
    pub first_href: Option<String>,
    pub export_href: String,
    pub can_edit: bool,
}

/// Counting stops here: past it the list says "超过 …".
pub(super) const COUNT_CAP: u64 = 10_000;

pub(super) async fn list(
    Page { state, session, actor }: Page,
    query: Result<Query<RegistryQuery>, QueryRejection>,
) -> PageResult<Response> {
    let Ok(Query(mut q)) = query else {
        return Ok(error_page(StatusCode::BAD_REQUEST, "查询条件有误", "查询条件格式错误，请返回名录库重新查询。"));
    };
    q.limit = Some(50);
    let s = &state.services;
    let result = match registry::search(s, &actor, &q).await {
        Ok(page) => {
            let n = registry::count_up_to(s, &actor, &q, COUNT_CAP + 1).await?;
            Ok((page, n))
        }
        // A bad filter is shown on the list itself; no permission at all is a 403 page.
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Forbidden(_))) if actor.may(Action::ViewRegistry) => Err(e),
        Err(e) => return Err(e.into()),
    };
    let filters = encode_query(&q, None);
    let (items, count_label, error, next_href) = match result {
        Ok((page, n)) => {
            let label = if n > COUNT_CAP { format!("超过 {COUNT_CAP} 家") } else { format!("共 {n} 家") };
            let next = page.next.as_deref().map(|c| with_query("/registry", &encode_query(&q, Some(c))));
            (page.items, label, None, next)
        }
        Err(e) => (Vec::new(), String::new(), Some(body_of(&e).message), None),
    };
    let has_cursor = q.cursor.as_deref().is_some_and(|c| !c.is_empty());
    let page = ListPage {
        q: q.q.clone().unwrap_or_default(),
        division: q.division.clone().unwrap_or_default(),
        kinds: EnterpriseKind::ALL
            .into_iter()
            .map(|k| Choice { value: k.as_str(), label: k.label(), selected: q.kind.as_deref() == Some(k.as_str()) })
            .collect(),
        statuses: status_choices(q.status.as_deref().unwrap_or_default()),
        items,
        count_label,
        error,
        next_href,
        first_href: has_cursor.then(|| with_query("/registry", &filters)),
        export_href: with_query("/registry/export.xlsx", &filters),
        can_edit: actor.may(Action::EditRegistry),
        chrome: chrome(&session, Some(&actor), "registry").await,
    };
    Ok(page.into_response())
}

pub(super) async fn export(
    State(state): State<AppState>,
    PageActor(actor): PageActor,
    query: Result<Query<RegistryQuery>, QueryRejection>,
) -> PageResult<Response> {
    let Ok(Query(q)) = query else {
        return Ok(error_page(StatusCode::BAD_REQUEST, "查询条件有误", "查询条件格式错误，请返回名录库重新查询。"));
    };
    let bytes = choucha_service::registry_import::export_xlsx(
        &state.services,
        &actor,
        &q,
        choucha_service::registry_import::EXPORT_MAX_ROWS,
    )
    .await?;
    let date = state.services.today().format("%Y%m%d");
    Ok(xlsx_download(bytes, &format!("企业名录-{date}.xlsx"), &format!("enterprises-{date}.xlsx")))
}

pub(super) async fn template(PageActor(actor): PageActor) -> PageResult<Response> {
    let bytes = registry_import::template_xlsx(&actor)?;
    Ok(xlsx_download(bytes, "企业名录导入模板.xlsx", "enterprise-import-template.xlsx"))
}
