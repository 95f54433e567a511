//! Role × RPC: every RPC of the policy table called by users of every role, with
//! and without a token; the gate must admit exactly what the table says.

use naskah::proto::Role;
use naskah_testkit::demo::DEMO_PASSWORD;
use naskah_testkit::policy::{POLICY, Rule, admits};
use tonic::Code;

use naskah_testkit::dual;
use naskah_testkit::{Db, TestServer, reason};

async fn call(t: &TestServer, method: &str, token: Option<&str>) -> Result<(), tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(t.channel.clone());
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let mut req = tonic::Request::new(());
    req.set_timeout(std::time::Duration::from_secs(5));
    if let Some(tok) = token {
        req.metadata_mut().insert(
            "authorization",
            format!("Bearer {tok}").parse().expect("header"),
        );
    }
    let path: http::uri::PathAndQuery = method.parse().expect("path");
    let codec: tonic_prost::ProstCodec<(), ()> = Default::default();
    if method.ends_with("/Watch")
        || method.contains("ServerReflectionInfo")
        || method.ends_with("/WatchInbox")
        || method.ends_with("/DownloadAttachment")
        || method.ends_with("/ExportCaseFile")
    {
        grpc.server_streaming(req, path, codec).await.map(|_| ())
    } else {
        grpc.unary(req, path, codec).await.map(|_| ())
    }
}

async fn the_gate_admits_exactly_what_the_policy_table_says(db: Db) {
    let t = TestServer::start_demo(db).await;
    let callers: &[(&str, &[Role])] = &[
        ("staf.egov", &[Role::User]),
        ("admin", &[Role::AgencyAdmin]),
        ("pencatat", &[Role::User, Role::Registrar]),
        ("arsiparis", &[Role::User, Role::RecordsOfficer]),
        ("auditor", &[Role::User, Role::Auditor]),
        ("tu.kominfo", &[Role::User, Role::Secretary]),
    ];
    let mut tokens = Vec::new();
    for (u, roles) in callers {
        tokens.push((t.login(u, DEMO_PASSWORD).await, *roles, *u));
    }
    let mut checked = 0;
    for (method, rule) in POLICY {
        if method.starts_with("/grpc.reflection") || method.ends_with("Health/Watch") {
            continue; // bidirectional / endless streams; covered by the transport tests
        }
        let anonymous = call(&t, method, None).await;
        if *rule == Rule::Peer {
            // Served to other agencies on the exchange port only.
            for token in std::iter::once(None).chain(tokens.iter().map(|(t, _, _)| Some(t))) {
                let e = call(&t, method, token.map(String::as_str))
                    .await
                    .expect_err(method);
                assert_eq!(e.code(), Code::Unimplemented, "{method}");
                checked += 1;
            }
            continue;
        }
        match rule {
            Rule::Public => {
                if let Err(e) = &anonymous {
                    assert_ne!(reason(e), "TOKEN_MISSING", "{method} is public");
                }
            }
            _ => {
                let e = anonymous.expect_err(method);
                assert_eq!(
                    (e.code(), reason(&e).as_str()),
                    (Code::Unauthenticated, "TOKEN_MISSING"),
                    "{method} anonymous"
                );
            }
        }
        for (token, roles, who) in &tokens {
            let outcome = call(&t, method, Some(token)).await;
            let denied = matches!(&outcome, Err(e) if e.code() == Code::PermissionDenied && reason(e) == "ROLE_REQUIRED");
            assert_eq!(
                denied,
                !admits(*rule, roles),
                "{method} called by {who}: {outcome:?}"
            );
            checked += 1;
        }
    }
    assert!(checked > 400, "{checked} calls checked");
    t.stop().await;
}
dual!(the_gate_admits_exactly_what_the_policy_table_says);
