//! The README's first command (`scripts/demo`): the focus's main job on an
//! embedded default, on loopback, with nothing deployed.
//!
//! It starts a throwaway Prosody configured like a Jitsi Meet deployment
//! (the same one the tests use), runs the release `jicofo` against it,
//! shows both connections come up, proves from an independent XMPP client
//! that the focus answers on both, and stops cleanly on Ctrl-C.
//!
//! Reuses the test harness (`tests/support`) so the demo and the tests
//! cannot drift apart.

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use support::{FOCUS_COMPONENT, Focus, Login, Peer, Prosody, ProsodyOpts};

fn main() {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).expect("install signal handler");
    }
    let t0 = Instant::now();
    let stamp = move || format!("[{:>7.3}s]", t0.elapsed().as_secs_f64());

    println!(
        "{} starting a throwaway Prosody on 127.0.0.1 (configured like Jitsi Meet)",
        stamp()
    );
    let p = Prosody::start(ProsodyOpts::default());
    println!(
        "{} Prosody ready: c2s port {}, component port {}, dir {}",
        stamp(),
        p.c2s_port,
        p.component_port,
        p.dir.display()
    );
    let args = Focus::standard_args(&p);
    println!(
        "{} running: {} {}",
        stamp(),
        support::focus::focus_bin(),
        args.join(" ")
            .replace("focuspassword", "***")
            .replace("focus_secret", "***")
    );
    let mut focus = Focus::spawn_with(&p, &args, &[("RUST_LOG", "info")]);
    let mut shown = 0;
    let mut show_log = |focus: &Focus| {
        let log = focus.log_text();
        for line in log.lines().skip(shown) {
            println!("{}   focus | {line}", stamp());
            shown += 1;
        }
    };
    let up = Instant::now() + Duration::from_secs(15);
    while !(focus.log_text().contains("is up as focus.meet.test")
        && focus.log_text().contains("is up as focus@"))
    {
        show_log(&focus);
        if Instant::now() > up || !focus.is_running() || stop.load(Ordering::Relaxed) {
            show_log(&focus);
            eprintln!("the focus did not come up; its log is above");
            std::process::exit(1);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    show_log(&focus);
    println!(
        "{} both XMPP connections are up; probing them from an independent client (slixmpp)",
        stamp()
    );
    let mut probe = Peer::spawn(&p, Login::guest().label("probe"));
    let info = probe.disco_info(FOCUS_COMPONENT);
    println!(
        "{}   probe | disco#info {FOCUS_COMPONENT}: features {}",
        stamp(),
        info["features"]
    );
    for jid in [FOCUS_COMPONENT, "focus@auth.meet.test/focus"] {
        let sent = Instant::now();
        let r = probe.ping(jid, Duration::from_secs(5));
        println!(
            "{}   probe | ping {jid}: {} in {:?}",
            stamp(),
            r["type"],
            sent.elapsed()
        );
    }
    println!("{} running; press Ctrl-C to stop", stamp());
    while !stop.load(Ordering::Relaxed) && focus.is_running() {
        show_log(&focus);
        std::thread::sleep(Duration::from_millis(100));
    }
    focus.sigterm();
    let status = focus.wait_exit(Duration::from_secs(3));
    show_log(&focus);
    println!("{} focus exited: {:?}; stopping Prosody", stamp(), status);
}
