//! Who sees a letter: secret letters only to their participants, and a
//! letter in two of the caller's inboxes listed once.

use naskah::proto::audit_service_client::AuditServiceClient;
use naskah::proto::verification_service_client::VerificationServiceClient;
use naskah::proto::{self as pb, Folder, SecurityLevel};
use tonic::Code;

use super::{ids_in, pages};
use naskah_testkit::demo::{Demo, draft, incoming_request, letters, signed, submitted};
use naskah_testkit::dual;
use naskah_testkit::{Db, TestServer, authed, reason};

async fn secret_letters_are_invisible_to_non_participants(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(
        &t,
        &[
            "kasi.egov",
            "kadis.kominfo",
            "sekda",
            "staf.egov",
            "kabid.ikp",
            "auditor",
        ],
    )
    .await;
    let mut l = letters(&t);
    let mut make = async |security: SecurityLevel| {
        let x = draft(&t, &d, "kasi.egov", &["sekda"], &[], security, "800.3.4").await;
        let x = l
            .set_route(authed(
                pb::SetRouteRequest {
                    letter_id: x.id.clone(),
                    signer_position_id: d.pos("kadis.kominfo"),
                    etag: x.etag.clone(),
                    ..Default::default()
                },
                d.token("kasi.egov"),
            ))
            .await
            .expect("route")
            .into_inner();
        let x = submitted(&t, &d, &x).await;
        signed(&t, &d, &x).await
    };
    let secret = make(SecurityLevel::Rahasia).await;
    let ordinary = make(SecurityLevel::Biasa).await;
    for outsider in ["staf.egov", "kabid.ikp"] {
        for folder in [
            Folder::Inbox,
            Folder::Cc,
            Folder::Drafts,
            Folder::ToReview,
            Folder::ToSign,
            Folder::Sent,
            Folder::AllVisible,
        ] {
            assert!(
                !ids_in(&t, d.token(outsider), folder)
                    .await
                    .contains(&secret.id),
                "{outsider} sees it in {folder:?}"
            );
        }
        let e = l
            .get_letter(authed(
                pb::GetLetterRequest {
                    letter_id: secret.id.clone(),
                    ..Default::default()
                },
                d.token(outsider),
            ))
            .await
            .unwrap_err();
        assert_eq!(
            (e.code(), reason(&e).as_str()),
            (Code::NotFound, "LETTER_NOT_FOUND")
        );
        let e = l
            .get_signed_document(authed(
                pb::GetSignedDocumentRequest {
                    letter_id: secret.id.clone(),
                },
                d.token(outsider),
            ))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::NotFound);
        // An ordinary sent letter is no different: roles and the agency
        // grant no read; only taking part does.
        let e = l
            .get_letter(authed(
                pb::GetLetterRequest {
                    letter_id: ordinary.id.clone(),
                    ..Default::default()
                },
                d.token(outsider),
            ))
            .await
            .unwrap_err();
        assert_eq!(
            (e.code(), reason(&e).as_str(), e.message()),
            (Code::NotFound, "LETTER_NOT_FOUND", "letter not found"),
            "ordinary letter read by {outsider}"
        );
    }
    // Participants read it, and each read is audited; the public check shows no subject.
    let got = l
        .get_letter(authed(
            pb::GetLetterRequest {
                letter_id: secret.id.clone(),
                ..Default::default()
            },
            d.token("sekda"),
        ))
        .await
        .expect("recipient reads")
        .into_inner();
    assert_eq!(got.security_level, SecurityLevel::Rahasia as i32);
    assert!(
        ids_in(&t, d.token("sekda"), Folder::AllVisible)
            .await
            .contains(&secret.id)
    );
    let events = AuditServiceClient::new(t.channel.clone())
        .list_audit_events(authed(
            pb::ListAuditEventsRequest {
                resource_id: secret.id.clone(),
                action: "/naskah.v1.LetterService/GetLetter".into(),
                ..Default::default()
            },
            d.token("auditor"),
        ))
        .await
        .expect("events")
        .into_inner()
        .events;
    assert_eq!(events.len(), 1, "one audited read of the secret letter");
    let public = VerificationServiceClient::new(t.channel.clone())
        .verify_letter(pb::VerifyLetterRequest {
            verification_code: secret.verification_code.clone(),
        })
        .await
        .expect("verify")
        .into_inner();
    assert!(public.valid && public.subject.is_empty());
    t.stop().await;
}
dual!(secret_letters_are_invisible_to_non_participants);

/// A letter in the inboxes of two positions the caller sees (their own and the
/// one they serve as secretary) is listed once, with its details.
async fn a_letter_in_two_of_the_callers_inboxes_is_listed_once(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(&t, &["pencatat", "kadis.kominfo", "tu.kominfo"]).await;
    let mut l = letters(&t);
    let both = vec![d.pos("kadis.kominfo"), d.pos("tu.kominfo")];
    let id = l
        .register_incoming_letter(authed(
            incoming_request(
                both.clone(),
                "Undangan rapat koordinasi",
                "000.1",
                SecurityLevel::Biasa,
            ),
            d.token("pencatat"),
        ))
        .await
        .expect("register")
        .into_inner()
        .id;
    let page = l
        .list_letters(authed(
            pb::ListLettersRequest {
                folder: Folder::Inbox as i32,
                ..Default::default()
            },
            d.token("tu.kominfo"),
        ))
        .await
        .expect("inbox")
        .into_inner()
        .letters;
    let listed: Vec<&pb::Letter> = page.iter().filter(|x| x.id == id).collect();
    assert_eq!(listed.len(), 1, "one entry for the letter");
    let recipients: Vec<String> = listed[0]
        .recipients
        .iter()
        .filter_map(|a| match &a.target {
            Some(pb::addressee::Target::PositionId(p)) => Some(p.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(recipients, both, "its details came with it");

    // Pages merged from the two inboxes: newest first, each letter once, across
    // page tokens too, with and without a filter.
    let mut registered = Vec::new();
    for (k, to) in [both.clone(), vec![both[0].clone()], vec![both[1].clone()]]
        .into_iter()
        .cycle()
        .take(5)
        .enumerate()
    {
        let id = l
            .register_incoming_letter(authed(
                incoming_request(to, &format!("Surat ke-{k}"), "000.1", SecurityLevel::Biasa),
                d.token("pencatat"),
            ))
            .await
            .expect("register")
            .into_inner()
            .id;
        registered.push(id);
    }
    registered.reverse();
    for unread_only in [false, true] {
        let inbox = pages(
            &t,
            d.token("tu.kominfo"),
            pb::ListLettersRequest {
                folder: Folder::Inbox as i32,
                page_size: 2,
                unread_only,
                ..Default::default()
            },
        )
        .await;
        assert!(inbox.iter().all(|p| p.len() <= 2));
        let seen: Vec<String> = inbox.into_iter().flatten().map(|x| x.id).collect();
        assert_eq!(
            seen[..5],
            registered[..],
            "newest first (unread_only {unread_only})"
        );
        let mut once = seen.clone();
        once.sort();
        once.dedup();
        assert_eq!(once.len(), seen.len(), "each letter once");
        assert!(seen.contains(&id));
    }
    t.stop().await;
}
dual!(a_letter_in_two_of_the_callers_inboxes_is_listed_once);
