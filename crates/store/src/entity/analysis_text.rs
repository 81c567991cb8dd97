use sea_orm::entity::prelude::*;

/// A testing institution's written part of a plan's quality analysis.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "analysis_texts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub plan_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub org_id: i64,
    /// 问题分析
    pub problems: String,
    /// 原因分析
    pub causes: String,
    /// 改进建议
    pub suggestions: String,
    pub submitted: bool,
    pub updated_by: i64,
    pub updated_at: DateTimeUtc,
    pub submitted_by: Option<i64>,
    pub submitted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
