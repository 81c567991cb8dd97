use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "lab_results")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub sample_id: i64,
    pub item_index: i32,
    pub item_name: String,
    pub unit: String,
    pub requirement: String,
    pub limit_json: String,
    pub measured_json: String,
    pub display: String,
    pub method: String,
    pub instrument: String,
    pub judgement: String,
    pub tested_on: Date,
    pub entered_by: i64,
    pub entered_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
