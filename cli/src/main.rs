//! `praktijkregister`: serve the services (all in one process, each on its own port, or one),
//! migrate their databases, manage API clients, seed a demonstration register and print the
//! OpenAPI documents. The services are the entries of [`SERVICES`]; adding one is one line here.

mod allocator;
mod export_demo;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use praktijkregister_domain::ClientRole;
use praktijkregister_insurer_export::startup::InsurerExport;
use praktijkregister_platform::audit::Actor;
use praktijkregister_platform::config::{Config, ServerSettings, ServiceDefaults, Settings};
use praktijkregister_platform::http::openapi_json;
use praktijkregister_platform::service::Service as _;
use praktijkregister_platform::service::{self, Entry, Running, ServiceEntry};
use praktijkregister_platform::telemetry;
use praktijkregister_register::clients::NewClientRequest;
use praktijkregister_register::settings::RegisterSettings;
use praktijkregister_register::startup::Register;
use praktijkregister_visitation::startup::Visitation;

/// Every service of the suite, in start order.
const SERVICES: &[&dyn ServiceEntry] = &[
    &Entry::<Register>::NEW,
    &Entry::<Visitation>::NEW,
    &Entry::<InsurerExport>::NEW,
];

#[derive(Parser)]
#[command(
    name = "praktijkregister",
    version,
    about = "The VvOCM practice quality register"
)]
struct Cli {
    /// Configuration file (TOML) on top of the built-in defaults; also PRR_CONFIG_FILE.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run services until stopped (SIGTERM or Ctrl-C).
    Serve {
        /// `all` or a service name.
        #[arg(default_value = "all", value_parser = parse_target)]
        service: Target,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        /// `all` or a service name.
        #[arg(default_value = "all", value_parser = parse_target)]
        service: Target,
    },
    /// Manage API clients.
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// Fill an empty register with demonstration data.
    Seed {
        /// A dozen practices in every state of the cycle, with therapists, KP data and annual plans.
        #[arg(long, required = true)]
        demo: bool,
        /// Empty the databases of every service first (development only): the demo starts over.
        #[arg(long)]
        reset: bool,
    },
    /// Print a fresh access token of a client (one per call: tokens live only minutes).
    Token {
        #[arg(long, env = "PRR_CLIENT_ID")]
        client_id: String,
        #[arg(long, env = "PRR_CLIENT_SECRET", hide_env_values = true)]
        client_secret: String,
        /// Scopes to ask for (repeatable); default: every scope the client may have.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// The token endpoint; default: the configured register's `/oauth/token`.
        #[arg(long)]
        token_url: Option<String>,
    },
    /// The private PostgreSQL cluster the embedded default starts under the data directory.
    LocalDb {
        #[command(subcommand)]
        command: LocalDbCommand,
    },
    /// Work with insurer snapshots.
    Snapshot {
        #[command(subcommand)]
        command: SnapshotCommand,
    },
    /// Print a service's OpenAPI document.
    Openapi {
        #[arg(value_parser = parse_service)]
        service: &'static dyn ServiceEntry,
    },
}

/// Every service, or one.
#[derive(Clone)]
enum Target {
    All,
    One(&'static dyn ServiceEntry),
}

impl Target {
    fn services(&self) -> Vec<&'static dyn ServiceEntry> {
        match self {
            Self::All => SERVICES.to_vec(),
            Self::One(service) => vec![*service],
        }
    }
}

fn parse_service(value: &str) -> Result<&'static dyn ServiceEntry, String> {
    SERVICES
        .iter()
        .copied()
        .find(|service| service.name() == value)
        .ok_or_else(|| {
            let names: Vec<&str> = SERVICES.iter().map(|s| s.name()).collect();
            format!(
                "unknown service `{value}`; the services are: {}",
                names.join(", ")
            )
        })
}

fn parse_target(value: &str) -> Result<Target, String> {
    if value == "all" {
        Ok(Target::All)
    } else {
        parse_service(value).map(Target::One)
    }
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Create an API client and print its id and secret (the secret is shown only now).
    Create {
        #[arg(long, value_parser = parse_role)]
        role: ClientRole,
        #[arg(long)]
        name: String,
        /// For role practice: the practice's AGB code.
        #[arg(long)]
        practice_agb: Option<String>,
        /// For role epd_vendor: the vendor id.
        #[arg(long)]
        epd_vendor: Option<String>,
        /// For role insurer: the UZOVI code.
        #[arg(long)]
        insurer_uzovi: Option<String>,
        /// For role visitor: the visitor id.
        #[arg(long)]
        visitor_id: Option<String>,
        /// Scopes the client may request (repeatable); default: all its role allows.
        #[arg(long = "scope")]
        scopes: Vec<String>,
    },
}

#[derive(Subcommand)]
enum LocalDbCommand {
    /// Whether the private cluster exists and runs, and on which port.
    Status,
    /// Stop the private cluster (it starts again with the next `serve`, `migrate` or `seed`).
    Stop,
}

#[derive(Subcommand)]
enum SnapshotCommand {
    /// Check a downloaded snapshot offline: canonical JSON, its id, and its signature.
    Verify {
        /// The snapshot body as downloaded (JSON).
        file: PathBuf,
        /// The file with the detached JWS (`…/snapshots/{id}/signature`).
        #[arg(long)]
        signature: PathBuf,
        /// The JWK Set: a file, or the URL of the service's `/.well-known/jwks.json`.
        #[arg(long)]
        jwks: String,
    },
}

fn parse_role(value: &str) -> Result<ClientRole, String> {
    ClientRole::parse(value).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    allocator::tune();
    let cli = Cli::parse();
    match start(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line with the cause chain; the details are in the log.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn start(cli: Cli) -> anyhow::Result<()> {
    let defaults: Vec<ServiceDefaults> = SERVICES.iter().map(|s| s.defaults()).collect();
    let config = Config::load(cli.config.as_deref(), &defaults)?;
    let settings = config.common()?;
    telemetry::init(&settings.log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    runtime.block_on(run(cli.command, config, settings))
}

async fn run(command: Command, config: Config, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve { service } => serve(&config, &settings, &service).await,
        Command::Migrate { service } => {
            for service in service.services() {
                service.migrate(&config, &settings).await?;
                println!("{}: database is up to date", service.name());
            }
            Ok(())
        }
        Command::Client { command } => {
            create_client(&settings, &config.server(Register::NAME)?, command).await
        }
        Command::Seed { demo: _, reset } => {
            if reset {
                reset_demo(&config, &settings).await?;
            }
            let server = config.server(Register::NAME)?;
            seed_demo(&settings, &server, &config.section(Register::NAME)?).await?;
            seed_visitation_demo(&settings, &server, &config.server(Visitation::NAME)?).await?;
            export_demo::seed(&config, &settings).await
        }
        Command::Token {
            client_id,
            client_secret,
            scopes,
            token_url,
        } => {
            let url = match token_url {
                Some(url) => url,
                None => format!("{}/oauth/token", register_url(&config)?),
            };
            println!(
                "{}",
                fetch_token(&url, &client_id, &client_secret, &scopes).await?
            );
            Ok(())
        }
        Command::LocalDb { command } => local_db(&settings, command),
        Command::Snapshot {
            command:
                SnapshotCommand::Verify {
                    file,
                    signature,
                    jwks,
                },
        } => verify_snapshot(&file, &signature, &jwks).await,
        Command::Openapi { service } => {
            use std::io::Write as _;
            let document = openapi_json(&service.openapi())?;
            match std::io::stdout().lock().write_all(document.as_bytes()) {
                // A reader that stopped early (`| head`) is not an error of ours.
                Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                written => written.context("could not print the document"),
            }
        }
    }
}

/// Starts every service of `target`, each on its own port, and serves until SIGTERM / Ctrl-C.
async fn serve(config: &Config, settings: &Settings, target: &Target) -> anyhow::Result<()> {
    let mut running: Vec<Running> = Vec::new();
    for service in target.services() {
        let started = service
            .start(config, settings)
            .await
            .with_context(|| format!("the {} service could not start", service.name()))?;
        announce(&started);
        running.push(started);
    }
    let names: Vec<&str> = running.iter().map(|r| r.name).collect();
    let giving_back = tokio::spawn(allocator::give_back_free_memory());
    let results =
        futures_util::future::join_all(running.into_iter().map(Running::run_until_stopped)).await;
    giving_back.abort();
    for (name, result) in names.into_iter().zip(results) {
        result.with_context(|| format!("the {name} service stopped with an error"))?;
        tracing::info!(service = name, "service stopped");
    }
    Ok(())
}

/// The service's URLs and what it asked to show (a development registrar's secret) go to
/// stderr: stdout is the log stream a collector reads, and a secret does not belong in it.
fn announce(started: &Running) {
    eprintln!(
        "{} service: {}  (API docs: {}/docs)",
        started.name, started.base_url, started.base_url
    );
    for line in &started.announcements {
        eprintln!("{line}");
    }
}

async fn create_client(
    settings: &Settings,
    server: &ServerSettings,
    command: ClientCommand,
) -> anyhow::Result<()> {
    let ClientCommand::Create {
        role,
        name,
        practice_agb,
        epd_vendor,
        insurer_uzovi,
        visitor_id,
        scopes,
    } = command;
    let request = NewClientRequest {
        name,
        role,
        practice_agb,
        epd_vendor,
        insurer_uzovi,
        visitor_id,
        scopes: (!scopes.is_empty()).then_some(scopes),
    };
    let new = request.parse().map_err(|e| anyhow::anyhow!(describe(&e)))?;
    let pool = service::migrate::<Register>(settings, server).await?;
    let secret = praktijkregister_register::credentials::generate_secret();
    let hash = praktijkregister_register::credentials::hash_secret(&secret)
        .map_err(|e| anyhow::anyhow!("could not hash the secret: {e}"))?;
    let mut conn = pool.get().await.context("no database connection")?;
    let actor = Actor {
        client_id: "command-line",
        role: "operator",
        on_behalf_of: None,
    };
    let client = praktijkregister_register::clients::create(&mut conn, actor, &new, &hash)
        .await
        .map_err(|e| anyhow::anyhow!(describe(&e)))?;
    println!("client_id={}", client.client_id);
    println!("client_secret={secret}");
    println!("scopes={}", client.scopes.join(" "));
    Ok(())
}

async fn seed_demo(
    settings: &Settings,
    server: &ServerSettings,
    register: &RegisterSettings,
) -> anyhow::Result<()> {
    let pool = service::migrate::<Register>(settings, server).await?;
    let summary =
        praktijkregister_register::demo::seed(&pool, chrono::Utc::now(), &register.cycle.calendar)
            .await?;
    println!(
        "demo register for cycle year {}: {} practices, {} therapists, every state of the cycle",
        summary.cycle_year, summary.practices, summary.therapists
    );
    if let Some(calendar) = summary.calendar_opened {
        println!(
            "the calendar of {} is opened for the demo: annual plans until {}, visitations until {}",
            summary.cycle_year,
            calendar.annual_plan_deadline(),
            calendar.visitation_deadline()
        );
    }
    for client in summary.clients {
        println!(
            "{} client \"{}\": id={}  secret={}",
            client.role, client.name, client.client_id, client.client_secret
        );
    }
    Ok(())
}

/// Empties the databases of every service (development only) and brings back the register's
/// seeded registrar and service clients, so that the demo starts over and a running `serve`
/// keeps its credentials.
async fn reset_demo(config: &Config, settings: &Settings) -> anyhow::Result<()> {
    use praktijkregister_platform::config::Environment;
    if settings.app.environment != Environment::Development {
        anyhow::bail!(
            "`seed --demo --reset` empties every database and runs in development only \
             (app.environment is production)"
        );
    }
    async fn empty<S: service::Service>(
        config: &Config,
        settings: &Settings,
    ) -> anyhow::Result<praktijkregister_platform::db::DbPool> {
        let pool = service::migrate::<S>(settings, &config.server(S::NAME)?).await?;
        let tables = praktijkregister_platform::db::empty_tables(&pool)
            .await
            .map_err(|e| anyhow::anyhow!(describe(&e)))?;
        eprintln!("{}: emptied {} tables", S::NAME, tables.len());
        Ok(pool)
    }
    let register = empty::<Register>(config, settings).await?;
    empty::<Visitation>(config, settings).await?;
    empty::<InsurerExport>(config, settings).await?;
    let section: RegisterSettings = config.section(Register::NAME)?;
    praktijkregister_register::bootstrap::ensure_registrar(settings, &section, &register).await?;
    praktijkregister_register::bootstrap::ensure_service_clients(settings, &section, &register)
        .await?;
    Ok(())
}

/// The register's base URL as the other services reach it.
fn register_url(config: &Config) -> anyhow::Result<String> {
    let server = config.server(Register::NAME)?;
    Ok(format!("http://{}:{}", server.host, server.port))
}

/// A token by the client-credentials grant (HTTP Basic), as any client gets one.
async fn fetch_token(
    url: &str,
    client_id: &str,
    client_secret: &str,
    scopes: &[String],
) -> anyhow::Result<String> {
    let mut form = vec![("grant_type", "client_credentials".to_string())];
    if !scopes.is_empty() {
        form.push(("scope", scopes.join(" ")));
    }
    let response = reqwest::Client::new()
        .post(url)
        .basic_auth(client_id, Some(client_secret))
        .form(&form)
        .send()
        .await
        .with_context(|| format!("could not reach {url}"))?;
    let status = response.status();
    let body: serde_json::Value = response
        .json()
        .await
        .with_context(|| format!("{url} answered {status} without JSON"))?;
    match body["access_token"].as_str() {
        Some(token) if status.is_success() => Ok(token.to_string()),
        _ => anyhow::bail!(
            "no token ({status}): {}",
            body["detail"]
                .as_str()
                .or(body["error_description"].as_str())
                .or(body["error"].as_str())
                .unwrap_or("no reason given")
        ),
    }
}

/// `local-db status` and `local-db stop` on the private cluster under the data directory.
fn local_db(settings: &Settings, command: LocalDbCommand) -> anyhow::Result<()> {
    use praktijkregister_platform::local_postgres::{self, ClusterState};
    let data_dir = &settings.app.data_dir;
    match command {
        LocalDbCommand::Status => {
            let state = local_postgres::cluster_state(data_dir)?;
            match state {
                ClusterState::Absent => println!(
                    "no private cluster under {} (the embedded default uses {} when it answers)",
                    data_dir.display(),
                    settings.database.local_server_url
                ),
                ClusterState::Stopped => {
                    println!("private cluster under {}: stopped", data_dir.display())
                }
                ClusterState::Running { port } => println!(
                    "private cluster under {}: running on port {}",
                    data_dir.display(),
                    port.map_or_else(|| "?".to_string(), |p| p.to_string())
                ),
            }
        }
        LocalDbCommand::Stop => {
            if local_postgres::stop_private_cluster(data_dir)? {
                println!("private cluster under {}: stopped", data_dir.display());
            } else {
                println!(
                    "private cluster under {}: was not running",
                    data_dir.display()
                );
            }
        }
    }
    Ok(())
}

/// Verifies a snapshot file against its signature and a JWK Set (file or URL).
async fn verify_snapshot(
    file: &std::path::Path,
    signature: &std::path::Path,
    jwks: &str,
) -> anyhow::Result<()> {
    let body = std::fs::read(file).with_context(|| format!("could not read {}", file.display()))?;
    let signature = std::fs::read_to_string(signature)
        .with_context(|| format!("could not read {}", signature.display()))?;
    let jwks_text = if jwks.starts_with("http://") || jwks.starts_with("https://") {
        reqwest::get(jwks)
            .await
            .and_then(reqwest::Response::error_for_status)
            .with_context(|| format!("could not fetch {jwks}"))?
            .text()
            .await
            .with_context(|| format!("could not read {jwks}"))?
    } else {
        std::fs::read_to_string(jwks).with_context(|| format!("could not read {jwks}"))?
    };
    let keys: jsonwebtoken::jwk::JwkSet =
        serde_json::from_str(&jwks_text).context("the JWK Set is not valid")?;
    let verified = praktijkregister_insurer_export::verify::verify(&body, &signature, &keys)
        .context("the snapshot does not verify")?;
    println!(
        "valid: snapshot {} signed by key {}",
        verified.id, verified.kid
    );
    Ok(())
}

/// The visitation service's demo beside the register's, and a visitor client for its visitor.
async fn seed_visitation_demo(
    settings: &Settings,
    register: &ServerSettings,
    visitation: &ServerSettings,
) -> anyhow::Result<()> {
    let pool = service::migrate::<Visitation>(settings, visitation).await?;
    let summary = praktijkregister_visitation::demo::seed(&pool, chrono::Utc::now()).await?;
    println!(
        "demo visitation service: visitors {}, a session planned on {}, a visitation held on {} \
         with findings, report and outcome",
        summary.visitors.join(", "),
        summary.planned_on,
        summary.visited_on
    );
    let request = NewClientRequest {
        name: "Demo visitor (demo)".into(),
        role: ClientRole::Visitor,
        practice_agb: None,
        epd_vendor: None,
        insurer_uzovi: None,
        visitor_id: Some(praktijkregister_visitation::demo::DEMO_VISITOR.into()),
        scopes: None,
    };
    let new = request.parse().map_err(|e| anyhow::anyhow!(describe(&e)))?;
    let register_pool = service::migrate::<Register>(settings, register).await?;
    let secret = praktijkregister_register::credentials::generate_secret();
    let hash = praktijkregister_register::credentials::hash_secret(&secret)
        .map_err(|e| anyhow::anyhow!("could not hash the secret: {e}"))?;
    let mut conn = register_pool
        .get()
        .await
        .context("no database connection")?;
    let actor = Actor {
        client_id: "demo",
        role: "operator",
        on_behalf_of: None,
    };
    let client = praktijkregister_register::clients::create(&mut conn, actor, &new, &hash)
        .await
        .map_err(|e| anyhow::anyhow!(describe(&e)))?;
    println!(
        "visitor client \"Demo visitor (demo)\": id={}  secret={secret}",
        client.client_id
    );
    Ok(())
}

/// A problem as one line for the terminal.
fn describe(error: &praktijkregister_platform::error::ApiError) -> String {
    let problem = error.to_problem();
    let fields: Vec<String> = problem
        .errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect();
    if fields.is_empty() {
        problem.detail
    } else {
        fields.join("; ")
    }
}
