//! The database engines: what knows drivers, connections and dialects.
//!
//! Today this holds the one classification of database errors
//! ([`error::kind_of`]); the SQLite and PostgreSQL connection code still lives
//! beside it in `src/store/` (see docs/architecture.md, "The engine").

pub mod error;

pub use error::{ErrorKind, kind_of};
