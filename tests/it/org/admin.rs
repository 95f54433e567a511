//! Administrators manage units, positions, users and assignments.

use naskah::proto::auth_service_client::AuthServiceClient;
use naskah::proto::{self as pb, LoginRequest, Role};
use naskah_testkit::demo::DEMO_PASSWORD;
use tonic::Code;

use naskah_testkit::demo::who_am_i;

use super::{mask, org};
use naskah_testkit::dual;
use naskah_testkit::{Db, TestServer, authed, reason};

async fn admins_manage_units_positions_and_users(db: Db) {
    let t = TestServer::start_demo(db).await;
    let admin = t.login("admin", DEMO_PASSWORD).await;
    let mut o = org(&t);
    let units = o
        .list_units(authed(
            pb::ListUnitsRequest {
                page_size: 3,
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(units.units.len(), 3);
    let more = o
        .list_units(authed(
            pb::ListUnitsRequest {
                page_size: 100,
                page_token: units.next_page_token.clone(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(more.units.len(), 5, "8 demo units in two pages");
    assert!(more.next_page_token.is_empty());
    let diskominfo = units
        .units
        .iter()
        .chain(more.units.iter())
        .find(|u| u.code == "DISKOMINFO")
        .cloned()
        .expect("DISKOMINFO");
    let aptika = units
        .units
        .iter()
        .chain(more.units.iter())
        .find(|u| u.code == "APTIKA")
        .cloned()
        .expect("APTIKA");

    // Invalid input names the field.
    let e = o
        .create_unit(authed(
            pb::CreateUnitRequest {
                code: "bad code".into(),
                name: String::new(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    use tonic_types::StatusExt;
    let fields: Vec<String> = e
        .get_details_bad_request()
        .expect("BadRequest")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(fields, vec!["code".to_string(), "name".to_string()]);

    // Create with a request id; the retry returns the same unit and creates nothing.
    let req = pb::CreateUnitRequest {
        parent_unit_id: diskominfo.id.clone(),
        code: "PERSANDIAN".into(),
        name: "Bidang Persandian".into(),
        request_id: "req-unit-1".into(),
    };
    let created = o
        .create_unit(authed(req.clone(), &admin))
        .await
        .expect("create")
        .into_inner();
    let again = o
        .create_unit(authed(req.clone(), &admin))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(created, again);
    let e = o
        .create_unit(authed(
            pb::CreateUnitRequest {
                name: "Lain".into(),
                ..req.clone()
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "REQUEST_ID_REUSED");
    let e = o
        .create_unit(authed(
            pb::CreateUnitRequest {
                request_id: String::new(),
                ..req.clone()
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::AlreadyExists, "UNIT_CODE_TAKEN")
    );

    // Update with etags; a stale etag is refused; a cycle is refused.
    let renamed = o
        .update_unit(authed(
            pb::UpdateUnitRequest {
                unit: Some(pb::Unit {
                    id: created.id.clone(),
                    name: "Bidang Persandian dan Statistik".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["name"]),
                etag: created.etag.clone(),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .expect("rename")
        .into_inner();
    assert_eq!(renamed.id, created.id);
    assert_ne!(renamed.etag, created.etag);
    let e = o
        .update_unit(authed(
            pb::UpdateUnitRequest {
                unit: Some(pb::Unit {
                    id: created.id.clone(),
                    name: "Again".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["name"]),
                etag: created.etag.clone(),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::Aborted, "ETAG_MISMATCH")
    );
    let e = o
        .update_unit(authed(
            pb::UpdateUnitRequest {
                unit: Some(pb::Unit {
                    id: diskominfo.id.clone(),
                    parent_unit_id: aptika.id.clone(),
                    ..Default::default()
                }),
                update_mask: mask(&["parent_unit_id"]),
                etag: diskominfo.etag.clone(),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::FailedPrecondition, "UNIT_CYCLE")
    );
    let e = o
        .update_unit(authed(
            pb::UpdateUnitRequest {
                unit: Some(pb::Unit {
                    id: created.id.clone(),
                    ..Default::default()
                }),
                update_mask: mask(&["etag"]),
                etag: renamed.etag.clone(),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);

    // Positions: create under Kepala Dinas, move it (id kept), refuse a cycle.
    let kadis_pos = who_am_i(&t, &t.login("kadis.kominfo", DEMO_PASSWORD).await)
        .await
        .positions[0]
        .position_id
        .clone();
    let kabid = o
        .create_position(authed(
            pb::CreatePositionRequest {
                unit_id: created.id.clone(),
                name: "Kepala Bidang Persandian".into(),
                superior_position_id: kadis_pos.clone(),
                is_unit_head: true,
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .expect("position")
        .into_inner();
    let moved = o
        .update_position(authed(
            pb::UpdatePositionRequest {
                position: Some(pb::Position {
                    id: kabid.id.clone(),
                    unit_id: aptika.id.clone(),
                    ..Default::default()
                }),
                update_mask: mask(&["unit_id"]),
                etag: kabid.etag.clone(),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .expect("move")
        .into_inner();
    assert_eq!(
        (moved.id.as_str(), moved.unit_id.as_str()),
        (kabid.id.as_str(), aptika.id.as_str())
    );
    let kadis_record = o
        .list_positions(authed(
            pb::ListPositionsRequest {
                unit_id: diskominfo.id.clone(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("positions")
        .into_inner()
        .positions
        .into_iter()
        .find(|p| p.id == kadis_pos)
        .expect("kadis position");
    let e = o
        .update_position(authed(
            pb::UpdatePositionRequest {
                position: Some(pb::Position {
                    id: kadis_pos.clone(),
                    superior_position_id: kabid.id.clone(),
                    ..Default::default()
                }),
                update_mask: mask(&["superior_position_id"]),
                etag: kadis_record.etag.clone(),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::FailedPrecondition, "POSITION_CYCLE")
    );

    // Users: a new user must change the one-time password; disabling locks them out at once.
    let made = o
        .create_user(authed(
            pb::CreateUserRequest {
                username: "kabid.sandi".into(),
                nip: "198101012005011012".into(),
                full_name: "Rudi Hartono".into(),
                email: "rudi@example.go.id".into(),
                roles: vec![Role::User as i32],
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .expect("create user")
        .into_inner();
    let user = made.user.expect("user");
    assert!(user.must_change_password);
    let mut auth = AuthServiceClient::new(t.channel.clone());
    let s = auth
        .login(LoginRequest {
            username: "kabid.sandi".into(),
            password: made.one_time_password.clone(),
        })
        .await
        .expect("login")
        .into_inner();
    assert!(s.must_change_password);
    let e = o
        .list_units(authed(pb::ListUnitsRequest::default(), &s.access_token))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "PASSWORD_CHANGE_REQUIRED");
    auth.change_password(authed(
        pb::ChangePasswordRequest {
            current_password: made.one_time_password.clone(),
            new_password: "sandi negara 2026".into(),
        },
        &s.access_token,
    ))
    .await
    .expect("change");
    let token = t.login("kabid.sandi", "sandi negara 2026").await;
    o.list_units(authed(pb::ListUnitsRequest::default(), &token))
        .await
        .expect("now allowed");
    let e = o
        .create_user(authed(
            pb::CreateUserRequest {
                username: "root".into(),
                full_name: "Root".into(),
                roles: vec![Role::SystemAdmin as i32],
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "CANNOT_GRANT_ROLE");
    let e = o
        .create_user(authed(
            pb::CreateUserRequest {
                username: "kabid.sandi".into(),
                full_name: "Dup".into(),
                roles: vec![Role::User as i32],
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::AlreadyExists, "USERNAME_TAKEN")
    );
    let listed = o
        .list_users(authed(
            pb::ListUsersRequest {
                query: "sandi".into(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("users")
        .into_inner();
    assert_eq!(listed.users.len(), 1);
    let current = &listed.users[0];
    o.disable_user(authed(
        pb::DisableUserRequest {
            user_id: current.id.clone(),
            etag: current.etag.clone(),
            request_id: String::new(),
        },
        &admin,
    ))
    .await
    .expect("disable");
    let e = o
        .list_units(authed(pb::ListUnitsRequest::default(), &token))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::PermissionDenied, "ACCOUNT_DISABLED")
    );
    let e = auth
        .login(LoginRequest {
            username: "kabid.sandi".into(),
            password: "sandi negara 2026".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "ACCOUNT_DISABLED");
    t.stop().await;
}
dual!(admins_manage_units_positions_and_users);
