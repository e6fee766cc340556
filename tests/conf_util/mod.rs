//! Helpers shared by the real-peer conference tests (`real_conference.rs`,
//! `real_secure_domain.rs`): conference IQs, reading the XML that slixmpp
//! hands back, and the few waits every test needs. Include with
//! `mod support; mod conf_util;`.
//!
//! The XML is read with a small scanner of our own, not with the focus's
//! parser: the tests check the focus's output independently of its code.

// Each test binary uses a different part.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use crate::support::{Focus, Json, Login, Peer, Prosody};

/// Bound of every wait for an answer or an event.
pub const T: Duration = Duration::from_secs(10);

/// `http://jitsi.org/protocol/focus`.
pub const NS_FOCUS: &str = "http://jitsi.org/protocol/focus";
/// `http://jitsi.org/protocol/colibri`.
pub const NS_COLIBRI: &str = "http://jitsi.org/protocol/colibri";

/// `<room>@conference.meet.test`.
pub fn room(name: &str) -> String {
    format!("{name}@conference.meet.test")
}

/// A conference IQ (set) to `to` with the raw attributes `attrs` on
/// `<conference/>` (e.g. `room='r@conference.meet.test' machine-uid='m1'`),
/// and one property as current clients send.
pub fn conference_iq(to: &str, attrs: &str) -> String {
    format!(
        "<iq type='set' to='{to}'><conference xmlns='{NS_FOCUS}' {attrs}>\
         <property name='rtcstatsEnabled' value='false'/></conference></iq>"
    )
}

/// Sends a conference request for `room` to the component and asserts
/// `result` with `ready='true'`; returns the answer's XML.
#[track_caller]
pub fn request_ready(peer: &mut Peer, room: &str) -> String {
    let r = peer.send_iq(
        &conference_iq(
            "focus.meet.test",
            &format!("room='{room}' machine-uid='m-{}'", peer.jid()),
        ),
        T,
    );
    assert_ready(&r, room)
}

/// Asserts that `r` (a `send_iq` reply) is a conference `result` for
/// `room` with `ready='true'`; returns its XML.
#[track_caller]
pub fn assert_ready(r: &Json, room: &str) -> String {
    assert_eq!(
        r["type"].as_str(),
        Some("result"),
        "conference request: {r}"
    );
    let xml = r["xml"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        attr(&xml, "conference", "ready").as_deref(),
        Some("true"),
        "{xml}"
    );
    assert_eq!(
        attr(&xml, "conference", "room").as_deref(),
        Some(room),
        "{xml}"
    );
    xml
}

/// Asserts that `r` is an IQ error with `condition`; returns its XML.
#[track_caller]
pub fn assert_error(r: &Json, condition: &str) -> String {
    assert_eq!(
        r["type"].as_str(),
        Some("error"),
        "expected {condition}: {r}"
    );
    assert_eq!(r["condition"].as_str(), Some(condition), "{r}");
    r["xml"].as_str().unwrap_or_default().to_string()
}

/// Joins and asserts it worked.
#[track_caller]
pub fn join_ok(peer: &mut Peer, room: &str, nick: &str) -> Json {
    let j = peer.join(room, nick);
    assert_eq!(
        j["type"].as_str(),
        Some("joined"),
        "{nick} joins {room}: {j}"
    );
    j
}

/// A sync point with the focus: an XEP-0199 ping from `peer` (in `room`)
/// to the focus's occupant JID. The MUC forwards it on the focus's client
/// stream after every presence the room sent the focus before it, and
/// forwards the focus's answer to `peer` after whatever the focus made the
/// room send first (e.g. the presence broadcast of an owner grant). So
/// once the pong is here, `peer` has seen every reaction of the focus to
/// what happened before the ping.
#[track_caller]
pub fn sync_with_focus(peer: &mut Peer, room: &str) {
    let r = peer.ping(&format!("{room}/focus"), T);
    assert_eq!(r["type"].as_str(), Some("result"), "ping the focus: {r}");
}

/// True for a presence from `room/nick` with `affiliation='owner'`.
pub fn is_owner_presence(e: &Json, room: &str, nick: &str) -> bool {
    e.is_event("presence")
        && e["from"].as_str() == Some(&format!("{room}/{nick}"))
        && e["type"].as_str() == Some("available")
        && e["item"]["affiliation"].as_str() == Some("owner")
}

/// Waits for `room/nick` to be made owner (affiliation owner, role
/// moderator), as seen by `peer`.
#[track_caller]
pub fn expect_owner(peer: &mut Peer, room: &str, nick: &str) {
    let ev = peer.expect_event(
        &format!("{nick} made owner in {room}"),
        |e| is_owner_presence(e, room, nick),
        T,
    );
    assert_eq!(ev["item"]["role"].as_str(), Some("moderator"), "{ev}");
}

/// Asserts that `peer` never saw `room/nick` made owner (call after
/// [`sync_with_focus`]).
#[track_caller]
pub fn assert_never_owner(peer: &mut Peer, room: &str, nick: &str) {
    let seen: Vec<String> = peer
        .history()
        .iter()
        .filter(|e| is_owner_presence(e, room, nick))
        .map(|e| e.to_string())
        .collect();
    assert!(seen.is_empty(), "{nick} must not be owner: {seen:?}");
}

/// Whether `room` exists on the MUC, asked from outside with disco#info:
/// Prosody answers `item-not-found` for a room that does not exist.
#[track_caller]
pub fn room_exists(peer: &mut Peer, room: &str) -> bool {
    let r = peer.disco_info(room);
    match (r["type"].as_str(), r["condition"].as_str()) {
        (Some("result"), _) => true,
        (Some("error"), Some("item-not-found")) => false,
        _ => panic!("disco#info {room}: {r}"),
    }
}

/// How long a peer may take to log in. About a second on an idle machine
/// (mostly Python importing slixmpp), but several when the machine is busy
/// and peers start together: only a bound on failure, never waited out.
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Starts one peer per login, all at once, in the order given.
#[track_caller]
pub fn peers<const N: usize>(p: &Prosody, logins: [Login; N]) -> [Peer; N] {
    std::thread::scope(|s| {
        let handles = logins.map(|mut l| {
            l.connect_timeout = LOGIN_TIMEOUT;
            s.spawn(move || Peer::try_spawn(p, l))
        });
        handles.map(|h| match h.join().expect("peer spawn thread") {
            Ok(peer) => peer,
            Err(e) => panic!("{e}"),
        })
    })
}

/// Starts one peer (see [`peers`]).
#[track_caller]
pub fn peer(p: &Prosody, login: Login) -> Peer {
    let [peer] = peers(p, [login]);
    peer
}

/// Starts the focus against `p` with `extra` arguments, waits until both
/// of its streams are up, and returns it with its client's full JID (from
/// its log line "client connection to … is up as <jid> (…").
#[track_caller]
pub fn focus_up(p: &Prosody, extra: &[&str]) -> (Focus, String) {
    let mut f = Focus::spawn(p, extra);
    assert!(
        f.wait_log("is up as focus.meet.test", T),
        "component never up:\n{}",
        f.log_text()
    );
    assert!(
        f.wait_log("is up as focus@auth.meet.test/", T),
        "client never up:\n{}",
        f.log_text()
    );
    let jid = client_jid(&f.log_text()).expect("client JID in the log");
    (f, jid)
}

/// The client's full JID from the focus log.
pub fn client_jid(log: &str) -> Option<String> {
    let needle = "is up as focus@auth.meet.test/";
    let at = log.find(needle)? + "is up as ".len();
    let rest = &log[at..];
    Some(rest.split_whitespace().next()?.to_string())
}

/// Polls `cond` every 25 ms for at most `timeout`.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

// ------------------------------------------------------------------ XML

/// Attributes of every start tag named `name` (local name, no prefix) in
/// `xml`, in document order, values unescaped.
pub fn tags(xml: &str, name: &str) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    let open = format!("<{name}");
    let mut from = 0;
    while let Some(i) = xml[from..].find(&open) {
        let start = from + i + open.len();
        from = start;
        match xml[start..].chars().next() {
            Some(c) if c.is_whitespace() || c == '/' || c == '>' => {}
            _ => continue, // a longer name with the same prefix
        }
        out.push(parse_attrs(&xml[start..]));
    }
    out
}

/// The attribute `attr` of the first `<name>` start tag.
pub fn attr(xml: &str, name: &str, attr: &str) -> Option<String> {
    tags(xml, name)
        .into_iter()
        .next()
        .and_then(|a| get(&a, attr))
}

/// The `value` of the `<property name='…'/>` called `name`.
pub fn property(xml: &str, name: &str) -> Option<String> {
    tags(xml, "property")
        .into_iter()
        .find(|a| get(a, "name").as_deref() == Some(name))
        .and_then(|a| get(&a, "value"))
}

/// The value of `<stat name='…' value='…'/>`.
pub fn stat(xml: &str, name: &str) -> Option<String> {
    tags(xml, "stat")
        .into_iter()
        .find(|a| get(a, "name").as_deref() == Some(name))
        .and_then(|a| get(&a, "value"))
}

/// True when some `<name>` start tag has `xmlns='ns'`.
pub fn has_element(xml: &str, name: &str, ns: &str) -> bool {
    tags(xml, name)
        .iter()
        .any(|a| get(a, "xmlns").as_deref() == Some(ns))
}

/// The text of the first `<name …>text</name>` (unescaped).
pub fn text(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}");
    let mut from = 0;
    while let Some(i) = xml[from..].find(&open) {
        let start = from + i + open.len();
        from = start;
        let rest = &xml[start..];
        match rest.chars().next() {
            Some(c) if c.is_whitespace() || c == '>' => {}
            _ => continue,
        }
        let gt = rest.find('>')?;
        if rest[..gt].ends_with('/') {
            return Some(String::new());
        }
        let body = &rest[gt + 1..];
        let end = body.find(&format!("</{name}>"))?;
        return Some(unescape(&body[..end]));
    }
    None
}

fn get(attrs: &[(String, String)], name: &str) -> Option<String> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// `k="v"` / `k='v'` pairs up to the end of the start tag.
fn parse_attrs(s: &str) -> Vec<(String, String)> {
    let mut attrs = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    loop {
        while i < b.len() && (b[i] as char).is_whitespace() {
            i += 1;
        }
        if i >= b.len() || b[i] == b'>' || b[i] == b'/' {
            return attrs;
        }
        let k0 = i;
        while i < b.len() && b[i] != b'=' && !(b[i] as char).is_whitespace() && b[i] != b'>' {
            i += 1;
        }
        let key = s[k0..i].to_string();
        while i < b.len() && (b[i] == b'=' || (b[i] as char).is_whitespace()) {
            i += 1;
        }
        let Some(&q) = b.get(i) else { return attrs };
        if q != b'"' && q != b'\'' {
            return attrs;
        }
        i += 1;
        let v0 = i;
        while i < b.len() && b[i] != q {
            i += 1;
        }
        attrs.push((key, unescape(&s[v0..i.min(s.len())])));
        i += 1;
    }
}

fn unescape(s: &str) -> String {
    s.replace("&apos;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[test]
fn xml_scanner_reads_attributes_properties_and_text() {
    let xml = "<iq type=\"result\"><conference xmlns=\"http://jitsi.org/protocol/focus\" \
               room='r@c' ready=\"true\"><property value=\"false\" name=\"authentication\" />\
               <property-x name='authentication' value='x'/></conference>\
               <error><text xmlns='t'>No &apos;room&apos; specified.</text></error></iq>";
    assert_eq!(attr(xml, "conference", "ready").as_deref(), Some("true"));
    assert_eq!(attr(xml, "conference", "room").as_deref(), Some("r@c"));
    assert_eq!(property(xml, "authentication").as_deref(), Some("false"));
    assert!(has_element(xml, "conference", NS_FOCUS));
    assert_eq!(text(xml, "text").as_deref(), Some("No 'room' specified."));
    assert_eq!(attr(xml, "conf", "room"), None);
}
