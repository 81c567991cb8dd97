//! The reviewers' and approvers' screen (`/lab/reports`): review, approval, sending back, the PDF.

use super::*;

pub struct ReportLine {
    pub blind_code: String,
    pub r: ReportView,
}

#[derive(Template, WebTemplate)]
#[template(path = "lab/reports.html")]
pub struct ReportsPage {
    pub chrome: Chrome,
    pub items: Vec<ReportLine>,
    pub state: ReportState,
    pub link_holder: bool,
    /// A reviewer/approver: reads the draft and signs (custodians and testers only follow the list).
    pub signer: bool,
    pub next_href: Option<String>,
}

pub(super) async fn reports(
    Page { state: st, session, actor: a }: Page,
    Query(q): Query<CursorQuery>,
) -> PageResult<ReportsPage> {
    let state = crate::extract::parse_state(q.state.as_deref())?.unwrap_or(ReportState::Prepared);
    let p = lab::report_worklist(&st.services, &a, state, cursor_of(&q), Some(50)).await?;
    Ok(ReportsPage {
        items: p.items.into_iter().map(|(blind_code, r)| ReportLine { blind_code, r }).collect(),
        next_href: p.next.map(|c| {
            format!("/lab/reports{}", query_string(&[("state", Some(state.as_str())), ("cursor", Some(c.as_str()))]))
        }),
        state,
        link_holder: a.may(Action::ReceiveSample) || a.may(Action::ReportPdf),
        signer: lab::signs_reports(&a),
        chrome: chrome(&session, Some(&a), "lab").await,
    })
}

pub(super) async fn review(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
    PageForm(f): PageForm<SignOffInput>,
) -> PageResult<Response> {
    let id = id_of(&id, "检验报告")?;
    done(
        &session,
        lab::review_report(&st.services, &a, id, f).await,
        "/lab/reports?state=prepared",
        |_| "已审核，待批准",
    )
    .await
}

pub(super) async fn approve(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
    PageForm(f): PageForm<SignOffInput>,
) -> PageResult<Response> {
    let id = id_of(&id, "检验报告")?;
    done(
        &session,
        choucha_service::issue::approve_report(&st.services, &a, id, f).await,
        "/lab/reports?state=reviewed",
        |r| format!("已批准签发，报告编号 {}", r.report_no.unwrap_or_default()),
    )
    .await
}

pub(super) async fn send_back(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
    PageForm(f): PageForm<SendBackInput>,
) -> PageResult<Response> {
    let id = id_of(&id, "检验报告")?;
    done(&session, lab::send_back_report(&st.services, &a, id, f).await, "/lab/reports", |r| {
        format!("已退回检验人员（第{}版）：{}", r.version, r.returned_reason)
    })
    .await
}

pub(super) async fn report_pdf(
    State(st): State<AppState>,
    PageActor(a): PageActor,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let id = id_of(&id, "检验报告")?;
    let (_, pdf) = lab::report_pdf(&st.services, &a, id).await?;
    Ok(crate::api::lab::pdf_response(pdf, &format!("report-{id}.pdf")))
}

/// The draft the reviewer and the approver read before signing (enterprise hidden).
pub(super) async fn review_pdf(
    State(st): State<AppState>,
    PageActor(a): PageActor,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let id = id_of(&id, "检验报告")?;
    let pdf = lab::review_pdf(&st.services, &a, id).await?;
    Ok(crate::api::lab::pdf_response(pdf, &format!("report-{id}-review-draft.pdf")))
}
