use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "cases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    pub plan_id: i64,
    pub task_id: i64,
    pub sample_id: Option<i64>,
    pub report_id: Option<i64>,
    pub report_no: String,
    pub product: String,
    pub enterprise_id: i64,
    pub bureau_org_id: i64,
    pub organising_org_id: i64,
    pub producer_name: String,
    pub producer_org_id: Option<i64>,
    pub rule_set_id: i64,
    pub state: choucha_domain::cases::CaseState,
    pub opened_on: Date,
    pub stop_ordered_on: Option<Date>,
    pub correction_ordered_on: Option<Date>,
    pub escalated_on: Option<Date>,
    pub due_on: Option<Date>,
    pub rectify_due: Option<Date>,
    pub closed_on: Option<Date>,
    pub closed_reason: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
