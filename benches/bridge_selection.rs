//! Cost of picking a bridge for a participant with 500 bridges known, the
//! size of Jicofo's own (disabled) `BridgeSelectorTest` "Performance" case,
//! which times 1000 selections with every bridge overloaded in a region no
//! participant asks for (the region-based strategy's last resort).
//!
//! Baseline in the same run: copying and sorting the 500 stress values
//! (what Jicofo does on every selection before anything else). Each
//! scenario runs 1000 selections per round for several rounds; the table
//! gives the best round (least disturbed by other processes on a shared
//! machine) and the median round; the metrics use the best round.
//!
//! Run with `cargo bench --bench bridge_selection`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use jicofo::focus::bridge::{
    BridgeConfig, BridgeId, BridgeRegistry, BridgeStats, SelectionStrategy,
};

const BRIDGES: usize = 500;
const SELECTIONS: usize = 1000;
const ROUNDS: usize = 15;

/// A small deterministic generator, so that every run measures the same
/// stress values.
struct Lcg(u64);

impl Lcg {
    fn next_f64(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn bridge_id(i: usize) -> BridgeId {
    BridgeId::parse(&format!("jvbbrewery@internal.auth.meet.test/jvb-{i}")).unwrap()
}

/// A registry of `BRIDGES` brewery bridges with the given stress and region.
fn registry(
    cfg: BridgeConfig,
    now: Instant,
    mut stress: impl FnMut(usize) -> f64,
    region: impl Fn(usize) -> &'static str,
) -> BridgeRegistry {
    let mut reg = BridgeRegistry::new(cfg);
    for i in 0..BRIDGES {
        let r = region(i).to_string();
        let stats = BridgeStats {
            stress_level: Some(stress(i)),
            region: Some(r.clone()),
            relay_id: Some(r),
            version: Some("2.3.210".into()),
            drain: Some(false),
            colibri2: Some(true),
            ..BridgeStats::default()
        };
        reg.update_from_brewery(now, &bridge_id(i), &stats);
    }
    while reg.poll_event().is_some() {}
    reg
}

/// Best and median over rounds of the time per call of `op`, in
/// nanoseconds. `op` gets a call counter that keeps growing across rounds.
fn per_op_ns(mut op: impl FnMut(usize)) -> (f64, f64) {
    let mut n = 0;
    // One round to warm caches and the branch predictor.
    for _ in 0..SELECTIONS {
        op(n);
        n += 1;
    }
    let mut rounds: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..SELECTIONS {
                op(n);
                n += 1;
            }
            start.elapsed().as_nanos() as f64 / SELECTIONS as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    (rounds[0], rounds[ROUNDS / 2])
}

struct Row {
    name: &'static str,
    what: &'static str,
    /// Best round, ns per selection.
    ns: f64,
    /// Median round, ns per selection.
    median: f64,
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to filter here.
    let now = Instant::now();
    let mut rng = Lcg(42);
    let stresses: Vec<f64> = (0..BRIDGES).map(|_| rng.next_f64() * 0.9).collect();
    let regions = ["us-east", "us-west", "eu-central", "eu-west", "ap-south"];
    let region_of = |i: usize| regions[i % regions.len()];

    let mut rows = Vec::new();

    // Baseline: copy and sort 500 stress values.
    let (ns, median) = per_op_ns(|_| {
        let mut v = black_box(&stresses).clone();
        v.sort_by(f64::total_cmp);
        black_box(&v);
    });
    rows.push(Row {
        name: "baseline_sort_500",
        what: "baseline: copy + sort 500 stress values",
        ns,
        median,
    });

    // Jicofo's performance case: region-based with region groups, every
    // bridge overloaded, participant region matching nothing.
    let jicofo_cfg = BridgeConfig {
        strategy: SelectionStrategy::RegionBased,
        local_region: Some("us-east".into()),
        region_groups: vec![
            vec!["us-east".into(), "us-west".into()],
            vec!["eu-central".into(), "eu-west".into()],
        ],
        max_bridge_participants: Some(10),
        ..BridgeConfig::default()
    };
    let reg = registry(jicofo_cfg, now, |_| 0.99, |_| "bridge-region");
    let (ns, median) = per_op_ns(|_| {
        black_box(reg.select(now, &[], Some("participant-region-no-match"), None));
    });
    rows.push(Row {
        name: "region_based_worst_case",
        what: "region-based, all overloaded, no region match (Jicofo's case)",
        ns,
        median,
    });

    // The default strategy, a new conference, varied load and regions.
    let reg = registry(BridgeConfig::default(), now, |i| stresses[i], region_of);
    let (ns, median) = per_op_ns(|i| {
        black_box(reg.select(now, &[], Some(regions[i % regions.len()]), None));
    });
    rows.push(Row {
        name: "single_bridge_new_conference",
        what: "single-bridge, new conference, participant region",
        ns,
        median,
    });

    // Region-based with Octo, a conference already on three bridges.
    let octo_cfg = BridgeConfig {
        strategy: SelectionStrategy::RegionBased,
        octo_enabled: true,
        local_region: Some("us-east".into()),
        ..BridgeConfig::default()
    };
    let reg = registry(octo_cfg, now, |i| stresses[i], region_of);
    let conf = [(bridge_id(0), 30), (bridge_id(1), 12), (bridge_id(2), 80)];
    let (ns, median) = per_op_ns(|i| {
        black_box(reg.select(now, &conf, Some(regions[i % regions.len()]), None));
    });
    rows.push(Row {
        name: "region_based_octo_conference",
        what: "region-based + Octo, conference on 3 bridges",
        ns,
        median,
    });

    // A burst of joins: each selection is followed by `endpoint_added`, so
    // the rampup correction grows on the chosen bridges as it would.
    let mut reg = registry(BridgeConfig::default(), now, |i| stresses[i], region_of);
    let (ns, median) = per_op_ns(|i| {
        let t = now + Duration::from_micros(i as u64);
        if let Some(b) = reg.select(t, &[], None, None) {
            reg.endpoint_added(t, &b);
        }
    });
    rows.push(Row {
        name: "join_burst_with_rampup",
        what: "single-bridge select + endpoint_added (rampup in effect)",
        ns,
        median,
    });

    let base = rows[0].ns;
    println!("bridge selection with {BRIDGES} bridges ({SELECTIONS} selections x {ROUNDS} rounds)");
    println!(
        "  {:<62} {:>9} {:>9} {:>13} {:>10}",
        "scenario", "best us", "median us", "selections/s", "x baseline"
    );
    for r in &rows {
        println!(
            "  {:<62} {:>9.2} {:>9.2} {:>13.0} {:>10.2}",
            r.what,
            r.ns / 1000.0,
            r.median / 1000.0,
            1e9 / r.ns,
            r.ns / base
        );
    }
    for r in &rows {
        println!(
            "metric bridge_selection_{}_us {:.3} us",
            r.name,
            r.ns / 1000.0
        );
        println!(
            "metric bridge_selection_{}_per_s {:.0} 1/s",
            r.name,
            1e9 / r.ns
        );
    }
    for r in &rows[1..] {
        println!(
            "metric bridge_selection_{}_vs_baseline {:.2} ratio",
            r.name,
            r.ns / base
        );
    }
}
