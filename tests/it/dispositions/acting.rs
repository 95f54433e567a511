//! Who may dispose: acting officials only inside their window, and the
//! hierarchy as it is now.

use naskah::proto::{self as pb, SecurityLevel};
use tonic::Code;

use super::{disp, incoming_to, req};
use naskah_testkit::demo::Demo;
use naskah_testkit::dual;
use naskah_testkit::{Db, TestServer, authed, reason};

async fn acting_officials_dispose_only_inside_their_window(db: Db) {
    let clock = naskah_testkit::clock::ManualClock::new(naskah_testkit::clock::Clock::now_us(
        &naskah_testkit::clock::SystemClock,
    ));
    let t = TestServer::start_demo_with_clock(db, clock.clone()).await;
    let d = Demo::login(&t, &["pencatat", "kabid.aptika", "kasi.egov", "admin"]).await;
    let letter = incoming_to(&t, &d, "kabid.aptika", SecurityLevel::Biasa).await;
    let hour = 3_600_000_000i64;
    let now = naskah_testkit::clock::Clock::now_us(&*clock);
    let kasi_id = naskah::proto::auth_service_client::AuthServiceClient::new(t.channel.clone())
        .who_am_i(authed(pb::WhoAmIRequest {}, d.token("kasi.egov")))
        .await
        .expect("whoami")
        .into_inner()
        .user_id;
    naskah::proto::org_service_client::OrgServiceClient::new(t.channel.clone())
        .assign_position(authed(
            pb::AssignPositionRequest {
                user_id: kasi_id,
                position_id: d.pos("kabid.aptika"),
                kind: pb::AssignmentKind::Plh as i32,
                valid_from: Some(naskah_testkit::clock::to_timestamp(now + hour)),
                valid_until: Some(naskah_testkit::clock::to_timestamp(now + 2 * hour)),
                basis: "PLH".into(),
                request_id: String::new(),
            },
            d.token("admin"),
        ))
        .await
        .expect("PLH");
    let mut c = disp(&t);
    let r = req(
        &d,
        &letter,
        "",
        "kabid.aptika",
        &["kasi.egov"],
        &["TINDAK_LANJUTI"],
    );
    let e = c
        .create_disposition(authed(r.clone(), d.token("kasi.egov")))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "NOT_POSITION_HOLDER", "before the window");
    clock.advance(hour + 60_000_000);
    let kasi = t
        .login("kasi.egov", naskah_testkit::demo::DEMO_PASSWORD)
        .await;
    let made = c
        .create_disposition(authed(
            pb::CreateDispositionRequest {
                recipient_position_ids: vec![d.pos("kasi.egov")],
                ..r.clone()
            },
            &kasi,
        ))
        .await
        .expect("inside the window")
        .into_inner();
    let by = made.sent_by.expect("sent by");
    assert_eq!(
        (by.position_id.as_str(), by.assignment_kind),
        (
            d.pos("kabid.aptika").as_str(),
            pb::AssignmentKind::Plh as i32
        )
    );
    clock.advance(2 * hour);
    let kasi = t
        .login("kasi.egov", naskah_testkit::demo::DEMO_PASSWORD)
        .await;
    let e = c.create_disposition(authed(r, &kasi)).await.unwrap_err();
    assert_eq!(reason(&e), "NOT_POSITION_HOLDER", "after the window");
    t.stop().await;
}
dual!(acting_officials_dispose_only_inside_their_window);

/// The hierarchy a disposition is checked against is the current one: a
/// position created below the disposing one, then moved away, is a recipient on
/// the very next request and then no longer (the server keeps the hierarchy in
/// memory between requests).
async fn hierarchy_changes_reach_the_next_disposition(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(&t, &["pencatat", "kadis.kominfo", "kabid.ikp", "admin"]).await;
    let letter = incoming_to(&t, &d, "kadis.kominfo", SecurityLevel::Biasa).await;
    let mut c = disp(&t);
    let mut o = naskah::proto::org_service_client::OrgServiceClient::new(t.channel.clone());
    // A first disposition: the hierarchy is read (and kept).
    c.create_disposition(authed(
        req(
            &d,
            &letter,
            "",
            "kadis.kominfo",
            &["kabid.ikp"],
            &["TINDAK_LANJUTI"],
        ),
        d.token("kadis.kominfo"),
    ))
    .await
    .expect("to kabid");
    let all = o
        .list_positions(authed(
            pb::ListPositionsRequest {
                page_size: 500,
                ..Default::default()
            },
            d.token("admin"),
        ))
        .await
        .expect("positions")
        .into_inner()
        .positions;
    let kabid = all
        .iter()
        .find(|p| p.id == d.pos("kabid.ikp"))
        .expect("kabid position");
    let top = all
        .iter()
        .find(|p| p.superior_position_id.is_empty() && p.id != d.pos("kadis.kominfo"))
        .expect("a top position above kadis");
    let analis = o
        .create_position(authed(
            pb::CreatePositionRequest {
                unit_id: kabid.unit_id.clone(),
                name: "Analis Kebijakan".into(),
                superior_position_id: kabid.id.clone(),
                is_unit_head: false,
                request_id: String::new(),
            },
            d.token("admin"),
        ))
        .await
        .expect("new position")
        .into_inner();
    let to_analis = pb::CreateDispositionRequest {
        recipient_position_ids: vec![analis.id.clone()],
        ..req(&d, &letter, "", "kadis.kominfo", &[], &["TINDAK_LANJUTI"])
    };
    let made = c
        .create_disposition(authed(to_analis.clone(), d.token("kadis.kominfo")))
        .await
        .expect("a position created a moment ago is below kadis")
        .into_inner();
    assert_eq!(made.recipients.len(), 1);
    // Moved directly below the top position, which kadis is not above.
    o.update_position(authed(
        pb::UpdatePositionRequest {
            position: Some(pb::Position {
                id: analis.id.clone(),
                superior_position_id: top.id.clone(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["superior_position_id".into()],
            }),
            etag: analis.etag.clone(),
            request_id: String::new(),
        },
        d.token("admin"),
    ))
    .await
    .expect("move");
    let e = c
        .create_disposition(authed(to_analis, d.token("kadis.kominfo")))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::FailedPrecondition, "NOT_A_SUBORDINATE")
    );
    t.stop().await;
}
dual!(hierarchy_changes_reach_the_next_disposition);
