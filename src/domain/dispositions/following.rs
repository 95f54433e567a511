//! Following a disposition up: reading it and reporting progress.

use super::*;

/// The disposition `id` of the caller's agency and the caller's recipient
/// row in it (at `position`, or the first the caller holds or serves), with
/// how the caller acts for that position; not found when there is none.
async fn my_recipient_row(
    tx: &WriteTx,
    p: &Principal,
    id: &str,
    position: &str,
) -> Result<(DispositionRecord, RecipientRecord, i16)> {
    let caller = Caller::in_tx(tx, p).await?;
    let (d, rows) = q::with_recipients(tx, &p.agency_id, id)
        .await?
        .ok_or_else(not_found)?;
    let (r, kind) = rows
        .into_iter()
        .filter(|r| position.is_empty() || r.position_id == position)
        .find_map(|r| caller.holding(&r.position_id).map(|h| (h.kind, r)))
        .map(|(k, r)| (r, k))
        .ok_or_else(not_found)?;
    Ok((d, r, kind))
}

/// Records that the caller's recipient position read a disposition.
pub async fn mark_read(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    id: &str,
    position: &str,
) -> Result<DispositionRecord> {
    let p = ctx.principal;
    let (d, mut r, _) = my_recipient_row(tx, p, id, position).await?;
    if d.state != DispositionState::Active {
        return Err(Error::rejected(
            Reason::InvalidState,
            "the disposition is not active",
        ));
    }
    let before = r.status;
    let after = before.on(RecipientEvent::Read)?;
    if after != before {
        r.status = after;
        r.read_at_us = Some(tx.now_us());
        q::save_recipient(tx, &r).await?;
        tx.notify(Notice {
            kind: NoticeKind::DispositionUpdated,
            position_id: d.sender_position_id.clone(),
            letter_id: d.letter_id.clone(),
            disposition_id: d.id.clone(),
            time_us: tx.now_us(),
        });
    }
    let mut ev = ctx.event("disposition", &d.id, "disposition read");
    ev.actor_position_id = r.position_id.clone();
    tx.audit(ev);
    Ok(d)
}

/// Reports follow-up on a disposition (IN_PROGRESS or DONE).
pub async fn respond(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    id: &str,
    position: &str,
    new_status: RecipientStatus,
    note: &str,
    attachment_ids: &[String],
) -> Result<DispositionRecord> {
    let p = ctx.principal;
    let (d, mut r, kind) = my_recipient_row(tx, p, id, position).await?;
    let event = if new_status == RecipientStatus::Done {
        RecipientEvent::Finish
    } else {
        RecipientEvent::Progress
    };
    if d.state != DispositionState::Active {
        return Err(Error::rejected(
            Reason::InvalidState,
            "the disposition is closed for this position",
        ));
    }
    let after = r.status.on(event)?;
    let letter_attachments: HashSet<String> = if attachment_ids.is_empty() {
        HashSet::new()
    } else {
        crate::store::attachments::list(&*tx, &d.letter_id)
            .await?
            .into_iter()
            .map(|a| a.id)
            .collect()
    };
    for a in attachment_ids {
        if !letter_attachments.contains(a) {
            return Err(Error::rejected(
                Reason::AttachmentNotFound,
                format!("attachment {a} is not an attachment of the letter"),
            ));
        }
    }
    let now = tx.now_us();
    if r.read_at_us.is_none() {
        r.read_at_us = Some(now);
    }
    r.status = after;
    if after == RecipientStatus::Done {
        r.done_at_us = Some(now);
    }
    // Held back and sent together (see WriteTx::write).
    q::save_recipient(tx, &r).await?;
    q::insert_response(
        tx,
        &ResponseRecord {
            id: uuid::Uuid::new_v4().to_string(),
            disposition_id: d.id.clone(),
            position_id: r.position_id.clone(),
            user_id: p.user_id.clone(),
            assignment_kind: kind,
            note: note.to_owned(),
            status: new_status,
            attachment_ids: attachment_ids.join(","),
            created_at_us: now,
        },
    )
    .await?;
    tx.notify(Notice {
        kind: NoticeKind::DispositionUpdated,
        position_id: d.sender_position_id.clone(),
        letter_id: d.letter_id.clone(),
        disposition_id: d.id.clone(),
        time_us: now,
    });
    let mut ev = ctx.event(
        "disposition",
        &d.id,
        format!("follow-up reported: status {}", i16::from(new_status)),
    );
    ev.actor_position_id = r.position_id.clone();
    tx.audit(ev);
    Ok(d)
}
