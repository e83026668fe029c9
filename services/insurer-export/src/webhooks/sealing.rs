//! Endpoint secrets at rest (DESIGN §5): a secret signs the webhooks an insurer trusts, so the
//! database keeps it sealed with AES-256-GCM under the service's webhook key and bound to the
//! endpoint's id (a sealed secret copied to another row does not open). A copy of the database
//! alone gives no secret away. The key comes from `insurer_export.webhooks.secret_key` (base64 of
//! 32 bytes, e.g. from a secret store) or `secret_key_file`; in development, when neither is set,
//! from `<data_dir>/webhook_secret_key`, created on first use like the other development secrets.

use std::path::Path;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use praktijkregister_platform::config::{non_empty, Environment, Settings};
use praktijkregister_platform::error::ApiError;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use uuid::Uuid;

use crate::schema::webhook_endpoints;
use crate::settings::WebhookSettings;

/// The first byte of a sealed secret: the layout `version ‖ nonce ‖ ciphertext ‖ tag`.
const VERSION: u8 = 1;
/// The development key's file under `data_dir`.
pub const DEVELOPMENT_KEY_FILE: &str = "webhook_secret_key";

/// Why the key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "insurer_export.webhooks.secret_key or secret_key_file must be set in production \
         (base64 of 32 random bytes)"
    )]
    Missing,
    #[error("the webhook secret key must be base64 of exactly 32 bytes")]
    Invalid,
    #[error("the webhook secret key at {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// The key endpoint secrets are sealed with.
#[derive(Clone)]
pub struct SecretKey(Arc<[u8; 32]>);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    /// The configured key, or in development the key under `data_dir`.
    pub fn from_settings(
        settings: &Settings,
        webhooks: &WebhookSettings,
    ) -> Result<Self, KeyError> {
        if let Some(inline) = non_empty(webhooks.secret_key.as_ref()) {
            return Self::from_base64(inline);
        }
        if let Some(path) = webhooks
            .secret_key_file
            .as_ref()
            .filter(|p| !p.as_os_str().is_empty())
        {
            return Self::from_base64(&read(path)?);
        }
        if settings.app.environment == Environment::Production {
            return Err(KeyError::Missing);
        }
        Self::development(&settings.app.data_dir)
    }

    /// Base64 (standard, padded or not) of 32 bytes; surrounding white space is ignored.
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let text = text.trim().trim_end_matches('=');
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(text)
            .map_err(|_| KeyError::Invalid)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Invalid)?;
        Ok(Self(Arc::new(key)))
    }

    /// A new random key.
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
        Self(Arc::new(key))
    }

    /// The development key at `<data_dir>/webhook_secret_key`, created (owner-only) when absent.
    fn development(data_dir: &Path) -> Result<Self, KeyError> {
        let path = data_dir.join(DEVELOPMENT_KEY_FILE);
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        if path.is_file() {
            return Self::from_base64(&read(&path)?);
        }
        std::fs::create_dir_all(data_dir).map_err(io)?;
        let key = Self::generate();
        let encoded = STANDARD.encode(*key.0);
        match praktijkregister_platform::signing::write_private(&path, encoded.as_bytes()) {
            Ok(()) => {
                tracing::info!(path = %path.display(), "generated a development webhook secret key");
                Ok(key)
            }
            // Another process of the machine created it first: theirs is the key.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Self::from_base64(&read(&path)?)
            }
            Err(e) => Err(io(e)),
        }
    }

    fn aead(&self) -> LessSafeKey {
        // 32 bytes is AES-256's key length, so this cannot fail.
        LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &self.0[..])
                .unwrap_or_else(|_| unreachable!("a 32-byte key is an AES-256 key")),
        )
    }

    /// `secret` sealed for endpoint `endpoint`.
    pub fn seal(&self, endpoint: Uuid, secret: &str) -> Result<Vec<u8>, ApiError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut nonce);
        let mut sealed = secret.as_bytes().to_vec();
        self.aead()
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(endpoint.as_bytes()),
                &mut sealed,
            )
            .map_err(|_| ApiError::internal(anyhow::anyhow!("sealing a webhook secret failed")))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The secret of endpoint `endpoint` from its sealed form; an error when it was sealed under
    /// another key or for another endpoint, or was altered.
    pub fn open(&self, endpoint: Uuid, sealed: &[u8]) -> Result<String, ApiError> {
        let refused = || {
            ApiError::internal(anyhow::anyhow!(
                "the secret of webhook endpoint {endpoint} does not open with the configured key"
            ))
        };
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != VERSION {
            return Err(refused());
        }
        let nonce =
            Nonce::try_assume_unique_for_key(&sealed[1..=NONCE_LEN]).map_err(|_| refused())?;
        let mut buffer = sealed[1 + NONCE_LEN..].to_vec();
        let plain = self
            .aead()
            .open_in_place(nonce, Aad::from(endpoint.as_bytes()), &mut buffer)
            .map_err(|_| refused())?;
        String::from_utf8(plain.to_vec()).map_err(|_| refused())
    }
}

fn read(path: &Path) -> Result<String, KeyError> {
    std::fs::read_to_string(path).map_err(|source| KeyError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Seals every secret still kept in plain text (endpoints registered before secrets were
/// sealed) and clears the plain text, in one transaction. The number sealed.
pub async fn seal_stored(conn: &mut AsyncPgConnection, key: &SecretKey) -> Result<usize, ApiError> {
    use diesel_async::scoped_futures::ScopedFutureExt;
    use diesel_async::AsyncConnection;
    conn.transaction::<_, ApiError, _>(|conn| {
        async move {
            let plain: Vec<(Uuid, Option<String>)> = webhook_endpoints::table
                .filter(webhook_endpoints::legacy_secret.is_not_null())
                .select((webhook_endpoints::id, webhook_endpoints::legacy_secret))
                .for_update()
                .load(conn)
                .await?;
            for (id, secret) in &plain {
                let Some(secret) = secret else { continue };
                let sealed = key.seal(*id, secret)?;
                diesel::update(webhook_endpoints::table.find(id))
                    .set((
                        webhook_endpoints::sealed_secret.eq(Some(sealed)),
                        webhook_endpoints::legacy_secret.eq(None::<String>),
                    ))
                    .execute(conn)
                    .await?;
            }
            Ok(plain.len())
        }
        .scope_boxed()
    })
    .await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_for_its_endpoint() {
        let key = SecretKey::generate();
        let endpoint = Uuid::now_v7();
        let secret = crate::webhooks::new_secret();
        let sealed = key.seal(endpoint, &secret).unwrap();
        assert!(!sealed.windows(secret.len()).any(|w| w == secret.as_bytes()));
        assert_ne!(
            key.seal(endpoint, &secret).unwrap(),
            sealed,
            "a nonce per seal"
        );
        assert_eq!(key.open(endpoint, &sealed).unwrap(), secret);
        assert!(SecretKey::generate().open(endpoint, &sealed).is_err());
        assert!(key.open(Uuid::now_v7(), &sealed).is_err());
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(key.open(endpoint, &altered).is_err());
        assert!(key.open(endpoint, &sealed[..5]).is_err());
    }

    #[test]
    fn keys_are_read_as_base64_of_32_bytes_and_made_once_in_development() {
        let encoded = STANDARD.encode([7u8; 32]);
        assert!(SecretKey::from_base64(&format!(" {encoded}\n")).is_ok());
        assert!(matches!(
            SecretKey::from_base64(&STANDARD.encode([7u8; 16])),
            Err(KeyError::Invalid)
        ));
        assert!(matches!(
            SecretKey::from_base64("not base64!"),
            Err(KeyError::Invalid)
        ));

        let mut settings = Settings::defaults().unwrap();
        settings.app.data_dir =
            std::env::temp_dir().join(format!("prr-webhook-key-{}", Uuid::new_v4()));
        let webhooks = WebhookSettings {
            retry_period_seconds: 1,
            backoff_base_ms: 1,
            backoff_max_ms: 1,
            request_timeout_ms: 1,
            poll_interval_ms: 1,
            batch_size: 1,
            secret_key: None,
            secret_key_file: None,
        };
        let first = SecretKey::from_settings(&settings, &webhooks).unwrap();
        let again = SecretKey::from_settings(&settings, &webhooks).unwrap();
        let endpoint = Uuid::now_v7();
        let sealed = first.seal(endpoint, "whsec_x").unwrap();
        assert_eq!(again.open(endpoint, &sealed).unwrap(), "whsec_x");
        settings.app.environment = Environment::Production;
        assert!(matches!(
            SecretKey::from_settings(&settings, &webhooks),
            Err(KeyError::Missing)
        ));
        std::fs::remove_dir_all(&settings.app.data_dir).unwrap();
    }
}
