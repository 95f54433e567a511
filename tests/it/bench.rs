//! The benchmark binary runs (quick mode) on both databases and reports every
//! operation beside its ceiling, without errors — so it never rots. Its figures
//! are not asserted: speed targets live in BENCHMARKS.md, not in tests.

use std::process::Command;

fn quick_run(database: &str) {
    let dir = tempfile::tempdir().expect("tmp");
    let json = dir.path().join("bench.json");
    let out = Command::new(env!("CARGO_BIN_EXE_naskah-bench"))
        .args([
            "--quick",
            "--database",
            database,
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
    // The whole chain (the seed's events and the 3,000 appended) verified.
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
    quick_run("sqlite");
}

#[test]
fn the_quick_benchmark_runs_on_postgres() {
    quick_run("postgres");
}

#[test]
fn an_unknown_operation_name_is_refused_before_anything_runs() {
    let out = Command::new(env!("CARGO_BIN_EXE_naskah-bench"))
        .args(["--quick", "--ops", "GetLetter,ListLetters"])
        .output()
        .expect("run naskah-bench");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown operation \"ListLetters\""),
        "{stderr}"
    );
    assert!(!stderr.contains("seeding"), "{stderr}");
}

/// A benchmark stopped by a signal leaves no PostgreSQL server and no files:
/// the cluster it started is stopped and its working directory removed.
#[test]
fn a_benchmark_stopped_by_a_signal_removes_its_cluster() {
    use std::os::unix::fs::PermissionsExt;
    use std::time::{Duration, Instant};
    let tmp = tempfile::tempdir().expect("tmp");
    // The cluster runs as the postgres user when the tests run as root: it
    // must be able to reach its directory.
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut child = Command::new(env!("CARGO_BIN_EXE_naskah-bench"))
        .args(["--quick", "--database", "postgres"])
        .env("TMPDIR", tmp.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start naskah-bench");
    // Wait until its server is up (its pid file names the process).
    let started = Instant::now();
    let postmaster = loop {
        let found = std::fs::read_dir(tmp.path())
            .expect("list")
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("pg/data/postmaster.pid"))
            .find_map(|p| std::fs::read_to_string(p).ok())
            .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<u32>().ok()));
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
    let alive = |pid: u32| std::path::Path::new(&format!("/proc/{pid}")).exists();
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
    let gone = Instant::now();
    while alive(postmaster) && gone.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!alive(postmaster), "the cluster's server is still running");
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("list")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
}
