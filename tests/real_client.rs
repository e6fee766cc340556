//! The real Jitsi Meet client against the focus: lib-jitsi-meet (npm
//! `@lyno/lib-jitsi-meet` 2.6726.2) in Debian's headless Chromium, driven
//! by playwright-core (`tests/browser/`), connected to a real Prosody over
//! its websocket. Peers from `scripts/install-test-deps`; a missing one is a
//! failure naming it. Recipe and traps: `/work/shared/peers.md`.

mod conf_util;
mod support;

use std::time::{Duration, Instant};

use conf_util::*;
use support::browser::brief;
use support::{BROWSER_DIR, Browser, Json, Prosody, ProsodyOpts};

/// Bound of each wait on a client (the page polls every 100 ms).
const CLIENT_T: Duration = Duration::from_secs(20);

/// The Jingle entries of a client's state (`jingle`: every Jingle IQ seen
/// on its XMPP stream) with direction `dir` and `action`.
#[allow(dead_code)] // used once the bridge emulator is in
fn jingle<'a>(st: &'a Json, dir: &str, action: &str) -> Vec<&'a Json> {
    st["jingle"]
        .as_array()
        .unwrap_or_default()
        .iter()
        .filter(|e| e["dir"].as_str() == Some(dir) && e["action"].as_str() == Some(action))
        .collect()
}

fn joined(st: &Json) -> bool {
    st["joined"].as_bool() == Some(true)
}

/// §1.2/§2.4 with the real client: each client sends the conference IQ
/// (room, machine-uid) to the focus component, is told ready, joins the
/// room and sees the focus; the focus starts inviting every participant
/// (features, then bridge selection). No bridge here: the focus waits for
/// one, and the clients stay joined without a Jingle session.
#[test]
fn real_clients_request_the_conference_join_and_are_invited() {
    let t0 = Instant::now();
    let p = Prosody::start(ProsodyOpts::default().http_files_dir(BROWSER_DIR));
    let (mut focus, _) = focus_up(&p, &[]);
    let mut b = Browser::start(&p);
    eprintln!("browser {} up in {:?}", b.version, b.startup);
    let r = "clientjoin";
    b.open("alice", r);
    b.open("bob", r);
    for c in ["alice", "bob"] {
        let st = b.wait_state(c, "joined", joined, CLIENT_T);
        let iq = &st["conferenceIq"];
        assert_eq!(iq["to"].as_str(), Some("focus.meet.test"), "{}", brief(&st));
        assert_eq!(
            iq["room"].as_str(),
            Some(room(r).as_str()),
            "{}",
            brief(&st)
        );
        assert!(
            iq["machineUid"].as_str().is_some_and(|m| !m.is_empty()),
            "{}",
            brief(&st)
        );
        let my_id = st["myId"].as_str().expect("endpoint id").to_string();
        assert!(
            focus.wait_log(&format!("inviting {my_id}"), CLIENT_T),
            "the focus never invited {c} ({my_id}):\n{}",
            focus.log_text()
        );
        assert!(
            st["errors"].as_array().unwrap_or_default().is_empty(),
            "{}",
            brief(&st)
        );
    }
    assert!(
        focus.wait_log("no operational bridge", CLIENT_T),
        "{}",
        focus.log_text()
    );
    eprintln!(
        "two real clients joined and were invited in {:?}",
        t0.elapsed()
    );
}
