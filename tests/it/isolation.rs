//! The access rule, checked exhaustively: two agencies in one installation,
//! letters at every security level in every state, drafts, attachments,
//! dispositions and case files; every user of both agencies asks for every
//! resource id through every RPC that reads by id or lists. Each answer must be
//! what the written rule (docs/design.md, "Who may read what") says, and every
//! refusal must be indistinguishable from the answer to an id that does not
//! exist.
//!
//! The rule, as this test computes it without asking the server: a letter is
//! readable by the users who hold, act for or serve as secretary a position
//! that takes part in it: its drafter, each route step once the route reached
//! it, its recipients and copies once it is sent, its disposition recipients,
//! and for an incoming letter the registrar's position and its recipients.
//! Nothing else (no role, no security level, no agency membership) grants a
//! read; another agency's users see nothing of it.

use std::collections::{BTreeMap, BTreeSet};

use naskah::proto::auth_service_client::AuthServiceClient;
use naskah::proto::disposition_service_client::DispositionServiceClient;
use naskah::proto::letter_service_client::LetterServiceClient;
use naskah::proto::org_service_client::OrgServiceClient;
use naskah::proto::records_service_client::RecordsServiceClient;
use naskah::proto::{self as pb, Folder, LetterState, SecurityLevel};
use naskah_testkit::demo::DEMO_PASSPHRASE;
use sha2::Digest;
use tonic::Code;

use naskah_testkit::demo::{Demo, draft, incoming_request, letters};
use naskah_testkit::dual;
use naskah_testkit::{Db, TestServer, authed, reason};

/// Every demo user (agency A).
const A_USERS: &[&str] = &[
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
];

/// Which users serve (as secretary) the positions of which users.
const SECRETARIES: &[(&str, &str)] = &[("tu.kominfo", "kadis.kominfo")];

const LEVELS: &[SecurityLevel] = &[
    SecurityLevel::Biasa,
    SecurityLevel::Terbatas,
    SecurityLevel::Rahasia,
    SecurityLevel::SangatRahasia,
];

/// A letter of the scenario and the users (by the position they hold) that
/// take part in it.
struct Case {
    what: String,
    id: String,
    takes_part: BTreeSet<&'static str>,
}

/// What a user may read under the rule: they hold one of the positions, or
/// serve as secretary the holder of one.
fn may_read(user: &str, c: &Case) -> bool {
    c.takes_part.contains(user)
        || SECRETARIES
            .iter()
            .any(|(sec, head)| *sec == user && c.takes_part.contains(head))
}

/// The comparable part of an answer: code, message and details (request ids
/// travel in metadata and differ on every call).
fn answer<T>(r: &Result<T, tonic::Status>) -> Option<(Code, String, Vec<u8>)> {
    r.as_ref()
        .err()
        .map(|e| (e.code(), e.message().to_owned(), e.details().to_vec()))
}

async fn route(t: &TestServer, d: &Demo, l: pb::Letter, reviewers: &[&str]) -> pb::Letter {
    let l = letters(t)
        .set_route(authed(
            pb::SetRouteRequest {
                letter_id: l.id.clone(),
                reviewer_position_ids: reviewers.iter().map(|u| d.pos(u)).collect(),
                signer_position_id: d.pos("kadis.kominfo"),
                etag: l.etag.clone(),
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("route")
        .into_inner();
    letters(t)
        .submit_letter(authed(
            pb::SubmitLetterRequest {
                letter_id: l.id.clone(),
                etag: l.etag.clone(),
                request_id: String::new(),
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("submit")
        .into_inner()
}

async fn attach(t: &TestServer, d: &Demo, letter_id: &str, user: &str) -> String {
    let bytes: Vec<u8> = [b"%PDF-1.4\n".as_slice(), letter_id.as_bytes()].concat();
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    let msgs = vec![
        pb::UploadAttachmentRequest {
            part: Some(pb::upload_attachment_request::Part::Metadata(
                pb::UploadAttachmentMetadata {
                    letter_id: letter_id.to_owned(),
                    file_name: "lampiran.pdf".into(),
                    media_type: "application/pdf".into(),
                    size_bytes: bytes.len() as i64,
                    sha256: sha,
                    is_scan: false,
                    request_id: String::new(),
                },
            )),
        },
        pb::UploadAttachmentRequest {
            part: Some(pb::upload_attachment_request::Part::Chunk(bytes)),
        },
    ];
    letters(t)
        .upload_attachment(authed(tokio_stream::iter(msgs), d.token(user)))
        .await
        .expect("upload")
        .into_inner()
        .id
}

/// Logs in with a one-time password, changes it, and logs in again.
async fn first_login(
    auth: &mut AuthServiceClient<tonic::transport::Channel>,
    user: &str,
    otp: &str,
) -> String {
    let s = auth
        .login(pb::LoginRequest {
            username: user.into(),
            password: otp.into(),
        })
        .await
        .unwrap_or_else(|e| panic!("login {user}: {e:?}"))
        .into_inner();
    auth.change_password(authed(
        pb::ChangePasswordRequest {
            current_password: otp.into(),
            new_password: "sehat-selalu-2026".into(),
        },
        &s.access_token,
    ))
    .await
    .expect("change password");
    auth.login(pb::LoginRequest {
        username: user.into(),
        password: "sehat-selalu-2026".into(),
    })
    .await
    .expect("login again")
    .into_inner()
    .access_token
}

/// Agency B, made the way an operator makes it (`naskah agency create`), its
/// organisation built by its own administrator through the API. Returns its
/// users' tokens by short name and B's draft letter ids.
async fn agency_b(t: &TestServer) -> (BTreeMap<&'static str, String>, Vec<String>) {
    let made =
        naskah_testkit::operator::create_agency(t, "DINKES", "Dinas Kesehatan Provinsi Nusantara")
            .await
            .expect("agency create");
    assert_eq!(made.admin_username, "admin@dinkes");
    let mut auth = AuthServiceClient::new(t.channel.clone());
    let admin = first_login(&mut auth, &made.admin_username, &made.one_time_password).await;
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
            first_login(&mut auth, &user.username, &made.one_time_password).await,
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

async fn every_user_reads_exactly_what_the_rule_allows(db: Db) {
    let t = TestServer::start_demo(db).await;
    let mut names: Vec<&'static str> = A_USERS.to_vec();
    names.push("admin");
    let d = Demo::login(&t, &names).await;
    let mut cases: Vec<Case> = Vec::new();
    let set = |v: &[&'static str]| v.iter().copied().collect::<BTreeSet<_>>();
    let mut attachments: Vec<(String, String)> = Vec::new(); // (attachment id, letter id)
    let mut sent_by_level = BTreeMap::new();

    for &level in LEVELS {
        let lv = format!("{level:?}");
        let new = async || {
            draft(
                &t,
                &d,
                "kasi.egov",
                &["sekda"],
                &["kabid.ikp"],
                level,
                "000.1.1",
            )
            .await
        };
        // A draft, with an attachment.
        let l = new().await;
        attachments.push((attach(&t, &d, &l.id, "kasi.egov").await, l.id.clone()));
        cases.push(Case {
            what: format!("{lv} draft"),
            id: l.id,
            takes_part: set(&["kasi.egov"]),
        });
        // In review at the first reviewer; the signer not reached yet.
        let l = route(&t, &d, new().await, &["kabid.aptika"]).await;
        assert_eq!(l.state, LetterState::InReview as i32);
        cases.push(Case {
            what: format!("{lv} in review"),
            id: l.id,
            takes_part: set(&["kasi.egov", "kabid.aptika"]),
        });
        // Returned by the reviewer.
        let l = route(&t, &d, new().await, &["kabid.aptika"]).await;
        let l = letters(&t)
            .return_letter(authed(
                pb::ReturnLetterRequest {
                    letter_id: l.id.clone(),
                    etag: l.etag.clone(),
                    comment: "Perbaiki".into(),
                    request_id: String::new(),
                },
                d.token("kabid.aptika"),
            ))
            .await
            .expect("return")
            .into_inner();
        cases.push(Case {
            what: format!("{lv} returned"),
            id: l.id,
            takes_part: set(&["kasi.egov", "kabid.aptika"]),
        });
        // Approved, at the signer.
        let l = route(&t, &d, new().await, &[]).await;
        assert_eq!(l.state, LetterState::Approved as i32);
        cases.push(Case {
            what: format!("{lv} approved"),
            id: l.id,
            takes_part: set(&["kasi.egov", "kadis.kominfo"]),
        });
        // Signed and sent, then disposed by its recipient down two levels.
        let l = route(&t, &d, new().await, &[]).await;
        let l = letters(&t)
            .sign_letter(authed(
                pb::SignLetterRequest {
                    letter_id: l.id.clone(),
                    etag: l.etag.clone(),
                    passphrase: DEMO_PASSPHRASE.into(),
                    request_id: String::new(),
                },
                d.token("kadis.kominfo"),
            ))
            .await
            .expect("sign")
            .into_inner();
        assert_eq!(l.state, LetterState::Sent as i32);
        let disposition = |from: &str, to: &str, parent: &str| pb::CreateDispositionRequest {
            letter_id: l.id.clone(),
            parent_disposition_id: parent.into(),
            sender_position_id: d.pos(from),
            recipient_position_ids: vec![d.pos(to)],
            instruction_codes: vec!["TINDAK_LANJUTI".into()],
            note: "Mohon ditindaklanjuti".into(),
            urgency: pb::Urgency::Segera as i32,
            ..Default::default()
        };
        let first = DispositionServiceClient::new(t.channel.clone())
            .create_disposition(authed(
                disposition("sekda", "kadis.kominfo", ""),
                d.token("sekda"),
            ))
            .await
            .expect("dispose")
            .into_inner();
        DispositionServiceClient::new(t.channel.clone())
            .create_disposition(authed(
                disposition("kadis.kominfo", "kabid.aptika", &first.id),
                d.token("kadis.kominfo"),
            ))
            .await
            .expect("dispose further");
        sent_by_level.insert(lv.clone(), l.id.clone());
        cases.push(Case {
            what: format!("{lv} sent and disposed"),
            id: l.id,
            takes_part: set(&[
                "kasi.egov",
                "kadis.kominfo",
                "sekda",
                "kabid.ikp",
                "kabid.aptika",
            ]),
        });
        // Withdrawn.
        let l = new().await;
        let l = letters(&t)
            .withdraw_letter(authed(
                pb::WithdrawLetterRequest {
                    letter_id: l.id.clone(),
                    etag: l.etag.clone(),
                    ..Default::default()
                },
                d.token("kasi.egov"),
            ))
            .await
            .expect("withdraw")
            .into_inner();
        cases.push(Case {
            what: format!("{lv} withdrawn"),
            id: l.id,
            takes_part: set(&["kasi.egov"]),
        });
        // Registered incoming, with its scan.
        let l = letters(&t)
            .register_incoming_letter(authed(
                incoming_request(vec![d.pos("kabid.ikp")], "Undangan", "000.1.1", level),
                d.token("pencatat"),
            ))
            .await
            .expect("register")
            .into_inner();
        attachments.push((attach(&t, &d, &l.id, "pencatat").await, l.id.clone()));
        cases.push(Case {
            what: format!("{lv} incoming"),
            id: l.id,
            takes_part: set(&["pencatat", "kabid.ikp"]),
        });
    }

    let (b_tokens, b_drafts) = agency_b(&t).await;
    for (i, id) in b_drafts.iter().enumerate() {
        cases.push(Case {
            what: format!("agency B draft {i}"),
            id: id.clone(),
            takes_part: set(if i == 0 {
                &["staf@dinkes"]
            } else {
                &["kepala@dinkes"]
            }),
        });
    }

    // Every caller: A's users (admin, auditor and records officer included)
    // and B's.
    let mut callers: Vec<(&'static str, String)> =
        names.iter().map(|u| (*u, d.token(u).to_owned())).collect();
    for (u, tok) in &b_tokens {
        callers.push((u, tok.clone()));
    }

    let unknown = uuid::Uuid::new_v4().to_string();
    let mut checked = 0usize;
    let mut allowed = 0usize;
    let mut problems = Vec::new();
    for (user, token) in &callers {
        // The answers to an id that does not exist, per RPC.
        let reads = ReadsById::new(&t, token);
        let none = reads.all(&unknown).await;
        for (rpc, a) in &none {
            assert!(
                matches!(a, Some((Code::NotFound, _, _))),
                "{rpc} of an unknown id by {user}: {a:?}"
            );
        }
        for c in &cases {
            let want = may_read(user, c);
            let got = reads.all(&c.id).await;
            for ((rpc, a), (_, n)) in got.iter().zip(&none) {
                checked += 1;
                let refused_like_unknown = a == n;
                if want {
                    allowed += 1;
                }
                if want == refused_like_unknown {
                    problems.push(format!(
                        "{user} {rpc} {}: allowed {want}, got {a:?}",
                        c.what
                    ));
                }
            }
        }
        // Attachments.
        let none = reads.download(&unknown).await;
        for (att, letter) in &attachments {
            let c = cases.iter().find(|c| &c.id == letter).expect("case");
            let want = may_read(user, c);
            let a = reads.download(att).await;
            checked += 1;
            if want {
                allowed += 1;
            }
            if want == (a == none) {
                problems.push(format!(
                    "{user} DownloadAttachment of {}: allowed {want}, got {a:?}",
                    c.what
                ));
            }
        }
        // The one list of everything the caller sees.
        let listed: BTreeSet<String> = reads.all_visible().await;
        let expected: BTreeSet<String> = cases
            .iter()
            .filter(|c| may_read(user, c))
            .map(|c| c.id.clone())
            .collect();
        let ours: BTreeSet<String> = cases.iter().map(|c| c.id.clone()).collect();
        let listed_ours: BTreeSet<String> = listed.intersection(&ours).cloned().collect();
        checked += 1;
        if listed_ours != expected {
            problems.push(format!(
                "{user} ALL_VISIBLE lists {} of the scenario's letters, the rule {}",
                listed_ours.len(),
                expected.len()
            ));
        }
    }

    // Case files: the records officer files and exports (secret content only
    // with a recorded reason); another agency's officer finds nothing.
    let mut records = RecordsServiceClient::new(t.channel.clone());
    let unit = OrgServiceClient::new(t.channel.clone())
        .list_units(authed(
            pb::ListUnitsRequest {
                page_size: 100,
                ..Default::default()
            },
            d.token("arsiparis"),
        ))
        .await
        .expect("units")
        .into_inner()
        .units
        .into_iter()
        .find(|u| u.code == "SEKDIS")
        .expect("SEKDIS");
    let cf = records
        .create_case_file(authed(
            pb::CreateCaseFileRequest {
                classification_code: "000.1".into(),
                title: "Berkas uji akses".into(),
                unit_id: unit.id.clone(),
                description: String::new(),
                request_id: String::new(),
            },
            d.token("arsiparis"),
        ))
        .await
        .expect("case file")
        .into_inner();
    for lv in ["Biasa", "Rahasia"] {
        records
            .file_letter(authed(
                pb::FileLetterRequest {
                    case_file_id: cf.id.clone(),
                    letter_id: sent_by_level[lv].clone(),
                    request_id: String::new(),
                },
                d.token("arsiparis"),
            ))
            .await
            .expect("file");
    }
    let export = async |token: &str, why: &str| -> Result<usize, tonic::Status> {
        let mut s = RecordsServiceClient::new(t.channel.clone())
            .export_case_file(authed(
                pb::ExportCaseFileRequest {
                    case_file_id: cf.id.clone(),
                    access_reason: why.into(),
                },
                token,
            ))
            .await?
            .into_inner();
        let mut n = 0;
        while let Some(m) = s.message().await? {
            n += m.chunk.len();
        }
        Ok(n)
    };
    let e = export(d.token("arsiparis"), "").await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(e.message().contains("access_reason"), "{e:?}");
    let bytes = export(d.token("arsiparis"), "Penyerahan arsip statis ke ANRI")
        .await
        .expect("export");
    assert!(bytes > 0);
    let secret_access =
        naskah::proto::audit_service_client::AuditServiceClient::new(t.channel.clone())
            .list_audit_events(authed(
                pb::ListAuditEventsRequest {
                    resource_id: sent_by_level["Rahasia"].clone(),
                    page_size: 500,
                    ..Default::default()
                },
                d.token("auditor"),
            ))
            .await
            .expect("events")
            .into_inner()
            .events
            .into_iter()
            .filter(|e| {
                e.summary.contains("archival access")
                    && e.summary.contains("Penyerahan arsip statis")
            })
            .count();
    assert_eq!(
        secret_access, 1,
        "the archival access to the secret letter is recorded with its reason"
    );
    let unknown_cf = records
        .get_retention(authed(
            pb::GetRetentionRequest {
                case_file_id: unknown.clone(),
            },
            &b_tokens["arsip@dinkes"],
        ))
        .await;
    let foreign_cf = records
        .get_retention(authed(
            pb::GetRetentionRequest {
                case_file_id: cf.id.clone(),
            },
            &b_tokens["arsip@dinkes"],
        ))
        .await;
    assert!(unknown_cf.is_err());
    assert_eq!(
        answer(&foreign_cf),
        answer(&unknown_cf),
        "another agency's case file"
    );
    let listed = records
        .list_case_files(authed(
            pb::ListCaseFilesRequest::default(),
            &b_tokens["arsip@dinkes"],
        ))
        .await
        .expect("list")
        .into_inner();
    assert!(listed.case_files.iter().all(|c| c.id != cf.id));
    let e = export(&b_tokens["arsip@dinkes"], "ingin tahu")
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "CASE_FILE_NOT_FOUND");

    // Organisation and audit: nothing of A reaches B's users.
    let a_units: BTreeSet<String> = OrgServiceClient::new(t.channel.clone())
        .list_units(authed(
            pb::ListUnitsRequest {
                page_size: 500,
                ..Default::default()
            },
            d.token("admin"),
        ))
        .await
        .expect("units")
        .into_inner()
        .units
        .into_iter()
        .map(|u| u.id)
        .collect();
    for (user, token) in &b_tokens {
        let mut org = OrgServiceClient::new(t.channel.clone());
        let units = org
            .list_units(authed(
                pb::ListUnitsRequest {
                    page_size: 500,
                    ..Default::default()
                },
                token,
            ))
            .await
            .expect("units")
            .into_inner()
            .units;
        assert!(
            units.iter().all(|u| !a_units.contains(&u.id)),
            "{user} lists A's units"
        );
        let users = org
            .list_users(authed(
                pb::ListUsersRequest {
                    page_size: 500,
                    ..Default::default()
                },
                token,
            ))
            .await
            .expect("users")
            .into_inner()
            .users;
        assert!(
            users.iter().all(|u| u.username.ends_with("@dinkes")),
            "{user} lists A's users"
        );
        let none = org
            .get_unit(authed(
                pb::GetUnitRequest {
                    unit_id: unknown.clone(),
                },
                token,
            ))
            .await;
        for id in &a_units {
            let got = org
                .get_unit(authed(
                    pb::GetUnitRequest {
                        unit_id: id.clone(),
                    },
                    token,
                ))
                .await;
            assert_eq!(answer(&got), answer(&none), "{user} GetUnit of A's unit");
        }
        checked += 3 + a_units.len();
    }
    // The agencies' auditors see only their own events.
    let a_ids: BTreeSet<String> = cases
        .iter()
        .filter(|c| !c.what.starts_with("agency B"))
        .map(|c| c.id.clone())
        .collect();
    let b_ids: BTreeSet<String> = b_drafts.iter().cloned().collect();
    for (token, foreign) in [
        (&b_tokens["audit@dinkes"], &a_ids),
        (&d.token("auditor").to_owned(), &b_ids),
    ] {
        let mut page = String::new();
        loop {
            let r = naskah::proto::audit_service_client::AuditServiceClient::new(t.channel.clone())
                .list_audit_events(authed(
                    pb::ListAuditEventsRequest {
                        page_size: 500,
                        page_token: page.clone(),
                        ..Default::default()
                    },
                    token,
                ))
                .await
                .expect("audit")
                .into_inner();
            for e in &r.events {
                assert!(
                    !foreign.contains(&e.resource_id),
                    "an auditor sees another agency's event {e:?}"
                );
                assert_eq!(
                    e.seq, 0,
                    "no installation-wide sequence number counts the other agency's events"
                );
                checked += 1;
            }
            if r.next_page_token.is_empty() {
                break;
            }
            page = r.next_page_token;
        }
    }
    // Verification: the verdict for the one chain, each agency's own count.
    let counted = async |token: &str| {
        naskah::proto::audit_service_client::AuditServiceClient::new(t.channel.clone())
            .verify_audit_log(authed(pb::VerifyAuditLogRequest {}, token))
            .await
            .expect("verify")
            .into_inner()
    };
    let (a_view, b_view) = (
        counted(d.token("auditor")).await,
        counted(&b_tokens["audit@dinkes"]).await,
    );
    assert!(a_view.ok && b_view.ok);
    // The whole chain, as the installation's operator sees it.
    t.seed_user(
        "auditor.system",
        "auditor-password-1",
        &[pb::Role::Auditor, pb::Role::SystemAdmin],
    )
    .await;
    let whole = counted(&t.login("auditor.system", "auditor-password-1").await)
        .await
        .events_checked;
    assert!(a_view.events_checked + b_view.events_checked <= whole);
    assert!(
        b_view.events_checked < a_view.events_checked,
        "{a_view:?} {b_view:?}"
    );
    // Certificates: each agency has its own CA.
    let ca = async |token: &str| {
        naskah::proto::signature_service_client::SignatureServiceClient::new(t.channel.clone())
            .get_agency_certificate(authed(pb::GetAgencyCertificateRequest {}, token))
            .await
            .expect("ca")
            .into_inner()
    };
    assert_ne!(
        format!("{:?}", ca(d.token("staf.egov")).await),
        format!("{:?}", ca(&b_tokens["staf@dinkes"]).await)
    );

    println!(
        "access sweep ({db:?}): {} callers x {} letters ({} levels x 7 kinds + B's drafts), {} attachments; \
         {checked} answers checked, {allowed} allowed by the rule, the rest identical to an unknown id",
        callers.len(),
        cases.len(),
        LEVELS.len(),
        attachments.len()
    );
    assert!(
        problems.is_empty(),
        "{} answers break the rule:\n{}",
        problems.len(),
        problems.join("\n")
    );
    t.stop().await;
}
dual!(every_user_reads_exactly_what_the_rule_allows);

/// The reads of one caller that take a letter id.
struct ReadsById<'a> {
    t: &'a TestServer,
    token: &'a str,
}

type Answer = Option<(Code, String, Vec<u8>)>;

impl<'a> ReadsById<'a> {
    fn new(t: &'a TestServer, token: &'a str) -> Self {
        Self { t, token }
    }

    async fn all(&self, id: &str) -> Vec<(&'static str, Answer)> {
        let mut l = LetterServiceClient::new(self.t.channel.clone());
        let mut d = DispositionServiceClient::new(self.t.channel.clone());
        let tok = self.token;
        let id = id.to_owned();
        vec![
            (
                "GetLetter",
                answer(
                    &l.get_letter(authed(
                        pb::GetLetterRequest {
                            letter_id: id.clone(),
                            ..Default::default()
                        },
                        tok,
                    ))
                    .await,
                ),
            ),
            (
                "ListVersions",
                answer(
                    &l.list_versions(authed(
                        pb::ListVersionsRequest {
                            letter_id: id.clone(),
                            ..Default::default()
                        },
                        tok,
                    ))
                    .await,
                ),
            ),
            (
                "ListComments",
                answer(
                    &l.list_comments(authed(
                        pb::ListCommentsRequest {
                            letter_id: id.clone(),
                            ..Default::default()
                        },
                        tok,
                    ))
                    .await,
                ),
            ),
            (
                "GetSignedDocument",
                answer(
                    &l.get_signed_document(authed(
                        pb::GetSignedDocumentRequest {
                            letter_id: id.clone(),
                        },
                        tok,
                    ))
                    .await,
                ),
            ),
            (
                "GetDispositionTree",
                answer(
                    &d.get_disposition_tree(authed(
                        pb::GetDispositionTreeRequest {
                            letter_id: id.clone(),
                        },
                        tok,
                    ))
                    .await,
                ),
            ),
        ]
    }

    async fn download(&self, attachment: &str) -> Answer {
        let r = LetterServiceClient::new(self.t.channel.clone())
            .download_attachment(authed(
                pb::DownloadAttachmentRequest {
                    attachment_id: attachment.to_owned(),
                },
                self.token,
            ))
            .await;
        match r {
            Err(e) => Some((e.code(), e.message().to_owned(), e.details().to_vec())),
            Ok(s) => {
                let mut s = s.into_inner();
                match s.message().await {
                    Ok(_) => None,
                    Err(e) => Some((e.code(), e.message().to_owned(), e.details().to_vec())),
                }
            }
        }
    }

    async fn all_visible(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut page = String::new();
        loop {
            let r = LetterServiceClient::new(self.t.channel.clone())
                .list_letters(authed(
                    pb::ListLettersRequest {
                        folder: Folder::AllVisible as i32,
                        page_size: 200,
                        page_token: page.clone(),
                        ..Default::default()
                    },
                    self.token,
                ))
                .await;
            let r = match r {
                Ok(r) => r.into_inner(),
                // A caller without positions has nothing to list.
                Err(e) if e.code() == Code::PermissionDenied || e.code() == Code::NotFound => break,
                Err(e) => panic!("list: {e:?}"),
            };
            out.extend(r.letters.into_iter().map(|l| l.id));
            if r.next_page_token.is_empty() {
                break;
            }
            page = r.next_page_token;
        }
        out
    }
}

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
        letters(&t)
            .register_incoming_letter(authed(
                incoming_request(vec![d.pos(to)], "Undangan", "000.1.1", SecurityLevel::Biasa),
                d.token("pencatat"),
            ))
            .await
            .expect("register")
            .into_inner()
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
    let id = letters(&t)
        .register_incoming_letter(authed(
            incoming_request(
                vec![d.pos("kabid.ikp")],
                "Undangan",
                "000.1.1",
                SecurityLevel::Biasa,
            ),
            d.token("pencatat"),
        ))
        .await
        .expect("register")
        .into_inner()
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
