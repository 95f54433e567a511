//! The organisation: units, positions, users, assignments, secretaries and the
//! org chart. Every read and write is confined to the caller's agency; an id of
//! another agency is reported as not found.

use std::collections::HashMap;

use super::context::{Ctx, check_etag};
use super::page;
use crate::auth::{Principal, password, roles_from_db, roles_to_db};
use crate::error::{Error, Reason, Result};
use crate::proto::{AssignmentKind, Role};
use crate::store::identity::{self as idq, UserRecord};
use crate::store::org::{self as q, AssignmentRecord, PositionRecord, UnitRecord};
use crate::store::{Store, WriteTx};

fn not_found(reason: Reason, what: &str) -> Error {
    Error::rejected(reason, format!("{what} not found"))
}

fn taken(e: crate::store::StoreError, reason: Reason, message: &str) -> Error {
    if e.is_unique_violation() {
        Error::rejected(reason, message)
    } else {
        e.into()
    }
}

/// A one-time password and its hash, made off the async threads.
pub async fn one_time_password() -> Result<(String, String)> {
    crate::crypto::run_kdf(|| {
        let otp = password::one_time();
        password::hash(&otp).map(|phc| (otp, phc))
    })
    .await
    .map_err(|e| Error::Internal(format!("password task: {e}")))?
    .map_err(Error::Internal)
}

// ---------------------------------------------------------------- units

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

/// A new user's profile.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub username: String,
    pub nip: String,
    pub full_name: String,
    pub email: String,
    pub roles: Vec<Role>,
}

fn check_grant(ctx: Ctx<'_>, roles: &[Role]) -> Result<()> {
    if roles.contains(&Role::SystemAdmin) && !ctx.principal.has(Role::SystemAdmin) {
        return Err(Error::rejected(
            Reason::CannotGrantRole,
            "only a SYSTEM_ADMIN may grant SYSTEM_ADMIN",
        ));
    }
    Ok(())
}

/// Creates a user with a one-time password hash (`phc`); they must change it at first login.
pub async fn create_user(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    n: NewUser,
    phc: String,
) -> Result<UserRecord> {
    check_grant(ctx, &n.roles)?;
    // In an agency with a login domain the stored (login) name is
    // `name@domain`: unique inside the agency, never clashing with another's.
    let mut n = n;
    let domain = idq::login_domain(&*tx, ctx.agency()).await?;
    if !domain.is_empty() {
        n.username = format!("{}@{domain}", n.username);
        if n.username.len() > 64 {
            return Err(Error::invalid(
                "username",
                format!(
                    "with the agency's login domain @{domain} it must be at most 64 characters"
                ),
            ));
        }
    }
    if idq::user_by_username(&*tx, &n.username).await?.is_some() {
        return Err(Error::rejected(
            Reason::UsernameTaken,
            format!("username {} is taken", n.username),
        ));
    }
    let now = tx.now_us();
    let mut u = super::identity::new_user(
        ctx.agency(),
        &n.username,
        &n.full_name,
        &n.nip,
        &n.roles,
        phc,
        true,
        false,
        now,
    );
    u.email = n.email;
    idq::insert_user(&*tx, &u)
        .await
        .map_err(|e| taken(e, Reason::UsernameTaken, "username is taken"))?;
    tx.audit(ctx.event(
        "user",
        &u.id,
        format!("user created with roles {}", u.roles),
    ));
    Ok(u)
}

/// Changes to a user's profile.
#[derive(Clone, Debug, Default)]
pub struct UserChanges {
    pub full_name: Option<String>,
    pub nip: Option<String>,
    pub email: Option<String>,
    pub roles: Option<Vec<Role>>,
}

async fn load_user(tx: &WriteTx, ctx: Ctx<'_>, id: &str) -> Result<UserRecord> {
    q::user(tx, ctx.agency(), id)
        .await?
        .ok_or_else(|| not_found(Reason::UserNotFound, "user"))
}

async fn save_user(tx: &mut WriteTx, mut u: UserRecord) -> Result<UserRecord> {
    let expected = u.version;
    u.version += 1;
    u.updated_at_us = tx.now_us();
    if !q::update_user(&*tx, &u, expected).await? {
        return Err(Error::rejected(
            Reason::EtagMismatch,
            "the user changed since it was read",
        ));
    }
    Ok(u)
}

/// Updates a user's profile.
pub async fn update_user(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    id: &str,
    etag: &str,
    ch: UserChanges,
) -> Result<UserRecord> {
    let mut u = load_user(tx, ctx, id).await?;
    check_etag(etag, u.version)?;
    let mut changed = Vec::new();
    if let Some(v) = ch.full_name {
        u.full_name = v;
        changed.push("full_name".to_owned());
    }
    if let Some(v) = ch.nip {
        u.nip = v;
        changed.push("nip".to_owned());
    }
    if let Some(v) = ch.email {
        u.email = v;
        changed.push("email".to_owned());
    }
    if let Some(roles) = ch.roles {
        let had = roles_from_db(&u.roles);
        let added: Vec<Role> = roles.iter().copied().filter(|r| !had.contains(r)).collect();
        check_grant(ctx, &added)?;
        u.roles = roles_to_db(&roles);
        changed.push(format!("roles={}", u.roles));
    }
    let u = save_user(tx, u).await?;
    tx.audit(ctx.event(
        "user",
        &u.id,
        format!("user updated: {}", changed.join(", ")),
    ));
    Ok(u)
}

/// Lists users by username.
pub async fn list_users(
    store: &Store,
    p: &Principal,
    query: &str,
    size: i32,
    token: &str,
) -> Result<(Vec<UserRecord>, String)> {
    let limit = page::page_size(size, 50, 500)?;
    let fp = page::fingerprint(&["users", query]);
    let after = page::decode(token, &fp)?;
    let mut rows = q::list_users(store, &p.agency_id, query, after.as_deref(), limit + 1).await?;
    let next = page::next_token(&mut rows, limit, |u| page::encode(&fp, &u.username));
    Ok((rows, next))
}

/// Disables a user and revokes their sessions.
pub async fn disable_user(
    tx: &mut WriteTx,
    ctx: Ctx<'_>,
    id: &str,
    etag: &str,
) -> Result<UserRecord> {
    let mut u = load_user(tx, ctx, id).await?;
    check_etag(etag, u.version)?;
    u.disabled = true;
    let u = save_user(tx, u).await?;
    let n = idq::revoke_user_tokens(&*tx, &u.id, tx.now_us()).await?;
    tx.audit(ctx.event(
        "user",
        &u.id,
        format!("user disabled; {n} refresh token(s) revoked"),
    ));
    Ok(u)
}

/// Lifts a login lock and clears the failure count.
pub async fn unlock_user(tx: &mut WriteTx, ctx: Ctx<'_>, id: &str) -> Result<UserRecord> {
    let mut u = load_user(tx, ctx, id).await?;
    if u.failed_logins != 0 || u.locked_until_us != 0 {
        idq::set_login_failures(&*tx, &u.id, 0, 0).await?;
        u.failed_logins = 0;
        u.locked_until_us = 0;
    }
    tx.audit(ctx.event("user", &u.id, "login lock lifted"));
    Ok(u)
}

/// Sets a new one-time password hash (`phc`) that must be changed at next login.
pub async fn reset_password(tx: &mut WriteTx, ctx: Ctx<'_>, id: &str, phc: &str) -> Result<()> {
    let u = load_user(tx, ctx, id).await?;
    idq::set_password(&*tx, &u.id, phc, true, tx.now_us()).await?;
    let n = idq::revoke_user_tokens(&*tx, &u.id, tx.now_us()).await?;
    tx.audit(ctx.event(
        "user",
        &u.id,
        format!("password reset; {n} refresh token(s) revoked"),
    ));
    Ok(())
}

// ---------------------------------------------------------------- assignments

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
