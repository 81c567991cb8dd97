use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "plan_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: i64,
    pub group_id: i64,
    pub position: i32,
    pub number: String,
    pub category: String,
    pub product: String,
    pub scopes: String,
    pub sampling_org_id: Option<i64>,
    pub testing_org_id: Option<i64>,
    pub screening_org_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
