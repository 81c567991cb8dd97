use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "lab_samples")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub task_id: i64,
    pub plan_id: i64,
    pub item_id: i64,
    pub testing_org_id: i64,
    pub screening_org_id: Option<i64>,
    pub rules_version_id: i64,
    pub blind_code: Option<String>,
    pub state: choucha_domain::lab::SampleState,
    pub received_at: DateTimeUtc,
    pub received_by: i64,
    pub delivered_by: String,
    pub carrier: String,
    pub tracking_no: String,
    pub receipt_json: String,
    pub reject_reason: String,
    pub backup_location: String,
    pub licence_required: String,
    pub licence_state: choucha_domain::lab::LicenceState,
    pub licence_note: String,
    pub tester_id: Option<i64>,
    pub testing_ended_on: Option<Date>,
    pub results_due: Option<Date>,
    pub results_completed_at: Option<DateTimeUtc>,
    pub results_late: bool,
    pub qualified: Option<bool>,
    pub conclusion: String,
    pub pending_correction: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
