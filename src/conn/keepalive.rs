//! XMPP ping (XEP-0199) keep-alive, as data.
//!
//! Jicofo's component pinged the server every `PING_INTERVAL` and gave up
//! after `PING_THRESHOLD` pings without an answer within `PING_TIMEOUT`
//! (defaults 10 s, 5 s, 3). The client connection uses the same rule. Any
//! answer, even an error, proves the server alive. Both stream machines
//! write the ping with [`crate::stanza::ping::write_ping`] and offer every
//! stanza received while ready to [`KeepAlive::handle_answer`], which
//! swallows the answers to our pings.

use std::time::{Duration, Instant};

use crate::xml::El;

/// Keep-alive settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepAliveConfig {
    /// Time between pings; `None` disables keep-alive.
    pub interval: Option<Duration>,
    /// How long to wait for an answer.
    pub timeout: Duration,
    /// Consecutive unanswered pings that declare the stream dead.
    pub threshold: u32,
}

impl Default for KeepAliveConfig {
    fn default() -> Self {
        KeepAliveConfig {
            interval: Some(Duration::from_secs(10)),
            timeout: Duration::from_secs(5),
            threshold: 3,
        }
    }
}

/// What the keep-alive wants after a timer fired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeepAliveAction {
    /// Nothing to do.
    Idle,
    /// Send a ping with this IQ id.
    SendPing(String),
    /// Too many pings went unanswered: the stream is dead.
    Dead,
}

/// Keep-alive state of one stream.
#[derive(Debug)]
pub struct KeepAlive {
    cfg: KeepAliveConfig,
    next_ping: Option<Instant>,
    /// Id and deadline of the ping in flight.
    outstanding: Option<(u64, Instant)>,
    failures: u32,
    seq: u64,
}

impl KeepAlive {
    /// Stopped keep-alive with these settings.
    pub fn new(cfg: KeepAliveConfig) -> Self {
        KeepAlive {
            cfg,
            next_ping: None,
            outstanding: None,
            failures: 0,
            seq: 0,
        }
    }

    /// Starts pinging: the stream just became ready.
    pub fn start(&mut self, now: Instant) {
        self.next_ping = self.cfg.interval.map(|i| now + i);
        self.outstanding = None;
        self.failures = 0;
    }

    /// Stops all timers.
    pub fn stop(&mut self) {
        self.next_ping = None;
        self.outstanding = None;
    }

    /// The next time [`KeepAlive::handle_timeout`] must run.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.next_ping, self.outstanding) {
            (Some(a), Some((_, b))) => Some(a.min(b)),
            (a, b) => a.or(b.map(|(_, d)| d)),
        }
    }

    /// Advances the timers.
    pub fn handle_timeout(&mut self, now: Instant) -> KeepAliveAction {
        if let Some((_, deadline)) = self.outstanding
            && now >= deadline
        {
            self.outstanding = None;
            self.failures += 1;
            if self.failures >= self.cfg.threshold.max(1) {
                self.stop();
                return KeepAliveAction::Dead;
            }
        }
        match self.next_ping {
            Some(at) if now >= at && self.outstanding.is_none() => {
                self.seq += 1;
                self.outstanding = Some((self.seq, now + self.cfg.timeout));
                self.next_ping = self.cfg.interval.map(|i| now + i);
                KeepAliveAction::SendPing(Self::id(self.seq))
            }
            Some(at) if now >= at => {
                // A ping is still in flight: try again when it has timed out.
                self.next_ping = self.cfg.interval.map(|i| now + i);
                KeepAliveAction::Idle
            }
            _ => KeepAliveAction::Idle,
        }
    }

    /// Offers an IQ result/error id; true when it answered our ping.
    pub fn handle_reply(&mut self, id: &str) -> bool {
        match self.outstanding {
            Some((seq, _)) if id == Self::id(seq) => {
                self.outstanding = None;
                self.failures = 0;
                true
            }
            // A late answer to an older ping still proves the server alive.
            _ if id.starts_with("keepalive-") => {
                self.failures = 0;
                true
            }
            _ => false,
        }
    }

    /// Offers a stanza received while ready: true when it is an IQ result
    /// or error answering our ping, which the stream keeps to itself rather
    /// than hand to the application.
    pub fn handle_answer(&mut self, stanza: El<'_>) -> bool {
        stanza.name() == "iq"
            && matches!(stanza.attr_raw("type"), Some("result" | "error"))
            && stanza
                .attr_raw("id")
                .is_some_and(|id| self.handle_reply(id))
    }

    fn id(seq: u64) -> String {
        format!("keepalive-{seq}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ka() -> (KeepAlive, Instant) {
        let mut k = KeepAlive::new(KeepAliveConfig::default());
        let t0 = Instant::now();
        k.start(t0);
        (k, t0)
    }

    #[test]
    fn pings_every_interval_while_answered() {
        let (mut k, t0) = ka();
        assert_eq!(k.poll_timeout(), Some(t0 + Duration::from_secs(10)));
        assert_eq!(
            k.handle_timeout(t0 + Duration::from_secs(9)),
            KeepAliveAction::Idle
        );
        let KeepAliveAction::SendPing(id) = k.handle_timeout(t0 + Duration::from_secs(10)) else {
            panic!()
        };
        assert!(k.handle_reply(&id));
        assert!(!k.handle_reply("other"));
        assert_eq!(k.poll_timeout(), Some(t0 + Duration::from_secs(20)));
    }

    #[test]
    fn dead_after_threshold_unanswered_pings() {
        let (mut k, t0) = ka();
        let mut pings = 0;
        let mut now;
        loop {
            now = k.poll_timeout().expect("timer armed");
            match k.handle_timeout(now) {
                KeepAliveAction::SendPing(_) => pings += 1,
                KeepAliveAction::Dead => break,
                KeepAliveAction::Idle => {}
            }
            assert!(now < t0 + Duration::from_secs(120), "never declared dead");
        }
        assert_eq!(pings, 3);
        assert!(now <= t0 + Duration::from_secs(35));
        assert_eq!(k.poll_timeout(), None);
    }

    #[test]
    fn an_answer_resets_the_failure_count() {
        let (mut k, _) = ka();
        for _ in 0..10 {
            let now = k.poll_timeout().unwrap();
            if let KeepAliveAction::SendPing(id) = k.handle_timeout(now) {
                // Answer every second ping only: never three misses in a row.
                if k.seq % 2 == 0 {
                    assert!(k.handle_reply(&id));
                }
            }
        }
        assert!(k.poll_timeout().is_some());
    }

    #[test]
    fn disabled_interval_never_pings() {
        let mut k = KeepAlive::new(KeepAliveConfig {
            interval: None,
            ..Default::default()
        });
        k.start(Instant::now());
        assert_eq!(k.poll_timeout(), None);
    }
}
