//! The checked-in diesel schema (`src/schema.rs`) matches what the migrations create.
//!
//! Run with `UPDATE_SCHEMA=1` to rewrite `src/schema.rs` from a freshly migrated database
//! instead of comparing.

use std::path::PathBuf;

use praktijkregister_platform::db::PLATFORM_TABLES;
use praktijkregister_platform::schema_check::{render_schema_with, RenderOptions};
use praktijkregister_platform::testing::TestDatabase;
use praktijkregister_visitation::startup::MIGRATIONS;

/// The first line of `src/schema.rs`.
const HEADER: &str =
    "//! Diesel table definitions of the visitation database (see `migrations/`).\n";

#[test]
fn checked_in_schema_matches_the_migrations() {
    let database = TestDatabase::create("visitation", MIGRATIONS);
    let rendered = render_schema_with(
        database.url(),
        &RenderOptions {
            header: HEADER,
            skip_tables: PLATFORM_TABLES,
            omit_joinables: &[],
            nullable_array_elements: false,
        },
    )
    .unwrap_or_else(|e| panic!("render the schema: {e}"));
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/schema.rs");
    if std::env::var_os("UPDATE_SCHEMA").is_some_and(|v| v == "1") {
        std::fs::write(&path, &rendered).unwrap_or_else(|e| panic!("write schema.rs: {e}"));
        return;
    }
    let checked_in =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read schema.rs: {e}"));
    assert!(
        checked_in == rendered,
        "src/schema.rs differs from the migrations; run with UPDATE_SCHEMA=1 and commit it"
    );
}
