//! The streams of LetterService: UploadAttachment (client stream),
//! DownloadAttachment and WatchInbox (server streams).

use std::time::Duration;

use tokio::io::AsyncReadExt;
use tonic::{Request, Response, Status, Streaming};

use super::BoxStream;
use super::convert::{AttachmentId, InboxPositions, UploadChunk, UploadHead};
use super::pb::attachment_pb;
use crate::api::mutate::{Mutation, mutate};
use crate::api::{App, meta, principal};
use crate::clock::to_timestamp;
use crate::domain::context::Ctx;
use crate::domain::letters::{self as domain, Caller, NewAttachment};
use crate::error::Error;
use crate::proto as pb;

/// Bytes of one DownloadAttachment message.
const CHUNK: usize = 64 * 1024;

/// UploadAttachment: the metadata first, then the content in chunks, written
/// to a blob as it arrives; recorded on the letter once whole and checked.
pub(super) async fn upload(
    app: &App,
    req: Request<Streaming<pb::UploadAttachmentRequest>>,
) -> Result<Response<pb::Attachment>, Status> {
    let (p, m) = (principal(&req)?, meta(&req));
    let mut stream = req.into_inner();
    let first = stream.message().await?.ok_or_else(|| {
        Status::from(Error::invalid(
            "metadata",
            "the first message must carry the metadata",
        ))
    })?;
    let UploadHead(md) = UploadHead::try_from(first)?;
    let Mutation { request_id, input } = Mutation::<NewAttachment>::try_from(&md)?;
    let limit = app.settings.max_attachment_bytes;
    let mut upload = domain::begin_upload(&app.store, &app.blobs(), limit, &p, input).await?;
    let received: Result<(), Status> = async {
        while let Some(msg) = stream.message().await? {
            let UploadChunk(chunk) = UploadChunk::try_from(msg)?;
            upload.write(&chunk).await?;
        }
        Ok(())
    }
    .await;
    if let Err(e) = received {
        upload.discard().await;
        return Err(e);
    }
    let done = upload.finish(&app.store, &p).await?;
    let out = mutate(app, &p, &m, &request_id, &md, async |tx| {
        domain::add_attachment(tx, Ctx::new(&p, &m), &done.caller, &done.attachment).await?;
        Ok(attachment_pb(done.attachment.clone()))
    })
    .await?;
    Ok(Response::new(out))
}

/// DownloadAttachment: the metadata, then the content in chunks.
pub(super) async fn download(
    app: &App,
    req: Request<pb::DownloadAttachmentRequest>,
) -> Result<Response<BoxStream<pb::DownloadAttachmentResponse>>, Status> {
    let p = principal(&req)?;
    let m = meta(&req);
    let AttachmentId(id) = AttachmentId::try_from(req.into_inner())?;
    let (a, mut file) = domain::open_attachment(&app.store, &app.blobs(), &p, &m, &id).await?;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        if tx
            .send(Ok(pb::DownloadAttachmentResponse {
                part: Some(pb::download_attachment_response::Part::Metadata(
                    attachment_pb(a),
                )),
            }))
            .await
            .is_err()
        {
            return;
        }
        let mut buf = vec![0u8; CHUNK];
        loop {
            match file.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => {
                    let msg = pb::DownloadAttachmentResponse {
                        part: Some(pb::download_attachment_response::Part::Chunk(
                            buf[..n].to_vec(),
                        )),
                    };
                    if tx.send(Ok(msg)).await.is_err() {
                        break;
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "reading a blob failed");
                    let _ = tx.send(Err(Status::internal("internal error"))).await;
                    break;
                }
            }
        }
    });
    Ok(Response::new(Box::pin(
        tokio_stream::wrappers::ReceiverStream::new(rx),
    )))
}

/// WatchInbox: the inbox notices of the caller's positions (or of those
/// named), with a heartbeat every 30 s, until the client or the server stops.
pub(super) async fn watch_inbox(
    app: &std::sync::Arc<App>,
    req: Request<pb::WatchInboxRequest>,
) -> Result<Response<BoxStream<pb::WatchInboxResponse>>, Status> {
    let p = principal(&req)?;
    let InboxPositions(asked) = InboxPositions::try_from(req.into_inner())?;
    let store = &app.store;
    let caller = Caller::cached(store, &p).await?;
    let mine = caller.visible_ids();
    let positions: Vec<String> = if asked.is_empty() {
        mine
    } else {
        asked.into_iter().filter(|id| mine.contains(id)).collect()
    };
    let mut rx = app.notices.subscribe();
    let (tx, out) = tokio::sync::mpsc::channel(64);
    let clock = store.clock().clone();
    let app = app.clone();
    let mut stopping = app.stopping.clone();
    tokio::spawn(async move {
        let mut heartbeat = tokio::time::interval(Duration::from_secs(30));
        heartbeat.tick().await;
        loop {
            let msg = tokio::select! {
                _ = tx.closed() => break,
                _ = stopping.wait_for(|s| *s) => break,
                _ = heartbeat.tick() => pb::WatchInboxResponse { kind: pb::InboxEventKind::Heartbeat as i32, event_time: Some(to_timestamp(clock.now_us())), ..Default::default() },
                n = rx.recv() => match n {
                    Ok(n) if positions.contains(&n.position_id) => pb::WatchInboxResponse {
                        kind: n.kind as i32,
                        position_id: n.position_id,
                        letter_id: n.letter_id,
                        disposition_id: n.disposition_id,
                        event_time: Some(to_timestamp(n.time_us)),
                    },
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
            };
            // A notice only while the caller still holds or serves its
            // position: a PLT/PLH window that ended, or a secretary no
            // longer serving, ends the position's notices.
            if !msg.position_id.is_empty() {
                match Caller::cached(&app.store, &p).await {
                    Ok(now) if now.visible_ids().contains(&msg.position_id) => {}
                    _ => continue,
                }
            }
            if tx.send(Ok(msg)).await.is_err() {
                break;
            }
        }
    });
    Ok(Response::new(Box::pin(
        tokio_stream::wrappers::ReceiverStream::new(out),
    )))
}
