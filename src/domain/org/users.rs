//! Users: creating, changing, disabling and unlocking them, and their
//! passwords.

use super::*;

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
    let mut u = crate::domain::identity::new_user(
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

pub(super) async fn load_user(tx: &WriteTx, ctx: Ctx<'_>, id: &str) -> Result<UserRecord> {
    q::user(tx, ctx.agency(), id)
        .await?
        .ok_or_else(|| not_found(Reason::UserNotFound, "user"))
}

pub(super) async fn save_user(tx: &mut WriteTx, mut u: UserRecord) -> Result<UserRecord> {
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
