//! Agency CA, signer certificates, sealed private keys and CMS signatures.
//!
//! - Every agency has its own CA: an ECDSA P-256 key and a self-signed
//!   certificate (10 years). Its private key is stored sealed under the
//!   installation's master key (`<data-dir>/keys/master.key`).
//! - A signer's key is ECDSA P-256; its certificate (2 years) is issued by the
//!   agency CA and names the signer (CN), NIP (serialNumber), position (title)
//!   and agency (O). The private key is stored only sealed under a key derived
//!   from the signer's passphrase with argon2id, so the server cannot sign
//!   without the passphrase.
//! - Signatures are CMS (RFC 5652) detached SignedData over the manifest, with
//!   content-type, message-digest and signing-time signed attributes and the
//!   signer's certificate, verifiable by `openssl cms -verify`.

pub mod cms_sign;
pub mod memo;
pub mod seal;
pub mod x509;

/// Errors of the crypto layer.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The passphrase does not open the sealed key.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// Encoding, decoding or a primitive failed.
    #[error("crypto failure: {0}")]
    Failed(String),
}

impl CryptoError {
    pub(crate) fn failed(e: impl std::fmt::Display) -> Self {
        CryptoError::Failed(e.to_string())
    }
}

/// Runs memory-hard key derivation (argon2id: password checks, passphrase unlocks)
/// on the blocking pool, at most one run per CPU at a time. Each run takes about
/// 19 MiB for tens of milliseconds; unbounded, a burst of logins or signatures
/// would grow the server's memory with the request rate and slow every run down.
pub async fn run_kdf<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let slots = SLOTS.get_or_init(|| {
        tokio::sync::Semaphore::new(
            std::thread::available_parallelism()
                .map(std::num::NonZeroUsize::get)
                .unwrap_or(2),
        )
    });
    // The semaphore is never closed, so acquiring only waits.
    let _slot = slots.acquire().await.ok();
    tokio::task::spawn_blocking(f).await
}
