//! SQLite: the store's one write connection of a file (rusqlite, on the
//! writer's thread), group commit of the server's writers on it, and the
//! audit chain's verification read straight from the file.

pub(in crate::store) mod audit_sqlite;
pub(in crate::store) mod lane;
pub(in crate::store) mod reads;
pub(in crate::store) mod write_conn;
