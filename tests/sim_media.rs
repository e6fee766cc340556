//! Simulation tests of the media logic: bridge discovery (brewery and disco),
//! selection, health, Colibri2 and Colibri v1 sessions, the per-participant
//! invite state machine and the Jingle offer (protocol.md §2.4–2.5, §2.9,
//! §3, §4, §5.1–5.4), driven through the sim world of `sim/mod.rs` with the
//! scripted bridges and clients of `sim/media.rs`.

mod sim;

use std::time::Duration;

use jicofo::focus::MediaConfig;
use jicofo::focus::bridge::SelectionStrategy;
use jicofo::focus::media::Invite;
use jicofo::stanza::colibri2 as c2;
use jicofo::stanza::sources::{EndpointSourceSet, MediaType};
use jicofo::stanza::{Condition, StanzaError};
use jicofo::xml::ns;

use sim::*;

const ROOM: &str = "room1@conference.meet.test";
const ROOM2: &str = "room2@conference.meet.test";
const ALICE: &str = "alice@meet.test/a1";
const BOB: &str = "bob@meet.test/b1";
const CAROL: &str = "carol@meet.test/c1";
const DAVE: &str = "dave@meet.test/d1";
const ERIN: &str = "erin@meet.test/e1";

const MS: Duration = Duration::from_millis(1);
const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}
/// The reply timeout of `FocusConfig::for_tests`.
const REPLY_TIMEOUT: Duration = Duration::from_secs(15);

// ------------------------------------------------------------ helpers

/// A world with the brewery and the given bridges (name, stress).
fn world_with(bridges: &[(&str, f64)]) -> World {
    world_cfg(media_config(), bridges)
}

fn world_cfg(cfg: MediaConfig, bridges: &[(&str, f64)]) -> World {
    let mut w = World::with_media(cfg, [7; 32]);
    for (name, stress) in bridges {
        w.add_bridge(name, stats(*stress));
    }
    w
}

/// `ROOM` asked for by alice, alice and bob in it (each client made first,
/// so alice is client 0 and bob client 1).
fn start(w: &mut World) {
    w.client(ALICE);
    w.client(BOB);
    w.request(ALICE, ROOM);
    w.join(ROOM, "alice", ALICE);
    w.join(ROOM, "bob", BOB);
}

/// The invite state of `nick` in `room`.
fn state_in(w: &World, room: &str, nick: &str) -> Option<&'static str> {
    let p = w.focus.conference(room)?.media().participant(nick)?;
    Some(p.invite.name())
}

fn state(w: &World, nick: &str) -> Option<&'static str> {
    state_in(w, ROOM, nick)
}

/// The bridge (brewery nick or component domain) of `nick`'s session.
fn bridge_of_in(w: &World, room: &str, nick: &str) -> Option<String> {
    let p = w.focus.conference(room)?.media().participant(nick)?;
    let b = match &p.invite {
        Invite::Initiating(s) | Invite::Invited(s) | Invite::Active(s) => s.bridge.as_str(),
        Invite::Allocating(_, b) | Invite::Leaving(b) => b.as_str(),
        _ => return None,
    };
    Some(b.rsplit('/').next().unwrap_or(b).to_string())
}

fn bridge_of(w: &World, nick: &str) -> Option<String> {
    bridge_of_in(w, ROOM, nick)
}

/// Bridges the conference of `room` has sessions on.
fn conf_bridges(w: &World, room: &str) -> Vec<String> {
    w.focus
        .conference(room)
        .map(|c| {
            c.media()
                .bridges()
                .map(|b| b.as_str().rsplit('/').next().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn assert_active_on(w: &World, nicks: &[&str], bridge: &str) {
    for n in nicks {
        assert_eq!(state(w, n), Some("Active"), "{n}");
        assert_eq!(bridge_of(w, n).as_deref(), Some(bridge), "{n}");
    }
}

/// Sorted endpoint ids a bridge has.
fn endpoints(w: &World, bridge: &str) -> Vec<String> {
    let mut e = w.bridge(bridge).endpoints();
    e.sort();
    e
}

/// `(media, ssrc, owner)` of every source of an offer, in order.
fn offer_sources(offer: &Node) -> Vec<(String, u32, String)> {
    let mut out = Vec::new();
    for c in offer.children.iter().filter(|c| c.name == "content") {
        let Some(d) = c.child("description", ns::JINGLE_RTP) else {
            continue;
        };
        let media = d.attr("media").unwrap_or("").to_string();
        for s in d.children.iter().filter(|s| s.name == "source") {
            let owner = s
                .child("ssrc-info", ns::JITMEET)
                .and_then(|i| i.attr("owner"))
                .unwrap_or("")
                .to_string();
            let ssrc = s.attr("ssrc").unwrap().parse().unwrap();
            out.push((media.clone(), ssrc, owner));
        }
    }
    out
}

/// `(semantics, ssrcs)` of every group of an offer.
fn offer_groups(offer: &Node) -> Vec<(String, Vec<u32>)> {
    let mut v = Vec::new();
    offer.find_all("ssrc-group", &mut v);
    v.iter()
        .map(|g| {
            (
                g.attr("semantics").unwrap_or("").to_string(),
                g.children
                    .iter()
                    .map(|s| s.attr("ssrc").unwrap().parse().unwrap())
                    .collect(),
            )
        })
        .collect()
}

fn content_names(offer: &Node) -> Vec<String> {
    offer
        .children
        .iter()
        .filter(|c| c.name == "content")
        .map(|c| c.attr("name").unwrap_or("").to_string())
        .collect()
}

/// No offer a client got announces that client's own sources (owner = its nick).
fn assert_no_own_sources(w: &World, clients: &[(&str, &str)]) {
    for (real, nick) in clients {
        for o in w.offers(real) {
            for (_, ssrc, owner) in offer_sources(&o) {
                assert_ne!(&owner, nick, "{real} was offered its own source {ssrc}");
            }
        }
    }
}

/// SSRCs (sorted) and groups of a source set.
fn ssrcs(set: &EndpointSourceSet) -> Vec<u32> {
    let mut v: Vec<u32> = set.sources.iter().map(|s| s.ssrc.0).collect();
    v.sort();
    v
}

// ------------------------------------------------- allocation (Colibri2)

#[test]
fn colibri2_allocation_creates_the_conference_once_and_invites_everybody() {
    let mut w = world_with(&[("jvb1", 0.1)]);
    start(&mut w);
    assert_active_on(&w, &["alice", "bob"], "jvb1");
    let b = w.bridge("jvb1");
    let creates: Vec<&c2::Colibri2Request> = b
        .requests(Req::Create)
        .into_iter()
        .filter_map(|r| r.v2())
        .collect();
    assert_eq!(creates.len(), 2);
    // The first creates the conference, with the room as its name; the
    // second only its endpoint. Both carry the meeting id.
    let meeting = w.focus.conference(ROOM).unwrap().meeting_id().unwrap();
    assert!(creates[0].create && creates[0].name.as_deref() == Some(ROOM));
    assert!(!creates[1].create && creates[1].name.is_none());
    for (c, id) in creates.iter().zip(["alice", "bob"]) {
        assert_eq!(c.meeting_id, meeting);
        assert_eq!(c.endpoints.len(), 1);
        let e = &c.endpoints[0];
        assert_eq!(e.id, id);
        assert!(e.create && e.has_capability("source-names"));
        let t = e.transport.as_ref().unwrap();
        assert!(t.ice_controlling && t.sctp.is_some());
        let media: Vec<&str> = e.media.iter().map(|m| &*m.media).collect();
        assert_eq!(media, ["audio", "video"]);
    }
    assert_eq!(endpoints(&w, "jvb1"), ["alice", "bob"]);
    assert_eq!(w.bridge("jvb1").confs.len(), 1);
    // One offer each, acknowledged, accepted.
    assert_eq!(w.offers(ALICE).len(), 1);
    assert_eq!(w.offers(BOB).len(), 1);
    assert_no_own_sources(&w, &[(ALICE, "alice"), (BOB, "bob")]);
}

#[test]
fn session_accept_pushes_transport_and_the_complete_source_set_to_the_bridge() {
    let mut w = world_with(&[("jvb1", 0.1)]);
    start(&mut w);
    for (nick, k) in [("alice", 0), ("bob", 1)] {
        let e = w.bridge("jvb1").endpoint(nick).unwrap();
        let want = client_sources(k, nick);
        let got = e.sources.clone().expect("sources pushed");
        assert_eq!(ssrcs(&got), ssrcs(&want), "{nick}");
        assert_eq!(got, want, "{nick}: names, msids, video types and groups");
        let sim: Vec<_> = got.groups.iter().filter(|g| g.is_sim()).collect();
        let fid: Vec<_> = got.groups.iter().filter(|g| g.is_fid()).collect();
        assert_eq!((sim.len(), fid.len()), (1, 3), "{nick}");
        assert_eq!(
            e.transport.as_ref(),
            Some(&parse_transport(&client_transport_xml(k))),
            "{nick}'s transport"
        );
    }
    // One update per participant, with both parts at once.
    let updates: Vec<&c2::Colibri2Request> = w
        .bridge("jvb1")
        .requests(Req::Update)
        .into_iter()
        .filter_map(|r| r.v2())
        .collect();
    assert_eq!(updates.len(), 2, "{updates:#?}");
    for u in updates {
        let e = &u.endpoints[0];
        assert!(!e.create && e.transport.is_some() && e.sources.is_some());
    }
}

// ----------------------------------------------------------- the offer

#[test]
fn the_offer_carries_the_bridge_transport_bundle_rtcp_mux_and_feedback_sources() {
    let mut w = world_with(&[("jvb1", 0.1)]);
    w.bridge_mut("jvb1").sctp_port = 5005;
    start(&mut w);
    let offer = &w.offers(ALICE)[0];
    assert_eq!(offer.attr("initiator"), Some(FOCUS_FULL));
    assert_eq!(content_names(offer), ["audio", "video", "data"]);
    let given = node_of(&w.bridge("jvb1").given["alice"]);
    for c in offer.children.iter().filter(|c| c.name == "content") {
        let name = c.attr("name").unwrap();
        assert_eq!(c.attr("creator"), Some("initiator"), "{name}");
        assert_eq!(c.attr("senders"), Some("both"), "{name}");
        let d = c.child("description", ns::JINGLE_RTP).unwrap();
        let mut t = c.child("transport", ns::JINGLE_ICE_UDP).unwrap().clone();
        if name == "data" {
            assert_eq!(d.attr("media"), Some("application"));
            let i = t
                .children
                .iter()
                .position(|x| x.name == "sctpmap")
                .expect("sctpmap in the data transport");
            let m = t.children.remove(i);
            assert_eq!(m.ns, ns::JINGLE_DTLS_SCTP);
            assert_eq!(m.attr("number"), Some("5005"), "the bridge's SCTP port");
            assert_eq!(m.attr("protocol"), Some("webrtc-datachannel"));
        } else {
            assert_eq!(d.attr("media"), Some(name));
            assert!(d.child("rtcp-mux", ns::JINGLE_RTP).is_some(), "{name}");
        }
        assert_eq!(t, given, "{name}: the bridge's transport, verbatim");
    }
    let group = offer.child("group", ns::JINGLE_GROUPING).unwrap();
    assert_eq!(group.attr("semantics"), Some("BUNDLE"));
    let grouped: Vec<&str> = group
        .children
        .iter()
        .map(|c| c.attr("name").unwrap())
        .collect();
    assert_eq!(grouped, ["audio", "video", "data"]);
    // The bridge's feedback sources, owner jvb, in their media.
    let fb = w.bridge("jvb1").feedback();
    let jvb: Vec<(String, u32, String)> = offer_sources(offer)
        .into_iter()
        .filter(|(_, _, o)| o == "jvb")
        .collect();
    assert_eq!(
        jvb,
        vec![
            ("audio".into(), fb[0].sources[0].ssrc.0, "jvb".into()),
            ("video".into(), fb[1].sources[0].ssrc.0, "jvb".into()),
        ]
    );
    // Nobody had accepted yet: nothing but the bridge's sources.
    assert!(offer_sources(offer).iter().all(|(_, _, o)| o == "jvb"));
    let bs = offer
        .child("bridge-session", ns::FOCUS)
        .expect("bridge-session");
    assert!(bs.attr("id").is_some_and(|id| id.len() == 36));
}

#[test]
fn the_offer_has_contents_by_features_and_the_others_sources_by_nick() {
    let mut w = world_with(&[("jvb1", 0.1)]);
    start(&mut w);
    // Carol has no video, dave no data channel.
    let no = |f: &str| {
        FULL_FEATURES
            .iter()
            .filter(|x| **x != f)
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
    };
    w.client(CAROL).features = Some(no("urn:xmpp:jingle:apps:rtp:video"));
    w.client(DAVE).features = Some(no("urn:xmpp:jingle:transports:dtls-sctp:1"));
    w.join(ROOM, "carol", CAROL);
    w.join(ROOM, "dave", DAVE);
    let carol = &w.offers(CAROL)[0];
    assert_eq!(content_names(carol), ["audio", "data"]);
    let dave = &w.offers(DAVE)[0];
    assert_eq!(content_names(dave), ["audio", "video"]);
    // What the bridge was asked for follows the features too.
    let b = w.bridge("jvb1");
    let create = |id: &str| {
        b.requests(Req::Create)
            .into_iter()
            .filter_map(|r| r.v2())
            .find(|r| r.endpoints[0].id == id)
            .unwrap()
            .endpoints[0]
            .clone()
    };
    let carol_media: Vec<String> = create("carol")
        .media
        .iter()
        .map(|m| m.media.to_string())
        .collect();
    assert_eq!(carol_media, ["audio"]);
    assert!(create("carol").transport.unwrap().sctp.is_some());
    assert!(create("dave").transport.unwrap().sctp.is_none());
    // Dave's offer: alice's and bob's sources with their nicks as owners,
    // with their groups; carol's (audio only) too; never dave's own. With
    // `strip-simulcast` (on by default, as in CURRENT) a receiver gets only
    // the first simulcast layer and its RTX (sim_sources.rs has the rest).
    let owners = |o: &Node| {
        let mut v: Vec<String> = Vec::new();
        for (_, _, owner) in offer_sources(o) {
            if !v.contains(&owner) {
                v.push(owner);
            }
        }
        v
    };
    assert_eq!(owners(dave), ["jvb", "alice", "bob", "carol"]);
    for (nick, k) in [("alice", 0u32), ("bob", 1)] {
        let (a, sim, rtx) = client_ssrcs(k);
        let mut mine: Vec<(String, u32)> = offer_sources(dave)
            .into_iter()
            .filter(|(_, _, o)| o == nick)
            .map(|(m, s, _)| (m, s))
            .collect();
        mine.sort();
        let mut want: Vec<(String, u32)> = vec![("audio".into(), a)];
        want.extend([sim[0], rtx[0]].map(|s| ("video".into(), s)));
        want.sort();
        assert_eq!(mine, want, "{nick}'s sources in dave's offer");
        let groups = offer_groups(dave);
        assert!(!groups.contains(&("SIM".into(), sim.to_vec())));
        assert!(groups.contains(&("FID".into(), vec![sim[0], rtx[0]])));
        assert!(!groups.contains(&("FID".into(), vec![sim[1], rtx[1]])));
    }
    // Carol has no video content, so no video source at all.
    assert!(offer_sources(carol).iter().all(|(m, _, _)| m == "audio"));
    assert_no_own_sources(
        &w,
        &[
            (ALICE, "alice"),
            (BOB, "bob"),
            (CAROL, "carol"),
            (DAVE, "dave"),
        ],
    );
}

#[test]
fn a_client_whose_disco_fails_gets_audio_video_and_data() {
    let mut w = world_with(&[("jvb1", 0.1)]);
    w.client(ALICE).features = None;
    start(&mut w);
    assert_eq!(
        content_names(&w.offers(ALICE)[0]),
        ["audio", "video", "data"]
    );
    assert_active_on(&w, &["alice", "bob"], "jvb1");
}

// ------------------------------------------ Jingle acks and session-accept

#[test]
fn session_accept_before_the_initiate_result_is_accepted() {
    let mut w = world_with(&[("jvb1", 0.1)]);
    w.client(BOB).accept = Accept::BeforeAck;
    start(&mut w);
    assert_active_on(&w, &["alice", "bob"], "jvb1");
    // The focus answered bob's session-accept with a result.
    let answers: Vec<&Node> = w
        .inbox(BOB)
        .into_iter()
        .filter(|n| n.name == "iq" && n.attr("id").is_some_and(|i| i.starts_with("acc")))
        .collect();
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].attr("type"), Some("result"));
    assert!(w.bridge("jvb1").endpoint("bob").unwrap().sources.is_some());
}

#[test]
fn an_error_to_session_initiate_fails_the_invite_and_expires_its_endpoint() {
    let mut w = world_with(&[("jvb1", 0.1)]);
    w.client(BOB).jingle = JingleReply::Error("service-unavailable");
    start(&mut w);
    assert_eq!(state(&w, "alice"), Some("Active"));
    assert_eq!(state(&w, "bob"), None, "bob's invite failed");
    let expired: Vec<Vec<String>> = w
        .bridge("jvb1")
        .requests(Req::Expire)
        .iter()
        .map(|r| r.expired_endpoints())
        .collect();
    assert_eq!(expired, vec![vec!["bob".to_string()]]);
    assert_eq!(endpoints(&w, "jvb1"), ["alice"]);
    assert_eq!(w.offers(BOB).len(), 1, "not invited again");
}

#[test]
fn no_result_to_session_initiate_within_the_reply_timeout_fails_the_invite() {
    let mut w = world_with(&[("jvb1", 0.1)]);
    w.client(BOB).jingle = JingleReply::Silent;
    start(&mut w);
    assert_eq!(state(&w, "bob"), Some("Initiating"));
    w.advance(REPLY_TIMEOUT - MS);
    assert_eq!(state(&w, "bob"), Some("Initiating"));
    assert!(w.bridge("jvb1").requests(Req::Expire).is_empty());
    w.advance(MS);
    assert_eq!(state(&w, "bob"), None);
    let expires = w.bridge("jvb1").received.clone();
    let x: Vec<&Received> = expires
        .iter()
        .filter(|r| r.req.kind() == Req::Expire)
        .collect();
    assert_eq!(x.len(), 1);
    assert_eq!(x[0].at, REPLY_TIMEOUT);
    assert_eq!(x[0].req.expired_endpoints(), ["bob"]);
    assert_eq!(endpoints(&w, "jvb1"), ["alice"]);
    assert_eq!(state(&w, "alice"), Some("Active"));
}

// ------------------------------------------------------ leaving

#[test]
fn leaving_before_the_colibri2_answer_expires_the_endpoint_at_once() {
    let mut w = world_with(&[("jvb1", 0.1)]);
    w.bridge_mut("jvb1").mode = Mode::Hold;
    start(&mut w);
    assert_eq!(state(&w, "bob"), Some("Allocating"));
    w.leave(ROOM, "bob");
    // The expire went out while the create was unanswered.
    let got: Vec<Req> = w
        .bridge("jvb1")
        .received
        .iter()
        .map(|r| r.req.kind())
        .collect();
    assert_eq!(got, [Req::Create, Req::Create, Req::Expire]);
    assert_eq!(
        w.bridge("jvb1").received[2].req.expired_endpoints(),
        ["bob"]
    );
    assert_eq!(state(&w, "bob"), None);
    w.release("jvb1");
    assert_eq!(endpoints(&w, "jvb1"), ["alice"]);
    assert!(w.offers(BOB).is_empty(), "nothing offered to who left");
    assert_eq!(state(&w, "alice"), Some("Active"));
}

#[test]
fn leaving_before_session_accept_expires_exactly_its_endpoint() {
    let mut w = world_with(&[("jvb1", 0.1)]);
    w.client(BOB).accept = Accept::Manual;
    start(&mut w);
    assert_eq!(state(&w, "bob"), Some("Invited"));
    w.leave(ROOM, "bob");
    let x = w.bridge("jvb1").requests(Req::Expire);
    assert_eq!(x.len(), 1);
    assert_eq!(x[0].expired_endpoints(), ["bob"]);
    assert!(!x[0].expires_conference());
    assert_eq!(endpoints(&w, "jvb1"), ["alice"]);
}

#[test]
fn leaving_after_accept_expires_its_endpoint_and_the_last_one_the_conference() {
    let mut w = world_with(&[("jvb1", 0.1)]);
    start(&mut w);
    w.join(ROOM, "carol", CAROL);
    assert_active_on(&w, &["alice", "bob", "carol"], "jvb1");
    w.leave(ROOM, "bob");
    let x = w.bridge("jvb1").requests(Req::Expire);
    assert_eq!(x.len(), 1);
    assert_eq!(x[0].expired_endpoints(), ["bob"]);
    assert_eq!(endpoints(&w, "jvb1"), ["alice", "carol"]);
    w.leave(ROOM, "carol");
    w.leave(ROOM, "alice");
    assert!(
        w.bridge("jvb1").confs.is_empty(),
        "the conference is gone from the bridge"
    );
    let last = w.bridge("jvb1").colibri().last().map(|r| (*r).clone());
    assert!(
        last.as_ref().is_some_and(|r| r.expires_conference()),
        "the conference is expired: {last:#?}"
    );
}

// --------------------------------------------- §3.6: allocation errors

/// Two bridges, jvb1 preferred; a rule on jvb1 for the first request of
/// `what` naming `endpoint`.
fn failing(what: Req, endpoint: &str, err: StanzaError) -> World {
    let mut w = world_with(&[("jvb1", 0.1), ("jvb2", 0.3)]);
    w.rule("jvb1", what, Some(endpoint), Reply::Error(err));
    start(&mut w);
    w
}

/// A second conference in `ROOM2` (carol and dave): the bridge it gets.
fn second_conference(w: &mut World) -> Option<String> {
    w.request(CAROL, ROOM2);
    w.join(ROOM2, "carol", CAROL);
    w.join(ROOM2, "dave", DAVE);
    assert_eq!(state_in(w, ROOM2, "carol"), Some("Active"));
    bridge_of_in(w, ROOM2, "carol")
}

#[test]
fn graceful_shutdown_on_allocation_flags_the_bridge_and_moves_everybody() {
    let mut w = failing(Req::Create, "alice", c2::graceful_shutdown());
    assert_active_on(&w, &["alice", "bob"], "jvb2");
    assert_eq!(conf_bridges(&w, ROOM), ["jvb2"], "the jvb1 session is gone");
    assert!(w.bridge("jvb1").confs.is_empty());
    // Flagged: a new conference avoids it although it is less loaded.
    assert_eq!(second_conference(&mut w).as_deref(), Some("jvb2"));
}

#[test]
fn conference_not_found_reinvites_on_the_same_operational_bridge() {
    let mut w = failing(Req::Create, "bob", c2::conference_not_found("out of sync"));
    assert_active_on(&w, &["alice", "bob"], "jvb1");
    // Everybody was moved: alice's first session was ended.
    let alice = w.client_ref(ALICE);
    assert_eq!(alice.offers().len(), 2);
    assert_eq!(alice.actions("session-terminate").len(), 1);
    assert_eq!(endpoints(&w, "jvb1"), ["alice", "bob"]);
    assert_eq!(w.bridge("jvb1").confs.len(), 1);
    assert!(w.bridge("jvb2").colibri().is_empty());
    assert_eq!(second_conference(&mut w).as_deref(), Some("jvb1"));
}

#[test]
fn item_not_found_without_reason_fails_only_that_participant() {
    let mut w = failing(
        Req::Create,
        "bob",
        StanzaError::new(Condition::ItemNotFound),
    );
    assert_eq!(state(&w, "bob"), None);
    assert!(w.offers(BOB).is_empty());
    assert_active_on(&w, &["alice"], "jvb1");
    assert_eq!(w.client_ref(ALICE).offers().len(), 1, "alice not moved");
    assert_eq!(w.bridge("jvb1").creates(), ["alice", "bob"], "no retry");
    assert!(w.bridge("jvb2").colibri().is_empty());
    assert_eq!(second_conference(&mut w).as_deref(), Some("jvb1"));
}

#[test]
fn bad_request_fails_only_that_participant() {
    let mut w = failing(Req::Create, "bob", StanzaError::new(Condition::BadRequest));
    assert_eq!(state(&w, "bob"), None);
    assert!(w.offers(BOB).is_empty());
    assert_active_on(&w, &["alice"], "jvb1");
    assert_eq!(w.bridge("jvb1").creates(), ["alice", "bob"]);
    assert!(w.bridge("jvb2").colibri().is_empty());
    assert_eq!(second_conference(&mut w).as_deref(), Some("jvb1"));
}

#[test]
fn conflict_without_reason_removes_the_session_and_reinvites() {
    let w = failing(Req::Create, "bob", c2::endpoint_already_exists("bob"));
    assert_active_on(&w, &["alice", "bob"], "jvb1");
    assert_eq!(w.client_ref(ALICE).offers().len(), 2, "alice moved too");
    assert_eq!(endpoints(&w, "jvb1"), ["alice", "bob"]);
    assert_eq!(w.bridge("jvb1").confs.len(), 1);
}

#[test]
fn conflict_conference_already_exists_on_allocation() {
    // The bridge still has a conference with this meeting id (say, from
    // before a reconnect): the stale one is expired and the participants
    // are invited again, as CURRENT Jicofo does (it removes the session,
    // expiring it, for any conflict from the bridge).
    let w = failing(Req::Create, "alice", c2::conference_already_exists("stale"));
    assert_active_on(&w, &["alice", "bob"], "jvb1");
    assert_eq!(endpoints(&w, "jvb1"), ["alice", "bob"]);
    assert_eq!(w.bridge("jvb1").confs.len(), 1);
}

#[test]
fn service_unavailable_or_another_error_makes_the_bridge_non_operational() {
    for err in [
        StanzaError::new(Condition::ServiceUnavailable),
        StanzaError::new(Condition::InternalServerError),
    ] {
        let mut w = failing(Req::Create, "alice", err.clone());
        assert_active_on(&w, &["alice", "bob"], "jvb2");
        assert_eq!(conf_bridges(&w, ROOM), ["jvb2"], "{err:?}");
        assert_eq!(
            second_conference(&mut w).as_deref(),
            Some("jvb2"),
            "{err:?}: jvb1 is not operational"
        );
        // It is again after the failure-reset threshold (1 min).
        w.advance(secs(61));
        w.request(ERIN, "room3@conference.meet.test");
        w.join("room3@conference.meet.test", "erin", ERIN);
        w.join("room3@conference.meet.test", "frank", "frank@meet.test/f1");
        assert_eq!(
            bridge_of_in(&w, "room3@conference.meet.test", "erin").as_deref(),
            Some("jvb1"),
            "{err:?}"
        );
    }
}

#[test]
fn a_silent_bridge_times_out_after_the_reply_timeout_and_everybody_moves() {
    let mut w = world_with(&[("jvb1", 0.1), ("jvb2", 0.3)]);
    w.bridge_mut("jvb1").mode = Mode::Silent;
    start(&mut w);
    assert_eq!(state(&w, "alice"), Some("Allocating"));
    w.advance(REPLY_TIMEOUT - MS);
    assert!(w.bridge("jvb2").received.is_empty());
    w.advance(MS);
    assert_active_on(&w, &["alice", "bob"], "jvb2");
    let at: Vec<Duration> = w
        .bridge("jvb2")
        .received
        .iter()
        .filter(|r| r.req.kind() == Req::Create)
        .map(|r| r.at)
        .collect();
    assert_eq!(at, [REPLY_TIMEOUT, REPLY_TIMEOUT]);
    assert_eq!(conf_bridges(&w, ROOM), ["jvb2"]);
    w.bridge_mut("jvb1").mode = Mode::Answer;
    assert_eq!(second_conference(&mut w).as_deref(), Some("jvb2"));
}

// ------------------------------------------------- §3.6: update errors

#[test]
fn unknown_endpoint_on_update_reinvites_just_that_participant() {
    let mut w = world_with(&[("jvb1", 0.1)]);
    w.client(ALICE).accept = Accept::Manual;
    start(&mut w);
    assert_eq!(state(&w, "alice"), Some("Invited"));
    // The bridge lost alice's endpoint (it expired it on its own).
    for c in w.bridge_mut("jvb1").confs.values_mut() {
        c.endpoints.remove("alice");
    }
    w.client(ALICE).accept = Accept::Auto;
    w.accept(ALICE);
    assert_active_on(&w, &["alice", "bob"], "jvb1");
    let alice = w.client_ref(ALICE);
    assert_eq!(alice.offers().len(), 2, "alice invited again");
    let t = alice.actions("session-terminate");
    assert_eq!(t.len(), 1);
    assert_eq!(w.offers(BOB).len(), 1, "bob untouched");
    assert!(w.client_ref(BOB).actions("session-terminate").is_empty());
    assert_eq!(w.bridge("jvb1").creates(), ["alice", "bob", "alice"]);
    assert_eq!(w.bridge("jvb1").confs.len(), 1);
    assert_eq!(endpoints(&w, "jvb1"), ["alice", "bob"]);
}

#[test]
fn another_error_on_update_removes_the_session_and_reinvites_everybody() {
    let mut w = world_with(&[("jvb1", 0.1)]);
    w.rule(
        "jvb1",
        Req::Update,
        Some("bob"),
        Reply::Error(StanzaError::new(Condition::InternalServerError)),
    );
    start(&mut w);
    assert_active_on(&w, &["alice", "bob"], "jvb1");
    for real in [ALICE, BOB] {
        let c = w.client_ref(real);
        assert_eq!(c.offers().len(), 2, "{real} invited again");
        assert_eq!(c.actions("session-terminate").len(), 1, "{real}");
    }
    assert_eq!(w.bridge("jvb1").confs.len(), 1);
    assert_eq!(endpoints(&w, "jvb1"), ["alice", "bob"]);
}

#[test]
fn a_moved_participant_is_told_why() {
    let mut w = world_with(&[("jvb1", 0.1), ("jvb2", 0.3)]);
    start(&mut w);
    w.bridge_leaves("jvb1");
    let t = &w.client_ref(ALICE).actions("session-terminate")[0].clone();
    let reason = t.child("reason", ns::JINGLE).expect("a reason");
    assert!(reason.child("success", ns::JINGLE).is_some(), "{t:#?}");
    assert_eq!(
        reason.child("text", ns::JINGLE).map(|x| x.text.as_str()),
        Some("moving")
    );
    let first = &w.offers(ALICE)[0];
    assert_eq!(t.attr("sid"), first.attr("sid"));
    assert_ne!(w.offers(ALICE)[1].attr("sid"), first.attr("sid"));
}

// ------------------------------------------------------------ selection

#[test]
fn the_least_stressed_bridge_is_picked() {
    let mut w = world_with(&[("jvb1", 0.5), ("jvb2", 0.2), ("jvb3", 0.4)]);
    start(&mut w);
    assert_active_on(&w, &["alice", "bob"], "jvb2");
    assert!(w.bridge("jvb1").colibri().is_empty());
    assert!(w.bridge("jvb3").colibri().is_empty());
}

#[test]
fn the_first_participant_region_picks_the_bridge() {
    let mut w = World::with_media(media_config(), [7; 32]);
    let mut us = stats(0.1);
    us.region = Some("us-east".into());
    let mut eu = stats(0.3);
    eu.region = Some("eu-west".into());
    w.add_bridge("jvb1", us);
    w.add_bridge("jvb2", eu);
    w.request(ALICE, ROOM);
    w.join_with(
        ROOM,
        "alice",
        ALICE,
        "<jitsi_participant_region>eu-west</jitsi_participant_region>",
    );
    w.join(ROOM, "bob", BOB);
    assert_active_on(&w, &["alice", "bob"], "jvb2");
}

#[test]
fn draining_and_graceful_bridges_are_avoided_while_others_exist() {
    for flag in ["drain", "graceful"] {
        let mut w = World::with_media(media_config(), [7; 32]);
        let mut s = stats(0.1);
        match flag {
            "drain" => s.drain = Some(true),
            _ => s.graceful_shutdown = Some(true),
        }
        w.add_bridge("jvb1", s);
        w.add_bridge("jvb2", stats(0.7));
        start(&mut w);
        assert_active_on(&w, &["alice", "bob"], "jvb2");
        // Alone, such a bridge is still used.
        w.bridge_leaves("jvb2");
        if flag == "drain" {
            assert_active_on(&w, &["alice", "bob"], "jvb1");
        } else {
            // In graceful shutdown it refuses new conferences.
            assert_ne!(state(&w, "alice"), Some("Active"), "{flag}");
        }
    }
}

#[test]
fn shutting_down_moves_its_participants_and_is_never_picked() {
    let mut w = world_with(&[("jvb1", 0.1), ("jvb2", 0.3)]);
    start(&mut w);
    assert_active_on(&w, &["alice", "bob"], "jvb1");
    w.set_stats("jvb1", |s| s.shutting_down = Some(true));
    assert_active_on(&w, &["alice", "bob"], "jvb2");
    assert_eq!(conf_bridges(&w, ROOM), ["jvb2"]);
    for real in [ALICE, BOB] {
        assert_eq!(w.client_ref(real).actions("session-terminate").len(), 1);
        let last = w.offers(real).last().unwrap().clone();
        let t = last.children[0]
            .child("transport", ns::JINGLE_ICE_UDP)
            .unwrap();
        let nick = real.split('@').next().unwrap();
        assert_eq!(*t, node_of(&w.bridge("jvb2").given[nick]));
    }
    assert_eq!(second_conference(&mut w).as_deref(), Some("jvb2"));
    // Nothing but jvb2 left: a bridge shutting down is not used at all.
    w.bridge_leaves("jvb2");
    assert_eq!(state(&w, "alice"), Some("WaitingForBridge"));
    assert_eq!(w.bridge("jvb1").creates(), ["alice", "bob"]);
}

#[test]
fn a_conference_spreads_when_its_bridge_has_the_participant_maximum() {
    let mut cfg = media_config();
    cfg.bridges.octo_enabled = true;
    cfg.bridges.strategy = SelectionStrategy::RegionBased;
    cfg.bridges.max_bridge_participants = Some(2);
    let mut w = World::with_media(cfg, [7; 32]);
    for (name, stress) in [("jvb1", 0.1), ("jvb2", 0.3)] {
        let mut s = stats(stress);
        s.relay_id = Some(format!("relay-{name}"));
        w.add_bridge(name, s);
    }
    start(&mut w);
    assert_active_on(&w, &["alice", "bob"], "jvb1");
    w.join(ROOM, "carol", CAROL);
    assert_eq!(state(&w, "carol"), Some("Active"));
    assert_eq!(bridge_of(&w, "carol").as_deref(), Some("jvb2"));
    let c = w.bridge("jvb2").requests(Req::Create)[0]
        .v2()
        .unwrap()
        .clone();
    assert!(c.create, "a conference of its own on jvb2");
    assert_eq!(
        c.meeting_id,
        w.bridge("jvb1").requests(Req::Create)[0]
            .v2()
            .unwrap()
            .meeting_id
    );
}

// ------------------------------------------------------------ health

fn health_world() -> World {
    let mut cfg = media_config();
    cfg.bridges.health.interval = Some(secs(10));
    cfg.bridges.health.retry_delay = secs(5);
    world_cfg(cfg, &[("jvb1", 0.1), ("jvb2", 0.3)])
}

#[test]
fn a_failed_health_check_moves_the_participants_at_once() {
    let mut w = health_world();
    start(&mut w);
    w.bridge_mut("jvb1").health = Health::Error(Condition::InternalServerError);
    w.advance(secs(10) - MS);
    assert_active_on(&w, &["alice", "bob"], "jvb1");
    assert_eq!(w.bridge("jvb1").health_checks(), 0);
    w.advance(MS);
    assert_eq!(w.bridge("jvb1").health_checks(), 1);
    assert_active_on(&w, &["alice", "bob"], "jvb2");
    let moved = w
        .bridge("jvb2")
        .received
        .iter()
        .find(|r| r.req.kind() == Req::Create)
        .unwrap()
        .at;
    assert_eq!(moved, secs(10));
    assert_eq!(second_conference(&mut w).as_deref(), Some("jvb2"));
}

#[test]
fn a_timed_out_health_check_stops_new_conferences_but_moves_nobody() {
    let mut w = health_world();
    start(&mut w);
    w.bridge_mut("jvb1").health = Health::Silent;
    // Check at 10 s, no answer by 25 s, second try at 30 s, none by 45 s.
    w.advance(secs(45) - MS);
    assert_eq!(w.bridge("jvb1").health_checks(), 2);
    assert_eq!(second_conference(&mut w).as_deref(), Some("jvb1"));
    w.leave(ROOM2, "dave");
    w.leave(ROOM2, "carol");
    w.advance(MS);
    assert_active_on(&w, &["alice", "bob"], "jvb1");
    assert!(w.client_ref(ALICE).actions("session-terminate").is_empty());
    w.request(ERIN, "room3@conference.meet.test");
    w.join("room3@conference.meet.test", "erin", ERIN);
    w.join("room3@conference.meet.test", "frank", "frank@meet.test/f1");
    assert_eq!(
        bridge_of_in(&w, "room3@conference.meet.test", "erin").as_deref(),
        Some("jvb2")
    );
}

// ------------------------------------------------- bridges come and go

#[test]
fn a_bridge_leaving_the_brewery_moves_its_participants() {
    let mut w = world_with(&[("jvb1", 0.1), ("jvb2", 0.3)]);
    start(&mut w);
    w.bridge_leaves("jvb1");
    assert_active_on(&w, &["alice", "bob"], "jvb2");
    assert_eq!(conf_bridges(&w, ROOM), ["jvb2"]);
    assert_eq!(endpoints(&w, "jvb2"), ["alice", "bob"]);
}

#[test]
fn without_a_bridge_participants_wait_and_are_invited_when_one_appears() {
    let mut w = world_with(&[]);
    start(&mut w);
    assert_eq!(state(&w, "alice"), Some("WaitingForBridge"));
    assert_eq!(state(&w, "bob"), Some("WaitingForBridge"));
    assert!(w.offers(ALICE).is_empty());
    w.advance(secs(120));
    assert_eq!(state(&w, "alice"), Some("WaitingForBridge"));
    w.add_bridge("jvb1", stats(0.1));
    assert_active_on(&w, &["alice", "bob"], "jvb1");
}

#[test]
fn the_client_stream_dropping_forgets_media_and_the_rejoin_invites_again() {
    let mut w = world_with(&[("jvb1", 0.1)]);
    start(&mut w);
    assert_active_on(&w, &["alice", "bob"], "jvb1");
    w.client_offline();
    assert!(
        w.focus
            .conference(ROOM)
            .unwrap()
            .media()
            .participants()
            .is_empty()
    );
    w.advance(secs(2));
    w.client_online();
    // The bridge still had the conference: it is replaced, and everybody
    // is in a session again.
    assert_active_on(&w, &["alice", "bob"], "jvb1");
    assert_eq!(w.offers(ALICE).len(), 2);
    assert_eq!(w.offers(BOB).len(), 2);
    assert_eq!(w.bridge("jvb1").confs.len(), 1);
    assert_eq!(endpoints(&w, "jvb1"), ["alice", "bob"]);
}

// ------------------------------------------------------------ Colibri v1

fn v1_world() -> World {
    let mut cfg = MediaConfig::quiet();
    cfg.bridges.rediscovery_interval = Some(secs(30));
    let mut w = World::with_media(cfg, [7; 32]);
    w.add_v1_bridge("jvb1");
    w.advance(Duration::ZERO);
    w
}

#[test]
fn colibri_v1_second_allocation_waits_for_the_conference_id() {
    let mut w = v1_world();
    w.bridge_mut("jvb1").mode = Mode::Hold;
    start(&mut w);
    let b = w.bridge("jvb1");
    assert_eq!(b.creates(), ["alice"], "bob waits for the conference id");
    let first = b.colibri()[0].v1().unwrap().clone();
    assert_eq!(first.id, None);
    assert_eq!(first.name.as_deref(), Some("room1"));
    w.release("jvb1");
    assert_active_on(&w, &["alice", "bob"], "jvb1.meet.test");
    let b = w.bridge("jvb1");
    assert_eq!(b.creates(), ["alice", "bob"]);
    let conf_id = b.confs.keys().next().unwrap().clone();
    let second = b
        .colibri()
        .into_iter()
        .filter(|r| r.is_create_of("bob"))
        .map(|r| r.v1().unwrap().clone())
        .next()
        .unwrap();
    assert_eq!(second.id.as_deref(), Some(conf_id.as_str()));
    assert_eq!(b.confs.len(), 1);
}

#[test]
fn colibri_v1_offer_announces_the_bridge_ssrcs_as_jvb() {
    let mut w = v1_world();
    start(&mut w);
    let offer = &w.offers(ALICE)[0];
    let jvb: Vec<(String, u32, String)> = offer_sources(offer)
        .into_iter()
        .filter(|(_, _, o)| o == "jvb")
        .collect();
    assert_eq!(jvb.len(), 2, "one bridge SSRC per RTP channel: {offer:#?}");
    assert_eq!(jvb[0].0, "audio");
    assert_eq!(jvb[1].0, "video");
    let given = node_of(&w.bridge("jvb1").given["alice"]);
    for c in offer.children.iter().filter(|c| c.name == "content") {
        let mut t = c.child("transport", ns::JINGLE_ICE_UDP).unwrap().clone();
        t.children.retain(|x| x.name != "sctpmap");
        assert_eq!(t, given, "the bundle transport, verbatim");
    }
    let mut sctp = Vec::new();
    offer.find_all("sctpmap", &mut sctp);
    assert_eq!(sctp.len(), 1);
    assert_eq!(sctp[0].attr("number"), Some("5000"));
}

#[test]
fn colibri_v1_session_accept_updates_sources_transport_and_payload_types() {
    let mut w = v1_world();
    start(&mut w);
    assert_active_on(&w, &["alice", "bob"], "jvb1.meet.test");
    let b = w.bridge("jvb1");
    let alice = b.endpoint("alice").unwrap().clone();
    let channel = |m: MediaType| {
        alice
            .channels
            .iter()
            .find(|(x, _)| *x == m)
            .unwrap()
            .1
            .clone()
    };
    let (audio_ch, video_ch) = (channel(MediaType::Audio), channel(MediaType::Video));
    let updates: Vec<jicofo::stanza::colibri::V1Conference> = b
        .requests(Req::Update)
        .into_iter()
        .filter_map(|r| r.v1().cloned())
        .filter(|c| {
            c.channels
                .iter()
                .any(|ch| ch.id.as_deref() == Some(&audio_ch))
                || c.bundles.iter().any(|x| x.id == "alice")
        })
        .collect();
    // Sources, then the bundle transport, then payload types (SEED order).
    assert_eq!(updates.len(), 3, "{updates:#?}");
    let want = client_sources(0, "alice");
    let src = &updates[0];
    let a = src
        .channels
        .iter()
        .find(|c| c.id.as_deref() == Some(&audio_ch))
        .unwrap();
    let v = src
        .channels
        .iter()
        .find(|c| c.id.as_deref() == Some(&video_ch))
        .unwrap();
    let ssrcs_of = |c: &jicofo::stanza::colibri::V1Channel| {
        let mut s: Vec<u32> = c
            .sources
            .as_ref()
            .unwrap()
            .iter()
            .map(|s| s.ssrc.0)
            .collect();
        s.sort();
        s
    };
    let (sa, sim, rtx) = client_ssrcs(0);
    assert_eq!(ssrcs_of(a), [sa]);
    let mut vs: Vec<u32> = sim.iter().chain(rtx.iter()).copied().collect();
    vs.sort();
    assert_eq!(ssrcs_of(v), vs);
    let groups = v.ssrc_groups.as_ref().unwrap();
    assert_eq!(groups.len(), want.groups.len());
    assert!(a.ssrc_groups.as_ref().unwrap().is_empty());
    let bundle = &updates[1].bundles[0];
    assert_eq!(bundle.id, "alice");
    assert_eq!(
        bundle.transport.as_ref(),
        Some(&parse_transport(&client_transport_xml(0)))
    );
    let pts = &updates[2];
    let vpt: Vec<&str> = pts
        .channels
        .iter()
        .find(|c| c.id.as_deref() == Some(&video_ch))
        .unwrap()
        .payload_types
        .iter()
        .map(|p| p.name.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(vpt, ["VP8", "rtx"], "what alice answered");
}

#[test]
fn colibri_v1_expire_names_exactly_the_channels_of_who_left() {
    let mut w = v1_world();
    start(&mut w);
    w.join(ROOM, "carol", CAROL);
    let bob = w.bridge("jvb1").endpoint("bob").unwrap().clone();
    let mut want: Vec<String> = bob.channels.iter().map(|(_, id)| id.clone()).collect();
    want.extend(bob.sctp.clone());
    want.sort();
    w.leave(ROOM, "bob");
    let x = w.bridge("jvb1").requests(Req::Expire);
    assert_eq!(x.len(), 1);
    let mut got = x[0].expired_channels();
    got.sort();
    assert_eq!(got, want);
    assert_eq!(endpoints(&w, "jvb1"), ["alice", "carol"]);
    w.leave(ROOM, "carol");
    w.leave(ROOM, "alice");
    assert!(w.bridge("jvb1").confs.is_empty(), "every channel expired");
}

#[test]
fn colibri_v1_leaving_while_queued_expires_when_the_answer_comes() {
    let mut w = v1_world();
    w.bridge_mut("jvb1").mode = Mode::Hold;
    start(&mut w);
    w.leave(ROOM, "bob");
    assert_eq!(state(&w, "bob"), Some("Leaving"));
    assert_eq!(
        w.bridge("jvb1").colibri().len(),
        1,
        "no expire possible yet"
    );
    w.release("jvb1");
    assert_eq!(state(&w, "bob"), None);
    let b = w.bridge("jvb1");
    assert_eq!(b.creates(), ["alice", "bob"]);
    let x = b.requests(Req::Expire);
    assert_eq!(x.len(), 1, "bob's channels, once their ids were known");
    let bob_ids: Vec<String> = x[0].expired_channels();
    assert_eq!(bob_ids.len(), 3);
    assert_eq!(endpoints(&w, "jvb1"), ["alice"]);
    assert!(w.offers(BOB).is_empty());
}

// ------------------------------------------- failover, trigger by trigger

/// Each way a bridge in use can fail (protocol.md §3.6: health check
/// failed, left the brewery, `shutting_down`) moves every participant on
/// it exactly once: one `session-terminate` "moving" and one new offer each,
/// all on the same other bridge; a conference on another bridge is left
/// alone.
#[test]
fn each_failover_trigger_moves_every_participant_exactly_once() {
    for trigger in ["health check failed", "left the brewery", "shutting down"] {
        let mut cfg = media_config();
        cfg.bridges.health.interval = Some(secs(10));
        cfg.bridges.health.retry_delay = secs(5);
        let mut w = world_cfg(cfg, &[("jvb1", 0.1), ("jvb2", 0.5), ("jvb3", 0.6)]);
        start(&mut w);
        w.join(ROOM, "erin", ERIN);
        assert_active_on(&w, &["alice", "bob", "erin"], "jvb1");
        // A second conference, put on jvb3 by making the others look busy.
        w.set_stats("jvb1", |s| s.stress_level = Some(0.9));
        w.set_stats("jvb2", |s| s.stress_level = Some(0.95));
        assert_eq!(
            second_conference(&mut w).as_deref(),
            Some("jvb3"),
            "{trigger}"
        );
        w.set_stats("jvb2", |s| s.stress_level = Some(0.5));
        match trigger {
            "health check failed" => {
                w.bridge_mut("jvb1").health = Health::Error(Condition::InternalServerError);
                w.advance(secs(10));
            }
            "left the brewery" => w.bridge_leaves("jvb1"),
            _ => w.set_stats("jvb1", |s| s.shutting_down = Some(true)),
        }
        assert_active_on(&w, &["alice", "bob", "erin"], "jvb2");
        for real in [ALICE, BOB, ERIN] {
            let c = w.client_ref(real);
            assert_eq!(
                c.offers().len(),
                2,
                "{trigger}: {real} offered twice in all"
            );
            let bye = c.actions("session-terminate");
            assert_eq!(bye.len(), 1, "{trigger}: {real} told once");
            let text = bye[0]
                .child("reason", ns::JINGLE)
                .and_then(|r| r.child("text", ns::JINGLE));
            assert_eq!(text.map(|t| t.text.as_str()), Some("moving"), "{trigger}");
        }
        assert_eq!(endpoints(&w, "jvb2"), ["alice", "bob", "erin"], "{trigger}");
        assert_eq!(
            bridge_of_in(&w, ROOM2, "carol").as_deref(),
            Some("jvb3"),
            "{trigger}"
        );
        for real in [CAROL, DAVE] {
            let c = w.client_ref(real);
            assert!(
                c.actions("session-terminate").is_empty(),
                "{trigger}: {real} left alone"
            );
            assert_eq!(c.offers().len(), 1, "{trigger}: {real}");
        }
    }
}
