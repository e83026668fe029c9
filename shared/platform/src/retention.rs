//! The retention task every service runs: stored `Idempotency-Key` answers, delivered outbox
//! events and inbox events are removed once they are older than the configured retention
//! (`[retention]`), so that the tables do not grow for ever. Pending and failed outbox events
//! are never removed: they are still to be delivered, or wait for an operator.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::db::{self, DbPool};
use crate::error::ApiError;
use crate::metrics::Metrics;

/// `[retention]`: how often the task runs and how long each kind of row is kept.
#[derive(Debug, Clone, Deserialize)]
pub struct RetentionSettings {
    /// Time between two runs; the first runs at start-up.
    pub interval_seconds: u64,
    /// Stored answers of `Idempotency-Key` requests: a retry later than this is a new request.
    pub idempotency_key_hours: u64,
    /// Delivered outbox events (kept for inspection only).
    pub outbox_delivered_days: u64,
    /// Received inbox events: a repeat delivery later than this would be applied again, so keep
    /// them longer than any sender retries.
    pub inbox_days: u64,
}

/// Rows removed by one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub idempotency_keys: usize,
    pub outbox_events: usize,
    pub inbox_events: usize,
}

/// Removes what is older than the retention at `now`.
pub async fn purge(
    pool: &DbPool,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
) -> Result<Purged, ApiError> {
    let hours = |h: u64| chrono::Duration::hours(i64::try_from(h).unwrap_or(i64::MAX / 7200));
    let mut conn = db::connection(pool).await?;
    Ok(Purged {
        idempotency_keys: crate::idempotency::purge_before(
            &mut conn,
            now - hours(settings.idempotency_key_hours),
        )
        .await?,
        outbox_events: crate::outbox::purge_delivered_before(
            &mut conn,
            now - hours(settings.outbox_delivered_days.saturating_mul(24)),
        )
        .await?,
        inbox_events: crate::inbox::purge_before(
            &mut conn,
            now - hours(settings.inbox_days.saturating_mul(24)),
        )
        .await?,
    })
}

/// Stops the running task; a run under way finishes first.
pub struct RetentionHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RetentionHandle {
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Runs [`purge`] now and then every `interval_seconds`, counting the removed rows in `metrics`.
/// A failed run (database away) is logged and tried again at the next interval.
pub fn spawn(
    pool: DbPool,
    settings: RetentionSettings,
    metrics: Option<Arc<Metrics>>,
) -> RetentionHandle {
    let (stop, mut stopped) = watch::channel(false);
    let interval = Duration::from_secs(settings.interval_seconds.max(1));
    let task = tokio::spawn(async move {
        loop {
            match purge(&pool, &settings, Utc::now()).await {
                Ok(purged) => {
                    if let Some(metrics) = &metrics {
                        metrics.purged("idempotency_keys", purged.idempotency_keys);
                        metrics.purged("outbox_events", purged.outbox_events);
                        metrics.purged("inbox_events", purged.inbox_events);
                    }
                    if purged != Purged::default() {
                        tracing::info!(
                            idempotency_keys = purged.idempotency_keys,
                            outbox_events = purged.outbox_events,
                            inbox_events = purged.inbox_events,
                            "expired rows purged"
                        );
                    }
                }
                Err(error) => tracing::warn!(%error, "the retention task failed; retried later"),
            }
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                _ = stopped.changed() => break,
            }
        }
    });
    RetentionHandle { stop, task }
}
