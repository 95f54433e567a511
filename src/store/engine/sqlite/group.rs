//! Group commit of the write transactions of a SQLite file.
//!
//! A SQLite file has one writer at a time, so the server's writes queue for
//! the store's one write connection. A writer that takes its turn while the
//! transaction of the writer before it is still open (because more writers
//! were waiting) does its work inside that same transaction, under a savepoint
//! of its own, and hands the turn on; the writer that finds nobody waiting
//! behind it (or fills the group) commits for the whole group. Each writer's
//! answer waits for that commit, so an answer never reports a change that is
//! not durable. A writer that fails, or is dropped, rolls back to its savepoint
//! and takes nothing of the others with it; a failed commit fails every writer
//! of its group.
//!
//! Per write this saves the begin and the commit (statements run while every
//! other writer waits), and writes the pages that several writers share (the
//! tails of the tables and indexes, the chain head) to the log once per group
//! instead of once per write. The connection's statements run on the thread of
//! the writer that holds the turn ([`WriteConn`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DbErr, Statement};
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

use crate::store::engine::{ErrorKind, kind_of};
use crate::store::write_conn::{self, WriteConn};
use crate::store::{StoreError, StoreResult, audit};

/// The most writers committed together.
const MAX_GROUP: usize = 32;

/// How long a writer whose work waits in an open group waits for the group's
/// commit before it queues for a turn itself, to commit the group if nobody
/// else is left to (a writer that was waiting for its turn and gave up).
const STRAGGLER_WAIT: Duration = Duration::from_millis(100);

/// How long a group's begin waits for another process's write lock.
const BUSY_WAIT: Duration = Duration::from_secs(10);

/// How often it tries again meanwhile.
const BUSY_RETRY: Duration = Duration::from_millis(5);

/// The savepoint of one writer inside its group's transaction.
const SAVEPOINT: &str = "naskah_write";

/// How a group ended: committed, or the kind and reason of its failure.
type Outcome = Option<Result<(), (ErrorKind, String)>>;

/// An open group with other writers' work in it, to wait for.
type Pending = (u64, watch::Receiver<Outcome>);

/// The write connection of a SQLite file and its queue of writers.
#[derive(Clone, Debug)]
pub struct WriteQueue {
    conn: Arc<WriteConn>,
    state: Arc<Mutex<State>>,
    /// Writers queued for a turn.
    waiting: Arc<AtomicUsize>,
}

#[derive(Debug, Default)]
struct State {
    /// The group whose transaction is open on the connection.
    open: Option<Group>,
    next_id: u64,
    /// A writer was dropped where it could not roll back (outside a runtime):
    /// the open transaction holds its writes and must not commit.
    broken: bool,
}

#[derive(Debug)]
struct Group {
    id: u64,
    /// The chain head after the last writer's events.
    head: audit::Head,
    /// Writers whose work is in the transaction, waiting for its commit.
    members: usize,
    done: watch::Sender<Outcome>,
}

/// A place in the queue, counted until the turn is taken or given up.
struct Queued(Arc<AtomicUsize>);

impl Queued {
    fn new(waiting: &Arc<AtomicUsize>) -> Self {
        waiting.fetch_add(1, Ordering::SeqCst);
        Self(waiting.clone())
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn group_failed((kind, why): (ErrorKind, String)) -> StoreError {
    let message = format!("the write group did not commit: {why}");
    if kind == ErrorKind::ConnectionLost {
        StoreError::Unavailable(message)
    } else {
        StoreError::Failed { kind, message }
    }
}

impl WriteQueue {
    /// The queue of the write connection `conn`.
    pub(in crate::store) fn new(conn: WriteConn) -> Self {
        Self {
            conn: Arc::new(conn),
            state: Arc::default(),
            waiting: Arc::default(),
        }
    }

    /// Waits for the turn.
    async fn turn(&self) -> OwnedMutexGuard<State> {
        let queued = Queued::new(&self.waiting);
        let mut state = self.state.clone().lock_owned().await;
        drop(queued);
        if state.broken {
            state.broken = false;
            if let Some(g) = state.open.take() {
                let _ = self.conn.execute_unprepared("ROLLBACK").await;
                g.done.send_replace(Some(Err((
                    ErrorKind::Other,
                    "a writer of the group was lost".into(),
                ))));
            }
        }
        state
    }

    fn nobody_waits(&self) -> bool {
        self.waiting.load(Ordering::SeqCst) == 0
    }

    /// Takes a turn: joins the open group or begins a new one (`BEGIN
    /// IMMEDIATE`, this writer's savepoint and the chain head's read in one
    /// round trip). Returns the writer and the chain head it appends after.
    pub(in crate::store) async fn begin(&self) -> StoreResult<(Writer, audit::Head)> {
        let mut state = self.turn().await;
        let (head, savepoint) = match &state.open {
            Some(g) => (g.head.clone(), false),
            None => {
                let head = self.begin_group().await?;
                state.next_id += 1;
                state.open = Some(Group {
                    id: state.next_id,
                    head: head.clone(),
                    members: 0,
                    done: watch::channel(None).0,
                });
                (head, true)
            }
        };
        let writer = Writer {
            queue: self.clone(),
            state: Some(state),
            savepoint: AtomicBool::new(savepoint),
        };
        Ok((writer, head))
    }

    /// Begins the transaction. One left open on the connection (a begin
    /// whose request was dropped before its answer) is rolled back first and
    /// the begin tried once more. While another process holds SQLite's write
    /// lock the begin is tried again every few milliseconds, for up to
    /// [`BUSY_WAIT`], without holding up the thread.
    async fn begin_group(&self) -> StoreResult<audit::Head> {
        let deadline = tokio::time::Instant::now() + BUSY_WAIT;
        let mut tries = 0;
        loop {
            match audit::begin_and_lock_head_sqlite(&*self.conn, SAVEPOINT).await {
                Ok(head) => return Ok(head),
                Err(e) => {
                    // Whatever failed, no transaction stays open behind it.
                    let _ = self.conn.execute_unprepared("ROLLBACK").await;
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

    /// Ends the group: commits it (nothing to commit when no writer's work is
    /// in it) and tells its writers.
    async fn close_group(&self, g: Group) {
        let outcome = if g.members == 0 {
            let _ = self.conn.execute_unprepared("ROLLBACK").await;
            Ok(())
        } else {
            match self.conn.execute_unprepared("COMMIT").await {
                Ok(_) => Ok(()),
                Err(e) => {
                    let _ = self.conn.execute_unprepared("ROLLBACK").await;
                    Err((kind_of(&e), e.to_string()))
                }
            }
        };
        g.done.send_replace(Some(outcome));
    }

    /// A writer leaves without its work: back to its savepoint (if it took
    /// one), then the group goes on with the next writer, or is committed
    /// when nobody waits. When the savepoint is gone the transaction is too
    /// (or its commit failed): the whole group has failed. Returns the group
    /// when it goes on with other writers' work in it.
    async fn leave(&self, mut state: OwnedMutexGuard<State>, savepoint: bool) -> Option<Pending> {
        let undone = !savepoint
            || self
                .conn
                .execute_unprepared(&format!("ROLLBACK TO {SAVEPOINT}; RELEASE {SAVEPOINT}"))
                .await
                .is_ok();
        let g = state.open.take()?;
        if !undone {
            let _ = self.conn.execute_unprepared("ROLLBACK").await;
            g.done.send_replace(Some(Err((
                ErrorKind::Other,
                "its transaction ended in an error".into(),
            ))));
            None
        } else if self.nobody_waits() {
            self.close_group(g).await;
            None
        } else {
            let pending = (g.members > 0).then(|| (g.id, g.done.subscribe()));
            state.open = Some(g);
            pending
        }
    }

    /// Runs a writer's last batch (its savepoint's release at the end, and
    /// the commit when it is the group's last writer). `None` when it
    /// committed, else the group to wait for.
    async fn end_writer(
        self,
        mut state: OwnedMutexGuard<State>,
        savepoint: bool,
        mut batch: Statement,
        next: audit::Head,
    ) -> Result<Option<Pending>, (StoreError, Option<Pending>)> {
        let last = self.nobody_waits()
            || state
                .open
                .as_ref()
                .is_none_or(|g| g.members + 1 >= MAX_GROUP);
        batch.sql = format!(
            "{}{};\nRELEASE {SAVEPOINT}{}",
            if savepoint {
                String::new()
            } else {
                format!("SAVEPOINT {SAVEPOINT};\n")
            },
            batch.sql,
            if last { ";\nCOMMIT" } else { "" }
        );
        match self.conn.execute_raw(batch).await {
            Ok(_) => match state.open.take() {
                Some(g) if last => {
                    g.done.send_replace(Some(Ok(())));
                    Ok(None)
                }
                Some(mut g) => {
                    g.head = next;
                    g.members += 1;
                    let waiting = (g.id, g.done.subscribe());
                    state.open = Some(g);
                    Ok(Some(waiting))
                }
                None => Err((
                    StoreError::Corrupt("a writer ended outside an open group".into()),
                    None,
                )),
            },
            Err(e) => {
                // The savepoint came first in the batch: it was taken.
                let pending = self.leave(state, true).await;
                Err((e.into(), pending))
            }
        }
    }

    /// Waits for the commit of group `id`.
    async fn wait_for(&self, id: u64, mut rx: watch::Receiver<Outcome>) -> StoreResult<()> {
        loop {
            if let Some(outcome) = rx.borrow_and_update().clone() {
                return outcome.map_err(group_failed);
            }
            match tokio::time::timeout(STRAGGLER_WAIT, rx.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => {
                    return Err(group_failed((ErrorKind::Other, "it was dropped".into())));
                }
                Err(_) => {
                    // Perhaps nobody is left in the queue to commit it.
                    let mut state = self.turn().await;
                    if rx.borrow().is_none()
                        && self.nobody_waits()
                        && state.open.as_ref().is_some_and(|g| g.id == id)
                        && let Some(g) = state.open.take()
                    {
                        self.close_group(g).await;
                    }
                }
            }
        }
    }
}

/// One writer's part of a group's transaction, holding the turn. Dropped
/// before it ended, it rolls back to its savepoint on a task of its own that
/// holds the turn until then.
#[derive(Debug)]
pub struct Writer {
    queue: WriteQueue,
    /// The turn; `None` once this writer's part has ended.
    state: Option<OwnedMutexGuard<State>>,
    /// True once this writer's savepoint is taken.
    savepoint: AtomicBool,
}

impl Writer {
    /// The write connection.
    pub(in crate::store) fn conn(&self) -> &WriteConn {
        &self.queue.conn
    }

    /// Takes this writer's savepoint before its first write, when it joined
    /// an open group.
    pub(in crate::store) async fn savepoint(&self) -> Result<(), DbErr> {
        if !self.savepoint.load(Ordering::SeqCst) {
            self.conn()
                .execute_unprepared(&format!("SAVEPOINT {SAVEPOINT}"))
                .await?;
            self.savepoint.store(true, Ordering::SeqCst);
        }
        Ok(())
    }

    /// `stmt` (a query: its rows are all it answers) preceded by this writer's
    /// savepoint when it has not taken it yet, in the same round trip.
    pub(in crate::store) fn with_savepoint(&self, mut stmt: Statement) -> Statement {
        if !self.savepoint.swap(true, Ordering::SeqCst) {
            stmt.sql = format!("SAVEPOINT {SAVEPOINT};\n{}", stmt.sql);
        }
        stmt
    }

    /// Ends this writer's part with `batch` (its last writes and its events)
    /// and returns once its group committed. The batch and the group's
    /// bookkeeping run on a task of their own, so a request dropped meanwhile
    /// cannot leave them half done. A writer whose batch failed answers once
    /// the group it saw goes on without it has ended, like [`Writer::abandon`].
    pub(in crate::store) async fn finish(
        mut self,
        batch: Statement,
        next: audit::Head,
    ) -> StoreResult<()> {
        let state = self
            .state
            .take()
            .ok_or_else(|| StoreError::Corrupt("a writer ended twice".into()))?;
        let savepoint = self.savepoint.load(Ordering::SeqCst);
        let queue = self.queue.clone();
        let ended = tokio::spawn(queue.clone().end_writer(state, savepoint, batch, next))
            .await
            .map_err(|e| StoreError::Corrupt(format!("a write task failed: {e}")))?;
        match ended {
            Ok(None) => Ok(()),
            Ok(Some((id, rx))) => queue.wait_for(id, rx).await,
            Err((e, pending)) => {
                if let Some((id, rx)) = pending {
                    let _ = queue.wait_for(id, rx).await;
                }
                Err(e)
            }
        }
    }

    /// Ends this writer's part without its work, and returns once the other
    /// writers' work it saw in the group has committed or failed (a caller
    /// that then reads what made it fail, such as a concurrent retry's
    /// remembered answer, finds it).
    pub(in crate::store) async fn abandon(mut self) {
        let Some(state) = self.state.take() else {
            return;
        };
        let savepoint = self.savepoint.load(Ordering::SeqCst);
        let queue = self.queue.clone();
        let left = tokio::spawn({
            let queue = queue.clone();
            async move { queue.leave(state, savepoint).await }
        })
        .await;
        if let Ok(Some((id, rx))) = left {
            let _ = queue.wait_for(id, rx).await;
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let Some(mut state) = self.state.take() else {
            return;
        };
        let queue = self.queue.clone();
        let savepoint = self.savepoint.load(Ordering::SeqCst);
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move { queue.leave(state, savepoint).await });
            }
            // The next turn rolls the group back.
            Err(_) => state.broken = true,
        }
    }
}

#[cfg(test)]
mod tests {
    //! The paths of the queue that concurrent requests reach only by chance:
    //! a writer that gives up its place in the queue, and a writer dropped
    //! where it cannot roll back. Group commit exists only for SQLite files.

    use std::sync::Arc;
    use std::time::Duration;

    use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

    use super::{Queued, WriteQueue};
    use crate::clock::SystemClock;
    use crate::store::{Store, StoreOptions};

    /// A migrated store on a SQLite file with a table to write to, and the
    /// file's directory (kept for the test's length).
    async fn file_store() -> (tempfile::TempDir, Store, WriteQueue) {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("n.db").display());
        let store = Store::connect(
            &StoreOptions {
                url,
                max_connections: 4,
            },
            Arc::new(SystemClock),
        )
        .await
        .expect("connect");
        store.migrate().await.expect("migrate");
        let queue = store
            .writer
            .clone()
            .expect("a SQLite file has a write queue");
        queue
            .conn
            .execute_unprepared("CREATE TABLE probe (x INTEGER NOT NULL)")
            .await
            .expect("table");
        (dir, store, queue)
    }

    fn insert(x: i64) -> Statement {
        Statement::from_string(
            DbBackend::Sqlite,
            format!("INSERT INTO probe (x) VALUES ({x})"),
        )
    }

    /// The committed rows, read on a connection of their own.
    async fn committed(dir: &tempfile::TempDir) -> Vec<i64> {
        let url = format!("sqlite://{}?mode=ro", dir.path().join("n.db").display());
        let conn = Database::connect(url).await.expect("reader");
        let rows = conn
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT x FROM probe ORDER BY x",
            ))
            .await
            .expect("rows");
        rows.iter()
            .map(|r| r.try_get::<i64>("", "x").expect("x"))
            .collect()
    }

    /// On a runtime of one thread: the test's timer fires on time only if the
    /// waiting begin does not sleep on that thread.
    #[tokio::test]
    async fn a_begin_waits_for_another_connections_write_lock_without_holding_up_the_thread() {
        let (dir, _store, queue) = file_store().await;
        let other = rusqlite::Connection::open(dir.path().join("n.db")).expect("other");
        other
            .execute_batch("BEGIN IMMEDIATE; INSERT INTO probe (x) VALUES (1)")
            .expect("the other connection takes the write lock");
        let started = std::time::Instant::now();
        let writer = tokio::spawn({
            let queue = queue.clone();
            async move {
                let (w, head) = queue.begin().await?;
                w.finish(insert(2), head).await
            }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the thread was held up for {:?}",
            started.elapsed()
        );
        assert!(!writer.is_finished(), "it waits for the lock");
        other.execute_batch("COMMIT").expect("commit");
        tokio::time::timeout(Duration::from_secs(10), writer)
            .await
            .expect("it begins once the lock is free")
            .expect("task")
            .expect("committed");
        assert_eq!(committed(&dir).await, vec![1, 2]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_group_left_open_by_a_writer_that_gave_up_is_committed_by_its_member() {
        let (dir, _store, queue) = file_store().await;
        let (writer, head) = queue.begin().await.expect("begin");
        // Someone queues behind the writer, so it leaves the group open…
        let gave_up = Queued::new(&queue.waiting);
        let finish = tokio::spawn(writer.finish(insert(1), head));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!finish.is_finished(), "it waits for the group's commit");
        assert_eq!(committed(&dir).await, Vec::<i64>::new());
        // …and gives its place up without taking a turn: nobody else is left
        // to commit, so the waiting member commits its own group.
        drop(gave_up);
        tokio::time::timeout(Duration::from_secs(10), finish)
            .await
            .expect("the member commits the group itself")
            .expect("task")
            .expect("committed");
        assert_eq!(committed(&dir).await, vec![1]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_writer_dropped_outside_a_runtime_fails_its_group_and_the_next_one_commits() {
        let (dir, _store, queue) = file_store().await;
        // A member whose work waits in the open group.
        let (member, head) = queue.begin().await.expect("begin");
        let queued = Queued::new(&queue.waiting);
        let member = tokio::spawn(member.finish(insert(1), head));
        // The writer after it joins the group, writes, and is dropped on a
        // thread without a runtime: it cannot roll back to its savepoint.
        let (lost, _) = queue.begin().await.expect("join");
        drop(queued);
        lost.savepoint().await.expect("savepoint");
        lost.conn().execute_raw(insert(2)).await.expect("write");
        std::thread::spawn(move || drop(lost))
            .join()
            .expect("thread");
        // The group holds the lost writer's write, so it must not commit: its
        // member is told so, and nothing of the group stays.
        let err = tokio::time::timeout(Duration::from_secs(10), member)
            .await
            .expect("the member hears of its group")
            .expect("task")
            .expect_err("the group did not commit");
        assert!(err.to_string().contains("lost"), "{err}");
        assert_eq!(committed(&dir).await, Vec::<i64>::new());
        // The next writer begins a group of its own and commits.
        let (next, head) = queue.begin().await.expect("begin after");
        next.finish(insert(3), head).await.expect("commit");
        assert_eq!(committed(&dir).await, vec![3]);
    }
}
