//! naskah-bench: seeds a realistic dataset in bulk, starts a naskah server process
//! and a bare "ceiling" tonic server on the same database, drives both with the
//! same concurrent gRPC clients, and reports throughput, latency percentiles,
//! errors and server memory per operation (table on stdout, JSON with --json).
//!
//! `cargo build --release --workspace`, then
//! `cargo run --release -p naskah-bench -- --database sqlite --letters 100000`

mod ceiling;
mod drive;
mod exchange;
mod pg;
mod report;
mod seed;
mod servers;

use drive::*;
use report::*;
use servers::*;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use futures::future::BoxFuture;
use naskah::proto::auth_service_client::AuthServiceClient;
use naskah::proto::disposition_service_client::DispositionServiceClient;
use naskah::proto::letter_service_client::LetterServiceClient;
use naskah::proto::verification_service_client::VerificationServiceClient;
use naskah::proto::{self as pb};
use serde::Serialize;
use tonic::transport::{Channel, Endpoint};

#[derive(Parser, Debug)]
#[command(
    name = "naskah-bench",
    about = "Throughput, latency and growth of naskah beside a bare gRPC+database ceiling"
)]
struct Args {
    #[command(subcommand)]
    hidden: Option<Hidden>,
    /// Database engine.
    #[arg(long, value_enum, default_value = "sqlite")]
    database: DbKind,
    /// Letters to seed (plus the demo agency).
    #[arg(long, default_value_t = 20_000)]
    letters: u64,
    /// Concurrent gRPC clients per operation.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Seconds per operation.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Clients of the mixed run.
    #[arg(long, default_value_t = 64)]
    mixed_clients: usize,
    /// Seconds of the mixed run.
    #[arg(long, default_value_t = 60)]
    mixed_duration: u64,
    /// Letter counts at which ListLetters(INBOX) and GetDispositionTree p99 are measured.
    #[arg(long, value_delimiter = ',')]
    scale: Vec<u64>,
    /// Only these operations (names as in the report; `none`: no single
    /// operation).
    #[arg(long, value_delimiter = ',')]
    ops: Vec<String>,
    /// Audit events to append to the chain before timing `naskah audit verify`
    /// (0: not measured).
    #[arg(long, default_value_t = 0)]
    audit_events: u64,
    /// Writes the report as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// A small run (tiny sizes, 1 s per operation) that finishes in well under a minute.
    #[arg(long)]
    quick: bool,
    /// naskah servers sharing the database (PostgreSQL only), each client
    /// calling one of them in turn — the production setup of several
    /// stateless servers on one PostgreSQL.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=8))]
    servers: u16,
}

#[derive(Subcommand, Debug)]
enum Hidden {
    /// Inter-agency exchange between two naskah installations on this
    /// machine (their own databases, mutual TLS on loopback): the hand-over
    /// time from SignLetter's answer at A to the letter in B's INBOX, and
    /// the transfers per second of letters to many addressees at B.
    Exchange {
        /// Letters handed over one at a time (the hand-over times).
        #[arg(long, default_value_t = 30)]
        handovers: usize,
        /// Letters of the throughput run.
        #[arg(long, default_value_t = 20)]
        letters: usize,
        /// Addressees at B of each letter of the throughput run.
        #[arg(long, default_value_t = 20)]
        addressees: usize,
    },
    /// Runs the ceiling server (used by the benchmark itself).
    #[command(hide = true)]
    Ceiling {
        #[arg(long)]
        listen: SocketAddr,
        #[arg(long)]
        database_url: String,
        /// Reads through naskah's own read connections instead of the pool.
        #[arg(long)]
        own_reads: bool,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum DbKind {
    Sqlite,
    Postgres,
}

pub fn free_port() -> anyhow::Result<u16> {
    naskah_testkit::pgcluster::free_port().map_err(anyhow::Error::msg)
}

async fn login(addr: SocketAddr, user: &str) -> anyhow::Result<String> {
    Ok(AuthServiceClient::new(connect(addr).await?)
        .login(pb::LoginRequest {
            username: user.into(),
            password: naskah::domain::demo::DEMO_PASSWORD.into(),
        })
        .await?
        .into_inner()
        .access_token)
}

async fn tokens(addr: SocketAddr) -> anyhow::Result<BTreeMap<&'static str, String>> {
    let mut t = BTreeMap::new();
    for u in ["kadis.kominfo", "kabid.aptika", "kasi.egov", "tu.kominfo"] {
        t.insert(u, login(addr, u).await?);
    }
    Ok(t)
}

async fn bench(args: Args) -> anyhow::Result<()> {
    // `none` runs no single operation (growth or audit runs only).
    if let Some(bad) = args
        .ops
        .iter()
        .find(|o| *o != "none" && !OPS.contains(&o.as_str()))
    {
        anyhow::bail!(
            "unknown operation {bad:?} in --ops; known: none, {}",
            OPS.join(", ")
        );
    }
    if args.servers > 1 && args.database != DbKind::Postgres {
        anyhow::bail!(
            "--servers above 1 needs --database postgres (several servers share one PostgreSQL)"
        );
    }
    let servers = args.servers;
    let quick = args.quick;
    let letters = if quick {
        args.letters.min(300)
    } else {
        args.letters
    };
    let clients = if quick {
        args.clients.min(4)
    } else {
        args.clients
    };
    let secs = if quick { 1.0 } else { args.duration as f64 };
    let mixed_clients = if quick {
        args.mixed_clients.min(8)
    } else {
        args.mixed_clients
    };
    let mixed_secs = if quick {
        3.0
    } else {
        args.mixed_duration as f64
    };
    let work = std::env::temp_dir().join(format!("naskah-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&work)?;
    let _cleanup = Cleanup(work.clone());
    let cluster = match args.database {
        DbKind::Postgres => Some(pg::Cluster::start(&work.join("pg"))?),
        DbKind::Sqlite => None,
    };
    let url = match &cluster {
        Some(c) => c.url(),
        None => format!("sqlite://{}?mode=rwc", work.join("naskah.db").display()),
    };
    let data_dir = work.join("data");
    std::fs::create_dir_all(&data_dir)?;
    eprintln!(
        "naskah-bench: {:?}, seeding the demo agency and {letters} letters",
        args.database
    );

    // Seed: the demo agency through its own path, then bulk rows.
    let mut cfg = naskah::config::Config {
        listen: "127.0.0.1:0".into(),
        data_dir: data_dir.clone(),
        database_url: url.clone(),
        ..naskah::config::Config::default()
    };
    cfg.db_max_connections = 4;
    let settings = cfg.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    let clock: Arc<dyn naskah::clock::Clock> = Arc::new(naskah::clock::SystemClock);
    let store = naskah::server::open_store(&settings, clock).await?;
    let master = naskah::crypto::seal::load_or_create_master_key(&data_dir)?;
    naskah::domain::demo::seed(&store, &master).await?;
    let org = seed::org(&store).await?;
    let (kadis_uid, _) = org.of("kadis.kominfo");
    let (key, rec) =
        naskah::domain::signing::unlock(&store, &kadis_uid, naskah::domain::demo::DEMO_PASSPHRASE)
            .await?;
    let signer = seed::Signer {
        key,
        cert_der: rec.cert_der.clone(),
        serial: rec.serial.clone(),
    };
    let mut seeded = seed::Seeded::default();
    let t0 = Instant::now();
    seed::letters(&store, &org, 0, letters, &signer, &mut seeded).await?;
    let seed_rate = letters as f64 / t0.elapsed().as_secs_f64().max(1e-9);
    let pool = if quick { 1_500 } else { 40_000 };
    let review = seed::route_pool(&store, &org, pool, false).await?;
    let sign = seed::route_pool(&store, &org, if quick { 200 } else { 3_000 }, true).await?;
    let owners: Vec<String> = (0..11).map(|i| format!("owner-{i:02}")).collect();
    seed::ceiling_rows(&store, &owners, 0, letters).await?;
    let ceiling_ids: Vec<String> = ceiling::ids(&store, 20_000).await?;
    seed::analyze(&store).await?;
    let kdf = {
        let sealed = rec.sealed_key.clone();
        let n = 3;
        let t = Instant::now();
        for _ in 0..n {
            naskah::crypto::seal::open_with_passphrase(
                naskah::domain::demo::DEMO_PASSPHRASE,
                &sealed,
            )
            .map_err(|e| anyhow::anyhow!("kdf: {e}"))?;
        }
        t.elapsed().as_secs_f64() * 1000.0 / f64::from(n)
    };
    store.close().await?;
    eprintln!(
        "naskah-bench: seeded {letters} letters at {seed_rate:.0} letters/s; passphrase KDF {kdf:.1} ms"
    );

    let mut naskah_srvs = Vec::new();
    for _ in 0..servers {
        naskah_srvs.push(start_naskah(&data_dir, &url).await?);
    }
    let naskah_addrs: Vec<SocketAddr> = naskah_srvs.iter().map(|s| s.addr).collect();
    let naskah_srv = &naskah_srvs[0];
    let ceiling_srv = start_ceiling(&url, false).await?;
    let own_reads_srv = start_ceiling(&url, true).await?;
    let naskah_peak = peak_sampler(naskah_srv.child.id());
    let ceiling_peak = peak_sampler(ceiling_srv.child.id());
    let world = Arc::new(World {
        tokens: tokens(naskah_srv.addr).await?,
        org: org.clone(),
        seeded: seeded.clone(),
        review: Mutex::new(review),
        sign: Mutex::new(sign),
    });
    let owners = Arc::new(owners);
    let ceiling_ids = Arc::new(ceiling_ids);
    let mut rows = Vec::new();
    for name in OPS {
        if !args.ops.is_empty() && !args.ops.iter().any(|o| o == name) {
            continue;
        }
        let cpu_before: f64 = naskah_srvs.iter().map(Server::cpu_s).sum();
        let s = drive(&naskah_addrs, clients, secs, naskah_op(world.clone(), name)).await?;
        let cpu: f64 = naskah_srvs.iter().map(Server::cpu_s).sum::<f64>() - cpu_before;
        let c = drive(
            &[ceiling_srv.addr],
            clients,
            secs,
            ceiling_op(ceiling_kind(name), owners.clone(), ceiling_ids.clone()),
        )
        .await?;
        let kind = ceiling_kind(name);
        let own = if kind == "insert" {
            None
        } else {
            Some(
                drive(
                    &[own_reads_srv.addr],
                    clients,
                    secs,
                    ceiling_op(kind, owners.clone(), ceiling_ids.clone()),
                )
                .await?,
            )
        };
        let mut row = report_row(
            name,
            &s,
            Some(&c),
            own.as_ref(),
            naskah_srv.rss_mb("RssAnon:"),
        );
        row.server_cpu_ms_per_op = cpu * 1000.0 / (s.ok.max(1) as f64);
        eprintln!(
            "  {name:<22} {:>8.0}/s  p99 {:>7.2} ms  ceiling {:>8.0}/s  ratio {:.2}  (own reads {:.2})  server CPU {:.3} ms/op  errors {}",
            row.ops_per_s,
            row.p99_ms,
            row.ceiling_ops_per_s,
            row.ratio,
            row.own_reads_ratio,
            row.server_cpu_ms_per_op,
            row.errors
        );
        rows.push(row);
    }
    let m = drive(
        &naskah_addrs,
        mixed_clients,
        mixed_secs,
        mixed_op(world.clone()),
    )
    .await?;
    let mixed = report_row("mixed", &m, None, None, naskah_srv.rss_mb("RssAnon:"));
    eprintln!(
        "  mixed ({mixed_clients} clients, {mixed_secs} s): {:.0}/s p99 {:.2} ms errors {}",
        mixed.ops_per_s, mixed.p99_ms, mixed.errors
    );
    let peak = naskah_peak.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1024.0;
    let ceiling_peak = ceiling_peak.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1024.0;
    drop(naskah_srvs);
    drop(ceiling_srv);
    drop(own_reads_srv);

    // Growth: add letters up to each size, then measure the two reads whose cost
    // must not grow with the tables.
    let mut scale = Vec::new();
    let mut have = letters;
    for &size in &args.scale {
        if size > have {
            eprintln!("naskah-bench: growing to {size} letters");
            let store =
                naskah::server::open_store(&settings, Arc::new(naskah::clock::SystemClock)).await?;
            let mut more = seed::Seeded::default();
            seed::letters(&store, &org, have, size, &signer, &mut more).await?;
            seed::analyze(&store).await?;
            store.close().await?;
            have = size;
        }
        let srv = start_naskah(&data_dir, &url).await?;
        let w = Arc::new(World {
            tokens: tokens(srv.addr).await?,
            org: org.clone(),
            seeded: seeded.clone(),
            review: Mutex::new(Vec::new()),
            sign: Mutex::new(Vec::new()),
        });
        let list = drive(
            &[srv.addr],
            clients,
            secs,
            naskah_op(w.clone(), "ListLetters(INBOX)"),
        )
        .await?;
        let secretary = drive(
            &[srv.addr],
            clients,
            secs,
            naskah_op(w.clone(), "ListLetters(INBOX/SECRETARY)"),
        )
        .await?;
        let tree = drive(
            &[srv.addr],
            clients,
            secs,
            naskah_op(w, "GetDispositionTree"),
        )
        .await?;
        eprintln!(
            "  {size:>9} letters: ListLetters p99 {:.2} ms (secretary {:.2} ms), \
             GetDispositionTree p99 {:.2} ms",
            list.pct(0.99),
            secretary.pct(0.99),
            tree.pct(0.99)
        );
        scale.push(ScaleReport {
            letters: size,
            list_inbox_p99_ms: list.pct(0.99),
            list_inbox_ops_per_s: list.rate(),
            list_secretary_p99_ms: secretary.pct(0.99),
            list_secretary_ops_per_s: secretary.rate(),
            tree_p99_ms: tree.pct(0.99),
            tree_ops_per_s: tree.rate(),
        });
    }

    let audit_events = if quick {
        args.audit_events.min(20_000)
    } else {
        args.audit_events
    };
    let audit_verify = if audit_events > 0 {
        Some(audit_verify(&settings, &org, audit_events, &data_dir, &url).await?)
    } else {
        None
    };

    let report = Report {
        database: args.database,
        servers,
        letters,
        clients,
        duration_s: secs as u64,
        ops: rows,
        mixed,
        passphrase_kdf_ms: kdf,
        peak_rss_mb: peak,
        ceiling_peak_rss_mb: ceiling_peak,
        scale,
        seed_letters_per_s: seed_rate,
        audit_verify,
    };
    print_table(&report);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)?;
    }
    drop(cluster);
    Ok(())
}

/// Appends `n` events to the chain, then times `naskah audit verify` (the CLI, as
/// an operator runs it) over the whole chain, twice: right after the append
/// (the first read of new rows also does one-off work — PostgreSQL sets their
/// hint bits and writes the pages back), then again, as a verify of a chain
/// that was read before runs.
async fn audit_verify(
    settings: &naskah::config::Settings,
    org: &seed::Org,
    n: u64,
    data_dir: &Path,
    url: &str,
) -> anyhow::Result<AuditReport> {
    eprintln!("naskah-bench: appending {n} audit events");
    let store = naskah::server::open_store(settings, Arc::new(naskah::clock::SystemClock)).await?;
    seed::audit_chain(&store, &org.agency, n).await?;
    seed::analyze(&store).await?;
    store.close().await?;
    let (events, secs, process_secs) = verify_once(data_dir, url, "first")?;
    let (_, again_secs, again_process_secs) = verify_once(data_dir, url, "again")?;
    Ok(AuditReport {
        events,
        secs,
        events_per_s: events as f64 / secs.max(1e-9),
        process_secs,
        again_secs,
        again_events_per_s: events as f64 / again_secs.max(1e-9),
        again_process_secs,
    })
}

/// One run of `naskah audit verify`: events, the seconds it reports, the
/// process's seconds.
fn verify_once(data_dir: &Path, url: &str, which: &str) -> anyhow::Result<(i64, f64, f64)> {
    let t = Instant::now();
    let out = Command::new(sibling("naskah")?)
        .args(["audit", "verify", "--database-url", url, "--data-dir"])
        .arg(data_dir)
        .env_remove("NASKAH_CONFIG")
        .env("NASKAH_LOG_FILTER", "error")
        .output()?;
    let process_secs = t.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&out.stdout);
    // "audit chain OK: N events verified in S s, head H"
    let parsed = text.strip_prefix("audit chain OK: ").and_then(|rest| {
        let (events, rest) = rest.split_once(" events verified in ")?;
        let (secs, _) = rest.split_once(" s,")?;
        Some((events.parse::<i64>().ok()?, secs.parse::<f64>().ok()?))
    });
    let Some((events, secs)) = parsed.filter(|_| out.status.success()) else {
        anyhow::bail!(
            "naskah audit verify failed ({}): {text}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    };
    eprintln!(
        "  audit verify ({which}): {events} events in {secs:.3} s ({:.0} events/s; process {process_secs:.2} s)",
        events as f64 / secs
    );
    Ok((events, secs, process_secs))
}

struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// mimalloc instead of the system allocator: the server allocates and frees many
/// small buffers across threads (tokio workers, database workers), where glibc's
/// arenas spent a fifth of the CPU time and kept memory from being returned.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// SIGINT and SIGTERM, listened for from the moment this is made (the run's
/// first steps block its thread, so a listener made on first poll could come
/// too late).
struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn listen() -> anyhow::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
        })
    }

    /// The name of the first signal that arrives.
    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.int.recv() => "SIGINT",
            _ = self.term.recv() => "SIGTERM",
        }
    }
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("naskah-bench: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let result = rt.block_on(async move {
        match args.hidden {
            Some(Hidden::Ceiling {
                listen,
                database_url,
                own_reads,
            }) => ceiling::serve(listen, &database_url, own_reads).await,
            Some(Hidden::Exchange {
                handovers,
                letters,
                addressees,
            }) => exchange::run(args.database, handovers, letters, addressees, args.json).await,
            // Interrupted (Ctrl-C, `kill`, a timeout), the run is dropped:
            // its server processes are killed and its PostgreSQL cluster and
            // working files removed, as at the end of a run.
            None => {
                let mut signals = Signals::listen()?;
                tokio::select! {
                    r = bench(args) => r,
                    name = signals.next() => Err(anyhow::anyhow!(
                        "stopped by {name}; its servers, cluster and files are gone"
                    )),
                }
            }
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("naskah-bench: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}
