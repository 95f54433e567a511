//! What the contract does not show, read from the database behind a test
//! server: a login lock's count, the rows left after a destruction, the audit
//! events as stored, an agency's number template, the letters of a database.
//! Each is named for what a test proves with it.

use naskah::audit::Event;
use naskah::store::disposal::DestroyedRecord;
use naskah::store::letters::{CommentRecord, LetterRecord, SignatureRecord, VersionRecord};
use sea_orm::{ConnectionTrait, Database, Statement};

use crate::TestServer;

/// A user's failed logins in a row and the end of their login lock (µs; 0
/// when never locked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginLock {
    pub failed_logins: i32,
    pub locked_until_us: i64,
}

/// The login lock of `username` as stored.
pub async fn login_lock(t: &TestServer, username: &str) -> LoginLock {
    let user = naskah::store::identity::user_by_username(t.store().reader(), username)
        .await
        .expect("q")
        .expect("user");
    LoginLock {
        failed_logins: user.failed_logins,
        locked_until_us: user.locked_until_us,
    }
}

/// The newest `limit` audit events as stored, newest first: those on
/// `resource_id`, or all when it is empty.
pub async fn audit_events(t: &TestServer, resource_id: &str, limit: u64) -> Vec<Event> {
    naskah::store::audit::list(
        t.store().reader(),
        &naskah::store::audit::EventFilter {
            resource_id: resource_id.to_owned(),
            ..Default::default()
        },
        None,
        limit,
    )
    .await
    .expect("events")
}

/// The letter row `id` of `agency` as stored.
pub async fn stored_letter(t: &TestServer, agency: &str, id: &str) -> Option<LetterRecord> {
    naskah::store::letters::letter(t.store().reader(), agency, id)
        .await
        .expect("read")
}

/// The signature row of letter `id` as stored.
pub async fn stored_signature(t: &TestServer, id: &str) -> Option<SignatureRecord> {
    naskah::store::letters::signature(t.store().reader(), id)
        .await
        .expect("read")
}

/// The first 100 comment rows of letter `id` as stored.
pub async fn stored_comments(t: &TestServer, id: &str) -> Vec<CommentRecord> {
    naskah::store::letters::comments(t.store().reader(), id, None, 100)
        .await
        .expect("comments")
}

/// The first 100 version rows of letter `id` as stored.
pub async fn stored_versions(t: &TestServer, id: &str) -> Vec<VersionRecord> {
    naskah::store::letters::versions(t.store().reader(), id, 0, 100)
        .await
        .expect("versions")
}

/// The residual record of an executed disposal: each destroyed item with its
/// hash.
pub async fn destroyed_items(t: &TestServer, proposal_id: &str) -> Vec<DestroyedRecord> {
    naskah::store::disposal::destroyed_of(t.store().reader(), proposal_id)
        .await
        .expect("residual")
}

/// The number template of agency `agency_id`, when one is set.
pub async fn numbering_template(t: &TestServer, agency_id: &str) -> Option<String> {
    naskah::store::setup::numbering(t.store().reader(), agency_id)
        .await
        .expect("q")
        .map(|n| n.0)
}

/// How many letters the database at `url` holds (of every agency).
pub async fn letters_in(url: &str) -> i64 {
    let conn = Database::connect(url).await.expect("connect");
    let n = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT COUNT(*) AS n FROM letter",
        ))
        .await
        .expect("count")
        .expect("row")
        .try_get::<i64>("", "n")
        .expect("n");
    conn.close().await.expect("close");
    n
}

/// What the database at `url` received by exchange: (incoming letters that
/// came by exchange, consignments stored, distinct consignment ids among the
/// letters).
pub async fn received_by_exchange(url: &str) -> (i64, i64, i64) {
    let conn = Database::connect(url).await.expect("connect");
    let count = async |sql: &str| {
        conn.query_one_raw(Statement::from_string(conn.get_database_backend(), sql))
            .await
            .expect("count")
            .expect("row")
            .try_get::<i64>("", "n")
            .expect("n")
    };
    let letters =
        count("SELECT COUNT(*) AS n FROM letter WHERE incoming LIKE '%consignment_id%'").await;
    let stored = count("SELECT COUNT(*) AS n FROM exchange_in").await;
    let distinct =
        count("SELECT COUNT(DISTINCT letter_id) AS n FROM exchange_in WHERE letter_id <> ''").await;
    conn.close().await.expect("close");
    (letters, stored, distinct)
}
