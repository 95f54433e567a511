//! Records management: the classification scheme, case files (berkas), filing,
//! retention phases and legal holds.

use super::calendar::add_years;
use super::classification::{self as scheme, ImportSummary, is_within};
use super::context::{Ctx, check_etag};
use super::lifecycle::{CaseFileEvent, CaseFileState, LetterState};
use super::page;
use crate::auth::Principal;
use crate::error::{Error, Reason, Result};
use crate::proto::{FinalDisposition, RetentionPhase};
use crate::store::Db;
pub use crate::store::records::HoldRecord;
use crate::store::records::{self as q, CaseFileRecord};
use crate::store::{Store, WriteTx, letters as lq, org as orgq, setup as setupq};

/// The retention phase of a case file at `now`.
pub fn phase(c: &CaseFileRecord, now: i64) -> RetentionPhase {
    match (c.state, c.active_until_us, c.inactive_until_us) {
        (CaseFileState::Closed, Some(active), Some(inactive)) => {
            if now < active {
                RetentionPhase::Active
            } else if now < inactive {
                RetentionPhase::Inactive
            } else {
                match FinalDisposition::try_from(i32::from(c.final_disposition)) {
                    Ok(FinalDisposition::Permanen) => RetentionPhase::DueTransfer,
                    Ok(FinalDisposition::DinilaiKembali) => RetentionPhase::DueReappraisal,
                    _ => RetentionPhase::DueDisposal,
                }
            }
        }
        _ => RetentionPhase::Active,
    }
}

pub(crate) fn not_found() -> Error {
    Error::rejected(Reason::CaseFileNotFound, "case file not found")
}

/// Imports a classification scheme from CSV (all or nothing).
pub async fn import(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    csv: &str,
    dry_run: bool,
) -> Result<ImportSummary> {
    let summary = scheme::import(tx, ctx.agency(), csv, dry_run).await?;
    let verb = if dry_run {
        "checked (dry run)"
    } else {
        "imported"
    };
    tx.audit(ctx.event(
        "classification_scheme",
        ctx.agency(),
        format!(
            "classification scheme {verb}: {} new, {} updated",
            summary.created, summary.updated
        ),
    ));
    Ok(summary)
}

/// Lists classifications in code order.
pub async fn classifications(
    store: &Store,
    p: &Principal,
    root: &str,
    size: i32,
    token: &str,
) -> Result<(Vec<setupq::ClassificationRecord>, String)> {
    let limit = page::page_size(size, 100, 1000)?;
    let fp = page::fingerprint(&["classifications", root]);
    let after = page::decode(token, &fp)?;
    let root = (!root.is_empty()).then_some(root);
    let mut rows =
        setupq::list_classifications(store, &p.agency_id, root, after.as_deref(), limit + 1)
            .await?;
    let next = page::next_token(&mut rows, limit, |c| page::encode(&fp, &c.code));
    Ok((rows, next))
}

/// Opens a case file.
pub async fn create(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    code: &str,
    title: &str,
    unit_id: &str,
    description: &str,
) -> Result<CaseFileRecord> {
    let agency = ctx.agency();
    let class = setupq::classification(&*tx, agency, code)
        .await?
        .ok_or_else(|| {
            Error::rejected(
                Reason::ClassificationNotFound,
                format!("classification {code} is not in the scheme"),
            )
        })?;
    orgq::unit(&*tx, agency, unit_id)
        .await?
        .ok_or_else(|| Error::rejected(Reason::UnitNotFound, "unit not found"))?;
    let c = CaseFileRecord {
        id: uuid::Uuid::new_v4().to_string(),
        agency_id: agency.to_owned(),
        classification_code: code.to_owned(),
        title: title.to_owned(),
        description: description.to_owned(),
        unit_id: unit_id.to_owned(),
        state: CaseFileState::Open,
        open_at_us: tx.now_us(),
        close_at_us: None,
        active_until_us: None,
        inactive_until_us: None,
        final_disposition: class.final_disposition,
        revision: 1,
    };
    q::insert(&*tx, &c).await?;
    tx.audit(ctx.event("case_file", &c.id, format!("case file opened under {code}")));
    Ok(c)
}

/// Closes a case file; its retention dates follow from the scheme.
pub async fn close(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    id: &str,
    etag_sent: &str,
) -> Result<CaseFileRecord> {
    let mut c = q::get(&*tx, ctx.agency(), id)
        .await?
        .ok_or_else(not_found)?;
    check_etag(etag_sent, c.revision)?;
    let closed = c.state.on(CaseFileEvent::Close)?;
    let class = setupq::classification(&*tx, ctx.agency(), &c.classification_code)
        .await?
        .ok_or_else(|| {
            Error::rejected(
                Reason::ClassificationNotFound,
                "the case file's classification left the scheme",
            )
        })?;
    let now = tx.now_us();
    let active = add_years(now, class.active_years)?;
    c.state = closed;
    c.close_at_us = Some(now);
    c.active_until_us = Some(active);
    c.inactive_until_us = Some(add_years(active, class.inactive_years)?);
    c.final_disposition = class.final_disposition;
    let expected = c.revision;
    c.revision += 1;
    if !q::save(&*tx, &c, expected).await? {
        return Err(Error::rejected(
            Reason::EtagMismatch,
            "the case file changed since it was read",
        ));
    }
    tx.audit(ctx.event(
        "case_file",
        id,
        format!(
            "case file closed; active {} and inactive {} years",
            class.active_years, class.inactive_years
        ),
    ));
    Ok(c)
}

/// Files a sent or received letter into an open case file of its classification (or an ancestor).
pub async fn file_letter(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    id: &str,
    letter_id: &str,
) -> Result<CaseFileRecord> {
    let c = q::get(&*tx, ctx.agency(), id)
        .await?
        .ok_or_else(not_found)?;
    c.state.on(CaseFileEvent::File)?;
    let l = lq::letter(&*tx, ctx.agency(), letter_id)
        .await?
        .ok_or_else(|| Error::rejected(Reason::LetterNotFound, "letter not found"))?;
    if !matches!(l.state, LetterState::Sent | LetterState::Delivered) {
        return Err(Error::rejected(
            Reason::InvalidState,
            "only sent or received letters are filed",
        ));
    }
    if !is_within(&l.classification_code, &c.classification_code) {
        return Err(Error::rejected(
            Reason::ClassificationMismatch,
            format!(
                "letter classification {} is not under {}",
                l.classification_code, c.classification_code
            ),
        ));
    }
    if q::filed_in(&*tx, letter_id).await?.is_some() {
        return Err(Error::rejected(
            Reason::AlreadyFiled,
            "the letter is already in a case file",
        ));
    }
    q::file_letter(&*tx, ctx.agency(), id, letter_id, tx.now_us()).await?;
    tx.audit(ctx.event("case_file", id, format!("letter {letter_id} filed")));
    Ok(c)
}

/// A case file with what lists show about it.
#[derive(Clone, Debug)]
pub struct CaseFileView {
    pub c: CaseFileRecord,
    pub letters: u64,
    pub on_hold: bool,
}

/// Adds counts and hold status.
pub async fn view(db: &impl Db, c: CaseFileRecord) -> Result<CaseFileView> {
    Ok(CaseFileView {
        letters: q::letter_count(db, &c.id).await?,
        on_hold: q::case_file_held(db, &c.id).await?,
        c,
    })
}

/// Adds counts and hold status to a page of case files, in two statements.
async fn views(db: &impl Db, rows: Vec<CaseFileRecord>) -> Result<Vec<CaseFileView>> {
    let ids: Vec<String> = rows.iter().map(|c| c.id.clone()).collect();
    let counts = q::letter_counts(db, &ids).await?;
    let held = q::held_case_files(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|c| CaseFileView {
            letters: counts.get(&c.id).copied().unwrap_or(0),
            on_hold: held.contains(&c.id),
            c,
        })
        .collect())
}

/// Reads one case file.
pub async fn get(store: &Store, p: &Principal, id: &str) -> Result<CaseFileView> {
    let c = q::get(store, &p.agency_id, id)
        .await?
        .ok_or_else(not_found)?;
    view(store, c).await
}

/// Lists case files, newest first.
pub async fn list(
    store: &Store,
    p: &Principal,
    unit: &str,
    class_root: &str,
    states: &[i16],
    size: i32,
    token: &str,
) -> Result<(Vec<CaseFileView>, String)> {
    let limit = page::page_size(size, 50, 200)?;
    let st: Vec<String> = states.iter().map(|s| s.to_string()).collect();
    let fp = page::fingerprint(&["case_files", unit, class_root, &st.join(",")]);
    let after = page::decode_time_key(token, &fp)?;
    let mut rows = q::list(
        store,
        &p.agency_id,
        (!unit.is_empty()).then_some(unit),
        (!class_root.is_empty()).then_some(class_root),
        states,
        after,
        limit + 1,
    )
    .await?;
    let next = page::next_token(&mut rows, limit, |c| {
        page::encode(&fp, &format!("{}:{}", c.open_at_us, c.id))
    });
    Ok((views(store, rows).await?, next))
}

/// Case files due for `fd` as of `as_of`, not on hold, oldest first.
pub async fn due(
    store: &Store,
    p: &Principal,
    fd: FinalDisposition,
    as_of: i64,
    size: i32,
    token: &str,
) -> Result<(Vec<CaseFileView>, String)> {
    let limit = page::page_size(size, 50, 200)?;
    let fp = page::fingerprint(&["due", &(fd as i32).to_string(), &as_of.to_string()]);
    let mut after = page::decode_time_key(token, &fp)?;
    let mut out = Vec::new();
    // Held files are skipped; keep reading until the page is full or the list ends.
    loop {
        let rows = q::due(
            store,
            &p.agency_id,
            fd as i16,
            as_of,
            after.clone(),
            limit + 1,
        )
        .await?;
        let exhausted = rows.len() as u64 <= limit;
        for v in views(store, rows).await? {
            let key = (v.c.inactive_until_us.unwrap_or(0), v.c.id.clone());
            if out.len() as u64 == limit {
                let next = out
                    .last()
                    .map(|v: &CaseFileView| {
                        page::encode(
                            &fp,
                            &format!("{}:{}", v.c.inactive_until_us.unwrap_or(0), v.c.id),
                        )
                    })
                    .unwrap_or_default();
                return Ok((out, next));
            }
            after = Some(key);
            if !v.on_hold {
                out.push(v);
            }
        }
        if exhausted {
            break;
        }
    }
    Ok((out, String::new()))
}

/// Places a legal hold on a case file or a letter.
pub async fn place_hold(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    case_file_id: &str,
    letter_id: &str,
    reason: &str,
    authority: &str,
) -> Result<HoldRecord> {
    let agency = ctx.agency();
    if !case_file_id.is_empty() {
        q::get(&*tx, agency, case_file_id)
            .await?
            .ok_or_else(not_found)?;
    } else {
        lq::letter(&*tx, agency, letter_id)
            .await?
            .ok_or_else(|| Error::rejected(Reason::LetterNotFound, "letter not found"))?;
    }
    let h = HoldRecord {
        id: uuid::Uuid::new_v4().to_string(),
        agency_id: agency.to_owned(),
        case_file_id: case_file_id.to_owned(),
        letter_id: letter_id.to_owned(),
        reason: reason.to_owned(),
        authority: authority.to_owned(),
        placed_by_user_id: ctx.principal.user_id.clone(),
        placed_at_us: tx.now_us(),
        released_by_user_id: String::new(),
        released_at_us: None,
    };
    q::insert_hold(&*tx, &h).await?;
    let (rtype, rid) = if case_file_id.is_empty() {
        ("letter", letter_id)
    } else {
        ("case_file", case_file_id)
    };
    tx.audit(ctx.event(rtype, rid, format!("legal hold {} placed", h.id)));
    Ok(h)
}

/// Releases a legal hold.
pub async fn release_hold(tx: &mut WriteTx, ctx: Ctx<'_>, id: &str) -> Result<HoldRecord> {
    let mut h = q::hold(&*tx, ctx.agency(), id)
        .await?
        .ok_or_else(|| Error::rejected(Reason::HoldNotFound, "hold not found"))?;
    if h.released_at_us.is_some() {
        return Err(Error::rejected(
            Reason::HoldReleased,
            "the hold was already released",
        ));
    }
    h.released_at_us = Some(tx.now_us());
    h.released_by_user_id = ctx.principal.user_id.clone();
    q::save_hold(&*tx, &h).await?;
    let (rtype, rid) = if h.case_file_id.is_empty() {
        ("letter", h.letter_id.clone())
    } else {
        ("case_file", h.case_file_id.clone())
    };
    tx.audit(ctx.event(rtype, &rid, format!("legal hold {id} released")));
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closed(close: i64, active: i32, inactive: i32, fd: FinalDisposition) -> CaseFileRecord {
        let a = add_years(close, active).expect("years");
        CaseFileRecord {
            id: "c".into(),
            agency_id: "a".into(),
            classification_code: "000".into(),
            title: String::new(),
            description: String::new(),
            unit_id: String::new(),
            state: CaseFileState::Closed,
            open_at_us: close,
            close_at_us: Some(close),
            active_until_us: Some(a),
            inactive_until_us: Some(add_years(a, inactive).expect("years")),
            final_disposition: fd as i16,
            revision: 1,
        }
    }

    #[test]
    fn phases_change_exactly_at_the_boundaries() {
        let t0 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z
        let c = closed(t0, 2, 3, FinalDisposition::Musnah);
        let active_until = c.active_until_us.unwrap_or_default();
        let inactive_until = c.inactive_until_us.unwrap_or_default();
        assert_eq!(phase(&c, active_until - 1), RetentionPhase::Active);
        assert_eq!(phase(&c, active_until), RetentionPhase::Inactive);
        assert_eq!(phase(&c, inactive_until - 1), RetentionPhase::Inactive);
        assert_eq!(phase(&c, inactive_until), RetentionPhase::DueDisposal);
        assert_eq!(
            phase(&closed(t0, 0, 0, FinalDisposition::Permanen), t0),
            RetentionPhase::DueTransfer
        );
        assert_eq!(
            phase(&closed(t0, 0, 0, FinalDisposition::DinilaiKembali), t0),
            RetentionPhase::DueReappraisal
        );
    }
}
