//! A plan draft checked field by field (dates, budget, institutions by code, quota groups) and its
//! items written.

use crate::Write;
use choucha_domain::RuleViolation;
use choucha_domain::enterprise::parse_date;
use choucha_domain::organisation::OrgKind;
use choucha_domain::plan::parse_scopes;
use choucha_store::organisations;
use choucha_store::plans::{self as store_plans, ItemFields, PlanFields};
use chrono::NaiveDate;

use crate::{Actor, Result, Services};

use super::{ItemInput, PlanInput};

fn opt_date(s: &Option<String>, field: &'static str, label: &str, errs: &mut Vec<RuleViolation>) -> Option<NaiveDate> {
    match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(v) => parse_date(v).or_else(|| {
            errs.push(
                RuleViolation::new("invalid_date", format!("{label}“{v}”不是有效日期（格式：2025-11-15）"))
                    .on_field(field),
            );
            None
        }),
    }
}

fn parse_budget(s: &Option<String>, errs: &mut Vec<RuleViolation>) -> Option<i64> {
    let v = s.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    match choucha_domain::money::parse_yuan(v) {
        Some(fen) => Some(fen),
        None => {
            errs.push(
                RuleViolation::new("invalid_budget", format!("预算“{v}”不是有效金额（元，最多两位小数）"))
                    .on_field("budget_yuan"),
            );
            None
        }
    }
}

async fn org_id_of(
    s: &Services,
    code: &Option<String>,
    field: &'static str,
    want: &str,
    errs: &mut Vec<RuleViolation>,
) -> Result<Option<i64>> {
    let Some(c) = code.as_deref().map(str::trim).filter(|c| !c.is_empty()) else { return Ok(None) };
    match organisations::find_by_code(s.store.reader(), c).await? {
        None => {
            errs.push(RuleViolation::new("unknown_org", format!("机构“{c}”不存在")).on_field(field));
            Ok(None)
        }
        Some(o) => {
            let ok = match want {
                "sampling" => o.cap_sampling,
                "testing" => o.cap_testing,
                "screening" => o.cap_screening,
                _ => o.kind.parse::<OrgKind>().is_ok_and(OrgKind::is_bureau) && o.kind != "local_bureau",
            };
            if !ok {
                let what = match want {
                    "sampling" => "抽样",
                    "testing" => "检验",
                    "screening" => "快速筛查",
                    _ => "组织监督抽查（省局或市局）",
                };
                errs.push(
                    RuleViolation::new("org_capability", format!("“{}”不具备{}职能", o.name, what)).on_field(field),
                );
            }
            Ok(Some(o.id))
        }
    }
}

pub(super) async fn plan_fields(
    s: &Services,
    actor: &Actor,
    p: &PlanInput,
    errs: &mut Vec<RuleViolation>,
) -> Result<PlanFields> {
    if !(2000..=2100).contains(&p.year) {
        errs.push(RuleViolation::new("invalid_year", "年度应在2000至2100之间").on_field("year"));
    }
    let title = p.title.trim().to_string();
    if title.is_empty() || title.chars().count() > 200 {
        errs.push(RuleViolation::new("required", "计划名称不能为空且不超过200字").on_field("title"));
    }
    let org = match p.organising_org_code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(_) => org_id_of(s, &p.organising_org_code, "organising_org_code", "bureau", errs).await?,
        None => actor.org_id,
    };
    if org.is_none() && p.organising_org_code.as_deref().unwrap_or("").trim().is_empty() {
        errs.push(RuleViolation::new("required", "请指定组织监督抽查的部门").on_field("organising_org_code"));
    }
    let days = p.unqualified_report_days;
    if days.is_some_and(|d| !(1..=365).contains(&d)) {
        errs.push(
            RuleViolation::new("invalid_days", "不合格报告报送期限应为1至365日").on_field("unqualified_report_days"),
        );
    }
    let contact_phone = p.contact_phone.trim().to_string();
    if !contact_phone.is_empty() && !choucha_domain::text::is_phone(&contact_phone) {
        errs.push(
            RuleViolation::new("invalid_phone", "联系电话应为电话号码，如 0352-1234567 或 13912345678")
                .on_field("contact_phone"),
        );
    }
    if p.contact_name.trim().chars().count() > 50 {
        errs.push(RuleViolation::new("too_long", "联系人不能超过50字").on_field("contact_name"));
    }
    Ok(PlanFields {
        year: p.year,
        title,
        organising_org_id: org.unwrap_or_default(),
        doc_no: p.doc_no.trim().to_string(),
        contact_name: p.contact_name.trim().to_string(),
        contact_phone,
        domains: p.domains.trim().to_string(),
        deadline_delivery: opt_date(&p.deadline_delivery, "deadline_delivery", "送达期限", errs),
        deadline_data_entry: opt_date(&p.deadline_data_entry, "deadline_data_entry", "录入期限", errs),
        deadline_summary: opt_date(&p.deadline_summary, "deadline_summary", "汇总材料期限", errs),
        unqualified_report_days: days,
        budget_cents: parse_budget(&p.budget_yuan, errs),
        notes: p.notes.trim().to_string(),
    })
}

/// Items validated and grouped: (fields without plan/group ids, index of its group, group quotas).
pub(super) struct CheckedItems {
    items: Vec<(ItemFields, usize)>,
    group_quotas: Vec<u32>,
}

pub(super) async fn check_items(
    s: &Services,
    items: &[ItemInput],
    errs: &mut Vec<RuleViolation>,
) -> Result<CheckedItems> {
    let mut out = Vec::new();
    let mut group_quotas: Vec<u32> = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let row = i + 1;
        let mut item_errs = Vec::new();
        let product = it.product.trim().to_string();
        if product.is_empty() {
            item_errs
                .push(RuleViolation::new("required", format!("第{row}个产品：产品名称不能为空")).on_field("product"));
        }
        let category = it.category.trim().to_string();
        if category.is_empty() {
            item_errs
                .push(RuleViolation::new("required", format!("第{row}个产品：产品分类不能为空")).on_field("category"));
        }
        let scopes = match parse_scopes(&it.scopes) {
            Ok(sc) => sc.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(","),
            Err(e) => {
                item_errs.push(RuleViolation::new(e.code, format!("第{row}个产品：{}", e.message)).on_field("scopes"));
                String::new()
            }
        };
        let group = match it.quota {
            Some(0) => {
                item_errs.push(
                    RuleViolation::new("invalid_quota", format!("第{row}个产品：抽查批次须大于0")).on_field("quota"),
                );
                0
            }
            Some(q) => {
                group_quotas.push(q);
                group_quotas.len() - 1
            }
            None if group_quotas.is_empty() => {
                item_errs.push(
                    RuleViolation::new(
                        "invalid_quota",
                        format!("第{row}个产品：第一个产品须填写抽查批次（空白表示与上一产品共用批次）"),
                    )
                    .on_field("quota"),
                );
                0
            }
            None => group_quotas.len() - 1,
        };
        let sampling = org_id_of(s, &it.sampling_org_code, "sampling_org_code", "sampling", &mut item_errs).await?;
        let testing = org_id_of(s, &it.testing_org_code, "testing_org_code", "testing", &mut item_errs).await?;
        let screening = org_id_of(s, &it.screening_org_code, "screening_org_code", "screening", &mut item_errs).await?;
        errs.extend(item_errs.into_iter().map(|v| v.at("items", i)));
        out.push((
            ItemFields {
                plan_id: 0,
                group_id: 0,
                position: row as i32,
                number: it.number.trim().to_string(),
                category,
                product,
                scopes,
                sampling_org_id: sampling,
                testing_org_id: testing,
                screening_org_id: screening,
            },
            group,
        ));
    }
    Ok(CheckedItems { items: out, group_quotas })
}

pub(super) async fn write_items(tx: &Write, plan_id: i64, checked: CheckedItems) -> Result<()> {
    let mut group_ids = Vec::with_capacity(checked.group_quotas.len());
    for q in &checked.group_quotas {
        group_ids.push(store_plans::insert_group(tx, plan_id, *q as i32).await?.id);
    }
    for (mut f, g) in checked.items {
        f.plan_id = plan_id;
        f.group_id = group_ids.get(g).copied().unwrap_or_default();
        store_plans::insert_item(tx, f).await?;
    }
    Ok(())
}
