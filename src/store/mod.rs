//! Storage over sea-orm: SQLite (embedded default) and PostgreSQL. Nothing above
//! this module sees sea-orm models; queries return plain records.
//!
//! Writes go through [`WriteTx`]: the only way to obtain a writable transaction.
//! Its `commit` refuses to commit a transaction that recorded no audit event, and
//! appends the recorded events to the hash chain inside the same transaction.

pub mod attachments;
pub mod audit;
pub mod blobs;
pub mod bulk;
pub mod cache;
pub mod disposal;
pub mod dispositions;
pub mod engine;
use engine::connect::{connect_options, prepare_sqlite_file, sqlite_file, sqlite_process_config};
use engine::group::{self, GroupLimits, Lanes};
use engine::postgres::{audit_pg, pg_batch, read_pg, write_pg};
use engine::sqlite::{audit_sqlite, lane::SqliteLane, write_conn};
pub(crate) mod entities;
pub mod idempotency;
pub mod identity;
pub mod letters;
pub mod org;
pub mod read;
pub mod records;
pub mod setup;
pub mod signing;

use std::sync::Arc;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    TransactionTrait,
};

use crate::audit::NewEvent;
use crate::clock::Clock;

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed or refused a statement.
    #[error("database error: {0}")]
    Db(DbErr),
    /// The database cannot be reached (no connection, connection lost, the
    /// server shutting down): a retry later may succeed.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A write transaction was committed without an audit event.
    #[error("write transaction without an audit event")]
    Unaudited,
    /// A failure the engine reports with its kind (a write group that did not
    /// commit, for instance).
    #[error("{message}")]
    Failed {
        /// What kind of failure.
        kind: engine::ErrorKind,
        /// What failed.
        message: String,
    },
    /// The write group this transaction's work was in did not commit as a
    /// whole (its commit failed, its connection was lost, another
    /// transaction's lock made it a deadlock's victim). The work itself may
    /// be sound: run alone ([`Store::begin_write`]) it may commit.
    #[error("{message}")]
    GroupFailed {
        /// What kind of failure.
        kind: engine::ErrorKind,
        /// What failed.
        message: String,
    },
    /// Stored data is not what the schema promises.
    #[error("corrupt data: {0}")]
    Corrupt(String),
}

impl From<DbErr> for StoreError {
    /// Sorts a driver error by its kind ([`engine::kind_of`]): a connection
    /// that could not be made or broke becomes [`StoreError::Unavailable`],
    /// everything else stays a database error.
    fn from(e: DbErr) -> Self {
        if engine::kind_of(&e) == engine::ErrorKind::ConnectionLost {
            StoreError::Unavailable(e.to_string())
        } else {
            StoreError::Db(e)
        }
    }
}

impl StoreError {
    /// True when the database could not be reached: the caller may retry.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }

    /// The kind of the failure.
    pub fn kind(&self) -> engine::ErrorKind {
        match self {
            StoreError::Db(e) => engine::kind_of(e),
            StoreError::Failed { kind, .. } | StoreError::GroupFailed { kind, .. } => *kind,
            StoreError::Unavailable(_) => engine::ErrorKind::ConnectionLost,
            StoreError::Unaudited | StoreError::Corrupt(_) => engine::ErrorKind::Other,
        }
    }

    /// True when the work that failed may commit if run again in a group of
    /// its own: its group failed as a whole, or it was a deadlock's or a
    /// serialization failure's victim.
    pub fn retry_alone(&self) -> bool {
        matches!(self, StoreError::GroupFailed { .. }) || self.kind() == engine::ErrorKind::Conflict
    }

    /// True when the error is a unique-constraint violation.
    pub fn is_unique_violation(&self) -> bool {
        self.kind() == engine::ErrorKind::UniqueViolation
    }
}

/// Result of the storage layer.
pub type StoreResult<T> = Result<T, StoreError>;

/// What the repository functions of `src/store/*.rs` read from and write to:
/// a write transaction ([`WriteTx`], whose writes held back are sent before
/// any statement of it, so it reads its own writes) or the store itself
/// ([`Store`], sea-orm's pool, for reads outside a transaction). Only the
/// store reaches the connection behind it: the trait that hands it out lives
/// in a module private to `store`.
pub trait Db: access::Access {}

impl<T: access::Access> Db for T {}

mod access {
    use sea_orm::ConnectionTrait;

    /// The connection behind a [`super::Db`].
    pub trait Access: Sync {
        /// The sea-orm connection the statements go through.
        type Conn: ConnectionTrait + Access + Sync;
        /// That connection.
        fn conn(&self) -> &Self::Conn;
    }

    macro_rules! itself {
        ($($t:ty),*) => {$(
            impl Access for $t {
                type Conn = $t;
                fn conn(&self) -> &$t {
                    self
                }
            }
        )*};
    }
    itself!(
        sea_orm::DatabaseConnection,
        sea_orm::DatabaseTransaction,
        super::TxConnection
    );

    impl Access for super::Store {
        type Conn = sea_orm::DatabaseConnection;
        fn conn(&self) -> &sea_orm::DatabaseConnection {
            &self.db
        }
    }

    impl Access for super::WriteTx {
        type Conn = super::TxConnection;
        fn conn(&self) -> &super::TxConnection {
            &self.tx
        }
    }
}

/// Which database engine a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, the embedded default.
    Sqlite,
    /// PostgreSQL, for production.
    Postgres,
}

/// Connection settings.
#[derive(Clone, Debug, Default)]
pub struct StoreOptions {
    /// `sqlite://path?mode=rwc` or `postgres://…`.
    pub url: String,
    /// Pool size.
    pub max_connections: u32,
    /// Group commit's settings.
    pub groups: GroupLimits,
}

/// The database, shared by every request.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    backend: Backend,
    clock: Arc<dyn Clock>,
    /// The database file, for SQLite databases kept in a file.
    sqlite_file: Option<std::path::PathBuf>,
    caches: Arc<cache::Caches>,
    /// A SQLite file's or PostgreSQL's hot reads' own connections (see
    /// [`read`]).
    readers: Option<Arc<read::Readers>>,
    /// Where write transactions run.
    writes: Writes,
}

/// Where a store's write transactions run (see [`Store::begin_write_grouped`]).
#[derive(Clone, Debug)]
enum Writes {
    /// A SQLite file: group commit on its one write connection, one lane.
    SqliteFile(Arc<Lanes<SqliteLane>>),
    /// PostgreSQL: group commit on `write_lanes` connections of the store's
    /// own.
    Postgres(Arc<Lanes<write_pg::PgTx>>),
    /// In-memory SQLite (no file for a second connection): sea-orm
    /// transactions, one of this process at a time.
    Memory(Arc<tokio::sync::Mutex<()>>),
}

impl Store {
    /// Connects to the database. SQLite gets WAL mode, foreign keys, a busy
    /// timeout, `synchronous = NORMAL` (durable in WAL mode up to the last
    /// checkpointed commit on power loss, the recommended setting for WAL), a
    /// 256 MiB memory map and an 8 MiB page cache per connection.
    pub async fn connect(opts: &StoreOptions, clock: Arc<dyn Clock>) -> StoreResult<Self> {
        let backend = if opts.url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if opts.url.starts_with("postgres://") || opts.url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::Db(DbErr::Custom(format!(
                "unsupported database URL scheme in {:?}",
                redact_url(&opts.url)
            ))));
        };
        if backend == Backend::Sqlite {
            sqlite_process_config();
            prepare_sqlite_file(&opts.url)?;
        }
        // On PostgreSQL `max_connections` is shared by sea-orm's pool and the
        // hot reads' connections; the write lanes add one each.
        let (pool, reads) = if backend == Backend::Sqlite {
            let cores = std::thread::available_parallelism()
                .map(|n| n.get() as u32)
                .unwrap_or(2);
            let pool = opts.max_connections.min((2 * cores).max(4));
            (pool, pool)
        } else {
            let pool = (opts.max_connections / 2).max(1);
            (pool, opts.max_connections.saturating_sub(pool).max(1))
        };
        let db = Database::connect(connect_options(&opts.url, backend, pool)).await?;
        let sqlite_file = (backend == Backend::Sqlite)
            .then(|| sqlite_file(&opts.url))
            .flatten();
        let readers = match (&sqlite_file, backend) {
            (Some(f), _) => Some(read::Readers::Sqlite(Arc::new(read::SqliteReads::new(
                f,
                pool as usize,
            )))),
            (None, Backend::Postgres) => Some(read::Readers::Postgres(Box::new(
                read_pg::PgConns::reads(&opts.url, reads as usize)?,
            ))),
            (None, Backend::Sqlite) => None,
        }
        .map(Arc::new);
        // A SQLite file gets one connection of its own for write transactions,
        // one lane (see `begin_write` and `group`); an in-memory database has
        // no file to share.
        let writes = match (backend, &sqlite_file) {
            (Backend::Sqlite, Some(f)) => Writes::SqliteFile(Arc::new(Lanes::new(
                Arc::new(write_conn::WriteConn::open(f)?),
                GroupLimits {
                    lanes: 1,
                    ..opts.groups
                },
            ))),
            (Backend::Sqlite, None) => Writes::Memory(Arc::default()),
            (Backend::Postgres, _) => Writes::Postgres(Arc::new(Lanes::new(
                write_pg::PgSource {
                    conns: Arc::new(read_pg::PgConns::writes(
                        &opts.url,
                        opts.groups.lanes.max(1),
                    )?),
                    appender: audit::Appender::default(),
                },
                opts.groups,
            ))),
        };
        Ok(Self {
            db,
            backend,
            clock,
            sqlite_file,
            readers,
            caches: Arc::default(),
            writes,
        })
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> StoreResult<()> {
        Migrator::up(&self.db, None).await?;
        Ok(())
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The clock of this store.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The caches of callers and names (see [`cache`]).
    pub fn caches(&self) -> &cache::Caches {
        &self.caches
    }

    /// A read-only handle for queries outside a write transaction.
    pub fn reader(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Runs a read statement outside any transaction, its rows decoded by column
    /// position (see [`read`]).
    pub async fn rows<T: Send + 'static>(
        &self,
        stmt: sea_orm::Statement,
        decode: read::Decode<T>,
        reach: read::Reach,
    ) -> StoreResult<Vec<T>> {
        read::rows(self.readers.as_deref(), &self.db, stmt, decode, reach).await
    }

    /// Dependent reads: `first`, then the statements `then` makes of its rows
    /// (after trimming them), in one hand-off on SQLite (see
    /// [`read::rows_then`]).
    pub async fn rows_then<T, U, F>(
        &self,
        first: sea_orm::Statement,
        decode: read::Decode<T>,
        then: F,
        reach: read::Reach,
    ) -> StoreResult<(Vec<T>, Vec<U>)>
    where
        T: Send + 'static,
        U: Send + 'static,
        F: FnOnce(&mut Vec<T>) -> Vec<(sea_orm::Statement, read::Decode<U>)> + Send + 'static,
    {
        read::rows_then(
            self.readers.as_deref(),
            &self.db,
            first,
            decode,
            then,
            reach,
        )
        .await
    }

    /// How many PostgreSQL group appends of this store linked to the head its
    /// last append left without reading it, and how many of those found it
    /// still (or, once the group before committed, then) the head; the others
    /// linked to the head their statement found. Zero on SQLite, whose groups
    /// read the head when they take the write lock.
    pub async fn audit_guesses(&self) -> (u64, u64) {
        match &self.writes {
            Writes::Postgres(l) => l.source().appender.guessed().await,
            _ => (0, 0),
        }
    }

    /// A SQLite file's lane (for the lanes' own tests).
    #[cfg(test)]
    pub(in crate::store) fn sqlite_lanes(&self) -> Option<Arc<Lanes<SqliteLane>>> {
        match &self.writes {
            Writes::SqliteFile(l) => Some(l.clone()),
            _ => None,
        }
    }

    /// Write groups committed since the store opened, and the writers
    /// committed in them (their ratio is the mean group size). Zero for an
    /// in-memory SQLite database, which has no groups.
    pub fn write_groups(&self) -> (u64, u64) {
        match &self.writes {
            Writes::SqliteFile(l) => l.committed(),
            Writes::Postgres(l) => l.committed(),
            Writes::Memory(_) => (0, 0),
        }
    }

    /// Verifies the whole audit chain, ranges checked apart and joined at their
    /// ends (see [`crate::audit::join_ranges`]), 40,000 events per range (the
    /// size measured fastest on both engines, BENCHMARKS.md): on SQLite each
    /// range is one statement on a thread's own connection; on PostgreSQL one
    /// binary COPY, one range per CPU in flight.
    pub async fn verify_audit(&self) -> StoreResult<audit::VerifyReport> {
        self.verify_audit_in_ranges(40_000).await
    }

    /// [`Store::verify_audit`] with ranges of `batch` events. A SQLite file is
    /// read directly, by one thread per CPU, off the async runtime; PostgreSQL
    /// sends each range as a binary COPY, one range per CPU at a time. The head
    /// is read first; events appended later are left for the next run.
    pub async fn verify_audit_in_ranges(&self, batch: u64) -> StoreResult<audit::VerifyReport> {
        match (&self.sqlite_file, self.backend) {
            (_, Backend::Postgres) => {
                audit_pg::verify(self.db.get_postgres_connection_pool(), batch).await
            }
            (Some(path), Backend::Sqlite) => {
                let path = path.clone();
                tokio::task::spawn_blocking(move || audit_sqlite::verify_file(&path, batch))
                    .await
                    .map_err(|e| StoreError::Corrupt(format!("audit verify task: {e}")))?
            }
            (None, Backend::Sqlite) => Err(StoreError::Db(DbErr::Custom(
                "audit verify reads the SQLite database file; this database has none".into(),
            ))),
        }
    }

    /// Closes the pool (a SQLite file's write connection closes when the last
    /// clone of the store is dropped).
    pub async fn close(self) -> StoreResult<()> {
        self.db.close().await?;
        Ok(())
    }

    /// Starts a write transaction that commits in a group of its own: it
    /// fails only for its own reasons. For writers that cannot run their
    /// work again; a request's change goes through
    /// [`Store::begin_write_grouped`] (see `api::mutate`).
    pub async fn begin_write(&self) -> StoreResult<WriteTx> {
        self.begin(true).await
    }

    /// Starts a write transaction that joins a group (see [`group`]): a writer
    /// that finds a group's transaction open joins it under a savepoint, and
    /// the group's audit events are appended and the head moved once, at its
    /// commit. A SQLite file has one lane, on the store's write connection,
    /// which takes SQLite's write lock when a group begins (so that no
    /// transaction fails later on a lock upgrade); PostgreSQL has
    /// `write_lanes`, each on a write connection of the store's own
    /// ([`write_pg`]), which lock the chain head only to append at commit. An
    /// in-memory SQLite database queues its writers on an in-process lock
    /// around sea-orm transactions. The caller must run its work again with
    /// [`Store::begin_write`] when it fails with
    /// [`StoreError::retry_alone`]: the group failed as a whole, or (on
    /// PostgreSQL) the writer waited too long for a row lock another group
    /// holds.
    pub async fn begin_write_grouped(&self) -> StoreResult<WriteTx> {
        self.begin(false).await
    }

    async fn begin(&self, alone: bool) -> StoreResult<WriteTx> {
        let gate = match &self.writes {
            Writes::SqliteFile(l) => {
                return Ok(self.write_tx(TxConn::Sqlite(l.begin(alone).await?), None));
            }
            Writes::Postgres(l) => {
                return Ok(self.write_tx(TxConn::Pg(l.begin(alone).await?), None));
            }
            Writes::Memory(gate) => gate.clone().lock_owned().await,
        };
        let tx = self.db.begin().await?;
        // Takes the lock and reads the chain head in one statement.
        let head = audit::lock_head_sqlite(&tx).await?;
        Ok(self.write_tx(TxConn::Shared(tx, gate), Some(head)))
    }

    fn write_tx(&self, tx: TxConn, head: Option<audit::Head>) -> WriteTx {
        WriteTx {
            tx: TxConnection {
                inner: tx,
                backend: self.backend,
                pending: std::sync::Mutex::new(Vec::new()),
            },
            notices: Vec::new(),
            events: Vec::new(),
            now_us: self.clock.now_us(),
            backend: self.backend,
            caches: self.caches.clone(),
            head,
        }
    }
}

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

/// Hides the password of a database URL for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &creds[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// A write transaction that must record at least one audit event before it can
/// commit. Dropping it without committing rolls everything back.
pub struct WriteTx {
    tx: TxConnection,
    notices: Vec<crate::notify::Notice>,
    events: Vec<NewEvent>,
    now_us: i64,
    backend: Backend,
    caches: Arc<cache::Caches>,
    /// In-memory SQLite: the chain head read when the write lock was taken.
    head: Option<audit::Head>,
}

/// The connection of a write transaction with the writes it holds back (see
/// [`WriteTx::write`]). Every statement sent through it, a read included, is
/// preceded by the writes held back before it, in order: a transaction reads
/// its own writes without having to ask for it.
pub struct TxConnection {
    inner: TxConn,
    backend: Backend,
    pending: std::sync::Mutex<Vec<sea_orm::Statement>>,
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

/// The database backend of a sea-orm connection.
pub(crate) fn db_backend(backend: Backend) -> DbBackend {
    match backend {
        Backend::Sqlite => DbBackend::Sqlite,
        Backend::Postgres => DbBackend::Postgres,
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact_url("postgres://naskah:s3cret@127.0.0.1:5432/naskah"),
            "postgres://naskah:***@127.0.0.1:5432/naskah"
        );
        assert_eq!(
            redact_url("sqlite:///tmp/x.db?mode=rwc"),
            "sqlite:///tmp/x.db?mode=rwc"
        );
        assert_eq!(
            redact_url("postgres://naskah@host/db"),
            "postgres://naskah@host/db"
        );
    }
}
