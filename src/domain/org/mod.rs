//! The organisation: units, positions, users, assignments, secretaries and the
//! org chart. Every read and write is confined to the caller's agency; an id of
//! another agency is reported as not found.

use std::collections::HashMap;

use super::context::{Ctx, check_etag};
use super::page;
use crate::auth::{Principal, password, roles_from_db, roles_to_db};
use crate::error::{Error, Reason, Result};
use crate::proto::{AssignmentKind, Role};
use crate::store::identity::{self as idq, UserRecord};
use crate::store::org as q;
/// The organisation's rows as the operations answer with them (users are
/// `identity::UserRecord`).
pub use crate::store::org::{AssignmentRecord, PositionRecord, UnitRecord};
use crate::store::{Store, WriteTx};

mod assignments;
mod positions;
mod units;
mod users;

pub use assignments::*;
pub use positions::*;
pub use units::*;
pub use users::*;

fn not_found(reason: Reason, what: &str) -> Error {
    Error::rejected(reason, format!("{what} not found"))
}

fn taken(e: crate::store::StoreError, reason: Reason, message: &str) -> Error {
    if e.is_unique_violation() {
        Error::rejected(reason, message)
    } else {
        e.into()
    }
}

/// A one-time password and its hash, made off the async threads.
pub async fn one_time_password() -> Result<(String, String)> {
    crate::crypto::run_kdf(|| {
        let otp = password::one_time();
        password::hash(&otp).map(|phc| (otp, phc))
    })
    .await
    .map_err(|e| Error::Internal(format!("password task: {e}")))?
    .map_err(Error::Internal)
}

// ---------------------------------------------------------------- units
