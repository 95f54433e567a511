//! The outbox's lease: a consignment one relay holds is not handed to
//! another (several servers never send one at once) until the lease ends,
//! and the relay's due list leaves leased and settled consignments out.

use naskah::domain::lifecycle::{AddresseeKind, DispatchStatus};
use naskah::store::exchange::{self as q, OutRecord};
use naskah_testkit::{Db, TestServer, dual};

fn consignment(id: &str, now: i64) -> OutRecord {
    OutRecord {
        id: id.to_owned(),
        agency_id: "agency".into(),
        letter_id: "letter".into(),
        addressee_kind: AddresseeKind::To,
        addressee_idx: 0,
        peer_code: "DINKES".into(),
        position_id: "position".into(),
        envelope: vec![1, 2, 3],
        envelope_signature: vec![4, 5, 6],
        envelope_sha256: "00".repeat(32),
        status: DispatchStatus::Queued,
        attempts: 0,
        next_attempt_us: now,
        lease_until_us: 0,
        last_error: String::new(),
        receipt: None,
        receipt_signature: None,
        outcome: None,
        outcome_signature: None,
        refusal: 0,
        registration_number: String::new(),
        created_at_us: now,
        updated_at_us: now,
    }
}

async fn a_leased_consignment_goes_to_one_relay_at_a_time(db: Db) {
    let t = TestServer::start(db).await;
    let s = t.store();
    // Due far in the future, so that the test server's own relay (which
    // works at the present time) leaves them alone.
    let now = t.now_us() + 1_000_000_000;
    let mut tx = s.begin_write().await.expect("tx");
    q::insert_out(&tx, &consignment("c1", now))
        .await
        .expect("insert");
    let mut settled = consignment("c2", now);
    settled.status = DispatchStatus::Registered;
    q::insert_out(&tx, &settled).await.expect("insert");
    tx.audit(naskah::audit::NewEvent::success(
        "test/outbox",
        "dispatch",
        "c1",
    ));
    tx.commit().await.expect("commit");

    let due: Vec<String> = q::due(s, now + 1, 10)
        .await
        .expect("due")
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(
        due,
        vec!["c1".to_owned()],
        "a settled consignment is not due"
    );
    // One relay takes it; another (another server) is refused while it holds it.
    let mut tx = s.begin_write().await.expect("tx");
    assert!(
        q::lease(&tx, "c1", now + 1, now + 30_000_000)
            .await
            .expect("lease")
    );
    tx.audit(naskah::audit::NewEvent::success(
        "test/lease",
        "dispatch",
        "c1",
    ));
    tx.commit().await.expect("commit");
    let mut tx = s.begin_write().await.expect("tx");
    assert!(
        !q::lease(&tx, "c1", now + 2, now + 30_000_000)
            .await
            .expect("lease"),
        "a held lease is not taken"
    );
    tx.audit(naskah::audit::NewEvent::success(
        "test/lease",
        "dispatch",
        "c1",
    ));
    tx.commit().await.expect("commit");
    assert!(
        q::due(s, now + 2, 10).await.expect("due").is_empty(),
        "a leased consignment is not due"
    );
    // Once the lease ends, it is due and can be taken again.
    let later = now + 30_000_001;
    assert_eq!(q::due(s, later, 10).await.expect("due").len(), 1);
    let mut tx = s.begin_write().await.expect("tx");
    assert!(
        q::lease(&tx, "c1", later, later + 30_000_000)
            .await
            .expect("lease")
    );
    tx.audit(naskah::audit::NewEvent::success(
        "test/lease",
        "dispatch",
        "c1",
    ));
    tx.commit().await.expect("commit");
    t.stop().await;
}
dual!(a_leased_consignment_goes_to_one_relay_at_a_time);

async fn two_servers_making_an_agencys_exchange_identity_at_once_agree_on_one(db: Db) {
    let t = TestServer::start(db).await;
    let made = naskah_testkit::operator::create_agency(&t, "DINKES", "Dinas Kesehatan")
        .await
        .expect("agency");
    let exchange = || {
        naskah::domain::exchange::Exchange::new(
            t.app().master_key,
            naskah::domain::Blobs::new(t.dir.path()),
            naskah::domain::exchange::ExchangeSettings::default(),
            naskah::notify::channel(),
        )
    };
    let (one, two) = (exchange(), exchange());
    let (a, b) = tokio::join!(
        naskah::domain::exchange::identity::load(t.store(), &one, &made.agency_id),
        naskah::domain::exchange::identity::load(t.store(), &two, &made.agency_id)
    );
    let (a, b) = (a.expect("one"), b.expect("two"));
    assert_eq!(a.cert_der, b.cert_der, "one identity for the agency");
    t.stop().await;
}
dual!(two_servers_making_an_agencys_exchange_identity_at_once_agree_on_one);
