//! Records management: the classification scheme, case files, retention, holds.

use naskah::proto::letter_service_client::LetterServiceClient;
use naskah::proto::records_service_client::RecordsServiceClient;
use naskah::proto::{self as pb, DueKind, RetentionPhase, SecurityLevel};
use naskah_testkit::clock::{Clock, ManualClock};
use tonic::Code;
use tonic::transport::Channel;
use tonic_types::StatusExt;

use naskah_testkit::demo::{Demo, draft, incoming_request};
use naskah_testkit::dual;
use naskah_testkit::{Db, TestServer, authed, reason};

fn rec(t: &TestServer) -> RecordsServiceClient<Channel> {
    RecordsServiceClient::new(t.channel.clone())
}

async fn codes(t: &TestServer, token: &str, root: &str) -> Vec<String> {
    rec(t)
        .list_classifications(authed(
            pb::ListClassificationsRequest {
                root_code: root.into(),
                page_size: 1000,
                ..Default::default()
            },
            token,
        ))
        .await
        .expect("list")
        .into_inner()
        .classifications
        .into_iter()
        .map(|c| c.code)
        .collect()
}

async fn the_scheme_imports_all_or_nothing(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(&t, &["arsiparis", "staf.egov"]).await;
    let mut r = rec(&t);
    let before = codes(&t, d.token("arsiparis"), "").await;
    assert!(
        before.contains(&"000.8.3.3".to_string()) && before.contains(&"800.3.4".to_string()),
        "the demo scheme came through the import path"
    );
    let good = "code,title,active_years,inactive_years,final_disposition,security_level\n\
                900,Keuangan,3,7,PERMANEN,TERBATAS\n\
                900.1,Anggaran,,,,\n\
                900.1.1,Rencana Kerja Anggaran,2,5,MUSNAH,\n";
    let dry = r
        .import_classifications(authed(
            pb::ImportClassificationsRequest {
                csv: good.into(),
                dry_run: true,
                request_id: String::new(),
            },
            d.token("arsiparis"),
        ))
        .await
        .expect("dry run")
        .into_inner();
    assert_eq!((dry.created, dry.updated), (3, 0));
    assert_eq!(
        codes(&t, d.token("arsiparis"), "900").await.len(),
        0,
        "a dry run imports nothing"
    );
    let bad = "code,title,active_years,inactive_years,final_disposition,security_level\n\
               900,Keuangan,3,7,PERMANEN,TERBATAS\n\
               900.1,Anggaran,lima,7,MUSNAH,\n\
               900.2,Perbendaharaan,1,1,MUSNAH,\n";
    let e = r
        .import_classifications(authed(
            pb::ImportClassificationsRequest {
                csv: bad.into(),
                dry_run: false,
                request_id: String::new(),
            },
            d.token("arsiparis"),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    let fields: Vec<String> = e
        .get_details_bad_request()
        .expect("violations")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(fields, vec!["csv line 3: active_years".to_string()]);
    assert_eq!(
        codes(&t, d.token("arsiparis"), "900").await.len(),
        0,
        "one bad row imports nothing"
    );
    let done = r
        .import_classifications(authed(
            pb::ImportClassificationsRequest {
                csv: good.into(),
                dry_run: false,
                request_id: String::new(),
            },
            d.token("arsiparis"),
        ))
        .await
        .expect("import")
        .into_inner();
    assert_eq!(done.created, 3);
    let list = r
        .list_classifications(authed(
            pb::ListClassificationsRequest {
                root_code: "900".into(),
                ..Default::default()
            },
            d.token("staf.egov"),
        ))
        .await
        .expect("list")
        .into_inner()
        .classifications;
    let anggaran = list.iter().find(|c| c.code == "900.1").expect("900.1");
    assert!(anggaran.retention_inherited);
    assert_eq!(
        (
            anggaran.active_years,
            anggaran.inactive_years,
            anggaran.parent_code.as_str()
        ),
        (3, 7, "900")
    );
    assert_eq!(
        anggaran.default_security_level,
        SecurityLevel::Terbatas as i32
    );
    let e = r
        .import_classifications(authed(
            pb::ImportClassificationsRequest {
                csv: good.into(),
                dry_run: false,
                request_id: String::new(),
            },
            d.token("staf.egov"),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "ROLE_REQUIRED");
    t.stop().await;
}
dual!(the_scheme_imports_all_or_nothing);

async fn retention_phases_follow_the_clock_and_holds_block(db: Db) {
    let clock = ManualClock::new(naskah_testkit::clock::SystemClock.now_us());
    let t = TestServer::start_demo_with_clock(db, clock.clone()).await;
    let d = Demo::login(
        &t,
        &[
            "arsiparis",
            "pencatat",
            "kadis.kominfo",
            "kasi.egov",
            "sekda",
        ],
    )
    .await;
    let mut r = rec(&t);
    let mut l = LetterServiceClient::new(t.channel.clone());
    let unit = naskah::proto::org_service_client::OrgServiceClient::new(t.channel.clone())
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
    let register = |class: &str| {
        incoming_request(
            vec![d.pos("kadis.kominfo")],
            "Surat masuk",
            class,
            SecurityLevel::Biasa,
        )
    };
    let in_scheme = l
        .register_incoming_letter(authed(register("000.1.3"), d.token("pencatat")))
        .await
        .expect("register")
        .into_inner();
    let other = l
        .register_incoming_letter(authed(register("800.1"), d.token("pencatat")))
        .await
        .expect("register")
        .into_inner();

    let cf = r
        .create_case_file(authed(
            pb::CreateCaseFileRequest {
                classification_code: "000.1".into(),
                title: "Rapat koordinasi 2026".into(),
                unit_id: unit.id.clone(),
                description: String::new(),
                request_id: String::new(),
            },
            d.token("arsiparis"),
        ))
        .await
        .expect("case file")
        .into_inner();
    r.file_letter(authed(
        pb::FileLetterRequest {
            case_file_id: cf.id.clone(),
            letter_id: in_scheme.id.clone(),
            request_id: String::new(),
        },
        d.token("arsiparis"),
    ))
    .await
    .expect("file");
    let e = r
        .file_letter(authed(
            pb::FileLetterRequest {
                case_file_id: cf.id.clone(),
                letter_id: in_scheme.id.clone(),
                request_id: String::new(),
            },
            d.token("arsiparis"),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "ALREADY_FILED");
    let e = r
        .file_letter(authed(
            pb::FileLetterRequest {
                case_file_id: cf.id.clone(),
                letter_id: other.id.clone(),
                request_id: String::new(),
            },
            d.token("arsiparis"),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::FailedPrecondition, "CLASSIFICATION_MISMATCH")
    );
    let retention = |id: String| pb::GetRetentionRequest { case_file_id: id };
    let open = r
        .get_retention(authed(retention(cf.id.clone()), d.token("arsiparis")))
        .await
        .expect("retention")
        .into_inner();
    assert_eq!(
        (open.phase, open.active_until.is_none()),
        (RetentionPhase::Active as i32, true)
    );

    // Close: 000.1 keeps 2 active and 3 inactive years, then MUSNAH.
    let closed = r
        .close_case_file(authed(
            pb::CloseCaseFileRequest {
                case_file_id: cf.id.clone(),
                etag: cf.etag.clone(),
                request_id: String::new(),
            },
            d.token("arsiparis"),
        ))
        .await
        .expect("close")
        .into_inner();
    assert_eq!(closed.letter_count, 1);
    let e = r
        .file_letter(authed(
            pb::FileLetterRequest {
                case_file_id: cf.id.clone(),
                letter_id: other.id.clone(),
                request_id: String::new(),
            },
            d.token("arsiparis"),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "CASE_FILE_CLOSED");
    let ret = r
        .get_retention(authed(retention(cf.id.clone()), d.token("arsiparis")))
        .await
        .expect("retention")
        .into_inner();
    let active_until =
        naskah_testkit::clock::from_timestamp(&ret.active_until.expect("active until"))
            .expect("time");
    let inactive_until =
        naskah_testkit::clock::from_timestamp(&ret.inactive_until.expect("inactive until"))
            .expect("time");
    let close_time = clock.now_us();
    assert_eq!(
        active_until,
        naskah_testkit::calendar::add_years(close_time, 2)
    );
    assert_eq!(
        inactive_until,
        naskah_testkit::calendar::add_years(active_until, 3)
    );
    let phase_at = async |at: i64, r: &mut RecordsServiceClient<Channel>| {
        clock.advance(at - clock.now_us());
        let token = t
            .login("arsiparis", naskah_testkit::demo::DEMO_PASSWORD)
            .await;
        (
            r.get_retention(authed(retention(cf.id.clone()), &token))
                .await
                .expect("retention")
                .into_inner()
                .phase,
            token,
        )
    };
    assert_eq!(
        phase_at(active_until - 1, &mut r).await.0,
        RetentionPhase::Active as i32
    );
    assert_eq!(
        phase_at(active_until, &mut r).await.0,
        RetentionPhase::Inactive as i32
    );
    assert_eq!(
        phase_at(inactive_until - 1, &mut r).await.0,
        RetentionPhase::Inactive as i32
    );
    let (phase, token) = phase_at(inactive_until, &mut r).await;
    assert_eq!(phase, RetentionPhase::DueDisposal as i32);
    let channel = t.channel.clone();
    let due = async |token: &str| {
        RecordsServiceClient::new(channel.clone())
            .list_due(authed(
                pb::ListDueRequest {
                    kind: DueKind::Disposal as i32,
                    ..Default::default()
                },
                token,
            ))
            .await
    };
    assert_eq!(
        due(&token)
            .await
            .expect("due")
            .into_inner()
            .case_files
            .iter()
            .map(|c| c.id.clone())
            .collect::<Vec<_>>(),
        vec![cf.id.clone()]
    );
    let transfer = r
        .list_due(authed(
            pb::ListDueRequest {
                kind: DueKind::Transfer as i32,
                ..Default::default()
            },
            &token,
        ))
        .await
        .expect("due")
        .into_inner();
    assert!(transfer.case_files.is_empty());

    // A hold takes it off the due list until released.
    let hold = r
        .place_hold(authed(
            pb::PlaceHoldRequest {
                case_file_id: cf.id.clone(),
                reason: "Perkara PTUN".into(),
                authority: "Pengadilan TUN".into(),
                ..Default::default()
            },
            &token,
        ))
        .await
        .expect("hold")
        .into_inner();
    assert!(
        due(&token)
            .await
            .expect("due")
            .into_inner()
            .case_files
            .is_empty()
    );
    assert!(
        r.get_retention(authed(retention(cf.id.clone()), &token))
            .await
            .expect("retention")
            .into_inner()
            .on_hold
    );
    r.release_hold(authed(
        pb::ReleaseHoldRequest {
            hold_id: hold.id.clone(),
            ..Default::default()
        },
        &token,
    ))
    .await
    .expect("release");
    assert_eq!(
        due(&token)
            .await
            .expect("due")
            .into_inner()
            .case_files
            .len(),
        1
    );
    let e = r
        .release_hold(authed(
            pb::ReleaseHoldRequest {
                hold_id: hold.id.clone(),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "HOLD_RELEASED");
    t.stop().await;
}
dual!(retention_phases_follow_the_clock_and_holds_block);

async fn a_held_letter_cannot_be_withdrawn_or_deleted(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(&t, &["arsiparis", "kasi.egov", "sekda"]).await;
    let mut r = rec(&t);
    let mut l = LetterServiceClient::new(t.channel.clone());
    let x = draft(
        &t,
        &d,
        "kasi.egov",
        &["sekda"],
        &[],
        SecurityLevel::Biasa,
        "000.1.2",
    )
    .await;
    let hold = r
        .place_hold(authed(
            pb::PlaceHoldRequest {
                letter_id: x.id.clone(),
                reason: "Audit BPK".into(),
                authority: "BPK RI".into(),
                ..Default::default()
            },
            d.token("arsiparis"),
        ))
        .await
        .expect("hold")
        .into_inner();
    let e = l
        .delete_draft(authed(
            pb::DeleteDraftRequest {
                letter_id: x.id.clone(),
                etag: x.etag.clone(),
            },
            d.token("kasi.egov"),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::FailedPrecondition, "LEGAL_HOLD")
    );
    let e = l
        .withdraw_letter(authed(
            pb::WithdrawLetterRequest {
                letter_id: x.id.clone(),
                etag: x.etag.clone(),
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "LEGAL_HOLD");
    r.release_hold(authed(
        pb::ReleaseHoldRequest {
            hold_id: hold.id,
            ..Default::default()
        },
        d.token("arsiparis"),
    ))
    .await
    .expect("release");
    l.withdraw_letter(authed(
        pb::WithdrawLetterRequest {
            letter_id: x.id.clone(),
            etag: x.etag.clone(),
            ..Default::default()
        },
        d.token("kasi.egov"),
    ))
    .await
    .expect("withdraw after release");
    t.stop().await;
}
dual!(a_held_letter_cannot_be_withdrawn_or_deleted);
