//! Simulation tests of what the focus does on the bridge and in its room
//! presence besides inviting: mute on the bridge (Colibri2 `force-mute`,
//! Colibri v1 channel direction, protocol.md §2.8), start muted in the
//! offer (§2.6, §2.8), and the `<bridgeNotAvailable/>` and
//! `conference-properties` extensions of the focus's presence (§2.2).

mod sim;

use std::time::Duration;

use jicofo::focus::MediaConfig;
use jicofo::focus::media::Invite;
use jicofo::stanza::colibri::Direction;
use jicofo::stanza::colibri2::ForceMute;
use jicofo::stanza::sources::MediaType;
use jicofo::xml::ns;

use sim::*;

const ROOM: &str = "room1@conference.meet.test";
const ALICE: &str = "alice@meet.test/a1";
const BOB: &str = "bob@meet.test/b1";
const CAROL: &str = "carol@meet.test/c1";
const START_MUTED: &str = "http://jitsi.org/jitmeet/start-muted";

fn world(bridges: &[&str]) -> World {
    let mut w = World::with_media(media_config(), [7; 32]);
    for b in bridges {
        w.add_bridge(b, stats(0.1));
    }
    w
}

fn v1_world() -> World {
    let mut cfg = MediaConfig::quiet();
    cfg.bridges.rediscovery_interval = Some(Duration::from_secs(30));
    let mut w = World::with_media(cfg, [7; 32]);
    w.add_v1_bridge("jvb1");
    w.advance(Duration::ZERO);
    w
}

fn start(w: &mut World) {
    w.client(ALICE);
    w.client(BOB);
    w.request(ALICE, ROOM);
    w.join(ROOM, "alice", ALICE);
    w.join(ROOM, "bob", BOB);
}

fn active(w: &World, nick: &str) -> bool {
    w.focus
        .conference(ROOM)
        .and_then(|c| c.media().participant(nick))
        .is_some_and(|p| matches!(p.invite, Invite::Active(_)))
}

fn waiting(w: &World, nick: &str) -> bool {
    w.focus
        .conference(ROOM)
        .and_then(|c| c.media().participant(nick))
        .is_some_and(|p| matches!(p.invite, Invite::WaitingForBridge(_)))
}

/// The `force-mute` of each Colibri2 request for `endpoint`, in order.
fn force_mutes(w: &World, bridge: &str, endpoint: &str) -> Vec<ForceMute> {
    w.bridge(bridge)
        .colibri()
        .iter()
        .filter_map(|r| r.v2())
        .flat_map(|r| r.endpoints.iter())
        .filter(|e| e.id == endpoint)
        .filter_map(|e| e.force_mute)
        .collect()
}

fn real(nick: &str) -> &'static str {
    match nick {
        "alice" => ALICE,
        "bob" => BOB,
        _ => CAROL,
    }
}

/// `muter`'s mute IQ for `target` and the type of the answer it got.
fn mute_answer(w: &mut World, muter: &str, target: &str, on: bool) -> (String, Option<String>) {
    let id = w.mute(
        ROOM,
        muter,
        &format!("jid='{ROOM}/{target}'"),
        &on.to_string(),
    );
    let answers: Vec<_> = w
        .inbox(real(muter))
        .into_iter()
        .filter(|n| n.attr("id") == Some(id.as_str()))
        .collect();
    assert_eq!(answers.len(), 1, "{answers:#?}");
    (
        answers[0].attr("type").unwrap_or("").to_string(),
        answers[0].error_condition().map(str::to_string),
    )
}

fn mute(w: &mut World, muter: &str, target: &str, on: bool) {
    let (ty, _) = mute_answer(w, muter, target, on);
    assert_eq!(ty, "result", "mute {target}");
}

// ------------------------------------------------------------------ mute

#[test]
fn colibri2_mute_and_unmute_are_force_mute_on_the_bridge() {
    let mut w = world(&["jvb1"]);
    start(&mut w);
    assert!(active(&w, "alice") && active(&w, "bob"));
    assert!(force_mutes(&w, "jvb1", "bob").is_empty());
    mute(&mut w, "alice", "bob", true);
    assert_eq!(
        force_mutes(&w, "jvb1", "bob"),
        [ForceMute {
            audio: true,
            video: false
        }]
    );
    // Unmuting is the participant's own right; the bridge gets the whole
    // state back.
    mute(&mut w, "bob", "bob", false);
    assert_eq!(force_mutes(&w, "jvb1", "bob").len(), 2);
    assert_eq!(force_mutes(&w, "jvb1", "bob")[1], ForceMute::default());
    assert!(force_mutes(&w, "jvb1", "alice").is_empty());
}

#[test]
fn a_refused_mute_changes_nothing_on_the_bridge() {
    let mut w = world(&["jvb1"]);
    start(&mut w);
    // bob is not a moderator: he may not mute alice.
    let (ty, cond) = mute_answer(&mut w, "bob", "alice", true);
    assert_eq!(
        (ty.as_str(), cond.as_deref()),
        ("error", Some("not-allowed"))
    );
    assert!(force_mutes(&w, "jvb1", "alice").is_empty());
}

#[test]
fn a_muted_participant_is_muted_on_the_bridge_it_moves_to() {
    let mut w = world(&["jvb1", "jvb2"]);
    w.set_stats("jvb2", |s| s.stress_level = Some(0.5));
    start(&mut w);
    mute(&mut w, "alice", "bob", true);
    assert_eq!(force_mutes(&w, "jvb1", "bob").len(), 1);
    w.bridge_leaves("jvb1");
    assert!(active(&w, "bob"));
    assert_eq!(
        force_mutes(&w, "jvb2", "bob"),
        [ForceMute {
            audio: true,
            video: false
        }]
    );
    assert!(force_mutes(&w, "jvb2", "alice").is_empty());
}

#[test]
fn colibri_v1_mute_sets_the_audio_channel_direction() {
    let mut w = v1_world();
    start(&mut w);
    assert!(active(&w, "bob"));
    let before = w.bridge("jvb1").colibri().len();
    mute(&mut w, "alice", "bob", true);
    let bob_audio = w.bridge("jvb1").endpoint("bob").unwrap().channels.clone();
    let audio_id = bob_audio
        .iter()
        .find(|(m, _)| *m == MediaType::Audio)
        .map(|(_, id)| id.clone())
        .unwrap();
    let reqs = w.bridge("jvb1").colibri();
    let new: Vec<_> = reqs[before..].iter().filter_map(|r| r.v1()).collect();
    assert_eq!(new.len(), 1, "one direction update");
    let chans: Vec<_> = new[0].channels.iter().collect();
    assert_eq!(chans.len(), 1, "only bob's audio channel");
    assert_eq!(chans[0].id.as_deref(), Some(audio_id.as_str()));
    assert_eq!(chans[0].direction, Some(Direction::SendOnly));
    mute(&mut w, "bob", "bob", false);
    let reqs = w.bridge("jvb1").colibri();
    let last = reqs.last().unwrap().v1().unwrap();
    assert_eq!(last.channels[0].direction, Some(Direction::SendRecv));
}

// ----------------------------------------------------------- start muted

#[test]
fn a_moderators_startmuted_applies_to_those_who_join_after_it() {
    let mut w = world(&["jvb1"]);
    w.client(ALICE);
    w.client(BOB);
    w.client(CAROL);
    w.request(ALICE, ROOM);
    // alice becomes owner (auto-owner); her presence asks everyone after
    // her to start with audio muted.
    w.join_with(
        ROOM,
        "alice",
        ALICE,
        &format!("<startmuted xmlns='{START_MUTED}' audio='true' video='false'/>"),
    );
    w.join(ROOM, "bob", BOB);
    w.join(ROOM, "carol", CAROL);
    let flags = |w: &World, real: &str| {
        let offer = w.offers(real)[0].clone();
        offer.child("startmuted", START_MUTED).map(|s| {
            (
                s.attr("audio") == Some("true"),
                s.attr("video") == Some("true"),
            )
        })
    };
    assert_eq!(flags(&w, ALICE), None, "the moderator herself");
    assert_eq!(flags(&w, BOB), Some((true, false)));
    assert_eq!(flags(&w, CAROL), Some((true, false)));
}

#[test]
fn startmuted_from_a_non_moderator_is_ignored() {
    let mut w = world(&["jvb1"]);
    w.client(ALICE);
    w.client(BOB);
    w.client(CAROL);
    w.request(ALICE, ROOM);
    w.join(ROOM, "alice", ALICE);
    w.join_with(
        ROOM,
        "bob",
        BOB,
        &format!("<startmuted xmlns='{START_MUTED}' audio='true' video='true'/>"),
    );
    w.join(ROOM, "carol", CAROL);
    for real in [ALICE, BOB, CAROL] {
        assert!(
            w.offers(real)[0].child("startmuted", START_MUTED).is_none(),
            "{real}"
        );
    }
}

// ------------------------------------------------------ focus presence

/// The focus's presences to the room after its join, in order.
fn focus_updates(w: &World) -> Vec<&Sent> {
    w.sent
        .iter()
        .filter(|s| {
            s.node.name == "presence"
                && s.attr("to") == Some(&format!("{ROOM}/focus"))
                && s.attr("type").is_none()
                && !s.is_join()
        })
        .collect()
}

fn has_no_bridge(s: &Sent) -> bool {
    s.node.child("bridgeNotAvailable", ns::FOCUS).is_some()
}

#[test]
fn the_join_advertises_support_terminate_restart() {
    let mut w = world(&["jvb1"]);
    start(&mut w);
    let join = w.joins(ROOM)[0].clone();
    let props = join
        .node
        .child("conference-properties", ns::FOCUS)
        .expect("conference-properties");
    let p: Vec<_> = props
        .children
        .iter()
        .map(|c| (c.attr("key").unwrap(), c.attr("value").unwrap()))
        .collect();
    assert_eq!(p, [("support-terminate-restart", "true")]);
    assert!(
        focus_updates(&w).is_empty(),
        "nothing to update with a bridge"
    );
}

#[test]
fn bridge_not_available_is_published_while_invites_wait_and_removed_after() {
    let mut w = world(&[]);
    start(&mut w);
    assert!(waiting(&w, "alice") && waiting(&w, "bob"));
    let ups = focus_updates(&w);
    assert_eq!(ups.len(), 1, "published once");
    assert!(has_no_bridge(ups[0]));
    assert!(
        ups[0].node.child("x", ns::MUC).is_none(),
        "an update, not a new join"
    );
    w.add_bridge("jvb1", stats(0.2));
    assert!(active(&w, "alice") && active(&w, "bob"));
    let ups = focus_updates(&w);
    assert_eq!(ups.len(), 2);
    assert!(!has_no_bridge(ups[1]));
    assert!(
        ups[1]
            .node
            .child("conference-properties", ns::FOCUS)
            .is_some()
    );
    // The only bridge goes: published again.
    w.bridge_leaves("jvb1");
    let ups = focus_updates(&w);
    assert_eq!(ups.len(), 3);
    assert!(has_no_bridge(ups[2]));
}
