//! The outbox: SignLetter writes one consignment per addressee in another
//! naskah agency, in the signing transaction, its envelope signed by the
//! sending agency's exchange key. A crash either keeps both the signature and
//! the consignments or neither; the relay sends what is committed.

use prost::Message;

use super::{Exchange, identity, sha256_hex, statements, to_timestamp};
use crate::domain::letters::External;
use crate::domain::lifecycle::DispatchStatus;
use crate::error::{Error, Reason, Result};
use crate::proto;
use crate::store::exchange::{self as q, OutRecord};
use crate::store::letters::{AddresseeRecord, LetterRecord};
use crate::store::{Db, WriteTx};

/// A letter just signed, as the outbox needs it.
pub struct Signed<'a> {
    /// The letter, numbered and signed.
    pub letter: &'a LetterRecord,
    /// The signed manifest.
    pub manifest: &'a [u8],
    /// Its CMS signature.
    pub signature: &'a [u8],
    /// The signer's certificate (DER).
    pub signer_cert: &'a [u8],
    /// The signer's name and position.
    pub signer_name: &'a str,
    pub signer_position: &'a str,
    /// Its addressees.
    pub addressees: &'a [AddresseeRecord],
}

/// An external addressee reached by exchange: (agency code, position id).
pub fn exchange_target(a: &AddresseeRecord) -> Option<(String, String)> {
    if !a.position_id.is_empty() || a.external.is_empty() {
        return None;
    }
    let e: External = serde_json::from_str(&a.external).ok()?;
    (!e.exchange_agency_id.is_empty()).then_some((e.exchange_agency_id, e.exchange_position_id))
}

/// Whether `code` is a peer of the agency or another agency of this installation.
pub async fn reachable(db: &impl Db, agency_id: &str, code: &str) -> Result<bool> {
    if q::peer(db, agency_id, code).await?.is_some() {
        return Ok(true);
    }
    Ok(crate::store::identity::agency_id_by_code(db, code)
        .await?
        .is_some_and(|id| id != agency_id))
}

/// Queues the consignments of a letter just signed; answers how many.
pub async fn queue(tx: &mut WriteTx, ex: Option<&Exchange>, s: Signed<'_>) -> Result<usize> {
    let targets: Vec<(&AddresseeRecord, String, String)> = s
        .addressees
        .iter()
        .filter_map(|a| exchange_target(a).map(|(c, p)| (a, c, p)))
        .collect();
    if targets.is_empty() {
        return Ok(0);
    }
    let ex = ex.ok_or_else(|| {
        Error::Internal("a letter to another agency is signed without the exchange".into())
    })?;
    let l = s.letter;
    let me = identity::in_tx(tx, ex, &l.agency_id).await?;
    let mut attachments = Vec::new();
    for a in crate::store::attachments::list(&*tx, &l.id).await? {
        let content = read_blob(ex, &a.sha256).await?;
        attachments.push(proto::EnvelopeAttachment {
            file_name: a.file_name,
            media_type: a.media_type,
            sha256: a.sha256,
            content,
        });
    }
    let now = tx.now_us();
    for (a, code, position_id) in &targets {
        if !reachable(&*tx, &l.agency_id, code).await? {
            return Err(Error::rejected(
                Reason::PeerNotFound,
                format!("agency {code} is not in the peer directory"),
            ));
        }
        let id = uuid::Uuid::now_v7().to_string();
        let envelope = proto::Envelope {
            format: statements::ENVELOPE.into(),
            consignment_id: id.clone(),
            sender_agency_code: me.code.clone(),
            sender_agency_name: me.name.clone(),
            recipient_agency_code: code.clone(),
            recipient_position_id: position_id.clone(),
            carbon_copy: a.kind == crate::domain::lifecycle::AddresseeKind::Cc,
            letter_id: l.id.clone(),
            number: l.number.clone(),
            sign_time: l.sign_time_us.map(to_timestamp),
            r#type: i32::from(l.letter_type),
            security_level: i32::from(l.security_level),
            urgency: i32::from(l.urgency),
            classification_code: l.classification_code.clone(),
            subject: l.subject.clone(),
            body: l.body.clone(),
            attachments: attachments.clone(),
            manifest: s.manifest.to_vec(),
            manifest_signature: s.signature.to_vec(),
            signer_chain: vec![s.signer_cert.to_vec(), me.ca_der.clone()],
            signer_name: s.signer_name.to_owned(),
            signer_position: s.signer_position.to_owned(),
        };
        let signed = statements::sign(&me, &envelope)?;
        let hash = sha256_hex(&signed.content);
        q::insert_out(
            &*tx,
            &OutRecord {
                id: id.clone(),
                agency_id: l.agency_id.clone(),
                letter_id: l.id.clone(),
                addressee_kind: a.kind,
                addressee_idx: a.idx,
                peer_code: code.clone(),
                position_id: position_id.clone(),
                envelope: signed.content,
                envelope_signature: signed.signature,
                envelope_sha256: hash.clone(),
                status: DispatchStatus::Queued,
                attempts: 0,
                next_attempt_us: now,
                lease_until_us: 0,
                last_error: String::new(),
                receipt: None,
                receipt_signature: None,
                outcome: None,
                outcome_signature: None,
                refusal: 0,
                registration_number: String::new(),
                created_at_us: now,
                updated_at_us: now,
            },
        )
        .await?;
        let mut ev = crate::audit::NewEvent::success("system/exchange-queue", "dispatch", &id);
        ev.agency_id = l.agency_id.clone();
        ev.summary = format!(
            "letter {} queued for {code} position {position_id}; envelope sha256 {hash}",
            l.id
        );
        tx.audit(ev);
    }
    Ok(targets.len())
}

async fn read_blob(ex: &Exchange, sha256: &str) -> Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut f = ex
        .blobs
        .open(sha256)
        .await
        .map_err(|e| Error::Internal(format!("attachment {sha256}: {e}")))?;
    let mut out = Vec::new();
    f.read_to_end(&mut out)
        .await
        .map_err(|e| Error::Internal(format!("attachment {sha256}: {e}")))?;
    Ok(out)
}

/// The envelope of a queued consignment, as signed.
pub fn envelope_of(o: &OutRecord) -> proto::SignedStatement {
    proto::SignedStatement {
        content: o.envelope.clone(),
        signature: o.envelope_signature.clone(),
    }
}

/// Decodes a stored envelope.
pub fn decode(o: &OutRecord) -> Result<proto::Envelope> {
    proto::Envelope::decode(o.envelope.as_slice()).map_err(|e| Error::Internal(e.to_string()))
}
