//! Letters: drafting, the review route, signing and numbering, delivery,
//! folders, read receipts, incoming letters and visibility.
//!
//! Visibility ([`may_see`], the one rule): a letter is visible to the
//! positions that take part in it (drafter, route steps once reached,
//! recipients and cc once delivered, disposition chain) and to the users
//! acting for them (PLT/PLH inside their window) or serving them as
//! secretary. Roles grant nothing by themselves. Anything else is reported as
//! LETTER_NOT_FOUND, and every read of a RAHASIA or SANGAT_RAHASIA letter's
//! content is audited.

use crate::store::Db;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::calendar::rfc3339;
use super::context::{Ctx, check_etag, etag};
use super::lifecycle::{
    AddresseeKind, Decision, Direction, Folder, LetterEvent, LetterState, StepKind,
};
use super::numbering::{self, Parts, Scope};
use super::page;
use crate::auth::{Principal, RequestMeta};
use crate::error::{Error, Reason, Result};
use crate::notify::{Notice, NoticeKind};
use crate::proto::{LetterType, SecurityLevel};
pub use crate::store::attachments::AttachmentRecord;
use crate::store::cache::CodeKind;
use crate::store::identity::{self as idq, HeldPositionRecord};
use crate::store::letters::{self as q, AddresseeRecord, LetterRecord, StepRecord};
pub use crate::store::letters::{BoxFilter, CommentRecord, VersionRecord};
use crate::store::{Store, WriteTx, org as orgq, setup as setupq, signing as signq};

mod attachments;
mod authors;
mod drafting;
mod incoming;
mod route;
mod signing;
mod views;
mod visibility;

pub use attachments::*;
pub use authors::*;
pub use drafting::*;
pub use incoming::*;
pub use route::*;
pub use signing::*;
pub use views::*;
pub use visibility::*;

/// `l` after `e`: its state moved by the letter machine, or why `e` cannot
/// happen now (nothing changed).
pub(super) fn apply(l: &mut LetterRecord, e: LetterEvent) -> Result<()> {
    l.state = l.state.on(e)?;
    Ok(())
}

/// Whether `e` may happen to `l` now, without changing it.
pub(super) fn allows(l: &LetterRecord, e: LetterEvent) -> Result<()> {
    l.state.on(e).map(|_| ())
}

/// An external addressee as stored (JSON).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct External {
    pub organisation: String,
    pub attention: String,
    pub address: String,
    pub email: String,
    pub exchange_agency_id: String,
    /// The addressed position in that agency (exchange only).
    #[serde(default)]
    pub exchange_position_id: String,
}

impl External {
    fn display(&self) -> String {
        if self.attention.is_empty() {
            self.organisation.clone()
        } else {
            format!("{}, {}", self.attention, self.organisation)
        }
    }
}

/// A recipient as requested.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Position(String),
    External(External),
}

/// Incoming-letter details as stored (JSON).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incoming {
    pub sender: External,
    pub sender_number: String,
    pub letter_date_us: i64,
    pub receive_time_us: i64,
    pub registered_by_user_id: String,
    pub registered_by_position_id: String,
    /// Set for a letter received by exchange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange: Option<Received>,
}

/// How a letter received by exchange came (stored with its incoming details).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    /// The sender's consignment id.
    pub consignment_id: String,
    /// The sending agency's code.
    pub sender_agency_code: String,
    /// The signer's name and position, from the verified certificate and envelope.
    pub signer_name: String,
    pub signer_position: String,
    /// The letter's signature verified against the sender agency's CA on receipt.
    pub signature_valid: bool,
    /// This agency's registration number.
    pub registration_number: String,
    /// The position it was addressed to, when delivered to that position's successor.
    pub addressed_position_id: String,
}

/// Content of a draft.
#[derive(Clone, Debug)]
pub struct DraftInput {
    pub drafting_position_id: String,
    pub letter_type: LetterType,
    pub subject: String,
    pub body: String,
    pub security: SecurityLevel,
    pub urgency: i16,
    pub classification_code: String,
    pub recipients: Vec<Target>,
    pub carbon_copies: Vec<Target>,
    pub reference_letter_id: String,
}

/// Changes to a draft; `None` keeps a field.
#[derive(Clone, Debug, Default)]
pub struct DraftChanges {
    pub letter_type: Option<LetterType>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub security: Option<SecurityLevel>,
    pub urgency: Option<i16>,
    pub classification_code: Option<String>,
    pub recipients: Option<Vec<Target>>,
    pub carbon_copies: Option<Vec<Target>>,
    pub reference_letter_id: Option<String>,
}

/// Letter types without a subject line.
pub fn has_no_subject(t: LetterType) -> bool {
    matches!(
        t,
        LetterType::SuratTugas | LetterType::SuratPerintah | LetterType::SuratKeputusan
    )
}

/// LETTER_NOT_FOUND: also the answer for a letter the caller may not see.
pub(super) fn not_found() -> Error {
    Error::rejected(Reason::LetterNotFound, "letter not found")
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}
