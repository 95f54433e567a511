//! A letter signed at one installation reaches the addressed position of an
//! agency at another, over mutual TLS, with a signed receipt and a signed
//! outcome that OpenSSL verifies; a resend answers the first receipt; a
//! tampered envelope, a corrupt attachment or an unknown addressee is
//! refused with its code; a certificate from an unpinned CA is refused at
//! the handshake.

use naskah::proto::{self as pb, DispatchStatus, RefusalCode};
use prost::Message;

use naskah_testkit::demo::Demo;
use naskah_testkit::exchange::{self as kit, Dinkes};
use naskah_testkit::{Db, TestServer, authed, dual, openssl_verifies};

use super::{ATTACHMENT, inbox, peers, sign_to, to_peer, until_dispatch};

/// A (demo, DEMO-PROV) and B (DINKES) on installations of their own, paired.
async fn two(db: Db) -> (TestServer, Demo, TestServer, Dinkes) {
    let a = kit::exchanging(db, true).await;
    let b = kit::exchanging(db, false).await;
    let d = Demo::login(&a, &["kasi.egov", "kadis.kominfo", "admin", "pencatat"]).await;
    let k = kit::dinkes(&b).await;
    kit::pair(&a, d.token("admin"), &b, &k.admin).await;
    (a, d, b, k)
}

async fn delivered_once_with_evidence(db: Db) {
    let (a, d, b, k) = two(db).await;
    let l = sign_to(
        &a.channel,
        &d,
        vec![to_peer("DINKES", &k.head_id)],
        "Undangan rapat koordinasi",
    )
    .await;
    assert_eq!(l.state, pb::LetterState::Sent as i32);
    let x = until_dispatch(&a.channel, &d, &l.id, "REGISTERED", |x| {
        x.status == DispatchStatus::Registered as i32
    })
    .await;
    assert!(!x.registration_number.is_empty());
    assert_eq!(x.delivered_position_id, k.head_id);

    // The letter is in the head's INBOX at B, once, as an incoming letter
    // with the sender's number, agency and signer.
    let got = inbox(&b.channel, &k.kepala).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let inc = naskah_testkit::demo::letters(&b)
        .get_letter(authed(
            pb::GetLetterRequest {
                letter_id: got[0].id.clone(),
                ..Default::default()
            },
            &k.kepala,
        ))
        .await
        .expect("get at B")
        .into_inner();
    assert_eq!(inc.direction, pb::LetterDirection::Incoming as i32);
    assert_eq!(inc.subject, "Undangan rapat koordinasi");
    assert!(inc.body.contains("data layanan"));
    let details = inc.incoming.expect("incoming details");
    assert_eq!(details.sender_number, l.number);
    let sender = details.sender.expect("sender");
    assert_eq!(sender.exchange_agency_id, "DEMO-PROV");
    let ex = details.exchange.expect("exchange details");
    assert_eq!(ex.registration_number, x.registration_number);
    assert!(ex.signature_valid);
    assert!(!ex.signer_name.is_empty());
    assert_eq!(inc.attachments.len(), 1);
    assert_eq!(inc.attachments[0].size_bytes, ATTACHMENT.len() as i64);

    // Receipt and outcome are B's, and OpenSSL checks them against B's CA.
    let b_card = kit::card(&b, &k.admin).await;
    let dir = tempfile::tempdir().expect("tmp");
    assert!(openssl_verifies(
        dir.path(),
        &x.receipt,
        &x.receipt_signature,
        &b_card.ca_certificate_pem
    ));
    assert!(openssl_verifies(
        dir.path(),
        &x.outcome,
        &x.outcome_signature,
        &b_card.ca_certificate_pem
    ));
    let a_card = kit::card(&a, d.token("admin")).await;
    assert!(
        !openssl_verifies(
            dir.path(),
            &x.receipt,
            &x.receipt_signature,
            &a_card.ca_certificate_pem
        ),
        "a receipt must not verify against the sender's own CA"
    );
    let receipt = pb::Receipt::decode(x.receipt.as_slice()).expect("receipt");
    assert_eq!(receipt.consignment_id, x.id);
    assert_eq!(receipt.receiver_agency_code, "DINKES");
    let outcome = pb::Outcome::decode(x.outcome.as_slice()).expect("outcome");
    assert_eq!(outcome.kind, pb::OutcomeKind::Registered as i32);
    assert_eq!(outcome.envelope_sha256, receipt.envelope_sha256);

    // The registrar lists it among the registered dispatches.
    let listed = peers(&a.channel)
        .list_dispatches(authed(
            pb::ListDispatchesRequest {
                status: DispatchStatus::Registered as i32,
                ..Default::default()
            },
            d.token("pencatat"),
        ))
        .await
        .expect("list dispatches")
        .into_inner();
    assert!(listed.dispatches.iter().any(|y| y.id == x.id));

    // The sender may pull both again: GetOutcome, and ListOutcomes from the
    // start; another agency's consignment ids are not found.
    let me = kit::identity(&a, "DEMO-PROV").await;
    let peer = kit::peer_record(&a, "DEMO-PROV", "DINKES").await;
    let (one, all) = kit::outcomes(&me, &peer, &x.id).await;
    let one = one.expect("GetOutcome");
    assert_eq!(one.receipt.expect("receipt").content, x.receipt);
    assert_eq!(one.outcome.expect("outcome").content, x.outcome);
    let all = all.expect("ListOutcomes");
    assert_eq!(all.outcomes.len(), 1);
    assert_eq!(all.outcomes[0].content, x.outcome);
    assert!(all.next_cursor > 0);
    let (missing, _) = kit::outcomes(&me, &peer, &uuid::Uuid::new_v4().to_string()).await;
    assert_eq!(
        missing.expect_err("unknown id").code(),
        tonic::Code::NotFound
    );

    // The same envelope again, twice at once: both answers are the first
    // receipt, and B still has one letter.
    let o = kit::outbox(&a, &l.id).await.remove(0);
    let env = kit::stored_envelope(&o);
    let (r1, r2) = tokio::join!(
        kit::send(&a, "DEMO-PROV", &o, env.clone()),
        kit::send(&a, "DEMO-PROV", &o, env.clone())
    );
    for r in [r1.expect("resend"), r2.expect("resend")] {
        assert_eq!(r.receipt.expect("receipt").content, x.receipt);
    }
    assert_eq!(inbox(&b.channel, &k.kepala).await.len(), 1);

    // The same consignment id with another envelope: CONFLICT, nothing changes.
    let mut altered = pb::Envelope::decode(env.content.as_slice()).expect("envelope");
    altered.subject = "Undangan rapat (diubah)".into();
    let r = kit::send(
        &a,
        "DEMO-PROV",
        &o,
        kit::resigned(&a, "DEMO-PROV", &altered).await,
    )
    .await
    .expect("conflicting resend");
    assert!(r.receipt.is_none());
    let out = pb::Outcome::decode(r.outcome.expect("outcome").content.as_slice()).expect("outcome");
    assert_eq!(
        out.refusal.expect("refusal").code,
        RefusalCode::Conflict as i32
    );
    assert_eq!(inbox(&b.channel, &k.kepala).await.len(), 1);

    a.stop().await;
    b.stop().await;
}
dual!(delivered_once_with_evidence);

async fn refusals_come_with_codes_and_nothing_enters_an_inbox(db: Db) {
    let (a, d, b, k) = two(db).await;
    // An unknown addressee: a signed REFUSED outcome, UNKNOWN_ADDRESSEE.
    let nobody = uuid::Uuid::new_v4().to_string();
    let l = sign_to(
        &a.channel,
        &d,
        vec![to_peer("DINKES", &nobody)],
        "Kepada yang tidak ada",
    )
    .await;
    let x = until_dispatch(&a.channel, &d, &l.id, "REFUSED", |x| {
        x.status == DispatchStatus::Refused as i32
    })
    .await;
    assert_eq!(
        x.refusal.as_ref().expect("refusal").code,
        RefusalCode::UnknownAddressee as i32
    );
    let b_card = kit::card(&b, &k.admin).await;
    let dir = tempfile::tempdir().expect("tmp");
    assert!(openssl_verifies(
        dir.path(),
        &x.outcome,
        &x.outcome_signature,
        &b_card.ca_certificate_pem
    ));

    // A letter to the head, whose stored envelope the test then alters.
    let l = sign_to(
        &a.channel,
        &d,
        vec![to_peer("DINKES", &k.head_id)],
        "Data layanan",
    )
    .await;
    until_dispatch(&a.channel, &d, &l.id, "REGISTERED", |x| {
        x.status == DispatchStatus::Registered as i32
    })
    .await;
    let mut o = kit::outbox(&a, &l.id).await.remove(0);
    let env = kit::stored_envelope(&o);
    let mut decoded = pb::Envelope::decode(env.content.as_slice()).expect("envelope");

    // Tampered in transit (the envelope's signature no longer covers it):
    // refused CORRUPTED, nothing stored, no receipt.
    o.id = uuid::Uuid::now_v7().to_string();
    decoded.consignment_id = o.id.clone();
    let mut tampered = env.clone();
    tampered.content = decoded.encode_to_vec();
    let r = kit::send(&a, "DEMO-PROV", &o, tampered)
        .await
        .expect("answer");
    assert!(r.receipt.is_none());
    let out = pb::Outcome::decode(r.outcome.expect("outcome").content.as_slice()).expect("outcome");
    assert_eq!(
        out.refusal.expect("refusal").code,
        RefusalCode::Corrupted as i32
    );

    // An attachment that differs from the signed manifest, under a valid
    // envelope signature: stored, receipted and refused CORRUPTED.
    decoded.attachments[0].content = b"%PDF-1.4 another file".to_vec();
    let r = kit::send(
        &a,
        "DEMO-PROV",
        &o,
        kit::resigned(&a, "DEMO-PROV", &decoded).await,
    )
    .await
    .expect("answer");
    assert!(r.receipt.is_some());
    let out = pb::Outcome::decode(r.outcome.expect("outcome").content.as_slice()).expect("outcome");
    assert_eq!(
        out.refusal.expect("refusal").code,
        RefusalCode::Corrupted as i32
    );

    // A body that differs from the signed manifest.
    let mut body = pb::Envelope::decode(env.content.as_slice()).expect("envelope");
    o.id = uuid::Uuid::now_v7().to_string();
    body.consignment_id = o.id.clone();
    body.body.push_str(" (ditambah)");
    let r = kit::send(
        &a,
        "DEMO-PROV",
        &o,
        kit::resigned(&a, "DEMO-PROV", &body).await,
    )
    .await
    .expect("answer");
    let out = pb::Outcome::decode(r.outcome.expect("outcome").content.as_slice()).expect("outcome");
    assert_eq!(
        out.refusal.expect("refusal").code,
        RefusalCode::Corrupted as i32
    );

    // A letter signature that does not verify (the envelope's own does):
    // SIGNATURE_INVALID; an envelope of another format: FORMAT.
    let mut forged = pb::Envelope::decode(env.content.as_slice()).expect("envelope");
    o.id = uuid::Uuid::now_v7().to_string();
    forged.consignment_id = o.id.clone();
    let n = forged.manifest_signature.len();
    forged.manifest_signature[n - 10] ^= 0x55;
    let r = kit::send(
        &a,
        "DEMO-PROV",
        &o,
        kit::resigned(&a, "DEMO-PROV", &forged).await,
    )
    .await
    .expect("answer");
    let out = pb::Outcome::decode(r.outcome.expect("outcome").content.as_slice()).expect("outcome");
    assert_eq!(
        out.refusal.expect("refusal").code,
        RefusalCode::SignatureInvalid as i32
    );
    let mut other = pb::Envelope::decode(env.content.as_slice()).expect("envelope");
    o.id = uuid::Uuid::now_v7().to_string();
    other.consignment_id = o.id.clone();
    other.format = "naskah.envelope.v9".into();
    let r = kit::send(
        &a,
        "DEMO-PROV",
        &o,
        kit::resigned(&a, "DEMO-PROV", &other).await,
    )
    .await
    .expect("answer");
    assert!(r.receipt.is_none());
    let out = pb::Outcome::decode(r.outcome.expect("outcome").content.as_slice()).expect("outcome");
    assert_eq!(
        out.refusal.expect("refusal").code,
        RefusalCode::Format as i32
    );

    // Only the one good letter is in B's inbox.
    assert_eq!(inbox(&b.channel, &k.kepala).await.len(), 1);

    // A client whose certificate comes from a CA nobody pinned is refused
    // at the handshake; the agency's own identity is let in.
    let peer = kit::peer_record(&a, "DEMO-PROV", "DINKES").await;
    let rogue = kit::rogue_identity("DEMO-PROV");
    assert!(kit::directory(&rogue, &peer).await.is_err());
    let me = kit::identity(&a, "DEMO-PROV").await;
    let dir = kit::directory(&me, &peer).await.expect("directory");
    assert_eq!(dir.agency_code, "DINKES");
    assert!(dir.positions.iter().any(|p| p.position_id == k.head_id));

    a.stop().await;
    b.stop().await;
}
dual!(refusals_come_with_codes_and_nothing_enters_an_inbox);
