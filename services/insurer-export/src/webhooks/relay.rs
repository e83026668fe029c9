//! The webhook relay: the deliveries table is the queue (written in the transaction that recorded
//! the change, so nothing is lost across a restart). Due deliveries are claimed with `FOR UPDATE
//! SKIP LOCKED`, posted with the Standard Webhooks headers, and kept with every attempt. A 2xx is
//! delivered; anything else is retried after the platform outbox's jittered exponential backoff
//! until the delivery's retry period ends, then it is failed (and can be redelivered by hand).

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use praktijkregister_platform::audit::{self, Actor, AuditEvent};
use praktijkregister_platform::config::Environment;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::ApiError;
use praktijkregister_platform::outbox::backoff_delay;
use serde_json::Value;
use tokio::sync::watch;
use uuid::Uuid;

use super::sealing::SecretKey;
use crate::schema::{webhook_attempts, webhook_deliveries, webhook_endpoints};
use crate::settings::WebhookSettings;

/// The actor of deliveries in the audit trail.
const RELAY: Actor<'static> = Actor {
    client_id: "webhook-relay",
    role: "service",
    on_behalf_of: None,
};

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassReport {
    pub delivered: usize,
    pub retried: usize,
    pub failed: usize,
}

type Due = (
    Uuid,
    Value,
    i32,
    DateTime<Utc>,
    Uuid,
    String,
    Option<Vec<u8>>,
    Option<String>,
);

/// Delivers webhooks; [`spawn`] runs it in the background, [`Relay::run_once`] one pass.
pub struct Relay {
    pool: DbPool,
    settings: WebhookSettings,
    environment: Environment,
    key: SecretKey,
    http: reqwest::Client,
}

enum Outcome {
    Delivered(u16),
    Failed(Option<u16>, String),
}

impl Relay {
    pub fn new(
        pool: DbPool,
        settings: WebhookSettings,
        environment: Environment,
        key: SecretKey,
    ) -> Result<Self, ApiError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.request_timeout_ms))
            // A redirect could lead past the address checks: not followed, retried.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(ApiError::internal)?;
        Ok(Self {
            pool,
            settings,
            environment,
            key,
            http,
        })
    }

    /// Claims up to `batch_size` due deliveries, oldest first, posts them and records each
    /// attempt; the claim is held until the pass ends.
    pub async fn run_once(&self) -> Result<PassReport, ApiError> {
        let mut conn = connection(&self.pool).await?;
        conn.transaction::<_, ApiError, _>(|conn| {
            async move {
                let due: Vec<Due> = webhook_deliveries::table
                    .inner_join(webhook_endpoints::table)
                    .filter(webhook_deliveries::status.eq("pending"))
                    .filter(webhook_deliveries::next_attempt_at.le(diesel::dsl::now))
                    .order(webhook_deliveries::created_at)
                    .limit(i64::from(self.settings.batch_size))
                    .select((
                        webhook_deliveries::id,
                        webhook_deliveries::payload,
                        webhook_deliveries::attempts,
                        webhook_deliveries::give_up_at,
                        webhook_endpoints::id,
                        webhook_endpoints::url,
                        webhook_endpoints::sealed_secret,
                        webhook_endpoints::legacy_secret,
                    ))
                    .for_update()
                    .skip_locked()
                    .load(conn)
                    .await?;
                let mut report = PassReport::default();
                for (id, payload, attempts, give_up_at, endpoint, url, sealed, legacy) in due {
                    let outcome = match (sealed, legacy) {
                        (Some(sealed), _) => match self.key.open(endpoint, &sealed) {
                            Ok(secret) => self.deliver(id, &payload, &url, &secret).await,
                            Err(e) => Outcome::Failed(None, e.to_problem().detail),
                        },
                        // Not sealed yet (the start seals it): the secret as stored.
                        (None, Some(secret)) => self.deliver(id, &payload, &url, &secret).await,
                        (None, None) => Outcome::Failed(None, "the endpoint has no secret".into()),
                    };
                    self.record(conn, id, attempts, give_up_at, &outcome, &mut report)
                        .await?;
                }
                Ok(report)
            }
            .scope_boxed()
        })
        .await
    }

    async fn deliver(&self, id: Uuid, payload: &Value, url: &str, secret: &str) -> Outcome {
        // Checked again at each attempt: the name may resolve elsewhere now.
        if let Err(e) = super::check_endpoint(url, self.environment, "url").await {
            return Outcome::Failed(None, e.to_problem().detail);
        }
        let body = match serde_json::to_vec(payload) {
            Ok(body) => body,
            Err(e) => return Outcome::Failed(None, e.to_string()),
        };
        let message_id = id.to_string();
        let timestamp = Utc::now().timestamp();
        let signature = match super::signature(secret, &message_id, timestamp, &body) {
            Ok(signature) => signature,
            Err(e) => return Outcome::Failed(None, e.to_string()),
        };
        let sent = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => {
                Outcome::Delivered(response.status().as_u16())
            }
            Ok(response) => {
                let status = response.status().as_u16();
                Outcome::Failed(Some(status), format!("status {status}"))
            }
            Err(e) => Outcome::Failed(
                None,
                praktijkregister_platform::service_client::describe_transport(&e),
            ),
        }
    }

    async fn record(
        &self,
        conn: &mut AsyncPgConnection,
        id: Uuid,
        attempts: i32,
        give_up_at: DateTime<Utc>,
        outcome: &Outcome,
        report: &mut PassReport,
    ) -> Result<(), ApiError> {
        let (status, error) = match outcome {
            Outcome::Delivered(status) => (Some(i32::from(*status)), None),
            Outcome::Failed(status, error) => (status.map(i32::from), Some(error.as_str())),
        };
        diesel::insert_into(webhook_attempts::table)
            .values((
                webhook_attempts::delivery_id.eq(id),
                webhook_attempts::status.eq(status),
                webhook_attempts::error.eq(error),
            ))
            .execute(conn)
            .await?;
        let target = webhook_deliveries::table.find(id);
        let state = match outcome {
            Outcome::Delivered(_) => {
                diesel::update(target)
                    .set((
                        webhook_deliveries::status.eq("delivered"),
                        webhook_deliveries::attempts.eq(attempts + 1),
                        webhook_deliveries::delivered_at.eq(diesel::dsl::now),
                    ))
                    .execute(conn)
                    .await?;
                report.delivered += 1;
                "delivered"
            }
            Outcome::Failed(..) => {
                let delay = backoff_delay(
                    attempts,
                    self.settings.backoff_base_ms,
                    self.settings.backoff_max_ms,
                );
                let next = Utc::now()
                    + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::zero());
                let gave_up = next > give_up_at;
                diesel::update(target)
                    .set((
                        webhook_deliveries::status.eq(if gave_up { "failed" } else { "pending" }),
                        webhook_deliveries::attempts.eq(attempts + 1),
                        webhook_deliveries::next_attempt_at.eq(next),
                    ))
                    .execute(conn)
                    .await?;
                if gave_up {
                    report.failed += 1;
                    "failed"
                } else {
                    report.retried += 1;
                    "retried"
                }
            }
        };
        let event = AuditEvent::success("webhook.deliver", "webhook_delivery", id.to_string())
            .with_detail(serde_json::json!({"result": state, "status": status, "error": error}));
        audit::record(conn, RELAY, &event).await?;
        Ok(())
    }
}

/// Runs the relay until `stopped` changes or its sender is dropped.
pub fn spawn(
    pool: DbPool,
    settings: WebhookSettings,
    environment: Environment,
    key: SecretKey,
    mut stopped: watch::Receiver<bool>,
) {
    let poll = Duration::from_millis(settings.poll_interval_ms);
    let relay = match Relay::new(pool, settings, environment, key) {
        Ok(relay) => relay,
        Err(e) => {
            tracing::error!(error = %e, "the webhook relay could not start");
            return;
        }
    };
    tokio::spawn(async move {
        loop {
            if let Err(e) = relay.run_once().await {
                tracing::warn!(error = %e, "webhook relay pass failed");
            }
            tokio::select! {
                () = tokio::time::sleep(poll) => {}
                _ = stopped.changed() => break,
            }
        }
    });
}

/// The webhook queue in `/metrics`: deliveries by state, and the age of the oldest pending one
/// (a growing value means an endpoint is down or the relay is stuck).
pub struct WebhookMetrics;

#[async_trait::async_trait]
impl praktijkregister_platform::metrics::MetricsSource for WebhookMetrics {
    async fn collect(
        &self,
        conn: &mut AsyncPgConnection,
        registry: &praktijkregister_platform::metrics::prometheus::Registry,
    ) -> Result<(), ApiError> {
        use praktijkregister_platform::metrics::{gauge, gauge_vec};
        let by_status: Vec<(String, i64)> = webhook_deliveries::table
            .group_by(webhook_deliveries::status)
            .select((webhook_deliveries::status, diesel::dsl::count_star()))
            .load(conn)
            .await?;
        let oldest: Option<DateTime<Utc>> = webhook_deliveries::table
            .filter(webhook_deliveries::status.eq("pending"))
            .select(diesel::dsl::min(webhook_deliveries::created_at))
            .first(conn)
            .await?;
        let deliveries = gauge_vec(
            registry,
            "prr_webhook_deliveries",
            "Webhook deliveries by state.",
            &["status"],
        )?;
        for state in ["pending", "delivered", "failed"] {
            let count = by_status
                .iter()
                .find(|(s, _)| s == state)
                .map_or(0, |(_, n)| *n);
            deliveries.with_label_values(&[state]).set(count as f64);
        }
        let age = oldest.map_or(0.0, |at| {
            (Utc::now() - at).num_milliseconds() as f64 / 1000.0
        });
        gauge(
            registry,
            "prr_webhook_oldest_pending_age_seconds",
            "Age of the oldest pending webhook delivery.",
        )?
        .set(age.max(0.0));
        Ok(())
    }
}
