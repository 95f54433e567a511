//! Generated input: every RPC of the contract sent random, truncated,
//! oversized and malformed request bodies by callers the gate admits, against
//! the real binary, whose memory is watched.

use std::collections::BTreeMap;
use std::time::Instant;

use naskah_testkit::demo::DEMO_PASSWORD;
use naskah_testkit::policy::{Rule, admits, rule};
use prost::Message;
use prost_reflect::{DynamicMessage, Kind, MessageDescriptor, MethodDescriptor, Value};
use tonic::Code;

use super::{CALLERS, call_raw, methods, path_of};
use naskah_testkit::{Db, Served, authed, dual, reason, serve_binary};

/// xorshift64*: reproducible noise without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn random_text(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => uuid::Uuid::new_v4().to_string(),
        1 => String::new(),
        2 => "a\0b".into(),
        3 => "bell\u{7}\u{1b}[31m".into(),
        4 => "x".repeat(100_000),
        5 => "' OR 1=1 --; DROP TABLE letter".into(),
        6 => "\u{202e}Surat\u{fffd}\u{10ffff}".into(),
        7 => "line\nbreak\r\n".into(),
        8 => "../../../../etc/passwd".into(),
        _ => (0..rng.below(40))
            .map(|_| char::from(b' ' + (rng.below(95) as u8)))
            .collect(),
    }
}

fn random_value(rng: &mut Rng, kind: &Kind, depth: u32) -> Value {
    match kind {
        Kind::String => Value::String(random_text(rng)),
        Kind::Bytes => {
            let n = rng.below(64) as usize;
            Value::Bytes(rng.bytes(n).into())
        }
        Kind::Bool => Value::Bool(rng.below(2) == 1),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            Value::I32([0, -1, 1, i32::MAX, i32::MIN, rng.next() as i32][rng.below(6) as usize])
        }
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
            Value::I64([0, -1, 1, i64::MAX, i64::MIN, rng.next() as i64][rng.below(6) as usize])
        }
        Kind::Uint32 | Kind::Fixed32 => {
            Value::U32([0, 1, u32::MAX, rng.next() as u32][rng.below(4) as usize])
        }
        Kind::Uint64 | Kind::Fixed64 => {
            Value::U64([0, 1, u64::MAX, rng.next()][rng.below(4) as usize])
        }
        Kind::Float => Value::F32([0.0, f32::NAN, f32::INFINITY, -1.5][rng.below(4) as usize]),
        Kind::Double => Value::F64([0.0, f64::NAN, f64::MAX, -1.5][rng.below(4) as usize]),
        Kind::Enum(e) => {
            let values: Vec<i32> = e.values().map(|v| v.number()).collect();
            let pick = match rng.below(4) {
                0 => 999,
                1 => -7,
                _ => values[rng.below(values.len() as u64) as usize],
            };
            Value::EnumNumber(pick)
        }
        Kind::Message(m) => {
            if depth > 3 {
                Value::Message(DynamicMessage::new(m.clone()))
            } else {
                Value::Message(random_message(rng, m, depth + 1))
            }
        }
    }
}

fn random_message(rng: &mut Rng, desc: &MessageDescriptor, depth: u32) -> DynamicMessage {
    let mut m = DynamicMessage::new(desc.clone());
    for f in desc.fields() {
        if rng.below(2) == 0 || f.is_map() {
            continue;
        }
        let v = if f.is_list() {
            Value::List(
                (0..rng.below(3))
                    .map(|_| random_value(rng, &f.kind(), depth))
                    .collect(),
            )
        } else {
            random_value(rng, &f.kind(), depth)
        };
        m.set_field(&f, v);
    }
    m
}

/// A tag of field `n` with wire type `w`.
fn tag(n: u32, w: u32, out: &mut Vec<u8>) {
    prost::encoding::encode_varint(u64::from((n << 3) | w), out);
}

/// Unknown groups nested deeper than any decoder's recursion limit.
fn deep_unknown_groups() -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..300 {
        tag(1999, 3, &mut out);
    }
    for _ in 0..300 {
        tag(1999, 4, &mut out);
    }
    out
}

/// A field of `desc` of kind string holding invalid UTF-8, if it has one.
fn invalid_utf8(desc: &MessageDescriptor) -> Option<Vec<u8>> {
    let f = desc.fields().find(|f| f.kind() == Kind::String)?;
    let mut out = Vec::new();
    tag(f.number(), 2, &mut out);
    out.extend_from_slice(&[3, 0x61, 0xff, 0xfe]);
    Some(out)
}

/// The bodies sent to one method.
fn cases(rng: &mut Rng, m: &MethodDescriptor) -> Vec<(&'static str, Vec<u8>)> {
    let input = m.input();
    let mut out = vec![
        ("random bytes", rng.bytes(1)),
        ("random bytes", rng.bytes(17)),
        ("random bytes", rng.bytes(300)),
        ("deep unknown groups", deep_unknown_groups()),
    ];
    for _ in 0..4 {
        out.push(("generated", random_message(rng, &input, 0).encode_to_vec()));
    }
    for _ in 0..2 {
        let whole = random_message(rng, &input, 0).encode_to_vec();
        let cut = rng.below(whole.len() as u64) as usize;
        out.push(("truncated", whole[..cut].to_vec()));
    }
    for _ in 0..2 {
        let mut b = random_message(rng, &input, 0).encode_to_vec();
        for _ in 0..3 {
            if !b.is_empty() {
                let i = rng.below(b.len() as u64) as usize;
                b[i] ^= 1 << rng.below(8);
            }
        }
        out.push(("mutated", b));
    }
    if let Some(b) = invalid_utf8(&input) {
        out.push(("invalid utf-8", b));
    }
    out
}

fn resident_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

async fn serve_demo_binary(db: Db, env: &[(&str, &str)]) -> Served {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = naskah_testkit::fresh_db_url(db, dir.path()).await;
    let mut served = serve_binary(crate::NASKAH, &url, dir.path(), &["--demo"], env).await;
    served.keep(dir);
    served
}

async fn login_on(channel: &tonic::transport::Channel, user: &str) -> String {
    naskah::proto::auth_service_client::AuthServiceClient::new(channel.clone())
        .login(naskah::proto::LoginRequest {
            username: user.into(),
            password: DEMO_PASSWORD.into(),
        })
        .await
        .unwrap_or_else(|e| panic!("login of {user}: {e:?}"))
        .into_inner()
        .access_token
}

async fn every_rpc_survives_hostile_requests(db: Db) {
    // The real binary in its own process, with a small request limit so that
    // "over the limit" is cheap to send.
    let mut served = serve_demo_binary(db, &[("NASKAH_MAX_REQUEST_BYTES", "65536")]).await;
    let channel = served.channel.clone();
    let pid = served.child.id();
    let mut tokens = BTreeMap::new();
    for (u, _) in CALLERS {
        tokens.insert(*u, login_on(&channel, u).await);
    }
    let seed = 0x5eed_0000_0000_0001u64 ^ (db == Db::Postgres) as u64;
    let mut rng = Rng(seed);
    let rss_before = resident_kib(pid);
    let started = Instant::now();
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    let mut bad = Vec::new();
    let mut sent = 0usize;
    let mut peak = rss_before;
    let all = methods();
    assert!(all.len() > 60, "{} methods", all.len());
    for m in &all {
        let r = rule(&path_of(m)).expect("every method has a rule");
        let admitted = CALLERS
            .iter()
            .find(|(_, roles)| r == Rule::Public || admits(r, roles))
            .map(|(u, _)| tokens[u].as_str());
        let mut bodies = cases(&mut rng, m);
        bodies.push(("over max_request_bytes", vec![0x0a; 64 * 1024 + 1]));
        for (what, body) in bodies {
            for caller in [None, admitted] {
                sent += 1;
                let outcome = call_raw(&channel, m, caller, body.clone()).await;
                let code = match &outcome {
                    Err(()) => "HANG".to_owned(),
                    Ok(Ok(())) => "OK".to_owned(),
                    Ok(Err(s)) => format!("{:?}", s.code()),
                };
                *codes.entry(code.clone()).or_default() += 1;
                let wrong = match &outcome {
                    Err(()) => true,
                    Ok(Err(s)) => matches!(
                        s.code(),
                        Code::Internal | Code::Unknown | Code::DeadlineExceeded
                    ),
                    Ok(Ok(())) => false,
                };
                // An undecodable request from a caller the gate admits is the
                // client's fault, with its reason.
                // (Random bytes that happen to be a valid encoding of the
                // request, unknown fields and all, are a request like any other.)
                let must_be_malformed = caller.is_some()
                    && matches!(
                        what,
                        "random bytes" | "deep unknown groups" | "invalid utf-8"
                    )
                    && DynamicMessage::decode(m.input(), body.as_slice()).is_err()
                    && !matches!(&outcome, Ok(Ok(())));
                let malformed_ok = !must_be_malformed
                    || matches!(&outcome, Ok(Err(s)) if s.code() == Code::InvalidArgument
                        && matches!(reason(s).as_str(), "MALFORMED_REQUEST" | "INVALID_ARGUMENT"));
                if wrong || !malformed_ok {
                    bad.push(format!(
                        "{} {what} ({}): {outcome:?}",
                        path_of(m),
                        if caller.is_some() {
                            "logged in"
                        } else {
                            "anonymous"
                        }
                    ));
                }
            }
        }
        peak = peak.max(resident_kib(pid));
    }
    // The process is alive and answers a real request.
    assert!(
        served.child.try_wait().expect("wait").is_none(),
        "the server process ended during the fuzz"
    );
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    health
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("alive after the fuzz");
    let mut auth = naskah::proto::auth_service_client::AuthServiceClient::new(channel.clone());
    auth.who_am_i(authed(
        naskah::proto::WhoAmIRequest {},
        &tokens["staf.egov"],
    ))
    .await
    .expect("answers after the fuzz");
    let rss_after = resident_kib(pid);
    println!(
        "fuzz ({db:?}): {} methods, {sent} requests in {:.1} s, seed {seed:#x}; answers {codes:?}; \
         server resident memory {} MiB before, {} MiB at most, {} MiB after",
        all.len(),
        started.elapsed().as_secs_f64(),
        rss_before / 1024,
        peak / 1024,
        rss_after / 1024
    );
    assert!(
        bad.is_empty(),
        "{} bad answers:\n{}",
        bad.len(),
        bad.join("\n")
    );
    assert!(rss_before > 0, "the server's memory is readable");
    assert!(
        rss_after < rss_before + 128 * 1024,
        "the server's memory grew from {rss_before} KiB to {rss_after} KiB"
    );
}
dual!(every_rpc_survives_hostile_requests);
