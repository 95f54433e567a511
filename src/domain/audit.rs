//! Reading and verifying the audit trail.

use crate::audit::{Event, Outcome};
use crate::auth::Principal;
use crate::domain::page;
use crate::error::Result;
use crate::proto::Role;
use crate::store::Store;
use crate::store::audit::{self as q, EventFilter, VerifyReport};

/// A page of events.
#[derive(Debug)]
pub struct EventPage {
    /// Events, newest first.
    pub events: Vec<Event>,
    /// Token of the next page; empty at the end.
    pub next_page_token: String,
}

/// Lists the events of the caller's agency (all agencies for a SYSTEM_ADMIN auditor).
pub async fn list(
    store: &Store,
    p: &Principal,
    mut filter: EventFilter,
    page_size: i32,
    page_token: &str,
) -> Result<EventPage> {
    let limit = page::page_size(page_size, 100, 1000)?;
    if !p.has(Role::SystemAdmin) {
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
    let mut events = q::list(store.reader(), &filter, before, limit + 1).await?;
    let next_page_token = if events.len() as u64 > limit {
        events.truncate(limit as usize);
        events
            .last()
            .map(|e| page::encode(&fp, &e.seq.to_string()))
            .unwrap_or_default()
    } else {
        String::new()
    };
    Ok(EventPage {
        events,
        next_page_token,
    })
}

/// Verifies the whole chain.
pub async fn verify(store: &Store) -> Result<VerifyReport> {
    Ok(store.verify_audit().await?)
}

/// Maps a protobuf outcome number to the domain's outcome (0 = any).
pub fn outcome_filter(code: i32) -> Option<Outcome> {
    Outcome::from_code(i16::try_from(code).ok()?)
}
