//! (Re)loading this service's copy of the practices, registrations and consents from the
//! register's export directory (DESIGN §2: the register owns them; this service keeps a copy
//! built from its events). The events reach this service only from the moment the register's
//! outbox sends them, so practices the register knew before, or events lost before the outbox
//! existed, are only known after a resync: on start when the copy is empty, and on the
//! registrar's `POST /v1/internal/resync`.
//!
//! A resync changes the copy, never the change feed: the feed lists the changes the register
//! reported as events, each once. Every row of the directory carries the time of its last change,
//! the same as the `occurred_at` of the event that reported it; a row is written only when it is
//! newer than the copy's, so a resync never undoes a newer event and a second resync writes
//! nothing, while an event delivered after the resync still applies (events apply at the same time
//! too) and its change is recorded, once.

use std::time::Duration;

use actix_web::{post, web, HttpResponse};
use diesel::sql_types::{Bool, Integer, Jsonb, Nullable, Text, Timestamptz};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_events::{ExportDirectory, ExportDirectoryPractice};
use praktijkregister_platform::audit::{self, Actor, AuditEvent};
use praktijkregister_platform::auth::Principal;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::{ApiError, Problem};
use praktijkregister_platform::service_client::ServiceClient;
use praktijkregister_scopes::insurer_export as scopes;
use serde::Serialize;
use tokio::sync::watch;
use utoipa::ToSchema;

use crate::startup::ExportContext;

/// Where the register answers its export directory.
const DIRECTORY: &str = "/v1/internal/export-directory";

/// The actor of the resync on start in the audit trail.
const ON_START: Actor<'static> = Actor {
    client_id: "resync-on-start",
    role: "service",
    on_behalf_of: None,
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(post_resync);
}

/// What a resync read and how much of the copy it changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({
    "practices": 412, "registrations": 803, "consents": 97,
    "written": {"practices": 3, "registrations": 5, "consents": 0}
}))]
pub struct ResyncReport {
    /// Practices in the register's directory.
    pub practices: usize,
    /// Registrations (all cycle years) in it.
    pub registrations: usize,
    /// Consents in it.
    pub consents: usize,
    /// Rows of the copy written: new, or newer than the copy's.
    pub written: Written,
}

/// Rows written per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Written {
    pub practices: usize,
    pub registrations: usize,
    pub consents: usize,
}

/// Resync the copy of the register
///
/// Internal, for the registrar: reads the register's export directory (every practice with its
/// registrations per cycle year and its consents) and writes it into this service's copy, from
/// which the snapshots are built. Idempotent: a row is written only when it is new or newer than
/// the copy's, so a newer event is never undone; the change feed is not touched (it lists only
/// the changes the register reported as events, each once). The service does the same by itself
/// when it starts with an empty copy. In the audit trail.
#[utoipa::path(
    tag = "Internal",
    responses(
        (status = 200, description = "The copy is up to date with the register", body = ResyncReport),
        (status = 502, description = "The register answered badly", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The register cannot be read", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "The register did not answer in time", body = Problem, content_type = "application/problem+json"),
    ),
    security(("oauth2" = ["register-copy:resync"]))
)]
#[post("/v1/internal/resync")]
pub async fn post_resync(
    ctx: web::Data<ExportContext>,
    principal: Principal,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    principal.require(scopes::REGISTER_COPY_RESYNC)?;
    let report = resync(&pool, &ctx.register, (&principal).into()).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// Reads the register's directory and writes it into the copy, in one transaction with its
/// audit event.
pub async fn resync(
    pool: &DbPool,
    register: &ServiceClient,
    actor: Actor<'_>,
) -> Result<ResyncReport, ApiError> {
    let directory: ExportDirectory = register.get_json(DIRECTORY).await?;
    let mut conn = connection(pool).await?;
    let directory = &directory;
    audit::transaction(&mut conn, actor, move |conn| {
        async move {
            let report = write(conn, directory).await?;
            let event = AuditEvent::success("register_copy.resync", "register_copy", "all")
                .with_detail(serde_json::to_value(&report).map_err(ApiError::internal)?);
            Ok((report, event))
        }
        .scope_boxed()
    })
    .await
}

async fn write(
    conn: &mut AsyncPgConnection,
    directory: &ExportDirectory,
) -> Result<ResyncReport, ApiError> {
    let mut report = ResyncReport {
        practices: directory.practices.len(),
        ..ResyncReport::default()
    };
    for practice in &directory.practices {
        report.registrations += practice.registrations.len();
        report.consents += practice.consents.len();
        write_practice(conn, practice, &mut report.written).await?;
    }
    Ok(report)
}

async fn write_practice(
    conn: &mut AsyncPgConnection,
    practice: &ExportDirectoryPractice,
    written: &mut Written,
) -> Result<(), ApiError> {
    let locations = serde_json::to_value(&practice.locations).map_err(ApiError::internal)?;
    written.practices += diesel::sql_query(
        "INSERT INTO practices (agb, name, kvk_number, tier, locations, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (agb) DO UPDATE \
         SET name = EXCLUDED.name, kvk_number = EXCLUDED.kvk_number, tier = EXCLUDED.tier, \
         locations = EXCLUDED.locations, updated_at = EXCLUDED.updated_at \
         WHERE practices.updated_at < EXCLUDED.updated_at",
    )
    .bind::<Text, _>(&practice.agb)
    .bind::<Text, _>(&practice.name)
    .bind::<Text, _>(&practice.kvk_number)
    .bind::<Text, _>(&practice.tier)
    .bind::<Jsonb, _>(&locations)
    .bind::<Timestamptz, _>(practice.updated_at)
    .execute(conn)
    .await?;
    for r in &practice.registrations {
        written.registrations += diesel::sql_query(
            "INSERT INTO registrations (practice_agb, cycle_year, state, registered_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (practice_agb, cycle_year) DO UPDATE \
             SET state = EXCLUDED.state, registered_at = EXCLUDED.registered_at, \
             updated_at = EXCLUDED.updated_at WHERE registrations.updated_at < EXCLUDED.updated_at",
        )
        .bind::<Text, _>(&practice.agb)
        .bind::<Integer, _>(i32::from(r.cycle_year))
        .bind::<Text, _>(&r.state)
        .bind::<Nullable<Timestamptz>, _>(r.registered_at)
        .bind::<Timestamptz, _>(r.updated_at)
        .execute(conn)
        .await?;
    }
    for c in &practice.consents {
        written.consents += diesel::sql_query(
            "INSERT INTO consents (practice_agb, insurer_uzovi, given, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (practice_agb, insurer_uzovi) DO UPDATE \
             SET given = EXCLUDED.given, updated_at = EXCLUDED.updated_at \
             WHERE consents.updated_at < EXCLUDED.updated_at",
        )
        .bind::<Text, _>(&practice.agb)
        .bind::<Text, _>(&c.insurer_uzovi)
        .bind::<Bool, _>(c.given)
        .bind::<Timestamptz, _>(c.updated_at)
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// Whether the copy holds no practice yet (a new database, or one never synced).
pub async fn copy_is_empty(conn: &mut AsyncPgConnection) -> Result<bool, ApiError> {
    #[derive(diesel::QueryableByName)]
    struct Exists {
        #[diesel(sql_type = Bool)]
        exists: bool,
    }
    let row: Exists = diesel::sql_query("SELECT EXISTS (SELECT 1 FROM practices) AS exists")
        .get_result(conn)
        .await?;
    Ok(!row.exists)
}

/// On start: when the copy is empty, resyncs it, trying again every `retry_interval` until it
/// succeeds (the register may start after this service) or `stopped` changes.
pub fn spawn_on_start(
    pool: DbPool,
    register: std::sync::Arc<ServiceClient>,
    retry_interval: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    tokio::spawn(async move {
        loop {
            match resync_if_empty(&pool, &register).await {
                Ok(Some(report)) => {
                    tracing::info!(
                        practices = report.practices,
                        "loaded the copy of the register"
                    );
                    break;
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "the copy of the register could not be loaded")
                }
            }
            tokio::select! {
                () = tokio::time::sleep(retry_interval) => {}
                _ = stopped.changed() => break,
            }
        }
    });
}

/// Resyncs when the copy is empty; `None` when it was not.
pub async fn resync_if_empty(
    pool: &DbPool,
    register: &ServiceClient,
) -> Result<Option<ResyncReport>, ApiError> {
    let empty = {
        let mut conn = connection(pool).await?;
        copy_is_empty(&mut conn).await?
    };
    if !empty {
        return Ok(None);
    }
    resync(pool, register, ON_START).await.map(Some)
}
