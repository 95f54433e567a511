//! Per-agency setup: numbering settings, the records classification scheme with
//! retention, and the preset disposition instructions.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AgencySetting {
    Table,
    AgencyId,
    NumberTemplate,
    NumberingScope,
    UpdatedAtUs,
}

#[derive(DeriveIden)]
enum Classification {
    Table,
    AgencyId,
    Code,
    Title,
    ParentCode,
    ActiveYears,
    InactiveYears,
    FinalDisposition,
    DefaultSecurityLevel,
    RetentionInherited,
    UpdatedAtUs,
}

#[derive(DeriveIden)]
enum Instruction {
    Table,
    AgencyId,
    Code,
    Text,
    SortOrder,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AgencySetting::Table)
                    .col(
                        ColumnDef::new(AgencySetting::AgencyId)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AgencySetting::NumberTemplate)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AgencySetting::NumberingScope)
                            .small_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AgencySetting::UpdatedAtUs)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Classification::Table)
                    .col(
                        ColumnDef::new(Classification::AgencyId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Classification::Code)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Classification::Title)
                            .string_len(500)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Classification::ParentCode)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Classification::ActiveYears)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Classification::InactiveYears)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Classification::FinalDisposition)
                            .small_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Classification::DefaultSecurityLevel)
                            .small_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Classification::RetentionInherited)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Classification::UpdatedAtUs)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(Classification::AgencyId)
                            .col(Classification::Code),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Instruction::Table)
                    .col(
                        ColumnDef::new(Instruction::AgencyId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Instruction::Code).string_len(64).not_null())
                    .col(ColumnDef::new(Instruction::Text).string_len(200).not_null())
                    .col(ColumnDef::new(Instruction::SortOrder).integer().not_null())
                    .primary_key(
                        Index::create()
                            .col(Instruction::AgencyId)
                            .col(Instruction::Code),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Instruction::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Classification::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AgencySetting::Table).to_owned())
            .await
    }
}
