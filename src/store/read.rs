//! The hot read statements (a folder page, a page's details, a letter, a
//! verification code), decoded by column position from either engine.
//!
//! On a SQLite file they run through SQLite's own API, each statement's rows
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

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, Value};
use tokio::sync::Semaphore;

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

fn out_of_range(i: usize) -> StoreError {
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

fn db_err(e: rusqlite::Error) -> StoreError {
    StoreError::from(super::engine::error::from_rusqlite(e, "sqlite read"))
}

impl Cells for rusqlite::Row<'_> {
    fn int(&self, i: usize) -> StoreResult<Option<i64>> {
        self.get(i).map_err(db_err)
    }
    fn small(&self, i: usize) -> StoreResult<Option<i16>> {
        self.int(i)?
            .map(|v| i16::try_from(v).map_err(|_| out_of_range(i)))
            .transpose()
    }
    fn int32(&self, i: usize) -> StoreResult<Option<i32>> {
        self.int(i)?
            .map(|v| i32::try_from(v).map_err(|_| out_of_range(i)))
            .transpose()
    }
    fn text(&self, i: usize) -> StoreResult<Option<String>> {
        self.get(i).map_err(db_err)
    }
    fn bytes(&self, i: usize) -> StoreResult<Option<Vec<u8>>> {
        self.get(i).map_err(db_err)
    }
    fn boolean(&self, i: usize) -> StoreResult<Option<bool>> {
        Ok(self.int(i)?.map(|v| v != 0))
    }
}

/// Read-only connections to a SQLite file, used one at a time by blocking
/// threads; at most `limit` statements run at once (as many as the server's
/// pool has connections).
#[derive(Debug)]
pub struct SqliteReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

impl SqliteReads {
    /// Readers of the database file at `path`.
    pub fn new(path: &Path, limit: usize) -> Self {
        Self {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(limit.max(1))),
        }
    }

    /// Runs `f` on an idle connection (or a new one). A connection on which
    /// `f` failed is dropped rather than reused.
    fn with_conn<R>(&self, f: impl FnOnce(&Connection) -> StoreResult<R>) -> StoreResult<R> {
        let taken = self.idle.lock().ok().and_then(|mut v| v.pop());
        let conn = match taken {
            Some(c) => c,
            None => open_read_only(&self.path)?,
        };
        let out = f(&conn);
        if out.is_ok()
            && let Ok(mut idle) = self.idle.lock()
        {
            idle.push(conn);
        }
        out
    }
}

/// A read-only connection to the SQLite file at `path` with the server's
/// settings: a shared memory map, a page cache per connection, and stable plans
/// for statements that bind their LIMIT (also used by the audit verifier).
pub(super) fn open_read_only(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(db_err)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(db_err)?;
    conn.execute_batch("PRAGMA mmap_size = 268435456; PRAGMA cache_size = -8192;")
        .map_err(db_err)?;
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .map_err(db_err)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

fn query<T>(conn: &Connection, stmt: &Statement, decode: Decode<T>) -> StoreResult<Vec<T>> {
    let mut prepared = conn.prepare_cached(&stmt.sql).map_err(db_err)?;
    let values: &[Value] = stmt.values.as_ref().map(|v| v.0.as_slice()).unwrap_or(&[]);
    for (k, v) in values.iter().enumerate() {
        bind(&mut prepared, k + 1, v)?;
    }
    let mut rows = prepared.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db_err)? {
        out.push(decode(row)?);
    }
    Ok(out)
}

/// Binds `v` to parameter `k` of a SQLite statement (also used by the write
/// connection, [`super::write_conn`]).
pub(super) fn bind(stmt: &mut rusqlite::Statement<'_>, k: usize, v: &Value) -> StoreResult<()> {
    let r = match v {
        Value::Bool(b) => stmt.raw_bind_parameter(k, b.map(i64::from)),
        Value::SmallInt(n) => stmt.raw_bind_parameter(k, n.map(i64::from)),
        Value::Int(n) => stmt.raw_bind_parameter(k, n.map(i64::from)),
        Value::BigInt(n) => stmt.raw_bind_parameter(k, n),
        Value::TinyInt(n) => stmt.raw_bind_parameter(k, n.map(i64::from)),
        Value::TinyUnsigned(n) => stmt.raw_bind_parameter(k, n.map(i64::from)),
        Value::SmallUnsigned(n) => stmt.raw_bind_parameter(k, n.map(i64::from)),
        Value::Unsigned(n) => stmt.raw_bind_parameter(k, n.map(i64::from)),
        Value::BigUnsigned(n) => {
            let n = n
                .map(i64::try_from)
                .transpose()
                .map_err(|_| StoreError::Corrupt("a bound number is out of range".into()))?;
            stmt.raw_bind_parameter(k, n)
        }
        Value::Float(x) => stmt.raw_bind_parameter(k, x.map(f64::from)),
        Value::Double(x) => stmt.raw_bind_parameter(k, x),
        Value::String(s) => stmt.raw_bind_parameter(k, s.as_deref()),
        Value::Char(c) => stmt.raw_bind_parameter(k, c.map(String::from)),
        Value::Bytes(b) => stmt.raw_bind_parameter(k, b.as_deref()),
        other => {
            return Err(StoreError::Corrupt(format!(
                "a statement bound a value of an unexpected type: {other:?}"
            )));
        }
    };
    r.map_err(db_err)
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

/// Runs a read statement, rows decoded by `decode`: through the store's own
/// read connections when it has them, else through `db`.
pub(super) async fn rows<T: Send + 'static>(
    readers: Option<&Readers>,
    db: &DatabaseConnection,
    stmt: Statement,
    decode: Decode<T>,
    reach: Reach,
) -> StoreResult<Vec<T>> {
    match readers {
        Some(Readers::Sqlite(reads)) => {
            on_reader(reads, reach, move |conn| query(conn, &stmt, decode)).await
        }
        Some(Readers::Postgres(reads)) => reads.rows(&stmt, decode).await,
        None => {
            let rows = db.query_all_raw(stmt).await?;
            rows.iter().map(|r| decode(r)).collect()
        }
    }
}

/// Runs `f` with a read connection once one of the permits is free: here for a
/// keyed read, on a blocking thread for a scan.
async fn on_reader<R, F>(reads: &Arc<SqliteReads>, reach: Reach, f: F) -> StoreResult<R>
where
    R: Send + 'static,
    F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
{
    let permit = reads
        .permits
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| StoreError::Corrupt("sqlite readers closed".into()))?;
    if reach == Reach::Keyed {
        let out = reads.with_conn(f);
        drop(permit);
        return out;
    }
    let reads = reads.clone();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        reads.with_conn(f)
    })
    .await
    .map_err(|e| StoreError::Corrupt(format!("sqlite read task: {e}")))?
}

/// Runs `first`, lets `then` trim its rows and name the statements to run
/// next (each with its decoder), and runs those, all on one connection of the
/// store's own (on a SQLite file in one hand-off when `reach` is a scan),
/// else one after the other through `db`. `reach` is that of the reads
/// together.
pub(super) async fn rows_then<T, U, F>(
    readers: Option<&Readers>,
    db: &DatabaseConnection,
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
        Some(Readers::Sqlite(reads)) => {
            on_reader(reads, reach, move |conn| {
                let mut head = query(conn, &first, decode)?;
                let mut tail = Vec::new();
                for (st, decode_then) in then(&mut head) {
                    tail.extend(query(conn, &st, decode_then)?);
                }
                Ok((head, tail))
            })
            .await
        }
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

/// On PostgreSQL, the statement with each `LIMIT $k` written as the number
/// bound to it, the other parameters renumbered. PostgreSQL plans a prepared
/// statement with a bound LIMIT afresh on every run (its generic plan, which
/// cannot know the limit, looks far dearer than a custom one), and planning
/// a page read cost more than running it; with the number in the text the
/// connection's cached statement keeps one plan. Other engines' statements,
/// and a LIMIT bound to anything but an integer, are left as they are.
pub(super) fn inline_limits(stmt: Statement) -> Statement {
    if stmt.db_backend != sea_orm::DbBackend::Postgres {
        return stmt;
    }
    let values = stmt
        .values
        .as_ref()
        .map(|v| v.0.clone())
        .unwrap_or_default();
    let number = |k: usize| match values.get(k.wrapping_sub(1)) {
        Some(Value::BigUnsigned(Some(n))) => Some(n.to_string()),
        Some(Value::BigInt(Some(n))) => Some(n.to_string()),
        Some(Value::Unsigned(Some(n))) => Some(n.to_string()),
        Some(Value::Int(Some(n))) => Some(n.to_string()),
        _ => None,
    };
    // Placeholders as (start, end, k): `$` and digits (values are all bound,
    // so the text holds no literal that could contain one).
    let bytes = stmt.sql.as_bytes();
    let mut marks = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let j = (i + 1..bytes.len())
                .find(|&j| !bytes[j].is_ascii_digit())
                .unwrap_or(bytes.len());
            if let Ok(k) = stmt.sql[i + 1..j].parse::<usize>() {
                marks.push((i, j, k));
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    let inlined: Vec<bool> = marks
        .iter()
        .map(|&(start, _, k)| stmt.sql[..start].ends_with("LIMIT ") && number(k).is_some())
        .collect();
    if !inlined.contains(&true) {
        return stmt;
    }
    let mut renumber = std::collections::HashMap::new();
    let mut kept = Vec::new();
    for (&(_, _, k), &gone) in marks.iter().zip(&inlined) {
        if !gone && !renumber.contains_key(&k) {
            if let Some(v) = values.get(k.wrapping_sub(1)) {
                kept.push(v.clone());
                renumber.insert(k, kept.len());
            } else {
                return stmt;
            }
        }
    }
    let mut sql = String::with_capacity(stmt.sql.len());
    let mut at = 0;
    for (&(start, end, k), &gone) in marks.iter().zip(&inlined) {
        sql.push_str(&stmt.sql[at..start]);
        match (gone, number(k), renumber.get(&k)) {
            (true, Some(n), _) => sql.push_str(&n),
            (false, _, Some(new)) => sql.push_str(&format!("${new}")),
            _ => return stmt,
        }
        at = end;
    }
    sql.push_str(&stmt.sql[at..]);
    Statement::from_sql_and_values(sea_orm::DbBackend::Postgres, sql, kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_written_into_postgres_statements_and_the_rest_renumbered() {
        let stmt = Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT * FROM (SELECT a FROM t WHERE b = $1 AND c IN ($2, $3) LIMIT $4) AS p0 \
             UNION ALL (SELECT * FROM (SELECT a FROM t WHERE b = $5 LIMIT $6) AS p1) \
             ORDER BY a DESC LIMIT $7",
            [
                Value::from("x"),
                Value::from(1i16),
                Value::from(2i16),
                Value::from(21u64),
                Value::from("y"),
                Value::from(21u64),
                Value::from(42u64),
            ],
        );
        let out = inline_limits(stmt);
        assert_eq!(
            out.sql,
            "SELECT * FROM (SELECT a FROM t WHERE b = $1 AND c IN ($2, $3) LIMIT 21) AS p0 \
             UNION ALL (SELECT * FROM (SELECT a FROM t WHERE b = $4 LIMIT 21) AS p1) \
             ORDER BY a DESC LIMIT 42"
        );
        assert_eq!(
            out.values.map(|v| v.0).unwrap_or_default(),
            vec![
                Value::from("x"),
                Value::from(1i16),
                Value::from(2i16),
                Value::from("y")
            ]
        );
    }

    #[test]
    fn other_statements_are_left_as_they_are() {
        let sqlite = Statement::from_sql_and_values(
            sea_orm::DbBackend::Sqlite,
            "SELECT a FROM t WHERE b = ? LIMIT ?",
            [Value::from("x"), Value::from(21u64)],
        );
        assert_eq!(inline_limits(sqlite.clone()).sql, sqlite.sql);
        // A LIMIT bound to text is not written into the statement.
        let text = Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT a FROM t WHERE b = $1 LIMIT $2",
            [Value::from("x"), Value::from("21")],
        );
        let out = inline_limits(text.clone());
        assert_eq!((out.sql, out.values), (text.sql, text.values));
    }
}
