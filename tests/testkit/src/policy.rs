//! The gate's policy table (every RPC with the callers it admits), which the
//! role × RPC tests hold the running server to.

pub use naskah::domain::policy::{POLICY, Rule, admits, rule};
