//! PeerService: the peer directory for administrators, the peers' positions
//! for drafters, and the dispatches for registrars. Each request converted
//! by a `TryFrom` that destructures it whole; one domain call each.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::mutate::{Mutation, mutate_request};
use super::{App, principal};
use crate::clock::to_timestamp;
use crate::domain::exchange::{dispatches, identity, peers, receive};
use crate::domain::lifecycle::DispatchStatus;
use crate::error::{Error, Reason, Violations};
use crate::proto::peer_service_server::PeerService;
use crate::proto::{self as pb};

/// Implements naskah.v1.PeerService.
#[derive(Debug, Clone)]
pub struct PeerApi {
    app: Arc<App>,
}

impl PeerApi {
    /// A handler over the shared state.
    pub fn new(app: Arc<App>) -> Self {
        Self { app }
    }

    /// AcceptConsignment and RefuseConsignment: the registrar's decision,
    /// then the relay woken to report the outcome.
    async fn check<Q>(&self, req: Request<Q>) -> Result<Response<pb::AwaitingConsignment>, Status>
    where
        Q: prost::Message,
        Mutation<Check>: for<'q> TryFrom<&'q Q, Error = Error>,
    {
        let ex = self.app.exchange.clone();
        let r = mutate_request(&self.app, req, async |tx, ctx, c: &Check| {
            let env = receive::envelope_awaiting(&*tx, ctx.agency(), &c.sender, &c.consignment_id)
                .await?;
            let rec = receive::check_by_registrar(
                tx,
                ctx,
                &ex,
                &c.sender,
                &c.consignment_id,
                c.decision.clone(),
            )
            .await?;
            Ok(awaiting_pb(&rec, &env))
        })
        .await;
        self.app.exchange.wake();
        r
    }
}

fn card_pb(c: peers::Card) -> pb::PeerCard {
    let peers::Card {
        agency_code,
        agency_name,
        endpoint,
        ca_certificate_pem,
    } = c;
    pb::PeerCard {
        agency_code,
        agency_name,
        endpoint,
        ca_certificate_pem,
    }
}

fn peer_pb(p: &crate::domain::exchange::peers::PeerRecord) -> pb::Peer {
    use sha2::Digest;
    pb::Peer {
        card: Some(card_pb(peers::card_of(p))),
        ca_fingerprint: hex::encode(sha2::Sha256::digest(&p.ca_cert_der)),
        add_time: Some(to_timestamp(p.added_at_us)),
    }
}

fn code_field(v: &mut Violations, field: &str, code: &str) {
    if code.is_empty() || code.len() > 20 {
        v.add(field, "must be an agency code of 1 to 20 characters");
    }
}

impl TryFrom<pb::GetPeerCardRequest> for () {
    type Error = Error;
    fn try_from(r: pb::GetPeerCardRequest) -> Result<Self, Error> {
        let pb::GetPeerCardRequest {} = r;
        Ok(())
    }
}

impl TryFrom<&pb::AddPeerRequest> for Mutation<peers::Card> {
    type Error = Error;
    fn try_from(r: &pb::AddPeerRequest) -> Result<Self, Error> {
        let pb::AddPeerRequest { card, request_id } = r;
        let Some(pb::PeerCard {
            agency_code,
            agency_name,
            endpoint,
            ca_certificate_pem,
        }) = card
        else {
            return Err(Error::invalid("card", "is required"));
        };
        let card = peers::Card {
            agency_code: agency_code.clone(),
            agency_name: agency_name.clone(),
            endpoint: endpoint.clone(),
            ca_certificate_pem: ca_certificate_pem.clone(),
        };
        peers::check_card(&card, "card")?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: card,
        })
    }
}

impl TryFrom<pb::ListPeersRequest> for () {
    type Error = Error;
    fn try_from(r: pb::ListPeersRequest) -> Result<Self, Error> {
        let pb::ListPeersRequest {} = r;
        Ok(())
    }
}

/// A peer named by its code.
#[derive(Clone, Debug)]
struct Code(String);

impl TryFrom<&pb::RemovePeerRequest> for Mutation<Code> {
    type Error = Error;
    fn try_from(r: &pb::RemovePeerRequest) -> Result<Self, Error> {
        let pb::RemovePeerRequest {
            agency_code,
            request_id,
        } = r;
        let mut v = Violations::new();
        code_field(&mut v, "agency_code", agency_code);
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: Code(agency_code.clone()),
        })
    }
}

impl TryFrom<pb::ListPeerPositionsRequest> for Code {
    type Error = Error;
    fn try_from(r: pb::ListPeerPositionsRequest) -> Result<Self, Error> {
        let pb::ListPeerPositionsRequest { agency_code } = r;
        let mut v = Violations::new();
        code_field(&mut v, "agency_code", &agency_code);
        v.finish()?;
        Ok(Code(agency_code))
    }
}

/// ListDispatches.
struct DispatchQuery {
    status: Option<DispatchStatus>,
    page_size: i32,
    page_token: String,
}

impl TryFrom<pb::ListDispatchesRequest> for DispatchQuery {
    type Error = Error;
    fn try_from(r: pb::ListDispatchesRequest) -> Result<Self, Error> {
        let pb::ListDispatchesRequest {
            status,
            page_size,
            page_token,
        } = r;
        let mut v = Violations::new();
        let status = match status {
            0 => None,
            n => match i16::try_from(n)
                .ok()
                .and_then(|n| DispatchStatus::try_from(n).ok())
            {
                Some(s) => Some(s),
                None => {
                    v.add("status", "is not a DispatchStatus");
                    None
                }
            },
        };
        if page_size < 0 {
            v.add("page_size", "must not be negative");
        }
        v.finish()?;
        Ok(DispatchQuery {
            status,
            page_size,
            page_token,
        })
    }
}

/// RetryDispatch / CancelDispatch.
#[derive(Clone, Debug)]
struct DispatchId(String);

impl TryFrom<&pb::RetryDispatchRequest> for Mutation<DispatchId> {
    type Error = Error;
    fn try_from(r: &pb::RetryDispatchRequest) -> Result<Self, Error> {
        let pb::RetryDispatchRequest { id, request_id } = r;
        let mut v = Violations::new();
        v.uuid("id", id, true);
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: DispatchId(id.clone()),
        })
    }
}

impl TryFrom<&pb::CancelDispatchRequest> for Mutation<DispatchId> {
    type Error = Error;
    fn try_from(r: &pb::CancelDispatchRequest) -> Result<Self, Error> {
        let pb::CancelDispatchRequest { id, request_id } = r;
        let mut v = Violations::new();
        v.uuid("id", id, true);
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: DispatchId(id.clone()),
        })
    }
}

/// ListAwaitingConsignments.
struct AwaitingQuery {
    page_size: i32,
    page_token: String,
}

impl TryFrom<pb::ListAwaitingConsignmentsRequest> for AwaitingQuery {
    type Error = Error;
    fn try_from(r: pb::ListAwaitingConsignmentsRequest) -> Result<Self, Error> {
        let pb::ListAwaitingConsignmentsRequest {
            page_size,
            page_token,
        } = r;
        if page_size < 0 {
            return Err(Error::invalid("page_size", "must not be negative"));
        }
        Ok(AwaitingQuery {
            page_size,
            page_token,
        })
    }
}

/// AcceptConsignment / RefuseConsignment: whose consignment, and the decision.
#[derive(Clone, Debug)]
struct Check {
    sender: String,
    consignment_id: String,
    decision: receive::Decision,
}

fn consignment_fields(v: &mut Violations, sender: &str, id: &str) {
    code_field(v, "sender_agency_code", sender);
    if id.is_empty() || id.len() > 36 {
        v.add("consignment_id", "must be a consignment id");
    }
}

impl TryFrom<&pb::AcceptConsignmentRequest> for Mutation<Check> {
    type Error = Error;
    fn try_from(r: &pb::AcceptConsignmentRequest) -> Result<Self, Error> {
        let pb::AcceptConsignmentRequest {
            sender_agency_code,
            consignment_id,
            request_id,
        } = r;
        let mut v = Violations::new();
        consignment_fields(&mut v, sender_agency_code, consignment_id);
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: Check {
                sender: sender_agency_code.clone(),
                consignment_id: consignment_id.clone(),
                decision: receive::Decision::Accept,
            },
        })
    }
}

impl TryFrom<&pb::RefuseConsignmentRequest> for Mutation<Check> {
    type Error = Error;
    fn try_from(r: &pb::RefuseConsignmentRequest) -> Result<Self, Error> {
        let pb::RefuseConsignmentRequest {
            sender_agency_code,
            consignment_id,
            code,
            text,
            request_id,
        } = r;
        let mut v = Violations::new();
        consignment_fields(&mut v, sender_agency_code, consignment_id);
        let code = match pb::RefusalCode::try_from(*code) {
            Ok(pb::RefusalCode::Unspecified) | Err(_) => {
                v.add("code", "must be a RefusalCode");
                pb::RefusalCode::Policy
            }
            Ok(c) => c,
        };
        v.len("text", text, 1, 500);
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: Check {
                sender: sender_agency_code.clone(),
                consignment_id: consignment_id.clone(),
                decision: receive::Decision::Refuse(code, text.clone()),
            },
        })
    }
}

fn awaiting_pb(r: &receive::InRecord, env: &pb::Envelope) -> pb::AwaitingConsignment {
    pb::AwaitingConsignment {
        sender_agency_code: r.sender_code.clone(),
        consignment_id: r.consignment_id.clone(),
        number: env.number.clone(),
        subject: env.subject.clone(),
        r#type: env.r#type,
        security_level: env.security_level,
        position_id: env.recipient_position_id.clone(),
        signer_name: env.signer_name.clone(),
        signer_position: env.signer_position.clone(),
        receive_time: Some(to_timestamp(r.received_at_us)),
        letter_id: r.letter_id.clone(),
    }
}

#[tonic::async_trait]
impl PeerService for PeerApi {
    async fn list_awaiting_consignments(
        &self,
        req: Request<pb::ListAwaitingConsignmentsRequest>,
    ) -> Result<Response<pb::ListAwaitingConsignmentsResponse>, Status> {
        let p = principal(&req)?;
        let q: AwaitingQuery = req.into_inner().try_into()?;
        let (rows, next) =
            receive::awaiting(&self.app.store, &p.agency_id, q.page_size, &q.page_token).await?;
        Ok(Response::new(pb::ListAwaitingConsignmentsResponse {
            consignments: rows.iter().map(|(r, e)| awaiting_pb(r, e)).collect(),
            next_page_token: next,
        }))
    }

    async fn accept_consignment(
        &self,
        req: Request<pb::AcceptConsignmentRequest>,
    ) -> Result<Response<pb::AwaitingConsignment>, Status> {
        self.check(req).await
    }

    async fn refuse_consignment(
        &self,
        req: Request<pb::RefuseConsignmentRequest>,
    ) -> Result<Response<pb::AwaitingConsignment>, Status> {
        self.check(req).await
    }

    async fn get_peer_card(
        &self,
        req: Request<pb::GetPeerCardRequest>,
    ) -> Result<Response<pb::PeerCard>, Status> {
        let p = principal(&req)?;
        let () = req.into_inner().try_into()?;
        let c = peers::card(&self.app.store, &self.app.exchange, &p.agency_id).await?;
        Ok(Response::new(card_pb(c)))
    }

    async fn add_peer(
        &self,
        req: Request<pb::AddPeerRequest>,
    ) -> Result<Response<pb::Peer>, Status> {
        let r = mutate_request(&self.app, req, async |tx, ctx, c: &peers::Card| {
            Ok(peer_pb(&peers::add(tx, ctx, c).await?))
        })
        .await;
        self.app.exchange.directory_changed(&self.app.store).await;
        r
    }

    async fn list_peers(
        &self,
        req: Request<pb::ListPeersRequest>,
    ) -> Result<Response<pb::ListPeersResponse>, Status> {
        let p = principal(&req)?;
        let () = req.into_inner().try_into()?;
        let list = peers::list(&self.app.store, &p.agency_id).await?;
        Ok(Response::new(pb::ListPeersResponse {
            peers: list.iter().map(peer_pb).collect(),
        }))
    }

    async fn remove_peer(
        &self,
        req: Request<pb::RemovePeerRequest>,
    ) -> Result<Response<pb::RemovePeerResponse>, Status> {
        let r = mutate_request(&self.app, req, async |tx, ctx, c: &Code| {
            peers::remove(tx, ctx, &c.0).await?;
            Ok(pb::RemovePeerResponse {})
        })
        .await;
        self.app.exchange.directory_changed(&self.app.store).await;
        r
    }

    async fn list_peer_positions(
        &self,
        req: Request<pb::ListPeerPositionsRequest>,
    ) -> Result<Response<pb::ListPeerPositionsResponse>, Status> {
        let p = principal(&req)?;
        let Code(code) = req.into_inner().try_into()?;
        let dir = match peers::route(&self.app.store, &p.agency_id, &code).await? {
            None => {
                return Err(Error::rejected(Reason::PeerNotFound, "no such peer").into());
            }
            Some(peers::Route::Local(other)) => peers::directory(&self.app.store, &other).await?,
            Some(peers::Route::Remote(peer)) => {
                let me = identity::load(&self.app.store, &self.app.exchange, &p.agency_id).await?;
                crate::domain::exchange::Transport::directory(
                    self.app.transport.as_ref(),
                    &me,
                    &peer,
                )
                .await
                .map_err(|e| Error::rejected(Reason::PeerUnreachable, e.to_string()))?
            }
        };
        Ok(Response::new(pb::ListPeerPositionsResponse {
            positions: dir
                .positions
                .into_iter()
                .map(|d| pb::PeerPosition {
                    position_id: d.position_id,
                    name: d.name,
                    unit_name: d.unit_name,
                    successor_position_id: d.successor_position_id,
                })
                .collect(),
        }))
    }

    async fn list_dispatches(
        &self,
        req: Request<pb::ListDispatchesRequest>,
    ) -> Result<Response<pb::ListDispatchesResponse>, Status> {
        let p = principal(&req)?;
        let q: DispatchQuery = req.into_inner().try_into()?;
        let (rows, next) = dispatches::list(
            &self.app.store,
            &p.agency_id,
            q.status,
            q.page_size,
            &q.page_token,
        )
        .await?;
        Ok(Response::new(pb::ListDispatchesResponse {
            dispatches: rows.iter().map(dispatches::dispatch_pb).collect(),
            next_page_token: next,
        }))
    }

    async fn retry_dispatch(
        &self,
        req: Request<pb::RetryDispatchRequest>,
    ) -> Result<Response<pb::Dispatch>, Status> {
        let r = mutate_request(&self.app, req, async |tx, ctx, d: &DispatchId| {
            let o = dispatches::retry_or_cancel(tx, ctx, &d.0, true).await?;
            Ok(dispatches::dispatch_pb(&o))
        })
        .await;
        self.app.exchange.wake();
        r
    }

    async fn cancel_dispatch(
        &self,
        req: Request<pb::CancelDispatchRequest>,
    ) -> Result<Response<pb::Dispatch>, Status> {
        mutate_request(&self.app, req, async |tx, ctx, d: &DispatchId| {
            let o = dispatches::retry_or_cancel(tx, ctx, &d.0, false).await?;
            Ok(dispatches::dispatch_pb(&o))
        })
        .await
    }
}
