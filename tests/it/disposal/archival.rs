//! Archival export: the package checked offline (naskah package verify,
//! sha256sum, openssl), and the transfer that follows it.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;

use naskah::proto::{self as pb, CaseFileState, DisposalState, DueKind};
use naskah_testkit::clock::{Clock, ManualClock, SystemClock};

use super::{
    YEAR, approve, closed_case_file, execute, incoming, rec, scan, signed_letter, unit_id,
};
use crate::cli::verify_cli;
use naskah_testkit::demo::Demo;
use naskah_testkit::dual;
use naskah_testkit::openssl_verifies;
use naskah_testkit::{Db, TestServer, authed, reason};

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
