//! An XMPP peer on a thread, built on the project's own sans-IO stream
//! machines over a blocking loopback socket: the base of the emulated
//! bridges. A handler sees every stanza and writes answers; the test keeps a
//! [`PeerThread`] handle to stop it (cleanly, or as a crash).
//!
//! Using our own `ComponentConn`/`ClientConn` here is deliberate: they are
//! proven against Prosody by their own tests, and the emulator then needs no
//! second XMPP implementation.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use jicofo::config::Secret;
use jicofo::conn::client::{ClientConn, ClientOptions};
use jicofo::conn::component::{ComponentConn, ComponentOptions};
use jicofo::conn::keepalive::KeepAliveConfig;
use jicofo::conn::tls::{RootChoice, client_config};
use jicofo::conn::{ConnError, ConnEvent};
use jicofo::xml::El;

use super::prosody::Prosody;

/// What the handler is told.
pub enum PeerInput<'a> {
    /// The stream is authenticated; our JID.
    Online(&'a str),
    /// A stanza.
    Stanza(El<'a>),
    /// Time passed (about every 20 ms).
    Tick(Instant),
}

const RUN: u8 = 0;
const STOP: u8 = 1;
const CRASH: u8 = 2;

/// A running peer thread.
pub struct PeerThread {
    control: Arc<AtomicU8>,
    thread: Option<JoinHandle<()>>,
}

impl PeerThread {
    /// Closes the stream cleanly and joins the thread.
    pub fn stop(mut self) {
        self.finish(STOP);
    }

    /// Drops the socket without a goodbye, as a crashed process would.
    pub fn crash(mut self) {
        self.finish(CRASH);
    }

    fn finish(&mut self, how: u8) {
        self.control.store(how, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// True while the thread runs.
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl Drop for PeerThread {
    fn drop(&mut self) {
        self.finish(STOP);
    }
}

/// Either stream machine behind one interface.
enum Machine {
    Component(Box<ComponentConn>),
    Client(Box<ClientConn>),
}

impl Machine {
    fn start(&mut self, now: Instant) {
        match self {
            Machine::Component(c) => c.start(now),
            Machine::Client(c) => c.start(now, "emulatornonce0123456789"),
        }
    }
    fn input(&mut self, data: &[u8]) {
        match self {
            Machine::Component(c) => c.handle_input(data),
            Machine::Client(c) => c.handle_input(data),
        }
    }
    fn process(&mut self, now: Instant, sink: impl FnMut(El<'_>)) -> Result<(), ConnError> {
        match self {
            Machine::Component(c) => c.process(now, sink),
            Machine::Client(c) => c.process(now, sink),
        }
    }
    fn send(&mut self, bytes: &[u8]) -> bool {
        match self {
            Machine::Component(c) => c.send(bytes),
            Machine::Client(c) => c.send(bytes),
        }
    }
    fn output(&mut self) -> Vec<u8> {
        let out = match self {
            Machine::Component(c) => c.output().to_vec(),
            Machine::Client(c) => c.output().to_vec(),
        };
        match self {
            Machine::Component(c) => c.consume_output(out.len()),
            Machine::Client(c) => c.consume_output(out.len()),
        }
        out
    }
    fn event(&mut self) -> Option<ConnEvent> {
        match self {
            Machine::Component(c) => c.poll_event(),
            Machine::Client(c) => c.poll_event(),
        }
    }
    fn timeout(&mut self, now: Instant) -> Result<(), ConnError> {
        match self {
            Machine::Component(c) => c.handle_timeout(now),
            Machine::Client(c) => c.handle_timeout(now),
        }
    }
    fn close(&mut self, now: Instant) {
        match self {
            Machine::Component(c) => c.close(now),
            Machine::Client(c) => c.close(now),
        }
    }
}

fn keepalive() -> KeepAliveConfig {
    KeepAliveConfig {
        interval: None,
        timeout: Duration::from_secs(5),
        threshold: 3,
    }
}

/// Runs an XEP-0114 component `jid` with `secret` against `prosody`.
pub fn spawn_component<H>(prosody: &Prosody, jid: &str, secret: &str, handler: H) -> PeerThread
where
    H: FnMut(PeerInput<'_>, &mut Vec<u8>) + Send + 'static,
{
    let opts = ComponentOptions {
        jid: jid.to_string(),
        server_domain: super::DOMAIN.to_string(),
        secret: Secret::new(secret),
        max_stanza: 1 << 20,
        keepalive: keepalive(),
    };
    spawn(
        prosody.component_port,
        Machine::Component(Box::new(ComponentConn::new(opts))),
        handler,
    )
}

static NEXT_RESOURCE: AtomicUsize = AtomicUsize::new(0);

/// Runs a c2s client `user@domain` with `password` against `prosody`.
pub fn spawn_client<H>(
    prosody: &Prosody,
    user: &str,
    domain: &str,
    password: &str,
    handler: H,
) -> PeerThread
where
    H: FnMut(PeerInput<'_>, &mut Vec<u8>) + Send + 'static,
{
    let ca = std::fs::read(prosody.ca_file()).expect("read the test CA");
    let opts = ClientOptions {
        domain: domain.to_string(),
        username: user.to_string(),
        password: Some(Secret::new(password)),
        // Unique per peer: two bridges of one test may share an account.
        resource: Some(format!(
            "emulator-{}-{}",
            std::process::id(),
            NEXT_RESOURCE.fetch_add(1, Ordering::Relaxed)
        )),
        tls: client_config(RootChoice::CaPem(ca)).expect("TLS config"),
        allow_plaintext: false,
        max_stanza: 1 << 20,
        keepalive: keepalive(),
    };
    spawn(
        prosody.c2s_port,
        Machine::Client(Box::new(ClientConn::new(opts))),
        handler,
    )
}

fn spawn<H>(port: u16, mut m: Machine, mut handler: H) -> PeerThread
where
    H: FnMut(PeerInput<'_>, &mut Vec<u8>) + Send + 'static,
{
    let control = Arc::new(AtomicU8::new(RUN));
    let ctl = Arc::clone(&control);
    let thread = std::thread::spawn(move || {
        let Ok(mut sock) = TcpStream::connect(("127.0.0.1", port)) else {
            return;
        };
        let _ = sock.set_read_timeout(Some(Duration::from_millis(20)));
        let _ = sock.set_nodelay(true);
        m.start(Instant::now());
        let mut buf = vec![0u8; 65536];
        let mut out = Vec::new();
        loop {
            let _ = sock.write_all(&m.output());
            match ctl.load(Ordering::SeqCst) {
                CRASH => return,
                STOP => {
                    m.close(Instant::now());
                    let _ = sock.write_all(&m.output());
                    std::thread::sleep(Duration::from_millis(50));
                    return;
                }
                _ => {}
            }
            let now = Instant::now();
            match sock.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    m.input(&buf[..n]);
                    if m.process(now, |el| handler(PeerInput::Stanza(el), &mut out))
                        .is_err()
                    {
                        let _ = sock.write_all(&m.output());
                        return;
                    }
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => return,
            }
            while let Some(ConnEvent::Online { jid }) = m.event() {
                handler(PeerInput::Online(&jid), &mut out);
            }
            handler(PeerInput::Tick(now), &mut out);
            if !out.is_empty() {
                m.send(&out);
                out.clear();
            }
            if m.timeout(now).is_err() {
                let _ = sock.write_all(&m.output());
                return;
            }
        }
    });
    PeerThread {
        control,
        thread: Some(thread),
    }
}
