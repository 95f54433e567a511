//! The names of the authors of a letter's versions.

use super::*;

/// Full names of the users `ids` of the caller's agency, by id (an id of
/// another agency or of nobody is left out).
pub async fn author_names(
    store: &Store,
    p: &Principal,
    ids: &[String],
) -> Result<HashMap<String, String>> {
    Ok(orgq::users_by_ids(store, &p.agency_id, ids)
        .await?
        .into_iter()
        .map(|u| (u.id, u.full_name))
        .collect())
}
