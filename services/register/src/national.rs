//! National figures (quartiles, means) of a year, computed once and shared (DESIGN §7).
//!
//! A figure is computed by the first request that needs it; requests arriving meanwhile wait
//! for that one computation instead of starting their own (single-flight). It is kept until a
//! change through this replica forgets it, and at most `ttl`, which bounds how stale a figure
//! can be after a change through another replica.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

/// One year's figures, or the computation under way that will fill them.
type Slot<T> = Arc<OnceCell<(Instant, Arc<T>)>>;

pub struct NationalCache<T> {
    ttl: Duration,
    slots: Mutex<HashMap<i32, Slot<T>>>,
    computations: AtomicU64,
}

impl<T> NationalCache<T> {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            slots: Mutex::default(),
            computations: AtomicU64::new(0),
        }
    }

    /// The figures of `year`: kept ones younger than the ttl, else those `compute` returns. A
    /// failed computation is not kept; the next request tries again.
    pub async fn get_or_compute<E, Fut>(
        &self,
        year: i32,
        compute: impl FnOnce() -> Fut,
    ) -> Result<Arc<T>, E>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        let slot = {
            // A panic elsewhere while holding the lock leaves the map consistent: keep using it.
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            let live = slots
                .get(&year)
                .filter(|slot| slot.get().is_none_or(|(at, _)| at.elapsed() < self.ttl))
                .cloned();
            match live {
                Some(slot) => slot,
                None => {
                    let slot = Slot::default();
                    slots.insert(year, slot.clone());
                    slot
                }
            }
        };
        let (_, figures) = slot
            .get_or_try_init(|| async {
                self.computations.fetch_add(1, Ordering::Relaxed);
                let figures = compute().await?;
                Ok((Instant::now(), Arc::new(figures)))
            })
            .await?;
        Ok(figures.clone())
    }

    /// Forgets the figures of `year` after a change to what they are computed from; a
    /// computation under way finishes for those already waiting on it.
    pub fn forget(&self, year: i32) {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&year);
    }

    /// How many computations were started, for tests and metrics.
    pub fn computations(&self) -> u64 {
        self.computations.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    async fn slow(value: u32) -> Result<u32, std::convert::Infallible> {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(value)
    }

    #[tokio::test]
    async fn concurrent_first_calls_compute_once() {
        let cache = Arc::new(NationalCache::new(Duration::from_secs(60)));
        let calls: Vec<_> = (0..16)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { *cache.get_or_compute(2026, || slow(7)).await.unwrap() })
            })
            .collect();
        for call in calls {
            assert_eq!(call.await.unwrap(), 7);
        }
        assert_eq!(cache.computations(), 1);
        // Another year is computed on its own.
        cache.get_or_compute(2025, || slow(5)).await.unwrap();
        assert_eq!(cache.computations(), 2);
    }

    #[tokio::test]
    async fn a_forgotten_or_expired_figure_is_computed_again_and_a_failure_is_not_kept() {
        let cache = NationalCache::new(Duration::from_millis(100));
        assert_eq!(*cache.get_or_compute(2026, || slow(1)).await.unwrap(), 1);
        assert_eq!(*cache.get_or_compute(2026, || slow(2)).await.unwrap(), 1);
        cache.forget(2026);
        assert_eq!(*cache.get_or_compute(2026, || slow(3)).await.unwrap(), 3);
        // After the ttl (the staleness bound for changes through other replicas) it is recomputed.
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(*cache.get_or_compute(2026, || slow(4)).await.unwrap(), 4);
        assert_eq!(cache.computations(), 3);

        cache.forget(2026);
        let failed = cache
            .get_or_compute(2026, || async { Err::<u32, _>("database down") })
            .await;
        assert_eq!(failed.unwrap_err(), "database down");
        assert_eq!(*cache.get_or_compute(2026, || slow(5)).await.unwrap(), 5);
    }
}
