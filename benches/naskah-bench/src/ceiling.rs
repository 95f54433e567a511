//! The ceiling: a bare tonic server on the same database, with the same pool and
//! connection settings as naskah (naskah's own `Store::connect`), that serves the
//! LetterService shape with the least possible work — no authentication, no
//! policy, no audit, no domain rules. CreateDraft inserts one row in a
//! transaction, ListLetters reads one indexed page of 20 rows, GetLetter reads
//! one row by primary key. What naskah does on top of this is what the ratio
//! measures.
//!
//! Its reads run through sea-orm's pool, or (`--reads own`) through naskah's
//! own read connections (`Store::rows`: SQLite's API on a SQLite file,
//! PostgreSQL connections without the pool's release round trip) — the same
//! driver path as naskah's hot reads, so that the ratio against it counts
//! naskah's work alone.

use std::net::SocketAddr;
use std::sync::Arc;

use naskah::proto::letter_service_server::{LetterService, LetterServiceServer};
use naskah::proto::{self as pb};
use naskah::store::read::{Cells, Reach, must};
use naskah::store::{Backend, Store, StoreOptions, StoreResult};
use sea_orm::{ConnectionTrait, Statement, TransactionTrait, Value};
use tonic::{Request, Response, Status};

struct Ceiling {
    store: Store,
    /// Reads through naskah's own read connections.
    own_reads: bool,
}

/// A ceiling row (`id, subject, body`), from either read path.
fn cells_letter(c: &dyn Cells) -> StoreResult<pb::Letter> {
    Ok(pb::Letter {
        id: must(c.text(0)?, 0)?,
        subject: must(c.text(1)?, 1)?,
        body: must(c.text(2)?, 2)?,
        ..Default::default()
    })
}

impl Ceiling {
    /// The letters a read statement (`?` placeholders) answers.
    async fn read(&self, text: &str, values: Vec<Value>) -> Result<Vec<pb::Letter>, Status> {
        let db = self.store.reader();
        let stmt = Statement::from_sql_and_values(
            db.get_database_backend(),
            sql(&self.store, text),
            values,
        );
        if self.own_reads {
            return self
                .store
                .rows(stmt, cells_letter, Reach::Keyed)
                .await
                .map_err(internal);
        }
        let rows = db.query_all_raw(stmt).await.map_err(internal)?;
        // sea-orm's rows are read by position like the store's own.
        rows.iter()
            .map(|r| cells_letter(r).map_err(internal))
            .collect()
    }
}

fn sql(store: &Store, text: &str) -> String {
    // The statements are written with `?`; PostgreSQL numbers its parameters.
    if store.backend() == Backend::Postgres {
        let mut out = String::new();
        let mut n = 0;
        for c in text.chars() {
            if c == '?' {
                n += 1;
                out.push_str(&format!("${n}"));
            } else {
                out.push(c);
            }
        }
        out
    } else {
        text.to_owned()
    }
}

fn internal(e: impl std::fmt::Display) -> Status {
    Status::internal(e.to_string())
}

#[tonic::async_trait]
impl LetterService for Ceiling {
    async fn create_draft(
        &self,
        req: Request<pb::CreateDraftRequest>,
    ) -> Result<Response<pb::Letter>, Status> {
        let r = req.into_inner();
        let id = uuid::Uuid::new_v4().to_string();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or_default();
        let db = self.store.reader();
        let tx = db.begin().await.map_err(internal)?;
        tx.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql(
                &self.store,
                "INSERT INTO bench_ceiling (id, owner, sort_us, subject, body) VALUES (?, ?, ?, ?, ?)",
            ),
            [
                Value::from(id.clone()),
                Value::from(r.drafting_position_id),
                Value::from(now),
                Value::from(r.subject.clone()),
                Value::from(r.body.clone()),
            ],
        ))
        .await
        .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(Response::new(pb::Letter {
            id,
            subject: r.subject,
            body: r.body,
            ..Default::default()
        }))
    }

    async fn list_letters(
        &self,
        req: Request<pb::ListLettersRequest>,
    ) -> Result<Response<pb::ListLettersResponse>, Status> {
        let r = req.into_inner();
        let letters = self
            .read(
                "SELECT id, subject, '' AS body FROM bench_ceiling WHERE owner = ? \
                 ORDER BY sort_us DESC LIMIT ?",
                vec![
                    Value::from(r.position_id),
                    Value::from(i64::from(r.page_size.clamp(1, 100))),
                ],
            )
            .await?;
        Ok(Response::new(pb::ListLettersResponse {
            letters,
            ..Default::default()
        }))
    }

    async fn get_letter(
        &self,
        req: Request<pb::GetLetterRequest>,
    ) -> Result<Response<pb::Letter>, Status> {
        let r = req.into_inner();
        self.read(
            "SELECT id, subject, body FROM bench_ceiling WHERE id = ?",
            vec![Value::from(r.letter_id)],
        )
        .await?
        .into_iter()
        .next()
        .map(Response::new)
        .ok_or_else(|| Status::not_found("no such row"))
    }
}

/// Ids of some ceiling rows, for point reads.
pub async fn ids(store: &Store, n: u64) -> anyhow::Result<Vec<String>> {
    let db = store.reader();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT id FROM bench_ceiling LIMIT {n}"),
        ))
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| r.try_get::<String>("", "id").ok())
        .collect())
}

/// Serves the ceiling until killed.
pub async fn serve(listen: SocketAddr, url: &str, own_reads: bool) -> anyhow::Result<()> {
    let store = Store::connect(
        &StoreOptions {
            url: url.to_owned(),
            max_connections: naskah::config::Config::default().db_max_connections,
            groups: Default::default(),
        },
        Arc::new(naskah::clock::SystemClock),
    )
    .await?;
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    tonic::transport::Server::builder()
        .tcp_nodelay(true)
        .add_service(health)
        .add_service(LetterServiceServer::new(Ceiling { store, own_reads }))
        .serve(listen)
        .await?;
    Ok(())
}
