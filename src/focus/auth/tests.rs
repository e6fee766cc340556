//! Tests of the XMPP-domain authority: the ten cases of Jicofo's
//! `XMPPDomainAuthAuthorityTest`, expiry on a fake clock, DISABLE_AUTOLOGIN,
//! logout, session ids, and the configuration keys.

use super::*;
use crate::stanza::focus::not_authorized;
use crate::stanza::{Condition, ErrorType};
use crate::xml::ns;

const AUTH_DOMAIN: &str = "auth.server.net";
const DAY: Duration = Duration::from_secs(24 * 3600);

fn jid(s: &str) -> Jid {
    Jid::parse(s).unwrap()
}

fn authority(lifetime: Duration, disable_autologin: bool) -> AuthAuthority {
    AuthAuthority::new(AuthConfig {
        domain: AUTH_DOMAIN.to_string(),
        lifetime,
        disable_autologin,
    })
}

/// A conference request as the conference logic handles it (protocol.md
/// §1.3 step 3): the authority first, then "only authenticated senders
/// create rooms". Jicofo's test drives its IQ handler for the same reason.
#[allow(clippy::too_many_arguments)]
fn request(
    auth: &mut AuthAuthority,
    now: Instant,
    rng: &mut Rng,
    from: &Jid,
    room: &Jid,
    session_id: Option<&str>,
    machine_uid: Option<&str>,
    room_exists: bool,
) -> Result<Option<AuthResult>, StanzaError> {
    let result = auth.process(now, rng, from, room, session_id, machine_uid)?;
    if !room_exists && !auth.may_create_room(from) {
        return Err(not_authorized());
    }
    Ok(result)
}

fn assert_not_acceptable(r: Result<Option<AuthResult>, StanzaError>, text: &str) {
    let e = r.unwrap_err();
    assert_eq!(
        (e.condition, e.error_type, e.text.as_deref()),
        (Condition::NotAcceptable, ErrorType::Modify, Some(text))
    );
}

/// The ten cases of Jicofo's `XMPPDomainAuthAuthorityTest`, in order, on one
/// authority (the Kotlin spec runs them as one instance too: case 4 uses the
/// session of case 2).
#[test]
fn jicofo_xmpp_domain_auth_authority_cases() {
    let mut auth = authority(DAY, true);
    let mut rng = Rng::from_seed([3; 32]);
    let now = Instant::now();

    let user1_guest = jid("user1@guest.server.net");
    let user1_auth = jid("user1@auth.server.net");
    let user1_machine = "machine1uid";
    let user2_guest = jid("user2@guest.server.net");
    let user2_auth = jid("user2@auth.server.net");
    let user2_machine = "machine2uid";
    let room1 = jid("testroom1@example.com");
    let room2 = jid("newroom@example.com");
    let room3 = jid("newroom2@example.com");

    // CASE 1: guest domain, no session-id, room does not exist.
    let r = request(
        &mut auth,
        now,
        &mut rng,
        &user1_guest,
        &room1,
        None,
        Some(user1_machine),
        false,
    );
    assert_eq!(r, Err(not_authorized()));
    assert_eq!(r.unwrap_err().condition, Condition::NotAuthorized);
    assert_eq!(auth.session_count(), 0);

    // CASE 2: auth domain, no session-id, room does not exist → a session.
    let r = request(
        &mut auth,
        now,
        &mut rng,
        &user1_auth,
        &room1,
        None,
        Some(user1_machine),
        false,
    );
    let user1_session = r.unwrap().expect("a session for the authenticated user");
    assert_eq!(user1_session.identity, "user1@auth.server.net");
    assert_eq!(
        auth.is_authenticated(&user1_auth),
        Some("user1@auth.server.net")
    );

    // CASE 3: guest domain, no session-id, room exists → allowed, no session.
    let r = request(
        &mut auth,
        now,
        &mut rng,
        &user2_guest,
        &room1,
        None,
        Some(user2_machine),
        true,
    );
    assert_eq!(r, Ok(None));

    // CASE 4: guest domain, the session of case 2, room does not exist.
    let r = request(
        &mut auth,
        now,
        &mut rng,
        &user1_guest,
        &room2,
        Some(&user1_session.session_id),
        Some(user1_machine),
        false,
    );
    assert_eq!(r.unwrap().unwrap().session_id, user1_session.session_id);
    assert_eq!(
        auth.is_authenticated(&user1_guest),
        Some("user1@auth.server.net")
    );

    // CASE 5: guest, invalid session-id, room exists → session-invalid.
    let e = request(
        &mut auth,
        now,
        &mut rng,
        &user2_guest,
        &room2,
        Some("someinvalidsessionid"),
        Some(user2_machine),
        true,
    )
    .unwrap_err();
    assert_eq!(e, session_invalid());
    assert_eq!(
        e.app(ns::FOCUS).map(|a| a.name.as_str()),
        Some("session-invalid")
    );

    // CASE 6: the session of user1 from another machine.
    let r = request(
        &mut auth,
        now,
        &mut rng,
        &user2_guest,
        &room2,
        Some(&user1_session.session_id),
        Some(user2_machine),
        true,
    );
    assert_not_acceptable(r, "machine UID mismatch or empty");

    // CASE 7: a stolen session id, used by an authenticated user of another
    // machine. (Jicofo's case sends it from user2's guest JID, repeating
    // case 6; the auth JID makes the case say what its name says.)
    let r = request(
        &mut auth,
        now,
        &mut rng,
        &user2_auth,
        &room2,
        Some(&user1_session.session_id),
        Some(user2_machine),
        true,
    );
    assert_not_acceptable(r, "machine UID mismatch or empty");
    assert_eq!(auth.is_authenticated(&user2_auth), None);

    // CASE 8: a session used without machine UID.
    let r = request(
        &mut auth,
        now,
        &mut rng,
        &user1_guest,
        &room2,
        Some(&user1_session.session_id),
        None,
        true,
    );
    assert_not_acceptable(r, "machine UID mismatch or empty");

    // CASE 9: an authenticated user creating a session without machine UID.
    let r = request(
        &mut auth,
        now,
        &mut rng,
        &user2_auth,
        &room3,
        None,
        None,
        true,
    );
    assert_not_acceptable(r, "Missing mandatory attribute 'machine-uid'");
    assert_eq!(auth.session_count(), 1);

    // CASE 10: same user, another machine → a separate session.
    let r = request(
        &mut auth,
        now,
        &mut rng,
        &user1_auth,
        &room3,
        None,
        Some("user3machineUID"),
        true,
    );
    let other = r.unwrap().unwrap();
    assert_ne!(other.session_id, user1_session.session_id);
    assert_eq!(other.identity, "user1@auth.server.net");
    assert_eq!(auth.session_count(), 2);
}

#[test]
fn the_secure_domain_flow_of_section_1_6() {
    let mut auth = authority(DAY, false);
    let mut rng = Rng::from_seed([4; 32]);
    let t = Instant::now();
    let guest = jid("x9y8@guest.meet.test/r1");
    let user = jid("alice@auth.server.net/web");
    let room = jid("r@conference.meet.test");

    // The guest may not create the room.
    assert_eq!(
        auth.process(t, &mut rng, &guest, &room, None, Some("M")),
        Ok(None)
    );
    assert!(!auth.may_create_room(&guest));
    // The logged-in connection gets a session.
    let s = auth
        .process(t, &mut rng, &user, &room, None, Some("M"))
        .unwrap()
        .unwrap();
    assert_eq!(
        auth.poll_event(),
        Some(AuthEvent::Authenticated {
            jid: user.clone(),
            identity: jid("alice@auth.server.net"),
            room: room.clone(),
        })
    );
    // The guest connection brings the session along.
    let again = auth
        .process(t, &mut rng, &guest, &room, Some(&s.session_id), Some("M"))
        .unwrap()
        .unwrap();
    assert_eq!(again, s);
    assert!(auth.may_create_room(&guest));
    assert_eq!(
        auth.poll_event(),
        Some(AuthEvent::Authenticated {
            jid: guest.clone(),
            identity: jid("alice@auth.server.net"),
            room: room.clone(),
        })
    );
    assert_eq!(auth.poll_event(), None);
    // Both connections stay authenticated (Jicofo kept only the last).
    assert_eq!(auth.is_authenticated(&user), Some("alice@auth.server.net"));
    // Another resource of the guest is another JID.
    assert_eq!(auth.is_authenticated(&jid("x9y8@guest.meet.test/r2")), None);
    assert!(auth.login_url(&room).starts_with("./r?"));
    assert!(!auth.is_external());
}

#[test]
fn only_users_of_exactly_the_configured_domain_get_sessions() {
    let mut auth = authority(DAY, false);
    let mut rng = Rng::from_seed([5; 32]);
    let t = Instant::now();
    let room = jid("r@conference.meet.test");
    for from in [
        "u@sub.auth.server.net/r",
        "u@server.net/r",
        "auth.server.net",
        "auth.server.net/component",
        "u@auth.server.net.evil/r",
    ] {
        assert_eq!(
            auth.process(t, &mut rng, &jid(from), &room, None, Some("M")),
            Ok(None),
            "{from}"
        );
    }
    assert_eq!(auth.session_count(), 0);
    // Case does not matter: JIDs are canonical.
    let r = auth.process(
        t,
        &mut rng,
        &jid("Bob@Auth.Server.Net/X"),
        &room,
        None,
        Some("M"),
    );
    assert_eq!(r.unwrap().unwrap().identity, "bob@auth.server.net");
    // Empty strings are absent.
    let r = auth.process(
        t,
        &mut rng,
        &jid("c@auth.server.net/x"),
        &room,
        Some(""),
        Some(""),
    );
    assert_eq!(r.unwrap_err(), missing_machine_uid());
}

#[test]
fn a_repeated_request_reuses_the_session_of_the_same_machine_and_room() {
    let mut auth = authority(DAY, false);
    let mut rng = Rng::from_seed([6; 32]);
    let t = Instant::now();
    let user = jid("alice@auth.server.net/web");
    let (r1, r2) = (
        jid("one@conference.meet.test"),
        jid("two@conference.meet.test"),
    );
    let mut ask = |room: &Jid, muid: &str| {
        auth.process(t, &mut rng, &user, room, None, Some(muid))
            .unwrap()
            .unwrap()
            .session_id
    };
    let a = ask(&r1, "M");
    assert_eq!(ask(&r1, "M"), a);
    assert_ne!(ask(&r1, "N"), a);
    assert_ne!(ask(&r2, "M"), a);
    assert_eq!(auth.session_count(), 3);
}

#[test]
fn sessions_expire_after_the_lifetime_of_inactivity() {
    let life = Duration::from_secs(60);
    let mut auth = authority(life, false);
    let mut rng = Rng::from_seed([7; 32]);
    let t0 = Instant::now();
    let s = |secs| t0 + Duration::from_secs(secs);
    let user = jid("alice@auth.server.net/web");
    let guest = jid("g@guest.meet.test/r");
    let room = jid("r@conference.meet.test");
    assert_eq!(auth.poll_timeout(), None);

    let sid = auth
        .process(t0, &mut rng, &user, &room, None, Some("M"))
        .unwrap()
        .unwrap()
        .session_id;
    assert_eq!(auth.poll_timeout(), Some(s(60)));

    // Used at 30 s: the deadline moves to 90 s.
    auth.process(s(30), &mut rng, &guest, &room, Some(&sid), Some("M"))
        .unwrap();
    // The timer may fire at the old deadline; it finds nothing to expire.
    auth.handle_timeout(s(60));
    assert_eq!(auth.session_count(), 1);
    assert_eq!(auth.poll_timeout(), Some(s(90)));
    auth.handle_timeout(s(89));
    assert!(auth.may_create_room(&guest));

    auth.handle_timeout(s(90));
    assert_eq!(auth.session_count(), 0);
    assert_eq!(auth.poll_timeout(), None);
    assert_eq!(auth.is_authenticated(&guest), None);
    assert_eq!(auth.is_authenticated(&user), None);
    assert_eq!(
        auth.process(s(91), &mut rng, &guest, &room, Some(&sid), Some("M")),
        Err(session_invalid())
    );
}

#[test]
fn an_expired_session_is_refused_even_before_the_timer_runs() {
    let life = Duration::from_secs(60);
    let mut auth = authority(life, false);
    let mut rng = Rng::from_seed([8; 32]);
    let t0 = Instant::now();
    let user = jid("alice@auth.server.net/web");
    let room = jid("r@conference.meet.test");
    let sid = auth
        .process(t0, &mut rng, &user, &room, None, Some("M"))
        .unwrap()
        .unwrap()
        .session_id;
    let late = t0 + life;
    assert_eq!(
        auth.process(late, &mut rng, &user, &room, Some(&sid), Some("M")),
        Err(session_invalid())
    );
    // Nor is it revived by a new request of the same user and machine.
    let fresh = auth
        .process(late, &mut rng, &user, &room, None, Some("M"))
        .unwrap()
        .unwrap();
    assert_ne!(fresh.session_id, sid);
    assert_eq!(auth.session_count(), 1);
}

#[test]
fn several_sessions_expire_each_at_its_own_deadline() {
    let life = Duration::from_secs(10);
    let mut auth = authority(life, false);
    let mut rng = Rng::from_seed([9; 32]);
    let t0 = Instant::now();
    let room = jid("r@conference.meet.test");
    for (i, user) in ["a", "b", "c"].iter().enumerate() {
        let from = jid(&format!("{user}@auth.server.net/x"));
        auth.process(
            t0 + Duration::from_secs(i as u64 * 3),
            &mut rng,
            &from,
            &room,
            None,
            Some("M"),
        )
        .unwrap();
    }
    let mut expiries = Vec::new();
    while let Some(t) = auth.poll_timeout() {
        let before = auth.session_count();
        auth.handle_timeout(t);
        assert_eq!(auth.session_count(), before - 1);
        expiries.push(t.duration_since(t0).as_secs());
    }
    assert_eq!(expiries, [10, 13, 16]);
}

#[test]
fn disable_autologin_destroys_only_that_rooms_sessions() {
    let t = Instant::now();
    let room_a = jid("a@conference.meet.test");
    let room_b = jid("b@conference.meet.test");
    let (ua, ub) = (jid("ua@auth.server.net/x"), jid("ub@auth.server.net/x"));
    let guest = jid("g@guest.meet.test/x");
    for disable in [true, false] {
        let mut auth = authority(DAY, disable);
        let mut rng = Rng::from_seed([10; 32]);
        let sa = auth
            .process(t, &mut rng, &ua, &room_a, None, Some("M"))
            .unwrap()
            .unwrap();
        auth.process(t, &mut rng, &ub, &room_b, None, Some("M"))
            .unwrap();
        auth.process(
            t,
            &mut rng,
            &guest,
            &room_b,
            Some(&sa.session_id),
            Some("M"),
        )
        .unwrap();
        auth.conference_ended(&room_a);
        if disable {
            assert_eq!(auth.session_count(), 1);
            assert_eq!(auth.is_authenticated(&ua), None);
            // Its JIDs go with it, wherever they used it.
            assert_eq!(auth.is_authenticated(&guest), None);
            assert_eq!(auth.is_authenticated(&ub), Some("ub@auth.server.net"));
        } else {
            assert_eq!(auth.session_count(), 2);
            assert_eq!(auth.is_authenticated(&guest), Some("ua@auth.server.net"));
        }
        auth.conference_ended(&jid("other@conference.meet.test"));
        assert_eq!(auth.session_count(), if disable { 1 } else { 2 });
    }
}

#[test]
fn logout_destroys_the_session_and_unbinds_its_jids() {
    let mut auth = authority(DAY, false);
    let mut rng = Rng::from_seed([11; 32]);
    let t = Instant::now();
    let user = jid("alice@auth.server.net/web");
    let guest = jid("g@guest.meet.test/x");
    let room = jid("r@conference.meet.test");
    let sid = auth
        .process(t, &mut rng, &user, &room, None, Some("M"))
        .unwrap()
        .unwrap()
        .session_id;
    auth.process(t, &mut rng, &guest, &room, Some(&sid), Some("M"))
        .unwrap();
    assert_eq!(auth.logout("no-such-session"), Err(session_invalid()));
    assert_eq!(auth.session_count(), 1);
    assert_eq!(auth.logout(&sid), Ok(()));
    assert_eq!(auth.session_count(), 0);
    assert!(!auth.may_create_room(&user) && !auth.may_create_room(&guest));
    assert_eq!(auth.logout(&sid), Err(session_invalid()));
    // The timer bound may outlive the session; firing it settles that.
    assert!(auth.poll_timeout().is_some());
    auth.handle_timeout(t + DAY);
    assert_eq!(auth.poll_timeout(), None);
}

#[test]
fn a_jid_belongs_to_the_session_it_used_last() {
    let mut auth = authority(DAY, false);
    let mut rng = Rng::from_seed([12; 32]);
    let t = Instant::now();
    let room = jid("r@conference.meet.test");
    let guest = jid("g@guest.meet.test/x");
    // Two users logged in on the same browser (same machine uid).
    let s1 = auth
        .process(
            t,
            &mut rng,
            &jid("u1@auth.server.net/a"),
            &room,
            None,
            Some("M"),
        )
        .unwrap()
        .unwrap();
    let s2 = auth
        .process(
            t,
            &mut rng,
            &jid("u2@auth.server.net/a"),
            &room,
            None,
            Some("M"),
        )
        .unwrap()
        .unwrap();
    auth.process(t, &mut rng, &guest, &room, Some(&s1.session_id), Some("M"))
        .unwrap();
    assert_eq!(auth.is_authenticated(&guest), Some("u1@auth.server.net"));
    auth.process(t, &mut rng, &guest, &room, Some(&s2.session_id), Some("M"))
        .unwrap();
    assert_eq!(auth.is_authenticated(&guest), Some("u2@auth.server.net"));
    // Crowding the guest out of the first session's recent JIDs does not
    // touch its binding to the second.
    for i in 0..=MAX_BOUND_JIDS {
        let other = jid(&format!("o{i}@guest.meet.test/x"));
        auth.process(t, &mut rng, &other, &room, Some(&s1.session_id), Some("M"))
            .unwrap();
    }
    assert_eq!(auth.is_authenticated(&guest), Some("u2@auth.server.net"));
    // Logging out the first session leaves the guest with the second.
    auth.logout(&s1.session_id).unwrap();
    assert_eq!(auth.is_authenticated(&guest), Some("u2@auth.server.net"));
}

#[test]
fn a_session_keeps_its_most_recent_jids_only() {
    let mut auth = authority(DAY, false);
    let mut rng = Rng::from_seed([13; 32]);
    let t = Instant::now();
    let room = jid("r@conference.meet.test");
    let user = jid("u@auth.server.net/a");
    let sid = auth
        .process(t, &mut rng, &user, &room, None, Some("M"))
        .unwrap()
        .unwrap()
        .session_id;
    let guests: Vec<Jid> = (0..MAX_BOUND_JIDS)
        .map(|i| jid(&format!("g{i}@guest.meet.test/x")))
        .collect();
    for g in &guests {
        auth.process(t, &mut rng, g, &room, Some(&sid), Some("M"))
            .unwrap();
    }
    // MAX_BOUND_JIDS + 1 JIDs used it: the oldest (the login connection) is dropped.
    assert_eq!(auth.is_authenticated(&user), None);
    assert!(guests.iter().all(|g| auth.may_create_room(g)));
    // Using it again makes a JID the most recent one.
    auth.process(t, &mut rng, &guests[0], &room, Some(&sid), Some("M"))
        .unwrap();
    auth.process(t, &mut rng, &user, &room, Some(&sid), Some("M"))
        .unwrap();
    assert!(auth.may_create_room(&guests[0]));
    assert!(!auth.may_create_room(&guests[1]));
}

#[test]
fn session_ids_are_unique_unguessable_tokens() {
    // 22 characters of a 62-symbol alphabet carry at least 128 bits.
    assert!(SESSION_ID_LEN as f64 * 62f64.log2() >= 128.0);
    let mut auth = authority(DAY, false);
    let mut rng = Rng::from_seed([14; 32]);
    let t = Instant::now();
    let room = jid("r@conference.meet.test");
    let mut ids = std::collections::BTreeSet::new();
    for i in 0..500 {
        let from = jid(&format!("u{i}@auth.server.net/x"));
        let id = auth
            .process(t, &mut rng, &from, &room, None, Some("M"))
            .unwrap()
            .unwrap()
            .session_id;
        assert_eq!(id.len(), SESSION_ID_LEN);
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
        assert!(ids.insert(id));
    }
    // Another seed, other ids: they come from the injected generator.
    let mut other = authority(DAY, false);
    let mut rng2 = Rng::from_seed([15; 32]);
    let id = other
        .process(
            t,
            &mut rng2,
            &jid("u0@auth.server.net/x"),
            &room,
            None,
            Some("M"),
        )
        .unwrap()
        .unwrap()
        .session_id;
    assert!(!ids.contains(&id));
}

#[test]
fn credentials_stay_out_of_debug_output() {
    let mut auth = authority(DAY, false);
    let mut rng = Rng::from_seed([16; 32]);
    let r = auth
        .process(
            Instant::now(),
            &mut rng,
            &jid("u@auth.server.net/x"),
            &jid("r@c.test"),
            None,
            Some("M"),
        )
        .unwrap()
        .unwrap();
    let dbg = format!("{r:?} {auth:?}");
    assert!(!dbg.contains(&r.session_id), "{dbg}");
    assert!(dbg.contains("u@auth.server.net"));
}

// ---------------------------------------------------------------------------
// Configuration

fn props(pairs: &[(&str, &str)]) -> Properties {
    let mut p = Properties::new();
    for (k, v) in pairs {
        p.set(*k, *v);
    }
    p
}

fn cfg(domain: &str, lifetime: Duration, disable_autologin: bool) -> Option<AuthConfig> {
    Some(AuthConfig {
        domain: domain.to_string(),
        lifetime,
        disable_autologin,
    })
}

#[test]
fn config_off_by_default() {
    assert_eq!(AuthConfig::from_props(&props(&[])), Ok(None));
    // Blank legacy URL (a Debian template line) is absent.
    assert_eq!(
        AuthConfig::from_props(&props(&[("org.jitsi.jicofo.auth.URL", " ")])),
        Ok(None)
    );
    assert_eq!(
        AuthConfig::from_props(&props(&[
            ("jicofo.authentication.enabled", "false"),
            ("jicofo.authentication.login-url", "auth.meet.test"),
        ])),
        Ok(None)
    );
    assert_eq!(
        AuthConfig::from_props(&props(&[
            ("jicofo.authentication.enabled", "true"),
            ("jicofo.authentication.type", "NONE"),
        ])),
        Ok(None)
    );
}

#[test]
fn config_legacy_keys() {
    assert_eq!(
        AuthConfig::from_props(&props(&[(
            "org.jitsi.jicofo.auth.URL",
            "XMPP:Auth.Meet.Test"
        )])),
        Ok(cfg("auth.meet.test", DEFAULT_LIFETIME, false))
    );
    // Jicofo's AuthConfigTest values; the domain of a JID is taken, as jxmpp did.
    assert_eq!(
        AuthConfig::from_props(&props(&[
            ("org.jitsi.jicofo.auth.URL", "XMPP:test@example.com"),
            ("org.jitsi.jicofo.auth.DISABLE_AUTOLOGIN", "true"),
            ("org.jitsi.jicofo.auth.AUTH_LIFETIME", "60000"),
        ])),
        Ok(cfg("example.com", Duration::from_secs(60), true))
    );
    // Legacy wins over CURRENT, key by key.
    assert_eq!(
        AuthConfig::from_props(&props(&[
            ("org.jitsi.jicofo.auth.URL", "XMPP:auth.meet.test"),
            ("org.jitsi.jicofo.auth.DISABLE_AUTOLOGIN", "false"),
            ("org.jitsi.jicofo.auth.AUTH_LIFETIME", "1000"),
            ("jicofo.authentication.enabled", "false"),
            ("jicofo.authentication.login-url", "other.meet.test"),
            ("jicofo.authentication.enable-auto-login", "false"),
            ("jicofo.authentication.authentication-lifetime", "5 minutes"),
        ])),
        Ok(cfg("auth.meet.test", Duration::from_secs(1), false))
    );
}

#[test]
fn config_current_keys() {
    assert_eq!(
        AuthConfig::from_props(&props(&[
            ("jicofo.authentication.enabled", "true"),
            ("jicofo.authentication.type", "XMPP"),
            ("jicofo.authentication.login-url", "auth.meet.test"),
            ("jicofo.authentication.enable-auto-login", "false"),
            ("jicofo.authentication.authentication-lifetime", "5 minutes"),
        ])),
        Ok(cfg("auth.meet.test", Duration::from_secs(300), true))
    );
    // type defaults to XMPP; auto-login defaults to on.
    assert_eq!(
        AuthConfig::from_props(&props(&[
            ("jicofo.authentication.enabled", "true"),
            ("jicofo.authentication.login-url", "auth.meet.test"),
        ])),
        Ok(cfg("auth.meet.test", DEFAULT_LIFETIME, false))
    );
}

fn bad_key(pairs: &[(&str, &str)]) -> String {
    match AuthConfig::from_props(&props(pairs)) {
        Err(ConfigError::BadValue { key, .. }) => key,
        other => panic!("expected a bad value, got {other:?}"),
    }
}

#[test]
fn config_errors_name_the_key() {
    // Other authorities are refused, loudly.
    let e = AuthConfig::from_props(&props(&[(
        "org.jitsi.jicofo.auth.URL",
        "https://meet.test/login/?room=%3$s",
    )]))
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("only authentication jicofo-rs implements"),
        "{e}"
    );
    assert_eq!(
        bad_key(&[("org.jitsi.jicofo.auth.URL", "EXT_JWT:meet.test")]),
        "org.jitsi.jicofo.auth.URL"
    );
    assert_eq!(
        bad_key(&[("org.jitsi.jicofo.auth.URL", "xmpp:meet.test")]),
        "org.jitsi.jicofo.auth.URL"
    );
    assert_eq!(
        bad_key(&[
            ("jicofo.authentication.enabled", "true"),
            ("jicofo.authentication.type", "JWT"),
            ("jicofo.authentication.login-url", "meet.test"),
        ]),
        "jicofo.authentication.type"
    );
    // A domain is required and must be one.
    assert_eq!(
        bad_key(&[("org.jitsi.jicofo.auth.URL", "XMPP:")]),
        "org.jitsi.jicofo.auth.URL"
    );
    assert_eq!(
        bad_key(&[("org.jitsi.jicofo.auth.URL", "XMPP:a b")]),
        "org.jitsi.jicofo.auth.URL"
    );
    assert_eq!(
        bad_key(&[("jicofo.authentication.enabled", "true")]),
        "jicofo.authentication.login-url"
    );
    // Typed values.
    assert_eq!(
        bad_key(&[("jicofo.authentication.enabled", "yes")]),
        "jicofo.authentication.enabled"
    );
    for (k, v) in [
        ("org.jitsi.jicofo.auth.AUTH_LIFETIME", "a day"),
        ("org.jitsi.jicofo.auth.AUTH_LIFETIME", "0"),
        ("org.jitsi.jicofo.auth.AUTH_LIFETIME", "-5"),
        ("jicofo.authentication.authentication-lifetime", "0 s"),
        ("org.jitsi.jicofo.auth.DISABLE_AUTOLOGIN", "1"),
        ("jicofo.authentication.enable-auto-login", "off"),
    ] {
        assert_eq!(
            bad_key(&[("org.jitsi.jicofo.auth.URL", "XMPP:meet.test"), (k, v)]),
            k,
            "{k}={v}"
        );
    }
}
