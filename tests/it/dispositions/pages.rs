//! Many dispositions: two hundred six levels deep paged and loaded at once,
//! and a new disposition's answer against the sent box.

use naskah::proto::{self as pb, DispositionBox, SecurityLevel};

use super::{disp, incoming_to, req};
use naskah_testkit::demo::Demo;
use naskah_testkit::dual;
use naskah_testkit::{Db, TestServer, authed};

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
