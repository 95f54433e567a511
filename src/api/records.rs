//! RecordsService: the classification scheme, case files, retention, holds, due
//! lists, disposal (propose, approve, execute) and archival export.

use std::sync::Arc;

use tokio_stream::wrappers::ReceiverStream;

type BoxStream<T> =
    std::pin::Pin<Box<dyn futures::Stream<Item = Result<T, Status>> + Send + 'static>>;

use tonic::{Request, Response, Status};

use super::mutate::mutate;
use super::{App, meta, principal};
use crate::clock::{from_timestamp, to_timestamp};
use crate::domain::context::{Ctx, etag};
use crate::domain::disposal::{self as disposal, BeritaAcaraSigner, ProposalView};
use crate::domain::package;
use crate::domain::records::{self as domain, CaseFileView};
use crate::error::Error;
use crate::error::Violations;
use crate::proto::records_service_server::RecordsService;
use crate::proto::{self as pb, CaseFileState, DueKind, FinalDisposition};
use crate::store::blobs::Blobs;
use crate::store::records::HoldRecord;

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
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        if r.csv.is_empty() || r.csv.len() > 4 * 1024 * 1024 {
            v.add("csv", "must be 1 byte to 4 MiB");
        }
        v.finish()?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            let s = domain::import(tx, Ctx::new(&p, &m), &r.csv, r.dry_run).await?;
            Ok(pb::ImportClassificationsResponse {
                created: s.created,
                updated: s.updated,
            })
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn list_classifications(
        &self,
        req: Request<pb::ListClassificationsRequest>,
    ) -> Result<Response<pb::ListClassificationsResponse>, Status> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        v.len("root_code", &r.root_code, 0, 64);
        v.finish()?;
        let (rows, next) = domain::classifications(
            &self.app.store,
            &p,
            &r.root_code,
            r.page_size,
            &r.page_token,
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
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.len("classification_code", &r.classification_code, 1, 64);
        v.len("title", &r.title, 1, 500);
        v.uuid("unit_id", &r.unit_id, true);
        v.len("description", &r.description, 0, 4000);
        v.finish()?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            let c = domain::create(
                tx,
                Ctx::new(&p, &m),
                &r.classification_code,
                &r.title,
                &r.unit_id,
                &r.description,
            )
            .await?;
            Ok(case_file_pb(domain::view(&*tx, c).await?))
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn close_case_file(
        &self,
        req: Request<pb::CloseCaseFileRequest>,
    ) -> Result<Response<pb::CaseFile>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("case_file_id", &r.case_file_id, true);
        v.len("etag", &r.etag, 1, 64);
        v.finish()?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            let c = domain::close(tx, Ctx::new(&p, &m), &r.case_file_id, &r.etag).await?;
            Ok(case_file_pb(domain::view(&*tx, c).await?))
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn file_letter(
        &self,
        req: Request<pb::FileLetterRequest>,
    ) -> Result<Response<pb::FileLetterResponse>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("case_file_id", &r.case_file_id, true);
        v.uuid("letter_id", &r.letter_id, true);
        v.finish()?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            let c =
                domain::file_letter(tx, Ctx::new(&p, &m), &r.case_file_id, &r.letter_id).await?;
            Ok(pb::FileLetterResponse {
                case_file: Some(case_file_pb(domain::view(&*tx, c).await?)),
            })
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn list_case_files(
        &self,
        req: Request<pb::ListCaseFilesRequest>,
    ) -> Result<Response<pb::ListCaseFilesResponse>, Status> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("unit_id", &r.unit_id, false);
        v.len("classification_code", &r.classification_code, 0, 64);
        for s in &r.states {
            if !matches!(CaseFileState::try_from(*s), Ok(x) if x != CaseFileState::Unspecified) {
                v.add("states", "must be known states");
            }
        }
        v.finish()?;
        let states: Vec<i16> = r.states.iter().map(|s| *s as i16).collect();
        let (rows, next) = domain::list(
            &self.app.store,
            &p,
            &r.unit_id,
            &r.classification_code,
            &states,
            r.page_size,
            &r.page_token,
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
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("case_file_id", &r.case_file_id, true);
        v.finish()?;
        let view = domain::get(&self.app.store, &p, &r.case_file_id).await?;
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
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        if r.case_file_id.is_empty() == r.letter_id.is_empty() {
            v.add(
                "case_file_id",
                "set exactly one of case_file_id and letter_id",
            );
        }
        v.uuid("case_file_id", &r.case_file_id, false);
        v.uuid("letter_id", &r.letter_id, false);
        v.len("reason", &r.reason, 1, 1000);
        v.len("authority", &r.authority, 1, 500);
        v.finish()?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            Ok(hold_pb(
                domain::place_hold(
                    tx,
                    Ctx::new(&p, &m),
                    &r.case_file_id,
                    &r.letter_id,
                    &r.reason,
                    &r.authority,
                )
                .await?,
            ))
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn release_hold(
        &self,
        req: Request<pb::ReleaseHoldRequest>,
    ) -> Result<Response<pb::Hold>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("hold_id", &r.hold_id, true);
        v.len("reason", &r.reason, 0, 1000);
        v.finish()?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            Ok(hold_pb(
                domain::release_hold(tx, Ctx::new(&p, &m), &r.hold_id).await?,
            ))
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn list_due(
        &self,
        req: Request<pb::ListDueRequest>,
    ) -> Result<Response<pb::ListDueResponse>, Status> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        let fd = match DueKind::try_from(r.kind) {
            Ok(DueKind::Transfer) => FinalDisposition::Permanen,
            Ok(DueKind::Disposal) => FinalDisposition::Musnah,
            Ok(DueKind::Reappraisal) => FinalDisposition::DinilaiKembali,
            _ => {
                v.add("kind", "must be TRANSFER, DISPOSAL or REAPPRAISAL");
                FinalDisposition::Unspecified
            }
        };
        let as_of = r.as_of.as_ref().map(from_timestamp);
        if as_of == Some(None) {
            v.add("as_of", "is out of range");
        }
        v.finish()?;
        let as_of = as_of
            .flatten()
            .unwrap_or_else(|| self.app.store.clock().now_us());
        let (rows, next) =
            domain::due(&self.app.store, &p, fd, as_of, r.page_size, &r.page_token).await?;
        Ok(Response::new(pb::ListDueResponse {
            case_files: rows.into_iter().map(case_file_pb).collect(),
            next_page_token: next,
        }))
    }

    async fn propose_disposal(
        &self,
        req: Request<pb::ProposeDisposalRequest>,
    ) -> Result<Response<pb::DisposalProposal>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        let kind = match DueKind::try_from(r.kind) {
            Ok(k @ (DueKind::Disposal | DueKind::Transfer)) => k,
            _ => {
                v.add(
                    "kind",
                    "must be DUE_KIND_DISPOSAL or DUE_KIND_TRANSFER (re-appraisal is not a disposal)",
                );
                DueKind::Unspecified
            }
        };
        if r.case_file_ids.is_empty() || r.case_file_ids.len() > 1000 {
            v.add("case_file_ids", "must hold 1 to 1000 ids");
        }
        for (i, id) in r.case_file_ids.iter().enumerate() {
            v.uuid(&format!("case_file_ids[{i}]"), id, true);
        }
        v.finish()?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            Ok(proposal_pb(
                disposal::propose(tx, Ctx::new(&p, &m), kind, &r.case_file_ids).await?,
            ))
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn approve_disposal(
        &self,
        req: Request<pb::ApproveDisposalRequest>,
    ) -> Result<Response<pb::DisposalProposal>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("proposal_id", &r.proposal_id, true);
        v.uuid("position_id", &r.position_id, true);
        super::letters::etag_rule(&mut v, &r.etag);
        v.finish()?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            Ok(proposal_pb(
                disposal::approve(
                    tx,
                    Ctx::new(&p, &m),
                    &r.proposal_id,
                    &r.position_id,
                    &r.etag,
                )
                .await?,
            ))
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn execute_disposal(
        &self,
        req: Request<pb::ExecuteDisposalRequest>,
    ) -> Result<Response<pb::DisposalProposal>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("proposal_id", &r.proposal_id, true);
        super::letters::etag_rule(&mut v, &r.etag);
        v.len("passphrase", &r.passphrase, 0, 1024);
        v.finish()?;
        let agency = p.agency_id.clone();
        let current = disposal::proposal(&self.app.store, &agency, &r.proposal_id).await?;
        // The fingerprint of the request must not carry the passphrase.
        let fingerprint = pb::ExecuteDisposalRequest {
            passphrase: String::new(),
            ..r.clone()
        };
        let destroys = current.kind == DueKind::Disposal as i16;
        let unlocked =
            if destroys && current.state == crate::domain::lifecycle::ProposalState::Approved {
                if r.passphrase.is_empty() {
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
                        &r.proposal_id,
                        &r.passphrase,
                    )
                    .await?,
                )
            } else {
                None
            };
        let out = mutate(&self.app, &p, &m, &r.request_id, &fingerprint, async |tx| {
            let signer = unlocked
                .as_ref()
                .map(|(key, record)| BeritaAcaraSigner { key, record });
            Ok(proposal_pb(
                disposal::execute(tx, Ctx::new(&p, &m), &r.proposal_id, &r.etag, signer).await?,
            ))
        })
        .await?;
        if destroys {
            let blobs = Blobs::new(&self.app.settings.data_dir);
            disposal::purge_destroyed(&self.app.store, &blobs, &out.id).await?;
        }
        Ok(Response::new(out))
    }

    async fn export_case_file(
        &self,
        req: Request<pb::ExportCaseFileRequest>,
    ) -> Result<Response<BoxStream<pb::ExportCaseFileResponse>>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("case_file_id", &r.case_file_id, true);
        v.len("access_reason", &r.access_reason, 0, 1000);
        v.finish()?;
        let c = package::exportable(&self.app.store, &p.agency_id, &r.case_file_id).await?;
        let letter_ids = package::admit(&self.app.store, &p, &m, &c, &r.access_reason).await?;
        let (zip_tx, mut zip_rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, Status>>(4);
        let (out_tx, out_rx) = tokio::sync::mpsc::channel(4);
        let app = self.app.clone();
        let forward = out_tx.clone();
        tokio::spawn(async move {
            while let Some(chunk) = zip_rx.recv().await {
                let msg = chunk.map(|chunk| pb::ExportCaseFileResponse { chunk });
                if forward.send(msg).await.is_err() {
                    break;
                }
            }
        });
        tokio::spawn(async move {
            let blobs = Blobs::new(&app.settings.data_dir);
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
