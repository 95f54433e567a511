//! The write transaction ([`WriteTx`]): the only way to write. It holds the
//! writes of a change back until its next statement or its commit, refuses to
//! commit without an audit event, and hands its events to its group's commit.

use super::*;

/// The connection of a write transaction.
pub enum TxConn {
    /// A sea-orm transaction (in-memory SQLite), with the in-process write
    /// queue's turn, released after the transaction (fields drop in order): a
    /// rolled-back transaction lets the next writer in only once SQLite's lock
    /// is free.
    Shared(DatabaseTransaction, tokio::sync::OwnedMutexGuard<()>),
    /// A writer's part of a group transaction on a SQLite file's write
    /// connection.
    Sqlite(group::Writer<SqliteLane>),
    /// A writer's part of a group transaction on a PostgreSQL write
    /// connection of the store's own.
    Pg(group::Writer<write_pg::PgTx>),
}

#[async_trait::async_trait]
impl ConnectionTrait for TxConn {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            TxConn::Shared(tx, _) => tx.get_database_backend(),
            TxConn::Sqlite(w) => w.get_database_backend(),
            TxConn::Pg(w) => w.get_database_backend(),
        }
    }

    async fn execute_raw(&self, stmt: sea_orm::Statement) -> Result<sea_orm::ExecResult, DbErr> {
        match self {
            TxConn::Shared(tx, _) => tx.execute_raw(stmt).await,
            TxConn::Sqlite(w) => w.execute_raw(stmt).await,
            TxConn::Pg(w) => w.execute_raw(stmt).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<sea_orm::ExecResult, DbErr> {
        match self {
            TxConn::Shared(tx, _) => tx.execute_unprepared(sql).await,
            TxConn::Sqlite(w) => w.execute_unprepared(sql).await,
            TxConn::Pg(w) => w.execute_unprepared(sql).await,
        }
    }

    async fn query_one_raw(
        &self,
        stmt: sea_orm::Statement,
    ) -> Result<Option<sea_orm::QueryResult>, DbErr> {
        match self {
            TxConn::Shared(tx, _) => tx.query_one_raw(stmt).await,
            TxConn::Sqlite(w) => w.query_one_raw(stmt).await,
            TxConn::Pg(w) => w.query_one_raw(stmt).await,
        }
    }

    async fn query_all_raw(
        &self,
        stmt: sea_orm::Statement,
    ) -> Result<Vec<sea_orm::QueryResult>, DbErr> {
        match self {
            TxConn::Shared(tx, _) => tx.query_all_raw(stmt).await,
            TxConn::Sqlite(w) => w.query_all_raw(stmt).await,
            TxConn::Pg(w) => w.query_all_raw(stmt).await,
        }
    }
}

/// A write transaction that must record at least one audit event before it can
/// commit. Dropping it without committing rolls everything back.
pub struct WriteTx {
    pub(super) tx: TxConnection,
    pub(super) notices: Vec<crate::notify::Notice>,
    pub(super) events: Vec<NewEvent>,
    pub(super) now_us: i64,
    pub(super) backend: Backend,
    pub(super) caches: Arc<cache::Caches>,
    /// In-memory SQLite: the chain head read when the write lock was taken.
    pub(super) head: Option<audit::Head>,
}

/// The connection of a write transaction with the writes it holds back (see
/// [`WriteTx::write`]). Every statement sent through it, a read included, is
/// preceded by the writes held back before it, in order: a transaction reads
/// its own writes without having to ask for it.
pub struct TxConnection {
    pub(super) inner: TxConn,
    pub(super) backend: Backend,
    pub(super) pending: std::sync::Mutex<Vec<sea_orm::Statement>>,
}

impl TxConnection {
    fn take_pending(&self) -> Vec<sea_orm::Statement> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn hold(&mut self, statement: sea_orm::Statement) {
        self.pending
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .push(statement);
    }

    /// Sends the writes held back; the rows the last statement sent reports.
    async fn send_pending(&self) -> Result<u64, DbErr> {
        let pending = self.take_pending();
        self.send(pending).await
    }

    /// Sends `statements` in as few calls as the engine allows: one batch on
    /// SQLite, [`pg_batch`]'s statements on PostgreSQL.
    async fn send(&self, statements: Vec<sea_orm::Statement>) -> Result<u64, DbErr> {
        if statements.is_empty() {
            return Ok(0);
        }
        match self.backend {
            Backend::Sqlite => Ok(self
                .inner
                .execute_raw(sqlite_batch(statements, None))
                .await?
                .rows_affected()),
            Backend::Postgres => {
                let mut rows = 0;
                for st in pg_batch::batches(statements) {
                    rows = self.inner.execute_raw(st).await?.rows_affected();
                }
                Ok(rows)
            }
        }
    }
}

impl TxConnection {
    /// A read in the transaction, after the writes held back, its rows
    /// decoded by column position (on a SQLite file through SQLite's own rows,
    /// which keep their columns' order).
    pub(super) async fn rows<T>(
        &self,
        stmt: sea_orm::Statement,
        decode: read::Decode<T>,
    ) -> StoreResult<Vec<T>> {
        self.send_pending().await?;
        match &self.inner {
            TxConn::Sqlite(w) => w.for_read().await?.rows(&stmt, decode),
            other => {
                let rows = other.query_all_raw(stmt).await?;
                rows.iter().map(|r| decode(r)).collect()
            }
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for TxConnection {
    fn get_database_backend(&self) -> DbBackend {
        self.inner.get_database_backend()
    }

    async fn execute_raw(&self, stmt: sea_orm::Statement) -> Result<sea_orm::ExecResult, DbErr> {
        self.send_pending().await?;
        self.inner.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<sea_orm::ExecResult, DbErr> {
        self.send_pending().await?;
        self.inner.execute_unprepared(sql).await
    }

    async fn query_one_raw(
        &self,
        stmt: sea_orm::Statement,
    ) -> Result<Option<sea_orm::QueryResult>, DbErr> {
        self.send_pending().await?;
        self.inner.query_one_raw(stmt).await
    }

    async fn query_all_raw(
        &self,
        stmt: sea_orm::Statement,
    ) -> Result<Vec<sea_orm::QueryResult>, DbErr> {
        self.send_pending().await?;
        self.inner.query_all_raw(stmt).await
    }
}

/// True for events of changes that may touch users, positions, assignments,
/// secretaries, units or names: the cached callers and names are then dropped.
fn touches_identity(action: &str) -> bool {
    action.starts_with("/naskah.v1.OrgService/")
        || action.starts_with("/naskah.v1.AuthService/")
        || action.starts_with("system/")
}

impl WriteTx {
    /// The caches of callers and names of the store.
    pub fn caches(&self) -> &cache::Caches {
        &self.caches
    }

    /// The time of this transaction (taken when it began).
    pub fn now_us(&self) -> i64 {
        self.now_us
    }

    /// Records an audit event to append at commit.
    pub fn audit(&mut self, event: NewEvent) {
        self.events.push(event);
    }

    /// Holds `statement` back like [`WriteTx::write`]; the name says that the
    /// caller expects it to go with the commit (on SQLite in the round trip of
    /// the audit append). An error of it fails the statement that sends it.
    pub(in crate::store) fn defer(&mut self, statement: sea_orm::Statement) {
        self.tx.hold(statement);
    }

    /// Sends the writes held back now (one round trip on SQLite). A read
    /// through [`WriteTx::conn`] does so by itself.
    async fn flush(&mut self) -> StoreResult<()> {
        self.tx.send_pending().await?;
        Ok(())
    }

    /// A write of a statement that must change exactly one row (an update
    /// guarded by the revision the transaction read): false when it changed
    /// none, on both engines. It is sent now, after the writes held back
    /// before it (on PostgreSQL in the same statement when [`pg_batch`] can
    /// join them; its rows are the guard's).
    pub(in crate::store) async fn write_one(
        &mut self,
        statement: sea_orm::Statement,
    ) -> StoreResult<bool> {
        let rows = match self.backend {
            Backend::Sqlite => {
                self.flush().await?;
                self.tx.inner.execute_raw(statement).await?.rows_affected()
            }
            Backend::Postgres => {
                let mut pending = self.tx.take_pending();
                pending.push(statement);
                self.tx.send(pending).await?
            }
        };
        Ok(rows == 1)
    }

    /// A write whose result (its row count) the caller does not need: held
    /// back, and sent with the next statement of the transaction (a read
    /// included, which then meets it) or at the latest with the commit.
    /// Consecutive writes held back go together: on SQLite in one call, on
    /// PostgreSQL in as few statements as [`pg_batch`] allows. SQLite's write
    /// lock is held since the transaction began, so a write meets the rows the
    /// transaction read.
    pub(in crate::store) async fn write(
        &mut self,
        statement: sea_orm::Statement,
    ) -> StoreResult<()> {
        self.tx.hold(statement);
        Ok(())
    }

    /// The database backend of this transaction.
    pub(in crate::store) fn db_backend(&self) -> DbBackend {
        db_backend(self.backend)
    }

    /// Records an inbox notice to publish once the transaction has committed.
    pub fn notify(&mut self, notice: crate::notify::Notice) {
        self.notices.push(notice);
    }

    /// Appends the recorded events to the audit chain and commits. Returns the
    /// seqs of the appended events.
    pub async fn commit(self) -> StoreResult<Vec<i64>> {
        Ok(self.commit_with_notices().await?.0)
    }

    /// Rolls the transaction back. Unlike dropping it, returns only once the
    /// other writers' work this transaction saw (a SQLite group, see [`group`])
    /// has committed or failed, so that what made it fail can then be read.
    pub async fn rollback(self) {
        match self.tx.inner {
            TxConn::Sqlite(writer) => writer.abandon().await,
            TxConn::Pg(writer) => writer.abandon().await,
            TxConn::Shared(tx, gate) => {
                let _ = tx.rollback().await;
                drop(gate);
            }
        }
    }

    /// Like [`WriteTx::commit`], also handing back the notices to publish.
    pub async fn commit_with_notices(
        mut self,
    ) -> StoreResult<(Vec<i64>, Vec<crate::notify::Notice>)> {
        if self.events.is_empty() {
            return Err(StoreError::Unaudited);
        }
        let writes = self.tx.take_pending();
        let now_us = self.now_us;
        // A reader that loaded the old rows did so under the old generation
        // (see `cache`): the caches are dropped after the commit.
        let identity = self.events.iter().any(|e| touches_identity(&e.action));
        let events: Vec<group::Timed> = std::mem::take(&mut self.events)
            .into_iter()
            .map(|e| (now_us, e))
            .collect();
        let seqs = match (self.tx.inner, self.head) {
            (TxConn::Sqlite(writer), _) => writer.finish(writes, events).await?,
            (TxConn::Pg(writer), _) => writer.finish(writes, events).await?,
            (TxConn::Shared(tx, gate), Some(head)) => {
                let (stmt, seqs, _) =
                    audit::append_stmt(Backend::Sqlite, head, audit::Linking::Locked, &events)?;
                tx.execute_raw(sqlite_batch(writes, Some(stmt))).await?;
                tx.commit().await?;
                drop(gate);
                seqs
            }
            (TxConn::Shared(..), None) => {
                return Err(StoreError::Corrupt(
                    "a SQLite transaction without the chain head".into(),
                ));
            }
        };
        if identity {
            self.caches.invalidate();
        }
        Ok((seqs, self.notices))
    }
}

/// Raw statements on a write transaction, for the engine's own tests only
/// (a member that fails its group, a guarded update, a lock wait): compiled
/// with the `test-hooks` feature, which only the test suite turns on.
#[cfg(feature = "test-hooks")]
impl WriteTx {
    /// The transaction's connection.
    pub fn raw_conn(&self) -> &TxConnection {
        &self.tx
    }

    /// [`WriteTx::defer`].
    pub fn raw_defer(&mut self, statement: sea_orm::Statement) {
        self.defer(statement)
    }

    /// [`WriteTx::write`].
    pub async fn raw_write(&mut self, statement: sea_orm::Statement) -> StoreResult<()> {
        self.write(statement).await
    }

    /// [`WriteTx::write_one`].
    pub async fn raw_write_one(&mut self, statement: sea_orm::Statement) -> StoreResult<bool> {
        self.write_one(statement).await
    }

    /// The transaction's sea-orm backend.
    pub fn raw_backend(&self) -> DbBackend {
        self.db_backend()
    }
}

/// SQLite statements as one multi-statement text, run as one call (each
/// statement binds as many of the values as it has parameters, in order; the
/// statements are joined by `;` and a line break, where the write connection
/// splits them), followed by `last`.
pub(crate) fn sqlite_batch(
    statements: Vec<sea_orm::Statement>,
    last: Option<sea_orm::Statement>,
) -> sea_orm::Statement {
    let mut sql = String::new();
    let mut values = Vec::new();
    for st in statements.into_iter().chain(last) {
        if !sql.is_empty() {
            sql.push_str(";\n");
        }
        sql.push_str(&st.sql);
        values.extend(st.values.into_iter().flat_map(|v| v.0));
    }
    sea_orm::Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
}
