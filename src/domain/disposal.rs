//! Disposal (penyusutan): proposals of due case files, approval by two different
//! approvers, and execution — destruction with a residual record and a signed
//! berita acara, or transfer of permanent records after their archival export.

use super::lifecycle::{CaseFileEvent, CaseFileState, LetterState, ProposalEvent, ProposalState};
use crate::store::Db;
use sha2::{Digest, Sha256};

use super::context::{Ctx, check_etag, etag};
use super::letters::{self as letters, DraftInput, Target};
use super::records::not_found as case_file_not_found;
use crate::error::{Error, Reason, Result};
use crate::proto::{DueKind, FinalDisposition, LetterType, SecurityLevel};
use crate::store::disposal::{self as q, ApprovalRecord, DestroyedRecord, ProposalRecord};
use crate::store::records::{self as rq, CaseFileRecord};
use crate::store::{
    Store, WriteTx, attachments as aq, dispositions as dq, letters as lq, org as orgq,
    setup as setupq, signing as signq,
};

/// Subject of every berita acara of destruction.
pub const BERITA_ACARA_SUBJECT: &str = "Berita Acara Pemusnahan Arsip";

/// A proposal with its case files and approvals.
#[derive(Clone, Debug)]
pub struct ProposalView {
    pub p: ProposalRecord,
    pub case_file_ids: Vec<String>,
    pub approvals: Vec<ApprovalRecord>,
}

impl ProposalView {
    /// Positions whose approval the proposal needs.
    pub fn required(&self) -> Vec<String> {
        split_ids(&self.p.required_position_ids)
    }
}

fn split_ids(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn proposal_not_found() -> Error {
    Error::rejected(Reason::ProposalNotFound, "disposal proposal not found")
}

/// The final disposition a kind of disposal applies to.
fn disposition_of(kind: DueKind) -> Result<FinalDisposition> {
    match kind {
        DueKind::Disposal => Ok(FinalDisposition::Musnah),
        DueKind::Transfer => Ok(FinalDisposition::Permanen),
        _ => Err(Error::invalid(
            "kind",
            "must be DUE_KIND_DISPOSAL or DUE_KIND_TRANSFER (re-appraisal is not a disposal)",
        )),
    }
}

/// Loads a proposal with its case files and approvals.
pub async fn load(db: &impl Db, agency: &str, id: &str) -> Result<ProposalView> {
    let p = q::get(db, agency, id)
        .await?
        .ok_or_else(proposal_not_found)?;
    Ok(ProposalView {
        case_file_ids: q::items(db, &p.id).await?,
        approvals: q::approvals(db, &p.id).await?,
        p,
    })
}

/// Reads a proposal's row (without its case files and approvals).
pub async fn proposal(store: &Store, agency: &str, id: &str) -> Result<ProposalRecord> {
    q::get(store, agency, id)
        .await?
        .ok_or_else(proposal_not_found)
}

/// True when a hold covers the case file or any letter filed in it.
async fn held(tx: &WriteTx, case_file_id: &str) -> Result<bool> {
    Ok(rq::case_file_or_letters_held(tx, case_file_id).await?)
}

/// The head position of a unit: the unit's own head, else the nearest ancestor's.
fn head_of(
    unit_id: &str,
    units: &[orgq::UnitRecord],
    positions: &[orgq::PositionRecord],
) -> Option<String> {
    let mut unit = Some(unit_id.to_owned());
    let mut steps = 0;
    while let Some(u) = unit {
        if let Some(p) = positions.iter().find(|p| p.unit_id == u && p.is_unit_head) {
            return Some(p.id.clone());
        }
        unit = units
            .iter()
            .find(|x| x.id == u)
            .and_then(|x| x.parent_unit_id.clone());
        steps += 1;
        if steps > units.len() {
            break;
        }
    }
    None
}

/// Positions whose approval a proposal of these case files needs: the configured
/// approvers, or else the head of the records unit and the head of each case file's
/// unit (when they are the same position, its superior as the second approver).
async fn required_approvers(
    tx: &WriteTx,
    agency: &str,
    proposer_unit: &str,
    files: &[CaseFileRecord],
) -> Result<Vec<String>> {
    let setting = q::setting(tx, agency).await?;
    if let Some(s) = &setting {
        let configured = split_ids(&s.approver_position_ids);
        if !configured.is_empty() {
            return Ok(configured);
        }
    }
    let records_unit = setting
        .map(|s| s.records_unit_id)
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| proposer_unit.to_owned());
    let units = orgq::all_units(tx, agency).await?;
    let positions = orgq::all_positions(tx, agency).await?;
    let no_head = |unit: &str| {
        Error::rejected(
            Reason::InvalidState,
            format!(
                "unit {unit} and its parents have no head position; configure the disposal approvers"
            ),
        )
    };
    let records_head =
        head_of(&records_unit, &units, &positions).ok_or_else(|| no_head(&records_unit))?;
    let mut out = vec![records_head.clone()];
    for f in files {
        let h = head_of(&f.unit_id, &units, &positions).ok_or_else(|| no_head(&f.unit_id))?;
        if !out.contains(&h) {
            out.push(h);
        }
    }
    if out.len() < 2 {
        let superior = positions
            .iter()
            .find(|p| p.id == records_head)
            .and_then(|p| p.superior_position_id.clone())
            .ok_or_else(|| {
                Error::rejected(
                    Reason::InvalidState,
                    "a second approver is needed but the records unit's head has no superior; configure the disposal approvers",
                )
            })?;
        out.push(superior);
    }
    Ok(out)
}

/// Proposes the disposal of due case files.
pub async fn propose(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    kind: DueKind,
    case_file_ids: &[String],
) -> Result<ProposalView> {
    let fd = disposition_of(kind)?;
    let agency = ctx.agency();
    let caller = letters::Caller::in_tx(tx, ctx.principal).await?;
    let held_pos = caller.held.first().cloned().ok_or_else(|| {
        Error::rejected(
            Reason::NotPositionHolder,
            "a disposal is proposed from a position; you hold none now",
        )
    })?;
    let now = tx.now_us();
    let mut ids: Vec<String> = case_file_ids.to_vec();
    ids.sort();
    ids.dedup();
    let mut files = Vec::new();
    for id in &ids {
        let c = rq::get(&*tx, agency, id)
            .await?
            .ok_or_else(case_file_not_found)?;
        if c.state != CaseFileState::Closed
            || i32::from(c.final_disposition) != fd as i32
            || c.inactive_until_us.is_none_or(|t| t > now)
        {
            return Err(Error::rejected(
                Reason::NotDue,
                format!("case file {id} is not due for this disposal"),
            ));
        }
        if held(tx, id).await? {
            return Err(Error::rejected(
                Reason::LegalHold,
                format!("case file {id} or one of its letters is on legal hold"),
            ));
        }
        if let Some(other) = q::pending_for(&*tx, id).await? {
            return Err(Error::rejected(
                Reason::AlreadyProposed,
                format!("case file {id} is already in proposal {other}"),
            ));
        }
        files.push(c);
    }
    let required = required_approvers(tx, agency, &held_pos.unit_id, &files).await?;
    let p = ProposalRecord {
        id: uuid::Uuid::new_v4().to_string(),
        agency_id: agency.to_owned(),
        kind: kind as i16,
        state: ProposalState::Proposed,
        required_position_ids: required.join(","),
        proposed_by_user_id: ctx.principal.user_id.clone(),
        proposed_by_position_id: held_pos.position_id.clone(),
        propose_at_us: now,
        executed_by_user_id: String::new(),
        execute_at_us: None,
        berita_acara_letter_id: String::new(),
        revision: 1,
    };
    q::insert(&*tx, &p, &ids).await?;
    let mut ev = ctx.event(
        "disposal_proposal",
        &p.id,
        format!(
            "{} of {} case file(s) proposed; {} approval(s) needed",
            if kind == DueKind::Disposal {
                "destruction"
            } else {
                "transfer"
            },
            ids.len(),
            required.len()
        ),
    );
    ev.actor_position_id = held_pos.position_id;
    tx.audit(ev);
    Ok(ProposalView {
        p,
        case_file_ids: ids,
        approvals: Vec::new(),
    })
}

/// Approves a proposal for one of the required positions the caller holds.
pub async fn approve(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    id: &str,
    position_id: &str,
    etag_sent: &str,
) -> Result<ProposalView> {
    let mut v = load(&*tx, ctx.agency(), id).await?;
    check_etag(etag_sent, v.p.revision)?;
    let approved = v.p.state.on(ProposalEvent::Approve)?;
    let caller = letters::Caller::in_tx(tx, ctx.principal).await?;
    let required = v.required();
    if caller.holding(position_id).is_none() || !required.iter().any(|r| r == position_id) {
        return Err(Error::rejected(
            Reason::NotAnApprover,
            "you do not hold a position whose approval this proposal needs",
        ));
    }
    if v.approvals.iter().any(|a| a.position_id == position_id) {
        return Err(Error::rejected(
            Reason::AlreadyApproved,
            "this position already approved the proposal",
        ));
    }
    if v.approvals
        .iter()
        .any(|a| a.user_id == ctx.principal.user_id)
    {
        return Err(Error::rejected(
            Reason::AlreadyApproved,
            "you already approved this proposal; a different approver is needed",
        ));
    }
    let a = ApprovalRecord {
        proposal_id: id.to_owned(),
        position_id: position_id.to_owned(),
        user_id: ctx.principal.user_id.clone(),
        approve_at_us: tx.now_us(),
    };
    q::insert_approval(&*tx, &a).await?;
    v.approvals.push(a);
    let complete = required
        .iter()
        .all(|r| v.approvals.iter().any(|a| &a.position_id == r));
    let expected = v.p.revision;
    v.p.revision += 1;
    if complete {
        v.p.state = approved;
    }
    if !q::save(&*tx, &v.p, expected).await? {
        return Err(Error::rejected(
            Reason::EtagMismatch,
            "the proposal changed since it was read",
        ));
    }
    let mut ev = ctx.event(
        "disposal_proposal",
        id,
        format!(
            "approved ({} of {}){}",
            v.approvals.len(),
            required.len(),
            if complete { "; proposal approved" } else { "" }
        ),
    );
    ev.actor_position_id = position_id.to_owned();
    tx.audit(ev);
    Ok(v)
}

/// The step after a destruction's commit: removes the content files of the
/// letters it destroyed that no letter still holding content shares (a
/// rolled-back destruction keeps them all). Each file is checked again when
/// its turn comes, so running it again, as a retry of the request does,
/// finishes a purge that was interrupted.
pub async fn purge_destroyed(
    store: &Store,
    blobs: &crate::store::blobs::Blobs,
    proposal_id: &str,
) -> Result<()> {
    for sha in q::destroyed_blobs(store, proposal_id).await? {
        if !q::blob_in_use(store, &sha).await? {
            blobs
                .remove(&sha)
                .await
                .map_err(|e| Error::Internal(format!("removing blob {sha}: {e}")))?;
        }
    }
    Ok(())
}

/// An unlocked signing key for the berita acara.
pub struct BeritaAcaraSigner<'a> {
    pub key: &'a p256::ecdsa::SigningKey,
    pub record: &'a signq::KeyRecord,
}

/// Executes an approved proposal. Destruction needs the caller's unlocked key
/// (the berita acara is signed through the normal signing path).
pub async fn execute(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    id: &str,
    etag_sent: &str,
    signer: Option<BeritaAcaraSigner<'_>>,
) -> Result<ProposalView> {
    let agency = ctx.agency();
    let mut v = load(&*tx, agency, id).await?;
    check_etag(etag_sent, v.p.revision)?;
    let executed = v.p.state.on(ProposalEvent::Execute)?;
    let mut files = Vec::new();
    for cf in &v.case_file_ids {
        if held(tx, cf).await? {
            return Err(Error::rejected(
                Reason::LegalHold,
                format!("case file {cf} or one of its letters is on legal hold"),
            ));
        }
        files.push(
            rq::get(&*tx, agency, cf)
                .await?
                .ok_or_else(case_file_not_found)?,
        );
    }
    let now = tx.now_us();
    let kind = DueKind::try_from(i32::from(v.p.kind)).unwrap_or(DueKind::Unspecified);
    let event = if kind == DueKind::Disposal {
        let signer = signer.ok_or_else(|| {
            Error::invalid(
                "passphrase",
                "required to sign the berita acara of destruction",
            )
        })?;
        let mut destroyed = Vec::new();
        for f in &files {
            for letter_id in q::letters_of(&*tx, &f.id).await? {
                destroyed.push(destroy_letter(tx, ctx, &v.p.id, &f.id, &letter_id, now).await?);
            }
        }
        let ba = berita_acara(tx, ctx, &v, &files, &destroyed, signer).await?;
        v.p.berita_acara_letter_id = ba;
        CaseFileEvent::Destroy
    } else {
        for f in &files {
            if q::last_export(&*tx, &f.id).await?.is_none() {
                return Err(Error::rejected(
                    Reason::NotExported,
                    format!(
                        "case file {} has no archival package yet; export it (ExportCaseFile) first",
                        f.id
                    ),
                ));
            }
        }
        CaseFileEvent::Transfer
    };
    for mut f in files {
        let expected = f.revision;
        f.state = f.state.on(event)?;
        f.revision += 1;
        if !rq::save(&*tx, &f, expected).await? {
            return Err(Error::rejected(
                Reason::EtagMismatch,
                "a case file changed during the disposal",
            ));
        }
    }
    let expected = v.p.revision;
    v.p.state = executed;
    v.p.executed_by_user_id = ctx.principal.user_id.clone();
    v.p.execute_at_us = Some(now);
    v.p.revision += 1;
    if !q::save(&*tx, &v.p, expected).await? {
        return Err(Error::rejected(
            Reason::EtagMismatch,
            "the proposal changed since it was read",
        ));
    }
    let summary = if kind == DueKind::Disposal {
        format!(
            "executed: content of {} case file(s) destroyed; berita acara {}",
            v.case_file_ids.len(),
            v.p.berita_acara_letter_id
        )
    } else {
        format!(
            "executed: {} case file(s) transferred",
            v.case_file_ids.len()
        )
    };
    tx.audit(ctx.event("disposal_proposal", id, summary));
    Ok(v)
}

/// A letter whose content was destroyed: what the berita acara lists about it.
struct DestroyedLetter {
    case_file_id: String,
    letter_id: String,
    number: String,
    date: String,
    class: String,
    items: Vec<DestroyedRecord>,
}

/// Destroys one letter's content, recording each destroyed item with its hash.
async fn destroy_letter(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    proposal_id: &str,
    case_file_id: &str,
    letter_id: &str,
    now: i64,
) -> Result<DestroyedLetter> {
    let l = lq::letter(&*tx, ctx.agency(), letter_id)
        .await?
        .ok_or_else(|| Error::Internal(format!("filed letter {letter_id} vanished")))?;
    let mut done = DestroyedLetter {
        case_file_id: case_file_id.to_owned(),
        letter_id: letter_id.to_owned(),
        number: l.number.clone(),
        date: super::calendar::rfc3339(l.sign_time_us.unwrap_or(l.created_at_us)),
        class: l.classification_code.clone(),
        items: Vec::new(),
    };
    if l.state == LetterState::Destroyed {
        return Ok(done);
    }
    let item = |kind: &str, item_id: &str, sha256: String, size: usize| DestroyedRecord {
        letter_id: letter_id.to_owned(),
        kind: kind.to_owned(),
        item_id: item_id.to_owned(),
        proposal_id: proposal_id.to_owned(),
        sha256,
        size_bytes: size as i64,
        destroyed_at_us: now,
    };
    let mut out = vec![item("body", letter_id, l.body_sha256.clone(), l.body.len())];
    for ver in lq::versions(&*tx, letter_id, 0, 1_000_000).await? {
        out.push(item(
            "version",
            &ver.version.to_string(),
            ver.body_sha256.clone(),
            ver.body.len(),
        ));
    }
    for c in lq::comments(&*tx, letter_id, None, 1_000_000).await? {
        out.push(item(
            "comment",
            &c.id,
            sha256_hex(c.body.as_bytes()),
            c.body.len(),
        ));
    }
    for a in aq::list(&*tx, letter_id).await? {
        out.push(item(
            "attachment",
            &a.id,
            a.sha256.clone(),
            a.size_bytes as usize,
        ));
    }
    if let Some(s) = lq::signature(&*tx, letter_id).await? {
        out.push(item(
            "signed_manifest",
            letter_id,
            s.manifest_sha256.clone(),
            s.manifest.len(),
        ));
    }
    let dispositions = dq::of_letter(&*tx, letter_id).await?;
    let ids: Vec<String> = dispositions.iter().map(|d| d.id.clone()).collect();
    for d in dispositions.iter().filter(|d| !d.note.is_empty()) {
        out.push(item(
            "disposition_note",
            &d.id,
            sha256_hex(d.note.as_bytes()),
            d.note.len(),
        ));
    }
    for r in dq::responses_of(&*tx, &ids)
        .await?
        .into_iter()
        .filter(|r| !r.note.is_empty())
    {
        out.push(item(
            "response_note",
            &r.id,
            sha256_hex(r.note.as_bytes()),
            r.note.len(),
        ));
    }
    for d in &out {
        q::insert_destroyed(&*tx, d).await?;
    }
    q::clear_letter_content(&*tx, letter_id, now).await?;
    super::idempotency::forget_mentions(tx, letter_id).await?;
    tx.audit(ctx.event(
        "letter",
        letter_id,
        format!(
            "content destroyed under proposal {proposal_id}: {} item(s)",
            out.len()
        ),
    ));
    done.items = out;
    Ok(done)
}

/// The classification a berita acara is filed under: the configured one, else the
/// first PERMANEN classification of the scheme (it must outlive what it records),
/// else the first case file's.
async fn record_class(tx: &WriteTx, agency: &str, files: &[CaseFileRecord]) -> Result<String> {
    if let Some(s) = q::setting(tx, agency).await?
        && !s.record_class_code.is_empty()
    {
        return Ok(s.record_class_code);
    }
    let scheme = setupq::list_classifications(tx, agency, None, None, 100_000).await?;
    if let Some(c) = scheme
        .iter()
        .find(|c| c.final_disposition == FinalDisposition::Permanen as i16)
    {
        return Ok(c.code.clone());
    }
    Ok(files
        .first()
        .map(|f| f.classification_code.clone())
        .unwrap_or_default())
}

/// Writes and signs the berita acara of a destruction; returns its letter id.
async fn berita_acara(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    v: &ProposalView,
    files: &[CaseFileRecord],
    destroyed: &[DestroyedLetter],
    signer: BeritaAcaraSigner<'_>,
) -> Result<String> {
    let agency = ctx.agency();
    let caller = letters::Caller::in_tx(tx, ctx.principal).await?;
    let own = caller.held.first().cloned().ok_or_else(|| {
        Error::rejected(
            Reason::NotPositionHolder,
            "the berita acara is signed from a position; you hold none now",
        )
    })?;
    let approver_positions: Vec<String> =
        v.approvals.iter().map(|a| a.position_id.clone()).collect();
    let approver_users: Vec<String> = v.approvals.iter().map(|a| a.user_id.clone()).collect();
    let positions = orgq::positions_by_ids(&*tx, agency, &approver_positions).await?;
    let users = orgq::users_by_ids(&*tx, agency, &approver_users).await?;
    let mut body = String::new();
    body.push_str(&format!("# {BERITA_ACARA_SUBJECT}\n\n"));
    body.push_str(&format!(
        "Pada {} telah dimusnahkan isi arsip berikut berdasarkan usulan penyusutan `{}`, \
         dilaksanakan oleh {} selaku {}.\n\n## Persetujuan\n\n",
        super::calendar::rfc3339(tx.now_us()),
        v.p.id,
        ctx.principal.username,
        own.position_name
    ));
    for a in &v.approvals {
        let pos = positions
            .iter()
            .find(|p| p.id == a.position_id)
            .map(|p| p.name.as_str())
            .unwrap_or("-");
        let user = users
            .iter()
            .find(|u| u.id == a.user_id)
            .map(|u| u.full_name.as_str())
            .unwrap_or("-");
        body.push_str(&format!(
            "- {pos}: {user}, {}\n",
            super::calendar::rfc3339(a.approve_at_us)
        ));
    }
    body.push_str("\n## Daftar arsip yang dimusnahkan\n");
    for f in files {
        body.push_str(&format!(
            "\n### Berkas `{}` — {} (klasifikasi {})\n\n\
             | Naskah | Nomor | Tanggal | Klasifikasi | Unsur | Id | Ukuran | SHA-256 |\n\
             |---|---|---|---|---|---|---|---|\n",
            f.id, f.title, f.classification_code
        ));
        for l in destroyed.iter().filter(|l| l.case_file_id == f.id) {
            for d in &l.items {
                body.push_str(&format!(
                    "| `{}` | {} | {} | {} | {} | `{}` | {} | `{}` |\n",
                    l.letter_id,
                    l.number,
                    l.date,
                    l.class,
                    d.kind,
                    d.item_id,
                    d.size_bytes,
                    d.sha256
                ));
            }
        }
    }
    let class = record_class(tx, agency, files).await?;
    let recipients: Vec<Target> = v
        .required()
        .into_iter()
        .filter(|p| p != &own.position_id)
        .map(Target::Position)
        .collect();
    let recipients = if recipients.is_empty() {
        vec![Target::Position(own.position_id.clone())]
    } else {
        recipients
    };
    let l = letters::create_draft(
        tx,
        ctx,
        DraftInput {
            drafting_position_id: own.position_id.clone(),
            letter_type: LetterType::BeritaAcara,
            subject: BERITA_ACARA_SUBJECT.to_owned(),
            body,
            security: SecurityLevel::Biasa,
            urgency: 1,
            classification_code: class,
            recipients,
            carbon_copies: Vec::new(),
            reference_letter_id: String::new(),
        },
    )
    .await?
    .letter;
    let l = letters::set_route(tx, ctx, &l.id, &etag(l.revision), &[], &own.position_id).await?;
    let l = letters::submit(tx, ctx, &l.id, &etag(l.revision)).await?;
    let l = letters::sign(
        tx,
        ctx,
        &l.id,
        &etag(l.revision),
        signer.key,
        signer.record,
        None,
    )
    .await?;
    Ok(l.id)
}

/// The agency's records settings as given on the command line.
#[derive(Clone, Debug, Default)]
pub struct RecordsSettings {
    /// Code of the records unit (unit kearsipan); empty: the proposer's unit.
    pub records_unit_code: String,
    /// Positions that must approve every disposal (at least two); empty: the heads.
    pub approver_position_ids: Vec<String>,
    /// Classification for berita acara letters; empty: the first PERMANEN one.
    pub record_class_code: String,
}

/// Sets who approves disposals and where berita acara are filed (in `tx`).
pub async fn configure_in(tx: &mut WriteTx, agency: &str, s: &RecordsSettings) -> Result<()> {
    let mut unit_id = String::new();
    if !s.records_unit_code.is_empty() {
        unit_id = orgq::unit_by_code(&*tx, agency, &s.records_unit_code)
            .await?
            .ok_or_else(|| {
                Error::invalid(
                    "records_unit",
                    format!("no unit with code {}", s.records_unit_code),
                )
            })?
            .id;
    }
    let mut ids = s.approver_position_ids.clone();
    ids.sort();
    ids.dedup();
    if ids.len() == 1 {
        return Err(Error::invalid(
            "approvers",
            "name at least two different positions (or none for the default rule)",
        ));
    }
    for id in &ids {
        orgq::position(&*tx, agency, id).await?.ok_or_else(|| {
            Error::invalid("approvers", format!("no position {id} in the agency"))
        })?;
    }
    if !s.record_class_code.is_empty()
        && setupq::classification(&*tx, agency, &s.record_class_code)
            .await?
            .is_none()
    {
        return Err(Error::invalid(
            "record_class",
            format!(
                "classification {} is not in the scheme",
                s.record_class_code
            ),
        ));
    }
    q::put_setting(
        &*tx,
        &q::SettingRecord {
            agency_id: agency.to_owned(),
            records_unit_id: unit_id,
            approver_position_ids: ids.join(","),
            record_class_code: s.record_class_code.clone(),
            updated_at_us: tx.now_us(),
        },
    )
    .await?;
    let mut ev = crate::audit::NewEvent::success("system/agency-set-records", "agency", agency);
    ev.agency_id = agency.to_owned();
    ev.summary = format!(
        "records settings: records unit {:?}, {} configured approver(s), berita acara class {:?}",
        s.records_unit_code,
        ids.len(),
        s.record_class_code
    );
    tx.audit(ev);
    Ok(())
}

/// Sets the records settings of the agency with this code.
pub async fn configure(store: &Store, agency_code: &str, s: &RecordsSettings) -> Result<()> {
    let mut tx = store.begin_write().await?;
    let agency = crate::store::identity::agency_id_by_code(&tx, agency_code)
        .await?
        .ok_or_else(|| Error::invalid("agency", format!("no agency with code {agency_code}")))?;
    configure_in(&mut tx, &agency, s).await?;
    tx.commit().await?;
    Ok(())
}
