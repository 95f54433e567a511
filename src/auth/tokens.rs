//! Access tokens: EdDSA (Ed25519) JWTs with a `kid` header. Keys live in
//! `<data-dir>/keys/token-<kid>.pk8` (PKCS#8 DER, mode 0600), generated at first
//! start. Every key in the folder verifies; the newest (by kid) signs, so a key is
//! rotated by adding a new one (`naskah keys rotate`) and removing the old one once
//! its tokens have expired.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The `iss` of every access token.
pub const ISSUER: &str = "naskah";
/// The `aud` of every access token.
pub const AUDIENCE: &str = "naskah-api";
const ACCESS: &str = "access";

/// Claims of an access token.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Agency id.
    pub agency: String,
    /// Issuer, always "naskah".
    pub iss: String,
    /// Audience, always "naskah-api".
    pub aud: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Not before, seconds since the epoch.
    pub nbf: u64,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Token id.
    pub jti: String,
    /// Token kind, always "access".
    pub typ: String,
}

/// Why a token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Expired.
    Expired,
    /// Anything else: malformed, forged, wrong algorithm or kind, unknown key, not yet valid.
    Invalid,
}

/// The token keys of this server.
pub struct TokenKeys {
    signing_kid: String,
    signing: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
    /// Claims of tokens whose signature and fixed claims already checked out,
    /// by the SHA-256 of the token: a client sends the same token with every
    /// request, and an Ed25519 verification costs more CPU than the rest of a
    /// cached read. Expiry and not-before are checked again on every use. The
    /// keys never change while the server runs, so an entry stays true.
    verified: crate::crypto::memo::Memo<Claims>,
}

/// Verified tokens remembered at most; the memory is dropped whole when full
/// (about 3 MB; the active clients re-verify once each).
const VERIFIED_MAX: usize = 10_000;

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("signing_kid", &self.signing_kid)
            .field("verifying", &self.verifying.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn keys_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("keys")
}

/// Writes a new key into the folder and returns its kid.
pub fn generate_key(data_dir: &Path, now_secs: u64) -> std::io::Result<String> {
    let dir = keys_dir(data_dir);
    std::fs::create_dir_all(&dir)?;
    let key = SigningKey::generate(&mut rand_core::OsRng);
    let der = key
        .to_pkcs8_der()
        .map_err(|e| std::io::Error::other(format!("pkcs8: {e}")))?;
    let kid = format!(
        "{now_secs:012}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let path = dir.join(format!("token-{kid}.pk8"));
    write_private(&path, der.as_bytes())?;
    Ok(kid)
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

impl TokenKeys {
    /// Loads every key of the folder, generating one when there is none.
    pub fn load_or_generate(data_dir: &Path, now_secs: u64) -> std::io::Result<Self> {
        let dir = keys_dir(data_dir);
        let mut kids = list_kids(&dir)?;
        if kids.is_empty() {
            generate_key(data_dir, now_secs)?;
            kids = list_kids(&dir)?;
        }
        kids.sort();
        let mut verifying = HashMap::new();
        let mut signing = None;
        for kid in &kids {
            let der = std::fs::read(dir.join(format!("token-{kid}.pk8")))?;
            let key = SigningKey::from_pkcs8_der(&der)
                .map_err(|e| std::io::Error::other(format!("token key {kid}: {e}")))?;
            verifying.insert(
                kid.clone(),
                DecodingKey::from_ed_der(key.verifying_key().as_bytes()),
            );
            signing = Some((kid.clone(), EncodingKey::from_ed_der(&der)));
        }
        let (signing_kid, signing) =
            signing.ok_or_else(|| std::io::Error::other("no token key"))?;
        Ok(Self {
            signing_kid,
            signing,
            verifying,
            verified: crate::crypto::memo::Memo::new(VERIFIED_MAX),
        })
    }

    /// The kid of the signing key.
    pub fn signing_kid(&self) -> &str {
        &self.signing_kid
    }

    /// Issues an access token valid from `now` for `ttl_secs`.
    pub fn issue(
        &self,
        user_id: &str,
        agency_id: &str,
        now_secs: u64,
        ttl_secs: u64,
    ) -> Result<String, String> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.signing_kid.clone());
        let claims = Claims {
            sub: user_id.to_owned(),
            agency: agency_id.to_owned(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            exp: now_secs + ttl_secs,
            nbf: now_secs,
            iat: now_secs,
            jti: uuid::Uuid::new_v4().to_string(),
            typ: ACCESS.into(),
        };
        jsonwebtoken::encode(&header, &claims, &self.signing).map_err(|e| format!("jwt: {e}"))
    }

    /// Verifies an access token at `now_secs`: algorithm EdDSA only, a known kid,
    /// the signature, issuer, audience, expiry, not-before and kind.
    pub fn verify(&self, token: &str, now_secs: u64) -> Result<Claims, TokenError> {
        use sha2::Digest;
        let digest: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        let c = match self.verified.get(&digest) {
            Some(c) => c,
            None => {
                let c = self.verify_signed(token)?;
                self.verified.put(digest, c.clone());
                c
            }
        };
        if now_secs + 30 < c.nbf {
            return Err(TokenError::Invalid);
        }
        if now_secs >= c.exp {
            return Err(TokenError::Expired);
        }
        Ok(c)
    }

    /// The checks of [`TokenKeys::verify`] that do not depend on the time.
    fn verify_signed(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::Invalid);
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.verifying.get(kid))
            .ok_or(TokenError::Invalid)?;
        let mut v = Validation::new(Algorithm::EdDSA);
        v.set_issuer(&[ISSUER]);
        v.set_audience(&[AUDIENCE]);
        v.validate_nbf = true;
        // Expiry and not-before are checked below against the server's clock.
        v.validate_exp = false;
        v.validate_nbf = false;
        v.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        let data =
            jsonwebtoken::decode::<Claims>(token, key, &v).map_err(|_| TokenError::Invalid)?;
        let c = data.claims;
        if c.typ != ACCESS {
            return Err(TokenError::Invalid);
        }
        Ok(c)
    }
}

fn list_kids(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if let Some(kid) = name
            .strip_prefix("token-")
            .and_then(|s| s.strip_suffix(".pk8"))
        {
            out.push(kid.to_owned());
        }
    }
    Ok(out)
}

/// A new refresh token (URL-safe base64 of 32 random bytes) and its stored hash.
pub fn new_refresh_token() -> (String, String) {
    use base64::Engine;
    use rand_core::{OsRng, RngCore};
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = refresh_token_hash(&token);
    (token, hash)
}

/// The stored form of a refresh token: SHA-256, hex.
pub fn refresh_token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn keys() -> (tempfile::TempDir, TokenKeys) {
        let dir = tempfile::tempdir().expect("tempdir");
        let keys = TokenKeys::load_or_generate(dir.path(), 1_000).expect("keys");
        (dir, keys)
    }

    #[test]
    fn issued_tokens_verify_until_they_expire() {
        let (_d, k) = keys();
        let t = k.issue("u1", "a1", 10_000, 600).expect("issue");
        let c = k.verify(&t, 10_100).expect("valid");
        assert_eq!((c.sub.as_str(), c.agency.as_str()), ("u1", "a1"));
        assert_eq!(k.verify(&t, 10_600), Err(TokenError::Expired));
        assert_eq!(
            k.verify(&t, 9_000),
            Err(TokenError::Invalid),
            "not yet valid"
        );
    }

    #[test]
    fn forged_and_foreign_tokens_are_refused() {
        let (_d, k) = keys();
        let (_d2, other) = keys();
        let foreign = other.issue("u1", "a1", 10_000, 600).expect("issue");
        assert_eq!(
            k.verify(&foreign, 10_001),
            Err(TokenError::Invalid),
            "unknown kid"
        );

        let t = k.issue("u1", "a1", 10_000, 600).expect("issue");
        // The genuine token is remembered as verified; its altered copies are not.
        k.verify(&t, 10_001).expect("genuine");
        let mut parts: Vec<String> = t.split('.').map(String::from).collect();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let payload = String::from_utf8(b64.decode(&parts[1]).expect("b64")).expect("utf8");
        parts[1] = b64.encode(payload.replace("\"u1\"", "\"admin\""));
        assert_eq!(
            k.verify(&parts.join("."), 10_001),
            Err(TokenError::Invalid),
            "tampered payload"
        );

        let none_header = b64.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let unsigned = format!("{none_header}.{}.", parts[1]);
        assert_eq!(
            k.verify(&unsigned, 10_001),
            Err(TokenError::Invalid),
            "alg none"
        );
        let hs_header = b64.encode(format!(r#"{{"alg":"HS256","kid":"{}"}}"#, k.signing_kid()));
        assert_eq!(
            k.verify(&format!("{hs_header}.{}.x", parts[1]), 10_001),
            Err(TokenError::Invalid),
            "HMAC"
        );
        assert_eq!(k.verify("garbage", 10_001), Err(TokenError::Invalid));
    }

    #[test]
    fn rotated_keys_keep_old_tokens_valid_and_sign_with_the_newest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let k1 = TokenKeys::load_or_generate(dir.path(), 1_000).expect("keys");
        let old = k1.issue("u", "a", 10_000, 600).expect("issue");
        let new_kid = generate_key(dir.path(), 2_000).expect("rotate");
        let k2 = TokenKeys::load_or_generate(dir.path(), 2_000).expect("keys");
        assert_eq!(k2.signing_kid(), new_kid);
        assert!(k2.verify(&old, 10_001).is_ok());
    }

    #[test]
    fn refresh_tokens_are_random_and_stored_hashed() {
        let (t1, h1) = new_refresh_token();
        let (t2, _) = new_refresh_token();
        assert_ne!(t1, t2);
        assert_eq!(refresh_token_hash(&t1), h1);
        assert_ne!(t1, h1);
    }
}
