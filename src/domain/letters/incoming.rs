//! Incoming letters: registration and read receipts.

use super::*;

/// Registers an incoming letter and delivers it to its positions.
#[derive(Clone)]
pub struct IncomingInput {
    pub letter_type: LetterType,
    pub subject: String,
    pub body: String,
    pub security: SecurityLevel,
    pub urgency: i16,
    pub classification_code: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub sender: External,
    pub sender_number: String,
    pub letter_date_us: i64,
    pub receive_time_us: Option<i64>,
}

/// Registers an incoming letter (REGISTRAR) and delivers it.
pub async fn register_incoming(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    i: IncomingInput,
) -> Result<LetterRecord> {
    let p = ctx.principal;
    check_classification(tx, &p.agency_id, &i.classification_code).await?;
    let caller = Caller::in_tx(tx, p).await?;
    // The registrar takes part in the letter through a position (see
    // `Part::Registrar`): a registrar who holds none could not see what they
    // registered.
    let registrar_position = caller
        .held
        .first()
        .map(|h| h.position_id.clone())
        .ok_or_else(|| {
            Error::rejected(
                Reason::NotPositionHolder,
                "register incoming letters from a position you hold",
            )
        })?;
    let now = tx.now_us();
    let id = uuid::Uuid::new_v4().to_string();
    let to: Vec<Target> = i.to.iter().cloned().map(Target::Position).collect();
    let cc: Vec<Target> = i.cc.iter().cloned().map(Target::Position).collect();
    let mut rows = addressee_rows(tx, &p.agency_id, &id, AddresseeKind::To, &to).await?;
    rows.extend(addressee_rows(tx, &p.agency_id, &id, AddresseeKind::Cc, &cc).await?);
    let incoming = Incoming {
        sender: i.sender,
        sender_number: i.sender_number,
        letter_date_us: i.letter_date_us,
        receive_time_us: i.receive_time_us.unwrap_or(now),
        registered_by_user_id: p.user_id.clone(),
        registered_by_position_id: registrar_position.clone(),
        exchange: None,
    };
    let l = store_incoming(
        tx,
        Stored {
            id: &id,
            agency_id: &p.agency_id,
            letter_type: i.letter_type,
            subject: &i.subject,
            body: &i.body,
            security: i.security,
            urgency: i.urgency,
            classification_code: i.classification_code,
            position_id: &registrar_position,
            user_id: &p.user_id,
            incoming: &incoming,
        },
        &rows,
    )
    .await?;
    enrol_registrar(tx, &p.agency_id, &registrar_position, &id, now).await?;
    tx.audit(actor_event(
        ctx,
        &registrar_position,
        "letter",
        &id,
        format!("incoming letter registered for {} position(s)", rows.len()),
    ));
    Ok(l)
}

/// Records a read receipt of one of the caller's held positions.
pub async fn mark_read(tx: &mut WriteTx, ctx: Ctx<'_>, id: &str, position_id: &str) -> Result<i64> {
    let p = ctx.principal;
    let caller = Caller::in_tx(tx, p).await?;
    let l = visible_letter(&*tx, p, &caller, id).await?;
    let candidates: Vec<String> = if position_id.is_empty() {
        caller.held_ids()
    } else {
        caller
            .holding(position_id)
            .map(|h| vec![h.position_id.clone()])
            .unwrap_or_default()
    };
    let now = tx.now_us();
    for pid in candidates {
        if let Some(first) = q::box_mark_read(&*tx, &pid, id, now).await? {
            if first == now {
                notice(tx, NoticeKind::LetterRead, &l.drafting_position_id, id);
                if !l.signer_position_id.is_empty()
                    && l.signer_position_id != l.drafting_position_id
                {
                    notice(
                        tx,
                        NoticeKind::LetterRead,
                        &l.signer_position_id.clone(),
                        id,
                    );
                }
            }
            tx.audit(actor_event(ctx, &pid, "letter", id, "read receipt"));
            return Ok(first);
        }
    }
    Err(Error::rejected(
        Reason::NotRecipient,
        "none of your positions received this letter",
    ))
}

/// A letter received by exchange, verified, for one position of this agency.
pub struct Exchanged {
    pub agency_id: String,
    /// The position it is delivered to (the addressed one, or its successor).
    pub position_id: String,
    /// Delivered as a carbon copy (CC folder) rather than to the INBOX.
    pub carbon_copy: bool,
    pub letter_type: LetterType,
    pub subject: String,
    pub body: String,
    pub security: SecurityLevel,
    pub urgency: i16,
    /// The sender's classification code (kept when this agency's scheme has it).
    pub classification_code: String,
    pub sender: External,
    pub sender_number: String,
    pub letter_date_us: i64,
    pub received: Received,
    /// (file name, media type, sha256, size) of attachments already in the blob store.
    pub attachments: Vec<(String, String, String, i64)>,
}

/// Registers a letter received by exchange and delivers it to its position
/// (in `tx`, which the receiver commits with the consignment and its receipt).
pub(crate) async fn register_exchanged(tx: &mut WriteTx, e: Exchanged) -> Result<LetterRecord> {
    let now = tx.now_us();
    let id = uuid::Uuid::new_v4().to_string();
    let classification = if setupq::classification(&*tx, &e.agency_id, &e.classification_code)
        .await?
        .is_some()
    {
        e.classification_code.clone()
    } else {
        String::new()
    };
    let kind = if e.carbon_copy {
        AddresseeKind::Cc
    } else {
        AddresseeKind::To
    };
    let rows = addressee_rows(
        tx,
        &e.agency_id,
        &id,
        kind,
        &[Target::Position(e.position_id.clone())],
    )
    .await?;
    let incoming = Incoming {
        sender: e.sender,
        sender_number: e.sender_number,
        letter_date_us: e.letter_date_us,
        receive_time_us: now,
        registered_by_user_id: String::new(),
        registered_by_position_id: String::new(),
        exchange: Some(e.received),
    };
    let l = store_incoming(
        tx,
        Stored {
            id: &id,
            agency_id: &e.agency_id,
            letter_type: e.letter_type,
            subject: &e.subject,
            body: &e.body,
            security: e.security,
            urgency: e.urgency,
            classification_code: classification,
            position_id: &e.position_id,
            user_id: "",
            incoming: &incoming,
        },
        &rows,
    )
    .await?;
    for (file_name, media_type, sha256, size) in e.attachments {
        crate::store::attachments::insert(
            &*tx,
            &AttachmentRecord {
                id: uuid::Uuid::new_v4().to_string(),
                letter_id: id.clone(),
                agency_id: e.agency_id.clone(),
                file_name,
                media_type,
                size_bytes: size,
                sha256,
                is_scan: false,
                uploaded_by_user_id: String::new(),
                created_at_us: now,
            },
        )
        .await?;
    }
    Ok(l)
}

/// An incoming letter as it is stored.
struct Stored<'a> {
    id: &'a str,
    agency_id: &'a str,
    letter_type: LetterType,
    subject: &'a str,
    body: &'a str,
    security: SecurityLevel,
    urgency: i16,
    classification_code: String,
    /// The position that registered it (or, by exchange, received it).
    position_id: &'a str,
    /// The registrar; empty for a letter received by exchange.
    user_id: &'a str,
    incoming: &'a Incoming,
}

/// Stores an incoming letter, its addressees and its one version, and
/// delivers it to each addressee position's INBOX or CC with a notice.
async fn store_incoming(
    tx: &mut WriteTx,
    s: Stored<'_>,
    rows: &[AddresseeRecord],
) -> Result<LetterRecord> {
    let now = tx.now_us();
    let l = LetterRecord {
        id: s.id.to_owned(),
        agency_id: s.agency_id.to_owned(),
        direction: Direction::Incoming,
        state: LetterState::INCOMING,
        letter_type: s.letter_type as i16,
        subject: s.subject.to_owned(),
        body: s.body.to_owned(),
        body_sha256: sha256_hex(s.body.as_bytes()),
        security_level: s.security as i16,
        urgency: s.urgency,
        classification_code: s.classification_code,
        drafting_position_id: s.position_id.to_owned(),
        drafted_by_user_id: s.user_id.to_owned(),
        drafted_by_position_id: s.position_id.to_owned(),
        current_step: -1,
        version: 1,
        number: s.incoming.sender_number.clone(),
        sign_time_us: None,
        signer_user_id: String::new(),
        signer_position_id: String::new(),
        verification_code: None,
        reference_letter_id: String::new(),
        incoming: serde_json::to_string(s.incoming).map_err(|e| Error::Internal(e.to_string()))?,
        revision: 1,
        created_at_us: now,
        updated_at_us: now,
    };
    q::insert_letter(&*tx, &l).await?;
    q::replace_addressees(&*tx, s.id, rows).await?;
    q::insert_version(
        &*tx,
        &q::VersionRecord {
            letter_id: s.id.to_owned(),
            version: 1,
            subject: l.subject.clone(),
            body: l.body.clone(),
            body_sha256: l.body_sha256.clone(),
            author_user_id: s.user_id.to_owned(),
            author_position_id: s.position_id.to_owned(),
            created_at_us: now,
        },
    )
    .await?;
    for a in rows {
        let to = a.kind == AddresseeKind::To;
        enrol_addressee(tx, s.agency_id, &a.position_id, to, s.id, now, now).await?;
        let kind = if to {
            NoticeKind::LetterReceived
        } else {
            NoticeKind::LetterCopied
        };
        notice(tx, kind, &a.position_id, s.id);
    }
    Ok(l)
}

/// Whether a position of the agency exists now.
pub(crate) async fn position_exists(tx: &WriteTx, agency: &str, position_id: &str) -> Result<bool> {
    Ok(orgq::position(tx, agency, position_id).await?.is_some())
}
