//! Real-peer tests of the media path (protocol.md §3–§5): the built focus
//! against a real Prosody, slixmpp participants, and emulated bridges
//! (`support/bridge.rs`) that answer as jitsi-videobridge does: a Colibri2
//! bridge in the brewery MUC and a Colibri v1 component found by disco.
//!
//! What is checked is what interoperability rests on: the endpoint id is
//! the MUC nick; the offer carries the bridge's transport verbatim; a
//! `session-accept` reaches the bridge as an update with the participant's
//! transport and sources; later offers carry earlier participants' sources
//! (owner = their nick; with the default `strip-simulcast`, the first
//! simulcast layer and its RTX, as an FID group) and the bridge's feedback
//! sources (owner `jvb`), never the receiver's own; leaving expires the
//! endpoint, the last leaving the conference. The emulator answers every
//! request the bridge's way, so a request a real bridge refuses shows up as
//! an error answer, which the tests assert never happens.

mod conf_util;
mod support;

use std::time::{Duration, Instant};

use conf_util::*;
use jicofo::stanza::colibri2::CAP_SOURCE_NAMES;
use jicofo::stanza::sources::MediaType;
use support::bridge::{
    BREWERY, Bridge, BridgeOpts, Fault, JVB_PASSWORD, JVB_USER, Request, TransportSummary,
    transport_summary,
};
use support::{AUTH_DOMAIN, Focus, Login, Peer, Prosody, ProsodyOpts};

/// The Colibri v1 component bridge.
const V1_JID: &str = "jvb.meet.test";
const V1_SECRET: &str = "jvb_secret";
/// The focus finds brewery bridges with this.
const BRIDGE_MUC: &str = "-Dorg.jitsi.jicofo.BRIDGE_MUC=jvbbrewery@internal.auth.meet.test";
/// Disco rounds every second, for the component bridge.
const FAST_DISCO: &str = "-Dorg.jitsi.jicofo.SERVICE_REDISCOVERY_INTERVAL=1000";

/// What a current Jitsi Meet client advertises in disco#info.
const CLIENT_FEATURES: &[&str] = &[
    "urn:xmpp:jingle:1",
    "urn:xmpp:jingle:apps:rtp:1",
    "urn:xmpp:jingle:apps:rtp:audio",
    "urn:xmpp:jingle:apps:rtp:video",
    "urn:xmpp:jingle:transports:ice-udp:1",
    "urn:xmpp:jingle:apps:dtls:0",
    "urn:xmpp:jingle:transports:dtls-sctp:1",
    "urn:ietf:rfc:5761",
    "urn:ietf:rfc:5888",
    "urn:ietf:rfc:4588",
    "http://jitsi.org/tcc",
    "http://jitsi.org/source-name",
];

fn prosody() -> Prosody {
    Prosody::start(
        ProsodyOpts::default()
            .user(JVB_USER, AUTH_DOMAIN, JVB_PASSWORD)
            .component(V1_JID, V1_SECRET),
    )
}

/// Participants with media features, acking every Jingle IQ.
fn participants<const N: usize>(p: &Prosody, nicks: [&str; N]) -> [Peer; N] {
    let mut ps = peers(p, nicks.map(|n| Login::guest().label(n)));
    for peer in &mut ps {
        peer.add_features(CLIENT_FEATURES);
        peer.auto_ack_jingle(true);
    }
    ps
}

/// Conference IQ first, then the join, as clients do.
#[track_caller]
fn enter(peer: &mut Peer, room: &str, nick: &str) {
    request_ready(peer, room);
    join_ok(peer, room, nick);
}

/// Waits for a Jingle `action` to `peer`; returns its XML.
#[track_caller]
fn expect_jingle(peer: &mut Peer, action: &str, timeout: Duration) -> String {
    let ev = peer.expect_event(
        action,
        |e| e.is_event("iq") && e.str_of("action") == Some(action),
        timeout,
    );
    ev.str_of("xml").unwrap_or_default().to_string()
}

// ----------------------------------------------------------- reading offers

/// The `<content>` blocks (not the empty ones of `<group>`) by name.
fn contents(xml: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = xml[from..].find("<content") {
        let start = from + i;
        from = start + 8;
        let Some(gt) = xml[start..].find('>') else {
            break;
        };
        if xml[start..start + gt].ends_with('/') {
            continue;
        }
        let Some(end) = xml[start..].find("</content>") else {
            break;
        };
        let chunk = &xml[start..start + end + "</content>".len()];
        out.push((
            attr(chunk, "content", "name").unwrap_or_default(),
            chunk.to_string(),
        ));
        from = start + end;
    }
    out
}

/// The first `<name …>…</name>` (or `<name …/>`) block.
fn block<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{name} "))?;
    let rest = &xml[start..];
    let gt = rest.find('>')?;
    if rest[..gt].ends_with('/') {
        return Some(&rest[..=gt]);
    }
    let end = rest.find(&format!("</{name}>"))?;
    Some(&rest[..end + name.len() + 3])
}

fn sorted_attrs(attrs: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut v: Vec<_> = attrs.into_iter().filter(|(k, _)| k != "xmlns").collect();
    v.sort();
    v
}

/// A content's ICE transport, read from the XML.
fn offered_transport(content: &str) -> TransportSummary {
    let t = block(content, "transport").expect("a transport");
    let one = |name| {
        tags(t, name)
            .into_iter()
            .map(sorted_attrs)
            .collect::<Vec<_>>()
    };
    let fingerprints = one("fingerprint")
        .into_iter()
        .map(|a| (a, text(t, "fingerprint").unwrap_or_default()))
        .collect();
    TransportSummary {
        ufrag: attr(t, "transport", "ufrag"),
        pwd: attr(t, "transport", "pwd"),
        fingerprints,
        candidates: one("candidate"),
        web_sockets: one("web-socket"),
        rtcp_mux: t.contains("<rtcp-mux"),
    }
}

/// One `<source>` of an offer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Offered {
    ssrc: u32,
    name: Option<String>,
    owner: Option<String>,
    msid: Option<String>,
}

/// A content's sources (outside groups) and groups `(semantics, ssrcs)`.
fn offered_sources(content: &str) -> (Vec<Offered>, Vec<(String, Vec<u32>)>) {
    let mut rest = content.to_string();
    let mut groups = Vec::new();
    while let Some(g) = block(&rest, "ssrc-group").map(str::to_string) {
        let ssrcs = tags(&g, "source")
            .iter()
            .filter_map(|a| a.iter().find(|(k, _)| k == "ssrc")?.1.parse().ok())
            .collect();
        groups.push((
            attr(&g, "ssrc-group", "semantics").unwrap_or_default(),
            ssrcs,
        ));
        rest = rest.replacen(&g, "", 1);
    }
    let mut sources = Vec::new();
    while let Some(s) = block(&rest, "source").map(str::to_string) {
        let msid = tags(&s, "parameter")
            .into_iter()
            .find(|a| a.iter().any(|(k, v)| k == "name" && v == "msid"))
            .and_then(|a| a.into_iter().find(|(k, _)| k == "value").map(|(_, v)| v));
        sources.push(Offered {
            ssrc: attr(&s, "source", "ssrc")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            name: attr(&s, "source", "name"),
            owner: attr(&s, "ssrc-info", "owner"),
            msid,
        });
        rest = rest.replacen(&s, "", 1);
    }
    (sources, groups)
}

/// Checks an offer to `nick`: every content carries exactly `bridge`
/// transport, the data content an sctpmap; the sources are the bridge's
/// feedback sources and those of `others` (with their groups, simulcast
/// stripped), never `nick`'s own. Returns the sid.
#[track_caller]
fn check_offer(xml: &str, nick: &str, bridge: &TransportSummary, others: &[&str]) -> String {
    let cs = contents(xml);
    let names: Vec<&str> = cs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["audio", "video", "data"], "{xml}");
    for (name, c) in &cs {
        assert_eq!(
            &offered_transport(c),
            bridge,
            "{nick}'s {name} transport:\n{xml}"
        );
    }
    assert!(
        attr(&cs[2].1, "sctpmap", "number").as_deref() == Some("5000"),
        "data content without the bridge's SCTP port:\n{xml}"
    );
    for (media, c) in &cs[..2] {
        let (sources, groups) = offered_sources(c);
        let owners: Vec<&str> = sources.iter().filter_map(|s| s.owner.as_deref()).collect();
        assert!(
            !owners.contains(&nick),
            "{nick} offered its own {media} sources:\n{xml}"
        );
        assert_eq!(
            sources.len(),
            owners.len(),
            "a source without owner:\n{xml}"
        );
        let jvb: Vec<&Offered> = sources
            .iter()
            .filter(|s| s.owner.as_deref() == Some("jvb"))
            .collect();
        assert_eq!(jvb.len(), 1, "{media}: one feedback source:\n{xml}");
        for other in others {
            let theirs: Vec<&Offered> = sources
                .iter()
                .filter(|s| s.owner.as_deref() == Some(other))
                .collect();
            let want = if media == "audio" { 1 } else { 2 };
            assert_eq!(
                theirs.len(),
                want,
                "{media} sources of {other} to {nick}:\n{xml}"
            );
            let m = if media == "audio" { 'a' } else { 'v' };
            for s in &theirs {
                assert_eq!(s.name.as_deref(), Some(format!("{other}-{m}0").as_str()));
                assert_eq!(s.msid, Some(msid(other, media)), "{xml}");
            }
            if media == "video" {
                let base = ssrc_base(other);
                assert!(
                    groups.iter().all(|(s, _)| s != "SIM"),
                    "{other}'s SIM group to {nick} (strip-simulcast):\n{xml}"
                );
                let fid = ("FID".to_string(), vec![base + 10, base + 20]);
                assert!(
                    groups.contains(&fid),
                    "{other}'s first-layer FID group to {nick}:\n{xml}"
                );
            }
        }
        let expected = 1 + others.len() * if media == "audio" { 1 } else { 2 };
        assert_eq!(sources.len(), expected, "{media} sources to {nick}:\n{xml}");
    }
    attr(xml, "jingle", "sid").expect("a sid")
}

// ------------------------------------------------------ the participant side

/// Each participant's SSRCs: audio `base+1`, video SIM `base+10..12`, RTX
/// `base+20..22`.
fn ssrc_base(nick: &str) -> u32 {
    1000 * (nick.bytes().map(u32::from).sum::<u32>() % 1000 + 1)
}

fn msid(nick: &str, media: &str) -> String {
    format!("{nick}-{media}-1 {nick}-{media}-track")
}

/// A participant's ICE transport (ICE-lite bridge: one host candidate).
fn client_transport(nick: &str, with_sctpmap: bool) -> String {
    let sctp = if with_sctpmap {
        "<sctpmap xmlns='urn:xmpp:jingle:transports:dtls-sctp:1' number='5000' \
         protocol='webrtc-datachannel' streams='1024'/>"
    } else {
        ""
    };
    format!(
        "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='{nick}U' \
         pwd='{nick}Pwd0123456789abcdef'><rtcp-mux/>\
         <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='active'>\
         AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\
         </fingerprint><candidate component='1' foundation='3151' generation='0' id='{nick}c1' \
         network='1' priority='2122260223' protocol='udp' type='host' ip='192.168.1.20' \
         port='53000'/>{sctp}</transport>"
    )
}

/// The `session-accept` a current client sends for `sid`.
fn session_accept(room: &str, nick: &str, sid: &str) -> String {
    let b = ssrc_base(nick);
    let ssma = "urn:xmpp:jingle:apps:rtp:ssma:0";
    let src = |ssrc: u32, media: &str, m: char, extra: &str| {
        format!(
            "<source xmlns='{ssma}' ssrc='{ssrc}' name='{nick}-{m}0'{extra}>\
             <parameter name='msid' value='{}'/></source>",
            msid(nick, media)
        )
    };
    let mut video = String::new();
    for k in 0..3 {
        let camera = if k == 0 { " videoType='camera'" } else { "" };
        video += &src(b + 10 + k, "video", 'v', camera);
        video += &src(b + 20 + k, "video", 'v', "");
    }
    video += &format!(
        "<ssrc-group xmlns='{ssma}' semantics='SIM'><source ssrc='{}'/><source ssrc='{}'/>\
         <source ssrc='{}'/></ssrc-group>",
        b + 10,
        b + 11,
        b + 12
    );
    for k in 0..3 {
        video += &format!(
            "<ssrc-group xmlns='{ssma}' semantics='FID'><source ssrc='{}'/>\
             <source ssrc='{}'/></ssrc-group>",
            b + 10 + k,
            b + 20 + k
        );
    }
    let rtp = "urn:xmpp:jingle:apps:rtp:1";
    format!(
        "<iq type='set' to='{room}/focus'><jingle xmlns='urn:xmpp:jingle:1' \
         action='session-accept' sid='{sid}' responder='{room}/{nick}'>\
         <content creator='initiator' name='audio' senders='both'>\
         <description xmlns='{rtp}' media='audio'>\
         <payload-type id='111' name='opus' clockrate='48000' channels='2'/>{}<rtcp-mux/>\
         </description>{}</content>\
         <content creator='initiator' name='video' senders='both'>\
         <description xmlns='{rtp}' media='video'>\
         <payload-type id='100' name='VP8' clockrate='90000'/>{video}<rtcp-mux/>\
         </description>{}</content>\
         <content creator='initiator' name='data' senders='both'>\
         <description xmlns='{rtp}' media='application'/>{}</content>\
         <group xmlns='urn:xmpp:jingle:apps:grouping:0' semantics='BUNDLE'>\
         <content name='audio'/><content name='video'/><content name='data'/></group>\
         </jingle></iq>",
        src(b + 1, "audio", 'a', ""),
        client_transport(nick, false),
        client_transport(nick, false),
        client_transport(nick, true),
    )
}

/// Accepts the offer `sid` and asserts the focus's `result`.
#[track_caller]
fn accept(peer: &mut Peer, room: &str, nick: &str, sid: &str) {
    let r = peer.send_iq(&session_accept(room, nick, sid), T);
    assert_eq!(
        r["type"].as_str(),
        Some("result"),
        "{nick}'s session-accept: {r}"
    );
}

/// Waits until the bridge has `nick`'s transport and sources from its
/// `session-accept`, and checks them.
#[track_caller]
fn expect_accepted_on_bridge(bridge: &Bridge, nick: &str) {
    let ep = bridge.wait_for(&format!("{nick}'s transport and sources"), T, |s| {
        s.endpoint(nick)
            .filter(|e| e.remote_transport.is_some() && e.sources.sources.len() == 7)
            .cloned()
    });
    let t = ep.remote_transport.expect("checked");
    assert_eq!(t.ufrag.as_deref(), Some(format!("{nick}U").as_str()));
    assert_eq!(
        t.pwd.as_deref(),
        Some(format!("{nick}Pwd0123456789abcdef").as_str())
    );
    let fp = &t.fingerprints[0];
    assert_eq!((fp.hash(), fp.setup()), (Some("sha-256"), Some("active")));
    assert!(fp.value.starts_with("AA:BB:CC"), "{fp:?}");
    assert_eq!(t.candidates.len(), 1);
    assert_eq!(t.candidates[0].id(), Some(format!("{nick}c1").as_str()));
    let b = ssrc_base(nick);
    let audio: Vec<u32> = ep.sources.ssrcs_of(MediaType::Audio).map(|s| s.0).collect();
    assert_eq!(audio, [b + 1]);
    let mut video: Vec<u32> = ep.sources.ssrcs_of(MediaType::Video).map(|s| s.0).collect();
    video.sort();
    assert_eq!(video, [b + 10, b + 11, b + 12, b + 20, b + 21, b + 22]);
    let groups: Vec<(String, Vec<u32>)> = ep
        .sources
        .groups
        .iter()
        .map(|g| {
            (
                g.semantics.to_string(),
                g.ssrcs.iter().map(|s| s.0).collect(),
            )
        })
        .collect();
    assert!(
        groups.contains(&("SIM".into(), vec![b + 10, b + 11, b + 12])),
        "{groups:?}"
    );
    for k in 0..3 {
        assert!(
            groups.contains(&("FID".into(), vec![b + 10 + k, b + 20 + k])),
            "{groups:?}"
        );
    }
    for s in &ep.sources.sources {
        let m = if s.media == MediaType::Audio {
            'a'
        } else {
            'v'
        };
        assert_eq!(
            s.name.as_deref(),
            Some(format!("{nick}-{m}0").as_str()),
            "{s:?}"
        );
    }
}

/// The focus invites nobody until a second participant is there (§2.4):
/// `first` and `second` enter, both get an offer with `bridge`'s transport
/// for them and no participant sources (nobody has accepted yet), then
/// both accept. Returns their sids.
#[track_caller]
fn first_two(bridge: &Bridge, ps: &mut [Peer], room: &str, nicks: [&str; 2]) -> Vec<String> {
    for (peer, nick) in ps.iter_mut().zip(nicks) {
        enter(peer, room, nick);
    }
    let mut sids = Vec::new();
    for (peer, nick) in ps.iter_mut().zip(nicks) {
        let offer = expect_jingle(peer, "session-initiate", T);
        let ours = bridge.endpoint(nick).unwrap_or_else(|| {
            panic!("no endpoint {nick} on the bridge: {:?}", bridge.endpoints())
        });
        sids.push(check_offer(
            &offer,
            nick,
            &transport_summary(&ours.transport),
            &[],
        ));
        check_feedback(bridge, nick, &offer);
    }
    for ((peer, nick), sid) in ps.iter_mut().zip(nicks).zip(&sids) {
        accept(peer, room, nick, sid);
        expect_accepted_on_bridge(bridge, nick);
    }
    sids
}

/// The feedback source of each media in `offer` is the bridge's own: the
/// conference's `jvb-a0`/`jvb-v0` (Colibri2), or the bridge's SSRC on the
/// participant's channel (v1).
#[track_caller]
fn check_feedback(bridge: &Bridge, nick: &str, offer: &str) {
    let st = bridge.state();
    let conf = st.conferences.values().next().expect("a conference");
    let ep = &conf.endpoints[nick];
    let ssrcs: Vec<(&str, u32)> = if ep.channels.is_empty() {
        vec![("audio", conf.feedback.0), ("video", conf.feedback.1)]
    } else {
        ep.channels
            .iter()
            .map(|ch| {
                (
                    ch.media.name(),
                    ch.sources.as_ref().expect("the bridge's source")[0].ssrc.0,
                )
            })
            .collect()
    };
    assert_eq!(ssrcs.len(), 2);
    for (media, ssrc) in ssrcs {
        let c = &contents(offer)
            .into_iter()
            .find(|(n, _)| n == media)
            .expect("content")
            .1;
        let jvb = offered_sources(c).0.into_iter().find(|s| s.ssrc == ssrc);
        assert_eq!(
            jvb.and_then(|s| s.owner),
            Some("jvb".into()),
            "feedback {media} source {ssrc} to {nick}:\n{offer}"
        );
    }
}

/// A third participant joins a running conference: its offer carries the
/// first two's sources; it accepts.
#[track_caller]
fn third(bridge: &Bridge, peer: &mut Peer, room: &str, nick: &str, others: &[&str]) {
    enter(peer, room, nick);
    let offer = expect_jingle(peer, "session-initiate", T);
    let ours = bridge.endpoint(nick).expect("an endpoint");
    let sid = check_offer(&offer, nick, &transport_summary(&ours.transport), others);
    check_feedback(bridge, nick, &offer);
    accept(peer, room, nick, &sid);
    expect_accepted_on_bridge(bridge, nick);
}

/// No request was refused: a request the real bridge refuses for its shape
/// or content gets an error from the emulator.
#[track_caller]
fn assert_no_refusals(bridge: &Bridge) {
    for r in bridge.requests() {
        assert!(
            !r.answered_error(),
            "the bridge refused:\n{}\n-> {:?}",
            r.xml,
            r.answer
        );
    }
}

/// Starts the focus with a brewery and waits until it is in it.
#[track_caller]
fn brewery_focus(p: &Prosody, bridge: &Bridge, extra: &[&str]) -> Focus {
    let mut args = vec![BRIDGE_MUC];
    args.extend_from_slice(extra);
    let (focus, _) = focus_up(p, &args);
    bridge.wait_for("the focus in the brewery", T, |s| {
        s.brewery_occupants
            .iter()
            .any(|n| n == "focus")
            .then_some(())
    });
    focus
}

// -------------------------------------------------------------------- tests

/// §3.3, §4.2, §5.2–5.4 with a Colibri2 bridge in the brewery: three
/// participants, one after another.
#[test]
fn colibri2_bridge_three_participants_offers_accepts_and_expiry() {
    let t0 = Instant::now();
    let p = prosody();
    let bridge = Bridge::colibri2(&p, BREWERY, "jvb1", BridgeOpts::default());
    bridge.wait_ready(T);
    let _focus = brewery_focus(&p, &bridge, &[]);
    let r = room("media3");
    let nicks = ["alice", "bob", "carol"];
    let mut ps = participants(&p, nicks);
    first_two(&bridge, &mut ps[..2], &r, ["alice", "bob"]);
    third(&bridge, &mut ps[2], &r, "carol", &["alice", "bob"]);
    // What the focus asked: one create (with the room name), one endpoint
    // create per participant with the nick as id, transport + sctp and
    // the source-names capability, one update each.
    {
        let st = bridge.state();
        let reqs = st.colibri2_requests();
        let creates: Vec<_> = reqs.iter().filter(|q| q.create).collect();
        assert_eq!(creates.len(), 1, "{reqs:#?}");
        assert_eq!(creates[0].name.as_deref(), Some(r.as_str()));
        assert!(reqs.iter().all(|q| q.meeting_id == creates[0].meeting_id));
        for nick in nicks {
            let made: Vec<_> = reqs
                .iter()
                .flat_map(|q| &q.endpoints)
                .filter(|e| e.create && e.id == nick)
                .collect();
            assert_eq!(made.len(), 1, "endpoint creates for {nick}: {reqs:#?}");
            assert!(made[0].has_capability(CAP_SOURCE_NAMES));
            let t = made[0].transport.as_ref().expect("transport");
            assert!(t.sctp.is_some() && t.ice_controlling);
        }
    }
    // bob leaves: his endpoint is expired, the others stay.
    ps[1].leave(&r);
    bridge.wait_for("bob expired", T, |s| {
        let left: Vec<String> = s.endpoints().into_values().flatten().collect();
        (left == ["alice", "carol"]).then_some(())
    });
    assert!(bridge.state().expired_conferences.is_empty());
    // The last one leaving expires the conference.
    ps[0].leave(&r);
    ps[2].leave(&r);
    bridge.wait_for("the conference expired", T, |s| {
        (s.conferences.is_empty() && s.expired_conferences.len() == 1).then_some(())
    });
    assert_no_refusals(&bridge);
    println!("colibri2 three participants: {:?}", t0.elapsed());
}

/// `(ssrc, owner)` of every source (outside groups) of a Jingle request's
/// contents, sorted.
fn announced(xml: &str) -> Vec<(u32, String)> {
    let mut v: Vec<(u32, String)> = contents(xml)
        .iter()
        .flat_map(|(_, c)| offered_sources(c).0)
        .map(|s| (s.ssrc, s.owner.unwrap_or_default()))
        .collect();
    v.sort();
    v
}

/// A `source-add`/`source-remove` from `nick` in `room` for session `sid`.
fn source_update(room: &str, sid: &str, action: &str, media: &str, source: &str) -> String {
    format!(
        "<iq type='set' to='{room}/focus'><jingle xmlns='urn:xmpp:jingle:1' action='{action}' \
         sid='{sid}'><content name='{media}'><description xmlns='urn:xmpp:jingle:apps:rtp:1' \
         media='{media}'>{source}</description></content></jingle></iq>"
    )
}

/// Every Jingle request with `action` `peer` got so far, as XML.
/// Waits for a `source-add` in session `sid` announcing exactly `other`'s
/// sources as a receiver sees them with simulcast stripped: its audio,
/// first video layer and that layer's RTX.
#[track_caller]
fn expect_others_sources(peer: &mut Peer, other: &str, sid: &str) -> String {
    let xml = expect_jingle(peer, "source-add", T);
    let b = ssrc_base(other);
    let want: Vec<(u32, String)> = [b + 1, b + 10, b + 20]
        .into_iter()
        .map(|s| (s, other.to_string()))
        .collect();
    assert_eq!(announced(&xml), want, "{xml}");
    assert_eq!(attr(&xml, "jingle", "sid").as_deref(), Some(sid), "{xml}");
    xml
}

fn received(peer: &mut Peer, action: &str) -> Vec<String> {
    peer.history()
        .iter()
        .filter(|e| e.is_event("iq") && e.str_of("action") == Some(action))
        .map(|e| e.str_of("xml").unwrap_or_default().to_string())
        .collect()
}

/// §5.4–5.6 end to end: accepted sources reach the other participants as
/// `source-add` (never the owner), a `source-remove` follows, and a
/// participant announcing another participant's SSRC is refused with
/// `bad-request` and nobody hears of it; a later participant's offer has
/// exactly the valid sources.
#[test]
fn sources_reach_the_others_and_a_spoofed_ssrc_is_refused() {
    let p = prosody();
    let bridge = Bridge::colibri2(&p, BREWERY, "jvb1", BridgeOpts::default());
    bridge.wait_ready(T);
    let _focus = brewery_focus(&p, &bridge, &[]);
    let r = room("sources");
    let mut ps = participants(&p, ["alice", "bob", "carol"]);
    let sids = first_two(&bridge, &mut ps[..2], &r, ["alice", "bob"]);
    // Each got the other's sources in one source-add after the accepts
    // (simulcast stripped: audio, first video layer and its RTX).
    for (i, other) in [(0, "bob"), (1, "alice")] {
        expect_others_sources(&mut ps[i], other, &sids[i]);
    }
    // Alice shares her screen: bob hears of it, alice does not.
    let desktop = "<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='7777' name='alice-v1' \
                   videoType='desktop'><parameter name='msid' value='alice-desk-1 alice-desk-t'/></source>";
    let res = ps[0].send_iq(
        &source_update(&r, &sids[0], "source-add", "video", desktop),
        T,
    );
    assert_eq!(res["type"].as_str(), Some("result"), "{res}");
    let xml = expect_jingle(&mut ps[1], "source-add", T);
    assert_eq!(announced(&xml), [(7777, "alice".to_string())], "{xml}");
    bridge.wait_for("alice's screen on the bridge", T, |s| {
        s.endpoint("alice")
            .filter(|e| e.sources.sources.iter().any(|x| x.ssrc.0 == 7777))
            .map(|_| ())
    });
    // Bob claims alice's audio SSRC: refused, nothing changes.
    let stolen = ssrc_base("alice") + 1;
    let spoof = format!(
        "<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='{stolen}' name='bob-a1'>\
         <parameter name='msid' value='bob-spoof-1 bob-spoof-t'/></source>"
    );
    let res = ps[1].send_iq(
        &source_update(&r, &sids[1], "source-add", "audio", &spoof),
        T,
    );
    let err = assert_error(&res, "bad-request");
    assert!(err.contains("already used"), "{err}");
    // Alice stops sharing.
    let res = ps[0].send_iq(
        &source_update(
            &r,
            &sids[0],
            "source-remove",
            "video",
            "<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='7777'/>",
        ),
        T,
    );
    assert_eq!(res["type"].as_str(), Some("result"), "{res}");
    let xml = expect_jingle(&mut ps[1], "source-remove", T);
    assert_eq!(announced(&xml), [(7777, "alice".to_string())], "{xml}");
    // Carol's offer: exactly alice's and bob's valid sources.
    third(&bridge, &mut ps[2], &r, "carol", &["alice", "bob"]);
    // After carol's accept, alice and bob hear of her; by then anything
    // sent about the spoof would have arrived first.
    for peer in ps.iter_mut().take(2) {
        let xml = expect_jingle(peer, "source-add", T);
        assert!(announced(&xml).iter().all(|(_, o)| o == "carol"), "{xml}");
    }
    for (i, nick) in [(0, "alice"), (1, "bob"), (2, "carol")] {
        for xml in received(&mut ps[i], "source-add") {
            let ann = announced(&xml);
            assert!(
                !ann.iter().any(|(s, o)| *s == stolen && o == "bob"),
                "{nick} was told of the spoofed source:\n{xml}"
            );
            assert!(
                ann.iter().all(|(_, o)| o != nick),
                "{nick} was told its own sources:\n{xml}"
            );
        }
        assert!(
            received(&mut ps[i], "source-remove")
                .iter()
                .all(|x| announced(x).iter().all(|(_, o)| o != nick))
        );
    }
    let bob = bridge.endpoint("bob").expect("bob");
    assert!(bob.sources.sources.iter().all(|s| s.ssrc.0 != stolen));
    assert_eq!(bob.sources.sources.len(), 7);
    assert_no_refusals(&bridge);
}

/// §5.8–5.9 end to end: an ICE failure reported with the current bridge
/// session re-invites (terminate "moving", new offer, the other told to
/// drop and re-add the sources); a restart request re-invites without a
/// terminate, and one more right after it is rate limited.
#[test]
fn ice_failure_and_restart_requests_reinvite_through_prosody() {
    let p = prosody();
    let bridge = Bridge::colibri2(&p, BREWERY, "jvb1", BridgeOpts::default());
    bridge.wait_ready(T);
    let _focus = brewery_focus(&p, &bridge, &[]);
    let r = room("restarts");
    let mut ps = participants(&p, ["alice", "bob"]);
    let sids = first_two(&bridge, &mut ps, &r, ["alice", "bob"]);
    expect_jingle(&mut ps[0], "source-add", T);
    let jingle = |sid: &str, action: &str, inner: &str| {
        format!(
            "<iq type='set' to='{r}/focus'><jingle xmlns='urn:xmpp:jingle:1' action='{action}' \
             sid='{sid}'>{inner}</jingle></iq>"
        )
    };
    let focus_ns = "http://jitsi.org/protocol/focus";
    // A stale bridge session: acknowledged, nothing happens.
    let stale = format!(
        "<ice-state xmlns='{focus_ns}'>failed</ice-state><bridge-session xmlns='{focus_ns}' id='stale'/>"
    );
    let res = ps[1].send_iq(&jingle(&sids[1], "session-info", &stale), T);
    assert_eq!(res["type"].as_str(), Some("result"), "{res}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(received(&mut ps[1], "session-terminate").is_empty());
    assert_eq!(received(&mut ps[1], "session-initiate").len(), 1);
    // The offer's bridge-session id is what the client echoes.
    let offer = received(&mut ps[1], "session-initiate")
        .pop()
        .expect("an offer");
    let bs = attr(&offer, "bridge-session", "id").expect("a bridge-session id");
    let failed = format!(
        "<ice-state xmlns='{focus_ns}'>failed</ice-state><bridge-session xmlns='{focus_ns}' id='{bs}'/>"
    );
    let res = ps[1].send_iq(&jingle(&sids[1], "session-info", &failed), T);
    assert_eq!(res["type"].as_str(), Some("result"), "{res}");
    let term = expect_jingle(&mut ps[1], "session-terminate", T);
    assert!(term.contains("moving"), "{term}");
    let offer = expect_jingle(&mut ps[1], "session-initiate", T);
    let sid = attr(&offer, "jingle", "sid").expect("a sid");
    assert_ne!(sid, sids[1]);
    let removed = expect_jingle(&mut ps[0], "source-remove", T);
    assert!(
        announced(&removed).iter().all(|(_, o)| o == "bob"),
        "{removed}"
    );
    accept(&mut ps[1], &r, "bob", &sid);
    let added = expect_jingle(&mut ps[0], "source-add", T);
    assert!(announced(&added).iter().all(|(_, o)| o == "bob"), "{added}");
    // A restart request: no terminate from the focus, a new offer.
    let bs = attr(&offer, "bridge-session", "id").expect("a bridge-session id");
    let restart = format!("<bridge-session xmlns='{focus_ns}' id='{bs}' restart='true'/>");
    let res = ps[1].send_iq(&jingle(&sid, "session-terminate", &restart), T);
    assert_eq!(res["type"].as_str(), Some("result"), "{res}");
    let offer = expect_jingle(&mut ps[1], "session-initiate", T);
    let sid = attr(&offer, "jingle", "sid").expect("a sid");
    accept(&mut ps[1], &r, "bob", &sid);
    assert_eq!(received(&mut ps[1], "session-terminate").len(), 1);
    // At once again: rate limited, no new offer.
    let bs = attr(&offer, "bridge-session", "id").expect("a bridge-session id");
    let restart = format!("<bridge-session xmlns='{focus_ns}' id='{bs}' restart='true'/>");
    let res = ps[1].send_iq(&jingle(&sid, "session-terminate", &restart), T);
    assert_error(&res, "resource-constraint");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(received(&mut ps[1], "session-initiate").len(), 3);
    assert_no_refusals(&bridge);
}

/// §3.1, §4.1, §5.2–5.4 with a 2015 bridge: an XEP-0114 component found by
/// disco on the domain, speaking Colibri v1.
#[test]
fn colibri_v1_component_bridge_found_by_disco_serves_three_participants() {
    let t0 = Instant::now();
    let p = prosody();
    let bridge = Bridge::colibri_v1(&p, V1_JID, V1_SECRET, BridgeOpts::default());
    bridge.wait_ready(T);
    let _focus = focus_up(&p, &[FAST_DISCO]);
    bridge.wait_for("disco#info from the focus", T, |s| {
        s.received
            .iter()
            .any(|r| matches!(r.request, Request::DiscoInfo))
            .then_some(())
    });
    let r = room("media1");
    let nicks = ["alice", "bob", "carol"];
    let mut ps = participants(&p, nicks);
    first_two(&bridge, &mut ps[..2], &r, ["alice", "bob"]);
    third(&bridge, &mut ps[2], &r, "carol", &["alice", "bob"]);
    {
        let st = bridge.state();
        let reqs = st.colibri1_requests();
        assert_eq!(
            reqs.iter().filter(|q| q.id.is_none()).count(),
            1,
            "{reqs:#?}"
        );
        let conf_id = st.conferences.keys().next().expect("a conference").clone();
        assert!(
            reqs.iter()
                .skip(1)
                .all(|q| q.id.as_deref() == Some(conf_id.as_str()))
        );
        for nick in nicks {
            let ep = st.endpoint(nick).expect("endpoint");
            assert_eq!(ep.channels.len(), 2, "{nick}: an audio and a video channel");
            assert!(ep.sctp.is_some(), "{nick}: an SCTP connection");
        }
    }
    ps[1].leave(&r);
    bridge.wait_for("bob's channels expired", T, |s| {
        let left: Vec<String> = s.endpoints().into_values().flatten().collect();
        (left == ["alice", "carol"]).then_some(())
    });
    ps[0].leave(&r);
    ps[2].leave(&r);
    bridge.wait_for("the conference gone with its last channel", T, |s| {
        (s.conferences.is_empty() && s.expired_conferences.len() == 1).then_some(())
    });
    assert_no_refusals(&bridge);
    println!("colibri v1 three participants: {:?}", t0.elapsed());
}

/// §3.3, §3.6 last row: with no bridge, participants wait; when a bridge
/// joins the brewery, every waiting participant is invited on it.
#[test]
fn participants_wait_for_a_bridge_and_are_invited_when_one_joins_the_brewery() {
    let t0 = Instant::now();
    let p = prosody();
    let (mut focus, _) = focus_up(&p, &[BRIDGE_MUC]);
    let r = room("waiting");
    let mut ps = participants(&p, ["alice", "bob"]);
    enter(&mut ps[0], &r, "alice");
    enter(&mut ps[1], &r, "bob");
    for nick in ["alice", "bob"] {
        assert!(
            focus.wait_log(&format!("no operational bridge for {nick}"), T),
            "{nick} did not wait for a bridge:\n{}",
            focus.log_text()
        );
    }
    for (peer, nick) in ps.iter_mut().zip(["alice", "bob"]) {
        sync_with_focus(peer, &r);
        let offers = peer
            .history()
            .iter()
            .filter(|e| e.is_event("iq") && e.str_of("action") == Some("session-initiate"))
            .count();
        assert_eq!(offers, 0, "{nick} got an offer without a bridge");
    }
    let bridge = Bridge::colibri2(&p, BREWERY, "late", BridgeOpts::default());
    bridge.wait_ready(T);
    let mut sids = Vec::new();
    for (peer, nick) in ps.iter_mut().zip(["alice", "bob"]) {
        let offer = expect_jingle(peer, "session-initiate", T);
        let ours = bridge.transport_of(nick).expect("an endpoint");
        sids.push(check_offer(&offer, nick, &transport_summary(&ours), &[]));
    }
    for ((peer, nick), sid) in ps.iter_mut().zip(["alice", "bob"]).zip(sids) {
        accept(peer, &r, nick, &sid);
        expect_accepted_on_bridge(&bridge, nick);
    }
    assert_no_refusals(&bridge);
    println!("waiting for a bridge: {:?}", t0.elapsed());
}

/// §3.6, allocation error `graceful_shutdown`: the participant is invited
/// again on another bridge, which gets a conference of its own.
#[test]
fn graceful_shutdown_answer_moves_the_allocation_to_another_bridge() {
    let p = prosody();
    let jvb1 = Bridge::colibri2(&p, BREWERY, "jvb1", BridgeOpts::default().stress(0.1));
    let jvb2 = Bridge::colibri2(
        &p,
        BREWERY,
        "jvb2",
        BridgeOpts::default()
            .stress(0.3)
            .addresses("10.0.2.17", "203.0.113.8"),
    );
    jvb1.wait_ready(T);
    jvb2.wait_ready(T);
    jvb1.fail_allocations(Fault::GracefulShutdown, 1);
    let _focus = brewery_focus(&p, &jvb1, &[]);
    let r = room("moving");
    let mut ps = participants(&p, ["alice", "bob"]);
    first_two(&jvb2, &mut ps, &r, ["alice", "bob"]);
    // jvb1 refused the conference; the other endpoint, when asked for
    // before that answer came, found no conference there, and neither did
    // the conference expire the focus sends when it drops the session (as
    // Jicofo's removeSession does). Nothing else went to jvb1.
    let st = jvb1.state();
    assert!(st.conferences.is_empty());
    let asked: Vec<_> = st
        .received
        .iter()
        .filter(|r| r.colibri2().is_some())
        .collect();
    let answers: Vec<&str> = asked
        .iter()
        .map(|r| r.answer.as_deref().unwrap_or(""))
        .collect();
    assert!(matches!(answers.len(), 1..=3), "{asked:#?}");
    assert!(answers[0].contains("graceful_shutdown"), "{answers:?}");
    assert!(
        answers[1..]
            .iter()
            .all(|a| a.contains("conference_not_found")),
        "{answers:?}"
    );
    assert_no_refusals(&jvb2);
}

/// §3.6, a bridge that crashes (leaves the brewery without a goodbye): its
/// participants are moved (`session-terminate` "moving", then a new offer
/// with the other bridge's transport) within 15 s, and once they accept
/// on the new bridge their sources are signalled to each other again.
#[test]
fn participants_move_when_their_bridge_crashes() {
    let p = prosody();
    let jvb1 = Bridge::colibri2(&p, BREWERY, "jvb1", BridgeOpts::default().stress(0.1));
    let jvb2 = Bridge::colibri2(
        &p,
        BREWERY,
        "jvb2",
        BridgeOpts::default()
            .stress(0.3)
            .addresses("10.0.2.17", "203.0.113.8"),
    );
    jvb1.wait_ready(T);
    jvb2.wait_ready(T);
    let _focus = brewery_focus(&p, &jvb1, &[]);
    let r = room("crash");
    let mut ps = participants(&p, ["alice", "bob"]);
    first_two(&jvb1, &mut ps, &r, ["alice", "bob"]);
    // Each knows the other's sources before the crash.
    for peer in ps.iter_mut() {
        expect_jingle(peer, "source-add", T);
    }
    let crashed = std::time::Instant::now();
    jvb1.crash();
    let mut sids = Vec::new();
    for (i, nick) in ["alice", "bob"].into_iter().enumerate() {
        let bye = expect_jingle(&mut ps[i], "session-terminate", T);
        assert!(bye.contains("<success") && bye.contains("moving"), "{bye}");
        let offer = expect_jingle(&mut ps[i], "session-initiate", T);
        let ours = jvb2.transport_of(nick).expect("on jvb2");
        check_offer(&offer, nick, &transport_summary(&ours), &[]);
        sids.push(attr(&offer, "jingle", "sid").expect("sid"));
    }
    // Every participant has its new session within 15 s of the crash.
    assert!(
        crashed.elapsed() < Duration::from_secs(15),
        "{:?}",
        crashed.elapsed()
    );
    // Both accept on jvb2; their sources reach jvb2 and are signalled to
    // the other again, in the new sessions.
    for (i, nick) in ["alice", "bob"].into_iter().enumerate() {
        accept(&mut ps[i], &r, nick, &sids[i]);
    }
    for nick in ["alice", "bob"] {
        expect_accepted_on_bridge(&jvb2, nick);
    }
    for (i, other) in [(0, "bob"), (1, "alice")] {
        expect_others_sources(&mut ps[i], other, &sids[i]);
    }
    assert_no_refusals(&jvb2);
}

/// The emulator itself, driven by an independent client in the brewery:
/// it refuses what jitsi-videobridge refuses, with its errors.
#[test]
fn emulated_colibri2_bridge_answers_as_jitsi_videobridge() {
    let p = prosody();
    let bridge = Bridge::colibri2(&p, BREWERY, "jvb1", BridgeOpts::default());
    bridge.wait_ready(T);
    let mut probe = peer(&p, Login::guest().label("probe"));
    join_ok(&mut probe, BREWERY, "probe");
    let to = bridge.jid().to_string();
    let mut ask = |body: &str| {
        probe.send_iq(
            &format!("<iq type='get' to='{to}'>{body}</iq>"),
            Duration::from_secs(3),
        )
    };
    let c2 = "xmlns='jitsi:colibri2'";
    let ep = |id: &str, extra: &str| {
        format!(
            "<endpoint id='{id}' create='true'><transport ice-controlling='true'><sctp/></transport>\
             <sources/>{extra}</endpoint>"
        )
    };
    let caps = format!("<capability name='{CAP_SOURCE_NAMES}'/>");
    // Unknown meeting without create.
    let r = ask(&format!(
        "<conference-modify {c2} meeting-id='m1'>{}</conference-modify>",
        ep("a", &caps)
    ));
    let xml = assert_error(&r, "item-not-found");
    assert!(xml.contains("conference_not_found"), "{xml}");
    // Create without the source-names capability: bad-request, but the
    // conference exists afterwards.
    let r = ask(&format!(
        "<conference-modify {c2} meeting-id='m1' name='r@conference.meet.test' create='true'>{}</conference-modify>",
        ep("a", "")
    ));
    assert_error(&r, "bad-request");
    let r = ask(&format!(
        "<conference-modify {c2} meeting-id='m1' name='r@conference.meet.test' create='true'>{}</conference-modify>",
        ep("a", &caps)
    ));
    let xml = assert_error(&r, "conflict");
    assert!(xml.contains("conference_already_exists"), "{xml}");
    // Two endpoint creates in one request.
    let r = ask(&format!(
        "<conference-modify {c2} meeting-id='m1'>{}{}</conference-modify>",
        ep("a", &caps),
        ep("b", &caps)
    ));
    let xml = assert_error(&r, "feature-not-implemented");
    assert!(xml.contains("feature_not_implemented"), "{xml}");
    // A good endpoint create: transport, sctp, feedback sources.
    let r = ask(&format!(
        "<conference-modify {c2} meeting-id='m1'>{}</conference-modify>",
        ep("a", &caps)
    ));
    assert_eq!(r["type"].as_str(), Some("result"), "{r}");
    let xml = r["xml"].as_str().unwrap_or_default().to_string();
    let ours = bridge.transport_of("a").expect("endpoint a");
    let ufrags: Vec<String> = tags(&xml, "transport")
        .into_iter()
        .filter_map(|a| a.into_iter().find(|(k, _)| k == "ufrag").map(|(_, v)| v))
        .collect();
    assert_eq!(ufrags, [ours.ufrag.as_deref().unwrap_or_default()], "{xml}");
    assert_eq!(
        attr(&xml, "fingerprint", "setup").as_deref(),
        Some("actpass")
    );
    assert_eq!(tags(&xml, "candidate").len(), 2, "{xml}");
    assert_eq!(attr(&xml, "sctp", "port").as_deref(), Some("5000"), "{xml}");
    assert!(xml.contains("jvb-a0") && xml.contains("jvb-v0"), "{xml}");
    // An update for an unknown endpoint.
    let r = ask(&format!(
        "<conference-modify {c2} meeting-id='m1'><endpoint id='zz'><sources/></endpoint></conference-modify>"
    ));
    let xml = assert_error(&r, "item-not-found");
    assert!(xml.contains("unknown_endpoint"), "{xml}");
    // Expiring the last endpoint expires the conference.
    let r = ask(&format!(
        "<conference-modify {c2} meeting-id='m1'><endpoint id='a' expire='true'/></conference-modify>"
    ));
    assert_eq!(r["type"].as_str(), Some("result"), "{r}");
    let r = ask(&format!(
        "<conference-modify {c2} meeting-id='m1' expire='true'/>"
    ));
    let xml = assert_error(&r, "item-not-found");
    assert!(xml.contains("conference_not_found"), "{xml}");
    // Health checks, then silence.
    let hc = "<healthcheck xmlns='http://jitsi.org/protocol/healthcheck'/>";
    assert_eq!(ask(hc)["type"].as_str(), Some("result"));
    bridge.fail_health(Some(jicofo::stanza::Condition::InternalServerError));
    assert_error(&ask(hc), "internal-server-error");
    bridge.set_silent(true);
    assert_eq!(ask(hc)["type"].as_str(), Some("timeout"));
}

/// §3.6, allocation timeout: a bridge that never answers is given up after
/// the reply timeout, and the participants are invited on another bridge.
#[test]
fn silent_bridge_times_out_and_participants_go_to_another() {
    let p = prosody();
    let jvb1 = Bridge::colibri2(&p, BREWERY, "jvb1", BridgeOpts::default().stress(0.1));
    let jvb2 = Bridge::colibri2(
        &p,
        BREWERY,
        "jvb2",
        BridgeOpts::default()
            .stress(0.3)
            .addresses("10.0.2.17", "203.0.113.8"),
    );
    jvb1.wait_ready(T);
    jvb2.wait_ready(T);
    jvb1.set_silent(true);
    let _focus = brewery_focus(&p, &jvb1, &["-Djicofo.xmpp.client.reply-timeout=2000"]);
    let r = room("silent");
    let mut ps = participants(&p, ["alice", "bob"]);
    first_two(&jvb2, &mut ps, &r, ["alice", "bob"]);
    let st = jvb1.state();
    assert!(st.conferences.is_empty());
    let asked: Vec<_> = st
        .received
        .iter()
        .filter(|r| r.colibri2().is_some())
        .collect();
    assert!(
        !asked.is_empty() && asked.iter().all(|r| r.answer.is_none()),
        "{asked:#?}"
    );
    assert_no_refusals(&jvb2);
}

/// §3.6, `unknown_endpoint` on an update: only that participant is invited
/// again (a new endpoint, a new offer); the others keep their sessions.
#[test]
fn unknown_endpoint_on_an_update_reinvites_only_that_participant() {
    let p = prosody();
    let bridge = Bridge::colibri2(&p, BREWERY, "jvb1", BridgeOpts::default());
    bridge.wait_ready(T);
    let _focus = brewery_focus(&p, &bridge, &[]);
    let r = room("unknown");
    let mut ps = participants(&p, ["alice", "bob", "carol"]);
    first_two(&bridge, &mut ps[..2], &r, ["alice", "bob"]);
    bridge.fail_updates(Fault::UnknownEndpoint, 1);
    let carol = &mut ps[2];
    enter(carol, &r, "carol");
    let offer = expect_jingle(carol, "session-initiate", T);
    let first = bridge.transport_of("carol").expect("carol's endpoint");
    let sid = check_offer(
        &offer,
        "carol",
        &transport_summary(&first),
        &["alice", "bob"],
    );
    accept(carol, &r, "carol", &sid);
    let bye = expect_jingle(carol, "session-terminate", T);
    assert!(bye.contains(&sid) && bye.contains("moving"), "{bye}");
    let offer = expect_jingle(carol, "session-initiate", T);
    let second = bridge.transport_of("carol").expect("carol's new endpoint");
    assert_ne!(first.ufrag, second.ufrag, "a new endpoint, a new transport");
    let sid = check_offer(
        &offer,
        "carol",
        &transport_summary(&second),
        &["alice", "bob"],
    );
    accept(carol, &r, "carol", &sid);
    expect_accepted_on_bridge(&bridge, "carol");
    for (peer, nick) in ps[..2].iter_mut().zip(["alice", "bob"]) {
        sync_with_focus(peer, &r);
        let ends = peer
            .history()
            .iter()
            .filter(|e| e.is_event("iq") && e.str_of("action") == Some("session-terminate"))
            .count();
        assert_eq!(ends, 0, "{nick}'s session must stay");
    }
}

/// Both discovery paths at once (§3.1 and §3.3): a draining brewery bridge
/// and a disco-found component. The conference goes to the component
/// (non-draining first); when the component goes away, its participants
/// move to the brewery bridge, from Colibri v1 to Colibri2.
#[test]
fn both_discovery_paths_at_once_and_a_move_from_v1_to_colibri2() {
    let p = prosody();
    let v1 = Bridge::colibri_v1(&p, V1_JID, V1_SECRET, BridgeOpts::default());
    let c2 = Bridge::colibri2(
        &p,
        BREWERY,
        "jvb2",
        BridgeOpts::default()
            .drain(true)
            .addresses("10.0.2.17", "203.0.113.8"),
    );
    v1.wait_ready(T);
    c2.wait_ready(T);
    let _focus = brewery_focus(&p, &c2, &[FAST_DISCO]);
    v1.wait_for("disco#info from the focus", T, |s| {
        s.received
            .iter()
            .any(|r| matches!(r.request, Request::DiscoInfo))
            .then_some(())
    });
    let r = room("both");
    let mut ps = participants(&p, ["alice", "bob"]);
    first_two(&v1, &mut ps, &r, ["alice", "bob"]);
    assert!(c2.state().colibri2_requests().is_empty());
    v1.crash();
    for (peer, nick) in ps.iter_mut().zip(["alice", "bob"]) {
        let bye = expect_jingle(peer, "session-terminate", T);
        assert!(bye.contains("moving"), "{bye}");
        let offer = expect_jingle(peer, "session-initiate", T);
        let ours = c2.transport_of(nick).expect("on the brewery bridge");
        check_offer(&offer, nick, &transport_summary(&ours), &[]);
    }
    assert_no_refusals(&c2);
}
