//! AuthService: each request converted by a `TryFrom` that destructures it
//! whole, one call into `domain::identity`, the answer converted to protobuf.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::{App, meta, principal};
use crate::auth::Principal;
use crate::clock::to_timestamp;
use crate::domain::identity::{self, Session};
use crate::error::{Error, Violations};
use crate::proto::auth_service_server::AuthService;
use crate::proto::{self as pb, AssignmentKind};

/// Implements naskah.v1.AuthService.
#[derive(Debug, Clone)]
pub struct AuthApi {
    app: Arc<App>,
}

impl AuthApi {
    /// A handler over the shared state.
    pub fn new(app: Arc<App>) -> Self {
        Self { app }
    }
}

fn assignment_kind(code: i16) -> AssignmentKind {
    AssignmentKind::try_from(i32::from(code)).unwrap_or(AssignmentKind::Unspecified)
}

fn login_response(s: Session) -> pb::LoginResponse {
    pb::LoginResponse {
        access_token: s.access_token,
        refresh_token: s.refresh_token,
        access_token_expire_time: Some(to_timestamp(s.access_expires_us)),
        refresh_token_expire_time: Some(to_timestamp(s.refresh_expires_us)),
        must_change_password: s.must_change_password,
    }
}

// ---- requests → inputs ----

/// Login.
struct Credentials {
    username: String,
    password: String,
}

/// A refresh token. RefreshToken, Logout.
struct RefreshToken(String);

/// ChangePassword.
struct PasswordChange {
    current_password: String,
    new_password: String,
}

impl TryFrom<pb::LoginRequest> for Credentials {
    type Error = Error;

    fn try_from(r: pb::LoginRequest) -> Result<Self, Error> {
        let pb::LoginRequest { username, password } = r;
        let mut v = Violations::new();
        v.len("username", &username, 1, 130);
        if password.is_empty() || password.len() > 1024 {
            v.add("password", "must be 1 to 1024 bytes long");
        }
        v.finish()?;
        Ok(Credentials { username, password })
    }
}

impl TryFrom<pb::RefreshTokenRequest> for RefreshToken {
    type Error = Error;

    fn try_from(r: pb::RefreshTokenRequest) -> Result<Self, Error> {
        let pb::RefreshTokenRequest { refresh_token } = r;
        refresh_token_rule(refresh_token)
    }
}

impl TryFrom<pb::LogoutRequest> for RefreshToken {
    type Error = Error;

    fn try_from(r: pb::LogoutRequest) -> Result<Self, Error> {
        let pb::LogoutRequest { refresh_token } = r;
        refresh_token_rule(refresh_token)
    }
}

fn refresh_token_rule(refresh_token: String) -> Result<RefreshToken, Error> {
    let mut v = Violations::new();
    v.len("refresh_token", &refresh_token, 1, 256);
    v.finish()?;
    Ok(RefreshToken(refresh_token))
}

impl TryFrom<pb::ChangePasswordRequest> for PasswordChange {
    type Error = Error;

    fn try_from(r: pb::ChangePasswordRequest) -> Result<Self, Error> {
        let pb::ChangePasswordRequest {
            current_password,
            new_password,
        } = r;
        let mut v = Violations::new();
        if current_password.is_empty() || current_password.len() > 1024 {
            v.add("current_password", "must be 1 to 1024 bytes long");
        }
        if new_password.len() > 1024 {
            v.add("new_password", "must be at most 1024 bytes long");
        }
        v.finish()?;
        Ok(PasswordChange {
            current_password,
            new_password,
        })
    }
}

impl TryFrom<pb::WhoAmIRequest> for () {
    type Error = Error;

    fn try_from(r: pb::WhoAmIRequest) -> Result<Self, Error> {
        let pb::WhoAmIRequest {} = r;
        Ok(())
    }
}

#[tonic::async_trait]
impl AuthService for AuthApi {
    #[tracing::instrument(skip_all)]
    async fn login(
        &self,
        req: Request<pb::LoginRequest>,
    ) -> Result<Response<pb::LoginResponse>, Status> {
        let m = meta(&req);
        let c = Credentials::try_from(req.into_inner())?;
        let s = identity::login(
            &self.app.store,
            &self.app.tokens,
            self.app.lifetimes(),
            &m,
            &c.username,
            &c.password,
        )
        .await?;
        Ok(Response::new(login_response(s)))
    }

    #[tracing::instrument(skip_all)]
    async fn refresh_token(
        &self,
        req: Request<pb::RefreshTokenRequest>,
    ) -> Result<Response<pb::RefreshTokenResponse>, Status> {
        let m = meta(&req);
        // A caller who also presents an access token may refresh only a
        // session of their own.
        let caller = req
            .extensions()
            .get::<Principal>()
            .map(|p| p.user_id.clone());
        let RefreshToken(token) = RefreshToken::try_from(req.into_inner())?;
        let s = identity::refresh(
            &self.app.store,
            &self.app.tokens,
            self.app.lifetimes(),
            &m,
            &token,
            caller.as_deref(),
        )
        .await?;
        Ok(Response::new(pb::RefreshTokenResponse {
            access_token: s.access_token,
            refresh_token: s.refresh_token,
            access_token_expire_time: Some(to_timestamp(s.access_expires_us)),
            refresh_token_expire_time: Some(to_timestamp(s.refresh_expires_us)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn logout(
        &self,
        req: Request<pb::LogoutRequest>,
    ) -> Result<Response<pb::LogoutResponse>, Status> {
        let m = meta(&req);
        let p = principal(&req)?;
        let RefreshToken(token) = RefreshToken::try_from(req.into_inner())?;
        identity::logout(&self.app.store, &m, &p.user_id, &token).await?;
        Ok(Response::new(pb::LogoutResponse {}))
    }

    #[tracing::instrument(skip_all)]
    async fn change_password(
        &self,
        req: Request<pb::ChangePasswordRequest>,
    ) -> Result<Response<pb::ChangePasswordResponse>, Status> {
        let p = principal(&req)?;
        let m = meta(&req);
        let c = PasswordChange::try_from(req.into_inner())?;
        identity::change_password(
            &self.app.store,
            &p,
            &m,
            &c.current_password,
            &c.new_password,
        )
        .await?;
        Ok(Response::new(pb::ChangePasswordResponse {}))
    }

    #[tracing::instrument(skip_all)]
    async fn who_am_i(
        &self,
        req: Request<pb::WhoAmIRequest>,
    ) -> Result<Response<pb::WhoAmIResponse>, Status> {
        let p = principal(&req)?;
        let () = req.into_inner().try_into()?;
        let w = identity::who_am_i(&self.app.store, &p).await?;
        Ok(Response::new(pb::WhoAmIResponse {
            user_id: w.user.id,
            username: w.user.username,
            full_name: w.user.full_name,
            nip: w.user.nip,
            agency_id: w.user.agency_id,
            roles: p.roles.iter().map(|r| *r as i32).collect(),
            positions: w
                .positions
                .into_iter()
                .map(|h| pb::HeldPosition {
                    position_id: h.position_id,
                    position_name: h.position_name,
                    unit_id: h.unit_id,
                    unit_name: h.unit_name,
                    kind: assignment_kind(h.kind) as i32,
                    valid_until: h.valid_until_us.map(to_timestamp),
                    assignment_id: h.assignment_id,
                })
                .collect(),
            secretary_of_position_ids: w.secretary_of,
            must_change_password: w.user.must_change_password,
        }))
    }
}
