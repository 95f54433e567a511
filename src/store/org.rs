//! Units, positions, assignments and secretaries in the database. Every query is
//! scoped to one agency.

use crate::store::Db;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, ExprTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::StoreResult;
use super::entities::{app_user, assignment, position, secretary, unit};
use super::identity::UserRecord;

/// A unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitRecord {
    pub id: String,
    pub agency_id: String,
    pub parent_unit_id: Option<String>,
    pub code: String,
    pub name: String,
    pub version: i64,
    pub created_at_us: i64,
    pub updated_at_us: i64,
}

impl From<unit::Model> for UnitRecord {
    fn from(m: unit::Model) -> Self {
        Self {
            id: m.id,
            agency_id: m.agency_id,
            parent_unit_id: m.parent_unit_id,
            code: m.code,
            name: m.name,
            version: m.version,
            created_at_us: m.created_at_us,
            updated_at_us: m.updated_at_us,
        }
    }
}

/// A position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PositionRecord {
    pub id: String,
    pub agency_id: String,
    pub unit_id: String,
    pub name: String,
    pub superior_position_id: Option<String>,
    pub is_unit_head: bool,
    pub version: i64,
    pub created_at_us: i64,
    pub updated_at_us: i64,
}

impl From<position::Model> for PositionRecord {
    fn from(m: position::Model) -> Self {
        Self {
            id: m.id,
            agency_id: m.agency_id,
            unit_id: m.unit_id,
            name: m.name,
            superior_position_id: m.superior_position_id,
            is_unit_head: m.is_unit_head,
            version: m.version,
            created_at_us: m.created_at_us,
            updated_at_us: m.updated_at_us,
        }
    }
}

/// An assignment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssignmentRecord {
    pub id: String,
    pub agency_id: String,
    pub user_id: String,
    pub position_id: String,
    pub kind: i16,
    pub valid_from_us: i64,
    pub valid_until_us: Option<i64>,
    pub basis: String,
    pub version: i64,
    pub created_at_us: i64,
}

impl From<assignment::Model> for AssignmentRecord {
    fn from(m: assignment::Model) -> Self {
        Self {
            id: m.id,
            agency_id: m.agency_id,
            user_id: m.user_id,
            position_id: m.position_id,
            kind: m.kind,
            valid_from_us: m.valid_from_us,
            valid_until_us: m.valid_until_us,
            basis: m.basis,
            version: m.version,
            created_at_us: m.created_at_us,
        }
    }
}

/// A LIMIT the drivers accept: `u64::MAX` (meaning "all") becomes no limit.
fn bounded(limit: u64) -> Option<u64> {
    (limit <= i64::MAX as u64).then_some(limit)
}

// ---- units ----

pub async fn unit(db: &impl Db, agency: &str, id: &str) -> StoreResult<Option<UnitRecord>> {
    let db = db.conn();
    Ok(unit::Entity::find_by_id(id.to_owned())
        .filter(unit::Column::AgencyId.eq(agency))
        .one(db)
        .await?
        .map(Into::into))
}

pub async fn unit_by_code(
    db: &impl Db,
    agency: &str,
    code: &str,
) -> StoreResult<Option<UnitRecord>> {
    let db = db.conn();
    Ok(unit::Entity::find()
        .filter(unit::Column::AgencyId.eq(agency))
        .filter(unit::Column::Code.eq(code))
        .one(db)
        .await?
        .map(Into::into))
}

pub async fn insert_unit(db: &impl Db, u: &UnitRecord) -> StoreResult<()> {
    let db = db.conn();
    unit::ActiveModel {
        id: Set(u.id.clone()),
        agency_id: Set(u.agency_id.clone()),
        parent_unit_id: Set(u.parent_unit_id.clone()),
        code: Set(u.code.clone()),
        name: Set(u.name.clone()),
        version: Set(u.version),
        created_at_us: Set(u.created_at_us),
        updated_at_us: Set(u.updated_at_us),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Writes `u` if the stored version is still `expected`; false otherwise.
pub async fn update_unit(db: &impl Db, u: &UnitRecord, expected: i64) -> StoreResult<bool> {
    let db = db.conn();
    let r = unit::Entity::update_many()
        .col_expr(
            unit::Column::ParentUnitId,
            Expr::value(u.parent_unit_id.clone()),
        )
        .col_expr(unit::Column::Code, Expr::value(u.code.clone()))
        .col_expr(unit::Column::Name, Expr::value(u.name.clone()))
        .col_expr(unit::Column::Version, Expr::value(u.version))
        .col_expr(unit::Column::UpdatedAtUs, Expr::value(u.updated_at_us))
        .filter(unit::Column::Id.eq(u.id.as_str()))
        .filter(unit::Column::AgencyId.eq(u.agency_id.as_str()))
        .filter(unit::Column::Version.eq(expected))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

pub async fn list_units(
    db: &impl Db,
    agency: &str,
    parent: Option<&str>,
    after_code: Option<&str>,
    limit: u64,
) -> StoreResult<Vec<UnitRecord>> {
    let db = db.conn();
    let mut q = unit::Entity::find().filter(unit::Column::AgencyId.eq(agency));
    if let Some(p) = parent {
        q = q.filter(unit::Column::ParentUnitId.eq(p));
    }
    if let Some(a) = after_code {
        q = q.filter(unit::Column::Code.gt(a));
    }
    Ok(q.order_by_asc(unit::Column::Code)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

pub async fn all_units(db: &impl Db, agency: &str) -> StoreResult<Vec<UnitRecord>> {
    let db = db.conn();
    Ok(unit::Entity::find()
        .filter(unit::Column::AgencyId.eq(agency))
        .order_by_asc(unit::Column::Code)
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

// ---- positions ----

pub async fn position(db: &impl Db, agency: &str, id: &str) -> StoreResult<Option<PositionRecord>> {
    let db = db.conn();
    Ok(position::Entity::find_by_id(id.to_owned())
        .filter(position::Column::AgencyId.eq(agency))
        .one(db)
        .await?
        .map(Into::into))
}

pub async fn insert_position(db: &impl Db, p: &PositionRecord) -> StoreResult<()> {
    let db = db.conn();
    position::ActiveModel {
        id: Set(p.id.clone()),
        agency_id: Set(p.agency_id.clone()),
        unit_id: Set(p.unit_id.clone()),
        name: Set(p.name.clone()),
        superior_position_id: Set(p.superior_position_id.clone()),
        is_unit_head: Set(p.is_unit_head),
        version: Set(p.version),
        created_at_us: Set(p.created_at_us),
        updated_at_us: Set(p.updated_at_us),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Writes `p` if the stored version is still `expected`; false otherwise.
pub async fn update_position(db: &impl Db, p: &PositionRecord, expected: i64) -> StoreResult<bool> {
    let db = db.conn();
    let r = position::Entity::update_many()
        .col_expr(position::Column::UnitId, Expr::value(p.unit_id.clone()))
        .col_expr(position::Column::Name, Expr::value(p.name.clone()))
        .col_expr(
            position::Column::SuperiorPositionId,
            Expr::value(p.superior_position_id.clone()),
        )
        .col_expr(position::Column::IsUnitHead, Expr::value(p.is_unit_head))
        .col_expr(position::Column::Version, Expr::value(p.version))
        .col_expr(position::Column::UpdatedAtUs, Expr::value(p.updated_at_us))
        .filter(position::Column::Id.eq(p.id.as_str()))
        .filter(position::Column::AgencyId.eq(p.agency_id.as_str()))
        .filter(position::Column::Version.eq(expected))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Positions ordered by (created_at_us, id), after the given key.
pub async fn list_positions(
    db: &impl Db,
    agency: &str,
    unit: Option<&str>,
    after: Option<(i64, String)>,
    limit: u64,
) -> StoreResult<Vec<PositionRecord>> {
    let db = db.conn();
    let mut q = position::Entity::find().filter(position::Column::AgencyId.eq(agency));
    if let Some(u) = unit {
        q = q.filter(position::Column::UnitId.eq(u));
    }
    if let Some((t, id)) = after {
        q = q.filter(
            Condition::any()
                .add(position::Column::CreatedAtUs.gt(t))
                .add(
                    Condition::all()
                        .add(position::Column::CreatedAtUs.eq(t))
                        .add(position::Column::Id.gt(id)),
                ),
        );
    }
    Ok(q.order_by_asc(position::Column::CreatedAtUs)
        .order_by_asc(position::Column::Id)
        .limit(bounded(limit))
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

pub async fn all_positions(db: &impl Db, agency: &str) -> StoreResult<Vec<PositionRecord>> {
    let db = db.conn();
    list_positions(db, agency, None, None, u64::MAX).await
}

// ---- users ----

pub async fn user(db: &impl Db, agency: &str, id: &str) -> StoreResult<Option<UserRecord>> {
    let db = db.conn();
    Ok(app_user::Entity::find_by_id(id.to_owned())
        .filter(app_user::Column::AgencyId.eq(agency))
        .one(db)
        .await?
        .map(Into::into))
}

/// Writes the profile fields and status of `u` if the version is still `expected`.
pub async fn update_user(db: &impl Db, u: &UserRecord, expected: i64) -> StoreResult<bool> {
    let db = db.conn();
    let r = app_user::Entity::update_many()
        .col_expr(app_user::Column::FullName, Expr::value(u.full_name.clone()))
        .col_expr(app_user::Column::Nip, Expr::value(u.nip.clone()))
        .col_expr(app_user::Column::Email, Expr::value(u.email.clone()))
        .col_expr(app_user::Column::Roles, Expr::value(u.roles.clone()))
        .col_expr(app_user::Column::Disabled, Expr::value(u.disabled))
        .col_expr(app_user::Column::Version, Expr::value(u.version))
        .col_expr(app_user::Column::UpdatedAtUs, Expr::value(u.updated_at_us))
        .filter(app_user::Column::Id.eq(u.id.as_str()))
        .filter(app_user::Column::AgencyId.eq(u.agency_id.as_str()))
        .filter(app_user::Column::Version.eq(expected))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Users ordered by username, after `after`, optionally matching `query`.
pub async fn list_users(
    db: &impl Db,
    agency: &str,
    query: &str,
    after: Option<&str>,
    limit: u64,
) -> StoreResult<Vec<UserRecord>> {
    let db = db.conn();
    let mut q = app_user::Entity::find().filter(app_user::Column::AgencyId.eq(agency));
    if !query.is_empty() {
        q = q.filter(
            Condition::any()
                .add(app_user::Column::Username.contains(query))
                .add(app_user::Column::FullName.contains(query))
                .add(app_user::Column::Nip.contains(query)),
        );
    }
    if let Some(a) = after {
        q = q.filter(app_user::Column::Username.gt(a));
    }
    Ok(q.order_by_asc(app_user::Column::Username)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

// ---- assignments ----

pub async fn insert_assignment(db: &impl Db, a: &AssignmentRecord) -> StoreResult<()> {
    let db = db.conn();
    assignment::ActiveModel {
        id: Set(a.id.clone()),
        agency_id: Set(a.agency_id.clone()),
        user_id: Set(a.user_id.clone()),
        position_id: Set(a.position_id.clone()),
        kind: Set(a.kind),
        valid_from_us: Set(a.valid_from_us),
        valid_until_us: Set(a.valid_until_us),
        basis: Set(a.basis.clone()),
        version: Set(a.version),
        created_at_us: Set(a.created_at_us),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn assignment(
    db: &impl Db,
    agency: &str,
    id: &str,
) -> StoreResult<Option<AssignmentRecord>> {
    let db = db.conn();
    Ok(assignment::Entity::find_by_id(id.to_owned())
        .filter(assignment::Column::AgencyId.eq(agency))
        .one(db)
        .await?
        .map(Into::into))
}

pub async fn set_assignment_end(db: &impl Db, id: &str, until_us: i64) -> StoreResult<()> {
    let db = db.conn();
    assignment::Entity::update_many()
        .col_expr(
            assignment::Column::ValidUntilUs,
            Expr::value(Some(until_us)),
        )
        .col_expr(
            assignment::Column::Version,
            Expr::col(assignment::Column::Version).add(1),
        )
        .filter(assignment::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Assignments of a position of `kind` whose window overlaps [from, until).
pub async fn overlapping(
    db: &impl Db,
    position_id: &str,
    kind: i16,
    from_us: i64,
    until_us: Option<i64>,
) -> StoreResult<Vec<AssignmentRecord>> {
    let db = db.conn();
    let mut q = assignment::Entity::find()
        .filter(assignment::Column::PositionId.eq(position_id))
        .filter(assignment::Column::Kind.eq(kind))
        .filter(
            Condition::any()
                .add(assignment::Column::ValidUntilUs.is_null())
                .add(assignment::Column::ValidUntilUs.gt(from_us)),
        );
    if let Some(u) = until_us {
        q = q.filter(assignment::Column::ValidFromUs.lt(u));
    }
    Ok(q.all(db).await?.into_iter().map(Into::into).collect())
}

/// Assignments by position and/or user, ordered by (created_at_us, id).
#[allow(clippy::too_many_arguments)]
pub async fn list_assignments(
    db: &impl Db,
    agency: &str,
    position: Option<&str>,
    user: Option<&str>,
    active_at: Option<i64>,
    after: Option<(i64, String)>,
    limit: u64,
) -> StoreResult<Vec<AssignmentRecord>> {
    let db = db.conn();
    let mut q = assignment::Entity::find().filter(assignment::Column::AgencyId.eq(agency));
    if let Some(p) = position {
        q = q.filter(assignment::Column::PositionId.eq(p));
    }
    if let Some(u) = user {
        q = q.filter(assignment::Column::UserId.eq(u));
    }
    if let Some(now) = active_at {
        q = q.filter(assignment::Column::ValidFromUs.lte(now)).filter(
            Condition::any()
                .add(assignment::Column::ValidUntilUs.is_null())
                .add(assignment::Column::ValidUntilUs.gt(now)),
        );
    }
    if let Some((t, id)) = after {
        q = q.filter(
            Condition::any()
                .add(assignment::Column::CreatedAtUs.gt(t))
                .add(
                    Condition::all()
                        .add(assignment::Column::CreatedAtUs.eq(t))
                        .add(assignment::Column::Id.gt(id)),
                ),
        );
    }
    Ok(q.order_by_asc(assignment::Column::CreatedAtUs)
        .order_by_asc(assignment::Column::Id)
        .limit(bounded(limit))
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// Users of the agency by id (for names on the org chart).
pub async fn users_by_ids(
    db: &impl Db,
    agency: &str,
    ids: &[String],
) -> StoreResult<Vec<UserRecord>> {
    let db = db.conn();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(app_user::Entity::find()
        .filter(app_user::Column::AgencyId.eq(agency))
        .filter(app_user::Column::Id.is_in(ids.iter().cloned()))
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

// ---- secretaries ----

pub async fn add_secretary(
    db: &impl Db,
    agency: &str,
    position_id: &str,
    user_id: &str,
) -> StoreResult<()> {
    let db = db.conn();
    let exists = secretary::Entity::find_by_id((position_id.to_owned(), user_id.to_owned()))
        .one(db)
        .await?;
    if exists.is_none() {
        secretary::ActiveModel {
            position_id: Set(position_id.to_owned()),
            user_id: Set(user_id.to_owned()),
            agency_id: Set(agency.to_owned()),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

pub async fn remove_secretary(db: &impl Db, position_id: &str, user_id: &str) -> StoreResult<()> {
    let db = db.conn();
    secretary::Entity::delete_many()
        .filter(secretary::Column::PositionId.eq(position_id))
        .filter(secretary::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// (position_id, user_id) pairs of the agency's secretaries.
pub async fn secretaries(db: &impl Db, agency: &str) -> StoreResult<Vec<(String, String)>> {
    let db = db.conn();
    Ok(secretary::Entity::find()
        .filter(secretary::Column::AgencyId.eq(agency))
        .order_by_asc(secretary::Column::UserId)
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.position_id, s.user_id))
        .collect())
}

/// Positions of the agency by id.
pub async fn positions_by_ids(
    db: &impl Db,
    agency: &str,
    ids: &[String],
) -> StoreResult<Vec<PositionRecord>> {
    let db = db.conn();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(position::Entity::find()
        .filter(position::Column::AgencyId.eq(agency))
        .filter(position::Column::Id.is_in(ids.iter().cloned()))
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}
