//! VerificationService: public checks of signed letters (`domain::verification`),
//! rate-limited per client address; each request converted by a `TryFrom`
//! that destructures it whole.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tonic::{Request, Response, Status};

use super::{App, meta};
use crate::clock::to_timestamp;
use crate::domain::verification::Verifier;
use crate::error::{Error, Reason, Violations};
use crate::proto::verification_service_server::VerificationService;
use crate::proto::{self as pb};

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

/// Implements naskah.v1.VerificationService.
#[derive(Debug, Clone)]
pub struct VerificationApi {
    app: Arc<App>,
    verifier: Arc<Verifier>,
}

impl VerificationApi {
    /// A handler over the shared state.
    pub fn new(app: Arc<App>) -> Self {
        Self {
            app,
            verifier: Arc::default(),
        }
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

// ---- requests → inputs ----

/// VerifyLetter: the code printed on the letter.
struct VerificationCode(String);

/// VerifySignature: a manifest and its detached signature.
struct SignedManifest {
    manifest: Vec<u8>,
    signature: Vec<u8>,
}

impl TryFrom<pb::VerifyLetterRequest> for VerificationCode {
    type Error = Error;

    fn try_from(r: pb::VerifyLetterRequest) -> Result<Self, Error> {
        let pb::VerifyLetterRequest { verification_code } = r;
        let mut v = Violations::new();
        v.len("verification_code", &verification_code, 8, 64);
        v.finish()?;
        Ok(VerificationCode(verification_code))
    }
}

impl TryFrom<pb::VerifySignatureRequest> for SignedManifest {
    type Error = Error;

    fn try_from(r: pb::VerifySignatureRequest) -> Result<Self, Error> {
        let pb::VerifySignatureRequest {
            manifest,
            signature,
        } = r;
        let mut v = Violations::new();
        if manifest.is_empty() || manifest.len() > 4 * 1024 * 1024 {
            v.add("manifest", "must be 1 byte to 4 MiB");
        }
        if signature.is_empty() || signature.len() > 1024 * 1024 {
            v.add("signature", "must be 1 byte to 1 MiB");
        }
        v.finish()?;
        Ok(SignedManifest {
            manifest,
            signature,
        })
    }
}

#[tonic::async_trait]
impl VerificationService for VerificationApi {
    async fn verify_letter(
        &self,
        req: Request<pb::VerifyLetterRequest>,
    ) -> Result<Response<pb::VerifyLetterResponse>, Status> {
        self.limit(&req)?;
        let VerificationCode(code) = VerificationCode::try_from(req.into_inner())?;
        let c = self.verifier.letter(&self.app.store, &code).await?;
        Ok(Response::new(pb::VerifyLetterResponse {
            valid: c.valid,
            reason: c.reason,
            number: c.number,
            sign_time: c.sign_time_us.map(to_timestamp),
            signer_name: c.signer_name,
            signer_position: c.signer_position,
            agency_name: c.agency_name,
            manifest_sha256: c.manifest_sha256,
            subject: c.subject,
        }))
    }

    async fn verify_signature(
        &self,
        req: Request<pb::VerifySignatureRequest>,
    ) -> Result<Response<pb::VerifySignatureResponse>, Status> {
        self.limit(&req)?;
        let s = SignedManifest::try_from(req.into_inner())?;
        let c = self
            .verifier
            .signature(&self.app.store, &s.manifest, &s.signature)
            .await?;
        Ok(Response::new(pb::VerifySignatureResponse {
            valid: c.valid,
            reason: c.reason,
            signer_name: c.signer_name,
            signer_nip: c.signer_nip,
            signer_position: c.signer_position,
            sign_time: c.sign_time_us.map(to_timestamp),
        }))
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
