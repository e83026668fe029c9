//! Looking a therapist up in the Kwaliteitsregister Paramedici. KP has no public API, so the
//! lookup sits behind a trait; the HTTP implementation calls a configurable service.
//!
//! The HTTP contract: `GET {base_url}/registrations/{kp_number}` answers 200 with
//! `{"kp_number", "status", "valid_from", "valid_until"}` or 404 when KP does not know the number.

use std::time::Duration;

use crate::settings::KpVerifierSettings;
use async_trait::async_trait;
use chrono::NaiveDate;
use praktijkregister_domain::{KpNumber, KpStatus};
use serde::Deserialize;

/// What KP says about a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KpRecord {
    pub status: KpStatus,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
}

#[derive(Debug, thiserror::Error)]
pub enum KpVerifyError {
    #[error("no KP verifier is configured")]
    NotConfigured,
    #[error("the KP verifier did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the KP verifier answered with status {0}")]
    Status(u16),
    #[error("the KP verifier could not be reached or answered badly: {0}")]
    Upstream(String),
}

impl KpVerifyError {
    /// Worth another attempt after a pause: a timeout, or a 5xx answer (KP overloaded or down
    /// for a moment).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Timeout(_) => true,
            Self::Status(status) => *status >= 500,
            Self::NotConfigured | Self::Upstream(_) => false,
        }
    }
}

#[async_trait]
pub trait KpVerifier: Send + Sync {
    async fn verify(&self, kp_number: &KpNumber) -> Result<KpRecord, KpVerifyError>;
}

pub struct HttpKpVerifier {
    base_url: Option<url::Url>,
    timeout: Duration,
    client: reqwest::Client,
}

#[derive(Deserialize)]
struct KpAnswer {
    status: String,
    valid_from: Option<NaiveDate>,
    valid_until: Option<NaiveDate>,
}

impl HttpKpVerifier {
    pub fn new(settings: &KpVerifierSettings) -> Result<Self, reqwest::Error> {
        let timeout = Duration::from_millis(settings.timeout_ms);
        // A base URL with a path (`https://kp.example/api`) keeps it: `join` drops a last segment
        // that has no trailing slash.
        let base_url = url::Url::parse(settings.base_url.trim())
            .ok()
            .map(|mut url| {
                if !url.path().ends_with('/') {
                    let path = format!("{}/", url.path());
                    url.set_path(&path);
                }
                url
            });
        Ok(Self {
            base_url,
            timeout,
            client: reqwest::Client::builder().timeout(timeout).build()?,
        })
    }
}

#[async_trait]
impl KpVerifier for HttpKpVerifier {
    async fn verify(&self, kp_number: &KpNumber) -> Result<KpRecord, KpVerifyError> {
        let base = self.base_url.as_ref().ok_or(KpVerifyError::NotConfigured)?;
        let url = base
            .join(&format!("registrations/{}", kp_number.as_str()))
            .map_err(|e| KpVerifyError::Upstream(e.to_string()))?;
        let classify = |e: reqwest::Error| {
            if e.is_timeout() {
                KpVerifyError::Timeout(self.timeout)
            } else {
                KpVerifyError::Upstream(e.without_url().to_string())
            }
        };
        let response = self.client.get(url).send().await.map_err(classify)?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(KpRecord {
                status: KpStatus::NotRegistered,
                valid_from: None,
                valid_until: None,
            });
        }
        if !response.status().is_success() {
            return Err(KpVerifyError::Status(response.status().as_u16()));
        }
        let answer: KpAnswer = response.json().await.map_err(classify)?;
        let status = KpStatus::parse(&answer.status)
            .map_err(|_| KpVerifyError::Upstream(format!("unknown status `{}`", answer.status)))?;
        if let (Some(from), Some(until)) = (answer.valid_from, answer.valid_until) {
            if until < from {
                return Err(KpVerifyError::Upstream(format!(
                    "the period ends ({until}) before it starts ({from})"
                )));
            }
        }
        Ok(KpRecord {
            status,
            valid_from: answer.valid_from,
            valid_until: answer.valid_until,
        })
    }
}
