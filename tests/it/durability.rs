//! The write path through the real binary: a server killed outright in the
//! middle of a write load keeps every write it acknowledged, and two servers
//! on one PostgreSQL database write concurrently into one chain. Both end with
//! `naskah audit verify`, the operator's own check.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use naskah::proto::letter_service_client::LetterServiceClient;
use naskah::proto::{self as pb, LetterType, SecurityLevel, Urgency};
use tonic::transport::Channel;

use naskah_testkit::demo::Demo;
use naskah_testkit::dual;
use naskah_testkit::inspect::letters_in;
use naskah_testkit::{Db, authed, fresh_db_url, serve_binary};

/// The drafter's token and position, and the addressee's position, on the
/// server behind `channel`.
async fn sign_in(channel: &Channel) -> (String, String, String) {
    let d = Demo::login_on(channel, &["kasi.egov", "kadis.kominfo"]).await;
    (
        d.token("kasi.egov").to_owned(),
        d.pos("kasi.egov"),
        d.pos("kadis.kominfo"),
    )
}

fn draft_request(from: &str, to: &str, n: usize) -> pb::CreateDraftRequest {
    pb::CreateDraftRequest {
        drafting_position_id: from.to_owned(),
        r#type: LetterType::NotaDinas as i32,
        subject: format!("Laporan harian {n}"),
        body: "Dengan hormat, terlampir laporan harian.".into(),
        security_level: SecurityLevel::Biasa as i32,
        urgency: Urgency::Biasa as i32,
        classification_code: "000.1.2".into(),
        recipients: vec![pb::Addressee {
            target: Some(pb::addressee::Target::PositionId(to.to_owned())),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// `clients` clients creating drafts on `channel` until `stop` is set or a
/// call fails; the ids of the drafts whose creation was answered OK.
fn load(
    channel: &Channel,
    token: &str,
    from: &str,
    to: &str,
    clients: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Vec<String>>> {
    (0..clients)
        .map(|c| {
            let (channel, token, from, to, stop) = (
                channel.clone(),
                token.to_owned(),
                from.to_owned(),
                to.to_owned(),
                stop.clone(),
            );
            tokio::spawn(async move {
                let mut client = LetterServiceClient::new(channel);
                let mut acknowledged = Vec::new();
                let mut n = c * 1_000_000;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    match client
                        .create_draft(authed(draft_request(&from, &to, n), &token))
                        .await
                    {
                        Ok(r) => acknowledged.push(r.into_inner().id),
                        Err(_) => break,
                    }
                }
                acknowledged
            })
        })
        .collect()
}

async fn joined(tasks: Vec<tokio::task::JoinHandle<Vec<String>>>) -> Vec<String> {
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("client task"));
    }
    all
}

/// `naskah audit verify` on `url`: its exit status and what it printed.
fn audit_verify(url: &str, dir: &std::path::Path) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_naskah"))
        .args(["audit", "verify", "--database-url", url, "--data-dir"])
        .arg(dir)
        .env_remove("NASKAH_CONFIG")
        .output()
        .expect("run naskah audit verify");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

async fn a_server_killed_during_a_write_load_keeps_every_acknowledged_write(db: Db) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = fresh_db_url(db, dir.path()).await;
    let mut served = serve_binary(crate::NASKAH, &url, dir.path(), &["--demo"], &[]).await;
    let (token, from, to) = sign_in(&served.channel).await;
    let stop = Arc::new(AtomicBool::new(false));
    let tasks = load(&served.channel, &token, &from, &to, 16, &stop);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // SIGKILL: nothing of the server runs after it, groups open included.
    served.child.kill().expect("SIGKILL");
    served.child.wait().expect("wait");
    let acknowledged = joined(tasks).await;
    assert!(
        acknowledged.len() > 16,
        "the load ran before the kill: {} writes",
        acknowledged.len()
    );
    drop(served);

    let again = serve_binary(crate::NASKAH, &url, dir.path(), &["--demo"], &[]).await;
    let (token, _, _) = sign_in(&again.channel).await;
    let mut client = LetterServiceClient::new(again.channel.clone());
    for id in &acknowledged {
        let letter = client
            .get_letter(authed(
                pb::GetLetterRequest {
                    letter_id: id.clone(),
                    ..Default::default()
                },
                &token,
            ))
            .await
            .unwrap_or_else(|e| panic!("acknowledged draft {id} is gone: {e:?}"))
            .into_inner();
        assert_eq!(&letter.id, id);
    }
    assert_eq!(again.terminate().code(), Some(0));
    let (ok, printed) = audit_verify(&url, dir.path());
    assert!(ok, "audit verify after the kill: {printed}");
}
dual!(a_server_killed_during_a_write_load_keeps_every_acknowledged_write);

/// Two server processes on one PostgreSQL database, both under a write load:
/// every acknowledged draft is there exactly once, nothing else was added,
/// and the chain verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_write_concurrently_into_one_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = fresh_db_url(Db::Postgres, dir.path()).await;
    let first = serve_binary(crate::NASKAH, &url, dir.path(), &["--demo"], &[]).await;
    let second = serve_binary(crate::NASKAH, &url, dir.path(), &[], &[]).await;
    let (token, from, to) = sign_in(&first.channel).await;
    let before = letters_in(&url).await;
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = load(&first.channel, &token, &from, &to, 8, &stop);
    tasks.extend(load(&second.channel, &token, &from, &to, 8, &stop));
    tokio::time::sleep(Duration::from_millis(2000)).await;
    stop.store(true, Ordering::SeqCst);
    let mut acknowledged = joined(tasks).await;
    let n = acknowledged.len();
    acknowledged.sort();
    acknowledged.dedup();
    assert_eq!(acknowledged.len(), n, "every answer names its own draft");
    assert!(n > 16, "the load ran: {n} writes");
    assert_eq!(
        letters_in(&url).await - before,
        n as i64,
        "exactly the acknowledged drafts were added"
    );
    assert_eq!(first.terminate().code(), Some(0));
    assert_eq!(second.terminate().code(), Some(0));
    let (ok, printed) = audit_verify(&url, dir.path());
    assert!(ok, "audit verify: {printed}");
}
