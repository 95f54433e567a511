//! Letters end to end: the demo scenario, signatures checked by OpenSSL, numbering
//! under concurrency, visibility of secret letters, incoming letters, attachments.

use naskah::proto::audit_service_client::AuditServiceClient;
use naskah::proto::letter_service_client::LetterServiceClient;
use naskah::proto::verification_service_client::VerificationServiceClient;
use naskah::proto::{self as pb, Folder, LetterState, LetterType, SecurityLevel, Urgency};
use prost_types::FieldMask;
use sha2::Digest;
use tonic::Code;
use tonic::transport::Channel;

use naskah_testkit::demo::{
    DEMO_PASSPHRASE, Demo, approved_letters, draft, incoming_request, letters, routed, signed, to,
};
use naskah_testkit::openssl_verifies;
use naskah_testkit::{Db, TestServer, authed, reason};
use naskah_testkit::{dual, operator};

async fn ids_in(t: &TestServer, token: &str, folder: Folder) -> Vec<String> {
    letters(t)
        .list_letters(authed(
            pb::ListLettersRequest {
                folder: folder as i32,
                page_size: 200,
                ..Default::default()
            },
            token,
        ))
        .await
        .expect("list")
        .into_inner()
        .letters
        .into_iter()
        .map(|l| l.id)
        .collect()
}

/// Every page of a listing, following its page tokens from the first.
async fn pages(t: &TestServer, token: &str, req: pb::ListLettersRequest) -> Vec<Vec<pb::Letter>> {
    let mut out = Vec::new();
    let mut next = String::new();
    loop {
        let page = letters(t)
            .list_letters(authed(
                pb::ListLettersRequest {
                    page_token: next,
                    ..req.clone()
                },
                token,
            ))
            .await
            .expect("page")
            .into_inner();
        out.push(page.letters);
        if page.next_page_token.is_empty() {
            return out;
        }
        next = page.next_page_token;
    }
}

async fn get_as(t: &TestServer, token: &str, id: &str) -> pb::Letter {
    letters(t)
        .get_letter(authed(
            pb::GetLetterRequest {
                letter_id: id.to_owned(),
                ..Default::default()
            },
            token,
        ))
        .await
        .expect("get")
        .into_inner()
}

/// (year, month) now in WIB, the demo agency's time zone.
fn wib_now() -> (i32, u32) {
    naskah_testkit::calendar::year_month(
        naskah_testkit::clock::Clock::now_us(&naskah_testkit::clock::SystemClock),
        "Asia/Jakarta",
    )
}

fn year_now() -> i32 {
    wib_now().0
}

async fn the_demo_scenario_runs_from_draft_to_inbox(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(
        &t,
        &[
            "kasi.egov",
            "kabid.aptika",
            "kadis.kominfo",
            "sekda",
            "kabid.ikp",
            "staf.egov",
            "auditor",
        ],
    )
    .await;
    let mut l = letters(&t);
    let mut letter = draft(
        &t,
        &d,
        "kasi.egov",
        &["sekda"],
        &["kabid.ikp"],
        SecurityLevel::Biasa,
        "000.1.2",
    )
    .await;
    assert_eq!(letter.state, LetterState::Draft as i32);
    assert!(
        ids_in(&t, d.token("kasi.egov"), Folder::Drafts)
            .await
            .contains(&letter.id)
    );

    // Subject rules per type.
    let e = l
        .create_draft(authed(
            pb::CreateDraftRequest {
                drafting_position_id: d.pos("kasi.egov"),
                r#type: LetterType::SuratTugas as i32,
                subject: "Tidak boleh".into(),
                security_level: 1,
                urgency: 1,
                classification_code: "000.1.2".into(),
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);

    letter = routed(&t, &d, &letter).await;
    letter = l
        .submit_letter(authed(
            pb::SubmitLetterRequest {
                letter_id: letter.id.clone(),
                etag: letter.etag.clone(),
                request_id: "submit-1".into(),
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("submit")
        .into_inner();
    assert_eq!(letter.state, LetterState::InReview as i32);
    assert!(
        ids_in(&t, d.token("kabid.aptika"), Folder::ToReview)
            .await
            .contains(&letter.id)
    );

    // Only the current step may act; a step the route has not reached yet
    // takes no part in the letter, so for it the letter does not exist.
    let e = l
        .approve_letter(authed(
            pb::ApproveLetterRequest {
                letter_id: letter.id.clone(),
                etag: letter.etag.clone(),
                ..Default::default()
            },
            d.token("kadis.kominfo"),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::NotFound, "LETTER_NOT_FOUND")
    );
    let e = l
        .approve_letter(authed(
            pb::ApproveLetterRequest {
                letter_id: letter.id.clone(),
                etag: letter.etag.clone(),
                ..Default::default()
            },
            d.token("staf.egov"),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        Code::NotFound,
        "a non-participant does not even see the draft"
    );

    // Return with a comment; revise; resubmit; approve.
    let e = l
        .return_letter(authed(
            pb::ReturnLetterRequest {
                letter_id: letter.id.clone(),
                etag: letter.etag.clone(),
                comment: String::new(),
                request_id: String::new(),
            },
            d.token("kabid.aptika"),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    letter = l
        .return_letter(authed(
            pb::ReturnLetterRequest {
                letter_id: letter.id.clone(),
                etag: letter.etag.clone(),
                comment: "Mohon lengkapi dasar hukumnya.".into(),
                request_id: String::new(),
            },
            d.token("kabid.aptika"),
        ))
        .await
        .expect("return")
        .into_inner();
    assert_eq!(letter.state, LetterState::Returned as i32);
    let stale = letter.etag.clone();
    letter = l
        .update_draft(authed(
            pb::UpdateDraftRequest {
                letter: Some(pb::Letter {
                    id: letter.id.clone(),
                    body: "Dengan hormat, berdasarkan Perpres 95/2018 ...".into(),
                    ..Default::default()
                }),
                update_mask: Some(FieldMask {
                    paths: vec!["body".into()],
                }),
                etag: letter.etag.clone(),
                request_id: String::new(),
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("revise")
        .into_inner();
    assert_eq!(letter.version, 2);
    let e = l
        .update_draft(authed(
            pb::UpdateDraftRequest {
                letter: Some(pb::Letter {
                    id: letter.id.clone(),
                    body: "x".into(),
                    ..Default::default()
                }),
                update_mask: Some(FieldMask {
                    paths: vec!["body".into()],
                }),
                etag: stale,
                request_id: String::new(),
            },
            d.token("kasi.egov"),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::Aborted, "ETAG_MISMATCH")
    );
    letter = l
        .submit_letter(authed(
            pb::SubmitLetterRequest {
                letter_id: letter.id.clone(),
                etag: letter.etag.clone(),
                request_id: String::new(),
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("resubmit")
        .into_inner();
    letter = l
        .approve_letter(authed(
            pb::ApproveLetterRequest {
                letter_id: letter.id.clone(),
                etag: letter.etag.clone(),
                comment: "Sudah sesuai.".into(),
                request_id: String::new(),
            },
            d.token("kabid.aptika"),
        ))
        .await
        .expect("approve")
        .into_inner();
    assert_eq!(letter.state, LetterState::Approved as i32);
    assert!(
        ids_in(&t, d.token("kadis.kominfo"), Folder::ToSign)
            .await
            .contains(&letter.id)
    );

    // A wrong passphrase changes nothing and is audited.
    let e = l
        .sign_letter(authed(
            pb::SignLetterRequest {
                letter_id: letter.id.clone(),
                etag: letter.etag.clone(),
                passphrase: "bukan-passphrase".into(),
                request_id: String::new(),
            },
            d.token("kadis.kominfo"),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::PermissionDenied, "WRONG_PASSPHRASE")
    );
    let unchanged = l
        .get_letter(authed(
            pb::GetLetterRequest {
                letter_id: letter.id.clone(),
                ..Default::default()
            },
            d.token("kadis.kominfo"),
        ))
        .await
        .expect("get")
        .into_inner();
    assert_eq!(
        (
            unchanged.state,
            unchanged.etag.as_str(),
            unchanged.number.as_str()
        ),
        (LetterState::Approved as i32, letter.etag.as_str(), "")
    );

    let sign_req = pb::SignLetterRequest {
        letter_id: letter.id.clone(),
        etag: letter.etag.clone(),
        passphrase: DEMO_PASSPHRASE.into(),
        request_id: "sign-1".into(),
    };
    letter = l
        .sign_letter(authed(sign_req.clone(), d.token("kadis.kominfo")))
        .await
        .expect("sign")
        .into_inner();
    assert_eq!(letter.state, LetterState::Sent as i32);
    assert_eq!(
        letter.number,
        format!("000.1.2/1/DISKOMINFO/{}", year_now())
    );
    assert_eq!(letter.verification_code.len(), 20);
    // A retry of the signature returns the same letter and signs nothing twice.
    let again = l
        .sign_letter(authed(sign_req.clone(), d.token("kadis.kominfo")))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(
        (again.number.as_str(), again.etag.as_str()),
        (letter.number.as_str(), letter.etag.as_str())
    );
    let e = l
        .sign_letter(authed(
            pb::SignLetterRequest {
                etag: "\"v1\"".into(),
                ..sign_req.clone()
            },
            d.token("kadis.kominfo"),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "REQUEST_ID_REUSED");

    assert!(
        ids_in(&t, d.token("sekda"), Folder::Inbox)
            .await
            .contains(&letter.id)
    );
    assert!(
        ids_in(&t, d.token("kabid.ikp"), Folder::Cc)
            .await
            .contains(&letter.id)
    );
    assert!(
        !ids_in(&t, d.token("kabid.ikp"), Folder::Inbox)
            .await
            .contains(&letter.id)
    );
    assert!(
        ids_in(&t, d.token("kasi.egov"), Folder::Sent)
            .await
            .contains(&letter.id)
    );
    assert!(
        !ids_in(&t, d.token("kadis.kominfo"), Folder::ToSign)
            .await
            .contains(&letter.id)
    );

    // Read receipts reach the sender.
    let unread = l
        .list_letters(authed(
            pb::ListLettersRequest {
                folder: Folder::Inbox as i32,
                unread_only: true,
                ..Default::default()
            },
            d.token("sekda"),
        ))
        .await
        .expect("list")
        .into_inner();
    assert!(unread.letters.iter().any(|x| x.id == letter.id));
    let before = get_as(&t, d.token("sekda"), &letter.id).await;
    assert!(!before.read);
    l.mark_read(authed(
        pb::MarkReadRequest {
            letter_id: letter.id.clone(),
            position_id: String::new(),
        },
        d.token("sekda"),
    ))
    .await
    .expect("read");
    let seen = l
        .get_letter(authed(
            pb::GetLetterRequest {
                letter_id: letter.id.clone(),
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("get")
        .into_inner();
    assert!(seen.recipients[0].read_time.is_some());
    assert!(seen.carbon_copies[0].read_time.is_none());
    // `read` is the caller's own: the recipient read it, the sender has no inbox entry.
    assert!(!seen.read);
    let mine = get_as(&t, d.token("sekda"), &letter.id).await;
    assert!(mine.read);

    // Views of a list: unspecified is FULL; BASIC is the same page without the
    // letters' addressees, route and attachments.
    let inbox = |view: i32| {
        let mut l = l.clone();
        let token = d.token("sekda").to_owned();
        async move {
            l.list_letters(authed(
                pb::ListLettersRequest {
                    folder: Folder::Inbox as i32,
                    view,
                    ..Default::default()
                },
                &token,
            ))
            .await
            .map(|r| r.into_inner().letters)
        }
    };
    let full = inbox(pb::LetterView::Full as i32).await.expect("full");
    assert_eq!(inbox(0).await.expect("unspecified"), full);
    let listed = full.iter().find(|x| x.id == letter.id).expect("listed");
    assert!(listed.read);
    assert!(!listed.route.is_empty());
    assert!(listed.recipients[0].read_time.is_some());
    assert!(!listed.carbon_copies.is_empty());
    let basic = inbox(pb::LetterView::Basic as i32).await.expect("basic");
    let cut: Vec<pb::Letter> = full
        .into_iter()
        .map(|mut x| {
            x.recipients.clear();
            x.carbon_copies.clear();
            x.route.clear();
            x.attachments.clear();
            x
        })
        .collect();
    assert_eq!(basic, cut);
    let e = inbox(99).await.unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::InvalidArgument, "INVALID_ARGUMENT")
    );
    let e = l
        .mark_read(authed(
            pb::MarkReadRequest {
                letter_id: letter.id.clone(),
                position_id: String::new(),
            },
            d.token("kasi.egov"),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "NOT_RECIPIENT");

    // Versions and comments.
    let versions = l
        .list_versions(authed(
            pb::ListVersionsRequest {
                letter_id: letter.id.clone(),
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("versions")
        .into_inner()
        .versions;
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        vec![1, 2]
    );
    let comments = l
        .list_comments(authed(
            pb::ListCommentsRequest {
                letter_id: letter.id.clone(),
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("comments")
        .into_inner()
        .comments;
    assert_eq!(
        comments
            .iter()
            .map(|c| (c.version, c.text.as_str()))
            .collect::<Vec<_>>(),
        vec![(1, "Mohon lengkapi dasar hukumnya."), (2, "Sudah sesuai.")]
    );

    // The signed artefact verifies with OpenSSL against the agency CA, and not after a change.
    let doc = l
        .get_signed_document(authed(
            pb::GetSignedDocumentRequest {
                letter_id: letter.id.clone(),
            },
            d.token("sekda"),
        ))
        .await
        .expect("signed doc")
        .into_inner();
    let manifest: serde_json::Value =
        serde_json::from_slice(&doc.manifest).expect("manifest is JSON");
    assert_eq!(manifest["number"], letter.number.as_str());
    assert_eq!(
        manifest["approvals"][0]["position_name"],
        "Kepala Bidang Aplikasi Informatika"
    );
    assert_eq!(manifest["approvals"][0]["decision"], "APPROVED");
    assert_eq!(
        manifest["signer"]["user_name"],
        "Bambang Prasetyo, S.Kom., M.T."
    );
    assert_eq!(
        manifest["body_sha256"],
        hex::encode(sha2::Sha256::digest(
            "Dengan hormat, berdasarkan Perpres 95/2018 ...".as_bytes()
        ))
    );
    let dir = tempfile::tempdir().expect("tmp");
    assert!(openssl_verifies(
        dir.path(),
        &doc.manifest,
        &doc.signature,
        &doc.certificate_chain_pem[1]
    ));
    let mut tampered = doc.manifest.clone();
    let i = tampered.len() / 2;
    tampered[i] ^= 0x01;
    assert!(!openssl_verifies(
        dir.path(),
        &tampered,
        &doc.signature,
        &doc.certificate_chain_pem[1]
    ));

    // Public verification, without a login.
    let mut v = VerificationServiceClient::new(t.channel.clone());
    let ok = v
        .verify_letter(pb::VerifyLetterRequest {
            verification_code: letter.verification_code.clone(),
        })
        .await
        .expect("verify")
        .into_inner();
    assert!(ok.valid, "{ok:?}");
    assert_eq!(
        (
            ok.number.as_str(),
            ok.signer_name.as_str(),
            ok.signer_position.as_str()
        ),
        (
            letter.number.as_str(),
            "Bambang Prasetyo, S.Kom., M.T.",
            "Kepala Dinas"
        )
    );
    assert_eq!(ok.agency_name, "Pemerintah Provinsi Nusantara (demo)");
    assert_eq!(
        ok.subject, letter.subject,
        "an ordinary letter shows its subject"
    );
    assert!(
        ok.manifest_sha256.len() == 64
            && ok.manifest_sha256.bytes().all(|b| b.is_ascii_hexdigit())
            && ok.sign_time.is_some(),
        "{ok:?}"
    );
    let unknown = v
        .verify_letter(pb::VerifyLetterRequest {
            verification_code: "ZZZZZZZZZZZZZZZZZZZZ".into(),
        })
        .await
        .expect("verify")
        .into_inner();
    assert_eq!(
        (unknown.valid, unknown.reason.as_str()),
        (false, "UNKNOWN_CODE")
    );
    let sig_ok = v
        .verify_signature(pb::VerifySignatureRequest {
            manifest: doc.manifest.clone(),
            signature: doc.signature.clone(),
        })
        .await
        .expect("verify")
        .into_inner();
    assert!(
        sig_ok.valid && sig_ok.signer_nip == "197204151998031003",
        "{sig_ok:?}"
    );
    let sig_bad = v
        .verify_signature(pb::VerifySignatureRequest {
            manifest: tampered,
            signature: doc.signature.clone(),
        })
        .await
        .expect("verify")
        .into_inner();
    assert_eq!(
        (sig_bad.valid, sig_bad.reason.as_str()),
        (false, "DIGEST_MISMATCH")
    );

    // A signed letter cannot change or be withdrawn.
    let now = l
        .get_letter(authed(
            pb::GetLetterRequest {
                letter_id: letter.id.clone(),
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("get")
        .into_inner();
    let e = l
        .withdraw_letter(authed(
            pb::WithdrawLetterRequest {
                letter_id: letter.id.clone(),
                etag: now.etag.clone(),
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "LETTER_ALREADY_SIGNED");
    let e = l
        .update_draft(authed(
            pb::UpdateDraftRequest {
                letter: Some(pb::Letter {
                    id: letter.id.clone(),
                    body: "x".into(),
                    ..Default::default()
                }),
                update_mask: Some(FieldMask {
                    paths: vec!["body".into()],
                }),
                etag: now.etag.clone(),
                request_id: String::new(),
            },
            d.token("kasi.egov"),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "LETTER_ALREADY_SIGNED");

    // After revoking the signer's certificate the letter no longer verifies.
    let mut s =
        naskah::proto::signature_service_client::SignatureServiceClient::new(t.channel.clone());
    let cert = s
        .get_my_certificate(authed(
            pb::GetMyCertificateRequest {},
            d.token("kadis.kominfo"),
        ))
        .await
        .expect("cert")
        .into_inner();
    s.revoke_certificate(authed(
        pb::RevokeCertificateRequest {
            serial: cert.serial,
            reason: "test".into(),
            request_id: String::new(),
        },
        d.token("kadis.kominfo"),
    ))
    .await
    .expect("revoke");
    let revoked = v
        .verify_letter(pb::VerifyLetterRequest {
            verification_code: letter.verification_code.clone(),
        })
        .await
        .expect("verify")
        .into_inner();
    assert_eq!(
        (revoked.valid, revoked.reason.as_str()),
        (false, "CERTIFICATE_REVOKED")
    );

    // The audit trail holds every step and verifies.
    let mut a = AuditServiceClient::new(t.channel.clone());
    let events = a
        .list_audit_events(authed(
            pb::ListAuditEventsRequest {
                resource_type: "letter".into(),
                resource_id: letter.id.clone(),
                page_size: 100,
                ..Default::default()
            },
            d.token("auditor"),
        ))
        .await
        .expect("events")
        .into_inner()
        .events;
    let actions: Vec<&str> = events
        .iter()
        .rev()
        .map(|e| e.action.rsplit('/').next().unwrap_or(""))
        .collect();
    for expected in [
        "CreateDraft",
        "SetRoute",
        "SubmitLetter",
        "ReturnLetter",
        "UpdateDraft",
        "ApproveLetter",
        "SignLetter",
        "MarkRead",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    assert!(
        events
            .iter()
            .any(|e| e.action.ends_with("SignLetter") && e.reason == "WRONG_PASSPHRASE")
    );
    assert!(
        events.iter().all(|e| !e.summary.contains("Perpres")),
        "no letter content in the audit trail"
    );
    let report = a
        .verify_audit_log(authed(pb::VerifyAuditLogRequest {}, d.token("auditor")))
        .await
        .expect("verify")
        .into_inner();
    assert!(report.ok, "{report:?}");
    t.stop().await;
}
dual!(the_demo_scenario_runs_from_draft_to_inbox);

fn seq_of(number: &str) -> i64 {
    number
        .split('/')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no seq in {number}"))
}

async fn concurrent_signatures_get_gap_free_numbers(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(&t, &["kasi.egov", "kadis.kominfo", "sekda"]).await;
    let batch = approved_letters(&t, &d, 40).await;
    // On PostgreSQL a second server shares the database (and the data dir's keys).
    let second = if db == Db::Postgres {
        Some(t.another_server(false).await.expect("second server"))
    } else {
        None
    };
    let second_channel = second.as_ref().map(|s| s.channel.clone());
    let token = d.token("kadis.kominfo").to_owned();
    let mut tasks = Vec::new();
    for (i, x) in batch.into_iter().enumerate() {
        let channel = match (&second_channel, i % 2) {
            (Some(c), 1) => c.clone(),
            _ => t.channel.clone(),
        };
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            LetterServiceClient::new(channel)
                .sign_letter(authed(
                    pb::SignLetterRequest {
                        letter_id: x.id.clone(),
                        etag: x.etag.clone(),
                        passphrase: DEMO_PASSPHRASE.into(),
                        request_id: String::new(),
                    },
                    &token,
                ))
                .await
                .expect("sign")
                .into_inner()
                .number
        }));
    }
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(seq_of(&task.await.expect("task")));
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=40).collect::<Vec<i64>>());
    if let Some(s) = second {
        s.stop().await;
    }
    t.stop().await;
}
dual!(concurrent_signatures_get_gap_free_numbers);

async fn secret_letters_are_invisible_to_non_participants(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(
        &t,
        &[
            "kasi.egov",
            "kadis.kominfo",
            "sekda",
            "staf.egov",
            "kabid.ikp",
            "auditor",
        ],
    )
    .await;
    let mut l = letters(&t);
    let mut make = async |security: SecurityLevel| {
        let x = draft(&t, &d, "kasi.egov", &["sekda"], &[], security, "800.3.4").await;
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
        signed(&t, &d, &x).await
    };
    let secret = make(SecurityLevel::Rahasia).await;
    let ordinary = make(SecurityLevel::Biasa).await;
    for outsider in ["staf.egov", "kabid.ikp"] {
        for folder in [
            Folder::Inbox,
            Folder::Cc,
            Folder::Drafts,
            Folder::ToReview,
            Folder::ToSign,
            Folder::Sent,
            Folder::AllVisible,
        ] {
            assert!(
                !ids_in(&t, d.token(outsider), folder)
                    .await
                    .contains(&secret.id),
                "{outsider} sees it in {folder:?}"
            );
        }
        let e = l
            .get_letter(authed(
                pb::GetLetterRequest {
                    letter_id: secret.id.clone(),
                    ..Default::default()
                },
                d.token(outsider),
            ))
            .await
            .unwrap_err();
        assert_eq!(
            (e.code(), reason(&e).as_str()),
            (Code::NotFound, "LETTER_NOT_FOUND")
        );
        let e = l
            .get_signed_document(authed(
                pb::GetSignedDocumentRequest {
                    letter_id: secret.id.clone(),
                },
                d.token(outsider),
            ))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::NotFound);
        // An ordinary sent letter is no different: roles and the agency
        // grant no read; only taking part does.
        let e = l
            .get_letter(authed(
                pb::GetLetterRequest {
                    letter_id: ordinary.id.clone(),
                    ..Default::default()
                },
                d.token(outsider),
            ))
            .await
            .unwrap_err();
        assert_eq!(
            (e.code(), reason(&e).as_str(), e.message()),
            (Code::NotFound, "LETTER_NOT_FOUND", "letter not found"),
            "ordinary letter read by {outsider}"
        );
    }
    // Participants read it, and each read is audited; the public check shows no subject.
    let got = l
        .get_letter(authed(
            pb::GetLetterRequest {
                letter_id: secret.id.clone(),
                ..Default::default()
            },
            d.token("sekda"),
        ))
        .await
        .expect("recipient reads")
        .into_inner();
    assert_eq!(got.security_level, SecurityLevel::Rahasia as i32);
    assert!(
        ids_in(&t, d.token("sekda"), Folder::AllVisible)
            .await
            .contains(&secret.id)
    );
    let events = AuditServiceClient::new(t.channel.clone())
        .list_audit_events(authed(
            pb::ListAuditEventsRequest {
                resource_id: secret.id.clone(),
                action: "/naskah.v1.LetterService/GetLetter".into(),
                ..Default::default()
            },
            d.token("auditor"),
        ))
        .await
        .expect("events")
        .into_inner()
        .events;
    assert_eq!(events.len(), 1, "one audited read of the secret letter");
    let public = VerificationServiceClient::new(t.channel.clone())
        .verify_letter(pb::VerifyLetterRequest {
            verification_code: secret.verification_code.clone(),
        })
        .await
        .expect("verify")
        .into_inner();
    assert!(public.valid && public.subject.is_empty());
    t.stop().await;
}
dual!(secret_letters_are_invisible_to_non_participants);

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

async fn drafts_page_filter_withdraw_and_delete(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(&t, &["kasi.egov", "kadis.kominfo", "sekda", "arsiparis"]).await;
    let mut l = letters(&t);
    // Idempotent creation.
    let req = pb::CreateDraftRequest {
        drafting_position_id: d.pos("kasi.egov"),
        r#type: LetterType::Memo as i32,
        subject: "Memo idempoten".into(),
        security_level: SecurityLevel::Biasa as i32,
        urgency: Urgency::Biasa as i32,
        classification_code: "000.1".into(),
        recipients: vec![to(&d.pos("sekda"))],
        request_id: "draft-once".into(),
        ..Default::default()
    };
    let first = l
        .create_draft(authed(req.clone(), d.token("kasi.egov")))
        .await
        .expect("create")
        .into_inner();
    let again = l
        .create_draft(authed(req.clone(), d.token("kasi.egov")))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(first.id, again.id);
    // Retries sent at once: every one answers the one letter that was created
    // (the losers of the race replay the winner's response).
    let burst = pb::CreateDraftRequest {
        subject: "Memo serentak".into(),
        body: "Isi memo yang dikirim serentak.".into(),
        request_id: "draft-burst".into(),
        ..req.clone()
    };
    let mut calls = Vec::new();
    for _ in 0..6 {
        let mut c = letters(&t);
        let r = authed(burst.clone(), d.token("kasi.egov"));
        calls.push(tokio::spawn(async move { c.create_draft(r).await }));
    }
    let mut ids = Vec::new();
    for c in calls {
        ids.push(c.await.expect("join").expect("burst retry").into_inner().id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one letter for one request_id: {ids:?}");
    let listed = l
        .list_letters(authed(
            pb::ListLettersRequest {
                folder: Folder::Drafts as i32,
                query: "Memo serentak".into(),
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.letters.len(), 1);
    assert_eq!(listed.letters[0].id, ids[0]);
    assert!(listed.letters[0].body.is_empty(), "lists carry no bodies");
    let got = l
        .get_letter(authed(
            pb::GetLetterRequest {
                letter_id: ids[0].clone(),
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("get")
        .into_inner();
    assert_eq!(got.body, "Isi memo yang dikirim serentak.");
    l.delete_draft(authed(
        pb::DeleteDraftRequest {
            letter_id: got.id.clone(),
            etag: got.etag.clone(),
        },
        d.token("kasi.egov"),
    ))
    .await
    .expect("delete the burst draft");
    let e = l
        .create_draft(authed(
            pb::CreateDraftRequest {
                classification_code: "999.9".into(),
                request_id: String::new(),
                ..req.clone()
            },
            d.token("kasi.egov"),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::NotFound, "CLASSIFICATION_NOT_FOUND")
    );
    // A code found missing is not remembered as missing: once imported, the
    // same draft goes through.
    naskah::proto::records_service_client::RecordsServiceClient::new(t.channel.clone())
        .import_classifications(authed(
            pb::ImportClassificationsRequest {
                csv: "code,title,active_years,inactive_years,final_disposition,security_level\n\
                      999,Lain-lain,2,5,MUSNAH,\n\
                      999.9,Uji,,,,\n"
                    .into(),
                dry_run: false,
                request_id: String::new(),
            },
            d.token("arsiparis"),
        ))
        .await
        .expect("import 999.9");
    let known = l
        .create_draft(authed(
            pb::CreateDraftRequest {
                classification_code: "999.9".into(),
                request_id: String::new(),
                ..req.clone()
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("the imported code is known at once")
        .into_inner();
    assert_eq!(known.classification_code, "999.9");
    l.delete_draft(authed(
        pb::DeleteDraftRequest {
            letter_id: known.id.clone(),
            etag: known.etag.clone(),
        },
        d.token("kasi.egov"),
    ))
    .await
    .expect("delete the draft of the imported code");
    // A position that does not exist (in this agency or any) is refused by name.
    let e = l
        .create_draft(authed(
            pb::CreateDraftRequest {
                carbon_copies: vec![to("00000000-0000-4000-8000-000000000000")],
                request_id: String::new(),
                ..req.clone()
            },
            d.token("kasi.egov"),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::NotFound, "POSITION_NOT_FOUND")
    );
    let e = l
        .create_draft(authed(
            pb::CreateDraftRequest {
                drafting_position_id: d.pos("sekda"),
                request_id: String::new(),
                ..req.clone()
            },
            d.token("kasi.egov"),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "NOT_POSITION_HOLDER");
    for _ in 0..4 {
        draft(
            &t,
            &d,
            "kasi.egov",
            &["sekda"],
            &[],
            SecurityLevel::Biasa,
            "000.1.2",
        )
        .await;
    }
    // Keyset pages over five drafts: 2 + 2 + 1, newest first, nothing twice.
    let drafts = pages(
        &t,
        d.token("kasi.egov"),
        pb::ListLettersRequest {
            folder: Folder::Drafts as i32,
            page_size: 2,
            ..Default::default()
        },
    )
    .await;
    let seen: Vec<String> = drafts.iter().flatten().map(|x| x.id.clone()).collect();
    assert!(
        drafts.iter().flatten().all(|x| x.body.is_empty()),
        "lists carry no bodies"
    );
    assert_eq!((drafts.len(), seen.len()), (3, 5));
    let mut dedup = seen.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), 5);
    // Filters: type and urgency.
    let memos = l
        .list_letters(authed(
            pb::ListLettersRequest {
                folder: Folder::Drafts as i32,
                types: vec![LetterType::Memo as i32],
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("list")
        .into_inner()
        .letters;
    assert_eq!(
        memos.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(),
        vec![first.id.as_str()]
    );
    let urgent = l
        .list_letters(authed(
            pb::ListLettersRequest {
                folder: Folder::Drafts as i32,
                urgencies: vec![Urgency::Segera as i32],
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("list")
        .into_inner()
        .letters;
    assert_eq!(urgent.len(), 4);
    // A token of the unfiltered listing does not continue a filtered one.
    let token = l
        .list_letters(authed(
            pb::ListLettersRequest {
                folder: Folder::Drafts as i32,
                page_size: 2,
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("first page")
        .into_inner()
        .next_page_token;
    assert!(!token.is_empty());
    let e = l
        .list_letters(authed(
            pb::ListLettersRequest {
                folder: Folder::Drafts as i32,
                page_token: token,
                types: vec![LetterType::Memo as i32],
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "INVALID_PAGE_TOKEN");
    // Delete a never-submitted draft; withdraw a submitted one.
    l.delete_draft(authed(
        pb::DeleteDraftRequest {
            letter_id: first.id.clone(),
            etag: first.etag.clone(),
        },
        d.token("kasi.egov"),
    ))
    .await
    .expect("delete");
    let e = l
        .get_letter(authed(
            pb::GetLetterRequest {
                letter_id: first.id.clone(),
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let x = approved_letters(&t, &d, 1).await.remove(0);
    let e = l
        .delete_draft(authed(
            pb::DeleteDraftRequest {
                letter_id: x.id.clone(),
                etag: x.etag.clone(),
            },
            d.token("kasi.egov"),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "LETTER_NOT_EDITABLE");
    let w = l
        .withdraw_letter(authed(
            pb::WithdrawLetterRequest {
                letter_id: x.id.clone(),
                etag: x.etag.clone(),
                reason: "batal".into(),
                request_id: String::new(),
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("withdraw")
        .into_inner();
    assert_eq!(w.state, LetterState::Withdrawn as i32);
    assert!(
        !ids_in(&t, d.token("kadis.kominfo"), Folder::ToSign)
            .await
            .contains(&x.id)
    );
    let e = l
        .sign_letter(authed(
            pb::SignLetterRequest {
                letter_id: x.id.clone(),
                etag: w.etag.clone(),
                passphrase: DEMO_PASSPHRASE.into(),
                request_id: String::new(),
            },
            d.token("kadis.kominfo"),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "INVALID_STATE");
    t.stop().await;
}
dual!(drafts_page_filter_withdraw_and_delete);

/// A letter in the inboxes of two positions the caller sees (their own and the
/// one they serve as secretary) is listed once, with its details.
async fn a_letter_in_two_of_the_callers_inboxes_is_listed_once(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(&t, &["pencatat", "kadis.kominfo", "tu.kominfo"]).await;
    let mut l = letters(&t);
    let both = vec![d.pos("kadis.kominfo"), d.pos("tu.kominfo")];
    let id = l
        .register_incoming_letter(authed(
            incoming_request(
                both.clone(),
                "Undangan rapat koordinasi",
                "000.1",
                SecurityLevel::Biasa,
            ),
            d.token("pencatat"),
        ))
        .await
        .expect("register")
        .into_inner()
        .id;
    let page = l
        .list_letters(authed(
            pb::ListLettersRequest {
                folder: Folder::Inbox as i32,
                ..Default::default()
            },
            d.token("tu.kominfo"),
        ))
        .await
        .expect("inbox")
        .into_inner()
        .letters;
    let listed: Vec<&pb::Letter> = page.iter().filter(|x| x.id == id).collect();
    assert_eq!(listed.len(), 1, "one entry for the letter");
    let recipients: Vec<String> = listed[0]
        .recipients
        .iter()
        .filter_map(|a| match &a.target {
            Some(pb::addressee::Target::PositionId(p)) => Some(p.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(recipients, both, "its details came with it");

    // Pages merged from the two inboxes: newest first, each letter once, across
    // page tokens too, with and without a filter.
    let mut registered = Vec::new();
    for (k, to) in [both.clone(), vec![both[0].clone()], vec![both[1].clone()]]
        .into_iter()
        .cycle()
        .take(5)
        .enumerate()
    {
        let id = l
            .register_incoming_letter(authed(
                incoming_request(to, &format!("Surat ke-{k}"), "000.1", SecurityLevel::Biasa),
                d.token("pencatat"),
            ))
            .await
            .expect("register")
            .into_inner()
            .id;
        registered.push(id);
    }
    registered.reverse();
    for unread_only in [false, true] {
        let inbox = pages(
            &t,
            d.token("tu.kominfo"),
            pb::ListLettersRequest {
                folder: Folder::Inbox as i32,
                page_size: 2,
                unread_only,
                ..Default::default()
            },
        )
        .await;
        assert!(inbox.iter().all(|p| p.len() <= 2));
        let seen: Vec<String> = inbox.into_iter().flatten().map(|x| x.id).collect();
        assert_eq!(
            seen[..5],
            registered[..],
            "newest first (unread_only {unread_only})"
        );
        let mut once = seen.clone();
        once.sort();
        once.dedup();
        assert_eq!(once.len(), seen.len(), "each letter once");
        assert!(seen.contains(&id));
    }
    t.stop().await;
}
dual!(a_letter_in_two_of_the_callers_inboxes_is_listed_once);

async fn the_agency_number_template_is_configurable(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(&t, &["kasi.egov", "kadis.kominfo", "sekda"]).await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_naskah"))
            .args([
                "agency",
                "set-numbering",
                "--database-url",
                &t.db_url,
                "--data-dir",
            ])
            .arg(t.dir.path())
            .args(args)
            .env_remove("NASKAH_CONFIG")
            .output()
            .expect("run naskah agency set-numbering")
    };
    let bad = run(&["--agency", "DEMO-PROV", "--template", "{class}/{unit}"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("{seq}"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let ok = run(&[
        "--agency",
        "DEMO-PROV",
        "--template",
        "{security}-{seq}/{unit}/{class}/{month}/{year}",
        "--scope",
        "agency",
    ]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let x = draft(
        &t,
        &d,
        "kasi.egov",
        &["sekda"],
        &[],
        SecurityLevel::Rahasia,
        "000.1.2",
    )
    .await;
    let mut l = letters(&t);
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
    let signed = signed(&t, &d, &x).await;
    let (year, month) = wib_now();
    // A nota dinas drops the security code.
    assert_eq!(
        signed.number,
        format!("1/DISKOMINFO/000.1.2/{month:02}/{year}")
    );
    t.stop().await;
}
dual!(the_agency_number_template_is_configurable);

/// CreateDraft answers the letter it made from the rows it wrote, not read
/// back: that answer must be exactly what GetLetter answers right after, with
/// recipients and copies in the order given (positions and an external
/// addressee), names filled, and the creator's etag. A secret letter's answer is
/// read back, recording that read.
async fn a_new_drafts_answer_is_what_get_letter_answers(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(&t, &["kasi.egov", "sekda", "kadis.kominfo"]).await;
    let mut l = letters(&t);
    let external = pb::Addressee {
        target: Some(pb::addressee::Target::External(pb::ExternalAddressee {
            organisation: "Dinas Kesehatan Provinsi".into(),
            attention: "Kepala Dinas".into(),
            ..Default::default()
        })),
        ..Default::default()
    };
    for security in [SecurityLevel::Biasa, SecurityLevel::Rahasia] {
        let made = l
            .create_draft(authed(
                pb::CreateDraftRequest {
                    drafting_position_id: d.pos("kasi.egov"),
                    r#type: LetterType::SuratDinas as i32,
                    subject: "Undangan rapat koordinasi".into(),
                    body: "Dengan hormat, kami mengundang Bapak/Ibu.".into(),
                    security_level: security as i32,
                    urgency: Urgency::Segera as i32,
                    classification_code: "000.1".into(),
                    recipients: vec![to(&d.pos("sekda")), external.clone()],
                    carbon_copies: vec![to(&d.pos("kadis.kominfo"))],
                    ..Default::default()
                },
                d.token("kasi.egov"),
            ))
            .await
            .expect("create")
            .into_inner();
        let got = l
            .get_letter(authed(
                pb::GetLetterRequest {
                    letter_id: made.id.clone(),
                    ..Default::default()
                },
                d.token("kasi.egov"),
            ))
            .await
            .expect("get")
            .into_inner();
        assert_eq!(made, got, "{security:?}");
        let names: Vec<&str> = made
            .recipients
            .iter()
            .chain(&made.carbon_copies)
            .map(|a| a.display_name.as_str())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names.iter().all(|n| !n.is_empty()), "{names:?}");
        assert!(!made.etag.is_empty() && made.body.starts_with("Dengan hormat"));
    }
    t.stop().await;
}
dual!(a_new_drafts_answer_is_what_get_letter_answers);

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

/// The month and year of a letter number are those of the signing time in
/// the agency's time zone, a setting (WIB unless set): at 16:30 UTC on 31
/// December it is still 2026 in Jakarta, but already 2027 in Makassar (WITA)
/// and Jayapura (WIT), and the new year's sequence starts again at 1.
async fn numbers_take_their_month_and_year_in_the_agency_time_zone(db: Db) {
    // 2026-12-31T16:30:00Z.
    let clock = naskah_testkit::clock::ManualClock::new(1_798_734_600_000_000);
    let t = TestServer::start_demo_with_clock(db, clock.clone()).await;
    operator::set_agency_numbering(&t, "DEMO-PROV", "{seq}/{roman_month}/{month}/{year}")
        .await
        .expect("template");
    let d = Demo::login(&t, &["kasi.egov", "kadis.kominfo", "sekda"]).await;
    let sign = async || {
        let x = approved_letters(&t, &d, 1).await.remove(0);
        signed(&t, &d, &x).await.number
    };
    assert_eq!(sign().await, "1/XII/12/2026", "23:30 WIB, the default");
    assert_eq!(sign().await, "2/XII/12/2026");

    operator::set_time_zone(&t, "DEMO-PROV", "Asia/Makassar")
        .await
        .expect("WITA");
    assert_eq!(sign().await, "1/I/01/2027", "00:30 WITA: the new year");
    operator::set_time_zone(&t, "DEMO-PROV", "Asia/Jayapura")
        .await
        .expect("WIT");
    assert_eq!(sign().await, "2/I/01/2027", "01:30 WIT");
    operator::set_time_zone(&t, "DEMO-PROV", "Asia/Jakarta")
        .await
        .expect("WIB");
    assert_eq!(sign().await, "3/XII/12/2026", "back in 2026's sequence");

    // A name that is not a time zone changes nothing.
    let e = operator::set_time_zone(&t, "DEMO-PROV", "WITA")
        .await
        .unwrap_err();
    assert!(e.is_invalid(), "refused as invalid: {e:?}");
    assert_eq!(sign().await, "4/XII/12/2026");
    t.stop().await;
}
dual!(numbers_take_their_month_and_year_in_the_agency_time_zone);

/// UpdateDraft honours what it is sent: `letter.etag`, when set, must equal
/// `etag`, and the subject has CreateDraft's limit of 500 characters (not
/// bytes). A refused update changes nothing.
async fn update_draft_checks_both_etags_and_the_subject_as_create_draft_does(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(&t, &["kasi.egov", "kadis.kominfo"]).await;
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
    let update = |subject: String, letter_etag: &str| pb::UpdateDraftRequest {
        letter: Some(pb::Letter {
            id: letter.id.clone(),
            subject,
            etag: letter_etag.to_owned(),
            ..Default::default()
        }),
        update_mask: Some(FieldMask {
            paths: vec!["subject".into()],
        }),
        etag: letter.etag.clone(),
        request_id: String::new(),
    };
    let refused = async |l: &mut LetterServiceClient<Channel>, r: pb::UpdateDraftRequest| {
        let e = l
            .update_draft(authed(r, d.token("kasi.egov")))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
        e.message().to_owned()
    };
    // 501 characters of two bytes each: 1,002 bytes, once let through.
    let msg = refused(&mut l, update("é".repeat(501), "")).await;
    assert!(msg.contains("letter.subject"), "{msg}");
    let msg = refused(&mut l, update("Perihal baru".into(), "\"v9\"")).await;
    assert!(msg.contains("letter.etag"), "{msg}");
    let now = get_as(&t, d.token("kasi.egov"), &letter.id).await;
    assert_eq!(
        (now.subject.as_str(), now.etag.as_str()),
        (letter.subject.as_str(), letter.etag.as_str()),
        "nothing changed"
    );
    // 500 characters, and letter.etag equal to etag: accepted.
    let changed = l
        .update_draft(authed(
            update("é".repeat(500), &letter.etag),
            d.token("kasi.egov"),
        ))
        .await
        .expect("update")
        .into_inner();
    assert_eq!(changed.subject, "é".repeat(500));
    t.stop().await;
}
dual!(update_draft_checks_both_etags_and_the_subject_as_create_draft_does);
