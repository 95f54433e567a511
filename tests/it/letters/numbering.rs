//! Letter numbers: gap-free under concurrent signatures (on PostgreSQL from
//! two servers), the agency's template, and the month and year of the
//! agency's time zone.

use naskah::proto::letter_service_client::LetterServiceClient;
use naskah::proto::{self as pb, SecurityLevel};

use super::wib_now;
use naskah_testkit::demo::{
    DEMO_PASSPHRASE, Demo, approved_letters, draft, letters, signed, submitted,
};
use naskah_testkit::{Db, TestServer, authed};
use naskah_testkit::{dual, operator};

fn seq_of(number: &str) -> i64 {
    number
        .split('/')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no seq in {number}"))
}

async fn concurrent_signatures_get_gap_free_numbers(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(&t, &["kasi.egov", "kadis.kominfo", "sekda"]).await;
    let batch = approved_letters(&t, &d, 40).await;
    // On PostgreSQL a second server shares the database (and the data dir's keys).
    let second = if db == Db::Postgres {
        Some(t.another_server(false).await.expect("second server"))
    } else {
        None
    };
    let second_channel = second.as_ref().map(|s| s.channel.clone());
    let token = d.token("kadis.kominfo").to_owned();
    let mut tasks = Vec::new();
    for (i, x) in batch.into_iter().enumerate() {
        let channel = match (&second_channel, i % 2) {
            (Some(c), 1) => c.clone(),
            _ => t.channel.clone(),
        };
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            LetterServiceClient::new(channel)
                .sign_letter(authed(
                    pb::SignLetterRequest {
                        letter_id: x.id.clone(),
                        etag: x.etag.clone(),
                        passphrase: DEMO_PASSPHRASE.into(),
                        request_id: String::new(),
                    },
                    &token,
                ))
                .await
                .expect("sign")
                .into_inner()
                .number
        }));
    }
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(seq_of(&task.await.expect("task")));
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=40).collect::<Vec<i64>>());
    if let Some(s) = second {
        s.stop().await;
    }
    t.stop().await;
}
dual!(concurrent_signatures_get_gap_free_numbers);

async fn the_agency_number_template_is_configurable(db: Db) {
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(&t, &["kasi.egov", "kadis.kominfo", "sekda"]).await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_naskah"))
            .args([
                "agency",
                "set-numbering",
                "--database-url",
                &t.db_url,
                "--data-dir",
            ])
            .arg(t.dir.path())
            .args(args)
            .env_remove("NASKAH_CONFIG")
            .output()
            .expect("run naskah agency set-numbering")
    };
    let bad = run(&["--agency", "DEMO-PROV", "--template", "{class}/{unit}"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("{seq}"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let ok = run(&[
        "--agency",
        "DEMO-PROV",
        "--template",
        "{security}-{seq}/{unit}/{class}/{month}/{year}",
        "--scope",
        "agency",
    ]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let x = draft(
        &t,
        &d,
        "kasi.egov",
        &["sekda"],
        &[],
        SecurityLevel::Rahasia,
        "000.1.2",
    )
    .await;
    let mut l = letters(&t);
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
    let signed = signed(&t, &d, &x).await;
    let (year, month) = wib_now();
    // A nota dinas drops the security code.
    assert_eq!(
        signed.number,
        format!("1/DISKOMINFO/000.1.2/{month:02}/{year}")
    );
    t.stop().await;
}
dual!(the_agency_number_template_is_configurable);

/// The month and year of a letter number are those of the signing time in
/// the agency's time zone, a setting (WIB unless set): at 16:30 UTC on 31
/// December it is still 2026 in Jakarta, but already 2027 in Makassar (WITA)
/// and Jayapura (WIT), and the new year's sequence starts again at 1.
async fn numbers_take_their_month_and_year_in_the_agency_time_zone(db: Db) {
    // 2026-12-31T16:30:00Z.
    let clock = naskah_testkit::clock::ManualClock::new(1_798_734_600_000_000);
    let t = TestServer::start_demo_with_clock(db, clock.clone()).await;
    operator::set_agency_numbering(&t, "DEMO-PROV", "{seq}/{roman_month}/{month}/{year}")
        .await
        .expect("template");
    let d = Demo::login(&t, &["kasi.egov", "kadis.kominfo", "sekda"]).await;
    let sign = async || {
        let x = approved_letters(&t, &d, 1).await.remove(0);
        signed(&t, &d, &x).await.number
    };
    assert_eq!(sign().await, "1/XII/12/2026", "23:30 WIB, the default");
    assert_eq!(sign().await, "2/XII/12/2026");

    operator::set_time_zone(&t, "DEMO-PROV", "Asia/Makassar")
        .await
        .expect("WITA");
    assert_eq!(sign().await, "1/I/01/2027", "00:30 WITA: the new year");
    operator::set_time_zone(&t, "DEMO-PROV", "Asia/Jayapura")
        .await
        .expect("WIT");
    assert_eq!(sign().await, "2/I/01/2027", "01:30 WIT");
    operator::set_time_zone(&t, "DEMO-PROV", "Asia/Jakarta")
        .await
        .expect("WIB");
    assert_eq!(sign().await, "3/XII/12/2026", "back in 2026's sequence");

    // A name that is not a time zone changes nothing.
    let e = operator::set_time_zone(&t, "DEMO-PROV", "WITA")
        .await
        .unwrap_err();
    assert!(e.is_invalid(), "refused as invalid: {e:?}");
    assert_eq!(sign().await, "4/XII/12/2026");
    t.stop().await;
}
dual!(numbers_take_their_month_and_year_in_the_agency_time_zone);
