//! Drafts: idempotent creation, the drafts page and its filter, withdrawal
//! and deletion, CreateDraft's answer against GetLetter's, and UpdateDraft's
//! etags and subject.

use naskah::proto::letter_service_client::LetterServiceClient;
use naskah::proto::{self as pb, Folder, LetterState, LetterType, SecurityLevel, Urgency};
use prost_types::FieldMask;
use tonic::Code;
use tonic::transport::Channel;

use super::{get_as, ids_in, pages};
use naskah_testkit::demo::{DEMO_PASSPHRASE, Demo, approved_letters, draft, letters, to};
use naskah_testkit::dual;
use naskah_testkit::{Db, TestServer, authed, reason};

async fn drafts_page_filter_withdraw_and_delete(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(&t, &["kasi.egov", "kadis.kominfo", "sekda", "arsiparis"]).await;
    let mut l = letters(&t);
    // Idempotent creation.
    let req = pb::CreateDraftRequest {
        drafting_position_id: d.pos("kasi.egov"),
        r#type: LetterType::Memo as i32,
        subject: "Memo idempoten".into(),
        security_level: SecurityLevel::Biasa as i32,
        urgency: Urgency::Biasa as i32,
        classification_code: "000.1".into(),
        recipients: vec![to(&d.pos("sekda"))],
        request_id: "draft-once".into(),
        ..Default::default()
    };
    let first = l
        .create_draft(authed(req.clone(), d.token("kasi.egov")))
        .await
        .expect("create")
        .into_inner();
    let again = l
        .create_draft(authed(req.clone(), d.token("kasi.egov")))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(first.id, again.id);
    // Retries sent at once: every one answers the one letter that was created
    // (the losers of the race replay the winner's response).
    let burst = pb::CreateDraftRequest {
        subject: "Memo serentak".into(),
        body: "Isi memo yang dikirim serentak.".into(),
        request_id: "draft-burst".into(),
        ..req.clone()
    };
    let mut calls = Vec::new();
    for _ in 0..6 {
        let mut c = letters(&t);
        let r = authed(burst.clone(), d.token("kasi.egov"));
        calls.push(tokio::spawn(async move { c.create_draft(r).await }));
    }
    let mut ids = Vec::new();
    for c in calls {
        ids.push(c.await.expect("join").expect("burst retry").into_inner().id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one letter for one request_id: {ids:?}");
    let listed = l
        .list_letters(authed(
            pb::ListLettersRequest {
                folder: Folder::Drafts as i32,
                query: "Memo serentak".into(),
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.letters.len(), 1);
    assert_eq!(listed.letters[0].id, ids[0]);
    assert!(listed.letters[0].body.is_empty(), "lists carry no bodies");
    let got = l
        .get_letter(authed(
            pb::GetLetterRequest {
                letter_id: ids[0].clone(),
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("get")
        .into_inner();
    assert_eq!(got.body, "Isi memo yang dikirim serentak.");
    l.delete_draft(authed(
        pb::DeleteDraftRequest {
            letter_id: got.id.clone(),
            etag: got.etag.clone(),
        },
        d.token("kasi.egov"),
    ))
    .await
    .expect("delete the burst draft");
    let e = l
        .create_draft(authed(
            pb::CreateDraftRequest {
                classification_code: "999.9".into(),
                request_id: String::new(),
                ..req.clone()
            },
            d.token("kasi.egov"),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::NotFound, "CLASSIFICATION_NOT_FOUND")
    );
    // A code found missing is not remembered as missing: once imported, the
    // same draft goes through.
    naskah::proto::records_service_client::RecordsServiceClient::new(t.channel.clone())
        .import_classifications(authed(
            pb::ImportClassificationsRequest {
                csv: "code,title,active_years,inactive_years,final_disposition,security_level\n\
                      999,Lain-lain,2,5,MUSNAH,\n\
                      999.9,Uji,,,,\n"
                    .into(),
                dry_run: false,
                request_id: String::new(),
            },
            d.token("arsiparis"),
        ))
        .await
        .expect("import 999.9");
    let known = l
        .create_draft(authed(
            pb::CreateDraftRequest {
                classification_code: "999.9".into(),
                request_id: String::new(),
                ..req.clone()
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("the imported code is known at once")
        .into_inner();
    assert_eq!(known.classification_code, "999.9");
    l.delete_draft(authed(
        pb::DeleteDraftRequest {
            letter_id: known.id.clone(),
            etag: known.etag.clone(),
        },
        d.token("kasi.egov"),
    ))
    .await
    .expect("delete the draft of the imported code");
    // A position that does not exist (in this agency or any) is refused by name.
    let e = l
        .create_draft(authed(
            pb::CreateDraftRequest {
                carbon_copies: vec![to("00000000-0000-4000-8000-000000000000")],
                request_id: String::new(),
                ..req.clone()
            },
            d.token("kasi.egov"),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::NotFound, "POSITION_NOT_FOUND")
    );
    let e = l
        .create_draft(authed(
            pb::CreateDraftRequest {
                drafting_position_id: d.pos("sekda"),
                request_id: String::new(),
                ..req.clone()
            },
            d.token("kasi.egov"),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "NOT_POSITION_HOLDER");
    for _ in 0..4 {
        draft(
            &t,
            &d,
            "kasi.egov",
            &["sekda"],
            &[],
            SecurityLevel::Biasa,
            "000.1.2",
        )
        .await;
    }
    // Keyset pages over five drafts: 2 + 2 + 1, newest first, nothing twice.
    let drafts = pages(
        &t,
        d.token("kasi.egov"),
        pb::ListLettersRequest {
            folder: Folder::Drafts as i32,
            page_size: 2,
            ..Default::default()
        },
    )
    .await;
    let seen: Vec<String> = drafts.iter().flatten().map(|x| x.id.clone()).collect();
    assert!(
        drafts.iter().flatten().all(|x| x.body.is_empty()),
        "lists carry no bodies"
    );
    assert_eq!((drafts.len(), seen.len()), (3, 5));
    let mut dedup = seen.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), 5);
    // Filters: type and urgency.
    let memos = l
        .list_letters(authed(
            pb::ListLettersRequest {
                folder: Folder::Drafts as i32,
                types: vec![LetterType::Memo as i32],
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("list")
        .into_inner()
        .letters;
    assert_eq!(
        memos.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(),
        vec![first.id.as_str()]
    );
    let urgent = l
        .list_letters(authed(
            pb::ListLettersRequest {
                folder: Folder::Drafts as i32,
                urgencies: vec![Urgency::Segera as i32],
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("list")
        .into_inner()
        .letters;
    assert_eq!(urgent.len(), 4);
    // A token of the unfiltered listing does not continue a filtered one.
    let token = l
        .list_letters(authed(
            pb::ListLettersRequest {
                folder: Folder::Drafts as i32,
                page_size: 2,
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("first page")
        .into_inner()
        .next_page_token;
    assert!(!token.is_empty());
    let e = l
        .list_letters(authed(
            pb::ListLettersRequest {
                folder: Folder::Drafts as i32,
                page_token: token,
                types: vec![LetterType::Memo as i32],
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "INVALID_PAGE_TOKEN");
    // Delete a never-submitted draft; withdraw a submitted one.
    l.delete_draft(authed(
        pb::DeleteDraftRequest {
            letter_id: first.id.clone(),
            etag: first.etag.clone(),
        },
        d.token("kasi.egov"),
    ))
    .await
    .expect("delete");
    let e = l
        .get_letter(authed(
            pb::GetLetterRequest {
                letter_id: first.id.clone(),
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let x = approved_letters(&t, &d, 1).await.remove(0);
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
    assert_eq!(reason(&e), "LETTER_NOT_EDITABLE");
    let w = l
        .withdraw_letter(authed(
            pb::WithdrawLetterRequest {
                letter_id: x.id.clone(),
                etag: x.etag.clone(),
                reason: "batal".into(),
                request_id: String::new(),
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("withdraw")
        .into_inner();
    assert_eq!(w.state, LetterState::Withdrawn as i32);
    assert!(
        !ids_in(&t, d.token("kadis.kominfo"), Folder::ToSign)
            .await
            .contains(&x.id)
    );
    let e = l
        .sign_letter(authed(
            pb::SignLetterRequest {
                letter_id: x.id.clone(),
                etag: w.etag.clone(),
                passphrase: DEMO_PASSPHRASE.into(),
                request_id: String::new(),
            },
            d.token("kadis.kominfo"),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "INVALID_STATE");
    t.stop().await;
}
dual!(drafts_page_filter_withdraw_and_delete);

/// CreateDraft answers the letter it made from the rows it wrote, not read
/// back: that answer must be exactly what GetLetter answers right after, with
/// recipients and copies in the order given (positions and an external
/// addressee), names filled, and the creator's etag. A secret letter's answer is
/// read back, recording that read.
async fn a_new_drafts_answer_is_what_get_letter_answers(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(&t, &["kasi.egov", "sekda", "kadis.kominfo"]).await;
    let mut l = letters(&t);
    let external = pb::Addressee {
        target: Some(pb::addressee::Target::External(pb::ExternalAddressee {
            organisation: "Dinas Kesehatan Provinsi".into(),
            attention: "Kepala Dinas".into(),
            ..Default::default()
        })),
        ..Default::default()
    };
    for security in [SecurityLevel::Biasa, SecurityLevel::Rahasia] {
        let made = l
            .create_draft(authed(
                pb::CreateDraftRequest {
                    drafting_position_id: d.pos("kasi.egov"),
                    r#type: LetterType::SuratDinas as i32,
                    subject: "Undangan rapat koordinasi".into(),
                    body: "Dengan hormat, kami mengundang Bapak/Ibu.".into(),
                    security_level: security as i32,
                    urgency: Urgency::Segera as i32,
                    classification_code: "000.1".into(),
                    recipients: vec![to(&d.pos("sekda")), external.clone()],
                    carbon_copies: vec![to(&d.pos("kadis.kominfo"))],
                    ..Default::default()
                },
                d.token("kasi.egov"),
            ))
            .await
            .expect("create")
            .into_inner();
        let got = l
            .get_letter(authed(
                pb::GetLetterRequest {
                    letter_id: made.id.clone(),
                    ..Default::default()
                },
                d.token("kasi.egov"),
            ))
            .await
            .expect("get")
            .into_inner();
        assert_eq!(made, got, "{security:?}");
        let names: Vec<&str> = made
            .recipients
            .iter()
            .chain(&made.carbon_copies)
            .map(|a| a.display_name.as_str())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names.iter().all(|n| !n.is_empty()), "{names:?}");
        assert!(!made.etag.is_empty() && made.body.starts_with("Dengan hormat"));
    }
    t.stop().await;
}
dual!(a_new_drafts_answer_is_what_get_letter_answers);

/// UpdateDraft honours what it is sent: `letter.etag`, when set, must equal
/// `etag`, and the subject has CreateDraft's limit of 500 characters (not
/// bytes). A refused update changes nothing.
async fn update_draft_checks_both_etags_and_the_subject_as_create_draft_does(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(&t, &["kasi.egov", "kadis.kominfo"]).await;
    let mut l = letters(&t);
    let letter = draft(
        &t,
        &d,
        "kasi.egov",
        &["kadis.kominfo"],
        &[],
        SecurityLevel::Biasa,
        "000.1.2",
    )
    .await;
    let update = |subject: String, letter_etag: &str| pb::UpdateDraftRequest {
        letter: Some(pb::Letter {
            id: letter.id.clone(),
            subject,
            etag: letter_etag.to_owned(),
            ..Default::default()
        }),
        update_mask: Some(FieldMask {
            paths: vec!["subject".into()],
        }),
        etag: letter.etag.clone(),
        request_id: String::new(),
    };
    let refused = async |l: &mut LetterServiceClient<Channel>, r: pb::UpdateDraftRequest| {
        let e = l
            .update_draft(authed(r, d.token("kasi.egov")))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
        e.message().to_owned()
    };
    // 501 characters of two bytes each: 1,002 bytes, once let through.
    let msg = refused(&mut l, update("é".repeat(501), "")).await;
    assert!(msg.contains("letter.subject"), "{msg}");
    let msg = refused(&mut l, update("Perihal baru".into(), "\"v9\"")).await;
    assert!(msg.contains("letter.etag"), "{msg}");
    let now = get_as(&t, d.token("kasi.egov"), &letter.id).await;
    assert_eq!(
        (now.subject.as_str(), now.etag.as_str()),
        (letter.subject.as_str(), letter.etag.as_str()),
        "nothing changed"
    );
    // 500 characters, and letter.etag equal to etag: accepted.
    let changed = l
        .update_draft(authed(
            update("é".repeat(500), &letter.etag),
            d.token("kasi.egov"),
        ))
        .await
        .expect("update")
        .into_inner();
    assert_eq!(changed.subject, "é".repeat(500));
    t.stop().await;
}
dual!(update_draft_checks_both_etags_and_the_subject_as_create_draft_does);
