use sea_orm::entity::prelude::*;

/// One product line of a registry entry (issue 17): the draw reads the entries holding a product in
/// an area through (product, division_code, enterprise_id).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "enterprise_product_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub product: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub division_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub enterprise_id: i64,
    /// The entry's columns a draw filters and records by (m0036), written with the line.
    pub uscc: String,
    pub name: String,
    pub kinds: i32,
    pub status: String,
    pub size_class: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
