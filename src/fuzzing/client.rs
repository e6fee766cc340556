//! The c2s client machine ([`ClientConn`]) fed whatever a server may send.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use super::{MAX_FRAMES, Scripted, run_ops, split_script};
use crate::config::Secret;
use crate::conn::client::{ClientConn, ClientOptions, ClientState};
use crate::conn::keepalive::KeepAliveConfig;
use crate::conn::tls::{RootChoice, client_config};
use crate::conn::{ConnError, ConnEvent};

/// The login: RFC 5802's example user, so that a seed can carry a SCRAM
/// exchange whose server signature verifies.
pub const CLIENT_USER: &str = "user";
/// The password of [`CLIENT_USER`].
pub const CLIENT_PASSWORD: &str = "pencil";
/// The SCRAM client nonce, RFC 5802's.
pub const CLIENT_NONCE: &str = "fyko+d2lbbFgONRv9qkxdawL";
/// The user domain, and the name the TLS certificate would carry.
pub const CLIENT_DOMAIN: &str = "auth.meet.test";

/// What the STARTTLS mode puts before the payload: the server's header,
/// features offering only STARTTLS, and `<proceed/>`. Everything after it is
/// TLS records for rustls.
pub const STARTTLS_PREFIX: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='auth.meet.test' \
    version='1.0'><stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>\
    <required/></starttls></stream:features><proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";

/// Output a machine may write per operation, on top of what the input
/// itself can account for (a stream header, a SASL step, a TLS flight, a
/// stream error, a ping): generous, but a loop that writes on every turn
/// exceeds it at once.
const OUT_PER_OP: usize = 8 * 1024;

/// One rustls config for every run: building it is slow, and it holds no state.
fn tls_config() -> Arc<rustls::ClientConfig> {
    static TLS: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    TLS.get_or_init(|| client_config(RootChoice::TrustAnything).expect("a TLS config"))
        .clone()
}

/// The client machine survives anything a server sends, in any pieces, at
/// any time. Invariants: it never panics; once it returned an `Err`, or once
/// we closed, nothing reaches the sink and the output no longer grows until
/// it is started again (but for the TLS close_notify when the reading
/// ends); `send` succeeds exactly when it is ready; stanzas
/// reach the sink only after the `Online` event, which comes at most once
/// per start; the output stays within a linear bound of the input and the
/// number of operations.
///
/// Script byte 0 is the mode: bit 0 STARTTLS (the payload follows
/// [`STARTTLS_PREFIX`] and goes into rustls; plaintext login refused) or
/// plaintext (allowed, payload is the server's XML from the start); bit 1
/// an anonymous login instead of [`CLIENT_PASSWORD`]; bits 2 to 4 the stanza
/// limit. The other script bytes are operations as in
/// [`super::component_machine`]: feed a chunk of the payload and process
/// it, advance the clock, fire the next deadline, close, end of file, send
/// and drain output, restart. Whatever payload the script leaves is fed
/// whole at the end, followed by the deadlines.
pub fn client_machine(data: &[u8]) {
    run_client(data);
}

/// How far a run got, for the tests that keep the seeds meaningful.
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Debug, Default)]
pub(crate) struct ClientReport {
    /// Logins that got the `Online` event.
    pub online: usize,
    /// Stanzas that reached the sink.
    pub delivered: usize,
    /// Errors returned.
    pub errors: Vec<String>,
}

pub(crate) fn run_client(data: &[u8]) -> ClientReport {
    let (script, payload) = split_script(data);
    let mode = script.first().copied().unwrap_or(0);
    let starttls = mode & 1 != 0;
    let anonymous = mode & 2 != 0;
    let max_stanza = MAX_FRAMES[(mode >> 2) as usize % MAX_FRAMES.len()];
    let c = ClientConn::new(ClientOptions {
        domain: CLIENT_DOMAIN.into(),
        username: CLIENT_USER.into(),
        password: (!anonymous).then(|| Secret::new(CLIENT_PASSWORD)),
        resource: None,
        tls: tls_config(),
        allow_plaintext: !starttls,
        max_stanza,
        keepalive: KeepAliveConfig::default(),
    });
    let input: Vec<u8> = if starttls {
        [STARTTLS_PREFIX.as_bytes(), payload].concat()
    } else {
        payload.to_vec()
    };
    let mut h = ClientHarness {
        c,
        now: Instant::now(),
        starttls,
        rest: &input,
        dead: false,
        closed: false,
        online: false,
        fed: 0,
        ops: 0,
        drained: 0,
        report: ClientReport::default(),
    };
    h.restart();
    run_ops(script.get(1..).unwrap_or_default(), &mut h);
    h.report
}

struct ClientHarness<'d> {
    c: ClientConn,
    now: Instant,
    /// The STARTTLS mode.
    starttls: bool,
    rest: &'d [u8],
    /// An `Err` was returned (or end of file reported one) since the start.
    dead: bool,
    /// We closed since the start.
    closed: bool,
    /// The `Online` event came since the start.
    online: bool,
    /// Bytes handed to `handle_input` since the start.
    fed: usize,
    /// Operations since the start.
    ops: usize,
    /// Output taken (consumed, or dropped by a restart) since the start.
    drained: usize,
    report: ClientReport,
}

impl ClientHarness<'_> {
    /// Runs one operation and checks what it did.
    fn step(&mut self, op: impl FnOnce(&mut ClientConn, Instant) -> Result<(), ConnError>) {
        self.ops += 1;
        let quiet = self.dead || self.closed;
        let c = &mut self.c;
        let was_closed = c.state() == ClientState::Closed;
        let before = c.output().len();
        let result = op(c, self.now);
        if matches!(c.state(), ClientState::Closing { .. }) {
            self.closed = true;
        }
        while let Some(ev) = c.poll_event() {
            let ConnEvent::Online { jid } = ev;
            assert!(!self.online, "a second Online event");
            assert!(jid.contains('/'), "online as {jid}");
            self.online = true;
            self.report.online += 1;
        }
        let after = c.output().len();
        if quiet {
            // Once over (or closing), nothing new is written: the close and
            // any TLS alert were queued when it ended. Only the TLS
            // close_notify waits for the end of the reading (one record).
            let close_notify = self.starttls
                && c.state() == ClientState::Closed
                && !was_closed
                && after - before <= 64;
            assert!(
                after <= before || close_notify,
                "{} bytes written in {:?} after the end",
                after - before,
                c.state()
            );
        }
        if let Err(e) = result {
            assert!(!self.dead, "a second error after the end: {e}");
            self.report.errors.push(e.to_string());
            self.dead = true;
            assert_eq!(c.state(), ClientState::Closed, "{e}");
            assert!(!c.is_ready() && c.jid().is_none());
            assert!(c.poll_timeout().is_none(), "a timer left after {e}");
        }
        let produced = self.drained + after;
        assert!(
            produced <= OUT_PER_OP * (self.ops + 1) + 4 * self.fed,
            "{produced} bytes written for {} bytes read in {} operations",
            self.fed,
            self.ops
        );
    }
}

impl Scripted for ClientHarness<'_> {
    fn clock(&mut self) -> &mut Instant {
        &mut self.now
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.c.poll_timeout()
    }

    fn feed(&mut self, n: usize) {
        let (chunk, rest) = self.rest.split_at(n.min(self.rest.len()));
        self.rest = rest;
        self.fed += chunk.len();
        self.c.handle_input(chunk);
        let mut delivered = 0usize;
        let quiet = self.dead || self.closed;
        self.step(|c, now| {
            c.process(now, |el| {
                assert!(!quiet, "<{}/> delivered after the end", el.name());
                delivered += 1;
            })
        });
        self.report.delivered += delivered;
        assert!(
            delivered == 0 || self.online,
            "{delivered} stanzas delivered before the Online event"
        );
    }

    fn timeout(&mut self) {
        self.step(|c, now| c.handle_timeout(now));
    }

    fn close(&mut self) {
        self.step(|c, now| {
            c.close(now);
            Ok(())
        });
    }

    fn eof(&mut self) {
        self.step(|c, _| {
            let err = c.handle_eof();
            assert_eq!(c.state(), ClientState::Closed);
            err.map_or(Ok(()), Err)
        });
    }

    fn send_and_drain(&mut self, n: usize) {
        let c = &mut self.c;
        let ready = c.is_ready();
        assert_eq!(c.send(b"<presence/>"), ready, "send while {:?}", c.state());
        assert_eq!(c.jid().is_some(), ready);
        let n = c.output().len().min(n);
        c.consume_output(n);
        self.drained += n;
    }

    fn restart(&mut self) {
        self.c.start(self.now, CLIENT_NONCE);
        self.dead = false;
        self.closed = false;
        self.online = false;
        self.fed = 0;
        self.ops = 0;
        self.drained = 0;
        assert!(!self.c.is_ready());
        assert!(
            self.c.poll_event().is_none(),
            "an event survived the restart"
        );
    }
}
