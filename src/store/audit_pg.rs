//! Verifying the audit chain on PostgreSQL: plain rows streamed by the driver
//! (no JSON built by the server, which cost the server four times the client's
//! hashing), each range on its own connection and task so that decoding and
//! hashing run on every core while the server sends the next rows.

use futures::{StreamExt, TryStreamExt};
use sea_orm::sqlx::{self, PgPool, Row};

use super::audit::{SNAPSHOT_SQL, VERIFY_FIELDS, VerifyReport, ranges, report};
use super::{StoreError, StoreResult};
use crate::audit::{RangeReport, RangeVerifier};

fn db_err(e: sqlx::Error) -> StoreError {
    StoreError::Db(sea_orm::DbErr::Custom(format!("audit verify: {e}")))
}

/// The bytes of a text column (the schema makes every one NOT NULL).
fn bytes(row: &sqlx::postgres::PgRow, i: usize) -> StoreResult<&[u8]> {
    let raw = row.try_get_raw(i).map_err(db_err)?;
    if sqlx::ValueRef::is_null(&raw) {
        return Err(StoreError::Corrupt(format!(
            "audit verify: column {i} of an event is NULL"
        )));
    }
    raw.as_bytes()
        .map_err(|e| StoreError::Corrupt(format!("audit verify: {e}")))
}

async fn check(pool: PgPool, sql: String, start: i64, end: i64) -> StoreResult<RangeReport> {
    let mut v = RangeVerifier::new(start, end);
    // Built from constants only.
    let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(start)
        .bind(end)
        .fetch(&pool);
    while let Some(row) = rows.try_next().await.map_err(db_err)? {
        // Columns are read by position without the driver's per-value type
        // checks (the statement fixes their types); text is hashed as bytes.
        let mut fields: [&[u8]; 10] = [b""; 10];
        for (k, f) in fields.iter_mut().enumerate() {
            *f = bytes(&row, 3 + k)?;
        }
        let fed = v.feed(
            row.try_get_unchecked(0).map_err(db_err)?,
            row.try_get_unchecked(1).map_err(db_err)?,
            row.try_get_unchecked(2).map_err(db_err)?,
            fields,
            bytes(&row, 13)?,
            bytes(&row, 14)?,
        );
        if let Err(b) = fed {
            return Ok(v.finish(Some(b)));
        }
    }
    Ok(v.finish(None))
}

/// Verifies the chain, `batch` seqs per range, as many ranges in flight as CPUs.
pub async fn verify(pool: &PgPool, batch: u64) -> StoreResult<VerifyReport> {
    let row = sqlx::query(SNAPSHOT_SQL)
        .fetch_one(pool)
        .await
        .map_err(db_err)?;
    let head_seq: i64 = row.try_get(0).map_err(db_err)?;
    let head_hash: String = row.try_get(1).map_err(db_err)?;
    let max: Option<i64> = row.try_get(2).map_err(db_err)?;
    let sql = format!(
        "SELECT {VERIFY_FIELDS} FROM audit_event WHERE seq >= $1 AND seq <= $2 ORDER BY seq"
    );
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let mut pending = futures::stream::iter(ranges(max.unwrap_or(0), batch))
        .map(|(start, end)| tokio::spawn(check(pool.clone(), sql.clone(), start, end)))
        .buffered(workers);
    let mut reports = Vec::new();
    while let Some(r) = pending.next().await {
        let r = r.map_err(|e| StoreError::Corrupt(format!("audit verify task: {e}")))??;
        let stop = r.broken.is_some();
        reports.push(r);
        if stop {
            break;
        }
    }
    Ok(report(&reports, head_seq, &head_hash))
}
