//! PostgreSQL's write transactions run on connections of their own, without
//! the pool's round trip at every release: a connection is used again only
//! once its transaction has ended, a transaction dropped halfway (a cancelled
//! request) is rolled back before its connection is used again, and a write
//! whose idle connection the server had closed begins again on a new one.
//! (SQLite's writes have their own connection and no server to lose: see the
//! group tests.)

use std::time::Duration;

use naskah::audit::NewEvent;
use naskah::store::{Store, WriteTx};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::harness::{Db, TestServer};

fn sql(text: &str) -> Statement {
    Statement::from_string(DbBackend::Postgres, text)
}

/// One integer the transaction's connection answers to `text`.
async fn int_in(tx: &WriteTx, text: &str) -> i64 {
    tx.conn()
        .query_one_raw(sql(text))
        .await
        .expect("query")
        .expect("a row")
        .try_get_by_index::<i64>(0)
        .expect("int")
}

/// Begins a write and answers it with its server process.
async fn begin(store: &Store) -> (WriteTx, i64) {
    let tx = store.begin_write().await.expect("begin");
    let pid = int_in(&tx, "SELECT pg_backend_pid()::bigint").await;
    (tx, pid)
}

async fn commit(mut tx: WriteTx, x: i64) {
    tx.conn()
        .execute_unprepared(&format!("INSERT INTO write_probe (x) VALUES ({x})"))
        .await
        .expect("insert");
    tx.audit(NewEvent::success("test/write", "probe", &x.to_string()));
    tx.commit().await.expect("commit");
}

/// The probe's committed rows, read outside the write connections.
async fn committed(store: &Store) -> Vec<i64> {
    store
        .reader()
        .query_all_raw(sql("SELECT x::bigint FROM write_probe ORDER BY x"))
        .await
        .expect("rows")
        .iter()
        .map(|r| r.try_get_by_index::<i64>(0).expect("x"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_write_connections_are_used_again_only_after_their_transaction_ended() {
    let t = TestServer::start(Db::Postgres).await;
    let store = t.store();
    store
        .reader()
        .execute_unprepared("CREATE TABLE write_probe (x INT PRIMARY KEY)")
        .await
        .expect("table");

    // A committed write gives its connection back for the next one, named
    // as the write connections are.
    let (tx, first) = begin(store).await;
    commit(tx, 1).await;
    let (tx, pid) = begin(store).await;
    assert_eq!(pid, first, "the idle connection is used again");
    let name = store
        .reader()
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT application_name FROM pg_stat_activity WHERE pid = $1",
            [(pid as i32).into()],
        ))
        .await
        .expect("activity")
        .expect("row")
        .try_get_by_index::<String>(0)
        .expect("name");
    assert_eq!(name, "naskah writes");

    // Dropped halfway (a cancelled request): rolled back before the
    // connection serves the next write, which therefore sees nothing of it
    // (the same session would see its own uncommitted row).
    tx.conn()
        .execute_unprepared("INSERT INTO write_probe (x) VALUES (2)")
        .await
        .expect("insert");
    drop(tx);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (tx, pid) = begin(store).await;
    assert_eq!(pid, first, "given back once rolled back");
    assert_eq!(
        int_in(&tx, "SELECT count(*)::bigint FROM write_probe WHERE x = 2").await,
        0
    );
    commit(tx, 3).await;
    assert_eq!(committed(store).await, vec![1, 3]);

    // A statement the server refuses aborts the transaction; rolled back, its
    // connection serves the next write.
    let (tx, pid) = begin(store).await;
    assert_eq!(pid, first);
    let dup = tx
        .conn()
        .execute_unprepared("INSERT INTO write_probe (x) VALUES (1)")
        .await;
    assert!(dup.is_err(), "a duplicate key");
    tx.rollback().await;
    let (tx, pid) = begin(store).await;
    assert_eq!(pid, first);
    commit(tx, 4).await;

    // The server closes every write connection (as a restart or an
    // administrator would): the next write begins on a new one.
    store
        .reader()
        .execute_unprepared(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'naskah writes'",
        )
        .await
        .expect("terminate");
    let (tx, pid) = begin(store).await;
    assert_ne!(pid, first, "a new connection");
    commit(tx, 5).await;
    assert_eq!(committed(store).await, vec![1, 3, 4, 5]);
    let chain = store.verify_audit().await.expect("verify");
    assert!(chain.broken.is_none(), "{chain:?}");
    t.stop().await;
}
