//! The checked-in diesel schema (`src/schema.rs`) matches what the migrations create.
//!
//! Run with `UPDATE_SCHEMA=1` to rewrite `src/schema.rs` from a freshly migrated database
//! instead of comparing.

use praktijkregister_insurer_export::startup::MIGRATIONS;
use praktijkregister_platform::testing::assert_schema_checked_in;

#[test]
fn checked_in_schema_matches_the_migrations() {
    assert_schema_checked_in(
        env!("CARGO_MANIFEST_DIR"),
        "insurer_export",
        MIGRATIONS,
        "//! Diesel table definitions of the insurer-export database (see `migrations/`).\n",
        &[],
    );
}
