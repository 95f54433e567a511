//! The review route: setting it, submitting, approving, returning,
//! withdrawing and commenting.

use super::*;

/// Sets the route: reviewers in order, then the signer.
pub async fn set_route(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    id: &str,
    etag_sent: &str,
    reviewers: &[String],
    signer: &str,
) -> Result<LetterRecord> {
    let p = ctx.principal;
    let caller = Caller::in_tx(tx, p).await?;
    let mut l = load_for_update(tx, ctx, &caller, id, etag_sent).await?;
    editable(&l)?;
    let drafter = require_drafter(&caller, &l)?.position_id.clone();
    let mut seen = std::collections::HashSet::new();
    for pid in reviewers.iter().chain(std::iter::once(&signer.to_owned())) {
        if !seen.insert(pid.clone()) {
            return Err(Error::rejected(
                Reason::RouteInvalid,
                "a position appears twice in the route",
            ));
        }
        orgq::position(&*tx, &p.agency_id, pid)
            .await?
            .ok_or_else(|| {
                Error::rejected(
                    Reason::RouteInvalid,
                    format!("position {pid} is not in the agency"),
                )
            })?;
    }
    let mut steps = Vec::new();
    for (i, pid) in reviewers
        .iter()
        .chain(std::iter::once(&signer.to_owned()))
        .enumerate()
    {
        steps.push(StepRecord {
            letter_id: id.to_owned(),
            idx: i as i32,
            position_id: pid.clone(),
            kind: if i < reviewers.len() {
                StepKind::Reviewer
            } else {
                StepKind::Signer
            },
            decision: Decision::Pending,
            decided_by_user_id: String::new(),
            decided_by_position_id: String::new(),
            decided_by_assignment_kind: 0,
            decide_time_us: None,
            version: 0,
        });
    }
    // A route step takes part in the letter (its ALL folder) only once the
    // route reaches it (`route_to`), not when it is named here.
    q::replace_steps(&*tx, id, &steps).await?;
    save(tx, &mut l).await?;
    tx.audit(actor_event(
        ctx,
        &drafter,
        "letter",
        id,
        format!("route set: {} reviewer(s) and a signer", reviewers.len()),
    ));
    Ok(l)
}

pub(super) fn notice(tx: &mut WriteTx, kind: NoticeKind, position_id: &str, letter_id: &str) {
    tx.notify(Notice {
        kind,
        position_id: position_id.to_owned(),
        letter_id: letter_id.to_owned(),
        disposition_id: String::new(),
        time_us: tx.now_us(),
    });
}

/// Puts the letter into the folder of the step at `idx` (review or signature).
pub(super) async fn route_to(
    tx: &mut WriteTx,
    l: &LetterRecord,
    steps: &[StepRecord],
    idx: usize,
) -> Result<()> {
    let s = steps
        .get(idx)
        .ok_or_else(|| Error::rejected(Reason::InvalidState, "the route has no such step"))?;
    let (f, kind) = if s.kind == StepKind::Signer {
        (Folder::ToSign, NoticeKind::SignatureRequested)
    } else {
        (Folder::ToReview, NoticeKind::ReviewRequested)
    };
    // Reached: the step's position now takes part in the letter besides
    // finding it in its folder to act on.
    let now = tx.now_us();
    enrol_step(tx, l, &s.position_id, f, now).await?;
    notice(tx, kind, &s.position_id, &l.id);
    Ok(())
}

/// Submits the letter into its route (restarting the route after a return).
pub async fn submit(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    id: &str,
    etag_sent: &str,
) -> Result<LetterRecord> {
    let caller = Caller::in_tx(tx, ctx.principal).await?;
    let mut l = load_for_update(tx, ctx, &caller, id, etag_sent).await?;
    editable(&l)?;
    let drafter = require_drafter(&caller, &l)?.position_id.clone();
    let mut steps = q::steps(&*tx, id).await?;
    if steps.is_empty() {
        return Err(Error::rejected(
            Reason::RouteMissing,
            "set a route (SetRoute) before submitting",
        ));
    }
    if !q::addressees(&*tx, id)
        .await?
        .iter()
        .any(|a| a.kind == AddresseeKind::To)
    {
        return Err(Error::rejected(
            Reason::RecipientsMissing,
            "the letter needs at least one recipient",
        ));
    }
    for s in &mut steps {
        s.decision = Decision::Pending;
        s.decided_by_user_id.clear();
        s.decided_by_position_id.clear();
        s.decided_by_assignment_kind = 0;
        s.decide_time_us = None;
    }
    q::replace_steps(&*tx, id, &steps).await?;
    l.current_step = 0;
    apply(
        &mut l,
        LetterEvent::Submit {
            signer_first: steps.first().is_some_and(|s| s.kind == StepKind::Signer),
        },
    )?;
    q::box_remove(&*tx, id, Folder::Drafts, None).await?;
    route_to(tx, &l, &steps, 0).await?;
    save(tx, &mut l).await?;
    tx.audit(actor_event(
        ctx,
        &drafter,
        "letter",
        id,
        format!("submitted (version {})", l.version),
    ));
    Ok(l)
}

/// The current step, held by the caller.
pub(super) fn current<'a>(
    l: &LetterRecord,
    steps: &'a mut [StepRecord],
    caller: &Caller,
) -> Result<(&'a mut StepRecord, HeldPositionRecord)> {
    let idx = usize::try_from(l.current_step)
        .map_err(|_| Error::rejected(Reason::InvalidState, "the letter is not in its route"))?;
    let s = steps
        .get_mut(idx)
        .ok_or_else(|| Error::rejected(Reason::InvalidState, "the letter is not in its route"))?;
    let held = caller.holding(&s.position_id).cloned().ok_or_else(|| {
        Error::rejected(
            Reason::NotCurrentStep,
            "you do not hold the position of the current route step",
        )
    })?;
    Ok((s, held))
}

pub(super) fn decide(
    s: &mut StepRecord,
    p: &Principal,
    held: &HeldPositionRecord,
    decision: Decision,
    version: i32,
    now: i64,
) {
    s.decision = decision;
    s.decided_by_user_id = p.user_id.clone();
    s.decided_by_position_id = held.position_id.clone();
    s.decided_by_assignment_kind = held.kind;
    s.decide_time_us = Some(now);
    s.version = version;
}

pub(super) async fn comment(
    tx: &WriteTx,
    l: &LetterRecord,
    p: &Principal,
    position: &str,
    version: i32,
    text: &str,
) -> Result<q::CommentRecord> {
    let c = q::CommentRecord {
        id: uuid::Uuid::new_v4().to_string(),
        letter_id: l.id.clone(),
        version,
        body: text.to_owned(),
        author_user_id: p.user_id.clone(),
        author_position_id: position.to_owned(),
        created_at_us: tx.now_us(),
    };
    q::insert_comment(tx, &c).await?;
    Ok(c)
}

/// Approves the current review step.
pub async fn approve(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    id: &str,
    etag_sent: &str,
    note: &str,
) -> Result<LetterRecord> {
    let p = ctx.principal;
    let caller = Caller::in_tx(tx, p).await?;
    let mut l = load_for_update(tx, ctx, &caller, id, etag_sent).await?;
    allows(&l, LetterEvent::Approve { signer_next: false })?;
    let mut steps = q::steps(&*tx, id).await?;
    let now = tx.now_us();
    let (s, held) = current(&l, &mut steps, &caller)?;
    decide(s, p, &held, Decision::Approved, l.version, now);
    let s = s.clone();
    if !note.is_empty() {
        comment(tx, &l, p, &held.position_id, l.version, note).await?;
    }
    let next = (l.current_step + 1) as usize;
    l.current_step = next as i32;
    let signer_next = steps
        .get(next)
        .ok_or_else(|| Error::rejected(Reason::InvalidState, "the route has no further step"))?
        .kind
        == StepKind::Signer;
    apply(&mut l, LetterEvent::Approve { signer_next })?;
    // Held back and sent together (see WriteTx::write).
    q::update_step(tx, &s).await?;
    q::take_from_folder(tx, id, Folder::ToReview, Some(&s.position_id)).await?;
    route_to(tx, &l, &steps, next).await?;
    save(tx, &mut l).await?;
    tx.audit(actor_event(
        ctx,
        &held.position_id,
        "letter",
        id,
        format!("review step {} approved (version {})", s.idx + 1, l.version),
    ));
    Ok(l)
}

/// Returns the letter to its drafter with a comment.
pub async fn return_letter(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    id: &str,
    etag_sent: &str,
    text: &str,
) -> Result<LetterRecord> {
    let p = ctx.principal;
    let caller = Caller::in_tx(tx, p).await?;
    let mut l = load_for_update(tx, ctx, &caller, id, etag_sent).await?;
    allows(&l, LetterEvent::Return)?;
    let mut steps = q::steps(&*tx, id).await?;
    let now = tx.now_us();
    let (s, held) = current(&l, &mut steps, &caller)?;
    decide(s, p, &held, Decision::Returned, l.version, now);
    let s = s.clone();
    q::save_step(&*tx, &s).await?;
    comment(tx, &l, p, &held.position_id, l.version, text).await?;
    q::box_remove(&*tx, id, Folder::ToReview, Some(&s.position_id)).await?;
    q::box_remove(&*tx, id, Folder::ToSign, Some(&s.position_id)).await?;
    q::box_put(
        &*tx,
        &l.agency_id,
        &l.drafting_position_id,
        Folder::Drafts,
        id,
        now,
    )
    .await?;
    apply(&mut l, LetterEvent::Return)?;
    l.current_step = -1;
    notice(
        tx,
        NoticeKind::LetterReturned,
        &l.drafting_position_id.clone(),
        id,
    );
    save(tx, &mut l).await?;
    tx.audit(actor_event(
        ctx,
        &held.position_id,
        "letter",
        id,
        format!(
            "returned to the drafter at step {} (version {})",
            s.idx + 1,
            l.version
        ),
    ));
    Ok(l)
}

/// Withdraws a letter before it is signed.
pub async fn withdraw(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    id: &str,
    etag_sent: &str,
    reason: &str,
) -> Result<LetterRecord> {
    let caller = Caller::in_tx(tx, ctx.principal).await?;
    let mut l = load_for_update(tx, ctx, &caller, id, etag_sent).await?;
    allows(&l, LetterEvent::Withdraw)?;
    let drafter = require_drafter(&caller, &l)?.position_id.clone();
    if crate::store::records::letter_held(&*tx, id).await? {
        return Err(Error::rejected(
            Reason::LegalHold,
            "a legal hold blocks withdrawing this letter",
        ));
    }
    for f in [Folder::Drafts, Folder::ToReview, Folder::ToSign] {
        q::box_remove(&*tx, id, f, None).await?;
    }
    apply(&mut l, LetterEvent::Withdraw)?;
    l.current_step = -1;
    save(tx, &mut l).await?;
    let summary = if reason.is_empty() {
        "withdrawn".to_owned()
    } else {
        format!(
            "withdrawn ({} characters of reason)",
            reason.chars().count()
        )
    };
    tx.audit(actor_event(ctx, &drafter, "letter", id, summary));
    Ok(l)
}

/// Adds a comment on a version (0 = current) by a participant.
pub async fn add_comment(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    id: &str,
    version: i32,
    text: &str,
) -> Result<q::CommentRecord> {
    let p = ctx.principal;
    let caller = Caller::in_tx(tx, p).await?;
    let l = visible_letter(&*tx, p, &caller, id).await?;
    let version = if version == 0 { l.version } else { version };
    if version < 1 || version > l.version {
        return Err(Error::invalid(
            "version",
            format!("must be between 1 and {}", l.version),
        ));
    }
    let mut position = String::new();
    for h in &caller.held {
        if q::is_participant(&*tx, id, std::slice::from_ref(&h.position_id)).await? {
            position = h.position_id.clone();
            break;
        }
    }
    if position.is_empty() {
        return Err(Error::rejected(
            Reason::NotPositionHolder,
            "only a position that takes part in the letter may comment",
        ));
    }
    let c = comment(tx, &l, p, &position, version, text).await?;
    tx.audit(actor_event(
        ctx,
        &position,
        "letter",
        id,
        format!("comment on version {version}"),
    ));
    Ok(c)
}
