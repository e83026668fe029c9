//! The drift test of a service's checked-in diesel schema (`src/schema.rs`): rendered from a
//! freshly migrated database and compared, or rewritten with `UPDATE_SCHEMA=1`.

use std::path::Path;

use diesel_migrations::EmbeddedMigrations;

use crate::db::PLATFORM_TABLES;
use crate::schema_check::{render_schema_with, RenderOptions};
use crate::testing::TestDatabase;

/// Compares `<manifest_dir>/src/schema.rs` with the schema `migrations` create (the platform's
/// tables left out), or rewrites it when `UPDATE_SCHEMA=1`. `header` is its first line;
/// `omit_joinables` the foreign keys it deliberately declares no join for.
pub fn assert_schema_checked_in(
    manifest_dir: &str,
    service: &str,
    migrations: EmbeddedMigrations,
    header: &str,
    omit_joinables: &[(&str, &str)],
) {
    let database = TestDatabase::create(service, migrations);
    let rendered = render_schema_with(
        database.url(),
        &RenderOptions {
            header,
            skip_tables: PLATFORM_TABLES,
            omit_joinables,
            nullable_array_elements: false,
        },
    )
    .unwrap_or_else(|e| panic!("render the schema: {e}"));
    let path = Path::new(manifest_dir).join("src/schema.rs");
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
