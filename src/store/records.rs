//! Case files, filed letters and legal holds in the database.

use crate::store::Db;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::StoreResult;
use super::entities::{case_file, case_file_letter, legal_hold};

/// A case file row.
pub type CaseFileRecord = case_file::Model;
/// A hold row.
pub type HoldRecord = legal_hold::Model;

use crate::domain::lifecycle::CaseFileState;

pub async fn insert(db: &impl Db, c: &CaseFileRecord) -> StoreResult<()> {
    let db = db.conn();
    let am: case_file::ActiveModel = c.clone().into();
    case_file::Entity::insert(am.reset_all()).exec(db).await?;
    Ok(())
}

pub async fn save(db: &impl Db, c: &CaseFileRecord, expected: i64) -> StoreResult<bool> {
    let db = db.conn();
    let am: case_file::ActiveModel = c.clone().into();
    let r = case_file::Entity::update_many()
        .set(am.reset_all())
        .filter(case_file::Column::Id.eq(c.id.as_str()))
        .filter(case_file::Column::Revision.eq(expected))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

pub async fn get(db: &impl Db, agency: &str, id: &str) -> StoreResult<Option<CaseFileRecord>> {
    let db = db.conn();
    Ok(case_file::Entity::find_by_id(id.to_owned())
        .filter(case_file::Column::AgencyId.eq(agency))
        .one(db)
        .await?)
}

/// Case files by open time, newest first.
pub async fn list(
    db: &impl Db,
    agency: &str,
    unit: Option<&str>,
    class_root: Option<&str>,
    states: &[i16],
    after: Option<(i64, String)>,
    limit: u64,
) -> StoreResult<Vec<CaseFileRecord>> {
    let db = db.conn();
    let mut q = case_file::Entity::find().filter(case_file::Column::AgencyId.eq(agency));
    if let Some(u) = unit {
        q = q.filter(case_file::Column::UnitId.eq(u));
    }
    if let Some(r) = class_root {
        q = q.filter(
            Condition::any()
                .add(case_file::Column::ClassificationCode.eq(r))
                .add(case_file::Column::ClassificationCode.starts_with(format!("{r}."))),
        );
    }
    if !states.is_empty() {
        q = q.filter(case_file::Column::State.is_in(states.iter().copied()));
    }
    if let Some((t, id)) = after {
        q = q.filter(
            Condition::any().add(case_file::Column::OpenAtUs.lt(t)).add(
                Condition::all()
                    .add(case_file::Column::OpenAtUs.eq(t))
                    .add(case_file::Column::Id.lt(id)),
            ),
        );
    }
    Ok(q.order_by_desc(case_file::Column::OpenAtUs)
        .order_by_desc(case_file::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Closed case files of a final disposition whose retention ended by `as_of`, oldest first.
pub async fn due(
    db: &impl Db,
    agency: &str,
    final_disposition: i16,
    as_of: i64,
    after: Option<(i64, String)>,
    limit: u64,
) -> StoreResult<Vec<CaseFileRecord>> {
    let db = db.conn();
    let mut q = case_file::Entity::find()
        .filter(case_file::Column::AgencyId.eq(agency))
        .filter(case_file::Column::State.eq(CaseFileState::Closed))
        .filter(case_file::Column::FinalDisposition.eq(final_disposition))
        .filter(case_file::Column::InactiveUntilUs.lte(as_of));
    if let Some((t, id)) = after {
        q = q.filter(
            Condition::any()
                .add(case_file::Column::InactiveUntilUs.gt(t))
                .add(
                    Condition::all()
                        .add(case_file::Column::InactiveUntilUs.eq(t))
                        .add(case_file::Column::Id.gt(id)),
                ),
        );
    }
    Ok(q.order_by_asc(case_file::Column::InactiveUntilUs)
        .order_by_asc(case_file::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

pub async fn file_letter(
    db: &impl Db,
    agency: &str,
    case_file_id: &str,
    letter_id: &str,
    now: i64,
) -> StoreResult<()> {
    let db = db.conn();
    let am = case_file_letter::ActiveModel {
        letter_id: sea_orm::Set(letter_id.to_owned()),
        case_file_id: sea_orm::Set(case_file_id.to_owned()),
        agency_id: sea_orm::Set(agency.to_owned()),
        filed_at_us: sea_orm::Set(now),
    };
    case_file_letter::Entity::insert(am).exec(db).await?;
    Ok(())
}

/// The case file a letter is filed in.
pub async fn filed_in(db: &impl Db, letter_id: &str) -> StoreResult<Option<String>> {
    let db = db.conn();
    Ok(case_file_letter::Entity::find_by_id(letter_id.to_owned())
        .one(db)
        .await?
        .map(|r| r.case_file_id))
}

pub async fn letter_count(db: &impl Db, case_file_id: &str) -> StoreResult<u64> {
    let db = db.conn();
    Ok(case_file_letter::Entity::find()
        .filter(case_file_letter::Column::CaseFileId.eq(case_file_id))
        .count(db)
        .await?)
}

pub async fn insert_hold(db: &impl Db, h: &HoldRecord) -> StoreResult<()> {
    let db = db.conn();
    let am: legal_hold::ActiveModel = h.clone().into();
    legal_hold::Entity::insert(am.reset_all()).exec(db).await?;
    Ok(())
}

pub async fn save_hold(db: &impl Db, h: &HoldRecord) -> StoreResult<()> {
    let db = db.conn();
    let am: legal_hold::ActiveModel = h.clone().into();
    am.reset_all().update(db).await?;
    Ok(())
}

pub async fn hold(db: &impl Db, agency: &str, id: &str) -> StoreResult<Option<HoldRecord>> {
    let db = db.conn();
    Ok(legal_hold::Entity::find_by_id(id.to_owned())
        .filter(legal_hold::Column::AgencyId.eq(agency))
        .one(db)
        .await?)
}

/// True when an active hold covers the case file.
pub async fn case_file_held(db: &impl Db, case_file_id: &str) -> StoreResult<bool> {
    let db = db.conn();
    Ok(legal_hold::Entity::find()
        .filter(legal_hold::Column::CaseFileId.eq(case_file_id))
        .filter(legal_hold::Column::ReleasedAtUs.is_null())
        .one(db)
        .await?
        .is_some())
}

/// True when an active hold covers the letter, directly or through its case file.
pub async fn letter_held(db: &impl Db, letter_id: &str) -> StoreResult<bool> {
    let db = db.conn();
    let direct = legal_hold::Entity::find()
        .filter(legal_hold::Column::LetterId.eq(letter_id))
        .filter(legal_hold::Column::ReleasedAtUs.is_null())
        .one(db)
        .await?
        .is_some();
    if direct {
        return Ok(true);
    }
    match filed_in(db, letter_id).await? {
        Some(cf) => case_file_held(db, &cf).await,
        None => Ok(false),
    }
}

/// Every hold, active or released, on a case file or on any of the letters.
pub async fn holds_for(
    db: &impl Db,
    case_file_id: &str,
    letter_ids: &[String],
) -> StoreResult<Vec<HoldRecord>> {
    let db = db.conn();
    let mut cond = Condition::any().add(legal_hold::Column::CaseFileId.eq(case_file_id));
    if !letter_ids.is_empty() {
        cond = cond.add(legal_hold::Column::LetterId.is_in(letter_ids.iter().cloned()));
    }
    Ok(legal_hold::Entity::find()
        .filter(cond)
        .order_by_asc(legal_hold::Column::PlacedAtUs)
        .order_by_asc(legal_hold::Column::Id)
        .all(db)
        .await?)
}

/// True when an active hold covers the case file or any letter filed in it (one statement).
pub async fn case_file_or_letters_held(db: &impl Db, case_file_id: &str) -> StoreResult<bool> {
    let db = db.conn();
    let filed = sea_orm::sea_query::Query::select()
        .column(case_file_letter::Column::LetterId)
        .from(case_file_letter::Entity)
        .and_where(case_file_letter::Column::CaseFileId.eq(case_file_id))
        .to_owned();
    Ok(legal_hold::Entity::find()
        .filter(legal_hold::Column::ReleasedAtUs.is_null())
        .filter(
            Condition::any()
                .add(legal_hold::Column::CaseFileId.eq(case_file_id))
                .add(legal_hold::Column::LetterId.in_subquery(filed)),
        )
        .one(db)
        .await?
        .is_some())
}

/// Letters filed per case file, for several case files in one statement.
pub async fn letter_counts(
    db: &impl Db,
    ids: &[String],
) -> StoreResult<std::collections::HashMap<String, u64>> {
    let db = db.conn();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    /// Read by column name (a SQLite file's write connection names its
    /// values; see `write_conn`).
    #[derive(sea_orm::FromQueryResult)]
    struct Count {
        case_file_id: String,
        n: i64,
    }
    let rows = case_file_letter::Entity::find()
        .select_only()
        .column(case_file_letter::Column::CaseFileId)
        .column_as(case_file_letter::Column::LetterId.count(), "n")
        .filter(case_file_letter::Column::CaseFileId.is_in(ids.iter().cloned()))
        .group_by(case_file_letter::Column::CaseFileId)
        .into_model::<Count>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|c| (c.case_file_id, c.n.max(0) as u64))
        .collect())
}

/// Which of these case files an active hold covers, in one statement.
pub async fn held_case_files(
    db: &impl Db,
    ids: &[String],
) -> StoreResult<std::collections::HashSet<String>> {
    let db = db.conn();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<String> = legal_hold::Entity::find()
        .select_only()
        .column(legal_hold::Column::CaseFileId)
        .filter(legal_hold::Column::CaseFileId.is_in(ids.iter().cloned()))
        .filter(legal_hold::Column::ReleasedAtUs.is_null())
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}
