//! The hot read statements (a folder page, a page's details, a letter, a
//! verification code), decoded by column position from either engine.
//!
//! On a SQLite file they run through SQLite's own API
//! ([`super::engine::sqlite::reads`]), each statement's rows
//! decoded straight into records: sqlx's SQLite driver copies every value and
//! passes every row from its connection thread to the async task over a
//! channel, which cost more than the query itself in a list request. A read
//! whose rows are found by key ([`Reach::Keyed`]) runs on the request's own
//! thread: handing it to another thread and back cost more than the read, and
//! the records' memory is then freed by the thread that allocated it. A read
//! that may scan ([`Reach::Scan`]) runs on a blocking thread, so that it cannot
//! hold up the other requests of the server's few worker threads. On
//! PostgreSQL the same statement runs through sqlx on connections of the
//! reads' own ([`super::read_pg`]); on an in-memory SQLite database, which has
//! no file for a second connection, through sea-orm.

use std::sync::Arc;

use sea_orm::{ConnectionTrait, Statement};

pub use super::engine::sqlite::reads::SqliteReads;
use super::{StoreError, StoreResult};

/// One row of a result, read by column position.
pub trait Cells {
    /// An integer column (any integer width), `None` when NULL.
    fn int(&self, i: usize) -> StoreResult<Option<i64>>;
    /// A SMALLINT column. PostgreSQL decodes only its own width.
    fn small(&self, i: usize) -> StoreResult<Option<i16>>;
    /// An INTEGER (32-bit) column.
    fn int32(&self, i: usize) -> StoreResult<Option<i32>>;
    /// A text column.
    fn text(&self, i: usize) -> StoreResult<Option<String>>;
    /// A binary column.
    fn bytes(&self, i: usize) -> StoreResult<Option<Vec<u8>>>;
    /// A boolean column.
    fn boolean(&self, i: usize) -> StoreResult<Option<bool>>;
}

/// A row decoder.
pub type Decode<T> = fn(&dyn Cells) -> StoreResult<T>;

/// How much of the database a read may visit, which decides where it runs on
/// a SQLite file (see the module's documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Rows found through an index by key or key range, as many as the answer
    /// holds (a letter by id, a folder page without filters — one index range
    /// per position — the details of listed letters).
    Keyed,
    /// A read that may visit rows it does not return (filters an index does
    /// not serve).
    Scan,
}

/// The value of a NOT NULL column.
pub fn must<T>(v: Option<T>, i: usize) -> StoreResult<T> {
    v.ok_or_else(|| StoreError::Corrupt(format!("column {i} is NULL")))
}

/// A stored number as the domain's enum (a state, a step kind), or a corrupt
/// row when it is none of its values.
pub fn stored<T: TryFrom<i16>>(n: i16, i: usize) -> StoreResult<T> {
    T::try_from(n)
        .map_err(|_| StoreError::Corrupt(format!("column {i} holds {n}, not one of its values")))
}

pub(in crate::store) fn out_of_range(i: usize) -> StoreError {
    StoreError::Corrupt(format!("column {i} is out of range"))
}

impl Cells for sea_orm::QueryResult {
    fn int(&self, i: usize) -> StoreResult<Option<i64>> {
        Ok(self.try_get_by_index(i)?)
    }
    fn small(&self, i: usize) -> StoreResult<Option<i16>> {
        Ok(self.try_get_by_index(i)?)
    }
    fn int32(&self, i: usize) -> StoreResult<Option<i32>> {
        Ok(self.try_get_by_index(i)?)
    }
    fn text(&self, i: usize) -> StoreResult<Option<String>> {
        Ok(self.try_get_by_index(i)?)
    }
    fn bytes(&self, i: usize) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.try_get_by_index(i)?)
    }
    fn boolean(&self, i: usize) -> StoreResult<Option<bool>> {
        Ok(self.try_get_by_index(i)?)
    }
}

/// The hot reads' own connections: a SQLite file's (through SQLite's API) or
/// PostgreSQL's (without the pool's round trip at every release, see
/// [`super::read_pg`]). An in-memory SQLite database has none: its reads run
/// through sea-orm.
#[derive(Debug)]
pub enum Readers {
    /// A SQLite file's read-only connections.
    Sqlite(Arc<SqliteReads>),
    /// PostgreSQL read connections.
    Postgres(Box<super::read_pg::PgConns>),
}

/// Runs a read statement on `db`, rows decoded by `decode`: outside a
/// transaction through the store's own read connections, in a transaction
/// through its connection.
pub async fn rows_of<T: Send + 'static>(
    db: &impl super::Db,
    stmt: Statement,
    decode: Decode<T>,
    reach: Reach,
) -> StoreResult<Vec<T>> {
    match db.in_tx() {
        Some(tx) => tx.rows(stmt, decode).await,
        None => rows(db.readers(), db.conn(), stmt, decode, reach).await,
    }
}

/// Runs a read statement, rows decoded by `decode`: through the store's own
/// read connections when it has them, else through `db`.
pub(super) async fn rows<T: Send + 'static>(
    readers: Option<&Readers>,
    db: &impl ConnectionTrait,
    stmt: Statement,
    decode: Decode<T>,
    reach: Reach,
) -> StoreResult<Vec<T>> {
    match readers {
        Some(Readers::Sqlite(reads)) => reads.rows(stmt, decode, reach).await,
        Some(Readers::Postgres(reads)) => reads.rows(&stmt, decode).await,
        None => {
            let rows = db.query_all_raw(stmt).await?;
            rows.iter().map(|r| decode(r)).collect()
        }
    }
}

/// Runs `first`, lets `then` trim its rows and name the statements to run
/// next (each with its decoder), and runs those, all on one connection of the
/// store's own (on a SQLite file in one hand-off when `reach` is a scan),
/// else one after the other through `db`. `reach` is that of the reads
/// together.
pub(super) async fn rows_then<T, U, F>(
    readers: Option<&Readers>,
    db: &sea_orm::DatabaseConnection,
    first: Statement,
    decode: Decode<T>,
    then: F,
    reach: Reach,
) -> StoreResult<(Vec<T>, Vec<U>)>
where
    T: Send + 'static,
    U: Send + 'static,
    F: FnOnce(&mut Vec<T>) -> Vec<(Statement, Decode<U>)> + Send + 'static,
{
    match readers {
        Some(Readers::Sqlite(reads)) => reads.rows_then(first, decode, then, reach).await,
        Some(Readers::Postgres(reads)) => reads.rows_then(&first, decode, then).await,
        None => {
            let mut head = rows(None, db, first, decode, reach).await?;
            let mut tail = Vec::new();
            for (st, decode_then) in then(&mut head) {
                tail.extend(rows(None, db, st, decode_then, reach).await?);
            }
            Ok((head, tail))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::stored;
    use crate::domain::lifecycle::{LetterState, RecipientStatus};
    use crate::store::StoreError;

    /// A stored number outside a machine is a corrupt row, never a state.
    #[test]
    fn a_number_outside_a_machine_is_a_corrupt_row() {
        assert_eq!(stored::<LetterState>(6, 3).ok(), Some(LetterState::Sent));
        assert!(matches!(
            stored::<LetterState>(42, 3),
            Err(StoreError::Corrupt(m)) if m.contains("column 3")
        ));
        assert!(matches!(
            stored::<RecipientStatus>(0, 1),
            Err(StoreError::Corrupt(_))
        ));
    }
}
