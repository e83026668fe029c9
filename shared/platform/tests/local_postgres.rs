//! The embedded default: with nothing answering at the configured local server, a private cluster
//! is initialised and started from the installed PostgreSQL binaries, and databases are created on it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use diesel::{Connection, PgConnection};
use praktijkregister_platform::config::Settings;
use praktijkregister_platform::local_postgres::{
    cluster_state, ensure_database, locate_or_start, stop_private_cluster, ClusterState,
};

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

    // `praktijkregister local-db status` / `stop`.
    assert_eq!(
        cluster_state(&data_dir).unwrap(),
        ClusterState::Running {
            port: Some(settings.private_cluster_port)
        }
    );
    assert!(stop_private_cluster(&data_dir).unwrap());
    assert_eq!(cluster_state(&data_dir).unwrap(), ClusterState::Stopped);
    assert!(
        PgConnection::establish(&url).is_err(),
        "the cluster is down"
    );
    assert!(!stop_private_cluster(&data_dir).unwrap(), "already stopped");
    std::fs::remove_dir_all(&data_dir).unwrap();
    assert_eq!(cluster_state(&data_dir).unwrap(), ClusterState::Absent);
}
