//! Real-peer tests of conferences: the built focus against a real Prosody,
//! with participants written with slixmpp.

mod support;

use std::time::Duration;

use support::{Focus, Login, Peer, Prosody, ProsodyOpts};

const T: Duration = Duration::from_secs(10);

fn conference_iq(room: &str) -> String {
    format!(
        "<iq type='set' to='focus.meet.test'><conference xmlns='http://jitsi.org/protocol/focus' \
         room='{room}' machine-uid='m1'><property name='rtcstatsEnabled' value='false'/></conference></iq>"
    )
}

fn focus_up(p: &Prosody) -> Focus {
    let mut f = Focus::spawn(p, &[]);
    assert!(
        f.wait_log("is up as focus@auth.meet.test/", T),
        "{}",
        f.log_text()
    );
    assert!(
        f.wait_log("is up as focus.meet.test", T),
        "{}",
        f.log_text()
    );
    f
}

#[test]
fn conference_request_ready_and_first_participant_becomes_owner() {
    let p = Prosody::start(ProsodyOpts::default());
    let focus = focus_up(&p);
    let mut alice = Peer::spawn(&p, Login::guest().label("alice"));
    let r = alice.send_iq(&conference_iq("room1@conference.meet.test"), T);
    assert_eq!(
        r["type"].as_str(),
        Some("result"),
        "{r}\n{}",
        focus.log_text()
    );
    let xml = r["xml"].as_str().unwrap_or_default().to_string();
    assert!(
        xml.contains("ready=\"true\"") || xml.contains("ready='true'"),
        "{xml}"
    );
    assert!(xml.contains("focus@auth.meet.test"), "{xml}");
    let joined = alice.join("room1@conference.meet.test", "alice1");
    assert_eq!(joined["type"].as_str(), Some("joined"), "{joined}");
    // The focus is owner, and grants owner to alice.
    alice.expect_event(
        "alice made owner",
        |e| {
            e.is_event("presence")
                && e["from"].as_str() == Some("room1@conference.meet.test/alice1")
                && e["item"]["affiliation"].as_str() == Some("owner")
        },
        T,
    );
    let _ = focus;
}
