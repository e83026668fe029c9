//! The automatic build: on the export date of the register's calendar (00:00 Europe/Amsterdam),
//! once, for every differentiating insurer with criteria for the contract year.

use chrono::{Duration, NaiveDate};
use praktijkregister_domain::deadline_instant;
use praktijkregister_insurer_export::schedule::run_once;
use praktijkregister_insurer_export::startup::ExportContext;
use praktijkregister_platform::signing::TokenSigner;
use praktijkregister_platform::testing;
use serde_json::json;

use crate::helpers::{contract_year, cycle_year, start_with, Target, OTHER, OWN};

#[tokio::test]
async fn the_snapshots_are_built_once_from_the_export_date_on() {
    let mut section = None;
    let suite = start_with(|s| section = Some(s.clone())).await;
    let section = section.unwrap();
    suite.create_practice("07000101", "De Linde").await;
    suite
        .register_practice("07000101", cycle_year(), Target::Registered)
        .await;
    suite.sync().await;
    suite
        .insurer_with_criteria(OWN, json!({"base_set": "basis"}))
        .await;
    // Not differentiated: no list.
    let registrar = suite.registrar();
    let caller = suite.export.client.caller(&registrar);
    caller
        .post(
            "/v1/insurers",
            json!({"uzovi": OTHER, "name": "Basis Zorg", "differentiated": false}),
        )
        .await;
    caller
        .put(
            &format!("/v1/insurers/{OTHER}/criteria/{}", contract_year()),
            json!({"base_set": "basis"}),
        )
        .await;

    let settings = testing::test_settings();
    let register = ExportContext::register_client(&settings, &section).unwrap();
    let signer = TokenSigner::generate(&settings.auth).unwrap();
    // The register's default calendar: the export date is 1 November.
    let export_date = NaiveDate::from_ymd_opt(i32::from(cycle_year()), 11, 1).unwrap();
    let starts = deadline_instant(export_date);

    let before = run_once(
        &suite.export.pool,
        &signer,
        &register,
        starts - Duration::seconds(1),
    )
    .await
    .unwrap();
    assert!(before.is_empty());
    let built = run_once(&suite.export.pool, &signer, &register, starts)
        .await
        .unwrap();
    assert_eq!(built.len(), 1);
    let again = run_once(
        &suite.export.pool,
        &signer,
        &register,
        starts + Duration::days(3),
    )
    .await
    .unwrap();
    assert!(again.is_empty(), "built once");

    let (_, list) = suite
        .export
        .client
        .caller(&suite.insurer(OWN))
        .get(&format!("/v1/insurers/{OWN}/snapshots"))
        .await;
    assert_eq!(list["items"][0]["id"], built[0].as_str());
    assert_eq!(list["items"][0]["built_by"], "schedule");
    assert_eq!(list["items"][0]["practices"], 1);
    let (_, other) = caller.get(&format!("/v1/insurers/{OTHER}/snapshots")).await;
    assert_eq!(other["items"], json!([]));
}
