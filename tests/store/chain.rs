//! The write transaction and the audit chain it appends to: concurrent
//! writers of one and of two servers, group commit, writes refused or failing
//! in a group, deferred writes in order. Each through `WriteTx`, the store's
//! one way to write (`test-hooks` for raw statements), on both databases.

use naskah::audit::NewEvent;
use naskah::clock::SystemClock;
use naskah_testkit::dual;
use naskah_testkit::{Db, TestServer};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};

async fn raw(t: &TestServer) -> DatabaseConnection {
    Database::connect(t.db_url.clone())
        .await
        .expect("raw connection")
}

/// A test server and a connection of its own to its database, after `sql`
/// (tables of the test's own, their first rows) ran on it.
/// A server whose writers commit on one lane (as a SQLite file's always do),
/// so that writers queued behind one another share its groups on both
/// engines, with tables of the test's own.
async fn with_test_tables(db: Db, sql: &[&str]) -> (TestServer, DatabaseConnection) {
    let t = TestServer::start_with(db, std::sync::Arc::new(SystemClock), |c| {
        c.write_lanes = 1;
    })
    .await;
    let conn = raw(&t).await;
    for st in sql {
        conn.execute_unprepared(st).await.expect("test tables");
    }
    (t, conn)
}

/// The seeded administrator's account as stored now.
async fn admin_user(t: &TestServer) -> naskah::store::identity::UserRecord {
    naskah::store::identity::user_by_username(t.store().reader(), "admin")
        .await
        .expect("q")
        .expect("admin")
}

/// The resource ids of the events of `action` after seq `before`, sorted.
async fn resources_of_events_after(
    conn: &DatabaseConnection,
    before: i64,
    action: &str,
) -> Vec<String> {
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            format!(
                "SELECT resource_id FROM audit_event WHERE seq > {before} \
                 AND action = '{action}' ORDER BY resource_id"
            ),
        ))
        .await
        .expect("events");
    let mut ids: Vec<String> = rows
        .iter()
        .map(|r| r.try_get::<String>("", "resource_id").expect("id"))
        .collect();
    ids.sort();
    ids
}

/// A second, independent store on the test's database: a second server.
async fn second_store(t: &TestServer, max_connections: u32) -> naskah::store::Store {
    naskah::store::Store::connect(
        &naskah::store::StoreOptions {
            url: t.db_url.clone(),
            max_connections,
            groups: Default::default(),
        },
        std::sync::Arc::new(naskah::clock::SystemClock),
    )
    .await
    .expect("second store")
}

async fn concurrent_writers_keep_one_valid_chain(db: Db) {
    let t = TestServer::start(db).await;
    let other = second_store(&t, 4).await;
    let before = naskah::store::audit::last_seq(t.store().reader())
        .await
        .expect("seq");
    let mut tasks = Vec::new();
    for i in 0..48 {
        let store = if i % 2 == 0 {
            t.store().clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            // As `mutate` does: a writer whose group failed as a whole (a
            // lock wait over the shared groups' limit, with the other
            // store's groups holding the chain's head) runs again alone.
            let mut alone = false;
            loop {
                let mut tx = if alone {
                    store.begin_write().await.expect("tx")
                } else {
                    store.begin_write_grouped().await.expect("tx")
                };
                tx.audit(NewEvent::success(
                    "test/concurrent",
                    "thing",
                    &format!("c-{i}"),
                ));
                tx.audit(NewEvent::success(
                    "test/concurrent",
                    "thing",
                    &format!("c-{i}-second"),
                ));
                match tx.commit().await {
                    Ok(seqs) => break seqs,
                    Err(e) if !alone && e.retry_alone() => alone = true,
                    Err(e) => panic!("commit: {e}"),
                }
            }
        }));
    }
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.extend(task.await.expect("task"));
    }
    seqs.sort_unstable();
    let expected: Vec<i64> = (before + 1..=before + 96).collect();
    assert_eq!(
        seqs, expected,
        "every event got its own place, without gaps"
    );
    // Ranges of 7 events: the chain is checked in many pieces, joined at their ends.
    let report = t.store().verify_audit_in_ranges(7).await.expect("verify");
    assert_eq!(report.broken, None);
    assert_eq!(report.checked, before + 96);
    other.close().await.expect("close");
    t.stop().await;
}
dual!(concurrent_writers_keep_one_valid_chain);

/// Two servers taking turns: each write finds the head moved by the other
/// since its own server's last append (on PostgreSQL a server links to the head
/// its last append left when that is still the head, and must notice when it
/// is not), and a server that wrote last links to its own head again.
async fn writers_of_two_servers_taking_turns_link_to_the_head_each_finds(db: Db) {
    let t = TestServer::start(db).await;
    let other = second_store(&t, 2).await;
    let before = naskah::store::audit::last_seq(t.store().reader())
        .await
        .expect("seq");
    let stores = [t.store().clone(), other.clone()];
    // Turns: this server twice, the other, this, the other twice, this.
    let mut seqs = Vec::new();
    for (i, s) in [0, 0, 1, 0, 1, 1, 0].into_iter().enumerate() {
        let mut tx = stores[s].begin_write().await.expect("tx");
        tx.audit(NewEvent::success("test/turns", "thing", &format!("t-{i}")));
        tx.audit(NewEvent::success(
            "test/turns",
            "thing",
            &format!("t-{i}-b"),
        ));
        seqs.push(tx.commit().await.expect("commit"));
    }
    let expected: Vec<Vec<i64>> = (0..7)
        .map(|i| vec![before + 2 * i + 1, before + 2 * i + 2])
        .collect();
    assert_eq!(seqs, expected, "each write's events follow the one before");
    let report = t.store().verify_audit_in_ranges(3).await.expect("verify");
    assert_eq!(report.broken, None);
    assert_eq!(report.checked, before + 14);
    let conn = raw(&t).await;
    let head = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT last_seq FROM audit_head WHERE id = 1",
        ))
        .await
        .expect("head")
        .expect("the head row")
        .try_get::<i64>("", "last_seq")
        .expect("last seq");
    assert_eq!(head, before + 14, "the head moved with the last append");
    conn.close().await.expect("close");
    other.close().await.expect("close");
    t.stop().await;
}
dual!(writers_of_two_servers_taking_turns_link_to_the_head_each_finds);

/// Many writers of one server at once: on PostgreSQL each links to the head
/// the append before it left, that writer's commit perhaps still on its way
/// (the next append waits for it on the head's row in the database, then finds
/// the head it guessed): every guess hits, none reads the head.
/// Concurrent writers commit in groups whose events take consecutive places
/// in the chain; on PostgreSQL each group's append links to the head the
/// group before it left, while that group commits.
async fn writers_of_one_server_commit_in_groups_linked_to_the_append_before_theirs(db: Db) {
    let t = TestServer::start(db).await;
    let before = naskah::store::audit::last_seq(t.store().reader())
        .await
        .expect("seq");
    let write = |store: naskah::store::Store, name: String| async move {
        let mut tx = store.begin_write_grouped().await.expect("tx");
        tx.audit(NewEvent::success("test/queue", "thing", &name));
        tx.commit().await.expect("commit")
    };
    // The first append of the store reads the head; the others may guess.
    write(t.store().clone(), "first".into()).await;
    let (guesses_before, hits_before) = t.store().audit_guesses().await;
    let (groups_before, members_before) = t.store().write_groups();
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let store = t.store().clone();
            tokio::spawn(async move {
                let mut seqs = Vec::new();
                for j in 0..4 {
                    seqs.extend(write(store.clone(), format!("w-{i}-{j}")).await);
                }
                seqs
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.extend(task.await.expect("task"));
    }
    seqs.sort_unstable();
    let expected: Vec<i64> = (before + 2..=before + 129).collect();
    assert_eq!(seqs, expected, "every event got its own place");
    let (groups, members) = t.store().write_groups();
    let (groups, members) = (groups - groups_before, members - members_before);
    assert_eq!(members, 128, "every writer committed in a group");
    assert!(
        groups < members,
        "some writers shared a group: {groups} groups"
    );
    let (guesses, hits) = t.store().audit_guesses().await;
    let (guesses, hits) = (guesses - guesses_before, hits - hits_before);
    match db {
        Db::Sqlite => assert_eq!((guesses, hits), (0, 0), "SQLite reads the head"),
        Db::Postgres => {
            assert_eq!(guesses, groups, "every group's append guessed");
            assert_eq!(hits, guesses, "and every guess hit");
        }
    }
    let report = t.store().verify_audit().await.expect("verify");
    assert_eq!(report.broken, None);
    assert_eq!(report.checked, before + 129);
    t.stop().await;
}
dual!(writers_of_one_server_commit_in_groups_linked_to_the_append_before_theirs);

async fn a_write_without_an_audit_event_is_refused_and_rolled_back(db: Db) {
    let t = TestServer::start(db).await;
    let before = naskah::store::audit::last_seq(t.store().reader())
        .await
        .expect("seq");
    let tx = t.store().begin_write().await.expect("tx");
    tx.raw_conn()
        .execute_unprepared("UPDATE app_user SET full_name = 'changed' WHERE username = 'admin'")
        .await
        .expect("update");
    let err = tx.commit().await.unwrap_err();
    assert!(
        matches!(err, naskah::store::StoreError::Unaudited),
        "{err:?}"
    );
    let admin = admin_user(&t).await;
    assert_eq!(
        admin.full_name, "Administrator",
        "the change was rolled back"
    );
    assert_eq!(
        naskah::store::audit::last_seq(t.store().reader())
            .await
            .expect("seq"),
        before
    );
    // The rolled-back transaction let go of the write lock: the next write
    // commits, and the change above is still not there.
    t.append_audit_events(1).await;
    let admin = admin_user(&t).await;
    assert_eq!(admin.full_name, "Administrator");
    t.stop().await;
}
dual!(a_write_without_an_audit_event_is_refused_and_rolled_back);

async fn a_commit_that_fails_keeps_nothing_of_its_transaction(db: Db) {
    let t = TestServer::start(db).await;
    let before = naskah::store::audit::last_seq(t.store().reader())
        .await
        .expect("seq");
    let mut tx = t.store().begin_write().await.expect("tx");
    // A write that runs at once, then one that fails in the commit's round
    // trip (the chain head row already exists).
    tx.raw_conn()
        .execute_unprepared("UPDATE app_user SET full_name = 'changed' WHERE username = 'admin'")
        .await
        .expect("update");
    tx.raw_defer(Statement::from_string(
        tx.raw_backend(),
        "INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, 0, '')",
    ));
    tx.audit(NewEvent::success("test/failing", "thing", "failing"));
    let err = tx.commit().await.unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");
    // The next write commits at once after it (the failed one let go of the
    // lock), and of the failed one nothing is kept: not its update, not its event.
    t.append_audit_events(1).await;
    let admin = admin_user(&t).await;
    assert_eq!(
        admin.full_name, "Administrator",
        "the update was rolled back"
    );
    assert_eq!(
        naskah::store::audit::last_seq(t.store().reader())
            .await
            .expect("seq"),
        before + 1,
        "only the next write's event was appended"
    );
    let report = t.store().verify_audit().await.expect("verify");
    assert_eq!(report.broken, None);
    assert_eq!(report.checked, before + 1);
    t.stop().await;
}
dual!(a_commit_that_fails_keeps_nothing_of_its_transaction);

/// Concurrent writers, every third of which fails after a write of its own
/// (its commit's last statement breaks a unique key, or it is dropped, or it
/// rolls back): they share group transactions with the others, and none may
/// take anything of the others with it or leave anything behind.
async fn failing_writers_among_concurrent_ones_change_nothing(db: Db) {
    let t = TestServer::start(db).await;
    let before = naskah::store::audit::last_seq(t.store().reader())
        .await
        .expect("seq");
    let mut tasks = Vec::new();
    for i in 0..36 {
        let store = t.store().clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = store.begin_write_grouped().await.expect("tx");
            let name = format!("writer-{i}");
            tx.raw_conn()
                .execute_unprepared(&format!(
                    "UPDATE app_user SET full_name = '{name}' WHERE username = 'admin'"
                ))
                .await
                .expect("update");
            tx.audit(NewEvent::success("test/group", "thing", &name));
            match i % 6 {
                1 => {
                    tx.raw_defer(Statement::from_string(
                        tx.raw_backend(),
                        "INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, 0, '')",
                    ));
                    let err = tx.commit().await.unwrap_err();
                    assert!(err.is_unique_violation(), "{err:?}");
                    false
                }
                3 => {
                    drop(tx);
                    false
                }
                5 => {
                    tx.rollback().await;
                    false
                }
                _ => {
                    tx.commit().await.expect("commit");
                    true
                }
            }
        }));
    }
    let mut committed = 0;
    for task in tasks {
        if task.await.expect("task") {
            committed += 1;
        }
    }
    assert_eq!(committed, 18);
    // One more write after them all: it waits for any rollback still running.
    t.append_audit_events(1).await;
    let report = t.store().verify_audit().await.expect("verify");
    assert_eq!(report.broken, None);
    assert_eq!(report.checked, before + 19);
    let conn = raw(&t).await;
    let kept = resources_of_events_after(&conn, before, "test/group").await;
    let mut expected: Vec<String> = (0..36)
        .filter(|i| i % 2 == 0)
        .map(|i| format!("writer-{i}"))
        .collect();
    expected.sort();
    assert_eq!(
        kept, expected,
        "the events of exactly the committed writers"
    );
    // The user's name is the last committed writer's, never a failed one's.
    let admin = admin_user(&t).await;
    let last_committed = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            format!(
                "SELECT resource_id FROM audit_event WHERE seq > {before} \
                 AND action = 'test/group' ORDER BY seq DESC LIMIT 1"
            ),
        ))
        .await
        .expect("q")
        .expect("row")
        .try_get::<String>("", "resource_id")
        .expect("id");
    assert_eq!(admin.full_name, last_committed);
    conn.close().await.expect("close");
    t.stop().await;
}
dual!(failing_writers_among_concurrent_ones_change_nothing);

/// A commit that fails after the writers' statements all succeeded (a
/// deferred foreign key checked only at COMMIT) fails its whole group: each
/// writer that shared it is told so ([`StoreError::retry_alone`]) and keeps
/// nothing, and run again alone it commits; the failing writer's work, run
/// alone, fails again as its own failure. Exactly the writers told they
/// committed keep their rows and events, and the chain verifies.
async fn a_group_whose_commit_fails_is_retried_member_by_member(db: Db) {
    let (t, conn) = with_test_tables(
        db,
        &[
            "CREATE TABLE t_parent (id INTEGER PRIMARY KEY)",
            "CREATE TABLE t_child (id INTEGER PRIMARY KEY, parent INTEGER \
             REFERENCES t_parent (id) DEFERRABLE INITIALLY DEFERRED)",
        ],
    )
    .await;
    let before = naskah::store::audit::last_seq(t.store().reader())
        .await
        .expect("seq");
    let write = |store: naskah::store::Store, i: i64, parent: i64, alone: bool| async move {
        let mut tx = if alone {
            store.begin_write().await
        } else {
            store.begin_write_grouped().await
        }
        .expect("tx");
        let parent = if parent == 0 {
            "NULL".to_owned()
        } else {
            parent.to_string()
        };
        tx.raw_conn()
            .execute_unprepared(&format!(
                "INSERT INTO t_child (id, parent) VALUES ({i}, {parent})"
            ))
            .await
            .expect("insert (the key is checked at commit)");
        tx.audit(NewEvent::success("test/late", "thing", &format!("w-{i}")));
        tx.commit().await.map(drop)
    };
    // The failing writer takes the turn first and keeps it while the others
    // queue behind it, so that they join its group. On PostgreSQL the next
    // group links to the head the failing group's append left, which its
    // failed commit takes back: that guess must miss.
    let (began, mut queued) = (std::sync::Arc::new(tokio::sync::Notify::new()), Vec::new());
    let failing = {
        let (store, began) = (t.store().clone(), began.clone());
        tokio::spawn(async move {
            let mut tx = store.begin_write_grouped().await.expect("tx");
            began.notify_one();
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            tx.raw_conn()
                .execute_unprepared("INSERT INTO t_child (id, parent) VALUES (0, 999)")
                .await
                .expect("insert (the key is checked at commit)");
            tx.audit(NewEvent::success("test/late", "thing", "w-0"));
            tx.commit().await.map(drop)
        })
    };
    began.notified().await;
    let (guesses_before, hits_before) = t.store().audit_guesses().await;
    for i in 1..=8 {
        queued.push(tokio::spawn(write(t.store().clone(), i, 0, false)));
    }
    let failed = failing
        .await
        .expect("task")
        .expect_err("the failing writer fails");
    assert!(failed.retry_alone(), "its group was shared: {failed:?}");
    let mut ok = Vec::new();
    let mut shared = 0;
    for (i, task) in (1..=8).zip(queued) {
        match task.await.expect("task") {
            Ok(()) => {}
            Err(e) => {
                assert!(e.retry_alone(), "w-{i} is told to run alone: {e:?}");
                shared += 1;
                write(t.store().clone(), i, 0, true)
                    .await
                    .expect("run alone, it commits");
            }
        }
        ok.push(format!("w-{i}"));
    }
    assert!(shared > 0, "some writers shared the failed group");
    // Alone, the failing work fails again, and as its own failure.
    let alone = write(t.store().clone(), 0, 999, true)
        .await
        .expect_err("the failing work fails alone too");
    assert!(!alone.retry_alone(), "alone, it is not retried: {alone:?}");
    // The store goes on: the next write commits.
    write(t.store().clone(), 100, 0, false)
        .await
        .expect("the next write commits");
    if db == Db::Postgres {
        let (guesses, hits) = t.store().audit_guesses().await;
        // The failed group's and the failing work's alone: each left a head
        // its failed commit took back.
        assert_eq!(
            guesses - guesses_before,
            hits - hits_before + 2,
            "the guesses after the two failed commits missed, the others hit"
        );
    }
    ok.push("w-100".to_owned());
    let kept = resources_of_events_after(&conn, before, "test/late").await;
    ok.sort();
    assert_eq!(kept, ok, "the events of exactly the writers that committed");
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT CAST(id AS BIGINT) FROM t_child ORDER BY id",
        ))
        .await
        .expect("rows");
    let mut children: Vec<String> = rows
        .iter()
        .map(|r| format!("w-{}", r.try_get_by_index::<i64>(0).expect("id")))
        .collect();
    children.sort();
    assert_eq!(
        children, ok,
        "the rows of exactly the writers that committed"
    );
    let report = t.store().verify_audit().await.expect("verify");
    assert_eq!(report.broken, None);
    assert_eq!(report.checked, before + ok.len() as i64);
    conn.close().await.expect("close");
    t.stop().await;
}
dual!(a_group_whose_commit_fails_is_retried_member_by_member);

/// The writes a transaction defers (on PostgreSQL sent together, several in
/// one statement) land in their order: a row deleted and put again, a row
/// written by one and read by a later statement of the transaction; and an
/// update guarded by a revision, sent with them, reports whether it changed
/// its row, the same on both engines (a stale revision changes nothing).
async fn deferred_writes_land_in_order_and_a_guarded_update_still_counts(db: Db) {
    let (t, conn) = with_test_tables(
        db,
        &[
            "CREATE TABLE t_rev (id INTEGER PRIMARY KEY, revision INTEGER NOT NULL)",
            "CREATE TABLE t_item (id INTEGER PRIMARY KEY, note TEXT NOT NULL)",
            "CREATE TABLE t_log (id INTEGER PRIMARY KEY, note TEXT NOT NULL)",
            "INSERT INTO t_rev (id, revision) VALUES (1, 1)",
            "INSERT INTO t_item (id, note) VALUES (1, 'old')",
        ],
    )
    .await;
    let backend = conn.get_database_backend();
    let st = |sql: &str| Statement::from_string(backend, sql);
    let notes = |table: &'static str| {
        let conn = conn.clone();
        async move {
            conn.query_all_raw(Statement::from_string(
                conn.get_database_backend(),
                format!("SELECT note FROM {table} ORDER BY id"),
            ))
            .await
            .expect("rows")
            .iter()
            .map(|r| r.try_get::<String>("", "note").expect("note"))
            .collect::<Vec<_>>()
        }
    };

    // A stale revision: the guarded update changes nothing, and both engines
    // say so (PostgreSQL although it went with the writes before it).
    let mut tx = t.store().begin_write().await.expect("tx");
    tx.raw_write(st("INSERT INTO t_log (id, note) VALUES (1, 'stale')"))
        .await
        .expect("deferred");
    let changed = tx
        .raw_write_one(st(
            "UPDATE t_rev SET revision = 2 WHERE id = 1 AND revision = 7",
        ))
        .await
        .expect("guarded");
    assert!(!changed, "a stale revision changes no row");
    tx.rollback().await;
    assert!(notes("t_log").await.is_empty(), "rolled back");

    // The right revision, with writes before and after it: a row deleted and
    // inserted again, another table, a write read back (the read meets the
    // writes held back before it without being asked to).
    let mut tx = t.store().begin_write().await.expect("tx");
    for sql in [
        "DELETE FROM t_item WHERE id = 1",
        "INSERT INTO t_item (id, note) VALUES (1, 'new')",
        "INSERT INTO t_log (id, note) VALUES (1, 'first')",
    ] {
        tx.raw_write(st(sql)).await.expect("deferred");
    }
    let changed = tx
        .raw_write_one(st(
            "UPDATE t_rev SET revision = 2 WHERE id = 1 AND revision = 1",
        ))
        .await
        .expect("guarded");
    assert!(changed, "the revision matched");
    tx.raw_write(st("UPDATE t_log SET note = 'second' WHERE id = 1"))
        .await
        .expect("deferred");
    tx.raw_write(st("INSERT INTO t_item (id, note) VALUES (2, 'added')"))
        .await
        .expect("deferred");
    let seen = tx
        .raw_conn()
        .query_one_raw(st("SELECT note FROM t_log WHERE id = 1"))
        .await
        .expect("read")
        .and_then(|r| r.try_get::<String>("", "note").ok());
    assert_eq!(
        seen.as_deref(),
        Some("second"),
        "a read meets the writes before it"
    );
    tx.audit(NewEvent::success("test/deferred", "thing", "t"));
    tx.commit().await.expect("commit");
    assert_eq!(notes("t_item").await, ["new", "added"]);
    assert_eq!(notes("t_log").await, ["second"]);
    let revision = conn
        .query_one_raw(st(
            "SELECT CAST(revision AS BIGINT) AS r FROM t_rev WHERE id = 1",
        ))
        .await
        .expect("q")
        .and_then(|r| r.try_get::<i64>("", "r").ok());
    assert_eq!(revision, Some(2));
    conn.close().await.expect("close");
    t.stop().await;
}
dual!(deferred_writes_land_in_order_and_a_guarded_update_still_counts);
