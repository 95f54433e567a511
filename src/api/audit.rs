//! AuditService.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::{App, principal};
use crate::clock::{from_timestamp, to_timestamp};
use crate::domain::audit as domain;
use crate::error::Violations;
use crate::proto::audit_service_server::AuditService;
use crate::proto::{self as pb, AuditOutcome};
use crate::store::audit::EventFilter;

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

#[tonic::async_trait]
impl AuditService for AuditApi {
    async fn list_audit_events(
        &self,
        req: Request<pb::ListAuditEventsRequest>,
    ) -> Result<Response<pb::ListAuditEventsResponse>, Status> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        v.len("resource_type", &r.resource_type, 0, 64);
        v.len("resource_id", &r.resource_id, 0, 200);
        v.uuid("actor_user_id", &r.actor_user_id, false);
        v.len("action", &r.action, 0, 200);
        let start_us = r.start_time.as_ref().map(from_timestamp);
        let end_us = r.end_time.as_ref().map(from_timestamp);
        if start_us == Some(None) {
            v.add("start_time", "is out of range");
        }
        if end_us == Some(None) {
            v.add("end_time", "is out of range");
        }
        if AuditOutcome::try_from(r.outcome).is_err() {
            v.add("outcome", "is not a known outcome");
        }
        v.finish()?;
        let filter = EventFilter {
            agency_id: None,
            resource_type: r.resource_type,
            resource_id: r.resource_id,
            actor_user_id: r.actor_user_id,
            action: r.action,
            start_us: start_us.flatten(),
            end_us: end_us.flatten(),
            outcome: domain::outcome_filter(r.outcome),
        };
        let page = domain::list(
            &self.app.store,
            &p,
            &self.app.master_key,
            filter,
            r.page_size,
            &r.page_token,
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
