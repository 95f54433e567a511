//! Sending dispositions: directly by the head, or drafted by a secretary and
//! confirmed by the head; cancelling them while unread.

use super::*;

/// A disposition just sent, with its recipients' rows as written.
#[derive(Clone, Debug)]
pub struct Sent {
    /// The disposition's row.
    pub d: DispositionRecord,
    recipients: Vec<RecipientRecord>,
}

impl Sent {
    /// Its view once committed: what [`get_view`] answers then, built from
    /// the rows written instead of read back (nobody has responded yet).
    pub fn view(self, now_us: i64) -> View {
        let mut recipients = self.recipients;
        q::in_read_order(&mut recipients);
        View {
            d: self.d,
            recipients,
            responses: Vec::new(),
            now_us,
        }
    }
}

/// Creates (and sends) a disposition from a position the caller holds.
pub async fn create(tx: &mut WriteTx, ctx: Ctx<'_>, d: NewDisposition) -> Result<Sent> {
    let p = ctx.principal;
    let caller = Caller::in_tx(tx, p).await?;
    let held = caller
        .holding(&d.sender_position_id)
        .cloned()
        .ok_or_else(|| {
            Error::rejected(
                Reason::NotPositionHolder,
                "you do not hold the disposing position now",
            )
        })?;
    let (letter_id, parent_id) = received(tx, &p.agency_id, &held.position_id, &d).await?;
    check_content(tx, &p.agency_id, &held.position_id, &d).await?;
    let rec = DispositionRecord {
        id: uuid::Uuid::new_v4().to_string(),
        agency_id: p.agency_id.clone(),
        letter_id,
        parent_id,
        sender_position_id: held.position_id.clone(),
        sent_by_user_id: p.user_id.clone(),
        sent_by_assignment_kind: held.kind,
        drafted_by_user_id: String::new(),
        state: DispositionState::Active,
        instruction_codes: d.instructions.join(","),
        note: d.note.clone(),
        due_us: d.due_us,
        urgency: d.urgency,
        revision: 1,
        created_at_us: tx.now_us(),
    };
    q::insert(tx, &rec).await?;
    let recipients = deliver(tx, &rec, &d.recipients, true).await?;
    let mut ev = ctx.event(
        "disposition",
        &rec.id,
        format!(
            "disposition of letter {} to {} position(s)",
            rec.letter_id,
            d.recipients.len()
        ),
    );
    ev.actor_position_id = held.position_id.clone();
    tx.audit(ev);
    Ok(Sent { d: rec, recipients })
}

/// A secretary prepares a disposition for a position they serve.
pub async fn draft(tx: &mut WriteTx, ctx: Ctx<'_>, d: NewDisposition) -> Result<DispositionRecord> {
    let p = ctx.principal;
    let caller = Caller::in_tx(tx, p).await?;
    if !caller.served.contains(&d.sender_position_id) {
        return Err(Error::rejected(
            Reason::NotSecretary,
            "you are not secretary of that position",
        ));
    }
    let (letter_id, parent_id) = received(tx, &p.agency_id, &d.sender_position_id, &d).await?;
    check_content(tx, &p.agency_id, &d.sender_position_id, &d).await?;
    let rec = DispositionRecord {
        id: uuid::Uuid::new_v4().to_string(),
        agency_id: p.agency_id.clone(),
        letter_id,
        parent_id,
        sender_position_id: d.sender_position_id.clone(),
        sent_by_user_id: String::new(),
        sent_by_assignment_kind: 0,
        drafted_by_user_id: p.user_id.clone(),
        state: DispositionState::Draft,
        instruction_codes: d.instructions.join(","),
        note: d.note.clone(),
        due_us: d.due_us,
        urgency: d.urgency,
        revision: 1,
        created_at_us: tx.now_us(),
    };
    // Held back and sent together (see WriteTx::write).
    q::insert(tx, &rec).await?;
    let rows = recipient_rows(
        &rec,
        &d.recipients,
        RecipientStatus::Draft,
        rec.created_at_us,
    );
    q::insert_recipients(tx, &rows).await?;
    tx.audit(ctx.event(
        "disposition",
        &rec.id,
        format!(
            "disposition drafted for position {} by its secretary",
            rec.sender_position_id
        ),
    ));
    Ok(rec)
}

/// Changes made when confirming a draft; empty keeps the draft's.
#[derive(Clone, Debug, Default)]
pub struct Confirmation {
    pub recipients: Vec<String>,
    pub instructions: Vec<String>,
    pub note: String,
    pub due_us: Option<i64>,
}

/// The holder confirms a drafted disposition, possibly edited; it is sent at once.
pub async fn confirm(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    id: &str,
    etag_sent: &str,
    c: Confirmation,
) -> Result<DispositionRecord> {
    let p = ctx.principal;
    let mut d = q::get(&*tx, &p.agency_id, id)
        .await?
        .ok_or_else(not_found)?;
    let caller = Caller::in_tx(tx, p).await?;
    let Some(held) = caller.holding(&d.sender_position_id).cloned() else {
        return Err(not_found());
    };
    check_etag(etag_sent, d.revision)?;
    let confirmed = d.state.on(DispositionEvent::Confirm)?;
    let current: Vec<String> = q::recipients_of(&*tx, std::slice::from_ref(&d.id))
        .await?
        .into_iter()
        .map(|r| r.position_id)
        .collect();
    let recipients = if c.recipients.is_empty() {
        current
    } else {
        c.recipients
    };
    if !c.instructions.is_empty() {
        d.instruction_codes = c.instructions.join(",");
    }
    if !c.note.is_empty() {
        d.note = c.note;
    }
    if c.due_us.is_some() {
        d.due_us = c.due_us;
    }
    let check = NewDisposition {
        letter_id: d.letter_id.clone(),
        parent_id: d.parent_id.clone(),
        sender_position_id: d.sender_position_id.clone(),
        recipients: recipients.clone(),
        instructions: d
            .instruction_codes
            .split(',')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        note: d.note.clone(),
        due_us: d.due_us,
        urgency: d.urgency,
    };
    check_content(tx, &p.agency_id, &d.sender_position_id, &check).await?;
    let expected = d.revision;
    d.state = confirmed;
    d.sent_by_user_id = p.user_id.clone();
    d.sent_by_assignment_kind = held.kind;
    d.revision += 1;
    d.created_at_us = tx.now_us();
    if !q::save(&*tx, &d, expected).await? {
        return Err(Error::rejected(
            Reason::EtagMismatch,
            "the disposition changed since it was read",
        ));
    }
    deliver(tx, &d, &recipients, false).await?;
    let mut ev = ctx.event(
        "disposition",
        &d.id,
        format!(
            "drafted disposition confirmed and sent to {} position(s)",
            recipients.len()
        ),
    );
    ev.actor_position_id = held.position_id.clone();
    tx.audit(ev);
    Ok(d)
}

/// The sender cancels while every recipient is still UNREAD.
pub async fn cancel(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    id: &str,
    etag_sent: &str,
) -> Result<DispositionRecord> {
    let p = ctx.principal;
    let mut d = q::get(&*tx, &p.agency_id, id)
        .await?
        .ok_or_else(not_found)?;
    let caller = Caller::in_tx(tx, p).await?;
    let Some(held) = caller.holding(&d.sender_position_id).cloned() else {
        return Err(not_found());
    };
    check_etag(etag_sent, d.revision)?;
    let cancelled = d.state.on(DispositionEvent::Cancel)?;
    let mut recipients = q::recipients_of(&*tx, std::slice::from_ref(&d.id)).await?;
    // Every recipient's status moves, or none does.
    for r in &mut recipients {
        r.status = r.status.on(RecipientEvent::Cancel)?;
    }
    for r in recipients {
        q::save_recipient(tx, &r).await?;
        tx.notify(Notice {
            kind: NoticeKind::DispositionUpdated,
            position_id: r.position_id.clone(),
            letter_id: d.letter_id.clone(),
            disposition_id: d.id.clone(),
            time_us: tx.now_us(),
        });
    }
    let expected = d.revision;
    d.state = cancelled;
    d.revision += 1;
    if !q::save(&*tx, &d, expected).await? {
        return Err(Error::rejected(
            Reason::EtagMismatch,
            "the disposition changed since it was read",
        ));
    }
    let mut ev = ctx.event("disposition", &d.id, "disposition cancelled");
    ev.actor_position_id = held.position_id.clone();
    tx.audit(ev);
    Ok(d)
}
