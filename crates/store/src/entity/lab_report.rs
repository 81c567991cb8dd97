use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "lab_reports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub sample_id: i64,
    pub testing_org_id: i64,
    pub version: i32,
    pub state: choucha_domain::lab::ReportState,
    pub report_no: Option<String>,
    pub content_json: String,
    pub prepared_by: i64,
    pub prepared_at: DateTimeUtc,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub approved_by: Option<i64>,
    pub approved_at: Option<DateTimeUtc>,
    pub pdf_path: String,
    pub pdf_sha256: String,
    pub supersedes_id: Option<i64>,
    pub correction_reason: String,
    /// Signatures on the screen (PNG, base64) of the preparer, the reviewer and the approver.
    pub prepared_sig_b64: String,
    pub reviewed_sig_b64: String,
    pub approved_sig_b64: String,
    /// Sent back by the reviewer or approver: why, by whom, when.
    pub returned_reason: String,
    pub returned_by: Option<i64>,
    pub returned_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
