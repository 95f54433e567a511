//! The signing keys the server keeps sealed, used as the server uses them.

use crate::{Refusal, TestServer};

/// `content` signed (a detached CMS signature) with the signing key of user
/// `user_id`, unsealed with `passphrase` as the server unseals it: what an
/// independent verifier is then given.
pub async fn sign_with_sealed_key(
    t: &TestServer,
    user_id: &str,
    passphrase: &str,
    content: &[u8],
) -> Result<Vec<u8>, Refusal> {
    let (key, rec) = naskah::domain::signing::unlock(t.store(), user_id, passphrase).await?;
    Ok(naskah::crypto::cms_sign::sign_detached(&key, &rec.cert_der, content).expect("sign"))
}
