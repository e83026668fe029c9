//! PostgreSQL side of the harness: the database, `pgbench` on the service's own SQL, `COPY` of
//! the delivery burst's rows, and `EXPLAIN (ANALYZE, BUFFERS)` of the hot queries.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context as _};
use diesel::connection::SimpleConnection as _;
use diesel::pg::{CopyFormat, PgConnection};
use diesel::ExecuteCopyFromDsl as _;
use diesel::{Connection as _, QueryableByName, RunQueryDsl as _};
use serde_json::{json, Value};

use crate::data::{practice_agb, therapist_agb, VENDOR};
use crate::load::round;

use praktijkregister_register::schema::{deliveries, delivery_rows};

fn connect(url: &str) -> anyhow::Result<PgConnection> {
    PgConnection::establish(url).with_context(|| format!("connecting to {url}"))
}

pub fn recreate_database(server: &str, name: &str) -> anyhow::Result<()> {
    drop_database(server, name)?;
    connect(&format!("{server}/postgres"))?.batch_execute(&format!("CREATE DATABASE {name}"))?;
    Ok(())
}

pub fn drop_database(server: &str, name: &str) -> anyhow::Result<()> {
    connect(&format!("{server}/postgres"))?
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
    Ok(())
}

pub fn execute(url: &str, sql: &str) -> anyhow::Result<()> {
    connect(url)?.batch_execute(sql)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Scalar {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

/// The one text value `sql` (a query with a column `value`) answers.
pub fn scalar(url: &str, sql: &str) -> anyhow::Result<String> {
    let row: Scalar = diesel::sql_query(sql).get_result(&mut connect(url)?)?;
    Ok(row.value)
}

/// `pgbench` at the loads' concurrency, with prepared statements.
pub struct Pgbench {
    pub url: String,
    pub connections: usize,
    pub seconds: u64,
}

pub struct PgbenchResult {
    pub tps: f64,
    pub latency_ms: f64,
}

impl PgbenchResult {
    pub fn json(&self) -> Value {
        json!({"tps": round(self.tps), "latency_average_ms": round(self.latency_ms)})
    }
}

impl Pgbench {
    pub fn run(&self, dir: &Path, name: &str, script: &str) -> anyhow::Result<PgbenchResult> {
        let file = dir.join(format!("{name}.sql"));
        std::fs::write(&file, script)?;
        let output = Command::new("pgbench")
            .args(["-n", "-M", "prepared", "-j", "2"])
            .arg("-c")
            .arg(self.connections.to_string())
            .arg("-T")
            .arg(self.seconds.to_string())
            .arg("-f")
            .arg(&file)
            .arg(&self.url)
            .output()
            .context("running pgbench (install the PostgreSQL client)")?;
        let text = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "pgbench failed: {text}{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let number = |prefix: &str| {
            text.lines()
                .find_map(|line| line.trim().strip_prefix(prefix))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse::<f64>().ok())
        };
        Ok(PgbenchResult {
            tps: number("tps = ").context("no tps in the pgbench output")?,
            latency_ms: number("latency average = ").unwrap_or(f64::NAN),
        })
    }
}

/// What `GET /v1/public/practices/{agb}` sends: the register's own lookup statement, with the
/// practice and the public years (this and last) in place of its parameters.
pub fn public_lookup_script(practices: u32, year: i32) -> String {
    format!(
        "\\set n random(1, {practices})\n{};\n",
        public_lookup_sql("'07' || lpad(:n::text, 6, '0')", year)
    )
}

fn public_lookup_sql(agb: &str, year: i32) -> String {
    praktijkregister_register::public::repository::LOOKUP
        .replace("$1", &format!("({agb})"))
        .replace("$2", &format!("'{{{year},{}}}'::int4[]", year - 1))
}

/// The statements of one delivery as the service sends them (`PUT …/deliveries/{period}` with
/// an `Idempotency-Key`, `rows` rows): the locks with the practice and the authorisation, the
/// stored answer, the roster, the delivery with its rows and year totals, the audit line with
/// the answer; one transaction each, for a random practice of the first `practices`. Only the
/// version is read inside the insert instead of being carried over from the roster, as pgbench
/// cannot. Its rate is the ceiling a transaction per delivery allows on this database.
pub fn delivery_statements_script(practices: u32, rows: u32, period: &str, year: i32) -> String {
    use praktijkregister_platform::idempotency::{REMEMBER_RECORDED, STORED_ANSWER};
    use praktijkregister_register::deliveries::repository::{INSERT_DELIVERY, OPEN, ROSTER};
    let practice = "('07' || lpad((:p::int)::text, 6, '0'))".to_string();
    let therapists = format!(
        "ARRAY(SELECT '07' || lpad((100000 + ((:p::int) - 1) * {rows} + k)::text, 6, '0') \
         FROM generate_series(1, {rows}) k)"
    );
    let column = |value: u32| format!("array_fill({value}, ARRAY[{rows}])");
    let report = format!(
        "(SELECT jsonb_build_object('rows', jsonb_agg(jsonb_build_object('therapist_agb', k, \
         'warnings', '[]'::jsonb, 'ldo_fill_rate', 0.9667, 'remarks', repeat('a', 120)))) \
         FROM generate_series(1, {rows}) k)"
    );
    let month = format!("DATE '{period}-01'");
    let id = "md5((:key)::text)::uuid".to_string();
    let bind = |sql: &str, values: &[String]| {
        // Highest first, so that $1 does not match the start of $10.
        values
            .iter()
            .enumerate()
            .rev()
            .fold(sql.to_string(), |sql, (i, value)| {
                sql.replace(&format!("${}", i + 1), &format!("({value})"))
            })
    };
    let open = bind(
        OPEN,
        &[
            practice.clone(),
            format!("'{VENDOR}'"),
            // pgbench reads `:name` inside literals too, so the lock keys have no colons.
            format!("'delivery-' || {practice} || '-{year}'"),
            "'idempotency-pgbench-' || (:key)::text".into(),
        ],
    );
    let stored = bind(STORED_ANSWER, &["'pgbench'".into(), "(:key)::text".into()]);
    let roster = bind(
        ROSTER,
        &[practice.clone(), month.clone(), therapists.clone()],
    );
    let insert = bind(
        INSERT_DELIVERY,
        &[
            id.clone(),
            practice.clone(),
            month.clone(),
            format!(
                "SELECT coalesce(max(version), 0) + 1 FROM deliveries \
                 WHERE practice_agb = {practice} AND period = {month}"
            ),
            "now()".into(),
            "'pgbench'".into(),
            format!("'{VENDOR}'"),
            report.clone(),
            therapists,
            column(30),
            column(100),
            column(10),
            column(60),
            column(30),
            column(29),
            column(10),
            column(8),
            format!("array_fill(NULL::date, ARRAY[{rows}])"),
            year.to_string(),
        ],
    );
    let remember = bind(
        REMEMBER_RECORDED,
        &[
            "now()".into(),
            "'pgbench'".into(),
            "'epd_vendor'".into(),
            "NULL".into(),
            "'delivery.put'".into(),
            "'delivery'".into(),
            format!("{id}::text"),
            "'success'".into(),
            "NULL".into(),
            format!(
                "jsonb_build_object('practice_agb', {practice}, 'period', '{period}', \
                 'rows_accepted', {rows}, 'idempotency_key', (:key)::text)"
            ),
            "'pgbench'".into(),
            "(:key)::text".into(),
            "repeat('ab', 32)".into(),
            "200".into(),
            report,
        ],
    );
    format!(
        "\\set p random(1, {practices})\n\\set key random(1, 9000000000000000000)\nBEGIN;\n\
         {open};\n{stored};\n{roster};\n{insert};\n{remember};\nCOMMIT;\n"
    )
}

/// Removes the deliveries and answers [`delivery_statements_script`] stored. Its audit lines stay
/// (the trail refuses deletes), and so do its year totals: only the benchmark's values, not its
/// work, depend on them.
pub fn remove_pgbench_deliveries(url: &str) -> anyhow::Result<()> {
    connect(url)?.batch_execute(
        "DELETE FROM deliveries WHERE delivered_by = 'pgbench'; \
         DELETE FROM idempotency_keys WHERE client_id = 'pgbench';",
    )?;
    Ok(())
}

/// What `GET /v1/practices?limit=50` sends: a page of practices, their locations, the audit line.
pub const REGISTRAR_LIST_SCRIPT: &str = "SELECT practices.agb, practices.name, practices.kvk_number, practices.tier, practices.contact_name, practices.contact_email, practices.contact_phone, practices.version, practices.created_at, practices.updated_at FROM practices ORDER BY practices.agb LIMIT 51;
SELECT practice_locations.* FROM practice_locations WHERE practice_locations.practice_agb IN (SELECT agb FROM practices ORDER BY agb LIMIT 51) ORDER BY practice_locations.practice_agb, practice_locations.position;
INSERT INTO audit_events (actor_client_id, actor_role, action, subject_type, subject_id, outcome, detail) VALUES ('bench-registrar', 'registrar', 'practice.list', 'practice', '*', 'success', '{\"count\": 50}');
";

/// Seconds to `COPY` the rows of the delivery burst (one delivery of `rows` rows for each of the
/// first `practices` practices) in one transaction; removed again afterwards.
pub fn copy_deliveries(
    url: &str,
    practices: u32,
    rows: u32,
    period: &str,
    version: i32,
) -> anyhow::Result<f64> {
    let mut conn = connect(url)?;
    let ids: Vec<uuid::Uuid> = (0..practices).map(|_| uuid::Uuid::new_v4()).collect();
    let started = Instant::now();
    conn.transaction::<_, anyhow::Error, _>(|conn| {
        diesel::copy_from(deliveries::table)
            .from_raw_data(deliveries::table, |out: &mut dyn std::io::Write| {
                for (i, id) in ids.iter().enumerate() {
                    writeln!(
                        out,
                        "{id},{},{period},{version},2026-12-01T10:00:00Z,bench,{VENDOR},{{}}",
                        practice_agb(i as u32 + 1)
                    )
                    .map_err(written)?;
                }
                Ok::<_, diesel::result::Error>(())
            })
            .with_format(CopyFormat::Csv)
            .execute(conn)?;
        diesel::copy_from(delivery_rows::table)
            .from_raw_data(delivery_rows::table, |out: &mut dyn std::io::Write| {
                for (i, id) in ids.iter().enumerate() {
                    for k in 1..=rows {
                        let therapist = therapist_agb(i as u32 * rows + k);
                        writeln!(out, "{id},{therapist},30,100,10,60,30,29,10,8,")
                            .map_err(written)?;
                    }
                }
                Ok::<_, diesel::result::Error>(())
            })
            .with_format(CopyFormat::Csv)
            .execute(conn)?;
        Ok(())
    })?;
    let seconds = started.elapsed().as_secs_f64();
    diesel::sql_query(format!("DELETE FROM deliveries WHERE version = {version}"))
        .execute(&mut conn)?;
    Ok(seconds)
}

fn written(error: std::io::Error) -> diesel::result::Error {
    diesel::result::Error::SerializationError(Box::new(error))
}

#[derive(QueryableByName)]
struct Plan {
    #[diesel(sql_type = diesel::sql_types::Json)]
    #[diesel(column_name = "QUERY PLAN")]
    plan: Value,
}

/// The register's intervision statement of the evidence, for `therapists` (an SQL array).
fn intervision_sql(therapists: &str, from: &str, to: &str, year: i32) -> String {
    praktijkregister_register::evidence::repository::INTERVISION
        .replace("$1", therapists)
        .replace("$2", from)
        .replace("$3", to)
        .replace("$4", &year.to_string())
}

/// `EXPLAIN (ANALYZE, BUFFERS)` of the statements behind the hot endpoints, summarised: time,
/// buffers, the top plan node and whether JIT ran. Run with the service's session options.
pub fn explain_hot_queries(url: &str, practices: u32, year: i32) -> anyhow::Result<Value> {
    let mut conn = connect(url)?;
    conn.batch_execute("SET jit = off")?;
    let agb = practice_agb(practices / 2 + 1);
    let therapists: Vec<String> = (1..=2_500.min(practices * 5)).map(therapist_agb).collect();
    let therapist_array = format!("ARRAY['{}']", therapists.join("','"));
    // The therapists of one practice, as compliance asks for them.
    let practice_therapists = format!(
        "ARRAY(SELECT therapist_agb FROM practice_memberships WHERE practice_agb = '{agb}')"
    );
    let (from, to, next) = (
        format!("'{year}-01-01'::date"),
        format!("'{year}-12-31'::date"),
        format!("'{}-01-01'::date", year + 1),
    );
    let queries = [
        ("public_lookup", public_lookup_sql(&format!("'{agb}'"), year)),
        ("registrar_list", "SELECT * FROM practices ORDER BY agb LIMIT 51".to_string()),
        ("evidence_intervision_batch", intervision_sql(&therapist_array, &from, &to, year)),
        ("evidence_intervision_practice", intervision_sql(&practice_therapists, &from, &to, year)),
        ("prem_national_mean", format!(
            "SELECT domain, sum(mean_score * responses) / nullif(sum(responses), 0) FROM prem_domain_scores \
             WHERE period >= {from} AND period < {next} GROUP BY domain")),
        ("benchmark_national", format!(
            "WITH per_practice AS (SELECT practice_agb, sum(ldo_records_complete)::float8 / nullif(sum(ldo_records_delivered), 0) AS ldo \
               FROM delivery_year_totals WHERE year = {year} GROUP BY practice_agb) \
             SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ldo) FROM per_practice")),
    ];
    let mut summaries = serde_json::Map::new();
    for (name, sql) in queries {
        let Plan { plan } =
            diesel::sql_query(format!("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}"))
                .get_result(&mut conn)?;
        let top = &plan[0];
        let node = &top["Plan"];
        summaries.insert(name.to_string(), json!({
            "execution_ms": top["Execution Time"], "planning_ms": top["Planning Time"],
            "top_node": node["Node Type"], "rows": node["Actual Rows"],
            "shared_hit_blocks": node["Shared Hit Blocks"], "shared_read_blocks": node["Shared Read Blocks"],
            "jit": top.get("JIT").is_some(),
        }));
    }
    Ok(Value::Object(summaries))
}
