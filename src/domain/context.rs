//! Who acts, in which request: what every mutation needs for its audit event.

use crate::audit::NewEvent;
use crate::auth::{Principal, RequestMeta};
use crate::error::{Error, Reason, Result};

/// The caller and the request.
#[derive(Clone, Copy, Debug)]
pub struct Ctx<'a> {
    /// The authenticated caller.
    pub principal: &'a Principal,
    /// Request id, client address, method.
    pub meta: &'a RequestMeta,
}

impl<'a> Ctx<'a> {
    /// A context.
    pub fn new(principal: &'a Principal, meta: &'a RequestMeta) -> Self {
        Self { principal, meta }
    }

    /// The agency the caller belongs to.
    pub fn agency(&self) -> &str {
        &self.principal.agency_id
    }

    /// A success event of this request on a resource.
    pub fn event(
        &self,
        resource_type: &str,
        resource_id: &str,
        summary: impl Into<String>,
    ) -> NewEvent {
        let mut ev = NewEvent::success(&self.meta.method, resource_type, resource_id);
        ev.agency_id = self.principal.agency_id.clone();
        ev.actor_user_id = self.principal.user_id.clone();
        ev.request_id = self.meta.request_id.clone();
        ev.client_address = self.meta.client_address.clone();
        ev.summary = summary.into();
        ev
    }
}

/// The etag of a resource version.
pub fn etag(version: i64) -> String {
    format!("\"v{version}\"")
}

/// Refuses a stale or missing etag.
pub fn check_etag(sent: &str, version: i64) -> Result<()> {
    if sent == etag(version) {
        Ok(())
    } else {
        Err(Error::rejected(
            Reason::EtagMismatch,
            "the resource changed since it was read; read it again",
        ))
    }
}
