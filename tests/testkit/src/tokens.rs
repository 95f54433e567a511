//! Access tokens minted by the test, as an attacker with or without the
//! server's key would: the claims the server issues, the newest token key of
//! a test server's data directory, and a signed token.

pub use naskah::auth::tokens::{AUDIENCE, Claims, ISSUER};

use crate::TestServer;

/// The id and the PKCS#8 DER of the newest token signing key in the test
/// server's `<data-dir>/keys/`.
pub fn token_key(t: &TestServer) -> (String, Vec<u8>) {
    let dir = t.dir.path().join("keys");
    let mut keys: Vec<_> = std::fs::read_dir(&dir)
        .expect("keys dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("token-") && n.ends_with(".pk8"))
        .collect();
    keys.sort();
    let name = keys.pop().expect("a token key");
    let kid = name
        .trim_start_matches("token-")
        .trim_end_matches(".pk8")
        .to_owned();
    (kid, std::fs::read(dir.join(&name)).expect("read key"))
}

/// `c` as a token signed with `key` under `alg`, with the key id `kid`.
pub fn sign(
    kid: &str,
    alg: jsonwebtoken::Algorithm,
    key: &jsonwebtoken::EncodingKey,
    c: &Claims,
) -> String {
    let mut h = jsonwebtoken::Header::new(alg);
    h.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&h, c, key).expect("encode")
}
