//! The exhaustive sweep: every user of both agencies asks for every resource
//! id through every RPC that reads by id or lists, and each answer is held to
//! the rule as computed here.

use std::collections::{BTreeMap, BTreeSet};

use naskah::proto::disposition_service_client::DispositionServiceClient;
use naskah::proto::org_service_client::OrgServiceClient;
use naskah::proto::records_service_client::RecordsServiceClient;
use naskah::proto::{self as pb, LetterState, SecurityLevel};
use naskah_testkit::demo::DEMO_PASSPHRASE;
use sha2::Digest;
use tonic::Code;

use super::agency_b::agency_b;
use super::reads::{ReadsById, answer};
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
