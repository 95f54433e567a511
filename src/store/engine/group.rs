//! Group commit of write transactions, the one write path of both engines.
//!
//! A store has one or more *lanes* (a SQLite file one, since SQLite has one
//! writer at a time; PostgreSQL `write_lanes`). A lane hands its turn to one
//! writer at a time. A writer that takes the turn while the transaction of the
//! writer before it is still open (because more writers were waiting) does its
//! work inside that same transaction, under a savepoint of its own, and hands
//! the turn on; the writer that finds nobody waiting behind it (or fills the
//! group) commits for the whole group. Each writer's answer waits for that
//! commit, so an answer never reports a change that is not durable.
//!
//! The writers' audit events are not written as each writer ends: they are
//! kept with the group and appended at its commit by the engine's commit
//! hook ([`LaneTx::commit`], which calls `store::audit`), so the chain head is
//! locked and moved once per group, and for as short a time as the append
//! and the commit take. Events still commit in the same transaction as the
//! change that recorded them.
//!
//! A writer that fails, or is dropped, rolls back to its savepoint and takes
//! nothing of the others with it. A group that fails as a whole (its commit
//! failed, its connection was lost, it was chosen as a deadlock's victim)
//! fails every member with [`StoreError::GroupFailed`]: their own work was
//! sound, and the caller runs each again alone ([`Lanes::begin`] with
//! `alone`), so that one request never fails another's.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

use crate::audit::NewEvent;
use crate::store::engine::ErrorKind;
use crate::store::{StoreError, StoreResult};

/// An audit event with the time of the transaction that recorded it.
pub(in crate::store) type Timed = (i64, NewEvent);

/// The savepoint of one writer inside its group's transaction.
pub(in crate::store) const SAVEPOINT: &str = "naskah_write";

/// The settings of group commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupLimits {
    /// Lanes on PostgreSQL: groups open at once, each on a connection of its
    /// own (a SQLite file always has one).
    pub lanes: usize,
    /// The most writers committed together.
    pub max_members: usize,
    /// How long a writer whose work waits in an open group waits for the
    /// group's commit before it queues for the turn itself, to commit the
    /// group if nobody else is left to (a writer that was waiting for the turn
    /// and gave up).
    pub straggler_wait: Duration,
}

impl Default for GroupLimits {
    fn default() -> Self {
        Self {
            lanes: 4,
            max_members: 32,
            straggler_wait: Duration::from_millis(100),
        }
    }
}

/// The transaction of one group, on one engine.
#[async_trait::async_trait]
pub trait LaneTx: ConnectionTrait + Send + Sync + Sized + 'static {
    /// Where the transactions come from, shared by a lane's groups.
    type Source: Send + Sync + 'static;
    /// The engine.
    const BACKEND: DbBackend;
    /// Whether a query can carry a `SAVEPOINT` in front of it in its own text
    /// (one call instead of two).
    const SAVEPOINT_IN_TEXT: bool;
    /// Begins a transaction, with the first writer's savepoint taken;
    /// `alone` when it is to hold one writer's work only.
    async fn begin(src: &Self::Source, alone: bool) -> StoreResult<Self>;
    /// Ends a writer's part: its savepoint first when `taken` is false (when
    /// there are writes), then `writes` (the writes it held back).
    async fn end_member(&self, taken: bool, writes: Vec<Statement>) -> Result<(), DbErr>;
    /// Appends `events` to the audit chain and commits; the events' seqs.
    /// Whatever fails, the transaction has ended.
    async fn commit(self, src: &Self::Source, events: Vec<Timed>) -> StoreResult<Vec<i64>>;
    /// Rolls back.
    async fn rollback(self);
}

/// How a group ended: the seqs of its events, or the kind and reason of its
/// failure and whether it failed more than one writer.
type Outcome = Option<Result<Arc<Vec<i64>>, Failure>>;

/// Why a group did not commit.
#[derive(Clone, Debug)]
struct Failure {
    kind: ErrorKind,
    why: String,
    /// More than one writer's work was in it (or a writer other than its
    /// members made it fail).
    shared: bool,
}

impl Failure {
    fn shared(kind: ErrorKind, why: &str) -> Self {
        Self {
            kind,
            why: why.to_owned(),
            shared: true,
        }
    }
}

/// A writer's work waiting in an open group: the group, and where the
/// writer's events are among the group's.
struct Pending {
    id: u64,
    events: std::ops::Range<usize>,
    rx: watch::Receiver<Outcome>,
}

/// The lanes of a store, and counts of what they committed.
pub(in crate::store) struct Lanes<T: LaneTx> {
    lanes: Vec<Lane<T>>,
    stats: Arc<Stats>,
}

impl<T: LaneTx> std::fmt::Debug for Lanes<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lanes")
            .field("lanes", &self.lanes.len())
            .finish()
    }
}

/// Groups committed and the writers in them, since the store opened.
#[derive(Debug, Default)]
struct Stats {
    groups: AtomicU64,
    members: AtomicU64,
}

struct Lane<T: LaneTx> {
    src: Arc<T::Source>,
    state: Arc<Mutex<State<T>>>,
    /// Writers queued for the turn.
    waiting: Arc<AtomicUsize>,
    limits: GroupLimits,
    stats: Arc<Stats>,
}

impl<T: LaneTx> Clone for Lane<T> {
    fn clone(&self) -> Self {
        Self {
            src: self.src.clone(),
            state: self.state.clone(),
            waiting: self.waiting.clone(),
            limits: self.limits,
            stats: self.stats.clone(),
        }
    }
}

struct State<T> {
    /// The group whose transaction is open.
    open: Option<Group<T>>,
    next_id: u64,
    /// A writer was dropped where it could not roll back (outside a runtime):
    /// the open transaction holds its writes and must not commit.
    broken: bool,
}

struct Group<T> {
    id: u64,
    tx: T,
    /// The events of the writers whose work is in the transaction.
    events: Vec<Timed>,
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

/// A group's failure as its writers are told it: [`StoreError::GroupFailed`]
/// when others' work was in it, so that each may run again alone; the
/// failure as it is when the writer's work was alone in it.
fn group_failed(f: Failure) -> StoreError {
    let message = format!("the write group did not commit: {}", f.why);
    match (f.shared, f.kind) {
        (true, kind) => StoreError::GroupFailed { kind, message },
        (false, ErrorKind::ConnectionLost) => StoreError::Unavailable(message),
        (false, kind) => StoreError::Failed { kind, message },
    }
}

impl<T: LaneTx> Lanes<T> {
    /// `lanes` lanes (at least one) over `src`.
    pub(in crate::store) fn new(src: T::Source, limits: GroupLimits) -> Self {
        let src = Arc::new(src);
        let stats = Arc::new(Stats::default());
        let limits = GroupLimits {
            lanes: limits.lanes.max(1),
            max_members: limits.max_members.max(1),
            ..limits
        };
        let lanes = (0..limits.lanes)
            .map(|_| Lane {
                src: src.clone(),
                state: Arc::new(Mutex::new(State {
                    open: None,
                    next_id: 0,
                    broken: false,
                })),
                waiting: Arc::default(),
                limits,
                stats: stats.clone(),
            })
            .collect();
        Self { lanes, stats }
    }

    /// The shared source of the transactions.
    pub(in crate::store) fn source(&self) -> &T::Source {
        &self.lanes[0].src
    }

    /// Groups committed and writers committed in them, since the store opened.
    pub(in crate::store) fn committed(&self) -> (u64, u64) {
        (
            self.stats.groups.load(Ordering::Relaxed),
            self.stats.members.load(Ordering::Relaxed),
        )
    }

    /// Takes a turn on the lane with the fewest writers queued (a free one
    /// first): joins its open group or begins a new one. `alone`: the writer's
    /// work is committed in a group of its own (an open group is committed
    /// first, and nobody joins after it).
    pub(in crate::store) async fn begin(&self, alone: bool) -> StoreResult<Writer<T>> {
        let lane = self
            .lanes
            .iter()
            .min_by_key(|l| {
                let queued = l.waiting.load(Ordering::SeqCst);
                let busy = usize::from(l.state.try_lock().is_err());
                2 * queued + busy
            })
            .unwrap_or(&self.lanes[0]);
        lane.begin(alone).await
    }
}

impl<T: LaneTx> Lane<T> {
    /// Waits for the turn.
    async fn turn(&self) -> OwnedMutexGuard<State<T>> {
        let queued = Queued::new(&self.waiting);
        let mut state = self.state.clone().lock_owned().await;
        drop(queued);
        if state.broken {
            state.broken = false;
            if let Some(g) = state.open.take() {
                g.tx.rollback().await;
                g.done.send_replace(Some(Err(Failure::shared(
                    ErrorKind::Other,
                    "a writer of the group was lost",
                ))));
            }
        }
        state
    }

    fn nobody_waits(&self) -> bool {
        self.waiting.load(Ordering::SeqCst) == 0
    }

    async fn begin(&self, alone: bool) -> StoreResult<Writer<T>> {
        let mut state = self.turn().await;
        if alone && let Some(g) = state.open.take() {
            self.close_group(g).await;
        }
        let savepoint = match &state.open {
            Some(_) => false,
            None => {
                let tx = T::begin(&self.src, alone).await?;
                state.next_id += 1;
                state.open = Some(Group {
                    id: state.next_id,
                    tx,
                    events: Vec::new(),
                    members: 0,
                    done: watch::channel(None).0,
                });
                true
            }
        };
        Ok(Writer {
            lane: self.clone(),
            state: Some(state),
            savepoint: AtomicBool::new(savepoint),
            alone,
        })
    }

    /// Ends the group: commits it with its events (rolls it back when no
    /// writer's work is in it) and tells its writers.
    async fn close_group(&self, g: Group<T>) {
        let outcome = if g.members == 0 {
            g.tx.rollback().await;
            Ok(Arc::new(Vec::new()))
        } else {
            match g.tx.commit(&self.src, g.events).await {
                Ok(seqs) => {
                    self.stats.groups.fetch_add(1, Ordering::Relaxed);
                    self.stats
                        .members
                        .fetch_add(g.members as u64, Ordering::Relaxed);
                    Ok(Arc::new(seqs))
                }
                Err(e) => Err(Failure {
                    kind: e.kind(),
                    why: e.to_string(),
                    shared: g.members > 1,
                }),
            }
        };
        g.done.send_replace(Some(outcome));
    }

    /// A writer leaves without its work: back to its savepoint (if it took
    /// one), then the group goes on with the next writer, or is committed
    /// when nobody waits or the writer was alone in it (a group begun for one
    /// writer takes nobody else). When the savepoint cannot be returned to,
    /// the transaction is lost: the whole group fails. Returns the group to
    /// wait for when it goes on with other writers' work in it.
    async fn leave(
        &self,
        mut state: OwnedMutexGuard<State<T>>,
        savepoint: bool,
        alone: bool,
    ) -> Option<(u64, watch::Receiver<Outcome>)> {
        let g = state.open.take()?;
        let undone = !savepoint
            || g.tx
                .execute_unprepared(&format!("ROLLBACK TO {SAVEPOINT}"))
                .await
                .is_ok();
        if !undone {
            g.tx.rollback().await;
            g.done.send_replace(Some(Err(Failure::shared(
                ErrorKind::Other,
                "its transaction ended in an error",
            ))));
            None
        } else if alone || self.nobody_waits() {
            self.close_group(g).await;
            None
        } else {
            let pending = (g.members > 0).then(|| (g.id, g.done.subscribe()));
            state.open = Some(g);
            pending
        }
    }

    /// Runs a writer's last writes and adds its events to the group; commits
    /// the group when the writer is its last. The group's outcome to wait
    /// for, or the writer's failure (and the group it saw, to wait for).
    async fn end_writer(
        self,
        mut state: OwnedMutexGuard<State<T>>,
        savepoint: bool,
        writes: Vec<Statement>,
        events: Vec<Timed>,
        alone: bool,
    ) -> Result<Pending, (StoreError, Option<(u64, watch::Receiver<Outcome>)>)> {
        let Some(g) = state.open.as_mut() else {
            return Err((
                StoreError::Corrupt("a writer ended outside an open group".into()),
                None,
            ));
        };
        if let Err(e) = g.tx.end_member(savepoint, writes).await {
            // The savepoint came before the writes: it was taken.
            let pending = self.leave(state, true, alone).await;
            return Err((e.into(), pending));
        }
        let start = g.events.len();
        g.events.extend(events);
        g.members += 1;
        let pending = Pending {
            id: g.id,
            events: start..g.events.len(),
            rx: g.done.subscribe(),
        };
        let last = alone || self.nobody_waits() || g.members >= self.limits.max_members;
        if last && let Some(g) = state.open.take() {
            self.close_group(g).await;
        }
        Ok(pending)
    }

    /// Waits for the commit of the group of `pending`; the writer's seqs.
    async fn wait_for(&self, pending: Pending) -> StoreResult<Vec<i64>> {
        let Pending { id, events, mut rx } = pending;
        loop {
            if let Some(outcome) = rx.borrow_and_update().clone() {
                return outcome
                    .map(|seqs| seqs.get(events.clone()).map(<[i64]>::to_vec))
                    .map_err(group_failed)?
                    .ok_or_else(|| StoreError::Corrupt("a group lost a writer's events".into()));
            }
            if self.wait_once(id, &mut rx).await.is_err() {
                return Err(group_failed(Failure::shared(
                    ErrorKind::Other,
                    "it was dropped",
                )));
            }
        }
    }

    /// Waits for the outcome of group `id` (without needing it).
    async fn wait_out(&self, id: u64, mut rx: watch::Receiver<Outcome>) {
        while rx.borrow_and_update().is_none() {
            if self.wait_once(id, &mut rx).await.is_err() {
                return;
            }
        }
    }

    /// Waits for a change of the group's outcome, at most the straggler wait;
    /// then, when nobody is left in the queue to commit the group, commits it.
    async fn wait_once(
        &self,
        id: u64,
        rx: &mut watch::Receiver<Outcome>,
    ) -> Result<(), watch::error::RecvError> {
        match tokio::time::timeout(self.limits.straggler_wait, rx.changed()).await {
            Ok(changed) => changed,
            Err(_) => {
                let mut state = self.turn().await;
                if rx.borrow().is_none()
                    && self.nobody_waits()
                    && state.open.as_ref().is_some_and(|g| g.id == id)
                    && let Some(g) = state.open.take()
                {
                    self.close_group(g).await;
                }
                Ok(())
            }
        }
    }
}

/// One writer's part of a group's transaction, holding its lane's turn.
/// Dropped before it ended, it rolls back to its savepoint on a task of its
/// own that holds the turn until then.
pub struct Writer<T: LaneTx> {
    lane: Lane<T>,
    /// The turn; `None` once this writer's part has ended.
    state: Option<OwnedMutexGuard<State<T>>>,
    /// True once this writer's savepoint is taken.
    savepoint: AtomicBool,
    alone: bool,
}

impl<T: LaneTx> std::fmt::Debug for Writer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("savepoint", &self.savepoint)
            .field("alone", &self.alone)
            .finish()
    }
}

fn ended() -> DbErr {
    DbErr::Custom("the writer's part of its group has ended".into())
}

impl<T: LaneTx> Writer<T> {
    /// The group's transaction.
    fn tx(&self) -> Result<&T, DbErr> {
        self.state
            .as_ref()
            .and_then(|s| s.open.as_ref())
            .map(|g| &g.tx)
            .ok_or_else(ended)
    }

    /// Takes this writer's savepoint before its first statement, when it
    /// joined an open group.
    pub(in crate::store) async fn savepoint(&self) -> Result<(), DbErr> {
        if !self.savepoint.load(Ordering::SeqCst) {
            self.tx()?
                .execute_unprepared(&format!("SAVEPOINT {SAVEPOINT}"))
                .await?;
            self.savepoint.store(true, Ordering::SeqCst);
        }
        Ok(())
    }

    /// The lane's transaction for a read the caller decodes itself, once
    /// this writer's savepoint is taken.
    pub(in crate::store) async fn for_read(&self) -> Result<&T, DbErr> {
        self.savepoint().await?;
        self.tx()
    }

    /// `stmt` (a query) ready to run: preceded by this writer's savepoint in
    /// its own text when the engine allows and it is not taken yet, or after
    /// taking it.
    async fn ready(&self, mut stmt: Statement) -> Result<Statement, DbErr> {
        if T::SAVEPOINT_IN_TEXT {
            if !self.savepoint.swap(true, Ordering::SeqCst) {
                stmt.sql = format!("SAVEPOINT {SAVEPOINT};\n{}", stmt.sql);
            }
        } else {
            self.savepoint().await?;
        }
        Ok(stmt)
    }

    /// Ends this writer's part with `writes` (the writes it held back) and
    /// `events`, and returns the events' seqs once its group committed. The
    /// writes and the group's bookkeeping run on a task of their own, so a
    /// request dropped meanwhile cannot leave them half done. A writer whose
    /// writes failed answers once the group it saw, going on without it, has
    /// ended, like [`Writer::abandon`].
    pub(in crate::store) async fn finish(
        mut self,
        writes: Vec<Statement>,
        events: Vec<Timed>,
    ) -> StoreResult<Vec<i64>> {
        let state = self.state.take().ok_or_else(|| StoreError::Db(ended()))?;
        let savepoint = self.savepoint.load(Ordering::SeqCst);
        let lane = self.lane.clone();
        let ended = tokio::spawn(
            lane.clone()
                .end_writer(state, savepoint, writes, events, self.alone),
        )
        .await
        .map_err(|e| StoreError::Corrupt(format!("a write task failed: {e}")))?;
        match ended {
            Ok(pending) => lane.wait_for(pending).await,
            Err((e, pending)) => {
                if let Some((id, rx)) = pending {
                    lane.wait_out(id, rx).await;
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
        let (savepoint, alone) = (self.savepoint.load(Ordering::SeqCst), self.alone);
        let lane = self.lane.clone();
        let left = tokio::spawn({
            let lane = lane.clone();
            async move { lane.leave(state, savepoint, alone).await }
        })
        .await;
        if let Ok(Some((id, rx))) = left {
            lane.wait_out(id, rx).await;
        }
    }
}

impl<T: LaneTx> Drop for Writer<T> {
    fn drop(&mut self) {
        let Some(mut state) = self.state.take() else {
            return;
        };
        let lane = self.lane.clone();
        let (savepoint, alone) = (self.savepoint.load(Ordering::SeqCst), self.alone);
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move { lane.leave(state, savepoint, alone).await });
            }
            // The next turn rolls the group back.
            Err(_) => state.broken = true,
        }
    }
}

#[async_trait::async_trait]
impl<T: LaneTx> ConnectionTrait for Writer<T> {
    fn get_database_backend(&self) -> DbBackend {
        T::BACKEND
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<sea_orm::ExecResult, DbErr> {
        self.savepoint().await?;
        self.tx()?.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<sea_orm::ExecResult, DbErr> {
        self.savepoint().await?;
        self.tx()?.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<sea_orm::QueryResult>, DbErr> {
        let stmt = self.ready(stmt).await?;
        self.tx()?.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<sea_orm::QueryResult>, DbErr> {
        let stmt = self.ready(stmt).await?;
        self.tx()?.query_all_raw(stmt).await
    }
}

#[cfg(test)]
mod tests {
    //! The paths of a lane that concurrent requests reach only by chance: a
    //! writer that gives up its place in the queue, a writer dropped where it
    //! cannot roll back, a begin that waits for another process's lock. On a
    //! SQLite file's lane; the PostgreSQL lanes run the same code (the
    //! black-box tests in `tests/it/audit_chain.rs` drive both).

    use std::sync::Arc;
    use std::time::Duration;

    use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

    use super::{Lanes, Queued, Timed};
    use crate::audit::NewEvent;
    use crate::clock::SystemClock;
    use crate::store::engine::sqlite::lane::SqliteLane;
    use crate::store::{Store, StoreOptions};

    /// A migrated store on a SQLite file with a table to write to, and the
    /// file's directory (kept for the test's length).
    async fn file_store() -> (tempfile::TempDir, Store, Arc<Lanes<SqliteLane>>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("n.db").display());
        let store = Store::connect(
            &StoreOptions {
                url,
                max_connections: 4,
                groups: Default::default(),
            },
            Arc::new(SystemClock),
        )
        .await
        .expect("connect");
        store.migrate().await.expect("migrate");
        let lanes = store.sqlite_lanes().expect("a SQLite file has a lane");
        lanes
            .source()
            .execute_unprepared("CREATE TABLE probe (x INTEGER NOT NULL)")
            .await
            .expect("table");
        (dir, store, lanes)
    }

    fn insert(x: i64) -> Vec<Statement> {
        vec![Statement::from_string(
            DbBackend::Sqlite,
            format!("INSERT INTO probe (x) VALUES ({x})"),
        )]
    }

    fn event(x: i64) -> Vec<Timed> {
        vec![(1, NewEvent::success("test/lane", "probe", &x.to_string()))]
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
        let (dir, _store, lanes) = file_store().await;
        let other = rusqlite::Connection::open(dir.path().join("n.db")).expect("other");
        other
            .execute_batch("BEGIN IMMEDIATE; INSERT INTO probe (x) VALUES (1)")
            .expect("the other connection takes the write lock");
        let started = std::time::Instant::now();
        let writer = tokio::spawn({
            let lanes = lanes.clone();
            async move {
                let w = lanes.begin(false).await?;
                w.finish(insert(2), event(2)).await
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
        let (dir, _store, lanes) = file_store().await;
        let writer = lanes.begin(false).await.expect("begin");
        // Someone queues behind the writer, so it leaves the group open…
        let gave_up = Queued::new(&lanes.lanes[0].waiting);
        let finish = tokio::spawn(writer.finish(insert(1), event(1)));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!finish.is_finished(), "it waits for the group's commit");
        assert_eq!(committed(&dir).await, Vec::<i64>::new());
        // …and gives its place up without taking a turn: nobody else is left
        // to commit, so the waiting member commits its own group.
        drop(gave_up);
        let seqs = tokio::time::timeout(Duration::from_secs(10), finish)
            .await
            .expect("the member commits the group itself")
            .expect("task")
            .expect("committed");
        assert_eq!(seqs.len(), 1, "its event's seq");
        assert_eq!(committed(&dir).await, vec![1]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_writer_dropped_outside_a_runtime_fails_its_group_and_the_next_one_commits() {
        let (dir, _store, lanes) = file_store().await;
        // A member whose work waits in the open group.
        let member = lanes.begin(false).await.expect("begin");
        let queued = Queued::new(&lanes.lanes[0].waiting);
        let member = tokio::spawn(member.finish(insert(1), event(1)));
        // The writer after it joins the group, writes, and is dropped on a
        // thread without a runtime: it cannot roll back to its savepoint.
        let lost = lanes.begin(false).await.expect("join");
        drop(queued);
        lost.execute_raw(insert(2).remove(0)).await.expect("write");
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
        assert!(err.retry_alone(), "its member may run again alone: {err:?}");
        assert_eq!(committed(&dir).await, Vec::<i64>::new());
        // The next writer begins a group of its own and commits.
        let next = lanes.begin(false).await.expect("begin after");
        next.finish(insert(3), event(3)).await.expect("commit");
        assert_eq!(committed(&dir).await, vec![3]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_writer_leaves_the_others_work_in_the_group() {
        let (dir, _store, lanes) = file_store().await;
        let first = lanes.begin(false).await.expect("begin");
        let queued = Queued::new(&lanes.lanes[0].waiting);
        let first = tokio::spawn(first.finish(insert(1), event(1)));
        // The second writer joins, writes, then fails: back to its savepoint.
        let failing = lanes.begin(false).await.expect("join");
        drop(queued);
        failing
            .execute_raw(insert(2).remove(0))
            .await
            .expect("write");
        let bad = Statement::from_string(DbBackend::Sqlite, "INSERT INTO nowhere VALUES (1)");
        failing.execute_raw(bad).await.expect_err("no such table");
        failing.abandon().await;
        first
            .await
            .expect("task")
            .expect("the first writer's work commits");
        assert_eq!(committed(&dir).await, vec![1]);
    }
}
