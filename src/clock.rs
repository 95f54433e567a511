//! Time source. Every rule that depends on "now" asks a [`Clock`], so tests can
//! control time (retention phases, lockouts, assignment windows).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Microseconds since the Unix epoch.
pub type Micros = i64;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time in microseconds since the Unix epoch.
    fn now_us(&self) -> Micros;
}

/// The system's real-time clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_us(&self) -> Micros {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0)
    }
}

/// A clock that stands still until moved; for tests.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock showing `now_us`.
    pub fn new(now_us: Micros) -> Arc<Self> {
        Arc::new(Self(AtomicI64::new(now_us)))
    }

    /// Moves the clock by `delta_us` (may be negative).
    pub fn advance(&self, delta_us: Micros) {
        self.0.fetch_add(delta_us, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_us(&self) -> Micros {
        self.0.load(Ordering::SeqCst)
    }
}

/// Converts microseconds into a protobuf timestamp.
pub fn to_timestamp(us: Micros) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: us.div_euclid(1_000_000),
        nanos: (us.rem_euclid(1_000_000) * 1_000) as i32,
    }
}

/// Converts a protobuf timestamp into microseconds; `None` when out of range.
pub fn from_timestamp(ts: &prost_types::Timestamp) -> Option<Micros> {
    if !(0..1_000_000_000).contains(&ts.nanos) {
        return None;
    }
    ts.seconds
        .checked_mul(1_000_000)?
        .checked_add(i64::from(ts.nanos / 1_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_round_trip_including_negative_times() {
        for us in [
            0,
            1,
            999_999,
            1_000_000,
            -1,
            -1_000_001,
            1_763_000_000_123_456,
        ] {
            assert_eq!(from_timestamp(&to_timestamp(us)), Some(us), "{us}");
        }
    }

    #[test]
    fn out_of_range_timestamps_are_rejected() {
        let bad = prost_types::Timestamp {
            seconds: i64::MAX,
            nanos: 0,
        };
        assert_eq!(from_timestamp(&bad), None);
        let bad_nanos = prost_types::Timestamp {
            seconds: 1,
            nanos: -5,
        };
        assert_eq!(from_timestamp(&bad_nanos), None);
    }
}
