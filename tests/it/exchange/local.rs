//! Two agencies of one installation exchange letters through the same path
//! (envelope, receipt, outcome, both audit chains), without the network.

use naskah::proto::{self as pb, DispatchStatus};

use naskah_testkit::demo::Demo;
use naskah_testkit::exchange as kit;
use naskah_testkit::{Db, TestServer, authed, dual, openssl_verifies};

use super::{inbox, sign_to, to_peer, until_dispatch};

async fn agencies_of_one_installation_exchange_without_the_network(db: Db) {
    // No exchange port at all.
    let a = TestServer::start_demo(db).await;
    assert!(a.exchange_addr.is_none());
    let d = Demo::login(&a, &["kasi.egov", "kadis.kominfo", "admin"]).await;
    let k = kit::dinkes(&a).await;
    let l = sign_to(
        &a.channel,
        &d,
        vec![to_peer("DINKES", &k.head_id)],
        "Antar instansi satu server",
    )
    .await;
    let x = until_dispatch(&a.channel, &d, &l.id, "REGISTERED", |x| {
        x.status == DispatchStatus::Registered as i32
    })
    .await;
    let got = inbox(&a.channel, &k.kepala).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].direction, pb::LetterDirection::Incoming as i32);
    let dinkes_ca = kit::pem(&kit::identity(&a, "DINKES").await.ca_der);
    let dir = tempfile::tempdir().expect("tmp");
    assert!(openssl_verifies(
        dir.path(),
        &x.receipt,
        &x.receipt_signature,
        &dinkes_ca
    ));
    assert!(openssl_verifies(
        dir.path(),
        &x.outcome,
        &x.outcome_signature,
        &dinkes_ca
    ));
    // Nothing crossed agencies but the letter: DEMO-PROV's own inbox holds none of it.
    assert!(
        inbox(&a.channel, d.token("kasi.egov"))
            .await
            .iter()
            .all(|y| y.id != got[0].id)
    );
    a.stop().await;
}
dual!(agencies_of_one_installation_exchange_without_the_network);

/// Files `letter` into a new case file of the first unit the records
/// officer `token` sees, closes it, exports it and checks the package with
/// `naskah package verify`; answers the extracted package's directory.
async fn exported(ch: &tonic::transport::Channel, token: &str, letter: &str) -> tempfile::TempDir {
    use naskah::proto::records_service_client::RecordsServiceClient;
    use std::io::Write;
    let unit = naskah::proto::org_service_client::OrgServiceClient::new(ch.clone())
        .list_units(authed(pb::ListUnitsRequest::default(), token))
        .await
        .expect("units")
        .into_inner()
        .units
        .remove(0);
    let mut r = RecordsServiceClient::new(ch.clone());
    let cf = r
        .create_case_file(authed(
            pb::CreateCaseFileRequest {
                classification_code: "000.1".into(),
                title: "Surat antar instansi".into(),
                unit_id: unit.id,
                ..Default::default()
            },
            token,
        ))
        .await
        .expect("case file")
        .into_inner();
    r.file_letter(authed(
        pb::FileLetterRequest {
            case_file_id: cf.id.clone(),
            letter_id: letter.into(),
            request_id: String::new(),
        },
        token,
    ))
    .await
    .expect("file");
    let mut stream = r
        .export_case_file(authed(
            pb::ExportCaseFileRequest {
                case_file_id: cf.id.clone(),
                access_reason: String::new(),
            },
            token,
        ))
        .await
        .expect("export")
        .into_inner();
    let dir = tempfile::tempdir().expect("tmp");
    let pkg = dir.path().join("berkas.zip");
    let mut f = std::fs::File::create(&pkg).expect("create");
    while let Some(m) = stream.message().await.expect("chunk") {
        f.write_all(&m.chunk).expect("write");
    }
    let out = std::process::Command::new(crate::NASKAH)
        .args(["package", "verify"])
        .arg(&pkg)
        .output()
        .expect("naskah package verify");
    assert!(out.status.success(), "{out:?}");
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&pkg).expect("open")).expect("zip");
    zip.extract(dir.path().join("x")).expect("extract");
    dir
}

async fn the_archival_packages_of_both_sides_carry_the_exchange_evidence(db: Db) {
    let a = TestServer::start_demo(db).await;
    let d = Demo::login(&a, &["kasi.egov", "kadis.kominfo", "admin", "arsiparis"]).await;
    let k = kit::dinkes(&a).await;
    let l = sign_to(
        &a.channel,
        &d,
        vec![to_peer("DINKES", &k.head_id)],
        "Untuk diarsipkan",
    )
    .await;
    let x = until_dispatch(&a.channel, &d, &l.id, "REGISTERED", |x| {
        x.status == DispatchStatus::Registered as i32
    })
    .await;
    let received = inbox(&a.channel, &k.kepala).await.remove(0);
    let scratch = tempfile::tempdir().expect("tmp");

    // The sender's package: the letter's signature, and DINKES's receipt and
    // outcome with DINKES's CA.
    let sent = exported(&a.channel, d.token("arsiparis"), &l.id).await;
    let x_dir = sent.path().join("x");
    let ev = x_dir
        .join("letters")
        .join(&l.id)
        .join("exchange")
        .join(&x.id);
    let dinkes_ca = std::fs::read_to_string(x_dir.join("ca/peers/DINKES.pem")).expect("peer CA");
    for name in ["receipt", "outcome"] {
        let content = std::fs::read(ev.join(format!("{name}.pb"))).expect("content");
        let sig = std::fs::read(ev.join(format!("{name}.p7s"))).expect("signature");
        assert!(
            openssl_verifies(scratch.path(), &content, &sig, &dinkes_ca),
            "{name}"
        );
    }
    let events = std::fs::read_to_string(x_dir.join("audit/events.jsonl")).expect("events");
    assert!(
        events.contains(&x.id),
        "the dispatch's audit events are in the excerpt"
    );

    // The receiver's package: the sender's signed manifest and signature,
    // checked against the sender's CA, and the receipt and outcome DINKES
    // issued, checked against its own.
    let got = exported(&a.channel, &k.arsip, &received.id).await;
    let y_dir = got.path().join("x");
    let letter_dir = y_dir.join("letters").join(&received.id);
    let sender_ca = std::fs::read_to_string(y_dir.join("ca/peers/DEMO-PROV.pem")).expect("CA");
    let manifest = std::fs::read(letter_dir.join("signed-manifest.json")).expect("manifest");
    let sig = std::fs::read(letter_dir.join("signature.p7s")).expect("signature");
    assert!(openssl_verifies(
        scratch.path(),
        &manifest,
        &sig,
        &sender_ca
    ));
    let own_ca = std::fs::read_to_string(y_dir.join("ca/agency-ca.pem")).expect("CA");
    assert!(!openssl_verifies(scratch.path(), &manifest, &sig, &own_ca));
    let ev = letter_dir.join("exchange").join(&x.id);
    let receipt = std::fs::read(ev.join("receipt.pb")).expect("receipt");
    let receipt_sig = std::fs::read(ev.join("receipt.p7s")).expect("receipt signature");
    assert!(openssl_verifies(
        scratch.path(),
        &receipt,
        &receipt_sig,
        &own_ca
    ));
    assert_eq!(receipt, x.receipt, "both sides keep the same receipt");
    a.stop().await;
}
dual!(the_archival_packages_of_both_sides_carry_the_exchange_evidence);
