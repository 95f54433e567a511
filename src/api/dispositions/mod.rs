//! DispositionService: each request converted (`convert`), one call into
//! `domain::dispositions`, the answer converted to protobuf.

mod convert;

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::mutate::mutate_request;
use super::{App, principal};
use crate::clock::to_timestamp;
use crate::domain::context::etag;
use crate::domain::dispositions::{self as domain, NewDisposition, Node, View};
use crate::domain::lifecycle::DispositionState;
use crate::proto as pb;
use crate::proto::disposition_service_server::DispositionService;
use convert::{Confirming, DispositionAs, DispositionAt, DispositionQuery, Report, TreeOf};

/// Implements naskah.v1.DispositionService.
#[derive(Debug, Clone)]
pub struct DispositionApi {
    app: Arc<App>,
}

impl DispositionApi {
    /// A handler over the shared state.
    pub fn new(app: Arc<App>) -> Self {
        Self { app }
    }
}

fn actor(user: &str, position: &str, kind: i16) -> Option<pb::Actor> {
    (!user.is_empty()).then(|| pb::Actor {
        user_id: user.to_owned(),
        position_id: position.to_owned(),
        assignment_kind: i32::from(kind.max(1)),
        ..Default::default()
    })
}

fn disposition_pb(v: View) -> pb::Disposition {
    let overdue = v.overdue();
    let d = v.d;
    pb::Disposition {
        id: d.id.clone(),
        letter_id: d.letter_id.clone(),
        parent_disposition_id: d.parent_id.clone(),
        sender_position_id: d.sender_position_id.clone(),
        sent_by: actor(
            &d.sent_by_user_id,
            &d.sender_position_id,
            d.sent_by_assignment_kind,
        ),
        drafted_by: actor(&d.drafted_by_user_id, "", 1),
        instruction_codes: d
            .instruction_codes
            .split(',')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        note: d.note.clone(),
        due_time: d.due_us.map(to_timestamp),
        urgency: i32::from(d.urgency),
        recipients: v
            .recipients
            .iter()
            .map(|r| pb::DispositionRecipient {
                position_id: r.position_id.clone(),
                status: i32::from(r.status),
                read_time: r.read_at_us.map(to_timestamp),
                done_time: r.done_at_us.map(to_timestamp),
                responses: v
                    .responses
                    .iter()
                    .filter(|x| x.position_id == r.position_id)
                    .map(|x| pb::DispositionResponse {
                        author: actor(&x.user_id, &x.position_id, x.assignment_kind),
                        note: x.note.clone(),
                        status: i32::from(x.status),
                        attachment_ids: x
                            .attachment_ids
                            .split(',')
                            .filter(|s| !s.is_empty())
                            .map(String::from)
                            .collect(),
                        create_time: Some(to_timestamp(x.created_at_us)),
                    })
                    .collect(),
            })
            .collect(),
        cancelled: d.state == DispositionState::Cancelled,
        overdue,
        etag: etag(d.revision),
        create_time: Some(to_timestamp(d.created_at_us)),
    }
}

fn node_pb(n: Node) -> pb::DispositionNode {
    pb::DispositionNode {
        disposition: Some(disposition_pb(n.view)),
        children: n.children.into_iter().map(node_pb).collect(),
    }
}

#[tonic::async_trait]
impl DispositionService for DispositionApi {
    async fn create_disposition(
        &self,
        req: Request<pb::CreateDispositionRequest>,
    ) -> Result<Response<pb::Disposition>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, d: &NewDisposition| {
            let s = domain::create(tx, ctx, d.clone()).await?;
            Ok(disposition_pb(s.view(tx.now_us())))
        })
        .await
    }

    async fn draft_disposition(
        &self,
        req: Request<pb::DraftDispositionRequest>,
    ) -> Result<Response<pb::Disposition>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, d: &NewDisposition| {
            let d = domain::draft(tx, ctx, d.clone()).await?;
            Ok(disposition_pb(
                domain::answer(tx, ctx.principal, &d.id).await?,
            ))
        })
        .await
    }

    async fn confirm_disposition(
        &self,
        req: Request<pb::ConfirmDispositionRequest>,
    ) -> Result<Response<pb::Disposition>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, c: &Confirming| {
            let id = &c.disposition_id;
            domain::confirm(tx, ctx, id, &c.etag, c.confirmation.clone()).await?;
            Ok(disposition_pb(domain::answer(tx, ctx.principal, id).await?))
        })
        .await
    }

    async fn cancel_disposition(
        &self,
        req: Request<pb::CancelDispositionRequest>,
    ) -> Result<Response<pb::Disposition>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, d: &DispositionAt| {
            domain::cancel(tx, ctx, &d.disposition_id, &d.etag).await?;
            Ok(disposition_pb(
                domain::answer(tx, ctx.principal, &d.disposition_id).await?,
            ))
        })
        .await
    }

    async fn mark_disposition_read(
        &self,
        req: Request<pb::MarkDispositionReadRequest>,
    ) -> Result<Response<pb::Disposition>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, d: &DispositionAs| {
            domain::mark_read(tx, ctx, &d.disposition_id, &d.position_id).await?;
            Ok(disposition_pb(
                domain::answer(tx, ctx.principal, &d.disposition_id).await?,
            ))
        })
        .await
    }

    async fn respond_to_disposition(
        &self,
        req: Request<pb::RespondToDispositionRequest>,
    ) -> Result<Response<pb::Disposition>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, r: &Report| {
            domain::respond(
                tx,
                ctx,
                &r.disposition_id,
                &r.position_id,
                r.status,
                &r.note,
                &r.attachment_ids,
            )
            .await?;
            Ok(disposition_pb(
                domain::answer(tx, ctx.principal, &r.disposition_id).await?,
            ))
        })
        .await
    }

    async fn list_dispositions(
        &self,
        req: Request<pb::ListDispositionsRequest>,
    ) -> Result<Response<pb::ListDispositionsResponse>, Status> {
        let p = principal(&req)?;
        let q = DispositionQuery::try_from(req.into_inner())?;
        let (rows, next) = domain::list(
            &self.app.store,
            &p,
            q.which,
            &q.position_id,
            q.statuses,
            q.overdue_only,
            q.page_size,
            &q.page_token,
        )
        .await?;
        Ok(Response::new(pb::ListDispositionsResponse {
            dispositions: rows.into_iter().map(disposition_pb).collect(),
            next_page_token: next,
        }))
    }

    async fn get_disposition_tree(
        &self,
        req: Request<pb::GetDispositionTreeRequest>,
    ) -> Result<Response<pb::GetDispositionTreeResponse>, Status> {
        let p = principal(&req)?;
        let TreeOf(letter_id) = TreeOf::try_from(req.into_inner())?;
        let roots = domain::tree(&self.app.store, &p, &letter_id).await?;
        Ok(Response::new(pb::GetDispositionTreeResponse {
            roots: roots.into_iter().map(node_pb).collect(),
        }))
    }

    async fn list_instructions(
        &self,
        req: Request<pb::ListInstructionsRequest>,
    ) -> Result<Response<pb::ListInstructionsResponse>, Status> {
        let p = principal(&req)?;
        let () = req.into_inner().try_into()?;
        let list = domain::instructions(&self.app.store, &p).await?;
        Ok(Response::new(pb::ListInstructionsResponse {
            instructions: list
                .into_iter()
                .map(|(code, text)| pb::Instruction { code, text })
                .collect(),
        }))
    }
}
