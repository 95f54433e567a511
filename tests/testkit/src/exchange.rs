//! Inter-agency exchange in tests: servers that listen for peers, a second
//! agency built the way its administrator builds it, peer cards traded
//! through the contract, and what a peer (honest or not) sends over the
//! exchange port, made with a server's own exchange identity.

use std::sync::Arc;

use naskah::clock::SystemClock;
use naskah::config::Config;
use naskah::domain::exchange::{Identity, Transport, TransportError};
use naskah::proto::org_service_client::OrgServiceClient;
use naskah::proto::peer_service_client::PeerServiceClient;
use naskah::proto::{self as pb};
use naskah::store::exchange::{OutRecord, PeerRecord};

use tonic::transport::Channel;

use crate::demo::first_login;
use crate::{Db, TestServer, authed};

/// Fast retries, so that a test waits seconds, not minutes.
pub fn fast(c: &mut Config) {
    c.exchange_retry_base_secs = 1;
    c.exchange_retry_ceiling_secs = 2;
}

/// A server that listens for peers on a loopback exchange port.
pub async fn exchanging(db: Db, demo: bool) -> TestServer {
    TestServer::start_full(db, Arc::new(SystemClock), demo, |c| {
        c.exchange_listen = "127.0.0.1:0".into();
        fast(c);
    })
    .await
}

/// The second agency of a test: DINKES, its head and a staff position.
pub struct Dinkes {
    /// Its administrator's token.
    pub admin: String,
    /// The head's token and position.
    pub kepala: String,
    pub head_id: String,
    /// The staff member's token and position.
    pub staf: String,
    pub staff_id: String,
    /// Its records officer's token (the demo's classification scheme imported).
    pub arsip: String,
}

/// Makes agency DINKES on `t` (`naskah agency create`), and its head and
/// staff positions and users through its administrator.
pub async fn dinkes(t: &TestServer) -> Dinkes {
    let made = crate::operator::create_agency(t, "DINKES", "Dinas Kesehatan Provinsi Nusantara")
        .await
        .expect("agency create");
    dinkes_on(&t.channel, &made.admin_username, &made.one_time_password).await
}

/// [`dinkes`] on a server reached by `channel`, whose operator made the
/// agency and gave its administrator `admin_username` and `otp`.
pub async fn dinkes_on(channel: &Channel, admin_username: &str, otp: &str) -> Dinkes {
    let admin = first_login(channel, admin_username, otp).await;
    let mut org = OrgServiceClient::new(channel.clone());
    let unit = org
        .create_unit(authed(
            pb::CreateUnitRequest {
                code: "DINKES".into(),
                name: "Dinas Kesehatan".into(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("unit")
        .into_inner();
    let mut made_positions = Vec::new();
    for (name, head) in [
        ("Kepala Dinas Kesehatan", true),
        ("Sekretaris Dinas", false),
    ] {
        made_positions.push(
            org.create_position(authed(
                pb::CreatePositionRequest {
                    unit_id: unit.id.clone(),
                    name: name.into(),
                    is_unit_head: head,
                    superior_position_id: if head {
                        String::new()
                    } else {
                        made_positions
                            .first()
                            .map(|p: &pb::Position| p.id.clone())
                            .unwrap_or_default()
                    },
                    ..Default::default()
                },
                &admin,
            ))
            .await
            .expect("position")
            .into_inner(),
        );
    }
    let mut tokens = Vec::new();
    for (name, pos) in [("kepala", &made_positions[0]), ("staf", &made_positions[1])] {
        let u = org
            .create_user(authed(
                pb::CreateUserRequest {
                    username: name.into(),
                    full_name: name.into(),
                    roles: vec![pb::Role::User as i32],
                    ..Default::default()
                },
                &admin,
            ))
            .await
            .expect("user")
            .into_inner();
        let user = u.user.expect("user");
        org.assign_position(authed(
            pb::AssignPositionRequest {
                user_id: user.id.clone(),
                position_id: pos.id.clone(),
                kind: pb::AssignmentKind::Definitive as i32,
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("assign");
        tokens.push(first_login(channel, &user.username, &u.one_time_password).await);
    }
    let arsip = org
        .create_user(authed(
            pb::CreateUserRequest {
                username: "arsip".into(),
                full_name: "arsip".into(),
                roles: vec![pb::Role::User as i32, pb::Role::RecordsOfficer as i32],
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("records officer")
        .into_inner();
    let arsip_name = arsip.user.expect("user").username;
    let arsip = first_login(channel, &arsip_name, &arsip.one_time_password).await;
    naskah::proto::records_service_client::RecordsServiceClient::new(channel.clone())
        .import_classifications(authed(
            pb::ImportClassificationsRequest {
                csv: crate::demo::DEMO_CLASSIFICATIONS_CSV.into(),
                dry_run: false,
                request_id: String::new(),
            },
            &arsip,
        ))
        .await
        .expect("import the scheme");
    Dinkes {
        admin,
        arsip,
        kepala: tokens[0].clone(),
        head_id: made_positions[0].id.clone(),
        staf: tokens[1].clone(),
        staff_id: made_positions[1].id.clone(),
    }
}

/// The peer card of the agency whose administrator holds `admin`.
pub async fn card(t: &TestServer, admin: &str) -> pb::PeerCard {
    PeerServiceClient::new(t.channel.clone())
        .get_peer_card(authed(pb::GetPeerCardRequest {}, admin))
        .await
        .expect("peer card")
        .into_inner()
}

/// Adds `card` to the directory of the agency whose administrator holds `admin`.
pub async fn add_peer(t: &TestServer, admin: &str, card: pb::PeerCard) -> pb::Peer {
    PeerServiceClient::new(t.channel.clone())
        .add_peer(authed(
            pb::AddPeerRequest {
                card: Some(card),
                request_id: String::new(),
            },
            admin,
        ))
        .await
        .expect("add peer")
        .into_inner()
}

/// Two agencies pin each other (each administrator adds the other's card).
pub async fn pair(a: &TestServer, a_admin: &str, b: &TestServer, b_admin: &str) {
    let ca = card(a, a_admin).await;
    let cb = card(b, b_admin).await;
    add_peer(a, a_admin, cb).await;
    add_peer(b, b_admin, ca).await;
}

/// The exchange identity of agency `code` of `t`.
pub async fn identity(t: &TestServer, code: &str) -> Arc<Identity> {
    let id = naskah::store::identity::agency_id_by_code(t.store(), code)
        .await
        .expect("query")
        .expect("agency exists");
    naskah::domain::exchange::identity::load(t.store(), &t.app().exchange, &id)
        .await
        .expect("exchange identity")
}

/// The consignments `t` queued for a letter.
pub async fn outbox(t: &TestServer, letter_id: &str) -> Vec<OutRecord> {
    naskah::store::exchange::outs_of_letters(t.store(), &[letter_id.to_owned()])
        .await
        .expect("outbox")
}

/// The peer record agency `from` of `t` holds for `code`.
pub async fn peer_record(t: &TestServer, from: &str, code: &str) -> PeerRecord {
    let id = naskah::store::identity::agency_id_by_code(t.store(), from)
        .await
        .expect("query")
        .expect("agency exists");
    naskah::store::exchange::peer(t.store(), &id, code)
        .await
        .expect("query")
        .expect("peer exists")
}

/// Sends a consignment over the exchange port as agency `from` of `t`
/// would, with `envelope` (the stored one, or altered by the test).
pub async fn send(
    t: &TestServer,
    from: &str,
    o: &OutRecord,
    envelope: pb::SignedStatement,
) -> Result<pb::DeliverConsignmentResponse, TransportError> {
    let peer = peer_record(t, from, &o.peer_code).await;
    send_to(t, from, &peer, o, envelope).await
}

/// [`send`] to the peer as `peer` describes it.
pub async fn send_to(
    t: &TestServer,
    from: &str,
    peer: &PeerRecord,
    o: &OutRecord,
    envelope: pb::SignedStatement,
) -> Result<pb::DeliverConsignmentResponse, TransportError> {
    let me = identity(t, from).await;
    let status = naskah::domain::exchange::relay::signer_status(t.store(), &me, o)
        .await
        .expect("signer status");
    naskah::api::exchange::GrpcTransport::default()
        .deliver(
            &me,
            peer,
            pb::DeliverConsignmentRequest {
                envelope: Some(envelope),
                signer_status: Some(status),
            },
        )
        .await
}

/// A stored envelope as it was signed.
pub fn stored_envelope(o: &OutRecord) -> pb::SignedStatement {
    naskah::domain::exchange::outbox::envelope_of(o)
}

/// Re-signs an altered envelope with the sending agency's own exchange key
/// (an honest sender that sends corrupt content).
pub async fn resigned(t: &TestServer, from: &str, env: &pb::Envelope) -> pb::SignedStatement {
    let me = identity(t, from).await;
    naskah::domain::exchange::statements::sign(&me, env).expect("sign")
}

/// An exchange identity for `code` issued by a CA nobody pinned.
pub fn rogue_identity(code: &str) -> Identity {
    use naskah::crypto::x509;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs();
    let (ca_der, ca_key_der) = x509::new_agency_ca("Rogue", code, now).expect("ca");
    let ca_key = x509::load_key(&ca_key_der).expect("ca key");
    let (key, key_pkcs8) = x509::new_key().expect("key");
    let (cert_der, _) =
        x509::issue_exchange_cert(&ca_der, &ca_key, "Rogue", code, key.verifying_key(), now)
            .expect("cert");
    Identity {
        agency_id: uuid::Uuid::new_v4().to_string(),
        code: code.to_owned(),
        name: "Rogue".into(),
        cert_der,
        key,
        key_pkcs8,
        ca_der,
    }
}

/// Asks for the directory of `to` as `from` over the exchange port.
pub async fn directory(
    from: &Identity,
    to: &PeerRecord,
) -> Result<pb::GetDirectoryResponse, TransportError> {
    naskah::api::exchange::GrpcTransport::default()
        .directory(from, to)
        .await
}

/// `naskah agency abolish-position`.
pub async fn abolish(t: &TestServer, agency: &str, position: &str, successor: &str) {
    naskah::domain::exchange::peers::abolish_by_operator(t.store(), agency, position, successor)
        .await
        .expect("abolish");
}

/// PEM of a certificate.
pub fn pem(der: &[u8]) -> String {
    naskah::crypto::x509::to_pem(der).expect("pem")
}

/// More positions in DINKES (its administrator's token `admin`), named
/// `Staf 1` … `Staf n`; answers their ids.
pub async fn more_positions(channel: &Channel, admin: &str, n: usize) -> Vec<String> {
    let mut org = OrgServiceClient::new(channel.clone());
    let unit = org
        .list_units(authed(pb::ListUnitsRequest::default(), admin))
        .await
        .expect("units")
        .into_inner()
        .units
        .remove(0);
    let mut ids = Vec::new();
    for i in 1..=n {
        ids.push(
            org.create_position(authed(
                pb::CreatePositionRequest {
                    unit_id: unit.id.clone(),
                    name: format!("Staf {i}"),
                    ..Default::default()
                },
                admin,
            ))
            .await
            .expect("position")
            .into_inner()
            .id,
        );
    }
    ids
}

/// `naskah agency set-exchange-intake --intake registrar|direct`.
pub async fn registrar_check(t: &TestServer, agency: &str, on: bool) {
    naskah::domain::exchange::peers::set_intake_by_operator(t.store(), agency, on)
        .await
        .expect("set intake");
}

/// A registrar of DINKES (made by its administrator `admin`); answers the token.
pub async fn dinkes_registrar(channel: &Channel, admin: &str) -> String {
    let mut org = OrgServiceClient::new(channel.clone());
    let u = org
        .create_user(authed(
            pb::CreateUserRequest {
                username: "pencatat".into(),
                full_name: "pencatat".into(),
                roles: vec![pb::Role::User as i32, pb::Role::Registrar as i32],
                ..Default::default()
            },
            admin,
        ))
        .await
        .expect("registrar")
        .into_inner();
    let name = u.user.expect("user").username;
    first_login(channel, &name, &u.one_time_password).await
}

/// GetOutcome and ListOutcomes (from cursor 0) asked of `to` as `from`.
pub async fn outcomes(
    from: &Identity,
    to: &PeerRecord,
    consignment_id: &str,
) -> (
    Result<pb::GetOutcomeResponse, tonic::Status>,
    Result<pb::ListOutcomesResponse, tonic::Status>,
) {
    use naskah::api::exchange::{GrpcTransport, addressed};
    let t = GrpcTransport::default();
    let mut c = t.client(from, to).expect("client");
    let one = c
        .get_outcome(addressed(
            to,
            pb::GetOutcomeRequest {
                consignment_id: consignment_id.to_owned(),
            },
        ))
        .await
        .map(tonic::Response::into_inner);
    let all = c
        .list_outcomes(addressed(
            to,
            pb::ListOutcomesRequest {
                after_cursor: 0,
                page_size: 0,
            },
        ))
        .await
        .map(tonic::Response::into_inner);
    (one, all)
}
