//! VerificationService: public checks of signed letters, rate-limited per client address.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use der::Decode;
use tonic::{Request, Response, Status};

use super::{App, meta};
use crate::clock::to_timestamp;
use crate::crypto::memo::Memo;
use crate::crypto::{cms_sign, x509};
use crate::error::{Error, Reason, Violations};
use crate::proto::verification_service_server::VerificationService;
use crate::proto::{self as pb, SecurityLevel};
use crate::store::{letters as lq, signing as sq};

/// A token bucket per client address: `per_minute` requests, refilled continuously.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per address (bursts up to that many).
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: f64::from(per_minute.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `client`; false when the bucket is empty.
    pub fn allow(&self, client: &str) -> bool {
        let host = client
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or(client)
            .to_owned();
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            return true;
        };
        if buckets.len() > 100_000 {
            let cap = self.per_minute;
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * cap / 60.0 < cap
            });
        }
        let (tokens, at) = buckets.entry(host).or_insert((self.per_minute, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.per_minute / 60.0)
            .min(self.per_minute);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The signer of a signature that verified.
#[derive(Clone, Debug)]
struct Signer {
    serial: String,
    name: String,
    position: String,
}

/// Signatures that verified are remembered (see [`Memo`]) by the SHA-256 of
/// (signature, content, CA), each length-prefixed: a published letter's code is
/// checked again and again. At most this many.
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

/// Implements naskah.v1.VerificationService.
#[derive(Debug, Clone)]
pub struct VerificationApi {
    app: Arc<App>,
    verified: Arc<Memo<Signer>>,
}

impl VerificationApi {
    /// A handler over the shared state.
    pub fn new(app: Arc<App>) -> Self {
        Self {
            app,
            verified: Arc::new(Memo::new(VERIFIED_MAX)),
        }
    }

    /// [`cms_sign::verify_detached`], remembering signatures that verified.
    fn verified(
        &self,
        signature: &[u8],
        content: &[u8],
        ca: &[u8],
    ) -> Result<Signer, cms_sign::Invalid> {
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

    fn limit<T>(&self, req: &Request<T>) -> Result<(), Status> {
        if self.app.verify_limiter.allow(&meta(req).client_address) {
            Ok(())
        } else {
            Err(Error::rejected(
                Reason::RateLimited,
                "too many verification requests; try again in a minute",
            )
            .into())
        }
    }
}

fn invalid(reason: &str) -> pb::VerifyLetterResponse {
    pb::VerifyLetterResponse {
        valid: false,
        reason: reason.to_owned(),
        ..Default::default()
    }
}

#[tonic::async_trait]
impl VerificationService for VerificationApi {
    async fn verify_letter(
        &self,
        req: Request<pb::VerifyLetterRequest>,
    ) -> Result<Response<pb::VerifyLetterResponse>, Status> {
        self.limit(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        v.len("verification_code", &r.verification_code, 8, 64);
        v.finish()?;
        let Some(letter) = lq::verification_of(&self.app.store, &r.verification_code)
            .await
            .map_err(Error::from)?
        else {
            return Ok(Response::new(invalid("UNKNOWN_CODE")));
        };
        let mut out = pb::VerifyLetterResponse {
            valid: true,
            reason: String::new(),
            number: letter.number.clone(),
            sign_time: letter.sign_time_us.map(to_timestamp),
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
        if letter.state == crate::domain::letters::state::DESTROYED {
            // The residual record still names the number, date and manifest hash.
            out.valid = false;
            out.reason = "CONTENT_DESTROYED".into();
            return Ok(Response::new(out));
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
                    sq::key_by_serial_any(&self.app.store, &signer.serial)
                        .await
                        .map_err(Error::from)?
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
        Ok(Response::new(out))
    }

    async fn verify_signature(
        &self,
        req: Request<pb::VerifySignatureRequest>,
    ) -> Result<Response<pb::VerifySignatureResponse>, Status> {
        self.limit(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        if r.manifest.is_empty() || r.manifest.len() > 4 * 1024 * 1024 {
            v.add("manifest", "must be 1 byte to 4 MiB");
        }
        if r.signature.is_empty() || r.signature.len() > 1024 * 1024 {
            v.add("signature", "must be 1 byte to 1 MiB");
        }
        v.finish()?;
        let fail = |reason: &str| {
            Ok(Response::new(pb::VerifySignatureResponse {
                valid: false,
                reason: reason.to_owned(),
                ..Default::default()
            }))
        };
        // Find the signer's certificate to know which agency's CA to check against.
        let Some(serial) = signer_serial(&r.signature) else {
            return fail("MALFORMED_SIGNATURE");
        };
        let db = &self.app.store;
        let Some(key) = sq::key_by_serial_any(db, &serial)
            .await
            .map_err(Error::from)?
        else {
            return fail("UNKNOWN_ISSUER");
        };
        let Some((ca, _)) = sq::agency_ca(db, &key.agency_id)
            .await
            .map_err(Error::from)?
        else {
            return fail("UNKNOWN_ISSUER");
        };
        match cms_sign::verify_detached(&r.signature, &r.manifest, &ca) {
            Ok(verified) => {
                let s = x509::subject_of(&verified.cert);
                let revoked = key.revoked_at_us.is_some();
                Ok(Response::new(pb::VerifySignatureResponse {
                    valid: !revoked,
                    reason: if revoked {
                        "CERTIFICATE_REVOKED".into()
                    } else {
                        String::new()
                    },
                    signer_name: s.name,
                    signer_nip: s.nip,
                    signer_position: s.position,
                    sign_time: verified
                        .signing_time_secs
                        .map(|t| to_timestamp(t * 1_000_000)),
                }))
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

#[cfg(test)]
mod tests {
    use super::RateLimiter;

    #[test]
    fn the_limiter_refuses_past_the_burst_per_address() {
        let l = RateLimiter::new(3);
        assert!(l.allow("10.0.0.1:5000") && l.allow("10.0.0.1:5001") && l.allow("10.0.0.1:5002"));
        assert!(!l.allow("10.0.0.1:5003"));
        assert!(
            l.allow("10.0.0.2:5000"),
            "another address has its own bucket"
        );
    }
}
