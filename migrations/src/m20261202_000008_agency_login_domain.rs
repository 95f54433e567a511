//! Several agencies in one installation: an agency's login domain. The users of
//! an agency created with `naskah agency create` log in as `name@domain`, so a
//! username is unique inside its agency and one agency's names never collide
//! with (or reveal) another's. Agencies that existed before keep bare names
//! (an empty domain).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("agency"))
                .add_column(
                    ColumnDef::new(Alias::new("login_domain"))
                        .string_len(64)
                        .not_null()
                        .default(""),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("agency"))
                .drop_column(Alias::new("login_domain"))
                .to_owned(),
        )
        .await
    }
}
