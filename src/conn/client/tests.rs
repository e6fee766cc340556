//! Tests of the client stream machine: scripted server bytes, a fake clock,
//! and a real in-memory rustls server for the STARTTLS paths.

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::*;
use crate::conn::tls::test_pki::TestCa;
use crate::conn::tls::{RootChoice, client_config};

const DOMAIN: &str = "auth.meet.test";
const PASSWORD: &str = "s3cret-Pa55";

// RFC 5802 §5: user "user", password "pencil".
const RFC_NONCE: &str = "fyko+d2lbbFgONRv9qkxdawL";
const RFC_CLIENT_FIRST: &str = "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL";
const RFC_SERVER_FIRST: &str =
    "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
const RFC_CLIENT_FINAL: &str =
    "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";
const RFC_SERVER_FINAL: &str = "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=";

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='auth.meet.test' version='1.0'>";
const STARTTLS_FEATURES: &str = "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>\
    <required/></starttls></stream:features>";
const PROCEED: &str = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
const SUCCESS: &str = "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";
const BIND_FEATURES: &str = "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>\
    <session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session></stream:features>";
const BIND_SESSION_FEATURES: &str = "<stream:features>\
    <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>\
    <session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></stream:features>";
const SESSION_RESULT: &str = "<iq type='result' id='session-1'/>";

fn mechanisms(list: &[&str]) -> String {
    let mut s =
        String::from("<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>");
    for m in list {
        s.push_str(&format!("<mechanism>{m}</mechanism>"));
    }
    s + "</mechanisms></stream:features>"
}

fn sasl_el(name: &str, raw: &str) -> String {
    format!(
        "<{name} xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</{name}>",
        B64.encode(raw)
    )
}

fn bind_result(jid: &str) -> String {
    format!(
        "<iq type='result' id='bind-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
         <jid>{jid}</jid></bind></iq>"
    )
}

fn sasl_failure(condition: &str) -> String {
    format!("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><{condition}/></failure>")
}

/// A TLS config for streams that never reach TLS.
fn any_tls() -> Arc<rustls::ClientConfig> {
    client_config(RootChoice::TrustAnything).unwrap()
}

fn opts(password: Option<&str>, allow_plaintext: bool) -> ClientOptions {
    ClientOptions {
        domain: DOMAIN.into(),
        username: "focus".into(),
        password: password.map(Secret::new),
        resource: None,
        tls: any_tls(),
        allow_plaintext,
        max_stanza: 4096,
        keepalive: KeepAliveConfig::default(),
    }
}

/// Takes the socket output as text (plaintext streams only).
fn take_out(c: &mut ClientConn) -> String {
    let bytes = c.output().to_vec();
    c.consume_output(bytes.len());
    String::from_utf8(bytes).expect("plaintext output")
}

/// Feeds server bytes in one read; returns what reached the sink.
fn feed(c: &mut ClientConn, now: Instant, data: &str) -> Result<Vec<String>, ConnError> {
    deliver(c, now, data.as_bytes(), usize::MAX)
}

/// Feeds server bytes in reads of `chunk` bytes, processing after each.
fn deliver(
    c: &mut ClientConn,
    now: Instant,
    data: &[u8],
    chunk: usize,
) -> Result<Vec<String>, ConnError> {
    let mut got = Vec::new();
    for part in data.chunks(chunk.max(1)) {
        c.handle_input(part);
        c.process(now, |el| got.push(el.outer_xml().to_owned()))?;
    }
    Ok(got)
}

fn no_sink(el: El<'_>) {
    panic!("nothing may reach the application yet: {el:?}");
}

/// An anonymous plaintext login driven up to (not into) `stop`, one of the
/// state names; returns the connection and the time of the last step.
fn anonymous_until(stop: &str) -> (ClientConn, Instant) {
    let mut c = ClientConn::new(opts(None, true));
    let t0 = Instant::now();
    c.start(t0, "nonce");
    let steps: [(&str, String); 6] = [
        ("AwaitFeatures", HEADER.into()),
        ("Sasl", mechanisms(&["ANONYMOUS"])),
        ("AwaitHeader2", SUCCESS.into()),
        ("AwaitBind", format!("{HEADER}{BIND_SESSION_FEATURES}")),
        ("AwaitSession", bind_result("x1@auth.meet.test/focus")),
        ("Ready", SESSION_RESULT.into()),
    ];
    let mut now = t0;
    for (name, data) in steps {
        if name == stop {
            break;
        }
        now += Duration::from_secs(1);
        feed(&mut c, now, &data).unwrap_or_else(|e| panic!("before {name}: {e}"));
        if name != "Ready" {
            assert_eq!(c.poll_event(), None, "no event before {name}");
        }
    }
    take_out(&mut c);
    (c, now)
}

#[test]
fn plaintext_scram_sha1_login_follows_rfc5802() {
    let mut o = opts(Some("pencil"), true);
    o.username = "user".into();
    let mut c = ClientConn::new(o);
    let t0 = Instant::now();
    c.start(t0, RFC_NONCE);
    assert_eq!(
        take_out(&mut c),
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
         xmlns:stream='http://etherx.jabber.org/streams' to='auth.meet.test' version='1.0'>"
    );
    assert_eq!(
        c.state(),
        ClientState::AwaitHeader {
            deadline: t0 + HANDSHAKE_TIMEOUT
        }
    );
    // PLAIN is offered first but never used on a plaintext stream.
    let features = mechanisms(&["PLAIN", "SCRAM-SHA-1"]);
    feed(&mut c, t0, &format!("{HEADER}{features}")).unwrap();
    assert_eq!(
        take_out(&mut c),
        format!(
            "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>{}</auth>",
            B64.encode(RFC_CLIENT_FIRST)
        )
    );
    assert!(matches!(
        c.state(),
        ClientState::Sasl {
            mechanism: Mechanism::ScramSha1,
            ..
        }
    ));
    feed(&mut c, t0, &sasl_el("challenge", RFC_SERVER_FIRST)).unwrap();
    assert_eq!(take_out(&mut c), sasl_el("response", RFC_CLIENT_FINAL));
    // Success and the new stream's header in one read: the restart keeps them.
    feed(
        &mut c,
        t0,
        &format!("{}{HEADER}", sasl_el("success", RFC_SERVER_FINAL)),
    )
    .unwrap();
    let restart = take_out(&mut c);
    assert!(
        restart.starts_with("<?xml version='1.0'?><stream:stream"),
        "{restart}"
    );
    assert!(matches!(c.state(), ClientState::AwaitFeatures { .. }));
    feed(&mut c, t0, BIND_FEATURES).unwrap();
    assert_eq!(
        take_out(&mut c),
        "<iq type='set' id='bind-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
         <resource>user</resource></bind></iq>"
    );
    assert!(c.jid().is_none());
    feed(&mut c, t0, &bind_result("user@auth.meet.test/user")).unwrap();
    // An optional session is skipped: presence follows the bind at once.
    assert_eq!(take_out(&mut c), "<presence/>");
    assert!(c.is_ready());
    assert_eq!(c.jid(), Some("user@auth.meet.test/user"));
    assert_eq!(
        c.poll_event(),
        Some(ConnEvent::Online {
            jid: "user@auth.meet.test/user".into()
        })
    );
    assert_eq!(c.poll_event(), None);
}

#[test]
fn anonymous_login_sends_an_empty_initial_response_and_binds_the_resource() {
    let mut o = opts(None, true);
    o.resource = Some("focus123".into());
    let mut c = ClientConn::new(o);
    let t0 = Instant::now();
    c.start(t0, "unused");
    take_out(&mut c);
    let features = mechanisms(&["SCRAM-SHA-1", "ANONYMOUS"]);
    feed(&mut c, t0, &format!("{HEADER}{features}")).unwrap();
    assert_eq!(
        take_out(&mut c),
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'>=</auth>"
    );
    feed(&mut c, t0, &format!("{SUCCESS}{HEADER}{BIND_FEATURES}")).unwrap();
    let out = take_out(&mut c);
    assert!(
        out.ends_with("<resource>focus123</resource></bind></iq>"),
        "{out}"
    );
    feed(&mut c, t0, &bind_result("b5c1@auth.meet.test/focus123")).unwrap();
    assert_eq!(take_out(&mut c), "<presence/>");
    assert_eq!(c.jid(), Some("b5c1@auth.meet.test/focus123"));
}

#[test]
fn required_session_is_established_before_presence() {
    // Stopped in AwaitBind, after features that require a session.
    let (mut c, now) = anonymous_until("AwaitSession");
    feed(&mut c, now, &bind_result("x1@auth.meet.test/focus")).unwrap();
    assert_eq!(
        take_out(&mut c),
        "<iq type='set' id='session-1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>"
    );
    assert!(matches!(c.state(), ClientState::AwaitSession { .. }));
    assert!(!c.is_ready() && c.jid().is_none());
    assert!(c.poll_event().is_none());
    feed(&mut c, now, SESSION_RESULT).unwrap();
    assert_eq!(take_out(&mut c), "<presence/>");
    assert_eq!(c.jid(), Some("x1@auth.meet.test/focus"));
    assert!(matches!(c.poll_event(), Some(ConnEvent::Online { .. })));
}

#[test]
fn bind_answers_without_a_full_jid_or_with_an_error_end_the_stream() {
    let (mut c, now) = anonymous_until("AwaitSession");
    let err = feed(&mut c, now, "<iq type='result' id='bind-1'/>").unwrap_err();
    assert!(
        matches!(err, ConnError::Protocol(ref m) if m.contains("full JID")),
        "{err}"
    );
    assert_eq!(c.state(), ClientState::Closed);
    let (mut c, now) = anonymous_until("AwaitSession");
    let err = feed(&mut c, now, &bind_result("x1@auth.meet.test")).unwrap_err();
    assert!(matches!(err, ConnError::Protocol(_)), "{err}");
    let (mut c, now) = anonymous_until("AwaitSession");
    let refusal = "<iq type='error' id='bind-1'><error type='cancel'>\
        <conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>";
    let err = feed(&mut c, now, refusal).unwrap_err();
    assert!(!err.is_fatal());
    assert!(
        matches!(err, ConnError::Refused(ref m) if m.contains("conflict") && m.contains("'focus'")),
        "{err}"
    );
    // An answer to some other request is not a bind result.
    let (mut c, now) = anonymous_until("AwaitSession");
    let err = feed(&mut c, now, "<iq type='result' id='other'/>").unwrap_err();
    assert!(matches!(err, ConnError::Protocol(_)), "{err}");
}

#[test]
fn no_starttls_without_opt_in_is_fatal_and_names_the_fix() {
    let mut c = ClientConn::new(opts(Some(PASSWORD), false));
    let t0 = Instant::now();
    c.start(t0, "n");
    take_out(&mut c);
    let features = mechanisms(&["SCRAM-SHA-1", "PLAIN"]);
    let err = feed(&mut c, t0, &format!("{HEADER}{features}")).unwrap_err();
    assert!(err.is_fatal(), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("-Djicofo.xmpp.client.use-tls=false"), "{msg}");
    assert!(msg.contains("enable TLS on the server"), "{msg}");
    // Nothing was sent but the close: no credentials in the clear.
    assert_eq!(take_out(&mut c), "</stream:stream>");
    assert_eq!(c.state(), ClientState::Closed);
}

#[test]
fn plaintext_never_uses_plain_and_unusable_mechanisms_are_fatal() {
    let cases: [(Option<&str>, &[&str], &[&str]); 4] = [
        (
            Some(PASSWORD),
            &["PLAIN"],
            &["PLAIN", "in the clear", "enable TLS"],
        ),
        (
            Some(PASSWORD),
            &["ANONYMOUS", "X-OAUTH2"],
            &[
                "ANONYMOUS, X-OAUTH2",
                "focus@auth.meet.test",
                "internal_hashed",
            ],
        ),
        (
            None,
            &["SCRAM-SHA-1", "PLAIN"],
            &["anonymous login", "SCRAM-SHA-1, PLAIN", "--user_password"],
        ),
        (None, &[], &["offered: none"]),
    ];
    for (password, offered, needles) in cases {
        let mut c = ClientConn::new(opts(password, true));
        let t0 = Instant::now();
        c.start(t0, "n");
        take_out(&mut c);
        let err = feed(&mut c, t0, &format!("{HEADER}{}", mechanisms(offered))).unwrap_err();
        assert!(err.is_fatal(), "{offered:?}: {err}");
        let msg = err.to_string();
        for n in needles {
            assert!(msg.contains(n), "{offered:?}: {msg} lacks {n}");
        }
        assert!(!msg.contains(PASSWORD));
        assert_eq!(take_out(&mut c), "</stream:stream>", "no <auth/> was sent");
    }
}

#[test]
fn wrong_password_is_fatal_names_the_account_and_never_the_password() {
    let mut c = ClientConn::new(opts(Some(PASSWORD), true));
    let t0 = Instant::now();
    c.start(t0, "abcdef0123456789");
    feed(
        &mut c,
        t0,
        &format!("{HEADER}{}", mechanisms(&["SCRAM-SHA-256"])),
    )
    .unwrap();
    let auth = take_out(&mut c);
    assert!(auth.contains("mechanism='SCRAM-SHA-256'"), "{auth}");
    for shown in [
        format!("{c:?}"),
        format!("{:?}", opts(Some(PASSWORD), true)),
    ] {
        assert!(!shown.contains(PASSWORD), "{shown}");
    }
    let err = feed(&mut c, t0, &sasl_failure("not-authorized")).unwrap_err();
    assert!(err.is_fatal());
    let msg = err.to_string();
    assert!(
        msg.contains("rejected the password for focus@auth.meet.test"),
        "{msg}"
    );
    assert!(
        msg.contains("prosodyctl register focus auth.meet.test <password>"),
        "{msg}"
    );
    assert!(!msg.contains(PASSWORD), "{msg}");
    assert!(!format!("{c:?}").contains(PASSWORD));
    assert_eq!(take_out(&mut c), "</stream:stream>");
    assert!(!c.send(b"<presence/>"));
}

#[test]
fn each_sasl_failure_condition_has_its_own_sentence() {
    let cases = [
        ("account-disabled", true, "is disabled"),
        ("credentials-expired", true, "has expired"),
        ("encryption-required", true, "requires encryption"),
        ("mechanism-too-weak", true, "too weak"),
        ("temporary-auth-failure", false, "for now"),
        ("aborted", false, "<aborted/>"),
    ];
    for (condition, fatal, needle) in cases {
        let mut c = ClientConn::new(opts(Some(PASSWORD), true));
        let t0 = Instant::now();
        c.start(t0, "nonce");
        feed(
            &mut c,
            t0,
            &format!("{HEADER}{}", mechanisms(&["SCRAM-SHA-1"])),
        )
        .unwrap();
        let failure = format!(
            "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><{condition}/>\
             <text xml:lang='en'>said the server</text></failure>"
        );
        let err = feed(&mut c, t0, &failure).unwrap_err();
        assert_eq!(err.is_fatal(), fatal, "{condition}: {err}");
        let msg = err.to_string();
        assert!(
            msg.contains(needle) && msg.contains("said the server"),
            "{condition}: {msg}"
        );
    }
    // Anonymous refused: a different fix.
    let (mut c, now) = anonymous_until("AwaitHeader2");
    let err = feed(&mut c, now, &sasl_failure("not-authorized")).unwrap_err();
    assert!(
        err.is_fatal() && err.to_string().contains("refused anonymous login"),
        "{err}"
    );
}

#[test]
fn a_server_that_cannot_prove_the_password_is_fatal() {
    let tampered = "v=rmF9pqV8S7suAoZWja4dJRkFsKA=";
    for success in [sasl_el("success", tampered), SUCCESS.to_owned()] {
        let mut o = opts(Some("pencil"), true);
        o.username = "user".into();
        let mut c = ClientConn::new(o);
        let t0 = Instant::now();
        c.start(t0, RFC_NONCE);
        feed(
            &mut c,
            t0,
            &format!("{HEADER}{}", mechanisms(&["SCRAM-SHA-1"])),
        )
        .unwrap();
        feed(&mut c, t0, &sasl_el("challenge", RFC_SERVER_FIRST)).unwrap();
        take_out(&mut c);
        let err = feed(&mut c, t0, &format!("{success}{HEADER}{BIND_FEATURES}")).unwrap_err();
        assert!(err.is_fatal(), "{err}");
        assert!(err.to_string().contains("man in the middle"), "{err}");
        assert!(!err.to_string().contains("pencil"));
        // No stream restart, no bind: the stream ends here.
        assert_eq!(take_out(&mut c), "</stream:stream>");
        assert_eq!(c.state(), ClientState::Closed);
    }
}

#[test]
fn bad_sasl_payloads_are_protocol_errors() {
    let (mut c, now) = anonymous_until("AwaitHeader2");
    let err = feed(
        &mut c,
        now,
        "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>!!</challenge>",
    )
    .unwrap_err();
    assert!(matches!(err, ConnError::Protocol(_)), "{err}");
    assert!(take_out(&mut c).contains("<bad-format"));
    // ANONYMOUS expects no challenge at all.
    let (mut c, now) = anonymous_until("AwaitHeader2");
    let err = feed(&mut c, now, &sasl_el("challenge", "x")).unwrap_err();
    assert!(matches!(err, ConnError::Protocol(_)), "{err}");
    let (mut c, now) = anonymous_until("AwaitHeader2");
    let err = feed(&mut c, now, &sasl_el("success", "extra")).unwrap_err();
    assert!(matches!(err, ConnError::Protocol(_)), "{err}");
}

#[test]
fn unknown_virtual_host_is_fatal_other_stream_errors_are_not() {
    let mut c = ClientConn::new(opts(None, true));
    let t0 = Instant::now();
    c.start(t0, "n");
    let err = feed(
        &mut c,
        t0,
        &format!("{HEADER}<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"),
    )
    .unwrap_err();
    assert!(err.is_fatal());
    assert!(err.to_string().contains("--user_domain"), "{err}");
    let (mut c, now) = anonymous_until("");
    let err = feed(
        &mut c,
        now,
        "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
    )
    .unwrap_err();
    assert!(matches!(
        err,
        ConnError::Stream(StreamError {
            condition: StreamCondition::Conflict,
            ..
        })
    ));
    assert_eq!(take_out(&mut c), "</stream:stream>");
}

#[test]
fn a_header_without_version_1_is_refused() {
    let mut c = ClientConn::new(opts(None, true));
    let t0 = Instant::now();
    c.start(t0, "n");
    take_out(&mut c);
    let old = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='x'>";
    let err = feed(&mut c, t0, old).unwrap_err();
    assert!(matches!(err, ConnError::Protocol(_)), "{err}");
    assert!(take_out(&mut c).contains("<unsupported-version"));
}

#[test]
fn silent_server_times_out_at_every_step() {
    let steps = [
        ("AwaitFeatures", "stream header"),
        ("Sasl", "stream features"),
        ("AwaitHeader2", "SASL authentication"),
        ("AwaitBind", "stream header"),
        ("AwaitSession", "resource binding"),
        ("Ready", "session establishment"),
    ];
    for (stop, label) in steps {
        let (mut c, now) = anonymous_until(stop);
        let deadline = c.poll_timeout().expect("a handshake deadline");
        assert_eq!(deadline, now + HANDSHAKE_TIMEOUT, "{stop}");
        c.handle_timeout(deadline - Duration::from_millis(1))
            .unwrap();
        assert!(!matches!(c.state(), ClientState::Closed));
        assert_eq!(
            c.handle_timeout(deadline),
            Err(ConnError::Timeout(label)),
            "{stop}"
        );
        assert_eq!(c.state(), ClientState::Closed);
        assert!(take_out(&mut c).contains("<connection-timeout"), "{stop}");
        assert_eq!(c.poll_timeout(), None);
    }
    // Features after the header: the deadline starts over with each step.
    let (mut c, now) = anonymous_until("Sasl");
    let later = now + Duration::from_secs(9);
    feed(&mut c, later, &mechanisms(&["ANONYMOUS"])).unwrap();
    assert_eq!(c.poll_timeout(), Some(later + HANDSHAKE_TIMEOUT));
}

#[test]
fn silent_server_times_out_during_starttls_and_the_tls_handshake() {
    let mut c = ClientConn::new(opts(Some(PASSWORD), false));
    let t0 = Instant::now();
    c.start(t0, "n");
    feed(&mut c, t0, &format!("{HEADER}{STARTTLS_FEATURES}")).unwrap();
    assert!(take_out(&mut c).ends_with("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"));
    assert_eq!(
        c.state(),
        ClientState::AwaitProceed {
            deadline: t0 + HANDSHAKE_TIMEOUT
        }
    );
    assert_eq!(
        c.handle_timeout(t0 + HANDSHAKE_TIMEOUT),
        Err(ConnError::Timeout("STARTTLS proceed"))
    );

    let t1 = t0 + Duration::from_secs(3);
    c.start(t1, "n");
    feed(&mut c, t1, &format!("{HEADER}{STARTTLS_FEATURES}")).unwrap();
    take_out(&mut c);
    feed(&mut c, t1, PROCEED).unwrap();
    let hello = c.output().to_vec();
    c.consume_output(hello.len());
    assert_eq!(
        hello.first(),
        Some(&0x16),
        "a TLS handshake record follows <proceed/>"
    );
    assert_eq!(
        c.state(),
        ClientState::TlsHandshake {
            deadline: t1 + HANDSHAKE_TIMEOUT
        }
    );
    assert_eq!(
        c.handle_timeout(t1 + HANDSHAKE_TIMEOUT),
        Err(ConnError::Timeout("TLS handshake"))
    );
    // No XML inside an unfinished TLS session: only an alert may leave.
    assert!(!String::from_utf8_lossy(c.output()).contains("connection-timeout"));
}

#[test]
fn send_is_refused_and_stanzas_are_not_delivered_before_ready() {
    for stop in [
        "AwaitFeatures",
        "Sasl",
        "AwaitHeader2",
        "AwaitBind",
        "AwaitSession",
        "Ready",
    ] {
        let (mut c, now) = anonymous_until(stop);
        assert!(!c.send(b"<message/>"), "{stop}");
        assert!(take_out(&mut c).is_empty(), "{stop}");
        c.handle_input(b"<message to='x'><body>early</body></message>");
        let err = c.process(now, no_sink).unwrap_err();
        assert!(matches!(err, ConnError::Protocol(_)), "{stop}: {err}");
        // Where a header is due the stanza is a bad header; elsewhere a stray stanza.
        let out = take_out(&mut c);
        let want = match stop {
            "AwaitFeatures" | "AwaitBind" => "<not-well-formed",
            _ => "<unsupported-stanza-type",
        };
        assert!(out.contains(want), "{stop}: {out}");
    }
    let (mut c, now) = anonymous_until("");
    assert!(c.is_ready());
    let got = feed(
        &mut c,
        now,
        "<message to='x'><body>now</body></message> <presence/>",
    )
    .unwrap();
    assert_eq!(
        got,
        vec!["<message to='x'><body>now</body></message>", "<presence/>"]
    );
    assert!(c.send(b"<presence to='room@conference.meet.test/focus'/>"));
    assert_eq!(
        take_out(&mut c),
        "<presence to='room@conference.meet.test/focus'/>"
    );
}

#[test]
fn keepalive_pings_from_the_full_jid_and_swallows_answers() {
    let (mut c, now) = anonymous_until("");
    let at = c.poll_timeout().unwrap();
    assert_eq!(at, now + Duration::from_secs(10));
    c.handle_timeout(at).unwrap();
    let ping = take_out(&mut c);
    assert_eq!(
        ping,
        "<iq type='get' id='keepalive-1' from='x1@auth.meet.test/focus' to='auth.meet.test'>\
         <ping xmlns='urn:xmpp:ping'/></iq>"
    );
    let got = feed(
        &mut c,
        at,
        "<iq type='result' id='keepalive-1' to='x1@auth.meet.test/focus'/><iq type='result' id='q7'/>",
    )
    .unwrap();
    assert_eq!(
        got,
        vec!["<iq type='result' id='q7'/>"],
        "only the ping answer is internal"
    );
    let err = loop {
        let t = c.poll_timeout().unwrap();
        if let Err(e) = c.handle_timeout(t) {
            break e;
        }
        assert!(t < now + Duration::from_secs(100));
    };
    assert_eq!(err, ConnError::Timeout("keep-alive ping"));
}

#[test]
fn oversized_stanza_gets_policy_violation() {
    let (mut c, now) = anonymous_until("");
    let big = format!("<message><body>{}</body></message>", "x".repeat(5000));
    let err = feed(&mut c, now, &big).unwrap_err();
    assert!(matches!(err, ConnError::Malformed(_)));
    let out = take_out(&mut c);
    assert!(
        out.contains("<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"),
        "{out}"
    );
    assert!(out.ends_with("</stream:stream>"));
}

#[test]
fn clean_close_both_ways_and_eof() {
    let (mut c, now) = anonymous_until("");
    c.close(now);
    assert_eq!(take_out(&mut c), "</stream:stream>");
    assert!(matches!(c.state(), ClientState::Closing { .. }));
    assert!(!c.send(b"<presence/>"));
    assert_eq!(feed(&mut c, now, "<message/></stream:stream>"), Ok(vec![]));
    assert_eq!(c.state(), ClientState::Closed);
    assert_eq!(c.handle_eof(), None);

    // A stream error while closing ends it without a second close from us.
    let (mut c, now) = anonymous_until("");
    c.close(now);
    take_out(&mut c);
    let err = feed(
        &mut c,
        now,
        "<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
    )
    .unwrap_err();
    assert!(matches!(err, ConnError::Stream(_)), "{err}");
    assert_eq!(take_out(&mut c), "");

    let (mut c, now) = anonymous_until("");
    c.close(now);
    let deadline = c.poll_timeout().unwrap();
    c.handle_timeout(deadline).unwrap();
    assert_eq!(c.state(), ClientState::Closed);

    let (mut c, now) = anonymous_until("");
    assert_eq!(
        feed(&mut c, now, "</stream:stream>"),
        Err(ConnError::Closed)
    );
    assert_eq!(take_out(&mut c), "</stream:stream>");
    let (mut c, _) = anonymous_until("");
    assert_eq!(c.handle_eof(), Some(ConnError::Closed));
}

#[test]
fn start_resets_a_used_connection() {
    let (mut c, now) = anonymous_until("AwaitBind");
    c.start(now, "n2");
    assert!(take_out(&mut c).starts_with("<?xml"));
    assert!(matches!(c.state(), ClientState::AwaitHeader { .. }));
    feed(
        &mut c,
        now,
        &format!("{HEADER}{}", mechanisms(&["ANONYMOUS"])),
    )
    .unwrap();
    assert!(take_out(&mut c).contains("mechanism='ANONYMOUS'"));
}

// ---- STARTTLS against an in-memory rustls server ----

/// The server end of a TLS stream.
struct TlsServer {
    conn: rustls::ServerConnection,
    /// The client sent close_notify.
    closed: bool,
}

impl TlsServer {
    fn new(config: Arc<rustls::ServerConfig>) -> Self {
        TlsServer {
            conn: rustls::ServerConnection::new(config).unwrap(),
            closed: false,
        }
    }

    /// Reads the client's socket output; returns (ciphertext, plaintext).
    fn receive_raw(&mut self, c: &mut ClientConn) -> Result<(Vec<u8>, String), rustls::Error> {
        let bytes = c.output().to_vec();
        c.consume_output(bytes.len());
        let mut rd = &bytes[..];
        while !rd.is_empty() {
            self.conn.read_tls(&mut rd).unwrap();
            let io = self.conn.process_new_packets()?;
            self.closed |= io.peer_has_closed();
        }
        let mut plain = Vec::new();
        let _ = self.conn.reader().read_to_end(&mut plain);
        Ok((bytes, String::from_utf8(plain).unwrap()))
    }

    fn receive(&mut self, c: &mut ClientConn) -> String {
        self.receive_raw(c).unwrap().1
    }

    /// Encrypts `xml` (if any) and returns every pending TLS byte.
    fn flight(&mut self, xml: &str) -> Vec<u8> {
        if !xml.is_empty() {
            self.conn.writer().write_all(xml.as_bytes()).unwrap();
        }
        let mut out = Vec::new();
        while self.conn.wants_write() {
            self.conn.write_tls(&mut out).unwrap();
        }
        out
    }
}

fn tls_opts(config: Arc<rustls::ClientConfig>, password: Option<&str>) -> ClientOptions {
    ClientOptions {
        tls: config,
        ..opts(password, false)
    }
}

/// Plaintext steps up to <proceed/>, delivered in `chunk`-byte reads.
fn to_proceed(c: &mut ClientConn, now: Instant, chunk: usize) {
    c.start(now, "n0nce");
    let header = take_out(c);
    assert!(
        header.contains("to='auth.meet.test' version='1.0'"),
        "{header}"
    );
    deliver(
        c,
        now,
        format!("{HEADER}{STARTTLS_FEATURES}").as_bytes(),
        chunk,
    )
    .unwrap();
    assert_eq!(
        take_out(c),
        "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
    );
    deliver(c, now, PROCEED.as_bytes(), chunk).unwrap();
    assert!(matches!(c.state(), ClientState::TlsHandshake { .. }));
}

/// Runs the TLS handshake; returns the client's first plaintext (the new header).
fn tls_handshake(
    c: &mut ClientConn,
    srv: &mut TlsServer,
    now: Instant,
    chunk: usize,
) -> Result<String, ConnError> {
    for _ in 0..10 {
        let plain = srv.receive(c);
        if !matches!(c.state(), ClientState::TlsHandshake { .. }) && !srv.conn.is_handshaking() {
            return Ok(plain);
        }
        let flight = srv.flight("");
        deliver(c, now, &flight, chunk)?;
    }
    panic!("the TLS handshake did not finish");
}

/// The whole login over STARTTLS with PLAIN, bind and a required session,
/// every server flight delivered in `chunk`-byte reads.
fn starttls_login(chunk: usize) -> (ClientConn, TlsServer, Instant) {
    let ca = TestCa::new("test CA");
    let config = client_config(RootChoice::CaPem(ca.pem())).unwrap();
    let mut srv = TlsServer::new(ca.server_config(&[DOMAIN]));
    let mut c = ClientConn::new(tls_opts(config, Some(PASSWORD)));
    let t0 = Instant::now();
    to_proceed(&mut c, t0, chunk);

    let header = tls_handshake(&mut c, &mut srv, t0, chunk).unwrap();
    assert!(
        header.contains("<stream:stream xmlns='jabber:client'"),
        "{header}"
    );
    assert!(matches!(c.state(), ClientState::AwaitHeader { .. }));

    // After TLS, Prosody offers SASL; PLAIN is acceptable on this stream.
    let features = mechanisms(&["PLAIN", "X-OAUTH2"]);
    deliver(
        &mut c,
        t0,
        &srv.flight(&format!("{HEADER}{features}")),
        chunk,
    )
    .unwrap();
    let (raw, auth) = srv.receive_raw(&mut c).unwrap();
    let credentials = B64.encode(format!("\0focus\0{PASSWORD}"));
    assert_eq!(
        auth,
        format!(
            "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{credentials}</auth>"
        )
    );
    let on_the_wire = String::from_utf8_lossy(&raw);
    assert!(!on_the_wire.contains(&credentials) && !on_the_wire.contains("<auth"));

    deliver(&mut c, t0, &srv.flight(SUCCESS), chunk).unwrap();
    assert!(
        srv.receive(&mut c)
            .starts_with("<?xml version='1.0'?><stream:stream")
    );
    deliver(
        &mut c,
        t0,
        &srv.flight(&format!("{HEADER}{BIND_SESSION_FEATURES}")),
        chunk,
    )
    .unwrap();
    assert!(srv.receive(&mut c).contains("<resource>focus</resource>"));
    deliver(
        &mut c,
        t0,
        &srv.flight(&bind_result("focus@auth.meet.test/focus")),
        chunk,
    )
    .unwrap();
    assert!(
        srv.receive(&mut c)
            .contains("<session xmlns='urn:ietf:params:xml:ns:xmpp-session'/>")
    );
    assert!(c.poll_event().is_none());
    deliver(&mut c, t0, &srv.flight(SESSION_RESULT), chunk).unwrap();
    assert_eq!(srv.receive(&mut c), "<presence/>");
    assert_eq!(c.jid(), Some("focus@auth.meet.test/focus"));
    assert_eq!(
        c.poll_event(),
        Some(ConnEvent::Online {
            jid: "focus@auth.meet.test/focus".into()
        })
    );

    // Stanzas flow both ways, encrypted.
    let got = deliver(
        &mut c,
        t0,
        &srv.flight("<message from='a@meet.test/r'><body>hi</body></message>"),
        chunk,
    )
    .unwrap();
    assert_eq!(
        got,
        vec!["<message from='a@meet.test/r'><body>hi</body></message>"]
    );
    assert!(c.send(b"<presence to='r@conference.meet.test/focus'/>"));
    assert_eq!(
        srv.receive(&mut c),
        "<presence to='r@conference.meet.test/focus'/>"
    );
    (c, srv, t0)
}

#[test]
fn starttls_plain_bind_session_in_whole_reads() {
    let (c, srv, t0) = starttls_login(usize::MAX);
    close_over_tls(c, srv, t0, usize::MAX);
}

#[test]
fn starttls_plain_bind_session_one_byte_at_a_time() {
    let (c, srv, t0) = starttls_login(1);
    close_over_tls(c, srv, t0, 1);
}

/// A clean close: </stream:stream> inside TLS, the server's, then our
/// close_notify (held back while we still read).
fn close_over_tls(mut c: ClientConn, mut srv: TlsServer, t0: Instant, chunk: usize) {
    c.close(t0);
    assert_eq!(srv.receive(&mut c), "</stream:stream>");
    assert!(!srv.closed, "close_notify waits until we stop reading");
    assert_eq!(
        deliver(&mut c, t0, &srv.flight("</stream:stream>"), chunk),
        Ok(vec![])
    );
    assert_eq!(c.state(), ClientState::Closed);
    assert_eq!(srv.receive(&mut c), "");
    assert!(srv.closed, "close_notify once the server closed too");
    assert_eq!(c.handle_eof(), None);
}

#[test]
fn close_notify_from_the_server_ends_the_stream() {
    // Unexpected while ready: the stream is over, and we say so.
    let (mut c, mut srv, t0) = starttls_login(usize::MAX);
    srv.conn.send_close_notify();
    assert_eq!(
        deliver(&mut c, t0, &srv.flight(""), usize::MAX),
        Err(ConnError::Closed)
    );
    assert_eq!(c.state(), ClientState::Closed);
    // Expected while closing: the server's answer to ours.
    let (mut c, mut srv, t0) = starttls_login(usize::MAX);
    c.close(t0);
    srv.receive(&mut c);
    srv.conn.send_close_notify();
    assert_eq!(deliver(&mut c, t0, &srv.flight(""), usize::MAX), Ok(vec![]));
    assert_eq!(c.state(), ClientState::Closed);
    srv.receive(&mut c);
    assert!(srv.closed, "our close_notify answers the server's");
    assert_eq!(c.handle_eof(), None);
    // No answer: close_notify when the wait ends.
    let (mut c, mut srv, t0) = starttls_login(usize::MAX);
    c.close(t0);
    srv.receive(&mut c);
    assert!(!srv.closed);
    c.handle_timeout(c.poll_timeout().unwrap()).unwrap();
    assert_eq!(c.state(), ClientState::Closed);
    srv.receive(&mut c);
    assert!(srv.closed);
}

#[test]
fn starttls_is_used_whenever_offered() {
    // Even with plaintext allowed and SASL offered in the clear.
    let mut c = ClientConn::new(opts(Some(PASSWORD), true));
    let t0 = Instant::now();
    c.start(t0, "n");
    take_out(&mut c);
    let features = "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\
        <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism>\
        </mechanisms></stream:features>";
    feed(&mut c, t0, &format!("{HEADER}{features}")).unwrap();
    assert_eq!(
        take_out(&mut c),
        "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
    );
    let err = feed(
        &mut c,
        t0,
        "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
    )
    .unwrap_err();
    assert!(
        matches!(err, ConnError::Protocol(ref m) if m.contains("could not start TLS")),
        "{err}"
    );
}

#[test]
fn untrusted_certificates_are_fatal_and_name_the_fix() {
    let ca = TestCa::new("test CA");
    let stranger = TestCa::new("someone else");
    let cases = [
        // Signed by a CA we do not trust.
        (
            stranger.pem(),
            ca.server_config(&[DOMAIN]),
            "not signed by a CA the focus trusts",
        ),
        // Trusted CA, but the certificate is for another name.
        (
            ca.pem(),
            ca.server_config(&["meet.test"]),
            "only valid for DnsName(\"meet.test\")",
        ),
    ];
    for (roots, server, why) in cases {
        let config = client_config(RootChoice::CaPem(roots)).unwrap();
        let mut srv = TlsServer::new(server);
        let mut c = ClientConn::new(tls_opts(config, Some(PASSWORD)));
        let t0 = Instant::now();
        to_proceed(&mut c, t0, usize::MAX);
        let err = tls_handshake(&mut c, &mut srv, t0, usize::MAX).unwrap_err();
        assert!(err.is_fatal(), "{err}");
        let msg = err.to_string();
        for needle in [
            "certificate of the XMPP server for auth.meet.test is not trusted",
            "--ca_file=<CA that signed the server certificate>",
            "ALWAYS_TRUST_MODE_ENABLED=true",
            why,
        ] {
            assert!(msg.contains(needle), "{msg}");
        }
        assert_eq!(c.state(), ClientState::Closed);
        // The server is told why, with a TLS alert.
        let alert = srv.receive_raw(&mut c);
        assert!(
            matches!(alert, Err(rustls::Error::AlertReceived(_))),
            "{alert:?}"
        );
    }
}

#[test]
fn trust_anything_logs_in_despite_an_unknown_certificate() {
    let stranger = TestCa::new("someone else");
    let config = client_config(RootChoice::TrustAnything).unwrap();
    let mut srv = TlsServer::new(stranger.server_config(&["elsewhere.test"]));
    let mut c = ClientConn::new(tls_opts(config, Some(PASSWORD)));
    let t0 = Instant::now();
    to_proceed(&mut c, t0, usize::MAX);
    let header = tls_handshake(&mut c, &mut srv, t0, usize::MAX).unwrap();
    assert!(header.contains("to='auth.meet.test'"));
}

#[test]
fn plaintext_injected_after_proceed_goes_to_tls_never_to_xml() {
    // An attacker appends a forged <success/> and stream to <proceed/>:
    // those bytes must reach rustls (and fail there), never the XML layer.
    let mut c = ClientConn::new(tls_opts(any_tls(), Some(PASSWORD)));
    let t0 = Instant::now();
    c.start(t0, "n");
    feed(&mut c, t0, &format!("{HEADER}{STARTTLS_FEATURES}")).unwrap();
    let forged = format!("{PROCEED}{SUCCESS}{HEADER}{BIND_FEATURES}");
    let err = deliver(&mut c, t0, forged.as_bytes(), usize::MAX).unwrap_err();
    assert!(
        matches!(err, ConnError::Protocol(ref m) if m.contains("TLS")),
        "{err}"
    );
    assert!(!c.is_ready() && c.poll_event().is_none());
    assert!(!String::from_utf8_lossy(c.output()).contains("<iq"));
}

/// Deterministic client crypto so that two connections send the same
/// ClientHello: only then can a test prepare the server's answer before
/// the client has sent its hello, and deliver it with `<proceed/>` in one read.
mod deterministic {
    use rustls::crypto::{
        ActiveKeyExchange, CryptoProvider, GetRandomFailed, SecureRandom, SharedSecret,
        SupportedKxGroup,
    };
    use rustls::{Error, NamedGroup};
    use sha2::{Digest, Sha256};

    #[derive(Debug)]
    pub struct FixedRandom;

    impl SecureRandom for FixedRandom {
        fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
            buf.fill(0x42);
            Ok(())
        }
    }

    /// A toy key exchange under the X25519 code point: the shared secret is
    /// a hash of both public values. Insecure, deterministic, test only.
    #[derive(Debug)]
    pub struct ToyGroup(pub u8);

    struct ToyKx([u8; 32]);

    impl SupportedKxGroup for ToyGroup {
        fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
            Ok(Box::new(ToyKx([self.0; 32])))
        }
        fn name(&self) -> NamedGroup {
            NamedGroup::X25519
        }
    }

    impl ActiveKeyExchange for ToyKx {
        fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, Error> {
            let (a, b) = if self.0.as_slice() < peer {
                (self.0.as_slice(), peer)
            } else {
                (peer, self.0.as_slice())
            };
            let digest = Sha256::new().chain_update(a).chain_update(b).finalize();
            Ok(SharedSecret::from(digest.as_slice()))
        }
        fn pub_key(&self) -> &[u8] {
            &self.0
        }
        fn group(&self) -> NamedGroup {
            NamedGroup::X25519
        }
    }

    pub static CLIENT_KX: ToyGroup = ToyGroup(0xC1);
    pub static SERVER_KX: ToyGroup = ToyGroup(0x5E);

    pub fn provider(kx: &'static ToyGroup, fixed_random: bool) -> CryptoProvider {
        let base = rustls::crypto::ring::default_provider();
        let random: &'static dyn SecureRandom = if fixed_random {
            &FixedRandom
        } else {
            base.secure_random
        };
        CryptoProvider {
            kx_groups: vec![kx as &'static dyn SupportedKxGroup],
            secure_random: random,
            ..base
        }
    }
}

#[test]
fn proceed_and_server_hello_in_one_read() {
    let ca = TestCa::new("test CA");
    let client_config = || {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.der()).unwrap();
        let provider = deterministic::provider(&deterministic::CLIENT_KX, true);
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.resumption = rustls::client::Resumption::disabled();
        Arc::new(config)
    };
    let server_provider = deterministic::provider(&deterministic::SERVER_KX, false);
    let mut srv = TlsServer::new(ca.server_config_with(server_provider, &[DOMAIN]));
    let t0 = Instant::now();

    // A first connection only serves to learn the ClientHello.
    let mut probe = ClientConn::new(tls_opts(client_config(), Some(PASSWORD)));
    to_proceed(&mut probe, t0, usize::MAX);
    let hello = probe.output().to_vec();
    srv.receive_raw(&mut probe).unwrap();
    let server_hello = srv.flight("");
    assert_eq!(server_hello.first(), Some(&0x16), "a handshake record");

    // The real one gets <proceed/> and the server's flight in the same read.
    let mut c = ClientConn::new(tls_opts(client_config(), Some(PASSWORD)));
    c.start(t0, "n0nce");
    feed(&mut c, t0, &format!("{HEADER}{STARTTLS_FEATURES}")).unwrap();
    take_out(&mut c);
    let mut read = PROCEED.as_bytes().to_vec();
    read.extend_from_slice(&server_hello);
    deliver(&mut c, t0, &read, usize::MAX).unwrap();
    let out = c.output().to_vec();
    c.consume_output(out.len());
    assert!(
        out.starts_with(&hello),
        "the client hello must not change between runs"
    );
    // The handshake finished within that one read: the new header is queued.
    assert!(
        matches!(c.state(), ClientState::AwaitHeader { .. }),
        "{:?}",
        c.state()
    );
    let rest = &out[hello.len()..];
    let mut rd = rest;
    while !rd.is_empty() {
        srv.conn.read_tls(&mut rd).unwrap();
        srv.conn.process_new_packets().unwrap();
    }
    assert!(!srv.conn.is_handshaking());
    let mut plain = String::new();
    let _ = srv.conn.reader().read_to_string(&mut plain);
    assert!(
        plain.contains("<stream:stream xmlns='jabber:client'")
            && plain.contains("to='auth.meet.test'"),
        "{plain}"
    );
    // And the encrypted stream goes on.
    deliver(
        &mut c,
        t0,
        &srv.flight(&format!("{HEADER}{}", mechanisms(&["PLAIN"]))),
        usize::MAX,
    )
    .unwrap();
    assert!(srv.receive(&mut c).contains("mechanism='PLAIN'"));
}

// ---- robustness: arbitrary server bytes never panic ----

/// xorshift64*: a tiny deterministic generator for the mutation loop.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn mutated_server_transcripts_never_panic() {
    let transcript = format!(
        "{HEADER}{}{}{}{HEADER}{BIND_SESSION_FEATURES}{}{SESSION_RESULT}\
         <iq type='result' id='keepalive-1'/><message><body>x</body></message></stream:stream>",
        mechanisms(&["SCRAM-SHA-1", "PLAIN", "ANONYMOUS"]),
        sasl_el("challenge", RFC_SERVER_FIRST),
        sasl_el("success", RFC_SERVER_FINAL),
        bind_result("user@auth.meet.test/user"),
    );
    let tls_prefix = format!("{HEADER}{STARTTLS_FEATURES}{PROCEED}");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..400 {
        let mut bytes = if round % 4 == 0 {
            tls_prefix.clone().into_bytes()
        } else {
            transcript.clone().into_bytes()
        };
        for _ in 0..1 + rng.below(6) {
            let at = rng.below(bytes.len() + 1);
            match rng.below(4) {
                0 if at < bytes.len() => bytes[at] = rng.next() as u8,
                1 if at < bytes.len() => {
                    bytes.remove(at);
                }
                2 => bytes.insert(at, rng.next() as u8),
                _ => {
                    let junk: Vec<u8> = (0..rng.below(40)).map(|_| rng.next() as u8).collect();
                    bytes.splice(at..at, junk);
                }
            }
        }
        let mut o = opts(
            if round % 3 == 0 { None } else { Some("pencil") },
            round % 2 == 0,
        );
        o.username = "user".into();
        let mut c = ClientConn::new(o);
        let mut now = Instant::now();
        c.start(now, RFC_NONCE);
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let n = 1 + rng.below(64);
            let (part, tail) = rest.split_at(n.min(rest.len()));
            rest = tail;
            c.handle_input(part);
            let _ = c.process(now, |_| {});
            let _ = c.output();
            c.consume_output(rng.below(100));
            if let Some(t) = c.poll_timeout()
                && rng.below(8) == 0
            {
                now = t;
                let _ = c.handle_timeout(now);
            }
            let _ = c.poll_event();
        }
        c.close(now);
        let _ = c.output();
        let _ = c.handle_eof();
    }
}

// ---- regressions found by the client_machine fuzz target ----

/// Found by `client_machine`: `close()` in the middle of the TLS handshake
/// sent close_notify and kept feeding the server's handshake records to
/// rustls; the next record it refused made it send a fatal alert after that
/// close_notify, which trips rustls' debug assertion `!sent_fatal_alert`
/// (a panic in every debug and test build). There is no stream inside TLS
/// yet, so there is nothing to close but the socket: the stream ends at once.
#[test]
fn fuzz_client_close_during_the_tls_handshake() {
    let ca = TestCa::new("test CA");
    let mut srv = TlsServer::new(ca.server_config(&[DOMAIN]));
    let mut c = ClientConn::new(tls_opts(any_tls(), Some(PASSWORD)));
    let t0 = Instant::now();
    to_proceed(&mut c, t0, usize::MAX);
    srv.receive(&mut c);
    let flight = srv.flight("");
    // Part of the server's flight, then our close, then the rest.
    deliver(&mut c, t0, &flight[..flight.len() / 2], usize::MAX).unwrap();
    let before = c.output().len();
    c.close(t0);
    assert_eq!(c.state(), ClientState::Closed);
    assert_eq!(c.output().len(), before, "nothing to say inside TLS yet");
    assert_eq!(
        deliver(&mut c, t0, &flight[flight.len() / 2..], usize::MAX),
        Ok(vec![])
    );
    assert_eq!(c.output().len(), before);
    assert_eq!(c.handle_eof(), None);

    // The input the fuzzer found, through its body.
    let seed = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fuzz/seeds/client_machine/starttls_tls12_flight"
    ))
    .unwrap();
    let (_, flight) = crate::fuzzing::split_script(&seed);
    crate::fuzzing::client_machine(&[b"AA4A9S\n".as_slice(), flight].concat());
}

/// The same trap after a login: once we had sent `</stream:stream>` and
/// close_notify, a damaged record from the server (while we wait for its
/// close) made rustls send a fatal alert after our close_notify. close_notify
/// now goes out only when we stop reading, so the damaged record is an
/// ordinary TLS failure.
#[test]
fn fuzz_client_damaged_record_while_closing_over_tls() {
    let (mut c, mut srv, t0) = starttls_login(usize::MAX);
    c.close(t0);
    assert_eq!(srv.receive(&mut c), "</stream:stream>");
    let mut record = srv.flight("<message><body>late</body></message>");
    let last = record.len() - 1;
    record[last] ^= 0x55;
    let err = deliver(&mut c, t0, &record, usize::MAX).unwrap_err();
    assert!(
        matches!(err, ConnError::Protocol(ref m) if m.contains("TLS")),
        "{err}"
    );
    assert_eq!(c.state(), ClientState::Closed);
    // rustls' alert goes to the server, which now fails too.
    assert!(srv.receive_raw(&mut c).is_err());
}
