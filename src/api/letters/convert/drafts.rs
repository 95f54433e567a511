//! Conversions of the requests that carry a draft's content: CreateDraft,
//! UpdateDraft (with the `pb::Letter` it carries) and RegisterIncomingLetter.

use super::{DraftEdit, enum_set, etag_rule};
use crate::api::mask_paths;
use crate::api::mutate::Mutation;
use crate::clock::from_timestamp;
use crate::domain::letters::{
    self as domain, DraftChanges, DraftInput, External, IncomingInput, Target,
};
use crate::error::{Error, Violations};
use crate::proto::{self as pb, LetterType, SecurityLevel, Urgency};

const MAX_BODY: usize = 1024 * 1024;

// ---- validation rules ----

fn targets(v: &mut Violations, field: &str, list: &[pb::Addressee]) -> Vec<Target> {
    if list.len() > 100 {
        v.add(field, "at most 100 addressees");
    }
    let mut out = Vec::new();
    for (i, a) in list.iter().enumerate() {
        let f = format!("{field}[{i}]");
        let pb::Addressee {
            target,
            // Set by the server in answers; not read from a request.
            display_name: _,
            read_time: _,
            dispatch: _,
        } = a;
        match target {
            Some(pb::addressee::Target::PositionId(id)) => {
                v.uuid(&format!("{f}.position_id"), id, true);
                out.push(Target::Position(id.clone()));
            }
            Some(pb::addressee::Target::External(e)) => {
                out.push(Target::External(external(v, &format!("{f}.external"), e)));
            }
            None => v.add(&f, "needs a position_id or an external addressee"),
        }
    }
    out
}

/// An external addressee of a draft, validated.
fn external(v: &mut Violations, f: &str, e: &pb::ExternalAddressee) -> External {
    let pb::ExternalAddressee {
        organisation,
        attention,
        address,
        email,
        exchange_agency_id,
        exchange_position_id,
    } = e;
    v.len(&format!("{f}.organisation"), organisation, 1, 200);
    v.len(&format!("{f}.attention"), attention, 0, 200);
    v.len(&format!("{f}.address"), address, 0, 500);
    v.len(&format!("{f}.email"), email, 0, 254);
    v.len(
        &format!("{f}.exchange_agency_id"),
        exchange_agency_id,
        0,
        64,
    );
    if exchange_agency_id.is_empty() {
        if !exchange_position_id.is_empty() {
            v.add(
                &format!("{f}.exchange_position_id"),
                "is set only with exchange_agency_id",
            );
        }
    } else {
        v.uuid(
            &format!("{f}.exchange_position_id"),
            exchange_position_id,
            true,
        );
    }
    External {
        organisation: organisation.clone(),
        attention: attention.clone(),
        address: address.clone(),
        email: email.clone(),
        exchange_agency_id: exchange_agency_id.clone(),
        exchange_position_id: exchange_position_id.clone(),
    }
}

fn subject_rule(v: &mut Violations, field: &str, t: i32, subject: &str) {
    let lt = LetterType::try_from(t).unwrap_or(LetterType::Unspecified);
    if domain::has_no_subject(lt) {
        if !subject.is_empty() {
            v.add(field, "this letter type has no subject line");
        }
    } else {
        v.len(field, subject, 1, 500);
    }
}

fn body_rule(v: &mut Violations, field: &str, body: &str) {
    if body.len() > MAX_BODY {
        v.add(field, "must be at most 1 MiB");
    }
}

// ---- conversions ----

impl TryFrom<&pb::CreateDraftRequest> for Mutation<DraftInput> {
    type Error = Error;

    fn try_from(r: &pb::CreateDraftRequest) -> Result<Self, Error> {
        let pb::CreateDraftRequest {
            drafting_position_id,
            r#type,
            subject,
            body,
            security_level,
            urgency,
            classification_code,
            recipients,
            carbon_copies,
            reference_letter_id,
            request_id,
        } = r;
        let mut v = Violations::new();
        v.uuid("drafting_position_id", drafting_position_id, true);
        enum_set::<LetterType>(&mut v, "type", *r#type, 0);
        subject_rule(&mut v, "subject", *r#type, subject);
        body_rule(&mut v, "body", body);
        enum_set::<SecurityLevel>(&mut v, "security_level", *security_level, 0);
        enum_set::<Urgency>(&mut v, "urgency", *urgency, 0);
        v.len("classification_code", classification_code, 1, 64);
        let recipients = targets(&mut v, "recipients", recipients);
        let carbon_copies = targets(&mut v, "carbon_copies", carbon_copies);
        v.uuid("reference_letter_id", reference_letter_id, false);
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: DraftInput {
                drafting_position_id: drafting_position_id.clone(),
                letter_type: LetterType::try_from(*r#type).unwrap_or(LetterType::Lainnya),
                subject: subject.clone(),
                body: body.clone(),
                security: SecurityLevel::try_from(*security_level).unwrap_or(SecurityLevel::Biasa),
                urgency: *urgency as i16,
                classification_code: classification_code.clone(),
                recipients,
                carbon_copies,
                reference_letter_id: reference_letter_id.clone(),
            },
        })
    }
}

/// The fields UpdateDraft may change.
const DRAFT_FIELDS: [&str; 9] = [
    "subject",
    "body",
    "security_level",
    "urgency",
    "classification_code",
    "recipients",
    "carbon_copies",
    "type",
    "reference_letter_id",
];

impl TryFrom<&pb::UpdateDraftRequest> for Mutation<DraftEdit> {
    type Error = Error;

    fn try_from(r: &pb::UpdateDraftRequest) -> Result<Self, Error> {
        let pb::UpdateDraftRequest {
            letter,
            update_mask,
            etag,
            request_id,
        } = r;
        let none = pb::Letter::default();
        let pb::Letter {
            id,
            etag: letter_etag,
            r#type,
            subject,
            body,
            security_level,
            urgency,
            classification_code,
            recipients,
            carbon_copies,
            reference_letter_id,
            // Set by the server; UpdateDraft changes none of them.
            agency_id: _,
            direction: _,
            state: _,
            drafting_position_id: _,
            drafted_by: _,
            route: _,
            current_step: _,
            version: _,
            number: _,
            sign_time: _,
            signed_by: _,
            verification_code: _,
            attachments: _,
            incoming: _,
            create_time: _,
            update_time: _,
            read: _,
        } = letter.as_ref().unwrap_or(&none);
        let mut v = Violations::new();
        v.uuid("letter.id", id, true);
        etag_rule(&mut v, etag);
        if !letter_etag.is_empty() && letter_etag != etag {
            v.add("letter.etag", "must be empty or equal to etag");
        }
        let paths = mask_paths(update_mask);
        if paths.is_empty() {
            v.add("update_mask", "names no field to change");
        }
        let mut ch = DraftChanges::default();
        for path in paths {
            match path.as_str() {
                "subject" => {
                    // Required or forbidden by the letter's type, which the
                    // domain checks after the change.
                    v.len("letter.subject", subject, 0, 500);
                    ch.subject = Some(subject.clone());
                }
                "body" => {
                    body_rule(&mut v, "letter.body", body);
                    ch.body = Some(body.clone());
                }
                "security_level" => {
                    enum_set::<SecurityLevel>(&mut v, "letter.security_level", *security_level, 0);
                    ch.security = SecurityLevel::try_from(*security_level).ok();
                }
                "urgency" => {
                    enum_set::<Urgency>(&mut v, "letter.urgency", *urgency, 0);
                    ch.urgency = Some(*urgency as i16);
                }
                "classification_code" => {
                    v.len("letter.classification_code", classification_code, 1, 64);
                    ch.classification_code = Some(classification_code.clone());
                }
                "recipients" => {
                    ch.recipients = Some(targets(&mut v, "letter.recipients", recipients))
                }
                "carbon_copies" => {
                    ch.carbon_copies = Some(targets(&mut v, "letter.carbon_copies", carbon_copies))
                }
                "type" => {
                    enum_set::<LetterType>(&mut v, "letter.type", *r#type, 0);
                    ch.letter_type = LetterType::try_from(*r#type).ok();
                }
                "reference_letter_id" => {
                    v.uuid("letter.reference_letter_id", reference_letter_id, false);
                    ch.reference_letter_id = Some(reference_letter_id.clone());
                }
                other => v.add(
                    "update_mask",
                    format!(
                        "{other:?} cannot be changed (allowed: {})",
                        DRAFT_FIELDS.join(", ")
                    ),
                ),
            }
        }
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: DraftEdit {
                letter_id: id.clone(),
                etag: etag.clone(),
                changes: ch,
            },
        })
    }
}

impl TryFrom<&pb::RegisterIncomingLetterRequest> for Mutation<IncomingInput> {
    type Error = Error;

    fn try_from(r: &pb::RegisterIncomingLetterRequest) -> Result<Self, Error> {
        let pb::RegisterIncomingLetterRequest {
            r#type,
            subject,
            body,
            security_level,
            urgency,
            classification_code,
            recipient_position_ids,
            carbon_copy_position_ids,
            sender,
            sender_number,
            letter_date,
            receive_time,
            request_id,
        } = r;
        let mut v = Violations::new();
        enum_set::<LetterType>(&mut v, "type", *r#type, 0);
        v.len("subject", subject, 0, 500);
        body_rule(&mut v, "body", body);
        enum_set::<SecurityLevel>(&mut v, "security_level", *security_level, 0);
        enum_set::<Urgency>(&mut v, "urgency", *urgency, 0);
        v.len("classification_code", classification_code, 1, 64);
        if recipient_position_ids.is_empty() || recipient_position_ids.len() > 100 {
            v.add("recipient_position_ids", "needs 1 to 100 positions");
        }
        for (i, id) in recipient_position_ids
            .iter()
            .chain(carbon_copy_position_ids.iter())
            .enumerate()
        {
            v.uuid(&format!("position_ids[{i}]"), id, true);
        }
        let none = pb::ExternalAddressee::default();
        let pb::ExternalAddressee {
            organisation,
            attention,
            address,
            email,
            exchange_agency_id,
            // A registered paper letter came by post, not by exchange: the
            // sender's position is not asked for and is dropped.
            exchange_position_id: _,
        } = sender.as_ref().unwrap_or(&none);
        v.len("sender.organisation", organisation, 1, 200);
        v.len("sender_number", sender_number, 1, 200);
        let letter_date = letter_date.as_ref().and_then(from_timestamp);
        if letter_date.is_none() {
            v.add("letter_date", "is required");
        }
        let receive = receive_time.as_ref().map(from_timestamp);
        if receive == Some(None) {
            v.add("receive_time", "is out of range");
        }
        v.finish()?;
        Ok(Mutation {
            request_id: request_id.clone(),
            input: IncomingInput {
                letter_type: LetterType::try_from(*r#type).unwrap_or(LetterType::Lainnya),
                subject: subject.clone(),
                body: body.clone(),
                security: SecurityLevel::try_from(*security_level).unwrap_or(SecurityLevel::Biasa),
                urgency: *urgency as i16,
                classification_code: classification_code.clone(),
                to: recipient_position_ids.clone(),
                cc: carbon_copy_position_ids.clone(),
                sender: External {
                    organisation: organisation.clone(),
                    attention: attention.clone(),
                    address: address.clone(),
                    email: email.clone(),
                    exchange_agency_id: exchange_agency_id.clone(),
                    exchange_position_id: String::new(),
                },
                sender_number: sender_number.clone(),
                letter_date_us: letter_date.unwrap_or(0),
                receive_time_us: receive.flatten(),
            },
        })
    }
}
