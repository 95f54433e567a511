//! Black-box tests of naskah through its public gRPC contract, each against
//! SQLite and a real PostgreSQL server.

pub mod harness;

mod audit_chain;
mod auth;
mod contract;
mod disposal;
mod dispositions;
mod durability;
mod hardening;
mod isolation;
mod letters;
mod org;
mod policy_matrix;
mod process;
mod reads;
mod records;
mod signature;
mod transport;
mod writes;
