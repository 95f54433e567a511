//! The benchmark binary runs (quick mode) on both databases and reports every
//! operation beside its ceiling, without errors — so it never rots. Its figures
//! are not asserted: speed targets live in BENCHMARKS.md, not in tests.
//!
//! The benchmark starts the `naskah` binary it finds next to its own, where
//! `cargo test --workspace` builds both (the workspace's root package has
//! integration tests, so its binary is built with them).

use std::path::PathBuf;
use std::process::Command;

/// The `naskah` binary next to `naskah-bench`, which the benchmark starts.
fn naskah_bin() -> PathBuf {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_naskah-bench")).with_file_name("naskah");
    assert!(
        bin.is_file(),
        "{} is missing: run the benchmark's tests with the workspace's \
         (cargo test --workspace), which builds it",
        bin.display()
    );
    bin
}

fn quick_run(database: &str, servers: u16) {
    naskah_bin();
    let dir = tempfile::tempdir().expect("tmp");
    let json = dir.path().join("bench.json");
    let out = Command::new(env!("CARGO_BIN_EXE_naskah-bench"))
        .args([
            "--quick",
            "--database",
            database,
            "--servers",
            &servers.to_string(),
            "--audit-events",
            "3000",
            "--json",
        ])
        .arg(&json)
        .output()
        .expect("run naskah-bench");
    assert!(
        out.status.success(),
        "naskah-bench --quick failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("json written")).expect("json");
    assert_eq!(report["servers"], servers);
    let ops = report["ops"].as_array().expect("ops");
    let names: Vec<&str> = ops.iter().filter_map(|o| o["name"].as_str()).collect();
    assert_eq!(
        names,
        [
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
            "VerifyLetter"
        ]
    );
    for o in ops {
        assert_eq!(o["errors"], 0, "{o}");
        assert!(o["ops_per_s"].as_f64().unwrap_or(0.0) > 0.0, "{o}");
        assert!(o["ceiling_ops_per_s"].as_f64().unwrap_or(0.0) > 0.0, "{o}");
        // Reads also beside a ceiling on naskah's own read connections.
        let writes = [
            "CreateDraft",
            "ApproveLetter",
            "SignLetter",
            "CreateDisposition",
            "RespondToDisposition",
        ];
        let own = o["own_reads_ceiling_ops_per_s"].as_f64().unwrap_or(-1.0);
        if writes.contains(&o["name"].as_str().unwrap_or("")) {
            assert_eq!(own, 0.0, "{o}");
        } else {
            assert!(own > 0.0, "{o}");
        }
        assert!(o["p99_ms"].as_f64().unwrap_or(0.0) >= o["p50_ms"].as_f64().unwrap_or(0.0));
    }
    assert_eq!(report["mixed"]["errors"], 0, "{}", report["mixed"]);
    assert!(report["mixed"]["ops_per_s"].as_f64().unwrap_or(0.0) > 0.0);
    assert!(report["peak_rss_mb"].as_f64().unwrap_or(0.0) > 0.0);
    assert!(report["passphrase_kdf_ms"].as_f64().unwrap_or(0.0) > 0.0);
    // The whole chain (the seed's events, the runs' events — written by
    // several servers at once on PostgreSQL — and the 3,000 appended) verified.
    let audit = &report["audit_verify"];
    assert!(audit["events"].as_i64().unwrap_or(0) > 3000, "{audit}");
    for key in ["events_per_s", "again_events_per_s"] {
        assert!(audit[key].as_f64().unwrap_or(0.0) > 0.0, "{key}: {audit}");
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("| SignLetter |"), "{stdout}");
}

#[test]
fn the_quick_benchmark_runs_on_sqlite() {
    quick_run("sqlite", 1);
}

/// Two naskah servers share the PostgreSQL database, as in production: every
/// operation without errors, and the audit chain both wrote verifies.
#[test]
fn the_quick_benchmark_runs_on_postgres_with_two_servers() {
    quick_run("postgres", 2);
}

/// naskah-bench with `args` fails with `message` before it seeds anything.
fn refused_before_anything_runs(args: &[&str], message: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_naskah-bench"))
        .args(args)
        .output()
        .expect("run naskah-bench");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(message), "{stderr}");
    assert!(!stderr.contains("seeding"), "{stderr}");
}

#[test]
fn several_servers_need_postgres() {
    refused_before_anything_runs(
        &["--quick", "--database", "sqlite", "--servers", "2"],
        "--servers above 1 needs --database postgres",
    );
}

#[test]
fn an_unknown_operation_name_is_refused_before_anything_runs() {
    refused_before_anything_runs(
        &["--quick", "--ops", "GetLetter,ListLetters"],
        "unknown operation \"ListLetters\"",
    );
}

/// A quick PostgreSQL benchmark run with `TMPDIR` set to `tmp`, started; with
/// the pid of its cluster's postmaster once that runs.
fn started_run(
    tmp: &std::path::Path,
    extra: &[&str],
    except: Option<u32>,
) -> (std::process::Child, u32) {
    use std::time::{Duration, Instant};
    naskah_bin();
    let mut child = Command::new(env!("CARGO_BIN_EXE_naskah-bench"))
        .args(["--quick", "--database", "postgres"])
        .args(extra)
        .env("TMPDIR", tmp)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start naskah-bench");
    // Wait until its server is up (its pid file names the process).
    let started = Instant::now();
    let postmaster = loop {
        let found = std::fs::read_dir(tmp)
            .expect("list")
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("pg/data/postmaster.pid"))
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .filter_map(|t| t.lines().next().and_then(|l| l.trim().parse::<u32>().ok()))
            .find(|pid| Some(*pid) != except);
        if let Some(pid) = found {
            break pid;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the benchmark's cluster did not start"
        );
        assert!(
            child.try_wait().expect("wait").is_none(),
            "naskah-bench ended early"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    (child, postmaster)
}

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Waits up to 10 s for process `pid` to be gone.
fn gone(pid: u32) -> bool {
    use std::time::{Duration, Instant};
    let since = Instant::now();
    while alive(pid) && since.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    !alive(pid)
}

/// The port of the cluster of the run in `tmp` (its `postmaster.pid`'s
/// fourth line).
fn cluster_port(tmp: &std::path::Path) -> u16 {
    std::fs::read_dir(tmp)
        .expect("list")
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read_to_string(e.path().join("pg/data/postmaster.pid")).ok())
        .find_map(|t| t.lines().nth(3).and_then(|l| l.trim().parse().ok()))
        .expect("the cluster's port")
}

/// The naskah and ceiling server processes using the cluster on `port`.
fn servers_of(port: u16) -> Vec<u32> {
    let needle = format!("127.0.0.1:{port}/");
    std::fs::read_dir("/proc")
        .expect("proc")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let pid = e.file_name().to_str()?.parse::<u32>().ok()?;
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            let args: Vec<String> = cmdline
                .split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            let program = args.first()?.rsplit('/').next()?.to_owned();
            let ours = matches!(program.as_str(), "naskah" | "naskah-bench")
                && args.iter().any(|a| a.contains(&needle));
            ours.then_some(pid)
        })
        .collect()
}

/// A temporary directory the cluster's user (postgres, when the tests run as
/// root) can reach.
/// Whatever a failed test left running there (a benchmark's cluster) is
/// killed before the directory goes.
fn reachable_tmp() -> BenchTmp {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    BenchTmp(tmp)
}

struct BenchTmp(tempfile::TempDir);

impl BenchTmp {
    fn path(&self) -> &std::path::Path {
        self.0.path()
    }
}

impl Drop for BenchTmp {
    fn drop(&mut self) {
        let Ok(entries) = std::fs::read_dir(self.0.path()) else {
            return;
        };
        for e in entries.flatten() {
            let pid = std::fs::read_to_string(e.path().join("pg/data/postmaster.pid"))
                .ok()
                .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<u32>().ok()));
            if let Some(pid) = pid {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
    }
}

fn left_in(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .expect("list")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect()
}

/// A benchmark stopped by a signal leaves no PostgreSQL server and no files:
/// the cluster it started is stopped and its working directory removed.
#[test]
fn a_benchmark_stopped_by_a_signal_removes_its_cluster() {
    let tmp = reachable_tmp();
    let (child, postmaster) = started_run(tmp.path(), &[], None);
    assert!(alive(postmaster));
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let out = child.wait_with_output().expect("wait");
    assert!(!out.status.success(), "a stopped run is not a success");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("stopped by SIGTERM"), "{stderr}");
    // pg_ctl's immediate stop has returned by now; the process is gone.
    assert!(gone(postmaster), "the cluster's server is still running");
    let left = left_in(tmp.path());
    assert!(left.is_empty(), "files left behind: {left:?}");
}

/// A benchmark killed outright (SIGKILL: nothing of it runs) leaves its
/// cluster running; the next run stops it and removes its directory before
/// starting its own.
#[test]
fn a_benchmark_killed_outright_has_its_cluster_removed_by_the_next_run() {
    use std::time::{Duration, Instant};
    let tmp = reachable_tmp();
    let (mut child, postmaster) = started_run(tmp.path(), &[], None);
    // Once its naskah server runs (it starts the servers after seeding).
    let port = cluster_port(tmp.path());
    let since = Instant::now();
    let servers = loop {
        let found = servers_of(port);
        if !found.is_empty() {
            break found;
        }
        assert!(
            since.elapsed() < Duration::from_secs(60),
            "the benchmark's server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    child.kill().expect("SIGKILL");
    child.wait().expect("wait");
    for pid in servers {
        assert!(gone(pid), "the benchmark's server {pid} outlived it");
    }
    assert!(alive(postmaster), "a killed run leaves its cluster");
    assert_eq!(left_in(tmp.path()).len(), 1, "and its directory");
    let (next, own) = started_run(
        tmp.path(),
        &[
            "--ops",
            "none",
            "--mixed-clients",
            "2",
            "--mixed-duration",
            "1",
        ],
        Some(postmaster),
    );
    assert_ne!(own, postmaster);
    assert!(gone(postmaster), "the left cluster's server was stopped");
    let out = next.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let left = left_in(tmp.path());
    assert!(left.is_empty(), "files left behind: {left:?}");
}

/// `scripts/pg_chain_bound.sh` (PostgreSQL alone, driven by pgbench, on
/// naskah's own tables) runs one second per shape, every shape reports writes,
/// and the chained shapes leave the chain without a gap.
#[test]
fn the_postgresql_bound_script_runs_and_leaves_the_chain_whole() {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/pg_chain_bound.sh"
    );
    let out = Command::new("bash")
        .args([script, "1"])
        .env("NASKAH_BIN", naskah_bin())
        .output()
        .expect("run the script");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pg_chain_bound.sh failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<(&str, f64)> = stdout
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let writes = cells.get(4)?.parse::<f64>().ok()?;
            Some((cells[1], writes))
        })
        .collect();
    let shapes: Vec<&str> = rows.iter().map(|r| r.0).collect();
    assert_eq!(
        shapes,
        [
            "insert",
            "rows",
            "chain",
            "chain",
            "chain-one",
            "chain-one",
            "group-8",
            "group-32"
        ],
        "{stdout}"
    );
    assert!(rows.iter().all(|r| r.1 > 0.0), "{stdout}");
    assert!(stdout.contains(" events, no gap"), "{stdout}");
}
