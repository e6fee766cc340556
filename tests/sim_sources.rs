//! Simulation tests of the source policy and session maintenance
//! (protocol.md §5.4–5.9): validation of `session-accept`, `source-add` and
//! `source-remove` (every §5.6 rule, accepted and refused, with the state
//! unchanged after a refusal), fan-out to the other participants (never
//! back to the owner), queueing and merging before a receiver's accept and
//! the flush after it, leave and re-invite cleanup, `transport-info`,
//! `session-info` ICE failures, `session-terminate` with and without
//! restart (rate limited), and Jingle from the wrong occupant or sid.

mod sim;

use std::time::Duration;

use jicofo::focus::media::Invite;
use jicofo::focus::{FocusConfig, ReinviteMethod};
use jicofo::stanza::sources::ConferenceSourceMap;
use jicofo::xml::ns;

use sim::*;

const ROOM: &str = "room1@conference.meet.test";
const ALICE: &str = "alice@meet.test/a1";
const BOB: &str = "bob@meet.test/b1";
const CAROL: &str = "carol@meet.test/c1";

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

// ------------------------------------------------------------ helpers

fn world() -> World {
    world_cfg(|_| {})
}

/// A world with one bridge and focus settings changed by `f`.
fn world_cfg(f: impl FnOnce(&mut FocusConfig)) -> World {
    let mut cfg = FocusConfig::for_tests();
    f(&mut cfg);
    let mut w = World::with_configs(cfg, media_config(), [7; 32]);
    w.add_bridge("jvb1", stats(0.1));
    w
}

/// Alice (client 0) and bob (client 1) in `ROOM`, both sessions active.
fn start(w: &mut World) {
    w.client(ALICE);
    w.client(BOB);
    w.request(ALICE, ROOM);
    w.join(ROOM, "alice", ALICE);
    w.join(ROOM, "bob", BOB);
    assert_eq!(invite(w, "alice"), "Active");
    assert_eq!(invite(w, "bob"), "Active");
}

fn invite(w: &World, nick: &str) -> &'static str {
    let p = w
        .focus
        .conference(ROOM)
        .and_then(|c| c.media().participant(nick));
    match p.map(|p| &p.invite) {
        None => "none",
        Some(Invite::Discovering) => "Discovering",
        Some(Invite::WaitingForBridge(_)) => "WaitingForBridge",
        Some(Invite::Allocating(..)) => "Allocating",
        Some(Invite::Initiating(_)) => "Initiating",
        Some(Invite::Invited(_)) => "Invited",
        Some(Invite::Active(_)) => "Active",
        Some(Invite::Leaving(_)) => "Leaving",
        Some(Invite::Ended) => "Ended",
    }
}

/// The conference's source map.
fn sources(w: &World) -> ConferenceSourceMap {
    w.focus
        .conference(ROOM)
        .expect("conference")
        .media()
        .sources()
        .clone()
}

/// SSRCs `owner` has in the conference, sorted.
fn owned(w: &World, owner: &str) -> Vec<u32> {
    let mut v: Vec<u32> = sources(w)
        .get(owner)
        .map(|s| s.sources.iter().map(|s| s.ssrc.0).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// A `<source/>` of `media` with an optional msid and extra attributes.
fn src(ssrc: u32, msid: Option<&str>, attrs: &str) -> String {
    let param = msid
        .map(|m| format!("<parameter name='msid' value='{m}'/>"))
        .unwrap_or_default();
    format!(
        "<source xmlns='{}' ssrc='{ssrc}' {attrs}>{param}</source>",
        ns::JINGLE_SSMA
    )
}

fn group(semantics: &str, ssrcs: &[u32]) -> String {
    let mut s = format!(
        "<ssrc-group xmlns='{}' semantics='{semantics}'>",
        ns::JINGLE_SSMA
    );
    for x in ssrcs {
        s.push_str(&format!("<source ssrc='{x}'/>"));
    }
    s.push_str("</ssrc-group>");
    s
}

/// A content of `media` whose description holds `inner`.
fn content(media: &str, inner: &str) -> String {
    format!(
        "<content name='{media}'><description xmlns='{}' media='{media}'>{inner}</description></content>",
        ns::JINGLE_RTP
    )
}

fn video(inner: &str) -> String {
    content("video", inner)
}

/// A new desktop stream of one SSRC, with its own msid.
fn desktop(ssrc: u32) -> String {
    video(&src(
        ssrc,
        Some(&format!("desk-{ssrc} track-{ssrc}")),
        "videoType='desktop'",
    ))
}

/// The Jingle requests with `action` a client got.
fn got(w: &World, real: &str, action: &str) -> Vec<Node> {
    w.client_ref(real)
        .actions(action)
        .into_iter()
        .cloned()
        .collect()
}

/// `(ssrc, owner)` of every source in a Jingle element, in order.
fn announced(j: &Node) -> Vec<(u32, String)> {
    let mut v = Vec::new();
    j.find_all("source", &mut v);
    v.iter()
        .filter(|s| s.ns == ns::JINGLE_SSMA && s.attr("ssrc").is_some())
        .filter(|s| s.child("ssrc-info", ns::JITMEET).is_some())
        .map(|s| {
            let owner = s.child("ssrc-info", ns::JITMEET).unwrap().attr("owner");
            (
                s.attr("ssrc").unwrap().parse().unwrap(),
                owner.unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// `(semantics, ssrcs)` of every group in a Jingle element.
fn groups(j: &Node) -> Vec<(String, Vec<u32>)> {
    let mut v = Vec::new();
    j.find_all("ssrc-group", &mut v);
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

/// The answer `real` got to `id`: `Ok` for a result, else the condition
/// and the text.
fn answer(w: &World, real: &str, id: &str) -> Result<(), (String, String)> {
    let a = w
        .jingle_answer(real, id)
        .unwrap_or_else(|| panic!("no answer to {id} for {real}"));
    match a.attr("type") {
        Some("result") => Ok(()),
        _ => {
            let cond = a.error_condition().unwrap_or("").to_string();
            let text = a
                .child("error", ns::CLIENT)
                .and_then(|e| e.child("text", ns::STANZAS))
                .map(|t| t.text.clone())
                .unwrap_or_default();
            Err((cond, text))
        }
    }
}

/// Colibri updates (no creates, no expiries) the bridge got.
fn bridge_updates(w: &World) -> usize {
    w.bridge("jvb1").requests(Req::Update).len()
}

/// Every Jingle source-add/source-remove any client got.
fn all_signalling(w: &World) -> usize {
    [ALICE, BOB, CAROL]
        .iter()
        .filter(|r| w.media.clients.contains_key(**r))
        .map(|r| got(w, r, "source-add").len() + got(w, r, "source-remove").len())
        .sum()
}

/// Alice sends `action` with `inner`; the answer must be a refusal with
/// `condition` whose text contains `text`, and nothing may have changed:
/// the source map, the bridge, what anybody was told.
fn refused(w: &mut World, action: &str, inner: &str, condition: &str, text: &str) {
    let before = sources(w);
    let updates = bridge_updates(w);
    let told = all_signalling(w);
    let sid = w.sid_of(ALICE);
    let id = w.jingle_from(ALICE, action, &sid, inner);
    let (cond, t) = answer(w, ALICE, &id).expect_err(inner);
    assert_eq!(cond, condition, "{inner}: {t}");
    assert!(
        t.contains(text),
        "{inner}: the text {t:?} should say {text:?}"
    );
    assert_eq!(sources(w), before, "{inner}: the map changed");
    assert_eq!(bridge_updates(w), updates, "{inner}: the bridge was told");
    assert_eq!(all_signalling(w), told, "{inner}: somebody was told");
}

// ------------------------------------------------------- fan-out

#[test]
fn session_accept_sources_reach_the_others_and_the_bridge_but_never_the_owner() {
    let mut w = world();
    start(&mut w);
    let (a, sim, rtx) = client_ssrcs(0);
    assert_eq!(
        owned(&w, "alice"),
        [a, sim[0], sim[1], sim[2], rtx[0], rtx[1], rtx[2]]
    );
    // Bob was invited together with alice, so alice's sources came after
    // his accept, as one source-add (stripped of simulcast layers 2 and 3).
    let adds = got(&w, BOB, "source-add");
    assert_eq!(adds.len(), 1, "{adds:#?}");
    let mut ann = announced(&adds[0]);
    ann.sort();
    assert_eq!(
        ann,
        [a, sim[0], rtx[0]].map(|s| (s, "alice".to_string())),
        "alice's sources to bob"
    );
    assert_eq!(
        groups(&adds[0]),
        [("FID".to_string(), vec![sim[0], rtx[0]])]
    );
    assert_eq!(adds[0].attr("sid"), Some(w.sid_of(BOB).as_str()));
    // Nobody hears about its own sources.
    for (real, nick) in [(ALICE, "alice"), (BOB, "bob")] {
        for j in got(&w, real, "source-add") {
            assert!(
                announced(&j).iter().all(|(_, o)| o != nick),
                "{nick} was told its own sources"
            );
        }
    }
    assert_eq!(
        got(&w, ALICE, "source-add").len(),
        1,
        "alice got bob's sources once"
    );
}

#[test]
fn source_add_goes_to_the_others_and_the_bridge_with_only_the_msid_kept() {
    let mut w = world();
    start(&mut w);
    let updates = bridge_updates(&w);
    let sid = w.sid_of(ALICE);
    let inner = video(&src(
        70001,
        Some("desk-1 t-1"),
        "name='alice-v1' videoType='desktop'",
    ))
    .replace(
        "</source>",
        "<parameter name='cname' value='secret-cname'/></source>",
    );
    let id = w.jingle_from(ALICE, "source-add", &sid, &inner);
    assert_eq!(answer(&w, ALICE, &id), Ok(()));
    assert!(owned(&w, "alice").contains(&70001));
    // The bridge got alice's complete set.
    assert_eq!(bridge_updates(&w), updates + 1);
    let ep = w.bridge("jvb1").endpoint("alice").unwrap();
    let set = ep.sources.as_ref().unwrap();
    assert_eq!(set.sources.len(), 8, "7 from the accept and the new one");
    // Bob got exactly the new source, owned by alice, without the cname.
    let adds = got(&w, BOB, "source-add");
    let last = adds.last().unwrap();
    assert_eq!(announced(last), [(70001, "alice".to_string())]);
    let xml = node_xml(last, ns::CLIENT);
    assert!(xml.contains("videoType='desktop'") && xml.contains("desk-1 t-1"));
    assert!(!xml.contains("secret-cname"), "{xml}");
    assert_eq!(got(&w, ALICE, "source-add").len(), 1, "no echo to alice");
}

#[test]
fn source_remove_takes_groups_that_lose_a_member_and_tells_the_others() {
    let mut w = world_cfg(|c| c.sources.strip_simulcast = false);
    start(&mut w);
    let (_, sim, rtx) = client_ssrcs(0);
    let sid = w.sid_of(ALICE);
    // Named by SSRC alone: the RTX of the second layer.
    let id = w.jingle_from(ALICE, "source-remove", &sid, &video(&src(rtx[1], None, "")));
    assert_eq!(answer(&w, ALICE, &id), Ok(()));
    assert!(!owned(&w, "alice").contains(&rtx[1]));
    let set = sources(&w).get("alice").unwrap().clone();
    assert!(
        !set.groups
            .iter()
            .any(|g| g.contains(jicofo::stanza::sources::Ssrc(rtx[1]))),
        "the FID group of the removed SSRC went with it"
    );
    let removes = got(&w, BOB, "source-remove");
    assert_eq!(removes.len(), 1);
    assert_eq!(announced(&removes[0]), [(rtx[1], "alice".to_string())]);
    assert_eq!(
        groups(&removes[0]),
        [("FID".to_string(), vec![sim[1], rtx[1]])]
    );
    assert!(got(&w, ALICE, "source-remove").is_empty(), "no echo");
    // The bridge has the rest.
    let ep = w.bridge("jvb1").endpoint("alice").unwrap();
    assert_eq!(ep.sources.as_ref().unwrap().sources.len(), 6);
}

#[test]
fn simulcast_and_rtx_groups_are_forwarded_whole_without_strip_simulcast() {
    let mut w = world_cfg(|c| c.sources.strip_simulcast = false);
    start(&mut w);
    let (a, sim, rtx) = client_ssrcs(0);
    // Bob's source-add after his accept carries all of alice's groups.
    let add = &got(&w, BOB, "source-add")[0];
    let g = groups(add);
    assert!(g.contains(&("SIM".to_string(), sim.to_vec())), "{g:?}");
    for (p, r) in sim.iter().zip(rtx.iter()) {
        assert!(g.contains(&("FID".to_string(), vec![*p, *r])), "{g:?}");
    }
    assert_eq!(announced(add).len(), 7);
    assert!(announced(add).contains(&(a, "alice".to_string())));
    // A new simulcast stream in a source-add, groups and all.
    let m = Some("screen-1 screen-t");
    let mut inner = String::new();
    for s in [70001, 70002, 70003, 70011, 70012, 70013] {
        inner.push_str(&src(s, m, "videoType='desktop'"));
    }
    inner.push_str(&group("SIM", &[70001, 70002, 70003]));
    for (p, r) in [(70001, 70011), (70002, 70012), (70003, 70013)] {
        inner.push_str(&group("FID", &[p, r]));
    }
    let sid = w.sid_of(ALICE);
    let id = w.jingle_from(ALICE, "source-add", &sid, &video(&inner));
    assert_eq!(answer(&w, ALICE, &id), Ok(()));
    let add = got(&w, BOB, "source-add").last().unwrap().clone();
    assert_eq!(announced(&add).len(), 6);
    let g = groups(&add);
    assert_eq!(g.len(), 4, "{g:?}");
    assert!(g.contains(&("SIM".to_string(), vec![70001, 70002, 70003])));
    // A newcomer's offer has everything too.
    w.join(ROOM, "carol", CAROL);
    assert_eq!(owned(&w, "carol").len(), 7, "carol's accept was valid");
    let offer = w.offers(CAROL)[0].clone();
    let g = groups(&offer);
    assert!(g.contains(&("SIM".to_string(), vec![70001, 70002, 70003])));
    assert!(g.contains(&("SIM".to_string(), sim.to_vec())));
}

#[test]
fn strip_simulcast_sends_only_the_first_layer_and_its_rtx() {
    let mut w = world();
    start(&mut w);
    let m = Some("screen-1 screen-t");
    let mut inner = String::new();
    for s in [70001, 70002, 70011, 70012] {
        inner.push_str(&src(s, m, ""));
    }
    inner.push_str(&group("SIM", &[70001, 70002]));
    inner.push_str(&group("FID", &[70001, 70011]));
    inner.push_str(&group("FID", &[70002, 70012]));
    let sid = w.sid_of(ALICE);
    let id = w.jingle_from(ALICE, "source-add", &sid, &video(&inner));
    assert_eq!(answer(&w, ALICE, &id), Ok(()));
    // Stored whole, sent stripped.
    assert!(owned(&w, "alice").contains(&70012));
    let add = got(&w, BOB, "source-add").last().unwrap().clone();
    let mut ssrcs: Vec<u32> = announced(&add).iter().map(|(s, _)| *s).collect();
    ssrcs.sort();
    assert_eq!(ssrcs, [70001, 70011]);
    assert_eq!(groups(&add), [("FID".to_string(), vec![70001, 70011])]);
}

// ------------------------------------------------------- validation

#[test]
fn every_validation_rule_refuses_the_whole_request_and_changes_nothing() {
    let bob_video = client_ssrcs(1).1[0];
    let alice_video = client_ssrcs(0).1[0];
    let m = |s: &str| Some(s.to_string());
    let cases: Vec<(&str, String, &str)> = vec![
        ("SSRC 0", desktop(0), "invalid SSRC 0"),
        (
            "another participant's SSRC",
            desktop(bob_video),
            "already used",
        ),
        ("its own SSRC again", desktop(alice_video), "already used"),
        (
            "one SSRC twice in the request",
            video(&format!(
                "{}{}",
                src(70001, Some("d-1 t"), ""),
                src(70001, Some("d-2 t"), "")
            )),
            "already used",
        ),
        (
            "a valid source with an invalid one: nothing is added",
            format!("{}{}", desktop(70005), desktop(0)),
            "invalid SSRC 0",
        ),
        (
            "a group naming an unknown SSRC",
            video(&format!(
                "{}{}",
                src(70001, Some("d t"), ""),
                group("FID", &[70001, 70002])
            )),
            "not a signalled source",
        ),
        (
            "an FID group of three",
            video(&format!(
                "{}{}{}{}",
                src(70001, Some("d t"), ""),
                src(70002, Some("d t"), ""),
                src(70003, Some("d t"), ""),
                group("FID", &[70001, 70002, 70003])
            )),
            "FID",
        ),
        (
            "a grouped source without msid",
            video(&format!(
                "{}{}{}",
                src(70001, None, ""),
                src(70002, Some("d t"), ""),
                group("FID", &[70001, 70002])
            )),
            "no msid",
        ),
        (
            "a group with two msids",
            video(&format!(
                "{}{}{}",
                src(70001, Some("d t"), ""),
                src(70002, Some("e t"), ""),
                group("FID", &[70001, 70002])
            )),
            "different msids",
        ),
        (
            "another participant's msid",
            video(&src(70001, m("bob-video-1 bob-v-track").as_deref(), "")),
            "already used",
        ),
        (
            "the msid of another stream of its own",
            video(&src(70001, m("alice-video-1 alice-v-track").as_deref(), "")),
            "already used",
        ),
        (
            "unknown group semantics",
            video(&format!(
                "{}{}{}",
                src(70001, Some("d t"), ""),
                src(70002, Some("d t"), ""),
                group("FEC-FR", &[70001, 70002])
            )),
            "semantics",
        ),
        (
            "unknown videoType",
            video(&src(70001, Some("d t"), "videoType='screen'")),
            "videoType",
        ),
        (
            "more than 20 sources",
            video(
                &(70001..70015)
                    .map(|s| src(s, Some(&format!("d{s} t")), ""))
                    .collect::<String>(),
            ),
            "SSRC limit",
        ),
    ];
    for (what, inner, text) in cases {
        let mut w = world();
        start(&mut w);
        println!("case: {what}");
        refused(&mut w, "source-add", &inner, "bad-request", text);
    }
}

#[test]
fn the_same_requests_made_valid_are_accepted() {
    let mut w = world();
    start(&mut w);
    let cases: Vec<String> = vec![
        desktop(70001),
        // An FID pair with one msid.
        video(&format!(
            "{}{}{}",
            src(70011, Some("d2 t"), ""),
            src(70012, Some("d2 t"), ""),
            group("FID", &[70011, 70012])
        )),
        // Semantics and videoType in any letter case.
        video(&format!(
            "{}{}{}",
            src(70021, Some("d3 t"), "videoType='Desktop'"),
            src(70022, Some("d3 t"), ""),
            group("fid", &[70021, 70022])
        )),
        // A microphone may share the camera's msid (other media).
        content(
            "audio",
            &src(70031, Some("alice-video-1 alice-v-track"), ""),
        ),
    ];
    let mut told = got(&w, BOB, "source-add").len();
    for inner in cases {
        let sid = w.sid_of(ALICE);
        let id = w.jingle_from(ALICE, "source-add", &sid, &inner);
        assert_eq!(answer(&w, ALICE, &id), Ok(()), "{inner}");
        told += 1;
        assert_eq!(got(&w, BOB, "source-add").len(), told, "{inner}");
    }
    for s in [70001, 70011, 70012, 70021, 70022, 70031] {
        assert!(owned(&w, "alice").contains(&s), "{s}");
    }
    let all = sources(&w);
    let g = &all.get("alice").unwrap().groups;
    assert!(
        g.iter()
            .any(|g| &*g.semantics == "FID" && g.ssrcs[0].0 == 70021)
    );
}

#[test]
fn empty_and_repeated_groups_are_ignored_not_refused() {
    let mut w = world();
    start(&mut w);
    let (_, sim, rtx) = client_ssrcs(0);
    let groups_before = sources(&w).get("alice").unwrap().groups.len();
    let sid = w.sid_of(ALICE);
    let inner = video(&format!(
        "{}{}{}",
        src(70001, Some("d t"), ""),
        group("FID", &[]),
        group("FID", &[sim[0], rtx[0]])
    ));
    let id = w.jingle_from(ALICE, "source-add", &sid, &inner);
    assert_eq!(answer(&w, ALICE, &id), Ok(()));
    assert_eq!(
        sources(&w).get("alice").unwrap().groups.len(),
        groups_before
    );
    let add = got(&w, BOB, "source-add").last().unwrap().clone();
    assert_eq!(announced(&add), [(70001, "alice".to_string())]);
    assert!(groups(&add).is_empty(), "{:?}", groups(&add));
}

#[test]
fn an_empty_source_add_or_remove_is_acknowledged_and_changes_nothing() {
    let mut w = world();
    start(&mut w);
    let before = sources(&w);
    let told = all_signalling(&w);
    let sid = w.sid_of(ALICE);
    for action in ["source-add", "source-remove", "addsource"] {
        let id = w.jingle_from(ALICE, action, &sid, &video(""));
        assert_eq!(answer(&w, ALICE, &id), Ok(()), "{action}");
    }
    assert_eq!(sources(&w), before);
    assert_eq!(all_signalling(&w), told);
}

#[test]
fn the_group_limit_refuses_the_request() {
    let mut w = world_cfg(|c| c.sources.max_ssrc_groups_per_user = 5);
    start(&mut w);
    // Alice has 4 groups; two more FID pairs make 6.
    let inner = video(&format!(
        "{}{}{}{}{}{}",
        src(70001, Some("d1 t"), ""),
        src(70002, Some("d1 t"), ""),
        src(70003, Some("d2 t"), ""),
        src(70004, Some("d2 t"), ""),
        group("FID", &[70001, 70002]),
        group("FID", &[70003, 70004])
    ));
    refused(
        &mut w,
        "source-add",
        &inner,
        "bad-request",
        "ssrc-group limit",
    );
    // One pair fits.
    let sid = w.sid_of(ALICE);
    let one = video(&format!(
        "{}{}{}",
        src(70001, Some("d1 t"), ""),
        src(70002, Some("d1 t"), ""),
        group("FID", &[70001, 70002])
    ));
    let id = w.jingle_from(ALICE, "source-add", &sid, &one);
    assert_eq!(answer(&w, ALICE, &id), Ok(()));
}

#[test]
fn the_ssrc_limit_counts_what_the_endpoint_already_has() {
    let mut w = world_cfg(|c| c.sources.max_ssrcs_per_user = 8);
    start(&mut w);
    // 7 from the accept: one more fits, two do not.
    refused(
        &mut w,
        "source-add",
        &format!("{}{}", desktop(70001), desktop(70002)),
        "bad-request",
        "SSRC limit",
    );
    let sid = w.sid_of(ALICE);
    let id = w.jingle_from(ALICE, "source-add", &sid, &desktop(70001));
    assert_eq!(answer(&w, ALICE, &id), Ok(()));
}

#[test]
fn removing_what_it_does_not_own_is_refused_whole() {
    let mut w = world();
    start(&mut w);
    let (a, sim, rtx) = client_ssrcs(0);
    let bob_audio = client_ssrcs(1).0;
    refused(
        &mut w,
        "source-remove",
        &content("audio", &src(bob_audio, None, "")),
        "bad-request",
        "not owned",
    );
    refused(
        &mut w,
        "source-remove",
        &video(&src(99999, None, "")),
        "bad-request",
        "not owned",
    );
    // Its own audio with a stranger: nothing goes.
    refused(
        &mut w,
        "removesource",
        &format!(
            "{}{}",
            content("audio", &src(a, None, "")),
            content("audio", &src(bob_audio, None, ""))
        ),
        "bad-request",
        "not owned",
    );
    refused(
        &mut w,
        "source-remove",
        &video(&group("FID", &[rtx[0], sim[0]])),
        "bad-request",
        "does not exist",
    );
}

#[test]
fn a_session_accept_with_invalid_sources_is_refused_but_the_session_stays() {
    let mut w = world();
    start(&mut w);
    // Carol's client uses alice's SSRCs.
    w.client(CAROL).index = 0;
    w.join(ROOM, "carol", CAROL);
    assert_eq!(invite(&w, "carol"), "Active", "the session remains");
    assert!(sources(&w).get("carol").is_none());
    let accept_answer = w
        .inbox(CAROL)
        .into_iter()
        .find(|n| n.name == "iq" && n.attr("id").is_some_and(|i| i.starts_with("acc")))
        .cloned()
        .expect("an answer to carol's accept");
    assert_eq!(accept_answer.attr("type"), Some("error"));
    assert_eq!(accept_answer.error_condition(), Some("bad-request"));
    // Nobody was told about carol's (refused) sources …
    for real in [ALICE, BOB] {
        for j in got(&w, real, "source-add") {
            assert!(announced(&j).iter().all(|(_, o)| o != "carol"));
        }
    }
    // … but carol was still given the others' sources she had not had.
    let ep = w.bridge("jvb1").endpoint("carol").unwrap();
    assert!(ep.transport.is_some(), "her transport reached the bridge");
    assert!(ep.sources.as_ref().is_none_or(|s| s.is_empty()));
}

// ------------------------------------------- queueing before an accept

#[test]
fn changes_before_an_accept_are_merged_and_sent_after_its_answer() {
    let mut w = world();
    start(&mut w);
    w.client(CAROL).accept = Accept::Manual;
    w.join(ROOM, "carol", CAROL);
    assert_eq!(invite(&w, "carol"), "Invited");
    // Carol's offer has alice's and bob's sources from the start.
    let offer = w.offers(CAROL)[0].clone();
    let offered: Vec<String> = announced(&offer).into_iter().map(|(_, o)| o).collect();
    assert!(offered.contains(&"alice".to_string()) && offered.contains(&"bob".to_string()));

    let (sa, sb) = (w.sid_of(ALICE), w.sid_of(BOB));
    let alice_audio = client_ssrcs(0).0;
    for (real, sid, action, inner) in [
        (ALICE, &sa, "source-add", desktop(70001)),
        (ALICE, &sa, "source-add", desktop(70002)),
        (ALICE, &sa, "source-remove", video(&src(70001, None, ""))),
        (BOB, &sb, "source-add", desktop(80001)),
        // Something carol's offer had, removed and added back unchanged.
        (
            ALICE,
            &sa,
            "source-remove",
            content("audio", &src(alice_audio, None, "")),
        ),
    ] {
        let id = w.jingle_from(real, action, sid, &inner);
        assert_eq!(answer(&w, real, &id), Ok(()), "{action} {inner}");
    }
    let again = content(
        "audio",
        &src(
            alice_audio,
            Some("alice-audio-1 alice-a-track"),
            "name='alice-a0'",
        ),
    );
    let id = w.jingle_from(ALICE, "source-add", &sa, &again);
    assert_eq!(answer(&w, ALICE, &id), Ok(()));
    // The others heard each change at once.
    assert_eq!(got(&w, BOB, "source-add").len(), 1 + 3);
    assert_eq!(got(&w, BOB, "source-remove").len(), 2);
    // Carol nothing yet.
    assert!(got(&w, CAROL, "source-add").is_empty());
    assert!(got(&w, CAROL, "source-remove").is_empty());

    w.accept(CAROL);
    assert_eq!(invite(&w, "carol"), "Active");
    // One source-add with the net change; no source-remove.
    let adds = got(&w, CAROL, "source-add");
    assert_eq!(adds.len(), 1, "{adds:#?}");
    let mut ann = announced(&adds[0]);
    ann.sort();
    assert_eq!(
        ann,
        [(70002, "alice".to_string()), (80001, "bob".to_string())]
    );
    assert!(got(&w, CAROL, "source-remove").is_empty());
    // The answer to her accept came first.
    let inbox = w.inbox(CAROL);
    let answer_at = inbox
        .iter()
        .position(|n| {
            n.attr("type") == Some("result") && n.attr("id").is_some_and(|i| i.starts_with("acc"))
        })
        .expect("the accept answered");
    let add_at = inbox
        .iter()
        .position(|n| {
            n.child("jingle", ns::JINGLE)
                .is_some_and(|j| j.attr("action") == Some("source-add"))
        })
        .unwrap();
    assert!(answer_at < add_at, "the result before the source-add");
    // And the others got carol's sources after her accept.
    for real in [ALICE, BOB] {
        let last = got(&w, real, "source-add").last().unwrap().clone();
        assert!(announced(&last).iter().all(|(_, o)| o == "carol"));
    }
}

// ------------------------------------------------ leave and re-invite

#[test]
fn a_participant_that_leaves_is_dropped_without_telling_anybody() {
    let mut w = world();
    start(&mut w);
    w.join(ROOM, "carol", CAROL);
    assert!(!owned(&w, "carol").is_empty());
    let told = all_signalling(&w);
    w.leave(ROOM, "carol");
    assert!(sources(&w).get("carol").is_none());
    assert_eq!(all_signalling(&w), told, "no source-remove on a leave");
    assert!(
        w.bridge("jvb1").endpoint("carol").is_none(),
        "endpoint expired"
    );
    // Carol's SSRCs are free again.
    let sid = w.sid_of(ALICE);
    let carol_audio = client_ssrcs(2).0;
    let id = w.jingle_from(
        ALICE,
        "source-add",
        &sid,
        &content("audio", &src(carol_audio, Some("x y"), "")),
    );
    assert_eq!(answer(&w, ALICE, &id), Ok(()));
}

#[test]
fn ice_failed_with_the_current_bridge_session_reinvites_and_resignals() {
    let mut w = world();
    start(&mut w);
    let (sid, bs) = (w.sid_of(BOB), w.bridge_session_of(BOB));
    let ice = |id: &str| {
        format!(
            "<ice-state xmlns='{0}'>failed</ice-state><bridge-session xmlns='{0}' id='{id}'/>",
            ns::FOCUS
        )
    };
    // A stale id is ignored.
    let id = w.jingle_from(BOB, "session-info", &sid, &ice("not-the-session"));
    assert_eq!(answer(&w, BOB, &id), Ok(()));
    assert_eq!(w.offers(BOB).len(), 1);
    assert!(got(&w, ALICE, "source-remove").is_empty());
    // Other states are ignored too.
    let checking = format!("<ice-state xmlns='{}'>checking</ice-state>", ns::FOCUS);
    let id = w.jingle_from(BOB, "session-info", &sid, &checking);
    assert_eq!(answer(&w, BOB, &id), Ok(()));
    assert_eq!(w.offers(BOB).len(), 1);

    let id = w.jingle_from(BOB, "session-info", &sid, &ice(&bs));
    assert_eq!(answer(&w, BOB, &id), Ok(()));
    let terms = got(&w, BOB, "session-terminate");
    assert_eq!(terms.len(), 1);
    assert_eq!(terms[0].attr("sid"), Some(sid.as_str()));
    let reason = terms[0].child("reason", ns::JINGLE).unwrap();
    assert!(reason.child("success", ns::JINGLE).is_some());
    assert_eq!(w.offers(BOB).len(), 2, "a new session-initiate");
    assert_ne!(w.sid_of(BOB), sid);
    assert_eq!(invite(&w, "bob"), "Active");
    // The bridge: bob's endpoint expired, then created again.
    let b = w.bridge("jvb1");
    assert!(
        b.requests(Req::Expire)
            .iter()
            .any(|r| r.expired_endpoints() == ["bob"])
    );
    assert_eq!(b.creates().iter().filter(|e| *e == "bob").count(), 2);
    // Alice: bob's sources removed, then added back after his new accept.
    let removes = got(&w, ALICE, "source-remove");
    assert_eq!(removes.len(), 1);
    assert!(announced(&removes[0]).iter().all(|(_, o)| o == "bob"));
    let adds = got(&w, ALICE, "source-add");
    assert_eq!(adds.len(), 2);
    assert_eq!(announced(&adds[1]), announced(&adds[0]));
    assert_eq!(owned(&w, "bob").len(), 7);
    // Bob's new offer has alice's sources again, and no more is sent him.
    assert!(
        announced(&w.offers(BOB)[1])
            .iter()
            .any(|(_, o)| o == "alice")
    );
}

#[test]
fn session_terminate_with_restart_reinvites_within_the_rate_limit() {
    let mut w = world();
    start(&mut w);
    let restart = |bs: &str| {
        format!(
            "<reason><success/></reason><bridge-session xmlns='{}' id='{bs}' restart='true'/>",
            ns::FOCUS
        )
    };
    // A wrong bridge session: item-not-found, nothing happens.
    let sid = w.sid_of(BOB);
    let id = w.jingle_from(BOB, "session-terminate", &sid, &restart("wrong"));
    assert_eq!(answer(&w, BOB, &id).unwrap_err().0, "item-not-found");
    assert_eq!(w.offers(BOB).len(), 1);
    assert_eq!(invite(&w, "bob"), "Active");

    let bs = w.bridge_session_of(BOB);
    let id = w.jingle_from(BOB, "session-terminate", &sid, &restart(&bs));
    assert_eq!(answer(&w, BOB, &id), Ok(()));
    assert_eq!(w.offers(BOB).len(), 2);
    assert!(
        got(&w, BOB, "session-terminate").is_empty(),
        "the client ended its session itself"
    );
    assert_eq!(got(&w, ALICE, "source-remove").len(), 1);
    assert_eq!(got(&w, ALICE, "source-add").len(), 2);

    // One second later: too soon.
    w.advance(secs(1));
    let (sid, bs) = (w.sid_of(BOB), w.bridge_session_of(BOB));
    let id = w.jingle_from(BOB, "session-terminate", &sid, &restart(&bs));
    assert_eq!(answer(&w, BOB, &id).unwrap_err().0, "resource-constraint");
    assert_eq!(w.offers(BOB).len(), 2, "no re-invite");
    assert_eq!(invite(&w, "bob"), "Active", "the session stays");
    assert_eq!(owned(&w, "bob").len(), 7, "its sources too");

    // Five seconds after the accepted one: fine again.
    w.advance(secs(4));
    let id = w.jingle_from(BOB, "session-terminate", &sid, &restart(&bs));
    assert_eq!(answer(&w, BOB, &id), Ok(()));
    assert_eq!(w.offers(BOB).len(), 3);
    assert_eq!(invite(&w, "bob"), "Active");
}

#[test]
fn the_restart_limit_allows_five_a_minute() {
    let mut w = world();
    start(&mut w);
    let mut accepted = 0;
    for _ in 0..7 {
        let (sid, bs) = (w.sid_of(BOB), w.bridge_session_of(BOB));
        let inner = format!(
            "<bridge-session xmlns='{}' id='{bs}' restart='true'/>",
            ns::FOCUS
        );
        let id = w.jingle_from(BOB, "session-terminate", &sid, &inner);
        if answer(&w, BOB, &id).is_ok() {
            accepted += 1;
        }
        w.advance(secs(6));
    }
    // At 0, 6, 12, 18, 24 s; then 30 and 36 s are within the minute.
    assert_eq!(accepted, 5);
    assert_eq!(w.offers(BOB).len(), 6);
}

#[test]
fn session_terminate_without_restart_ends_the_session_for_good() {
    let mut w = world();
    start(&mut w);
    let (sid, bs) = (w.sid_of(BOB), w.bridge_session_of(BOB));
    let inner = format!(
        "<reason><decline/></reason><bridge-session xmlns='{}' id='{bs}'/>",
        ns::FOCUS
    );
    let id = w.jingle_from(BOB, "session-terminate", &sid, &inner);
    assert_eq!(answer(&w, BOB, &id), Ok(()));
    assert_eq!(invite(&w, "bob"), "Ended");
    assert!(sources(&w).get("bob").is_none());
    let removes = got(&w, ALICE, "source-remove");
    assert_eq!(removes.len(), 1);
    assert!(announced(&removes[0]).iter().all(|(_, o)| o == "bob"));
    assert!(
        w.bridge("jvb1").endpoint("bob").is_none(),
        "endpoint expired"
    );
    assert!(got(&w, BOB, "session-terminate").is_empty());
    // Its old sid is dead now.
    let id = w.jingle_from(BOB, "source-add", &sid, &desktop(80001));
    assert_eq!(answer(&w, BOB, &id).unwrap_err().0, "item-not-found");
    // A newcomer does not bring bob back, nor bob's sources.
    w.join(ROOM, "carol", CAROL);
    assert_eq!(w.offers(BOB).len(), 1);
    assert!(
        announced(&w.offers(CAROL)[0])
            .iter()
            .all(|(_, o)| o != "bob")
    );
}

// ------------------------------------------------ session maintenance

#[test]
fn transport_info_goes_to_the_bridge_and_needs_a_transport() {
    let mut w = world();
    start(&mut w);
    let sid = w.sid_of(ALICE);
    let t = client_transport_xml(9);
    let inner = format!("<content creator='initiator' name='audio'>{t}</content>");
    let id = w.jingle_from(ALICE, "transport-info", &sid, &inner);
    assert_eq!(answer(&w, ALICE, &id), Ok(()));
    let ep = w.bridge("jvb1").endpoint("alice").unwrap();
    assert_eq!(ep.transport.as_ref(), Some(&parse_transport(&t)));
    let updates = bridge_updates(&w);
    let id = w.jingle_from(
        ALICE,
        "transport-info",
        &sid,
        "<content creator='initiator' name='audio'/>",
    );
    let (cond, text) = answer(&w, ALICE, &id).unwrap_err();
    assert_eq!(
        (cond.as_str(), text.as_str()),
        ("bad-request", "missing transport")
    );
    assert_eq!(bridge_updates(&w), updates);
}

#[test]
fn unhandled_actions_are_not_implemented_and_transport_reject_is_only_logged() {
    let mut w = world();
    start(&mut w);
    let sid = w.sid_of(ALICE);
    let id = w.jingle_from(ALICE, "content-add", &sid, "");
    assert_eq!(
        answer(&w, ALICE, &id).unwrap_err().0,
        "feature-not-implemented"
    );
    let id = w.jingle_from(ALICE, "transport-reject", &sid, "");
    assert_eq!(answer(&w, ALICE, &id), Ok(()));
    // No transport-replace was sent, so there is nothing to accept.
    let id = w.jingle_from(ALICE, "transport-accept", &sid, "");
    assert_eq!(answer(&w, ALICE, &id).unwrap_err().0, "unexpected-request");
    let ice_restart = format!(
        "<bridge-session xmlns='{}' id='{}' ice-restart='true'/>",
        ns::FOCUS,
        w.bridge_session_of(ALICE)
    );
    let id = w.jingle_from(ALICE, "session-info", &sid, &ice_restart);
    assert_eq!(
        answer(&w, ALICE, &id).unwrap_err().0,
        "feature-not-implemented"
    );
    assert_eq!(invite(&w, "alice"), "Active");
}

#[test]
fn jingle_with_another_occupants_sid_or_an_unknown_sid_is_refused() {
    let mut w = world();
    start(&mut w);
    w.join(ROOM, "carol", CAROL);
    let before = sources(&w);
    let told = all_signalling(&w);
    let updates = bridge_updates(&w);
    let alice_sid = w.sid_of(ALICE);
    let bs = w.bridge_session_of(ALICE);
    // Carol uses alice's session: every action is refused.
    let restart = format!(
        "<bridge-session xmlns='{}' id='{bs}' restart='true'/>",
        ns::FOCUS
    );
    for (action, inner) in [
        ("source-add", desktop(70001)),
        (
            "source-remove",
            content("audio", &src(client_ssrcs(0).0, None, "")),
        ),
        ("session-terminate", restart.clone()),
        (
            "transport-info",
            format!(
                "<content name='audio'>{}</content>",
                client_transport_xml(7)
            ),
        ),
    ] {
        let id = w.jingle_from(CAROL, action, &alice_sid, &inner);
        assert_eq!(
            answer(&w, CAROL, &id).unwrap_err().0,
            "item-not-found",
            "{action} with alice's sid"
        );
    }
    // Alice with a sid that is nobody's.
    let id = w.jingle_from(ALICE, "source-add", "bogus", &desktop(70001));
    assert_eq!(answer(&w, ALICE, &id).unwrap_err().0, "item-not-found");
    assert_eq!(sources(&w), before);
    assert_eq!(all_signalling(&w), told);
    assert_eq!(bridge_updates(&w), updates);
    assert_eq!(w.offers(ALICE).len(), 1, "alice was not re-invited");
    assert_eq!(invite(&w, "alice"), "Active");
}

// ------------------------------------------------ ReplaceTransport

fn ice_failed(w: &mut World, real: &str) -> String {
    let (sid, bs) = (w.sid_of(real), w.bridge_session_of(real));
    let inner = format!(
        "<ice-state xmlns='{0}'>failed</ice-state><bridge-session xmlns='{0}' id='{bs}'/>",
        ns::FOCUS
    );
    w.jingle_from(real, "session-info", &sid, &inner)
}

#[test]
fn replace_transport_keeps_the_session_and_resignals_sources() {
    let mut w = world_cfg(|c| c.reinvite_method = ReinviteMethod::ReplaceTransport);
    start(&mut w);
    let sid = w.sid_of(BOB);
    let id = ice_failed(&mut w, BOB);
    assert_eq!(answer(&w, BOB, &id), Ok(()));
    assert!(got(&w, BOB, "session-terminate").is_empty(), "no terminate");
    assert_eq!(w.offers(BOB).len(), 1, "no new session-initiate");
    let replaces = got(&w, BOB, "transport-replace");
    assert_eq!(replaces.len(), 1);
    let tr = &replaces[0];
    assert_eq!(tr.attr("sid"), Some(sid.as_str()), "the same session");
    assert!(announced(tr).iter().any(|(_, o)| o == "alice"));
    assert!(announced(tr).iter().all(|(_, o)| o != "bob"));
    assert!(tr.child("bridge-session", ns::FOCUS).is_some());
    // The bridge gave bob a new endpoint, whose transport the replace has.
    let b = w.bridge("jvb1");
    assert_eq!(b.creates().iter().filter(|e| *e == "bob").count(), 2);
    let given = b.given.get("bob").unwrap().clone();
    let offered = node_xml(tr, ns::CLIENT);
    let ufrag = given
        .split("ufrag='")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert!(offered.contains(ufrag), "{offered}");
    // The client's transport-accept was taken as an accept.
    assert_eq!(invite(&w, "bob"), "Active");
    assert_eq!(w.sid_of(BOB), sid);
    assert_eq!(owned(&w, "bob").len(), 7);
    let ep = w.bridge("jvb1").endpoint("bob").unwrap();
    assert_eq!(ep.sources.as_ref().unwrap().sources.len(), 7);
    assert_eq!(
        ep.transport.as_ref(),
        Some(&parse_transport(&client_transport_xml(1)))
    );
    // Alice: bob's sources removed, then added back.
    assert_eq!(got(&w, ALICE, "source-remove").len(), 1);
    assert_eq!(got(&w, ALICE, "source-add").len(), 2);
    // The kept session still works.
    let id = w.jingle_from(BOB, "source-add", &sid, &desktop(80001));
    assert_eq!(answer(&w, BOB, &id), Ok(()));
    assert!(owned(&w, "bob").contains(&80001));
}

#[test]
fn replace_transport_reject_is_only_logged_and_a_restart_request_still_gets_a_new_session() {
    let mut w = world_cfg(|c| c.reinvite_method = ReinviteMethod::ReplaceTransport);
    start(&mut w);
    w.client(BOB).jingle = JingleReply::Ack;
    w.client(BOB).accept = Accept::Manual;
    let sid = w.sid_of(BOB);
    let id = ice_failed(&mut w, BOB);
    assert_eq!(answer(&w, BOB, &id), Ok(()));
    assert_eq!(got(&w, BOB, "transport-replace").len(), 1);
    assert_eq!(invite(&w, "bob"), "Invited");
    let id = w.jingle_from(BOB, "transport-reject", &sid, "");
    assert_eq!(answer(&w, BOB, &id), Ok(()));
    assert_eq!(invite(&w, "bob"), "Invited", "nothing else happens");
    // The client gives up on the session and asks for a new one.
    let bs = w.bridge_session_of(BOB);
    let restart = format!(
        "<bridge-session xmlns='{}' id='{bs}' restart='true'/>",
        ns::FOCUS
    );
    let id = w.jingle_from(BOB, "session-terminate", &sid, &restart);
    assert_eq!(answer(&w, BOB, &id), Ok(()));
    assert_eq!(w.offers(BOB).len(), 2, "a session-initiate this time");
    assert_ne!(w.sid_of(BOB), sid);
    assert_eq!(got(&w, BOB, "transport-replace").len(), 1);
}

// ------------------------------------------------ limits and advertising

#[test]
fn the_audio_sender_limit_refuses_audio_with_resource_constraint() {
    let mut w = world_cfg(|c| c.sources.max_audio_senders = 1);
    w.client(ALICE);
    w.client(BOB);
    w.request(ALICE, ROOM);
    w.join(ROOM, "alice", ALICE);
    // Bob's presence says his microphone is on: one audio sender.
    w.join_with(
        ROOM,
        "bob",
        BOB,
        "<audiomuted xmlns='jabber:client'>false</audiomuted>",
    );
    assert_eq!(invite(&w, "alice"), "Active");
    refused(
        &mut w,
        "source-add",
        &content("audio", &src(70001, Some("mic-2 t"), "")),
        "resource-constraint",
        "sender limit reached for audio",
    );
    // Video is not limited.
    let sid = w.sid_of(ALICE);
    let id = w.jingle_from(ALICE, "source-add", &sid, &desktop(70002));
    assert_eq!(answer(&w, ALICE, &id), Ok(()));
}

#[test]
fn the_focus_advertises_that_it_handles_restart_requests() {
    let mut w = world();
    start(&mut w);
    let join = &w.joins(ROOM)[0].node;
    let props = join
        .child("conference-properties", ns::FOCUS)
        .expect("conference-properties in the focus's join");
    assert!(
        props
            .children
            .iter()
            .any(|p| p.attr("key") == Some("support-terminate-restart")
                && p.attr("value") == Some("true")),
        "{props:?}"
    );
}

// ------------------------------------------------ signalling delays

#[test]
fn source_signaling_delays_merge_updates_until_the_delay_is_over() {
    let mut w = world_cfg(|c| {
        c.sources
            .signaling_delays
            .insert(2, Duration::from_millis(500));
    });
    start(&mut w);
    // Bob accepted last: he got alice's sources right after his accept,
    // while his reach alice only after the delay.
    assert_eq!(got(&w, BOB, "source-add").len(), 1);
    assert!(got(&w, ALICE, "source-add").is_empty());
    w.advance(Duration::from_millis(500));
    assert_eq!(got(&w, ALICE, "source-add").len(), 1);
    let sid = w.sid_of(ALICE);
    let t0 = w.elapsed();
    for inner in [desktop(70001), desktop(70002)] {
        let id = w.jingle_from(ALICE, "source-add", &sid, &inner);
        assert_eq!(answer(&w, ALICE, &id), Ok(()));
    }
    let id = w.jingle_from(ALICE, "source-remove", &sid, &video(&src(70001, None, "")));
    assert_eq!(answer(&w, ALICE, &id), Ok(()));
    assert_eq!(
        got(&w, BOB, "source-add").len(),
        1,
        "nothing before the delay"
    );
    assert!(got(&w, BOB, "source-remove").is_empty());
    assert_eq!(w.next_timer(), Some(t0 + Duration::from_millis(500)));
    w.advance(Duration::from_millis(499));
    assert_eq!(got(&w, BOB, "source-add").len(), 1);
    w.advance(Duration::from_millis(1));
    // One source-add with the net change, and the timer is gone.
    let adds = got(&w, BOB, "source-add");
    assert_eq!(adds.len(), 2);
    assert_eq!(announced(&adds[1]), [(70002, "alice".to_string())]);
    assert!(got(&w, BOB, "source-remove").is_empty());
    assert!(got(&w, ALICE, "source-add").len() == 1, "no echo");
    assert_ne!(w.next_timer(), Some(t0 + Duration::from_millis(500)));
}

#[test]
fn a_delayed_update_for_somebody_who_left_is_dropped_with_its_timer() {
    let mut w = world_cfg(|c| {
        c.sources.signaling_delays.insert(2, secs(1));
    });
    start(&mut w);
    w.join(ROOM, "carol", CAROL);
    // Carol's sources reach alice and bob; nothing is queued after that.
    w.advance(secs(1));
    let sid = w.sid_of(ALICE);
    let id = w.jingle_from(ALICE, "source-add", &sid, &desktop(70001));
    assert_eq!(answer(&w, ALICE, &id), Ok(()));
    let told = all_signalling(&w);
    // Everybody but alice leaves before the delay is over.
    w.leave(ROOM, "bob");
    w.leave(ROOM, "carol");
    w.advance(secs(2));
    assert_eq!(all_signalling(&w), told);
    // Bob comes back: his offer has alice's screen, and his sources reach
    // alice a full delay later (no stale deadline from before).
    let alice_adds = got(&w, ALICE, "source-add").len();
    w.join(ROOM, "bob", BOB);
    assert_eq!(invite(&w, "bob"), "Active");
    assert!(announced(w.offers(BOB).last().unwrap()).contains(&(70001, "alice".to_string())));
    assert_eq!(got(&w, ALICE, "source-add").len(), alice_adds, "not yet");
    w.advance(secs(1));
    let adds = got(&w, ALICE, "source-add");
    assert_eq!(adds.len(), alice_adds + 1);
    assert!(
        announced(adds.last().unwrap())
            .iter()
            .all(|(_, o)| o == "bob")
    );
}

// ------------------------------------------------ Colibri v1

fn v1_world() -> World {
    let mut media = jicofo::focus::MediaConfig::quiet();
    media.bridges.rediscovery_interval = Some(secs(30));
    let mut w = World::with_configs(FocusConfig::for_tests(), media, [7; 32]);
    w.add_v1_bridge("jvb1");
    w.advance(Duration::ZERO);
    w
}

#[test]
fn colibri_v1_source_add_updates_the_channels_and_ice_failure_expires_them() {
    let mut w = v1_world();
    start(&mut w);
    let sid = w.sid_of(ALICE);
    let id = w.jingle_from(ALICE, "source-add", &sid, &desktop(70001));
    assert_eq!(answer(&w, ALICE, &id), Ok(()));
    // The video channel's sources now have the screen.
    let last = w
        .bridge("jvb1")
        .requests(Req::Update)
        .last()
        .and_then(|r| r.v1().cloned())
        .expect("a v1 update");
    let ssrcs: Vec<u32> = last
        .channels
        .iter()
        .filter(|c| c.media == jicofo::stanza::sources::MediaType::Video)
        .flat_map(|c| c.sources.iter().flatten().map(|s| s.ssrc.0))
        .collect();
    assert!(ssrcs.contains(&70001), "{last:#?}");
    assert_eq!(
        announced(got(&w, BOB, "source-add").last().unwrap()),
        [(70001, "alice".to_string())]
    );
    // Bob's ICE fails: exactly his channels are expired, then new ones.
    let bob = w.bridge("jvb1").endpoint("bob").unwrap().clone();
    let mut old: Vec<String> = bob.channels.iter().map(|(_, c)| c.clone()).collect();
    old.extend(bob.sctp.clone());
    old.sort();
    let (bsid, bs) = (w.sid_of(BOB), w.bridge_session_of(BOB));
    let inner = format!(
        "<ice-state xmlns='{0}'>failed</ice-state><bridge-session xmlns='{0}' id='{bs}'/>",
        ns::FOCUS
    );
    let id = w.jingle_from(BOB, "session-info", &bsid, &inner);
    assert_eq!(answer(&w, BOB, &id), Ok(()));
    let x = w.bridge("jvb1").requests(Req::Expire);
    assert_eq!(x.len(), 1);
    let mut expired = x[0].expired_channels();
    expired.sort();
    assert_eq!(expired, old);
    assert_eq!(w.offers(BOB).len(), 2);
    assert_eq!(invite(&w, "bob"), "Active");
    assert_eq!(got(&w, ALICE, "source-remove").len(), 1);
    assert_eq!(got(&w, ALICE, "source-add").len(), 2);
    assert_eq!(owned(&w, "bob").len(), 7);
}

#[test]
fn a_bridge_failure_moves_everybody_and_their_sources_follow() {
    let mut w = world();
    w.add_bridge("jvb2", stats(0.5));
    start(&mut w);
    // Everyone is on jvb1 (single-bridge selection), so everyone moves.
    w.join(ROOM, "carol", CAROL);
    let before: Vec<usize> = [ALICE, BOB, CAROL]
        .iter()
        .map(|r| got(&w, r, "source-add").len())
        .collect();
    w.bridge_leaves("jvb1");
    for (real, nick) in [(ALICE, "alice"), (BOB, "bob"), (CAROL, "carol")] {
        assert_eq!(invite(&w, nick), "Active", "{nick}");
        assert_eq!(w.offers(real).len(), 2, "{nick} was offered jvb2");
        assert_eq!(got(&w, real, "session-terminate").len(), 1, "{nick}");
        assert_eq!(owned(&w, nick).len(), 7, "{nick}'s sources are back");
    }
    // Each learnt every other participant's sources again, from its new
    // offer or a source-add after it, and never its own.
    for (k, (real, nick)) in [(ALICE, "alice"), (BOB, "bob"), (CAROL, "carol")]
        .into_iter()
        .enumerate()
    {
        let mut owners: Vec<String> = announced(w.offers(real).last().unwrap())
            .into_iter()
            .map(|(_, o)| o)
            .chain(
                got(&w, real, "source-add")[before[k]..]
                    .iter()
                    .flat_map(announced)
                    .map(|(_, o)| o),
            )
            .filter(|o| o != "jvb")
            .collect();
        owners.sort();
        owners.dedup();
        let mut want: Vec<&str> = ["alice", "bob", "carol"]
            .into_iter()
            .filter(|o| *o != nick)
            .collect();
        want.sort();
        assert_eq!(owners, want, "{nick}");
    }
    let e = w.bridge("jvb2").endpoints();
    assert_eq!(e.len(), 3);
    for nick in ["alice", "bob", "carol"] {
        let ep = w.bridge("jvb2").endpoint(nick).unwrap();
        assert_eq!(ep.sources.as_ref().unwrap().sources.len(), 7, "{nick}");
    }
}

#[test]
fn ice_failure_of_the_last_one_on_a_bridge_recreates_its_conference_there() {
    // Two participants per bridge: carol gets jvb2 to herself.
    let mut media = media_config();
    media.bridges.octo_enabled = true;
    media.bridges.strategy = jicofo::focus::bridge::SelectionStrategy::RegionBased;
    media.bridges.max_bridge_participants = Some(2);
    let mut w = World::with_configs(FocusConfig::for_tests(), media, [7; 32]);
    for (name, stress) in [("jvb1", 0.1), ("jvb2", 0.3)] {
        let mut s = stats(stress);
        s.relay_id = Some(format!("relay-{name}"));
        w.add_bridge(name, s);
    }
    start(&mut w);
    w.join(ROOM, "carol", CAROL);
    assert_eq!(w.bridge("jvb2").endpoints(), ["carol"]);
    let old_bs = w.bridge_session_of(CAROL);
    let id = ice_failed(&mut w, CAROL);
    assert_eq!(answer(&w, CAROL, &id), Ok(()));
    let b = w.bridge("jvb2");
    // Carol was alone there: the whole conference went, and came back.
    let expires: Vec<&Request> = b.requests(Req::Expire);
    assert_eq!(expires.len(), 1, "{expires:#?}");
    assert!(expires[0].expires_conference());
    assert_eq!(b.creates(), ["carol", "carol"]);
    assert_eq!(w.bridge("jvb2").endpoints(), ["carol"]);
    assert_eq!(invite(&w, "carol"), "Active");
    assert_ne!(w.bridge_session_of(CAROL), old_bs, "a new bridge session");
    for real in [ALICE, BOB] {
        let removes = got(&w, real, "source-remove");
        assert_eq!(removes.len(), 1);
        assert!(announced(&removes[0]).iter().all(|(_, o)| o == "carol"));
        let last = got(&w, real, "source-add").last().unwrap().clone();
        assert!(announced(&last).iter().all(|(_, o)| o == "carol"));
    }
}
