use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "backup_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub task_id: i64,
    pub org_id: i64,
    pub reason: String,
    pub storage_place: String,
    pub storage_conditions: String,
    pub state: choucha_domain::sampling::BackupRequestState,
    pub requested_by: i64,
    pub created_at: DateTimeUtc,
    pub decided_by: Option<i64>,
    pub decided_by_name: String,
    pub decided_at: Option<DateTimeUtc>,
    pub opinion: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
