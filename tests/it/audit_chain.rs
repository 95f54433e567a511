//! The hash-chained audit trail: tamper detection, concurrency, listing.

use std::process::Command;

use naskah::audit::NewEvent;
use naskah::proto::audit_service_client::AuditServiceClient;
use naskah::proto::auth_service_client::AuthServiceClient;
use naskah::proto::{
    AuditOutcome, ListAuditEventsRequest, LoginRequest, Role, VerifyAuditLogRequest,
};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use tonic::Code;

use naskah_testkit::dual;
use naskah_testkit::{Db, TestServer, authed, reason};

async fn verify_rpc(t: &TestServer, token: &str) -> naskah::proto::VerifyAuditLogResponse {
    AuditServiceClient::new(t.channel.clone())
        .verify_audit_log(authed(VerifyAuditLogRequest {}, token))
        .await
        .expect("verify")
        .into_inner()
}

/// Runs `naskah audit verify` against the test's database; returns exit code and stdout.
pub fn verify_cli(t: &TestServer) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_naskah"))
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

async fn raw(t: &TestServer) -> DatabaseConnection {
    Database::connect(t.db_url.clone())
        .await
        .expect("raw connection")
}

async fn append_events(t: &TestServer, n: usize) {
    for i in 0..n {
        let mut tx = t.store().begin_write().await.expect("tx");
        let mut ev = NewEvent::success("test/append", "thing", &format!("thing-{i}"));
        ev.summary = format!("event number {i}");
        tx.audit(ev);
        tx.commit().await.expect("commit");
    }
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
    append_events(&t, 8).await;

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

    let conn = raw(&t).await;
    // 1. Altered: change the summary of event 5.
    conn.execute_unprepared(
        "UPDATE audit_event SET summary = summary || ' (edited)' WHERE seq = 5",
    )
    .await
    .expect("alter");
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
    conn.execute_unprepared(
        "UPDATE audit_event SET summary = substr(summary, 1, length(summary) - 9) WHERE seq = 5",
    )
    .await
    .expect("restore");
    assert!(verify_rpc(&t, &token).await.ok, "restored chain verifies");

    // 2. Deleted: remove event 6 (kept aside and put back afterwards).
    conn.execute_unprepared("CREATE TABLE audit_keep AS SELECT * FROM audit_event WHERE seq = 6")
        .await
        .expect("keep");
    conn.execute_unprepared("DELETE FROM audit_event WHERE seq = 6")
        .await
        .expect("delete");
    let r = verify_rpc(&t, &token).await;
    assert!(!r.ok);
    assert_eq!(r.first_broken_seq, 6, "{r:?}");
    assert!(r.problem.contains("missing"), "{r:?}");
    let (code, out) = verify_cli(&t);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("BROKEN at event 6"), "{out}");
    conn.execute_unprepared("INSERT INTO audit_event SELECT * FROM audit_keep")
        .await
        .expect("put back");
    conn.execute_unprepared("DROP TABLE audit_keep")
        .await
        .expect("drop");
    assert!(verify_rpc(&t, &token).await.ok, "restored chain verifies");

    // 3. Reordered: swap every column but seq between events 3 and 4.
    let cols = "event_time_us, agency_id, actor_user_id, actor_position_id, action, resource_type, resource_id, \
                outcome, reason, request_id, client_address, summary, prev_hash, hash";
    conn.execute_unprepared(&format!(
        "CREATE TABLE audit_swap AS SELECT seq, {cols} FROM audit_event WHERE seq IN (3, 4)"
    ))
    .await
    .expect("copy");
    let set = cols
        .split(", ")
        .map(|c| format!("{c} = (SELECT {c} FROM audit_swap s WHERE s.seq = 7 - audit_event.seq)"))
        .collect::<Vec<_>>()
        .join(", ");
    conn.execute_unprepared(&format!("UPDATE audit_event SET {set} WHERE seq IN (3, 4)"))
        .await
        .expect("swap");
    let r = verify_rpc(&t, &token).await;
    assert!(!r.ok);
    assert_eq!(r.first_broken_seq, 3, "{r:?}");
    let (code, out) = verify_cli(&t);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("BROKEN at event 3"), "{out}");

    // 4. Truncated: the newest event deleted is caught against the chain head.
    let restore = set.replace("s.seq = 7 - audit_event.seq", "s.seq = audit_event.seq");
    conn.execute_unprepared(&format!(
        "UPDATE audit_event SET {restore} WHERE seq IN (3, 4)"
    ))
    .await
    .expect("swap back");
    conn.execute_unprepared("DROP TABLE audit_swap")
        .await
        .expect("drop");
    assert!(verify_rpc(&t, &token).await.ok);
    let last = naskah::store::audit::last_seq(&conn).await.expect("last");
    // An event planted far past the end, beyond any batch, is found too.
    let far = last + 100_000;
    conn.execute_unprepared(&format!(
        "INSERT INTO audit_event (seq, event_time_us, agency_id, actor_user_id, \
         actor_position_id, action, resource_type, resource_id, outcome, reason, request_id, \
         client_address, summary, prev_hash, hash) SELECT {far}, event_time_us, agency_id, \
         actor_user_id, actor_position_id, action, resource_type, resource_id, outcome, reason, \
         request_id, client_address, summary, prev_hash, hash FROM audit_event WHERE seq = 1"
    ))
    .await
    .expect("plant");
    let r = verify_rpc(&t, &token).await;
    assert!(!r.ok);
    assert_eq!(r.first_broken_seq, last + 1, "{r:?}");
    conn.execute_unprepared(&format!("DELETE FROM audit_event WHERE seq = {far}"))
        .await
        .expect("unplant");
    assert!(verify_rpc(&t, &token).await.ok);
    conn.execute_unprepared(&format!("DELETE FROM audit_event WHERE seq = {last}"))
        .await
        .expect("delete newest");
    let r = verify_rpc(&t, &token).await;
    assert!(!r.ok);
    assert_eq!(r.first_broken_seq, last, "{r:?}");
    conn.close().await.expect("close");
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
