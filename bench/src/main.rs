//! The benchmark harness (DESIGN §7): generates a data set straight into a register database,
//! starts the register service in release mode, drives it on loopback and prints one JSON
//! document in which each figure stands beside its baseline (`pgbench` on the same SQL, `COPY`
//! of the same rows) or its goal, measured in the same run.
//!
//! `cargo run --release -p praktijkregister-bench -- --scale national`

mod data;
mod load;
mod pg;
mod planner;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::{Parser, ValueEnum};
use serde_json::{json, Value};

use data::{practice_agb, therapist_agb, Scale, THERAPISTS_PER_PRACTICE, VENDOR};
use load::{round, Plan};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ScaleName {
    /// 20 practices, two years: seconds; checks that every figure is produced.
    Smoke,
    /// 10,000 practices, 50,000 therapists, ten years of monthly deliveries (DESIGN §7).
    National,
}

#[derive(Debug, Parser)]
#[command(about = "Benchmark harness of the register service (DESIGN §7)")]
struct Args {
    #[arg(long, value_enum, default_value = "smoke")]
    scale: ScaleName,
    /// Practices (overrides the scale's number).
    #[arg(long)]
    practices: Option<u32>,
    /// Repetitions of each measurement; the document gives median and range.
    #[arg(long)]
    runs: Option<usize>,
    /// Seconds each load runs.
    #[arg(long)]
    seconds: Option<u64>,
    /// Concurrent connections of the loads and of pgbench.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// A PostgreSQL URL without a database name; the harness creates and drops its database.
    #[arg(
        long,
        env = "BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    server_url: String,
    #[arg(long, default_value = "praktijkregister_bench")]
    database: String,
    /// The `praktijkregister` binary; default: the one next to this harness, built when missing.
    #[arg(long)]
    binary: Option<PathBuf>,
    /// Keep the database afterwards (it is dropped by default).
    #[arg(long)]
    keep: bool,
    /// Also write the document to this file.
    #[arg(long)]
    output: Option<PathBuf>,
}

/// The cycle year the figures are asked for: the year of the last complete month.
const YEAR: i32 = 2026;
/// The month the delivery burst delivers (it has begun, DESIGN §3.4).
const BURST_PERIOD: &str = "2026-12";
const REGISTRAR_ID: &str = "bench-registrar";
const REGISTRAR_SECRET: &str = "bench-registrar-secret-0123456789";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (scale, runs, seconds) = match args.scale {
        ScaleName::Smoke => (
            Scale {
                practices: 20,
                months: 24,
            },
            1,
            1,
        ),
        ScaleName::National => (
            Scale {
                practices: 10_000,
                months: 120,
            },
            3,
            10,
        ),
    };
    let scale = Scale {
        practices: args.practices.unwrap_or(scale.practices),
        ..scale
    };
    let runs = args.runs.unwrap_or(runs).max(1);
    let load_for = Duration::from_secs(args.seconds.unwrap_or(seconds));
    let binary = binary(args.binary.clone())?;
    let db_url = format!("{}/{}", args.server_url, args.database);

    pg::recreate_database(&args.server_url, &args.database)?;
    let result = measure(&args, scale, runs, load_for, &binary, &db_url).await;
    if !args.keep {
        pg::drop_database(&args.server_url, &args.database)?;
    }
    let document = result?;
    let text = serde_json::to_string_pretty(&document)?;
    if let Some(path) = &args.output {
        std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
    }
    println!("{text}");
    Ok(())
}

/// The `praktijkregister` binary of the same profile as this harness, built when missing.
fn binary(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(path) = given {
        return Ok(path);
    }
    let own = std::env::current_exe()?;
    let dir = own.parent().context("the harness has no directory")?;
    let path = dir.join("praktijkregister");
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        build.args(["build", "-p", "praktijkregister"]);
        if dir.ends_with("release") {
            build.arg("--release");
        }
        if !build.status()?.success() {
            bail!("building praktijkregister failed");
        }
    }
    Ok(path)
}

fn log(message: &str) {
    eprintln!("bench: {message}");
}

/// Median, range and every run of a list of measurements.
fn spread(values: &[f64]) -> Value {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN);
    json!({
        "median": round(median),
        "min": sorted.first().map(|v| round(*v)),
        "max": sorted.last().map(|v| round(*v)),
        "runs": values.iter().map(|v| round(*v)).collect::<Vec<_>>(),
    })
}

/// A figure beside its same-run baseline: value, baseline and their ratio over the runs.
fn versus(unit: &str, values: &[f64], baseline: &[f64], goal: &str, details: Value) -> Value {
    let ratios: Vec<f64> = values.iter().zip(baseline).map(|(v, b)| v / b).collect();
    json!({
        "unit": unit, "value": spread(values), "baseline": spread(baseline),
        "ratio": spread(&ratios), "goal": goal, "details": details,
    })
}

/// A figure with its goal from DESIGN §7 (no outside program does the same work).
fn against_goal(unit: &str, values: &[f64], goal: &str, details: Value) -> Value {
    json!({"unit": unit, "value": spread(values), "goal": goal, "details": details})
}

struct Service {
    child: Child,
}

impl Service {
    fn rss_kib(&self, field: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(f64::NAN)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        // The harness started it; it ends it.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn service_env(command: &mut Command, db_url: &str, port: u16) {
    command
        .env_remove("PRR_CONFIG_FILE")
        .env("PRR__APP__ENVIRONMENT", "development")
        .env("PRR__LOG__FILTER", "warn")
        .env("PRR__REGISTER__HOST", "127.0.0.1")
        .env("PRR__REGISTER__PORT", port.to_string())
        .env("PRR__REGISTER__DATABASE_URL", db_url)
        .env("PRR__AUTH__ISSUER", format!("http://127.0.0.1:{port}"))
        .env("PRR__AUTH__TOKEN_LIFETIME_SECONDS", "3600")
        .env(
            "PRR__REGISTER__BOOTSTRAP__REGISTRAR_CLIENT_ID",
            REGISTRAR_ID,
        )
        .env(
            "PRR__REGISTER__BOOTSTRAP__REGISTRAR_CLIENT_SECRET",
            REGISTRAR_SECRET,
        )
        // The load comes from one address as fast as it can: measure the service, not the limiter.
        .env("PRR__HTTP__RATE_LIMIT_PER_SECOND", "1000000")
        .env("PRR__HTTP__RATE_LIMIT_BURST", "1000000");
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn measure(
    args: &Args,
    scale: Scale,
    runs: usize,
    load_for: Duration,
    binary: &std::path::Path,
    db_url: &str,
) -> anyhow::Result<Value> {
    let scratch =
        std::env::temp_dir().join(format!("praktijkregister-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let port = free_port()?;

    log("migrating");
    let mut migrate = Command::new(binary);
    migrate.arg("migrate").current_dir(&scratch);
    service_env(&mut migrate, db_url, port);
    if !migrate.stdout(Stdio::null()).status()?.success() {
        bail!("praktijkregister migrate failed");
    }
    log(&format!(
        "generating {} practices, {} months",
        scale.practices, scale.months
    ));
    let first_month = first_month(scale.months);
    let started = Instant::now();
    pg::execute(db_url, &data::generate_sql(scale, &first_month, YEAR))?;
    // As autovacuum leaves a register that has been in use: statistics, the visibility map
    // (index-only scans) and hint bits set. Measured right after a bulk load, every read would
    // also pay for setting them, which a register in service does not.
    pg::execute(db_url, "VACUUM (ANALYZE)")?;
    let generate_seconds = started.elapsed().as_secs_f64();
    let counts: Value = serde_json::from_str(&pg::scalar(db_url, data::COUNTS_SQL)?)?;
    log(&format!("generated in {generate_seconds:.1}s: {counts}"));

    let mut start_to_ready = Vec::new();
    let mut service = None;
    for _ in 0..runs {
        drop(service.take());
        let mut command = Command::new(binary);
        command.args(["serve", "register"]).current_dir(&scratch);
        service_env(&mut command, db_url, port);
        let started = Instant::now();
        let child = command.stdout(Stdio::null()).spawn()?;
        let running = Service { child };
        wait_ready(port).await?;
        start_to_ready.push(started.elapsed().as_secs_f64() * 1000.0);
        service = Some(running);
    }
    let service = service.context("no service")?;
    // Idle: settled after start-up, once the service gave back what start-up freed (2 s).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_idle_start = service.rss_kib("VmRSS:") / 1024.0;

    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let registrar = token(&http, &base, REGISTRAR_ID, REGISTRAR_SECRET).await?;
    let (service_id, service_secret) = create_client(
        &http,
        &base,
        &registrar,
        json!({"name": "bench service", "role": "service"}),
    )
    .await?;
    let (vendor_id, vendor_secret) = create_client(
        &http,
        &base,
        &registrar,
        json!({"name": "bench EPD", "role": "epd_vendor", "epd_vendor": VENDOR}),
    )
    .await?;
    let service_token = token(&http, &base, &service_id, &service_secret).await?;
    let vendor_token = token(&http, &base, &vendor_id, &vendor_secret).await?;

    let p = scale.practices;
    let c = args.connections;
    let pgbench = pg::Pgbench {
        url: db_url.to_string(),
        connections: c,
        seconds: load_for.as_secs().max(1),
    };
    let dir = scratch.clone();
    let mut figures = serde_json::Map::new();

    // Public lookup vs pgbench on its SQL.
    log("public lookup");
    let (mut app, mut base_line, mut details) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let stats = load::run(
            port,
            c,
            Plan::For(load_for),
            Arc::new(move |n| {
                load::get(
                    &format!("/v1/public/practices/{}", practice_agb(n as u32 % p + 1)),
                    None,
                )
            }),
        )
        .await?;
        let bench = pgbench.run(&dir, "public", &pg::public_lookup_script(p, YEAR))?;
        app.push(stats.per_second);
        base_line.push(bench.tps);
        details.push(json!({"service": stats.json(), "pgbench": bench.json()}));
    }
    figures.insert(
        "public_lookup".into(),
        versus(
            "req/s",
            &app,
            &base_line,
            ">= 0.5 of pgbench, p99 <= 10 ms",
            json!(details),
        ),
    );

    // Registrar list vs pgbench on its SQL.
    log("registrar list");
    let (mut app, mut base_line, mut details) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let token = registrar.clone();
        let stats = load::run(
            port,
            c,
            Plan::For(load_for),
            Arc::new(move |_| load::get("/v1/practices?limit=50", Some(&token))),
        )
        .await?;
        let bench = pgbench.run(&dir, "list", pg::REGISTRAR_LIST_SCRIPT)?;
        app.push(stats.per_second);
        base_line.push(bench.tps);
        details.push(json!({"service": stats.json(), "pgbench": bench.json()}));
    }
    figures.insert(
        "registrar_list".into(),
        versus(
            "req/s",
            &app,
            &base_line,
            ">= 0.5 of pgbench, p99 <= 10 ms",
            json!(details),
        ),
    );

    // Delivery burst vs COPY of the same rows.
    log("delivery burst");
    let burst = p.min(2_000);
    let (mut app, mut base_line, mut details) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        let token = vendor_token.clone();
        let stats = load::run(port, c, Plan::Requests(u64::from(burst)), Arc::new(move |n| {
            let practice = n as u32 + 1;
            let rows: Vec<Value> = (1..=THERAPISTS_PER_PRACTICE)
                .map(|k| {
                    json!({"therapist_agb": therapist_agb((practice - 1) * THERAPISTS_PER_PRACTICE + k),
                        "patients": 30, "treatments": 100, "closed_episodes": 10, "treatments_in_closed_episodes": 60,
                        "ldo_records_delivered": 30, "ldo_records_complete": 29, "prem_eligible": 10, "prem_offered": 8,
                        "ldo_upload_date": null})
                })
                .collect();
            let body = json!({"rows": rows}).to_string();
            load::with_body(
                "PUT",
                &format!("/v1/practices/{}/deliveries/{BURST_PERIOD}", practice_agb(practice)),
                &format!("Authorization: Bearer {token}\r\nIdempotency-Key: burst-{run}-{n}\r\n"),
                "application/json",
                body.as_bytes(),
            )
        }))
        .await?;
        let rows = f64::from(burst * THERAPISTS_PER_PRACTICE);
        let copy_seconds = pg::copy_deliveries(
            db_url,
            burst,
            THERAPISTS_PER_PRACTICE,
            &format!("{BURST_PERIOD}-01"),
            1000 + run as i32,
        )?;
        // The same statements straight from pgbench: what a transaction per delivery allows.
        let statements = pgbench.run(
            &dir,
            "delivery",
            &pg::delivery_statements_script(burst, THERAPISTS_PER_PRACTICE, BURST_PERIOD, YEAR),
        )?;
        pg::remove_pgbench_deliveries(db_url)?;
        let statements_rows = statements.tps * f64::from(THERAPISTS_PER_PRACTICE);
        app.push(rows / stats.seconds);
        base_line.push(rows / copy_seconds);
        details.push(json!({"deliveries": burst, "rows": rows, "service": stats.json(), "copy_seconds": round(copy_seconds),
            "statements_pgbench": {"deliveries_per_second": round(statements.tps), "rows_per_second": round(statements_rows),
                "of_copy": round(statements_rows * copy_seconds / rows),
                "service_of_statements": round(rows / stats.seconds / statements_rows)}}));
    }
    figures.insert(
        "delivery_burst".into(),
        versus("rows/s", &app, &base_line, ">= 0.2 of COPY", json!(details)),
    );

    // Evidence feed for the nation, with the service's memory while it streams.
    log("evidence feed");
    let (mut seconds, mut details) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let before = service.rss_kib("VmRSS:");
        let started = Instant::now();
        let response = http
            .get(format!("{base}/v1/internal/evidence/{YEAR}"))
            .bearer_auth(&service_token)
            .send()
            .await?;
        let status = response.status().as_u16();
        let body = response.bytes().await?;
        let elapsed = started.elapsed().as_secs_f64();
        let lines: Vec<&[u8]> = body
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        let trailer: Value = lines
            .last()
            .map(|l| serde_json::from_slice(l))
            .transpose()?
            .unwrap_or(Value::Null);
        if status != 200
            || trailer["end_of_feed"] != true
            || trailer["records"] != json!(lines.len() - 1)
        {
            bail!("the evidence feed was incomplete: status {status}, trailer {trailer}");
        }
        seconds.push(elapsed);
        details.push(json!({"records": lines.len() - 1, "bytes": body.len(), "rss_before_mib": round(before / 1024.0),
            "rss_after_mib": round(service.rss_kib("VmRSS:") / 1024.0),
            "rss_peak_so_far_mib": round(service.rss_kib("VmHWM:") / 1024.0)}));
    }
    figures.insert(
        "evidence_feed".into(),
        against_goal(
            "s",
            &seconds,
            "<= 5 s for the nation, memory bounded",
            json!(details),
        ),
    );

    // Compliance of one practice under load.
    log("compliance");
    let (mut rps, mut p99, mut details) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let token = registrar.clone();
        let stats = load::run(
            port,
            c,
            Plan::For(load_for),
            Arc::new(move |n| {
                load::get(
                    &format!(
                        "/v1/practices/{}/compliance/{YEAR}?criteria=plus",
                        practice_agb(n as u32 % p + 1)
                    ),
                    Some(&token),
                )
            }),
        )
        .await?;
        rps.push(stats.per_second);
        p99.push(stats.p99_ms);
        details.push(stats.json());
    }
    figures.insert(
        "compliance".into(),
        against_goal(
            "req/s",
            &rps,
            ">= 300 req/s at 16 connections",
            json!(details),
        ),
    );
    figures.insert(
        "compliance_p99".into(),
        against_goal("ms", &p99, "<= 50 ms at 16 connections", json!(null)),
    );

    // Benchmark: the first call of a year, the same year again, and 16 first calls at once.
    log("benchmark");
    let (mut cold, mut warm, mut concurrent) = (Vec::new(), Vec::new(), Vec::new());
    let mut details = Vec::new();
    for run in 0..runs {
        let year = YEAR - 1 - run as i32;
        let path = format!("{base}/v1/practices/{}/benchmark/{year}", practice_agb(1));
        let started = Instant::now();
        ok(http.get(&path).bearer_auth(&registrar).send().await?).await?;
        cold.push(started.elapsed().as_secs_f64() * 1000.0);
        let token = registrar.clone();
        let stats = load::run(
            port,
            c,
            Plan::For(load_for),
            Arc::new(move |n| {
                load::get(
                    &format!(
                        "/v1/practices/{}/benchmark/{year}",
                        practice_agb(n as u32 % p + 1)
                    ),
                    Some(&token),
                )
            }),
        )
        .await?;
        warm.push(stats.p50_ms);
        let year = YEAR - 1 - runs as i32 - run as i32;
        let calls: Vec<_> = (0..c)
            .map(|i| {
                let (http, token) = (http.clone(), registrar.clone());
                let url = format!(
                    "{base}/v1/practices/{}/benchmark/{year}",
                    practice_agb(i as u32 % p + 1)
                );
                tokio::spawn(async move {
                    let started = Instant::now();
                    ok(http.get(url).bearer_auth(token).send().await?).await?;
                    anyhow::Ok(started.elapsed().as_secs_f64() * 1000.0)
                })
            })
            .collect();
        let mut slowest = 0f64;
        for call in calls {
            slowest = slowest.max(call.await??);
        }
        concurrent.push(slowest);
        details.push(json!({"cold_year": YEAR - 1 - run as i32, "concurrent_year": year, "warm": stats.json()}));
    }
    figures.insert(
        "benchmark_cold".into(),
        against_goal("ms", &cold, "<= 300 ms", json!(details)),
    );
    figures.insert(
        "benchmark_warm_p50".into(),
        against_goal("ms", &warm, "a cached national figure", json!(null)),
    );
    figures.insert(
        "benchmark_16_concurrent_cold".into(),
        against_goal(
            "ms",
            &concurrent,
            "computed once (single-flight); the slowest of 16",
            json!(null),
        ),
    );

    // The token endpoint.
    log("token endpoint");
    let (mut rps, mut details) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let body = format!(
            "grant_type=client_credentials&client_id={service_id}&client_secret={service_secret}"
        );
        let stats = load::run(
            port,
            c,
            Plan::For(load_for),
            Arc::new(move |_| {
                load::with_body(
                    "POST",
                    "/oauth/token",
                    "",
                    "application/x-www-form-urlencoded",
                    body.as_bytes(),
                )
            }),
        )
        .await?;
        rps.push(stats.per_second);
        details.push(stats.json());
    }
    figures.insert(
        "token_endpoint".into(),
        against_goal(
            "req/s",
            &rps,
            "bounded verification cost (DESIGN §5)",
            json!(details),
        ),
    );

    figures.insert(
        "start_to_ready".into(),
        against_goal("ms", &start_to_ready, "<= 1000 ms", json!(null)),
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle_end = service.rss_kib("VmRSS:") / 1024.0;
    figures.insert(
        "rss_idle".into(),
        against_goal(
            "MiB",
            &[rss_idle_start],
            "<= 30 MiB",
            json!({"after_load_mib": round(rss_idle_end)}),
        ),
    );
    figures.insert(
        "rss_peak".into(),
        against_goal(
            "MiB",
            &[service.rss_kib("VmHWM:") / 1024.0],
            "<= 150 MiB",
            json!(null),
        ),
    );
    drop(service);

    log("visitation planner");
    let (planned, details) = planner::measure(scale.practices as usize, runs);
    figures.insert(
        "visitation_planner".into(),
        against_goal("ms", &planned, "<= 2000 ms for the nation", details),
    );

    log("explain");
    let plans = pg::explain_hot_queries(db_url, p, YEAR)?;
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(json!({
        "harness": "praktijkregister-bench",
        "scale": {"name": format!("{:?}", args.scale).to_lowercase(), "practices": scale.practices,
            "months": scale.months, "runs": runs, "load_seconds": load_for.as_secs(), "connections": c,
            "generate_seconds": round(generate_seconds), "counts": counts},
        "machine": machine(),
        "figures": figures,
        "explain": plans,
    }))
}

async fn ok(response: reqwest::Response) -> anyhow::Result<()> {
    let status = response.status();
    let body = response.text().await?;
    if !status.is_success() {
        bail!("{status}: {body}");
    }
    Ok(())
}

/// The first of `months` months that end with November of `YEAR`.
fn first_month(months: u32) -> String {
    let last = YEAR * 12 + 10; // November, counted from month 0 of year 0
    let first = last - months as i32 + 1;
    format!("{}-{:02}-01", first / 12, first % 12 + 1)
}

async fn wait_ready(port: u16) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(response) = http
            .get(format!("http://127.0.0.1:{port}/health/ready"))
            .send()
            .await
        {
            if response.status().is_success() {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    bail!("the service was not ready within 60 s")
}

async fn token(
    http: &reqwest::Client,
    base: &str,
    id: &str,
    secret: &str,
) -> anyhow::Result<String> {
    let response: Value = http
        .post(format!("{base}/oauth/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    response["access_token"]
        .as_str()
        .map(str::to_string)
        .context("no access_token")
}

async fn create_client(
    http: &reqwest::Client,
    base: &str,
    registrar: &str,
    body: Value,
) -> anyhow::Result<(String, String)> {
    let client: Value = http
        .post(format!("{base}/v1/clients"))
        .bearer_auth(registrar)
        .json(&body)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let field = |name: &str| {
        client[name]
            .as_str()
            .map(str::to_string)
            .with_context(|| format!("no {name}"))
    };
    Ok((field("client_id")?, field("client_secret")?))
}

fn machine() -> Value {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string());
    let memory = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .map(|m| m.trim().to_string());
    json!({
        "cpus": std::thread::available_parallelism().map(usize::from).unwrap_or(0),
        "cpu": cpu, "memory": memory,
        "postgresql": Command::new("pgbench").arg("--version").output().ok().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()),
    })
}
