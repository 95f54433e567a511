//! The demo agency (`naskah serve --demo`) as the tests use it: its users
//! logged in ([`Demo`]), and the scenario builders the test files share
//! (a draft, a routed, approved or signed letter, an incoming letter
//! registered, who a token's bearer is), each made through the gRPC
//! contract.

use std::collections::HashMap;

/// The demo users' password, signing passphrase, and classification scheme
/// (as a CSV for ImportClassifications).
pub use naskah::domain::demo::{DEMO_CLASSIFICATIONS_CSV, DEMO_PASSPHRASE, DEMO_PASSWORD};
use naskah::proto::auth_service_client::AuthServiceClient;
use naskah::proto::letter_service_client::LetterServiceClient;
use naskah::proto::{self as pb, LetterState, LetterType, SecurityLevel, Urgency};
use tonic::transport::Channel;

use crate::{TestServer, authed};

/// Logged-in demo users: username → (token, their position id).
pub struct Demo {
    pub users: HashMap<&'static str, (String, String)>,
}

impl Demo {
    pub async fn login(t: &TestServer, names: &[&'static str]) -> Self {
        Self::login_on(&t.channel, names).await
    }

    /// The same against the server behind `channel` (the real binary, for one).
    pub async fn login_on(channel: &Channel, names: &[&'static str]) -> Self {
        let mut users = HashMap::new();
        for n in names {
            let token = AuthServiceClient::new(channel.clone())
                .login(pb::LoginRequest {
                    username: (*n).into(),
                    password: DEMO_PASSWORD.into(),
                })
                .await
                .unwrap_or_else(|e| panic!("login of {n}: {e:?}"))
                .into_inner()
                .access_token;
            let me = AuthServiceClient::new(channel.clone())
                .who_am_i(authed(pb::WhoAmIRequest {}, &token))
                .await
                .expect("whoami")
                .into_inner();
            let pos = me
                .positions
                .first()
                .map(|p| p.position_id.clone())
                .unwrap_or_default();
            users.insert(*n, (token, pos));
        }
        Self { users }
    }
    pub fn token(&self, u: &str) -> &str {
        &self.users[u].0
    }
    pub fn pos(&self, u: &str) -> String {
        self.users[u].1.clone()
    }
}

/// An incoming letter of another organisation as the registrar enters it
/// (Surat Dinas, Biasa urgency), addressed to `recipients`.
pub fn incoming_request(
    recipients: Vec<String>,
    subject: &str,
    class: &str,
    security: SecurityLevel,
) -> pb::RegisterIncomingLetterRequest {
    pb::RegisterIncomingLetterRequest {
        r#type: LetterType::SuratDinas as i32,
        subject: subject.into(),
        security_level: security as i32,
        urgency: Urgency::Biasa as i32,
        classification_code: class.into(),
        recipient_position_ids: recipients,
        sender: Some(pb::ExternalAddressee {
            organisation: "Instansi lain".into(),
            ..Default::default()
        }),
        sender_number: "1/2026".into(),
        letter_date: Some(prost_types::Timestamp {
            seconds: 1_790_000_000,
            nanos: 0,
        }),
        ..Default::default()
    }
}

/// A LetterService client on the test server.
pub fn letters(t: &TestServer) -> LetterServiceClient<Channel> {
    LetterServiceClient::new(t.channel.clone())
}

/// An addressee: the position `pos`.
pub fn to(pos: &str) -> pb::Addressee {
    pb::Addressee {
        target: Some(pb::addressee::Target::PositionId(pos.to_owned())),
        ..Default::default()
    }
}

/// A draft by `drafter` to `recipients`.
pub async fn draft(
    t: &TestServer,
    d: &Demo,
    drafter: &str,
    recipients: &[&str],
    cc: &[&str],
    security: SecurityLevel,
    class: &str,
) -> pb::Letter {
    letters(t)
        .create_draft(authed(
            pb::CreateDraftRequest {
                drafting_position_id: d.pos(drafter),
                r#type: LetterType::NotaDinas as i32,
                subject: "Permohonan data layanan e-government".into(),
                body: "Dengan hormat, bersama ini kami sampaikan ...".into(),
                security_level: security as i32,
                urgency: Urgency::Segera as i32,
                classification_code: class.into(),
                recipients: recipients.iter().map(|u| to(&d.pos(u))).collect(),
                carbon_copies: cc.iter().map(|u| to(&d.pos(u))).collect(),
                ..Default::default()
            },
            d.token(drafter),
        ))
        .await
        .expect("create draft")
        .into_inner()
}
/// Routes `letter` (drafted by kasi.egov) through kabid.aptika to
/// kadis.kominfo.
pub async fn routed(t: &TestServer, d: &Demo, letter: &pb::Letter) -> pb::Letter {
    letters(t)
        .set_route(authed(
            pb::SetRouteRequest {
                letter_id: letter.id.clone(),
                reviewer_position_ids: vec![d.pos("kabid.aptika")],
                signer_position_id: d.pos("kadis.kominfo"),
                etag: letter.etag.clone(),
                request_id: String::new(),
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("route")
        .into_inner()
}

/// kadis.kominfo signs an approved letter.
pub async fn signed(t: &TestServer, d: &Demo, x: &pb::Letter) -> pb::Letter {
    letters(t)
        .sign_letter(authed(
            pb::SignLetterRequest {
                letter_id: x.id.clone(),
                etag: x.etag.clone(),
                passphrase: DEMO_PASSPHRASE.into(),
                request_id: String::new(),
            },
            d.token("kadis.kominfo"),
        ))
        .await
        .expect("sign")
        .into_inner()
}

/// Makes `n` letters from kasi.egov to sekda with kadis.kominfo as the only
/// step, submitted and so approved.
pub async fn approved_letters(t: &TestServer, d: &Demo, n: usize) -> Vec<pb::Letter> {
    let mut out = Vec::new();
    for _ in 0..n {
        let x = draft(
            t,
            d,
            "kasi.egov",
            &["sekda"],
            &[],
            SecurityLevel::Biasa,
            "000.1.1",
        )
        .await;
        let x = letters(t)
            .set_route(authed(
                pb::SetRouteRequest {
                    letter_id: x.id.clone(),
                    signer_position_id: d.pos("kadis.kominfo"),
                    etag: x.etag.clone(),
                    ..Default::default()
                },
                d.token("kasi.egov"),
            ))
            .await
            .expect("route")
            .into_inner();
        let x = submitted(t, d, &x).await;
        assert_eq!(x.state, LetterState::Approved as i32);
        out.push(x);
    }
    out
}

/// `x` submitted into its route by its drafter, kasi.egov.
pub async fn submitted(t: &TestServer, d: &Demo, x: &pb::Letter) -> pb::Letter {
    letters(t)
        .submit_letter(authed(
            pb::SubmitLetterRequest {
                letter_id: x.id.clone(),
                etag: x.etag.clone(),
                request_id: String::new(),
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("submit")
        .into_inner()
}

/// Who the bearer of `token` is: their user, agency and positions.
pub async fn who_am_i(t: &TestServer, token: &str) -> pb::WhoAmIResponse {
    AuthServiceClient::new(t.channel.clone())
        .who_am_i(authed(pb::WhoAmIRequest {}, token))
        .await
        .expect("whoami")
        .into_inner()
}

/// An incoming letter (see [`incoming_request`]) registered by pencatat for
/// the positions of `recipients`.
pub async fn registered(
    t: &TestServer,
    d: &Demo,
    recipients: &[&str],
    subject: &str,
    class: &str,
    security: SecurityLevel,
) -> pb::Letter {
    letters(t)
        .register_incoming_letter(authed(
            incoming_request(
                recipients.iter().map(|u| d.pos(u)).collect(),
                subject,
                class,
                security,
            ),
            d.token("pencatat"),
        ))
        .await
        .expect("register")
        .into_inner()
}

/// Logs in with a one-time password, changes it (to `sehat-selalu-2026`),
/// and logs in again; answers the access token.
pub async fn first_login(channel: &Channel, user: &str, otp: &str) -> String {
    let mut auth = AuthServiceClient::new(channel.clone());
    let s = auth
        .login(pb::LoginRequest {
            username: user.into(),
            password: otp.into(),
        })
        .await
        .unwrap_or_else(|e| panic!("login {user}: {e:?}"))
        .into_inner();
    auth.change_password(authed(
        pb::ChangePasswordRequest {
            current_password: otp.into(),
            new_password: "sehat-selalu-2026".into(),
        },
        &s.access_token,
    ))
    .await
    .expect("change password");
    auth.login(pb::LoginRequest {
        username: user.into(),
        password: "sehat-selalu-2026".into(),
    })
    .await
    .expect("login again")
    .into_inner()
    .access_token
}
