//! The checked-in OpenAPI document is the one the code generates, and it is complete.

use std::path::PathBuf;

use praktijkregister_insurer_export::startup::InsurerExport;
use praktijkregister_platform::service::Service as _;
use praktijkregister_platform::testing::contract;

fn checked_in_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../openapi/insurer-export.json")
}

/// Fails when `openapi/insurer-export.json` differs from the generated document;
/// `UPDATE_OPENAPI=1 cargo test -p praktijkregister-insurer-export --test api contract` rewrites it.
#[test]
fn the_checked_in_document_matches_the_code() {
    contract::assert_checked_in(&InsurerExport::openapi(), &checked_in_path());
}

#[test]
fn every_operation_is_described_secured_and_has_problem_errors() {
    let operations = contract::assert_complete(
        &InsurerExport::openapi(),
        &["/.well-known/jwks.json"],
        InsurerExport::scopes(),
    );
    assert_eq!(operations, 23);
}
