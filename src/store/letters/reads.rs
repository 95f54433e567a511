//! The hot reads: a letter with the caller's part in it and its details,
//! the details of a page, verification codes.

use super::*;

/// Route steps of several letters.
pub async fn steps_of(db: &impl Db, ids: &[String]) -> StoreResult<Vec<StepRecord>> {
    let db = db.conn();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(letter_step::Entity::find()
        .filter(letter_step::Column::LetterId.is_in(ids.iter().cloned()))
        .order_by_asc(letter_step::Column::LetterId)
        .order_by_asc(letter_step::Column::Idx)
        .all(db)
        .await?)
}

/// Addressees of several letters.
pub async fn addressees_of(db: &impl Db, ids: &[String]) -> StoreResult<Vec<AddresseeRecord>> {
    let db = db.conn();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(letter_addressee::Entity::find()
        .filter(letter_addressee::Column::LetterId.is_in(ids.iter().cloned()))
        .order_by_asc(letter_addressee::Column::LetterId)
        .order_by_asc(letter_addressee::Column::Kind)
        .order_by_asc(letter_addressee::Column::Idx)
        .all(db)
        .await?)
}

/// Read receipts of several letters: (letter, position, read time).
pub async fn receipts_of(db: &impl Db, ids: &[String]) -> StoreResult<Vec<(String, String, i64)>> {
    let db = db.conn();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(letter_box::Entity::find()
        .filter(letter_box::Column::LetterId.is_in(ids.iter().cloned()))
        .filter(letter_box::Column::Folder.is_in([Folder::Inbox, Folder::Cc]))
        .filter(letter_box::Column::ReadAtUs.is_not_null())
        .all(db)
        .await?
        .into_iter()
        .filter_map(|b| b.read_at_us.map(|t| (b.letter_id, b.position_id, t)))
        .collect())
}

/// `n` comma-separated parameter marks, after `before` earlier ones.
pub(super) fn placeholders(backend: DbBackend, before: usize, n: usize) -> String {
    (before + 1..=before + n)
        .map(|k| mark(backend, k))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(in crate::store) fn letter_taking_part(r: &dyn Cells) -> StoreResult<(LetterRecord, bool)> {
    Ok((
        letter_at(r, 0)?,
        must(r.boolean(LETTER_COLUMNS)?, LETTER_COLUMNS)?,
    ))
}

/// A letter of `agency`, and whether any of `positions` takes part in it (its
/// ALL folder), in one statement.
pub async fn letter_for(
    store: &Store,
    agency: &str,
    id: &str,
    positions: &[String],
) -> StoreResult<Option<(LetterRecord, bool)>> {
    let stmt = letter_for_stmt(store.reader().get_database_backend(), agency, id, positions);
    Ok(store
        .rows(stmt, letter_taking_part, Reach::Keyed)
        .await?
        .pop())
}

/// Whether letter `id` of `agency` exists and, if so, whether it is in the
/// inbox of `position`: one statement.
pub async fn in_inbox_of(
    db: &impl Db,
    agency: &str,
    id: &str,
    position: &str,
) -> StoreResult<Option<bool>> {
    let db = db.conn();
    let backend = db.get_database_backend();
    let sql = format!(
        "SELECT CAST(CASE WHEN EXISTS (SELECT 1 FROM letter_box b WHERE b.letter_id = l.id \
         AND b.folder = {inbox} AND b.position_id = {m1}) THEN 1 ELSE 0 END AS BIGINT) \
         FROM letter l WHERE l.id = {m2} AND l.agency_id = {m3}",
        inbox = folder::INBOX,
        // Numbered in the order they appear (SQLite's marks are positional).
        m1 = mark(backend, 1),
        m2 = mark(backend, 2),
        m3 = mark(backend, 3),
    );
    let stmt = sea_orm::Statement::from_sql_and_values(
        backend,
        sql,
        [position.into(), id.into(), agency.into()],
    );
    match db.query_one_raw(stmt).await? {
        Some(row) => Ok(Some(row.try_get_by_index::<i64>(0)? == 1)),
        None => Ok(None),
    }
}

/// [`letter_for`] inside a write transaction on PostgreSQL (one statement and
/// one round trip instead of two). SQLite's write connection types its rows by
/// entity column, which the by-position decoder does not read; its statements
/// do not leave the writer's thread, so it reads the two apart.
pub async fn letter_for_in(
    db: &impl Db,
    agency: &str,
    id: &str,
    positions: &[String],
) -> StoreResult<Option<(LetterRecord, bool)>> {
    let db = db.conn();
    let backend = db.get_database_backend();
    if backend != sea_orm::DbBackend::Postgres {
        let Some(l) = letter(db, agency, id).await? else {
            return Ok(None);
        };
        let part = is_participant(db, id, positions).await?;
        return Ok(Some((l, part)));
    }
    db.query_one_raw(letter_for_stmt(backend, agency, id, positions))
        .await?
        .map(|row| letter_taking_part(&row))
        .transpose()
}

/// [`letter_for`] and, when `shown` says the caller may see the letter (given
/// it and the caller's part in it), its details: one hand-off on SQLite, one
/// statement on PostgreSQL.
pub async fn letter_for_with_details(
    store: &Store,
    agency: &str,
    id: &str,
    positions: &[String],
    shown: fn(&LetterRecord, bool) -> bool,
) -> StoreResult<Option<(LetterRecord, bool, LetterDetails)>> {
    let backend = store.reader().get_database_backend();
    if backend == sea_orm::DbBackend::Postgres {
        // One statement instead of two one after the other; the details of a
        // letter the caller may not see are read and dropped here.
        let stmt = letter_stmt(backend, agency, id, positions, true);
        let mut letter = None;
        let mut details = Vec::new();
        for row in store.rows(stmt, letter_or_detail, Reach::Keyed).await? {
            match row {
                LetterOrDetail::Letter(l, part) => letter = Some((*l, part)),
                LetterOrDetail::Detail(d) => details.push(d),
            }
        }
        return Ok(letter.map(|(l, part)| {
            let details = if shown(&l, part) {
                collect_details(details)
            } else {
                LetterDetails::default()
            };
            (l, part, details)
        }));
    }
    let stmt = letter_for_stmt(backend, agency, id, positions);
    let (mut found, details) = store
        .rows_then(
            stmt,
            letter_taking_part,
            move |rows: &mut Vec<(LetterRecord, bool)>| {
                rows.truncate(1);
                match rows.first() {
                    Some((l, part)) if shown(l, *part) => details_then(backend, vec![l.id.clone()]),
                    _ => Vec::new(),
                }
            },
            Reach::Keyed,
        )
        .await?;
    Ok(found
        .pop()
        .map(|(l, part)| (l, part, collect_details(details))))
}

/// The statement of [`letter_for`].
pub(in crate::store) fn letter_for_stmt(
    backend: sea_orm::DbBackend,
    agency: &str,
    id: &str,
    positions: &[String],
) -> sea_orm::Statement {
    letter_stmt(backend, agency, id, positions, false)
}

/// The statement of [`letter_for`], or with `details` (PostgreSQL only) the
/// letter and its details in one statement: the details' arms ([`detail_arms`])
/// joined laterally to the letter, after a first arm (kind 0) that alone
/// carries the letter's columns (they are NULL on the details' rows).
pub(super) fn letter_stmt(
    backend: sea_orm::DbBackend,
    agency: &str,
    id: &str,
    positions: &[String],
    details: bool,
) -> sea_orm::Statement {
    let taking_part = if positions.is_empty() {
        "(1 = 0)".to_owned()
    } else {
        format!(
            "EXISTS (SELECT 1 FROM letter_box b WHERE b.letter_id = l.id AND b.folder = {all} \
             AND b.position_id IN ({marks}))",
            all = folder::ALL,
            marks = placeholders(backend, 0, positions.len()),
        )
    };
    let select = if details {
        let cols = letter::Column::iter()
            .map(|c| format!("CASE WHEN x.k = 0 THEN l.{} END", c.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "SELECT {cols}, CASE WHEN x.k = 0 THEN {taking_part} END, x.* FROM letter l \
             CROSS JOIN LATERAL (SELECT CAST(0 AS BIGINT) AS k, CAST(NULL AS TEXT) AS letter_id, \
             CAST(NULL AS TEXT) AS t1, CAST(NULL AS TEXT) AS t2, CAST(NULL AS TEXT) AS t3, \
             CAST(NULL AS TEXT) AS t4, CAST(NULL AS TEXT) AS t5, CAST(NULL AS TEXT) AS t6, \
             CAST(NULL AS BIGINT) AS n1, CAST(NULL AS BIGINT) AS n2, CAST(NULL AS BIGINT) AS n3, \
             CAST(NULL AS BIGINT) AS n4, CAST(NULL AS BIGINT) AS n5, CAST(NULL AS BIGINT) AS n6 \
             UNION ALL {arms}) x",
            arms = detail_arms(|table, alias, and| {
                format!("FROM {table} {alias} WHERE {alias}.letter_id = l.id{and}")
            }),
        )
    } else {
        format!(
            "SELECT {cols}, {taking_part} FROM letter l",
            cols = letter_columns("l")
        )
    };
    // SQLite binds `?` in the order of the text: the positions come first.
    let sql = format!(
        "{select} WHERE l.id = {p1} AND l.agency_id = {p2}",
        p1 = mark(backend, positions.len() + 1),
        p2 = mark(backend, positions.len() + 2),
    );
    let values: Vec<sea_orm::Value> = positions
        .iter()
        .map(String::as_str)
        .chain([id, agency])
        .map(sea_orm::Value::from)
        .collect();
    sea_orm::Statement::from_sql_and_values(backend, sql, values)
}

/// A row of [`letter_stmt`] with details: the letter (kind 0) or a detail.
pub(super) enum LetterOrDetail {
    Letter(Box<LetterRecord>, bool),
    Detail(Detail),
}

/// The letter's columns in [`letter_stmt`] (the entity's, in its order); the
/// caller's part in it follows them.
pub(super) const LETTER_COLUMNS: usize = 26;

/// The column of [`letter_stmt`]'s details where a detail row starts: after
/// the letter's columns and the caller's part.
pub(super) const DETAIL_BASE: usize = LETTER_COLUMNS + 1;

pub(super) fn letter_or_detail(r: &dyn Cells) -> StoreResult<LetterOrDetail> {
    if must(r.int(DETAIL_BASE)?, DETAIL_BASE)? == 0 {
        let (l, part) = letter_taking_part(r)?;
        Ok(LetterOrDetail::Letter(Box::new(l), part))
    } else {
        Ok(LetterOrDetail::Detail(detail_at(r, DETAIL_BASE)?))
    }
}

/// Route steps, addressees, read receipts and attachments of several letters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LetterDetails {
    /// Steps, by letter and index.
    pub steps: Vec<StepRecord>,
    /// Addressees, by letter, kind and index.
    pub addressees: Vec<AddresseeRecord>,
    /// Read receipts: (letter, position, read time).
    pub receipts: Vec<(String, String, i64)>,
    /// Attachments, by letter, upload time and id.
    pub attachments: Vec<crate::store::attachments::AttachmentRecord>,
}

/// The four detail tables of a page in one statement: a UNION ALL over a common
/// row shape (kind, letter, six texts, six integers), in no order: sorted by
/// [`collect_details`] (SQLite's four sorters for an ORDER BY cost four times
/// the read of one letter's details, and half as much again for a page). The
/// ids are a list of rows each table is joined to (bound once); with an `IN`
/// list per table SQLite took about twice as long for a 20-letter page.
pub(super) fn details_sql(backend: sea_orm::DbBackend, n: usize) -> String {
    let rows = (1..=n)
        .map(|k| format!("({})", mark(backend, k)))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "WITH ids(id) AS (VALUES {rows}) {}",
        detail_arms(|table, alias, and| {
            format!("FROM ids JOIN {table} {alias} ON {alias}.letter_id = ids.id{and}")
        })
    )
}

/// The four arms of [`details_sql`]; `source(table, alias, extra)` names where
/// an arm's rows come from (`extra`: a further condition, empty or starting
/// with ` AND`).
pub(super) fn detail_arms(source: impl Fn(&str, &str, &str) -> String) -> String {
    let receipts = format!(
        " AND b.folder IN ({inbox}, {cc}) AND b.read_at_us IS NOT NULL",
        inbox = folder::INBOX,
        cc = folder::CC,
    );
    format!(
        "SELECT CAST(1 AS BIGINT) AS k, s.letter_id, CAST(s.position_id AS TEXT) AS t1, \
         CAST(s.decided_by_user_id AS TEXT) AS t2, CAST(s.decided_by_position_id AS TEXT) AS t3, \
         CAST(NULL AS TEXT) AS t4, CAST(NULL AS TEXT) AS t5, CAST(NULL AS TEXT) AS t6, \
         CAST(s.idx AS BIGINT) AS n1, CAST(s.kind AS BIGINT) AS n2, \
         CAST(s.decision AS BIGINT) AS n3, CAST(s.decided_by_assignment_kind AS BIGINT) AS n4, \
         CAST(s.decide_time_us AS BIGINT) AS n5, CAST(s.version AS BIGINT) AS n6 \
         {steps} \
         UNION ALL SELECT 2, a.letter_id, a.position_id, a.external, a.display_name, \
         NULL, NULL, NULL, a.kind, a.idx, NULL, NULL, NULL, NULL \
         {addressees} \
         UNION ALL SELECT 3, b.letter_id, b.position_id, NULL, NULL, NULL, NULL, NULL, \
         b.read_at_us, NULL, NULL, NULL, NULL, NULL \
         {receipts} \
         UNION ALL SELECT 4, t.letter_id, t.id, t.agency_id, t.file_name, t.media_type, \
         t.sha256, t.uploaded_by_user_id, t.created_at_us, t.size_bytes, \
         CASE WHEN t.is_scan THEN 1 ELSE 0 END, NULL, NULL, NULL \
         {attachments}",
        steps = source("letter_step", "s", ""),
        addressees = source("letter_addressee", "a", ""),
        receipts = source("letter_box", "b", &receipts),
        attachments = source("attachment", "t", ""),
    )
}

/// One row of [`details_sql`].
pub(super) enum Detail {
    Step(StepRecord),
    Addressee(AddresseeRecord),
    Receipt(String, String, i64),
    Attachment(crate::store::attachments::AttachmentRecord),
}

pub(super) fn detail(r: &dyn Cells) -> StoreResult<Detail> {
    detail_at(r, 0)
}

/// A row of [`detail_arms`] whose columns start at `b`.
pub(super) fn detail_at(r: &dyn Cells, b: usize) -> StoreResult<Detail> {
    let small = |v: Option<i64>| -> StoreResult<i16> {
        i16::try_from(v.unwrap_or_default())
            .map_err(|_| StoreError::Corrupt("a small number out of range".into()))
    };
    let int = |v: Option<i64>| -> StoreResult<i32> {
        i32::try_from(v.unwrap_or_default())
            .map_err(|_| StoreError::Corrupt("a number out of range".into()))
    };
    let k = must(r.int(b)?, b)?;
    let letter_id = must(r.text(b + 1)?, b + 1)?;
    let t = |i: usize| -> StoreResult<String> { Ok(r.text(b + 1 + i)?.unwrap_or_default()) };
    let n = |i: usize| -> StoreResult<Option<i64>> { r.int(b + 7 + i) };
    Ok(match k {
        1 => Detail::Step(StepRecord {
            letter_id,
            idx: int(n(1)?)?,
            position_id: t(1)?,
            kind: crate::store::read::stored(small(n(2)?)?, b + 9)?,
            decision: crate::store::read::stored(small(n(3)?)?, b + 10)?,
            decided_by_user_id: t(2)?,
            decided_by_position_id: t(3)?,
            decided_by_assignment_kind: small(n(4)?)?,
            decide_time_us: n(5)?,
            version: int(n(6)?)?,
        }),
        2 => Detail::Addressee(AddresseeRecord {
            letter_id,
            kind: crate::store::read::stored(small(n(1)?)?, b + 8)?,
            idx: int(n(2)?)?,
            position_id: t(1)?,
            external: t(2)?,
            display_name: t(3)?,
        }),
        3 => Detail::Receipt(letter_id, t(1)?, n(1)?.unwrap_or_default()),
        _ => Detail::Attachment(crate::store::attachments::AttachmentRecord {
            id: t(1)?,
            letter_id,
            agency_id: t(2)?,
            file_name: t(3)?,
            media_type: t(4)?,
            sha256: t(5)?,
            uploaded_by_user_id: t(6)?,
            created_at_us: n(1)?.unwrap_or_default(),
            size_bytes: n(2)?.unwrap_or_default(),
            is_scan: n(3)? == Some(1),
        }),
    })
}

/// [`details_stmt`] with its decoder, as a next read of [`Store::rows_then`].
pub(super) fn details_then(
    backend: sea_orm::DbBackend,
    ids: Vec<String>,
) -> Vec<(sea_orm::Statement, Decode<Detail>)> {
    details_stmt(backend, ids)
        .map(|st| (st, detail as Decode<Detail>))
        .into_iter()
        .collect()
}

/// Steps, addressees, read receipts and attachments of several letters, in one
/// statement (a page's details cost one round trip, whatever its size).
pub async fn details_of(db: &impl Db, ids: &[String]) -> StoreResult<LetterDetails> {
    let backend = db.conn().get_database_backend();
    match details_stmt(backend, ids.to_vec()) {
        Some(stmt) => Ok(collect_details(
            crate::store::read::rows_of(db, stmt, detail, Reach::Keyed).await?,
        )),
        None => Ok(LetterDetails::default()),
    }
}

/// The statement of [`details_of`] (none for no ids).
pub(super) fn details_stmt(
    backend: sea_orm::DbBackend,
    mut ids: Vec<String>,
) -> Option<sea_orm::Statement> {
    if ids.is_empty() {
        return None;
    }
    // Each id once: the statement joins the tables to the list.
    ids.sort_unstable();
    ids.dedup();
    let n = ids.len();
    let values: Vec<sea_orm::Value> = ids.into_iter().map(sea_orm::Value::from).collect();
    Some(sea_orm::Statement::from_sql_and_values(
        backend,
        details_sql(backend, n),
        values,
    ))
}

/// The rows of [`details_sql`] by kind, each kind in the order [`LetterDetails`]
/// names.
pub(super) fn collect_details(rows: Vec<Detail>) -> LetterDetails {
    let mut out = LetterDetails::default();
    for d in rows {
        match d {
            Detail::Step(s) => out.steps.push(s),
            Detail::Addressee(a) => out.addressees.push(a),
            Detail::Receipt(l, p, t) => out.receipts.push((l, p, t)),
            Detail::Attachment(a) => out.attachments.push(a),
        }
    }
    out.sorted()
}

impl LetterDetails {
    /// The same details, each kind in the order [`LetterDetails`] names.
    pub fn sorted(mut self) -> Self {
        self.steps
            .sort_unstable_by(|a, b| (&a.letter_id, a.idx).cmp(&(&b.letter_id, b.idx)));
        self.addressees.sort_unstable_by(|a, b| {
            (&a.letter_id, a.kind, a.idx).cmp(&(&b.letter_id, b.kind, b.idx))
        });
        self.receipts
            .sort_unstable_by(|a, b| (&a.0, a.2, &a.1).cmp(&(&b.0, b.2, &b.1)));
        self.attachments.sort_unstable_by(|a, b| {
            (&a.letter_id, a.created_at_us, a.size_bytes, &a.id).cmp(&(
                &b.letter_id,
                b.created_at_us,
                b.size_bytes,
                &b.id,
            ))
        });
        self
    }
}

/// What VerifyLetter needs of a signed letter, read by its verification code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerificationRow {
    /// The letter's agency.
    pub agency_id: String,
    /// Letter number.
    pub number: String,
    /// Signing time.
    pub sign_time_us: Option<i64>,
    /// Security level code.
    pub security_level: i16,
    /// Subject.
    pub subject: String,
    /// Lifecycle state.
    pub state: crate::domain::lifecycle::LetterState,
    /// The signed manifest.
    pub manifest: Vec<u8>,
    /// The CMS signature (DER).
    pub signature: Vec<u8>,
    /// SHA-256 of the manifest, hex.
    pub manifest_sha256: String,
    /// The agency's name (empty if the agency row is gone).
    pub agency_name: String,
    /// The agency's CA certificate (DER), if it has one.
    pub ca_der: Option<Vec<u8>>,
    /// Serial of the certificate the signature was made with, hex.
    pub cert_serial: String,
    /// That certificate's key: `None` when the key is not on record, else its
    /// revocation time (`Some(None)`: not revoked).
    pub key_revoked_at_us: Option<Option<i64>>,
}

pub(super) fn verification_row(r: &dyn Cells) -> StoreResult<VerificationRow> {
    Ok(VerificationRow {
        agency_id: must(r.text(0)?, 0)?,
        number: must(r.text(1)?, 1)?,
        sign_time_us: r.int(2)?,
        security_level: must(r.small(3)?, 3)?,
        subject: must(r.text(4)?, 4)?,
        state: crate::store::read::stored(must(r.small(5)?, 5)?, 5)?,
        manifest: must(r.bytes(6)?, 6)?,
        signature: must(r.bytes(7)?, 7)?,
        manifest_sha256: must(r.text(8)?, 8)?,
        agency_name: r.text(9)?.unwrap_or_default(),
        ca_der: r.bytes(10)?,
        cert_serial: must(r.text(11)?, 11)?,
        key_revoked_at_us: r.text(12)?.map(|_| r.int(13)).transpose()?,
    })
}

/// The signature, the letter, its agency's name and CA, and the signing key's
/// revocation of a verification code, in one statement.
pub async fn verification_of(store: &Store, code: &str) -> StoreResult<Option<VerificationRow>> {
    let backend = store.reader().get_database_backend();
    let param = mark(backend, 1);
    let sql = format!(
        "SELECT l.agency_id, l.number, l.sign_time_us, l.security_level, l.subject, l.state, \
         s.manifest, s.signature, s.manifest_sha256, a.name AS agency_name, c.cert_der, \
         s.cert_serial, k.serial, k.revoked_at_us \
         FROM letter_signature s JOIN letter l ON l.verification_code = s.verification_code \
         LEFT JOIN agency a ON a.id = l.agency_id \
         LEFT JOIN agency_ca c ON c.agency_id = l.agency_id \
         LEFT JOIN signing_key k ON k.serial = s.cert_serial \
         WHERE s.verification_code = {param} LIMIT 1"
    );
    let stmt = sea_orm::Statement::from_sql_and_values(backend, sql, [sea_orm::Value::from(code)]);
    Ok(store
        .rows(stmt, verification_row, Reach::Keyed)
        .await?
        .pop())
}
