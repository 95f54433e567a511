//! What an attacker sends: undecodable and hostile requests to every RPC of the
//! contract (generated from its descriptors), bad text in every string field,
//! forged and misused tokens, and a database outage.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::{Buf, BufMut};
use naskah::proto::Role;
use naskah_testkit::demo::DEMO_PASSWORD;
use naskah_testkit::policy::{Rule, admits, rule};
use prost::Message;
use prost_reflect::{
    DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, MethodDescriptor, Value,
};
use tonic::Code;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic_types::StatusExt;

use naskah_testkit::tokens::{self, sign, token_key};
use naskah_testkit::{Db, OwnCluster, Served, TestServer, authed, dual, reason, serve_binary};

// ------------------------------------------------------------ raw calls

/// A codec that sends bytes as they are and reads answers as bytes.
#[derive(Clone, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;
    fn encoder(&mut self) -> Raw {
        Raw
    }
    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

/// The contract's methods (naskah.v1 only).
fn methods() -> Vec<MethodDescriptor> {
    prost_reflect::DescriptorPool::decode(naskah::proto::FILE_DESCRIPTOR_SET)
        .expect("the contract's descriptor set decodes")
        .services()
        .filter(|s| s.package_name() == "naskah.v1")
        .flat_map(|s| s.methods().collect::<Vec<_>>())
        .collect()
}

fn path_of(m: &MethodDescriptor) -> String {
    format!("/{}/{}", m.parent_service().full_name(), m.name())
}

/// Calls `m` with `body` as its (only) request message. Streams answer with
/// their first message or status. `Err` of the outer result: no answer in time.
async fn call_raw(
    channel: &tonic::transport::Channel,
    m: &MethodDescriptor,
    token: Option<&str>,
    body: Vec<u8>,
) -> Result<Result<(), tonic::Status>, ()> {
    let fut = async {
        let mut grpc = tonic::client::Grpc::new(channel.clone());
        grpc.ready()
            .await
            .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
        let path: http::uri::PathAndQuery = path_of(m).parse().expect("path");
        fn with_token<T>(mut r: tonic::Request<T>, token: Option<&str>) -> tonic::Request<T> {
            r.set_timeout(Duration::from_secs(10));
            if let Some(tok) = token {
                r.metadata_mut().insert(
                    "authorization",
                    format!("Bearer {tok}").parse().expect("header"),
                );
            }
            r
        }
        match (m.is_client_streaming(), m.is_server_streaming()) {
            (true, _) => grpc
                .client_streaming(
                    with_token(
                        tonic::Request::new(futures::stream::iter(vec![body])),
                        token,
                    ),
                    path,
                    Raw,
                )
                .await
                .map(|_| ()),
            (false, true) => {
                let mut s = grpc
                    .server_streaming(with_token(tonic::Request::new(body), token), path, Raw)
                    .await?
                    .into_inner();
                // The first answer or the status; a live stream (WatchInbox) is
                // left after its first message or a short wait.
                match tokio::time::timeout(Duration::from_secs(2), s.message()).await {
                    Ok(r) => r.map(|_| ()),
                    Err(_) => Ok(()),
                }
            }
            (false, false) => grpc
                .unary(with_token(tonic::Request::new(body), token), path, Raw)
                .await
                .map(|_| ()),
        }
    };
    tokio::time::timeout(Duration::from_secs(20), fut)
        .await
        .map_err(|_| ())
}

// ------------------------------------------------------------ generated input

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

/// The demo users and their roles: for each method, one whom the gate admits.
const CALLERS: &[(&str, &[Role])] = &[
    ("staf.egov", &[Role::User]),
    ("admin", &[Role::AgencyAdmin]),
    ("pencatat", &[Role::User, Role::Registrar]),
    ("arsiparis", &[Role::User, Role::RecordsOfficer]),
    ("auditor", &[Role::User, Role::Auditor]),
    ("tu.kominfo", &[Role::User, Role::Secretary]),
];

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

// ------------------------------------------------------------ the fuzz test

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
                let must_be_malformed = caller.is_some()
                    && matches!(
                        what,
                        "random bytes" | "deep unknown groups" | "invalid utf-8"
                    )
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

// ------------------------------------------------------------ bad text

/// Paths to every string field of `desc` at the top level and one level down
/// (through singular and repeated message fields), with the message that sets
/// only that field to `text`.
fn text_probes(desc: &MessageDescriptor, text: &str) -> Vec<(String, DynamicMessage)> {
    fn set(f: &FieldDescriptor, v: Value) -> Value {
        if f.is_list() { Value::List(vec![v]) } else { v }
    }
    fn name(f: &FieldDescriptor) -> String {
        if f.is_list() {
            format!("{}[0]", f.name())
        } else {
            f.name().to_owned()
        }
    }
    let mut out = Vec::new();
    for f in desc.fields() {
        if f.is_map() {
            continue;
        }
        match f.kind() {
            Kind::String => {
                let mut m = DynamicMessage::new(desc.clone());
                m.set_field(&f, set(&f, Value::String(text.to_owned())));
                out.push((name(&f), m));
            }
            Kind::Message(inner) if inner.package_name() == "naskah.v1" => {
                for g in inner.fields() {
                    if g.kind() != Kind::String || g.is_map() {
                        continue;
                    }
                    let mut child = DynamicMessage::new(inner.clone());
                    child.set_field(&g, set(&g, Value::String(text.to_owned())));
                    let mut m = DynamicMessage::new(desc.clone());
                    m.set_field(&f, set(&f, Value::Message(child)));
                    out.push((format!("{}.{}", name(&f), name(&g)), m));
                }
            }
            _ => {}
        }
    }
    out
}

async fn nul_and_control_characters_are_refused_in_every_text_field(db: Db) {
    let t = TestServer::start_demo(db).await;
    let mut tokens = BTreeMap::new();
    for (u, _) in CALLERS {
        tokens.insert(*u, t.login(u, DEMO_PASSWORD).await);
    }
    let mut probed = 0;
    let mut bad = Vec::new();
    for m in methods() {
        let r = rule(&path_of(&m)).expect("rule");
        let Some(token) = CALLERS
            .iter()
            .find(|(_, roles)| r == Rule::Public || admits(r, roles))
            .map(|(u, _)| tokens[u].as_str())
        else {
            continue;
        };
        for text in ["a\0b", "esc\u{1b}[2J"] {
            for (field, msg) in text_probes(&m.input(), text) {
                probed += 1;
                let outcome = call_raw(&t.channel, &m, Some(token), msg.encode_to_vec()).await;
                let ok = match &outcome {
                    Ok(Err(s)) if s.code() == Code::InvalidArgument => s
                        .get_details_bad_request()
                        .is_some_and(|b| b.field_violations.iter().any(|v| v.field == field)),
                    _ => false,
                };
                if !ok {
                    bad.push(format!("{} {field} {text:?}: {outcome:?}", path_of(&m)));
                }
            }
        }
    }
    println!("bad text ({db:?}): {probed} field probes, every one refused with its field named");
    assert!(probed > 300, "{probed}");
    assert!(bad.is_empty(), "{}:\n{}", bad.len(), bad.join("\n"));
    // A login with NUL in the username: refused at the edge on both engines,
    // without a token.
    let e = naskah::proto::auth_service_client::AuthServiceClient::new(t.channel.clone())
        .login(naskah::proto::LoginRequest {
            username: "admin\0".into(),
            password: "x".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (Code::InvalidArgument, "INVALID_ARGUMENT")
    );
    t.stop().await;
}
dual!(nul_and_control_characters_are_refused_in_every_text_field);

// ------------------------------------------------------------ tokens

async fn forged_and_misused_tokens_are_refused(db: Db) {
    use base64::Engine;
    use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
    let t = TestServer::start(db).await;
    let alice = t
        .seed_user("alice", "alice-password-1", &[Role::Auditor])
        .await;
    let bob = t
        .seed_user("bob", "bob-password-12", &[Role::Auditor])
        .await;
    let mut auth = naskah::proto::auth_service_client::AuthServiceClient::new(t.channel.clone());
    let login = |u: &str, p: &str| naskah::proto::LoginRequest {
        username: u.into(),
        password: p.into(),
    };
    let a = auth
        .login(login("alice", "alice-password-1"))
        .await
        .expect("login")
        .into_inner();
    let b = auth
        .login(login("bob", "bob-password-12"))
        .await
        .expect("login")
        .into_inner();
    let agency = auth
        .who_am_i(authed(naskah::proto::WhoAmIRequest {}, &a.access_token))
        .await
        .expect("whoami")
        .into_inner()
        .agency_id;
    let (kid, der) = token_key(&t);
    let real = jsonwebtoken::EncodingKey::from_ed_der(&der);
    let now = (t.now_us() / 1_000_000) as u64;
    let claims = tokens::Claims {
        sub: alice.clone(),
        agency: agency.clone(),
        iss: tokens::ISSUER.into(),
        aud: tokens::AUDIENCE.into(),
        exp: now + 600,
        nbf: now,
        iat: now,
        jti: uuid::Uuid::new_v4().to_string(),
        typ: "access".into(),
    };
    let mut audit = naskah::proto::audit_service_client::AuditServiceClient::new(t.channel.clone());
    let list = naskah::proto::ListAuditEventsRequest::default();
    // The control: a token signed with the real key and the real claims works,
    // so every refusal below is for the one thing changed.
    audit
        .list_audit_events(authed(
            list.clone(),
            &sign(&kid, jsonwebtoken::Algorithm::EdDSA, &real, &claims),
        ))
        .await
        .expect("a well-formed token is accepted");

    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let good = sign(&kid, jsonwebtoken::Algorithm::EdDSA, &real, &claims);
    let parts: Vec<&str> = good.split('.').collect();
    let signing = ed25519_dalek::SigningKey::from_pkcs8_der(&der).expect("key");
    let public_raw = signing.verifying_key().to_bytes().to_vec();
    let public_spki = signing
        .verifying_key()
        .to_public_key_der()
        .expect("spki")
        .as_bytes()
        .to_vec();
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let stranger_der = stranger.to_pkcs8_der().expect("der").as_bytes().to_vec();
    let with = |f: &dyn Fn(&mut tokens::Claims)| {
        let mut c = claims.clone();
        f(&mut c);
        sign(&kid, jsonwebtoken::Algorithm::EdDSA, &real, &c)
    };
    let mut other_payload = claims.clone();
    other_payload.sub = bob.clone();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "alg none",
            format!(
                "{}.{}.",
                b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
                parts[1]
            ),
            "TOKEN_INVALID",
        ),
        (
            "HMAC with the raw public key",
            sign(
                &kid,
                jsonwebtoken::Algorithm::HS256,
                &jsonwebtoken::EncodingKey::from_secret(&public_raw),
                &claims,
            ),
            "TOKEN_INVALID",
        ),
        (
            "HMAC with the public key's DER",
            sign(
                &kid,
                jsonwebtoken::Algorithm::HS256,
                &jsonwebtoken::EncodingKey::from_secret(&public_spki),
                &claims,
            ),
            "TOKEN_INVALID",
        ),
        (
            "payload altered (another user)",
            format!(
                "{}.{}.{}",
                parts[0],
                b64.encode(serde_json::to_vec(&other_payload).expect("json")),
                parts[2]
            ),
            "TOKEN_INVALID",
        ),
        (
            "signature altered",
            format!("{}.{}.{}", parts[0], parts[1], {
                let mut sig = b64.decode(parts[2]).expect("sig");
                sig[0] ^= 1;
                b64.encode(sig)
            }),
            "TOKEN_INVALID",
        ),
        (
            "expired",
            with(&|c| {
                c.exp = now - 10;
                c.nbf = now - 700;
                c.iat = now - 700;
            }),
            "TOKEN_EXPIRED",
        ),
        (
            "not yet valid",
            with(&|c| {
                c.nbf = now + 3600;
                c.exp = now + 7200;
            }),
            "TOKEN_INVALID",
        ),
        (
            "wrong issuer",
            with(&|c| c.iss = "someone-else".into()),
            "TOKEN_INVALID",
        ),
        (
            "wrong audience",
            with(&|c| c.aud = "another-api".into()),
            "TOKEN_INVALID",
        ),
        (
            "a refresh token's kind",
            with(&|c| c.typ = "refresh".into()),
            "TOKEN_INVALID",
        ),
        (
            "another agency",
            with(&|c| c.agency = uuid::Uuid::new_v4().to_string()),
            "TOKEN_INVALID",
        ),
        (
            "unknown kid",
            sign(
                "unknown-kid",
                jsonwebtoken::Algorithm::EdDSA,
                &jsonwebtoken::EncodingKey::from_ed_der(&stranger_der),
                &claims,
            ),
            "TOKEN_INVALID",
        ),
        (
            "a stranger's key under the real kid",
            sign(
                &kid,
                jsonwebtoken::Algorithm::EdDSA,
                &jsonwebtoken::EncodingKey::from_ed_der(&stranger_der),
                &claims,
            ),
            "TOKEN_INVALID",
        ),
        (
            "the refresh token itself",
            a.refresh_token.clone(),
            "TOKEN_INVALID",
        ),
    ];
    for (what, token, want) in &cases {
        let e = audit
            .list_audit_events(authed(list.clone(), token))
            .await
            .expect_err(what);
        assert_eq!(
            (e.code(), reason(&e).as_str()),
            (Code::Unauthenticated, *want),
            "{what}"
        );
    }
    println!(
        "token attacks ({db:?}): {} forged or misused tokens refused",
        cases.len()
    );

    // Alice cannot end or take over Bob's session with his refresh token.
    auth.logout(authed(
        naskah::proto::LogoutRequest {
            refresh_token: b.refresh_token.clone(),
        },
        &a.access_token,
    ))
    .await
    .expect("answers like any unknown token");
    let e = auth
        .refresh_token(authed(
            naskah::proto::RefreshTokenRequest {
                refresh_token: b.refresh_token.clone(),
            },
            &a.access_token,
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "INVALID_REFRESH_TOKEN");
    // Bob's session is untouched: neither revoked nor spent.
    let renewed = auth
        .refresh_token(naskah::proto::RefreshTokenRequest {
            refresh_token: b.refresh_token.clone(),
        })
        .await
        .expect("bob's refresh token still works")
        .into_inner();
    // Logout without an access token is refused; with his own, it ends Bob's family.
    let e = auth
        .logout(naskah::proto::LogoutRequest {
            refresh_token: renewed.refresh_token.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "TOKEN_MISSING");
    auth.logout(authed(
        naskah::proto::LogoutRequest {
            refresh_token: renewed.refresh_token.clone(),
        },
        &renewed.access_token,
    ))
    .await
    .expect("own logout");
    let e = auth
        .refresh_token(naskah::proto::RefreshTokenRequest {
            refresh_token: renewed.refresh_token,
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "INVALID_REFRESH_TOKEN");
    t.stop().await;
}
dual!(forged_and_misused_tokens_are_refused);

// ------------------------------------------------------------ outage

/// PostgreSQL goes away under a running server: calls answer UNAVAILABLE with
/// a retry hint (never INTERNAL), and once the database is back the server
/// answers again by itself. (SQLite is a file in the server's own process:
/// it has no outage of this kind.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_outage_answers_unavailable_and_the_server_recovers() {
    let own = OwnCluster::start().await;
    let (cluster, channel) = (&own.cluster, own.server.channel.clone());
    let otp = own.server.bootstrap_password.clone().expect("bootstrap");
    let mut auth = naskah::proto::auth_service_client::AuthServiceClient::new(channel.clone());
    let s = auth
        .login(naskah::proto::LoginRequest {
            username: "admin".into(),
            password: otp.clone(),
        })
        .await
        .expect("login")
        .into_inner();

    cluster.pause().expect("stop PostgreSQL");
    for _ in 0..3 {
        let e = auth
            .who_am_i(authed(naskah::proto::WhoAmIRequest {}, &s.access_token))
            .await
            .unwrap_err();
        assert_eq!(
            (e.code(), reason(&e).as_str()),
            (Code::Unavailable, "UNAVAILABLE"),
            "{e:?}"
        );
        let retry = e.get_details_retry_info().and_then(|r| r.retry_delay);
        assert!(retry.is_some_and(|d| d > Duration::ZERO), "{e:?}");
        let e = auth
            .login(naskah::proto::LoginRequest {
                username: "admin".into(),
                password: otp.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::Unavailable, "{e:?}");
    }
    cluster.resume().expect("start PostgreSQL again");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match auth
            .who_am_i(authed(naskah::proto::WhoAmIRequest {}, &s.access_token))
            .await
        {
            Ok(_) => break,
            Err(e) => {
                assert_eq!(
                    e.code(),
                    Code::Unavailable,
                    "only UNAVAILABLE while it recovers: {e:?}"
                );
                assert!(
                    Instant::now() < deadline,
                    "the server did not recover: {e:?}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    own.stop().await;
}
