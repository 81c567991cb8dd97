use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "objections")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub report_id: i64,
    pub sample_id: i64,
    pub enterprise_id: i64,
    pub organising_org_id: i64,
    pub kind: String,
    pub items: String,
    pub reason: String,
    pub received_on: Date,
    pub filed_on: Date,
    pub filed_by: i64,
    pub state: choucha_domain::results::ObjectionState,
    pub decision_reason: String,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTimeUtc>,
    /// The bureau's written answer when it closes an accepted request.
    pub answer: String,
    /// The enterprise's attachments (stored files, JSON).
    pub attachments_json: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
