use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "announcements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: i64,
    pub organising_org_id: i64,
    pub state: choucha_domain::announcement::AnnouncementState,
    pub title: String,
    pub preface: String,
    pub content_json: String,
    pub snapshot_json: String,
    pub snapshot_sha256: String,
    /// The SM2-signed PDF as published (file key; empty before publication).
    pub signed_pdf_path: String,
    pub corrects_id: Option<i64>,
    pub correction_reason: String,
    pub corrected_by_id: Option<i64>,
    pub drafted_by: i64,
    pub drafted_at: DateTimeUtc,
    pub updated_by: i64,
    pub updated_at: DateTimeUtc,
    pub approved_by: Option<i64>,
    pub approved_at: Option<DateTimeUtc>,
    pub published_by: Option<i64>,
    pub published_at: Option<DateTimeUtc>,
    pub withdrawn_by: Option<i64>,
    pub withdrawn_at: Option<DateTimeUtc>,
    pub withdrawal_reason: String,
    /// 文号, e.g. 大市监公告〔2025〕12号 (empty until given).
    pub doc_number: String,
    /// Why it was published while an objection window of one of its results was open.
    pub publish_note: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
