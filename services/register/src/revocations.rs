//! The register issues the suite's tokens, so it refuses a revoked client's tokens at once
//! instead of when they expire (DESIGN §5). The answer per client is cached for at most
//! [`CACHE_SECONDS`], so that a burst of requests does not read the client on every one; the
//! revoking request itself forgets the cached answer. Other services verify tokens by the
//! published keys alone and accept a revoked client's token until it expires (at most
//! `auth.token_lifetime_seconds`, 5 minutes by default).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use praktijkregister_platform::auth::Revocations;
use praktijkregister_platform::db::{connection, DbPool};
use praktijkregister_platform::error::ApiError;

use crate::schema::api_clients;

/// How long an answer may be reused.
pub const CACHE_SECONDS: u64 = 2;

/// Whether a client is revoked, read from `api_clients` and cached briefly.
pub struct ClientRevocations {
    pool: DbPool,
    cache: Mutex<HashMap<String, (bool, Instant)>>,
}

impl ClientRevocations {
    pub fn new(pool: DbPool) -> Self {
        Self {
            pool,
            cache: Mutex::default(),
        }
    }

    /// Drops the cached answer for `client_id` (after revoking it).
    pub fn forget(&self, client_id: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(client_id);
        }
    }

    fn cached(&self, client_id: &str) -> Option<bool> {
        let cache = self.cache.lock().ok()?;
        cache
            .get(client_id)
            .filter(|(_, at)| at.elapsed() < Duration::from_secs(CACHE_SECONDS))
            .map(|(revoked, _)| *revoked)
    }
}

#[async_trait::async_trait]
impl Revocations for ClientRevocations {
    async fn is_revoked(&self, client_id: &str) -> Result<bool, ApiError> {
        if let Some(revoked) = self.cached(client_id) {
            return Ok(revoked);
        }
        let mut conn = connection(&self.pool).await?;
        // An unknown client (deleted, or never issued here) has no valid token either.
        let revoked = api_clients::table
            .find(client_id)
            .select(api_clients::revoked_at.is_not_null())
            .first::<bool>(&mut conn)
            .await
            .optional()?
            .unwrap_or(true);
        if let Ok(mut cache) = self.cache.lock() {
            // Bounded: a flood of distinct ids cannot grow the cache without end.
            if cache.len() >= 10_000 {
                cache.retain(|_, (_, at)| at.elapsed() < Duration::from_secs(CACHE_SECONDS));
            }
            cache.insert(client_id.to_string(), (revoked, Instant::now()));
        }
        Ok(revoked)
    }
}
