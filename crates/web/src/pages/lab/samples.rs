//! The tester's screens by blind code (`/lab/samples`): the worklist, a sample with its results,
//! completion, licence check, screening and report preparation.

use super::*;

#[derive(Template, WebTemplate)]
#[template(path = "lab/worklist.html")]
pub struct WorklistPage {
    pub chrome: Chrome,
    pub items: Vec<BlindSampleSummary>,
    pub q: String,
    /// The state filter's choices (rejected samples are the custodian's, cleared ones need nothing).
    pub states: Vec<StateOption>,
    pub next_href: Option<String>,
}

pub(super) const WORKLIST_STATES: [SampleState; 6] = [
    SampleState::Screening,
    SampleState::Accepted,
    SampleState::Testing,
    SampleState::Tested,
    SampleState::Reported,
    SampleState::Stopped,
];

#[derive(Debug, Default, Deserialize)]
pub struct WorklistForm {
    #[serde(default)]
    q: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::blank_as_none")]
    state: Option<SampleState>,
    #[serde(default)]
    mine: Option<String>,
    #[serde(default)]
    overdue: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

pub(super) async fn worklist(
    Page { state: st, session, actor: a }: Page,
    Query(f): Query<WorklistForm>,
) -> PageResult<WorklistPage> {
    let p = lab::worklist(
        &st.services,
        &a,
        WorklistQuery {
            state: f.state,
            mine: Some(f.mine.is_some()),
            overdue: Some(f.overdue.is_some()),
            q: f.q.clone(),
            cursor: f.cursor.clone(),
            limit: Some(50),
        },
    )
    .await?;
    let next_href = p.next.map(|c| {
        format!(
            "/lab/samples{}",
            query_string(&[
                ("q", f.q.as_deref()),
                ("state", f.state.map(SampleState::as_str)),
                ("mine", f.mine.as_deref()),
                ("overdue", f.overdue.as_deref()),
                ("cursor", Some(c.as_str())),
            ])
        )
    });
    Ok(WorklistPage {
        items: p.items,
        q: f.q.unwrap_or_default(),
        states: WORKLIST_STATES
            .iter()
            .map(|s| StateOption { value: s.as_str(), label: s.label(), selected: f.state == Some(*s) })
            .collect(),
        next_href,
        chrome: chrome(&session, Some(&a), "lab").await,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "lab/sample.html")]
pub struct SamplePage {
    pub chrome: Chrome,
    pub v: BlindSampleView,
    pub tester: bool,
    pub screener: bool,
    pub today: String,
}

pub(super) async fn sample(
    Page { state: st, session, actor: a }: Page,
    PagePath(code): PagePath<String>,
) -> PageResult<SamplePage> {
    let v = lab::sample(&st.services, &a, &code).await?;
    Ok(SamplePage {
        tester: v.actions.contains(&Action::RecordResults),
        screener: v.actions.contains(&Action::Screen) && v.state == SampleState::Screening,
        v,
        today: st.services.today().to_string(),
        chrome: chrome(&session, Some(&a), "lab").await,
    })
}

#[derive(Debug, Deserialize)]
pub struct ResultForm {
    item_index: i32,
    /// number | text | pass_fail
    kind: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    instrument: String,
    #[serde(default)]
    tested_on: String,
}

pub(super) fn sample_href(code: &str) -> String {
    format!("/lab/samples/{}", code.trim().to_uppercase())
}

pub(super) async fn enter_result(
    Page { state: st, session, actor: a }: Page,
    PagePath(code): PagePath<String>,
    PageForm(f): PageForm<ResultForm>,
) -> PageResult<Response> {
    let back = sample_href(&code);
    let mut input = ResultInput {
        item_index: Some(f.item_index),
        method: f.method,
        instrument: f.instrument,
        tested_on: chrono::NaiveDate::parse_from_str(f.tested_on.trim(), "%Y-%m-%d").ok(),
        ..Default::default()
    };
    match f.kind.as_str() {
        "number" => match f.value.trim().parse::<f64>() {
            Ok(v) => input.value = Some(v),
            Err(_) => return not_done(&session, "检验结果须为数值", &back).await,
        },
        "pass_fail" => input.pass = Some(f.value == "pass"),
        _ => input.text = Some(f.value),
    }
    done(&session, lab::enter_result(&st.services, &a, &code, input).await, &back, |_| "已保存检验结果").await
}

pub(super) async fn complete(
    Page { state: st, session, actor: a }: Page,
    PagePath(code): PagePath<String>,
) -> PageResult<Response> {
    let back = sample_href(&code);
    done(&session, lab::complete_results(&st.services, &a, &code).await, &back, |v| {
        format!("结果已提交：{}", v.conclusion)
    })
    .await
}

pub(super) async fn licence_check(
    Page { state: st, session, actor: a }: Page,
    PagePath(code): PagePath<String>,
) -> PageResult<Response> {
    let back = sample_href(&code);
    done(&session, lab::check_licence(&st.services, &a, &code).await, &back, |c| c.state_label).await
}

#[derive(Debug, Deserialize)]
pub struct ScreeningForm {
    result: String,
    #[serde(default)]
    note: String,
}

pub(super) async fn screen(
    Page { state: st, session, actor: a }: Page,
    PagePath(code): PagePath<String>,
    PageForm(f): PageForm<ScreeningForm>,
) -> PageResult<Response> {
    let back = sample_href(&code);
    done(
        &session,
        lab::screen(&st.services, &a, &code, ScreeningInput { result: f.result, note: f.note }).await,
        &back,
        |v| format!("已录入筛查结果：{}", v.state_label),
    )
    .await
}

pub(super) async fn prepare(
    Page { state: st, session, actor: a }: Page,
    PagePath(code): PagePath<String>,
    PageForm(f): PageForm<SignOffInput>,
) -> PageResult<Response> {
    let back = sample_href(&code);
    done(&session, lab::prepare_report(&st.services, &a, &code, f).await, &back, |_| "报告已编制，待审核").await
}
