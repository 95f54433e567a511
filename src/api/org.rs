//! OrgService: validation, conversion, and calls into `domain::org`.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::mutate::mutate;
use super::{App, meta, principal};
use crate::clock::{from_timestamp, to_timestamp};
use crate::domain::context::{Ctx, etag};
use crate::domain::org::{
    self as domain, ChartUnit, NewAssignment, NewUser, PositionChanges, UnitChanges, UserChanges,
};
use crate::error::Violations;
use crate::proto::org_service_server::OrgService;
use crate::proto::{self as pb, AssignmentKind, Role, UserStatus};
use crate::store::identity::UserRecord;
use crate::store::org::{AssignmentRecord, PositionRecord, UnitRecord};

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

// ---- conversions ----

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

// ---- validation helpers ----

fn unit_code(v: &mut Violations, field: &str, code: &str) {
    v.len(field, code, 1, 32);
    if !code
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b".-_".contains(&b))
    {
        v.add(field, "may contain only A-Z, 0-9, '.', '-' and '_'");
    }
}

fn username(v: &mut Violations, name: &str) {
    v.len("username", name, 3, 64);
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
    {
        v.add("username", "may contain only a-z, 0-9, '.', '_' and '-'");
    }
}

fn nip(v: &mut Violations, field: &str, nip: &str) {
    let valid = nip.is_empty() || (nip.len() == 18 && nip.bytes().all(|b| b.is_ascii_digit()));
    if !valid {
        v.add(field, "must be empty or 18 digits");
    }
}

fn email(v: &mut Violations, field: &str, email: &str) {
    if email.len() > 254 || (!email.is_empty() && !email.contains('@')) {
        v.add(field, "must be empty or an e-mail address");
    }
}

fn roles(v: &mut Violations, field: &str, raw: &[i32]) -> Vec<Role> {
    if raw.is_empty() {
        v.add(field, "needs at least one role");
    }
    let mut out = Vec::new();
    for r in raw {
        match Role::try_from(*r) {
            Ok(Role::Unspecified) | Err(_) => v.add(field, format!("{r} is not a role")),
            Ok(role) => out.push(role),
        }
    }
    out
}

fn mask<'a>(
    v: &mut Violations,
    mask: &'a Option<prost_types::FieldMask>,
    allowed: &[&str],
) -> Vec<&'a str> {
    let paths: Vec<&str> = mask
        .as_ref()
        .map(|m| m.paths.iter().map(String::as_str).collect())
        .unwrap_or_default();
    if paths.is_empty() {
        v.add("update_mask", "names no field to change");
    }
    for p in &paths {
        if !allowed.contains(p) {
            v.add(
                "update_mask",
                format!("{p:?} cannot be changed (allowed: {})", allowed.join(", ")),
            );
        }
    }
    paths
}

fn opt_id(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

#[tonic::async_trait]
impl OrgService for OrgApi {
    async fn create_unit(
        &self,
        req: Request<pb::CreateUnitRequest>,
    ) -> Result<Response<pb::Unit>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("parent_unit_id", &r.parent_unit_id, false);
        unit_code(&mut v, "code", &r.code);
        v.len("name", &r.name, 1, 200);
        v.finish()?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            domain::create_unit(
                tx,
                Ctx::new(&p, &m),
                opt_id(&r.parent_unit_id),
                &r.code,
                &r.name,
            )
            .await
            .map(unit_pb)
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn update_unit(
        &self,
        req: Request<pb::UpdateUnitRequest>,
    ) -> Result<Response<pb::Unit>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        let unit = r.unit.clone().unwrap_or_default();
        v.uuid("unit.id", &unit.id, true);
        v.len("etag", &r.etag, 1, 64);
        let paths = mask(&mut v, &r.update_mask, &["name", "code", "parent_unit_id"]);
        let mut ch = UnitChanges::default();
        for path in &paths {
            match *path {
                "name" => {
                    v.len("unit.name", &unit.name, 1, 200);
                    ch.name = Some(unit.name.clone());
                }
                "code" => {
                    unit_code(&mut v, "unit.code", &unit.code);
                    ch.code = Some(unit.code.clone());
                }
                "parent_unit_id" => {
                    v.uuid("unit.parent_unit_id", &unit.parent_unit_id, false);
                    ch.parent_unit_id = Some(opt_id(&unit.parent_unit_id));
                }
                _ => {}
            }
        }
        v.finish()?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            domain::update_unit(tx, Ctx::new(&p, &m), &unit.id, &r.etag, ch.clone())
                .await
                .map(unit_pb)
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn get_unit(
        &self,
        req: Request<pb::GetUnitRequest>,
    ) -> Result<Response<pb::Unit>, Status> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("unit_id", &r.unit_id, true);
        v.finish()?;
        Ok(Response::new(unit_pb(
            domain::get_unit(&self.app.store, &p, &r.unit_id).await?,
        )))
    }

    async fn list_units(
        &self,
        req: Request<pb::ListUnitsRequest>,
    ) -> Result<Response<pb::ListUnitsResponse>, Status> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("parent_unit_id", &r.parent_unit_id, false);
        v.finish()?;
        let parent = opt_id(&r.parent_unit_id);
        let (units, next) = domain::list_units(
            &self.app.store,
            &p,
            parent.as_deref(),
            r.page_size,
            &r.page_token,
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
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("unit_id", &r.unit_id, true);
        v.len("name", &r.name, 1, 200);
        v.uuid("superior_position_id", &r.superior_position_id, false);
        v.finish()?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            domain::create_position(
                tx,
                Ctx::new(&p, &m),
                &r.unit_id,
                &r.name,
                opt_id(&r.superior_position_id),
                r.is_unit_head,
            )
            .await
            .map(position_pb)
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn update_position(
        &self,
        req: Request<pb::UpdatePositionRequest>,
    ) -> Result<Response<pb::Position>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        let pos = r.position.clone().unwrap_or_default();
        v.uuid("position.id", &pos.id, true);
        v.len("etag", &r.etag, 1, 64);
        let paths = mask(
            &mut v,
            &r.update_mask,
            &["name", "unit_id", "superior_position_id", "is_unit_head"],
        );
        let mut ch = PositionChanges::default();
        for path in &paths {
            match *path {
                "name" => {
                    v.len("position.name", &pos.name, 1, 200);
                    ch.name = Some(pos.name.clone());
                }
                "unit_id" => {
                    v.uuid("position.unit_id", &pos.unit_id, true);
                    ch.unit_id = Some(pos.unit_id.clone());
                }
                "superior_position_id" => {
                    v.uuid(
                        "position.superior_position_id",
                        &pos.superior_position_id,
                        false,
                    );
                    ch.superior_position_id = Some(opt_id(&pos.superior_position_id));
                }
                "is_unit_head" => ch.is_unit_head = Some(pos.is_unit_head),
                _ => {}
            }
        }
        v.finish()?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            domain::update_position(tx, Ctx::new(&p, &m), &pos.id, &r.etag, ch.clone())
                .await
                .map(position_pb)
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn list_positions(
        &self,
        req: Request<pb::ListPositionsRequest>,
    ) -> Result<Response<pb::ListPositionsResponse>, Status> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("unit_id", &r.unit_id, false);
        v.finish()?;
        let unit = opt_id(&r.unit_id);
        let (rows, next) = domain::list_positions(
            &self.app.store,
            &p,
            unit.as_deref(),
            r.page_size,
            &r.page_token,
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
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        username(&mut v, &r.username);
        nip(&mut v, "nip", &r.nip);
        v.len("full_name", &r.full_name, 1, 200);
        email(&mut v, "email", &r.email);
        let roles = roles(&mut v, "roles", &r.roles);
        v.finish()?;
        let (otp, phc) = domain::one_time_password().await?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            let n = NewUser {
                username: r.username.clone(),
                nip: r.nip.clone(),
                full_name: r.full_name.clone(),
                email: r.email.clone(),
                roles: roles.clone(),
            };
            let u = domain::create_user(tx, Ctx::new(&p, &m), n, phc.clone()).await?;
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
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        let user = r.user.clone().unwrap_or_default();
        v.uuid("user.id", &user.id, true);
        v.len("etag", &r.etag, 1, 64);
        let paths = mask(
            &mut v,
            &r.update_mask,
            &["full_name", "nip", "email", "roles"],
        );
        let mut ch = UserChanges::default();
        for path in &paths {
            match *path {
                "full_name" => {
                    v.len("user.full_name", &user.full_name, 1, 200);
                    ch.full_name = Some(user.full_name.clone());
                }
                "nip" => {
                    nip(&mut v, "user.nip", &user.nip);
                    ch.nip = Some(user.nip.clone());
                }
                "email" => {
                    email(&mut v, "user.email", &user.email);
                    ch.email = Some(user.email.clone());
                }
                "roles" => ch.roles = Some(roles(&mut v, "user.roles", &user.roles)),
                _ => {}
            }
        }
        v.finish()?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            domain::update_user(tx, Ctx::new(&p, &m), &user.id, &r.etag, ch.clone())
                .await
                .map(user_pb)
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn list_users(
        &self,
        req: Request<pb::ListUsersRequest>,
    ) -> Result<Response<pb::ListUsersResponse>, Status> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        v.len("query", &r.query, 0, 100);
        v.finish()?;
        let (rows, next) =
            domain::list_users(&self.app.store, &p, &r.query, r.page_size, &r.page_token).await?;
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
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("user_id", &r.user_id, true);
        v.len("etag", &r.etag, 1, 64);
        v.finish()?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            domain::disable_user(tx, Ctx::new(&p, &m), &r.user_id, &r.etag)
                .await
                .map(user_pb)
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn unlock_user(
        &self,
        req: Request<pb::UnlockUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("user_id", &r.user_id, true);
        v.finish()?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            domain::unlock_user(tx, Ctx::new(&p, &m), &r.user_id)
                .await
                .map(user_pb)
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn reset_password(
        &self,
        req: Request<pb::ResetPasswordRequest>,
    ) -> Result<Response<pb::ResetPasswordResponse>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("user_id", &r.user_id, true);
        v.finish()?;
        let (otp, phc) = domain::one_time_password().await?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            domain::reset_password(tx, Ctx::new(&p, &m), &r.user_id, &phc).await?;
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
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("user_id", &r.user_id, true);
        v.uuid("position_id", &r.position_id, true);
        let kind = match AssignmentKind::try_from(r.kind) {
            Ok(AssignmentKind::Unspecified) | Err(_) => {
                v.add("kind", "must be DEFINITIVE, PLT or PLH");
                AssignmentKind::Unspecified
            }
            Ok(k) => k,
        };
        let from = r.valid_from.as_ref().map(from_timestamp);
        let until = r.valid_until.as_ref().map(from_timestamp);
        if from == Some(None) {
            v.add("valid_from", "is out of range");
        }
        if until == Some(None) {
            v.add("valid_until", "is out of range");
        }
        v.len("basis", &r.basis, 0, 500);
        v.finish()?;
        let n = NewAssignment {
            user_id: r.user_id.clone(),
            position_id: r.position_id.clone(),
            kind,
            valid_from_us: from.flatten(),
            valid_until_us: until.flatten(),
            basis: r.basis.clone(),
        };
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            domain::assign(tx, Ctx::new(&p, &m), n.clone())
                .await
                .map(assignment_pb)
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn end_assignment(
        &self,
        req: Request<pb::EndAssignmentRequest>,
    ) -> Result<Response<pb::Assignment>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("assignment_id", &r.assignment_id, true);
        let end = r.end_time.as_ref().map(from_timestamp);
        if end == Some(None) {
            v.add("end_time", "is out of range");
        }
        v.finish()?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            domain::end_assignment(tx, Ctx::new(&p, &m), &r.assignment_id, end.flatten())
                .await
                .map(assignment_pb)
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn list_assignments(
        &self,
        req: Request<pb::ListAssignmentsRequest>,
    ) -> Result<Response<pb::ListAssignmentsResponse>, Status> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("position_id", &r.position_id, false);
        v.uuid("user_id", &r.user_id, false);
        v.finish()?;
        let (pos, user) = (opt_id(&r.position_id), opt_id(&r.user_id));
        let (rows, next) = domain::list_assignments(
            &self.app.store,
            &p,
            pos.as_deref(),
            user.as_deref(),
            r.include_ended,
            r.page_size,
            &r.page_token,
        )
        .await?;
        Ok(Response::new(pb::ListAssignmentsResponse {
            assignments: rows.into_iter().map(assignment_pb).collect(),
            next_page_token: next,
        }))
    }

    async fn set_secretary(
        &self,
        req: Request<pb::SetSecretaryRequest>,
    ) -> Result<Response<pb::SetSecretaryResponse>, Status> {
        let (p, m) = (principal(&req)?, meta(&req));
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("position_id", &r.position_id, true);
        v.uuid("user_id", &r.user_id, true);
        v.finish()?;
        let out = mutate(&self.app, &p, &m, &r.request_id, &r, async |tx| {
            let ids =
                domain::set_secretary(tx, Ctx::new(&p, &m), &r.position_id, &r.user_id, r.remove)
                    .await?;
            Ok(pb::SetSecretaryResponse {
                secretary_user_ids: ids,
            })
        })
        .await?;
        Ok(Response::new(out))
    }

    async fn get_org_chart(
        &self,
        req: Request<pb::GetOrgChartRequest>,
    ) -> Result<Response<pb::GetOrgChartResponse>, Status> {
        let p = principal(&req)?;
        let r = req.into_inner();
        let mut v = Violations::new();
        v.uuid("root_unit_id", &r.root_unit_id, false);
        v.finish()?;
        let root = opt_id(&r.root_unit_id);
        let roots = domain::org_chart(&self.app.store, &p, root.as_deref()).await?;
        Ok(Response::new(pb::GetOrgChartResponse {
            roots: roots.into_iter().map(chart_pb).collect(),
        }))
    }
}
