//! The write connection of a SQLite file, driven through SQLite's own API on
//! the thread of the writer that holds the turn (see [`crate::store::group`]).
//!
//! Through sqlx every statement of a write transaction was a round trip to the
//! connection's own thread and back — two thread wake-ups per statement, while
//! every other writer waited for the turn. Here a statement runs where it is
//! called: the turn already makes the connection one writer's at a time, and
//! the statements inside a transaction do not wait for locks (the transaction
//! took SQLite's write lock when it began).
//!
//! The connection answers sea-orm's [`ConnectionTrait`], so the domain's
//! queries run on it unchanged. sea-orm builds its rows and results only in its
//! own drivers; the one it lets a caller fill with values is its mock database
//! (`MockDatabase`, an in-memory stand-in that runs nothing), which here hands
//! each statement's rows and counts back as sea-orm results. (Its `proxy`
//! rows would be the natural way, but sea-orm 2.0.4 does not compile with that
//! feature beside the `sqlx-sqlite` driver.) A value is typed by the entity column its
//! result column comes from (SQLite's column metadata names it): an `INTEGER`
//! column holds both 32- and 64-bit numbers, and sea-orm reads a value only as
//! the type it was given. A result column with no table column behind it (an
//! expression) is typed by what SQLite stored: an integer as 64 bits, text,
//! bytes or a real. Values are found by column name (the mock database's rows
//! are name → value maps): a query through sea-orm on this connection must
//! not read a row of two or more columns by position (sea-orm's tuples do);
//! a read decoded by position goes through [`WriteConn::rows`], which hands
//! SQLite's rows to the decoder as they are.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use sea_orm::{
    ColumnTrait, ColumnType, ConnectionTrait, DbBackend, DbErr, EntityTrait, ExecResult,
    IdenStatic, Iterable, MockDatabase, MockExecResult, QueryResult, Statement, Value,
};

use crate::store::entities as e;

/// How a result column's values are given to sea-orm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Bool,
    Small,
    Int,
    Big,
    Double,
    Text,
    Bytes,
    /// By the stored value's own class.
    Stored,
}

/// The kinds of the entities' columns by table and column name.
type Kinds = HashMap<(&'static str, &'static str), Kind>;

fn kind_of(t: &ColumnType) -> Kind {
    match t {
        ColumnType::Boolean => Kind::Bool,
        ColumnType::SmallInteger | ColumnType::SmallUnsigned => Kind::Small,
        ColumnType::Integer | ColumnType::Unsigned => Kind::Int,
        ColumnType::BigInteger | ColumnType::BigUnsigned => Kind::Big,
        ColumnType::Float | ColumnType::Double => Kind::Double,
        ColumnType::String(_) | ColumnType::Text | ColumnType::Char(_) => Kind::Text,
        ColumnType::Blob | ColumnType::Binary(_) | ColumnType::VarBinary(_) => Kind::Bytes,
        _ => Kind::Stored,
    }
}

fn add<E: EntityTrait>(kinds: &mut Kinds) {
    let table = E::default().table_name();
    for c in E::Column::iter() {
        kinds.insert((table, c.as_str()), kind_of(c.def().get_column_type()));
    }
}

/// Every entity's columns, read once.
fn kinds() -> &'static Kinds {
    static KINDS: OnceLock<Kinds> = OnceLock::new();
    KINDS.get_or_init(|| {
        let mut k = Kinds::new();
        add::<e::agency::Entity>(&mut k);
        add::<e::audit_event::Entity>(&mut k);
        add::<e::audit_head::Entity>(&mut k);
        add::<e::app_user::Entity>(&mut k);
        add::<e::refresh_token::Entity>(&mut k);
        add::<e::unit::Entity>(&mut k);
        add::<e::position::Entity>(&mut k);
        add::<e::assignment::Entity>(&mut k);
        add::<e::secretary::Entity>(&mut k);
        add::<e::idempotency_key::Entity>(&mut k);
        add::<e::agency_setting::Entity>(&mut k);
        add::<e::classification::Entity>(&mut k);
        add::<e::instruction::Entity>(&mut k);
        add::<e::agency_ca::Entity>(&mut k);
        add::<e::signing_key::Entity>(&mut k);
        add::<e::letter::Entity>(&mut k);
        add::<e::letter_version::Entity>(&mut k);
        add::<e::letter_step::Entity>(&mut k);
        add::<e::letter_addressee::Entity>(&mut k);
        add::<e::letter_comment::Entity>(&mut k);
        add::<e::letter_box::Entity>(&mut k);
        add::<e::number_counter::Entity>(&mut k);
        add::<e::letter_signature::Entity>(&mut k);
        add::<e::attachment::Entity>(&mut k);
        add::<e::disposition::Entity>(&mut k);
        add::<e::disposition_recipient::Entity>(&mut k);
        add::<e::disposition_response::Entity>(&mut k);
        add::<e::case_file::Entity>(&mut k);
        add::<e::case_file_letter::Entity>(&mut k);
        add::<e::legal_hold::Entity>(&mut k);
        add::<e::records_setting::Entity>(&mut k);
        add::<e::disposal_proposal::Entity>(&mut k);
        add::<e::disposal_item::Entity>(&mut k);
        add::<e::disposal_approval::Entity>(&mut k);
        add::<e::destroyed_item::Entity>(&mut k);
        add::<e::case_file_export::Entity>(&mut k);
        add::<e::exchange_identity::Entity>(&mut k);
        add::<e::exchange_peer::Entity>(&mut k);
        add::<e::exchange_out::Entity>(&mut k);
        add::<e::exchange_in::Entity>(&mut k);
        add::<e::position_successor::Entity>(&mut k);
        add::<e::exchange_setting::Entity>(&mut k);
        k
    })
}

fn db_err(e: rusqlite::Error) -> DbErr {
    crate::store::engine::error::from_rusqlite(e, "sqlite write")
}

/// True when `e` says that another connection (another process) held SQLite's
/// write lock.
pub(in crate::store) fn is_busy(e: &crate::store::StoreError) -> bool {
    e.kind() == crate::store::engine::ErrorKind::Busy
}

fn custom(what: &str) -> DbErr {
    DbErr::Custom(format!("sqlite write: {what}"))
}

/// One value of a result column of kind `kind`.
fn value(kind: Kind, v: ValueRef<'_>, name: &str) -> Result<Value, DbErr> {
    let range = || custom(&format!("column {name} is out of range"));
    let text = |b: &[u8]| {
        String::from_utf8(b.to_vec()).map_err(|_| custom(&format!("column {name} is not UTF-8")))
    };
    Ok(match (kind, v) {
        (Kind::Bool, ValueRef::Null) => Value::Bool(None),
        (Kind::Small, ValueRef::Null) => Value::SmallInt(None),
        (Kind::Int, ValueRef::Null) => Value::Int(None),
        (Kind::Big, ValueRef::Null) => Value::BigInt(None),
        (Kind::Double, ValueRef::Null) => Value::Double(None),
        (Kind::Text, ValueRef::Null) => Value::String(None),
        (Kind::Bytes | Kind::Stored, ValueRef::Null) => Value::Bytes(None),
        (Kind::Bool, ValueRef::Integer(n)) => Value::Bool(Some(n != 0)),
        (Kind::Small, ValueRef::Integer(n)) => {
            Value::SmallInt(Some(i16::try_from(n).map_err(|_| range())?))
        }
        (Kind::Int, ValueRef::Integer(n)) => {
            Value::Int(Some(i32::try_from(n).map_err(|_| range())?))
        }
        (Kind::Double, ValueRef::Integer(n)) => Value::Double(Some(n as f64)),
        (_, ValueRef::Integer(n)) => Value::BigInt(Some(n)),
        (_, ValueRef::Real(x)) => Value::Double(Some(x)),
        (Kind::Bytes, ValueRef::Text(b) | ValueRef::Blob(b)) => Value::Bytes(Some(b.to_vec())),
        (_, ValueRef::Text(b)) => Value::String(Some(text(b)?)),
        (Kind::Text, ValueRef::Blob(b)) => Value::String(Some(text(b)?)),
        (_, ValueRef::Blob(b)) => Value::Bytes(Some(b.to_vec())),
    })
}

fn bind(stmt: &mut rusqlite::Statement<'_>, k: usize, v: &Value) -> Result<(), DbErr> {
    super::reads::bind(stmt, k, v).map_err(|e| match e {
        crate::store::StoreError::Db(e) => e,
        other => custom(&other.to_string()),
    })
}

/// A row of named values.
type Row = BTreeMap<String, Value>;

/// What running a statement text gave.
#[derive(Default)]
struct Outcome {
    rows: Vec<Row>,
    rows_affected: u64,
    last_insert_id: u64,
}

/// The names of a statement's result columns and how their values are given.
fn described(stmt: &rusqlite::Statement<'_>) -> Vec<(String, Kind)> {
    let kinds = kinds();
    stmt.columns_with_metadata()
        .iter()
        .map(|c| {
            let kind = match (c.table_name(), c.origin_name()) {
                (Some(t), Some(o)) => kinds.get(&(t, o)).copied().unwrap_or(Kind::Stored),
                _ => Kind::Stored,
            };
            (c.name().to_owned(), kind)
        })
        .collect()
}

/// The write connection of a SQLite file.
#[derive(Debug)]
pub struct WriteConn {
    conn: Mutex<Connection>,
}

impl WriteConn {
    /// Opens the file at `path` for writing with the server's settings (those
    /// of [`crate::store::connect_options`]): WAL, `synchronous = NORMAL`, foreign
    /// keys, the shared memory map, an 8 MiB page cache and stable plans. No
    /// busy timeout: SQLite would wait for another process's write lock by
    /// sleeping on the thread that runs the statement, a thread of the async
    /// runtime here; the group's begin waits for it instead (see
    /// [`crate::store::group`]), and no statement inside a transaction waits for it.
    pub fn open(path: &Path) -> Result<Self, DbErr> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db_err)?;
        conn.busy_timeout(std::time::Duration::ZERO)
            .map_err(db_err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
             PRAGMA foreign_keys = ON; PRAGMA mmap_size = 268435456; \
             PRAGMA cache_size = -8192; PRAGMA temp_store = memory;",
        )
        .map_err(db_err)?;
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )
        .map_err(db_err)?;
        conn.set_prepared_statement_cache_capacity(256);
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    /// Runs the statements of `stmt` (several are joined by `;` and a line
    /// break, as the store's batches join them), each with as many of its
    /// values as it has parameters, in order; the rows of them all are kept
    /// when `keep` says so. A text split wrongly fails to prepare: every part
    /// must be exactly one statement.
    fn run(&self, stmt: &Statement, keep: bool) -> Result<Outcome, DbErr> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| custom("the connection was poisoned"))?;
        let all: &[Value] = stmt.values.as_ref().map(|v| v.0.as_slice()).unwrap_or(&[]);
        let mut values = all.iter();
        let mut out = Outcome::default();
        for part in stmt.sql.split(";\n").filter(|p| !p.trim().is_empty()) {
            let mut st = conn.prepare_cached(part).map_err(db_err)?;
            for k in 1..=st.parameter_count() {
                let v = values
                    .next()
                    .ok_or_else(|| custom("fewer values than parameters"))?;
                bind(&mut st, k, v)?;
            }
            let readonly = st.readonly();
            if st.column_count() == 0 {
                st.raw_execute().map_err(db_err)?;
            } else {
                let columns = if keep { described(&st) } else { Vec::new() };
                let mut rows = st.raw_query();
                while let Some(row) = rows.next().map_err(db_err)? {
                    if keep {
                        let mut named = Row::new();
                        for (i, (name, kind)) in columns.iter().enumerate() {
                            if !named.contains_key(name) {
                                let v = row.get_ref(i).map_err(db_err)?;
                                named.insert(name.clone(), value(*kind, v, name)?);
                            }
                        }
                        out.rows.push(named);
                    }
                }
            }
            if !readonly {
                out.rows_affected += conn.changes();
            }
        }
        if values.next().is_some() {
            return Err(custom("more values than parameters"));
        }
        out.last_insert_id = u64::try_from(conn.last_insert_rowid()).unwrap_or(0);
        Ok(out)
    }
}

impl WriteConn {
    /// Runs one read statement in the open transaction, its rows decoded by
    /// column position as the store's hot reads decode them
    /// ([`crate::store::read`]).
    pub fn rows<T>(
        &self,
        stmt: &Statement,
        decode: crate::store::read::Decode<T>,
    ) -> crate::store::StoreResult<Vec<T>> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| custom("the connection was poisoned"))?;
        let mut st = conn.prepare_cached(&stmt.sql).map_err(db_err)?;
        let values: &[Value] = stmt.values.as_ref().map(|v| v.0.as_slice()).unwrap_or(&[]);
        if values.len() != st.parameter_count() {
            return Err(custom("values and parameters differ in number").into());
        }
        for (k, v) in values.iter().enumerate() {
            bind(&mut st, k + 1, v)?;
        }
        let mut rows = st.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(db_err)? {
            out.push(decode(row)?);
        }
        Ok(out)
    }
}

/// An empty statement, for sea-orm's mock database, which only records it.
fn nothing() -> Statement {
    Statement::from_string(DbBackend::Sqlite, String::new())
}

/// The outcome as sea-orm's result of an execution.
async fn exec_result(out: Outcome) -> Result<ExecResult, DbErr> {
    MockDatabase::new(DbBackend::Sqlite)
        .append_exec_results([MockExecResult {
            last_insert_id: out.last_insert_id,
            rows_affected: out.rows_affected,
        }])
        .into_connection()
        .execute_raw(nothing())
        .await
}

/// The rows as sea-orm's rows.
async fn query_results(rows: Vec<Row>) -> Result<Vec<QueryResult>, DbErr> {
    MockDatabase::new(DbBackend::Sqlite)
        .append_query_results([rows])
        .into_connection()
        .query_all_raw(nothing())
        .await
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteConn {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Sqlite
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let out = self.run(&stmt, false)?;
        exec_result(out).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let out = {
            let conn = self
                .conn
                .lock()
                .map_err(|_| custom("the connection was poisoned"))?;
            conn.execute_batch(sql).map_err(db_err)?;
            Outcome {
                rows: Vec::new(),
                rows_affected: conn.changes(),
                last_insert_id: u64::try_from(conn.last_insert_rowid()).unwrap_or(0),
            }
        };
        exec_result(out).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let mut rows = self.run(&stmt, true)?.rows;
        rows.truncate(1);
        Ok(query_results(rows).await?.into_iter().next())
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let rows = self.run(&stmt, true)?.rows;
        query_results(rows).await
    }
}

#[cfg(test)]
mod tests {
    //! Values through the write connection come back as the types the
    //! entities give them, whatever SQLite declared; batches bind in order.

    use std::sync::Arc;

    use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, Statement};

    use super::{WriteConn, e, kinds};
    use crate::clock::SystemClock;
    use crate::store::{Store, StoreError, StoreOptions};

    /// A migrated SQLite file (its directory kept for the test's length) and a
    /// write connection to it.
    async fn migrated() -> (tempfile::TempDir, Store, WriteConn) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("n.db");
        let store = Store::connect(
            &StoreOptions {
                url: format!("sqlite://{}?mode=rwc", path.display()),
                max_connections: 2,
                groups: Default::default(),
            },
            Arc::new(SystemClock),
        )
        .await
        .expect("connect");
        store.migrate().await.expect("migrate");
        let conn = WriteConn::open(&path).expect("write connection");
        (dir, store, conn)
    }

    fn stmt(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
        Statement::from_sql_and_values(sea_orm::DbBackend::Sqlite, sql, values)
    }

    fn letter(id: &str, signed: Option<i64>, code: Option<&str>) -> e::letter::Model {
        e::letter::Model {
            id: id.into(),
            agency_id: "a".into(),
            direction: crate::domain::lifecycle::Direction::Incoming,
            state: crate::domain::lifecycle::LetterState::Withdrawn,
            letter_type: 3,
            subject: "s".into(),
            body: "b".into(),
            body_sha256: "h".into(),
            security_level: 1,
            urgency: 2,
            classification_code: "000.1".into(),
            drafting_position_id: "p".into(),
            drafted_by_user_id: "u".into(),
            drafted_by_position_id: "p".into(),
            current_step: 2_000_000_000,
            version: -3,
            number: String::new(),
            sign_time_us: signed,
            signer_user_id: String::new(),
            signer_position_id: String::new(),
            verification_code: code.map(Into::into),
            reference_letter_id: String::new(),
            incoming: "{}".into(),
            revision: 9_000_000_000_000,
            created_at_us: 1_700_000_000_000_000,
            updated_at_us: 1_700_000_000_000_001,
        }
    }

    #[tokio::test]
    async fn every_column_of_every_table_is_typed_by_its_entity() {
        let (dir, _store, _conn) = migrated().await;
        let db = rusqlite::Connection::open(dir.path().join("n.db")).expect("open");
        // The first column of every row of `sql`, as text.
        let names = |sql: &str| -> Vec<String> {
            db.prepare(sql)
                .expect("prepare")
                .query_map([], |r| r.get(0))
                .expect("rows")
                .collect::<Result<_, _>>()
                .expect("names")
        };
        let tables = names(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name <> 'seaql_migrations'",
        );
        assert!(tables.len() > 30, "{tables:?}");
        let mut untyped = Vec::new();
        for t in &tables {
            for c in names(&format!("SELECT name FROM pragma_table_info('{t}')")) {
                if !kinds().contains_key(&(t.as_str(), c.as_str())) {
                    untyped.push(format!("{t}.{c}"));
                }
            }
        }
        assert_eq!(untyped, Vec::<String>::new());
    }

    #[tokio::test]
    async fn entity_rows_read_back_as_written() {
        let (_dir, _store, conn) = migrated().await;
        let signed = letter("l1", Some(1_700_000_000_000_123), Some("ABC-123"));
        let unsigned = letter("l2", None, None);
        for l in [&signed, &unsigned] {
            e::letter::Entity::insert(l.clone().into_active_model())
                .exec(&conn)
                .await
                .expect("insert");
        }
        let got = e::letter::Entity::find_by_id("l1".to_owned())
            .one(&conn)
            .await
            .expect("read");
        assert_eq!(got.as_ref(), Some(&signed));
        let got = e::letter::Entity::find_by_id("l2".to_owned())
            .one(&conn)
            .await
            .expect("read");
        assert_eq!(got.as_ref(), Some(&unsigned));
        // An update through the active model, read back.
        let mut am = signed.clone().into_active_model();
        am.version = sea_orm::Set(4);
        am.sign_time_us = sea_orm::Set(None);
        am.update(&conn).await.expect("update");
        let got = e::letter::Entity::find_by_id("l1".to_owned())
            .one(&conn)
            .await
            .expect("read")
            .expect("there");
        assert_eq!((got.version, got.sign_time_us), (4, None));
        // Expressions are typed by what SQLite stored.
        let row = conn
            .query_one_raw(stmt(
                "SELECT COUNT(*) AS n, MAX(revision) AS r, MIN(verification_code) AS c \
                 FROM letter",
                vec![],
            ))
            .await
            .expect("query")
            .expect("a row");
        assert_eq!(row.try_get::<i64>("", "n").expect("n"), 2);
        assert_eq!(row.try_get::<i64>("", "r").expect("r"), 9_000_000_000_000);
        assert_eq!(
            row.try_get::<Option<String>>("", "c").expect("c"),
            Some("ABC-123".to_owned())
        );
    }

    #[tokio::test]
    async fn a_batch_binds_its_values_in_order_and_counts_its_changes() {
        let (_dir, _store, conn) = migrated().await;
        for id in ["l1", "l2"] {
            e::letter::Entity::insert(letter(id, None, None).into_active_model())
                .exec(&conn)
                .await
                .expect("insert");
        }
        let batch = stmt(
            "UPDATE letter SET version = ? WHERE id = ?;\n\
             UPDATE letter SET subject = ? WHERE id = ?;\n\
             UPDATE letter SET urgency = ? WHERE id = ?",
            vec![
                7i32.into(),
                "l1".into(),
                "t".into(),
                "l2".into(),
                3i16.into(),
                "none".into(),
            ],
        );
        let done = conn.execute_raw(batch).await.expect("batch");
        assert_eq!(done.rows_affected(), 2);
        let rows = conn
            .query_all_raw(stmt(
                "SELECT id, version, subject, urgency FROM letter ORDER BY id",
                vec![],
            ))
            .await
            .expect("rows");
        let got: Vec<(String, i32, String, i16)> = rows
            .iter()
            .map(|r| {
                (
                    r.try_get("", "id").expect("id"),
                    r.try_get("", "version").expect("version"),
                    r.try_get("", "subject").expect("subject"),
                    r.try_get("", "urgency").expect("urgency"),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("l1".into(), 7, "s".into(), 2),
                ("l2".into(), -3, "t".into(), 2)
            ]
        );
        // Values and parameters must match.
        let short = stmt(
            "UPDATE letter SET version = ? WHERE id = ?",
            vec![1i32.into()],
        );
        assert!(conn.execute_raw(short).await.is_err());
        let long = stmt(
            "UPDATE letter SET version = ? WHERE id = ?",
            vec![1i32.into(), "l1".into(), "l2".into()],
        );
        assert!(conn.execute_raw(long).await.is_err());
    }

    #[tokio::test]
    async fn a_unique_violation_is_recognised() {
        let (_dir, _store, conn) = migrated().await;
        let l = letter("l1", None, None);
        e::letter::Entity::insert(l.clone().into_active_model())
            .exec(&conn)
            .await
            .expect("insert");
        let err = e::letter::Entity::insert(l.into_active_model())
            .exec(&conn)
            .await
            .expect_err("a second row with the same id");
        assert!(StoreError::Db(err).is_unique_violation());
    }
}
