//! The settings of sea-orm's pool on both engines, and what a SQLite process
//! and file need before their first connection: SQLite's allocator and
//! memory statistics, the query planner's stability, WAL mode set on a new
//! file.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, DbErr};

use crate::store::{Backend, StoreError, StoreResult};

/// The pool settings of a store: `pool` connections; a connection is pinged
/// before use only after it sat idle for 30 s (checking every hand-out cost one
/// more round trip to the database per statement outside a transaction and per
/// transaction begun). SQLite connections get the pragmas of `Store::connect`
/// and are kept open for the life of the pool (a local file has nothing to
/// refresh, and an in-memory database lives only as long as its connection).
/// A SQLite file's write connection is not in the pool (see `write_conn`).
pub(in crate::store) fn connect_options(url: &str, backend: Backend, pool: u32) -> ConnectOptions {
    let mut co = ConnectOptions::new(url.to_owned());
    co.max_connections(pool.max(1))
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .sqlx_logging(false);
    if backend == Backend::Sqlite {
        co.idle_timeout(None).max_lifetime(None);
        co.map_sqlx_sqlite_opts(|o: SqliteConnectOptions| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .create_if_missing(true)
                // Reads through a shared memory map instead of read() calls into
                // each connection's private cache.
                .pragma("mmap_size", "268435456")
                .pragma("cache_size", "-8192")
                .pragma("temp_store", "memory")
        });
        co.map_sqlx_sqlite_pool_opts(|o| {
            o.after_connect(|conn, _| Box::pin(async move { stable_plans(conn).await }))
        });
    }
    co
}

/// Process-wide SQLite settings, applied once before the first connection: no
/// global memory statistics (with them every allocation inside SQLite takes one
/// process-wide mutex, which the connection threads contend for), and SQLite's
/// allocations served by mimalloc, the process's allocator, instead of glibc's
/// malloc. Why they pay: docs/architecture.md, "The engine's own mechanisms".
pub(in crate::store) fn sqlite_process_config() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use rusqlite::ffi;
        let methods = ffi::sqlite3_mem_methods {
            xMalloc: Some(sqlite_malloc),
            xFree: Some(sqlite_free),
            xRealloc: Some(sqlite_realloc),
            xSize: Some(sqlite_size),
            xRoundup: Some(sqlite_roundup),
            xInit: Some(sqlite_mem_init),
            xShutdown: Some(sqlite_mem_shutdown),
            pAppData: std::ptr::null_mut(),
        };
        // SAFETY: called once, before this process opens its first SQLite
        // connection (SQLite copies the methods); once SQLite is initialised
        // each call only returns SQLITE_MISUSE and changes nothing, so SQLite
        // never frees with one allocator what it allocated with the other.
        unsafe {
            let _ = ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int);
            let _ = ffi::sqlite3_config(
                ffi::SQLITE_CONFIG_MALLOC,
                &methods as *const ffi::sqlite3_mem_methods,
            );
        }
    });
}

// SQLite's memory methods over mimalloc (SQLite asks for 8-byte alignment;
// mimalloc gives at least 16). Sizes are non-negative ints from SQLite.

unsafe extern "C" fn sqlite_malloc(n: std::ffi::c_int) -> *mut std::ffi::c_void {
    // SAFETY: plain allocation; a null result is SQLite's out-of-memory.
    unsafe { libmimalloc_sys::mi_malloc(n.max(0) as usize) }
}

unsafe extern "C" fn sqlite_free(p: *mut std::ffi::c_void) {
    // SAFETY: `p` came from `sqlite_malloc`/`sqlite_realloc` (or is null).
    unsafe { libmimalloc_sys::mi_free(p) }
}

unsafe extern "C" fn sqlite_realloc(
    p: *mut std::ffi::c_void,
    n: std::ffi::c_int,
) -> *mut std::ffi::c_void {
    // SAFETY: `p` came from these methods; on failure it is left as it was.
    unsafe { libmimalloc_sys::mi_realloc(p, n.max(0) as usize) }
}

unsafe extern "C" fn sqlite_size(p: *mut std::ffi::c_void) -> std::ffi::c_int {
    // SAFETY: `p` came from these methods (or is null, size 0).
    let n = unsafe { libmimalloc_sys::mi_usable_size(p) };
    std::ffi::c_int::try_from(n).unwrap_or(std::ffi::c_int::MAX)
}

unsafe extern "C" fn sqlite_roundup(n: std::ffi::c_int) -> std::ffi::c_int {
    // SAFETY: a pure function of its argument.
    let r = unsafe { libmimalloc_sys::mi_good_size(n.max(0) as usize) };
    std::ffi::c_int::try_from(r).unwrap_or(n)
}

unsafe extern "C" fn sqlite_mem_init(_: *mut std::ffi::c_void) -> std::ffi::c_int {
    rusqlite::ffi::SQLITE_OK
}

unsafe extern "C" fn sqlite_mem_shutdown(_: *mut std::ffi::c_void) {}

/// Turns on SQLite's query planner stability guarantee for a new connection.
/// Without it SQLite marks a prepared statement stale whenever a parameter that
/// the planner looked at is bound again — every `LIMIT ?` is — and re-parses and
/// re-plans it on every execution; with it a cached statement keeps its plan.
async fn stable_plans(
    conn: &mut sea_orm::sqlx::SqliteConnection,
) -> Result<(), sea_orm::sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is the live handle of this connection, held locked for the
    // call; SQLITE_DBCONFIG_ENABLE_QPSG takes an int and an optional int* out.
    let rc = unsafe {
        rusqlite::ffi::sqlite3_db_config(
            db,
            rusqlite::ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::ffi::c_int,
            std::ptr::null_mut::<std::ffi::c_int>(),
        )
    };
    if rc != rusqlite::ffi::SQLITE_OK {
        return Err(sea_orm::sqlx::Error::Configuration(
            format!("sqlite3_db_config(ENABLE_QPSG) failed with code {rc}").into(),
        ));
    }
    Ok(())
}

/// The file of a `sqlite://PATH?…` or `sqlite:PATH` URL (none for in-memory
/// databases or a file that is not there).
pub(in crate::store) fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    sqlite_path(url).filter(|p| p.is_file())
}

/// The file a SQLite URL names (none for an in-memory database).
fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path.starts_with(':') {
        return None;
    }
    Some(std::path::PathBuf::from(path))
}

/// Creates the SQLite file a `mode=rwc` URL names, if it is missing, and puts
/// it in WAL mode, on one connection, before the pool opens its connections.
/// The pool opens its first connections concurrently (its minimum and the one
/// it hands out), and each sets `journal_mode = WAL`: on a new file that
/// switch takes the file's exclusive lock, and the connection that lost the
/// race failed with "database is locked" — rarely, at a first start. WAL mode
/// is kept in the file, so the pool's connections then find it set.
pub(in crate::store) fn prepare_sqlite_file(url: &str) -> StoreResult<()> {
    let Some(path) = sqlite_path(url).filter(|_| url.contains("mode=rwc")) else {
        return Ok(());
    };
    let fail = |e: rusqlite::Error| {
        StoreError::Db(DbErr::Custom(format!(
            "cannot prepare the database file {}: {e}",
            path.display()
        )))
    };
    let conn = rusqlite::Connection::open(&path).map_err(fail)?;
    conn.busy_timeout(Duration::from_secs(10)).map_err(fail)?;
    conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
        .map_err(fail)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::prepare_sqlite_file;

    #[test]
    fn a_new_sqlite_file_is_created_in_wal_mode_before_the_pool_opens() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("n.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        prepare_sqlite_file(&url).expect("prepared");
        // A connection that sets nothing finds WAL mode in the file.
        let conn = rusqlite::Connection::open(&path).expect("open");
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .expect("mode");
        assert_eq!(mode, "wal");
        // Read-only and in-memory URLs are left alone.
        let ro = dir.path().join("ro.db");
        prepare_sqlite_file(&format!("sqlite://{}?mode=ro", ro.display())).expect("ro");
        assert!(!ro.exists());
        prepare_sqlite_file("sqlite::memory:").expect("memory");
    }
}
