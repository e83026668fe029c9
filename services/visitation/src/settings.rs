//! The visitation service's settings section, `[visitation]`: where the register is, how long its
//! directory is reused, the report size limit, the default components, the outbox and the service
//! client. Validated when loaded; a refusal names the key.

use praktijkregister_platform::config::{Check, ServiceSettings};
use praktijkregister_platform::outbox::OutboxSettings;
use praktijkregister_platform::service_client::ServiceClientSettings;
use serde::Deserialize;

/// The section's defaults, compiled in.
pub const DEFAULTS: &str = include_str!("../config/defaults.toml");

/// The longest name of a component.
pub const MAX_COMPONENT_CHARS: usize = 100;

#[derive(Debug, Clone, Deserialize)]
pub struct VisitationSettings {
    /// The register's base URL, for its directory.
    pub register_url: String,
    pub directory_cache_seconds: u64,
    pub report_max_bytes: usize,
    /// The components of a year without its own list (000).
    pub components: Vec<String>,
    /// Where the events go: destination `register`.
    pub outbox: OutboxSettings,
    /// The client the directory is read and the outbox delivered with.
    pub service_client: ServiceClientSettings,
}

/// Whether `name` may name a component: 1 to 100 lower-case letters, digits or `_`.
pub fn valid_component(name: &str) -> bool {
    (1..=MAX_COMPONENT_CHARS).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl ServiceSettings for VisitationSettings {
    fn validate(&self, check: &mut Check<'_>) {
        check.http_url("register_url", &self.register_url, false);
        check.positive("report_max_bytes", self.report_max_bytes as u64);
        let mut unique = self.components.clone();
        unique.sort();
        unique.dedup();
        check.require(
            "components",
            !self.components.is_empty()
                && unique.len() == self.components.len()
                && self.components.iter().all(|c| valid_component(c)),
            "list one or more distinct names of lower-case letters, digits or `_`",
        );
        if let Err(reason) = self.outbox.validate("outbox") {
            refuse_named(check, &reason);
        }
        if let Err(reason) = self.service_client.validate("service_client") {
            refuse_named(check, &reason);
        }
    }
}

/// A platform validation's refusal, `"<key> <reason>"`, as a refusal of that key of the section.
fn refuse_named(check: &mut Check<'_>, refusal: &str) {
    let (key, reason) = refusal.split_once(' ').unwrap_or((refusal, "is not valid"));
    check.require(key, false, reason);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use praktijkregister_platform::config::Config;
    use praktijkregister_platform::service::Service as _;

    use super::*;
    use crate::startup::Visitation;

    fn load(toml: &str) -> Result<VisitationSettings, String> {
        Config::from_toml(&[Visitation::defaults()], toml)
            .and_then(|config| config.section("visitation"))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_defaults_load_with_the_eight_components_and_the_register_as_destination() {
        let settings = load("").unwrap();
        assert_eq!(
            settings.components,
            praktijkregister_domain::DEFAULT_COMPONENTS
        );
        assert_eq!(
            settings.outbox.destinations["register"],
            "http://127.0.0.1:8081/v1/internal/visitation-outcomes"
        );
        let config = Config::from_toml(&[Visitation::defaults()], "").unwrap();
        let server = config.server("visitation").unwrap();
        assert_eq!(server.port, 8082);
        assert_eq!(server.database_name, "praktijkregister_visitation");
    }

    #[test]
    fn bad_values_are_refused_by_key() {
        for (toml, key) in [
            (
                "[visitation]\nreport_max_bytes = 0",
                "visitation.report_max_bytes",
            ),
            ("[visitation]\ncomponents = []", "visitation.components"),
            (
                "[visitation]\ncomponents = [\"a\", \"a\"]",
                "visitation.components",
            ),
            (
                "[visitation]\nregister_url = \"ftp://x\"",
                "visitation.register_url",
            ),
        ] {
            let error = load(toml).expect_err(toml);
            assert!(error.contains(key), "{toml}: {error}");
        }
    }
}
