//! Runs a mutation in one write transaction, with `request_id` idempotency: a
//! retry with the same id (by the same user, for the same method and request)
//! returns the first response and changes nothing; the same id with another
//! request is refused.

use prost::Message;
use sha2::{Digest, Sha256};
use tonic::Status;

use super::App;
use super::status::to_status;
use crate::auth::{Principal, RequestMeta};
use crate::error::{Error, Reason};
use crate::store::WriteTx;
use crate::store::idempotency::{self, Remembered};

/// Runs `f` in a write transaction and commits. `request` is the request message
/// (fingerprinted to detect a reused id); `request_id` may be empty.
pub async fn mutate<Q, R, F>(
    app: &App,
    p: &Principal,
    m: &RequestMeta,
    request_id: &str,
    request: &Q,
    f: F,
) -> Result<R, Status>
where
    Q: Message,
    R: Message + Default,
    F: AsyncFnOnce(&mut WriteTx) -> Result<R, Error>,
{
    if request_id.len() > 128 || request_id.bytes().any(|b| !b.is_ascii_graphic()) {
        return Err(to_status(Error::invalid(
            "request_id",
            "must be at most 128 visible ASCII characters",
        )));
    }
    let mut tx = app
        .store
        .begin_write()
        .await
        .map_err(|e| to_status(e.into()))?;
    let request_hash = hex::encode(Sha256::digest(request.encode_to_vec()));
    if !request_id.is_empty()
        && let Some(prev) = idempotency::lookup(tx.conn(), &p.user_id, request_id)
            .await
            .map_err(|e| to_status(e.into()))?
    {
        if prev.method != m.method || prev.request_hash != request_hash {
            return Err(to_status(Error::rejected(
                Reason::RequestIdReused,
                "request_id was already used for a different request",
            )));
        }
        return R::decode(prev.response.as_slice()).map_err(|e| {
            to_status(Error::Internal(format!(
                "remembered response does not decode: {e}"
            )))
        });
    }
    let response = f(&mut tx).await.map_err(to_status)?;
    if !request_id.is_empty() {
        let remembered = Remembered {
            method: m.method.clone(),
            request_hash,
            response: response.encode_to_vec(),
        };
        idempotency::remember(tx.conn(), &p.user_id, request_id, &remembered, tx.now_us())
            .await
            .map_err(|e| to_status(e.into()))?;
    }
    let (_, notices) = tx.commit_with_notices().await.map_err(|e| {
        if e.is_unique_violation() {
            to_status(Error::rejected(
                Reason::ConcurrentRetry,
                "a retry with this request_id is already running",
            ))
        } else {
            to_status(e.into())
        }
    })?;
    for n in notices {
        // No subscriber is not an error.
        let _ = app.notices.send(n);
    }
    Ok(response)
}
