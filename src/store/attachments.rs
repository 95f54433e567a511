//! Attachment metadata in the database; contents live in the blob store.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::StoreResult;
use super::entities::attachment;

/// An attachment row.
pub type AttachmentRecord = attachment::Model;

pub async fn insert<C: ConnectionTrait>(db: &C, a: &AttachmentRecord) -> StoreResult<()> {
    let am: attachment::ActiveModel = a.clone().into();
    attachment::Entity::insert(sea_orm::ActiveModelTrait::reset_all(am))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn list<C: ConnectionTrait>(
    db: &C,
    letter_id: &str,
) -> StoreResult<Vec<AttachmentRecord>> {
    Ok(attachment::Entity::find()
        .filter(attachment::Column::LetterId.eq(letter_id))
        .order_by_asc(attachment::Column::CreatedAtUs)
        .order_by_asc(attachment::Column::Id)
        .all(db)
        .await?)
}

pub async fn get<C: ConnectionTrait>(
    db: &C,
    agency: &str,
    id: &str,
) -> StoreResult<Option<AttachmentRecord>> {
    Ok(attachment::Entity::find_by_id(id.to_owned())
        .filter(attachment::Column::AgencyId.eq(agency))
        .one(db)
        .await?)
}

/// Attachments of several letters.
pub async fn list_of<C: ConnectionTrait>(
    db: &C,
    ids: &[String],
) -> StoreResult<Vec<AttachmentRecord>> {
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
