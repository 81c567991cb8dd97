//! The home page: one section per role the user holds, with that role's duties and the work it can
//! open.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use choucha_domain::access::Action;
use choucha_domain::role::Role;
use choucha_service::handover::{self, EntryFlag, EntryFlags};
use choucha_service::registry::{self, EnterpriseView};
use tower_sessions::Session;

use crate::AppState;
use crate::auth::PageActor;
use crate::error::PageResult;
use crate::filters;
use crate::pages::{Chrome, chrome};

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(home))
}

pub struct Link {
    pub href: &'static str,
    pub label: &'static str,
    pub desc: &'static str,
}

pub struct RoleSection {
    pub code: &'static str,
    pub title: String,
    pub duties: &'static str,
    pub links: Vec<Link>,
    /// Rule 16 entry deadlines (samplers: their own tasks; regulators: their bureau's plans).
    pub entry: Option<EntryPanel>,
    /// Unread items of the bureau's inbox.
    pub unread: Option<u64>,
    /// Deliveries of results past their due date (custodians, the organising bureau): the count
    /// shown, and whether there are more.
    pub overdue_deliveries: Option<(usize, bool)>,
    /// Sample disposals due and overdue (rule 19: custodians, the organising bureau).
    pub disposals: Option<(u64, u64)>,
    /// Post-processing cases the bureau runs with an overdue step (rule 20).
    pub overdue_cases: Option<u64>,
}

impl RoleSection {
    pub fn unread_count(&self) -> u64 {
        self.unread.unwrap_or(0)
    }
    pub fn overdue_count(&self) -> usize {
        self.overdue_deliveries.map(|(n, _)| n).unwrap_or(0)
    }
    pub fn overdue_more(&self) -> bool {
        self.overdue_deliveries.is_some_and(|(_, more)| more)
    }
    pub fn disposals_due(&self) -> u64 {
        self.disposals.map(|(d, _)| d).unwrap_or(0)
    }
    pub fn disposals_overdue(&self) -> u64 {
        self.disposals.map(|(_, o)| o).unwrap_or(0)
    }
    pub fn cases_overdue(&self) -> u64 {
        self.overdue_cases.unwrap_or(0)
    }
}

/// One task flagged by rule 16, as the dashboard lists it.
pub struct FlagLine {
    pub href: String,
    pub text: String,
    pub deadline: chrono::DateTime<chrono::Utc>,
}

pub struct EntryPanel {
    pub overdue: Vec<FlagLine>,
    pub late: Vec<FlagLine>,
}

const FLAGS_SHOWN: usize = 10;

fn panel(f: EntryFlags) -> EntryPanel {
    let line = |x: &EntryFlag| FlagLine {
        href: format!("/tasks/{}", x.task_id),
        text: format!("{}（{}）", x.enterprise_name, x.product),
        deadline: x.deadline,
    };
    EntryPanel { overdue: f.overdue.iter().map(line).collect(), late: f.late.iter().map(line).collect() }
}

impl EntryPanel {
    pub fn overdue_shown(&self) -> &[FlagLine] {
        &self.overdue[..self.overdue.len().min(FLAGS_SHOWN)]
    }
    pub fn late_shown(&self) -> &[FlagLine] {
        &self.late[..self.late.len().min(FLAGS_SHOWN)]
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    pub chrome: Chrome,
    pub greeting: String,
    pub sections: Vec<RoleSection>,
    pub enterprise: Option<EnterpriseView>,
}

const REGISTRY: Link = Link {
    href: "/registry", label: "企业名录库", desc: "检查对象名录库：查询、新增、导入与导出"
};
const CALENDAR: Link =
    Link { href: "/calendar", label: "工作日历", desc: "法定节假日与调休安排，期限计算" };
const PLANS: Link = Link {
    href: "/plans", label: "抽查计划", desc: "附件1产品表、承担机构、实施细则与随机抽取"
};
const PLAN_RULES: Link =
    Link {
        href: "/plans", label: "抽查计划（实施细则）", desc: "承担的产品：起草、提交实施细则，查看备案与公开状态"
    };
const TASKS: Link =
    Link {
        href: "/tasks", label: "我的抽样任务", desc: "随机抽取分配的企业、抽样组与期限，现场开始抽样"
    };
const AUDIT: Link =
    Link { href: "/admin/audit", label: "审计日志", desc: "所有操作的留痕记录（哈希链防篡改）" };

fn section(role: Role) -> RoleSection {
    let (duties, links): (&'static str, Vec<Link>) = match role {
        Role::SystemAdmin => (
            "管理用户账号、机构、工作日历、企业名录等系统设置。角色由安全管理员授予，审计日志由审计管理员查阅（三权分立）。",
            vec![
                Link {
                    href: "/admin/users", label: "用户管理", desc: "新建账号、维护所属机构、停用、重置密码"
                },
                Link { href: "/admin/orgs", label: "机构管理", desc: "市场监管局与检验检测机构" },
                CALENDAR,
                REGISTRY,
            ],
        ),
        Role::SecurityAdmin => (
            "授予、撤销用户角色，解锁账号，维护安全策略。不建立账号，不办理业务（三权分立）。",
            vec![Link { href: "/admin/users", label: "用户与角色", desc: "为账号授予或撤销角色" }],
        ),
        Role::AuditAdmin => ("查阅、校验、导出审计日志。不管理账号与角色，不办理业务（三权分立）。", vec![AUDIT]),
        Role::Regulator => (
            "制定抽查计划与任务分配，审核备案实施细则，审批备用样品封存，审查问题与拒检，发布抽查结果。",
            vec![PLANS, REGISTRY, AUDIT, CALENDAR],
        ),
        Role::LocalRegulator => (
            "协助本辖区抽样，会同认定拒检，负责本辖区企业不合格产品的后处理。",
            vec![
                PLANS,
                Link {
                    href: "/registry", label: "本辖区企业名录", desc: "查询与维护本辖区的检查对象"
                },
                CALENDAR,
            ],
        ),
        Role::Sampler => (
            "按随机抽取结果到企业现场抽样，记录抽样单、证据、封样与付费信息（抽样人员不少于2人）。",
            vec![TASKS, REGISTRY, CALENDAR],
        ),
        Role::SampleCustodian => {
            ("接收样品并核对封条与抽样单，编制盲样编号，保管备用样品，处置样品。", vec![PLAN_RULES, CALENDAR])
        }
        Role::Tester => (
            "按实施细则检验盲样并录入结果。检验人员只看到盲样编号，看不到被抽样企业（盲样检验）。",
            vec![PLAN_RULES, CALENDAR],
        ),
        Role::ReportApprover => {
            ("审核、批准检验报告（编制、审核、批准须为三个不同的人）。", vec![PLAN_RULES, CALENDAR])
        }
        Role::Enterprise => {
            ("查看本企业的抽查通知与检验报告，在收到结果之日起15日内提出异议或复检申请，上传整改报告。", vec![CALENDAR])
        }
    };
    RoleSection {
        code: role.as_str(),
        title: format!("{}工作台", role.label()),
        duties,
        links,
        entry: None,
        unread: None,
        overdue_deliveries: None,
        disposals: None,
        overdue_cases: None,
    }
}

const INBOX: Link =
    Link {
        href: "/inbox", label: "待办事项", desc: "问题报送、拒检认定、备用样品封存申请与未抽样任务"
    };

async fn home(State(state): State<AppState>, session: Session, PageActor(actor): PageActor) -> PageResult<HomePage> {
    let enterprise =
        if actor.may(Action::ViewOwnResults) { registry::own_enterprise(&state.services, &actor).await? } else { None };
    let s = &state.services;
    let mut sections = Vec::new();
    for role in actor.roles.iter().copied() {
        let mut sec = section(role);
        match role {
            Role::Sampler => sec.entry = Some(panel(handover::entry_flags_of_sampler(s, &actor).await?)),
            Role::Regulator if actor.org_id.is_some() => {
                sec.entry = Some(panel(handover::entry_flags_of_bureau(s, &actor).await?));
            }
            _ => {}
        }
        if matches!(role, Role::Regulator | Role::SampleCustodian) && actor.org_id.is_some() {
            let q =
                choucha_service::results::DeliveryQuery { overdue: Some(true), limit: Some(100), ..Default::default() };
            let p = choucha_service::results::list(s, &actor, q).await?;
            sec.overdue_deliveries = Some((p.items.len(), p.next.is_some()));
        }
        if matches!(role, Role::Regulator | Role::SampleCustodian) && actor.org_id.is_some() {
            sec.disposals = Some(choucha_service::disposal::counts(s, &actor).await?);
        }
        if matches!(role, Role::Regulator | Role::LocalRegulator) && actor.org_id.is_some() {
            sec.overdue_cases = Some(choucha_service::cases::overdue_count(s, &actor).await?);
        }
        if matches!(role, Role::Regulator | Role::LocalRegulator) && crate::pages::inbox::has_inbox(&actor) {
            sec.unread = Some(handover::unread_inbox(s, &actor).await?);
            sec.links.insert(0, INBOX);
        }
        sections.push(sec);
    }
    Ok(HomePage {
        greeting: format!("{}，您好", actor.display_name),
        sections,
        enterprise,
        chrome: chrome(&session, Some(&actor), "home").await,
    })
}
