//! The peer directory: other naskah agencies pinned by their CA, this
//! agency's peer card, and the directory of positions it publishes.

use der::DecodePem;

use super::{Exchange, identity, sha256_hex};
use crate::crypto::x509;
use crate::domain::context::Ctx;
use crate::error::{Error, Reason, Result, Violations};
use crate::proto;
pub use crate::store::exchange::PeerRecord;
use crate::store::exchange::{self as q};
use crate::store::{Db, Store, WriteTx};

/// A peer card, as exported and added.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Card {
    /// The agency's code.
    pub agency_code: String,
    /// The agency's name.
    pub agency_name: String,
    /// Its exchange endpoint, `https://host:port`.
    pub endpoint: String,
    /// Its CA certificate, PEM.
    pub ca_certificate_pem: String,
}

/// Where consignments to an agency code go.
#[derive(Clone, Debug)]
pub enum Route {
    /// Another agency of this installation (its id): no network.
    Local(String),
    /// A peer reached over the network.
    Remote(PeerRecord),
}

/// The route to `code` from agency `agency_id`, if it is known.
pub async fn route(db: &impl Db, agency_id: &str, code: &str) -> Result<Option<Route>> {
    if let Some(local) = crate::store::identity::agency_id_by_code(db, code).await?
        && local != agency_id
    {
        return Ok(Some(Route::Local(local)));
    }
    Ok(q::peer(db, agency_id, code).await?.map(Route::Remote))
}

/// The id of the agency of this installation with code `code`.
pub async fn local_agency(db: &impl Db, code: &str) -> Result<Option<String>> {
    Ok(crate::store::identity::agency_id_by_code(db, code).await?)
}

/// The CA certificate (DER) agency `agency_id` trusts for `code`.
pub async fn ca_of(db: &impl Db, agency_id: &str, code: &str) -> Result<Option<Vec<u8>>> {
    Ok(match route(db, agency_id, code).await? {
        Some(Route::Local(id)) => crate::store::signing::agency_ca(db, &id)
            .await?
            .map(|(c, _)| c),
        Some(Route::Remote(p)) => Some(p.ca_cert_der),
        None => None,
    })
}

/// This agency's peer card.
pub async fn card(store: &Store, ex: &Exchange, agency_id: &str) -> Result<Card> {
    if ex.settings.endpoint.is_empty() {
        return Err(Error::rejected(
            Reason::ExchangeNotConfigured,
            "this installation has no exchange endpoint (settings exchange_listen, exchange_endpoint)",
        ));
    }
    let me = identity::load(store, ex, agency_id).await?;
    Ok(Card {
        agency_code: me.code.clone(),
        agency_name: me.name.clone(),
        endpoint: ex.settings.endpoint.clone(),
        ca_certificate_pem: x509::to_pem(&me.ca_der).map_err(super::crypto)?,
    })
}

/// Checks a card; answers the CA certificate's DER.
pub fn check_card(c: &Card, field: &str) -> Result<Vec<u8>> {
    let mut v = Violations::default();
    let code_ok = (2..=20).contains(&c.agency_code.len())
        && c.agency_code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
    if !code_ok {
        v.add(
            &format!("{field}.agency_code"),
            "must be 2 to 20 characters of A-Z, 0-9 and '-'",
        );
    }
    v.len(&format!("{field}.agency_name"), &c.agency_name, 1, 200);
    let ep_ok = c.endpoint.len() <= 300
        && c.endpoint
            .strip_prefix("https://")
            .is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace))
        && c.endpoint.parse::<http::Uri>().is_ok();
    if !ep_ok {
        v.add(&format!("{field}.endpoint"), "must be an https:// URL");
    }
    let ca = x509_cert::Certificate::from_pem(c.ca_certificate_pem.trim().as_bytes())
        .ok()
        .filter(|ca| x509::issued_by(ca, ca));
    if ca.is_none() {
        v.add(
            &format!("{field}.ca_certificate_pem"),
            "must be a self-signed CA certificate in PEM",
        );
    }
    v.finish()?;
    let ca = ca.ok_or_else(|| Error::Internal("checked above".into()))?;
    der::Encode::to_der(&ca).map_err(|e| Error::Internal(e.to_string()))
}

async fn add_in(tx: &mut WriteTx, agency_id: &str, c: &Card) -> Result<(PeerRecord, String)> {
    let ca_der = check_card(c, "card")?;
    let own = crate::store::signing::agency(&*tx, agency_id)
        .await?
        .unwrap_or_default();
    if own.code == c.agency_code {
        return Err(Error::invalid(
            "card.agency_code",
            "is this agency's own code",
        ));
    }
    let rec = PeerRecord {
        agency_id: agency_id.to_owned(),
        code: c.agency_code.clone(),
        name: c.agency_name.clone(),
        endpoint: c.endpoint.clone(),
        ca_cert_der: ca_der,
        added_at_us: tx.now_us(),
    };
    q::put_peer(&*tx, &rec).await?;
    let summary = format!(
        "peer {} added at {} (CA sha256 {})",
        rec.code,
        rec.endpoint,
        sha256_hex(&rec.ca_cert_der)
    );
    Ok((rec, summary))
}

/// Adds (or replaces) a peer of the caller's agency.
pub async fn add(tx: &mut WriteTx, ctx: Ctx<'_>, c: &Card) -> Result<PeerRecord> {
    let (rec, summary) = add_in(tx, ctx.agency(), c).await?;
    tx.audit(ctx.event("peer", &rec.code, summary));
    Ok(rec)
}

/// Removes a peer of the caller's agency.
pub async fn remove(tx: &mut WriteTx, ctx: Ctx<'_>, code: &str) -> Result<()> {
    if !q::remove_peer(&*tx, ctx.agency(), code).await? {
        return Err(Error::rejected(Reason::PeerNotFound, "no such peer"));
    }
    tx.audit(ctx.event("peer", code, "peer removed"));
    Ok(())
}

async fn agency_by_code(db: &impl Db, code: &str) -> Result<String> {
    crate::store::identity::agency_id_by_code(db, code)
        .await?
        .ok_or_else(|| Error::invalid("agency", format!("no agency {code} here")))
}

fn operator_event(
    agency_id: &str,
    action: &str,
    rtype: &str,
    id: &str,
    summary: String,
) -> crate::audit::NewEvent {
    let mut ev = crate::audit::NewEvent::success(action, rtype, id);
    ev.agency_id = agency_id.to_owned();
    ev.summary = summary;
    ev
}

/// `naskah peers add`: adds a peer to agency `agency_code`'s directory.
pub async fn add_by_operator(store: &Store, agency_code: &str, c: &Card) -> Result<PeerRecord> {
    let agency = agency_by_code(store, agency_code).await?;
    let mut tx = store.begin_write().await?;
    let (rec, summary) = add_in(&mut tx, &agency, c).await?;
    tx.audit(operator_event(
        &agency,
        "cli/peers-add",
        "peer",
        &rec.code,
        summary,
    ));
    tx.commit().await?;
    Ok(rec)
}

/// `naskah peers remove`.
pub async fn remove_by_operator(store: &Store, agency_code: &str, code: &str) -> Result<()> {
    let agency = agency_by_code(store, agency_code).await?;
    let mut tx = store.begin_write().await?;
    if !q::remove_peer(&tx, &agency, code).await? {
        return Err(Error::rejected(Reason::PeerNotFound, "no such peer"));
    }
    tx.audit(operator_event(
        &agency,
        "cli/peers-remove",
        "peer",
        code,
        "peer removed".into(),
    ));
    tx.commit().await?;
    Ok(())
}

/// `naskah peers list`.
pub async fn list_by_operator(store: &Store, agency_code: &str) -> Result<Vec<PeerRecord>> {
    let agency = agency_by_code(store, agency_code).await?;
    list(store, &agency).await
}

/// `naskah peers export`.
pub async fn card_by_operator(store: &Store, ex: &Exchange, agency_code: &str) -> Result<Card> {
    let agency = agency_by_code(store, agency_code).await?;
    card(store, ex, &agency).await
}

async fn abolish_in(
    tx: &mut WriteTx,
    agency: &str,
    position_id: &str,
    successor_id: &str,
) -> Result<String> {
    for id in [position_id, successor_id] {
        if uuid::Uuid::parse_str(id).is_err()
            || crate::store::org::position(&*tx, agency, id)
                .await?
                .is_none()
        {
            return Err(Error::rejected(
                Reason::PositionNotFound,
                format!("position {id} not found"),
            ));
        }
    }
    // The successor's own successors must not lead back to the position.
    let mut next = successor_id.to_owned();
    for _ in 0..64 {
        if next == position_id {
            return Err(Error::rejected(
                Reason::PositionCycle,
                "the successor's successors lead back to the position",
            ));
        }
        match q::successor(&*tx, agency, &next).await? {
            Some(s) => next = s,
            None => break,
        }
    }
    q::set_successor(&*tx, agency, position_id, successor_id, tx.now_us()).await?;
    Ok(format!("abolished; successor {successor_id}"))
}

/// Abolishes a position of the caller's agency (OrgService.AbolishPosition):
/// letters sent to it by exchange go to `successor_id` from now on.
pub async fn abolish(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    position_id: &str,
    successor_id: &str,
) -> Result<()> {
    let summary = abolish_in(tx, ctx.agency(), position_id, successor_id).await?;
    tx.audit(ctx.event("position", position_id, summary));
    Ok(())
}

/// `naskah agency abolish-position`: [`abolish`] by the operator.
pub async fn abolish_by_operator(
    store: &Store,
    agency_code: &str,
    position_id: &str,
    successor_id: &str,
) -> Result<()> {
    let agency = agency_by_code(store, agency_code).await?;
    let mut tx = store.begin_write().await?;
    let summary = abolish_in(&mut tx, &agency, position_id, successor_id).await?;
    tx.audit(operator_event(
        &agency,
        "cli/abolish-position",
        "position",
        position_id,
        summary,
    ));
    tx.commit().await?;
    Ok(())
}

/// The peers of an agency.
pub async fn list(store: &Store, agency_id: &str) -> Result<Vec<PeerRecord>> {
    Ok(q::peers(store, agency_id).await?)
}

/// A peer as the contract shows it.
pub fn card_of(p: &PeerRecord) -> Card {
    Card {
        agency_code: p.code.clone(),
        agency_name: p.name.clone(),
        endpoint: p.endpoint.clone(),
        ca_certificate_pem: x509::to_pem(&p.ca_cert_der).unwrap_or_default(),
    }
}

/// The positions agency `agency_id` accepts letters for, with successors.
pub async fn directory(store: &Store, agency_id: &str) -> Result<proto::GetDirectoryResponse> {
    let names = crate::store::signing::agency(store, agency_id)
        .await?
        .unwrap_or_default();
    let successors: std::collections::HashMap<String, String> =
        q::successors(store, agency_id).await?.into_iter().collect();
    let units: std::collections::HashMap<String, String> =
        crate::store::org::list_units(store, agency_id, None, None, 100_000)
            .await?
            .into_iter()
            .map(|u| (u.id, u.name))
            .collect();
    let positions = crate::store::org::list_positions(store, agency_id, None, None, 100_000)
        .await?
        .into_iter()
        .map(|p| proto::DirectoryPosition {
            successor_position_id: successors.get(&p.id).cloned().unwrap_or_default(),
            unit_name: units.get(&p.unit_id).cloned().unwrap_or_default(),
            position_id: p.id,
            name: p.name,
        })
        .collect();
    Ok(proto::GetDirectoryResponse {
        agency_code: names.code,
        agency_name: names.name,
        positions,
    })
}

/// `naskah agency set-exchange-intake`: whether consignments that pass their
/// checks are registered at once (`registrar_check` false) or wait for the
/// registrar (AcceptConsignment / RefuseConsignment).
pub async fn set_intake_by_operator(
    store: &Store,
    agency_code: &str,
    registrar_check: bool,
) -> Result<()> {
    let agency = agency_by_code(store, agency_code).await?;
    let mut tx = store.begin_write().await?;
    q::set_registrar_check(&tx, &agency, registrar_check, tx.now_us()).await?;
    tx.audit(operator_event(
        &agency,
        "cli/exchange-intake",
        "agency",
        &agency,
        if registrar_check {
            "received consignments wait for the registrar's check".into()
        } else {
            "received consignments are registered at once".into()
        },
    ));
    tx.commit().await?;
    Ok(())
}

/// PEM of an identity's certificate (with its CA), of its key, and of a peer's CA.
pub fn pem_of(id: &super::Identity, peer_ca_der: &[u8]) -> Result<(String, String, String)> {
    use p256::pkcs8::EncodePrivateKey;
    let cert = format!(
        "{}{}",
        x509::to_pem(&id.cert_der).map_err(super::crypto)?,
        x509::to_pem(&id.ca_der).map_err(super::crypto)?
    );
    let key = id
        .key
        .to_pkcs8_pem(der::pem::LineEnding::LF)
        .map_err(|e| Error::Internal(e.to_string()))?
        .to_string();
    let ca = x509::to_pem(peer_ca_der).map_err(super::crypto)?;
    Ok((cert, key, ca))
}
