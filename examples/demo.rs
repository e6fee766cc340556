//! The README's first command (`scripts/demo`): a whole Jitsi Meet
//! conference on loopback, with nothing deployed, shown as a signalling
//! timeline.
//!
//! It starts a throwaway Prosody configured like a Jitsi Meet deployment
//! (the same one the tests use), an emulated Colibri2 videobridge in the
//! brewery room, the release `jicofo` against both, and two independent
//! XMPP participants (slixmpp) that do what a Jitsi Meet client does: the
//! conference IQ, the MUC join, a `session-initiate` acked and answered
//! with `session-accept`, the other's sources in a `source-add`, then
//! leaving. The timeline puts three sources of evidence on one axis
//! (milliseconds from the first conference IQ): what the participants sent
//! and received (stamped by the agent), what the bridge was asked (stamped
//! by the emulator), and the focus's own log (millisecond timestamps).
//! It checks what must hold on the way (the offer carries the bridge's
//! transport, the bridge gets each accept as an update, each participant
//! is told the other's sources, leaving expires the endpoints and then the
//! conference, no request is refused, the focus exits cleanly), prints a
//! one-line summary and exits 0; anything else ends it with a message and
//! a non-zero code.
//! Every wait is bounded, each step gives up past a 50 s budget, and a
//! watchdog ends the run at 58 s whatever is waiting; only the processes it
//! started are stopped, by their handles or (watchdog) their ids.
//!
//! Reuses the test harness (`tests/support`, `tests/conf_util`) so the demo
//! and the tests cannot drift apart.

#[path = "../tests/conf_util/mod.rs"]
mod conf_util;
#[path = "../tests/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use conf_util::{attr, peers, room, tags};
use support::bridge::{BREWERY, Bridge, BridgeOpts, JVB_PASSWORD, JVB_USER, Received};
use support::meet_client::{CLIENT_FEATURES, conference_request, session_accept};
use support::{AUTH_DOMAIN, FOCUS_COMPONENT, Focus, Json, Login, Prosody, ProsodyOpts};

/// Every step checks this budget and gives up past it.
const BUDGET: Duration = Duration::from_secs(50);
/// The watchdog's hard bound: past it, whatever step is waiting, the
/// processes the run started are stopped and the demo exits non-zero.
const HARD_BOUND: Duration = Duration::from_secs(58);
/// Any single wait.
const STEP: Duration = Duration::from_secs(10);
/// The room of the demo conference.
const ROOM: &str = "demo";
/// The participants, in the order they come.
const NICKS: [&str; 2] = ["alice", "bob"];

fn main() {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).expect("install signal handler");
    }
    // One clear line per failure; the harness's own messages (logs of the
    // peer, the focus or Prosody that failed) come with it.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("(no message)");
        let at = info
            .location()
            .map(|l| format!(" ({}:{})", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("demo: {msg}{at}");
    }));
    let started = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    watchdog(started + HARD_BOUND, Arc::clone(&done));
    let outcome = std::panic::catch_unwind(|| run(&stop));
    done.store(true, Ordering::SeqCst);
    match outcome {
        Ok(Ok(summary)) => println!("{summary}"),
        Ok(Err(why)) => fail(started, &why),
        Err(_) => fail(started, "see the message above"),
    }
}

/// What the run started, for the watchdog: process ids (never reaped
/// before the run returns, so never reused) and Prosody's temp dir.
static STARTED: Mutex<(Vec<u32>, Option<PathBuf>)> = Mutex::new((Vec::new(), None));

fn started_pid(pid: u32) {
    STARTED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .0
        .push(pid);
}

/// A signal by pid, through `sh`'s `kill` (std can only SIGKILL a `Child`
/// it owns, and the main thread owns them while it waits).
fn signal(sig: &str, pid: u32) {
    let _ = std::process::Command::new("sh")
        .args(["-c", "kill -s \"$1\" \"$2\" 2>/dev/null", "sh", sig])
        .arg(pid.to_string())
        .status();
}

/// Bounds the whole run: every wait in it is bounded, but a chain of slow
/// successes could add up. At `deadline` this stops exactly the processes
/// the run registered (TERM, then KILL), removes Prosody's dir and exits 1.
fn watchdog(deadline: Instant, done: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        while Instant::now() < deadline {
            if done.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if done.load(Ordering::SeqCst) {
            return;
        }
        let (pids, dir) = STARTED.lock().unwrap_or_else(|e| e.into_inner()).clone();
        eprintln!("demo FAILED: not finished within {HARD_BOUND:?}; stopping what it started");
        for &pid in &pids {
            signal("TERM", pid);
        }
        std::thread::sleep(Duration::from_millis(500));
        for &pid in &pids {
            if support::os::is_alive(pid) {
                signal("KILL", pid);
            }
        }
        if let Some(dir) = dir.filter(|_| !support::os::keep_test_dirs()) {
            let _ = std::fs::remove_dir_all(dir);
        }
        std::process::exit(1);
    });
}

fn fail(started: Instant, why: &str) -> ! {
    eprintln!(
        "demo FAILED after {:.1} s: {why}\n(every process it started has been stopped; \
         rerun with KEEP_TEST_DIRS=1 to keep the logs of Prosody, the focus and the peers)",
        started.elapsed().as_secs_f64()
    );
    std::process::exit(1);
}

/// Wall-clock milliseconds since the Unix epoch: the one axis every
/// source of the timeline can be put on.
fn unix_ms(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// The run's clocks and deadline.
struct Clock {
    start: Instant,
    start_unix_ms: f64,
    deadline: Instant,
}

impl Clock {
    fn new() -> Clock {
        let start = Instant::now();
        Clock {
            start,
            start_unix_ms: unix_ms(SystemTime::now()),
            deadline: start + BUDGET,
        }
    }

    fn now_ms(&self) -> f64 {
        self.at_ms(Instant::now())
    }

    /// A monotonic instant on the wall-clock axis.
    fn at_ms(&self, t: Instant) -> f64 {
        let since = t.saturating_duration_since(self.start).as_secs_f64() * 1000.0;
        self.start_unix_ms + since
    }

    /// The bound for the next wait: a step, never past the deadline.
    fn step(&self) -> Duration {
        STEP.min(self.deadline.saturating_duration_since(Instant::now()))
    }

    fn elapsed(&self) -> String {
        format!("[{:>6.2} s]", self.start.elapsed().as_secs_f64())
    }
}

/// One line of the timeline.
struct Entry {
    unix_ms: f64,
    who: String,
    what: String,
}

#[derive(Default)]
struct Timeline(Vec<Entry>);

impl Timeline {
    fn add(&mut self, unix_ms: f64, who: &str, what: impl Into<String>) {
        self.0.push(Entry {
            unix_ms,
            who: who.to_string(),
            what: what.into(),
        });
    }

    /// Sorted by time (stable: same-millisecond entries keep the order in
    /// which they were added, which is causal within each source).
    fn print(&mut self, origin: f64) {
        self.0.sort_by(|a, b| a.unix_ms.total_cmp(&b.unix_ms));
        for e in &self.0 {
            println!("  {:>+7.1} ms  {:<6} {}", e.unix_ms - origin, e.who, e.what);
        }
    }
}

/// When an agent event happened (its `ts`, Unix seconds), on our axis.
fn event_ms(ev: &Json) -> f64 {
    ev["ts"].as_f64().map(|s| s * 1000.0).unwrap_or(0.0)
}

/// A focus log line `[2026-11-26T22:40:02.123Z INFO  target] message`:
/// its time in Unix milliseconds and its message.
fn focus_log_line(line: &str) -> Option<(f64, &str)> {
    let rest = line.strip_prefix('[')?;
    let (stamp, rest) = rest.split_once(' ')?;
    let (_, message) = rest.split_once("] ")?;
    Some((rfc3339_ms(stamp)?, message))
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` to Unix milliseconds (UTC, as env_logger
/// writes it).
fn rfc3339_ms(s: &str) -> Option<f64> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>());
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let mut t = time.split(':');
    let (hh, mm) = (
        t.next()?.parse::<i64>().ok()?,
        t.next()?.parse::<i64>().ok()?,
    );
    let ss: f64 = t.next()?.parse().ok()?;
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + hh * 3600 + mm * 60) as f64 + ss) * 1000.0)
}

/// The `<source name=…>`s of a Jingle IQ: the sources themselves, not the
/// `<source ssrc/>` references inside `<ssrc-group>`s (every source here,
/// the participants' and the bridge's, is named).
fn named_sources(xml: &str) -> usize {
    tags(xml, "source")
        .iter()
        .filter(|a| a.iter().any(|(k, _)| k == "name"))
        .count()
}

/// What a bridge request asked, in a few words.
fn describe_request(r: &Received) -> String {
    let answer = match &r.answer {
        None => "no answer".to_string(),
        Some(_) if r.answered_error() => "ERROR".to_string(),
        Some(_) => "ok".to_string(),
    };
    let Some(q) = r.colibri2() else {
        return format!("{:?} -> {answer}", r.request);
    };
    let mut parts = Vec::new();
    if q.create {
        parts.push("create conference".to_string());
    }
    for e in &q.endpoints {
        let what = if e.expire {
            "expire".to_string()
        } else {
            let mut w = vec![if e.create { "create" } else { "update" }];
            if let Some(t) = &e.transport {
                w.push(if t.ice.is_some() {
                    "its transport"
                } else {
                    "transport"
                });
                if t.sctp.is_some() {
                    w.push("sctp");
                }
            }
            let n = e
                .sources
                .as_ref()
                .map_or(0, |s| s.iter().map(|m| m.sources.len()).sum::<usize>());
            let sources = format!("{n} sources");
            if e.sources.is_some() {
                w.push(&sources);
            }
            w.join(", ")
        };
        parts.push(format!("endpoint {} ({what})", e.id));
    }
    if q.expire || (!q.create && q.endpoints.is_empty()) {
        parts.push("expire conference".to_string());
    }
    format!("conference-modify: {} -> {answer}", parts.join("; "))
}

fn run(stop: &AtomicBool) -> Result<String, String> {
    let clock = Clock::new();
    let check = |what: &str| -> Result<(), String> {
        if stop.load(Ordering::Relaxed) {
            return Err(format!("interrupted (while {what})"));
        }
        if Instant::now() >= clock.deadline {
            return Err(format!("over the {BUDGET:?} budget (while {what})"));
        }
        Ok(())
    };
    println!("jicofo-rs demo: one conference on loopback, nothing deployed");

    // --- set-up -----------------------------------------------------------
    let p = Prosody::start(ProsodyOpts::default().user(JVB_USER, AUTH_DOMAIN, JVB_PASSWORD));
    if let Some(pid) = p.pid() {
        started_pid(pid);
    }
    STARTED.lock().unwrap_or_else(|e| e.into_inner()).1 = Some(p.dir.clone());
    println!(
        "{} Prosody {} on 127.0.0.1 (c2s {}, components {}), configured like Jitsi Meet, in {}",
        clock.elapsed(),
        prosody_version(),
        p.c2s_port,
        p.component_port,
        p.dir.display()
    );
    check("starting Prosody")?;
    let bridge = Bridge::colibri2(&p, BREWERY, "jvb1", BridgeOpts::default());
    bridge.wait_ready(clock.step());
    println!(
        "{} emulated videobridge jvb1 (Colibri2) in the brewery {BREWERY}",
        clock.elapsed()
    );
    let mut args = Focus::standard_args(&p);
    args.push(format!("-Dorg.jitsi.jicofo.BRIDGE_MUC={BREWERY}"));
    println!(
        "{} running {} {}",
        clock.elapsed(),
        support::focus::focus_bin(),
        args.join(" ")
            .replace("focuspassword", "***")
            .replace("focus_secret", "***")
    );
    let mut focus = Focus::spawn_with(&p, &args, &[("RUST_LOG", "info")]);
    started_pid(focus.pid());
    for needle in ["is up as focus.meet.test", "is up as focus@"] {
        if !focus.wait_log(needle, clock.step()) {
            return Err(format!(
                "the focus did not come up (no \"{needle}\"); its log:\n{}",
                support::os::tail(&focus.log_text(), 30)
            ));
        }
    }
    bridge.wait_for("the focus in the brewery", clock.step(), |s| {
        s.brewery_occupants
            .iter()
            .any(|n| n == "focus")
            .then_some(())
    });
    println!(
        "{} focus up: component {FOCUS_COMPONENT}, client focus@{AUTH_DOMAIN}, in the brewery \
         with jvb1",
        clock.elapsed()
    );
    check("starting the focus")?;
    let mut ps = peers(&p, NICKS.map(|n| Login::guest().label(n)));
    for peer in &mut ps {
        started_pid(peer.pid());
        peer.add_features(CLIENT_FEATURES);
        peer.auto_ack_jingle(true);
    }
    println!(
        "{} participants {} logged in anonymously (slixmpp, STARTTLS), with Jitsi Meet's \
         media features",
        clock.elapsed(),
        NICKS.join(" and ")
    );
    check("logging the participants in")?;

    // --- the conference ----------------------------------------------------
    let r = room(ROOM);
    let mut tl = Timeline::default();
    let origin = clock.now_ms();
    let mut joined_ms = [0.0; 2];
    for (i, (peer, nick)) in ps.iter_mut().zip(NICKS).enumerate() {
        let iq = format!(
            "<iq type='set' to='{FOCUS_COMPONENT}'>{}</iq>",
            conference_request(&r, &format!("demo-{nick}"))
        );
        tl.add(
            clock.now_ms(),
            nick,
            format!("-> conference IQ to {FOCUS_COMPONENT} (room {r})"),
        );
        let reply = peer.send_iq(&iq, clock.step());
        let xml = reply["xml"].as_str().unwrap_or_default();
        let ready = attr(xml, "conference", "ready");
        if reply["type"].as_str() != Some("result") || ready.as_deref() != Some("true") {
            return Err(format!("{nick}'s conference IQ: {reply}"));
        }
        tl.add(event_ms(&reply), nick, "<- conference result, ready=true");
        check("sending the conference IQ")?;
        tl.add(clock.now_ms(), nick, format!("-> MUC join {r}/{nick}"));
        let j = peer.join(&r, nick);
        if j["type"].as_str() != Some("joined") {
            return Err(format!("{nick} could not join {r}: {j}"));
        }
        joined_ms[i] = event_ms(&j);
        tl.add(
            joined_ms[i],
            nick,
            format!(
                "<- joined as {} (self-presence)",
                j["item"]["role"].as_str().unwrap_or("?")
            ),
        );
        check("joining the room")?;
    }

    // Both get an offer on the bridge; both accept.
    let mut offer_ms = [0.0; 2];
    for (i, (peer, nick)) in ps.iter_mut().zip(NICKS).enumerate() {
        let ev = peer.expect_event(
            "session-initiate",
            |e| e.is_event("iq") && e.str_of("action") == Some("session-initiate"),
            clock.step(),
        );
        offer_ms[i] = event_ms(&ev);
        let xml = ev.str_of("xml").unwrap_or_default().to_string();
        let sid = attr(&xml, "jingle", "sid").ok_or("a session-initiate without a sid")?;
        let ours = bridge
            .transport_of(nick)
            .ok_or_else(|| format!("no endpoint {nick} on the bridge: {:?}", bridge.endpoints()))?;
        let offered: Vec<String> = tags(&xml, "transport")
            .iter()
            .filter_map(|a| a.iter().find(|(k, _)| k == "ufrag").map(|(_, v)| v.clone()))
            .collect();
        if offered.is_empty()
            || offered
                .iter()
                .any(|u| Some(u.as_str()) != ours.ufrag.as_deref())
        {
            return Err(format!(
                "{nick}'s offer does not carry the bridge's transport (ufrag {:?}, offered \
                 {offered:?})",
                ours.ufrag
            ));
        }
        tl.add(
            clock.now_ms(),
            nick,
            format!("-> session-accept (sid {sid}, ICE + DTLS, 7 sources in 4 groups)"),
        );
        let accept = format!(
            "<iq type='set' to='{r}/focus'>{}</iq>",
            session_accept(&r, nick, i as u32, &sid)
        );
        let reply = peer.send_iq(&accept, clock.step());
        if reply["type"].as_str() != Some("result") {
            return Err(format!(
                "the focus refused {nick}'s session-accept: {reply}"
            ));
        }
        tl.add(event_ms(&reply), nick, "<- session-accept acknowledged");
        check("accepting the offer")?;
    }
    for nick in NICKS {
        bridge.wait_for(
            &format!("{nick}'s transport and sources"),
            clock.step(),
            |s| {
                s.endpoint(nick)
                    .filter(|e| e.remote_transport.is_some() && e.sources.sources.len() == 7)
                    .map(|_| ())
            },
        );
    }

    // Each learns the other's sources (the offers came before any accept).
    for (i, (peer, nick)) in ps.iter_mut().zip(NICKS).enumerate() {
        let other = NICKS[1 - i];
        let ev = peer.expect_event(
            &format!("source-add with {other}'s sources"),
            |e| e.is_event("iq") && e.str_of("action") == Some("source-add"),
            clock.step(),
        );
        let xml = ev.str_of("xml").unwrap_or_default();
        let theirs = tags(xml, "source").iter().any(|a| {
            a.iter()
                .any(|(k, v)| k == "name" && v.starts_with(&format!("{other}-")))
        });
        if !theirs {
            return Err(format!(
                "{nick}'s source-add lacks {other}'s sources: {xml}"
            ));
        }
    }
    check("waiting for the sources")?;

    // Leaving: the endpoint goes, then with the last one the conference.
    for (peer, nick) in ps.iter_mut().zip(NICKS).rev() {
        tl.add(clock.now_ms(), nick, format!("-> leave {r}"));
        let left = peer.leave(&r);
        if left["type"].as_str() != Some("left") {
            return Err(format!("{nick} could not leave: {left}"));
        }
        tl.add(event_ms(&left), nick, "<- left (unavailable self-presence)");
    }
    bridge.wait_for("the conference expired", clock.step(), |s| {
        (s.conferences.is_empty() && s.expired_conferences.len() == 1).then_some(())
    });
    check("leaving")?;
    // The focus logs the conference's end right after its expire request.
    focus.wait_log(&format!("conference {r}: stopped"), Duration::from_secs(2));
    let end_ms = clock.now_ms();

    // --- collect the evidence ------------------------------------------------
    for (peer, nick) in ps.iter_mut().zip(NICKS) {
        for ev in peer.history() {
            if !ev.is_event("iq") {
                continue;
            }
            let Some(action) = ev.str_of("action") else {
                continue;
            };
            let xml = ev.str_of("xml").unwrap_or_default();
            let detail = match action {
                "session-initiate" => format!(
                    " ({} contents on the bridge's transport, {} sources; acked)",
                    // Not the empty `<content name/>`s of the BUNDLE group.
                    tags(xml, "content")
                        .iter()
                        .filter(|a| a.iter().any(|(k, _)| k == "creator"))
                        .count(),
                    named_sources(xml)
                ),
                _ => format!(" ({} sources; acked)", named_sources(xml)),
            };
            tl.add(
                event_ms(ev),
                nick,
                format!("<- {action} from the focus{detail}"),
            );
        }
    }
    let requests = bridge.requests();
    for q in &requests {
        if q.colibri2().is_some() {
            tl.add(clock.at_ms(q.at), "jvb1", describe_request(q));
        }
    }
    let log = focus.log_text();
    for line in log.lines() {
        let Some((at, msg)) = focus_log_line(line) else {
            continue;
        };
        if at + 1.0 < origin {
            continue;
        }
        let prefix = format!("conference {r}: ");
        if let Some(m) = msg.strip_prefix(&prefix) {
            tl.add(at, "focus", m);
        } else if msg.contains("bridge") {
            tl.add(at, "focus", msg);
        }
    }
    focus.sigterm();
    let status = focus.wait_exit(Duration::from_secs(3));

    println!(
        "\ntimeline of {r} (ms from {}'s conference IQ; sources: the participants' agents, \
         the bridge emulator, the focus's log)",
        NICKS[0]
    );
    tl.print(origin);

    let refused = requests.iter().filter(|q| q.answered_error()).count();
    let colibri = requests.iter().filter(|q| q.colibri2().is_some()).count();
    if refused > 0 {
        return Err(format!("the bridge refused {refused} request(s)"));
    }
    match status {
        Some(s) if s.success() => {}
        other => {
            return Err(format!(
                "the focus did not exit cleanly on SIGTERM ({other:?}); its log:\n{}",
                support::os::tail(&focus.log_text(), 20)
            ));
        }
    }
    let second_join = joined_ms[0].max(joined_ms[1]);
    Ok(format!(
        "\ndemo OK: {} and {} joined {r} through Prosody, the focus and an emulated bridge; \
         offers {:.0} / {:.0} ms after the second join; {colibri} Colibri2 requests, none \
         refused; conference over {:.0} ms after the first IQ; focus exited 0; {:.1} s in all",
        NICKS[0],
        NICKS[1],
        offer_ms[0] - second_join,
        offer_ms[1] - second_join,
        end_ms - origin,
        clock.start.elapsed().as_secs_f64()
    ))
}

/// Prosody's Debian package version (`prosody --version` would start a
/// server: see peers.md).
fn prosody_version() -> String {
    std::process::Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", "prosody"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_else(|| "(version unknown)".into())
}
