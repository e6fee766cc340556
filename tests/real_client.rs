//! The real Jitsi Meet client against the focus: lib-jitsi-meet (npm
//! `@lyno/lib-jitsi-meet` 2.6726.2) in Debian's headless Chromium, driven
//! by playwright-core (`tests/browser/`), connected to a real Prosody over
//! its websocket. Peers from `scripts/install-test-deps`; a missing one is a
//! failure naming it. Recipe and traps: `/work/shared/peers.md`.
//!
//! What a client did is read from the wire (its recorded Jingle IQs and the
//! answers to them) and from Chromium (the peer connection's remote
//! description), never from the library's bookkeeping alone. With the
//! emulated Colibri2 bridge (`support/bridge.rs`), whose candidates are on
//! loopback, ICE never connects. About 17 s after its accept the library
//! gives up on ICE: as the focus advertises `support-terminate-restart`, it
//! ends the session (`session-terminate` asking for a restart) and the
//! focus offers a new one; without that it raises an ICE failure, which
//! the page records as no error. The tests are done within about 5 s of
//! the first accept, and fail with that explanation if a client restarted
//! its session (a machine too slow for them). Chromium resolves no name
//! (`driver.js`), so nothing leaves the machine.

mod conf_util;
mod support;

use std::time::{Duration, Instant};

use conf_util::*;
use support::bridge::{BREWERY, Bridge, BridgeOpts, JVB_PASSWORD, JVB_USER};
use support::browser::brief;
use support::{AUTH_DOMAIN, BROWSER_DIR, Browser, Focus, Json, Prosody, ProsodyOpts};

/// Bound of each wait on a client (the page polls every 100 ms).
const CLIENT_T: Duration = Duration::from_secs(20);

/// The Jingle entries of a client's state (`jingle`: every Jingle IQ seen
/// on its XMPP stream) with direction `dir` and `action`.
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
/// one and says so in its presence (`<bridgeNotAvailable/>`), which the
/// library reports as "videobridge not available"; the clients stay
/// joined without a Jingle session.
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
    }
    assert!(
        focus.wait_log("no operational bridge", CLIENT_T),
        "{}",
        focus.log_text()
    );
    for c in ["alice", "bob"] {
        let st = b.wait_state(
            c,
            "told that no bridge is available",
            |s| {
                !s["conferenceFailures"]
                    .as_array()
                    .unwrap_or_default()
                    .is_empty()
            },
            CLIENT_T,
        );
        assert_eq!(
            st["conferenceFailures"],
            Json::Arr(vec!["conference.videobridgeNotAvailable".into()]),
            "{}",
            brief(&st)
        );
        assert!(
            joined(&st) && jingle(&st, "in", "session-initiate").is_empty(),
            "{}",
            brief(&st)
        );
        assert!(
            st["errors"].as_array().unwrap_or_default().is_empty(),
            "{}",
            brief(&st)
        );
    }
    eprintln!(
        "two real clients joined and were invited in {:?}",
        t0.elapsed()
    );
}

// ------------------------------------------------------------ with a bridge

/// The focus finds brewery bridges with this.
const BRIDGE_MUC: &str = "-Dorg.jitsi.jicofo.BRIDGE_MUC=jvbbrewery@internal.auth.meet.test";

/// Prosody serving the page, with the bridges' account; an emulated
/// Colibri2 bridge in the brewery whose candidates are on loopback (the
/// browser's ICE checks must not leave the machine); the focus, in the
/// brewery.
fn conference_with_bridge() -> (Prosody, Bridge, Focus) {
    let p = Prosody::start(
        ProsodyOpts::default()
            .user(JVB_USER, AUTH_DOMAIN, JVB_PASSWORD)
            .http_files_dir(BROWSER_DIR),
    );
    let bridge = Bridge::colibri2(
        &p,
        BREWERY,
        "jvb1",
        BridgeOpts::default().addresses("127.0.0.1", "127.0.0.1"),
    );
    bridge.wait_ready(T);
    let (focus, _) = focus_up(&p, &[BRIDGE_MUC]);
    bridge.wait_for("the focus in the brewery", T, |s| {
        s.brewery_occupants
            .iter()
            .any(|n| n == "focus")
            .then_some(())
    });
    (p, bridge, focus)
}

/// SSRCs of the sources in a recorded Jingle entry with this `media`
/// (and `owner`, when given).
fn ssrcs_of(e: &Json, media: &str, owner: Option<&str>) -> Vec<u32> {
    e["sources"]
        .as_array()
        .unwrap_or_default()
        .iter()
        .filter(|s| s["media"].as_str() == Some(media))
        .filter(|s| owner.is_none() || s["owner"].as_str() == owner)
        .filter_map(|s| u32::try_from(s["ssrc"].as_i64()?).ok())
        .collect()
}

/// The SSRC groups `(semantics, ssrcs)` of a recorded Jingle entry.
fn groups_of(e: &Json) -> Vec<(String, Vec<u32>)> {
    e["groups"]
        .as_array()
        .unwrap_or_default()
        .iter()
        .map(|g| {
            let ssrcs = g["ssrcs"]
                .as_array()
                .unwrap_or_default()
                .iter()
                .filter_map(|s| u32::try_from(s.as_i64()?).ok())
                .collect();
            (g.str_of("semantics").unwrap_or_default().to_string(), ssrcs)
        })
        .collect()
}

/// One SSRC of the peer connection's remote description.
#[derive(Debug)]
struct RemoteSource {
    ssrc: u32,
    /// As the library mapped it from the focus's `<ssrc-info/>`.
    owner: Option<String>,
    /// The SDP's `a=ssrc:<ssrc> msid:` value.
    msid: Option<String>,
}

/// The SSRCs of the peer connection's remote description.
fn remote(st: &Json) -> Vec<RemoteSource> {
    st["remote"]["sources"]
        .as_array()
        .unwrap_or_default()
        .iter()
        .filter_map(|s| {
            Some(RemoteSource {
                ssrc: u32::try_from(s["ssrc"].as_i64()?).ok()?,
                owner: s.str_of("owner").map(str::to_string),
                msid: s.str_of("msid").map(str::to_string),
            })
        })
        .collect()
}

/// `(ssrc, msid)` of every source in a recorded Jingle entry.
fn msids_of(e: &Json) -> Vec<(u32, Option<String>)> {
    e["sources"]
        .as_array()
        .unwrap_or_default()
        .iter()
        .filter_map(|s| {
            let ssrc = u32::try_from(s["ssrc"].as_i64()?).ok()?;
            Some((ssrc, s.str_of("msid").map(str::to_string)))
        })
        .collect()
}

/// What one client accepted the focus's offer with: its endpoint id (the
/// nick) and the sources (with their msid) and groups of its
/// `session-accept`.
#[derive(Debug, Clone)]
struct Accepted {
    client: &'static str,
    id: String,
    audio: Vec<u32>,
    video: Vec<u32>,
    msids: Vec<(u32, Option<String>)>,
    groups: Vec<(String, Vec<u32>)>,
}

impl Accepted {
    fn msid(&self, ssrc: u32) -> Option<&str> {
        self.msids
            .iter()
            .find(|(s, _)| *s == ssrc)
            .and_then(|(_, m)| m.as_deref())
    }

    fn all(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self.audio.iter().chain(&self.video).copied().collect();
        v.sort();
        v
    }

    /// What a receiver's remote description holds of these sources: the
    /// audio, and the first SSRC of the simulcast group (the library
    /// receives one video layer; the bridge picks which), or every video
    /// SSRC without simulcast.
    fn received(&self) -> Vec<u32> {
        let sim = self.groups.iter().find(|(sem, _)| sem == "SIM");
        let video = match sim {
            Some((_, ssrcs)) => ssrcs.first().copied().into_iter().collect(),
            None => self.video.clone(),
        };
        self.audio.iter().copied().chain(video).collect()
    }

    /// Checks what a receiver was told of these sources (`ssrcs` owned by
    /// this endpoint, `groups` all those it was sent): nothing twice,
    /// nothing this endpoint did not signal, at least [`Self::received`];
    /// a group naming these SSRCs is one this endpoint signalled, and each
    /// of its groups whose SSRCs were all passed on was passed on too. A
    /// focus may strip simulcast for receivers (Jicofo's `strip-simulcast`,
    /// on by default: only the first SIM layer and its RTX go out, without
    /// the SIM group) or pass everything on; both pass.
    fn check_told(&self, ssrcs: &[u32], groups: &[(String, Vec<u32>)]) -> Result<(), String> {
        let mut sorted = ssrcs.to_vec();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != ssrcs.len() {
            return Err(format!("an SSRC twice in {ssrcs:?}"));
        }
        let all = self.all();
        if let Some(s) = ssrcs.iter().find(|s| !all.contains(s)) {
            return Err(format!("{s} is not one of the sender's {all:?}"));
        }
        if let Some(s) = self.received().iter().find(|s| !ssrcs.contains(s)) {
            return Err(format!("{s} missing from {ssrcs:?}"));
        }
        for g in groups
            .iter()
            .filter(|(_, g)| g.iter().any(|s| all.contains(s)))
        {
            if !self.groups.contains(g) {
                return Err(format!("group {g:?} is not one the sender signalled"));
            }
        }
        for g in &self.groups {
            if g.1.iter().all(|s| ssrcs.contains(s)) && !groups.contains(g) {
                return Err(format!("group {g:?} dropped"));
            }
        }
        Ok(())
    }
}

/// The client sent `session-accept` (Chromium took the offer), the focus
/// answered it with `result`, and the peer connection is back to `stable`
/// (the library renegotiates locally once more after the accept).
fn accepted(st: &Json) -> bool {
    st["signaling"].as_str() == Some("stable")
        && jingle(st, "out", "session-accept")
            .iter()
            .any(|e| e["answer"].as_str() == Some("result"))
}

/// Waits until `client` has accepted the focus's offer, on the wire: one
/// `session-initiate` from the focus's occupant JID, answered by a
/// `session-accept` with the same sid, DTLS `active`, audio and video
/// sources, acknowledged by the focus; the peer connection is `stable`
/// with the offer as its remote description. Then checks that the bridge
/// got the client's transport and exactly those sources. Returns them.
#[track_caller]
fn expect_accepted(b: &mut Browser, bridge: &Bridge, client: &'static str) -> Accepted {
    let st = b.wait_state(client, "accepted the offer", accepted, CLIENT_T);
    let offers = jingle(&st, "in", "session-initiate");
    assert_eq!(offers.len(), 1, "{client}: {}", brief(&st));
    let focus = format!("{}/focus", room(st["room"].as_str().unwrap_or_default()));
    assert_eq!(
        offers[0]["peer"].as_str(),
        Some(focus.as_str()),
        "{client}: {}",
        brief(&st)
    );
    assert_eq!(
        offers[0]["answer"].as_str(),
        Some("result"),
        "{client} refused the offer: {}",
        brief(&st)
    );
    let accept = jingle(&st, "out", "session-accept")[0];
    assert_eq!(accept["sid"], offers[0]["sid"], "{}", brief(&st));
    assert_eq!(accept["setup"].as_str(), Some("active"), "{}", brief(&st));
    let got = Accepted {
        client,
        id: st["myId"].as_str().expect("endpoint id").to_string(),
        audio: ssrcs_of(accept, "audio", None),
        video: ssrcs_of(accept, "video", None),
        msids: msids_of(accept),
        groups: groups_of(accept),
    };
    assert!(
        !got.audio.is_empty() && !got.video.is_empty(),
        "{client} accepted without audio and video sources: {}",
        brief(&st)
    );
    for ssrc in got.received() {
        assert!(
            got.msid(ssrc).is_some(),
            "{client}'s source {ssrc} without msid: {}",
            brief(&st)
        );
    }
    assert_eq!(
        st["remote"]["type"].as_str(),
        Some("offer"),
        "{}",
        brief(&st)
    );
    assert_no_errors(&st);
    let ep = bridge.wait_for(&format!("{client}'s transport and sources"), T, |s| {
        s.endpoint(&got.id)
            .filter(|e| e.remote_transport.is_some() && !e.sources.sources.is_empty())
            .cloned()
    });
    let mut on_bridge: Vec<u32> = ep.sources.sources.iter().map(|s| s.ssrc.0).collect();
    on_bridge.sort();
    assert_eq!(on_bridge, got.all(), "{client}'s sources on the bridge");
    got
}

/// `st`'s remote description holds what it receives of `other`'s
/// sources, with the msid `other` signalled, mapped to `other`'s endpoint
/// id.
fn has_sources_of(st: &Json, other: &Accepted) -> bool {
    let remote = remote(st);
    other.received().into_iter().all(|s| {
        remote.iter().any(|r| {
            r.ssrc == s
                && r.owner.as_deref() == Some(other.id.as_str())
                && r.msid.is_some()
                && r.msid.as_deref() == other.msid(s)
        })
    })
}

/// `st`'s remote description holds none of `other`'s SSRCs.
fn has_none_of(st: &Json, other: &Accepted) -> bool {
    let all = other.all();
    !st["remote"].is_null() && remote(st).iter().all(|r| !all.contains(&r.ssrc))
}

/// The media types of `owner`'s remote tracks with this `event`
/// (`added`, `removed`) in `st`, sorted.
fn track_events(st: &Json, event: &str, owner: &str) -> Vec<String> {
    let mut v: Vec<String> = st["tracks"]
        .as_array()
        .unwrap_or_default()
        .iter()
        .filter(|t| t["event"].as_str() == Some(event) && t["owner"].as_str() == Some(owner))
        .filter_map(|t| Some(t["type"].as_str()?.to_string()))
        .collect();
    v.sort();
    v
}

/// Every Jingle request from the focus has been answered.
fn all_answered(st: &Json) -> bool {
    st["jingle"]
        .as_array()
        .unwrap_or_default()
        .iter()
        .filter(|e| e["dir"].as_str() == Some("in"))
        .all(|e| !e["answer"].is_null())
}

/// `client` took every Jingle request the focus sent it (answered
/// `result`, not an error), kept its one session, and nothing went wrong
/// in its page.
#[track_caller]
fn assert_took_everything(b: &mut Browser, client: &str) {
    let st = b.wait_state(client, "done answering the focus", all_answered, CLIENT_T);
    assert!(
        jingle(&st, "out", "session-terminate").is_empty(),
        "{client} ended its session: with the emulated bridge that is ICE giving up, about \
         17 s after the accept; the test ran too long for it (a slow machine?): {}",
        brief(&st)
    );
    for e in st["jingle"].as_array().unwrap_or_default() {
        if e["dir"].as_str() == Some("in") {
            assert_eq!(
                e["answer"].as_str(),
                Some("result"),
                "{client} refused the focus's {}: {}",
                e["action"],
                brief(&st)
            );
        }
    }
    assert_no_errors(&st);
}

/// Nothing went wrong in the page, and the conference did not fail but
/// for ICE (not an error: the emulated bridge carries no media).
#[track_caller]
fn assert_no_errors(st: &Json) {
    assert!(
        st["errors"].as_array().unwrap_or_default().is_empty(),
        "{}",
        brief(st)
    );
    let failures = st["conferenceFailures"].as_array().unwrap_or_default();
    assert!(
        failures
            .iter()
            .all(|f| f.as_str() == Some("conference.iceFailed")),
        "{}",
        brief(st)
    );
}

/// §3.3, §5.2–5.4 with the real client and an emulated Colibri2 bridge:
/// two clients with fake camera and microphone each accept the focus's
/// offer (Chromium builds its SDP from it), and the bridge gets what each
/// accepted with. A third client joining later is offered the first two's
/// sources (owned by their endpoint ids, with their groups; simulcast may
/// be stripped to the first layer) and Chromium takes them into its remote
/// description; when one of the first two
/// leaves, the third's client drops its sources (the library does so on
/// the MUC leave) and the bridge expires its endpoint. The emulated bridge
/// carries no media, so ICE may fail: recorded, not an error.
#[test]
fn real_clients_accept_offers_and_a_later_one_receives_everyones_sources() {
    let t0 = Instant::now();
    let (p, bridge, _focus) = conference_with_bridge();
    let mut b = Browser::start(&p);
    let r = "clientmedia";
    b.open("alice", r);
    b.open("bob", r);
    let alice = expect_accepted(&mut b, &bridge, "alice");
    let bob = expect_accepted(&mut b, &bridge, "bob");
    eprintln!("alice and bob accepted at {:?}", t0.elapsed());

    b.open("carol", r);
    let carol = expect_accepted(&mut b, &bridge, "carol");
    let st = b.state("carol");
    let offer = jingle(&st, "in", "session-initiate")[0];
    let offered_groups = groups_of(offer);
    for other in [&alice, &bob] {
        let mut offered = ssrcs_of(offer, "audio", Some(&other.id));
        offered.extend(ssrcs_of(offer, "video", Some(&other.id)));
        if let Err(e) = other.check_told(&offered, &offered_groups) {
            panic!(
                "{}'s sources offered to carol: {e}\n{}",
                other.client,
                brief(&st)
            );
        }
        assert!(
            has_sources_of(&st, other),
            "{}'s sources ({:?}) not in carol's remote description: {}",
            other.client,
            other.received(),
            brief(&st)
        );
    }
    assert!(!has_sources_of(&st, &carol), "{}", brief(&st));
    let st = b.wait_state(
        "carol",
        "given alice's and bob's remote tracks",
        |s| {
            [&alice, &bob]
                .iter()
                .all(|o| track_events(s, "added", &o.id) == ["audio", "video"])
        },
        CLIENT_T,
    );
    assert!(
        track_events(&st, "added", &carol.id).is_empty(),
        "{}",
        brief(&st)
    );
    eprintln!("carol received everyone's sources at {:?}", t0.elapsed());

    b.leave("alice");
    let st = b.wait_state(
        "carol",
        "rid of alice's sources",
        |s| has_none_of(s, &alice),
        CLIENT_T,
    );
    assert!(has_sources_of(&st, &bob), "{}", brief(&st));
    assert_eq!(
        st["participants"][alice.id.as_str()]["left"].as_bool(),
        Some(true),
        "{}",
        brief(&st)
    );
    assert_eq!(
        track_events(&st, "removed", &alice.id),
        ["audio", "video"],
        "carol's remote tracks of alice: {}",
        brief(&st)
    );
    bridge.wait_for("alice's endpoint expired", T, |s| {
        s.endpoint(&alice.id).is_none().then_some(())
    });
    for c in ["bob", "carol"] {
        assert_took_everything(&mut b, c);
    }
    eprintln!("done in {:?}", t0.elapsed());
}

/// What `st` was told of `other`'s sources by the focus, in its offer and
/// in every `source-add` since: the SSRCs owned by `other`'s endpoint id,
/// and all groups.
fn told_about(st: &Json, other: &Accepted) -> (Vec<u32>, Vec<(String, Vec<u32>)>) {
    let mut ssrcs = Vec::new();
    let mut groups = Vec::new();
    for action in ["session-initiate", "source-add"] {
        for e in jingle(st, "in", action) {
            for media in ["audio", "video"] {
                ssrcs.extend(ssrcs_of(e, media, Some(&other.id)));
            }
            groups.extend(groups_of(e));
        }
    }
    (ssrcs, groups)
}

/// Waits until `client`'s remote description holds `other`'s sources,
/// which only the focus's fan-out can bring there when `other` accepted
/// after `client` was offered: `source-add`s from the focus's occupant
/// JID with `other`'s SSRCs, owned by its endpoint id (see
/// [`Accepted::check_told`]).
#[track_caller]
fn expect_fanned_out(b: &mut Browser, client: &str, other: &Accepted) {
    let st = b.wait_state(
        client,
        &format!(
            "given {}'s sources (source-add fan-out from the focus; none sent means the \
             focus does not fan sources out)",
            other.client
        ),
        |s| has_sources_of(s, other),
        CLIENT_T,
    );
    let (ssrcs, groups) = told_about(&st, other);
    if let Err(e) = other.check_told(&ssrcs, &groups) {
        panic!(
            "what {client} was told of {}'s sources: {e}\n{}",
            other.client,
            brief(&st)
        );
    }
    for e in jingle(&st, "in", "source-add") {
        assert_eq!(
            e["peer"].as_str(),
            Some(format!("{}/focus", room(st["room"].as_str().unwrap_or_default())).as_str()),
            "{}",
            brief(&st)
        );
    }
}

/// §5.4–5.5 with the real client: the focus tells every participant of
/// the others' sources as they come. Of two clients invited together,
/// one offered before the other accepted learns the other's sources from
/// a `source-add`; either way each is told the other's SSRCs and
/// Chromium takes them into its remote description (audio and primary
/// simulcast SSRC, mapped to the owner). A third
/// joining later is offered both; the first two get its sources the same
/// way. When it leaves, its sources leave both remote descriptions
/// (`source-remove` from the focus, or the library on the MUC leave), and
/// every Jingle request the focus sent was taken (`result`).
#[test]
fn real_clients_receive_each_others_sources_as_they_come() {
    let t0 = Instant::now();
    let (p, bridge, _focus) = conference_with_bridge();
    let mut b = Browser::start(&p);
    let r = "clientfanout";
    b.open("alice", r);
    b.open("bob", r);
    let alice = expect_accepted(&mut b, &bridge, "alice");
    let bob = expect_accepted(&mut b, &bridge, "bob");
    expect_fanned_out(&mut b, "alice", &bob);
    expect_fanned_out(&mut b, "bob", &alice);
    eprintln!(
        "alice and bob have each other's sources at {:?}",
        t0.elapsed()
    );

    b.open("carol", r);
    let carol = expect_accepted(&mut b, &bridge, "carol");
    let st = b.state("carol");
    assert!(
        has_sources_of(&st, &alice) && has_sources_of(&st, &bob),
        "{}",
        brief(&st)
    );
    expect_fanned_out(&mut b, "alice", &carol);
    expect_fanned_out(&mut b, "bob", &carol);
    for (c, others) in [("alice", [&bob, &carol]), ("bob", [&alice, &carol])] {
        b.wait_state(
            c,
            "given a remote audio and video track of each other client",
            |s| {
                others
                    .iter()
                    .all(|o| track_events(s, "added", &o.id) == ["audio", "video"])
            },
            CLIENT_T,
        );
    }
    eprintln!("everyone has everyone's sources at {:?}", t0.elapsed());

    b.leave("carol");
    for c in ["alice", "bob"] {
        let st = b.wait_state(
            c,
            "rid of carol's sources",
            |s| has_none_of(s, &carol),
            CLIENT_T,
        );
        let other = if c == "alice" { &bob } else { &alice };
        assert!(has_sources_of(&st, other), "{}", brief(&st));
        assert_eq!(
            track_events(&st, "removed", &carol.id),
            ["audio", "video"],
            "{c}'s remote tracks of carol: {}",
            brief(&st)
        );
    }
    bridge.wait_for("carol's endpoint expired", T, |s| {
        s.endpoint(&carol.id).is_none().then_some(())
    });
    for c in ["alice", "bob"] {
        assert_took_everything(&mut b, c);
    }
    eprintln!("done in {:?}", t0.elapsed());
}
