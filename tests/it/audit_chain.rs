//! The hash-chained audit trail: tamper detection and listing. (Concurrent
//! writers and group commit are the store's own tests, tests/store/chain.rs.)

use naskah::proto::audit_service_client::AuditServiceClient;
use naskah::proto::auth_service_client::AuthServiceClient;
use naskah::proto::{
    AuditOutcome, ListAuditEventsRequest, LoginRequest, Role, VerifyAuditLogRequest,
};
use naskah_testkit::tamper::AuditTamper;
use naskah_testkit::{Db, TestServer, authed, dual, reason};
use tonic::Code;

use crate::cli::verify_cli;

async fn verify_rpc(t: &TestServer, token: &str) -> naskah::proto::VerifyAuditLogResponse {
    AuditServiceClient::new(t.channel.clone())
        .verify_audit_log(authed(VerifyAuditLogRequest {}, token))
        .await
        .expect("verify")
        .into_inner()
}

async fn tampering_is_detected_and_named(db: Db) {
    let t = TestServer::start(db).await;
    // The installation's chain as its operator sees it: sequence numbers and
    // the whole count (an agency's auditor sees neither, below).
    t.seed_user(
        "auditor1",
        "auditor-password-1",
        &[Role::Auditor, Role::SystemAdmin],
    )
    .await;
    t.seed_user("auditor2", "auditor-password-2", &[Role::Auditor])
        .await;
    let token = t.login("auditor1", "auditor-password-1").await;
    let agency_token = t.login("auditor2", "auditor-password-2").await;
    t.append_audit_events(8).await;

    let ok = verify_rpc(&t, &token).await;
    assert!(ok.ok, "{ok:?}");
    assert!(ok.events_checked >= 10, "{ok:?}");
    // An agency's auditor: the chain's verdict and head, their agency's
    // events counted (the test's appended events belong to no agency).
    let mine = verify_rpc(&t, &agency_token).await;
    assert!(mine.ok);
    assert_eq!(mine.head_hash, ok.head_hash);
    assert!(mine.events_checked < ok.events_checked, "{mine:?} {ok:?}");
    let (code, out) = verify_cli(&t);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("audit chain OK"), "{out}");

    let tamper = AuditTamper::open(&t).await;
    // 1. Altered: change the summary of event 5.
    tamper.edit_summary(5).await;
    let r = verify_rpc(&t, &token).await;
    assert!(!r.ok);
    assert_eq!(r.first_broken_seq, 5, "{r:?}");
    assert!(r.problem.contains("altered"), "{r:?}");
    let mine = verify_rpc(&t, &agency_token).await;
    assert!(!mine.ok, "an agency's auditor learns the chain is broken");
    assert_eq!(
        mine.first_broken_seq, 0,
        "but not where, in the installation's numbering"
    );
    let (code, out) = verify_cli(&t);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("BROKEN at event 5"), "{out}");
    tamper.restore_summary(5).await;
    assert!(verify_rpc(&t, &token).await.ok, "restored chain verifies");

    // 2. Deleted: remove event 6 (kept aside and put back afterwards).
    tamper.take_out(6).await;
    let r = verify_rpc(&t, &token).await;
    assert!(!r.ok);
    assert_eq!(r.first_broken_seq, 6, "{r:?}");
    assert!(r.problem.contains("missing"), "{r:?}");
    let (code, out) = verify_cli(&t);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("BROKEN at event 6"), "{out}");
    tamper.put_back().await;
    assert!(verify_rpc(&t, &token).await.ok, "restored chain verifies");

    // 3. Reordered: swap every column but seq between events 3 and 4.
    tamper.swap(3, 4).await;
    let r = verify_rpc(&t, &token).await;
    assert!(!r.ok);
    assert_eq!(r.first_broken_seq, 3, "{r:?}");
    let (code, out) = verify_cli(&t);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("BROKEN at event 3"), "{out}");

    // 4. Truncated: the newest event deleted is caught against the chain head.
    tamper.unswap(3, 4).await;
    assert!(verify_rpc(&t, &token).await.ok);
    let last = tamper.last_seq().await;
    // An event planted far past the end, beyond any batch, is found too.
    let far = last + 100_000;
    tamper.plant_copy_of_the_first_at(far).await;
    let r = verify_rpc(&t, &token).await;
    assert!(!r.ok);
    assert_eq!(r.first_broken_seq, last + 1, "{r:?}");
    tamper.delete(far).await;
    assert!(verify_rpc(&t, &token).await.ok);
    tamper.delete(last).await;
    let r = verify_rpc(&t, &token).await;
    assert!(!r.ok);
    assert_eq!(r.first_broken_seq, last, "{r:?}");
    tamper.close().await;
    t.stop().await;
}
dual!(tampering_is_detected_and_named);

async fn auditors_list_their_agency_events_with_filters_and_pages(db: Db) {
    let t = TestServer::start(db).await;
    t.seed_user("auditor2", "auditor-password-2", &[Role::Auditor])
        .await;
    t.seed_user("clerk", "clerk-password-123", &[Role::User])
        .await;
    let token = t.login("auditor2", "auditor-password-2").await;
    let mut auth = AuthServiceClient::new(t.channel.clone());
    for _ in 0..3 {
        let e = auth
            .login(LoginRequest {
                username: "clerk".into(),
                password: "wrong-password".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(reason(&e), "INVALID_CREDENTIALS");
    }
    let mut audit = AuditServiceClient::new(t.channel.clone());
    let filter = ListAuditEventsRequest {
        action: "/naskah.v1.AuthService/Login".into(),
        outcome: AuditOutcome::Failure as i32,
        page_size: 2,
        ..Default::default()
    };
    let first = audit
        .list_audit_events(authed(filter.clone(), &token))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(first.events.len(), 2);
    assert!(!first.next_page_token.is_empty());
    let second = audit
        .list_audit_events(authed(
            ListAuditEventsRequest {
                page_token: first.next_page_token.clone(),
                ..filter.clone()
            },
            &token,
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(second.events.len(), 1);
    assert!(second.next_page_token.is_empty());
    let all: Vec<_> = first.events.iter().chain(second.events.iter()).collect();
    let time = |e: &&naskah::proto::AuditEvent| {
        e.event_time
            .as_ref()
            .map(|t| (t.seconds, t.nanos))
            .unwrap_or_default()
    };
    assert!(
        all.windows(2).all(|w| time(&w[0]) >= time(&w[1])),
        "newest first"
    );
    // An agency's auditor learns nothing that counts the installation's
    // events: no sequence numbers, and a page token that hides the one it
    // carries.
    assert!(all.iter().all(|e| e.seq == 0), "no sequence numbers");
    let raw_token = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&first.next_page_token)
            .unwrap_or_default()
    };
    assert!(
        !String::from_utf8_lossy(&raw_token).contains("v1|"),
        "the page token is sealed"
    );
    assert!(all.iter().all(|e| e.reason == "INVALID_CREDENTIALS" && e.outcome == AuditOutcome::Failure as i32));
    assert!(
        all.iter().all(|e| !e.summary.contains("wrong-password")),
        "no secrets in the trail"
    );

    // A token from other filters is refused.
    let err = audit
        .list_audit_events(authed(
            ListAuditEventsRequest {
                page_token: first.next_page_token,
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(reason(&err), "INVALID_PAGE_TOKEN");
    let err = audit
        .list_audit_events(authed(
            ListAuditEventsRequest {
                page_size: -1,
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);

    // A user without AUDITOR is denied, and the denial itself is audited.
    let clerk = t.login("clerk", "clerk-password-123").await;
    let err = audit
        .list_audit_events(authed(ListAuditEventsRequest::default(), &clerk))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    assert_eq!(reason(&err), "ROLE_REQUIRED");
    let denied = audit
        .list_audit_events(authed(
            ListAuditEventsRequest {
                outcome: AuditOutcome::Denied as i32,
                ..Default::default()
            },
            &token,
        ))
        .await
        .expect("list")
        .into_inner();
    assert!(
        denied
            .events
            .iter()
            .any(|e| e.action == "/naskah.v1.AuditService/ListAuditEvents"
                && e.reason == "ROLE_REQUIRED")
    );
    t.stop().await;
}
dual!(auditors_list_their_agency_events_with_filters_and_pages);
