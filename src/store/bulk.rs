//! Bulk loading of many rows at once (multi-row INSERTs in batches), used to seed
//! large datasets for benchmarks without going through the request path. Rows are
//! written as given: the caller keeps them consistent with what the domain writes.

use crate::store::Db;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel};

use super::StoreResult;
use super::entities::{
    audit_event, audit_head, disposition, disposition_recipient, letter, letter_addressee,
    letter_box, letter_signature, letter_step,
};

pub use super::dispositions::{DispositionRecord, RecipientRecord};
/// An audit event row, hashes included.
pub use super::entities::audit_event::Model as AuditRecord;
/// A folder row: one letter in one position's folder.
pub use super::entities::letter_box::Model as BoxRecord;
pub use super::letters::{AddresseeRecord, LetterRecord, SignatureRecord, StepRecord};

/// Rows per INSERT statement (well under both engines' bind-parameter limits).
const BATCH: usize = 400;

macro_rules! bulk_insert {
    ($name:ident, $entity:ident) => {
        #[doc = concat!("Inserts `", stringify!($entity), "` rows in batches.")]
        pub async fn $name<C: ConnectionTrait>(
            db: &C,
            rows: Vec<$entity::Model>,
        ) -> StoreResult<()> {
            let mut rows = rows.into_iter().peekable();
            while rows.peek().is_some() {
                let batch: Vec<$entity::ActiveModel> = rows
                    .by_ref()
                    .take(BATCH)
                    .map(IntoActiveModel::into_active_model)
                    .collect();
                $entity::Entity::insert_many(batch).exec(db).await?;
            }
            Ok(())
        }
    };
}

bulk_insert!(letters, letter);
bulk_insert!(boxes, letter_box);
bulk_insert!(addressees, letter_addressee);
bulk_insert!(steps, letter_step);
bulk_insert!(signatures, letter_signature);
bulk_insert!(dispositions, disposition);
bulk_insert!(recipients, disposition_recipient);
bulk_insert!(audit_events, audit_event);

/// The chain head (last seq, last hash), for appending events in bulk.
pub async fn audit_head(db: &impl Db) -> StoreResult<(i64, String)> {
    let db = db.conn();
    let head = audit_head::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| super::StoreError::Corrupt("audit_head row is missing".into()))?;
    Ok((head.last_seq, head.last_hash))
}

/// Moves the chain head after events appended in bulk.
pub async fn set_audit_head(db: &impl Db, seq: i64, hash: &str) -> StoreResult<()> {
    let db = db.conn();
    audit_head::ActiveModel {
        id: sea_orm::Set(1),
        last_seq: sea_orm::Set(seq),
        last_hash: sea_orm::Set(hash.to_owned()),
    }
    .update(db)
    .await?;
    Ok(())
}
