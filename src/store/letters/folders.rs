//! Folders: putting letters in, taking them out, read marks and the folder
//! listing.

use super::*;

/// Puts a letter into a position's folder (or moves it to the top).
pub async fn box_put(
    db: &impl Db,
    agency: &str,
    position_id: &str,
    folder: Folder,
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
    folder: Folder,
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
    entries: &[(&str, Folder)],
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
    folder: Folder,
    letter_id: &str,
    now_us: i64,
    created_us: i64,
) -> Statement {
    box_upsert(
        db,
        [
            box_row(agency, position_id, folder, letter_id, now_us),
            box_row(agency, position_id, Folder::All, letter_id, created_us),
        ],
    )
}

pub(super) fn box_row(
    agency: &str,
    position_id: &str,
    folder: Folder,
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
pub(super) fn box_upsert(
    db: DbBackend,
    rows: impl IntoIterator<Item = letter_box::ActiveModel>,
) -> Statement {
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
    folder: Folder,
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
    folder: Folder,
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
        .filter(letter_box::Column::Folder.is_in([Folder::Inbox, Folder::Cc]))
        .all(db)
        .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    letter_box::Entity::update_many()
        .col_expr(letter_box::Column::ReadAtUs, Expr::value(now_us))
        .filter(letter_box::Column::PositionId.eq(position_id))
        .filter(letter_box::Column::LetterId.eq(letter_id))
        .filter(letter_box::Column::Folder.is_in([Folder::Inbox, Folder::Cc]))
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
    folder: Folder,
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
    in_folder(db, letter_id, positions, Folder::All).await
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

pub(super) fn listed(r: &dyn Cells) -> StoreResult<Listed> {
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
        direction: crate::store::read::stored(n(2)?, b + 2)?,
        state: crate::store::read::stored(n(3)?, b + 3)?,
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
    folder: Folder,
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
