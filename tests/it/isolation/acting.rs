//! Acting for a position (PLH) on reads: the inbox stream follows the acting
//! window, and GetLetter reads as the position it names.

use naskah::proto::auth_service_client::AuthServiceClient;
use naskah::proto::org_service_client::OrgServiceClient;
use naskah::proto::{self as pb, SecurityLevel};
use tonic::Code;

use naskah_testkit::demo::{Demo, letters, registered};
use naskah_testkit::dual;
use naskah_testkit::{Db, TestServer, authed, reason};

/// The admin makes kasi.egov PLH of kabid.ikp's position from `from` to
/// `until` (µs).
async fn kasi_stands_in_for_kabid_ikp(t: &TestServer, d: &Demo, from: i64, until: i64) {
    let kasi = AuthServiceClient::new(t.channel.clone())
        .who_am_i(authed(pb::WhoAmIRequest {}, d.token("kasi.egov")))
        .await
        .expect("whoami")
        .into_inner()
        .user_id;
    OrgServiceClient::new(t.channel.clone())
        .assign_position(authed(
            pb::AssignPositionRequest {
                user_id: kasi,
                position_id: d.pos("kabid.ikp"),
                kind: pb::AssignmentKind::Plh as i32,
                valid_from: Some(naskah_testkit::clock::to_timestamp(from)),
                valid_until: Some(naskah_testkit::clock::to_timestamp(until)),
                basis: "Surat perintah PLH".into(),
                request_id: String::new(),
            },
            d.token("admin"),
        ))
        .await
        .expect("PLH");
}

/// An inbox stream shows a position's notices only while the caller may act
/// for it: once a PLH window has ended, the position's letters no longer
/// reach the stream opened during the window, while the caller's own still do.
async fn an_inbox_stream_follows_the_acting_window(db: Db) {
    let clock = naskah_testkit::clock::ManualClock::new(naskah_testkit::clock::Clock::now_us(
        &naskah_testkit::clock::SystemClock,
    ));
    let t = TestServer::start_demo_with_clock(db, clock.clone()).await;
    let d = Demo::login(&t, &["pencatat", "kabid.ikp", "kasi.egov", "admin"]).await;
    let minute = 60_000_000i64;
    let now = naskah_testkit::clock::Clock::now_us(&*clock);
    kasi_stands_in_for_kabid_ikp(&t, &d, now - minute, now + 2 * minute).await;
    let mut stream = letters(&t)
        .watch_inbox(authed(
            pb::WatchInboxRequest::default(),
            d.token("kasi.egov"),
        ))
        .await
        .expect("watch")
        .into_inner();
    let register = async |to: &str| {
        registered(&t, &d, &[to], "Undangan", "000.1.1", SecurityLevel::Biasa)
            .await
            .id
    };
    let mut next_letter = async || loop {
        let m = tokio::time::timeout(std::time::Duration::from_secs(10), stream.message())
            .await
            .expect("a notice within 10 s")
            .expect("stream")
            .expect("open");
        if !m.letter_id.is_empty() {
            return m.letter_id;
        }
    };
    let inside = register("kabid.ikp").await;
    assert_eq!(next_letter().await, inside, "inside the window");
    // The window ends (the access tokens, valid for longer, do not).
    clock.advance(3 * minute);
    let after = register("kabid.ikp").await;
    let own = register("kasi.egov").await;
    let seen = next_letter().await;
    assert_ne!(
        seen, after,
        "the ended window's position no longer reaches the stream"
    );
    assert_eq!(seen, own);
    t.stop().await;
}
dual!(an_inbox_stream_follows_the_acting_window);

/// GetLetter reads as the position it names: one the caller holds or serves
/// (else NOT_POSITION_HOLDER), through which alone the letter must be
/// reached. kasi.egov, standing in (PLH) for kabid.ikp, sees a letter to
/// kabid.ikp as kabid.ikp, not as the Kasi.
async fn get_letter_reads_as_the_position_it_names(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(
        &t,
        &[
            "pencatat",
            "kabid.ikp",
            "kasi.egov",
            "kadis.kominfo",
            "admin",
        ],
    )
    .await;
    let now = naskah_testkit::clock::Clock::now_us(&naskah_testkit::clock::SystemClock);
    kasi_stands_in_for_kabid_ikp(&t, &d, now - 60_000_000, now + 3_600_000_000).await;
    let id = registered(
        &t,
        &d,
        &["kabid.ikp"],
        "Undangan",
        "000.1.1",
        SecurityLevel::Biasa,
    )
    .await
    .id;
    let get = async |acting: String| {
        letters(&t)
            .get_letter(authed(
                pb::GetLetterRequest {
                    letter_id: id.clone(),
                    acting_position_id: acting,
                },
                d.token("kasi.egov"),
            ))
            .await
    };
    assert!(get(String::new()).await.is_ok(), "through any position");
    assert!(get(d.pos("kabid.ikp")).await.is_ok(), "as the PLH");
    let e = get(d.pos("kasi.egov")).await.unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::NotFound, "LETTER_NOT_FOUND"),
        "the Kasi's own position takes no part"
    );
    let e = get(d.pos("kadis.kominfo")).await.unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::PermissionDenied, "NOT_POSITION_HOLDER"),
        "a position the caller does not hold"
    );
    t.stop().await;
}
dual!(get_letter_reads_as_the_position_it_names);
