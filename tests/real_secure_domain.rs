//! Real-peer tests of the secure domain (protocol.md §1.6, §1.7): Prosody
//! where `meet.test` needs a login and `guest.meet.test` is anonymous, and
//! the focus with the XMPP-domain authority `XMPP:meet.test`.

mod conf_util;
mod support;

use conf_util::*;
use support::{Focus, Json, Login, Peer, Prosody, ProsodyOpts};

const GUEST: &str = "guest.meet.test";

fn secure() -> (Prosody, Focus) {
    let p = Prosody::start(ProsodyOpts::default().secure_domain().user(
        "alice",
        "meet.test",
        "alicepw",
    ));
    let (f, _) = focus_up(&p, &["-Dorg.jitsi.jicofo.auth.URL=XMPP:meet.test"]);
    (p, f)
}

fn ask(peer: &mut Peer, attrs: &str) -> Json {
    peer.send_iq(&conference_iq("focus.meet.test", attrs), T)
}

/// The secure-domain flow of protocol.md §1.6, step by step as a client
/// goes through it, with the errors of §1.5 on the way.
#[test]
fn secure_domain_login_carries_ownership_to_a_guest_connection() {
    let (p, _focus) = secure();
    let r = room("secure");
    // guest1 and the user's login connection; thief waits for later.
    let [mut guest1, mut alice, mut thief] = peers(
        &p,
        [
            Login::anonymous(GUEST).label("guest1"),
            Login::user("alice@meet.test", "alicepw"),
            Login::anonymous(GUEST).label("thief"),
        ],
    );

    // An anonymous guest cannot create the room.
    let xml = assert_error(
        &ask(&mut guest1, &format!("room='{r}' machine-uid='g1'")),
        "not-authorized",
    );
    assert!(has_element(&xml, "conference", NS_FOCUS), "{xml}");
    assert!(!room_exists(&mut guest1, &r));

    // The user logs in on meet.test (the client's second connection).
    // Without a machine-uid no session can be made.
    assert_error(&ask(&mut alice, &format!("room='{r}'")), "not-acceptable");
    assert!(!room_exists(&mut alice, &r));
    let r_alice = ask(&mut alice, &format!("room='{r}' machine-uid='M1'"));
    let xml = assert_ready(&r_alice, &r);
    let sid = attr(&xml, "conference", "session-id").expect("session-id in the answer");
    assert!(!sid.is_empty());
    assert_eq!(
        attr(&xml, "conference", "identity").as_deref(),
        Some("alice@meet.test"),
        "{xml}"
    );
    assert_eq!(
        property(&xml, "authentication").as_deref(),
        Some("true"),
        "{xml}"
    );
    assert_eq!(
        property(&xml, "externalAuth").as_deref(),
        Some("false"),
        "{xml}"
    );
    // The client stores the session id and drops the authenticated connection.
    alice.disconnect();

    // A new guest connection with the session id and the same machine.
    let mut host = peer(&p, Login::anonymous(GUEST).label("host"));
    let xml = assert_ready(
        &ask(
            &mut host,
            &format!("room='{r}' machine-uid='M1' session-id='{sid}'"),
        ),
        &r,
    );
    assert_eq!(
        attr(&xml, "conference", "session-id").as_deref(),
        Some(sid.as_str()),
        "{xml}"
    );
    assert_eq!(
        attr(&xml, "conference", "identity").as_deref(),
        Some("alice@meet.test"),
        "{xml}"
    );
    join_ok(&mut host, &r, "host");
    expect_owner(&mut host, &r, "host");

    // Another guest, without a session, may enter the existing room but is
    // not made owner.
    let xml = assert_ready(
        &ask(&mut guest1, &format!("room='{r}' machine-uid='g1'")),
        &r,
    );
    assert_eq!(attr(&xml, "conference", "session-id"), None, "{xml}");
    assert_eq!(attr(&xml, "conference", "identity"), None, "{xml}");
    join_ok(&mut guest1, &r, "guest1");
    sync_with_focus(&mut guest1, &r);
    assert_never_owner(&mut guest1, &r, "guest1");
    sync_with_focus(&mut host, &r);
    assert_never_owner(&mut host, &r, "guest1");

    // The session id from another machine.
    let xml = assert_error(
        &ask(
            &mut thief,
            &format!("room='{r}' machine-uid='M2' session-id='{sid}'"),
        ),
        "not-acceptable",
    );
    assert!(!has_element(&xml, "session-invalid", NS_FOCUS), "{xml}");
    // An unknown session id.
    let xml = assert_error(
        &ask(
            &mut thief,
            &format!("room='{r}' machine-uid='M1' session-id='nosuchsession'"),
        ),
        "not-acceptable",
    );
    assert!(has_element(&xml, "session-invalid", NS_FOCUS), "{xml}");
    // Nothing of that made the thief owner of anything.
    join_ok(&mut thief, &r, "thief");
    sync_with_focus(&mut thief, &r);
    assert_never_owner(&mut thief, &r, "thief");
}

/// §1.7: the login URL of the XMPP authority, and logout, after which the
/// session is invalid.
#[test]
fn secure_domain_login_url_and_logout() {
    let (p, _focus) = secure();
    let r = room("logout");
    let [mut guest, mut alice] = peers(
        &p,
        [
            Login::anonymous(GUEST).label("guest"),
            Login::user("alice@meet.test", "alicepw"),
        ],
    );
    let login = guest.send_iq(
        &format!(
            "<iq type='get' to='focus.meet.test'><login-url xmlns='{NS_FOCUS}' room='{r}' machine-uid='M1'/></iq>"
        ),
        T,
    );
    assert_eq!(login["type"].as_str(), Some("result"), "{login}");
    let xml = login["xml"].as_str().unwrap_or_default();
    let url = attr(xml, "login-url", "url").expect("url attribute");
    // Percent-encoded `./logout?login=true`.
    assert_eq!(url, ".%2Flogout%3Flogin%3Dtrue", "{xml}");

    let xml = assert_ready(
        &ask(&mut alice, &format!("room='{r}' machine-uid='M1'")),
        &r,
    );
    let sid = attr(&xml, "conference", "session-id").expect("session-id");
    // The session works for a guest connection...
    assert_ready(
        &ask(
            &mut guest,
            &format!("room='{r}' machine-uid='M1' session-id='{sid}'"),
        ),
        &r,
    );
    // ...until it is logged out.
    let out = alice.send_iq(
        &format!("<iq type='set' to='focus.meet.test'><logout xmlns='{NS_FOCUS}' session-id='{sid}'/></iq>"),
        T,
    );
    assert_eq!(out["type"].as_str(), Some("result"), "{out}");
    let xml = assert_error(
        &ask(
            &mut guest,
            &format!("room='{r}' machine-uid='M1' session-id='{sid}'"),
        ),
        "not-acceptable",
    );
    assert!(has_element(&xml, "session-invalid", NS_FOCUS), "{xml}");
    // A second logout of the same session: it is unknown now.
    let again = alice.send_iq(
        &format!("<iq type='set' to='focus.meet.test'><logout xmlns='{NS_FOCUS}' session-id='{sid}'/></iq>"),
        T,
    );
    let xml = assert_error(&again, "not-acceptable");
    assert!(has_element(&xml, "session-invalid", NS_FOCUS), "{xml}");
    // And the logged-out guest is not authenticated any more: it cannot
    // create a room.
    assert_error(
        &ask(
            &mut guest,
            &format!("room='{}' machine-uid='M1'", room("other")),
        ),
        "not-authorized",
    );
}
