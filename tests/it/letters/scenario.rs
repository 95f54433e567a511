//! The demo scenario from a draft to the recipients' inboxes: route, review,
//! signature checked by OpenSSL and by VerifyLetter, delivery, read receipts,
//! the audit trail.

use naskah::proto::audit_service_client::AuditServiceClient;
use naskah::proto::verification_service_client::VerificationServiceClient;
use naskah::proto::{self as pb, Folder, LetterState, LetterType, SecurityLevel};
use prost_types::FieldMask;
use sha2::Digest;
use tonic::Code;

use super::{get_as, ids_in, year_now};
use naskah_testkit::demo::{DEMO_PASSPHRASE, Demo, draft, letters, routed};
use naskah_testkit::dual;
use naskah_testkit::openssl_verifies;
use naskah_testkit::{Db, TestServer, authed, reason};

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
