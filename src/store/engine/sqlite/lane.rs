//! A SQLite file's group transactions (see [`crate::store::engine::group`]):
//! on the store's one write connection, one lane. SQLite has one writer at a
//! time, so a group takes the write lock when it begins (`BEGIN IMMEDIATE`,
//! the first writer's savepoint and the chain head's read in one call), and
//! every statement text may hold several statements, so a writer's savepoint,
//! writes and release go in one call, and so do the group's events, the
//! head's move and `COMMIT`.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, Statement};

use crate::store::engine::group::{LaneTx, SAVEPOINT, Timed};
use crate::store::write_conn::{self, WriteConn};
use crate::store::{Backend, StoreResult, audit, sqlite_batch};

/// How long a group's begin waits for another process's write lock.
const BUSY_WAIT: Duration = Duration::from_secs(10);

/// How often it tries again meanwhile.
const BUSY_RETRY: Duration = Duration::from_millis(5);

/// A group's transaction on the write connection, with the chain head read
/// when the write lock was taken.
#[derive(Debug)]
pub struct SqliteLane {
    conn: Arc<WriteConn>,
    head: audit::Head,
}

#[async_trait::async_trait]
impl LaneTx for SqliteLane {
    type Source = Arc<WriteConn>;
    const BACKEND: DbBackend = DbBackend::Sqlite;
    const SAVEPOINT_IN_TEXT: bool = true;

    /// One left open on the connection (a begin whose request was dropped
    /// before its answer) is rolled back first and the begin tried once
    /// more. While another process holds SQLite's write lock the begin is
    /// tried again every few milliseconds, for up to [`BUSY_WAIT`], without
    /// holding up the thread.
    async fn begin(conn: &Arc<WriteConn>, _alone: bool) -> StoreResult<Self> {
        let deadline = tokio::time::Instant::now() + BUSY_WAIT;
        let mut tries = 0;
        loop {
            match audit::begin_and_lock_head_sqlite(&**conn, SAVEPOINT).await {
                Ok(head) => {
                    return Ok(Self {
                        conn: conn.clone(),
                        head,
                    });
                }
                Err(e) => {
                    // Whatever failed, no transaction stays open behind it.
                    let _ = conn.execute_unprepared("ROLLBACK").await;
                    if write_conn::is_busy(&e) && tokio::time::Instant::now() < deadline {
                        tokio::time::sleep(BUSY_RETRY).await;
                        continue;
                    }
                    tries += 1;
                    if tries == 2 {
                        return Err(e);
                    }
                }
            }
        }
    }

    /// Savepoint, writes and release in one call.
    async fn end_member(&self, taken: bool, writes: Vec<Statement>) -> Result<(), DbErr> {
        if !taken && writes.is_empty() {
            return Ok(());
        }
        let mut batch = sqlite_batch(writes, None);
        batch.sql = format!(
            "{}{}{}RELEASE {SAVEPOINT}",
            if taken {
                String::new()
            } else {
                format!("SAVEPOINT {SAVEPOINT};\n")
            },
            batch.sql,
            if batch.sql.is_empty() { "" } else { ";\n" },
        );
        self.conn.execute_raw(batch).await.map(drop)
    }

    /// The events, the head's move and `COMMIT` in one call.
    async fn commit(self, _: &Arc<WriteConn>, events: Vec<Timed>) -> StoreResult<Vec<i64>> {
        let (mut stmt, seqs, _) =
            audit::append_stmt(Backend::Sqlite, self.head, audit::Linking::Locked, &events)?;
        stmt.sql.push_str(";\nCOMMIT");
        match self.conn.execute_raw(stmt).await {
            Ok(_) => Ok(seqs),
            Err(e) => {
                let _ = self.conn.execute_unprepared("ROLLBACK").await;
                Err(e.into())
            }
        }
    }

    async fn rollback(self) {
        let _ = self.conn.execute_unprepared("ROLLBACK").await;
    }
}

impl SqliteLane {
    /// A read in the open transaction, its rows decoded by column position
    /// (see [`WriteConn::rows`]).
    pub(in crate::store) fn rows<T>(
        &self,
        stmt: &Statement,
        decode: crate::store::read::Decode<T>,
    ) -> crate::store::StoreResult<Vec<T>> {
        self.conn.rows(stmt, decode)
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for SqliteLane {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Sqlite
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.conn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.conn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.conn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.conn.query_all_raw(stmt).await
    }
}
