//! Dispositions, their recipients and follow-up reports in the database.

use crate::store::Db;
use sea_orm::ExprTrait;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Statement,
};

use super::entities::{disposition, disposition_recipient, disposition_response};
use super::letters::{self, LetterRecord};
use super::read::{Cells, Decode, Reach, must};
use super::{Store, StoreError, StoreResult, WriteTx};

/// A disposition row.
pub type DispositionRecord = disposition::Model;
/// A recipient row.
pub type RecipientRecord = disposition_recipient::Model;
/// A response row.
pub type ResponseRecord = disposition_response::Model;

use crate::domain::lifecycle::{DispositionState, RecipientStatus};

/// The INSERT of a new disposition (for [`super::WriteTx::write`]).
pub fn insert_stmt(db: DbBackend, d: &DispositionRecord) -> Statement {
    let am: disposition::ActiveModel = d.clone().into();
    disposition::Entity::insert(am.reset_all()).build(db)
}

/// Writes `d` if its revision is still `expected`.
pub async fn save(db: &impl Db, d: &DispositionRecord, expected: i64) -> StoreResult<bool> {
    let db = db.conn();
    let am: disposition::ActiveModel = d.clone().into();
    let r = disposition::Entity::update_many()
        .set(am.reset_all())
        .filter(disposition::Column::Id.eq(d.id.as_str()))
        .filter(disposition::Column::Revision.eq(expected))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

pub async fn get(db: &impl Db, agency: &str, id: &str) -> StoreResult<Option<DispositionRecord>> {
    let db = db.conn();
    Ok(disposition::Entity::find_by_id(id.to_owned())
        .filter(disposition::Column::AgencyId.eq(agency))
        .one(db)
        .await?)
}

/// A disposition of `agency` with its recipients (sorted by position), in
/// one statement: inside a write group every statement is a round trip the
/// group's other writers wait for.
pub async fn with_recipients(
    db: &impl Db,
    agency: &str,
    id: &str,
) -> StoreResult<Option<(DispositionRecord, Vec<RecipientRecord>)>> {
    let db = db.conn();
    Ok(disposition::Entity::find_by_id(id.to_owned())
        .filter(disposition::Column::AgencyId.eq(agency))
        .find_with_related(disposition_recipient::Entity)
        .order_by_asc(disposition_recipient::Column::PositionId)
        .all(db)
        .await?
        .pop())
}

pub async fn of_letter(db: &impl Db, letter_id: &str) -> StoreResult<Vec<DispositionRecord>> {
    let db = db.conn();
    Ok(disposition::Entity::find()
        .filter(disposition::Column::LetterId.eq(letter_id))
        .order_by_asc(disposition::Column::CreatedAtUs)
        .order_by_asc(disposition::Column::Id)
        .all(db)
        .await?)
}

/// The disposition tree of a letter of `agency`: its dispositions (by creation
/// time), their recipients (by position) and their responses (by time), when
/// `shown` says the caller may see the letter (given it and whether any of
/// `positions` takes part in it); `None` when the letter is not there or not
/// shown. The letter and then the tree's one statement ([`tree_sql`]): one
/// hand-off on SQLite, two statements on PostgreSQL.
pub async fn tree_for(
    store: &Store,
    agency: &str,
    letter_id: &str,
    positions: &[String],
    shown: fn(&LetterRecord, bool) -> bool,
) -> StoreResult<Option<Tree>> {
    let backend = store.reader().get_database_backend();
    let tree = Statement::from_sql_and_values(backend, tree_sql(backend), [letter_id.into()]);
    let letter = letters::letter_for_stmt(backend, agency, letter_id, positions);
    let (found, rows) = store
        .rows_then(
            letter,
            letters::letter_taking_part,
            move |found: &mut Vec<(LetterRecord, bool)>| match found.first() {
                Some((l, part)) if shown(l, *part) => vec![(tree, tree_row as Decode<TreeRow>)],
                _ => Vec::new(),
            },
            Reach::Keyed,
        )
        .await?;
    match found.first() {
        Some((l, part)) if shown(l, *part) => {}
        _ => return Ok(None),
    }
    Ok(Some(tree_of(rows)))
}

/// A disposition of `agency` with its recipients and reports, in one
/// statement of [`tree_sql`]'s shape (on PostgreSQL a read connection's, not
/// the pool's); `None` when there is no such disposition.
pub async fn one(
    db: &impl Db,
    agency: &str,
    id: &str,
) -> StoreResult<Option<(DispositionRecord, Vec<RecipientRecord>, Vec<ResponseRecord>)>> {
    let backend = db.conn().get_database_backend();
    let (id_at, agency_at) = (
        super::engine::mark(backend, 1),
        super::engine::mark(backend, 2),
    );
    let sql = tree_sql_of(&format!("id = {id_at} AND agency_id = {agency_at}"));
    let stmt = Statement::from_sql_and_values(backend, sql, [id.into(), agency.into()]);
    let rows = super::read::rows_of(db, stmt, tree_row, Reach::Keyed).await?;
    let (mut ds, recipients, responses) = tree_of(rows);
    Ok(ds.pop().map(|d| (d, recipients, responses)))
}

/// The rows of [`tree_sql`] as a tree, each part in its order.
fn tree_of(rows: Vec<TreeRow>) -> Tree {
    let mut tree = Tree::default();
    for row in rows {
        match row {
            TreeRow::Disposition(d) => tree.0.push(d),
            TreeRow::Recipient(r) => tree.1.push(r),
            TreeRow::Response(p) => tree.2.push(p),
        }
    }
    tree.0
        .sort_unstable_by(|a, b| (a.created_at_us, &a.id).cmp(&(b.created_at_us, &b.id)));
    in_read_order(&mut tree.1);
    tree.2
        .sort_unstable_by(|a, b| (a.created_at_us, &a.id).cmp(&(b.created_at_us, &b.id)));
    tree
}

/// Recipients in the order the reads answer them: by position, then by
/// disposition.
pub fn in_read_order(recipients: &mut [RecipientRecord]) {
    recipients.sort_unstable_by(|a, b| {
        (&a.position_id, &a.disposition_id).cmp(&(&b.position_id, &b.disposition_id))
    });
}

/// A letter's dispositions, their recipients and their responses.
pub type Tree = (
    Vec<DispositionRecord>,
    Vec<RecipientRecord>,
    Vec<ResponseRecord>,
);

/// The three tables of a letter's tree in one statement (the letter's id bound
/// once): a UNION ALL over a common row shape (kind, nine texts, six integers),
/// in no order — [`tree_for`] sorts the rows. On PostgreSQL the three reads
/// one after the other were three round trips of the four a tree took.
fn tree_sql(backend: DbBackend) -> String {
    tree_sql_of(&format!("letter_id = {}", super::engine::mark(backend, 1)))
}

/// [`tree_sql`] of the dispositions `filter` selects.
fn tree_sql_of(filter: &str) -> String {
    format!(
        "WITH d AS (SELECT * FROM disposition WHERE {filter}) \
         SELECT CAST(1 AS BIGINT) AS k, CAST(d.id AS TEXT) AS t0, \
         CAST(d.agency_id AS TEXT) AS t1, CAST(d.letter_id AS TEXT) AS t2, \
         CAST(d.parent_id AS TEXT) AS t3, CAST(d.sender_position_id AS TEXT) AS t4, \
         CAST(d.sent_by_user_id AS TEXT) AS t5, CAST(d.drafted_by_user_id AS TEXT) AS t6, \
         CAST(d.instruction_codes AS TEXT) AS t7, CAST(d.note AS TEXT) AS t8, \
         CAST(d.sent_by_assignment_kind AS BIGINT) AS n0, CAST(d.state AS BIGINT) AS n1, \
         CAST(d.urgency AS BIGINT) AS n2, CAST(d.due_us AS BIGINT) AS n3, \
         CAST(d.revision AS BIGINT) AS n4, CAST(d.created_at_us AS BIGINT) AS n5 \
         FROM d \
         UNION ALL SELECT 2, r.disposition_id, r.position_id, r.agency_id, \
         NULL, NULL, NULL, NULL, NULL, NULL, \
         r.status, r.read_at_us, r.done_at_us, r.due_us, r.created_at_us, NULL \
         FROM d JOIN disposition_recipient r ON r.disposition_id = d.id \
         UNION ALL SELECT 3, p.id, p.disposition_id, p.position_id, p.user_id, \
         p.note, p.attachment_ids, NULL, NULL, NULL, \
         p.assignment_kind, p.status, p.created_at_us, NULL, NULL, NULL \
         FROM d JOIN disposition_response p ON p.disposition_id = d.id"
    )
}

/// A row of [`tree_sql`].
enum TreeRow {
    Disposition(DispositionRecord),
    Recipient(RecipientRecord),
    Response(ResponseRecord),
}

fn tree_row(r: &dyn Cells) -> StoreResult<TreeRow> {
    let t = |i: usize| -> StoreResult<String> { must(r.text(1 + i)?, 1 + i) };
    let n = |i: usize| -> StoreResult<Option<i64>> { r.int(10 + i) };
    let big = |i: usize| -> StoreResult<i64> { must(n(i)?, 10 + i) };
    let small = |i: usize| -> StoreResult<i16> {
        i16::try_from(big(i)?)
            .map_err(|_| StoreError::Corrupt(format!("column {} is out of range", 10 + i)))
    };
    Ok(match must(r.int(0)?, 0)? {
        1 => TreeRow::Disposition(DispositionRecord {
            id: t(0)?,
            agency_id: t(1)?,
            letter_id: t(2)?,
            parent_id: t(3)?,
            sender_position_id: t(4)?,
            sent_by_user_id: t(5)?,
            sent_by_assignment_kind: small(0)?,
            drafted_by_user_id: t(6)?,
            state: super::read::stored(small(1)?, 11)?,
            instruction_codes: t(7)?,
            note: t(8)?,
            due_us: n(3)?,
            urgency: small(2)?,
            revision: big(4)?,
            created_at_us: big(5)?,
        }),
        2 => TreeRow::Recipient(RecipientRecord {
            disposition_id: t(0)?,
            position_id: t(1)?,
            agency_id: t(2)?,
            status: super::read::stored(small(0)?, 10)?,
            read_at_us: n(1)?,
            done_at_us: n(2)?,
            due_us: n(3)?,
            created_at_us: big(4)?,
        }),
        _ => TreeRow::Response(ResponseRecord {
            id: t(0)?,
            disposition_id: t(1)?,
            position_id: t(2)?,
            user_id: t(3)?,
            assignment_kind: small(0)?,
            note: t(4)?,
            status: super::read::stored(small(1)?, 11)?,
            attachment_ids: t(5)?,
            created_at_us: big(2)?,
        }),
    })
}

pub async fn by_ids(db: &impl Db, ids: &[String]) -> StoreResult<Vec<DispositionRecord>> {
    let db = db.conn();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(disposition::Entity::find()
        .filter(disposition::Column::Id.is_in(ids.iter().cloned()))
        .all(db)
        .await?)
}

/// The DELETE of a disposition's recipients.
pub fn delete_recipients_stmt(db: DbBackend, disposition_id: &str) -> Statement {
    disposition_recipient::Entity::delete_many()
        .filter(disposition_recipient::Column::DispositionId.eq(disposition_id))
        .build(db)
}

/// The INSERT of recipient rows (none for an empty list).
pub fn insert_recipients_stmt(db: DbBackend, rows: &[RecipientRecord]) -> Option<Statement> {
    if rows.is_empty() {
        return None;
    }
    let models: Vec<disposition_recipient::ActiveModel> = rows
        .iter()
        .map(|r| r.clone().into())
        .map(|m: disposition_recipient::ActiveModel| m.reset_all())
        .collect();
    Some(disposition_recipient::Entity::insert_many(models).build(db))
}

/// The UPDATE of a recipient row (for [`super::WriteTx::write`]).
pub fn save_recipient_stmt(db: DbBackend, r: &RecipientRecord) -> Statement {
    let am: disposition_recipient::ActiveModel = r.clone().into();
    disposition_recipient::Entity::update_many()
        .set(am.reset_all())
        .filter(disposition_recipient::Column::DispositionId.eq(r.disposition_id.as_str()))
        .filter(disposition_recipient::Column::PositionId.eq(r.position_id.as_str()))
        .build(db)
}

pub async fn recipients_of(db: &impl Db, ids: &[String]) -> StoreResult<Vec<RecipientRecord>> {
    let db = db.conn();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(disposition_recipient::Entity::find()
        .filter(disposition_recipient::Column::DispositionId.is_in(ids.iter().cloned()))
        .order_by_asc(disposition_recipient::Column::PositionId)
        .all(db)
        .await?)
}

/// The INSERT of a follow-up report (for [`super::WriteTx::write`]).
pub fn insert_response_stmt(db: DbBackend, r: &ResponseRecord) -> Statement {
    let am: disposition_response::ActiveModel = r.clone().into();
    disposition_response::Entity::insert(am.reset_all()).build(db)
}

pub async fn responses_of(db: &impl Db, ids: &[String]) -> StoreResult<Vec<ResponseRecord>> {
    let db = db.conn();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(disposition_response::Entity::find()
        .filter(disposition_response::Column::DispositionId.is_in(ids.iter().cloned()))
        .order_by_asc(disposition_response::Column::CreatedAtUs)
        .all(db)
        .await?)
}

/// Filters of a listing.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    pub statuses: Vec<i16>,
    /// Only overdue at this time.
    pub overdue_at: Option<i64>,
}

fn overdue(now: i64) -> Condition {
    Condition::all()
        .add(disposition_recipient::Column::DueUs.lt(now))
        .add(
            disposition_recipient::Column::Status
                .is_not_in([RecipientStatus::Done, RecipientStatus::Cancelled]),
        )
}

/// Received: recipient rows of `positions`, newest first, after (created, disposition id).
pub async fn list_received(
    db: &impl Db,
    positions: &[String],
    f: &ListFilter,
    after: Option<(i64, String)>,
    limit: u64,
) -> StoreResult<Vec<RecipientRecord>> {
    let db = db.conn();
    if positions.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = disposition_recipient::Entity::find()
        .filter(disposition_recipient::Column::PositionId.is_in(positions.iter().cloned()))
        .filter(disposition_recipient::Column::Status.ne(RecipientStatus::Draft));
    if !f.statuses.is_empty() {
        q = q.filter(disposition_recipient::Column::Status.is_in(f.statuses.iter().copied()));
    }
    if let Some(now) = f.overdue_at {
        q = q.filter(overdue(now));
    }
    if let Some((t, id)) = after {
        q = q.filter(
            Condition::any()
                .add(disposition_recipient::Column::CreatedAtUs.lt(t))
                .add(
                    Condition::all()
                        .add(disposition_recipient::Column::CreatedAtUs.eq(t))
                        .add(disposition_recipient::Column::DispositionId.lt(id)),
                ),
        );
    }
    Ok(q.order_by_desc(disposition_recipient::Column::CreatedAtUs)
        .order_by_desc(disposition_recipient::Column::DispositionId)
        .limit(limit)
        .all(db)
        .await?)
}

/// Sent (or, with `drafts`, drafts) by `positions` (or drafted by `user`), newest first.
pub async fn list_sent(
    db: &impl Db,
    positions: &[String],
    drafts_of_user: Option<&str>,
    f: &ListFilter,
    after: Option<(i64, String)>,
    limit: u64,
) -> StoreResult<Vec<DispositionRecord>> {
    let db = db.conn();
    let mut q = disposition::Entity::find();
    match drafts_of_user {
        Some(_) => {
            // Drafts of the positions the caller holds or serves now: a
            // secretary who no longer serves a position no longer sees the
            // drafts they prepared for it.
            if positions.is_empty() {
                return Ok(Vec::new());
            }
            q = q
                .filter(disposition::Column::State.eq(DispositionState::Draft))
                .filter(disposition::Column::SenderPositionId.is_in(positions.iter().cloned()));
        }
        None => {
            if positions.is_empty() {
                return Ok(Vec::new());
            }
            q = q
                .filter(disposition::Column::SenderPositionId.is_in(positions.iter().cloned()))
                .filter(disposition::Column::State.ne(DispositionState::Draft));
        }
    }
    if !f.statuses.is_empty() || f.overdue_at.is_some() {
        let mut sub = Query::select();
        sub.column(disposition_recipient::Column::DispositionId)
            .from(disposition_recipient::Entity);
        if !f.statuses.is_empty() {
            sub.and_where(
                Expr::col(disposition_recipient::Column::Status).is_in(f.statuses.iter().copied()),
            );
        }
        if let Some(now) = f.overdue_at {
            sub.cond_where(overdue(now));
        }
        q = q.filter(disposition::Column::Id.in_subquery(sub.to_owned()));
    }
    if let Some((t, id)) = after {
        q = q.filter(
            Condition::any()
                .add(disposition::Column::CreatedAtUs.lt(t))
                .add(
                    Condition::all()
                        .add(disposition::Column::CreatedAtUs.eq(t))
                        .add(disposition::Column::Id.lt(id)),
                ),
        );
    }
    Ok(q.order_by_desc(disposition::Column::CreatedAtUs)
        .order_by_desc(disposition::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

// Writes of a change, held back in its transaction (see `WriteTx::write`).

/// Inserts a new disposition.
pub async fn insert(tx: &mut WriteTx, d: &DispositionRecord) -> StoreResult<()> {
    let st = insert_stmt(tx.db_backend(), d);
    tx.write(st).await
}

/// Deletes a disposition's recipients.
pub async fn delete_recipients(tx: &mut WriteTx, disposition_id: &str) -> StoreResult<()> {
    let st = delete_recipients_stmt(tx.db_backend(), disposition_id);
    tx.write(st).await
}

/// Inserts recipients.
pub async fn insert_recipients(tx: &mut WriteTx, rows: &[RecipientRecord]) -> StoreResult<()> {
    match insert_recipients_stmt(tx.db_backend(), rows) {
        Some(st) => tx.write(st).await,
        None => Ok(()),
    }
}

/// Saves a recipient row.
pub async fn save_recipient(tx: &mut WriteTx, r: &RecipientRecord) -> StoreResult<()> {
    let st = save_recipient_stmt(tx.db_backend(), r);
    tx.write(st).await
}

/// Inserts a follow-up report.
pub async fn insert_response(tx: &mut WriteTx, r: &ResponseRecord) -> StoreResult<()> {
    let st = insert_response_stmt(tx.db_backend(), r);
    tx.write(st).await
}
