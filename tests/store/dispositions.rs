//! The disposition tree's one statement against the entity reads of its three
//! tables. The tree is made through the contract as a head's secretary and
//! the chain below make it; the rows are read through the store.

use naskah::proto::disposition_service_client::DispositionServiceClient;
use naskah::proto::{self as pb, DispositionStatus, SecurityLevel, Urgency};
use naskah_testkit::demo::{Demo, incoming_request, letters};
use naskah_testkit::{Db, TestServer, authed, dual};

/// A disposition from `from` to `to` under `parent`.
fn req(d: &Demo, parent: &str, from: &str, to: &str, instr: &str) -> pb::CreateDispositionRequest {
    pb::CreateDispositionRequest {
        parent_disposition_id: parent.into(),
        sender_position_id: d.pos(from),
        recipient_position_ids: vec![d.pos(to)],
        instruction_codes: vec![instr.into()],
        note: "Mohon segera".into(),
        urgency: Urgency::Segera as i32,
        ..Default::default()
    }
}

/// A secret incoming letter to kadis.kominfo, disposed four levels down: the
/// secretary drafts the first disposition for the head, who confirms it;
/// kabid.aptika and kasi.egov dispose further, and staf.egov reads the
/// letter and reports it done.
async fn the_tree_statement_reads_what_the_entity_reads_read(db: Db) {
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
        ],
    )
    .await;
    let letter = letters(&t)
        .register_incoming_letter(authed(
            pb::RegisterIncomingLetterRequest {
                urgency: Urgency::Segera as i32,
                ..incoming_request(
                    vec![d.pos("kadis.kominfo")],
                    "Permintaan data aplikasi",
                    "000.1",
                    SecurityLevel::Rahasia,
                )
            },
            d.token("pencatat"),
        ))
        .await
        .expect("register")
        .into_inner()
        .id;
    let mut c = DispositionServiceClient::new(t.channel.clone());
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
    let l2 = c
        .create_disposition(authed(
            req(&d, &top.id, "kabid.aptika", "kasi.egov", "SIAPKAN_JAWABAN"),
            d.token("kabid.aptika"),
        ))
        .await
        .expect("level 2")
        .into_inner();
    let l3 = c
        .create_disposition(authed(
            req(&d, &l2.id, "kasi.egov", "staf.egov", "TINDAK_LANJUTI"),
            d.token("kasi.egov"),
        ))
        .await
        .expect("level 3")
        .into_inner();
    letters(&t)
        .get_letter(authed(
            pb::GetLetterRequest {
                letter_id: letter.clone(),
                ..Default::default()
            },
            d.token("staf.egov"),
        ))
        .await
        .expect("the disposed letter is visible to staf");
    c.respond_to_disposition(authed(
        pb::RespondToDispositionRequest {
            disposition_id: l3.id.clone(),
            status: DispositionStatus::Done as i32,
            note: "Data sudah dikirim".into(),
            request_id: "done-1".into(),
            ..Default::default()
        },
        d.token("staf.egov"),
    ))
    .await
    .expect("done");
    c.get_disposition_tree(authed(
        pb::GetDispositionTreeRequest {
            letter_id: letter.clone(),
        },
        d.token("kadis.kominfo"),
    ))
    .await
    .expect("tree");

    // The tree's one statement gives the rows the entity reads of the three
    // tables give, column for column (also those no answer shows).
    {
        use naskah::store::dispositions as q;
        let db = t.store().reader();
        let mut ds = q::of_letter(db, &letter).await.expect("dispositions");
        let ids: Vec<String> = ds.iter().map(|x| x.id.clone()).collect();
        let mut rs = q::recipients_of(db, &ids).await.expect("recipients");
        let mut ps = q::responses_of(db, &ids).await.expect("responses");
        ds.sort_by(|a, b| (a.created_at_us, &a.id).cmp(&(b.created_at_us, &b.id)));
        rs.sort_by(|a, b| {
            (&a.position_id, &a.disposition_id).cmp(&(&b.position_id, &b.disposition_id))
        });
        ps.sort_by(|a, b| (a.created_at_us, &a.id).cmp(&(b.created_at_us, &b.id)));
        assert_eq!((ds.len(), rs.len(), ps.len()), (3, 3, 1));
        assert!(
            rs.iter()
                .any(|r| r.read_at_us.is_some() && r.due_us.is_none())
        );
        let tree = q::tree_for(t.store(), &ds[0].agency_id, &letter, &[], |_, _| true)
            .await
            .expect("tree")
            .expect("the letter is there");
        assert_eq!(tree, (ds, rs, ps));
    }
    t.stop().await;
}
dual!(the_tree_statement_reads_what_the_entity_reads_read);
