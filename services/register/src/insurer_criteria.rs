//! The criteria set an insurer applies (001 §2.2; DESIGN §3.5), read from the insurer-export
//! service, which keeps the sets, through the register's service client. The register's
//! compliance endpoint applies it when it is asked for one insurer. Answers are kept a short
//! while; when the service cannot be read, the register's own set applies and the answer says so.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use praktijkregister_domain::{InsurerCriteriaApplied, InsurerCriteriaSet, UzoviCode};
use praktijkregister_platform::service_client::{ServiceCallError, ServiceClient};

/// What the register applies for an insurer.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// No insurer-export service is configured: the register's set, as before.
    NotConfigured,
    /// The insurer's current set.
    Set(InsurerCriteriaSet),
    /// The register's set, for the reason given.
    Fallback(InsurerCriteriaApplied),
}

/// The insurer-export service's criteria sets, cached per insurer and contract year.
pub struct InsurerCriteria {
    /// Set once, when the service is configured.
    client: OnceLock<Arc<ServiceClient>>,
    ttl: Duration,
    /// Per insurer and contract year; failures are not kept.
    cache: Mutex<HashMap<(String, u16), Cached>>,
}

/// When it was read, and the insurer's set (`None`: it has none for the year).
type Cached = (Instant, Option<InsurerCriteriaSet>);

impl InsurerCriteria {
    pub fn new(ttl: Duration) -> Self {
        Self {
            client: OnceLock::new(),
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Reads the sets through `client` (based at the insurer-export service) from now on; false
    /// when a client was set before.
    pub fn connect(&self, client: Arc<ServiceClient>) -> bool {
        self.client.set(client).is_ok()
    }

    /// The set of `insurer` for `contract_year`.
    pub async fn lookup(&self, insurer: &UzoviCode, contract_year: u16) -> Lookup {
        let Some(client) = self.client.get() else {
            return Lookup::NotConfigured;
        };
        let key = (insurer.as_str().to_string(), contract_year);
        let cached = self.cache.lock().ok().and_then(|cache| {
            cache
                .get(&key)
                .filter(|(at, _)| at.elapsed() < self.ttl)
                .map(|(_, set)| set.clone())
        });
        let answer = match cached {
            Some(answer) => answer,
            None => {
                let url = format!("/v1/internal/criteria/{}/{contract_year}", insurer.as_str());
                let answer = match client.get_json::<InsurerCriteriaSet>(&url).await {
                    Ok(set) => Some(set),
                    Err(ServiceCallError::Refused { status: 404, .. }) => None,
                    Err(error) => {
                        tracing::warn!(error = %error, "the insurer's criteria could not be read");
                        return fallback(
                            insurer,
                            contract_year,
                            format!(
                                "the insurer-export service could not be read ({error}); the \
                                 register's criteria set applies"
                            ),
                        );
                    }
                };
                if let Ok(mut cache) = self.cache.lock() {
                    cache.insert(key, (Instant::now(), answer.clone()));
                }
                answer
            }
        };
        match answer {
            Some(set) => Lookup::Set(set),
            None => fallback(
                insurer,
                contract_year,
                format!(
                    "the insurer has no criteria set for contract year {contract_year}; the \
                     register's criteria set applies"
                ),
            ),
        }
    }
}

fn fallback(insurer: &UzoviCode, contract_year: u16, note: String) -> Lookup {
    Lookup::Fallback(InsurerCriteriaApplied {
        insurer_uzovi: insurer.as_str().to_string(),
        contract_year,
        version: None,
        note: Some(note),
    })
}
