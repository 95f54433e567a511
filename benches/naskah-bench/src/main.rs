//! naskah-bench: seeds a realistic dataset in bulk, starts a naskah server process
//! and a bare "ceiling" tonic server on the same database, drives both with the
//! same concurrent gRPC clients, and reports throughput, latency percentiles,
//! errors and server memory per operation (table on stdout, JSON with --json).
//!
//! `cargo build --release --workspace`, then
//! `cargo run --release -p naskah-bench -- --database sqlite --letters 100000`

mod ceiling;
mod pg;
mod seed;

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

/// Latencies and counts of one run.
#[derive(Clone, Debug, Default)]
struct Stats {
    ok: u64,
    errors: u64,
    first_error: String,
    lat_us: Vec<u32>,
    secs: f64,
}

impl Stats {
    fn rate(&self) -> f64 {
        if self.secs > 0.0 {
            self.ok as f64 / self.secs
        } else {
            0.0
        }
    }
    fn pct(&self, p: f64) -> f64 {
        if self.lat_us.is_empty() {
            return 0.0;
        }
        let mut v = self.lat_us.clone();
        v.sort_unstable();
        let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
        f64::from(v[i]) / 1000.0
    }
}

type OpFn =
    Arc<dyn Fn(Channel, u64) -> BoxFuture<'static, Result<(), tonic::Status>> + Send + Sync>;

async fn connect(addr: SocketAddr) -> anyhow::Result<Channel> {
    Ok(Endpoint::from_shared(format!("http://{addr}"))?
        .tcp_nodelay(true)
        .connect()
        .await?)
}

/// `clients` clients, each on its own connection, call `op` in a loop for `secs`.
/// With several addresses, client `i` calls the `i`-th of them (round).
async fn drive(addrs: &[SocketAddr], clients: usize, secs: f64, op: OpFn) -> anyhow::Result<Stats> {
    let mut channels = Vec::new();
    for addr in addrs.iter().cycle().take(clients) {
        channels.push(connect(*addr).await?);
    }
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for (c, ch) in channels.into_iter().enumerate() {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = Stats::default();
            let mut n = c as u64 * 1_000_003;
            while Instant::now() < deadline {
                n += 1;
                let t0 = Instant::now();
                match op(ch.clone(), n).await {
                    Ok(()) => {
                        s.ok += 1;
                        s.lat_us
                            .push(t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                    }
                    Err(e) if e.message() == POOL_EMPTY => break,
                    Err(e) => {
                        s.errors += 1;
                        if s.first_error.is_empty() {
                            s.first_error = format!("{:?}: {}", e.code(), e.message());
                        }
                    }
                }
            }
            s
        }));
    }
    let mut total = Stats::default();
    for t in tasks {
        let s = t.await?;
        total.ok += s.ok;
        total.errors += s.errors;
        if total.first_error.is_empty() {
            total.first_error = s.first_error;
        }
        total.lat_us.extend(s.lat_us);
    }
    total.secs = start.elapsed().as_secs_f64();
    Ok(total)
}

const POOL_EMPTY: &str = "benchmark pool exhausted";

/// Everything the operations need.
struct World {
    tokens: BTreeMap<&'static str, String>,
    org: seed::Org,
    seeded: seed::Seeded,
    review: Mutex<Vec<(String, String)>>,
    sign: Mutex<Vec<(String, String)>>,
}

fn authed<T>(msg: T, token: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    if let Ok(v) = format!("Bearer {token}").parse() {
        r.metadata_mut().insert("authorization", v);
    }
    r
}

fn pick(v: &[String], n: u64) -> &str {
    v.get((n as usize) % v.len().max(1))
        .map(String::as_str)
        .unwrap_or("")
}

const OPS: &[&str] = &[
    "Login",
    "ListLetters(INBOX)",
    "ListLetters(INBOX/FULL)",
    "ListLetters(INBOX/SECRETARY)",
    "GetLetter",
    "CreateDraft",
    "ApproveLetter",
    "SignLetter",
    "CreateDisposition",
    "RespondToDisposition",
    "GetDispositionTree",
    "VerifyLetter",
];

/// One call of a naskah operation.
fn naskah_op(w: Arc<World>, name: &'static str) -> OpFn {
    Arc::new(move |ch: Channel, n: u64| {
        let w = w.clone();
        Box::pin(async move { call(&w, name, ch, n).await })
    })
}

async fn call(w: &World, name: &str, ch: Channel, n: u64) -> Result<(), tonic::Status> {
    let tok = |u: &str| w.tokens.get(u).cloned().unwrap_or_default();
    match name {
        "Login" => {
            let user = ["kasi.egov", "staf.egov", "kabid.ikp", "sekda"][(n % 4) as usize];
            AuthServiceClient::new(ch)
                .login(pb::LoginRequest {
                    username: user.into(),
                    password: naskah::domain::demo::DEMO_PASSWORD.into(),
                })
                .await?;
        }
        "ListLetters(INBOX)" | "ListLetters(INBOX/FULL)" | "ListLetters(INBOX/SECRETARY)" => {
            let (user, position_id, view) = match name {
                "ListLetters(INBOX/FULL)" => (
                    "kadis.kominfo",
                    w.org.pos("kadis.kominfo"),
                    pb::LetterView::Full,
                ),
                // The head's secretary names no position: the page merges the
                // secretary's own inbox with the head's.
                "ListLetters(INBOX/SECRETARY)" => {
                    ("tu.kominfo", String::new(), pb::LetterView::Basic)
                }
                _ => (
                    "kadis.kominfo",
                    w.org.pos("kadis.kominfo"),
                    pb::LetterView::Basic,
                ),
            };
            LetterServiceClient::new(ch)
                .list_letters(authed(
                    pb::ListLettersRequest {
                        folder: pb::Folder::Inbox as i32,
                        position_id,
                        page_size: 20,
                        view: view as i32,
                        ..Default::default()
                    },
                    &tok(user),
                ))
                .await?;
        }
        "GetLetter" => {
            LetterServiceClient::new(ch)
                .get_letter(authed(
                    pb::GetLetterRequest {
                        letter_id: pick(&w.seeded.inbox, n).to_owned(),
                        ..Default::default()
                    },
                    &tok("kadis.kominfo"),
                ))
                .await?;
        }
        "CreateDraft" => {
            LetterServiceClient::new(ch)
                .create_draft(authed(
                    pb::CreateDraftRequest {
                        drafting_position_id: w.org.pos("kasi.egov"),
                        r#type: pb::LetterType::NotaDinas as i32,
                        subject: "Permohonan data layanan".into(),
                        body: "Dengan hormat, bersama ini kami mohon data layanan e-government."
                            .into(),
                        security_level: pb::SecurityLevel::Biasa as i32,
                        urgency: pb::Urgency::Biasa as i32,
                        classification_code: "000.1.1".into(),
                        recipients: vec![pb::Addressee {
                            target: Some(pb::addressee::Target::PositionId(
                                w.org.pos("kabid.aptika"),
                            )),
                            ..Default::default()
                        }],
                        ..Default::default()
                    },
                    &tok("kasi.egov"),
                ))
                .await?;
        }
        "ApproveLetter" => {
            let Some((id, etag)) = w.review.lock().ok().and_then(|mut v| v.pop()) else {
                return Err(tonic::Status::resource_exhausted(POOL_EMPTY));
            };
            LetterServiceClient::new(ch)
                .approve_letter(authed(
                    pb::ApproveLetterRequest {
                        letter_id: id,
                        etag,
                        ..Default::default()
                    },
                    &tok("kabid.aptika"),
                ))
                .await?;
        }
        "SignLetter" => {
            let Some((id, etag)) = w.sign.lock().ok().and_then(|mut v| v.pop()) else {
                return Err(tonic::Status::resource_exhausted(POOL_EMPTY));
            };
            LetterServiceClient::new(ch)
                .sign_letter(authed(
                    pb::SignLetterRequest {
                        letter_id: id,
                        etag,
                        passphrase: naskah::domain::demo::DEMO_PASSPHRASE.into(),
                        request_id: String::new(),
                    },
                    &tok("kadis.kominfo"),
                ))
                .await?;
        }
        "CreateDisposition" => {
            DispositionServiceClient::new(ch)
                .create_disposition(authed(
                    pb::CreateDispositionRequest {
                        letter_id: pick(&w.seeded.inbox, n).to_owned(),
                        sender_position_id: w.org.pos("kadis.kominfo"),
                        recipient_position_ids: vec![w.org.pos("kabid.aptika")],
                        instruction_codes: vec!["TINDAK_LANJUTI".into()],
                        note: "Segera tindak lanjuti.".into(),
                        urgency: pb::Urgency::Biasa as i32,
                        ..Default::default()
                    },
                    &tok("kadis.kominfo"),
                ))
                .await?;
        }
        "RespondToDisposition" => {
            DispositionServiceClient::new(ch)
                .respond_to_disposition(authed(
                    pb::RespondToDispositionRequest {
                        disposition_id: pick(&w.seeded.to_respond, n).to_owned(),
                        position_id: w.org.pos("kabid.aptika"),
                        status: pb::DispositionStatus::InProgress as i32,
                        note: "Sedang dikerjakan.".into(),
                        ..Default::default()
                    },
                    &tok("kabid.aptika"),
                ))
                .await?;
        }
        "GetDispositionTree" => {
            DispositionServiceClient::new(ch)
                .get_disposition_tree(authed(
                    pb::GetDispositionTreeRequest {
                        letter_id: pick(&w.seeded.trees, n).to_owned(),
                    },
                    &tok("kadis.kominfo"),
                ))
                .await?;
        }
        "VerifyLetter" => {
            VerificationServiceClient::new(ch)
                .verify_letter(pb::VerifyLetterRequest {
                    verification_code: pick(&w.seeded.codes, n).to_owned(),
                })
                .await?;
        }
        other => {
            return Err(tonic::Status::invalid_argument(format!(
                "unknown op {other}"
            )));
        }
    }
    Ok(())
}

/// Mixed workload: reads dominate, as in an office day.
const MIX: &[(&str, u64)] = &[
    ("ListLetters(INBOX)", 250),
    ("ListLetters(INBOX/FULL)", 50),
    ("GetLetter", 250),
    ("GetDispositionTree", 100),
    ("VerifyLetter", 40),
    ("CreateDraft", 90),
    ("ApproveLetter", 50),
    ("CreateDisposition", 70),
    ("RespondToDisposition", 80),
    ("SignLetter", 10),
    ("Login", 10),
];

fn mixed_op(w: Arc<World>) -> OpFn {
    Arc::new(move |ch: Channel, n: u64| {
        let w = w.clone();
        Box::pin(async move {
            let total: u64 = MIX.iter().map(|m| m.1).sum();
            let mut r = seed::Rng::new(n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let mut x = r.below(total);
            let mut name = MIX[0].0;
            for (op, weight) in MIX {
                if x < *weight {
                    name = op;
                    break;
                }
                x -= weight;
            }
            match call(&w, name, ch, r.next()).await {
                Err(e) if e.message() == POOL_EMPTY => Ok(()),
                other => other,
            }
        })
    })
}

/// The ceiling's equivalent of each operation: writes are one-row inserts, lists
/// an indexed page read, single reads a primary-key read.
fn ceiling_kind(name: &str) -> &'static str {
    match name {
        "ListLetters(INBOX)"
        | "ListLetters(INBOX/FULL)"
        | "ListLetters(INBOX/SECRETARY)"
        | "GetDispositionTree"
        | "Login" => "page",
        "GetLetter" | "VerifyLetter" => "get",
        _ => "insert",
    }
}

fn ceiling_op(kind: &'static str, owners: Arc<Vec<String>>, ids: Arc<Vec<String>>) -> OpFn {
    Arc::new(move |ch: Channel, n: u64| {
        let owners = owners.clone();
        let ids = ids.clone();
        Box::pin(async move {
            let mut c = LetterServiceClient::new(ch);
            let owner = pick(&owners, 0).to_owned();
            match kind {
                "page" => {
                    c.list_letters(pb::ListLettersRequest {
                        position_id: owner,
                        page_size: 20,
                        ..Default::default()
                    })
                    .await?;
                }
                "get" => {
                    c.get_letter(pb::GetLetterRequest {
                        letter_id: pick(&ids, n).to_owned(),
                        ..Default::default()
                    })
                    .await?;
                }
                _ => {
                    c.create_draft(pb::CreateDraftRequest {
                        drafting_position_id: owner,
                        subject: "Permohonan data layanan".into(),
                        body: "Dengan hormat, bersama ini kami mohon data layanan e-government."
                            .into(),
                        ..Default::default()
                    })
                    .await?;
                }
            }
            Ok(())
        })
    })
}

/// A server child process, killed on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    /// CPU time the process has used so far (user and system), seconds.
    fn cpu_s(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the command name (which may hold spaces) in its
        // parentheses; utime and stime are the 14th and 15th of the line.
        let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let ticks: f64 = after
            .split_whitespace()
            .skip(11)
            .take(2)
            .filter_map(|v| v.parse::<f64>().ok())
            .sum();
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        ticks / hz
    }

    fn rss_mb(&self, field: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(0.0)
    }
}

/// Samples a process's private resident memory (RssAnon, KiB) every 100 ms and
/// keeps the largest value. File pages (the SQLite memory map, shared with the
/// page cache) are left out: they are counted once per mapping and are not the
/// server's own memory.
fn peak_sampler(pid: u32) -> Arc<std::sync::atomic::AtomicU64> {
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let p = peak.clone();
    tokio::spawn(async move {
        loop {
            let Ok(status) = tokio::fs::read_to_string(format!("/proc/{pid}/status")).await else {
                break;
            };
            let kb = status
                .lines()
                .find(|l| l.starts_with("RssAnon:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
            p.fetch_max(kb, std::sync::atomic::Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    peak
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn wait_ready(addr: SocketAddr, child: &mut Child) -> anyhow::Result<()> {
    for _ in 0..600 {
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("server exited early: {status}");
        }
        if let Ok(ch) = connect(addr).await {
            let mut h = tonic_health::pb::health_client::HealthClient::new(ch);
            if let Ok(r) = h
                .check(tonic_health::pb::HealthCheckRequest {
                    service: String::new(),
                })
                .await
                && r.into_inner().status == 1
            {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("server on {addr} did not become ready")
}

fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe()?;
    let dir = me
        .parent()
        .ok_or_else(|| anyhow::anyhow!("no directory of the benchmark binary"))?;
    let p = dir.join(name);
    if !p.is_file() {
        anyhow::bail!(
            "{} not found next to naskah-bench; build it first (cargo build --release --workspace)",
            p.display()
        );
    }
    Ok(p)
}

/// Makes the server process that `command` starts die with this process
/// (`PR_SET_PDEATHSIG`), so that a run killed outright (SIGKILL, which runs no
/// clean-up) leaves no server behind. Servers are started from the thread
/// that runs the benchmark, which lives as long as the process.
fn die_with_parent(command: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id();
    // SAFETY: the closure runs in the child between fork and exec and calls
    // only async-signal-safe functions (prctl, getppid).
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died before the signal was asked for.
            if libc::getppid() as u32 != parent {
                return Err(std::io::Error::other("naskah-bench ended"));
            }
            Ok(())
        })
    }
}

async fn start_naskah(data_dir: &Path, url: &str) -> anyhow::Result<Server> {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let mut command = Command::new(sibling("naskah")?);
    command
        .arg("serve")
        .args([
            "--listen",
            &addr.to_string(),
            "--database-url",
            url,
            "--data-dir",
        ])
        .arg(data_dir)
        .env_remove("NASKAH_CONFIG")
        .env("NASKAH_VERIFICATION_RATE_PER_MINUTE", "100000000")
        // NASKAH_BENCH_LOG_FILTER shows more of the servers' log, such as
        // `error,naskah::groups=info` for the write groups' sizes.
        .env(
            "NASKAH_LOG_FILTER",
            std::env::var("NASKAH_BENCH_LOG_FILTER").unwrap_or_else(|_| "error".into()),
        )
        .env("NASKAH_REQUEST_TIMEOUT_SECS", "60")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let mut child = die_with_parent(&mut command).spawn()?;
    wait_ready(addr, &mut child).await?;
    Ok(Server { child, addr })
}

async fn start_ceiling(url: &str, own_reads: bool) -> anyhow::Result<Server> {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let mut command = Command::new(std::env::current_exe()?);
    command
        .args([
            "ceiling",
            "--listen",
            &addr.to_string(),
            "--database-url",
            url,
        ])
        .args(own_reads.then_some("--own-reads"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let mut child = die_with_parent(&mut command).spawn()?;
    wait_ready(addr, &mut child).await?;
    Ok(Server { child, addr })
}

#[derive(Serialize)]
struct OpReport {
    name: String,
    ops_per_s: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    errors: u64,
    ceiling_ops_per_s: f64,
    ceiling_p99_ms: f64,
    ratio: f64,
    /// The ceiling reading through naskah's own read connections (reads
    /// only; 0 for writes).
    own_reads_ceiling_ops_per_s: f64,
    own_reads_ratio: f64,
    server_rss_mb: f64,
    /// CPU time (user and system) the naskah server process spent per
    /// successful operation, in milliseconds.
    server_cpu_ms_per_op: f64,
    first_error: String,
}

#[derive(Serialize)]
struct ScaleReport {
    letters: u64,
    list_inbox_p99_ms: f64,
    list_inbox_ops_per_s: f64,
    list_secretary_p99_ms: f64,
    list_secretary_ops_per_s: f64,
    tree_p99_ms: f64,
    tree_ops_per_s: f64,
}

#[derive(Serialize)]
struct AuditReport {
    events: i64,
    /// The first run, right after the append.
    secs: f64,
    events_per_s: f64,
    process_secs: f64,
    /// The run after it.
    again_secs: f64,
    again_events_per_s: f64,
    again_process_secs: f64,
}

#[derive(Serialize)]
struct Report {
    database: DbKind,
    /// naskah servers sharing the database.
    servers: u16,
    letters: u64,
    clients: usize,
    duration_s: u64,
    ops: Vec<OpReport>,
    mixed: OpReport,
    passphrase_kdf_ms: f64,
    peak_rss_mb: f64,
    ceiling_peak_rss_mb: f64,
    scale: Vec<ScaleReport>,
    seed_letters_per_s: f64,
    audit_verify: Option<AuditReport>,
}

fn report_row(name: &str, s: &Stats, c: Option<&Stats>, own: Option<&Stats>, rss: f64) -> OpReport {
    let ceiling = c.map(Stats::rate).unwrap_or(0.0);
    let own = own.map(Stats::rate).unwrap_or(0.0);
    OpReport {
        name: name.to_owned(),
        ops_per_s: s.rate(),
        p50_ms: s.pct(0.50),
        p95_ms: s.pct(0.95),
        p99_ms: s.pct(0.99),
        errors: s.errors,
        ceiling_ops_per_s: ceiling,
        ceiling_p99_ms: c.map(|c| c.pct(0.99)).unwrap_or(0.0),
        ratio: if ceiling > 0.0 {
            s.rate() / ceiling
        } else {
            0.0
        },
        own_reads_ceiling_ops_per_s: own,
        own_reads_ratio: if own > 0.0 { s.rate() / own } else { 0.0 },
        server_rss_mb: rss,
        server_cpu_ms_per_op: 0.0,
        first_error: s.first_error.clone(),
    }
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

fn print_table(r: &Report) {
    println!(
        "\nnaskah-bench: {:?}, {} letters, {} clients, {} s per operation, {} naskah server{}\n",
        r.database,
        r.letters,
        r.clients,
        r.duration_s,
        r.servers,
        if r.servers == 1 {
            ""
        } else {
            "s (RSS: the first's)"
        }
    );
    println!(
        "| operation | ops/s | p50 ms | p95 ms | p99 ms | errors | ceiling ops/s | ratio | ceiling, own reads ops/s | ratio | server private RSS MB |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let figure = |v: f64, digits: usize| {
        if v > 0.0 {
            format!("{v:.digits$}")
        } else {
            "-".to_owned()
        }
    };
    for o in r.ops.iter().chain(std::iter::once(&r.mixed)) {
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {} | {} | {:.0} |",
            o.name,
            o.ops_per_s,
            o.p50_ms,
            o.p95_ms,
            o.p99_ms,
            o.errors,
            figure(o.ceiling_ops_per_s, 0),
            figure(o.ratio, 2),
            figure(o.own_reads_ceiling_ops_per_s, 0),
            figure(o.own_reads_ratio, 2),
            o.server_rss_mb
        );
    }
    println!(
        "\npassphrase key derivation (argon2id, in SignLetter): {:.1} ms; server peak private RSS {:.0} MB (ceiling {:.0} MB); bulk seed {:.0} letters/s",
        r.passphrase_kdf_ms, r.peak_rss_mb, r.ceiling_peak_rss_mb, r.seed_letters_per_s
    );
    if !r.scale.is_empty() {
        println!(
            "\n| letters | ListLetters(INBOX) p99 ms | ops/s | ListLetters(INBOX/SECRETARY) p99 ms | ops/s | GetDispositionTree p99 ms | ops/s |"
        );
        println!("|---:|---:|---:|---:|---:|---:|---:|");
        for s in &r.scale {
            println!(
                "| {} | {:.2} | {:.0} | {:.2} | {:.0} | {:.2} | {:.0} |",
                s.letters,
                s.list_inbox_p99_ms,
                s.list_inbox_ops_per_s,
                s.list_secretary_p99_ms,
                s.list_secretary_ops_per_s,
                s.tree_p99_ms,
                s.tree_ops_per_s
            );
        }
    }
    if let Some(a) = &r.audit_verify {
        println!(
            "\nnaskah audit verify: {} events in {:.3} s, {:.0} events/s (whole process {:.2} s); \
             again: {:.3} s, {:.0} events/s (whole process {:.2} s)",
            a.events,
            a.secs,
            a.events_per_s,
            a.process_secs,
            a.again_secs,
            a.again_events_per_s,
            a.again_process_secs
        );
    }
    for o in &r.ops {
        if !o.first_error.is_empty() {
            println!("first error of {}: {}", o.name, o.first_error);
        }
    }
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
