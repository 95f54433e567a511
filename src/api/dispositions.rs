//! DispositionService.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::mutate::mutate;
use super::{App, meta, principal};
use crate::clock::{from_timestamp, to_timestamp};
use crate::domain::context::{Ctx, etag};
use crate::domain::dispositions::{
    self as domain, Box as Which, Confirmation, NewDisposition, Node, View,
};
use crate::error::Violations;
use crate::proto::disposition_service_server::DispositionService;
use crate::proto::{self as pb, DispositionBox, DispositionStatus, Urgency};

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
        cancelled: d.state == crate::domain::lifecycle::DispositionState::Cancelled,
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

#[allow(clippy::too_many_arguments)]
fn content(
    v: &mut Violations,
    recipients: &[String],
    instructions: &[String],
    note: &str,
    due: &Option<prost_types::Timestamp>,
    urgency: Option<i32>,
    require: bool,
) -> Option<i64> {
    if (require && recipients.is_empty()) || recipients.len() > 50 {
        v.add("recipient_position_ids", "needs 1 to 50 positions");
    }
    for (i, r) in recipients.iter().enumerate() {
        v.uuid(&format!("recipient_position_ids[{i}]"), r, true);
    }
    if (require && instructions.is_empty()) || instructions.len() > 20 {
        v.add("instruction_codes", "needs 1 to 20 instructions");
    }
    for (i, c) in instructions.iter().enumerate() {
        v.len(&format!("instruction_codes[{i}]"), c, 1, 64);
    }
    v.len("note", note, 0, 4000);
    if let Some(u) = urgency
        && !matches!(Urgency::try_from(u), Ok(x) if x != Urgency::Unspecified)
    {
        v.add("urgency", "is required and must be a known value");
    }
    let due_us = due.as_ref().map(from_timestamp);
    if due_us == Some(None) {
        v.add("due_time", "is out of range");
    }
    due_us.flatten()
}

#[tonic::async_trait]
impl DispositionService for DispositionApi {
    async fn create_disposition(
        &self,
        req: Request<pb::CreateDispositionRequest>,
    ) -> Result<Response<pb::Disposition>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid(
            "letter_id",
            &r.letter_id,
            r.parent_disposition_id.is_empty(),
        );
        v.uuid("parent_disposition_id", &r.parent_disposition_id, false);
        v.uuid("sender_position_id", &r.sender_position_id, true);
        let due = content(
            &mut v,
            &r.recipient_position_ids,
            &r.instruction_codes,
            &r.note,
            &r.due_time,
            Some(r.urgency),
            true,
        );
        v.finish()?;
        let d = NewDisposition {
            letter_id: r.letter_id.clone(),
            parent_id: r.parent_disposition_id.clone(),
            sender_position_id: r.sender_position_id.clone(),
            recipients: r.recipient_position_ids.clone(),
            instructions: r.instruction_codes.clone(),
            note: r.note.clone(),
            due_us: due,
            urgency: r.urgency as i16,
        };
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            let s = domain::create(tx, Ctx::new(&p, &m), d.clone()).await?;
            Ok(disposition_pb(s.view(tx.now_us())))
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn draft_disposition(
        &self,
        req: Request<pb::DraftDispositionRequest>,
    ) -> Result<Response<pb::Disposition>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("letter_id", &r.letter_id, true);
        v.uuid("for_position_id", &r.for_position_id, true);
        let due = content(
            &mut v,
            &r.recipient_position_ids,
            &r.instruction_codes,
            &r.note,
            &r.due_time,
            Some(r.urgency),
            true,
        );
        v.finish()?;
        let d = NewDisposition {
            letter_id: r.letter_id.clone(),
            parent_id: String::new(),
            sender_position_id: r.for_position_id.clone(),
            recipients: r.recipient_position_ids.clone(),
            instructions: r.instruction_codes.clone(),
            note: r.note.clone(),
            due_us: due,
            urgency: r.urgency as i16,
        };
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            let d = domain::draft(tx, Ctx::new(&p, &m), d.clone()).await?;
            Ok(disposition_pb(domain::answer(tx, &p, &d.id).await?))
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn confirm_disposition(
        &self,
        req: Request<pb::ConfirmDispositionRequest>,
    ) -> Result<Response<pb::Disposition>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("disposition_id", &r.disposition_id, true);
        v.len("etag", &r.etag, 1, 64);
        let due = content(
            &mut v,
            &r.recipient_position_ids,
            &r.instruction_codes,
            &r.note,
            &r.due_time,
            None,
            false,
        );
        v.finish()?;
        let c = Confirmation {
            recipients: r.recipient_position_ids.clone(),
            instructions: r.instruction_codes.clone(),
            note: r.note.clone(),
            due_us: due,
        };
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            domain::confirm(tx, Ctx::new(&p, &m), &r.disposition_id, &r.etag, c.clone()).await?;
            Ok(disposition_pb(
                domain::answer(tx, &p, &r.disposition_id).await?,
            ))
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn cancel_disposition(
        &self,
        req: Request<pb::CancelDispositionRequest>,
    ) -> Result<Response<pb::Disposition>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("disposition_id", &r.disposition_id, true);
        v.len("etag", &r.etag, 1, 64);
        v.len("reason", &r.reason, 0, 1000);
        v.finish()?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            domain::cancel(tx, Ctx::new(&p, &m), &r.disposition_id, &r.etag).await?;
            Ok(disposition_pb(
                domain::answer(tx, &p, &r.disposition_id).await?,
            ))
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn mark_disposition_read(
        &self,
        req: Request<pb::MarkDispositionReadRequest>,
    ) -> Result<Response<pb::Disposition>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("disposition_id", &r.disposition_id, true);
        v.uuid("position_id", &r.position_id, false);
        v.finish()?;
        let out = mutate(&self.app, &p, &m, "", &r, async |tx| {
            domain::mark_read(tx, Ctx::new(&p, &m), &r.disposition_id, &r.position_id).await?;
            Ok(disposition_pb(
                domain::answer(tx, &p, &r.disposition_id).await?,
            ))
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn respond_to_disposition(
        &self,
        req: Request<pb::RespondToDispositionRequest>,
    ) -> Result<Response<pb::Disposition>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("disposition_id", &r.disposition_id, true);
        v.uuid("position_id", &r.position_id, false);
        if !matches!(
            DispositionStatus::try_from(r.status),
            Ok(DispositionStatus::InProgress | DispositionStatus::Done)
        ) {
            v.add("status", "must be IN_PROGRESS or DONE");
        }
        v.len("note", &r.note, 1, 4000);
        if r.attachment_ids.len() > 20 {
            v.add("attachment_ids", "at most 20");
        }
        for (i, a) in r.attachment_ids.iter().enumerate() {
            v.uuid(&format!("attachment_ids[{i}]"), a, true);
        }
        v.finish()?;
        let status = if r.status == DispositionStatus::Done as i32 {
            crate::domain::lifecycle::RecipientStatus::Done
        } else {
            crate::domain::lifecycle::RecipientStatus::InProgress
        };
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            domain::respond(
                tx,
                Ctx::new(&p, &m),
                &r.disposition_id,
                &r.position_id,
                status,
                &r.note,
                &r.attachment_ids,
            )
            .await?;
            Ok(disposition_pb(
                domain::answer(tx, &p, &r.disposition_id).await?,
            ))
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn list_dispositions(
        &self,
        req: Request<pb::ListDispositionsRequest>,
    ) -> Result<Response<pb::ListDispositionsResponse>, Status> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let which = match DispositionBox::try_from(r.r#box) {
            Ok(DispositionBox::Received) => Which::Received,
            Ok(DispositionBox::Sent) => Which::Sent,
            Ok(DispositionBox::Drafts) => Which::Drafts,
            _ => {
                v.add("box", "must be RECEIVED, SENT or DRAFTS");
                Which::Received
            }
        };
        v.uuid("position_id", &r.position_id, false);
        for s in &r.statuses {
            if !matches!(DispositionStatus::try_from(*s), Ok(x) if x != DispositionStatus::Unspecified)
            {
                v.add("statuses", "must be known statuses");
            }
        }
        v.finish()?;
        let statuses = r.statuses.iter().map(|s| *s as i16).collect();
        let (rows, next) = domain::list(
            &self.app.store,
            &p,
            which,
            &r.position_id,
            statuses,
            r.overdue_only,
            r.page_size,
            &r.page_token,
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
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("letter_id", &r.letter_id, true);
        v.finish()?;
        let roots = domain::tree(&self.app.store, &p, &r.letter_id).await?;
        Ok(Response::new(pb::GetDispositionTreeResponse {
            roots: roots.into_iter().map(node_pb).collect(),
        }))
    }

    async fn list_instructions(
        &self,
        req: Request<pb::ListInstructionsRequest>,
    ) -> Result<Response<pb::ListInstructionsResponse>, Status> {
        let p = principal(&req)?;
        let list = domain::instructions(&self.app.store, &p).await?;
        Ok(Response::new(pb::ListInstructionsResponse {
            instructions: list
                .into_iter()
                .map(|(code, text)| pb::Instruction { code, text })
                .collect(),
        }))
    }
}
