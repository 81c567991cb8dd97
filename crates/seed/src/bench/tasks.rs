//! The generated samples: `--samples` sampling tasks in every state with their teams, records,
//! signatures, refusals and problem reports and the custody events of sealing and dispatch; each
//! dispatched sample goes on to the laboratory (`lab`). Rule 5 holds: no enterprise gets more than
//! two batches of a plan or one of an item, when the area has enough enterprises.

use std::collections::{HashMap, HashSet};

use chrono::Duration;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::columns::{
    CUSTODY_COLS, LAB_REPORT_COLS, LAB_RESULT_COLS, LAB_SAMPLE_COLS, MEMBER_COLS, OUTCOME_COLS, RECORD_COLS,
    SIGNATURE_COLS, TASK_COLS,
};
use super::generator::{Gen, record_fields, record_hash};
use super::lab::{LabIds, LabStaff, LabTask, TESTING_CODES, lab_side};
use super::plans::ItemPlan;
use super::reference::{NAME_CHARS, PRODUCTS, SURNAMES, trades_of};
use super::registry::Shanxi;
use super::sink::{Batch, Sink};
use super::staff::Staff;
use super::{BATCH, Counts, Ctx, PNG, Progress};

/// Writes the tasks of every item and all that hangs on them, in batches.
#[allow(clippy::too_many_arguments)]
pub(super) async fn load(
    sink: &Sink,
    g: &mut Gen,
    cx: &Ctx,
    staff: &Staff,
    shanxi: &Shanxi,
    item_plans: &[ItemPlan],
    progress: &Progress,
    counts: &mut Counts,
) -> anyhow::Result<()> {
    let sig_sha = {
        use base64::Engine;
        hex::encode(Sha256::digest(base64::engine::general_purpose::STANDARD.decode(PNG)?))
    };
    let mut task_id = sink.next_id("sampling_tasks").await?;
    let mut record_id = sink.next_id("sampling_records").await?;
    let mut sig_id = sink.next_id("record_signatures").await?;
    let mut outcome_id = sink.next_id("task_outcomes").await?;
    let mut custody_id = sink.next_id("custody_events").await?;
    let mut lab = LabIds {
        sample: sink.next_id("lab_samples").await?,
        result: sink.next_id("lab_results").await?,
        report: sink.next_id("lab_reports").await?,
        blind_n: 0,
        blind_offset: g.below(1 << 40),
        sample_count: 0,
        result_count: 0,
        report_count: 0,
    };
    let lab_staff = LabStaff {
        orgs: cx.testing_orgs,
        testers: &staff.testers,
        approvers: &staff.approvers,
        custodians: &staff.custodians,
        codes: TESTING_CODES,
    };
    let mut rows = TaskRows::default();
    // Rule 5: batches of each enterprise in the current plan (items of a plan come one after another).
    let mut plan_batches: HashMap<i64, u8> = HashMap::new();
    let mut batches_of_plan = 0i64;
    let all_shanxi: Vec<i64> = shanxi.iter().flatten().flatten().copied().collect();
    for ip in item_plans {
        let trades = trades_of(PRODUCTS[ip.product].0);
        let cities: Vec<usize> = if ip.area.len() == 4 {
            vec![ip.area[2..4].parse::<usize>().unwrap_or(1).clamp(1, 11) - 1]
        } else {
            (0..11).collect()
        };
        // The area's enterprises of the trades holding the product, as buckets (never copied).
        let mut buckets: Vec<&[i64]> = cities
            .iter()
            .flat_map(|c| trades.iter().map(|t| shanxi[*c][*t].as_slice()))
            .filter(|b| !b.is_empty())
            .collect();
        if buckets.is_empty() {
            buckets.push(all_shanxi.as_slice());
        }
        let total: usize = buckets.iter().map(|b| b.len()).sum();
        let pick = |g: &mut Gen| -> i64 {
            if total == 0 {
                return 1;
            }
            let mut r = g.below(total as u64) as usize;
            for b in &buckets {
                if r < b.len() {
                    return b[r];
                }
                r -= b.len();
            }
            1
        };
        let mut used: HashSet<i64> = HashSet::new();
        if batches_of_plan != ip.plan_id {
            plan_batches.clear();
            batches_of_plan = ip.plan_id;
        }
        let age = (cx.now - ip.created).num_days();
        let team_pool = &staff.samplers[ip.sampling_org];
        for _ in 0..ip.tasks {
            // One batch of an item and two of a plan per enterprise (rule 5), when the area allows.
            let mut enterprise_id = pick(g);
            for _ in 0..8 {
                if !used.contains(&enterprise_id) && plan_batches.get(&enterprise_id).copied().unwrap_or(0) < 2 {
                    break;
                }
                enterprise_id = pick(g);
            }
            used.insert(enterprise_id);
            *plan_batches.entry(enterprise_id).or_default() += 1;
            let roll = g.below(100);
            let state = if age < 60 {
                match roll {
                    0..=24 => "assigned",
                    25..=44 => "in_progress",
                    45..=89 => "sampled",
                    90..=91 => "refusal_pending",
                    92..=93 => "refused",
                    94 => "problem",
                    _ => "not_sampled",
                }
            } else {
                match roll {
                    0..=84 => "sampled",
                    85..=88 => "refused",
                    89 => "problem",
                    _ => "not_sampled",
                }
            };
            let created = ip.created + Duration::minutes(g.below(60 * 24 * 3) as i64);
            let updated = created + Duration::minutes(g.below(60 * 24 * 20.min(age.max(1) as u64)) as i64);
            rows.tasks.push(vec![
                task_id.into(),
                ip.plan_id.into(),
                ip.id.into(),
                ip.draw_id.into(),
                enterprise_id.into(),
                state.into(),
                ip.due.into(),
                created.into(),
                updated.into(),
            ]);
            let a = g.below(team_pool.len() as u64) as usize;
            let b = (a + 1 + g.below(team_pool.len() as u64 - 1) as usize) % team_pool.len();
            let team = [&team_pool[a], &team_pool[b]];
            for m in team {
                rows.members.push(vec![task_id.into(), m.0.into()]);
            }
            let draft = state == "in_progress" && g.percent(50);
            if state == "sampled" || draft {
                let f = record_fields(g, ip.product, updated, task_id);
                let fields_json = serde_json::to_string(&f)?;
                let hash = record_hash(task_id, 1, &fields_json);
                rows.records.push(vec![
                    record_id.into(),
                    task_id.into(),
                    1i64.into(),
                    (if draft { "draft" } else { "signed" }).into(),
                    fields_json.into(),
                    hash.clone().into(),
                    "[]".into(),
                    "".into(),
                    team[0].0.into(),
                    updated.into(),
                    (if draft { None } else { Some(updated) }).into(),
                ]);
                if !draft {
                    let signers = [
                        (format!("sampler:{}", team[0].0), Some(team[0].0), team[0].1.clone()),
                        (format!("sampler:{}", team[1].0), Some(team[1].0), team[1].1.clone()),
                        ("enterprise".to_string(), None, format!("{}{}", g.chars(SURNAMES, 1), g.chars(NAME_CHARS, 1))),
                    ];
                    for (signer, user, name) in signers {
                        rows.sigs.push(vec![
                            sig_id.into(),
                            record_id.into(),
                            signer.into(),
                            user.into(),
                            name.into(),
                            PNG.into(),
                            sig_sha.clone().into(),
                            false.into(),
                            "".into(),
                            "".into(),
                            "".into(),
                            hash.clone().into(),
                            updated.into(),
                        ]);
                        sig_id += 1;
                        counts.signatures += 1;
                    }
                    for (portion, kind, mode) in [("all", "sealed", ""), ("test", "dispatched", "carried")] {
                        rows.custody.push(vec![
                            custody_id.into(),
                            task_id.into(),
                            portion.into(),
                            kind.into(),
                            "intact".into(),
                            f.place.clone().into(),
                            mode.into(),
                            "".into(),
                            "".into(),
                            "".into(),
                            team[0].0.into(),
                            team[0].1.clone().into(),
                            updated.into(),
                            updated.into(),
                        ]);
                        custody_id += 1;
                        counts.custody_events += 1;
                    }
                    let task = LabTask { id: task_id, ip, fields: &f, dispatched: updated, age };
                    lab_side(g, &mut rows, &mut lab, &lab_staff, &task, cx.now, &mut custody_id, counts)?;
                }
                record_id += 1;
                counts.records += 1;
            }
            if matches!(state, "refusal_pending" | "refused" | "problem") {
                let (kind, details) = if state == "problem" {
                    ("problem", json!({"violation": "无生产许可证生产", "facts": "现场发现无证生产"}))
                } else {
                    ("refusal", json!({"facts": "企业负责人拒绝抽样，拒绝在文书上签字"}))
                };
                let cosigned = state == "refused";
                rows.outcomes.push(vec![
                    outcome_id.into(),
                    task_id.into(),
                    kind.into(),
                    details.to_string().into(),
                    team[0].0.into(),
                    updated.into(),
                    (if cosigned { Some(cx.local_regulator) } else { None }).into(),
                    (if cosigned { Some(updated + Duration::days(1)) } else { None }).into(),
                    (if cosigned { "经核实，企业无正当理由拒绝抽样" } else { "" }).into(),
                ]);
                outcome_id += 1;
                counts.outcomes += 1;
            }
            task_id += 1;
            counts.tasks += 1;
            if rows.tasks.len() >= BATCH {
                rows.flush(sink).await?;
                progress.inc(BATCH);
            }
        }
    }
    let n = rows.tasks.len();
    rows.flush(sink).await?;
    progress.inc(n);
    counts.lab_samples = lab.sample_count;
    counts.lab_results = lab.result_count;
    counts.lab_reports = lab.report_count;
    Ok(())
}

/// Rule 22's side table (m0026) for the loaded signed records, as signing writes it: the nominal
/// producer's USCC (upper case) or else the sampled enterprise's, the item's product, and standard,
/// brand and model trimmed. One statement after the load (the generator does not hold the USCCs).
pub(super) async fn product_keys(sink: &Sink) -> anyhow::Result<()> {
    let field = |name: &str| match sink {
        Sink::Pg(_) => format!("COALESCE(TRIM(r.fields_json::json ->> '{name}'), '')"),
        Sink::Lite(_) => format!("COALESCE(TRIM(json_extract(r.fields_json, '$.{name}')), '')"),
    };
    sink.execute(&format!(
        "INSERT INTO record_product_keys (record_id, task_id, producer, product, standard, trademark, model) \
         SELECT r.id, r.task_id, COALESCE(NULLIF(UPPER({producer}), ''), e.uscc), i.product, {standard}, {brand}, \
         {model} FROM sampling_records r JOIN sampling_tasks t ON t.id = r.task_id \
         JOIN enterprises e ON e.id = t.enterprise_id JOIN plan_items i ON i.id = t.item_id \
         WHERE r.state = 'signed' \
         AND NOT EXISTS (SELECT 1 FROM record_product_keys k WHERE k.record_id = r.id)",
        producer = field("producer_uscc"),
        standard = field("standard"),
        brand = field("brand"),
        model = field("model"),
    ))
    .await
}

/// The rows of a batch of tasks, written in foreign-key order.
#[derive(Default)]
pub(super) struct TaskRows {
    pub(super) tasks: Batch,
    pub(super) members: Batch,
    pub(super) records: Batch,
    pub(super) sigs: Batch,
    pub(super) outcomes: Batch,
    pub(super) custody: Batch,
    pub(super) labs: Batch,
    pub(super) results: Batch,
    pub(super) reports: Batch,
}

impl TaskRows {
    async fn flush(&mut self, sink: &Sink) -> anyhow::Result<()> {
        sink.write("sampling_tasks", &TASK_COLS, &self.tasks).await?;
        sink.write("sampling_task_members", &MEMBER_COLS, &self.members).await?;
        sink.write("sampling_records", &RECORD_COLS, &self.records).await?;
        sink.write("record_signatures", &SIGNATURE_COLS, &self.sigs).await?;
        sink.write("task_outcomes", &OUTCOME_COLS, &self.outcomes).await?;
        sink.write("custody_events", &CUSTODY_COLS, &self.custody).await?;
        sink.write("lab_samples", &LAB_SAMPLE_COLS, &self.labs).await?;
        sink.write("lab_results", &LAB_RESULT_COLS, &self.results).await?;
        sink.write("lab_reports", &LAB_REPORT_COLS, &self.reports).await?;
        *self = TaskRows::default();
        Ok(())
    }
}
