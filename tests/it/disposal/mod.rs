//! Disposal and archival export: two approvers, legal holds, destruction with a
//! residual record and a signed berita acara, transfer after export, and the
//! archival package checked offline (naskah package verify, sha256sum, openssl).

mod approvers;
mod archival;
mod destruction;

use naskah::proto::letter_service_client::LetterServiceClient;
use naskah::proto::records_service_client::RecordsServiceClient;
use naskah::proto::{self as pb};
use sha2::Digest;
use tonic::transport::Channel;

use naskah_testkit::demo::{Demo, approved_letters, registered, who_am_i};
use naskah_testkit::{TestServer, authed};

const YEAR: i64 = 366 * 86_400_000_000;

fn rec(t: &TestServer) -> RecordsServiceClient<Channel> {
    RecordsServiceClient::new(t.channel.clone())
}

fn lsvc(t: &TestServer) -> LetterServiceClient<Channel> {
    LetterServiceClient::new(t.channel.clone())
}

async fn unit_id(t: &TestServer, token: &str, code: &str) -> String {
    naskah::proto::org_service_client::OrgServiceClient::new(t.channel.clone())
        .list_units(authed(
            pb::ListUnitsRequest {
                page_size: 100,
                ..Default::default()
            },
            token,
        ))
        .await
        .expect("units")
        .into_inner()
        .units
        .into_iter()
        .find(|u| u.code == code)
        .map(|u| u.id)
        .expect("unit")
}

/// A letter signed by kadis.kominfo (drafted by kasi.egov, class 000.1.1).
async fn signed_letter(t: &TestServer, d: &Demo) -> pb::Letter {
    let x = approved_letters(t, d, 1).await.remove(0);
    naskah_testkit::demo::signed(t, d, &x).await
}

/// An incoming letter registered by pencatat for kadis.kominfo.
async fn incoming(t: &TestServer, d: &Demo, class: &str, subject: &str) -> pb::Letter {
    registered(
        t,
        d,
        &["kadis.kominfo"],
        subject,
        class,
        pb::SecurityLevel::Biasa,
    )
    .await
}

/// Uploads a scan onto a letter; returns its attachment.
async fn scan(t: &TestServer, d: &Demo, letter_id: &str, bytes: &[u8]) -> pb::Attachment {
    let sha = hex::encode(sha2::Sha256::digest(bytes));
    let mut msgs = vec![pb::UploadAttachmentRequest {
        part: Some(pb::upload_attachment_request::Part::Metadata(
            pb::UploadAttachmentMetadata {
                letter_id: letter_id.to_owned(),
                file_name: "scan.pdf".into(),
                media_type: "application/pdf".into(),
                size_bytes: bytes.len() as i64,
                sha256: sha,
                is_scan: true,
                request_id: String::new(),
            },
        )),
    }];
    for c in bytes.chunks(64 * 1024) {
        msgs.push(pb::UploadAttachmentRequest {
            part: Some(pb::upload_attachment_request::Part::Chunk(c.to_vec())),
        });
    }
    lsvc(t)
        .upload_attachment(authed(tokio_stream::iter(msgs), d.token("pencatat")))
        .await
        .expect("upload")
        .into_inner()
}

/// Creates a case file, files the letters and closes it.
async fn closed_case_file(
    t: &TestServer,
    d: &Demo,
    class: &str,
    unit: &str,
    letters: &[&str],
) -> pb::CaseFile {
    let mut r = rec(t);
    let cf = r
        .create_case_file(authed(
            pb::CreateCaseFileRequest {
                classification_code: class.into(),
                title: "Berkas uji penyusutan".into(),
                unit_id: unit.into(),
                description: String::new(),
                request_id: String::new(),
            },
            d.token("arsiparis"),
        ))
        .await
        .expect("case file")
        .into_inner();
    for l in letters {
        r.file_letter(authed(
            pb::FileLetterRequest {
                case_file_id: cf.id.clone(),
                letter_id: (*l).to_owned(),
                request_id: String::new(),
            },
            d.token("arsiparis"),
        ))
        .await
        .expect("file");
    }
    r.close_case_file(authed(
        pb::CloseCaseFileRequest {
            case_file_id: cf.id.clone(),
            etag: cf.etag.clone(),
            request_id: String::new(),
        },
        d.token("arsiparis"),
    ))
    .await
    .expect("close")
    .into_inner()
}

async fn approve(
    t: &TestServer,
    d: &Demo,
    user: &str,
    p: &pb::DisposalProposal,
) -> Result<pb::DisposalProposal, tonic::Status> {
    rec(t)
        .approve_disposal(authed(
            pb::ApproveDisposalRequest {
                proposal_id: p.id.clone(),
                position_id: d.pos(user),
                etag: p.etag.clone(),
                request_id: String::new(),
            },
            d.token(user),
        ))
        .await
        .map(|r| r.into_inner())
}

async fn execute(
    t: &TestServer,
    d: &Demo,
    p: &pb::DisposalProposal,
    passphrase: &str,
) -> Result<pb::DisposalProposal, tonic::Status> {
    rec(t)
        .execute_disposal(authed(
            pb::ExecuteDisposalRequest {
                proposal_id: p.id.clone(),
                etag: p.etag.clone(),
                passphrase: passphrase.into(),
                request_id: String::new(),
            },
            d.token("arsiparis"),
        ))
        .await
        .map(|r| r.into_inner())
}

fn blob_path(t: &TestServer, sha: &str) -> std::path::PathBuf {
    t.dir.path().join("blobs").join(&sha[..2]).join(&sha[2..])
}

async fn agency_of(t: &TestServer, d: &Demo) -> String {
    who_am_i(t, d.token("arsiparis")).await.agency_id
}
