//! The set of known bridges and what is known about each (Jicofo's
//! `BridgeSelector` bridge map and `Bridge`), fed by both discovery paths:
//!
//! * the CURRENT brewery MUC: every `<stats>` presence of an occupant adds
//!   or updates that bridge, leaving the MUC removes it (protocol.md §3.3);
//! * SEED disco rounds on the XMPP domain: every item that answered
//!   disco#info as a bridge is (re)discovered, and at the end of a round the
//!   disco-found bridges that did not answer are removed (§3.1).
//!
//! A bridge found both ways (unusual, but nothing forbids it) stays until
//! both paths have lost it.
//!
//! "Operational" follows CURRENT `Bridge.isOperational`: marking a bridge
//! non-operational remembers when; it then reads as non-operational for at
//! least `failure_reset_threshold` *and* until a health check passes
//! ([`BridgeRegistry::mark_healthy`]). A bridge that is never health-checked
//! (checks disabled, or a SEED bridge without the health-check feature)
//! cannot pass one, so for it the threshold alone restores it, as in SEED.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use super::config::BridgeConfig;
use super::{BridgeEvent, BridgeId, BridgeStats, ColibriVersion};

/// How the registry learnt about a bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sources {
    /// It is an occupant of the brewery MUC.
    pub brewery: bool,
    /// It answered the current (or last) disco round.
    pub disco: bool,
}

/// Where a bridge's periodic health check stands (driven by
/// [`HealthChecker`](super::HealthChecker)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthState {
    /// Never checked: checks are disabled, or a SEED bridge that does not
    /// advertise the health-check feature (it would answer
    /// `service-unavailable` and look failed).
    Unchecked,
    /// The next check is due at `next`.
    Idle {
        /// When to check.
        next: Instant,
    },
    /// A check IQ is out, waiting for its result, error or timeout.
    AwaitingReply {
        /// Whether this is already the second try after a timeout.
        second_try: bool,
    },
    /// The first try got no reply; the second goes out at `at`.
    AwaitingRetry {
        /// When to send the second try.
        at: Instant,
    },
}

/// One bridge: its identity, its last reported stats and the focus's own
/// view of it (operational, recent endpoints, health).
#[derive(Debug, Clone)]
pub struct Bridge {
    id: BridgeId,
    colibri: ColibriVersion,
    sources: Sources,
    stress: f64,
    avg_participant_stress: Option<f64>,
    region: Option<String>,
    relay_id: Option<String>,
    version: Option<String>,
    release: Option<String>,
    graceful_shutdown: bool,
    shutting_down: bool,
    draining: bool,
    healthy: bool,
    conferences: Option<u32>,
    participants: Option<u32>,
    last_presence: Option<Instant>,
    /// The raw flag; read it through [`Bridge::operational_at`].
    operational: bool,
    failed_at: Option<Instant>,
    /// Marked non-operational and no `BackUp` event sent since.
    down_reported: bool,
    /// When endpoints were added here, oldest first, for the rampup
    /// correction; entries older than the rampup interval are dropped on the
    /// next add.
    recent_endpoints: VecDeque<Instant>,
    endpoints: u32,
    health_checked: bool,
    pub(super) health: HealthState,
    disco_round: u64,
}

impl Bridge {
    fn new(
        id: BridgeId,
        colibri: ColibriVersion,
        now: Instant,
        cfg: &BridgeConfig,
        checked: bool,
    ) -> Bridge {
        let health = match cfg.health.interval {
            Some(i) if checked => HealthState::Idle { next: now + i },
            _ => HealthState::Unchecked,
        };
        Bridge {
            id,
            colibri,
            sources: Sources::default(),
            stress: 0.0,
            avg_participant_stress: None,
            region: None,
            relay_id: None,
            version: None,
            release: None,
            graceful_shutdown: false,
            shutting_down: false,
            // Jicofo assumes a brewery bridge drains until its first stats
            // say otherwise, so it is not picked before they arrive. A disco
            // bridge never sends stats; SEED had no draining at all.
            draining: colibri == ColibriVersion::V2,
            healthy: true,
            conferences: None,
            participants: None,
            last_presence: None,
            operational: true,
            failed_at: None,
            down_reported: false,
            recent_endpoints: VecDeque::new(),
            endpoints: 0,
            health_checked: health != HealthState::Unchecked,
            health,
            disco_round: 0,
        }
    }

    /// Takes in the stats one presence carried; absent stats keep their
    /// last value, and the two shutdown flags never go back to false.
    fn apply(&mut self, now: Instant, s: &BridgeStats) {
        self.last_presence = Some(now);
        if let Some(v) = s.stress_level {
            self.stress = v;
        }
        if let Some(v) = s.average_participant_stress {
            self.avg_participant_stress = Some(v);
        }
        if s.graceful_shutdown == Some(true) {
            self.graceful_shutdown = true;
        }
        if s.shutting_down == Some(true) {
            self.shutting_down = true;
        }
        if let Some(v) = s.drain {
            self.draining = v;
        }
        for (slot, v) in [
            (&mut self.version, &s.version),
            (&mut self.release, &s.release),
            (&mut self.region, &s.region),
            (&mut self.relay_id, &s.relay_id),
        ] {
            if let Some(v) = v {
                *slot = Some(v.clone());
            }
        }
        if let Some(v) = s.healthy {
            self.healthy = v;
        }
        if s.conferences.is_some() {
            self.conferences = s.conferences;
        }
        if s.participants.is_some() {
            self.participants = s.participants;
        }
    }

    /// The bridge's address.
    pub fn id(&self) -> &BridgeId {
        &self.id
    }

    /// The Colibri dialect to speak to it.
    pub fn colibri_version(&self) -> ColibriVersion {
        self.colibri
    }

    /// How it was found.
    pub fn sources(&self) -> Sources {
        self.sources
    }

    /// The last `stress_level` it reported (0 until it reports one).
    pub fn reported_stress(&self) -> f64 {
        self.stress
    }

    /// Its region, if it reported one.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// Its relay (Octo) id, if it reported one.
    pub fn relay_id(&self) -> Option<&str> {
        self.relay_id.as_deref()
    }

    /// The reported `version` alone.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The reported `release` alone.
    pub fn release(&self) -> Option<&str> {
        self.release.as_deref()
    }

    /// `version-release`, or just `version` without a release: what
    /// version pinning and mixed-version checks compare.
    pub fn full_version(&self) -> Option<String> {
        let v = self.version.as_deref()?;
        Some(match &self.release {
            Some(r) => format!("{v}-{r}"),
            None => v.to_string(),
        })
    }

    /// Whether [`full_version`](Self::full_version) equals `v`, without
    /// building it.
    pub(super) fn has_full_version(&self, v: &str) -> bool {
        let Some(mine) = self.version.as_deref() else {
            return false;
        };
        match &self.release {
            None => mine == v,
            Some(r) => v
                .strip_prefix(mine)
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|rest| rest == r),
        }
    }

    /// Whether it said `graceful_shutdown` (or a Colibri error said so).
    pub fn in_graceful_shutdown(&self) -> bool {
        self.graceful_shutdown
    }

    /// Whether it said `shutting_down`.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down
    }

    /// Whether it is draining (true for a brewery bridge until it reports).
    pub fn is_draining(&self) -> bool {
        self.draining
    }

    /// Its own `healthy` stat (true until it says otherwise).
    pub fn reports_healthy(&self) -> bool {
        self.healthy
    }

    /// Its reported conference count.
    pub fn conferences(&self) -> Option<u32> {
        self.conferences
    }

    /// Its reported participant count.
    pub fn participants(&self) -> Option<u32> {
        self.participants
    }

    /// When its last stats presence arrived.
    pub fn last_presence(&self) -> Option<Instant> {
        self.last_presence
    }

    /// Endpoints this focus has put on it (added minus removed).
    pub fn endpoints(&self) -> u32 {
        self.endpoints
    }

    /// Where its health checks stand.
    pub fn health_state(&self) -> HealthState {
        self.health
    }

    /// Whether health checks apply to it.
    pub fn is_health_checked(&self) -> bool {
        self.health_checked
    }

    /// Operational at `now`: not marked failed within the reset threshold,
    /// and (if it is health-checked) a check has passed since.
    pub(super) fn operational_at(&self, now: Instant, threshold: Duration) -> bool {
        if let Some(t) = self.failed_at
            && now.saturating_duration_since(t) < threshold
        {
            return false;
        }
        self.operational || !self.health_checked
    }

    /// Endpoints added within the rampup interval before `now`.
    fn recent_endpoint_count(&self, now: Instant, rampup: Duration) -> usize {
        let old = self
            .recent_endpoints
            .partition_point(|t| now.saturating_duration_since(*t) >= rampup);
        self.recent_endpoints.len() - old
    }

    /// The reported stress plus the stress of endpoints added since the
    /// bridge last had a chance to report them (Jicofo's `correctedStress`).
    pub(super) fn corrected_stress_at(&self, now: Instant, cfg: &BridgeConfig) -> f64 {
        let recent = self.recent_endpoint_count(now, cfg.participant_rampup_interval);
        let per = self
            .avg_participant_stress
            .unwrap_or(cfg.average_participant_stress);
        self.stress + recent as f64 * per
    }

    fn set_non_operational(&mut self, now: Instant) {
        self.operational = false;
        self.failed_at = Some(now);
        self.down_reported = true;
    }
}

/// Counters for `/stats` (`bridge_selector` in Jicofo's stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RegistryStats {
    /// Known bridges.
    pub bridge_count: usize,
    /// Operational bridges.
    pub operational_bridge_count: usize,
    /// Bridges in graceful shutdown.
    pub in_shutdown_bridge_count: usize,
    /// Bridges that went away without announcing a shutdown, ever.
    pub lost_bridges: u64,
    /// Distinct full versions among the bridges (an unknown version counts
    /// as one).
    pub bridge_version_count: usize,
}

/// Every known bridge, keyed by address, plus the events the conference
/// logic has not read yet. Iteration is in address order, which makes ties
/// in selection deterministic.
#[derive(Debug)]
pub struct BridgeRegistry {
    cfg: BridgeConfig,
    bridges: BTreeMap<BridgeId, Bridge>,
    events: VecDeque<BridgeEvent>,
    disco_round: u64,
    lost_bridges: u64,
}

impl BridgeRegistry {
    /// An empty registry.
    pub fn new(cfg: BridgeConfig) -> BridgeRegistry {
        BridgeRegistry {
            cfg,
            bridges: BTreeMap::new(),
            events: VecDeque::new(),
            disco_round: 0,
            lost_bridges: 0,
        }
    }

    /// The settings it was made with.
    pub fn config(&self) -> &BridgeConfig {
        &self.cfg
    }

    // ------------------------------------------------------------ brewery

    /// A brewery occupant sent a presence with `<stats>`: adds the bridge
    /// (event [`BridgeEvent::Added`]) or updates it (event
    /// [`BridgeEvent::ShuttingDown`] when `shutting_down` turns true).
    /// Presences without `<stats>` must not be passed here: Jicofo ignores
    /// such occupants.
    pub fn update_from_brewery(&mut self, now: Instant, id: &BridgeId, stats: &BridgeStats) {
        let colibri = if stats.colibri2 == Some(false) {
            ColibriVersion::V1
        } else {
            ColibriVersion::V2
        };
        // CURRENT checks every brewery bridge.
        let interval = self.cfg.health.interval;
        let (b, added) = self.entry(now, id, colibri, true);
        b.sources.brewery = true;
        if let (HealthState::Unchecked, Some(i)) = (b.health, interval) {
            // Known from disco without the health-check feature, now in the
            // brewery: CURRENT checks every brewery bridge.
            b.health = HealthState::Idle { next: now + i };
            b.health_checked = true;
        }
        let was_shutting_down = b.shutting_down;
        b.apply(now, stats);
        if added {
            log::info!(
                "bridge {id}: joined the brewery (region {:?}, version {:?}, stress {})",
                b.region,
                b.full_version(),
                b.stress
            );
            self.events.push_back(BridgeEvent::Added(id.clone()));
        } else if !was_shutting_down && b.shutting_down {
            log::info!("bridge {id}: entered SHUTTING_DOWN");
            self.events.push_back(BridgeEvent::ShuttingDown(id.clone()));
        }
    }

    /// A brewery occupant left or was kicked: forgets the bridge unless disco
    /// also knows it (event [`BridgeEvent::Removed`]).
    pub fn brewery_left(&mut self, now: Instant, id: &BridgeId) {
        if let Some(b) = self.bridges.get_mut(id) {
            b.sources.brewery = false;
        }
        self.remove_if_unsourced(now, id);
    }

    /// The focus left the brewery (reconnect without stream resumption):
    /// forgets every brewery bridge; re-joining adds them back.
    pub fn brewery_reset(&mut self, now: Instant) {
        let ids: Vec<BridgeId> = self
            .bridges
            .values_mut()
            .filter(|b| b.sources.brewery)
            .map(|b| {
                b.sources.brewery = false;
                b.id.clone()
            })
            .collect();
        for id in ids {
            self.remove_if_unsourced(now, &id);
        }
    }

    // -------------------------------------------------------------- disco

    /// A SEED disco round starts (disco#items to the XMPP domain sent).
    pub fn discovery_round_started(&mut self, _now: Instant) {
        self.disco_round += 1;
    }

    /// An item answered disco#info with the bridge features. Adds it as a
    /// Colibri v1 bridge (event [`BridgeEvent::Added`]) or marks it seen in
    /// this round. `health_checks`: whether it advertises
    /// `http://jitsi.org/protocol/healthcheck` (SEED‑2016 only checks those).
    pub fn discovered(&mut self, now: Instant, id: &BridgeId, health_checks: bool) {
        let round = self.disco_round;
        let checked = health_checks && !self.cfg.health.use_presence;
        let (b, added) = self.entry(now, id, ColibriVersion::V1, checked);
        b.sources.disco = true;
        b.disco_round = round;
        if added {
            log::info!("bridge {id}: discovered on the XMPP domain");
            self.events.push_back(BridgeEvent::Added(id.clone()));
        }
    }

    /// The round is over: every disco-found bridge that did not answer in
    /// it is removed ("component went offline").
    pub fn discovery_round_done(&mut self, now: Instant) {
        let round = self.disco_round;
        let gone: Vec<BridgeId> = self
            .bridges
            .values_mut()
            .filter(|b| b.sources.disco && b.disco_round != round)
            .map(|b| {
                b.sources.disco = false;
                b.id.clone()
            })
            .collect();
        for id in gone {
            log::info!("bridge {id}: did not answer disco, going offline");
            self.remove_if_unsourced(now, &id);
        }
    }

    /// The connection disco runs on went down: SEED forgets every service
    /// it discovered.
    pub fn discovery_lost(&mut self, now: Instant) {
        let ids: Vec<BridgeId> = self
            .bridges
            .values_mut()
            .filter(|b| b.sources.disco)
            .map(|b| {
                b.sources.disco = false;
                b.id.clone()
            })
            .collect();
        for id in ids {
            self.remove_if_unsourced(now, &id);
        }
    }

    fn entry(
        &mut self,
        now: Instant,
        id: &BridgeId,
        colibri: ColibriVersion,
        checked: bool,
    ) -> (&mut Bridge, bool) {
        let added = !self.bridges.contains_key(id);
        let cfg = &self.cfg;
        let b = self
            .bridges
            .entry(id.clone())
            .or_insert_with(|| Bridge::new(id.clone(), colibri, now, cfg, checked));
        (b, added)
    }

    fn remove_if_unsourced(&mut self, _now: Instant, id: &BridgeId) {
        let Some(b) = self.bridges.get(id) else {
            return;
        };
        if b.sources.brewery || b.sources.disco {
            return;
        }
        if !b.graceful_shutdown && !b.shutting_down {
            log::warn!("bridge {id}: lost (it went away without shutting down)");
            self.lost_bridges += 1;
        } else {
            log::info!("bridge {id}: removed after its shutdown");
        }
        self.bridges.remove(id);
        self.events.push_back(BridgeEvent::Removed(id.clone()));
    }

    // -------------------------------------------------------------- state

    /// A health check failed with an error: the bridge is non-operational
    /// and event [`BridgeEvent::Failed`] tells the conferences to move off
    /// it (every time, as a conference may have landed there since).
    /// Returns false for an unknown bridge.
    pub fn mark_failed(&mut self, now: Instant, id: &BridgeId) -> bool {
        let Some(b) = self.bridges.get_mut(id) else {
            return false;
        };
        log::warn!("bridge {id}: failed; moving its conferences away");
        b.set_non_operational(now);
        self.events.push_back(BridgeEvent::Failed(id.clone()));
        true
    }

    /// Non-operational without moving anything: a timed-out health check, or
    /// a failed Colibri request the conference handles itself (§3.6).
    /// Returns false for an unknown bridge.
    pub fn mark_non_operational(&mut self, now: Instant, id: &BridgeId) -> bool {
        let Some(b) = self.bridges.get_mut(id) else {
            return false;
        };
        if b.operational_at(now, self.cfg.failure_reset_threshold) {
            log::warn!("bridge {id}: marked non-operational");
        }
        b.set_non_operational(now);
        true
    }

    /// A health check passed. If the bridge had been marked down and the
    /// failure-reset threshold has passed, it is operational again: event
    /// [`BridgeEvent::BackUp`]. Returns false for an unknown bridge.
    pub fn mark_healthy(&mut self, now: Instant, id: &BridgeId) -> bool {
        let Some(b) = self.bridges.get_mut(id) else {
            return false;
        };
        b.operational = true;
        if b.down_reported && b.operational_at(now, self.cfg.failure_reset_threshold) {
            b.down_reported = false;
            log::info!("bridge {id}: operational again");
            self.events.push_back(BridgeEvent::BackUp(id.clone()));
        }
        true
    }

    /// A Colibri error said the bridge is shutting down gracefully
    /// (`service-unavailable` + reason `graceful_shutdown`): sets the sticky
    /// flag as the stat would.
    pub fn mark_graceful_shutdown(&mut self, id: &BridgeId) -> bool {
        let Some(b) = self.bridges.get_mut(id) else {
            return false;
        };
        if !b.graceful_shutdown {
            log::info!("bridge {id}: in graceful shutdown");
        }
        b.graceful_shutdown = true;
        true
    }

    /// An endpoint was put on the bridge: its stress counts as higher by the
    /// average participant stress for the rampup interval, so that a burst
    /// of joins does not all land on the bridge that looked least loaded.
    pub fn endpoint_added(&mut self, now: Instant, id: &BridgeId) {
        let rampup = self.cfg.participant_rampup_interval;
        let Some(b) = self.bridges.get_mut(id) else {
            return;
        };
        while b
            .recent_endpoints
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= rampup)
        {
            b.recent_endpoints.pop_front();
        }
        // Keep the queue sorted even if a caller's clock steps back.
        let at = b.recent_endpoints.partition_point(|t| *t <= now);
        b.recent_endpoints.insert(at, now);
        b.endpoints = b.endpoints.saturating_add(1);
    }

    /// `n` endpoints left the bridge (only the endpoint count changes; the
    /// rampup correction is about load that is still coming).
    pub fn endpoints_removed(&mut self, id: &BridgeId, n: u32) {
        if let Some(b) = self.bridges.get_mut(id) {
            b.endpoints = b.endpoints.saturating_sub(n);
        }
    }

    // ------------------------------------------------------------ queries

    /// The bridge with that address.
    pub fn get(&self, id: &str) -> Option<&Bridge> {
        self.bridges.get(id)
    }

    pub(super) fn get_mut(&mut self, id: &str) -> Option<&mut Bridge> {
        self.bridges.get_mut(id)
    }

    /// Every bridge, in address order.
    pub fn iter(&self) -> impl Iterator<Item = &Bridge> {
        self.bridges.values()
    }

    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Bridge> {
        self.bridges.values_mut()
    }

    /// Number of known bridges.
    pub fn len(&self) -> usize {
        self.bridges.len()
    }

    /// Whether no bridge is known.
    pub fn is_empty(&self) -> bool {
        self.bridges.is_empty()
    }

    /// Whether the bridge is known and operational at `now`.
    pub fn is_operational(&self, id: &str, now: Instant) -> bool {
        self.bridges
            .get(id)
            .is_some_and(|b| b.operational_at(now, self.cfg.failure_reset_threshold))
    }

    /// The bridge's stress corrected for recently added endpoints.
    pub fn corrected_stress(&self, id: &str, now: Instant) -> Option<f64> {
        self.bridges
            .get(id)
            .map(|b| b.corrected_stress_at(now, &self.cfg))
    }

    /// Whether the corrected stress is at or above the stress threshold.
    pub fn is_overloaded(&self, id: &str, now: Instant) -> bool {
        self.corrected_stress(id, now)
            .is_some_and(|s| s >= self.cfg.stress_threshold)
    }

    /// Operational bridges not in graceful shutdown: at least one is needed
    /// for the focus to call itself healthy.
    pub fn operational_count(&self, now: Instant) -> usize {
        let t = self.cfg.failure_reset_threshold;
        self.bridges
            .values()
            .filter(|b| b.operational_at(now, t) && !b.graceful_shutdown)
            .count()
    }

    /// The `/stats` counters.
    pub fn stats(&self, now: Instant) -> RegistryStats {
        let t = self.cfg.failure_reset_threshold;
        let mut versions: Vec<Option<String>> =
            self.bridges.values().map(Bridge::full_version).collect();
        versions.sort();
        versions.dedup();
        RegistryStats {
            bridge_count: self.bridges.len(),
            operational_bridge_count: self
                .bridges
                .values()
                .filter(|b| b.operational_at(now, t))
                .count(),
            in_shutdown_bridge_count: self
                .bridges
                .values()
                .filter(|b| b.graceful_shutdown)
                .count(),
            lost_bridges: self.lost_bridges,
            bridge_version_count: versions.len(),
        }
    }

    /// The next event for the conference logic.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<BridgeEvent> {
        self.events.pop_front()
    }

    /// Picks a bridge for a participant; see [`select`](super::select).
    pub fn select(
        &self,
        now: Instant,
        conference_bridges: &[(BridgeId, u32)],
        participant_region: Option<&str>,
        pinned_version: Option<&str>,
    ) -> Option<BridgeId> {
        super::select(
            self,
            now,
            conference_bridges,
            participant_region,
            pinned_version,
        )
    }
}

/// When to run the next SEED disco round: the first at once when started
/// (start-up, or the client connection registered), then every
/// `rediscovery_interval`.
#[derive(Debug, Clone)]
pub struct DiscoverySchedule {
    interval: Option<Duration>,
    next: Option<Instant>,
}

impl DiscoverySchedule {
    /// A stopped schedule with the configured period (`None`: only the first
    /// round after each start).
    pub fn new(interval: Option<Duration>) -> DiscoverySchedule {
        DiscoverySchedule {
            interval,
            next: None,
        }
    }

    /// The connection is up: a round is due now.
    pub fn start(&mut self, now: Instant) {
        self.next = Some(now);
    }

    /// The connection is down: no rounds until [`start`](Self::start).
    pub fn stop(&mut self) {
        self.next = None;
    }

    /// When [`handle_timeout`](Self::handle_timeout) must run next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next
    }

    /// True when a round must start now (call
    /// [`BridgeRegistry::discovery_round_started`] and send disco#items).
    pub fn handle_timeout(&mut self, now: Instant) -> bool {
        match self.next {
            Some(t) if t <= now => {
                self.next = self.interval.map(|i| now + i);
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> BridgeId {
        BridgeId::parse(s).unwrap()
    }

    fn stats() -> BridgeStats {
        BridgeStats {
            stress_level: Some(0.1),
            drain: Some(false),
            ..BridgeStats::default()
        }
    }

    fn events(r: &mut BridgeRegistry) -> Vec<BridgeEvent> {
        std::iter::from_fn(|| r.poll_event()).collect()
    }

    #[test]
    fn brewery_presence_adds_then_updates_and_leave_removes() {
        let now = Instant::now();
        let mut r = BridgeRegistry::new(BridgeConfig::default());
        let a = id("jvbbrewery@internal.auth.meet.test/jvb-1");
        r.update_from_brewery(now, &a, &stats());
        r.update_from_brewery(now, &a, &stats());
        assert_eq!(events(&mut r), vec![BridgeEvent::Added(a.clone())]);
        let b = r.get(a.as_str()).unwrap();
        assert_eq!(b.colibri_version(), ColibriVersion::V2);
        assert_eq!(
            b.sources(),
            Sources {
                brewery: true,
                disco: false
            }
        );
        assert!(b.is_health_checked());
        r.brewery_left(now, &a);
        assert_eq!(events(&mut r), vec![BridgeEvent::Removed(a.clone())]);
        assert!(r.is_empty());
        assert_eq!(r.stats(now).lost_bridges, 1);
    }

    #[test]
    fn ids_are_canonical() {
        let now = Instant::now();
        let mut r = BridgeRegistry::new(BridgeConfig::default());
        r.update_from_brewery(
            now,
            &id("JvbBrewery@Internal.auth.meet.test/jvb-1"),
            &stats(),
        );
        assert!(r.get("jvbbrewery@internal.auth.meet.test/jvb-1").is_some());
        r.update_from_brewery(
            now,
            &id("jvbbrewery@internal.auth.meet.test/JVB-1"),
            &stats(),
        );
        assert_eq!(r.len(), 2, "resources are case-sensitive");
    }

    #[test]
    fn stats_update_independently_and_shutdown_flags_stick() {
        let now = Instant::now();
        let mut r = BridgeRegistry::new(BridgeConfig::default());
        let a = id("jvbbrewery@internal.auth.meet.test/jvb-1");
        r.update_from_brewery(now, &a, &BridgeStats::default());
        assert!(
            r.get(a.as_str()).unwrap().is_draining(),
            "draining until told"
        );
        r.update_from_brewery(
            now,
            &a,
            &BridgeStats {
                region: Some("eu".into()),
                version: Some("2.3".into()),
                release: Some("99".into()),
                graceful_shutdown: Some(true),
                drain: Some(false),
                ..BridgeStats::default()
            },
        );
        r.update_from_brewery(
            now,
            &a,
            &BridgeStats {
                stress_level: Some(0.4),
                graceful_shutdown: Some(false),
                ..BridgeStats::default()
            },
        );
        let b = r.get(a.as_str()).unwrap();
        assert_eq!(b.region(), Some("eu"));
        assert_eq!(b.full_version().as_deref(), Some("2.3-99"));
        assert!(b.has_full_version("2.3-99"));
        assert!(!b.has_full_version("2.3"));
        assert!(!b.has_full_version("2.3-9"));
        assert!(b.in_graceful_shutdown());
        assert!(!b.is_draining());
        assert_eq!(b.reported_stress(), 0.4);
        assert_eq!(r.stats(now).in_shutdown_bridge_count, 1);
        // A bridge that leaves after announcing its shutdown is not "lost".
        r.brewery_left(now, &a);
        assert_eq!(r.stats(now).lost_bridges, 0);
    }

    #[test]
    fn shutting_down_fires_once() {
        let now = Instant::now();
        let mut r = BridgeRegistry::new(BridgeConfig::default());
        let a = id("jvbbrewery@internal.auth.meet.test/jvb-1");
        r.update_from_brewery(now, &a, &stats());
        let down = BridgeStats {
            shutting_down: Some(true),
            ..stats()
        };
        r.update_from_brewery(now, &a, &down);
        r.update_from_brewery(now, &a, &down);
        r.update_from_brewery(now, &a, &stats());
        assert_eq!(
            events(&mut r),
            vec![
                BridgeEvent::Added(a.clone()),
                BridgeEvent::ShuttingDown(a.clone())
            ]
        );
        assert!(r.get(a.as_str()).unwrap().is_shutting_down());
    }

    #[test]
    fn colibri_version_of_a_brewery_bridge() {
        let now = Instant::now();
        let mut r = BridgeRegistry::new(BridgeConfig::default());
        let a = id("jvbbrewery@internal.auth.meet.test/old");
        r.update_from_brewery(
            now,
            &a,
            &BridgeStats {
                colibri2: Some(false),
                ..stats()
            },
        );
        assert_eq!(
            r.get(a.as_str()).unwrap().colibri_version(),
            ColibriVersion::V1
        );
    }

    #[test]
    fn disco_round_removes_items_that_did_not_answer() {
        let t0 = Instant::now();
        let mut r = BridgeRegistry::new(BridgeConfig::default());
        let (a, b) = (id("jvb1.meet.test"), id("jvb2.meet.test"));
        r.discovery_round_started(t0);
        r.discovered(t0, &a, false);
        r.discovered(t0, &b, true);
        r.discovery_round_done(t0);
        assert_eq!(
            events(&mut r),
            vec![BridgeEvent::Added(a.clone()), BridgeEvent::Added(b.clone())]
        );
        let ba = r.get(a.as_str()).unwrap();
        assert_eq!(ba.colibri_version(), ColibriVersion::V1);
        assert!(!ba.is_draining(), "SEED bridges never drain");
        assert!(!ba.is_health_checked(), "no health-check feature");
        assert!(r.get(b.as_str()).unwrap().is_health_checked());

        let t1 = t0 + Duration::from_secs(30);
        r.discovery_round_started(t1);
        r.discovered(t1, &b, true);
        r.discovery_round_done(t1);
        assert_eq!(events(&mut r), vec![BridgeEvent::Removed(a.clone())]);
        assert_eq!(r.len(), 1);

        r.discovery_lost(t1);
        assert_eq!(events(&mut r), vec![BridgeEvent::Removed(b.clone())]);
        assert!(r.is_empty());
    }

    #[test]
    fn both_discovery_paths_at_once() {
        let now = Instant::now();
        let mut r = BridgeRegistry::new(BridgeConfig::default());
        let seed = id("jitsi-videobridge.meet.test");
        let cur = id("jvbbrewery@internal.auth.meet.test/jvb-1");
        r.discovery_round_started(now);
        r.discovered(now, &seed, false);
        r.update_from_brewery(now, &cur, &stats());
        r.discovery_round_done(now);
        assert_eq!(r.len(), 2);
        assert_eq!(
            r.get(seed.as_str()).unwrap().colibri_version(),
            ColibriVersion::V1
        );
        assert_eq!(
            r.get(cur.as_str()).unwrap().colibri_version(),
            ColibriVersion::V2
        );

        // The same address known both ways stays until both lose it.
        assert!(!r.get(seed.as_str()).unwrap().is_health_checked());
        r.update_from_brewery(now, &seed, &stats());
        assert!(r.get(seed.as_str()).unwrap().is_health_checked());
        assert_eq!(
            r.get(seed.as_str()).unwrap().sources(),
            Sources {
                brewery: true,
                disco: true
            }
        );
        r.discovery_round_started(now);
        r.discovered(now, &seed, true);
        r.discovery_round_done(now);
        r.brewery_left(now, &seed);
        assert!(r.get(seed.as_str()).is_some(), "disco still has it");
        r.discovery_round_started(now);
        r.discovery_round_done(now);
        assert!(r.get(seed.as_str()).is_none());

        // A brewery reset forgets only brewery bridges.
        r.discovery_round_started(now);
        r.discovered(now, &seed, true);
        r.brewery_reset(now);
        assert!(r.get(cur.as_str()).is_none());
        assert!(r.get(seed.as_str()).is_some());
        let ev = events(&mut r);
        assert_eq!(
            ev.iter()
                .filter(|e| matches!(e, BridgeEvent::Added(_)))
                .count(),
            3
        );
        assert_eq!(
            ev.iter()
                .filter(|e| matches!(e, BridgeEvent::Removed(_)))
                .count(),
            2
        );
    }

    #[test]
    fn failure_reset_threshold_and_back_up() {
        let t0 = Instant::now();
        let cfg = BridgeConfig::default();
        let th = cfg.failure_reset_threshold;
        let mut r = BridgeRegistry::new(cfg);
        let a = id("jvbbrewery@internal.auth.meet.test/jvb-1");
        r.update_from_brewery(t0, &a, &stats());
        let _ = events(&mut r);
        assert!(r.is_operational(a.as_str(), t0));
        assert!(r.mark_failed(t0, &a));
        assert_eq!(events(&mut r), vec![BridgeEvent::Failed(a.clone())]);
        // A passing check inside the threshold does not restore it yet.
        r.mark_healthy(t0 + th / 2, &a);
        assert!(!r.is_operational(a.as_str(), t0 + th / 2));
        assert!(events(&mut r).is_empty());
        // Past the threshold it is operational; the next passing check says so.
        assert!(r.is_operational(a.as_str(), t0 + th));
        r.mark_healthy(t0 + th, &a);
        assert_eq!(events(&mut r), vec![BridgeEvent::BackUp(a.clone())]);
        r.mark_healthy(t0 + th, &a);
        assert!(events(&mut r).is_empty(), "BackUp only once");

        // Timed out: non-operational, no event; stays down past the
        // threshold until a check passes.
        r.mark_non_operational(t0 + th, &a);
        assert!(events(&mut r).is_empty());
        assert!(!r.is_operational(a.as_str(), t0 + th * 100));
        r.mark_healthy(t0 + th * 100, &a);
        assert!(r.is_operational(a.as_str(), t0 + th * 100));
        assert_eq!(events(&mut r), vec![BridgeEvent::BackUp(a.clone())]);

        assert!(!r.mark_failed(t0, &id("unknown.meet.test")));
        assert!(!r.mark_healthy(t0, &id("unknown.meet.test")));
    }

    #[test]
    fn unchecked_bridge_recovers_after_the_threshold_alone() {
        let t0 = Instant::now();
        let mut r = BridgeRegistry::new(BridgeConfig::default());
        let a = id("jvb1.meet.test");
        r.discovered(t0, &a, false);
        r.mark_non_operational(t0, &a);
        let th = r.config().failure_reset_threshold;
        assert!(!r.is_operational(a.as_str(), t0 + th - Duration::from_millis(1)));
        assert!(r.is_operational(a.as_str(), t0 + th));
    }

    #[test]
    fn rampup_corrects_stress_for_recent_endpoints() {
        let t0 = Instant::now();
        let mut r = BridgeRegistry::new(BridgeConfig::default());
        let a = id("jvbbrewery@internal.auth.meet.test/jvb-1");
        r.update_from_brewery(t0, &a, &stats());
        assert_eq!(r.corrected_stress(a.as_str(), t0), Some(0.1));
        for i in 0..5 {
            r.endpoint_added(t0 + Duration::from_secs(i), &a);
        }
        let s = r
            .corrected_stress(a.as_str(), t0 + Duration::from_secs(5))
            .unwrap();
        assert!((s - 0.15).abs() < 1e-9, "{s}");
        // The first two fall out of the 20 s window.
        let s = r
            .corrected_stress(a.as_str(), t0 + Duration::from_secs(21))
            .unwrap();
        assert!((s - 0.13).abs() < 1e-9, "{s}");
        // The bridge's own average replaces the configured one.
        r.update_from_brewery(
            t0,
            &a,
            &BridgeStats {
                average_participant_stress: Some(0.05),
                ..BridgeStats::default()
            },
        );
        let s = r
            .corrected_stress(a.as_str(), t0 + Duration::from_secs(21))
            .unwrap();
        assert!((s - 0.25).abs() < 1e-9, "{s}");
        assert_eq!(
            r.corrected_stress(a.as_str(), t0 + Duration::from_secs(60)),
            Some(0.1)
        );
        assert_eq!(r.get(a.as_str()).unwrap().endpoints(), 5);
        r.endpoints_removed(&a, 7);
        assert_eq!(r.get(a.as_str()).unwrap().endpoints(), 0);
        // Adding prunes what is out of the window.
        r.endpoint_added(t0 + Duration::from_secs(60), &a);
        assert_eq!(r.get(a.as_str()).unwrap().recent_endpoints.len(), 1);
    }

    #[test]
    fn registry_stats() {
        let now = Instant::now();
        let mut r = BridgeRegistry::new(BridgeConfig::default());
        for (n, v) in [("a", "1"), ("b", "1"), ("c", "2")] {
            r.update_from_brewery(
                now,
                &id(&format!("jvbbrewery@internal.auth.meet.test/{n}")),
                &BridgeStats {
                    version: Some(v.into()),
                    ..stats()
                },
            );
        }
        r.mark_failed(now, &id("jvbbrewery@internal.auth.meet.test/a"));
        r.mark_graceful_shutdown(&id("jvbbrewery@internal.auth.meet.test/b"));
        let s = r.stats(now);
        assert_eq!(s.bridge_count, 3);
        assert_eq!(s.operational_bridge_count, 2);
        assert_eq!(s.in_shutdown_bridge_count, 1);
        assert_eq!(s.bridge_version_count, 2);
        assert_eq!(r.operational_count(now), 1);
    }

    #[test]
    fn discovery_schedule() {
        let t0 = Instant::now();
        let mut s = DiscoverySchedule::new(Some(Duration::from_secs(30)));
        assert_eq!(s.poll_timeout(), None);
        s.start(t0);
        assert!(s.handle_timeout(t0));
        assert!(!s.handle_timeout(t0 + Duration::from_secs(29)));
        assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(30)));
        assert!(s.handle_timeout(t0 + Duration::from_secs(30)));
        s.stop();
        assert!(!s.handle_timeout(t0 + Duration::from_secs(90)));

        let mut once = DiscoverySchedule::new(None);
        once.start(t0);
        assert!(once.handle_timeout(t0));
        assert_eq!(once.poll_timeout(), None);
    }
}
