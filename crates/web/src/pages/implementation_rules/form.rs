//! The draft form as typed: test items with typed limits, portions, judgement, re-test terms and
//! the licence check.

use super::*;
use choucha_domain::sampling::EvidenceCategory;

/// The kinds of limit offered in the form, with how they are written.
pub struct KindChoice {
    pub value: &'static str,
    pub label: &'static str,
}

pub(super) const KINDS: [(&str, &str); 7] = [
    ("max", "≤ 不大于"),
    ("max_lt", "< 小于"),
    ("min", "≥ 不小于"),
    ("min_gt", "> 大于"),
    ("range", "范围（下限～上限）"),
    ("text", "文字等于"),
    ("pass_fail", "符合与否"),
];

/// One test item row as typed: `a` is the value (or the lower bound, or the text), `b` the upper bound.
#[derive(Debug, Default, Clone)]
pub struct TestValues {
    pub name: String,
    pub method: String,
    pub kind: String,
    pub a: String,
    pub b: String,
    pub unit: String,
    pub class: String,
}

impl TestValues {
    fn is_blank(&self) -> bool {
        [&self.name, &self.method, &self.a, &self.b, &self.unit, &self.class].iter().all(|v| v.trim().is_empty())
    }

    pub(super) fn of(t: &TestItemInput) -> TestValues {
        let n = |v: f64| format!("{v}");
        let (kind, a, b) = match &t.limit {
            Limit::Max { max, inclusive: true } => ("max", n(*max), String::new()),
            Limit::Max { max, inclusive: false } => ("max_lt", n(*max), String::new()),
            Limit::Min { min, inclusive: true } => ("min", n(*min), String::new()),
            Limit::Min { min, inclusive: false } => ("min_gt", n(*min), String::new()),
            Limit::Range { min, max } => ("range", n(*min), n(*max)),
            Limit::EqualsText { text } => ("text", text.clone(), String::new()),
            Limit::PassFail => ("pass_fail", String::new(), String::new()),
        };
        TestValues {
            name: t.name.clone(),
            method: t.method.clone(),
            kind: kind.to_string(),
            a,
            b,
            unit: t.unit.clone(),
            class: t.class.clone().unwrap_or_default(),
        }
    }

    /// The typed limit; a number that is not a number is refused here, at the edge.
    pub(super) fn limit(&self, n: usize, errors: &mut FieldErrors) -> Limit {
        let mut num = |raw: &str, what: &str| -> f64 {
            let t = raw.trim().replace('，', ".");
            match t.parse::<f64>() {
                Ok(v) if v.is_finite() => v,
                _ => {
                    errors.add(
                        "test_items",
                        &format!("第{n}个检验项目“{}”：{what}“{raw}”不是有效数字", self.name.trim()),
                    );
                    0.0
                }
            }
        };
        match self.kind.as_str() {
            "max" => Limit::Max { max: num(&self.a, "限值"), inclusive: true },
            "max_lt" => Limit::Max { max: num(&self.a, "限值"), inclusive: false },
            "min" => Limit::Min { min: num(&self.a, "限值"), inclusive: true },
            "min_gt" => Limit::Min { min: num(&self.a, "限值"), inclusive: false },
            "range" => Limit::Range { min: num(&self.a, "下限"), max: num(&self.b, "上限") },
            "text" => Limit::EqualsText { text: self.a.trim().to_string() },
            _ => Limit::PassFail,
        }
    }
}

/// The whole form as typed.
#[derive(Debug, Default, Clone)]
pub struct RulesValues {
    /// The draft being edited; empty for a new version.
    pub rules_id: String,
    pub standards: String,
    pub tests: Vec<TestValues>,
    pub test_portion: String,
    pub backup_portion: String,
    pub min_base: String,
    pub judgement_principle: String,
    pub retest_terms: String,
    pub scheme: String,
    pub licence: String,
    pub test_quantity: String,
    pub backup_quantity: String,
    pub min_base_quantity: String,
    pub quantity_unit: String,
    /// The evidence categories ticked as required at every sampling (rule 7).
    pub required_evidence: Vec<String>,
}

/// An optional non-negative number typed in a form.
pub(super) fn number(v: &str, field: &str, label: &str, errors: &mut FieldErrors) -> Option<f64> {
    let t = v.trim();
    if t.is_empty() {
        return None;
    }
    match t.parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 => Some(n),
        _ => {
            errors.add(field, &format!("{label}“{t}”应为不小于0的数"));
            None
        }
    }
}

pub(super) fn licence_code(l: LicenceRequirement) -> &'static str {
    match l {
        LicenceRequirement::None => "none",
        LicenceRequirement::ProductionLicence => "production_licence",
        LicenceRequirement::Ccc => "ccc",
    }
}

impl RulesValues {
    pub(super) fn of(rules_id: Option<i64>, b: &RulesBody) -> RulesValues {
        RulesValues {
            rules_id: rules_id.map(|i| i.to_string()).unwrap_or_default(),
            standards: b.standards.join("\n"),
            tests: b.test_items.iter().map(TestValues::of).collect(),
            test_portion: b.test_portion.clone(),
            backup_portion: b.backup_portion.clone(),
            min_base: b.min_base.clone(),
            judgement_principle: b.judgement_principle.clone(),
            retest_terms: b.retest_terms.clone(),
            scheme: b.scheme.clone(),
            test_quantity: b.test_quantity.map(|n| n.to_string()).unwrap_or_default(),
            backup_quantity: b.backup_quantity.map(|n| n.to_string()).unwrap_or_default(),
            min_base_quantity: b.min_base_quantity.map(|n| n.to_string()).unwrap_or_default(),
            quantity_unit: b.quantity_unit.clone(),
            licence: licence_code(b.licence).to_string(),
            required_evidence: b.required_evidence().iter().map(|c| c.as_str().to_string()).collect(),
        }
    }

    /// The seven categories as check boxes: (code, label, ticked).
    pub fn evidence_choices(&self) -> Vec<(&'static str, &'static str, bool)> {
        EvidenceCategory::ALL
            .into_iter()
            .map(|c| (c.as_str(), c.label(), self.required_evidence.iter().any(|r| r == c.as_str())))
            .collect()
    }

    pub(super) fn parse(f: &FormData) -> RulesValues {
        let cols: Vec<Vec<String>> = ["ti_name", "ti_method", "ti_kind", "ti_a", "ti_b", "ti_unit", "ti_class"]
            .iter()
            .map(|k| f.all(k))
            .collect();
        let n = cols.iter().map(Vec::len).max().unwrap_or(0);
        let at = |c: usize, i: usize| {
            cols.get(c).and_then(|col| col.get(i)).map(|s| s.trim().to_string()).unwrap_or_default()
        };
        RulesValues {
            rules_id: f.get("rules_id").trim().to_string(),
            standards: f.get("standards"),
            tests: (0..n)
                .map(|i| TestValues {
                    name: at(0, i),
                    method: at(1, i),
                    kind: at(2, i),
                    a: at(3, i),
                    b: at(4, i),
                    unit: at(5, i),
                    class: at(6, i),
                })
                .filter(|t| !t.is_blank())
                .collect(),
            test_portion: f.get("test_portion"),
            backup_portion: f.get("backup_portion"),
            min_base: f.get("min_base"),
            judgement_principle: f.get("judgement_principle"),
            retest_terms: f.get("retest_terms"),
            scheme: f.get("scheme"),
            test_quantity: f.get("test_quantity"),
            backup_quantity: f.get("backup_quantity"),
            min_base_quantity: f.get("min_base_quantity"),
            quantity_unit: f.get("quantity_unit"),
            licence: f.get("licence"),
            required_evidence: f.all("required_evidence"),
        }
    }

    pub(super) fn body(&self, errors: &mut FieldErrors) -> RulesBody {
        RulesBody {
            standards: self.standards.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect(),
            test_items: self
                .tests
                .iter()
                .enumerate()
                .map(|(i, t)| TestItemInput {
                    name: t.name.clone(),
                    method: t.method.clone(),
                    limit: t.limit(i + 1, errors),
                    unit: t.unit.clone(),
                    class: Some(t.class.trim().to_string()).filter(|c| !c.is_empty()),
                })
                .collect(),
            test_portion: self.test_portion.trim().to_string(),
            backup_portion: self.backup_portion.trim().to_string(),
            min_base: self.min_base.trim().to_string(),
            judgement_principle: self.judgement_principle.trim().to_string(),
            retest_terms: self.retest_terms.trim().to_string(),
            test_quantity: number(&self.test_quantity, "test_quantity", "检验样品数量", errors),
            backup_quantity: number(&self.backup_quantity, "backup_quantity", "备用样品数量", errors),
            min_base_quantity: number(&self.min_base_quantity, "min_base_quantity", "最低抽样基数", errors),
            quantity_unit: self.quantity_unit.trim().to_string(),
            scheme: self.scheme.trim().to_string(),
            required_evidence: Some(
                EvidenceCategory::ALL
                    .into_iter()
                    .filter(|c| self.required_evidence.iter().any(|r| r == c.as_str()))
                    .collect(),
            ),
            licence: match self.licence.as_str() {
                "production_licence" => LicenceRequirement::ProductionLicence,
                "ccc" => LicenceRequirement::Ccc,
                _ => LicenceRequirement::None,
            },
        }
    }
}

/// The version being read.
pub struct ShownVersion {
    pub v: VersionLine,
    pub b: BodyDisplay,
}

/// A lifecycle button.
pub struct StepButton {
    pub action: &'static str,
    pub label: &'static str,
    pub confirm: &'static str,
    pub danger: bool,
}
