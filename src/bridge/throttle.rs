//! Throttling of failed authentications per source address: a token bucket per address
//! that only failures draw from. Requests with a valid token never reach it, so an
//! attacker sharing an address (or a gateway) with the identity provider cannot lock the
//! identity provider out.
//!
//! Tokens are 256 random bits, so guessing one is hopeless anyway; the throttle keeps a
//! flood of bad requests from costing us audit events, log lines and digest reloads, and
//! tells a misconfigured client plainly to back off.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many addresses the table remembers at most. An entry is a few dozen bytes, so
/// the table stays under a few MiB however many addresses an attack comes from.
pub const MAX_TRACKED_SOURCES: usize = 16 * 1024;

/// What to do with a request whose authentication failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Answer 401 as usual. `first` is set when the address had no recent failures, so
    /// the caller can log the first of a series loudly and the rest quietly.
    Refuse { first: bool },
    /// Answer 429: too many failures from this address. `first` is set on the first
    /// throttled answer of a series.
    Throttle { retry_after: Duration, first: bool },
}

/// One address's bucket, kept as the instant at which it will be full again (the
/// "theoretical arrival time" of GCRA, an exact integer form of a token bucket).
struct Bucket {
    full_at: Instant,
    throttled: bool,
}

/// Failed-authentication buckets by source address; memory-bounded.
pub struct AuthThrottle {
    /// Time for one failure to drain from the bucket: a minute / `per_minute`.
    interval: Duration,
    /// How far `full_at` may run ahead of now: the burst (`per_minute` failures) less one.
    tolerance: Duration,
    enabled: bool,
    max_sources: usize,
    table: Mutex<HashMap<IpAddr, Bucket>>,
}

/// The address a bucket is kept for. IPv6 addresses count by their /64 prefix: one host
/// usually owns a whole /64 and could otherwise take a fresh address per attempt.
/// IPv4-mapped IPv6 addresses count as the IPv4 address they carry.
fn source_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl AuthThrottle {
    /// `per_minute` failures per address per minute, in bursts of as many; 0 turns the
    /// throttle off.
    pub fn new(per_minute: u32, max_sources: usize) -> AuthThrottle {
        let interval = Duration::from_secs(60) / per_minute.max(1);
        AuthThrottle {
            interval,
            tolerance: interval * per_minute.saturating_sub(1),
            enabled: per_minute > 0,
            max_sources: max_sources.max(1),
            table: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one failed authentication from `ip` at `now` and says how to answer it.
    pub fn record_failure(&self, ip: IpAddr, now: Instant) -> Verdict {
        if !self.enabled {
            return Verdict::Refuse { first: false };
        }
        let key = source_key(ip);
        // A poisoned lock only means another request panicked mid-update; the table is
        // still a valid map of buckets.
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        if !table.contains_key(&key) && table.len() >= self.max_sources {
            Self::evict(&mut table, self.max_sources, now);
        }
        let bucket = table.entry(key).or_insert(Bucket {
            full_at: now,
            throttled: false,
        });
        let first = bucket.full_at <= now;
        let full_at = bucket.full_at.max(now);
        let ahead = full_at - now;
        if ahead > self.tolerance {
            let wait = ahead - self.tolerance;
            let first = !bucket.throttled;
            bucket.throttled = true;
            // Whole seconds for Retry-After, rounded up so a client that obeys it is not
            // throttled again.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            Verdict::Throttle {
                retry_after: Duration::from_secs(secs.max(1)),
                first,
            }
        } else {
            bucket.full_at = full_at + self.interval;
            bucket.throttled = false;
            Verdict::Refuse { first }
        }
    }

    /// Makes room for one more address: forgets every address whose bucket is full again
    /// (it holds no information), and if none is, the one that will be full soonest.
    fn evict(table: &mut HashMap<IpAddr, Bucket>, max_sources: usize, now: Instant) {
        table.retain(|_, b| b.full_at > now);
        if table.len() >= max_sources {
            let soonest = table
                .iter()
                .min_by_key(|(_, b)| b.full_at)
                .map(|(ip, _)| *ip);
            if let Some(ip) = soonest {
                table.remove(&ip);
            }
        }
    }

    /// How many addresses are remembered now.
    pub fn tracked_sources(&self) -> usize {
        self.table.lock().map(|t| t.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn failures_past_the_burst_are_throttled_until_the_bucket_refills() {
        let t = AuthThrottle::new(10, 100);
        let start = Instant::now();
        let a = ip("192.0.2.1");
        assert_eq!(t.record_failure(a, start), Verdict::Refuse { first: true });
        for _ in 1..10 {
            assert_eq!(t.record_failure(a, start), Verdict::Refuse { first: false });
        }
        // One failure refills every 6 s at 10 per minute.
        assert_eq!(
            t.record_failure(a, start),
            Verdict::Throttle {
                retry_after: Duration::from_secs(6),
                first: true
            }
        );
        assert!(matches!(
            t.record_failure(a, start + Duration::from_secs(2)),
            Verdict::Throttle {
                first: false,
                retry_after
            } if retry_after == Duration::from_secs(4)
        ));
        assert_eq!(
            t.record_failure(a, start + Duration::from_secs(6)),
            Verdict::Refuse { first: false }
        );
    }

    #[test]
    fn addresses_have_their_own_buckets() {
        let t = AuthThrottle::new(1, 100);
        let now = Instant::now();
        assert!(matches!(
            t.record_failure(ip("192.0.2.1"), now),
            Verdict::Refuse { .. }
        ));
        assert!(matches!(
            t.record_failure(ip("192.0.2.1"), now),
            Verdict::Throttle { .. }
        ));
        assert!(matches!(
            t.record_failure(ip("192.0.2.2"), now),
            Verdict::Refuse { .. }
        ));
    }

    #[test]
    fn an_ipv6_host_cannot_escape_by_changing_addresses_within_its_64() {
        let t = AuthThrottle::new(1, 100);
        let now = Instant::now();
        assert!(matches!(
            t.record_failure(ip("2001:db8:1:2::1"), now),
            Verdict::Refuse { .. }
        ));
        assert!(matches!(
            t.record_failure(ip("2001:db8:1:2:ffff::9"), now),
            Verdict::Throttle { .. }
        ));
        assert!(matches!(
            t.record_failure(ip("2001:db8:1:3::1"), now),
            Verdict::Refuse { .. }
        ));
        assert_eq!(source_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
    }

    #[test]
    fn the_table_stays_bounded_and_forgets_refilled_buckets_first() {
        let t = AuthThrottle::new(60, 64);
        let start = Instant::now();
        for i in 0..10_000u32 {
            let a = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            t.record_failure(a, start + Duration::from_millis(u64::from(i)));
            assert!(t.tracked_sources() <= 64);
        }
        // A blocked address that is still failing survives a sweep of refilled ones.
        let t = AuthThrottle::new(1, 2);
        let blocked = ip("192.0.2.1");
        t.record_failure(blocked, start);
        t.record_failure(ip("192.0.2.2"), start);
        let later = start + Duration::from_secs(120);
        t.record_failure(blocked, later);
        t.record_failure(ip("192.0.2.3"), later);
        assert_eq!(t.tracked_sources(), 2);
        assert!(matches!(
            t.record_failure(blocked, later),
            Verdict::Throttle { .. }
        ));
    }

    #[test]
    fn zero_per_minute_turns_the_throttle_off() {
        let t = AuthThrottle::new(0, 10);
        let now = Instant::now();
        for _ in 0..100 {
            assert!(matches!(
                t.record_failure(ip("192.0.2.1"), now),
                Verdict::Refuse { .. }
            ));
        }
        assert_eq!(t.tracked_sources(), 0);
    }
}
