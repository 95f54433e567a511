//! The demo agency, the organisation API, acting officials, agency isolation, idempotency.

mod acting;
mod admin;
mod agencies;
mod seeding;

use naskah::proto::org_service_client::OrgServiceClient;
use naskah::proto::{self as pb};
use prost_types::FieldMask;
use tonic::transport::Channel;

use naskah_testkit::TestServer;

fn org(t: &TestServer) -> OrgServiceClient<Channel> {
    OrgServiceClient::new(t.channel.clone())
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
