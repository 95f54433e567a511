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
    chain_hash_fields(
        prev_hash,
        seq,
        event_time_us,
        outcome_code,
        [
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
        ],
    )
}

/// [`chain_hash`] over the ten text fields given in hashing order (agency,
/// actor user, actor position, action, resource type, resource id, reason,
/// request id, client address, summary).
pub fn chain_hash_fields<F: AsRef<[u8]>>(
    prev_hash: &[u8; 32],
    seq: i64,
    event_time_us: i64,
    outcome_code: i16,
    fields: [F; 10],
) -> [u8; 32] {
    let mut buf = Vec::with_capacity(256);
    encode_into(
        &mut buf,
        prev_hash,
        seq,
        event_time_us,
        outcome_code,
        &fields,
    );
    Sha256::digest(&buf).into()
}

/// Writes the hashed encoding of an event into `buf` (cleared first).
fn encode_into<F: AsRef<[u8]>>(
    buf: &mut Vec<u8>,
    prev_hash: &[u8; 32],
    seq: i64,
    event_time_us: i64,
    outcome_code: i16,
    fields: &[F; 10],
) {
    buf.clear();
    buf.extend_from_slice(DOMAIN_TAG);
    buf.extend_from_slice(prev_hash);
    buf.extend_from_slice(&seq.to_be_bytes());
    buf.extend_from_slice(&event_time_us.to_be_bytes());
    buf.extend_from_slice(&outcome_code.to_be_bytes());
    for field in fields {
        let field = field.as_ref();
        buf.extend_from_slice(&(field.len() as u32).to_be_bytes());
        buf.extend_from_slice(field);
    }
}

/// Lower-case hex of a hash, as stored.
fn hex_lower(hash: &[u8; 32]) -> [u8; 64] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 64];
    for (i, b) in hash.iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(b >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(b & 0x0f)];
    }
    out
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

/// Checks events fed in ascending seq order, one at a time, in constant memory:
/// the reference walk. The store checks ranges apart with [`RangeVerifier`] and
/// joins them with [`join_ranges`], which names the same first break (tested).
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

/// Checks one contiguous range of seqs on its own, so that ranges can be checked
/// in parallel: inside the range every event must follow the previous one
/// (seq, stored prev_hash equal to the previous stored hash) and hash to its
/// stored hash; the link of the range's first event to the event before it is
/// checked by [`join_ranges`].
#[derive(Debug)]
pub struct RangeVerifier {
    start: i64,
    end: i64,
    expected_seq: i64,
    first_prev: Option<String>,
    /// The last verified event's hash, as bytes and as stored hex.
    last: Option<([u8; 32], [u8; 64])>,
    buf: Vec<u8>,
}

/// What [`RangeVerifier`] found in one range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeReport {
    /// First seq of the range.
    pub start: i64,
    /// Last seq of the range.
    pub end: i64,
    /// Stored prev_hash of the range's first event (when it is there).
    pub first_prev: Option<String>,
    /// Hash of the last event that verified.
    pub last_hash: Option<String>,
    /// The first problem inside the range.
    pub broken: Option<Broken>,
}

impl RangeVerifier {
    /// A verifier for the events `start..=end`.
    pub fn new(start: i64, end: i64) -> Self {
        Self {
            start,
            end,
            expected_seq: start,
            first_prev: None,
            last: None,
            buf: Vec::with_capacity(512),
        }
    }

    /// Checks the next stored event of the range; `fields` in hashing order (see
    /// [`chain_hash_fields`]), hashes as stored (hex).
    pub fn feed<F: AsRef<[u8]>>(
        &mut self,
        seq: i64,
        event_time_us: i64,
        outcome_code: i16,
        fields: [F; 10],
        prev_hash: &[u8],
        hash: &[u8],
    ) -> Result<(), Broken> {
        if seq != self.expected_seq {
            return Err(Broken {
                seq: self.expected_seq.min(seq),
                problem: if seq > self.expected_seq {
                    format!(
                        "event {} is missing (next stored event is {seq})",
                        self.expected_seq
                    )
                } else {
                    format!("event {seq} appears out of order")
                },
            });
        }
        let prev = match &self.last {
            Some((bin, hex)) => {
                if hex.as_slice() != prev_hash {
                    return Err(Broken {
                        seq,
                        problem: "prev_hash does not match the previous event's hash (event deleted, inserted or reordered)"
                            .to_owned(),
                    });
                }
                *bin
            }
            None => {
                let mut prev = [0u8; 32];
                if hex::decode_to_slice(prev_hash, &mut prev).is_err() {
                    return Err(Broken {
                        seq,
                        problem: "prev_hash is not a hash".to_owned(),
                    });
                }
                self.first_prev = Some(String::from_utf8_lossy(prev_hash).into_owned());
                prev
            }
        };
        encode_into(
            &mut self.buf,
            &prev,
            seq,
            event_time_us,
            outcome_code,
            &fields,
        );
        let computed: [u8; 32] = Sha256::digest(&self.buf).into();
        let computed_hex = hex_lower(&computed);
        if computed_hex.as_slice() != hash {
            return Err(Broken {
                seq,
                problem: "hash mismatch: the event's content was altered".to_owned(),
            });
        }
        self.last = Some((computed, computed_hex));
        self.expected_seq += 1;
        Ok(())
    }

    /// The report of the range, `broken` being the problem `feed` returned (if any).
    pub fn finish(self, broken: Option<Broken>) -> RangeReport {
        let broken = broken.or_else(|| {
            (self.expected_seq <= self.end).then(|| Broken {
                seq: self.expected_seq,
                problem: format!("event {} is missing", self.expected_seq),
            })
        });
        RangeReport {
            start: self.start,
            end: self.end,
            first_prev: self.first_prev,
            last_hash: self
                .last
                .map(|(_, h)| String::from_utf8_lossy(&h).into_owned()),
            broken,
        }
    }
}

/// Joins the reports of consecutive ranges covering `1..=n` (in order) and checks
/// the end against the stored head: the number of events verified before the
/// first problem, the problem, and the hash of the last verified event.
pub fn join_ranges(
    reports: &[RangeReport],
    head_seq: i64,
    head_hash: &str,
) -> (i64, Option<Broken>, String) {
    let mut last = GENESIS_HASH.to_owned();
    let mut checked = 0;
    for r in reports {
        if let Some(first_prev) = &r.first_prev
            && *first_prev != last
        {
            let b = Broken {
                seq: r.start,
                problem: "prev_hash does not match the previous event's hash (event deleted, inserted or reordered)"
                    .to_owned(),
            };
            return (r.start - 1, Some(b), last);
        }
        if let Some(b) = &r.broken {
            let hash = if b.seq > r.start {
                r.last_hash.clone().unwrap_or(last)
            } else {
                last
            };
            return (b.seq - 1, Some(b.clone()), hash);
        }
        if let Some(h) = &r.last_hash {
            last = h.clone();
        }
        checked = r.end;
    }
    let mut v = Verifier::new();
    v.expected_seq = checked + 1;
    v.checked = checked;
    v.prev_hash_hex = last.clone();
    match v.finish(head_seq, head_hash) {
        Ok(()) => (checked, None, last),
        Err(b) => (checked, Some(b), last),
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

    /// The chain checked range by range (`size` seqs each, up to the newest
    /// stored seq), then joined, as the store's verifier does.
    fn ranged(events: &[Event], head: (i64, &str), size: i64) -> (i64, Option<i64>, String) {
        let max = events.iter().map(|e| e.seq).max().unwrap_or(0);
        let mut reports = Vec::new();
        let mut start = 1;
        while start <= max {
            let end = (start + size - 1).min(max);
            let mut v = RangeVerifier::new(start, end);
            let mut broken = None;
            for e in events.iter().filter(|e| (start..=end).contains(&e.seq)) {
                let b = &e.body;
                let fields = [
                    &b.agency_id,
                    &b.actor_user_id,
                    &b.actor_position_id,
                    &b.action,
                    &b.resource_type,
                    &b.resource_id,
                    &b.reason,
                    &b.request_id,
                    &b.client_address,
                    &b.summary,
                ];
                let fed = v.feed(
                    e.seq,
                    e.event_time_us,
                    e.outcome_code,
                    fields,
                    e.prev_hash.as_bytes(),
                    e.hash.as_bytes(),
                );
                if let Err(x) = fed {
                    broken = Some(x);
                    break;
                }
            }
            reports.push(v.finish(broken));
            start = end + 1;
        }
        let (checked, broken, hash) = join_ranges(&reports, head.0, head.1);
        (checked, broken.map(|b| b.seq), hash)
    }

    #[test]
    fn ranges_checked_apart_name_the_same_break_as_one_walk() {
        let events = chain(12);
        let head = events[11].hash.clone();
        let mut cases: Vec<(&str, Vec<Event>, i64, String)> =
            vec![("intact", events.clone(), 12, head.clone())];
        let mut altered = events.clone();
        altered[6].body.summary = "changed".into();
        cases.push(("altered", altered, 12, head.clone()));
        let mut deleted = events.clone();
        deleted.remove(4);
        cases.push(("deleted", deleted, 12, head.clone()));
        let mut first_gone = events.clone();
        first_gone.remove(0);
        cases.push(("first deleted", first_gone, 12, head.clone()));
        let mut reordered = events.clone();
        let (a, b) = (reordered[7].clone(), reordered[8].clone());
        reordered[7] = Event { seq: 8, ..b };
        reordered[8] = Event { seq: 9, ..a };
        cases.push(("reordered", reordered, 12, head.clone()));
        cases.push(("truncated", events[..10].to_vec(), 12, head.clone()));
        let mut planted = events.clone();
        planted.push(Event {
            seq: 40,
            ..events[0].clone()
        });
        cases.push(("planted far past the end", planted, 12, head.clone()));
        cases.push(("head behind", events.clone(), 11, events[10].hash.clone()));
        cases.push((
            "head hash wrong",
            events.clone(),
            12,
            events[10].hash.clone(),
        ));
        for (name, evs, head_seq, head_hash) in &cases {
            let walk = {
                let mut v = Verifier::new();
                let fed = evs.iter().try_for_each(|e| v.feed(e));
                let broken = fed.and_then(|()| v.finish(*head_seq, head_hash)).err();
                (v.checked(), broken.map(|b| b.seq))
            };
            for size in 1..=13 {
                let (checked, broken, _) = ranged(evs, (*head_seq, head_hash), size);
                assert_eq!((checked, broken), walk, "{name}, ranges of {size}");
            }
        }
        for size in 1..=13 {
            assert_eq!(ranged(&events, (12, &head), size), (12, None, head.clone()));
        }
        assert_eq!(
            ranged(&[], (0, GENESIS_HASH), 5),
            (0, None, GENESIS_HASH.to_owned())
        );
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
