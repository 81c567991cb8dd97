//! A rules version as people read it (shared with the public page).

use super::*;

pub struct TestLine {
    pub name: String,
    pub method: String,
    /// The limit as printed, with its unit (`Limit::display`).
    pub requirement: String,
    pub class: String,
}

/// A rules version's content as shown to people.
pub struct BodyDisplay {
    pub standards: Vec<String>,
    pub tests: Vec<TestLine>,
    pub test_portion: String,
    pub backup_portion: String,
    pub min_base: String,
    pub judgement_principle: String,
    pub retest_terms: String,
    /// 实施方案 (empty where it is not shown: the public sees only the rules).
    pub scheme: String,
    pub licence: &'static str,
}

pub fn licence_label(l: LicenceRequirement) -> &'static str {
    match l {
        LicenceRequirement::None => "无需核查",
        LicenceRequirement::ProductionLicence => "检验前核查生产许可证",
        LicenceRequirement::Ccc => "检验前核查强制性产品认证（CCC）",
    }
}

impl BodyDisplay {
    pub fn of(b: &RulesBody) -> BodyDisplay {
        BodyDisplay {
            standards: b.standards.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            tests: b
                .test_items
                .iter()
                .map(|t| TestLine {
                    name: t.name.clone(),
                    method: t.method.clone(),
                    requirement: t.limit.display(&t.unit),
                    class: t.class.clone().unwrap_or_default(),
                })
                .collect(),
            test_portion: b.test_portion.clone(),
            backup_portion: b.backup_portion.clone(),
            min_base: b.min_base.clone(),
            judgement_principle: b.judgement_principle.clone(),
            retest_terms: b.retest_terms.clone(),
            scheme: b.scheme.clone(),
            licence: licence_label(b.licence),
        }
    }
}

/// A version in the list.
pub struct VersionLine {
    pub id: i64,
    pub version: i32,
    pub state: RulesState,
    pub state_label: String,
    pub submitted_at: Option<chrono::DateTime<chrono::Utc>>,
    pub approved_at: Option<chrono::DateTime<chrono::Utc>>,
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
    pub returned_reason: String,
    pub selected: bool,
}

pub fn rules_badge(state: &RulesState) -> &'static str {
    match state {
        RulesState::Published => "ok",
        RulesState::Draft | RulesState::Submitted | RulesState::Approved => "warn",
        RulesState::Superseded => "",
    }
}
