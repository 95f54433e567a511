//! The rules of naskah: access policy, audit reading, identity. No tonic and no
//! sea-orm types appear in this module's signatures (the records it takes and
//! answers with are the store's rows, whose states are this module's enums).

pub mod audit;
pub mod calendar;
pub mod classification;
pub mod context;
pub mod demo;
pub mod disposal;
pub mod dispositions;
pub mod exchange;
pub mod idempotency;
pub mod identity;
pub mod letters;
pub mod lifecycle;
pub mod numbering;
pub mod org;
pub mod package;
pub mod page;
pub mod policy;
pub mod records;
pub mod signing;
pub mod verification;

/// The write transaction every change of the domain runs in.
pub use crate::store::WriteTx;

/// The content files of attachments, under the data directory.
pub use crate::store::blobs::Blobs;
