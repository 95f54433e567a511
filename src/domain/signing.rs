//! Agency CAs and the signers' keys (TTE).

use p256::ecdsa::SigningKey;
use x509_cert::certificate::Certificate;

use super::context::Ctx;
use crate::auth::Principal;
use crate::crypto::{CryptoError, seal, x509};
use crate::error::{Error, Reason, Result};
use crate::proto::Role;
use crate::store::identity as idq;
use crate::store::signing as q;
pub use crate::store::signing::KeyRecord;
use crate::store::{Store, WriteTx};

/// Key algorithm code of ECDSA P-256 (the `KeyAlgorithm` enum's number).
pub const ALG_ECDSA_P256: i16 = 1;

fn crypto(e: CryptoError) -> Error {
    Error::Internal(e.to_string())
}

/// The agency's CA (certificate DER, signing key), created on first use.
pub async fn agency_ca(
    tx: &mut WriteTx,
    master: &[u8; 32],
    agency_id: &str,
) -> Result<(Vec<u8>, SigningKey)> {
    if let Some((cert, sealed)) = q::agency_ca(&*tx, agency_id).await? {
        let key_der = seal::open_with_key(master, &sealed).map_err(crypto)?;
        return Ok((cert, x509::load_key(&key_der).map_err(crypto)?));
    }
    let names = q::agency(&*tx, agency_id)
        .await?
        .ok_or_else(|| Error::Internal(format!("agency {agency_id} is missing")))?;
    let (name, code) = (names.name, names.code);
    let now_secs = (tx.now_us() / 1_000_000).max(0) as u64;
    let (cert, key_der) = x509::new_agency_ca(&name, &code, now_secs).map_err(crypto)?;
    let sealed = seal::seal_with_key(master, &key_der).map_err(crypto)?;
    q::insert_agency_ca(&*tx, agency_id, &cert, &sealed, tx.now_us()).await?;
    let mut ev = crate::audit::NewEvent::success("system/agency-ca", "agency", agency_id);
    ev.agency_id = agency_id.to_owned();
    ev.summary = "agency CA created".into();
    tx.audit(ev);
    Ok((cert, x509::load_key(&key_der).map_err(crypto)?))
}

/// The agency CA certificate DER, if it exists yet.
pub async fn agency_ca_cert(store: &Store, agency_id: &str) -> Result<Option<Vec<u8>>> {
    Ok(q::agency_ca(store, agency_id).await?.map(|(c, _)| c))
}

/// A new key sealed under the passphrase: (key, sealed PKCS#8). Made off the async threads.
pub async fn new_sealed_key(passphrase: &str) -> Result<(SigningKey, Vec<u8>)> {
    if passphrase.chars().count() < 12 {
        return Err(Error::rejected(
            Reason::WeakPassphrase,
            "the passphrase needs at least 12 characters",
        ));
    }
    let pass = passphrase.to_owned();
    crate::crypto::run_kdf(move || {
        let (key, der) = x509::new_key()?;
        let sealed = seal::seal_with_passphrase(&pass, &der)?;
        Ok::<_, CryptoError>((key, sealed))
    })
    .await
    .map_err(|e| Error::Internal(format!("key task: {e}")))?
    .map_err(crypto)
}

/// Enrolls a key for the caller acting for `position_id`: issues a certificate from
/// the agency CA and revokes the caller's previous keys.
pub async fn enroll(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    master: &[u8; 32],
    position_id: &str,
    key: &SigningKey,
    sealed: Vec<u8>,
) -> Result<KeyRecord> {
    let p = ctx.principal;
    let held = idq::held_positions(&*tx, &p.user_id, tx.now_us()).await?;
    let position = held
        .iter()
        .find(|h| h.position_id == position_id)
        .ok_or_else(|| {
            Error::rejected(
                Reason::NotPositionHolder,
                "you do not hold that position now",
            )
        })?;
    let user = idq::user_by_id(&*tx, &p.user_id)
        .await?
        .ok_or_else(|| Error::Internal("caller vanished".into()))?;
    let agency_name = q::agency(&*tx, &p.agency_id)
        .await?
        .unwrap_or_default()
        .name;
    let (ca_cert, ca_key) = agency_ca(tx, master, &p.agency_id).await?;
    let subject = x509::SignerSubject {
        name: user.full_name.clone(),
        nip: user.nip.clone(),
        position: position.position_name.clone(),
        agency: agency_name,
    };
    let now_secs = (tx.now_us() / 1_000_000).max(0) as u64;
    let (cert_der, serial) =
        x509::issue_signer_cert(&ca_cert, &ca_key, &subject, key.verifying_key(), now_secs)
            .map_err(crypto)?;
    let cert: Certificate =
        der::Decode::from_der(&cert_der).map_err(|e| Error::Internal(e.to_string()))?;
    let (nb, na) = x509::validity_secs(&cert);
    let replaced = q::revoke_user_keys(
        &*tx,
        &p.user_id,
        tx.now_us(),
        "superseded by a new enrolment",
    )
    .await?;
    let rec = KeyRecord {
        serial: serial.clone(),
        agency_id: p.agency_id.clone(),
        user_id: p.user_id.clone(),
        position_id: position_id.to_owned(),
        algorithm: ALG_ECDSA_P256,
        cert_der,
        sealed_key: sealed,
        not_before_us: nb * 1_000_000,
        not_after_us: na * 1_000_000,
        revoked_at_us: None,
        revoke_reason: String::new(),
        created_at_us: tx.now_us(),
    };
    q::insert_key(&*tx, &rec).await?;
    let mut ev = ctx.event(
        "certificate",
        &serial,
        format!("signing key enrolled; {replaced} previous certificate(s) revoked"),
    );
    ev.actor_position_id = position_id.to_owned();
    tx.audit(ev);
    Ok(rec)
}

/// The caller's current certificate.
pub async fn my_certificate(store: &Store, p: &Principal) -> Result<KeyRecord> {
    q::current_key(store, &p.user_id).await?.ok_or_else(|| {
        Error::rejected(
            Reason::NoSigningKey,
            "you have no signing key; enroll one first",
        )
    })
}

/// Revokes a certificate: one's own, or any of the agency's for an AGENCY_ADMIN.
pub async fn revoke(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    serial: &str,
    reason: &str,
) -> Result<KeyRecord> {
    let p = ctx.principal;
    let mut rec = q::key_by_serial(&*tx, &p.agency_id, serial)
        .await?
        .ok_or_else(|| Error::rejected(Reason::CertificateNotFound, "certificate not found"))?;
    if rec.user_id != p.user_id && !p.has(Role::AgencyAdmin) {
        return Err(Error::rejected(
            Reason::NotCertificateOwner,
            "you may revoke only your own certificate",
        ));
    }
    if rec.revoked_at_us.is_none() {
        q::revoke(&*tx, serial, tx.now_us(), reason).await?;
        rec.revoked_at_us = Some(tx.now_us());
        rec.revoke_reason = reason.to_owned();
    }
    tx.audit(ctx.event("certificate", serial, "certificate revoked"));
    Ok(rec)
}

/// Opens the caller's signing key with the passphrase (argon2id, off the async threads).
pub async fn unlock(
    store: &Store,
    user_id: &str,
    passphrase: &str,
) -> Result<(SigningKey, KeyRecord)> {
    let rec = match q::latest_key(store, user_id).await? {
        None => {
            return Err(Error::rejected(
                Reason::NoSigningKey,
                "you have no signing key; enroll one first",
            ));
        }
        Some(r) if r.revoked_at_us.is_some() => {
            return Err(Error::rejected(
                Reason::CertificateRevoked,
                "your signing certificate is revoked; enroll a new key",
            ));
        }
        Some(r) => r,
    };
    let sealed = rec.sealed_key.clone();
    let pass = passphrase.to_owned();
    let opened = crate::crypto::run_kdf(move || seal::open_with_passphrase(&pass, &sealed))
        .await
        .map_err(|e| Error::Internal(format!("key task: {e}")))?;
    let der = match opened {
        Ok(d) => d,
        Err(CryptoError::WrongPassphrase) => {
            return Err(Error::rejected(
                Reason::WrongPassphrase,
                "the passphrase is wrong",
            ));
        }
        Err(e) => return Err(crypto(e)),
    };
    Ok((x509::load_key(&der).map_err(crypto)?, rec))
}

/// Unlocks the caller's key for signing `resource_type` `resource_id`; a refusal
/// (wrong passphrase, revoked or missing key) is audited as a failure on that
/// resource, in its own transaction, before it is returned.
pub async fn unlock_audited(
    store: &Store,
    p: &crate::auth::Principal,
    meta: &crate::auth::RequestMeta,
    resource_type: &str,
    resource_id: &str,
    passphrase: &str,
) -> Result<(SigningKey, KeyRecord)> {
    match unlock(store, &p.user_id, passphrase).await {
        Ok(k) => Ok(k),
        Err(e) => {
            if let Some(
                reason @ (Reason::WrongPassphrase
                | Reason::CertificateRevoked
                | Reason::NoSigningKey),
            ) = e.reason()
            {
                let mut tx = store.begin_write().await?;
                let mut ev = super::context::Ctx::new(p, meta).event(
                    resource_type,
                    resource_id,
                    "signing refused",
                );
                ev.outcome = crate::audit::Outcome::Failure;
                ev.reason = reason.as_str().to_owned();
                tx.audit(ev);
                tx.commit().await?;
            }
            Err(e)
        }
    }
}
