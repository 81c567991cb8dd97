//! The custodian's screens: samples arriving (`/lab/incoming`), the receipt with its photos, the
//! received samples with their link and blind-code label (`/lab/received`), assigning a tester.

use super::*;

#[derive(Template, WebTemplate)]
#[template(path = "lab/incoming.html")]
pub struct IncomingPage {
    pub chrome: Chrome,
    pub items: Vec<IncomingView>,
    pub next_href: Option<String>,
}

pub(super) async fn incoming(
    Page { state: st, session, actor: a }: Page,
    Query(q): Query<CursorQuery>,
) -> PageResult<IncomingPage> {
    let p = lab::incoming(&st.services, &a, cursor_of(&q), Some(50)).await?;
    Ok(IncomingPage {
        items: p.items,
        next_href: p.next.map(|c| format!("/lab/incoming{}", query_string(&[("cursor", Some(c.as_str()))]))),
        chrome: chrome(&session, Some(&a), "lab").await,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "lab/receipt.html")]
pub struct ReceiptPage {
    pub chrome: Chrome,
    pub i: IncomingView,
    pub test_seals: String,
    pub backup_seals: String,
    /// Now in China's time, the default of 到样时间.
    pub now_local: String,
}

pub(super) async fn receipt_form(
    Page { state: st, session, actor: a }: Page,
    PagePath(task_id): PagePath<String>,
) -> PageResult<ReceiptPage> {
    let task_id = id_of(&task_id, "抽样任务")?;
    let i = lab::incoming_task(&st.services, &a, task_id).await?;
    Ok(ReceiptPage {
        test_seals: i.test_seals.join("，"),
        backup_seals: i.backup_seals.join("，"),
        now_local: st.services.clock().now_beijing().format("%Y-%m-%dT%H:%M").to_string(),
        i,
        chrome: chrome(&session, Some(&a), "lab").await,
    })
}

#[derive(Debug, Deserialize)]
pub struct ReceiptForm {
    /// 到样时间, China's time as the browser's datetime-local input sends it (empty: now).
    #[serde(default)]
    arrived_at: String,
    #[serde(default)]
    delivered_by: String,
    #[serde(default)]
    carrier: String,
    #[serde(default)]
    tracking_no: String,
    #[serde(default)]
    test_seals: String,
    #[serde(default)]
    backup_seals: String,
    #[serde(default)]
    test_quantity: String,
    #[serde(default)]
    backup_quantity: String,
    #[serde(default)]
    seals_intact: Option<String>,
    #[serde(default)]
    labels_match: Option<String>,
    #[serde(default)]
    appearance: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    backup_location: String,
}

pub(super) fn split_list(s: &str) -> Vec<String> {
    s.split(['，', ',', '、', ' ', '\n']).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string).collect()
}

/// A form with photos (multipart: its fields and the `photos` files), read whole; a field that is not a
/// photo is text, and a photo input left empty adds no photo.
pub(crate) async fn read_with_photos<F: serde::de::DeserializeOwned>(
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(F, Vec<ReceiptPhotoInput>), String> {
    let form = read_form(multipart, &["photos"], "照片").await?;
    let photos = form
        .files
        .iter()
        .filter(|f| !f.bytes.is_empty())
        .map(|f| ReceiptPhotoInput {
            file_name: f.file_name.clone(),
            content_type: f.content_type.clone(),
            data_base64: f.base64(),
        })
        .collect();
    Ok((form.fields_as()?, photos))
}

pub(super) async fn receive(
    Page { state: st, session, actor: a }: Page,
    PagePath(task_id): PagePath<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult<Response> {
    let task_id = id_of(&task_id, "抽样任务")?;
    let back = format!("/lab/incoming/{task_id}");
    let (f, photos) = match read_with_photos::<ReceiptForm>(multipart).await {
        Ok(x) => x,
        Err(msg) => return flash_to(&session, &msg, &back).await,
    };
    let arrived_at = match f.arrived_at.trim() {
        "" => None,
        t => match choucha_domain::sampling::parse_local_time(t) {
            Some(local) => Some(choucha_domain::sampling::local_to_utc(local)),
            None => return flash_to(&session, "到样时间格式不正确，请按“年-月-日 时:分”填写", &back).await,
        },
    };
    let input = ReceiptInput {
        arrived_at,
        delivered_by: f.delivered_by,
        carrier: f.carrier,
        tracking_no: f.tracking_no,
        observed: ObservedSample {
            test_seals: split_list(&f.test_seals),
            backup_seals: split_list(&f.backup_seals),
            test_quantity: f.test_quantity.trim().parse().unwrap_or(-1.0),
            backup_quantity: f.backup_quantity.trim().parse().unwrap_or(-1.0),
            seals_intact: f.seals_intact.is_some(),
            labels_match: f.labels_match.is_some(),
            appearance: f.appearance,
        },
        decision: if f.decision == "reject" { ReceiptDecision::Reject } else { ReceiptDecision::Accept },
        reason: f.reason,
        backup_location: f.backup_location,
        photos,
    };
    let received = lab::receive(&st.services, &a, task_id, input).await;
    done_to(&session, received, &back, |o| {
        let msg = match &o.blind_code {
            Some(c) => format!("已接收，盲样编号 {c}，请打印标签"),
            None => "已拒收，理由已报送组织抽查的部门".to_string(),
        };
        (format!("/lab/received/{}", o.sample_id), msg)
    })
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "lab/received.html")]
pub struct ReceivedPage {
    pub chrome: Chrome,
    pub items: Vec<LinkView>,
    pub next_href: Option<String>,
}

pub(super) async fn received(
    Page { state: st, session, actor: a }: Page,
    Query(q): Query<CursorQuery>,
) -> PageResult<ReceivedPage> {
    let state = crate::extract::parse_state::<SampleState>(q.state.as_deref())?;
    let p = lab::received(&st.services, &a, state, cursor_of(&q), Some(50)).await?;
    Ok(ReceivedPage {
        items: p.items,
        next_href: p.next.map(|c| format!("/lab/received{}", query_string(&[("cursor", Some(c.as_str()))]))),
        chrome: chrome(&session, Some(&a), "lab").await,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "lab/link.html")]
pub struct LinkPage {
    pub chrome: Chrome,
    pub l: LinkView,
    pub testers: Vec<(i64, String)>,
    pub custodian: bool,
    pub hand_overs: Vec<choucha_service::custody_hands::HandOverView>,
}

pub(super) async fn link(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
) -> PageResult<LinkPage> {
    let id = id_of(&id, "样品")?;
    let l = lab::link(&st.services, &a, id).await?;
    let custodian = l.actions.contains(&Action::ManageSample);
    let testers = if custodian { lab::testers_for(&st.services, &a, id).await? } else { Vec::new() };
    let hand_overs = super::custody::hand_overs_for_link(&st, &a, &l).await?;
    Ok(LinkPage { l, testers, custodian, hand_overs, chrome: chrome(&session, Some(&a), "lab").await })
}

#[derive(Debug, Deserialize)]
pub struct AssignForm {
    tester_id: String,
}

pub(super) async fn assign(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
    PageForm(f): PageForm<AssignForm>,
) -> PageResult<Response> {
    let id = id_of(&id, "样品")?;
    let back = format!("/lab/received/{id}");
    let tester_id = id_of(&f.tester_id, "检验人员")?;
    done(
        &session,
        lab::assign_tester(&st.services, &a, id, AssignInput { tester_id }).await,
        &back,
        |_| "已分配检验人员",
    )
    .await
}

pub(super) async fn label(
    State(st): State<AppState>,
    PageActor(a): PageActor,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let id = id_of(&id, "样品")?;
    let pdf = lab::label_pdf(&st.services, &a, id).await?;
    Ok(crate::api::lab::pdf_response(pdf, &format!("label-{id}.pdf")))
}

/// A receipt photo, for the custodian and the bureau (who see the sample's link).
pub(super) async fn photo(
    State(st): State<AppState>,
    PageActor(a): PageActor,
    PagePath((id, sha)): PagePath<(String, String)>,
) -> PageResult<Response> {
    let id = id_of(&id, "样品")?;
    let (p, bytes) = lab::receipt_photo(&st.services, &a, id, &sha).await?;
    Ok(photo_response(p.content_type, bytes))
}

/// A stored photo as an image the browser may keep for an hour.
pub(crate) fn photo_response(content_type: String, bytes: Vec<u8>) -> Response {
    let headers = [
        (axum::http::header::CONTENT_TYPE, content_type),
        (axum::http::header::CACHE_CONTROL, "private, max-age=3600".to_string()),
    ];
    (headers, bytes).into_response()
}
