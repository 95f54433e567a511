//! Agency CAs, signing keys, letters with versions, routes, addressees,
//! comments, folders (including each position's participation), number
//! counters, signatures, attachments.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn s(name: &str, len: u32) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .string_len(len)
        .not_null()
        .to_owned()
}
fn s_null(name: &str, len: u32) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .string_len(len)
        .null()
        .to_owned()
}
fn big(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .big_integer()
        .not_null()
        .to_owned()
}
fn big_null(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .big_integer()
        .null()
        .to_owned()
}
fn small(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .small_integer()
        .not_null()
        .to_owned()
}
fn int(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .integer()
        .not_null()
        .to_owned()
}
fn text(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .text()
        .not_null()
        .to_owned()
}
fn blob(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .blob()
        .not_null()
        .to_owned()
}
fn boolean(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .boolean()
        .not_null()
        .to_owned()
}

async fn table(
    m: &SchemaManager<'_>,
    name: &str,
    cols: Vec<ColumnDef>,
    pk: &[&str],
) -> Result<(), DbErr> {
    let mut t = Table::create();
    t.table(Alias::new(name));
    for mut c in cols {
        t.col(&mut c);
    }
    let mut key = Index::create();
    for k in pk {
        key.col(Alias::new(*k));
    }
    t.primary_key(&mut key);
    m.create_table(t.to_owned()).await
}

async fn index(
    m: &SchemaManager<'_>,
    name: &str,
    table: &str,
    cols: &[&str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut i = Index::create();
    i.name(name).table(Alias::new(table));
    for c in cols {
        i.col(Alias::new(*c));
    }
    if unique {
        i.unique();
    }
    m.create_index(i.to_owned()).await
}

const TABLES: &[&str] = &[
    "agency_ca",
    "signing_key",
    "letter",
    "letter_version",
    "letter_step",
    "letter_addressee",
    "letter_comment",
    "letter_box",
    "number_counter",
    "letter_signature",
    "attachment",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        table(
            m,
            "agency_ca",
            vec![
                s("agency_id", 36),
                blob("cert_der"),
                blob("sealed_key"),
                big("created_at_us"),
            ],
            &["agency_id"],
        )
        .await?;
        table(
            m,
            "signing_key",
            vec![
                s("serial", 64),
                s("agency_id", 36),
                s("user_id", 36),
                s("position_id", 36),
                small("algorithm"),
                blob("cert_der"),
                blob("sealed_key"),
                big("not_before_us"),
                big("not_after_us"),
                big_null("revoked_at_us"),
                s("revoke_reason", 500),
                big("created_at_us"),
            ],
            &["serial"],
        )
        .await?;
        index(
            m,
            "ix_signing_key_user",
            "signing_key",
            &["user_id", "created_at_us"],
            false,
        )
        .await?;
        table(
            m,
            "letter",
            vec![
                s("id", 36),
                s("agency_id", 36),
                small("direction"),
                small("state"),
                small("letter_type"),
                s("subject", 500),
                text("body"),
                s("body_sha256", 64),
                small("security_level"),
                small("urgency"),
                s("classification_code", 64),
                s("drafting_position_id", 36),
                s("drafted_by_user_id", 36),
                s("drafted_by_position_id", 36),
                int("current_step"),
                int("version"),
                s("number", 200),
                big_null("sign_time_us"),
                s("signer_user_id", 36),
                s("signer_position_id", 36),
                s_null("verification_code", 64),
                s("reference_letter_id", 36),
                text("incoming"),
                big("revision"),
                big("created_at_us"),
                big("updated_at_us"),
            ],
            &["id"],
        )
        .await?;
        index(
            m,
            "ux_letter_verification_code",
            "letter",
            &["verification_code"],
            true,
        )
        .await?;
        index(
            m,
            "ix_letter_agency_created",
            "letter",
            &["agency_id", "created_at_us"],
            false,
        )
        .await?;
        table(
            m,
            "letter_version",
            vec![
                s("letter_id", 36),
                int("version"),
                s("subject", 500),
                text("body"),
                s("body_sha256", 64),
                s("author_user_id", 36),
                s("author_position_id", 36),
                big("created_at_us"),
            ],
            &["letter_id", "version"],
        )
        .await?;
        table(
            m,
            "letter_step",
            vec![
                s("letter_id", 36),
                int("idx"),
                s("position_id", 36),
                small("kind"),
                small("decision"),
                s("decided_by_user_id", 36),
                s("decided_by_position_id", 36),
                small("decided_by_assignment_kind"),
                big_null("decide_time_us"),
                int("version"),
            ],
            &["letter_id", "idx"],
        )
        .await?;
        table(
            m,
            "letter_addressee",
            vec![
                s("letter_id", 36),
                small("kind"),
                int("idx"),
                s("position_id", 36),
                text("external"),
                s("display_name", 500),
            ],
            &["letter_id", "kind", "idx"],
        )
        .await?;
        table(
            m,
            "letter_comment",
            vec![
                s("id", 36),
                s("letter_id", 36),
                int("version"),
                text("body"),
                s("author_user_id", 36),
                s("author_position_id", 36),
                big("created_at_us"),
            ],
            &["id"],
        )
        .await?;
        index(
            m,
            "ix_comment_letter",
            "letter_comment",
            &["letter_id", "created_at_us"],
            false,
        )
        .await?;
        table(
            m,
            "letter_box",
            vec![
                s("position_id", 36),
                small("folder"),
                s("letter_id", 36),
                s("agency_id", 36),
                big("sort_us"),
                big_null("read_at_us"),
            ],
            &["position_id", "folder", "letter_id"],
        )
        .await?;
        index(
            m,
            "ix_box_position_folder_sort",
            "letter_box",
            &["position_id", "folder", "sort_us", "letter_id"],
            false,
        )
        .await?;
        index(m, "ix_box_letter", "letter_box", &["letter_id"], false).await?;
        table(
            m,
            "number_counter",
            vec![
                s("agency_id", 36),
                s("scope_key", 200),
                int("year"),
                big("last_seq"),
            ],
            &["agency_id", "scope_key", "year"],
        )
        .await?;
        table(
            m,
            "letter_signature",
            vec![
                s("letter_id", 36),
                blob("manifest"),
                blob("signature"),
                s("cert_serial", 64),
                s("verification_code", 64),
                s("manifest_sha256", 64),
                big("created_at_us"),
            ],
            &["letter_id"],
        )
        .await?;
        index(
            m,
            "ux_signature_code",
            "letter_signature",
            &["verification_code"],
            true,
        )
        .await?;
        table(
            m,
            "attachment",
            vec![
                s("id", 36),
                s("letter_id", 36),
                s("agency_id", 36),
                s("file_name", 255),
                s("media_type", 200),
                big("size_bytes"),
                s("sha256", 64),
                boolean("is_scan"),
                s("uploaded_by_user_id", 36),
                big("created_at_us"),
            ],
            &["id"],
        )
        .await?;
        index(
            m,
            "ix_attachment_letter",
            "attachment",
            &["letter_id", "created_at_us"],
            false,
        )
        .await?;
        index(m, "ix_attachment_sha", "attachment", &["sha256"], false).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in TABLES.iter().rev() {
            m.drop_table(Table::drop().table(Alias::new(*t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
