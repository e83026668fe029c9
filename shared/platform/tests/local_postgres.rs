//! The embedded default: with nothing answering at the configured local server, a private cluster
//! is initialised and started from the installed PostgreSQL binaries, and databases are created on it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use diesel::{Connection, PgConnection};
use praktijkregister_platform::config::Settings;
use praktijkregister_platform::local_postgres::{ensure_database, locate_or_start};

#[test]
fn a_private_cluster_is_started_when_no_server_answers() {
    let data_dir = std::env::temp_dir().join(format!("prr-private-cluster-{}", std::process::id()));
    let mut settings = Settings::defaults().unwrap().database;
    // Port 1 never has PostgreSQL: force the fallback.
    settings.local_server_url = "postgres://postgres@127.0.0.1:1/postgres".into();
    settings.connect_timeout_seconds = 1;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    settings.private_cluster_port = listener.local_addr().unwrap().port();
    drop(listener);

    let admin = locate_or_start(&settings, &data_dir).expect("private cluster");
    assert!(admin.contains(&settings.private_cluster_port.to_string()));
    let url = ensure_database(&admin, "praktijkregister_probe").unwrap();
    PgConnection::establish(&url).expect("the created database answers");
    // A second call finds the running cluster and the existing database.
    assert_eq!(locate_or_start(&settings, &data_dir).unwrap(), admin);
    assert_eq!(
        ensure_database(&admin, "praktijkregister_probe").unwrap(),
        url
    );

    let data = data_dir.join("postgres/data");
    let pg_ctl = std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|mut versions| versions.next())
        .and_then(|v| v.ok())
        .map(|v| v.path().join("bin/pg_ctl"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| "pg_ctl".into());
    let running_as_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    let mut stop = if running_as_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&pg_ctl);
        c
    } else {
        Command::new(&pg_ctl)
    };
    let stopped = stop
        .args(["stop", "-m", "immediate", "-D"])
        .arg(&data)
        .status()
        .unwrap();
    assert!(stopped.success());
    std::fs::remove_dir_all(&data_dir).unwrap();
}
