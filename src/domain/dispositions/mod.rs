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
    self as q, DispositionRecord, ListFilter, RecipientRecord, ResponseRecord,
};
use crate::store::letters as lq;
use crate::store::{Store, WriteTx, setup as setupq};

mod following;
mod sending;
mod views;

pub use following::*;
pub use sending::*;
pub use views::*;

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
        if parent.state != DispositionState::Active || !to_sender {
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
    status: RecipientStatus,
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
    let rows = recipient_rows(d, recipients, RecipientStatus::Unread, now);
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
