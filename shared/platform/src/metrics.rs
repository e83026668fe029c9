//! Prometheus metrics, through the `prometheus` crate: requests by route template and status, a
//! latency histogram, pool usage, the process (memory, CPU, open files), the outbox and inbox and
//! the service's own figures. Every series carries the label `service`, first.
//!
//! Two kinds of figures: counters kept in memory ([`Metrics::observe`]), and figures read from the
//! database on every scrape (the outbox, the inbox, a service's [`MetricsSource`]s) into a registry
//! of their own that lives for that scrape only, so that a row purged or a state left is never
//! reported again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use prometheus::proto::MetricFamily;
use prometheus::{
    Encoder as _, Gauge, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::error::ApiError;

pub use prometheus;

/// The media type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Figures a service adds to its `/metrics` from its own tables (a job's last run, a queue's
/// length), read on every scrape. Given to the platform by [`crate::service::Service::metrics_sources`].
#[async_trait::async_trait]
pub trait MetricsSource: Send + Sync {
    /// Registers this scrape's figures in `registry` (see [`gauge`], [`gauge_vec`]); the platform
    /// adds the `service` label. An error leaves the source out of this scrape (the rest is
    /// still worth one).
    async fn collect(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        registry: &Registry,
    ) -> Result<(), ApiError>;
}

/// A gauge registered in `registry`.
pub fn gauge(registry: &Registry, name: &str, help: &str) -> Result<Gauge, ApiError> {
    let gauge = Gauge::with_opts(Opts::new(name, help)).map_err(ApiError::internal)?;
    registry
        .register(Box::new(gauge.clone()))
        .map_err(ApiError::internal)?;
    Ok(gauge)
}

/// A gauge with `labels` registered in `registry`.
pub fn gauge_vec(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> Result<GaugeVec, ApiError> {
    let gauge = GaugeVec::new(Opts::new(name, help), labels).map_err(ApiError::internal)?;
    registry
        .register(Box::new(gauge.clone()))
        .map_err(ApiError::internal)?;
    Ok(gauge)
}

/// A registry whose series all carry `service`.
pub fn labelled_registry(service: &str) -> Result<Registry, prometheus::Error> {
    Registry::new_custom(
        None,
        Some(HashMap::from([(
            "service".to_string(),
            service.to_string(),
        )])),
    )
}

/// `families` in the text format, sorted by name, `service` the first label of every series
/// (dashboards and tests read `name{service="…",…}`).
pub fn encode(mut families: Vec<MetricFamily>) -> String {
    families.sort_by(|a, b| a.name().cmp(b.name()));
    for family in &mut families {
        for metric in family.mut_metric() {
            let mut labels = metric.take_label();
            labels.sort_by(|a, b| {
                (a.name() != "service", a.name()).cmp(&(b.name() != "service", b.name()))
            });
            metric.set_label(labels);
        }
    }
    let mut out = Vec::new();
    if let Err(error) = TextEncoder::new().encode(&families, &mut out) {
        tracing::warn!(%error, "the metrics could not be encoded");
    }
    String::from_utf8(out).unwrap_or_default()
}

/// The in-memory metrics of one service.
pub struct Metrics {
    service: String,
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
    pool_waiting: IntGauge,
    purged: IntCounterVec,
    sources: Vec<Arc<dyn MetricsSource>>,
}

impl Metrics {
    pub fn new(service: &str) -> Result<Self, prometheus::Error> {
        let registry = labelled_registry(service)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route template and status.",
            ),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Request latency by route template.",
            )
            .buckets(BUCKETS.to_vec()),
            &["method", "route"],
        )?;
        let pool = IntGaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Database pool connections by state (idle, in_use, max).",
            ),
            &["state"],
        )?;
        let pool_waiting = IntGauge::with_opts(Opts::new(
            "db_pool_waiting",
            "Requests waiting for a database connection.",
        ))?;
        let purged = IntCounterVec::new(
            Opts::new(
                "prr_purged_rows_total",
                "Rows removed by the retention task, by table.",
            ),
            &["table"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pool.clone()))?;
        registry.register(Box::new(pool_waiting.clone()))?;
        registry.register(Box::new(purged.clone()))?;
        // Resident memory, CPU seconds, open and maximum file descriptors, threads, start time.
        #[cfg(target_os = "linux")]
        registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        Ok(Self {
            service: service.to_string(),
            registry,
            requests,
            latency,
            pool,
            pool_waiting,
            purged,
            sources: Vec::new(),
        })
    }

    /// Adds the service's own [`MetricsSource`]s, read after the platform's figures.
    pub fn with_sources(mut self, sources: Vec<Arc<dyn MetricsSource>>) -> Self {
        self.sources = sources;
        self
    }

    /// The service name the metrics are labelled with.
    pub fn service(&self) -> &str {
        &self.service
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    /// Counts rows the retention task removed from `table`.
    pub fn purged(&self, table: &str, rows: usize) {
        self.purged
            .with_label_values(&[table])
            .inc_by(u64::try_from(rows).unwrap_or(u64::MAX));
    }

    /// The in-memory figures with the pool's state now.
    fn gather(&self, pool: &deadpool::managed::Status) -> Vec<MetricFamily> {
        let as_i64 = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.pool
            .with_label_values(&["idle"])
            .set(as_i64(pool.available));
        self.pool
            .with_label_values(&["in_use"])
            .set(as_i64(pool.size.saturating_sub(pool.available)));
        self.pool
            .with_label_values(&["max"])
            .set(as_i64(pool.max_size));
        self.pool_waiting.set(as_i64(pool.waiting));
        self.registry.gather()
    }

    /// The in-memory figures alone, as `/metrics` shows them without a database.
    pub fn render(&self, pool: &deadpool::managed::Status) -> String {
        encode(self.gather(pool))
    }

    /// The whole `/metrics` body: the in-memory figures, then the outbox, the inbox and the
    /// service's sources read from the database. Without a database the rest is still worth a
    /// scrape.
    pub async fn scrape(&self, pool: &crate::db::DbPool) -> String {
        let mut families = self.gather(&pool.status());
        if let Ok(mut conn) = crate::db::connection(pool).await {
            let outbox = crate::outbox::collect_metrics(&mut conn, &self.service).await;
            let inbox = crate::inbox::collect_metrics(&mut conn, &self.service).await;
            for found in [outbox, inbox] {
                match found {
                    Ok(found) => families.extend(found),
                    Err(error) => tracing::warn!(%error, "the outbox or inbox metrics failed"),
                }
            }
            for source in &self.sources {
                let Ok(registry) = labelled_registry(&self.service) else {
                    continue;
                };
                match source.collect(&mut conn, &registry).await {
                    Ok(()) => families.extend(registry.gather()),
                    Err(error) => tracing::warn!(%error, "a metrics source failed"),
                }
            }
        }
        encode(families)
    }
}

/// Records every request under its route template (`/v1/practices/{agb}`), never the raw path,
/// so that the label set stays bounded.
pub async fn metrics_middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().to_string();
    let response = next.call(req).await?;
    if let Some(metrics) = metrics {
        let route = response
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_string());
        metrics.observe(
            &method,
            &route,
            response.status().as_u16(),
            started.elapsed().as_secs_f64(),
        );
    }
    Ok(response)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_cumulative_buckets() {
        let metrics = Metrics::new("register").unwrap();
        metrics.observe("GET", "/v1/practices/{agb}", 200, 0.02);
        metrics.observe("GET", "/v1/practices/{agb}", 200, 0.2);
        metrics.observe("GET", "/v1/practices/{agb}", 404, 0.001);
        let status = deadpool::managed::Status {
            max_size: 10,
            size: 3,
            available: 1,
            waiting: 0,
        };
        let text = metrics.render(&status);
        assert!(text.contains(
            "http_requests_total{service=\"register\",method=\"GET\",route=\"/v1/practices/{agb}\",status=\"200\"} 2"
        ), "{text}");
        assert!(text.contains("le=\"0.025\"} 2"), "{text}");
        assert!(text.contains("le=\"0.25\"} 3"), "{text}");
        assert!(text.contains("db_pool_connections{service=\"register\",state=\"in_use\"} 2"));
        assert!(text.contains("# TYPE db_pool_waiting gauge\n"), "{text}");
        assert!(
            text.contains("db_pool_waiting{service=\"register\"} 0\n"),
            "{text}"
        );
        #[cfg(target_os = "linux")]
        for name in [
            "process_resident_memory_bytes{service=\"register\"}",
            "process_cpu_seconds_total{service=\"register\"}",
            "process_open_fds{service=\"register\"}",
        ] {
            assert!(text.contains(name), "{name}: {text}");
        }
    }
}
