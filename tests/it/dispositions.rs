//! Dispositions down the office hierarchy.

use naskah::proto::disposition_service_client::DispositionServiceClient;
use naskah::proto::letter_service_client::LetterServiceClient;
use naskah::proto::{self as pb, DispositionBox, DispositionStatus, SecurityLevel, Urgency};
use tonic::Code;
use tonic::transport::Channel;

use naskah_testkit::demo::{Demo, incoming_request};
use naskah_testkit::dual;
use naskah_testkit::{Db, TestServer, authed, reason};

fn disp(t: &TestServer) -> DispositionServiceClient<Channel> {
    DispositionServiceClient::new(t.channel.clone())
}

/// An incoming letter registered by `pencatat` to Kepala Dinas.
async fn incoming_to(t: &TestServer, d: &Demo, user: &str, security: SecurityLevel) -> String {
    LetterServiceClient::new(t.channel.clone())
        .register_incoming_letter(authed(
            pb::RegisterIncomingLetterRequest {
                urgency: Urgency::Segera as i32,
                ..incoming_request(
                    vec![d.pos(user)],
                    "Permintaan data aplikasi",
                    "000.1",
                    security,
                )
            },
            d.token("pencatat"),
        ))
        .await
        .expect("register")
        .into_inner()
        .id
}

fn req(
    d: &Demo,
    letter: &str,
    parent: &str,
    from: &str,
    to: &[&str],
    instr: &[&str],
) -> pb::CreateDispositionRequest {
    pb::CreateDispositionRequest {
        letter_id: letter.into(),
        parent_disposition_id: parent.into(),
        sender_position_id: d.pos(from),
        recipient_position_ids: to.iter().map(|u| d.pos(u)).collect(),
        instruction_codes: instr.iter().map(|s| s.to_string()).collect(),
        note: "Mohon segera".into(),
        urgency: Urgency::Segera as i32,
        ..Default::default()
    }
}

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

async fn acting_officials_dispose_only_inside_their_window(db: Db) {
    let clock = naskah_testkit::clock::ManualClock::new(naskah_testkit::clock::Clock::now_us(
        &naskah_testkit::clock::SystemClock,
    ));
    let t = TestServer::start_demo_with_clock(db, clock.clone()).await;
    let d = Demo::login(&t, &["pencatat", "kabid.aptika", "kasi.egov", "admin"]).await;
    let letter = incoming_to(&t, &d, "kabid.aptika", SecurityLevel::Biasa).await;
    let hour = 3_600_000_000i64;
    let now = naskah_testkit::clock::Clock::now_us(&*clock);
    let kasi_id = naskah::proto::auth_service_client::AuthServiceClient::new(t.channel.clone())
        .who_am_i(authed(pb::WhoAmIRequest {}, d.token("kasi.egov")))
        .await
        .expect("whoami")
        .into_inner()
        .user_id;
    naskah::proto::org_service_client::OrgServiceClient::new(t.channel.clone())
        .assign_position(authed(
            pb::AssignPositionRequest {
                user_id: kasi_id,
                position_id: d.pos("kabid.aptika"),
                kind: pb::AssignmentKind::Plh as i32,
                valid_from: Some(naskah_testkit::clock::to_timestamp(now + hour)),
                valid_until: Some(naskah_testkit::clock::to_timestamp(now + 2 * hour)),
                basis: "PLH".into(),
                request_id: String::new(),
            },
            d.token("admin"),
        ))
        .await
        .expect("PLH");
    let mut c = disp(&t);
    let r = req(
        &d,
        &letter,
        "",
        "kabid.aptika",
        &["kasi.egov"],
        &["TINDAK_LANJUTI"],
    );
    let e = c
        .create_disposition(authed(r.clone(), d.token("kasi.egov")))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "NOT_POSITION_HOLDER", "before the window");
    clock.advance(hour + 60_000_000);
    let kasi = t
        .login("kasi.egov", naskah_testkit::demo::DEMO_PASSWORD)
        .await;
    let made = c
        .create_disposition(authed(
            pb::CreateDispositionRequest {
                recipient_position_ids: vec![d.pos("kasi.egov")],
                ..r.clone()
            },
            &kasi,
        ))
        .await
        .expect("inside the window")
        .into_inner();
    let by = made.sent_by.expect("sent by");
    assert_eq!(
        (by.position_id.as_str(), by.assignment_kind),
        (
            d.pos("kabid.aptika").as_str(),
            pb::AssignmentKind::Plh as i32
        )
    );
    clock.advance(2 * hour);
    let kasi = t
        .login("kasi.egov", naskah_testkit::demo::DEMO_PASSWORD)
        .await;
    let e = c.create_disposition(authed(r, &kasi)).await.unwrap_err();
    assert_eq!(reason(&e), "NOT_POSITION_HOLDER", "after the window");
    t.stop().await;
}
dual!(acting_officials_dispose_only_inside_their_window);

/// The hierarchy a disposition is checked against is the current one: a
/// position created below the disposing one, then moved away, is a recipient on
/// the very next request and then no longer (the server keeps the hierarchy in
/// memory between requests).
async fn hierarchy_changes_reach_the_next_disposition(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(&t, &["pencatat", "kadis.kominfo", "kabid.ikp", "admin"]).await;
    let letter = incoming_to(&t, &d, "kadis.kominfo", SecurityLevel::Biasa).await;
    let mut c = disp(&t);
    let mut o = naskah::proto::org_service_client::OrgServiceClient::new(t.channel.clone());
    // A first disposition: the hierarchy is read (and kept).
    c.create_disposition(authed(
        req(
            &d,
            &letter,
            "",
            "kadis.kominfo",
            &["kabid.ikp"],
            &["TINDAK_LANJUTI"],
        ),
        d.token("kadis.kominfo"),
    ))
    .await
    .expect("to kabid");
    let all = o
        .list_positions(authed(
            pb::ListPositionsRequest {
                page_size: 500,
                ..Default::default()
            },
            d.token("admin"),
        ))
        .await
        .expect("positions")
        .into_inner()
        .positions;
    let kabid = all
        .iter()
        .find(|p| p.id == d.pos("kabid.ikp"))
        .expect("kabid position");
    let top = all
        .iter()
        .find(|p| p.superior_position_id.is_empty() && p.id != d.pos("kadis.kominfo"))
        .expect("a top position above kadis");
    let analis = o
        .create_position(authed(
            pb::CreatePositionRequest {
                unit_id: kabid.unit_id.clone(),
                name: "Analis Kebijakan".into(),
                superior_position_id: kabid.id.clone(),
                is_unit_head: false,
                request_id: String::new(),
            },
            d.token("admin"),
        ))
        .await
        .expect("new position")
        .into_inner();
    let to_analis = pb::CreateDispositionRequest {
        recipient_position_ids: vec![analis.id.clone()],
        ..req(&d, &letter, "", "kadis.kominfo", &[], &["TINDAK_LANJUTI"])
    };
    let made = c
        .create_disposition(authed(to_analis.clone(), d.token("kadis.kominfo")))
        .await
        .expect("a position created a moment ago is below kadis")
        .into_inner();
    assert_eq!(made.recipients.len(), 1);
    // Moved directly below the top position, which kadis is not above.
    o.update_position(authed(
        pb::UpdatePositionRequest {
            position: Some(pb::Position {
                id: analis.id.clone(),
                superior_position_id: top.id.clone(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["superior_position_id".into()],
            }),
            etag: analis.etag.clone(),
            request_id: String::new(),
        },
        d.token("admin"),
    ))
    .await
    .expect("move");
    let e = c
        .create_disposition(authed(to_analis, d.token("kadis.kominfo")))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::FailedPrecondition, "NOT_A_SUBORDINATE")
    );
    t.stop().await;
}
dual!(hierarchy_changes_reach_the_next_disposition);

async fn two_hundred_dispositions_six_levels_deep_page_and_load_at_once(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(
        &t,
        &[
            "pencatat",
            "gubernur",
            "sekda",
            "kadis.kominfo",
            "kabid.aptika",
            "kasi.egov",
            "staf.egov",
        ],
    )
    .await;
    let letter = incoming_to(&t, &d, "gubernur", SecurityLevel::Biasa).await;
    let chain = [
        "gubernur",
        "sekda",
        "kadis.kominfo",
        "kabid.aptika",
        "kasi.egov",
        "staf.egov",
    ];
    let mut c = disp(&t);
    for _ in 0..40 {
        let mut parent = String::new();
        for w in chain.windows(2) {
            let r = req(
                &d,
                if parent.is_empty() { &letter } else { "" },
                &parent,
                w[0],
                &[w[1]],
                &["TINDAK_LANJUTI"],
            );
            parent = c
                .create_disposition(authed(r, d.token(w[0])))
                .await
                .expect("dispose")
                .into_inner()
                .id;
        }
    }
    // Keyset pages of the 40 sent by the Gubernur.
    let (mut seen, mut token, mut pages) = (0, String::new(), 0);
    loop {
        let page = c
            .list_dispositions(authed(
                pb::ListDispositionsRequest {
                    r#box: DispositionBox::Sent as i32,
                    page_size: 7,
                    page_token: token.clone(),
                    ..Default::default()
                },
                d.token("gubernur"),
            ))
            .await
            .expect("page")
            .into_inner();
        seen += page.dispositions.len();
        pages += 1;
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!((seen, pages), (40, 6));
    let received = c
        .list_dispositions(authed(
            pb::ListDispositionsRequest {
                r#box: DispositionBox::Received as i32,
                page_size: 1000,
                ..Default::default()
            },
            d.token("staf.egov"),
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(received.dispositions.len(), 40);
    let tree = c
        .get_disposition_tree(authed(
            pb::GetDispositionTreeRequest {
                letter_id: letter.clone(),
            },
            d.token("gubernur"),
        ))
        .await
        .expect("tree")
        .into_inner();
    fn count(n: &pb::DispositionNode, depth: usize, max: &mut usize) -> usize {
        *max = (*max).max(depth);
        1 + n
            .children
            .iter()
            .map(|c| count(c, depth + 1, max))
            .sum::<usize>()
    }
    let mut depth = 0;
    let total: usize = tree.roots.iter().map(|r| count(r, 1, &mut depth)).sum();
    assert_eq!(
        (total, depth, tree.roots.len()),
        (200, 5, 40),
        "200 dispositions over 6 positions (5 levels of forwarding)"
    );
    t.stop().await;
}
dual!(two_hundred_dispositions_six_levels_deep_page_and_load_at_once);

/// CreateDisposition answers the disposition it sent from the rows it wrote,
/// not read back: that answer must be exactly what the sender's Sent box
/// lists right after (recipients in the read's order, whatever the order
/// given), and a disposition further down the chain likewise.
async fn a_new_dispositions_answer_is_what_the_sent_box_lists(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(
        &t,
        &[
            "pencatat",
            "kadis.kominfo",
            "kabid.aptika",
            "kabid.ikp",
            "kasi.egov",
        ],
    )
    .await;
    let letter = incoming_to(&t, &d, "kadis.kominfo", SecurityLevel::Biasa).await;
    let mut c = disp(&t);
    let sent_box = |user: &str| {
        authed(
            pb::ListDispositionsRequest {
                r#box: DispositionBox::Sent as i32,
                ..Default::default()
            },
            d.token(user),
        )
    };
    let due = prost_types::Timestamp {
        seconds: 4_000_000_000,
        nanos: 0,
    };
    let mut to_two = req(
        &d,
        &letter,
        "",
        "kadis.kominfo",
        &["kabid.ikp", "kabid.aptika"],
        &["TINDAK_LANJUTI", "SIAPKAN_JAWABAN"],
    );
    to_two.due_time = Some(due);
    // Given against the read's order (by position id), so the answer must sort.
    to_two.recipient_position_ids.sort_by(|a, b| b.cmp(a));
    let made = c
        .create_disposition(authed(to_two, d.token("kadis.kominfo")))
        .await
        .expect("dispose")
        .into_inner();
    let listed = c
        .list_dispositions(sent_box("kadis.kominfo"))
        .await
        .expect("sent box")
        .into_inner()
        .dispositions;
    assert_eq!(listed, vec![made.clone()]);
    assert_eq!(made.recipients.len(), 2);
    assert!(!made.etag.is_empty() && made.sent_by.is_some() && !made.overdue);
    let down = c
        .create_disposition(authed(
            req(
                &d,
                "",
                &made.id,
                "kabid.aptika",
                &["kasi.egov"],
                &["TINDAK_LANJUTI"],
            ),
            d.token("kabid.aptika"),
        ))
        .await
        .expect("dispose down")
        .into_inner();
    let listed = c
        .list_dispositions(sent_box("kabid.aptika"))
        .await
        .expect("sent box")
        .into_inner()
        .dispositions;
    assert_eq!(listed, vec![down.clone()]);
    assert_eq!(down.parent_disposition_id, made.id);
    t.stop().await;
}
dual!(a_new_dispositions_answer_is_what_the_sent_box_lists);
