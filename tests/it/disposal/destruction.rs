//! Destruction: legal holds block it, two approvers allow it, the content
//! goes from the database and the blob store, a residual record and a signed
//! berita acara stay.

use naskah::proto::verification_service_client::VerificationServiceClient;
use naskah::proto::{self as pb, CaseFileState, DisposalState, DueKind, LetterState, LetterType};
use naskah_testkit::clock::{Clock, ManualClock, SystemClock};
use naskah_testkit::demo::DEMO_PASSPHRASE;
use sha2::Digest;
use tonic::Code;

use super::{
    YEAR, agency_of, approve, blob_path, closed_case_file, execute, incoming, lsvc, rec, scan,
    signed_letter, unit_id,
};
use crate::cli::verify_cli;
use naskah_testkit::demo::Demo;
use naskah_testkit::{Db, TestServer, authed, reason};
use naskah_testkit::{dual, inspect};

async fn destruction_keeps_the_residual_record_and_a_signed_berita_acara(db: Db) {
    let clock = ManualClock::new(SystemClock.now_us());
    let t = TestServer::start_demo_with_clock(db, clock.clone()).await;
    let users = [
        "arsiparis",
        "pencatat",
        "kadis.kominfo",
        "kabid.aptika",
        "kasi.egov",
        "sekda",
    ];
    let d = Demo::login(&t, &users).await;
    let aptika = unit_id(&t, d.token("arsiparis"), "APTIKA").await;

    // Content: a signed letter with a comment; an incoming letter with two scans, one
    // of them also attached to a letter that is kept.
    let signed = signed_letter(&t, &d).await;
    let signed_body_sha = hex::encode(sha2::Sha256::digest(signed.body.as_bytes()));
    assert!(!signed.body.is_empty());
    // The comment is made with a request_id: its remembered answer holds
    // the comment's text.
    let comment_req = pb::AddCommentRequest {
        letter_id: signed.id.clone(),
        version: 0,
        text: "Catatan khusus anggaran 2026".into(),
        request_id: "comment-before-destruction".into(),
    };
    let comment = lsvc(&t)
        .add_comment(authed(comment_req.clone(), d.token("kasi.egov")))
        .await
        .expect("comment")
        .into_inner();
    let subject = "Undangan rapat pengadaan server pusat data";
    let inc = incoming(&t, &d, "000.1.1", subject).await;
    let unique: Vec<u8> = [b"%PDF-1.4\nunique ".as_slice(), &[b'u'; 70_000]].concat();
    let shared: Vec<u8> = [b"%PDF-1.4\nshared ".as_slice(), &[b's'; 5_000]].concat();
    let unique_att = scan(&t, &d, &inc.id, &unique).await;
    scan(&t, &d, &inc.id, &shared).await;
    let kept = incoming(&t, &d, "000.1.1", "Surat lain yang tetap disimpan").await;
    scan(&t, &d, &kept.id, &shared).await;
    let shared_sha = hex::encode(sha2::Sha256::digest(&shared));
    assert!(blob_path(&t, &unique_att.sha256).exists());

    let cf = closed_case_file(&t, &d, "000.1.1", &aptika, &[&signed.id, &inc.id]).await;
    let mut r = rec(&t);
    let propose = |kind: DueKind| pb::ProposeDisposalRequest {
        kind: kind as i32,
        case_file_ids: vec![cf.id.clone()],
        request_id: String::new(),
    };
    let e = r
        .propose_disposal(authed(propose(DueKind::Disposal), d.token("arsiparis")))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::FailedPrecondition, "NOT_DUE")
    );

    // 000.1.1 keeps one active and one inactive year.
    clock.advance(2 * YEAR);
    let d = Demo::login(&t, &users).await;
    let e = r
        .propose_disposal(authed(propose(DueKind::Transfer), d.token("arsiparis")))
        .await
        .unwrap_err();
    assert_eq!(
        reason(&e),
        "NOT_DUE",
        "a MUSNAH file is not due for transfer"
    );
    let e = r
        .propose_disposal(authed(propose(DueKind::Disposal), d.token("kasi.egov")))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let p = r
        .propose_disposal(authed(propose(DueKind::Disposal), d.token("arsiparis")))
        .await
        .expect("propose")
        .into_inner();
    // Records unit SEKDIS has no head of its own: its parent's head (kadis) approves,
    // with the head of the case file's unit (kabid.aptika).
    let mut required = p.required_approver_position_ids.clone();
    required.sort();
    let mut expected = vec![d.pos("kadis.kominfo"), d.pos("kabid.aptika")];
    expected.sort();
    assert_eq!(required, expected);
    assert_eq!(p.state, DisposalState::Proposed as i32);
    let e = r
        .propose_disposal(authed(propose(DueKind::Disposal), d.token("arsiparis")))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "ALREADY_PROPOSED");

    let e = approve(&t, &d, "sekda", &p).await.unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::PermissionDenied, "NOT_AN_APPROVER")
    );
    let p = approve(&t, &d, "kabid.aptika", &p)
        .await
        .expect("approve 1");
    assert_eq!(
        (p.state, p.approvals.len()),
        (DisposalState::Proposed as i32, 1)
    );
    let e = approve(&t, &d, "kabid.aptika", &p).await.unwrap_err();
    assert_eq!(reason(&e), "ALREADY_APPROVED");
    let e = execute(&t, &d, &p, DEMO_PASSPHRASE).await.unwrap_err();
    assert_eq!(reason(&e), "NOT_APPROVED");
    let p = approve(&t, &d, "kadis.kominfo", &p)
        .await
        .expect("approve 2");
    assert_eq!(p.state, DisposalState::Approved as i32);

    // A hold placed after approval still stops the destruction.
    let hold = r
        .place_hold(authed(
            pb::PlaceHoldRequest {
                case_file_id: cf.id.clone(),
                reason: "Pemeriksaan BPK".into(),
                authority: "BPK RI".into(),
                ..Default::default()
            },
            d.token("arsiparis"),
        ))
        .await
        .expect("hold")
        .into_inner();
    let e = execute(&t, &d, &p, DEMO_PASSPHRASE).await.unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::FailedPrecondition, "LEGAL_HOLD")
    );
    assert!(blob_path(&t, &unique_att.sha256).exists());
    r.release_hold(authed(
        pb::ReleaseHoldRequest {
            hold_id: hold.id.clone(),
            ..Default::default()
        },
        d.token("arsiparis"),
    ))
    .await
    .expect("release");
    let e = execute(&t, &d, &p, "bukan-passphrase").await.unwrap_err();
    assert_eq!(reason(&e), "WRONG_PASSPHRASE");
    let refused = inspect::audit_events(&t, &p.id, 10).await;
    assert!(
        refused
            .first()
            .is_some_and(|e| e.body.reason == "WRONG_PASSPHRASE"),
        "a refused unlock is audited on the proposal"
    );
    let done = execute(&t, &d, &p, DEMO_PASSPHRASE).await.expect("execute");
    assert_eq!(done.state, DisposalState::Executed as i32);
    assert!(!done.berita_acara_letter_id.is_empty());

    // The content is gone from the database and the blob store.
    let s = inspect::stored_letter(&t, &agency_of(&t, &d).await, &signed.id)
        .await
        .expect("residual letter row");
    assert_eq!(
        (i32::from(s.state), s.body.as_str(), s.subject.as_str()),
        (LetterState::Destroyed as i32, "", "")
    );
    assert_eq!(s.number, signed.number, "the number stays");
    assert_eq!(s.body_sha256, signed_body_sha, "the body hash stays");
    let sig = inspect::stored_signature(&t, &signed.id)
        .await
        .expect("signature row");
    assert!(sig.manifest.is_empty() && sig.signature.is_empty());
    assert_eq!(sig.verification_code, signed.verification_code);
    assert!(inspect::stored_comments(&t, &signed.id).await.is_empty());
    // Nor does a remembered answer keep it: a retry of the comment is not
    // answered with the first response (its text) but runs again.
    match lsvc(&t)
        .add_comment(authed(comment_req, d.token("kasi.egov")))
        .await
    {
        Ok(again) => assert_ne!(again.into_inner().id, comment.id, "not replayed"),
        Err(e) => assert_ne!(e.code(), tonic::Code::Ok),
    }
    for v in inspect::stored_versions(&t, &signed.id).await {
        assert!(v.body.is_empty() && v.subject.is_empty());
    }
    assert!(
        !blob_path(&t, &unique_att.sha256).exists(),
        "unique scan destroyed"
    );
    assert!(
        blob_path(&t, &shared_sha).exists(),
        "a scan a kept letter uses stays"
    );

    // The residual record lists each destroyed item with its hash.
    let residual = inspect::destroyed_items(&t, &done.id).await;
    let has = |kind: &str, sha: &str| residual.iter().any(|x| x.kind == kind && x.sha256 == sha);
    assert!(has("body", &signed_body_sha));
    assert!(has("signed_manifest", &sig.manifest_sha256));
    assert!(has("attachment", &unique_att.sha256));
    assert!(has("attachment", &shared_sha));
    assert!(residual.iter().any(|x| x.kind == "comment"));

    // Reads say what happened.
    let mut l = lsvc(&t);
    let got = l
        .get_letter(authed(
            pb::GetLetterRequest {
                letter_id: inc.id.clone(),
                ..Default::default()
            },
            d.token("kadis.kominfo"),
        ))
        .await
        .expect("get")
        .into_inner();
    assert_eq!(got.state, LetterState::Destroyed as i32);
    assert!(got.subject.is_empty() && got.body.is_empty());
    let e = l
        .download_attachment(authed(
            pb::DownloadAttachmentRequest {
                attachment_id: unique_att.id.clone(),
            },
            d.token("kadis.kominfo"),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "CONTENT_DESTROYED");
    let mut v = VerificationServiceClient::new(t.channel.clone());
    let check = v
        .verify_letter(pb::VerifyLetterRequest {
            verification_code: signed.verification_code.clone(),
        })
        .await
        .expect("verify")
        .into_inner();
    assert_eq!(
        (check.valid, check.reason.as_str(), check.number.as_str()),
        (false, "CONTENT_DESTROYED", signed.number.as_str())
    );
    let e = r
        .export_case_file(authed(
            pb::ExportCaseFileRequest {
                case_file_id: cf.id.clone(),
                access_reason: String::new(),
            },
            d.token("arsiparis"),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "CONTENT_DESTROYED");

    // The berita acara: signed, numbered, sent to the approvers, listing the hashes.
    let ba = l
        .get_letter(authed(
            pb::GetLetterRequest {
                letter_id: done.berita_acara_letter_id.clone(),
                ..Default::default()
            },
            d.token("kabid.aptika"),
        ))
        .await
        .expect("berita acara readable by an approver")
        .into_inner();
    assert_eq!(
        (ba.r#type, ba.state),
        (LetterType::BeritaAcara as i32, LetterState::Sent as i32)
    );
    assert!(!ba.number.is_empty());
    for needle in [&unique_att.sha256, &signed_body_sha, &signed.number] {
        assert!(
            ba.body.contains(needle.as_str()),
            "berita acara lists {needle}"
        );
    }
    let check = v
        .verify_letter(pb::VerifyLetterRequest {
            verification_code: ba.verification_code.clone(),
        })
        .await
        .expect("verify")
        .into_inner();
    assert!(
        check.valid,
        "berita acara signature verifies: {}",
        check.reason
    );

    // The audit trail still verifies and never held the destroyed content.
    let (code, out) = verify_cli(&t);
    assert_eq!(code, 0, "{out}");
    let events = inspect::audit_events(&t, "", 100_000).await;
    assert!(events.iter().any(|e| e.body.resource_id == done.id));
    for e in &events {
        for secret in [
            subject,
            "Catatan khusus anggaran",
            "Permohonan data layanan",
        ] {
            assert!(
                !e.body.summary.contains(secret),
                "event {} leaks content",
                e.seq
            );
        }
    }
    let cf_now = r
        .list_case_files(authed(
            pb::ListCaseFilesRequest {
                ..Default::default()
            },
            d.token("arsiparis"),
        ))
        .await
        .expect("list")
        .into_inner()
        .case_files
        .into_iter()
        .find(|c| c.id == cf.id)
        .expect("case file listed");
    assert_eq!(cf_now.state, CaseFileState::Destroyed as i32);
    assert_eq!(
        (cf_now.letter_count, cf_now.on_hold),
        (2, false),
        "the residual letters still count as filed"
    );
    t.stop().await;
}
dual!(destruction_keeps_the_residual_record_and_a_signed_berita_acara);
