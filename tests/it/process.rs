//! The real `naskah` binary: start-up, health, options, graceful shutdown.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use naskah_testkit::dual;
use naskah_testkit::{Db, fresh_db_url};

fn free_port() -> u16 {
    naskah_testkit::pgcluster::free_port().expect("port")
}

async fn serve_binary_reports_serving_and_stops_on_sigterm(db: Db) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = fresh_db_url(db, dir.path()).await;
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_naskah"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            &url,
            "--data-dir",
        ])
        .arg(dir.path())
        .env_remove("NASKAH_CONFIG")
        .env("NASKAH_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn naskah serve");
    let started = Instant::now();
    let status = loop {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no SERVING within 30 s"
        );
        if let Ok(Some(exit)) = child.try_wait() {
            panic!("naskah serve exited early: {exit}");
        }
        if let Ok(ch) = tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{port}"))
            .expect("uri")
            .connect()
            .await
            && let Ok(r) = HealthClient::new(ch)
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await
        {
            break r.into_inner().status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status, ServingStatus::Serving as i32);
    assert!(started.elapsed() < Duration::from_secs(30));
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let exit = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("wait");
    assert!(exit.status.success(), "exit status {:?}", exit.status);
    let stdout = String::from_utf8_lossy(&exit.stdout);
    assert!(stdout.contains("one-time password"), "{stdout}");
}
dual!(serve_binary_reports_serving_and_stops_on_sigterm);

fn start_error(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_naskah"));
    cmd.args(args)
        .arg("--data-dir")
        .arg(dir.path())
        .env_remove("NASKAH_CONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run naskah");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_options_give_clear_start_up_errors() {
    let (code, err) = start_error(&["serve", "--listen", "nowhere"], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("listen") && err.contains("nowhere"), "{err}");

    let (code, err) = start_error(&["serve", "--database-url", "mysql://db/naskah"], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("database_url"), "{err}");

    let (code, err) = start_error(&["serve"], &[("NASKAH_REQUEST_TIMEOUT_SECS", "0")]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("request_timeout_secs"), "{err}");

    let (code, err) = start_error(&["serve"], &[("NASKAH_LOG_FORMAT", "xml")]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("log_format") || err.contains("xml"), "{err}");

    let (code, err) = start_error(&["serve", "--config", "/nonexistent/naskah.toml"], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("does not exist"), "{err}");

    let (code, err) = start_error(
        &[
            "serve",
            "--database-url",
            "postgres://nobody@127.0.0.1:1/none",
        ],
        &[],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot open the database"), "{err}");
}

/// `naskah agency create` on an installation: the new agency's administrator
/// logs in with the printed one-time password as `admin@<code>`, must change
/// it, and sees only their own agency; a second create of the same code is
/// refused.
async fn agency_create_makes_a_working_second_agency(db: Db) {
    use naskah::proto::auth_service_client::AuthServiceClient;
    use naskah::proto::org_service_client::OrgServiceClient;
    let dir = tempfile::tempdir().expect("tempdir");
    let url = fresh_db_url(db, dir.path()).await;
    // The installation's first start creates its own administrator.
    let first = naskah_testkit::serve_binary(crate::NASKAH, &url, dir.path(), &[], &[]).await;
    let printed = first.printed_with("one-time password").await;
    assert!(printed.contains("one-time password"), "{printed}");
    assert!(first.terminate().success());

    let create = || {
        Command::new(env!("CARGO_BIN_EXE_naskah"))
            .args([
                "agency",
                "create",
                "DINKES",
                "--name",
                "Dinas Kesehatan",
                "--database-url",
                &url,
                "--data-dir",
            ])
            .arg(dir.path())
            .env_remove("NASKAH_CONFIG")
            .output()
            .expect("run naskah agency create")
    };
    let out = create();
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let otp = printed
        .lines()
        .find_map(|l| l.split("one-time password: ").nth(1))
        .expect("the password is printed")
        .trim()
        .to_owned();
    assert!(printed.contains("admin@dinkes"), "{printed}");
    let again = create();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));

    let served = naskah_testkit::serve_binary(crate::NASKAH, &url, dir.path(), &[], &[]).await;
    let mut auth = AuthServiceClient::new(served.channel.clone());
    let s = auth
        .login(naskah::proto::LoginRequest {
            username: "admin@dinkes".into(),
            password: otp.clone(),
        })
        .await
        .expect("the new administrator logs in")
        .into_inner();
    assert!(s.must_change_password);
    auth.change_password(naskah_testkit::authed(
        naskah::proto::ChangePasswordRequest {
            current_password: otp,
            new_password: "dinas-kesehatan-2026".into(),
        },
        &s.access_token,
    ))
    .await
    .expect("change");
    let token = auth
        .login(naskah::proto::LoginRequest {
            username: "admin@dinkes".into(),
            password: "dinas-kesehatan-2026".into(),
        })
        .await
        .expect("login")
        .into_inner()
        .access_token;
    let users = OrgServiceClient::new(served.channel.clone())
        .list_users(naskah_testkit::authed(
            naskah::proto::ListUsersRequest::default(),
            &token,
        ))
        .await
        .expect("list users")
        .into_inner()
        .users;
    let names: Vec<&str> = users.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["admin@dinkes"], "only its own agency's users");
    // Its CA is its own.
    let ca = naskah::proto::signature_service_client::SignatureServiceClient::new(
        served.channel.clone(),
    )
    .get_agency_certificate(naskah_testkit::authed(
        naskah::proto::GetAgencyCertificateRequest {},
        &token,
    ))
    .await
    .expect("its CA")
    .into_inner();
    let pem = dir.path().join("dinkes-ca.pem");
    std::fs::write(&pem, ca.certificate_pem).expect("write");
    let subject = Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-in"])
        .arg(&pem)
        .output()
        .expect("openssl");
    let subject = String::from_utf8_lossy(&subject.stdout).into_owned();
    assert!(subject.contains("Dinas Kesehatan"), "{subject}");
    assert!(served.terminate().success());
}
dual!(agency_create_makes_a_working_second_agency);
