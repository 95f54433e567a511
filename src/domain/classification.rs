//! The records classification scheme (klasifikasi arsip) and its retention (JRA):
//! CSV import, all or nothing, with a per-line report of bad rows.
//!
//! CSV columns (header required, in any order): `code`, `title`, `active_years`,
//! `inactive_years`, `final_disposition` (MUSNAH, PERMANEN, DINILAI_KEMBALI) and
//! optionally `security_level` (BIASA, TERBATAS, RAHASIA, SANGAT_RAHASIA). A row
//! whose three retention cells are empty inherits its parent's retention (and
//! security level when that cell is empty too). Codes are dot-separated digit
//! groups; a code's parent is the code without its last group, and must exist in
//! the file or already in the scheme.

use std::collections::HashMap;

use crate::error::{Error, FieldViolation, Result};
use crate::proto::{FinalDisposition, SecurityLevel};
use crate::store::WriteTx;
use crate::store::setup::{self as q, ClassificationRecord};

/// Import counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// New codes.
    pub created: i32,
    /// Codes that existed and were replaced.
    pub updated: i32,
}

/// One parsed row before inheritance.
#[derive(Clone, Debug)]
struct Row {
    line: u64,
    code: String,
    title: String,
    retention: Option<(i32, i32, FinalDisposition)>,
    security: Option<SecurityLevel>,
}

fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code
            .split('.')
            .all(|g| !g.is_empty() && g.len() <= 8 && g.bytes().all(|b| b.is_ascii_digit()))
}

/// The parent of a code ("" for a top-level code).
pub fn parent_of(code: &str) -> &str {
    code.rsplit_once('.').map(|(p, _)| p).unwrap_or("")
}

/// True when `code` equals `ancestor` or lies below it.
pub fn is_within(code: &str, ancestor: &str) -> bool {
    code == ancestor
        || (code.starts_with(ancestor) && code.as_bytes().get(ancestor.len()) == Some(&b'.'))
}

fn parse(csv_text: &str) -> std::result::Result<Vec<Row>, Vec<FieldViolation>> {
    let mut errors = Vec::new();
    let mut err = |line: u64, field: &str, d: String| {
        errors.push(FieldViolation {
            field: format!("csv line {line}: {field}"),
            description: d,
        });
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(csv_text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.iter().map(|s| s.to_ascii_lowercase()).collect::<Vec<_>>(),
        Err(e) => {
            return Err(vec![FieldViolation {
                field: "csv line 1".into(),
                description: format!("unreadable header: {e}"),
            }]);
        }
    };
    let col = |name: &str| headers.iter().position(|h| h == name);
    let required = [
        "code",
        "title",
        "active_years",
        "inactive_years",
        "final_disposition",
    ];
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|n| col(n).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(vec![FieldViolation {
            field: "csv line 1".into(),
            description: format!("header lacks {}", missing.join(", ")),
        }]);
    }
    let idx = |n: &str| col(n).unwrap_or(usize::MAX);
    let (ci, ti, ai, ii, fi, si) = (
        idx("code"),
        idx("title"),
        idx("active_years"),
        idx("inactive_years"),
        idx("final_disposition"),
        col("security_level"),
    );
    let mut rows = Vec::new();
    for (n, rec) in reader.records().enumerate() {
        let line = n as u64 + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                err(line, "row", format!("unreadable: {e}"));
                continue;
            }
        };
        if rec.iter().all(str::is_empty) {
            continue;
        }
        let cell = |i: usize| rec.get(i).unwrap_or("").to_owned();
        let code = cell(ci);
        let title = cell(ti);
        if !valid_code(&code) {
            err(line, "code", format!("{code:?} is not a code like 000.1.2"));
        }
        if title.is_empty() || title.chars().count() > 500 {
            err(line, "title", "must be 1 to 500 characters".into());
        } else if let Some(fault) = crate::text::fault(&title, false) {
            // A quoted cell may hold what the CSV field as a whole may.
            err(line, "title", fault.into());
        }
        let (a, i, f) = (cell(ai), cell(ii), cell(fi));
        let retention = if a.is_empty() && i.is_empty() && f.is_empty() {
            None
        } else {
            let years = |s: &str, field: &str, err: &mut dyn FnMut(u64, &str, String)| match s
                .parse::<i32>()
            {
                Ok(y) if (0..=100).contains(&y) => y,
                _ => {
                    err(
                        line,
                        field,
                        format!("{s:?} is not a number of years from 0 to 100"),
                    );
                    0
                }
            };
            let ay = years(&a, "active_years", &mut err);
            let iy = years(&i, "inactive_years", &mut err);
            let fd = match f.to_ascii_uppercase().as_str() {
                "MUSNAH" => FinalDisposition::Musnah,
                "PERMANEN" => FinalDisposition::Permanen,
                "DINILAI_KEMBALI" | "DINILAI KEMBALI" => FinalDisposition::DinilaiKembali,
                _ => {
                    err(
                        line,
                        "final_disposition",
                        format!("{f:?} is not MUSNAH, PERMANEN or DINILAI_KEMBALI"),
                    );
                    FinalDisposition::Unspecified
                }
            };
            Some((ay, iy, fd))
        };
        let security = match si.map(|i| cell(i).to_ascii_uppercase()).as_deref() {
            None | Some("") => None,
            Some("BIASA") => Some(SecurityLevel::Biasa),
            Some("TERBATAS") => Some(SecurityLevel::Terbatas),
            Some("RAHASIA") => Some(SecurityLevel::Rahasia),
            Some("SANGAT_RAHASIA") => Some(SecurityLevel::SangatRahasia),
            Some(other) => {
                err(
                    line,
                    "security_level",
                    format!("{other:?} is not BIASA, TERBATAS, RAHASIA or SANGAT_RAHASIA"),
                );
                None
            }
        };
        rows.push(Row {
            line,
            code,
            title,
            retention,
            security,
        });
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// Parses, checks and (unless `dry_run`) imports a scheme into `tx`. Nothing is
/// written when any row is bad; every bad row is reported with its line.
pub async fn import(
    tx: &mut WriteTx,
    agency: &str,
    csv_text: &str,
    dry_run: bool,
) -> Result<ImportSummary> {
    let rows = parse(csv_text).map_err(Error::Invalid)?;
    let mut errors = Vec::new();
    let mut seen: HashMap<&str, u64> = HashMap::new();
    for r in &rows {
        if let Some(first) = seen.insert(&r.code, r.line) {
            errors.push(FieldViolation {
                field: format!("csv line {}: code", r.line),
                description: format!("{} appears already on line {first}", r.code),
            });
        }
    }
    // Parents first, so that inheritance can be resolved in one pass.
    let mut order: Vec<&Row> = rows.iter().collect();
    order.sort_by_key(|r| (r.code.matches('.').count(), r.line));
    let mut resolved: HashMap<String, ClassificationRecord> = HashMap::new();
    for r in order {
        let parent_code = parent_of(&r.code).to_owned();
        let parent = if parent_code.is_empty() {
            None
        } else if let Some(p) = resolved.get(&parent_code) {
            Some(p.clone())
        } else {
            q::classification(&*tx, agency, &parent_code).await?
        };
        if !parent_code.is_empty() && parent.is_none() {
            errors.push(FieldViolation {
                field: format!("csv line {}: code", r.line),
                description: format!(
                    "parent {parent_code} is neither in the file nor in the scheme"
                ),
            });
            continue;
        }
        let (retention, inherited) = match (r.retention, &parent) {
            (Some(own), _) => (own, false),
            (None, Some(p)) => (
                (
                    p.active_years,
                    p.inactive_years,
                    FinalDisposition::try_from(i32::from(p.final_disposition))
                        .unwrap_or(FinalDisposition::Unspecified),
                ),
                true,
            ),
            (None, None) => {
                errors.push(FieldViolation {
                    field: format!("csv line {}: final_disposition", r.line),
                    description: "a top-level code needs its own retention".into(),
                });
                continue;
            }
        };
        let security = r
            .security
            .map(|s| s as i16)
            .or(parent.as_ref().map(|p| p.default_security_level))
            .unwrap_or(SecurityLevel::Biasa as i16);
        resolved.insert(
            r.code.clone(),
            ClassificationRecord {
                code: r.code.clone(),
                title: r.title.clone(),
                parent_code,
                active_years: retention.0,
                inactive_years: retention.1,
                final_disposition: retention.2 as i16,
                default_security_level: security,
                retention_inherited: inherited,
            },
        );
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| line_of(&e.field));
        return Err(Error::Invalid(errors));
    }
    let mut summary = ImportSummary::default();
    let mut records: Vec<&ClassificationRecord> = resolved.values().collect();
    records.sort_by(|a, b| a.code.cmp(&b.code));
    for c in records {
        let exists = q::classification(&*tx, agency, &c.code).await?.is_some();
        if !dry_run {
            q::upsert_classification(&*tx, agency, c, tx.now_us()).await?;
        }
        if exists {
            summary.updated += 1;
        } else {
            summary.created += 1;
        }
    }
    Ok(summary)
}

fn line_of(field: &str) -> u64 {
    field
        .strip_prefix("csv line ")
        .and_then(|s| s.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parents_and_ancestry() {
        assert!(
            valid_code("000.1.2")
                && valid_code("800")
                && !valid_code("000..1")
                && !valid_code("A.1")
                && !valid_code("")
        );
        assert_eq!(parent_of("000.1.2"), "000.1");
        assert_eq!(parent_of("000"), "");
        assert!(
            is_within("000.1.2", "000") && is_within("000", "000") && !is_within("0001", "000")
        );
    }

    #[test]
    fn bad_rows_are_reported_with_their_lines() {
        let csv = "code,title,active_years,inactive_years,final_disposition\n\
                   000,Umum,2,3,MUSNAH\n\
                   000.1,Tata Usaha,x,3,MUSNAH\n\
                   000.2,Perlengkapan,1,1,BAKAR\n\
                   A.1,Salah,,,\n";
        let errs = parse(csv).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "csv line 3: active_years",
                "csv line 4: final_disposition",
                "csv line 5: code"
            ]
        );
    }

    #[test]
    fn a_missing_header_column_is_named() {
        let errs = parse("code,title\n000,Umum\n").unwrap_err();
        assert!(errs[0].description.contains("active_years"), "{errs:?}");
    }
}
