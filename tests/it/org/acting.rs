//! Acting officials (PLT/PLH) hold a position's powers only inside their
//! window, and position changes reach the next request.

use std::sync::Arc;

use naskah::proto::{self as pb, AssignmentKind};
use naskah_testkit::clock::{Clock, ManualClock};
use naskah_testkit::demo::DEMO_PASSWORD;
use tonic::Code;

use naskah_testkit::demo::who_am_i;

use super::org;
use naskah_testkit::dual;
use naskah_testkit::{Db, TestServer, authed, reason};

/// The demo agency on a manual clock, with admin's and staf.egov's tokens, the
/// kasi.egov position and staf.egov's user id: the cast of the acting-official
/// scenarios.
struct Acting {
    clock: Arc<ManualClock>,
    t: TestServer,
    admin: String,
    staf: String,
    kasi_pos: String,
    staf_id: String,
}

impl Acting {
    async fn start(db: Db) -> Self {
        let clock = ManualClock::new(naskah_testkit::clock::SystemClock.now_us());
        let t = TestServer::start_demo_with_clock(db, clock.clone()).await;
        let admin = t.login("admin", DEMO_PASSWORD).await;
        let staf = t.login("staf.egov", DEMO_PASSWORD).await;
        let kasi_pos = who_am_i(&t, &t.login("kasi.egov", DEMO_PASSWORD).await)
            .await
            .positions[0]
            .position_id
            .clone();
        let staf_id = who_am_i(&t, &staf).await.user_id;
        Self {
            clock,
            t,
            admin,
            staf,
            kasi_pos,
            staf_id,
        }
    }
}

async fn acting_officials_hold_powers_only_inside_their_window(db: Db) {
    let Acting {
        clock,
        t,
        admin,
        staf,
        kasi_pos,
        staf_id,
    } = Acting::start(db).await;
    let hour: i64 = 3_600_000_000;
    let now = clock.now_us();
    let mut o = org(&t);
    let e = o
        .assign_position(authed(
            pb::AssignPositionRequest {
                user_id: staf_id.clone(),
                position_id: kasi_pos.clone(),
                kind: AssignmentKind::Plh as i32,
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::FailedPrecondition, "INVALID_WINDOW")
    );
    let e = o
        .assign_position(authed(
            pb::AssignPositionRequest {
                user_id: staf_id.clone(),
                position_id: kasi_pos.clone(),
                kind: AssignmentKind::Definitive as i32,
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::FailedPrecondition, "POSITION_OCCUPIED")
    );
    let plh = o
        .assign_position(authed(
            pb::AssignPositionRequest {
                user_id: staf_id.clone(),
                position_id: kasi_pos.clone(),
                kind: AssignmentKind::Plh as i32,
                valid_from: Some(naskah_testkit::clock::to_timestamp(now + hour)),
                valid_until: Some(naskah_testkit::clock::to_timestamp(now + 3 * hour)),
                basis: "Surat Perintah PLH 800.1.2/12/EGOV/2026".into(),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .expect("assign PLH")
        .into_inner();
    let held = |w: pb::WhoAmIResponse| {
        w.positions
            .into_iter()
            .map(|p| (p.position_id, p.kind))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        held(who_am_i(&t, &staf).await).len(),
        1,
        "before the window: only the own position"
    );
    clock.advance(2 * hour);
    let staf = t.login("staf.egov", DEMO_PASSWORD).await;
    let admin = t.login("admin", DEMO_PASSWORD).await;
    let inside = held(who_am_i(&t, &staf).await);
    assert!(
        inside.contains(&(kasi_pos.clone(), AssignmentKind::Plh as i32)),
        "{inside:?}"
    );
    let listed = o
        .list_assignments(authed(
            pb::ListAssignmentsRequest {
                position_id: kasi_pos.clone(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(
        listed.assignments.len(),
        2,
        "the definitive holder and the PLH"
    );
    clock.advance(2 * hour);
    let staf = t.login("staf.egov", DEMO_PASSWORD).await;
    let admin = t.login("admin", DEMO_PASSWORD).await;
    assert_eq!(
        held(who_am_i(&t, &staf).await).len(),
        1,
        "after the window the powers are gone"
    );
    let e = o
        .end_assignment(authed(
            pb::EndAssignmentRequest {
                assignment_id: plh.id.clone(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "ASSIGNMENT_ENDED");

    // Access tokens expire by the server's clock.
    clock.advance(hour);
    let e = o
        .list_units(authed(pb::ListUnitsRequest::default(), &staf))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::Unauthenticated, "TOKEN_EXPIRED")
    );
    t.stop().await;
}
dual!(acting_officials_hold_powers_only_inside_their_window);

/// Callers' positions are cached between requests: a change is seen by the very
/// next request, and the end of an assignment takes effect by the clock alone.
async fn position_changes_reach_the_next_request(db: Db) {
    let Acting {
        clock,
        t,
        admin,
        staf,
        kasi_pos,
        staf_id,
    } = Acting::start(db).await;
    let mut letters = naskah_testkit::demo::letters(&t);
    let mut inbox_of = async |position: &str| {
        letters
            .list_letters(authed(
                pb::ListLettersRequest {
                    folder: pb::Folder::Inbox as i32,
                    position_id: position.to_owned(),
                    ..Default::default()
                },
                &staf,
            ))
            .await
            .map(|r| r.into_inner().letters.len())
            .map_err(|e| reason(&e))
    };
    assert!(inbox_of("").await.is_ok(), "the own inbox");
    assert_eq!(
        inbox_of(&kasi_pos).await,
        Err("NOT_POSITION_HOLDER".to_owned())
    );
    let second: i64 = 1_000_000;
    let now = clock.now_us();
    let plh = org(&t)
        .assign_position(authed(
            pb::AssignPositionRequest {
                user_id: staf_id.clone(),
                position_id: kasi_pos.clone(),
                kind: AssignmentKind::Plh as i32,
                valid_from: Some(naskah_testkit::clock::to_timestamp(now)),
                valid_until: Some(naskah_testkit::clock::to_timestamp(now + 600 * second)),
                basis: "Surat Perintah PLH 800.1.2/13/EGOV/2026".into(),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .expect("assign PLH")
        .into_inner();
    assert!(
        inbox_of(&kasi_pos).await.is_ok(),
        "the new powers count at once"
    );
    clock.advance(599 * second);
    assert!(inbox_of(&kasi_pos).await.is_ok(), "still inside the window");
    clock.advance(second);
    assert_eq!(
        inbox_of(&kasi_pos).await,
        Err("NOT_POSITION_HOLDER".to_owned()),
        "the window closed by the clock, without any write"
    );
    assert!(!plh.id.is_empty());
    // Disabling a user refuses the very next request of their live token.
    let staf2 = t.login("staf.egov", DEMO_PASSWORD).await;
    assert!(inbox_of("").await.is_ok());
    let current = org(&t)
        .list_users(authed(
            pb::ListUsersRequest {
                query: "staf.egov".into(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("users")
        .into_inner()
        .users
        .into_iter()
        .find(|u| u.id == staf_id)
        .expect("staf listed");
    org(&t)
        .disable_user(authed(
            pb::DisableUserRequest {
                user_id: staf_id.clone(),
                etag: current.etag.clone(),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .expect("disable");
    let e = naskah_testkit::demo::letters(&t)
        .list_letters(authed(pb::ListLettersRequest::default(), &staf2))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "ACCOUNT_DISABLED");
    t.stop().await;
}
dual!(position_changes_reach_the_next_request);
