use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "disposals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub sample_id: i64,
    pub report_id: i64,
    pub plan_id: i64,
    pub testing_org_id: i64,
    pub organising_org_id: i64,
    pub enterprise_id: i64,
    pub province_code: String,
    pub portion: String,
    pub paid: bool,
    pub qualified: bool,
    pub required: String,
    pub state: choucha_domain::disposal::DisposalState,
    pub method: String,
    pub recipient: String,
    pub note: String,
    pub proof_json: String,
    pub disposed_on: Option<Date>,
    pub recorded_by: Option<i64>,
    pub recorded_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
