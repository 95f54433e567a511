//! Verifying the audit chain on PostgreSQL: each range is one `COPY … TO
//! STDOUT` in PostgreSQL's binary format, parsed here without building a row
//! per event (no JSON built by the server, which cost the server four times
//! the client's hashing; no driver row per event, whose decoding was most of
//! the verifier's own time beside the hashing), each range on its own
//! connection and task so that parsing and hashing run on every core while
//! the server sends the next rows.

use futures::{StreamExt, TryStreamExt};
use sea_orm::sqlx::{self, PgPool, Row};

use crate::audit::{Broken, RangeReport, RangeVerifier};
use crate::store::audit::{SNAPSHOT_SQL, VERIFY_FIELDS, VerifyReport, ranges, report};
use crate::store::{StoreError, StoreResult};

fn db_err(e: sqlx::Error) -> StoreError {
    StoreError::from(crate::store::engine::error::from_sqlx(e))
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("audit verify: {what}"))
}

/// The signature that opens a binary COPY.
const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

/// The columns of [`VERIFY_FIELDS`].
const COLUMNS: usize = 15;

/// One item of a binary COPY.
#[derive(Debug, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "made and taken apart once per event on the stack; a box would allocate per event"
)]
enum Item<'a> {
    /// A row's fields (none of them NULL).
    Row([&'a [u8]; COLUMNS]),
    /// The trailer that ends the data.
    End,
}

fn be<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at + N)?.try_into().ok()
}

/// The length of the binary COPY header at the start of `b`, `None` when `b`
/// does not hold all of it yet.
fn header(b: &[u8]) -> StoreResult<Option<usize>> {
    let (Some(sig), Some(ext)) = (b.get(..SIGNATURE.len()), be::<4>(b, 15)) else {
        return Ok(None);
    };
    if sig != SIGNATURE {
        return Err(corrupt("the server's COPY data has no binary header"));
    }
    let len = 19 + u32::from_be_bytes(ext) as usize;
    Ok((b.len() >= len).then_some(len))
}

/// The item at the start of `b` and its length, `None` when `b` does not hold
/// all of it yet.
fn item(b: &[u8]) -> StoreResult<Option<(Item<'_>, usize)>> {
    let Some(n) = be::<2>(b, 0).map(i16::from_be_bytes) else {
        return Ok(None);
    };
    if n == -1 {
        return Ok(Some((Item::End, 2)));
    }
    if n != COLUMNS as i16 {
        return Err(corrupt(&format!("a COPY row has {n} fields")));
    }
    let mut fields: [&[u8]; COLUMNS] = [&[]; COLUMNS];
    let mut at = 2;
    for (k, f) in fields.iter_mut().enumerate() {
        let Some(len) = be::<4>(b, at).map(i32::from_be_bytes) else {
            return Ok(None);
        };
        at += 4;
        // The schema makes every column NOT NULL.
        let len = usize::try_from(len)
            .map_err(|_| corrupt(&format!("column {k} of an event is NULL")))?;
        let Some(v) = b.get(at..at + len) else {
            return Ok(None);
        };
        *f = v;
        at += len;
    }
    Ok(Some((Item::Row(fields), at)))
}

fn int<const N: usize>(f: &[u8], k: usize) -> StoreResult<[u8; N]> {
    f.try_into()
        .map_err(|_| corrupt(&format!("column {k} of an event is {} bytes long", f.len())))
}

/// Where the parse of one range stands.
#[derive(Default)]
struct Parse {
    header: bool,
    ended: bool,
    broken: Option<Broken>,
}

impl Parse {
    /// Feeds the items wholly inside `b` to `v`; returns how many bytes they
    /// took (the rest waits for the next chunk).
    fn feed(&mut self, b: &[u8], v: &mut RangeVerifier) -> StoreResult<usize> {
        let mut at = 0;
        if !self.header {
            match header(b)? {
                Some(n) => {
                    at = n;
                    self.header = true;
                }
                None => return Ok(0),
            }
        }
        while !self.ended && self.broken.is_none() {
            let Some((it, n)) = item(&b[at..])? else {
                break;
            };
            at += n;
            let Item::Row(f) = it else {
                self.ended = true;
                break;
            };
            let [
                seq,
                time,
                outcome,
                t0,
                t1,
                t2,
                t3,
                t4,
                t5,
                t6,
                t7,
                t8,
                t9,
                prev,
                hash,
            ] = f;
            let fed = v.feed(
                i64::from_be_bytes(int(seq, 0)?),
                i64::from_be_bytes(int(time, 1)?),
                i16::from_be_bytes(int(outcome, 2)?),
                [t0, t1, t2, t3, t4, t5, t6, t7, t8, t9],
                prev,
                hash,
            );
            if let Err(b) = fed {
                self.broken = Some(b);
            }
        }
        Ok(at)
    }
}

async fn check(pool: PgPool, start: i64, end: i64) -> StoreResult<RangeReport> {
    let mut v = RangeVerifier::new(start, end);
    let mut conn = pool.acquire().await.map_err(db_err)?;
    // Built from constants and two integers (COPY takes no parameters).
    let sql = format!(
        "COPY (SELECT {VERIFY_FIELDS} FROM audit_event WHERE seq >= {start} AND seq <= {end} \
         ORDER BY seq) TO STDOUT (FORMAT binary)"
    );
    let mut chunks = conn.copy_out_raw(&sql).await.map_err(db_err)?;
    let mut parse = Parse::default();
    let mut carry: Vec<u8> = Vec::new();
    while let Some(chunk) = chunks.try_next().await.map_err(db_err)? {
        if parse.ended || parse.broken.is_some() {
            // Read to the end, so that the connection can be used again.
            continue;
        }
        if carry.is_empty() {
            let used = parse.feed(&chunk, &mut v)?;
            carry.extend_from_slice(&chunk[used..]);
        } else {
            carry.extend_from_slice(&chunk);
            let used = parse.feed(&carry, &mut v)?;
            carry.drain(..used);
        }
    }
    if let Some(b) = parse.broken {
        return Ok(v.finish(Some(b)));
    }
    if !parse.ended || !carry.is_empty() {
        return Err(corrupt("the server's COPY data ended early"));
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
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let mut pending = futures::stream::iter(ranges(max.unwrap_or(0), batch))
        .map(|(start, end)| tokio::spawn(check(pool.clone(), start, end)))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A binary COPY of `rows` (each field's bytes; `None` for NULL).
    fn copy(rows: &[Vec<Option<Vec<u8>>>]) -> Vec<u8> {
        let mut b = SIGNATURE.to_vec();
        b.extend_from_slice(&0u32.to_be_bytes());
        b.extend_from_slice(&2u32.to_be_bytes());
        b.extend_from_slice(b"xx");
        for r in rows {
            b.extend_from_slice(&(r.len() as i16).to_be_bytes());
            for f in r {
                match f {
                    Some(v) => {
                        b.extend_from_slice(&(v.len() as i32).to_be_bytes());
                        b.extend_from_slice(v);
                    }
                    None => b.extend_from_slice(&(-1i32).to_be_bytes()),
                }
            }
        }
        b.extend_from_slice(&(-1i16).to_be_bytes());
        b
    }

    fn row(seq: i64) -> Vec<Option<Vec<u8>>> {
        let mut r = vec![
            Some(seq.to_be_bytes().to_vec()),
            Some(7i64.to_be_bytes().to_vec()),
            Some(1i16.to_be_bytes().to_vec()),
        ];
        r.extend((0..10).map(|k| Some(format!("f{k}").into_bytes())));
        r.extend([Some(vec![b'a'; 64]), Some(vec![b'b'; 64])]);
        r
    }

    /// Every item of `b`, fed in pieces of `step` bytes the way chunks arrive.
    fn items_in_pieces(b: &[u8], step: usize) -> StoreResult<Vec<Vec<Vec<u8>>>> {
        let mut out = Vec::new();
        let mut carry = Vec::new();
        let mut header_done = false;
        for piece in b.chunks(step) {
            carry.extend_from_slice(piece);
            let mut at = 0;
            if !header_done {
                match header(&carry)? {
                    Some(n) => {
                        at = n;
                        header_done = true;
                    }
                    None => continue,
                }
            }
            while let Some((it, n)) = item(&carry[at..])? {
                at += n;
                match it {
                    Item::Row(f) => out.push(f.iter().map(|v| v.to_vec()).collect()),
                    Item::End => out.push(Vec::new()),
                }
            }
            carry.drain(..at);
        }
        assert!(carry.is_empty(), "bytes left over");
        Ok(out)
    }

    #[test]
    fn rows_split_anywhere_between_chunks_parse_the_same() {
        let data = copy(&[row(1), row(2), row(3)]);
        let whole = items_in_pieces(&data, data.len()).expect("whole");
        assert_eq!(whole.len(), 4, "three rows and the trailer");
        assert_eq!(whole[1][0], 2i64.to_be_bytes().to_vec());
        assert_eq!(whole[2][12], b"f9".to_vec());
        assert_eq!(whole[3], Vec::<Vec<u8>>::new());
        for step in [1, 2, 3, 7, 19, 64] {
            assert_eq!(
                items_in_pieces(&data, step).expect("pieces"),
                whole,
                "{step}"
            );
        }
    }

    #[test]
    fn nulls_wrong_widths_and_foreign_data_are_errors() {
        let mut nulled = row(1);
        nulled[5] = None;
        let err = items_in_pieces(&copy(&[nulled]), 1000).expect_err("NULL");
        assert!(err.to_string().contains("column 5"), "{err}");
        let err = items_in_pieces(&copy(&[row(1)[..14].to_vec()]), 1000).expect_err("14 fields");
        assert!(err.to_string().contains("14 fields"), "{err}");
        assert!(header(b"COPY TEXT DATA, NOT BINARY").is_err());
        let mut v = RangeVerifier::new(1, 1);
        let mut short = row(1);
        short[2] = Some(vec![0, 0, 0, 1]);
        let err = Parse::default()
            .feed(&copy(&[short]), &mut v)
            .expect_err("a four-byte outcome");
        assert!(err.to_string().contains("column 2"), "{err}");
    }
}
