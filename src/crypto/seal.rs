//! Sealing secrets: under a passphrase (argon2id → ChaCha20-Poly1305) or under
//! the installation's master key.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand_core::{OsRng, RngCore};

use super::CryptoError;

const PASSPHRASE_SCHEME: &[u8] = b"naskah.seal.argon2id-chacha20poly1305.v1";
const MASTER_SCHEME: &[u8] = b"naskah.seal.master-chacha20poly1305.v1";

/// argon2id parameters for passphrases: 19 MiB, 2 passes, 1 lane (OWASP's minimum).
fn kdf() -> Result<Argon2<'static>, CryptoError> {
    let params = Params::new(19 * 1024, 2, 1, Some(32)).map_err(CryptoError::failed)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Seals `secret` under `passphrase`: `salt (16) || nonce (12) || ciphertext`.
pub fn seal_with_passphrase(passphrase: &str, secret: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    OsRng.fill_bytes(&mut salt);
    OsRng.fill_bytes(&mut nonce);
    let mut key = [0u8; 32];
    kdf()?
        .hash_password_into(passphrase.as_bytes(), &salt, &mut key)
        .map_err(CryptoError::failed)?;
    let cipher = ChaCha20Poly1305::new(&Key::from(key));
    let ct = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: secret,
                aad: PASSPHRASE_SCHEME,
            },
        )
        .map_err(CryptoError::failed)?;
    let mut out = Vec::with_capacity(28 + ct.len());
    out.extend_from_slice(&salt);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Opens a secret sealed by [`seal_with_passphrase`].
pub fn open_with_passphrase(passphrase: &str, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < 28 + 16 {
        return Err(CryptoError::Failed("sealed key is truncated".into()));
    }
    let (salt, rest) = sealed.split_at(16);
    let (nonce, ct) = rest.split_at(12);
    let mut key = [0u8; 32];
    kdf()?
        .hash_password_into(passphrase.as_bytes(), salt, &mut key)
        .map_err(CryptoError::failed)?;
    let nonce: [u8; 12] = nonce.try_into().map_err(CryptoError::failed)?;
    ChaCha20Poly1305::new(&Key::from(key))
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: ct,
                aad: PASSPHRASE_SCHEME,
            },
        )
        .map_err(|_| CryptoError::WrongPassphrase)
}

/// Seals `secret` under a 32-byte master key: `nonce (12) || ciphertext`.
pub fn seal_with_key(master: &[u8; 32], secret: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut nonce = [0u8; 12];
    OsRng.fill_bytes(&mut nonce);
    let ct = ChaCha20Poly1305::new(&Key::from(*master))
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: secret,
                aad: MASTER_SCHEME,
            },
        )
        .map_err(CryptoError::failed)?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Opens a secret sealed by [`seal_with_key`].
pub fn open_with_key(master: &[u8; 32], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < 12 + 16 {
        return Err(CryptoError::Failed("sealed secret is truncated".into()));
    }
    let (nonce, ct) = sealed.split_at(12);
    let nonce: [u8; 12] = nonce.try_into().map_err(CryptoError::failed)?;
    ChaCha20Poly1305::new(&Key::from(*master))
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: ct,
                aad: MASTER_SCHEME,
            },
        )
        .map_err(|_| CryptoError::Failed("the master key does not open this secret".into()))
}

/// Loads `<data-dir>/keys/master.key`, creating it (32 random bytes, mode 0600) if missing.
pub fn load_or_create_master_key(data_dir: &std::path::Path) -> std::io::Result<[u8; 32]> {
    let dir = data_dir.join("keys");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("master.key");
    if !path.exists() {
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        #[cfg(unix)]
        {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(mut f) => {
                    f.write_all(&key)?;
                    f.sync_all()?;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        #[cfg(not(unix))]
        std::fs::write(&path, key)?;
    }
    let bytes = std::fs::read(&path)?;
    bytes.try_into().map_err(|_| {
        std::io::Error::other(format!("{} must hold exactly 32 bytes", path.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passphrase_sealing_round_trips_and_refuses_other_passphrases() {
        let sealed = seal_with_passphrase("naskah-demo-sign", b"private key bytes").expect("seal");
        assert_eq!(
            open_with_passphrase("naskah-demo-sign", &sealed).expect("open"),
            b"private key bytes"
        );
        assert!(matches!(
            open_with_passphrase("wrong", &sealed),
            Err(CryptoError::WrongPassphrase)
        ));
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(open_with_passphrase("naskah-demo-sign", &tampered).is_err());
    }

    #[test]
    fn master_key_sealing_round_trips() {
        let k = [7u8; 32];
        let sealed = seal_with_key(&k, b"ca key").expect("seal");
        assert_eq!(open_with_key(&k, &sealed).expect("open"), b"ca key");
        assert!(open_with_key(&[8u8; 32], &sealed).is_err());
    }
}
