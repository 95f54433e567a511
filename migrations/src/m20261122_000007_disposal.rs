//! Disposal (penyusutan): the agency's records settings, disposal proposals with
//! their case files and approvals, the residual record of destroyed content, and
//! exported archival packages.

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

fn key(cols: &[&str]) -> IndexCreateStatement {
    let mut k = Index::create();
    for c in cols {
        k.col(Alias::new(*c));
    }
    k.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Alias::new("records_setting"))
                .col(col("agency_id").string_len(36).primary_key())
                .col(col("records_unit_id").string_len(36))
                .col(col("approver_position_ids").text())
                .col(col("record_class_code").string_len(64))
                .col(col("updated_at_us").big_integer())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Alias::new("disposal_proposal"))
                .col(col("id").string_len(36).primary_key())
                .col(col("agency_id").string_len(36))
                .col(col("kind").small_integer())
                .col(col("state").small_integer())
                .col(col("required_position_ids").text())
                .col(col("proposed_by_user_id").string_len(36))
                .col(col("proposed_by_position_id").string_len(36))
                .col(col("propose_at_us").big_integer())
                .col(col("executed_by_user_id").string_len(36))
                .col(opt("execute_at_us").big_integer())
                .col(col("berita_acara_letter_id").string_len(36))
                .col(col("revision").big_integer())
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_disposal_agency",
            "disposal_proposal",
            &["agency_id", "propose_at_us"],
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Alias::new("disposal_item"))
                .col(col("proposal_id").string_len(36))
                .col(col("case_file_id").string_len(36))
                .primary_key(&mut key(&["proposal_id", "case_file_id"]))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_disposal_item_file",
            "disposal_item",
            &["case_file_id"],
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Alias::new("disposal_approval"))
                .col(col("proposal_id").string_len(36))
                .col(col("position_id").string_len(36))
                .col(col("user_id").string_len(36))
                .col(col("approve_at_us").big_integer())
                .primary_key(&mut key(&["proposal_id", "position_id"]))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Alias::new("destroyed_item"))
                .col(col("letter_id").string_len(36))
                .col(col("kind").string_len(32))
                .col(col("item_id").string_len(100))
                .col(col("proposal_id").string_len(36))
                .col(col("sha256").string_len(64))
                .col(col("size_bytes").big_integer())
                .col(col("destroyed_at_us").big_integer())
                .primary_key(&mut key(&["letter_id", "kind", "item_id"]))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_destroyed_proposal",
            "destroyed_item",
            &["proposal_id"],
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Alias::new("case_file_export"))
                .col(col("id").string_len(36).primary_key())
                .col(col("agency_id").string_len(36))
                .col(col("case_file_id").string_len(36))
                .col(col("sha256").string_len(64))
                .col(col("size_bytes").big_integer())
                .col(col("exported_by_user_id").string_len(36))
                .col(col("exported_at_us").big_integer())
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_export_case_file",
            "case_file_export",
            &["case_file_id", "exported_at_us"],
        )
        .await?;
        // Finding whether a blob is still used by a retained attachment.
        index(m, "ix_attachment_sha256", "attachment", &["sha256"]).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_attachment_sha256")
                .table(Alias::new("attachment"))
                .to_owned(),
        )
        .await?;
        for t in [
            "case_file_export",
            "destroyed_item",
            "disposal_approval",
            "disposal_item",
            "disposal_proposal",
            "records_setting",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
