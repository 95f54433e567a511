//! Calendar arithmetic the tests expect answers to follow, computed here with
//! `jiff` (not with the server's code): years added on the UTC calendar, and
//! the year and month of a moment in a time zone.

use jiff::ToSpan;
use jiff::tz::TimeZone;

/// `us` plus whole calendar years on the UTC calendar (29 February becomes
/// 28 February in a year that has none).
pub fn add_years(us: i64, years: i32) -> i64 {
    jiff::Timestamp::from_microsecond(us)
        .expect("a time")
        .to_zoned_datetime(TimeZone::UTC)
        .checked_add(i64::from(years).years())
        .expect("years")
        .timestamp()
        .as_microsecond()
}

/// (year, month) of the moment `us` in the IANA time zone `zone`.
pub fn year_month(us: i64, zone: &str) -> (i32, u32) {
    let t = jiff::Timestamp::from_microsecond(us)
        .expect("a time")
        .to_zoned_datetime(TimeZone::get(zone).expect("a time zone"));
    (i32::from(t.year()), t.month() as u32)
}
