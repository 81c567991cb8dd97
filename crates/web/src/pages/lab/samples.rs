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
    /// The hand-overs of the sample the caller is party to (issue 18): what a tester confirms.
    pub hand_overs: Vec<choucha_service::custody_hands::HandOverView>,
}

pub(super) async fn sample(
    Page { state: st, session, actor: a }: Page,
    PagePath(code): PagePath<String>,
) -> PageResult<SamplePage> {
    let v = lab::sample(&st.services, &a, &code).await?;
    let hand_overs = choucha_service::custody_hands::hand_overs_of_sample(&st.services, &a, &code).await?;
    Ok(SamplePage {
        hand_overs,
        tester: v.actions.contains(&Action::RecordResults),
        screener: v.actions.contains(&Action::Screen) && v.state == SampleState::Screening,
        v,
        today: st.services.today().to_string(),
        chrome: chrome(&session, Some(&a), "lab").await,
    })
}

/// One item's result as the page posts it: `value`, `method`, `instrument` (with `_{index}` in the
/// whole-sample form) and its `kind` (number | text | pass_fail).
fn result_of(
    kind: &str,
    value: &str,
    method: &str,
    instrument: &str,
    tested_on: Option<chrono::NaiveDate>,
) -> Result<ResultInput, String> {
    let mut input =
        ResultInput { method: method.to_string(), instrument: instrument.to_string(), tested_on, ..Default::default() };
    match kind {
        "number" => match value.trim().parse::<f64>() {
            Ok(v) if v.is_finite() => input.value = Some(v),
            _ => return Err(format!("检验结果“{}”须为数值", value.trim())),
        },
        "pass_fail" => input.pass = Some(value == "pass"),
        _ => input.text = Some(value.to_string()),
    }
    Ok(input)
}

pub(super) fn sample_href(code: &str) -> String {
    format!("/lab/samples/{}", code.trim().to_uppercase())
}

/// The results form: every item of the sample in one form and one save (`value_{i}`, `kind_{i}`,
/// `method_{i}`, `instrument_{i}`, one `tested_on`; items left blank are not entered), or one item
/// (`item_index`, `value`, `kind`…).
pub(super) async fn enter_result(
    Page { state: st, session, actor: a }: Page,
    PagePath(code): PagePath<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let back = sample_href(&code);
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    let tested_on = chrono::NaiveDate::parse_from_str(&get("tested_on"), "%Y-%m-%d").ok();
    if !get("item_index").is_empty() {
        let Ok(index) = get("item_index").parse::<i32>() else {
            return not_done(&session, "检验项目不存在", &back).await;
        };
        let mut input = match result_of(&get("kind"), &get("value"), &get("method"), &get("instrument"), tested_on) {
            Ok(i) => i,
            Err(m) => return not_done(&session, &m, &back).await,
        };
        input.item_index = Some(index);
        return done(&session, lab::enter_result(&st.services, &a, &code, input).await, &back, |_| "已保存检验结果")
            .await;
    }
    let mut inputs = Vec::new();
    let mut problems = Vec::new();
    let indexes: std::collections::BTreeSet<i32> =
        pairs.iter().filter_map(|(k, _)| k.strip_prefix("value_").and_then(|i| i.parse::<i32>().ok())).collect();
    for i in indexes {
        let value = get(&format!("value_{i}"));
        if value.is_empty() {
            continue;
        }
        let kind = get(&format!("kind_{i}"));
        match result_of(&kind, &value, &get(&format!("method_{i}")), &get(&format!("instrument_{i}")), tested_on) {
            Ok(mut input) => {
                input.item_index = Some(i);
                inputs.push(input);
            }
            Err(m) => problems.push(format!("第{}项：{m}", i + 1)),
        }
    }
    if !problems.is_empty() {
        return not_done(&session, &problems.join("；"), &back).await;
    }
    let n = inputs.len();
    done(&session, lab::enter_results(&st.services, &a, &code, inputs).await, &back, |_| {
        format!("已保存{n}个检验项目的结果")
    })
    .await
}

/// Results of this sample imported from the instrument's CSV or Excel sheet (检验项目, 检验结果,
/// optionally 检验方法, 仪器设备, 检验日期; a 盲样编号 column, if present, must name this sample).
pub(super) async fn import_sample_results(
    Page { state: st, session, actor: a }: Page,
    PagePath(code): PagePath<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult<Response> {
    let back = sample_href(&code);
    let mut form = match crate::pages::respond::read_form(multipart, &["file"], "文件").await {
        Ok(f) => f,
        Err(m) => return not_done(&session, &m, &back).await,
    };
    let Some(file) = form.take_file("file").filter(|f| !f.bytes.is_empty()) else {
        return not_done(&session, "请选择要导入的 .xlsx 或 .csv 文件", &back).await;
    };
    let out = lab::import_sample_results(&st.services, &a, &code, &file.file_name, file.bytes.to_vec()).await;
    match out {
        Ok(o) if o.errors.is_empty() => {
            crate::pages::respond::flash_to(&session, &format!("已导入{}个检验项目的结果", o.written), &back).await
        }
        Ok(o) => {
            let lines: Vec<String> =
                o.errors.iter().take(10).map(|e| format!("第{}行：{}", e.row, e.message)).collect();
            not_done(&session, &format!("未导入，表格有误：{}", lines.join("；")), &back).await
        }
        Err(e) => done(&session, Err::<(), _>(e), &back, |_| "").await,
    }
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

#[derive(Debug, Deserialize)]
pub struct ConfirmHandOverForm {
    #[serde(default)]
    pub(super) use_stored_signature: Option<String>,
}

/// The other party (the sample's tester) confirms a hand-over from the sample's page (issue 18).
pub(super) async fn confirm_hand_over(
    Page { state: st, session, actor: a }: Page,
    PagePath((code, id)): PagePath<(String, i64)>,
    PageForm(f): PageForm<ConfirmHandOverForm>,
) -> PageResult<Response> {
    let back = sample_href(&code);
    let input = choucha_service::custody_hands::ConfirmInput {
        use_stored_signature: f.use_stored_signature.is_some(),
        ..Default::default()
    };
    done(&session, choucha_service::custody_hands::confirm(&st.services, &a, id, input).await, &back, |v| {
        format!("已确认交接：{}", v.kind_label)
    })
    .await
}
