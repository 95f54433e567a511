//! Who holds a position (definitively, or acting as PLT/PLH inside a window)
//! and who serves it as secretary.

use super::*;

/// A new assignment.
#[derive(Clone, Debug)]
pub struct NewAssignment {
    pub user_id: String,
    pub position_id: String,
    pub kind: AssignmentKind,
    pub valid_from_us: Option<i64>,
    pub valid_until_us: Option<i64>,
    pub basis: String,
}

/// Assigns a user to a position.
pub async fn assign(tx: &mut WriteTx, ctx: Ctx<'_>, n: NewAssignment) -> Result<AssignmentRecord> {
    let agency = ctx.agency();
    let user = load_user(tx, ctx, &n.user_id).await?;
    q::position(&*tx, agency, &n.position_id)
        .await?
        .ok_or_else(|| not_found(Reason::PositionNotFound, "position"))?;
    let from = n.valid_from_us.unwrap_or(tx.now_us());
    if matches!(n.kind, AssignmentKind::Plt | AssignmentKind::Plh) && n.valid_until_us.is_none() {
        return Err(Error::rejected(
            Reason::InvalidWindow,
            "PLT and PLH assignments need valid_until",
        ));
    }
    if n.valid_until_us.is_some_and(|u| u <= from) {
        return Err(Error::rejected(
            Reason::InvalidWindow,
            "valid_until must be after valid_from",
        ));
    }
    let kind = n.kind as i16;
    if n.kind == AssignmentKind::Definitive {
        let others = q::overlapping(&*tx, &n.position_id, kind, from, n.valid_until_us).await?;
        if others.iter().any(|a| a.user_id != user.id) {
            return Err(Error::rejected(
                Reason::PositionOccupied,
                "the position has a definitive holder in that window",
            ));
        }
    }
    let a = AssignmentRecord {
        id: uuid::Uuid::new_v4().to_string(),
        agency_id: agency.to_owned(),
        user_id: user.id,
        position_id: n.position_id,
        kind,
        valid_from_us: from,
        valid_until_us: n.valid_until_us,
        basis: n.basis,
        version: 1,
        created_at_us: tx.now_us(),
    };
    q::insert_assignment(&*tx, &a).await?;
    tx.audit(ctx.event(
        "assignment",
        &a.id,
        format!(
            "{} assignment of user {} to position {}",
            n.kind.as_str_name(),
            a.user_id,
            a.position_id
        ),
    ));
    Ok(a)
}

/// Ends an assignment at `end_us` (now when `None`).
pub async fn end_assignment(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    id: &str,
    end_us: Option<i64>,
) -> Result<AssignmentRecord> {
    let mut a = q::assignment(&*tx, ctx.agency(), id)
        .await?
        .ok_or_else(|| not_found(Reason::AssignmentNotFound, "assignment"))?;
    let now = tx.now_us();
    let end = end_us.unwrap_or(now);
    if a.valid_until_us.is_some_and(|u| u <= now) {
        return Err(Error::rejected(
            Reason::AssignmentEnded,
            "the assignment has already ended",
        ));
    }
    if end <= a.valid_from_us {
        return Err(Error::rejected(
            Reason::InvalidWindow,
            "end_time must be after the assignment's start",
        ));
    }
    let end = a.valid_until_us.map_or(end, |u| u.min(end));
    q::set_assignment_end(&*tx, &a.id, end).await?;
    a.valid_until_us = Some(end);
    a.version += 1;
    tx.audit(ctx.event("assignment", &a.id, "assignment ended"));
    Ok(a)
}

/// Lists assignments.
#[allow(clippy::too_many_arguments)]
pub async fn list_assignments(
    store: &Store,
    p: &Principal,
    position: Option<&str>,
    user: Option<&str>,
    include_ended: bool,
    size: i32,
    token: &str,
) -> Result<(Vec<AssignmentRecord>, String)> {
    let limit = page::page_size(size, 50, 500)?;
    let fp = page::fingerprint(&[
        "assignments",
        position.unwrap_or(""),
        user.unwrap_or(""),
        if include_ended { "1" } else { "0" },
    ]);
    let after = page::decode_time_key(token, &fp)?;
    let active_at = (!include_ended).then(|| store.clock().now_us());
    let mut rows = q::list_assignments(
        store,
        &p.agency_id,
        position,
        user,
        active_at,
        after,
        limit + 1,
    )
    .await?;
    let next = page::next_token(&mut rows, limit, |r| {
        page::encode_time_key(&fp, r.created_at_us, &r.id)
    });
    Ok((rows, next))
}

// ---------------------------------------------------------------- secretaries

/// Adds or removes a secretary of a position; returns the position's secretaries.
pub async fn set_secretary(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    position_id: &str,
    user_id: &str,
    remove: bool,
) -> Result<Vec<String>> {
    let agency = ctx.agency();
    q::position(&*tx, agency, position_id)
        .await?
        .ok_or_else(|| not_found(Reason::PositionNotFound, "position"))?;
    let user = load_user(tx, ctx, user_id).await?;
    if remove {
        q::remove_secretary(&*tx, position_id, &user.id).await?;
    } else {
        if !roles_from_db(&user.roles).contains(&Role::Secretary) {
            return Err(Error::rejected(
                Reason::UserLacksRole,
                "the user needs the SECRETARY role",
            ));
        }
        q::add_secretary(&*tx, agency, position_id, &user.id).await?;
    }
    tx.audit(ctx.event(
        "position",
        position_id,
        format!(
            "secretary {} {}",
            user.id,
            if remove { "removed" } else { "added" }
        ),
    ));
    Ok(q::secretaries(&*tx, agency)
        .await?
        .into_iter()
        .filter(|(p, _)| p == position_id)
        .map(|(_, u)| u)
        .collect())
}

// ---------------------------------------------------------------- org chart
