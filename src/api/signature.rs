//! SignatureService: each request converted by a `TryFrom` that destructures
//! it whole, one call into `domain::signing`, the answer converted to
//! protobuf.

use std::sync::Arc;

use der::Decode;
use tonic::{Request, Response, Status};

use super::mutate::{Mutation, converted, mutate, mutate_request};
use super::{App, meta, principal};
use crate::clock::to_timestamp;
use crate::crypto::x509;
use crate::domain::context::Ctx;
use crate::domain::signing::{self as domain, KeyRecord};
use crate::error::{Error, Reason, Violations};
use crate::proto::signature_service_server::SignatureService;
use crate::proto::{self as pb, KeyAlgorithm};

/// Implements naskah.v1.SignatureService.
#[derive(Debug, Clone)]
pub struct SignatureApi {
    app: Arc<App>,
}

impl SignatureApi {
    /// A handler over the shared state.
    pub fn new(app: Arc<App>) -> Self {
        Self { app }
    }
}

fn cert_pb(k: KeyRecord) -> Result<pb::SigningCertificate, Error> {
    let cert = x509_cert::Certificate::from_der(&k.cert_der)
        .map_err(|e| Error::Internal(e.to_string()))?;
    let s = x509::subject_of(&cert);
    Ok(pb::SigningCertificate {
        serial: k.serial,
        certificate_pem: x509::to_pem(&k.cert_der).map_err(|e| Error::Internal(e.to_string()))?,
        subject: format!(
            "CN={}, serialNumber={}, title={}, O={}, C=ID",
            s.name, s.nip, s.position, s.agency
        ),
        not_before: Some(to_timestamp(k.not_before_us)),
        not_after: Some(to_timestamp(k.not_after_us)),
        algorithm: KeyAlgorithm::EcdsaP256 as i32,
        revoked: k.revoked_at_us.is_some(),
        revoke_time: k.revoked_at_us.map(to_timestamp),
        position_id: k.position_id,
    })
}

// ---- requests → inputs ----

/// EnrollSigningKey: the passphrase that seals the new key, and the position
/// its certificate names.
#[derive(Clone, Debug)]
struct Enrollment {
    passphrase: String,
    position_id: String,
}

/// RevokeCertificate.
#[derive(Clone, Debug)]
struct Revocation {
    serial: String,
    reason: String,
}

impl TryFrom<&pb::EnrollSigningKeyRequest> for Mutation<Enrollment> {
    type Error = Error;

    fn try_from(r: &pb::EnrollSigningKeyRequest) -> Result<Self, Error> {
        let pb::EnrollSigningKeyRequest {
            passphrase,
            algorithm,
            position_id,
            request_id,
        } = r;
        let mut v = Violations::new();
        if passphrase.is_empty() || passphrase.len() > 1024 {
            v.add("passphrase", "must be 1 to 1024 bytes long");
        }
        v.uuid("position_id", position_id, true);
        v.finish()?;
        match KeyAlgorithm::try_from(*algorithm) {
            Ok(KeyAlgorithm::Unspecified | KeyAlgorithm::EcdsaP256) => {}
            _ => {
                return Err(Error::rejected(
                    Reason::AlgorithmNotSupported,
                    "only ECDSA_P256 keys are issued",
                ));
            }
        }
        Ok(Mutation {
            request_id: request_id.clone(),
            input: Enrollment {
                passphrase: passphrase.clone(),
                position_id: position_id.clone(),
            },
        })
    }
}

impl TryFrom<pb::GetMyCertificateRequest> for () {
    type Error = Error;

    fn try_from(r: pb::GetMyCertificateRequest) -> Result<Self, Error> {
        let pb::GetMyCertificateRequest {} = r;
        Ok(())
    }
}

impl TryFrom<&pb::RevokeCertificateRequest> for Mutation<Revocation> {
    type Error = Error;

    fn try_from(r: &pb::RevokeCertificateRequest) -> Result<Self, Error> {
        let pb::RevokeCertificateRequest {
            serial,
            reason,
            request_id,
        } = r;
        let mut v = Violations::new();
        v.len("serial", serial, 1, 64);
        v.len("reason", reason, 0, 500);
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: Revocation {
                serial: serial.clone(),
                reason: reason.clone(),
            },
        })
    }
}

impl TryFrom<&pb::GetAgencyCertificateRequest> for () {
    type Error = Error;

    fn try_from(r: &pb::GetAgencyCertificateRequest) -> Result<Self, Error> {
        let pb::GetAgencyCertificateRequest {} = r;
        Ok(())
    }
}

#[tonic::async_trait]
impl SignatureService for SignatureApi {
    #[tracing::instrument(skip_all)]
    async fn enroll_signing_key(
        &self,
        req: Request<pb::EnrollSigningKeyRequest>,
    ) -> Result<Response<pb::EnrollSigningKeyResponse>, Status> {
        let (p, m, r, Mutation { request_id, input }) = converted::<_, Enrollment>(req)?;
        let (key, sealed) = domain::new_sealed_key(&input.passphrase).await?;
        // The request's fingerprint must not carry the passphrase.
        let fingerprint = pb::EnrollSigningKeyRequest {
            passphrase: String::new(),
            ..r
        };
        let out = mutate(&self.app, &p, &m, &request_id, &fingerprint, async |tx| {
            let rec = domain::enroll(
                tx,
                Ctx::new(&p, &m),
                &self.app.master_key,
                &input.position_id,
                &key,
                sealed.clone(),
            )
            .await?;
            Ok(pb::EnrollSigningKeyResponse {
                certificate: Some(cert_pb(rec)?),
            })
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn get_my_certificate(
        &self,
        req: Request<pb::GetMyCertificateRequest>,
    ) -> Result<Response<pb::SigningCertificate>, Status> {
        let p = principal(&req)?;
        let () = req.into_inner().try_into()?;
        Ok(Response::new(cert_pb(
            domain::my_certificate(&self.app.store, &p).await?,
        )?))
    }

    async fn revoke_certificate(
        &self,
        req: Request<pb::RevokeCertificateRequest>,
    ) -> Result<Response<pb::SigningCertificate>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, r: &Revocation| {
            cert_pb(domain::revoke(tx, ctx, &r.serial, &r.reason).await?)
        })
        .await
    }

    async fn get_agency_certificate(
        &self,
        req: Request<pb::GetAgencyCertificateRequest>,
    ) -> Result<Response<pb::GetAgencyCertificateResponse>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let () = (&r).try_into()?;
        let cert = match domain::agency_ca_cert(&self.app.store, &p.agency_id).await? {
            Some(c) => c,
            None => {
                let master = self.app.master_key;
                // The request has no request_id.
                mutate(&self.app, &p, &m, "", &r, async |tx| {
                    let (cert, _) = domain::agency_ca(tx, &master, &p.agency_id).await?;
                    Ok(pb::GetAgencyCertificateResponse {
                        certificate_pem: x509::to_pem(&cert)
                            .map_err(|e| Error::Internal(e.to_string()))?,
                    })
                })
                .await?;
                domain::agency_ca_cert(&self.app.store, &p.agency_id)
                    .await?
                    .unwrap_or_default()
            }
        };
        let pem = x509::to_pem(&cert).map_err(|e| Status::from(Error::Internal(e.to_string())))?;
        Ok(Response::new(pb::GetAgencyCertificateResponse {
            certificate_pem: pem,
        }))
    }
}
