//! Implementation rules (实施细则) of a plan item: their lifecycle (DESIGN.md rule 3) and the typed
//! limits of test items with the item judgement computed from a result.
//!
//! Lifecycle: draft → submitted (by the testing institution) → approved (备案, by the organising
//! bureau) → published. The bureau may return a submitted version with a reason. Editing a published
//! version starts a new draft version; publishing it supersedes the old one. Sampling of an item is
//! allowed only while a published version exists.

use serde::{Deserialize, Serialize};

use crate::RuleViolation;

crate::stored_enum! {
    pub enum RulesState: "实施细则状态" {
        Draft = "draft", "草稿";
        Submitted = "submitted", "已提交备案";
        Approved = "approved", "已备案";
        Published = "published", "已公开";
        /// A published version replaced by a newer published one.
        Superseded = "superseded", "已被新版本替代";
    }
}

/// Who acts on a rules version, relative to its plan item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RulesActor {
    /// Staff of the item's testing institution.
    TestingInstitution,
    /// Staff of the plan's organising bureau.
    OrganisingBureau,
    Other,
}

crate::stored_enum! {
    pub enum RulesAction: "实施细则操作" {
        Edit = "edit", "修改";
        Submit = "submit", "提交备案";
        Return = "return", "退回";
        Approve = "approve", "备案通过";
        Publish = "publish", "向社会公开";
        /// A newer version was published.
        Supersede = "supersede", "以新版本替代";
    }
}

crate::workflow! {
    RulesState, RulesAction, "实施细则", "rules_state",
    initial: [Draft],
    table: {
        Draft, Edit => Draft;
        Draft, Submit => Submitted;
        Submitted, Return => Draft;
        Submitted, Approve => Approved;
        Approved, Publish => Published;
        Published, Supersede => Superseded;
    }
}

/// The one transition function of the rules lifecycle: the new state, or the rule that refuses.
pub fn transition(state: RulesState, action: RulesAction, actor: RulesActor) -> Result<RulesState, RuleViolation> {
    rules_step(state, action, actor).map(|t| t.to())
}

/// [`transition`] as the store's write takes it: who may act, then the table.
pub fn rules_step(
    state: RulesState,
    action: RulesAction,
    actor: RulesActor,
) -> Result<crate::workflow::Transition<RulesState>, RuleViolation> {
    use RulesAction as A;
    use RulesActor as W;
    let who_ok = match action {
        A::Edit | A::Submit => actor == W::TestingInstitution,
        A::Return | A::Approve | A::Publish | A::Supersede => actor == W::OrganisingBureau,
    };
    if !who_ok {
        let who = match action {
            A::Edit | A::Submit => "承担检验任务的检验机构",
            _ => "组织监督抽查的部门",
        };
        return Err(RuleViolation::new(
            "rule3_wrong_party",
            format!("实施细则的“{}”只能由{}进行（规则3）", action.label(), who),
        ));
    }
    crate::workflow::step(state, action)
}

/// DESIGN.md rule 3: no sampling of an item before its rules are filed and published.
pub fn check_sampling_allowed(published_version: Option<i32>) -> Result<i32, RuleViolation> {
    published_version.ok_or_else(|| {
        RuleViolation::new(
            "rule3_rules_unpublished",
            "该产品的实施细则尚未经组织部门备案并向社会公开，不能开始抽样（规则3）",
        )
    })
}

/// The requirement of a test item, typed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Limit {
    /// ≤ max (or < max when not inclusive).
    Max { max: f64, inclusive: bool },
    /// ≥ min (or > min).
    Min { min: f64, inclusive: bool },
    /// min ≤ value ≤ max.
    Range { min: f64, max: f64 },
    /// The result text must equal this (e.g. 无, 合格标识齐全).
    EqualsText { text: String },
    /// The tester judges pass or fail (e.g. 标识标志检查).
    #[default]
    PassFail,
}

impl Limit {
    /// The requirement as printed in the report (e.g. "≤10", "45～55").
    pub fn display(&self, unit: &str) -> String {
        match self {
            Limit::Max { max, inclusive: true } => format!("≤{}{unit}", fmt_num(*max)),
            Limit::Max { max, inclusive: false } => format!("<{}{unit}", fmt_num(*max)),
            Limit::Min { min, inclusive: true } => format!("≥{}{unit}", fmt_num(*min)),
            Limit::Min { min, inclusive: false } => format!(">{}{unit}", fmt_num(*min)),
            Limit::Range { min, max } => format!("{}～{}{unit}", fmt_num(*min), fmt_num(*max)),
            Limit::EqualsText { text } => text.clone(),
            Limit::PassFail => "符合标准要求".into(),
        }
    }

    pub fn validate(&self) -> Result<(), RuleViolation> {
        let bad = match self {
            Limit::Max { max: v, .. } | Limit::Min { min: v, .. } => !v.is_finite(),
            Limit::Range { min, max } => !(min.is_finite() && max.is_finite() && min <= max),
            Limit::EqualsText { text } => text.trim().is_empty(),
            Limit::PassFail => false,
        };
        if bad {
            Err(RuleViolation::new("invalid_limit", "检验项目的限量值无效（范围下限须不大于上限，数值须为有限数）")
                .on_field("limit"))
        } else {
            Ok(())
        }
    }
}

fn fmt_num(v: f64) -> String {
    let s = format!("{v}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// A measured result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Measured {
    Number(f64),
    Text(String),
    Pass(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemJudgement {
    /// 符合
    Conforming,
    /// 不符合
    NonConforming,
}

impl ItemJudgement {
    pub fn label(self) -> &'static str {
        match self {
            ItemJudgement::Conforming => "符合",
            ItemJudgement::NonConforming => "不符合",
        }
    }
}

/// The item judgement computed from the limit; a result of the wrong kind is refused.
pub fn judge(limit: &Limit, measured: &Measured) -> Result<ItemJudgement, RuleViolation> {
    let ok = match (limit, measured) {
        (Limit::Max { max, inclusive }, Measured::Number(v)) => {
            if *inclusive {
                v <= max
            } else {
                v < max
            }
        }
        (Limit::Min { min, inclusive }, Measured::Number(v)) => {
            if *inclusive {
                v >= min
            } else {
                v > min
            }
        }
        (Limit::Range { min, max }, Measured::Number(v)) => v >= min && v <= max,
        (Limit::EqualsText { text }, Measured::Text(t)) => t.trim() == text.trim(),
        (Limit::PassFail, Measured::Pass(p)) => *p,
        _ => {
            return Err(RuleViolation::new("result_kind", "检验结果的类型与该项目的要求不符（数值/文字/符合与否）")
                .on_field("result"));
        }
    };
    if let Measured::Number(v) = measured
        && !v.is_finite()
    {
        return Err(RuleViolation::new("result_kind", "检验结果须为有限数值").on_field("result"));
    }
    Ok(if ok { ItemJudgement::Conforming } else { ItemJudgement::NonConforming })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_table() {
        use RulesAction as A;
        use RulesActor as W;
        use RulesState as S;
        let allowed = [
            (S::Draft, A::Edit, W::TestingInstitution, S::Draft),
            (S::Draft, A::Submit, W::TestingInstitution, S::Submitted),
            (S::Submitted, A::Return, W::OrganisingBureau, S::Draft),
            (S::Submitted, A::Approve, W::OrganisingBureau, S::Approved),
            (S::Approved, A::Publish, W::OrganisingBureau, S::Published),
        ];
        for (from, a, w, to) in allowed {
            assert_eq!(transition(from, a, w), Ok(to), "{from:?} {a:?}");
        }
        // Wrong party.
        assert_eq!(transition(S::Submitted, A::Approve, W::TestingInstitution).unwrap_err().code, "rule3_wrong_party");
        assert_eq!(transition(S::Draft, A::Submit, W::OrganisingBureau).unwrap_err().code, "rule3_wrong_party");
        // Wrong state: no publishing before approval, no edit after submission.
        assert_eq!(transition(S::Submitted, A::Publish, W::OrganisingBureau).unwrap_err().code, "rules_state");
        assert_eq!(transition(S::Draft, A::Approve, W::OrganisingBureau).unwrap_err().code, "rules_state");
        assert_eq!(transition(S::Published, A::Edit, W::TestingInstitution).unwrap_err().code, "rules_state");
    }

    #[test]
    fn sampling_needs_published_rules() {
        assert_eq!(check_sampling_allowed(None).unwrap_err().code, "rule3_rules_unpublished");
        assert_eq!(check_sampling_allowed(Some(2)), Ok(2));
    }

    #[test]
    fn judgement_from_typed_limits() {
        let sulfur = Limit::Max { max: 10.0, inclusive: true }; // 车用柴油 硫含量 ≤10 mg/kg
        assert_eq!(judge(&sulfur, &Measured::Number(9.8)), Ok(ItemJudgement::Conforming));
        assert_eq!(judge(&sulfur, &Measured::Number(10.0)), Ok(ItemJudgement::Conforming));
        assert_eq!(judge(&sulfur, &Measured::Number(12.5)), Ok(ItemJudgement::NonConforming));
        let flash = Limit::Min { min: 60.0, inclusive: true };
        assert_eq!(judge(&flash, &Measured::Number(55.0)), Ok(ItemJudgement::NonConforming));
        let range = Limit::Range { min: 45.0, max: 55.0 };
        assert_eq!(judge(&range, &Measured::Number(45.0)), Ok(ItemJudgement::Conforming));
        assert_eq!(judge(&range, &Measured::Number(55.1)), Ok(ItemJudgement::NonConforming));
        let text = Limit::EqualsText { text: "无".into() };
        assert_eq!(judge(&text, &Measured::Text(" 无 ".into())), Ok(ItemJudgement::Conforming));
        assert_eq!(judge(&Limit::PassFail, &Measured::Pass(false)), Ok(ItemJudgement::NonConforming));
        assert_eq!(judge(&sulfur, &Measured::Text("9".into())).unwrap_err().code, "result_kind");
        assert_eq!(judge(&sulfur, &Measured::Number(f64::NAN)).unwrap_err().code, "result_kind");
        assert_eq!(sulfur.display("mg/kg"), "≤10mg/kg");
        assert!(Limit::Range { min: 5.0, max: 1.0 }.validate().is_err());
    }
}
