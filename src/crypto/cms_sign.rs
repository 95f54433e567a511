//! CMS (RFC 5652) detached SignedData: making and checking signatures.

use cms::builder::{SignedDataBuilder, SignerInfoBuilder, create_signing_time_attribute};
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{EncapsulatedContentInfo, SignedData, SignerIdentifier};
use der::{Decode, Encode};
use p256::ecdsa::{DerSignature, SigningKey};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::certificate::Certificate;

use super::CryptoError;
use super::x509::{issued_by, public_key, serial_hex};

/// Signs `content` (detached) with `key`, embedding `cert_der`. Returns DER.
pub fn sign_detached(
    key: &SigningKey,
    cert_der: &[u8],
    content: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let cert = Certificate::from_der(cert_der).map_err(CryptoError::failed)?;
    let digest = Sha256::digest(content);
    let eci = EncapsulatedContentInfo {
        econtent_type: const_oid::db::rfc5911::ID_DATA,
        econtent: None,
    };
    let sha256 = AlgorithmIdentifierOwned {
        oid: const_oid::db::rfc5912::ID_SHA_256,
        parameters: None,
    };
    let sid = SignerIdentifier::IssuerAndSerialNumber(cms::cert::IssuerAndSerialNumber {
        issuer: cert.tbs_certificate.issuer.clone(),
        serial_number: cert.tbs_certificate.serial_number.clone(),
    });
    let mut signer_info = SignerInfoBuilder::new(key, sid, sha256.clone(), &eci, Some(&digest[..]))
        .map_err(|e| CryptoError::Failed(format!("{e:?}")))?;
    signer_info
        .add_signed_attribute(
            create_signing_time_attribute().map_err(|e| CryptoError::Failed(format!("{e:?}")))?,
        )
        .map_err(|e| CryptoError::Failed(format!("{e:?}")))?;
    let mut builder = SignedDataBuilder::new(&eci);
    let ci = builder
        .add_digest_algorithm(sha256)
        .and_then(|b| b.add_certificate(CertificateChoices::Certificate(cert)))
        .and_then(|b| b.add_signer_info::<SigningKey, DerSignature>(signer_info))
        .and_then(|b| b.build())
        .map_err(|e| CryptoError::Failed(format!("{e:?}")))?;
    ci.to_der().map_err(CryptoError::failed)
}

/// What a valid signature says.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The signer's certificate.
    pub cert: Certificate,
    /// Serial of that certificate, hex.
    pub serial: String,
    /// Signing time from the signed attributes, seconds since the epoch.
    pub signing_time_secs: Option<i64>,
}

/// Why a signature is not valid. The codes are stable (VerifySignature reasons).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invalid {
    /// Not a CMS SignedData.
    Malformed,
    /// No certificate matching the signer.
    NoCertificate,
    /// The certificate was not issued by this agency's CA.
    UnknownIssuer,
    /// The content's digest differs from the signed one (content modified).
    DigestMismatch,
    /// The signature over the signed attributes does not verify.
    BadSignature,
}

impl Invalid {
    /// Stable reason code.
    pub fn code(self) -> &'static str {
        match self {
            Invalid::Malformed => "MALFORMED_SIGNATURE",
            Invalid::NoCertificate => "NO_CERTIFICATE",
            Invalid::UnknownIssuer => "UNKNOWN_ISSUER",
            Invalid::DigestMismatch => "DIGEST_MISMATCH",
            Invalid::BadSignature => "BAD_SIGNATURE",
        }
    }
}

/// Checks a detached signature over `content` against the CA certificate.
pub fn verify_detached(
    signature_der: &[u8],
    content: &[u8],
    ca_cert_der: &[u8],
) -> Result<Verified, Invalid> {
    use signature::Verifier;
    let ca = Certificate::from_der(ca_cert_der).map_err(|_| Invalid::Malformed)?;
    let ci = ContentInfo::from_der(signature_der).map_err(|_| Invalid::Malformed)?;
    if ci.content_type != const_oid::db::rfc5911::ID_SIGNED_DATA {
        return Err(Invalid::Malformed);
    }
    let sd: SignedData = ci.content.decode_as().map_err(|_| Invalid::Malformed)?;
    let si = sd.signer_infos.0.iter().next().ok_or(Invalid::Malformed)?;
    let SignerIdentifier::IssuerAndSerialNumber(ias) = &si.sid else {
        return Err(Invalid::NoCertificate);
    };
    let cert = sd
        .certificates
        .as_ref()
        .and_then(|set| {
            set.0.iter().find_map(|c| match c {
                CertificateChoices::Certificate(c)
                    if c.tbs_certificate.serial_number == ias.serial_number
                        && c.tbs_certificate.issuer == ias.issuer =>
                {
                    Some(c.clone())
                }
                _ => None,
            })
        })
        .ok_or(Invalid::NoCertificate)?;
    if !issued_by(&cert, &ca) {
        return Err(Invalid::UnknownIssuer);
    }
    let attrs = si.signed_attrs.as_ref().ok_or(Invalid::Malformed)?;
    let mut digest_ok = false;
    let mut signing_time_secs = None;
    for attr in attrs.iter() {
        if attr.oid == const_oid::db::rfc5911::ID_MESSAGE_DIGEST {
            let v = attr.values.iter().next().ok_or(Invalid::Malformed)?;
            let os: der::asn1::OctetString = v.decode_as().map_err(|_| Invalid::Malformed)?;
            digest_ok = os.as_bytes() == &Sha256::digest(content)[..];
        } else if attr.oid == const_oid::db::rfc5911::ID_SIGNING_TIME
            && let Some(v) = attr.values.iter().next()
            && let Ok(t) = v.to_der().and_then(|d| x509_cert::time::Time::from_der(&d))
        {
            signing_time_secs = Some(t.to_unix_duration().as_secs() as i64);
        }
    }
    if !digest_ok {
        return Err(Invalid::DigestMismatch);
    }
    let signed = attrs.to_der().map_err(|_| Invalid::Malformed)?;
    let key = public_key(&cert).ok_or(Invalid::BadSignature)?;
    let sig =
        DerSignature::from_bytes(si.signature.as_bytes()).map_err(|_| Invalid::BadSignature)?;
    key.verify(&signed, &sig)
        .map_err(|_| Invalid::BadSignature)?;
    let serial = serial_hex(&cert);
    Ok(Verified {
        cert,
        serial,
        signing_time_secs,
    })
}

#[cfg(test)]
mod tests {
    use super::super::x509::*;
    use super::*;

    #[test]
    fn detached_signatures_verify_and_catch_changes() {
        let (ca_der, ca_key_der) = new_agency_ca("Instansi Uji", "UJI", 1_790_000_000).expect("ca");
        let ca_key = load_key(&ca_key_der).expect("ca key");
        let (key, _) = new_key().expect("key");
        let subject = SignerSubject {
            name: "Penandatangan".into(),
            nip: String::new(),
            position: "Kepala".into(),
            agency: "Instansi Uji".into(),
        };
        let (cert, serial) = issue_signer_cert(
            &ca_der,
            &ca_key,
            &subject,
            key.verifying_key(),
            1_790_000_000,
        )
        .expect("cert");
        let sig = sign_detached(&key, &cert, b"manifest bytes").expect("sign");
        let ok = verify_detached(&sig, b"manifest bytes", &ca_der).expect("valid");
        assert_eq!(ok.serial, serial);
        assert!(ok.signing_time_secs.is_some());
        assert_eq!(
            verify_detached(&sig, b"manifest bytez", &ca_der).unwrap_err(),
            Invalid::DigestMismatch
        );
        let (other_ca, _) = new_agency_ca("Lain", "LAIN", 1_790_000_000).expect("ca");
        assert_eq!(
            verify_detached(&sig, b"manifest bytes", &other_ca).unwrap_err(),
            Invalid::UnknownIssuer
        );
        assert_eq!(
            verify_detached(b"junk", b"manifest bytes", &ca_der).unwrap_err(),
            Invalid::Malformed
        );
    }
}
