//! What a disposition looks like: one, a list, the tree of a letter, and the
//! agency instructions.

use super::*;

/// A disposition with its recipients and responses.
#[derive(Clone, Debug)]
pub struct View {
    pub d: DispositionRecord,
    pub recipients: Vec<RecipientRecord>,
    pub responses: Vec<ResponseRecord>,
    pub now_us: i64,
}

impl View {
    /// Past due and not DONE for some recipient.
    pub fn overdue(&self) -> bool {
        self.d.state == DispositionState::Active
            && self.d.due_us.is_some_and(|due| due < self.now_us)
            && self
                .recipients
                .iter()
                .any(|r| !matches!(r.status, RecipientStatus::Done | RecipientStatus::Cancelled))
    }
}

async fn views(db: &impl Db, ds: Vec<DispositionRecord>, now: i64) -> Result<Vec<View>> {
    let ids: Vec<String> = ds.iter().map(|d| d.id.clone()).collect();
    let recipients = q::recipients_of(db, &ids).await?;
    let responses = q::responses_of(db, &ids).await?;
    Ok(assemble(ds, recipients, responses, now))
}

/// Views of dispositions from their recipients' and reports' rows.
fn assemble(
    ds: Vec<DispositionRecord>,
    all_recipients: Vec<RecipientRecord>,
    all_responses: Vec<ResponseRecord>,
    now: i64,
) -> Vec<View> {
    let mut recipients: HashMap<String, Vec<RecipientRecord>> = HashMap::new();
    for r in all_recipients {
        recipients
            .entry(r.disposition_id.clone())
            .or_default()
            .push(r);
    }
    let mut responses: HashMap<String, Vec<ResponseRecord>> = HashMap::new();
    for r in all_responses {
        responses
            .entry(r.disposition_id.clone())
            .or_default()
            .push(r);
    }
    ds.into_iter()
        .map(|d| View {
            recipients: recipients.remove(&d.id).unwrap_or_default(),
            responses: responses.remove(&d.id).unwrap_or_default(),
            d,
            now_us: now,
        })
        .collect()
}

/// One disposition by id, for its sender, its recipients, or their secretaries.
pub async fn get_view(store: &Store, p: &Principal, id: &str) -> Result<View> {
    view_of(store, p, id, store.clock().now_us()).await
}

/// The view of a disposition its write transaction has just changed, read in
/// that transaction: what [`get_view`] answers once it commits, and what a
/// retry with the same `request_id` is answered again.
pub async fn answer(tx: &WriteTx, p: &Principal, id: &str) -> Result<View> {
    view_of(tx, p, id, tx.now_us()).await
}

async fn view_of(db: &impl Db, p: &Principal, id: &str, now_us: i64) -> Result<View> {
    let (d, recipients, responses) = q::one(db, &p.agency_id, id).await?.ok_or_else(not_found)?;
    Ok(View {
        d,
        recipients,
        responses,
        now_us,
    })
}

/// Which dispositions to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Box {
    Received,
    Sent,
    Drafts,
}

/// Lists dispositions of the caller's positions, newest first.
#[allow(clippy::too_many_arguments)]
pub async fn list(
    store: &Store,
    p: &Principal,
    which: Box,
    position: &str,
    statuses: Vec<i16>,
    overdue_only: bool,
    size: i32,
    token: &str,
) -> Result<(Vec<View>, String)> {
    let limit = page::page_size(size, 50, 200)?;
    let now = store.clock().now_us();
    let caller = Caller::cached(store, p).await?;
    let mut positions = if which == Box::Drafts {
        caller.visible_ids()
    } else {
        caller.held_ids()
    };
    if !position.is_empty() {
        if !positions.iter().any(|x| x == position) {
            return Err(Error::rejected(
                Reason::NotPositionHolder,
                "you do not hold that position now",
            ));
        }
        positions = vec![position.to_owned()];
    }
    let st: Vec<String> = statuses.iter().map(|s| s.to_string()).collect();
    let fp = page::fingerprint(&[
        "dispositions",
        &format!("{which:?}"),
        position,
        &st.join(","),
        if overdue_only { "1" } else { "0" },
    ]);
    let after = page::decode_time_key(token, &fp)?;
    let filter = ListFilter {
        statuses,
        overdue_at: overdue_only.then_some(now),
    };
    let (mut keys, ds): (Vec<(i64, String)>, Vec<DispositionRecord>) = match which {
        Box::Received => {
            let rows = q::list_received(store, &positions, &filter, after, limit + 1).await?;
            let keys: Vec<(i64, String)> = rows
                .iter()
                .map(|r| (r.created_at_us, r.disposition_id.clone()))
                .collect();
            let mut by_id: HashMap<String, DispositionRecord> =
                q::by_ids(store, &keys.iter().map(|k| k.1.clone()).collect::<Vec<_>>())
                    .await?
                    .into_iter()
                    .map(|d| (d.id.clone(), d))
                    .collect();
            let ds = keys.iter().filter_map(|k| by_id.remove(&k.1)).collect();
            (keys, ds)
        }
        Box::Sent | Box::Drafts => {
            let user = (which == Box::Drafts).then_some(p.user_id.as_str());
            let ds = q::list_sent(store, &positions, user, &filter, after, limit + 1).await?;
            (
                ds.iter().map(|d| (d.created_at_us, d.id.clone())).collect(),
                ds,
            )
        }
    };
    let mut out = views(store, ds, now).await?;
    let next = if out.len() as u64 > limit {
        out.truncate(limit as usize);
        keys.truncate(limit as usize);
        keys.last()
            .map(|(t, id)| page::encode(&fp, &format!("{t}:{id}")))
            .unwrap_or_default()
    } else {
        String::new()
    };
    Ok((out, next))
}

/// A node of the tree.
#[derive(Clone, Debug)]
pub struct Node {
    pub view: View,
    pub children: Vec<Node>,
}

/// The disposition tree of a letter, from the nodes the caller's positions send or
/// receive (and everything below them), in one query per table.
pub async fn tree(store: &Store, p: &Principal, letter_id: &str) -> Result<Vec<Node>> {
    let now = store.clock().now_us();
    let caller = Caller::cached(store, p).await?;
    let visible = caller.visible_ids();
    let (ds, recipients, responses) =
        q::tree_for(store, &p.agency_id, letter_id, &visible, letters::may_see)
            .await?
            .ok_or_else(letters::not_found)?;
    let mine: HashSet<String> = visible.into_iter().collect();
    let all = assemble(ds, recipients, responses, now);
    let involved = |v: &View| {
        mine.contains(&v.d.sender_position_id)
            || v.recipients.iter().any(|r| mine.contains(&r.position_id))
    };
    let mut children: HashMap<String, Vec<View>> = HashMap::new();
    let mut by_id: HashSet<String> = HashSet::new();
    for v in &all {
        by_id.insert(v.d.id.clone());
    }
    let mut tops = Vec::new();
    for v in all {
        if !v.d.parent_id.is_empty() && by_id.contains(&v.d.parent_id) {
            children.entry(v.d.parent_id.clone()).or_default().push(v);
        } else {
            tops.push(v);
        }
    }
    fn build(v: View, children: &mut HashMap<String, Vec<View>>, depth: usize) -> Node {
        let kids = if depth > 256 {
            Vec::new()
        } else {
            children.remove(&v.d.id).unwrap_or_default()
        };
        Node {
            view: v,
            children: kids
                .into_iter()
                .map(|c| build(c, children, depth + 1))
                .collect(),
        }
    }
    // A node is shown when it or an ancestor involves the caller; it is a root of the
    // answer when no ancestor does.
    fn select(n: Node, involved: &dyn Fn(&View) -> bool, out: &mut Vec<Node>) {
        if involved(&n.view) {
            out.push(n);
        } else {
            for c in n.children {
                select(c, involved, out);
            }
        }
    }
    let mut out = Vec::new();
    for t in tops {
        let n = build(t, &mut children, 0);
        select(n, &involved, &mut out);
    }
    Ok(out)
}

/// The agency's instructions: (code, text).
pub async fn instructions(store: &Store, p: &Principal) -> Result<Vec<(String, String)>> {
    Ok(setupq::instructions(store, &p.agency_id).await?)
}
