//! Import of Annex 1: a plan draft from an uploaded table.

use super::*;

#[derive(Debug, Default, Clone)]
pub struct ImportValues {
    pub year: String,
    pub title: String,
    pub doc_no: String,
    pub organising_org_code: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "plans/import.html")]
pub struct ImportPage {
    pub chrome: Chrome,
    pub v: ImportValues,
    pub bureaus: Vec<OrgChoice>,
    pub errors: FieldErrors,
    pub problems: Vec<Annex1Problem>,
}

pub(super) async fn render_import(
    s: &Services,
    session: &Session,
    actor: &Actor,
    v: ImportValues,
    errors: FieldErrors,
    problems: Vec<Annex1Problem>,
    status: StatusCode,
) -> PageResult<Response> {
    let page = ImportPage {
        bureaus: OrgLists::load(s, actor).await?.bureaus,
        v,
        errors,
        problems,
        chrome: chrome(session, Some(actor), "plans").await,
    };
    Ok((status, page).into_response())
}

pub(super) async fn import_page(Page { state, session, actor }: Page) -> PageResult<Response> {
    actor.require(Action::CreatePlan)?;
    let s = &state.services;
    let own_code = match actor.org_id {
        Some(id) => organisations::get(s, &actor, id).await.ok().map(|o| o.code).unwrap_or_default(),
        None => String::new(),
    };
    let v = ImportValues { year: this_year(s).to_string(), organising_org_code: own_code, ..Default::default() };
    render_import(s, &session, &actor, v, FieldErrors::default(), Vec::new(), StatusCode::OK).await
}

pub(super) async fn import_upload(
    Page { state, session, actor }: Page,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult<Response> {
    actor.require(Action::CreatePlan)?;
    let s = &state.services;
    let mut v = ImportValues::default();
    let mut errors = FieldErrors::default();
    let mut file: Option<(String, Vec<u8>)> = None;
    match multipart {
        Err(_) => errors.add("file", "上传失败：请求不是有效的文件上传表单"),
        Ok(mp) => match MultipartForm::read(mp, &["file"]).await {
            Ok(mut form) => {
                let text = |name: &str| form.text(name).unwrap_or_default().to_owned();
                v.year = text("year").trim().to_owned();
                v.title = text("title");
                v.doc_no = text("doc_no");
                v.organising_org_code = text("organising_org_code").trim().to_owned();
                file = form.take_file("file").filter(|f| !f.bytes.is_empty()).map(|f| (f.file_name, f.bytes.to_vec()));
            }
            Err(_) => errors.add("file", "文件上传失败（文件过大或连接中断），请重试"),
        },
    }
    let year = v.year.parse::<i32>().ok();
    if year.is_none() {
        errors.add("year", &format!("年度“{}”应为4位数字，如 2025", v.year));
    }
    let Some((fname, bytes)) = file else {
        if !errors.has("file") {
            errors.add("file", "请选择附件1表格文件（.xlsx 或 .csv）");
        }
        return render_import(s, &session, &actor, v, errors, Vec::new(), StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    if !errors.is_empty() {
        return render_import(s, &session, &actor, v, errors, Vec::new(), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let parsed = match annex1_items(bytes, &fname).await {
        Ok(p) => p,
        Err(e) => {
            let fe = FieldErrors::from_service(e)?;
            return render_import(
                s,
                &session,
                &actor,
                v,
                fe.rename("", "file"),
                Vec::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match parsed {
        Err(problems) => {
            errors.add("", &format!("表格有 {} 处错误，未创建计划。请修改文件后重新上传。", problems.len()));
            render_import(s, &session, &actor, v, errors, problems, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Ok((sheet_title, items)) => {
            let draft = PlanDraft {
                plan: PlanInput {
                    year: year.unwrap_or(0),
                    title: if v.title.trim().is_empty() { sheet_title } else { v.title.clone() },
                    organising_org_code: opt(&v.organising_org_code),
                    doc_no: v.doc_no.clone(),
                    ..Default::default()
                },
                items,
            };
            match plans::create(s, &actor, draft).await {
                Ok(view) => {
                    let message = format!(
                        "已从附件1创建计划草稿“{}”（{} 个产品，{} 批次）。请编辑草稿指定抽样、检验机构后再下达。",
                        view.title,
                        view.items.len(),
                        view.total_quota
                    );
                    flash_to(&session, &message, &format!("/plans/{}", view.id)).await
                }
                Err(e) => {
                    let status = status_of(&e);
                    let errors = FieldErrors::from_refusal(e)?;
                    render_import(s, &session, &actor, v, errors, Vec::new(), status).await
                }
            }
        }
    }
}
