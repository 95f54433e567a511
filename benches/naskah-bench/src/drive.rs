//! The load: concurrent gRPC clients running one operation (or the mix)
//! against naskah or the ceiling server, and what they measured.

use super::*;

/// Latencies and counts of one run.
#[derive(Clone, Debug, Default)]
pub(crate) struct Stats {
    pub(crate) ok: u64,
    pub(crate) errors: u64,
    pub(crate) first_error: String,
    pub(crate) lat_us: Vec<u32>,
    pub(crate) secs: f64,
}

impl Stats {
    pub(crate) fn rate(&self) -> f64 {
        if self.secs > 0.0 {
            self.ok as f64 / self.secs
        } else {
            0.0
        }
    }
    pub(crate) fn pct(&self, p: f64) -> f64 {
        if self.lat_us.is_empty() {
            return 0.0;
        }
        let mut v = self.lat_us.clone();
        v.sort_unstable();
        let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
        f64::from(v[i]) / 1000.0
    }
}

pub(crate) type OpFn =
    Arc<dyn Fn(Channel, u64) -> BoxFuture<'static, Result<(), tonic::Status>> + Send + Sync>;

pub(crate) async fn connect(addr: SocketAddr) -> anyhow::Result<Channel> {
    Ok(Endpoint::from_shared(format!("http://{addr}"))?
        .tcp_nodelay(true)
        .connect()
        .await?)
}

/// `clients` clients, each on its own connection, call `op` in a loop for `secs`.
/// With several addresses, client `i` calls the `i`-th of them (round).
pub(crate) async fn drive(
    addrs: &[SocketAddr],
    clients: usize,
    secs: f64,
    op: OpFn,
) -> anyhow::Result<Stats> {
    let mut channels = Vec::new();
    for addr in addrs.iter().cycle().take(clients) {
        channels.push(connect(*addr).await?);
    }
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for (c, ch) in channels.into_iter().enumerate() {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = Stats::default();
            let mut n = c as u64 * 1_000_003;
            while Instant::now() < deadline {
                n += 1;
                let t0 = Instant::now();
                match op(ch.clone(), n).await {
                    Ok(()) => {
                        s.ok += 1;
                        s.lat_us
                            .push(t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                    }
                    Err(e) if e.message() == POOL_EMPTY => break,
                    Err(e) => {
                        s.errors += 1;
                        if s.first_error.is_empty() {
                            s.first_error = format!("{:?}: {}", e.code(), e.message());
                        }
                    }
                }
            }
            s
        }));
    }
    let mut total = Stats::default();
    for t in tasks {
        let s = t.await?;
        total.ok += s.ok;
        total.errors += s.errors;
        if total.first_error.is_empty() {
            total.first_error = s.first_error;
        }
        total.lat_us.extend(s.lat_us);
    }
    total.secs = start.elapsed().as_secs_f64();
    Ok(total)
}

pub(crate) const POOL_EMPTY: &str = "benchmark pool exhausted";

/// Everything the operations need.
pub(crate) struct World {
    pub(crate) tokens: BTreeMap<&'static str, String>,
    pub(crate) org: seed::Org,
    pub(crate) seeded: seed::Seeded,
    pub(crate) review: Mutex<Vec<(String, String)>>,
    pub(crate) sign: Mutex<Vec<(String, String)>>,
}

pub(crate) fn authed<T>(msg: T, token: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    if let Ok(v) = format!("Bearer {token}").parse() {
        r.metadata_mut().insert("authorization", v);
    }
    r
}

pub(crate) fn pick(v: &[String], n: u64) -> &str {
    v.get((n as usize) % v.len().max(1))
        .map(String::as_str)
        .unwrap_or("")
}

pub(crate) const OPS: &[&str] = &[
    "Login",
    "ListLetters(INBOX)",
    "ListLetters(INBOX/FULL)",
    "ListLetters(INBOX/SECRETARY)",
    "GetLetter",
    "CreateDraft",
    "ApproveLetter",
    "SignLetter",
    "CreateDisposition",
    "RespondToDisposition",
    "GetDispositionTree",
    "VerifyLetter",
];

/// One call of a naskah operation.
pub(crate) fn naskah_op(w: Arc<World>, name: &'static str) -> OpFn {
    Arc::new(move |ch: Channel, n: u64| {
        let w = w.clone();
        Box::pin(async move { call(&w, name, ch, n).await })
    })
}

pub(crate) async fn call(w: &World, name: &str, ch: Channel, n: u64) -> Result<(), tonic::Status> {
    let tok = |u: &str| w.tokens.get(u).cloned().unwrap_or_default();
    match name {
        "Login" => {
            let user = ["kasi.egov", "staf.egov", "kabid.ikp", "sekda"][(n % 4) as usize];
            AuthServiceClient::new(ch)
                .login(pb::LoginRequest {
                    username: user.into(),
                    password: naskah::domain::demo::DEMO_PASSWORD.into(),
                })
                .await?;
        }
        "ListLetters(INBOX)" | "ListLetters(INBOX/FULL)" | "ListLetters(INBOX/SECRETARY)" => {
            let (user, position_id, view) = match name {
                "ListLetters(INBOX/FULL)" => (
                    "kadis.kominfo",
                    w.org.pos("kadis.kominfo"),
                    pb::LetterView::Full,
                ),
                // The head's secretary names no position: the page merges the
                // secretary's own inbox with the head's.
                "ListLetters(INBOX/SECRETARY)" => {
                    ("tu.kominfo", String::new(), pb::LetterView::Basic)
                }
                _ => (
                    "kadis.kominfo",
                    w.org.pos("kadis.kominfo"),
                    pb::LetterView::Basic,
                ),
            };
            LetterServiceClient::new(ch)
                .list_letters(authed(
                    pb::ListLettersRequest {
                        folder: pb::Folder::Inbox as i32,
                        position_id,
                        page_size: 20,
                        view: view as i32,
                        ..Default::default()
                    },
                    &tok(user),
                ))
                .await?;
        }
        "GetLetter" => {
            LetterServiceClient::new(ch)
                .get_letter(authed(
                    pb::GetLetterRequest {
                        letter_id: pick(&w.seeded.inbox, n).to_owned(),
                        ..Default::default()
                    },
                    &tok("kadis.kominfo"),
                ))
                .await?;
        }
        "CreateDraft" => {
            LetterServiceClient::new(ch)
                .create_draft(authed(
                    pb::CreateDraftRequest {
                        drafting_position_id: w.org.pos("kasi.egov"),
                        r#type: pb::LetterType::NotaDinas as i32,
                        subject: "Permohonan data layanan".into(),
                        body: "Dengan hormat, bersama ini kami mohon data layanan e-government."
                            .into(),
                        security_level: pb::SecurityLevel::Biasa as i32,
                        urgency: pb::Urgency::Biasa as i32,
                        classification_code: "000.1.1".into(),
                        recipients: vec![pb::Addressee {
                            target: Some(pb::addressee::Target::PositionId(
                                w.org.pos("kabid.aptika"),
                            )),
                            ..Default::default()
                        }],
                        ..Default::default()
                    },
                    &tok("kasi.egov"),
                ))
                .await?;
        }
        "ApproveLetter" => {
            let Some((id, etag)) = w.review.lock().ok().and_then(|mut v| v.pop()) else {
                return Err(tonic::Status::resource_exhausted(POOL_EMPTY));
            };
            LetterServiceClient::new(ch)
                .approve_letter(authed(
                    pb::ApproveLetterRequest {
                        letter_id: id,
                        etag,
                        ..Default::default()
                    },
                    &tok("kabid.aptika"),
                ))
                .await?;
        }
        "SignLetter" => {
            let Some((id, etag)) = w.sign.lock().ok().and_then(|mut v| v.pop()) else {
                return Err(tonic::Status::resource_exhausted(POOL_EMPTY));
            };
            LetterServiceClient::new(ch)
                .sign_letter(authed(
                    pb::SignLetterRequest {
                        letter_id: id,
                        etag,
                        passphrase: naskah::domain::demo::DEMO_PASSPHRASE.into(),
                        request_id: String::new(),
                    },
                    &tok("kadis.kominfo"),
                ))
                .await?;
        }
        "CreateDisposition" => {
            DispositionServiceClient::new(ch)
                .create_disposition(authed(
                    pb::CreateDispositionRequest {
                        letter_id: pick(&w.seeded.inbox, n).to_owned(),
                        sender_position_id: w.org.pos("kadis.kominfo"),
                        recipient_position_ids: vec![w.org.pos("kabid.aptika")],
                        instruction_codes: vec!["TINDAK_LANJUTI".into()],
                        note: "Segera tindak lanjuti.".into(),
                        urgency: pb::Urgency::Biasa as i32,
                        ..Default::default()
                    },
                    &tok("kadis.kominfo"),
                ))
                .await?;
        }
        "RespondToDisposition" => {
            DispositionServiceClient::new(ch)
                .respond_to_disposition(authed(
                    pb::RespondToDispositionRequest {
                        disposition_id: pick(&w.seeded.to_respond, n).to_owned(),
                        position_id: w.org.pos("kabid.aptika"),
                        status: pb::DispositionStatus::InProgress as i32,
                        note: "Sedang dikerjakan.".into(),
                        ..Default::default()
                    },
                    &tok("kabid.aptika"),
                ))
                .await?;
        }
        "GetDispositionTree" => {
            DispositionServiceClient::new(ch)
                .get_disposition_tree(authed(
                    pb::GetDispositionTreeRequest {
                        letter_id: pick(&w.seeded.trees, n).to_owned(),
                    },
                    &tok("kadis.kominfo"),
                ))
                .await?;
        }
        "VerifyLetter" => {
            VerificationServiceClient::new(ch)
                .verify_letter(pb::VerifyLetterRequest {
                    verification_code: pick(&w.seeded.codes, n).to_owned(),
                })
                .await?;
        }
        other => {
            return Err(tonic::Status::invalid_argument(format!(
                "unknown op {other}"
            )));
        }
    }
    Ok(())
}

/// Mixed workload: reads dominate, as in an office day.
pub(crate) const MIX: &[(&str, u64)] = &[
    ("ListLetters(INBOX)", 250),
    ("ListLetters(INBOX/FULL)", 50),
    ("GetLetter", 250),
    ("GetDispositionTree", 100),
    ("VerifyLetter", 40),
    ("CreateDraft", 90),
    ("ApproveLetter", 50),
    ("CreateDisposition", 70),
    ("RespondToDisposition", 80),
    ("SignLetter", 10),
    ("Login", 10),
];

pub(crate) fn mixed_op(w: Arc<World>) -> OpFn {
    Arc::new(move |ch: Channel, n: u64| {
        let w = w.clone();
        Box::pin(async move {
            let total: u64 = MIX.iter().map(|m| m.1).sum();
            let mut r = seed::Rng::new(n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let mut x = r.below(total);
            let mut name = MIX[0].0;
            for (op, weight) in MIX {
                if x < *weight {
                    name = op;
                    break;
                }
                x -= weight;
            }
            match call(&w, name, ch, r.next()).await {
                Err(e) if e.message() == POOL_EMPTY => Ok(()),
                other => other,
            }
        })
    })
}

/// The ceiling's equivalent of each operation: writes are one-row inserts, lists
/// an indexed page read, single reads a primary-key read.
pub(crate) fn ceiling_kind(name: &str) -> &'static str {
    match name {
        "ListLetters(INBOX)"
        | "ListLetters(INBOX/FULL)"
        | "ListLetters(INBOX/SECRETARY)"
        | "GetDispositionTree"
        | "Login" => "page",
        "GetLetter" | "VerifyLetter" => "get",
        _ => "insert",
    }
}

pub(crate) fn ceiling_op(
    kind: &'static str,
    owners: Arc<Vec<String>>,
    ids: Arc<Vec<String>>,
) -> OpFn {
    Arc::new(move |ch: Channel, n: u64| {
        let owners = owners.clone();
        let ids = ids.clone();
        Box::pin(async move {
            let mut c = LetterServiceClient::new(ch);
            let owner = pick(&owners, 0).to_owned();
            match kind {
                "page" => {
                    c.list_letters(pb::ListLettersRequest {
                        position_id: owner,
                        page_size: 20,
                        ..Default::default()
                    })
                    .await?;
                }
                "get" => {
                    c.get_letter(pb::GetLetterRequest {
                        letter_id: pick(&ids, n).to_owned(),
                        ..Default::default()
                    })
                    .await?;
                }
                _ => {
                    c.create_draft(pb::CreateDraftRequest {
                        drafting_position_id: owner,
                        subject: "Permohonan data layanan".into(),
                        body: "Dengan hormat, bersama ini kami mohon data layanan e-government."
                            .into(),
                        ..Default::default()
                    })
                    .await?;
                }
            }
            Ok(())
        })
    })
}
