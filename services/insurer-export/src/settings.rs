//! The service's own settings section, `[insurer_export]`: the register it reads, the automatic
//! build of the snapshots and the delivery of webhooks. Validated when loaded; a refusal names
//! the key.

use praktijkregister_platform::config::{Check, ServiceSettings};
use praktijkregister_platform::service_client::ServiceClientSettings;
use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

/// The section's defaults, compiled in.
pub const DEFAULTS: &str = include_str!("../config/defaults.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct ExportSettings {
    /// Base URL of the register (evidence feed, cycle calendar).
    pub register_url: String,
    pub schedule: ScheduleSettings,
    pub webhooks: WebhookSettings,
    pub resync: ResyncSettings,
    /// The client the service reads the register with (role service).
    pub service_client: ServiceClientSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ScheduleSettings {
    pub enabled: bool,
    pub check_interval_seconds: u64,
}

/// Loading the copy of the register's practices when it is empty at start.
#[derive(Debug, Clone, Deserialize)]
pub struct ResyncSettings {
    pub on_start: bool,
    /// How long to wait before trying again when the register cannot be read.
    pub retry_interval_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WebhookSettings {
    /// How long a delivery is retried before it is marked failed (default 3 days).
    pub retry_period_seconds: u64,
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    pub request_timeout_ms: u64,
    pub poll_interval_ms: u64,
    pub batch_size: u32,
    /// The key endpoint secrets are sealed with at rest: base64 of 32 bytes, inline (e.g. from a
    /// secret store) ...
    pub secret_key: Option<SecretString>,
    /// ... or in a file. In development, a key is made under `data_dir` when neither is set.
    pub secret_key_file: Option<PathBuf>,
}

impl ServiceSettings for ExportSettings {
    fn validate(&self, check: &mut Check<'_>) {
        check.http_url("register_url", &self.register_url, false);
        check.section("schedule").positive(
            "check_interval_seconds",
            self.schedule.check_interval_seconds,
        );
        check
            .section("resync")
            .positive("retry_interval_seconds", self.resync.retry_interval_seconds);
        let mut webhooks = check.section("webhooks");
        for (key, value) in [
            ("retry_period_seconds", self.webhooks.retry_period_seconds),
            ("backoff_base_ms", self.webhooks.backoff_base_ms),
            ("backoff_max_ms", self.webhooks.backoff_max_ms),
            ("request_timeout_ms", self.webhooks.request_timeout_ms),
            ("poll_interval_ms", self.webhooks.poll_interval_ms),
            ("batch_size", u64::from(self.webhooks.batch_size)),
        ] {
            webhooks.positive(key, value);
        }
        webhooks.require(
            "backoff_max_ms",
            self.webhooks.backoff_max_ms >= self.webhooks.backoff_base_ms,
            "must be at least backoff_base_ms",
        );
        let mut client = check.section("service_client");
        client.http_url("token_url", &self.service_client.token_url, false);
        client.require(
            "client_id",
            !self.service_client.client_id.trim().is_empty(),
            "is empty",
        );
    }
}
