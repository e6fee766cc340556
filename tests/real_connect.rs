//! Real-peer tests of the two XMPP connections: the built `jicofo` binary
//! against a real Prosody started by the harness, probed from outside by an
//! independent client (slixmpp).

mod support;

use std::time::{Duration, Instant};

use support::{FOCUS_COMPONENT, Focus, Login, Peer, Prosody, ProsodyOpts};

const UP: Duration = Duration::from_secs(10);
/// The focus's client JID with the default resource (the user name).
const FOCUS_CLIENT: &str = "focus@auth.meet.test/focus";

fn wait_both_up(focus: &mut Focus) {
    assert!(
        focus.wait_log("is up as focus.meet.test", UP),
        "component never came up:\n{}",
        focus.log_text()
    );
    assert!(
        focus.wait_log("is up as focus@auth.meet.test/", UP),
        "client never came up:\n{}",
        focus.log_text()
    );
}

/// Counts log lines containing `needle`.
fn count(log: &str, needle: &str) -> usize {
    log.lines().filter(|l| l.contains(needle)).count()
}

fn assert_answers(probe: &mut Peer, focus: &Focus) {
    let info = probe.disco_info(FOCUS_COMPONENT);
    let features = info["features"].to_string();
    assert!(
        features.contains("http://jitsi.org/protocol/focus"),
        "disco#info: {info}\n{}",
        focus.log_text()
    );
    let ping = probe.ping(FOCUS_COMPONENT, Duration::from_secs(5));
    assert_eq!(
        ping["type"].as_str(),
        Some("result"),
        "component ping: {ping}\n{}",
        focus.log_text()
    );
    let ping = probe.ping(FOCUS_CLIENT, Duration::from_secs(5));
    assert_eq!(
        ping["type"].as_str(),
        Some("result"),
        "client ping: {ping}\n{}",
        focus.log_text()
    );
}

#[test]
fn both_connections_answer_and_sigterm_exits_zero() {
    let p = Prosody::start(ProsodyOpts::default());
    let mut focus = Focus::spawn(&p, &[]);
    wait_both_up(&mut focus);
    assert!(
        focus.log_text().contains("authenticated with SCRAM-SHA-1"),
        "{}",
        focus.log_text()
    );
    let mut probe = Peer::spawn(&p, Login::guest());
    assert_answers(&mut probe, &focus);
    // Any other request gets an answer, as RFC 6120 requires.
    let r = probe.send_iq(
        "<iq type='get' to='focus.meet.test'><query xmlns='jabber:iq:version'/></iq>",
        Duration::from_secs(5),
    );
    assert_eq!(r["condition"].as_str(), Some("service-unavailable"), "{r}");
    let started = Instant::now();
    focus.sigterm();
    let status = focus
        .wait_exit(Duration::from_secs(3))
        .expect("focus did not exit after SIGTERM");
    assert!(
        status.success(),
        "exit status {status:?}\n{}",
        focus.log_text()
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    // Both streams were closed by us, not dropped.
    assert!(p.wait_log("focus.meet.test", Duration::from_secs(1)));
}

#[test]
fn scram_sha_256_on_an_internal_plain_host() {
    let p = Prosody::start(ProsodyOpts::default().auth_plain());
    let mut focus = Focus::spawn(&p, &[]);
    wait_both_up(&mut focus);
    assert!(
        focus
            .log_text()
            .contains("authenticated with SCRAM-SHA-256"),
        "{}",
        focus.log_text()
    );
}

#[test]
fn plain_when_it_is_the_only_mechanism() {
    let mut opts = ProsodyOpts::default().auth_plain();
    opts.extra_global_lua =
        "disable_sasl_mechanisms = { \"SCRAM-SHA-1\", \"SCRAM-SHA-256\", \"DIGEST-MD5\" }".into();
    let p = Prosody::start(opts);
    let mut focus = Focus::spawn(&p, &[]);
    wait_both_up(&mut focus);
    assert!(
        focus.log_text().contains("authenticated with PLAIN"),
        "{}",
        focus.log_text()
    );
    let mut probe = Peer::spawn(&p, Login::guest());
    assert_answers(&mut probe, &focus);
}

#[test]
fn wrong_secret_exits_nonzero_naming_the_fix() {
    let p = Prosody::start(ProsodyOpts::default());
    let mut args = Focus::standard_args(&p);
    for a in args.iter_mut() {
        if a.starts_with("--secret=") {
            *a = "--secret=not_the_secret".into();
        }
    }
    let started = Instant::now();
    let mut focus = Focus::spawn_with(&p, &args, &[("RUST_LOG", "off")]);
    let status = focus
        .wait_exit(Duration::from_secs(10))
        .expect("focus kept running with a wrong secret");
    assert!(!status.success());
    assert!(started.elapsed() < Duration::from_secs(10));
    let log = focus.log_text();
    assert!(
        log.contains("component_secret"),
        "stderr must name the fix: {log}"
    );
    assert!(log.contains("Component \"focus.meet.test\""), "{log}");
    assert!(!log.contains("not_the_secret"), "the secret leaked: {log}");
    assert_eq!(log.lines().count(), 1, "one plain sentence: {log}");
}

#[test]
fn wrong_password_exits_nonzero_naming_the_account() {
    let p = Prosody::start(ProsodyOpts::default());
    let mut args = Focus::standard_args(&p);
    for a in args.iter_mut() {
        if a.starts_with("--user_password=") {
            *a = "--user_password=wrong-pw".into();
        }
    }
    let mut focus = Focus::spawn_with(&p, &args, &[("RUST_LOG", "off")]);
    let status = focus
        .wait_exit(Duration::from_secs(10))
        .expect("focus kept running with a wrong password");
    assert!(!status.success());
    let log = focus.log_text();
    assert!(log.contains("focus@auth.meet.test"), "{log}");
    assert!(log.contains("--user_password"), "{log}");
    assert!(!log.contains("wrong-pw"), "the password leaked: {log}");
}

#[test]
fn untrusted_certificate_exits_nonzero_naming_ca_file() {
    let p = Prosody::start(ProsodyOpts::default());
    let args: Vec<String> = Focus::standard_args(&p)
        .into_iter()
        .filter(|a| !a.starts_with("--ca_file"))
        .collect();
    let mut focus = Focus::spawn_with(&p, &args, &[("RUST_LOG", "off")]);
    let status = focus
        .wait_exit(Duration::from_secs(10))
        .expect("focus kept running with an untrusted certificate");
    assert!(!status.success());
    let log = focus.log_text();
    assert!(log.contains("--ca_file"), "{log}");
}

#[test]
fn back_on_both_connections_within_5s_of_prosody_restart() {
    let mut p = Prosody::start(ProsodyOpts::default());
    let mut focus = Focus::spawn(&p, &[]);
    wait_both_up(&mut focus);
    p.kill();
    // Let the focus notice and back off a few times while the server is gone.
    std::thread::sleep(Duration::from_secs(3));
    p.restart();
    let up_at = Instant::now();
    let deadline = up_at + Duration::from_secs(5);
    loop {
        let log = focus.log_text();
        if count(&log, "is back as focus.meet.test") == 1
            && count(&log, "is back as focus@auth.meet.test/") == 1
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not back within 5 s of Prosody being up:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut probe = Peer::spawn(&p, Login::guest());
    assert_answers(&mut probe, &focus);
}
