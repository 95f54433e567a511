//! Letters: drafting, the review route, signing and numbering, delivery,
//! folders, read receipts, incoming letters and visibility.
//!
//! Visibility ([`may_see`], the one rule): a letter is visible to the
//! positions that take part in it (drafter, route steps once reached,
//! recipients and cc once delivered, disposition chain) and to the users
//! acting for them (PLT/PLH inside their window) or serving them as
//! secretary. Roles grant nothing by themselves. Anything else is reported as
//! LETTER_NOT_FOUND, and every read of a RAHASIA or SANGAT_RAHASIA letter's
//! content is audited.

use crate::store::Db;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::calendar::rfc3339;
use super::context::{Ctx, check_etag, etag};
use super::numbering::{self, Parts, Scope};
use super::page;
use crate::auth::{Principal, RequestMeta};
use crate::error::{Error, Reason, Result};
use crate::notify::{Notice, NoticeKind};
use crate::proto::{LetterType, SecurityLevel};
use crate::store::attachments::AttachmentRecord;
use crate::store::cache::CodeKind;
use crate::store::identity::{self as idq, HeldPositionRecord};
use crate::store::letters::{self as q, AddresseeRecord, LetterRecord, StepRecord, folder};
use crate::store::{Store, WriteTx, org as orgq, setup as setupq, signing as signq};

/// Letter states (the `LetterState` numbers of the contract).
pub mod state {
    pub const DRAFT: i16 = 1;
    pub const IN_REVIEW: i16 = 2;
    pub const RETURNED: i16 = 3;
    pub const APPROVED: i16 = 4;
    pub const SIGNED: i16 = 5;
    pub const SENT: i16 = 6;
    pub const WITHDRAWN: i16 = 7;
    pub const REGISTERED: i16 = 8;
    pub const DELIVERED: i16 = 9;
    pub const DESTROYED: i16 = 10;
}

/// Route step kinds and decisions (contract numbers).
pub mod step {
    pub const REVIEWER: i16 = 1;
    pub const SIGNER: i16 = 2;
    pub const PENDING: i16 = 1;
    pub const APPROVED: i16 = 2;
    pub const RETURNED: i16 = 3;
}

const OUTGOING: i16 = 1;
const INCOMING: i16 = 2;
const TO: i16 = 1;
const CC: i16 = 2;

/// An external addressee as stored (JSON).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct External {
    pub organisation: String,
    pub attention: String,
    pub address: String,
    pub email: String,
    pub exchange_agency_id: String,
}

impl External {
    fn display(&self) -> String {
        if self.attention.is_empty() {
            self.organisation.clone()
        } else {
            format!("{}, {}", self.attention, self.organisation)
        }
    }
}

/// A recipient as requested.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Position(String),
    External(External),
}

/// Incoming-letter details as stored (JSON).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incoming {
    pub sender: External,
    pub sender_number: String,
    pub letter_date_us: i64,
    pub receive_time_us: i64,
    pub registered_by_user_id: String,
    pub registered_by_position_id: String,
}

/// Content of a draft.
#[derive(Clone, Debug)]
pub struct DraftInput {
    pub drafting_position_id: String,
    pub letter_type: LetterType,
    pub subject: String,
    pub body: String,
    pub security: SecurityLevel,
    pub urgency: i16,
    pub classification_code: String,
    pub recipients: Vec<Target>,
    pub carbon_copies: Vec<Target>,
    pub reference_letter_id: String,
}

/// Changes to a draft; `None` keeps a field.
#[derive(Clone, Debug, Default)]
pub struct DraftChanges {
    pub letter_type: Option<LetterType>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub security: Option<SecurityLevel>,
    pub urgency: Option<i16>,
    pub classification_code: Option<String>,
    pub recipients: Option<Vec<Target>>,
    pub carbon_copies: Option<Vec<Target>>,
    pub reference_letter_id: Option<String>,
}

/// Letter types without a subject line.
pub fn has_no_subject(t: LetterType) -> bool {
    matches!(
        t,
        LetterType::SuratTugas | LetterType::SuratPerintah | LetterType::SuratKeputusan
    )
}

/// LETTER_NOT_FOUND: also the answer for a letter the caller may not see.
pub(super) fn not_found() -> Error {
    Error::rejected(Reason::LetterNotFound, "letter not found")
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

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
pub(super) fn may_see(_l: &LetterRecord, taking_part: bool) -> bool {
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
async fn audit_secret_read(
    store: &Store,
    p: &Principal,
    meta: &RequestMeta,
    caller: &Caller,
    id: &str,
    what: &str,
) -> Result<()> {
    let mut tx = store.begin_write().await?;
    let mut ev = Ctx::new(p, meta).event("letter", id, format!("read of a secret letter: {what}"));
    ev.actor_position_id = caller
        .held
        .first()
        .map(|h| h.position_id.clone())
        .unwrap_or_default();
    tx.audit(ev);
    tx.commit().await?;
    Ok(())
}

/// Whether the caller may add an attachment to `l`: the holder of its
/// drafting position while the draft is editable (DRAFT, RETURNED), or the
/// registrar of an incoming letter (DELIVERED).
pub fn may_add_attachment(l: &LetterRecord, p: &Principal, caller: &Caller) -> bool {
    match l.state {
        state::DRAFT | state::RETURNED => caller.holding(&l.drafting_position_id).is_some(),
        state::DELIVERED => l.drafted_by_user_id == p.user_id,
        _ => false,
    }
}

fn not_editable_for_attachments() -> Error {
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

fn is_secret(l: &LetterRecord) -> bool {
    l.security_level >= SecurityLevel::Rahasia as i16
}

async fn check_classification(tx: &WriteTx, agency: &str, code: &str) -> Result<()> {
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

async fn addressee_rows(
    tx: &WriteTx,
    agency: &str,
    letter_id: &str,
    kind: i16,
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

fn actor_event(
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

async fn load_for_update(
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

async fn save(tx: &mut WriteTx, l: &mut LetterRecord) -> Result<()> {
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

fn require_drafter<'c>(caller: &'c Caller, l: &LetterRecord) -> Result<&'c HeldPositionRecord> {
    caller.holding(&l.drafting_position_id).ok_or_else(|| {
        Error::rejected(Reason::NotDrafter, "only the drafting position may do this")
    })
}

fn editable(l: &LetterRecord) -> Result<()> {
    match l.state {
        state::DRAFT | state::RETURNED => Ok(()),
        state::SIGNED | state::SENT => Err(Error::rejected(
            Reason::LetterAlreadySigned,
            "a signed letter cannot change; write a new letter that references it",
        )),
        _ => Err(Error::rejected(
            Reason::LetterNotEditable,
            "the letter can be edited only as a draft or when returned",
        )),
    }
}

/// A letter just created, with the rows its view needs besides its own.
#[derive(Clone, Debug)]
pub struct Created {
    /// The letter's row.
    pub letter: LetterRecord,
    /// Its addressees, as written.
    addressees: Vec<AddresseeRecord>,
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
        direction: OUTGOING,
        state: state::DRAFT,
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
    let mut rows = addressee_rows(tx, &p.agency_id, &id, TO, &d.recipients).await?;
    rows.extend(addressee_rows(tx, &p.agency_id, &id, CC, &d.carbon_copies).await?);
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
    let own = held.position_id.as_str();
    q::put_in_folders(
        tx,
        &p.agency_id,
        &[(own, folder::DRAFTS), (own, folder::ALL)],
        &id,
        now,
    )
    .await?;
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
        let keep = |kind: i16| {
            current
                .iter()
                .filter(|a| a.kind == kind)
                .cloned()
                .collect::<Vec<_>>()
        };
        let mut rows = match &ch.recipients {
            Some(t) => addressee_rows(tx, &p.agency_id, id, TO, t).await?,
            None => keep(TO),
        };
        rows.extend(match &ch.carbon_copies {
            Some(t) => addressee_rows(tx, &p.agency_id, id, CC, t).await?,
            None => keep(CC),
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
        .any(|s| s.decision != step::PENDING)
        || l.current_step >= 0;
    if l.state != state::DRAFT || submitted {
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
                step::REVIEWER
            } else {
                step::SIGNER
            },
            decision: step::PENDING,
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

fn notice(tx: &mut WriteTx, kind: NoticeKind, position_id: &str, letter_id: &str) {
    tx.notify(Notice {
        kind,
        position_id: position_id.to_owned(),
        letter_id: letter_id.to_owned(),
        disposition_id: String::new(),
        time_us: tx.now_us(),
    });
}

/// Puts the letter into the folder of the step at `idx` (review or signature).
async fn route_to(
    tx: &mut WriteTx,
    l: &LetterRecord,
    steps: &[StepRecord],
    idx: usize,
) -> Result<()> {
    let s = steps
        .get(idx)
        .ok_or_else(|| Error::rejected(Reason::InvalidState, "the route has no such step"))?;
    let (f, kind) = if s.kind == step::SIGNER {
        (folder::TO_SIGN, NoticeKind::SignatureRequested)
    } else {
        (folder::TO_REVIEW, NoticeKind::ReviewRequested)
    };
    // Reached: the step's position now takes part in the letter (its ALL
    // folder) besides finding it in its folder to act on.
    let now = tx.now_us();
    q::put_reached(
        tx,
        &l.agency_id,
        &s.position_id,
        f,
        &l.id,
        now,
        l.created_at_us,
    )
    .await?;
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
    if !q::addressees(&*tx, id).await?.iter().any(|a| a.kind == TO) {
        return Err(Error::rejected(
            Reason::RecipientsMissing,
            "the letter needs at least one recipient",
        ));
    }
    for s in &mut steps {
        s.decision = step::PENDING;
        s.decided_by_user_id.clear();
        s.decided_by_position_id.clear();
        s.decided_by_assignment_kind = 0;
        s.decide_time_us = None;
    }
    q::replace_steps(&*tx, id, &steps).await?;
    l.current_step = 0;
    l.state = if steps.first().is_some_and(|s| s.kind == step::SIGNER) {
        state::APPROVED
    } else {
        state::IN_REVIEW
    };
    q::box_remove(&*tx, id, folder::DRAFTS, None).await?;
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
fn current<'a>(
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

fn decide(
    s: &mut StepRecord,
    p: &Principal,
    held: &HeldPositionRecord,
    decision: i16,
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

async fn comment(
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
    if l.state != state::IN_REVIEW {
        return Err(Error::rejected(
            Reason::InvalidState,
            "the letter is not in review",
        ));
    }
    let mut steps = q::steps(&*tx, id).await?;
    let now = tx.now_us();
    let (s, held) = current(&l, &mut steps, &caller)?;
    decide(s, p, &held, step::APPROVED, l.version, now);
    let s = s.clone();
    if !note.is_empty() {
        comment(tx, &l, p, &held.position_id, l.version, note).await?;
    }
    let next = (l.current_step + 1) as usize;
    l.current_step = next as i32;
    if steps
        .get(next)
        .ok_or_else(|| Error::rejected(Reason::InvalidState, "the route has no further step"))?
        .kind
        == step::SIGNER
    {
        l.state = state::APPROVED;
    }
    // Held back and sent together (see WriteTx::write).
    q::update_step(tx, &s).await?;
    q::take_from_folder(tx, id, folder::TO_REVIEW, Some(&s.position_id)).await?;
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
    if !matches!(l.state, state::IN_REVIEW | state::APPROVED) {
        return Err(Error::rejected(
            Reason::InvalidState,
            "the letter is not in its route",
        ));
    }
    let mut steps = q::steps(&*tx, id).await?;
    let now = tx.now_us();
    let (s, held) = current(&l, &mut steps, &caller)?;
    decide(s, p, &held, step::RETURNED, l.version, now);
    let s = s.clone();
    q::save_step(&*tx, &s).await?;
    comment(tx, &l, p, &held.position_id, l.version, text).await?;
    q::box_remove(&*tx, id, folder::TO_REVIEW, Some(&s.position_id)).await?;
    q::box_remove(&*tx, id, folder::TO_SIGN, Some(&s.position_id)).await?;
    q::box_put(
        &*tx,
        &l.agency_id,
        &l.drafting_position_id,
        folder::DRAFTS,
        id,
        now,
    )
    .await?;
    l.state = state::RETURNED;
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
    if matches!(l.state, state::SIGNED | state::SENT) {
        return Err(Error::rejected(
            Reason::LetterAlreadySigned,
            "a signed letter cannot be withdrawn",
        ));
    }
    if !matches!(
        l.state,
        state::DRAFT | state::IN_REVIEW | state::RETURNED | state::APPROVED
    ) {
        return Err(Error::rejected(
            Reason::InvalidState,
            "the letter cannot be withdrawn in its state",
        ));
    }
    let drafter = require_drafter(&caller, &l)?.position_id.clone();
    if crate::store::records::letter_held(&*tx, id).await? {
        return Err(Error::rejected(
            Reason::LegalHold,
            "a legal hold blocks withdrawing this letter",
        ));
    }
    for f in [folder::DRAFTS, folder::TO_REVIEW, folder::TO_SIGN] {
        q::box_remove(&*tx, id, f, None).await?;
    }
    l.state = state::WITHDRAWN;
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

/// The signed manifest (DESIGN.md "The signed artefact"), serialised with a fixed
/// field order; the bytes are what the CMS signature covers.
#[derive(Serialize)]
struct Manifest<'a> {
    format: &'static str,
    agency: ManifestAgency<'a>,
    letter_id: &'a str,
    number: &'a str,
    date: String,
    #[serde(rename = "type")]
    letter_type: &'a str,
    security_level: &'a str,
    urgency: i16,
    classification: &'a str,
    subject: &'a str,
    recipients: Vec<ManifestAddressee<'a>>,
    carbon_copies: Vec<ManifestAddressee<'a>>,
    body_sha256: &'a str,
    attachments: Vec<ManifestAttachment>,
    approvals: Vec<ManifestApproval>,
    signer: ManifestApproval,
    verification_code: &'a str,
}

#[derive(Serialize)]
struct ManifestAgency<'a> {
    id: &'a str,
    code: String,
    name: String,
}

#[derive(Serialize)]
struct ManifestAddressee<'a> {
    position_id: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
struct ManifestAttachment {
    file_name: String,
    sha256: String,
    size_bytes: i64,
}

#[derive(Serialize)]
struct ManifestApproval {
    step: i32,
    position_id: String,
    position_name: String,
    user_id: String,
    user_name: String,
    nip: String,
    acting_as: String,
    decision: &'static str,
    time: String,
    version: i32,
}

fn kind_name(k: i16) -> &'static str {
    match k {
        2 => "PLT",
        3 => "PLH",
        _ => "DEFINITIVE",
    }
}

async fn approval(tx: &WriteTx, agency: &str, s: &StepRecord) -> Result<ManifestApproval> {
    let user = idq::user_by_id(tx, &s.decided_by_user_id).await?;
    let pos = orgq::position(tx, agency, &s.position_id).await?;
    Ok(ManifestApproval {
        step: s.idx + 1,
        position_id: s.position_id.clone(),
        position_name: pos.map(|p| p.name).unwrap_or_default(),
        user_id: s.decided_by_user_id.clone(),
        user_name: user
            .as_ref()
            .map(|u| u.full_name.clone())
            .unwrap_or_default(),
        nip: user.map(|u| u.nip).unwrap_or_default(),
        acting_as: kind_name(s.decided_by_assignment_kind).into(),
        decision: if s.decision == step::APPROVED {
            "APPROVED"
        } else {
            "RETURNED"
        },
        time: s.decide_time_us.map(rfc3339).unwrap_or_default(),
        version: s.version,
    })
}

fn verification_code() -> String {
    use rand_core::{OsRng, RngCore};
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    OsRng.fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// Signs an approved letter with an unlocked key: number, manifest, CMS
/// signature, verification code and delivery, all in `tx`.
pub async fn sign(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    id: &str,
    etag_sent: &str,
    key: &p256::ecdsa::SigningKey,
    key_rec: &signq::KeyRecord,
) -> Result<LetterRecord> {
    let p = ctx.principal;
    let caller = Caller::in_tx(tx, p).await?;
    let mut l = load_for_update(tx, ctx, &caller, id, etag_sent).await?;
    if matches!(l.state, state::SIGNED | state::SENT) {
        return Err(Error::rejected(
            Reason::LetterAlreadySigned,
            "the letter is already signed",
        ));
    }
    if l.state != state::APPROVED {
        return Err(Error::rejected(
            Reason::InvalidState,
            "only an approved letter can be signed",
        ));
    }
    let mut steps = q::steps(&*tx, id).await?;
    let now = tx.now_us();
    let (s, held) = current(&l, &mut steps, &caller)?;
    if s.kind != step::SIGNER {
        return Err(Error::rejected(
            Reason::InvalidState,
            "the letter still waits for a reviewer",
        ));
    }
    decide(s, p, &held, step::APPROVED, l.version, now);
    let signer_step = s.clone();
    q::save_step(&*tx, &signer_step).await?;

    // Number.
    let signer_pos = orgq::position(&*tx, &p.agency_id, &held.position_id)
        .await?
        .ok_or_else(|| Error::Internal("signer position vanished".into()))?;
    let unit = orgq::unit(&*tx, &p.agency_id, &signer_pos.unit_id)
        .await?
        .ok_or_else(|| Error::Internal("signer unit vanished".into()))?;
    let (template, scope) = setupq::numbering(&*tx, &p.agency_id)
        .await?
        .unwrap_or_else(|| ("{class}/{seq}/{unit}/{year}".into(), Scope::Agency as i16));
    let lt = LetterType::try_from(i32::from(l.letter_type)).unwrap_or(LetterType::Lainnya);
    let sec = SecurityLevel::try_from(i32::from(l.security_level)).unwrap_or(SecurityLevel::Biasa);
    let names = signq::agency(&*tx, &p.agency_id).await?.unwrap_or_default();
    let zone = super::calendar::zone_or_default(&names.time_zone);
    let (year, month) = super::calendar::year_month(now, &zone)?;
    let seq = q::next_seq(
        &*tx,
        &p.agency_id,
        &Scope::from_code(scope).key(&unit.id, lt),
        year,
    )
    .await?;
    let number = numbering::render(
        &template,
        &Parts {
            letter_type: lt,
            security: sec,
            seq,
            unit_code: &unit.code,
            position: &signer_pos.name,
            class: &l.classification_code,
            year,
            month,
        },
    );

    // Manifest.
    let code = verification_code();
    let (agency_name, agency_code) = (names.name, names.code);
    let addressees = q::addressees(&*tx, id).await?;
    let to: Vec<ManifestAddressee<'_>> = addressees
        .iter()
        .filter(|a| a.kind == TO)
        .map(|a| ManifestAddressee {
            position_id: &a.position_id,
            name: &a.display_name,
        })
        .collect();
    let cc: Vec<ManifestAddressee<'_>> = addressees
        .iter()
        .filter(|a| a.kind == CC)
        .map(|a| ManifestAddressee {
            position_id: &a.position_id,
            name: &a.display_name,
        })
        .collect();
    let mut approvals = Vec::new();
    for st in steps.iter().filter(|st| st.kind == step::REVIEWER) {
        approvals.push(approval(tx, &p.agency_id, st).await?);
    }
    let attachments = crate::store::attachments::list(&*tx, id)
        .await?
        .into_iter()
        .map(|a| ManifestAttachment {
            file_name: a.file_name,
            sha256: a.sha256,
            size_bytes: a.size_bytes,
        })
        .collect();
    let manifest = Manifest {
        format: "naskah.manifest.v1",
        agency: ManifestAgency {
            id: &p.agency_id,
            code: agency_code,
            name: agency_name,
        },
        letter_id: id,
        number: &number,
        date: rfc3339(now),
        letter_type: lt.as_str_name().trim_start_matches("LETTER_TYPE_"),
        security_level: sec.as_str_name().trim_start_matches("SECURITY_LEVEL_"),
        urgency: l.urgency,
        classification: &l.classification_code,
        subject: &l.subject,
        recipients: to,
        carbon_copies: cc,
        body_sha256: &l.body_sha256,
        attachments,
        approvals,
        signer: approval(tx, &p.agency_id, &signer_step).await?,
        verification_code: &code,
    };
    let manifest_bytes =
        serde_json::to_vec(&manifest).map_err(|e| Error::Internal(e.to_string()))?;
    let signature = crate::crypto::cms_sign::sign_detached(key, &key_rec.cert_der, &manifest_bytes)
        .map_err(|e| Error::Internal(e.to_string()))?;
    q::insert_signature(
        &*tx,
        &q::SignatureRecord {
            letter_id: id.to_owned(),
            manifest_sha256: sha256_hex(&manifest_bytes),
            manifest: manifest_bytes,
            signature,
            cert_serial: key_rec.serial.clone(),
            verification_code: code.clone(),
            created_at_us: now,
        },
    )
    .await?;

    // Delivery.
    q::box_remove(&*tx, id, folder::TO_SIGN, None).await?;
    for a in addressees.iter().filter(|a| !a.position_id.is_empty()) {
        let (f, kind) = if a.kind == TO {
            (folder::INBOX, NoticeKind::LetterReceived)
        } else {
            (folder::CC, NoticeKind::LetterCopied)
        };
        q::box_put(&*tx, &p.agency_id, &a.position_id, f, id, now).await?;
        q::box_put(
            &*tx,
            &p.agency_id,
            &a.position_id,
            folder::ALL,
            id,
            l.created_at_us,
        )
        .await?;
        notice(tx, kind, &a.position_id, id);
    }
    q::box_put(
        &*tx,
        &p.agency_id,
        &l.drafting_position_id,
        folder::SENT,
        id,
        now,
    )
    .await?;
    if held.position_id != l.drafting_position_id {
        q::box_put(&*tx, &p.agency_id, &held.position_id, folder::SENT, id, now).await?;
    }
    l.state = state::SENT;
    l.number = number.clone();
    l.sign_time_us = Some(now);
    l.signer_user_id = p.user_id.clone();
    l.signer_position_id = held.position_id.clone();
    l.verification_code = Some(code);
    save(tx, &mut l).await?;
    let externals = addressees
        .iter()
        .filter(|a| a.position_id.is_empty())
        .count();
    tx.audit(actor_event(
        ctx,
        &held.position_id,
        "letter",
        id,
        format!("signed as {number}; delivered; {externals} external addressee(s) queued"),
    ));
    Ok(l)
}

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
    let registrar_position = caller
        .held
        .first()
        .map(|h| h.position_id.clone())
        .unwrap_or_default();
    let now = tx.now_us();
    let id = uuid::Uuid::new_v4().to_string();
    let to: Vec<Target> = i.to.iter().cloned().map(Target::Position).collect();
    let cc: Vec<Target> = i.cc.iter().cloned().map(Target::Position).collect();
    let mut rows = addressee_rows(tx, &p.agency_id, &id, TO, &to).await?;
    rows.extend(addressee_rows(tx, &p.agency_id, &id, CC, &cc).await?);
    let incoming = Incoming {
        sender: i.sender,
        sender_number: i.sender_number,
        letter_date_us: i.letter_date_us,
        receive_time_us: i.receive_time_us.unwrap_or(now),
        registered_by_user_id: p.user_id.clone(),
        registered_by_position_id: registrar_position.clone(),
    };
    let l = LetterRecord {
        id: id.clone(),
        agency_id: p.agency_id.clone(),
        direction: INCOMING,
        state: state::DELIVERED,
        letter_type: i.letter_type as i16,
        subject: i.subject.clone(),
        body: i.body.clone(),
        body_sha256: sha256_hex(i.body.as_bytes()),
        security_level: i.security as i16,
        urgency: i.urgency,
        classification_code: i.classification_code,
        drafting_position_id: registrar_position.clone(),
        drafted_by_user_id: p.user_id.clone(),
        drafted_by_position_id: registrar_position.clone(),
        current_step: -1,
        version: 1,
        number: incoming.sender_number.clone(),
        sign_time_us: None,
        signer_user_id: String::new(),
        signer_position_id: String::new(),
        verification_code: None,
        reference_letter_id: String::new(),
        incoming: serde_json::to_string(&incoming).map_err(|e| Error::Internal(e.to_string()))?,
        revision: 1,
        created_at_us: now,
        updated_at_us: now,
    };
    q::insert_letter(&*tx, &l).await?;
    q::replace_addressees(&*tx, &id, &rows).await?;
    q::insert_version(
        &*tx,
        &q::VersionRecord {
            letter_id: id.clone(),
            version: 1,
            subject: l.subject.clone(),
            body: l.body.clone(),
            body_sha256: l.body_sha256.clone(),
            author_user_id: p.user_id.clone(),
            author_position_id: registrar_position.clone(),
            created_at_us: now,
        },
    )
    .await?;
    if !registrar_position.is_empty() {
        q::box_put(
            &*tx,
            &p.agency_id,
            &registrar_position,
            folder::ALL,
            &id,
            now,
        )
        .await?;
    }
    for a in &rows {
        let (f, kind) = if a.kind == TO {
            (folder::INBOX, NoticeKind::LetterReceived)
        } else {
            (folder::CC, NoticeKind::LetterCopied)
        };
        q::box_put(&*tx, &p.agency_id, &a.position_id, f, &id, now).await?;
        q::box_put(&*tx, &p.agency_id, &a.position_id, folder::ALL, &id, now).await?;
        notice(tx, kind, &a.position_id, &id);
    }
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

/// Everything shown about one letter.
#[derive(Clone, Debug)]
pub struct LetterView {
    pub letter: LetterRecord,
    pub steps: Vec<StepRecord>,
    pub addressees: Vec<AddresseeRecord>,
    pub receipts: HashMap<String, i64>,
    pub attachments: Vec<crate::store::attachments::AttachmentRecord>,
    pub read: bool,
    /// Display names of the users and positions the page names (one map for
    /// the whole page, shared by its letters).
    pub users: std::sync::Arc<HashMap<String, String>>,
    pub positions: std::sync::Arc<HashMap<String, String>>,
    pub with_body: bool,
}

impl LetterView {
    /// The etag of the letter.
    pub fn etag(&self) -> String {
        etag(self.letter.revision)
    }

    /// The stored incoming details, if any.
    pub fn incoming(&self) -> Option<Incoming> {
        serde_json::from_str(&self.letter.incoming).ok()
    }

    /// An external addressee's stored details.
    pub fn external(a: &AddresseeRecord) -> External {
        serde_json::from_str(&a.external).unwrap_or_default()
    }
}

/// The view of one letter whose details were read with it.
async fn view_with(
    store: &Store,
    l: LetterRecord,
    read: bool,
    details: q::LetterDetails,
    with_body: bool,
) -> Result<LetterView> {
    let mut v = views_with(store, vec![(l, read)], details, with_body).await?;
    v.pop()
        .ok_or_else(|| Error::Internal("letter view vanished".into()))
}

/// Views of letters whose details were read with them (a fixed number of
/// queries, whatever their number).
async fn views_with(
    store: &Store,
    letters: Vec<(LetterRecord, bool)>,
    details: q::LetterDetails,
    with_body: bool,
) -> Result<Vec<LetterView>> {
    let db = store;
    let Some(agency) = letters.first().map(|(l, _)| l.agency_id.clone()) else {
        return Ok(Vec::new());
    };
    let mut steps: HashMap<String, Vec<StepRecord>> = HashMap::new();
    for s in details.steps {
        steps.entry(s.letter_id.clone()).or_default().push(s);
    }
    let mut addressees: HashMap<String, Vec<AddresseeRecord>> = HashMap::new();
    for a in details.addressees {
        addressees.entry(a.letter_id.clone()).or_default().push(a);
    }
    let mut receipts: HashMap<String, HashMap<String, i64>> = HashMap::new();
    for (letter, position, t) in details.receipts {
        receipts.entry(letter).or_default().insert(position, t);
    }
    let mut attachments: HashMap<String, Vec<crate::store::attachments::AttachmentRecord>> =
        HashMap::new();
    for a in details.attachments {
        attachments.entry(a.letter_id.clone()).or_default().push(a);
    }
    let mut user_ids: Vec<String> = Vec::new();
    let mut position_ids: Vec<String> = Vec::new();
    for (l, _) in &letters {
        user_ids.extend([l.drafted_by_user_id.clone(), l.signer_user_id.clone()]);
        position_ids.extend([l.drafting_position_id.clone(), l.signer_position_id.clone()]);
    }
    for s in steps.values().flatten() {
        user_ids.push(s.decided_by_user_id.clone());
        position_ids.push(s.position_id.clone());
    }
    for ids in [&mut user_ids, &mut position_ids] {
        ids.retain(|x| !x.is_empty());
        ids.sort();
        ids.dedup();
    }
    let now = store.clock().now_us();
    let users = std::sync::Arc::new(
        store
            .caches()
            .user_names(db, &agency, &user_ids, now)
            .await?,
    );
    let positions = std::sync::Arc::new(
        store
            .caches()
            .position_names(db, &agency, &position_ids, now)
            .await?,
    );
    Ok(letters
        .into_iter()
        .map(|(l, read)| LetterView {
            steps: steps.remove(&l.id).unwrap_or_default(),
            addressees: addressees.remove(&l.id).unwrap_or_default(),
            receipts: receipts.remove(&l.id).unwrap_or_default(),
            attachments: attachments.remove(&l.id).unwrap_or_default(),
            read,
            users: users.clone(),
            positions: positions.clone(),
            with_body,
            letter: l,
        })
        .collect())
}

/// Reads a letter; a read of an R/SR letter is audited.
pub async fn get(store: &Store, p: &Principal, meta: &RequestMeta, id: &str) -> Result<LetterView> {
    get_as(store, p, meta, id, "").await
}

/// [`get`] as one of the caller's positions (`acting`, held or served; empty:
/// any of them): the letter must reach that position, and the view's read
/// flag is that position's. A position the caller neither holds nor serves
/// now is refused with NOT_POSITION_HOLDER.
pub async fn get_as(
    store: &Store,
    p: &Principal,
    meta: &RequestMeta,
    id: &str,
    acting: &str,
) -> Result<LetterView> {
    let caller = Caller::cached(store, p).await?;
    let positions = positions_as(&caller, acting)?;
    // The letter and, when the caller may see it, its details in one read.
    let (l, details) =
        match q::letter_for_with_details(store, &p.agency_id, id, &positions, may_see).await? {
            Some((l, part, details)) if may_see(&l, part) => (l, details),
            _ => return Err(not_found()),
        };
    if is_secret(&l) {
        audit_secret_read(store, p, meta, &caller, id, "letter").await?;
    }
    // Read by the caller: a read time on an inbox or copy entry of a position
    // the caller holds (the view's receipts are those entries).
    let mut v = view_with(store, l, false, details, true).await?;
    let readers = if acting.is_empty() {
        caller.held_ids()
    } else {
        positions
    };
    v.read = v.receipts.keys().any(|pid| readers.contains(pid));
    Ok(v)
}

/// The positions a read goes through: `acting` alone when set (it must be
/// one the caller holds or serves now), else all the caller's.
fn positions_as(caller: &Caller, acting: &str) -> Result<Vec<String>> {
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

/// The creator's view of a letter its transaction created, once committed:
/// what [`get`] answers then, built from the rows written instead of read back
/// (a new letter has no route, no read receipts and no attachments yet). A
/// secret letter's view is read with [`get`], which records that read.
pub async fn view_of_created(
    store: &Store,
    p: &Principal,
    meta: &RequestMeta,
    c: Created,
) -> Result<LetterView> {
    if is_secret(&c.letter) {
        return get(store, p, meta, &c.letter.id).await;
    }
    let details = q::LetterDetails {
        addressees: c.addressees,
        ..Default::default()
    }
    .sorted();
    view_with(store, c.letter, false, details, true).await
}

/// A page of one folder; with `full`, each letter's route, addressees, read
/// receipts and attachments too (read with the page, one more statement).
#[allow(clippy::too_many_arguments)]
pub async fn list(
    store: &Store,
    p: &Principal,
    f: i16,
    position: &str,
    filter: q::BoxFilter,
    size: i32,
    token: &str,
    full: bool,
) -> Result<(Vec<LetterView>, String)> {
    let limit = page::page_size(size, 50, 200)?;
    let caller = Caller::cached(store, p).await?;
    let positions = positions_as(&caller, position)?;
    let types: Vec<String> = filter.types.iter().map(|t| t.to_string()).collect();
    let fp = page::fingerprint(&[
        "letters",
        &f.to_string(),
        position,
        &types.join(","),
        &filter
            .urgencies
            .iter()
            .map(|u| u.to_string())
            .collect::<Vec<_>>()
            .join(","),
        &filter.query,
        if filter.unread_only { "1" } else { "0" },
        &filter
            .created_from_us
            .map(|v| v.to_string())
            .unwrap_or_default(),
        &filter
            .created_to_us
            .map(|v| v.to_string())
            .unwrap_or_default(),
    ]);
    let after = page::decode_time_key(token, &fp)?;
    let shown = if full {
        usize::try_from(limit).unwrap_or(usize::MAX)
    } else {
        0
    };
    let (mut rows, details) =
        q::list_box(store, &positions, f, &filter, after, limit + 1, shown).await?;
    let next = page::next_token(&mut rows, limit, |r| {
        page::encode(&fp, &format!("{}:{}", r.sort_us, r.letter.id))
    });
    let out = views_with(
        store,
        rows.into_iter()
            .map(|r| (r.letter, r.read_at_us.is_some()))
            .collect(),
        details,
        false,
    )
    .await?;
    Ok((out, next))
}

/// Versions of a letter the caller may see.
pub async fn versions(
    store: &Store,
    p: &Principal,
    meta: &RequestMeta,
    id: &str,
    size: i32,
    token: &str,
) -> Result<(Vec<q::VersionRecord>, String)> {
    let limit = page::page_size(size, 50, 200)?;
    let db = store;
    read_content(store, p, meta, id, "versions").await?;
    let fp = page::fingerprint(&["versions", id]);
    let after = page::decode(token, &fp)?
        .map(|k| k.parse::<i32>().unwrap_or(i32::MAX))
        .unwrap_or(0);
    let mut rows = q::versions(db, id, after, limit + 1).await?;
    let next = page::next_token(&mut rows, limit, |v| {
        page::encode(&fp, &v.version.to_string())
    });
    Ok((rows, next))
}

/// Comments of a letter the caller may see.
pub async fn comments(
    store: &Store,
    p: &Principal,
    meta: &RequestMeta,
    id: &str,
    size: i32,
    token: &str,
) -> Result<(Vec<q::CommentRecord>, String)> {
    let limit = page::page_size(size, 50, 200)?;
    let db = store;
    read_content(store, p, meta, id, "comments").await?;
    let fp = page::fingerprint(&["comments", id]);
    let after = page::decode_time_key(token, &fp)?;
    let mut rows = q::comments(db, id, after, limit + 1).await?;
    let next = page::next_token(&mut rows, limit, |c| {
        page::encode(&fp, &format!("{}:{}", c.created_at_us, c.id))
    });
    Ok((rows, next))
}

/// The signed artefact: (manifest, CMS DER, signer certificate DER, CA certificate DER, code).
pub async fn signed_document(
    store: &Store,
    p: &Principal,
    meta: &RequestMeta,
    id: &str,
) -> Result<(Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>, String)> {
    let db = store;
    let l = read_content(store, p, meta, id, "signed document").await?;
    if l.state == state::DESTROYED {
        return Err(Error::rejected(
            Reason::ContentDestroyed,
            "the signed document was destroyed under an approved disposal; its hash remains",
        ));
    }
    let sig = q::signature(db, id)
        .await?
        .ok_or_else(|| Error::rejected(Reason::NotSigned, "the letter is not signed"))?;
    let key = signq::key_by_serial_any(db, &sig.cert_serial)
        .await?
        .ok_or_else(|| Error::Internal("signing key vanished".into()))?;
    let ca = signq::agency_ca(db, &p.agency_id)
        .await?
        .map(|c| c.0)
        .unwrap_or_default();
    Ok((
        sig.manifest,
        sig.signature,
        key.cert_der,
        ca,
        sig.verification_code,
    ))
}
