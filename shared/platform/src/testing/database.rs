//! Per-test databases: a template migrated once per test binary, then `CREATE DATABASE … TEMPLATE`
//! for each test, dropped when the test's [`TestDatabase`] goes out of scope.
//!
//! PostgreSQL is found through `TEST_DATABASE_URL` (an administrative URL), else on localhost:5432,
//! else a private cluster is started from the installed binaries, as the run command does.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use diesel::pg::PgConnection;
use diesel::{sql_query, Connection, RunQueryDsl as _};
use diesel_migrations::EmbeddedMigrations;

use crate::config::Settings;
use crate::local_postgres;

const TEMPLATE_PREFIX: &str = "prr_tpl_";
const TEST_PREFIX: &str = "prr_test_";

fn admin_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
            return url;
        }
        let settings = Settings::defaults().expect("embedded defaults parse");
        let data_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../var");
        local_postgres::locate_or_start(&settings.database, &data_dir)
            .unwrap_or_else(|e| panic!("no PostgreSQL for the tests: {e}"))
    })
}

fn admin_connection() -> PgConnection {
    PgConnection::establish(admin_url()).expect("connect to the test PostgreSQL server")
}

#[derive(diesel::QueryableByName)]
struct DatabaseName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    datname: String,
}

/// Drops databases left behind by test binaries that have exited (a crash, or a template,
/// which lives as long as its process).
fn drop_stale_databases(conn: &mut PgConnection) {
    let names: Vec<DatabaseName> = sql_query(format!(
        "SELECT datname FROM pg_database WHERE datname LIKE '{TEMPLATE_PREFIX}%' OR datname LIKE '{TEST_PREFIX}%'"
    ))
    .load(conn)
    .unwrap_or_default();
    for DatabaseName { datname } in names {
        // Names are `<prefix><service>_<pid>[_<n>]`: the pid is the first numeric part.
        let pid = datname
            .split('_')
            .skip(2)
            .find_map(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|pid| PathBuf::from(format!("/proc/{pid}")).exists());
        if !alive {
            let _ = sql_query(format!(
                "DROP DATABASE IF EXISTS \"{datname}\" WITH (FORCE)"
            ))
            .execute(conn);
        }
    }
}

/// The template of a migration set for this process, created and migrated on first use.
fn template(name: &str, migrations: EmbeddedMigrations) -> String {
    static TEMPLATES: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    let mut templates = TEMPLATES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(existing) = templates.get(name) {
        return existing.clone();
    }
    let template = format!("{TEMPLATE_PREFIX}{name}_{}", std::process::id());
    let mut conn = admin_connection();
    drop_stale_databases(&mut conn);
    sql_query(format!(
        "DROP DATABASE IF EXISTS \"{template}\" WITH (FORCE)"
    ))
    .execute(&mut conn)
    .expect("drop an old template");
    sql_query(format!("CREATE DATABASE \"{template}\""))
        .execute(&mut conn)
        .expect("create the template database");
    let url = local_postgres::database_url(admin_url(), &template).expect("template URL");
    crate::db::run_migrations(&url, migrations).expect("migrate the template database");
    templates.insert(name.to_string(), template.clone());
    template
}

/// A database of its own for one test.
pub struct TestDatabase {
    name: String,
    url: String,
}

impl TestDatabase {
    /// `service` names the migration set (one template per set and process).
    pub fn create(service: &str, migrations: EmbeddedMigrations) -> Self {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let template = template(service, migrations);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("{TEST_PREFIX}{service}_{}_{n}", std::process::id());
        let mut conn = admin_connection();
        // CREATE DATABASE fails while another session is copying the same template; retry briefly.
        let mut attempts = 0;
        loop {
            match sql_query(format!(
                "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
            ))
            .execute(&mut conn)
            {
                Ok(_) => break,
                Err(_) if attempts < 50 => {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Err(e) => panic!("create test database {name}: {e}"),
            }
        }
        let url = local_postgres::database_url(admin_url(), &name).expect("test database URL");
        Self { name, url }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A connection to the server's administrative database.
    pub fn admin() -> PgConnection {
        admin_connection()
    }

    /// A synchronous connection, for arranging data or checking what a request left behind.
    pub fn connect(&self) -> PgConnection {
        PgConnection::establish(&self.url).expect("connect to the test database")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let mut conn = admin_connection();
        let _ = sql_query(format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ))
        .execute(&mut conn);
    }
}
