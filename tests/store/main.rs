//! The store's own tests: the engine's read and write connections, the write
//! transaction and the audit chain, group commit, the one-statement reads
//! against the tables they read, and the migrations. They may use the store's
//! API (and, through the dev-dependency on the crate itself, the `test-hooks`
//! raw statements on a write transaction), next to the test kit and the
//! contract that make their data. Each runs on SQLite and PostgreSQL unless
//! it concerns one engine only.

mod chain;
mod dispositions;
mod exchange;
mod letters;
mod migrations;
mod reads;
mod writes;
