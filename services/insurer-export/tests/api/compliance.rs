//! The register's compliance endpoint asked for one insurer applies that insurer's criteria set,
//! read from the export service; without one, or without the service, the register's own set
//! with a note.

use serde_json::{json, Value};

use crate::helpers::{contract_year, cycle_year, start, token, Suite, Target, OTHER, OWN};

const AGB: &str = "07000401";

async fn compliance(suite: &Suite, query: &str) -> Value {
    let (status, report) = suite
        .register
        .client
        .caller(suite.register_registrar())
        .get(&format!(
            "/v1/practices/{AGB}/compliance/{}?{query}",
            cycle_year()
        ))
        .await;
    assert_eq!(status, 200, "{report}");
    report
}

fn criteria(report: &Value) -> Vec<String> {
    report["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

async fn registered_practice() -> Suite {
    let suite = start().await;
    suite.create_practice(AGB, "De Linde").await;
    suite
        .register_practice(AGB, cycle_year(), Target::Registered)
        .await;
    suite.sync().await;
    suite
}

#[tokio::test]
async fn asked_for_an_insurer_the_register_applies_its_own_criteria_set() {
    let suite = registered_practice().await;
    suite
        .insurer_with_criteria(
            OWN,
            json!({"criteria": ["plus.registered", "basis.kp_registered"]}),
        )
        .await;
    suite.connect_register(&suite.export.base_url).await;

    let report = compliance(&suite, &format!("insurer={OWN}")).await;
    assert_eq!(
        criteria(&report),
        ["basis.kp_registered", "plus.registered"],
        "{report}"
    );
    assert_eq!(
        report["insurer_criteria"],
        json!({"insurer_uzovi": OWN, "contract_year": contract_year(), "version": 1, "note": null})
    );

    // An insurer client of the register is always evaluated with its own set.
    suite.consent(AGB, OWN).await;
    let (status, client) = suite
        .register
        .client
        .caller(suite.register_registrar())
        .post(
            "/v1/clients",
            json!({"name": "insurer", "role": "insurer", "insurer_uzovi": OWN}),
        )
        .await;
    assert_eq!(status, 201, "{client}");
    let insurer = token(
        &suite.register.client,
        client["client_id"].as_str().unwrap(),
        client["client_secret"].as_str().unwrap(),
    )
    .await;
    let (status, own) = suite
        .register
        .client
        .caller(&insurer)
        .get(&format!("/v1/practices/{AGB}/compliance/{}", cycle_year()))
        .await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(criteria(&own), ["basis.kp_registered", "plus.registered"]);
    assert_eq!(own["insurer_criteria"]["version"], 1);

    // A named set asked for is applied as before.
    let named = compliance(&suite, &format!("insurer={OWN}&criteria=basis")).await;
    assert_eq!(
        criteria(&named),
        ["basis.kp_registered", "basis.prem_measured"]
    );
    assert!(named.get("insurer_criteria").is_none(), "{named}");

    // An insurer without a set for the year: the register's set, saying why.
    let other = compliance(&suite, &format!("insurer={OTHER}")).await;
    assert_eq!(other["criteria_set"], "plus");
    assert!(criteria(&other).len() > 2, "{other}");
    assert_eq!(other["insurer_criteria"]["version"], Value::Null);
    assert!(other["insurer_criteria"]["note"]
        .as_str()
        .unwrap()
        .contains("no criteria set"));
}

#[tokio::test]
async fn without_the_export_service_the_register_applies_its_own_set_and_says_so() {
    let suite = registered_practice().await;
    suite
        .insurer_with_criteria(OWN, json!({"criteria": ["basis.kp_registered"]}))
        .await;
    // Nothing listens there.
    suite.connect_register("http://127.0.0.1:9").await;

    let report = compliance(&suite, &format!("insurer={OWN}")).await;
    assert_eq!(report["criteria_set"], "plus");
    assert!(criteria(&report).len() > 1, "{report}");
    assert_eq!(report["insurer_criteria"]["insurer_uzovi"], OWN);
    assert_eq!(report["insurer_criteria"]["version"], Value::Null);
    assert!(report["insurer_criteria"]["note"]
        .as_str()
        .unwrap()
        .contains("could not be read"));
}
