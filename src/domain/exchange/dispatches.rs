//! The sending side's record of its consignments: receipts and outcomes
//! checked and stored with the status they move the dispatch to, failed
//! attempts with their back-off, and what registrars see and do.

use prost::Message;

use super::{Exchange, peers, statements, to_timestamp};
use crate::domain::context::Ctx;
use crate::domain::lifecycle::{DispatchEvent, DispatchStatus};
use crate::error::{Error, Reason, Result};
use crate::proto;
use crate::store::exchange::{self as q, OutRecord};
use crate::store::{Db, Store, WriteTx};

fn event(o: &OutRecord, action: &str, summary: String) -> crate::audit::NewEvent {
    let mut ev = crate::audit::NewEvent::success(action, "dispatch", &o.id);
    ev.agency_id = o.agency_id.clone();
    ev.summary = summary;
    ev
}

fn moved(o: &mut OutRecord, e: DispatchEvent, now: i64) -> Result<bool> {
    let next = o.status.on(e)?;
    let changed = next != o.status;
    o.status = next;
    o.updated_at_us = now;
    Ok(changed)
}

/// Checks a receipt for `o` signed by the receiving agency.
fn check_receipt(o: &OutRecord, ca: &[u8], st: &proto::SignedStatement) -> Result<()> {
    let r: proto::Receipt = statements::open_from_peer(Some(st), ca, &o.peer_code, "receipt")?;
    if r.format != statements::RECEIPT
        || r.consignment_id != o.id
        || r.envelope_sha256 != o.envelope_sha256
        || r.receiver_agency_code != o.peer_code
    {
        return Err(Error::rejected(
            Reason::SignedStatementInvalid,
            "the receipt is not about this consignment",
        ));
    }
    Ok(())
}

/// Checks an outcome for `o` signed by the receiving agency.
fn check_outcome(o: &OutRecord, ca: &[u8], st: &proto::SignedStatement) -> Result<proto::Outcome> {
    let out: proto::Outcome = statements::open_from_peer(Some(st), ca, &o.peer_code, "outcome")?;
    if out.format != statements::OUTCOME
        || out.consignment_id != o.id
        || out.receiver_agency_code != o.peer_code
    {
        return Err(Error::rejected(
            Reason::SignedStatementInvalid,
            "the outcome is not about this consignment",
        ));
    }
    Ok(out)
}

/// Records `o`'s outcome in `tx` (once: a repeat changes nothing).
fn apply_outcome(
    tx: &mut WriteTx,
    o: &mut OutRecord,
    out: &proto::Outcome,
    st: &proto::SignedStatement,
    action: &str,
) -> Result<bool> {
    let registered = out.kind == proto::OutcomeKind::Registered as i32;
    let conflict = out
        .refusal
        .as_ref()
        .is_some_and(|r| r.code == proto::RefusalCode::Conflict as i32);
    // A CONFLICT answer is about another envelope than the one stored at
    // the receiver, so it carries the hash sent; any other outcome must name
    // the envelope this consignment holds.
    if out.envelope_sha256 != o.envelope_sha256 && !conflict {
        return Err(Error::rejected(
            Reason::SignedStatementInvalid,
            "the outcome is about another envelope",
        ));
    }
    if matches!(
        o.status,
        DispatchStatus::Registered | DispatchStatus::Refused
    ) {
        return Ok(false);
    }
    let now = tx.now_us();
    moved(o, DispatchEvent::Outcome { registered }, now)?;
    o.outcome = Some(st.content.clone());
    o.outcome_signature = Some(st.signature.clone());
    o.registration_number = out.registration_number.clone();
    o.refusal = out.refusal.as_ref().map(|r| r.code as i16).unwrap_or(0);
    o.last_error = out
        .refusal
        .as_ref()
        .map(|r| r.text.clone())
        .unwrap_or_default();
    o.lease_until_us = 0;
    let summary = if registered {
        format!(
            "{} registered it as {} for position {} (signed outcome)",
            o.peer_code, out.registration_number, out.delivered_position_id
        )
    } else {
        let r = out.refusal.clone().unwrap_or_default();
        format!(
            "{} refused it: {} {} (signed outcome)",
            o.peer_code,
            proto::RefusalCode::try_from(r.code)
                .map(|c| c.as_str_name().trim_start_matches("REFUSAL_CODE_"))
                .unwrap_or("UNKNOWN"),
            r.text
        )
    };
    tx.audit(event(o, action, summary));
    Ok(true)
}

/// Records a peer's answer to DeliverConsignment (or GetOutcome) for `id`.
pub async fn record_answer(
    store: &Store,
    id: &str,
    agency_id: &str,
    receipt: Option<&proto::SignedStatement>,
    outcome: Option<&proto::SignedStatement>,
) -> Result<()> {
    let mut tx = store.begin_write().await?;
    let mut o = q::out(&tx, agency_id, id)
        .await?
        .ok_or_else(|| Error::rejected(Reason::DispatchNotFound, "no such dispatch"))?;
    let ca = peers::ca_of(&tx, agency_id, &o.peer_code)
        .await?
        .ok_or_else(|| Error::rejected(Reason::PeerNotFound, "the peer was removed"))?;
    let now = tx.now_us();
    let mut changed = false;
    if let Some(st) = receipt {
        check_receipt(&o, &ca, st)?;
        if o.receipt.is_none() {
            moved(&mut o, DispatchEvent::Receipt, now)?;
            o.receipt = Some(st.content.clone());
            o.receipt_signature = Some(st.signature.clone());
            o.last_error.clear();
            o.lease_until_us = 0;
            // The outcome is pulled if it does not come.
            o.next_attempt_us = now + 30_000_000;
            let r = proto::Receipt::decode(st.content.as_slice()).unwrap_or_default();
            tx.audit(event(
                &o,
                "system/exchange-relay",
                format!(
                    "delivered to {}: signed receipt for envelope sha256 {}",
                    o.peer_code, r.envelope_sha256
                ),
            ));
            changed = true;
        }
    }
    if let Some(st) = outcome {
        let out = check_outcome(&o, &ca, st)?;
        changed |= apply_outcome(&mut tx, &mut o, &out, st, "system/exchange-relay")?;
    }
    if !changed {
        // Nothing new: the lease is given back.
        o.lease_until_us = 0;
        tx.audit(event(
            &o,
            "system/exchange-relay",
            "answer already recorded".into(),
        ));
    }
    q::save_out(&tx, &o).await?;
    tx.commit().await?;
    Ok(())
}

/// Records an outcome `from` reported (ReportOutcome) to agency `agency_id`,
/// with the receipt of the same consignment when this side lacks it.
pub async fn record_reported(
    store: &Store,
    agency_id: &str,
    from_code: &str,
    st: &proto::SignedStatement,
    receipt: Option<&proto::SignedStatement>,
) -> Result<()> {
    let out = proto::Outcome::decode(st.content.as_slice()).map_err(|_| {
        Error::rejected(
            Reason::SignedStatementInvalid,
            "the outcome does not decode",
        )
    })?;
    let mut tx = store.begin_write().await?;
    let mut o = q::out(&tx, agency_id, &out.consignment_id)
        .await?
        .filter(|o| o.peer_code == from_code)
        .ok_or_else(|| Error::rejected(Reason::ConsignmentNotFound, "no such consignment"))?;
    let ca = peers::ca_of(&tx, agency_id, from_code)
        .await?
        .ok_or_else(|| Error::rejected(Reason::PeerNotTrusted, "not a peer"))?;
    let out = check_outcome(&o, &ca, st)?;
    let mut changed = false;
    if let Some(r) = receipt
        && o.receipt.is_none()
    {
        check_receipt(&o, &ca, r)?;
        o.receipt = Some(r.content.clone());
        o.receipt_signature = Some(r.signature.clone());
        changed = true;
    }
    changed |= apply_outcome(&mut tx, &mut o, &out, st, "exchange/ReportOutcome")?;
    if !changed {
        tx.rollback().await;
        return Ok(());
    }
    q::save_out(&tx, &o).await?;
    tx.commit().await?;
    Ok(())
}

/// The delay before attempt `attempts + 1`: exponential from the base to the
/// ceiling, with jitter of ±50 %.
pub fn backoff_us(ex: &Exchange, attempts: i32) -> i64 {
    use rand_core::RngCore;
    let base = ex.settings.retry_base.as_micros() as f64;
    let ceiling = ex.settings.retry_ceiling.as_micros() as f64;
    let exp = base * 2f64.powi(attempts.clamp(0, 40));
    let jitter = 0.5 + (rand_core::OsRng.next_u32() as f64 / u32::MAX as f64);
    (exp.min(ceiling) * jitter) as i64
}

/// Records a failed attempt: back-off, or FAILED after the give-up time.
pub async fn record_failure(
    store: &Store,
    ex: &Exchange,
    o: &OutRecord,
    transmitted: bool,
    error: &str,
) -> Result<()> {
    let mut tx = store.begin_write().await?;
    let Some(mut o) = q::out(&tx, &o.agency_id, &o.id).await? else {
        tx.rollback().await;
        return Ok(());
    };
    let now = tx.now_us();
    o.attempts += 1;
    o.last_error = error.chars().take(500).collect();
    o.lease_until_us = 0;
    let summary =
        if o.status.pending() && now - o.created_at_us > ex.settings.give_up.as_micros() as i64 {
            moved(&mut o, DispatchEvent::GiveUp, now)?;
            format!(
                "attempt {} to {} failed ({error}); given up",
                o.attempts, o.peer_code
            )
        } else {
            if transmitted && o.status.pending() {
                moved(&mut o, DispatchEvent::Transmitted, now)?;
            }
            o.next_attempt_us = now + backoff_us(ex, o.attempts - 1);
            format!(
                "attempt {} to {} failed ({error}); next in {} s",
                o.attempts,
                o.peer_code,
                (o.next_attempt_us - now) / 1_000_000
            )
        };
    q::save_out(&tx, &o).await?;
    tx.audit(event(&o, "system/exchange-relay", summary));
    tx.commit().await?;
    Ok(())
}

/// A dispatch as registrars and GetLetter see it.
pub fn dispatch_pb(o: &OutRecord) -> proto::Dispatch {
    let out = o
        .outcome
        .as_ref()
        .and_then(|b| proto::Outcome::decode(b.as_slice()).ok());
    proto::Dispatch {
        id: o.id.clone(),
        letter_id: o.letter_id.clone(),
        agency_code: o.peer_code.clone(),
        position_id: o.position_id.clone(),
        status: i32::from(o.status),
        refusal: out.as_ref().and_then(|x| x.refusal.clone()),
        registration_number: o.registration_number.clone(),
        delivered_position_id: out.map(|x| x.delivered_position_id).unwrap_or_default(),
        attempts: o.attempts,
        next_attempt_time: (o.status.pending() || o.status == DispatchStatus::Delivered)
            .then(|| to_timestamp(o.next_attempt_us)),
        last_error: o.last_error.clone(),
        create_time: Some(to_timestamp(o.created_at_us)),
        update_time: Some(to_timestamp(o.updated_at_us)),
        receipt: o.receipt.clone().unwrap_or_default(),
        receipt_signature: o.receipt_signature.clone().unwrap_or_default(),
        outcome: o.outcome.clone().unwrap_or_default(),
        outcome_signature: o.outcome_signature.clone().unwrap_or_default(),
    }
}

/// The dispatches of letters.
pub async fn of_letters(db: &impl Db, letter_ids: &[String]) -> Result<Vec<OutRecord>> {
    Ok(q::outs_of_letters(db, letter_ids).await?)
}

/// A page of the caller's agency's dispatches, newest first.
pub async fn list(
    store: &Store,
    agency_id: &str,
    status: Option<DispatchStatus>,
    page_size: i32,
    token: &str,
) -> Result<(Vec<OutRecord>, String)> {
    use crate::domain::page;
    let limit = page::page_size(page_size, 50, 500)?;
    let fp = page::fingerprint(&[
        "dispatches",
        &status.map(|s| i16::from(s).to_string()).unwrap_or_default(),
    ]);
    let after = page::decode_time_key(token, &fp)?;
    let mut rows = q::outs(store, agency_id, status, after, limit + 1).await?;
    let next = page::next_token(&mut rows, limit, |o| {
        page::encode_time_key(&fp, o.created_at_us, &o.id)
    });
    Ok((rows, next))
}

/// A registrar queues a dispatch again, or cancels it.
pub async fn retry_or_cancel(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    id: &str,
    retry: bool,
) -> Result<OutRecord> {
    let mut o = q::out(&*tx, ctx.agency(), id)
        .await?
        .ok_or_else(|| Error::rejected(Reason::DispatchNotFound, "no such dispatch"))?;
    let now = tx.now_us();
    if retry {
        moved(&mut o, DispatchEvent::Retry, now)?;
        o.next_attempt_us = now;
        o.lease_until_us = 0;
        // The give-up time counts from the retry.
        o.created_at_us = o.created_at_us.max(now - 1);
    } else {
        moved(&mut o, DispatchEvent::Cancel, now)?;
    }
    q::save_out(&*tx, &o).await?;
    tx.audit(ctx.event(
        "dispatch",
        id,
        if retry { "queued again" } else { "cancelled" },
    ));
    Ok(o)
}
