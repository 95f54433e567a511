//! PostgreSQL's write transactions run on connections of their own, without
//! the pool's round trip at every release: a connection is used again only
//! once its transaction has ended, a transaction dropped halfway (a cancelled
//! request) is rolled back before its connection is used again, and a write
//! whose idle connection the server had closed begins again on a new one.
//! A writer of a shared group gives up a long row-lock wait and runs again
//! alone, and a server stays within its connection bound. (SQLite's writes
//! have their own connection and no server to lose: see the group tests.)

use std::time::Duration;

use naskah::audit::NewEvent;
use naskah::store::{Store, WriteTx};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use naskah_testkit::{Db, TestServer};

fn sql(text: &str) -> Statement {
    Statement::from_string(DbBackend::Postgres, text)
}

/// One integer the transaction's connection answers to `text`.
async fn int_in(tx: &WriteTx, text: &str) -> i64 {
    tx.raw_conn()
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
    tx.raw_conn()
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
    tx.raw_conn()
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
        .raw_conn()
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

/// A writer in a shared group gives up a row lock it waited for past the
/// group's limit, as a conflict its caller runs again alone; alone, the same
/// change waits for the lock as long as it takes and commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grouped_writer_gives_up_a_long_lock_wait_and_alone_waits_it_out() {
    let t = TestServer::start(Db::Postgres).await;
    let store = t.store().clone();
    let other = sea_orm::Database::connect(t.db_url.as_str())
        .await
        .expect("other connection");
    other
        .execute_unprepared("CREATE TABLE lock_probe (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
        .await
        .expect("table");
    other
        .execute_unprepared("INSERT INTO lock_probe VALUES (1, 0)")
        .await
        .expect("row");
    // Another transaction holds the row.
    let holder = sea_orm::TransactionTrait::begin(&other)
        .await
        .expect("begin");
    holder
        .execute_unprepared("UPDATE lock_probe SET n = 100 WHERE id = 1")
        .await
        .expect("lock the row");
    let bump = "UPDATE lock_probe SET n = n + 1 WHERE id = 1";

    let started = std::time::Instant::now();
    let tx = store.begin_write_grouped().await.expect("begin grouped");
    let err = tx
        .raw_conn()
        .execute_unprepared(bump)
        .await
        .expect_err("the grouped writer gives up the wait");
    let err = naskah::store::StoreError::from(err);
    assert!(
        err.retry_alone(),
        "a lock wait given up is run again alone: {err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "it gave up long before a deadlock check would: {:?}",
        started.elapsed()
    );
    tx.rollback().await;

    // Alone, the change waits for the holder and commits after it.
    let mut tx = store.begin_write().await.expect("begin alone");
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        holder.commit().await.expect("holder commits");
    });
    tx.raw_conn()
        .execute_unprepared(bump)
        .await
        .expect("alone, it waits for the lock");
    tx.audit(NewEvent::success("test/lock", "probe", "1"));
    tx.commit().await.expect("commit");
    release.await.expect("holder task");
    let n = store
        .reader()
        .query_one_raw(sql("SELECT n::bigint FROM lock_probe WHERE id = 1"))
        .await
        .expect("read")
        .expect("row")
        .try_get_by_index::<i64>(0)
        .expect("n");
    assert_eq!(n, 101, "the holder's change, then the alone writer's");
    let report = store.verify_audit().await.expect("verify");
    assert_eq!(report.broken, None);
    other.close().await.expect("close");
    t.stop().await;
}

/// Under a load of concurrent writes and reads, a server opens at most
/// `max(db_max_connections, 2) + write_lanes` PostgreSQL connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_opens_at_most_its_connections_and_its_lanes() {
    use naskah::proto::letter_service_client::LetterServiceClient;
    use naskah::proto::{self as pb, SecurityLevel};

    let t = TestServer::start_full(
        Db::Postgres,
        std::sync::Arc::new(naskah::clock::SystemClock),
        true,
        |c| {
            c.db_max_connections = 4;
            c.write_lanes = 3;
        },
    )
    .await;
    let d = naskah_testkit::demo::Demo::login(&t, &["kasi.egov", "kadis.kominfo"]).await;
    // One connection of its own, which the count leaves out (a pool of
    // several could open a second one while the first is on its way back,
    // and count it).
    let mut options = sea_orm::ConnectOptions::new(t.db_url.as_str());
    options.max_connections(1);
    let observer = sea_orm::Database::connect(options).await.expect("observer");
    let most = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
    let watching = {
        let (observer, most) = (observer.clone(), most.clone());
        tokio::spawn(async move {
            loop {
                let n = observer
                    .query_one_raw(sql("SELECT COUNT(*)::bigint FROM pg_stat_activity \
                         WHERE datname = current_database() AND pid <> pg_backend_pid()"))
                    .await
                    .expect("count")
                    .expect("row")
                    .try_get_by_index::<i64>(0)
                    .expect("n");
                most.fetch_max(n, std::sync::atomic::Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let mut tasks = Vec::new();
    for i in 0..32 {
        let (channel, token, to) = (
            t.channel.clone(),
            d.token("kasi.egov").to_owned(),
            d.pos("kadis.kominfo"),
        );
        let from = d.pos("kasi.egov");
        tasks.push(tokio::spawn(async move {
            let mut client = LetterServiceClient::new(channel);
            for j in 0..10 {
                let letter = client
                    .create_draft(naskah_testkit::authed(
                        pb::CreateDraftRequest {
                            drafting_position_id: from.clone(),
                            r#type: pb::LetterType::NotaDinas as i32,
                            subject: format!("Beban {i}-{j}"),
                            body: "Isi.".into(),
                            security_level: SecurityLevel::Biasa as i32,
                            urgency: pb::Urgency::Biasa as i32,
                            classification_code: "000.1.2".into(),
                            recipients: vec![pb::Addressee {
                                target: Some(pb::addressee::Target::PositionId(to.clone())),
                                ..Default::default()
                            }],
                            ..Default::default()
                        },
                        &token,
                    ))
                    .await
                    .expect("create")
                    .into_inner();
                client
                    .get_letter(naskah_testkit::authed(
                        pb::GetLetterRequest {
                            letter_id: letter.id,
                            ..Default::default()
                        },
                        &token,
                    ))
                    .await
                    .expect("get");
            }
        }));
    }
    for task in tasks {
        task.await.expect("client");
    }
    watching.abort();
    let most = most.load(std::sync::atomic::Ordering::SeqCst);
    assert!(most >= 2, "the load used connections: {most}");
    assert!(
        most <= 4 + 3,
        "at most db_max_connections + write_lanes: {most}"
    );
    observer.close().await.expect("close");
    t.stop().await;
}

/// The writes a transaction holds back are joined into one statement on
/// PostgreSQL (`pg_batch`) only because no statement writes a table that
/// another statement of its batch writes. A trigger, or a foreign key that
/// cascades or sets values on delete or update, would write tables the
/// statement does not name: the schema must have none, on either engine.
async fn the_schema_has_no_triggers_and_no_cascading_keys(db: Db) {
    let t = TestServer::start(db).await;
    let conn = sea_orm::Database::connect(t.db_url.as_str())
        .await
        .expect("connect");
    let count = async |text: &str| -> i64 {
        conn.query_one_raw(Statement::from_string(conn.get_database_backend(), text))
            .await
            .expect("catalog")
            .expect("row")
            .try_get_by_index::<i64>(0)
            .expect("n")
    };
    let (trigger_sql, cascading_sql) = match db {
        Db::Postgres => (
            "SELECT COUNT(*)::bigint FROM pg_trigger WHERE NOT tgisinternal",
            "SELECT COUNT(*)::bigint FROM pg_constraint WHERE contype = 'f' \
             AND (confdeltype NOT IN ('a', 'r') OR confupdtype NOT IN ('a', 'r'))",
        ),
        Db::Sqlite => (
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'",
            "SELECT COUNT(*) FROM sqlite_master AS m, pragma_foreign_key_list(m.name) AS f \
             WHERE m.type = 'table' AND (f.on_delete NOT IN ('NO ACTION', 'RESTRICT') \
             OR f.on_update NOT IN ('NO ACTION', 'RESTRICT'))",
        ),
    };
    assert_eq!(count(trigger_sql).await, 0, "the schema has triggers");
    assert_eq!(
        count(cascading_sql).await,
        0,
        "the schema has cascading foreign keys"
    );
    // The check sees what it looks for: a cascading key of the test's own is
    // found.
    conn.execute_unprepared(
        "CREATE TABLE t_parent_probe (id INTEGER PRIMARY KEY); \
         CREATE TABLE t_child_probe (id INTEGER PRIMARY KEY, \
         parent INTEGER REFERENCES t_parent_probe (id) ON DELETE CASCADE)",
    )
    .await
    .expect("probe tables");
    let cascading_after = count(cascading_sql).await;
    assert_eq!(cascading_after, 1, "the check finds a cascading key");
    conn.close().await.expect("close");
    t.stop().await;
}
naskah_testkit::dual!(the_schema_has_no_triggers_and_no_cascading_keys);

/// Through the server: a change whose grouped attempt gives up a row lock
/// held elsewhere is run again alone by `mutate`, waits for the lock and
/// succeeds, instead of answering a conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_blocked_by_a_row_lock_runs_again_alone_and_succeeds() {
    use naskah::proto::{self as pb, SecurityLevel};

    let t = TestServer::start_demo(Db::Postgres).await;
    let d = naskah_testkit::demo::Demo::login(&t, &["kasi.egov", "kadis.kominfo"]).await;
    let letter = naskah_testkit::demo::draft(
        &t,
        &d,
        "kasi.egov",
        &["kadis.kominfo"],
        &[],
        SecurityLevel::Biasa,
        "000.1.2",
    )
    .await;
    let other = sea_orm::Database::connect(t.db_url.as_str())
        .await
        .expect("other connection");
    let holder = sea_orm::TransactionTrait::begin(&other)
        .await
        .expect("begin");
    holder
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 FROM letter WHERE id = $1 FOR UPDATE",
            [letter.id.clone().into()],
        ))
        .await
        .expect("lock the letter's row");
    let update = tokio::spawn({
        let (mut client, token, id, etag) = (
            naskah_testkit::demo::letters(&t),
            d.token("kasi.egov").to_owned(),
            letter.id.clone(),
            letter.etag.clone(),
        );
        async move {
            client
                .update_draft(naskah_testkit::authed(
                    pb::UpdateDraftRequest {
                        letter: Some(pb::Letter {
                            id,
                            body: "Isi yang diperbarui.".into(),
                            ..Default::default()
                        }),
                        update_mask: Some(prost_types::FieldMask {
                            paths: vec!["body".into()],
                        }),
                        etag,
                        request_id: String::new(),
                    },
                    &token,
                ))
                .await
        }
    });
    // Well past the grouped attempt's 50 ms: it gave up and the alone run
    // waits.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!update.is_finished(), "the change waits for the lock");
    holder.commit().await.expect("holder commits");
    let answer = tokio::time::timeout(Duration::from_secs(10), update)
        .await
        .expect("answered once the lock is free")
        .expect("task")
        .expect("the change succeeds");
    assert_eq!(answer.into_inner().body, "Isi yang diperbarui.");
    other.close().await.expect("close");
    t.stop().await;
}

/// Every file under `dir` ending in `.rs`, with its text.
fn sources(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, String)>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("read source");
            out.push((path, text));
        }
    }
}

/// The lines of `text` that are code: comments dropped.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter_map(|(i, line)| {
        let code = line.split("//").next().unwrap_or("");
        (!code.trim().is_empty()).then_some((i + 1, code))
    })
}

/// The domain and the handlers say what to read and write, never how: they
/// reach the database only through the repository functions of
/// `src/store/*.rs`, with a `WriteTx` or the `Store` (the trait that hands
/// out the connection behind them is private to `store`). No connection,
/// statement, driver or backend appears in them, and only the engine knows a
/// driver.
#[test]
fn the_domain_and_the_handlers_reach_the_database_only_through_the_store() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let forbidden = [
        "sea_orm",
        "sqlx",
        "rusqlite",
        "Statement",
        "ConnectionTrait",
        "DbBackend",
        ".conn()",
        ".reader()",
        "db_backend",
        "write_one",
        "raw_conn",
        "raw_defer",
        "raw_write",
        "execute_unprepared",
    ];
    let mut above = Vec::new();
    for layer in ["domain", "api"] {
        sources(&root.join(layer), &mut above);
    }
    assert!(above.len() > 20, "the domain and api sources were found");
    let mut found = Vec::new();
    // A name is found where it begins a word (`SignedStatement`, a message of
    // the contract, is not sea-orm's `Statement`).
    let names = |code: &str, word: &str| {
        code.match_indices(word).any(|(at, _)| {
            !word.starts_with(|c: char| c.is_alphanumeric())
                || !code[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    };
    for (path, text) in &above {
        for (n, code) in code_lines(text) {
            for word in forbidden {
                if names(code, word) {
                    found.push(format!("{}:{n}: {word}", path.display()));
                }
            }
        }
    }
    assert!(found.is_empty(), "the store's business: {found:#?}");

    // Drivers are the engine's alone (the benchmark, a crate of its own in
    // benches/, seeds its databases with its own connections).
    let mut all = Vec::new();
    sources(&root, &mut all);
    let engine = root.join("store").join("engine");
    let mut drivers = Vec::new();
    for (path, text) in &all {
        if path.starts_with(&engine) {
            continue;
        }
        for (n, code) in code_lines(text) {
            for word in ["rusqlite::", "sqlx::", "libsqlite3_sys", "libmimalloc_sys"] {
                if code.contains(word) {
                    drivers.push(format!("{}:{n}: {word}", path.display()));
                }
            }
        }
    }
    assert!(
        drivers.is_empty(),
        "driver code outside the engine: {drivers:#?}"
    );
}
