//! The insurer-export part of `seed --demo`: the insurers with their criteria sets and a webhook,
//! and their 1 November snapshots, built the way the running suite builds them, so that the
//! README's insurer walkthrough works as soon as the suite is served.
//!
//! The snapshot lists the practices of the export service's own view, which the register's
//! outbox brings it (DESIGN §2: no service reads another's tables), and judges them on the
//! register's evidence feed. So for the moment of the build both services are started on free
//! loopback ports, the register's outbox is delivered to the export service, and each demo
//! insurer's snapshot is built as the registrar builds it by hand; then both stop. Events
//! delivered here are delivered: the served suite does not report them again after the snapshot.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context as _;
use praktijkregister_insurer_export::demo;
use praktijkregister_insurer_export::settings::ExportSettings;
use praktijkregister_insurer_export::snapshots::{self, Builder};
use praktijkregister_insurer_export::startup::{ExportContext, InsurerExport};
use praktijkregister_insurer_export::webhooks::sealing::SecretKey;
use praktijkregister_platform::audit::Actor;
use praktijkregister_platform::config::{Config, Settings};
use praktijkregister_platform::outbox::OutboxRelay;
use praktijkregister_platform::service::{self, Running, Service as _};
use praktijkregister_platform::service_client::ServiceClient;
use praktijkregister_platform::signing::TokenSigner;
use praktijkregister_register::settings::RegisterSettings;
use praktijkregister_register::startup::Register;

/// The actor of the demo's builds in the audit trail and the snapshots.
const DEMO: Actor<'static> = Actor {
    client_id: "demo",
    role: "registrar",
    on_behalf_of: None,
};

/// How many passes of the register's outbox the demo waits for at most.
const MAX_PASSES: usize = 100;

/// Seeds the insurers, criteria sets and webhook, and builds the snapshot of every demo insurer
/// that has none. Prints what it did.
pub async fn seed(config: &Config, settings: &Settings) -> anyhow::Result<()> {
    let mut register_server = config.server(Register::NAME)?;
    register_server.host = "127.0.0.1".into();
    register_server.port = 0;
    let mut register_section: RegisterSettings = config.section(Register::NAME)?;
    // Only what the build needs: no relay of its own, no KP runs, no criteria reads.
    register_section.outbox.destinations.clear();
    register_section.kp_verifier.base_url = String::new();
    register_section.insurer_export.base_url = String::new();
    let register = service::start::<Register>(settings, &register_server, &register_section)
        .await
        .context("the register could not start for the demo's snapshots")?;
    let register_url = register.base_url.clone();
    let register = Serving::new(register);

    let mut export_settings = settings.clone();
    export_settings.auth.jwks_url = format!("{register_url}/.well-known/jwks.json");
    let mut export_server = config.server(InsurerExport::NAME)?;
    export_server.host = "127.0.0.1".into();
    export_server.port = 0;
    let mut export_section: ExportSettings = config.section(InsurerExport::NAME)?;
    export_section.register_url = register_url.clone();
    export_section.service_client.token_url = format!("{register_url}/oauth/token");
    export_section.schedule.enabled = false;
    export_section.resync.on_start = false;
    let export = service::start::<InsurerExport>(&export_settings, &export_server, &export_section)
        .await
        .context("the insurer-export service could not start for the demo's snapshots")?;
    let export_url = export.base_url.clone();
    let export = Serving::new(export);

    let built = build(
        config,
        settings,
        &register_section,
        &register_url,
        &export_settings,
        &export_section,
        &export_url,
    )
    .await;
    export.stop().await;
    register.stop().await;
    built
}

async fn build(
    config: &Config,
    settings: &Settings,
    register_section: &RegisterSettings,
    register_url: &str,
    export_settings: &Settings,
    export_section: &ExportSettings,
    export_url: &str,
) -> anyhow::Result<()> {
    // The register's outbox, delivered to this export service until it is empty.
    let mut outbox = register_section.outbox.clone();
    outbox.destinations = BTreeMap::from([(
        praktijkregister_events::INSURER_EXPORT.to_string(),
        format!("{export_url}/v1/internal/register-events"),
    )]);
    let mut client = register_section
        .service_client
        .clone()
        .for_environment(settings)
        .map_err(|e| anyhow::anyhow!(e))?;
    client.token_url = format!("{register_url}/oauth/token");
    let tokens = ServiceClient::new(client).map_err(|e| anyhow::anyhow!(e))?;
    let register_pool =
        service::migrate::<Register>(settings, &config.server(Register::NAME)?).await?;
    let relay = OutboxRelay::new(register_pool, outbox, Arc::new(tokens))
        .map_err(|e| anyhow::anyhow!("the register's outbox: {e}"))?;
    let mut delivered = 0;
    for _ in 0..MAX_PASSES {
        let pass = relay
            .run_once()
            .await
            .map_err(|e| anyhow::anyhow!("the register's outbox: {e}"))?;
        anyhow::ensure!(
            pass.failed + pass.retried == 0,
            "the register's events did not reach the insurer-export service ({pass:?})"
        );
        delivered += pass.delivered;
        if pass.claimed == 0 {
            break;
        }
    }

    let pool =
        service::migrate::<InsurerExport>(settings, &config.server(InsurerExport::NAME)?).await?;
    let key = SecretKey::from_settings(settings, &export_section.webhooks)?;
    let now = chrono::Utc::now();
    let summary = demo::seed(&pool, &key, now).await?;
    let year = summary.contract_year;
    match summary.webhook_secret {
        Some(secret) => println!(
            "insurer export: insurers 3311 Zilveren Kruis (plus), 7095 VGZ (ldi) and 9664 CZ \
             (plus, ceiling 140) with criteria for {year}; a webhook of {} to {} with \
             secret={secret}",
            demo::DEMO_INSURER,
            demo::DEMO_WEBHOOK_URL
        ),
        None => println!("insurer export: insurers exist already; none seeded"),
    }

    let register = ExportContext::register_client(export_settings, export_section)?;
    let signer = TokenSigner::from_settings(settings)?;
    let builder = Builder {
        signer: &signer,
        register: &register,
        now,
    };
    let due = {
        let mut conn = pool.get().await.context("no database connection")?;
        snapshots::due_insurers(&mut conn, year).await?
    };
    for uzovi in &due {
        let built = builder.build(&pool, DEMO, uzovi, year, None).await?;
        println!(
            "insurer export: the 1 November snapshot of {uzovi} for {year}: {} practices, id {}",
            built.practices, built.id
        );
    }
    if due.is_empty() {
        println!("insurer export: every snapshot of {year} exists already");
    }
    tracing::info!(
        events = delivered,
        "the register's events reached the insurer export"
    );
    Ok(())
}

/// A service serving in the background until [`Serving::stop`].
struct Serving {
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Serving {
    fn new(running: Running) -> Self {
        let handle = running.handle();
        Self {
            handle,
            task: tokio::spawn(running.run_until_stopped()),
        }
    }

    async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.task.await;
    }
}
