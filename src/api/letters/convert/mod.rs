//! LetterService requests → the domain's inputs. Each conversion destructures
//! its request whole (a field added to the contract does not compile until it
//! is converted or set aside here) and validates it with `Violations`.

use crate::api::mutate::Mutation;
use crate::clock::from_timestamp;
use crate::domain::letters::{BoxFilter, DraftChanges, NewAttachment};
use crate::error::{Error, Violations};
use crate::proto::{self as pb, Folder, LetterType, Urgency};

mod drafts;

// ---- typed inputs ----

/// A letter and the position the caller reads or acts through (empty: any
/// of theirs). GetLetter, MarkRead.
#[derive(Clone, Debug)]
pub struct LetterAs {
    pub letter_id: String,
    pub position_id: String,
}

/// A letter at the version its etag names. DeleteDraft, SubmitLetter.
#[derive(Clone, Debug)]
pub struct LetterAt {
    pub letter_id: String,
    pub etag: String,
}

/// A letter at a version, with a text: the comment of ApproveLetter and
/// ReturnLetter, the reason of WithdrawLetter.
#[derive(Clone, Debug)]
pub struct LetterNote {
    pub letter_id: String,
    pub etag: String,
    pub note: String,
}

/// UpdateDraft: the draft, its etag and the fields the mask names.
#[derive(Clone, Debug)]
pub struct DraftEdit {
    pub letter_id: String,
    pub etag: String,
    pub changes: DraftChanges,
}

/// ListLetters: a folder page.
#[derive(Clone, Debug)]
pub struct FolderQuery {
    pub folder: crate::domain::lifecycle::Folder,
    pub position_id: String,
    pub filter: BoxFilter,
    pub page_size: i32,
    pub page_token: String,
    /// The full view (route, addressees, receipts, attachments).
    pub full: bool,
}

/// A page of something of one letter. ListVersions, ListComments.
#[derive(Clone, Debug)]
pub struct LetterPage {
    pub letter_id: String,
    pub page_size: i32,
    pub page_token: String,
}

/// SetRoute.
#[derive(Clone, Debug)]
pub struct Route {
    pub letter_id: String,
    pub etag: String,
    pub reviewer_position_ids: Vec<String>,
    pub signer_position_id: String,
}

/// AddComment.
#[derive(Clone, Debug)]
pub struct NewComment {
    pub letter_id: String,
    pub version: i32,
    pub text: String,
}

/// SignLetter: the letter at a version and the passphrase of the signer's key.
#[derive(Clone, Debug)]
pub struct Signing {
    pub letter_id: String,
    pub etag: String,
    pub passphrase: String,
}

/// A letter named by its id alone. GetSignedDocument.
#[derive(Clone, Debug)]
pub struct LetterId(pub String);

/// An attachment named by its id. DownloadAttachment.
#[derive(Clone, Debug)]
pub struct AttachmentId(pub String);

/// The positions whose inbox notices a watch asks for (empty: all the
/// caller's). WatchInbox.
#[derive(Clone, Debug)]
pub struct InboxPositions(pub Vec<String>);

/// The first message of an upload: its metadata (the upload's fingerprint).
#[derive(Debug)]
pub struct UploadHead(pub pb::UploadAttachmentMetadata);

/// A later message of an upload: a chunk of the content.
#[derive(Debug)]
pub struct UploadChunk(pub Vec<u8>);

// ---- validation rules ----

/// An enum field that must be set to one of its known values.
fn enum_set<T: TryFrom<i32>>(v: &mut Violations, field: &str, raw: i32, unspecified: i32) {
    if raw == unspecified || T::try_from(raw).is_err() {
        v.add(field, "is required and must be a known value");
    }
}

/// The rule of an `etag` field.
pub(in crate::api) fn etag_rule(v: &mut Violations, etag: &str) {
    v.len("etag", etag, 1, 64);
}

/// `letter_id` and `etag`, the pair most letter changes name.
fn letter_at(v: &mut Violations, letter_id: &str, etag: &str) {
    v.uuid("letter_id", letter_id, true);
    etag_rule(v, etag);
}

// ---- conversions ----

impl TryFrom<pb::GetLetterRequest> for LetterAs {
    type Error = Error;

    fn try_from(r: pb::GetLetterRequest) -> Result<Self, Error> {
        let pb::GetLetterRequest {
            letter_id,
            acting_position_id,
        } = r;
        let mut v = Violations::new();
        v.uuid("letter_id", &letter_id, true);
        v.uuid("acting_position_id", &acting_position_id, false);
        v.finish()?;
        Ok(LetterAs {
            letter_id,
            position_id: acting_position_id,
        })
    }
}

impl TryFrom<&pb::DeleteDraftRequest> for Mutation<LetterAt> {
    type Error = Error;

    fn try_from(r: &pb::DeleteDraftRequest) -> Result<Self, Error> {
        let pb::DeleteDraftRequest { letter_id, etag } = r;
        let mut v = Violations::new();
        letter_at(&mut v, letter_id, etag);
        v.finish()?;
        Ok(Mutation {
            // DeleteDraft has no request_id.
            request_id: String::new(),
            input: LetterAt {
                letter_id: letter_id.clone(),
                etag: etag.clone(),
            },
        })
    }
}

impl TryFrom<pb::ListLettersRequest> for FolderQuery {
    type Error = Error;

    fn try_from(r: pb::ListLettersRequest) -> Result<Self, Error> {
        let pb::ListLettersRequest {
            folder,
            position_id,
            types,
            urgencies,
            query,
            unread_only,
            create_time_from,
            create_time_to,
            page_size,
            page_token,
            view,
        } = r;
        let mut v = Violations::new();
        enum_set::<Folder>(&mut v, "folder", folder, 0);
        v.uuid("position_id", &position_id, false);
        v.len("query", &query, 0, 200);
        for t in &types {
            enum_set::<LetterType>(&mut v, "types", *t, 0);
        }
        for u in &urgencies {
            enum_set::<Urgency>(&mut v, "urgencies", *u, 0);
        }
        let from = create_time_from.as_ref().map(from_timestamp);
        let to = create_time_to.as_ref().map(from_timestamp);
        if from == Some(None) || to == Some(None) {
            v.add("create_time_from", "is out of range");
        }
        let full = match pb::LetterView::try_from(view) {
            Ok(pb::LetterView::Basic) => false,
            Ok(pb::LetterView::Unspecified | pb::LetterView::Full) => true,
            Err(_) => {
                v.add("view", "must be a known value");
                true
            }
        };
        v.finish()?;
        Ok(FolderQuery {
            folder: crate::domain::lifecycle::Folder::try_from(
                i16::try_from(folder).unwrap_or_default(),
            )?,
            position_id,
            filter: BoxFilter {
                types: types.iter().map(|t| *t as i16).collect(),
                urgencies: urgencies.iter().map(|u| *u as i16).collect(),
                query,
                unread_only,
                created_from_us: from.flatten(),
                created_to_us: to.flatten(),
            },
            page_size,
            page_token,
            full,
        })
    }
}

impl TryFrom<pb::ListVersionsRequest> for LetterPage {
    type Error = Error;

    fn try_from(r: pb::ListVersionsRequest) -> Result<Self, Error> {
        let pb::ListVersionsRequest {
            letter_id,
            page_size,
            page_token,
        } = r;
        letter_page(letter_id, page_size, page_token)
    }
}

impl TryFrom<pb::ListCommentsRequest> for LetterPage {
    type Error = Error;

    fn try_from(r: pb::ListCommentsRequest) -> Result<Self, Error> {
        let pb::ListCommentsRequest {
            letter_id,
            page_size,
            page_token,
        } = r;
        letter_page(letter_id, page_size, page_token)
    }
}

fn letter_page(letter_id: String, page_size: i32, page_token: String) -> Result<LetterPage, Error> {
    let mut v = Violations::new();
    v.uuid("letter_id", &letter_id, true);
    v.finish()?;
    Ok(LetterPage {
        letter_id,
        page_size,
        page_token,
    })
}

impl TryFrom<&pb::SetRouteRequest> for Mutation<Route> {
    type Error = Error;

    fn try_from(r: &pb::SetRouteRequest) -> Result<Self, Error> {
        let pb::SetRouteRequest {
            letter_id,
            reviewer_position_ids,
            signer_position_id,
            etag,
            request_id,
        } = r;
        let mut v = Violations::new();
        letter_at(&mut v, letter_id, etag);
        if reviewer_position_ids.len() > 20 {
            v.add("reviewer_position_ids", "at most 20 reviewers");
        }
        for (i, id) in reviewer_position_ids.iter().enumerate() {
            v.uuid(&format!("reviewer_position_ids[{i}]"), id, true);
        }
        v.uuid("signer_position_id", signer_position_id, true);
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: Route {
                letter_id: letter_id.clone(),
                etag: etag.clone(),
                reviewer_position_ids: reviewer_position_ids.clone(),
                signer_position_id: signer_position_id.clone(),
            },
        })
    }
}

impl TryFrom<&pb::SubmitLetterRequest> for Mutation<LetterAt> {
    type Error = Error;

    fn try_from(r: &pb::SubmitLetterRequest) -> Result<Self, Error> {
        let pb::SubmitLetterRequest {
            letter_id,
            etag,
            request_id,
        } = r;
        let mut v = Violations::new();
        letter_at(&mut v, letter_id, etag);
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: LetterAt {
                letter_id: letter_id.clone(),
                etag: etag.clone(),
            },
        })
    }
}

/// A letter, its etag and a text of `min` to `max` characters named `field`.
fn letter_note(
    letter_id: &str,
    etag: &str,
    field: &str,
    note: &str,
    (min, max): (usize, usize),
    request_id: &str,
) -> Result<Mutation<LetterNote>, Error> {
    let mut v = Violations::new();
    letter_at(&mut v, letter_id, etag);
    v.len(field, note, min, max);
    v.finish()?;
    Ok(Mutation {
        request_id: request_id.to_owned(),
        input: LetterNote {
            letter_id: letter_id.to_owned(),
            etag: etag.to_owned(),
            note: note.to_owned(),
        },
    })
}

impl TryFrom<&pb::ApproveLetterRequest> for Mutation<LetterNote> {
    type Error = Error;

    fn try_from(r: &pb::ApproveLetterRequest) -> Result<Self, Error> {
        let pb::ApproveLetterRequest {
            letter_id,
            etag,
            comment,
            request_id,
        } = r;
        letter_note(letter_id, etag, "comment", comment, (0, 4000), request_id)
    }
}

impl TryFrom<&pb::ReturnLetterRequest> for Mutation<LetterNote> {
    type Error = Error;

    fn try_from(r: &pb::ReturnLetterRequest) -> Result<Self, Error> {
        let pb::ReturnLetterRequest {
            letter_id,
            etag,
            comment,
            request_id,
        } = r;
        letter_note(letter_id, etag, "comment", comment, (1, 4000), request_id)
    }
}

impl TryFrom<&pb::WithdrawLetterRequest> for Mutation<LetterNote> {
    type Error = Error;

    fn try_from(r: &pb::WithdrawLetterRequest) -> Result<Self, Error> {
        let pb::WithdrawLetterRequest {
            letter_id,
            etag,
            reason,
            request_id,
        } = r;
        letter_note(letter_id, etag, "reason", reason, (0, 1000), request_id)
    }
}

impl TryFrom<&pb::AddCommentRequest> for Mutation<NewComment> {
    type Error = Error;

    fn try_from(r: &pb::AddCommentRequest) -> Result<Self, Error> {
        let pb::AddCommentRequest {
            letter_id,
            version,
            text,
            request_id,
        } = r;
        let mut v = Violations::new();
        v.uuid("letter_id", letter_id, true);
        v.len("text", text, 1, 4000);
        if *version < 0 {
            v.add("version", "must not be negative");
        }
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: NewComment {
                letter_id: letter_id.clone(),
                version: *version,
                text: text.clone(),
            },
        })
    }
}

impl TryFrom<&pb::SignLetterRequest> for Mutation<Signing> {
    type Error = Error;

    fn try_from(r: &pb::SignLetterRequest) -> Result<Self, Error> {
        let pb::SignLetterRequest {
            letter_id,
            etag,
            passphrase,
            request_id,
        } = r;
        let mut v = Violations::new();
        letter_at(&mut v, letter_id, etag);
        if passphrase.is_empty() || passphrase.len() > 1024 {
            v.add("passphrase", "must be 1 to 1024 bytes long");
        }
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: Signing {
                letter_id: letter_id.clone(),
                etag: etag.clone(),
                passphrase: passphrase.clone(),
            },
        })
    }
}

impl TryFrom<&pb::MarkReadRequest> for Mutation<LetterAs> {
    type Error = Error;

    fn try_from(r: &pb::MarkReadRequest) -> Result<Self, Error> {
        let pb::MarkReadRequest {
            letter_id,
            position_id,
        } = r;
        let mut v = Violations::new();
        v.uuid("letter_id", letter_id, true);
        v.uuid("position_id", position_id, false);
        v.finish()?;
        Ok(Mutation {
            // MarkRead has no request_id.
            request_id: String::new(),
            input: LetterAs {
                letter_id: letter_id.clone(),
                position_id: position_id.clone(),
            },
        })
    }
}

impl TryFrom<pb::UploadAttachmentRequest> for UploadHead {
    type Error = Error;

    fn try_from(r: pb::UploadAttachmentRequest) -> Result<Self, Error> {
        let pb::UploadAttachmentRequest { part } = r;
        match part {
            Some(pb::upload_attachment_request::Part::Metadata(md)) => Ok(UploadHead(md)),
            Some(pb::upload_attachment_request::Part::Chunk(_)) | None => Err(Error::invalid(
                "metadata",
                "the first message must carry the metadata",
            )),
        }
    }
}

impl TryFrom<pb::UploadAttachmentRequest> for UploadChunk {
    type Error = Error;

    fn try_from(r: pb::UploadAttachmentRequest) -> Result<Self, Error> {
        let pb::UploadAttachmentRequest { part } = r;
        match part {
            Some(pb::upload_attachment_request::Part::Chunk(chunk)) => Ok(UploadChunk(chunk)),
            Some(pb::upload_attachment_request::Part::Metadata(_)) | None => Err(Error::invalid(
                "chunk",
                "only the first message may carry metadata",
            )),
        }
    }
}

impl TryFrom<&pb::UploadAttachmentMetadata> for Mutation<NewAttachment> {
    type Error = Error;

    fn try_from(md: &pb::UploadAttachmentMetadata) -> Result<Self, Error> {
        let pb::UploadAttachmentMetadata {
            letter_id,
            file_name,
            // The media type is told from the content, not taken from the client.
            media_type: _,
            size_bytes,
            sha256,
            is_scan,
            request_id,
        } = md;
        let mut v = Violations::new();
        v.uuid("metadata.letter_id", letter_id, true);
        v.len("metadata.file_name", file_name, 1, 255);
        if file_name.contains(['/', '\\', '\0']) {
            v.add("metadata.file_name", "must not contain path separators");
        }
        if *size_bytes <= 0 {
            v.add("metadata.size_bytes", "must be positive");
        }
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            v.add("metadata.sha256", "must be 64 hex digits");
        }
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: NewAttachment {
                letter_id: letter_id.clone(),
                file_name: file_name.clone(),
                size_bytes: u64::try_from(*size_bytes).unwrap_or(0),
                sha256: sha256.clone(),
                is_scan: *is_scan,
            },
        })
    }
}

impl TryFrom<pb::DownloadAttachmentRequest> for AttachmentId {
    type Error = Error;

    fn try_from(r: pb::DownloadAttachmentRequest) -> Result<Self, Error> {
        let pb::DownloadAttachmentRequest { attachment_id } = r;
        let mut v = Violations::new();
        v.uuid("attachment_id", &attachment_id, true);
        v.finish()?;
        Ok(AttachmentId(attachment_id))
    }
}

impl TryFrom<pb::GetSignedDocumentRequest> for LetterId {
    type Error = Error;

    fn try_from(r: pb::GetSignedDocumentRequest) -> Result<Self, Error> {
        let pb::GetSignedDocumentRequest { letter_id } = r;
        let mut v = Violations::new();
        v.uuid("letter_id", &letter_id, true);
        v.finish()?;
        Ok(LetterId(letter_id))
    }
}

impl TryFrom<pb::WatchInboxRequest> for InboxPositions {
    type Error = Error;

    fn try_from(r: pb::WatchInboxRequest) -> Result<Self, Error> {
        let pb::WatchInboxRequest { position_ids } = r;
        let mut v = Violations::new();
        for (i, id) in position_ids.iter().enumerate() {
            v.uuid(&format!("position_ids[{i}]"), id, true);
        }
        v.finish()?;
        Ok(InboxPositions(position_ids))
    }
}
