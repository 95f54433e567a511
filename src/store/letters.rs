//! Letters, their versions, routes, addressees, comments, folders, number
//! counters and signatures in the database.

use crate::store::Db;
use sea_orm::sea_query::{Alias, Asterisk, Expr, OnConflict, Order, Query, UnionType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, ExprTrait,
    IdenStatic, Iterable, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set, Statement,
};

use super::access::Access;
use super::engine::mark;
use super::entities::{
    letter, letter_addressee, letter_box, letter_comment, letter_signature, letter_step,
    letter_version, number_counter,
};
use super::read::{Cells, Decode, Reach, must};
use super::{Store, StoreError, StoreResult, WriteTx};

/// Folder numbers (the `Folder` enum of the contract); 7 lists every participant.
pub mod folder {
    pub const INBOX: i16 = 1;
    pub const CC: i16 = 2;
    pub const DRAFTS: i16 = 3;
    pub const TO_REVIEW: i16 = 4;
    pub const TO_SIGN: i16 = 5;
    pub const SENT: i16 = 6;
    pub const ALL: i16 = 7;
}

/// A letter row.
pub type LetterRecord = letter::Model;
/// A route step row.
pub type StepRecord = letter_step::Model;
/// An addressee row (kind 1 = to, 2 = cc).
pub type AddresseeRecord = letter_addressee::Model;
/// A version row.
pub type VersionRecord = letter_version::Model;
/// A comment row.
pub type CommentRecord = letter_comment::Model;
/// A signature row.
pub type SignatureRecord = letter_signature::Model;

fn active<M: Clone, A: From<M>>(m: &M) -> A {
    A::from(m.clone())
}

pub async fn insert_letter(db: &impl Db, l: &LetterRecord) -> StoreResult<()> {
    let db = db.conn();
    db.execute_raw(insert_letter_stmt(db.get_database_backend(), l))
        .await?;
    Ok(())
}

/// The INSERT of a new letter (for [`super::WriteTx::write`]).
pub fn insert_letter_stmt(db: DbBackend, l: &LetterRecord) -> Statement {
    let am: letter::ActiveModel = active(l);
    letter::Entity::insert(am.reset_all()).build(db)
}

/// The UPDATE that writes `l` if its stored revision is still `expected` (one
/// row, else none; see [`super::WriteTx::write_one`]).
pub fn save_letter_stmt(db: DbBackend, l: &LetterRecord, expected: i64) -> Statement {
    let am: letter::ActiveModel = active(l);
    letter::Entity::update_many()
        .set(am.reset_all())
        .filter(letter::Column::Id.eq(l.id.as_str()))
        .filter(letter::Column::Revision.eq(expected))
        .build(db)
}

pub async fn letter(db: &impl Db, agency: &str, id: &str) -> StoreResult<Option<LetterRecord>> {
    let db = db.conn();
    Ok(letter::Entity::find_by_id(id.to_owned())
        .filter(letter::Column::AgencyId.eq(agency))
        .one(db)
        .await?)
}

/// The letter `id` of `agency`, its row locked against changes by other
/// transactions until this one ends (`FOR SHARE` on PostgreSQL; a SQLite write
/// transaction holds the database's write lock already): a decision taken on
/// it cannot be overtaken by a concurrent submit or signature.
pub async fn letter_locked(
    tx: &WriteTx,
    agency: &str,
    id: &str,
) -> StoreResult<Option<LetterRecord>> {
    let db = tx.conn();
    Ok(letter::Entity::find_by_id(id.to_owned())
        .filter(letter::Column::AgencyId.eq(agency))
        .lock_shared()
        .one(db)
        .await?)
}

pub async fn delete_letter(db: &impl Db, id: &str) -> StoreResult<()> {
    let db = db.conn();
    letter_box::Entity::delete_many()
        .filter(letter_box::Column::LetterId.eq(id))
        .exec(db)
        .await?;
    letter_step::Entity::delete_many()
        .filter(letter_step::Column::LetterId.eq(id))
        .exec(db)
        .await?;
    letter_addressee::Entity::delete_many()
        .filter(letter_addressee::Column::LetterId.eq(id))
        .exec(db)
        .await?;
    letter_comment::Entity::delete_many()
        .filter(letter_comment::Column::LetterId.eq(id))
        .exec(db)
        .await?;
    letter_version::Entity::delete_many()
        .filter(letter_version::Column::LetterId.eq(id))
        .exec(db)
        .await?;
    letter::Entity::delete_by_id(id.to_owned()).exec(db).await?;
    Ok(())
}

// ---- route ----

pub async fn steps(db: &impl Db, letter_id: &str) -> StoreResult<Vec<StepRecord>> {
    let db = db.conn();
    Ok(letter_step::Entity::find()
        .filter(letter_step::Column::LetterId.eq(letter_id))
        .order_by_asc(letter_step::Column::Idx)
        .all(db)
        .await?)
}

pub async fn replace_steps(db: &impl Db, letter_id: &str, steps: &[StepRecord]) -> StoreResult<()> {
    let db = db.conn();
    letter_step::Entity::delete_many()
        .filter(letter_step::Column::LetterId.eq(letter_id))
        .exec(db)
        .await?;
    if !steps.is_empty() {
        let rows: Vec<letter_step::ActiveModel> = steps
            .iter()
            .map(|s| active::<_, letter_step::ActiveModel>(s).reset_all())
            .collect();
        letter_step::Entity::insert_many(rows).exec(db).await?;
    }
    Ok(())
}

pub async fn save_step(db: &impl Db, s: &StepRecord) -> StoreResult<()> {
    let db = db.conn();
    db.execute_raw(save_step_stmt(db.get_database_backend(), s))
        .await?;
    Ok(())
}

/// The UPDATE of a route step (one row).
pub fn save_step_stmt(db: DbBackend, s: &StepRecord) -> Statement {
    let am: letter_step::ActiveModel = active(s);
    letter_step::Entity::update_many()
        .set(am.reset_all())
        .filter(letter_step::Column::LetterId.eq(s.letter_id.as_str()))
        .filter(letter_step::Column::Idx.eq(s.idx))
        .build(db)
}

// ---- addressees ----

pub async fn addressees(db: &impl Db, letter_id: &str) -> StoreResult<Vec<AddresseeRecord>> {
    let db = db.conn();
    Ok(letter_addressee::Entity::find()
        .filter(letter_addressee::Column::LetterId.eq(letter_id))
        .order_by_asc(letter_addressee::Column::Kind)
        .order_by_asc(letter_addressee::Column::Idx)
        .all(db)
        .await?)
}

pub async fn replace_addressees(
    db: &impl Db,
    letter_id: &str,
    list: &[AddresseeRecord],
) -> StoreResult<()> {
    let db = db.conn();
    letter_addressee::Entity::delete_many()
        .filter(letter_addressee::Column::LetterId.eq(letter_id))
        .exec(db)
        .await?;
    if let Some(st) = insert_addressees_stmt(db.get_database_backend(), list) {
        db.execute_raw(st).await?;
    }
    Ok(())
}

/// The INSERT of addressees of a letter that has none yet (none for an empty
/// list).
pub fn insert_addressees_stmt(db: DbBackend, list: &[AddresseeRecord]) -> Option<Statement> {
    if list.is_empty() {
        return None;
    }
    let rows: Vec<letter_addressee::ActiveModel> = list
        .iter()
        .map(|a| active::<_, letter_addressee::ActiveModel>(a).reset_all())
        .collect();
    Some(letter_addressee::Entity::insert_many(rows).build(db))
}

// ---- versions and comments ----

pub async fn insert_version(db: &impl Db, v: &VersionRecord) -> StoreResult<()> {
    let db = db.conn();
    db.execute_raw(insert_version_stmt(db.get_database_backend(), v))
        .await?;
    Ok(())
}

/// The INSERT of a version.
pub fn insert_version_stmt(db: DbBackend, v: &VersionRecord) -> Statement {
    let am: letter_version::ActiveModel = active(v);
    letter_version::Entity::insert(am.reset_all()).build(db)
}

pub async fn versions(
    db: &impl Db,
    letter_id: &str,
    after: i32,
    limit: u64,
) -> StoreResult<Vec<VersionRecord>> {
    let db = db.conn();
    Ok(letter_version::Entity::find()
        .filter(letter_version::Column::LetterId.eq(letter_id))
        .filter(letter_version::Column::Version.gt(after))
        .order_by_asc(letter_version::Column::Version)
        .limit(limit)
        .all(db)
        .await?)
}

pub async fn insert_comment(db: &impl Db, c: &CommentRecord) -> StoreResult<()> {
    let db = db.conn();
    let am: letter_comment::ActiveModel = active(c);
    letter_comment::Entity::insert(am.reset_all())
        .exec(db)
        .await?;
    Ok(())
}

pub async fn comments(
    db: &impl Db,
    letter_id: &str,
    after: Option<(i64, String)>,
    limit: u64,
) -> StoreResult<Vec<CommentRecord>> {
    let db = db.conn();
    let mut q =
        letter_comment::Entity::find().filter(letter_comment::Column::LetterId.eq(letter_id));
    if let Some((t, id)) = after {
        q = q.filter(
            Condition::any()
                .add(letter_comment::Column::CreatedAtUs.gt(t))
                .add(
                    Condition::all()
                        .add(letter_comment::Column::CreatedAtUs.eq(t))
                        .add(letter_comment::Column::Id.gt(id)),
                ),
        );
    }
    Ok(q.order_by_asc(letter_comment::Column::CreatedAtUs)
        .order_by_asc(letter_comment::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

// ---- folders ----

/// Puts a letter into a position's folder (or moves it to the top).
pub async fn box_put(
    db: &impl Db,
    agency: &str,
    position_id: &str,
    folder: i16,
    letter_id: &str,
    sort_us: i64,
) -> StoreResult<()> {
    let db = db.conn();
    db.execute_raw(box_put_stmt(
        db.get_database_backend(),
        agency,
        position_id,
        folder,
        letter_id,
        sort_us,
    ))
    .await?;
    Ok(())
}

/// The upsert of [`box_put`].
pub fn box_put_stmt(
    db: DbBackend,
    agency: &str,
    position_id: &str,
    folder: i16,
    letter_id: &str,
    sort_us: i64,
) -> Statement {
    box_upsert(
        db,
        [box_row(agency, position_id, folder, letter_id, sort_us)],
    )
}

/// [`box_put_stmt`] of several folder entries of one letter in one statement
/// (an entry named twice is put once); `None` when there are none.
pub fn box_put_many_stmt(
    db: DbBackend,
    agency: &str,
    entries: &[(&str, i16)],
    letter_id: &str,
    sort_us: i64,
) -> Option<Statement> {
    let mut seen = std::collections::HashSet::new();
    let rows: Vec<letter_box::ActiveModel> = entries
        .iter()
        .filter(|e| seen.insert(**e))
        .map(|(position_id, folder)| box_row(agency, position_id, *folder, letter_id, sort_us))
        .collect();
    (!rows.is_empty()).then(|| box_upsert(db, rows))
}

/// A route step reached: the letter in the step's `folder` (TO_REVIEW or
/// TO_SIGN) sorted by `now_us`, and in its ALL folder sorted by the letter's
/// creation, in one statement.
pub fn box_put_reached_stmt(
    db: DbBackend,
    agency: &str,
    position_id: &str,
    folder: i16,
    letter_id: &str,
    now_us: i64,
    created_us: i64,
) -> Statement {
    box_upsert(
        db,
        [
            box_row(agency, position_id, folder, letter_id, now_us),
            box_row(
                agency,
                position_id,
                self::folder::ALL,
                letter_id,
                created_us,
            ),
        ],
    )
}

fn box_row(
    agency: &str,
    position_id: &str,
    folder: i16,
    letter_id: &str,
    sort_us: i64,
) -> letter_box::ActiveModel {
    letter_box::ActiveModel {
        position_id: Set(position_id.to_owned()),
        folder: Set(folder),
        letter_id: Set(letter_id.to_owned()),
        agency_id: Set(agency.to_owned()),
        sort_us: Set(sort_us),
        read_at_us: Set(None),
    }
}

/// Inserts `rows` (at least one), an existing entry only moving to the new
/// sort time.
fn box_upsert(db: DbBackend, rows: impl IntoIterator<Item = letter_box::ActiveModel>) -> Statement {
    letter_box::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                letter_box::Column::PositionId,
                letter_box::Column::Folder,
                letter_box::Column::LetterId,
            ])
            .update_column(letter_box::Column::SortUs)
            .to_owned(),
        )
        .build(db)
}

/// Removes a letter from one folder of every position (or of one position).
pub async fn box_remove(
    db: &impl Db,
    letter_id: &str,
    folder: i16,
    position_id: Option<&str>,
) -> StoreResult<()> {
    let db = db.conn();
    db.execute_raw(box_remove_stmt(
        db.get_database_backend(),
        letter_id,
        folder,
        position_id,
    ))
    .await?;
    Ok(())
}

/// The DELETE of [`box_remove`].
pub fn box_remove_stmt(
    db: DbBackend,
    letter_id: &str,
    folder: i16,
    position_id: Option<&str>,
) -> Statement {
    let mut q = letter_box::Entity::delete_many()
        .filter(letter_box::Column::LetterId.eq(letter_id))
        .filter(letter_box::Column::Folder.eq(folder));
    if let Some(p) = position_id {
        q = q.filter(letter_box::Column::PositionId.eq(p));
    }
    q.build(db)
}

/// Marks a letter read in the INBOX and CC folders of a position; the first read time.
pub async fn box_mark_read(
    db: &impl Db,
    position_id: &str,
    letter_id: &str,
    now_us: i64,
) -> StoreResult<Option<i64>> {
    let db = db.conn();
    let rows = letter_box::Entity::find()
        .filter(letter_box::Column::PositionId.eq(position_id))
        .filter(letter_box::Column::LetterId.eq(letter_id))
        .filter(letter_box::Column::Folder.is_in([folder::INBOX, folder::CC]))
        .all(db)
        .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    letter_box::Entity::update_many()
        .col_expr(letter_box::Column::ReadAtUs, Expr::value(now_us))
        .filter(letter_box::Column::PositionId.eq(position_id))
        .filter(letter_box::Column::LetterId.eq(letter_id))
        .filter(letter_box::Column::Folder.is_in([folder::INBOX, folder::CC]))
        .filter(letter_box::Column::ReadAtUs.is_null())
        .exec(db)
        .await?;
    Ok(Some(
        rows.iter()
            .filter_map(|r| r.read_at_us)
            .min()
            .unwrap_or(now_us),
    ))
}

/// True when the letter sits in `folder` of any of `positions` (one indexed lookup).
pub async fn in_folder(
    db: &impl Db,
    letter_id: &str,
    positions: &[String],
    folder: i16,
) -> StoreResult<bool> {
    let db = db.conn();
    if positions.is_empty() {
        return Ok(false);
    }
    Ok(letter_box::Entity::find()
        .filter(letter_box::Column::LetterId.eq(letter_id))
        .filter(letter_box::Column::Folder.eq(folder))
        .filter(letter_box::Column::PositionId.is_in(positions.iter().cloned()))
        .one(db)
        .await?
        .is_some())
}

/// True when any of `positions` takes part in the letter.
pub async fn is_participant(
    db: &impl Db,
    letter_id: &str,
    positions: &[String],
) -> StoreResult<bool> {
    let db = db.conn();
    in_folder(db, letter_id, positions, folder::ALL).await
}

/// Filters of a folder listing.
#[derive(Clone, Debug, Default)]
pub struct BoxFilter {
    pub types: Vec<i16>,
    pub urgencies: Vec<i16>,
    pub query: String,
    pub unread_only: bool,
    pub created_from_us: Option<i64>,
    pub created_to_us: Option<i64>,
}

impl BoxFilter {
    /// True when it filters nothing (every entry of the folder is listed).
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
            && self.urgencies.is_empty()
            && self.query.is_empty()
            && !self.unread_only
            && self.created_from_us.is_none()
            && self.created_to_us.is_none()
    }
}

/// One listed letter with its folder entry.
#[derive(Clone, Debug)]
pub struct Listed {
    pub letter: LetterRecord,
    pub sort_us: i64,
    pub read_at_us: Option<i64>,
}

fn listed(r: &dyn Cells) -> StoreResult<Listed> {
    Ok(Listed {
        sort_us: must(r.int(0)?, 0)?,
        read_at_us: r.int(1)?,
        letter: letter_at(r, 2)?,
    })
}

/// The letter's columns in the order of [`letter_at`], qualified by `alias`.
pub fn letter_columns(alias: &str) -> String {
    letter::Column::iter()
        .map(|c| format!("{alias}.{}", c.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A letter row whose columns start at `b`, in the entity's column order.
pub fn letter_at(r: &dyn Cells, b: usize) -> StoreResult<LetterRecord> {
    let t = |i: usize| -> StoreResult<String> { must(r.text(b + i)?, b + i) };
    let n = |i: usize| -> StoreResult<i16> { must(r.small(b + i)?, b + i) };
    let n32 = |i: usize| -> StoreResult<i32> { must(r.int32(b + i)?, b + i) };
    let n64 = |i: usize| -> StoreResult<i64> { must(r.int(b + i)?, b + i) };
    Ok(LetterRecord {
        id: t(0)?,
        agency_id: t(1)?,
        direction: n(2)?,
        state: n(3)?,
        letter_type: n(4)?,
        subject: t(5)?,
        body: t(6)?,
        body_sha256: t(7)?,
        security_level: n(8)?,
        urgency: n(9)?,
        classification_code: t(10)?,
        drafting_position_id: t(11)?,
        drafted_by_user_id: t(12)?,
        drafted_by_position_id: t(13)?,
        current_step: n32(14)?,
        version: n32(15)?,
        number: t(16)?,
        sign_time_us: r.int(b + 17)?,
        signer_user_id: t(18)?,
        signer_position_id: t(19)?,
        verification_code: r.text(b + 20)?,
        reference_letter_id: t(21)?,
        incoming: t(22)?,
        revision: n64(23)?,
        created_at_us: n64(24)?,
        updated_at_us: n64(25)?,
    })
}

/// A page of a folder of `positions`, newest first, after the key (sort_us,
/// letter_id): up to `limit` entries, each letter once, and the details
/// ([`details_of`]) of the first `shown` of them, read in one hand-off.
pub async fn list_box(
    store: &Store,
    positions: &[String],
    folder: i16,
    filter: &BoxFilter,
    after: Option<(i64, String)>,
    limit: u64,
    shown: usize,
) -> StoreResult<(Vec<Listed>, LetterDetails)> {
    // Each position's folder is one range of the folder index, read as far as
    // the page goes when nothing is filtered; a filter may pass over many
    // entries.
    let reach = if filter.is_empty() {
        Reach::Keyed
    } else {
        Reach::Scan
    };
    let backend = store.reader().get_database_backend();
    // The letter's columns without its body (a list shows no bodies; they are
    // the largest column), and the entry's sort key and read time.
    let mut q = letter_box::Entity::find()
        .select_only()
        .column_as(letter_box::Column::SortUs, "box_sort_us")
        .column_as(letter_box::Column::ReadAtUs, "box_read_at_us")
        .inner_join(letter::Entity);
    for c in letter::Column::iter() {
        q = if matches!(c, letter::Column::Body) {
            q.expr_as(Expr::value(""), "body")
        } else {
            q.column(c)
        };
    }
    let mut q = q.filter(letter_box::Column::Folder.eq(folder));
    if filter.unread_only {
        q = q.filter(letter_box::Column::ReadAtUs.is_null());
    }
    if !filter.types.is_empty() {
        q = q.filter(letter::Column::LetterType.is_in(filter.types.iter().copied()));
    }
    if !filter.urgencies.is_empty() {
        q = q.filter(letter::Column::Urgency.is_in(filter.urgencies.iter().copied()));
    }
    if !filter.query.is_empty() {
        q = q.filter(
            Condition::any()
                .add(letter::Column::Subject.contains(filter.query.as_str()))
                .add(letter::Column::Number.contains(filter.query.as_str())),
        );
    }
    if let Some(f) = filter.created_from_us {
        q = q.filter(letter::Column::CreatedAtUs.gte(f));
    }
    if let Some(t) = filter.created_to_us {
        q = q.filter(letter::Column::CreatedAtUs.lt(t));
    }
    if let Some((s, id)) = after {
        q = q.filter(
            Condition::any().add(letter_box::Column::SortUs.lt(s)).add(
                Condition::all()
                    .add(letter_box::Column::SortUs.eq(s))
                    .add(letter_box::Column::LetterId.lt(id)),
            ),
        );
    }
    let page_of = |position: &str| {
        q.clone()
            .filter(letter_box::Column::PositionId.eq(position))
            .order_by_desc(letter_box::Column::SortUs)
            .order_by_desc(letter_box::Column::LetterId)
            .limit(limit)
    };
    let rows = match positions {
        [] => return Ok((Vec::new(), LetterDetails::default())),
        [one] => page_of(one).build(backend),
        [first, rest @ ..] => {
            // Several positions: each one's page (an index range, not the whole
            // folder sorted), merged. A letter in the folders of several of them
            // comes once per folder, so all their rows are kept and the first
            // entry of each letter is taken below: every letter of the merged
            // page is within its own folder's first `limit` entries.
            let part = |i: usize, p: &str| {
                Query::select()
                    .column(Asterisk)
                    .from_subquery(page_of(p).into_query(), Alias::new(format!("p{i}")))
                    .to_owned()
            };
            let mut all = part(0, first);
            for (i, p) in rest.iter().enumerate() {
                all.union(UnionType::All, part(i + 1, p));
            }
            all.order_by(Alias::new("box_sort_us"), Order::Desc)
                .order_by(Alias::new("id"), Order::Desc)
                .limit(limit.saturating_mul(positions.len() as u64));
            backend.build(&all)
        }
    };
    let (page, details) = store
        .rows_then(
            rows,
            listed,
            move |rows: &mut Vec<Listed>| {
                let mut seen = std::collections::HashSet::new();
                rows.retain(|r| seen.insert(r.letter.id.clone()));
                rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
                let ids: Vec<String> = rows
                    .iter()
                    .take(shown)
                    .map(|r| r.letter.id.clone())
                    .collect();
                details_then(backend, ids)
            },
            reach,
        )
        .await?;
    Ok((page, collect_details(details)))
}

// ---- numbering ----

/// The next number of a counter, inside the signing transaction: unique and
/// gap-free (a rolled-back transaction gives its number back).
pub async fn next_seq(db: &impl Db, agency: &str, scope_key: &str, year: i32) -> StoreResult<i64> {
    let db = db.conn();
    let seed = number_counter::ActiveModel {
        agency_id: Set(agency.to_owned()),
        scope_key: Set(scope_key.to_owned()),
        year: Set(year),
        last_seq: Set(0),
    };
    number_counter::Entity::insert(seed)
        .on_conflict_do_nothing_on([
            number_counter::Column::AgencyId,
            number_counter::Column::ScopeKey,
            number_counter::Column::Year,
        ])
        .exec(db)
        .await?;
    number_counter::Entity::update_many()
        .col_expr(
            number_counter::Column::LastSeq,
            Expr::col(number_counter::Column::LastSeq).add(1),
        )
        .filter(number_counter::Column::AgencyId.eq(agency))
        .filter(number_counter::Column::ScopeKey.eq(scope_key))
        .filter(number_counter::Column::Year.eq(year))
        .exec(db)
        .await?;
    let row = number_counter::Entity::find_by_id((agency.to_owned(), scope_key.to_owned(), year))
        .one(db)
        .await?
        .ok_or_else(|| StoreError::Corrupt("number counter vanished".into()))?;
    Ok(row.last_seq)
}

// ---- signatures ----

pub async fn insert_signature(db: &impl Db, s: &SignatureRecord) -> StoreResult<()> {
    let db = db.conn();
    let am: letter_signature::ActiveModel = active(s);
    letter_signature::Entity::insert(am.reset_all())
        .exec(db)
        .await?;
    Ok(())
}

pub async fn signature(db: &impl Db, letter_id: &str) -> StoreResult<Option<SignatureRecord>> {
    let db = db.conn();
    Ok(letter_signature::Entity::find_by_id(letter_id.to_owned())
        .one(db)
        .await?)
}

/// Route steps of several letters.
pub async fn steps_of(db: &impl Db, ids: &[String]) -> StoreResult<Vec<StepRecord>> {
    let db = db.conn();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(letter_step::Entity::find()
        .filter(letter_step::Column::LetterId.is_in(ids.iter().cloned()))
        .order_by_asc(letter_step::Column::LetterId)
        .order_by_asc(letter_step::Column::Idx)
        .all(db)
        .await?)
}

/// Addressees of several letters.
pub async fn addressees_of(db: &impl Db, ids: &[String]) -> StoreResult<Vec<AddresseeRecord>> {
    let db = db.conn();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(letter_addressee::Entity::find()
        .filter(letter_addressee::Column::LetterId.is_in(ids.iter().cloned()))
        .order_by_asc(letter_addressee::Column::LetterId)
        .order_by_asc(letter_addressee::Column::Kind)
        .order_by_asc(letter_addressee::Column::Idx)
        .all(db)
        .await?)
}

/// Read receipts of several letters: (letter, position, read time).
pub async fn receipts_of(db: &impl Db, ids: &[String]) -> StoreResult<Vec<(String, String, i64)>> {
    let db = db.conn();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(letter_box::Entity::find()
        .filter(letter_box::Column::LetterId.is_in(ids.iter().cloned()))
        .filter(letter_box::Column::Folder.is_in([folder::INBOX, folder::CC]))
        .filter(letter_box::Column::ReadAtUs.is_not_null())
        .all(db)
        .await?
        .into_iter()
        .filter_map(|b| b.read_at_us.map(|t| (b.letter_id, b.position_id, t)))
        .collect())
}

/// `n` comma-separated parameter marks, after `before` earlier ones.
fn placeholders(backend: DbBackend, before: usize, n: usize) -> String {
    (before + 1..=before + n)
        .map(|k| mark(backend, k))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn letter_taking_part(r: &dyn Cells) -> StoreResult<(LetterRecord, bool)> {
    Ok((
        letter_at(r, 0)?,
        must(r.boolean(LETTER_COLUMNS)?, LETTER_COLUMNS)?,
    ))
}

/// A letter of `agency`, and whether any of `positions` takes part in it (its
/// ALL folder), in one statement.
pub async fn letter_for(
    store: &Store,
    agency: &str,
    id: &str,
    positions: &[String],
) -> StoreResult<Option<(LetterRecord, bool)>> {
    let stmt = letter_for_stmt(store.reader().get_database_backend(), agency, id, positions);
    Ok(store
        .rows(stmt, letter_taking_part, Reach::Keyed)
        .await?
        .pop())
}

/// Whether letter `id` of `agency` exists and, if so, whether it is in the
/// inbox of `position`: one statement.
pub async fn in_inbox_of(
    db: &impl Db,
    agency: &str,
    id: &str,
    position: &str,
) -> StoreResult<Option<bool>> {
    let db = db.conn();
    let backend = db.get_database_backend();
    let sql = format!(
        "SELECT CAST(CASE WHEN EXISTS (SELECT 1 FROM letter_box b WHERE b.letter_id = l.id \
         AND b.folder = {inbox} AND b.position_id = {m1}) THEN 1 ELSE 0 END AS BIGINT) \
         FROM letter l WHERE l.id = {m2} AND l.agency_id = {m3}",
        inbox = folder::INBOX,
        // Numbered in the order they appear (SQLite's marks are positional).
        m1 = mark(backend, 1),
        m2 = mark(backend, 2),
        m3 = mark(backend, 3),
    );
    let stmt = sea_orm::Statement::from_sql_and_values(
        backend,
        sql,
        [position.into(), id.into(), agency.into()],
    );
    match db.query_one_raw(stmt).await? {
        Some(row) => Ok(Some(row.try_get_by_index::<i64>(0)? == 1)),
        None => Ok(None),
    }
}

/// [`letter_for`] inside a write transaction on PostgreSQL (one statement and
/// one round trip instead of two). SQLite's write connection types its rows by
/// entity column, which the by-position decoder does not read; its statements
/// do not leave the writer's thread, so it reads the two apart.
pub async fn letter_for_in(
    db: &impl Db,
    agency: &str,
    id: &str,
    positions: &[String],
) -> StoreResult<Option<(LetterRecord, bool)>> {
    let db = db.conn();
    let backend = db.get_database_backend();
    if backend != sea_orm::DbBackend::Postgres {
        let Some(l) = letter(db, agency, id).await? else {
            return Ok(None);
        };
        let part = is_participant(db, id, positions).await?;
        return Ok(Some((l, part)));
    }
    db.query_one_raw(letter_for_stmt(backend, agency, id, positions))
        .await?
        .map(|row| letter_taking_part(&row))
        .transpose()
}

/// [`letter_for`] and, when `shown` says the caller may see the letter (given
/// it and the caller's part in it), its details: one hand-off on SQLite, one
/// statement on PostgreSQL.
pub async fn letter_for_with_details(
    store: &Store,
    agency: &str,
    id: &str,
    positions: &[String],
    shown: fn(&LetterRecord, bool) -> bool,
) -> StoreResult<Option<(LetterRecord, bool, LetterDetails)>> {
    let backend = store.reader().get_database_backend();
    if backend == sea_orm::DbBackend::Postgres {
        // One statement instead of two one after the other; the details of a
        // letter the caller may not see are read and dropped here.
        let stmt = letter_stmt(backend, agency, id, positions, true);
        let mut letter = None;
        let mut details = Vec::new();
        for row in store.rows(stmt, letter_or_detail, Reach::Keyed).await? {
            match row {
                LetterOrDetail::Letter(l, part) => letter = Some((*l, part)),
                LetterOrDetail::Detail(d) => details.push(d),
            }
        }
        return Ok(letter.map(|(l, part)| {
            let details = if shown(&l, part) {
                collect_details(details)
            } else {
                LetterDetails::default()
            };
            (l, part, details)
        }));
    }
    let stmt = letter_for_stmt(backend, agency, id, positions);
    let (mut found, details) = store
        .rows_then(
            stmt,
            letter_taking_part,
            move |rows: &mut Vec<(LetterRecord, bool)>| {
                rows.truncate(1);
                match rows.first() {
                    Some((l, part)) if shown(l, *part) => details_then(backend, vec![l.id.clone()]),
                    _ => Vec::new(),
                }
            },
            Reach::Keyed,
        )
        .await?;
    Ok(found
        .pop()
        .map(|(l, part)| (l, part, collect_details(details))))
}

/// The statement of [`letter_for`].
pub(super) fn letter_for_stmt(
    backend: sea_orm::DbBackend,
    agency: &str,
    id: &str,
    positions: &[String],
) -> sea_orm::Statement {
    letter_stmt(backend, agency, id, positions, false)
}

/// The statement of [`letter_for`], or with `details` (PostgreSQL only) the
/// letter and its details in one statement: the details' arms ([`detail_arms`])
/// joined laterally to the letter, after a first arm (kind 0) that alone
/// carries the letter's columns (they are NULL on the details' rows).
fn letter_stmt(
    backend: sea_orm::DbBackend,
    agency: &str,
    id: &str,
    positions: &[String],
    details: bool,
) -> sea_orm::Statement {
    let taking_part = if positions.is_empty() {
        "(1 = 0)".to_owned()
    } else {
        format!(
            "EXISTS (SELECT 1 FROM letter_box b WHERE b.letter_id = l.id AND b.folder = {all} \
             AND b.position_id IN ({marks}))",
            all = folder::ALL,
            marks = placeholders(backend, 0, positions.len()),
        )
    };
    let select = if details {
        let cols = letter::Column::iter()
            .map(|c| format!("CASE WHEN x.k = 0 THEN l.{} END", c.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "SELECT {cols}, CASE WHEN x.k = 0 THEN {taking_part} END, x.* FROM letter l \
             CROSS JOIN LATERAL (SELECT CAST(0 AS BIGINT) AS k, CAST(NULL AS TEXT) AS letter_id, \
             CAST(NULL AS TEXT) AS t1, CAST(NULL AS TEXT) AS t2, CAST(NULL AS TEXT) AS t3, \
             CAST(NULL AS TEXT) AS t4, CAST(NULL AS TEXT) AS t5, CAST(NULL AS TEXT) AS t6, \
             CAST(NULL AS BIGINT) AS n1, CAST(NULL AS BIGINT) AS n2, CAST(NULL AS BIGINT) AS n3, \
             CAST(NULL AS BIGINT) AS n4, CAST(NULL AS BIGINT) AS n5, CAST(NULL AS BIGINT) AS n6 \
             UNION ALL {arms}) x",
            arms = detail_arms(|table, alias, and| {
                format!("FROM {table} {alias} WHERE {alias}.letter_id = l.id{and}")
            }),
        )
    } else {
        format!(
            "SELECT {cols}, {taking_part} FROM letter l",
            cols = letter_columns("l")
        )
    };
    // SQLite binds `?` in the order of the text: the positions come first.
    let sql = format!(
        "{select} WHERE l.id = {p1} AND l.agency_id = {p2}",
        p1 = mark(backend, positions.len() + 1),
        p2 = mark(backend, positions.len() + 2),
    );
    let values: Vec<sea_orm::Value> = positions
        .iter()
        .map(String::as_str)
        .chain([id, agency])
        .map(sea_orm::Value::from)
        .collect();
    sea_orm::Statement::from_sql_and_values(backend, sql, values)
}

/// A row of [`letter_stmt`] with details: the letter (kind 0) or a detail.
enum LetterOrDetail {
    Letter(Box<LetterRecord>, bool),
    Detail(Detail),
}

/// The letter's columns in [`letter_stmt`] (the entity's, in its order); the
/// caller's part in it follows them.
const LETTER_COLUMNS: usize = 26;

/// The column of [`letter_stmt`]'s details where a detail row starts: after
/// the letter's columns and the caller's part.
const DETAIL_BASE: usize = LETTER_COLUMNS + 1;

fn letter_or_detail(r: &dyn Cells) -> StoreResult<LetterOrDetail> {
    if must(r.int(DETAIL_BASE)?, DETAIL_BASE)? == 0 {
        let (l, part) = letter_taking_part(r)?;
        Ok(LetterOrDetail::Letter(Box::new(l), part))
    } else {
        Ok(LetterOrDetail::Detail(detail_at(r, DETAIL_BASE)?))
    }
}

/// Route steps, addressees, read receipts and attachments of several letters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LetterDetails {
    /// Steps, by letter and index.
    pub steps: Vec<StepRecord>,
    /// Addressees, by letter, kind and index.
    pub addressees: Vec<AddresseeRecord>,
    /// Read receipts: (letter, position, read time).
    pub receipts: Vec<(String, String, i64)>,
    /// Attachments, by letter, upload time and id.
    pub attachments: Vec<super::attachments::AttachmentRecord>,
}

/// The four detail tables of a page in one statement: a UNION ALL over a common
/// row shape (kind, letter, six texts, six integers), in no order: sorted by
/// [`collect_details`] (SQLite's four sorters for an ORDER BY cost four times
/// the read of one letter's details, and half as much again for a page). The
/// ids are a list of rows each table is joined to (bound once); with an `IN`
/// list per table SQLite took about twice as long for a 20-letter page.
fn details_sql(backend: sea_orm::DbBackend, n: usize) -> String {
    let rows = (1..=n)
        .map(|k| format!("({})", mark(backend, k)))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "WITH ids(id) AS (VALUES {rows}) {}",
        detail_arms(|table, alias, and| {
            format!("FROM ids JOIN {table} {alias} ON {alias}.letter_id = ids.id{and}")
        })
    )
}

/// The four arms of [`details_sql`]; `source(table, alias, extra)` names where
/// an arm's rows come from (`extra`: a further condition, empty or starting
/// with ` AND`).
fn detail_arms(source: impl Fn(&str, &str, &str) -> String) -> String {
    let receipts = format!(
        " AND b.folder IN ({inbox}, {cc}) AND b.read_at_us IS NOT NULL",
        inbox = folder::INBOX,
        cc = folder::CC,
    );
    format!(
        "SELECT CAST(1 AS BIGINT) AS k, s.letter_id, CAST(s.position_id AS TEXT) AS t1, \
         CAST(s.decided_by_user_id AS TEXT) AS t2, CAST(s.decided_by_position_id AS TEXT) AS t3, \
         CAST(NULL AS TEXT) AS t4, CAST(NULL AS TEXT) AS t5, CAST(NULL AS TEXT) AS t6, \
         CAST(s.idx AS BIGINT) AS n1, CAST(s.kind AS BIGINT) AS n2, \
         CAST(s.decision AS BIGINT) AS n3, CAST(s.decided_by_assignment_kind AS BIGINT) AS n4, \
         CAST(s.decide_time_us AS BIGINT) AS n5, CAST(s.version AS BIGINT) AS n6 \
         {steps} \
         UNION ALL SELECT 2, a.letter_id, a.position_id, a.external, a.display_name, \
         NULL, NULL, NULL, a.kind, a.idx, NULL, NULL, NULL, NULL \
         {addressees} \
         UNION ALL SELECT 3, b.letter_id, b.position_id, NULL, NULL, NULL, NULL, NULL, \
         b.read_at_us, NULL, NULL, NULL, NULL, NULL \
         {receipts} \
         UNION ALL SELECT 4, t.letter_id, t.id, t.agency_id, t.file_name, t.media_type, \
         t.sha256, t.uploaded_by_user_id, t.created_at_us, t.size_bytes, \
         CASE WHEN t.is_scan THEN 1 ELSE 0 END, NULL, NULL, NULL \
         {attachments}",
        steps = source("letter_step", "s", ""),
        addressees = source("letter_addressee", "a", ""),
        receipts = source("letter_box", "b", &receipts),
        attachments = source("attachment", "t", ""),
    )
}

/// One row of [`details_sql`].
enum Detail {
    Step(StepRecord),
    Addressee(AddresseeRecord),
    Receipt(String, String, i64),
    Attachment(super::attachments::AttachmentRecord),
}

fn detail(r: &dyn Cells) -> StoreResult<Detail> {
    detail_at(r, 0)
}

/// A row of [`detail_arms`] whose columns start at `b`.
fn detail_at(r: &dyn Cells, b: usize) -> StoreResult<Detail> {
    let small = |v: Option<i64>| -> StoreResult<i16> {
        i16::try_from(v.unwrap_or_default())
            .map_err(|_| StoreError::Corrupt("a small number out of range".into()))
    };
    let int = |v: Option<i64>| -> StoreResult<i32> {
        i32::try_from(v.unwrap_or_default())
            .map_err(|_| StoreError::Corrupt("a number out of range".into()))
    };
    let k = must(r.int(b)?, b)?;
    let letter_id = must(r.text(b + 1)?, b + 1)?;
    let t = |i: usize| -> StoreResult<String> { Ok(r.text(b + 1 + i)?.unwrap_or_default()) };
    let n = |i: usize| -> StoreResult<Option<i64>> { r.int(b + 7 + i) };
    Ok(match k {
        1 => Detail::Step(StepRecord {
            letter_id,
            idx: int(n(1)?)?,
            position_id: t(1)?,
            kind: small(n(2)?)?,
            decision: small(n(3)?)?,
            decided_by_user_id: t(2)?,
            decided_by_position_id: t(3)?,
            decided_by_assignment_kind: small(n(4)?)?,
            decide_time_us: n(5)?,
            version: int(n(6)?)?,
        }),
        2 => Detail::Addressee(AddresseeRecord {
            letter_id,
            kind: small(n(1)?)?,
            idx: int(n(2)?)?,
            position_id: t(1)?,
            external: t(2)?,
            display_name: t(3)?,
        }),
        3 => Detail::Receipt(letter_id, t(1)?, n(1)?.unwrap_or_default()),
        _ => Detail::Attachment(super::attachments::AttachmentRecord {
            id: t(1)?,
            letter_id,
            agency_id: t(2)?,
            file_name: t(3)?,
            media_type: t(4)?,
            sha256: t(5)?,
            uploaded_by_user_id: t(6)?,
            created_at_us: n(1)?.unwrap_or_default(),
            size_bytes: n(2)?.unwrap_or_default(),
            is_scan: n(3)? == Some(1),
        }),
    })
}

/// [`details_stmt`] with its decoder, as a next read of [`Store::rows_then`].
fn details_then(
    backend: sea_orm::DbBackend,
    ids: Vec<String>,
) -> Vec<(sea_orm::Statement, Decode<Detail>)> {
    details_stmt(backend, ids)
        .map(|st| (st, detail as Decode<Detail>))
        .into_iter()
        .collect()
}

/// Steps, addressees, read receipts and attachments of several letters, in one
/// statement (a page's details cost one round trip, whatever its size).
pub async fn details_of(store: &Store, ids: &[String]) -> StoreResult<LetterDetails> {
    let backend = store.reader().get_database_backend();
    match details_stmt(backend, ids.to_vec()) {
        Some(stmt) => Ok(collect_details(
            store.rows(stmt, detail, Reach::Keyed).await?,
        )),
        None => Ok(LetterDetails::default()),
    }
}

/// The statement of [`details_of`] (none for no ids).
fn details_stmt(backend: sea_orm::DbBackend, mut ids: Vec<String>) -> Option<sea_orm::Statement> {
    if ids.is_empty() {
        return None;
    }
    // Each id once: the statement joins the tables to the list.
    ids.sort_unstable();
    ids.dedup();
    let n = ids.len();
    let values: Vec<sea_orm::Value> = ids.into_iter().map(sea_orm::Value::from).collect();
    Some(sea_orm::Statement::from_sql_and_values(
        backend,
        details_sql(backend, n),
        values,
    ))
}

/// The rows of [`details_sql`] by kind, each kind in the order [`LetterDetails`]
/// names.
fn collect_details(rows: Vec<Detail>) -> LetterDetails {
    let mut out = LetterDetails::default();
    for d in rows {
        match d {
            Detail::Step(s) => out.steps.push(s),
            Detail::Addressee(a) => out.addressees.push(a),
            Detail::Receipt(l, p, t) => out.receipts.push((l, p, t)),
            Detail::Attachment(a) => out.attachments.push(a),
        }
    }
    out.sorted()
}

impl LetterDetails {
    /// The same details, each kind in the order [`LetterDetails`] names.
    pub fn sorted(mut self) -> Self {
        self.steps
            .sort_unstable_by(|a, b| (&a.letter_id, a.idx).cmp(&(&b.letter_id, b.idx)));
        self.addressees.sort_unstable_by(|a, b| {
            (&a.letter_id, a.kind, a.idx).cmp(&(&b.letter_id, b.kind, b.idx))
        });
        self.receipts
            .sort_unstable_by(|a, b| (&a.0, a.2, &a.1).cmp(&(&b.0, b.2, &b.1)));
        self.attachments.sort_unstable_by(|a, b| {
            (&a.letter_id, a.created_at_us, a.size_bytes, &a.id).cmp(&(
                &b.letter_id,
                b.created_at_us,
                b.size_bytes,
                &b.id,
            ))
        });
        self
    }
}

/// What VerifyLetter needs of a signed letter, read by its verification code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerificationRow {
    /// The letter's agency.
    pub agency_id: String,
    /// Letter number.
    pub number: String,
    /// Signing time.
    pub sign_time_us: Option<i64>,
    /// Security level code.
    pub security_level: i16,
    /// Subject.
    pub subject: String,
    /// Lifecycle state code.
    pub state: i16,
    /// The signed manifest.
    pub manifest: Vec<u8>,
    /// The CMS signature (DER).
    pub signature: Vec<u8>,
    /// SHA-256 of the manifest, hex.
    pub manifest_sha256: String,
    /// The agency's name (empty if the agency row is gone).
    pub agency_name: String,
    /// The agency's CA certificate (DER), if it has one.
    pub ca_der: Option<Vec<u8>>,
    /// Serial of the certificate the signature was made with, hex.
    pub cert_serial: String,
    /// That certificate's key: `None` when the key is not on record, else its
    /// revocation time (`Some(None)`: not revoked).
    pub key_revoked_at_us: Option<Option<i64>>,
}

fn verification_row(r: &dyn Cells) -> StoreResult<VerificationRow> {
    Ok(VerificationRow {
        agency_id: must(r.text(0)?, 0)?,
        number: must(r.text(1)?, 1)?,
        sign_time_us: r.int(2)?,
        security_level: must(r.small(3)?, 3)?,
        subject: must(r.text(4)?, 4)?,
        state: must(r.small(5)?, 5)?,
        manifest: must(r.bytes(6)?, 6)?,
        signature: must(r.bytes(7)?, 7)?,
        manifest_sha256: must(r.text(8)?, 8)?,
        agency_name: r.text(9)?.unwrap_or_default(),
        ca_der: r.bytes(10)?,
        cert_serial: must(r.text(11)?, 11)?,
        key_revoked_at_us: r.text(12)?.map(|_| r.int(13)).transpose()?,
    })
}

/// The signature, the letter, its agency's name and CA, and the signing key's
/// revocation of a verification code, in one statement.
pub async fn verification_of(store: &Store, code: &str) -> StoreResult<Option<VerificationRow>> {
    let backend = store.reader().get_database_backend();
    let param = mark(backend, 1);
    let sql = format!(
        "SELECT l.agency_id, l.number, l.sign_time_us, l.security_level, l.subject, l.state, \
         s.manifest, s.signature, s.manifest_sha256, a.name AS agency_name, c.cert_der, \
         s.cert_serial, k.serial, k.revoked_at_us \
         FROM letter_signature s JOIN letter l ON l.verification_code = s.verification_code \
         LEFT JOIN agency a ON a.id = l.agency_id \
         LEFT JOIN agency_ca c ON c.agency_id = l.agency_id \
         LEFT JOIN signing_key k ON k.serial = s.cert_serial \
         WHERE s.verification_code = {param} LIMIT 1"
    );
    let stmt = sea_orm::Statement::from_sql_and_values(backend, sql, [sea_orm::Value::from(code)]);
    Ok(store
        .rows(stmt, verification_row, Reach::Keyed)
        .await?
        .pop())
}

// Writes of a change, held back in its transaction and sent with its next
// statement or its commit (see `WriteTx::write`); a guarded save is sent at
// once and answers whether the revision still matched.

/// Inserts a new letter.
pub async fn create_letter(tx: &mut WriteTx, l: &LetterRecord) -> StoreResult<()> {
    let st = insert_letter_stmt(tx.db_backend(), l);
    tx.write(st).await
}

/// Saves `l` if its stored revision is still `expected`: false (and nothing
/// changed) when another change came first.
pub async fn save_letter(tx: &mut WriteTx, l: &LetterRecord, expected: i64) -> StoreResult<bool> {
    let st = save_letter_stmt(tx.db_backend(), l, expected);
    tx.write_one(st).await
}

/// Inserts a letter's addressees.
pub async fn insert_addressees(tx: &mut WriteTx, rows: &[AddresseeRecord]) -> StoreResult<()> {
    match insert_addressees_stmt(tx.db_backend(), rows) {
        Some(st) => tx.write(st).await,
        None => Ok(()),
    }
}

/// Inserts a version of a letter's text.
pub async fn create_version(tx: &mut WriteTx, v: &VersionRecord) -> StoreResult<()> {
    let st = insert_version_stmt(tx.db_backend(), v);
    tx.write(st).await
}

/// Saves a route step.
pub async fn update_step(tx: &mut WriteTx, s: &StepRecord) -> StoreResult<()> {
    let st = save_step_stmt(tx.db_backend(), s);
    tx.write(st).await
}

/// Puts a letter in several folders (see [`box_put_many_stmt`]).
pub async fn put_in_folders(
    tx: &mut WriteTx,
    agency: &str,
    entries: &[(&str, i16)],
    letter_id: &str,
    sort_us: i64,
) -> StoreResult<()> {
    match box_put_many_stmt(tx.db_backend(), agency, entries, letter_id, sort_us) {
        Some(st) => tx.write(st).await,
        None => Ok(()),
    }
}

/// A route step reached (see [`box_put_reached_stmt`]).
pub async fn put_reached(
    tx: &mut WriteTx,
    agency: &str,
    position_id: &str,
    folder: i16,
    letter_id: &str,
    now_us: i64,
    created_us: i64,
) -> StoreResult<()> {
    let st = box_put_reached_stmt(
        tx.db_backend(),
        agency,
        position_id,
        folder,
        letter_id,
        now_us,
        created_us,
    );
    tx.write(st).await
}

/// Takes a letter out of a folder (of one position, or of all).
pub async fn take_from_folder(
    tx: &mut WriteTx,
    letter_id: &str,
    folder: i16,
    position_id: Option<&str>,
) -> StoreResult<()> {
    let st = box_remove_stmt(tx.db_backend(), letter_id, folder, position_id);
    tx.write(st).await
}

#[cfg(test)]
mod tests {
    use sea_orm::Iterable;

    use super::{LETTER_COLUMNS, letter};

    #[test]
    fn the_letter_statement_has_the_entitys_columns() {
        assert_eq!(letter::Column::iter().count(), LETTER_COLUMNS);
    }
}
