//! Approvers configured for an agency replace the heads.

use naskah::proto::{self as pb, DisposalState, DueKind};
use naskah_testkit::clock::{Clock, ManualClock, SystemClock};

use super::{YEAR, approve, closed_case_file, incoming, rec, unit_id};
use naskah_testkit::demo::Demo;
use naskah_testkit::{Db, TestServer, authed, reason};
use naskah_testkit::{dual, operator};

async fn configured_approvers_replace_the_heads(db: Db) {
    let clock = ManualClock::new(SystemClock.now_us());
    let t = TestServer::start_demo_with_clock(db, clock.clone()).await;
    let users = [
        "arsiparis",
        "pencatat",
        "kadis.kominfo",
        "sekda",
        "kabid.ikp",
    ];
    let d = Demo::login(&t, &users).await;
    let configure = |approvers: Vec<String>| {
        operator::set_records(&t, "DEMO-PROV", "SEKDIS", approvers, "000.5.2")
    };
    let one = configure(vec![d.pos("sekda")]).await.unwrap_err();
    assert!(one.violations().contains("two"), "{one}");
    let unknown = configure(vec![d.pos("sekda"), uuid::Uuid::new_v4().to_string()])
        .await
        .unwrap_err();
    assert!(unknown.violations().contains("no position"), "{unknown}");
    configure(vec![d.pos("sekda"), d.pos("kabid.ikp")])
        .await
        .expect("configure");
    let sekdis = unit_id(&t, d.token("arsiparis"), "SEKDIS").await;
    let inc = incoming(&t, &d, "000.1.1", "Surat biasa").await;
    let cf = closed_case_file(&t, &d, "000.1.1", &sekdis, &[&inc.id]).await;
    clock.advance(2 * YEAR);
    let d = Demo::login(&t, &users).await;
    let p = rec(&t)
        .propose_disposal(authed(
            pb::ProposeDisposalRequest {
                kind: DueKind::Disposal as i32,
                case_file_ids: vec![cf.id.clone()],
                request_id: String::new(),
            },
            d.token("arsiparis"),
        ))
        .await
        .expect("propose")
        .into_inner();
    let mut required = p.required_approver_position_ids.clone();
    required.sort();
    let mut expected = vec![d.pos("sekda"), d.pos("kabid.ikp")];
    expected.sort();
    assert_eq!(required, expected);
    let e = approve(&t, &d, "kadis.kominfo", &p).await.unwrap_err();
    assert_eq!(
        reason(&e),
        "NOT_AN_APPROVER",
        "the default head is not asked"
    );
    let p = approve(&t, &d, "kabid.ikp", &p).await.expect("approve");
    let p = approve(&t, &d, "sekda", &p).await.expect("approve");
    assert_eq!(p.state, DisposalState::Approved as i32);
    t.stop().await;
}
dual!(configured_approvers_replace_the_heads);
