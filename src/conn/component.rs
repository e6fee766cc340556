//! The XEP-0114 external component stream (`focus.<domain>`).
//!
//! ```text
//!  Idle --start--> AwaitHeader --server header (id)--> AwaitHandshake
//!  AwaitHandshake --<handshake/>--> Ready --close--> Closing --</stream>--> Closed
//!  any --stream error | bad XML | timeout | EOF--> Closed (Err returned)
//! ```
//!
//! The handshake is the lowercase hex SHA-1 of the stream id followed by the
//! shared secret. A refused handshake arrives as a stream error: Prosody says
//! `not-authorized` for a wrong secret and `host-unknown` when it has no such
//! component; both are configuration errors, reported as
//! [`ConnError::Fatal`] with the fix. `conflict` means another focus already
//! holds the component: worth retrying, because that one may go away.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use sha1::{Digest, Sha1};

use super::keepalive::{KeepAlive, KeepAliveAction, KeepAliveConfig};
use super::stream::{self, StreamCondition, StreamError};
use super::{ConnError, ConnEvent};
use crate::config::Secret;
use crate::stanza::ping;
use crate::xml::{El, Frame, Framer, Parser, XmlWriter, ns};

/// How long each handshake step may take before the server counts as silent.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Settings of the component stream.
#[derive(Debug, Clone)]
pub struct ComponentOptions {
    /// The component's domain, `<subdomain>.<domain>`.
    pub jid: String,
    /// The server's domain, target of keep-alive pings.
    pub server_domain: String,
    /// The shared secret.
    pub secret: Secret,
    /// Largest stanza accepted from the server.
    pub max_stanza: usize,
    /// Keep-alive pings.
    pub keepalive: KeepAliveConfig,
}

/// Where the component stream stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComponentState {
    /// Not connected.
    Idle,
    /// Our header is sent; waiting for the server's, which carries the id.
    AwaitHeader {
        /// When the server counts as silent.
        deadline: Instant,
    },
    /// The handshake is sent; waiting for `<handshake/>`.
    AwaitHandshake {
        /// When the server counts as silent.
        deadline: Instant,
    },
    /// Authenticated: stanzas flow.
    Ready,
    /// We sent `</stream:stream>` and wait for the server's.
    Closing {
        /// When we stop waiting.
        deadline: Instant,
    },
    /// The stream is over.
    Closed,
}

impl ComponentState {
    /// The state's name, for log lines.
    pub fn name(&self) -> &'static str {
        match self {
            ComponentState::Idle => "Idle",
            ComponentState::AwaitHeader { .. } => "AwaitHeader",
            ComponentState::AwaitHandshake { .. } => "AwaitHandshake",
            ComponentState::Ready => "Ready",
            ComponentState::Closing { .. } => "Closing",
            ComponentState::Closed => "Closed",
        }
    }
}

/// The component stream machine.
#[derive(Debug)]
pub struct ComponentConn {
    opts: ComponentOptions,
    state: ComponentState,
    framer: Framer,
    parser: Parser,
    out: Vec<u8>,
    keepalive: KeepAlive,
    events: VecDeque<ConnEvent>,
}

/// Lowercase hex SHA-1 of the stream id and the secret (XEP-0114 §3).
pub fn handshake_digest(stream_id: &str, secret: &str) -> String {
    let mut h = Sha1::new();
    h.update(stream_id.as_bytes());
    h.update(secret.as_bytes());
    let digest = h.finalize();
    let mut hex = String::with_capacity(40);
    for b in digest.iter() {
        hex.push(char::from_digit((b >> 4) as u32, 16).unwrap_or('0'));
        hex.push(char::from_digit((b & 0xf) as u32, 16).unwrap_or('0'));
    }
    hex
}

impl ComponentConn {
    /// A stream not yet started.
    pub fn new(opts: ComponentOptions) -> Self {
        let framer = Framer::new(opts.max_stanza);
        let keepalive = KeepAlive::new(opts.keepalive);
        ComponentConn {
            opts,
            state: ComponentState::Idle,
            framer,
            parser: Parser::new(),
            out: Vec::new(),
            keepalive,
            events: VecDeque::new(),
        }
    }

    /// The current state.
    pub fn state(&self) -> ComponentState {
        self.state
    }

    /// True once authenticated and until the stream ends.
    pub fn is_ready(&self) -> bool {
        self.state == ComponentState::Ready
    }

    fn set_state(&mut self, new: ComponentState) {
        if std::mem::discriminant(&self.state) != std::mem::discriminant(&new) {
            log::debug!(
                "component {}: {} => {}",
                self.opts.jid,
                self.state.name(),
                new.name()
            );
        }
        self.state = new;
    }

    /// The TCP connection is up: sends our stream header. Resets any state
    /// left from an earlier connection.
    pub fn start(&mut self, now: Instant) {
        self.framer = Framer::new(self.opts.max_stanza);
        self.out.clear();
        self.keepalive.stop();
        stream::write_stream_header(&mut self.out, ns::COMPONENT, &self.opts.jid, None, false);
        self.set_state(ComponentState::AwaitHeader {
            deadline: now + HANDSHAKE_TIMEOUT,
        });
    }

    /// Bytes received from the socket. Call [`ComponentConn::process`] next.
    pub fn handle_input(&mut self, data: &[u8]) {
        self.framer.push(data);
    }

    /// Handles every complete frame received so far; application stanzas go
    /// to `sink`. An `Err` ends the stream (any closing bytes are queued).
    pub fn process(&mut self, now: Instant, mut sink: impl FnMut(El<'_>)) -> Result<(), ConnError> {
        loop {
            let frame = match self.framer.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => return Ok(()),
                Err(e) => {
                    let (cond, err) = ConnError::from_framer(&e);
                    return Err(self.fail_with(cond, err));
                }
            };
            match frame {
                Frame::Whitespace => {}
                Frame::StreamOpen(range) => self.on_header(now, range)?,
                Frame::StreamClose => {
                    let closing = matches!(self.state, ComponentState::Closing { .. });
                    let result = stream::answer_close(&mut self.out, closing);
                    self.set_state(ComponentState::Closed);
                    self.keepalive.stop();
                    return result;
                }
                Frame::Stanza(range) => {
                    let frame = self.framer.bytes(range);
                    let doc = match stream::parse_stanza(&mut self.parser, frame, ns::COMPONENT) {
                        Ok(d) => d,
                        Err((cond, err)) => return Err(self.fail_with(cond, err)),
                    };
                    let root = doc.root();
                    if let Some(se) = StreamError::parse(root) {
                        let err = self.classify_stream_error(se);
                        self.set_state(ComponentState::Closed);
                        self.keepalive.stop();
                        self.out.extend_from_slice(stream::STREAM_CLOSE);
                        return Err(err);
                    }
                    match self.state {
                        ComponentState::AwaitHandshake { .. }
                            if root.is("handshake", ns::COMPONENT) =>
                        {
                            self.set_state(ComponentState::Ready);
                            self.keepalive.start(now);
                            self.events.push_back(ConnEvent::Online {
                                jid: self.opts.jid.clone(),
                            });
                        }
                        ComponentState::Ready => {
                            if !self.keepalive.handle_answer(root) {
                                sink(root);
                            }
                        }
                        ComponentState::Closing { .. } => {}
                        _ => {
                            let what =
                                format!("unexpected <{}/> during the handshake", root.name());
                            return Err(self.fail_with(
                                StreamCondition::UnsupportedStanzaType,
                                ConnError::Protocol(what),
                            ));
                        }
                    }
                }
            }
        }
    }

    fn on_header(&mut self, now: Instant, range: std::ops::Range<usize>) -> Result<(), ConnError> {
        if !matches!(self.state, ComponentState::AwaitHeader { .. }) {
            let err = ConnError::Protocol("a second stream header".into());
            return Err(self.fail_with(StreamCondition::NotWellFormed, err));
        }
        let frame = self.framer.bytes(range);
        let header = match stream::read_header(&mut self.parser, frame, ns::COMPONENT) {
            Ok(h) => h,
            Err((cond, err)) => return Err(self.fail_with(cond, err)),
        };
        let Some(id) = header.id else {
            let err = ConnError::Protocol("the stream header has no id to hash".into());
            return Err(self.fail_with(StreamCondition::InvalidXml, err));
        };
        let digest = handshake_digest(&id, self.opts.secret.expose());
        XmlWriter::new(&mut self.out).text_element("handshake", &digest);
        self.set_state(ComponentState::AwaitHandshake {
            deadline: now + HANDSHAKE_TIMEOUT,
        });
        Ok(())
    }

    /// Turns a received stream error into our error, naming the fix for the
    /// configuration mistakes it reveals.
    fn classify_stream_error(&self, se: StreamError) -> ConnError {
        let handshaking = !matches!(
            self.state,
            ComponentState::Ready | ComponentState::Closing { .. }
        );
        let jid = &self.opts.jid;
        match se.condition {
            StreamCondition::NotAuthorized if handshaking => ConnError::Fatal(format!(
                "the XMPP server refused the component secret for {jid}: --secret does not match \
                 `component_secret` of `Component \"{jid}\"` in the server's config"
            )),
            StreamCondition::HostUnknown if handshaking => ConnError::Fatal(format!(
                "the XMPP server has no component {jid}: add `Component \"{jid}\"` with a \
                 `component_secret` to its config, or fix --subdomain/--domain"
            )),
            _ => ConnError::Stream(se),
        }
    }

    /// Queues a stream error and the close, and ends the stream.
    fn fail_with(&mut self, cond: StreamCondition, err: ConnError) -> ConnError {
        if !matches!(self.state, ComponentState::Closed | ComponentState::Idle) {
            stream::write_stream_error(&mut self.out, cond, None);
        }
        self.set_state(ComponentState::Closed);
        self.keepalive.stop();
        err
    }

    /// Queues a serialised stanza. Returns false (and drops it) when the
    /// stream is not ready: stanzas are never sent before the handshake.
    pub fn send(&mut self, stanza: &[u8]) -> bool {
        if self.state != ComponentState::Ready {
            return false;
        }
        self.out.extend_from_slice(stanza);
        true
    }

    /// Bytes waiting for the socket.
    pub fn output(&self) -> &[u8] {
        &self.out
    }

    /// `n` bytes of [`ComponentConn::output`] were written to the socket.
    pub fn consume_output(&mut self, n: usize) {
        self.out.drain(..n);
    }

    /// An event for the owner, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ConnEvent> {
        self.events.pop_front()
    }

    /// When [`ComponentConn::handle_timeout`] must run next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            ComponentState::AwaitHeader { deadline }
            | ComponentState::AwaitHandshake { deadline }
            | ComponentState::Closing { deadline } => Some(deadline),
            ComponentState::Ready => self.keepalive.poll_timeout(),
            ComponentState::Idle | ComponentState::Closed => None,
        }
    }

    /// Advances timers: handshake deadlines and keep-alive pings.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), ConnError> {
        match self.state {
            ComponentState::AwaitHeader { deadline } if now >= deadline => Err(self.fail_with(
                StreamCondition::ConnectionTimeout,
                ConnError::Timeout("stream header"),
            )),
            ComponentState::AwaitHandshake { deadline } if now >= deadline => Err(self.fail_with(
                StreamCondition::ConnectionTimeout,
                ConnError::Timeout("component handshake"),
            )),
            ComponentState::Closing { deadline } if now >= deadline => {
                self.set_state(ComponentState::Closed);
                Ok(())
            }
            ComponentState::Ready => match self.keepalive.handle_timeout(now) {
                KeepAliveAction::Idle => Ok(()),
                KeepAliveAction::SendPing(id) => {
                    ping::write_ping(
                        &mut self.out,
                        &id,
                        Some(&self.opts.jid),
                        &self.opts.server_domain,
                    );
                    Ok(())
                }
                KeepAliveAction::Dead => Err(self.fail_with(
                    StreamCondition::ConnectionTimeout,
                    ConnError::Timeout("keep-alive ping"),
                )),
            },
            _ => Ok(()),
        }
    }

    /// Starts a clean close: `</stream:stream>`, then wait (bounded) for the server's.
    pub fn close(&mut self, now: Instant) {
        match self.state {
            ComponentState::Idle | ComponentState::Closed | ComponentState::Closing { .. } => {}
            _ => {
                self.out.extend_from_slice(stream::STREAM_CLOSE);
                self.keepalive.stop();
                self.set_state(ComponentState::Closing {
                    deadline: now + Duration::from_secs(1),
                });
            }
        }
    }

    /// The socket reached end of file. Returns the error to report, if the
    /// end was not expected.
    pub fn handle_eof(&mut self) -> Option<ConnError> {
        let expected = matches!(
            self.state,
            ComponentState::Closing { .. } | ComponentState::Closed
        );
        self.set_state(ComponentState::Closed);
        self.keepalive.stop();
        if expected {
            None
        } else {
            Some(ConnError::Closed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> ComponentOptions {
        ComponentOptions {
            jid: "focus.meet.test".into(),
            server_domain: "meet.test".into(),
            secret: Secret::new("focus_secret"),
            max_stanza: 4096,
            keepalive: KeepAliveConfig::default(),
        }
    }

    const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' \
        xmlns='jabber:component:accept' id='3BF96D32' from='focus.meet.test'>";

    fn take_out(c: &mut ComponentConn) -> String {
        let s = String::from_utf8(c.output().to_vec()).unwrap();
        c.consume_output(c.output().len());
        s
    }

    /// Drives the handshake to `Ready`, feeding the server's bytes split at `split`.
    fn ready(split: usize) -> (ComponentConn, Instant) {
        let mut c = ComponentConn::new(opts());
        let t0 = Instant::now();
        c.start(t0);
        let hello = take_out(&mut c);
        assert!(hello.contains("<stream:stream xmlns='jabber:component:accept'"));
        assert!(hello.contains("to='focus.meet.test'"));
        assert!(
            !hello.ends_with("version='1.0'>"),
            "XEP-0114 streams carry no version"
        );
        let server = format!("{HEADER}<handshake/>");
        let (a, b) = server.as_bytes().split_at(split.min(server.len()));
        for part in [a, b] {
            c.handle_input(part);
            c.process(t0, |_| panic!("no stanza yet")).unwrap();
        }
        let out = take_out(&mut c);
        assert_eq!(
            out,
            format!(
                "<handshake>{}</handshake>",
                handshake_digest("3BF96D32", "focus_secret")
            )
        );
        assert!(c.is_ready());
        assert_eq!(
            c.poll_event(),
            Some(ConnEvent::Online {
                jid: "focus.meet.test".into()
            })
        );
        (c, t0)
    }

    #[test]
    fn digest_matches_xep_0114_example() {
        // XEP-0114 §3's example stream id. The XEP does not say which secret
        // produced its sample digest, so the expected value was computed
        // independently: `printf 3BF96D32sesame | sha1sum`.
        assert_eq!(
            handshake_digest("3BF96D32", "sesame"),
            "7a98dc4c9e92493d7fd66a25364c862637789c45"
        );
        assert_eq!(
            handshake_digest("", ""),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
    }

    #[test]
    fn handshake_succeeds_at_every_split() {
        let n = HEADER.len() + "<handshake/>".len();
        for split in 0..=n {
            ready(split);
        }
    }

    #[test]
    fn stanzas_reach_the_sink_after_ready() {
        let (mut c, t0) = ready(usize::MAX);
        c.handle_input(b"<iq type='get' id='1' from='a@meet.test/r' to='focus.meet.test'><query xmlns='http://jabber.org/protocol/disco#info'/></iq> <presence/>");
        let mut got = Vec::new();
        c.process(t0, |el| {
            got.push((el.name().to_string(), el.ns().to_string()))
        })
        .unwrap();
        assert_eq!(
            got,
            vec![
                ("iq".into(), ns::COMPONENT.into()),
                ("presence".into(), ns::COMPONENT.into())
            ]
        );
        assert!(c.send(b"<presence/>"));
        assert_eq!(take_out(&mut c), "<presence/>");
    }

    #[test]
    fn wrong_secret_is_fatal_and_names_the_fix() {
        let mut c = ComponentConn::new(opts());
        let t0 = Instant::now();
        c.start(t0);
        c.handle_input(HEADER.as_bytes());
        c.handle_input(b"<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>");
        let err = c.process(t0, |_| {}).unwrap_err();
        assert!(err.is_fatal());
        let msg = err.to_string();
        assert!(msg.contains("component_secret"), "{msg}");
        assert!(msg.contains("Component \"focus.meet.test\""), "{msg}");
        assert!(
            !msg.contains("focus_secret"),
            "the secret must never be printed"
        );
        assert_eq!(c.state(), ComponentState::Closed);
        assert!(!c.send(b"<presence/>"));
    }

    #[test]
    fn unknown_host_is_fatal_conflict_is_not() {
        for (cond, fatal) in [
            ("host-unknown", true),
            ("conflict", false),
            ("system-shutdown", false),
        ] {
            let mut c = ComponentConn::new(opts());
            let t0 = Instant::now();
            c.start(t0);
            c.handle_input(HEADER.as_bytes());
            c.handle_input(format!("<stream:error><{cond} xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>").as_bytes());
            let err = c.process(t0, |_| {}).unwrap_err();
            assert_eq!(err.is_fatal(), fatal, "{cond}: {err}");
            if !fatal {
                assert!(
                    matches!(err, ConnError::Stream(StreamError { condition, .. }) if condition.name() == cond)
                );
            }
        }
    }

    #[test]
    fn silent_server_times_out() {
        let mut c = ComponentConn::new(opts());
        let t0 = Instant::now();
        c.start(t0);
        let deadline = c.poll_timeout().unwrap();
        assert_eq!(deadline, t0 + HANDSHAKE_TIMEOUT);
        assert!(c.handle_timeout(t0 + Duration::from_secs(1)).is_ok());
        assert_eq!(
            c.handle_timeout(deadline),
            Err(ConnError::Timeout("stream header"))
        );
        c.start(t0);
        c.handle_input(HEADER.as_bytes());
        c.process(t0, |_| {}).unwrap();
        let deadline = c.poll_timeout().unwrap();
        assert_eq!(
            c.handle_timeout(deadline),
            Err(ConnError::Timeout("component handshake"))
        );
    }

    #[test]
    fn header_without_id_is_a_protocol_error() {
        let mut c = ComponentConn::new(opts());
        c.start(Instant::now());
        c.handle_input(b"<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:component:accept'>");
        assert!(matches!(
            c.process(Instant::now(), |_| {}),
            Err(ConnError::Protocol(_))
        ));
        assert!(take_out(&mut c).contains("<invalid-xml"));
    }

    #[test]
    fn oversized_stanza_gets_policy_violation() {
        let (mut c, t0) = ready(usize::MAX);
        let big = format!("<message><body>{}</body></message>", "x".repeat(5000));
        c.handle_input(big.as_bytes());
        let err = c
            .process(t0, |_| panic!("must not be delivered"))
            .unwrap_err();
        assert!(matches!(err, ConnError::Malformed(_)));
        let out = take_out(&mut c);
        assert!(
            out.contains("<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"),
            "{out}"
        );
        assert!(out.ends_with("</stream:stream>"));
    }

    #[test]
    fn keepalive_pings_and_gives_up() {
        let (mut c, t0) = ready(usize::MAX);
        let at = c.poll_timeout().unwrap();
        assert_eq!(at, t0 + Duration::from_secs(10));
        c.handle_timeout(at).unwrap();
        let ping = take_out(&mut c);
        assert!(ping.contains("<ping xmlns='urn:xmpp:ping'/>"));
        assert!(ping.contains("to='meet.test'") && ping.contains("from='focus.meet.test'"));
        // The answer is swallowed, not passed to the application.
        c.handle_input(
            b"<iq type='result' id='keepalive-1' from='meet.test' to='focus.meet.test'/>",
        );
        c.process(at, |_| panic!("keep-alive answers are internal"))
            .unwrap();
        // Then the server goes silent.
        let err = loop {
            let now = c.poll_timeout().unwrap();
            if let Err(e) = c.handle_timeout(now) {
                break e;
            }
            assert!(now < t0 + Duration::from_secs(100));
        };
        assert_eq!(err, ConnError::Timeout("keep-alive ping"));
    }

    #[test]
    fn clean_close_both_ways() {
        let (mut c, t0) = ready(usize::MAX);
        c.close(t0);
        assert_eq!(take_out(&mut c), "</stream:stream>");
        c.handle_input(b"</stream:stream>");
        assert_eq!(c.process(t0, |_| {}), Ok(()));
        assert_eq!(c.state(), ComponentState::Closed);
        assert_eq!(c.handle_eof(), None);

        let (mut c, t0) = ready(usize::MAX);
        c.handle_input(b"</stream:stream>");
        assert_eq!(c.process(t0, |_| {}), Err(ConnError::Closed));
        assert_eq!(take_out(&mut c), "</stream:stream>");
        let (mut c, _) = ready(usize::MAX);
        assert_eq!(c.handle_eof(), Some(ConnError::Closed));
    }
}
