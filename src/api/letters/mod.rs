//! LetterService: each request converted (`convert`), one call into
//! `domain::letters`, the answer converted (`pb`); the streams in `streams`.

mod convert;
mod pb;
mod streams;

use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use tonic::{Request, Response, Status, Streaming};

use super::mutate::{Mutation, converted, mutate, mutate_request, replayed};
use super::{App, meta, principal};
use crate::clock::to_timestamp;
use crate::domain::context::Ctx;
use crate::domain::letters::{self as domain, DraftInput, IncomingInput};
use crate::error::Error;
use crate::proto;
use crate::proto::letter_service_server::LetterService;
pub(super) use convert::etag_rule;
use convert::{
    DraftEdit, FolderQuery, LetterAs, LetterAt, LetterId, LetterNote, LetterPage, NewComment,
    Route, Signing,
};
use pb::{comment_pb, letter_pb, version_pb};

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

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl LetterService for LetterApi {
    async fn create_draft(
        &self,
        req: Request<proto::CreateDraftRequest>,
    ) -> Result<Response<proto::Letter>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, d: &DraftInput| {
            let c = domain::create_draft(tx, ctx, d.clone()).await?;
            Ok(letter_pb(domain::answer_created(tx, ctx, c).await?))
        })
        .await
    }

    async fn get_letter(
        &self,
        req: Request<proto::GetLetterRequest>,
    ) -> Result<Response<proto::Letter>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let LetterAs {
            letter_id,
            position_id,
        } = LetterAs::try_from(req.into_inner())?;
        let view = domain::get_as(&self.app.store, &p, &m, &letter_id, &position_id).await?;
        Ok(Response::new(letter_pb(view)))
    }

    async fn update_draft(
        &self,
        req: Request<proto::UpdateDraftRequest>,
    ) -> Result<Response<proto::Letter>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, e: &DraftEdit| {
            let l = domain::update_draft(tx, ctx, &e.letter_id, &e.etag, e.changes.clone()).await?;
            Ok(letter_pb(domain::answer(tx, ctx, l).await?))
        })
        .await
    }

    async fn delete_draft(
        &self,
        req: Request<proto::DeleteDraftRequest>,
    ) -> Result<Response<proto::DeleteDraftResponse>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, l: &LetterAt| {
            domain::delete_draft(tx, ctx, &l.letter_id, &l.etag).await?;
            Ok(proto::DeleteDraftResponse {})
        })
        .await
    }

    async fn list_letters(
        &self,
        req: Request<proto::ListLettersRequest>,
    ) -> Result<Response<proto::ListLettersResponse>, Status> {
        let p = principal(&req)?;
        let q = FolderQuery::try_from(req.into_inner())?;
        let (rows, next) = domain::list(
            &self.app.store,
            &p,
            q.folder,
            &q.position_id,
            q.filter,
            q.page_size,
            &q.page_token,
            q.full,
        )
        .await?;
        Ok(Response::new(proto::ListLettersResponse {
            letters: rows.into_iter().map(letter_pb).collect(),
            next_page_token: next,
        }))
    }

    async fn list_versions(
        &self,
        req: Request<proto::ListVersionsRequest>,
    ) -> Result<Response<proto::ListVersionsResponse>, Status> {
        let p = principal(&req)?;
        let m = meta(&req);
        let q = LetterPage::try_from(req.into_inner())?;
        let (rows, next) = domain::versions(
            &self.app.store,
            &p,
            &m,
            &q.letter_id,
            q.page_size,
            &q.page_token,
        )
        .await?;
        let ids: Vec<String> = rows.iter().map(|x| x.author_user_id.clone()).collect();
        let names = domain::author_names(&self.app.store, &p, &ids).await?;
        Ok(Response::new(proto::ListVersionsResponse {
            versions: rows.into_iter().map(|x| version_pb(x, &names)).collect(),
            next_page_token: next,
        }))
    }

    async fn set_route(
        &self,
        req: Request<proto::SetRouteRequest>,
    ) -> Result<Response<proto::Letter>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, r: &Route| {
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
        .await
    }

    async fn submit_letter(
        &self,
        req: Request<proto::SubmitLetterRequest>,
    ) -> Result<Response<proto::Letter>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, l: &LetterAt| {
            let l = domain::submit(tx, ctx, &l.letter_id, &l.etag).await?;
            Ok(letter_pb(domain::answer(tx, ctx, l).await?))
        })
        .await
    }

    async fn approve_letter(
        &self,
        req: Request<proto::ApproveLetterRequest>,
    ) -> Result<Response<proto::Letter>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, n: &LetterNote| {
            let l = domain::approve(tx, ctx, &n.letter_id, &n.etag, &n.note).await?;
            Ok(letter_pb(domain::answer(tx, ctx, l).await?))
        })
        .await
    }

    async fn return_letter(
        &self,
        req: Request<proto::ReturnLetterRequest>,
    ) -> Result<Response<proto::Letter>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, n: &LetterNote| {
            let l = domain::return_letter(tx, ctx, &n.letter_id, &n.etag, &n.note).await?;
            Ok(letter_pb(domain::answer(tx, ctx, l).await?))
        })
        .await
    }

    async fn add_comment(
        &self,
        req: Request<proto::AddCommentRequest>,
    ) -> Result<Response<proto::Comment>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, c: &NewComment| {
            let c = domain::add_comment(tx, ctx, &c.letter_id, c.version, &c.text).await?;
            Ok(comment_pb(c))
        })
        .await
    }

    async fn list_comments(
        &self,
        req: Request<proto::ListCommentsRequest>,
    ) -> Result<Response<proto::ListCommentsResponse>, Status> {
        let p = principal(&req)?;
        let m = meta(&req);
        let q = LetterPage::try_from(req.into_inner())?;
        let (rows, next) = domain::comments(
            &self.app.store,
            &p,
            &m,
            &q.letter_id,
            q.page_size,
            &q.page_token,
        )
        .await?;
        Ok(Response::new(proto::ListCommentsResponse {
            comments: rows.into_iter().map(comment_pb).collect(),
            next_page_token: next,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn sign_letter(
        &self,
        req: Request<proto::SignLetterRequest>,
    ) -> Result<Response<proto::Letter>, Status> {
        let (p, m, r, Mutation { request_id, input }) = converted::<_, Signing>(req)?;
        // The fingerprint of the request must not carry the passphrase.
        let fingerprint = proto::SignLetterRequest {
            passphrase: String::new(),
            ..r
        };
        // A retry of a signature that went through is answered without
        // unlocking the key again.
        if let Some(out) = replayed(&self.app, &p, &m, &request_id, &fingerprint).await? {
            return Ok(Response::new(out));
        }
        let (key, rec) = crate::domain::signing::unlock_audited(
            &self.app.store,
            &p,
            &m,
            "letter",
            &input.letter_id,
            &input.passphrase,
        )
        .await?;
        let out = mutate(&self.app, &p, &m, &request_id, &fingerprint, async |tx| {
            let ctx = Ctx::new(&p, &m);
            let l = domain::sign(
                tx,
                ctx,
                &input.letter_id,
                &input.etag,
                &key,
                &rec,
                Some(&self.app.exchange),
            )
            .await?;
            Ok(letter_pb(domain::answer(tx, ctx, l).await?))
        })
        .await?;
        // Consignments for other agencies were queued with the signature.
        self.app.exchange.wake();
        Ok(Response::new(out))
    }

    async fn withdraw_letter(
        &self,
        req: Request<proto::WithdrawLetterRequest>,
    ) -> Result<Response<proto::Letter>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, n: &LetterNote| {
            let l = domain::withdraw(tx, ctx, &n.letter_id, &n.etag, &n.note).await?;
            Ok(letter_pb(domain::answer(tx, ctx, l).await?))
        })
        .await
    }

    async fn register_incoming_letter(
        &self,
        req: Request<proto::RegisterIncomingLetterRequest>,
    ) -> Result<Response<proto::Letter>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, i: &IncomingInput| {
            let l = domain::register_incoming(tx, ctx, i.clone()).await?;
            Ok(letter_pb(domain::answer(tx, ctx, l).await?))
        })
        .await
    }

    async fn mark_read(
        &self,
        req: Request<proto::MarkReadRequest>,
    ) -> Result<Response<proto::MarkReadResponse>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, r: &LetterAs| {
            let t = domain::mark_read(tx, ctx, &r.letter_id, &r.position_id).await?;
            Ok(proto::MarkReadResponse {
                read_time: Some(to_timestamp(t)),
            })
        })
        .await
    }

    async fn upload_attachment(
        &self,
        req: Request<Streaming<proto::UploadAttachmentRequest>>,
    ) -> Result<Response<proto::Attachment>, Status> {
        streams::upload(&self.app, req).await
    }

    async fn download_attachment(
        &self,
        req: Request<proto::DownloadAttachmentRequest>,
    ) -> Result<Response<BoxStream<proto::DownloadAttachmentResponse>>, Status> {
        streams::download(&self.app, req).await
    }

    async fn get_signed_document(
        &self,
        req: Request<proto::GetSignedDocumentRequest>,
    ) -> Result<Response<proto::GetSignedDocumentResponse>, Status> {
        let p = principal(&req)?;
        let m = meta(&req);
        let LetterId(id) = LetterId::try_from(req.into_inner())?;
        let (manifest, signature, cert, ca, code) =
            domain::signed_document(&self.app.store, &p, &m, &id).await?;
        let pem = |der: &[u8]| {
            crate::crypto::x509::to_pem(der)
                .map_err(|e| Status::from(Error::Internal(e.to_string())))
        };
        Ok(Response::new(proto::GetSignedDocumentResponse {
            manifest,
            manifest_media_type: "application/json".into(),
            signature,
            certificate_chain_pem: vec![pem(&cert)?, pem(&ca)?],
            verification_code: code,
        }))
    }

    async fn watch_inbox(
        &self,
        req: Request<proto::WatchInboxRequest>,
    ) -> Result<Response<BoxStream<proto::WatchInboxResponse>>, Status> {
        streams::watch_inbox(&self.app, req).await
    }
}
