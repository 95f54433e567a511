//! Certificates: the agency CA and the signers' certificates.

use std::str::FromStr;
use std::time::Duration;

use der::asn1::{PrintableStringRef, SetOfVec, UtcTime, Utf8StringRef};
use der::{Any, Decode, Encode, EncodePem, Tag};
use p256::ecdsa::{DerSignature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rand_core::{OsRng, RngCore};
use spki::{EncodePublicKey, SubjectPublicKeyInfoOwned};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::certificate::Certificate;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use super::CryptoError;

const OID_CN: &str = "2.5.4.3";
const OID_SERIAL_NUMBER: &str = "2.5.4.5";
const OID_COUNTRY: &str = "2.5.4.6";
const OID_ORG: &str = "2.5.4.10";
const OID_TITLE: &str = "2.5.4.12";

/// Who a signer certificate names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignerSubject {
    /// Full name (CN).
    pub name: String,
    /// NIP (serialNumber); may be empty.
    pub nip: String,
    /// Position name (title).
    pub position: String,
    /// Agency name (O).
    pub agency: String,
}

fn rdn(oid: &str, value: &str, printable: bool) -> Result<RelativeDistinguishedName, CryptoError> {
    let oid = const_oid::ObjectIdentifier::from_str(oid).map_err(CryptoError::failed)?;
    let value = if printable {
        Any::from(PrintableStringRef::new(value).map_err(CryptoError::failed)?)
    } else {
        Any::new(
            Tag::Utf8String,
            Utf8StringRef::new(value)
                .map_err(CryptoError::failed)?
                .as_bytes(),
        )
        .map_err(CryptoError::failed)?
    };
    let mut set = SetOfVec::new();
    set.insert(AttributeTypeAndValue { oid, value })
        .map_err(CryptoError::failed)?;
    Ok(RelativeDistinguishedName(set))
}

fn name(parts: &[(&str, &str, bool)]) -> Result<Name, CryptoError> {
    let mut rdns = Vec::new();
    for (oid, value, printable) in parts {
        if !value.is_empty() {
            rdns.push(rdn(oid, value, *printable)?);
        }
    }
    Ok(RdnSequence(rdns))
}

fn validity(now_secs: u64, years: u64) -> Result<Validity, CryptoError> {
    let start = now_secs.saturating_sub(300);
    let end = now_secs + years * 365 * 24 * 3600;
    Ok(Validity {
        not_before: Time::UtcTime(
            UtcTime::from_unix_duration(Duration::from_secs(start)).map_err(CryptoError::failed)?,
        ),
        not_after: Time::UtcTime(
            UtcTime::from_unix_duration(Duration::from_secs(end)).map_err(CryptoError::failed)?,
        ),
    })
}

fn serial() -> Result<(SerialNumber, String), CryptoError> {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    Ok((
        SerialNumber::new(&bytes).map_err(CryptoError::failed)?,
        hex::encode(bytes),
    ))
}

/// A new ECDSA P-256 key as PKCS#8 DER.
pub fn new_key() -> Result<(SigningKey, Vec<u8>), CryptoError> {
    let key = SigningKey::random(&mut OsRng);
    let der = key
        .to_pkcs8_der()
        .map_err(CryptoError::failed)?
        .as_bytes()
        .to_vec();
    Ok((key, der))
}

/// Loads a PKCS#8 DER P-256 key.
pub fn load_key(pkcs8_der: &[u8]) -> Result<SigningKey, CryptoError> {
    SigningKey::from_pkcs8_der(pkcs8_der).map_err(CryptoError::failed)
}

/// A new agency CA: (certificate DER, PKCS#8 key DER, serial hex).
pub fn new_agency_ca(
    agency_name: &str,
    agency_code: &str,
    now_secs: u64,
) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
    let (key, key_der) = new_key()?;
    let cn = format!("{agency_name} CA");
    let subject = name(&[
        (OID_COUNTRY, "ID", true),
        (OID_ORG, agency_name, false),
        (OID_CN, &cn, false),
        (OID_SERIAL_NUMBER, agency_code, true),
    ])?;
    let spki =
        SubjectPublicKeyInfoOwned::from_key(*key.verifying_key()).map_err(CryptoError::failed)?;
    let (serial, _) = serial()?;
    let builder = CertificateBuilder::new(
        Profile::Root,
        serial,
        validity(now_secs, 10)?,
        subject,
        spki,
        &key,
    )
    .map_err(CryptoError::failed)?;
    let cert = builder
        .build::<DerSignature>()
        .map_err(CryptoError::failed)?;
    Ok((cert.to_der().map_err(CryptoError::failed)?, key_der))
}

/// Issues a signer certificate for `public_key`: (certificate DER, serial hex).
pub fn issue_signer_cert(
    ca_cert_der: &[u8],
    ca_key: &SigningKey,
    subject: &SignerSubject,
    public_key: &VerifyingKey,
    now_secs: u64,
) -> Result<(Vec<u8>, String), CryptoError> {
    let ca = Certificate::from_der(ca_cert_der).map_err(CryptoError::failed)?;
    let subject_name = name(&[
        (OID_COUNTRY, "ID", true),
        (OID_ORG, &subject.agency, false),
        (OID_TITLE, &subject.position, false),
        (OID_SERIAL_NUMBER, &subject.nip, true),
        (OID_CN, &subject.name, false),
    ])?;
    let spki = SubjectPublicKeyInfoOwned::from_key(*public_key).map_err(CryptoError::failed)?;
    let (serial, serial_hex) = serial()?;
    let profile = Profile::Leaf {
        issuer: ca.tbs_certificate.subject.clone(),
        enable_key_agreement: false,
        enable_key_encipherment: false,
    };
    let builder = CertificateBuilder::new(
        profile,
        serial,
        validity(now_secs, 2)?,
        subject_name,
        spki,
        ca_key,
    )
    .map_err(CryptoError::failed)?;
    let cert = builder
        .build::<DerSignature>()
        .map_err(CryptoError::failed)?;
    Ok((cert.to_der().map_err(CryptoError::failed)?, serial_hex))
}

/// The DNS name an agency's exchange certificate carries (and TLS checks):
/// `<code in lower case>.exchange.naskah`.
pub fn exchange_dns_name(agency_code: &str) -> String {
    format!("{}.exchange.naskah", agency_code.to_ascii_lowercase())
}

/// Issues an agency's exchange certificate (TLS client and server, and the
/// signer of envelopes, receipts and outcomes): (certificate DER, serial hex).
pub fn issue_exchange_cert(
    ca_cert_der: &[u8],
    ca_key: &SigningKey,
    agency_name: &str,
    agency_code: &str,
    public_key: &VerifyingKey,
    now_secs: u64,
) -> Result<(Vec<u8>, String), CryptoError> {
    use x509_cert::ext::pkix::name::GeneralName;
    use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectAltName};
    let ca = Certificate::from_der(ca_cert_der).map_err(CryptoError::failed)?;
    let cn = format!("{agency_name} exchange");
    let subject_name = name(&[
        (OID_COUNTRY, "ID", true),
        (OID_ORG, agency_name, false),
        (OID_SERIAL_NUMBER, agency_code, true),
        (OID_CN, &cn, false),
    ])?;
    let spki = SubjectPublicKeyInfoOwned::from_key(*public_key).map_err(CryptoError::failed)?;
    let (serial, serial_hex) = serial()?;
    let profile = Profile::Leaf {
        issuer: ca.tbs_certificate.subject.clone(),
        enable_key_agreement: false,
        enable_key_encipherment: false,
    };
    let mut builder = CertificateBuilder::new(
        profile,
        serial,
        validity(now_secs, 2)?,
        subject_name,
        spki,
        ca_key,
    )
    .map_err(CryptoError::failed)?;
    let dns =
        der::asn1::Ia5String::new(&exchange_dns_name(agency_code)).map_err(CryptoError::failed)?;
    builder
        .add_extension(&SubjectAltName(vec![GeneralName::DnsName(dns)]))
        .map_err(CryptoError::failed)?;
    builder
        .add_extension(&ExtendedKeyUsage(vec![
            const_oid::db::rfc5280::ID_KP_SERVER_AUTH,
            const_oid::db::rfc5280::ID_KP_CLIENT_AUTH,
        ]))
        .map_err(CryptoError::failed)?;
    let cert = builder
        .build::<DerSignature>()
        .map_err(CryptoError::failed)?;
    Ok((cert.to_der().map_err(CryptoError::failed)?, serial_hex))
}

/// The agency code an exchange certificate names (its serialNumber attribute).
pub fn exchange_agency_code(cert: &Certificate) -> String {
    subject_of(cert).nip
}

/// PEM of a certificate.
pub fn to_pem(cert_der: &[u8]) -> Result<String, CryptoError> {
    let cert = Certificate::from_der(cert_der).map_err(CryptoError::failed)?;
    cert.to_pem(der::pem::LineEnding::LF)
        .map_err(CryptoError::failed)
}

/// The subject fields of a signer certificate.
pub fn subject_of(cert: &Certificate) -> SignerSubject {
    let mut s = SignerSubject::default();
    for rdn in cert.tbs_certificate.subject.0.iter() {
        for atv in rdn.0.iter() {
            let value = String::from_utf8_lossy(atv.value.value()).into_owned();
            match atv.oid.to_string().as_str() {
                OID_CN => s.name = value,
                OID_SERIAL_NUMBER => s.nip = value,
                OID_TITLE => s.position = value,
                OID_ORG => s.agency = value,
                _ => {}
            }
        }
    }
    s
}

/// Hex serial of a certificate.
pub fn serial_hex(cert: &Certificate) -> String {
    hex::encode(cert.tbs_certificate.serial_number.as_bytes())
}

/// Validity of a certificate in seconds since the epoch.
pub fn validity_secs(cert: &Certificate) -> (i64, i64) {
    let v = &cert.tbs_certificate.validity;
    (
        v.not_before.to_unix_duration().as_secs() as i64,
        v.not_after.to_unix_duration().as_secs() as i64,
    )
}

/// Checks that `cert` was issued and signed by `ca`.
pub fn issued_by(cert: &Certificate, ca: &Certificate) -> bool {
    use signature::Verifier;
    if cert.tbs_certificate.issuer != ca.tbs_certificate.subject {
        return false;
    }
    let Ok(ca_key) = VerifyingKey::from_sec1_bytes(
        ca.tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes(),
    ) else {
        return false;
    };
    let Ok(tbs) = cert.tbs_certificate.to_der() else {
        return false;
    };
    let Ok(sig) = DerSignature::from_bytes(cert.signature.raw_bytes()) else {
        return false;
    };
    ca_key.verify(&tbs, &sig).is_ok()
}

/// The P-256 public key of a certificate.
pub fn public_key(cert: &Certificate) -> Option<VerifyingKey> {
    VerifyingKey::from_sec1_bytes(
        cert.tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes(),
    )
    .ok()
}

/// DER of the public key of a signing key (for comparisons).
pub fn public_key_der(key: &SigningKey) -> Result<Vec<u8>, CryptoError> {
    Ok(key
        .verifying_key()
        .to_public_key_der()
        .map_err(CryptoError::failed)?
        .as_bytes()
        .to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signer_certificates_chain_to_their_agency_ca_only() {
        let (ca_der, ca_key_der) =
            new_agency_ca("Pemerintah Provinsi Nusantara", "DEMO-PROV", 1_790_000_000).expect("ca");
        let ca_key = load_key(&ca_key_der).expect("key");
        let (signer, _) = new_key().expect("signer key");
        let subject = SignerSubject {
            name: "Ir. Sri Handayani, M.Si.".into(),
            nip: "196803121992032002".into(),
            position: "Sekretaris Daerah".into(),
            agency: "Pemerintah Provinsi Nusantara".into(),
        };
        let (cert_der, serial) = issue_signer_cert(
            &ca_der,
            &ca_key,
            &subject,
            signer.verifying_key(),
            1_790_000_000,
        )
        .expect("issue");
        let cert = Certificate::from_der(&cert_der).expect("parse");
        let ca = Certificate::from_der(&ca_der).expect("parse ca");
        assert!(issued_by(&cert, &ca));
        assert_eq!(subject_of(&cert), subject);
        assert_eq!(serial_hex(&cert), serial);
        let (other_ca, _) = new_agency_ca("Lain", "LAIN", 1_790_000_000).expect("ca");
        assert!(!issued_by(
            &cert,
            &Certificate::from_der(&other_ca).expect("parse")
        ));
        assert!(
            to_pem(&cert_der)
                .expect("pem")
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
    }
}
