//! Footprint of the running focus, measured against a real Prosody on
//! loopback: release binary size, time from process start to the component
//! being authenticated, and resident memory when connected and idle. Prosody
//! is measured in the same run as the reference point (the server the focus
//! sits next to on a small host).
//!
//! Run with `scripts/bench` (builds the release binary first), or
//! `JICOFO_BIN=target/release/jicofo cargo bench --bench footprint`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use support::{Focus, Prosody, ProsodyOpts};

const RUNS: usize = 15;

/// `VmRSS` and `VmHWM` of a process, in KiB.
fn rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The "(N ms after start)" the focus logs when its component is up.
fn startup_ms(log: &str) -> Option<f64> {
    let line = log
        .lines()
        .find(|l| l.contains("is up as focus.meet.test"))?;
    let tail = line.split('(').nth(1)?;
    tail.split(' ').next()?.parse().ok()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to filter here.
    let bin = support::focus::focus_bin();
    let size = std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0);
    let p = Prosody::start(ProsodyOpts::default());

    let mut internal = Vec::new();
    let mut external = Vec::new();
    for _ in 0..RUNS {
        let spawned = Instant::now();
        let mut f = Focus::spawn_with(&p, &Focus::standard_args(&p), &[("RUST_LOG", "info")]);
        // Poll tightly: this only bounds the externally observed time.
        let deadline = spawned + Duration::from_secs(10);
        let log = loop {
            let log = f.log_text();
            if log.contains("is up as focus.meet.test") {
                break log;
            }
            assert!(Instant::now() < deadline, "focus did not come up:\n{log}");
            std::thread::sleep(Duration::from_micros(500));
        };
        external.push(spawned.elapsed().as_secs_f64() * 1000.0);
        internal.push(startup_ms(&log).expect("start-up time in the log"));
        f.sigterm();
        f.wait_exit(Duration::from_secs(3));
    }

    let mut f = Focus::spawn_with(&p, &Focus::standard_args(&p), &[("RUST_LOG", "info")]);
    assert!(
        f.wait_log("is up as focus@auth.meet.test", Duration::from_secs(10)),
        "{}",
        f.log_text()
    );
    std::thread::sleep(Duration::from_secs(2));
    let (focus_rss, focus_hwm) = rss_kib(f.pid());
    let (prosody_rss, _) = rss_kib(p.pid().expect("prosody runs"));
    f.sigterm();
    f.wait_exit(Duration::from_secs(3));

    let startup_internal = median(&mut internal);
    let startup_external = median(&mut external);
    println!("footprint of {bin}");
    println!(
        "  release binary size            {:>8.2} MiB",
        size as f64 / 1048576.0
    );
    println!("  start -> component authenticated (median of {RUNS}):");
    println!("    measured by the focus        {startup_internal:>8.2} ms   (goal <= 20 ms)");
    println!(
        "    seen from outside (spawn)    {startup_external:>8.2} ms   (includes exec and 0.5 ms log polling)"
    );
    println!(
        "  RSS connected and idle         {:>8.2} MiB   (peak {:.2} MiB; goal <= 8 MiB)",
        focus_rss as f64 / 1024.0,
        focus_hwm as f64 / 1024.0
    );
    println!(
        "  Prosody RSS, same run          {:>8.2} MiB   (ratio focus/Prosody {:.2})",
        prosody_rss as f64 / 1024.0,
        focus_rss as f64 / prosody_rss.max(1) as f64
    );
    println!("metric binary_size_bytes {size} bytes");
    println!("metric startup_to_component_ms {startup_internal:.2} ms");
    println!("metric startup_external_ms {startup_external:.2} ms");
    println!("metric idle_rss_kib {focus_rss} KiB");
    println!("metric idle_rss_peak_kib {focus_hwm} KiB");
    println!("metric prosody_rss_kib {prosody_rss} KiB");
}
