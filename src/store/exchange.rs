//! Inter-agency exchange in the database: exchange identities, the peer
//! directory, consignments sent (the outbox) and received, and the successors
//! of abolished positions.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::StoreResult;
use super::entities::{
    exchange_identity, exchange_in, exchange_out, exchange_peer, exchange_setting,
    position_successor,
};
use crate::domain::lifecycle::DispatchStatus;
use crate::store::Db;

/// A peer of an agency.
pub type PeerRecord = exchange_peer::Model;
/// A consignment sent (or to send).
pub type OutRecord = exchange_out::Model;
/// A consignment received.
pub type InRecord = exchange_in::Model;

/// The agency's exchange identity: (certificate DER, key sealed under the master key).
pub async fn identity(db: &impl Db, agency_id: &str) -> StoreResult<Option<(Vec<u8>, Vec<u8>)>> {
    let db = db.conn();
    Ok(exchange_identity::Entity::find_by_id(agency_id.to_owned())
        .one(db)
        .await?
        .map(|m| (m.cert_der, m.sealed_key)))
}

/// Stores an agency's exchange identity.
pub async fn insert_identity(
    db: &impl Db,
    agency_id: &str,
    cert_der: &[u8],
    sealed_key: &[u8],
    now_us: i64,
) -> StoreResult<()> {
    let db = db.conn();
    exchange_identity::Entity::insert(exchange_identity::ActiveModel {
        agency_id: Set(agency_id.to_owned()),
        cert_der: Set(cert_der.to_vec()),
        sealed_key: Set(sealed_key.to_vec()),
        created_at_us: Set(now_us),
    })
    .exec(db)
    .await?;
    Ok(())
}

/// One peer of an agency.
pub async fn peer(db: &impl Db, agency_id: &str, code: &str) -> StoreResult<Option<PeerRecord>> {
    let db = db.conn();
    Ok(
        exchange_peer::Entity::find_by_id((agency_id.to_owned(), code.to_owned()))
            .one(db)
            .await?,
    )
}

/// The peers of an agency, by code.
pub async fn peers(db: &impl Db, agency_id: &str) -> StoreResult<Vec<PeerRecord>> {
    let db = db.conn();
    Ok(exchange_peer::Entity::find()
        .filter(exchange_peer::Column::AgencyId.eq(agency_id))
        .order_by_asc(exchange_peer::Column::Code)
        .all(db)
        .await?)
}

/// Every peer of every agency of the installation.
pub async fn all_peers(db: &impl Db) -> StoreResult<Vec<PeerRecord>> {
    let db = db.conn();
    Ok(exchange_peer::Entity::find()
        .order_by_asc(exchange_peer::Column::AgencyId)
        .order_by_asc(exchange_peer::Column::Code)
        .all(db)
        .await?)
}

/// Adds a peer, replacing one of the same code.
pub async fn put_peer(db: &impl Db, p: &PeerRecord) -> StoreResult<()> {
    remove_peer(db, &p.agency_id, &p.code).await?;
    let db = db.conn();
    let am: exchange_peer::ActiveModel = p.clone().into();
    exchange_peer::Entity::insert(sea_orm::ActiveModelTrait::reset_all(am))
        .exec(db)
        .await?;
    Ok(())
}

/// Removes a peer; whether there was one.
pub async fn remove_peer(db: &impl Db, agency_id: &str, code: &str) -> StoreResult<bool> {
    let db = db.conn();
    let r = exchange_peer::Entity::delete_many()
        .filter(exchange_peer::Column::AgencyId.eq(agency_id))
        .filter(exchange_peer::Column::Code.eq(code))
        .exec(db)
        .await?;
    Ok(r.rows_affected > 0)
}

/// Queues a consignment.
pub async fn insert_out(db: &impl Db, o: &OutRecord) -> StoreResult<()> {
    let db = db.conn();
    let am: exchange_out::ActiveModel = o.clone().into();
    exchange_out::Entity::insert(sea_orm::ActiveModelTrait::reset_all(am))
        .exec(db)
        .await?;
    Ok(())
}

/// One consignment of an agency.
pub async fn out(db: &impl Db, agency_id: &str, id: &str) -> StoreResult<Option<OutRecord>> {
    let db = db.conn();
    Ok(exchange_out::Entity::find_by_id(id.to_owned())
        .filter(exchange_out::Column::AgencyId.eq(agency_id))
        .one(db)
        .await?)
}

/// The consignments of letters, in addressee order.
pub async fn outs_of_letters(db: &impl Db, letter_ids: &[String]) -> StoreResult<Vec<OutRecord>> {
    if letter_ids.is_empty() {
        return Ok(Vec::new());
    }
    let db = db.conn();
    Ok(exchange_out::Entity::find()
        .filter(exchange_out::Column::LetterId.is_in(letter_ids.iter().cloned()))
        .order_by_asc(exchange_out::Column::LetterId)
        .order_by_asc(exchange_out::Column::AddresseeKind)
        .order_by_asc(exchange_out::Column::AddresseeIdx)
        .all(db)
        .await?)
}

/// What the relay works on: consignments to send, and delivered ones whose
/// outcome it asks for.
const RELAYED: [DispatchStatus; 3] = [
    DispatchStatus::Queued,
    DispatchStatus::Sent,
    DispatchStatus::Delivered,
];

/// Consignments the relay should work on now: pending, due, not leased.
pub async fn due(db: &impl Db, now_us: i64, limit: u64) -> StoreResult<Vec<OutRecord>> {
    let db = db.conn();
    Ok(exchange_out::Entity::find()
        .filter(exchange_out::Column::Status.is_in(RELAYED.map(i16::from)))
        .filter(exchange_out::Column::NextAttemptUs.lte(now_us))
        .filter(exchange_out::Column::LeaseUntilUs.lt(now_us))
        .order_by_asc(exchange_out::Column::NextAttemptUs)
        .limit(limit)
        .all(db)
        .await?)
}

/// Takes the lease of a pending consignment until `until_us`: false when
/// another relay holds it or it is no longer pending.
pub async fn lease(db: &impl Db, id: &str, now_us: i64, until_us: i64) -> StoreResult<bool> {
    let db = db.conn();
    let r = exchange_out::Entity::update_many()
        .col_expr(exchange_out::Column::LeaseUntilUs, Expr::value(until_us))
        .filter(exchange_out::Column::Id.eq(id))
        .filter(exchange_out::Column::LeaseUntilUs.lt(now_us))
        .filter(exchange_out::Column::Status.is_in(RELAYED.map(i16::from)))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Writes a consignment's row back.
pub async fn save_out(db: &impl Db, o: &OutRecord) -> StoreResult<()> {
    let db = db.conn();
    let am: exchange_out::ActiveModel = o.clone().into();
    exchange_out::Entity::update(sea_orm::ActiveModelTrait::reset_all(am))
        .exec(db)
        .await?;
    Ok(())
}

/// A page of an agency's consignments, newest first, after `(created_at_us, id)`.
pub async fn outs(
    db: &impl Db,
    agency_id: &str,
    status: Option<DispatchStatus>,
    after: Option<(i64, String)>,
    limit: u64,
) -> StoreResult<Vec<OutRecord>> {
    let db = db.conn();
    let mut q = exchange_out::Entity::find().filter(exchange_out::Column::AgencyId.eq(agency_id));
    if let Some(s) = status {
        q = q.filter(exchange_out::Column::Status.eq(i16::from(s)));
    }
    if let Some((t, id)) = after {
        q = q.filter(
            Condition::any()
                .add(exchange_out::Column::CreatedAtUs.lt(t))
                .add(
                    Condition::all()
                        .add(exchange_out::Column::CreatedAtUs.eq(t))
                        .add(exchange_out::Column::Id.lt(id)),
                ),
        );
    }
    Ok(q.order_by_desc(exchange_out::Column::CreatedAtUs)
        .order_by_desc(exchange_out::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// A received consignment.
pub async fn received(
    db: &impl Db,
    agency_id: &str,
    sender_code: &str,
    consignment_id: &str,
) -> StoreResult<Option<InRecord>> {
    let db = db.conn();
    Ok(exchange_in::Entity::find_by_id((
        agency_id.to_owned(),
        sender_code.to_owned(),
        consignment_id.to_owned(),
    ))
    .one(db)
    .await?)
}

/// Stores a received consignment.
pub async fn insert_in(db: &impl Db, r: &InRecord) -> StoreResult<()> {
    let db = db.conn();
    let am: exchange_in::ActiveModel = r.clone().into();
    exchange_in::Entity::insert(sea_orm::ActiveModelTrait::reset_all(am))
        .exec(db)
        .await?;
    Ok(())
}

/// Writes a received consignment's row back.
pub async fn save_in(db: &impl Db, r: &InRecord) -> StoreResult<()> {
    let db = db.conn();
    let am: exchange_in::ActiveModel = r.clone().into();
    exchange_in::Entity::update(sea_orm::ActiveModelTrait::reset_all(am))
        .exec(db)
        .await?;
    Ok(())
}

/// Decided outcomes not yet acknowledged by their senders, due now and not leased.
pub async fn outcomes_due(db: &impl Db, now_us: i64, limit: u64) -> StoreResult<Vec<InRecord>> {
    let db = db.conn();
    Ok(exchange_in::Entity::find()
        .filter(exchange_in::Column::OutcomeAcked.eq(false))
        .filter(exchange_in::Column::OutcomeSeq.gt(0))
        .filter(exchange_in::Column::OutcomeNextAttemptUs.lte(now_us))
        .filter(exchange_in::Column::OutcomeLeaseUntilUs.lt(now_us))
        .order_by_asc(exchange_in::Column::OutcomeNextAttemptUs)
        .limit(limit)
        .all(db)
        .await?)
}

/// Takes the lease of an unacknowledged outcome until `until_us`.
pub async fn lease_outcome(
    db: &impl Db,
    key: (&str, &str, &str),
    now_us: i64,
    until_us: i64,
) -> StoreResult<bool> {
    let db = db.conn();
    let r = exchange_in::Entity::update_many()
        .col_expr(
            exchange_in::Column::OutcomeLeaseUntilUs,
            Expr::value(until_us),
        )
        .filter(exchange_in::Column::AgencyId.eq(key.0))
        .filter(exchange_in::Column::SenderCode.eq(key.1))
        .filter(exchange_in::Column::ConsignmentId.eq(key.2))
        .filter(exchange_in::Column::OutcomeLeaseUntilUs.lt(now_us))
        .filter(exchange_in::Column::OutcomeAcked.eq(false))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// The decided outcomes of one sender's consignments after a cursor, in decision order.
pub async fn outcomes_after(
    db: &impl Db,
    agency_id: &str,
    sender_code: &str,
    after: i64,
    limit: u64,
) -> StoreResult<Vec<InRecord>> {
    let db = db.conn();
    Ok(exchange_in::Entity::find()
        .filter(exchange_in::Column::AgencyId.eq(agency_id))
        .filter(exchange_in::Column::SenderCode.eq(sender_code))
        .filter(exchange_in::Column::OutcomeSeq.gt(after))
        .order_by_asc(exchange_in::Column::OutcomeSeq)
        .limit(limit)
        .all(db)
        .await?)
}

/// The largest outcome cursor of an agency (the next is above it).
pub async fn last_outcome_seq(db: &impl Db, agency_id: &str) -> StoreResult<i64> {
    let db = db.conn();
    Ok(exchange_in::Entity::find()
        .filter(exchange_in::Column::AgencyId.eq(agency_id))
        .order_by_desc(exchange_in::Column::OutcomeSeq)
        .one(db)
        .await?
        .map(|r| r.outcome_seq)
        .unwrap_or(0))
}

/// The successor of an abolished position, if it has one.
pub async fn successor(
    db: &impl Db,
    agency_id: &str,
    position_id: &str,
) -> StoreResult<Option<String>> {
    let db = db.conn();
    Ok(
        position_successor::Entity::find_by_id(position_id.to_owned())
            .filter(position_successor::Column::AgencyId.eq(agency_id))
            .one(db)
            .await?
            .map(|m| m.successor_id),
    )
}

/// Every abolished position of an agency with its successor.
pub async fn successors(db: &impl Db, agency_id: &str) -> StoreResult<Vec<(String, String)>> {
    let db = db.conn();
    Ok(position_successor::Entity::find()
        .filter(position_successor::Column::AgencyId.eq(agency_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.position_id, m.successor_id))
        .collect())
}

/// Records that `position_id` is abolished and its letters go to `successor_id`.
pub async fn set_successor(
    db: &impl Db,
    agency_id: &str,
    position_id: &str,
    successor_id: &str,
    now_us: i64,
) -> StoreResult<()> {
    let db = db.conn();
    position_successor::Entity::delete_many()
        .filter(position_successor::Column::PositionId.eq(position_id))
        .exec(db)
        .await?;
    position_successor::Entity::insert(position_successor::ActiveModel {
        position_id: Set(position_id.to_owned()),
        agency_id: Set(agency_id.to_owned()),
        successor_id: Set(successor_id.to_owned()),
        abolished_at_us: Set(now_us),
    })
    .exec(db)
    .await?;
    Ok(())
}

/// The consignment a received letter came in.
pub async fn received_letter(db: &impl Db, letter_id: &str) -> StoreResult<Option<InRecord>> {
    let db = db.conn();
    Ok(exchange_in::Entity::find()
        .filter(exchange_in::Column::LetterId.eq(letter_id))
        .one(db)
        .await?)
}

/// Whether the agency's registrar checks received consignments before they
/// are registered.
pub async fn registrar_check(db: &impl Db, agency_id: &str) -> StoreResult<bool> {
    let db = db.conn();
    Ok(exchange_setting::Entity::find_by_id(agency_id.to_owned())
        .one(db)
        .await?
        .is_some_and(|s| s.registrar_check))
}

/// Sets whether the agency's registrar checks received consignments.
pub async fn set_registrar_check(
    db: &impl Db,
    agency_id: &str,
    on: bool,
    now_us: i64,
) -> StoreResult<()> {
    let db = db.conn();
    exchange_setting::Entity::delete_many()
        .filter(exchange_setting::Column::AgencyId.eq(agency_id))
        .exec(db)
        .await?;
    exchange_setting::Entity::insert(exchange_setting::ActiveModel {
        agency_id: Set(agency_id.to_owned()),
        registrar_check: Set(on),
        updated_at_us: Set(now_us),
    })
    .exec(db)
    .await?;
    Ok(())
}

/// Received consignments awaiting the registrar's check, oldest first,
/// after `(received_at_us, sender, id)`.
pub async fn awaiting(
    db: &impl Db,
    agency_id: &str,
    after: Option<(i64, String, String)>,
    limit: u64,
) -> StoreResult<Vec<InRecord>> {
    let db = db.conn();
    let mut q = exchange_in::Entity::find()
        .filter(exchange_in::Column::AgencyId.eq(agency_id))
        .filter(exchange_in::Column::Outcome.is_null());
    if let Some((t, sender, id)) = after {
        q = q.filter(
            Condition::any()
                .add(exchange_in::Column::ReceivedAtUs.gt(t))
                .add(
                    Condition::all()
                        .add(exchange_in::Column::ReceivedAtUs.eq(t))
                        .add(
                            Condition::any()
                                .add(exchange_in::Column::SenderCode.gt(sender.clone()))
                                .add(
                                    Condition::all()
                                        .add(exchange_in::Column::SenderCode.eq(sender))
                                        .add(exchange_in::Column::ConsignmentId.gt(id)),
                                ),
                        ),
                ),
        );
    }
    Ok(q.order_by_asc(exchange_in::Column::ReceivedAtUs)
        .order_by_asc(exchange_in::Column::SenderCode)
        .order_by_asc(exchange_in::Column::ConsignmentId)
        .limit(limit)
        .all(db)
        .await?)
}
