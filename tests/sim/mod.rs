//! A scripted world for simulation tests of the conference logic: the
//! [`Focus`] driven directly (no sockets, no core), a fake clock, a fake MUC
//! that behaves like Prosody configured as `peers.md` says, and participants
//! that send conference IQs and join and leave rooms.
//!
//! Everything the world sends the focus goes through a queue; [`World::drive`]
//! delivers the queue, then reads the focus's output buffers stanza by
//! stanza (split with the crate's own [`Framer`], parsed with its own
//! [`Parser`], so every byte the focus writes must be well-formed XML) and
//! lets the MUC and the participants react, until nothing moves. It fails on
//! livelock after [`World::max_steps`] stanzas. Actions drive by themselves unless
//! run inside [`World::batch`], which lets a test line up several inputs
//! before the focus's output is looked at (races).
//!
//! The fake MUC, like Prosody with `restrict_room_creation`,
//! `muc_room_default_public_jids` and the focus as MUC admin:
//!
//! * answers the focus's join with the existing occupants' presences, then
//!   the self-presence (status 110, 201 when the join created the room,
//!   100 for a non-anonymous room) with affiliation `owner`; or, as a test
//!   chooses, refuses it, swallows it, holds it, or seats the focus without
//!   owner rights;
//! * answers the `muc#owner` form get with a form, the submit with a result;
//! * applies `muc#admin` affiliation changes (refusing full JIDs with
//!   `jid-malformed`, as Prosody does) and broadcasts the new affiliation;
//! * rewrites the ids of IQs routed through occupant JIDs, as Prosody does;
//! * deletes a room when its last occupant leaves (rooms are not persistent),
//!   but remembers affiliations, as Prosody keeps them for the server's life.

#![allow(dead_code)]

mod media;
pub use media::*;

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use jicofo::conn::ConnId;
use jicofo::focus::{AuthConfig, Focus, FocusConfig, FocusEvent, State};
use jicofo::xml::framer::DEFAULT_MAX_FRAME;
use jicofo::xml::{El, Frame, Framer, Parser, ns};

/// Most stanzas one [`World::drive`] may move before it is called a
/// livelock (the default of [`World::max_steps`]).
pub const MAX_STEPS: usize = 5_000;

/// The focus's full JID on the client stream.
pub const FOCUS_FULL: &str = "focus@auth.meet.test/focus";
/// The focus's bare JID (`focusjid`).
pub const FOCUS_BARE: &str = "focus@auth.meet.test";
/// The component.
pub const COMPONENT: &str = "focus.meet.test";
/// The MUC domain.
pub const MUC: &str = "conference.meet.test";

/// The namespace of the audio mute IQ.
pub const NS_AUDIO: &str = "http://jitsi.org/jitmeet/audio";

/// An owned element tree, for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Local name.
    pub name: String,
    /// Namespace.
    pub ns: String,
    /// Attributes (unescaped), namespace declarations left out.
    pub attrs: Vec<(String, String)>,
    /// Child elements.
    pub children: Vec<Node>,
    /// Direct text, unescaped.
    pub text: String,
}

impl Node {
    fn from_el(el: El<'_>) -> Node {
        Node {
            name: el.name().to_string(),
            ns: el.ns().to_string(),
            attrs: el
                .raw_attrs()
                .filter(|a| !a.name.starts_with("xmlns"))
                .map(|a| {
                    let v = el.attr(a.name).map(|v| v.into_owned()).unwrap_or_default();
                    (a.name.to_string(), v)
                })
                .collect(),
            children: el.children().map(Node::from_el).collect(),
            text: el.text().into_owned(),
        }
    }

    /// An attribute's value.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first child with this name and namespace.
    pub fn child(&self, name: &str, ns: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name && c.ns == ns)
    }

    /// Every descendant (and self) with this name, in document order.
    pub fn find_all<'a>(&'a self, name: &str, out: &mut Vec<&'a Node>) {
        if self.name == name {
            out.push(self);
        }
        for c in &self.children {
            c.find_all(name, out);
        }
    }

    /// True when this element or a descendant is named `name`.
    pub fn contains(&self, name: &str) -> bool {
        let mut v = Vec::new();
        self.find_all(name, &mut v);
        !v.is_empty()
    }

    /// The condition of an `<error/>` child (the stanzas-namespace element).
    pub fn error_condition(&self) -> Option<&str> {
        let e = self.children.iter().find(|c| c.name == "error")?;
        e.children
            .iter()
            .find(|c| c.ns == ns::STANZAS && c.name != "text")
            .map(|c| c.name.as_str())
    }

    /// The `type` of an `<error/>` child.
    pub fn error_type(&self) -> Option<&str> {
        self.children
            .iter()
            .find(|c| c.name == "error")?
            .attr("type")
    }

    /// `<status code/>` values of a `muc#user` `<x/>`.
    pub fn status_codes(&self) -> Vec<u16> {
        self.child("x", ns::MUC_USER)
            .map(|x| {
                x.children
                    .iter()
                    .filter(|c| c.name == "status")
                    .filter_map(|c| c.attr("code")?.parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The `muc#user` item.
    pub fn muc_item(&self) -> Option<&Node> {
        self.child("x", ns::MUC_USER)?.child("item", ns::MUC_USER)
    }
}

/// One stanza the focus wrote.
#[derive(Debug, Clone)]
pub struct Sent {
    /// When (since the start of the world).
    pub at: Duration,
    /// On which stream.
    pub conn: ConnId,
    /// As written.
    pub xml: String,
    /// Parsed.
    pub node: Node,
}

impl Sent {
    /// Shorthand for `node.attr`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.node.attr(name)
    }

    /// True for a presence with `type='unavailable'`.
    pub fn is_leave(&self) -> bool {
        self.node.name == "presence" && self.attr("type") == Some("unavailable")
    }

    /// True for a MUC join (`<x xmlns='…muc'/>` inside a presence).
    pub fn is_join(&self) -> bool {
        self.node.name == "presence"
            && self.attr("type").is_none()
            && self.node.child("x", ns::MUC).is_some()
    }

    /// True for a `muc#admin` owner grant.
    pub fn is_grant(&self) -> bool {
        self.node.name == "iq"
            && self.attr("type") == Some("set")
            && self.node.child("query", ns::MUC_ADMIN).is_some()
    }

    /// The `jid` of a grant's item.
    pub fn grant_jid(&self) -> Option<&str> {
        self.node
            .child("query", ns::MUC_ADMIN)?
            .child("item", ns::MUC_ADMIN)?
            .attr("jid")
    }
}

/// A stanza delivered to a participant (or to anyone who is not the focus).
#[derive(Debug, Clone)]
pub struct Delivered {
    /// The recipient's real full JID.
    pub to: String,
    /// Parsed.
    pub node: Node,
}

/// What the fake MUC does with the focus's join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinMode {
    /// Seat it as owner (the focus is a MUC admin).
    Accept,
    /// Refuse with this condition (`not-allowed` is Prosody's answer to a
    /// non-admin creating a room).
    Refuse(&'static str),
    /// Never answer.
    Silent,
    /// Keep it until [`World::release_joins`].
    Hold,
    /// Seat it with this affiliation instead of owner.
    Seat(&'static str),
}

#[derive(Debug, Clone)]
struct Occ {
    nick: String,
    real: String,
    affiliation: String,
    role: String,
    /// Presence extensions, as XML.
    extra: String,
}

#[derive(Debug, Default)]
struct Room {
    /// Occupants in join order, the focus included.
    occupants: Vec<Occ>,
}

/// The fake MUC service.
#[derive(Debug)]
pub struct Muc {
    rooms: BTreeMap<String, Room>,
    /// Affiliations by (room, bare JID); they outlive the rooms.
    affiliations: BTreeMap<(String, String), String>,
    /// What happens to the focus's next joins.
    pub join_mode: JoinMode,
    held: Vec<String>,
    /// When set, `muc#admin` changes are refused with this condition.
    pub grant_error: Option<&'static str>,
    /// The meeting id the owner form carries, if any.
    pub meeting_id: Option<String>,
    /// Forms the focus submitted, by room.
    pub submitted: Vec<(String, Node)>,
    /// Occupant-routed IQs in flight: rewritten id → (original id, original sender).
    rewritten: BTreeMap<String, (String, String)>,
    next_rewrite: u32,
    /// Participants that answer every conference answer with a new request
    /// (a client retrying without back-off), for the livelock self-test.
    pub echo_requests: bool,
}

impl Muc {
    fn new() -> Muc {
        Muc {
            rooms: BTreeMap::new(),
            affiliations: BTreeMap::new(),
            join_mode: JoinMode::Accept,
            held: Vec::new(),
            grant_error: None,
            meeting_id: None,
            submitted: Vec::new(),
            rewritten: BTreeMap::new(),
            next_rewrite: 0,
            echo_requests: false,
        }
    }

    /// True when the room exists.
    pub fn has_room(&self, room: &str) -> bool {
        self.rooms.contains_key(room)
    }

    /// True when the focus sits in the room.
    pub fn focus_in(&self, room: &str) -> bool {
        self.rooms
            .get(room)
            .is_some_and(|r| r.occupants.iter().any(|o| o.real == FOCUS_FULL))
    }

    /// Nicks in the room, in join order.
    pub fn nicks(&self, room: &str) -> Vec<String> {
        self.rooms
            .get(room)
            .map(|r| r.occupants.iter().map(|o| o.nick.clone()).collect())
            .unwrap_or_default()
    }

    /// The stored affiliation of a bare JID in a room.
    pub fn affiliation(&self, room: &str, bare: &str) -> Option<&str> {
        self.affiliations
            .get(&(room.to_string(), bare.to_string()))
            .map(|s| s.as_str())
    }

    /// Gives `bare` an affiliation in `room` (as an earlier session would have).
    pub fn set_affiliation(&mut self, room: &str, bare: &str, aff: &str) {
        self.affiliations
            .insert((room.to_string(), bare.to_string()), aff.to_string());
    }
}

fn bare(jid: &str) -> &str {
    jid.split_once('/').map_or(jid, |(b, _)| b)
}

fn role_for(affiliation: &str) -> &'static str {
    match affiliation {
        "owner" | "admin" => "moderator",
        _ => "participant",
    }
}

fn occupant_presence(room: &str, o: &Occ, to: &str, self_codes: &[u16]) -> String {
    let mut s = format!(
        "<presence from='{room}/{}' to='{to}'><x xmlns='{}'><item affiliation='{}' role='{}' jid='{}'/>",
        o.nick,
        ns::MUC_USER,
        o.affiliation,
        o.role,
        o.real
    );
    for c in self_codes {
        s.push_str(&format!("<status code='{c}'/>"));
    }
    s.push_str("</x>");
    s.push_str(&o.extra);
    s.push_str("</presence>");
    s
}

fn unavailable_presence(room: &str, o: &Occ, to: &str, codes: &[u16], inner: &str) -> String {
    let mut s = format!(
        "<presence type='unavailable' from='{room}/{}' to='{to}'><x xmlns='{}'><item affiliation='{}' role='none' jid='{}'/>",
        o.nick,
        ns::MUC_USER,
        o.affiliation,
        o.real
    );
    s.push_str(inner);
    for c in codes {
        s.push_str(&format!("<status code='{c}'/>"));
    }
    s.push_str("</x></presence>");
    s
}

/// The world.
pub struct World {
    /// The focus under test.
    pub focus: Focus,
    /// The start of time.
    pub t0: Instant,
    /// The fake clock.
    pub now: Instant,
    /// The fake MUC.
    pub muc: Muc,
    /// Everything the focus wrote on an online stream, in order.
    pub sent: Vec<Sent>,
    /// Bytes the focus wrote on a stream that was down (the core drops them).
    pub dropped: Vec<(ConnId, String)>,
    /// Stanzas delivered to participants.
    pub delivered: Vec<Delivered>,
    /// Everything, both ways, as text: the determinism transcript.
    pub transcript: Vec<String>,
    /// Events the focus raised.
    pub events: Vec<FocusEvent>,
    /// Bridges and participants' clients (`media.rs`).
    pub media: MediaSim,
    /// Most stanzas one [`World::drive`] may move (and most timer firings
    /// one [`World::advance_to`] may see) before it is called a livelock.
    pub max_steps: usize,
    to_focus: VecDeque<(ConnId, String)>,
    online: [bool; 2],
    next_id: u32,
    auto: bool,
    parser: Parser,
}

impl World {
    /// A focus with both streams online and an accepting MUC.
    pub fn new(cfg: FocusConfig, auth: Option<AuthConfig>, seed: [u8; 32]) -> World {
        let _ = env_logger::builder().is_test(true).try_init();
        let t0 = Instant::now();
        let mut focus = Focus::new(cfg, auth, seed);
        focus.handle_online(t0, ConnId::Component, COMPONENT);
        focus.handle_online(t0, ConnId::Client, FOCUS_FULL);
        World {
            focus,
            t0,
            now: t0,
            muc: Muc::new(),
            sent: Vec::new(),
            dropped: Vec::new(),
            delivered: Vec::new(),
            transcript: Vec::new(),
            events: Vec::new(),
            media: MediaSim::default(),
            max_steps: MAX_STEPS,
            to_focus: VecDeque::new(),
            online: [true, true],
            next_id: 0,
            auto: true,
            parser: Parser::new(),
        }
    }

    /// The default world: test config, no auth, seed 7.
    pub fn default_world() -> World {
        World::new(FocusConfig::for_tests(), None, [7; 32])
    }

    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.now - self.t0
    }

    /// A fresh IQ id for a stanza a test writes itself.
    pub fn id_for_test(&mut self) -> String {
        self.id("t")
    }

    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{}", self.next_id)
    }

    // ------------------------------------------------------------ driving

    /// Runs `f` without driving after each action, then drives once.
    pub fn batch(&mut self, f: impl FnOnce(&mut World)) {
        let auto = std::mem::replace(&mut self.auto, false);
        f(self);
        self.auto = auto;
        self.drive();
    }

    fn settle(&mut self) {
        if self.auto {
            self.drive();
        }
    }

    /// Delivers queued stanzas to the focus and lets the world react to
    /// what it writes, until nothing moves; panics after [`World::max_steps`].
    pub fn drive(&mut self) {
        let mut steps = 0usize;
        loop {
            let mut moved = false;
            while let Some((conn, xml)) = self.to_focus.pop_front() {
                moved = true;
                steps += 1;
                self.check_steps(steps);
                self.deliver(conn, &xml);
            }
            for conn in ConnId::ALL {
                let bytes = std::mem::take(self.focus.output(conn));
                if bytes.is_empty() {
                    continue;
                }
                moved = true;
                let text = String::from_utf8(bytes).expect("the focus writes UTF-8");
                if !self.online[conn as usize] {
                    self.dropped.push((conn, text));
                    continue;
                }
                for xml in split_stanzas(&text) {
                    steps += 1;
                    self.check_steps(steps);
                    self.on_focus_output(conn, &xml);
                }
            }
            while let Some(ev) = self.focus.poll_event() {
                self.events.push(ev);
            }
            if !moved {
                return;
            }
        }
    }

    fn check_steps(&self, steps: usize) {
        if steps > self.max_steps {
            let tail: Vec<&String> = self.transcript.iter().rev().take(6).collect();
            panic!(
                "livelock: more than {} stanzas in one drive; last: {tail:#?}",
                self.max_steps
            );
        }
    }

    fn deliver(&mut self, conn: ConnId, xml: &str) {
        self.transcript.push(format!("-> {} {xml}", conn.name()));
        let default_ns = match conn {
            ConnId::Component => ns::COMPONENT,
            ConnId::Client => ns::CLIENT,
        };
        let doc = self
            .parser
            .parse(xml.as_bytes(), default_ns)
            .unwrap_or_else(|e| panic!("bad test XML {xml}: {e}"));
        self.focus.handle_stanza(self.now, conn, doc.root());
    }

    /// Advances the clock by `d`, firing every timer due on the way at its
    /// exact deadline.
    pub fn advance(&mut self, d: Duration) {
        let target = self.now + d;
        self.advance_to(target);
    }

    /// Advances the clock to `target`, firing timers on the way.
    pub fn advance_to(&mut self, target: Instant) {
        let mut fired = 0;
        while let Some(t) = self.focus.poll_timeout() {
            if t > target {
                break;
            }
            fired += 1;
            assert!(
                fired < self.max_steps,
                "livelock: the timer at {:?} keeps firing",
                t - self.t0
            );
            self.now = self.now.max(t);
            self.focus.handle_timeout(self.now);
            self.drive();
        }
        self.now = self.now.max(target);
    }

    /// The next deadline, relative to the start.
    pub fn next_timer(&self) -> Option<Duration> {
        self.focus.poll_timeout().map(|t| t - self.t0)
    }

    /// The conference state of a room.
    pub fn state(&self, room: &str) -> Option<State> {
        self.focus.conference(room).map(|c| c.state())
    }

    /// Nicks of the conference's members, in join order.
    pub fn members(&self, room: &str) -> Vec<String> {
        self.focus
            .conference(room)
            .map(|c| c.members().iter().map(|m| m.nick().to_string()).collect())
            .unwrap_or_default()
    }

    // ------------------------------------------------------------ streams

    /// The client stream drops: the server removes the focus from every
    /// room (the participants see it leave) and the focus is told.
    pub fn client_offline(&mut self) {
        // Joins the MUC held back die with the session that sent them.
        self.muc.held.clear();
        let rooms: Vec<String> = self.muc.rooms.keys().cloned().collect();
        for room in rooms {
            self.remove_occupant(&room, FOCUS_FULL, &[], "", false);
        }
        self.online[ConnId::Client as usize] = false;
        self.focus.handle_offline(self.now, ConnId::Client);
        self.settle();
    }

    /// The client stream is back.
    pub fn client_online(&mut self) {
        self.online[ConnId::Client as usize] = true;
        self.focus
            .handle_online(self.now, ConnId::Client, FOCUS_FULL);
        self.settle();
    }

    // ---------------------------------------------------- participants

    /// A conference request from `from` (a real full JID) on the component;
    /// `extra` goes into the `<conference/>` start tag. Returns the IQ id.
    pub fn request_with(&mut self, from: &str, room: &str, extra: &str) -> String {
        let id = self.id("c");
        let xml = format!(
            "<iq type='set' id='{id}' from='{from}' to='{COMPONENT}'><conference xmlns='{}' room='{room}' {extra}><property name='startAudioMuted' value='9'/></conference></iq>",
            ns::FOCUS
        );
        self.to_focus.push_back((ConnId::Component, xml));
        self.settle();
        id
    }

    /// A conference request with a machine uid.
    pub fn request(&mut self, from: &str, room: &str) -> String {
        self.request_with(from, room, "machine-uid='m-1'")
    }

    /// Sends any IQ to the component; returns its id.
    pub fn component_iq(&mut self, from: &str, ty: &str, payload: &str) -> String {
        let id = self.id("q");
        let xml =
            format!("<iq type='{ty}' id='{id}' from='{from}' to='{COMPONENT}'>{payload}</iq>");
        self.to_focus.push_back((ConnId::Component, xml));
        self.settle();
        id
    }

    /// Any stanza, straight to the focus on `conn`.
    pub fn send_to_focus(&mut self, conn: ConnId, xml: &str) {
        self.to_focus.push_back((conn, xml.to_string()));
        self.settle();
    }

    /// The focus's answers (on either stream, addressed to anyone) to IQ `id`.
    pub fn answers(&self, id: &str) -> Vec<&Sent> {
        self.sent
            .iter()
            .filter(|s| {
                s.node.name == "iq"
                    && s.attr("id") == Some(id)
                    && matches!(s.attr("type"), Some("result" | "error"))
            })
            .collect()
    }

    /// The one answer to `id`; panics if there is none or more than one.
    pub fn answer(&self, id: &str) -> &Sent {
        let a = self.answers(id);
        assert_eq!(a.len(), 1, "answers to {id}: {a:#?}");
        a[0]
    }

    /// A participant joins a room that exists; `extra` are presence
    /// extensions. Returns false when the room does not exist (Prosody
    /// with `restrict_room_creation` refuses; the focus sees nothing).
    pub fn join_with(&mut self, room: &str, nick: &str, real: &str, extra: &str) -> bool {
        if !self.muc.rooms.contains_key(room) {
            return false;
        }
        let affiliation = self
            .muc
            .affiliation(room, bare(real))
            .unwrap_or("none")
            .to_string();
        let occ = Occ {
            nick: nick.to_string(),
            real: real.to_string(),
            role: role_for(&affiliation).to_string(),
            affiliation,
            extra: extra.to_string(),
        };
        self.seat(room, occ, &[]);
        self.settle();
        true
    }

    /// A participant joins; panics if the room does not exist.
    pub fn join(&mut self, room: &str, nick: &str, real: &str) {
        assert!(
            self.join_with(room, nick, real, ""),
            "{room} does not exist for {nick} to join"
        );
    }

    /// A participant leaves.
    pub fn leave(&mut self, room: &str, nick: &str) {
        let real = self
            .occupant(room, nick)
            .unwrap_or_else(|| panic!("{nick} is not in {room}"))
            .real;
        self.remove_occupant(room, &real, &[], "", true);
        self.settle();
    }

    /// A moderator kicks a participant (status 307).
    pub fn kick(&mut self, room: &str, nick: &str) {
        let real = self.occupant(room, nick).expect("occupant").real;
        self.remove_occupant(room, &real, &[307], "", true);
        self.settle();
    }

    /// The room is destroyed (by an admin): every occupant gets an
    /// unavailable presence with `<destroy/>`.
    pub fn destroy_room(&mut self, room: &str) {
        let Some(r) = self.muc.rooms.remove(room) else {
            return;
        };
        for o in &r.occupants {
            let inner = format!(
                "<destroy xmlns='{}'><reason>closed by an admin</reason></destroy>",
                ns::MUC_USER
            );
            let codes: &[u16] = if o.real == FOCUS_FULL { &[110] } else { &[] };
            let mut gone = o.clone();
            gone.affiliation = "none".into();
            let xml = unavailable_presence(room, &gone, &o.real, codes, &inner);
            self.send_to(&o.real, xml);
        }
        self.settle();
    }

    /// An admin kicks the focus.
    pub fn kick_focus(&mut self, room: &str) {
        self.remove_occupant(room, FOCUS_FULL, &[307], "", true);
        self.settle();
    }

    /// An admin takes the focus's owner rights away.
    pub fn demote_focus(&mut self, room: &str, affiliation: &str) {
        self.muc.set_affiliation(room, FOCUS_BARE, affiliation);
        self.set_occupant_affiliation(room, FOCUS_BARE, affiliation);
        self.settle();
    }

    /// Releases held joins (they are accepted).
    pub fn release_joins(&mut self) {
        let held = std::mem::take(&mut self.muc.held);
        for to in held {
            self.accept_join(&to, "owner");
        }
        self.settle();
    }

    /// A participant (occupant `nick` of `room`) sends a mute IQ to the
    /// focus's occupant JID. `jid_attr` is the whole `jid='…'` attribute
    /// (or empty). Returns the participant's id.
    pub fn mute(&mut self, room: &str, nick: &str, jid_attr: &str, text: &str) -> String {
        let real = self.occupant(room, nick).expect("muter in the room").real;
        let id = self.id("mu");
        let xml = format!(
            "<iq type='set' id='{id}' from='{real}' to='{room}/focus'><mute xmlns='{NS_AUDIO}' {jid_attr}>{text}</mute></iq>"
        );
        self.participant_to_occupant(&xml);
        self.settle();
        id
    }

    /// What participant `real` received, in order.
    pub fn inbox(&self, real: &str) -> Vec<&Node> {
        self.delivered
            .iter()
            .filter(|d| d.to == real)
            .map(|d| &d.node)
            .collect()
    }

    /// Every stanza the focus sent that has an element named `name` in it.
    pub fn sent_containing(&self, name: &str) -> Vec<&Sent> {
        self.sent.iter().filter(|s| s.node.contains(name)).collect()
    }

    /// Grants the focus sent, as (time, jid).
    pub fn grants(&self) -> Vec<String> {
        self.sent
            .iter()
            .filter(|s| s.is_grant())
            .map(|s| s.grant_jid().unwrap_or("").to_string())
            .collect()
    }

    /// Leaves the focus sent to `room`.
    pub fn leaves(&self, room: &str) -> Vec<&Sent> {
        let me = format!("{room}/focus");
        self.sent
            .iter()
            .filter(|s| s.is_leave() && s.attr("to") == Some(me.as_str()))
            .collect()
    }

    /// Joins the focus sent to `room`.
    pub fn joins(&self, room: &str) -> Vec<&Sent> {
        let me = format!("{room}/focus");
        self.sent
            .iter()
            .filter(|s| s.is_join() && s.attr("to") == Some(me.as_str()))
            .collect()
    }

    // ------------------------------------------------------- the MUC

    fn occupant(&self, room: &str, nick: &str) -> Option<Occ> {
        self.muc
            .rooms
            .get(room)?
            .occupants
            .iter()
            .find(|o| o.nick == nick)
            .cloned()
    }

    /// Queues a stanza for `to`: the focus, or a participant's inbox.
    fn send_to(&mut self, to: &str, xml: String) {
        if to == FOCUS_FULL {
            if self.online[ConnId::Client as usize] {
                self.to_focus.push_back((ConnId::Client, xml));
            }
            return;
        }
        self.transcript.push(format!("=> {to} {xml}"));
        let doc = self
            .parser
            .parse(xml.as_bytes(), ns::CLIENT)
            .unwrap_or_else(|e| panic!("bad world XML {xml}: {e}"));
        let node = Node::from_el(doc.root());
        self.participant_receives(to, &node);
        self.delivered.push(Delivered {
            to: to.to_string(),
            node,
        });
    }

    /// A participant's automatic reactions.
    fn participant_receives(&mut self, me: &str, node: &Node) {
        if self.bridge_receives(me, node) {
            return;
        }
        let request = node.name == "iq" && matches!(node.attr("type"), Some("get" | "set"));
        if request && self.client_iq(me, node) {
            return;
        }
        // Acknowledge other IQ requests (the focus's mute notifications).
        if request {
            let id = node.attr("id").unwrap_or("").to_string();
            let from = node.attr("from").unwrap_or("").to_string();
            let xml = format!("<iq type='result' id='{id}' from='{me}' to='{from}'/>");
            self.participant_to_occupant(&xml);
        }
        // A client that retries at once (livelock self-test).
        if self.muc.echo_requests
            && node.name == "iq"
            && node.child("conference", ns::FOCUS).is_some()
        {
            let room = node
                .child("conference", ns::FOCUS)
                .and_then(|c| c.attr("room"))
                .unwrap_or("")
                .to_string();
            let auto = std::mem::replace(&mut self.auto, false);
            self.request(me, &room);
            self.auto = auto;
        }
    }

    /// Seats an occupant and broadcasts its presence to everyone in the room.
    fn seat(&mut self, room: &str, occ: Occ, self_codes: &[u16]) {
        let r = self.muc.rooms.entry(room.to_string()).or_default();
        r.occupants.retain(|o| o.real != occ.real);
        r.occupants.push(occ.clone());
        let others: Vec<String> = r.occupants.iter().map(|o| o.real.clone()).collect();
        for to in others {
            let codes: &[u16] = if to == occ.real { self_codes } else { &[] };
            let xml = occupant_presence(room, &occ, &to, codes);
            self.send_to(&to, xml);
        }
    }

    /// Removes an occupant, tells everyone (itself included when
    /// `tell_self`), and deletes the room once empty.
    fn remove_occupant(
        &mut self,
        room: &str,
        real: &str,
        codes: &[u16],
        inner: &str,
        tell_self: bool,
    ) {
        let Some(r) = self.muc.rooms.get_mut(room) else {
            return;
        };
        let Some(i) = r.occupants.iter().position(|o| o.real == real) else {
            return;
        };
        let gone = r.occupants.remove(i);
        let mut to: Vec<String> = r.occupants.iter().map(|o| o.real.clone()).collect();
        if r.occupants.is_empty() {
            self.muc.rooms.remove(room);
        }
        if tell_self {
            to.push(gone.real.clone());
        }
        for t in to {
            let mut c = codes.to_vec();
            if t == gone.real {
                c.push(110);
            }
            let xml = unavailable_presence(room, &gone, &t, &c, inner);
            self.send_to(&t, xml);
        }
    }

    /// Changes the affiliation of every occupant with this bare JID and
    /// broadcasts their new presence.
    fn set_occupant_affiliation(&mut self, room: &str, bare_jid: &str, aff: &str) {
        let Some(r) = self.muc.rooms.get_mut(room) else {
            return;
        };
        let mut changed = Vec::new();
        for o in r.occupants.iter_mut().filter(|o| bare(&o.real) == bare_jid) {
            o.affiliation = aff.to_string();
            o.role = role_for(aff).to_string();
            changed.push(o.clone());
        }
        let all: Vec<String> = r.occupants.iter().map(|o| o.real.clone()).collect();
        for occ in changed {
            for to in &all {
                let codes: &[u16] = if *to == occ.real { &[110] } else { &[] };
                let xml = occupant_presence(room, &occ, to, codes);
                self.send_to(to, xml);
            }
        }
    }

    fn accept_join(&mut self, to: &str, affiliation: &str) {
        let room = bare(to).to_string();
        let created = !self.muc.rooms.contains_key(&room);
        // Existing occupants first, as Prosody sends them.
        let existing: Vec<Occ> = self
            .muc
            .rooms
            .get(&room)
            .map(|r| r.occupants.clone())
            .unwrap_or_default();
        for o in &existing {
            let xml = occupant_presence(&room, o, FOCUS_FULL, &[]);
            self.send_to(FOCUS_FULL, xml);
        }
        let nick = to.split_once('/').map(|(_, n)| n).unwrap_or("focus");
        let occ = Occ {
            nick: nick.to_string(),
            real: FOCUS_FULL.to_string(),
            affiliation: affiliation.to_string(),
            role: role_for(affiliation).to_string(),
            extra: String::new(),
        };
        let codes: &[u16] = if created {
            &[100, 110, 201]
        } else {
            &[100, 110]
        };
        self.seat(&room, occ, codes);
    }

    /// The MUC routes a participant's IQ to an occupant JID (the focus's):
    /// id rewritten, `from` set to the sender's occupant JID.
    fn participant_to_occupant(&mut self, xml: &str) {
        let doc = self.parser.parse(xml.as_bytes(), ns::CLIENT).expect("xml");
        let node = Node::from_el(doc.root());
        let real = node.attr("from").unwrap_or("").to_string();
        let to = node.attr("to").unwrap_or("").to_string();
        let room = bare(&to).to_string();
        let ty = node.attr("type").unwrap_or("").to_string();
        let Some(sender) = self
            .muc
            .rooms
            .get(&room)
            .and_then(|r| r.occupants.iter().find(|o| o.real == real))
            .cloned()
        else {
            return;
        };
        let Some(target) = self
            .muc
            .rooms
            .get(&room)
            .and_then(|r| {
                let nick = to.split_once('/').map(|(_, n)| n)?;
                r.occupants.iter().find(|o| o.nick == nick)
            })
            .cloned()
        else {
            return;
        };
        let id = node.attr("id").unwrap_or("").to_string();
        let out_id = if matches!(ty.as_str(), "get" | "set") {
            self.muc.next_rewrite += 1;
            let new = format!("muc{}", self.muc.next_rewrite);
            self.muc.rewritten.insert(new.clone(), (id, real.clone()));
            new
        } else {
            // An answer: back to the id the focus used.
            match self.muc.rewritten.remove(&id) {
                Some((orig, _)) => orig,
                None => id,
            }
        };
        let mut inner = String::new();
        for c in &node.children {
            inner.push_str(&node_xml(c, ns::CLIENT));
        }
        let rewritten = format!(
            "<iq type='{ty}' id='{out_id}' from='{room}/{}' to='{}'>{inner}</iq>",
            sender.nick, target.real
        );
        self.send_to(&target.real.clone(), rewritten);
    }

    /// The world's reaction to one stanza the focus wrote.
    fn on_focus_output(&mut self, conn: ConnId, xml: &str) {
        self.transcript.push(format!("<- {} {xml}", conn.name()));
        let default_ns = match conn {
            ConnId::Component => ns::COMPONENT,
            ConnId::Client => ns::CLIENT,
        };
        let node = {
            let doc = self
                .parser
                .parse(xml.as_bytes(), default_ns)
                .unwrap_or_else(|e| panic!("the focus wrote malformed XML {xml}: {e}"));
            Node::from_el(doc.root())
        };
        self.sent.push(Sent {
            at: self.elapsed(),
            conn,
            xml: xml.to_string(),
            node: node.clone(),
        });
        match conn {
            ConnId::Component => {
                // Answers to participants' requests: straight to their inbox.
                let to = node.attr("to").unwrap_or("").to_string();
                self.delivered.push(Delivered {
                    to: to.clone(),
                    node: node.clone(),
                });
                self.participant_receives(&to, &node);
            }
            ConnId::Client => self.muc_from_focus(&node),
        }
    }

    fn muc_from_focus(&mut self, node: &Node) {
        if self.server_iq(node) {
            return;
        }
        let to = node.attr("to").unwrap_or("").to_string();
        let room = bare(&to).to_string();
        match node.name.as_str() {
            "presence" => self.muc_presence(node, &to, &room),
            "iq" if to.contains('/') => self.muc_iq_to_occupant(node, &to, &room),
            "iq" => self.muc_iq_to_room(node, &room),
            _ => {}
        }
    }

    fn muc_presence(&mut self, node: &Node, to: &str, room: &str) {
        if node.attr("type") == Some("unavailable") {
            self.remove_occupant(room, FOCUS_FULL, &[], "", true);
            return;
        }
        if node.child("x", ns::MUC).is_none() {
            return; // a presence update: nothing for the simulation to do
        }
        if self.muc.focus_in(room) {
            return; // already seated: a repeat join is a presence update
        }
        match self.muc.join_mode.clone() {
            JoinMode::Accept => self.accept_join(to, "owner"),
            JoinMode::Seat(aff) => self.accept_join(to, aff),
            JoinMode::Silent => {}
            JoinMode::Hold => self.muc.held.push(to.to_string()),
            JoinMode::Refuse(cond) => {
                let xml = format!(
                    "<presence type='error' from='{to}' to='{FOCUS_FULL}'><error type='cancel'><{cond} xmlns='{}'/></error></presence>",
                    ns::STANZAS
                );
                self.send_to(FOCUS_FULL, xml);
            }
        }
    }

    fn iq_error(&mut self, node: &Node, from: &str, cond: &str) {
        let id = node.attr("id").unwrap_or("");
        let xml = format!(
            "<iq type='error' id='{id}' from='{from}' to='{FOCUS_FULL}'><error type='cancel'><{cond} xmlns='{}'/></error></iq>",
            ns::STANZAS
        );
        self.send_to(FOCUS_FULL, xml);
    }

    fn muc_iq_to_room(&mut self, node: &Node, room: &str) {
        let ty = node.attr("type").unwrap_or("");
        if !matches!(ty, "get" | "set") {
            return;
        }
        let id = node.attr("id").unwrap_or("").to_string();
        if !self.muc.rooms.contains_key(room) {
            return self.iq_error(node, room, "item-not-found");
        }
        let focus_owner = self.muc.rooms[room]
            .occupants
            .iter()
            .any(|o| o.real == FOCUS_FULL && o.affiliation == "owner");
        if let Some(q) = node.child("query", ns::MUC_OWNER) {
            if !focus_owner {
                return self.iq_error(node, room, "forbidden");
            }
            if ty == "get" {
                let meeting = self
                    .muc
                    .meeting_id
                    .as_ref()
                    .map(|m| {
                        format!(
                            "<field var='muc#roominfo_meetingId' type='text-single'><value>{m}</value></field>"
                        )
                    })
                    .unwrap_or_default();
                let xml = format!(
                    "<iq type='result' id='{id}' from='{room}' to='{FOCUS_FULL}'><query xmlns='{}'><x xmlns='jabber:x:data' type='form'>\
                     <field var='FORM_TYPE' type='hidden'><value>{}</value></field>\
                     <field var='muc#roomconfig_whois' type='list-single'><value>moderators</value></field>{meeting}</x></query></iq>",
                    ns::MUC_OWNER,
                    ns::MUC_ROOMCONFIG
                );
                self.send_to(FOCUS_FULL, xml);
            } else {
                self.muc.submitted.push((room.to_string(), q.clone()));
                let xml = format!("<iq type='result' id='{id}' from='{room}' to='{FOCUS_FULL}'/>");
                self.send_to(FOCUS_FULL, xml);
            }
            return;
        }
        if let Some(q) = node.child("query", ns::MUC_ADMIN) {
            if !focus_owner {
                return self.iq_error(node, room, "forbidden");
            }
            if let Some(cond) = self.muc.grant_error {
                return self.iq_error(node, room, cond);
            }
            let Some(item) = q.child("item", ns::MUC_ADMIN) else {
                return self.iq_error(node, room, "bad-request");
            };
            let jid = item.attr("jid").unwrap_or("").to_string();
            let aff = item.attr("affiliation").unwrap_or("none").to_string();
            if jid.contains('/') {
                // Prosody refuses full JIDs (Jicofo issue #895).
                return self.iq_error(node, room, "jid-malformed");
            }
            self.muc.set_affiliation(room, &jid, &aff);
            self.set_occupant_affiliation(room, &jid, &aff);
            let xml = format!("<iq type='result' id='{id}' from='{room}' to='{FOCUS_FULL}'/>");
            self.send_to(FOCUS_FULL, xml);
            return;
        }
        self.iq_error(node, room, "feature-not-implemented");
    }

    fn muc_iq_to_occupant(&mut self, node: &Node, to: &str, room: &str) {
        let ty = node.attr("type").unwrap_or("").to_string();
        let id = node.attr("id").unwrap_or("").to_string();
        let nick = to.split_once('/').map(|(_, n)| n).unwrap_or("");
        let focus_in = self.muc.focus_in(room);
        let target = self.occupant(room, nick);
        let (Some(target), true) = (target, focus_in) else {
            if matches!(ty.as_str(), "get" | "set") {
                let cond = if focus_in {
                    "item-not-found"
                } else {
                    "not-acceptable"
                };
                self.iq_error(node, to, cond);
            }
            return;
        };
        let out_id = if matches!(ty.as_str(), "get" | "set") {
            self.muc.next_rewrite += 1;
            let new = format!("muc{}", self.muc.next_rewrite);
            self.muc
                .rewritten
                .insert(new.clone(), (id, FOCUS_FULL.to_string()));
            new
        } else {
            match self.muc.rewritten.remove(&id) {
                Some((orig, _)) => orig,
                None => id,
            }
        };
        let mut inner = String::new();
        for c in &node.children {
            inner.push_str(&node_xml(c, ns::CLIENT));
        }
        let xml = format!(
            "<iq type='{ty}' id='{out_id}' from='{room}/focus' to='{}'>{inner}</iq>",
            target.real
        );
        self.send_to(&target.real, xml);
    }
}

/// Serialises a [`Node`] back to XML (for the MUC's forwarding).
pub fn node_xml(n: &Node, parent_ns: &str) -> String {
    let mut s = format!("<{}", n.name);
    if n.ns != parent_ns {
        s.push_str(&format!(" xmlns='{}'", n.ns));
    }
    for (k, v) in &n.attrs {
        s.push_str(&format!(" {k}='{}'", escape(v)));
    }
    if n.children.is_empty() && n.text.is_empty() {
        s.push_str("/>");
        return s;
    }
    s.push('>');
    s.push_str(&escape(&n.text));
    for c in &n.children {
        s.push_str(&node_xml(c, &n.ns));
    }
    s.push_str(&format!("</{}>", n.name));
    s
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('\'', "&apos;")
        .replace('"', "&quot;")
}

/// Splits what the focus wrote on a stream into stanzas, with the crate's
/// framer on a synthetic stream.
pub fn split_stanzas(bytes: &str) -> Vec<String> {
    let mut framer = Framer::new(DEFAULT_MAX_FRAME);
    framer.push(
        b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
    );
    framer.push(bytes.as_bytes());
    let mut out = Vec::new();
    loop {
        match framer.next_frame() {
            Ok(Some(Frame::StreamOpen(_) | Frame::Whitespace)) => {}
            Ok(Some(Frame::Stanza(r))) => {
                let s = std::str::from_utf8(framer.bytes(r)).expect("UTF-8");
                out.push(s.to_string());
            }
            Ok(Some(Frame::StreamClose)) => panic!("the focus closed a stream in its output"),
            Ok(None) => {
                assert_eq!(
                    framer.buffered(),
                    0,
                    "the focus left an unfinished stanza: {bytes}"
                );
                return out;
            }
            Err(e) => panic!("the focus's output does not frame ({e}): {bytes}"),
        }
    }
}
