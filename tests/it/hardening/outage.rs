//! A PostgreSQL outage under a running server.

use std::time::{Duration, Instant};

use tonic::Code;
use tonic_types::StatusExt;

use naskah_testkit::{OwnCluster, authed, reason};

/// PostgreSQL goes away under a running server: calls answer UNAVAILABLE with
/// a retry hint (never INTERNAL), and once the database is back the server
/// answers again by itself. (SQLite is a file in the server's own process:
/// it has no outage of this kind.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_outage_answers_unavailable_and_the_server_recovers() {
    let own = OwnCluster::start().await;
    let (cluster, channel) = (&own.cluster, own.server.channel.clone());
    let otp = own.server.bootstrap_password.clone().expect("bootstrap");
    let mut auth = naskah::proto::auth_service_client::AuthServiceClient::new(channel.clone());
    let s = auth
        .login(naskah::proto::LoginRequest {
            username: "admin".into(),
            password: otp.clone(),
        })
        .await
        .expect("login")
        .into_inner();

    cluster.pause().expect("stop PostgreSQL");
    for _ in 0..3 {
        let e = auth
            .who_am_i(authed(naskah::proto::WhoAmIRequest {}, &s.access_token))
            .await
            .unwrap_err();
        assert_eq!(
            (e.code(), reason(&e).as_str()),
            (Code::Unavailable, "UNAVAILABLE"),
            "{e:?}"
        );
        let retry = e.get_details_retry_info().and_then(|r| r.retry_delay);
        assert!(retry.is_some_and(|d| d > Duration::ZERO), "{e:?}");
        let e = auth
            .login(naskah::proto::LoginRequest {
                username: "admin".into(),
                password: otp.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::Unavailable, "{e:?}");
    }
    cluster.resume().expect("start PostgreSQL again");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match auth
            .who_am_i(authed(naskah::proto::WhoAmIRequest {}, &s.access_token))
            .await
        {
            Ok(_) => break,
            Err(e) => {
                assert_eq!(
                    e.code(),
                    Code::Unavailable,
                    "only UNAVAILABLE while it recovers: {e:?}"
                );
                assert!(
                    Instant::now() < deadline,
                    "the server did not recover: {e:?}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    own.stop().await;
}
