//! Bridge selection (protocol.md §3.4; Jicofo's `BridgeSelector.selectBridge`
//! and its strategies).
//!
//! [`select`] narrows the registry to the usable bridges, least stressed
//! first, then lets the configured strategy choose among them:
//!
//! 1. operational bridges only (none: no bridge);
//! 2. not `shutting_down` (none: no bridge);
//! 3. if the conference already has a bridge, or is pinned to a version,
//!    only bridges with that full version (unless mixed versions are
//!    allowed; none: no bridge);
//! 4. prefer non-draining bridges, then bridges not in graceful shutdown
//!    (each narrows the set only if something remains, so a draining or
//!    graceful bridge is still used when it is all there is);
//! 5. order by corrected stress (reported stress plus the rampup correction
//!    for endpoints added in the last `participant-rampup-interval`);
//! 6. if the conference already has a bridge and it cannot share the
//!    conference (Octo disabled, or no relay id), that bridge is the answer;
//!    otherwise the strategy picks.
//!
//! "Overloaded for this conference" is: corrected stress ≥ stress threshold,
//! or the conference already has `max-bridge-participants` on that bridge.
//!
//! One deliberate difference from Jicofo (2025 `RegionBased` order): its
//! "any not-overloaded bridge" step looks at stress only, so a conference
//! bridge that is full for this conference but lightly loaded is picked
//! again there and the participant maximum is ignored for participants
//! without a matching region. We apply the per-conference test in that step
//! too, which is what the step's name and protocol.md promise.

use std::time::Instant;

use super::BridgeId;
use super::config::{BridgeConfig, SelectionStrategy};
use super::registry::{Bridge, BridgeRegistry};

/// A usable bridge as the strategies see it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Candidate<'a> {
    pub id: &'a BridgeId,
    pub region: Option<&'a str>,
    pub stress: f64,
    /// Corrected stress at or above the threshold.
    pub overloaded: bool,
}

/// One of the conference's current bridges.
#[derive(Debug, Clone, Copy)]
pub(super) struct ConfBridge<'a> {
    pub id: &'a BridgeId,
    pub participants: u32,
    /// It advertises a relay id, so it can share the conference.
    pub relay: bool,
    pub operational: bool,
}

/// Picks the bridge for a new participant of a conference.
///
/// * `conference_bridges`: the bridges the conference already uses, each
///   with the number of its participants on it; the first is "the"
///   conference bridge for the single-bridge rule and version matching.
///   Bridges the registry no longer knows are ignored (a conference should
///   have dropped them on [`BridgeEvent::Removed`](super::BridgeEvent)).
/// * `participant_region`: the participant's region, if its presence said.
/// * `pinned_version`: a version the conference is pinned to (REST `/pin`);
///   it must agree with the conference's bridges.
///
/// `None` when no bridge can be used; Jicofo then tells clients
/// "videobridge not available". Call [`BridgeRegistry::endpoint_added`] for
/// the bridge once the participant is put on it.
pub fn select(
    reg: &BridgeRegistry,
    now: Instant,
    conference_bridges: &[(BridgeId, u32)],
    participant_region: Option<&str>,
    pinned_version: Option<&str>,
) -> Option<BridgeId> {
    let cfg = reg.config();
    let threshold = cfg.failure_reset_threshold;
    let conf: Vec<ConfBridge<'_>> = conference_bridges
        .iter()
        .filter_map(|(id, n)| {
            let b = reg.get(id.as_str())?;
            Some(ConfBridge {
                id: b.id(),
                participants: *n,
                relay: b.relay_id().is_some(),
                operational: b.operational_at(now, threshold),
            })
        })
        .collect();

    let conf_version = conf
        .first()
        .and_then(|e| reg.get(e.id.as_str()))
        .and_then(Bridge::full_version);
    let version = match (conf_version, pinned_version) {
        (None, pinned) => pinned.map(str::to_string),
        (Some(v), Some(p)) if p != v => {
            log::warn!("bridge selection: version {p} requested, but the conference uses {v}");
            return None;
        }
        (Some(v), _) => Some(v),
    };

    let mut any_operational = false;
    let mut any_running = false;
    let mut cands: Vec<(Candidate<'_>, bool, bool)> = Vec::with_capacity(reg.len());
    for b in reg.iter() {
        if !b.operational_at(now, threshold) {
            continue;
        }
        any_operational = true;
        if b.is_shutting_down() {
            continue;
        }
        any_running = true;
        if let Some(v) = &version
            && !cfg.allow_mixed_versions
            && !b.has_full_version(v)
        {
            continue;
        }
        let stress = b.corrected_stress_at(now, cfg);
        let c = Candidate {
            id: b.id(),
            region: b.region(),
            stress,
            overloaded: stress >= cfg.stress_threshold,
        };
        cands.push((c, b.is_draining(), b.in_graceful_shutdown()));
    }
    if !any_operational {
        log::warn!("bridge selection: there are no operational bridges");
        return None;
    }
    if !any_running {
        log::warn!("bridge selection: all operational bridges are shutting down");
        return None;
    }
    if cands.is_empty() {
        log::warn!(
            "bridge selection: no bridge has the required version {}",
            version.as_deref().unwrap_or("")
        );
        return None;
    }
    if cands.iter().any(|(_, draining, _)| !draining) {
        cands.retain(|(_, draining, _)| !draining);
    }
    if cands.iter().any(|(_, _, graceful)| !graceful) {
        cands.retain(|(_, _, graceful)| !graceful);
    }
    // All that remain share one priority (operational, and graceful or
    // not), so Jicofo's (priority, stress) order is the stress order. The
    // sort is stable: ties keep address order.
    let mut cands: Vec<Candidate<'_>> = cands.into_iter().map(|(c, _, _)| c).collect();
    cands.sort_by(|a, b| a.stress.total_cmp(&b.stress));

    let picked = pick(cfg, &cands, &conf, participant_region)?;
    log::debug!(
        "bridge selection: {picked} for a participant in region {participant_region:?} \
         ({} candidates, conference on {} bridges)",
        cands.len(),
        conf.len()
    );
    Some(picked.clone())
}

/// The strategy step on candidates already filtered and ordered (Jicofo's
/// `BridgeSelectionStrategy.select`); separate so that Jicofo's strategy
/// tests, which pass their own order, can be ported as they are.
pub(super) fn pick<'a>(
    cfg: &BridgeConfig,
    cands: &[Candidate<'a>],
    conf: &[ConfBridge<'a>],
    participant_region: Option<&str>,
) -> Option<&'a BridgeId> {
    let multi_bridge = cfg.octo_enabled || cfg.strategy == SelectionStrategy::Split;
    if let Some(existing) = conf.first()
        && (!multi_bridge || !existing.relay)
    {
        // The conference cannot spread: stay on its bridge.
        return Some(existing.id);
    }
    match cfg.strategy {
        SelectionStrategy::SingleBridge => single(cands, conf, participant_region),
        SelectionStrategy::RegionBased => region_based(cfg, cands, conf, participant_region),
        SelectionStrategy::Split => split(cands, conf),
    }
}

/// `SingleBridgeSelectionStrategy`: a new conference goes to the least
/// loaded bridge in the participant's region, else the least loaded; an
/// existing one stays where it is if that bridge is still operational.
fn single<'a>(
    cands: &[Candidate<'a>],
    conf: &[ConfBridge<'a>],
    region: Option<&str>,
) -> Option<&'a BridgeId> {
    match conf {
        [] => cands
            .iter()
            .find(|c| region.is_some() && c.region == region)
            .or(cands.first())
            .map(|c| c.id),
        [only] if only.operational => Some(only.id),
        [only] => {
            log::error!(
                "bridge selection: the conference's bridge {} is not operational",
                only.id
            );
            None
        }
        _ => {
            log::error!(
                "bridge selection: single-bridge strategy, but the conference has {} bridges",
                conf.len()
            );
            None
        }
    }
}

/// `SplitBridgeSelectionStrategy`: a bridge the conference does not use
/// yet, else the usable conference bridge with the fewest of its
/// participants.
fn split<'a>(cands: &[Candidate<'a>], conf: &[ConfBridge<'a>]) -> Option<&'a BridgeId> {
    if let Some(c) = cands.iter().find(|c| !in_conf(conf, c.id)) {
        return Some(c.id);
    }
    conf.iter()
        .filter(|e| cands.iter().any(|c| c.id == e.id))
        .min_by_key(|e| e.participants)
        .map(|e| e.id)
}

/// `RegionBasedBridgeSelectionStrategy` (the 2025 order, which puts load
/// before region): the first of
/// not-overloaded conference bridge in the region → in the region group →
/// not-overloaded bridge in the region → in the group → not-overloaded
/// conference bridge → any not-overloaded bridge → least loaded conference
/// bridge below the participant maximum → least loaded bridge.
fn region_based<'a>(
    cfg: &BridgeConfig,
    cands: &[Candidate<'a>],
    conf: &[ConfBridge<'a>],
    participant_region: Option<&str>,
) -> Option<&'a BridgeId> {
    if cands.is_empty() {
        return None;
    }
    let local = cfg.local_region.as_deref();
    let mut region = participant_region.or(local);
    if let Some(local) = local {
        let group = cfg.region_group(region);
        // A first participant outside the local region but inside its group
        // is most likely followed by a local one: start where both fit.
        if conf.is_empty() && region != Some(local) && group.contains(&local) {
            region = Some(local);
        }
        if !cands.iter().any(|c| in_group(&group, c.region)) {
            region = Some(local);
        }
    }
    let group = cfg.region_group(region);
    let maxed = |c: &Candidate<'_>| {
        cfg.max_bridge_participants
            .is_some_and(|max| conf.iter().any(|e| e.id == c.id && e.participants >= max))
    };
    let free = |c: &Candidate<'_>| !c.overloaded && !maxed(c);
    let in_region = |c: &Candidate<'_>| region.is_some() && c.region == region;
    let in_grp = |c: &Candidate<'_>| in_group(&group, c.region);
    let used = |c: &Candidate<'_>| in_conf(conf, c.id);
    let first = |f: &dyn Fn(&Candidate<'a>) -> bool| cands.iter().find(|c| f(c)).map(|c| c.id);

    first(&|c| free(c) && used(c) && in_region(c))
        .or_else(|| first(&|c| free(c) && used(c) && in_grp(c)))
        .or_else(|| first(&|c| free(c) && in_region(c)))
        .or_else(|| first(&|c| free(c) && in_grp(c)))
        .or_else(|| first(&|c| free(c) && used(c)))
        .or_else(|| first(&free))
        .or_else(|| first(&|c| used(c) && !maxed(c)))
        .or_else(|| cands.first().map(|c| c.id))
}

fn in_conf(conf: &[ConfBridge<'_>], id: &BridgeId) -> bool {
    conf.iter().any(|e| e.id == id)
}

/// Whether a bridge's region is in `group` (a bridge without a region never
/// is).
fn in_group(group: &[&str], region: Option<&str>) -> bool {
    region.is_some_and(|r| group.contains(&r))
}
