//! Re-verification runs: every therapist with an active membership of a practice is looked up in
//! the Kwaliteitsregister Paramedici through the configured verifier (DESIGN §3.1), so that the
//! register knows on the days that count that every therapist is still kwaliteitsgeregistreerd
//! (000, 001 Voorwaarden Basisovereenkomst, condition 1; DESIGN §3.2).
//!
//! - A run is a row of `kp_verification_runs` with one item per therapist, written when it starts;
//!   an item is pending until checked. At most one run is `running` (a unique index).
//! - One runner at a time works on it: the runner holds a PostgreSQL advisory lock on a
//!   connection of its own for the whole run. A runner that stops (a restart) releases it with
//!   its connection; the scheduler of any replica then takes the run up again with the items
//!   still pending (`resumptions`), so a run is never silently lost.
//! - Requests to KP are bounded: `concurrency` at a time, at most `requests_per_second`, a
//!   timeout or 5xx answer retried after a jittered backoff, and the run stops after
//!   `stop_after_failures` therapists in a row could not be verified.
//! - A change is stored with its audit line (the run as source) in one transaction. A therapist
//!   who becomes kwaliteitsgeregistreerd re-checks the registrations waiting for KP; one who stops
//!   being it leaves a granted registration as it is, changes the practices' compliance from that
//!   day, and is reported to the insurer export (`kp_registration_lost`, through the outbox).
//! - Every run, however it ends, re-judges the registrations waiting for KP on the day it ends:
//!   stored data can become valid without a change (a period starting that day), and a lacking
//!   therapist's membership can have ended.
//! - A completed run announces the registrations that entered the expiry window
//!   (`kp_registration_expiring`), once per therapist and registration period.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::sql_types::{BigInt, Bool, Date, Integer, Jsonb, Nullable, Text, Timestamptz};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt as _;
use praktijkregister_domain::{
    amsterdam_date, CalendarDefaults, CycleYear, KpNumber, KpStatus, OefentherapieAgb, TherapistKp,
};
use praktijkregister_events::{KpEvent, KpEventKind, KpState, INSURER_EXPORT};
use praktijkregister_platform::audit::{self, Actor, AuditEvent};
use praktijkregister_platform::clock::Clock;
use praktijkregister_platform::db::{connection, decode, DbPool};
use praktijkregister_platform::error::ApiError;
use praktijkregister_platform::outbox;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::schedule::{latest_slot, KpVerificationSettings};
use super::verifier::{KpRecord, KpVerifier, KpVerifyError};
use crate::registrations::lifecycle;

/// The advisory lock a runner holds while it works on a run ("KPRUNS").
const RUN_LOCK: i64 = 0x4b50_5255_4e53;
/// The actor of the audit lines a run writes.
pub const RUN_ACTOR: &str = "kp-verification-run";

/// How a run was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunTrigger {
    /// By the schedule of `[register.kp_verification]`.
    Schedule,
    /// By the registrar.
    Manual,
}

praktijkregister_domain::wire_names!(RunTrigger, error = UnknownName, unknown = UnknownName, {
    Schedule = "schedule",
    Manual = "manual",
});

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Under way (or waiting to be taken up again after a restart).
    Running,
    /// Every therapist was checked.
    Completed,
    /// Cancelled by the registrar; the therapists not yet checked stay pending.
    Cancelled,
    /// Stopped on repeated failure (see `stop_reason`), so that KP is not hammered.
    Stopped,
}

praktijkregister_domain::wire_names!(RunState, error = UnknownName, unknown = UnknownName, {
    Running = "running",
    Completed = "completed",
    Cancelled = "cancelled",
    Stopped = "stopped",
});

/// What the check of one therapist found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemOutcome {
    /// KP says what the register already knew.
    Unchanged,
    /// Status or period changed; `before` and `after` say how.
    Changed,
    /// KP does not know the number (any more): stored as `not_registered`.
    NotFound,
    /// KP could not be asked or answered badly; see `reason`. Nothing was stored.
    Failed,
}

praktijkregister_domain::wire_names!(ItemOutcome, error = UnknownName, unknown = UnknownName, {
    Unchanged = "unchanged",
    Changed = "changed",
    NotFound = "not_found",
    Failed = "failed",
});

/// A stored name that is not one of the enum's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a known name")]
pub struct UnknownName;

/// Counts of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema, QueryableByName)]
pub struct RunTotals {
    /// Therapists the run set out to check.
    #[diesel(sql_type = BigInt)]
    pub therapists: i64,
    /// Checked so far (every outcome).
    #[diesel(sql_type = BigInt)]
    pub checked: i64,
    #[diesel(sql_type = BigInt)]
    pub unchanged: i64,
    #[diesel(sql_type = BigInt)]
    pub changed: i64,
    #[diesel(sql_type = BigInt)]
    pub not_found: i64,
    #[diesel(sql_type = BigInt)]
    pub failed: i64,
    /// Not checked (yet): still to come, or left by a cancelled or stopped run.
    #[diesel(sql_type = BigInt)]
    pub pending: i64,
}

/// A run and its counts.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d12", "trigger": "schedule", "state": "completed",
    "requested_by": "schedule", "scheduled_for": "2026-10-12T01:00:00Z",
    "started_at": "2026-10-12T01:00:04Z", "finished_at": "2026-10-12T01:07:41Z",
    "cancel_requested_by": null, "stop_reason": null, "resumptions": 0,
    "totals": {"therapists": 1200, "checked": 1200, "unchanged": 1187, "changed": 9, "not_found": 2, "failed": 2, "pending": 0}
}))]
pub struct RunSummary {
    pub id: Uuid,
    pub trigger: RunTrigger,
    pub state: RunState,
    /// The client that started it, or `schedule`.
    pub requested_by: String,
    /// The slot of the schedule a scheduled run belongs to.
    pub scheduled_for: Option<DateTime<Utc>>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The client that asked to cancel it.
    pub cancel_requested_by: Option<String>,
    /// Why a stopped run stopped.
    pub stop_reason: Option<String>,
    /// How often the run was taken up again after its runner stopped (a restart).
    pub resumptions: i32,
    pub totals: RunTotals,
}

/// One therapist of a run.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunItem {
    pub therapist_agb: String,
    pub kp_number: String,
    pub outcome: ItemOutcome,
    /// What the register knew before the check.
    pub before: Option<KpState>,
    /// What KP said; absent for a failure.
    pub after: Option<KpState>,
    /// Why the check failed.
    pub reason: Option<String>,
    /// Requests made to KP for this therapist.
    pub attempts: i32,
    pub checked_at: Option<DateTime<Utc>>,
}

/// A run's report: its counts, and every therapist whose KP data changed, who was not found in
/// KP, or who could not be checked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunReport {
    #[serde(flatten)]
    pub summary: RunSummary,
    pub changed: Vec<RunItem>,
    pub not_found: Vec<RunItem>,
    pub failed: Vec<RunItem>,
}

#[derive(QueryableByName)]
struct RunRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    trigger: String,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Text)]
    requested_by: String,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    scheduled_for: Option<DateTime<Utc>>,
    #[diesel(sql_type = Timestamptz)]
    started_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    finished_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    cancel_requested_by: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    stop_reason: Option<String>,
    #[diesel(sql_type = Integer)]
    executions: i32,
    #[diesel(sql_type = BigInt)]
    therapists: i64,
    #[diesel(sql_type = BigInt)]
    checked: i64,
    #[diesel(sql_type = BigInt)]
    unchanged: i64,
    #[diesel(sql_type = BigInt)]
    changed: i64,
    #[diesel(sql_type = BigInt)]
    not_found: i64,
    #[diesel(sql_type = BigInt)]
    failed: i64,
}

const RUN_COLUMNS: &str = "r.id, r.trigger, r.state, r.requested_by, r.scheduled_for, r.started_at, \
    r.finished_at, r.cancel_requested_by, r.stop_reason, r.executions, \
    (SELECT count(*) FROM kp_verification_run_items i WHERE i.run_id = r.id) AS therapists, \
    (SELECT count(*) FROM kp_verification_run_items i WHERE i.run_id = r.id AND i.outcome IS NOT NULL) AS checked, \
    (SELECT count(*) FROM kp_verification_run_items i WHERE i.run_id = r.id AND i.outcome = 'unchanged') AS unchanged, \
    (SELECT count(*) FROM kp_verification_run_items i WHERE i.run_id = r.id AND i.outcome = 'changed') AS changed, \
    (SELECT count(*) FROM kp_verification_run_items i WHERE i.run_id = r.id AND i.outcome = 'not_found') AS not_found, \
    (SELECT count(*) FROM kp_verification_run_items i WHERE i.run_id = r.id AND i.outcome = 'failed') AS failed";

impl RunRow {
    fn summary(self) -> Result<RunSummary, ApiError> {
        Ok(RunSummary {
            id: self.id,
            trigger: decode(
                "kp_verification_runs.trigger",
                &self.trigger,
                RunTrigger::parse,
            )?,
            state: decode("kp_verification_runs.state", &self.state, RunState::parse)?,
            requested_by: self.requested_by,
            scheduled_for: self.scheduled_for,
            started_at: self.started_at,
            finished_at: self.finished_at,
            cancel_requested_by: self.cancel_requested_by,
            stop_reason: self.stop_reason,
            resumptions: (self.executions - 1).max(0),
            totals: RunTotals {
                therapists: self.therapists,
                checked: self.checked,
                unchanged: self.unchanged,
                changed: self.changed,
                not_found: self.not_found,
                failed: self.failed,
                pending: self.therapists - self.checked,
            },
        })
    }
}

#[derive(QueryableByName)]
struct ItemRow {
    #[diesel(sql_type = Text)]
    therapist_agb: String,
    #[diesel(sql_type = Text)]
    kp_number: String,
    #[diesel(sql_type = Text)]
    outcome: String,
    #[diesel(sql_type = Nullable<Jsonb>)]
    before: Option<serde_json::Value>,
    #[diesel(sql_type = Nullable<Jsonb>)]
    after: Option<serde_json::Value>,
    #[diesel(sql_type = Nullable<Text>)]
    reason: Option<String>,
    #[diesel(sql_type = Integer)]
    attempts: i32,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    checked_at: Option<DateTime<Utc>>,
}

fn kp_state(field: &str, value: Option<serde_json::Value>) -> Result<Option<KpState>, ApiError> {
    value
        .map(|v| {
            serde_json::from_value(v).map_err(|e| {
                ApiError::internal(anyhow::anyhow!("kp_verification_run_items.{field}: {e}"))
            })
        })
        .transpose()
}

/// One run with its counts; `None` when there is no such run.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<RunSummary>, ApiError> {
    diesel::sql_query(format!(
        "SELECT {RUN_COLUMNS} FROM kp_verification_runs r WHERE r.id = $1"
    ))
    .bind::<diesel::sql_types::Uuid, _>(id)
    .get_result::<RunRow>(conn)
    .await
    .optional()?
    .map(RunRow::summary)
    .transpose()
}

/// The full report of a run.
pub async fn report(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<RunReport>, ApiError> {
    let Some(summary) = find(conn, id).await? else {
        return Ok(None);
    };
    let rows: Vec<ItemRow> = diesel::sql_query(
        "SELECT therapist_agb, kp_number, outcome, before, after, reason, attempts, checked_at \
         FROM kp_verification_run_items WHERE run_id = $1 AND outcome IN ('changed', 'not_found', 'failed') \
         ORDER BY therapist_agb",
    )
    .bind::<diesel::sql_types::Uuid, _>(id)
    .load(conn)
    .await?;
    let mut report = RunReport {
        summary,
        changed: Vec::new(),
        not_found: Vec::new(),
        failed: Vec::new(),
    };
    for row in rows {
        let outcome = decode(
            "kp_verification_run_items.outcome",
            &row.outcome,
            ItemOutcome::parse,
        )?;
        let item = RunItem {
            therapist_agb: row.therapist_agb,
            kp_number: row.kp_number,
            outcome,
            before: kp_state("before", row.before)?,
            after: kp_state("after", row.after)?,
            reason: row.reason,
            attempts: row.attempts,
            checked_at: row.checked_at,
        };
        match outcome {
            ItemOutcome::Changed => report.changed.push(item),
            ItemOutcome::NotFound => report.not_found.push(item),
            ItemOutcome::Failed => report.failed.push(item),
            ItemOutcome::Unchanged => {}
        }
    }
    Ok(Some(report))
}

/// A page of runs, newest first, after `(started_at, id)`.
pub async fn list(
    conn: &mut AsyncPgConnection,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<RunSummary>, ApiError> {
    let rows: Vec<RunRow> = diesel::sql_query(format!(
        "SELECT {RUN_COLUMNS} FROM kp_verification_runs r \
         WHERE ($1::timestamptz IS NULL OR (r.started_at, r.id) < ($1, $2)) \
         ORDER BY r.started_at DESC, r.id DESC LIMIT $3"
    ))
    .bind::<Nullable<Timestamptz>, _>(after.map(|a| a.0))
    .bind::<diesel::sql_types::Uuid, _>(after.map_or(Uuid::nil(), |a| a.1))
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?;
    rows.into_iter().map(RunRow::summary).collect()
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
}

/// The run under way, if any.
pub async fn running(conn: &mut AsyncPgConnection) -> Result<Option<Uuid>, ApiError> {
    Ok(
        diesel::sql_query("SELECT id FROM kp_verification_runs WHERE state = 'running'")
            .get_result::<IdRow>(conn)
            .await
            .optional()?
            .map(|row| row.id),
    )
}

/// Why a run could not be started.
#[derive(Debug)]
pub enum StartError {
    /// Another run is under way (on this replica or another).
    InProgress(Uuid),
    /// The schedule's slot already has its run.
    SlotTaken,
    Failed(ApiError),
}

impl From<ApiError> for StartError {
    fn from(error: ApiError) -> Self {
        Self::Failed(error)
    }
}

impl From<diesel::result::Error> for StartError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Failed(error.into())
    }
}

/// Paces requests: at most one per `interval`, however many tasks ask.
struct Pace {
    interval: Duration,
    next: tokio::sync::Mutex<tokio::time::Instant>,
}

impl Pace {
    fn new(interval: Duration) -> Self {
        Self {
            interval,
            next: tokio::sync::Mutex::new(tokio::time::Instant::now()),
        }
    }

    async fn wait(&self) {
        let at = {
            let mut next = self.next.lock().await;
            let at = (*next).max(tokio::time::Instant::now());
            *next = at + self.interval;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

/// What one check found, before it is stored.
enum Checked {
    Record(KpRecord, i32),
    Failed(String, i32),
    /// No verifier is configured: the run cannot do anything.
    NotConfigured,
}

#[derive(QueryableByName)]
struct PendingItem {
    #[diesel(sql_type = Text)]
    therapist_agb: String,
    #[diesel(sql_type = Text)]
    kp_number: String,
}

#[derive(QueryableByName)]
struct StoredKp {
    #[diesel(sql_type = Nullable<Text>)]
    kp_number: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    kp_status: Option<String>,
    #[diesel(sql_type = Nullable<Date>)]
    kp_valid_from: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Date>)]
    kp_valid_until: Option<NaiveDate>,
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

/// Starts, runs, resumes and cancels verification runs; one per register process.
pub struct KpRuns {
    pool: DbPool,
    verifier: Arc<dyn KpVerifier>,
    clock: Arc<dyn Clock>,
    settings: KpVerificationSettings,
    calendar: CalendarDefaults,
}

impl KpRuns {
    pub fn new(
        pool: DbPool,
        verifier: Arc<dyn KpVerifier>,
        clock: Arc<dyn Clock>,
        settings: KpVerificationSettings,
        calendar: CalendarDefaults,
    ) -> Self {
        Self {
            pool,
            verifier,
            clock,
            settings,
            calendar,
        }
    }

    pub fn settings(&self) -> &KpVerificationSettings {
        &self.settings
    }

    /// Creates a run over every therapist with a KP number and a membership active today, and
    /// starts working on it in the background.
    pub async fn start(
        self: &Arc<Self>,
        trigger: RunTrigger,
        scheduled_for: Option<DateTime<Utc>>,
        requested_by: &str,
        actor: Actor<'_>,
    ) -> Result<RunSummary, StartError> {
        let id = self
            .create(trigger, scheduled_for, requested_by, actor)
            .await?;
        let runs = Arc::clone(self);
        tokio::spawn(async move {
            if let Err(error) = runs.execute(id).await {
                tracing::error!(run_id = %id, error = %error, "the KP verification run failed; it is taken up again");
            }
        });
        let mut conn = connection(&self.pool).await?;
        find(&mut conn, id)
            .await?
            .ok_or_else(|| StartError::Failed(ApiError::internal(anyhow::anyhow!("run vanished"))))
    }

    /// Writes the run and its items; the run is `running` and nobody works on it yet.
    pub async fn create(
        &self,
        trigger: RunTrigger,
        scheduled_for: Option<DateTime<Utc>>,
        requested_by: &str,
        actor: Actor<'_>,
    ) -> Result<Uuid, StartError> {
        let id = Uuid::now_v7();
        let now = self.clock.now();
        let today = amsterdam_date(now);
        let mut conn = connection(&self.pool).await?;
        let created = audit::transaction(&mut conn, actor, |conn| {
            async move {
                diesel::sql_query(
                    "INSERT INTO kp_verification_runs (id, trigger, scheduled_for, requested_by, state, started_at) \
                     VALUES ($1, $2, $3, $4, 'running', $5)",
                )
                .bind::<diesel::sql_types::Uuid, _>(id)
                .bind::<Text, _>(trigger.as_str())
                .bind::<Nullable<Timestamptz>, _>(scheduled_for)
                .bind::<Text, _>(requested_by)
                .bind::<Timestamptz, _>(now)
                .execute(conn)
                .await?;
                let therapists = diesel::sql_query(
                    "INSERT INTO kp_verification_run_items (run_id, therapist_agb, kp_number) \
                     SELECT DISTINCT $1::uuid, t.agb, t.kp_number FROM therapists t \
                     JOIN practice_memberships m ON m.therapist_agb = t.agb \
                     WHERE t.kp_number IS NOT NULL AND m.start_date <= $2 \
                       AND (m.end_date IS NULL OR m.end_date >= $2)",
                )
                .bind::<diesel::sql_types::Uuid, _>(id)
                .bind::<Date, _>(today)
                .execute(conn)
                .await?;
                let event = AuditEvent::success("kp.run.start", "kp_verification_run", id.to_string())
                    .with_detail(serde_json::json!({
                        "trigger": trigger.as_str(),
                        "scheduled_for": scheduled_for,
                        "therapists": therapists,
                    }));
                Ok((id, event))
            }
            .scope_boxed()
        })
        .await;
        match created {
            Ok(id) => Ok(id),
            // A unique index refused the run: one is running, or the slot has its run.
            Err(ApiError::Conflict { .. }) => {
                let mut conn = connection(&self.pool).await?;
                match running(&mut conn).await? {
                    Some(running) => Err(StartError::InProgress(running)),
                    None if scheduled_for.is_some() => Err(StartError::SlotTaken),
                    None => Err(StartError::Failed(ApiError::conflict(
                        "a KP verification run was started at the same moment; start again",
                    ))),
                }
            }
            Err(error) => Err(StartError::Failed(error)),
        }
    }

    /// Works on run `id` until every therapist is checked, it is cancelled, or it stops. Returns
    /// `None` at once when another runner holds the run (on this replica or another).
    pub async fn execute(self: Arc<Self>, id: Uuid) -> Result<Option<RunState>, ApiError> {
        // The lock lives on a connection taken out of the pool: it goes (and the lock with it)
        // when the runner ends, however it ends.
        let pooled = connection(&self.pool).await?;
        let mut lock_conn = diesel_async::pooled_connection::deadpool::Object::take(pooled);
        let locked: Locked = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked")
            .bind::<BigInt, _>(RUN_LOCK)
            .get_result(&mut lock_conn)
            .await?;
        if !locked.locked {
            return Ok(None);
        }
        let taken = diesel::sql_query(
            "UPDATE kp_verification_runs SET executions = executions + 1 \
             WHERE id = $1 AND state = 'running' RETURNING id",
        )
        .bind::<diesel::sql_types::Uuid, _>(id)
        .get_result::<IdRow>(&mut lock_conn)
        .await
        .optional()?;
        if taken.is_none() {
            return Ok(None);
        }
        let outcome = self.work(id).await;
        drop(lock_conn);
        outcome.map(Some)
    }

    async fn work(&self, id: Uuid) -> Result<RunState, ApiError> {
        let pending: Vec<PendingItem> = {
            let mut conn = connection(&self.pool).await?;
            diesel::sql_query(
                "SELECT therapist_agb, kp_number FROM kp_verification_run_items \
                 WHERE run_id = $1 AND outcome IS NULL ORDER BY therapist_agb",
            )
            .bind::<diesel::sql_types::Uuid, _>(id)
            .load(&mut conn)
            .await?
        };
        let pace = Pace::new(self.settings.request_interval());
        let halt = AtomicBool::new(false);
        let consecutive_failures = AtomicU32::new(0);
        let stop_reason: Mutex<Option<String>> = Mutex::new(None);
        let cancelled = AtomicBool::new(false);
        let concurrency = self.settings.concurrency.max(1) as usize;
        let results: Vec<Result<(), ApiError>> = futures_util::stream::iter(pending)
            .map(|item| {
                let (pace, halt, failures, stop_reason, cancelled) =
                    (&pace, &halt, &consecutive_failures, &stop_reason, &cancelled);
                async move {
                    if AtomicBool::load(halt, Ordering::SeqCst) {
                        return Ok(());
                    }
                    if self.cancel_requested(id).await? {
                        cancelled.store(true, Ordering::SeqCst);
                        halt.store(true, Ordering::SeqCst);
                        return Ok(());
                    }
                    let checked = self.check(&item, pace).await;
                    let failed = match &checked {
                        Checked::NotConfigured => {
                            halt.store(true, Ordering::SeqCst);
                            if let Ok(mut reason) = stop_reason.lock() {
                                *reason = Some("no KP verifier is configured".into());
                            }
                            return Ok(());
                        }
                        Checked::Failed(reason, _) => Some(reason.clone()),
                        Checked::Record(..) => None,
                    };
                    self.record(id, &item, checked).await?;
                    match failed {
                        None => failures.store(0, Ordering::SeqCst),
                        Some(reason) => {
                            let in_a_row = failures.fetch_add(1, Ordering::SeqCst) + 1;
                            if in_a_row >= self.settings.stop_after_failures
                                && !halt.swap(true, Ordering::SeqCst)
                            {
                                if let Ok(mut stop) = stop_reason.lock() {
                                    *stop = Some(format!(
                                        "{in_a_row} therapists in a row could not be verified; the last: {reason}"
                                    ));
                                }
                            }
                        }
                    }
                    Ok(())
                }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        results.into_iter().collect::<Result<Vec<()>, ApiError>>()?;
        let stop_reason = stop_reason.lock().ok().and_then(|mut r| r.take());
        let state = if AtomicBool::load(&cancelled, Ordering::SeqCst) {
            RunState::Cancelled
        } else if stop_reason.is_some() {
            RunState::Stopped
        } else {
            RunState::Completed
        };
        if state == RunState::Completed {
            self.announce_expiries(id).await?;
        }
        self.finish(id, state, stop_reason.as_deref()).await?;
        Ok(state)
    }

    async fn cancel_requested(&self, id: Uuid) -> Result<bool, ApiError> {
        let mut conn = connection(&self.pool).await?;
        let row = diesel::sql_query(
            "SELECT cancel_requested_by IS NOT NULL AS locked FROM kp_verification_runs WHERE id = $1",
        )
        .bind::<diesel::sql_types::Uuid, _>(id)
        .get_result::<Locked>(&mut conn)
        .await?;
        Ok(row.locked)
    }

    /// Asks KP, paced, retrying a timeout or a 5xx after a jittered backoff.
    async fn check(&self, item: &PendingItem, pace: &Pace) -> Checked {
        let number = match KpNumber::parse(&item.kp_number) {
            Ok(number) => number,
            Err(e) => return Checked::Failed(format!("the stored KP number is not valid: {e}"), 0),
        };
        let mut attempts = 0;
        loop {
            pace.wait().await;
            attempts += 1;
            match self.verifier.verify(&number).await {
                Ok(record) => return Checked::Record(record, attempts),
                Err(KpVerifyError::NotConfigured) => return Checked::NotConfigured,
                Err(error)
                    if error.is_transient()
                        && u32::try_from(attempts).unwrap_or(u32::MAX)
                            < self.settings.max_attempts =>
                {
                    let delay = outbox::backoff_delay(
                        attempts - 1,
                        self.settings.retry_backoff_ms,
                        self.settings.retry_backoff_max_ms,
                    );
                    tokio::time::sleep(delay).await;
                }
                Err(error) => return Checked::Failed(error.to_string(), attempts),
            }
        }
    }

    /// Stores what the check found, with its consequences, in one transaction.
    async fn record(&self, id: Uuid, item: &PendingItem, checked: Checked) -> Result<(), ApiError> {
        let now = self.clock.now();
        let today = amsterdam_date(now);
        let mut conn = connection(&self.pool).await?;
        let (record, attempts) = match checked {
            Checked::Record(record, attempts) => (record, attempts),
            Checked::Failed(reason, attempts) => {
                return mark_item(
                    &mut conn,
                    id,
                    &item.therapist_agb,
                    ItemOutcome::Failed,
                    None,
                    None,
                    Some(&reason),
                    attempts,
                )
                .await;
            }
            Checked::NotConfigured => return Ok(()),
        };
        let actor = Actor {
            client_id: RUN_ACTOR,
            role: "system",
            on_behalf_of: None,
        };
        let agb = item.therapist_agb.as_str();
        let kp_number = item.kp_number.as_str();
        let clock_now = now;
        conn.transaction::<_, ApiError, _>(|conn| {
            async move {
                let stored: Option<StoredKp> = diesel::sql_query(
                    "SELECT kp_number, kp_status, kp_valid_from, kp_valid_until FROM therapists \
                     WHERE agb = $1 FOR UPDATE",
                )
                .bind::<Text, _>(agb)
                .get_result(conn)
                .await
                .optional()?;
                let Some(stored) = stored.filter(|s| s.kp_number.as_deref() == Some(kp_number)) else {
                    return mark_item(
                        conn,
                        id,
                        agb,
                        ItemOutcome::Failed,
                        None,
                        None,
                        Some("the therapist's KP number changed or the therapist was removed during the run"),
                        attempts,
                    )
                    .await;
                };
                let before_status = stored
                    .kp_status
                    .as_deref()
                    .map(|s| decode("therapists.kp_status", s, KpStatus::parse))
                    .transpose()?;
                let before = KpState {
                    status: stored.kp_status.clone(),
                    valid_from: stored.kp_valid_from,
                    valid_until: stored.kp_valid_until,
                };
                let after = KpState {
                    status: Some(record.status.as_str().to_owned()),
                    valid_from: record.valid_from,
                    valid_until: record.valid_until,
                };
                let outcome = if record.status == KpStatus::NotRegistered {
                    ItemOutcome::NotFound
                } else if before == after {
                    ItemOutcome::Unchanged
                } else {
                    ItemOutcome::Changed
                };
                let number = decode("therapists.kp_number", kp_number, KpNumber::parse)?;
                let therapist = decode("therapists.agb", agb, OefentherapieAgb::parse)?;
                super::repository::store_verification(conn, &therapist, &number, &record).await?;
                if before != after {
                    let was = TherapistKp {
                        therapist_agb: agb,
                        status: before_status,
                        valid_from: before.valid_from,
                        valid_until: before.valid_until,
                    }
                    .kwaliteitsgeregistreerd_on(today);
                    let is = TherapistKp {
                        therapist_agb: agb,
                        status: Some(record.status),
                        valid_from: record.valid_from,
                        valid_until: record.valid_until,
                    }
                    .kwaliteitsgeregistreerd_on(today);
                    if !was && is {
                        // Registrations waiting for KP data become registered, as after an import.
                        lifecycle::after_kp_change(conn, &[], &[agb.to_owned()], RUN_ACTOR, clock_now)
                            .await?;
                    }
                    if was && !is {
                        // A registration granted for the year stays; the practices' compliance
                        // changes from today, and the insurer export hears of it.
                        let practices = active_practices(conn, agb, today).await?;
                        outbox::enqueue(
                            conn,
                            INSURER_EXPORT,
                            &KpEvent {
                                event_id: Uuid::now_v7(),
                                kind: KpEventKind::KpRegistrationLost,
                                therapist_agb: agb.to_owned(),
                                kp_number: Some(kp_number.to_owned()),
                                practice_agbs: practices,
                                before: before.clone(),
                                after: after.clone(),
                                effective_on: today,
                                run_id: id,
                            },
                        )
                        .await?;
                    }
                    let event = AuditEvent::success("kp.verify", "therapist", agb).with_detail(
                        serde_json::json!({
                            "source": "kp_verification_run",
                            "run_id": id,
                            "kp_number": kp_number,
                            "before": before,
                            "after": after,
                            "kwaliteitsgeregistreerd": {"before": was, "after": is},
                        }),
                    );
                    audit::record(conn, actor, &event).await?;
                }
                mark_item(
                    conn,
                    id,
                    agb,
                    outcome,
                    Some(&before),
                    Some(&after),
                    None,
                    attempts,
                )
                .await
            }
            .scope_boxed()
        })
        .await
    }

    /// Enqueues `kp_registration_expiring` for each registration that entered the window,
    /// once per therapist and registration period.
    async fn announce_expiries(&self, id: Uuid) -> Result<(), ApiError> {
        let today = amsterdam_date(self.clock.now());
        let window = self.settings.expiry_window_days;
        let mut conn = connection(&self.pool).await?;
        conn.transaction::<_, ApiError, _>(|conn| {
            async move {
                let expiring = super::expiries::within(conn, today, window, None, None, i64::MAX).await?;
                for therapist in expiring {
                    let inserted = diesel::sql_query(
                        "INSERT INTO kp_expiry_notices (therapist_agb, valid_until, run_id) VALUES ($1, $2, $3) \
                         ON CONFLICT DO NOTHING",
                    )
                    .bind::<Text, _>(&therapist.therapist_agb)
                    .bind::<Date, _>(therapist.valid_until)
                    .bind::<diesel::sql_types::Uuid, _>(id)
                    .execute(conn)
                    .await?;
                    if inserted == 0 {
                        continue;
                    }
                    let state = KpState {
                        status: Some(KpStatus::Kwaliteitsgeregistreerd.as_str().to_owned()),
                        valid_from: therapist.valid_from,
                        valid_until: Some(therapist.valid_until),
                    };
                    outbox::enqueue(
                        conn,
                        INSURER_EXPORT,
                        &KpEvent {
                            event_id: Uuid::now_v7(),
                            kind: KpEventKind::KpRegistrationExpiring,
                            therapist_agb: therapist.therapist_agb.clone(),
                            kp_number: therapist.kp_number.clone(),
                            practice_agbs: therapist.practice_agbs.clone(),
                            before: state.clone(),
                            after: state,
                            effective_on: today,
                            run_id: id,
                        },
                    )
                    .await?;
                }
                Ok(())
            }
            .scope_boxed()
        })
        .await
    }

    async fn finish(
        &self,
        id: Uuid,
        state: RunState,
        stop_reason: Option<&str>,
    ) -> Result<(), ApiError> {
        let mut conn = connection(&self.pool).await?;
        let actor = Actor {
            client_id: RUN_ACTOR,
            role: "system",
            on_behalf_of: None,
        };
        let now = self.clock.now();
        audit::transaction(&mut conn, actor, |conn| {
            async move {
                diesel::sql_query(
                    "UPDATE kp_verification_runs SET state = $2, finished_at = $3, stop_reason = $4 \
                     WHERE id = $1 AND state = 'running'",
                )
                .bind::<diesel::sql_types::Uuid, _>(id)
                .bind::<Text, _>(state.as_str())
                .bind::<Timestamptz, _>(now)
                .bind::<Nullable<Text>, _>(stop_reason)
                .execute(conn)
                .await?;
                // KP data unchanged by the run may have become valid since they were stored (a
                // period that started today), or a lacking therapist's membership ended: every
                // registration waiting for KP is judged again on today, and one released goes
                // to the insurer export like any other (the outbox, in this transaction).
                let released = lifecycle::recheck_awaiting_kp(
                    conn,
                    None,
                    amsterdam_date(now),
                    lifecycle::Cause {
                        actor_client_id: RUN_ACTOR,
                        reason: None,
                        at: now,
                    },
                )
                .await?;
                let summary = find(conn, id).await?;
                let event = AuditEvent::success("kp.run.finish", "kp_verification_run", id.to_string())
                    .with_detail(serde_json::json!({
                        "state": state.as_str(),
                        "stop_reason": stop_reason,
                        "totals": summary.map(|s| s.totals),
                        "registered": released
                            .iter()
                            .map(|(agb, year)| serde_json::json!({"practice_agb": agb, "cycle_year": year}))
                            .collect::<Vec<_>>(),
                    }));
                Ok(((), event))
            }
            .scope_boxed()
        })
        .await
    }

    /// Asks the runner of `id` to stop taking therapists; it finishes the run as `cancelled`.
    pub async fn cancel(&self, id: Uuid, actor: Actor<'_>) -> Result<RunSummary, ApiError> {
        let mut conn = connection(&self.pool).await?;
        let requested_by = actor.client_id.to_owned();
        audit::transaction(&mut conn, actor, |conn| {
            async move {
                let updated = diesel::sql_query(
                    "UPDATE kp_verification_runs SET cancel_requested_by = COALESCE(cancel_requested_by, $2) \
                     WHERE id = $1 AND state = 'running' RETURNING id",
                )
                .bind::<diesel::sql_types::Uuid, _>(id)
                .bind::<Text, _>(&requested_by)
                .get_result::<IdRow>(conn)
                .await
                .optional()?;
                let summary = find(conn, id).await?;
                let event = AuditEvent::success("kp.run.cancel", "kp_verification_run", id.to_string());
                match (updated, summary) {
                    (Some(_), Some(summary)) => Ok((summary, event)),
                    (None, Some(summary)) => Err(ApiError::Conflict {
                        detail: format!("run {id} is {} already", summary.state.as_str()),
                        extensions: serde_json::Map::from_iter([(
                            "state".to_string(),
                            serde_json::json!(summary.state),
                        )]),
                    }),
                    (_, None) => Err(ApiError::not_found("KP verification run", id)),
                }
            }
            .scope_boxed()
        })
        .await
    }

    /// One look of the scheduler: takes up a run whose runner stopped, or starts the run of the
    /// latest due slot of the schedule.
    pub async fn tick(self: &Arc<Self>) -> Result<(), ApiError> {
        let running = {
            let mut conn = connection(&self.pool).await?;
            running(&mut conn).await?
        };
        if let Some(id) = running {
            // Returns at once when a runner holds it; else takes it up where it stopped.
            if let Some(state) = Arc::clone(self).execute(id).await? {
                tracing::info!(run_id = %id, state = state.as_str(), "a KP verification run was taken up again and ended");
            }
            return Ok(());
        }
        if !self.settings.enabled {
            return Ok(());
        }
        let now = self.clock.now();
        let mut deadlines = std::collections::HashMap::new();
        let mut conn = connection(&self.pool).await?;
        let today_year = chrono::Datelike::year(&amsterdam_date(now));
        for year in [today_year - 1, today_year] {
            let Ok(cycle) = u16::try_from(year)
                .map_err(|_| ())
                .and_then(|y| CycleYear::new(y).map_err(|_| ()))
            else {
                continue;
            };
            let (calendar, _) =
                crate::cycles::repository::calendar_for(&mut conn, cycle, &self.calendar).await?;
            deadlines.insert(
                year,
                vec![calendar.visitation_deadline(), calendar.export_date()],
            );
        }
        drop(conn);
        let schedule = self.settings.schedule();
        let Some(slot) = latest_slot(&schedule, now, chrono::Duration::hours(23), |year| {
            deadlines.get(&year).cloned().unwrap_or_default()
        }) else {
            return Ok(());
        };
        let actor = Actor {
            client_id: RUN_ACTOR,
            role: "system",
            on_behalf_of: None,
        };
        let id = match self
            .create(RunTrigger::Schedule, Some(slot), "schedule", actor)
            .await
        {
            Ok(id) => id,
            Err(StartError::InProgress(_) | StartError::SlotTaken) => return Ok(()),
            Err(StartError::Failed(error)) => return Err(error),
        };
        tracing::info!(run_id = %id, %slot, "scheduled KP verification run started");
        Arc::clone(self).execute(id).await?;
        Ok(())
    }

    /// The scheduler: looks every `check_interval_seconds` until `stop` turns true.
    pub fn spawn_scheduler(
        self: Arc<Self>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let interval = Duration::from_secs(self.settings.check_interval_seconds);
        tokio::spawn(async move {
            loop {
                if let Err(error) = self.tick().await {
                    tracing::warn!(error = %error, "the KP verification scheduler could not look for due runs");
                }
                tokio::select! {
                    () = tokio::time::sleep(interval) => {}
                    _ = stop.changed() => break,
                }
                if *stop.borrow() {
                    break;
                }
            }
        })
    }
}

#[allow(clippy::too_many_arguments)]
async fn mark_item(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    agb: &str,
    outcome: ItemOutcome,
    before: Option<&KpState>,
    after: Option<&KpState>,
    reason: Option<&str>,
    attempts: i32,
) -> Result<(), ApiError> {
    let json = |state: Option<&KpState>| state.map(serde_json::to_value).transpose();
    diesel::sql_query(
        "UPDATE kp_verification_run_items SET outcome = $3, before = $4, after = $5, reason = $6, \
         attempts = $7, checked_at = now() WHERE run_id = $1 AND therapist_agb = $2",
    )
    .bind::<diesel::sql_types::Uuid, _>(id)
    .bind::<Text, _>(agb)
    .bind::<Text, _>(outcome.as_str())
    .bind::<Nullable<Jsonb>, _>(json(before).map_err(ApiError::internal)?)
    .bind::<Nullable<Jsonb>, _>(json(after).map_err(ApiError::internal)?)
    .bind::<Nullable<Text>, _>(reason)
    .bind::<Integer, _>(attempts)
    .execute(conn)
    .await?;
    Ok(())
}

/// The practices `agb` works at on `on`.
async fn active_practices(
    conn: &mut AsyncPgConnection,
    agb: &str,
    on: NaiveDate,
) -> Result<Vec<String>, ApiError> {
    #[derive(QueryableByName)]
    struct Practice {
        #[diesel(sql_type = Text)]
        practice_agb: String,
    }
    let rows: Vec<Practice> = diesel::sql_query(
        "SELECT practice_agb FROM practice_memberships WHERE therapist_agb = $1 \
         AND start_date <= $2 AND (end_date IS NULL OR end_date >= $2) ORDER BY practice_agb",
    )
    .bind::<Text, _>(agb)
    .bind::<Date, _>(on)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|p| p.practice_agb).collect())
}

/// The runs' figures for `/metrics`, from the run table.
pub struct RunMetrics;

#[async_trait::async_trait]
impl praktijkregister_platform::metrics::MetricsSource for RunMetrics {
    async fn collect(
        &self,
        conn: &mut AsyncPgConnection,
        registry: &praktijkregister_platform::metrics::prometheus::Registry,
    ) -> Result<(), ApiError> {
        use praktijkregister_platform::metrics::gauge_vec;
        #[derive(QueryableByName)]
        struct ByState {
            #[diesel(sql_type = Text)]
            state: String,
            #[diesel(sql_type = BigInt)]
            runs: i64,
        }
        let by_state: Vec<ByState> = diesel::sql_query(
            "SELECT state, count(*) AS runs FROM kp_verification_runs GROUP BY state ORDER BY state",
        )
        .load(conn)
        .await?;
        let latest: Option<RunRow> = diesel::sql_query(format!(
            "SELECT {RUN_COLUMNS} FROM kp_verification_runs r ORDER BY r.started_at DESC, r.id DESC LIMIT 1"
        ))
        .get_result(conn)
        .await
        .optional()?;
        let runs = gauge_vec(
            registry,
            "prr_kp_verification_runs",
            "KP verification runs by state.",
            &["state"],
        )?;
        for state in RunState::ALL {
            let count = by_state
                .iter()
                .find(|r| r.state == state.as_str())
                .map_or(0, |r| r.runs);
            runs.with_label_values(&[state.as_str()]).set(count as f64);
        }
        if let Some(latest) = latest {
            let summary = latest.summary()?;
            let therapists = gauge_vec(
                registry,
                "prr_kp_verification_last_run_therapists",
                "Therapists of the latest KP verification run by outcome.",
                &["outcome"],
            )?;
            let t = &summary.totals;
            for (outcome, value) in [
                ("unchanged", t.unchanged),
                ("changed", t.changed),
                ("not_found", t.not_found),
                ("failed", t.failed),
                ("pending", t.pending),
            ] {
                therapists.with_label_values(&[outcome]).set(value as f64);
            }
            gauge_vec(
                registry,
                "prr_kp_verification_last_run_started_seconds",
                "Start of the latest KP verification run (Unix time).",
                &["state"],
            )?
            .with_label_values(&[summary.state.as_str()])
            .set(summary.started_at.timestamp() as f64);
        }
        Ok(())
    }
}
