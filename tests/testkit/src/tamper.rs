//! Changes made behind a running server's back, to prove that it notices:
//! the audit chain's rows altered, removed, reordered or planted, each undone
//! by its counterpart.

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

use crate::TestServer;

/// The columns of an audit event but its seq.
const EVENT_COLUMNS: &str = "event_time_us, agency_id, actor_user_id, actor_position_id, action, resource_type, resource_id, \
                outcome, reason, request_id, client_address, summary, prev_hash, hash";

/// A connection of its own to a test server's database, for tampering with
/// its audit chain.
pub struct AuditTamper {
    conn: DatabaseConnection,
}

impl AuditTamper {
    pub async fn open(t: &TestServer) -> Self {
        Self {
            conn: Database::connect(t.db_url.clone())
                .await
                .expect("raw connection"),
        }
    }

    async fn run(&self, sql: &str, what: &str) {
        self.conn.execute_unprepared(sql).await.expect(what);
    }

    /// The seq of the newest event.
    pub async fn last_seq(&self) -> i64 {
        naskah::store::audit::last_seq(&self.conn)
            .await
            .expect("last")
    }

    /// Appends " (edited)" to the summary of event `seq`.
    pub async fn edit_summary(&self, seq: i64) {
        self.run(
            &format!("UPDATE audit_event SET summary = summary || ' (edited)' WHERE seq = {seq}"),
            "alter",
        )
        .await;
    }

    /// Takes the " (edited)" of [`Self::edit_summary`] off again.
    pub async fn restore_summary(&self, seq: i64) {
        self.run(
            &format!(
                "UPDATE audit_event SET summary = substr(summary, 1, length(summary) - 9) WHERE seq = {seq}"
            ),
            "restore",
        )
        .await;
    }

    /// Deletes event `seq`, kept aside for [`Self::put_back`].
    pub async fn take_out(&self, seq: i64) {
        self.run(
            &format!("CREATE TABLE audit_keep AS SELECT * FROM audit_event WHERE seq = {seq}"),
            "keep",
        )
        .await;
        self.run(
            &format!("DELETE FROM audit_event WHERE seq = {seq}"),
            "delete",
        )
        .await;
    }

    /// Puts back the event [`Self::take_out`] took out.
    pub async fn put_back(&self) {
        self.run(
            "INSERT INTO audit_event SELECT * FROM audit_keep",
            "put back",
        )
        .await;
        self.run("DROP TABLE audit_keep", "drop").await;
    }

    /// Swaps every column but seq between events `a` and `b`, kept aside
    /// for [`Self::unswap`].
    pub async fn swap(&self, a: i64, b: i64) {
        self.run(
            &format!(
                "CREATE TABLE audit_swap AS SELECT seq, {EVENT_COLUMNS} FROM audit_event WHERE seq IN ({a}, {b})"
            ),
            "copy",
        )
        .await;
        let set = Self::set_from_swap(&format!("s.seq = {} - audit_event.seq", a + b));
        self.run(
            &format!("UPDATE audit_event SET {set} WHERE seq IN ({a}, {b})"),
            "swap",
        )
        .await;
    }

    /// Swaps events `a` and `b` of [`Self::swap`] back.
    pub async fn unswap(&self, a: i64, b: i64) {
        let restore = Self::set_from_swap("s.seq = audit_event.seq");
        self.run(
            &format!("UPDATE audit_event SET {restore} WHERE seq IN ({a}, {b})"),
            "swap back",
        )
        .await;
        self.run("DROP TABLE audit_swap", "drop").await;
    }

    /// Every column but seq set from the row of `audit_swap` that `pick`
    /// chooses.
    fn set_from_swap(pick: &str) -> String {
        EVENT_COLUMNS
            .split(", ")
            .map(|c| format!("{c} = (SELECT {c} FROM audit_swap s WHERE {pick})"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Plants a copy of event 1 as event `seq`.
    pub async fn plant_copy_of_the_first_at(&self, seq: i64) {
        self.run(
            &format!(
                "INSERT INTO audit_event (seq, event_time_us, agency_id, actor_user_id, \
                 actor_position_id, action, resource_type, resource_id, outcome, reason, request_id, \
                 client_address, summary, prev_hash, hash) SELECT {seq}, event_time_us, agency_id, \
                 actor_user_id, actor_position_id, action, resource_type, resource_id, outcome, reason, \
                 request_id, client_address, summary, prev_hash, hash FROM audit_event WHERE seq = 1"
            ),
            "plant",
        )
        .await;
    }

    /// Deletes event `seq` for good.
    pub async fn delete(&self, seq: i64) {
        self.run(
            &format!("DELETE FROM audit_event WHERE seq = {seq}"),
            "delete",
        )
        .await;
    }

    pub async fn close(self) {
        self.conn.close().await.expect("close");
    }
}
