use super::*;

fn diesel() -> RecordFields {
    RecordFields {
        product_name: "车用柴油".into(),
        model: "0号".into(),
        standard: "GB 19147-2016".into(),
        sampling_base: 12000.0,
        test_quantity: 2.0,
        backup_quantity: 2.0,
        unit: "L".into(),
        unit_price: 7.35,
        place: "大同市平城区某加油站加油机3号枪".into(),
        domain: "circulation".into(),
        sampled_at: "2025-10-10 10:30".into(),
        test_seals: vec!["SXGH-000123".into()],
        backup_seals: vec!["SXGH-000124".into()],
        ..Default::default()
    }
}

fn req() -> RecordRequirements {
    RecordRequirements {
        min_test_quantity: Some(2.0),
        min_backup_quantity: Some(2.0),
        min_base: Some(200.0),
        unit: "L".into(),
    }
}

#[test]
fn task_transitions_table() {
    use TaskAction as A;
    use TaskState as S;
    for (from, a, to) in [
        (S::Assigned, A::Start, S::InProgress),
        (S::InProgress, A::CompleteRecord, S::Sampled),
        (S::InProgress, A::Refuse, S::RefusalPending),
        (S::RefusalPending, A::CosignRefusal, S::Refused),
        (S::InProgress, A::ReportProblem, S::Problem),
        (S::Assigned, A::MarkNotSampled, S::NotSampled),
    ] {
        assert_eq!(transition(from, a), Ok(to));
    }
    assert!(transition(S::Assigned, A::CompleteRecord).is_err());
    assert!(transition(S::InProgress, A::CosignRefusal).is_err(), "a refusal is co-signed only after it is recorded");
    assert!(transition(S::Sampled, A::Refuse).is_err());
    assert!(transition(S::Refused, A::Start).is_err());
}

#[test]
fn record_follows_the_rules_quantities_and_rule8() {
    assert!(diesel().validate(&req(), 2).is_ok());
    assert_eq!(diesel().total_paid_fen(), 1470);
    let codes = |r: RecordFields, n: usize| -> Vec<&'static str> {
        r.validate(&req(), n).unwrap_err().iter().map(|e| e.code).collect()
    };
    assert_eq!(codes(diesel(), 1), ["rule2_min_samplers"]);
    let mut few = diesel();
    few.test_quantity = 1.0;
    assert_eq!(codes(few, 2), ["rules_quantity"]);
    let mut base = diesel();
    base.sampling_base = 150.0;
    assert_eq!(codes(base, 2), ["rules_min_base"]);
    let mut free = diesel();
    free.unit_price = 0.0;
    assert_eq!(codes(free, 2), ["rule8_price"]);
    let mut same = diesel();
    same.backup_seals = same.test_seals.clone();
    assert_eq!(codes(same, 2), ["rule8_seals"]);
}

#[test]
fn corrections_list_what_changed() {
    let old = diesel();
    let mut new = diesel();
    new.batch = "20251008".into();
    new.unit_price = 7.45;
    let d = diff(&old, &new);
    assert_eq!(d.len(), 2);
    assert!(d.iter().any(|(f, o, n)| f == "batch" && o.is_empty() && n == "20251008"));
    assert!(d.iter().any(|(f, o, n)| f == "unit_price" && o == "7.35" && n == "7.45"));
}

#[test]
fn a_record_needs_every_sampler_and_the_enterprise() {
    let mut signed = BTreeMap::new();
    assert_eq!(missing_signatures(&[7, 9], &signed).len(), 3);
    signed.insert(Signer::Sampler(7), true);
    signed.insert(Signer::Enterprise, false); // refused to sign, noted
    assert_eq!(missing_signatures(&[7, 9], &signed), vec![Signer::Sampler(9)]);
    signed.insert(Signer::Sampler(9), true);
    assert!(missing_signatures(&[7, 9], &signed).is_empty());
}

#[test]
fn entry_deadline_is_the_end_of_the_next_day_in_china() {
    let t = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
    let utc = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc);
    // Sampled at 23:30 on 10 October (China): due by 12 October 00:00 China = 11 October 16:00 UTC.
    let d = entry_deadline(t("2025-10-10 23:30"));
    assert_eq!(d, utc("2025-10-11T16:00:00Z"));
    // Sampled at 00:30 China on 11 October is still 10 October in UTC, yet its deadline is a day later.
    assert_eq!(entry_deadline(t("2025-10-11 00:30")), utc("2025-10-12T16:00:00Z"));
    // RFC 3339 times are read in China's time.
    assert_eq!(parse_local_time("2025-10-10T16:30:00Z"), Some(t("2025-10-11 00:30")));
    let s = entry_status(t("2025-10-10 10:00"), Some(utc("2025-10-11T15:59:00Z")), utc("2025-10-20T00:00:00Z"));
    assert!(!s.late && !s.overdue, "locked 23:59 on the next day is in time");
    let s = entry_status(t("2025-10-10 10:00"), Some(utc("2025-10-11T16:01:00Z")), utc("2025-10-20T00:00:00Z"));
    assert!(s.late && !s.overdue, "locked 00:01 two days later is late");
    let s = entry_status(t("2025-10-10 10:00"), None, utc("2025-10-11T15:00:00Z"));
    assert!(!s.late && !s.overdue, "not locked, deadline not passed");
    let s = entry_status(t("2025-10-10 10:00"), None, utc("2025-10-11T16:00:00Z"));
    assert!(s.overdue, "not locked when the deadline passed");
}

#[test]
fn not_sampled_reasons_parse_by_code_or_label() {
    assert_eq!("停业".parse::<NotSampledReason>(), Ok(NotSampledReason::Closed));
    assert_eq!("no_stock".parse::<NotSampledReason>(), Ok(NotSampledReason::NoStock));
    assert!("倒闭了".parse::<NotSampledReason>().is_err());
}

#[test]
fn rule7_a_required_category_needs_an_item_or_a_reason() {
    use EvidenceCategory::*;
    let required = EvidenceCategory::REQUIRED_BY_NOTICE;
    // Nothing yet: all six are missing, in the checklist's order; documents are not required.
    assert_eq!(missing_evidence(&required, &[], &[]), vec![Site, Storage, Labels, Stock, Process, Seals]);
    // Photos of five, the stock explained: complete.
    assert!(missing_evidence(&required, &[Site, Storage, Labels, Process, Seals, Site], &[Stock]).is_empty());
    // A photo of a category the rules do not require does not stand in for a required one.
    assert_eq!(missing_evidence(&required, &[Documents, Site, Storage, Labels, Stock, Process], &[]), vec![Seals]);
    // Rules that require less: only those count.
    assert!(missing_evidence(&[Labels, Seals], &[Labels, Seals], &[]).is_empty());
    let v = evidence_incomplete(&[Storage, Seals]);
    assert_eq!(v.code, "rule7_evidence");
    assert!(v.message.contains("贮存环境、封样"), "{}", v.message);
}
