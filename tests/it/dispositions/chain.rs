//! A letter disposed four levels down: drafted by the head's secretary,
//! confirmed by the head, passed down, reported done, and seen as a tree.

use naskah::proto::letter_service_client::LetterServiceClient;
use naskah::proto::{self as pb, DispositionBox, DispositionStatus, SecurityLevel, Urgency};
use tonic::Code;

use super::{disp, incoming_to, req};
use naskah_testkit::demo::Demo;
use naskah_testkit::dual;
use naskah_testkit::{Db, TestServer, authed, reason};

async fn a_letter_is_disposed_four_levels_down(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(
        &t,
        &[
            "pencatat",
            "tu.kominfo",
            "kadis.kominfo",
            "kabid.aptika",
            "kasi.egov",
            "staf.egov",
            "kabid.ikp",
            "sekda",
        ],
    )
    .await;
    let letter = incoming_to(&t, &d, "kadis.kominfo", SecurityLevel::Rahasia).await;
    let mut c = disp(&t);
    let instr = c
        .list_instructions(authed(pb::ListInstructionsRequest {}, d.token("staf.egov")))
        .await
        .expect("instructions")
        .into_inner()
        .instructions;
    assert!(
        instr
            .iter()
            .any(|i| i.code == "SIAPKAN_JAWABAN" && i.text == "Siapkan jawaban")
    );

    // The secretary drafts for Kepala Dinas; the head confirms with one call.
    let drafted = c
        .draft_disposition(authed(
            pb::DraftDispositionRequest {
                letter_id: letter.clone(),
                for_position_id: d.pos("kadis.kominfo"),
                recipient_position_ids: vec![d.pos("kabid.aptika")],
                instruction_codes: vec!["TINDAK_LANJUTI".into()],
                note: "Disiapkan TU".into(),
                urgency: Urgency::Segera as i32,
                ..Default::default()
            },
            d.token("tu.kominfo"),
        ))
        .await
        .expect("draft")
        .into_inner();
    assert_eq!(
        drafted.recipients[0].status,
        DispositionStatus::Draft as i32
    );
    let received = c
        .list_dispositions(authed(
            pb::ListDispositionsRequest {
                r#box: DispositionBox::Received as i32,
                ..Default::default()
            },
            d.token("kabid.aptika"),
        ))
        .await
        .expect("list")
        .into_inner();
    assert!(received.dispositions.is_empty(), "a draft reaches nobody");
    let drafts = c
        .list_dispositions(authed(
            pb::ListDispositionsRequest {
                r#box: DispositionBox::Drafts as i32,
                ..Default::default()
            },
            d.token("kadis.kominfo"),
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(drafts.dispositions.len(), 1);
    let e = c
        .confirm_disposition(authed(
            pb::ConfirmDispositionRequest {
                disposition_id: drafted.id.clone(),
                etag: drafted.etag.clone(),
                ..Default::default()
            },
            d.token("tu.kominfo"),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        Code::NotFound,
        "the secretary cannot confirm for the head"
    );
    let mut watch = LetterServiceClient::new(t.channel.clone())
        .watch_inbox(authed(
            pb::WatchInboxRequest::default(),
            d.token("kabid.aptika"),
        ))
        .await
        .expect("watch")
        .into_inner();
    let top = c
        .confirm_disposition(authed(
            pb::ConfirmDispositionRequest {
                disposition_id: drafted.id.clone(),
                etag: drafted.etag.clone(),
                ..Default::default()
            },
            d.token("kadis.kominfo"),
        ))
        .await
        .expect("confirm")
        .into_inner();
    assert_eq!(top.recipients[0].status, DispositionStatus::Unread as i32);
    let event = tokio::time::timeout(std::time::Duration::from_secs(10), watch.message())
        .await
        .expect("an event in time")
        .expect("stream")
        .expect("event");
    assert_eq!(
        (event.kind, event.disposition_id.as_str()),
        (
            pb::InboxEventKind::DispositionReceived as i32,
            top.id.as_str()
        )
    );
    drop(watch);
    assert_eq!(
        top.sent_by.as_ref().map(|a| a.position_id.as_str()),
        Some(d.pos("kadis.kominfo").as_str())
    );

    // Down the chain; the R letter becomes visible to each recipient.
    let l2 = c
        .create_disposition(authed(
            req(
                &d,
                "",
                &top.id,
                "kabid.aptika",
                &["kasi.egov"],
                &["SIAPKAN_JAWABAN"],
            ),
            d.token("kabid.aptika"),
        ))
        .await
        .expect("level 2")
        .into_inner();
    let l3 = c
        .create_disposition(authed(
            req(
                &d,
                "",
                &l2.id,
                "kasi.egov",
                &["staf.egov"],
                &["TINDAK_LANJUTI"],
            ),
            d.token("kasi.egov"),
        ))
        .await
        .expect("level 3")
        .into_inner();
    LetterServiceClient::new(t.channel.clone())
        .get_letter(authed(
            pb::GetLetterRequest {
                letter_id: letter.clone(),
                ..Default::default()
            },
            d.token("staf.egov"),
        ))
        .await
        .expect("the disposed R letter is visible to staf");
    let e = LetterServiceClient::new(t.channel.clone())
        .get_letter(authed(
            pb::GetLetterRequest {
                letter_id: letter.clone(),
                ..Default::default()
            },
            d.token("kabid.ikp"),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "but not to anyone else");
    let respond = pb::RespondToDispositionRequest {
        disposition_id: l3.id.clone(),
        status: DispositionStatus::Done as i32,
        note: "Data sudah dikirim".into(),
        request_id: "done-1".into(),
        ..Default::default()
    };
    let done = c
        .respond_to_disposition(authed(respond.clone(), d.token("staf.egov")))
        .await
        .expect("done")
        .into_inner();
    let again = c
        .respond_to_disposition(authed(respond, d.token("staf.egov")))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(done.recipients[0].responses.len(), 1);
    assert_eq!(
        again.recipients[0].responses.len(),
        1,
        "the retry added nothing"
    );

    // Kepala Dinas sees the whole tree with the right statuses, in one call.
    let tree = c
        .get_disposition_tree(authed(
            pb::GetDispositionTreeRequest {
                letter_id: letter.clone(),
            },
            d.token("kadis.kominfo"),
        ))
        .await
        .expect("tree")
        .into_inner();
    assert_eq!(tree.roots.len(), 1);
    let mut node = &tree.roots[0];
    let mut levels = vec![];
    loop {
        let dd = node.disposition.as_ref().expect("disposition");
        levels.push((dd.sender_position_id.clone(), dd.recipients[0].status));
        match node.children.first() {
            Some(c) => node = c,
            None => break,
        }
    }
    assert_eq!(
        levels,
        vec![
            (d.pos("kadis.kominfo"), DispositionStatus::Unread as i32),
            (d.pos("kabid.aptika"), DispositionStatus::Unread as i32),
            (d.pos("kasi.egov"), DispositionStatus::Done as i32),
        ]
    );
    assert_eq!(
        node.disposition
            .as_ref()
            .map(|x| x.recipients[0].position_id.clone()),
        Some(d.pos("staf.egov")),
        "the fourth level is staf.egov"
    );
    // Field for field, the tree's last node is the disposition as its report
    // left it (the report's answer is built from the rows the write read).
    assert_eq!(node.disposition.as_ref(), Some(&done));
    assert_eq!(done.recipients[0].responses[0].note, "Data sudah dikirim");
    // Kasi sees only its own branch.
    let kasi_tree = c
        .get_disposition_tree(authed(
            pb::GetDispositionTreeRequest {
                letter_id: letter.clone(),
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("tree")
        .into_inner();
    assert_eq!(kasi_tree.roots.len(), 1);
    assert_eq!(
        kasi_tree.roots[0]
            .disposition
            .as_ref()
            .map(|x| x.id.clone()),
        Some(l2.id.clone())
    );
    // The tree of a secret letter someone has no part in, and of a letter that
    // does not exist, are the same refusal.
    for id in [letter.clone(), uuid::Uuid::new_v4().to_string()] {
        let e = c
            .get_disposition_tree(authed(
                pb::GetDispositionTreeRequest { letter_id: id },
                d.token("kabid.ikp"),
            ))
            .await
            .unwrap_err();
        assert_eq!(
            (e.code(), reason(&e).as_str()),
            (Code::NotFound, "LETTER_NOT_FOUND")
        );
    }

    // Refusals.
    let e = c
        .create_disposition(authed(
            req(
                &d,
                &letter,
                "",
                "kadis.kominfo",
                &["sekda"],
                &["TINDAK_LANJUTI"],
            ),
            d.token("kadis.kominfo"),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::FailedPrecondition, "NOT_A_SUBORDINATE")
    );
    let e = c
        .create_disposition(authed(
            req(
                &d,
                "",
                &l2.id,
                "kasi.egov",
                &["kabid.ikp"],
                &["TINDAK_LANJUTI"],
            ),
            d.token("kasi.egov"),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "NOT_A_SUBORDINATE");
    let e = c
        .create_disposition(authed(
            req(
                &d,
                &letter,
                "",
                "kabid.ikp",
                &["staf.egov"],
                &["TINDAK_LANJUTI"],
            ),
            d.token("kabid.ikp"),
        ))
        .await
        .unwrap_err();
    // A letter the disposing position takes no part in does not exist for it.
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::NotFound, "LETTER_NOT_FOUND")
    );
    let e = c
        .create_disposition(authed(
            req(&d, &letter, "", "kadis.kominfo", &["kabid.ikp"], &["BAKAR"]),
            d.token("kadis.kominfo"),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "UNKNOWN_INSTRUCTION");
    // Cancel: allowed while unread, refused after a read.
    let extra = c
        .create_disposition(authed(
            req(
                &d,
                &letter,
                "",
                "kadis.kominfo",
                &["kabid.ikp"],
                &["UNTUK_DIKETAHUI"],
            ),
            d.token("kadis.kominfo"),
        ))
        .await
        .expect("extra")
        .into_inner();
    c.mark_disposition_read(authed(
        pb::MarkDispositionReadRequest {
            disposition_id: extra.id.clone(),
            position_id: String::new(),
        },
        d.token("kabid.ikp"),
    ))
    .await
    .expect("read");
    let e = c
        .cancel_disposition(authed(
            pb::CancelDispositionRequest {
                disposition_id: extra.id.clone(),
                etag: extra.etag.clone(),
                ..Default::default()
            },
            d.token("kadis.kominfo"),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::FailedPrecondition, "ALREADY_READ")
    );
    let cancellable = c
        .create_disposition(authed(
            req(
                &d,
                &letter,
                "",
                "kadis.kominfo",
                &["kabid.ikp"],
                &["UNTUK_DIKETAHUI"],
            ),
            d.token("kadis.kominfo"),
        ))
        .await
        .expect("another")
        .into_inner();
    let cancelled = c
        .cancel_disposition(authed(
            pb::CancelDispositionRequest {
                disposition_id: cancellable.id.clone(),
                etag: cancellable.etag.clone(),
                ..Default::default()
            },
            d.token("kadis.kominfo"),
        ))
        .await
        .expect("cancel")
        .into_inner();
    assert!(cancelled.cancelled);
    t.stop().await;
}
dual!(a_letter_is_disposed_four_levels_down);
