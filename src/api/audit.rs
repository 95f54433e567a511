//! AuditService: each request converted by a `TryFrom` that destructures it
//! whole, one call into `domain::audit`, the answer converted to protobuf.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::{App, principal};
use crate::clock::{from_timestamp, to_timestamp};
use crate::domain::audit::{self as domain, EventFilter};
use crate::error::{Error, Violations};
use crate::proto::audit_service_server::AuditService;
use crate::proto::{self as pb, AuditOutcome};

/// Implements naskah.v1.AuditService.
#[derive(Debug, Clone)]
pub struct AuditApi {
    app: Arc<App>,
}

impl AuditApi {
    /// A handler over the shared state.
    pub fn new(app: Arc<App>) -> Self {
        Self { app }
    }
}

fn to_pb(e: crate::audit::Event) -> pb::AuditEvent {
    pb::AuditEvent {
        seq: e.seq,
        event_time: Some(to_timestamp(e.event_time_us)),
        agency_id: e.body.agency_id,
        actor_user_id: e.body.actor_user_id,
        actor_position_id: e.body.actor_position_id,
        action: e.body.action,
        resource_type: e.body.resource_type,
        resource_id: e.body.resource_id,
        outcome: AuditOutcome::try_from(i32::from(e.outcome_code))
            .unwrap_or(AuditOutcome::Unspecified) as i32,
        reason: e.body.reason,
        request_id: e.body.request_id,
        client_address: e.body.client_address,
        summary: e.body.summary,
        prev_hash: e.prev_hash,
        hash: e.hash,
    }
}

// ---- requests → inputs ----

/// ListAuditEvents: the filter (its agency set by the domain) and the page.
struct EventQuery {
    filter: EventFilter,
    page_size: i32,
    page_token: String,
}

impl TryFrom<pb::ListAuditEventsRequest> for EventQuery {
    type Error = Error;

    fn try_from(r: pb::ListAuditEventsRequest) -> Result<Self, Error> {
        let pb::ListAuditEventsRequest {
            resource_type,
            resource_id,
            actor_user_id,
            action,
            start_time,
            end_time,
            outcome,
            page_size,
            page_token,
        } = r;
        let mut v = Violations::new();
        v.len("resource_type", &resource_type, 0, 64);
        v.len("resource_id", &resource_id, 0, 200);
        v.uuid("actor_user_id", &actor_user_id, false);
        v.len("action", &action, 0, 200);
        let start_us = start_time.as_ref().map(from_timestamp);
        let end_us = end_time.as_ref().map(from_timestamp);
        if start_us == Some(None) {
            v.add("start_time", "is out of range");
        }
        if end_us == Some(None) {
            v.add("end_time", "is out of range");
        }
        if AuditOutcome::try_from(outcome).is_err() {
            v.add("outcome", "is not a known outcome");
        }
        v.finish()?;
        Ok(EventQuery {
            filter: EventFilter {
                agency_id: None,
                resource_type,
                resource_id,
                actor_user_id,
                action,
                start_us: start_us.flatten(),
                end_us: end_us.flatten(),
                outcome: domain::outcome_filter(outcome),
            },
            page_size,
            page_token,
        })
    }
}

impl TryFrom<pb::VerifyAuditLogRequest> for () {
    type Error = Error;

    fn try_from(r: pb::VerifyAuditLogRequest) -> Result<Self, Error> {
        let pb::VerifyAuditLogRequest {} = r;
        Ok(())
    }
}

#[tonic::async_trait]
impl AuditService for AuditApi {
    async fn list_audit_events(
        &self,
        req: Request<pb::ListAuditEventsRequest>,
    ) -> Result<Response<pb::ListAuditEventsResponse>, Status> {
        let p = principal(&req)?;
        let q = EventQuery::try_from(req.into_inner())?;
        let page = domain::list(
            &self.app.store,
            &p,
            &self.app.master_key,
            q.filter,
            q.page_size,
            &q.page_token,
        )
        .await?;
        Ok(Response::new(pb::ListAuditEventsResponse {
            events: page.events.into_iter().map(to_pb).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn verify_audit_log(
        &self,
        req: Request<pb::VerifyAuditLogRequest>,
    ) -> Result<Response<pb::VerifyAuditLogResponse>, Status> {
        let p = principal(&req)?;
        let () = req.into_inner().try_into()?;
        let v = domain::verify(&self.app.store, &p).await?;
        Ok(Response::new(pb::VerifyAuditLogResponse {
            ok: v.ok,
            events_checked: v.events_checked,
            first_broken_seq: v.first_broken_seq,
            problem: v.problem,
            head_hash: v.head_hash,
        }))
    }
}
