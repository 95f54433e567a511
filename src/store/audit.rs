//! Audit events in the database: appending to the chain, listing, verifying.

use crate::store::Db;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QueryResult,
    QuerySelect, QueryTrait, Statement,
};

use super::engine::group::Timed;
use super::entities::audit_event;
use super::{Backend, StoreError, StoreResult, db_backend};
use crate::audit::{
    Broken, Event, NewEvent, Outcome, RangeReport, chain_hash, decode_hash, join_ranges,
};

/// The chain head: last seq and hash (hex).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Head {
    seq: i64,
    hash: String,
}

/// The turn to append to the chain among this process's PostgreSQL write
/// groups (one per lane at a time), with the head the last append of this
/// process left (none at start and after an append that failed or was
/// abandoned). A group's commit takes the turn before it links its events and
/// keeps it until its append has moved the head (not through its commit), so
/// the lanes of one process link to a head already known and queue in the
/// process rather than on the head row's lock; the one whose turn comes next
/// waits on that lock, in the database, only while the group before it
/// commits (see [`Linking::Predicted`]).
#[derive(Clone, Debug, Default)]
pub(super) struct Appender(std::sync::Arc<tokio::sync::Mutex<Guesses>>);

impl Appender {
    /// Waits for the turn.
    pub(super) async fn turn(&self) -> tokio::sync::OwnedMutexGuard<Guesses> {
        self.0.clone().lock_owned().await
    }

    /// How many appends guessed the head, and how many of those found it.
    pub(super) async fn guessed(&self) -> (u64, u64) {
        let g = self.0.lock().await;
        (g.guesses, g.hits)
    }
}

/// The head this process's last append left, to guess for the next append,
/// and how many guesses were made and hit. A guess that misses (another
/// server moved the head, or the append it came from did not commit) costs no
/// more than locking the head would have: the statement that tried it has
/// locked the head's row and answers the head it found.
#[derive(Debug, Default)]
pub(super) struct Guesses {
    head: Option<Head>,
    guesses: u64,
    hits: u64,
}

impl Guesses {
    /// The head to guess for this append, if any (taken: until the append
    /// succeeds, the head is unknown).
    pub(super) fn guess(&mut self) -> Option<Head> {
        self.head.take()
    }

    /// Records whether a guess was still the head.
    pub(super) fn guessed(&mut self, hit: bool) {
        self.guesses += 1;
        self.hits += u64::from(hit);
    }

    /// The head after an append (committed or not yet: see
    /// [`Linking::Predicted`]).
    pub(super) fn appended(&mut self, head: Head) {
        self.head = Some(head);
    }
}

/// Takes SQLite's write lock with a no-op write on the chain head and returns
/// the head, in one statement.
pub(super) async fn lock_head_sqlite<C: ConnectionTrait>(tx: &C) -> StoreResult<Head> {
    head_of(
        tx.query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "UPDATE audit_head SET last_seq = last_seq WHERE id = 1 RETURNING last_seq, last_hash",
        ))
        .await?,
    )
}

/// Runs a [`Linking::Predicted`] append and answers the head it left, whose
/// row it locked until commit: the append's own head when the guess hit (its
/// events are in), else the head it found (nothing was written).
pub(super) async fn append_predicted<C: ConnectionTrait>(
    tx: &C,
    stmt: Statement,
) -> StoreResult<Head> {
    head_of(tx.query_one_raw(stmt).await?)
}

/// Locks the chain head row until commit and returns it (PostgreSQL).
pub(super) async fn lock_head_postgres<C: ConnectionTrait>(tx: &C) -> StoreResult<Head> {
    head_of(
        tx.query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT last_seq, last_hash FROM audit_head WHERE id = 1 FOR UPDATE",
        ))
        .await?,
    )
}

fn head_of(row: Option<QueryResult>) -> StoreResult<Head> {
    let row = row.ok_or_else(|| StoreError::Corrupt("audit_head row is missing".into()))?;
    Ok(Head {
        seq: row.try_get("", "last_seq")?,
        hash: row.try_get("", "last_hash")?,
    })
}

/// The head of the chain once SQLite's write lock is taken: `BEGIN IMMEDIATE`,
/// the savepoint `savepoint` and the head's no-op update in one statement text
/// (one round trip).
pub(super) async fn begin_and_lock_head_sqlite<C: ConnectionTrait>(
    conn: &C,
    savepoint: &str,
) -> StoreResult<Head> {
    head_of(
        conn.query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            format!(
                "BEGIN IMMEDIATE;\nSAVEPOINT {savepoint};\n\
                 UPDATE audit_head SET last_seq = last_seq WHERE id = 1 \
                 RETURNING last_seq, last_hash"
            ),
        ))
        .await?,
    )
}

/// How the append finds the head it links to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Linking {
    /// The head was read under the transaction's lock on it.
    Locked,
    /// The head is the one this process's last append left (PostgreSQL),
    /// perhaps not committed yet: the statement updates the head row, which
    /// waits for a transaction that moved it and has not ended, and judges the
    /// row that transaction left. It moves the head only if it is the one
    /// guessed and inserts the events only then; else (another process moved
    /// it, or the append guessed from rolled back) it leaves the row as it
    /// is, locked. Either way it answers the head row as it left it (see
    /// [`append_predicted`]).
    Predicted,
}

/// The commit hook of a PostgreSQL group transaction: appends `events` and
/// commits. It links to the head this process's last append left when that
/// is still the head (or will be once the group that left it commits), else
/// locks the head and reads it. The turn ends once the append has moved the
/// head: the next group's append waits in PostgreSQL on the head's row while
/// this one commits. Whatever fails, the transaction has ended (a `PgTx`
/// dropped rolls back).
pub(super) async fn commit_pg(
    tx: super::write_pg::PgTx,
    appender: &Appender,
    events: Vec<Timed>,
) -> StoreResult<Vec<i64>> {
    let mut turn = appender.turn().await;
    // Appended (the seqs and the new head), or the head to link to under its
    // lock: taken by a guess that missed, or by locking the head when there
    // was nothing to guess.
    let linked: Result<(Vec<i64>, Head), Head> = match turn.guess() {
        Some(head) => {
            let (stmt, seqs, next) =
                append_stmt(Backend::Postgres, head, Linking::Predicted, &events)?;
            let found = append_predicted(&tx, stmt).await?;
            let hit = found == next;
            turn.guessed(hit);
            if hit { Ok((seqs, next)) } else { Err(found) }
        }
        None => Err(lock_head_postgres(&tx).await?),
    };
    let (seqs, next) = match linked {
        Ok(appended) => appended,
        Err(head) => {
            let (stmt, seqs, next) =
                append_stmt(Backend::Postgres, head, Linking::Locked, &events)?;
            tx.execute_raw(stmt).await?;
            (seqs, next)
        }
    };
    turn.appended(next);
    drop(turn);
    tx.commit().await?;
    Ok(seqs)
}

/// The statement that appends events to the chain after `before`: links each
/// event to its predecessor, inserts them and moves the head; with the seqs of
/// the events and the new head. A [`Linking::Predicted`] statement answers the
/// head row it left (see [`append_predicted`]).
pub(super) fn append_stmt(
    backend: Backend,
    before: Head,
    linking: Linking,
    events: &[Timed],
) -> StoreResult<(Statement, Vec<i64>, Head)> {
    let mut seq = before.seq;
    let mut prev = decode_hash(&before.hash)
        .ok_or_else(|| StoreError::Corrupt("audit_head hash is not hex".into()))?;

    let mut models = Vec::with_capacity(events.len());
    let mut seqs = Vec::with_capacity(events.len());
    for (now_us, ev) in events {
        let now_us = *now_us;
        seq += 1;
        let outcome = ev.outcome.code();
        let hash = chain_hash(&prev, seq, now_us, outcome, ev);
        models.push(audit_event::ActiveModel {
            seq: sea_orm::Set(seq),
            event_time_us: sea_orm::Set(now_us),
            agency_id: sea_orm::Set(ev.agency_id.clone()),
            actor_user_id: sea_orm::Set(ev.actor_user_id.clone()),
            actor_position_id: sea_orm::Set(ev.actor_position_id.clone()),
            action: sea_orm::Set(ev.action.clone()),
            resource_type: sea_orm::Set(ev.resource_type.clone()),
            resource_id: sea_orm::Set(ev.resource_id.clone()),
            outcome: sea_orm::Set(outcome),
            reason: sea_orm::Set(ev.reason.clone()),
            request_id: sea_orm::Set(ev.request_id.clone()),
            client_address: sea_orm::Set(ev.client_address.clone()),
            summary: sea_orm::Set(ev.summary.clone()),
            prev_hash: sea_orm::Set(hex::encode(prev)),
            hash: sea_orm::Set(hex::encode(hash)),
        });
        seqs.push(seq);
        prev = hash;
    }
    // The events and the head's move go to the database in one round trip: on
    // SQLite as one multi-statement text after the deferred statements (bound
    // in order), on PostgreSQL the insert rides in a CTE of the head's update.
    let db = db_backend(backend);
    let insert = audit_event::Entity::insert_many(models).build(db);
    let mut values = insert.values.map(|v| v.0).unwrap_or_default();
    let n = values.len();
    values.extend([
        sea_orm::Value::from(seq),
        sea_orm::Value::from(hex::encode(prev)),
    ]);
    let st = match backend {
        Backend::Sqlite => Statement::from_sql_and_values(
            db,
            format!(
                "{};\nUPDATE audit_head SET last_seq = ?, last_hash = ? WHERE id = 1",
                insert.sql
            ),
            values,
        ),
        Backend::Postgres if linking == Linking::Predicted => {
            // `INSERT INTO t (columns) VALUES (…), (…)` becomes an insert of
            // those rows that happens only when the head moved.
            let (into, rows) = insert.sql.split_once(" VALUES ").ok_or_else(|| {
                StoreError::Corrupt(format!("unexpected insert shape: {}", insert.sql))
            })?;
            values.extend([
                sea_orm::Value::from(before.seq),
                sea_orm::Value::from(before.hash),
            ]);
            // The row is updated whatever it holds (a WHERE on the guess
            // would be judged on the snapshot, which does not see an append
            // that has not committed yet); the SET is judged on the row the
            // wait ends with, and leaves another head as it was.
            let (next_seq, next_hash, seq_was, hash_was) = (n + 1, n + 2, n + 3, n + 4);
            let guessed = format!("last_seq = ${seq_was} AND last_hash = ${hash_was}");
            Statement::from_sql_and_values(
                db,
                format!(
                    "WITH moved AS (UPDATE audit_head SET \
                     last_seq = CASE WHEN {guessed} THEN ${next_seq} ELSE last_seq END, \
                     last_hash = CASE WHEN {guessed} THEN ${next_hash} ELSE last_hash END \
                     WHERE id = 1 RETURNING last_seq, last_hash), \
                     appended AS ({into} SELECT * FROM (VALUES {rows}) AS events \
                     WHERE EXISTS (SELECT 1 FROM moved \
                     WHERE last_seq = ${next_seq} AND last_hash = ${next_hash})) \
                     SELECT last_seq, last_hash FROM moved"
                ),
                values,
            )
        }
        Backend::Postgres => Statement::from_sql_and_values(
            db,
            format!(
                "WITH appended AS ({}) UPDATE audit_head SET last_seq = ${}, last_hash = ${} WHERE id = 1",
                insert.sql,
                n + 1,
                n + 2
            ),
            values,
        ),
    };
    let next = Head {
        seq,
        hash: hex::encode(prev),
    };
    Ok((st, seqs, next))
}

pub(super) fn to_event(m: audit_event::Model) -> Event {
    Event {
        seq: m.seq,
        event_time_us: m.event_time_us,
        outcome_code: m.outcome,
        body: NewEvent {
            agency_id: m.agency_id,
            actor_user_id: m.actor_user_id,
            actor_position_id: m.actor_position_id,
            action: m.action,
            resource_type: m.resource_type,
            resource_id: m.resource_id,
            outcome: Outcome::from_code(m.outcome).unwrap_or(Outcome::Failure),
            reason: m.reason,
            request_id: m.request_id,
            client_address: m.client_address,
            summary: m.summary,
        },
        prev_hash: m.prev_hash,
        hash: m.hash,
    }
}

/// Filters of [`list`]. Empty strings and `None` mean "any".
#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    /// Only this agency's events (always set for agency users).
    pub agency_id: Option<String>,
    /// Resource type.
    pub resource_type: String,
    /// Resource id.
    pub resource_id: String,
    /// Acting user.
    pub actor_user_id: String,
    /// Action.
    pub action: String,
    /// At or after, microseconds.
    pub start_us: Option<i64>,
    /// Before, microseconds.
    pub end_us: Option<i64>,
    /// Outcome.
    pub outcome: Option<Outcome>,
}

/// Lists events newest first, `limit` of them with seq below `before_seq`.
/// How many events of the chain belong to `agency`.
pub async fn count_of_agency(db: &impl Db, agency: &str) -> StoreResult<u64> {
    let db = db.conn();
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    Ok(audit_event::Entity::find()
        .filter(audit_event::Column::AgencyId.eq(agency))
        .count(db)
        .await?)
}

pub async fn list(
    db: &impl Db,
    filter: &EventFilter,
    before_seq: Option<i64>,
    limit: u64,
) -> StoreResult<Vec<Event>> {
    let db = db.conn();
    let mut q = audit_event::Entity::find();
    if let Some(agency) = &filter.agency_id {
        q = q.filter(audit_event::Column::AgencyId.eq(agency.as_str()));
    }
    if !filter.resource_type.is_empty() {
        q = q.filter(audit_event::Column::ResourceType.eq(filter.resource_type.as_str()));
    }
    if !filter.resource_id.is_empty() {
        q = q.filter(audit_event::Column::ResourceId.eq(filter.resource_id.as_str()));
    }
    if !filter.actor_user_id.is_empty() {
        q = q.filter(audit_event::Column::ActorUserId.eq(filter.actor_user_id.as_str()));
    }
    if !filter.action.is_empty() {
        q = q.filter(audit_event::Column::Action.eq(filter.action.as_str()));
    }
    if let Some(start) = filter.start_us {
        q = q.filter(audit_event::Column::EventTimeUs.gte(start));
    }
    if let Some(end) = filter.end_us {
        q = q.filter(audit_event::Column::EventTimeUs.lt(end));
    }
    if let Some(outcome) = filter.outcome {
        q = q.filter(audit_event::Column::Outcome.eq(outcome.code()));
    }
    if let Some(before) = before_seq {
        q = q.filter(audit_event::Column::Seq.lt(before));
    }
    let rows = q
        .order_by_desc(audit_event::Column::Seq)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(to_event).collect())
}

/// Result of [`verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// Events that verified before the first problem (all of them when ok).
    pub checked: i64,
    /// The first problem, if any.
    pub broken: Option<Broken>,
    /// Hash of the last verified event.
    pub head_hash: String,
}

pub(super) const VERIFY_FIELDS: &str = "seq, event_time_us, outcome, agency_id, actor_user_id, actor_position_id, \
     action, resource_type, resource_id, reason, request_id, client_address, summary, prev_hash, hash";

/// The chain head and the newest stored seq, read together (one snapshot).
pub(super) const SNAPSHOT_SQL: &str = "SELECT h.last_seq, h.last_hash, \
     (SELECT MAX(seq) FROM audit_event) AS max_seq FROM audit_head h WHERE h.id = 1";

/// Consecutive ranges of `batch` seqs covering `1..=max`.
pub(super) fn ranges(max: i64, batch: u64) -> Vec<(i64, i64)> {
    let step = i64::try_from(std::cmp::max(batch, 1)).unwrap_or(i64::MAX);
    let mut out = Vec::new();
    let mut start = 1;
    while start <= max {
        let end = std::cmp::min(start.saturating_add(step - 1), max);
        out.push((start, end));
        start = end + 1;
    }
    out
}

/// Turns joined range reports into the verifier's report.
pub(super) fn report(reports: &[RangeReport], head_seq: i64, head_hash: &str) -> VerifyReport {
    let (checked, broken, head_hash) = join_ranges(reports, head_seq, head_hash);
    VerifyReport {
        checked,
        broken,
        head_hash,
    }
}

/// Seq of the newest event.
pub async fn last_seq(db: &impl Db) -> StoreResult<i64> {
    let db = db.conn();
    let max: Option<i64> = audit_event::Entity::find()
        .select_only()
        .column_as(audit_event::Column::Seq.max(), "m")
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten();
    Ok(max.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(seq: i64) -> Head {
        Head {
            seq,
            hash: String::new(),
        }
    }

    #[test]
    fn a_guess_is_taken_until_the_next_append_and_counted() {
        let mut g = Guesses::default();
        assert!(g.guess().is_none(), "nothing known at start");
        g.appended(head(1));
        assert_eq!(g.guess().map(|h| h.seq), Some(1));
        assert!(g.guess().is_none(), "taken: unknown until the append");
        g.guessed(true);
        g.appended(head(2));
        assert_eq!(g.guess(), Some(head(2)));
        g.guessed(false);
        assert_eq!((g.guesses, g.hits), (2, 1));
    }
}
