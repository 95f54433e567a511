//! OrgService: each request converted (`convert`), one call into
//! `domain::org`, the answer converted to protobuf.

mod convert;

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::mutate::{Mutation, converted, mutate, mutate_request};
use super::{App, principal};
use crate::clock::to_timestamp;
use crate::domain::context::{Ctx, etag};
use crate::domain::identity::UserRecord;
use crate::domain::org::{
    self as domain, ChartUnit, NewAssignment, NewUser, PositionChanges, UnitChanges, UserChanges,
};
use crate::domain::org::{AssignmentRecord, PositionRecord, UnitRecord};
use crate::proto::org_service_server::OrgService;
use crate::proto::{self as pb, UserStatus};
use convert::{
    Abolition, AssignmentEnd, AssignmentQuery, ChartRoot, Edit, NewPosition, NewUnit, Secretary,
    UnitId, UnitPage, UserAt, UserId, UserQuery,
};

/// Implements naskah.v1.OrgService.
#[derive(Debug, Clone)]
pub struct OrgApi {
    app: Arc<App>,
}

impl OrgApi {
    /// A handler over the shared state.
    pub fn new(app: Arc<App>) -> Self {
        Self { app }
    }
}

// ---- domain → protobuf ----

fn unit_pb(u: UnitRecord) -> pb::Unit {
    pb::Unit {
        id: u.id,
        parent_unit_id: u.parent_unit_id.unwrap_or_default(),
        code: u.code,
        name: u.name,
        etag: etag(u.version),
        create_time: Some(to_timestamp(u.created_at_us)),
        update_time: Some(to_timestamp(u.updated_at_us)),
    }
}

fn position_pb(p: PositionRecord) -> pb::Position {
    pb::Position {
        id: p.id,
        unit_id: p.unit_id,
        name: p.name,
        superior_position_id: p.superior_position_id.unwrap_or_default(),
        is_unit_head: p.is_unit_head,
        etag: etag(p.version),
        create_time: Some(to_timestamp(p.created_at_us)),
        update_time: Some(to_timestamp(p.updated_at_us)),
    }
}

fn user_pb(u: UserRecord) -> pb::User {
    pb::User {
        id: u.id,
        username: u.username,
        nip: u.nip,
        full_name: u.full_name,
        email: u.email,
        roles: crate::auth::roles_from_db(&u.roles)
            .into_iter()
            .map(|r| r as i32)
            .collect(),
        status: if u.disabled {
            UserStatus::Disabled
        } else {
            UserStatus::Active
        } as i32,
        must_change_password: u.must_change_password,
        etag: etag(u.version),
        create_time: Some(to_timestamp(u.created_at_us)),
        update_time: Some(to_timestamp(u.updated_at_us)),
        locked_until: (u.locked_until_us != 0).then(|| to_timestamp(u.locked_until_us)),
    }
}

/// True when the caller administers the agency's users (and so sees locks).
fn is_admin(p: &crate::auth::Principal) -> bool {
    p.roles.iter().any(|r| {
        matches!(
            r,
            crate::proto::Role::AgencyAdmin | crate::proto::Role::SystemAdmin
        )
    })
}

fn assignment_pb(a: AssignmentRecord) -> pb::Assignment {
    pb::Assignment {
        id: a.id,
        user_id: a.user_id,
        position_id: a.position_id,
        kind: i32::from(a.kind),
        valid_from: Some(to_timestamp(a.valid_from_us)),
        valid_until: a.valid_until_us.map(to_timestamp),
        basis: a.basis,
        etag: etag(a.version),
    }
}

fn chart_pb(u: ChartUnit) -> pb::OrgChartUnit {
    pb::OrgChartUnit {
        unit: Some(unit_pb(u.unit)),
        positions: u
            .positions
            .into_iter()
            .map(|p| pb::OrgChartPosition {
                position: Some(position_pb(p.position)),
                holders: p
                    .holders
                    .into_iter()
                    .map(|h| pb::PositionHolder {
                        user_id: h.user_id,
                        full_name: h.full_name,
                        kind: i32::from(h.kind),
                    })
                    .collect(),
                secretary_user_ids: p.secretaries,
            })
            .collect(),
        children: u.children.into_iter().map(chart_pb).collect(),
    }
}

#[tonic::async_trait]
impl OrgService for OrgApi {
    async fn create_unit(
        &self,
        req: Request<pb::CreateUnitRequest>,
    ) -> Result<Response<pb::Unit>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, u: &NewUnit| {
            domain::create_unit(tx, ctx, u.parent_unit_id.clone(), &u.code, &u.name)
                .await
                .map(unit_pb)
        })
        .await
    }

    async fn update_unit(
        &self,
        req: Request<pb::UpdateUnitRequest>,
    ) -> Result<Response<pb::Unit>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, e: &Edit<UnitChanges>| {
            domain::update_unit(tx, ctx, &e.id, &e.etag, e.changes.clone())
                .await
                .map(unit_pb)
        })
        .await
    }

    async fn get_unit(
        &self,
        req: Request<pb::GetUnitRequest>,
    ) -> Result<Response<pb::Unit>, Status> {
        let p = principal(&req)?;
        let UnitId(id) = UnitId::try_from(req.into_inner())?;
        Ok(Response::new(unit_pb(
            domain::get_unit(&self.app.store, &p, &id).await?,
        )))
    }

    async fn list_units(
        &self,
        req: Request<pb::ListUnitsRequest>,
    ) -> Result<Response<pb::ListUnitsResponse>, Status> {
        let p = principal(&req)?;
        let q = UnitPage::try_from(req.into_inner())?;
        let (units, next) = domain::list_units(
            &self.app.store,
            &p,
            q.unit_id.as_deref(),
            q.page_size,
            &q.page_token,
        )
        .await?;
        Ok(Response::new(pb::ListUnitsResponse {
            units: units.into_iter().map(unit_pb).collect(),
            next_page_token: next,
        }))
    }

    async fn create_position(
        &self,
        req: Request<pb::CreatePositionRequest>,
    ) -> Result<Response<pb::Position>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, n: &NewPosition| {
            domain::create_position(
                tx,
                ctx,
                &n.unit_id,
                &n.name,
                n.superior_position_id.clone(),
                n.is_unit_head,
            )
            .await
            .map(position_pb)
        })
        .await
    }

    async fn update_position(
        &self,
        req: Request<pb::UpdatePositionRequest>,
    ) -> Result<Response<pb::Position>, Status> {
        mutate_request(
            &self.app,
            req,
            async |tx, ctx, e: &Edit<PositionChanges>| {
                domain::update_position(tx, ctx, &e.id, &e.etag, e.changes.clone())
                    .await
                    .map(position_pb)
            },
        )
        .await
    }

    async fn list_positions(
        &self,
        req: Request<pb::ListPositionsRequest>,
    ) -> Result<Response<pb::ListPositionsResponse>, Status> {
        let p = principal(&req)?;
        let q = UnitPage::try_from(req.into_inner())?;
        let (rows, next) = domain::list_positions(
            &self.app.store,
            &p,
            q.unit_id.as_deref(),
            q.page_size,
            &q.page_token,
        )
        .await?;
        Ok(Response::new(pb::ListPositionsResponse {
            positions: rows.into_iter().map(position_pb).collect(),
            next_page_token: next,
        }))
    }

    async fn create_user(
        &self,
        req: Request<pb::CreateUserRequest>,
    ) -> Result<Response<pb::CreateUserResponse>, Status> {
        let (p, m, r, Mutation { request_id, input }) = converted::<_, NewUser>(req)?;
        // Hashed once, before the transaction (which may run twice).
        let (otp, phc) = domain::one_time_password().await?;
        let out = mutate(&self.app, &p, &m, &request_id, &r, async |tx| {
            let u = domain::create_user(tx, Ctx::new(&p, &m), input.clone(), phc.clone()).await?;
            Ok(pb::CreateUserResponse {
                user: Some(user_pb(u)),
                one_time_password: otp,
            })
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn update_user(
        &self,
        req: Request<pb::UpdateUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, e: &Edit<UserChanges>| {
            domain::update_user(tx, ctx, &e.id, &e.etag, e.changes.clone())
                .await
                .map(user_pb)
        })
        .await
    }

    async fn list_users(
        &self,
        req: Request<pb::ListUsersRequest>,
    ) -> Result<Response<pb::ListUsersResponse>, Status> {
        let p = principal(&req)?;
        let q = UserQuery::try_from(req.into_inner())?;
        let (rows, next) =
            domain::list_users(&self.app.store, &p, &q.query, q.page_size, &q.page_token).await?;
        let admin = is_admin(&p);
        Ok(Response::new(pb::ListUsersResponse {
            users: rows
                .into_iter()
                .map(|u| {
                    let mut u = user_pb(u);
                    if !admin {
                        u.locked_until = None;
                    }
                    u
                })
                .collect(),
            next_page_token: next,
        }))
    }

    async fn disable_user(
        &self,
        req: Request<pb::DisableUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, u: &UserAt| {
            domain::disable_user(tx, ctx, &u.user_id, &u.etag)
                .await
                .map(user_pb)
        })
        .await
    }

    async fn unlock_user(
        &self,
        req: Request<pb::UnlockUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, UserId(id): &UserId| {
            domain::unlock_user(tx, ctx, id).await.map(user_pb)
        })
        .await
    }

    async fn reset_password(
        &self,
        req: Request<pb::ResetPasswordRequest>,
    ) -> Result<Response<pb::ResetPasswordResponse>, Status> {
        let (p, m, r, Mutation { request_id, input }) = converted::<_, UserId>(req)?;
        // Hashed once, before the transaction (which may run twice).
        let (otp, phc) = domain::one_time_password().await?;
        let out = mutate(&self.app, &p, &m, &request_id, &r, async |tx| {
            domain::reset_password(tx, Ctx::new(&p, &m), &input.0, &phc).await?;
            Ok(pb::ResetPasswordResponse {
                one_time_password: otp,
            })
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn assign_position(
        &self,
        req: Request<pb::AssignPositionRequest>,
    ) -> Result<Response<pb::Assignment>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, n: &NewAssignment| {
            domain::assign(tx, ctx, n.clone()).await.map(assignment_pb)
        })
        .await
    }

    async fn end_assignment(
        &self,
        req: Request<pb::EndAssignmentRequest>,
    ) -> Result<Response<pb::Assignment>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, e: &AssignmentEnd| {
            domain::end_assignment(tx, ctx, &e.assignment_id, e.end_us)
                .await
                .map(assignment_pb)
        })
        .await
    }

    async fn list_assignments(
        &self,
        req: Request<pb::ListAssignmentsRequest>,
    ) -> Result<Response<pb::ListAssignmentsResponse>, Status> {
        let p = principal(&req)?;
        let q = AssignmentQuery::try_from(req.into_inner())?;
        let (rows, next) = domain::list_assignments(
            &self.app.store,
            &p,
            q.position_id.as_deref(),
            q.user_id.as_deref(),
            q.include_ended,
            q.page_size,
            &q.page_token,
        )
        .await?;
        Ok(Response::new(pb::ListAssignmentsResponse {
            assignments: rows.into_iter().map(assignment_pb).collect(),
            next_page_token: next,
        }))
    }

    async fn abolish_position(
        &self,
        req: Request<pb::AbolishPositionRequest>,
    ) -> Result<Response<pb::AbolishPositionResponse>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, a: &Abolition| {
            crate::domain::exchange::peers::abolish(
                tx,
                ctx,
                &a.position_id,
                &a.successor_position_id,
            )
            .await?;
            Ok(pb::AbolishPositionResponse {
                position_id: a.position_id.clone(),
                successor_position_id: a.successor_position_id.clone(),
            })
        })
        .await
    }

    async fn set_secretary(
        &self,
        req: Request<pb::SetSecretaryRequest>,
    ) -> Result<Response<pb::SetSecretaryResponse>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, s: &Secretary| {
            let ids = domain::set_secretary(tx, ctx, &s.position_id, &s.user_id, s.remove).await?;
            Ok(pb::SetSecretaryResponse {
                secretary_user_ids: ids,
            })
        })
        .await
    }

    async fn get_org_chart(
        &self,
        req: Request<pb::GetOrgChartRequest>,
    ) -> Result<Response<pb::GetOrgChartResponse>, Status> {
        let p = principal(&req)?;
        let ChartRoot(root) = ChartRoot::try_from(req.into_inner())?;
        let roots = domain::org_chart(&self.app.store, &p, root.as_deref()).await?;
        Ok(Response::new(pb::GetOrgChartResponse {
            roots: roots.into_iter().map(chart_pb).collect(),
        }))
    }
}
