//! Throughput and memory of the conference core, measured sans-IO: the
//! bench drives [`Focus`] directly (no sockets, no Prosody) with the bytes a
//! MUC server and a client would send, framed and parsed as a real stream
//! is (`Framer` → `Parser` → `doc.root()` → `Focus::handle_stanza`).
//!
//! One *cycle* is the whole life of one room, seven stanzas in:
//!
//! 1. conference IQ on the component → the focus writes its MUC join;
//! 2. the focus's self-presence (owner, 110 + 201) → the focus asks for
//!    the owner form;
//! 3. the form → the focus submits `whois=anyone`;
//! 4. the submit's result → the focus answers the request `ready='true'`
//!    (it answers once the room is configured);
//! 5. one participant joins (a Jitsi Meet presence) → the focus grants owner;
//! 6. the grant's result;
//! 7. the participant leaves → the focus leaves the room, the conference ends.
//!
//! Each stanza is one read of the shell loop, so after each one the bench
//! does what `shell::run` does per wake-up: `handle_timeout(now)` and
//! `poll_timeout()`, then drains and clears both output buffers. The IQ
//! ids the script needs (owner form, submit, grant) are taken from the
//! focus's output with a byte search *inside* the timed region, and the
//! answer is assembled from a pre-built head and tail around that id, as a
//! peer would; every other input byte is built before the clock starts.
//!
//! Two orders, 10,000 rooms each: *sequential* (one room at a time: the
//! focus holds at most one conference) and *wave* (each step for all rooms
//! before the next step: up to 10,000 conferences live, which exposes any
//! per-wake-up work that grows with the number of conferences).
//!
//! Baseline, same run: the same bytes through the same framer and parser
//! (and the same answer assembly), without the focus. The ratio is the
//! focus logic's cost over parsing its input.
//!
//! Timings are this thread's CPU time (`/proc/thread-self/schedstat`), the
//! best of 7 runs with the baseline and the focus alternating. On a shared
//! machine runs still spread by a third: compare the ratios, or count
//! instructions with the profile mode below.
//!
//! Memory: 1,000 conferences, each with one occupant (steps 1–6), held at
//! once; live heap bytes from a counting global allocator and `VmRSS`
//! growth, per conference, against the size of the bare data they hold.
//!
//! Run with `cargo bench --bench conference`. With
//! `CONFERENCE_BENCH_PROFILE=1` it only drives the focus (sequential, 20
//! times over) for a profiler or an instruction counter such as
//! `valgrind --tool=cachegrind`, which is deaf to a busy machine;
//! `CONFERENCE_BENCH_PROFILE=parse` does the same for the baseline.

use std::hint::black_box;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use jicofo::conn::ConnId;
use jicofo::focus::{Conference, Focus, FocusConfig};
use jicofo::stanza::Jid;
use jicofo::stanza::muc::Occupant;
use jicofo::xml::{El, Frame, Framer, Parser, ns};
use memchr::memmem;

#[path = "common/alloc.rs"]
#[allow(dead_code)]
mod alloc;
use alloc::{ALLOCATED, ALLOCS, LIVE, cpu_ns};

/// Allocation calls, bytes requested, bytes live.
#[derive(Clone, Copy)]
struct AllocSnap {
    calls: usize,
    bytes: usize,
    live: usize,
}

fn snap() -> AllocSnap {
    AllocSnap {
        calls: ALLOCS.load(Relaxed),
        bytes: ALLOCATED.load(Relaxed),
        live: LIVE.load(Relaxed),
    }
}

/// `VmRSS` of this process, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------
// Input

const ROOMS: usize = 10_000;
const IDLE_ROOMS: usize = 1_000;
const REPS: usize = 7;
/// Stanzas fed per cycle.
const STEPS: usize = 7;
const STEP_NAMES: [&str; STEPS] = [
    "conference IQ",
    "self-presence",
    "owner form",
    "submit result",
    "participant join",
    "grant result",
    "participant leave",
];

const FOCUS_FULL: &str = "focus@auth.meet.test/focus";
const MUC: &str = "conference.meet.test";

const COMPONENT_HEADER: &[u8] = b"<stream:stream xmlns:stream='http://etherx.jabber.org/streams' \
    xmlns='jabber:component:accept' id='s1' from='focus.meet.test'>";
const CLIENT_HEADER: &[u8] = b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' id='c1' from='auth.meet.test' \
    version='1.0' xml:lang='en'>";

/// The room configuration form as Prosody sends it (with the Jitsi
/// meeting-id field), after the `id='…` of the result.
const FORM_TAIL: &str = "'><query xmlns='http://jabber.org/protocol/muc#owner'>\
<x xmlns='jabber:x:data' type='form'><title>Configuration for room</title>\
<instructions>Complete and submit this form to configure the room.</instructions>\
<field type='hidden' var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>\
<field type='fixed'><value>Room information</value></field>\
<field type='text-single' label='Title' var='muc#roomconfig_roomname'/>\
<field type='text-single' label='Description' var='muc#roomconfig_roomdesc'><value/></field>\
<field type='text-single' var='muc#roominfo_meetingId'><value>6d5a1e3c-2f4b-4e8a-9c1d-3b7f0a2e5d91</value></field>\
<field type='boolean' label='Persistent (room should remain even when it is not occupied)' var='muc#roomconfig_persistentroom'><value>0</value></field>\
<field type='boolean' label='Include room information in public lists' var='muc#roomconfig_publicroom'><value>1</value></field>\
<field type='fixed'><value>Access to the room</value></field>\
<field type='text-private' label='Password' var='muc#roomconfig_roomsecret'><value/></field>\
<field type='boolean' label='Only allow members to join' var='muc#roomconfig_membersonly'><value>0</value></field>\
<field type='fixed'><value>Permissions in the room</value></field>\
<field type='boolean' label='Allow anyone to set the room subject' var='muc#roomconfig_changesubject'><value>0</value></field>\
<field type='boolean' label='Moderated (require permission to speak)' var='muc#roomconfig_moderatedroom'><value>0</value></field>\
<field type='list-single' label='Addresses (JIDs) of room occupants may be viewed by:' var='muc#roomconfig_whois'>\
<option label='Moderators only'><value>moderators</value></option><option label='Anyone'><value>anyone</value></option>\
<value>moderators</value></field>\
<field type='list-single' label='Allow members to send private messages' var='muc#roomconfig_allowpm'>\
<option label='Everyone'><value>anyone</value></option><option label='Only participants'><value>participants</value></option>\
<option label='Only moderators'><value>moderators</value></option><option label='Nobody'><value>none</value></option>\
<value>anyone</value></field>\
<field type='text-single' label='Maximum number of history messages returned by room' var='muc#roomconfig_historylength'><value>20</value></field>\
<field type='list-single' label='Default number of history messages returned by room' var='muc#roomconfig_defaulthistorymessages'><value>20</value></field>\
</x></query></iq>";

/// The bytes a room's cycle is made of; IQ results are a head, the id the
/// focus chose, and a tail.
struct RoomInput {
    request: Vec<u8>,
    self_presence: Vec<u8>,
    /// `<iq type='result' from='room' to='focus' id='`.
    result_head: Vec<u8>,
    join: Vec<u8>,
    leave: Vec<u8>,
}

impl RoomInput {
    fn new(i: usize) -> RoomInput {
        let room = format!("room{i:05}@{MUC}");
        let nick = format!("{:08x}", (i as u32).wrapping_mul(2654435761));
        let user = format!("user{i:05}@meet.test/web-{nick}");
        let request = format!(
            "<iq type='set' id='conf-{i}' from='{user}' to='focus.meet.test' xml:lang='en'>\
             <conference xmlns='http://jitsi.org/protocol/focus' room='{room}' \
             machine-uid='5e2b7f0c6a914d38b1a0f3c9d2e4a617'>\
             <property name='rtcstatsEnabled' value='false'/>\
             <property name='visitors-version' value='1'/>\
             <property name='startAudioMuted' value='9'/>\
             <property name='startVideoMuted' value='9'/>\
             </conference></iq>"
        );
        let self_presence = format!(
            "<presence from='{room}/focus' to='{FOCUS_FULL}' id='j{i}'>\
             <versions xmlns='http://jitsi.org/jitmeet'><component name='focus'>0.1.0</component></versions>\
             <x xmlns='http://jabber.org/protocol/muc#user'>\
             <status code='201'/>\
             <item jid='{FOCUS_FULL}' affiliation='owner' role='moderator'/>\
             <status code='110'/></x></presence>"
        );
        let result_head = format!("<iq type='result' from='{room}' to='{FOCUS_FULL}' id='");
        let join = format!(
            "<presence from='{room}/{nick}' to='{FOCUS_FULL}' xml:lang='en'>\
             <stats-id>Lavern-Wq1</stats-id>\
             <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' \
             node='https://jitsi.org/jitsi-meet' ver='cvjWXufsg4xT62Ec2mlATkFZ9lk='/>\
             <jitsi_participant_codecList>av1,vp9,vp8,h264</jitsi_participant_codecList>\
             <SourceInfo>{{\"{nick}-a0\":{{\"muted\":true}},\"{nick}-v0\":{{\"muted\":false}}}}</SourceInfo>\
             <nick xmlns='http://jabber.org/protocol/nick'>Alice</nick>\
             <jitsi_participant_region>eu-central</jitsi_participant_region>\
             <features><feature var='https://jitsi.org/meet/e2ee'/></features>\
             <x xmlns='http://jabber.org/protocol/muc#user'>\
             <item jid='{user}' affiliation='none' role='participant'/></x></presence>"
        );
        let leave = format!(
            "<presence type='unavailable' from='{room}/{nick}' to='{FOCUS_FULL}'>\
             <x xmlns='http://jabber.org/protocol/muc#user'>\
             <item jid='{user}' affiliation='owner' role='none'/></x></presence>"
        );
        RoomInput {
            request: request.into_bytes(),
            self_presence: self_presence.into_bytes(),
            result_head: result_head.into_bytes(),
            join: join.into_bytes(),
            leave: leave.into_bytes(),
        }
    }
}

/// An IQ id the focus chose, kept without allocating.
#[derive(Clone, Copy, Default)]
struct Id {
    buf: [u8; 32],
    len: u8,
}

impl Id {
    fn set(&mut self, id: &[u8]) {
        assert!(id.len() <= 32, "IQ id longer than 32 bytes");
        self.buf[..id.len()].copy_from_slice(id);
        self.len = id.len() as u8;
    }
    fn get(&self) -> &[u8] {
        &self.buf[..self.len as usize]
    }
}

/// The id of the last `<iq` in `out`: a byte search, no parsing.
fn last_iq_id(out: &[u8]) -> &[u8] {
    let start = memmem::rfind(out, b"<iq ").expect("the focus wrote an IQ");
    let rest = &out[start..];
    let at = memmem::find(rest, b" id='").expect("the IQ has an id") + 5;
    let len = memchr::memchr(b'\'', &rest[at..]).expect("a quoted id");
    &rest[at..at + len]
}

// ---------------------------------------------------------------------------
// The two streams

/// Framer and parser of both streams, as the connections hold them.
struct Wire {
    framers: [Framer; 2],
    parser: Parser,
}

impl Wire {
    fn new() -> Wire {
        let mut framers = [Framer::new(65536), Framer::new(65536)];
        for (f, header) in framers.iter_mut().zip([COMPONENT_HEADER, CLIENT_HEADER]) {
            f.push(header);
            assert!(matches!(f.next_frame(), Ok(Some(Frame::StreamOpen(_)))));
        }
        Wire {
            framers,
            parser: Parser::new(),
        }
    }

    /// One read on `conn`: every complete stanza in it goes to `sink`.
    fn feed(&mut self, conn: ConnId, bytes: &[u8], mut sink: impl FnMut(El<'_>)) {
        let default_ns = match conn {
            ConnId::Component => ns::COMPONENT,
            ConnId::Client => ns::CLIENT,
        };
        let framer = &mut self.framers[conn as usize];
        framer.push(bytes);
        while let Some(frame) = framer.next_frame().expect("input frames") {
            if let Frame::Stanza(range) = frame {
                let doc = self
                    .parser
                    .parse(framer.bytes(range), default_ns)
                    .expect("input parses");
                sink(doc.root());
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The script

/// Where a step's stanza is fed, and what it is.
fn step_input<'a>(
    input: &'a RoomInput,
    k: usize,
    id: &Id,
    scratch: &'a mut Vec<u8>,
) -> (ConnId, &'a [u8]) {
    match k {
        0 => (ConnId::Component, &input.request),
        1 => (ConnId::Client, &input.self_presence),
        2 | 3 | 5 => {
            scratch.clear();
            scratch.extend_from_slice(&input.result_head);
            scratch.extend_from_slice(id.get());
            scratch.extend_from_slice(if k == 2 { FORM_TAIL.as_bytes() } else { b"'/>" });
            (ConnId::Client, scratch)
        }
        4 => (ConnId::Client, &input.join),
        6 => (ConnId::Client, &input.leave),
        _ => unreachable!(),
    }
}

/// Drives a focus (or, for the baseline, only the parser) through the script.
struct Driver {
    wire: Wire,
    inputs: Vec<RoomInput>,
    /// The id each room's next IQ result answers.
    ids: Vec<Id>,
    scratch: Vec<u8>,
    t0: Instant,
    ticks: u64,
    /// Assert on the focus's output (untimed runs only).
    check: bool,
    /// Allocation calls per step kind (filled when `check` is on).
    step_allocs: [usize; STEPS],
}

impl Driver {
    fn new(rooms: usize) -> Driver {
        Driver {
            wire: Wire::new(),
            inputs: (0..rooms).map(RoomInput::new).collect(),
            ids: vec![Id::default(); rooms],
            scratch: Vec::with_capacity(4096),
            t0: Instant::now(),
            ticks: 0,
            check: false,
            step_allocs: [0; STEPS],
        }
    }

    fn now(&mut self) -> Instant {
        self.ticks += 1;
        self.t0 + Duration::from_micros(self.ticks)
    }

    /// Step `k` of room `r`, fed to `focus`.
    fn step(&mut self, focus: &mut Focus, r: usize, k: usize) {
        let now = self.now();
        let before = if self.check { ALLOCS.load(Relaxed) } else { 0 };
        let (conn, bytes) = step_input(&self.inputs[r], k, &self.ids[r], &mut self.scratch);
        self.wire
            .feed(conn, bytes, |el| focus.handle_stanza(now, conn, el));
        // What the shell does on every wake-up.
        focus.handle_timeout(now);
        black_box(focus.poll_timeout());
        if matches!(k, 1 | 2 | 4) {
            let id = last_iq_id(focus.output(ConnId::Client));
            self.ids[r].set(id);
        }
        if self.check {
            self.step_allocs[k] += ALLOCS.load(Relaxed) - before;
            self.check_output(focus, r, k);
        }
        focus.output(ConnId::Component).clear();
        focus.output(ConnId::Client).clear();
    }

    fn check_output(&self, focus: &mut Focus, r: usize, k: usize) {
        let text = |f: &mut Focus, c| String::from_utf8(f.output(c).clone()).unwrap();
        let client = text(focus, ConnId::Client);
        let component = text(focus, ConnId::Component);
        let room = format!("room{r:05}@{MUC}");
        let want: &[(&str, &str)] = match k {
            0 => &[
                ("client", "<presence to='"),
                (
                    "client",
                    "/focus'><x xmlns='http://jabber.org/protocol/muc'/>",
                ),
            ],
            1 => &[(
                "client",
                "<query xmlns='http://jabber.org/protocol/muc#owner'/>",
            )],
            2 => &[("client", "muc#roomconfig_whois")],
            3 => &[("component", "ready='true'")],
            4 => &[
                ("client", "http://jabber.org/protocol/muc#admin"),
                ("client", "affiliation='owner'"),
            ],
            5 => &[],
            6 => &[("client", "type='unavailable'")],
            _ => unreachable!(),
        };
        for (which, needle) in want {
            let out = if *which == "client" {
                &client
            } else {
                &component
            };
            assert!(
                out.contains(needle) && out.contains(&room),
                "step {} of {room}: expected {needle} on {which}, got:\nclient: {client}\ncomponent: {component}",
                STEP_NAMES[k]
            );
        }
        // Nothing else goes out: no output where none is expected, and
        // the answer to the request only once.
        if k != 3 {
            assert!(component.is_empty(), "{component}");
        }
        if matches!(k, 3 | 5) {
            assert!(client.is_empty(), "{client}");
        }
        let live = focus.conference(&room).is_some();
        assert_eq!(live, k < 6, "after {} of {room}", STEP_NAMES[k]);
    }

    /// The baseline's step: the same bytes framed and parsed, no focus.
    fn parse_step(&mut self, r: usize, k: usize) {
        let before = if self.check { ALLOCS.load(Relaxed) } else { 0 };
        let (conn, bytes) = step_input(&self.inputs[r], k, &self.ids[r], &mut self.scratch);
        self.wire.feed(conn, bytes, |el| {
            black_box(el.name());
        });
        if self.check {
            self.step_allocs[k] += ALLOCS.load(Relaxed) - before;
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Order {
    /// One room's whole cycle, then the next room.
    Sequential,
    /// Each step for every room before the next step.
    Wave,
}

impl Order {
    fn name(self) -> &'static str {
        match self {
            Order::Sequential => "sequential",
            Order::Wave => "wave",
        }
    }

    fn for_each(
        self,
        rooms: usize,
        steps: std::ops::Range<usize>,
        mut f: impl FnMut(usize, usize),
    ) {
        match self {
            Order::Sequential => {
                for r in 0..rooms {
                    for k in steps.clone() {
                        f(r, k);
                    }
                }
            }
            Order::Wave => {
                for k in steps {
                    for r in 0..rooms {
                        f(r, k);
                    }
                }
            }
        }
    }
}

fn new_focus() -> Focus {
    let mut f = Focus::new(FocusConfig::for_tests(), None, [7; 32]);
    let now = Instant::now();
    f.handle_online(now, ConnId::Component, "focus.meet.test");
    f.handle_online(now, ConnId::Client, FOCUS_FULL);
    f
}

struct Timing {
    /// CPU seconds of this thread (wall seconds where schedstat is missing).
    cpu: f64,
    wall: f64,
    allocs: usize,
    bytes: usize,
}

/// Runs `f` once: its CPU and wall time, and the allocations it made.
fn measure(f: impl FnOnce()) -> Timing {
    let cpu0 = cpu_ns();
    let wall0 = Instant::now();
    let a = snap();
    f();
    let b = snap();
    let wall = wall0.elapsed().as_secs_f64();
    let cpu = match (cpu0, cpu_ns()) {
        (Some(x), Some(y)) => (y - x) as f64 / 1e9,
        _ => wall,
    };
    Timing {
        cpu,
        wall,
        allocs: b.calls - a.calls,
        bytes: b.bytes - a.bytes,
    }
}

/// The run with the least CPU time: contention from other processes only
/// ever adds time (cache and core sharing), so the minimum is the
/// estimate least disturbed by a shared machine.
fn best(v: Vec<Timing>) -> Timing {
    v.into_iter()
        .min_by(|a, b| a.cpu.total_cmp(&b.cpu))
        .expect("at least one run")
}

/// Untimed run with checks: correctness, warm-up, the ids for the
/// baseline, and allocations per step kind.
fn checked_run(d: &mut Driver, order: Order) -> [usize; STEPS] {
    let mut focus = new_focus();
    d.check = true;
    d.step_allocs = [0; STEPS];
    order.for_each(ROOMS, 0..STEPS, |r, k| d.step(&mut focus, r, k));
    d.check = false;
    assert_eq!(focus.conference_count(), 0, "every conference ended");
    d.step_allocs
}

/// Allocations per step kind of parsing alone, after a `checked_run` in
/// the same order (which left the ids in place).
fn checked_parse(d: &mut Driver, order: Order) -> [usize; STEPS] {
    d.check = true;
    d.step_allocs = [0; STEPS];
    order.for_each(ROOMS, 0..STEPS, |r, k| d.parse_step(r, k));
    d.check = false;
    d.step_allocs
}

/// The baseline and the focus over the same script, alternating run by
/// run so that both see the same machine.
fn timed(d: &mut Driver, order: Order) -> (Timing, Timing) {
    let (mut base, mut focus) = (Vec::new(), Vec::new());
    for _ in 0..REPS {
        base.push(measure(|| {
            order.for_each(ROOMS, 0..STEPS, |r, k| d.parse_step(r, k))
        }));
        let mut f = new_focus();
        focus.push(measure(|| {
            order.for_each(ROOMS, 0..STEPS, |r, k| d.step(&mut f, r, k))
        }));
        assert_eq!(f.conference_count(), 0);
    }
    (best(base), best(focus))
}

// ---------------------------------------------------------------------------
// Memory

struct Memory {
    heap_per_conf: f64,
    rss_growth_kib: i64,
    residual_after_teardown: i64,
    bare_per_conf: f64,
}

/// Bytes of text an idle conference with one occupant must remember at the
/// least: the room's JID, the occupant's JIDs and the values it sent.
fn bare_data(c: &Conference) -> usize {
    let o: &Occupant = &c.members()[0];
    let s = |v: &Option<Box<str>>| v.as_deref().map_or(0, str::len);
    c.room().as_str().len()
        + c.meeting_id().map_or(0, str::len)
        + o.occupant_jid.as_str().len()
        + o.real_jid.as_ref().map_or(0, |j| j.as_str().len())
        + s(&o.region)
        + s(&o.stats_id)
        + s(&o.display_name)
        + s(&o.status_text)
        + s(&o.video_codecs)
        + o.caps.as_ref().map_or(0, |c| {
            c.node().len() + c.ver().len() + c.hash().map_or(0, str::len)
        })
        + o.features.iter().map(|f| f.len()).sum::<usize>()
}

fn memory() -> Memory {
    let mut d = Driver::new(IDLE_ROOMS + 1);
    let mut focus = new_focus();
    // Warm up on the last room so buffers that live as long as the focus
    // (output, parser, framers, tracker tables) have their working size.
    for k in 0..STEPS {
        d.step(&mut focus, IDLE_ROOMS, k);
    }
    let heap0 = snap().live as i64;
    let rss0 = rss_kib() as i64;
    Order::Wave.for_each(IDLE_ROOMS, 0..6, |r, k| d.step(&mut focus, r, k));
    let heap1 = snap().live as i64;
    let rss1 = rss_kib() as i64;
    assert_eq!(focus.conference_count(), IDLE_ROOMS);
    let bare: usize = (0..IDLE_ROOMS)
        .map(|r| bare_data(focus.conference(&format!("room{r:05}@{MUC}")).unwrap()))
        .sum();
    Order::Wave.for_each(IDLE_ROOMS, 6..7, |r, k| d.step(&mut focus, r, k));
    assert_eq!(focus.conference_count(), 0);
    let residual = snap().live as i64 - heap0;
    Memory {
        heap_per_conf: (heap1 - heap0) as f64 / IDLE_ROOMS as f64,
        rss_growth_kib: rss1 - rss0,
        residual_after_teardown: residual,
        bare_per_conf: bare as f64 / IDLE_ROOMS as f64,
    }
}

// ---------------------------------------------------------------------------

fn main() {
    // `cargo bench` passes `--bench`; nothing to filter here.

    // Memory first, while the heap has no holes from the throughput runs
    // (freed pages would hide the RSS growth).
    let m = memory();

    let mut d = Driver::new(ROOMS);
    if let Some(what) = std::env::var_os("CONFERENCE_BENCH_PROFILE") {
        // For a profiler or an instruction counter: one thing, sequential
        // order, 20 times over (after one checked run for the ids).
        checked_run(&mut d, Order::Sequential);
        for _ in 0..20 {
            if what == "parse" {
                Order::Sequential.for_each(ROOMS, 0..STEPS, |r, k| d.parse_step(r, k));
            } else {
                let mut f = new_focus();
                Order::Sequential.for_each(ROOMS, 0..STEPS, |r, k| d.step(&mut f, r, k));
            }
        }
        return;
    }
    let steps = (ROOMS * STEPS) as f64;
    let cycles = ROOMS as f64;
    println!("conference core, sans-IO: {ROOMS} rooms x {STEPS} stanzas, best of {REPS} runs");
    println!("  (rates from this thread's CPU time; wall time per stanza beside them)");
    println!(
        "  {:<32} {:>9} {:>10} {:>9} {:>9} {:>8} {:>8} {:>6}",
        "", "cycles/s", "stanzas/s", "ns/stanza", "wall ns", "allocs/", "bytes/", "ratio"
    );
    println!(
        "  {:<32} {:>9} {:>10} {:>9} {:>9} {:>8} {:>8} {:>6}",
        "", "(cpu)", "(cpu)", "(cpu)", "", "cycle", "cycle", ""
    );
    let mut metrics = Vec::new();
    let mut step_table = Vec::new();
    for order in [Order::Sequential, Order::Wave] {
        step_table.push((
            format!("{} focus", order.name()),
            checked_run(&mut d, order),
        ));
        if order == Order::Sequential {
            step_table.insert(0, ("parse only".to_string(), checked_parse(&mut d, order)));
        }
        let (base, focus) = timed(&mut d, order);
        for (what, t) in [("parse only (baseline)", &base), ("focus", &focus)] {
            println!(
                "  {:<32} {:>9.0} {:>10.0} {:>9.0} {:>9.0} {:>8.2} {:>8.0} {:>6.2}",
                format!("{} {}", order.name(), what),
                cycles / t.cpu,
                steps / t.cpu,
                t.cpu * 1e9 / steps,
                t.wall * 1e9 / steps,
                t.allocs as f64 / cycles,
                t.bytes as f64 / cycles,
                t.cpu / base.cpu,
            );
        }
        let o = order.name();
        let mut metric = |name: &str, value: f64, unit: &str| {
            metrics.push(format!("metric conference_{o}_{name} {value:.2} {unit}"))
        };
        metric("requests_per_s", cycles / focus.cpu, "1/s");
        metric("stanzas_per_s", steps / focus.cpu, "1/s");
        metric("ns_per_stanza", focus.cpu * 1e9 / steps, "ns");
        metric("allocs_per_request", focus.allocs as f64 / cycles, "allocs");
        metric("bytes_per_request", focus.bytes as f64 / cycles, "bytes");
        metric("parse_ns_per_stanza", base.cpu * 1e9 / steps, "ns");
        metric(
            "parse_allocs_per_request",
            base.allocs as f64 / cycles,
            "allocs",
        );
        metric("ratio_over_parse", focus.cpu / base.cpu, "x");
    }
    println!("  goal: >= 20000 conference requests (whole cycles) per second on one core");
    println!("  allocation calls per cycle, by stanza (untimed checked run, parse included):");
    print!("    {:<18}", "");
    for (what, _) in &step_table {
        print!(" {what:>16}");
    }
    println!();
    for (k, name) in STEP_NAMES.iter().enumerate() {
        print!("    {name:<18}");
        for (_, counts) in &step_table {
            print!(" {:>16.2}", counts[k] as f64 / cycles);
        }
        println!();
    }

    let rss_per_conf = m.rss_growth_kib as f64 * 1024.0 / IDLE_ROOMS as f64;
    println!("idle conferences: {IDLE_ROOMS} held at once, one occupant each");
    println!(
        "  heap per conference          {:>8.0} bytes   (goal <= 4096)",
        m.heap_per_conf
    );
    println!(
        "  RSS growth per conference    {rss_per_conf:>8.0} bytes   ({} KiB in all)",
        m.rss_growth_kib
    );
    println!(
        "  bare data per conference     {:>8.0} bytes   (room, meeting id, occupant JIDs and values; heap/bare {:.1})",
        m.bare_per_conf,
        m.heap_per_conf / m.bare_per_conf
    );
    println!(
        "  struct sizes                 Conference {} B, Occupant {} B, Jid {} B",
        std::mem::size_of::<Conference>(),
        std::mem::size_of::<Occupant>(),
        std::mem::size_of::<Jid>()
    );
    println!(
        "  heap left after all ended    {:>8} bytes   (tables keep their capacity)",
        m.residual_after_teardown
    );
    for line in metrics {
        println!("{line}");
    }
    println!(
        "metric idle_conference_heap_bytes {:.0} bytes",
        m.heap_per_conf
    );
    println!("metric idle_conference_rss_bytes {rss_per_conf:.0} bytes");
    println!(
        "metric idle_conference_bare_bytes {:.0} bytes",
        m.bare_per_conf
    );
    println!(
        "metric conference_struct_bytes {} bytes",
        std::mem::size_of::<Conference>()
    );
    println!(
        "metric occupant_struct_bytes {} bytes",
        std::mem::size_of::<Occupant>()
    );
}
