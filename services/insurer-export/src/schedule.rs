//! The automatic build (000: once a year, on the export date, the list goes to the insurers):
//! the service checks now and then whether the export date of the current cycle year has begun
//! (00:00 Europe/Amsterdam, from the register's calendar) and then builds the snapshot of every
//! differentiating insurer that has criteria for the contract year and no snapshot yet. A check
//! after a restart catches up a date that passed while the service was down.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use praktijkregister_domain::{amsterdam_date, deadline_instant, ContractYear};
use praktijkregister_platform::audit::Actor;
use praktijkregister_platform::clock::Clock;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::ApiError;
use praktijkregister_platform::service_client::ServiceClient;
use praktijkregister_platform::signing::TokenSigner;
use serde::Deserialize;
use tokio::sync::watch;

use crate::settings::ScheduleSettings;
use crate::snapshots::{self, Builder};

/// The actor of automatic builds in the audit trail and the snapshots.
const SCHEDULE: Actor<'static> = Actor {
    client_id: "schedule",
    role: "service",
    on_behalf_of: None,
};

/// What the schedule reads of the register's calendar.
#[derive(Debug, Deserialize)]
struct Calendar {
    export_date: NaiveDate,
    contract_year: u16,
}

/// One check at `now`: when the export date of the current cycle year has begun, builds every
/// due snapshot. The snapshots built.
pub async fn run_once(
    pool: &DbPool,
    signer: &TokenSigner,
    register: &ServiceClient,
    now: DateTime<Utc>,
) -> Result<Vec<String>, ApiError> {
    let cycle_year = amsterdam_date(now).year();
    let calendar: Calendar = register
        .get_json(&format!("/v1/cycles/{cycle_year}"))
        .await?;
    if now < deadline_instant(calendar.export_date) {
        return Ok(Vec::new());
    }
    let contract_year = ContractYear::try_from(calendar.contract_year)
        .map_err(|e| ApiError::BadGateway(format!("the register's calendar: {e}")))?;
    let due = {
        let mut conn = connection(pool).await?;
        snapshots::due_insurers(&mut conn, contract_year).await?
    };
    let builder = Builder {
        signer,
        register,
        now,
    };
    let mut built = Vec::new();
    for uzovi in due {
        match builder
            .build(pool, SCHEDULE, &uzovi, contract_year, None)
            .await
        {
            Ok(summary) => {
                tracing::info!(insurer = %uzovi, snapshot = %summary.id, "built the yearly snapshot");
                built.push(summary.id);
            }
            Err(e) => {
                tracing::warn!(insurer = %uzovi, error = %e, "the yearly snapshot could not be built")
            }
        }
    }
    Ok(built)
}

/// Checks every `check_interval_seconds` until `stopped` changes or its sender is dropped.
pub fn spawn(
    pool: DbPool,
    signer: TokenSigner,
    register: Arc<ServiceClient>,
    clock: Arc<dyn Clock>,
    settings: ScheduleSettings,
    mut stopped: watch::Receiver<bool>,
) {
    let interval = Duration::from_secs(settings.check_interval_seconds);
    tokio::spawn(async move {
        loop {
            // The first check waits one interval too: after a start the register's outbox first
            // brings this service's view of the practices up to date.
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                _ = stopped.changed() => break,
            }
            if let Err(e) = run_once(&pool, &signer, &register, clock.now()).await {
                tracing::warn!(error = %e, "the snapshot schedule could not check");
            }
        }
    });
}
