use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "plans")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub year: i32,
    pub title: String,
    pub organising_org_id: i64,
    pub doc_no: String,
    /// The organising department's contact person and telephone (the notice prints them).
    pub contact_name: String,
    pub contact_phone: String,
    pub domains: String,
    pub state: choucha_domain::plan::PlanState,
    pub deadline_delivery: Option<Date>,
    pub deadline_data_entry: Option<Date>,
    pub deadline_summary: Option<Date>,
    pub unqualified_report_days: Option<i32>,
    pub budget_cents: Option<i64>,
    pub notes: String,
    pub issued_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
