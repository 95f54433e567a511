//! Users, the organisation tree, assignments, refresh tokens, idempotency keys.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AppUser {
    Table,
    Id,
    AgencyId,
    Username,
    Nip,
    FullName,
    Email,
    Roles,
    PasswordHash,
    MustChangePassword,
    Disabled,
    FailedLogins,
    LockedUntilUs,
    IsDemo,
    Version,
    CreatedAtUs,
    UpdatedAtUs,
}

#[derive(DeriveIden)]
enum Unit {
    Table,
    Id,
    AgencyId,
    ParentUnitId,
    Code,
    Name,
    Version,
    CreatedAtUs,
    UpdatedAtUs,
}

#[derive(DeriveIden)]
enum Position {
    Table,
    Id,
    AgencyId,
    UnitId,
    Name,
    SuperiorPositionId,
    IsUnitHead,
    Version,
    CreatedAtUs,
    UpdatedAtUs,
}

#[derive(DeriveIden)]
enum Assignment {
    Table,
    Id,
    AgencyId,
    UserId,
    PositionId,
    Kind,
    ValidFromUs,
    ValidUntilUs,
    Basis,
    Version,
    CreatedAtUs,
}

#[derive(DeriveIden)]
enum Secretary {
    Table,
    PositionId,
    UserId,
    AgencyId,
}

#[derive(DeriveIden)]
enum RefreshToken {
    Table,
    TokenHash,
    FamilyId,
    UserId,
    ExpiresAtUs,
    UsedAtUs,
    RevokedAtUs,
    CreatedAtUs,
}

#[derive(DeriveIden)]
enum IdempotencyKey {
    Table,
    UserId,
    RequestId,
    Method,
    RequestHash,
    Response,
    CreatedAtUs,
}

fn id(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).string_len(36).not_null().to_owned()
}

fn bigint(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AppUser::Table)
                    .col(id(AppUser::Id).primary_key())
                    .col(id(AppUser::AgencyId))
                    .col(
                        ColumnDef::new(AppUser::Username)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(AppUser::Nip).string_len(32).not_null())
                    .col(ColumnDef::new(AppUser::FullName).string_len(200).not_null())
                    .col(ColumnDef::new(AppUser::Email).string_len(254).not_null())
                    .col(ColumnDef::new(AppUser::Roles).string_len(200).not_null())
                    .col(
                        ColumnDef::new(AppUser::PasswordHash)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AppUser::MustChangePassword)
                            .boolean()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AppUser::Disabled).boolean().not_null())
                    .col(ColumnDef::new(AppUser::FailedLogins).integer().not_null())
                    .col(bigint(AppUser::LockedUntilUs))
                    .col(ColumnDef::new(AppUser::IsDemo).boolean().not_null())
                    .col(bigint(AppUser::Version))
                    .col(bigint(AppUser::CreatedAtUs))
                    .col(bigint(AppUser::UpdatedAtUs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_user_agency_username")
                    .table(AppUser::Table)
                    .col(AppUser::AgencyId)
                    .col(AppUser::Username)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Unit::Table)
                    .col(id(Unit::Id).primary_key())
                    .col(id(Unit::AgencyId))
                    .col(ColumnDef::new(Unit::ParentUnitId).string_len(36).null())
                    .col(ColumnDef::new(Unit::Code).string_len(32).not_null())
                    .col(ColumnDef::new(Unit::Name).string_len(200).not_null())
                    .col(bigint(Unit::Version))
                    .col(bigint(Unit::CreatedAtUs))
                    .col(bigint(Unit::UpdatedAtUs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_unit_agency_code")
                    .table(Unit::Table)
                    .col(Unit::AgencyId)
                    .col(Unit::Code)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Position::Table)
                    .col(id(Position::Id).primary_key())
                    .col(id(Position::AgencyId))
                    .col(id(Position::UnitId))
                    .col(ColumnDef::new(Position::Name).string_len(200).not_null())
                    .col(
                        ColumnDef::new(Position::SuperiorPositionId)
                            .string_len(36)
                            .null(),
                    )
                    .col(ColumnDef::new(Position::IsUnitHead).boolean().not_null())
                    .col(bigint(Position::Version))
                    .col(bigint(Position::CreatedAtUs))
                    .col(bigint(Position::UpdatedAtUs))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_position_unit")
                            .from(Position::Table, Position::UnitId)
                            .to(Unit::Table, Unit::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_position_unit")
                    .table(Position::Table)
                    .col(Position::AgencyId)
                    .col(Position::UnitId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_position_superior")
                    .table(Position::Table)
                    .col(Position::SuperiorPositionId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Assignment::Table)
                    .col(id(Assignment::Id).primary_key())
                    .col(id(Assignment::AgencyId))
                    .col(id(Assignment::UserId))
                    .col(id(Assignment::PositionId))
                    .col(ColumnDef::new(Assignment::Kind).small_integer().not_null())
                    .col(bigint(Assignment::ValidFromUs))
                    .col(
                        ColumnDef::new(Assignment::ValidUntilUs)
                            .big_integer()
                            .null(),
                    )
                    .col(ColumnDef::new(Assignment::Basis).string_len(500).not_null())
                    .col(bigint(Assignment::Version))
                    .col(bigint(Assignment::CreatedAtUs))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_assignment_user")
                            .from(Assignment::Table, Assignment::UserId)
                            .to(AppUser::Table, AppUser::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_assignment_position")
                            .from(Assignment::Table, Assignment::PositionId)
                            .to(Position::Table, Position::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_assignment_user", Assignment::UserId),
            ("ix_assignment_position", Assignment::PositionId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Assignment::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Secretary::Table)
                    .col(id(Secretary::PositionId))
                    .col(id(Secretary::UserId))
                    .col(id(Secretary::AgencyId))
                    .primary_key(
                        Index::create()
                            .col(Secretary::PositionId)
                            .col(Secretary::UserId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_secretary_user")
                    .table(Secretary::Table)
                    .col(Secretary::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshToken::Table)
                    .col(
                        ColumnDef::new(RefreshToken::TokenHash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(id(RefreshToken::FamilyId))
                    .col(id(RefreshToken::UserId))
                    .col(bigint(RefreshToken::ExpiresAtUs))
                    .col(ColumnDef::new(RefreshToken::UsedAtUs).big_integer().null())
                    .col(
                        ColumnDef::new(RefreshToken::RevokedAtUs)
                            .big_integer()
                            .null(),
                    )
                    .col(bigint(RefreshToken::CreatedAtUs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_refresh_family")
                    .table(RefreshToken::Table)
                    .col(RefreshToken::FamilyId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKey::Table)
                    .col(id(IdempotencyKey::UserId))
                    .col(
                        ColumnDef::new(IdempotencyKey::RequestId)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKey::Method)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKey::RequestHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(IdempotencyKey::Response).blob().not_null())
                    .col(bigint(IdempotencyKey::CreatedAtUs))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKey::UserId)
                            .col(IdempotencyKey::RequestId),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IdempotencyKey::Table.into_iden(),
            RefreshToken::Table.into_iden(),
            Secretary::Table.into_iden(),
            Assignment::Table.into_iden(),
            Position::Table.into_iden(),
            Unit::Table.into_iden(),
            AppUser::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
