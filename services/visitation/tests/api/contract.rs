//! The checked-in OpenAPI document is the one the code generates, and it is complete.

use std::path::PathBuf;

use praktijkregister_platform::service::Service as _;
use praktijkregister_platform::testing::contract;
use praktijkregister_visitation::startup::Visitation;

fn checked_in_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../openapi/visitation.json")
}

/// Fails when `openapi/visitation.json` differs from the generated document;
/// `UPDATE_OPENAPI=1 cargo test -p praktijkregister-visitation --test api contract` rewrites it.
#[test]
fn the_checked_in_document_matches_the_code() {
    contract::assert_checked_in(&Visitation::openapi(), &checked_in_path());
}

#[test]
fn every_operation_is_described_secured_and_has_problem_errors() {
    let operations = contract::assert_complete(&Visitation::openapi(), &[], Visitation::scopes());
    assert!(operations >= 19, "only {operations} operations documented");
}
