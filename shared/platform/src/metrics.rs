//! Prometheus metrics: requests by route template and status, latency histogram, pool usage.
//!
//! Hand-written exposition: three metric families do not justify a metrics framework.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<(String, String), Histogram>,
}

/// Figures a service adds to its `/metrics` from its own tables (a job's last run, a queue's
/// length), read on every scrape. Given to the platform by [`crate::service::Service::metrics_sources`].
#[async_trait::async_trait]
pub trait MetricsSource: Send + Sync {
    /// Prometheus text lines labelled with `service`; an error leaves the source out of this
    /// scrape (the rest is still worth one).
    async fn render(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        service: &str,
    ) -> Result<String, crate::error::ApiError>;
}

#[derive(Default)]
pub struct Metrics {
    service: String,
    inner: Mutex<Inner>,
    sources: Vec<std::sync::Arc<dyn MetricsSource>>,
}

impl Metrics {
    pub fn new(service: &str) -> Self {
        Self {
            service: service.to_string(),
            inner: Mutex::default(),
            sources: Vec::new(),
        }
    }

    /// Adds the service's own [`MetricsSource`]s, rendered after the platform's figures.
    pub fn with_sources(mut self, sources: Vec<std::sync::Arc<dyn MetricsSource>>) -> Self {
        self.sources = sources;
        self
    }

    /// The service's own sources.
    pub fn sources(&self) -> &[std::sync::Arc<dyn MetricsSource>] {
        &self.sources
    }

    /// The service name the metrics are labelled with.
    pub fn service(&self) -> &str {
        &self.service
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        *inner
            .requests
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        let histogram = inner
            .latency
            .entry((method.to_string(), route.to_string()))
            .or_default();
        histogram.count += 1;
        histogram.sum += seconds;
        for (bound, count) in BUCKETS.iter().zip(histogram.counts.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
    }

    pub fn render(&self, pool: &deadpool::managed::Status) -> String {
        let service = &self.service;
        let mut out = String::new();
        let Ok(inner) = self.inner.lock() else {
            return out;
        };
        out.push_str("# HELP http_requests_total HTTP requests by route template and status.\n");
        out.push_str("# TYPE http_requests_total counter\n");
        for ((method, route, status), count) in &inner.requests {
            let _ = writeln!(
                out,
                "http_requests_total{{service=\"{service}\",method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {count}"
            );
        }
        out.push_str("# HELP http_request_duration_seconds Request latency by route template.\n");
        out.push_str("# TYPE http_request_duration_seconds histogram\n");
        for ((method, route), histogram) in &inner.latency {
            let labels = format!("service=\"{service}\",method=\"{method}\",route=\"{route}\"");
            for (bound, count) in BUCKETS.iter().zip(histogram.counts.iter()) {
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(
                out,
                "http_request_duration_seconds_sum{{{labels}}} {}",
                histogram.sum
            );
            let _ = writeln!(
                out,
                "http_request_duration_seconds_count{{{labels}}} {}",
                histogram.count
            );
        }
        out.push_str("# HELP db_pool_connections Database pool connections by state.\n");
        out.push_str("# TYPE db_pool_connections gauge\n");
        let idle = pool.available;
        let in_use = pool.size.saturating_sub(pool.available);
        let _ = writeln!(
            out,
            "db_pool_connections{{service=\"{service}\",state=\"idle\"}} {idle}"
        );
        let _ = writeln!(
            out,
            "db_pool_connections{{service=\"{service}\",state=\"in_use\"}} {in_use}"
        );
        let _ = writeln!(
            out,
            "db_pool_connections{{service=\"{service}\",state=\"max\"}} {}",
            pool.max_size
        );
        let _ = writeln!(
            out,
            "db_pool_waiting{{service=\"{service}\"}} {}",
            pool.waiting
        );
        out
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
        let metrics = Metrics::new("register");
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
        ));
        assert!(text.contains("le=\"0.025\"} 2"), "{text}");
        assert!(text.contains("le=\"0.25\"} 3"), "{text}");
        assert!(text.contains("db_pool_connections{service=\"register\",state=\"in_use\"} 2"));
    }
}
