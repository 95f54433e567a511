//! Inter-agency exchange (DESIGN "Inter-agency exchange"): each agency's
//! exchange identity, its peer directory, the outbox written in the signing
//! transaction, the relay that sends it, the receiver that verifies, stores
//! and answers signed receipts and outcomes, and the dispatches registrars
//! follow. The network is behind [`Transport`] (gRPC over mutual TLS, in
//! `api::exchange`); agencies of one installation reach each other through
//! the same functions without it.

pub mod dispatches;
pub mod identity;
pub mod outbox;
pub mod peers;
pub mod receive;
pub mod relay;
pub mod statements;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

pub use identity::Identity;
pub use relay::{Transport, TransportError};

use super::Blobs;
use crate::proto;

/// The exchange's settings (from `config::Settings`).
#[derive(Clone, Debug)]
pub struct ExchangeSettings {
    /// The exchange endpoint other agencies reach this installation at (the
    /// peer card's), e.g. `https://naskah.example.go.id:50052`; empty when
    /// this installation does not listen for peers.
    pub endpoint: String,
    /// First retry delay.
    pub retry_base: Duration,
    /// Longest retry delay.
    pub retry_ceiling: Duration,
    /// How long the relay keeps trying before it marks a dispatch FAILED.
    pub give_up: Duration,
    /// Largest envelope accepted, in bytes.
    pub max_envelope_bytes: usize,
    /// Highest security level accepted by exchange.
    pub max_security_level: proto::SecurityLevel,
}

impl Default for ExchangeSettings {
    fn default() -> Self {
        Self {
            endpoint: String::new(),
            retry_base: Duration::from_secs(2),
            retry_ceiling: Duration::from_secs(3600),
            give_up: Duration::from_secs(7 * 24 * 3600),
            max_envelope_bytes: 64 * 1024 * 1024,
            max_security_level: proto::SecurityLevel::SangatRahasia,
        }
    }
}

/// What TLS needs to know now: every agency's identity and every pinned CA.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Exchange identities of this installation's agencies.
    pub identities: Vec<Arc<Identity>>,
    /// CA certificates (DER) of every peer of every agency, and of this
    /// installation's agencies themselves.
    pub trusted_cas: Vec<Vec<u8>>,
}

/// The exchange's shared state.
pub struct Exchange {
    master: [u8; 32],
    blobs: Blobs,
    /// Settings.
    pub settings: ExchangeSettings,
    identities: RwLock<HashMap<String, Arc<Identity>>>,
    snapshot: RwLock<Arc<Snapshot>>,
    wake: tokio::sync::Notify,
    directory_changed: std::sync::atomic::AtomicBool,
    notices: crate::notify::Notices,
}

impl std::fmt::Debug for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exchange")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Exchange {
    /// The exchange of an installation.
    pub fn new(
        master: [u8; 32],
        blobs: Blobs,
        settings: ExchangeSettings,
        notices: crate::notify::Notices,
    ) -> Self {
        Self {
            master,
            blobs,
            settings,
            identities: RwLock::new(HashMap::new()),
            snapshot: RwLock::new(Arc::new(Snapshot::default())),
            wake: tokio::sync::Notify::new(),
            directory_changed: std::sync::atomic::AtomicBool::new(false),
            notices,
        }
    }

    /// Wakes the relay (something was queued).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The peer directory changed on this server: TLS trusts what it now
    /// says before this returns (other servers of the installation see it
    /// within the relay's refresh period).
    pub async fn directory_changed(&self, store: &crate::store::Store) {
        if let Err(e) = relay::refresh(store, self).await {
            tracing::warn!(error = %e, "exchange: directory refresh failed");
            self.directory_changed
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
        self.wake();
    }

    fn take_directory_changed(&self) -> bool {
        self.directory_changed
            .swap(false, std::sync::atomic::Ordering::SeqCst)
    }

    /// What TLS trusts and presents now.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.read().map(|s| s.clone()).unwrap_or_default()
    }

    fn set_snapshot(&self, s: Snapshot) {
        if let Ok(mut w) = self.snapshot.write() {
            *w = Arc::new(s);
        }
    }

    fn cached(&self, agency_id: &str) -> Option<Arc<Identity>> {
        self.identities
            .read()
            .ok()
            .and_then(|m| m.get(agency_id).cloned())
    }

    fn cache(&self, id: Arc<Identity>) {
        if let Ok(mut m) = self.identities.write() {
            m.insert(id.agency_id.clone(), id);
        }
    }
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

fn crypto(e: crate::crypto::CryptoError) -> crate::error::Error {
    crate::error::Error::Internal(e.to_string())
}

/// A time in microseconds as a protobuf timestamp.
fn to_timestamp(us: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: us.div_euclid(1_000_000),
        nanos: (us.rem_euclid(1_000_000) * 1000) as i32,
    }
}

/// A protobuf timestamp in microseconds (0 when unset).
fn from_timestamp(t: Option<&prost_types::Timestamp>) -> i64 {
    t.map(|t| t.seconds.saturating_mul(1_000_000) + i64::from(t.nanos / 1000))
        .unwrap_or(0)
}
