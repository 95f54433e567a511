//! Signing keys, certificates and the agency CA; CMS interoperability with OpenSSL.

use std::process::Command;

use naskah::proto::auth_service_client::AuthServiceClient;
use naskah::proto::signature_service_client::SignatureServiceClient;
use naskah::proto::{self as pb, KeyAlgorithm};
use naskah_testkit::demo::{DEMO_PASSPHRASE, DEMO_PASSWORD, who_am_i};
use tonic::Code;

use naskah_testkit::signing::sign_with_sealed_key;
use naskah_testkit::{Db, TestServer, authed, reason};
use naskah_testkit::{dual, openssl_verifies};

async fn signers_enroll_and_revoke_keys_issued_by_their_agency_ca(db: Db) {
    let t = TestServer::start_demo(db).await;
    let sekda = t.login("sekda", DEMO_PASSWORD).await;
    let staf = t.login("staf.egov", DEMO_PASSWORD).await;
    let mut s = SignatureServiceClient::new(t.channel.clone());
    let cert = s
        .get_my_certificate(authed(pb::GetMyCertificateRequest {}, &sekda))
        .await
        .expect("demo signer has a key")
        .into_inner();
    assert!(
        cert.subject.contains("CN=Ir. Sri Handayani, M.Si."),
        "{}",
        cert.subject
    );
    assert!(
        cert.subject.contains("title=Sekretaris Daerah")
            && cert.subject.contains("serialNumber=196803121992032002")
    );
    assert!(!cert.revoked);
    let e = s
        .get_my_certificate(authed(pb::GetMyCertificateRequest {}, &staf))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::NotFound, "NO_SIGNING_KEY")
    );

    let me = AuthServiceClient::new(t.channel.clone())
        .who_am_i(authed(pb::WhoAmIRequest {}, &staf))
        .await
        .expect("whoami")
        .into_inner();
    let e = s
        .enroll_signing_key(authed(
            pb::EnrollSigningKeyRequest {
                passphrase: "short".into(),
                position_id: me.positions[0].position_id.clone(),
                ..Default::default()
            },
            &staf,
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "WEAK_PASSPHRASE");
    let e = s
        .enroll_signing_key(authed(
            pb::EnrollSigningKeyRequest {
                passphrase: "a long enough passphrase".into(),
                position_id: uuid::Uuid::new_v4().to_string(),
                ..Default::default()
            },
            &staf,
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "NOT_POSITION_HOLDER");
    let e = s
        .enroll_signing_key(authed(
            pb::EnrollSigningKeyRequest {
                passphrase: "a long enough passphrase".into(),
                position_id: me.positions[0].position_id.clone(),
                algorithm: KeyAlgorithm::Ed25519 as i32,
                ..Default::default()
            },
            &staf,
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "ALGORITHM_NOT_SUPPORTED");
    let enrolled = s
        .enroll_signing_key(authed(
            pb::EnrollSigningKeyRequest {
                passphrase: "a long enough passphrase".into(),
                position_id: me.positions[0].position_id.clone(),
                ..Default::default()
            },
            &staf,
        ))
        .await
        .expect("enroll")
        .into_inner()
        .certificate
        .expect("certificate");
    assert_eq!(enrolled.position_id, me.positions[0].position_id);

    // The certificate chains to the agency CA, checked by OpenSSL.
    let ca = s
        .get_agency_certificate(authed(pb::GetAgencyCertificateRequest {}, &staf))
        .await
        .expect("ca")
        .into_inner()
        .certificate_pem;
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("ca.pem"), &ca).expect("ca");
    std::fs::write(dir.path().join("signer.pem"), &enrolled.certificate_pem).expect("signer");
    let out = Command::new("openssl")
        .args(["verify", "-CAfile"])
        .arg(dir.path().join("ca.pem"))
        .arg(dir.path().join("signer.pem"))
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A CMS signature made with the demo signer's sealed key verifies with openssl.
    let sig = sign_with_sealed_key(
        &t,
        &me_id(&t, &sekda).await,
        DEMO_PASSPHRASE,
        b"{\"manifest\":1}",
    )
    .await
    .expect("unlock and sign");
    assert!(openssl_verifies(dir.path(), b"{\"manifest\":1}", &sig, &ca));
    assert!(!openssl_verifies(
        dir.path(),
        b"{\"manifest\":2}",
        &sig,
        &ca
    ));
    let wrong = sign_with_sealed_key(
        &t,
        &me_id(&t, &sekda).await,
        "not the passphrase",
        b"{\"manifest\":1}",
    )
    .await
    .unwrap_err();
    assert_eq!(wrong.reason, Some("WRONG_PASSPHRASE"));

    // Revoking: the owner may; another user may not.
    let e = s
        .revoke_certificate(authed(
            pb::RevokeCertificateRequest {
                serial: cert.serial.clone(),
                ..Default::default()
            },
            &staf,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::PermissionDenied, "NOT_CERTIFICATE_OWNER")
    );
    let revoked = s
        .revoke_certificate(authed(
            pb::RevokeCertificateRequest {
                serial: enrolled.serial.clone(),
                reason: "key lost".into(),
                ..Default::default()
            },
            &staf,
        ))
        .await
        .expect("revoke")
        .into_inner();
    assert!(revoked.revoked);
    let e = sign_with_sealed_key(
        &t,
        &me.user_id,
        "a long enough passphrase",
        b"{\"manifest\":1}",
    )
    .await
    .unwrap_err();
    assert_eq!(e.reason, Some("CERTIFICATE_REVOKED"));
    t.stop().await;
}
dual!(signers_enroll_and_revoke_keys_issued_by_their_agency_ca);

async fn me_id(t: &TestServer, token: &str) -> String {
    who_am_i(t, token).await.user_id
}
