//! The register's own settings section, `[register]`: where it listens, the default calendar of
//! the yearly cycle, the thresholds of the quality conditions, the seeded registrar client and the
//! Kwaliteitsregister Paramedici verifier. Validated when loaded; a refusal names the key.

use praktijkregister_domain::UzoviCode;
use praktijkregister_platform::config::{non_empty, Check, ServiceSettings};
use secrecy::SecretString;
use serde::Deserialize;

/// The section's defaults, compiled in.
pub const DEFAULTS: &str = include_str!("../config/defaults.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct RegisterSettings {
    pub cycle: CycleSettings,
    pub compliance: ComplianceSettings,
    pub bootstrap: BootstrapSettings,
    pub credentials: CredentialSettings,
    pub kp_verifier: KpVerifierSettings,
    pub kp_verification: crate::kp::schedule::KpVerificationSettings,
    /// The outbox relay: where the register's events go (`insurer-export`); none configured
    /// keeps them pending in the outbox.
    pub outbox: praktijkregister_platform::outbox::OutboxSettings,
    /// The insurer-export service, whose criteria sets the compliance endpoint applies.
    pub insurer_export: InsurerExportSettings,
    /// The client the outbox relay gets its tokens with (and the insurer-export service is
    /// read with); needed once a destination or the insurer-export service is configured.
    pub service_client: praktijkregister_platform::service_client::ServiceClientSettings,
}

/// Where the register reads insurers' criteria sets.
#[derive(Debug, Clone, Deserialize)]
pub struct InsurerExportSettings {
    /// Base URL of the insurer-export service; empty: none (the register's own sets apply).
    pub base_url: String,
    /// How long an insurer's set is kept before it is read again.
    pub cache_seconds: u64,
}

/// How client secrets are hashed and how hard the token endpoint may be pushed (DESIGN §5).
#[derive(Debug, Clone, Deserialize)]
pub struct CredentialSettings {
    /// Base64 of at least 32 bytes: the key of the keyed hash of generated secrets ...
    pub hash_key: Option<SecretString>,
    /// ... or the file that holds it; in development one is generated under `data_dir`.
    pub hash_key_file: Option<std::path::PathBuf>,
    pub max_concurrent_argon2: u32,
    pub failed_attempts_per_client_per_minute: u32,
}

impl ServiceSettings for RegisterSettings {
    fn validate(&self, check: &mut Check<'_>) {
        check.section("cycle").positive(
            "annual_plan_max_bytes",
            self.cycle.annual_plan_max_bytes as u64,
        );
        self.compliance.validate(&mut check.section("compliance"));
        let mut bootstrap = check.section("bootstrap");
        let id = &self.bootstrap.registrar_client_id;
        bootstrap.require(
            "registrar_client_id",
            crate::clients::valid_client_id(id),
            "use 1 to 64 letters, digits, `-` or `_`",
        );
        for (id, name) in &self.bootstrap.service_clients {
            bootstrap.require(
                &format!("service_clients.{id}"),
                crate::clients::valid_client_id(id) && !name.trim().is_empty(),
                "use a client id of 1 to 64 letters, digits, `-` or `_`, and a name",
            );
        }
        bootstrap.require(
            "registrar_client_secret",
            self.bootstrap
                .configured_secret()
                .is_none_or(|s| s.chars().count() >= crate::credentials::MIN_CHOSEN_SECRET_CHARS),
            format!(
                "must have at least {} characters",
                crate::credentials::MIN_CHOSEN_SECRET_CHARS
            ),
        );
        let mut credentials = check.section("credentials");
        credentials.require(
            "hash_key",
            non_empty(self.credentials.hash_key.as_ref())
                .is_none_or(|key| crate::credentials::decode_key(key).is_some()),
            "must be base64 of at least 32 bytes",
        );
        credentials.positive(
            "max_concurrent_argon2",
            u64::from(self.credentials.max_concurrent_argon2),
        );
        credentials.positive(
            "failed_attempts_per_client_per_minute",
            u64::from(self.credentials.failed_attempts_per_client_per_minute),
        );
        let mut kp = check.section("kp_verifier");
        kp.http_url("base_url", &self.kp_verifier.base_url, true);
        kp.positive("timeout_ms", self.kp_verifier.timeout_ms);
        self.kp_verification
            .validate(&mut check.section("kp_verification"));
        if let Err(reason) = self.outbox.validate("outbox") {
            refuse_named(check, &reason);
        }
        check
            .section("insurer_export")
            .http_url("base_url", &self.insurer_export.base_url, true);
        if !self.outbox.destinations.is_empty() || !self.insurer_export.base_url.trim().is_empty() {
            if let Err(reason) = self.service_client.validate("service_client") {
                refuse_named(check, &reason);
            }
        }
    }
}

/// A platform validation's refusal, `"<key> <reason>"`, as a refusal of that key of the section.
fn refuse_named(check: &mut Check<'_>, refusal: &str) {
    let (key, reason) = refusal.split_once(' ').unwrap_or((refusal, "is not valid"));
    check.require(key, false, reason);
}

/// The yearly cycle: the default calendar and the annual-plan size limit.
#[derive(Debug, Clone, Deserialize)]
pub struct CycleSettings {
    #[serde(flatten)]
    pub calendar: praktijkregister_domain::CalendarDefaults,
    pub annual_plan_max_bytes: usize,
}

/// Thresholds of the quality conditions (001; DESIGN §3.5): the domain's own [`Thresholds`], so
/// that configuration and evaluation cannot drift apart, plus the per-insurer ceilings.
///
/// [`Thresholds`]: praktijkregister_domain::Thresholds
#[derive(Debug, Clone, Deserialize)]
pub struct ComplianceSettings {
    #[serde(flatten)]
    pub thresholds: praktijkregister_domain::Thresholds,
    #[serde(default)]
    pub insurer_ceilings: std::collections::BTreeMap<String, f64>,
}

impl ComplianceSettings {
    /// The treatment-index ceiling of an insurer: its own, else the default.
    pub fn ceiling_for(&self, insurer_uzovi: &str) -> f64 {
        self.insurer_ceilings
            .get(insurer_uzovi)
            .copied()
            .unwrap_or(self.thresholds.treatment_index_ceiling)
    }

    fn validate(&self, check: &mut Check<'_>) {
        if let Err(error) = self.thresholds.validate() {
            check.require(error.field(), false, error);
        }
        for (uzovi, ceiling) in &self.insurer_ceilings {
            let key = format!("insurer_ceilings.{uzovi}");
            if let Err(error) = UzoviCode::parse(uzovi) {
                check.require(
                    &key,
                    false,
                    format!("is not keyed by a UZOVI code: {error}"),
                );
            }
            check.require(
                &key,
                ceiling.is_finite() && *ceiling >= 0.0,
                "is a finite number of at least 0",
            );
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct BootstrapSettings {
    pub registrar_client_id: String,
    pub registrar_client_secret: Option<SecretString>,
    /// The clients (role `service`) the other services of the suite call with, by client id with
    /// their name. Seeded in development only, with each client's development secret, so that
    /// `serve all` needs no configuration; in production they are created with the command line.
    #[serde(default)]
    pub service_clients: std::collections::BTreeMap<String, String>,
}

impl BootstrapSettings {
    pub fn configured_secret(&self) -> Option<&str> {
        non_empty(self.registrar_client_secret.as_ref())
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct KpVerifierSettings {
    pub base_url: String,
    pub timeout_ms: u64,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use praktijkregister_platform::config::Config;

    use super::*;
    use crate::startup::Register;
    use praktijkregister_platform::service::Service as _;

    fn load(
        toml: &str,
    ) -> Result<RegisterSettings, praktijkregister_platform::config::ConfigError> {
        let config = Config::from_toml(&[Register::defaults()], toml)?;
        config.server("register")?;
        config.section("register")
    }

    #[test]
    fn the_defaults_load_and_are_valid() {
        let settings = load("").unwrap();
        let server = Config::defaults(&[Register::defaults()])
            .unwrap()
            .server("register")
            .unwrap();
        assert_eq!(server.port, 8081);
        assert_eq!(server.host, "127.0.0.1");
        assert_eq!(server.database_name, "praktijkregister_register");
        assert!(server.configured_database_url().is_none());
        assert_eq!(settings.compliance.ceiling_for("7095"), 149.0);
        assert_eq!(
            settings.compliance.thresholds,
            praktijkregister_domain::Thresholds::default()
        );
        assert!(settings.bootstrap.configured_secret().is_none());
    }

    #[test]
    fn every_invalid_value_of_the_section_is_refused_with_its_key() {
        for (toml, key) in [
            ("[register]\nport = 70000", "register.port"),
            ("[register]\nhost = \"\"", "register.host"),
            (
                "[register]\ndatabase_name = \"Register-DB\"",
                "register.database_name",
            ),
            (
                "[register]\ndatabase_url = \"mysql://x\"",
                "register.database_url",
            ),
            (
                "[register.cycle]\nannual_plan_deadline = \"13-01\"",
                "register.cycle",
            ),
            (
                "[register.cycle]\nvisitation_deadline = \"02-30\"",
                "register.cycle",
            ),
            (
                "[register.cycle]\nannual_plan_max_bytes = 0",
                "register.cycle.annual_plan_max_bytes",
            ),
            (
                "[register.compliance]\nldo_fill_rate_ldi = 1.5",
                "register.compliance.ldo_fill_rate_ldi",
            ),
            (
                "[register.compliance]\nldo_fill_rate_plus = -0.1",
                "register.compliance.ldo_fill_rate_plus",
            ),
            (
                "[register.compliance]\nprem_offered_rate_plus = 7",
                "register.compliance.prem_offered_rate_plus",
            ),
            (
                "[register.compliance]\nintervision_group_min = 20",
                "register.compliance.intervision_group_min",
            ),
            (
                "[register.compliance]\ntreatment_index_ceiling = -1.0",
                "register.compliance.treatment_index_ceiling",
            ),
            (
                "[register.compliance]\nintervision_min_physical_meetings = -2",
                "register.compliance",
            ),
            (
                "[register.compliance.insurer_ceilings]\n\"VGZ\" = 149.0",
                "register.compliance.insurer_ceilings.VGZ",
            ),
            (
                "[register.compliance.insurer_ceilings]\n\"7095\" = -3.0",
                "register.compliance.insurer_ceilings.7095",
            ),
            (
                "[register.bootstrap]\nregistrar_client_id = \"a b\"",
                "register.bootstrap.registrar_client_id",
            ),
            (
                "[register.bootstrap]\nregistrar_client_secret = \"short\"",
                "register.bootstrap.registrar_client_secret",
            ),
            (
                "[register.kp_verifier]\nbase_url = \"kp.example\"",
                "register.kp_verifier.base_url",
            ),
            (
                "[register.kp_verifier]\ntimeout_ms = 0",
                "register.kp_verifier.timeout_ms",
            ),
            (
                "[register.kp_verification]\nweekdays = [\"monday\"]",
                "register.kp_verification.weekdays",
            ),
            (
                "[register.kp_verification]\ntime = \"25:00\"",
                "register.kp_verification.time",
            ),
            (
                "[register.kp_verification]\ndays_before = [400]",
                "register.kp_verification.days_before",
            ),
            (
                "[register.kp_verification]\nconcurrency = 0",
                "register.kp_verification.concurrency",
            ),
            (
                "[register.kp_verification]\nconcurrency = 100",
                "register.kp_verification.concurrency",
            ),
            (
                "[register.kp_verification]\nrequests_per_second = 0.0",
                "register.kp_verification.requests_per_second",
            ),
            (
                "[register.kp_verification]\nrequests_per_second = -2.5",
                "register.kp_verification.requests_per_second",
            ),
            (
                "[register.kp_verification]\nmax_attempts = 0",
                "register.kp_verification.max_attempts",
            ),
            (
                "[register.kp_verification]\nretry_backoff_max_ms = 1",
                "register.kp_verification.retry_backoff_max_ms",
            ),
            (
                "[register.kp_verification]\nstop_after_failures = 0",
                "register.kp_verification.stop_after_failures",
            ),
            (
                "[register.kp_verification]\nexpiry_window_days = 0",
                "register.kp_verification.expiry_window_days",
            ),
            (
                "[register.outbox]\nbatch_size = 0",
                "register.outbox.batch_size",
            ),
            (
                "[register.outbox.destinations]\n\"insurer-export\" = \"ftp://x\"",
                "register.outbox.destinations.insurer-export",
            ),
        ] {
            let error = load(toml).expect_err(toml);
            assert!(error.to_string().contains(key), "{toml}: {error}");
        }
    }

    #[test]
    fn a_known_insurer_ceiling_is_used_for_that_insurer() {
        let settings = load("[register.compliance.insurer_ceilings]\n\"7095\" = 130.0").unwrap();
        assert_eq!(settings.compliance.ceiling_for("7095"), 130.0);
        assert_eq!(settings.compliance.ceiling_for("3311"), 149.0);
    }
}
