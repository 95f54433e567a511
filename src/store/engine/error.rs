//! What went wrong in a database, by kind: read from the error's type and the
//! database's own code (SQLSTATE on PostgreSQL, the extended result code on
//! SQLite), never from its message text.

use std::borrow::Cow;
use std::sync::Arc;

use sea_orm::sqlx;
use sea_orm::{DbErr, RuntimeErr};

/// The kinds of database failure the rest of the server acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A unique or primary-key constraint refused a row.
    UniqueViolation,
    /// Another connection (another process) holds the write lock (SQLite).
    Busy,
    /// The database could not be reached, or the connection broke.
    ConnectionLost,
    /// A serialization failure, a deadlock, or a lock wait given up: the
    /// transaction may be retried.
    Conflict,
    /// Anything else.
    Other,
}

/// The kind of a driver error.
pub fn sqlx_kind(e: &sqlx::Error) -> ErrorKind {
    use sqlx::Error as X;
    match e {
        X::Io(_)
        | X::Tls(_)
        | X::Protocol(_)
        | X::PoolTimedOut
        | X::PoolClosed
        | X::WorkerCrashed => ErrorKind::ConnectionLost,
        X::Database(d) => database_kind(d.as_ref()),
        _ => ErrorKind::Other,
    }
}

fn database_kind(d: &dyn sqlx::error::DatabaseError) -> ErrorKind {
    if d.kind() == sqlx::error::ErrorKind::UniqueViolation {
        return ErrorKind::UniqueViolation;
    }
    if let Some(pg) = d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        let code = pg.code();
        return match code {
            // serialization_failure, deadlock_detected, lock_not_available
            // (a grouped writer's lock wait ran past its lock_timeout)
            "40001" | "40P01" | "55P03" => ErrorKind::Conflict,
            // operator intervention (shutdown, cannot connect now), connection exceptions
            c if c.starts_with("57P") || c.starts_with("08") => ErrorKind::ConnectionLost,
            _ => ErrorKind::Other,
        };
    }
    let sqlite_code = if let Some(s) = d.try_downcast_ref::<SqliteError>() {
        Some(s.extended)
    } else if d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        d.code().and_then(|c| c.parse::<i32>().ok())
    } else {
        None
    };
    match sqlite_code.map(|c| c & 0xff) {
        // SQLITE_BUSY, SQLITE_LOCKED and their extended codes
        Some(5) | Some(6) => ErrorKind::Busy,
        _ => ErrorKind::Other,
    }
}

/// The kind of a sea-orm error (whose driver errors travel inside it).
pub fn kind_of(e: &DbErr) -> ErrorKind {
    match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => ErrorKind::ConnectionLost,
        DbErr::Exec(RuntimeErr::SqlxError(x)) | DbErr::Query(RuntimeErr::SqlxError(x)) => {
            sqlx_kind(x)
        }
        _ => ErrorKind::Other,
    }
}

/// A driver error as a sea-orm statement error, keeping its type.
pub fn from_sqlx(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
}

/// A failure of SQLite reported by rusqlite (the store's own SQLite
/// connections), carried as a driver database error so that its kind is read
/// from its code like every other's.
#[derive(Debug)]
pub struct SqliteError {
    /// SQLite's extended result code.
    extended: i32,
    message: String,
}

impl std::fmt::Display for SqliteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (SQLite code {})", self.message, self.extended)
    }
}

impl std::error::Error for SqliteError {}

impl sqlx::error::DatabaseError for SqliteError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Owned(self.extended.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
        match self.extended {
            2067 | 1555 => sqlx::error::ErrorKind::UniqueViolation,
            787 => sqlx::error::ErrorKind::ForeignKeyViolation,
            1299 => sqlx::error::ErrorKind::NotNullViolation,
            275 => sqlx::error::ErrorKind::CheckViolation,
            _ => sqlx::error::ErrorKind::Other,
        }
    }
}

/// A rusqlite error as a sea-orm statement error. A failure of SQLite keeps
/// its code (and so its kind); any other (a type mismatch, a bad parameter)
/// is of kind [`ErrorKind::Other`].
pub fn from_rusqlite(e: rusqlite::Error, context: &str) -> DbErr {
    match e {
        rusqlite::Error::SqliteFailure(f, msg) => {
            from_sqlx(sqlx::Error::Database(Box::new(SqliteError {
                extended: f.extended_code,
                message: format!("{context}: {}", msg.unwrap_or_else(|| f.to_string())),
            })))
        }
        other => DbErr::Custom(format!("{context}: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite_failure(extended: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(extended), None)
    }

    #[test]
    fn sqlite_failures_are_sorted_by_their_codes() {
        assert_eq!(
            kind_of(&from_rusqlite(sqlite_failure(2067), "t")),
            ErrorKind::UniqueViolation
        );
        assert_eq!(
            kind_of(&from_rusqlite(sqlite_failure(1555), "t")),
            ErrorKind::UniqueViolation
        );
        assert_eq!(
            kind_of(&from_rusqlite(sqlite_failure(5), "t")),
            ErrorKind::Busy
        );
        assert_eq!(
            kind_of(&from_rusqlite(sqlite_failure(517), "t")),
            ErrorKind::Busy
        );
        assert_eq!(
            kind_of(&from_rusqlite(sqlite_failure(787), "t")),
            ErrorKind::Other
        );
        assert_eq!(
            kind_of(&from_rusqlite(rusqlite::Error::InvalidQuery, "t")),
            ErrorKind::Other
        );
    }

    #[test]
    fn a_unique_violation_is_found_by_its_code_whatever_its_message() {
        // A message that reads like a unique violation, with another code.
        let e = sqlite_failure(19);
        let dressed = match e {
            rusqlite::Error::SqliteFailure(f, _) => rusqlite::Error::SqliteFailure(
                f,
                Some("UNIQUE constraint failed: duplicate key value".into()),
            ),
            other => other,
        };
        assert_eq!(kind_of(&from_rusqlite(dressed, "t")), ErrorKind::Other);
    }

    #[test]
    fn lost_connections_are_found_by_type() {
        assert_eq!(
            sqlx_kind(&sqlx::Error::Io(std::io::Error::other("reset"))),
            ErrorKind::ConnectionLost
        );
        assert_eq!(
            sqlx_kind(&sqlx::Error::PoolTimedOut),
            ErrorKind::ConnectionLost
        );
        assert_eq!(sqlx_kind(&sqlx::Error::RowNotFound), ErrorKind::Other);
        assert_eq!(
            kind_of(&DbErr::Conn(RuntimeErr::Internal("gone".into()))),
            ErrorKind::ConnectionLost
        );
    }
}
