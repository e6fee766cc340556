//! Real-peer tests of conferences: the built focus against a real Prosody,
//! with participants written with slixmpp (protocol.md §1 and §2).
//! The secure-domain flow is in `real_secure_domain.rs`.
//!
//! Every negative check ("X never happens") runs after a sync point with
//! the focus ([`conf_util::sync_with_focus`]) rather than after a sleep.

mod conf_util;
mod support;

use std::time::{Duration, Instant};

use conf_util::*;
use support::{Login, Peer, Prosody, ProsodyOpts};

/// §1.4: the answer is a result with `ready='true'`, the focus's bare JID
/// and the properties; the same request sent to the focus's client JID
/// (where Prosody's `client_proxy` forwards it in current deployments) is
/// answered the same way, from that JID.
#[test]
fn conference_request_is_ready_on_the_component_and_on_the_client_jid() {
    let p = Prosody::start(ProsodyOpts::default());
    let (_focus, client_jid) = focus_up(&p, &["-Djicofo.xmpp.client.resource=focus"]);
    assert_eq!(client_jid, "focus@auth.meet.test/focus");
    let mut alice = peer(&p, Login::guest().label("alice"));
    let r1 = room("ready1");
    for to in ["focus.meet.test", client_jid.as_str()] {
        let r = alice.send_iq(
            &conference_iq(to, &format!("room='{r1}' machine-uid='m1'")),
            T,
        );
        let xml = assert_ready(&r, &r1);
        assert_eq!(attr(&xml, "iq", "from").as_deref(), Some(to), "{xml}");
        assert!(has_element(&xml, "conference", NS_FOCUS), "{xml}");
        // Bare: clients compare it with the focus occupant's real JID, bare.
        assert_eq!(
            attr(&xml, "conference", "focusjid").as_deref(),
            Some("focus@auth.meet.test"),
            "{xml}"
        );
        assert_eq!(
            property(&xml, "authentication").as_deref(),
            Some("false"),
            "{xml}"
        );
        // No SIP gateway in this deployment.
        assert_eq!(
            property(&xml, "sipGatewayEnabled").as_deref(),
            Some("false"),
            "{xml}"
        );
        // No auth authority: no session in the answer.
        assert_eq!(attr(&xml, "conference", "session-id"), None, "{xml}");
        assert_eq!(attr(&xml, "conference", "identity"), None, "{xml}");
    }
    // A second room through the client JID first: it is created there too.
    let r2 = room("ready2");
    let r = alice.send_iq(&conference_iq(&client_jid, &format!("room='{r2}'")), T);
    assert_ready(&r, &r2);
    assert!(room_exists(&mut alice, &r2));
}

/// §2.1/§2.2 with a room that hides real JIDs by default (stock Jitsi
/// Meet Prosody): the focus sits in it as owner/moderator under the nick
/// `focus` with its real JID visible, and configured `whois=anyone` before
/// answering, so that even a participant that joins at once sees the real
/// JIDs of the focus and of the other participants.
#[test]
fn focus_is_owner_with_visible_jid_and_configures_whois_anyone_before_ready() {
    let p = Prosody::start(ProsodyOpts::default().private_jids());
    let (_focus, focus_jid) = focus_up(&p, &[]);
    let [mut alice, mut bob] = peers(
        &p,
        [Login::guest().label("alice"), Login::guest().label("bob")],
    );
    // Several rooms, each joined as soon as it is ready: a focus that
    // answered before its configuration took effect is caught here.
    for i in 0..6 {
        let r = room(&format!("whois{i}"));
        request_ready(&mut alice, &r);
        let info = alice.disco_info(&r);
        let features = info["features"].to_string();
        assert!(
            features.contains("muc_nonanonymous"),
            "{r} is not configured whois=anyone when the focus says ready: {info}"
        );
        join_ok(&mut alice, &r, "alice");
        let fp = alice.expect_event(
            "the focus's presence",
            |e| e.is_event("presence") && e["from"].as_str() == Some(&format!("{r}/focus")),
            T,
        );
        assert_eq!(fp["item"]["affiliation"].as_str(), Some("owner"), "{fp}");
        assert_eq!(fp["item"]["role"].as_str(), Some("moderator"), "{fp}");
        assert_eq!(
            fp["item"]["jid"].as_str(),
            Some(focus_jid.as_str()),
            "the focus's real JID must be visible: {fp}"
        );
    }
    // bob, a plain participant (not moderator), sees alice's real JID.
    let r = room("whois0");
    request_ready(&mut bob, &r);
    let joined = join_ok(&mut bob, &r, "bob");
    assert_eq!(joined["item"]["role"].as_str(), Some("participant"));
    let ap = bob.expect_event(
        "alice's presence",
        |e| e.is_event("presence") && e["from"].as_str() == Some(&format!("{r}/alice")),
        T,
    );
    assert_eq!(ap["item"]["jid"].as_str(), Some(alice.jid()), "{ap}");
    let fp = bob.expect_event(
        "the focus's presence",
        |e| e.is_event("presence") && e["from"].as_str() == Some(&format!("{r}/focus")),
        T,
    );
    assert_eq!(fp["item"]["jid"].as_str(), Some(focus_jid.as_str()), "{fp}");
}

/// §2.3 auto-owner: the first participant is granted owner, the second is
/// not; when the owner leaves, the next one in join order is.
#[test]
fn first_participant_is_owner_and_ownership_passes_on_when_it_leaves() {
    let p = Prosody::start(ProsodyOpts::default());
    let (_focus, _) = focus_up(&p, &[]);
    let [mut alice, mut bob] = peers(
        &p,
        [Login::guest().label("alice"), Login::guest().label("bob")],
    );
    let r = room("owners");
    request_ready(&mut alice, &r);
    let joined = join_ok(&mut alice, &r, "alice");
    assert_eq!(joined["item"]["affiliation"].as_str(), Some("none"));
    expect_owner(&mut alice, &r, "alice");

    request_ready(&mut bob, &r);
    join_ok(&mut bob, &r, "bob");
    sync_with_focus(&mut bob, &r);
    assert_never_owner(&mut bob, &r, "bob");
    // alice sees bob as a plain participant too.
    sync_with_focus(&mut alice, &r);
    assert_never_owner(&mut alice, &r, "bob");

    alice.leave(&r);
    expect_owner(&mut bob, &r, "bob");
}

/// §2.3 with `DISABLE_AUTO_OWNER=true`: nobody is granted owner.
#[test]
fn disabled_auto_owner_grants_nobody() {
    let p = Prosody::start(ProsodyOpts::default());
    let (_focus, _) = focus_up(&p, &["-Dorg.jitsi.jicofo.DISABLE_AUTO_OWNER=true"]);
    let [mut alice, mut bob] = peers(
        &p,
        [Login::guest().label("alice"), Login::guest().label("bob")],
    );
    let r = room("noowner");
    request_ready(&mut alice, &r);
    join_ok(&mut alice, &r, "alice");
    request_ready(&mut bob, &r);
    join_ok(&mut bob, &r, "bob");
    alice.leave(&r);
    sync_with_focus(&mut bob, &r);
    assert_never_owner(&mut bob, &r, "alice");
    assert_never_owner(&mut bob, &r, "bob");
    let hist = alice.history().to_vec();
    assert!(
        !hist.iter().any(|e| is_owner_presence(e, &r, "alice")),
        "alice must not be owner"
    );
}

/// Room JIDs compare case-insensitively (Prosody lowercases them): two
/// spellings of one room are one conference, whose owner is the first
/// participant whatever spelling it used.
#[test]
fn room_names_differing_in_case_are_one_conference() {
    let p = Prosody::start(ProsodyOpts::default());
    let (focus, _) = focus_up(&p, &[]);
    let [mut alice, mut bob] = peers(
        &p,
        [Login::guest().label("alice"), Login::guest().label("bob")],
    );
    let (upper, lower) = ("CaSe@Conference.Meet.Test", room("case"));
    let r = alice.send_iq(
        &conference_iq(
            "focus.meet.test",
            &format!("room='{upper}' machine-uid='m1'"),
        ),
        T,
    );
    assert_ready(&r, &lower);
    join_ok(&mut alice, upper, "alice");
    expect_owner(&mut alice, &lower, "alice");
    request_ready(&mut bob, &lower);
    join_ok(&mut bob, &lower, "bob");
    sync_with_focus(&mut bob, &lower);
    assert_never_owner(&mut bob, &lower, "bob");
    let log = focus.log_text();
    assert_eq!(log.matches(": created").count(), 1, "{log}");
}

/// §1.5: a request without `room`, with a room on a MUC the focus does not
/// serve, or with a malformed room is `bad-request`, and the focus joins
/// no room for it.
#[test]
fn bad_room_requests_are_refused_and_never_joined() {
    let p = Prosody::start(ProsodyOpts::default());
    let (focus, _) = focus_up(&p, &[]);
    let mut alice = peer(&p, Login::guest().label("alice"));

    let r = alice.send_iq(&conference_iq("focus.meet.test", "machine-uid='m1'"), T);
    let xml = assert_error(&r, "bad-request");
    assert_eq!(
        text(&xml, "text").as_deref(),
        Some("No 'room' specified."),
        "{xml}"
    );

    // The brewery MUC: the focus user is admin there too, so a focus that
    // did not check the domain could create this room.
    let internal = "x@internal.auth.meet.test";
    let bad = [
        internal,
        "x@conference.meet.test/nick",
        "@conference.meet.test",
        "conference.meet.test",
        "a@b@conference.meet.test",
        "",
    ];
    for room_attr in bad {
        let r = alice.send_iq(
            &conference_iq(
                "focus.meet.test",
                &format!("room='{room_attr}' machine-uid='m1'"),
            ),
            T,
        );
        assert_error(&r, "bad-request");
    }
    // A good request afterwards: its join is written on the focus's client
    // stream after any join for the requests above, so once it is ready
    // Prosody has seen them all.
    let good = room("good");
    request_ready(&mut alice, &good);
    assert!(!room_exists(&mut alice, internal));
    // Every directed presence Prosody received is the focus joining `good`
    // (Prosody logs attributes in no fixed order).
    let log = p.log_text();
    let joins: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("Received[c2s]: <presence ") && l.contains(" to='"))
        .collect();
    assert!(!joins.is_empty(), "no join in Prosody's log:\n{log}");
    for line in joins {
        assert!(
            line.contains("to='good@conference.meet.test/focus'"),
            "a join that is not for {good}: {line}"
        );
    }
    let flog = focus.log_text();
    assert_eq!(flog.matches(": created").count(), 1, "{flog}");
}

/// §2.7 idle timeout: a conference nobody joins is left after
/// `IDLE_TIMEOUT`; every request for the room re-arms it. Seen from
/// outside: the room disappears (Prosody destroys an empty room), and as
/// only the focus may create rooms a guest can no longer enter it.
#[test]
fn idle_timeout_leaves_a_room_nobody_joined() {
    let p = Prosody::start(ProsodyOpts::default());
    let (mut focus, _) = focus_up(&p, &["-Dorg.jitsi.focus.IDLE_TIMEOUT=1500"]);
    let mut alice = peer(&p, Login::guest().label("alice"));
    let r = room("idle");
    request_ready(&mut alice, &r);
    let t0 = Instant::now();
    assert!(room_exists(&mut alice, &r));
    // A second request after 1 s re-arms the timer: the room must outlive
    // the first deadline.
    std::thread::sleep(Duration::from_millis(1000));
    request_ready(&mut alice, &r);
    let t1 = Instant::now();
    std::thread::sleep(Duration::from_millis(800));
    assert!(
        room_exists(&mut alice, &r),
        "left {:?} after the first request although a second one re-armed the timeout",
        t0.elapsed()
    );
    assert!(
        focus.wait_log("stopped: nobody joined within the idle timeout", T),
        "{}",
        focus.log_text()
    );
    let after = t1.elapsed();
    assert!(
        after >= Duration::from_millis(1400) && after <= Duration::from_secs(4),
        "left the room {after:?} after the last request (timeout 1.5 s)"
    );
    assert!(
        wait_until(Duration::from_secs(3), || !room_exists(&mut alice, &r)),
        "the room still exists after the focus left"
    );
    let j = alice.join(&r, "alice");
    assert_error(&j, "not-allowed");
}

/// §2.5/§2.7: the focus stays while someone is in the room and leaves when
/// the last participant leaves; the room is then gone.
#[test]
fn focus_leaves_when_the_last_participant_leaves() {
    let p = Prosody::start(ProsodyOpts::default());
    let (mut focus, _) = focus_up(&p, &[]);
    let [mut alice, mut bob, mut carol] = peers(
        &p,
        [
            Login::guest().label("alice"),
            Login::guest().label("bob"),
            Login::guest().label("carol"),
        ],
    );
    let r = room("lastleaves");
    request_ready(&mut alice, &r);
    join_ok(&mut alice, &r, "alice");
    request_ready(&mut bob, &r);
    join_ok(&mut bob, &r, "bob");

    alice.leave(&r);
    sync_with_focus(&mut bob, &r); // the focus is still there
    assert!(
        !focus.log_text().contains("stopped:"),
        "{}",
        focus.log_text()
    );
    let left = |e: &support::Json| {
        e.is_event("presence")
            && e["from"].as_str() == Some(&format!("{r}/focus"))
            && e["type"].as_str() == Some("unavailable")
    };
    assert!(!bob.history().iter().any(left), "the focus left early");

    bob.leave(&r);
    assert!(
        focus.wait_log("stopped: the last participant left", T),
        "{}",
        focus.log_text()
    );
    assert!(
        wait_until(Duration::from_secs(3), || !room_exists(&mut carol, &r)),
        "the room still exists after everyone left"
    );
    let j = carol.join(&r, "carol");
    assert_error(&j, "not-allowed");
    // A new request for the room starts a new conference.
    request_ready(&mut carol, &r);
    join_ok(&mut carol, &r, "carol");
    expect_owner(&mut carol, &r, "carol");
}

/// The server crashes and comes back with two participants in a room
/// (Prosody keeps rooms in memory: the room is gone).
///
/// What a real client does (lib-jitsi-meet/jitsi-meet): its XMPP
/// connection drops; it connects again (a new anonymous JID), sends the
/// conference IQ again (retrying with back-off while it gets an error, e.g.
/// `remote-server-timeout` while the focus's component is not connected
/// yet), and joins the MUC once the answer says `ready='true'`. The focus,
/// meanwhile, reconnects its own streams and joins the room again
/// (re-creating it) because it had participants. The test plays both
/// participants that way and checks the focus is back in the room, as
/// owner with its real JID, and makes the first participant back owner.
#[test]
fn focus_is_back_in_the_room_after_prosody_restarts() {
    let mut p = Prosody::start(ProsodyOpts::default().private_jids());
    let (mut focus, focus_jid) = focus_up(&p, &[]);
    let [mut alice, mut bob] = peers(
        &p,
        [Login::guest().label("alice"), Login::guest().label("bob")],
    );
    let r = room("restart");
    request_ready(&mut alice, &r);
    join_ok(&mut alice, &r, "alice");
    expect_owner(&mut alice, &r, "alice");
    request_ready(&mut bob, &r);
    join_ok(&mut bob, &r, "bob");
    sync_with_focus(&mut bob, &r);

    p.kill();
    for peer in [&mut alice, &mut bob] {
        peer.expect_event("disconnected", |e| e.is_event("disconnected"), T);
    }
    p.restart();

    for (peer, nick) in [(&mut alice, "alice"), (&mut bob, "bob")] {
        let c = peer.reconnect();
        assert_eq!(c["type"].as_str(), Some("connected"), "{nick}: {c}");
        // Retry the conference request like a client does, until ready.
        let deadline = Instant::now() + Duration::from_secs(10);
        let answer = loop {
            let a = peer.send_iq(
                &conference_iq(
                    "focus.meet.test",
                    &format!("room='{r}' machine-uid='m-{nick}'"),
                ),
                Duration::from_secs(5),
            );
            if a["type"].as_str() == Some("result") || Instant::now() >= deadline {
                break a;
            }
            std::thread::sleep(Duration::from_millis(250));
        };
        assert_ready(&answer, &r);
        join_ok(peer, &r, nick);
        let fp = peer.expect_event(
            "the focus back in the room",
            |e| {
                e.is_event("presence")
                    && e["from"].as_str() == Some(&format!("{r}/focus"))
                    && e["type"].as_str() == Some("available")
            },
            T,
        );
        assert_eq!(fp["item"]["affiliation"].as_str(), Some("owner"), "{fp}");
        assert_eq!(fp["item"]["role"].as_str(), Some("moderator"), "{fp}");
        assert_eq!(fp["item"]["jid"].as_str(), Some(focus_jid.as_str()), "{fp}");
    }
    expect_owner(&mut alice, &r, "alice");
    sync_with_focus(&mut bob, &r);
    assert_never_owner(&mut bob, &r, "bob");
    assert!(focus.is_running());
    assert!(
        focus.log_text().contains("rejoining the room"),
        "{}",
        focus.log_text()
    );
}

/// The focus crashes (SIGKILL) and a new one starts while participants
/// stay in the room. Prosody notices the dropped stream and the `focus`
/// occupant leaves; one participant sends the conference request again
/// (a client that reloads would leave and come back instead; staying
/// makes the new focus join a room that already has participants). The
/// new focus joins as owner, adopts the owner that is still there instead
/// of granting another one (it learns the occupants in the server's order,
/// not in join order), and hands ownership on when that owner leaves.
/// Three rooms, as the server's order differs per room: a focus that took
/// the first occupant it heard of would grant a second owner in at least
/// one of them nearly every time.
#[test]
fn restarted_focus_adopts_the_owner_already_in_the_room() {
    let p = Prosody::start(ProsodyOpts::default());
    let (mut focus, focus_jid) = focus_up(&p, &[]);
    let [mut alice, mut bob, mut carol, mut dave] = peers(
        &p,
        [
            Login::guest().label("alice"),
            Login::guest().label("bob"),
            Login::guest().label("carol"),
            Login::guest().label("dave"),
        ],
    );
    let others = ["bob", "carol", "dave"];
    let rooms = [room("crash0"), room("crash1"), room("crash2")];
    for r in &rooms {
        request_ready(&mut alice, r);
        join_ok(&mut alice, r, "alice");
        expect_owner(&mut alice, r, "alice");
        for (peer, nick) in [
            (&mut bob, "bob"),
            (&mut carol, "carol"),
            (&mut dave, "dave"),
        ] {
            request_ready(peer, r);
            join_ok(peer, r, nick);
        }
        sync_with_focus(&mut alice, r);
    }
    let focus_presence = |r: &str, ty: &'static str| {
        let from = format!("{r}/focus");
        move |e: &support::Json| {
            e.is_event("presence")
                && e["from"].as_str() == Some(from.as_str())
                && e["type"].as_str() == Some(ty)
        }
    };

    focus.kill();
    for r in &rooms {
        alice.expect_event("the focus leaving", focus_presence(r, "unavailable"), T);
    }
    let (_focus2, _) = focus_up(&p, &[]);
    for r in &rooms {
        request_ready(&mut bob, r);
        let back = alice.expect_event("the new focus", focus_presence(r, "available"), T);
        assert_eq!(
            back["item"]["affiliation"].as_str(),
            Some("owner"),
            "{back}"
        );
        assert_eq!(
            back["item"]["jid"].as_str(),
            Some(focus_jid.as_str()),
            "{back}"
        );
        sync_with_focus(&mut alice, r);
        for nick in others {
            assert_never_owner(&mut alice, r, nick);
        }
    }

    let r = &rooms[0];
    alice.leave(r);
    let heir = |e: &support::Json| others.iter().any(|n| is_owner_presence(e, r, n));
    let first = bob.expect_event("a new owner after alice left", heir, T);
    sync_with_focus(&mut bob, r);
    let owners: Vec<String> = bob
        .history()
        .iter()
        .filter(|e| heir(e))
        .map(|e| e["from"].to_string())
        .collect();
    assert_eq!(owners.len(), 1, "one heir, got {owners:?} (first {first})");
}

/// §1.8 Colibri `stats`: the counts match the rooms and occupants.
#[test]
fn stats_count_conferences_and_participants() {
    let p = Prosody::start(ProsodyOpts::default());
    let (_focus, _) = focus_up(&p, &[]);
    let [mut alice, mut bob, mut carol] = peers(
        &p,
        [
            Login::guest().label("alice"),
            Login::guest().label("bob"),
            Login::guest().label("carol"),
        ],
    );
    let stats = |peer: &mut Peer| {
        let r = peer.send_iq(
            &format!("<iq type='get' to='focus.meet.test'><stats xmlns='{NS_COLIBRI}'/></iq>"),
            T,
        );
        assert_eq!(r["type"].as_str(), Some("result"), "{r}");
        let xml = r["xml"].as_str().unwrap_or_default().to_string();
        assert!(has_element(&xml, "stats", NS_COLIBRI), "{xml}");
        (
            stat(&xml, "conferences"),
            stat(&xml, "participants"),
            stat(&xml, "graceful_shutdown"),
        )
    };
    let s = |c: &str, n: &str| {
        (
            Some(c.to_string()),
            Some(n.to_string()),
            Some("false".to_string()),
        )
    };
    assert_eq!(stats(&mut alice), s("0", "0"));
    let (ra, rb) = (room("statsa"), room("statsb"));
    request_ready(&mut alice, &ra);
    join_ok(&mut alice, &ra, "alice");
    request_ready(&mut bob, &ra);
    join_ok(&mut bob, &ra, "bob");
    request_ready(&mut carol, &rb);
    join_ok(&mut carol, &rb, "carol");
    sync_with_focus(&mut bob, &ra);
    sync_with_focus(&mut carol, &rb);
    assert_eq!(stats(&mut alice), s("2", "3"));
    bob.leave(&ra);
    sync_with_focus(&mut alice, &ra);
    assert_eq!(stats(&mut alice), s("2", "2"));
    carol.leave(&rb);
    // carol's leave reaches the focus on its client stream, the stats
    // request on the component stream, in no fixed order: poll.
    assert!(
        wait_until(Duration::from_secs(3), || stats(&mut alice) == s("1", "1")),
        "{:?}",
        stats(&mut alice)
    );
}

/// §1.8 graceful shutdown: refused (`forbidden`) unless from the allowed
/// JID; then new rooms get `service-unavailable` with
/// `<graceful-shutdown/>`, existing ones still work, and the focus exits 0
/// when its last conference ends.
#[test]
fn graceful_shutdown_refuses_new_rooms_and_exits_after_the_last_conference() {
    let p = Prosody::start(ProsodyOpts::default().user("admin", "auth.meet.test", "adminpw"));
    let (mut focus, _) = focus_up(
        &p,
        &["-Dorg.jitsi.jicofo.SHUTDOWN_ALLOWED_JID=admin@auth.meet.test"],
    );
    let [mut alice, mut bob, mut admin] = peers(
        &p,
        [
            Login::guest().label("alice"),
            Login::guest().label("bob"),
            Login::user("admin@auth.meet.test", "adminpw"),
        ],
    );
    let shutdown_iq = format!(
        "<iq type='set' to='focus.meet.test'><graceful-shutdown xmlns='{NS_COLIBRI}'/></iq>"
    );
    let r = room("busy");
    request_ready(&mut alice, &r);
    join_ok(&mut alice, &r, "alice");

    assert_error(&alice.send_iq(&shutdown_iq, T), "forbidden");
    // Not in shutdown: a new room is still served. (bob then leaves it,
    // so that only `busy` is left; its idle timeout would take 15 s.)
    request_ready(&mut bob, &room("stillopen"));
    join_ok(&mut bob, &room("stillopen"), "bob");
    bob.leave(&room("stillopen"));
    assert!(focus.wait_log("stillopen@conference.meet.test: stopped", T));

    let ok = admin.send_iq(&shutdown_iq, T);
    assert_eq!(ok["type"].as_str(), Some("result"), "{ok}");
    let st = admin.send_iq(
        &format!("<iq type='get' to='focus.meet.test'><stats xmlns='{NS_COLIBRI}'/></iq>"),
        T,
    );
    let xml = st["xml"].as_str().unwrap_or_default();
    assert_eq!(
        stat(xml, "graceful_shutdown").as_deref(),
        Some("true"),
        "{st}"
    );
    assert_eq!(stat(xml, "conferences").as_deref(), Some("1"), "{st}");

    let refused = bob.send_iq(
        &conference_iq(
            "focus.meet.test",
            &format!("room='{}' machine-uid='m'", room("new")),
        ),
        T,
    );
    let xml = assert_error(&refused, "service-unavailable");
    assert!(has_element(&xml, "graceful-shutdown", NS_COLIBRI), "{xml}");
    assert!(!room_exists(&mut bob, &room("new")));

    // The existing conference still works.
    request_ready(&mut bob, &r);
    join_ok(&mut bob, &r, "bob");
    alice.leave(&r);
    sync_with_focus(&mut bob, &r);
    assert!(focus.is_running(), "exited with a participant left");
    bob.leave(&r);
    let status = focus.wait_exit(T);
    assert!(
        status.is_some_and(|s| s.success()),
        "exit status {status:?}\n{}",
        focus.log_text()
    );
}

/// §2.8 mute: a moderator mutes another participant (who gets the focus's
/// mute IQ with the `actor`); a non-moderator may not mute others, nobody
/// may unmute someone else, a request without `jid` is `bad-request`, and
/// everybody may mute themselves.
#[test]
fn mute_requests_follow_the_moderator_rules() {
    let p = Prosody::start(ProsodyOpts::default());
    let (_focus, _) = focus_up(&p, &[]);
    let [mut alice, mut bob] = peers(
        &p,
        [Login::guest().label("alice"), Login::guest().label("bob")],
    );
    let r = room("mute");
    request_ready(&mut alice, &r);
    join_ok(&mut alice, &r, "alice");
    expect_owner(&mut alice, &r, "alice");
    request_ready(&mut bob, &r);
    join_ok(&mut bob, &r, "bob");
    sync_with_focus(&mut alice, &r);
    let mute = |target: Option<&str>, on: &str| {
        let jid = target
            .map(|t| format!(" jid='{r}/{t}'"))
            .unwrap_or_default();
        format!(
            "<iq type='set' to='{r}/focus'><mute xmlns='http://jitsi.org/jitmeet/audio'{jid}>{on}</mute></iq>"
        )
    };

    let ok = alice.send_iq(&mute(Some("bob"), "true"), T);
    assert_eq!(ok["type"].as_str(), Some("result"), "{ok}");
    let notice = bob.expect_event(
        "the focus's mute IQ",
        |e| e.is_event("iq") && e["child"].as_str() == Some("{http://jitsi.org/jitmeet/audio}mute"),
        T,
    );
    let xml = notice["xml"].as_str().unwrap_or_default();
    assert_eq!(notice["type"].as_str(), Some("set"), "{notice}");
    assert_eq!(
        notice["from"].as_str(),
        Some(format!("{r}/focus").as_str()),
        "{notice}"
    );
    assert_eq!(attr(xml, "mute", "jid"), Some(format!("{r}/bob")), "{xml}");
    assert_eq!(
        attr(xml, "mute", "actor"),
        Some(format!("{r}/alice")),
        "{xml}"
    );
    assert_eq!(text(xml, "mute").as_deref(), Some("true"), "{xml}");

    let xml = assert_error(&bob.send_iq(&mute(Some("alice"), "true"), T), "not-allowed");
    assert!(xml.contains("mute"), "{xml}");
    assert_error(
        &alice.send_iq(&mute(Some("bob"), "false"), T),
        "not-allowed",
    );
    assert_error(
        &bob.send_iq(&mute(Some("alice"), "false"), T),
        "not-allowed",
    );
    assert_error(&alice.send_iq(&mute(None, "true"), T), "bad-request");

    let own = bob.send_iq(&mute(Some("bob"), "true"), T);
    assert_eq!(own["type"].as_str(), Some("result"), "{own}");
    let own = bob.send_iq(&mute(Some("bob"), "false"), T);
    assert_eq!(own["type"].as_str(), Some("result"), "{own}");

    // Video has its own namespace, same rules.
    let video = format!(
        "<iq type='set' to='{r}/focus'><mute xmlns='http://jitsi.org/jitmeet/video' jid='{r}/bob'>true</mute></iq>"
    );
    let ok = alice.send_iq(&video, T);
    assert_eq!(ok["type"].as_str(), Some("result"), "{ok}");
    let notice = bob.expect_event(
        "the focus's video mute IQ",
        |e| e.is_event("iq") && e["child"].as_str() == Some("{http://jitsi.org/jitmeet/video}mute"),
        T,
    );
    let xml = notice["xml"].as_str().unwrap_or_default();
    assert_eq!(
        attr(xml, "mute", "actor"),
        Some(format!("{r}/alice")),
        "{xml}"
    );

    // Only alice's two successful requests produced notifications.
    sync_with_focus(&mut alice, &r);
    sync_with_focus(&mut bob, &r);
    let is_mute = |e: &support::Json| {
        e.is_event("iq") && e["child"].as_str().is_some_and(|c| c.ends_with("}mute"))
    };
    assert_eq!(alice.history().iter().filter(|e| is_mute(e)).count(), 0);
    assert_eq!(bob.history().iter().filter(|e| is_mute(e)).count(), 2);
}
