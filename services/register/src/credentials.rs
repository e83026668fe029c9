//! Client secrets: generated once, shown once, stored only as hashes (DESIGN §5).
//!
//! The secrets the register generates are 256 random bits: no guess list helps against them, so
//! they are stored as a keyed fast hash (HMAC-SHA-256 under a server-side key, `$hmac-sha256$`),
//! which costs microseconds to verify. argon2 is kept for secrets a person chose (the configured
//! registrar secret, at least [`MIN_CHOSEN_SECRET_CHARS`] characters) and for hashes stored
//! before; an argon2 hash of a generated secret is replaced by the keyed hash on its next
//! successful verification. argon2 verifications are bounded ([`SecretVerifier`]): at most a
//! configured number at once, the rest refused with 429, so that a flood of wrong secrets cannot
//! take every core or the memory each verification needs.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use praktijkregister_platform::config::{non_empty, Environment, Settings};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::settings::CredentialSettings;

/// The fewest characters of a secret a person chooses (the configured registrar secret); the
/// suite's own secrets are 43 random characters.
pub const MIN_CHOSEN_SECRET_CHARS: usize = 16;

/// The prefix of a keyed hash.
const HMAC_PREFIX: &str = "$hmac-sha256$";

/// A fresh secret: 32 random bytes, URL-safe base64 (43 characters).
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `secret` has the form of a secret the register generates (32 bytes, URL-safe base64).
pub fn looks_generated(secret: &str) -> bool {
    secret.len() == 43
        && URL_SAFE_NO_PAD
            .decode(secret)
            .is_ok_and(|bytes| bytes.len() == 32)
}

/// The argon2 hash of a secret a person chose.
pub fn hash_secret(secret: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Ok(Argon2::default()
        .hash_password(secret.as_bytes(), &salt)?
        .to_string())
}

/// Verifies `secret` against an argon2 hash (slow: call it off the worker, bounded).
pub fn verify_secret(secret: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(secret.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of a secret nobody knows, verified against for unknown client ids so that the answer
/// takes as long as for a known one.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_secret(&generate_secret()).unwrap_or_default())
}

/// Decodes a configured key: base64 of at least 32 bytes.
pub fn decode_key(encoded: &str) -> Option<Vec<u8>> {
    STANDARD
        .decode(encoded.trim())
        .ok()
        .filter(|key| key.len() >= 32)
}

/// HMAC-SHA-256 (RFC 2104) of `message` under `key`.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// Equality that takes as long whatever the first differing byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What checking a secret against a stored hash found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// The secret matches; `upgrade` is the keyed hash to store instead of an argon2 hash.
    Valid {
        upgrade: Option<String>,
    },
    Invalid,
    /// Too many argon2 verifications are running; try again shortly.
    Busy,
}

/// Hashes and verifies client secrets, bounding the argon2 work (see the module documentation).
pub struct SecretVerifier {
    key: Vec<u8>,
    argon2: Semaphore,
    running: AtomicUsize,
    peak: AtomicUsize,
    failures: FailureCounter,
}

impl SecretVerifier {
    pub fn new(key: Vec<u8>, settings: &CredentialSettings) -> Self {
        Self {
            key,
            argon2: Semaphore::new(settings.max_concurrent_argon2.max(1) as usize),
            running: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            failures: FailureCounter::new(
                settings.failed_attempts_per_client_per_minute,
                Duration::from_secs(60),
            ),
        }
    }

    /// Loads the key from `[register.credentials]`; in development generates one under
    /// `data_dir` once (as the signing key); in production a missing key stops the start.
    pub fn from_settings(
        settings: &Settings,
        section: &CredentialSettings,
    ) -> anyhow::Result<Self> {
        Ok(Self::new(load_key(settings, section)?, section))
    }

    /// The keyed hash of a generated secret.
    pub fn hash_generated(&self, secret: &str) -> String {
        format!(
            "{HMAC_PREFIX}{}",
            STANDARD.encode(hmac_sha256(&self.key, secret.as_bytes()))
        )
    }

    /// Checks `secret` against `hash`: a keyed hash at once, an argon2 hash on a blocking thread
    /// when a slot is free (else [`Verification::Busy`]). `may_upgrade`: the secret is not one a
    /// person chose, so a matching argon2 hash may be replaced by the keyed hash.
    pub async fn verify(&self, secret: &str, hash: &str, may_upgrade: bool) -> Verification {
        if let Some(tag) = hash.strip_prefix(HMAC_PREFIX) {
            let expected = hmac_sha256(&self.key, secret.as_bytes());
            return match STANDARD.decode(tag) {
                Ok(stored) if constant_time_eq(&stored, &expected) => {
                    Verification::Valid { upgrade: None }
                }
                _ => Verification::Invalid,
            };
        }
        let Ok(_permit) = self.argon2.try_acquire() else {
            return Verification::Busy;
        };
        let running = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(running, Ordering::SeqCst);
        let (owned_secret, owned_hash) = (secret.to_string(), hash.to_string());
        let verified =
            tokio::task::spawn_blocking(move || verify_secret(&owned_secret, &owned_hash))
                .await
                .unwrap_or(false);
        self.running.fetch_sub(1, Ordering::SeqCst);
        if !verified {
            return Verification::Invalid;
        }
        let upgrade = (may_upgrade && looks_generated(secret)).then(|| self.hash_generated(secret));
        Verification::Valid { upgrade }
    }

    /// The most argon2 verifications that ran at once since the start.
    pub fn argon2_peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// Seconds to wait when `client_id` has failed too often in the last minute.
    pub fn blocked(&self, client_id: &str) -> Option<u64> {
        self.failures.blocked(client_id, Instant::now())
    }

    /// Counts a failed authentication of `client_id`.
    pub fn failed(&self, client_id: &str) {
        self.failures.record(client_id, Instant::now());
    }
}

/// Failed authentications per client id in a fixed window.
struct FailureCounter {
    limit: u32,
    window: Duration,
    counts: Mutex<HashMap<String, (Instant, u32)>>,
}

impl FailureCounter {
    fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            counts: Mutex::new(HashMap::new()),
        }
    }

    fn blocked(&self, client_id: &str, now: Instant) -> Option<u64> {
        let counts = self.counts.lock().ok()?;
        let (start, count) = counts.get(client_id)?;
        let elapsed = now.duration_since(*start);
        (elapsed < self.window && *count >= self.limit)
            .then(|| (self.window - elapsed).as_secs().max(1))
    }

    fn record(&self, client_id: &str, now: Instant) {
        let Ok(mut counts) = self.counts.lock() else {
            return;
        };
        if counts.len() > 10_000 {
            let window = self.window;
            counts.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        // Keys are bounded: an over-long id is counted under its first 64 bytes.
        let key: String = client_id.chars().take(64).collect();
        let entry = counts.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

fn load_key(settings: &Settings, section: &CredentialSettings) -> anyhow::Result<Vec<u8>> {
    let invalid =
        || anyhow::anyhow!("register.credentials.hash_key must be base64 of at least 32 bytes");
    if let Some(key) = non_empty(section.hash_key.as_ref()) {
        return decode_key(key).ok_or_else(invalid);
    }
    if let Some(path) = section
        .hash_key_file
        .as_ref()
        .filter(|p| !p.as_os_str().is_empty())
    {
        return decode_key(&std::fs::read_to_string(path)?).ok_or_else(invalid);
    }
    if settings.app.environment == Environment::Production {
        anyhow::bail!("register.credentials.hash_key (or hash_key_file) is required in production");
    }
    development_key(&settings.app.data_dir.join("secret_hash_key"))
}

/// The development key under the data directory, generated on first use.
fn development_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        if let Some(key) = decode_key(&existing) {
            return Ok(key);
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    match praktijkregister_platform::signing::write_private(path, STANDARD.encode(key).as_bytes()) {
        Ok(()) => {
            tracing::info!(path = %path.display(), "generated a development secret hash key");
            Ok(key.to_vec())
        }
        // Another process wrote it first: use theirs.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            decode_key(&std::fs::read_to_string(path)?)
                .ok_or_else(|| anyhow::anyhow!("{} holds no valid key", path.display()))
        }
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn settings(max_argon2: u32) -> CredentialSettings {
        CredentialSettings {
            hash_key: None,
            hash_key_file: None,
            max_concurrent_argon2: max_argon2,
            failed_attempts_per_client_per_minute: 3,
        }
    }

    #[test]
    fn a_secret_verifies_against_its_hash_only() {
        let secret = generate_secret();
        assert_eq!(secret.len(), 43);
        assert!(looks_generated(&secret));
        assert!(!looks_generated("a person's chosen secret"));
        let hash = hash_secret(&secret).unwrap_or_default();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_secret(&secret, &hash));
        assert!(!verify_secret("another secret", &hash));
        assert!(!verify_secret(&secret, "not a hash"));
    }

    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        // RFC 4231 §4.3, test case 2.
        let tag = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            tag.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[tokio::test]
    async fn a_generated_secret_is_a_keyed_hash_and_verifies_without_argon2() {
        let verifier = SecretVerifier::new(vec![7; 32], &settings(1));
        let secret = generate_secret();
        let hash = verifier.hash_generated(&secret);
        assert!(hash.starts_with("$hmac-sha256$"));
        assert!(!hash.starts_with("$argon2"));
        assert_eq!(
            verifier.verify(&secret, &hash, true).await,
            Verification::Valid { upgrade: None }
        );
        assert_eq!(
            verifier.verify(&generate_secret(), &hash, true).await,
            Verification::Invalid
        );
        assert_eq!(verifier.argon2_peak(), 0);
        // Another key gives another hash: the database alone does not let anyone test guesses.
        let other = SecretVerifier::new(vec![8; 32], &settings(1));
        assert_ne!(other.hash_generated(&secret), hash);
    }

    #[tokio::test]
    async fn an_argon2_hash_still_verifies_and_is_upgraded_unless_the_secret_was_chosen() {
        let verifier = SecretVerifier::new(vec![7; 32], &settings(1));
        let secret = generate_secret();
        let old = hash_secret(&secret).unwrap();
        let Verification::Valid {
            upgrade: Some(upgraded),
        } = verifier.verify(&secret, &old, true).await
        else {
            panic!("an argon2 hash of a generated secret verifies and is upgraded");
        };
        assert_eq!(upgraded, verifier.hash_generated(&secret));
        let chosen = "a secret a person chose";
        let chosen_hash = hash_secret(chosen).unwrap();
        assert_eq!(
            verifier.verify(chosen, &chosen_hash, true).await,
            Verification::Valid { upgrade: None }
        );
        assert_eq!(
            verifier.verify(&secret, &old, false).await,
            Verification::Valid { upgrade: None }
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_argon2_verifications_run_at_once_than_configured() {
        let verifier = Arc::new(SecretVerifier::new(vec![7; 32], &settings(2)));
        let hash = hash_secret("a secret a person chose").unwrap();
        let attempts: Vec<_> = (0..12)
            .map(|_| {
                let (verifier, hash) = (verifier.clone(), hash.clone());
                tokio::spawn(async move { verifier.verify("wrong guess", &hash, true).await })
            })
            .collect();
        let mut busy = 0;
        for attempt in attempts {
            match attempt.await.unwrap() {
                Verification::Busy => busy += 1,
                Verification::Invalid => {}
                Verification::Valid { .. } => panic!("a wrong secret verified"),
            }
        }
        assert!(verifier.argon2_peak() <= 2, "{}", verifier.argon2_peak());
        assert!(verifier.argon2_peak() >= 1);
        assert!(busy > 0, "12 at once against 2 slots: some are refused");
    }

    #[test]
    fn failures_per_client_id_block_until_the_window_ends() {
        let counter = FailureCounter::new(3, Duration::from_secs(60));
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(counter.blocked("client", start), None);
            counter.record("client", start);
        }
        assert!(counter.blocked("client", start).is_some());
        assert_eq!(counter.blocked("other", start), None);
        assert_eq!(
            counter.blocked("client", start + Duration::from_secs(61)),
            None
        );
    }
}
