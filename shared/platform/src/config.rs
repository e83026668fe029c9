//! Configuration: embedded defaults (the platform's and each service's), then an optional file,
//! then `PRR__SECTION__KEY` environment variables.
//!
//! The platform owns the common sections (`app`, `log`, `database`, `http`, `auth`); each service
//! owns one section named after it, with its own defaults and its own validation
//! ([`ServiceSettings`]). Everything is validated when loaded, and a refusal names the key.
//! The defaults are compiled into the binary so that a service never depends on the directory it
//! is started from. Secrets are [`SecretString`]s: their `Debug` output is redacted, so logging
//! the settings never leaks them.

use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use std::fmt;

use serde::de::DeserializeOwned;
use serde::Deserialize;

const DEFAULTS: &str = include_str!("../config/defaults.toml");

/// Environment variable naming an optional configuration file.
pub const CONFIG_FILE_ENV: &str = "PRR_CONFIG_FILE";

/// The common settings every service shares.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub app: AppSettings,
    pub log: LogSettings,
    pub database: DatabaseSettings,
    pub http: HttpSettings,
    pub auth: AuthSettings,
    pub retention: crate::retention::RetentionSettings,
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

/// Where a service listens and which database it owns: the platform's keys of every service's
/// section (`[register] host, port, database_url, database_name`).
#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// Full URL of the service's own database. Empty: the embedded default.
    pub database_url: Option<SecretString>,
    pub database_name: String,
}

impl ServerSettings {
    pub fn configured_database_url(&self) -> Option<&str> {
        non_empty(self.database_url.as_ref())
    }

    fn validate(&self, check: &mut Check<'_>) {
        check.require("host", !self.host.trim().is_empty(), "is empty");
        let name_ok = !self.database_name.is_empty()
            && self.database_name.len() <= 63
            && self
                .database_name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        check.require(
            "database_name",
            name_ok,
            "use 1 to 63 lower-case letters, digits or `_`",
        );
        if let Some(url) = self.configured_database_url() {
            check.require(
                "database_url",
                url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "postgres" | "postgresql")),
                "is not a postgres:// URL",
            );
        }
    }
}

/// What a service keeps in its section besides the [`ServerSettings`], with the rules its values
/// must keep.
pub trait ServiceSettings: DeserializeOwned + Clone + fmt::Debug + Send + Sync + 'static {
    /// Refuses values the service cannot run with; keys are relative to the section.
    fn validate(&self, _check: &mut Check<'_>) {}
}

/// An empty string from the environment means "not set".
pub fn non_empty(secret: Option<&SecretString>) -> Option<&str> {
    secret
        .map(|s| s.expose_secret())
        .filter(|s| !s.trim().is_empty())
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration could not be read: {0}")]
    Read(#[from] config::ConfigError),
    #[error("configuration is invalid: {}", describe(.0))]
    Invalid(Vec<InvalidSetting>),
}

/// One refused value: the full key (`register.compliance.ldo_fill_rate_ldi`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSetting {
    pub key: String,
    pub reason: String,
}

fn describe(invalid: &[InvalidSetting]) -> String {
    invalid
        .iter()
        .map(|i| format!("`{}` {}", i.key, i.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Collects refused values under a key prefix.
pub struct Check<'a> {
    prefix: String,
    invalid: &'a mut Vec<InvalidSetting>,
}

impl<'a> Check<'a> {
    fn new(prefix: &str, invalid: &'a mut Vec<InvalidSetting>) -> Self {
        Self {
            prefix: prefix.to_string(),
            invalid,
        }
    }

    /// Records `key` as invalid with `reason` unless `ok`.
    pub fn require(&mut self, key: &str, ok: bool, reason: impl fmt::Display) {
        if !ok {
            self.invalid.push(InvalidSetting {
                key: format!("{}.{key}", self.prefix),
                reason: reason.to_string(),
            });
        }
    }

    /// The same check for a nested section (`compliance` inside `register`).
    pub fn section(&mut self, name: &str) -> Check<'_> {
        Check {
            prefix: format!("{}.{name}", self.prefix),
            invalid: self.invalid,
        }
    }

    /// A duration or count that must be above zero.
    pub fn positive(&mut self, key: &str, value: u64) {
        self.require(key, value > 0, "must be greater than 0");
    }

    /// An `http(s)` URL; `allow_empty` for features that are off when unset.
    pub fn http_url(&mut self, key: &str, value: &str, allow_empty: bool) {
        let ok = (allow_empty && value.trim().is_empty())
            || url::Url::parse(value).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        self.require(key, ok, "is not an http(s) URL");
    }
}

/// The layered configuration sources; the common settings and each service's section are read
/// from it and validated.
pub struct Config {
    layered: config::Config,
}

impl Config {
    /// Defaults (the platform's, then each service's `(name, default port, defaults TOML)`), then
    /// `file` (or the file named by `PRR_CONFIG_FILE`), then the environment.
    pub fn load(file: Option<&Path>, services: &[ServiceDefaults]) -> Result<Self, ConfigError> {
        let env_file = std::env::var_os(CONFIG_FILE_ENV).map(PathBuf::from);
        let mut builder = Self::with_defaults(services)?;
        if let Some(path) = file.map(Path::to_path_buf).or(env_file) {
            builder = builder.add_source(config::File::from(path).required(true));
        }
        let layered = builder
            .add_source(
                config::Environment::with_prefix("PRR")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true),
            )
            .build()?;
        Ok(Self { layered })
    }

    /// The defaults alone, for tests and tools that must not read the environment.
    pub fn defaults(services: &[ServiceDefaults]) -> Result<Self, ConfigError> {
        Ok(Self {
            layered: Self::with_defaults(services)?.build()?,
        })
    }

    /// The defaults and then `toml` on top, for tests of configuration.
    pub fn from_toml(services: &[ServiceDefaults], toml: &str) -> Result<Self, ConfigError> {
        Ok(Self {
            layered: Self::with_defaults(services)?
                .add_source(config::File::from_str(toml, config::FileFormat::Toml))
                .build()?,
        })
    }

    fn with_defaults(
        services: &[ServiceDefaults],
    ) -> Result<config::builder::ConfigBuilder<config::builder::DefaultState>, ConfigError> {
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        for service in services {
            builder = builder
                .set_default(format!("{}.host", service.name), "127.0.0.1")?
                .set_default(format!("{}.port", service.name), i64::from(service.port))?
                .add_source(config::File::from_str(
                    service.defaults,
                    config::FileFormat::Toml,
                ));
        }
        Ok(builder)
    }

    /// The common settings, validated.
    pub fn common(&self) -> Result<Settings, ConfigError> {
        let settings: Settings = serde_path_to_error::deserialize(self.layered.clone())
            .map_err(|error| refused_value("", error))?;
        let mut invalid = Vec::new();
        settings.validate(&mut invalid);
        refuse(invalid)?;
        Ok(settings)
    }

    /// The service's own settings in its section `name`, validated.
    pub fn section<T: ServiceSettings>(&self, name: &str) -> Result<T, ConfigError> {
        let section: T = self.get(name)?;
        let mut invalid = Vec::new();
        section.validate(&mut Check::new(name, &mut invalid));
        refuse(invalid)?;
        Ok(section)
    }

    /// Where the service `name` listens and which database it owns, validated.
    pub fn server(&self, name: &str) -> Result<ServerSettings, ConfigError> {
        let server: ServerSettings = self.get(name)?;
        let mut invalid = Vec::new();
        server.validate(&mut Check::new(name, &mut invalid));
        refuse(invalid)?;
        Ok(server)
    }
}

impl Config {
    /// Reads section `name` as `T`; a refused value is reported with its full key (the
    /// configuration crate alone would name only the section).
    fn get<T: DeserializeOwned>(&self, name: &str) -> Result<T, ConfigError> {
        let value: config::Value = self.layered.get(name)?;
        serde_path_to_error::deserialize(value).map_err(|error| refused_value(name, error))
    }
}

fn refused_value(
    prefix: &str,
    error: serde_path_to_error::Error<config::ConfigError>,
) -> ConfigError {
    let path = error.path().to_string();
    let key = match (prefix, path.as_str()) {
        (prefix, ".") => prefix.to_string(),
        ("", path) => path.to_string(),
        (prefix, path) => format!("{prefix}.{path}"),
    };
    ConfigError::Invalid(vec![InvalidSetting {
        key,
        reason: error.into_inner().to_string(),
    }])
}

fn refuse(invalid: Vec<InvalidSetting>) -> Result<(), ConfigError> {
    if invalid.is_empty() {
        Ok(())
    } else {
        Err(ConfigError::Invalid(invalid))
    }
}

/// What the loader needs of a service before its section type is known.
#[derive(Debug, Clone, Copy)]
pub struct ServiceDefaults {
    pub name: &'static str,
    pub port: u16,
    pub defaults: &'static str,
}

impl Settings {
    /// The platform's defaults alone, for tests and tools that need no service section.
    pub fn defaults() -> Result<Self, ConfigError> {
        Config::defaults(&[])?.common()
    }

    fn validate(&self, invalid: &mut Vec<InvalidSetting>) {
        let mut database = Check::new("database", invalid);
        database.http_url(
            "local_server_url",
            &self
                .database
                .local_server_url
                .replacen("postgres://", "http://", 1),
            false,
        );
        database.positive(
            "private_cluster_port",
            u64::from(self.database.private_cluster_port),
        );
        database.positive("pool_size", self.database.pool_size as u64);
        database.positive("pool_timeout_ms", self.database.pool_timeout_ms);
        database.positive(
            "connect_timeout_seconds",
            self.database.connect_timeout_seconds,
        );
        database.positive("statement_timeout_ms", self.database.statement_timeout_ms);
        let mut http = Check::new("http", invalid);
        http.positive("max_body_bytes", self.http.max_body_bytes as u64);
        http.positive(
            "rate_limit_per_second",
            u64::from(self.http.rate_limit_per_second),
        );
        http.positive("rate_limit_burst", u64::from(self.http.rate_limit_burst));
        let mut retention = Check::new("retention", invalid);
        retention.positive("interval_seconds", self.retention.interval_seconds);
        retention.positive(
            "idempotency_key_hours",
            self.retention.idempotency_key_hours,
        );
        retention.positive(
            "outbox_delivered_days",
            self.retention.outbox_delivered_days,
        );
        retention.positive("inbox_days", self.retention.inbox_days);
        let mut auth = Check::new("auth", invalid);
        auth.require("issuer", !self.auth.issuer.trim().is_empty(), "is empty");
        auth.require(
            "audience",
            !self.auth.audience.trim().is_empty(),
            "is empty",
        );
        auth.require(
            "algorithm",
            self.auth.algorithm == "EdDSA",
            "must be EdDSA: the suite signs and verifies Ed25519 tokens only",
        );
        auth.positive("token_lifetime_seconds", self.auth.token_lifetime_seconds);
        auth.require(
            "token_lifetime_seconds",
            self.auth.token_lifetime_seconds <= 3600,
            "must be at most 3600: tokens are short-lived",
        );
        auth.require(
            "leeway_seconds",
            self.auth.leeway_seconds <= 300,
            "must be at most 300",
        );
        auth.positive("jwks_timeout_ms", self.auth.jwks_timeout_ms);
        auth.http_url("jwks_url", &self.auth.jwks_url, false);
        for (i, issuer) in self.auth.trusted_issuers.iter().enumerate() {
            auth.http_url(
                &format!("trusted_issuers[{i}].jwks_url"),
                &issuer.jwks_url,
                false,
            );
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn embedded_defaults_parse() {
        let settings = Settings::defaults().unwrap();
        assert_eq!(settings.auth.token_lifetime_seconds, 300);
        assert_eq!(settings.app.environment, Environment::Development);
    }

    #[test]
    fn every_invalid_common_value_is_refused_with_its_key() {
        for (toml, key) in [
            ("[database]\npool_size = 0", "database.pool_size"),
            (
                "[database]\npool_timeout_ms = 0",
                "database.pool_timeout_ms",
            ),
            (
                "[database]\nstatement_timeout_ms = 0",
                "database.statement_timeout_ms",
            ),
            (
                "[database]\nconnect_timeout_seconds = 0",
                "database.connect_timeout_seconds",
            ),
            (
                "[database]\nlocal_server_url = \"not a url\"",
                "database.local_server_url",
            ),
            ("[http]\nmax_body_bytes = 0", "http.max_body_bytes"),
            (
                "[http]\nrate_limit_per_second = 0",
                "http.rate_limit_per_second",
            ),
            ("[http]\nrate_limit_burst = 0", "http.rate_limit_burst"),
            ("[auth]\nalgorithm = \"HS256\"", "auth.algorithm"),
            (
                "[retention]\ninterval_seconds = 0",
                "retention.interval_seconds",
            ),
            (
                "[retention]\nidempotency_key_hours = 0",
                "retention.idempotency_key_hours",
            ),
            (
                "[retention]\noutbox_delivered_days = 0",
                "retention.outbox_delivered_days",
            ),
            ("[retention]\ninbox_days = 0", "retention.inbox_days"),
            ("[auth]\nissuer = \"\"", "auth.issuer"),
            ("[auth]\naudience = \" \"", "auth.audience"),
            (
                "[auth]\ntoken_lifetime_seconds = 0",
                "auth.token_lifetime_seconds",
            ),
            (
                "[auth]\ntoken_lifetime_seconds = 86400",
                "auth.token_lifetime_seconds",
            ),
            ("[auth]\nleeway_seconds = 3600", "auth.leeway_seconds"),
            ("[auth]\njwks_timeout_ms = 0", "auth.jwks_timeout_ms"),
            ("[auth]\njwks_url = \"ftp://keys\"", "auth.jwks_url"),
            ("[http]\nrate_limit_burst = -1", "http.rate_limit_burst"),
            ("[log]\nformat = \"xml\"", "log.format"),
            ("[app]\nenvironment = \"staging\"", "app.environment"),
        ] {
            let error = Config::from_toml(&[], toml)
                .and_then(|config| config.common())
                .expect_err(toml);
            assert!(error.to_string().contains(key), "{toml}: {error}");
        }
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let mut settings = Settings::defaults().unwrap();
        settings.auth.signing_key_pem = Some(SecretString::from("hunter2-secret"));
        let printed = format!("{settings:?}");
        assert!(!printed.contains("hunter2-secret"));
    }

    #[test]
    fn a_file_overrides_the_defaults() {
        let dir = std::env::temp_dir().join(format!("prr-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("override.toml");
        std::fs::write(&file, "[http]\nrate_limit_burst = 7\n").unwrap();
        let settings = Config::load(Some(&file), &[]).unwrap().common().unwrap();
        assert_eq!(settings.http.rate_limit_burst, 7);
        assert_eq!(settings.http.rate_limit_per_second, 50);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
