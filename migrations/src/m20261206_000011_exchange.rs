//! Inter-agency exchange: each agency's exchange identity (a key and a
//! certificate from its CA), its directory of peers (pinned by CA), the
//! consignments it sends (the outbox, written in the signing transaction) and
//! those it received (deduplicated forever by sender and consignment id), and
//! the successor of an abolished position. A received consignment keeps the
//! sender's signed manifest and its signature: the letter's evidence; one
//! awaiting the registrar's check (an agency setting) keeps its envelope.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn id(name: &str) -> Alias {
    Alias::new(name)
}

fn text(name: &str) -> ColumnDef {
    ColumnDef::new(id(name))
        .text()
        .not_null()
        .default("")
        .to_owned()
}

fn short(name: &str, len: u32) -> ColumnDef {
    ColumnDef::new(id(name))
        .string_len(len)
        .not_null()
        .default("")
        .to_owned()
}

fn blob(name: &str) -> ColumnDef {
    ColumnDef::new(id(name)).blob().not_null().to_owned()
}

fn big(name: &str) -> ColumnDef {
    ColumnDef::new(id(name))
        .big_integer()
        .not_null()
        .default(0)
        .to_owned()
}

fn small(name: &str) -> ColumnDef {
    ColumnDef::new(id(name))
        .small_integer()
        .not_null()
        .default(0)
        .to_owned()
}

fn int(name: &str) -> ColumnDef {
    ColumnDef::new(id(name))
        .integer()
        .not_null()
        .default(0)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(id("exchange_identity"))
                .col(short("agency_id", 36).primary_key())
                .col(blob("cert_der"))
                .col(blob("sealed_key"))
                .col(big("created_at_us"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(id("exchange_peer"))
                .col(short("agency_id", 36))
                .col(short("code", 20))
                .col(short("name", 200))
                .col(short("endpoint", 300))
                .col(blob("ca_cert_der"))
                .col(big("added_at_us"))
                .primary_key(Index::create().col(id("agency_id")).col(id("code")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(id("exchange_out"))
                .col(short("id", 36).primary_key())
                .col(short("agency_id", 36))
                .col(short("letter_id", 36))
                .col(small("addressee_kind"))
                .col(int("addressee_idx"))
                .col(short("peer_code", 20))
                .col(short("position_id", 36))
                .col(blob("envelope"))
                .col(blob("envelope_signature"))
                .col(short("envelope_sha256", 64))
                .col(small("status"))
                .col(int("attempts"))
                .col(big("next_attempt_us"))
                .col(big("lease_until_us"))
                .col(text("last_error"))
                .col(ColumnDef::new(id("receipt")).blob().null())
                .col(ColumnDef::new(id("receipt_signature")).blob().null())
                .col(ColumnDef::new(id("outcome")).blob().null())
                .col(ColumnDef::new(id("outcome_signature")).blob().null())
                .col(small("refusal"))
                .col(short("registration_number", 200))
                .col(big("created_at_us"))
                .col(big("updated_at_us"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("exchange_out_due")
                .table(id("exchange_out"))
                .col(id("status"))
                .col(id("next_attempt_us"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("exchange_out_letter")
                .table(id("exchange_out"))
                .col(id("letter_id"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(id("exchange_in"))
                .col(short("agency_id", 36))
                .col(short("sender_code", 20))
                .col(short("consignment_id", 36))
                .col(short("envelope_sha256", 64))
                .col(short("letter_id", 36))
                .col(blob("receipt"))
                .col(blob("receipt_signature"))
                .col(ColumnDef::new(id("outcome")).blob().null())
                .col(ColumnDef::new(id("outcome_signature")).blob().null())
                .col(big("outcome_seq"))
                .col(
                    ColumnDef::new(id("outcome_acked"))
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .col(int("outcome_attempts"))
                .col(big("outcome_next_attempt_us"))
                .col(big("outcome_lease_until_us"))
                .col(ColumnDef::new(id("envelope")).blob().null())
                .col(ColumnDef::new(id("manifest")).blob().null())
                .col(ColumnDef::new(id("manifest_signature")).blob().null())
                .col(ColumnDef::new(id("signer_ca_der")).blob().null())
                .col(big("received_at_us"))
                .primary_key(
                    Index::create()
                        .col(id("agency_id"))
                        .col(id("sender_code"))
                        .col(id("consignment_id")),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("exchange_in_letter")
                .table(id("exchange_in"))
                .col(id("letter_id"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("exchange_in_outcomes")
                .table(id("exchange_in"))
                .col(id("agency_id"))
                .col(id("sender_code"))
                .col(id("outcome_seq"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(id("exchange_setting"))
                .col(short("agency_id", 36).primary_key())
                .col(
                    ColumnDef::new(id("registrar_check"))
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .col(big("updated_at_us"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(id("position_successor"))
                .col(short("position_id", 36).primary_key())
                .col(short("agency_id", 36))
                .col(short("successor_id", 36))
                .col(big("abolished_at_us"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "position_successor",
            "exchange_setting",
            "exchange_in",
            "exchange_out",
            "exchange_peer",
            "exchange_identity",
        ] {
            m.drop_table(Table::drop().table(id(t)).to_owned()).await?;
        }
        Ok(())
    }
}
