//! PostgreSQL's hot reads run on connections of their own, without the pool's
//! round trip at every release: a connection goes back to the idle list only
//! after its read ran to the end, and a read whose idle connection the server
//! had closed runs again on a new one. (SQLite's hot reads are covered by
//! every scenario; they have no server to lose.)

use std::time::Duration;

use naskah::store::read::{Cells, Reach, must};
use naskah::store::{Store, StoreResult};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use naskah_testkit::{Db, TestServer};

fn first_int(c: &dyn Cells) -> StoreResult<i64> {
    must(c.int(0)?, 0)
}

/// The server process that runs a hot read.
async fn read_pid(store: &Store) -> StoreResult<i64> {
    let rows = store
        .rows(
            Statement::from_string(DbBackend::Postgres, "SELECT pg_backend_pid()::bigint"),
            first_int,
            Reach::Keyed,
        )
        .await?;
    rows.first()
        .copied()
        .ok_or_else(|| naskah::store::StoreError::Corrupt("no row".into()))
}

/// Server processes of this test's database with the read connections' name
/// whose current statement contains `needle`.
async fn read_backends(store: &Store, needle: &str) -> Vec<i64> {
    let db = store.reader();
    db.query_all_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pid::bigint FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = 'naskah reads' \
         AND query LIKE $1 ORDER BY pid",
        [format!("%{needle}%").into()],
    ))
    .await
    .expect("pg_stat_activity")
    .iter()
    .map(|r| r.try_get_by_index::<i64>(0).expect("pid"))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_read_connections_are_not_reused_halfway_and_are_replaced_when_cut_off() {
    let t = TestServer::start(Db::Postgres).await;
    let store = t.store();
    let first = read_pid(store).await.expect("a first read");
    // They plan each statement once (see `store::read_pg`).
    let mode = store
        .rows(
            Statement::from_string(
                DbBackend::Postgres,
                "SELECT current_setting('plan_cache_mode')",
            ),
            |c| must(c.text(0)?, 0),
            Reach::Keyed,
        )
        .await
        .expect("setting");
    assert_eq!(mode, vec!["force_generic_plan".to_owned()]);

    // A read dropped while its statement runs (a cancelled request) takes its
    // connection with it: the next read runs on another server process,
    // without waiting for the abandoned statement.
    let abandoned = tokio::time::timeout(
        Duration::from_millis(300),
        store.rows(
            Statement::from_string(
                DbBackend::Postgres,
                "SELECT pg_backend_pid()::bigint FROM pg_sleep(3)",
            ),
            first_int,
            Reach::Keyed,
        ),
    )
    .await;
    assert!(abandoned.is_err(), "the slow read was cut short");
    let sleeping = read_backends(store, "pg_sleep").await;
    assert_eq!(
        sleeping,
        vec![first],
        "the abandoned read ran on the idle connection of the first"
    );
    let next = read_pid(store).await.expect("the read after it");
    assert_ne!(next, first, "the abandoned connection was handed on");

    // The server closes every read connection (as a restart or an
    // administrator would); the idle one is still in the list, and the next
    // read runs again on a new connection instead of failing.
    let db = store.reader();
    let cut = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'naskah reads'",
        ))
        .await
        .expect("terminate");
    assert!(
        cut.iter()
            .filter(|r| r.try_get_by_index::<bool>(0).unwrap_or(false))
            .count()
            >= 1,
        "at least the idle read connection was terminated"
    );
    let after = read_pid(store).await.expect("a read after the cut");
    assert!(after != next && after != first, "a new connection");
    // The new connection is kept for the reads after it.
    assert_eq!(read_pid(store).await.expect("again"), after);
    t.stop().await;
}
