//! Dispositions: a sender position forwarding a received letter to subordinate
//! positions, each recipient with its own status and follow-up reports.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn col(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Alias::new("disposition"))
                .col(col("id").string_len(36).primary_key())
                .col(col("agency_id").string_len(36))
                .col(col("letter_id").string_len(36))
                .col(col("parent_id").string_len(36))
                .col(col("sender_position_id").string_len(36))
                .col(col("sent_by_user_id").string_len(36))
                .col(col("sent_by_assignment_kind").small_integer())
                .col(col("drafted_by_user_id").string_len(36))
                .col(col("state").small_integer())
                .col(col("instruction_codes").string_len(1000))
                .col(col("note").text())
                .col(ColumnDef::new(Alias::new("due_us")).big_integer().null())
                .col(col("urgency").small_integer())
                .col(col("revision").big_integer())
                .col(col("created_at_us").big_integer())
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("ix_disposition_letter", vec!["letter_id", "created_at_us"]),
            (
                "ix_disposition_sender",
                vec!["sender_position_id", "created_at_us", "id"],
            ),
            (
                "ix_disposition_drafter",
                vec!["drafted_by_user_id", "created_at_us"],
            ),
        ] {
            let mut i = Index::create();
            i.name(name).table(Alias::new("disposition"));
            for c in cols {
                i.col(Alias::new(c));
            }
            m.create_index(i.to_owned()).await?;
        }
        m.create_table(
            Table::create()
                .table(Alias::new("disposition_recipient"))
                .col(col("disposition_id").string_len(36))
                .col(col("position_id").string_len(36))
                .col(col("agency_id").string_len(36))
                .col(col("status").small_integer())
                .col(
                    ColumnDef::new(Alias::new("read_at_us"))
                        .big_integer()
                        .null(),
                )
                .col(
                    ColumnDef::new(Alias::new("done_at_us"))
                        .big_integer()
                        .null(),
                )
                .col(ColumnDef::new(Alias::new("due_us")).big_integer().null())
                .col(col("created_at_us").big_integer())
                .primary_key(
                    Index::create()
                        .col(Alias::new("disposition_id"))
                        .col(Alias::new("position_id")),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_disposition_recipient_position")
                .table(Alias::new("disposition_recipient"))
                .col(Alias::new("position_id"))
                .col(Alias::new("created_at_us"))
                .col(Alias::new("disposition_id"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Alias::new("disposition_response"))
                .col(col("id").string_len(36).primary_key())
                .col(col("disposition_id").string_len(36))
                .col(col("position_id").string_len(36))
                .col(col("user_id").string_len(36))
                .col(col("assignment_kind").small_integer())
                .col(col("note").text())
                .col(col("status").small_integer())
                .col(col("attachment_ids").string_len(2000))
                .col(col("created_at_us").big_integer())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_disposition_response")
                .table(Alias::new("disposition_response"))
                .col(Alias::new("disposition_id"))
                .col(Alias::new("created_at_us"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "disposition_response",
            "disposition_recipient",
            "disposition",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
