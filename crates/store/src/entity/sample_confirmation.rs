use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "sample_confirmations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub report_id: i64,
    pub sample_id: i64,
    pub plan_id: i64,
    pub organising_org_id: i64,
    pub testing_org_id: i64,
    pub producer_name: String,
    pub producer_uscc: String,
    pub producer_address: String,
    pub sent_on: Date,
    pub due_on: Date,
    pub state: choucha_domain::retest::ConfirmationState,
    pub answer_note: String,
    pub answered_by: Option<i64>,
    pub answered_at: Option<DateTimeUtc>,
    pub finding: String,
    pub investigated_by: Option<i64>,
    pub investigated_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
