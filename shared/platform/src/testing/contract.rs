//! Contract checks every service runs on its own document: the checked-in file equals the
//! generated one, and every operation is described, tagged, secured with a declared scope (or
//! listed as public) and answers its errors as problem+json; and the document is one a client
//! generator can use fully (binary files, referenced list items, an example per error status).

use std::path::Path;

use serde_json::Value;
use utoipa::openapi::OpenApi;

use crate::auth::Scope;
use crate::http::openapi_json;
use crate::openapi::{problem_example, BINARY_MEDIA_TYPES, RETRY_AFTER_STATUSES};

/// Fails when the checked-in document at `path` differs from `document`; with `UPDATE_OPENAPI=1`
/// it rewrites the file instead.
pub fn assert_checked_in(document: &OpenApi, path: &Path) {
    let generated = openapi_json(document).expect("serialise the document");
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("a directory")).expect("create openapi/");
        std::fs::write(path, &generated).expect("write the document");
        return;
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "{} is out of date; run the contract test with UPDATE_OPENAPI=1 and commit it",
        path.display()
    );
}

/// Fails unless every operation is complete: summary, description, tag; every response
/// described and every error a problem body; the common errors listed; public operations (by
/// path) without security, the others with exactly one scope of `scopes`, listed in the scheme,
/// and with 401/403 problems. For generated clients: public operations with `security: []`,
/// file bodies binary, each error with the example of its status, `Retry-After` where sent,
/// list items referenced, servers and contact. Answers the number of operations.
pub fn assert_complete(document: &OpenApi, public: &[&str], scopes: &[Scope]) -> usize {
    let document: Value =
        serde_json::from_str(&openapi_json(document).expect("serialise")).expect("JSON");
    assert_eq!(document["openapi"].as_str().map(|v| &v[..3]), Some("3.1"));
    assert!(
        document["servers"][0]["url"]
            .as_str()
            .is_some_and(|u| !u.is_empty()),
        "servers"
    );
    assert!(
        document["info"]["contact"]["url"].as_str().is_some(),
        "info.contact"
    );
    assert_lists_reference_items(&document);
    let scheme_scopes = document["components"]["securitySchemes"]["oauth2"]["flows"]
        ["clientCredentials"]["scopes"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for name in scheme_scopes.keys() {
        assert!(
            scopes.iter().any(|s| s.as_str() == name),
            "the scheme lists {name}, which the service does not declare"
        );
    }
    let mut operations = 0;
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            operations += 1;
            let label = format!("{method} {path}");
            for field in ["summary", "description"] {
                assert!(
                    operation[field].as_str().is_some_and(|s| !s.is_empty()),
                    "{label}: {field}"
                );
            }
            assert!(
                operation["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{label}: tag"
            );
            let responses = operation["responses"].as_object().expect("responses");
            assert_binary_bodies(&label, operation);
            for (status, response) in responses {
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{label} {status}: description"
                );
                if status.starts_with('4') || status.starts_with('5') {
                    let content = response["content"]
                        .as_object()
                        .unwrap_or_else(|| panic!("{label} {status}: no body"));
                    assert!(!content.is_empty(), "{label} {status}: no body schema");
                    if let Some(problem) = content.get("application/problem+json") {
                        let example = &problem["example"];
                        assert_eq!(
                            example["status"].as_u64().map(|s| s.to_string()).as_deref(),
                            Some(status.as_str()),
                            "{label} {status}: an example of its own status"
                        );
                        assert_eq!(
                            problem_example(status).map(|e| e["type"].clone()),
                            Some(example["type"].clone()),
                            "{label} {status}: the problem type the service renders"
                        );
                    }
                }
                if RETRY_AFTER_STATUSES.contains(&status.as_str()) {
                    assert!(
                        response["headers"]["Retry-After"].is_object(),
                        "{label} {status}: Retry-After"
                    );
                }
            }
            for status in ["400", "429", "500", "503"] {
                assert!(
                    responses.contains_key(status),
                    "{label}: no {status} response"
                );
            }
            if public.contains(&path.as_str()) {
                assert_eq!(
                    operation.get("security"),
                    Some(&Value::Array(Vec::new())),
                    "{label} is public: security []"
                );
                continue;
            }
            let declared = operation["security"][0]["oauth2"]
                .as_array()
                .unwrap_or_else(|| panic!("{label}: no security"));
            assert_eq!(declared.len(), 1, "{label}: one scope");
            let scope = declared[0].as_str().expect("scope name");
            assert!(
                scheme_scopes.contains_key(scope),
                "{label}: scope {scope} is not in the scheme"
            );
            for status in ["401", "403"] {
                let problem =
                    &responses[status]["content"]["application/problem+json"]["schema"]["$ref"];
                assert_eq!(problem, "#/components/schemas/Problem", "{label} {status}");
            }
        }
    }
    operations
}

/// Every body of a file or stream media type is a binary string, request or response.
fn assert_binary_bodies(label: &str, operation: &Value) {
    let bodies = operation["responses"]
        .as_object()
        .into_iter()
        .flat_map(|responses| responses.values())
        .chain(std::iter::once(&operation["requestBody"]))
        .filter_map(|body| body["content"].as_object())
        .flatten();
    for (media_type, content) in bodies {
        if BINARY_MEDIA_TYPES.contains(&media_type.as_str()) {
            assert_eq!(content["schema"]["type"], "string", "{label} {media_type}");
            assert_eq!(
                content["schema"]["format"], "binary",
                "{label} {media_type}"
            );
        }
    }
}

/// No component writes out inline, as a property or array items, another component's schema.
fn assert_lists_reference_items(document: &Value) {
    let schemas = document["components"]["schemas"]
        .as_object()
        .expect("schemas");
    let named: Vec<(&String, &Value)> = schemas
        .iter()
        .filter(|(_, schema)| schema.get("properties").is_some())
        .collect();
    for (name, schema) in schemas {
        let properties = schema["properties"].as_object().into_iter().flatten();
        for (property, value) in properties {
            let inline = if value["type"] == "array" {
                &value["items"]
            } else {
                value
            };
            if let Some((other, _)) = named.iter().find(|(_, named)| *named == inline) {
                panic!("{name}.{property} repeats {other} inline instead of referencing it");
            }
        }
    }
}
