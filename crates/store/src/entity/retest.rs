use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "retests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub objection_id: i64,
    pub report_id: i64,
    pub sample_id: i64,
    pub task_id: i64,
    pub plan_id: i64,
    pub organising_org_id: i64,
    pub first_org_id: i64,
    pub retest_org_id: i64,
    pub same_institution_reason: String,
    pub items: String,
    pub fee_advance_fen: i64,
    pub state: choucha_domain::retest::RetestState,
    pub blind_code: String,
    pub assigned_by: i64,
    pub assigned_at: DateTimeUtc,
    pub received_by: Option<i64>,
    pub received_at: Option<DateTimeUtc>,
    pub seal_note: String,
    pub seal_photos: String,
    pub results_json: String,
    pub tester_id: Option<i64>,
    pub prepared_by: Option<i64>,
    pub prepared_at: Option<DateTimeUtc>,
    pub prepared_sig_b64: String,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub reviewed_sig_b64: String,
    pub approved_by: Option<i64>,
    pub approved_at: Option<DateTimeUtc>,
    pub approved_sig_b64: String,
    pub report_no: Option<String>,
    pub pdf_path: String,
    pub pdf_sha256: String,
    pub first_qualified: bool,
    pub first_conclusion: String,
    pub qualified: Option<bool>,
    pub conclusion: String,
    pub agrees: Option<bool>,
    pub fee_payer: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
