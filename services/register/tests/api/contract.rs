//! The checked-in OpenAPI document is the one the code generates, and it is complete.

use std::path::PathBuf;

use praktijkregister_platform::http::openapi_json;
use serde_json::Value;

use crate::helpers::spawn_app;

fn checked_in_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../openapi/register.json")
}

/// Fails when `openapi/register.json` differs from the generated document;
/// `UPDATE_OPENAPI=1` rewrites it instead.
#[test]
fn the_checked_in_document_matches_the_code() {
    let generated = openapi_json(&praktijkregister_register::startup::openapi()).unwrap();
    let path = checked_in_path();
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "openapi/register.json is out of date; run `UPDATE_OPENAPI=1 cargo test -p praktijkregister-register --test api contract` and commit it"
    );
}

#[test]
fn every_operation_is_described_secured_and_has_problem_errors() {
    let document: Value = serde_json::from_str(
        &openapi_json(&praktijkregister_register::startup::openapi()).unwrap(),
    )
    .unwrap();
    assert_eq!(document["openapi"].as_str().map(|v| &v[..3]), Some("3.1"));
    let scheme_scopes = &document["components"]["securitySchemes"]["oauth2"]["flows"]
        ["clientCredentials"]["scopes"];
    let public = [
        "/oauth/token",
        "/.well-known/jwks.json",
        "/v1/public/practices",
        "/v1/public/practices/{agb}",
    ];
    let mut operations = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations += 1;
            let label = format!("{method} {path}");
            assert!(
                operation["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{label}: summary"
            );
            assert!(
                operation["description"]
                    .as_str()
                    .is_some_and(|s| !s.is_empty()),
                "{label}: description"
            );
            assert!(
                operation["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{label}: tag"
            );
            let responses = operation["responses"].as_object().unwrap();
            for (status, response) in responses {
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{label} {status}"
                );
                if status.starts_with('4') || status.starts_with('5') {
                    let content = response["content"]
                        .as_object()
                        .unwrap_or_else(|| panic!("{label} {status}: no body"));
                    assert!(!content.is_empty(), "{label} {status}: no body schema");
                }
            }
            for status in ["400", "429", "500", "503"] {
                assert!(
                    responses.contains_key(status),
                    "{label}: no {status} response"
                );
            }
            if public.contains(&path.as_str()) {
                assert!(operation.get("security").is_none(), "{label} is public");
                continue;
            }
            let scopes = operation["security"][0]["oauth2"]
                .as_array()
                .unwrap_or_else(|| panic!("{label}: no security"));
            assert_eq!(scopes.len(), 1, "{label}: one scope");
            let scope = scopes[0].as_str().unwrap();
            assert!(
                scheme_scopes.get(scope).is_some(),
                "{label}: scope {scope} is not in the scheme"
            );
            for status in ["401", "403"] {
                let problem =
                    &responses[status]["content"]["application/problem+json"]["schema"]["$ref"];
                assert_eq!(problem, "#/components/schemas/Problem", "{label} {status}");
            }
        }
    }
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
