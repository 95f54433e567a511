//! An agency's time zone (an IANA name): the month and year of its letter
//! numbers are those of the signing time there. Agencies that existed before
//! keep WIB (`Asia/Jakarta`), the zone every number was made in until now.

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
                    ColumnDef::new(Alias::new("time_zone"))
                        .string_len(64)
                        .not_null()
                        .default("Asia/Jakarta"),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("agency"))
                .drop_column(Alias::new("time_zone"))
                .to_owned(),
        )
        .await
    }
}
