use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "national_export_marks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: i64,
    pub kind: choucha_domain::national_export::ExportKind,
    pub day: Date,
    pub task_id: i64,
    /// The sampling record version (sampling) or the report (results) exported.
    pub object_id: i64,
    pub content_sha256: String,
    pub exported_by: i64,
    pub exported_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
