//! The checked-in diesel schema (`src/schema.rs`) matches what the migrations create.
//!
//! Run with `UPDATE_SCHEMA=1` to rewrite `src/schema.rs` from a freshly migrated database
//! instead of comparing.

use std::path::PathBuf;

use praktijkregister_platform::db::PLATFORM_TABLES;
use praktijkregister_platform::schema_check::{render_schema_with, RenderOptions};
use praktijkregister_platform::testing::TestDatabase;
use praktijkregister_register::startup::MIGRATIONS;

/// The first line of `src/schema.rs`.
const HEADER: &str = "//! Diesel table definitions of the register database (see `migrations/`).\n";

/// Foreign keys the schema deliberately declares no join for: an intervision group's owning
/// practice is only an access rule, never joined.
const OMITTED_JOINABLES: &[(&str, &str)] = &[("intervision_groups", "owner_practice_agb")];

#[test]
fn checked_in_schema_matches_the_migrations() {
    let database = TestDatabase::create("register", MIGRATIONS);
    let rendered = render_schema_with(
        database.url(),
        &RenderOptions {
            header: HEADER,
            skip_tables: PLATFORM_TABLES,
            omit_joinables: OMITTED_JOINABLES,
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
    if checked_in != rendered {
        panic!(
            "src/schema.rs differs from the migrated database; run the test with UPDATE_SCHEMA=1 \
             to rewrite it.\n{}",
            first_difference(&checked_in, &rendered)
        );
    }
}

/// The first differing line of two texts, with a little context.
fn first_difference(checked_in: &str, rendered: &str) -> String {
    let left: Vec<&str> = checked_in.lines().collect();
    let right: Vec<&str> = rendered.lines().collect();
    let line = left
        .iter()
        .zip(&right)
        .position(|(a, b)| a != b)
        .unwrap_or(left.len().min(right.len()));
    let context = |lines: &[&str]| {
        lines
            .iter()
            .enumerate()
            .skip(line.saturating_sub(2))
            .take(5)
            .map(|(n, l)| format!("{:>5} | {l}", n + 1))
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "first difference at line {}:\n--- checked in\n{}\n--- migrations\n{}",
        line + 1,
        context(&left),
        context(&right)
    )
}
