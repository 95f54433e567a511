//! The domain's letters, comments, versions and attachments → protobuf.

use crate::domain::lifecycle::AddresseeKind;
use std::collections::HashMap;

use crate::clock::to_timestamp;
use crate::domain::letters::{
    AttachmentRecord, CommentRecord, External, LetterView, VersionRecord,
};
use crate::proto as pb;

/// Display names of a letter view, for its actors.
struct Names<'a> {
    users: &'a HashMap<String, String>,
    positions: &'a HashMap<String, String>,
}

impl Names<'_> {
    fn actor(&self, user: &str, position: &str, kind: i16) -> Option<pb::Actor> {
        (!user.is_empty()).then(|| pb::Actor {
            user_id: user.to_owned(),
            user_name: self.users.get(user).cloned().unwrap_or_default(),
            position_id: position.to_owned(),
            position_name: self.positions.get(position).cloned().unwrap_or_default(),
            assignment_kind: i32::from(kind.max(1)),
        })
    }
}

pub(super) fn attachment_pb(a: AttachmentRecord) -> pb::Attachment {
    pb::Attachment {
        id: a.id,
        letter_id: a.letter_id,
        file_name: a.file_name,
        media_type: a.media_type,
        size_bytes: a.size_bytes,
        sha256: a.sha256,
        is_scan: a.is_scan,
        create_time: Some(to_timestamp(a.created_at_us)),
    }
}

fn external_pb(e: &External) -> pb::ExternalAddressee {
    pb::ExternalAddressee {
        organisation: e.organisation.clone(),
        attention: e.attention.clone(),
        address: e.address.clone(),
        email: e.email.clone(),
        exchange_agency_id: e.exchange_agency_id.clone(),
        exchange_position_id: e.exchange_position_id.clone(),
    }
}

pub(super) fn comment_pb(c: CommentRecord) -> pb::Comment {
    pb::Comment {
        id: c.id,
        letter_id: c.letter_id,
        version: c.version,
        text: c.body,
        author: Some(pb::Actor {
            user_id: c.author_user_id,
            position_id: c.author_position_id,
            ..Default::default()
        }),
        create_time: Some(to_timestamp(c.created_at_us)),
    }
}

/// A version, its author named from `names` (user id → full name).
pub(super) fn version_pb(x: VersionRecord, names: &HashMap<String, String>) -> pb::LetterVersion {
    pb::LetterVersion {
        version: x.version,
        subject: x.subject,
        body: x.body,
        body_sha256: x.body_sha256,
        author: Some(pb::Actor {
            user_name: names.get(&x.author_user_id).cloned().unwrap_or_default(),
            user_id: x.author_user_id,
            position_id: x.author_position_id,
            ..Default::default()
        }),
        create_time: Some(to_timestamp(x.created_at_us)),
    }
}

/// The message of a letter view; the view's own values move into it.
pub(super) fn letter_pb(v: LetterView) -> pb::Letter {
    let incoming = if v.letter.incoming.is_empty() {
        None
    } else {
        v.incoming()
    };
    let etag = v.etag();
    let LetterView {
        letter: l,
        steps,
        addressees,
        receipts,
        attachments,
        read,
        users,
        positions,
        with_body,
        dispatches,
    } = v;
    let names = Names {
        users: &users,
        positions: &positions,
    };
    let mut recipients = Vec::new();
    let mut carbon_copies = Vec::new();
    for a in addressees {
        let kind = a.kind;
        let read_time = receipts.get(&a.position_id).copied().map(to_timestamp);
        let target = if a.position_id.is_empty() {
            pb::addressee::Target::External(external_pb(&LetterView::external(&a)))
        } else {
            pb::addressee::Target::PositionId(a.position_id)
        };
        let dispatch = dispatches
            .iter()
            .find(|o| o.addressee_kind == a.kind && o.addressee_idx == a.idx)
            .map(crate::domain::exchange::dispatches::dispatch_pb);
        let pb_a = pb::Addressee {
            target: Some(target),
            display_name: a.display_name,
            read_time,
            dispatch,
        };
        match kind {
            AddresseeKind::To => recipients.push(pb_a),
            AddresseeKind::Cc => carbon_copies.push(pb_a),
        }
    }
    let incoming = incoming.map(|i| pb::IncomingDetails {
        sender: Some(external_pb(&i.sender)),
        sender_number: i.sender_number,
        letter_date: Some(to_timestamp(i.letter_date_us)),
        receive_time: Some(to_timestamp(i.receive_time_us)),
        registered_by: names.actor(&i.registered_by_user_id, &i.registered_by_position_id, 1),
        exchange: i.exchange.map(|e| pb::ExchangeDetails {
            consignment_id: e.consignment_id,
            sender_agency_code: e.sender_agency_code,
            signer_name: e.signer_name,
            signer_position: e.signer_position,
            signature_valid: e.signature_valid,
            registration_number: e.registration_number,
            addressed_position_id: e.addressed_position_id,
        }),
    });
    pb::Letter {
        direction: i32::from(l.direction),
        state: i32::from(l.state),
        r#type: i32::from(l.letter_type),
        body: if with_body { l.body } else { String::new() },
        security_level: i32::from(l.security_level),
        urgency: i32::from(l.urgency),
        recipients,
        carbon_copies,
        drafted_by: names.actor(&l.drafted_by_user_id, &l.drafted_by_position_id, 1),
        route: steps
            .into_iter()
            .map(|s| pb::RouteStep {
                decided_by: names.actor(
                    &s.decided_by_user_id,
                    &s.decided_by_position_id,
                    s.decided_by_assignment_kind,
                ),
                position_id: s.position_id,
                kind: i32::from(s.kind),
                decision: i32::from(s.decision),
                decide_time: s.decide_time_us.map(to_timestamp),
                version: s.version,
            })
            .collect(),
        current_step: l.current_step,
        version: l.version,
        sign_time: l.sign_time_us.map(to_timestamp),
        signed_by: names.actor(&l.signer_user_id, &l.signer_position_id, 1),
        verification_code: l.verification_code.unwrap_or_default(),
        attachments: attachments.into_iter().map(attachment_pb).collect(),
        incoming,
        etag,
        create_time: Some(to_timestamp(l.created_at_us)),
        update_time: Some(to_timestamp(l.updated_at_us)),
        read,
        id: l.id,
        agency_id: l.agency_id,
        subject: l.subject,
        classification_code: l.classification_code,
        drafting_position_id: l.drafting_position_id,
        number: l.number,
        reference_letter_id: l.reference_letter_id,
    }
}
