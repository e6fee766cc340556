//! Ports of Jicofo's selector tests (`BridgeTest`, `BridgeSelectorTest`,
//! `BridgeSelectionStrategyTest`, `RegionBasedSelectionTest`; test names
//! follow the originals) and one test per rule of protocol.md §3.4, all on a
//! fake clock.

use std::time::{Duration, Instant};

use super::selection::{Candidate, ConfBridge, pick};
use super::*;

const S: Duration = Duration::from_secs(1);

/// Jicofo's test helper `Bridge.setStats`: the relay id defaults to the
/// region, `colibri2` is set and `drain` is always sent (false).
#[derive(Default)]
struct St {
    stress: Option<f64>,
    region: Option<&'static str>,
    version: Option<&'static str>,
    graceful: bool,
    drain: bool,
}

impl St {
    fn stats(&self) -> BridgeStats {
        BridgeStats {
            stress_level: self.stress,
            region: self.region.map(str::to_string),
            relay_id: self.region.map(str::to_string),
            version: self.version.map(str::to_string),
            graceful_shutdown: self.graceful.then_some(true),
            drain: Some(self.drain),
            colibri2: Some(true),
            ..BridgeStats::default()
        }
    }
}

fn stress(s: f64) -> St {
    St {
        stress: Some(s),
        ..St::default()
    }
}

fn id(s: &str) -> BridgeId {
    BridgeId::parse(s).unwrap()
}

/// A registry with a fake clock.
struct World {
    now: Instant,
    reg: BridgeRegistry,
}

impl World {
    fn new(cfg: BridgeConfig) -> World {
        World {
            now: Instant::now(),
            reg: BridgeRegistry::new(cfg),
        }
    }

    fn add(&mut self, jid: &str, st: St) -> BridgeId {
        let b = id(jid);
        self.set(&b, st);
        b
    }

    fn set(&mut self, b: &BridgeId, st: St) {
        self.reg.update_from_brewery(self.now, b, &st.stats());
    }

    fn elapse(&mut self, d: Duration) {
        self.now += d;
    }

    fn select(&self) -> Option<BridgeId> {
        self.reg.select(self.now, &[], None, None)
    }

    fn select_in(&self, conf: &[(&BridgeId, u32)], region: Option<&str>) -> Option<BridgeId> {
        let conf: Vec<(BridgeId, u32)> = conf.iter().map(|(b, n)| ((*b).clone(), *n)).collect();
        self.reg.select(self.now, &conf, region, None)
    }

    fn down(&mut self, b: &BridgeId) {
        self.reg.mark_non_operational(self.now, b);
    }

    fn up(&mut self, b: &BridgeId) {
        self.reg.mark_healthy(self.now, b);
    }
}

fn region_based() -> BridgeConfig {
    BridgeConfig {
        strategy: SelectionStrategy::RegionBased,
        octo_enabled: true,
        ..BridgeConfig::default()
    }
}

fn split() -> BridgeConfig {
    BridgeConfig {
        strategy: SelectionStrategy::Split,
        octo_enabled: true,
        ..BridgeConfig::default()
    }
}

// ------------------------------------------------------------ BridgeTest

// "when comparing two bridges": operational first, then not in graceful
// shutdown, then lower stress. Jicofo compares two mocks; here the order
// shows in what selection picks (graceful bridges are only ever picked
// when nothing else is left, which the priority order implies).
#[test]
fn bridge_test_operational_bridge_has_higher_priority() {
    let mut w = World::new(BridgeConfig::default());
    let b1 = w.add("jvb1.example.com", stress(10.0));
    let b2 = w.add(
        "jvb2.example.com",
        St {
            stress: Some(0.1),
            graceful: true,
            ..St::default()
        },
    );
    w.down(&b2);
    assert_eq!(w.select(), Some(b1));
}

#[test]
fn bridge_test_graceful_shutdown_has_lower_priority() {
    let mut w = World::new(BridgeConfig::default());
    let b1 = w.add("jvb1.example.com", stress(10.0));
    w.add(
        "jvb2.example.com",
        St {
            stress: Some(0.1),
            graceful: true,
            ..St::default()
        },
    );
    assert_eq!(w.select(), Some(b1));
}

#[test]
fn bridge_test_stressed_bridge_has_lower_priority() {
    let mut w = World::new(BridgeConfig::default());
    w.add("jvb1.example.com", stress(10.0));
    let b2 = w.add("jvb2.example.com", stress(0.1));
    assert_eq!(w.select(), Some(b2));
}

#[test]
fn bridge_test_not_operational_threshold() {
    let mut w = World::new(BridgeConfig::default());
    let th = w.reg.config().failure_reset_threshold;
    let b = w.add("bridge", St::default());
    let op = |w: &World| w.reg.is_operational(b.as_str(), w.now);
    assert!(op(&w));

    w.down(&b);
    assert!(!op(&w));
    w.elapse(th * 100);
    assert!(!op(&w), "stays down until a check passes");

    w.up(&b);
    assert!(op(&w));
    w.down(&b);
    assert!(!op(&w));
    w.elapse(th / 2);
    assert!(!op(&w));
    w.up(&b);
    assert!(!op(&w), "inside the threshold");
    w.elapse(th);
    assert!(op(&w));
}

#[test]
fn bridge_test_setting_stats() {
    let mut w = World::new(BridgeConfig::default());
    let b = w.add("bridge", St::default());
    let get = |w: &World| {
        (
            w.reg.corrected_stress(b.as_str(), w.now).unwrap(),
            w.reg.get(b.as_str()).unwrap().region().map(str::to_string),
        )
    };
    assert_eq!(get(&w), (0.0, None));
    w.set(&b, stress(0.1));
    assert_eq!(get(&w), (0.1, None));
    // The different stats are updated independently.
    w.set(
        &b,
        St {
            region: Some("region"),
            ..St::default()
        },
    );
    assert_eq!(get(&w), (0.1, Some("region".into())));
    w.set(&b, stress(0.2));
    assert_eq!(get(&w), (0.2, Some("region".into())));
}

// ---------------------------------------------------- BridgeSelectorTest

// Different forms of JID, as in Jicofo's test: domain, bare, full.
const JID1: &str = "jvb1.example.com";
const JID2: &str = "jvb2@example.com";
const JID3: &str = "jvb3@example.com/goldengate";

#[test]
fn bridge_selector_test_stress_from_new_endpoints() {
    let mut w = World::new(BridgeConfig::default());
    let b = w.add(JID1, St::default());
    assert_eq!(w.reg.corrected_stress(b.as_str(), w.now), Some(0.0));
    assert_eq!(w.select(), Some(b.clone()));
    w.reg.endpoint_added(w.now, &b);
    assert!(w.reg.corrected_stress(b.as_str(), w.now).unwrap() > 0.0);
}

#[test]
fn bridge_selector_test_selection_based_on_operational_status() {
    let mut w = World::new(BridgeConfig::default());
    let jvb1 = w.add(JID1, St::default());
    let jvb2 = w.add(JID2, St::default());
    let jvb3 = w.add(JID3, St::default());
    assert!(w.select().is_some());

    w.down(&jvb1);
    let s = w.select().unwrap();
    assert!(s == jvb2 || s == jvb3);

    w.down(&jvb2);
    assert_eq!(w.select(), Some(jvb3.clone()));

    w.up(&jvb1);
    w.down(&jvb3);
    // Non-operational is sticky for the failure-reset threshold.
    w.elapse(w.reg.config().failure_reset_threshold);
    assert_eq!(w.select(), Some(jvb1));
}

#[test]
fn bridge_selector_test_selection_based_on_stress_level() {
    let mut w = World::new(BridgeConfig::default());
    let jvb1 = w.add(JID1, stress(0.1));
    let jvb2 = w.add(JID2, stress(0.23));
    let jvb3 = w.add(JID3, stress(0.0));
    assert_eq!(w.select(), Some(jvb3.clone()));

    // Now jvb3 gets occupied the most.
    w.set(&jvb3, stress(0.3));
    assert_eq!(w.select(), Some(jvb1.clone()));

    // jvb1 is gone.
    w.down(&jvb1);
    assert_eq!(w.select(), Some(jvb2.clone()));

    // All bridges down.
    w.down(&jvb2);
    w.down(&jvb3);
    assert_eq!(w.select(), None);

    for b in [&jvb1, &jvb2, &jvb3] {
        w.up(b);
    }
    w.elapse(w.reg.config().failure_reset_threshold);

    w.set(&jvb1, stress(0.01));
    w.set(&jvb2, stress(0.0));
    w.set(&jvb3, stress(0.0));
    let s = w.select().unwrap();
    assert!(s == jvb2 || s == jvb3);

    // jvb2 least occupied.
    w.set(&jvb3, stress(0.01));
    w.elapse(w.reg.config().participant_rampup_interval + Duration::from_millis(100));
    assert_eq!(w.select(), Some(jvb2));
}

fn mixing_versions() -> (World, BridgeId, BridgeId) {
    let mut w = World::new(region_based());
    let jvb1 = w.add(
        JID1,
        St {
            version: Some("v1"),
            stress: Some(0.9),
            region: Some("r"),
            ..St::default()
        },
    );
    let jvb2 = w.add(
        JID2,
        St {
            version: Some("v2"),
            stress: Some(0.1),
            region: Some("r"),
            ..St::default()
        },
    );
    (w, jvb1, jvb2)
}

#[test]
fn bridge_selector_test_mixing_versions_with_explicit_api_call() {
    let (w, jvb1, jvb2) = mixing_versions();
    let pinned = |v| w.reg.select(w.now, &[], None, Some(v));
    assert_eq!(pinned("v1"), Some(jvb1));
    assert_eq!(pinned("v2"), Some(jvb2));
    assert_eq!(pinned("v-nonexistent"), None);
}

#[test]
fn bridge_selector_test_mixing_versions_from_an_existing_conference_bridge() {
    let (mut w, jvb1, _) = mixing_versions();
    assert_eq!(w.select_in(&[(&jvb1, 1)], None), Some(jvb1.clone()));
    let jvb3 = w.add(
        JID3,
        St {
            version: Some("v1"),
            stress: Some(0.1),
            region: Some("r"),
            ..St::default()
        },
    );
    assert_eq!(w.select_in(&[(&jvb1, 1)], None), Some(jvb3));
}

#[test]
fn bridge_selector_test_selection_with_a_conference_bridge_removed_from_the_selector() {
    let mut w = World::new(region_based());
    let jvb1 = w.add(
        JID1,
        St {
            stress: Some(0.2),
            region: Some("r1"),
            ..St::default()
        },
    );
    let jvb2 = w.add(
        JID2,
        St {
            stress: Some(0.5),
            region: Some("r2"),
            ..St::default()
        },
    );
    let jvb3 = w.add(
        JID3,
        St {
            stress: Some(0.1),
            region: Some("r3"),
            ..St::default()
        },
    );
    w.reg.brewery_left(w.now, &jvb3);
    let conf = [(&jvb1, 1), (&jvb2, 1), (&jvb3, 1)];
    assert_eq!(w.select_in(&conf, None), Some(jvb1.clone()));
    assert_eq!(w.select_in(&conf, Some("r2")), Some(jvb2.clone()));
}

#[test]
fn bridge_selector_test_split_bridge_selection_strategy() {
    let mut w = World::new(split());
    let jvb1 = w.add(
        JID1,
        St {
            stress: Some(0.2),
            region: Some("r1"),
            ..St::default()
        },
    );
    let jvb2 = w.add(
        JID2,
        St {
            stress: Some(0.5),
            region: Some("r2"),
            ..St::default()
        },
    );
    let jvb3 = w.add(
        JID3,
        St {
            stress: Some(0.1),
            region: Some("r3"),
            ..St::default()
        },
    );
    assert!(w.select().is_some());
    let s = w.select_in(&[(&jvb1, 1)], None).unwrap();
    assert!(s == jvb2 || s == jvb3);
    assert_eq!(
        w.select_in(&[(&jvb1, 1), (&jvb2, 1)], None),
        Some(jvb3.clone())
    );
    let conf = [(&jvb1, 1), (&jvb2, 2), (&jvb3, 3)];
    assert_eq!(w.select_in(&conf, None), Some(jvb1.clone()));
    w.reg.brewery_left(w.now, &jvb1);
    assert_eq!(w.select_in(&conf, None), Some(jvb2));
}

#[test]
fn bridge_selector_test_split_works_without_octo() {
    // Split forces multi-bridge on, as Jicofo does.
    let mut w = World::new(BridgeConfig {
        strategy: SelectionStrategy::Split,
        ..BridgeConfig::default()
    });
    let a = w.add(
        JID1,
        St {
            region: Some("r1"),
            ..St::default()
        },
    );
    let b = w.add(
        JID2,
        St {
            region: Some("r2"),
            ..St::default()
        },
    );
    assert_eq!(w.select_in(&[(&a, 1)], None), Some(b));
}

#[test]
fn bridge_selector_test_lost_bridges_stats() {
    let mut w = World::new(BridgeConfig::default());
    let jvb1 = w.add(JID1, St::default());
    assert_eq!(w.reg.stats(w.now).lost_bridges, 0);
    w.reg.brewery_left(w.now, &jvb1);
    assert_eq!(w.reg.stats(w.now).lost_bridges, 1);

    // Not counted when the bridge announced its graceful shutdown.
    let jvb1 = w.add(
        JID1,
        St {
            graceful: true,
            ..St::default()
        },
    );
    w.reg.brewery_left(w.now, &jvb1);
    assert_eq!(w.reg.stats(w.now).lost_bridges, 1);
}

// ------------------------------------------- BridgeSelectionStrategyTest

/// Bridges for the strategy-level tests, in the order the test gives them
/// (Jicofo's strategies take that order as "least loaded first"; ours pick
/// the least stressed and fall back on this order only between equals,
/// which gives the same answers for every list these tests use).
struct Bridges(Vec<(BridgeId, Option<&'static str>, f64)>);

impl Bridges {
    fn new(list: &[(&str, Option<&'static str>, f64)]) -> Bridges {
        Bridges(list.iter().map(|(n, r, s)| (id(n), *r, *s)).collect())
    }

    fn id(&self, name: &str) -> &BridgeId {
        &self
            .0
            .iter()
            .find(|(b, _, _)| b.as_str() == name)
            .unwrap()
            .0
    }

    fn cands(&self, keep: impl Fn(&str) -> bool, conf: &[(&str, u32)]) -> Vec<Candidate<'_>> {
        self.0
            .iter()
            .filter(|(b, _, _)| keep(b.as_str()))
            .map(|(b, r, s)| Candidate {
                id: b,
                region: *r,
                stress: *s,
                overloaded: *s >= 0.8,
                conf: conf.iter().find(|(n, _)| *n == b.as_str()).map(|(_, p)| *p),
            })
            .collect()
    }

    /// Jicofo's `strategy.select(bridges, conferenceBridges, props, true)`.
    fn select<'a>(
        &'a self,
        cfg: &BridgeConfig,
        keep: impl Fn(&str) -> bool,
        conf: &[(&str, u32)],
        region: Option<&str>,
    ) -> Option<&'a str> {
        let cands = self.cands(keep, conf);
        let conf: Vec<ConfBridge<'_>> = conf
            .iter()
            .map(|(n, p)| ConfBridge {
                id: self.id(n),
                participants: *p,
                relay: true,
                operational: true,
            })
            .collect();
        pick(cfg, &cands, &conf, region).map(BridgeId::as_str)
    }
}

fn with_local_region(local: &str) -> BridgeConfig {
    BridgeConfig {
        local_region: Some(local.to_string()),
        ..region_based()
    }
}

#[test]
fn bridge_selection_strategy_test_region_based_selection() {
    let cfg = with_local_region("local-region");
    let bs = Bridges::new(&[
        ("bridge1", Some("region1"), 0.0),
        ("bridge2", Some("local-region"), 0.0),
        ("bridge3", Some("region3"), 0.0),
    ]);
    let all = |_: &str| true;
    let sel = |conf: &[(&str, u32)], r| bs.select(&cfg, all, conf, r);
    // Initial selection: a bridge in the participant's region if possible…
    assert_eq!(sel(&[], Some("region1")), Some("bridge1"));
    assert_eq!(sel(&[], Some("local-region")), Some("bridge2"));
    // …or in the local region otherwise.
    assert_eq!(sel(&[], Some("invalid region")), Some("bridge2"));
    assert_eq!(sel(&[], None), Some("bridge2"));

    let conf = [("bridge3", 1)];
    assert_eq!(sel(&conf, Some("region3")), Some("bridge3"));
    assert_eq!(sel(&conf, Some("local-region")), Some("bridge2"));
    // A participant in an unknown region goes to a local bridge.
    assert_eq!(sel(&conf, None), Some("bridge2"));

    let conf = [("bridge3", 1), ("bridge2", 1)];
    // The least loaded (equal stress: by list order) existing conference
    // bridge.
    assert_eq!(sel(&conf, None), Some("bridge2"));
    assert_eq!(sel(&conf, Some("invalid region")), Some("bridge2"));
}

#[test]
fn bridge_selection_strategy_test_prefer_lowest_stress() {
    let cfg = with_local_region("local-region");
    let bs = Bridges::new(&[
        ("low", Some("lowStressRegion"), 0.1),
        ("medium", Some("mediumStressRegion"), 0.3),
        ("high", Some("highStressRegion"), 0.8),
    ]);
    let sel = |conf: &[(&str, u32)], r| bs.select(&cfg, |_| true, conf, r);
    // A non-overloaded bridge in the region, else the least loaded.
    assert_eq!(sel(&[], Some("highStressRegion")), Some("low"));
    assert_eq!(sel(&[], Some("mediumStressRegion")), Some("medium"));
    assert_eq!(sel(&[], Some("invalid region")), Some("low"));
    assert_eq!(sel(&[], None), Some("low"));

    let conf = [("low", 1)];
    assert_eq!(sel(&conf, Some("lowStressRegion")), Some("low"));
    assert_eq!(sel(&conf, Some("mediumStressRegion")), Some("medium"));
    assert_eq!(sel(&conf, None), Some("low"));

    let conf = [("low", 1), ("medium", 1)];
    assert_eq!(sel(&conf, None), Some("low"));
    assert_eq!(sel(&conf, Some("invalid region")), Some("low"));
}

#[test]
fn bridge_selection_strategy_test_prefer_region_when_stress_is_equal() {
    let cfg = with_local_region("local-region");
    let bs = Bridges::new(&[
        ("medium1", Some("mediumStressRegion1"), 0.25),
        ("medium2", Some("mediumStressRegion2"), 0.3),
        ("high", Some("highStressRegion"), 0.8),
    ]);
    let sel = |conf: &[(&str, u32)], r| bs.select(&cfg, |_| true, conf, r);
    assert_eq!(sel(&[], Some("highStressRegion")), Some("medium1"));
    assert_eq!(sel(&[], Some("mediumStressRegion2")), Some("medium2"));
    assert_eq!(sel(&[], Some("invalid region")), Some("medium1"));
    assert_eq!(sel(&[], None), Some("medium1"));

    let conf = [("medium2", 1)];
    assert_eq!(sel(&conf, Some("mediumStressRegion1")), Some("medium1"));
    assert_eq!(sel(&conf, Some("mediumStressRegion2")), Some("medium2"));
    assert_eq!(sel(&conf, None), Some("medium2"));

    let conf = [("medium2", 1), ("high", 1)];
    assert_eq!(sel(&conf, None), Some("medium2"));
    assert_eq!(sel(&conf, Some("invalid region")), Some("medium2"));
}

// ---------------------------------------------- RegionBasedSelectionTest

const MAX_BP: u32 = 10;
const REGIONS: [&str; 5] = ["ap-south", "eu-central", "eu-west", "us-east", "us-west"];
const LEVELS: [(&str, f64); 3] = [("low", 0.0), ("medium", 0.3), ("high", 0.9)];

/// A Low, Medium and High stress bridge in each region, named
/// `<region>.<level>`, in region-then-level order.
fn region_bridges() -> Bridges {
    let mut v = Vec::new();
    for r in REGIONS {
        for (l, s) in LEVELS {
            v.push((id(&format!("{r}.{l}")), Some(r), s));
        }
    }
    Bridges(v)
}

#[test]
fn region_based_selection_test_without_region_groups_in_a_single_region() {
    let cfg = BridgeConfig {
        max_bridge_participants: Some(MAX_BP),
        ..region_based()
    };
    let bs = region_bridges();
    let sel = |conf: &[(&str, u32)], r| bs.select(&cfg, |_| true, conf, r);
    assert_eq!(sel(&[], None), Some("ap-south.low"));
    let ap = Some("ap-south");
    assert_eq!(sel(&[], ap), Some("ap-south.low"));
    assert_eq!(sel(&[("ap-south.medium", 1)], ap), Some("ap-south.medium"));
    assert_eq!(
        sel(&[("ap-south.medium", MAX_BP)], ap),
        Some("ap-south.low")
    );
    assert_eq!(
        sel(&[("ap-south.low", MAX_BP)], ap),
        Some("ap-south.medium")
    );
    let conf = [("ap-south.low", 2), ("ap-south.medium", 1)];
    assert_eq!(sel(&conf, ap), Some("ap-south.low"));
    assert_eq!(sel(&conf, None), Some("ap-south.low"));
}

#[test]
fn region_based_selection_test_without_region_groups_in_multiple_regions() {
    let cfg = BridgeConfig {
        max_bridge_participants: Some(MAX_BP),
        ..region_based()
    };
    let bs = region_bridges();
    let sel = |conf: &[(&str, u32)], r| bs.select(&cfg, |_| true, conf, r);
    let conf = [
        ("ap-south.low", 2),
        ("eu-west.medium", 1),
        ("eu-west.high", 1),
    ];
    assert_eq!(sel(&conf, None), Some("ap-south.low"));
    assert_eq!(sel(&conf, Some("eu-west")), Some("eu-west.medium"));
    assert_eq!(sel(&conf, Some("eu-central")), Some("eu-central.low"));
    let conf = [
        ("ap-south.low", 2),
        ("eu-west.medium", 1),
        ("eu-west.high", 1),
        ("eu-central.low", MAX_BP),
    ];
    assert_eq!(sel(&conf, Some("eu-central")), Some("eu-central.medium"));
}

#[test]
fn region_based_selection_test_with_region_groups() {
    let cfg = BridgeConfig {
        max_bridge_participants: Some(MAX_BP),
        local_region: Some("us-east".into()),
        region_groups: vec![
            vec!["us-east".into(), "us-west".into()],
            vec!["eu-central".into(), "eu-west".into()],
        ],
        ..region_based()
    };
    let bs = region_bridges();
    let all = |_: &str| true;
    let no_eu_west = |n: &str| !n.starts_with("eu-west.");
    assert_eq!(
        bs.select(&cfg, all, &[], Some("ap-south")),
        Some("ap-south.low")
    );
    assert_eq!(
        bs.select(&cfg, all, &[], Some("eu-west")),
        Some("eu-west.low")
    );
    // No bridge in the region: the region's group is preferred.
    assert_eq!(
        bs.select(&cfg, no_eu_west, &[], Some("eu-west")),
        Some("eu-central.low")
    );
    assert_eq!(
        bs.select(&cfg, no_eu_west, &[("us-east.low", 1)], Some("eu-west")),
        Some("eu-central.low")
    );
    let conf = [
        ("ap-south.low", 2),
        ("eu-west.medium", 1),
        ("eu-west.high", 1),
        ("eu-central.low", MAX_BP),
    ];
    assert_eq!(
        bs.select(&cfg, all, &conf, Some("eu-central")),
        Some("eu-west.medium")
    );
    assert_eq!(
        bs.select(&cfg, all, &conf, Some("us-east")),
        Some("us-east.low")
    );
    // Initial selection in the local region group, but not in the local
    // region: start in the local region.
    assert_eq!(
        bs.select(&cfg, all, &[], Some("us-west")),
        Some("us-east.low")
    );
}

// ------------------------------------------------------- §3.4 rule by rule

#[test]
fn rule_stress_ordering_picks_least_corrected_stress() {
    let mut w = World::new(BridgeConfig::default());
    let a = w.add("jvbbrewery@internal.meet.test/a", stress(0.30));
    let b = w.add("jvbbrewery@internal.meet.test/b", stress(0.20));
    let c = w.add("jvbbrewery@internal.meet.test/c", stress(0.25));
    assert_eq!(w.select(), Some(b.clone()));
    w.set(&b, stress(0.5));
    assert_eq!(w.select(), Some(c));
    // Ties keep address order.
    w.set(&b, stress(0.3));
    w.set(&a, stress(0.3));
    w.set(&id("jvbbrewery@internal.meet.test/c"), stress(0.3));
    assert_eq!(w.select(), Some(a));
}

#[test]
fn rule_rampup_correction_spreads_a_burst_of_joins() {
    let mut w = World::new(BridgeConfig::default());
    let a = w.add("jvbbrewery@internal.meet.test/a", stress(0.0));
    let b = w.add("jvbbrewery@internal.meet.test/b", stress(0.025));
    // Each endpoint adds 0.01 for 20 s: after three joins `a` counts as
    // 0.03, more than `b`.
    let mut picks = Vec::new();
    for _ in 0..4 {
        let p = w.select().unwrap();
        w.reg.endpoint_added(w.now, &p);
        picks.push(p);
        w.elapse(S);
    }
    assert_eq!(picks, vec![a.clone(), a.clone(), a.clone(), b.clone()]);
    // After the rampup interval only the reported stress counts again.
    w.elapse(20 * S);
    assert_eq!(w.select(), Some(a.clone()));
    // The bridge's own average participant stress replaces the default.
    w.reg.update_from_brewery(
        w.now,
        &a,
        &BridgeStats {
            average_participant_stress: Some(0.05),
            ..BridgeStats::default()
        },
    );
    w.reg.endpoint_added(w.now, &a);
    assert_eq!(w.select(), Some(b));
}

#[test]
fn rule_draining_bridges_only_when_nothing_else() {
    let mut w = World::new(BridgeConfig::default());
    let a = w.add(
        "jvbbrewery@internal.meet.test/a",
        St {
            stress: Some(0.0),
            drain: true,
            ..St::default()
        },
    );
    let b = w.add("jvbbrewery@internal.meet.test/b", stress(0.7));
    assert_eq!(w.select(), Some(b.clone()));
    w.set(
        &b,
        St {
            stress: Some(0.7),
            drain: true,
            ..St::default()
        },
    );
    assert_eq!(w.select(), Some(a.clone()), "all drain: least loaded");
    // `drain` clears (unlike the shutdown flags).
    w.set(&b, stress(0.7));
    assert_eq!(w.select(), Some(b));
}

#[test]
fn rule_a_new_brewery_bridge_drains_until_its_stats_say_otherwise() {
    let mut w = World::new(BridgeConfig::default());
    let fresh = id("jvbbrewery@internal.meet.test/a");
    w.reg
        .update_from_brewery(w.now, &fresh, &BridgeStats::default());
    let b = w.add("jvbbrewery@internal.meet.test/b", stress(0.7));
    assert_eq!(w.select(), Some(b));
    // A SEED disco bridge sends no stats and never drains.
    let seed = id("jvb.meet.test");
    w.reg.discovered(w.now, &seed, true);
    assert_eq!(w.select(), Some(seed));
}

#[test]
fn rule_graceful_shutdown_is_deprioritised_but_usable() {
    let mut w = World::new(BridgeConfig::default());
    let a = w.add(
        "jvbbrewery@internal.meet.test/a",
        St {
            stress: Some(0.0),
            graceful: true,
            ..St::default()
        },
    );
    let b = w.add("jvbbrewery@internal.meet.test/b", stress(0.95));
    assert_eq!(w.select(), Some(b.clone()), "even overloaded");
    w.reg.brewery_left(w.now, &b);
    assert_eq!(w.select(), Some(a.clone()), "only graceful ones left");
    // Sticky: a later false does not clear it.
    w.set(&a, stress(0.0));
    assert!(w.reg.get(a.as_str()).unwrap().in_graceful_shutdown());
    // A Colibri graceful-shutdown error sets it as well.
    let c = w.add("jvbbrewery@internal.meet.test/c", stress(0.5));
    assert_eq!(w.select(), Some(c.clone()));
    w.reg.mark_graceful_shutdown(&c);
    // Among graceful bridges, stress decides.
    assert_eq!(w.select(), Some(a));
}

#[test]
fn rule_shutting_down_is_excluded() {
    let mut w = World::new(BridgeConfig::default());
    let a = w.add("jvbbrewery@internal.meet.test/a", stress(0.0));
    let b = w.add("jvbbrewery@internal.meet.test/b", stress(0.9));
    let down = BridgeStats {
        shutting_down: Some(true),
        ..BridgeStats::default()
    };
    w.reg.update_from_brewery(w.now, &a, &down);
    assert_eq!(w.select(), Some(b.clone()));
    w.reg.update_from_brewery(w.now, &b, &down);
    assert_eq!(w.select(), None);
}

#[test]
fn rule_non_operational_is_excluded() {
    let mut w = World::new(BridgeConfig::default());
    let a = w.add("jvbbrewery@internal.meet.test/a", stress(0.0));
    assert_eq!(w.select(), Some(a.clone()));
    w.reg.mark_failed(w.now, &a);
    assert_eq!(w.select(), None);
    assert_eq!(w.reg.select(w.now, &[], None, None), None);
}

#[test]
fn rule_version_mismatch_is_excluded() {
    let mut w = World::new(region_based());
    let v = |ver: &'static str, s: f64| St {
        stress: Some(s),
        region: Some("r"),
        version: Some(ver),
        ..St::default()
    };
    let a = w.add("jvbbrewery@internal.meet.test/a", v("2.1", 0.9));
    let b = w.add("jvbbrewery@internal.meet.test/b", v("2.2", 0.0));
    // The conference is on `a` (overloaded): a second bridge must run 2.1.
    assert_eq!(w.select_in(&[(&a, 5)], None), Some(a.clone()));
    let c = w.add("jvbbrewery@internal.meet.test/c", v("2.1", 0.5));
    assert_eq!(w.select_in(&[(&a, 5)], None), Some(c.clone()));
    // The release is part of the version.
    w.reg.update_from_brewery(
        w.now,
        &c,
        &BridgeStats {
            release: Some("7".into()),
            ..BridgeStats::default()
        },
    );
    assert_eq!(w.select_in(&[(&a, 5)], None), Some(a.clone()));
    // A pin that disagrees with the conference's version fails outright.
    let conf = [(a.clone(), 5)];
    assert_eq!(w.reg.select(w.now, &conf, None, Some("2.2")), None);
    assert_eq!(
        w.reg.select(w.now, &conf, None, Some("2.1")),
        Some(a.clone())
    );
    // Mixed versions allowed: `b` is fine.
    let mut w2 = World::new(BridgeConfig {
        allow_mixed_versions: true,
        ..region_based()
    });
    let a2 = w2.add(a.as_str(), v("2.1", 0.9));
    w2.add(b.as_str(), v("2.2", 0.0));
    assert_eq!(w2.select_in(&[(&a2, 5)], None), Some(b));
}

#[test]
fn rule_max_participants_moves_to_the_next_bridge() {
    let mut w = World::new(region_based());
    let r = |s: f64| St {
        stress: Some(s),
        region: Some("r"),
        ..St::default()
    };
    let a = w.add("jvbbrewery@internal.meet.test/a", r(0.1));
    let b = w.add("jvbbrewery@internal.meet.test/b", r(0.4));
    assert_eq!(w.select_in(&[(&a, 79)], Some("r")), Some(a.clone()));
    assert_eq!(w.select_in(&[(&a, 80)], Some("r")), Some(b.clone()));
    // Without a region as well (see the note in `selection`: Jicofo's
    // "any not-overloaded" step would pick `a` again here).
    assert_eq!(w.select_in(&[(&a, 80)], None), Some(b.clone()));
    // Everything full for this conference: the least loaded bridge.
    assert_eq!(w.select_in(&[(&a, 80), (&b, 80)], None), Some(a.clone()));
    // No maximum configured.
    let mut w = World::new(BridgeConfig {
        max_bridge_participants: None,
        ..region_based()
    });
    let a = w.add(a.as_str(), r(0.1));
    w.add(b.as_str(), r(0.4));
    assert_eq!(w.select_in(&[(&a, 500)], None), Some(a));
}

#[test]
fn rule_overloaded_by_stress_moves_to_the_next_bridge() {
    let mut w = World::new(region_based());
    let r = |s: f64| St {
        stress: Some(s),
        region: Some("r"),
        ..St::default()
    };
    let a = w.add("jvbbrewery@internal.meet.test/a", r(0.79));
    let b = w.add("jvbbrewery@internal.meet.test/b", r(0.85));
    assert_eq!(w.select_in(&[(&a, 3)], Some("r")), Some(a.clone()));
    // One more endpoint pushes `a` to the 0.8 threshold.
    w.reg.endpoint_added(w.now, &a);
    let c = w.add("jvbbrewery@internal.meet.test/c", r(0.81));
    assert_eq!(
        w.select_in(&[(&a, 3)], Some("r")),
        Some(a.clone()),
        "still least loaded"
    );
    w.set(&c, r(0.3));
    assert_eq!(w.select_in(&[(&a, 3)], Some("r")), Some(c));
    let _ = b;
}

#[test]
fn rule_single_bridge_prefers_the_participant_region() {
    let mut w = World::new(BridgeConfig {
        local_region: Some("us".into()),
        ..BridgeConfig::default()
    });
    let eu = w.add(
        "jvbbrewery@internal.meet.test/eu",
        St {
            stress: Some(0.5),
            region: Some("eu"),
            ..St::default()
        },
    );
    let us = w.add(
        "jvbbrewery@internal.meet.test/us",
        St {
            stress: Some(0.1),
            region: Some("us"),
            ..St::default()
        },
    );
    assert_eq!(w.select_in(&[], Some("eu")), Some(eu.clone()));
    // No bridge in the region: least loaded overall.
    assert_eq!(w.select_in(&[], Some("ap")), Some(us.clone()));
    assert_eq!(w.select_in(&[], None), Some(us.clone()));
}

#[test]
fn rule_single_bridge_keeps_the_conference_on_its_bridge() {
    let mut w = World::new(BridgeConfig::default());
    let a = w.add(
        "jvbbrewery@internal.meet.test/a",
        St {
            stress: Some(0.9),
            region: Some("eu"),
            ..St::default()
        },
    );
    let b = w.add("jvbbrewery@internal.meet.test/b", stress(0.0));
    assert_eq!(w.select_in(&[(&a, 200)], Some("us")), Some(a.clone()));
    // Even a non-operational (timed-out) bridge keeps its conference: a
    // conference lives on one bridge, and a timeout does not move it.
    w.down(&a);
    assert_eq!(w.select_in(&[(&a, 2)], None), Some(a.clone()));
    // A conference bridge that left is ignored: start afresh.
    w.reg.brewery_left(w.now, &a);
    assert_eq!(w.select_in(&[(&a, 2)], None), Some(b.clone()));
    // Octo on and the bridge has a relay: the single-bridge strategy still
    // keeps it, but refuses a non-operational one.
    let mut w = World::new(BridgeConfig {
        octo_enabled: true,
        ..BridgeConfig::default()
    });
    let a = w.add(
        a.as_str(),
        St {
            stress: Some(0.9),
            region: Some("eu"),
            ..St::default()
        },
    );
    w.add(b.as_str(), stress(0.0));
    assert_eq!(w.select_in(&[(&a, 2)], None), Some(a.clone()));
    w.down(&a);
    assert_eq!(w.select_in(&[(&a, 2)], None), None);
}

#[test]
fn rule_region_based_local_region_fallback() {
    let mut w = World::new(BridgeConfig {
        local_region: Some("us".into()),
        ..region_based()
    });
    let r = |reg: &'static str, s: f64| St {
        stress: Some(s),
        region: Some(reg),
        ..St::default()
    };
    let eu = w.add("jvbbrewery@internal.meet.test/eu", r("eu", 0.5));
    let us = w.add("jvbbrewery@internal.meet.test/us", r("us", 0.6));
    let ap = w.add("jvbbrewery@internal.meet.test/ap", r("ap", 0.1));
    // Region with a bridge: that bridge, even if more loaded.
    assert_eq!(w.select_in(&[], Some("eu")), Some(eu.clone()));
    // No region, or a region without bridges: the local region.
    assert_eq!(w.select_in(&[], None), Some(us.clone()));
    assert_eq!(w.select_in(&[], Some("sa")), Some(us.clone()));
    // An existing conference bridge in the region is kept.
    assert_eq!(w.select_in(&[(&ap, 1)], Some("ap")), Some(ap.clone()));
    // Octo disabled: the conference stays on its first bridge.
    let mut w = World::new(BridgeConfig {
        octo_enabled: false,
        ..w.reg.config().clone()
    });
    let eu = w.add(eu.as_str(), r("eu", 0.5));
    w.add(us.as_str(), r("us", 0.6));
    assert_eq!(w.select_in(&[(&eu, 1)], Some("us")), Some(eu));
}

#[test]
fn rule_bridge_without_relay_cannot_be_shared() {
    let mut w = World::new(region_based());
    let a = w.add("jvbbrewery@internal.meet.test/a", stress(0.9));
    w.add(
        "jvbbrewery@internal.meet.test/b",
        St {
            stress: Some(0.1),
            region: Some("r"),
            ..St::default()
        },
    );
    assert_eq!(w.reg.get(a.as_str()).unwrap().relay_id(), None);
    assert_eq!(w.select_in(&[(&a, 3)], Some("r")), Some(a));
}

#[test]
fn rule_split_spreads_participants() {
    let mut w = World::new(split());
    let names = ["a", "b", "c"];
    let ids: Vec<BridgeId> = names
        .iter()
        .map(|n| {
            w.add(
                &format!("jvbbrewery@internal.meet.test/{n}"),
                St {
                    stress: Some(0.1),
                    region: Some("r"),
                    ..St::default()
                },
            )
        })
        .collect();
    let mut conf: Vec<(BridgeId, u32)> = Vec::new();
    for _ in 0..6 {
        let p = w.reg.select(w.now, &conf, None, None).unwrap();
        match conf.iter_mut().find(|(b, _)| *b == p) {
            Some((_, n)) => *n += 1,
            None => conf.push((p, 1)),
        }
    }
    for b in &ids {
        assert_eq!(conf.iter().find(|(x, _)| x == b).unwrap().1, 2, "{b}");
    }
}

#[test]
fn rule_both_discovery_paths_select_together() {
    let mut w = World::new(BridgeConfig::default());
    let cur = w.add("jvbbrewery@internal.meet.test/a", stress(0.3));
    let seed = id("jitsi-videobridge.meet.test");
    w.reg.discovered(w.now, &seed, false);
    // A SEED bridge reports no stress (0): it is the least loaded.
    assert_eq!(w.select(), Some(seed.clone()));
    assert_eq!(
        w.reg.get(seed.as_str()).unwrap().colibri_version(),
        ColibriVersion::V1
    );
    w.reg.discovery_round_started(w.now);
    w.reg.discovery_round_done(w.now);
    assert_eq!(w.select(), Some(cur));
}
