//! The one tower layer in front of every service: request ids, tracing spans,
//! authentication, the policy gate (with audited denials), and clear messages for
//! methods that are not served.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use http::{HeaderValue, Request, Response};
use tonic::Status;
use tower::{Layer, Service};
use tracing::Instrument;

use super::App;
use super::status::{rejected, to_status};
use crate::audit::{NewEvent, Outcome};
use crate::auth::{Principal, RequestMeta};
use crate::domain::{identity, policy};
use crate::error::{Error, Reason};

/// Header carrying the request id, both ways.
pub const REQUEST_ID: &str = "x-request-id";

/// Builds [`GateService`]s.
#[derive(Clone)]
pub struct GateLayer {
    app: Arc<App>,
}

impl GateLayer {
    /// A layer over the shared application state.
    pub fn new(app: Arc<App>) -> Self {
        Self { app }
    }
}

impl<S> Layer<S> for GateLayer {
    type Service = GateService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        GateService {
            inner,
            app: self.app.clone(),
        }
    }
}

/// See the module documentation.
#[derive(Clone)]
pub struct GateService<S> {
    inner: S,
    app: Arc<App>,
}

fn request_id_of<B>(req: &Request<B>) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
}

fn client_address_of<B>(req: &Request<B>) -> String {
    req.extensions()
        .get::<tonic::transport::server::TcpConnectInfo>()
        .and_then(|i| i.remote_addr())
        .map(|a| a.to_string())
        .unwrap_or_default()
}

fn bearer<B>(req: &Request<B>) -> Option<String> {
    let value = req
        .headers()
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// Outcome of the gate for one request.
enum Gate {
    Pass(Option<Principal>),
    Refuse(Status),
}

async fn gate(app: &App, method: &str, token: Option<String>, meta: &RequestMeta) -> Gate {
    let Some(rule) = policy::rule(method) else {
        return Gate::Refuse(Status::unimplemented(format!(
            "{method} is not a method of this server"
        )));
    };
    if rule == policy::Rule::Peer {
        return Gate::Refuse(Status::unimplemented(format!(
            "{method} is served to other agencies on the exchange port only"
        )));
    }
    let principal = match (&token, rule) {
        (None, policy::Rule::Public) => None,
        (None, _) => {
            return refuse(
                app,
                meta,
                None,
                Reason::TokenMissing,
                "this method needs an access token",
            )
            .await;
        }
        (Some(token), _) => match identity::authenticate(&app.store, &app.tokens, token).await {
            Ok(p) => Some(p),
            // A public method ignores a bad token rather than failing.
            Err(Error::Rejected { .. }) if rule == policy::Rule::Public => None,
            Err(Error::Rejected { reason, message }) => {
                return refuse(app, meta, None, reason, &message).await;
            }
            Err(e) => return Gate::Refuse(to_status(e)),
        },
    };
    if let Some(p) = &principal {
        if p.must_change_password
            && !policy::BEFORE_PASSWORD_CHANGE.contains(&method)
            && rule != policy::Rule::Public
        {
            return refuse(
                app,
                meta,
                Some(p),
                Reason::PasswordChangeRequired,
                "change your password first (AuthService/ChangePassword)",
            )
            .await;
        }
        if !policy::admits(rule, &p.roles) {
            return refuse(
                app,
                meta,
                Some(p),
                Reason::RoleRequired,
                "your roles do not allow this method",
            )
            .await;
        }
    }
    Gate::Pass(principal)
}

/// Refuses a request and records the denial in the audit trail.
async fn refuse(
    app: &App,
    meta: &RequestMeta,
    p: Option<&Principal>,
    reason: Reason,
    message: &str,
) -> Gate {
    let mut ev = NewEvent::success(&meta.method, "method", &meta.method);
    ev.outcome = Outcome::Denied;
    ev.reason = reason.as_str().to_owned();
    ev.request_id = meta.request_id.clone();
    ev.client_address = meta.client_address.clone();
    if let Some(p) = p {
        ev.agency_id = p.agency_id.clone();
        ev.actor_user_id = p.user_id.clone();
    }
    ev.summary = "request denied".into();
    let written = async {
        let mut tx = app.store.begin_write().await?;
        tx.audit(ev);
        tx.commit().await
    }
    .await;
    if let Err(e) = written {
        tracing::error!(error = %e, "could not audit a denial");
        return Gate::Refuse(to_status(e.into()));
    }
    Gate::Refuse(rejected(reason, message))
}

/// Replaces the message of a generated stub with one naming the method.
fn clarify_unimplemented<B>(resp: &mut Response<B>, method: &str) {
    let is_stub = resp.headers().get("grpc-status").is_some_and(|v| v == "12")
        && resp
            .headers()
            .get("grpc-message")
            .is_some_and(|v| v == "Not%20yet%20implemented" || v == "Not yet implemented");
    if is_stub {
        let msg = format!(
            "{method} is part of the naskah.v1 contract but not implemented by this server version yet"
        );
        if let Ok(v) = HeaderValue::from_str(&msg) {
            resp.headers_mut().insert("grpc-message", v);
        }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for GateService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let app = self.app.clone();
        let meta = RequestMeta {
            request_id: request_id_of(&req),
            client_address: client_address_of(&req),
            method: req.uri().path().to_owned(),
        };
        let span = tracing::info_span!("rpc", method = %meta.method, request_id = %meta.request_id);
        Box::pin(
            async move {
                let started = std::time::Instant::now();
                let token = bearer(&req);
                let mut resp = match gate(&app, &meta.method, token, &meta).await {
                    Gate::Pass(principal) => {
                        if let Some(p) = principal {
                            req.extensions_mut().insert(p);
                        }
                        req.extensions_mut().insert(meta.clone());
                        inner.call(req).await?
                    }
                    Gate::Refuse(status) => status.into_http(),
                };
                clarify_unimplemented(&mut resp, &meta.method);
                if let Ok(v) = HeaderValue::from_str(&meta.request_id) {
                    resp.headers_mut().insert(REQUEST_ID, v);
                }
                tracing::debug!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "request handled"
                );
                Ok(resp)
            }
            .instrument(span),
        )
    }
}
