//! Users, agencies, assignments and refresh tokens in the database.

use crate::store::Db;
use sea_orm::ExprTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use super::StoreResult;
use super::entities::{agency, app_user, refresh_token, secretary};

/// A user as the domain sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    /// Id.
    pub id: String,
    /// Agency id.
    pub agency_id: String,
    /// Username.
    pub username: String,
    /// NIP.
    pub nip: String,
    /// Full name.
    pub full_name: String,
    /// E-mail.
    pub email: String,
    /// Roles, stored form.
    pub roles: String,
    /// PHC password hash.
    pub password_hash: String,
    /// Must change password.
    pub must_change_password: bool,
    /// Disabled.
    pub disabled: bool,
    /// Consecutive failed logins.
    pub failed_logins: i32,
    /// Locked until, microseconds (0 when not locked).
    pub locked_until_us: i64,
    /// Created by the demo seed.
    pub is_demo: bool,
    /// Version, for the etag.
    pub version: i64,
    /// Created at.
    pub created_at_us: i64,
    /// Updated at.
    pub updated_at_us: i64,
}

impl From<app_user::Model> for UserRecord {
    fn from(m: app_user::Model) -> Self {
        Self {
            id: m.id,
            agency_id: m.agency_id,
            username: m.username,
            nip: m.nip,
            full_name: m.full_name,
            email: m.email,
            roles: m.roles,
            password_hash: m.password_hash,
            must_change_password: m.must_change_password,
            disabled: m.disabled,
            failed_logins: m.failed_logins,
            locked_until_us: m.locked_until_us,
            is_demo: m.is_demo,
            version: m.version,
            created_at_us: m.created_at_us,
            updated_at_us: m.updated_at_us,
        }
    }
}

/// Inserts an agency.
pub async fn insert_agency(
    db: &impl Db,
    id: &str,
    code: &str,
    name: &str,
    login_domain: &str,
    now_us: i64,
) -> StoreResult<()> {
    let db = db.conn();
    agency::ActiveModel {
        id: Set(id.to_owned()),
        code: Set(code.to_owned()),
        name: Set(name.to_owned()),
        created_at_us: Set(now_us),
        login_domain: Set(login_domain.to_owned()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The login domain of an agency (empty: its users log in with bare names).
pub async fn login_domain(db: &impl Db, agency_id: &str) -> StoreResult<String> {
    let db = db.conn();
    Ok(agency::Entity::find_by_id(agency_id.to_owned())
        .one(db)
        .await?
        .map(|a| a.login_domain)
        .unwrap_or_default())
}

/// Inserts a user.
pub async fn insert_user(db: &impl Db, u: &UserRecord) -> StoreResult<()> {
    let db = db.conn();
    app_user::ActiveModel {
        id: Set(u.id.clone()),
        agency_id: Set(u.agency_id.clone()),
        username: Set(u.username.clone()),
        nip: Set(u.nip.clone()),
        full_name: Set(u.full_name.clone()),
        email: Set(u.email.clone()),
        roles: Set(u.roles.clone()),
        password_hash: Set(u.password_hash.clone()),
        must_change_password: Set(u.must_change_password),
        disabled: Set(u.disabled),
        failed_logins: Set(u.failed_logins),
        locked_until_us: Set(u.locked_until_us),
        is_demo: Set(u.is_demo),
        version: Set(u.version),
        created_at_us: Set(u.created_at_us),
        updated_at_us: Set(u.updated_at_us),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Finds a user by username.
pub async fn user_by_username(db: &impl Db, username: &str) -> StoreResult<Option<UserRecord>> {
    let db = db.conn();
    Ok(app_user::Entity::find()
        .filter(app_user::Column::Username.eq(username))
        .one(db)
        .await?
        .map(Into::into))
}

/// Finds a user by id.
pub async fn user_by_id(db: &impl Db, id: &str) -> StoreResult<Option<UserRecord>> {
    let db = db.conn();
    Ok(app_user::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .map(Into::into))
}

/// Number of users, and of those not created by the demo seed.
pub async fn count_users(db: &impl Db) -> StoreResult<(u64, u64)> {
    let db = db.conn();
    use sea_orm::PaginatorTrait;
    let all = app_user::Entity::find().count(db).await?;
    let real = app_user::Entity::find()
        .filter(app_user::Column::IsDemo.eq(false))
        .count(db)
        .await?;
    Ok((all, real))
}

/// Records a login failure: bumps the counter and sets the lock.
pub async fn set_login_failures(
    db: &impl Db,
    user_id: &str,
    failures: i32,
    locked_until_us: i64,
) -> StoreResult<()> {
    let db = db.conn();
    app_user::Entity::update_many()
        .col_expr(app_user::Column::FailedLogins, Expr::value(failures))
        .col_expr(
            app_user::Column::LockedUntilUs,
            Expr::value(locked_until_us),
        )
        .filter(app_user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Replaces a user's password hash and clears the forced change and failures.
pub async fn set_password(
    db: &impl Db,
    user_id: &str,
    phc: &str,
    must_change: bool,
    now_us: i64,
) -> StoreResult<()> {
    let db = db.conn();
    app_user::Entity::update_many()
        .col_expr(app_user::Column::PasswordHash, Expr::value(phc))
        .col_expr(
            app_user::Column::MustChangePassword,
            Expr::value(must_change),
        )
        .col_expr(app_user::Column::FailedLogins, Expr::value(0))
        .col_expr(app_user::Column::LockedUntilUs, Expr::value(0i64))
        .col_expr(app_user::Column::UpdatedAtUs, Expr::value(now_us))
        .col_expr(
            app_user::Column::Version,
            Expr::col(app_user::Column::Version).add(1),
        )
        .filter(app_user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// A position a user holds right now, with the unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldPositionRecord {
    /// Assignment id.
    pub assignment_id: String,
    /// Position id.
    pub position_id: String,
    /// Position name.
    pub position_name: String,
    /// Unit id.
    pub unit_id: String,
    /// Unit name.
    pub unit_name: String,
    /// Assignment kind code.
    pub kind: i16,
    /// End of validity.
    pub valid_until_us: Option<i64>,
}

/// Positions `user_id` holds at `now_us`: one query (assignment ⋈ position ⋈ unit).
pub async fn held_positions(
    db: &impl Db,
    user_id: &str,
    now_us: i64,
) -> StoreResult<Vec<HeldPositionRecord>> {
    let db = db.conn();
    let backend = db.get_database_backend();
    let sql = if backend == sea_orm::DatabaseBackend::Postgres {
        HELD_SQL.replace("?1", "$1").replace("?2", "$2")
    } else {
        HELD_SQL.to_owned()
    };
    let rows = db
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [sea_orm::Value::from(user_id), sea_orm::Value::from(now_us)],
        ))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(HeldPositionRecord {
            assignment_id: r.try_get("", "assignment_id")?,
            position_id: r.try_get("", "position_id")?,
            position_name: r.try_get("", "position_name")?,
            unit_id: r.try_get("", "unit_id")?,
            unit_name: r
                .try_get::<Option<String>>("", "unit_name")?
                .unwrap_or_default(),
            kind: r.try_get("", "kind")?,
            valid_until_us: r.try_get("", "valid_until_us")?,
        });
    }
    Ok(out)
}

const HELD_SQL: &str = "SELECT a.id AS assignment_id, a.kind AS kind, a.valid_until_us AS valid_until_us, \
     p.id AS position_id, p.name AS position_name, p.unit_id AS unit_id, u.name AS unit_name \
     FROM assignment a JOIN \"position\" p ON p.id = a.position_id \
     LEFT JOIN unit u ON u.id = p.unit_id \
     WHERE a.user_id = ?1 AND a.valid_from_us <= ?2 \
     AND (a.valid_until_us IS NULL OR a.valid_until_us > ?2) \
     ORDER BY a.valid_from_us, a.id";

/// Positions whose mail `user_id` handles as secretary.
pub async fn secretary_of(db: &impl Db, user_id: &str) -> StoreResult<Vec<String>> {
    let db = db.conn();
    Ok(secretary::Entity::find()
        .filter(secretary::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.position_id)
        .collect())
}

/// A stored refresh token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshRecord {
    /// Family (one login session).
    pub family_id: String,
    /// User.
    pub user_id: String,
    /// Expiry.
    pub expires_at_us: i64,
    /// When it was spent.
    pub used_at_us: Option<i64>,
    /// When it was revoked.
    pub revoked_at_us: Option<i64>,
}

/// Stores a new refresh token.
pub async fn insert_refresh(
    db: &impl Db,
    hash: &str,
    family_id: &str,
    user_id: &str,
    expires_at_us: i64,
    now_us: i64,
) -> StoreResult<()> {
    let db = db.conn();
    refresh_token::ActiveModel {
        token_hash: Set(hash.to_owned()),
        family_id: Set(family_id.to_owned()),
        user_id: Set(user_id.to_owned()),
        expires_at_us: Set(expires_at_us),
        used_at_us: Set(None),
        revoked_at_us: Set(None),
        created_at_us: Set(now_us),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Finds a refresh token by its hash.
pub async fn refresh_by_hash(db: &impl Db, hash: &str) -> StoreResult<Option<RefreshRecord>> {
    let db = db.conn();
    Ok(refresh_token::Entity::find_by_id(hash.to_owned())
        .one(db)
        .await?
        .map(|m| RefreshRecord {
            family_id: m.family_id,
            user_id: m.user_id,
            expires_at_us: m.expires_at_us,
            used_at_us: m.used_at_us,
            revoked_at_us: m.revoked_at_us,
        }))
}

/// Marks a refresh token spent; false when it was already spent (a race or a reuse).
pub async fn spend_refresh(db: &impl Db, hash: &str, now_us: i64) -> StoreResult<bool> {
    let db = db.conn();
    let r = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAtUs, Expr::value(now_us))
        .filter(refresh_token::Column::TokenHash.eq(hash))
        .filter(refresh_token::Column::UsedAtUs.is_null())
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Revokes every token of a family.
pub async fn revoke_family(db: &impl Db, family_id: &str, now_us: i64) -> StoreResult<u64> {
    let db = db.conn();
    let r = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAtUs, Expr::value(now_us))
        .filter(refresh_token::Column::FamilyId.eq(family_id))
        .filter(refresh_token::Column::RevokedAtUs.is_null())
        .exec(db)
        .await?;
    Ok(r.rows_affected)
}

/// Revokes every refresh token of a user.
pub async fn revoke_user_tokens(db: &impl Db, user_id: &str, now_us: i64) -> StoreResult<u64> {
    let db = db.conn();
    let r = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAtUs, Expr::value(now_us))
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::RevokedAtUs.is_null())
        .exec(db)
        .await?;
    Ok(r.rows_affected)
}

/// An agency's id by its code.
pub async fn agency_id_by_code(db: &impl Db, code: &str) -> StoreResult<Option<String>> {
    let db = db.conn();
    Ok(agency::Entity::find()
        .filter(agency::Column::Code.eq(code))
        .one(db)
        .await?
        .map(|a| a.id))
}

/// The ids of every agency of the installation.
pub async fn agency_ids(db: &impl Db) -> StoreResult<Vec<String>> {
    let db = db.conn();
    Ok(agency::Entity::find()
        .order_by_asc(agency::Column::Code)
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect())
}
