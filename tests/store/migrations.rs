//! The migrations over rows the code of their time wrote: written straight
//! into the tables, migrated down and up again, and the letters read through
//! the contract.

use naskah::proto::{self as pb, LetterState, SecurityLevel};
use naskah_testkit::demo::{Demo, draft, letters, routed};
use naskah_testkit::{Db, TestServer, authed, dual};

/// Letters routed before the rule "a step takes part once reached" gave every
/// step an ALL entry at once; migration 9 removes those of unreached steps and
/// keeps the drafter's and the reached steps'.
async fn the_migration_removes_unreached_steps_from_old_letters(db: Db) {
    use migration::MigratorTrait;
    use sea_orm::{ConnectionTrait, Database};
    let t = TestServer::start_demo(db).await;
    let d = Demo::login(&t, &["kasi.egov", "kabid.aptika", "kadis.kominfo", "sekda"]).await;
    let l = draft(
        &t,
        &d,
        "kasi.egov",
        &["sekda"],
        &[],
        SecurityLevel::Biasa,
        "000.1.1",
    )
    .await;
    let l = routed(&t, &d, &l).await;
    let l = letters(&t)
        .submit_letter(authed(
            pb::SubmitLetterRequest {
                letter_id: l.id.clone(),
                etag: l.etag.clone(),
                request_id: String::new(),
            },
            d.token("kasi.egov"),
        ))
        .await
        .expect("submit")
        .into_inner();
    assert_eq!(l.state, LetterState::InReview as i32);
    // What the old code wrote: the signer, not reached yet, in the ALL folder.
    let conn = Database::connect(&t.db_url).await.expect("connect");
    let backend = conn.get_database_backend();
    let agency = naskah::store::identity::user_by_username(t.store().reader(), "kasi.egov")
        .await
        .expect("q")
        .expect("user")
        .agency_id;
    conn.execute_raw(sea_orm::Statement::from_sql_and_values(
        backend,
        match backend {
            sea_orm::DbBackend::Postgres => {
                "INSERT INTO letter_box (position_id, folder, letter_id, agency_id, sort_us) VALUES ($1, 7, $2, $3, 0)"
            }
            _ => "INSERT INTO letter_box (position_id, folder, letter_id, agency_id, sort_us) VALUES (?, 7, ?, ?, 0)",
        },
        [d.pos("kadis.kominfo").into(), l.id.clone().into(), agency.into()],
    ))
    .await
    .expect("old entry");
    let reads = |who: &'static str| {
        let token = d.token(who).to_owned();
        let id = l.id.clone();
        let t = &t;
        async move {
            letters(t)
                .get_letter(authed(
                    pb::GetLetterRequest {
                        letter_id: id,
                        ..Default::default()
                    },
                    &token,
                ))
                .await
                .is_ok()
        }
    };
    assert!(
        reads("kadis.kominfo").await,
        "the old entry grants the read"
    );
    // Down to just before the migration, then up again.
    let undo = migration::Migrator::migrations()
        .iter()
        .rev()
        .position(|m| m.name() == "m20261202_000009_unreached_steps")
        .expect("the migration")
        + 1;
    migration::Migrator::down(&conn, Some(undo as u32))
        .await
        .expect("down");
    migration::Migrator::up(&conn, None).await.expect("up");
    conn.close().await.expect("close");
    // Not reached: no longer taking part. Reached and drafter: still.
    assert!(!reads("kadis.kominfo").await, "the unreached signer");
    assert!(reads("kabid.aptika").await, "the reached reviewer");
    assert!(reads("kasi.egov").await, "the drafter");
    t.stop().await;
}
dual!(the_migration_removes_unreached_steps_from_old_letters);
