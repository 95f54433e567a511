//! Per-agency setup in the database: numbering settings, classifications, instructions.

use crate::store::Db;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};

use super::StoreResult;
use super::entities::{agency_setting, classification, instruction};

/// A classification code with its (resolved) retention.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassificationRecord {
    pub code: String,
    pub title: String,
    pub parent_code: String,
    pub active_years: i32,
    pub inactive_years: i32,
    /// `FinalDisposition` number.
    pub final_disposition: i16,
    /// `SecurityLevel` number.
    pub default_security_level: i16,
    pub retention_inherited: bool,
}

impl From<classification::Model> for ClassificationRecord {
    fn from(m: classification::Model) -> Self {
        Self {
            code: m.code,
            title: m.title,
            parent_code: m.parent_code,
            active_years: m.active_years,
            inactive_years: m.inactive_years,
            final_disposition: m.final_disposition,
            default_security_level: m.default_security_level,
            retention_inherited: m.retention_inherited,
        }
    }
}

/// Inserts or replaces a classification; true when it was new.
pub async fn upsert_classification(
    db: &impl Db,
    agency: &str,
    c: &ClassificationRecord,
    now_us: i64,
) -> StoreResult<bool> {
    let db = db.conn();
    let existing = classification::Entity::find_by_id((agency.to_owned(), c.code.clone()))
        .one(db)
        .await?;
    let model = classification::ActiveModel {
        agency_id: Set(agency.to_owned()),
        code: Set(c.code.clone()),
        title: Set(c.title.clone()),
        parent_code: Set(c.parent_code.clone()),
        active_years: Set(c.active_years),
        inactive_years: Set(c.inactive_years),
        final_disposition: Set(c.final_disposition),
        default_security_level: Set(c.default_security_level),
        retention_inherited: Set(c.retention_inherited),
        updated_at_us: Set(now_us),
    };
    if existing.is_some() {
        model.update(db).await?;
        Ok(false)
    } else {
        model.insert(db).await?;
        Ok(true)
    }
}

/// One classification.
pub async fn classification(
    db: &impl Db,
    agency: &str,
    code: &str,
) -> StoreResult<Option<ClassificationRecord>> {
    let db = db.conn();
    Ok(
        classification::Entity::find_by_id((agency.to_owned(), code.to_owned()))
            .one(db)
            .await?
            .map(Into::into),
    )
}

/// Classifications in code order, optionally under `root`, after a code.
pub async fn list_classifications(
    db: &impl Db,
    agency: &str,
    root: Option<&str>,
    after: Option<&str>,
    limit: u64,
) -> StoreResult<Vec<ClassificationRecord>> {
    let db = db.conn();
    let mut q = classification::Entity::find().filter(classification::Column::AgencyId.eq(agency));
    if let Some(r) = root {
        q = q.filter(
            Condition::any()
                .add(classification::Column::Code.eq(r))
                .add(classification::Column::Code.starts_with(format!("{r}."))),
        );
    }
    if let Some(a) = after {
        q = q.filter(classification::Column::Code.gt(a));
    }
    Ok(q.order_by_asc(classification::Column::Code)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// Inserts an instruction.
pub async fn insert_instruction(
    db: &impl Db,
    agency: &str,
    code: &str,
    text: &str,
    order: i32,
) -> StoreResult<()> {
    let db = db.conn();
    instruction::ActiveModel {
        agency_id: Set(agency.to_owned()),
        code: Set(code.to_owned()),
        text: Set(text.to_owned()),
        sort_order: Set(order),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The agency's instructions in display order: (code, text).
pub async fn instructions(db: &impl Db, agency: &str) -> StoreResult<Vec<(String, String)>> {
    let db = db.conn();
    Ok(instruction::Entity::find()
        .filter(instruction::Column::AgencyId.eq(agency))
        .order_by_asc(instruction::Column::SortOrder)
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.code, i.text))
        .collect())
}

/// Sets the agency's number template and numbering scope.
pub async fn set_numbering(
    db: &impl Db,
    agency: &str,
    template: &str,
    scope: i16,
    now_us: i64,
) -> StoreResult<()> {
    let db = db.conn();
    let model = agency_setting::ActiveModel {
        agency_id: Set(agency.to_owned()),
        number_template: Set(template.to_owned()),
        numbering_scope: Set(scope),
        updated_at_us: Set(now_us),
    };
    if agency_setting::Entity::find_by_id(agency.to_owned())
        .one(db)
        .await?
        .is_some()
    {
        model.update(db).await?;
    } else {
        model.insert(db).await?;
    }
    Ok(())
}

/// The agency's number template and numbering scope, if set.
pub async fn numbering(db: &impl Db, agency: &str) -> StoreResult<Option<(String, i16)>> {
    let db = db.conn();
    Ok(agency_setting::Entity::find_by_id(agency.to_owned())
        .one(db)
        .await?
        .map(|s| (s.number_template, s.numbering_scope)))
}
