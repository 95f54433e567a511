//! Signed statements: envelopes, receipts, outcomes and certificate
//! statuses, each the protobuf encoding of its message with a CMS detached
//! signature by the issuing agency's exchange key.

use prost::Message;

use super::{Identity, crypto, sha256_hex};
use crate::crypto::{cms_sign, x509};
use crate::error::{Error, Reason, Result};
use crate::proto;

/// Format names, checked on every statement read.
pub const ENVELOPE: &str = "naskah.envelope.v1";
/// Receipt format.
pub const RECEIPT: &str = "naskah.receipt.v1";
/// Outcome format.
pub const OUTCOME: &str = "naskah.outcome.v1";
/// Certificate status format.
pub const CERT_STATUS: &str = "naskah.certstatus.v1";

/// Signs `message` as `issuer`.
pub fn sign(issuer: &Identity, message: &impl Message) -> Result<proto::SignedStatement> {
    let content = message.encode_to_vec();
    let signature =
        cms_sign::sign_detached(&issuer.key, &issuer.cert_der, &content).map_err(crypto)?;
    Ok(proto::SignedStatement { content, signature })
}

/// Checks that `st` was signed by the exchange certificate of agency `code`
/// issued by the CA `ca_der`, and decodes it.
pub fn open<M: Message + Default>(
    st: &proto::SignedStatement,
    ca_der: &[u8],
    code: &str,
) -> std::result::Result<M, &'static str> {
    let v = cms_sign::verify_detached(&st.signature, &st.content, ca_der).map_err(|e| e.code())?;
    if x509::exchange_agency_code(&v.cert) != code {
        return Err("SIGNER_NOT_THE_AGENCY");
    }
    M::decode(st.content.as_slice()).map_err(|_| "UNDECODABLE")
}

/// As [`open`], for a statement a peer sent: a failure is a refusal.
pub fn open_from_peer<M: Message + Default>(
    st: Option<&proto::SignedStatement>,
    ca_der: &[u8],
    code: &str,
    what: &str,
) -> Result<M> {
    let st = st.ok_or_else(|| {
        Error::rejected(
            Reason::SignedStatementInvalid,
            format!("the {what} is missing"),
        )
    })?;
    open(st, ca_der, code).map_err(|why| {
        Error::rejected(
            Reason::SignedStatementInvalid,
            format!("the {what} does not verify ({why})"),
        )
    })
}

/// The hash that names an envelope.
pub fn envelope_hash(st: &proto::SignedStatement) -> String {
    sha256_hex(&st.content)
}
