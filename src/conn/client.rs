//! The c2s client stream (RFC 6120): the focus's login `<user>@<user_domain>`.
//!
//! ```text
//!  Idle --start--> AwaitHeader --header--> AwaitFeatures
//!  AwaitFeatures --<starttls/> offered--> AwaitProceed --<proceed/>--> TlsHandshake
//!  TlsHandshake --handshake done: restart--> AwaitHeader --> AwaitFeatures
//!  AwaitFeatures --mechanisms (TLS, or no STARTTLS and plaintext allowed)--> Sasl
//!  Sasl --<challenge/>: <response/>--> Sasl --<success/>: restart--> AwaitHeader
//!  AwaitHeader --> AwaitFeatures (authenticated) --bind--> AwaitBind
//!  AwaitBind --<jid/>, session required--> AwaitSession --result--> Ready
//!  AwaitBind --<jid/>, no session--> Ready        (initial <presence/> sent)
//!  Ready --close--> Closing --</stream:stream> | close_notify | timeout--> Closed
//!  TlsHandshake --close--> Closed      (no stream inside TLS yet: nothing to close)
//!  any --stream error | bad XML | TLS error | SASL failure | timeout | EOF--> Closed (Err)
//! ```
//!
//! STARTTLS is always used when the server offers it. A server that does not
//! offer it only gets a plaintext login when the deployer opted in
//! (`jicofo.xmpp.client.use-tls=false`), and even then PLAIN is never sent in
//! the clear. TLS runs inside the machine: socket bytes after `<proceed/>`
//! (including those that arrived in the same read, which the framer hands
//! back) are ciphertext for rustls; rustls' plaintext feeds a fresh framer;
//! everything we write after that goes through rustls' writer. Our TLS
//! close_notify goes out when we stop reading (the stream is `Closed`), not
//! with our `</stream:stream>`: rustls must not meet a record it refuses after
//! it sent close_notify (it would send a fatal alert after it, which its
//! debug assertions forbid).
//!
//! Configuration mistakes the server reveals (wrong password, unknown
//! virtual host, untrusted certificate, no usable SASL mechanism) end the
//! stream with [`ConnError::Fatal`] whose text names the fix. Each handshake
//! step may take [`HANDSHAKE_TIMEOUT`]; once ready, XMPP pings to the server
//! domain keep the stream honest, exactly as on the component stream.
//!
//! The machine is pure: no sockets, no clock (every `now` is a parameter), no
//! randomness (the SCRAM nonce comes with [`ClientConn::start`]). The one
//! exception is inside rustls: certificate validity is checked against the
//! system clock (see [`super::tls`]).

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rustls::pki_types::ServerName;

use super::keepalive::{KeepAlive, KeepAliveAction, KeepAliveConfig};
use super::sasl::{self, Mechanism, SaslClient, SaslError};
use super::stream::{self, StreamCondition, StreamError};
use super::{ConnError, ConnEvent};
use crate::config::Secret;
use crate::stanza::ping;
use crate::xml::{El, Frame, Framer, Parser, XmlWriter, ns};

pub use super::component::HANDSHAKE_TIMEOUT;

/// How long a clean close waits for the server's `</stream:stream>`.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);
/// IQ id of the resource binding request.
const BIND_ID: &str = "bind-1";
/// IQ id of the legacy session request.
const SESSION_ID: &str = "session-1";

/// Settings of the client stream.
#[derive(Clone)]
pub struct ClientOptions {
    /// The user domain (`--user_domain`): stream `to`, and the name the
    /// server's TLS certificate must carry.
    pub domain: String,
    /// The login name (`--user_name`).
    pub username: String,
    /// The password; `None` logs in with SASL ANONYMOUS.
    pub password: Option<Secret>,
    /// The resource to bind; `None` binds the user name.
    pub resource: Option<String>,
    /// The TLS settings, from [`super::tls::client_config`].
    pub tls: Arc<rustls::ClientConfig>,
    /// The deployer allowed a plaintext login (`jicofo.xmpp.client.use-tls=false`).
    /// Only used when the server offers no STARTTLS.
    pub allow_plaintext: bool,
    /// Largest stanza accepted from the server.
    pub max_stanza: usize,
    /// Keep-alive pings.
    pub keepalive: KeepAliveConfig,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // By hand: the TLS config's Debug is long, and the password is a Secret.
        f.debug_struct("ClientOptions")
            .field("domain", &self.domain)
            .field("username", &self.username)
            .field("password", &self.password)
            .field("resource", &self.resource)
            .field("allow_plaintext", &self.allow_plaintext)
            .field("max_stanza", &self.max_stanza)
            .field("keepalive", &self.keepalive)
            .finish_non_exhaustive()
    }
}

/// Where the client stream stands (a copy of the machine's state without
/// the data it carries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientState {
    /// Not connected.
    Idle,
    /// Our header is sent; waiting for the server's.
    AwaitHeader {
        /// When the server counts as silent.
        deadline: Instant,
    },
    /// Waiting for `<stream:features/>`.
    AwaitFeatures {
        /// When the server counts as silent.
        deadline: Instant,
    },
    /// `<starttls/>` is sent; waiting for `<proceed/>`.
    AwaitProceed {
        /// When the server counts as silent.
        deadline: Instant,
    },
    /// The TLS handshake is running.
    TlsHandshake {
        /// When the server counts as silent.
        deadline: Instant,
    },
    /// The SASL exchange is running.
    Sasl {
        /// When the server counts as silent.
        deadline: Instant,
        /// The mechanism in use.
        mechanism: Mechanism,
    },
    /// The bind request is sent; waiting for our JID.
    AwaitBind {
        /// When the server counts as silent.
        deadline: Instant,
    },
    /// The legacy session request is sent; waiting for its result.
    AwaitSession {
        /// When the server counts as silent.
        deadline: Instant,
    },
    /// Bound and present: stanzas flow.
    Ready,
    /// We sent `</stream:stream>` and wait for the server's.
    Closing {
        /// When we stop waiting.
        deadline: Instant,
    },
    /// The stream is over.
    Closed,
}

/// The machine's state with the data each step hands to the next.
/// `authenticated` tells the stream before SASL from the one after it.
#[derive(Debug)]
enum State {
    Idle,
    AwaitHeader {
        deadline: Instant,
        authenticated: bool,
    },
    AwaitFeatures {
        deadline: Instant,
        authenticated: bool,
    },
    AwaitProceed {
        deadline: Instant,
    },
    TlsHandshake {
        deadline: Instant,
    },
    Sasl {
        deadline: Instant,
        mechanism: Mechanism,
        sasl: SaslClient,
    },
    AwaitBind {
        deadline: Instant,
        session: bool,
    },
    AwaitSession {
        deadline: Instant,
        jid: String,
    },
    Ready {
        jid: String,
    },
    Closing {
        deadline: Instant,
    },
    Closed,
}

impl State {
    fn public(&self) -> ClientState {
        match *self {
            State::Idle => ClientState::Idle,
            State::AwaitHeader { deadline, .. } => ClientState::AwaitHeader { deadline },
            State::AwaitFeatures { deadline, .. } => ClientState::AwaitFeatures { deadline },
            State::AwaitProceed { deadline } => ClientState::AwaitProceed { deadline },
            State::TlsHandshake { deadline } => ClientState::TlsHandshake { deadline },
            State::Sasl {
                deadline,
                mechanism,
                ..
            } => ClientState::Sasl {
                deadline,
                mechanism,
            },
            State::AwaitBind { deadline, .. } => ClientState::AwaitBind { deadline },
            State::AwaitSession { deadline, .. } => ClientState::AwaitSession { deadline },
            State::Ready { .. } => ClientState::Ready,
            State::Closing { deadline } => ClientState::Closing { deadline },
            State::Closed => ClientState::Closed,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            State::Idle => "Idle",
            State::AwaitHeader { .. } => "AwaitHeader",
            State::AwaitFeatures { .. } => "AwaitFeatures",
            State::AwaitProceed { .. } => "AwaitProceed",
            State::TlsHandshake { .. } => "TlsHandshake",
            State::Sasl { .. } => "Sasl",
            State::AwaitBind { .. } => "AwaitBind",
            State::AwaitSession { .. } => "AwaitSession",
            State::Ready { .. } => "Ready",
            State::Closing { .. } => "Closing",
            State::Closed => "Closed",
        }
    }

    /// The handshake deadline and what a timeout there is called.
    fn deadline(&self) -> Option<(Instant, &'static str)> {
        match *self {
            State::AwaitHeader { deadline, .. } => Some((deadline, "stream header")),
            State::AwaitFeatures { deadline, .. } => Some((deadline, "stream features")),
            State::AwaitProceed { deadline } => Some((deadline, "STARTTLS proceed")),
            State::TlsHandshake { deadline } => Some((deadline, "TLS handshake")),
            State::Sasl { deadline, .. } => Some((deadline, "SASL authentication")),
            State::AwaitBind { deadline, .. } => Some((deadline, "resource binding")),
            State::AwaitSession { deadline, .. } => Some((deadline, "session establishment")),
            State::Idle | State::Ready { .. } | State::Closing { .. } | State::Closed => None,
        }
    }
}

/// `<stream:features/>`, reduced to what the login needs.
#[derive(Debug, Default)]
struct Features {
    starttls: bool,
    mechanisms: Vec<String>,
    bind: bool,
    /// RFC 3921 session establishment offered without `<optional/>`.
    session_required: bool,
}

/// A top-level element received during the handshake, owned so that the
/// machine can change state while reading it.
#[derive(Debug)]
enum Input {
    Features(Features),
    Proceed,
    TlsFailure,
    Challenge(String),
    Success(String),
    SaslFailure {
        condition: String,
        text: Option<String>,
    },
    IqResult {
        id: String,
        jid: Option<String>,
    },
    IqError {
        id: String,
        condition: String,
    },
    Other(String),
}

impl Input {
    fn read(el: El<'_>) -> Input {
        match (el.ns(), el.name()) {
            (ns::STREAMS, "features") => Input::Features(Features {
                starttls: el.child("starttls", ns::TLS).is_some(),
                mechanisms: el
                    .child("mechanisms", ns::SASL)
                    .map(|m| {
                        m.children()
                            .filter(|c| c.is("mechanism", ns::SASL))
                            .map(|c| c.text().trim().to_owned())
                            .collect()
                    })
                    .unwrap_or_default(),
                bind: el.child("bind", ns::BIND).is_some(),
                session_required: el
                    .child("session", ns::SESSION)
                    .is_some_and(|s| s.child("optional", ns::SESSION).is_none()),
            }),
            (ns::TLS, "proceed") => Input::Proceed,
            (ns::TLS, "failure") => Input::TlsFailure,
            (ns::SASL, "challenge") => Input::Challenge(el.text().into_owned()),
            (ns::SASL, "success") => Input::Success(el.text().into_owned()),
            (ns::SASL, "failure") => Input::SaslFailure {
                condition: el
                    .children()
                    .find(|c| c.ns() == ns::SASL && c.name() != "text")
                    .map_or("undefined-condition", |c| c.name())
                    .to_owned(),
                text: el
                    .child("text", ns::SASL)
                    .map(|t| t.text().trim().to_owned())
                    .filter(|t| !t.is_empty()),
            },
            (ns::CLIENT, "iq") => {
                let id = el.attr("id").unwrap_or_default().into_owned();
                match el.attr_raw("type") {
                    Some("result") => Input::IqResult {
                        id,
                        jid: el
                            .child("bind", ns::BIND)
                            .and_then(|b| b.child("jid", ns::BIND))
                            .map(|j| j.text().trim().to_owned()),
                    },
                    Some("error") => Input::IqError {
                        id,
                        condition: el
                            .child("error", ns::CLIENT)
                            .and_then(|e| e.child_ns(ns::STANZAS))
                            .map_or("undefined-condition", |c| c.name())
                            .to_owned(),
                    },
                    _ => Input::Other("<iq/> request".into()),
                }
            }
            (_, name) => Input::Other(format!("<{name}/>")),
        }
    }

    fn describe(&self) -> String {
        match self {
            Input::Features(_) => "<stream:features/>".into(),
            Input::Proceed => "<proceed/>".into(),
            Input::TlsFailure => "STARTTLS <failure/>".into(),
            Input::Challenge(_) => "<challenge/>".into(),
            Input::Success(_) => "<success/>".into(),
            Input::SaslFailure { .. } => "SASL <failure/>".into(),
            Input::IqResult { id, .. } | Input::IqError { id, .. } => {
                format!("an IQ answer with id '{id}'")
            }
            Input::Other(what) => what.clone(),
        }
    }
}

/// What handling one element did to the byte flow.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    /// `<proceed/>`: the framer's remaining bytes moved to rustls.
    TlsStarted,
}

/// SASL payloads are base64; `=` or nothing is an empty payload.
fn decode_payload(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() || compact == "=" {
        return Some(Vec::new());
    }
    B64.decode(compact).ok()
}

/// Writes a SASL element with a base64 payload. `empty` is what stands for
/// an empty payload: `=` in `<auth/>` (RFC 6120 §6.4.2), nothing elsewhere.
fn write_sasl(out: &mut Vec<u8>, name: &str, mechanism: Option<&str>, data: &[u8], empty: &str) {
    let mut w = XmlWriter::new(out);
    w.start_ns(name, ns::SASL).attr_opt("mechanism", mechanism);
    if data.is_empty() {
        if !empty.is_empty() {
            w.text(empty);
        }
    } else {
        w.text(&B64.encode(data));
    }
    w.end();
}

/// Says in words why rustls refused a certificate (its Display is terse
/// for the common cases).
fn certificate_problem(e: &rustls::CertificateError) -> String {
    use rustls::CertificateError as C;
    match e {
        C::UnknownIssuer => "it is not signed by a CA the focus trusts".into(),
        C::BadSignature => "a signature does not verify".into(),
        C::NotValidForName => "it is not valid for this name".into(),
        C::Expired => "it has expired".into(),
        C::NotValidYet => "it is not valid yet".into(),
        C::Revoked => "it has been revoked".into(),
        other => other.to_string(),
    }
}

/// The client stream machine.
pub struct ClientConn {
    opts: ClientOptions,
    /// `user@domain`, or `anonymous@domain`, for messages.
    account: String,
    state: State,
    framer: Framer,
    parser: Parser,
    /// Present from `<proceed/>` on.
    tls: Option<rustls::ClientConnection>,
    /// Ciphertext received and not yet taken by rustls.
    tls_in: Vec<u8>,
    /// XML we wrote and not yet moved to `out` (through rustls once TLS is up).
    pending: Vec<u8>,
    /// Bytes for the socket.
    out: Vec<u8>,
    /// The SCRAM client nonce of this connection.
    nonce: String,
    keepalive: KeepAlive,
    events: VecDeque<ConnEvent>,
}

impl std::fmt::Debug for ClientConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // By hand: the buffers may hold SASL payloads, which must not reach logs.
        f.debug_struct("ClientConn")
            .field("account", &self.account)
            .field("state", &self.state)
            .field("tls", &self.tls.is_some())
            .field("pending", &self.pending.len())
            .field("out", &self.out.len())
            .finish_non_exhaustive()
    }
}

impl ClientConn {
    /// A stream not yet started.
    pub fn new(opts: ClientOptions) -> Self {
        let account = match opts.password {
            Some(_) => format!("{}@{}", opts.username, opts.domain),
            None => format!("anonymous@{}", opts.domain),
        };
        ClientConn {
            framer: Framer::new(opts.max_stanza),
            keepalive: KeepAlive::new(opts.keepalive),
            opts,
            account,
            state: State::Idle,
            parser: Parser::new(),
            tls: None,
            tls_in: Vec::new(),
            pending: Vec::new(),
            out: Vec::new(),
            nonce: String::new(),
            events: VecDeque::new(),
        }
    }

    /// The current state (without the data the machine keeps in it).
    pub fn state(&self) -> ClientState {
        self.state.public()
    }

    /// True once bound and present, until the stream ends.
    pub fn is_ready(&self) -> bool {
        matches!(self.state, State::Ready { .. })
    }

    /// Our full JID as bound by the server, while ready.
    pub fn jid(&self) -> Option<&str> {
        match &self.state {
            State::Ready { jid } => Some(jid),
            _ => None,
        }
    }

    fn set_state(&mut self, new: State) {
        if self.state.name() != new.name() {
            log::debug!(
                "client {}: {} => {}",
                self.account,
                self.state.name(),
                new.name()
            );
        }
        self.state = new;
    }

    /// The TCP connection is up: sends our stream header. Resets everything
    /// left from an earlier connection. `client_nonce` is the SCRAM nonce
    /// for this connection (printable ASCII without commas, random).
    pub fn start(&mut self, now: Instant, client_nonce: &str) {
        self.framer = Framer::new(self.opts.max_stanza);
        self.tls = None;
        self.tls_in.clear();
        self.pending.clear();
        self.out.clear();
        self.events.clear();
        self.keepalive.stop();
        self.nonce = client_nonce.to_owned();
        self.restart_stream(now, false);
    }

    /// Sends a stream header and waits for the server's (RFC 6120 §4.3.3:
    /// at the start, after TLS and after SASL).
    fn restart_stream(&mut self, now: Instant, authenticated: bool) {
        stream::write_stream_header(&mut self.pending, ns::CLIENT, &self.opts.domain, None, true);
        self.set_state(State::AwaitHeader {
            deadline: now + HANDSHAKE_TIMEOUT,
            authenticated,
        });
    }

    /// Bytes received from the socket (ciphertext once TLS has begun). Call
    /// [`ClientConn::process`] next.
    pub fn handle_input(&mut self, data: &[u8]) {
        match (&self.state, &self.tls) {
            // The stream is over: nothing the server says matters any more.
            (State::Idle | State::Closed, _) => {}
            (_, Some(_)) => self.tls_in.extend_from_slice(data),
            (_, None) => self.framer.push(data),
        }
    }

    /// Handles everything received so far: runs TLS, the handshake, and
    /// once ready hands application stanzas to `sink`. An `Err` ends the
    /// stream: send what [`ClientConn::output`] still holds (a stream error,
    /// a TLS alert), then close the socket. After the end, input is ignored.
    pub fn process(&mut self, now: Instant, mut sink: impl FnMut(El<'_>)) -> Result<(), ConnError> {
        loop {
            if matches!(self.state, State::Idle | State::Closed) {
                return Ok(());
            }
            let tls_closed = self.pump_tls(now)?;
            if self.process_frames(now, &mut sink)? == Flow::TlsStarted {
                // Bytes after <proceed/> are TLS records: run them through rustls.
                continue;
            }
            if tls_closed && !matches!(self.state, State::Closed) {
                // close_notify: the server will send nothing more.
                let expected = matches!(self.state, State::Closing { .. });
                if expected {
                    // Ours was held back until the reading ended.
                    self.close_tls();
                }
                self.set_state(State::Closed);
                self.keepalive.stop();
                return if expected {
                    Ok(())
                } else {
                    Err(ConnError::Closed)
                };
            }
            return Ok(());
        }
    }

    /// Feeds ciphertext to rustls and its plaintext to the framer. Returns
    /// true when the server closed TLS (close_notify).
    fn pump_tls(&mut self, now: Instant) -> Result<bool, ConnError> {
        let Some(tls) = self.tls.as_mut() else {
            return Ok(false);
        };
        let mut closed = false;
        let mut buf = [0u8; 4096];
        loop {
            let mut progress = false;
            if !self.tls_in.is_empty() {
                let mut rd: &[u8] = &self.tls_in;
                // An Err means rustls' buffer is full of unread plaintext:
                // drained below, then this loop tries again.
                if let Ok(n) = tls.read_tls(&mut rd)
                    && n > 0
                {
                    self.tls_in.drain(..n.min(self.tls_in.len()));
                    progress = true;
                }
            }
            if let Err(e) = tls.process_new_packets() {
                return Err(self.tls_failed(e));
            }
            loop {
                match tls.reader().read(&mut buf) {
                    Ok(0) => {
                        closed = true;
                        break;
                    }
                    Ok(n) => {
                        self.framer.push(buf.get(..n).unwrap_or_default());
                        progress = true;
                    }
                    // WouldBlock: no more plaintext for now.
                    Err(_) => break,
                }
            }
            if !progress {
                break;
            }
        }
        if matches!(self.state, State::TlsHandshake { .. }) && !tls.is_handshaking() {
            log::debug!(
                "client {}: TLS up ({:?}, {:?})",
                self.account,
                tls.protocol_version(),
                tls.negotiated_cipher_suite().map(|s| s.suite())
            );
            self.restart_stream(now, false);
        }
        Ok(closed)
    }

    /// Turns a rustls error into ours; rustls has queued an alert for the server.
    fn tls_failed(&mut self, e: rustls::Error) -> ConnError {
        let domain = &self.opts.domain;
        let err = match e {
            rustls::Error::InvalidCertificate(reason) => ConnError::Fatal(format!(
                "the TLS certificate of the XMPP server for {domain} is not trusted ({}): \
                 pass --ca_file=<CA that signed the server certificate>, or fix the server's \
                 certificate so that it is valid for {domain} and signed by a trusted CA \
                 (org.jitsi.jicofo.ALWAYS_TRUST_MODE_ENABLED=true disables verification, which \
                 is insecure)",
                certificate_problem(&reason)
            )),
            other => {
                ConnError::Protocol(format!("TLS with the server for {domain} failed: {other}"))
            }
        };
        // Plaintext can no longer be sent; the alert still goes out.
        self.pending.clear();
        self.set_state(State::Closed);
        self.keepalive.stop();
        err
    }

    /// Handles every complete frame in the framer.
    fn process_frames(
        &mut self,
        now: Instant,
        sink: &mut impl FnMut(El<'_>),
    ) -> Result<Flow, ConnError> {
        loop {
            if matches!(self.state, State::Closed) {
                return Ok(Flow::Continue);
            }
            let frame = match self.framer.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => return Ok(Flow::Continue),
                Err(e) => {
                    let (cond, err) = ConnError::from_framer(&e);
                    return Err(self.fail_with(cond, err));
                }
            };
            match frame {
                Frame::Whitespace => {}
                Frame::StreamOpen(range) => self.on_header(now, range)?,
                Frame::StreamClose => {
                    let closing = matches!(self.state, State::Closing { .. });
                    let result = stream::answer_close(&mut self.pending, closing);
                    self.close_tls();
                    self.set_state(State::Closed);
                    self.keepalive.stop();
                    return result.map(|()| Flow::Continue);
                }
                Frame::Stanza(range) => {
                    let frame = self.framer.bytes(range);
                    let doc = match stream::parse_stanza(&mut self.parser, frame, ns::CLIENT) {
                        Ok(d) => d,
                        Err((cond, err)) => return Err(self.fail_with(cond, err)),
                    };
                    let root = doc.root();
                    if let Some(se) = StreamError::parse(root) {
                        let err = self.classify_stream_error(se);
                        return Err(self.close_with(err));
                    }
                    match self.state {
                        State::Ready { .. } => {
                            if !self.keepalive.handle_answer(root) {
                                sink(root);
                            }
                            continue;
                        }
                        State::Closing { .. } => continue,
                        _ => {}
                    }
                    let input = Input::read(root);
                    if self.on_input(now, input)? == Flow::TlsStarted {
                        return Ok(Flow::TlsStarted);
                    }
                }
            }
        }
    }

    fn on_header(&mut self, now: Instant, range: std::ops::Range<usize>) -> Result<(), ConnError> {
        let State::AwaitHeader { authenticated, .. } = self.state else {
            let err = ConnError::Protocol("a second stream header".into());
            return Err(self.fail_with(StreamCondition::NotWellFormed, err));
        };
        let frame = self.framer.bytes(range);
        let header = match stream::read_header(&mut self.parser, frame, ns::CLIENT) {
            Ok(h) => h,
            Err((cond, err)) => return Err(self.fail_with(cond, err)),
        };
        // Without version 1.0 there are no stream features, hence no login.
        if !header
            .version
            .as_deref()
            .is_some_and(|v| v.starts_with("1."))
        {
            let err = ConnError::Protocol(format!(
                "the server's stream header has version {:?}, not 1.x: it does not speak RFC 6120",
                header.version.as_deref().unwrap_or("(none)")
            ));
            return Err(self.fail_with(StreamCondition::UnsupportedVersion, err));
        }
        self.set_state(State::AwaitFeatures {
            deadline: now + HANDSHAKE_TIMEOUT,
            authenticated,
        });
        Ok(())
    }

    /// One handshake element, in the state that waits for it.
    fn on_input(&mut self, now: Instant, input: Input) -> Result<Flow, ConnError> {
        let deadline = now + HANDSHAKE_TIMEOUT;
        match (&mut self.state, input) {
            (
                State::AwaitFeatures {
                    authenticated: false,
                    ..
                },
                Input::Features(f),
            ) => self.on_login_features(now, f),
            (
                State::AwaitFeatures {
                    authenticated: true,
                    ..
                },
                Input::Features(f),
            ) => self.on_bind_features(now, f),
            (State::AwaitProceed { .. }, Input::Proceed) => self.on_proceed(now),
            (State::AwaitProceed { .. }, Input::TlsFailure) => {
                let err = ConnError::Protocol(format!(
                    "the XMPP server for {} could not start TLS (<failure/> to <starttls/>): \
                     check its certificate and key configuration",
                    self.opts.domain
                ));
                Err(self.close_with(err))
            }
            (
                State::Sasl {
                    sasl, mechanism, ..
                },
                Input::Challenge(text),
            ) => {
                let mechanism = *mechanism;
                let Some(data) = decode_payload(&text) else {
                    let err = ConnError::Protocol("a SASL challenge that is not base64".into());
                    return Err(self.fail_with(StreamCondition::BadFormat, err));
                };
                match sasl.handle_challenge(&data) {
                    Ok(response) => {
                        write_sasl(&mut self.pending, "response", None, &response, "");
                        // Still in Sasl, but each round trip gets its own time.
                        if let State::Sasl { deadline: d, .. } = &mut self.state {
                            *d = deadline;
                        }
                        Ok(Flow::Continue)
                    }
                    Err(e) => {
                        let err = self.sasl_error(mechanism, e);
                        Err(self.close_with(err))
                    }
                }
            }
            (
                State::Sasl {
                    sasl, mechanism, ..
                },
                Input::Success(text),
            ) => {
                let mechanism = *mechanism;
                let Some(data) = decode_payload(&text) else {
                    let err = ConnError::Protocol("SASL success data that is not base64".into());
                    return Err(self.fail_with(StreamCondition::BadFormat, err));
                };
                if let Err(e) = sasl.handle_success(&data) {
                    let err = self.sasl_error(mechanism, e);
                    return Err(self.close_with(err));
                }
                log::info!(
                    "client {}: authenticated with {}",
                    self.account,
                    mechanism.name()
                );
                // RFC 6120 §6.4.6: the old stream is gone; bytes already
                // received belong to the new one.
                self.framer.restart();
                self.restart_stream(now, true);
                Ok(Flow::Continue)
            }
            (State::Sasl { mechanism, .. }, Input::SaslFailure { condition, text }) => {
                let mechanism = *mechanism;
                let err = self.sasl_failure(mechanism, &condition, text.as_deref());
                Err(self.close_with(err))
            }
            (State::AwaitBind { session, .. }, Input::IqResult { id, jid }) if id == BIND_ID => {
                let session = *session;
                let jid = match jid {
                    Some(j) if j.contains('/') && !j.starts_with('/') => j,
                    _ => {
                        let err = ConnError::Protocol(
                            "the bind result carries no full JID (<jid>user@domain/resource</jid>)"
                                .into(),
                        );
                        return Err(self.fail_with(StreamCondition::InvalidXml, err));
                    }
                };
                if session {
                    let mut w = XmlWriter::new(&mut self.pending);
                    w.start("iq").attr("type", "set").attr("id", SESSION_ID);
                    w.start_ns("session", ns::SESSION).end().end();
                    self.set_state(State::AwaitSession { deadline, jid });
                    Ok(Flow::Continue)
                } else {
                    self.go_online(now, jid);
                    Ok(Flow::Continue)
                }
            }
            (State::AwaitBind { .. }, Input::IqError { id, condition }) if id == BIND_ID => {
                let err = ConnError::Refused(format!(
                    "the XMPP server refused to bind resource '{}' for {}: {condition}",
                    self.resource(),
                    self.account
                ));
                Err(self.close_with(err))
            }
            (State::AwaitSession { jid, .. }, Input::IqResult { id, .. }) if id == SESSION_ID => {
                let jid = std::mem::take(jid);
                self.go_online(now, jid);
                Ok(Flow::Continue)
            }
            (State::AwaitSession { .. }, Input::IqError { id, condition }) if id == SESSION_ID => {
                let err = ConnError::Refused(format!(
                    "the XMPP server refused to open a session for {}: {condition}",
                    self.account
                ));
                Err(self.close_with(err))
            }
            (state, input) => {
                let err = ConnError::Protocol(format!(
                    "unexpected {} in state {}",
                    input.describe(),
                    state.name()
                ));
                Err(self.fail_with(StreamCondition::UnsupportedStanzaType, err))
            }
        }
    }

    /// Features of the stream before authentication: STARTTLS, then SASL.
    fn on_login_features(&mut self, now: Instant, f: Features) -> Result<Flow, ConnError> {
        if self.tls.is_none() {
            if f.starttls {
                let mut w = XmlWriter::new(&mut self.pending);
                w.start_ns("starttls", ns::TLS).end();
                self.set_state(State::AwaitProceed {
                    deadline: now + HANDSHAKE_TIMEOUT,
                });
                return Ok(Flow::Continue);
            }
            if !self.opts.allow_plaintext {
                let domain = &self.opts.domain;
                let err = ConnError::Fatal(format!(
                    "the XMPP server for {domain} offers no STARTTLS, and the focus does not log \
                     in over an unencrypted connection: enable TLS on the server (a certificate \
                     for {domain}), or allow plaintext with -Djicofo.xmpp.client.use-tls=false"
                ));
                return Err(self.close_with(err));
            }
            log::warn!(
                "client {}: the XMPP server offers no STARTTLS; logging in without encryption \
                 because jicofo.xmpp.client.use-tls=false. Anyone on the network path can read \
                 and alter this connection's stanzas (SCRAM still hides the password; PLAIN is \
                 never used)",
                self.account
            );
        }
        self.start_sasl(now, &f.mechanisms)
    }

    fn start_sasl(&mut self, now: Instant, mechanisms: &[String]) -> Result<Flow, ConnError> {
        let offered: Vec<&str> = mechanisms.iter().map(String::as_str).collect();
        let encrypted = self.tls.is_some();
        let password = self.opts.password.as_ref().map(Secret::expose);
        let mechanism = if encrypted {
            sasl::choose_mechanism(&offered, password.is_some())
        } else {
            sasl::choose_mechanism_excluding_plain(&offered, password.is_some())
        };
        let Some(mechanism) = mechanism else {
            let err = self.no_mechanism(&offered, encrypted);
            return Err(self.close_with(err));
        };
        let client = SaslClient::new(mechanism, &self.opts.username, password, &self.nonce);
        let mut client = match client {
            Ok(c) => c,
            Err(e) => {
                let err = ConnError::Fatal(format!(
                    "cannot log in {} with {}: {e}",
                    self.account,
                    mechanism.name()
                ));
                return Err(self.close_with(err));
            }
        };
        let initial = client.initial_response();
        write_sasl(
            &mut self.pending,
            "auth",
            Some(mechanism.name()),
            &initial,
            "=",
        );
        self.set_state(State::Sasl {
            deadline: now + HANDSHAKE_TIMEOUT,
            mechanism,
            sasl: client,
        });
        Ok(Flow::Continue)
    }

    /// Features of the authenticated stream: bind, maybe a legacy session.
    fn on_bind_features(&mut self, now: Instant, f: Features) -> Result<Flow, ConnError> {
        if !f.bind {
            let err = ConnError::Protocol(
                "the server offers no resource binding after authentication".into(),
            );
            return Err(self.fail_with(StreamCondition::UnsupportedFeature, err));
        }
        let resource = self.resource().to_owned();
        let mut w = XmlWriter::new(&mut self.pending);
        w.start("iq").attr("type", "set").attr("id", BIND_ID);
        w.start_ns("bind", ns::BIND);
        // An empty resource asks the server to pick one.
        if !resource.is_empty() {
            w.text_element("resource", &resource);
        }
        w.end().end();
        self.set_state(State::AwaitBind {
            deadline: now + HANDSHAKE_TIMEOUT,
            session: f.session_required,
        });
        Ok(Flow::Continue)
    }

    fn resource(&self) -> &str {
        self.opts.resource.as_deref().unwrap_or(&self.opts.username)
    }

    /// Bound (and in session): announce ourselves and start the keep-alive.
    fn go_online(&mut self, now: Instant, jid: String) {
        XmlWriter::new(&mut self.pending).start("presence").end();
        log::info!("client {}: online as {jid}", self.account);
        self.keepalive.start(now);
        self.events
            .push_back(ConnEvent::Online { jid: jid.clone() });
        self.set_state(State::Ready { jid });
    }

    /// `<stream:features/>` named no mechanism we may use: say what the
    /// server offered and what to configure.
    fn no_mechanism(&self, offered: &[&str], encrypted: bool) -> ConnError {
        let list = if offered.is_empty() {
            "none".to_owned()
        } else {
            offered.join(", ")
        };
        let (domain, account) = (&self.opts.domain, &self.account);
        ConnError::Fatal(if self.opts.password.is_none() {
            format!(
                "the XMPP server does not allow anonymous login on {domain} (SASL mechanisms \
                 offered: {list}): enable it (Prosody: authentication = \"anonymous\" on \
                 VirtualHost \"{domain}\"), or give the focus an account with --user_password"
            )
        } else if !encrypted && offered.contains(&"PLAIN") {
            format!(
                "the XMPP server offers only {list} on an unencrypted connection; PLAIN would \
                 send the password of {account} in the clear: enable TLS on the server (the focus \
                 then uses STARTTLS), or SCRAM (Prosody: authentication = \"internal_hashed\")"
            )
        } else {
            format!(
                "the XMPP server offers no SASL mechanism the focus can use to log in {account} \
                 (offered: {list}; supported: SCRAM-SHA-256, SCRAM-SHA-1, PLAIN over TLS): enable \
                 password logins on VirtualHost \"{domain}\" (Prosody: authentication = \
                 \"internal_hashed\")"
            )
        })
    }

    /// A SASL `<failure/>`: configuration errors are fatal and name the fix.
    fn sasl_failure(&self, mechanism: Mechanism, condition: &str, text: Option<&str>) -> ConnError {
        let (domain, account, user) = (&self.opts.domain, &self.account, &self.opts.username);
        let mech = mechanism.name();
        let detail = text.map(|t| format!(" (\"{t}\")")).unwrap_or_default();
        match condition {
            "not-authorized" if self.opts.password.is_some() => ConnError::Fatal(format!(
                "the XMPP server rejected the password for {account}{detail}: --user_password \
                 does not match the account (create it with: prosodyctl register {user} {domain} \
                 <password>)"
            )),
            "not-authorized" => ConnError::Fatal(format!(
                "the XMPP server refused anonymous login on {domain}{detail}: enable it \
                 (Prosody: authentication = \"anonymous\"), or give the focus an account with \
                 --user_password"
            )),
            "account-disabled" => ConnError::Fatal(format!(
                "the account {account} is disabled on the XMPP server{detail}: enable it again"
            )),
            "credentials-expired" => ConnError::Fatal(format!(
                "the password of {account} has expired{detail}: set a new one on the server and \
                 in --user_password"
            )),
            "encryption-required" => ConnError::Fatal(format!(
                "the XMPP server requires encryption to log in {account} with {mech}{detail}: \
                 enable TLS on the server (the focus then uses STARTTLS)"
            )),
            "mechanism-too-weak" => ConnError::Fatal(format!(
                "the XMPP server considers {mech} too weak for {account}{detail}: offer \
                 SCRAM-SHA-256 or SCRAM-SHA-1 (Prosody: authentication = \"internal_hashed\"), \
                 or enable TLS so that PLAIN is protected"
            )),
            "temporary-auth-failure" => ConnError::Refused(format!(
                "the XMPP server could not check the credentials of {account} for now{detail}"
            )),
            other => ConnError::Protocol(format!(
                "SASL {mech} login of {account} failed with <{other}/>{detail}"
            )),
        }
    }

    /// An error of our SASL client. A SCRAM server that cannot prove it
    /// knows the password is not the server we meant to reach.
    fn sasl_error(&self, mechanism: Mechanism, e: SaslError) -> ConnError {
        let (domain, account) = (&self.opts.domain, &self.account);
        match e {
            SaslError::ServerSignatureMismatch | SaslError::ServerSignatureMissing => {
                ConnError::Fatal(format!(
                    "the XMPP server for {domain} did not prove that it knows the password of \
                     {account} ({e}): the connection may be intercepted (man in the middle), or \
                     the account's stored credentials changed during the login; not retrying"
                ))
            }
            SaslError::ServerError(ref m) if m == "invalid-proof" => {
                self.sasl_failure(mechanism, "not-authorized", Some("e=invalid-proof"))
            }
            SaslError::InvalidInput(_) | SaslError::PasswordRequired => ConnError::Fatal(format!(
                "cannot log in {account} with {}: {e}",
                mechanism.name()
            )),
            other => {
                ConnError::Protocol(format!("SASL {} with {domain}: {other}", mechanism.name()))
            }
        }
    }

    /// Turns a received stream error into ours, naming the fix for the
    /// configuration mistakes it reveals.
    fn classify_stream_error(&self, se: StreamError) -> ConnError {
        let handshaking = !matches!(self.state, State::Ready { .. } | State::Closing { .. });
        let domain = &self.opts.domain;
        match se.condition {
            StreamCondition::HostUnknown if handshaking => ConnError::Fatal(format!(
                "the XMPP server has no virtual host {domain} (stream error host-unknown): fix \
                 --user_domain, or add VirtualHost \"{domain}\" to the server's config"
            )),
            _ => ConnError::Stream(se),
        }
    }

    /// The current state may write XML: not before the stream, not in the
    /// middle of the TLS handshake, not after our `</stream:stream>`.
    fn can_write_xml(&self) -> bool {
        !matches!(
            self.state,
            State::Idle | State::Closed | State::TlsHandshake { .. } | State::Closing { .. }
        )
    }

    /// Moves our XML through rustls, then queues TLS close_notify.
    fn close_tls(&mut self) {
        self.flush();
        if let Some(tls) = self.tls.as_mut() {
            tls.send_close_notify();
        }
    }

    /// Queues a stream error and the close, and ends the stream.
    fn fail_with(&mut self, cond: StreamCondition, err: ConnError) -> ConnError {
        if self.can_write_xml() {
            stream::write_stream_error(&mut self.pending, cond, None);
        }
        self.end(err)
    }

    /// Queues a plain close (the server told us why already, or it is our
    /// configuration), and ends the stream.
    fn close_with(&mut self, err: ConnError) -> ConnError {
        if self.can_write_xml() {
            self.pending.extend_from_slice(stream::STREAM_CLOSE);
        }
        self.end(err)
    }

    fn end(&mut self, err: ConnError) -> ConnError {
        self.close_tls();
        self.set_state(State::Closed);
        self.keepalive.stop();
        err
    }

    /// `<proceed/>`: everything after it is TLS.
    fn on_proceed(&mut self, now: Instant) -> Result<Flow, ConnError> {
        // <starttls/> must leave in the clear, before any TLS record.
        self.flush();
        let early = self.framer.take_unframed();
        let domain = &self.opts.domain;
        let Ok(name) = ServerName::try_from(domain.clone()) else {
            let err = ConnError::Fatal(format!(
                "--user_domain {domain} is not a name a TLS certificate can carry"
            ));
            return Err(self.close_with(err));
        };
        let mut tls = match rustls::ClientConnection::new(self.opts.tls.clone(), name) {
            Ok(t) => t,
            Err(e) => {
                let err = ConnError::Fatal(format!("cannot start TLS: {e}"));
                return Err(self.close_with(err));
            }
        };
        // Our output buffer is the limit, as on the plaintext stream.
        tls.set_buffer_limit(None);
        self.tls = Some(tls);
        self.tls_in = early;
        self.set_state(State::TlsHandshake {
            deadline: now + HANDSHAKE_TIMEOUT,
        });
        Ok(Flow::TlsStarted)
    }

    /// Moves written XML to the socket buffer, through rustls once TLS is up.
    fn flush(&mut self) {
        match self.tls.as_mut() {
            None => self.out.append(&mut self.pending),
            Some(tls) => {
                if !self.pending.is_empty() {
                    // Unlimited buffer: the write takes everything (before the
                    // handshake ends rustls holds it back).
                    let _ = tls.writer().write_all(&self.pending);
                    self.pending.clear();
                }
                while tls.wants_write() {
                    match tls.write_tls(&mut self.out) {
                        Ok(n) if n > 0 => {}
                        _ => break,
                    }
                }
            }
        }
    }

    /// Queues a serialised stanza. Returns false (and drops it) when the
    /// stream is not ready: stanzas are never sent before the login.
    pub fn send(&mut self, stanza: &[u8]) -> bool {
        if !self.is_ready() {
            return false;
        }
        self.pending.extend_from_slice(stanza);
        true
    }

    /// Bytes waiting for the socket (encrypts what was written first).
    pub fn output(&mut self) -> &[u8] {
        self.flush();
        &self.out
    }

    /// `n` bytes of [`ClientConn::output`] were written to the socket.
    pub fn consume_output(&mut self, n: usize) {
        self.out.drain(..n.min(self.out.len()));
    }

    /// An event for the owner, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ConnEvent> {
        self.events.pop_front()
    }

    /// When [`ClientConn::handle_timeout`] must run next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Ready { .. } => self.keepalive.poll_timeout(),
            State::Closing { deadline } => Some(deadline),
            ref s => s.deadline().map(|(d, _)| d),
        }
    }

    /// Advances timers: handshake deadlines and keep-alive pings.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), ConnError> {
        match self.state {
            State::Closing { deadline } if now >= deadline => {
                self.close_tls();
                self.set_state(State::Closed);
                Ok(())
            }
            State::Ready { ref jid } => match self.keepalive.handle_timeout(now) {
                KeepAliveAction::Idle => Ok(()),
                KeepAliveAction::SendPing(id) => {
                    ping::write_ping(&mut self.pending, &id, Some(jid), &self.opts.domain);
                    Ok(())
                }
                KeepAliveAction::Dead => Err(self.fail_with(
                    StreamCondition::ConnectionTimeout,
                    ConnError::Timeout("keep-alive ping"),
                )),
            },
            ref s => {
                match s.deadline() {
                    Some((deadline, step)) if now >= deadline => Err(self
                        .fail_with(StreamCondition::ConnectionTimeout, ConnError::Timeout(step))),
                    _ => Ok(()),
                }
            }
        }
    }

    /// Starts a clean close: `</stream:stream>` (through TLS), then wait
    /// (bounded) for the server's; TLS close_notify follows when the wait
    /// ends. During the TLS handshake there is no stream to close: the
    /// stream is over at once (close the socket).
    pub fn close(&mut self, now: Instant) {
        match self.state {
            State::Idle | State::Closed | State::Closing { .. } => {}
            State::TlsHandshake { .. } => {
                // A close_notify before the handshake ends is not TLS, and
                // rustls would go on reading the server's handshake.
                self.set_state(State::Closed);
                self.keepalive.stop();
            }
            _ => {
                if self.can_write_xml() {
                    self.pending.extend_from_slice(stream::STREAM_CLOSE);
                }
                // Through rustls now; its close_notify when we stop reading.
                self.flush();
                self.keepalive.stop();
                self.set_state(State::Closing {
                    deadline: now + CLOSE_TIMEOUT,
                });
            }
        }
    }

    /// The socket reached end of file. Returns the error to report, if the
    /// end was not expected.
    pub fn handle_eof(&mut self) -> Option<ConnError> {
        let expected = matches!(self.state, State::Closing { .. } | State::Closed);
        self.set_state(State::Closed);
        self.keepalive.stop();
        if expected {
            None
        } else {
            Some(ConnError::Closed)
        }
    }
}

#[cfg(test)]
mod tests;
