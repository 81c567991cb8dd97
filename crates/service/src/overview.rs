//! One view of a plan for its organising bureau (数据录入及时性与看板): quota progress per item and
//! per shared quota, sampling tasks and lab samples by state, the final results so far, and every
//! overdue duty — sampling information not entered (rule 16), results not entered, deliveries not
//! made, sample confirmations awaited past their deadline or denied and not investigated, objections
//! not decided, disposals and post-processing steps not done — each with who owes it.

use choucha_domain::retest::ConfirmationState;
use choucha_store::{organisations, overview as store};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

use crate::access::Ask;
use crate::plans::{self, PlanView};
use crate::{Actor, Result, Services};
use choucha_domain::access::Action;

/// How many overdue duties of each kind the overview lists.
const DUTY_LIMIT: u64 = 200;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuotaLine {
    pub number: String,
    /// The products sharing the quota (one unless it is shared).
    pub products: String,
    pub shared: bool,
    pub quota: i32,
    pub tasks: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = OverviewStateCount)]
pub struct StateCount {
    pub state: String,
    pub label: String,
    pub count: i64,
}

/// One overdue duty: what, since when, who owes it, where to act.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Duty {
    /// entry | testing | delivery | confirmation | objection | disposal | post_processing
    pub kind: String,
    pub kind_label: String,
    pub what: String,
    pub due: Option<NaiveDate>,
    pub owed_by: String,
    pub href: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanOverview {
    pub plan_id: i64,
    pub title: String,
    pub organising_org: String,
    pub quotas: Vec<QuotaLine>,
    pub total_quota: i64,
    pub total_tasks: i64,
    pub tasks_by_state: Vec<StateCount>,
    pub samples_by_state: Vec<StateCount>,
    pub reported: i64,
    pub qualified: i64,
    pub unqualified: i64,
    pub duties: Vec<Duty>,
    pub today: NaiveDate,
}

fn duty(kind: &str, what: String, due: Option<NaiveDate>, owed_by: String, href: Option<String>) -> Duty {
    let kind_label = match kind {
        "entry" => "抽样信息录入",
        "testing" => "检验结果录入",
        "delivery" => "结果送达",
        "confirmation" => "样品确认",
        "objection" => "异议处理",
        "disposal" => "样品处置",
        _ => "不合格后处理",
    };
    Duty { kind: kind.into(), kind_label: kind_label.into(), what, due, owed_by, href }
}

/// The overview of a plan, for its organising bureau (and administrators).
pub async fn plan_overview(s: &Services, actor: &Actor, plan_id: i64) -> Result<PlanOverview> {
    let plan: PlanView = plans::get(s, actor, plan_id).await?;
    actor.to_plan(plan.organising_org_id).require_or(Action::ViewOverview, "抽查看板由组织抽查的部门查看")?;
    // A dashboard: from the lagging reader (a replica when configured).
    let db = s.store.lagging_reader();
    let today = s.today();
    let quotas = plan
        .items
        .iter()
        .filter(|i| i.group_first)
        .map(|first| {
            let members: Vec<_> = plan.items.iter().filter(|i| i.group_id == first.group_id).collect();
            QuotaLine {
                number: first.number.clone(),
                products: members.iter().map(|i| i.product.as_str()).collect::<Vec<_>>().join("、"),
                shared: members.len() > 1,
                quota: first.group_quota,
                tasks: first.group_tasks,
            }
        })
        .collect();
    let tasks_by_state = store::tasks_by_state(db, plan_id)
        .await?
        .into_iter()
        .map(|(state, count)| StateCount { label: state.label().to_string(), state: state.as_str().to_string(), count })
        .collect();
    let samples_by_state = store::samples_by_state(db, plan_id)
        .await?
        .into_iter()
        .map(|(state, count)| StateCount { label: state.label().to_string(), state: state.as_str().to_string(), count })
        .collect();
    let (mut reported, mut qualified, mut unqualified) = (0, 0, 0);
    for (q, n) in store::results_of_plan(db, plan_id).await? {
        reported += n;
        match q {
            Some(true) => qualified += n,
            Some(false) => unqualified += n,
            None => {}
        }
    }

    let mut names: BTreeMap<i64, String> = BTreeMap::new();
    let mut org = async |id: i64| -> String {
        if let Some(n) = names.get(&id) {
            return n.clone();
        }
        let n = organisations::get(db, id).await.map(|o| o.name).unwrap_or_default();
        names.insert(id, n.clone());
        n
    };
    let product_of = |item_id: i64| plan.items.iter().find(|i| i.id == item_id).map(|i| i.product.clone());
    let mut duties = Vec::new();

    // Rule 16: sampling information entered by the day after sampling.
    if let Ok(flags) = crate::entry_deadlines::entry_flags_of_bureau(s, actor).await {
        for f in flags.overdue.into_iter().filter(|f| f.plan_id == plan_id) {
            let owed = plan
                .items
                .iter()
                .find(|i| i.product == f.product)
                .and_then(|i| i.sampling_org.clone())
                .unwrap_or_else(|| "抽样机构".into());
            duties.push(duty(
                "entry",
                format!("{}：{}", f.product, f.enterprise_name),
                Some(choucha_domain::sampling::utc_to_local(f.deadline).date()),
                owed,
                Some(format!("/tasks/{}", f.task_id)),
            ));
        }
    }
    // Rule 16: test results within 3 working days after testing.
    for x in store::overdue_testing(db, plan_id, today, DUTY_LIMIT).await? {
        let product = product_of(x.item_id).unwrap_or_default();
        duties.push(duty(
            "testing",
            format!("{product}（{}）", x.blind_code.clone().unwrap_or_default()),
            x.results_due,
            org(x.testing_org_id).await,
            None,
        ));
    }
    // Rules 16 and 17: deliveries by the plan's date, to the organising bureau within 7 days.
    for d in store::overdue_deliveries(db, plan_id, today, DUTY_LIMIT).await? {
        duties.push(duty(
            "delivery",
            format!(
                "送达{}（{}）",
                d.recipient_name,
                choucha_domain::results::Recipient::parse(&d.recipient).map(|r| r.label()).unwrap_or("")
            ),
            d.due_on,
            org(d.testing_org_id).await,
            Some("/results?overdue=1".into()),
        ));
    }
    // Rule 23: confirmations awaited past the deadline (the lapse to record) or denied (to investigate).
    for c in store::open_confirmations(db, plan_id, today, DUTY_LIMIT).await? {
        let (what, owed) = if c.state == ConfirmationState::Denied {
            (format!("{}否认样品为其产品，待调查核实", c.producer_name), plan.organising_org.clone())
        } else {
            (format!("{}逾期未答复，待登记", c.producer_name), org(c.testing_org_id).await)
        };
        duties.push(duty("confirmation", what, Some(c.due_on), owed, Some("/retests".into())));
    }
    // Rule 18: objections waiting for the bureau's decision.
    for o in choucha_store::results::objections_of_bureau(
        db,
        plan.organising_org_id,
        Some(choucha_domain::results::ObjectionState::Pending),
        None,
        DUTY_LIMIT,
    )
    .await?
    .items
    {
        let sample = choucha_store::lab::get_sample(db, o.sample_id).await?;
        if sample.plan_id != plan_id {
            continue;
        }
        duties.push(duty(
            "objection",
            format!("{}：{}", if o.kind == "retest" { "复检申请" } else { "异议" }, o.items.replace('\n', "、")),
            Some(o.filed_on),
            plan.organising_org.clone(),
            Some("/results".into()),
        ));
    }
    // Rules 19 and 20: disposals and post-processing steps past their time.
    for w in crate::cases::overdue_of_plan(s, plan_id, DUTY_LIMIT).await? {
        let (kind, href) = if w.kind == "disposal" {
            ("disposal", "/disposals?filter=overdue".to_string())
        } else {
            ("post_processing", format!("/cases/{}", w.id))
        };
        duties.push(duty(kind, w.what, w.due_on, w.owed_by, Some(href)));
    }
    duties.sort_by_key(|d| d.due);
    Ok(PlanOverview {
        plan_id,
        title: plan.title.clone(),
        organising_org: plan.organising_org.clone(),
        quotas,
        total_quota: plan.total_quota,
        total_tasks: plan.total_tasks,
        tasks_by_state,
        samples_by_state,
        reported,
        qualified,
        unqualified,
        duties,
        today,
    })
}
