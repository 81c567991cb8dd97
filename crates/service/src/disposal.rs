//! Sample disposal (样品处置, rule 19). When a report is issued, the disposal of each portion of its
//! sample is opened in the same transaction: the backup portion (free) is returned to the
//! enterprise when qualified and handed over to the bureau in charge of results when not; the test
//! portion (bought, rule 8) follows the province's rule, which admins edit (`disposal_rules`). A
//! disposal is due once the objection window has closed (15 days after the enterprise's recorded
//! receipt of the result) and while no objection holds the backup back; it is overdue a configured
//! number of days after that. The testing institution's custodian records each disposal with how,
//! to whom, when and a proof (photo or scanned receipt, kept unaltered by its SHA-256).
//!
//! Who sees disposals: the custodian of the testing institution, the organising bureau (in charge
//! of results), admins. Testers never do (rule 13), nor enterprises.

use crate::Write;
use choucha_domain::RuleViolation;
use choucha_domain::disposal::{
    self as rules, DisposalAction, DisposalFollows, DisposalMethod, DisposalState, DisposalTiming, Portion,
    RequiredDisposal,
};
use choucha_domain::lab::SealState;
use choucha_domain::results::objection_deadline;
use choucha_domain::workflow;
use choucha_store::audit::AuditEntry;
use choucha_store::custody::NewCustodyEvent;
use choucha_store::disposals::{
    self as store, DisposalRecord, DisposalRow, DisposalScope, NATIONAL, NewDisposal, ReceivedBy,
};
use choucha_store::lab::{self as store_lab, ReportRow, SampleRow};
use choucha_store::{Page, draws as store_draws, enterprises, organisations, plans as store_plans, users};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::{Ask, Scope};
use crate::lab::{ReportContent, signed_record};
use crate::{Actor, Result, ServiceError, Services, page_limit};
use choucha_domain::access::Action;

/// A file kept as proof (a disposal receipt, a rectification report): unaltered, at its SHA-256.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct StoredFile {
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
}

/// A file sent with a form or the API, base64-encoded.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct FileInput {
    pub file_name: String,
    /// image/jpeg, image/png, application/pdf…
    pub content_type: String,
    pub data_base64: String,
}

/// The largest proof file accepted (a phone photo or a scanned page is a few MB).
pub const PROOF_MAX: usize = 20 * 1024 * 1024;

/// Checks a file (an image or a PDF, at most 20 MB), stores it unaltered and describes it.
pub(crate) async fn store_file(s: &Services, f: &FileInput, field: &'static str) -> Result<StoredFile> {
    use base64::Engine;
    let name = f.file_name.rsplit(['/', '\\']).next().unwrap_or_default().trim().chars().take(255).collect::<String>();
    let ct = f.content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if !(ct.starts_with("image/") || ct == "application/pdf") || ct.len() > 100 {
        return Err(ServiceError::invalid(
            RuleViolation::new("file_content_type", "文件须为照片（图片）或扫描件（PDF）").on_field(field),
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(f.data_base64.trim())
        .map_err(|_| ServiceError::invalid(RuleViolation::new("invalid_file", "文件数据无效").on_field(field)))?;
    if bytes.is_empty() || bytes.len() > PROOF_MAX {
        return Err(ServiceError::invalid(RuleViolation::new("invalid_file", "文件为空或超过20MB").on_field(field)));
    }
    let (sha256, size) = crate::evidence::store_bytes(s, &bytes).await?;
    Ok(StoredFile { file_name: if name.is_empty() { "file".into() } else { name }, content_type: ct, size, sha256 })
}

/// The province (its division code) whose rules apply to an organisation: its division's first two
/// digits; the national default when it has none.
pub(crate) fn province_of(division: Option<&str>) -> String {
    match division.and_then(|d| d.get(..2)).filter(|p| p.chars().all(|c| c.is_ascii_digit())) {
        Some(p) => format!("{p}0000"),
        None => NATIONAL.to_string(),
    }
}

/// Opens the disposals an issued report requires (rule 19), in the approval's transaction: the
/// test portion (paid unless nothing was paid for it) and the backup portion (free).
pub(crate) async fn open_for_report(
    s: &Services,
    tx: &Write,
    report: &ReportRow,
    sample: &SampleRow,
    qualified: bool,
) -> Result<()> {
    let db = s.store.reader();
    let task = store_draws::get_task(db, sample.task_id).await?;
    let plan = store_plans::get_plan(db, sample.plan_id).await?;
    let organiser = organisations::get(db, plan.organising_org_id).await?;
    let paid_fen = signed_record(s, sample.task_id).await?.map(|(f, _)| f.total_paid_fen()).unwrap_or(0);
    for (portion, paid) in [(Portion::Test, paid_fen > 0), (Portion::Backup, false)] {
        let required = rules::required_disposal(paid, qualified);
        // Rule 19 with rule 15: a corrected report moves an open disposal to itself with its
        // conclusion, and leaves a done one alone.
        let existing = store::disposal_of_portion(tx.conn(), sample.id, portion.as_str()).await?;
        let t = match rules::follow_report(existing.as_ref().map(|d| d.state)) {
            DisposalFollows::Leave => continue,
            DisposalFollows::Retarget(t) => t,
            DisposalFollows::Open => {
                store::insert_disposal(
                    tx,
                    NewDisposal {
                        sample_id: sample.id,
                        report_id: report.id,
                        plan_id: plan.id,
                        testing_org_id: sample.testing_org_id,
                        organising_org_id: plan.organising_org_id,
                        enterprise_id: task.enterprise_id,
                        province_code: province_of(organiser.division_code.as_deref()),
                        portion: portion.as_str().into(),
                        paid,
                        qualified,
                        required: required.as_str().into(),
                    },
                )
                .await?;
                continue;
            }
        };
        let id = existing.map(|d| d.id).ok_or(ServiceError::Conflict)?;
        store::follow_report(tx, id, t, report.id, qualified, required.as_str()).await?;
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DisposalView {
    /// Whether the caller records this disposal (the permission matrix's answer).
    pub may_dispose: bool,
    pub id: i64,
    pub sample_id: i64,
    pub report_id: i64,
    pub report_no: String,
    pub plan_id: i64,
    pub product: String,
    pub enterprise_name: String,
    /// test | backup
    pub portion: String,
    pub portion_label: String,
    pub paid: bool,
    pub qualified: bool,
    /// return_to_enterprise | hand_over_to_bureau | provincial_rule
    pub required: String,
    /// What rule 19 (or the provincial rule, for paid portions) requires, in words.
    pub required_label: String,
    /// The enterprise's receipt of the result (the objection window runs from it).
    pub received_on: Option<NaiveDate>,
    pub objection_deadline: Option<NaiveDate>,
    /// not_received | window_open | objection_open | due | overdue | done
    pub timing: String,
    pub timing_label: String,
    pub state: DisposalState,
    pub method: String,
    pub method_label: String,
    pub recipient: String,
    pub note: String,
    pub proof: Option<StoredFile>,
    pub disposed_on: Option<NaiveDate>,
    pub recorded_by_name: String,
    pub recorded_at: Option<DateTime<Utc>>,
}

/// Where a disposal stands today, from its result's receipt, its objections and its province's rule.
async fn timing_of(s: &Services, d: &DisposalRow) -> Result<(Option<NaiveDate>, DisposalTiming)> {
    let db = s.store.reader();
    let received = store::enterprise_received_on(db, d.report_id).await?;
    let held = store::objection_open(db, d.sample_id).await?;
    let rule = store::disposal_rule_for(db, &d.province_code).await?;
    Ok((received, rules::timing(received, held, rule.overdue_days.max(0) as u32, s.today())))
}

async fn view(s: &Services, actor: &Actor, d: DisposalRow) -> Result<DisposalView> {
    let may_dispose = actor.to_disposal(d.organising_org_id, d.testing_org_id).may(Action::Dispose);
    let db = s.store.reader();
    let report = store_lab::get_report(db, d.report_id).await?;
    let content: ReportContent = serde_json::from_str(&report.content_json).map_err(ServiceError::internal)?;
    let ent = enterprises::get(db, d.enterprise_id).await?;
    let (received_on, timing) = timing_of(s, &d).await?;
    let required = RequiredDisposal::parse(&d.required);
    let required_label = match required {
        Some(RequiredDisposal::ProvincialRule) => {
            format!("付费样品：{}", store::disposal_rule_for(db, &d.province_code).await?.paid_rule)
        }
        Some(r) => format!("未付费样品：{}", r.label()),
        None => d.required.clone(),
    };
    let done = d.state == DisposalState::Done;
    let recorded_by_name = match d.recorded_by {
        Some(u) => users::get(db, u).await.map(|u| u.display_name).unwrap_or_default(),
        None => String::new(),
    };
    Ok(DisposalView {
        may_dispose,
        id: d.id,
        sample_id: d.sample_id,
        report_id: d.report_id,
        report_no: report.report_no.unwrap_or_default(),
        plan_id: d.plan_id,
        product: content.product,
        enterprise_name: ent.name,
        portion_label: Portion::parse(&d.portion).map(Portion::label).unwrap_or_default().into(),
        portion: d.portion,
        paid: d.paid,
        qualified: d.qualified,
        required: d.required,
        required_label,
        received_on,
        objection_deadline: received_on.map(objection_deadline),
        timing: if done { "done".into() } else { timing.as_str().into() },
        timing_label: if done { "已处置".into() } else { timing.label() },
        state: d.state,
        method_label: DisposalMethod::parse(&d.method).map(DisposalMethod::label).unwrap_or_default().into(),
        method: d.method,
        recipient: d.recipient,
        note: d.note,
        proof: serde_json::from_str(&d.proof_json).ok(),
        disposed_on: d.disposed_on,
        recorded_by_name,
        recorded_at: d.recorded_at,
    })
}

/// The caller's disposal scope: the custodian's institution, the organising bureau, or all (admins).
/// Everyone else (testers, county bureaus, enterprises) is refused.
fn scope_of(actor: &Actor) -> Result<DisposalScope> {
    let refused = || ServiceError::Forbidden("样品处置由检验机构的样品管理员登记，组织抽查的部门查看".into());
    match actor.scope(Action::ViewDisposals).map_err(|_| refused())? {
        Scope::All => Ok(DisposalScope::All),
        Scope::Institution(o) => Ok(DisposalScope::Testing(o)),
        Scope::Bureau(o) => Ok(DisposalScope::Organising(o)),
        Scope::Enterprise(_) => Err(refused()),
    }
}

fn visible(scope: DisposalScope, d: &DisposalRow) -> bool {
    match scope {
        DisposalScope::All => true,
        DisposalScope::Testing(o) => d.testing_org_id == o,
        DisposalScope::Organising(o) => d.organising_org_id == o,
        DisposalScope::Plan(p) => d.plan_id == p,
    }
}

pub async fn get(s: &Services, actor: &Actor, id: i64) -> Result<DisposalView> {
    let scope = scope_of(actor)?;
    let d = store::get_disposal(s.store.reader(), id).await.map_err(ServiceError::not_found("样品处置"))?;
    if !visible(scope, &d) {
        return Err(ServiceError::NotFound("样品处置"));
    }
    view(s, actor, d).await
}

/// The receipt cut-offs of due (or, with `overdue`, overdue) disposals on `today`, per province.
pub(crate) async fn received_by(s: &Services, overdue: bool) -> Result<ReceivedBy> {
    let today = s.today();
    if !overdue {
        return Ok(ReceivedBy { per_province: Vec::new(), default: Some(rules::due_received_by(today)) });
    }
    let all = store::disposal_rules(s.store.reader()).await?;
    let cutoff = |days: i32| rules::overdue_received_by(today, days.max(0) as u32);
    Ok(ReceivedBy {
        per_province: all
            .iter()
            .filter(|r| r.division_code != NATIONAL)
            .map(|r| (r.division_code.clone(), cutoff(r.overdue_days)))
            .collect(),
        default: Some(cutoff(
            all.iter()
                .find(|r| r.division_code == NATIONAL)
                .map(|r| r.overdue_days)
                .ok_or_else(|| ServiceError::internal("the national disposal rule (000000) is missing"))?,
        )),
    })
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DisposalQuery {
    /// due (the default: due or overdue, not done) | overdue | open | done | all
    #[serde(default)]
    pub filter: Option<String>,
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<u64>,
}

/// The caller's disposals, newest first.
pub async fn list(s: &Services, actor: &Actor, q: DisposalQuery) -> Result<Page<DisposalView>> {
    let scope = scope_of(actor)?;
    let (state, due) = match q.filter.as_deref().unwrap_or("due") {
        "due" => (None, Some(received_by(s, false).await?)),
        "overdue" => (None, Some(received_by(s, true).await?)),
        "open" => (Some(DisposalState::Open), None),
        "done" => (Some(DisposalState::Done), None),
        "all" => (None, None),
        _ => {
            return Err(ServiceError::invalid(
                RuleViolation::new("invalid_filter", "筛选条件应为 due、overdue、open、done 或 all").on_field("filter"),
            ));
        }
    };
    let before = q.cursor.as_deref().and_then(|c| c.trim().parse::<i64>().ok());
    let p = store::list_disposals(s.store.reader(), scope, state, due.as_ref(), before, page_limit(q.limit)?).await?;
    let mut items = Vec::with_capacity(p.items.len());
    for d in p.items {
        items.push(view(s, actor, d).await?);
    }
    Ok(Page { items, next: p.next })
}

/// How many of the caller's disposals are due (overdue ones included), and how many are overdue.
pub async fn counts(s: &Services, actor: &Actor) -> Result<(u64, u64)> {
    let scope = scope_of(actor)?;
    let db = s.store.reader();
    let due = store::count_disposals(db, scope, &received_by(s, false).await?).await?;
    let overdue = store::count_disposals(db, scope, &received_by(s, true).await?).await?;
    Ok((due, overdue))
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct DisposalInput {
    /// returned (退还) | handed_over (移交) | destroyed (销毁) | other (其他，写明方式)
    pub method: String,
    /// Who received the portion (the enterprise's person, the bureau's officer…).
    #[serde(default)]
    pub recipient: String,
    #[serde(default)]
    pub note: String,
    /// The day of the disposal (today when absent).
    #[serde(default)]
    pub disposed_on: Option<NaiveDate>,
    /// A photo or scanned receipt of the disposal.
    #[serde(default)]
    pub proof: Option<FileInput>,
    /// The other hand of the disposal (issue 18): the recipient — or, for a destruction, the
    /// witness — signs on the custodian's phone (PNG, base64). Without it the hand-over waits for
    /// another custodian of the institution to confirm it in the app.
    #[serde(default)]
    pub recipient_signature_png_base64: String,
    /// The witness of a destruction (or of another method without a recipient).
    #[serde(default)]
    pub witness_name: String,
}

/// The testing institution's custodian records a due disposal: refused before the objection window
/// closes, while an objection is open, or by a method rule 19 does not allow for the portion.
pub async fn record(s: &Services, actor: &Actor, id: i64, input: DisposalInput) -> Result<DisposalView> {
    let scope = scope_of(actor)?;
    let db = s.store.reader();
    let d = store::get_disposal(db, id).await.map_err(ServiceError::not_found("样品处置"))?;
    if !visible(scope, &d) {
        return Err(ServiceError::NotFound("样品处置"));
    }
    actor
        .to_disposal(d.organising_org_id, d.testing_org_id)
        .require_or(Action::Dispose, "样品处置由承检机构的样品管理员登记（规则19）")?;
    let t = workflow::step(d.state, DisposalAction::Record)
        .map_err(|_| ServiceError::Rule(RuleViolation::new("already_disposed", "该样品已登记处置，不能重复登记")))?;
    let (received, timing) = timing_of(s, &d).await?;
    rules::check_due(timing)?;
    let mut errs = Vec::new();
    let method = DisposalMethod::parse(&input.method);
    match (method, RequiredDisposal::parse(&d.required)) {
        (None, _) => errs.push(
            RuleViolation::new("invalid_method", "处置方式应为 returned、handed_over、destroyed 或 other")
                .on_field("method"),
        ),
        (Some(m), Some(req)) => {
            if let Err(v) = rules::check_method(req, m) {
                return Err(ServiceError::Rule(v));
            }
        }
        (Some(_), None) => return Err(ServiceError::internal(format!("disposal {id}: unknown requirement"))),
    }
    let needs_recipient = matches!(method, Some(DisposalMethod::Returned | DisposalMethod::HandedOver));
    if needs_recipient && input.recipient.trim().is_empty() {
        errs.push(RuleViolation::new("required", "请填写接收人（单位及姓名）").on_field("recipient"));
    }
    if method == Some(DisposalMethod::Other) && input.note.trim().is_empty() {
        errs.push(RuleViolation::new("required", "请写明处置方式").on_field("note"));
    }
    let today = s.today();
    let on = input.disposed_on.unwrap_or(today);
    if on > today {
        errs.push(RuleViolation::new("future_date", "处置日期不能晚于今天").on_field("disposed_on"));
    }
    if let Some(from) = received.map(rules::due_from)
        && on < from
    {
        errs.push(
            RuleViolation::new("rule19_window_open", format!("处置日期不能早于异议期满后的{from}（规则19）"))
                .on_field("disposed_on"),
        );
    }
    let Some(proof) = input.proof.as_ref().filter(|p| !p.data_base64.trim().is_empty()) else {
        errs.push(
            RuleViolation::new("rule19_proof", "请上传处置凭证（照片或签收单扫描件）（规则19）").on_field("proof"),
        );
        return Err(ServiceError::Invalid(errs));
    };
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    let Some(method) = method else { return Err(ServiceError::Invalid(errs)) };
    // Who signs for the other hand: the recipient, else the witness named.
    let signer: String =
        if needs_recipient { input.recipient.trim() } else { input.witness_name.trim() }.chars().take(100).collect();
    let signed = !input.recipient_signature_png_base64.trim().is_empty();
    if signed && signer.is_empty() {
        return Err(ServiceError::invalid(
            RuleViolation::new("required", "请填写签字的见证人姓名").on_field("witness_name"),
        ));
    }
    let signature_sha = crate::custody_sign::store_drawn_signature(
        s,
        &input.recipient_signature_png_base64,
        "recipient_signature_png_base64",
    )
    .await?;
    let task_id = store_lab::get_sample(db, d.sample_id).await?.task_id;
    let stored = store_file(s, proof, "proof").await?;
    let proof_json = serde_json::to_string(&stored).map_err(ServiceError::internal)?;
    let tx = s.write(actor).await?;
    store::record_disposal(
        &tx,
        id,
        t,
        DisposalRecord {
            method: method.as_str().into(),
            recipient: input.recipient.trim().into(),
            note: input.note.trim().into(),
            proof_json,
            disposed_on: on,
            recorded_by: actor.user_id,
        },
    )
    .await
    .map_err(|e| match e {
        choucha_store::StoreError::Conflict => {
            ServiceError::Rule(RuleViolation::new("already_disposed", "该样品已登记处置，不能重复登记"))
        }
        other => other.into(),
    })?;
    // The disposal is a hand-over of the portion (issue 18): the custodian's hand now, the
    // recipient's or witness's by a signature on this phone or another custodian's confirmation.
    let to_party = match (method, signer.is_empty()) {
        (DisposalMethod::Destroyed, true) => "销毁".to_string(),
        (DisposalMethod::Destroyed, false) => format!("销毁（见证人 {signer}）"),
        (_, true) => method.label().to_string(),
        (_, false) => signer.clone(),
    };
    let hand_over = crate::custody_sign::insert_signed_on_phone(
        &tx,
        NewCustodyEvent {
            task_id,
            portion: d.portion.clone(),
            kind: "disposed".into(),
            seal_state: SealState::NotApplicable,
            note: format!("样品处置：{}，处置日期 {on}", method.label()),
            actor_id: Some(actor.user_id),
            actor_name: actor.display_name.clone(),
            from_party: format!("样品管理员 {}", actor.display_name),
            to_party,
            counter_party: "witness".into(),
            ..Default::default()
        },
        &signer,
        &signature_sha,
        "在样品管理员的设备上签字",
    )
    .await?;
    tx.commit(AuditEntry::new(
            "disposal.record",
            "disposal",
            id,
            json!({"state": t.from()}),
            json!({"state": t.to(), "method": method.as_str(), "recipient": input.recipient.trim(), "disposed_on": on, "proof_sha256": stored.sha256,
                   "custody_event_id": hand_over.id, "signed_by": signer, "signature_sha256": signature_sha}),
        )).await?;
    view(s, actor, store::get_disposal(s.store.reader(), id).await?).await
}

/// A disposal's proof file, for those who see the disposal.
pub async fn proof(s: &Services, actor: &Actor, id: i64) -> Result<(StoredFile, Vec<u8>)> {
    let v = get(s, actor, id).await?;
    let f = v.proof.ok_or(ServiceError::NotFound("处置凭证"))?;
    let bytes = crate::evidence::read_stored(s, &f.sha256).await?;
    Ok((f, bytes))
}

// ---- The provincial rules (admins) ------------------------------------------------------------

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DisposalRuleView {
    /// A province's division code, or 000000 for the national default.
    pub division_code: String,
    /// How paid samples are disposed of (the province's 样品处置规定).
    pub paid_rule: String,
    /// Days after the objection window before a disposal is overdue.
    pub overdue_days: i32,
    pub updated_at: DateTime<Utc>,
}

/// The disposal rules of every province: for admins, bureau staff and custodians (who dispose).
pub async fn rules_list(s: &Services, actor: &Actor) -> Result<Vec<DisposalRuleView>> {
    actor.require(Action::ViewDisposalRules)?;
    Ok(store::disposal_rules(s.store.reader())
        .await?
        .into_iter()
        .map(|r| DisposalRuleView {
            division_code: r.division_code,
            paid_rule: r.paid_rule,
            overdue_days: r.overdue_days,
            updated_at: r.updated_at,
        })
        .collect())
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct DisposalRuleInput {
    pub paid_rule: String,
    pub overdue_days: i32,
}

/// An admin sets a province's disposal rule (or, with 000000, the national default).
pub async fn set_rule(
    s: &Services,
    actor: &Actor,
    division: &str,
    input: DisposalRuleInput,
) -> Result<DisposalRuleView> {
    actor.require_or(Action::ManageDisposalRules, "样品处置规定由管理员维护")?;
    let division = division.trim();
    let mut errs = Vec::new();
    let province_ok = division == NATIONAL
        || (division.len() == 6 && division.chars().all(|c| c.is_ascii_digit()) && division.ends_with("0000"));
    if !province_ok {
        errs.push(
            RuleViolation::new("invalid_division", "应为省级行政区划代码（如140000）或全国默认000000")
                .on_field("division_code"),
        );
    }
    let rule = input.paid_rule.trim();
    if rule.is_empty() || rule.chars().count() > 500 {
        errs.push(RuleViolation::new("required", "请填写付费样品的处置规定（不超过500字）").on_field("paid_rule"));
    }
    if !(1..=365).contains(&input.overdue_days) {
        errs.push(RuleViolation::new("invalid_days", "逾期天数应在1至365之间").on_field("overdue_days"));
    }
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    let before = store::disposal_rules(s.store.reader()).await?.into_iter().find(|r| r.division_code == division);
    let tx = s.write(actor).await?;
    let r = store::set_disposal_rule(&tx, division, rule, input.overdue_days, actor.user_id).await?;
    tx.commit(AuditEntry::new(
        "disposal_rule.set",
        "disposal_rule",
        r.id,
        json!(before.map(|b| json!({"paid_rule": b.paid_rule, "overdue_days": b.overdue_days}))),
        json!({"division_code": division, "paid_rule": rule, "overdue_days": input.overdue_days}),
    ))
    .await?;
    Ok(DisposalRuleView {
        division_code: r.division_code,
        paid_rule: r.paid_rule,
        overdue_days: r.overdue_days,
        updated_at: r.updated_at,
    })
}
