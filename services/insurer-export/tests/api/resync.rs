//! The copy of the register: practices the register knew before this service received its events
//! are loaded by a resync (on request, and on start when the copy is empty), without a change in
//! the feed; events after it still reach the feed, once.

use diesel_async::RunQueryDsl;
use praktijkregister_domain::RegistrationEvent;
use praktijkregister_insurer_export::resync;
use serde_json::{json, Value};

use crate::helpers::{contract_year, cycle_year, start, Suite, Target, OWN};

const REGISTERED: &str = "07000301";
const PREVIOUS_YEAR_ONLY: &str = "07000302";
const WITHDRAWN: &str = "07000303";

/// Registers the practices in the register and loses their events, as for practices registered
/// before the export service or its database existed.
async fn register_unknown_to_the_export(suite: &Suite) {
    let year = cycle_year();
    for agb in [REGISTERED, PREVIOUS_YEAR_ONLY, WITHDRAWN] {
        suite.create_practice(agb, &format!("Praktijk {agb}")).await;
    }
    suite
        .register_practice(REGISTERED, year, Target::Registered)
        .await;
    suite
        .register_practice(PREVIOUS_YEAR_ONLY, year - 1, Target::Registered)
        .await;
    suite
        .register_practice(WITHDRAWN, year, Target::Withdrawn)
        .await;
    suite.consent(REGISTERED, OWN).await;
    let mut conn = suite.register.pool.get().await.unwrap();
    diesel::sql_query("DELETE FROM outbox_events")
        .execute(&mut conn)
        .await
        .unwrap();
}

async fn resync_as_registrar(suite: &Suite) -> Value {
    let (status, report) = suite
        .export
        .client
        .caller(&suite.registrar())
        .post("/v1/internal/resync", json!({}))
        .await;
    assert_eq!(status, 200, "{report}");
    report
}

async fn feed(suite: &Suite) -> Vec<Value> {
    let (status, page) = suite
        .export
        .client
        .caller(&suite.insurer(OWN))
        .get(&format!("/v1/insurers/{OWN}/changes"))
        .await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().clone()
}

async fn listed(suite: &Suite) -> Vec<Value> {
    let (status, body) = suite
        .export
        .client
        .caller(&suite.insurer(OWN))
        .get(&format!("/v1/insurers/{OWN}/exports/{}", contract_year()))
        .await;
    assert_eq!(status, 200, "{body}");
    body["practices"].as_array().unwrap().clone()
}

#[tokio::test]
async fn practices_the_export_never_heard_of_appear_in_the_snapshot_after_a_resync() {
    let suite = start().await;
    register_unknown_to_the_export(&suite).await;
    suite
        .insurer_with_criteria(OWN, json!({"base_set": "basis"}))
        .await;

    let report = resync_as_registrar(&suite).await;
    assert_eq!(report["practices"], 3, "{report}");
    assert_eq!(report["registrations"], 3, "{report}");
    assert_eq!(report["consents"], 1, "{report}");
    assert_eq!(
        report["written"],
        json!({"practices": 3, "registrations": 3, "consents": 1})
    );

    suite.build(OWN).await;
    let practices = listed(&suite).await;
    let agbs: Vec<&str> = practices
        .iter()
        .map(|p| p["agb"].as_str().unwrap())
        .collect();
    assert_eq!(agbs, [REGISTERED]);
    assert_eq!(practices[0]["name"], format!("Praktijk {REGISTERED}"));
    assert_eq!(practices[0]["locations"][0]["agb"], "07999999");
    assert!(
        practices[0]["registered_at"].is_string(),
        "{}",
        practices[0]
    );

    // Idempotent, and the feed holds no change the register did not report.
    let again = resync_as_registrar(&suite).await;
    assert_eq!(
        again["written"],
        json!({"practices": 0, "registrations": 0, "consents": 0})
    );
    assert!(feed(&suite).await.is_empty());

    // An event after the resync reaches the feed once, and a resync after it adds nothing.
    suite
        .registration_event(REGISTERED, cycle_year(), RegistrationEvent::Withdrawn)
        .await;
    suite.sync().await;
    let after = resync_as_registrar(&suite).await;
    assert_eq!(after["written"]["registrations"], 0, "{after}");
    let changes = feed(&suite).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["type"], "withdrawn");
    assert_eq!(changes[0]["practice_agb"], REGISTERED);
}

#[tokio::test]
async fn an_empty_copy_is_loaded_at_start_and_a_loaded_one_is_left_alone() {
    let suite = start().await;
    register_unknown_to_the_export(&suite).await;

    let loaded = resync::resync_if_empty(&suite.export.pool, &suite.register_client)
        .await
        .unwrap()
        .expect("the copy was empty");
    assert_eq!(loaded.practices, 3);
    assert_eq!(loaded.written.registrations, 3);
    let again = resync::resync_if_empty(&suite.export.pool, &suite.register_client)
        .await
        .unwrap();
    assert!(again.is_none(), "{again:?}");

    suite
        .insurer_with_criteria(OWN, json!({"base_set": "basis"}))
        .await;
    suite.build(OWN).await;
    let practices = listed(&suite).await;
    assert_eq!(practices.len(), 1);
    assert_eq!(practices[0]["agb"], REGISTERED);
}
