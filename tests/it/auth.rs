//! Login, lockout, tokens, the forced password change, the policy gate.

use naskah::proto::audit_service_client::AuditServiceClient;
use naskah::proto::auth_service_client::AuthServiceClient;
use naskah::proto::{
    ChangePasswordRequest, ListAuditEventsRequest, LoginRequest, LogoutRequest,
    RefreshTokenRequest, Role, WhoAmIRequest,
};
use tonic::Code;

use naskah_testkit::dual;
use naskah_testkit::{Db, TestServer, authed, reason};

fn login_req(u: &str, p: &str) -> LoginRequest {
    LoginRequest {
        username: u.into(),
        password: p.into(),
    }
}

async fn wrong_password_and_unknown_user_look_the_same(db: Db) {
    let t = TestServer::start(db).await;
    t.seed_user("staf", "staf-password-123", &[Role::User])
        .await;
    let mut c = AuthServiceClient::new(t.channel.clone());
    let wrong = c
        .login(login_req("staf", "not-the-password"))
        .await
        .unwrap_err();
    let unknown = c
        .login(login_req("nobody", "not-the-password"))
        .await
        .unwrap_err();
    for e in [&wrong, &unknown] {
        assert_eq!(e.code(), Code::Unauthenticated);
        assert_eq!(reason(e), "INVALID_CREDENTIALS");
    }
    assert_eq!(wrong.message(), unknown.message());
    let ok = c
        .login(login_req("staf", "staf-password-123"))
        .await
        .expect("login")
        .into_inner();
    assert!(!ok.access_token.is_empty() && !ok.refresh_token.is_empty());
    assert!(!ok.must_change_password);
    let me = c
        .who_am_i(authed(WhoAmIRequest {}, &ok.access_token))
        .await
        .expect("whoami")
        .into_inner();
    assert_eq!(me.username, "staf");
    assert_eq!(me.roles, vec![Role::User as i32]);
    t.stop().await;
}
dual!(wrong_password_and_unknown_user_look_the_same);

async fn repeated_failures_lock_the_account(db: Db) {
    let t = TestServer::start(db).await;
    t.seed_user("target", "target-password-1", &[Role::User])
        .await;
    let mut c = AuthServiceClient::new(t.channel.clone());
    for _ in 0..5 {
        let e = c.login(login_req("target", "guess")).await.unwrap_err();
        assert_eq!(reason(&e), "INVALID_CREDENTIALS");
    }
    // The sixth attempt, even with the right password, meets the lock, and
    // answers exactly as a wrong password or an unknown user does.
    let locked = c
        .login(login_req("target", "target-password-1"))
        .await
        .unwrap_err();
    let wrong = c.login(login_req("target", "guess")).await.unwrap_err();
    let unknown = c
        .login(login_req("nobody-here", "guess"))
        .await
        .unwrap_err();
    for e in [&locked, &wrong, &unknown] {
        assert_eq!(
            (e.code(), reason(e).as_str(), e.message()),
            (
                Code::Unauthenticated,
                "INVALID_CREDENTIALS",
                "unknown user or wrong password, or the account is temporarily locked after failed logins"
            )
        );
        assert_eq!(e.details(), locked.details());
    }
    let user = naskah_testkit::inspect::login_lock(&t, "target").await;
    // Attempts during the lock neither count nor extend it.
    assert_eq!(user.failed_logins, 5);
    assert!(user.locked_until_us > t.now_us());

    // The administrator sees the lock and lifts it.
    t.seed_user("chief", "chief-password-1", &[Role::AgencyAdmin])
        .await;
    let chief = t.login("chief", "chief-password-1").await;
    let mut org = naskah::proto::org_service_client::OrgServiceClient::new(t.channel.clone());
    let listed = org
        .list_users(authed(
            naskah::proto::ListUsersRequest {
                query: "target".into(),
                ..Default::default()
            },
            &chief,
        ))
        .await
        .expect("list")
        .into_inner();
    let shown = listed
        .users
        .iter()
        .find(|u| u.username == "target")
        .expect("target listed");
    assert_eq!(
        shown.locked_until.as_ref().map(|t| t.seconds),
        Some(user.locked_until_us / 1_000_000)
    );
    // Other users do not see it.
    t.seed_user("colleague", "colleague-password-1", &[Role::User])
        .await;
    let colleague = t.login("colleague", "colleague-password-1").await;
    let seen = org
        .list_users(authed(
            naskah::proto::ListUsersRequest {
                query: "target".into(),
                ..Default::default()
            },
            &colleague,
        ))
        .await
        .expect("list")
        .into_inner();
    assert!(seen.users.iter().all(|u| u.locked_until.is_none()));
    let unlocked = org
        .unlock_user(authed(
            naskah::proto::UnlockUserRequest {
                user_id: shown.id.clone(),
                request_id: String::new(),
            },
            &chief,
        ))
        .await
        .expect("unlock")
        .into_inner();
    assert!(unlocked.locked_until.is_none());
    c.login(login_req("target", "target-password-1"))
        .await
        .expect("login after the lock was lifted");
    t.stop().await;
}
dual!(repeated_failures_lock_the_account);

/// Guessing the current password through ChangePassword (with a stolen access
/// token, say) meets the same lock as guessing through Login.
async fn password_change_guesses_count_toward_the_lock(db: Db) {
    let t = TestServer::start(db).await;
    t.seed_user("owner", "owner-password-1", &[Role::User])
        .await;
    let token = t.login("owner", "owner-password-1").await;
    let mut c = AuthServiceClient::new(t.channel.clone());
    let change = |current: &str| {
        authed(
            naskah::proto::ChangePasswordRequest {
                current_password: current.into(),
                new_password: "a-much-better-passphrase-9".into(),
            },
            &token,
        )
    };
    for _ in 0..5 {
        let e = c.change_password(change("guess")).await.unwrap_err();
        assert_eq!(reason(&e), "INVALID_CREDENTIALS");
    }
    // Locked: neither the right current password changes it, nor does Login open.
    let e = c
        .change_password(change("owner-password-1"))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "INVALID_CREDENTIALS");
    let e = c
        .login(login_req("owner", "owner-password-1"))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "INVALID_CREDENTIALS");
    let user = naskah_testkit::inspect::login_lock(&t, "owner").await;
    assert_eq!(user.failed_logins, 5);
    assert!(user.locked_until_us > t.now_us());
    t.stop().await;
}
dual!(password_change_guesses_count_toward_the_lock);

async fn missing_forged_and_wrong_kind_tokens_are_unauthenticated(db: Db) {
    let t = TestServer::start(db).await;
    t.seed_user("aud", "auditor-password-9", &[Role::Auditor])
        .await;
    let mut c = AuthServiceClient::new(t.channel.clone());
    let session = c
        .login(login_req("aud", "auditor-password-9"))
        .await
        .expect("login")
        .into_inner();
    let mut audit = AuditServiceClient::new(t.channel.clone());

    let e = audit
        .list_audit_events(ListAuditEventsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::Unauthenticated, "TOKEN_MISSING")
    );

    // Forged: same header and claims, signature of another key.
    let parts: Vec<&str> = session.access_token.split('.').collect();
    let forged = format!("{}.{}.{}", parts[0], parts[1], "A".repeat(parts[2].len()));
    // alg none.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let none = format!(
        "{}.{}.",
        b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    for bad in [
        forged.as_str(),
        none.as_str(),
        session.refresh_token.as_str(),
        "not-a-token",
    ] {
        let e = audit
            .list_audit_events(authed(ListAuditEventsRequest::default(), bad))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated, "token {bad}");
        assert_eq!(reason(&e), "TOKEN_INVALID");
    }
    // The real token works.
    audit
        .list_audit_events(authed(
            ListAuditEventsRequest::default(),
            &session.access_token,
        ))
        .await
        .expect("list");
    t.stop().await;
}
dual!(missing_forged_and_wrong_kind_tokens_are_unauthenticated);

async fn bootstrap_admin_must_change_password_first(db: Db) {
    let t = TestServer::start(db).await;
    let otp = t
        .bootstrap_password
        .clone()
        .expect("a fresh database prints a one-time password");
    let mut c = AuthServiceClient::new(t.channel.clone());
    let s = c
        .login(login_req("admin", &otp))
        .await
        .expect("login")
        .into_inner();
    assert!(s.must_change_password);
    let mut audit = AuditServiceClient::new(t.channel.clone());
    let e = audit
        .verify_audit_log(authed(
            naskah::proto::VerifyAuditLogRequest {},
            &s.access_token,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::PermissionDenied, "PASSWORD_CHANGE_REQUIRED")
    );
    let weak = c
        .change_password(authed(
            ChangePasswordRequest {
                current_password: otp.clone(),
                new_password: "short".into(),
            },
            &s.access_token,
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&weak), "WEAK_PASSWORD");
    c.change_password(authed(
        ChangePasswordRequest {
            current_password: otp.clone(),
            new_password: "a much better passphrase".into(),
        },
        &s.access_token,
    ))
    .await
    .expect("change");
    let v = audit
        .verify_audit_log(authed(
            naskah::proto::VerifyAuditLogRequest {},
            &s.access_token,
        ))
        .await
        .expect("allowed after the change")
        .into_inner();
    assert!(v.ok);
    assert!(
        c.login(login_req("admin", &otp)).await.is_err(),
        "the one-time password is spent"
    );
    c.login(login_req("admin", "a much better passphrase"))
        .await
        .expect("new password works");
    t.stop().await;
}
dual!(bootstrap_admin_must_change_password_first);

async fn refresh_tokens_rotate_and_reuse_revokes_the_family(db: Db) {
    let t = TestServer::start(db).await;
    t.seed_user("pegawai", "pegawai-password-1", &[Role::User])
        .await;
    let mut c = AuthServiceClient::new(t.channel.clone());
    let first = c
        .login(login_req("pegawai", "pegawai-password-1"))
        .await
        .expect("login")
        .into_inner();
    let second = c
        .refresh_token(RefreshTokenRequest {
            refresh_token: first.refresh_token.clone(),
        })
        .await
        .expect("refresh")
        .into_inner();
    assert_ne!(second.refresh_token, first.refresh_token);
    c.who_am_i(authed(WhoAmIRequest {}, &second.access_token))
        .await
        .expect("new access token works");
    // Reusing the spent token fails and revokes the family, including `second`.
    let e = c
        .refresh_token(RefreshTokenRequest {
            refresh_token: first.refresh_token.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "INVALID_REFRESH_TOKEN");
    let e = c
        .refresh_token(RefreshTokenRequest {
            refresh_token: second.refresh_token.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "INVALID_REFRESH_TOKEN");
    // Logout revokes a fresh session's family.
    let third = c
        .login(login_req("pegawai", "pegawai-password-1"))
        .await
        .expect("login")
        .into_inner();
    c.logout(authed(
        LogoutRequest {
            refresh_token: third.refresh_token.clone(),
        },
        &third.access_token,
    ))
    .await
    .expect("logout");
    let e = c
        .refresh_token(RefreshTokenRequest {
            refresh_token: third.refresh_token,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    t.stop().await;
}
dual!(refresh_tokens_rotate_and_reuse_revokes_the_family);
