//! Letters, their versions, routes, addressees, comments, folders, number
//! counters and signatures in the database.

use crate::store::Db;
use sea_orm::sea_query::{Alias, Asterisk, Expr, OnConflict, Order, Query, UnionType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, ExprTrait,
    IdenStatic, Iterable, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set, Statement,
};

use super::access::Access;
use super::engine::mark;
use super::entities::{
    letter, letter_addressee, letter_box, letter_comment, letter_signature, letter_step,
    letter_version, number_counter,
};
use super::read::{Cells, Decode, Reach, must};
use super::{Store, StoreError, StoreResult, WriteTx};

mod folders;
mod reads;
mod rows;

pub use folders::*;
pub use reads::*;
pub use rows::*;

/// The stored numbers of the domain's [`Folder`]s, for the statements that
/// write them into their text.
pub mod folder {
    use crate::domain::lifecycle::Folder;
    pub const INBOX: i16 = Folder::Inbox as i16;
    pub const CC: i16 = Folder::Cc as i16;
    pub const ALL: i16 = Folder::All as i16;
}

pub use crate::domain::lifecycle::Folder;

/// A letter row.
pub type LetterRecord = letter::Model;
/// A route step row.
pub type StepRecord = letter_step::Model;
/// An addressee row (kind 1 = to, 2 = cc).
pub type AddresseeRecord = letter_addressee::Model;
/// A version row.
pub type VersionRecord = letter_version::Model;
/// A comment row.
pub type CommentRecord = letter_comment::Model;
/// A signature row.
pub type SignatureRecord = letter_signature::Model;

pub(super) fn active<M: Clone, A: From<M>>(m: &M) -> A {
    A::from(m.clone())
}

#[cfg(test)]
mod tests {
    use sea_orm::Iterable;

    use super::{LETTER_COLUMNS, letter};

    #[test]
    fn the_letter_statement_has_the_entitys_columns() {
        assert_eq!(letter::Column::iter().count(), LETTER_COLUMNS);
    }
}
