//! The demo agency, the organisation API, acting officials, agency isolation, idempotency.

mod acting;
mod admin;
mod agencies;
mod seeding;

use naskah::proto::auth_service_client::AuthServiceClient;
use naskah::proto::org_service_client::OrgServiceClient;
use naskah::proto::{self as pb, WhoAmIRequest};
use prost_types::FieldMask;
use tonic::transport::Channel;

use naskah_testkit::{TestServer, authed};

fn org(t: &TestServer) -> OrgServiceClient<Channel> {
    OrgServiceClient::new(t.channel.clone())
}

async fn who(t: &TestServer, token: &str) -> pb::WhoAmIResponse {
    AuthServiceClient::new(t.channel.clone())
        .who_am_i(authed(WhoAmIRequest {}, token))
        .await
        .expect("whoami")
        .into_inner()
}

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask {
        paths: paths.iter().map(|p| p.to_string()).collect(),
    })
}

fn find_unit<'a>(units: &'a [pb::OrgChartUnit], code: &str) -> Option<&'a pb::OrgChartUnit> {
    for u in units {
        if u.unit.as_ref().is_some_and(|x| x.code == code) {
            return Some(u);
        }
        if let Some(f) = find_unit(&u.children, code) {
            return Some(f);
        }
    }
    None
}
