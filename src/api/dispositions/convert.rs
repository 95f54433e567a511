//! DispositionService requests → the domain's inputs. Each conversion
//! destructures its request whole and validates it with `Violations`.

use crate::api::mutate::Mutation;
use crate::clock::from_timestamp;
use crate::domain::dispositions::{Box as Which, Confirmation, NewDisposition};
use crate::error::{Error, Violations};
use crate::proto::{self as pb, DispositionBox, DispositionStatus, Urgency};

// ---- typed inputs ----

/// ConfirmDisposition: the draft, its etag and its content as confirmed.
#[derive(Clone, Debug)]
pub struct Confirming {
    pub disposition_id: String,
    pub etag: String,
    pub confirmation: Confirmation,
}

/// CancelDisposition: the disposition at the version its etag names.
#[derive(Clone, Debug)]
pub struct DispositionAt {
    pub disposition_id: String,
    pub etag: String,
}

/// A disposition and the recipient position the caller acts through (empty:
/// the one they hold). MarkDispositionRead.
#[derive(Clone, Debug)]
pub struct DispositionAs {
    pub disposition_id: String,
    pub position_id: String,
}

/// RespondToDisposition: a follow-up report of a recipient.
#[derive(Clone, Debug)]
pub struct Report {
    pub disposition_id: String,
    pub position_id: String,
    /// IN_PROGRESS or DONE.
    pub status: crate::domain::lifecycle::RecipientStatus,
    pub note: String,
    pub attachment_ids: Vec<String>,
}

/// ListDispositions: a page of one box.
#[derive(Clone, Debug)]
pub struct DispositionQuery {
    pub which: Which,
    pub position_id: String,
    pub statuses: Vec<i16>,
    pub overdue_only: bool,
    pub page_size: i32,
    pub page_token: String,
}

/// GetDispositionTree: the letter whose dispositions are asked for.
#[derive(Clone, Debug)]
pub struct TreeOf(pub String);

// ---- validation rules ----

/// The content of a disposition: recipients, instructions, note, due time and
/// (when given) urgency; answers the due time in microseconds.
#[allow(clippy::too_many_arguments)]
fn content(
    v: &mut Violations,
    recipients: &[String],
    instructions: &[String],
    note: &str,
    due: &Option<prost_types::Timestamp>,
    urgency: Option<i32>,
    require: bool,
) -> Option<i64> {
    if (require && recipients.is_empty()) || recipients.len() > 50 {
        v.add("recipient_position_ids", "needs 1 to 50 positions");
    }
    for (i, r) in recipients.iter().enumerate() {
        v.uuid(&format!("recipient_position_ids[{i}]"), r, true);
    }
    if (require && instructions.is_empty()) || instructions.len() > 20 {
        v.add("instruction_codes", "needs 1 to 20 instructions");
    }
    for (i, c) in instructions.iter().enumerate() {
        v.len(&format!("instruction_codes[{i}]"), c, 1, 64);
    }
    v.len("note", note, 0, 4000);
    if let Some(u) = urgency
        && !matches!(Urgency::try_from(u), Ok(x) if x != Urgency::Unspecified)
    {
        v.add("urgency", "is required and must be a known value");
    }
    let due_us = due.as_ref().map(from_timestamp);
    if due_us == Some(None) {
        v.add("due_time", "is out of range");
    }
    due_us.flatten()
}

// ---- conversions ----

impl TryFrom<&pb::CreateDispositionRequest> for Mutation<NewDisposition> {
    type Error = Error;

    fn try_from(r: &pb::CreateDispositionRequest) -> Result<Self, Error> {
        let pb::CreateDispositionRequest {
            letter_id,
            parent_disposition_id,
            sender_position_id,
            recipient_position_ids,
            instruction_codes,
            note,
            due_time,
            urgency,
            request_id,
        } = r;
        let mut v = Violations::new();
        // A forward (with a parent) takes its letter from the parent.
        v.uuid("letter_id", letter_id, parent_disposition_id.is_empty());
        v.uuid("parent_disposition_id", parent_disposition_id, false);
        v.uuid("sender_position_id", sender_position_id, true);
        let due = content(
            &mut v,
            recipient_position_ids,
            instruction_codes,
            note,
            due_time,
            Some(*urgency),
            true,
        );
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: NewDisposition {
                letter_id: letter_id.clone(),
                parent_id: parent_disposition_id.clone(),
                sender_position_id: sender_position_id.clone(),
                recipients: recipient_position_ids.clone(),
                instructions: instruction_codes.clone(),
                note: note.clone(),
                due_us: due,
                urgency: *urgency as i16,
            },
        })
    }
}

impl TryFrom<&pb::DraftDispositionRequest> for Mutation<NewDisposition> {
    type Error = Error;

    fn try_from(r: &pb::DraftDispositionRequest) -> Result<Self, Error> {
        let pb::DraftDispositionRequest {
            letter_id,
            for_position_id,
            recipient_position_ids,
            instruction_codes,
            note,
            due_time,
            urgency,
            request_id,
        } = r;
        let mut v = Violations::new();
        v.uuid("letter_id", letter_id, true);
        v.uuid("for_position_id", for_position_id, true);
        let due = content(
            &mut v,
            recipient_position_ids,
            instruction_codes,
            note,
            due_time,
            Some(*urgency),
            true,
        );
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: NewDisposition {
                letter_id: letter_id.clone(),
                parent_id: String::new(),
                sender_position_id: for_position_id.clone(),
                recipients: recipient_position_ids.clone(),
                instructions: instruction_codes.clone(),
                note: note.clone(),
                due_us: due,
                urgency: *urgency as i16,
            },
        })
    }
}

impl TryFrom<&pb::ConfirmDispositionRequest> for Mutation<Confirming> {
    type Error = Error;

    fn try_from(r: &pb::ConfirmDispositionRequest) -> Result<Self, Error> {
        let pb::ConfirmDispositionRequest {
            disposition_id,
            etag,
            recipient_position_ids,
            instruction_codes,
            note,
            due_time,
            request_id,
        } = r;
        let mut v = Violations::new();
        v.uuid("disposition_id", disposition_id, true);
        v.len("etag", etag, 1, 64);
        let due = content(
            &mut v,
            recipient_position_ids,
            instruction_codes,
            note,
            due_time,
            None,
            false,
        );
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: Confirming {
                disposition_id: disposition_id.clone(),
                etag: etag.clone(),
                confirmation: Confirmation {
                    recipients: recipient_position_ids.clone(),
                    instructions: instruction_codes.clone(),
                    note: note.clone(),
                    due_us: due,
                },
            },
        })
    }
}

impl TryFrom<&pb::CancelDispositionRequest> for Mutation<DispositionAt> {
    type Error = Error;

    fn try_from(r: &pb::CancelDispositionRequest) -> Result<Self, Error> {
        let pb::CancelDispositionRequest {
            disposition_id,
            etag,
            reason,
            request_id,
        } = r;
        let mut v = Violations::new();
        v.uuid("disposition_id", disposition_id, true);
        v.len("etag", etag, 1, 64);
        // Validated only: the domain keeps no reason for a cancellation.
        v.len("reason", reason, 0, 1000);
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: DispositionAt {
                disposition_id: disposition_id.clone(),
                etag: etag.clone(),
            },
        })
    }
}

impl TryFrom<&pb::MarkDispositionReadRequest> for Mutation<DispositionAs> {
    type Error = Error;

    fn try_from(r: &pb::MarkDispositionReadRequest) -> Result<Self, Error> {
        let pb::MarkDispositionReadRequest {
            disposition_id,
            position_id,
        } = r;
        let mut v = Violations::new();
        v.uuid("disposition_id", disposition_id, true);
        v.uuid("position_id", position_id, false);
        v.finish()?;
        Ok(Mutation {
            // MarkDispositionRead has no request_id.
            request_id: String::new(),
            input: DispositionAs {
                disposition_id: disposition_id.clone(),
                position_id: position_id.clone(),
            },
        })
    }
}

impl TryFrom<&pb::RespondToDispositionRequest> for Mutation<Report> {
    type Error = Error;

    fn try_from(r: &pb::RespondToDispositionRequest) -> Result<Self, Error> {
        let pb::RespondToDispositionRequest {
            disposition_id,
            position_id,
            status,
            note,
            attachment_ids,
            request_id,
        } = r;
        let mut v = Violations::new();
        v.uuid("disposition_id", disposition_id, true);
        v.uuid("position_id", position_id, false);
        if !matches!(
            DispositionStatus::try_from(*status),
            Ok(DispositionStatus::InProgress | DispositionStatus::Done)
        ) {
            v.add("status", "must be IN_PROGRESS or DONE");
        }
        v.len("note", note, 1, 4000);
        if attachment_ids.len() > 20 {
            v.add("attachment_ids", "at most 20");
        }
        for (i, a) in attachment_ids.iter().enumerate() {
            v.uuid(&format!("attachment_ids[{i}]"), a, true);
        }
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: Report {
                disposition_id: disposition_id.clone(),
                position_id: position_id.clone(),
                status: if *status == DispositionStatus::Done as i32 {
                    crate::domain::lifecycle::RecipientStatus::Done
                } else {
                    crate::domain::lifecycle::RecipientStatus::InProgress
                },
                note: note.clone(),
                attachment_ids: attachment_ids.clone(),
            },
        })
    }
}

impl TryFrom<pb::ListDispositionsRequest> for DispositionQuery {
    type Error = Error;

    fn try_from(r: pb::ListDispositionsRequest) -> Result<Self, Error> {
        let pb::ListDispositionsRequest {
            r#box,
            position_id,
            statuses,
            overdue_only,
            page_size,
            page_token,
        } = r;
        let mut v = Violations::new();
        let which = match DispositionBox::try_from(r#box) {
            Ok(DispositionBox::Received) => Which::Received,
            Ok(DispositionBox::Sent) => Which::Sent,
            Ok(DispositionBox::Drafts) => Which::Drafts,
            _ => {
                v.add("box", "must be RECEIVED, SENT or DRAFTS");
                Which::Received
            }
        };
        v.uuid("position_id", &position_id, false);
        for s in &statuses {
            if !matches!(DispositionStatus::try_from(*s), Ok(x) if x != DispositionStatus::Unspecified)
            {
                v.add("statuses", "must be known statuses");
            }
        }
        v.finish()?;
        Ok(DispositionQuery {
            which,
            position_id,
            statuses: statuses.iter().map(|s| *s as i16).collect(),
            overdue_only,
            page_size,
            page_token,
        })
    }
}

impl TryFrom<pb::GetDispositionTreeRequest> for TreeOf {
    type Error = Error;

    fn try_from(r: pb::GetDispositionTreeRequest) -> Result<Self, Error> {
        let pb::GetDispositionTreeRequest { letter_id } = r;
        let mut v = Violations::new();
        v.uuid("letter_id", &letter_id, true);
        v.finish()?;
        Ok(TreeOf(letter_id))
    }
}

impl TryFrom<pb::ListInstructionsRequest> for () {
    type Error = Error;

    fn try_from(r: pb::ListInstructionsRequest) -> Result<Self, Error> {
        let pb::ListInstructionsRequest {} = r;
        Ok(())
    }
}
