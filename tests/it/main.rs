//! Black-box tests of naskah through its public gRPC contract, each against
//! SQLite and a real PostgreSQL server.

/// The `naskah` binary of this build, for the tests that run it.
const NASKAH: &str = env!("CARGO_BIN_EXE_naskah");

mod audit_chain;
mod auth;
mod cli;
mod contract;
mod disposal;
mod dispositions;
mod durability;
mod exchange;
mod hardening;
mod idempotency;
mod isolation;
mod letters;
mod org;
mod policy_matrix;
mod process;
mod records;
mod signature;
mod transport;
