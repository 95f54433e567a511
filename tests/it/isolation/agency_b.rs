//! Agency B of the sweep, made as an operator and its own administrator make
//! an agency.

use std::collections::BTreeMap;

use naskah::proto::org_service_client::OrgServiceClient;
use naskah::proto::records_service_client::RecordsServiceClient;
use naskah::proto::{self as pb, SecurityLevel};

use naskah_testkit::demo::{first_login, letters};
use naskah_testkit::{TestServer, authed};

/// Agency B, made the way an operator makes it (`naskah agency create`), its
/// organisation built by its own administrator through the API. Returns its
/// users' tokens by short name and B's draft letter ids.
pub(super) async fn agency_b(t: &TestServer) -> (BTreeMap<&'static str, String>, Vec<String>) {
    let made =
        naskah_testkit::operator::create_agency(t, "DINKES", "Dinas Kesehatan Provinsi Nusantara")
            .await
            .expect("agency create");
    assert_eq!(made.admin_username, "admin@dinkes");
    let admin = first_login(&t.channel, &made.admin_username, &made.one_time_password).await;
    let mut org = OrgServiceClient::new(t.channel.clone());
    let unit = org
        .create_unit(authed(
            pb::CreateUnitRequest {
                code: "DINKES".into(),
                name: "Dinas Kesehatan".into(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("unit")
        .into_inner();
    let head = org
        .create_position(authed(
            pb::CreatePositionRequest {
                unit_id: unit.id.clone(),
                name: "Kepala Dinas Kesehatan".into(),
                is_unit_head: true,
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("position")
        .into_inner();
    let staff = org
        .create_position(authed(
            pb::CreatePositionRequest {
                unit_id: unit.id.clone(),
                name: "Pelaksana".into(),
                superior_position_id: head.id.clone(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("position")
        .into_inner();
    let mut tokens = BTreeMap::new();
    tokens.insert("admin@dinkes", admin.clone());
    let mut positions = BTreeMap::new();
    for (name, roles, pos) in [
        ("kepala", vec![pb::Role::User], Some(&head)),
        ("staf", vec![pb::Role::User], Some(&staff)),
        (
            "arsip",
            vec![pb::Role::User, pb::Role::RecordsOfficer],
            None,
        ),
        ("audit", vec![pb::Role::User, pb::Role::Auditor], None),
    ] {
        let made = org
            .create_user(authed(
                pb::CreateUserRequest {
                    username: name.into(),
                    full_name: name.into(),
                    roles: roles.iter().map(|r| *r as i32).collect(),
                    ..Default::default()
                },
                &admin,
            ))
            .await
            .expect("user")
            .into_inner();
        let user = made.user.expect("user");
        // Names are qualified by the agency's login domain.
        assert_eq!(user.username, format!("{name}@dinkes"));
        if let Some(p) = pos {
            org.assign_position(authed(
                pb::AssignPositionRequest {
                    user_id: user.id.clone(),
                    position_id: p.id.clone(),
                    kind: pb::AssignmentKind::Definitive as i32,
                    ..Default::default()
                },
                &admin,
            ))
            .await
            .expect("assign");
            positions.insert(name, p.id.clone());
        }
        let short: &'static str = match name {
            "kepala" => "kepala@dinkes",
            "staf" => "staf@dinkes",
            "arsip" => "arsip@dinkes",
            _ => "audit@dinkes",
        };
        tokens.insert(
            short,
            first_login(&t.channel, &user.username, &made.one_time_password).await,
        );
    }
    // B's records office brings its classification scheme.
    RecordsServiceClient::new(t.channel.clone())
        .import_classifications(authed(
            pb::ImportClassificationsRequest {
                csv: naskah_testkit::demo::DEMO_CLASSIFICATIONS_CSV.into(),
                dry_run: false,
                request_id: String::new(),
            },
            &tokens["arsip@dinkes"],
        ))
        .await
        .expect("import the scheme");
    let mut drafts = Vec::new();
    for (who, level) in [
        ("staf", SecurityLevel::Biasa),
        ("kepala", SecurityLevel::Rahasia),
    ] {
        let token = &tokens[if who == "staf" {
            "staf@dinkes"
        } else {
            "kepala@dinkes"
        }];
        let l = letters(t)
            .create_draft(authed(
                pb::CreateDraftRequest {
                    drafting_position_id: positions[who].clone(),
                    r#type: pb::LetterType::NotaDinas as i32,
                    subject: "Laporan kasus".into(),
                    body: "Isi".into(),
                    security_level: level as i32,
                    urgency: pb::Urgency::Biasa as i32,
                    classification_code: "000.1.1".into(),
                    recipients: vec![pb::Addressee {
                        target: Some(pb::addressee::Target::PositionId(
                            positions["kepala"].clone(),
                        )),
                        ..Default::default()
                    }],
                    ..Default::default()
                },
                token,
            ))
            .await
            .expect("B draft")
            .into_inner();
        drafts.push(l.id);
    }
    (tokens, drafts)
}
