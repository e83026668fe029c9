//! `praktijkregister`: serve the services, migrate, manage API clients, print the OpenAPI documents.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use praktijkregister_domain::ClientRole;
use praktijkregister_platform::audit::Actor;
use praktijkregister_platform::config::Settings;
use praktijkregister_platform::http::openapi_json;
use praktijkregister_platform::{service, telemetry};
use praktijkregister_register::clients::NewClientRequest;
use praktijkregister_register::startup::{Application, MIGRATIONS};

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
        #[arg(value_enum, default_value = "all")]
        service: ServiceName,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[arg(value_enum, default_value = "all")]
        service: ServiceName,
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
    },
    /// Print a service's OpenAPI document.
    Openapi {
        #[arg(value_enum)]
        service: DocumentName,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ServiceName {
    All,
    Register,
}

#[derive(Clone, Copy, ValueEnum)]
enum DocumentName {
    Register,
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

fn parse_role(value: &str) -> Result<ClientRole, String> {
    ClientRole::parse(value).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
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
    let settings = Settings::load(cli.config.as_deref())?;
    telemetry::init(&settings.log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    runtime.block_on(run(cli.command, settings))
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve {
            service: ServiceName::All | ServiceName::Register,
        } => serve_register(settings).await,
        Command::Migrate {
            service: ServiceName::All | ServiceName::Register,
        } => {
            let url = service::database_url(&settings, &settings.register).await?;
            service::migrate_and_connect(&settings, &url, MIGRATIONS).await?;
            println!("register: database is up to date");
            Ok(())
        }
        Command::Client { command } => create_client(settings, command).await,
        Command::Seed { demo: _ } => seed_demo(settings).await,
        Command::Openapi {
            service: DocumentName::Register,
        } => {
            print!(
                "{}",
                openapi_json(&praktijkregister_register::startup::openapi())?
            );
            Ok(())
        }
    }
}

async fn serve_register(settings: Settings) -> anyhow::Result<()> {
    let application = Application::build(settings.clone())
        .await
        .context("the register service could not start")?;
    let base = format!("http://{}:{}", settings.register.host, application.port());
    println!("register service: {base}  (API docs: {base}/docs)");
    if let Some(registrar) = application.seeded_registrar() {
        match &registrar.client_secret {
            Some(secret) => println!(
                "registrar client: id={}  secret={secret}",
                registrar.client_id
            ),
            None => println!(
                "registrar client: id={} (secret as configured)",
                registrar.client_id
            ),
        }
    }
    application.run_until_stopped().await?;
    tracing::info!("register service stopped");
    Ok(())
}

async fn create_client(settings: Settings, command: ClientCommand) -> anyhow::Result<()> {
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
    let url = service::database_url(&settings, &settings.register).await?;
    let pool = service::migrate_and_connect(&settings, &url, MIGRATIONS).await?;
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

async fn seed_demo(settings: Settings) -> anyhow::Result<()> {
    let url = service::database_url(&settings, &settings.register).await?;
    let pool = service::migrate_and_connect(&settings, &url, MIGRATIONS).await?;
    let summary =
        praktijkregister_register::demo::seed(&pool, chrono::Utc::now(), &settings.cycle.calendar)
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
