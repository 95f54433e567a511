//! Logging in, tokens, the authenticated principal, and the bootstrap admin.

use std::time::Duration;

use crate::audit::{NewEvent, Outcome};
use crate::auth::tokens::{TokenError, TokenKeys, new_refresh_token, refresh_token_hash};
use crate::auth::{Principal, RequestMeta, password, roles_from_db, roles_to_db};
use crate::error::{Error, Reason, Result};
use crate::proto::Role;
use crate::store::identity as q;
pub use crate::store::identity::UserRecord;
use crate::store::{Store, WriteTx};

/// Consecutive failures after which an account locks.
pub const MAX_FAILURES: i32 = 5;
const BASE_LOCK_US: i64 = 60 * 1_000_000;
const MAX_LOCK_US: i64 = 24 * 3600 * 1_000_000;

/// How long the account stays locked after `failures` consecutive failures:
/// one minute at the fifth, doubling with every further failure, at most a day.
pub fn lock_duration_us(failures: i32) -> i64 {
    if failures < MAX_FAILURES {
        return 0;
    }
    let doublings = (failures - MAX_FAILURES).min(20) as u32;
    BASE_LOCK_US
        .saturating_mul(1i64 << doublings)
        .min(MAX_LOCK_US)
}

/// Tokens handed out by Login and RefreshToken.
#[derive(Clone, Debug)]
pub struct Session {
    /// Access token (JWT).
    pub access_token: String,
    /// Refresh token.
    pub refresh_token: String,
    /// Access-token expiry, microseconds.
    pub access_expires_us: i64,
    /// Refresh-token expiry, microseconds.
    pub refresh_expires_us: i64,
    /// The user must change their password first.
    pub must_change_password: bool,
}

/// Token lifetimes.
#[derive(Clone, Copy, Debug)]
pub struct Lifetimes {
    /// Access tokens.
    pub access: Duration,
    /// Refresh tokens.
    pub refresh: Duration,
}

fn event(
    meta: &RequestMeta,
    user: Option<&UserRecord>,
    outcome: Outcome,
    reason: &str,
    summary: &str,
) -> NewEvent {
    let mut ev = NewEvent::success(
        &meta.method,
        "user",
        user.map(|u| u.id.as_str()).unwrap_or(""),
    );
    ev.agency_id = user.map(|u| u.agency_id.clone()).unwrap_or_default();
    ev.actor_user_id = user.map(|u| u.id.clone()).unwrap_or_default();
    ev.outcome = outcome;
    ev.reason = reason.to_owned();
    ev.request_id = meta.request_id.clone();
    ev.client_address = meta.client_address.clone();
    ev.summary = summary.to_owned();
    ev
}

async fn verify_password_blocking(password: String, phc: Option<String>) -> Result<bool> {
    crate::crypto::run_kdf(move || match phc {
        Some(phc) => password::verify(&password, &phc),
        None => {
            password::verify_dummy(&password);
            false
        }
    })
    .await
    .map_err(|e| Error::Internal(format!("password task: {e}")))
}

fn secs(us: i64) -> u64 {
    (us.max(0) / 1_000_000) as u64
}

/// Issues an access and a refresh token for `user`, storing the refresh token.
async fn open_session(
    tx: &crate::store::WriteTx,
    keys: &TokenKeys,
    user: &UserRecord,
    family_id: &str,
    life: Lifetimes,
) -> Result<Session> {
    let now = tx.now_us();
    let access_expires_us = now + life.access.as_micros() as i64;
    let refresh_expires_us = now + life.refresh.as_micros() as i64;
    let access_token = keys
        .issue(&user.id, &user.agency_id, secs(now), life.access.as_secs())
        .map_err(Error::Internal)?;
    let (refresh_token, hash) = new_refresh_token();
    q::insert_refresh(tx, &hash, family_id, &user.id, refresh_expires_us, now).await?;
    Ok(Session {
        access_token,
        refresh_token,
        access_expires_us,
        refresh_expires_us,
        must_change_password: user.must_change_password,
    })
}

/// Records a refused password guess of `u` (a Login or a ChangePassword):
/// during a lock (`locked`, or a lock found now) the refusal is audited and
/// counts nothing, so a lock is never extended by the attempts made during
/// it, nor counted again when it ran out meanwhile; otherwise the failure is
/// counted and, from the fifth in a row, locks the account for a doubling
/// delay.
async fn refuse_guess(
    tx: &mut WriteTx,
    meta: &RequestMeta,
    u: &UserRecord,
    locked: bool,
    what: &str,
) -> Result<()> {
    if locked || u.locked_until_us > tx.now_us() {
        tx.audit(event(
            meta,
            Some(u),
            Outcome::Failure,
            Reason::AccountLocked.as_str(),
            &format!("{what} refused: account locked"),
        ));
        return Ok(());
    }
    let failures = u.failed_logins.saturating_add(1);
    let locked_until = match lock_duration_us(failures) {
        0 => 0,
        d => tx.now_us() + d,
    };
    q::set_login_failures(&*tx, &u.id, failures, locked_until).await?;
    let summary = if locked_until > 0 {
        format!("{what} failed ({failures} in a row); account locked")
    } else {
        format!("{what} failed ({failures} in a row)")
    };
    tx.audit(event(
        meta,
        Some(u),
        Outcome::Failure,
        Reason::InvalidCredentials.as_str(),
        &summary,
    ));
    Ok(())
}

/// The one answer to every failed login: unknown user, wrong password, or a
/// locked account whatever the password.
pub const LOGIN_FAILED: &str =
    "unknown user or wrong password, or the account is temporarily locked after failed logins";

/// Logs a user in. Unknown user and wrong password give the same error after the
/// same work; the fifth consecutive failure locks the account for a growing delay.
pub async fn login(
    store: &Store,
    keys: &TokenKeys,
    life: Lifetimes,
    meta: &RequestMeta,
    username: &str,
    pw: &str,
) -> Result<Session> {
    let user = q::user_by_username(store, username).await?;
    // The password is checked even while the account is locked (and against
    // a dummy hash for an unknown user), so that every failure takes the same
    // time and a guess during a lock tells nothing.
    let ok = verify_password_blocking(
        pw.to_owned(),
        user.as_ref().map(|u| u.password_hash.clone()),
    )
    .await?;
    let mut tx = store.begin_write().await?;
    // The lock as it stands now, once the password was checked.
    let locked = user
        .as_ref()
        .is_some_and(|u| u.locked_until_us > tx.now_us());
    let Some(user) = user.filter(|_| ok && !locked) else {
        // Re-read inside the write transaction so concurrent failures all count.
        match q::user_by_username(&tx, username).await? {
            Some(u) => refuse_guess(&mut tx, meta, &u, locked, "login").await?,
            None => {
                tx.audit(event(
                    meta,
                    None,
                    Outcome::Failure,
                    Reason::InvalidCredentials.as_str(),
                    "login failed: unknown user",
                ));
            }
        }
        tx.commit().await?;
        return Err(Error::rejected(Reason::InvalidCredentials, LOGIN_FAILED));
    };
    if user.disabled {
        tx.audit(event(
            meta,
            Some(&user),
            Outcome::Failure,
            Reason::AccountDisabled.as_str(),
            "login refused: disabled",
        ));
        tx.commit().await?;
        return Err(Error::rejected(
            Reason::AccountDisabled,
            "the account is disabled",
        ));
    }
    if user.failed_logins != 0 || user.locked_until_us != 0 {
        q::set_login_failures(&tx, &user.id, 0, 0).await?;
    }
    let family = uuid::Uuid::new_v4().to_string();
    let session = open_session(&tx, keys, &user, &family, life).await?;
    tx.audit(event(meta, Some(&user), Outcome::Success, "", "login"));
    tx.commit().await?;
    Ok(session)
}

/// Exchanges a refresh token for a new pair; a spent token presented again
/// revokes its whole family.
pub async fn refresh(
    store: &Store,
    keys: &TokenKeys,
    life: Lifetimes,
    meta: &RequestMeta,
    token: &str,
    caller: Option<&str>,
) -> Result<Session> {
    let invalid = || {
        Error::rejected(
            Reason::InvalidRefreshToken,
            "the refresh token is not valid",
        )
    };
    let hash = refresh_token_hash(token);
    let mut tx = store.begin_write().await?;
    let Some(rec) = q::refresh_by_hash(&tx, &hash).await? else {
        return Err(invalid());
    };
    // Another user's token is treated as unknown: it is neither spent nor
    // revoked.
    if caller.is_some_and(|c| c != rec.user_id) {
        return Err(invalid());
    }
    let user = q::user_by_id(&tx, &rec.user_id)
        .await?
        .ok_or_else(invalid)?;
    if rec.revoked_at_us.is_some() || rec.expires_at_us <= tx.now_us() || user.disabled {
        return Err(invalid());
    }
    if rec.used_at_us.is_some() || !q::spend_refresh(&tx, &hash, tx.now_us()).await? {
        let n = q::revoke_family(&tx, &rec.family_id, tx.now_us()).await?;
        tx.audit(event(
            meta,
            Some(&user),
            Outcome::Failure,
            Reason::InvalidRefreshToken.as_str(),
            &format!("spent refresh token reused; {n} token(s) of its family revoked"),
        ));
        tx.commit().await?;
        return Err(invalid());
    }
    let session = open_session(&tx, keys, &user, &rec.family_id, life).await?;
    tx.audit(event(
        meta,
        Some(&user),
        Outcome::Success,
        "",
        "token refreshed",
    ));
    tx.commit().await?;
    Ok(session)
}

/// Revokes the family of a refresh token. Unknown tokens are ignored (logging out
/// twice is not an error).
pub async fn logout(store: &Store, meta: &RequestMeta, caller: &str, token: &str) -> Result<()> {
    let hash = refresh_token_hash(token);
    // Only a family of the caller's own: another user's token is treated as
    // an unknown one (nothing revoked, nothing told).
    let Some(rec) = q::refresh_by_hash(store, &hash)
        .await?
        .filter(|r| r.user_id == caller)
    else {
        return Ok(());
    };
    let mut tx = store.begin_write().await?;
    let user = q::user_by_id(&tx, &rec.user_id).await?;
    let n = q::revoke_family(&tx, &rec.family_id, tx.now_us()).await?;
    tx.audit(event(
        meta,
        user.as_ref(),
        Outcome::Success,
        "",
        &format!("logout; {n} token(s) revoked"),
    ));
    tx.commit().await?;
    Ok(())
}

/// Checks an access token and loads the current state of its user.
pub async fn authenticate(store: &Store, keys: &TokenKeys, token: &str) -> Result<Principal> {
    let now = store.clock().now_us();
    let claims = keys.verify(token, secs(now)).map_err(|e| match e {
        TokenError::Expired => {
            Error::rejected(Reason::TokenExpired, "the access token has expired")
        }
        TokenError::Invalid => {
            Error::rejected(Reason::TokenInvalid, "the access token is not valid")
        }
    })?;
    let rows = store
        .caches()
        .caller(store, &claims.sub, now)
        .await?
        .filter(|r| r.user.agency_id == claims.agency)
        .ok_or_else(|| Error::rejected(Reason::TokenInvalid, "the access token is not valid"))?;
    let user = &rows.user;
    if user.disabled {
        return Err(Error::rejected(
            Reason::AccountDisabled,
            "the account is disabled",
        ));
    }
    Ok(Principal {
        user_id: user.id.clone(),
        agency_id: user.agency_id.clone(),
        username: user.username.clone(),
        roles: roles_from_db(&user.roles),
        must_change_password: user.must_change_password,
    })
}

/// Changes the caller's password.
pub async fn change_password(
    store: &Store,
    p: &Principal,
    meta: &RequestMeta,
    current: &str,
    new: &str,
) -> Result<()> {
    let user = q::user_by_id(store, &p.user_id)
        .await?
        .ok_or_else(|| Error::rejected(Reason::TokenInvalid, "the access token is not valid"))?;
    if let Err(why) = password::check_strength(new, &user.username) {
        return Err(Error::rejected(
            Reason::WeakPassword,
            format!("new_password {why}"),
        ));
    }
    if current == new {
        return Err(Error::rejected(
            Reason::WeakPassword,
            "new_password must differ from the current one",
        ));
    }
    // Guesses of the current password count toward the same lock as failed
    // logins (a stolen access token must not open an unlimited guessing
    // game), and a locked account changes nothing whatever is given.
    let ok = verify_password_blocking(current.to_owned(), Some(user.password_hash.clone())).await?;
    let locked = user.locked_until_us > store.clock().now_us();
    if !ok || locked {
        let mut tx = store.begin_write().await?;
        match q::user_by_id(&tx, &user.id).await? {
            Some(u) => refuse_guess(&mut tx, meta, &u, locked, "password change").await?,
            None => {
                tx.audit(event(
                    meta,
                    Some(&user),
                    Outcome::Failure,
                    Reason::InvalidCredentials.as_str(),
                    "password change: user gone",
                ));
            }
        }
        tx.commit().await?;
        return Err(Error::rejected(
            Reason::InvalidCredentials,
            "the current password is wrong, or the account is temporarily locked after failed attempts",
        ));
    }
    let new_owned = new.to_owned();
    let phc = crate::crypto::run_kdf(move || password::hash(&new_owned))
        .await
        .map_err(|e| Error::Internal(format!("password task: {e}")))?
        .map_err(Error::Internal)?;
    let mut tx = store.begin_write().await?;
    q::set_password(&tx, &user.id, &phc, false, tx.now_us()).await?;
    if user.failed_logins != 0 {
        q::set_login_failures(&tx, &user.id, 0, 0).await?;
    }
    tx.audit(event(
        meta,
        Some(&user),
        Outcome::Success,
        "",
        "password changed",
    ));
    tx.commit().await?;
    Ok(())
}

/// The caller's record, held positions and secretary duties.
#[derive(Clone, Debug)]
pub struct WhoAmI {
    /// The user.
    pub user: UserRecord,
    /// Positions held now.
    pub positions: Vec<q::HeldPositionRecord>,
    /// Positions the user is secretary of.
    pub secretary_of: Vec<String>,
}

/// Describes the caller.
pub async fn who_am_i(store: &Store, p: &Principal) -> Result<WhoAmI> {
    let user = q::user_by_id(store, &p.user_id)
        .await?
        .ok_or_else(|| Error::rejected(Reason::TokenInvalid, "the access token is not valid"))?;
    let now = store.clock().now_us();
    let positions = q::held_positions(store, &user.id, now).await?;
    let secretary_of = q::secretary_of(store, &user.id).await?;
    Ok(WhoAmI {
        user,
        positions,
        secretary_of,
    })
}

/// A new user record with a fresh id.
#[allow(clippy::too_many_arguments)]
pub fn new_user(
    agency_id: &str,
    username: &str,
    full_name: &str,
    nip: &str,
    roles: &[Role],
    phc: String,
    must_change: bool,
    is_demo: bool,
    now_us: i64,
) -> UserRecord {
    UserRecord {
        id: uuid::Uuid::new_v4().to_string(),
        agency_id: agency_id.to_owned(),
        username: username.to_owned(),
        nip: nip.to_owned(),
        full_name: full_name.to_owned(),
        email: String::new(),
        roles: roles_to_db(roles),
        password_hash: phc,
        must_change_password: must_change,
        disabled: false,
        failed_logins: 0,
        locked_until_us: 0,
        is_demo,
        version: 1,
        created_at_us: now_us,
        updated_at_us: now_us,
    }
}

/// On an empty database: creates the installation's first agency and its
/// administrator `admin` with a random one-time password, returned once so the
/// operator can be shown it. Returns `None` when users exist already.
pub async fn bootstrap_admin(store: &Store, master: &[u8; 32]) -> Result<Option<String>> {
    if q::count_users(store).await?.0 > 0 {
        return Ok(None);
    }
    let otp = password::one_time();
    let otp_c = otp.clone();
    let phc = crate::crypto::run_kdf(move || password::hash(&otp_c))
        .await
        .map_err(|e| Error::Internal(format!("password task: {e}")))?
        .map_err(Error::Internal)?;
    let mut tx = store.begin_write().await?;
    let agency_id = uuid::Uuid::new_v4().to_string();
    q::insert_agency(&tx, &agency_id, "INSTANSI", "Instansi", "", tx.now_us()).await?;
    super::signing::agency_ca(&mut tx, master, &agency_id).await?;
    let admin = new_user(
        &agency_id,
        "admin",
        "Administrator",
        "",
        &[Role::SystemAdmin, Role::AgencyAdmin],
        phc,
        true,
        false,
        tx.now_us(),
    );
    q::insert_user(&tx, &admin).await?;
    let mut ev = NewEvent::success("system/bootstrap", "user", &admin.id);
    ev.agency_id = agency_id;
    ev.summary = "bootstrap: agency and administrator created".into();
    tx.audit(ev);
    tx.commit().await?;
    Ok(Some(otp))
}

/// What `naskah agency create` made.
#[derive(Clone, Debug)]
pub struct CreatedAgency {
    /// The new agency's id.
    pub agency_id: String,
    /// Its users' login domain (`name@domain`).
    pub login_domain: String,
    /// The administrator's login name.
    pub admin_username: String,
    /// The administrator's one-time password, shown once.
    pub one_time_password: String,
}

/// The login domain of an agency code: the code in lower case.
pub fn login_domain_of(code: &str) -> String {
    code.to_ascii_lowercase()
}

/// Checks an agency code: 2 to 20 characters of A-Z, 0-9 and '-'.
pub fn check_agency_code(code: &str) -> Result<()> {
    let ok = (2..=20).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
        && !code.starts_with('-')
        && !code.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "code",
            "must be 2 to 20 characters of A-Z, 0-9 and '-' (not first or last)",
        ))
    }
}

/// Creates another agency in an existing installation (system administrator's
/// task, `naskah agency create`): the agency with its own CA, its own
/// numbering (the regional template, one sequence per agency), the standard
/// disposition instructions, and its administrator `admin@<domain>` (role
/// AGENCY_ADMIN only) with a one-time password that must be changed at first
/// login. Refused on an installation without users (start the server once
/// first, so that the installation's own administrator exists).
pub async fn create_agency(
    store: &Store,
    master: &[u8; 32],
    code: &str,
    name: &str,
) -> Result<CreatedAgency> {
    check_agency_code(code)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::invalid("name", "must be 1 to 200 characters long"));
    }
    if crate::text::fault(name, false).is_some() {
        return Err(Error::invalid("name", "must be one line of printable text"));
    }
    let (users, real_users) = q::count_users(store).await?;
    if users == 0 {
        return Err(Error::rejected(
            Reason::InvalidState,
            "the installation has no administrator yet: start the server once first",
        ));
    }
    // On a demo installation the new administrator is a demo user too, so
    // that `serve --demo` still starts on it.
    let demo = real_users == 0;
    let (otp, phc) = super::org::one_time_password().await?;
    let domain = login_domain_of(code);
    let admin_username = format!("admin@{domain}");
    let mut tx = store.begin_write().await?;
    let agency_id = uuid::Uuid::new_v4().to_string();
    let exists = || {
        Error::rejected(
            Reason::InvalidState,
            format!("an agency with the code {code} exists already"),
        )
    };
    // A create of the same code at the same moment meets the unique key.
    q::insert_agency(&tx, &agency_id, code, name, &domain, tx.now_us())
        .await
        .map_err(|e| {
            if e.is_unique_violation() {
                exists()
            } else {
                e.into()
            }
        })?;
    super::signing::agency_ca(&mut tx, master, &agency_id).await?;
    crate::store::setup::set_numbering(
        &tx,
        &agency_id,
        super::demo::DEMO_NUMBER_TEMPLATE,
        super::numbering::Scope::Agency as i16,
        tx.now_us(),
    )
    .await?;
    for (i, (c, text)) in super::demo::STANDARD_INSTRUCTIONS.iter().enumerate() {
        crate::store::setup::insert_instruction(&tx, &agency_id, c, text, i as i32).await?;
    }
    let admin = new_user(
        &agency_id,
        &admin_username,
        "Administrator",
        "",
        &[Role::AgencyAdmin],
        phc,
        true,
        demo,
        tx.now_us(),
    );
    q::insert_user(&tx, &admin).await.map_err(|e| {
        if e.is_unique_violation() {
            exists()
        } else {
            e.into()
        }
    })?;
    let mut ev = NewEvent::success("system/agency-create", "agency", &agency_id);
    ev.agency_id = agency_id.clone();
    ev.summary = format!("agency {code} created with its CA and administrator {admin_username}");
    tx.audit(ev);
    tx.commit().await?;
    Ok(CreatedAgency {
        agency_id,
        login_domain: domain,
        admin_username,
        one_time_password: otp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agency_codes() {
        assert!(check_agency_code("DINKES-2").is_ok());
        assert!(check_agency_code("d").is_err());
        assert!(check_agency_code("-X").is_err());
        assert!(check_agency_code("A B").is_err());
        assert_eq!(login_domain_of("DINKES-2"), "dinkes-2");
    }

    #[test]
    fn locks_start_at_the_fifth_failure_and_grow() {
        assert_eq!(lock_duration_us(4), 0);
        assert_eq!(lock_duration_us(5), 60_000_000);
        assert_eq!(lock_duration_us(6), 120_000_000);
        assert_eq!(lock_duration_us(7), 240_000_000);
        assert_eq!(lock_duration_us(100), MAX_LOCK_US);
    }
}
