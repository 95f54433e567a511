//! Runs a mutation in one write transaction, with `request_id` idempotency: a
//! retry with the same id (by the same user, for the same method and request)
//! returns the first response and changes nothing; the same id with another
//! request is refused.

use prost::Message;
use sha2::{Digest, Sha256};
use tonic::{Request, Response, Status};

use super::status::to_status;
use super::{App, meta, principal};
use crate::auth::{Principal, RequestMeta};
use crate::domain::WriteTx;
use crate::domain::context::Ctx;
use crate::domain::idempotency::{self, Remembered};
use crate::error::{Error, Reason};

/// A mutating request converted for its domain call: the typed input, and
/// the `request_id` that [`mutate`] remembers the answer under (empty for a
/// request that has none).
#[derive(Clone, Debug)]
pub struct Mutation<T> {
    /// The request's `request_id`.
    pub request_id: String,
    /// What the domain call takes.
    pub input: T,
}

/// A mutating request taken apart: the caller and the request's meta (set
/// by the gate), the request itself (the fingerprint [`mutate`] takes), and
/// the request converted by `TryFrom<&Q>` into a [`Mutation`] (its
/// violations answered before anything runs).
pub fn converted<Q, T>(req: Request<Q>) -> Result<(Principal, RequestMeta, Q, Mutation<T>), Status>
where
    Mutation<T>: for<'q> TryFrom<&'q Q, Error = Error>,
{
    let (p, m) = (principal(&req)?, meta(&req));
    let r = req.into_inner();
    let converted = Mutation::try_from(&r)?;
    Ok((p, m, r, converted))
}

/// A unary mutation whole: the request [`converted`], then `f` run by
/// [`mutate`] with the request itself as the fingerprint.
pub async fn mutate_request<Q, T, R, F>(
    app: &App,
    req: Request<Q>,
    f: F,
) -> Result<Response<R>, Status>
where
    Q: Message,
    Mutation<T>: for<'q> TryFrom<&'q Q, Error = Error>,
    R: Message + Default,
    F: AsyncFnOnce(&mut WriteTx, Ctx<'_>, &T) -> Result<R, Error> + Clone,
{
    let (p, m, r, Mutation { request_id, input }) = converted(req)?;
    let out = mutate(app, &p, &m, &request_id, &r, async |tx| {
        f.clone()(tx, Ctx::new(&p, &m), &input).await
    })
    .await?;
    Ok(Response::new(out))
}

/// Runs `f` in a write transaction and commits. `request` is the request message
/// (fingerprinted to detect a reused id); `request_id` may be empty. When the
/// write group the transaction joined fails as a whole, or the transaction is
/// a deadlock's victim, `f` runs once more in a transaction of its own
/// (`Store::begin_write`), so that another request's failure never
/// becomes this one's.
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
    F: AsyncFnOnce(&mut WriteTx) -> Result<R, Error> + Clone,
{
    if request_id.len() > 128 || request_id.bytes().any(|b| !b.is_ascii_graphic()) {
        return Err(to_status(Error::invalid(
            "request_id",
            "must be at most 128 visible ASCII characters",
        )));
    }
    let request_hash = fingerprint(request);
    // A retry of a finished request is answered before any write lock is taken.
    if let Some(prev) = remembered(app, p, request_id).await? {
        return replay(app, p, m, request_id, &request_hash, prev).await;
    }
    let mut alone = false;
    let (response, notices) = loop {
        let began = if alone {
            app.store.begin_write().await
        } else {
            app.store.begin_write_grouped().await
        };
        let mut tx = began.map_err(|e| to_status(e.into()))?;
        let response = match f.clone()(&mut tx).await {
            Ok(r) => r,
            Err(Error::Store(e)) if !alone && e.retry_alone() => {
                tx.rollback().await;
                alone = true;
                continue;
            }
            Err(e) => {
                tx.rollback().await;
                // A concurrent retry that finished meanwhile may be why this
                // run failed (the letter moved on): its response is the
                // answer.
                return replay_or(app, p, m, request_id, &request_hash, to_status(e)).await;
            }
        };
        if !request_id.is_empty() {
            let remembered = Remembered {
                method: m.method.clone(),
                request_hash: request_hash.clone(),
                response: response.encode_to_vec(),
            };
            idempotency::remember_at_commit(&mut tx, &p.user_id, request_id, &remembered);
        }
        match tx.commit_with_notices().await {
            Ok((_, notices)) => break (response, notices),
            Err(e) if !alone && e.retry_alone() => alone = true,
            // The same id committed by a concurrent retry since the check
            // above (this transaction is rolled back): its response is the
            // answer.
            Err(e) if !request_id.is_empty() && e.is_unique_violation() => {
                let running = to_status(Error::rejected(
                    Reason::ConcurrentRetry,
                    "a retry with this request_id is already running",
                ));
                return replay_or(app, p, m, request_id, &request_hash, running).await;
            }
            Err(e) => return Err(to_status(e.into())),
        }
    };
    for n in notices {
        // No subscriber is not an error.
        let _ = app.notices.send(n);
    }
    Ok(response)
}

/// The first response to `request` when `request_id` has already answered
/// it, checked before any work that must not be done twice (unlocking a
/// signing key); `None` when the id is empty, unknown or was used for
/// another method (left to [`mutate`]).
pub async fn replayed<Q: Message, R: Message + Default>(
    app: &App,
    p: &Principal,
    m: &RequestMeta,
    request_id: &str,
    request: &Q,
) -> Result<Option<R>, Status> {
    match remembered(app, p, request_id).await? {
        Some(prev) if prev.method == m.method => {
            replay(app, p, m, request_id, &fingerprint(request), prev)
                .await
                .map(Some)
        }
        _ => Ok(None),
    }
}

/// The fingerprint of a request, which a retry must repeat.
fn fingerprint(request: &impl Message) -> String {
    hex::encode(Sha256::digest(request.encode_to_vec()))
}

/// The remembered response of `request_id` of this user, if any.
async fn remembered(
    app: &App,
    p: &Principal,
    request_id: &str,
) -> Result<Option<Remembered>, Status> {
    if request_id.is_empty() {
        return Ok(None);
    }
    idempotency::remembered(&app.store, &p.user_id, request_id)
        .await
        .map_err(to_status)
}

/// The remembered response of `request_id` if a concurrent run of it has
/// committed, else `otherwise`.
async fn replay_or<R: Message + Default>(
    app: &App,
    p: &Principal,
    m: &RequestMeta,
    request_id: &str,
    request_hash: &str,
    otherwise: Status,
) -> Result<R, Status> {
    match remembered(app, p, request_id).await? {
        Some(prev) => replay(app, p, m, request_id, request_hash, prev).await,
        None => Err(otherwise),
    }
}

/// The first response again, when the retry is the same request. Answering
/// it is a read of what it holds (a secret letter's content, for one), so
/// the replay is recorded in the audit trail.
async fn replay<R: Message + Default>(
    app: &App,
    p: &Principal,
    m: &RequestMeta,
    request_id: &str,
    request_hash: &str,
    prev: Remembered,
) -> Result<R, Status> {
    if prev.method != m.method || prev.request_hash != request_hash {
        return Err(to_status(Error::rejected(
            Reason::RequestIdReused,
            "request_id was already used for a different request",
        )));
    }
    let answer = R::decode(prev.response.as_slice()).map_err(|e| {
        to_status(Error::Internal(format!(
            "remembered response does not decode: {e}"
        )))
    })?;
    idempotency::record_replay(
        &app.store,
        crate::domain::context::Ctx::new(p, m),
        request_id,
    )
    .await
    .map_err(to_status)?;
    Ok(answer)
}
