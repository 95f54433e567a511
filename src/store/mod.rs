//! Storage over sea-orm: SQLite (embedded default) and PostgreSQL. Queries
//! return records (the entities' models, under `…Record` names); above this
//! module nothing builds a statement or reaches a connection (see [`Db`]).
//!
//! Writes go through [`WriteTx`]: the only way to obtain a writable transaction.
//! Its `commit` refuses to commit a transaction that recorded no audit event, and
//! appends the recorded events to the hash chain inside the same transaction.

pub mod attachments;
pub mod audit;
pub mod blobs;
pub mod cache;
pub mod disposal;
pub mod dispositions;
pub mod engine;
pub mod exchange;
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
mod write_tx;
pub(crate) use write_tx::sqlite_batch;
pub use write_tx::{TxConn, TxConnection, WriteTx};

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
        /// The store's own read connections, for a read outside any
        /// transaction (see [`super::read`]); a transaction reads through its
        /// own connection.
        fn readers(&self) -> Option<&super::read::Readers> {
            None
        }
        /// The write transaction's connection, for a read inside it.
        fn in_tx(&self) -> Option<&super::TxConnection> {
            None
        }
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
    itself!(sea_orm::DatabaseConnection, sea_orm::DatabaseTransaction);

    impl Access for super::TxConnection {
        type Conn = super::TxConnection;
        fn conn(&self) -> &super::TxConnection {
            self
        }
        fn in_tx(&self) -> Option<&super::TxConnection> {
            Some(self)
        }
    }

    impl Access for super::Store {
        type Conn = sea_orm::DatabaseConnection;
        fn conn(&self) -> &sea_orm::DatabaseConnection {
            &self.db
        }
        fn readers(&self) -> Option<&super::read::Readers> {
            self.readers.as_deref()
        }
    }

    impl Access for super::WriteTx {
        type Conn = super::TxConnection;
        fn conn(&self) -> &super::TxConnection {
            &self.tx
        }
        fn in_tx(&self) -> Option<&super::TxConnection> {
            Some(&self.tx)
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
        read::rows_of(self, stmt, decode, reach).await
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
