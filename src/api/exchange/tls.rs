//! Mutual TLS of the exchange port, with rustls: the server presents the
//! exchange certificate of the agency the client names by SNI
//! (`<code>.exchange.naskah`) and accepts only client certificates that
//! chain to a CA in some agency's peer directory (or of an agency of this
//! installation); the handlers then check which agency the certificate
//! speaks for. Both follow the directory as it changes, without a restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme};

use crate::crypto::x509::exchange_dns_name;
use crate::domain::exchange::{Exchange, Snapshot};

fn provider() -> Arc<CryptoProvider> {
    // The ring provider's defaults (the post-quantum hybrid is aws-lc-rs only).
    #[allow(deprecated)]
    let p = rustls::crypto::ring::default_provider();
    Arc::new(p)
}

/// The exchange port's TLS settings.
pub fn server_config(ex: Arc<Exchange>) -> anyhow::Result<rustls::ServerConfig> {
    let verifier = Arc::new(PinnedPeers {
        ex: ex.clone(),
        built: Mutex::new(None),
    });
    let resolver = Arc::new(Identities {
        ex,
        built: Mutex::new(HashMap::new()),
    });
    let mut c = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(resolver);
    c.alpn_protocols = vec![b"h2".to_vec()];
    Ok(c)
}

/// A verifier built for one snapshot (none when nothing is trusted).
type Built = (Arc<Snapshot>, Option<Arc<dyn ClientCertVerifier>>);

/// The client certificate verifier: WebPKI over the CAs of the current
/// snapshot, rebuilt when the snapshot changes.
struct PinnedPeers {
    ex: Arc<Exchange>,
    built: Mutex<Option<Built>>,
}

impl std::fmt::Debug for PinnedPeers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PinnedPeers")
    }
}

impl PinnedPeers {
    fn inner(&self) -> Option<Arc<dyn ClientCertVerifier>> {
        let snap = self.ex.snapshot();
        let mut built = self.built.lock().ok()?;
        if let Some((s, v)) = built.as_ref()
            && Arc::ptr_eq(s, &snap)
        {
            return v.clone();
        }
        let mut roots = RootCertStore::empty();
        for ca in &snap.trusted_cas {
            let _ = roots.add(CertificateDer::from(ca.clone()));
        }
        let v = if roots.is_empty() {
            None
        } else {
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .ok()
        };
        *built = Some((snap, v.clone()));
        v
    }
}

impl ClientCertVerifier for PinnedPeers {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        match self.inner() {
            Some(v) => v.verify_client_cert(end_entity, intermediates, now),
            None => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &provider().signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &provider().signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The server certificate resolver: the identity named by SNI.
struct Identities {
    ex: Arc<Exchange>,
    built: Mutex<HashMap<String, Arc<CertifiedKey>>>,
}

impl std::fmt::Debug for Identities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Identities")
    }
}

impl ResolvesServerCert for Identities {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let name = hello.server_name()?.to_ascii_lowercase();
        let snap = self.ex.snapshot();
        let id = snap
            .identities
            .iter()
            .find(|i| exchange_dns_name(&i.code) == name)?;
        let key_id = format!(
            "{name}/{}",
            hex::encode(&id.cert_der[id.cert_der.len().saturating_sub(16)..])
        );
        let mut built = self.built.lock().ok()?;
        if let Some(k) = built.get(&key_id) {
            return Some(k.clone());
        }
        let key = rustls::crypto::ring::sign::any_ecdsa_type(&PrivateKeyDer::Pkcs8(
            id.key_pkcs8.clone().into(),
        ))
        .ok()?;
        let ck = Arc::new(CertifiedKey::new(
            vec![
                CertificateDer::from(id.cert_der.clone()),
                CertificateDer::from(id.ca_der.clone()),
            ],
            key,
        ));
        built.insert(key_id, ck.clone());
        Some(ck)
    }
}
