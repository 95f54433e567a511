//! PostgreSQL write transactions on connections of the store's own.
//!
//! Through sqlx's pool every write transaction ended with one more round trip
//! to the server: the pool answers each release of a connection with a `Sync`
//! and waits for its `ReadyForQuery` (see [`crate::store::read_pg`], whose read
//! connections skip it for the same reason). For CreateDraft that was one of
//! five round trips (BEGIN, the writes, the append, COMMIT, the release),
//! each costing the backend a wake-up and the system calls to answer it on a
//! machine whose CPU is the limit. These connections skip it: a connection
//! goes back to the idle list only once its COMMIT or ROLLBACK was answered,
//! so it is known to be outside a transaction and ready.
//!
//! A transaction dropped before it ended (a cancelled request) rolls back on
//! a task of its own, and its connection goes back only if that ROLLBACK was
//! answered. A connection whose statement failed on the way (lost, or in a
//! state nobody knows) is closed, which ends its transaction in PostgreSQL.
//! The BEGIN on an idle connection that had been closed meanwhile (a restarted
//! server, `pg_terminate_backend`) is tried once more on a new connection:
//! nothing was done yet. The connections name themselves
//! [`crate::store::read_pg::WRITES_NAME`] in `pg_stat_activity`.

use std::sync::Arc;

use sea_orm::sqlx::{self, AssertSqlSafe, postgres::PgConnection};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, RuntimeErr, Statement};
use tokio::sync::{Mutex, OwnedSemaphorePermit};

use crate::store::engine::group::{LaneTx, SAVEPOINT, Timed};
use crate::store::read_pg::{PgConns, Taken, arguments, connection_lost, db_err};
use crate::store::{StoreResult, audit, pg_batch};

/// A write transaction on one of the store's write connections.
#[derive(Debug)]
pub struct PgTx {
    conns: Arc<PgConns>,
    /// The connection, `None` once the transaction ended or its connection
    /// failed.
    conn: Mutex<Option<PgConnection>>,
    /// The right to the connection, held until it is back or closed.
    permit: Option<OwnedSemaphorePermit>,
}

fn exec_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e)))
}

fn query_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
}

/// The transaction's connection was closed after a failure whose answer the
/// server did not give (that failure was reported with its own kind), or the
/// transaction already ended: a bug or an earlier error, not an outage.
fn gone() -> DbErr {
    DbErr::Custom("the write transaction's connection failed or the transaction ended".into())
}

/// Whether a connection whose statement failed with `e` is still in a state
/// known to PostgreSQL and to the driver: the server answered with an error.
fn answered(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(_)) && !connection_lost(e)
}

/// How long a writer in a shared group waits for a row lock before it gives
/// up (SQLSTATE 55P03, kind `Conflict`): its savepoint is rolled back and the
/// change runs again alone, waiting as long as it needs. A row lock held by
/// another lane's group is held until that whole group commits, and a writer
/// waiting for it holds up its own lane and the locks of its own group, so
/// that waits chain from lane to lane (and a cycle of them waits for
/// PostgreSQL's deadlock detection, a second by default).
const GROUPED_LOCK_WAIT: &str = "50ms";

/// Where a store's PostgreSQL group transactions come from: its write
/// connections, and the turn to append to the chain.
#[derive(Debug)]
pub struct PgSource {
    /// The write connections, one per lane.
    pub(in crate::store) conns: Arc<PgConns>,
    /// The turn to append, shared by the lanes.
    pub(in crate::store) appender: audit::Appender,
}

/// A PostgreSQL group transaction (see [`crate::store::engine::group`]). A
/// writer's savepoint is not released when it ends (a release would cost a
/// round trip): the next writer's is taken on top of it, and a writer that
/// fails rolls back to the newest one, its own. A group holds at most
/// `max_members` of them. The group's events are appended at commit by
/// [`audit::commit_pg`], which locks the chain head only then.
#[async_trait::async_trait]
impl LaneTx for PgTx {
    type Source = PgSource;
    const BACKEND: DbBackend = DbBackend::Postgres;
    const SAVEPOINT_IN_TEXT: bool = false;

    /// A shared group waits at most [`GROUPED_LOCK_WAIT`] for a row lock (see
    /// there); a writer alone waits as long as PostgreSQL lets it.
    async fn begin(src: &PgSource, alone: bool) -> StoreResult<Self> {
        let begin = if alone {
            format!("BEGIN; SAVEPOINT {SAVEPOINT}")
        } else {
            format!("BEGIN; SET LOCAL lock_timeout = '{GROUPED_LOCK_WAIT}'; SAVEPOINT {SAVEPOINT}")
        };
        Self::begin_with(src.conns.clone(), &begin).await
    }

    async fn end_member(&self, taken: bool, writes: Vec<Statement>) -> Result<(), DbErr> {
        if writes.is_empty() {
            return Ok(());
        }
        if !taken {
            self.execute_unprepared(&format!("SAVEPOINT {SAVEPOINT}"))
                .await?;
        }
        for st in pg_batch::batches(writes) {
            self.execute_raw(st).await?;
        }
        Ok(())
    }

    async fn commit(self, src: &PgSource, events: Vec<Timed>) -> StoreResult<Vec<i64>> {
        audit::commit_pg(self, &src.appender, events).await
    }

    async fn rollback(self) {
        let _ = PgTx::rollback(self).await;
    }
}

impl PgTx {
    /// Begins a transaction on an idle connection or a new one.
    pub async fn begin(conns: Arc<PgConns>) -> StoreResult<Self> {
        Self::begin_with(conns, "BEGIN").await
    }

    /// Begins a transaction with `begin` (one statement text).
    async fn begin_with(conns: Arc<PgConns>, begin: &str) -> StoreResult<Self> {
        let permit = conns.permit().await?;
        let Taken { mut conn, reused } = conns.take().await?;
        let begin = begin.to_owned();
        if let Err(e) = sqlx::raw_sql(AssertSqlSafe(begin.clone()))
            .execute(&mut conn)
            .await
        {
            if !(reused && connection_lost(&e)) {
                return Err(db_err(e));
            }
            // Its idle connection had been closed: once more on a new one.
            conn = conns.connect().await?;
            sqlx::raw_sql(AssertSqlSafe(begin))
                .execute(&mut conn)
                .await
                .map_err(db_err)?;
        }
        Ok(Self {
            conns,
            conn: Mutex::new(Some(conn)),
            permit: Some(permit),
        })
    }

    /// Commits. Whether or not it committed, the transaction has ended.
    pub async fn commit(mut self) -> Result<(), DbErr> {
        self.end("COMMIT").await
    }

    /// Rolls back.
    pub async fn rollback(mut self) -> Result<(), DbErr> {
        self.end("ROLLBACK").await
    }

    async fn end(&mut self, sql: &'static str) -> Result<(), DbErr> {
        let mut conn = self.conn.get_mut().take().ok_or_else(gone)?;
        let ended = sqlx::raw_sql(sql).execute(&mut conn).await;
        match ended {
            Ok(_) => {
                self.conns.give_back(conn);
                Ok(())
            }
            Err(e) => {
                // A COMMIT the server refused has ended the transaction too.
                if answered(&e) {
                    self.conns.give_back(conn);
                }
                Err(exec_err(e))
            }
        }
    }

    /// Runs `f` on the connection, its failure told as `err` tells it; a
    /// connection whose statement failed without the server's answer is
    /// closed.
    async fn with_conn<T, F>(&self, err: fn(sqlx::Error) -> DbErr, f: F) -> Result<T, DbErr>
    where
        F: AsyncFnOnce(&mut PgConnection) -> Result<T, sqlx::Error>,
    {
        let mut guard = self.conn.lock().await;
        let conn = guard.as_mut().ok_or_else(gone)?;
        f(conn).await.map_err(|e| {
            if !answered(&e) {
                *guard = None;
            }
            err(e)
        })
    }
}

impl Drop for PgTx {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.get_mut().take() else {
            return;
        };
        let (conns, permit) = (self.conns.clone(), self.permit.take());
        // Outside a runtime the connection closes with it, which ends the
        // transaction in PostgreSQL.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if sqlx::raw_sql("ROLLBACK").execute(&mut conn).await.is_ok() {
                    conns.give_back(conn);
                }
                drop(permit);
            });
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for PgTx {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Postgres
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let args = arguments(&stmt).map_err(exec_err)?;
        self.with_conn(exec_err, async |c| {
            // The statement's text comes from the store's own builders;
            // every value is bound.
            sqlx::query_with(AssertSqlSafe(stmt.sql), args)
                .execute(c)
                .await
        })
        .await
        .map(ExecResult::from)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let sql = sql.to_owned();
        self.with_conn(exec_err, async |c| {
            sqlx::raw_sql(AssertSqlSafe(sql)).execute(c).await
        })
        .await
        .map(ExecResult::from)
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let args = arguments(&stmt).map_err(query_err)?;
        self.with_conn(query_err, async |c| {
            sqlx::query_with(AssertSqlSafe(stmt.sql), args)
                .fetch_optional(c)
                .await
        })
        .await
        .map(|row| row.map(QueryResult::from))
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let args = arguments(&stmt).map_err(query_err)?;
        self.with_conn(query_err, async |c| {
            sqlx::query_with(AssertSqlSafe(stmt.sql), args)
                .fetch_all(c)
                .await
        })
        .await
        .map(|rows| rows.into_iter().map(QueryResult::from).collect())
    }
}
