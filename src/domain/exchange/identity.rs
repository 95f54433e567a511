//! Each agency's exchange identity: a P-256 key and a certificate from the
//! agency's CA naming the agency (serialNumber = its code, DNS name
//! `<code>.exchange.naskah`), made on first use; its key is sealed under the
//! installation's master key.

use std::sync::Arc;

use p256::ecdsa::SigningKey;

use super::{Exchange, crypto};
use crate::crypto::{seal, x509};
use crate::error::{Error, Result};
use crate::store::exchange as q;
use crate::store::{Db, Store, WriteTx};

/// An agency's exchange identity.
#[derive(Clone)]
pub struct Identity {
    /// The agency's id.
    pub agency_id: String,
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// The exchange certificate (DER).
    pub cert_der: Vec<u8>,
    /// Its key.
    pub key: SigningKey,
    /// Its key, PKCS#8 DER.
    pub key_pkcs8: Vec<u8>,
    /// The agency's CA certificate (DER).
    pub ca_der: Vec<u8>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("agency_id", &self.agency_id)
            .field("code", &self.code)
            .finish_non_exhaustive()
    }
}

/// The agency's exchange identity as stored, if it has one.
pub async fn read(db: &impl Db, master: &[u8; 32], agency_id: &str) -> Result<Option<Identity>> {
    let Some((cert_der, sealed)) = q::identity(db, agency_id).await? else {
        return Ok(None);
    };
    let names = crate::store::signing::agency(db, agency_id)
        .await?
        .ok_or_else(|| Error::Internal(format!("agency {agency_id} is missing")))?;
    let (ca_der, _) = crate::store::signing::agency_ca(db, agency_id)
        .await?
        .ok_or_else(|| Error::Internal(format!("agency {agency_id} has no CA")))?;
    let key_pkcs8 = seal::open_with_key(master, &sealed).map_err(crypto)?;
    Ok(Some(Identity {
        agency_id: agency_id.to_owned(),
        code: names.code,
        name: names.name,
        cert_der,
        key: x509::load_key(&key_pkcs8).map_err(crypto)?,
        key_pkcs8,
        ca_der,
    }))
}

/// The agency's exchange identity, made (with the agency CA, if need be) in
/// `tx` when it has none.
pub async fn ensure(tx: &mut WriteTx, master: &[u8; 32], agency_id: &str) -> Result<Identity> {
    Ok(made(tx, master, agency_id).await?.0)
}

/// [`ensure`], and whether it made the identity (and recorded its event).
async fn made(tx: &mut WriteTx, master: &[u8; 32], agency_id: &str) -> Result<(Identity, bool)> {
    if let Some(id) = read(&*tx, master, agency_id).await? {
        return Ok((id, false));
    }
    let names = crate::store::signing::agency(&*tx, agency_id)
        .await?
        .ok_or_else(|| Error::Internal(format!("agency {agency_id} is missing")))?;
    let (ca_der, ca_key) = crate::domain::signing::agency_ca(tx, master, agency_id).await?;
    let (key, key_pkcs8) = x509::new_key().map_err(crypto)?;
    let now_secs = (tx.now_us() / 1_000_000).max(0) as u64;
    let (cert_der, serial) = x509::issue_exchange_cert(
        &ca_der,
        &ca_key,
        &names.name,
        &names.code,
        key.verifying_key(),
        now_secs,
    )
    .map_err(crypto)?;
    let sealed = seal::seal_with_key(master, &key_pkcs8).map_err(crypto)?;
    q::insert_identity(&*tx, agency_id, &cert_der, &sealed, tx.now_us()).await?;
    let mut ev = crate::audit::NewEvent::success("system/exchange-identity", "agency", agency_id);
    ev.agency_id = agency_id.to_owned();
    ev.summary = format!("exchange certificate {serial} issued");
    tx.audit(ev);
    Ok((
        Identity {
            agency_id: agency_id.to_owned(),
            code: names.code,
            name: names.name,
            cert_der,
            key,
            key_pkcs8,
            ca_der,
        },
        true,
    ))
}

/// The agency's exchange identity, from memory once loaded; made in a
/// transaction of its own when the agency has none yet.
pub async fn load(store: &Store, ex: &Exchange, agency_id: &str) -> Result<Arc<Identity>> {
    if let Some(id) = ex.cached(agency_id) {
        return Ok(id);
    }
    let id = match read(store, &ex.master, agency_id).await? {
        Some(id) => id,
        None => {
            let mut tx = store.begin_write().await?;
            let made = made(&mut tx, &ex.master, agency_id).await;
            let committed = match made {
                Ok((id, true)) => tx.commit().await.map(|_| id).map_err(Error::from),
                Ok((id, false)) => {
                    tx.rollback().await;
                    Ok(id)
                }
                Err(e) => Err(e),
            };
            match committed {
                Ok(id) => id,
                // Another server of the installation made it at the same
                // time: theirs is the one.
                Err(Error::Store(e)) if e.is_unique_violation() => {
                    read(store, &ex.master, agency_id)
                        .await?
                        .ok_or_else(|| Error::Internal("exchange identity vanished".into()))?
                }
                Err(e) => return Err(e),
            }
        }
    };
    let id = Arc::new(id);
    ex.cache(id.clone());
    Ok(id)
}

/// The identity in `tx` (made there if missing), from memory when loaded.
pub async fn in_tx(tx: &mut WriteTx, ex: &Exchange, agency_id: &str) -> Result<Arc<Identity>> {
    if let Some(id) = ex.cached(agency_id) {
        return Ok(id);
    }
    Ok(Arc::new(ensure(tx, &ex.master, agency_id).await?))
}
