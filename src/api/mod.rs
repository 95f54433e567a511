//! gRPC services: thin handlers that convert each request into the domain's
//! input (`TryFrom`, validated with `error::Violations`), take the principal,
//! make one domain call (a change inside [`mutate::mutate`]) and convert its
//! answer to protobuf; plus the assembly of the server. They reach the store
//! only through the domain, and hold only its `Store` handle.

pub mod audit;
pub mod auth;
pub mod codec;
pub mod dispositions;
pub mod exchange;
pub mod layers;
pub mod letters;
pub mod mutate;
pub mod org;
pub mod peers;
pub mod records;
pub mod signature;
pub mod status;
pub mod verification;

use tonic::{Request, Status};

use crate::auth::tokens::TokenKeys;
use crate::auth::{Principal, RequestMeta};
use crate::config::Settings;
use crate::domain::Blobs;
use crate::domain::identity::Lifetimes;
use crate::error::Reason;
use crate::store::Store;

/// State shared by every request.
#[derive(Debug)]
pub struct App {
    /// The database.
    pub store: Store,
    /// Token keys.
    pub tokens: TokenKeys,
    /// Validated settings.
    pub settings: Settings,
    /// The installation's master key (seals the agency CA keys).
    pub master_key: [u8; 32],
    /// Inbox notices of this server process.
    pub notices: crate::notify::Notices,
    /// Rate limiter of the public verification service.
    pub verify_limiter: crate::api::verification::RateLimiter,
    /// Turns true when the server shuts down; long-lived streams end on it.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// The inter-agency exchange (identities, directory, relay wake-up).
    pub exchange: std::sync::Arc<crate::domain::exchange::Exchange>,
    /// How the relay and ListPeerPositions reach other installations.
    pub transport: std::sync::Arc<dyn crate::domain::exchange::Transport>,
}

impl App {
    /// Token lifetimes from the settings.
    pub fn lifetimes(&self) -> Lifetimes {
        Lifetimes {
            access: self.settings.access_token_ttl,
            refresh: self.settings.refresh_token_ttl,
        }
    }

    /// The attachments' content files under the data directory.
    pub fn blobs(&self) -> Blobs {
        Blobs::new(&self.settings.data_dir)
    }
}

/// The authenticated caller of a request (set by the gate layer).
pub fn principal<T>(req: &Request<T>) -> Result<Principal, Status> {
    req.extensions()
        .get::<Principal>()
        .cloned()
        .ok_or_else(|| status::rejected(Reason::TokenMissing, "this method needs an access token"))
}

/// Request id, client address and method of a request (set by the gate layer).
pub fn meta<T>(req: &Request<T>) -> RequestMeta {
    req.extensions()
        .get::<RequestMeta>()
        .cloned()
        .unwrap_or_default()
}

/// The paths of an update mask (none when the mask is absent).
fn mask_paths(mask: &Option<prost_types::FieldMask>) -> &[String] {
    match mask {
        Some(prost_types::FieldMask { paths }) => paths,
        None => &[],
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    /// Every file under `dir` ending in `.rs`, with its text.
    fn sources(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read source");
                out.push((path, text));
            }
        }
    }

    /// The handlers reach the store only through the domain: the one path
    /// into `crate::store` that `src/api/` may name is the `Store` handle.
    /// Records, filters, blobs, the write transaction and idempotency are
    /// the domain's to hand out.
    #[test]
    fn the_handlers_name_nothing_of_the_store_but_its_handle() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src")
            .join("api");
        let mut files = Vec::new();
        sources(&root, &mut files);
        assert!(files.len() > 10, "the api sources were found");
        // Spelled in pieces, so that this test does not find itself.
        let store = ["crate", "store"].join("::");
        let handle = format!("{store}::Store");
        let mut found = Vec::new();
        for (path, text) in &files {
            for (i, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for (at, _) in code.match_indices(&store) {
                    let rest = &code[at..];
                    let is_handle = rest.starts_with(&handle)
                        && !rest[handle.len()..]
                            .starts_with(|c: char| c.is_alphanumeric() || c == '_');
                    if !is_handle {
                        found.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
                    }
                }
            }
        }
        assert!(
            found.is_empty(),
            "the store reached past the domain: {found:#?}"
        );
    }
}
