//! The permission matrix: who may do what, in one table.
//!
//! An actor stands in one or more [`Relation`]s to the object of an action: some come from the
//! actor's roles alone (an administrator, a regulator, an institution's tester), the others from
//! the object (the bureau that organises the sample's plan, the sampler on the task's team, the
//! blind tester of the sample's testing institution, the enterprise that was sampled). The service
//! works the relations out once per request and asks [`allows`]; nothing else decides access.
//!
//! [`GRANTS`] is the table: one row per [`Action`], naming the relations that may take it. Rule 13
//! (blind testing) is a property of the table, checked by its tests (`access/tests.rs`): no blind relation is ever
//! granted an action that reveals who was sampled.

use std::fmt;

use crate::role::Role;

/// How an actor stands towards the object of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Relation {
    // ---- From the actor's roles alone -------------------------------------------------------
    /// 系统管理员: accounts, organisations, calendars, foundation data and settings (三权分立).
    SystemAdministrator,
    /// 安全管理员: grants and revokes roles, unlocks accounts, the security policy.
    SecurityAdministrator,
    /// 审计管理员: reads, verifies and exports the audit log, and nothing else.
    AuditAdministrator,
    /// 监管人员 of any bureau (province or city) — system-wide actions such as creating a plan.
    Regulator,
    /// 监管人员 of a provincial bureau: the province's rule sets, its cases.
    ProvincialRegulator,
    /// 县局人员 of any local bureau.
    LocalRegulator,
    /// 抽样人员 of an institution.
    InstitutionSampler,
    /// 样品管理员 of an institution.
    InstitutionCustodian,
    /// 检验人员 of an institution.
    InstitutionTester,
    /// 审核/批准人 of an institution.
    InstitutionApprover,
    /// 企业用户 acting for a registry entry.
    EnterpriseUser,

    // ---- From the object --------------------------------------------------------------------
    /// A regulator of the bureau that organises the object's plan.
    OrganisingBureau,
    /// Staff of the local bureau of the sampled enterprise's division.
    LocalBureau,
    /// Staff of the bureau a post-processing case is assigned to.
    HandlingBureau,
    /// A sampler on the task's team.
    SamplingTeam,
    /// A sampler of the plan item's sampling institution.
    SamplingInstitution,
    /// The sample custodian of the testing institution: receives against the record, sees the link.
    Custodian,
    /// A tester of the testing institution (blind).
    Tester,
    /// A reviewer/approver of the testing institution (blind).
    Approver,
    /// A tester of the item's screening institution (blind).
    Screener,
    /// Staff (any lab role) of the item's testing institution, blind or not.
    TestingInstitution,
    /// The sample custodian of the re-test institution (receives the backup portion).
    RetestCustodian,
    /// A tester of the re-test institution (blind).
    RetestTester,
    /// A reviewer/approver of the re-test institution (blind).
    RetestApprover,
    /// The enterprise that was sampled.
    SampledEnterprise,
    /// The producer named on a sample taken from a seller (rule 23).
    NominalProducer,
}

impl Relation {
    pub const ALL: [Relation; 26] = [
        Relation::SystemAdministrator,
        Relation::SecurityAdministrator,
        Relation::AuditAdministrator,
        Relation::Regulator,
        Relation::ProvincialRegulator,
        Relation::LocalRegulator,
        Relation::InstitutionSampler,
        Relation::InstitutionCustodian,
        Relation::InstitutionTester,
        Relation::InstitutionApprover,
        Relation::EnterpriseUser,
        Relation::OrganisingBureau,
        Relation::LocalBureau,
        Relation::HandlingBureau,
        Relation::SamplingTeam,
        Relation::SamplingInstitution,
        Relation::Custodian,
        Relation::Tester,
        Relation::Approver,
        Relation::Screener,
        Relation::TestingInstitution,
        Relation::RetestCustodian,
        Relation::RetestTester,
        Relation::RetestApprover,
        Relation::SampledEnterprise,
        Relation::NominalProducer,
    ];

    /// The relations that never learn who was sampled (rule 13).
    pub const BLIND: [Relation; 5] =
        [Relation::Tester, Relation::Approver, Relation::Screener, Relation::RetestTester, Relation::RetestApprover];

    pub fn is_blind(self) -> bool {
        Self::BLIND.contains(&self)
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// The relations that come from the roles alone (`provincial`: the actor's organisation is a
    /// provincial bureau).
    pub fn of_roles(roles: &[Role], provincial: bool, enterprise: bool) -> Relations {
        let mut r = Relations::NONE;
        for role in roles {
            r = match role {
                Role::SystemAdmin => r.with(Relation::SystemAdministrator),
                Role::SecurityAdmin => r.with(Relation::SecurityAdministrator),
                Role::AuditAdmin => r.with(Relation::AuditAdministrator),
                Role::Regulator => r.with(Relation::Regulator).with_if(provincial, Relation::ProvincialRegulator),
                Role::LocalRegulator => r.with(Relation::LocalRegulator),
                Role::Sampler => r.with(Relation::InstitutionSampler),
                Role::SampleCustodian => r.with(Relation::InstitutionCustodian),
                Role::Tester => r.with(Relation::InstitutionTester),
                Role::ReportApprover => r.with(Relation::InstitutionApprover),
                Role::Enterprise => r.with_if(enterprise, Relation::EnterpriseUser),
            };
        }
        r
    }
}

/// A set of relations.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Relations(u32);

impl Relations {
    pub const NONE: Relations = Relations(0);

    pub fn with(self, r: Relation) -> Relations {
        Relations(self.0 | r.bit())
    }

    pub fn with_if(self, cond: bool, r: Relation) -> Relations {
        if cond { self.with(r) } else { self }
    }

    pub fn union(self, other: Relations) -> Relations {
        Relations(self.0 | other.0)
    }

    pub fn contains(self, r: Relation) -> bool {
        self.0 & r.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Relation> {
        Relation::ALL.into_iter().filter(move |r| self.contains(*r))
    }

    /// True when every relation held is blind: the actor sees the object by its blind code only.
    /// A person who is also the custodian or the organising bureau is not blind.
    pub fn only_blind(self) -> bool {
        !self.is_empty()
            && self.iter().all(|r| {
                r.is_blind()
                    || matches!(
                        r,
                        Relation::TestingInstitution
                            | Relation::InstitutionTester
                            | Relation::InstitutionApprover
                            | Relation::InstitutionCustodian
                            | Relation::InstitutionSampler
                    )
            })
            && self.iter().any(Relation::is_blind)
    }

    /// Does any of these relations grant `action`?
    pub fn allow(self, action: Action) -> bool {
        allows(self, action)
    }

    /// Every action these relations grant, in table order (what a view offers as buttons).
    pub fn actions(self, among: &[Action]) -> Vec<Action> {
        among.iter().copied().filter(|a| allows(self, *a)).collect()
    }
}

impl fmt::Debug for Relations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl FromIterator<Relation> for Relations {
    fn from_iter<I: IntoIterator<Item = Relation>>(iter: I) -> Self {
        iter.into_iter().fold(Relations::NONE, Relations::with)
    }
}

macro_rules! actions {
    ($($(#[doc = $doc:literal])* $name:ident => $label:literal,)*) => {
        /// Everything the system lets someone do, by object.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Action {
            $($(#[doc = $doc])* $name,)*
        }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$name,)*];

            /// What the action is, in Chinese (used in refusals).
            pub fn label(self) -> &'static str {
                match self {
                    $(Action::$name => $label,)*
                }
            }
        }
    };
}

actions! {
    // Foundation (the three administrators, 三权分立)
    ViewUsers => "查看用户",
    ManageUsers => "管理用户账号",
    GrantRoles => "授予、撤销角色",
    UnlockAccount => "解锁账号",
    ResetSecondFactor => "重置用户的动态验证码",
    ManageSecurity => "维护安全策略",
    ManageOrganisations => "管理组织机构",
    ViewOrganisations => "查看组织机构",
    ViewCalendar => "查看工作日历",
    ManageCalendar => "维护工作日历",
    /// Move the business date of a training instance (never granted effect on production).
    MoveTrainingClock => "调整培训系统日期",
    ViewAudit => "查看审计日志",
    VerifyAudit => "校验、导出审计日志",
    ViewRegistry => "查询企业名录",
    EditRegistry => "维护企业名录",
    // Plans and draws
    ViewPlans => "查看抽查计划",
    CreatePlan => "制定抽查计划",
    ManagePlan => "修改、下达、结束抽查计划",
    ViewDraftPlan => "查看未下达的计划",
    ViewPlanFigures => "查看计划统计",
    Draw => "随机抽取",
    ViewDraw => "查看抽取记录",
    // Implementation rules
    ViewRules => "查看实施细则",
    EditRules => "编制实施细则",
    ApproveRules => "审批、公开实施细则",
    // Sampling tasks
    ViewTask => "查看抽样任务",
    ViewTaskDocuments => "查看抽样文书",
    ClaimTask => "领取抽样任务",
    WorkOnSite => "办理现场抽样",
    ViewEvidence => "查看抽样证据",
    ConfirmRefusal => "确认拒检",
    ReassignTask => "调整抽样任务",
    MarkNotSampled => "记为未抽样",
    // Custody and hand-over
    ViewCustody => "查看样品流转",
    HandOver => "样品交接",
    /// The receiving (or handing) party confirms its side of a custody hand-over.
    ConfirmHandOver => "确认样品交接",
    DecideBackup => "审批备样调用",
    ViewInbox => "查看待办",
    ViewBureauFlags => "查看本部门所组织抽查的录入期限",
    // Laboratory
    ViewLink => "查看盲样与抽样单的对应关系",
    ReceiveSample => "接收样品、编制盲样",
    ManageSample => "分配检验人员、登记样品流转、打印盲样标签",
    CheckLicence => "核查生产许可",
    ViewBlindSample => "按盲样编号查看样品",
    RecordResults => "录入检验结果",
    ImportResults => "导入检验结果",
    Screen => "初筛",
    PrepareReport => "编制检验报告",
    SignReport => "审核、批准检验报告",
    ReviewQueue => "查看待审核、批准的报告",
    ReadReportContent => "按盲样编号阅读报告内容",
    ReportPdf => "下载检验报告正本",
    ViewLabBoard => "查看实验室工作台",
    // Results, objections and re-tests
    WriteLetter => "出具产品质量改进建议书",
    ViewDeliveries => "查看结果送达",
    RecordDelivery => "登记结果送达",
    ViewOwnResults => "查看本企业的检验结果",
    FileObjection => "提出异议或复检申请",
    ViewOwnReport => "下载本企业的检验报告",
    ListObjections => "查看本部门收到的异议",
    DecideObjection => "受理、处理异议，安排复检",
    ArrangeRetests => "安排复检、查看样品确认",
    ListRetests => "查看复检列表",
    ViewRetest => "查看复检",
    ViewRetestLink => "查看复检对应的企业与初检报告",
    DispatchBackup => "寄出复检备用样品",
    ReceiveBackup => "接收备份样品",
    RetestResults => "录入复检结果",
    SignRetest => "审核、批准复检报告",
    ListConfirmations => "查看样品确认列表",
    ViewConfirmation => "查看样品确认",
    AnswerConfirmation => "答复样品确认",
    RecordLapse => "登记逾期未答复",
    DecideConfirmation => "调查核实样品确认",
    // Disposal and post-processing
    ViewDisposals => "查看样品处置",
    Dispose => "处置样品",
    ViewDisposalRules => "查看样品处置规定",
    ManageDisposalRules => "维护样品处置规定",
    ListCases => "查看后处理案件列表",
    ViewCase => "查看后处理案件",
    RunCase => "办理后处理案件",
    OrderFollowUpCheck => "安排复查抽样",
    ReportRectification => "提交整改报告",
    ViewOwnCases => "查看本企业的后处理案件",
    ViewRuleSets => "查看后处理时限规则",
    AddRuleSet => "维护后处理时限规则",
    ManageRuleSets => "选定本省适用的后处理时限规则",
    // Announcement and oversight
    Announce => "发布结果公告",
    ViewOverview => "查看抽查总览",
    ViewAnalysis => "查看质量分析报告",
    WriteAnalysis => "撰写、提交质量分析报告",
    // National data exchange (e-CQS, issue 18 part 7)
    ViewNationalExport => "查看、下载国家平台（e-CQS）报送数据",
    MarkNationalExport => "标记已报送国家平台（e-CQS）",
}

use Relation as R;

/// The system administrator (系统管理员).
const SYSTEM: &[Relation] = &[R::SystemAdministrator];
/// The security administrator (安全管理员).
const SECURITY: &[Relation] = &[R::SecurityAdministrator];

/// The matrix: each action and the relations that may take it. An action missing from this table
/// is refused to everyone (the tests require every action to appear exactly once).
pub const GRANTS: &[(Action, &[Relation])] = &[
    // 三权分立: the system administrator keeps accounts and settings, the security administrator
    // grants roles, the audit administrator reads the log; none of them runs business actions.
    (Action::ViewUsers, &[R::SystemAdministrator, R::SecurityAdministrator]),
    (Action::ManageUsers, SYSTEM),
    (Action::GrantRoles, SECURITY),
    (Action::UnlockAccount, SECURITY),
    (Action::ResetSecondFactor, SECURITY),
    (Action::ManageSecurity, SECURITY),
    (Action::ManageOrganisations, SYSTEM),
    (
        Action::ViewOrganisations,
        &[
            R::SystemAdministrator,
            R::Regulator,
            R::LocalRegulator,
            R::InstitutionSampler,
            R::InstitutionCustodian,
            R::InstitutionTester,
            R::InstitutionApprover,
        ],
    ),
    // Everyone who works with deadlines; not the security and audit administrators.
    (
        Action::ViewCalendar,
        &[
            R::SystemAdministrator,
            R::Regulator,
            R::LocalRegulator,
            R::InstitutionSampler,
            R::InstitutionCustodian,
            R::InstitutionTester,
            R::InstitutionApprover,
            R::EnterpriseUser,
        ],
    ),
    (Action::ManageCalendar, SYSTEM),
    (Action::MoveTrainingClock, SYSTEM),
    (Action::ViewAudit, &[R::AuditAdministrator, R::Regulator]),
    (Action::VerifyAudit, &[R::AuditAdministrator]),
    // Samplers need the registry on site; testers never see who was sampled (rule 13).
    (
        Action::ViewRegistry,
        &[R::SystemAdministrator, R::Regulator, R::LocalRegulator, R::InstitutionSampler, R::InstitutionCustodian],
    ),
    (Action::EditRegistry, &[R::SystemAdministrator, R::Regulator, R::LocalRegulator]),
    (
        Action::ViewPlans,
        &[
            R::Regulator,
            R::LocalRegulator,
            R::InstitutionSampler,
            R::InstitutionCustodian,
            R::InstitutionTester,
            R::InstitutionApprover,
        ],
    ),
    (Action::CreatePlan, &[R::Regulator]),
    (Action::ManagePlan, &[R::OrganisingBureau]),
    (Action::ViewDraftPlan, &[R::OrganisingBureau]),
    (Action::ViewPlanFigures, &[R::OrganisingBureau]),
    (Action::Draw, &[R::OrganisingBureau]),
    (Action::ViewDraw, &[R::OrganisingBureau, R::SamplingInstitution]),
    (Action::ViewRules, &[R::OrganisingBureau, R::TestingInstitution]),
    (Action::EditRules, &[R::TestingInstitution]),
    (Action::ApproveRules, &[R::OrganisingBureau]),
    (Action::ViewTask, &[R::OrganisingBureau, R::SamplingTeam]),
    (Action::ViewTaskDocuments, &[R::OrganisingBureau, R::SamplingTeam, R::LocalBureau]),
    (Action::ClaimTask, &[R::InstitutionSampler]),
    (Action::WorkOnSite, &[R::SamplingTeam]),
    (Action::ViewEvidence, &[R::OrganisingBureau, R::SamplingTeam, R::LocalBureau]),
    (Action::ConfirmRefusal, &[R::LocalBureau]),
    (Action::ReassignTask, &[R::OrganisingBureau]),
    (Action::MarkNotSampled, &[R::OrganisingBureau, R::SamplingTeam]),
    (Action::ViewCustody, &[R::OrganisingBureau, R::SamplingTeam, R::Custodian]),
    (Action::HandOver, &[R::SamplingTeam]),
    // The other hand of a custody hand-over (issue 18): the service computes, per kind of hand-over,
    // the one relation that may confirm it — the testing institution's custodian for a dispatch
    // (and a second custodian as witness of a disposal), the sample's tester for a hand-over to or
    // back from testing, the re-test institution's custodian for the backup portion sent to it.
    (Action::ConfirmHandOver, &[R::Custodian, R::Tester, R::RetestCustodian]),
    (Action::DecideBackup, &[R::OrganisingBureau]),
    (Action::ViewInbox, &[R::Regulator, R::LocalRegulator]),
    (Action::ViewBureauFlags, &[R::Regulator]),
    (Action::ViewLink, &[R::OrganisingBureau, R::Custodian]),
    (Action::ReceiveSample, &[R::InstitutionCustodian]),
    (Action::ManageSample, &[R::Custodian]),
    (Action::CheckLicence, &[R::Custodian, R::Tester]),
    (Action::ViewBlindSample, &[R::OrganisingBureau, R::Custodian, R::Tester, R::Approver, R::Screener]),
    (Action::RecordResults, &[R::Tester]),
    (Action::ImportResults, &[R::InstitutionTester]),
    (Action::Screen, &[R::Screener]),
    (Action::PrepareReport, &[R::Tester]),
    (Action::SignReport, &[R::Approver]),
    (Action::ReviewQueue, &[R::InstitutionApprover]),
    (Action::ReadReportContent, &[R::Custodian, R::Tester, R::Approver]),
    (Action::ReportPdf, &[R::OrganisingBureau, R::Custodian]),
    (Action::ViewLabBoard, &[R::Regulator, R::InstitutionCustodian, R::InstitutionTester, R::InstitutionApprover]),
    (Action::WriteLetter, &[R::Regulator, R::InstitutionCustodian, R::InstitutionTester, R::InstitutionApprover]),
    (Action::ViewDeliveries, &[R::Regulator, R::InstitutionCustodian]),
    (Action::RecordDelivery, &[R::OrganisingBureau, R::Custodian]),
    (Action::ViewOwnResults, &[R::EnterpriseUser]),
    (Action::FileObjection, &[R::SampledEnterprise]),
    (Action::ViewOwnReport, &[R::SampledEnterprise]),
    (Action::ListObjections, &[R::Regulator]),
    (Action::DecideObjection, &[R::OrganisingBureau]),
    (Action::ArrangeRetests, &[R::Regulator]),
    (Action::ListRetests, &[R::Regulator, R::InstitutionCustodian, R::InstitutionTester, R::InstitutionApprover]),
    (Action::ViewRetest, &[R::OrganisingBureau, R::RetestCustodian, R::RetestTester, R::RetestApprover]),
    (Action::ViewRetestLink, &[R::OrganisingBureau]),
    // The first laboratory's custodian sends the backup portion on (rule 18).
    (Action::DispatchBackup, &[R::Custodian]),
    (Action::ReceiveBackup, &[R::RetestCustodian]),
    (Action::RetestResults, &[R::RetestTester]),
    (Action::SignRetest, &[R::RetestApprover]),
    (Action::ListConfirmations, &[R::Regulator, R::InstitutionCustodian, R::EnterpriseUser]),
    (Action::ViewConfirmation, &[R::OrganisingBureau, R::Custodian, R::NominalProducer]),
    (Action::AnswerConfirmation, &[R::Custodian, R::NominalProducer]),
    (Action::RecordLapse, &[R::OrganisingBureau, R::Custodian]),
    (Action::DecideConfirmation, &[R::OrganisingBureau]),
    (Action::ViewDisposals, &[R::Regulator, R::InstitutionCustodian]),
    (Action::Dispose, &[R::Custodian]),
    (Action::ViewDisposalRules, &[R::SystemAdministrator, R::Regulator, R::LocalRegulator, R::InstitutionCustodian]),
    (Action::ManageDisposalRules, SYSTEM),
    (Action::ListCases, &[R::Regulator, R::LocalRegulator, R::EnterpriseUser]),
    (Action::ViewCase, &[R::HandlingBureau, R::OrganisingBureau, R::ProvincialRegulator]),
    (Action::RunCase, &[R::HandlingBureau]),
    (Action::OrderFollowUpCheck, &[R::HandlingBureau]),
    (Action::ReportRectification, &[R::HandlingBureau, R::SampledEnterprise]),
    (Action::ViewOwnCases, &[R::SampledEnterprise]),
    (Action::ViewRuleSets, &[R::SystemAdministrator, R::Regulator, R::LocalRegulator]),
    (Action::AddRuleSet, SYSTEM),
    (Action::ManageRuleSets, &[R::SystemAdministrator, R::ProvincialRegulator]),
    (Action::Announce, &[R::OrganisingBureau]),
    (Action::ViewOverview, &[R::OrganisingBureau]),
    // The testing institution writes the analysis (问题分析、原因、建议) and submits it to the
    // organising bureau, as the notices require: its custodian, who is never blind.
    (Action::ViewAnalysis, &[R::OrganisingBureau, R::Custodian]),
    (Action::WriteAnalysis, &[R::Custodian]),
    // e-CQS entry (the notices' 信息录入工作): the institutions that did the work enter it — the
    // sampling institution's samplers the sampling information, the testing institution's custodian
    // (who holds the link; its blind testers never) the results; the organising bureau supervises
    // (sees what is due and downloads) but does not mark. The service computes the relations per
    // kind, so a sampler never marks results nor a custodian sampling information.
    (Action::ViewNationalExport, &[R::OrganisingBureau, R::SamplingInstitution, R::Custodian]),
    (Action::MarkNationalExport, &[R::SamplingInstitution, R::Custodian]),
];

/// The one question: do `relations` allow `action`?
pub fn allows(relations: Relations, action: Action) -> bool {
    GRANTS.iter().find(|(a, _)| *a == action).is_some_and(|(_, who)| who.iter().any(|r| relations.contains(*r)))
}

/// The relations granted `action`.
pub fn granted(action: Action) -> &'static [Relation] {
    GRANTS.iter().find(|(a, _)| *a == action).map(|(_, who)| *who).unwrap_or(&[])
}

impl Action {
    /// Actions whose answer names (or lets one infer) who was sampled: the enterprise, the nominal
    /// producer, the place, the samplers, the sampling record. Blind relations must never hold one.
    pub fn reveals_enterprise(self) -> bool {
        use Action as A;
        !matches!(
            self,
            A::ViewPlans
                | A::ViewBlindSample
                | A::CheckLicence
                | A::RecordResults
                | A::ImportResults
                | A::Screen
                | A::PrepareReport
                | A::SignReport
                | A::ReviewQueue
                | A::ReadReportContent
                | A::ViewLabBoard
                | A::ConfirmHandOver
                | A::WriteLetter
                | A::ViewRetest
                | A::ListRetests
                | A::RetestResults
                | A::SignRetest
                | A::ViewRules
                | A::EditRules
                | A::ManageUsers
                | A::ViewUsers
                | A::GrantRoles
                | A::UnlockAccount
                | A::ResetSecondFactor
                | A::ManageSecurity
                | A::ManageOrganisations
                | A::ViewOrganisations
                | A::ManageCalendar
                | A::MoveTrainingClock
                | A::ViewCalendar
        )
    }
}

#[cfg(test)]
mod tests;
