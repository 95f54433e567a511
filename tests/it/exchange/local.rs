//! Two agencies of one installation exchange letters through the same path
//! (envelope, receipt, outcome, both audit chains), without the network.

use naskah::proto::{self as pb, DispatchStatus};

use naskah_testkit::demo::Demo;
use naskah_testkit::exchange as kit;
use naskah_testkit::{Db, TestServer, dual, openssl_verifies};

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
