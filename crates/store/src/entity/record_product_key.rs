use sea_orm::entity::prelude::*;

/// The product identity of a signed sampling record (rule 22), kept beside the record so the check
/// reads only one producer's records of one product. Empty strings are unknown parts.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "record_product_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub record_id: i64,
    pub task_id: i64,
    pub producer: String,
    pub product: String,
    pub standard: String,
    pub trademark: String,
    pub model: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
