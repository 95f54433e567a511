//! Attachment metadata in the database; contents live in the blob store.

use crate::store::Db;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::StoreResult;
use super::entities::attachment;

/// An attachment row.
pub type AttachmentRecord = attachment::Model;

pub async fn insert(db: &impl Db, a: &AttachmentRecord) -> StoreResult<()> {
    let db = db.conn();
    let am: attachment::ActiveModel = a.clone().into();
    attachment::Entity::insert(sea_orm::ActiveModelTrait::reset_all(am))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn list(db: &impl Db, letter_id: &str) -> StoreResult<Vec<AttachmentRecord>> {
    let db = db.conn();
    Ok(attachment::Entity::find()
        .filter(attachment::Column::LetterId.eq(letter_id))
        .order_by_asc(attachment::Column::CreatedAtUs)
        .order_by_asc(attachment::Column::Id)
        .all(db)
        .await?)
}

pub async fn get(db: &impl Db, agency: &str, id: &str) -> StoreResult<Option<AttachmentRecord>> {
    let db = db.conn();
    Ok(attachment::Entity::find_by_id(id.to_owned())
        .filter(attachment::Column::AgencyId.eq(agency))
        .one(db)
        .await?)
}

/// Attachments of several letters.
pub async fn list_of(db: &impl Db, ids: &[String]) -> StoreResult<Vec<AttachmentRecord>> {
    let db = db.conn();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(attachment::Entity::find()
        .filter(attachment::Column::LetterId.is_in(ids.iter().cloned()))
        .order_by_asc(attachment::Column::CreatedAtUs)
        .order_by_asc(attachment::Column::Id)
        .all(db)
        .await?)
}
