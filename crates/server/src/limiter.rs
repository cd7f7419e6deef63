//! Per-source-address rate limit for console sign-in: every attempt costs an Argon2id
//! verification (tens of milliseconds of CPU, on purpose), so one address must not be
//! able to keep the server busy with them, nor spray passwords faster than a person types.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// A token bucket per address: `per_minute` attempts refill over a minute, at most
/// `per_minute` saved up.
#[derive(Debug)]
pub struct SigninLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

/// Addresses remembered at most; beyond it the table starts over (an attacker with that
/// many addresses is not slowed by a per-address limit anyway).
const MAX_ADDRESSES: usize = 100_000;

impl SigninLimiter {
    /// A limiter allowing `per_minute` attempts per address (0: no limit).
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Whether an attempt from `ip` at `now` may go ahead (and takes a token if so).
    pub fn allow(&self, ip: IpAddr, now: Instant) -> bool {
        if self.per_minute == 0 {
            return true;
        }
        let capacity = f64::from(self.per_minute);
        let Ok(mut buckets) = self.buckets.lock() else {
            // A poisoned lock means a panic elsewhere; fail closed for sign-in.
            return false;
        };
        if buckets.len() >= MAX_ADDRESSES && !buckets.contains_key(&ip) {
            buckets.clear();
        }
        let (tokens, last) = buckets.entry(ip).or_insert((capacity, now));
        let elapsed = now.saturating_duration_since(*last).as_secs_f64();
        *tokens = (*tokens + elapsed * capacity / 60.0).min(capacity);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn bursts_then_refills_per_address() {
        let limiter = SigninLimiter::new(3);
        let t0 = Instant::now();
        let a: IpAddr = "10.0.0.1".parse().unwrap_or(IpAddr::from([10, 0, 0, 1]));
        let b: IpAddr = IpAddr::from([10, 0, 0, 2]);
        assert!(limiter.allow(a, t0));
        assert!(limiter.allow(a, t0));
        assert!(limiter.allow(a, t0));
        assert!(!limiter.allow(a, t0));
        // Another address has its own bucket.
        assert!(limiter.allow(b, t0));
        // One token every 20 s at 3 per minute.
        assert!(!limiter.allow(a, t0 + Duration::from_secs(10)));
        assert!(limiter.allow(a, t0 + Duration::from_secs(31)));
        assert!(!limiter.allow(a, t0 + Duration::from_secs(31)));
    }

    #[test]
    fn zero_means_unlimited() {
        let limiter = SigninLimiter::new(0);
        let ip = IpAddr::from([127, 0, 0, 1]);
        assert!((0..1000).all(|_| limiter.allow(ip, Instant::now())));
    }
}
