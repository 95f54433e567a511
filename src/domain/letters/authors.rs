//! The names of the authors of a letter's versions.

use super::*;

/// Full names of the users `ids` of the caller's agency, by id (an id of
/// another agency or of nobody is left out), through the names cache the
/// letter views use.
pub async fn author_names(
    store: &Store,
    p: &Principal,
    ids: &[String],
) -> Result<HashMap<String, String>> {
    let now = store.clock().now_us();
    Ok(store
        .caches()
        .user_names(store, &p.agency_id, ids, now)
        .await?)
}
