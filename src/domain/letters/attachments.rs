//! Attachment contents: an upload written to the blob directory as its bytes
//! arrive and checked against what its metadata announced, and the content of
//! an attachment opened for a caller who may read its letter.

use super::*;
use crate::store::attachments as aq;
use crate::store::blobs::{BlobWriter, Blobs};

/// How many first bytes of an upload tell its media type.
const HEAD: usize = 8192;

/// An attachment as its upload announces it (validated by the handler).
#[derive(Clone, Debug)]
pub struct NewAttachment {
    pub letter_id: String,
    pub file_name: String,
    /// Bytes announced; positive.
    pub size_bytes: u64,
    /// SHA-256 announced, 64 hex digits.
    pub sha256: String,
    pub is_scan: bool,
}

/// An upload under way: its bytes go to a temporary blob.
pub struct Upload {
    caller: Caller,
    announced: NewAttachment,
    blob: BlobWriter,
    head: Vec<u8>,
}

/// An upload whose content is stored under its SHA-256: the row to record
/// with [`add_attachment`], for the caller who uploaded it.
#[derive(Clone, Debug)]
pub struct Uploaded {
    pub caller: Caller,
    pub attachment: AttachmentRecord,
}

/// Begins an upload before its bytes are received: refuses more than `limit`
/// bytes (ATTACHMENT_TOO_LARGE) and a caller who may not add an attachment to
/// the letter as it is now ([`check_attachment_upload`]), then opens a
/// temporary blob.
pub async fn begin_upload(
    store: &Store,
    blobs: &Blobs,
    limit: u64,
    p: &Principal,
    announced: NewAttachment,
) -> Result<Upload> {
    if announced.size_bytes > limit {
        return Err(Error::rejected(
            Reason::AttachmentTooLarge,
            format!("attachments may have at most {limit} bytes"),
        ));
    }
    let caller = Caller::cached(store, p).await?;
    check_attachment_upload(store, p, &caller, &announced.letter_id).await?;
    let blob = blobs.writer().await.map_err(internal)?;
    Ok(Upload {
        caller,
        announced,
        blob,
        head: Vec::new(),
    })
}

impl Upload {
    /// Appends a chunk; more bytes than announced are refused.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        if self.blob.size() + chunk.len() as u64 > self.announced.size_bytes {
            return Err(Error::rejected(
                Reason::AttachmentTooLarge,
                "more bytes than metadata.size_bytes announced",
            ));
        }
        if self.head.len() < HEAD {
            self.head
                .extend_from_slice(&chunk[..chunk.len().min(HEAD - self.head.len())]);
        }
        self.blob.write(chunk).await.map_err(internal)
    }

    /// Abandons the upload and its temporary blob.
    pub async fn discard(self) {
        self.blob.discard().await;
    }

    /// Ends the upload: the content must have the size and the SHA-256
    /// announced. It is then stored under its SHA-256, and its media type is
    /// told from its first bytes.
    pub async fn finish(self, store: &Store, p: &Principal) -> Result<Uploaded> {
        let Upload {
            caller,
            announced,
            blob,
            head,
        } = self;
        if blob.size() != announced.size_bytes {
            blob.discard().await;
            return Err(Error::invalid(
                "metadata.size_bytes",
                "does not match the bytes sent",
            ));
        }
        let (sha, size) = blob.finish().await.map_err(internal)?;
        if !sha.eq_ignore_ascii_case(&announced.sha256) {
            return Err(Error::rejected(
                Reason::ChecksumMismatch,
                "the content's SHA-256 differs from metadata.sha256",
            ));
        }
        let media_type = infer::get(&head)
            .map(|t| t.mime_type().to_owned())
            .unwrap_or_else(|| {
                if std::str::from_utf8(&head).is_ok() {
                    "text/plain".into()
                } else {
                    "application/octet-stream".into()
                }
            });
        let NewAttachment {
            letter_id,
            file_name,
            // Checked above against the content, whose own are recorded.
            size_bytes: _,
            sha256: _,
            is_scan,
        } = announced;
        let attachment = AttachmentRecord {
            id: uuid::Uuid::new_v4().to_string(),
            letter_id,
            agency_id: p.agency_id.clone(),
            file_name,
            media_type,
            size_bytes: size as i64,
            sha256: sha,
            is_scan,
            uploaded_by_user_id: p.user_id.clone(),
            created_at_us: store.clock().now_us(),
        };
        Ok(Uploaded { caller, attachment })
    }
}

/// An attachment and its content, for a caller who may read its letter (a
/// read audited for a secret letter, see [`read_content`]); an attachment of
/// a letter the caller may not see is ATTACHMENT_NOT_FOUND, one destroyed
/// under a disposal CONTENT_DESTROYED.
pub async fn open_attachment(
    store: &Store,
    blobs: &Blobs,
    p: &Principal,
    meta: &RequestMeta,
    id: &str,
) -> Result<(AttachmentRecord, tokio::fs::File)> {
    let not_found = || Error::rejected(Reason::AttachmentNotFound, "attachment not found");
    let a = aq::get(store, &p.agency_id, id)
        .await?
        .ok_or_else(not_found)?;
    let letter = match read_content(store, p, meta, &a.letter_id, "attachment").await {
        Ok(l) => l,
        Err(Error::Rejected { .. }) => return Err(not_found()),
        Err(e) => return Err(e),
    };
    if letter.state == LetterState::Destroyed {
        return Err(Error::rejected(
            Reason::ContentDestroyed,
            "the attachment was destroyed under an approved disposal; its hash remains",
        ));
    }
    let file = blobs.open(&a.sha256).await.map_err(internal)?;
    Ok((a, file))
}

fn internal(e: std::io::Error) -> Error {
    Error::Internal(e.to_string())
}
