//! Dispositions down the office hierarchy.

mod acting;
mod chain;
mod pages;

use naskah::proto::disposition_service_client::DispositionServiceClient;
use naskah::proto::letter_service_client::LetterServiceClient;
use naskah::proto::{self as pb, SecurityLevel, Urgency};
use tonic::transport::Channel;

use naskah_testkit::demo::{Demo, incoming_request};
use naskah_testkit::{TestServer, authed};

fn disp(t: &TestServer) -> DispositionServiceClient<Channel> {
    DispositionServiceClient::new(t.channel.clone())
}

/// An incoming letter registered by `pencatat` to Kepala Dinas.
async fn incoming_to(t: &TestServer, d: &Demo, user: &str, security: SecurityLevel) -> String {
    LetterServiceClient::new(t.channel.clone())
        .register_incoming_letter(authed(
            pb::RegisterIncomingLetterRequest {
                urgency: Urgency::Segera as i32,
                ..incoming_request(
                    vec![d.pos(user)],
                    "Permintaan data aplikasi",
                    "000.1",
                    security,
                )
            },
            d.token("pencatat"),
        ))
        .await
        .expect("register")
        .into_inner()
        .id
}

fn req(
    d: &Demo,
    letter: &str,
    parent: &str,
    from: &str,
    to: &[&str],
    instr: &[&str],
) -> pb::CreateDispositionRequest {
    pb::CreateDispositionRequest {
        letter_id: letter.into(),
        parent_disposition_id: parent.into(),
        sender_position_id: d.pos(from),
        recipient_position_ids: to.iter().map(|u| d.pos(u)).collect(),
        instruction_codes: instr.iter().map(|s| s.to_string()).collect(),
        note: "Mohon segera".into(),
        urgency: Urgency::Segera as i32,
        ..Default::default()
    }
}
