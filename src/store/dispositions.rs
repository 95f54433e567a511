//! Dispositions, their recipients and follow-up reports in the database.

use sea_orm::ExprTrait;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Statement,
};

use super::entities::{disposition, disposition_recipient, disposition_response};
use super::letters::{self, LetterRecord};
use super::read::{Cells, Decode, Reach, must};
use super::{Store, StoreResult};

/// A disposition row.
pub type DispositionRecord = disposition::Model;
/// A recipient row.
pub type RecipientRecord = disposition_recipient::Model;
/// A response row.
pub type ResponseRecord = disposition_response::Model;

/// Disposition states.
pub mod state {
    pub const DRAFT: i16 = 1;
    pub const ACTIVE: i16 = 2;
    pub const CANCELLED: i16 = 3;
}

/// Recipient statuses (the `DispositionStatus` numbers of the contract).
pub mod status {
    pub const DRAFT: i16 = 1;
    pub const UNREAD: i16 = 2;
    pub const READ: i16 = 3;
    pub const IN_PROGRESS: i16 = 4;
    pub const DONE: i16 = 5;
    pub const CANCELLED: i16 = 6;
}

/// The INSERT of a new disposition (for [`super::WriteTx::write`]).
pub fn insert_stmt(db: DbBackend, d: &DispositionRecord) -> Statement {
    let am: disposition::ActiveModel = d.clone().into();
    disposition::Entity::insert(am.reset_all()).build(db)
}

/// Writes `d` if its revision is still `expected`.
pub async fn save<C: ConnectionTrait>(
    db: &C,
    d: &DispositionRecord,
    expected: i64,
) -> StoreResult<bool> {
    let am: disposition::ActiveModel = d.clone().into();
    let r = disposition::Entity::update_many()
        .set(am.reset_all())
        .filter(disposition::Column::Id.eq(d.id.as_str()))
        .filter(disposition::Column::Revision.eq(expected))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

pub async fn get<C: ConnectionTrait>(
    db: &C,
    agency: &str,
    id: &str,
) -> StoreResult<Option<DispositionRecord>> {
    Ok(disposition::Entity::find_by_id(id.to_owned())
        .filter(disposition::Column::AgencyId.eq(agency))
        .one(db)
        .await?)
}

pub async fn of_letter<C: ConnectionTrait>(
    db: &C,
    letter_id: &str,
) -> StoreResult<Vec<DispositionRecord>> {
    Ok(disposition::Entity::find()
        .filter(disposition::Column::LetterId.eq(letter_id))
        .order_by_asc(disposition::Column::CreatedAtUs)
        .order_by_asc(disposition::Column::Id)
        .all(db)
        .await?)
}

/// The disposition tree of a letter of `agency`: its dispositions (by creation
/// time), their recipients and their responses, when `shown` says the caller
/// may see the letter (given it and whether any of `positions` takes part in
/// it); `None` when the letter is not there or not shown. The letter and the
/// three reads of the tree are one hand-off on SQLite.
pub async fn tree_for(
    store: &Store,
    agency: &str,
    letter_id: &str,
    positions: &[String],
    shown: fn(&LetterRecord, bool) -> bool,
) -> StoreResult<Option<Tree>> {
    let backend = store.reader().get_database_backend();
    let of_letter = || {
        Query::select()
            .column(disposition::Column::Id)
            .from(disposition::Entity)
            .and_where(Expr::col(disposition::Column::LetterId).eq(letter_id))
            .to_owned()
    };
    // Entity selects name every column in the model's order: the decoders below.
    let ds = disposition::Entity::find()
        .filter(disposition::Column::LetterId.eq(letter_id))
        .order_by_asc(disposition::Column::CreatedAtUs)
        .order_by_asc(disposition::Column::Id)
        .build(backend);
    let rs = disposition_recipient::Entity::find()
        .filter(disposition_recipient::Column::DispositionId.in_subquery(of_letter()))
        .order_by_asc(disposition_recipient::Column::PositionId)
        .build(backend);
    let ps = disposition_response::Entity::find()
        .filter(disposition_response::Column::DispositionId.in_subquery(of_letter()))
        .order_by_asc(disposition_response::Column::CreatedAtUs)
        .build(backend);
    let letter = letters::letter_for_stmt(backend, agency, letter_id, positions);
    let (found, rows) = store
        .rows_then(
            letter,
            letters::letter_taking_part,
            move |found: &mut Vec<(LetterRecord, bool)>| match found.first() {
                Some((l, part)) if shown(l, *part) => vec![
                    (
                        ds,
                        (|r| disposition_at(r).map(TreeRow::Disposition)) as Decode<TreeRow>,
                    ),
                    (rs, |r| recipient_at(r).map(TreeRow::Recipient)),
                    (ps, |r| response_at(r).map(TreeRow::Response)),
                ],
                _ => Vec::new(),
            },
            Reach::Keyed,
        )
        .await?;
    match found.first() {
        Some((l, part)) if shown(l, *part) => {}
        _ => return Ok(None),
    }
    let mut tree = Tree::default();
    for row in rows {
        match row {
            TreeRow::Disposition(d) => tree.0.push(d),
            TreeRow::Recipient(r) => tree.1.push(r),
            TreeRow::Response(p) => tree.2.push(p),
        }
    }
    Ok(Some(tree))
}

/// A letter's dispositions, their recipients and their responses.
pub type Tree = (
    Vec<DispositionRecord>,
    Vec<RecipientRecord>,
    Vec<ResponseRecord>,
);

/// A row of one of the tree's three reads.
enum TreeRow {
    Disposition(DispositionRecord),
    Recipient(RecipientRecord),
    Response(ResponseRecord),
}

fn disposition_at(r: &dyn Cells) -> StoreResult<DispositionRecord> {
    let t = |i: usize| -> StoreResult<String> { must(r.text(i)?, i) };
    let n = |i: usize| -> StoreResult<i16> { must(r.small(i)?, i) };
    Ok(DispositionRecord {
        id: t(0)?,
        agency_id: t(1)?,
        letter_id: t(2)?,
        parent_id: t(3)?,
        sender_position_id: t(4)?,
        sent_by_user_id: t(5)?,
        sent_by_assignment_kind: n(6)?,
        drafted_by_user_id: t(7)?,
        state: n(8)?,
        instruction_codes: t(9)?,
        note: t(10)?,
        due_us: r.int(11)?,
        urgency: n(12)?,
        revision: must(r.int(13)?, 13)?,
        created_at_us: must(r.int(14)?, 14)?,
    })
}

fn recipient_at(r: &dyn Cells) -> StoreResult<RecipientRecord> {
    let t = |i: usize| -> StoreResult<String> { must(r.text(i)?, i) };
    Ok(RecipientRecord {
        disposition_id: t(0)?,
        position_id: t(1)?,
        agency_id: t(2)?,
        status: must(r.small(3)?, 3)?,
        read_at_us: r.int(4)?,
        done_at_us: r.int(5)?,
        due_us: r.int(6)?,
        created_at_us: must(r.int(7)?, 7)?,
    })
}

fn response_at(r: &dyn Cells) -> StoreResult<ResponseRecord> {
    let t = |i: usize| -> StoreResult<String> { must(r.text(i)?, i) };
    Ok(ResponseRecord {
        id: t(0)?,
        disposition_id: t(1)?,
        position_id: t(2)?,
        user_id: t(3)?,
        assignment_kind: must(r.small(4)?, 4)?,
        note: t(5)?,
        status: must(r.small(6)?, 6)?,
        attachment_ids: t(7)?,
        created_at_us: must(r.int(8)?, 8)?,
    })
}

pub async fn by_ids<C: ConnectionTrait>(
    db: &C,
    ids: &[String],
) -> StoreResult<Vec<DispositionRecord>> {
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

pub async fn recipients_of<C: ConnectionTrait>(
    db: &C,
    ids: &[String],
) -> StoreResult<Vec<RecipientRecord>> {
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

pub async fn responses_of<C: ConnectionTrait>(
    db: &C,
    ids: &[String],
) -> StoreResult<Vec<ResponseRecord>> {
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
        .add(disposition_recipient::Column::Status.is_not_in([status::DONE, status::CANCELLED]))
}

/// Received: recipient rows of `positions`, newest first, after (created, disposition id).
pub async fn list_received<C: ConnectionTrait>(
    db: &C,
    positions: &[String],
    f: &ListFilter,
    after: Option<(i64, String)>,
    limit: u64,
) -> StoreResult<Vec<RecipientRecord>> {
    if positions.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = disposition_recipient::Entity::find()
        .filter(disposition_recipient::Column::PositionId.is_in(positions.iter().cloned()))
        .filter(disposition_recipient::Column::Status.ne(status::DRAFT));
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
pub async fn list_sent<C: ConnectionTrait>(
    db: &C,
    positions: &[String],
    drafts_of_user: Option<&str>,
    f: &ListFilter,
    after: Option<(i64, String)>,
    limit: u64,
) -> StoreResult<Vec<DispositionRecord>> {
    let mut q = disposition::Entity::find();
    match drafts_of_user {
        Some(user) => {
            q = q
                .filter(disposition::Column::State.eq(state::DRAFT))
                .filter(
                    Condition::any()
                        .add(disposition::Column::SenderPositionId.is_in(positions.iter().cloned()))
                        .add(disposition::Column::DraftedByUserId.eq(user)),
                );
        }
        None => {
            if positions.is_empty() {
                return Ok(Vec::new());
            }
            q = q
                .filter(disposition::Column::SenderPositionId.is_in(positions.iter().cloned()))
                .filter(disposition::Column::State.ne(state::DRAFT));
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
