//! Forged and misused tokens: every way of bending a token, each refused for
//! the one thing changed.

use naskah::proto::Role;
use tonic::Code;

use naskah_testkit::tokens::{self, sign, token_key};
use naskah_testkit::{Db, TestServer, authed, dual, reason};

async fn forged_and_misused_tokens_are_refused(db: Db) {
    use base64::Engine;
    use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
    let t = TestServer::start(db).await;
    let alice = t
        .seed_user("alice", "alice-password-1", &[Role::Auditor])
        .await;
    let bob = t
        .seed_user("bob", "bob-password-12", &[Role::Auditor])
        .await;
    let mut auth = naskah::proto::auth_service_client::AuthServiceClient::new(t.channel.clone());
    let login = |u: &str, p: &str| naskah::proto::LoginRequest {
        username: u.into(),
        password: p.into(),
    };
    let a = auth
        .login(login("alice", "alice-password-1"))
        .await
        .expect("login")
        .into_inner();
    let b = auth
        .login(login("bob", "bob-password-12"))
        .await
        .expect("login")
        .into_inner();
    let agency = auth
        .who_am_i(authed(naskah::proto::WhoAmIRequest {}, &a.access_token))
        .await
        .expect("whoami")
        .into_inner()
        .agency_id;
    let (kid, der) = token_key(&t);
    let real = jsonwebtoken::EncodingKey::from_ed_der(&der);
    let now = (t.now_us() / 1_000_000) as u64;
    let claims = tokens::Claims {
        sub: alice.clone(),
        agency: agency.clone(),
        iss: tokens::ISSUER.into(),
        aud: tokens::AUDIENCE.into(),
        exp: now + 600,
        nbf: now,
        iat: now,
        jti: uuid::Uuid::new_v4().to_string(),
        typ: "access".into(),
    };
    let mut audit = naskah::proto::audit_service_client::AuditServiceClient::new(t.channel.clone());
    let list = naskah::proto::ListAuditEventsRequest::default();
    // The control: a token signed with the real key and the real claims works,
    // so every refusal below is for the one thing changed.
    audit
        .list_audit_events(authed(
            list.clone(),
            &sign(&kid, jsonwebtoken::Algorithm::EdDSA, &real, &claims),
        ))
        .await
        .expect("a well-formed token is accepted");

    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let good = sign(&kid, jsonwebtoken::Algorithm::EdDSA, &real, &claims);
    let parts: Vec<&str> = good.split('.').collect();
    let signing = ed25519_dalek::SigningKey::from_pkcs8_der(&der).expect("key");
    let public_raw = signing.verifying_key().to_bytes().to_vec();
    let public_spki = signing
        .verifying_key()
        .to_public_key_der()
        .expect("spki")
        .as_bytes()
        .to_vec();
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let stranger_der = stranger.to_pkcs8_der().expect("der").as_bytes().to_vec();
    let with = |f: &dyn Fn(&mut tokens::Claims)| {
        let mut c = claims.clone();
        f(&mut c);
        sign(&kid, jsonwebtoken::Algorithm::EdDSA, &real, &c)
    };
    let mut other_payload = claims.clone();
    other_payload.sub = bob.clone();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "alg none",
            format!(
                "{}.{}.",
                b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
                parts[1]
            ),
            "TOKEN_INVALID",
        ),
        (
            "HMAC with the raw public key",
            sign(
                &kid,
                jsonwebtoken::Algorithm::HS256,
                &jsonwebtoken::EncodingKey::from_secret(&public_raw),
                &claims,
            ),
            "TOKEN_INVALID",
        ),
        (
            "HMAC with the public key's DER",
            sign(
                &kid,
                jsonwebtoken::Algorithm::HS256,
                &jsonwebtoken::EncodingKey::from_secret(&public_spki),
                &claims,
            ),
            "TOKEN_INVALID",
        ),
        (
            "payload altered (another user)",
            format!(
                "{}.{}.{}",
                parts[0],
                b64.encode(serde_json::to_vec(&other_payload).expect("json")),
                parts[2]
            ),
            "TOKEN_INVALID",
        ),
        (
            "signature altered",
            format!("{}.{}.{}", parts[0], parts[1], {
                let mut sig = b64.decode(parts[2]).expect("sig");
                sig[0] ^= 1;
                b64.encode(sig)
            }),
            "TOKEN_INVALID",
        ),
        (
            "expired",
            with(&|c| {
                c.exp = now - 10;
                c.nbf = now - 700;
                c.iat = now - 700;
            }),
            "TOKEN_EXPIRED",
        ),
        (
            "not yet valid",
            with(&|c| {
                c.nbf = now + 3600;
                c.exp = now + 7200;
            }),
            "TOKEN_INVALID",
        ),
        (
            "wrong issuer",
            with(&|c| c.iss = "someone-else".into()),
            "TOKEN_INVALID",
        ),
        (
            "wrong audience",
            with(&|c| c.aud = "another-api".into()),
            "TOKEN_INVALID",
        ),
        (
            "a refresh token's kind",
            with(&|c| c.typ = "refresh".into()),
            "TOKEN_INVALID",
        ),
        (
            "another agency",
            with(&|c| c.agency = uuid::Uuid::new_v4().to_string()),
            "TOKEN_INVALID",
        ),
        (
            "unknown kid",
            sign(
                "unknown-kid",
                jsonwebtoken::Algorithm::EdDSA,
                &jsonwebtoken::EncodingKey::from_ed_der(&stranger_der),
                &claims,
            ),
            "TOKEN_INVALID",
        ),
        (
            "a stranger's key under the real kid",
            sign(
                &kid,
                jsonwebtoken::Algorithm::EdDSA,
                &jsonwebtoken::EncodingKey::from_ed_der(&stranger_der),
                &claims,
            ),
            "TOKEN_INVALID",
        ),
        (
            "the refresh token itself",
            a.refresh_token.clone(),
            "TOKEN_INVALID",
        ),
    ];
    for (what, token, want) in &cases {
        let e = audit
            .list_audit_events(authed(list.clone(), token))
            .await
            .expect_err(what);
        assert_eq!(
            (e.code(), reason(&e).as_str()),
            (Code::Unauthenticated, *want),
            "{what}"
        );
    }
    println!(
        "token attacks ({db:?}): {} forged or misused tokens refused",
        cases.len()
    );

    // Alice cannot end or take over Bob's session with his refresh token.
    auth.logout(authed(
        naskah::proto::LogoutRequest {
            refresh_token: b.refresh_token.clone(),
        },
        &a.access_token,
    ))
    .await
    .expect("answers like any unknown token");
    let e = auth
        .refresh_token(authed(
            naskah::proto::RefreshTokenRequest {
                refresh_token: b.refresh_token.clone(),
            },
            &a.access_token,
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "INVALID_REFRESH_TOKEN");
    // Bob's session is untouched: neither revoked nor spent.
    let renewed = auth
        .refresh_token(naskah::proto::RefreshTokenRequest {
            refresh_token: b.refresh_token.clone(),
        })
        .await
        .expect("bob's refresh token still works")
        .into_inner();
    // Logout without an access token is refused; with his own, it ends Bob's family.
    let e = auth
        .logout(naskah::proto::LogoutRequest {
            refresh_token: renewed.refresh_token.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "TOKEN_MISSING");
    auth.logout(authed(
        naskah::proto::LogoutRequest {
            refresh_token: renewed.refresh_token.clone(),
        },
        &renewed.access_token,
    ))
    .await
    .expect("own logout");
    let e = auth
        .refresh_token(naskah::proto::RefreshTokenRequest {
            refresh_token: renewed.refresh_token,
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "INVALID_REFRESH_TOKEN");
    t.stop().await;
}
dual!(forged_and_misused_tokens_are_refused);
