//! Per-connection, per-visitor and per-address limits.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Token bucket: `burst` frames at once, refilled at `per_second`.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    capacity: f64,
    per_second: f64,
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    /// Returns a full bucket.
    pub fn new(per_second: u32, burst: u32, now: Instant) -> Self {
        Self {
            capacity: f64::from(burst.max(1)),
            per_second: f64::from(per_second.max(1)),
            tokens: f64::from(burst.max(1)),
            updated: now,
        }
    }

    /// Returns a full bucket of `burst` refilled at `per_minute` a minute.
    pub fn per_minute(per_minute: u32, burst: u32, now: Instant) -> Self {
        Self {
            capacity: f64::from(burst.max(1)),
            per_second: f64::from(per_minute.max(1)) / 60.0,
            tokens: f64::from(burst.max(1)),
            updated: now,
        }
    }

    /// Whether the bucket would be full at `now` (an idle one, safe to forget).
    pub fn is_full(&self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens + elapsed * self.per_second >= self.capacity
    }

    /// Takes a token if one is left at `now`.
    pub fn allow(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        self.updated = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Counts open sockets per key (a visitor, a client address) on this gateway.
#[derive(Debug)]
pub struct Connections<K> {
    counts: Arc<Mutex<HashMap<K, usize>>>,
}

impl<K> Default for Connections<K> {
    fn default() -> Self {
        Self {
            counts: Arc::default(),
        }
    }
}

impl<K> Clone for Connections<K> {
    fn clone(&self) -> Self {
        Self {
            counts: self.counts.clone(),
        }
    }
}

/// Open sockets per visitor.
pub type VisitorConnections = Connections<Uuid>;
/// Open sockets per client address.
pub type AddressConnections = Connections<IpAddr>;

/// Holds one counted socket; dropping it releases the slot.
#[derive(Debug)]
pub struct ConnectionSlot<K: Eq + Hash = Uuid> {
    key: K,
    counts: Arc<Mutex<HashMap<K, usize>>>,
}

impl<K: Eq + Hash + Clone> Connections<K> {
    /// Takes a slot for `key` unless it already has `max` sockets.
    pub fn acquire(&self, key: K, max: usize) -> Option<ConnectionSlot<K>> {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = counts.entry(key.clone()).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(ConnectionSlot {
            key,
            counts: self.counts.clone(),
        })
    }
}

impl<K: Eq + Hash> Drop for ConnectionSlot<K> {
    fn drop(&mut self) {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = counts.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

/// Returns `Duration::from_secs(secs)` but never zero.
pub fn at_least_one_second(secs: u64) -> Duration {
    Duration::from_secs(secs.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limiter_allows_burst_then_refills() {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(2, 3, start);
        assert!((0..3).all(|_| limiter.allow(start)));
        assert!(!limiter.allow(start));
        assert!(limiter.allow(start + Duration::from_millis(500)));
        assert!(!limiter.allow(start + Duration::from_millis(500)));
        assert!(limiter.allow(start + Duration::from_secs(10)));
    }

    #[test]
    fn visitor_slots_are_counted_and_released() {
        let connections = VisitorConnections::default();
        let visitor = Uuid::from_u128(1);
        let first = connections.acquire(visitor, 2).expect("first");
        let _second = connections.acquire(visitor, 2).expect("second");
        assert!(connections.acquire(visitor, 2).is_none());
        drop(first);
        assert!(connections.acquire(visitor, 2).is_some());
    }
}
