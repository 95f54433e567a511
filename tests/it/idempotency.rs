//! Retries with a `request_id` (AIP-155): a retry is answered what the first
//! call answered, even after the resource has moved on, and changes nothing.

use naskah::proto::disposition_service_client::DispositionServiceClient;
use naskah::proto::{self as pb, DispositionStatus, LetterState, SecurityLevel, Urgency};

use naskah_testkit::demo::{Demo, draft, incoming_request, letters, routed, signed};
use naskah_testkit::dual;
use naskah_testkit::{Db, TestServer, authed, inspect};

async fn a_retry_is_answered_the_first_response(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(
        &t,
        &[
            "kasi.egov",
            "kabid.aptika",
            "kadis.kominfo",
            "pencatat",
            "sekda",
        ],
    )
    .await;
    let mut l = letters(&t);
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
    let x = routed(&t, &d, &x).await;
    let submit = pb::SubmitLetterRequest {
        letter_id: x.id.clone(),
        etag: x.etag.clone(),
        request_id: "submit-first".into(),
    };
    let submitted = l
        .submit_letter(authed(submit.clone(), d.token("kasi.egov")))
        .await
        .expect("submit")
        .into_inner();
    assert_eq!(submitted.state, LetterState::InReview as i32);
    let approve = pb::ApproveLetterRequest {
        letter_id: x.id.clone(),
        etag: submitted.etag.clone(),
        comment: "Setuju".into(),
        request_id: "approve-first".into(),
    };
    let approved = l
        .approve_letter(authed(approve.clone(), d.token("kabid.aptika")))
        .await
        .expect("approve")
        .into_inner();
    assert_eq!(approved.state, LetterState::Approved as i32);
    // The answer is the letter as a read finds it after the change.
    let read = l
        .get_letter(authed(
            pb::GetLetterRequest {
                letter_id: x.id.clone(),
                ..Default::default()
            },
            d.token("kabid.aptika"),
        ))
        .await
        .expect("get")
        .into_inner();
    assert_eq!(read, approved);
    assert_eq!(read.route.len(), 2, "the route came with the answer");
    // The letter moves on: signed, numbered and sent.
    let sent = signed(&t, &d, &approved).await;
    assert_eq!(sent.state, LetterState::Sent as i32);

    // Each retry gets its first answer, field for field, not the letter as
    // it is now.
    let again = l
        .submit_letter(authed(submit, d.token("kasi.egov")))
        .await
        .expect("retry of submit")
        .into_inner();
    assert_eq!(again, submitted);
    let again = l
        .approve_letter(authed(approve, d.token("kabid.aptika")))
        .await
        .expect("retry of approve")
        .into_inner();
    assert_eq!(again, approved);
    let now = l
        .get_letter(authed(
            pb::GetLetterRequest {
                letter_id: x.id.clone(),
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("get")
        .into_inner();
    assert_eq!(
        (now.state, now.etag.as_str(), now.number.as_str()),
        (
            LetterState::Sent as i32,
            sent.etag.as_str(),
            sent.number.as_str()
        ),
        "the retries changed nothing"
    );

    // The same for a disposition: the first response of a reply is
    // answered again after the recipient has finished.
    let incoming = l
        .register_incoming_letter(authed(
            pb::RegisterIncomingLetterRequest {
                urgency: Urgency::Segera as i32,
                ..incoming_request(
                    vec![d.pos("kadis.kominfo")],
                    "Permintaan data",
                    "000.1",
                    SecurityLevel::Biasa,
                )
            },
            d.token("pencatat"),
        ))
        .await
        .expect("register")
        .into_inner();
    let mut c = DispositionServiceClient::new(t.channel.clone());
    let create = pb::CreateDispositionRequest {
        letter_id: incoming.id.clone(),
        sender_position_id: d.pos("kadis.kominfo"),
        recipient_position_ids: vec![d.pos("kabid.aptika")],
        instruction_codes: vec!["TINDAK_LANJUTI".into()],
        note: "Mohon segera".into(),
        urgency: Urgency::Segera as i32,
        request_id: "dispose-first".into(),
        ..Default::default()
    };
    let disposed = c
        .create_disposition(authed(create.clone(), d.token("kadis.kominfo")))
        .await
        .expect("dispose")
        .into_inner();
    let working = pb::RespondToDispositionRequest {
        disposition_id: disposed.id.clone(),
        status: DispositionStatus::InProgress as i32,
        note: "Sedang dikerjakan".into(),
        request_id: "respond-first".into(),
        ..Default::default()
    };
    let in_progress = c
        .respond_to_disposition(authed(working.clone(), d.token("kabid.aptika")))
        .await
        .expect("in progress")
        .into_inner();
    let done = c
        .respond_to_disposition(authed(
            pb::RespondToDispositionRequest {
                status: DispositionStatus::Done as i32,
                note: "Selesai".into(),
                request_id: String::new(),
                ..working.clone()
            },
            d.token("kabid.aptika"),
        ))
        .await
        .expect("done")
        .into_inner();
    assert_eq!(done.recipients[0].status, DispositionStatus::Done as i32);
    let again = c
        .respond_to_disposition(authed(working, d.token("kabid.aptika")))
        .await
        .expect("retry of the reply")
        .into_inner();
    assert_eq!(again, in_progress);
    assert_eq!(
        again.recipients[0].status,
        DispositionStatus::InProgress as i32
    );
    let again = c
        .create_disposition(authed(create, d.token("kadis.kominfo")))
        .await
        .expect("retry of the disposition")
        .into_inner();
    assert_eq!(again, disposed, "the retry created nothing");
    // Every replay is recorded in the audit trail under its request_id.
    for id in [
        "submit-first",
        "approve-first",
        "respond-first",
        "dispose-first",
    ] {
        let replays = inspect::audit_events(&t, id, 10)
            .await
            .into_iter()
            .filter(|e| e.body.summary == "retry answered with the first response")
            .count();
        assert_eq!(replays, 1, "{id}");
    }
}
dual!(a_retry_is_answered_the_first_response);
