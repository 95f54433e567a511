//! The domain's state enums as column values: stored as their numbers
//! (SMALLINT), read back through `TryFrom<i16>`, so that a number outside a
//! machine is a corrupt row at the store boundary, never a state the domain
//! has to guess at.

use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, ValueType, ValueTypeErr};
use sea_orm::{ColIdx, DbErr, QueryResult, TryFromU64, TryGetError, TryGetable, Value};

use crate::domain::lifecycle::{
    AddresseeKind, CaseFileState, Decision, Direction, DispatchStatus, DispositionState, Folder,
    LetterState, ProposalState, RecipientStatus, StepKind,
};

macro_rules! stored {
    ($($t:ident),+ $(,)?) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::SmallInt(Some(i16::from(v)))
            }
        }

        impl TryGetable for $t {
            fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
                let n = <i16 as TryGetable>::try_get_by(res, index)?;
                <$t as TryFrom<i16>>::try_from(n)
                    .map_err(|e| TryGetError::DbErr(DbErr::Type(e.to_string())))
            }
        }

        impl ValueType for $t {
            fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
                let n = <i16 as ValueType>::try_from(v)?;
                <$t as TryFrom<i16>>::try_from(n).map_err(|_| ValueTypeErr)
            }
            fn type_name() -> String {
                stringify!($t).to_owned()
            }
            fn array_type() -> ArrayType {
                ArrayType::SmallInt
            }
            fn column_type() -> ColumnType {
                ColumnType::SmallInteger
            }
        }

        /// Part of a primary key (the folder of a folder entry).
        impl TryFromU64 for $t {
            fn try_from_u64(n: u64) -> Result<Self, DbErr> {
                <i16 as TryFrom<u64>>::try_from(n)
                    .ok()
                    .and_then(|n| <$t as TryFrom<i16>>::try_from(n).ok())
                    .ok_or_else(|| DbErr::Type(format!("{n} is not a {}", stringify!($t))))
            }
        }

        impl Nullable for $t {
            fn null() -> Value {
                Value::SmallInt(None)
            }
        }
    )+};
}

stored!(
    LetterState,
    StepKind,
    Decision,
    DispositionState,
    RecipientStatus,
    CaseFileState,
    ProposalState,
    Folder,
    Direction,
    AddresseeKind,
    DispatchStatus,
);
