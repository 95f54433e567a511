//! Bulk seeding: the demo agency through its normal seed, then letters with
//! realistic shapes written straight into the tables (multi-row INSERTs), plus
//! the rows the ceiling server reads and writes.

use naskah::domain::lifecycle::{
    AddresseeKind, Decision, Direction, DispositionState, LetterState, RecipientStatus, StepKind,
};
use naskah::store::Store;
use naskah::store::dispositions::{DispositionRecord, RecipientRecord};
use naskah::store::letters::{AddresseeRecord, LetterRecord, SignatureRecord, StepRecord};
use sea_orm::sea_query::{Alias, Expr, Query, SimpleExpr};
use sea_orm::{
    ConnectionTrait, EntityTrait, IntoActiveModel, ModelTrait, Statement, TransactionTrait,
};

/// Folder numbers (`naskah.v1.Folder`).
const INBOX: i16 = 1;
const CC: i16 = 2;
const TO_REVIEW: i16 = 4;
const TO_SIGN: i16 = 5;
const SENT: i16 = 6;
const ALL: i16 = 7;

/// Rows per INSERT statement (well under both engines' bind-parameter limits).
const BATCH: usize = 400;

/// Inserts records of one table in multi-row INSERTs of [`BATCH`] rows. The
/// store's record types are its tables' sea-orm models, so sea-orm writes
/// them as they are; the caller keeps them consistent with what the domain
/// writes.
async fn insert_records<M, C>(db: &C, rows: Vec<M>) -> anyhow::Result<()>
where
    C: ConnectionTrait,
    M: ModelTrait + IntoActiveModel<<M::Entity as EntityTrait>::ActiveModel>,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<_> = rows
            .by_ref()
            .take(BATCH)
            .map(IntoActiveModel::into_active_model)
            .collect();
        M::Entity::insert_many(batch).exec(db).await?;
    }
    Ok(())
}

/// Inserts rows of `table` (values in the order of `columns`) in multi-row
/// INSERTs of [`BATCH`] rows, for the tables whose rows the store hands out
/// as no record of its own (folder entries, audit events).
async fn insert_rows<C: ConnectionTrait>(
    db: &C,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<SimpleExpr>>,
) -> anyhow::Result<()> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new(table))
            .columns(columns.iter().map(|c| Alias::new(*c)));
        for row in rows.by_ref().take(BATCH) {
            insert.values(row)?;
        }
        db.execute_raw(db.get_database_backend().build(&insert))
            .await?;
    }
    Ok(())
}

/// A folder entry: one letter in one position's folder (a `letter_box` row).
struct BoxRow {
    position_id: String,
    folder: i16,
    letter_id: String,
    agency_id: String,
    sort_us: i64,
    read_at_us: Option<i64>,
}

async fn insert_boxes<C: ConnectionTrait>(db: &C, boxes: Vec<BoxRow>) -> anyhow::Result<()> {
    let rows = boxes
        .into_iter()
        .map(|b| {
            vec![
                b.position_id.into(),
                b.folder.into(),
                b.letter_id.into(),
                b.agency_id.into(),
                b.sort_us.into(),
                b.read_at_us.into(),
            ]
        })
        .collect();
    insert_rows(
        db,
        "letter_box",
        &[
            "position_id",
            "folder",
            "letter_id",
            "agency_id",
            "sort_us",
            "read_at_us",
        ],
        rows,
    )
    .await
}

/// A tiny deterministic PRNG (xorshift64*), so runs are repeatable.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The demo agency's people the benchmark acts as.
#[derive(Clone, Debug, Default)]
pub struct Org {
    pub agency: String,
    pub users: std::collections::HashMap<String, (String, String)>,
}

impl Org {
    /// (user id, position id) of a demo user.
    pub fn of(&self, username: &str) -> (String, String) {
        self.users.get(username).cloned().unwrap_or_default()
    }
    pub fn pos(&self, username: &str) -> String {
        self.of(username).1
    }
}

/// Loads the demo users and their positions.
pub async fn org(store: &Store) -> anyhow::Result<Org> {
    let mut o = Org::default();
    let now = store.clock().now_us();
    for name in [
        "gubernur",
        "sekda",
        "kadis.kominfo",
        "kabid.aptika",
        "kasi.egov",
        "staf.egov",
        "kabid.ikp",
        "pencatat",
    ] {
        let u = naskah::store::identity::user_by_username(store.reader(), name)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo user {name} missing"))?;
        let held = naskah::store::identity::held_positions(store.reader(), &u.id, now).await?;
        let pos = held
            .first()
            .map(|h| h.position_id.clone())
            .unwrap_or_default();
        o.agency = u.agency_id.clone();
        o.users.insert(name.to_owned(), (u.id, pos));
    }
    Ok(o)
}

/// Ids the load generator needs.
#[derive(Clone, Debug, Default)]
pub struct Seeded {
    /// Letters in kadis.kominfo's inbox.
    pub inbox: Vec<String>,
    /// Letters with a disposition tree.
    pub trees: Vec<String>,
    /// Dispositions kabid.aptika received and may respond to.
    pub to_respond: Vec<String>,
    /// Verification codes with a real CMS signature.
    pub codes: Vec<String>,
}

#[derive(Default)]
struct Rows {
    letters: Vec<LetterRecord>,
    boxes: Vec<BoxRow>,
    addressees: Vec<AddresseeRecord>,
    steps: Vec<StepRecord>,
    signatures: Vec<SignatureRecord>,
    dispositions: Vec<DispositionRecord>,
    recipients: Vec<RecipientRecord>,
}

impl Rows {
    fn put(&mut self, agency: &str, pos: &str, folder: i16, letter: &str, sort: i64, read: bool) {
        self.boxes.push(BoxRow {
            position_id: pos.to_owned(),
            folder,
            letter_id: letter.to_owned(),
            agency_id: agency.to_owned(),
            sort_us: sort,
            read_at_us: read.then_some(sort + 1),
        });
    }

    async fn write(self, store: &Store) -> anyhow::Result<()> {
        let tx = store.reader().begin().await?;
        insert_records(&tx, self.letters).await?;
        // A position may meet a letter twice (e.g. recipient and disposition
        // recipient): keep the first row of each folder key.
        let mut seen = std::collections::HashSet::new();
        let boxes: Vec<BoxRow> = self
            .boxes
            .into_iter()
            .filter(|b| seen.insert((b.position_id.clone(), b.folder, b.letter_id.clone())))
            .collect();
        insert_boxes(&tx, boxes).await?;
        insert_records(&tx, self.addressees).await?;
        insert_records(&tx, self.steps).await?;
        insert_records(&tx, self.signatures).await?;
        insert_records(&tx, self.dispositions).await?;
        insert_records(&tx, self.recipients).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn letter(
    o: &Org,
    id: &str,
    t: i64,
    drafter: &str,
    state: LetterState,
    direction: Direction,
) -> LetterRecord {
    let (uid, pos) = o.of(drafter);
    let body = format!(
        "Dengan hormat,\n\nBersama ini kami sampaikan bahan rapat koordinasi nomor {id}. \
         Mohon arahan lebih lanjut.\n\nHormat kami."
    );
    LetterRecord {
        id: id.to_owned(),
        agency_id: o.agency.clone(),
        direction,
        state,
        letter_type: 1,
        subject: "Koordinasi layanan aplikasi e-government".into(),
        body_sha256: naskah_hex_sha(&body),
        body,
        security_level: 1,
        urgency: 1,
        classification_code: "000.1.1".into(),
        drafting_position_id: pos.clone(),
        drafted_by_user_id: uid,
        drafted_by_position_id: pos,
        current_step: -1,
        version: 1,
        number: String::new(),
        sign_time_us: None,
        signer_user_id: String::new(),
        signer_position_id: String::new(),
        verification_code: None,
        reference_letter_id: String::new(),
        incoming: String::new(),
        revision: 1,
        created_at_us: t,
        updated_at_us: t,
    }
}

fn naskah_hex_sha(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

fn step(
    letter: &str,
    idx: i32,
    pos: &str,
    kind: StepKind,
    decided: Option<(&str, i64)>,
) -> StepRecord {
    StepRecord {
        letter_id: letter.to_owned(),
        idx,
        position_id: pos.to_owned(),
        kind,
        decision: if decided.is_some() {
            Decision::Approved
        } else {
            Decision::Pending
        },
        decided_by_user_id: decided.map(|d| d.0.to_owned()).unwrap_or_default(),
        decided_by_position_id: if decided.is_some() {
            pos.to_owned()
        } else {
            String::new()
        },
        decided_by_assignment_kind: if decided.is_some() { 1 } else { 0 },
        decide_time_us: decided.map(|d| d.1),
        version: if decided.is_some() { 1 } else { 0 },
    }
}

fn to(letter: &str, kind: AddresseeKind, idx: i32, pos: &str) -> AddresseeRecord {
    AddresseeRecord {
        letter_id: letter.to_owned(),
        kind,
        idx,
        position_id: pos.to_owned(),
        external: String::new(),
        display_name: String::new(),
    }
}

/// Signs manifests for VerifyLetter with kadis.kominfo's real key.
pub struct Signer {
    pub key: p256::ecdsa::SigningKey,
    pub cert_der: Vec<u8>,
    pub serial: String,
}

/// Seeds letters `from..to` (ids and times follow the index), `signed` of the first
/// ones with a real signature.
pub async fn letters(
    store: &Store,
    o: &Org,
    from: u64,
    to_n: u64,
    signer: &Signer,
    out: &mut Seeded,
) -> anyhow::Result<()> {
    let base = 1_767_225_600_000_000i64; // 2026-01-01
    let kadis = o.pos("kadis.kominfo");
    let drafters = ["kasi.egov", "kabid.aptika", "kabid.ikp", "staf.egov"];
    let others = ["sekda", "kabid.aptika", "kabid.ikp", "kasi.egov"];
    let chain = ["kadis.kominfo", "kabid.aptika", "kasi.egov", "staf.egov"];
    let mut start = from;
    while start < to_n {
        let end = (start + 5_000).min(to_n);
        let mut rows = Rows::default();
        for i in start..end {
            let mut r = Rng::new(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xABCD);
            let t = base + i as i64 * 10_000;
            let id = uuid::Uuid::new_v4().to_string();
            let read = r.below(10) < 7;
            let mut recipients: Vec<String> = Vec::new();
            if r.below(10) < 6 {
                // An internal letter: drafted, reviewed by the superior, signed, sent.
                let drafter = drafters[r.below(4) as usize];
                let mut l = letter(o, &id, t, drafter, LetterState::Sent, Direction::Outgoing);
                let (kadis_uid, _) = o.of("kadis.kominfo");
                l.number = format!("000.1.1/{i}/APTIKA/2026");
                l.sign_time_us = Some(t + 5);
                l.signer_user_id = kadis_uid.clone();
                l.signer_position_id = kadis.clone();
                let code = format!("B{i:015}");
                l.verification_code = Some(code.clone());
                if r.below(10) < 7 {
                    recipients.push(kadis.clone());
                }
                let other = o.pos(others[r.below(4) as usize]);
                if other != l.drafting_position_id && !recipients.contains(&other) {
                    recipients.push(other);
                }
                if recipients.is_empty() {
                    recipients.push(o.pos("sekda"));
                }
                rows.steps.push(step(
                    &id,
                    0,
                    &kadis,
                    StepKind::Signer,
                    Some((&kadis_uid, t + 5)),
                ));
                rows.put(&o.agency, &l.drafting_position_id, SENT, &id, t + 5, true);
                rows.put(&o.agency, &l.drafting_position_id, ALL, &id, t, true);
                rows.put(&o.agency, &kadis, ALL, &id, t, true);
                if r.below(10) < 3 {
                    let cc = o.pos("sekda");
                    if !recipients.contains(&cc) {
                        rows.addressees.push(to(&id, AddresseeKind::Cc, 0, &cc));
                        rows.put(&o.agency, &cc, CC, &id, t + 5, false);
                        rows.put(&o.agency, &cc, ALL, &id, t, false);
                    }
                }
                if out.codes.len() < 200 {
                    let manifest = format!(
                        "{{\"format\":\"naskah.manifest.v1\",\"letter_id\":\"{id}\",\"number\":\"{}\"}}",
                        l.number
                    )
                    .into_bytes();
                    let signature = naskah::crypto::cms_sign::sign_detached(
                        &signer.key,
                        &signer.cert_der,
                        &manifest,
                    )
                    .map_err(|e| anyhow::anyhow!("sign: {e}"))?;
                    rows.signatures.push(SignatureRecord {
                        letter_id: id.clone(),
                        manifest_sha256: {
                            use sha2::Digest;
                            hex::encode(sha2::Sha256::digest(&manifest))
                        },
                        manifest,
                        signature,
                        cert_serial: signer.serial.clone(),
                        verification_code: code.clone(),
                        created_at_us: t + 5,
                    });
                    out.codes.push(code);
                }
                rows.letters.push(l);
            } else {
                // An incoming letter registered by the pencatat.
                let mut l = letter(
                    o,
                    &id,
                    t,
                    "pencatat",
                    LetterState::Delivered,
                    Direction::Incoming,
                );
                l.incoming = "{\"sender\":{\"organisation\":\"Instansi lain\"},\"sender_number\":\"1/2026\"}".into();
                recipients.push(if r.below(10) < 8 {
                    kadis.clone()
                } else {
                    o.pos("sekda")
                });
                rows.put(&o.agency, &l.drafting_position_id, ALL, &id, t, true);
                rows.letters.push(l);
            }
            for (k, p) in recipients.iter().enumerate() {
                rows.addressees
                    .push(to(&id, AddresseeKind::To, k as i32, p));
                rows.put(&o.agency, p, INBOX, &id, t + 5, read);
                rows.put(&o.agency, p, ALL, &id, t, read);
            }
            if !recipients.contains(&kadis) {
                continue;
            }
            if out.inbox.len() < 20_000 {
                out.inbox.push(id.clone());
            }
            // Dispositions 1–4 levels deep on 30% of kadis's letters.
            if r.below(10) < 3 {
                let depth = 1 + r.below(4) as usize;
                let mut parent = String::new();
                for level in 0..depth.min(chain.len() - 1) {
                    let (suid, spos) = o.of(chain[level]);
                    let rpos = o.pos(chain[level + 1]);
                    let did = uuid::Uuid::new_v4().to_string();
                    let dt = t + 100 + level as i64;
                    rows.dispositions.push(DispositionRecord {
                        id: did.clone(),
                        agency_id: o.agency.clone(),
                        letter_id: id.clone(),
                        parent_id: parent.clone(),
                        sender_position_id: spos,
                        sent_by_user_id: suid.clone(),
                        sent_by_assignment_kind: 1,
                        drafted_by_user_id: suid,
                        state: DispositionState::Active,
                        instruction_codes: "TINDAK_LANJUTI".into(),
                        note: "Mohon ditindaklanjuti sesuai ketentuan.".into(),
                        due_us: None,
                        urgency: 1,
                        revision: 1,
                        created_at_us: dt,
                    });
                    let status = [
                        RecipientStatus::Unread,
                        RecipientStatus::Read,
                        RecipientStatus::InProgress,
                    ][r.below(3) as usize];
                    rows.recipients.push(RecipientRecord {
                        disposition_id: did.clone(),
                        position_id: rpos.clone(),
                        agency_id: o.agency.clone(),
                        status,
                        read_at_us: (status != RecipientStatus::Unread).then_some(dt + 1),
                        done_at_us: None,
                        due_us: None,
                        created_at_us: dt,
                    });
                    rows.put(&o.agency, &rpos, ALL, &id, dt, true);
                    if level == 0 && out.to_respond.len() < 20_000 {
                        out.to_respond.push(did.clone());
                    }
                    parent = did;
                }
                if out.trees.len() < 20_000 {
                    out.trees.push(id.clone());
                }
            }
        }
        rows.write(store).await?;
        start = end;
    }
    Ok(())
}

/// Seeds `n` letters waiting in a route: IN_REVIEW (at kabid.aptika) or
/// APPROVED (at kadis.kominfo's signature). Returns (id, etag) pairs.
pub async fn route_pool(
    store: &Store,
    o: &Org,
    n: u64,
    approved: bool,
) -> anyhow::Result<Vec<(String, String)>> {
    let base = 1_767_225_600_000_000i64 - 1_000_000_000;
    let reviewer = o.pos("kabid.aptika");
    let (kabid_uid, _) = o.of("kabid.aptika");
    let signer = o.pos("kadis.kominfo");
    let mut rows = Rows::default();
    let mut out = Vec::new();
    for i in 0..n {
        let id = uuid::Uuid::new_v4().to_string();
        let t = base + i as i64;
        let mut l = letter(
            o,
            &id,
            t,
            "kasi.egov",
            if approved {
                LetterState::Approved
            } else {
                LetterState::InReview
            },
            Direction::Outgoing,
        );
        l.current_step = if approved { 1 } else { 0 };
        rows.steps.push(step(
            &id,
            0,
            &reviewer,
            StepKind::Reviewer,
            approved.then_some((kabid_uid.as_str(), t + 1)),
        ));
        rows.steps
            .push(step(&id, 1, &signer, StepKind::Signer, None));
        rows.addressees
            .push(to(&id, AddresseeKind::To, 0, &o.pos("sekda")));
        for p in [&l.drafting_position_id, &reviewer, &signer] {
            rows.put(&o.agency, p, ALL, &id, t, true);
        }
        if approved {
            rows.put(&o.agency, &signer, TO_SIGN, &id, t + 1, false);
        } else {
            rows.put(&o.agency, &reviewer, TO_REVIEW, &id, t, false);
        }
        rows.letters.push(l);
        out.push((id, "\"v1\"".to_owned()));
    }
    rows.write(store).await?;
    Ok(out)
}

/// Creates the ceiling's table (same database, same durability) and `n` rows.
pub async fn ceiling_rows(
    store: &Store,
    owners: &[String],
    from: u64,
    n: u64,
) -> anyhow::Result<()> {
    let db = store.reader();
    let b = db.get_database_backend();
    db.execute_raw(Statement::from_string(
        b,
        "CREATE TABLE IF NOT EXISTS bench_ceiling (id VARCHAR(36) PRIMARY KEY, \
         owner VARCHAR(36) NOT NULL, sort_us BIGINT NOT NULL, subject VARCHAR(500) NOT NULL, \
         body TEXT NOT NULL)",
    ))
    .await?;
    db.execute_raw(Statement::from_string(
        b,
        "CREATE INDEX IF NOT EXISTS ix_bench_ceiling ON bench_ceiling (owner, sort_us)",
    ))
    .await?;
    let mut i = from;
    while i < n {
        let end = (i + 400).min(n);
        let mut sql =
            String::from("INSERT INTO bench_ceiling (id, owner, sort_us, subject, body) VALUES ");
        for k in i..end {
            if k > i {
                sql.push(',');
            }
            let owner = &owners[(k as usize) % owners.len()];
            sql.push_str(&format!(
                "('{}', '{owner}', {k}, 'Koordinasi layanan aplikasi e-government', 'Dengan hormat, bersama ini kami sampaikan bahan rapat koordinasi.')",
                uuid::Uuid::new_v4()
            ));
        }
        db.execute_raw(Statement::from_string(b, sql)).await?;
        i = end;
    }
    Ok(())
}

/// Refreshes the planner's statistics after a bulk load, as an operator would
/// (PostgreSQL plans the list queries badly until autovacuum gets to it).
pub async fn analyze(store: &Store) -> anyhow::Result<()> {
    let db = store.reader();
    if store.backend() == naskah::store::Backend::Postgres {
        db.execute_raw(Statement::from_string(db.get_database_backend(), "ANALYZE"))
            .await?;
    }
    Ok(())
}

/// Appends `n` events to the audit chain in bulk, shaped like the server's own
/// (method names, ids, request ids, client addresses, short summaries), with
/// their chain hashes.
pub async fn audit_chain(store: &Store, agency: &str, n: u64) -> anyhow::Result<()> {
    const ACTIONS: [&str; 6] = [
        "/naskah.v1.LetterService/CreateDraft",
        "/naskah.v1.LetterService/ApproveLetter",
        "/naskah.v1.LetterService/GetLetter",
        "/naskah.v1.DispositionService/CreateDisposition",
        "/naskah.v1.DispositionService/RespondToDisposition",
        "/naskah.v1.LetterService/SignLetter",
    ];
    let tx = store.reader().begin().await?;
    let (mut seq, head) = audit_head(&tx).await?;
    let mut prev = naskah::audit::decode_hash(&head)
        .ok_or_else(|| anyhow::anyhow!("audit head is not a hash"))?;
    let mut rng = Rng::new(0x5eed_a0d1);
    let t0 = 1_790_000_000_000_000i64;
    let mut rows = Vec::with_capacity(10_000);
    for _ in 0..n {
        seq += 1;
        let action = ACTIONS[(rng.next() % ACTIONS.len() as u64) as usize];
        let id = uuid::Uuid::from_u64_pair(rng.next(), rng.next()).to_string();
        let body = naskah::audit::NewEvent {
            agency_id: agency.to_owned(),
            actor_user_id: uuid::Uuid::from_u64_pair(0, rng.next() % 12).to_string(),
            actor_position_id: uuid::Uuid::from_u64_pair(1, rng.next() % 12).to_string(),
            action: action.to_owned(),
            resource_type: "letter".to_owned(),
            resource_id: id.clone(),
            outcome: naskah::audit::Outcome::Success,
            reason: String::new(),
            request_id: uuid::Uuid::from_u64_pair(rng.next(), seq as u64).to_string(),
            client_address: format!(
                "10.1.{}.{}:{}",
                rng.next() % 256,
                rng.next() % 256,
                40_000 + rng.next() % 20_000
            ),
            summary: format!("letter {id}: step {} of the route", 1 + rng.next() % 4),
        };
        let t = t0 + seq * 1_000;
        let hash = naskah::audit::chain_hash(&prev, seq, t, 1, &body);
        rows.push(vec![
            seq.into(),
            t.into(),
            body.agency_id.into(),
            body.actor_user_id.into(),
            body.actor_position_id.into(),
            body.action.into(),
            body.resource_type.into(),
            body.resource_id.into(),
            1i16.into(),
            body.reason.into(),
            body.request_id.into(),
            body.client_address.into(),
            body.summary.into(),
            hex::encode(prev).into(),
            hex::encode(hash).into(),
        ]);
        prev = hash;
        if rows.len() == 10_000 {
            insert_events(&tx, std::mem::take(&mut rows)).await?;
        }
    }
    insert_events(&tx, rows).await?;
    set_audit_head(&tx, seq, &hex::encode(prev)).await?;
    tx.commit().await?;
    Ok(())
}

/// The chain head (last seq, last hash), for appending events in bulk.
async fn audit_head<C: ConnectionTrait>(db: &C) -> anyhow::Result<(i64, String)> {
    let head = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT last_seq, last_hash FROM audit_head WHERE id = 1",
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("audit_head row is missing"))?;
    Ok((
        head.try_get::<i64>("", "last_seq")?,
        head.try_get::<String>("", "last_hash")?,
    ))
}

/// Moves the chain head after events appended in bulk.
async fn set_audit_head<C: ConnectionTrait>(db: &C, seq: i64, hash: &str) -> anyhow::Result<()> {
    use sea_orm::sea_query::ExprTrait;
    let mut update = Query::update();
    update
        .table(Alias::new("audit_head"))
        .values([
            (Alias::new("last_seq"), seq.into()),
            (Alias::new("last_hash"), hash.into()),
        ])
        .and_where(Expr::col(Alias::new("id")).eq(1));
    db.execute_raw(db.get_database_backend().build(&update))
        .await?;
    Ok(())
}

/// Audit events, hashes included: values in the order of `audit_event`'s
/// columns below.
async fn insert_events<C: ConnectionTrait>(
    db: &C,
    rows: Vec<Vec<SimpleExpr>>,
) -> anyhow::Result<()> {
    insert_rows(
        db,
        "audit_event",
        &[
            "seq",
            "event_time_us",
            "agency_id",
            "actor_user_id",
            "actor_position_id",
            "action",
            "resource_type",
            "resource_id",
            "outcome",
            "reason",
            "request_id",
            "client_address",
            "summary",
            "prev_hash",
            "hash",
        ],
        rows,
    )
    .await
}
