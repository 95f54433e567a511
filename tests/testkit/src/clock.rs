//! Time as the tests control it: the clock a test server is started with
//! (the system's, or a manual one the test moves), and the contract's
//! timestamps in µs.

pub use naskah::clock::{Clock, ManualClock, SystemClock, from_timestamp, to_timestamp};
