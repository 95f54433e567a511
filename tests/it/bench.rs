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
