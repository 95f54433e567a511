//! The database engines: the code that knows drivers, connections, pragmas
//! and dialects, one folder per database (`sqlite/`, `postgres/`), and the one
//! classification of database errors by kind ([`error::kind_of`]).
//!
//! Repositories (the query files of `src/store/`) reach the engines through
//! `Store` and `WriteTx`; see docs/architecture.md, "The write path".

pub(in crate::store) mod connect;
pub mod error;
pub(in crate::store) mod group;
pub(in crate::store) mod postgres;
pub(in crate::store) mod sqlite;

pub use error::{ErrorKind, kind_of};

/// The mark of the `k`-th (from 1) bound parameter in the hand-written SQL
/// of the hot reads: `$k` on PostgreSQL, `?` on SQLite.
pub(in crate::store) fn mark(backend: sea_orm::DbBackend, k: usize) -> String {
    match backend {
        sea_orm::DbBackend::Postgres => format!("${k}"),
        _ => "?".to_owned(),
    }
}

/// The condition that the binary `column` holds the UTF-8 bytes of the text
/// bound as the `k`-th parameter.
pub(in crate::store) fn bytes_hold_text(
    backend: sea_orm::DbBackend,
    column: &str,
    k: usize,
) -> String {
    match backend {
        sea_orm::DbBackend::Postgres => {
            format!("position(convert_to(${k}, 'UTF8') in {column}) > 0")
        }
        _ => format!("instr({column}, CAST(? AS BLOB)) > 0"),
    }
}

pub use group::GroupLimits;
