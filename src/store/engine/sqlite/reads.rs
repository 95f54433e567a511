//! A SQLite file's hot reads: read-only connections through SQLite's own
//! API, rows decoded straight into records (see [`crate::store::read`]).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};
use sea_orm::{Statement, Value};
use tokio::sync::Semaphore;

use crate::store::read::{Cells, Decode, Reach, out_of_range};
use crate::store::{StoreError, StoreResult};

fn db_err(e: rusqlite::Error) -> StoreError {
    StoreError::from(crate::store::engine::error::from_rusqlite(e, "sqlite read"))
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
pub(in crate::store) fn open_read_only(path: &Path) -> StoreResult<Connection> {
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
/// connection, [`crate::store::write_conn`]).
pub(in crate::store) fn bind(
    stmt: &mut rusqlite::Statement<'_>,
    k: usize,
    v: &Value,
) -> StoreResult<()> {
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

impl SqliteReads {
    /// Runs a read statement, rows decoded by `decode`.
    pub(in crate::store) async fn rows<T: Send + 'static>(
        self: &Arc<Self>,
        stmt: Statement,
        decode: Decode<T>,
        reach: Reach,
    ) -> StoreResult<Vec<T>> {
        on_reader(self, reach, move |conn| query(conn, &stmt, decode)).await
    }

    /// Runs `first`, lets `then` trim its rows and name the statements to run
    /// next, and runs those, all on one connection (in one hand-off when
    /// `reach` is a scan).
    pub(in crate::store) async fn rows_then<T, U, F>(
        self: &Arc<Self>,
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
        on_reader(self, reach, move |conn| {
            let mut head = query(conn, &first, decode)?;
            let mut tail = Vec::new();
            for (st, decode_then) in then(&mut head) {
                tail.extend(query(conn, &st, decode_then)?);
            }
            Ok((head, tail))
        })
        .await
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
