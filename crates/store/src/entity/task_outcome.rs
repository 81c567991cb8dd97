use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "task_outcomes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub task_id: i64,
    pub kind: String,
    pub details_json: String,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub cosigned_by: Option<i64>,
    pub cosigned_at: Option<DateTimeUtc>,
    pub cosign_opinion: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
