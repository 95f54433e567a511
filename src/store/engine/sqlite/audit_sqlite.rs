//! Verifying the audit chain of a SQLite database file directly through SQLite's
//! own API: rows are stepped in place and their text hashed without copying,
//! ranges of the chain are checked by one thread per CPU, each on its own
//! read-only connection. sea-orm's driver hands every row (or one JSON value per
//! range) across threads and copies it, which cost four times the hashing.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

use rusqlite::types::ValueRef;

use crate::audit::{Broken, RangeReport, RangeVerifier};
use crate::store::audit::{SNAPSHOT_SQL, VERIFY_FIELDS, VerifyReport, ranges, report};
use crate::store::{StoreError, StoreResult};

fn db_err(e: rusqlite::Error) -> StoreError {
    StoreError::from(crate::store::engine::error::from_rusqlite(
        e,
        "audit verify",
    ))
}

/// Bytes of text column `i`, or `None` when it is not text. The hash covers the
/// bytes, so they are not checked for UTF-8 here.
fn text<'r>(row: &'r rusqlite::Row<'_>, i: usize) -> Option<&'r [u8]> {
    match row.get_ref(i).ok()? {
        ValueRef::Text(t) => Some(t),
        _ => None,
    }
}

fn check(stmt: &mut rusqlite::Statement<'_>, start: i64, end: i64) -> StoreResult<RangeReport> {
    let mut v = RangeVerifier::new(start, end);
    let mut rows = stmt.query([start, end]).map_err(db_err)?;
    while let Some(row) = rows.next().map_err(db_err)? {
        let seq: i64 = row.get(0).map_err(db_err)?;
        let time: Option<i64> = row.get(1).ok();
        let outcome = row
            .get::<_, i64>(2)
            .ok()
            .and_then(|o| i16::try_from(o).ok());
        let mut fields: [&[u8]; 10] = [b""; 10];
        let mut readable = time.is_some() && outcome.is_some();
        for (k, f) in fields.iter_mut().enumerate() {
            match text(row, 3 + k) {
                Some(t) => *f = t,
                None => readable = false,
            }
        }
        let fed = match (readable, time, outcome, text(row, 13), text(row, 14)) {
            (true, Some(t), Some(o), Some(p), Some(h)) => v.feed(seq, t, o, fields, p, h),
            _ => Err(Broken {
                seq,
                problem: "a field is not of its type: the event's content was altered".to_owned(),
            }),
        };
        if let Err(b) = fed {
            return Ok(v.finish(Some(b)));
        }
    }
    Ok(v.finish(None))
}

/// Verifies the chain in the SQLite database at `path`, `batch` seqs per range.
pub fn verify_file(path: &Path, batch: u64) -> StoreResult<VerifyReport> {
    let first = super::reads::open_read_only(path)?;
    // The head and the newest seq in one statement: one snapshot. Later appends
    // are past `max` and are left for the next run.
    let (head_seq, head_hash, max): (i64, String, Option<i64>) = first
        .query_row(SNAPSHOT_SQL, [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(db_err)?;
    drop(first);
    let all = ranges(max.unwrap_or(0), batch);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(all.len())
        .max(1);
    let next = AtomicUsize::new(0);
    // Seq of the earliest break found so far: ranges after it are not read.
    let earliest = AtomicI64::new(i64::MAX);
    let found: Mutex<Vec<RangeReport>> = Mutex::new(Vec::with_capacity(all.len()));
    let sql = format!(
        "SELECT {VERIFY_FIELDS} FROM audit_event WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq"
    );
    std::thread::scope(|scope| -> StoreResult<()> {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| -> StoreResult<()> {
                    let conn = super::reads::open_read_only(path)?;
                    let mut stmt = conn.prepare(&sql).map_err(db_err)?;
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&(start, end)) = all.get(i) else {
                            return Ok(());
                        };
                        if start > earliest.load(Ordering::Relaxed) {
                            return Ok(());
                        }
                        let r = check(&mut stmt, start, end)?;
                        if let Some(b) = &r.broken {
                            earliest.fetch_min(b.seq, Ordering::Relaxed);
                        }
                        found
                            .lock()
                            .map_err(|_| StoreError::Corrupt("verifier thread panicked".into()))?
                            .push(r);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join()
                .map_err(|_| StoreError::Corrupt("verifier thread panicked".into()))??;
        }
        Ok(())
    })?;
    let mut reports = found
        .into_inner()
        .map_err(|_| StoreError::Corrupt("verifier thread panicked".into()))?;
    reports.sort_unstable_by_key(|r| r.start);
    Ok(report(&reports, head_seq, &head_hash))
}
