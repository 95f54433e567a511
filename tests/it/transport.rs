//! Health, reflection, gRPC-Web, request ids, unknown methods, message limits.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use naskah::proto::auth_service_client::AuthServiceClient;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use naskah_testkit::dual;
use naskah_testkit::{Db, TestServer, authed};

async fn health_reports_serving_for_every_service(db: Db) {
    let t = TestServer::start(db).await;
    let mut h = HealthClient::new(t.channel.clone());
    for service in ["", "naskah.v1.LetterService", "naskah.v1.AuditService"] {
        let r = h
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .expect("health check")
            .into_inner();
        assert_eq!(
            r.status,
            ServingStatus::Serving as i32,
            "service {service:?}"
        );
    }
    let unknown = h
        .check(HealthCheckRequest {
            service: "naskah.v1.Nope".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    t.stop().await;
}
dual!(health_reports_serving_for_every_service);

async fn reflection_lists_every_service(db: Db) {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let t = TestServer::start(db).await;
    let mut c = ServerReflectionClient::new(t.channel.clone());
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = c
        .server_reflection_info(tokio_stream::iter(vec![req]))
        .await
        .expect("reflection")
        .into_inner();
    let resp = stream
        .message()
        .await
        .expect("message")
        .expect("one response");
    let Some(MessageResponse::ListServicesResponse(list)) = resp.message_response else {
        panic!("unexpected reflection response {resp:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in [
        "naskah.v1.AuthService",
        "naskah.v1.OrgService",
        "naskah.v1.LetterService",
        "naskah.v1.DispositionService",
        "naskah.v1.SignatureService",
        "naskah.v1.VerificationService",
        "naskah.v1.RecordsService",
        "naskah.v1.AuditService",
        "grpc.health.v1.Health",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    t.stop().await;
}
dual!(reflection_lists_every_service);

/// Sends one gRPC-Web unary call over plain HTTP/1.1 and returns status, headers and body.
async fn grpc_web_call(
    addr: std::net::SocketAddr,
    path: &str,
    message: &[u8],
    origin: Option<&str>,
) -> (u16, http::HeaderMap, Vec<u8>) {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("tcp");
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .expect("http1 handshake");
    tokio::spawn(conn);
    let mut frame = vec![0u8];
    frame.extend_from_slice(&(message.len() as u32).to_be_bytes());
    frame.extend_from_slice(message);
    let mut req = http::Request::post(format!("http://{addr}{path}"))
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .header("x-request-id", "web-test-1");
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    let resp = sender
        .send_request(req.body(Full::new(Bytes::from(frame))).expect("request"))
        .await
        .expect("response");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    (status, headers, body)
}

async fn grpc_web_unary_call_over_http1_succeeds(db: Db) {
    let t = TestServer::start_with(
        db,
        std::sync::Arc::new(naskah_testkit::clock::SystemClock),
        |c| {
            c.cors_allowed_origins = vec!["https://surat.example.go.id".into()];
        },
    )
    .await;
    let (status, headers, body) = grpc_web_call(
        t.addr,
        "/grpc.health.v1.Health/Check",
        &[],
        Some("https://surat.example.go.id"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        headers
            .get("access-control-allow-origin")
            .map(|v| v.as_bytes()),
        Some(&b"https://surat.example.go.id"[..])
    );
    assert_eq!(
        headers.get("x-request-id").map(|v| v.as_bytes()),
        Some(&b"web-test-1"[..])
    );
    // Data frame: flag 0, length 2, then field 1 (status) = SERVING (1).
    assert_eq!(&body[..7], &[0, 0, 0, 0, 2, 8, 1]);
    // Trailer frame (flag 0x80) carrying grpc-status 0.
    assert_eq!(body[7], 0x80);
    let trailers = String::from_utf8_lossy(&body[12..]).to_lowercase();
    assert!(trailers.contains("grpc-status:0"), "trailers: {trailers}");

    // An origin that is not allowed gets no CORS grant.
    let (_, headers, _) = grpc_web_call(
        t.addr,
        "/grpc.health.v1.Health/Check",
        &[],
        Some("https://evil.example"),
    )
    .await;
    assert!(headers.get("access-control-allow-origin").is_none());
    t.stop().await;
}
dual!(grpc_web_unary_call_over_http1_succeeds);

async fn unknown_methods_get_clean_unimplemented(db: Db) {
    let t = TestServer::start(db).await;
    let mut grpc = tonic::client::Grpc::new(t.channel.clone());
    grpc.ready().await.expect("ready");
    let codec: tonic_prost::ProstCodec<
        naskah::proto::WhoAmIRequest,
        naskah::proto::WhoAmIResponse,
    > = Default::default();
    let path = http::uri::PathAndQuery::from_static("/naskah.v1.LetterService/NoSuchMethod");
    let err = grpc
        .unary(
            tonic::Request::new(naskah::proto::WhoAmIRequest {}),
            path,
            codec,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unimplemented);
    assert!(err.message().contains("NoSuchMethod"), "{}", err.message());

    let codec: tonic_prost::ProstCodec<
        naskah::proto::WhoAmIRequest,
        naskah::proto::WhoAmIResponse,
    > = Default::default();
    let path = http::uri::PathAndQuery::from_static("/naskah.v9.Nothing/Here");
    grpc.ready().await.expect("ready");
    let err = grpc
        .unary(
            tonic::Request::new(naskah::proto::WhoAmIRequest {}),
            path,
            codec,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unimplemented);

    // Every method of the contract is served: an empty request is refused for its
    // fields, not as unimplemented.
    t.seed_user(
        "pengguna",
        "pengguna-password-1",
        &[naskah::proto::Role::RecordsOfficer],
    )
    .await;
    let token = t.login("pengguna", "pengguna-password-1").await;
    let mut records =
        naskah::proto::records_service_client::RecordsServiceClient::new(t.channel.clone());
    let err = records
        .propose_disposal(authed(
            naskah::proto::ProposeDisposalRequest::default(),
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{}", err.message());
    assert!(err.message().contains("kind"), "{}", err.message());
    t.stop().await;
}
dual!(unknown_methods_get_clean_unimplemented);

async fn oversized_messages_are_refused_cleanly(db: Db) {
    let t = TestServer::start(db).await;
    let mut c = AuthServiceClient::new(t.channel.clone());
    let err = c
        .login(naskah::proto::LoginRequest {
            username: "x".into(),
            password: "p".repeat(5 * 1024 * 1024),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err.code(), Code::OutOfRange | Code::ResourceExhausted),
        "{err:?}"
    );
    // The server is still fine afterwards.
    let err = c
        .login(naskah::proto::LoginRequest {
            username: "x".into(),
            password: "p".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    t.stop().await;
}
dual!(oversized_messages_are_refused_cleanly);

async fn request_ids_are_echoed_or_generated(db: Db) {
    let t = TestServer::start(db).await;
    let mut h = HealthClient::new(t.channel.clone());
    let mut req = tonic::Request::new(HealthCheckRequest {
        service: String::new(),
    });
    req.metadata_mut()
        .insert("x-request-id", "client-chosen-42".parse().expect("header"));
    let resp = h.check(req).await.expect("check");
    assert_eq!(
        resp.metadata()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("client-chosen-42")
    );
    let resp = h
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("check");
    let generated = resp
        .metadata()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("generated id")
        .to_owned();
    assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");
    // Errors carry it too.
    let mut c = AuthServiceClient::new(t.channel.clone());
    let err = c
        .who_am_i(naskah::proto::WhoAmIRequest {})
        .await
        .unwrap_err();
    assert!(err.metadata().get("x-request-id").is_some());
    t.stop().await;
}
dual!(request_ids_are_echoed_or_generated);
