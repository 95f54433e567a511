//! Agency CAs and signing keys in the database.

use crate::store::Db;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::StoreResult;
use super::entities::{agency, agency_ca, signing_key};

/// A signing key record (the private key sealed under the signer's passphrase).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRecord {
    pub serial: String,
    pub agency_id: String,
    pub user_id: String,
    pub position_id: String,
    pub algorithm: i16,
    pub cert_der: Vec<u8>,
    pub sealed_key: Vec<u8>,
    pub not_before_us: i64,
    pub not_after_us: i64,
    pub revoked_at_us: Option<i64>,
    pub revoke_reason: String,
    pub created_at_us: i64,
}

impl From<signing_key::Model> for KeyRecord {
    fn from(m: signing_key::Model) -> Self {
        Self {
            serial: m.serial,
            agency_id: m.agency_id,
            user_id: m.user_id,
            position_id: m.position_id,
            algorithm: m.algorithm,
            cert_der: m.cert_der,
            sealed_key: m.sealed_key,
            not_before_us: m.not_before_us,
            not_after_us: m.not_after_us,
            revoked_at_us: m.revoked_at_us,
            revoke_reason: m.revoke_reason,
            created_at_us: m.created_at_us,
        }
    }
}

/// An agency's name, code and time zone.
#[derive(Clone, Debug, Default)]
pub struct AgencyNames {
    pub name: String,
    pub code: String,
    /// An IANA time zone name.
    pub time_zone: String,
}

/// The agency's name, code and time zone.
pub async fn agency(db: &impl Db, id: &str) -> StoreResult<Option<AgencyNames>> {
    let db = db.conn();
    Ok(agency::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .map(|a| AgencyNames {
            name: a.name,
            code: a.code,
            time_zone: a.time_zone,
        }))
}

/// Sets the agency's time zone (an IANA name the caller checked).
pub async fn set_time_zone(db: &impl Db, id: &str, time_zone: &str) -> StoreResult<()> {
    let db = db.conn();
    agency::Entity::update_many()
        .col_expr(agency::Column::TimeZone, Expr::value(time_zone.to_owned()))
        .filter(agency::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The agency's CA: (certificate DER, key sealed under the master key).
pub async fn agency_ca(db: &impl Db, agency_id: &str) -> StoreResult<Option<(Vec<u8>, Vec<u8>)>> {
    let db = db.conn();
    Ok(agency_ca::Entity::find_by_id(agency_id.to_owned())
        .one(db)
        .await?
        .map(|c| (c.cert_der, c.sealed_key)))
}

/// Stores the agency's CA.
pub async fn insert_agency_ca(
    db: &impl Db,
    agency_id: &str,
    cert_der: &[u8],
    sealed_key: &[u8],
    now_us: i64,
) -> StoreResult<()> {
    let db = db.conn();
    agency_ca::ActiveModel {
        agency_id: Set(agency_id.to_owned()),
        cert_der: Set(cert_der.to_vec()),
        sealed_key: Set(sealed_key.to_vec()),
        created_at_us: Set(now_us),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Stores a signing key.
pub async fn insert_key(db: &impl Db, k: &KeyRecord) -> StoreResult<()> {
    let db = db.conn();
    signing_key::ActiveModel {
        serial: Set(k.serial.clone()),
        agency_id: Set(k.agency_id.clone()),
        user_id: Set(k.user_id.clone()),
        position_id: Set(k.position_id.clone()),
        algorithm: Set(k.algorithm),
        cert_der: Set(k.cert_der.clone()),
        sealed_key: Set(k.sealed_key.clone()),
        not_before_us: Set(k.not_before_us),
        not_after_us: Set(k.not_after_us),
        revoked_at_us: Set(k.revoked_at_us),
        revoke_reason: Set(k.revoke_reason.clone()),
        created_at_us: Set(k.created_at_us),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The user's newest key that is not revoked.
pub async fn current_key(db: &impl Db, user_id: &str) -> StoreResult<Option<KeyRecord>> {
    let db = db.conn();
    Ok(signing_key::Entity::find()
        .filter(signing_key::Column::UserId.eq(user_id))
        .filter(signing_key::Column::RevokedAtUs.is_null())
        .order_by_desc(signing_key::Column::CreatedAtUs)
        .one(db)
        .await?
        .map(Into::into))
}

/// The user's newest key, revoked or not.
pub async fn latest_key(db: &impl Db, user_id: &str) -> StoreResult<Option<KeyRecord>> {
    let db = db.conn();
    Ok(signing_key::Entity::find()
        .filter(signing_key::Column::UserId.eq(user_id))
        .order_by_desc(signing_key::Column::CreatedAtUs)
        .one(db)
        .await?
        .map(Into::into))
}

/// A key of the agency by certificate serial.
pub async fn key_by_serial(
    db: &impl Db,
    agency_id: &str,
    serial: &str,
) -> StoreResult<Option<KeyRecord>> {
    let db = db.conn();
    Ok(signing_key::Entity::find_by_id(serial.to_owned())
        .filter(signing_key::Column::AgencyId.eq(agency_id))
        .one(db)
        .await?
        .map(Into::into))
}

/// Any key by serial (verification across the installation).
pub async fn key_by_serial_any(db: &impl Db, serial: &str) -> StoreResult<Option<KeyRecord>> {
    let db = db.conn();
    Ok(signing_key::Entity::find_by_id(serial.to_owned())
        .one(db)
        .await?
        .map(Into::into))
}

/// Revokes one key (no-op if already revoked).
pub async fn revoke(db: &impl Db, serial: &str, now_us: i64, reason: &str) -> StoreResult<u64> {
    let db = db.conn();
    let r = signing_key::Entity::update_many()
        .col_expr(signing_key::Column::RevokedAtUs, Expr::value(now_us))
        .col_expr(signing_key::Column::RevokeReason, Expr::value(reason))
        .filter(signing_key::Column::Serial.eq(serial))
        .filter(signing_key::Column::RevokedAtUs.is_null())
        .exec(db)
        .await?;
    Ok(r.rows_affected)
}

/// Revokes every live key of a user.
pub async fn revoke_user_keys(
    db: &impl Db,
    user_id: &str,
    now_us: i64,
    reason: &str,
) -> StoreResult<u64> {
    let db = db.conn();
    let r = signing_key::Entity::update_many()
        .col_expr(signing_key::Column::RevokedAtUs, Expr::value(now_us))
        .col_expr(signing_key::Column::RevokeReason, Expr::value(reason))
        .filter(signing_key::Column::UserId.eq(user_id))
        .filter(signing_key::Column::RevokedAtUs.is_null())
        .exec(db)
        .await?;
    Ok(r.rows_affected)
}
