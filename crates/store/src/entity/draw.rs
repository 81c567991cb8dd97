use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "draws")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: i64,
    pub item_id: i64,
    pub quota: i32,
    pub seed: String,
    pub stratified: bool,
    pub team_size: i32,
    pub algorithm: String,
    pub filters_json: String,
    pub candidate_count: i32,
    pub candidate_hash: String,
    pub candidates_json: String,
    pub exclusions_json: String,
    pub samplers_json: String,
    pub result_json: String,
    /// Weights per risk class (JSON); empty for a uniform draw.
    pub risk_weights_json: String,
    pub reason: String,
    pub replaces_draw_id: Option<i64>,
    pub replaces_enterprise_id: Option<i64>,
    pub published: bool,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
