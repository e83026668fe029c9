//! The outbox to a real register: with the register unreachable the events stay pending; once it
//! answers they are delivered, and applied once however often they arrive; a relay stopped
//! mid-way loses nothing.

use std::sync::Arc;
use std::time::Duration;

use diesel::sql_types::{BigInt, Text};
use diesel::RunQueryDsl;
use praktijkregister_platform::outbox::{OutboxRelay, OutboxSettings};
use praktijkregister_platform::service_client::ServiceClient;

use crate::helpers::*;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut diesel::PgConnection, sql: &str, bind: Option<&str>) -> i64 {
    let query = diesel::sql_query(sql);
    let rows: Vec<Count> = match bind {
        Some(value) => query.bind::<Text, _>(value).load(conn).unwrap(),
        None => query.load(conn).unwrap(),
    };
    rows[0].n
}

fn relay(suite: &Suite, url: &str) -> OutboxRelay {
    let mut outbox: OutboxSettings = suite.section.outbox.clone();
    outbox.destinations.clear();
    outbox
        .destinations
        .insert("register".into(), url.to_string());
    let client = suite
        .section
        .service_client
        .clone()
        .for_environment(&suite.settings)
        .unwrap();
    OutboxRelay::new(
        suite.visitation.pool.clone(),
        outbox,
        Arc::new(ServiceClient::new(client).unwrap()),
    )
    .unwrap()
}

fn planned_transitions(suite: &Suite, agb: &str) -> i64 {
    count(
        &mut suite.register_db(),
        "SELECT count(*) AS n FROM registration_transitions t JOIN registrations r \
         ON r.id = t.registration_id WHERE r.practice_agb = $1 AND t.event = 'visitation_planned'",
        Some(agb),
    )
}

// DESIGN §2, §6: nothing is lost when the receiver is down or the relay stops; applied once.
#[tokio::test]
async fn events_wait_for_the_register_and_are_applied_once() {
    let suite = suite_with(Relay::None, |_| {}).await;
    {
        let mut db = suite.register_db();
        add_practice(
            &mut db,
            &Practice::approved("07000051", "60000001", "1000AB"),
        );
        add_practice(
            &mut db,
            &Practice::approved("07000052", "60000002", "2000AB"),
        );
    }
    suite.busy_visitor("v", None).await;
    let (status, body) = suite
        .plan("2027-06-14", "morning", "v", "07000051", "07000052")
        .await;
    assert_eq!(status, 201, "{body}");
    let pending = "SELECT count(*) AS n FROM outbox_events WHERE status = 'pending'";
    assert_eq!(count(&mut suite.visitation_db(), pending, None), 2);

    // The register is down: a port where nothing listens.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let down = relay(
        &suite,
        &format!("http://127.0.0.1:{dead}/v1/internal/visitation-outcomes"),
    );
    let report = down.run_once().await.unwrap();
    assert_eq!((report.delivered, report.retried), (0, 1), "{report:?}");
    assert_eq!(count(&mut suite.visitation_db(), pending, None), 2);
    assert_eq!(suite.registration_state("07000051"), "plan_approved");

    // A relay that dies mid-way, while a delivery hangs (a receiver that accepts the connection
    // and never answers), keeps nothing claimed: its claim rolls back with it.
    let hanging = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hanging_url = format!(
        "http://{}/v1/internal/visitation-outcomes",
        hanging.local_addr().unwrap()
    );
    diesel::sql_query("UPDATE outbox_events SET next_attempt_at = now()")
        .execute(&mut suite.visitation_db())
        .unwrap();
    let stuck = relay(&suite, &hanging_url);
    let stopped = tokio::time::timeout(Duration::from_millis(300), stuck.run_once()).await;
    assert!(
        stopped.is_err(),
        "the pass was under way when it was stopped"
    );
    drop(stuck);
    let attempts = "SELECT coalesce(sum(attempts), 0)::bigint AS n FROM outbox_events";
    assert_eq!(count(&mut suite.visitation_db(), pending, None), 2);
    assert_eq!(
        count(&mut suite.visitation_db(), attempts, None),
        1,
        "only the failed attempt"
    );
    let live_url = format!(
        "{}/v1/internal/visitation-outcomes",
        suite.register.base_url
    );

    // The register is back: each event is delivered and the registrations move once.
    let live = relay(&suite, &live_url);
    for _ in 0..100 {
        live.run_once().await.unwrap();
        if count(&mut suite.visitation_db(), pending, None) == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(count(&mut suite.visitation_db(), pending, None), 0);
    for agb in ["07000051", "07000052"] {
        assert_eq!(suite.registration_state(agb), "visitation_planned");
        assert_eq!(planned_transitions(&suite, agb), 1);
    }

    // Delivered again (as after a lost acknowledgement): the register applies it once.
    diesel::sql_query("UPDATE outbox_events SET status = 'pending', next_attempt_at = now()")
        .execute(&mut suite.visitation_db())
        .unwrap();
    let report = live.run_once().await.unwrap();
    assert_eq!(report.delivered, 2, "{report:?}");
    for agb in ["07000051", "07000052"] {
        assert_eq!(planned_transitions(&suite, agb), 1);
    }
    assert_eq!(live.run_once().await.unwrap().claimed, 0);

    // Both ends show it in their metrics: delivered by the sender, received once by the register.
    let scrape = |base: String| async move {
        let text = reqwest::get(format!("{base}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        praktijkregister_platform::testing::check_exposition(&text)
    };
    let sender = scrape(suite.visitation.base_url.clone()).await;
    let delivered = sender["prr_outbox_events"].samples.iter().find(|s| {
        s.label("destination") == Some("register") && s.label("status") == Some("delivered")
    });
    assert_eq!(delivered.map(|s| s.value), Some(2.0));
    assert_eq!(sender["prr_outbox_pending"].samples[0].value, 0.0);
    let receiver = scrape(suite.register.base_url.clone()).await;
    let received: f64 = receiver["prr_inbox_events"]
        .samples
        .iter()
        .map(|s| s.value)
        .sum();
    assert_eq!(received, 2.0);
}
