//! The service's side of the permission matrix ([`choucha_domain::access`]): how an [`Actor`]
//! stands towards an object, worked out once from the object's parties, and the refusals.
//!
//! Every use case asks here: `actor.require(Action::…)` for what needs no object, else
//! `actor.to_sample(&parties).require(Action::…)` (or `.visible(…)` when a caller who has no
//! relation at all must not learn that the object exists).

use choucha_domain::access::{Action, Relation, Relations};
use choucha_domain::organisation::OrgKind;
use choucha_domain::role::Role;

use crate::{Actor, Result, ServiceError};

pub use choucha_domain::access::{Action as Act, Relation as Rel};

/// The refusal of `action`, in Chinese.
pub fn refusal(action: Action) -> ServiceError {
    ServiceError::Forbidden(format!("无权执行此操作：{}", action.label()))
}

/// Asking the matrix.
pub trait Ask: Copy {
    fn relations(self) -> Relations;

    fn may(self, action: Action) -> bool {
        self.relations().allow(action)
    }

    /// Refused with 403 and the action named.
    fn require(self, action: Action) -> Result<()> {
        if self.may(action) { Ok(()) } else { Err(refusal(action)) }
    }

    /// Refused with 403 and `message` (a refusal that explains the rule).
    fn require_or(self, action: Action, message: &str) -> Result<()> {
        if self.may(action) { Ok(()) } else { Err(ServiceError::Forbidden(message.into())) }
    }

    /// Refused as "`what`不存在" (404): the caller must not learn that the object exists.
    fn visible(self, action: Action, what: &'static str) -> Result<()> {
        if self.may(action) { Ok(()) } else { Err(ServiceError::NotFound(what)) }
    }

    /// Of `among`, the actions the caller may take (a view's buttons).
    fn actions(self, among: &[Action]) -> Vec<Action> {
        self.relations().actions(among)
    }
}

impl Ask for Relations {
    fn relations(self) -> Relations {
        self
    }
}

impl Ask for &Actor {
    fn relations(self) -> Relations {
        self.system()
    }
}

/// Who stands behind a sampling task.
#[derive(Debug, Clone, Copy)]
pub struct TaskParties<'a> {
    pub organising_org_id: i64,
    pub sampling_org_id: Option<i64>,
    pub testing_org_id: Option<i64>,
    pub team: &'a [i64],
    /// The local bureau of the sampled enterprise's division, when looked up.
    pub local_org_id: Option<i64>,
}

/// The parties of a sampling task, from its plan, item and team (the local bureau is looked up
/// only where it matters).
pub(crate) fn task_parties<'a>(
    plan: &choucha_store::plans::PlanRow,
    item: &choucha_store::plans::ItemRow,
    team: &'a [i64],
) -> TaskParties<'a> {
    TaskParties {
        organising_org_id: plan.organising_org_id,
        sampling_org_id: item.sampling_org_id,
        testing_org_id: item.testing_org_id,
        team,
        local_org_id: None,
    }
}

/// Who stands behind a sample in the laboratory.
#[derive(Debug, Clone, Copy)]
pub struct SampleParties {
    pub organising_org_id: i64,
    pub testing_org_id: i64,
    pub screening_org_id: Option<i64>,
}

/// Who stands behind a post-processing case.
#[derive(Debug, Clone, Copy)]
pub struct CaseParties {
    pub bureau_org_id: i64,
    pub organising_org_id: i64,
    pub producer_org_id: Option<i64>,
    pub enterprise_id: i64,
}

/// Whose records a list shows the caller: the scoping of list queries, decided once here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// An administrator: every record.
    All,
    /// Staff of a bureau: what the bureau organises, handles or covers.
    Bureau(i64),
    /// Staff of an institution: what is assigned to it.
    Institution(i64),
    /// An enterprise user: its own records.
    Enterprise(i64),
}

impl Actor {
    /// The scope of the caller's lists for `action`, or the refusal when the roles do not allow it.
    pub fn scope(&self, action: Action) -> Result<Scope> {
        self.require(action)?;
        self.scope_any().ok_or_else(|| refusal(action))
    }

    /// The caller's scope regardless of action (None: no organisation and no enterprise).
    pub fn scope_any(&self) -> Option<Scope> {
        if self.roles.iter().any(|r| r.is_administrator()) {
            return Some(Scope::All);
        }
        match (self.org_kind(), self.org_id, self.enterprise_id) {
            (Some(k), Some(o), _) if k.is_bureau() => Some(Scope::Bureau(o)),
            (Some(OrgKind::Institution), Some(o), _) => Some(Scope::Institution(o)),
            (_, _, Some(e)) if self.has(Role::Enterprise) => Some(Scope::Enterprise(e)),
            _ => None,
        }
    }

    fn in_org(&self, org: Option<i64>) -> bool {
        self.org_id.is_some() && self.org_id == org
    }

    fn org_kind(&self) -> Option<OrgKind> {
        self.org_kind.as_deref().and_then(|k| k.parse().ok())
    }

    /// The relations that come from the roles alone.
    pub fn system(&self) -> Relations {
        let provincial = self.org_kind() == Some(OrgKind::ProvinceBureau);
        Relation::of_roles(&self.roles, provincial, self.enterprise_id.is_some())
    }

    /// Without an object: may the actor take `action`?
    pub fn may(&self, action: Action) -> bool {
        self.system().allow(action)
    }

    /// Without an object: refused with 403 unless the actor may take `action`.
    pub fn require(&self, action: Action) -> Result<()> {
        Ask::require(self, action)
    }

    /// A regulator of the organising bureau.
    fn organises(&self, organising_org_id: i64) -> bool {
        self.has(Role::Regulator) && self.org_id == Some(organising_org_id)
    }

    /// Towards a plan (and its items and draws).
    pub fn to_plan(&self, organising_org_id: i64) -> Relations {
        self.system().with_if(self.organises(organising_org_id), Relation::OrganisingBureau)
    }

    /// Towards a plan item: the plan's relations, the item's sampling institution's samplers and
    /// its testing institution's staff.
    pub fn to_item(
        &self,
        organising_org_id: i64,
        sampling_org_id: Option<i64>,
        testing_org_id: Option<i64>,
    ) -> Relations {
        let lab = self.has(Role::SampleCustodian) || self.has(Role::Tester) || self.has(Role::ReportApprover);
        self.to_plan(organising_org_id)
            .with_if(self.has(Role::Sampler) && self.in_org(sampling_org_id), Relation::SamplingInstitution)
            .with_if(lab && self.in_org(testing_org_id), Relation::TestingInstitution)
    }

    /// Towards a sampling task.
    pub fn to_task(&self, p: TaskParties<'_>) -> Relations {
        let local = self.has(Role::LocalRegulator) && self.in_org(p.local_org_id);
        self.to_item(p.organising_org_id, p.sampling_org_id, p.testing_org_id)
            .with_if(self.has(Role::Sampler) && p.team.contains(&self.user_id), Relation::SamplingTeam)
            .with_if(self.has(Role::SampleCustodian) && self.in_org(p.testing_org_id), Relation::Custodian)
            .with_if(local, Relation::LocalBureau)
    }

    /// Towards a sample in the laboratory. A person who is the custodian (or of the organising
    /// bureau) is never also counted blind: they may see the link anyway.
    pub fn to_sample(&self, p: SampleParties) -> Relations {
        let custodian = self.has(Role::SampleCustodian) && self.in_org(Some(p.testing_org_id));
        let sighted = custodian || self.organises(p.organising_org_id);
        let lab = self.in_org(Some(p.testing_org_id)) && !sighted;
        let screener = self.has(Role::Tester) && self.in_org(p.screening_org_id) && !sighted;
        self.to_item(p.organising_org_id, None, Some(p.testing_org_id))
            .with_if(custodian, Relation::Custodian)
            .with_if(lab && self.has(Role::Tester), Relation::Tester)
            .with_if(lab && self.has(Role::ReportApprover), Relation::Approver)
            .with_if(screener, Relation::Screener)
    }

    /// Towards a re-test: its organising bureau and the re-test institution's staff.
    pub fn to_retest(&self, organising_org_id: i64, retest_org_id: i64) -> Relations {
        let custodian = self.has(Role::SampleCustodian) && self.in_org(Some(retest_org_id));
        let sighted = custodian || self.organises(organising_org_id);
        let lab = self.in_org(Some(retest_org_id)) && !sighted;
        self.to_plan(organising_org_id)
            .with_if(custodian, Relation::RetestCustodian)
            .with_if(lab && self.has(Role::Tester), Relation::RetestTester)
            .with_if(lab && self.has(Role::ReportApprover), Relation::RetestApprover)
    }

    /// Towards a re-test whose backup portion leaves the first laboratory (`first_org_id`) for
    /// another: the first laboratory's custodian, who sends it (rule 18), stands as `Custodian`.
    pub fn to_retest_from(&self, organising_org_id: i64, retest_org_id: i64, first_org_id: i64) -> Relations {
        let sender =
            first_org_id != retest_org_id && self.has(Role::SampleCustodian) && self.in_org(Some(first_org_id));
        self.to_retest(organising_org_id, retest_org_id).with_if(sender, Relation::Custodian)
    }

    /// Towards an enterprise's own record (a result, an objection): is the actor that enterprise?
    pub fn to_enterprise(&self, enterprise_id: i64) -> Relations {
        self.system().with_if(self.is_enterprise(enterprise_id), Relation::SampledEnterprise)
    }

    /// Towards a sample confirmation (rule 23): the organising bureau, the testing institution's
    /// custodian and the nominal producer (`producer`: the actor is the enterprise named as producer,
    /// worked out by the caller from the registry).
    pub fn to_confirmation(&self, organising_org_id: i64, testing_org_id: i64, producer: bool) -> Relations {
        self.to_plan(organising_org_id)
            .with_if(self.has(Role::SampleCustodian) && self.in_org(Some(testing_org_id)), Relation::Custodian)
            .with_if(producer && self.has(Role::Enterprise), Relation::NominalProducer)
    }

    /// Towards a plan's quality analysis: its organising bureau, and the custodian of each of its
    /// testing institutions (`testing_org_ids`), who writes the institution's part.
    pub fn to_analysis(&self, organising_org_id: i64, testing_org_ids: &[i64]) -> Relations {
        let custodian = self.has(Role::SampleCustodian) && testing_org_ids.iter().any(|o| self.in_org(Some(*o)));
        self.to_plan(organising_org_id).with_if(custodian, Relation::Custodian)
    }

    /// Towards a disposal of a sample's remains.
    pub fn to_disposal(&self, organising_org_id: i64, testing_org_id: i64) -> Relations {
        self.to_plan(organising_org_id)
            .with_if(self.has(Role::SampleCustodian) && self.in_org(Some(testing_org_id)), Relation::Custodian)
    }

    /// Towards a post-processing case. `same_province`: the case's bureau lies in the actor's
    /// province (a provincial regulator sees it).
    pub fn to_case(&self, p: CaseParties, same_province: bool) -> Relations {
        let bureau_staff = self.has(Role::Regulator) || self.has(Role::LocalRegulator);
        let provincial = self.system().contains(Relation::ProvincialRegulator);
        let mut r = self.system().with_if(bureau_staff && self.in_org(Some(p.bureau_org_id)), Relation::HandlingBureau);
        r = r.with_if(
            bureau_staff && (self.in_org(Some(p.organising_org_id)) || self.in_org(p.producer_org_id)),
            Relation::OrganisingBureau,
        );
        if !(provincial && same_province) {
            // The system relation alone does not open another province's cases.
            r = r.iter().filter(|x| *x != Relation::ProvincialRegulator).collect();
        }
        r.with_if(self.is_enterprise(p.enterprise_id), Relation::SampledEnterprise)
    }

    /// Towards a division's settings: a provincial regulator only inside its own province.
    pub fn to_division(&self, division: &str) -> Relations {
        let inside = self
            .org_division
            .as_deref()
            .and_then(|d| choucha_domain::division::DivisionCode::parse(d).ok())
            .is_some_and(|p| division.starts_with(p.scope_prefix()));
        let r = self.system();
        if inside { r } else { r.iter().filter(|x| *x != Relation::ProvincialRegulator).collect() }
    }

    fn is_enterprise(&self, enterprise_id: i64) -> bool {
        self.has(Role::Enterprise) && self.enterprise_id == Some(enterprise_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(roles: &[Role], org: Option<i64>, kind: &str) -> Actor {
        Actor {
            user_id: 7,
            username: "u".into(),
            display_name: "U".into(),
            roles: roles.to_vec(),
            org_id: org,
            org_name: None,
            org_division: None,
            org_kind: Some(kind.into()),
            enterprise_id: None,
        }
    }

    const SAMPLE: SampleParties = SampleParties { organising_org_id: 1, testing_org_id: 5, screening_org_id: Some(6) };

    #[test]
    fn a_tester_of_the_testing_institution_is_blind_and_one_elsewhere_is_nobody() {
        let tester = actor(&[Role::Tester], Some(5), "institution");
        let r = tester.to_sample(SAMPLE);
        assert!(r.only_blind());
        assert!(r.may(Action::RecordResults));
        assert!(!r.may(Action::ViewLink));
        let other = actor(&[Role::Tester], Some(9), "institution");
        assert!(!other.to_sample(SAMPLE).may(Action::ViewBlindSample));
        let screener = actor(&[Role::Tester], Some(6), "institution");
        assert!(screener.to_sample(SAMPLE).may(Action::Screen));
        assert!(!screener.to_sample(SAMPLE).may(Action::RecordResults));
    }

    #[test]
    fn a_custodian_who_also_tests_sees_the_link_and_is_not_blind() {
        let both = actor(&[Role::SampleCustodian, Role::Tester], Some(5), "institution");
        let r = both.to_sample(SAMPLE);
        assert!(r.may(Action::ViewLink));
        assert!(!r.contains(Relation::Tester));
        assert!(!r.only_blind());
    }

    #[test]
    fn the_organising_bureau_is_a_regulator_of_that_bureau_only() {
        assert!(actor(&[Role::Regulator], Some(1), "city_bureau").to_sample(SAMPLE).may(Action::ViewLink));
        assert!(!actor(&[Role::Regulator], Some(2), "city_bureau").to_sample(SAMPLE).may(Action::ViewLink));
        assert!(!actor(&[Role::LocalRegulator], Some(1), "local_bureau").to_sample(SAMPLE).may(Action::ViewLink));
    }

    #[test]
    fn a_retest_lab_tester_is_blind() {
        let t = actor(&[Role::Tester], Some(8), "institution");
        let r = t.to_retest(1, 8);
        assert!(r.only_blind());
        assert!(r.may(Action::RetestResults));
        assert!(!r.may(Action::ViewRetestLink));
        let c = actor(&[Role::SampleCustodian, Role::Tester], Some(8), "institution");
        assert!(c.to_retest(1, 8).may(Action::ReceiveBackup));
        assert!(!c.to_retest(1, 8).may(Action::ViewRetestLink));
        assert!(!c.to_retest(1, 8).may(Action::RetestResults));
    }

    #[test]
    fn a_provincial_regulator_sees_cases_of_its_province_only() {
        let p = CaseParties { bureau_org_id: 3, organising_org_id: 2, producer_org_id: None, enterprise_id: 40 };
        let prov = actor(&[Role::Regulator], Some(100), "province_bureau");
        assert!(prov.to_case(p, true).may(Action::ViewCase));
        assert!(!prov.to_case(p, false).may(Action::ViewCase));
        assert!(!prov.to_case(p, true).may(Action::RunCase));
        let local = actor(&[Role::LocalRegulator], Some(3), "local_bureau");
        assert!(local.to_case(p, false).may(Action::RunCase));
        let mut ent = actor(&[Role::Enterprise], None, "");
        ent.enterprise_id = Some(40);
        assert!(ent.to_case(p, false).may(Action::ViewOwnCases));
        ent.enterprise_id = Some(41);
        assert!(!ent.to_case(p, false).may(Action::ViewOwnCases));
    }
}
