use super::*;

/// The matrix written out: one line per action, one column per relation in [`Relation::ALL`]
/// order; `x` grants. A change to [`GRANTS`] must change this picture too, so a reviewer sees
/// every permission change as a change of this grid.
///
/// Columns: Sy Se Au Rg PR LR IS IC IT IA EU | OB LB HB ST SI Cu Te Ap Sc TI RC RT RA SE NP
const PICTURE: &str = "
ViewUsers           x x . . . . . . . . . . . . . . . . . . . . . . . .
ManageUsers         x . . . . . . . . . . . . . . . . . . . . . . . . .
GrantRoles          . x . . . . . . . . . . . . . . . . . . . . . . . .
UnlockAccount       . x . . . . . . . . . . . . . . . . . . . . . . . .
ResetSecondFactor   . x . . . . . . . . . . . . . . . . . . . . . . . .
ManageSecurity      . x . . . . . . . . . . . . . . . . . . . . . . . .
ManageOrganisations x . . . . . . . . . . . . . . . . . . . . . . . . .
ViewOrganisations   x . . x . x x x x x . . . . . . . . . . . . . . . .
ViewCalendar        x . . x . x x x x x x . . . . . . . . . . . . . . .
ManageCalendar      x . . . . . . . . . . . . . . . . . . . . . . . . .
MoveTrainingClock   x . . . . . . . . . . . . . . . . . . . . . . . . .
ViewAudit           . . x x . . . . . . . . . . . . . . . . . . . . . .
VerifyAudit         . . x . . . . . . . . . . . . . . . . . . . . . . .
ViewRegistry        x . . x . x x x . . . . . . . . . . . . . . . . . .
EditRegistry        x . . x . x . . . . . . . . . . . . . . . . . . . .
ViewPlans           . . . x . x x x x x . . . . . . . . . . . . . . . .
CreatePlan          . . . x . . . . . . . . . . . . . . . . . . . . . .
ManagePlan          . . . . . . . . . . . x . . . . . . . . . . . . . .
ViewDraftPlan       . . . . . . . . . . . x . . . . . . . . . . . . . .
ViewPlanFigures     . . . . . . . . . . . x . . . . . . . . . . . . . .
Draw                . . . . . . . . . . . x . . . . . . . . . . . . . .
ViewDraw            . . . . . . . . . . . x . . . x . . . . . . . . . .
ViewRules           . . . . . . . . . . . x . . . . . . . . x . . . . .
EditRules           . . . . . . . . . . . . . . . . . . . . x . . . . .
ApproveRules        . . . . . . . . . . . x . . . . . . . . . . . . . .
ViewTask            . . . . . . . . . . . x . . x . . . . . . . . . . .
ViewTaskDocuments   . . . . . . . . . . . x x . x . . . . . . . . . . .
ClaimTask           . . . . . . x . . . . . . . . . . . . . . . . . . .
WorkOnSite          . . . . . . . . . . . . . . x . . . . . . . . . . .
ViewEvidence        . . . . . . . . . . . x x . x . . . . . . . . . . .
ConfirmRefusal      . . . . . . . . . . . . x . . . . . . . . . . . . .
ReassignTask        . . . . . . . . . . . x . . . . . . . . . . . . . .
MarkNotSampled      . . . . . . . . . . . x . . x . . . . . . . . . . .
ViewCustody         . . . . . . . . . . . x . . x . x . . . . . . . . .
HandOver            . . . . . . . . . . . . . . x . . . . . . . . . . .
ConfirmHandOver     . . . . . . . . . . . . . . . . x x . . . x . . . .
DecideBackup        . . . . . . . . . . . x . . . . . . . . . . . . . .
ViewInbox           . . . x . x . . . . . . . . . . . . . . . . . . . .
ViewBureauFlags     . . . x . . . . . . . . . . . . . . . . . . . . . .
ViewLink            . . . . . . . . . . . x . . . . x . . . . . . . . .
ReceiveSample       . . . . . . . x . . . . . . . . . . . . . . . . . .
ManageSample        . . . . . . . . . . . . . . . . x . . . . . . . . .
CheckLicence        . . . . . . . . . . . . . . . . x x . . . . . . . .
ViewBlindSample     . . . . . . . . . . . x . . . . x x x x . . . . . .
RecordResults       . . . . . . . . . . . . . . . . . x . . . . . . . .
ImportResults       . . . . . . . . x . . . . . . . . . . . . . . . . .
Screen              . . . . . . . . . . . . . . . . . . . x . . . . . .
PrepareReport       . . . . . . . . . . . . . . . . . x . . . . . . . .
SignReport          . . . . . . . . . . . . . . . . . . x . . . . . . .
ReviewQueue         . . . . . . . . . x . . . . . . . . . . . . . . . .
ReadReportContent   . . . . . . . . . . . . . . . . x x x . . . . . . .
ReportPdf           . . . . . . . . . . . x . . . . x . . . . . . . . .
ViewLabBoard        . . . x . . . x x x . . . . . . . . . . . . . . . .
WriteLetter         . . . x . . . x x x . . . . . . . . . . . . . . . .
ViewDeliveries      . . . x . . . x . . . . . . . . . . . . . . . . . .
RecordDelivery      . . . . . . . . . . . x . . . . x . . . . . . . . .
ViewOwnResults      . . . . . . . . . . x . . . . . . . . . . . . . . .
FileObjection       . . . . . . . . . . . . . . . . . . . . . . . . x .
ViewOwnReport       . . . . . . . . . . . . . . . . . . . . . . . . x .
ListObjections      . . . x . . . . . . . . . . . . . . . . . . . . . .
DecideObjection     . . . . . . . . . . . x . . . . . . . . . . . . . .
ArrangeRetests      . . . x . . . . . . . . . . . . . . . . . . . . . .
ListRetests         . . . x . . . x x x . . . . . . . . . . . . . . . .
ViewRetest          . . . . . . . . . . . x . . . . . . . . . x x x . .
ViewRetestLink      . . . . . . . . . . . x . . . . . . . . . . . . . .
DispatchBackup      . . . . . . . . . . . . . . . . x . . . . . . . . .
ReceiveBackup       . . . . . . . . . . . . . . . . . . . . . x . . . .
RetestResults       . . . . . . . . . . . . . . . . . . . . . . x . . .
SignRetest          . . . . . . . . . . . . . . . . . . . . . . . x . .
ListConfirmations   . . . x . . . x . . x . . . . . . . . . . . . . . .
ViewConfirmation    . . . . . . . . . . . x . . . . x . . . . . . . . x
AnswerConfirmation  . . . . . . . . . . . . . . . . x . . . . . . . . x
RecordLapse         . . . . . . . . . . . x . . . . x . . . . . . . . .
DecideConfirmation  . . . . . . . . . . . x . . . . . . . . . . . . . .
ViewDisposals       . . . x . . . x . . . . . . . . . . . . . . . . . .
Dispose             . . . . . . . . . . . . . . . . x . . . . . . . . .
ViewDisposalRules   x . . x . x . x . . . . . . . . . . . . . . . . . .
ManageDisposalRules x . . . . . . . . . . . . . . . . . . . . . . . . .
ListCases           . . . x . x . . . . x . . . . . . . . . . . . . . .
ViewCase            . . . . x . . . . . . x . x . . . . . . . . . . . .
RunCase             . . . . . . . . . . . . . x . . . . . . . . . . . .
OrderFollowUpCheck  . . . . . . . . . . . . . x . . . . . . . . . . . .
ReportRectification . . . . . . . . . . . . . x . . . . . . . . . . x .
ViewOwnCases        . . . . . . . . . . . . . . . . . . . . . . . . x .
ViewRuleSets        x . . x . x . . . . . . . . . . . . . . . . . . . .
AddRuleSet          x . . . . . . . . . . . . . . . . . . . . . . . . .
ManageRuleSets      x . . . x . . . . . . . . . . . . . . . . . . . . .
Announce            . . . . . . . . . . . x . . . . . . . . . . . . . .
ViewOverview        . . . . . . . . . . . x . . . . . . . . . . . . . .
ViewAnalysis        . . . . . . . . . . . x . . . . x . . . . . . . . .
WriteAnalysis       . . . . . . . . . . . . . . . . x . . . . . . . . .
ViewNationalExport  . . . . . . . . . . . x . . . x x . . . . . . . . .
MarkNationalExport  . . . . . . . . . . . . . . . x x . . . . . . . . .
";

fn drawn(action: Action) -> String {
    let cells: Vec<&str> = Relation::ALL.iter().map(|r| if granted(action).contains(r) { "x" } else { "." }).collect();
    format!("{:<20}{}", format!("{action:?}"), cells.join(" "))
}

#[test]
fn the_table_is_the_picture() {
    let picture: Vec<&str> = PICTURE.trim().lines().map(str::trim_end).collect();
    let table: Vec<String> = Action::ALL.iter().map(|a| drawn(*a)).collect();
    assert_eq!(picture.len(), table.len(), "one line per action");
    for (want, got) in picture.iter().zip(&table) {
        assert_eq!(*want, got.as_str());
    }
}

#[test]
fn every_action_is_in_the_table_exactly_once_and_in_order() {
    let listed: Vec<Action> = GRANTS.iter().map(|(a, _)| *a).collect();
    assert_eq!(listed, Action::ALL.to_vec());
}

#[test]
fn allows_agrees_with_the_table_for_every_single_relation() {
    for action in Action::ALL {
        for r in Relation::ALL {
            assert_eq!(allows(Relations::NONE.with(r), *action), granted(*action).contains(&r), "{action:?} {r:?}");
        }
        assert!(!allows(Relations::NONE, *action), "nobody may {action:?}");
    }
}

#[test]
fn no_blind_relation_is_granted_anything_that_reveals_the_enterprise() {
    for action in Action::ALL {
        for r in granted(*action) {
            assert!(!(r.is_blind() && action.reveals_enterprise()), "{r:?} is blind (rule 13) and must not {action:?}");
        }
    }
}

#[test]
fn institution_roles_alone_never_see_the_enterprise_beyond_the_registry_on_site() {
    // What an institution tester or approver may do without a relation to the object.
    let lab = Relation::of_roles(&[Role::Tester, Role::ReportApprover], false, false);
    for action in Action::ALL {
        if lab.allow(*action) {
            assert!(!action.reveals_enterprise() || *action == Action::ViewLabBoard, "{action:?}");
        }
    }
    assert!(!lab.allow(Action::ViewRegistry));
}

#[test]
fn an_enterprise_acts_only_on_its_own_records() {
    let e = Relation::of_roles(&[Role::Enterprise], false, true);
    let allowed: Vec<Action> = e.actions(Action::ALL);
    assert_eq!(
        allowed,
        vec![Action::ViewCalendar, Action::ViewOwnResults, Action::ListConfirmations, Action::ListCases]
    );
    let sampled = e.with(Relation::SampledEnterprise);
    assert!(sampled.allow(Action::FileObjection));
    assert!(!sampled.allow(Action::DecideObjection));
    assert!(!sampled.allow(Action::ViewLink));
    // An enterprise role without a registry entry holds no relation at all.
    assert!(Relation::of_roles(&[Role::Enterprise], false, false).is_empty());
}

#[test]
fn the_three_report_signatures_are_three_relations() {
    assert!(Relations::NONE.with(Relation::Tester).allow(Action::PrepareReport));
    assert!(!Relations::NONE.with(Relation::Tester).allow(Action::SignReport));
    assert!(Relations::NONE.with(Relation::Approver).allow(Action::SignReport));
    assert!(!Relations::NONE.with(Relation::Custodian).allow(Action::PrepareReport));
}

#[test]
fn only_blind_is_true_for_blind_staff_and_false_for_anyone_who_may_see_the_link() {
    let tester = Relations::NONE.with(Relation::InstitutionTester).with(Relation::Tester);
    assert!(tester.only_blind());
    assert!(!tester.with(Relation::Custodian).only_blind());
    assert!(!tester.with(Relation::OrganisingBureau).only_blind());
    assert!(!Relations::NONE.with(Relation::InstitutionTester).only_blind());
    assert!(Relations::NONE.with(Relation::RetestApprover).only_blind());
}

#[test]
fn regulators_and_local_bureaus_differ() {
    let local = Relation::of_roles(&[Role::LocalRegulator], false, false).with(Relation::LocalBureau);
    assert!(local.allow(Action::ConfirmRefusal));
    assert!(!local.allow(Action::Draw));
    let organiser = Relation::of_roles(&[Role::Regulator], false, false).with(Relation::OrganisingBureau);
    assert!(organiser.allow(Action::Draw));
    assert!(!organiser.allow(Action::ConfirmRefusal));
    assert!(!Relation::of_roles(&[Role::Regulator], false, false).allow(Action::ManageRuleSets));
    assert!(Relation::of_roles(&[Role::Regulator], true, false).allow(Action::ManageRuleSets));
}

/// 三权分立 (issue 15): the system administrator never grants roles nor reads the audit log, the
/// security administrator never manages accounts, and the audit administrator only reads the log;
/// none of the three runs a business action (plans, draws, sampling, the laboratory, reports,
/// results, cases, announcements).
#[test]
fn the_three_administrators_are_separate_and_run_no_business() {
    let system = Relation::of_roles(&[Role::SystemAdmin], false, false);
    let security = Relation::of_roles(&[Role::SecurityAdmin], false, false);
    let audit = Relation::of_roles(&[Role::AuditAdmin], false, false);
    assert!(system.allow(Action::ManageUsers) && !system.allow(Action::GrantRoles) && !system.allow(Action::ViewAudit));
    assert!(
        security.allow(Action::GrantRoles)
            && !security.allow(Action::ManageUsers)
            && !security.allow(Action::ViewAudit)
    );
    assert_eq!(audit.actions(Action::ALL), vec![Action::ViewAudit, Action::VerifyAudit]);
    let foundation = [
        Action::ViewUsers,
        Action::ManageUsers,
        Action::GrantRoles,
        Action::UnlockAccount,
        Action::ResetSecondFactor,
        Action::ManageSecurity,
        Action::ManageOrganisations,
        Action::ViewOrganisations,
        Action::ManageCalendar,
        Action::MoveTrainingClock,
        Action::ViewCalendar,
        Action::ViewRegistry,
        Action::EditRegistry,
        Action::ViewDisposalRules,
        Action::ManageDisposalRules,
        Action::ViewRuleSets,
        Action::AddRuleSet,
        Action::ManageRuleSets,
        Action::ViewAudit,
        Action::VerifyAudit,
    ];
    for admin in [system, security, audit] {
        for action in admin.actions(Action::ALL) {
            assert!(foundation.contains(&action), "{admin:?} must not {action:?}");
        }
    }
    // Even with every relation an object could give, an administrator's roles add no business.
    for action in [Action::CreatePlan, Action::Draw, Action::SignReport, Action::Announce, Action::ViewLink] {
        assert!(!system.union(security).union(audit).allow(action), "{action:?}");
    }
}
