//! Incoming letters and attachments: registration, scans uploaded and
//! downloaded, and an upload racing a submit.

use naskah::proto::letter_service_client::LetterServiceClient;
use naskah::proto::{self as pb, Folder, LetterState, LetterType, SecurityLevel, Urgency};
use sha2::Digest;
use tonic::Code;
use tonic::transport::Channel;

use super::ids_in;
use naskah_testkit::demo::{Demo, draft, letters, routed};
use naskah_testkit::dual;
use naskah_testkit::{Db, TestServer, authed, reason};

async fn incoming_letters_with_scans_reach_their_inbox(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(&t, &["pencatat", "kadis.kominfo", "staf.egov", "kasi.egov"]).await;
    let mut l = letters(&t);

    // Kepala Dinas watches the inbox.
    let mut watch = l
        .watch_inbox(authed(
            pb::WatchInboxRequest::default(),
            d.token("kadis.kominfo"),
        ))
        .await
        .expect("watch")
        .into_inner();

    let req = pb::RegisterIncomingLetterRequest {
        r#type: LetterType::SuratDinas as i32,
        subject: "Undangan rapat koordinasi SPBE".into(),
        security_level: SecurityLevel::Biasa as i32,
        urgency: Urgency::SangatSegera as i32,
        classification_code: "000.1.3".into(),
        recipient_position_ids: vec![d.pos("kadis.kominfo")],
        sender: Some(pb::ExternalAddressee {
            organisation: "Kementerian PANRB".into(),
            ..Default::default()
        }),
        sender_number: "B/123/SPBE.01/2026".into(),
        letter_date: Some(prost_types::Timestamp {
            seconds: 1_790_000_000,
            nanos: 0,
        }),
        request_id: "incoming-1".into(),
        ..Default::default()
    };
    let e = l
        .register_incoming_letter(authed(req.clone(), d.token("staf.egov")))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::PermissionDenied, "ROLE_REQUIRED")
    );
    let incoming = l
        .register_incoming_letter(authed(req.clone(), d.token("pencatat")))
        .await
        .expect("register")
        .into_inner();
    let retry = l
        .register_incoming_letter(authed(req.clone(), d.token("pencatat")))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(incoming.id, retry.id, "the retry registered nothing new");
    assert_eq!(incoming.state, LetterState::Delivered as i32);
    assert_eq!(
        incoming.incoming.as_ref().map(|i| i.sender_number.as_str()),
        Some("B/123/SPBE.01/2026")
    );
    let event = tokio::time::timeout(std::time::Duration::from_secs(10), watch.message())
        .await
        .expect("an event in time")
        .expect("stream")
        .expect("event");
    assert_eq!(
        (event.kind, event.letter_id.as_str()),
        (
            pb::InboxEventKind::LetterReceived as i32,
            incoming.id.as_str()
        )
    );
    let inbox = ids_in(&t, d.token("kadis.kominfo"), Folder::Inbox).await;
    assert_eq!(inbox.iter().filter(|id| **id == incoming.id).count(), 1);

    // The scan: a PDF, whatever media type the client claims.
    let scan: Vec<u8> = [b"%PDF-1.4\n".as_slice(), &vec![b'x'; 200_000]].concat();
    let sha = hex::encode(sha2::Sha256::digest(&scan));
    let upload = |bytes: Vec<u8>, sha: String, size: i64| {
        let mut msgs = vec![pb::UploadAttachmentRequest {
            part: Some(pb::upload_attachment_request::Part::Metadata(
                pb::UploadAttachmentMetadata {
                    letter_id: incoming.id.clone(),
                    file_name: "scan.pdf".into(),
                    media_type: "image/png".into(),
                    size_bytes: size,
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
        tokio_stream::iter(msgs)
    };
    let a = l
        .upload_attachment(authed(
            upload(scan.clone(), sha.clone(), scan.len() as i64),
            d.token("pencatat"),
        ))
        .await
        .expect("upload")
        .into_inner();
    assert_eq!(
        (a.media_type.as_str(), a.sha256.as_str(), a.size_bytes),
        ("application/pdf", sha.as_str(), scan.len() as i64)
    );
    let e = l
        .upload_attachment(authed(
            upload(scan.clone(), "0".repeat(64), scan.len() as i64),
            d.token("pencatat"),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "CHECKSUM_MISMATCH");
    let e = l
        .upload_attachment(authed(
            upload(scan.clone(), sha.clone(), 1_000_000_000_000),
            d.token("pencatat"),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "ATTACHMENT_TOO_LARGE");
    let e = l
        .upload_attachment(authed(
            upload(scan.clone(), sha.clone(), scan.len() as i64),
            d.token("kasi.egov"),
        ))
        .await
        .unwrap_err();
    // kasi.egov takes no part in the incoming letter: it does not exist for them.
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::NotFound, "LETTER_NOT_FOUND")
    );

    let mut down = l
        .download_attachment(authed(
            pb::DownloadAttachmentRequest {
                attachment_id: a.id.clone(),
            },
            d.token("kadis.kominfo"),
        ))
        .await
        .expect("download")
        .into_inner();
    let mut got = Vec::new();
    let mut meta = None;
    while let Some(msg) = down.message().await.expect("chunk") {
        match msg.part {
            Some(pb::download_attachment_response::Part::Metadata(m)) => meta = Some(m),
            Some(pb::download_attachment_response::Part::Chunk(c)) => got.extend_from_slice(&c),
            None => {}
        }
    }
    assert_eq!(meta.map(|m| m.id), Some(a.id.clone()));
    assert_eq!(got, scan);
    let e = l
        .download_attachment(authed(
            pb::DownloadAttachmentRequest {
                attachment_id: a.id.clone(),
            },
            d.token("kasi.egov"),
        ))
        .await
        .err()
        .map(|e| e.code());
    // kasi.egov takes no part in the letter: its scan does not exist for them.
    assert_eq!(e, Some(Code::NotFound));
    t.stop().await;
}
dual!(incoming_letters_with_scans_reach_their_inbox);

/// An upload whose letter is submitted while its bytes are on the way: who
/// may add the attachment is decided again inside the transaction that
/// records it, so the submitted letter refuses it (the check before the bytes
/// only refuses early). An upload that ends before the submit is kept.
async fn an_attachment_racing_a_submit_is_refused_when_the_submit_wins(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(&t, &["kasi.egov", "kabid.aptika", "kadis.kominfo"]).await;
    let mut l = letters(&t);
    let letter = draft(
        &t,
        &d,
        "kasi.egov",
        &["kadis.kominfo"],
        &[],
        SecurityLevel::Biasa,
        "000.1.2",
    )
    .await;
    let letter = routed(&t, &d, &letter).await;
    let content = b"lampiran: data layanan".to_vec();
    let metadata = |name: &str| pb::UploadAttachmentRequest {
        part: Some(pb::upload_attachment_request::Part::Metadata(
            pb::UploadAttachmentMetadata {
                letter_id: letter.id.clone(),
                file_name: name.into(),
                media_type: "text/plain".into(),
                size_bytes: content.len() as i64,
                sha256: hex::encode(sha2::Sha256::digest(&content)),
                is_scan: false,
                request_id: String::new(),
            },
        )),
    };
    let chunk = || pb::UploadAttachmentRequest {
        part: Some(pb::upload_attachment_request::Part::Chunk(content.clone())),
    };
    let attachments = async |l: &mut LetterServiceClient<Channel>| -> Vec<String> {
        l.get_letter(authed(
            pb::GetLetterRequest {
                letter_id: letter.id.clone(),
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("get")
        .into_inner()
        .attachments
        .into_iter()
        .map(|a| a.file_name)
        .collect()
    };

    // Before the submit: kept.
    l.upload_attachment(authed(
        tokio_stream::iter(vec![metadata("before.txt"), chunk()]),
        d.token("kasi.egov"),
    ))
    .await
    .expect("an upload to an editable draft");
    assert_eq!(attachments(&mut l).await, vec!["before.txt".to_owned()]);

    // The metadata goes first and passes the early check; the letter is
    // submitted; then the bytes arrive.
    let (send, recv) = tokio::sync::mpsc::channel(4);
    send.send(metadata("racing.txt")).await.expect("metadata");
    let upload = {
        let mut l = l.clone();
        let token = d.token("kasi.egov").to_owned();
        tokio::spawn(async move {
            l.upload_attachment(authed(
                tokio_stream::wrappers::ReceiverStream::new(recv),
                &token,
            ))
            .await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!upload.is_finished(), "the upload waits for its bytes");
    let submitted = l
        .submit_letter(authed(
            pb::SubmitLetterRequest {
                letter_id: letter.id.clone(),
                etag: letter.etag.clone(),
                request_id: String::new(),
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("submit")
        .into_inner();
    assert_eq!(submitted.state, LetterState::InReview as i32);
    send.send(chunk()).await.expect("chunk");
    drop(send);
    let e = upload.await.expect("task").unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::FailedPrecondition, "LETTER_NOT_EDITABLE"),
        "{e:?}"
    );
    assert_eq!(
        attachments(&mut l).await,
        vec!["before.txt".to_owned()],
        "the refused attachment was not recorded"
    );
    t.stop().await;
}
dual!(an_attachment_racing_a_submit_is_refused_when_the_submit_wins);

/// A registrar takes part in what they register through a position: one who
/// holds none is refused, and nothing reaches the addressee's inbox.
async fn a_registrar_without_a_position_registers_nothing(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(&t, &["kadis.kominfo"]).await;
    t.seed_user(
        "pencatat.lepas",
        "kata-sandi-panjang-1",
        &[naskah::proto::Role::User, naskah::proto::Role::Registrar],
    )
    .await;
    let token = t.login("pencatat.lepas", "kata-sandi-panjang-1").await;
    let before = ids_in(&t, d.token("kadis.kominfo"), Folder::Inbox).await;
    let e = letters(&t)
        .register_incoming_letter(authed(
            naskah_testkit::demo::incoming_request(
                vec![d.pos("kadis.kominfo")],
                "Surat tanpa pencatat",
                "000.1",
                SecurityLevel::Biasa,
            ),
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::PermissionDenied, "NOT_POSITION_HOLDER")
    );
    assert_eq!(
        ids_in(&t, d.token("kadis.kominfo"), Folder::Inbox).await,
        before,
        "nothing was registered"
    );
}
dual!(a_registrar_without_a_position_registers_nothing);
