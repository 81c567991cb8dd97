use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "record_signatures")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub record_id: i64,
    pub signer: String,
    pub user_id: Option<i64>,
    pub signer_name: String,
    pub image_b64: String,
    pub image_sha256: String,
    pub refused: bool,
    pub refusal_reason: String,
    pub witness_name: String,
    pub witness_image_b64: String,
    pub record_hash: String,
    pub signed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
