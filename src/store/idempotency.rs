//! Remembered responses of mutating requests that carried a `request_id`.

use crate::store::Db;
use sea_orm::{DbBackend, EntityTrait, QueryTrait, Set, Statement};

use super::StoreResult;
use super::entities::idempotency_key;

/// A remembered response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Remembered {
    /// The method it answered.
    pub method: String,
    /// Fingerprint of the request.
    pub request_hash: String,
    /// The encoded response.
    pub response: Vec<u8>,
}

/// The response remembered for `(user_id, request_id)`, if any.
pub async fn lookup(
    db: &impl Db,
    user_id: &str,
    request_id: &str,
) -> StoreResult<Option<Remembered>> {
    let db = db.conn();
    Ok(
        idempotency_key::Entity::find_by_id((user_id.to_owned(), request_id.to_owned()))
            .one(db)
            .await?
            .map(|m| Remembered {
                method: m.method,
                request_hash: m.request_hash,
                response: m.response,
            }),
    )
}

/// The statement that remembers a response (run at commit, see
/// [`super::WriteTx::defer`]).
pub fn remember(
    db: DbBackend,
    user_id: &str,
    request_id: &str,
    r: &Remembered,
    now_us: i64,
) -> Statement {
    idempotency_key::Entity::insert(idempotency_key::ActiveModel {
        user_id: Set(user_id.to_owned()),
        request_id: Set(request_id.to_owned()),
        method: Set(r.method.clone()),
        request_hash: Set(r.request_hash.clone()),
        response: Set(r.response.clone()),
        created_at_us: Set(now_us),
    })
    .build(db)
}

/// Remembers the response of `request_id` with the change that answered it:
/// held back to its commit, where a concurrent retry that committed first
/// makes the commit fail as a unique violation.
pub fn remember_at_commit(
    tx: &mut super::WriteTx,
    user_id: &str,
    request_id: &str,
    r: &Remembered,
) {
    let st = remember(tx.db_backend(), user_id, request_id, r, tx.now_us());
    tx.defer(st);
}

/// Deletes every remembered response whose bytes hold `text` (an id, as the
/// protobuf encoding writes strings: as UTF-8). Reads the whole table: it
/// runs only when content is destroyed.
pub async fn forget_mentions(db: &impl Db, text: &str) -> StoreResult<()> {
    use sea_orm::ConnectionTrait;
    let db = db.conn();
    let backend = db.get_database_backend();
    let sql = format!(
        "DELETE FROM idempotency_key WHERE {}",
        super::engine::bytes_hold_text(backend, "response", 1)
    );
    db.execute_raw(Statement::from_sql_and_values(backend, sql, [text.into()]))
        .await?;
    Ok(())
}
