//! The per-client rate limit: a fixed window per client address, in memory only.
//!
//! An address is kept only while its window is open (at most one window long) and is never
//! written or logged. IPv6 clients are counted per /64, since one host usually owns a whole
//! /64 and could otherwise rotate addresses freely.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Allows `limit` requests per client per `window`; a limit of 0 allows everything.
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    clients: Mutex<Clients>,
}

struct Clients {
    seen: HashMap<IpAddr, (Instant, u32)>,
    last_sweep: Instant,
}

/// A refused request: how long until the client's window reopens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RateLimiter {
    /// `limit` requests per client address per `window` (0: no limit).
    pub fn new(limit: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            limit,
            window: window.max(Duration::from_millis(1)),
            clients: Mutex::new(Clients { seen: HashMap::new(), last_sweep: Instant::now() }),
        }
    }

    /// Counts one request from `addr` at `now`.
    pub fn check(&self, addr: IpAddr, now: Instant) -> Result<(), RetryAfter> {
        if self.limit == 0 {
            return Ok(());
        }
        let key = bucket(addr);
        let Ok(mut clients) = self.clients.lock() else {
            return Ok(());
        };
        if now.saturating_duration_since(clients.last_sweep) >= self.window {
            let window = self.window;
            clients.seen.retain(|_, (start, _)| now.saturating_duration_since(*start) < window);
            clients.last_sweep = now;
        }
        let entry = clients.seen.entry(key).or_insert((now, 0));
        if now.saturating_duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit {
            let reopen = entry.0 + self.window;
            return Err(RetryAfter(reopen.saturating_duration_since(now)));
        }
        entry.1 += 1;
        Ok(())
    }

    /// How many client buckets are held right now (for tests of forgetting).
    pub fn held(&self) -> usize {
        self.clients.lock().map(|c| c.seen.len()).unwrap_or(0)
    }
}

fn bucket(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut seg = v6.segments();
                seg[4..].fill(0);
                IpAddr::V6(seg.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_reopens() {
        let rl = RateLimiter::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(rl.check(a, t0).is_ok());
        assert!(rl.check(a, t0).is_ok());
        assert_eq!(rl.check(a, t0 + Duration::from_secs(10)), Err(RetryAfter(Duration::from_secs(50))));
        assert!(rl.check(b, t0).is_ok());
        assert!(rl.check(a, t0 + Duration::from_secs(60)).is_ok());
        assert!(rl.check(a, t0 + Duration::from_secs(200)).is_ok());
        assert_eq!(rl.held(), 1, "the idle client was forgotten");
    }

    #[test]
    fn ipv6_counts_per_64_and_zero_is_off() {
        let rl = RateLimiter::new(1, Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(rl.check("2001:db8::1".parse().unwrap(), t0).is_ok());
        assert!(rl.check("2001:db8::2".parse().unwrap(), t0).is_err());
        let off = RateLimiter::new(0, Duration::from_secs(60));
        for _ in 0..1000 {
            assert!(off.check("192.0.2.1".parse().unwrap(), t0).is_ok());
        }
    }
}
