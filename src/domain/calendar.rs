//! Civil time: an agency's time zone (an IANA name, `Asia/Jakarta` unless the
//! agency set another), the year and month of a moment in it (letter numbers),
//! whole calendar years added to a time (retention), and the RFC 3339 form of
//! a moment in UTC (signed manifests, exported packages). The time zone
//! database is the one built into `jiff`, so a server needs no tzdata.

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use crate::error::{Error, Result};

/// The time zone of an agency that set none: WIB.
pub const DEFAULT_ZONE: &str = "Asia/Jakarta";

/// The time zone named `name` (an IANA name such as `Asia/Makassar`), or
/// INVALID_ARGUMENT naming `field`.
pub fn zone(field: &str, name: &str) -> Result<TimeZone> {
    if name.is_empty() || name.len() > 64 {
        return Err(Error::invalid(
            field,
            "an IANA time zone name, e.g. Asia/Jakarta",
        ));
    }
    TimeZone::get(name).map_err(|_| {
        Error::invalid(
            field,
            format!("{name:?} is not a time zone (IANA names, e.g. Asia/Makassar)"),
        )
    })
}

/// The time zone of an agency from its stored name; a name the database does
/// not know (stored by an older build) is WIB's.
pub fn zone_or_default(name: &str) -> TimeZone {
    TimeZone::get(name)
        .or_else(|_| TimeZone::get(DEFAULT_ZONE))
        .unwrap_or(TimeZone::UTC)
}

/// Sets an agency's time zone (the `naskah agency set-time-zone` admin task),
/// audited like every change. Numbers signed from then on take their month
/// and year from it; numbers already given stay as they are.
pub async fn set_agency_zone(
    store: &crate::store::Store,
    agency_code: &str,
    name: &str,
) -> Result<()> {
    zone("time_zone", name)?;
    let mut tx = store.begin_write().await?;
    let agency = crate::store::identity::agency_id_by_code(&tx, agency_code)
        .await?
        .ok_or_else(|| Error::invalid("agency", format!("no agency with code {agency_code}")))?;
    crate::store::signing::set_time_zone(&tx, &agency, name).await?;
    let mut ev = crate::audit::NewEvent::success("system/agency-set-time-zone", "agency", &agency);
    ev.agency_id = agency.clone();
    ev.summary = format!("time zone set to {name}");
    tx.audit(ev);
    tx.commit().await?;
    Ok(())
}

fn timestamp(us: i64) -> Result<Timestamp> {
    Timestamp::from_microsecond(us)
        .map_err(|e| Error::Internal(format!("time {us} µs out of range: {e}")))
}

/// (year, month 1–12) of the moment `us` (µs since the Unix epoch) in `tz`.
pub fn year_month(us: i64, tz: &TimeZone) -> Result<(i32, u32)> {
    let t = timestamp(us)?.to_zoned_datetime(tz.clone());
    Ok((i32::from(t.year()), t.month() as u32))
}

/// `us` plus whole calendar years, on the UTC calendar (29 February becomes
/// 28 February in a year that has none).
pub fn add_years(us: i64, years: i32) -> Result<i64> {
    let t = timestamp(us)?.to_zoned_datetime(TimeZone::UTC);
    let later = t
        .checked_add(i64::from(years).years())
        .map_err(|e| Error::Internal(format!("{years} years from {us} µs: {e}")))?;
    Ok(later.timestamp().as_microsecond())
}

/// The moment `us` as `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds).
pub fn rfc3339(us: i64) -> String {
    match timestamp(us) {
        Ok(t) => t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// µs of a UTC civil time.
    fn utc(y: i16, mo: i8, d: i8, h: i8, mi: i8) -> i64 {
        jiff::civil::date(y, mo, d)
            .at(h, mi, 0, 0)
            .to_zoned_datetime(TimeZone::UTC)
            .expect("a time")
            .timestamp()
            .as_microsecond()
    }

    #[test]
    fn year_and_month_turn_at_local_midnight_in_each_indonesian_zone() {
        let wib = zone("tz", "Asia/Jakarta").expect("WIB");
        let wita = zone("tz", "Asia/Makassar").expect("WITA");
        let wit = zone("tz", "Asia/Jayapura").expect("WIT");
        // 31 December 23:30 local time in each zone: still that year and month.
        assert_eq!(
            year_month(utc(2026, 12, 31, 16, 30), &wib).unwrap(),
            (2026, 12)
        );
        assert_eq!(
            year_month(utc(2026, 12, 31, 15, 30), &wita).unwrap(),
            (2026, 12)
        );
        assert_eq!(
            year_month(utc(2026, 12, 31, 14, 30), &wit).unwrap(),
            (2026, 12)
        );
        // Midnight local time: the new year, in each zone at its own hour.
        assert_eq!(
            year_month(utc(2026, 12, 31, 17, 0), &wib).unwrap(),
            (2027, 1)
        );
        assert_eq!(
            year_month(utc(2026, 12, 31, 16, 0), &wita).unwrap(),
            (2027, 1)
        );
        assert_eq!(
            year_month(utc(2026, 12, 31, 15, 0), &wit).unwrap(),
            (2027, 1)
        );
        // One moment, three answers: 31 December 16:30 UTC.
        let t = utc(2026, 12, 31, 16, 30);
        assert_eq!(year_month(t, &wib).unwrap(), (2026, 12));
        assert_eq!(year_month(t, &wita).unwrap(), (2027, 1));
        assert_eq!(year_month(t, &wit).unwrap(), (2027, 1));
        // A month boundary inside the year (end of February in a leap year).
        assert_eq!(
            year_month(utc(2028, 2, 29, 15, 59), &wita).unwrap(),
            (2028, 2)
        );
        assert_eq!(
            year_month(utc(2028, 2, 29, 16, 0), &wita).unwrap(),
            (2028, 3)
        );
        assert_eq!(
            year_month(utc(2028, 2, 29, 14, 59), &wit).unwrap(),
            (2028, 2)
        );
        assert_eq!(
            year_month(utc(2028, 2, 29, 15, 0), &wit).unwrap(),
            (2028, 3)
        );
        assert_eq!(
            year_month(utc(2028, 2, 29, 16, 59), &wib).unwrap(),
            (2028, 2)
        );
        assert_eq!(
            year_month(utc(2028, 2, 29, 17, 0), &wib).unwrap(),
            (2028, 3)
        );
    }

    #[test]
    fn unknown_zone_names_are_refused() {
        for bad in ["", "WITA", "Asia/Nowhere", "+08:00", &"A".repeat(65)] {
            assert!(zone("tz", bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            zone_or_default("Asia/Nowhere").iana_name(),
            Some(DEFAULT_ZONE)
        );
    }

    #[test]
    fn years_are_added_on_the_calendar() {
        assert_eq!(
            add_years(utc(2024, 2, 29, 10, 0), 1).unwrap(),
            utc(2025, 2, 28, 10, 0)
        );
        assert_eq!(
            add_years(utc(2024, 2, 29, 10, 0), 4).unwrap(),
            utc(2028, 2, 29, 10, 0)
        );
        assert_eq!(
            add_years(utc(2026, 7, 1, 0, 0), 10).unwrap(),
            utc(2036, 7, 1, 0, 0)
        );
        assert!(add_years(utc(2026, 7, 1, 0, 0), 9000).is_err());
    }

    #[test]
    fn moments_are_written_in_utc_to_the_second() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(utc(2026, 12, 31, 16, 30) + 999_999),
            "2026-12-31T16:30:00Z"
        );
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }
}
