//! The receiving side: a consignment is verified (the envelope's signature
//! against the pinned CA of the agency it came from, the letter's CMS
//! signature against that agency's CA, every hash against the signed
//! manifest, the signer's certificate status), then stored with its signed
//! receipt and its outcome, and the letter delivered, in one transaction.
//! Deduplication never expires: the same consignment id with the same
//! envelope answers the stored receipt; with another envelope, CONFLICT.

use prost::Message;
use serde::Deserialize;

use super::{Exchange, from_timestamp, identity, sha256_hex, statements, to_timestamp};
use crate::crypto::{cms_sign, x509};
use crate::domain::letters::{Exchanged, External, Received};
use crate::error::{Error, Reason, Result};
use crate::proto::{self, RefusalCode};
pub use crate::store::exchange::InRecord;
use crate::store::exchange::{self as q};
use crate::store::{Db, Store};

/// The agency a request comes from, as its exchange certificate shows it.
#[derive(Clone, Debug)]
pub struct Sender {
    /// Its code.
    pub code: String,
    /// Its pinned CA certificate (DER).
    pub ca_der: Vec<u8>,
}

/// Who sent `cert_der` to agency `agency_id`: a peer of its directory whose
/// CA issued the certificate and whose code the certificate names, or
/// another agency of this installation.
pub async fn sender_of(db: &impl Db, agency_id: &str, cert_der: &[u8]) -> Result<Sender> {
    let untrusted = || {
        Error::rejected(
            Reason::PeerNotTrusted,
            "the certificate is not that of a peer agency",
        )
    };
    let cert: x509_cert::Certificate = der::Decode::from_der(cert_der).map_err(|_| untrusted())?;
    let code = x509::exchange_agency_code(&cert);
    if let Some(p) = q::peer(db, agency_id, &code).await? {
        let ca = der::Decode::from_der(&p.ca_cert_der).map_err(|_| untrusted())?;
        if x509::issued_by(&cert, &ca) {
            return Ok(Sender {
                code,
                ca_der: p.ca_cert_der,
            });
        }
    }
    if let Some(local) = crate::store::identity::agency_id_by_code(db, &code).await?
        && local != agency_id
        && let Some((ca_der, _)) = crate::store::signing::agency_ca(db, &local).await?
    {
        let ca = der::Decode::from_der(&ca_der).map_err(|_| untrusted())?;
        if x509::issued_by(&cert, &ca) {
            return Ok(Sender { code, ca_der });
        }
    }
    Err(untrusted())
}

/// Why a consignment is refused.
struct Refused {
    code: RefusalCode,
    text: String,
    successor: String,
    limit: i64,
}

fn refused(code: RefusalCode, text: impl Into<String>) -> Refused {
    Refused {
        code,
        text: text.into(),
        successor: String::new(),
        limit: 0,
    }
}

/// The part of the signed manifest the receiver checks.
#[derive(Deserialize)]
struct ManifestView {
    number: String,
    subject: String,
    body_sha256: String,
    attachments: Vec<ManifestAttachment>,
    agency: ManifestAgency,
}

#[derive(Deserialize)]
struct ManifestAgency {
    code: String,
}

#[derive(Deserialize)]
struct ManifestAttachment {
    sha256: String,
    size_bytes: i64,
}

/// Hands over one consignment to agency `agency_id` from `from`.
pub async fn deliver(
    store: &Store,
    ex: &Exchange,
    agency_id: &str,
    from: &Sender,
    req: proto::DeliverConsignmentRequest,
) -> Result<proto::DeliverConsignmentResponse> {
    let me = identity::load(store, ex, agency_id).await?;
    let now = store.clock().now_us();
    let unstored =
        |cid: &str, hash: &str, r: Refused| -> Result<proto::DeliverConsignmentResponse> {
            let outcome = outcome(&me.code, &from.code, cid, hash, Err(r), now);
            Ok(proto::DeliverConsignmentResponse {
                receipt: None,
                outcome: Some(statements::sign(&me, &outcome)?),
            })
        };
    let Some(st) = req.envelope else {
        return unstored("", "", refused(RefusalCode::Format, "no envelope"));
    };
    let hash = statements::envelope_hash(&st);
    if st.content.len() > ex.settings.max_envelope_bytes {
        // Refused before its signature is checked: the id is read as sent,
        // so that the sender can match the (signed) refusal to its dispatch.
        let cid = proto::Envelope::decode(st.content.as_slice())
            .map(|e| e.consignment_id)
            .unwrap_or_default();
        let mut r = refused(RefusalCode::TooLarge, "the envelope is too large");
        r.limit = ex.settings.max_envelope_bytes as i64;
        return unstored(&cid, &hash, r);
    }
    let env: proto::Envelope = match statements::open(&st, &from.ca_der, &from.code) {
        Ok(e) => e,
        Err(why) => {
            let cid = proto::Envelope::decode(st.content.as_slice())
                .map(|e| e.consignment_id)
                .unwrap_or_default();
            audit_refusal(store, agency_id, &from.code, &cid, "CORRUPTED", why).await?;
            return unstored(
                &cid,
                &hash,
                refused(
                    RefusalCode::Corrupted,
                    format!("the envelope's signature does not verify ({why})"),
                ),
            );
        }
    };
    let cid = env.consignment_id.clone();
    if env.format != statements::ENVELOPE || cid.is_empty() || cid.len() > 36 {
        return unstored(
            &cid,
            &hash,
            refused(RefusalCode::Format, "not a naskah.envelope.v1 envelope"),
        );
    }
    if env.sender_agency_code != from.code {
        return Err(Error::rejected(
            Reason::PeerNotTrusted,
            "the envelope names another sending agency",
        ));
    }
    if env.recipient_agency_code != me.code {
        return unstored(
            &cid,
            &hash,
            refused(RefusalCode::Policy, format!("not addressed to {}", me.code)),
        );
    }
    if let Some(r) = q::received(store, agency_id, &from.code, &cid).await? {
        return answer_stored(&me, &from.code, &r, &hash, now);
    }
    // Checks that need no transaction.
    let mut verdict = check(ex, &env, from, req.signer_status.as_ref());
    let held = verdict.is_ok() && q::registrar_check(store, agency_id).await?;
    // Attachments go to the blob store before the transaction (content
    // addressed: a rollback leaves at most an unreferenced file).
    let stored_attachments = if verdict.is_ok() && !held {
        write_attachments(ex, &env).await?
    } else {
        Vec::new()
    };
    let mut tx = store.begin_write().await?;
    let now = tx.now_us();
    // The addressee, following successors of abolished positions.
    let mut delivered_to = String::new();
    if verdict.is_ok() {
        match addressee(&tx, agency_id, &env.recipient_position_id).await? {
            Ok(p) => delivered_to = p,
            Err(r) => verdict = Err(r),
        }
    }
    let receipt = proto::Receipt {
        format: statements::RECEIPT.into(),
        consignment_id: cid.clone(),
        sender_agency_code: from.code.clone(),
        receiver_agency_code: me.code.clone(),
        envelope_sha256: hash.clone(),
        receive_time: Some(to_timestamp(now)),
    };
    let receipt = statements::sign(&me, &receipt)?;
    let mut rec = InRecord {
        agency_id: agency_id.to_owned(),
        sender_code: from.code.clone(),
        consignment_id: cid.clone(),
        envelope_sha256: hash.clone(),
        letter_id: String::new(),
        receipt: receipt.content.clone(),
        receipt_signature: receipt.signature.clone(),
        outcome: None,
        outcome_signature: None,
        outcome_seq: 0,
        outcome_acked: false,
        outcome_attempts: 0,
        outcome_next_attempt_us: now,
        outcome_lease_until_us: 0,
        envelope: None,
        manifest: Some(env.manifest.clone()),
        manifest_signature: Some(env.manifest_signature.clone()),
        signer_ca_der: Some(from.ca_der.clone()),
        received_at_us: now,
    };
    let outcome_st = if held && verdict.is_ok() {
        // The registrar decides (AcceptConsignment / RefuseConsignment);
        // the envelope waits with the receipt.
        rec.envelope = Some(st.content.clone());
        let mut ev =
            crate::audit::NewEvent::success("exchange/DeliverConsignment", "consignment", &cid);
        ev.agency_id = agency_id.to_owned();
        ev.summary = format!(
            "consignment {cid} from {} received (envelope sha256 {hash}); awaiting the registrar's check",
            from.code
        );
        tx.audit(ev);
        None
    } else {
        let decided = match verdict {
            Ok(()) => Ok(register(
                &mut tx,
                agency_id,
                from,
                &env,
                &delivered_to,
                stored_attachments,
            )
            .await?),
            Err(r) => Err(r),
        };
        Some(
            decide(
                &mut tx,
                &me,
                &mut rec,
                decided,
                "exchange/DeliverConsignment",
            )
            .await?,
        )
    };
    q::insert_in(&tx, &rec).await?;
    match tx.commit_with_notices().await {
        Ok((_, notices)) => {
            for n in notices {
                let _ = ex.notices.send(n);
            }
        }
        Err(e) if e.is_unique_violation() => {
            // The same consignment was stored by a concurrent delivery.
            let r = q::received(store, agency_id, &from.code, &cid)
                .await?
                .ok_or_else(|| Error::Internal("consignment vanished".into()))?;
            return answer_stored(&me, &from.code, &r, &hash, now);
        }
        Err(e) => return Err(e.into()),
    }
    Ok(proto::DeliverConsignmentResponse {
        receipt: Some(receipt),
        outcome: outcome_st,
    })
}

/// Writes an envelope's attachments to the blob store: (file name, media
/// type, sha256, size) of each.
async fn write_attachments(
    ex: &Exchange,
    env: &proto::Envelope,
) -> Result<Vec<(String, String, String, i64)>> {
    let mut out = Vec::new();
    for a in &env.attachments {
        let blob = |e: std::io::Error| Error::Internal(format!("blob: {e}"));
        let mut w = ex.blobs.writer().await.map_err(blob)?;
        w.write(&a.content).await.map_err(blob)?;
        let (sha, size) = w.finish().await.map_err(blob)?;
        out.push((a.file_name.clone(), a.media_type.clone(), sha, size as i64));
    }
    Ok(out)
}

/// Registers a verified consignment as an incoming letter of `delivered_to`:
/// (its registration number, the position, the letter's id).
async fn register(
    tx: &mut crate::store::WriteTx,
    agency_id: &str,
    from: &Sender,
    env: &proto::Envelope,
    delivered_to: &str,
    attachments: Vec<(String, String, String, i64)>,
) -> Result<(String, String, String)> {
    let now = tx.now_us();
    let year = crate::domain::calendar::year_month(
        now,
        &crate::domain::calendar::zone_or_default(
            &crate::store::signing::agency(&*tx, agency_id)
                .await?
                .unwrap_or_default()
                .time_zone,
        ),
    )?
    .0;
    let seq = crate::store::letters::next_seq(&*tx, agency_id, "exchange-in", year).await?;
    let number = format!("{seq}/M/{year}");
    let signer = signer_of(env);
    let l = crate::domain::letters::register_exchanged(
        tx,
        Exchanged {
            agency_id: agency_id.to_owned(),
            position_id: delivered_to.to_owned(),
            carbon_copy: env.carbon_copy,
            letter_type: proto::LetterType::try_from(env.r#type)
                .unwrap_or(proto::LetterType::Lainnya),
            subject: env.subject.clone(),
            body: env.body.clone(),
            security: proto::SecurityLevel::try_from(env.security_level)
                .unwrap_or(proto::SecurityLevel::Biasa),
            urgency: env.urgency.clamp(0, 3) as i16,
            classification_code: env.classification_code.clone(),
            sender: External {
                organisation: env.sender_agency_name.clone(),
                attention: env.signer_position.clone(),
                exchange_agency_id: from.code.clone(),
                ..External::default()
            },
            sender_number: env.number.clone(),
            letter_date_us: from_timestamp(env.sign_time.as_ref()),
            received: Received {
                consignment_id: env.consignment_id.clone(),
                sender_agency_code: from.code.clone(),
                signer_name: signer.0,
                signer_position: env.signer_position.clone(),
                signature_valid: true,
                registration_number: number.clone(),
                addressed_position_id: if delivered_to == env.recipient_position_id {
                    String::new()
                } else {
                    env.recipient_position_id.clone()
                },
            },
            attachments,
        },
    )
    .await?;
    let mut ev = crate::audit::NewEvent::success("exchange/DeliverConsignment", "letter", &l.id);
    ev.agency_id = agency_id.to_owned();
    ev.actor_position_id = delivered_to.to_owned();
    ev.summary = format!(
        "received by exchange from {} (consignment {})",
        from.code, env.consignment_id
    );
    tx.audit(ev);
    Ok((number, delivered_to.to_owned(), l.id))
}

/// Signs and records a consignment's outcome in `rec` (audited as `action`);
/// answers the signed outcome.
async fn decide(
    tx: &mut crate::store::WriteTx,
    me: &identity::Identity,
    rec: &mut InRecord,
    decided: std::result::Result<(String, String, String), Refused>,
    action: &str,
) -> Result<proto::SignedStatement> {
    let now = tx.now_us();
    let (cid, hash, sender) = (&rec.consignment_id, &rec.envelope_sha256, &rec.sender_code);
    let summary = match &decided {
        Ok((number, pos, _)) => format!(
            "consignment {cid} from {sender} (envelope sha256 {hash}) registered as {number} for position {pos}"
        ),
        Err(r) => format!(
            "consignment {cid} from {sender} (envelope sha256 {hash}) refused {}: {}",
            r.code.as_str_name().trim_start_matches("REFUSAL_CODE_"),
            r.text
        ),
    };
    if let Ok((_, _, letter)) = &decided {
        rec.letter_id = letter.clone();
    }
    let o = outcome(
        &me.code,
        sender,
        cid,
        hash,
        decided.map(|(n, p, _)| (n, p)),
        now,
    );
    let st = statements::sign(me, &o)?;
    rec.outcome = Some(st.content.clone());
    rec.outcome_signature = Some(st.signature.clone());
    rec.outcome_seq = (q::last_outcome_seq(&*tx, &rec.agency_id).await? + 1).max(now);
    rec.outcome_next_attempt_us = now;
    let mut ev = crate::audit::NewEvent::success(action, "consignment", cid);
    ev.agency_id = rec.agency_id.clone();
    ev.summary = summary;
    tx.audit(ev);
    Ok(st)
}

/// A registrar's decision on a consignment awaiting the check.
#[derive(Clone, Debug)]
pub enum Decision {
    /// Register it for its addressed position (or that position's successor).
    Accept,
    /// Refuse it with a code and a text.
    Refuse(RefusalCode, String),
}

/// The registrar's check: registers or refuses a consignment that awaits
/// it, and signs the outcome (which the relay then reports to the sender).
pub async fn check_by_registrar(
    tx: &mut crate::store::WriteTx,
    ctx: crate::domain::context::Ctx<'_>,
    ex: &Exchange,
    sender: &str,
    cid: &str,
    d: Decision,
) -> Result<InRecord> {
    let agency_id = ctx.agency().to_owned();
    let mut rec = q::received(&*tx, &agency_id, sender, cid)
        .await?
        .ok_or_else(|| Error::rejected(Reason::ConsignmentNotFound, "no such consignment"))?;
    if rec.outcome.is_some() {
        return Err(Error::rejected(
            Reason::InvalidState,
            "the consignment was decided already",
        ));
    }
    let me = identity::in_tx(tx, ex, &agency_id).await?;
    let env = rec
        .envelope
        .as_deref()
        .map(proto::Envelope::decode)
        .transpose()
        .map_err(|e| Error::Internal(e.to_string()))?
        .ok_or_else(|| Error::Internal("an awaiting consignment without its envelope".into()))?;
    let ca_der = rec.signer_ca_der.clone().unwrap_or_default();
    let from = Sender {
        code: sender.to_owned(),
        ca_der,
    };
    let decided = match d {
        Decision::Refuse(code, text) => Err(refused(code, text)),
        Decision::Accept => match addressee(tx, &agency_id, &env.recipient_position_id).await? {
            Err(r) => Err(r),
            Ok(to) => {
                let attachments = write_attachments(ex, &env).await?;
                Ok(register(tx, &agency_id, &from, &env, &to, attachments).await?)
            }
        },
    };
    let action = ctx.meta.method.clone();
    decide(tx, &me, &mut rec, decided, &action).await?;
    rec.envelope = None;
    q::save_in(&*tx, &rec).await?;
    let mut ev = ctx.event("consignment", cid, "checked by the registrar");
    ev.outcome = crate::audit::Outcome::Success;
    tx.audit(ev);
    Ok(rec)
}

/// The envelope of a consignment as received (empty once decided: only its
/// signed manifest is kept then).
pub async fn envelope_awaiting(
    db: &impl Db,
    agency_id: &str,
    sender: &str,
    cid: &str,
) -> Result<proto::Envelope> {
    let rec = q::received(db, agency_id, sender, cid)
        .await?
        .ok_or_else(|| Error::rejected(Reason::ConsignmentNotFound, "no such consignment"))?;
    Ok(rec
        .envelope
        .as_deref()
        .and_then(|b| proto::Envelope::decode(b).ok())
        .unwrap_or_default())
}

/// Consignments awaiting the registrar's check, oldest first.
pub async fn awaiting(
    store: &Store,
    agency_id: &str,
    page_size: i32,
    token: &str,
) -> Result<(Vec<(InRecord, proto::Envelope)>, String)> {
    use crate::domain::page;
    let limit = page::page_size(page_size, 50, 500)?;
    let fp = page::fingerprint(&["awaiting consignments"]);
    // The key: receive time, then sender and consignment id (a sender's
    // code holds no ':' and no '/').
    let after = match page::decode_time_key(token, &fp)? {
        None => None,
        Some((t, rest)) => {
            let (sender, id) = rest.split_once('/').ok_or_else(|| {
                Error::rejected(Reason::InvalidPageToken, "page_token is malformed")
            })?;
            Some((t, sender.to_owned(), id.to_owned()))
        }
    };
    let mut rows = q::awaiting(store, agency_id, after, limit + 1).await?;
    let next = page::next_token(&mut rows, limit, |r| {
        page::encode_time_key(
            &fp,
            r.received_at_us,
            &format!("{}/{}", r.sender_code, r.consignment_id),
        )
    });
    let mut out = Vec::new();
    for r in rows {
        let env = r
            .envelope
            .as_deref()
            .and_then(|b| proto::Envelope::decode(b).ok())
            .unwrap_or_default();
        out.push((r, env));
    }
    Ok((out, next))
}

fn signer_of(env: &proto::Envelope) -> (String, String) {
    env.signer_chain
        .first()
        .and_then(|d| <x509_cert::Certificate as der::Decode>::from_der(d).ok())
        .map(|c| {
            let s = x509::subject_of(&c);
            (s.name, x509::serial_hex(&c))
        })
        .unwrap_or_else(|| (env.signer_name.clone(), String::new()))
}

/// The checks of an envelope's content.
fn check(
    ex: &Exchange,
    env: &proto::Envelope,
    from: &Sender,
    status: Option<&proto::SignedStatement>,
) -> std::result::Result<(), Refused> {
    let level = proto::SecurityLevel::try_from(env.security_level)
        .map_err(|_| refused(RefusalCode::Format, "unknown security level"))?;
    if level == proto::SecurityLevel::Unspecified {
        return Err(refused(RefusalCode::Format, "no security level"));
    }
    if level as i32 > ex.settings.max_security_level as i32 {
        return Err(refused(
            RefusalCode::SecurityLevelNotAccepted,
            format!(
                "letters above {} are not accepted by exchange",
                ex.settings.max_security_level.as_str_name()
            ),
        ));
    }
    let verified = cms_sign::verify_detached(&env.manifest_signature, &env.manifest, &from.ca_der)
        .map_err(|e| {
            refused(
                RefusalCode::SignatureInvalid,
                format!("the letter's signature does not verify ({})", e.code()),
            )
        })?;
    let m: ManifestView = serde_json::from_slice(&env.manifest)
        .map_err(|_| refused(RefusalCode::Format, "the manifest is not a naskah manifest"))?;
    if m.agency.code != from.code {
        return Err(refused(
            RefusalCode::SignatureInvalid,
            "the manifest names another agency",
        ));
    }
    if m.number != env.number || m.subject != env.subject {
        return Err(refused(
            RefusalCode::Corrupted,
            "number or subject differ from the signed manifest",
        ));
    }
    if m.body_sha256 != sha256_hex(env.body.as_bytes()) {
        return Err(refused(
            RefusalCode::Corrupted,
            "the body differs from the signed manifest",
        ));
    }
    let mut signed: Vec<(String, i64)> = m
        .attachments
        .iter()
        .map(|a| (a.sha256.clone(), a.size_bytes))
        .collect();
    let mut carried: Vec<(String, i64)> = env
        .attachments
        .iter()
        .map(|a| (sha256_hex(&a.content), a.content.len() as i64))
        .collect();
    signed.sort();
    carried.sort();
    if signed != carried
        || env
            .attachments
            .iter()
            .any(|a| a.sha256 != sha256_hex(&a.content))
    {
        return Err(refused(
            RefusalCode::Corrupted,
            "an attachment differs from the signed manifest",
        ));
    }
    let status: proto::CertificateStatus = status
        .ok_or_else(|| refused(RefusalCode::Format, "no certificate status"))
        .and_then(|st| {
            statements::open(st, &from.ca_der, &from.code).map_err(|_| {
                refused(
                    RefusalCode::Corrupted,
                    "the certificate status does not verify",
                )
            })
        })?;
    if status.format != statements::CERT_STATUS || status.serial != verified.serial {
        return Err(refused(
            RefusalCode::Format,
            "the certificate status is not about the signer",
        ));
    }
    if status.revoked {
        return Err(refused(
            RefusalCode::CertRevoked,
            "the signer's certificate is revoked",
        ));
    }
    Ok(())
}

/// The position a consignment goes to: the addressed one, or the successor
/// of an abolished one (followed a few steps at most).
async fn addressee(
    tx: &crate::store::WriteTx,
    agency_id: &str,
    position_id: &str,
) -> Result<std::result::Result<String, Refused>> {
    let mut p = position_id.to_owned();
    for _ in 0..8 {
        match q::successor(tx, agency_id, &p).await? {
            Some(next) => p = next,
            None => break,
        }
    }
    if uuid::Uuid::parse_str(&p).is_err()
        || !crate::domain::letters::position_exists(tx, agency_id, &p).await?
    {
        return Ok(Err(refused(
            RefusalCode::UnknownAddressee,
            format!("no position {position_id} here"),
        )));
    }
    Ok(Ok(p))
}

fn outcome(
    me: &str,
    sender: &str,
    cid: &str,
    hash: &str,
    decided: std::result::Result<(String, String), Refused>,
    now: i64,
) -> proto::Outcome {
    let mut o = proto::Outcome {
        format: statements::OUTCOME.into(),
        consignment_id: cid.to_owned(),
        sender_agency_code: sender.to_owned(),
        receiver_agency_code: me.to_owned(),
        envelope_sha256: hash.to_owned(),
        decide_time: Some(to_timestamp(now)),
        ..Default::default()
    };
    match decided {
        Ok((number, position)) => {
            o.kind = proto::OutcomeKind::Registered as i32;
            o.registration_number = number;
            o.delivered_position_id = position;
        }
        Err(r) => {
            o.kind = proto::OutcomeKind::Refused as i32;
            o.refusal = Some(proto::Refusal {
                code: r.code as i32,
                text: r.text,
                successor_position_id: r.successor,
                limit_bytes: r.limit,
            });
        }
    }
    o
}

/// The answer to a consignment already stored: its receipt and outcome when
/// the envelope is the same, CONFLICT when it is not.
fn answer_stored(
    me: &identity::Identity,
    sender: &str,
    r: &InRecord,
    hash: &str,
    now: i64,
) -> Result<proto::DeliverConsignmentResponse> {
    if r.envelope_sha256 != hash {
        let o = outcome(
            &me.code,
            sender,
            &r.consignment_id,
            hash,
            Err(refused(
                RefusalCode::Conflict,
                "this consignment id was received with another envelope",
            )),
            now,
        );
        return Ok(proto::DeliverConsignmentResponse {
            receipt: None,
            outcome: Some(statements::sign(me, &o)?),
        });
    }
    Ok(proto::DeliverConsignmentResponse {
        receipt: Some(proto::SignedStatement {
            content: r.receipt.clone(),
            signature: r.receipt_signature.clone(),
        }),
        outcome: stored_outcome(r),
    })
}

fn stored_outcome(r: &InRecord) -> Option<proto::SignedStatement> {
    Some(proto::SignedStatement {
        content: r.outcome.clone()?,
        signature: r.outcome_signature.clone()?,
    })
}

async fn audit_refusal(
    store: &Store,
    agency_id: &str,
    sender: &str,
    cid: &str,
    code: &str,
    why: &str,
) -> Result<()> {
    let mut tx = store.begin_write().await?;
    let mut ev = crate::audit::NewEvent::success("exchange/DeliverConsignment", "consignment", cid);
    ev.agency_id = agency_id.to_owned();
    ev.outcome = crate::audit::Outcome::Failure;
    ev.reason = code.to_owned();
    ev.summary = format!("an envelope from {sender} was refused unstored: {why}");
    tx.audit(ev);
    tx.commit().await?;
    Ok(())
}

/// The receipt and outcome of a consignment `sender` sent to `agency_id`.
pub async fn outcome_of(
    store: &Store,
    agency_id: &str,
    sender: &str,
    cid: &str,
) -> Result<proto::GetOutcomeResponse> {
    let r = q::received(store, agency_id, sender, cid)
        .await?
        .ok_or_else(|| Error::rejected(Reason::ConsignmentNotFound, "no such consignment"))?;
    Ok(proto::GetOutcomeResponse {
        receipt: Some(proto::SignedStatement {
            content: r.receipt.clone(),
            signature: r.receipt_signature.clone(),
        }),
        outcome: stored_outcome(&r),
    })
}

/// Decided outcomes of `sender`'s consignments after `cursor`.
pub async fn outcomes_after(
    store: &Store,
    agency_id: &str,
    sender: &str,
    cursor: i64,
    page_size: i32,
) -> Result<proto::ListOutcomesResponse> {
    let limit = crate::domain::page::page_size(page_size, 100, 500)?;
    let rows = q::outcomes_after(store, agency_id, sender, cursor, limit).await?;
    let next = rows.last().map(|r| r.outcome_seq).unwrap_or(cursor);
    Ok(proto::ListOutcomesResponse {
        outcomes: rows.iter().filter_map(stored_outcome).collect(),
        next_cursor: next,
    })
}

/// Records that the sender acknowledged an outcome.
pub async fn acknowledged(store: &Store, agency_id: &str, sender: &str, cid: &str) -> Result<()> {
    let Some(mut r) = q::received(store, agency_id, sender, cid).await? else {
        return Ok(());
    };
    if r.outcome_acked {
        return Ok(());
    }
    let mut tx = store.begin_write().await?;
    r.outcome_acked = true;
    q::save_in(&tx, &r).await?;
    let mut ev = crate::audit::NewEvent::success("exchange/ReportOutcome", "consignment", cid);
    ev.agency_id = agency_id.to_owned();
    ev.summary = format!("{sender} acknowledged the outcome");
    tx.audit(ev);
    tx.commit().await?;
    Ok(())
}
