//! Issue 18: SM2 signatures on issued documents. `signing_keys` holds each institution's public keys
//! with their validity (the private key stays in a key file); `document_signatures` holds the
//! signature of each signed PDF, its hashes and the unguessable token of its public verification page.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{fk, idx};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0024_document_signatures"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("signing_keys")
                .if_not_exists()
                // The SM3 fingerprint of the public key (hex).
                .col(string_len("key_id", 64).primary_key())
                .col(big_integer("org_id"))
                // SEC1 uncompressed point, hex.
                .col(string_len("public_key", 130))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("retired_at"))
                .foreign_key(&mut fk("fk_signing_keys_org", "signing_keys", "org_id", "organisations"))
                .take(),
        )
        .await?;
        m.create_index(idx("idx_signing_keys_org", "signing_keys", &["org_id"])).await?;
        m.create_table(
            Table::create()
                .table("document_signatures")
                .if_not_exists()
                .col(big_pk_auto("id"))
                // report | retest_report | result_notice | announcement
                .col(string_len("kind", 24))
                .col(big_integer("object_id"))
                .col(string_len("token", 32).unique_key())
                .col(string_len("key_id", 64))
                .col(string_len("signature", 128))
                .col(string_len("pdf_sm3", 64))
                .col(string_len("pdf_sha256", 64))
                .col(timestamp_with_time_zone("signed_at"))
                .foreign_key(
                    &mut ForeignKey::create()
                        .name("fk_document_signatures_key")
                        .from("document_signatures", "key_id")
                        .to("signing_keys", "key_id")
                        .take(),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_document_signatures_object")
                .table("document_signatures")
                .col("kind")
                .col("object_id")
                .unique()
                .if_not_exists()
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("document_signatures").take()).await?;
        m.drop_table(Table::drop().table("signing_keys").take()).await
    }
}
