//! New and edit: the plan header and its Annex 1 item rows as typed, checked by the service.

use super::*;

/// An organisation offered in a select.
#[derive(Clone)]
pub struct OrgChoice {
    pub id: i64,
    pub code: String,
    pub name: String,
}

pub(super) async fn org_choices(
    s: &Services,
    actor: &Actor,
    filter: OrgFilter,
) -> Result<Vec<OrgChoice>, ServiceError> {
    let page = organisations::list(s, actor, &filter, None, Some(200)).await?;
    Ok(page
        .items
        .into_iter()
        .map(|o| OrgChoice {
            id: o.id,
            name: if o.active { o.name } else { format!("{}（已停用）", o.name) },
            code: o.code,
        })
        .collect())
}

/// The institutions of each capability, and the bureaus that may organise a check.
pub struct OrgLists {
    pub sampling: Vec<OrgChoice>,
    pub testing: Vec<OrgChoice>,
    pub screening: Vec<OrgChoice>,
    pub bureaus: Vec<OrgChoice>,
}

impl OrgLists {
    pub(super) async fn load(s: &Services, actor: &Actor) -> Result<OrgLists, ServiceError> {
        let cap = |c: &str| OrgFilter { capability: Some(c.to_string()), ..Default::default() };
        let kind = |k: &str| OrgFilter { kind: Some(k.to_string()), ..Default::default() };
        let mut bureaus = org_choices(s, actor, kind("province_bureau")).await?;
        bureaus.extend(org_choices(s, actor, kind("city_bureau")).await?);
        Ok(OrgLists {
            sampling: org_choices(s, actor, cap("sampling")).await?,
            testing: org_choices(s, actor, cap("testing")).await?,
            screening: org_choices(s, actor, cap("screening")).await?,
            bureaus,
        })
    }

    fn codes(&self) -> BTreeMap<i64, String> {
        [&self.sampling, &self.testing, &self.screening, &self.bureaus]
            .into_iter()
            .flatten()
            .map(|o| (o.id, o.code.clone()))
            .collect()
    }
}

/// The plan header as typed.
#[derive(Debug, Default, Clone)]
pub struct PlanValues {
    pub year: String,
    pub title: String,
    pub organising_org_code: String,
    pub doc_no: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub domains: String,
    pub deadline_delivery: String,
    pub deadline_data_entry: String,
    pub deadline_summary: String,
    pub unqualified_report_days: String,
    pub budget_yuan: String,
    pub notes: String,
}

/// One item row as typed, with its problems.
#[derive(Debug, Default, Clone)]
pub struct ItemValues {
    pub number: String,
    pub category: String,
    pub product: String,
    pub quota: String,
    pub scopes: String,
    pub sampling: String,
    pub testing: String,
    pub screening: String,
    pub errors: Vec<String>,
}

impl ItemValues {
    fn is_blank(&self) -> bool {
        [&self.number, &self.category, &self.product, &self.quota, &self.scopes].iter().all(|v| v.trim().is_empty())
    }
}

pub(super) fn values_of(d: &PlanDraft) -> (PlanValues, Vec<ItemValues>) {
    let p = &d.plan;
    let v = PlanValues {
        year: if p.year == 0 { String::new() } else { p.year.to_string() },
        title: p.title.clone(),
        organising_org_code: p.organising_org_code.clone().unwrap_or_default(),
        doc_no: p.doc_no.clone(),
        contact_name: p.contact_name.clone(),
        contact_phone: p.contact_phone.clone(),
        domains: p.domains.clone(),
        deadline_delivery: p.deadline_delivery.clone().unwrap_or_default(),
        deadline_data_entry: p.deadline_data_entry.clone().unwrap_or_default(),
        deadline_summary: p.deadline_summary.clone().unwrap_or_default(),
        unqualified_report_days: p.unqualified_report_days.map(|d| d.to_string()).unwrap_or_default(),
        budget_yuan: p.budget_yuan.clone().unwrap_or_default(),
        notes: p.notes.clone(),
    };
    let rows = d
        .items
        .iter()
        .map(|i| ItemValues {
            number: i.number.clone(),
            category: i.category.clone(),
            product: i.product.clone(),
            quota: i.quota.map(|q| q.to_string()).unwrap_or_default(),
            scopes: i.scopes.clone(),
            sampling: i.sampling_org_code.clone().unwrap_or_default(),
            testing: i.testing_org_code.clone().unwrap_or_default(),
            screening: i.screening_org_code.clone().unwrap_or_default(),
            errors: Vec::new(),
        })
        .collect();
    (v, rows)
}

/// The posted form: the header and one value of each item field per row (selects always post, so
/// the repeated fields line up). Blank rows are dropped.
pub(super) fn parse_form(f: &FormData) -> (PlanValues, Vec<ItemValues>) {
    let v = PlanValues {
        year: f.get("year").trim().to_string(),
        title: f.get("title"),
        organising_org_code: f.get("organising_org_code").trim().to_string(),
        doc_no: f.get("doc_no"),
        contact_name: f.get("contact_name"),
        contact_phone: f.get("contact_phone"),
        domains: f.get("domains"),
        deadline_delivery: f.get("deadline_delivery").trim().to_string(),
        deadline_data_entry: f.get("deadline_data_entry").trim().to_string(),
        deadline_summary: f.get("deadline_summary").trim().to_string(),
        unqualified_report_days: f.get("unqualified_report_days").trim().to_string(),
        budget_yuan: f.get("budget_yuan").trim().to_string(),
        notes: f.get("notes"),
    };
    let cols: Vec<Vec<String>> = [
        "number",
        "category",
        "product",
        "quota",
        "scopes",
        "sampling_org_code",
        "testing_org_code",
        "screening_org_code",
    ]
    .iter()
    .map(|k| f.all(k))
    .collect();
    let n = cols.iter().map(Vec::len).max().unwrap_or(0);
    let at =
        |c: usize, i: usize| cols.get(c).and_then(|col| col.get(i)).map(|s| s.trim().to_string()).unwrap_or_default();
    let rows = (0..n)
        .map(|i| ItemValues {
            number: at(0, i),
            category: at(1, i),
            product: at(2, i),
            quota: at(3, i),
            scopes: at(4, i),
            sampling: at(5, i),
            testing: at(6, i),
            screening: at(7, i),
            errors: Vec::new(),
        })
        .filter(|r| !r.is_blank())
        .collect();
    (v, rows)
}

pub(super) fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    if t.is_empty() { None } else { Some(t.to_string()) }
}

/// The draft the service checks. Numbers that are not numbers are refused here, at the edge.
pub(super) fn draft_of(v: &PlanValues, rows: &mut [ItemValues], errors: &mut FieldErrors) -> PlanDraft {
    let days = match opt(&v.unqualified_report_days) {
        None => None,
        Some(d) => d.parse::<i32>().map(Some).unwrap_or_else(|_| {
            errors.add("unqualified_report_days", &format!("不合格报告报送期限“{d}”应为天数（整数）"));
            None
        }),
    };
    let plan = PlanInput {
        // A year that is not a number is refused by the service's range check.
        year: v.year.parse().unwrap_or(0),
        title: v.title.clone(),
        organising_org_code: opt(&v.organising_org_code),
        doc_no: v.doc_no.clone(),
        contact_name: v.contact_name.clone(),
        contact_phone: v.contact_phone.clone(),
        domains: v.domains.clone(),
        deadline_delivery: opt(&v.deadline_delivery),
        deadline_data_entry: opt(&v.deadline_data_entry),
        deadline_summary: opt(&v.deadline_summary),
        unqualified_report_days: days,
        budget_yuan: opt(&v.budget_yuan),
        notes: v.notes.clone(),
    };
    let mut items = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter_mut().enumerate() {
        let q = r.quota.trim().trim_end_matches("批次").trim().to_string();
        let quota = if q.is_empty() {
            None
        } else {
            match q.parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    let m = format!("第{}个产品：抽查批次“{}”应为正整数（留空表示与上一行共用批次）", i + 1, r.quota);
                    errors.add("quota", &m);
                    r.errors.push(m);
                    None
                }
            }
        };
        items.push(ItemInput {
            number: r.number.clone(),
            category: r.category.clone(),
            product: r.product.clone(),
            quota,
            scopes: r.scopes.clone(),
            sampling_org_code: opt(&r.sampling),
            testing_org_code: opt(&r.testing),
            screening_org_code: opt(&r.screening),
        });
    }
    PlanDraft { plan, items }
}

/// Spread the service's problems over the header fields and the item rows.
pub(super) fn place_errors(
    e: ServiceError,
    rows: &mut [ItemValues],
    errors: &mut FieldErrors,
) -> Result<(), ServiceError> {
    match e {
        ServiceError::Invalid(vs) => {
            for v in vs {
                if let Some(r) = v.index_in("items").and_then(|i| rows.get_mut(i)) {
                    r.errors.push(v.message.clone());
                    errors.add("items", &v.message);
                } else {
                    errors.add(v.field.as_deref().unwrap_or(""), &v.message);
                }
            }
            Ok(())
        }
        e @ (ServiceError::Rule(_) | ServiceError::Duplicate(_) | ServiceError::Conflict) => {
            errors.add("", &body_of(&e).message);
            Ok(())
        }
        other => Err(other),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "plans/form.html")]
pub struct FormPage {
    pub chrome: Chrome,
    pub heading: String,
    pub action: String,
    pub cancel_href: String,
    pub v: PlanValues,
    pub rows: Vec<ItemValues>,
    /// The blank row the "添加一行" button copies.
    pub blank: Vec<ItemValues>,
    pub orgs: OrgLists,
    pub errors: FieldErrors,
}

/// What the form shows: the values as typed (or stored) and their problems.
pub struct Typed {
    pub v: PlanValues,
    pub rows: Vec<ItemValues>,
    pub errors: FieldErrors,
}

impl FormPage {
    async fn render(
        s: &Services,
        session: &Session,
        actor: &Actor,
        (heading, action, cancel_href): (String, String, String),
        Typed { v, mut rows, errors }: Typed,
        status: StatusCode,
    ) -> PageResult<Response> {
        if rows.is_empty() {
            rows.push(ItemValues::default());
        }
        let page = FormPage {
            heading,
            action,
            cancel_href,
            v,
            rows,
            blank: vec![ItemValues::default()],
            orgs: OrgLists::load(s, actor).await?,
            errors,
            chrome: chrome(session, Some(actor), "plans").await,
        };
        Ok((status, page).into_response())
    }
}

pub(super) fn new_labels() -> (String, String, String) {
    ("新建抽查计划".into(), "/plans/new".into(), "/plans".into())
}

pub(super) fn edit_labels(id: i64, title: &str) -> (String, String, String) {
    (format!("编辑计划草稿：{title}"), format!("/plans/{id}/edit"), format!("/plans/{id}"))
}

pub(super) async fn new_form(Page { state, session, actor }: Page) -> PageResult<Response> {
    actor.require(Action::CreatePlan)?;
    let s = &state.services;
    let own_code = match actor.org_id {
        Some(id) => organisations::get(s, &actor, id).await.ok().map(|o| o.code).unwrap_or_default(),
        None => String::new(),
    };
    let v = PlanValues { year: this_year(s).to_string(), organising_org_code: own_code, ..Default::default() };
    let rows = vec![ItemValues::default(), ItemValues::default(), ItemValues::default()];
    let typed = Typed { v, rows, errors: FieldErrors::default() };
    FormPage::render(s, &session, &actor, new_labels(), typed, StatusCode::OK).await
}

/// The current year in Beijing, by the clock.
pub fn this_year(s: &Services) -> i32 {
    use chrono::Datelike;
    s.today().year()
}

pub(super) async fn create(
    Page { state, session, actor }: Page,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let s = &state.services;
    let (v, mut rows) = parse_form(&FormData(pairs));
    let mut errors = FieldErrors::default();
    let draft = draft_of(&v, &mut rows, &mut errors);
    if errors.is_empty() {
        match plans::create(s, &actor, draft).await {
            Ok(view) => {
                let to = format!("/plans/{}", view.id);
                return flash_to(&session, &format!("已保存计划草稿“{}”", view.title), &to).await;
            }
            Err(e) => place_errors(e, &mut rows, &mut errors)?,
        }
    }
    let typed = Typed { v, rows, errors };
    FormPage::render(s, &session, &actor, new_labels(), typed, StatusCode::UNPROCESSABLE_ENTITY).await
}

pub(super) async fn edit_form(
    Page { state, session, actor }: Page,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let s = &state.services;
    let view = plans::get(s, &actor, id_of(&id, "计划")?).await?;
    if !manages(&actor, view.organising_org_id) {
        return Err(ServiceError::Forbidden("只有组织该抽查的部门可以修改此计划".into()).into());
    }
    if view.state != PlanState::Draft {
        return Err(ServiceError::Rule(RuleViolation::new("plan_state", "计划已下达，只能通过变更记录调整批次")).into());
    }
    let mut codes = OrgLists::load(s, &actor).await?.codes();
    if let Ok(o) = organisations::get(s, &actor, view.organising_org_id).await {
        codes.insert(o.id, o.code);
    }
    let (v, rows) = values_of(&plans::to_draft(&view, &codes));
    let typed = Typed { v, rows, errors: FieldErrors::default() };
    FormPage::render(s, &session, &actor, edit_labels(view.id, &view.title), typed, StatusCode::OK).await
}

pub(super) async fn update(
    Page { state, session, actor }: Page,
    PagePath(id): PagePath<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let s = &state.services;
    let id = id_of(&id, "计划")?;
    let (v, mut rows) = parse_form(&FormData(pairs));
    let mut errors = FieldErrors::default();
    let draft = draft_of(&v, &mut rows, &mut errors);
    if errors.is_empty() {
        match plans::update_draft(s, &actor, id, draft).await {
            Ok(view) => {
                let to = format!("/plans/{id}");
                return flash_to(&session, &format!("已保存计划草稿“{}”", view.title), &to).await;
            }
            Err(e) => place_errors(e, &mut rows, &mut errors)?,
        }
    }
    let title = if v.title.trim().is_empty() { "计划".to_string() } else { v.title.clone() };
    let typed = Typed { v, rows, errors };
    FormPage::render(s, &session, &actor, edit_labels(id, &title), typed, StatusCode::UNPROCESSABLE_ENTITY).await
}
