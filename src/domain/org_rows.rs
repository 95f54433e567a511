//! The organisation's stored rows as `domain::org` answers them: units,
//! positions and assignments (users are `identity::UserRecord`).

pub use crate::store::org::{AssignmentRecord, PositionRecord, UnitRecord};
