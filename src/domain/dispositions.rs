//! Dispositions (disposisi): forwarding a received letter down the office
//! hierarchy with instructions, due dates and per-recipient follow-up.

use crate::store::Db;
use std::collections::{HashMap, HashSet};

use super::context::{Ctx, check_etag};
use super::letters::{self, Caller};
use super::lifecycle::{DispositionEvent, DispositionState, RecipientEvent, RecipientStatus};
use super::page;
use crate::auth::Principal;
use crate::error::{Error, Reason, Result};
use crate::notify::{Notice, NoticeKind};
use crate::store::cache::CodeKind;
use crate::store::dispositions::{
    self as q, DispositionRecord, ListFilter, RecipientRecord, ResponseRecord, state, status,
};
use crate::store::letters as lq;
use crate::store::{Store, WriteTx, setup as setupq};

/// What a new disposition says.
#[derive(Clone, Debug)]
pub struct NewDisposition {
    pub letter_id: String,
    pub parent_id: String,
    pub sender_position_id: String,
    pub recipients: Vec<String>,
    pub instructions: Vec<String>,
    pub note: String,
    pub due_us: Option<i64>,
    pub urgency: i16,
}

fn not_found() -> Error {
    Error::rejected(Reason::DispositionNotFound, "disposition not found")
}

/// True when `candidate` lies strictly below `ancestor` in the office hierarchy.
fn is_below(superiors: &HashMap<String, Option<String>>, candidate: &str, ancestor: &str) -> bool {
    let mut cursor = superiors.get(candidate).cloned().flatten();
    for _ in 0..256 {
        match cursor {
            Some(ref p) if p == ancestor => return true,
            Some(p) => cursor = superiors.get(&p).cloned().flatten(),
            None => return false,
        }
    }
    false
}

async fn check_content(tx: &WriteTx, agency: &str, sender: &str, d: &NewDisposition) -> Result<()> {
    let superiors = tx.caches().superiors(tx, agency, tx.now_us()).await?;
    let mut seen = HashSet::new();
    for r in &d.recipients {
        if !seen.insert(r) {
            return Err(Error::invalid(
                "recipient_position_ids",
                "a position appears twice",
            ));
        }
        if !superiors.contains_key(r) {
            return Err(Error::rejected(
                Reason::PositionNotFound,
                format!("position {r} not found"),
            ));
        }
        if !is_below(&superiors, r, sender) {
            return Err(Error::rejected(
                Reason::NotASubordinate,
                "every recipient must be below the disposing position in the hierarchy",
            ));
        }
    }
    // Codes met before need no read (instructions are never removed).
    let kind = CodeKind::Instruction;
    let unknown: Vec<&String> = d
        .instructions
        .iter()
        .filter(|c| !tx.caches().known_code(kind, agency, c))
        .collect();
    if !unknown.is_empty() {
        let known: HashSet<String> = setupq::instructions(tx, agency)
            .await?
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        tx.caches()
            .remember_codes(kind, agency, known.iter().map(String::as_str));
        if let Some(code) = unknown.into_iter().find(|c| !known.contains(*c)) {
            return Err(Error::rejected(
                Reason::UnknownInstruction,
                format!("{code} is not one of the agency's instructions"),
            ));
        }
    }
    if d.due_us.is_some_and(|due| due < tx.now_us()) {
        return Err(Error::invalid("due_time", "must not be in the past"));
    }
    Ok(())
}

/// Resolves the letter a disposition is about and checks that `sender` received it
/// (the letter in its INBOX, or the parent disposition addressed to it).
async fn received(
    tx: &WriteTx,
    agency: &str,
    sender: &str,
    d: &NewDisposition,
) -> Result<(String, String)> {
    if !d.parent_id.is_empty() {
        let parent = q::get(tx, agency, &d.parent_id)
            .await?
            .ok_or_else(not_found)?;
        let to_sender = q::recipients_of(tx, std::slice::from_ref(&parent.id))
            .await?
            .iter()
            .any(|r| r.position_id == sender);
        // A disposition the position neither sent nor received does not
        // exist for it.
        if !to_sender && parent.sender_position_id != sender {
            return Err(not_found());
        }
        if parent.state != state::ACTIVE || !to_sender {
            return Err(Error::rejected(
                Reason::NotReceived,
                "the disposing position did not receive that disposition",
            ));
        }
        return Ok((parent.letter_id, parent.id));
    }
    let in_inbox = lq::in_inbox_of(tx, agency, &d.letter_id, sender)
        .await?
        .ok_or_else(|| Error::rejected(Reason::LetterNotFound, "letter not found"))?;
    if !in_inbox {
        // A letter the position takes no part in does not exist for it.
        if !lq::is_participant(tx, &d.letter_id, &[sender.to_owned()]).await? {
            return Err(Error::rejected(Reason::LetterNotFound, "letter not found"));
        }
        return Err(Error::rejected(
            Reason::NotReceived,
            "the disposing position did not receive that letter in its inbox",
        ));
    }
    Ok((d.letter_id.clone(), String::new()))
}

/// Recipient rows of `d`, one per position, all in `status`.
fn recipient_rows(
    d: &DispositionRecord,
    positions: &[String],
    status: i16,
    now: i64,
) -> Vec<RecipientRecord> {
    positions
        .iter()
        .map(|p| RecipientRecord {
            disposition_id: d.id.clone(),
            position_id: p.clone(),
            agency_id: d.agency_id.clone(),
            status,
            read_at_us: None,
            done_at_us: None,
            due_us: d.due_us,
            created_at_us: now,
        })
        .collect()
}

/// Sends `d` to `recipients`: their rows (replacing a draft's when `fresh` is
/// false), the letter in their ALL folders, and a notice each. The writes are
/// held back and sent together (see [`WriteTx::write`]).
async fn deliver(
    tx: &mut WriteTx,
    d: &DispositionRecord,
    recipients: &[String],
    fresh: bool,
) -> Result<Vec<RecipientRecord>> {
    let now = tx.now_us();
    let rows = recipient_rows(d, recipients, status::UNREAD, now);
    if !fresh {
        q::delete_recipients(tx, &d.id).await?;
    }
    q::insert_recipients(tx, &rows).await?;
    // Recipients join the letter's participants: they may see it, whatever its level.
    letters::enrol_disposition_recipients(tx, &d.agency_id, recipients, &d.letter_id, now).await?;
    for p in recipients {
        tx.notify(Notice {
            kind: NoticeKind::DispositionReceived,
            position_id: p.clone(),
            letter_id: d.letter_id.clone(),
            disposition_id: d.id.clone(),
            time_us: now,
        });
    }
    Ok(rows)
}

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
        state: state::ACTIVE,
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
        state: state::DRAFT,
        instruction_codes: d.instructions.join(","),
        note: d.note.clone(),
        due_us: d.due_us,
        urgency: d.urgency,
        revision: 1,
        created_at_us: tx.now_us(),
    };
    // Held back and sent together (see WriteTx::write).
    q::insert(tx, &rec).await?;
    let rows = recipient_rows(&rec, &d.recipients, status::DRAFT, rec.created_at_us);
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
    let confirmed = DispositionState::try_from(d.state)?.on(DispositionEvent::Confirm)?;
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
    d.state = confirmed.into();
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
    let cancelled = DispositionState::try_from(d.state)?.on(DispositionEvent::Cancel)?;
    let mut recipients = q::recipients_of(&*tx, std::slice::from_ref(&d.id)).await?;
    // Every recipient's status moves, or none does.
    for r in &mut recipients {
        r.status = RecipientStatus::try_from(r.status)?
            .on(RecipientEvent::Cancel)?
            .into();
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
    d.state = cancelled.into();
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
    if d.state != state::ACTIVE {
        return Err(Error::rejected(
            Reason::InvalidState,
            "the disposition is not active",
        ));
    }
    let before = RecipientStatus::try_from(r.status)?;
    let after = before.on(RecipientEvent::Read)?;
    if after != before {
        r.status = after.into();
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
    new_status: i16,
    note: &str,
    attachment_ids: &[String],
) -> Result<DispositionRecord> {
    let p = ctx.principal;
    let (d, mut r, kind) = my_recipient_row(tx, p, id, position).await?;
    let event = if new_status == status::DONE {
        RecipientEvent::Finish
    } else {
        RecipientEvent::Progress
    };
    if d.state != state::ACTIVE {
        return Err(Error::rejected(
            Reason::InvalidState,
            "the disposition is closed for this position",
        ));
    }
    let after = RecipientStatus::try_from(r.status)?.on(event)?;
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
    r.status = after.into();
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
        format!("follow-up reported: status {new_status}"),
    );
    ev.actor_position_id = r.position_id.clone();
    tx.audit(ev);
    Ok(d)
}

/// A disposition with its recipients and responses.
#[derive(Clone, Debug)]
pub struct View {
    pub d: DispositionRecord,
    pub recipients: Vec<RecipientRecord>,
    pub responses: Vec<ResponseRecord>,
    pub now_us: i64,
}

impl View {
    /// Past due and not DONE for some recipient.
    pub fn overdue(&self) -> bool {
        self.d.state == state::ACTIVE
            && self.d.due_us.is_some_and(|due| due < self.now_us)
            && self
                .recipients
                .iter()
                .any(|r| !matches!(r.status, status::DONE | status::CANCELLED))
    }
}

async fn views(db: &impl Db, ds: Vec<DispositionRecord>, now: i64) -> Result<Vec<View>> {
    let ids: Vec<String> = ds.iter().map(|d| d.id.clone()).collect();
    let recipients = q::recipients_of(db, &ids).await?;
    let responses = q::responses_of(db, &ids).await?;
    Ok(assemble(ds, recipients, responses, now))
}

/// Views of dispositions from their recipients' and reports' rows.
fn assemble(
    ds: Vec<DispositionRecord>,
    all_recipients: Vec<RecipientRecord>,
    all_responses: Vec<ResponseRecord>,
    now: i64,
) -> Vec<View> {
    let mut recipients: HashMap<String, Vec<RecipientRecord>> = HashMap::new();
    for r in all_recipients {
        recipients
            .entry(r.disposition_id.clone())
            .or_default()
            .push(r);
    }
    let mut responses: HashMap<String, Vec<ResponseRecord>> = HashMap::new();
    for r in all_responses {
        responses
            .entry(r.disposition_id.clone())
            .or_default()
            .push(r);
    }
    ds.into_iter()
        .map(|d| View {
            recipients: recipients.remove(&d.id).unwrap_or_default(),
            responses: responses.remove(&d.id).unwrap_or_default(),
            d,
            now_us: now,
        })
        .collect()
}

/// One disposition by id, for its sender, its recipients, or their secretaries.
pub async fn get_view(store: &Store, p: &Principal, id: &str) -> Result<View> {
    view_of(store, p, id, store.clock().now_us()).await
}

/// The view of a disposition its write transaction has just changed, read in
/// that transaction: what [`get_view`] answers once it commits, and what a
/// retry with the same `request_id` is answered again.
pub async fn answer(tx: &WriteTx, p: &Principal, id: &str) -> Result<View> {
    view_of(tx, p, id, tx.now_us()).await
}

async fn view_of(db: &impl Db, p: &Principal, id: &str, now_us: i64) -> Result<View> {
    let (d, recipients, responses) = q::one(db, &p.agency_id, id).await?.ok_or_else(not_found)?;
    Ok(View {
        d,
        recipients,
        responses,
        now_us,
    })
}

/// Which dispositions to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Box {
    Received,
    Sent,
    Drafts,
}

/// Lists dispositions of the caller's positions, newest first.
#[allow(clippy::too_many_arguments)]
pub async fn list(
    store: &Store,
    p: &Principal,
    which: Box,
    position: &str,
    statuses: Vec<i16>,
    overdue_only: bool,
    size: i32,
    token: &str,
) -> Result<(Vec<View>, String)> {
    let limit = page::page_size(size, 50, 200)?;
    let now = store.clock().now_us();
    let caller = Caller::cached(store, p).await?;
    let mut positions = if which == Box::Drafts {
        caller.visible_ids()
    } else {
        caller.held_ids()
    };
    if !position.is_empty() {
        if !positions.iter().any(|x| x == position) {
            return Err(Error::rejected(
                Reason::NotPositionHolder,
                "you do not hold that position now",
            ));
        }
        positions = vec![position.to_owned()];
    }
    let st: Vec<String> = statuses.iter().map(|s| s.to_string()).collect();
    let fp = page::fingerprint(&[
        "dispositions",
        &format!("{which:?}"),
        position,
        &st.join(","),
        if overdue_only { "1" } else { "0" },
    ]);
    let after = page::decode_time_key(token, &fp)?;
    let filter = ListFilter {
        statuses,
        overdue_at: overdue_only.then_some(now),
    };
    let (mut keys, ds): (Vec<(i64, String)>, Vec<DispositionRecord>) = match which {
        Box::Received => {
            let rows = q::list_received(store, &positions, &filter, after, limit + 1).await?;
            let keys: Vec<(i64, String)> = rows
                .iter()
                .map(|r| (r.created_at_us, r.disposition_id.clone()))
                .collect();
            let mut by_id: HashMap<String, DispositionRecord> =
                q::by_ids(store, &keys.iter().map(|k| k.1.clone()).collect::<Vec<_>>())
                    .await?
                    .into_iter()
                    .map(|d| (d.id.clone(), d))
                    .collect();
            let ds = keys.iter().filter_map(|k| by_id.remove(&k.1)).collect();
            (keys, ds)
        }
        Box::Sent | Box::Drafts => {
            let user = (which == Box::Drafts).then_some(p.user_id.as_str());
            let ds = q::list_sent(store, &positions, user, &filter, after, limit + 1).await?;
            (
                ds.iter().map(|d| (d.created_at_us, d.id.clone())).collect(),
                ds,
            )
        }
    };
    let mut out = views(store, ds, now).await?;
    let next = if out.len() as u64 > limit {
        out.truncate(limit as usize);
        keys.truncate(limit as usize);
        keys.last()
            .map(|(t, id)| page::encode(&fp, &format!("{t}:{id}")))
            .unwrap_or_default()
    } else {
        String::new()
    };
    Ok((out, next))
}

/// A node of the tree.
#[derive(Clone, Debug)]
pub struct Node {
    pub view: View,
    pub children: Vec<Node>,
}

/// The disposition tree of a letter, from the nodes the caller's positions send or
/// receive (and everything below them), in one query per table.
pub async fn tree(store: &Store, p: &Principal, letter_id: &str) -> Result<Vec<Node>> {
    let now = store.clock().now_us();
    let caller = Caller::cached(store, p).await?;
    let visible = caller.visible_ids();
    let (ds, recipients, responses) =
        q::tree_for(store, &p.agency_id, letter_id, &visible, letters::may_see)
            .await?
            .ok_or_else(letters::not_found)?;
    let mine: HashSet<String> = visible.into_iter().collect();
    let all = assemble(ds, recipients, responses, now);
    let involved = |v: &View| {
        mine.contains(&v.d.sender_position_id)
            || v.recipients.iter().any(|r| mine.contains(&r.position_id))
    };
    let mut children: HashMap<String, Vec<View>> = HashMap::new();
    let mut by_id: HashSet<String> = HashSet::new();
    for v in &all {
        by_id.insert(v.d.id.clone());
    }
    let mut tops = Vec::new();
    for v in all {
        if !v.d.parent_id.is_empty() && by_id.contains(&v.d.parent_id) {
            children.entry(v.d.parent_id.clone()).or_default().push(v);
        } else {
            tops.push(v);
        }
    }
    fn build(v: View, children: &mut HashMap<String, Vec<View>>, depth: usize) -> Node {
        let kids = if depth > 256 {
            Vec::new()
        } else {
            children.remove(&v.d.id).unwrap_or_default()
        };
        Node {
            view: v,
            children: kids
                .into_iter()
                .map(|c| build(c, children, depth + 1))
                .collect(),
        }
    }
    // A node is shown when it or an ancestor involves the caller; it is a root of the
    // answer when no ancestor does.
    fn select(n: Node, involved: &dyn Fn(&View) -> bool, out: &mut Vec<Node>) {
        if involved(&n.view) {
            out.push(n);
        } else {
            for c in n.children {
                select(c, involved, out);
            }
        }
    }
    let mut out = Vec::new();
    for t in tops {
        let n = build(t, &mut children, 0);
        select(n, &involved, &mut out);
    }
    Ok(out)
}

/// The agency's instructions: (code, text).
pub async fn instructions(store: &Store, p: &Principal) -> Result<Vec<(String, String)>> {
    Ok(setupq::instructions(store, &p.agency_id).await?)
}

#[cfg(test)]
mod tests {
    use super::is_below;
    use std::collections::HashMap;

    #[test]
    fn subordinates_are_strictly_below() {
        let s: HashMap<String, Option<String>> = [
            ("gub", None),
            ("sekda", Some("gub")),
            ("kadis", Some("sekda")),
            ("kabid", Some("kadis")),
            ("ikp", Some("kadis")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.map(String::from)))
        .collect();
        assert!(is_below(&s, "kabid", "kadis") && is_below(&s, "kabid", "gub"));
        assert!(
            !is_below(&s, "kadis", "kabid"),
            "a superior is not a subordinate"
        );
        assert!(
            !is_below(&s, "ikp", "kabid"),
            "a sibling is not a subordinate"
        );
        assert!(
            !is_below(&s, "kadis", "kadis"),
            "nor is the position itself"
        );
    }
}
