//! The demo agency, the organisation API, acting officials, agency isolation, idempotency.

use std::sync::Arc;

use naskah::proto::auth_service_client::AuthServiceClient;
use naskah::proto::org_service_client::OrgServiceClient;
use naskah::proto::{self as pb, AssignmentKind, LoginRequest, Role, WhoAmIRequest};
use naskah_testkit::clock::{Clock, ManualClock};
use naskah_testkit::demo::DEMO_PASSWORD;
use prost_types::FieldMask;
use tonic::Code;
use tonic::transport::Channel;

use naskah_testkit::dual;
use naskah_testkit::{Db, TestServer, authed, reason};

const DEMO_USERS: &[&str] = &[
    "gubernur",
    "sekda",
    "kadis.kominfo",
    "tu.kominfo",
    "kabid.aptika",
    "kasi.egov",
    "staf.egov",
    "kabid.ikp",
    "pencatat",
    "arsiparis",
    "auditor",
    "admin",
];

fn org(t: &TestServer) -> OrgServiceClient<Channel> {
    OrgServiceClient::new(t.channel.clone())
}

async fn who(t: &TestServer, token: &str) -> pb::WhoAmIResponse {
    AuthServiceClient::new(t.channel.clone())
        .who_am_i(authed(WhoAmIRequest {}, token))
        .await
        .expect("whoami")
        .into_inner()
}

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask {
        paths: paths.iter().map(|p| p.to_string()).collect(),
    })
}

fn find_unit<'a>(units: &'a [pb::OrgChartUnit], code: &str) -> Option<&'a pb::OrgChartUnit> {
    for u in units {
        if u.unit.as_ref().is_some_and(|x| x.code == code) {
            return Some(u);
        }
        if let Some(f) = find_unit(&u.children, code) {
            return Some(f);
        }
    }
    None
}

async fn demo_agency_is_seeded_as_designed(db: Db) {
    let t = TestServer::start_demo(db).await;
    assert!(
        t.bootstrap_password.is_none(),
        "no random admin on a demo database"
    );
    let mut auth = AuthServiceClient::new(t.channel.clone());
    for u in DEMO_USERS {
        let s = auth
            .login(LoginRequest {
                username: (*u).into(),
                password: DEMO_PASSWORD.into(),
            })
            .await;
        let s = s
            .unwrap_or_else(|e| panic!("{u} cannot log in: {e:?}"))
            .into_inner();
        assert!(!s.must_change_password, "{u}");
    }
    let e = auth
        .login(LoginRequest {
            username: "kasi.egov".into(),
            password: "naskah-demo-x".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::Unauthenticated, "INVALID_CREDENTIALS")
    );
    let e = auth
        .login(LoginRequest {
            username: "bupati".into(),
            password: DEMO_PASSWORD.into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::Unauthenticated, "INVALID_CREDENTIALS")
    );

    // Positions and roles as in the design table.
    let kasi = t.login("kasi.egov", DEMO_PASSWORD).await;
    let me = who(&t, &kasi).await;
    assert_eq!(me.positions.len(), 1);
    assert_eq!(me.positions[0].position_name, "Kepala Seksi E-Government");
    assert_eq!(me.positions[0].unit_name, "Seksi E-Government");
    assert_eq!(me.positions[0].kind, AssignmentKind::Definitive as i32);
    let tu = who(&t, &t.login("tu.kominfo", DEMO_PASSWORD).await).await;
    assert!(tu.roles.contains(&(Role::Secretary as i32)));
    let kadis = who(&t, &t.login("kadis.kominfo", DEMO_PASSWORD).await).await;
    assert_eq!(
        tu.secretary_of_position_ids,
        vec![kadis.positions[0].position_id.clone()]
    );
    let pencatat = who(&t, &t.login("pencatat", DEMO_PASSWORD).await).await;
    assert!(pencatat.roles.contains(&(Role::Registrar as i32)));
    let admin = who(&t, &t.login("admin", DEMO_PASSWORD).await).await;
    assert_eq!(admin.roles, vec![Role::AgencyAdmin as i32]);
    assert!(admin.positions.is_empty());

    // The hierarchy: Pelaksana E-Gov → Kasi → Kabid Aptika → Kadis → Sekda → Gubernur.
    let chart = org(&t)
        .get_org_chart(authed(pb::GetOrgChartRequest::default(), &kasi))
        .await
        .expect("chart")
        .into_inner();
    assert_eq!(chart.roots.len(), 1);
    assert_eq!(
        chart.roots[0].unit.as_ref().map(|u| u.name.as_str()),
        Some("Pemerintah Provinsi")
    );
    let mut by_name = std::collections::HashMap::new();
    fn collect(
        u: &pb::OrgChartUnit,
        out: &mut std::collections::HashMap<String, (pb::Position, Vec<String>)>,
    ) {
        for p in &u.positions {
            let pos = p.position.clone().expect("position");
            let unit = u.unit.as_ref().map(|x| x.code.clone()).unwrap_or_default();
            out.insert(
                format!("{}@{}", pos.name, unit),
                (pos, p.holders.iter().map(|h| h.full_name.clone()).collect()),
            );
        }
        for c in &u.children {
            collect(c, out);
        }
    }
    for r in &chart.roots {
        collect(r, &mut by_name);
    }
    let chain = [
        "Pelaksana@EGOV",
        "Kepala Seksi E-Government@EGOV",
        "Kepala Bidang Aplikasi Informatika@APTIKA",
        "Kepala Dinas@DISKOMINFO",
        "Sekretaris Daerah@SETDA",
        "Gubernur@PEMPROV",
    ];
    for w in chain.windows(2) {
        let (low, _) = &by_name[w[0]];
        let (high, _) = &by_name[w[1]];
        assert_eq!(
            low.superior_position_id, high.id,
            "{} reports to {}",
            w[0], w[1]
        );
    }
    assert_eq!(
        by_name["Kepala Dinas@DISKOMINFO"].1,
        vec!["Bambang Prasetyo, S.Kom., M.T.".to_string()]
    );
    let diskominfo = find_unit(&chart.roots, "DISKOMINFO").expect("DISKOMINFO unit");
    let children: Vec<&str> = diskominfo
        .children
        .iter()
        .filter_map(|c| c.unit.as_ref())
        .map(|u| u.code.as_str())
        .collect();
    assert_eq!(children.len(), 3, "{children:?}");

    // A plain user may not change the organisation.
    let staf = t.login("staf.egov", DEMO_PASSWORD).await;
    let e = org(&t)
        .create_unit(authed(
            pb::CreateUnitRequest {
                code: "X".into(),
                name: "X".into(),
                ..Default::default()
            },
            &staf,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::PermissionDenied, "ROLE_REQUIRED")
    );

    // The classification scheme and the instructions are in place.
    let scheme =
        naskah::proto::records_service_client::RecordsServiceClient::new(t.channel.clone())
            .list_classifications(authed(
                pb::ListClassificationsRequest {
                    page_size: 1000,
                    ..Default::default()
                },
                &kasi,
            ))
            .await
            .expect("scheme")
            .into_inner()
            .classifications;
    assert!(scheme.iter().any(|c| c.code == "000.8.3.3"));
    let inherited = scheme
        .iter()
        .find(|c| c.code == "000.1.3")
        .expect("000.1.3");
    assert!(inherited.retention_inherited);
    assert_eq!((inherited.active_years, inherited.inactive_years), (2, 3));
    assert!(scheme.iter().any(|c| c.code.starts_with("800.")));
    let instructions =
        naskah::proto::disposition_service_client::DispositionServiceClient::new(t.channel.clone())
            .list_instructions(authed(pb::ListInstructionsRequest {}, &kasi))
            .await
            .expect("instructions")
            .into_inner()
            .instructions;
    assert!(instructions.iter().any(|i| i.text == "Siapkan jawaban"));
    let numbering = naskah_testkit::inspect::numbering_template(&t, &me.agency_id).await;
    assert_eq!(numbering, Some("{class}/{seq}/{unit}/{year}".to_string()));
    t.stop().await;
}
dual!(demo_agency_is_seeded_as_designed);

async fn demo_refuses_a_database_with_real_users(db: Db) {
    let mut t = TestServer::start(db).await;
    t.server
        .take()
        .expect("running")
        .stop()
        .await
        .expect("stop");
    let err = match t.another_server(true).await {
        Ok(_) => panic!("--demo started on a database with a real admin"),
        Err(e) => e,
    };
    assert!(err.contains("refuses"), "{err}");
    drop(t);
}
dual!(demo_refuses_a_database_with_real_users);

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
    let kadis_pos = who(&t, &t.login("kadis.kominfo", DEMO_PASSWORD).await)
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
        let kasi_pos = who(&t, &t.login("kasi.egov", DEMO_PASSWORD).await)
            .await
            .positions[0]
            .position_id
            .clone();
        let staf_id = who(&t, &staf).await.user_id;
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
        held(who(&t, &staf).await).len(),
        1,
        "before the window: only the own position"
    );
    clock.advance(2 * hour);
    let staf = t.login("staf.egov", DEMO_PASSWORD).await;
    let admin = t.login("admin", DEMO_PASSWORD).await;
    let inside = held(who(&t, &staf).await);
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
        held(who(&t, &staf).await).len(),
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
    let kasi = who(&t, &t.login("kasi.egov", DEMO_PASSWORD).await).await;
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
