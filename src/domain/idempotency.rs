//! Remembered answers of mutations that carried a `request_id` (AIP-155):
//! looked up before a change runs, remembered with the change at its commit.

use super::context::Ctx;
use crate::error::Result;
use crate::store::idempotency as q;
use crate::store::{Store, WriteTx};

pub use crate::store::idempotency::Remembered;

/// The answer remembered for `request_id` of `user_id`, if any.
pub async fn remembered(
    store: &Store,
    user_id: &str,
    request_id: &str,
) -> Result<Option<Remembered>> {
    Ok(q::lookup(store, user_id, request_id).await?)
}

/// Remembers the answer of `request_id` with the change of `tx`: written at
/// its commit, where a concurrent retry that committed first makes the
/// commit fail as a unique violation.
pub fn remember_at_commit(tx: &mut WriteTx, user_id: &str, request_id: &str, r: &Remembered) {
    q::remember_at_commit(tx, user_id, request_id, r);
}

/// Records that a retry was answered with the remembered answer of
/// `request_id`: the answer may hold what only an audited read shows.
pub async fn record_replay(store: &Store, ctx: Ctx<'_>, request_id: &str) -> Result<()> {
    let mut tx = store.begin_write().await?;
    tx.audit(ctx.event(
        "request",
        request_id,
        "retry answered with the first response",
    ));
    tx.commit().await?;
    Ok(())
}

/// Forgets every remembered answer that names `id` (a letter whose content
/// an approved disposal destroys: an answer may hold its subject, body or
/// notes).
pub async fn forget_mentions(tx: &WriteTx, id: &str) -> Result<()> {
    Ok(q::forget_mentions(tx, id).await?)
}
