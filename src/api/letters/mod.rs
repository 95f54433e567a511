//! LetterService: validation, conversion, streaming, and calls into `domain::letters`.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use tokio::io::AsyncReadExt;
use tonic::{Request, Response, Status, Streaming};

use super::mutate::{mutate, replayed};
use super::{App, meta, principal};
use crate::clock::{from_timestamp, to_timestamp};
use crate::domain::context::Ctx;
use crate::domain::letters::{
    self as domain, Caller, DraftChanges, DraftInput, External, IncomingInput, LetterView, Target,
};
use crate::error::{Error, Reason, Violations};
use crate::proto::letter_service_server::LetterService;
use crate::proto::{self as pb, Folder, LetterType, SecurityLevel, Urgency};
use crate::store::attachments::{self as aq, AttachmentRecord};
use crate::store::blobs::Blobs;
use crate::store::letters::BoxFilter;

/// Implements naskah.v1.LetterService.
#[derive(Debug, Clone)]
pub struct LetterApi {
    app: Arc<App>,
}

impl LetterApi {
    /// A handler over the shared state.
    pub fn new(app: Arc<App>) -> Self {
        Self { app }
    }
}

const MAX_BODY: usize = 1024 * 1024;
const CHUNK: usize = 64 * 1024;

// ---- conversions ----

/// Display names of a letter view, for its actors.
struct Names<'a> {
    users: &'a HashMap<String, String>,
    positions: &'a HashMap<String, String>,
}

impl Names<'_> {
    fn actor(&self, user: &str, position: &str, kind: i16) -> Option<pb::Actor> {
        (!user.is_empty()).then(|| pb::Actor {
            user_id: user.to_owned(),
            user_name: self.users.get(user).cloned().unwrap_or_default(),
            position_id: position.to_owned(),
            position_name: self.positions.get(position).cloned().unwrap_or_default(),
            assignment_kind: i32::from(kind.max(1)),
        })
    }
}

fn attachment_pb(a: AttachmentRecord) -> pb::Attachment {
    pb::Attachment {
        id: a.id,
        letter_id: a.letter_id,
        file_name: a.file_name,
        media_type: a.media_type,
        size_bytes: a.size_bytes,
        sha256: a.sha256,
        is_scan: a.is_scan,
        create_time: Some(to_timestamp(a.created_at_us)),
    }
}

fn external_pb(e: &External) -> pb::ExternalAddressee {
    pb::ExternalAddressee {
        organisation: e.organisation.clone(),
        attention: e.attention.clone(),
        address: e.address.clone(),
        email: e.email.clone(),
        exchange_agency_id: e.exchange_agency_id.clone(),
    }
}

/// The message of a letter view; the view's own values move into it.
fn letter_pb(v: LetterView) -> pb::Letter {
    let incoming = if v.letter.incoming.is_empty() {
        None
    } else {
        v.incoming()
    };
    let etag = v.etag();
    let LetterView {
        letter: l,
        steps,
        addressees,
        receipts,
        attachments,
        read,
        users,
        positions,
        with_body,
    } = v;
    let names = Names {
        users: &users,
        positions: &positions,
    };
    let mut recipients = Vec::new();
    let mut carbon_copies = Vec::new();
    for a in addressees {
        let kind = a.kind;
        let read_time = receipts.get(&a.position_id).copied().map(to_timestamp);
        let target = if a.position_id.is_empty() {
            pb::addressee::Target::External(external_pb(&LetterView::external(&a)))
        } else {
            pb::addressee::Target::PositionId(a.position_id)
        };
        let pb_a = pb::Addressee {
            target: Some(target),
            display_name: a.display_name,
            read_time,
        };
        match kind {
            1 => recipients.push(pb_a),
            2 => carbon_copies.push(pb_a),
            _ => {}
        }
    }
    let incoming = incoming.map(|i| pb::IncomingDetails {
        sender: Some(external_pb(&i.sender)),
        sender_number: i.sender_number,
        letter_date: Some(to_timestamp(i.letter_date_us)),
        receive_time: Some(to_timestamp(i.receive_time_us)),
        registered_by: names.actor(&i.registered_by_user_id, &i.registered_by_position_id, 1),
    });
    pb::Letter {
        direction: i32::from(l.direction),
        state: i32::from(l.state),
        r#type: i32::from(l.letter_type),
        body: if with_body { l.body } else { String::new() },
        security_level: i32::from(l.security_level),
        urgency: i32::from(l.urgency),
        recipients,
        carbon_copies,
        drafted_by: names.actor(&l.drafted_by_user_id, &l.drafted_by_position_id, 1),
        route: steps
            .into_iter()
            .map(|s| pb::RouteStep {
                decided_by: names.actor(
                    &s.decided_by_user_id,
                    &s.decided_by_position_id,
                    s.decided_by_assignment_kind,
                ),
                position_id: s.position_id,
                kind: i32::from(s.kind),
                decision: i32::from(s.decision),
                decide_time: s.decide_time_us.map(to_timestamp),
                version: s.version,
            })
            .collect(),
        current_step: l.current_step,
        version: l.version,
        sign_time: l.sign_time_us.map(to_timestamp),
        signed_by: names.actor(&l.signer_user_id, &l.signer_position_id, 1),
        verification_code: l.verification_code.unwrap_or_default(),
        attachments: attachments.into_iter().map(attachment_pb).collect(),
        incoming,
        etag,
        create_time: Some(to_timestamp(l.created_at_us)),
        update_time: Some(to_timestamp(l.updated_at_us)),
        read,
        id: l.id,
        agency_id: l.agency_id,
        subject: l.subject,
        classification_code: l.classification_code,
        drafting_position_id: l.drafting_position_id,
        number: l.number,
        reference_letter_id: l.reference_letter_id,
    }
}

// ---- validation ----

fn enum_set<T: TryFrom<i32>>(v: &mut Violations, field: &str, raw: i32, unspecified: i32) {
    if raw == unspecified || T::try_from(raw).is_err() {
        v.add(field, "is required and must be a known value");
    }
}

fn targets(v: &mut Violations, field: &str, list: &[pb::Addressee]) -> Vec<Target> {
    if list.len() > 100 {
        v.add(field, "at most 100 addressees");
    }
    let mut out = Vec::new();
    for (i, a) in list.iter().enumerate() {
        let f = format!("{field}[{i}]");
        match &a.target {
            Some(pb::addressee::Target::PositionId(id)) => {
                v.uuid(&format!("{f}.position_id"), id, true);
                out.push(Target::Position(id.clone()));
            }
            Some(pb::addressee::Target::External(e)) => {
                v.len(
                    &format!("{f}.external.organisation"),
                    &e.organisation,
                    1,
                    200,
                );
                v.len(&format!("{f}.external.attention"), &e.attention, 0, 200);
                v.len(&format!("{f}.external.address"), &e.address, 0, 500);
                v.len(&format!("{f}.external.email"), &e.email, 0, 254);
                v.len(
                    &format!("{f}.external.exchange_agency_id"),
                    &e.exchange_agency_id,
                    0,
                    64,
                );
                out.push(Target::External(External {
                    organisation: e.organisation.clone(),
                    attention: e.attention.clone(),
                    address: e.address.clone(),
                    email: e.email.clone(),
                    exchange_agency_id: e.exchange_agency_id.clone(),
                }));
            }
            None => v.add(&f, "needs a position_id or an external addressee"),
        }
    }
    out
}

fn subject_rule(v: &mut Violations, field: &str, t: i32, subject: &str) {
    let lt = LetterType::try_from(t).unwrap_or(LetterType::Unspecified);
    if domain::has_no_subject(lt) {
        if !subject.is_empty() {
            v.add(field, "this letter type has no subject line");
        }
    } else {
        v.len(field, subject, 1, 500);
    }
}

fn body_rule(v: &mut Violations, field: &str, body: &str) {
    if body.len() > MAX_BODY {
        v.add(field, "must be at most 1 MiB");
    }
}

pub(super) fn etag_rule(v: &mut Violations, etag: &str) {
    v.len("etag", etag, 1, 64);
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl LetterService for LetterApi {
    async fn create_draft(
        &self,
        req: Request<pb::CreateDraftRequest>,
    ) -> Result<Response<pb::Letter>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("drafting_position_id", &r.drafting_position_id, true);
        enum_set::<LetterType>(&mut v, "type", r.r#type, 0);
        subject_rule(&mut v, "subject", r.r#type, &r.subject);
        body_rule(&mut v, "body", &r.body);
        enum_set::<SecurityLevel>(&mut v, "security_level", r.security_level, 0);
        enum_set::<Urgency>(&mut v, "urgency", r.urgency, 0);
        v.len("classification_code", &r.classification_code, 1, 64);
        let recipients = targets(&mut v, "recipients", &r.recipients);
        let carbon_copies = targets(&mut v, "carbon_copies", &r.carbon_copies);
        v.uuid("reference_letter_id", &r.reference_letter_id, false);
        v.finish()?;
        let d = DraftInput {
            drafting_position_id: r.drafting_position_id.clone(),
            letter_type: LetterType::try_from(r.r#type).unwrap_or(LetterType::Lainnya),
            subject: r.subject.clone(),
            body: r.body.clone(),
            security: SecurityLevel::try_from(r.security_level).unwrap_or(SecurityLevel::Biasa),
            urgency: r.urgency as i16,
            classification_code: r.classification_code.clone(),
            recipients,
            carbon_copies,
            reference_letter_id: r.reference_letter_id.clone(),
        };
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            let ctx = Ctx::new(&p, &m);
            let c = domain::create_draft(tx, ctx, d.clone()).await?;
            Ok(letter_pb(domain::answer_created(tx, ctx, c).await?))
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn get_letter(
        &self,
        req: Request<pb::GetLetterRequest>,
    ) -> Result<Response<pb::Letter>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("letter_id", &r.letter_id, true);
        v.uuid("acting_position_id", &r.acting_position_id, false);
        v.finish()?;
        Ok(Response::new(letter_pb(
            domain::get_as(&self.app.store, &p, &m, &r.letter_id, &r.acting_position_id).await?,
        )))
    }

    async fn update_draft(
        &self,
        req: Request<pb::UpdateDraftRequest>,
    ) -> Result<Response<pb::Letter>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        let l = r.letter.clone().unwrap_or_default();
        v.uuid("letter.id", &l.id, true);
        etag_rule(&mut v, &r.etag);
        if !l.etag.is_empty() && l.etag != r.etag {
            v.add("letter.etag", "must be empty or equal to etag");
        }
        let allowed = [
            "subject",
            "body",
            "security_level",
            "urgency",
            "classification_code",
            "recipients",
            "carbon_copies",
            "type",
            "reference_letter_id",
        ];
        let paths: Vec<String> = r
            .update_mask
            .as_ref()
            .map(|m| m.paths.clone())
            .unwrap_or_default();
        if paths.is_empty() {
            v.add("update_mask", "names no field to change");
        }
        let mut ch = DraftChanges::default();
        for path in &paths {
            match path.as_str() {
                "subject" => {
                    // Required or forbidden by the letter's type, which the
                    // domain checks after the change.
                    v.len("letter.subject", &l.subject, 0, 500);
                    ch.subject = Some(l.subject.clone());
                }
                "body" => {
                    body_rule(&mut v, "letter.body", &l.body);
                    ch.body = Some(l.body.clone());
                }
                "security_level" => {
                    enum_set::<SecurityLevel>(&mut v, "letter.security_level", l.security_level, 0);
                    ch.security = SecurityLevel::try_from(l.security_level).ok();
                }
                "urgency" => {
                    enum_set::<Urgency>(&mut v, "letter.urgency", l.urgency, 0);
                    ch.urgency = Some(l.urgency as i16);
                }
                "classification_code" => {
                    v.len("letter.classification_code", &l.classification_code, 1, 64);
                    ch.classification_code = Some(l.classification_code.clone());
                }
                "recipients" => {
                    ch.recipients = Some(targets(&mut v, "letter.recipients", &l.recipients))
                }
                "carbon_copies" => {
                    ch.carbon_copies =
                        Some(targets(&mut v, "letter.carbon_copies", &l.carbon_copies))
                }
                "type" => {
                    enum_set::<LetterType>(&mut v, "letter.type", l.r#type, 0);
                    ch.letter_type = LetterType::try_from(l.r#type).ok();
                }
                "reference_letter_id" => {
                    v.uuid("letter.reference_letter_id", &l.reference_letter_id, false);
                    ch.reference_letter_id = Some(l.reference_letter_id.clone());
                }
                other => v.add(
                    "update_mask",
                    format!(
                        "{other:?} cannot be changed (allowed: {})",
                        allowed.join(", ")
                    ),
                ),
            }
        }
        v.finish()?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            let ctx = Ctx::new(&p, &m);
            let l = domain::update_draft(tx, ctx, &l.id, &r.etag, ch.clone()).await?;
            Ok(letter_pb(domain::answer(tx, ctx, l).await?))
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn delete_draft(
        &self,
        req: Request<pb::DeleteDraftRequest>,
    ) -> Result<Response<pb::DeleteDraftResponse>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("letter_id", &r.letter_id, true);
        etag_rule(&mut v, &r.etag);
        v.finish()?;
        let out = mutate(&self.app, &p, &m, "", &r, async |tx| {
            domain::delete_draft(tx, Ctx::new(&p, &m), &r.letter_id, &r.etag).await?;
            Ok(pb::DeleteDraftResponse {})
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn list_letters(
        &self,
        req: Request<pb::ListLettersRequest>,
    ) -> Result<Response<pb::ListLettersResponse>, Status> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        enum_set::<Folder>(&mut v, "folder", r.folder, 0);
        v.uuid("position_id", &r.position_id, false);
        v.len("query", &r.query, 0, 200);
        for t in &r.types {
            enum_set::<LetterType>(&mut v, "types", *t, 0);
        }
        for u in &r.urgencies {
            enum_set::<Urgency>(&mut v, "urgencies", *u, 0);
        }
        let from = r.create_time_from.as_ref().map(from_timestamp);
        let to = r.create_time_to.as_ref().map(from_timestamp);
        if from == Some(None) || to == Some(None) {
            v.add("create_time_from", "is out of range");
        }
        let full = match pb::LetterView::try_from(r.view) {
            Ok(pb::LetterView::Basic) => false,
            Ok(pb::LetterView::Unspecified | pb::LetterView::Full) => true,
            Err(_) => {
                v.add("view", "must be a known value");
                true
            }
        };
        v.finish()?;
        let filter = BoxFilter {
            types: r.types.iter().map(|t| *t as i16).collect(),
            urgencies: r.urgencies.iter().map(|u| *u as i16).collect(),
            query: r.query.clone(),
            unread_only: r.unread_only,
            created_from_us: from.flatten(),
            created_to_us: to.flatten(),
        };
        let (rows, next) = domain::list(
            &self.app.store,
            &p,
            r.folder as i16,
            &r.position_id,
            filter,
            r.page_size,
            &r.page_token,
            full,
        )
        .await?;
        Ok(Response::new(pb::ListLettersResponse {
            letters: rows.into_iter().map(letter_pb).collect(),
            next_page_token: next,
        }))
    }

    async fn list_versions(
        &self,
        req: Request<pb::ListVersionsRequest>,
    ) -> Result<Response<pb::ListVersionsResponse>, Status> {
        let p = principal(&req)?;
        let m = meta(&req);
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("letter_id", &r.letter_id, true);
        v.finish()?;
        let (rows, next) = domain::versions(
            &self.app.store,
            &p,
            &m,
            &r.letter_id,
            r.page_size,
            &r.page_token,
        )
        .await?;
        let ids: Vec<String> = rows.iter().map(|x| x.author_user_id.clone()).collect();
        let names: std::collections::HashMap<String, String> =
            crate::store::org::users_by_ids(&self.app.store, &p.agency_id, &ids)
                .await
                .map_err(Error::from)?
                .into_iter()
                .map(|u| (u.id, u.full_name))
                .collect();
        Ok(Response::new(pb::ListVersionsResponse {
            versions: rows
                .into_iter()
                .map(|x| pb::LetterVersion {
                    version: x.version,
                    subject: x.subject,
                    body: x.body,
                    body_sha256: x.body_sha256,
                    author: Some(pb::Actor {
                        user_name: names.get(&x.author_user_id).cloned().unwrap_or_default(),
                        user_id: x.author_user_id,
                        position_id: x.author_position_id,
                        ..Default::default()
                    }),
                    create_time: Some(to_timestamp(x.created_at_us)),
                })
                .collect(),
            next_page_token: next,
        }))
    }

    async fn set_route(
        &self,
        req: Request<pb::SetRouteRequest>,
    ) -> Result<Response<pb::Letter>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("letter_id", &r.letter_id, true);
        etag_rule(&mut v, &r.etag);
        if r.reviewer_position_ids.len() > 20 {
            v.add("reviewer_position_ids", "at most 20 reviewers");
        }
        for (i, id) in r.reviewer_position_ids.iter().enumerate() {
            v.uuid(&format!("reviewer_position_ids[{i}]"), id, true);
        }
        v.uuid("signer_position_id", &r.signer_position_id, true);
        v.finish()?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            let ctx = Ctx::new(&p, &m);
            let l = domain::set_route(
                tx,
                ctx,
                &r.letter_id,
                &r.etag,
                &r.reviewer_position_ids,
                &r.signer_position_id,
            )
            .await?;
            Ok(letter_pb(domain::answer(tx, ctx, l).await?))
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn submit_letter(
        &self,
        req: Request<pb::SubmitLetterRequest>,
    ) -> Result<Response<pb::Letter>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("letter_id", &r.letter_id, true);
        etag_rule(&mut v, &r.etag);
        v.finish()?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            let ctx = Ctx::new(&p, &m);
            let l = domain::submit(tx, ctx, &r.letter_id, &r.etag).await?;
            Ok(letter_pb(domain::answer(tx, ctx, l).await?))
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn approve_letter(
        &self,
        req: Request<pb::ApproveLetterRequest>,
    ) -> Result<Response<pb::Letter>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("letter_id", &r.letter_id, true);
        etag_rule(&mut v, &r.etag);
        v.len("comment", &r.comment, 0, 4000);
        v.finish()?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            let ctx = Ctx::new(&p, &m);
            let l = domain::approve(tx, ctx, &r.letter_id, &r.etag, &r.comment).await?;
            Ok(letter_pb(domain::answer(tx, ctx, l).await?))
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn return_letter(
        &self,
        req: Request<pb::ReturnLetterRequest>,
    ) -> Result<Response<pb::Letter>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("letter_id", &r.letter_id, true);
        etag_rule(&mut v, &r.etag);
        v.len("comment", &r.comment, 1, 4000);
        v.finish()?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            let ctx = Ctx::new(&p, &m);
            let l = domain::return_letter(tx, ctx, &r.letter_id, &r.etag, &r.comment).await?;
            Ok(letter_pb(domain::answer(tx, ctx, l).await?))
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn add_comment(
        &self,
        req: Request<pb::AddCommentRequest>,
    ) -> Result<Response<pb::Comment>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("letter_id", &r.letter_id, true);
        v.len("text", &r.text, 1, 4000);
        if r.version < 0 {
            v.add("version", "must not be negative");
        }
        v.finish()?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            let c =
                domain::add_comment(tx, Ctx::new(&p, &m), &r.letter_id, r.version, &r.text).await?;
            Ok(pb::Comment {
                id: c.id,
                letter_id: c.letter_id,
                version: c.version,
                text: c.body,
                author: Some(pb::Actor {
                    user_id: c.author_user_id,
                    position_id: c.author_position_id,
                    ..Default::default()
                }),
                create_time: Some(to_timestamp(c.created_at_us)),
            })
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn list_comments(
        &self,
        req: Request<pb::ListCommentsRequest>,
    ) -> Result<Response<pb::ListCommentsResponse>, Status> {
        let p = principal(&req)?;
        let m = meta(&req);
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("letter_id", &r.letter_id, true);
        v.finish()?;
        let (rows, next) = domain::comments(
            &self.app.store,
            &p,
            &m,
            &r.letter_id,
            r.page_size,
            &r.page_token,
        )
        .await?;
        Ok(Response::new(pb::ListCommentsResponse {
            comments: rows
                .into_iter()
                .map(|c| pb::Comment {
                    id: c.id,
                    letter_id: c.letter_id,
                    version: c.version,
                    text: c.body,
                    author: Some(pb::Actor {
                        user_id: c.author_user_id,
                        position_id: c.author_position_id,
                        ..Default::default()
                    }),
                    create_time: Some(to_timestamp(c.created_at_us)),
                })
                .collect(),
            next_page_token: next,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn sign_letter(
        &self,
        req: Request<pb::SignLetterRequest>,
    ) -> Result<Response<pb::Letter>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("letter_id", &r.letter_id, true);
        etag_rule(&mut v, &r.etag);
        if r.passphrase.is_empty() || r.passphrase.len() > 1024 {
            v.add("passphrase", "must be 1 to 1024 bytes long");
        }
        v.finish()?;
        // The fingerprint of the request must not carry the passphrase.
        let fingerprint = pb::SignLetterRequest {
            passphrase: String::new(),
            ..r.clone()
        };
        // A retry of a signature that went through is answered without
        // unlocking the key again.
        if let Some(out) = replayed(&self.app, &p, &m, &r.request_id, &fingerprint).await? {
            return Ok(Response::new(out));
        }
        let (key, rec) = crate::domain::signing::unlock_audited(
            &self.app.store,
            &p,
            &m,
            "letter",
            &r.letter_id,
            &r.passphrase,
        )
        .await?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &fingerprint, async |tx| {
            let ctx = Ctx::new(&p, &m);
            let l = domain::sign(tx, ctx, &r.letter_id, &r.etag, &key, &rec).await?;
            Ok(letter_pb(domain::answer(tx, ctx, l).await?))
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn withdraw_letter(
        &self,
        req: Request<pb::WithdrawLetterRequest>,
    ) -> Result<Response<pb::Letter>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("letter_id", &r.letter_id, true);
        etag_rule(&mut v, &r.etag);
        v.len("reason", &r.reason, 0, 1000);
        v.finish()?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            let ctx = Ctx::new(&p, &m);
            let l = domain::withdraw(tx, ctx, &r.letter_id, &r.etag, &r.reason).await?;
            Ok(letter_pb(domain::answer(tx, ctx, l).await?))
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn register_incoming_letter(
        &self,
        req: Request<pb::RegisterIncomingLetterRequest>,
    ) -> Result<Response<pb::Letter>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        enum_set::<LetterType>(&mut v, "type", r.r#type, 0);
        v.len("subject", &r.subject, 0, 500);
        body_rule(&mut v, "body", &r.body);
        enum_set::<SecurityLevel>(&mut v, "security_level", r.security_level, 0);
        enum_set::<Urgency>(&mut v, "urgency", r.urgency, 0);
        v.len("classification_code", &r.classification_code, 1, 64);
        if r.recipient_position_ids.is_empty() || r.recipient_position_ids.len() > 100 {
            v.add("recipient_position_ids", "needs 1 to 100 positions");
        }
        for (i, id) in r
            .recipient_position_ids
            .iter()
            .chain(r.carbon_copy_position_ids.iter())
            .enumerate()
        {
            v.uuid(&format!("position_ids[{i}]"), id, true);
        }
        let sender = r.sender.clone().unwrap_or_default();
        v.len("sender.organisation", &sender.organisation, 1, 200);
        v.len("sender_number", &r.sender_number, 1, 200);
        let letter_date = r.letter_date.as_ref().and_then(from_timestamp);
        if letter_date.is_none() {
            v.add("letter_date", "is required");
        }
        let receive = r.receive_time.as_ref().map(from_timestamp);
        if receive == Some(None) {
            v.add("receive_time", "is out of range");
        }
        v.finish()?;
        let input = IncomingInput {
            letter_type: LetterType::try_from(r.r#type).unwrap_or(LetterType::Lainnya),
            subject: r.subject.clone(),
            body: r.body.clone(),
            security: SecurityLevel::try_from(r.security_level).unwrap_or(SecurityLevel::Biasa),
            urgency: r.urgency as i16,
            classification_code: r.classification_code.clone(),
            to: r.recipient_position_ids.clone(),
            cc: r.carbon_copy_position_ids.clone(),
            sender: External {
                organisation: sender.organisation,
                attention: sender.attention,
                address: sender.address,
                email: sender.email,
                exchange_agency_id: sender.exchange_agency_id,
            },
            sender_number: r.sender_number.clone(),
            letter_date_us: letter_date.unwrap_or(0),
            receive_time_us: receive.flatten(),
        };
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            let ctx = Ctx::new(&p, &m);
            let l = domain::register_incoming(tx, ctx, input.clone()).await?;
            Ok(letter_pb(domain::answer(tx, ctx, l).await?))
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn mark_read(
        &self,
        req: Request<pb::MarkReadRequest>,
    ) -> Result<Response<pb::MarkReadResponse>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("letter_id", &r.letter_id, true);
        v.uuid("position_id", &r.position_id, false);
        v.finish()?;
        let out = mutate(&self.app, &p, &m, "", &r, async |tx| {
            let t = domain::mark_read(tx, Ctx::new(&p, &m), &r.letter_id, &r.position_id).await?;
            Ok(pb::MarkReadResponse {
                read_time: Some(to_timestamp(t)),
            })
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn upload_attachment(
        &self,
        req: Request<Streaming<pb::UploadAttachmentRequest>>,
    ) -> Result<Response<pb::Attachment>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let mut stream = req.into_inner();
        let first = stream.message().await?.ok_or_else(|| {
            Status::from(Error::invalid(
                "metadata",
                "the first message must carry the metadata",
            ))
        })?;
        let Some(pb::upload_attachment_request::Part::Metadata(md)) = first.part else {
            return Err(
                Error::invalid("metadata", "the first message must carry the metadata").into(),
            );
        };
        let mut v = Violations::new();
        v.uuid("metadata.letter_id", &md.letter_id, true);
        v.len("metadata.file_name", &md.file_name, 1, 255);
        if md.file_name.contains(['/', '\\', '\0']) {
            v.add("metadata.file_name", "must not contain path separators");
        }
        let limit = self.app.settings.max_attachment_bytes;
        if md.size_bytes <= 0 {
            v.add("metadata.size_bytes", "must be positive");
        }
        if md.sha256.len() != 64 || !md.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            v.add("metadata.sha256", "must be 64 hex digits");
        }
        v.finish()?;
        if md.size_bytes as u64 > limit {
            return Err(Error::rejected(
                Reason::AttachmentTooLarge,
                format!("attachments may have at most {limit} bytes"),
            )
            .into());
        }
        // The caller must be able to add to this letter: its drafter while editable, or
        // the registrar of an incoming letter.
        let store = &self.app.store;
        let caller = Caller::cached(store, &p).await?;
        domain::check_attachment_upload(store, &p, &caller, &md.letter_id).await?;
        let blobs = Blobs::new(&self.app.settings.data_dir);
        let mut w = blobs
            .writer()
            .await
            .map_err(|e| Status::from(Error::Internal(e.to_string())))?;
        let mut head: Vec<u8> = Vec::new();
        let result: Result<(), Status> = async {
            while let Some(msg) = stream.message().await? {
                let Some(pb::upload_attachment_request::Part::Chunk(chunk)) = msg.part else {
                    return Err(Error::invalid(
                        "chunk",
                        "only the first message may carry metadata",
                    )
                    .into());
                };
                if w.size() + chunk.len() as u64 > md.size_bytes as u64 {
                    return Err(Error::rejected(
                        Reason::AttachmentTooLarge,
                        "more bytes than metadata.size_bytes announced",
                    )
                    .into());
                }
                if head.len() < 8192 {
                    head.extend_from_slice(&chunk[..chunk.len().min(8192 - head.len())]);
                }
                w.write(&chunk)
                    .await
                    .map_err(|e| Status::from(Error::Internal(e.to_string())))?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = result {
            w.discard().await;
            return Err(e);
        }
        if w.size() != md.size_bytes as u64 {
            w.discard().await;
            return Err(
                Error::invalid("metadata.size_bytes", "does not match the bytes sent").into(),
            );
        }
        let (sha, size) = w
            .finish()
            .await
            .map_err(|e| Status::from(Error::Internal(e.to_string())))?;
        if !sha.eq_ignore_ascii_case(&md.sha256) {
            return Err(Error::rejected(
                Reason::ChecksumMismatch,
                "the content's SHA-256 differs from metadata.sha256",
            )
            .into());
        }
        let media_type = infer::get(&head)
            .map(|t| t.mime_type().to_owned())
            .unwrap_or_else(|| {
                if std::str::from_utf8(&head).is_ok() {
                    "text/plain".into()
                } else {
                    "application/octet-stream".into()
                }
            });
        let rec = AttachmentRecord {
            id: uuid::Uuid::new_v4().to_string(),
            letter_id: md.letter_id.clone(),
            agency_id: p.agency_id.clone(),
            file_name: md.file_name.clone(),
            media_type,
            size_bytes: size as i64,
            sha256: sha,
            is_scan: md.is_scan,
            uploaded_by_user_id: p.user_id.clone(),
            created_at_us: store.clock().now_us(),
        };
        let out = mutate(&self.app, &p, &m, &md.request_id, &md, async |tx| {
            domain::add_attachment(tx, Ctx::new(&p, &m), &caller, &rec).await?;
            Ok(attachment_pb(rec.clone()))
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn download_attachment(
        &self,
        req: Request<pb::DownloadAttachmentRequest>,
    ) -> Result<Response<BoxStream<pb::DownloadAttachmentResponse>>, Status> {
        let p = principal(&req)?;
        let m = meta(&req);
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("attachment_id", &r.attachment_id, true);
        v.finish()?;
        let store = &self.app.store;
        let not_found = || {
            Status::from(Error::rejected(
                Reason::AttachmentNotFound,
                "attachment not found",
            ))
        };
        let a = aq::get(store, &p.agency_id, &r.attachment_id)
            .await
            .map_err(Error::from)?
            .ok_or_else(not_found)?;
        let letter = match domain::read_content(store, &p, &m, &a.letter_id, "attachment").await {
            Ok(l) => l,
            Err(Error::Rejected { .. }) => return Err(not_found()),
            Err(e) => return Err(e.into()),
        };
        if letter.state == domain::state::DESTROYED {
            return Err(Error::rejected(
                Reason::ContentDestroyed,
                "the attachment was destroyed under an approved disposal; its hash remains",
            )
            .into());
        }
        let mut file = Blobs::new(&self.app.settings.data_dir)
            .open(&a.sha256)
            .await
            .map_err(|e| Status::from(Error::Internal(e.to_string())))?;
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            if tx
                .send(Ok(pb::DownloadAttachmentResponse {
                    part: Some(pb::download_attachment_response::Part::Metadata(
                        attachment_pb(a),
                    )),
                }))
                .await
                .is_err()
            {
                return;
            }
            let mut buf = vec![0u8; CHUNK];
            loop {
                match file.read(&mut buf).await {
                    Ok(0) => break,
                    Ok(n) => {
                        let msg = pb::DownloadAttachmentResponse {
                            part: Some(pb::download_attachment_response::Part::Chunk(
                                buf[..n].to_vec(),
                            )),
                        };
                        if tx.send(Ok(msg)).await.is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "reading a blob failed");
                        let _ = tx.send(Err(Status::internal("internal error"))).await;
                        break;
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    async fn get_signed_document(
        &self,
        req: Request<pb::GetSignedDocumentRequest>,
    ) -> Result<Response<pb::GetSignedDocumentResponse>, Status> {
        let p = principal(&req)?;
        let m = meta(&req);
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("letter_id", &r.letter_id, true);
        v.finish()?;
        let (manifest, signature, cert, ca, code) =
            domain::signed_document(&self.app.store, &p, &m, &r.letter_id).await?;
        let pem = |der: &[u8]| {
            crate::crypto::x509::to_pem(der)
                .map_err(|e| Status::from(Error::Internal(e.to_string())))
        };
        Ok(Response::new(pb::GetSignedDocumentResponse {
            manifest,
            manifest_media_type: "application/json".into(),
            signature,
            certificate_chain_pem: vec![pem(&cert)?, pem(&ca)?],
            verification_code: code,
        }))
    }

    async fn watch_inbox(
        &self,
        req: Request<pb::WatchInboxRequest>,
    ) -> Result<Response<BoxStream<pb::WatchInboxResponse>>, Status> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        for (i, id) in r.position_ids.iter().enumerate() {
            v.uuid(&format!("position_ids[{i}]"), id, true);
        }
        v.finish()?;
        let store = &self.app.store;
        let caller = Caller::cached(store, &p).await?;
        let mine = caller.visible_ids();
        let positions: Vec<String> = if r.position_ids.is_empty() {
            mine
        } else {
            r.position_ids
                .into_iter()
                .filter(|id| mine.contains(id))
                .collect()
        };
        let mut rx = self.app.notices.subscribe();
        let (tx, out) = tokio::sync::mpsc::channel(64);
        let clock = store.clock().clone();
        let app = self.app.clone();
        let mut stopping = self.app.stopping.clone();
        tokio::spawn(async move {
            let mut heartbeat = tokio::time::interval(Duration::from_secs(30));
            heartbeat.tick().await;
            loop {
                let msg = tokio::select! {
                    _ = tx.closed() => break,
                    _ = stopping.wait_for(|s| *s) => break,
                    _ = heartbeat.tick() => pb::WatchInboxResponse { kind: pb::InboxEventKind::Heartbeat as i32, event_time: Some(to_timestamp(clock.now_us())), ..Default::default() },
                    n = rx.recv() => match n {
                        Ok(n) if positions.contains(&n.position_id) => pb::WatchInboxResponse {
                            kind: n.kind as i32,
                            position_id: n.position_id,
                            letter_id: n.letter_id,
                            disposition_id: n.disposition_id,
                            event_time: Some(to_timestamp(n.time_us)),
                        },
                        Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    },
                };
                // A notice only while the caller still holds or serves its
                // position: a PLT/PLH window that ended, or a secretary no
                // longer serving, ends the position's notices.
                if !msg.position_id.is_empty() {
                    match Caller::cached(&app.store, &p).await {
                        Ok(now) if now.visible_ids().contains(&msg.position_id) => {}
                        _ => continue,
                    }
                }
                if tx.send(Ok(msg)).await.is_err() {
                    break;
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(out),
        )))
    }
}
