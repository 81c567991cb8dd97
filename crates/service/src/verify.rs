//! The public authenticity check of an issued report (报告真伪查询, issue 18): reached without
//! signing in by the unguessable token printed as a QR code on the report. It shows what the
//! report says about itself and the hashes of its electronic file, never the enterprise, and
//! nothing at all before the report is delivered (the same 404 as an unknown token). An uploaded
//! file is checked against the stored hash and the SM2 signature.

use choucha_domain::lab::ReportState;
use choucha_domain::results::DeliveryState;
use choucha_domain::retest::RetestState;
use choucha_domain::signed_pdf;
use choucha_store::signing as store;
use choucha_store::{lab as lab_store, organisations, results as results_store, retests as retests_store};
use serde::Serialize;

use crate::lab::ReportContent;
use crate::signing::{self, PublicKeyEntry};
use crate::{Result, ServiceError, Services};

/// The largest file the check reads (a report PDF is a few hundred kilobytes).
pub const MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;

/// What the public page shows of a signed report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PublicReportVerification)]
pub struct VerificationView {
    /// What the document is: 检验报告, 复检报告 or 抽查结果公告.
    pub document: String,
    /// An announcement (its number, title and bureau in place of a report's fields).
    pub is_announcement: bool,
    /// 报告编号 (an announcement's 文号).
    pub report_no: String,
    /// 样品名称.
    pub product: String,
    /// 检验结论 as printed, and whether it is 合格.
    pub conclusion: String,
    pub qualified: bool,
    /// 检验机构.
    pub institution: String,
    /// 签发日期 (Beijing), YYYY-MM-DD.
    pub issued_on: String,
    /// Hashes of the electronic file as issued (its signature line included), hex.
    pub pdf_sha256: String,
    pub pdf_sm3: String,
    /// SM3 fingerprint of the SM2 key that signed it.
    pub key_id: String,
    /// 有效 / 已被更正报告替代 / ….
    pub status: String,
    /// A corrected report replaced it.
    pub superseded: bool,
    /// A re-test report gave the final conclusion (复检结论), when there is one.
    pub retest_conclusion: Option<String>,
}

/// The outcome of checking an uploaded file.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ReportFileCheck)]
pub struct FileCheck {
    /// The file is byte for byte the one issued, and its SM2 signature is valid.
    pub authentic: bool,
    /// Its SHA-256 equals the stored one.
    pub hash_matches: bool,
    /// Its SM2 signature is valid under this report's key.
    pub signature_valid: bool,
    /// What was found, in Chinese.
    pub message: String,
    pub sha256: String,
    pub sm3: String,
}

fn not_found() -> ServiceError {
    ServiceError::NotFound("报告")
}

async fn signature_row(s: &Services, token: &str) -> Result<store::DocumentSignatureRow> {
    // A token is 32 lowercase hex characters; anything else is simply unknown.
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(not_found());
    }
    let row = store::signature_by_token(s.store.reader(), token).await?.ok_or_else(not_found)?;
    if ![
        signing::REPORT,
        signing::RETEST_REPORT,
        signing::ANNOUNCEMENT,
        signing::RESULT_NOTICE,
        signing::RESULT_NOTICE_PRODUCER,
    ]
    .contains(&row.kind.as_str())
    {
        return Err(not_found());
    }
    Ok(row)
}

/// A signed re-test report (复检报告) as the public check shows it: issued to the applicant when
/// approved, so public from then on.
async fn retest_view(s: &Services, sig: store::DocumentSignatureRow) -> Result<VerificationView> {
    let db = s.store.reader();
    let t = retests_store::get_retest(db, sig.object_id).await.map_err(|_| not_found())?;
    if t.state != RetestState::Concluded {
        return Err(not_found());
    }
    let first = lab_store::get_report(db, t.report_id).await?;
    let content: ReportContent = serde_json::from_str(&first.content_json).map_err(ServiceError::internal)?;
    let org = organisations::get(db, t.retest_org_id).await?;
    Ok(VerificationView {
        document: "复检报告".into(),
        is_announcement: false,
        report_no: t.report_no.clone().unwrap_or_default(),
        product: content.product,
        conclusion: t.conclusion.clone(),
        qualified: t.qualified.unwrap_or(false),
        institution: org.name,
        issued_on: t.approved_at.map(|a| choucha_domain::clock::beijing_date(a).to_string()).unwrap_or_default(),
        pdf_sha256: sig.pdf_sha256,
        pdf_sm3: sig.pdf_sm3,
        key_id: sig.key_id,
        status: format!("有效：本报告为检验报告{}的复检报告，复检结论为最终结论", first.report_no.unwrap_or_default()),
        superseded: false,
        retest_conclusion: None,
    })
}

/// A signed announcement as the public check shows it: public from its publication, with what
/// happened to it since (withdrawn, corrected).
async fn announcement_view(s: &Services, sig: store::DocumentSignatureRow) -> Result<VerificationView> {
    let a = crate::announcements::get_public(s, sig.object_id).await.map_err(|_| not_found())?;
    let sn = &a.snapshot;
    let status = match a.state {
        choucha_domain::announcement::AnnouncementState::Withdrawn => format!("已撤回：{}", a.withdrawal_reason),
        choucha_domain::announcement::AnnouncementState::Corrected => "已被更正公告替代，本公告不再有效".to_string(),
        _ => "有效".to_string(),
    };
    Ok(VerificationView {
        document: "抽查结果公告".into(),
        is_announcement: true,
        report_no: if sn.doc_number.is_empty() { sn.title.clone() } else { sn.doc_number.clone() },
        product: sn.title.clone(),
        conclusion: format!(
            "公告抽查{}批次，合格{}批次，不合格{}批次；拒检企业{}家",
            sn.sampled,
            sn.qualified,
            sn.unqualified,
            sn.refusals.len()
        ),
        qualified: sn.unqualified == 0,
        institution: sn.organising_bureau.clone(),
        issued_on: sn.published_on.to_string(),
        pdf_sha256: sig.pdf_sha256,
        pdf_sm3: sig.pdf_sm3,
        key_id: sig.key_id,
        superseded: a.state != choucha_domain::announcement::AnnouncementState::Published,
        status,
        retest_conclusion: None,
    })
}

/// The public view of the report with verification token `token`; 404 for an unknown token and
/// for a report not yet delivered to anyone.
pub async fn view(s: &Services, token: &str) -> Result<VerificationView> {
    let sig = signature_row(s, token).await?;
    if sig.kind == signing::RETEST_REPORT {
        return retest_view(s, sig).await;
    }
    if sig.kind == signing::ANNOUNCEMENT {
        return announcement_view(s, sig).await;
    }
    let db = s.store.reader();
    let r = lab_store::get_report(db, sig.object_id).await?;
    let delivered = results_store::of_report(db, r.id).await?.iter().any(|d| d.state != DeliveryState::Pending);
    if !delivered {
        return Err(not_found());
    }
    let content: ReportContent = serde_json::from_str(&r.content_json).map_err(ServiceError::internal)?;
    let org = organisations::get(db, r.testing_org_id).await?;
    let retest = retests_store::retests_of_sample(db, r.sample_id)
        .await?
        .into_iter()
        .find(|t| t.report_id == r.id && t.state == RetestState::Concluded);
    let superseded = r.state == ReportState::Superseded;
    let status = if superseded {
        "已被更正报告替代，本报告不再有效".to_string()
    } else if let Some(t) = &retest {
        format!("已复检：复检报告{}的结论为最终结论", t.report_no.clone().unwrap_or_default())
    } else {
        "有效".to_string()
    };
    Ok(VerificationView {
        // A result notice goes with its report: public once the report is delivered, with the
        // report's number, conclusion and standing.
        document: if sig.kind == signing::REPORT { "检验报告" } else { "检验结果告知书" }.into(),
        is_announcement: false,
        report_no: r.report_no.clone().unwrap_or_default(),
        product: content.product,
        conclusion: content.conclusion,
        qualified: content.qualified,
        institution: org.name,
        issued_on: r.approved_at.map(|t| choucha_domain::clock::beijing_date(t).to_string()).unwrap_or_default(),
        pdf_sha256: sig.pdf_sha256,
        pdf_sm3: sig.pdf_sm3,
        key_id: sig.key_id,
        status,
        superseded,
        retest_conclusion: retest.map(|t| t.conclusion),
    })
}

/// Checks an uploaded file against the report with token `token`: its hash against the stored
/// one, its SM2 signature against the report's key. A file that is not a PDF, or larger than
/// [`MAX_UPLOAD_BYTES`], is refused with a Chinese message.
pub async fn check_upload(s: &Services, token: &str, file: &[u8]) -> Result<(VerificationView, FileCheck)> {
    let v = view(s, token).await?;
    if file.len() > MAX_UPLOAD_BYTES {
        return Err(ServiceError::invalid(
            choucha_domain::RuleViolation::new(
                "file_too_large",
                format!("文件过大：上限为 {} MB", MAX_UPLOAD_BYTES / 1024 / 1024),
            )
            .on_field("file"),
        ));
    }
    if !file.starts_with(b"%PDF-") {
        return Err(ServiceError::invalid(
            choucha_domain::RuleViolation::new("not_pdf", "上传的文件不是 PDF 文件，请上传报告的电子文件（.pdf）")
                .on_field("file"),
        ));
    }
    let key =
        store::key(s.store.reader(), &v.key_id).await?.ok_or_else(|| ServiceError::internal("signing key missing"))?;
    let keys = [PublicKeyEntry {
        key_id: key.key_id,
        org_code: String::new(),
        org_name: v.institution.clone(),
        algorithm: String::new(),
        public_key: key.public_key,
        created_at: String::new(),
        retired_at: None,
    }];
    let sha256 = signed_pdf::sha256_hex(file);
    let sm3 = signed_pdf::sm3_hex(file);
    let hash_matches = sha256 == v.pdf_sha256;
    let verdict = signing::check_file(file, &keys);
    let signature_valid = verdict.is_ok();
    let message = match (&verdict, hash_matches) {
        (Ok(_), true) => format!("一致：该文件与本{}签发的电子文件完全相同，SM2 签名有效", v.document),
        (Ok(_), false) => format!("不一致：该文件带有本机构的有效签名，但不是本{}的电子文件", v.document),
        (Err(e), _) => format!("不一致：该文件与本{}签发的电子文件不符（{e}）", v.document),
    };
    Ok((
        v,
        FileCheck { authentic: hash_matches && signature_valid, hash_matches, signature_valid, message, sha256, sm3 },
    ))
}
