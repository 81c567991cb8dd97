use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "custody_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub task_id: i64,
    pub portion: String,
    pub kind: String,
    pub seal_state: choucha_domain::lab::SealState,
    pub location: String,
    pub mode: String,
    pub carrier: String,
    pub tracking_no: String,
    pub note: String,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub happened_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub from_party: String,
    pub to_party: String,
    pub counter_party: String,
    pub counter_user_id: Option<i64>,
    pub courier_name: String,
    pub courier_signature_sha: String,
    pub temperature_c: Option<f64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
