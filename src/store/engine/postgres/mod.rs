//! PostgreSQL: the store's own read and write connections (beside sea-orm's
//! pool), page reads with their LIMIT in the text, write statements joined
//! into data-modifying CTEs, and the audit chain's verification by binary
//! COPY.

pub(in crate::store) mod audit_pg;
mod limits;
pub(in crate::store) mod pg_batch;
pub(in crate::store) mod read_pg;
pub(in crate::store) mod write_pg;
