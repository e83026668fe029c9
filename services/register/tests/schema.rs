//! The checked-in diesel schema (`src/schema.rs`) matches what the migrations create.
//!
//! Run with `UPDATE_SCHEMA=1` to rewrite `src/schema.rs` from a freshly migrated database
//! instead of comparing.

use praktijkregister_platform::testing::assert_schema_checked_in;
use praktijkregister_register::startup::MIGRATIONS;

/// Foreign keys the schema deliberately declares no join for: an intervision group's owning
/// practice is only an access rule, never joined.
const OMITTED_JOINABLES: &[(&str, &str)] = &[("intervision_groups", "owner_practice_agb")];

#[test]
fn checked_in_schema_matches_the_migrations() {
    assert_schema_checked_in(
        env!("CARGO_MANIFEST_DIR"),
        "register",
        MIGRATIONS,
        "//! Diesel table definitions of the register database (see `migrations/`).\n",
        OMITTED_JOINABLES,
    );
}
