//! The embedded default database: the PostgreSQL on localhost if it answers, else a private cluster
//! started from the installed PostgreSQL binaries. Used by the run command and by the test helper.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use diesel::pg::PgConnection;
use diesel::{sql_query, Connection, RunQueryDsl as _};

use crate::config::DatabaseSettings;

#[derive(Debug, thiserror::Error)]
pub enum LocalPostgresError {
    #[error(
        "no PostgreSQL answers on {0} and no PostgreSQL server binaries were found; \
         install PostgreSQL (Debian/Ubuntu: apt-get install postgresql) or set a database URL"
    )]
    NoBinaries(String),
    #[error("could not prepare {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` failed: {output}")]
    Command { command: String, output: String },
    #[error("could not connect to the private PostgreSQL cluster")]
    Connect(#[source] diesel::ConnectionError),
    #[error("could not create database {name}")]
    CreateDatabase {
        name: String,
        #[source]
        source: diesel::result::Error,
    },
    #[error("invalid database URL")]
    Url(#[source] url::ParseError),
}

/// Returns an administrative URL (database `postgres`) of a server that answers.
pub fn locate_or_start(
    settings: &DatabaseSettings,
    data_dir: &Path,
) -> Result<String, LocalPostgresError> {
    let local = with_connect_timeout(&settings.local_server_url, settings.connect_timeout_seconds);
    if PgConnection::establish(&local).is_ok() {
        return Ok(settings.local_server_url.clone());
    }
    let bin = server_binaries()
        .ok_or_else(|| LocalPostgresError::NoBinaries(settings.local_server_url.clone()))?;
    start_private_cluster(&bin, data_dir, settings.private_cluster_port)
}

/// Creates `name` on the server behind `admin_url` if it does not exist, and returns its URL.
pub fn ensure_database(admin_url: &str, name: &str) -> Result<String, LocalPostgresError> {
    let mut conn = PgConnection::establish(admin_url).map_err(LocalPostgresError::Connect)?;
    #[derive(diesel::QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        exists: bool,
    }
    let found: Exists =
        sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
            .bind::<diesel::sql_types::Text, _>(name)
            .get_result(&mut conn)
            .map_err(|source| LocalPostgresError::CreateDatabase {
                name: name.to_string(),
                source,
            })?;
    if !found.exists {
        // The name is ours (configuration), never user input; quoted all the same.
        sql_query(format!("CREATE DATABASE \"{}\"", name.replace('"', "")))
            .execute(&mut conn)
            .map_err(|source| LocalPostgresError::CreateDatabase {
                name: name.to_string(),
                source,
            })?;
    }
    database_url(admin_url, name)
}

/// `admin_url` with its database replaced by `name`.
pub fn database_url(admin_url: &str, name: &str) -> Result<String, LocalPostgresError> {
    let mut url = url::Url::parse(admin_url).map_err(LocalPostgresError::Url)?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

fn with_connect_timeout(url: &str, seconds: u64) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}connect_timeout={}", seconds.max(1))
}

/// The directory holding `initdb` and `pg_ctl`: from `pg_config`, the Debian layout, or `PATH`.
fn server_binaries() -> Option<PathBuf> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if output.status.success() && has_server(&dir) {
            return Some(dir);
        }
    }
    let mut versions: Vec<PathBuf> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|dir| has_server(dir))
        .collect();
    versions.sort_by_key(|dir| {
        dir.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    if let Some(newest) = versions.pop() {
        return Some(newest);
    }
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|dir| has_server(dir))
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> LocalPostgresError + '_ {
    move |source| LocalPostgresError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `initdb` refuses to run as root: then the cluster belongs to the `postgres` user (or `nobody`).
fn run_as(user: Option<&str>, program: &Path, args: &[&str]) -> Result<(), LocalPostgresError> {
    let mut command = match user {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--"]).arg(program);
            c
        }
        None => Command::new(program),
    };
    let rendered = format!("{} {}", program.display(), args.join(" "));
    let output = command
        .args(args)
        .output()
        .map_err(|e| LocalPostgresError::Command {
            command: rendered.clone(),
            output: e.to_string(),
        })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(LocalPostgresError::Command {
            command: rendered,
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        })
    }
}

/// Who runs the cluster's programs: nobody else when not root; as root (where `initdb` refuses to
/// run) the `postgres` user if there is one, else `nobody`.
fn cluster_user() -> Option<&'static str> {
    if !is_root() {
        return None;
    }
    let postgres = Command::new("id")
        .arg("postgres")
        .output()
        .is_ok_and(|o| o.status.success());
    Some(if postgres { "postgres" } else { "nobody" })
}

/// The private cluster under a data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterState {
    /// Never initialised there (the embedded default found a server on localhost, or never ran).
    Absent,
    Stopped,
    /// Running; the port it listens on, as its `postmaster.pid` says.
    Running {
        port: Option<u16>,
    },
}

/// The cluster's data directory, absolute (its programs may run as another user, from another
/// directory), if a cluster was initialised there.
fn cluster_data(data_dir: &Path) -> Option<PathBuf> {
    let data = fs::canonicalize(data_dir.join("postgres").join("data")).ok()?;
    data.join("PG_VERSION").is_file().then_some(data)
}

/// The state of the private cluster under `data_dir`.
pub fn cluster_state(data_dir: &Path) -> Result<ClusterState, LocalPostgresError> {
    let Some(data) = cluster_data(data_dir) else {
        return Ok(ClusterState::Absent);
    };
    let bin = server_binaries()
        .ok_or_else(|| LocalPostgresError::NoBinaries(data.display().to_string()))?;
    let data_arg = data.to_string_lossy().to_string();
    if run_as(
        cluster_user(),
        &bin.join("pg_ctl"),
        &["status", "-D", &data_arg],
    )
    .is_err()
    {
        return Ok(ClusterState::Stopped);
    }
    // The fourth line of postmaster.pid is the port.
    let port = fs::read_to_string(data.join("postmaster.pid"))
        .ok()
        .and_then(|pid| pid.lines().nth(3).and_then(|p| p.trim().parse().ok()));
    Ok(ClusterState::Running { port })
}

/// Stops the private cluster under `data_dir` (fast shutdown: open sessions are ended, nothing
/// committed is lost); `false` when it was not running.
pub fn stop_private_cluster(data_dir: &Path) -> Result<bool, LocalPostgresError> {
    if !matches!(cluster_state(data_dir)?, ClusterState::Running { .. }) {
        return Ok(false);
    }
    let bin = server_binaries().ok_or_else(|| {
        LocalPostgresError::NoBinaries(data_dir.join("postgres").display().to_string())
    })?;
    let Some(data) = cluster_data(data_dir) else {
        return Ok(false);
    };
    let data_arg = data.to_string_lossy().to_string();
    run_as(
        cluster_user(),
        &bin.join("pg_ctl"),
        &["stop", "-w", "-m", "fast", "-D", &data_arg],
    )?;
    Ok(true)
}

fn start_private_cluster(
    bin: &Path,
    data_dir: &Path,
    port: u16,
) -> Result<String, LocalPostgresError> {
    let root = data_dir.join("postgres");
    fs::create_dir_all(&root).map_err(io_error(&root))?;
    let root = fs::canonicalize(&root).map_err(io_error(&root))?;
    // Several test binaries may start at once: one of them initialises and starts the cluster.
    let lock_path = root.join("start.lock");
    let lock = fs::File::create(&lock_path).map_err(io_error(&lock_path))?;
    lock.lock().map_err(io_error(&lock_path))?;

    let user = if let Some(owner) = cluster_user() {
        let chown = Command::new("chown")
            .arg("-R")
            .arg(owner)
            .arg(&root)
            .status();
        if !chown.is_ok_and(|s| s.success()) {
            return Err(LocalPostgresError::Command {
                command: format!("chown -R {owner} {}", root.display()),
                output: "failed".into(),
            });
        }
        Some(owner)
    } else {
        None
    };
    let data = root.join("data");
    let data_arg = data.to_string_lossy().to_string();
    if !data.join("PG_VERSION").is_file() {
        run_as(
            user,
            &bin.join("initdb"),
            &[
                "-D",
                &data_arg,
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--no-locale",
            ],
        )?;
    }
    let running = run_as(user, &bin.join("pg_ctl"), &["status", "-D", &data_arg]).is_ok();
    if !running {
        let log = root.join("postgres.log").to_string_lossy().to_string();
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k {}",
            root.to_string_lossy()
        );
        run_as(
            user,
            &bin.join("pg_ctl"),
            &["start", "-w", "-D", &data_arg, "-l", &log, "-o", &options],
        )?;
    }
    drop(lock);
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    PgConnection::establish(&url).map_err(LocalPostgresError::Connect)?;
    Ok(url)
}
