//! In-process caches of what nearly every request reads and rarely changes: the
//! caller's user row, held and served positions (read by the gate and again by
//! the handler), the display names of users and positions on letters, an
//! agency's position hierarchy (read by every disposition), and the
//! classification and instruction codes known to exist.
//!
//! Every committed write that may change them (anything of OrgService and
//! AuthService, and system changes: the events' actions, see `touches_identity`
//! in `write_tx.rs`) moves a generation counter;
//! entries of an older generation are not used. A reader takes the generation
//! before it reads the rows, so rows read before a concurrent commit are stored
//! under the old generation and never served after it. Entries also expire after
//! one second (and a held position at the end of its assignment), which bounds
//! how long a change made by another server on the same PostgreSQL database, or
//! an assignment that starts, takes to be seen.
//!
//! Classification and instruction codes are never deleted (a scheme import
//! inserts or updates; instructions are only added), so a code once read is
//! remembered without expiry; a code not found is never remembered.

use crate::store::Db;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::StoreResult;
use super::identity::{self, HeldPositionRecord, UserRecord};
use super::org;

/// How long an entry is used, microseconds of the store's clock.
const TTL_US: i64 = 1_000_000;
/// Entries per map (callers; names of one agency) before it is emptied: bounds
/// memory under any load.
const MAX_ENTRIES: usize = 20_000;

/// A user with the positions held and served at load time.
#[derive(Debug)]
pub struct CallerRows {
    /// The user.
    pub user: UserRecord,
    /// Positions held (assignment ⋈ position ⋈ unit).
    pub held: Vec<HeldPositionRecord>,
    /// Positions served as secretary.
    pub served: Vec<String>,
    generation: u64,
    loaded_us: i64,
    expires_us: i64,
}

#[derive(Debug, Default)]
struct Names {
    generation: u64,
    /// Agency → id → (load time, name).
    users: HashMap<String, HashMap<String, (i64, String)>>,
    positions: HashMap<String, HashMap<String, (i64, String)>>,
}

/// An agency's positions, each with its superior.
pub type Superiors = HashMap<String, Option<String>>;

#[derive(Debug)]
struct Hierarchy {
    generation: u64,
    loaded_us: i64,
    superiors: Arc<Superiors>,
}

/// What kind of code [`Caches::known_code`] remembers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CodeKind {
    /// A classification of the agency's scheme.
    Classification,
    /// A disposition instruction of the agency.
    Instruction,
}

/// The caches of one store (shared by its clones).
#[derive(Debug, Default)]
pub struct Caches {
    generation: AtomicU64,
    callers: Mutex<HashMap<String, Arc<CallerRows>>>,
    names: Mutex<Names>,
    hierarchies: Mutex<HashMap<String, Hierarchy>>,
    codes: Mutex<HashSet<(CodeKind, String, String)>>,
}

fn fresh(loaded_us: i64, now_us: i64) -> bool {
    (loaded_us..loaded_us + TTL_US).contains(&now_us)
}

impl Caches {
    /// Marks every cached entry as stale (called after a committed change).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The user `user_id` with the positions held at `now_us` and served; `None`
    /// when there is no such user.
    pub async fn caller(
        &self,
        db: &impl Db,
        user_id: &str,
        now_us: i64,
    ) -> StoreResult<Option<Arc<CallerRows>>> {
        let db = db.conn();
        let generation = self.generation();
        if let Some(hit) = self
            .callers
            .lock()
            .ok()
            .and_then(|m| m.get(user_id).cloned())
            && hit.generation == generation
            && fresh(hit.loaded_us, now_us)
            && now_us < hit.expires_us
        {
            return Ok(Some(hit));
        }
        let Some(user) = identity::user_by_id(db, user_id).await? else {
            return Ok(None);
        };
        let held = identity::held_positions(db, user_id, now_us).await?;
        let served = identity::secretary_of(db, user_id).await?;
        let expires_us = held
            .iter()
            .filter_map(|h| h.valid_until_us)
            .fold(now_us.saturating_add(TTL_US), i64::min);
        let rows = Arc::new(CallerRows {
            user,
            held,
            served,
            generation,
            loaded_us: now_us,
            expires_us,
        });
        if let Ok(mut m) = self.callers.lock() {
            if m.len() >= MAX_ENTRIES {
                m.clear();
            }
            m.insert(user_id.to_owned(), rows.clone());
        }
        Ok(Some(rows))
    }

    /// Every position of the agency with its superior.
    pub async fn superiors(
        &self,
        db: &impl Db,
        agency: &str,
        now_us: i64,
    ) -> StoreResult<Arc<Superiors>> {
        let db = db.conn();
        let generation = self.generation();
        if let Some(h) = self.hierarchies.lock().ok().and_then(|m| {
            m.get(agency)
                .filter(|h| h.generation == generation && fresh(h.loaded_us, now_us))
                .map(|h| h.superiors.clone())
        }) {
            return Ok(h);
        }
        let superiors: Arc<Superiors> = Arc::new(
            org::all_positions(db, agency)
                .await?
                .into_iter()
                .map(|p| (p.id, p.superior_position_id))
                .collect(),
        );
        if let Ok(mut m) = self.hierarchies.lock() {
            if m.len() >= MAX_ENTRIES {
                m.clear();
            }
            m.insert(
                agency.to_owned(),
                Hierarchy {
                    generation,
                    loaded_us: now_us,
                    superiors: superiors.clone(),
                },
            );
        }
        Ok(superiors)
    }

    /// Whether the agency's `code` of `kind` was read before (see the module's
    /// note: such codes are never deleted).
    pub fn known_code(&self, kind: CodeKind, agency: &str, code: &str) -> bool {
        self.codes
            .lock()
            .is_ok_and(|c| c.contains(&(kind, agency.to_owned(), code.to_owned())))
    }

    /// Remembers codes read from the database.
    pub fn remember_codes<'a>(
        &self,
        kind: CodeKind,
        agency: &str,
        codes: impl IntoIterator<Item = &'a str>,
    ) {
        if let Ok(mut c) = self.codes.lock() {
            for code in codes {
                if c.len() >= MAX_ENTRIES {
                    c.clear();
                }
                c.insert((kind, agency.to_owned(), code.to_owned()));
            }
        }
    }

    /// Full names of the agency's users among `ids` (unknown ids are left out).
    pub async fn user_names(
        &self,
        db: &impl Db,
        agency: &str,
        ids: &[String],
        now_us: i64,
    ) -> StoreResult<HashMap<String, String>> {
        let db = db.conn();
        self.names_of(db, agency, ids, now_us, true).await
    }

    /// Names of the agency's positions among `ids` (unknown ids are left out).
    pub async fn position_names(
        &self,
        db: &impl Db,
        agency: &str,
        ids: &[String],
        now_us: i64,
    ) -> StoreResult<HashMap<String, String>> {
        let db = db.conn();
        self.names_of(db, agency, ids, now_us, false).await
    }

    async fn names_of(
        &self,
        db: &impl Db,
        agency: &str,
        ids: &[String],
        now_us: i64,
        users: bool,
    ) -> StoreResult<HashMap<String, String>> {
        let db = db.conn();
        let generation = self.generation();
        let mut out = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        if let Ok(mut n) = self.names.lock() {
            if n.generation != generation {
                *n = Names {
                    generation,
                    ..Names::default()
                };
            }
            let map = if users { &n.users } else { &n.positions }.get(agency);
            for id in ids {
                match map.and_then(|m| m.get(id)) {
                    Some((loaded, name)) if fresh(*loaded, now_us) => {
                        out.insert(id.clone(), name.clone());
                    }
                    _ => missing.push(id.clone()),
                }
            }
        } else {
            missing = ids.to_vec();
        }
        if missing.is_empty() {
            return Ok(out);
        }
        let found: Vec<(String, String)> = if users {
            org::users_by_ids(db, agency, &missing)
                .await?
                .into_iter()
                .map(|u| (u.id, u.full_name))
                .collect()
        } else {
            org::positions_by_ids(db, agency, &missing)
                .await?
                .into_iter()
                .map(|p| (p.id, p.name))
                .collect()
        };
        if let Ok(mut n) = self.names.lock()
            && n.generation == generation
        {
            let map = if users {
                &mut n.users
            } else {
                &mut n.positions
            }
            .entry(agency.to_owned())
            .or_default();
            if map.len() + found.len() > MAX_ENTRIES {
                map.clear();
            }
            for (id, name) in &found {
                map.insert(id.clone(), (now_us, name.clone()));
            }
        }
        out.extend(found);
        Ok(out)
    }
}
