//! Inter-agency exchange between two installations (each with its own
//! database, CA and exchange port on loopback) and between two agencies of
//! one installation: delivery, receipts and outcomes as evidence, refusals,
//! deduplication, a receiver that is down, a reorganised receiver.

mod chaos;
mod cli;
mod delivery;
mod faults;
mod kills;
mod local;

use std::time::Duration;

use naskah::proto::letter_service_client::LetterServiceClient;
use naskah::proto::peer_service_client::PeerServiceClient;
use naskah::proto::{self as pb, LetterType, SecurityLevel, Urgency};
use sha2::Digest;
use tonic::transport::Channel;

use naskah_testkit::authed;
use naskah_testkit::demo::{DEMO_PASSPHRASE, Demo};

/// A PDF-looking attachment.
pub(crate) const ATTACHMENT: &[u8] =
    b"%PDF-1.4\n% lampiran surat\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";

/// An external addressee in agency `code`, position `position_id`.
pub(crate) fn to_peer(code: &str, position_id: &str) -> pb::Addressee {
    pb::Addressee {
        target: Some(pb::addressee::Target::External(pb::ExternalAddressee {
            organisation: "Dinas Kesehatan Provinsi Nusantara".into(),
            attention: "Kepala Dinas".into(),
            exchange_agency_id: code.into(),
            exchange_position_id: position_id.into(),
            ..Default::default()
        })),
        ..Default::default()
    }
}

/// A letter from DEMO-PROV (drafted by kasi.egov, signed by kadis.kominfo,
/// with one attachment) to `recipients`; answers it signed.
pub(crate) async fn sign_to(
    ch: &Channel,
    d: &Demo,
    recipients: Vec<pb::Addressee>,
    subject: &str,
) -> pb::Letter {
    sign_with(ch, d, recipients, subject, SecurityLevel::Biasa, ATTACHMENT).await
}

/// [`sign_to`] at a security level, with an attachment of the test's.
pub(crate) async fn sign_with(
    ch: &Channel,
    d: &Demo,
    recipients: Vec<pb::Addressee>,
    subject: &str,
    security: SecurityLevel,
    attachment: &[u8],
) -> pb::Letter {
    let mut l = LetterServiceClient::new(ch.clone());
    let x = l
        .create_draft(authed(
            pb::CreateDraftRequest {
                drafting_position_id: d.pos("kasi.egov"),
                r#type: LetterType::SuratDinas as i32,
                subject: subject.into(),
                body: "Dengan hormat, bersama ini kami sampaikan data layanan.\n\nHormat kami."
                    .into(),
                security_level: security as i32,
                urgency: Urgency::Segera as i32,
                classification_code: "000.1.1".into(),
                recipients,
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("create draft")
        .into_inner();
    let sha = hex::encode(sha2::Sha256::digest(attachment));
    let mut msgs = vec![pb::UploadAttachmentRequest {
        part: Some(pb::upload_attachment_request::Part::Metadata(
            pb::UploadAttachmentMetadata {
                letter_id: x.id.clone(),
                file_name: "lampiran.pdf".into(),
                media_type: "application/pdf".into(),
                size_bytes: attachment.len() as i64,
                sha256: sha,
                is_scan: false,
                request_id: String::new(),
            },
        )),
    }];
    for c in attachment.chunks(256 * 1024) {
        msgs.push(pb::UploadAttachmentRequest {
            part: Some(pb::upload_attachment_request::Part::Chunk(c.to_vec())),
        });
    }
    l.upload_attachment(authed(tokio_stream::iter(msgs), d.token("kasi.egov")))
        .await
        .expect("upload");
    let x = l
        .get_letter(authed(
            pb::GetLetterRequest {
                letter_id: x.id.clone(),
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("get")
        .into_inner();
    let x = l
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
    let x = l
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
        .into_inner();
    l.sign_letter(authed(
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

/// The dispatches of a letter as its drafter sees them in GetLetter.
pub(crate) async fn dispatches(ch: &Channel, d: &Demo, id: &str) -> Vec<pb::Dispatch> {
    LetterServiceClient::new(ch.clone())
        .get_letter(authed(
            pb::GetLetterRequest {
                letter_id: id.into(),
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("get letter")
        .into_inner()
        .recipients
        .into_iter()
        .chain(std::iter::empty())
        .filter_map(|a| a.dispatch)
        .collect()
}

/// Waits (up to 30 s) until the letter's first dispatch satisfies `done`.
pub(crate) async fn until_dispatch(
    ch: &Channel,
    d: &Demo,
    id: &str,
    what: &str,
    done: impl Fn(&pb::Dispatch) -> bool,
) -> pb::Dispatch {
    let mut last = None;
    for _ in 0..300 {
        let ds = dispatches(ch, d, id).await;
        if let Some(x) = ds.first() {
            if done(x) {
                return x.clone();
            }
            last = Some(x.clone());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the dispatch never became {what}; last seen: {last:?}");
}

/// The INBOX of the bearer of `token` on the channel.
pub(crate) async fn inbox(channel: &Channel, token: &str) -> Vec<pb::Letter> {
    LetterServiceClient::new(channel.clone())
        .list_letters(authed(
            pb::ListLettersRequest {
                folder: pb::Folder::Inbox as i32,
                ..Default::default()
            },
            token,
        ))
        .await
        .expect("inbox")
        .into_inner()
        .letters
}

/// PeerService on the channel.
pub(crate) fn peers(ch: &Channel) -> PeerServiceClient<Channel> {
    PeerServiceClient::new(ch.clone())
}
