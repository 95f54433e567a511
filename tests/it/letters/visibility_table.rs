//! The one access rule of letters, as a table: at each stage of a secret
//! letter's life, who sees it and who does not. A position sees a letter when
//! it takes part in it (drafter; route step once reached; recipient and copy
//! once delivered; registrar; disposition recipient), through whoever holds
//! it, acts for it inside the acting window, or serves it as secretary.
//! Roles and security levels grant nothing by themselves.

use naskah::proto::disposition_service_client::DispositionServiceClient;
use naskah::proto::org_service_client::OrgServiceClient;
use naskah::proto::{self as pb, SecurityLevel, Urgency};
use tonic::Code;

use naskah_testkit::demo::{Demo, draft, letters, registered, routed, signed, submitted, who_am_i};
use naskah_testkit::dual;
use naskah_testkit::{Db, TestServer, authed, reason};

const USERS: &[&str] = &[
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
    "admin",
];

/// Whether `user` gets the letter (`true`) or LETTER_NOT_FOUND (`false`).
async fn sees(t: &TestServer, d: &Demo, user: &str, letter_id: &str) -> bool {
    match letters(t)
        .get_letter(authed(
            pb::GetLetterRequest {
                letter_id: letter_id.to_owned(),
                ..Default::default()
            },
            d.token(user),
        ))
        .await
    {
        Ok(_) => true,
        Err(e) => {
            assert_eq!(
                (e.code(), reason(&e).as_str()),
                (Code::NotFound, "LETTER_NOT_FOUND"),
                "{user}: a letter out of sight answers like a missing one"
            );
            false
        }
    }
}

/// Checks one stage's row of the table: exactly `seeing` see the letter.
async fn stage(t: &TestServer, d: &Demo, name: &str, letter_id: &str, seeing: &[&str]) {
    let mut wrong = Vec::new();
    for user in USERS {
        let expected = seeing.contains(user);
        if sees(t, d, user, letter_id).await != expected {
            wrong.push(format!(
                "{user} {}",
                if expected {
                    "should see it"
                } else {
                    "should not"
                }
            ));
        }
    }
    assert!(wrong.is_empty(), "{name}: {}", wrong.join(", "));
}

async fn who_sees_a_secret_letter_at_each_stage(db: Db) {
    let clock = naskah_testkit::clock::ManualClock::new(naskah_testkit::clock::Clock::now_us(
        &naskah_testkit::clock::SystemClock,
    ));
    let t = TestServer::start_demo_with_clock(db, clock.clone()).await;
    let d = Demo::login(&t, USERS).await;
    let mut l = letters(&t);

    // An outgoing SANGAT_RAHASIA letter from Kasi E-Gov to Kabid IKP, copy
    // to the Sekda, reviewed by Kabid Aptika and signed by Kadis (whose
    // secretary is tu.kominfo).
    let x = draft(
        &t,
        &d,
        "kasi.egov",
        &["kabid.ikp"],
        &["sekda"],
        SecurityLevel::SangatRahasia,
        "000.1.2",
    )
    .await;
    let x = routed(&t, &d, &x).await;
    stage(&t, &d, "drafted, route set", &x.id, &["kasi.egov"]).await;

    let x = submitted(&t, &d, &x).await;
    stage(
        &t,
        &d,
        "submitted: the reviewer's step is reached",
        &x.id,
        &["kasi.egov", "kabid.aptika"],
    )
    .await;

    let x = l
        .approve_letter(authed(
            pb::ApproveLetterRequest {
                letter_id: x.id.clone(),
                etag: x.etag.clone(),
                comment: String::new(),
                request_id: String::new(),
            },
            d.token("kabid.aptika"),
        ))
        .await
        .expect("approve")
        .into_inner();
    stage(
        &t,
        &d,
        "approved: the signer's step is reached, with its secretary",
        &x.id,
        &["kasi.egov", "kabid.aptika", "kadis.kominfo", "tu.kominfo"],
    )
    .await;

    let x = signed(&t, &d, &x).await;
    let route_and_addressees = [
        "kasi.egov",
        "kabid.aptika",
        "kadis.kominfo",
        "tu.kominfo",
        "kabid.ikp",
        "sekda",
    ];
    stage(
        &t,
        &d,
        "sent: recipient and copy are delivered",
        &x.id,
        &route_and_addressees,
    )
    .await;

    // Staf E-Gov stands in (PLH) for Kabid IKP for two minutes: inside the
    // window the recipient's letter is visible to them, after it it is not.
    let minute = 60_000_000i64;
    let now = naskah_testkit::clock::Clock::now_us(&*clock);
    let staf = who_am_i(&t, d.token("staf.egov")).await.user_id;
    OrgServiceClient::new(t.channel.clone())
        .assign_position(authed(
            pb::AssignPositionRequest {
                user_id: staf,
                position_id: d.pos("kabid.ikp"),
                kind: pb::AssignmentKind::Plh as i32,
                valid_from: Some(naskah_testkit::clock::to_timestamp(now - minute)),
                valid_until: Some(naskah_testkit::clock::to_timestamp(now + 2 * minute)),
                basis: "Surat perintah PLH".into(),
                request_id: String::new(),
            },
            d.token("admin"),
        ))
        .await
        .expect("PLH");
    let mut with_plh = route_and_addressees.to_vec();
    with_plh.push("staf.egov");
    stage(&t, &d, "inside the PLH window", &x.id, &with_plh).await;
    clock.advance(3 * minute);
    stage(&t, &d, "after the PLH window", &x.id, &route_and_addressees).await;

    // An incoming RAHASIA letter to Kadis: the registrar and the addressee
    // (with its secretary) see it; Kadis's disposition to Kabid Aptika makes
    // Kabid Aptika see it, and nobody else.
    let incoming = registered(
        &t,
        &d,
        &["kadis.kominfo"],
        "Permintaan data",
        "000.1",
        SecurityLevel::Rahasia,
    )
    .await;
    stage(
        &t,
        &d,
        "incoming, registered",
        &incoming.id,
        &["pencatat", "kadis.kominfo", "tu.kominfo"],
    )
    .await;
    DispositionServiceClient::new(t.channel.clone())
        .create_disposition(authed(
            pb::CreateDispositionRequest {
                letter_id: incoming.id.clone(),
                sender_position_id: d.pos("kadis.kominfo"),
                recipient_position_ids: vec![d.pos("kabid.aptika")],
                instruction_codes: vec!["TINDAK_LANJUTI".into()],
                note: "Mohon ditindaklanjuti".into(),
                urgency: Urgency::Segera as i32,
                ..Default::default()
            },
            d.token("kadis.kominfo"),
        ))
        .await
        .expect("dispose");
    stage(
        &t,
        &d,
        "incoming, disposed to Kabid Aptika",
        &incoming.id,
        &["pencatat", "kadis.kominfo", "tu.kominfo", "kabid.aptika"],
    )
    .await;
}
dual!(who_sees_a_secret_letter_at_each_stage);
