//! The exchange port: `ExchangeService` for other naskah agencies over
//! mutual TLS (`tls.rs`), and the client the relay calls peers with
//! ([`GrpcTransport`]). No user logs in here: the caller is the agency its
//! certificate names, checked against the directory of the agency it
//! addresses (header `x-naskah-agency`, its code).

pub mod tls;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tonic::transport::{Channel, ClientTlsConfig, Endpoint};
use tonic::{Request, Response, Status};

use crate::domain::exchange::peers::PeerRecord;
use crate::domain::exchange::{Exchange, Identity, Transport, TransportError, peers, receive};
use crate::error::{Error, Reason};
use crate::proto;
use crate::proto::exchange_service_client::ExchangeServiceClient;
use crate::store::Store;

/// The header naming the agency a peer addresses (its code).
pub const AGENCY_HEADER: &str = "x-naskah-agency";

/// The service other agencies call.
#[derive(Clone)]
pub struct ExchangeApi {
    store: Store,
    ex: Arc<Exchange>,
}

impl ExchangeApi {
    /// The service.
    pub fn new(store: Store, ex: Arc<Exchange>) -> Self {
        Self { store, ex }
    }

    /// The local agency addressed and the peer agency calling.
    async fn parties<T>(&self, req: &Request<T>) -> Result<(String, receive::Sender), Status> {
        let code = req
            .metadata()
            .get(AGENCY_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let untrusted = || {
            super::status::to_status(Error::rejected(
                Reason::PeerNotTrusted,
                "no agency of this installation by that code trusts the caller",
            ))
        };
        let agency = peers::local_agency(&self.store, &code)
            .await
            .map_err(super::status::to_status)?
            .ok_or_else(untrusted)?;
        let cert = req
            .peer_certs()
            .and_then(|c| c.first().map(|c| c.to_vec()))
            .ok_or_else(untrusted)?;
        let sender = receive::sender_of(&self.store, &agency, &cert)
            .await
            .map_err(super::status::to_status)?;
        Ok((agency, sender))
    }
}

fn done<T>(r: crate::error::Result<T>) -> Result<Response<T>, Status> {
    r.map(Response::new).map_err(super::status::to_status)
}

// ---- requests → inputs (each destructured whole) ----

impl TryFrom<proto::GetDirectoryRequest> for () {
    type Error = Error;
    fn try_from(r: proto::GetDirectoryRequest) -> Result<Self, Error> {
        let proto::GetDirectoryRequest {} = r;
        Ok(())
    }
}

/// DeliverConsignment: the signed envelope and the signer's status, handed
/// to the receiver as they came (it checks them, and answers a missing
/// envelope with a signed FORMAT refusal).
struct Consignment(proto::DeliverConsignmentRequest);

impl TryFrom<proto::DeliverConsignmentRequest> for Consignment {
    type Error = Error;
    fn try_from(r: proto::DeliverConsignmentRequest) -> Result<Self, Error> {
        let proto::DeliverConsignmentRequest {
            envelope,
            signer_status,
        } = r;
        Ok(Consignment(proto::DeliverConsignmentRequest {
            envelope,
            signer_status,
        }))
    }
}

/// ReportOutcome: the signed outcome and receipt.
struct Report {
    outcome: proto::SignedStatement,
    receipt: Option<proto::SignedStatement>,
}

impl TryFrom<proto::ReportOutcomeRequest> for Report {
    type Error = Error;
    fn try_from(r: proto::ReportOutcomeRequest) -> Result<Self, Error> {
        let proto::ReportOutcomeRequest { outcome, receipt } = r;
        Ok(Report {
            outcome: outcome.ok_or_else(|| Error::invalid("outcome", "is required"))?,
            receipt,
        })
    }
}

/// GetOutcome: a consignment id.
struct ConsignmentId(String);

impl TryFrom<proto::GetOutcomeRequest> for ConsignmentId {
    type Error = Error;
    fn try_from(r: proto::GetOutcomeRequest) -> Result<Self, Error> {
        let proto::GetOutcomeRequest { consignment_id } = r;
        if consignment_id.is_empty() || consignment_id.len() > 36 {
            return Err(Error::invalid("consignment_id", "must be a consignment id"));
        }
        Ok(ConsignmentId(consignment_id))
    }
}

/// ListOutcomes: a cursor and a page size.
struct Since {
    cursor: i64,
    page_size: i32,
}

impl TryFrom<proto::ListOutcomesRequest> for Since {
    type Error = Error;
    fn try_from(r: proto::ListOutcomesRequest) -> Result<Self, Error> {
        let proto::ListOutcomesRequest {
            after_cursor,
            page_size,
        } = r;
        let mut v = crate::error::Violations::new();
        if page_size < 0 {
            v.add("page_size", "must not be negative");
        }
        if after_cursor < 0 {
            v.add("after_cursor", "must not be negative");
        }
        v.finish()?;
        Ok(Since {
            cursor: after_cursor,
            page_size,
        })
    }
}

fn converted<Q, T>(req: Request<Q>) -> Result<T, Status>
where
    T: TryFrom<Q, Error = Error>,
{
    T::try_from(req.into_inner()).map_err(super::status::to_status)
}

#[tonic::async_trait]
impl proto::exchange_service_server::ExchangeService for ExchangeApi {
    async fn get_directory(
        &self,
        req: Request<proto::GetDirectoryRequest>,
    ) -> Result<Response<proto::GetDirectoryResponse>, Status> {
        let (agency, _) = self.parties(&req).await?;
        let () = converted(req)?;
        done(peers::directory(&self.store, &agency).await)
    }

    async fn deliver_consignment(
        &self,
        req: Request<proto::DeliverConsignmentRequest>,
    ) -> Result<Response<proto::DeliverConsignmentResponse>, Status> {
        let (agency, sender) = self.parties(&req).await?;
        let Consignment(r) = converted(req)?;
        done(receive::deliver(&self.store, &self.ex, &agency, &sender, r).await)
    }

    async fn report_outcome(
        &self,
        req: Request<proto::ReportOutcomeRequest>,
    ) -> Result<Response<proto::ReportOutcomeResponse>, Status> {
        let (agency, sender) = self.parties(&req).await?;
        let r: Report = converted(req)?;
        done(
            crate::domain::exchange::dispatches::record_reported(
                &self.store,
                &agency,
                &sender.code,
                &r.outcome,
                r.receipt.as_ref(),
            )
            .await
            .map(|()| proto::ReportOutcomeResponse {}),
        )
    }

    async fn get_outcome(
        &self,
        req: Request<proto::GetOutcomeRequest>,
    ) -> Result<Response<proto::GetOutcomeResponse>, Status> {
        let (agency, sender) = self.parties(&req).await?;
        let ConsignmentId(id) = converted(req)?;
        done(receive::outcome_of(&self.store, &agency, &sender.code, &id).await)
    }

    async fn list_outcomes(
        &self,
        req: Request<proto::ListOutcomesRequest>,
    ) -> Result<Response<proto::ListOutcomesResponse>, Status> {
        let (agency, sender) = self.parties(&req).await?;
        let s: Since = converted(req)?;
        done(
            receive::outcomes_after(&self.store, &agency, &sender.code, s.cursor, s.page_size)
                .await,
        )
    }
}

/// Binds the exchange port.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} for the exchange: {e}"))
}

/// Serves the exchange port on `listener` until `stopping` turns true.
pub fn serve(
    listener: tokio::net::TcpListener,
    store: Store,
    ex: Arc<Exchange>,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls::server_config(ex.clone())?));
    let max = ex.settings.max_envelope_bytes + 1024 * 1024;
    let (conns_tx, conns_rx) = tokio::sync::mpsc::channel(64);
    let mut stop_accepting = stopping.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, peer) = tokio::select! {
                a = listener.accept() => match a {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "exchange: accept failed");
                        continue;
                    }
                },
                _ = stop_accepting.wait_for(|s| *s) => return,
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            let conns_tx = conns_tx.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => {
                        let _ = conns_tx.send(Ok::<_, std::io::Error>(tls)).await;
                    }
                    Ok(Err(e)) => {
                        tracing::info!(%peer, error = %e, "exchange: TLS handshake refused");
                    }
                    Err(_) => tracing::info!(%peer, "exchange: TLS handshake timed out"),
                }
            });
        }
    });
    let svc =
        proto::exchange_service_server::ExchangeServiceServer::new(ExchangeApi::new(store, ex))
            .max_decoding_message_size(max)
            .max_encoding_message_size(max);
    let incoming = tokio_stream::wrappers::ReceiverStream::new(conns_rx);
    let task = tokio::spawn(async move {
        let r = tonic::transport::Server::builder()
            .timeout(Duration::from_secs(300))
            .add_service(svc)
            .serve_with_incoming_shutdown(incoming, async move {
                let _ = stopping.wait_for(|s| *s).await;
            })
            .await;
        if let Err(e) = r {
            tracing::error!(error = %e, "exchange port failed");
        }
    });
    Ok(task)
}

/// The relay's client: one channel per (agency, peer), over mutual TLS.
#[derive(Debug, Default)]
pub struct GrpcTransport {
    channels: Mutex<HashMap<String, Channel>>,
}

impl GrpcTransport {
    /// A client of `to`'s exchange port speaking as `from`, addressing `to`
    /// (requests need the header [`AGENCY_HEADER`]: see [`addressed`]).
    pub fn client(
        &self,
        from: &Identity,
        to: &PeerRecord,
    ) -> Result<ExchangeServiceClient<Channel>, TransportError> {
        use crate::domain::exchange::peers::pem_of;
        let key = format!(
            "{}/{}/{}/{}",
            from.agency_id,
            to.code,
            to.endpoint,
            hex::encode(&to.ca_cert_der[to.ca_cert_der.len().saturating_sub(16)..])
        );
        let mut map = self
            .channels
            .lock()
            .map_err(|_| TransportError::NotSent("channel cache poisoned".into()))?;
        let ch = match map.get(&key) {
            Some(c) => c.clone(),
            None => {
                let bad = |e: String| TransportError::NotSent(e);
                let (cert_pem, key_pem, ca_pem) =
                    pem_of(from, &to.ca_cert_der).map_err(|e| bad(e.to_string()))?;
                let tls = ClientTlsConfig::new()
                    .ca_certificate(tonic::transport::Certificate::from_pem(ca_pem))
                    .identity(tonic::transport::Identity::from_pem(cert_pem, key_pem))
                    .domain_name(crate::crypto::x509::exchange_dns_name(&to.code));
                let ch = Endpoint::from_shared(to.endpoint.clone())
                    .map_err(|e| bad(e.to_string()))?
                    .tls_config(tls)
                    .map_err(|e| bad(e.to_string()))?
                    .connect_timeout(Duration::from_secs(5))
                    .timeout(crate::domain::exchange::relay::ATTEMPT)
                    .connect_lazy();
                map.insert(key, ch.clone());
                ch
            }
        };
        Ok(ExchangeServiceClient::new(ch)
            .max_decoding_message_size(usize::MAX)
            .max_encoding_message_size(usize::MAX))
    }
}

/// A request to `to`, with the header naming the agency it addresses.
pub fn addressed<T>(to: &PeerRecord, msg: T) -> Request<T> {
    let mut r = Request::new(msg);
    if let Ok(v) = to.code.parse() {
        r.metadata_mut().insert(AGENCY_HEADER, v);
    }
    r
}

fn failure(s: Status) -> TransportError {
    use tonic::Code;
    let m = format!("{:?}: {}", s.code(), s.message());
    match s.code() {
        Code::Unavailable if s.message().contains("connect") || s.message().contains("tcp") => {
            TransportError::NotSent(m)
        }
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Unknown => {
            TransportError::Unknown(m)
        }
        _ => TransportError::Refused(m),
    }
}

#[tonic::async_trait]
impl Transport for GrpcTransport {
    async fn deliver(
        &self,
        from: &Identity,
        to: &PeerRecord,
        req: proto::DeliverConsignmentRequest,
    ) -> Result<proto::DeliverConsignmentResponse, TransportError> {
        let mut c = self.client(from, to)?;
        c.deliver_consignment(addressed(to, req))
            .await
            .map(Response::into_inner)
            .map_err(failure)
    }

    async fn report_outcome(
        &self,
        from: &Identity,
        to: &PeerRecord,
        req: proto::ReportOutcomeRequest,
    ) -> Result<(), TransportError> {
        let mut c = self.client(from, to)?;
        c.report_outcome(addressed(to, req))
            .await
            .map(|_| ())
            .map_err(failure)
    }

    async fn get_outcome(
        &self,
        from: &Identity,
        to: &PeerRecord,
        consignment_id: &str,
    ) -> Result<proto::GetOutcomeResponse, TransportError> {
        let mut c = self.client(from, to)?;
        c.get_outcome(addressed(
            to,
            proto::GetOutcomeRequest {
                consignment_id: consignment_id.to_owned(),
            },
        ))
        .await
        .map(Response::into_inner)
        .map_err(failure)
    }

    async fn directory(
        &self,
        from: &Identity,
        to: &PeerRecord,
    ) -> Result<proto::GetDirectoryResponse, TransportError> {
        let mut c = self.client(from, to)?;
        c.get_directory(addressed(to, proto::GetDirectoryRequest {}))
            .await
            .map(Response::into_inner)
            .map_err(failure)
    }
}
