//! The sea-orm entities, one module per table, grouped by area. Their models
//! are the records the repository functions of `store` read and write (as
//! the `…Record` aliases); the state columns hold the numbers of the
//! domain's state enums (`crate::domain::lifecycle`).

mod agencies;
mod dispositions;
mod exchange;
mod letters;
mod records;
mod stored;

pub use agencies::*;
pub use dispositions::*;
pub use exchange::*;
pub use letters::*;
pub use records::*;
