//! Agencies and the hash-chained audit trail.
//!
//! Times are stored as microseconds since the Unix epoch (BIGINT) so that both
//! backends compare, index and hash them identically.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Agency {
    Table,
    Id,
    Code,
    Name,
    CreatedAtUs,
}

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Seq,
    EventTimeUs,
    AgencyId,
    ActorUserId,
    ActorPositionId,
    Action,
    ResourceType,
    ResourceId,
    Outcome,
    Reason,
    RequestId,
    ClientAddress,
    Summary,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum AuditHead {
    Table,
    Id,
    LastSeq,
    LastHash,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Agency::Table)
                    .col(
                        ColumnDef::new(Agency::Id)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Agency::Code)
                            .string_len(32)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Agency::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Agency::CreatedAtUs).big_integer().not_null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditEvent::Table)
                    .col(
                        ColumnDef::new(AuditEvent::Seq)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AuditEvent::EventTimeUs)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuditEvent::AgencyId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuditEvent::ActorUserId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuditEvent::ActorPositionId)
                            .string_len(36)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuditEvent::Action)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuditEvent::ResourceType)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuditEvent::ResourceId)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuditEvent::Outcome)
                            .small_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuditEvent::Reason)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuditEvent::RequestId)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuditEvent::ClientAddress)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditEvent::Summary).text().not_null())
                    .col(
                        ColumnDef::new(AuditEvent::PrevHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditEvent::Hash).string_len(64).not_null())
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "ix_audit_resource",
                vec![
                    AuditEvent::ResourceType,
                    AuditEvent::ResourceId,
                    AuditEvent::Seq,
                ],
            ),
            (
                "ix_audit_actor",
                vec![AuditEvent::ActorUserId, AuditEvent::Seq],
            ),
            (
                "ix_audit_agency",
                vec![AuditEvent::AgencyId, AuditEvent::Seq],
            ),
            ("ix_audit_time", vec![AuditEvent::EventTimeUs]),
        ] {
            let mut index = Index::create();
            index.name(name).table(AuditEvent::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(AuditHead::Table)
                    .col(
                        ColumnDef::new(AuditHead::Id)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AuditHead::LastSeq).big_integer().not_null())
                    .col(
                        ColumnDef::new(AuditHead::LastHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(AuditHead::Table)
                    .columns([AuditHead::Id, AuditHead::LastSeq, AuditHead::LastHash])
                    .values_panic([1.into(), 0i64.into(), "0".repeat(64).into()])
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditHead::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AuditEvent::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Agency::Table).to_owned())
            .await
    }
}
