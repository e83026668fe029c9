//! Transactional outbox (DESIGN §2): events leave a service in the transaction of the change they
//! report, and a relay delivers them at least once, with retries and backoff, to the destination's
//! URL. Nothing is lost when the receiver or the sender restarts: the table is the queue.
//!
//! - [`enqueue`] writes the event on the caller's connection, inside the caller's transaction: the
//!   change and its event commit or roll back together.
//! - [`OutboxRelay`] claims due rows with `FOR UPDATE SKIP LOCKED` (oldest first, a bounded batch)
//!   and holds the claim while it posts them, so replicas sharing one database never deliver the
//!   same row at the same time. A relay that dies mid-way rolls back its claim; the rows are due
//!   again at once. Only rows for a destination with a configured URL are claimed: an event for
//!   a destination that is not configured (yet) stays pending, untouched, until one is.
//! - Answers: a 2xx marks the row `delivered`. A 4xx other than 401, 408 and 429 is a permanent
//!   refusal (the receiver will refuse the same body again): the row becomes `failed`, with the
//!   status and the answer kept for an operator, and is not retried until [`requeue_failed`].
//!   Everything else (no answer, 401, 408, 429, 3xx, 5xx) is retried after an exponential backoff
//!   with full jitter; 401 first makes the [`TokenSource`] drop its cached token.
//! - [`RelayHandle::shutdown`] stops polling and flushes what is due, bounded in time (DESIGN §6:
//!   SIGTERM flushes the outbox relay).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Integer, Nullable, Text};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use praktijkregister_events::Event;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::db::{connection, DbPool};
use crate::error::ApiError;

diesel::table! {
    outbox_events (id) {
        id -> Int8,
        event_id -> Uuid,
        destination -> Text,
        kind -> Text,
        payload -> Jsonb,
        status -> Text,
        attempts -> Int4,
        created_at -> Timestamptz,
        next_attempt_at -> Timestamptz,
        last_attempt_at -> Nullable<Timestamptz>,
        last_status -> Nullable<Int4>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamptz>,
    }
}

/// Row states.
pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const FAILED: &str = "failed";

/// The longest part of an answer or error kept in `last_error`.
const MAX_ERROR_CHARS: usize = 1000;

/// Settings of a service's outbox relay (suggested TOML section `[<service>.outbox]`).
#[derive(Debug, Clone, Deserialize)]
pub struct OutboxSettings {
    /// How long the relay sleeps when nothing was due.
    pub poll_interval_ms: u64,
    /// Rows claimed per pass.
    pub batch_size: u32,
    /// The first retry waits up to this long; each further failure doubles the ceiling ...
    pub backoff_base_ms: u64,
    /// ... up to this.
    pub backoff_max_ms: u64,
    /// One delivery, connect to last byte of the answer.
    pub request_timeout_ms: u64,
    /// How long a shutdown may spend delivering what is due before it gives up (the rest is
    /// delivered after the restart).
    pub flush_timeout_ms: u64,
    /// Destination name (as given to [`enqueue`]) → the URL events are posted to.
    #[serde(default)]
    pub destinations: BTreeMap<String, String>,
}

impl OutboxSettings {
    /// Checks the values; the error names the offending key under `prefix` (`register.outbox`).
    pub fn validate(&self, prefix: &str) -> Result<(), String> {
        let positive = [
            ("poll_interval_ms", self.poll_interval_ms),
            ("batch_size", u64::from(self.batch_size)),
            ("backoff_base_ms", self.backoff_base_ms),
            ("backoff_max_ms", self.backoff_max_ms),
            ("request_timeout_ms", self.request_timeout_ms),
            ("flush_timeout_ms", self.flush_timeout_ms),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(format!("{prefix}.{key} must be greater than 0"));
            }
        }
        if self.batch_size > 10_000 {
            return Err(format!("{prefix}.batch_size must be at most 10000"));
        }
        if self.backoff_max_ms < self.backoff_base_ms {
            return Err(format!(
                "{prefix}.backoff_max_ms must be at least {prefix}.backoff_base_ms"
            ));
        }
        for (name, target) in &self.destinations {
            if name.is_empty() || name.chars().count() > 100 {
                return Err(format!(
                    "{prefix}.destinations: a destination name has 1 to 100 characters"
                ));
            }
            let valid = url::Url::parse(target)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
            if !valid {
                return Err(format!(
                    "{prefix}.destinations.{name} must be an http(s) URL, not {target:?}"
                ));
            }
        }
        Ok(())
    }
}

/// Writes `event` for `destination` on `conn`. Call it inside the transaction of the change the
/// event reports, so that both commit or neither does.
pub async fn enqueue<E: Event>(
    conn: &mut AsyncPgConnection,
    destination: &str,
    event: &E,
) -> Result<(), ApiError> {
    let payload = serde_json::to_value(event).map_err(ApiError::internal)?;
    let inserted = diesel::insert_into(outbox_events::table)
        .values((
            outbox_events::event_id.eq(event.event_id()),
            outbox_events::destination.eq(destination),
            outbox_events::kind.eq(event.kind()),
            outbox_events::payload.eq(&payload),
        ))
        .execute(conn)
        .await;
    match inserted {
        Ok(_) => Ok(()),
        // Enqueueing one event twice for one destination is a bug of the sender, not of its client.
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Err(ApiError::internal(anyhow::anyhow!(
            "event {} is already in the outbox for {destination}",
            event.event_id()
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Where the relay gets the bearer token it sends with each delivery.
#[async_trait::async_trait]
pub trait TokenSource: Send + Sync {
    /// A token valid now; the error says why there is none (kept as the row's `last_error`).
    async fn bearer_token(&self) -> Result<String, String>;

    /// The receiver refused the token (401): forget any cached one.
    async fn invalidate(&self) {}
}

/// A fixed token (tests, or a receiver that takes a configured one).
pub struct StaticToken(pub String);

#[async_trait::async_trait]
impl TokenSource for StaticToken {
    async fn bearer_token(&self) -> Result<String, String> {
        Ok(self.0.clone())
    }
}

/// What one pass of the relay did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Rows claimed.
    pub claimed: usize,
    pub delivered: usize,
    /// Refused for good.
    pub failed: usize,
    /// Kept for a later attempt.
    pub retried: usize,
    /// Not tried in this pass because their destination just failed (still due).
    pub skipped: usize,
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    event_id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    destination: String,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    payload: Value,
    #[diesel(sql_type = Integer)]
    attempts: i32,
}

enum Delivery {
    Delivered(u16),
    Refused(u16, String),
    Retry(Option<u16>, String),
}

/// Delivers the outbox. Build it once per service; [`OutboxRelay::spawn`] runs it in the
/// background, [`OutboxRelay::run_once`] runs one pass (tools and tests).
pub struct OutboxRelay {
    pool: DbPool,
    settings: OutboxSettings,
    tokens: Arc<dyn TokenSource>,
    http: reqwest::Client,
}

impl OutboxRelay {
    pub fn new(
        pool: DbPool,
        settings: OutboxSettings,
        tokens: Arc<dyn TokenSource>,
    ) -> Result<Self, String> {
        settings.validate("outbox")?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.request_timeout_ms))
            // A redirect is a misconfigured destination: retried (and visible), never followed
            // with the token to somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("outbox HTTP client: {e}"))?;
        Ok(Self {
            pool,
            settings,
            tokens,
            http,
        })
    }

    /// One pass: claims up to `batch_size` due rows, oldest first, posts them in order and records
    /// each answer. The claim is held (in one transaction) until the pass ends.
    pub async fn run_once(&self) -> Result<PassReport, ApiError> {
        let mut conn = connection(&self.pool).await?;
        conn.transaction::<_, ApiError, _>(|conn| {
            async move {
                // Only destinations with a URL: an event for a destination not configured (yet)
                // stays pending and untouched, no attempts counted, until one is.
                let destinations: Vec<&str> = self
                    .settings
                    .destinations
                    .keys()
                    .map(String::as_str)
                    .collect();
                let rows: Vec<Claimed> = diesel::sql_query(
                    "SELECT id, event_id, destination, payload, attempts FROM outbox_events \
                     WHERE status = 'pending' AND next_attempt_at <= now() \
                     AND destination = ANY($2) \
                     ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                )
                .bind::<BigInt, _>(i64::from(self.settings.batch_size))
                .bind::<diesel::sql_types::Array<Text>, _>(destinations)
                .load(conn)
                .await?;
                let mut report = PassReport {
                    claimed: rows.len(),
                    ..PassReport::default()
                };
                // A destination that just failed is not tried again in this pass: a dead receiver
                // costs one timeout per pass, not one per row.
                let mut failing: BTreeSet<String> = BTreeSet::new();
                for row in rows {
                    if failing.contains(&row.destination) {
                        report.skipped += 1;
                        continue;
                    }
                    match self.deliver(&row).await {
                        Delivery::Delivered(status) => {
                            mark_delivered(conn, row.id, status).await?;
                            report.delivered += 1;
                        }
                        Delivery::Refused(status, answer) => {
                            tracing::error!(
                                event_id = %row.event_id, destination = %row.destination, status,
                                "the receiver refused an event for good; it is kept as failed"
                            );
                            mark_failed(conn, row.id, status, &answer).await?;
                            report.failed += 1;
                        }
                        Delivery::Retry(status, error) => {
                            let delay = backoff_delay(
                                row.attempts,
                                self.settings.backoff_base_ms,
                                self.settings.backoff_max_ms,
                            );
                            tracing::warn!(
                                event_id = %row.event_id, destination = %row.destination,
                                attempts = row.attempts + 1, retry_in_ms = delay.as_millis() as u64,
                                error = %error, "event delivery failed; it will be retried"
                            );
                            mark_retry(conn, row.id, status, &error, delay).await?;
                            failing.insert(row.destination);
                            report.retried += 1;
                        }
                    }
                }
                Ok(report)
            }
            .scope_boxed()
        })
        .await
    }

    async fn deliver(&self, row: &Claimed) -> Delivery {
        let Some(url) = self.settings.destinations.get(&row.destination) else {
            // Kept pending: the destination may be configured by the next deployment.
            return Delivery::Retry(
                None,
                format!("no URL is configured for destination {:?}", row.destination),
            );
        };
        let token = match self.tokens.bearer_token().await {
            Ok(token) => token,
            Err(e) => return Delivery::Retry(None, format!("no token: {e}")),
        };
        let sent = self
            .http
            .post(url)
            .bearer_auth(token)
            .json(&row.payload)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) => return Delivery::Retry(None, describe(&e)),
        };
        let status = response.status();
        if status.is_success() {
            return Delivery::Delivered(status.as_u16());
        }
        let answer = match response.text().await {
            Ok(text) => truncate(&text),
            Err(e) => describe(&e),
        };
        let code = status.as_u16();
        match code {
            401 => {
                self.tokens.invalidate().await;
                Delivery::Retry(Some(code), answer)
            }
            408 | 429 => Delivery::Retry(Some(code), answer),
            400..=499 => Delivery::Refused(code, answer),
            _ => Delivery::Retry(Some(code), answer),
        }
    }

    /// Runs the relay in the background until [`RelayHandle::shutdown`].
    pub fn spawn(self) -> RelayHandle {
        let (stop, stopped) = watch::channel(false);
        let flush_timeout = Duration::from_millis(self.settings.flush_timeout_ms);
        let task = tokio::spawn(self.run(stopped));
        RelayHandle {
            stop,
            task,
            flush_timeout,
        }
    }

    async fn run(self, mut stopped: watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.settings.poll_interval_ms);
        let batch = self.settings.batch_size as usize;
        loop {
            let more = match self.run_once().await {
                // A full batch: more may be due at once.
                Ok(report) => report.claimed >= batch && report.delivered + report.failed > 0,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox relay pass failed");
                    false
                }
            };
            if *stopped.borrow() {
                break;
            }
            if more {
                tokio::task::yield_now().await;
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(poll) => {}
                // Shutdown asked, or the handle was dropped.
                _ = stopped.changed() => break,
            }
        }
        // The final flush: deliver what is due while deliveries succeed; the handle bounds it.
        loop {
            match self.run_once().await {
                Ok(report) if report.delivered + report.failed > 0 => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox flush failed");
                    break;
                }
            }
        }
    }
}

/// The running relay.
pub struct RelayHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    flush_timeout: Duration,
}

impl RelayHandle {
    /// Stops polling, lets the pass under way finish, delivers what is due, and returns; all of
    /// it within `flush_timeout_ms`. Rows not delivered by then stay pending for the next start.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(self.flush_timeout, &mut self.task)
            .await
            .is_err()
        {
            tracing::warn!(
                "the outbox flush did not finish in time; the rest is sent after the restart"
            );
            self.task.abort();
            let _ = (&mut self.task).await;
        }
    }

    /// Stops at once, as a crash would: a claim under way is rolled back and its rows are due
    /// again for the next relay.
    pub async fn abort(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// The delay before attempt `attempts + 2`, after `attempts + 1` failures: uniform in
/// `[0, min(max, base · 2^attempts)]` ("full jitter"), so that retries of many rows after one
/// outage spread out instead of arriving together.
pub fn backoff_delay(attempts: i32, base_ms: u64, max_ms: u64) -> Duration {
    use rand::Rng as _;
    let ceiling = backoff_ceiling(attempts, base_ms, max_ms);
    Duration::from_millis(rand::thread_rng().gen_range(0..=ceiling))
}

/// The upper bound of [`backoff_delay`]: `min(max, base · 2^attempts)`.
pub fn backoff_ceiling(attempts: i32, base_ms: u64, max_ms: u64) -> u64 {
    let exponent = u32::try_from(attempts.clamp(0, 63)).unwrap_or(0);
    base_ms
        .saturating_mul(2u64.saturating_pow(exponent))
        .min(max_ms)
}

async fn mark_delivered(conn: &mut AsyncPgConnection, id: i64, status: u16) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE outbox_events SET status = 'delivered', attempts = attempts + 1, \
         last_attempt_at = clock_timestamp(), delivered_at = clock_timestamp(), \
         last_status = $2, last_error = NULL WHERE id = $1",
    )
    .bind::<BigInt, _>(id)
    .bind::<Integer, _>(i32::from(status))
    .execute(conn)
    .await
    .map(|_| ())
}

async fn mark_failed(
    conn: &mut AsyncPgConnection,
    id: i64,
    status: u16,
    answer: &str,
) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE outbox_events SET status = 'failed', attempts = attempts + 1, \
         last_attempt_at = clock_timestamp(), last_status = $2, last_error = $3 WHERE id = $1",
    )
    .bind::<BigInt, _>(id)
    .bind::<Integer, _>(i32::from(status))
    .bind::<Text, _>(answer)
    .execute(conn)
    .await
    .map(|_| ())
}

async fn mark_retry(
    conn: &mut AsyncPgConnection,
    id: i64,
    status: Option<u16>,
    error: &str,
    delay: Duration,
) -> QueryResult<()> {
    // The database's clock, as for the claim, so that replicas on other hosts agree on what is due.
    diesel::sql_query(
        "UPDATE outbox_events SET attempts = attempts + 1, last_attempt_at = clock_timestamp(), \
         next_attempt_at = clock_timestamp() + $4 * interval '1 millisecond', \
         last_status = $2, last_error = $3 WHERE id = $1",
    )
    .bind::<BigInt, _>(id)
    .bind::<Nullable<Integer>, _>(status.map(i32::from))
    .bind::<Text, _>(error)
    .bind::<Double, _>(delay.as_millis() as f64)
    .execute(conn)
    .await
    .map(|_| ())
}

fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    // The source chain says why (refused, reset, DNS); the URL is in the settings already.
    let mut text = kind.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    truncate(&text)
}

fn truncate(text: &str) -> String {
    text.chars().take(MAX_ERROR_CHARS).collect()
}

/// Makes failed rows pending again, due now (after the receiver or the event was fixed);
/// `id = None` requeues every failed row. Returns how many.
pub async fn requeue_failed(conn: &mut AsyncPgConnection, id: Option<i64>) -> QueryResult<usize> {
    let rows = outbox_events::table
        .filter(outbox_events::status.eq(FAILED))
        .into_boxed();
    let rows = match id {
        Some(id) => rows.filter(outbox_events::id.eq(id)),
        None => rows,
    };
    let ids: Vec<i64> = rows.select(outbox_events::id).load(conn).await?;
    diesel::update(outbox_events::table.filter(outbox_events::id.eq_any(ids)))
        .set((
            outbox_events::status.eq(PENDING),
            outbox_events::next_attempt_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
}

/// Forgets rows delivered before `before`; returns how many.
pub async fn purge_delivered_before(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::delete(
        outbox_events::table
            .filter(outbox_events::status.eq(DELIVERED))
            .filter(outbox_events::delivered_at.lt(before)),
    )
    .execute(conn)
    .await
}

/// The outbox's state for monitoring.
#[derive(Debug, Clone, Copy, PartialEq, QueryableByName)]
pub struct OutboxStats {
    /// Rows waiting to be delivered.
    #[diesel(sql_type = BigInt)]
    pub pending: i64,
    /// Age of the oldest waiting row; 0 when none waits. A growing value means events are stuck.
    #[diesel(sql_type = Double)]
    pub oldest_age_seconds: f64,
    /// Rows refused for good, waiting for an operator.
    #[diesel(sql_type = BigInt)]
    pub failed: i64,
}

pub async fn stats(conn: &mut AsyncPgConnection) -> QueryResult<OutboxStats> {
    diesel::sql_query(
        "SELECT count(*) FILTER (WHERE status = 'pending') AS pending, \
         COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - min(created_at) FILTER (WHERE status = 'pending')), 0)::float8 \
           AS oldest_age_seconds, \
         count(*) FILTER (WHERE status = 'failed') AS failed \
         FROM outbox_events WHERE status IN ('pending', 'failed')",
    )
    .get_result(conn)
    .await
}

/// The outbox's figures for `/metrics`, labelled with `service`: the totals of [`stats`], and
/// the rows by destination and state (delivered rows count until the retention task purges them).
pub async fn collect_metrics(
    conn: &mut AsyncPgConnection,
    service: &str,
) -> Result<Vec<prometheus::proto::MetricFamily>, ApiError> {
    use crate::metrics::{gauge, gauge_vec};
    #[derive(QueryableByName)]
    struct ByDestination {
        #[diesel(sql_type = Text)]
        destination: String,
        #[diesel(sql_type = Text)]
        status: String,
        #[diesel(sql_type = BigInt)]
        events: i64,
    }
    let stats = stats(conn).await?;
    let rows: Vec<ByDestination> = diesel::sql_query(
        "SELECT destination, status, count(*) AS events FROM outbox_events \
         GROUP BY destination, status ORDER BY destination, status",
    )
    .load(conn)
    .await?;
    let registry = crate::metrics::labelled_registry(service).map_err(ApiError::internal)?;
    gauge(
        &registry,
        "prr_outbox_pending",
        "Events in the outbox waiting to be delivered.",
    )?
    .set(stats.pending as f64);
    gauge(
        &registry,
        "prr_outbox_oldest_pending_age_seconds",
        "Age of the oldest event waiting in the outbox.",
    )?
    .set(stats.oldest_age_seconds.max(0.0));
    gauge(
        &registry,
        "prr_outbox_failed",
        "Events the receiver refused for good, kept for an operator.",
    )?
    .set(stats.failed as f64);
    let events = gauge_vec(
        &registry,
        "prr_outbox_events",
        "Outbox events by destination and state (pending, delivered until purged, failed).",
        &["destination", "status"],
    )?;
    for row in rows {
        events
            .with_label_values(&[row.destination.as_str(), row.status.as_str()])
            .set(row.events as f64);
    }
    Ok(registry.gather())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn settings() -> OutboxSettings {
        OutboxSettings {
            poll_interval_ms: 500,
            batch_size: 50,
            backoff_base_ms: 1000,
            backoff_max_ms: 300_000,
            request_timeout_ms: 5000,
            flush_timeout_ms: 10_000,
            destinations: BTreeMap::from([(
                "register".to_string(),
                "http://127.0.0.1:8081/v1/internal/visitation-outcomes".to_string(),
            )]),
        }
    }

    #[test]
    fn the_backoff_ceiling_doubles_up_to_the_maximum() {
        assert_eq!(backoff_ceiling(0, 1000, 300_000), 1000);
        assert_eq!(backoff_ceiling(1, 1000, 300_000), 2000);
        assert_eq!(backoff_ceiling(5, 1000, 300_000), 32_000);
        assert_eq!(backoff_ceiling(9, 1000, 300_000), 300_000);
        assert_eq!(backoff_ceiling(i32::MAX, 1000, 300_000), 300_000);
        assert_eq!(backoff_ceiling(-1, 1000, 300_000), 1000);
    }

    #[test]
    fn the_delay_is_jittered_below_the_ceiling() {
        let delays: BTreeSet<u128> = (0..200)
            .map(|_| backoff_delay(3, 100, 10_000).as_millis())
            .collect();
        assert!(delays.iter().all(|d| *d <= 800));
        assert!(delays.len() > 20, "spread out: {delays:?}");
    }

    #[test]
    fn valid_settings_pass_and_each_bad_value_is_named() {
        assert_eq!(settings().validate("register.outbox"), Ok(()));
        let mut s = settings();
        s.batch_size = 0;
        assert!(s
            .validate("register.outbox")
            .unwrap_err()
            .contains("register.outbox.batch_size"));
        let mut s = settings();
        s.backoff_max_ms = 10;
        assert!(s
            .validate("register.outbox")
            .unwrap_err()
            .contains("register.outbox.backoff_max_ms"));
        let mut s = settings();
        s.destinations
            .insert("insurer".into(), "ftp://example.org/x".into());
        assert!(s
            .validate("register.outbox")
            .unwrap_err()
            .contains("register.outbox.destinations.insurer"));
    }
}
