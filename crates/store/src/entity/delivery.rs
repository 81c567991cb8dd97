use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub report_id: i64,
    pub sample_id: i64,
    pub plan_id: i64,
    pub testing_org_id: i64,
    pub organising_org_id: i64,
    pub recipient: String,
    pub recipient_name: String,
    pub recipient_address: String,
    pub documents: String,
    pub copies: i32,
    pub due_on: Option<Date>,
    pub state: choucha_domain::results::DeliveryState,
    pub method: String,
    pub tracking_no: String,
    pub sent_on: Option<Date>,
    pub received_on: Option<Date>,
    pub receiver_name: String,
    pub receiver_sig_b64: String,
    pub note: String,
    pub recorded_by: Option<i64>,
    pub recorded_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
