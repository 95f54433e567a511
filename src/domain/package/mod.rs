//! Archival packages (`naskah.package.v1`): a ZIP of one case file that stands on
//! its own — written by ExportCaseFile as a stream, checked offline by
//! `naskah package verify`.
//!
//! Layout (every entry stored uncompressed, so bytes can be compared as they are):
//! - `manifest.json`: agency, case file, classification and retention, the history
//!   of holds, and every letter's metadata with the names of its files;
//! - `letters/<id>/body.md`, `letters/<id>/attachments/<attachment id>` (attachments
//!   and scans), `letters/<id>/signed-manifest.json` and `letters/<id>/signature.p7s`
//!   (the detached CMS signature, DER, with the signer's certificate inside);
//! - `ca/agency-ca.pem`: the agency CA that issued the signers' certificates;
//! - for letters sent to or received from other agencies by exchange:
//!   `letters/<id>/exchange/<consignment id>/receipt.pb`, `receipt.p7s`,
//!   `outcome.pb`, `outcome.p7s` (the signed receipt and outcome) and
//!   `ca/peers/<agency code>.pem` (the other agency's CA); a received letter's
//!   `signed-manifest.json` and `signature.p7s` are the sender's, checked
//!   against the sender's CA;
//! - `audit/events.jsonl`: the audit events of the case file, its letters and their
//!   dispositions, each with its chain hashes (`naskah.audit.v1`);
//! - `SHA256SUMS`: the SHA-256 of every other entry, in `sha256sum -c` format.

use super::lifecycle::CaseFileState;
use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

use super::calendar::rfc3339;
use crate::audit::{Event, NewEvent, Outcome, chain_hash, decode_hash};
use crate::error::{Error, Reason, Result};
use crate::store::blobs::Blobs;
use crate::store::records::{self as rq, CaseFileRecord};
use crate::store::{
    Store, attachments as aq, disposal as dq, dispositions as dispq, letters as lq,
    setup as setupq, signing as signq,
};

mod export;
mod verify;

pub use export::*;
pub use verify::*;

/// Format tag of the package manifest.
pub const FORMAT: &str = "naskah.package.v1";
/// Name of the checksum list.
pub const SUMS: &str = "SHA256SUMS";
const CHUNK: usize = 64 * 1024;

/// The package manifest.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PackageManifest {
    pub format: String,
    pub exported_at: String,
    pub agency: AgencyMeta,
    pub case_file: CaseFileMeta,
    pub holds: Vec<HoldMeta>,
    pub letters: Vec<LetterMeta>,
    pub audit: AuditMeta,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AgencyMeta {
    pub id: String,
    pub code: String,
    pub name: String,
    pub ca_file: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CaseFileMeta {
    pub id: String,
    pub title: String,
    pub description: String,
    pub unit_id: String,
    pub state: i16,
    pub classification_code: String,
    pub classification_title: String,
    pub active_years: i32,
    pub inactive_years: i32,
    pub final_disposition: String,
    pub opened_at: String,
    pub closed_at: Option<String>,
    pub active_until: Option<String>,
    pub inactive_until: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct HoldMeta {
    pub id: String,
    pub case_file_id: String,
    pub letter_id: String,
    pub reason: String,
    pub authority: String,
    pub placed_by_user_id: String,
    pub placed_at: String,
    pub released_by_user_id: String,
    pub released_at: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LetterMeta {
    pub id: String,
    pub number: String,
    pub direction: i16,
    pub state: i16,
    pub letter_type: i16,
    pub security_level: i16,
    pub classification_code: String,
    pub subject: String,
    pub created_at: String,
    pub signed_at: Option<String>,
    pub body_sha256: String,
    pub body_file: String,
    pub signed_manifest_file: String,
    pub signature_file: String,
    pub verification_code: String,
    pub attachments: Vec<AttachmentMeta>,
    pub dispositions: Vec<DispositionMeta>,
    /// The CA the signature verifies against when it is not the agency's (a
    /// letter received by exchange: the sending agency's CA).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub signer_ca_file: String,
    /// The signed receipts and outcomes of the letter's exchange.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exchange: Vec<ExchangeMeta>,
}

/// One consignment of a letter: sent to another agency, or the one it came in.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ExchangeMeta {
    pub consignment_id: String,
    /// "sent" or "received".
    pub direction: String,
    /// The other agency's code.
    pub peer_agency_code: String,
    /// The dispatch status (sent) as the contract names it.
    pub status: String,
    /// `naskah.v1.Receipt` and `naskah.v1.Outcome`, encoded, with their CMS
    /// signatures (DER); empty names when there is none (yet).
    pub receipt_file: String,
    pub receipt_signature_file: String,
    pub outcome_file: String,
    pub outcome_signature_file: String,
    /// The CA of the agency that signed the receipt and the outcome.
    pub issuer_ca_file: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AttachmentMeta {
    pub id: String,
    pub file_name: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub is_scan: bool,
    pub file: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DispositionMeta {
    pub id: String,
    pub parent_id: String,
    pub sender_position_id: String,
    pub state: i16,
    pub instruction_codes: String,
    pub created_at: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AuditMeta {
    pub events_file: String,
    pub events: u64,
}

/// One audit event as written to `audit/events.jsonl`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuditLine {
    pub seq: i64,
    pub event_time_us: i64,
    pub outcome: i16,
    pub agency_id: String,
    pub actor_user_id: String,
    pub actor_position_id: String,
    pub action: String,
    pub resource_type: String,
    pub resource_id: String,
    pub reason: String,
    pub request_id: String,
    pub client_address: String,
    pub summary: String,
    pub prev_hash: String,
    pub hash: String,
}

impl From<Event> for AuditLine {
    fn from(e: Event) -> Self {
        Self {
            seq: e.seq,
            event_time_us: e.event_time_us,
            outcome: e.outcome_code,
            agency_id: e.body.agency_id,
            actor_user_id: e.body.actor_user_id,
            actor_position_id: e.body.actor_position_id,
            action: e.body.action,
            resource_type: e.body.resource_type,
            resource_id: e.body.resource_id,
            reason: e.body.reason,
            request_id: e.body.request_id,
            client_address: e.body.client_address,
            summary: e.body.summary,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

impl AuditLine {
    /// Recomputes this event's chain hash from its fields and its prev_hash.
    fn recomputed(&self) -> Option<String> {
        let prev = decode_hash(&self.prev_hash)?;
        let body = NewEvent {
            agency_id: self.agency_id.clone(),
            actor_user_id: self.actor_user_id.clone(),
            actor_position_id: self.actor_position_id.clone(),
            action: self.action.clone(),
            resource_type: self.resource_type.clone(),
            resource_id: self.resource_id.clone(),
            outcome: Outcome::from_code(self.outcome).unwrap_or(Outcome::Failure),
            reason: self.reason.clone(),
            request_id: self.request_id.clone(),
            client_address: self.client_address.clone(),
            summary: self.summary.clone(),
        };
        Some(hex::encode(chain_hash(
            &prev,
            self.seq,
            self.event_time_us,
            self.outcome,
            &body,
        )))
    }
}
