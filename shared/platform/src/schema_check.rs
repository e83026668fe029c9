//! Schema drift check: renders the diesel `table!`, `joinable!` and
//! `allow_tables_to_appear_in_same_query!` declarations of a migrated database, so that a test
//! can compare them with a service's checked-in `schema.rs`.
//!
//! The rendering follows `diesel print-schema` (same macros, same indentation, `sql_name` for
//! names that are not Rust identifiers, `#[max_length]` for sized `varchar`, database comments as
//! doc comments), derived from `pg_catalog` so that no command-line tool is needed. It keeps the
//! conventions of the checked-in schemas where they differ from `print-schema`:
//!
//! - tables, columns and joinables come in creation order (the order the migrations declare
//!   them), not in alphabetical order; a freshly migrated database numbers its objects in that
//!   order;
//! - array elements are declared not null (`Array<Text>`) unless
//!   [`RenderOptions::nullable_array_elements`] asks for `print-schema`'s `Array<Nullable<Text>>`;
//! - a caller-supplied header replaces `print-schema`'s "generated" line.
//!
//! A joinable is rendered for each single-column foreign key that references the single-column
//! primary key of another rendered table, unless two tables are linked by more than one foreign
//! key (then the join would be ambiguous), as `print-schema` does.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text};
use diesel::{sql_query, Connection as _, QueryableByName, RunQueryDsl as _};

/// Diesel's own bookkeeping table, never part of a service's schema.
const DIESEL_MIGRATIONS_TABLE: &str = "__diesel_schema_migrations";

#[derive(Debug, thiserror::Error)]
pub enum SchemaCheckError {
    #[error("could not connect to the database")]
    Connect(#[from] diesel::ConnectionError),
    #[error("reading the catalog failed")]
    Query(#[from] diesel::result::Error),
    #[error("table `{0}` has no primary key, which diesel's `table!` needs")]
    NoPrimaryKey(String),
}

/// What to render besides what the catalog says.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions<'a> {
    /// Text put first, as given (for instance the module's `//!` line and a newline).
    pub header: &'a str,
    /// Tables left out, such as the platform's own tables in every service database.
    pub skip_tables: &'a [&'a str],
    /// Joinables left out although a foreign key would give them, as `(child table, column)`.
    pub omit_joinables: &'a [(&'a str, &'a str)],
    /// Render array columns as `Array<Nullable<T>>`, as `print-schema` does.
    pub nullable_array_elements: bool,
}

/// Renders the schema of the database at `url`, leaving out `skip_tables`, with the
/// conventions of the checked-in schemas (see the module documentation).
pub fn render_schema(url: &str, skip_tables: &[&str]) -> Result<String, SchemaCheckError> {
    render_schema_with(
        url,
        &RenderOptions {
            skip_tables,
            ..RenderOptions::default()
        },
    )
}

/// Renders the schema of the database at `url` as `options` say.
pub fn render_schema_with(url: &str, options: &RenderOptions) -> Result<String, SchemaCheckError> {
    let mut conn = PgConnection::establish(url)?;
    let catalog = Catalog::load(&mut conn)?;
    catalog.render(options)
}

#[derive(QueryableByName)]
struct TableRow {
    #[diesel(sql_type = BigInt)]
    oid: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    comment: Option<String>,
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = BigInt)]
    table_oid: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bool)]
    not_null: bool,
    #[diesel(sql_type = Text)]
    type_name: String,
    #[diesel(sql_type = Bool)]
    is_array: bool,
    #[diesel(sql_type = Nullable<Integer>)]
    max_length: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    comment: Option<String>,
}

#[derive(QueryableByName)]
struct KeyColumnRow {
    #[diesel(sql_type = BigInt)]
    table_oid: i64,
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct ForeignKeyRow {
    #[diesel(sql_type = BigInt)]
    child_oid: i64,
    #[diesel(sql_type = BigInt)]
    parent_oid: i64,
    #[diesel(sql_type = Integer)]
    column_count: i32,
    #[diesel(sql_type = Text)]
    child_column: String,
    #[diesel(sql_type = Text)]
    parent_column: String,
}

/// What the catalog of the current schema says, in creation order.
struct Catalog {
    tables: Vec<TableRow>,
    columns: Vec<ColumnRow>,
    primary_keys: HashMap<i64, Vec<String>>,
    foreign_keys: Vec<ForeignKeyRow>,
}

impl Catalog {
    fn load(conn: &mut PgConnection) -> Result<Self, SchemaCheckError> {
        let tables: Vec<TableRow> = sql_query(
            "SELECT c.oid::int8 AS oid, c.relname::text AS name, \
                    obj_description(c.oid, 'pg_class') AS comment \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
               AND NOT c.relispartition \
             ORDER BY c.oid",
        )
        .load(conn)?;
        // Domains are rendered as their base type; array types by their element type.
        let columns: Vec<ColumnRow> = sql_query(
            "SELECT a.attrelid::int8 AS table_oid, a.attname::text AS name, \
                    a.attnotnull AS not_null, \
                    (CASE WHEN t.typelem <> 0 AND t.typlen = -1 THEN e.typname ELSE t.typname END)::text \
                        AS type_name, \
                    (t.typelem <> 0 AND t.typlen = -1) AS is_array, \
                    (CASE WHEN a.atttypmod > 4 \
                               AND (CASE WHEN t.typelem <> 0 AND t.typlen = -1 THEN e.typname \
                                         ELSE t.typname END) IN ('varchar', 'bpchar') \
                          THEN a.atttypmod - 4 END)::int4 AS max_length, \
                    col_description(a.attrelid, a.attnum) AS comment \
             FROM pg_attribute a \
             JOIN pg_class c ON c.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_type d ON d.oid = a.atttypid \
             JOIN pg_type t ON t.oid = CASE WHEN d.typtype = 'd' THEN d.typbasetype ELSE d.oid END \
             LEFT JOIN pg_type e ON e.oid = t.typelem \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
               AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attrelid, a.attnum",
        )
        .load(conn)?;
        let key_columns: Vec<KeyColumnRow> = sql_query(
            "SELECT i.indrelid::int8 AS table_oid, a.attname::text AS name \
             FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position) \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
             WHERE i.indisprimary AND n.nspname = current_schema() \
             ORDER BY i.indrelid, k.position",
        )
        .load(conn)?;
        let foreign_keys: Vec<ForeignKeyRow> = sql_query(
            "SELECT con.conrelid::int8 AS child_oid, con.confrelid::int8 AS parent_oid, \
                    cardinality(con.conkey)::int4 AS column_count, \
                    child.attname::text AS child_column, parent.attname::text AS parent_column \
             FROM pg_constraint con \
             JOIN pg_namespace n ON n.oid = con.connamespace \
             JOIN pg_attribute child ON child.attrelid = con.conrelid \
                                    AND child.attnum = con.conkey[1] \
             JOIN pg_attribute parent ON parent.attrelid = con.confrelid \
                                     AND parent.attnum = con.confkey[1] \
             WHERE con.contype = 'f' AND n.nspname = current_schema() \
             ORDER BY con.oid",
        )
        .load(conn)?;
        let mut primary_keys: HashMap<i64, Vec<String>> = HashMap::new();
        for KeyColumnRow { table_oid, name } in key_columns {
            primary_keys.entry(table_oid).or_default().push(name);
        }
        Ok(Self {
            tables,
            columns,
            primary_keys,
            foreign_keys,
        })
    }

    fn render(&self, options: &RenderOptions) -> Result<String, SchemaCheckError> {
        let rendered: Vec<&TableRow> = self
            .tables
            .iter()
            .filter(|t| t.name != DIESEL_MIGRATIONS_TABLE)
            .filter(|t| !options.skip_tables.contains(&t.name.as_str()))
            .collect();
        let names: HashMap<i64, &str> = rendered.iter().map(|t| (t.oid, t.name.as_str())).collect();

        let mut out = String::from(options.header);
        for (index, table) in rendered.iter().enumerate() {
            if index > 0 || !out.is_empty() {
                out.push('\n');
            }
            self.render_table(&mut out, table, options)?;
        }

        let joinables = self.joinables(&names, options);
        if !joinables.is_empty() {
            out.push('\n');
            for (child, parent, column) in joinables {
                let _ = writeln!(
                    out,
                    "diesel::joinable!({} -> {} ({}));",
                    rust_name(child),
                    rust_name(parent),
                    rust_name(column)
                );
            }
        }

        if rendered.len() >= 2 {
            out.push_str("\ndiesel::allow_tables_to_appear_in_same_query!(\n");
            for table in &rendered {
                let _ = writeln!(out, "    {},", rust_name(&table.name));
            }
            out.push_str(");\n");
        }
        Ok(out)
    }

    fn render_table(
        &self,
        out: &mut String,
        table: &TableRow,
        options: &RenderOptions,
    ) -> Result<(), SchemaCheckError> {
        let primary_key = self
            .primary_keys
            .get(&table.oid)
            .filter(|columns| !columns.is_empty())
            .ok_or_else(|| SchemaCheckError::NoPrimaryKey(table.name.clone()))?;
        out.push_str("diesel::table! {\n");
        if let Some(comment) = &table.comment {
            write_doc_comment(out, "    ", comment);
        }
        write_sql_name(out, "    ", &table.name);
        let keys: Vec<String> = primary_key.iter().map(|k| rust_name(k)).collect();
        let _ = writeln!(
            out,
            "    {} ({}) {{",
            rust_name(&table.name),
            keys.join(", ")
        );
        for column in self.columns.iter().filter(|c| c.table_oid == table.oid) {
            if let Some(comment) = &column.comment {
                write_doc_comment(out, "        ", comment);
            }
            write_sql_name(out, "        ", &column.name);
            if let Some(max_length) = column.max_length {
                let _ = writeln!(out, "        #[max_length = {max_length}]");
            }
            let _ = writeln!(
                out,
                "        {} -> {},",
                rust_name(&column.name),
                column_type(column, options.nullable_array_elements)
            );
        }
        out.push_str("    }\n}\n");
        Ok(())
    }

    /// `(child, parent, column)` of every joinable, in the order the foreign keys were declared.
    fn joinables<'c>(
        &'c self,
        names: &HashMap<i64, &'c str>,
        options: &RenderOptions,
    ) -> Vec<(&'c str, &'c str, &'c str)> {
        let pair = |fk: &ForeignKeyRow| {
            (
                fk.child_oid.min(fk.parent_oid),
                fk.child_oid.max(fk.parent_oid),
            )
        };
        let mut pair_counts: HashMap<(i64, i64), usize> = HashMap::new();
        for fk in &self.foreign_keys {
            *pair_counts.entry(pair(fk)).or_default() += 1;
        }
        let omitted: HashSet<(&str, &str)> = options.omit_joinables.iter().copied().collect();
        self.foreign_keys
            .iter()
            .filter(|fk| fk.child_oid != fk.parent_oid && fk.column_count == 1)
            .filter(|fk| pair_counts.get(&pair(fk)).copied() == Some(1))
            .filter(|fk| {
                self.primary_keys
                    .get(&fk.parent_oid)
                    .is_some_and(|pk| pk.len() == 1 && pk[0] == fk.parent_column)
            })
            .filter_map(|fk| {
                let child = *names.get(&fk.child_oid)?;
                let parent = *names.get(&fk.parent_oid)?;
                let column = fk.child_column.as_str();
                (!omitted.contains(&(child, column))).then_some((child, parent, column))
            })
            .collect()
    }
}

/// The diesel SQL type of a column: `Int4`, `Text`, `Timestamptz`, … with `Nullable<…>` and
/// `Array<…>` around it.
fn column_type(column: &ColumnRow, nullable_array_elements: bool) -> String {
    let mut ty = upper_camel_case(&column.type_name);
    if column.is_array {
        ty = if nullable_array_elements {
            format!("Array<Nullable<{ty}>>")
        } else {
            format!("Array<{ty}>")
        };
    }
    if column.not_null {
        ty
    } else {
        format!("Nullable<{ty}>")
    }
}

/// `int4` → `Int4`, `timestamptz` → `Timestamptz`, `my_enum` → `MyEnum`.
fn upper_camel_case(sql_name: &str) -> String {
    sql_name
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// The Rust name diesel gives an SQL name: characters outside `[A-Za-z0-9_]` become `_`, a
/// leading digit gets a `_` before it, and a Rust keyword gets a `_` after it.
fn rust_name(sql_name: &str) -> String {
    let mut name: String = sql_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    if RUST_KEYWORDS.contains(&name.as_str()) {
        name.push('_');
    }
    name
}

fn write_sql_name(out: &mut String, indent: &str, sql_name: &str) {
    if rust_name(sql_name) != sql_name {
        let escaped = sql_name.replace('\\', "\\\\").replace('"', "\\\"");
        let _ = writeln!(out, "{indent}#[sql_name = \"{escaped}\"]");
    }
}

fn write_doc_comment(out: &mut String, indent: &str, comment: &str) {
    for line in comment.lines() {
        let line = line.trim();
        let space = if line.is_empty() { "" } else { " " };
        let _ = writeln!(out, "{indent}///{space}{line}");
    }
}

const RUST_KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn column(type_name: &str, not_null: bool, is_array: bool) -> ColumnRow {
        ColumnRow {
            table_oid: 1,
            name: "c".to_string(),
            not_null,
            type_name: type_name.to_string(),
            is_array,
            max_length: None,
            comment: None,
        }
    }

    #[test]
    fn column_types_are_named_as_diesel_names_them() {
        assert_eq!(column_type(&column("int4", true, false), false), "Int4");
        assert_eq!(
            column_type(&column("timestamptz", false, false), false),
            "Nullable<Timestamptz>"
        );
        assert_eq!(
            column_type(&column("text", true, true), false),
            "Array<Text>"
        );
        assert_eq!(
            column_type(&column("text", false, true), false),
            "Nullable<Array<Text>>"
        );
        assert_eq!(
            column_type(&column("date", true, true), true),
            "Array<Nullable<Date>>"
        );
        assert_eq!(upper_camel_case("my_status"), "MyStatus");
    }

    #[test]
    fn names_that_are_not_rust_identifiers_get_a_rust_name() {
        assert_eq!(rust_name("practices"), "practices");
        assert_eq!(rust_name("type"), "type_");
        assert_eq!(rust_name("first name"), "first_name");
        assert_eq!(rust_name("2fa"), "_2fa");
        let mut out = String::new();
        write_sql_name(&mut out, "    ", "type");
        assert_eq!(out, "    #[sql_name = \"type\"]\n");
    }
}
