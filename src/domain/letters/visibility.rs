//! Who may see a letter: the caller's positions ([`Caller`]), the one access
//! rule ([`may_see`]), every way a position comes to take part in a letter
//! ([`Part`] and the `enrol_*` functions, the only writers of the ALL folder),
//! and the reads that apply the rule.

use super::*;

/// Who the caller is right now: positions held (with how) and positions served as secretary.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    pub held: Vec<HeldPositionRecord>,
    pub served: Vec<String>,
}

impl Caller {
    /// The caller's positions now, from the store's cache (for reads outside a
    /// write transaction; writes use [`Caller::in_tx`]).
    pub async fn cached(store: &Store, p: &Principal) -> Result<Self> {
        let rows = store
            .caches()
            .caller(store, &p.user_id, store.clock().now_us())
            .await?;
        Ok(Self::of(rows.as_deref()))
    }

    /// The caller's positions for a write: the entry the gate has just used
    /// (the cache is dropped by every committed identity change of this server,
    /// see [`crate::store::cache`]), else loaded inside the transaction at its
    /// time.
    pub async fn in_tx(tx: &WriteTx, p: &Principal) -> Result<Self> {
        let rows = tx.caches().caller(tx, &p.user_id, tx.now_us()).await?;
        Ok(Self::of(rows.as_deref()))
    }

    /// The positions of a cached caller entry; none for an unknown user.
    fn of(rows: Option<&crate::store::cache::CallerRows>) -> Self {
        match rows {
            Some(r) => Self {
                held: r.held.clone(),
                served: r.served.clone(),
            },
            None => Self {
                held: Vec::new(),
                served: Vec::new(),
            },
        }
    }

    /// The held position with this id.
    pub fn holding(&self, position_id: &str) -> Option<&HeldPositionRecord> {
        self.held.iter().find(|h| h.position_id == position_id)
    }

    /// Ids of held positions.
    pub fn held_ids(&self) -> Vec<String> {
        self.held.iter().map(|h| h.position_id.clone()).collect()
    }

    /// Ids of held and served positions (what the caller may see through).
    pub fn visible_ids(&self) -> Vec<String> {
        let mut v = self.held_ids();
        for s in &self.served {
            if !v.contains(s) {
                v.push(s.clone());
            }
        }
        v
    }
}

/// The one access rule of letters: whether the caller may see letter `l`,
/// given whether one of the positions they hold or act for takes part in it
/// (its ALL folder: drafter, route steps once reached, recipients and copies
/// once delivered, disposition recipients). Nothing else grants a read: not
/// the letter's security level, not a role. Whatever the caller may not see
/// answers exactly like an id that does not exist.
pub(in crate::domain) fn may_see(_l: &LetterRecord, taking_part: bool) -> bool {
    taking_part
}

/// [`visible_letter`] outside a transaction: the letter and the caller's part
/// in it in one statement.
pub async fn seen_letter(
    store: &Store,
    p: &Principal,
    caller: &Caller,
    id: &str,
) -> Result<LetterRecord> {
    match q::letter_for(store, &p.agency_id, id, &caller.visible_ids()).await? {
        Some((l, taking_part)) if may_see(&l, taking_part) => Ok(l),
        _ => Err(not_found()),
    }
}

/// [`seen_letter`] for a read of the letter's content (versions, comments,
/// the signed document, an attachment): a read of a RAHASIA or SANGAT_RAHASIA
/// letter is recorded in the audit trail, naming `what` was read.
pub async fn read_content(
    store: &Store,
    p: &Principal,
    meta: &RequestMeta,
    id: &str,
    what: &str,
) -> Result<LetterRecord> {
    let caller = Caller::cached(store, p).await?;
    let l = seen_letter(store, p, &caller, id).await?;
    if is_secret(&l) {
        audit_secret_read(store, p, meta, &caller, id, what).await?;
    }
    Ok(l)
}

/// Records a read of a secret letter's content by the caller.
pub(super) async fn audit_secret_read(
    store: &Store,
    p: &Principal,
    meta: &RequestMeta,
    caller: &Caller,
    id: &str,
    what: &str,
) -> Result<()> {
    let mut tx = store.begin_write().await?;
    tx.audit(secret_read_event(Ctx::new(p, meta), caller, id, what));
    tx.commit().await?;
    Ok(())
}

/// The audit event of a read of a secret letter.
pub(super) fn secret_read_event(
    ctx: Ctx<'_>,
    caller: &Caller,
    id: &str,
    what: &str,
) -> crate::audit::NewEvent {
    let mut ev = ctx.event("letter", id, format!("read of a secret letter: {what}"));
    ev.actor_position_id = caller
        .held
        .first()
        .map(|h| h.position_id.clone())
        .unwrap_or_default();
    ev
}

/// Loads a letter the caller may see, or LETTER_NOT_FOUND.
pub async fn visible_letter(
    db: &impl Db,
    p: &Principal,
    caller: &Caller,
    id: &str,
) -> Result<LetterRecord> {
    match q::letter_for_in(db, &p.agency_id, id, &caller.visible_ids()).await? {
        Some((l, taking_part)) if may_see(&l, taking_part) => Ok(l),
        _ => Err(not_found()),
    }
}

pub(super) fn is_secret(l: &LetterRecord) -> bool {
    l.security_level >= SecurityLevel::Rahasia as i16
}

/// The positions a read goes through: `acting` alone when set (it must be
/// one the caller holds or serves now), else all the caller's.
pub(super) fn positions_as(caller: &Caller, acting: &str) -> Result<Vec<String>> {
    let visible = caller.visible_ids();
    if acting.is_empty() {
        Ok(visible)
    } else if visible.iter().any(|v| v == acting) {
        Ok(vec![acting.to_owned()])
    } else {
        Err(Error::rejected(
            Reason::NotPositionHolder,
            "you do not hold that position now",
        ))
    }
}

/// Why a position takes part in a letter. Taking part is what [`may_see`]
/// asks: the letter is in the position's ALL folder, put there by one of the
/// `enrol_*` functions below and by nothing else. Whoever holds such a
/// position, acts for it (PLT/PLH inside their window) or serves it as
/// secretary then sees the letter, whatever its security level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The drafting position, from the draft's creation.
    Drafter,
    /// A route step's position, once the route reaches it.
    StepReached,
    /// A recipient or copy position, once the signed letter is delivered
    /// (an incoming letter's, once it is registered).
    Addressee,
    /// The position that registered an incoming letter.
    Registrar,
    /// A disposition's recipient position, once the disposition is sent.
    DispositionRecipient,
}

/// [`Part::Drafter`]: the new draft is in the drafter's DRAFTS folder and
/// the drafting position takes part in it (one held-back statement).
pub(in crate::domain) async fn enrol_drafter(
    tx: &mut WriteTx,
    agency: &str,
    position: &str,
    letter_id: &str,
    now: i64,
) -> Result<()> {
    let entries = [(position, Folder::Drafts), (position, Folder::All)];
    Ok(q::put_in_folders(tx, agency, &entries, letter_id, now).await?)
}

/// [`Part::StepReached`]: the step's position finds the letter in `work`
/// (TO_REVIEW or TO_SIGN) and takes part in it.
pub(in crate::domain) async fn enrol_step(
    tx: &mut WriteTx,
    l: &LetterRecord,
    position: &str,
    work: Folder,
    now: i64,
) -> Result<()> {
    Ok(q::put_reached(
        tx,
        &l.agency_id,
        position,
        work,
        &l.id,
        now,
        l.created_at_us,
    )
    .await?)
}

/// [`Part::Addressee`]: the letter reaches an addressee position's INBOX
/// (`to`) or CC folder at `now`, and the position takes part in it, listed
/// among its letters at `listed_us`.
pub(in crate::domain) async fn enrol_addressee(
    tx: &WriteTx,
    agency: &str,
    position: &str,
    to: bool,
    letter_id: &str,
    now: i64,
    listed_us: i64,
) -> Result<()> {
    let work = if to { Folder::Inbox } else { Folder::Cc };
    q::box_put(tx, agency, position, work, letter_id, now).await?;
    q::box_put(tx, agency, position, Folder::All, letter_id, listed_us).await?;
    Ok(())
}

/// [`Part::Registrar`]: the registering position takes part in the incoming
/// letter.
pub(in crate::domain) async fn enrol_registrar(
    tx: &WriteTx,
    agency: &str,
    position: &str,
    letter_id: &str,
    now: i64,
) -> Result<()> {
    Ok(q::box_put(tx, agency, position, Folder::All, letter_id, now).await?)
}

/// [`Part::DispositionRecipient`]: a sent disposition's recipient positions
/// take part in its letter (one held-back statement).
pub(in crate::domain) async fn enrol_disposition_recipients(
    tx: &mut WriteTx,
    agency: &str,
    positions: &[String],
    letter_id: &str,
    now: i64,
) -> Result<()> {
    let entries: Vec<(&str, Folder)> = positions
        .iter()
        .map(|p| (p.as_str(), Folder::All))
        .collect();
    Ok(q::put_in_folders(tx, agency, &entries, letter_id, now).await?)
}
