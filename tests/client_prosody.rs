//! The c2s client machine (`jicofo::conn::client`) against a real Prosody:
//! STARTTLS with the test CA, SCRAM, ANONYMOUS, bind, and the Fatal
//! messages for the configuration mistakes a deployer makes.
//!
//! The machine is driven here by a small blocking loop over a std
//! `TcpStream` (the real shell uses mio); only the bytes matter to it.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jicofo::config::Secret;
use jicofo::conn::client::{ClientConn, ClientOptions, ClientState};
use jicofo::conn::keepalive::KeepAliveConfig;
use jicofo::conn::sasl::Mechanism;
use jicofo::conn::tls::{RootChoice, client_config};
use jicofo::conn::{ConnError, ConnEvent};
use support::{AUTH_DOMAIN, DOMAIN, FOCUS_PASSWORD, FOCUS_USER, Prosody, ProsodyOpts};

const T: Duration = Duration::from_secs(15);

fn trusting(p: &Prosody) -> Arc<rustls::ClientConfig> {
    let pem = std::fs::read(p.ca_file()).expect("the test CA file");
    client_config(RootChoice::CaPem(pem)).unwrap()
}

fn opts(domain: &str, password: Option<&str>, tls: Arc<rustls::ClientConfig>) -> ClientOptions {
    ClientOptions {
        domain: domain.into(),
        username: FOCUS_USER.into(),
        password: password.map(Secret::new),
        resource: None,
        tls,
        allow_plaintext: false,
        max_stanza: 256 * 1024,
        keepalive: KeepAliveConfig::default(),
    }
}

/// A connection and its socket.
struct Session {
    conn: ClientConn,
    sock: TcpStream,
    stanzas: Vec<String>,
    events: Vec<ConnEvent>,
}

impl Session {
    fn connect(p: &Prosody, opts: ClientOptions) -> Session {
        let sock = TcpStream::connect(("127.0.0.1", p.c2s_port)).unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let mut conn = ClientConn::new(opts);
        conn.start(Instant::now(), "cLiEnTnOnCe0123456789");
        Session {
            conn,
            sock,
            stanzas: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Moves bytes until `done` holds or the stream ends; returns its error.
    fn run_until(&mut self, done: impl Fn(&Session) -> bool) -> Result<(), ConnError> {
        let give_up = Instant::now() + T;
        let mut buf = [0u8; 16 * 1024];
        loop {
            let out = self.conn.output().to_vec();
            if !out.is_empty() {
                self.sock.write_all(&out).unwrap();
                self.conn.consume_output(out.len());
            }
            if done(self) {
                return Ok(());
            }
            assert!(Instant::now() < give_up, "stuck in {:?}", self.conn.state());
            match self.sock.read(&mut buf) {
                Ok(0) => {
                    return match self.conn.handle_eof() {
                        Some(e) => Err(e),
                        None => Ok(()),
                    };
                }
                Ok(n) => self.conn.handle_input(&buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => panic!("socket: {e}"),
            }
            let now = Instant::now();
            let stanzas = &mut self.stanzas;
            let processed = self
                .conn
                .process(now, |el| stanzas.push(el.outer_xml().to_owned()));
            let timed = self.conn.handle_timeout(now);
            while let Some(ev) = self.conn.poll_event() {
                self.events.push(ev);
            }
            if let Err(e) = processed.and(timed) {
                // Let the closing bytes (stream error, alert) reach the server.
                let out = self.conn.output().to_vec();
                let _ = self.sock.write_all(&out);
                return Err(e);
            }
        }
    }

    fn login(&mut self) -> Result<(), ConnError> {
        self.run_until(|s| s.conn.is_ready())
    }
}

#[test]
fn focus_logs_in_over_starttls_with_scram_and_binds() {
    let p = Prosody::start(ProsodyOpts::default());
    let mut s = Session::connect(&p, opts(AUTH_DOMAIN, Some(FOCUS_PASSWORD), trusting(&p)));
    s.run_until(|s| matches!(s.conn.state(), ClientState::Sasl { .. }))
        .unwrap();
    // internal_hashed stores SCRAM-SHA-1 keys: that is what is offered.
    assert!(matches!(
        s.conn.state(),
        ClientState::Sasl {
            mechanism: Mechanism::ScramSha1,
            ..
        }
    ));
    s.login().unwrap();
    let jid = s.conn.jid().unwrap().to_owned();
    assert_eq!(jid, "focus@auth.meet.test/focus");
    assert_eq!(s.events, vec![ConnEvent::Online { jid: jid.clone() }]);

    // Stanzas flow: the server answers a ping with a result for the sink.
    let ping =
        format!("<iq type='get' id='p1' to='{AUTH_DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>");
    assert!(s.conn.send(ping.as_bytes()));
    s.run_until(|s| s.stanzas.iter().any(|x| x.contains("id='p1'")))
        .unwrap();
    let answer = s.stanzas.iter().find(|x| x.contains("id='p1'")).unwrap();
    assert!(answer.contains("type='result'"), "{answer}");

    // A clean close: Prosody answers </stream:stream> and hangs up.
    s.conn.close(Instant::now());
    s.run_until(|s| s.conn.state() == ClientState::Closed)
        .unwrap();
    assert!(
        p.wait_log(
            "c2s stream for focus@auth.meet.test/focus closed: session closed",
            Duration::from_secs(5)
        ),
        "Prosody saw no clean close"
    );
}

#[test]
fn scram_sha_256_is_preferred_when_offered() {
    let p = Prosody::start(ProsodyOpts::default().auth_plain());
    let mut s = Session::connect(&p, opts(AUTH_DOMAIN, Some(FOCUS_PASSWORD), trusting(&p)));
    s.run_until(|s| matches!(s.conn.state(), ClientState::Sasl { .. }))
        .unwrap();
    assert!(matches!(
        s.conn.state(),
        ClientState::Sasl {
            mechanism: Mechanism::ScramSha256,
            ..
        }
    ));
    s.login().unwrap();
}

#[test]
fn anonymous_login_on_the_guest_domain() {
    let p = Prosody::start(ProsodyOpts::default());
    let mut s = Session::connect(&p, opts(DOMAIN, None, trusting(&p)));
    s.login().unwrap();
    let jid = s.conn.jid().unwrap();
    assert!(jid.ends_with("@meet.test/focus"), "{jid}");
}

#[test]
fn wrong_password_is_fatal_and_names_the_account() {
    let p = Prosody::start(ProsodyOpts::default());
    let mut s = Session::connect(
        &p,
        opts(AUTH_DOMAIN, Some("not-the-password"), trusting(&p)),
    );
    let err = s.login().unwrap_err();
    assert!(err.is_fatal(), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("focus@auth.meet.test"), "{msg}");
    assert!(
        msg.contains("prosodyctl register focus auth.meet.test"),
        "{msg}"
    );
    assert!(!msg.contains("not-the-password"), "{msg}");
}

#[test]
fn anonymous_login_on_a_password_domain_is_fatal() {
    let p = Prosody::start(ProsodyOpts::default());
    let mut s = Session::connect(&p, opts(AUTH_DOMAIN, None, trusting(&p)));
    let err = s.login().unwrap_err();
    assert!(err.is_fatal(), "{err}");
    assert!(err.to_string().contains("anonymous login"), "{err}");
}

#[test]
fn unknown_virtual_host_is_fatal() {
    let p = Prosody::start(ProsodyOpts::default());
    let mut s = Session::connect(&p, opts("nohost.test", Some(FOCUS_PASSWORD), trusting(&p)));
    let err = s.login().unwrap_err();
    assert!(err.is_fatal(), "{err}");
    assert!(err.to_string().contains("--user_domain"), "{err}");
}

#[test]
fn a_certificate_from_an_unknown_ca_is_fatal() {
    let p = Prosody::start(ProsodyOpts::default());
    // The system store does not know the throwaway test CA.
    let (roots, _) = jicofo::conn::tls::load_system_roots();
    let config = if roots.is_empty() {
        // A machine without a store: any other CA proves the same point.
        let other = rcgen::generate_simple_self_signed(vec!["other.test".to_string()]).unwrap();
        client_config(RootChoice::CaPem(other.cert.pem().into_bytes())).unwrap()
    } else {
        client_config(RootChoice::System(roots)).unwrap()
    };
    let mut s = Session::connect(&p, opts(AUTH_DOMAIN, Some(FOCUS_PASSWORD), config));
    let err = s.login().unwrap_err();
    assert!(err.is_fatal(), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("not trusted") && msg.contains("--ca_file"),
        "{msg}"
    );
}
