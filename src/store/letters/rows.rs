//! Letter rows and what hangs off them: routes, addressees, versions,
//! comments, number counters and signatures, and the held-back writes of a
//! change.

use super::*;

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
    entries: &[(&str, Folder)],
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
    folder: Folder,
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
    folder: Folder,
    position_id: Option<&str>,
) -> StoreResult<()> {
    let st = box_remove_stmt(tx.db_backend(), letter_id, folder, position_id);
    tx.write(st).await
}
