//! Units and the org chart.

use super::*;

/// Changes to a unit; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct UnitChanges {
    /// New parent (`Some(None)` makes it a root).
    pub parent_unit_id: Option<Option<String>>,
    /// New code.
    pub code: Option<String>,
    /// New name.
    pub name: Option<String>,
}

async fn check_unit_parent(tx: &WriteTx, agency: &str, unit_id: &str, parent: &str) -> Result<()> {
    let mut cursor = Some(parent.to_owned());
    let mut steps = 0;
    while let Some(id) = cursor {
        if id == unit_id {
            return Err(Error::rejected(
                Reason::UnitCycle,
                "a unit cannot be moved below itself",
            ));
        }
        steps += 1;
        if steps > 10_000 {
            return Err(Error::rejected(
                Reason::UnitCycle,
                "the unit tree is too deep",
            ));
        }
        cursor = q::unit(tx, agency, &id)
            .await?
            .ok_or_else(|| not_found(Reason::ParentUnitNotFound, "parent unit"))?
            .parent_unit_id;
    }
    Ok(())
}

/// Creates a unit.
pub async fn create_unit(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    parent: Option<String>,
    code: &str,
    name: &str,
) -> Result<UnitRecord> {
    let agency = ctx.agency();
    if let Some(p) = &parent {
        q::unit(&*tx, agency, p)
            .await?
            .ok_or_else(|| not_found(Reason::ParentUnitNotFound, "parent unit"))?;
    }
    if q::unit_by_code(&*tx, agency, code).await?.is_some() {
        return Err(Error::rejected(
            Reason::UnitCodeTaken,
            format!("unit code {code} is taken"),
        ));
    }
    let now = tx.now_us();
    let u = UnitRecord {
        id: uuid::Uuid::new_v4().to_string(),
        agency_id: agency.to_owned(),
        parent_unit_id: parent,
        code: code.to_owned(),
        name: name.to_owned(),
        version: 1,
        created_at_us: now,
        updated_at_us: now,
    };
    q::insert_unit(&*tx, &u)
        .await
        .map_err(|e| taken(e, Reason::UnitCodeTaken, "unit code is taken"))?;
    tx.audit(ctx.event("unit", &u.id, format!("unit {} created", u.code)));
    Ok(u)
}

/// Updates a unit.
pub async fn update_unit(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    id: &str,
    etag: &str,
    ch: UnitChanges,
) -> Result<UnitRecord> {
    let agency = ctx.agency();
    let mut u = q::unit(&*tx, agency, id)
        .await?
        .ok_or_else(|| not_found(Reason::UnitNotFound, "unit"))?;
    check_etag(etag, u.version)?;
    let expected = u.version;
    let mut changed = Vec::new();
    if let Some(parent) = ch.parent_unit_id {
        if let Some(p) = &parent {
            check_unit_parent(tx, agency, &u.id, p).await?;
        }
        u.parent_unit_id = parent;
        changed.push("parent_unit_id");
    }
    if let Some(code) = ch.code {
        if code != u.code && q::unit_by_code(&*tx, agency, &code).await?.is_some() {
            return Err(Error::rejected(
                Reason::UnitCodeTaken,
                format!("unit code {code} is taken"),
            ));
        }
        u.code = code;
        changed.push("code");
    }
    if let Some(name) = ch.name {
        u.name = name;
        changed.push("name");
    }
    u.version += 1;
    u.updated_at_us = tx.now_us();
    if !q::update_unit(&*tx, &u, expected)
        .await
        .map_err(|e| taken(e, Reason::UnitCodeTaken, "unit code is taken"))?
    {
        return Err(Error::rejected(
            Reason::EtagMismatch,
            "the unit changed since it was read",
        ));
    }
    tx.audit(ctx.event(
        "unit",
        &u.id,
        format!("unit updated: {}", changed.join(", ")),
    ));
    Ok(u)
}

/// Reads a unit.
pub async fn get_unit(store: &Store, p: &Principal, id: &str) -> Result<UnitRecord> {
    q::unit(store, &p.agency_id, id)
        .await?
        .ok_or_else(|| not_found(Reason::UnitNotFound, "unit"))
}

/// Lists units by code.
pub async fn list_units(
    store: &Store,
    p: &Principal,
    parent: Option<&str>,
    size: i32,
    token: &str,
) -> Result<(Vec<UnitRecord>, String)> {
    let limit = page::page_size(size, 50, 500)?;
    let fp = page::fingerprint(&["units", parent.unwrap_or("")]);
    let after = page::decode(token, &fp)?;
    let mut rows = q::list_units(store, &p.agency_id, parent, after.as_deref(), limit + 1).await?;
    let next = page::next_token(&mut rows, limit, |u| page::encode(&fp, &u.code));
    Ok((rows, next))
}

// ---------------------------------------------------------------- positions

/// A current holder on the chart.
#[derive(Clone, Debug)]
pub struct ChartHolder {
    pub user_id: String,
    pub full_name: String,
    pub kind: i16,
}

/// A position on the chart.
#[derive(Clone, Debug)]
pub struct ChartPosition {
    pub position: PositionRecord,
    pub holders: Vec<ChartHolder>,
    pub secretaries: Vec<String>,
}

/// A unit on the chart.
#[derive(Clone, Debug)]
pub struct ChartUnit {
    pub unit: UnitRecord,
    pub positions: Vec<ChartPosition>,
    pub children: Vec<ChartUnit>,
}

/// The unit tree with positions and current holders, from `root` (or all roots).
pub async fn org_chart(store: &Store, p: &Principal, root: Option<&str>) -> Result<Vec<ChartUnit>> {
    let agency = &p.agency_id;
    let units = q::all_units(store, agency).await?;
    if let Some(r) = root
        && !units.iter().any(|u| u.id == r)
    {
        return Err(not_found(Reason::UnitNotFound, "unit"));
    }
    let positions = q::all_positions(store, agency).await?;
    let now = store.clock().now_us();
    let active = q::list_assignments(store, agency, None, None, Some(now), None, u64::MAX).await?;
    let user_ids: Vec<String> = active.iter().map(|a| a.user_id.clone()).collect();
    let names: HashMap<String, String> = q::users_by_ids(store, agency, &user_ids)
        .await?
        .into_iter()
        .filter(|u| !u.disabled)
        .map(|u| (u.id, u.full_name))
        .collect();
    let mut holders: HashMap<&str, Vec<ChartHolder>> = HashMap::new();
    for a in &active {
        if let Some(name) = names.get(&a.user_id) {
            holders
                .entry(a.position_id.as_str())
                .or_default()
                .push(ChartHolder {
                    user_id: a.user_id.clone(),
                    full_name: name.clone(),
                    kind: a.kind,
                });
        }
    }
    let mut secretaries: HashMap<String, Vec<String>> = HashMap::new();
    for (pos, user) in q::secretaries(store, agency).await? {
        secretaries.entry(pos).or_default().push(user);
    }
    let mut by_unit: HashMap<&str, Vec<ChartPosition>> = HashMap::new();
    for pos in &positions {
        by_unit
            .entry(pos.unit_id.as_str())
            .or_default()
            .push(ChartPosition {
                position: pos.clone(),
                holders: holders.remove(pos.id.as_str()).unwrap_or_default(),
                secretaries: secretaries.remove(&pos.id).unwrap_or_default(),
            });
    }
    let mut children: HashMap<Option<&str>, Vec<&UnitRecord>> = HashMap::new();
    for u in &units {
        children
            .entry(u.parent_unit_id.as_deref())
            .or_default()
            .push(u);
    }
    fn build<'a>(
        u: &'a UnitRecord,
        children: &HashMap<Option<&'a str>, Vec<&'a UnitRecord>>,
        by_unit: &mut HashMap<&'a str, Vec<ChartPosition>>,
        depth: usize,
    ) -> ChartUnit {
        let kids = if depth > 64 {
            Vec::new()
        } else {
            children
                .get(&Some(u.id.as_str()))
                .cloned()
                .unwrap_or_default()
        };
        ChartUnit {
            unit: u.clone(),
            positions: by_unit.remove(u.id.as_str()).unwrap_or_default(),
            children: kids
                .into_iter()
                .map(|c| build(c, children, by_unit, depth + 1))
                .collect(),
        }
    }
    let roots: Vec<&UnitRecord> = match root {
        Some(r) => units.iter().filter(|u| u.id == r).collect(),
        None => children.get(&None).cloned().unwrap_or_default(),
    };
    Ok(roots
        .into_iter()
        .map(|u| build(u, &children, &mut by_unit, 0))
        .collect())
}
