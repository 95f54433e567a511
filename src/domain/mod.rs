//! The rules of naskah: access policy, audit reading, identity. No tonic and no
//! sea-orm types appear in this module's signatures.

pub mod audit;
pub mod calendar;
pub mod classification;
pub mod context;
pub mod demo;
pub mod disposal;
pub mod dispositions;
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
