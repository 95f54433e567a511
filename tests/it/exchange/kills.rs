//! A sender killed with SIGKILL after signing, before it could send, sends
//! after its restart, once; a receiver that committed a consignment but
//! whose answer never reached the sender answers the resend with the
//! original receipt, and holds one letter.

use naskah::proto::{self as pb, DispatchStatus};
use prost::Message;

use naskah_testkit::demo::Demo;
use naskah_testkit::exchange as kit;
use naskah_testkit::pgcluster::free_port;
use naskah_testkit::{Db, authed, dual, fresh_db_url, serve_binary};

use super::{inbox, peers, sign_to, to_peer, until_dispatch};

async fn a_sender_killed_before_sending_sends_after_restart_once(db: Db) {
    let mut b = kit::exchanging(db, false).await;
    let k = kit::dinkes(&b).await;
    let dir = tempfile::tempdir().expect("tmp");
    let url = fresh_db_url(db, dir.path()).await;
    let listen = format!("127.0.0.1:{}", free_port().expect("port"));
    let env = [
        ("NASKAH_EXCHANGE_LISTEN", listen.as_str()),
        ("NASKAH_EXCHANGE_RETRY_BASE_SECS", "1"),
        ("NASKAH_EXCHANGE_RETRY_CEILING_SECS", "2"),
    ];
    let mut a = serve_binary(crate::NASKAH, &url, dir.path(), &["--demo"], &env).await;
    let d = Demo::login_on(&a.channel, &["kasi.egov", "kadis.kominfo", "admin"]).await;
    let a_card = peers(&a.channel)
        .get_peer_card(authed(pb::GetPeerCardRequest {}, d.token("admin")))
        .await
        .expect("card")
        .into_inner();
    assert_eq!(a_card.endpoint, format!("https://{listen}"));
    kit::add_peer(&b, &k.admin, a_card).await;
    peers(&a.channel)
        .add_peer(authed(
            pb::AddPeerRequest {
                card: Some(kit::card(&b, &k.admin).await),
                request_id: String::new(),
            },
            d.token("admin"),
        ))
        .await
        .expect("add peer");

    // B is down: A signs, cannot send, and is killed.
    b.pause().await;
    let l = sign_to(
        &a.channel,
        &d,
        vec![to_peer("DINKES", &k.head_id)],
        "Sebelum padam",
    )
    .await;
    let x = until_dispatch(&a.channel, &d, &l.id, "tried", |x| x.attempts >= 1).await;
    assert_eq!(x.status, DispatchStatus::Queued as i32, "{x:?}");
    a.child.kill().expect("SIGKILL");
    a.child.wait().expect("wait");

    // A restarts, B comes back: sent once.
    let a = serve_binary(crate::NASKAH, &url, dir.path(), &[], &env).await;
    b.resume(kit::fast).await;
    let d = Demo::login_on(&a.channel, &["kasi.egov"]).await;
    let x = until_dispatch(&a.channel, &d, &l.id, "REGISTERED", |x| {
        x.status == DispatchStatus::Registered as i32
    })
    .await;
    assert!(!x.receipt.is_empty());
    assert_eq!(inbox(&b.channel, &k.kepala).await.len(), 1);
    a.terminate();
    b.stop().await;
}
dual!(a_sender_killed_before_sending_sends_after_restart_once);

async fn a_lost_answer_is_answered_again_with_the_original_receipt(db: Db) {
    let a = kit::exchanging(db, true).await;
    let b = kit::exchanging(db, false).await;
    let d = Demo::login(&a, &["kasi.egov", "kadis.kominfo", "admin"]).await;
    let k = kit::dinkes(&b).await;
    kit::pair(&a, d.token("admin"), &b, &k.admin).await;
    let real = kit::card(&b, &k.admin).await;
    // A's relay is pointed at a port where nothing listens...
    let dead = pb::PeerCard {
        endpoint: format!("https://127.0.0.1:{}", free_port().expect("port")),
        ..real.clone()
    };
    kit::add_peer(&a, d.token("admin"), dead).await;
    let l = sign_to(
        &a.channel,
        &d,
        vec![to_peer("DINKES", &k.head_id)],
        "Jawaban hilang",
    )
    .await;
    until_dispatch(&a.channel, &d, &l.id, "tried", |x| x.attempts >= 1).await;
    // ...while the consignment reaches B by another way, and B's answer is
    // lost: B committed it, A never heard.
    let o = kit::outbox(&a, &l.id).await.remove(0);
    let mut peer = kit::peer_record(&a, "DEMO-PROV", "DINKES").await;
    peer.endpoint = real.endpoint.clone();
    let lost = kit::send_to(&a, "DEMO-PROV", &peer, &o, kit::stored_envelope(&o))
        .await
        .expect("delivered")
        .receipt
        .expect("receipt");
    assert_eq!(inbox(&b.channel, &k.kepala).await.len(), 1);
    // A's relay reaches B again and is answered with that same receipt.
    kit::add_peer(&a, d.token("admin"), real).await;
    let x = until_dispatch(&a.channel, &d, &l.id, "REGISTERED", |x| {
        x.status == DispatchStatus::Registered as i32
    })
    .await;
    assert_eq!(x.receipt, lost.content);
    let r = pb::Receipt::decode(x.receipt.as_slice()).expect("receipt");
    assert_eq!(r.consignment_id, o.id);
    assert_eq!(inbox(&b.channel, &k.kepala).await.len(), 1);
    a.stop().await;
    b.stop().await;
}
dual!(a_lost_answer_is_answered_again_with_the_original_receipt);
