//! Periodic bridge health checks (protocol.md §3.5; Jicofo's JvbDoctor) as a
//! timer-driven machine over the registry.
//!
//! Each checked bridge has its own schedule in its
//! [`HealthState`]: the first check one interval after the bridge appeared,
//! each next one an interval after the previous check *ended* (JvbDoctor
//! ran with a fixed delay, so a slow or retried check pushes the next one
//! back). The caller sends `<healthcheck xmlns='http://jitsi.org/protocol/healthcheck'/>`
//! IQs for [`HealthAction::SendCheck`] and reports each outcome, including
//! its own reply timeout, through [`HealthChecker::handle_result`]:
//!
//! | outcome | verdict | effect on the registry |
//! |---|---|---|
//! | result | passed | [`BridgeRegistry::mark_healthy`] (operational again once past the failure-reset threshold) |
//! | `internal-server-error`, `service-unavailable` | failed | [`BridgeRegistry::mark_failed`]: non-operational, event `Failed`: conferences move off it |
//! | any other error | unexpected | logged only |
//! | no reply, first try | retrying | a second try after `retry-delay` (none if it is zero) |
//! | no reply, second try | timed out | [`BridgeRegistry::mark_non_operational`]: no new conferences there, but existing ones are *not* moved (an XMPP hiccup between focus and bridge need not hurt the media; conferences move if one of their Colibri requests fails or clients report ICE failure) |
//!
//! With `use-presence` no IQs go out: at each tick a bridge whose last
//! brewery presence is older than `presence-timeout` has timed out, one
//! whose `healthy` stat is false has failed, any other has passed.
//!
//! While the connection to the bridges is down checks are skipped, not
//! failed, as JvbDoctor did.

use std::time::Instant;

use super::BridgeId;
use super::registry::{BridgeRegistry, HealthState};
use crate::stanza::Condition;

/// How one health-check IQ ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A `result`.
    Ok,
    /// An `error` with this condition.
    Error(Condition),
    /// No answer within the reply timeout.
    Timeout,
}

/// What the caller must do for the health checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthAction {
    /// Send a health-check IQ (type `get`) to this bridge and report the
    /// outcome to [`HealthChecker::handle_result`].
    SendCheck(BridgeId),
}

/// What a check concluded (already applied to the registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthVerdict {
    /// Healthy.
    Passed,
    /// Unhealthy: non-operational, conferences moved.
    Failed,
    /// No answer twice: non-operational, conferences stay.
    TimedOut,
    /// No answer to the first try; a second one is scheduled.
    Retrying,
    /// An error that says nothing about health; only logged.
    Unexpected(Condition),
}

/// Drives the health checks of every bridge in a [`BridgeRegistry`]; the
/// schedules live in the bridges, so bridges added to or removed from the
/// registry are picked up or dropped without telling the checker.
#[derive(Debug, Clone)]
pub struct HealthChecker {
    online: bool,
}

impl Default for HealthChecker {
    fn default() -> Self {
        HealthChecker::new()
    }
}

impl HealthChecker {
    /// A checker for a connection that is up.
    pub fn new() -> HealthChecker {
        HealthChecker { online: true }
    }

    /// When [`handle_timeout`](Self::handle_timeout) must run next.
    #[must_use]
    pub fn poll_timeout(&self, reg: &BridgeRegistry) -> Option<Instant> {
        reg.iter()
            .filter_map(|b| match b.health_state() {
                HealthState::Idle { next } => Some(next),
                HealthState::AwaitingRetry { at } => Some(at),
                HealthState::Unchecked | HealthState::AwaitingReply { .. } => None,
            })
            .min()
    }

    /// Starts the checks that are due: returns the IQs to send (or, with
    /// `use-presence`, applies the verdicts at once).
    pub fn handle_timeout(&mut self, now: Instant, reg: &mut BridgeRegistry) -> Vec<HealthAction> {
        let health = reg.config().health.clone();
        let Some(interval) = health.interval else {
            return Vec::new();
        };
        let mut actions = Vec::new();
        let mut verdicts = Vec::new();
        for b in reg.iter_mut() {
            let second_try = match b.health {
                HealthState::Idle { next } if next <= now => false,
                HealthState::AwaitingRetry { at } if at <= now => true,
                _ => continue,
            };
            if !self.online {
                log::debug!("bridge {}: not connected, health check skipped", b.id());
                b.health = HealthState::Idle {
                    next: now + interval,
                };
            } else if health.use_presence {
                let stale = b
                    .last_presence()
                    .is_none_or(|t| now.saturating_duration_since(t) > health.presence_timeout);
                let verdict = if stale {
                    HealthVerdict::TimedOut
                } else if !b.reports_healthy() {
                    HealthVerdict::Failed
                } else {
                    HealthVerdict::Passed
                };
                b.health = HealthState::Idle {
                    next: now + interval,
                };
                verdicts.push((b.id().clone(), verdict));
            } else {
                b.health = HealthState::AwaitingReply { second_try };
                actions.push(HealthAction::SendCheck(b.id().clone()));
            }
        }
        for (id, verdict) in verdicts {
            apply(now, reg, &id, verdict);
        }
        actions
    }

    /// A health-check IQ to `id` ended with `outcome`. Applies the verdict
    /// to the registry and returns it; `None` when no check to that bridge
    /// was outstanding (a late answer, or the bridge is gone).
    pub fn handle_result(
        &mut self,
        now: Instant,
        reg: &mut BridgeRegistry,
        id: &BridgeId,
        outcome: Outcome,
    ) -> Option<HealthVerdict> {
        let health = reg.config().health.clone();
        let b = reg.get_mut(id.as_str())?;
        let HealthState::AwaitingReply { second_try } = b.health else {
            log::debug!("bridge {id}: health-check answer with no check outstanding");
            return None;
        };
        let Some(interval) = health.interval else {
            b.health = HealthState::Unchecked;
            return None;
        };
        let verdict = match outcome {
            Outcome::Ok => HealthVerdict::Passed,
            Outcome::Error(Condition::InternalServerError | Condition::ServiceUnavailable) => {
                HealthVerdict::Failed
            }
            Outcome::Error(c) => HealthVerdict::Unexpected(c),
            Outcome::Timeout if !second_try && !health.retry_delay.is_zero() => {
                log::warn!(
                    "bridge {id}: health check timed out; trying again in {:?}",
                    health.retry_delay
                );
                b.health = HealthState::AwaitingRetry {
                    at: now + health.retry_delay,
                };
                return Some(HealthVerdict::Retrying);
            }
            Outcome::Timeout => HealthVerdict::TimedOut,
        };
        b.health = HealthState::Idle {
            next: now + interval,
        };
        apply(now, reg, id, verdict);
        Some(verdict)
    }

    /// The connection to the bridges went down: outstanding checks are
    /// abandoned (their answers will be ignored) and no checks run until
    /// [`connection_restored`](Self::connection_restored).
    pub fn connection_lost(&mut self, now: Instant, reg: &mut BridgeRegistry) {
        self.online = false;
        let Some(interval) = reg.config().health.interval else {
            return;
        };
        for b in reg.iter_mut() {
            if matches!(
                b.health,
                HealthState::AwaitingReply { .. } | HealthState::AwaitingRetry { .. }
            ) {
                b.health = HealthState::Idle {
                    next: now + interval,
                };
            }
        }
    }

    /// The connection to the bridges is back: checks resume on schedule.
    pub fn connection_restored(&mut self) {
        self.online = true;
    }
}

fn apply(now: Instant, reg: &mut BridgeRegistry, id: &BridgeId, verdict: HealthVerdict) {
    match verdict {
        HealthVerdict::Passed => {
            log::debug!("bridge {id}: health check passed");
            reg.mark_healthy(now, id);
        }
        HealthVerdict::Failed => {
            log::warn!("bridge {id}: health check failed");
            reg.mark_failed(now, id);
        }
        HealthVerdict::TimedOut => {
            log::warn!("bridge {id}: health check timed out; no new conferences go there");
            reg.mark_non_operational(now, id);
        }
        HealthVerdict::Unexpected(c) => {
            log::error!("bridge {id}: unexpected health-check error {}", c.name());
        }
        HealthVerdict::Retrying => {}
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::{BridgeConfig, BridgeEvent, BridgeStats};
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn setup(cfg: BridgeConfig) -> (Instant, BridgeRegistry, HealthChecker, BridgeId) {
        let t0 = Instant::now();
        let mut reg = BridgeRegistry::new(cfg);
        let id = BridgeId::parse("jvbbrewery@internal.auth.meet.test/jvb-1").unwrap();
        reg.update_from_brewery(
            t0,
            &id,
            &BridgeStats {
                drain: Some(false),
                ..BridgeStats::default()
            },
        );
        assert_eq!(reg.poll_event(), Some(BridgeEvent::Added(id.clone())));
        (t0, reg, HealthChecker::new(), id)
    }

    fn send(h: &mut HealthChecker, reg: &mut BridgeRegistry, now: Instant) -> Vec<HealthAction> {
        assert_eq!(h.poll_timeout(reg), Some(now));
        h.handle_timeout(now, reg)
    }

    #[test]
    fn first_check_one_interval_after_the_bridge_appears() {
        let (t0, mut reg, mut h, id) = setup(BridgeConfig::default());
        assert_eq!(h.poll_timeout(&reg), Some(t0 + 10 * S));
        assert!(h.handle_timeout(t0 + 9 * S, &mut reg).is_empty());
        let a = send(&mut h, &mut reg, t0 + 10 * S);
        assert_eq!(a, vec![HealthAction::SendCheck(id.clone())]);
        assert_eq!(h.poll_timeout(&reg), None, "waiting for the answer");
        assert!(h.handle_timeout(t0 + 30 * S, &mut reg).is_empty());
        // Passed: the next check is an interval after this one ended.
        let v = h.handle_result(t0 + 11 * S, &mut reg, &id, Outcome::Ok);
        assert_eq!(v, Some(HealthVerdict::Passed));
        assert_eq!(h.poll_timeout(&reg), Some(t0 + 21 * S));
        assert!(reg.poll_event().is_none());
        // A second answer to the same check is ignored.
        assert_eq!(
            h.handle_result(t0 + 12 * S, &mut reg, &id, Outcome::Ok),
            None
        );
    }

    #[test]
    fn failed_check_moves_conferences() {
        for c in [
            Condition::InternalServerError,
            Condition::ServiceUnavailable,
        ] {
            let (t0, mut reg, mut h, id) = setup(BridgeConfig::default());
            send(&mut h, &mut reg, t0 + 10 * S);
            let v = h.handle_result(t0 + 10 * S, &mut reg, &id, Outcome::Error(c));
            assert_eq!(v, Some(HealthVerdict::Failed));
            assert_eq!(reg.poll_event(), Some(BridgeEvent::Failed(id.clone())));
            assert!(!reg.is_operational(id.as_str(), t0 + 10 * S));
            assert_eq!(h.poll_timeout(&reg), Some(t0 + 20 * S));
        }
    }

    #[test]
    fn other_errors_are_only_logged() {
        let (t0, mut reg, mut h, id) = setup(BridgeConfig::default());
        send(&mut h, &mut reg, t0 + 10 * S);
        let v = h.handle_result(
            t0 + 10 * S,
            &mut reg,
            &id,
            Outcome::Error(Condition::FeatureNotImplemented),
        );
        assert_eq!(
            v,
            Some(HealthVerdict::Unexpected(Condition::FeatureNotImplemented))
        );
        assert!(reg.poll_event().is_none());
        assert!(reg.is_operational(id.as_str(), t0 + 10 * S));
        assert_eq!(h.poll_timeout(&reg), Some(t0 + 20 * S));
    }

    #[test]
    fn no_answer_retries_once_then_times_out_without_moving_conferences() {
        let (t0, mut reg, mut h, id) = setup(BridgeConfig::default());
        send(&mut h, &mut reg, t0 + 10 * S);
        // The caller's reply timeout (15 s) fires.
        let v = h.handle_result(t0 + 25 * S, &mut reg, &id, Outcome::Timeout);
        assert_eq!(v, Some(HealthVerdict::Retrying));
        assert!(reg.is_operational(id.as_str(), t0 + 25 * S));
        // Second try after retry-delay = interval / 2.
        assert_eq!(h.poll_timeout(&reg), Some(t0 + 30 * S));
        assert!(h.handle_timeout(t0 + 29 * S, &mut reg).is_empty());
        let a = send(&mut h, &mut reg, t0 + 30 * S);
        assert_eq!(a, vec![HealthAction::SendCheck(id.clone())]);
        let v = h.handle_result(t0 + 45 * S, &mut reg, &id, Outcome::Timeout);
        assert_eq!(v, Some(HealthVerdict::TimedOut));
        assert!(!reg.is_operational(id.as_str(), t0 + 45 * S));
        assert!(reg.poll_event().is_none(), "timed out: conferences stay");
        assert_eq!(h.poll_timeout(&reg), Some(t0 + 55 * S));

        // Checks keep running; one passing after the failure-reset threshold
        // (1 min after the timeout) brings it back.
        send(&mut h, &mut reg, t0 + 55 * S);
        h.handle_result(t0 + 55 * S, &mut reg, &id, Outcome::Ok);
        assert!(!reg.is_operational(id.as_str(), t0 + 55 * S), "threshold");
        assert!(reg.poll_event().is_none());
        let mut t = t0 + 65 * S;
        while t <= t0 + 105 * S {
            send(&mut h, &mut reg, t);
            h.handle_result(t, &mut reg, &id, Outcome::Ok);
            t += 10 * S;
        }
        assert!(reg.is_operational(id.as_str(), t0 + 105 * S));
        assert_eq!(reg.poll_event(), Some(BridgeEvent::BackUp(id.clone())));
    }

    #[test]
    fn answer_to_the_second_try_counts() {
        let (t0, mut reg, mut h, id) = setup(BridgeConfig::default());
        send(&mut h, &mut reg, t0 + 10 * S);
        h.handle_result(t0 + 25 * S, &mut reg, &id, Outcome::Timeout);
        send(&mut h, &mut reg, t0 + 30 * S);
        let v = h.handle_result(t0 + 31 * S, &mut reg, &id, Outcome::Ok);
        assert_eq!(v, Some(HealthVerdict::Passed));
        assert!(reg.is_operational(id.as_str(), t0 + 31 * S));
        assert_eq!(h.poll_timeout(&reg), Some(t0 + 41 * S));
    }

    #[test]
    fn zero_retry_delay_means_no_second_try() {
        let mut cfg = BridgeConfig::default();
        cfg.health.retry_delay = Duration::ZERO;
        let (t0, mut reg, mut h, id) = setup(cfg);
        send(&mut h, &mut reg, t0 + 10 * S);
        let v = h.handle_result(t0 + 25 * S, &mut reg, &id, Outcome::Timeout);
        assert_eq!(v, Some(HealthVerdict::TimedOut));
    }

    #[test]
    fn disabled_checks_never_fire() {
        let mut cfg = BridgeConfig::default();
        cfg.health.interval = None;
        let (t0, mut reg, mut h, id) = setup(cfg);
        assert_eq!(h.poll_timeout(&reg), None);
        assert!(h.handle_timeout(t0 + 1000 * S, &mut reg).is_empty());
        assert_eq!(
            reg.get(id.as_str()).unwrap().health_state(),
            HealthState::Unchecked
        );
        // Unchecked: the threshold alone restores it.
        reg.mark_non_operational(t0, &id);
        assert!(reg.is_operational(id.as_str(), t0 + 60 * S));
    }

    #[test]
    fn seed_bridge_without_the_feature_is_not_checked() {
        let (t0, mut reg, mut h, _) = setup(BridgeConfig::default());
        let old = BridgeId::parse("jvb.meet.test").unwrap();
        let new = BridgeId::parse("jvb2.meet.test").unwrap();
        reg.discovered(t0, &old, false);
        reg.discovered(t0, &new, true);
        let a = h.handle_timeout(t0 + 10 * S, &mut reg);
        assert_eq!(a.len(), 2);
        assert!(!a.contains(&HealthAction::SendCheck(old)));
        assert!(a.contains(&HealthAction::SendCheck(new)));
    }

    #[test]
    fn removed_bridge_answer_is_ignored() {
        let (t0, mut reg, mut h, id) = setup(BridgeConfig::default());
        send(&mut h, &mut reg, t0 + 10 * S);
        reg.brewery_left(t0 + 11 * S, &id);
        assert_eq!(
            h.handle_result(
                t0 + 12 * S,
                &mut reg,
                &id,
                Outcome::Error(Condition::ServiceUnavailable)
            ),
            None
        );
        assert_eq!(h.poll_timeout(&reg), None);
    }

    #[test]
    fn offline_skips_checks_instead_of_failing_them() {
        let (t0, mut reg, mut h, id) = setup(BridgeConfig::default());
        send(&mut h, &mut reg, t0 + 10 * S);
        h.connection_lost(t0 + 12 * S, &mut reg);
        assert_eq!(
            h.handle_result(t0 + 13 * S, &mut reg, &id, Outcome::Timeout),
            None
        );
        assert_eq!(h.poll_timeout(&reg), Some(t0 + 22 * S));
        assert!(h.handle_timeout(t0 + 22 * S, &mut reg).is_empty());
        assert!(reg.is_operational(id.as_str(), t0 + 22 * S));
        h.connection_restored();
        let a = send(&mut h, &mut reg, t0 + 32 * S);
        assert_eq!(a, vec![HealthAction::SendCheck(id)]);
    }

    #[test]
    fn presence_based_checks() {
        let mut cfg = BridgeConfig::default();
        cfg.health.use_presence = true;
        let (t0, mut reg, mut h, id) = setup(cfg);
        // Fresh presence, healthy: passes without any IQ.
        assert!(send(&mut h, &mut reg, t0 + 10 * S).is_empty());
        assert!(reg.is_operational(id.as_str(), t0 + 10 * S));
        // The bridge says it is unhealthy: failed.
        reg.update_from_brewery(
            t0 + 15 * S,
            &id,
            &BridgeStats {
                healthy: Some(false),
                ..BridgeStats::default()
            },
        );
        assert!(send(&mut h, &mut reg, t0 + 20 * S).is_empty());
        assert_eq!(reg.poll_event(), Some(BridgeEvent::Failed(id.clone())));
        // Healthy presences again: passing ticks bring it back once the
        // failure-reset threshold (1 min after 20 s) has passed.
        let healthy = BridgeStats {
            healthy: Some(true),
            ..BridgeStats::default()
        };
        let mut t = t0 + 30 * S;
        while t <= t0 + 80 * S {
            reg.update_from_brewery(t - S, &id, &healthy);
            assert!(!reg.is_operational(id.as_str(), t - S));
            send(&mut h, &mut reg, t);
            t += 10 * S;
        }
        assert!(reg.is_operational(id.as_str(), t0 + 80 * S));
        assert_eq!(reg.poll_event(), Some(BridgeEvent::BackUp(id.clone())));
        // Presences stop after 79 s: more than 45 s later the tick times out,
        // with no event.
        for secs in [90, 100, 110, 120] {
            send(&mut h, &mut reg, t0 + secs * S);
        }
        assert!(reg.is_operational(id.as_str(), t0 + 120 * S));
        send(&mut h, &mut reg, t0 + 130 * S);
        assert!(!reg.is_operational(id.as_str(), t0 + 130 * S));
        assert!(reg.poll_event().is_none());
    }
}
