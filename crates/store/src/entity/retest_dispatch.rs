use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "retest_dispatches")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub retest_id: i64,
    pub dispatched_at: DateTimeUtc,
    pub carrier: String,
    /// The seal numbers as packed, one a line.
    pub seals: String,
    pub seal_intact: bool,
    pub note: String,
    pub actor_id: i64,
    pub actor_name: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
