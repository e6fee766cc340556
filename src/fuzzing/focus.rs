//! The application core ([`Focus`]) fed a script of stanzas on both streams.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::split_script;
use crate::conn::ConnId;
use crate::focus::auth::DEFAULT_LIFETIME;
use crate::focus::{AuthConfig, Focus, FocusConfig, FocusEvent};
use crate::stanza::focus::{ConferenceRequest, is_conference_request};
use crate::stanza::{Iq, IqType, Stanza};
use crate::xml::framer::DEFAULT_MAX_FRAME;
use crate::xml::{El, Frame, Framer, Parser, ns};

/// The stream header the payload is framed after.
const STREAM_OPEN: &[u8] =
    b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
/// The component's JID in [`FocusConfig::for_tests`].
const COMPONENT: &str = "focus.meet.test";
/// Our full JID on the client stream.
const FOCUS_FULL: &str = "focus@auth.meet.test/focus";
/// How many of the focus's most recent IQ ids a frame can quote.
const RECENT_IDS: usize = 10;
/// Session lifetimes a script can pick for the auth authority.
const LIFETIMES: [Duration; 4] = [
    DEFAULT_LIFETIME,
    Duration::from_secs(60),
    Duration::from_secs(1),
    Duration::from_secs(15),
];

/// The focus survives any script of stanzas, stream changes and clock
/// jumps, and keeps its books straight:
///
/// * everything it writes frames and parses back as stanzas its own parser
///   reads; every result or error IQ it writes answers a request it was
///   given on that stream, addressed back to the sender, at most once per
///   request; while the client stream is down nothing but answers is
///   written for it (the core drops it: a lost join or MUC request would
///   leave a conference stuck), unless a stanza just arrived on it;
/// * after `handle_timeout(now)` no deadline is left at or before `now`;
/// * `conference_count()` is the number of requested rooms with a
///   conference, none of them stopped, `participant_count()` the sum of
///   their members (unique nicks, never the focus's own);
/// * in graceful shutdown no conference is created, `ShutdownComplete`
///   comes only with no conference left and has come once none is left;
///   after `shutdown()` there is no conference.
///
/// Script byte 0 sets up: bit 0 the XMPP auth authority (domain
/// `meet.test`; bits 5-6 its session lifetime, bit 7 no auto-login); bit 1
/// disables auto-owner; bit 2 removes the graceful-shutdown JID
/// (`admin@meet.test`); bit 3 sets `client_proxy` to `proxy.meet.test`;
/// bit 4 trusts `recorder.meet.test` and `sip.meet.test`. Both streams are
/// online at the start. The other script bytes are operations (low 3 bits)
/// with a parameter (high 5 bits): deliver 1 to 8 frames, deliver one frame
/// on a chosen stream, jump the clock and fire late, fire the next deadline
/// exactly, stream online, stream offline, shutdown or let time pass,
/// a spurious timeout. The rest of the frames are delivered at the end,
/// followed by the deadlines.
///
/// The payload is framed as a stream (the crate's [`Framer`] after a
/// stream header); each stanza goes to the component when addressed to
/// `focus.meet.test`, else to the client stream, parsed in that stream's
/// namespace. `{id0}` to `{id9}` in a stanza stand for the ids of the
/// focus's latest IQ requests (most recent first), so a script can answer
/// them.
pub fn focus(data: &[u8]) {
    run_focus(data);
}

/// How far a run got, for the tests that keep the seeds meaningful.
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Debug, Default)]
pub(crate) struct FocusReport {
    /// Most conferences at once.
    pub conferences: usize,
    /// Most participants at once.
    pub participants: usize,
    /// IQ requests the focus sent.
    pub requests: usize,
    /// Answers the focus wrote to requests.
    pub answers: usize,
    /// Errors among them.
    pub errors: usize,
    /// `ShutdownComplete` came.
    pub shutdown_complete: bool,
}

pub(crate) fn run_focus(data: &[u8]) -> FocusReport {
    let (script, payload) = split_script(data);
    let setup = script.first().copied().unwrap_or(0);
    let mut cfg = FocusConfig::for_tests();
    cfg.enable_auto_owner = setup & 2 == 0;
    cfg.shutdown_allowed_jid = (setup & 4 == 0).then(|| "admin@meet.test".into());
    cfg.client_proxy = (setup & 8 != 0).then(|| "proxy.meet.test".into());
    if setup & 16 != 0 {
        cfg.trusted_domains = vec!["recorder.meet.test".into(), "sip.meet.test".into()];
    }
    let nick = cfg.nick.clone();
    let auth = (setup & 1 != 0).then(|| AuthConfig {
        domain: "meet.test".into(),
        lifetime: LIFETIMES[(setup >> 5) as usize & 3],
        disable_autologin: setup & 128 != 0,
    });
    let mut framer = Framer::new(DEFAULT_MAX_FRAME);
    framer.push(STREAM_OPEN);
    framer.push(payload);
    let now = Instant::now();
    let mut h = FocusHarness {
        focus: Focus::new(cfg, auth, [7; 32]),
        nick,
        now,
        framer,
        frames_over: false,
        parser: Parser::new(),
        online: [false, false],
        rooms: BTreeSet::new(),
        asked: HashMap::new(),
        recent: VecDeque::new(),
        graceful_count: None,
        report: FocusReport::default(),
    };
    h.set_online(ConnId::Component, true);
    h.set_online(ConnId::Client, true);
    for &op in script.iter().skip(1) {
        let arg = (op >> 3) as u64;
        match op & 7 {
            0 => {
                for _ in 0..=(arg % 8) {
                    h.deliver_next(None);
                }
            }
            1 => h.deliver_next(Some(ConnId::ALL[arg as usize & 1])),
            2 => {
                h.now += Duration::from_secs(arg * arg);
                h.timeout();
            }
            3 => {
                if let Some(at) = h.focus.poll_timeout() {
                    h.now = h.now.max(at);
                }
                h.timeout();
            }
            4 => h.set_online(ConnId::ALL[arg as usize & 1], true),
            5 => h.set_online(ConnId::ALL[arg as usize & 1], false),
            6 if arg & 1 == 0 => {
                h.focus.shutdown(h.now);
                h.check(None);
                assert_eq!(
                    h.focus.conference_count(),
                    0,
                    "a conference survived shutdown"
                );
            }
            6 => h.now += Duration::from_millis(100 * arg),
            _ => h.timeout(),
        }
    }
    while !h.frames_over {
        h.deliver_next(None);
    }
    for _ in 0..16 {
        let Some(at) = h.focus.poll_timeout() else {
            break;
        };
        h.now = h.now.max(at);
        h.timeout();
    }
    h.report
}

struct FocusHarness {
    focus: Focus,
    /// The focus's nick in rooms.
    nick: String,
    now: Instant,
    /// The payload, framed.
    framer: Framer,
    /// The payload has no more frames.
    frames_over: bool,
    parser: Parser,
    /// What the focus was told about the streams.
    online: [bool; 2],
    /// Canonical rooms of every conference request delivered.
    rooms: BTreeSet<String>,
    /// Requests delivered and not yet answered.
    asked: Asked,
    /// Ids of the focus's latest IQ requests, most recent first.
    recent: VecDeque<String>,
    /// Conferences at the last check in graceful shutdown.
    graceful_count: Option<usize>,
    report: FocusReport,
}

impl FocusHarness {
    fn set_online(&mut self, conn: ConnId, up: bool) {
        self.online[conn as usize] = up;
        if up {
            let jid = match conn {
                ConnId::Component => COMPONENT,
                ConnId::Client => FOCUS_FULL,
            };
            self.focus.handle_online(self.now, conn, jid);
        } else {
            self.focus.handle_offline(self.now, conn);
        }
        self.check(None);
    }

    fn timeout(&mut self) {
        self.focus.handle_timeout(self.now);
        self.check(None);
        if let Some(t) = self.focus.poll_timeout() {
            assert!(
                t > self.now,
                "a deadline {:?} in the past after handle_timeout",
                self.now - t
            );
        }
    }

    /// The next stanza of the payload, with `{idN}` replaced.
    fn next_frame(&mut self) -> Option<Vec<u8>> {
        while !self.frames_over {
            match self.framer.next_frame() {
                Ok(Some(Frame::Stanza(r))) => {
                    return Some(substitute(self.framer.bytes(r), &self.recent));
                }
                Ok(Some(Frame::StreamOpen(_) | Frame::Whitespace)) => {}
                Ok(Some(Frame::StreamClose) | None) | Err(_) => self.frames_over = true,
            }
        }
        None
    }

    /// Delivers the next stanza on `conn`, or where it is addressed.
    fn deliver_next(&mut self, conn: Option<ConnId>) {
        let Some(frame) = self.next_frame() else {
            return;
        };
        let conn = conn.unwrap_or_else(|| route(&mut self.parser, &frame));
        let Ok(doc) = self.parser.parse(&frame, stream_ns(conn)) else {
            return;
        };
        let el = doc.root();
        trace("->", conn, &frame);
        note_request(&mut self.asked, &mut self.rooms, conn, el);
        self.focus.handle_stanza(self.now, conn, el);
        self.check(Some(conn));
    }

    /// Checks what the focus wrote and its books, after one operation.
    /// `arrived` is the stream a stanza was just delivered on.
    fn check(&mut self, arrived: Option<ConnId>) {
        for conn in ConnId::ALL {
            let out = std::mem::take(self.focus.output(conn));
            if out.is_empty() {
                continue;
            }
            trace("<-", conn, &out);
            let down =
                conn == ConnId::Client && !self.online[conn as usize] && arrived != Some(conn);
            self.check_output(conn, &out, down);
        }
        while let Some(ev) = self.focus.poll_event() {
            assert_eq!(ev, FocusEvent::ShutdownComplete);
            assert!(self.focus.in_graceful_shutdown(), "{ev:?} without shutdown");
            assert_eq!(self.focus.conference_count(), 0, "{ev:?} too early");
            self.report.shutdown_complete = true;
        }
        let count = self.focus.conference_count();
        let mut live = 0;
        let mut members = 0;
        for room in &self.rooms {
            let Some(c) = self.focus.conference(room) else {
                continue;
            };
            live += 1;
            assert_eq!(c.room().as_str(), room);
            assert!(!c.is_stopped(), "{room} is stopped but kept");
            let nicks: BTreeSet<&str> = c.members().iter().map(|m| m.nick()).collect();
            assert_eq!(nicks.len(), c.members().len(), "{room}: a nick twice");
            assert!(
                !nicks.contains(self.nick.as_str()),
                "{room}: the focus is a member"
            );
            members += c.members().len();
        }
        assert_eq!(count, live, "conference_count() against the rooms");
        assert_eq!(self.focus.participant_count(), members);
        self.report.conferences = self.report.conferences.max(count);
        self.report.participants = self.report.participants.max(members);
        if self.focus.in_graceful_shutdown() {
            if let Some(before) = self.graceful_count {
                assert!(count <= before, "a conference created in graceful shutdown");
            }
            self.graceful_count = Some(count);
            assert!(
                count > 0 || self.report.shutdown_complete,
                "no ShutdownComplete"
            );
        }
    }

    /// `down`: the client stream is down, so the core drops what is written
    /// on it. Answers may be (their requester is gone with the stream), but
    /// a join or a request to the MUC would be lost and the conference stuck.
    fn check_output(&mut self, conn: ConnId, out: &[u8], down: bool) {
        let text = || String::from_utf8_lossy(out);
        let mut framer = Framer::new(1 << 24);
        framer.push(STREAM_OPEN);
        framer.push(out);
        let mut parser = Parser::new();
        loop {
            let r = match framer.next_frame() {
                Ok(Some(Frame::Stanza(r))) => r,
                Ok(Some(Frame::StreamOpen(_) | Frame::Whitespace)) => continue,
                Ok(Some(Frame::StreamClose)) => panic!("the focus closed the stream: {}", text()),
                Ok(None) => break,
                Err(e) => panic!("the output does not frame ({e}): {}", text()),
            };
            let bytes = framer.bytes(r);
            let doc = parser
                .parse(bytes, stream_ns(conn))
                .unwrap_or_else(|e| panic!("written stanza does not parse ({e}): {}", text()));
            let stanza = Stanza::parse(doc.root())
                .unwrap_or_else(|e| panic!("written stanza does not read ({e:?}): {}", text()));
            let answer = matches!(&stanza, Stanza::Iq(iq) if !iq.is_request());
            assert!(
                !down || answer,
                "written for the client stream while it is down: {}",
                String::from_utf8_lossy(bytes)
            );
            let Stanza::Iq(iq) = stanza else { continue };
            if iq.is_request() {
                self.recent.push_front(iq.id.to_string());
                self.recent.truncate(RECENT_IDS);
                self.report.requests += 1;
                continue;
            }
            self.report.answers += 1;
            self.report.errors += usize::from(iq.ty == IqType::Error);
            let key = (conn, iq.id.to_string(), iq.to.as_deref().map(str::to_owned));
            match self.asked.get_mut(&key) {
                Some(n) if *n > 0 => *n -= 1,
                _ => panic!(
                    "an answer to no request on {} (or a second one): {}",
                    conn.name(),
                    String::from_utf8_lossy(bytes)
                ),
            }
        }
        assert_eq!(
            framer.buffered(),
            0,
            "an unfinished stanza in the output: {}",
            text()
        );
    }
}

/// Requests delivered and not yet answered: (stream, id, sender) → count.
type Asked = HashMap<(ConnId, String, Option<String>), usize>;

/// Books a request the focus must answer, and the room it asks for.
fn note_request(asked: &mut Asked, rooms: &mut BTreeSet<String>, conn: ConnId, el: El<'_>) {
    if el.name() != "iq" || !matches!(el.attr_raw("type"), Some("get" | "set")) {
        return;
    }
    let Some(id) = el.attr("id") else { return };
    let from = el.attr("from").map(|f| f.into_owned());
    *asked.entry((conn, id.into_owned(), from)).or_default() += 1;
    if let Ok(iq) = Iq::parse(el)
        && is_conference_request(&iq)
        && let Some(p) = iq.payload
        && let Ok(req) = ConferenceRequest::parse(p)
        && let Ok(room) = req.room_jid()
    {
        rooms.insert(room.as_str().to_owned());
    }
}

/// With `FUZZ_TRACE` set, unit tests print the stanzas both ways (to see
/// what a seed or a crash input does).
fn trace(dir: &str, conn: ConnId, bytes: &[u8]) {
    if cfg!(test) && std::env::var_os("FUZZ_TRACE").is_some() {
        eprintln!("{dir} {} {}", conn.name(), String::from_utf8_lossy(bytes));
    }
}

fn stream_ns(conn: ConnId) -> &'static str {
    match conn {
        ConnId::Component => ns::COMPONENT,
        ConnId::Client => ns::CLIENT,
    }
}

/// The stream a stanza arrives on: the component's when it is addressed to
/// the component, else the client's.
fn route(parser: &mut Parser, frame: &[u8]) -> ConnId {
    let to_component = parser.parse(frame, ns::CLIENT).is_ok_and(|doc| {
        doc.root().attr("to").is_some_and(|to| {
            to.strip_prefix(COMPONENT)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    });
    if to_component {
        ConnId::Component
    } else {
        ConnId::Client
    }
}

/// Replaces `{id0}` … `{id9}` by the focus's recent IQ ids (when it sent
/// that many).
fn substitute(frame: &[u8], recent: &VecDeque<String>) -> Vec<u8> {
    let mut out = Vec::with_capacity(frame.len());
    let mut i = 0;
    while i < frame.len() {
        if let Some(tail) = frame.get(i..i + 5)
            && tail.starts_with(b"{id")
            && tail[3].is_ascii_digit()
            && tail[4] == b'}'
            && let Some(id) = recent.get((tail[3] - b'0') as usize)
        {
            out.extend_from_slice(id.as_bytes());
            i += 5;
            continue;
        }
        out.push(frame[i]);
        i += 1;
    }
    out
}
