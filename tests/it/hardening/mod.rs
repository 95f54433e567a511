//! What an attacker sends: undecodable and hostile requests to every RPC of the
//! contract (generated from its descriptors), bad text in every string field,
//! forged and misused tokens, and a database outage.

mod forged_tokens;
mod fuzz;
mod outage;
mod text;

use std::time::Duration;

use bytes::{Buf, BufMut};
use naskah::proto::Role;
use prost_reflect::MethodDescriptor;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

/// A codec that sends bytes as they are and reads answers as bytes.
#[derive(Clone, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;
    fn encoder(&mut self) -> Raw {
        Raw
    }
    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

/// The contract's methods (naskah.v1 only).
fn methods() -> Vec<MethodDescriptor> {
    prost_reflect::DescriptorPool::decode(naskah::proto::FILE_DESCRIPTOR_SET)
        .expect("the contract's descriptor set decodes")
        .services()
        .filter(|s| s.package_name() == "naskah.v1")
        .flat_map(|s| s.methods().collect::<Vec<_>>())
        .collect()
}

fn path_of(m: &MethodDescriptor) -> String {
    format!("/{}/{}", m.parent_service().full_name(), m.name())
}

/// Calls `m` with `body` as its (only) request message. Streams answer with
/// their first message or status. `Err` of the outer result: no answer in time.
async fn call_raw(
    channel: &tonic::transport::Channel,
    m: &MethodDescriptor,
    token: Option<&str>,
    body: Vec<u8>,
) -> Result<Result<(), tonic::Status>, ()> {
    let fut = async {
        let mut grpc = tonic::client::Grpc::new(channel.clone());
        grpc.ready()
            .await
            .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
        let path: http::uri::PathAndQuery = path_of(m).parse().expect("path");
        fn with_token<T>(mut r: tonic::Request<T>, token: Option<&str>) -> tonic::Request<T> {
            r.set_timeout(Duration::from_secs(10));
            if let Some(tok) = token {
                r.metadata_mut().insert(
                    "authorization",
                    format!("Bearer {tok}").parse().expect("header"),
                );
            }
            r
        }
        match (m.is_client_streaming(), m.is_server_streaming()) {
            (true, _) => grpc
                .client_streaming(
                    with_token(
                        tonic::Request::new(futures::stream::iter(vec![body])),
                        token,
                    ),
                    path,
                    Raw,
                )
                .await
                .map(|_| ()),
            (false, true) => {
                let mut s = grpc
                    .server_streaming(with_token(tonic::Request::new(body), token), path, Raw)
                    .await?
                    .into_inner();
                // The first answer or the status; a live stream (WatchInbox) is
                // left after its first message or a short wait.
                match tokio::time::timeout(Duration::from_secs(2), s.message()).await {
                    Ok(r) => r.map(|_| ()),
                    Err(_) => Ok(()),
                }
            }
            (false, false) => grpc
                .unary(with_token(tonic::Request::new(body), token), path, Raw)
                .await
                .map(|_| ()),
        }
    };
    tokio::time::timeout(Duration::from_secs(20), fut)
        .await
        .map_err(|_| ())
}

/// The demo users and their roles: for each method, one whom the gate admits.
const CALLERS: &[(&str, &[Role])] = &[
    ("staf.egov", &[Role::User]),
    ("admin", &[Role::AgencyAdmin]),
    ("pencatat", &[Role::User, Role::Registrar]),
    ("arsiparis", &[Role::User, Role::RecordsOfficer]),
    ("auditor", &[Role::User, Role::Auditor]),
    ("tu.kominfo", &[Role::User, Role::Secretary]),
];
