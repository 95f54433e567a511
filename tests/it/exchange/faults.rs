//! Faults: the receiver is down when the letter is signed and comes back; the
//! signer's certificate is revoked before the letter leaves; the addressed
//! position was abolished with a successor.

use naskah::proto::signature_service_client::SignatureServiceClient;
use naskah::proto::{self as pb, DispatchStatus, RefusalCode};

use naskah_testkit::demo::Demo;
use naskah_testkit::exchange as kit;
use naskah_testkit::{Db, authed, dual};

use super::{dispatches, inbox, sign_to, to_peer, until_dispatch};

async fn a_receiver_that_was_down_gets_the_letter_once_when_it_is_back(db: Db) {
    let a = kit::exchanging(db, true).await;
    let mut b = kit::exchanging(db, false).await;
    let d = Demo::login(&a, &["kasi.egov", "kadis.kominfo", "admin"]).await;
    let k = kit::dinkes(&b).await;
    kit::pair(&a, d.token("admin"), &b, &k.admin).await;
    b.pause().await;

    let l = sign_to(
        &a.channel,
        &d,
        vec![to_peer("DINKES", &k.head_id)],
        "Laporan bulanan",
    )
    .await;
    // The relay tries, fails to connect, and keeps it queued with a next attempt.
    let x = until_dispatch(&a.channel, &d, &l.id, "tried", |x| x.attempts >= 2).await;
    assert!(
        x.status == DispatchStatus::Queued as i32 || x.status == DispatchStatus::Sent as i32,
        "{x:?}"
    );
    assert!(!x.last_error.is_empty());
    assert!(x.next_attempt_time.is_some());

    b.resume(kit::fast).await;
    let x = until_dispatch(&a.channel, &d, &l.id, "REGISTERED", |x| {
        x.status == DispatchStatus::Registered as i32
    })
    .await;
    assert!(!x.receipt.is_empty());
    let got = inbox(&b.channel, &k.kepala).await;
    assert_eq!(got.len(), 1, "delivered exactly once: {got:?}");
    assert_eq!(dispatches(&a.channel, &d, &l.id).await.len(), 1);
    a.stop().await;
    b.stop().await;
}
dual!(a_receiver_that_was_down_gets_the_letter_once_when_it_is_back);

async fn a_revoked_signer_and_an_abolished_addressee(db: Db) {
    let a = kit::exchanging(db, true).await;
    let mut b = kit::exchanging(db, false).await;
    let d = Demo::login(&a, &["kasi.egov", "kadis.kominfo", "admin"]).await;
    let k = kit::dinkes(&b).await;
    kit::pair(&a, d.token("admin"), &b, &k.admin).await;

    // The head's position is abolished (by DINKES's administrator); the
    // secretary's succeeds it: the letter is delivered there, and the
    // outcome says so. A successor whose successors lead back is refused.
    let mut org = naskah::proto::org_service_client::OrgServiceClient::new(b.channel.clone());
    org.abolish_position(authed(
        pb::AbolishPositionRequest {
            position_id: k.head_id.clone(),
            successor_position_id: k.staff_id.clone(),
            request_id: String::new(),
        },
        &k.admin,
    ))
    .await
    .expect("abolish");
    let e = org
        .abolish_position(authed(
            pb::AbolishPositionRequest {
                position_id: k.staff_id.clone(),
                successor_position_id: k.head_id.clone(),
                request_id: String::new(),
            },
            &k.admin,
        ))
        .await
        .expect_err("a cycle");
    assert_eq!(naskah_testkit::reason(&e), "POSITION_CYCLE");
    let me = kit::identity(&a, "DEMO-PROV").await;
    let dir = kit::directory(&me, &kit::peer_record(&a, "DEMO-PROV", "DINKES").await)
        .await
        .expect("directory");
    assert!(
        dir.positions
            .iter()
            .any(|p| p.position_id == k.head_id && p.successor_position_id == k.staff_id)
    );
    let l = sign_to(
        &a.channel,
        &d,
        vec![to_peer("DINKES", &k.head_id)],
        "Kepada jabatan lama",
    )
    .await;
    let x = until_dispatch(&a.channel, &d, &l.id, "REGISTERED", |x| {
        x.status == DispatchStatus::Registered as i32
    })
    .await;
    assert_eq!(x.delivered_position_id, k.staff_id);
    let got = inbox(&b.channel, &k.staf).await;
    assert_eq!(got.len(), 1);
    assert!(inbox(&b.channel, &k.kepala).await.is_empty());

    // Signed while B is down; the signer's certificate is revoked before B
    // comes back: refused CERT_REVOKED.
    b.pause().await;
    let l = sign_to(
        &a.channel,
        &d,
        vec![to_peer("DINKES", &k.staff_id)],
        "Ditandatangani lalu dicabut",
    )
    .await;
    let cert = SignatureServiceClient::new(a.channel.clone())
        .get_my_certificate(authed(
            pb::GetMyCertificateRequest {},
            d.token("kadis.kominfo"),
        ))
        .await
        .expect("certificate")
        .into_inner();
    SignatureServiceClient::new(a.channel.clone())
        .revoke_certificate(authed(
            pb::RevokeCertificateRequest {
                serial: cert.serial,
                reason: "kunci hilang".into(),
                ..Default::default()
            },
            d.token("kadis.kominfo"),
        ))
        .await
        .expect("revoke");
    b.resume(kit::fast).await;
    let x = until_dispatch(&a.channel, &d, &l.id, "REFUSED", |x| {
        x.status == DispatchStatus::Refused as i32
    })
    .await;
    assert_eq!(
        x.refusal.expect("refusal").code,
        RefusalCode::CertRevoked as i32
    );
    assert_eq!(inbox(&b.channel, &k.staf).await.len(), 1);
    a.stop().await;
    b.stop().await;
}
dual!(a_revoked_signer_and_an_abolished_addressee);

async fn a_receiver_refuses_what_its_policy_does_not_accept(db: Db) {
    let a = kit::exchanging(db, true).await;
    let b = naskah_testkit::TestServer::start_full(
        db,
        std::sync::Arc::new(naskah::clock::SystemClock),
        false,
        |c| {
            c.exchange_listen = "127.0.0.1:0".into();
            c.exchange_max_envelope_bytes = 64 * 1024;
            c.exchange_max_security_level = "TERBATAS".into();
            kit::fast(c);
        },
    )
    .await;
    let d = Demo::login(&a, &["kasi.egov", "kadis.kominfo", "admin"]).await;
    let k = kit::dinkes(&b).await;
    kit::pair(&a, d.token("admin"), &b, &k.admin).await;

    let secret = super::sign_with(
        &a.channel,
        &d,
        vec![to_peer("DINKES", &k.head_id)],
        "Rahasia",
        pb::SecurityLevel::Rahasia,
        super::ATTACHMENT,
    )
    .await;
    let big: Vec<u8> = [b"%PDF-1.4\n".as_slice(), &vec![b'x'; 100 * 1024]].concat();
    let large = super::sign_with(
        &a.channel,
        &d,
        vec![to_peer("DINKES", &k.head_id)],
        "Lampiran besar",
        pb::SecurityLevel::Biasa,
        &big,
    )
    .await;
    for (l, code) in [
        (&secret, RefusalCode::SecurityLevelNotAccepted),
        (&large, RefusalCode::TooLarge),
    ] {
        let x = until_dispatch(&a.channel, &d, &l.id, "REFUSED", |x| {
            x.status == DispatchStatus::Refused as i32
        })
        .await;
        let refusal = x.refusal.expect("refusal");
        assert_eq!(refusal.code, code as i32, "{}", l.subject);
        if code == RefusalCode::TooLarge {
            assert_eq!(refusal.limit_bytes, 64 * 1024);
        }
    }
    assert!(inbox(&b.channel, &k.kepala).await.is_empty());
    a.stop().await;
    b.stop().await;
}
dual!(a_receiver_refuses_what_its_policy_does_not_accept);

async fn the_registrar_checks_consignments_when_the_agency_says_so(db: Db) {
    let a = kit::exchanging(db, true).await;
    let b = kit::exchanging(db, false).await;
    let d = Demo::login(&a, &["kasi.egov", "kadis.kominfo", "admin"]).await;
    let k = kit::dinkes(&b).await;
    let registrar = kit::dinkes_registrar(&b.channel, &k.admin).await;
    kit::pair(&a, d.token("admin"), &b, &k.admin).await;
    kit::registrar_check(&b, "DINKES", true).await;

    let first = sign_to(
        &a.channel,
        &d,
        vec![to_peer("DINKES", &k.head_id)],
        "Diperiksa dulu",
    )
    .await;
    let second = sign_to(
        &a.channel,
        &d,
        vec![to_peer("DINKES", &k.head_id)],
        "Akan ditolak",
    )
    .await;
    // Delivered: a receipt, no outcome yet, nothing in the head's INBOX.
    for l in [&first, &second] {
        let x = until_dispatch(&a.channel, &d, &l.id, "DELIVERED", |x| {
            x.status == DispatchStatus::Delivered as i32
        })
        .await;
        assert!(!x.receipt.is_empty() && x.outcome.is_empty());
    }
    assert!(inbox(&b.channel, &k.kepala).await.is_empty());
    let mut p = super::peers(&b.channel);
    let waiting = p
        .list_awaiting_consignments(authed(
            pb::ListAwaitingConsignmentsRequest::default(),
            &registrar,
        ))
        .await
        .expect("awaiting")
        .into_inner()
        .consignments;
    assert_eq!(waiting.len(), 2);
    let by_subject = |s: &str| {
        waiting
            .iter()
            .find(|c| c.subject == s)
            .cloned()
            .expect("listed")
    };
    let (ok, no) = (by_subject("Diperiksa dulu"), by_subject("Akan ditolak"));
    assert_eq!(ok.sender_agency_code, "DEMO-PROV");
    assert_eq!(ok.number, first.number);
    // Only a registrar checks.
    let e = p
        .accept_consignment(authed(
            pb::AcceptConsignmentRequest {
                sender_agency_code: ok.sender_agency_code.clone(),
                consignment_id: ok.consignment_id.clone(),
                request_id: String::new(),
            },
            &k.kepala,
        ))
        .await
        .expect_err("not a registrar");
    assert_eq!(e.code(), tonic::Code::PermissionDenied);
    let accepted = p
        .accept_consignment(authed(
            pb::AcceptConsignmentRequest {
                sender_agency_code: ok.sender_agency_code.clone(),
                consignment_id: ok.consignment_id.clone(),
                request_id: String::new(),
            },
            &registrar,
        ))
        .await
        .expect("accept")
        .into_inner();
    assert!(!accepted.letter_id.is_empty());
    p.refuse_consignment(authed(
        pb::RefuseConsignmentRequest {
            sender_agency_code: no.sender_agency_code.clone(),
            consignment_id: no.consignment_id.clone(),
            code: RefusalCode::Policy as i32,
            text: "bukan kewenangan kami".into(),
            request_id: String::new(),
        },
        &registrar,
    ))
    .await
    .expect("refuse");
    // Decided once.
    let e = p
        .accept_consignment(authed(
            pb::AcceptConsignmentRequest {
                sender_agency_code: no.sender_agency_code.clone(),
                consignment_id: no.consignment_id.clone(),
                request_id: String::new(),
            },
            &registrar,
        ))
        .await
        .expect_err("decided");
    assert_eq!(e.code(), tonic::Code::FailedPrecondition);

    // The outcomes reach the sender.
    let x = until_dispatch(&a.channel, &d, &first.id, "REGISTERED", |x| {
        x.status == DispatchStatus::Registered as i32
    })
    .await;
    assert!(!x.registration_number.is_empty() && !x.receipt.is_empty());
    let x = until_dispatch(&a.channel, &d, &second.id, "REFUSED", |x| {
        x.status == DispatchStatus::Refused as i32
    })
    .await;
    let refusal = x.refusal.expect("refusal");
    assert_eq!(refusal.code, RefusalCode::Policy as i32);
    assert_eq!(refusal.text, "bukan kewenangan kami");
    let got = inbox(&b.channel, &k.kepala).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, accepted.letter_id);
    a.stop().await;
    b.stop().await;
}
dual!(the_registrar_checks_consignments_when_the_agency_says_so);

async fn a_dispatch_given_up_fails_and_a_registrar_retries_or_cancels_it(db: Db) {
    let a = naskah_testkit::TestServer::start_full(
        db,
        std::sync::Arc::new(naskah::clock::SystemClock),
        true,
        |c| {
            c.exchange_listen = "127.0.0.1:0".into();
            kit::fast(c);
            c.exchange_give_up_secs = 3;
        },
    )
    .await;
    let mut b = kit::exchanging(db, false).await;
    let d = Demo::login(&a, &["kasi.egov", "kadis.kominfo", "admin", "pencatat"]).await;
    let k = kit::dinkes(&b).await;
    kit::pair(&a, d.token("admin"), &b, &k.admin).await;
    b.pause().await;
    let l = sign_to(
        &a.channel,
        &d,
        vec![to_peer("DINKES", &k.head_id)],
        "Tidak terkirim",
    )
    .await;
    let x = until_dispatch(&a.channel, &d, &l.id, "FAILED", |x| {
        x.status == DispatchStatus::Failed as i32
    })
    .await;
    assert!(x.next_attempt_time.is_none() && !x.last_error.is_empty());
    let mut p = super::peers(&a.channel);
    let failed = p
        .list_dispatches(authed(
            pb::ListDispatchesRequest {
                status: DispatchStatus::Failed as i32,
                ..Default::default()
            },
            d.token("pencatat"),
        ))
        .await
        .expect("list")
        .into_inner()
        .dispatches;
    assert_eq!(
        failed.iter().map(|y| &y.id).collect::<Vec<_>>(),
        vec![&x.id]
    );
    // Only a registrar acts on dispatches.
    let e = p
        .retry_dispatch(authed(
            pb::RetryDispatchRequest {
                id: x.id.clone(),
                request_id: String::new(),
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect_err("not a registrar");
    assert_eq!(e.code(), tonic::Code::PermissionDenied);
    let cancelled = p
        .cancel_dispatch(authed(
            pb::CancelDispatchRequest {
                id: x.id.clone(),
                request_id: String::new(),
            },
            d.token("pencatat"),
        ))
        .await
        .expect("cancel")
        .into_inner();
    assert_eq!(cancelled.status, DispatchStatus::Cancelled as i32);
    // Queued again when B is back: registered.
    b.resume(kit::fast).await;
    let again = p
        .retry_dispatch(authed(
            pb::RetryDispatchRequest {
                id: x.id.clone(),
                request_id: String::new(),
            },
            d.token("pencatat"),
        ))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(again.status, DispatchStatus::Queued as i32);
    until_dispatch(&a.channel, &d, &l.id, "REGISTERED", |x| {
        x.status == DispatchStatus::Registered as i32
    })
    .await;
    // A registered dispatch is neither cancelled nor retried.
    for e in [
        p.cancel_dispatch(authed(
            pb::CancelDispatchRequest {
                id: x.id.clone(),
                request_id: String::new(),
            },
            d.token("pencatat"),
        ))
        .await
        .expect_err("registered"),
        p.retry_dispatch(authed(
            pb::RetryDispatchRequest {
                id: x.id.clone(),
                request_id: String::new(),
            },
            d.token("pencatat"),
        ))
        .await
        .expect_err("registered"),
    ] {
        assert_eq!(naskah_testkit::reason(&e), "INVALID_STATE");
    }
    // An unknown id is not found.
    let e = p
        .cancel_dispatch(authed(
            pb::CancelDispatchRequest {
                id: uuid::Uuid::new_v4().to_string(),
                request_id: String::new(),
            },
            d.token("pencatat"),
        ))
        .await
        .expect_err("unknown");
    assert_eq!(naskah_testkit::reason(&e), "DISPATCH_NOT_FOUND");
    assert_eq!(inbox(&b.channel, &k.kepala).await.len(), 1);
    a.stop().await;
    b.stop().await;
}
dual!(a_dispatch_given_up_fails_and_a_registrar_retries_or_cancels_it);
