//! Proves the real-peer harness itself (tests/support) against real peers:
//! Prosody on free loopback ports, slixmpp participants, restarts. The
//! focus binary is not run here; only its helper's arguments are checked.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::os;
use support::{
    AUTH_DOMAIN, DOMAIN, FOCUS_COMPONENT, FOCUS_JID, Focus, GUEST_DOMAIN, Json, Login, MUC_DOMAIN,
    Peer, Prosody, ProsodyOpts,
};

const T: Duration = Duration::from_secs(10);

fn room(name: &str) -> String {
    format!("{name}@{MUC_DOMAIN}")
}

#[test]
fn json_round_trips_xml_and_unicode() {
    let xml = "<iq type='set' to=\"a@b/c\">\n\t<x xmlns=\"urn:x\">é😀\\\u{1}</x></iq>";
    let v = Json::obj([("xml", Json::from(xml)), ("n", Json::from(-2.5))]);
    let line = v.to_string();
    assert!(line.is_ascii() && !line.contains('\n'), "{line}");
    assert_eq!(Json::parse(&line).unwrap(), v);
}

#[test]
fn json_parses_what_python_prints() {
    let v = Json::parse(
        r#"{"event": "reply", "codes": [110, 201], "x": null, "ok": true,
            "s": "\ud83d\ude00\u00e9\"\/", "f": 1.5e3, "e": {}, "a": []}"#,
    )
    .unwrap();
    assert!(v.is_event("reply"));
    assert_eq!(v["codes"][1].as_i64(), Some(201));
    assert!(v["x"].is_null() && v["missing"].is_null() && v["codes"][7].is_null());
    assert_eq!(v["ok"].as_bool(), Some(true));
    assert_eq!(v["s"].as_str(), Some("😀é\"/"));
    assert_eq!(v["f"].as_f64(), Some(1500.0));
    assert_eq!(v["e"], Json::Obj(vec![]));
    for bad in [
        "{\"a\": 1} x",
        "[1,",
        "\"abc",
        "{\"a\" 1}",
        "tru",
        "\"\\q\"",
    ] {
        assert!(Json::parse(bad).is_err(), "{bad}");
    }
}

#[test]
#[should_panic(expected = "scripts/install-test-deps")]
fn a_missing_peer_fails_with_the_install_script() {
    os::require_tools("this test", &["no-such-peer-program-jicofo-rs"]);
}

#[test]
fn prosody_starts_on_free_ports_and_stops_within_two_seconds() {
    let t0 = Instant::now();
    let mut p = Prosody::start(ProsodyOpts::default());
    let startup = t0.elapsed();
    let pid = p.pid().expect("running");
    eprintln!(
        "prosody ready in {startup:?} (pid {pid}, dir {})",
        p.dir.display()
    );
    let ports = [p.c2s_port, p.component_port, p.http_port];
    assert!(ports[0] != ports[1] && ports[1] != ports[2] && ports[0] != ports[2]);
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .unwrap()
            .trim(),
        "lua5.4"
    );
    assert_eq!(os::listening_ports_of(pid, &ports).unwrap().len(), 3);
    let log = p.log_text();
    assert!(!log.contains("Failed to open server port"), "{log}");
    assert!(log.contains(&format!(
        "Activated service 'c2s' on [127.0.0.1]:{}",
        ports[0]
    )));
    assert!(!log.contains("5269"), "s2s must stay off");

    let t1 = Instant::now();
    p.stop();
    let stopping = t1.elapsed();
    assert!(stopping < Duration::from_secs(2), "stop took {stopping:?}");
    assert_eq!(os::proc_state(pid), None, "prosody must be reaped");
    assert!(!p.is_running());
    assert!(TcpStream::connect(("127.0.0.1", ports[0])).is_err());
    assert!(p.log_text().contains("Exiting with status code: 0"));
}

#[test]
fn focus_user_logs_in_with_scram_and_guests_anonymously() {
    let p = Prosody::start(ProsodyOpts::default());
    let focus = Peer::spawn(&p, Login::focus_user());
    assert!(
        focus.jid().starts_with(&format!("{FOCUS_JID}/")),
        "{}",
        focus.jid()
    );
    assert_eq!(focus.mechanism(), Some("SCRAM-SHA-1"));
    let guest = Peer::spawn(&p, Login::guest());
    assert!(
        guest.jid().contains(&format!("@{DOMAIN}/")),
        "{}",
        guest.jid()
    );
    assert_eq!(guest.mechanism(), Some("ANONYMOUS"));
    // A wrong password is a clean Err, not a hang.
    let err = Peer::try_spawn(&p, Login::user(FOCUS_JID, "wrong")).unwrap_err();
    assert!(err.contains("auth"), "{err}");
}

#[test]
fn internal_plain_accepts_plain() {
    let p = Prosody::start(ProsodyOpts::default().auth_plain());
    assert!(p.config_file().exists());
    let plain = Peer::spawn(&p, Login::focus_user().mechanism("PLAIN"));
    assert_eq!(plain.mechanism(), Some("PLAIN"));
    let scram = Peer::spawn(&p, Login::focus_user().mechanism("SCRAM-SHA-256"));
    assert_eq!(scram.mechanism(), Some("SCRAM-SHA-256"));
}

#[test]
fn focus_user_creates_a_room_and_a_guest_sees_its_real_jid() {
    let p = Prosody::start(ProsodyOpts::default());
    let r = room("selftest");
    let mut focus = Peer::spawn(&p, Login::focus_user().label("focus"));
    let joined = focus.join(&r, "focus");
    assert_eq!(joined["type"].as_str(), Some("joined"), "{joined}");
    let codes: Vec<i64> = joined["codes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Json::as_i64)
        .collect();
    assert!(codes.contains(&201) && codes.contains(&110), "{codes:?}");
    assert_eq!(joined["item"]["affiliation"].as_str(), Some("owner"));

    let mut guest = Peer::spawn(&p, Login::guest().label("guest"));
    let joined = guest.join_with(&r, "guest1", Some("<stats-id>Ada-1</stats-id>"), None);
    assert_eq!(joined["type"].as_str(), Some("joined"), "{joined}");
    assert_eq!(joined["item"]["jid"].as_str(), Some(guest.jid()));

    let focus_jid = focus.jid().to_string();
    let seen = guest.expect_event(
        "the focus occupant",
        |e| e.is_event("presence") && e.str_of("from") == Some(&format!("{r}/focus")),
        T,
    );
    assert_eq!(
        seen["item"]["jid"].as_str(),
        Some(focus_jid.as_str()),
        "{seen}"
    );
    assert_eq!(seen["item"]["role"].as_str(), Some("moderator"));

    let guest_jid = guest.jid().to_string();
    let seen = focus.expect_event(
        "the guest occupant",
        |e| e.is_event("presence") && e["item"]["jid"].as_str() == Some(&guest_jid),
        T,
    );
    assert!(seen["xml"].as_str().unwrap().contains("Ada-1"), "{seen}");

    // Presence extras reach the other occupants.
    let reply = guest.set_presence_extra(
        &r,
        "<audiomuted xmlns='http://jitsi.org/jitmeet/audio'>true</audiomuted>",
    );
    assert_eq!(reply["sent"].as_bool(), Some(true));
    focus.expect_event(
        "the guest's updated presence",
        |e| e.is_event("presence") && e["xml"].as_str().is_some_and(|x| x.contains("audiomuted")),
        T,
    );

    // Jingle to the occupant JID: acked when auto-ack is on, else an error.
    let jingle = |id: &str| {
        format!(
            "<iq type='set' to='{r}/guest1' id='{id}'><jingle xmlns='urn:xmpp:jingle:1' \
             action='session-initiate' sid='s1'/></iq>"
        )
    };
    let refused = focus.send_iq(&jingle("j1"), T);
    assert_eq!(refused["type"].as_str(), Some("error"), "{refused}");
    guest.auto_ack_jingle(true);
    let acked = focus.send_iq(&jingle("j2"), T);
    assert_eq!(acked["type"].as_str(), Some("result"), "{acked}");
    let iq = guest.expect_event(
        "the acked session-initiate",
        |e| e.is_event("iq") && e["auto_acked"].as_bool() == Some(true),
        T,
    );
    assert_eq!(iq["action"].as_str(), Some("session-initiate"));
    assert_eq!(iq["from"].as_str(), Some(format!("{r}/focus").as_str()));

    assert_eq!(guest.leave(&r)["type"].as_str(), Some("left"));
    focus.expect_event(
        "the guest leaving",
        |e| e.is_event("presence") && e["type"].as_str() == Some("unavailable"),
        T,
    );
}

#[test]
fn a_guest_cannot_create_a_room() {
    let p = Prosody::start(ProsodyOpts::default());
    let mut guest = Peer::spawn(&p, Login::guest());
    let reply = guest.join(&room("nobodyhere"), "guest");
    assert_eq!(reply["type"].as_str(), Some("error"), "{reply}");
    assert_eq!(reply["condition"].as_str(), Some("not-allowed"), "{reply}");
}

#[test]
fn restart_comes_back_on_the_same_ports() {
    let mut p = Prosody::start(ProsodyOpts::default());
    let ports = (p.c2s_port, p.component_port, p.http_port);
    let first_pid = p.pid().unwrap();
    let mut old = Peer::spawn(&p, Login::focus_user());
    assert_eq!(old.ping(DOMAIN, T)["type"].as_str(), Some("result"));

    p.restart();
    assert_eq!((p.c2s_port, p.component_port, p.http_port), ports);
    assert_ne!(p.pid().unwrap(), first_pid);
    assert_eq!(os::proc_state(first_pid), None, "old prosody reaped");
    old.expect_event("the disconnection", |e| e.is_event("disconnected"), T);
    // Accounts survive a restart; a new participant and a reconnect work.
    let mut fresh = Peer::spawn(&p, Login::focus_user());
    assert_eq!(fresh.disco_info(DOMAIN)["type"].as_str(), Some("result"));
    assert_eq!(old.reconnect()["type"].as_str(), Some("connected"));

    // A crash (SIGKILL) and a restart after it.
    p.kill();
    assert!(!p.is_running());
    p.restart();
    let _again = Peer::spawn(&p, Login::guest());
}

#[test]
fn component_port_accepts_a_component_stream() {
    let p = Prosody::start(ProsodyOpts::default());
    let mut s = TcpStream::connect(("127.0.0.1", p.component_port)).expect("connect");
    s.set_read_timeout(Some(T)).unwrap();
    write!(
        s,
        "<stream:stream xmlns='jabber:component:accept' \
         xmlns:stream='http://etherx.jabber.org/streams' to='{FOCUS_COMPONENT}'>"
    )
    .unwrap();
    let mut got = String::new();
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + T;
    while !got.contains(" id=") && Instant::now() < deadline {
        let n = s.read(&mut buf).expect("read stream header");
        assert!(n > 0, "closed: {got}");
        got.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(
        got.contains("jabber:component:accept") && got.contains(" id="),
        "{got}"
    );
}

#[test]
fn secure_domain_components_http_and_plaintext() {
    let www = os::TempDir::new("www");
    std::fs::write(www.path().join("hello.html"), "<p>hello harness</p>").unwrap();
    let p = Prosody::start(
        ProsodyOpts::default()
            .secure_domain()
            .no_encryption()
            .user("alice", DOMAIN, "alicepw")
            .component("jvb.meet.test", "jvb_secret")
            .http_files_dir(www.path()),
    );
    let alice = Peer::spawn(&p, Login::user("alice@meet.test", "alicepw").plaintext());
    assert!(alice.jid().starts_with("alice@meet.test/"));
    let guest = Peer::spawn(&p, Login::anonymous(GUEST_DOMAIN));
    assert!(guest.jid().contains(GUEST_DOMAIN));
    // meet.test is not anonymous any more.
    assert!(Peer::try_spawn(&p, Login::guest()).is_err());
    let mut focus = Peer::spawn(&p, Login::focus_user());
    assert_eq!(focus.ping(AUTH_DOMAIN, T)["type"].as_str(), Some("result"));
    // The extra component is configured (not connected: bounces at once).
    let r = focus.ping("jvb.meet.test", T);
    assert_eq!(
        r["condition"].as_str(),
        Some("remote-server-timeout"),
        "{r}"
    );
    let r = focus.ping("nothere.meet.test", T);
    assert_ne!(
        r["condition"].as_str(),
        Some("remote-server-timeout"),
        "{r}"
    );

    assert!(http_get(&p, "/hello.html").contains("hello harness"));
    assert!(http_get(&p, "/http-bind").contains("200 OK"));
}

fn http_get(p: &Prosody, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", p.http_port)).expect("connect http");
    s.set_read_timeout(Some(T)).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {DOMAIN}\r\n\r\n").unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[test]
fn focus_helper_uses_the_standard_arguments() {
    let p = Prosody::start(ProsodyOpts::default());
    let args = Focus::standard_args(&p);
    let expect = [
        "--domain=meet.test".to_string(),
        "--host=127.0.0.1".into(),
        format!("--port={}", p.component_port),
        "--subdomain=focus".into(),
        "--secret=focus_secret".into(),
        "--user_domain=auth.meet.test".into(),
        "--user_name=focus".into(),
        "--user_password=focuspassword".into(),
        format!("--client_port={}", p.c2s_port),
        format!("--ca_file={}", p.ca_file().display()),
    ];
    assert_eq!(args, expect);
    assert!(std::path::Path::new(&support::focus::focus_bin()).exists());
}

#[test]
fn a_taken_port_is_detected_and_another_one_used() {
    // Prosody only logs a port it cannot bind and keeps running.
    let ports = os::free_ports(3);
    let squatter = std::net::TcpListener::bind(("127.0.0.1", ports[0])).unwrap();
    let p = Prosody::start(ProsodyOpts {
        first_ports: Some([ports[0], ports[1], ports[2]]),
        ..ProsodyOpts::default()
    });
    assert_ne!(p.c2s_port, ports[0]);
    let log = p.log_text();
    assert!(
        log.contains(&format!("Failed to open server port {}", ports[0])),
        "{log}"
    );
    let _peer = Peer::spawn(&p, Login::guest());
    drop(squatter);
}
