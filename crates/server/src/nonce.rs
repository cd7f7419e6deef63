//! Replay protection: a nonce seen again inside the clock window is rejected.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use time::OffsetDateTime;

const SHARDS: usize = 32;

/// Outcome of [`NonceCache::check_and_insert`].
#[derive(Debug, PartialEq, Eq)]
pub enum NonceCheck {
    /// First use: remembered until it can no longer pass the clock check.
    Fresh,
    /// Seen before within the window.
    Replayed,
    /// The cache is full of live nonces; the request is refused rather than let through
    /// unchecked (fail closed).
    Full,
}

/// Sharded map of `(AccessKeyId, nonce)` → the instant after which the request's
/// timestamp is outside the window anyway, so the entry can be forgotten.
#[derive(Debug)]
pub struct NonceCache {
    shards: Vec<Mutex<HashMap<String, i64>>>,
    hasher: std::collections::hash_map::RandomState,
    len: AtomicUsize,
    capacity: usize,
}

impl NonceCache {
    /// A cache holding at most `capacity` live nonces.
    pub fn new(capacity: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: std::collections::hash_map::RandomState::new(),
            len: AtomicUsize::new(0),
            capacity,
        }
    }

    /// Records the nonce of a request whose timestamp is `stamp`; `window` is the accepted
    /// skew. Call only after the signature verified, so strangers cannot fill the cache.
    pub fn check_and_insert(
        &self,
        access_key_id: &str,
        nonce: &str,
        stamp: OffsetDateTime,
        window: time::Duration,
        now: OffsetDateTime,
    ) -> NonceCheck {
        let key = format!("{access_key_id}\u{0}{nonce}");
        let shard_index = usize::try_from(self.hasher.hash_one(&key) % SHARDS as u64).unwrap_or(0);
        let Some(shard) = self.shards.get(shard_index) else {
            return NonceCheck::Full;
        };
        let Ok(mut map) = shard.lock() else {
            return NonceCheck::Full;
        };
        let now_s = now.unix_timestamp();
        if let Some(&forget_at) = map.get(&key)
            && forget_at >= now_s
        {
            return NonceCheck::Replayed;
        }
        if self.len.load(Ordering::Relaxed) >= self.capacity {
            let before = map.len();
            map.retain(|_, forget_at| *forget_at >= now_s);
            self.len.fetch_sub(before - map.len(), Ordering::Relaxed);
            if self.len.load(Ordering::Relaxed) >= self.capacity {
                return NonceCheck::Full;
            }
        } else if map.len() > 4096 && map.len().is_power_of_two() {
            // Amortised sweep: expired entries are dropped as the shard grows.
            let before = map.len();
            map.retain(|_, forget_at| *forget_at >= now_s);
            self.len.fetch_sub(before - map.len(), Ordering::Relaxed);
        }
        let forget_at = (stamp + window).unix_timestamp();
        if map.insert(key, forget_at).is_none() {
            self.len.fetch_add(1, Ordering::Relaxed);
        }
        NonceCheck::Fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_inside_window_only() {
        let cache = NonceCache::new(100);
        let t0 = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let w = time::Duration::minutes(15);
        assert_eq!(
            cache.check_and_insert("ak", "n1", t0, w, t0),
            NonceCheck::Fresh
        );
        assert_eq!(
            cache.check_and_insert("ak", "n1", t0, w, t0),
            NonceCheck::Replayed
        );
        // Another key may use the same nonce.
        assert_eq!(
            cache.check_and_insert("ak2", "n1", t0, w, t0),
            NonceCheck::Fresh
        );
        // After the window the entry is forgotten (the clock check would reject anyway).
        let later = t0 + w + time::Duration::seconds(1);
        assert_eq!(
            cache.check_and_insert("ak", "n1", later, w, later),
            NonceCheck::Fresh
        );
    }

    #[test]
    fn full_cache_fails_closed() {
        let cache = NonceCache::new(2);
        let t0 = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let w = time::Duration::minutes(15);
        assert_eq!(
            cache.check_and_insert("ak", "a", t0, w, t0),
            NonceCheck::Fresh
        );
        assert_eq!(
            cache.check_and_insert("ak", "b", t0, w, t0),
            NonceCheck::Fresh
        );
        assert_eq!(
            cache.check_and_insert("ak", "c", t0, w, t0),
            NonceCheck::Full
        );
    }
}
