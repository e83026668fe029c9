//! `praktijkregister seed --demo` leaves the insurer export ready for the README's walkthrough:
//! the demo insurers' 1 November snapshots are built from the register's events, list exactly the
//! practices the register has registered for the year, and the register's outbox holds nothing
//! that would reach the change feed after them. Against real databases, through the binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use diesel::sql_types::{BigInt, Binary, Integer, Nullable, Text};
use diesel::{QueryableByName, RunQueryDsl};
use praktijkregister_platform::testing::TestDatabase;
use serde_json::Value;

#[derive(QueryableByName)]
struct Snapshot {
    #[diesel(sql_type = Text)]
    insurer_uzovi: String,
    #[diesel(sql_type = Integer)]
    practices: i32,
    #[diesel(sql_type = Binary)]
    body: Vec<u8>,
    #[diesel(sql_type = BigInt)]
    changes_seq: i64,
}

#[derive(QueryableByName)]
struct Agb {
    #[diesel(sql_type = Text)]
    practice_agb: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = Nullable<BigInt>)]
    n: Option<i64>,
}

fn count(db: &TestDatabase, query: &str) -> i64 {
    diesel::sql_query(query)
        .get_result::<Count>(&mut db.connect())
        .unwrap_or_else(|e| panic!("{query}: {e}"))
        .n
        .unwrap_or(0)
}

fn seed(data_dir: &std::path::Path, dbs: &[(&str, &TestDatabase)]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_praktijkregister"));
    command
        .env_remove("PRR_CONFIG_FILE")
        .env("PRR__APP__DATA_DIR", data_dir)
        .args(["seed", "--demo"]);
    for (section, db) in dbs {
        command.env(format!("PRR__{section}__DATABASE_URL"), db.url());
    }
    let output = command.output().expect("run the binary");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{text}");
    text
}

#[test]
fn the_demo_builds_its_insurers_snapshots_from_the_registers_events() {
    use praktijkregister_platform::service::Service as _;
    let register = TestDatabase::create(
        praktijkregister_register::startup::Register::NAME,
        praktijkregister_register::startup::MIGRATIONS,
    );
    let visitation = TestDatabase::create(
        praktijkregister_visitation::startup::Visitation::NAME,
        praktijkregister_visitation::startup::MIGRATIONS,
    );
    let export = TestDatabase::create(
        praktijkregister_insurer_export::startup::InsurerExport::NAME,
        praktijkregister_insurer_export::startup::MIGRATIONS,
    );
    let data_dir = std::env::temp_dir().join(format!("prr-seed-{}", uuid::Uuid::new_v4()));
    let dbs = [
        ("REGISTER", &register),
        ("VISITATION", &visitation),
        ("INSURER_EXPORT", &export),
    ];
    let printed = seed(&data_dir, &dbs);
    assert!(
        printed.contains("the 1 November snapshot of 3311"),
        "{printed}"
    );

    let snapshots: Vec<Snapshot> = diesel::sql_query(
        "SELECT insurer_uzovi, practices, body, changes_seq FROM snapshots ORDER BY insurer_uzovi",
    )
    .load(&mut export.connect())
    .unwrap();
    let insurers: Vec<&str> = snapshots.iter().map(|s| s.insurer_uzovi.as_str()).collect();
    assert_eq!(insurers, ["3311", "7095", "9664"]);
    for snapshot in &snapshots {
        let body: Value = serde_json::from_slice(&snapshot.body).unwrap();
        let listed: Vec<&str> = body["practices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["agb"].as_str().unwrap())
            .collect();
        let registered: Vec<String> = diesel::sql_query(format!(
            "SELECT practice_agb FROM registrations WHERE cycle_year = {} \
             AND state = 'registered' ORDER BY practice_agb",
            body["cycle_year"]
        ))
        .load::<Agb>(&mut register.connect())
        .unwrap()
        .into_iter()
        .map(|a| a.practice_agb)
        .collect();
        assert!(!registered.is_empty());
        assert_eq!(listed, registered, "{}", snapshot.insurer_uzovi);
        assert_eq!(snapshot.practices as usize, listed.len());
        // Every change the demo's events made comes before the snapshot: the feed starts empty.
        assert_eq!(
            count(&export, "SELECT max(seq) AS n FROM changes"),
            snapshot.changes_seq
        );
    }
    assert_eq!(
        count(
            &register,
            "SELECT count(*) AS n FROM outbox_events \
             WHERE destination = 'insurer-export' AND status <> 'delivered'"
        ),
        0
    );
    assert_eq!(
        count(&export, "SELECT count(*) AS n FROM webhook_deliveries"),
        0
    );

    let _ = std::fs::remove_dir_all(&data_dir);
}
