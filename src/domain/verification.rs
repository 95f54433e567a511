//! Public checks of signed letters: a verification code's letter (its
//! number, signer and state) and a detached signature over a manifest, each
//! against the issuing agency's CA and the signing key's revocation.
//! Signatures that verified are remembered, so a published letter's code,
//! checked again and again, costs one lookup.

use super::lifecycle::LetterState;
use der::Decode;

use crate::crypto::memo::Memo;
use crate::crypto::{cms_sign, x509};
use crate::error::Result;
use crate::proto::SecurityLevel;
use crate::store::{Store, letters as lq, signing as sq};

/// The signer of a signature that verified.
#[derive(Clone, Debug)]
struct Signer {
    serial: String,
    name: String,
    position: String,
}

/// Signatures that verified are remembered (see [`Memo`]) by the SHA-256 of
/// (signature, content, CA), each length-prefixed. At most this many.
const VERIFIED_MAX: usize = 10_000;

fn verified_key(signature: &[u8], content: &[u8], ca: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [signature, content, ca] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.finalize().into()
}

/// What a verification code's check found. `reason` is empty when `valid`,
/// else one of UNKNOWN_CODE, CONTENT_DESTROYED, CERTIFICATE_REVOKED or a
/// signature failure's code.
#[derive(Clone, Debug, Default)]
pub struct LetterCheck {
    pub valid: bool,
    pub reason: String,
    pub number: String,
    pub sign_time_us: Option<i64>,
    pub signer_name: String,
    pub signer_position: String,
    pub agency_name: String,
    pub manifest_sha256: String,
    /// The subject of a BIASA letter; empty for any higher security level.
    pub subject: String,
}

/// What a detached signature's check found (`reason` as in [`LetterCheck`],
/// or MALFORMED_SIGNATURE, UNKNOWN_ISSUER).
#[derive(Clone, Debug, Default)]
pub struct SignatureCheck {
    pub valid: bool,
    pub reason: String,
    pub signer_name: String,
    pub signer_nip: String,
    pub signer_position: String,
    /// The signing time the signature claims, in µs.
    pub sign_time_us: Option<i64>,
}

/// The checks, with the memo of signatures that verified.
#[derive(Debug)]
pub struct Verifier {
    verified: Memo<Signer>,
}

impl Default for Verifier {
    fn default() -> Self {
        Self {
            verified: Memo::new(VERIFIED_MAX),
        }
    }
}

impl Verifier {
    /// [`cms_sign::verify_detached`], remembering signatures that verified.
    fn verified(
        &self,
        signature: &[u8],
        content: &[u8],
        ca: &[u8],
    ) -> std::result::Result<Signer, cms_sign::Invalid> {
        let key = verified_key(signature, content, ca);
        if let Some(s) = self.verified.get(&key) {
            return Ok(s);
        }
        let v = cms_sign::verify_detached(signature, content, ca)?;
        let subject = x509::subject_of(&v.cert);
        let signer = Signer {
            serial: v.serial,
            name: subject.name,
            position: subject.position,
        };
        self.verified.put(key, signer.clone());
        Ok(signer)
    }

    /// Checks the letter a verification code names.
    pub async fn letter(&self, store: &Store, code: &str) -> Result<LetterCheck> {
        let Some(letter) = lq::verification_of(store, code).await? else {
            return Ok(LetterCheck {
                reason: "UNKNOWN_CODE".into(),
                ..Default::default()
            });
        };
        let mut out = LetterCheck {
            valid: true,
            reason: String::new(),
            number: letter.number.clone(),
            sign_time_us: letter.sign_time_us,
            signer_name: String::new(),
            signer_position: String::new(),
            agency_name: letter.agency_name.clone(),
            manifest_sha256: letter.manifest_sha256.clone(),
            subject: if letter.security_level == SecurityLevel::Biasa as i16 {
                letter.subject.clone()
            } else {
                String::new()
            },
        };
        if letter.state == LetterState::Destroyed {
            // The residual record still names the number, date and manifest hash.
            out.valid = false;
            out.reason = "CONTENT_DESTROYED".into();
            return Ok(out);
        }
        let ca = letter.ca_der.as_deref().unwrap_or_default();
        match self.verified(&letter.signature, &letter.manifest, ca) {
            Ok(signer) => {
                out.signer_name = signer.name;
                out.signer_position = signer.position;
                // The key's revocation came with the letter when the signature
                // names the certificate recorded with it (it always does).
                let revoked_at = if signer.serial == letter.cert_serial {
                    letter.key_revoked_at_us
                } else {
                    sq::key_by_serial_any(store, &signer.serial)
                        .await?
                        .map(|k| k.revoked_at_us)
                };
                if revoked_at.is_none_or(|t| t.is_some()) {
                    out.valid = false;
                    out.reason = "CERTIFICATE_REVOKED".into();
                }
            }
            Err(e) => {
                out.valid = false;
                out.reason = e.code().into();
            }
        }
        Ok(out)
    }

    /// Checks a detached CMS signature over `manifest` against the CA of the
    /// agency that issued the signer's certificate.
    pub async fn signature(
        &self,
        store: &Store,
        manifest: &[u8],
        signature: &[u8],
    ) -> Result<SignatureCheck> {
        let fail = |reason: &str| {
            Ok(SignatureCheck {
                reason: reason.to_owned(),
                ..Default::default()
            })
        };
        // Find the signer's certificate to know which agency's CA to check against.
        let Some(serial) = signer_serial(signature) else {
            return fail("MALFORMED_SIGNATURE");
        };
        let Some(key) = sq::key_by_serial_any(store, &serial).await? else {
            return fail("UNKNOWN_ISSUER");
        };
        let Some((ca, _)) = sq::agency_ca(store, &key.agency_id).await? else {
            return fail("UNKNOWN_ISSUER");
        };
        match cms_sign::verify_detached(signature, manifest, &ca) {
            Ok(verified) => {
                let s = x509::subject_of(&verified.cert);
                let revoked = key.revoked_at_us.is_some();
                Ok(SignatureCheck {
                    valid: !revoked,
                    reason: if revoked {
                        "CERTIFICATE_REVOKED".into()
                    } else {
                        String::new()
                    },
                    signer_name: s.name,
                    signer_nip: s.nip,
                    signer_position: s.position,
                    sign_time_us: verified.signing_time_secs.map(|t| t * 1_000_000),
                })
            }
            Err(e) => fail(e.code()),
        }
    }
}

/// The serial (hex) of the certificate the signature names as its signer.
fn signer_serial(signature: &[u8]) -> Option<String> {
    let ci = cms::content_info::ContentInfo::from_der(signature).ok()?;
    let sd: cms::signed_data::SignedData = ci.content.decode_as().ok()?;
    match &sd.signer_infos.0.iter().next()?.sid {
        cms::signed_data::SignerIdentifier::IssuerAndSerialNumber(ias) => {
            Some(hex::encode(ias.serial_number.as_bytes()))
        }
        _ => None,
    }
}
