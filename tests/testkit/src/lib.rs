//! The test kit of naskah, a crate of the workspace of its own: throwaway
//! PostgreSQL clusters ([`pgcluster`], also used by the benchmark), the test
//! server fixture ([`TestServer`], the real binary as [`Served`], the
//! [`dual!`] macro that runs a test body on SQLite and on PostgreSQL), and
//! what the tests share.
//!
//! The kit is the one place of the tests that knows naskah's insides: it
//! starts servers from their settings and clock, and it holds, each named for
//! what a test does with it, what a test needs beyond the contract: the
//! operator's commands ([`operator`]), a look at the stored rows
//! ([`inspect`]), changes behind the server's back ([`tamper`]), tokens
//! minted with the server's key ([`tokens`]), a sealed signing key used
//! ([`signing`]), the policy table the gate is held to ([`policy`]), the
//! clock ([`clock`]) and calendar arithmetic ([`calendar`]). The black-box
//! suite (`tests/it`) speaks only the gRPC contract and this kit.

pub mod calendar;
pub mod clock;
pub mod demo;
pub mod exchange;
pub mod faults;
pub mod inspect;
mod openssl;
pub mod operator;
pub mod pgcluster;
pub mod policy;
mod refusal;
mod server;
pub mod signing;
pub mod tamper;
pub mod tokens;

pub use openssl::openssl_verifies;
pub use refusal::Refusal;

pub use server::{
    Db, OtherServer, OwnCluster, PgCluster, Served, TestServer, authed, fresh_db_url, pg, reason,
    serve_binary, test_settings,
};

/// Runs one async test body against SQLite and against PostgreSQL: for a
/// function `name(db: Db)`, a module `name` with the tests `sqlite` and
/// `postgres`.
#[macro_export]
macro_rules! dual {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::Db::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::Db::Postgres).await
            }
        }
    };
}
