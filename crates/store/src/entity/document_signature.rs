use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "document_signatures")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// report | retest_report | result_notice | announcement.
    pub kind: String,
    pub object_id: i64,
    /// The unguessable token of the public verification page.
    pub token: String,
    pub key_id: String,
    /// r ‖ s, hex.
    pub signature: String,
    /// Hashes of the delivered file (the signature trailer included), hex.
    pub pdf_sm3: String,
    pub pdf_sha256: String,
    pub signed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
