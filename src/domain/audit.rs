//! Reading and verifying the audit trail.

use crate::audit::{Event, Outcome};
use crate::auth::Principal;
use crate::domain::page;
use crate::error::Result;
use crate::proto::Role;
use crate::store::Store;
pub use crate::store::audit::EventFilter;
use crate::store::audit::{self as q, VerifyReport};

/// A page of events.
#[derive(Debug)]
pub struct EventPage {
    /// Events, newest first.
    pub events: Vec<Event>,
    /// Token of the next page; empty at the end.
    pub next_page_token: String,
}

/// True when the caller sees the installation's whole chain (its system
/// administrator); every other caller sees their agency's events only, and
/// nothing that counts the others' (no chain sequence numbers, sealed page
/// tokens, their agency's count in a verification).
pub fn sees_installation(p: &Principal) -> bool {
    p.has(Role::SystemAdmin)
}

/// A page token readable by the server only (the key is the installation's
/// master key), for callers who must not learn sequence numbers.
fn seal_token(key: &[u8; 32], token: String) -> Result<String> {
    use base64::Engine;
    if token.is_empty() {
        return Ok(token);
    }
    let sealed = crate::crypto::seal::seal_with_key(key, token.as_bytes())
        .map_err(|e| crate::error::Error::Internal(format!("page token: {e}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed))
}

fn open_token(key: &[u8; 32], token: &str) -> Result<String> {
    use base64::Engine;
    if token.is_empty() {
        return Ok(String::new());
    }
    let bad = || {
        crate::error::Error::rejected(
            crate::error::Reason::InvalidPageToken,
            "page_token is malformed or belongs to other filters",
        )
    };
    let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())?;
    let plain = crate::crypto::seal::open_with_key(key, &sealed).map_err(|_| bad())?;
    String::from_utf8(plain).map_err(|_| bad())
}

/// Lists the events of the caller's agency (all agencies for the
/// installation's system administrator). For an agency's callers the events
/// carry no chain sequence number and the page token is sealed with `key`.
pub async fn list(
    store: &Store,
    p: &Principal,
    key: &[u8; 32],
    mut filter: EventFilter,
    page_size: i32,
    page_token: &str,
) -> Result<EventPage> {
    let whole = sees_installation(p);
    let opened;
    let page_token = if whole {
        page_token
    } else {
        opened = open_token(key, page_token)?;
        opened.as_str()
    };
    let limit = page::page_size(page_size, 100, 1000)?;
    if !whole {
        filter.agency_id = Some(p.agency_id.clone());
    }
    let fp = page::fingerprint(&[
        filter.agency_id.as_deref().unwrap_or("*"),
        &filter.resource_type,
        &filter.resource_id,
        &filter.actor_user_id,
        &filter.action,
        &filter.start_us.map(|v| v.to_string()).unwrap_or_default(),
        &filter.end_us.map(|v| v.to_string()).unwrap_or_default(),
        &filter
            .outcome
            .map(|o| o.code().to_string())
            .unwrap_or_default(),
    ]);
    let before = match page::decode(page_token, &fp)? {
        Some(key) => Some(key.parse::<i64>().map_err(|_| {
            crate::error::Error::rejected(
                crate::error::Reason::InvalidPageToken,
                "page_token is malformed",
            )
        })?),
        None => None,
    };
    let mut events = q::list(store, &filter, before, limit + 1).await?;
    let next_page_token = if events.len() as u64 > limit {
        events.truncate(limit as usize);
        events
            .last()
            .map(|e| page::encode(&fp, &e.seq.to_string()))
            .unwrap_or_default()
    } else {
        String::new()
    };
    let next_page_token = if whole {
        next_page_token
    } else {
        for e in &mut events {
            e.seq = 0;
        }
        seal_token(key, next_page_token)?
    };
    Ok(EventPage {
        events,
        next_page_token,
    })
}

/// What a verification tells its caller.
#[derive(Debug)]
pub struct Verified {
    /// True when the whole chain verifies.
    pub ok: bool,
    /// Events checked: the whole chain's for the installation's system
    /// administrator, the caller's agency's for anyone else.
    pub events_checked: i64,
    /// The first broken event's sequence number (installation view only; 0
    /// otherwise and when the chain verifies).
    pub first_broken_seq: i64,
    /// What is wrong, when something is.
    pub problem: String,
    /// The chain head's hash.
    pub head_hash: String,
}

/// Verifies the whole chain (one chain per installation).
pub async fn verify(store: &Store, p: &Principal) -> Result<Verified> {
    let report: VerifyReport = store.verify_audit().await?;
    let whole = sees_installation(p);
    let events_checked = if whole {
        report.checked as i64
    } else {
        q::count_of_agency(store, &p.agency_id).await? as i64
    };
    Ok(Verified {
        ok: report.broken.is_none(),
        events_checked,
        first_broken_seq: match &report.broken {
            Some(b) if whole => b.seq,
            _ => 0,
        },
        problem: report.broken.map(|b| b.problem).unwrap_or_default(),
        head_hash: report.head_hash,
    })
}

/// Maps a protobuf outcome number to the domain's outcome (0 = any).
pub fn outcome_filter(code: i32) -> Option<Outcome> {
    Outcome::from_code(i16::try_from(code).ok()?)
}
