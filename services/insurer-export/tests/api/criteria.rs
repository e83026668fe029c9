//! Insurers' criteria sets: validated against the register's criteria, versioned, frozen once a
//! snapshot used them; thresholds decide eligibility at their edges.

use serde_json::json;

use crate::helpers::{contract_year, cycle_year, start, Target, OWN};

#[tokio::test]
async fn criteria_are_validated_versioned_and_frozen_once_used() {
    let suite = start().await;
    let registrar = suite.registrar();
    let caller = suite.export.client.caller(&registrar);
    let (status, _) = caller
        .post(
            "/v1/insurers",
            json!({"uzovi": OWN, "name": "Zorgverzekeraar Oost", "differentiated": true}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, problem) = caller
        .post(
            "/v1/insurers",
            json!({"uzovi": OWN, "name": "Again", "differentiated": true}),
        )
        .await;
    assert_eq!(status, 409, "{problem}");
    let path = format!("/v1/insurers/{OWN}/criteria/{}", contract_year());

    // An unknown criterion id is refused, naming it.
    let (status, problem) = caller
        .put(
            &path,
            json!({"criteria": ["basis.kp_registered", "plus.astrology"]}),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "criteria[1]");
    assert_eq!(problem["errors"][0]["code"], "criterion");
    assert!(problem["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("plus.astrology"));
    for bad in [
        json!({"base_set": "gold"}),
        json!({"base_set": "plus", "criteria": ["plus.registered"]}),
        json!({}),
        json!({"base_set": "plus", "thresholds": {"ldo_fill_rate_plus": 1.5}}),
    ] {
        let (status, problem) = caller.put(&path, bad.clone()).await;
        assert_eq!(status, 422, "{bad}: {problem}");
    }

    // Versions.
    let (status, first) = caller.put(&path, json!({"base_set": "basis"})).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["version"], 1);
    let (status, second) = caller
        .put(
            &path,
            json!({"criteria": ["plus.registered", "basis.kp_registered"], "thresholds": {"treatment_index_ceiling": 140.0}}),
        )
        .await;
    assert_eq!(status, 201, "{second}");
    assert_eq!(second["version"], 2);
    assert_eq!(
        second["criteria"],
        json!(["basis.kp_registered", "plus.registered"])
    );
    assert_eq!(second["thresholds"]["treatment_index_ceiling"], 140.0);
    assert_eq!(second["thresholds"]["ldo_fill_rate_plus"], 0.9);
    let (_, history) = suite
        .export
        .client
        .caller(&suite.insurer(OWN))
        .get(&path)
        .await;
    assert_eq!(history["current"]["version"], 2);
    assert_eq!(history["versions"].as_array().unwrap().len(), 2);

    // Used by a snapshot: frozen.
    suite.create_practice("07000101", "De Linde").await;
    suite
        .register_practice("07000101", cycle_year(), Target::Registered)
        .await;
    suite.sync().await;
    suite.build(OWN).await;
    let (status, problem) = caller.put(&path, json!({"base_set": "plus"})).await;
    assert_eq!(status, 409, "{problem}");
    let (_, history) = caller.get(&path).await;
    assert_eq!(history["current"]["version"], 2);
    assert_eq!(history["current"]["frozen"], true);
}

#[tokio::test]
async fn a_snapshot_needs_a_differentiating_insurer_with_criteria() {
    let suite = start().await;
    let registrar = suite.registrar();
    let caller = suite.export.client.caller(&registrar);
    caller
        .post(
            "/v1/insurers",
            json!({"uzovi": OWN, "name": "Basis Zorg", "differentiated": false}),
        )
        .await;
    let build = format!("/v1/insurers/{OWN}/exports/{}", contract_year());
    let (status, problem) = caller.post(&build, json!({})).await;
    assert_eq!(status, 409, "{problem}");
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("differentiated"));
    let (status, _) = caller
        .put(
            &format!("/v1/insurers/{OWN}"),
            json!({"name": "Basis Zorg", "differentiated": true}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, problem) = caller.post(&build, json!({})).await;
    assert_eq!(status, 409, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("criteria"));
    let (status, problem) = caller
        .post(
            &format!("/v1/insurers/{OWN}/exports/{}/corrections", contract_year()),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(status, 409, "{problem}");
}

#[tokio::test]
async fn the_demo_seeds_three_differentiating_insurers_with_criteria_once() {
    let suite = start().await;
    let summary = praktijkregister_insurer_export::demo::seed(
        &suite.export.pool,
        &suite.webhook_key(),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert!(summary.webhook_secret.unwrap().starts_with("whsec_"));
    let (_, list) = suite
        .export
        .client
        .caller(&suite.registrar())
        .get("/v1/insurers")
        .await;
    let insurers = list["items"].as_array().unwrap();
    assert_eq!(insurers.len(), 3);
    assert!(insurers.iter().all(|i| i["differentiated"] == true));
    let (status, criteria) = suite
        .export
        .client
        .caller(&suite.insurer(OWN))
        .get(&format!("/v1/insurers/{OWN}/criteria/{}", contract_year()))
        .await;
    assert_eq!(status, 200, "{criteria}");
    assert_eq!(criteria["current"]["base_set"], "plus");
    let (_, hooks) = suite
        .export
        .client
        .caller(&suite.insurer(OWN))
        .get(&format!("/v1/insurers/{OWN}/webhooks"))
        .await;
    assert_eq!(hooks["items"].as_array().unwrap().len(), 1);
    let again = praktijkregister_insurer_export::demo::seed(
        &suite.export.pool,
        &suite.webhook_key(),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert!(again.webhook_secret.is_none());
}
