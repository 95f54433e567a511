//! naskah: a paperless e-correspondence and records backend for government
//! agencies. See docs/design.md for the domain, docs/architecture.md for the
//! code, and README.md for running it.

pub mod api;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod error;
pub mod notify;
pub mod server;
pub mod store;
pub mod text;

/// The generated naskah.v1 contract.
#[allow(clippy::all, missing_docs)]
pub mod proto {
    tonic::include_proto!("naskah.v1");

    /// Encoded descriptor set of the contract, for reflection and tests.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("naskah_descriptor");
}
