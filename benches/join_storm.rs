//! Join storm through a real Prosody: what the running focus costs when a
//! crowd arrives at once, next to what the XMPP server costs for the same
//! crowd.
//!
//! Set-up: a throwaway Prosody on loopback (the test harness's, configured
//! like Jitsi Meet, logging at `info`), an emulated Colibri2 videobridge in
//! the brewery (`tests/support/bridge.rs`, on its own thread), the release
//! focus (`RUST_LOG=info`, as deployed), and a load generator in this
//! process: 200 participants (40 rooms of 5 by default) as anonymous c2s
//! clients over STARTTLS, built on the crate's own client stream machine
//! (`ClientConn`, the one the focus and the emulator use) and driven by one
//! mio loop. Every participant behaves like a Jitsi Meet client
//! (`tests/support/meet_client.rs`): it answers disco#info with the client's
//! media features, sends the conference IQ, joins the room once the focus
//! answers `ready`, acks the `session-initiate` and answers it with the
//! client's `session-accept` (7 sources in 4 groups), and acks every later
//! Jingle IQ (the `source-add`s of the others).
//!
//! The storm: once all participants are logged in (not measured), every
//! conference IQ is written in one pass, as fast as the sockets take them;
//! the storm ends when every `session-accept` is acknowledged, every
//! participant has been told the sources of the 4 others in its room (in
//! its offer or in `source-add`s), and the bridge holds every participant's
//! transport and sources. Then all leave
//! at once; that phase ends when the bridge has expired every conference.
//!
//! Measured: CPU seconds (`utime + stime` of `/proc/<pid>/stat`) of the
//! focus and of Prosody over each phase, the focus's peak RSS (`VmHWM`),
//! and per participant the time from its conference IQ written to its
//! `session-initiate` read (p50, p99), which includes Prosody's routing,
//! the bridge emulator and this generator's own queueing. The baseline is
//! Prosody in the same run: the goal is focus CPU at most 10 % of Prosody's.
//!
//! Run with `scripts/bench --bench join_storm`, or
//! `JICOFO_BIN=target/release/jicofo cargo bench --bench join_storm`.
//! `JOIN_STORM_ROOMS` changes the number of rooms (5 participants each).

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use jicofo::config::Secret;
use jicofo::conn::ConnEvent;
use jicofo::conn::client::{ClientConn, ClientOptions};
use jicofo::conn::keepalive::KeepAliveConfig;
use jicofo::conn::tls::{RootChoice, client_config};
use jicofo::stanza::disco::{self, Identity};
use jicofo::stanza::iq::{write_empty_result, write_error_reply};
use jicofo::stanza::{Condition, Iq, IqType, StanzaError, muc};
use jicofo::xml::{El, ns};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use support::bridge::{BREWERY, Bridge, BridgeOpts, JVB_PASSWORD, JVB_USER};
use support::meet_client::{CLIENT_FEATURES, conference_request, session_accept};
use support::{AUTH_DOMAIN, DOMAIN, FOCUS_COMPONENT, Focus, MUC_DOMAIN, Prosody, ProsodyOpts};

/// Participants per room.
const PER_ROOM: usize = 5;
/// Default number of rooms.
const ROOMS: usize = 40;
/// Logins in flight at once (Prosody's listen backlog is small; a dropped
/// SYN would cost a second).
const LOGIN_WINDOW: usize = 20;
/// Bounds of each phase.
const LOGIN_BOUND: Duration = Duration::from_secs(90);
const STORM_BOUND: Duration = Duration::from_secs(120);
const LEAVE_BOUND: Duration = Duration::from_secs(60);

/// Where a participant stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    LoggingIn,
    Online,
    AwaitReady,
    AwaitOffer,
    AwaitAcceptAck,
    Accepted,
}

/// A participant's behaviour, apart from its stream (so the stream's
/// stanza callback can borrow it).
struct Logic {
    index: usize,
    room: String,
    nick: String,
    phase: Phase,
    iq_sent: Option<Instant>,
    offer_at: Option<Instant>,
    later_jingle: usize,
    /// Nicks whose sources the focus has signalled to us (offer and
    /// `source-add`s), from the source names `<nick>-a0`/`<nick>-v0`.
    known: BTreeSet<String>,
    failure: Option<String>,
}

impl Logic {
    fn occupant(&self) -> String {
        format!("{}/{}", self.room, self.nick)
    }

    /// One stanza from the server; answers go to `out`.
    fn stanza(&mut self, el: El<'_>, now: Instant, out: &mut Vec<u8>) {
        match el.name() {
            "iq" => self.iq(el, now, out),
            "presence" if el.attr("type").as_deref() == Some("error") => {
                self.fail(format!("presence error: {}", el.outer_xml()));
            }
            _ => {}
        }
    }

    fn fail(&mut self, why: String) {
        if self.failure.is_none() {
            self.failure = Some(why);
        }
    }

    fn iq(&mut self, el: El<'_>, now: Instant, out: &mut Vec<u8>) {
        let Ok(iq) = Iq::parse(el) else {
            return self.fail(format!("unreadable IQ: {}", el.outer_xml()));
        };
        match iq.ty {
            IqType::Result if iq.id.starts_with("conf") => {
                let ready = iq.payload.and_then(|p| p.attr("ready"));
                if ready.as_deref() != Some("true") {
                    return self.fail(format!("conference answer: {}", el.outer_xml()));
                }
                muc::write_join(out, &self.occupant(), |_| {});
                self.phase = Phase::AwaitOffer;
            }
            IqType::Result if iq.id.starts_with("acc") => self.phase = Phase::Accepted,
            IqType::Result => {}
            IqType::Error => self.fail(format!("error answer: {}", el.outer_xml())),
            IqType::Get if iq.payload_is("query", ns::DISCO_INFO) => {
                let me = Identity {
                    category: "client",
                    kind: "web",
                    name: None,
                };
                disco::write_info_result(out, &iq, None, &[me], CLIENT_FEATURES);
            }
            IqType::Get if iq.payload_is("ping", ns::PING) => {
                write_empty_result(out, &iq.id, None, iq.from.as_deref());
            }
            IqType::Set if iq.payload_is("jingle", ns::JINGLE) => {
                write_empty_result(out, &iq.id, None, iq.from.as_deref());
                let jingle = iq.payload.expect("checked");
                let action = jingle.attr("action");
                if matches!(action.as_deref(), Some("session-initiate" | "source-add")) {
                    collect_owners(jingle, &mut self.known);
                }
                if action.as_deref() != Some("session-initiate") {
                    self.later_jingle += 1;
                    return;
                }
                if self.phase != Phase::AwaitOffer {
                    return self.fail(format!("a second session-initiate in {:?}", self.phase));
                }
                self.offer_at = Some(now);
                let sid = jingle.attr("sid").unwrap_or_default();
                let accept = session_accept(&self.room, &self.nick, self.index as u32, &sid);
                let iq = format!(
                    "<iq type='set' id='acc{}' to='{}/focus'>{accept}</iq>",
                    self.index, self.room
                );
                out.extend_from_slice(iq.as_bytes());
                self.phase = Phase::AwaitAcceptAck;
            }
            IqType::Get | IqType::Set => write_error_reply(
                out,
                &iq,
                None,
                &StanzaError::new(Condition::FeatureNotImplemented),
            ),
        }
    }
}

/// The owners of the named sources under `el` (the bridge's are `jvb-…`).
fn collect_owners(el: El<'_>, into: &mut BTreeSet<String>) {
    for c in el.children() {
        if c.name() == "source" {
            let name = c.attr("name");
            if let Some((owner, _)) = name.as_deref().and_then(|n| n.rsplit_once('-')) {
                if owner != "jvb" {
                    into.insert(owner.to_string());
                }
            }
        }
        collect_owners(c, into);
    }
}

/// One participant: its stream machine, socket and behaviour.
struct Client {
    conn: ClientConn,
    sock: TcpStream,
    logic: Logic,
    closed: bool,
}

impl Client {
    /// Reads everything available, feeds the machine, answers, writes.
    fn on_ready(&mut self, buf: &mut [u8], now: Instant) {
        loop {
            match self.sock.read(buf) {
                Ok(0) => {
                    self.closed = true;
                    break;
                }
                Ok(n) => self.conn.handle_input(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    self.logic.fail(format!("read: {e}"));
                    self.closed = true;
                    break;
                }
            }
        }
        let mut out = Vec::new();
        let logic = &mut self.logic;
        if let Err(e) = self.conn.process(now, |el| logic.stanza(el, now, &mut out)) {
            self.logic.fail(format!("stream: {e}"));
        }
        while let Some(ConnEvent::Online { .. }) = self.conn.poll_event() {
            if self.logic.phase == Phase::LoggingIn {
                self.logic.phase = Phase::Online;
            }
        }
        self.send(&out);
    }

    fn send(&mut self, stanzas: &[u8]) {
        if !stanzas.is_empty() && !self.conn.send(stanzas) {
            self.logic.fail("send on a stream that is not ready".into());
        }
        self.flush();
    }

    /// Writes until the machine's output is empty or the socket is full
    /// (then a writable event brings us back).
    fn flush(&mut self) {
        loop {
            let out = self.conn.output();
            if out.is_empty() {
                return;
            }
            match self.sock.write(out) {
                Ok(n) => self.conn.consume_output(n),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    self.logic.fail(format!("write: {e}"));
                    self.closed = true;
                    return;
                }
            }
        }
    }
}

/// CPU seconds (user + system) of a process so far.
fn cpu_seconds(pid: u32, ticks_per_s: f64) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at field 3.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    ticks as f64 / ticks_per_s
}

/// CPU seconds the process's main thread ran (`/proc/<pid>/schedstat`,
/// nanoseconds): a finer measure than the 10 ms ticks of `stat`, and the
/// whole process for the single-threaded focus and Prosody.
fn sched_seconds(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/schedstat"))
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |ns| ns as f64 / 1e9)
}

/// A `/proc/<pid>/status` field in KiB (`VmHWM:`, `VmRSS:`).
fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux).
fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// `p` in 0..=1 of sorted values (nearest rank).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// CPU of the focus and Prosody at one moment.
#[derive(Clone, Copy)]
struct Cpu {
    at: Instant,
    focus: f64,
    prosody: f64,
    focus_sched: f64,
    prosody_sched: f64,
    /// This process: the load generator and the bridge emulator.
    us: f64,
}

struct Storm {
    poll: Poll,
    clients: Vec<Client>,
    buf: Vec<u8>,
}

impl Storm {
    /// Polls once (at most 20 ms) and serves every ready socket.
    fn turn(&mut self, events: &mut Events) {
        if let Err(e) = self.poll.poll(events, Some(Duration::from_millis(20))) {
            assert!(e.kind() == ErrorKind::Interrupted, "poll: {e}");
        }
        let now = Instant::now();
        for ev in events.iter() {
            let c = &mut self.clients[ev.token().0];
            if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                c.on_ready(&mut self.buf, now);
            }
            if ev.is_writable() {
                c.flush();
            }
        }
        for c in &mut self.clients {
            if let Err(e) = c.conn.handle_timeout(now) {
                c.logic.fail(format!("stream timeout: {e}"));
            }
            c.flush();
        }
    }

    fn count(&self, f: impl Fn(&Logic) -> bool) -> usize {
        self.clients.iter().filter(|c| f(&c.logic)).count()
    }

    /// Panics with the first failure, naming the participant.
    fn check(&self, phase: &str) {
        for c in &self.clients {
            let l = &c.logic;
            if let Some(why) = &l.failure {
                panic!("{phase}: participant {} in {}: {why}", l.nick, l.room);
            }
            if c.closed {
                panic!(
                    "{phase}: participant {}: the server closed the stream",
                    l.nick
                );
            }
        }
    }
}

fn main() {
    let rooms: usize = std::env::var("JOIN_STORM_ROOMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ROOMS);
    let n = rooms * PER_ROOM;
    let ticks = clock_ticks();

    // Prosody at info, as deployed: debug logging would inflate the baseline.
    let mut opts = ProsodyOpts::default().user(JVB_USER, AUTH_DOMAIN, JVB_PASSWORD);
    opts.log_level = "info".into();
    let p = Prosody::start(opts);
    let prosody_pid = p.pid().expect("prosody runs");
    let bridge = Bridge::colibri2(&p, BREWERY, "jvb1", BridgeOpts::default());
    bridge.wait_ready(Duration::from_secs(10));
    let mut args = Focus::standard_args(&p);
    args.push(format!("-Dorg.jitsi.jicofo.BRIDGE_MUC={BREWERY}"));
    let mut focus = Focus::spawn_with(&p, &args, &[("RUST_LOG", "info")]);
    assert!(
        focus.wait_log("is up as focus@", Duration::from_secs(10)),
        "the focus did not come up:\n{}",
        focus.log_text()
    );
    bridge.wait_for("the focus in the brewery", Duration::from_secs(10), |s| {
        s.brewery_occupants
            .iter()
            .any(|n| n == "focus")
            .then_some(())
    });
    let focus_pid = focus.pid();

    // --- logins (not measured) ---------------------------------------------
    let ca = std::fs::read(p.ca_file()).expect("read the test CA");
    let tls = client_config(RootChoice::CaPem(ca)).expect("TLS config");
    let addr: SocketAddr = format!("127.0.0.1:{}", p.c2s_port)
        .parse()
        .expect("address");
    let mut storm = Storm {
        poll: Poll::new().expect("mio poll"),
        clients: Vec::with_capacity(n),
        buf: vec![0; 65536],
    };
    let mut events = Events::with_capacity(1024);
    let login_start = Instant::now();
    while storm.count(|l| l.phase != Phase::LoggingIn) < n {
        let in_flight = storm.count(|l| l.phase == Phase::LoggingIn);
        for _ in in_flight..LOGIN_WINDOW {
            let i = storm.clients.len();
            if i == n {
                break;
            }
            let std_sock = std::net::TcpStream::connect(addr).expect("connect to Prosody");
            std_sock.set_nodelay(true).expect("nodelay");
            std_sock.set_nonblocking(true).expect("non-blocking");
            let mut sock = TcpStream::from_std(std_sock);
            storm
                .poll
                .registry()
                .register(&mut sock, Token(i), Interest::READABLE | Interest::WRITABLE)
                .expect("register");
            let mut conn = ClientConn::new(ClientOptions {
                domain: DOMAIN.into(),
                username: String::new(),
                password: None::<Secret>,
                resource: Some(format!("storm{i}")),
                tls: tls.clone(),
                allow_plaintext: false,
                max_stanza: 1 << 20,
                keepalive: KeepAliveConfig {
                    interval: None,
                    timeout: Duration::from_secs(5),
                    threshold: 3,
                },
            });
            conn.start(Instant::now(), &format!("stormnonce{i:08}"));
            let mut c = Client {
                conn,
                sock,
                logic: Logic {
                    index: i,
                    room: format!("storm{}@{MUC_DOMAIN}", i / PER_ROOM),
                    nick: format!("u{i}"),
                    phase: Phase::LoggingIn,
                    iq_sent: None,
                    offer_at: None,
                    later_jingle: 0,
                    known: BTreeSet::new(),
                    failure: None,
                },
                closed: false,
            };
            c.flush();
            storm.clients.push(c);
        }
        storm.turn(&mut events);
        storm.check("login");
        assert!(
            login_start.elapsed() < LOGIN_BOUND,
            "only {} of {n} participants logged in within {LOGIN_BOUND:?}",
            storm.count(|l| l.phase != Phase::LoggingIn)
        );
    }
    let login_time = login_start.elapsed();

    // --- the storm ---------------------------------------------------------
    let sample = || Cpu {
        at: Instant::now(),
        focus: cpu_seconds(focus_pid, ticks),
        prosody: cpu_seconds(prosody_pid, ticks),
        focus_sched: sched_seconds(focus_pid),
        prosody_sched: sched_seconds(prosody_pid),
        us: cpu_seconds(std::process::id(), ticks),
    };
    let before = sample();
    for c in &mut storm.clients {
        let l = &mut c.logic;
        let iq = format!(
            "<iq type='set' id='conf{}' to='{FOCUS_COMPONENT}'>{}</iq>",
            l.index,
            conference_request(&l.room, &format!("storm-machine-{}", l.index))
        );
        l.iq_sent = Some(Instant::now());
        l.phase = Phase::AwaitReady;
        c.send(iq.as_bytes());
    }
    let mut on_bridge = 0;
    let mut last_bridge_check = Instant::now();
    loop {
        storm.turn(&mut events);
        storm.check("storm");
        let accepted = storm.count(|l| l.phase == Phase::Accepted);
        let informed = storm.count(|l| l.known.len() == PER_ROOM - 1);
        if accepted == n
            && informed == n
            && last_bridge_check.elapsed() >= Duration::from_millis(20)
        {
            last_bridge_check = Instant::now();
            on_bridge = bridge
                .state()
                .conferences
                .values()
                .flat_map(|c| c.endpoints.values())
                .filter(|e| e.remote_transport.is_some() && e.sources.sources.len() == 7)
                .count();
            if on_bridge == n {
                break;
            }
        }
        assert!(
            before.at.elapsed() < STORM_BOUND,
            "storm not over within {STORM_BOUND:?}: {} ready, {} offered, {accepted} accepted, \
             {informed} told every other's sources, {on_bridge} complete on the bridge, of {n}",
            storm.count(|l| l.phase as u8 >= Phase::AwaitOffer as u8),
            storm.count(|l| l.offer_at.is_some()),
        );
    }
    let after_storm = sample();
    let focus_hwm_storm = status_kib(focus_pid, "VmHWM:");

    // --- everyone leaves -------------------------------------------------------
    for c in &mut storm.clients {
        let mut out = Vec::new();
        muc::write_leave(&mut out, &c.logic.occupant());
        c.send(&out);
    }
    let expired = loop {
        storm.turn(&mut events);
        storm.check("leave");
        let st = bridge.state();
        if st.conferences.is_empty() {
            break st.expired_conferences.len();
        }
        drop(st);
        assert!(
            after_storm.at.elapsed() < LEAVE_BOUND,
            "conferences still on the bridge {LEAVE_BOUND:?} after everyone left: {:?}",
            bridge.endpoints().len()
        );
    };
    let after_leave = sample();
    let focus_hwm = status_kib(focus_pid, "VmHWM:");
    let prosody_hwm = status_kib(prosody_pid, "VmHWM:");
    assert!(focus.is_running(), "the focus died:\n{}", focus.log_text());
    let refused = bridge
        .requests()
        .iter()
        .filter(|r| r.answered_error())
        .count();
    let colibri = bridge
        .requests()
        .iter()
        .filter(|r| r.colibri2().is_some())
        .count();
    let later_jingle: usize = storm.clients.iter().map(|c| c.logic.later_jingle).sum();
    assert_eq!(refused, 0, "the bridge refused requests");
    assert_eq!(expired, rooms, "every conference expired on the bridge");
    for c in &mut storm.clients {
        c.conn.close(Instant::now());
        c.flush();
    }
    focus.sigterm();
    focus.wait_exit(Duration::from_secs(3));

    // --- report ------------------------------------------------------------
    let mut lat: Vec<f64> = storm
        .clients
        .iter()
        .map(|c| {
            let l = &c.logic;
            (l.offer_at.expect("offered") - l.iq_sent.expect("sent")).as_secs_f64() * 1000.0
        })
        .collect();
    lat.sort_by(f64::total_cmp);
    let (p50, p99, max) = (
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        lat[lat.len() - 1],
    );
    let storm_s = (after_storm.at - before.at).as_secs_f64();
    let f_storm = after_storm.focus - before.focus;
    let p_storm = after_storm.prosody - before.prosody;
    let f_leave = after_leave.focus - after_storm.focus;
    let p_leave = after_leave.prosody - after_storm.prosody;
    let us_storm = after_storm.us - before.us;
    let fs_storm = after_storm.focus_sched - before.focus_sched;
    let ps_storm = after_storm.prosody_sched - before.prosody_sched;
    let pct = |f: f64, p: f64| if p > 0.0 { 100.0 * f / p } else { f64::NAN };
    println!(
        "join storm: {n} participants in {rooms} rooms of {PER_ROOM}, through Prosody {} on \
         loopback, one emulated Colibri2 bridge",
        p.opts().log_level
    );
    println!(
        "  machine: {} cores, load average at the end {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "  logins (not measured)              {:>8.2} s",
        login_time.as_secs_f64()
    );
    println!(
        "  storm: first conference IQ -> all accepted, all sources known, bridge complete  \
         {storm_s:.2} s\n  ({colibri} Colibri2 requests over both phases, none refused; \
         {later_jingle} later Jingle IQs (source-add/-remove) acked)"
    );
    println!("                                     focus      Prosody   focus/Prosody");
    println!(
        "  CPU, join storm                 {f_storm:>8.2} s {p_storm:>8.2} s   {:>6.1} %   \
         (goal <= 10 %)",
        pct(f_storm, p_storm)
    );
    println!(
        "  same, main thread (schedstat)   {fs_storm:>8.3} s {ps_storm:>8.3} s   {:>6.1} %",
        pct(fs_storm, ps_storm)
    );
    println!("  CPU of this process (generator + bridge emulator), join storm: {us_storm:.2} s");
    println!(
        "  CPU, everyone leaves            {f_leave:>8.2} s {p_leave:>8.2} s   {:>6.1} %",
        pct(f_leave, p_leave)
    );
    println!(
        "  peak RSS                        {:>8.2} MiB {:>6.2} MiB  (focus after the storm: {:.2} MiB)",
        focus_hwm as f64 / 1024.0,
        prosody_hwm as f64 / 1024.0,
        focus_hwm_storm as f64 / 1024.0
    );
    println!(
        "  conference IQ -> session-initiate  p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms"
    );
    println!("metric join_storm_participants {n} count");
    println!("metric join_storm_rooms {rooms} count");
    println!("metric join_storm_duration_s {storm_s:.3} s");
    println!("metric join_storm_focus_cpu_s {f_storm:.3} s");
    println!("metric join_storm_prosody_cpu_s {p_storm:.3} s");
    println!(
        "metric join_storm_focus_vs_prosody_cpu {:.2} percent",
        pct(f_storm, p_storm)
    );
    println!("metric join_storm_focus_cpu_sched_s {fs_storm:.4} s");
    println!("metric join_storm_prosody_cpu_sched_s {ps_storm:.4} s");
    println!("metric join_storm_generator_and_bridge_cpu_s {us_storm:.3} s");
    println!("metric join_storm_leave_focus_cpu_s {f_leave:.3} s");
    println!("metric join_storm_leave_prosody_cpu_s {p_leave:.3} s");
    println!("metric join_storm_focus_peak_rss_kib {focus_hwm} KiB");
    println!("metric join_storm_prosody_peak_rss_kib {prosody_hwm} KiB");
    println!("metric join_storm_iq_to_initiate_p50_ms {p50:.2} ms");
    println!("metric join_storm_iq_to_initiate_p99_ms {p99:.2} ms");
    println!("metric join_storm_iq_to_initiate_max_ms {max:.2} ms");
}
