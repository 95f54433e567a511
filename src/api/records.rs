//! RecordsService: the classification scheme, case files, retention, holds and due
//! lists. Disposal (Propose/Approve/ExecuteDisposal) and ExportCaseFile are not
//! served yet and answer UNIMPLEMENTED.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::mutate::mutate;
use super::{App, meta, principal};
use crate::clock::{from_timestamp, to_timestamp};
use crate::domain::context::{Ctx, etag};
use crate::domain::records::{self as domain, CaseFileView};
use crate::error::Violations;
use crate::proto::records_service_server::RecordsService;
use crate::proto::{self as pb, CaseFileState, DueKind, FinalDisposition};
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
            Ok(case_file_pb(domain::view(tx.conn(), c).await?))
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
            Ok(case_file_pb(domain::view(tx.conn(), c).await?))
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
                case_file: Some(case_file_pb(domain::view(tx.conn(), c).await?)),
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
}
