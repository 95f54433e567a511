//! The codec of every naskah service: prost's encoding, and a decoder that
//! judges what a client sent before any handler sees it.
//!
//! - A request that does not decode (random bytes, a truncated message, invalid
//!   UTF-8 in a string field, nesting too deep) is a client error: it answers
//!   INVALID_ARGUMENT with the reason `MALFORMED_REQUEST`, never INTERNAL.
//! - Every string field of a request, at any depth, passes one text rule, the
//!   same whatever database is behind: no NUL and no control character, except
//!   tab anywhere and line breaks (`\n`, `\r`) in the fields that hold prose
//!   ([`MULTILINE`]); no bidirectional override, embedding or isolate
//!   characters, and no Unicode line or paragraph separators. A violation answers INVALID_ARGUMENT with a
//!   `google.rpc.BadRequest` naming the field (`recipients[1].name`).
//!
//! Only request messages (the input of some RPC of the contract) are checked;
//! a client decoding responses with this codec pays nothing more than prost.

use std::collections::HashSet;
use std::marker::PhantomData;
use std::sync::LazyLock;

use bytes::Buf;
use prost::{Message, Name};
use prost_reflect::{DescriptorPool, DynamicMessage, MapKey, MessageDescriptor, Value};
use tonic::Status;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};
use tonic_prost::ProstEncoder;

use super::status::rejected;
use crate::error::{Error, FieldViolation, Reason};
use crate::text::fault as text_fault;

/// Short names of the string fields that hold prose and may contain line
/// breaks. Every other string field is one line.
pub const MULTILINE: &[&str] = &[
    "body",
    "note",
    "text",
    "comment",
    "description",
    "reason",
    "csv",
    "address",
    "ca_certificate_pem",
];

/// The contract's descriptors and the full names of its request messages.
struct Contract {
    pool: DescriptorPool,
    requests: HashSet<String>,
}

static CONTRACT: LazyLock<Contract> = LazyLock::new(|| {
    // The descriptor set is compiled into the binary by build.rs; it decodes.
    let pool = DescriptorPool::decode(crate::proto::FILE_DESCRIPTOR_SET)
        .expect("the compiled contract's descriptor set decodes");
    let requests = pool
        .services()
        .flat_map(|s| {
            s.methods()
                .map(|m| m.input().full_name().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    Contract { pool, requests }
});

/// The descriptor of a request message of the contract, if `full_name` is one.
pub fn request_descriptor(full_name: &str) -> Option<MessageDescriptor> {
    let c = &*CONTRACT;
    if c.requests.contains(full_name) {
        c.pool.get_message_by_name(full_name)
    } else {
        None
    }
}

/// The descriptor pool of the contract (for tests and tools).
pub fn contract_pool() -> &'static DescriptorPool {
    &CONTRACT.pool
}

/// prost's codec with the checking decoder; set in build.rs as the codec of
/// every generated service and client.
#[derive(Debug, Clone)]
pub struct NaskahCodec<T, U> {
    _pd: PhantomData<(T, U)>,
}

impl<T, U> Default for NaskahCodec<T, U> {
    fn default() -> Self {
        Self { _pd: PhantomData }
    }
}

impl<T, U> Codec for NaskahCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Name + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = CheckedDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::new(BufferSettings::default())
    }

    fn decoder(&mut self) -> Self::Decoder {
        CheckedDecoder {
            descriptor: request_descriptor(&U::full_name()),
            _pd: PhantomData,
        }
    }
}

/// Decodes `U`; a request message is checked by the text rule first.
#[derive(Debug, Clone)]
pub struct CheckedDecoder<U> {
    descriptor: Option<MessageDescriptor>,
    _pd: PhantomData<U>,
}

impl<U: Message + Default> Decoder for CheckedDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        let Some(descriptor) = &self.descriptor else {
            return U::decode(buf).map(Some).map_err(malformed);
        };
        let bytes = buf.copy_to_bytes(buf.remaining());
        let message = U::decode(bytes.clone()).map_err(malformed)?;
        if has_text(descriptor) {
            let dynamic = DynamicMessage::decode(descriptor.clone(), bytes).map_err(malformed)?;
            let mut violations = Vec::new();
            check_message(&dynamic, "", &mut violations);
            if !violations.is_empty() {
                return Err(super::status::to_status(Error::Invalid(violations)));
            }
        }
        Ok(Some(message))
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::default()
    }
}

/// The answer to a request that does not decode.
pub fn malformed(e: prost::DecodeError) -> Status {
    tracing::debug!(error = %e, "undecodable request");
    rejected(
        Reason::MalformedRequest,
        "the request is not a valid protobuf message of this method",
    )
}

/// True when a message of this type can hold a string at any depth (messages
/// without any skip the second decoding).
fn has_text(d: &MessageDescriptor) -> bool {
    fn walk(d: &MessageDescriptor, seen: &mut HashSet<String>) -> bool {
        if !seen.insert(d.full_name().to_owned()) {
            return false;
        }
        d.fields().any(|f| match f.kind() {
            prost_reflect::Kind::String => true,
            prost_reflect::Kind::Message(m) => walk(&m, seen),
            _ => false,
        })
    }
    walk(d, &mut HashSet::new())
}

fn check_message(m: &DynamicMessage, prefix: &str, out: &mut Vec<FieldViolation>) {
    for (field, value) in m.fields() {
        let path = if prefix.is_empty() {
            field.name().to_owned()
        } else {
            format!("{prefix}.{}", field.name())
        };
        let multiline = MULTILINE.contains(&field.name());
        check_value(value, &path, multiline, out);
    }
}

fn check_value(v: &Value, path: &str, multiline: bool, out: &mut Vec<FieldViolation>) {
    match v {
        Value::String(s) => {
            if let Some(fault) = text_fault(s, multiline) {
                out.push(FieldViolation {
                    field: path.to_owned(),
                    description: fault.to_owned(),
                });
            }
        }
        Value::Message(m) => check_message(m, path, out),
        Value::List(items) => {
            for (i, item) in items.iter().enumerate() {
                check_value(item, &format!("{path}[{i}]"), multiline, out);
            }
        }
        Value::Map(entries) => {
            for (k, item) in entries {
                let key = match k {
                    MapKey::String(s) => {
                        if let Some(fault) = text_fault(s, false) {
                            out.push(FieldViolation {
                                field: format!("{path} key"),
                                description: fault.to_owned(),
                            });
                        }
                        s.clone()
                    }
                    other => format!("{other:?}"),
                };
                check_value(item, &format!("{path}[{key}]"), multiline, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_rule() {
        use crate::text::fault as text_fault;
        assert_eq!(text_fault("Surat Edaran\tNo. 5", false), None);
        assert!(text_fault("a\0b", true).is_some());
        assert!(text_fault("line\nbreak", false).is_some());
        assert_eq!(text_fault("line\r\nbreak", true), None);
        assert!(text_fault("bell\u{7}", true).is_some());
        assert!(text_fault("c1\u{85}", true).is_some());
        assert_eq!(text_fault("Pemberitahuan — ümlaut ✓", false), None);
        assert!(text_fault("nomor \u{202e}01/2026", true).is_some());
        assert!(text_fault("a\u{2028}b", false).is_some());
    }

    #[test]
    fn every_multiline_name_is_a_string_field_of_some_request() {
        let pool = contract_pool();
        for name in MULTILINE {
            let found = pool.all_messages().any(|m| {
                m.fields()
                    .any(|f| f.name() == *name && f.kind() == prost_reflect::Kind::String)
            });
            assert!(found, "{name} is not a string field of the contract");
        }
    }

    #[test]
    fn every_rpc_input_is_a_known_request() {
        let pool = contract_pool();
        let methods: usize = pool.services().map(|s| s.methods().len()).sum();
        assert!(methods > 60, "{methods}");
        for s in pool.services() {
            for m in s.methods() {
                assert!(request_descriptor(m.input().full_name()).is_some());
            }
        }
    }
}
