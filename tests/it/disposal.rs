//! Disposal and archival export: two approvers, legal holds, destruction with a
//! residual record and a signed berita acara, transfer after export, and the
//! archival package checked offline (naskah package verify, sha256sum, openssl).

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;

use naskah::proto::letter_service_client::LetterServiceClient;
use naskah::proto::records_service_client::RecordsServiceClient;
use naskah::proto::verification_service_client::VerificationServiceClient;
use naskah::proto::{self as pb, CaseFileState, DisposalState, DueKind, LetterState, LetterType};
use naskah_testkit::clock::{Clock, ManualClock, SystemClock};
use naskah_testkit::demo::DEMO_PASSPHRASE;
use sha2::Digest;
use tonic::Code;
use tonic::transport::Channel;

use crate::cli::verify_cli;
use naskah_testkit::demo::{Demo, approved_letters, incoming_request};
use naskah_testkit::openssl_verifies;
use naskah_testkit::{Db, TestServer, authed, reason};
use naskah_testkit::{dual, inspect, operator};

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
    lsvc(t)
        .register_incoming_letter(authed(
            incoming_request(
                vec![d.pos("kadis.kominfo")],
                subject,
                class,
                pb::SecurityLevel::Biasa,
            ),
            d.token("pencatat"),
        ))
        .await
        .expect("register")
        .into_inner()
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
    lsvc(&t)
        .add_comment(authed(
            pb::AddCommentRequest {
                letter_id: signed.id.clone(),
                version: 0,
                text: "Catatan khusus anggaran 2026".into(),
                request_id: String::new(),
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("comment");
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
        (s.state, s.body.as_str(), s.subject.as_str()),
        (LetterState::Destroyed as i16, "", "")
    );
    assert_eq!(s.number, signed.number, "the number stays");
    assert_eq!(s.body_sha256, signed_body_sha, "the body hash stays");
    let sig = inspect::stored_signature(&t, &signed.id)
        .await
        .expect("signature row");
    assert!(sig.manifest.is_empty() && sig.signature.is_empty());
    assert_eq!(sig.verification_code, signed.verification_code);
    assert!(inspect::stored_comments(&t, &signed.id).await.is_empty());
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

async fn agency_of(t: &TestServer, d: &Demo) -> String {
    naskah::proto::auth_service_client::AuthServiceClient::new(t.channel.clone())
        .who_am_i(authed(pb::WhoAmIRequest {}, d.token("arsiparis")))
        .await
        .expect("whoami")
        .into_inner()
        .agency_id
}

/// Downloads a case file's package into `dir/name`.
async fn export_to(t: &TestServer, d: &Demo, case_file_id: &str, path: &Path) -> usize {
    let mut stream = rec(t)
        .export_case_file(authed(
            pb::ExportCaseFileRequest {
                case_file_id: case_file_id.to_owned(),
                access_reason: String::new(),
            },
            d.token("arsiparis"),
        ))
        .await
        .expect("export")
        .into_inner();
    let mut f = std::fs::File::create(path).expect("create package");
    let mut messages = 0;
    while let Some(m) = stream.message().await.expect("chunk") {
        f.write_all(&m.chunk).expect("write");
        messages += 1;
    }
    messages
}

fn package_verify(path: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_naskah"))
        .args(["package", "verify"])
        .arg(path)
        .output()
        .expect("run naskah package verify");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

async fn an_archival_package_verifies_offline_and_transfer_follows(db: Db) {
    let clock = ManualClock::new(SystemClock.now_us());
    let t = TestServer::start_demo_with_clock(db, clock.clone()).await;
    let users = [
        "arsiparis",
        "pencatat",
        "kadis.kominfo",
        "kasi.egov",
        "sekda",
    ];
    let d = Demo::login(&t, &users).await;
    let sekdis = unit_id(&t, d.token("arsiparis"), "SEKDIS").await;
    let signed = signed_letter(&t, &d).await;
    let inc = incoming(&t, &d, "000.1.1", "Laporan kegiatan").await;
    let big: Vec<u8> = [b"%PDF-1.4\n".as_slice(), &vec![b'p'; 300_000]].concat();
    let att = scan(&t, &d, &inc.id, &big).await;
    let cf = closed_case_file(&t, &d, "000.1", &sekdis, &[&signed.id, &inc.id]).await;

    let pkg_dir = tempfile::tempdir().expect("tmp");
    let pkg = pkg_dir.path().join("berkas.zip");
    let chunks = export_to(&t, &d, &cf.id, &pkg).await;
    assert!(chunks > 1, "the package streams in several messages");
    let (code, out) = package_verify(&pkg);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("2 letters, 1 signatures"), "{out}");

    // Independent tools: sha256sum over the extracted files, openssl over the signature.
    let x = pkg_dir.path().join("x");
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&pkg).expect("open")).expect("zip");
    zip.extract(&x).expect("extract");
    let sums = Command::new("sha256sum")
        .args(["-c", "--strict", "SHA256SUMS"])
        .current_dir(&x)
        .output()
        .expect("sha256sum (coreutils) must be installed");
    assert!(
        sums.status.success(),
        "{}",
        String::from_utf8_lossy(&sums.stdout)
    );
    let letter_dir = x.join("letters").join(&signed.id);
    let manifest = std::fs::read(letter_dir.join("signed-manifest.json")).expect("manifest");
    let sig = std::fs::read(letter_dir.join("signature.p7s")).expect("signature");
    let ca = std::fs::read_to_string(x.join("ca/agency-ca.pem")).expect("ca");
    let scratch = tempfile::tempdir().expect("tmp");
    assert!(openssl_verifies(scratch.path(), &manifest, &sig, &ca));
    let mut tampered_manifest = manifest.clone();
    tampered_manifest[10] ^= 1;
    assert!(!openssl_verifies(
        scratch.path(),
        &tampered_manifest,
        &sig,
        &ca
    ));
    let pm: serde_json::Value =
        serde_json::from_slice(&std::fs::read(x.join("manifest.json")).expect("m")).expect("json");
    assert_eq!(pm["case_file"]["id"], cf.id.as_str());
    assert!(
        std::fs::read_to_string(x.join("audit/events.jsonl"))
            .expect("events")
            .contains(&signed.id)
    );
    assert_eq!(
        std::fs::read(
            x.join("letters")
                .join(&inc.id)
                .join("attachments")
                .join(&att.id)
        )
        .expect("scan in package"),
        big
    );

    // One changed byte, re-zipped with fresh CRCs: the checksum names the file.
    let body_name = format!("letters/{}/body.md", signed.id);
    let bad = pkg_dir.path().join("bad.zip");
    {
        let mut src = zip::ZipArchive::new(std::fs::File::open(&pkg).expect("open")).expect("zip");
        let mut w = zip::ZipWriter::new(std::fs::File::create(&bad).expect("create"));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for i in 0..src.len() {
            let mut e = src.by_index(i).expect("entry");
            let name = e.name().expect("name").into_owned();
            let mut bytes = Vec::new();
            e.read_to_end(&mut bytes).expect("read");
            if name == body_name {
                bytes[0] ^= 0x20;
            }
            w.start_file(name.as_str(), opts).expect("start");
            w.write_all(&bytes).expect("write");
        }
        w.finish().expect("finish");
    }
    let (code, out) = package_verify(&bad);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&body_name) && out.contains("checksum"),
        "{out}"
    );
    // One flipped byte in place: the entry no longer reads back (CRC), named too.
    let mut raw = std::fs::read(&pkg).expect("read");
    let at = raw
        .windows(14)
        .position(|w| w == b"Dengan hormat,")
        .expect("body bytes stored as they are");
    raw[at] ^= 0x20;
    let flipped = pkg_dir.path().join("flipped.zip");
    std::fs::write(&flipped, &raw).expect("write");
    let (code, out) = package_verify(&flipped);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&body_name), "{out}");

    // Transfer of a PERMANEN file: needs its package first.
    let inc5 = incoming(&t, &d, "000.5.1", "Pedoman pengelolaan arsip").await;
    let perm = closed_case_file(&t, &d, "000.5", &sekdis, &[&inc5.id]).await;
    clock.advance(11 * YEAR);
    let d = Demo::login(&t, &users).await;
    let mut r = rec(&t);
    let p = r
        .propose_disposal(authed(
            pb::ProposeDisposalRequest {
                kind: DueKind::Transfer as i32,
                case_file_ids: vec![perm.id.clone()],
                request_id: String::new(),
            },
            d.token("arsiparis"),
        ))
        .await
        .expect("propose transfer")
        .into_inner();
    // Records unit and file unit share one head (kadis): its superior is the second.
    let mut required = p.required_approver_position_ids.clone();
    required.sort();
    let mut expected = vec![d.pos("kadis.kominfo"), d.pos("sekda")];
    expected.sort();
    assert_eq!(required, expected);
    let p = approve(&t, &d, "kadis.kominfo", &p)
        .await
        .expect("approve 1");
    let p = approve(&t, &d, "sekda", &p).await.expect("approve 2");
    let e = execute(&t, &d, &p, "").await.unwrap_err();
    assert_eq!(reason(&e), "NOT_EXPORTED");
    let perm_pkg = pkg_dir.path().join("perm.zip");
    export_to(&t, &d, &perm.id, &perm_pkg).await;
    let (code, out) = package_verify(&perm_pkg);
    assert_eq!(code, 0, "{out}");
    // A hold on one of its letters stops the transfer too, until released.
    let hold = r
        .place_hold(authed(
            pb::PlaceHoldRequest {
                letter_id: inc5.id.clone(),
                reason: "Sengketa informasi publik".into(),
                authority: "Komisi Informasi".into(),
                ..Default::default()
            },
            d.token("arsiparis"),
        ))
        .await
        .expect("hold")
        .into_inner();
    let e = execute(&t, &d, &p, "").await.unwrap_err();
    assert_eq!(reason(&e), "LEGAL_HOLD");
    r.release_hold(authed(
        pb::ReleaseHoldRequest {
            hold_id: hold.id.clone(),
            ..Default::default()
        },
        d.token("arsiparis"),
    ))
    .await
    .expect("release");
    let done = execute(&t, &d, &p, "").await.expect("transfer");
    assert_eq!(
        (done.state, done.berita_acara_letter_id.as_str()),
        (DisposalState::Executed as i32, "")
    );
    let listed = r
        .list_case_files(authed(
            pb::ListCaseFilesRequest::default(),
            d.token("arsiparis"),
        ))
        .await
        .expect("list")
        .into_inner()
        .case_files;
    let state_of = |id: &str| listed.iter().find(|c| c.id == id).map(|c| c.state);
    assert_eq!(state_of(&perm.id), Some(CaseFileState::Transferred as i32));
    assert_eq!(state_of(&cf.id), Some(CaseFileState::Closed as i32));
    let (code, out) = verify_cli(&t);
    assert_eq!(code, 0, "{out}");
    t.stop().await;
}
dual!(an_archival_package_verifies_offline_and_transfer_follows);

async fn configured_approvers_replace_the_heads(db: Db) {
    let clock = ManualClock::new(SystemClock.now_us());
    let t = TestServer::start_demo_with_clock(db, clock.clone()).await;
    let users = [
        "arsiparis",
        "pencatat",
        "kadis.kominfo",
        "sekda",
        "kabid.ikp",
    ];
    let d = Demo::login(&t, &users).await;
    let configure = |approvers: Vec<String>| {
        operator::set_records(&t, "DEMO-PROV", "SEKDIS", approvers, "000.5.2")
    };
    let one = configure(vec![d.pos("sekda")]).await.unwrap_err();
    assert!(one.violations().contains("two"), "{one}");
    let unknown = configure(vec![d.pos("sekda"), uuid::Uuid::new_v4().to_string()])
        .await
        .unwrap_err();
    assert!(unknown.violations().contains("no position"), "{unknown}");
    configure(vec![d.pos("sekda"), d.pos("kabid.ikp")])
        .await
        .expect("configure");
    let sekdis = unit_id(&t, d.token("arsiparis"), "SEKDIS").await;
    let inc = incoming(&t, &d, "000.1.1", "Surat biasa").await;
    let cf = closed_case_file(&t, &d, "000.1.1", &sekdis, &[&inc.id]).await;
    clock.advance(2 * YEAR);
    let d = Demo::login(&t, &users).await;
    let p = rec(&t)
        .propose_disposal(authed(
            pb::ProposeDisposalRequest {
                kind: DueKind::Disposal as i32,
                case_file_ids: vec![cf.id.clone()],
                request_id: String::new(),
            },
            d.token("arsiparis"),
        ))
        .await
        .expect("propose")
        .into_inner();
    let mut required = p.required_approver_position_ids.clone();
    required.sort();
    let mut expected = vec![d.pos("sekda"), d.pos("kabid.ikp")];
    expected.sort();
    assert_eq!(required, expected);
    let e = approve(&t, &d, "kadis.kominfo", &p).await.unwrap_err();
    assert_eq!(
        reason(&e),
        "NOT_AN_APPROVER",
        "the default head is not asked"
    );
    let p = approve(&t, &d, "kabid.ikp", &p).await.expect("approve");
    let p = approve(&t, &d, "sekda", &p).await.expect("approve");
    assert_eq!(p.state, DisposalState::Approved as i32);
    t.stop().await;
}
dual!(configured_approvers_replace_the_heads);
