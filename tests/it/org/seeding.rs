//! The demo agency as seeded, and `--demo` refused on a database with real
//! users.

use naskah::proto::auth_service_client::AuthServiceClient;
use naskah::proto::{self as pb, AssignmentKind, LoginRequest, Role};
use naskah_testkit::demo::DEMO_PASSWORD;
use tonic::Code;

use naskah_testkit::demo::who_am_i;

use super::{find_unit, org};
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
    let me = who_am_i(&t, &kasi).await;
    assert_eq!(me.positions.len(), 1);
    assert_eq!(me.positions[0].position_name, "Kepala Seksi E-Government");
    assert_eq!(me.positions[0].unit_name, "Seksi E-Government");
    assert_eq!(me.positions[0].kind, AssignmentKind::Definitive as i32);
    let tu = who_am_i(&t, &t.login("tu.kominfo", DEMO_PASSWORD).await).await;
    assert!(tu.roles.contains(&(Role::Secretary as i32)));
    let kadis = who_am_i(&t, &t.login("kadis.kominfo", DEMO_PASSWORD).await).await;
    assert_eq!(
        tu.secretary_of_position_ids,
        vec![kadis.positions[0].position_id.clone()]
    );
    let pencatat = who_am_i(&t, &t.login("pencatat", DEMO_PASSWORD).await).await;
    assert!(pencatat.roles.contains(&(Role::Registrar as i32)));
    let admin = who_am_i(&t, &t.login("admin", DEMO_PASSWORD).await).await;
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
