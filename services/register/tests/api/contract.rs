//! The checked-in OpenAPI document is the one the code generates, and it is complete.

use std::path::PathBuf;

use praktijkregister_platform::http::openapi_json;
use praktijkregister_platform::service::Service as _;
use praktijkregister_platform::testing::contract;
use praktijkregister_register::startup::Register;
use serde_json::Value;

use crate::helpers::spawn_app;

fn checked_in_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../openapi/register.json")
}

/// Fails when `openapi/register.json` differs from the generated document;
/// `UPDATE_OPENAPI=1 cargo test -p praktijkregister-register --test api contract` rewrites it.
#[test]
fn the_checked_in_document_matches_the_code() {
    contract::assert_checked_in(&Register::openapi(), &checked_in_path());
}

#[test]
fn every_operation_is_described_secured_and_has_problem_errors() {
    let public = [
        "/oauth/token",
        "/.well-known/jwks.json",
        "/v1/public/practices",
        "/v1/public/practices/{agb}",
    ];
    let operations = contract::assert_complete(&Register::openapi(), &public, Register::scopes());
    assert!(operations >= 33, "only {operations} operations documented");
}

#[tokio::test]
async fn the_served_document_is_the_generated_one() {
    let app = spawn_app().await;
    let served: Value = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let generated: Value = serde_json::from_str(
        &openapi_json(&praktijkregister_register::startup::openapi()).unwrap(),
    )
    .unwrap();
    assert_eq!(served, generated);
    let docs = app.http.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
}
