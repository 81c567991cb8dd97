//! The Chinese names of the audit log's codes: every action a write records (`AuditEntry::new("…")`)
//! and the kinds of object it names. One table, used by the audit pages and the API's
//! `action_label`; a test walks the source and fails on an action without its name here.

/// Every audit action and its Chinese name.
pub const ACTIONS: &[(&str, &str)] = &[
    // Accounts, sign-in and the three administrators
    ("auth.login", "登录"),
    ("auth.login_failed", "登录失败"),
    ("auth.logout", "退出登录"),
    ("auth.lockout", "账号锁定"),
    ("auth.unlock", "解锁账号"),
    ("auth.session_end", "会话结束"),
    ("auth.token_issue", "签发API令牌"),
    ("auth.token_revoke", "注销API令牌"),
    ("auth.second_factor", "动态验证码验证"),
    ("auth.second_factor_start", "开始绑定动态验证码"),
    ("auth.second_factor_enrol", "绑定动态验证码"),
    ("auth.second_factor_reset", "重置动态验证码"),
    ("auth.recovery_code_used", "使用恢复码登录"),
    ("user.create", "新建用户"),
    ("user.update", "修改用户"),
    ("user.roles", "授予、撤销角色"),
    ("security.policy", "安全策略变更"),
    ("user.password_reset", "重置密码"),
    ("user.password_change", "修改本人密码"),
    ("user.password_change_required", "要求修改密码"),
    ("user.personal_data_sealed", "加密个人信息"),
    ("organisation.create", "新建机构"),
    ("organisation.update", "修改机构"),
    ("calendar.set", "设置节假日/调休"),
    ("calendar.delete", "删除节假日/调休"),
    ("audit.export", "导出审计记录"),
    ("training.move_date", "调整培训系统日期"),
    ("demo.load", "载入演示数据"),
    ("bench_data.load", "载入基准测试数据"),
    // Registry
    ("enterprise.create", "新增名录企业"),
    ("enterprise.update", "修改名录企业"),
    ("enterprise.import", "导入名录"),
    // Plans, draws, implementation rules
    ("plan.create", "制定抽查计划"),
    ("plan.update", "修改抽查计划"),
    ("plan.amend", "变更抽查计划"),
    ("plan.issue", "下达抽查计划"),
    ("plan.close", "结束抽查计划"),
    ("plan.delete", "删除抽查计划草稿"),
    ("plan.batch_allowance", "调整批次余量"),
    ("plan.confirmation_period", "设定样品确认期限"),
    ("plan.national_export_mark", "标记已报送国家平台"),
    ("draw.create", "随机抽取"),
    ("draw.redraw", "重新抽取"),
    ("draw.publish", "公开抽取结果"),
    ("draw.seed_commit", "公示种子承诺"),
    ("rules.create", "编制实施细则"),
    ("rules.update", "修改实施细则"),
    ("rules.submit", "提交实施细则审批"),
    ("rules.return", "退回实施细则"),
    ("rules.approve", "审批实施细则"),
    ("rules.publish", "公开实施细则"),
    // Sampling
    ("task.start", "开始抽样"),
    ("task.arrival", "到达现场"),
    ("task.refuse", "登记拒检"),
    ("task.refusal_cosign", "会签拒检认定"),
    ("task.problem", "报告现场问题"),
    ("task.not_sampled", "记为未抽样"),
    ("sampler.conflict", "抽样人员回避"),
    ("record.save", "保存抽样单"),
    ("record.sign", "签字确认抽样单"),
    ("record.correct", "更正抽样单"),
    ("evidence.add", "上传证据"),
    ("evidence.explain", "注明证据无法拍摄的原因"),
    ("signature.store", "保存个人签名"),
    ("signature.remove", "删除个人签名"),
    ("seal.store", "保存机构印章"),
    ("seal.remove", "删除机构印章"),
    ("evidence.upload_start", "开始上传证据"),
    ("evidence.upload_rejected", "证据上传被拒"),
    ("custody.dispatch", "寄送/带回样品"),
    ("sample.dispatch", "发出样品"),
    ("backup.request", "申请调用备用样品"),
    ("backup.decide", "审批调用备用样品"),
    // Laboratory
    ("lab.accept", "接收样品"),
    ("lab.reject", "拒收样品"),
    ("lab.assign", "分配检验人员"),
    ("lab.custody", "登记样品流转"),
    ("custody.confirm", "确认样品交接"),
    ("lab.licence_check", "核查生产许可"),
    ("lab.screen", "初筛"),
    ("lab.result", "录入检验结果"),
    ("lab.results", "录入检验结果（整表）"),
    ("lab.import", "导入检验结果"),
    ("lab.complete", "完成检验"),
    ("report.prepare", "编制检验报告"),
    ("report.review", "审核检验报告"),
    ("report.approve", "批准检验报告"),
    ("signing_key.rotate", "更换签名密钥"),
    ("report.send_back", "退回检验报告"),
    ("report.correct", "更正检验报告"),
    // Results, objections, re-tests, confirmations
    ("letter.write", "出具产品质量改进建议书"),
    ("delivery.record", "登记结果送达"),
    ("inbox.read", "阅读待办"),
    ("objection.file", "提出异议"),
    ("objection.decide", "处理异议"),
    ("objection.close", "办结异议"),
    ("retest.assign", "安排复检"),
    ("retest.receive", "接收备用样品"),
    ("retest.results", "录入复检结果"),
    ("retest.prepare", "编制复检报告"),
    ("retest.review", "审核复检报告"),
    ("retest.approve", "批准复检报告"),
    ("confirmation.open", "发起样品确认"),
    ("confirmation.answer", "答复样品确认"),
    ("confirmation.lapse", "登记逾期未答复"),
    ("confirmation.investigate", "调查核实样品确认"),
    // Disposal, post-processing, announcements
    ("disposal.record", "处置样品"),
    ("disposal_rule.set", "维护样品处置规定"),
    ("case.open", "立后处理案件"),
    ("case.step", "办理后处理案件"),
    ("case.close_corrected", "整改后复查合格，结案"),
    ("case.close_retest", "复检合格，结案"),
    ("case.follow_up_order", "安排复查抽样"),
    ("case.follow_up_result", "复查报告签发，记录复查结果"),
    ("retest.dispatch", "寄出复检备用样品"),
    ("case_rule_set.add", "新增后处理时限规则"),
    ("case_rule_set.select", "选定后处理时限规则"),
    ("announcement.draft", "起草结果公告"),
    ("announcement.update", "修改结果公告"),
    ("announcement.return", "退回结果公告"),
    ("announcement.approve", "审核结果公告"),
    ("announcement.publish", "发布公告"),
    ("result_notice.sign", "出具经签名的检验结果告知书"),
    ("analysis_text.save", "保存质量分析（草稿）"),
    ("analysis_text.submit", "提交质量分析"),
    ("analysis_text.send_back", "退回质量分析"),
    ("announcement.withdraw", "撤回结果公告"),
    ("announcement.draft_correction", "起草更正公告"),
    ("announcement.corrected", "发布更正公告"),
];

/// The kinds of object an audit record names, and their Chinese names.
pub const OBJECTS: &[(&str, &str)] = &[
    ("user", "用户"),
    ("api_token", "API令牌"),
    ("organisation", "机构"),
    ("calendar_day", "工作日历"),
    ("audit_log", "审计日志"),
    ("training_clock", "培训系统日期"),
    ("security_policy", "安全策略"),
    ("deployment", "系统"),
    ("enterprise", "名录企业"),
    ("plan", "抽查计划"),
    ("plan_item", "计划产品"),
    ("draw", "随机抽取"),
    ("seed_commitment", "种子承诺"),
    ("rules_version", "实施细则"),
    ("sampling_task", "抽样任务"),
    ("sampling_record", "抽样单"),
    ("evidence", "证据"),
    ("evidence_upload", "证据上传"),
    ("custody_event", "样品流转"),
    ("backup_request", "备样调用申请"),
    ("lab_sample", "检验样品"),
    ("lab_results", "检验结果"),
    ("lab_report", "检验报告"),
    ("improvement_letter", "改进建议书"),
    ("delivery", "结果送达"),
    ("inbox_item", "待办事项"),
    ("objection", "异议"),
    ("retest", "复检"),
    ("sample_confirmation", "样品确认"),
    ("disposal", "样品处置"),
    ("disposal_rule", "样品处置规定"),
    ("case", "后处理案件"),
    ("case_rule_set", "后处理时限规则"),
    ("announcement", "结果公告"),
];

/// The Chinese name of an audit action, when known.
pub fn action_label(action: &str) -> Option<&'static str> {
    ACTIONS.iter().find(|(a, _)| *a == action).map(|(_, l)| *l)
}

/// The Chinese name of an audit action for people: an unknown code is named as such, never shown.
pub fn action_text(action: &str) -> &'static str {
    action_label(action).unwrap_or("其他操作")
}

/// The Chinese name of the kind of object an audit record names (`记录` when unknown).
pub fn object_label(object_type: &str) -> &'static str {
    OBJECTS.iter().find(|(o, _)| *o == object_type).map(|(_, l)| *l).unwrap_or("记录")
}

/// The name of a record's actor when no person wrote it (the demo's load, a migration, a test):
/// 系统（演示数据）; a person's recorded name is returned as it is.
pub fn actor_text(actor_id: Option<i64>, name: &str) -> String {
    if actor_id.is_some() {
        return name.to_string();
    }
    match name {
        "demo" => "系统（演示数据）".into(),
        "bench" | "bench_data" => "系统（基准测试数据）".into(),
        "" | "system" => "系统".into(),
        n if n.is_ascii() => "系统".into(),
        n => n.to_string(),
    }
}

/// Actions whose Chinese name contains `text` (the audit log's filter by name).
pub fn actions_named(text: &str) -> Vec<&'static str> {
    ACTIONS.iter().filter(|(_, l)| l.contains(text)).map(|(a, _)| *a).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// File names that look like dotted codes (`audit.jsonl`, `seal.png`): not actions.
    fn is_file_name(s: &str) -> bool {
        let ext = s.rsplit('.').next().unwrap_or_default();
        ["json", "jsonl", "pdf", "png", "jpg", "zip", "xlsx", "csv", "toml", "key", "db", "txt", "html", "md"]
            .contains(&ext)
    }

    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    /// Every dotted code in a source file that writes audit records (`AuditEntry::new(`) — its
    /// literal argument, a `match` of literals, or a constant passed along — has a Chinese name.
    #[test]
    fn every_action_the_code_records_has_a_chinese_name() {
        let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        for krate in ["service", "store", "seed", "web", "cli", "domain"] {
            rust_files(&crates.join(krate).join("src"), &mut files);
        }
        let mut seen = 0;
        let mut missing = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            if !text.contains("AuditEntry::new(") || f.ends_with("audit_labels.rs") {
                continue;
            }
            for literal in text.split('"').skip(1).step_by(2) {
                let parts: Vec<&str> = literal.split('.').collect();
                let code = parts.len() == 2
                    && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
                if code && !is_file_name(literal) {
                    seen += 1;
                    if action_label(literal).is_none() {
                        missing.push(format!("{literal}（{}）", f.display()));
                    }
                }
            }
        }
        assert!(seen > 50, "the walk found the audit actions ({seen})");
        assert!(missing.is_empty(), "audit actions without a Chinese name: {missing:?}");
    }

    #[test]
    fn codes_are_named_once_and_unknown_ones_are_not_shown() {
        let mut codes: Vec<&str> = ACTIONS.iter().map(|(a, _)| *a).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ACTIONS.len(), "an action named twice");
        assert_eq!(action_text("announcement.publish"), "发布公告");
        assert_eq!(action_text("no.such"), "其他操作");
        assert_eq!(object_label("user"), "用户");
        assert!(actions_named("公告").contains(&"announcement.publish"));
        assert_eq!(actor_text(None, "demo"), "系统（演示数据）");
        assert_eq!(actor_text(Some(2), "王检验"), "王检验");
    }
}
