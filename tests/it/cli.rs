//! The `naskah` binary's commands the tests run as an operator would.

use std::process::Command;

use naskah_testkit::TestServer;

/// Runs `naskah audit verify` against the test's database; returns exit code and stdout.
pub fn verify_cli(t: &TestServer) -> (i32, String) {
    let out = Command::new(crate::NASKAH)
        .args(["audit", "verify", "--database-url", &t.db_url, "--data-dir"])
        .arg(t.dir.path())
        .env_remove("NASKAH_CONFIG")
        .output()
        .expect("run naskah audit verify");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}
