//! A thousand transfers between two installations (real binaries, their own
//! databases and CAs) through a proxy that cuts connections and delays
//! answers, while the sender and the receiver are killed with SIGKILL and
//! restarted: every consignment ends REGISTERED once, with its receipt and
//! outcome; the receiver holds exactly one letter per consignment; both
//! audit chains verify. The run's figures are printed.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use naskah::proto::{self as pb, DispatchStatus};

use naskah_testkit::demo::Demo;
use naskah_testkit::exchange as kit;
use naskah_testkit::faults::FaultProxy;
use naskah_testkit::pgcluster::free_port;
use naskah_testkit::{Db, Served, authed, dual, fresh_db_url, serve_binary};

use super::{peers, sign_to, to_peer};

const LETTERS: usize = 50;
const ADDRESSEES: usize = 20;

struct Side {
    url: String,
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Side {
    async fn serve(&self, args: &[&str]) -> Served {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        serve_binary(crate::NASKAH, &self.url, self.dir.path(), args, &env).await
    }

    fn naskah(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new(crate::NASKAH)
            .args(args)
            .args(["--database-url", &self.url, "--data-dir"])
            .arg(self.dir.path())
            .env_remove("NASKAH_CONFIG")
            .output()
            .expect("run naskah")
    }
}

async fn side(db: Db, listen: &str, endpoint: &str) -> Side {
    let dir = tempfile::tempdir().expect("tmp");
    let url = fresh_db_url(db, dir.path()).await;
    let env = vec![
        ("NASKAH_EXCHANGE_LISTEN".into(), listen.to_owned()),
        ("NASKAH_EXCHANGE_ENDPOINT".into(), endpoint.to_owned()),
        ("NASKAH_EXCHANGE_RETRY_BASE_SECS".into(), "1".into()),
        ("NASKAH_EXCHANGE_RETRY_CEILING_SECS".into(), "2".into()),
    ];
    Side { url, dir, env }
}

/// The registrar's dispatches by status (all pages).
async fn by_status(ch: &tonic::transport::Channel, token: &str) -> Vec<pb::Dispatch> {
    let mut out = Vec::new();
    let mut page_token = String::new();
    loop {
        let r = peers(ch)
            .list_dispatches(authed(
                pb::ListDispatchesRequest {
                    status: 0,
                    page_size: 500,
                    page_token: page_token.clone(),
                },
                token,
            ))
            .await
            .expect("list dispatches")
            .into_inner();
        out.extend(r.dispatches);
        if r.next_page_token.is_empty() {
            return out;
        }
        page_token = r.next_page_token;
    }
}

async fn a_thousand_transfers_through_faults_and_kills(db: Db) {
    let a_listen = format!("127.0.0.1:{}", free_port().expect("port"));
    let b_listen = format!("127.0.0.1:{}", free_port().expect("port"));
    let to_a = FaultProxy::start(a_listen.parse().expect("addr"), 0x5eed_000a).await;
    let to_b = FaultProxy::start(b_listen.parse().expect("addr"), 0x5eed_000b).await;
    let a_side = side(db, &a_listen, &format!("https://{}", to_a.addr)).await;
    let b_side = side(db, &b_listen, &format!("https://{}", to_b.addr)).await;

    // B: an installation whose operator made DINKES; its administrator
    // builds twenty positions.
    let mut b = b_side.serve(&[]).await;
    let made = b_side.naskah(&[
        "agency",
        "create",
        "DINKES",
        "--name",
        "Dinas Kesehatan Provinsi Nusantara",
    ]);
    assert!(made.status.success(), "{made:?}");
    let printed = String::from_utf8_lossy(&made.stdout).into_owned();
    let otp = printed
        .lines()
        .find_map(|l| l.split("one-time password: ").nth(1))
        .expect("one-time password printed")
        .trim()
        .to_owned();
    let k = kit::dinkes_on(&b.channel, "admin@dinkes", &otp).await;
    let mut targets = vec![k.head_id.clone(), k.staff_id.clone()];
    targets.extend(kit::more_positions(&b.channel, &k.admin, ADDRESSEES - 2).await);

    // A: the demo agency; the two pin each other through the contract.
    let mut a = a_side.serve(&["--demo"]).await;
    let d = Demo::login_on(
        &a.channel,
        &["kasi.egov", "kadis.kominfo", "admin", "pencatat"],
    )
    .await;
    let card = |ch: &tonic::transport::Channel, token: &str| {
        let (ch, token) = (ch.clone(), token.to_owned());
        async move {
            peers(&ch)
                .get_peer_card(authed(pb::GetPeerCardRequest {}, &token))
                .await
                .expect("card")
                .into_inner()
        }
    };
    let add = |ch: &tonic::transport::Channel, token: &str, c: pb::PeerCard| {
        let (ch, token) = (ch.clone(), token.to_owned());
        async move {
            peers(&ch)
                .add_peer(authed(
                    pb::AddPeerRequest {
                        card: Some(c),
                        request_id: String::new(),
                    },
                    &token,
                ))
                .await
                .expect("add peer")
        }
    };
    add(
        &b.channel,
        &k.admin,
        card(&a.channel, d.token("admin")).await,
    )
    .await;
    add(
        &a.channel,
        d.token("admin"),
        card(&b.channel, &k.admin).await,
    )
    .await;

    // Faults on; the letters are signed and the relay starts at once.
    to_a.faulty.store(true, Ordering::SeqCst);
    to_b.faulty.store(true, Ordering::SeqCst);
    let started = Instant::now();
    for i in 0..LETTERS {
        sign_to(
            &a.channel,
            &d,
            targets.iter().map(|p| to_peer("DINKES", p)).collect(),
            &format!("Surat edaran nomor {i}"),
        )
        .await;
    }
    let signed = started.elapsed();
    // Kills of either side while the consignments travel.
    let mut kills = 0;
    for round in 0..4 {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        if round == 1 {
            a.child.kill().expect("SIGKILL A");
            a.child.wait().expect("wait A");
            a = a_side.serve(&[]).await;
        } else {
            b.child.kill().expect("SIGKILL B");
            b.child.wait().expect("wait B");
            b = b_side.serve(&[]).await;
        }
        kills += 1;
    }
    to_a.faulty.store(false, Ordering::SeqCst);
    to_b.faulty.store(false, Ordering::SeqCst);

    // Every consignment ends REGISTERED, with its receipt and outcome.
    let total = LETTERS * ADDRESSEES;
    let deadline = Instant::now() + Duration::from_secs(240);
    let all = loop {
        let all = by_status(&a.channel, d.token("pencatat")).await;
        let done = all
            .iter()
            .filter(|x| x.status == DispatchStatus::Registered as i32)
            .count();
        if done == total || Instant::now() > deadline {
            break all;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let elapsed = started.elapsed();
    assert_eq!(all.len(), total, "one dispatch per addressee");
    let mut statuses = std::collections::BTreeMap::new();
    for x in &all {
        *statuses.entry(x.status).or_insert(0usize) += 1;
    }
    assert_eq!(
        statuses.get(&(DispatchStatus::Registered as i32)),
        Some(&total),
        "statuses {statuses:?}"
    );
    assert!(
        all.iter()
            .all(|x| !x.receipt.is_empty() && !x.outcome.is_empty())
    );
    let attempts: i64 = all.iter().map(|x| i64::from(x.attempts)).sum();

    // The receiver holds one letter per consignment, none twice.
    let (letters, stored, distinct) =
        naskah_testkit::inspect::received_by_exchange(&b_side.url).await;
    assert_eq!(
        (letters, stored, distinct),
        (total as i64, total as i64, total as i64)
    );

    a.child.kill().expect("stop A");
    a.child.wait().expect("wait A");
    b.child.kill().expect("stop B");
    b.child.wait().expect("wait B");
    for s in [&a_side, &b_side] {
        let v = s.naskah(&["audit", "verify"]);
        assert!(v.status.success(), "audit verify: {v:?}");
    }
    println!(
        "exchange chaos ({db:?}): {total} transfers ({LETTERS} letters x {ADDRESSEES} addressees) \
         registered in {:.1} s (signing took {:.1} s); 0 lost, 0 duplicated; {kills} SIGKILLs; \
         {attempts} failed or repeated attempts recorded; proxy to B: {} connections, {} cut, {} \
         delayed, {} dropped young; proxy to A: {} connections, {} cut, {} delayed, {} dropped young",
        elapsed.as_secs_f64(),
        signed.as_secs_f64(),
        to_b.stats.connections.load(Ordering::Relaxed),
        to_b.stats.cut.load(Ordering::Relaxed),
        to_b.stats.delayed.load(Ordering::Relaxed),
        to_b.stats.dropped.load(Ordering::Relaxed),
        to_a.stats.connections.load(Ordering::Relaxed),
        to_a.stats.cut.load(Ordering::Relaxed),
        to_a.stats.delayed.load(Ordering::Relaxed),
        to_a.stats.dropped.load(Ordering::Relaxed),
    );
}
dual!(a_thousand_transfers_through_faults_and_kills);
