//! The letters' reads and folder writes of the store: the one-statement
//! detail reads against the tables they read, and several folder entries of
//! one letter written as one statement. The letters are made through the
//! contract; what the tables hold is read through the store.

use naskah::proto::{self as pb, SecurityLevel};
use naskah_testkit::demo::{Demo, draft, letters, registered, routed, signed, submitted};
use naskah_testkit::{Db, TestServer, authed, dual};
use sha2::Digest;

/// The one-statement detail read of a page returns what the four tables hold,
/// row for row, for every letter in the database.
async fn details_match_the_tables(t: &TestServer, with_attachments: bool) {
    use naskah::store::{attachments, letters as q};
    use sea_orm::ConnectionTrait;
    let db = t.store().reader();
    let ids: Vec<String> = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM letter ORDER BY id",
        ))
        .await
        .expect("ids")
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).expect("id"))
        .collect();
    assert!(!ids.is_empty());
    let d = q::details_of(t.store(), &ids).await.expect("details");
    assert_eq!(d.steps, q::steps_of(db, &ids).await.expect("steps"));
    assert_eq!(
        d.addressees,
        q::addressees_of(db, &ids).await.expect("addressees")
    );
    let mut receipts = q::receipts_of(db, &ids).await.expect("receipts");
    receipts.sort();
    let mut got = d.receipts.clone();
    got.sort();
    assert_eq!(got, receipts);
    let mut files = attachments::list_of(db, &ids).await.expect("files");
    files.sort_by(|a, b| a.letter_id.cmp(&b.letter_id));
    assert_eq!(d.attachments, files);
    if with_attachments {
        assert!(!d.attachments.is_empty() && !d.addressees.is_empty());
    } else {
        assert!(!d.steps.is_empty() && !d.addressees.is_empty() && !d.receipts.is_empty());
    }
    // A letter with its details (GetLetter's read; one statement on
    // PostgreSQL) is the letter and its details read apart; a letter the caller
    // may not see comes without them.
    for id in &ids {
        assert!(
            q::letter_for(t.store(), "", id, &[])
                .await
                .expect("letter")
                .is_none(),
            "another agency's letter is not found"
        );
        let row = db
            .query_one_raw(sea_orm::Statement::from_sql_and_values(
                db.get_database_backend(),
                match db.get_database_backend() {
                    sea_orm::DbBackend::Postgres => {
                        "SELECT agency_id, drafting_position_id FROM letter WHERE id = $1"
                    }
                    _ => "SELECT agency_id, drafting_position_id FROM letter WHERE id = ?",
                },
                [id.as_str().into()],
            ))
            .await
            .expect("letter row")
            .expect("there");
        let agency: String = row.try_get_by_index(0).expect("agency id");
        let drafter: String = row.try_get_by_index(1).expect("drafter id");
        for positions in [vec![], vec!["nobody".to_owned(), drafter]] {
            let alone = q::letter_for(t.store(), &agency, id, &positions)
                .await
                .expect("letter")
                .expect("there");
            // The same read inside a write transaction (one statement on
            // PostgreSQL, the letter and its folder entry apart on SQLite).
            let tx = t.store().begin_write().await.expect("tx");
            let within = q::letter_for_in(&tx, &agency, id, &positions)
                .await
                .expect("letter in a transaction");
            let elsewhere = q::letter_for_in(&tx, "", id, &positions)
                .await
                .expect("letter in a transaction");
            tx.rollback().await;
            assert_eq!(within, Some(alone.clone()));
            assert_eq!(elsewhere, None, "another agency's letter is not found");
            let details = q::details_of(t.store(), std::slice::from_ref(id))
                .await
                .expect("details");
            let both = q::letter_for_with_details(t.store(), &agency, id, &positions, |_, _| true)
                .await
                .expect("letter with details")
                .expect("there");
            assert_eq!(both, (alone.0.clone(), alone.1, details));
            let hidden =
                q::letter_for_with_details(t.store(), &agency, id, &positions, |_, _| false)
                    .await
                    .expect("letter without details")
                    .expect("there");
            assert_eq!(hidden, (alone.0, alone.1, q::LetterDetails::default()));
        }
    }
}

/// A letter drafted by kasi.egov to sekda with kabid.ikp in copy, routed
/// through kabid.aptika to kadis.kominfo, approved, signed and read by its
/// recipient and its copy; another left a draft; an incoming letter read by
/// kadis.kominfo. Every letter's details, read in one statement, are what the
/// tables hold.
async fn detail_reads_match_the_tables_of_routed_signed_and_read_letters(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(
        &t,
        &[
            "kasi.egov",
            "kabid.aptika",
            "kadis.kominfo",
            "sekda",
            "kabid.ikp",
            "pencatat",
        ],
    )
    .await;
    let mut l = letters(&t);
    let x = draft(
        &t,
        &d,
        "kasi.egov",
        &["sekda"],
        &["kabid.ikp"],
        SecurityLevel::Biasa,
        "000.1.1",
    )
    .await;
    let x = routed(&t, &d, &x).await;
    let x = submitted(&t, &d, &x).await;
    let x = l
        .approve_letter(authed(
            pb::ApproveLetterRequest {
                letter_id: x.id.clone(),
                etag: x.etag.clone(),
                ..Default::default()
            },
            d.token("kabid.aptika"),
        ))
        .await
        .expect("approve")
        .into_inner();
    let x = signed(&t, &d, &x).await;
    for reader in ["sekda", "kabid.ikp"] {
        l.mark_read(authed(
            pb::MarkReadRequest {
                letter_id: x.id.clone(),
                position_id: d.pos(reader),
            },
            d.token(reader),
        ))
        .await
        .expect("mark read");
    }
    draft(
        &t,
        &d,
        "kasi.egov",
        &["kadis.kominfo"],
        &[],
        SecurityLevel::Biasa,
        "000.1.2",
    )
    .await;
    let incoming = registered(
        &t,
        &d,
        &["kadis.kominfo"],
        "Permintaan data aplikasi",
        "000.1",
        SecurityLevel::Biasa,
    )
    .await;
    l.mark_read(authed(
        pb::MarkReadRequest {
            letter_id: incoming.id.clone(),
            position_id: d.pos("kadis.kominfo"),
        },
        d.token("kadis.kominfo"),
    ))
    .await
    .expect("mark read");
    details_match_the_tables(&t, false).await;
    t.stop().await;
}
dual!(detail_reads_match_the_tables_of_routed_signed_and_read_letters);

/// An incoming letter with a scan registered by pencatat for kadis.kominfo:
/// its details, attachments included, read in one statement, are what the
/// tables hold.
async fn detail_reads_match_the_tables_of_an_incoming_letter_with_a_scan(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(&t, &["pencatat", "kadis.kominfo"]).await;
    let mut l = letters(&t);
    let incoming = registered(
        &t,
        &d,
        &["kadis.kominfo"],
        "Undangan rapat koordinasi SPBE",
        "000.1",
        SecurityLevel::Biasa,
    )
    .await;
    let scan: Vec<u8> = [b"%PDF-1.4\n".as_slice(), &vec![b'x'; 200_000]].concat();
    let mut msgs = vec![pb::UploadAttachmentRequest {
        part: Some(pb::upload_attachment_request::Part::Metadata(
            pb::UploadAttachmentMetadata {
                letter_id: incoming.id.clone(),
                file_name: "scan.pdf".into(),
                media_type: "application/pdf".into(),
                size_bytes: scan.len() as i64,
                sha256: hex::encode(sha2::Sha256::digest(&scan)),
                is_scan: true,
                request_id: String::new(),
            },
        )),
    }];
    for c in scan.chunks(64 * 1024) {
        msgs.push(pb::UploadAttachmentRequest {
            part: Some(pb::upload_attachment_request::Part::Chunk(c.to_vec())),
        });
    }
    l.upload_attachment(authed(tokio_stream::iter(msgs), d.token("pencatat")))
        .await
        .expect("upload");
    details_match_the_tables(&t, true).await;
    t.stop().await;
}
dual!(detail_reads_match_the_tables_of_an_incoming_letter_with_a_scan);

/// Several folder entries of one letter go in as one statement: a new entry
/// is added, one already there only moves to the new time (its read time
/// kept), and an entry named twice is put once.
async fn folder_entries_of_one_letter_go_in_together(db: Db) {
    use naskah::store::letters::{self as q, Folder};
    use sea_orm::ConnectionTrait;
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(&t, &["kasi.egov", "sekda"]).await;
    let l = draft(
        &t,
        &d,
        "kasi.egov",
        &[],
        &[],
        SecurityLevel::Biasa,
        "000.1.1",
    )
    .await;
    let raw = t.store().reader();
    let backend = raw.get_database_backend();
    let query = |sql: String| sea_orm::Statement::from_string(backend, sql);
    let entries = || async {
        let rows = raw
            .query_all_raw(query(format!(
                "SELECT position_id, CAST(folder AS BIGINT), sort_us, read_at_us, agency_id \
                 FROM letter_box WHERE letter_id = '{}' ORDER BY position_id, folder",
                l.id
            )))
            .await
            .expect("entries");
        rows.iter()
            .map(|r| {
                (
                    r.try_get_by_index::<String>(0).expect("position"),
                    r.try_get_by_index::<i64>(1).expect("folder"),
                    r.try_get_by_index::<i64>(2).expect("sort"),
                    r.try_get_by_index::<Option<i64>>(3).expect("read"),
                    r.try_get_by_index::<String>(4).expect("agency"),
                )
            })
            .collect::<Vec<_>>()
    };
    let (own, other) = (d.pos("kasi.egov"), d.pos("sekda"));
    let all = i64::from(i16::from(Folder::All));
    // The draft is in its drafter's DRAFTS and ALL folders, and nowhere else.
    let before = entries().await;
    assert_eq!(before.len(), 2, "{before:?}");
    assert!(before.iter().all(|e| e.0 == own), "{before:?}");
    let agency = before[0].4.clone();
    raw.execute_raw(query(format!(
        "UPDATE letter_box SET read_at_us = 7 WHERE letter_id = '{}' AND folder = {all}",
        l.id
    )))
    .await
    .expect("mark read");
    let later = before[0].2 + 1_000;
    let st = q::box_put_many_stmt(
        backend,
        &agency,
        &[
            (own.as_str(), Folder::All),
            (other.as_str(), Folder::All),
            (own.as_str(), Folder::All),
        ],
        &l.id,
        later,
    )
    .expect("a statement");
    raw.execute_raw(st).await.expect("put");
    let after = entries().await;
    assert_eq!(after.len(), 3, "one entry added: {after:?}");
    assert!(
        after.contains(&(own.clone(), all, later, Some(7), agency.clone())),
        "moved, its read time kept: {after:?}"
    );
    assert!(
        after.contains(&(other.clone(), all, later, None, agency.clone())),
        "added: {after:?}"
    );
    let untouched: Vec<_> = before.iter().filter(|e| e.1 != all).collect();
    assert!(
        untouched.iter().all(|e| after.contains(e)),
        "the other folder unchanged: {after:?}"
    );
    assert!(q::box_put_many_stmt(backend, &agency, &[], &l.id, 1).is_none());
    t.stop().await;
}
dual!(folder_entries_of_one_letter_go_in_together);
