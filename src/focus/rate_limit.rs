//! The rate limit on a participant's restart requests (protocol.md §5.8,
//! §5.9): a `session-terminate` with `restart='true'` and the in-place ICE
//! restart of a `session-info` each get one [`RateLimit`] per participant,
//! kept apart so a burst of one kind cannot spend the other's budget.
//!
//! The rule is Jitsi's `RateLimit` (jitsi-utils), which Jicofo uses:
//!
//! * the very first request is always accepted (even with
//!   `max-requests = 0`, which then allows exactly one: Jitsi's version
//!   could accept another one whenever its window had emptied);
//! * a request less than `min-interval` after the last *accepted* one is
//!   refused (refusals are not remembered, so a client that keeps asking
//!   does not push its own next chance further away);
//! * otherwise it is accepted unless `max-requests` accepted requests lie
//!   within the last `interval` (a request exactly `interval` old still
//!   counts).
//!
//! Defaults (CURRENT `reference.conf`): 5 s minimum gap, at most 5 per
//! minute. A refused restart is answered `resource-constraint` and no new
//! session is started; that is the caller's part.
//!
//! Pure: the time comes in as `now`, so tests drive it with a fake clock.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::config::{ConfigError, Properties};

const MIN_INTERVAL_KEYS: &[&str] = &["jicofo.conference.restart-request-rate-limits.min-interval"];
const MAX_REQUESTS_KEYS: &[&str] = &["jicofo.conference.restart-request-rate-limits.max-requests"];
const INTERVAL_KEYS: &[&str] = &["jicofo.conference.restart-request-rate-limits.interval"];

/// The limits of a [`RateLimit`]
/// (`jicofo.conference.restart-request-rate-limits.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Least time between two accepted requests (`min-interval`, 5 s).
    pub min_interval: Duration,
    /// Most accepted requests within [`interval`](Self::interval)
    /// (`max-requests`, 5).
    pub max_requests: u32,
    /// The sliding window of [`max_requests`](Self::max_requests)
    /// (`interval`, 1 minute).
    pub interval: Duration,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            min_interval: Duration::from_secs(5),
            max_requests: 5,
            interval: Duration::from_secs(60),
        }
    }
}

impl RateLimitConfig {
    /// Reads the restart-request limits. There are no legacy names: SEED
    /// had no restart requests.
    pub fn from_props(p: &Properties) -> Result<RateLimitConfig, ConfigError> {
        let d = RateLimitConfig::default();
        Ok(RateLimitConfig {
            min_interval: p.duration(MIN_INTERVAL_KEYS, d.min_interval)?,
            max_requests: p.u32(MAX_REQUESTS_KEYS, d.max_requests)?,
            interval: p.duration(INTERVAL_KEYS, d.interval)?,
        })
    }
}

/// One budget of requests: see the module documentation for the rule.
#[derive(Debug, Clone)]
pub struct RateLimit {
    cfg: RateLimitConfig,
    /// Times of accepted requests within the window, oldest first. Never
    /// longer than `max_requests` (or 1 when that is 0), because a time is
    /// only added while fewer are held.
    accepted: VecDeque<Instant>,
    /// The last accepted request, kept apart from the window: with
    /// `max-requests = 0` the window can empty, and Jitsi's version then
    /// took the next request for a first one and accepted it. Here only
    /// the very first request is free.
    last: Option<Instant>,
}

impl RateLimit {
    /// A budget with nothing spent.
    pub fn new(cfg: RateLimitConfig) -> RateLimit {
        RateLimit {
            cfg,
            accepted: VecDeque::new(),
            last: None,
        }
    }

    /// The limits.
    pub fn config(&self) -> &RateLimitConfig {
        &self.cfg
    }

    /// Whether a request arriving at `now` is accepted; an accepted one is
    /// counted. A `now` earlier than the last accepted request (a caller
    /// mixing clocks) counts as no time passed, so it is refused unless
    /// `min-interval` is zero.
    pub fn accept(&mut self, now: Instant) -> bool {
        let Some(last) = self.last else {
            // Jitsi accepts a first request unconditionally, even with
            // `max-requests = 0`; kept so a restart is never refused
            // before any was made.
            self.accepted.push_back(now);
            self.last = Some(now);
            return true;
        };
        if now.saturating_duration_since(last) < self.cfg.min_interval {
            return false;
        }
        // Strictly older than the window: one exactly `interval` old
        // still counts, as in Jitsi.
        while let Some(&oldest) = self.accepted.front() {
            if now.saturating_duration_since(oldest) > self.cfg.interval {
                self.accepted.pop_front();
            } else {
                break;
            }
        }
        if self.accepted.len() >= self.cfg.max_requests as usize {
            return false;
        }
        self.accepted.push_back(now);
        self.last = Some(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake clock: a fixed origin and an offset that only moves forward.
    struct Clock {
        origin: Instant,
        elapsed: Duration,
    }

    impl Clock {
        fn new() -> Clock {
            Clock {
                origin: Instant::now(),
                elapsed: Duration::ZERO,
            }
        }
        fn now(&self) -> Instant {
            self.origin + self.elapsed
        }
        fn elapse(&mut self, d: Duration) {
            self.elapsed += d;
        }
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }
    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Port of jitsi-utils `RateLimitTest` "RateLimit test": the library
    /// defaults there are 10 s, 3 per 60 s.
    #[test]
    fn rate_limit_test() {
        let mut clock = Clock::new();
        let mut rl = RateLimit::new(RateLimitConfig {
            min_interval: secs(10),
            max_requests: 3,
            interval: secs(60),
        });
        assert!(rl.accept(clock.now()), "1st request");
        assert!(!rl.accept(clock.now()), "not the next one immediately");
        clock.elapse(secs(5));
        assert!(!rl.accept(clock.now()), "not after 5 s");
        clock.elapse(secs(6));
        assert!(rl.accept(clock.now()), "2nd after 11 s");
        assert!(!rl.accept(clock.now()), "not a 3rd at 11 s");
        clock.elapse(secs(10));
        assert!(rl.accept(clock.now()), "3rd at 21 s");
        for at in [32, 42, 52] {
            clock.elapse(secs(if at == 32 { 11 } else { 10 }));
            assert!(!rl.accept(clock.now()), "no 4th within a minute ({at} s)");
        }
        clock.elapse(secs(10));
        assert!(
            rl.accept(clock.now()),
            "4th once the 1st is over 60 s old (62 s)"
        );
        clock.elapse(secs(5));
        assert!(!rl.accept(clock.now()), "not a 5th at 67 s");
        clock.elapse(secs(5));
        assert!(rl.accept(clock.now()), "5th at 72 s");
        let then = clock.now();
        clock.elapse(secs(10));
        assert!(!rl.accept(then), "a passed-in earlier time is used");
        assert!(rl.accept(clock.now()), "and the real time afterwards");
    }

    /// Port of jitsi-utils `RateLimitTest` "A RateLimit with parameters".
    #[test]
    fn a_rate_limit_with_parameters() {
        let mut clock = Clock::new();
        let mut rl = RateLimit::new(RateLimitConfig {
            min_interval: ms(10),
            max_requests: 3,
            interval: ms(500),
        });
        assert!(rl.accept(clock.now()));
        assert!(!rl.accept(clock.now()));
        clock.elapse(ms(5));
        assert!(!rl.accept(clock.now()), "5 ms");
        clock.elapse(ms(6));
        assert!(rl.accept(clock.now()), "11 ms");
        assert!(!rl.accept(clock.now()), "11 ms, again");
        clock.elapse(ms(10));
        assert!(rl.accept(clock.now()), "21 ms");
        for step in [11, 100, 300] {
            clock.elapse(ms(step));
            assert!(!rl.accept(clock.now()), "3 within 500 ms");
        }
        clock.elapse(ms(70));
        assert!(rl.accept(clock.now()), "502 ms: the 1st left the window");
        clock.elapse(ms(5));
        assert!(!rl.accept(clock.now()), "507 ms");
        clock.elapse(ms(5));
        assert!(rl.accept(clock.now()), "512 ms");
    }

    /// The CURRENT defaults: 5 s apart, 5 per minute; the 6th has to wait
    /// until the 1st is more than a minute old.
    #[test]
    fn defaults_five_seconds_apart_five_per_minute() {
        let mut clock = Clock::new();
        let mut rl = RateLimit::new(RateLimitConfig::default());
        assert_eq!(rl.config().max_requests, 5);
        for i in 0..5 {
            assert!(rl.accept(clock.now()), "request {i} at {:?}", clock.elapsed);
            clock.elapse(ms(4_999));
            assert!(!rl.accept(clock.now()), "4.999 s after request {i}");
            clock.elapse(ms(1));
        }
        // Five accepted at 0, 5, 10, 15, 20 s; now 25 s.
        for _ in 0..7 {
            assert!(!rl.accept(clock.now()), "at {:?}", clock.elapsed);
            clock.elapse(secs(5));
        }
        // 60 s: the first is exactly a minute old and still counts.
        assert_eq!(clock.elapsed, secs(60));
        assert!(!rl.accept(clock.now()));
        clock.elapse(ms(1));
        assert!(rl.accept(clock.now()), "60.001 s: the first has left");
        clock.elapse(secs(5));
        assert!(rl.accept(clock.now()), "65.001 s: the second has left too");
    }

    /// Refused requests are not counted: asking every second does not
    /// delay the next accepted request.
    #[test]
    fn refusals_are_not_counted() {
        let mut clock = Clock::new();
        let mut rl = RateLimit::new(RateLimitConfig::default());
        assert!(rl.accept(clock.now()));
        for _ in 0..4 {
            clock.elapse(secs(1));
            assert!(!rl.accept(clock.now()));
        }
        clock.elapse(secs(1));
        assert!(rl.accept(clock.now()), "5 s after the last accepted one");
    }

    #[test]
    fn zero_settings() {
        let mut clock = Clock::new();
        let mut none = RateLimit::new(RateLimitConfig {
            max_requests: 0,
            ..RateLimitConfig::default()
        });
        assert!(none.accept(clock.now()), "the first is accepted anyway");
        for i in 0..3 {
            clock.elapse(secs(120));
            assert!(!none.accept(clock.now()), "then never again ({i})");
        }
        let mut no_gap = RateLimit::new(RateLimitConfig {
            min_interval: Duration::ZERO,
            max_requests: 3,
            interval: secs(60),
        });
        assert!(no_gap.accept(clock.now()));
        assert!(no_gap.accept(clock.now()));
        assert!(no_gap.accept(clock.now()));
        assert!(!no_gap.accept(clock.now()));
    }

    #[test]
    fn config_from_props() {
        let p = Properties::new();
        assert_eq!(
            RateLimitConfig::from_props(&p).unwrap(),
            RateLimitConfig::default()
        );
        let mut p = Properties::new();
        p.set(
            "jicofo.conference.restart-request-rate-limits.min-interval",
            "2 seconds",
        );
        p.set(
            "jicofo.conference.restart-request-rate-limits.max-requests",
            "7",
        );
        p.set(
            "jicofo.conference.restart-request-rate-limits.interval",
            "2 minutes",
        );
        assert_eq!(
            RateLimitConfig::from_props(&p).unwrap(),
            RateLimitConfig {
                min_interval: secs(2),
                max_requests: 7,
                interval: secs(120),
            }
        );
        p.set(
            "jicofo.conference.restart-request-rate-limits.max-requests",
            "many",
        );
        assert!(RateLimitConfig::from_props(&p).is_err());
    }
}
