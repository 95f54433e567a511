//! The test kit of naskah, a crate of the workspace of its own: throwaway
//! PostgreSQL clusters ([`pgcluster`], also used by the benchmark), the test
//! server fixture ([`TestServer`], the real binary as [`Served`], the
//! [`dual!`] macro that runs a test body on SQLite and on PostgreSQL), and
//! what the tests share.
//!
//! The kit is the one place of the tests that knows naskah's insides: it
//! starts servers from their settings and clock. The black-box suite
//! (`tests/it`) speaks only the gRPC contract and this kit.

pub mod demo;
mod openssl;
pub mod pgcluster;
mod server;

pub use openssl::openssl_verifies;

pub use server::{
    Db, PgCluster, Served, TestServer, authed, fresh_db_url, pg, reason, serve_binary,
    test_settings,
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
