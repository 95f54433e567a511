//! Drafts: creating, changing and deleting them, their addressees and
//! attachments.

use super::*;

/// Whether the caller may add an attachment to `l`: the holder of its
/// drafting position while the draft is editable (DRAFT, RETURNED), or the
/// registrar of an incoming letter (DELIVERED).
pub fn may_add_attachment(l: &LetterRecord, p: &Principal, caller: &Caller) -> bool {
    match l.state {
        LetterState::Draft | LetterState::Returned => {
            caller.holding(&l.drafting_position_id).is_some()
        }
        LetterState::Delivered => l.drafted_by_user_id == p.user_id,
        _ => false,
    }
}

pub(super) fn not_editable_for_attachments() -> Error {
    Error::rejected(
        Reason::LetterNotEditable,
        "attachments can be added only to an editable draft, or by the registrar of an incoming letter",
    )
}

/// Refuses an upload early, before its bytes are received, when the caller
/// may not add an attachment to the letter as it is now. [`add_attachment`]
/// decides again inside its transaction.
pub async fn check_attachment_upload(
    store: &Store,
    p: &Principal,
    caller: &Caller,
    letter_id: &str,
) -> Result<()> {
    let l = seen_letter(store, p, caller, letter_id).await?;
    if may_add_attachment(&l, p, caller) {
        Ok(())
    } else {
        Err(not_editable_for_attachments())
    }
}

/// Records an uploaded attachment (its content already stored under its
/// SHA-256) on its letter. Who may add it is decided here, on the letter as
/// this transaction sees it with its row locked until the commit: a letter
/// submitted or signed after the upload began refuses it.
pub async fn add_attachment(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    caller: &Caller,
    rec: &AttachmentRecord,
) -> Result<()> {
    let p = ctx.principal;
    let l = q::letter_locked(tx, &p.agency_id, &rec.letter_id)
        .await?
        .ok_or_else(not_found)?;
    if !may_add_attachment(&l, p, caller) {
        return Err(not_editable_for_attachments());
    }
    crate::store::attachments::insert(&*tx, rec).await?;
    tx.audit(ctx.event(
        "letter",
        &rec.letter_id,
        format!(
            "attachment {} added ({} bytes, sha256 {})",
            rec.id, rec.size_bytes, rec.sha256
        ),
    ));
    Ok(())
}

pub(super) async fn check_classification(tx: &WriteTx, agency: &str, code: &str) -> Result<()> {
    let kind = CodeKind::Classification;
    if tx.caches().known_code(kind, agency, code) {
        return Ok(());
    }
    setupq::classification(tx, agency, code)
        .await?
        .ok_or_else(|| {
            Error::rejected(
                Reason::ClassificationNotFound,
                format!("classification {code} is not in the scheme"),
            )
        })?;
    tx.caches().remember_codes(kind, agency, [code]);
    Ok(())
}

pub(super) async fn addressee_rows(
    tx: &WriteTx,
    agency: &str,
    letter_id: &str,
    kind: AddresseeKind,
    targets: &[Target],
) -> Result<Vec<AddresseeRecord>> {
    let mut out = Vec::new();
    // The positions' names (one lookup for all, from the name cache when it
    // holds them); a position of another agency or none at all has no name.
    let ids: Vec<String> = targets
        .iter()
        .filter_map(|t| match t {
            Target::Position(pid) => Some(pid.clone()),
            Target::External(_) => None,
        })
        .collect();
    let names = if ids.is_empty() {
        HashMap::new()
    } else {
        tx.caches()
            .position_names(tx, agency, &ids, tx.now_us())
            .await?
    };
    for (i, t) in targets.iter().enumerate() {
        let (position_id, external, display) = match t {
            Target::Position(pid) => {
                let name = names.get(pid).cloned().ok_or_else(|| {
                    Error::rejected(
                        Reason::PositionNotFound,
                        format!("position {pid} not found"),
                    )
                })?;
                (pid.clone(), String::new(), name)
            }
            Target::External(e) => (
                String::new(),
                serde_json::to_string(e).map_err(|x| Error::Internal(x.to_string()))?,
                e.display(),
            ),
        };
        out.push(AddresseeRecord {
            letter_id: letter_id.to_owned(),
            kind,
            idx: i as i32,
            position_id,
            external,
            display_name: display,
        });
    }
    Ok(out)
}

pub(super) fn actor_event(
    ctx: Ctx<'_>,
    position_id: &str,
    rtype: &str,
    id: &str,
    summary: impl Into<String>,
) -> crate::audit::NewEvent {
    let mut ev = ctx.event(rtype, id, summary);
    ev.actor_position_id = position_id.to_owned();
    ev
}

pub(super) async fn load_for_update(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    caller: &Caller,
    id: &str,
    etag_sent: &str,
) -> Result<LetterRecord> {
    // An earlier step of this transaction may have written the letter: the
    // read meets those writes (the transaction sends them first).
    let l = visible_letter(&*tx, ctx.principal, caller, id).await?;
    check_etag(etag_sent, l.revision)?;
    Ok(l)
}

pub(super) async fn save(tx: &mut WriteTx, l: &mut LetterRecord) -> Result<()> {
    let expected = l.revision;
    l.revision += 1;
    l.updated_at_us = tx.now_us();
    if !q::save_letter(tx, l, expected).await? {
        return Err(Error::rejected(
            Reason::EtagMismatch,
            "the letter changed since it was read",
        ));
    }
    Ok(())
}

pub(super) fn require_drafter<'c>(
    caller: &'c Caller,
    l: &LetterRecord,
) -> Result<&'c HeldPositionRecord> {
    caller.holding(&l.drafting_position_id).ok_or_else(|| {
        Error::rejected(Reason::NotDrafter, "only the drafting position may do this")
    })
}

pub(super) fn editable(l: &LetterRecord) -> Result<()> {
    allows(l, LetterEvent::Edit)
}

/// A letter just created, with the rows its view needs besides its own.
#[derive(Clone, Debug)]
pub struct Created {
    /// The letter's row.
    pub letter: LetterRecord,
    /// Its addressees, as written.
    pub(super) addressees: Vec<AddresseeRecord>,
}

/// Creates a draft.
pub async fn create_draft(tx: &mut WriteTx, ctx: Ctx<'_>, d: DraftInput) -> Result<Created> {
    let p = ctx.principal;
    let caller = Caller::in_tx(tx, p).await?;
    let held = caller
        .holding(&d.drafting_position_id)
        .ok_or_else(|| {
            Error::rejected(
                Reason::NotPositionHolder,
                "you do not hold the drafting position now",
            )
        })?
        .clone();
    check_classification(tx, &p.agency_id, &d.classification_code).await?;
    let now = tx.now_us();
    let id = uuid::Uuid::new_v4().to_string();
    let body_sha = sha256_hex(d.body.as_bytes());
    let l = LetterRecord {
        id: id.clone(),
        agency_id: p.agency_id.clone(),
        direction: Direction::Outgoing,
        state: LetterState::OUTGOING,
        letter_type: d.letter_type as i16,
        subject: d.subject.clone(),
        body: d.body.clone(),
        body_sha256: body_sha.clone(),
        security_level: d.security as i16,
        urgency: d.urgency,
        classification_code: d.classification_code.clone(),
        drafting_position_id: held.position_id.clone(),
        drafted_by_user_id: p.user_id.clone(),
        drafted_by_position_id: held.position_id.clone(),
        current_step: -1,
        version: 1,
        number: String::new(),
        sign_time_us: None,
        signer_user_id: String::new(),
        signer_position_id: String::new(),
        verification_code: None,
        reference_letter_id: d.reference_letter_id.clone(),
        incoming: String::new(),
        revision: 1,
        created_at_us: now,
        updated_at_us: now,
    };
    let mut rows = addressee_rows(tx, &p.agency_id, &id, AddresseeKind::To, &d.recipients).await?;
    rows.extend(addressee_rows(tx, &p.agency_id, &id, AddresseeKind::Cc, &d.carbon_copies).await?);
    // Held back and sent together (see WriteTx::write).
    q::create_letter(tx, &l).await?;
    q::insert_addressees(tx, &rows).await?;
    q::create_version(
        tx,
        &q::VersionRecord {
            letter_id: id.clone(),
            version: 1,
            subject: d.subject,
            body: d.body,
            body_sha256: body_sha,
            author_user_id: p.user_id.clone(),
            author_position_id: held.position_id.clone(),
            created_at_us: now,
        },
    )
    .await?;
    enrol_drafter(tx, &p.agency_id, &held.position_id, &id, now).await?;
    tx.audit(actor_event(
        ctx,
        &held.position_id,
        "letter",
        &id,
        "draft created (version 1)",
    ));
    Ok(Created {
        letter: l,
        addressees: rows,
    })
}

/// Changes a draft; a content change makes a new version.
pub async fn update_draft(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    id: &str,
    etag_sent: &str,
    ch: DraftChanges,
) -> Result<LetterRecord> {
    let p = ctx.principal;
    let caller = Caller::in_tx(tx, p).await?;
    let mut l = load_for_update(tx, ctx, &caller, id, etag_sent).await?;
    editable(&l)?;
    let drafter = require_drafter(&caller, &l)?.position_id.clone();
    let mut content_changed = false;
    if let Some(t) = ch.letter_type {
        l.letter_type = t as i16;
    }
    if let Some(s) = ch.subject {
        content_changed |= s != l.subject;
        l.subject = s;
    }
    if let Some(b) = ch.body {
        content_changed |= b != l.body;
        l.body_sha256 = sha256_hex(b.as_bytes());
        l.body = b;
    }
    let lt = LetterType::try_from(i32::from(l.letter_type)).unwrap_or(LetterType::Unspecified);
    if has_no_subject(lt) && !l.subject.is_empty() {
        return Err(Error::invalid(
            "letter.subject",
            "this letter type has no subject line",
        ));
    }
    if !has_no_subject(lt) && l.subject.is_empty() {
        return Err(Error::invalid(
            "letter.subject",
            "is required for this letter type",
        ));
    }
    if let Some(s) = ch.security {
        l.security_level = s as i16;
    }
    if let Some(u) = ch.urgency {
        l.urgency = u;
    }
    if let Some(c) = ch.classification_code {
        check_classification(tx, &p.agency_id, &c).await?;
        l.classification_code = c;
    }
    if let Some(r) = ch.reference_letter_id {
        l.reference_letter_id = r;
    }
    if ch.recipients.is_some() || ch.carbon_copies.is_some() {
        let current = q::addressees(&*tx, id).await?;
        let keep = |kind: AddresseeKind| {
            current
                .iter()
                .filter(|a| a.kind == kind)
                .cloned()
                .collect::<Vec<_>>()
        };
        let mut rows = match &ch.recipients {
            Some(t) => addressee_rows(tx, &p.agency_id, id, AddresseeKind::To, t).await?,
            None => keep(AddresseeKind::To),
        };
        rows.extend(match &ch.carbon_copies {
            Some(t) => addressee_rows(tx, &p.agency_id, id, AddresseeKind::Cc, t).await?,
            None => keep(AddresseeKind::Cc),
        });
        q::replace_addressees(&*tx, id, &rows).await?;
    }
    if content_changed {
        l.version += 1;
        q::insert_version(
            &*tx,
            &q::VersionRecord {
                letter_id: l.id.clone(),
                version: l.version,
                subject: l.subject.clone(),
                body: l.body.clone(),
                body_sha256: l.body_sha256.clone(),
                author_user_id: p.user_id.clone(),
                author_position_id: drafter.clone(),
                created_at_us: tx.now_us(),
            },
        )
        .await?;
    }
    save(tx, &mut l).await?;
    tx.audit(actor_event(
        ctx,
        &drafter,
        "letter",
        id,
        format!("draft updated (version {})", l.version),
    ));
    Ok(l)
}

/// Deletes a draft that was never submitted.
pub async fn delete_draft(tx: &mut WriteTx, ctx: Ctx<'_>, id: &str, etag_sent: &str) -> Result<()> {
    let caller = Caller::in_tx(tx, ctx.principal).await?;
    let l = load_for_update(tx, ctx, &caller, id, etag_sent).await?;
    let drafter = require_drafter(&caller, &l)?.position_id.clone();
    let submitted = q::steps(&*tx, id)
        .await?
        .iter()
        .any(|s| s.decision != Decision::Pending)
        || l.current_step >= 0;
    if l.state != LetterState::Draft || submitted {
        return Err(Error::rejected(
            Reason::LetterNotEditable,
            "only a draft that was never submitted can be deleted; withdraw it instead",
        ));
    }
    if crate::store::records::letter_held(&*tx, id).await? {
        return Err(Error::rejected(
            Reason::LegalHold,
            "a legal hold blocks deleting this letter",
        ));
    }
    q::delete_letter(&*tx, id).await?;
    tx.audit(actor_event(ctx, &drafter, "letter", id, "draft deleted"));
    Ok(())
}
