//! New and edit: an enterprise as typed, with each field's problem after a refusal.

use super::*;

/// The form as posted. Kinds are one checkbox each (an urlencoded form cannot carry a list here).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EnterpriseForm {
    pub name: String,
    pub uscc: String,
    pub division_code: String,
    pub address: String,
    pub kind_producer: Option<String>,
    pub kind_seller: Option<String>,
    pub kind_fuel_station: Option<String>,
    pub kind_e_commerce: Option<String>,
    pub size_class: String,
    pub product_lines: String,
    pub licence_no: String,
    pub licence_valid_until: String,
    pub ccc_cert_no: String,
    pub status: String,
}

impl EnterpriseForm {
    fn kind_codes(&self) -> Vec<String> {
        [
            (&self.kind_producer, EnterpriseKind::Producer),
            (&self.kind_seller, EnterpriseKind::Seller),
            (&self.kind_fuel_station, EnterpriseKind::FuelStation),
            (&self.kind_e_commerce, EnterpriseKind::ECommerce),
        ]
        .into_iter()
        .filter(|(v, _)| v.is_some())
        .map(|(_, k)| k.as_str().to_string())
        .collect()
    }

    fn draft(&self) -> EnterpriseDraft {
        EnterpriseDraft {
            name: self.name.clone(),
            uscc: self.uscc.clone(),
            division_code: self.division_code.clone(),
            address: self.address.clone(),
            kinds: self.kind_codes().join("、"),
            size_class: self.size_class.clone(),
            product_lines: self.product_lines.clone(),
            licence_no: self.licence_no.clone(),
            licence_valid_until: self.licence_valid_until.clone(),
            ccc_cert_no: self.ccc_cert_no.clone(),
            status: self.status.clone(),
        }
    }
}

/// The values the form shows: as typed after a refusal, or the entry's own.
pub struct FormValues {
    pub name: String,
    pub uscc: String,
    pub division_code: String,
    pub address: String,
    pub product_lines: String,
    pub licence_no: String,
    pub licence_valid_until: String,
    pub ccc_cert_no: String,
}

/// One message per field (several problems of a field are joined).
#[derive(Default)]
pub struct FieldErrors {
    pub name: Option<String>,
    pub uscc: Option<String>,
    pub division_code: Option<String>,
    pub address: Option<String>,
    pub kinds: Option<String>,
    pub size_class: Option<String>,
    pub product_lines: Option<String>,
    pub licence_no: Option<String>,
    pub licence_valid_until: Option<String>,
    pub ccc_cert_no: Option<String>,
    pub status: Option<String>,
    /// Problems not about one field.
    pub other: Vec<String>,
}

impl FieldErrors {
    fn from_service(e: &ServiceError) -> FieldErrors {
        let mut out = FieldErrors::default();
        let ServiceError::Invalid(violations) = e else {
            out.other.push(body_of(e).message);
            return out;
        };
        for v in violations {
            let slot = match v.field.as_deref() {
                Some("name") => &mut out.name,
                Some("uscc") => &mut out.uscc,
                Some("division_code") => &mut out.division_code,
                Some("address") => &mut out.address,
                Some("kinds") => &mut out.kinds,
                Some("size_class") => &mut out.size_class,
                Some("product_lines") => &mut out.product_lines,
                Some("licence_no") => &mut out.licence_no,
                Some("licence_valid_until") => &mut out.licence_valid_until,
                Some("ccc_cert_no") => &mut out.ccc_cert_no,
                Some("status") => &mut out.status,
                _ => {
                    out.other.push(v.message.clone());
                    continue;
                }
            };
            *slot = Some(match slot.take() {
                Some(prev) => format!("{prev}；{}", v.message),
                None => v.message.clone(),
            });
        }
        out
    }

    pub fn any(&self) -> bool {
        !self.other.is_empty()
            || [
                &self.name,
                &self.uscc,
                &self.division_code,
                &self.address,
                &self.kinds,
                &self.size_class,
                &self.product_lines,
                &self.licence_no,
                &self.licence_valid_until,
                &self.ccc_cert_no,
                &self.status,
            ]
            .iter()
            .any(|f| f.is_some())
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "registry/form.html")]
pub struct FormPage {
    pub chrome: Chrome,
    pub title: String,
    pub action: String,
    pub cancel_href: String,
    pub v: FormValues,
    pub kinds: Vec<Choice>,
    pub sizes: Vec<Choice>,
    pub statuses: Vec<Choice>,
    pub errors: FieldErrors,
}

impl FormPage {
    async fn new(
        session: &Session,
        actor: &Actor,
        (title, action, cancel_href): (String, String, String),
        form: &EnterpriseForm,
        errors: FieldErrors,
    ) -> FormPage {
        FormPage {
            title,
            action,
            cancel_href,
            v: FormValues {
                name: form.name.clone(),
                uscc: form.uscc.clone(),
                division_code: form.division_code.clone(),
                address: form.address.clone(),
                product_lines: form.product_lines.clone(),
                licence_no: form.licence_no.clone(),
                licence_valid_until: form.licence_valid_until.clone(),
                ccc_cert_no: form.ccc_cert_no.clone(),
            },
            kinds: kind_choices(&form.kind_codes()),
            sizes: size_choices(&form.size_class),
            statuses: status_choices(if form.status.is_empty() { "operating" } else { &form.status }),
            errors,
            chrome: chrome(session, Some(actor), "registry").await,
        }
    }
}

/// The entry's values as the form posts them (codes for kinds, size and status).
pub(super) fn form_of(e: &EnterpriseView) -> EnterpriseForm {
    let d = e.to_draft();
    let kinds = KindSet::parse(&d.kinds).unwrap_or_default();
    let flag = |k: EnterpriseKind| kinds.contains(k).then(|| "on".to_string());
    EnterpriseForm {
        name: d.name,
        uscc: d.uscc,
        division_code: d.division_code,
        address: d.address,
        kind_producer: flag(EnterpriseKind::Producer),
        kind_seller: flag(EnterpriseKind::Seller),
        kind_fuel_station: flag(EnterpriseKind::FuelStation),
        kind_e_commerce: flag(EnterpriseKind::ECommerce),
        size_class: e.size_class.clone().unwrap_or_default(),
        product_lines: d.product_lines,
        licence_no: d.licence_no,
        licence_valid_until: d.licence_valid_until,
        ccc_cert_no: d.ccc_cert_no,
        status: e.status.clone(),
    }
}

pub(super) fn new_labels() -> (String, String, String) {
    ("新增企业".into(), "/registry/new".into(), "/registry".into())
}

pub(super) fn edit_labels(id: i64, name: &str) -> (String, String, String) {
    (format!("编辑：{name}"), format!("/registry/{id}/edit"), format!("/registry/{id}"))
}

pub(super) fn require_edit(actor: &Actor) -> Result<(), PageError> {
    actor.require(Action::EditRegistry).map_err(PageError)
}

pub(super) async fn new_form(session: Session, PageActor(actor): PageActor) -> PageResult<FormPage> {
    require_edit(&actor)?;
    let form = EnterpriseForm { status: "operating".into(), ..Default::default() };
    Ok(FormPage::new(&session, &actor, new_labels(), &form, FieldErrors::default()).await)
}

/// A refused form comes back with the typed values and each field's problem.
pub(super) async fn refused(
    session: &Session,
    actor: &Actor,
    labels: (String, String, String),
    form: &EnterpriseForm,
    e: ServiceError,
) -> Response {
    let status = status_of(&e);
    let page = FormPage::new(session, actor, labels, form, FieldErrors::from_service(&e)).await;
    (status, page).into_response()
}

pub(super) async fn create(
    Page { state, session, actor }: Page,
    PageForm(form): PageForm<EnterpriseForm>,
) -> PageResult<Response> {
    match registry::create(&state.services, &actor, form.draft()).await {
        Ok(view) => flash_to(&session, &format!("已新增企业“{}”", view.name), &format!("/registry/{}", view.id)).await,
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Duplicate(_))) => {
            Ok(refused(&session, &actor, new_labels(), &form, e).await)
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn edit_form(
    Page { state, session, actor }: Page,
    PagePath(id): PagePath<String>,
) -> PageResult<FormPage> {
    require_edit(&actor)?;
    let e = registry::get(&state.services, &actor, id_of(&id)?).await?;
    let form = form_of(&e);
    Ok(FormPage::new(&session, &actor, edit_labels(e.id, &e.name), &form, FieldErrors::default()).await)
}

pub(super) async fn update(
    Page { state, session, actor }: Page,
    PagePath(id): PagePath<String>,
    PageForm(form): PageForm<EnterpriseForm>,
) -> PageResult<Response> {
    let id = id_of(&id)?;
    match registry::update(&state.services, &actor, id, form.draft()).await {
        Ok(view) => flash_to(&session, &format!("已保存企业“{}”", view.name), &format!("/registry/{id}")).await,
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Duplicate(_))) => {
            let name = if form.name.trim().is_empty() { "企业".to_string() } else { form.name.clone() };
            Ok(refused(&session, &actor, edit_labels(id, &name), &form, e).await)
        }
        Err(e) => Err(e.into()),
    }
}
