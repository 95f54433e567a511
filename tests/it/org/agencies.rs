//! Agencies of one installation never see each other's organisation.

use naskah::proto::{self as pb, AssignmentKind, Role};
use naskah_testkit::clock::Clock;
use naskah_testkit::demo::DEMO_PASSWORD;
use tonic::Code;

use naskah_testkit::demo::who_am_i;

use super::{mask, org};
use naskah_testkit::dual;
use naskah_testkit::{Db, TestServer, authed, reason};

async fn agencies_never_see_each_other(db: Db) {
    let t = TestServer::start_demo(db).await;
    let other = t.seed_agency("LAIN").await;
    t.seed_user_in(
        &other,
        "admin.lain",
        "admin-lain-password",
        &[Role::AgencyAdmin],
    )
    .await;
    t.seed_user_in(
        &other,
        "auditor.lain",
        "auditor-lain-password",
        &[Role::Auditor],
    )
    .await;
    let theirs = t.login("admin.lain", "admin-lain-password").await;
    let demo_admin = t.login("admin", DEMO_PASSWORD).await;
    let mut o = org(&t);
    let demo_units = o
        .list_units(authed(pb::ListUnitsRequest::default(), &demo_admin))
        .await
        .expect("units")
        .into_inner()
        .units;
    let listed = o
        .list_units(authed(pb::ListUnitsRequest::default(), &theirs))
        .await
        .expect("units")
        .into_inner();
    assert!(
        listed.units.is_empty(),
        "another agency's units are invisible"
    );
    let e = o
        .get_unit(authed(
            pb::GetUnitRequest {
                unit_id: demo_units[0].id.clone(),
            },
            &theirs,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::NotFound, "UNIT_NOT_FOUND")
    );
    let e = o
        .update_unit(authed(
            pb::UpdateUnitRequest {
                unit: Some(pb::Unit {
                    id: demo_units[0].id.clone(),
                    name: "Taken".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["name"]),
                etag: demo_units[0].etag.clone(),
                request_id: String::new(),
            },
            &theirs,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let users = o
        .list_users(authed(pb::ListUsersRequest::default(), &theirs))
        .await
        .expect("users")
        .into_inner()
        .users;
    let names: Vec<&str> = users.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, vec!["admin.lain", "auditor.lain"]);
    let kasi = who_am_i(&t, &t.login("kasi.egov", DEMO_PASSWORD).await).await;
    let e = o
        .create_position(authed(
            pb::CreatePositionRequest {
                unit_id: demo_units[0].id.clone(),
                name: "Penyusup".into(),
                ..Default::default()
            },
            &theirs,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let e = o
        .assign_position(authed(
            pb::AssignPositionRequest {
                user_id: kasi.user_id.clone(),
                position_id: kasi.positions[0].position_id.clone(),
                kind: AssignmentKind::Plt as i32,
                valid_until: Some(naskah_testkit::clock::to_timestamp(
                    naskah_testkit::clock::SystemClock.now_us() + 3_600_000_000,
                )),
                ..Default::default()
            },
            &theirs,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    // Their auditor sees only their agency's events.
    let aud = t.login("auditor.lain", "auditor-lain-password").await;
    let events = naskah::proto::audit_service_client::AuditServiceClient::new(t.channel.clone())
        .list_audit_events(authed(
            pb::ListAuditEventsRequest {
                page_size: 1000,
                ..Default::default()
            },
            &aud,
        ))
        .await
        .expect("events")
        .into_inner()
        .events;
    assert!(!events.is_empty());
    assert!(
        events.iter().all(|e| e.agency_id == other),
        "only agency {other}"
    );
    t.stop().await;
}
dual!(agencies_never_see_each_other);
