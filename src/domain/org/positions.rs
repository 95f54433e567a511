//! Positions and their superiors.

use super::*;

/// Changes to a position; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct PositionChanges {
    /// New unit.
    pub unit_id: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New superior (`Some(None)` makes it the top).
    pub superior_position_id: Option<Option<String>>,
    /// New head flag.
    pub is_unit_head: Option<bool>,
}

async fn check_superior(
    tx: &WriteTx,
    agency: &str,
    position_id: &str,
    superior: &str,
) -> Result<()> {
    let mut cursor = Some(superior.to_owned());
    let mut steps = 0;
    while let Some(id) = cursor {
        if id == position_id {
            return Err(Error::rejected(
                Reason::PositionCycle,
                "a position cannot be its own superior",
            ));
        }
        steps += 1;
        if steps > 10_000 {
            return Err(Error::rejected(
                Reason::PositionCycle,
                "the hierarchy is too deep",
            ));
        }
        cursor = q::position(tx, agency, &id)
            .await?
            .ok_or_else(|| not_found(Reason::SuperiorNotFound, "superior position"))?
            .superior_position_id;
    }
    Ok(())
}

/// Creates a position.
pub async fn create_position(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    unit_id: &str,
    name: &str,
    superior: Option<String>,
    is_unit_head: bool,
) -> Result<PositionRecord> {
    let agency = ctx.agency();
    q::unit(&*tx, agency, unit_id)
        .await?
        .ok_or_else(|| not_found(Reason::UnitNotFound, "unit"))?;
    if let Some(s) = &superior {
        q::position(&*tx, agency, s)
            .await?
            .ok_or_else(|| not_found(Reason::SuperiorNotFound, "superior position"))?;
    }
    let now = tx.now_us();
    let p = PositionRecord {
        id: uuid::Uuid::new_v4().to_string(),
        agency_id: agency.to_owned(),
        unit_id: unit_id.to_owned(),
        name: name.to_owned(),
        superior_position_id: superior,
        is_unit_head,
        version: 1,
        created_at_us: now,
        updated_at_us: now,
    };
    q::insert_position(&*tx, &p).await?;
    tx.audit(ctx.event("position", &p.id, "position created"));
    Ok(p)
}

/// Updates a position; its id stays, so letters addressed to it follow it.
pub async fn update_position(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    id: &str,
    etag: &str,
    ch: PositionChanges,
) -> Result<PositionRecord> {
    let agency = ctx.agency();
    let mut p = q::position(&*tx, agency, id)
        .await?
        .ok_or_else(|| not_found(Reason::PositionNotFound, "position"))?;
    check_etag(etag, p.version)?;
    let expected = p.version;
    let mut changed = Vec::new();
    if let Some(unit_id) = ch.unit_id {
        q::unit(&*tx, agency, &unit_id)
            .await?
            .ok_or_else(|| not_found(Reason::UnitNotFound, "unit"))?;
        p.unit_id = unit_id;
        changed.push("unit_id");
    }
    if let Some(name) = ch.name {
        p.name = name;
        changed.push("name");
    }
    if let Some(sup) = ch.superior_position_id {
        if let Some(s) = &sup {
            check_superior(tx, agency, &p.id, s).await?;
        }
        p.superior_position_id = sup;
        changed.push("superior_position_id");
    }
    if let Some(h) = ch.is_unit_head {
        p.is_unit_head = h;
        changed.push("is_unit_head");
    }
    p.version += 1;
    p.updated_at_us = tx.now_us();
    if !q::update_position(&*tx, &p, expected).await? {
        return Err(Error::rejected(
            Reason::EtagMismatch,
            "the position changed since it was read",
        ));
    }
    tx.audit(ctx.event(
        "position",
        &p.id,
        format!("position updated: {}", changed.join(", ")),
    ));
    Ok(p)
}

/// Lists positions.
pub async fn list_positions(
    store: &Store,
    p: &Principal,
    unit: Option<&str>,
    size: i32,
    token: &str,
) -> Result<(Vec<PositionRecord>, String)> {
    let limit = page::page_size(size, 50, 500)?;
    let fp = page::fingerprint(&["positions", unit.unwrap_or("")]);
    let after = page::decode_time_key(token, &fp)?;
    let mut rows = q::list_positions(store, &p.agency_id, unit, after, limit + 1).await?;
    let next = page::next_token(&mut rows, limit, |r| {
        page::encode_time_key(&fp, r.created_at_us, &r.id)
    });
    Ok((rows, next))
}

// ---------------------------------------------------------------- users
