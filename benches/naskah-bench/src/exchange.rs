//! `naskah-bench exchange`: two installations on this machine, each a
//! `naskah` process with its own database and CA, exchanging letters over
//! mutual TLS on loopback. Measures the hand-over time (SignLetter's answer
//! at A to the letter listed in the addressee's INBOX at B, polled every
//! 5 ms) one letter at a time, then the transfers per second of letters to
//! many addressees at B (from the first signature's answer to the last
//! consignment REGISTERED).

use super::*;

use naskah::proto::peer_service_client::PeerServiceClient;
use naskah_testkit::demo::Demo;
use naskah_testkit::exchange as kit;

/// The figures of a run.
#[derive(Debug, Serialize)]
struct ExchangeReport {
    database: DbKind,
    handovers: usize,
    handover_median_ms: f64,
    handover_p90_ms: f64,
    handover_max_ms: f64,
    transfers: usize,
    signing_s: f64,
    transfers_s: f64,
    transfers_per_s: f64,
}

async fn sign(ch: &Channel, d: &Demo, targets: &[String], subject: &str) -> anyhow::Result<()> {
    let mut l = LetterServiceClient::new(ch.clone());
    let recipients = targets
        .iter()
        .map(|p| pb::Addressee {
            target: Some(pb::addressee::Target::External(pb::ExternalAddressee {
                organisation: "Dinas Kesehatan".into(),
                exchange_agency_id: "DINKES".into(),
                exchange_position_id: p.clone(),
                ..Default::default()
            })),
            ..Default::default()
        })
        .collect();
    let x = l
        .create_draft(naskah_testkit::authed(
            pb::CreateDraftRequest {
                drafting_position_id: d.pos("kasi.egov"),
                r#type: pb::LetterType::SuratDinas as i32,
                subject: subject.into(),
                body: "Dengan hormat, bersama ini kami sampaikan data layanan.".into(),
                security_level: pb::SecurityLevel::Biasa as i32,
                urgency: pb::Urgency::Biasa as i32,
                classification_code: "000.1.1".into(),
                recipients,
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await?
        .into_inner();
    let x = l
        .set_route(naskah_testkit::authed(
            pb::SetRouteRequest {
                letter_id: x.id.clone(),
                signer_position_id: d.pos("kadis.kominfo"),
                etag: x.etag.clone(),
                ..Default::default()
            },
            d.token("kasi.egov"),
        ))
        .await?
        .into_inner();
    let x = l
        .submit_letter(naskah_testkit::authed(
            pb::SubmitLetterRequest {
                letter_id: x.id.clone(),
                etag: x.etag.clone(),
                request_id: String::new(),
            },
            d.token("kasi.egov"),
        ))
        .await?
        .into_inner();
    l.sign_letter(naskah_testkit::authed(
        pb::SignLetterRequest {
            letter_id: x.id.clone(),
            etag: x.etag.clone(),
            passphrase: naskah::domain::demo::DEMO_PASSPHRASE.into(),
            request_id: String::new(),
        },
        d.token("kadis.kominfo"),
    ))
    .await?;
    Ok(())
}

async fn inbox_len(ch: &Channel, token: &str) -> anyhow::Result<usize> {
    Ok(LetterServiceClient::new(ch.clone())
        .list_letters(naskah_testkit::authed(
            pb::ListLettersRequest {
                folder: pb::Folder::Inbox as i32,
                page_size: 1000,
                view: pb::LetterView::Basic as i32,
                ..Default::default()
            },
            token,
        ))
        .await?
        .into_inner()
        .letters
        .len())
}

async fn registered(ch: &Channel, token: &str) -> anyhow::Result<usize> {
    let mut n = 0;
    let mut page_token = String::new();
    loop {
        let r = PeerServiceClient::new(ch.clone())
            .list_dispatches(naskah_testkit::authed(
                pb::ListDispatchesRequest {
                    status: pb::DispatchStatus::Registered as i32,
                    page_size: 500,
                    page_token: page_token.clone(),
                },
                token,
            ))
            .await?
            .into_inner();
        n += r.dispatches.len();
        if r.next_page_token.is_empty() {
            return Ok(n);
        }
        page_token = r.next_page_token;
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub(crate) async fn run(
    db: DbKind,
    handovers: usize,
    letters: usize,
    addressees: usize,
    json: Option<PathBuf>,
) -> anyhow::Result<()> {
    let work = std::env::temp_dir().join(format!("naskah-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&work)?;
    let _cleanup = Cleanup(work.clone());
    let cluster = match db {
        DbKind::Postgres => Some(pg::Cluster::start(&work.join("pg"))?),
        DbKind::Sqlite => None,
    };
    let (a_url, b_url) = match &cluster {
        Some(c) => (c.url(), c.another("naskah_b")?),
        None => (
            format!("sqlite://{}?mode=rwc", work.join("a.db").display()),
            format!("sqlite://{}?mode=rwc", work.join("b.db").display()),
        ),
    };
    let (a_dir, b_dir) = (work.join("a"), work.join("b"));
    std::fs::create_dir_all(&a_dir)?;
    std::fs::create_dir_all(&b_dir)?;
    let a_ex = format!("127.0.0.1:{}", free_port()?);
    let b_ex = format!("127.0.0.1:{}", free_port()?);
    let b = start_naskah_with(&b_dir, &b_url, &[], &[("NASKAH_EXCHANGE_LISTEN", &b_ex)]).await?;
    let made = Command::new(sibling("naskah")?)
        .args(["agency", "create", "DINKES", "--name", "Dinas Kesehatan"])
        .args(["--database-url", &b_url, "--data-dir"])
        .arg(&b_dir)
        .env_remove("NASKAH_CONFIG")
        .output()?;
    anyhow::ensure!(made.status.success(), "agency create: {made:?}");
    let otp = String::from_utf8_lossy(&made.stdout)
        .lines()
        .find_map(|l| {
            l.split("one-time password: ")
                .nth(1)
                .map(str::trim)
                .map(String::from)
        })
        .ok_or_else(|| anyhow::anyhow!("no one-time password printed"))?;
    let b_ch = connect(b.addr).await?;
    let k = kit::dinkes_on(&b_ch, "admin@dinkes", &otp).await;
    let mut targets = vec![k.head_id.clone(), k.staff_id.clone()];
    targets.extend(kit::more_positions(&b_ch, &k.admin, addressees.saturating_sub(2)).await);
    targets.truncate(addressees.max(1));

    let a = start_naskah_with(
        &a_dir,
        &a_url,
        &["--demo"],
        &[("NASKAH_EXCHANGE_LISTEN", &a_ex)],
    )
    .await?;
    let a_ch = connect(a.addr).await?;
    let d = Demo::login_on(&a_ch, &["kasi.egov", "kadis.kominfo", "admin", "pencatat"]).await;
    let card = async |ch: &Channel, token: &str| -> anyhow::Result<pb::PeerCard> {
        Ok(PeerServiceClient::new(ch.clone())
            .get_peer_card(naskah_testkit::authed(pb::GetPeerCardRequest {}, token))
            .await?
            .into_inner())
    };
    let add = async |ch: &Channel, token: &str, c: pb::PeerCard| -> anyhow::Result<()> {
        PeerServiceClient::new(ch.clone())
            .add_peer(naskah_testkit::authed(
                pb::AddPeerRequest {
                    card: Some(c),
                    request_id: String::new(),
                },
                token,
            ))
            .await?;
        Ok(())
    };
    add(&b_ch, &k.admin, card(&a_ch, d.token("admin")).await?).await?;
    add(&a_ch, d.token("admin"), card(&b_ch, &k.admin).await?).await?;
    eprintln!("naskah-bench exchange: {db:?}, {handovers} hand-overs one at a time");

    // Hand-overs, one at a time, to the head's INBOX.
    let mut times = Vec::new();
    for i in 0..handovers {
        let before = inbox_len(&b_ch, &k.kepala).await?;
        sign(&a_ch, &d, &targets[..1], &format!("Serah terima {i}")).await?;
        let t0 = Instant::now();
        loop {
            if inbox_len(&b_ch, &k.kepala).await? > before {
                break;
            }
            anyhow::ensure!(
                t0.elapsed() < Duration::from_secs(60),
                "no hand-over in 60 s"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        times.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);

    // Throughput: letters to many addressees.
    let transfers = letters * targets.len();
    eprintln!(
        "naskah-bench exchange: {letters} letters x {} addressees",
        targets.len()
    );
    let base = registered(&a_ch, d.token("pencatat")).await?;
    let started = Instant::now();
    for i in 0..letters {
        sign(&a_ch, &d, &targets, &format!("Surat edaran {i}")).await?;
    }
    let signing_s = started.elapsed().as_secs_f64();
    loop {
        if registered(&a_ch, d.token("pencatat")).await? >= base + transfers {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "transfers not registered in 600 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let transfers_s = started.elapsed().as_secs_f64();
    let r = ExchangeReport {
        database: db,
        handovers,
        handover_median_ms: percentile(&times, 0.5),
        handover_p90_ms: percentile(&times, 0.9),
        handover_max_ms: times.last().copied().unwrap_or(0.0),
        transfers,
        signing_s,
        transfers_s,
        transfers_per_s: transfers as f64 / transfers_s,
    };
    println!(
        "exchange ({:?}): hand-over median {:.0} ms, p90 {:.0} ms, max {:.0} ms ({} letters); \
         {} transfers in {:.1} s ({:.0}/s; signing took {:.1} s)",
        r.database,
        r.handover_median_ms,
        r.handover_p90_ms,
        r.handover_max_ms,
        r.handovers,
        r.transfers,
        r.transfers_s,
        r.transfers_per_s,
        r.signing_s
    );
    if let Some(path) = json {
        std::fs::write(path, serde_json::to_vec_pretty(&r)?)?;
    }
    drop((a, b));
    Ok(())
}
