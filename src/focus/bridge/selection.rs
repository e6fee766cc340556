//! Bridge selection (protocol.md §3.4; Jicofo's `BridgeSelector.selectBridge`
//! and its strategies).
//!
//! [`select`] narrows the registry to the usable bridges, then lets the
//! configured strategy choose among them:
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
//!    for endpoints added in the last `participant-rampup-interval`), ties in
//!    address order;
//! 6. if the conference already has a bridge and it cannot share the
//!    conference (Octo disabled, or no relay id), that bridge is the answer;
//!    otherwise the strategy picks.
//!
//! Jicofo sorts the candidates and every strategy step takes the first one
//! that matches. Here each step takes the least stressed match (the first
//! among equals) in one pass: the same bridge, without sorting. Most
//! selections end at the first or second step.
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
    /// The conference's participants on it, if the conference uses it.
    pub conf: Option<u32>,
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
    let (known, conf): (Vec<&Bridge>, Vec<ConfBridge<'_>>) = conference_bridges
        .iter()
        .filter_map(|(id, n)| {
            let b = reg.get(id.as_str())?;
            let e = ConfBridge {
                id: b.id(),
                participants: *n,
                relay: b.relay_id().is_some(),
                operational: b.operational_at(now, threshold),
            };
            Some((b, e))
        })
        .unzip();

    let conf_version = known.first().and_then(|b| b.full_version());
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
        // Both references point into the same registry, so identity is
        // address equality: no string compares per bridge.
        let in_conf = known
            .iter()
            .position(|k| std::ptr::eq(*k, b))
            .map(|i| conf[i].participants);
        let c = Candidate {
            id: b.id(),
            region: b.region(),
            stress,
            overloaded: stress >= cfg.stress_threshold,
            conf: in_conf,
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
    // Prefer non-draining bridges, then (among those) bridges not in
    // graceful shutdown; what remains shares one of Jicofo's priorities, so
    // its (priority, stress) order is the stress order.
    let active = cands.iter().any(|(_, draining, _)| !draining);
    let running = cands
        .iter()
        .any(|(_, draining, graceful)| (!active || !draining) && !graceful);
    cands.retain(|(_, draining, graceful)| (!active || !draining) && (!running || !graceful));
    let cands: Vec<Candidate<'_>> = cands.into_iter().map(|(c, _, _)| c).collect();

    let picked = pick(cfg, &cands, &conf, participant_region)?;
    log::debug!(
        "bridge selection: {picked} for a participant in region {participant_region:?} \
         ({} candidates, conference on {} bridges)",
        cands.len(),
        conf.len()
    );
    Some(picked.clone())
}

/// The strategy step on the usable candidates, in address order (Jicofo's
/// `BridgeSelectionStrategy.select`); separate so that Jicofo's strategy
/// tests can be ported as they are.
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
        [] => least(cands, |c| region.is_some() && c.region == region)
            .or_else(|| least(cands, |_| true)),
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
    if let Some(id) = least(cands, |c| c.conf.is_none()) {
        return Some(id);
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
            .is_some_and(|max| c.conf.is_some_and(|n| n >= max))
    };
    let free = |c: &Candidate<'_>| !c.overloaded && !maxed(c);
    let in_region = |c: &Candidate<'_>| region.is_some() && c.region == region;
    let in_grp = |c: &Candidate<'_>| in_group(&group, c.region);
    let used = |c: &Candidate<'_>| c.conf.is_some();

    least(cands, |c| free(c) && used(c) && in_region(c))
        .or_else(|| least(cands, |c| free(c) && used(c) && in_grp(c)))
        .or_else(|| least(cands, |c| free(c) && in_region(c)))
        .or_else(|| least(cands, |c| free(c) && in_grp(c)))
        .or_else(|| least(cands, |c| free(c) && used(c)))
        .or_else(|| least(cands, free))
        .or_else(|| least(cands, |c| used(c) && !maxed(c)))
        .or_else(|| least(cands, |_| true))
}

/// The least stressed candidate that `matches`, the first of equals: what
/// Jicofo gets by taking the first match in its sorted list.
fn least<'a>(
    cands: &[Candidate<'a>],
    matches: impl Fn(&Candidate<'a>) -> bool,
) -> Option<&'a BridgeId> {
    let mut best: Option<&Candidate<'a>> = None;
    for c in cands {
        if best.is_none_or(|b| c.stress.total_cmp(&b.stress).is_lt()) && matches(c) {
            best = Some(c);
        }
    }
    best.map(|c| c.id)
}

/// Whether a bridge's region is in `group` (a bridge without a region never
/// is).
fn in_group(group: &[&str], region: Option<&str>) -> bool {
    region.is_some_and(|r| group.contains(&r))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `least` must pick what Jicofo's stable sort followed by "first
    /// match" picks, ties included.
    #[test]
    fn least_equals_stable_sort_then_first_match() {
        let ids: Vec<BridgeId> = (0..40)
            .map(|i| BridgeId::parse(&format!("b{i}.meet.test")).unwrap())
            .collect();
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 33
        };
        for _ in 0..500 {
            let n = (next() % 40) as usize;
            let cands: Vec<Candidate<'_>> = ids[..n]
                .iter()
                .map(|id| Candidate {
                    id,
                    region: None,
                    // Few distinct values, so that ties are common.
                    stress: (next() % 5) as f64 / 10.0,
                    overloaded: false,
                    conf: None,
                })
                .collect();
            let mask = next();
            let matches = |c: &Candidate<'_>| {
                let i = ids.iter().position(|x| x == c.id).unwrap();
                mask >> (i % 30) & 1 == 1
            };
            let mut sorted = cands.clone();
            sorted.sort_by(|a, b| a.stress.total_cmp(&b.stress));
            let expected = sorted.iter().find(|c| matches(c)).map(|c| c.id);
            assert_eq!(least(&cands, matches), expected);
        }
    }
}
