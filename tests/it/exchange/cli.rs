//! The operator's commands of the exchange: `naskah peers export | add |
//! list | remove` and `naskah agency abolish-position`, run as the real
//! binary on the databases of two installations.

use naskah_testkit::{Db, TestServer, dual};

fn naskah(t: &TestServer, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let out = std::process::Command::new(crate::NASKAH)
        .args(args)
        .args(["--database-url", &t.db_url, "--data-dir"])
        .arg(t.dir.path())
        .env_remove("NASKAH_CONFIG")
        .envs(env.iter().copied())
        .output()
        .expect("run naskah");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

async fn peers_are_managed_from_the_command_line(db: Db) {
    let a = TestServer::start_demo(db).await;
    let b = TestServer::start(db).await;
    // Without an exchange endpoint there is no card to give.
    let (ok, out) = naskah(&a, &["peers", "export", "--agency", "DEMO-PROV"], &[]);
    assert!(!ok && out.contains("exchange"), "{out}");
    let (ok, card) = naskah(
        &a,
        &["peers", "export", "--agency", "DEMO-PROV"],
        &[(
            "NASKAH_EXCHANGE_ENDPOINT",
            "https://naskah.prov.example.go.id:50052",
        )],
    );
    assert!(ok, "{card}");
    let parsed: serde_json::Value = serde_json::from_str(&card).expect("a JSON card");
    assert_eq!(parsed["agency_code"], "DEMO-PROV");
    assert_eq!(
        parsed["endpoint"],
        "https://naskah.prov.example.go.id:50052"
    );
    assert!(
        parsed["ca_certificate_pem"]
            .as_str()
            .is_some_and(|p| p.starts_with("-----BEGIN CERTIFICATE-----"))
    );
    let file = b.dir.path().join("demo-prov.json");
    std::fs::write(&file, &card).expect("write card");
    let f = file.to_str().expect("path");
    let (ok, out) = naskah(&b, &["peers", "add", "--agency", "INSTANSI", f], &[]);
    assert!(ok, "{out}");
    let (ok, out) = naskah(&b, &["peers", "list", "--agency", "INSTANSI"], &[]);
    assert!(
        ok && out.contains("DEMO-PROV\thttps://naskah.prov.example.go.id:50052"),
        "{out}"
    );
    // A card that is not one, and an agency's own card, are refused.
    std::fs::write(&file, "{\"agency_code\": \"X\"}").expect("write");
    let (ok, out) = naskah(&b, &["peers", "add", "--agency", "INSTANSI", f], &[]);
    assert!(!ok, "{out}");
    let (ok, out) = naskah(
        &b,
        &["peers", "remove", "--agency", "INSTANSI", "DEMO-PROV"],
        &[],
    );
    assert!(ok, "{out}");
    let (ok, out) = naskah(&b, &["peers", "list", "--agency", "INSTANSI"], &[]);
    assert!(ok && !out.contains("DEMO-PROV"), "{out}");
    let (ok, out) = naskah(
        &b,
        &["peers", "remove", "--agency", "INSTANSI", "DEMO-PROV"],
        &[],
    );
    assert!(!ok && out.contains("no such peer"), "{out}");
    // Abolishing names existing positions only.
    let nobody = uuid::Uuid::new_v4().to_string();
    let (ok, out) = naskah(
        &a,
        &[
            "agency",
            "abolish-position",
            "--agency",
            "DEMO-PROV",
            &nobody,
            "--successor",
            &nobody,
        ],
        &[],
    );
    assert!(!ok && out.contains("not found"), "{out}");
    a.stop().await;
    b.stop().await;
}
dual!(peers_are_managed_from_the_command_line);
