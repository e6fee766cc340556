//! Simulation tests of the whole core (both streams, their links, the focus
//! logic) with a fake clock and a scripted server: reconnect back-off,
//! fatal configuration errors, clean shutdown, IQ answers end to end.

use std::time::{Duration, Instant};

use jicofo::config::Secret;
use jicofo::conn::ConnId;
use jicofo::conn::client::ClientOptions;
use jicofo::conn::component::{ComponentOptions, handshake_digest};
use jicofo::conn::keepalive::KeepAliveConfig;
use jicofo::conn::tls::{RootChoice, client_config};
use jicofo::core::{Action, BACKOFF_CAP, Core, CoreConfig};
use jicofo::focus::FocusConfig;

const COMPONENT_HEADER: &str = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' \
    xmlns='jabber:component:accept' id='s1' from='focus.meet.test'>";

fn core(now: Instant) -> Core {
    let keepalive = KeepAliveConfig::default();
    let cfg = CoreConfig {
        component: ComponentOptions {
            jid: "focus.meet.test".into(),
            server_domain: "meet.test".into(),
            secret: Secret::new("s3cret"),
            max_stanza: 65536,
            keepalive,
        },
        client: ClientOptions {
            domain: "auth.meet.test".into(),
            username: "focus".into(),
            password: Some(Secret::new("pw")),
            resource: None,
            tls: client_config(RootChoice::TrustAnything).unwrap(),
            allow_plaintext: false,
            max_stanza: 65536,
            keepalive,
        },
        focus: FocusConfig::for_tests(),
        auth: None,
        media: jicofo::focus::MediaConfig::default(),
        addresses: ["127.0.0.1:5347".into(), "127.0.0.1:5222".into()],
    };
    Core::new(now, cfg, [9; 32])
}

fn actions(c: &mut Core) -> Vec<Action> {
    std::iter::from_fn(|| c.poll_action()).collect()
}

fn take(c: &mut Core, id: ConnId) -> String {
    let out = String::from_utf8(c.output(id).to_vec()).unwrap();
    let n = c.output(id).len();
    c.consume_output(id, n);
    out
}

/// Brings the component online through the core.
fn component_online(c: &mut Core, now: Instant) {
    c.handle_timeout(now);
    assert!(actions(c).contains(&Action::Connect(ConnId::Component)));
    c.handle_connected(now, ConnId::Component);
    assert!(take(c, ConnId::Component).contains("to='focus.meet.test'"));
    c.handle_input(now, ConnId::Component, COMPONENT_HEADER.as_bytes());
    let hs = take(c, ConnId::Component);
    assert_eq!(
        hs,
        format!(
            "<handshake>{}</handshake>",
            handshake_digest("s1", "s3cret")
        )
    );
    c.handle_input(now, ConnId::Component, b"<handshake/>");
    assert!(c.is_online(ConnId::Component));
}

#[test]
fn connects_both_streams_at_start() {
    let t0 = Instant::now();
    let mut c = core(t0);
    assert_eq!(c.poll_timeout(), Some(t0));
    c.handle_timeout(t0);
    assert_eq!(
        actions(&mut c),
        vec![
            Action::Connect(ConnId::Component),
            Action::Connect(ConnId::Client)
        ]
    );
}

#[test]
fn answers_component_iqs_end_to_end() {
    let t0 = Instant::now();
    let mut c = core(t0);
    component_online(&mut c, t0);
    c.handle_input(
        t0,
        ConnId::Component,
        b"<iq type='get' id='d1' from='x@meet.test/r' to='focus.meet.test'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>\
          <iq type='get' id='p1' from='x@meet.test/r' to='focus.meet.test'><ping xmlns='urn:xmpp:ping'/></iq>\
          <iq type='set' id='u1' from='x@meet.test/r' to='focus.meet.test'><unknown xmlns='urn:x'/></iq>\
          <iq type='result' id='r1' from='x@meet.test/r' to='focus.meet.test'/>",
    );
    let out = take(&mut c, ConnId::Component);
    assert!(
        out.contains("id='d1'") && out.contains("<feature var='http://jitsi.org/protocol/focus'/>"),
        "{out}"
    );
    assert!(
        out.contains("<identity category='component' type='generic' name='Jitsi Meet Focus'/>"),
        "{out}"
    );
    assert!(
        out.contains("<iq type='result' id='p1' from='focus.meet.test' to='x@meet.test/r'"),
        "{out}"
    );
    assert!(
        out.contains("id='u1'") && out.contains("<service-unavailable"),
        "{out}"
    );
    assert!(!out.contains("r1"), "results are never answered: {out}");
}

#[test]
fn refused_connects_back_off_exponentially_up_to_the_cap() {
    let t0 = Instant::now();
    let mut c = core(t0);
    let mut now = t0;
    let mut delays = Vec::new();
    for _ in 0..8 {
        c.handle_timeout(now);
        let acts = actions(&mut c);
        assert!(
            acts.contains(&Action::Connect(ConnId::Component)),
            "{acts:?}"
        );
        c.handle_connect_failed(now, ConnId::Component, "Connection refused");
        c.handle_connect_failed(now, ConnId::Client, "Connection refused");
        let next = c.poll_timeout().unwrap();
        delays.push(next - now);
        now = next;
    }
    let ms: Vec<u128> = delays.iter().map(|d| d.as_millis()).collect();
    assert_eq!(ms, vec![250, 500, 1000, 2000, 3000, 3000, 3000, 3000]);
    assert!(delays.iter().all(|d| *d <= BACKOFF_CAP));
}

#[test]
fn a_successful_login_resets_the_back_off() {
    let t0 = Instant::now();
    let mut c = core(t0);
    let mut now = t0;
    for _ in 0..4 {
        c.handle_timeout(now);
        actions(&mut c);
        c.handle_connect_failed(now, ConnId::Component, "refused");
        now = c.poll_timeout().unwrap();
    }
    component_online(&mut c, now);
    c.handle_eof(now, ConnId::Component);
    assert!(actions(&mut c).contains(&Action::Disconnect(ConnId::Component)));
    assert!(!c.is_online(ConnId::Component));
    let retry = c.poll_timeout().unwrap();
    assert_eq!(retry - now, Duration::from_millis(250));
}

#[test]
fn wrong_secret_exits_with_the_fix_and_never_reconnects() {
    let t0 = Instant::now();
    let mut c = core(t0);
    c.handle_timeout(t0);
    actions(&mut c);
    c.handle_connected(t0, ConnId::Component);
    c.handle_input(t0, ConnId::Component, COMPONENT_HEADER.as_bytes());
    c.handle_input(
        t0,
        ConnId::Component,
        b"<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>",
    );
    let acts = actions(&mut c);
    let exit = acts.iter().find_map(|a| match a {
        Action::Exit { code, message } => Some((*code, message.clone())),
        _ => None,
    });
    let (code, message) = exit.expect("fatal error must exit");
    assert_eq!(code, 1);
    let m = message.unwrap();
    assert!(
        m.contains("component_secret") && !m.contains("s3cret"),
        "{m}"
    );
    c.handle_timeout(t0 + Duration::from_secs(60));
    assert!(
        !actions(&mut c)
            .iter()
            .any(|a| matches!(a, Action::Connect(ConnId::Component)))
    );
}

#[test]
fn connect_timeout_gives_up_and_retries() {
    let t0 = Instant::now();
    let mut c = core(t0);
    c.handle_timeout(t0);
    actions(&mut c);
    let deadline = c.poll_timeout().unwrap();
    assert_eq!(deadline - t0, Duration::from_secs(10));
    c.handle_timeout(deadline);
    let acts = actions(&mut c);
    assert!(
        acts.contains(&Action::Disconnect(ConnId::Component)),
        "{acts:?}"
    );
    c.handle_timeout(c.poll_timeout().unwrap());
    assert!(actions(&mut c).contains(&Action::Connect(ConnId::Component)));
}

#[test]
fn shutdown_closes_streams_and_exits_zero() {
    let t0 = Instant::now();
    let mut c = core(t0);
    component_online(&mut c, t0);
    c.shutdown(t0);
    assert_eq!(take(&mut c, ConnId::Component), "</stream:stream>");
    // The server answers the close: the component is done; the client never
    // connected, so nothing holds the exit back.
    c.handle_input(t0, ConnId::Component, b"</stream:stream>");
    let acts = actions(&mut c);
    assert!(
        acts.contains(&Action::Exit {
            code: 0,
            message: None
        }),
        "{acts:?}"
    );
}

#[test]
fn shutdown_of_a_silent_server_exits_after_the_grace_period() {
    let t0 = Instant::now();
    let mut c = core(t0);
    component_online(&mut c, t0);
    c.shutdown(t0);
    assert!(
        !actions(&mut c)
            .iter()
            .any(|a| matches!(a, Action::Exit { .. }))
    );
    let at = c.poll_timeout().unwrap();
    assert!(at - t0 <= Duration::from_millis(1500));
    let mut now = at;
    for _ in 0..10 {
        c.handle_timeout(now);
        if actions(&mut c).contains(&Action::Exit {
            code: 0,
            message: None,
        }) {
            assert!(now - t0 < Duration::from_secs(2));
            return;
        }
        now = c.poll_timeout().unwrap_or(now + Duration::from_millis(100));
    }
    panic!("never exited");
}
