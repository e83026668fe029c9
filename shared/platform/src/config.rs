//! Configuration: embedded defaults, then an optional file, then `PRR__SECTION__KEY` environment variables.
//!
//! The defaults are compiled into the binary so that a service never depends on the directory it is
//! started from. Secrets are [`SecretString`]s: their `Debug` output is redacted, so logging the
//! settings never leaks them.

use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

const DEFAULTS: &str = include_str!("../config/defaults.toml");

/// Environment variable naming an optional configuration file.
pub const CONFIG_FILE_ENV: &str = "PRR_CONFIG_FILE";

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub app: AppSettings,
    pub log: LogSettings,
    pub database: DatabaseSettings,
    pub http: HttpSettings,
    pub auth: AuthSettings,
    pub register: ServiceSettings,
    pub cycle: CycleSettings,
    pub compliance: ComplianceSettings,
    pub bootstrap: BootstrapSettings,
    pub kp_verifier: KpVerifierSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AppSettings {
    pub environment: Environment,
    pub data_dir: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub format: LogFormat,
    pub filter: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub local_server_url: String,
    pub private_cluster_port: u16,
    pub pool_size: usize,
    pub pool_timeout_ms: u64,
    pub connect_timeout_seconds: u64,
    pub statement_timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HttpSettings {
    pub max_body_bytes: usize,
    pub rate_limit_per_second: u32,
    pub rate_limit_burst: u32,
}

/// A public key accepted for token verification besides the current signing key (key rotation).
#[derive(Debug, Clone, Deserialize)]
pub struct VerificationKey {
    pub kid: String,
    pub public_key_pem: String,
}

/// Another token issuer whose tokens the services accept (an organisation's identity provider).
#[derive(Debug, Clone, Deserialize)]
pub struct TrustedIssuer {
    pub issuer: String,
    pub jwks_url: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    pub issuer: String,
    pub audience: String,
    pub algorithm: String,
    pub token_lifetime_seconds: u64,
    pub leeway_seconds: u64,
    pub jwks_refresh_interval_seconds: u64,
    pub jwks_timeout_ms: u64,
    pub jwks_url: String,
    /// Ed25519 private key in PKCS#8 PEM, inline (e.g. from a secret store) ...
    pub signing_key_pem: Option<SecretString>,
    /// ... or in a file. In development, a key is generated under `data_dir` when neither is set.
    pub signing_key_file: Option<PathBuf>,
    #[serde(default)]
    pub verification_keys: Vec<VerificationKey>,
    #[serde(default)]
    pub trusted_issuers: Vec<TrustedIssuer>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServiceSettings {
    pub host: String,
    pub port: u16,
    /// Full URL of the service's own database. Empty: the embedded default.
    pub database_url: Option<SecretString>,
    pub database_name: String,
}

impl ServiceSettings {
    pub fn configured_database_url(&self) -> Option<&str> {
        non_empty(self.database_url.as_ref())
    }
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
}

#[derive(Debug, Clone, Deserialize)]
pub struct BootstrapSettings {
    pub registrar_client_id: String,
    pub registrar_client_secret: Option<SecretString>,
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

/// An empty string from the environment means "not set".
pub fn non_empty(secret: Option<&SecretString>) -> Option<&str> {
    secret
        .map(|s| s.expose_secret())
        .filter(|s| !s.trim().is_empty())
}

#[derive(Debug, thiserror::Error)]
#[error("configuration is invalid: {0}")]
pub struct ConfigError(#[from] config::ConfigError);

impl Settings {
    /// Loads defaults, then `file` (or the file named by `PRR_CONFIG_FILE`), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let env_file = std::env::var_os(CONFIG_FILE_ENV).map(PathBuf::from);
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        if let Some(path) = file.map(Path::to_path_buf).or(env_file) {
            builder = builder.add_source(config::File::from(path).required(true));
        }
        let settings = builder
            .add_source(
                config::Environment::with_prefix("PRR")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true),
            )
            .build()?
            .try_deserialize()?;
        Ok(settings)
    }

    /// The defaults alone, for tests and tools that must not read the environment.
    pub fn defaults() -> Result<Self, ConfigError> {
        Ok(config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .build()?
            .try_deserialize()?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn embedded_defaults_parse() {
        let settings = Settings::defaults().unwrap();
        assert_eq!(settings.register.port, 8081);
        assert_eq!(settings.auth.token_lifetime_seconds, 300);
        assert_eq!(settings.compliance.ceiling_for("7095"), 149.0);
        assert_eq!(
            settings.compliance.thresholds,
            praktijkregister_domain::Thresholds::default()
        );
        assert!(settings.register.configured_database_url().is_none());
        assert!(settings.bootstrap.configured_secret().is_none());
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let mut settings = Settings::defaults().unwrap();
        settings.bootstrap.registrar_client_secret = Some(SecretString::from("hunter2-secret"));
        let printed = format!("{settings:?}");
        assert!(!printed.contains("hunter2-secret"));
    }

    #[test]
    fn a_file_overrides_the_defaults() {
        let dir = std::env::temp_dir().join(format!("prr-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("override.toml");
        std::fs::write(&file, "[register]\nport = 9999\n").unwrap();
        let settings = Settings::load(Some(&file)).unwrap();
        assert_eq!(settings.register.port, 9999);
        assert_eq!(settings.register.host, "127.0.0.1");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
