//! The relay: sends committed consignments, pulls outcomes that did not
//! come, and reports this agency's outcomes to their senders. One per
//! server; a consignment is leased (in an audited transaction) before it is
//! sent, so two servers never send the same one at once. Each peer has its
//! own worker, with at most [`PER_PEER`] consignments in flight, so one dead
//! peer holds up no other.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use super::peers::{self, Route};
use super::{Exchange, Identity, Snapshot, dispatches, identity, outbox, receive, statements};
use crate::domain::lifecycle::DispatchStatus;
use crate::error::Result;
use crate::proto;
use crate::store::Store;
use crate::store::exchange::{self as q, InRecord, OutRecord, PeerRecord};

/// Why a call to a peer failed.
#[derive(Clone, Debug)]
pub enum TransportError {
    /// Nothing reached the peer (no connection, TLS refused).
    NotSent(String),
    /// The request may have reached the peer; the answer did not come.
    Unknown(String),
    /// The peer answered with an error.
    Refused(String),
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::NotSent(m) => write!(f, "not sent: {m}"),
            TransportError::Unknown(m) => write!(f, "no answer: {m}"),
            TransportError::Refused(m) => write!(f, "refused: {m}"),
        }
    }
}

/// The calls one agency makes to a peer over the network.
#[async_trait::async_trait]
pub trait Transport: Send + Sync + std::fmt::Debug + 'static {
    /// ExchangeService.DeliverConsignment.
    async fn deliver(
        &self,
        from: &Identity,
        to: &PeerRecord,
        req: proto::DeliverConsignmentRequest,
    ) -> std::result::Result<proto::DeliverConsignmentResponse, TransportError>;
    /// ExchangeService.ReportOutcome.
    async fn report_outcome(
        &self,
        from: &Identity,
        to: &PeerRecord,
        req: proto::ReportOutcomeRequest,
    ) -> std::result::Result<(), TransportError>;
    /// ExchangeService.GetOutcome.
    async fn get_outcome(
        &self,
        from: &Identity,
        to: &PeerRecord,
        consignment_id: &str,
    ) -> std::result::Result<proto::GetOutcomeResponse, TransportError>;
    /// ExchangeService.GetDirectory.
    async fn directory(
        &self,
        from: &Identity,
        to: &PeerRecord,
    ) -> std::result::Result<proto::GetDirectoryResponse, TransportError>;
}

/// How long a relay holds a consignment it sends (longer than one attempt:
/// the client gives up after [`ATTEMPT`]); a relay killed mid-attempt leaves
/// it to the others, or to itself after a restart, once this has passed.
const LEASE: Duration = Duration::from_secs(30);
/// The longest one attempt to a peer may take.
pub const ATTEMPT: Duration = Duration::from_secs(25);
const TICK: Duration = Duration::from_millis(500);
const REFRESH: Duration = Duration::from_secs(2);

/// Runs the relay until `stopping` turns true.
pub async fn run(
    store: Store,
    ex: Arc<Exchange>,
    transport: Arc<dyn Transport>,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    let mut workers: HashMap<String, JoinHandle<()>> = HashMap::new();
    let mut refreshed: Option<Instant> = None;
    loop {
        if *stopping.borrow() {
            break;
        }
        if ex.take_directory_changed() || refreshed.is_none_or(|t| t.elapsed() >= REFRESH) {
            if let Err(e) = refresh(&store, &ex).await {
                tracing::warn!(error = %e, "exchange: directory refresh failed");
            }
            refreshed = Some(Instant::now());
        }
        workers.retain(|_, h| !h.is_finished());
        let now = store.clock().now_us();
        match q::due(&store, now, 256).await {
            Ok(rows) => {
                let mut groups: HashMap<String, Vec<OutRecord>> = HashMap::new();
                for o in rows {
                    groups
                        .entry(format!("out/{}/{}", o.agency_id, o.peer_code))
                        .or_default()
                        .push(o);
                }
                for (key, rows) in groups {
                    if workers.contains_key(&key) {
                        continue;
                    }
                    let (s, e, t) = (store.clone(), ex.clone(), transport.clone());
                    workers.insert(key, tokio::spawn(send_all(s, e, t, rows)));
                }
            }
            Err(e) => tracing::warn!(error = %e, "exchange: reading the outbox failed"),
        }
        match q::outcomes_due(&store, now, 256).await {
            Ok(rows) => {
                let mut groups: HashMap<String, Vec<InRecord>> = HashMap::new();
                for r in rows {
                    groups
                        .entry(format!("in/{}/{}", r.agency_id, r.sender_code))
                        .or_default()
                        .push(r);
                }
                for (key, rows) in groups {
                    if workers.contains_key(&key) {
                        continue;
                    }
                    let (s, e, t) = (store.clone(), ex.clone(), transport.clone());
                    workers.insert(key, tokio::spawn(report_all(s, e, t, rows)));
                }
            }
            Err(e) => tracing::warn!(error = %e, "exchange: reading outcomes failed"),
        }
        tokio::select! {
            _ = ex.wake.notified() => {}
            _ = tokio::time::sleep(TICK) => {}
            _ = stopping.changed() => {}
        }
    }
    for (_, h) in workers {
        h.abort();
    }
}

/// Reloads what TLS presents and trusts: every agency's identity (made when
/// missing) and every pinned CA.
pub async fn refresh(store: &Store, ex: &Exchange) -> Result<()> {
    let agencies = crate::store::identity::agency_ids(store).await?;
    let mut s = Snapshot::default();
    for a in agencies {
        let id = identity::load(store, ex, &a).await?;
        s.trusted_cas.push(id.ca_der.clone());
        s.identities.push(id);
    }
    for p in q::all_peers(store).await? {
        s.trusted_cas.push(p.ca_cert_der);
    }
    s.trusted_cas.sort();
    s.trusted_cas.dedup();
    ex.set_snapshot(s);
    Ok(())
}

async fn lease(store: &Store, o: &OutRecord, what: &str) -> Result<bool> {
    let mut tx = store.begin_write().await?;
    let now = tx.now_us();
    if !q::lease(&tx, &o.id, now, now + LEASE.as_micros() as i64).await? {
        tx.rollback().await;
        return Ok(false);
    }
    let mut ev = crate::audit::NewEvent::success("system/exchange-relay", "dispatch", &o.id);
    ev.agency_id = o.agency_id.clone();
    ev.summary = format!("{what} {} (attempt {})", o.peer_code, o.attempts + 1);
    tx.audit(ev);
    tx.commit().await?;
    Ok(true)
}

/// Consignments in flight to one peer at once.
const PER_PEER: usize = 8;

async fn send_all(store: Store, ex: Arc<Exchange>, t: Arc<dyn Transport>, rows: Vec<OutRecord>) {
    use futures::StreamExt;
    futures::stream::iter(rows)
        .for_each_concurrent(PER_PEER, |o| {
            let (store, ex, t) = (&store, &ex, &t);
            async move {
                if let Err(e) = send_one(store, ex, t.as_ref(), &o).await {
                    tracing::warn!(dispatch = %o.id, error = %e, "exchange: send failed");
                }
            }
        })
        .await;
}

/// The sending agency's statement on the signer's certificate now (sent with
/// every delivery).
pub async fn signer_status(
    store: &Store,
    me: &Identity,
    o: &OutRecord,
) -> Result<proto::SignedStatement> {
    let env = outbox::decode(o)?;
    let serial = env
        .signer_chain
        .first()
        .and_then(|d| <x509_cert::Certificate as der::Decode>::from_der(d).ok())
        .map(|c| crate::crypto::x509::serial_hex(&c))
        .unwrap_or_default();
    let key = crate::store::signing::key_by_serial(store, &o.agency_id, &serial).await?;
    let revoked_at = key.as_ref().and_then(|k| k.revoked_at_us);
    let status = proto::CertificateStatus {
        format: statements::CERT_STATUS.into(),
        serial,
        revoked: revoked_at.is_some(),
        revoke_time: revoked_at.map(super::to_timestamp),
        check_time: Some(super::to_timestamp(store.clock().now_us())),
    };
    statements::sign(me, &status)
}

async fn send_one(store: &Store, ex: &Exchange, t: &dyn Transport, o: &OutRecord) -> Result<()> {
    let pulling = o.status == DispatchStatus::Delivered;
    if !lease(
        store,
        o,
        if pulling {
            "asking for the outcome of"
        } else {
            "sending to"
        },
    )
    .await?
    {
        return Ok(());
    }
    let me = identity::load(store, ex, &o.agency_id).await?;
    let route = peers::route(store, &o.agency_id, &o.peer_code).await?;
    let answer: std::result::Result<
        (
            Option<proto::SignedStatement>,
            Option<proto::SignedStatement>,
        ),
        TransportError,
    > = match route {
        None => Err(TransportError::NotSent(format!(
            "{} is no longer a peer",
            o.peer_code
        ))),
        Some(Route::Local(receiver)) => {
            let from = receive::Sender {
                code: me.code.clone(),
                ca_der: me.ca_der.clone(),
            };
            if pulling {
                receive::outcome_of(store, &receiver, &me.code, &o.id)
                    .await
                    .map(|r| (r.receipt, r.outcome))
                    .map_err(|e| TransportError::Refused(e.to_string()))
            } else {
                let req = proto::DeliverConsignmentRequest {
                    envelope: Some(outbox::envelope_of(o)),
                    signer_status: Some(signer_status(store, &me, o).await?),
                };
                receive::deliver(store, ex, &receiver, &from, req)
                    .await
                    .map(|r| (r.receipt, r.outcome))
                    .map_err(|e| TransportError::Unknown(e.to_string()))
            }
        }
        Some(Route::Remote(peer)) => {
            if pulling {
                t.get_outcome(&me, &peer, &o.id)
                    .await
                    .map(|r| (r.receipt, r.outcome))
            } else {
                let req = proto::DeliverConsignmentRequest {
                    envelope: Some(outbox::envelope_of(o)),
                    signer_status: Some(signer_status(store, &me, o).await?),
                };
                t.deliver(&me, &peer, req)
                    .await
                    .map(|r| (r.receipt, r.outcome))
            }
        }
    };
    match answer {
        Ok((receipt, outcome)) if receipt.is_some() || outcome.is_some() => {
            match dispatches::record_answer(
                store,
                &o.id,
                &o.agency_id,
                receipt.as_ref(),
                outcome.as_ref(),
            )
            .await
            {
                Ok(()) => {
                    if pulling && outcome.is_none() {
                        dispatches::record_failure(store, ex, o, true, "no outcome yet").await?;
                    }
                    Ok(())
                }
                Err(e) => {
                    dispatches::record_failure(store, ex, o, true, &format!("answer rejected: {e}"))
                        .await
                }
            }
        }
        Ok(_) => dispatches::record_failure(store, ex, o, true, "empty answer").await,
        Err(TransportError::NotSent(m)) => {
            dispatches::record_failure(store, ex, o, false, &m).await
        }
        Err(e) => dispatches::record_failure(store, ex, o, true, &e.to_string()).await,
    }
}

async fn report_all(store: Store, ex: Arc<Exchange>, t: Arc<dyn Transport>, rows: Vec<InRecord>) {
    use futures::StreamExt;
    futures::stream::iter(rows)
        .for_each_concurrent(PER_PEER, |r| {
            let (store, ex, t) = (&store, &ex, &t);
            async move {
                if let Err(e) = report_one(store, ex, t.as_ref(), &r).await {
                    tracing::warn!(
                        consignment = %r.consignment_id,
                        error = %e,
                        "exchange: outcome report failed"
                    );
                }
            }
        })
        .await;
}

async fn report_one(store: &Store, ex: &Exchange, t: &dyn Transport, r: &InRecord) -> Result<()> {
    let key = (
        r.agency_id.as_str(),
        r.sender_code.as_str(),
        r.consignment_id.as_str(),
    );
    {
        let mut tx = store.begin_write().await?;
        let now = tx.now_us();
        if !q::lease_outcome(&tx, key, now, now + LEASE.as_micros() as i64).await? {
            tx.rollback().await;
            return Ok(());
        }
        let mut ev = crate::audit::NewEvent::success(
            "system/exchange-relay",
            "consignment",
            &r.consignment_id,
        );
        ev.agency_id = r.agency_id.clone();
        ev.summary = format!(
            "reporting the outcome to {} (attempt {})",
            r.sender_code,
            r.outcome_attempts + 1
        );
        tx.audit(ev);
        tx.commit().await?;
    }
    let (Some(content), Some(signature)) = (r.outcome.clone(), r.outcome_signature.clone()) else {
        return Ok(());
    };
    let st = proto::SignedStatement { content, signature };
    let receipt = proto::SignedStatement {
        content: r.receipt.clone(),
        signature: r.receipt_signature.clone(),
    };
    let me = identity::load(store, ex, &r.agency_id).await?;
    let sent = match peers::route(store, &r.agency_id, &r.sender_code).await? {
        Some(Route::Local(sender)) => {
            dispatches::record_reported(store, &sender, &me.code, &st, Some(&receipt))
                .await
                .map_err(|e| TransportError::Refused(e.to_string()))
        }
        Some(Route::Remote(peer)) => {
            t.report_outcome(
                &me,
                &peer,
                proto::ReportOutcomeRequest {
                    outcome: Some(st),
                    receipt: Some(receipt),
                },
            )
            .await
        }
        None => Err(TransportError::NotSent(format!(
            "{} is not a peer",
            r.sender_code
        ))),
    };
    match sent {
        Ok(()) => {
            receive::acknowledged(store, &r.agency_id, &r.sender_code, &r.consignment_id).await
        }
        Err(e) => {
            let mut tx = store.begin_write().await?;
            let Some(mut rec) = q::received(&tx, key.0, key.1, key.2).await? else {
                tx.rollback().await;
                return Ok(());
            };
            let now = tx.now_us();
            rec.outcome_attempts += 1;
            rec.outcome_lease_until_us = 0;
            rec.outcome_next_attempt_us =
                now + dispatches::backoff_us(ex, rec.outcome_attempts - 1);
            q::save_in(&tx, &rec).await?;
            let mut ev = crate::audit::NewEvent::success(
                "system/exchange-relay",
                "consignment",
                &r.consignment_id,
            );
            ev.agency_id = r.agency_id.clone();
            ev.summary = format!("outcome report to {} failed ({e})", r.sender_code);
            tx.audit(ev);
            tx.commit().await?;
            Ok(())
        }
    }
}
