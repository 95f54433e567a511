//! Database migrations of naskah, one module per change. A landed migration is
//! never edited; changes come as new modules. Every migration runs on SQLite and
//! PostgreSQL alike (schema built with sea-query, no backend-specific SQL).

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_foundation;
mod m20261122_000002_identity;
mod m20261122_000003_agency_setup;
mod m20261122_000004_letters;
mod m20261122_000005_dispositions;
mod m20261122_000006_records;
mod m20261122_000007_disposal;
mod m20261202_000008_agency_login_domain;
mod m20261202_000009_unreached_steps;
mod m20261206_000010_agency_time_zone;
mod m20261206_000011_exchange;

/// The ordered list of naskah's migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_foundation::Migration),
            Box::new(m20261122_000002_identity::Migration),
            Box::new(m20261122_000003_agency_setup::Migration),
            Box::new(m20261122_000004_letters::Migration),
            Box::new(m20261122_000005_dispositions::Migration),
            Box::new(m20261122_000006_records::Migration),
            Box::new(m20261122_000007_disposal::Migration),
            Box::new(m20261202_000008_agency_login_domain::Migration),
            Box::new(m20261202_000009_unreached_steps::Migration),
            Box::new(m20261206_000010_agency_time_zone::Migration),
            Box::new(m20261206_000011_exchange::Migration),
        ]
    }
}
