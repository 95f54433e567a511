//! The tamper-evident audit trail: events, their canonical encoding and the hash
//! chain. Storage lives in `store::audit`; every write transaction of the store
//! appends its events to the chain in the same transaction (see `store::WriteTx`).
//!
//! Encoding, version 1 (`naskah.audit.v1`): the hash of event `n` is
//! `SHA-256("naskah.audit.v1" 0x00 || prev_hash (32 bytes) || seq (i64 BE) ||
//! event_time_us (i64 BE) || outcome (i16 BE) || for each text field in the
//! order agency_id, actor_user_id, actor_position_id, action, resource_type,
//! resource_id, reason, request_id, client_address, summary: its UTF-8 length
//! (u32 BE) then its bytes)`. The first event's prev_hash is 32 zero bytes.
//! Length prefixes make the encoding injective, so no two different events share
//! an encoding.

use sha2::{Digest, Sha256};

/// Hash that precedes the first event: 64 zeros in hex.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const DOMAIN_TAG: &[u8] = b"naskah.audit.v1\0";

/// Outcome of an audited request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The change was made (or the read was served).
    Success,
    /// The request was refused by the policy.
    Denied,
    /// The request failed (a wrong password, a wrong passphrase…).
    Failure,
}

impl Outcome {
    /// Stored and hashed code of the outcome.
    pub fn code(self) -> i16 {
        match self {
            Outcome::Success => 1,
            Outcome::Denied => 2,
            Outcome::Failure => 3,
        }
    }

    /// The outcome of a stored code.
    pub fn from_code(code: i16) -> Option<Self> {
        match code {
            1 => Some(Outcome::Success),
            2 => Some(Outcome::Denied),
            3 => Some(Outcome::Failure),
            _ => None,
        }
    }
}

/// An event about to be appended. Never holds letter content: only ids, hashes
/// and short summaries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    /// Agency of the actor or resource; empty for installation-wide events.
    pub agency_id: String,
    /// Acting user; empty for anonymous requests and the system.
    pub actor_user_id: String,
    /// Position acted for; empty when none.
    pub actor_position_id: String,
    /// Full gRPC method or system action.
    pub action: String,
    /// Resource type, e.g. "letter".
    pub resource_type: String,
    /// Resource id.
    pub resource_id: String,
    /// Outcome.
    pub outcome: Outcome,
    /// Stable reason code for denials and failures.
    pub reason: String,
    /// Request id.
    pub request_id: String,
    /// Client address.
    pub client_address: String,
    /// Short summary of the change.
    pub summary: String,
}

impl NewEvent {
    /// A successful event of `action` on a resource; the caller fills in the rest.
    pub fn success(action: &str, resource_type: &str, resource_id: &str) -> Self {
        Self {
            agency_id: String::new(),
            actor_user_id: String::new(),
            actor_position_id: String::new(),
            action: action.to_owned(),
            resource_type: resource_type.to_owned(),
            resource_id: resource_id.to_owned(),
            outcome: Outcome::Success,
            reason: String::new(),
            request_id: String::new(),
            client_address: String::new(),
            summary: String::new(),
        }
    }
}

/// A stored event with its place in the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// Time of the event, microseconds since the epoch.
    pub event_time_us: i64,
    /// Stored outcome code (kept raw so that verification sees tampered values).
    pub outcome_code: i16,
    /// The event's fields.
    pub body: NewEvent,
    /// Previous event's hash, hex.
    pub prev_hash: String,
    /// This event's hash, hex.
    pub hash: String,
}

/// Computes the chain hash of an event (see the module documentation).
pub fn chain_hash(
    prev_hash: &[u8; 32],
    seq: i64,
    event_time_us: i64,
    outcome_code: i16,
    body: &NewEvent,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(DOMAIN_TAG);
    h.update(prev_hash);
    h.update(seq.to_be_bytes());
    h.update(event_time_us.to_be_bytes());
    h.update(outcome_code.to_be_bytes());
    for field in [
        &body.agency_id,
        &body.actor_user_id,
        &body.actor_position_id,
        &body.action,
        &body.resource_type,
        &body.resource_id,
        &body.reason,
        &body.request_id,
        &body.client_address,
        &body.summary,
    ] {
        h.update((field.len() as u32).to_be_bytes());
        h.update(field.as_bytes());
    }
    h.finalize().into()
}

/// Decodes a 64-character hex hash.
pub fn decode_hash(hex_hash: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_hash, &mut out).ok()?;
    Some(out)
}

/// The first place where the chain does not verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broken {
    /// Seq of the first broken event.
    pub seq: i64,
    /// What is wrong.
    pub problem: String,
}

/// Checks events fed in ascending seq order, one at a time, in constant memory.
#[derive(Debug)]
pub struct Verifier {
    expected_seq: i64,
    prev_hash: [u8; 32],
    prev_hash_hex: String,
    checked: i64,
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Verifier {
    /// A verifier expecting the chain to start at seq 1.
    pub fn new() -> Self {
        Self {
            expected_seq: 1,
            prev_hash: [0; 32],
            prev_hash_hex: GENESIS_HASH.to_owned(),
            checked: 0,
        }
    }

    /// Number of events that verified.
    pub fn checked(&self) -> i64 {
        self.checked
    }

    /// Hash of the last verified event (the genesis hash before any).
    pub fn head_hash(&self) -> &str {
        &self.prev_hash_hex
    }

    /// Checks the next event.
    pub fn feed(&mut self, ev: &Event) -> Result<(), Broken> {
        if ev.seq != self.expected_seq {
            return Err(Broken {
                seq: self.expected_seq.min(ev.seq),
                problem: if ev.seq > self.expected_seq {
                    format!(
                        "event {} is missing (next stored event is {})",
                        self.expected_seq, ev.seq
                    )
                } else {
                    format!("event {} appears out of order", ev.seq)
                },
            });
        }
        if ev.prev_hash != self.prev_hash_hex {
            return Err(Broken {
                seq: ev.seq,
                problem: "prev_hash does not match the previous event's hash (event deleted, inserted or reordered)"
                    .to_owned(),
            });
        }
        let computed = chain_hash(
            &self.prev_hash,
            ev.seq,
            ev.event_time_us,
            ev.outcome_code,
            &ev.body,
        );
        let computed_hex = hex::encode(computed);
        if computed_hex != ev.hash {
            return Err(Broken {
                seq: ev.seq,
                problem: "hash mismatch: the event's content was altered".to_owned(),
            });
        }
        self.prev_hash = computed;
        self.prev_hash_hex = computed_hex;
        self.expected_seq += 1;
        self.checked += 1;
        Ok(())
    }

    /// Checks the end of the chain against the stored head (last seq and hash).
    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Result<(), Broken> {
        let last = self.expected_seq - 1;
        if head_seq > last {
            return Err(Broken {
                seq: last + 1,
                problem: format!(
                    "events {}..={} are missing (the chain head says {})",
                    last + 1,
                    head_seq,
                    head_seq
                ),
            });
        }
        if head_seq < last || head_hash != self.prev_hash_hex {
            return Err(Broken {
                seq: last.max(1),
                problem: "the chain head does not match the last event".to_owned(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<Event> {
        let mut prev = [0u8; 32];
        (1..=n)
            .map(|seq| {
                let mut body = NewEvent::success("/naskah.v1.X/Y", "letter", &format!("id-{seq}"));
                body.summary = format!("event {seq}");
                let hash = chain_hash(&prev, seq, 1000 + seq, 1, &body);
                let ev = Event {
                    seq,
                    event_time_us: 1000 + seq,
                    outcome_code: 1,
                    body,
                    prev_hash: hex::encode(prev),
                    hash: hex::encode(hash),
                };
                prev = hash;
                ev
            })
            .collect()
    }

    fn verify(events: &[Event], head: (i64, &str)) -> Result<i64, Broken> {
        let mut v = Verifier::new();
        for ev in events {
            v.feed(ev)?;
        }
        v.finish(head.0, head.1)?;
        Ok(v.checked())
    }

    #[test]
    fn an_intact_chain_verifies() {
        let events = chain(10);
        let head = events.last().map(|e| e.hash.clone()).unwrap_or_default();
        assert_eq!(verify(&events, (10, &head)), Ok(10));
        assert_eq!(verify(&[], (0, GENESIS_HASH)), Ok(0));
    }

    #[test]
    fn altered_deleted_reordered_and_truncated_chains_are_caught() {
        let events = chain(10);
        let head = events[9].hash.clone();

        let mut altered = events.clone();
        altered[4].body.summary = "something else".into();
        assert_eq!(verify(&altered, (10, &head)).unwrap_err().seq, 5);

        let mut deleted = events.clone();
        deleted.remove(6);
        assert_eq!(verify(&deleted, (10, &head)).unwrap_err().seq, 7);

        let mut reordered = events.clone();
        let (a, b) = (reordered[2].clone(), reordered[3].clone());
        reordered[2] = Event { seq: 3, ..b };
        reordered[3] = Event { seq: 4, ..a };
        assert_eq!(verify(&reordered, (10, &head)).unwrap_err().seq, 3);

        let truncated = &events[..8];
        assert_eq!(verify(truncated, (10, &head)).unwrap_err().seq, 9);
    }

    #[test]
    fn field_boundaries_are_part_of_the_hash() {
        let mut a = NewEvent::success("ab", "c", "");
        let mut b = NewEvent::success("a", "bc", "");
        a.summary.clear();
        b.summary.clear();
        assert_ne!(
            chain_hash(&[0; 32], 1, 0, 1, &a),
            chain_hash(&[0; 32], 1, 0, 1, &b)
        );
    }
}
