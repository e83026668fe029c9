//! The checked-in diesel schema (`src/schema.rs`) matches what the migrations create.
//!
//! Run with `UPDATE_SCHEMA=1` to rewrite `src/schema.rs` from a freshly migrated database
//! instead of comparing.

use praktijkregister_platform::testing::assert_schema_checked_in;
use praktijkregister_visitation::startup::MIGRATIONS;

#[test]
fn checked_in_schema_matches_the_migrations() {
    assert_schema_checked_in(
        env!("CARGO_MANIFEST_DIR"),
        "visitation",
        MIGRATIONS,
        "//! Diesel table definitions of the visitation database (see `migrations/`).\n",
        &[],
    );
}
