//! PostgreSQL's hot reads (see [`crate::store::read`]) on connections of their own;
//! write transactions take theirs from a second such set (see
//! [`crate::store::write_pg`]).
//!
//! sqlx's pool answers every release of a connection with a round trip to the
//! server (a `Sync` and its `ReadyForQuery`, to learn whether the connection
//! is still usable after a request that may have been dropped halfway). For a
//! read of one statement that doubled the server's round trips: in a profile
//! of GetLetter it was a seventh of the server's CPU, beside the backend's own
//! work for the second message. These connections skip it: a connection goes
//! back to the idle list only after its read ran to the end, so a read
//! dropped halfway (a cancelled request) takes its connection with it, and
//! one that sat idle longer than [`IDLE_CHECK`] is pinged before use, as the
//! pool does, and one idle for [`IDLE_CLOSE`] is closed. A read that fails
//! because its idle connection had been closed (a restarted server, an
//! administrator's `pg_terminate_backend`) is run once more on a new
//! connection: reads change nothing, so running one twice is harmless. The
//! connections name themselves [`APPLICATION_NAME`] in `pg_stat_activity`.

use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use sea_orm::sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection, PgRow};
use sea_orm::sqlx::{self, Arguments, Connection, Row, TypeInfo, ValueRef};
use sea_orm::{Statement, Value};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::store::read::{Cells, Decode};
use crate::store::{StoreError, StoreResult};

/// How long a connection may sit idle before it is pinged on its next use.
const IDLE_CHECK: Duration = Duration::from_secs(30);

/// How long a connection may sit idle before it is closed (the pool's
/// default): the connections opened for a burst of reads do not stay.
const IDLE_CLOSE: Duration = Duration::from_secs(600);

/// How long opening a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The `application_name` of the read connections.
pub const APPLICATION_NAME: &str = "naskah reads";

/// The `application_name` of the write connections.
pub const WRITES_NAME: &str = "naskah writes";

pub(in crate::store) fn db_err(e: sqlx::Error) -> StoreError {
    StoreError::from(crate::store::engine::error::from_sqlx(e))
}

/// True when `e` says the connection itself is unusable (rather than the
/// statement wrong).
pub(in crate::store) fn connection_lost(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Tls(_)
    ) || matches!(e, sqlx::Error::Database(d) if d.code().is_some_and(|c| c.starts_with("57P")))
}

/// Connections of a PostgreSQL database of the store's own: at most `limit`
/// in use at once, idle ones kept for the next use.
#[derive(Debug)]
pub struct PgConns {
    options: PgConnectOptions,
    idle: Mutex<Vec<(PgConnection, Instant)>>,
    permits: Arc<Semaphore>,
}

/// A connection and whether it came from the idle list.
pub(in crate::store) struct Taken {
    pub(in crate::store) conn: PgConnection,
    pub(in crate::store) reused: bool,
}

impl PgConns {
    /// Connections opened with `options`, on demand.
    fn with(options: PgConnectOptions, limit: usize) -> Self {
        Self {
            options,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(limit.max(1))),
        }
    }

    /// Write connections to the database at `url`.
    pub fn writes(url: &str, limit: usize) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(db_err)?
            .application_name(WRITES_NAME);
        Ok(Self::with(options, limit))
    }

    /// Read connections to the database at `url`.
    pub fn reads(url: &str, limit: usize) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(db_err)?
            .application_name(APPLICATION_NAME)
            // Every hot read is found through an index by key (a page's LIMIT
            // is written into its text, see `read::inline_limits`), so the
            // plan PostgreSQL makes once without the values serves every run.
            // Left to choose, PostgreSQL kept planning the merged page of
            // several positions afresh on every run (its estimate of the
            // generic plan was dearer than the custom ones), which halved
            // that page's throughput.
            .options([("plan_cache_mode", "force_generic_plan")]);
        Ok(Self::with(options, limit))
    }

    /// The right to use one connection, held for as long as it is in use.
    pub(in crate::store) async fn permit(&self) -> StoreResult<OwnedSemaphorePermit> {
        self.permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Corrupt("postgres connections closed".into()))
    }

    /// An idle connection (pinged first when it sat idle past
    /// [`IDLE_CHECK`]) or a new one; the caller holds a [`PgConns::permit`].
    pub(in crate::store) async fn take(&self) -> StoreResult<Taken> {
        loop {
            let idle = self.idle.lock().ok().and_then(|mut v| v.pop());
            match idle {
                Some((conn, since)) if since.elapsed() < IDLE_CHECK => {
                    return Ok(Taken { conn, reused: true });
                }
                Some((mut conn, _)) => {
                    if conn.ping().await.is_ok() {
                        return Ok(Taken { conn, reused: true });
                    }
                }
                None => {
                    return Ok(Taken {
                        conn: self.connect().await?,
                        reused: false,
                    });
                }
            }
        }
    }

    /// A new connection, given up after [`CONNECT_TIMEOUT`] (the pool's
    /// acquire timeout).
    pub(in crate::store) async fn connect(&self) -> StoreResult<PgConnection> {
        tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&self.options))
            .await
            .map_err(|_| {
                StoreError::Unavailable(format!(
                    "postgres: no connection within {} s",
                    CONNECT_TIMEOUT.as_secs()
                ))
            })?
            .map_err(db_err)
    }

    /// Puts `conn` back on the idle list, and closes the connections that
    /// sat there longer than [`IDLE_CLOSE`] (the list's oldest, at its
    /// front: connections are taken from its back).
    pub(in crate::store) fn give_back(&self, conn: PgConnection) {
        let stale: Vec<PgConnection> = match self.idle.lock() {
            Ok(mut idle) => {
                let n = stale_count(idle.iter().map(|(_, since)| since.elapsed()));
                let stale = idle.drain(..n).map(|(c, _)| c).collect();
                idle.push((conn, Instant::now()));
                stale
            }
            Err(_) => return,
        };
        for c in stale {
            tokio::spawn(async move {
                let _ = c.close().await;
            });
        }
    }

    /// Runs `first`, then the statements `then` makes of its rows, on one
    /// connection (see [`crate::store::read::rows_then`]).
    pub async fn rows_then<T, U, F>(
        &self,
        first: &Statement,
        decode: Decode<T>,
        then: F,
    ) -> StoreResult<(Vec<T>, Vec<U>)>
    where
        F: FnOnce(&mut Vec<T>) -> Vec<(Statement, Decode<U>)>,
    {
        let _permit = self.permit().await?;
        let mut taken = self.take().await?;
        let mut head = match query(&mut taken.conn, first, decode).await {
            Ok(rows) => rows,
            Err(Failed::Driver(e)) if taken.reused && connection_lost(&e) => {
                // Its idle connection had been closed: once more on a new one.
                taken = Taken {
                    conn: self.connect().await?,
                    reused: false,
                };
                query(&mut taken.conn, first, decode).await?
            }
            Err(e) => return Err(e.into()),
        };
        let mut tail = Vec::new();
        for (st, decode_then) in then(&mut head) {
            tail.extend(query(&mut taken.conn, &st, decode_then).await?);
        }
        self.give_back(taken.conn);
        Ok((head, tail))
    }

    /// Runs one statement (see [`crate::store::read::rows`]).
    pub async fn rows<T>(&self, stmt: &Statement, decode: Decode<T>) -> StoreResult<Vec<T>> {
        let (rows, _) = self
            .rows_then::<T, (), _>(stmt, decode, |_| Vec::new())
            .await?;
        Ok(rows)
    }
}

/// How many of the idle list's connections, oldest first by how long each
/// has sat idle, are past [`IDLE_CLOSE`] (the list is in the order they
/// were put back).
fn stale_count(idle_for: impl Iterator<Item = Duration>) -> usize {
    idle_for.take_while(|d| *d >= IDLE_CLOSE).count()
}

/// Why a statement failed: the driver (or the server), or a row's decoding.
enum Failed {
    Driver(sqlx::Error),
    Decode(StoreError),
}

impl From<Failed> for StoreError {
    fn from(f: Failed) -> Self {
        match f {
            Failed::Driver(e) => db_err(e),
            Failed::Decode(e) => e,
        }
    }
}

async fn query<T>(
    conn: &mut PgConnection,
    stmt: &Statement,
    decode: Decode<T>,
) -> Result<Vec<T>, Failed> {
    let inlined = super::limits::inline_limits(stmt);
    let stmt = inlined.as_ref().unwrap_or(stmt);
    let args = arguments(stmt).map_err(Failed::Driver)?;
    // The statement's text comes from the store's own builders; every value
    // is bound.
    let mut rows = sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql.clone()), args).fetch(conn);
    let mut out = Vec::new();
    while let Some(row) = rows.try_next().await.map_err(Failed::Driver)? {
        out.push(decode(&row).map_err(Failed::Decode)?);
    }
    Ok(out)
}

/// The values of `stmt`, bound as sea-orm binds them (see [`bind`]).
pub(in crate::store) fn arguments(stmt: &Statement) -> Result<PgArguments, sqlx::Error> {
    let mut args = PgArguments::default();
    for v in stmt.values.as_ref().map(|v| v.0.as_slice()).unwrap_or(&[]) {
        bind(&mut args, v)?;
    }
    Ok(args)
}

/// Binds `v` as sea-orm binds it on PostgreSQL (the same Rust type for each
/// kind of value), so that a statement means here what it means there.
fn bind(args: &mut PgArguments, v: &Value) -> Result<(), sqlx::Error> {
    let added = match v {
        Value::Bool(b) => args.add(*b),
        Value::TinyInt(n) => args.add(*n),
        Value::SmallInt(n) => args.add(*n),
        Value::Int(n) => args.add(*n),
        Value::BigInt(n) => args.add(*n),
        Value::TinyUnsigned(n) => args.add(n.map(i16::from)),
        Value::SmallUnsigned(n) => args.add(n.map(i32::from)),
        Value::Unsigned(n) => args.add(n.map(i64::from)),
        Value::BigUnsigned(n) => {
            let n = n
                .map(i64::try_from)
                .transpose()
                .map_err(|_| sqlx::Error::Encode("a bound number is out of range".into()))?;
            args.add(n)
        }
        Value::Float(x) => args.add(*x),
        Value::Double(x) => args.add(*x),
        Value::String(s) => args.add(s.as_deref()),
        Value::Char(c) => args.add(c.map(String::from)),
        Value::Bytes(b) => args.add(b.as_deref()),
        other => {
            return Err(sqlx::Error::Encode(
                format!("a statement bound a value of an unexpected type: {other:?}").into(),
            ));
        }
    };
    added.map_err(sqlx::Error::Encode)
}

fn cell_err(e: sqlx::Error) -> StoreError {
    StoreError::Corrupt(format!("postgres read: {e}"))
}

impl Cells for PgRow {
    fn int(&self, i: usize) -> StoreResult<Option<i64>> {
        let raw = self.try_get_raw(i).map_err(cell_err)?;
        if raw.is_null() {
            return Ok(None);
        }
        // Any integer width, as the trait promises.
        let v = match raw.type_info().name() {
            "INT2" => self.try_get::<i16, _>(i).map(i64::from),
            "INT4" => self.try_get::<i32, _>(i).map(i64::from),
            _ => self.try_get::<i64, _>(i),
        };
        v.map(Some).map_err(cell_err)
    }
    fn small(&self, i: usize) -> StoreResult<Option<i16>> {
        self.try_get(i).map_err(cell_err)
    }
    fn int32(&self, i: usize) -> StoreResult<Option<i32>> {
        self.try_get(i).map_err(cell_err)
    }
    fn text(&self, i: usize) -> StoreResult<Option<String>> {
        self.try_get(i).map_err(cell_err)
    }
    fn bytes(&self, i: usize) -> StoreResult<Option<Vec<u8>>> {
        self.try_get(i).map_err(cell_err)
    }
    fn boolean(&self, i: usize) -> StoreResult<Option<bool>> {
        self.try_get(i).map_err(cell_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_idle_past_the_limit_are_the_stale_ones() {
        let min = Duration::from_secs(60);
        assert_eq!(
            stale_count([11 * min, 10 * min, 9 * min, min].into_iter()),
            2
        );
        assert_eq!(stale_count([9 * min, 11 * min].into_iter()), 0);
        assert_eq!(stale_count(std::iter::empty()), 0);
        assert_eq!(stale_count([20 * min, 15 * min].into_iter()), 2);
    }
}
