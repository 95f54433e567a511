//! RecordsService: the classification scheme, case files, retention, holds, due
//! lists, disposal (propose, approve, execute) and archival export. Each
//! request converted (`convert`), one call into the domain, the answer
//! converted to protobuf.

mod convert;

use std::sync::Arc;

use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::mutate::{Mutation, converted, mutate, mutate_request};
use super::{App, meta, principal};
use crate::clock::to_timestamp;
use crate::domain::context::{Ctx, etag};
use crate::domain::disposal::{self as disposal, BeritaAcaraSigner, ProposalView};
use crate::domain::lifecycle::ProposalState;
use crate::domain::package;
use crate::domain::records::{self as domain, CaseFileView, HoldRecord};
use crate::error::Error;
use crate::proto::records_service_server::RecordsService;
use crate::proto::{self as pb, DueKind};
use convert::{
    Approval, CaseFileAt, CaseFileId, CaseFileQuery, ClassificationPage, DueQuery, Execution,
    Export, Filing, HoldId, Import, NewCaseFile, NewHold, Proposal,
};

type BoxStream<T> =
    std::pin::Pin<Box<dyn futures::Stream<Item = Result<T, Status>> + Send + 'static>>;

/// Implements naskah.v1.RecordsService.
#[derive(Debug, Clone)]
pub struct RecordsApi {
    app: Arc<App>,
}

impl RecordsApi {
    /// A handler over the shared state.
    pub fn new(app: Arc<App>) -> Self {
        Self { app }
    }
}

fn case_file_pb(v: CaseFileView) -> pb::CaseFile {
    pb::CaseFile {
        id: v.c.id,
        classification_code: v.c.classification_code,
        title: v.c.title,
        description: v.c.description,
        unit_id: v.c.unit_id,
        state: i32::from(v.c.state),
        open_time: Some(to_timestamp(v.c.open_at_us)),
        close_time: v.c.close_at_us.map(to_timestamp),
        letter_count: v.letters as i32,
        on_hold: v.on_hold,
        etag: etag(v.c.revision),
    }
}

fn proposal_pb(v: ProposalView) -> pb::DisposalProposal {
    let required = v.required();
    pb::DisposalProposal {
        id: v.p.id,
        kind: i32::from(v.p.kind),
        case_file_ids: v.case_file_ids,
        state: i32::from(v.p.state),
        approvals: v
            .approvals
            .into_iter()
            .map(|a| pb::DisposalApproval {
                approver: Some(pb::Actor {
                    user_id: a.user_id,
                    position_id: a.position_id,
                    ..Default::default()
                }),
                approve_time: Some(to_timestamp(a.approve_at_us)),
            })
            .collect(),
        berita_acara_letter_id: v.p.berita_acara_letter_id,
        proposed_by: Some(pb::Actor {
            user_id: v.p.proposed_by_user_id,
            position_id: v.p.proposed_by_position_id,
            ..Default::default()
        }),
        propose_time: Some(to_timestamp(v.p.propose_at_us)),
        etag: etag(v.p.revision),
        required_approver_position_ids: required,
        executed_by: (!v.p.executed_by_user_id.is_empty()).then(|| pb::Actor {
            user_id: v.p.executed_by_user_id,
            ..Default::default()
        }),
        execute_time: v.p.execute_at_us.map(to_timestamp),
    }
}

fn hold_pb(h: HoldRecord) -> pb::Hold {
    pb::Hold {
        id: h.id,
        case_file_id: h.case_file_id,
        letter_id: h.letter_id,
        reason: h.reason,
        authority: h.authority,
        placed_by: Some(pb::Actor {
            user_id: h.placed_by_user_id,
            ..Default::default()
        }),
        place_time: Some(to_timestamp(h.placed_at_us)),
        released_by: (!h.released_by_user_id.is_empty()).then(|| pb::Actor {
            user_id: h.released_by_user_id,
            ..Default::default()
        }),
        release_time: h.released_at_us.map(to_timestamp),
    }
}

#[tonic::async_trait]
impl RecordsService for RecordsApi {
    async fn import_classifications(
        &self,
        req: Request<pb::ImportClassificationsRequest>,
    ) -> Result<Response<pb::ImportClassificationsResponse>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, i: &Import| {
            let s = domain::import(tx, ctx, &i.csv, i.dry_run).await?;
            Ok(pb::ImportClassificationsResponse {
                created: s.created,
                updated: s.updated,
            })
        })
        .await
    }

    async fn list_classifications(
        &self,
        req: Request<pb::ListClassificationsRequest>,
    ) -> Result<Response<pb::ListClassificationsResponse>, Status> {
        let p = principal(&req)?;
        let q = ClassificationPage::try_from(req.into_inner())?;
        let (rows, next) = domain::classifications(
            &self.app.store,
            &p,
            &q.root_code,
            q.page_size,
            &q.page_token,
        )
        .await?;
        Ok(Response::new(pb::ListClassificationsResponse {
            classifications: rows
                .into_iter()
                .map(|c| pb::Classification {
                    code: c.code,
                    title: c.title,
                    parent_code: c.parent_code,
                    active_years: c.active_years,
                    inactive_years: c.inactive_years,
                    final_disposition: i32::from(c.final_disposition),
                    default_security_level: i32::from(c.default_security_level),
                    retention_inherited: c.retention_inherited,
                })
                .collect(),
            next_page_token: next,
        }))
    }

    async fn create_case_file(
        &self,
        req: Request<pb::CreateCaseFileRequest>,
    ) -> Result<Response<pb::CaseFile>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, n: &NewCaseFile| {
            let c = domain::create(
                tx,
                ctx,
                &n.classification_code,
                &n.title,
                &n.unit_id,
                &n.description,
            )
            .await?;
            Ok(case_file_pb(domain::view(&*tx, c).await?))
        })
        .await
    }

    async fn close_case_file(
        &self,
        req: Request<pb::CloseCaseFileRequest>,
    ) -> Result<Response<pb::CaseFile>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, c: &CaseFileAt| {
            let c = domain::close(tx, ctx, &c.case_file_id, &c.etag).await?;
            Ok(case_file_pb(domain::view(&*tx, c).await?))
        })
        .await
    }

    async fn file_letter(
        &self,
        req: Request<pb::FileLetterRequest>,
    ) -> Result<Response<pb::FileLetterResponse>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, f: &Filing| {
            let c = domain::file_letter(tx, ctx, &f.case_file_id, &f.letter_id).await?;
            Ok(pb::FileLetterResponse {
                case_file: Some(case_file_pb(domain::view(&*tx, c).await?)),
            })
        })
        .await
    }

    async fn list_case_files(
        &self,
        req: Request<pb::ListCaseFilesRequest>,
    ) -> Result<Response<pb::ListCaseFilesResponse>, Status> {
        let p = principal(&req)?;
        let q = CaseFileQuery::try_from(req.into_inner())?;
        let (rows, next) = domain::list(
            &self.app.store,
            &p,
            &q.unit_id,
            &q.classification_code,
            &q.states,
            q.page_size,
            &q.page_token,
        )
        .await?;
        Ok(Response::new(pb::ListCaseFilesResponse {
            case_files: rows.into_iter().map(case_file_pb).collect(),
            next_page_token: next,
        }))
    }

    async fn get_retention(
        &self,
        req: Request<pb::GetRetentionRequest>,
    ) -> Result<Response<pb::Retention>, Status> {
        let p = principal(&req)?;
        let CaseFileId(id) = CaseFileId::try_from(req.into_inner())?;
        let view = domain::get(&self.app.store, &p, &id).await?;
        let now = self.app.store.clock().now_us();
        Ok(Response::new(pb::Retention {
            case_file_id: view.c.id.clone(),
            active_until: view.c.active_until_us.map(to_timestamp),
            inactive_until: view.c.inactive_until_us.map(to_timestamp),
            phase: domain::phase(&view.c, now) as i32,
            final_disposition: i32::from(view.c.final_disposition),
            on_hold: view.on_hold,
        }))
    }

    async fn place_hold(
        &self,
        req: Request<pb::PlaceHoldRequest>,
    ) -> Result<Response<pb::Hold>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, h: &NewHold| {
            Ok(hold_pb(
                domain::place_hold(
                    tx,
                    ctx,
                    &h.case_file_id,
                    &h.letter_id,
                    &h.reason,
                    &h.authority,
                )
                .await?,
            ))
        })
        .await
    }

    async fn release_hold(
        &self,
        req: Request<pb::ReleaseHoldRequest>,
    ) -> Result<Response<pb::Hold>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, HoldId(id): &HoldId| {
            Ok(hold_pb(domain::release_hold(tx, ctx, id).await?))
        })
        .await
    }

    async fn list_due(
        &self,
        req: Request<pb::ListDueRequest>,
    ) -> Result<Response<pb::ListDueResponse>, Status> {
        let p = principal(&req)?;
        let q = DueQuery::try_from(req.into_inner())?;
        let as_of = q
            .as_of_us
            .unwrap_or_else(|| self.app.store.clock().now_us());
        let (rows, next) = domain::due(
            &self.app.store,
            &p,
            q.disposition,
            as_of,
            q.page_size,
            &q.page_token,
        )
        .await?;
        Ok(Response::new(pb::ListDueResponse {
            case_files: rows.into_iter().map(case_file_pb).collect(),
            next_page_token: next,
        }))
    }

    async fn propose_disposal(
        &self,
        req: Request<pb::ProposeDisposalRequest>,
    ) -> Result<Response<pb::DisposalProposal>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, d: &Proposal| {
            Ok(proposal_pb(
                disposal::propose(tx, ctx, d.kind, &d.case_file_ids).await?,
            ))
        })
        .await
    }

    async fn approve_disposal(
        &self,
        req: Request<pb::ApproveDisposalRequest>,
    ) -> Result<Response<pb::DisposalProposal>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, a: &Approval| {
            Ok(proposal_pb(
                disposal::approve(tx, ctx, &a.proposal_id, &a.position_id, &a.etag).await?,
            ))
        })
        .await
    }

    async fn execute_disposal(
        &self,
        req: Request<pb::ExecuteDisposalRequest>,
    ) -> Result<Response<pb::DisposalProposal>, Status> {
        let (p, m, r, Mutation { request_id, input }) = converted::<_, Execution>(req)?;
        let current = disposal::proposal(&self.app.store, &p.agency_id, &input.proposal_id).await?;
        // The fingerprint of the request must not carry the passphrase.
        let fingerprint = pb::ExecuteDisposalRequest {
            passphrase: String::new(),
            ..r
        };
        let destroys = current.kind == DueKind::Disposal as i16;
        let unlocked = if destroys && current.state == ProposalState::Approved {
            if input.passphrase.is_empty() {
                return Err(Error::invalid(
                    "passphrase",
                    "required to sign the berita acara of destruction",
                )
                .into());
            }
            Some(
                crate::domain::signing::unlock_audited(
                    &self.app.store,
                    &p,
                    &m,
                    "disposal_proposal",
                    &input.proposal_id,
                    &input.passphrase,
                )
                .await?,
            )
        } else {
            None
        };
        let out = mutate(&self.app, &p, &m, &request_id, &fingerprint, async |tx| {
            let signer = unlocked
                .as_ref()
                .map(|(key, record)| BeritaAcaraSigner { key, record });
            Ok(proposal_pb(
                disposal::execute(
                    tx,
                    Ctx::new(&p, &m),
                    &input.proposal_id,
                    &input.etag,
                    signer,
                )
                .await?,
            ))
        })
        .await?;
        if destroys {
            disposal::purge_destroyed(&self.app.store, &self.app.blobs(), &out.id).await?;
        }
        Ok(Response::new(out))
    }

    async fn export_case_file(
        &self,
        req: Request<pb::ExportCaseFileRequest>,
    ) -> Result<Response<BoxStream<pb::ExportCaseFileResponse>>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let Export {
            case_file_id,
            access_reason,
        } = Export::try_from(req.into_inner())?;
        let c = package::exportable(&self.app.store, &p.agency_id, &case_file_id).await?;
        let letter_ids = package::admit(&self.app.store, &p, &m, &c, &access_reason).await?;
        let (zip_tx, mut zip_rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
        let (out_tx, out_rx) = tokio::sync::mpsc::channel(4);
        let app = self.app.clone();
        let forward = out_tx.clone();
        tokio::spawn(async move {
            while let Some(chunk) = zip_rx.recv().await {
                let msg = Ok(pb::ExportCaseFileResponse { chunk });
                if forward.send(msg).await.is_err() {
                    break;
                }
            }
        });
        tokio::spawn(async move {
            let blobs = app.blobs();
            let case_file_id = c.id.clone();
            let result = match package::export(&app.store, &blobs, c, letter_ids, zip_tx).await {
                Ok(done) => {
                    package::record_export(&app.store, Ctx::new(&p, &m), &case_file_id, &done).await
                }
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, "archival export failed");
                let _ = out_tx.send(Err(super::status::to_status(e))).await;
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(out_rx))))
    }
}
