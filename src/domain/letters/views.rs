//! What a letter looks like to its reader: views, folders, versions,
//! comments and the signed document.

use super::*;

/// Everything shown about one letter.
#[derive(Clone, Debug)]
pub struct LetterView {
    pub letter: LetterRecord,
    pub steps: Vec<StepRecord>,
    pub addressees: Vec<AddresseeRecord>,
    pub receipts: HashMap<String, i64>,
    pub attachments: Vec<crate::store::attachments::AttachmentRecord>,
    pub read: bool,
    /// Display names of the users and positions the page names (one map for
    /// the whole page, shared by its letters).
    pub users: std::sync::Arc<HashMap<String, String>>,
    pub positions: std::sync::Arc<HashMap<String, String>>,
    pub with_body: bool,
    /// The consignments of its addressees in other agencies, in addressee order.
    pub dispatches: Vec<crate::store::exchange::OutRecord>,
}

impl LetterView {
    /// The etag of the letter.
    pub fn etag(&self) -> String {
        etag(self.letter.revision)
    }

    /// The stored incoming details, if any.
    pub fn incoming(&self) -> Option<Incoming> {
        serde_json::from_str(&self.letter.incoming).ok()
    }

    /// An external addressee's stored details.
    pub fn external(a: &AddresseeRecord) -> External {
        serde_json::from_str(&a.external).unwrap_or_default()
    }
}

/// The view of one letter whose details were read with it.
pub(super) async fn view_with(
    store: &impl Names,
    l: LetterRecord,
    read: bool,
    details: q::LetterDetails,
    with_body: bool,
) -> Result<LetterView> {
    let mut v = views_with(store, vec![(l, read)], details, with_body).await?;
    v.pop()
        .ok_or_else(|| Error::Internal("letter view vanished".into()))
}

/// Views of letters whose details were read with them (a fixed number of
/// queries, whatever their number).
pub(super) async fn views_with(
    store: &impl Names,
    letters: Vec<(LetterRecord, bool)>,
    details: q::LetterDetails,
    with_body: bool,
) -> Result<Vec<LetterView>> {
    let Some(agency) = letters.first().map(|(l, _)| l.agency_id.clone()) else {
        return Ok(Vec::new());
    };
    let mut steps: HashMap<String, Vec<StepRecord>> = HashMap::new();
    for s in details.steps {
        steps.entry(s.letter_id.clone()).or_default().push(s);
    }
    let mut addressees: HashMap<String, Vec<AddresseeRecord>> = HashMap::new();
    for a in details.addressees {
        addressees.entry(a.letter_id.clone()).or_default().push(a);
    }
    let mut receipts: HashMap<String, HashMap<String, i64>> = HashMap::new();
    for (letter, position, t) in details.receipts {
        receipts.entry(letter).or_default().insert(position, t);
    }
    let mut attachments: HashMap<String, Vec<crate::store::attachments::AttachmentRecord>> =
        HashMap::new();
    for a in details.attachments {
        attachments.entry(a.letter_id.clone()).or_default().push(a);
    }
    let mut user_ids: Vec<String> = Vec::new();
    let mut position_ids: Vec<String> = Vec::new();
    for (l, _) in &letters {
        user_ids.extend([l.drafted_by_user_id.clone(), l.signer_user_id.clone()]);
        position_ids.extend([l.drafting_position_id.clone(), l.signer_position_id.clone()]);
    }
    for s in steps.values().flatten() {
        user_ids.push(s.decided_by_user_id.clone());
        position_ids.push(s.position_id.clone());
    }
    for ids in [&mut user_ids, &mut position_ids] {
        ids.retain(|x| !x.is_empty());
        ids.sort();
        ids.dedup();
    }
    // Consignments exist only for outgoing letters with an external addressee.
    let exchanged: Vec<String> = letters
        .iter()
        .filter(|(l, _)| l.direction == Direction::Outgoing && l.sign_time_us.is_some())
        .filter(|(l, _)| {
            addressees
                .get(&l.id)
                .is_some_and(|a| a.iter().any(|a| a.position_id.is_empty()))
        })
        .map(|(l, _)| l.id.clone())
        .collect();
    let mut dispatches: HashMap<String, Vec<crate::store::exchange::OutRecord>> = HashMap::new();
    for o in crate::domain::exchange::dispatches::of_letters(store, &exchanged).await? {
        dispatches.entry(o.letter_id.clone()).or_default().push(o);
    }
    let now = store.now();
    let users = std::sync::Arc::new(
        store
            .names()
            .user_names(store, &agency, &user_ids, now)
            .await?,
    );
    let positions = std::sync::Arc::new(
        store
            .names()
            .position_names(store, &agency, &position_ids, now)
            .await?,
    );
    Ok(letters
        .into_iter()
        .map(|(l, read)| LetterView {
            steps: steps.remove(&l.id).unwrap_or_default(),
            addressees: addressees.remove(&l.id).unwrap_or_default(),
            receipts: receipts.remove(&l.id).unwrap_or_default(),
            attachments: attachments.remove(&l.id).unwrap_or_default(),
            read,
            users: users.clone(),
            positions: positions.clone(),
            with_body,
            dispatches: dispatches.remove(&l.id).unwrap_or_default(),
            letter: l,
        })
        .collect())
}

/// Reads a letter; a read of an R/SR letter is audited.
pub async fn get(store: &Store, p: &Principal, meta: &RequestMeta, id: &str) -> Result<LetterView> {
    get_as(store, p, meta, id, "").await
}

/// [`get`] as one of the caller's positions (`acting`, held or served; empty:
/// any of them): the letter must reach that position, and the view's read
/// flag is that position's. A position the caller neither holds nor serves
/// now is refused with NOT_POSITION_HOLDER.
pub async fn get_as(
    store: &Store,
    p: &Principal,
    meta: &RequestMeta,
    id: &str,
    acting: &str,
) -> Result<LetterView> {
    let caller = Caller::cached(store, p).await?;
    let positions = positions_as(&caller, acting)?;
    // The letter and, when the caller may see it, its details in one read.
    let (l, details) =
        match q::letter_for_with_details(store, &p.agency_id, id, &positions, may_see).await? {
            Some((l, part, details)) if may_see(&l, part) => (l, details),
            _ => return Err(not_found()),
        };
    if is_secret(&l) {
        audit_secret_read(store, p, meta, &caller, id, "letter").await?;
    }
    // Read by the caller: a read time on an inbox or copy entry of a position
    // the caller holds (the view's receipts are those entries).
    let mut v = view_with(store, l, false, details, true).await?;
    let readers = if acting.is_empty() {
        caller.held_ids()
    } else {
        positions
    };
    v.read = v.receipts.keys().any(|pid| readers.contains(pid));
    Ok(v)
}

/// Where a view finds the display names of users and positions: the store
/// outside a transaction, or a write transaction (which reads its own
/// writes).
pub(super) trait Names: Db {
    /// The names cache.
    fn names(&self) -> &crate::store::cache::Caches;
    /// The time the cache entries are judged at.
    fn now(&self) -> i64;
}

impl Names for Store {
    fn names(&self) -> &crate::store::cache::Caches {
        self.caches()
    }
    fn now(&self) -> i64 {
        self.clock().now_us()
    }
}

impl Names for WriteTx {
    fn names(&self) -> &crate::store::cache::Caches {
        self.caches()
    }
    fn now(&self) -> i64 {
        self.now_us()
    }
}

/// The caller's view of a letter its write transaction has just changed,
/// read in that transaction: what [`get`] answers once it commits, and what
/// a retry with the same `request_id` is answered again (the response is
/// remembered with the change). Showing a secret letter is a read of it, and
/// is audited with the change.
pub async fn answer(tx: &mut WriteTx, ctx: Ctx<'_>, l: LetterRecord) -> Result<LetterView> {
    let details = q::details_of(&*tx, std::slice::from_ref(&l.id)).await?;
    answer_with(tx, ctx, l, details).await
}

/// [`answer`] for a letter the transaction created, built from the rows
/// written instead of read back (a new letter has no route, no read receipts
/// and no attachments yet).
pub async fn answer_created(tx: &mut WriteTx, ctx: Ctx<'_>, c: Created) -> Result<LetterView> {
    let details = q::LetterDetails {
        addressees: c.addressees,
        ..Default::default()
    }
    .sorted();
    answer_with(tx, ctx, c.letter, details).await
}

async fn answer_with(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    l: LetterRecord,
    details: q::LetterDetails,
) -> Result<LetterView> {
    let caller = Caller::in_tx(tx, ctx.principal).await?;
    if is_secret(&l) {
        tx.audit(secret_read_event(ctx, &caller, &l.id, "letter"));
    }
    let mut v = view_with(&*tx, l, false, details, true).await?;
    let held = caller.held_ids();
    v.read = v.receipts.keys().any(|pid| held.contains(pid));
    Ok(v)
}

/// A page of one folder; with `full`, each letter's route, addressees, read
/// receipts and attachments too (read with the page, one more statement).
#[allow(clippy::too_many_arguments)]
pub async fn list(
    store: &Store,
    p: &Principal,
    f: Folder,
    position: &str,
    filter: q::BoxFilter,
    size: i32,
    token: &str,
    full: bool,
) -> Result<(Vec<LetterView>, String)> {
    let limit = page::page_size(size, 50, 200)?;
    let caller = Caller::cached(store, p).await?;
    let positions = positions_as(&caller, position)?;
    let types: Vec<String> = filter.types.iter().map(|t| t.to_string()).collect();
    let fp = page::fingerprint(&[
        "letters",
        &i16::from(f).to_string(),
        position,
        &types.join(","),
        &filter
            .urgencies
            .iter()
            .map(|u| u.to_string())
            .collect::<Vec<_>>()
            .join(","),
        &filter.query,
        if filter.unread_only { "1" } else { "0" },
        &filter
            .created_from_us
            .map(|v| v.to_string())
            .unwrap_or_default(),
        &filter
            .created_to_us
            .map(|v| v.to_string())
            .unwrap_or_default(),
    ]);
    let after = page::decode_time_key(token, &fp)?;
    let shown = if full {
        usize::try_from(limit).unwrap_or(usize::MAX)
    } else {
        0
    };
    let (mut rows, details) =
        q::list_box(store, &positions, f, &filter, after, limit + 1, shown).await?;
    let next = page::next_token(&mut rows, limit, |r| {
        page::encode(&fp, &format!("{}:{}", r.sort_us, r.letter.id))
    });
    let out = views_with(
        store,
        rows.into_iter()
            .map(|r| (r.letter, r.read_at_us.is_some()))
            .collect(),
        details,
        false,
    )
    .await?;
    Ok((out, next))
}

/// Versions of a letter the caller may see.
pub async fn versions(
    store: &Store,
    p: &Principal,
    meta: &RequestMeta,
    id: &str,
    size: i32,
    token: &str,
) -> Result<(Vec<q::VersionRecord>, String)> {
    let limit = page::page_size(size, 50, 200)?;
    read_content(store, p, meta, id, "versions").await?;
    let fp = page::fingerprint(&["versions", id]);
    let after = page::decode(token, &fp)?
        .map(|k| k.parse::<i32>().unwrap_or(i32::MAX))
        .unwrap_or(0);
    let mut rows = q::versions(store, id, after, limit + 1).await?;
    let next = page::next_token(&mut rows, limit, |v| {
        page::encode(&fp, &v.version.to_string())
    });
    Ok((rows, next))
}

/// Comments of a letter the caller may see.
pub async fn comments(
    store: &Store,
    p: &Principal,
    meta: &RequestMeta,
    id: &str,
    size: i32,
    token: &str,
) -> Result<(Vec<q::CommentRecord>, String)> {
    let limit = page::page_size(size, 50, 200)?;
    read_content(store, p, meta, id, "comments").await?;
    let fp = page::fingerprint(&["comments", id]);
    let after = page::decode_time_key(token, &fp)?;
    let mut rows = q::comments(store, id, after, limit + 1).await?;
    let next = page::next_token(&mut rows, limit, |c| {
        page::encode(&fp, &format!("{}:{}", c.created_at_us, c.id))
    });
    Ok((rows, next))
}

/// The signed artefact: (manifest, CMS DER, signer certificate DER, CA certificate DER, code).
pub async fn signed_document(
    store: &Store,
    p: &Principal,
    meta: &RequestMeta,
    id: &str,
) -> Result<(Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>, String)> {
    let l = read_content(store, p, meta, id, "signed document").await?;
    if l.state == LetterState::Destroyed {
        return Err(Error::rejected(
            Reason::ContentDestroyed,
            "the signed document was destroyed under an approved disposal; its hash remains",
        ));
    }
    let sig = q::signature(store, id)
        .await?
        .ok_or_else(|| Error::rejected(Reason::NotSigned, "the letter is not signed"))?;
    let key = signq::key_by_serial_any(store, &sig.cert_serial)
        .await?
        .ok_or_else(|| Error::Internal("signing key vanished".into()))?;
    let ca = signq::agency_ca(store, &p.agency_id)
        .await?
        .map(|c| c.0)
        .unwrap_or_default();
    Ok((
        sig.manifest,
        sig.signature,
        key.cert_der,
        ca,
        sig.verification_code,
    ))
}
