//! Records management: case files (berkas), filed letters, legal holds.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn col(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).not_null().to_owned()
}
fn opt(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).null().to_owned()
}

async fn index(m: &SchemaManager<'_>, name: &str, table: &str, cols: &[&str]) -> Result<(), DbErr> {
    let mut i = Index::create();
    i.name(name).table(Alias::new(table));
    for c in cols {
        i.col(Alias::new(*c));
    }
    m.create_index(i.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Alias::new("case_file"))
                .col(col("id").string_len(36).primary_key())
                .col(col("agency_id").string_len(36))
                .col(col("classification_code").string_len(64))
                .col(col("title").string_len(500))
                .col(col("description").text())
                .col(col("unit_id").string_len(36))
                .col(col("state").small_integer())
                .col(col("open_at_us").big_integer())
                .col(opt("close_at_us").big_integer())
                .col(opt("active_until_us").big_integer())
                .col(opt("inactive_until_us").big_integer())
                .col(col("final_disposition").small_integer())
                .col(col("revision").big_integer())
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_case_file_agency_open",
            "case_file",
            &["agency_id", "open_at_us", "id"],
        )
        .await?;
        index(
            m,
            "ix_case_file_due",
            "case_file",
            &[
                "agency_id",
                "state",
                "final_disposition",
                "inactive_until_us",
                "id",
            ],
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Alias::new("case_file_letter"))
                .col(col("letter_id").string_len(36).primary_key())
                .col(col("case_file_id").string_len(36))
                .col(col("agency_id").string_len(36))
                .col(col("filed_at_us").big_integer())
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_case_file_letter_file",
            "case_file_letter",
            &["case_file_id"],
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Alias::new("legal_hold"))
                .col(col("id").string_len(36).primary_key())
                .col(col("agency_id").string_len(36))
                .col(col("case_file_id").string_len(36))
                .col(col("letter_id").string_len(36))
                .col(col("reason").string_len(1000))
                .col(col("authority").string_len(500))
                .col(col("placed_by_user_id").string_len(36))
                .col(col("placed_at_us").big_integer())
                .col(col("released_by_user_id").string_len(36))
                .col(opt("released_at_us").big_integer())
                .to_owned(),
        )
        .await?;
        index(m, "ix_hold_case_file", "legal_hold", &["case_file_id"]).await?;
        index(m, "ix_hold_letter", "legal_hold", &["letter_id"]).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["legal_hold", "case_file_letter", "case_file"] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
