use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "sampling_records")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub task_id: i64,
    pub version: i32,
    pub state: choucha_domain::sampling::RecordState,
    pub fields_json: String,
    pub record_hash: String,
    pub diff_json: String,
    pub correction_reason: String,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub locked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
