use sea_orm::entity::prelude::*;

/// A resumable evidence upload; the bytes received so far are the staged file's, not a column.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "evidence_uploads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub task_id: i64,
    pub category: String,
    pub file_name: String,
    pub content_type: String,
    pub total_size: i64,
    pub expected_sha256: Option<String>,
    /// open | complete | rejected
    pub state: choucha_domain::sampling::UploadState,
    pub evidence_id: Option<i64>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
