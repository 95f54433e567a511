//! Disposal proposals, approvals, records settings, the residual record of
//! destroyed content and archival exports in the database.

use crate::store::Db;
use sea_orm::ExprTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::StoreResult;
use super::entities::{
    attachment, audit_event, case_file_export, case_file_letter, destroyed_item, disposal_approval,
    disposal_item, disposal_proposal, disposition, disposition_response, letter, letter_comment,
    letter_signature, letter_version, records_setting,
};
use crate::audit::Event;

/// A proposal row.
pub type ProposalRecord = disposal_proposal::Model;
/// An approval row.
pub type ApprovalRecord = disposal_approval::Model;
/// A residual-record row: one destroyed item and its hash.
pub type DestroyedRecord = destroyed_item::Model;
/// The agency's records settings.
pub type SettingRecord = records_setting::Model;
/// An export row.
pub type ExportRecord = case_file_export::Model;

use crate::domain::lifecycle::ProposalState;

pub async fn setting(db: &impl Db, agency: &str) -> StoreResult<Option<SettingRecord>> {
    let db = db.conn();
    Ok(records_setting::Entity::find_by_id(agency.to_owned())
        .one(db)
        .await?)
}

/// Inserts or replaces the agency's records settings.
pub async fn put_setting(db: &impl Db, s: &SettingRecord) -> StoreResult<()> {
    let db = db.conn();
    let am: records_setting::ActiveModel = s.clone().into();
    if setting(db, &s.agency_id).await?.is_some() {
        am.reset_all().update(db).await?;
    } else {
        records_setting::Entity::insert(am.reset_all())
            .exec(db)
            .await?;
    }
    Ok(())
}

pub async fn insert(db: &impl Db, p: &ProposalRecord, case_files: &[String]) -> StoreResult<()> {
    let db = db.conn();
    let am: disposal_proposal::ActiveModel = p.clone().into();
    disposal_proposal::Entity::insert(am.reset_all())
        .exec(db)
        .await?;
    for c in case_files {
        disposal_item::Entity::insert(disposal_item::ActiveModel {
            proposal_id: Set(p.id.clone()),
            case_file_id: Set(c.clone()),
        })
        .exec(db)
        .await?;
    }
    Ok(())
}

/// Saves a proposal if its revision is still `expected`.
pub async fn save(db: &impl Db, p: &ProposalRecord, expected: i64) -> StoreResult<bool> {
    let db = db.conn();
    let am: disposal_proposal::ActiveModel = p.clone().into();
    let r = disposal_proposal::Entity::update_many()
        .set(am.reset_all())
        .filter(disposal_proposal::Column::Id.eq(p.id.as_str()))
        .filter(disposal_proposal::Column::Revision.eq(expected))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

pub async fn get(db: &impl Db, agency: &str, id: &str) -> StoreResult<Option<ProposalRecord>> {
    let db = db.conn();
    Ok(disposal_proposal::Entity::find_by_id(id.to_owned())
        .filter(disposal_proposal::Column::AgencyId.eq(agency))
        .one(db)
        .await?)
}

/// Case files of a proposal, in id order.
pub async fn items(db: &impl Db, proposal_id: &str) -> StoreResult<Vec<String>> {
    let db = db.conn();
    Ok(disposal_item::Entity::find()
        .filter(disposal_item::Column::ProposalId.eq(proposal_id))
        .order_by_asc(disposal_item::Column::CaseFileId)
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.case_file_id)
        .collect())
}

/// A proposal not yet executed that contains the case file.
pub async fn pending_for(db: &impl Db, case_file_id: &str) -> StoreResult<Option<String>> {
    let db = db.conn();
    let ids: Vec<String> = disposal_item::Entity::find()
        .filter(disposal_item::Column::CaseFileId.eq(case_file_id))
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.proposal_id)
        .collect();
    if ids.is_empty() {
        return Ok(None);
    }
    Ok(disposal_proposal::Entity::find()
        .filter(disposal_proposal::Column::Id.is_in(ids))
        .filter(disposal_proposal::Column::State.ne(ProposalState::Executed))
        .one(db)
        .await?
        .map(|p| p.id))
}

pub async fn approvals(db: &impl Db, proposal_id: &str) -> StoreResult<Vec<ApprovalRecord>> {
    let db = db.conn();
    Ok(disposal_approval::Entity::find()
        .filter(disposal_approval::Column::ProposalId.eq(proposal_id))
        .order_by_asc(disposal_approval::Column::ApproveAtUs)
        .order_by_asc(disposal_approval::Column::PositionId)
        .all(db)
        .await?)
}

pub async fn insert_approval(db: &impl Db, a: &ApprovalRecord) -> StoreResult<()> {
    let db = db.conn();
    let am: disposal_approval::ActiveModel = a.clone().into();
    disposal_approval::Entity::insert(am.reset_all())
        .exec(db)
        .await?;
    Ok(())
}

/// Letters filed in a case file, in id order.
pub async fn letters_of(db: &impl Db, case_file_id: &str) -> StoreResult<Vec<String>> {
    let db = db.conn();
    Ok(case_file_letter::Entity::find()
        .filter(case_file_letter::Column::CaseFileId.eq(case_file_id))
        .order_by_asc(case_file_letter::Column::LetterId)
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.letter_id)
        .collect())
}

pub async fn insert_destroyed(db: &impl Db, d: &DestroyedRecord) -> StoreResult<()> {
    let db = db.conn();
    let am: destroyed_item::ActiveModel = d.clone().into();
    destroyed_item::Entity::insert(am.reset_all())
        .exec(db)
        .await?;
    Ok(())
}

/// The residual record of a proposal's destruction.
pub async fn destroyed_of(db: &impl Db, proposal_id: &str) -> StoreResult<Vec<DestroyedRecord>> {
    let db = db.conn();
    Ok(destroyed_item::Entity::find()
        .filter(destroyed_item::Column::ProposalId.eq(proposal_id))
        .order_by_asc(destroyed_item::Column::LetterId)
        .order_by_asc(destroyed_item::Column::Kind)
        .order_by_asc(destroyed_item::Column::ItemId)
        .all(db)
        .await?)
}

/// Clears a destroyed letter's content: subject and body of the letter and of
/// every version, its comments, the notes of its dispositions and their
/// responses, and the signed manifest and signature bytes.
/// Hashes, ids, numbers and dates stay.
pub async fn clear_letter_content(db: &impl Db, letter_id: &str, now: i64) -> StoreResult<()> {
    let db = db.conn();
    letter::Entity::update_many()
        .col_expr(letter::Column::Subject, Expr::value(""))
        .col_expr(letter::Column::Body, Expr::value(""))
        .col_expr(letter::Column::Incoming, Expr::value(""))
        .col_expr(
            letter::Column::State,
            Expr::value(crate::domain::lifecycle::LetterState::Destroyed),
        )
        .col_expr(letter::Column::UpdatedAtUs, Expr::value(now))
        .col_expr(
            letter::Column::Revision,
            Expr::col(letter::Column::Revision).add(1),
        )
        .filter(letter::Column::Id.eq(letter_id))
        .exec(db)
        .await?;
    letter_version::Entity::update_many()
        .col_expr(letter_version::Column::Subject, Expr::value(""))
        .col_expr(letter_version::Column::Body, Expr::value(""))
        .filter(letter_version::Column::LetterId.eq(letter_id))
        .exec(db)
        .await?;
    letter_comment::Entity::delete_many()
        .filter(letter_comment::Column::LetterId.eq(letter_id))
        .exec(db)
        .await?;
    let dispositions: Vec<String> = disposition::Entity::find()
        .filter(disposition::Column::LetterId.eq(letter_id))
        .select_only()
        .column(disposition::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    if !dispositions.is_empty() {
        disposition::Entity::update_many()
            .col_expr(disposition::Column::Note, Expr::value(""))
            .filter(disposition::Column::LetterId.eq(letter_id))
            .exec(db)
            .await?;
        disposition_response::Entity::update_many()
            .col_expr(disposition_response::Column::Note, Expr::value(""))
            .filter(disposition_response::Column::DispositionId.is_in(dispositions))
            .exec(db)
            .await?;
    }
    letter_signature::Entity::update_many()
        .col_expr(
            letter_signature::Column::Manifest,
            Expr::value(Vec::<u8>::new()),
        )
        .col_expr(
            letter_signature::Column::Signature,
            Expr::value(Vec::<u8>::new()),
        )
        .filter(letter_signature::Column::LetterId.eq(letter_id))
        .exec(db)
        .await?;
    Ok(())
}

/// True when an attachment of a letter that is not destroyed still uses the blob.
pub async fn blob_in_use(db: &impl Db, sha256: &str) -> StoreResult<bool> {
    let db = db.conn();
    let letters: Vec<String> = attachment::Entity::find()
        .filter(attachment::Column::Sha256.eq(sha256))
        .select_only()
        .column(attachment::Column::LetterId)
        .into_tuple()
        .all(db)
        .await?;
    if letters.is_empty() {
        return Ok(false);
    }
    Ok(letter::Entity::find()
        .filter(letter::Column::Id.is_in(letters))
        .filter(letter::Column::State.ne(crate::domain::lifecycle::LetterState::Destroyed))
        .count(db)
        .await?
        > 0)
}

/// The blobs of attachments destroyed under a proposal.
pub async fn destroyed_blobs(db: &impl Db, proposal_id: &str) -> StoreResult<Vec<String>> {
    let db = db.conn();
    let mut v: Vec<String> = destroyed_item::Entity::find()
        .filter(destroyed_item::Column::ProposalId.eq(proposal_id))
        .filter(destroyed_item::Column::Kind.eq("attachment"))
        .select_only()
        .column(destroyed_item::Column::Sha256)
        .into_tuple()
        .all(db)
        .await?;
    v.sort();
    v.dedup();
    Ok(v)
}

pub async fn insert_export(db: &impl Db, e: &ExportRecord) -> StoreResult<()> {
    let db = db.conn();
    let am: case_file_export::ActiveModel = e.clone().into();
    case_file_export::Entity::insert(am.reset_all())
        .exec(db)
        .await?;
    Ok(())
}

/// The newest export of a case file.
pub async fn last_export(db: &impl Db, case_file_id: &str) -> StoreResult<Option<ExportRecord>> {
    let db = db.conn();
    Ok(case_file_export::Entity::find()
        .filter(case_file_export::Column::CaseFileId.eq(case_file_id))
        .order_by_desc(case_file_export::Column::ExportedAtUs)
        .one(db)
        .await?)
}

/// Audit events about one resource, oldest first, after `after_seq`.
pub async fn events_of(
    db: &impl Db,
    resource_type: &str,
    resource_id: &str,
    after_seq: i64,
    limit: u64,
) -> StoreResult<Vec<Event>> {
    let db = db.conn();
    let rows = audit_event::Entity::find()
        .filter(audit_event::Column::ResourceType.eq(resource_type))
        .filter(audit_event::Column::ResourceId.eq(resource_id))
        .filter(audit_event::Column::Seq.gt(after_seq))
        .order_by_asc(audit_event::Column::Seq)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(super::audit::to_event).collect())
}
