//! The focus's timer index: conference deadlines fire through
//! `poll_timeout`/`handle_timeout` in time order, move when a conference
//! re-arms its timer, and leave with the conference.

use std::time::{Duration, Instant};

use super::*;
use crate::xml::Parser;

const FOCUS_FULL: &str = "focus@auth.meet.test/focus";

/// A focus whose streams are up (a conference asked for while the client
/// stream is down waits for it without a timer).
fn online_focus(cfg: FocusConfig, seed: u8) -> Focus {
    let mut f = Focus::new(cfg, None, [seed; 32]);
    let now = Instant::now();
    f.handle_online(now, ConnId::Component, "focus.meet.test");
    f.handle_online(now, ConnId::Client, FOCUS_FULL);
    f
}

fn feed(f: &mut Focus, now: Instant, conn: ConnId, xml: &str) {
    let default_ns = match conn {
        ConnId::Component => ns::COMPONENT,
        ConnId::Client => ns::CLIENT,
    };
    let mut p = Parser::new();
    let doc = p.parse(xml.as_bytes(), default_ns).unwrap();
    f.handle_stanza(now, conn, doc.root());
}

fn take(f: &mut Focus, conn: ConnId) -> String {
    String::from_utf8(std::mem::take(f.output(conn))).unwrap()
}

fn room(name: &str) -> String {
    format!("{name}@conference.meet.test")
}

fn request(f: &mut Focus, now: Instant, name: &str) {
    let xml = format!(
        "<iq type='set' id='r-{name}' from='u@meet.test/w' to='focus.meet.test'>\
         <conference xmlns='http://jitsi.org/protocol/focus' room='{}'/></iq>",
        room(name)
    );
    feed(f, now, ConnId::Component, &xml);
}

fn joined(f: &mut Focus, now: Instant, name: &str) {
    let xml = format!(
        "<presence from='{}/focus' to='{FOCUS_FULL}'><x xmlns='http://jabber.org/protocol/muc#user'>\
         <item affiliation='owner' role='moderator'/><status code='110'/><status code='201'/></x></presence>",
        room(name)
    );
    feed(f, now, ConnId::Client, &xml);
}

fn participant(f: &mut Focus, now: Instant, name: &str) {
    let xml = format!(
        "<presence from='{}/p1' to='{FOCUS_FULL}'><x xmlns='http://jabber.org/protocol/muc#user'>\
         <item affiliation='none' role='participant' jid='p1@meet.test/w'/></x></presence>",
        room(name)
    );
    feed(f, now, ConnId::Client, &xml);
}

/// Answers every IQ the focus wrote to the client stream with an error, so
/// that only conference timers are left (a failed owner form or grant is
/// logged, nothing more).
fn fail_iqs(f: &mut Focus, now: Instant) {
    let out = take(f, ConnId::Client);
    for iq in out.split("<iq ").skip(1) {
        let attr = |name: &str| {
            let v = iq.split(&format!(" {name}='")).nth(1).unwrap();
            v.split('\'').next().unwrap().to_string()
        };
        let xml = format!(
            "<iq type='error' id='{}' from='{}'/>",
            attr("id"),
            attr("to")
        );
        feed(f, now, ConnId::Client, &xml);
    }
}

fn state(f: &Focus, name: &str) -> Option<State> {
    f.conference(&room(name)).map(Conference::state)
}

#[test]
fn deadlines_fire_in_time_order_and_move_with_the_conference() {
    let t0 = Instant::now();
    let s = Duration::from_secs(1);
    let cfg = FocusConfig::for_tests();
    let (idle, reply) = (cfg.idle_timeout, cfg.reply_timeout);
    let mut f = online_focus(cfg, 1);
    assert_eq!(f.poll_timeout(), None);

    request(&mut f, t0, "a");
    joined(&mut f, t0 + s, "a");
    request(&mut f, t0 + 2 * s, "b"); // never joins
    request(&mut f, t0 + 3 * s, "c");
    joined(&mut f, t0 + 3 * s, "c");
    participant(&mut f, t0 + 3 * s, "c"); // no timer while someone is there
    assert_eq!(state(&f, "c"), Some(State::WaitingForSecond));
    fail_iqs(&mut f, t0 + 3 * s);

    // a idles out first: its deadline is the earliest of everything.
    assert_eq!(f.poll_timeout(), Some(t0 + s + idle));
    // A new request for a re-arms its idle timer: the index follows.
    request(&mut f, t0 + 10 * s, "a");
    assert_eq!(
        f.poll_timeout(),
        Some(t0 + 2 * s + reply),
        "b's join deadline"
    );
    f.handle_timeout(t0 + s + idle);
    assert!(matches!(state(&f, "a"), Some(State::Idle { .. })));

    f.handle_timeout(t0 + 2 * s + reply);
    assert_eq!(state(&f, "b"), None, "b gave up waiting for its join");
    assert!(take(&mut f, ConnId::Client).contains("b@conference.meet.test/focus"));

    let a_idle = t0 + 10 * s + idle;
    assert_eq!(f.poll_timeout(), Some(a_idle));
    // Calls before the deadline change nothing.
    f.handle_timeout(a_idle - s);
    assert!(state(&f, "a").is_some());
    f.handle_timeout(a_idle);
    assert_eq!(state(&f, "a"), None);
    assert_eq!(f.poll_timeout(), None, "c has no timer");
    assert_eq!(f.conference_count(), 1);

    // A conference that ends some other way takes its timer with it, and
    // its slot's next conference starts with a fresh one.
    request(&mut f, a_idle, "d");
    assert_eq!(f.poll_timeout(), Some(a_idle + reply));
    feed(
        &mut f,
        a_idle + s,
        ConnId::Client,
        "<presence type='error' from='d@conference.meet.test/focus' to='focus@auth.meet.test/focus'>\
         <error type='cancel'><not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>",
    );
    assert_eq!(state(&f, "d"), None);
    assert_eq!(f.poll_timeout(), None);
    request(&mut f, a_idle + 2 * s, "e");
    assert_eq!(f.poll_timeout(), Some(a_idle + 2 * s + reply));
}

#[test]
fn many_conferences_idle_out_together() {
    let t0 = Instant::now();
    let cfg = FocusConfig::for_tests();
    let idle = cfg.idle_timeout;
    let mut f = online_focus(cfg, 2);
    for i in 0..200 {
        let name = format!("r{i}");
        request(&mut f, t0, &name);
        joined(&mut f, t0, &name);
    }
    fail_iqs(&mut f, t0);
    assert_eq!(f.poll_timeout(), Some(t0 + idle));
    f.handle_timeout(t0 + idle);
    assert_eq!(f.conference_count(), 0);
    assert_eq!(f.poll_timeout(), None);
}
