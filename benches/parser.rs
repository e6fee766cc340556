//! Parser throughput and allocations, against raw quick-xml on the same bytes.
//!
//! `cargo bench --bench parser` (add `-- --quick` for a short run; run
//! without `--bench`, as `cargo test --all-targets` does, it makes one short
//! round only).
//!
//! The corpus is one XMPP stream of realistic Jitsi stanzas (protocol.md
//! §3.3, §4.2, §5.3, §5.4): bridge brewery presences with colibri stats, a
//! full current Jingle `session-initiate`, a `session-accept`, Colibri2
//! `conference-modify` / `conference-modified`, MUC presences and small IQs.
//! Measured over exactly the same bytes:
//!
//! * baseline: `quick_xml::Reader::from_str` over the whole stream, every
//!   event read, every start tag's attributes iterated;
//! * ours, whole: `Framer` over the stream pushed at once, `Parser::parse` of
//!   every frame, and a light walk of each tree (count elements, read one
//!   attribute);
//! * ours, 1500-byte reads: the same, the stream pushed as a socket would.
//!
//! Time is the bench thread's on-CPU time (Linux schedstat; wall time
//! elsewhere), so that waiting for a core shared with other work does not
//! count. Each round runs the three back to back so that load from other
//! work hits them alike: throughput is the median over rounds, the
//! ratio the median of the per-round ratios, IQR the interquartile range of
//! the round times relative to their median. Allocations are counted by a
//! wrapper around the system allocator, for one pass after a warm-up pass.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use jicofo::xml::{El, Frame, Framer, Parser, framer::DEFAULT_MAX_FRAME, ns};

// ---------------------------------------------------------------------------
// Allocation counting.

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static ALLOC_BYTES: AtomicU64 = AtomicU64::new(0);

/// Counts allocations, then forwards to the system allocator.
struct Counting;

// `GlobalAlloc` is an unsafe trait, so a counting allocator cannot be written
// without `unsafe`. This bench binary is the only place that does it; the
// crate itself keeps `#![forbid(unsafe_code)]`. Each method only forwards its
// arguments to `System`, whose contract is the same as ours.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        ALLOC_BYTES.fetch_add(layout.size() as u64, Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        ALLOC_BYTES.fetch_add(layout.size() as u64, Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        ALLOC_BYTES.fetch_add(new_size as u64, Relaxed);
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn alloc_counts() -> (u64, u64) {
    (ALLOCS.load(Relaxed), ALLOC_BYTES.load(Relaxed))
}

// ---------------------------------------------------------------------------
// The corpus.

const FOCUS: &str = "focus@auth.meet.example.com/focus";
const ROOM: &str = "lively-tiger-42@conference.meet.example.com";
const BRIDGE: &str = "jvbbrewery@internal.auth.meet.example.com/jvb-7f3c";

fn bridge_presence(i: usize) -> String {
    let stats: &[(&str, String)] = &[
        ("stress_level", format!("0.{:02}", 10 + i % 80)),
        ("average_participant_stress", "0.005".into()),
        ("region", "eu-west-1".into()),
        ("relay_id", format!("10.0.1.{}", 17 + i % 3)),
        ("version", "2.3.210-g6e33a8f6".into()),
        ("release", "1234".into()),
        ("graceful_shutdown", "false".into()),
        ("shutting_down", "false".into()),
        ("drain", "false".into()),
        ("healthy", "true".into()),
        ("conferences", format!("{}", 12 + i % 5)),
        ("participants", format!("{}", 57 + i % 9)),
        ("current_timestamp", "2026-05-16 10:42:17.203".into()),
    ];
    let mut s = format!(
        "<presence from='jvbbrewery@internal.auth.meet.example.com/jvb-{}' to='{FOCUS}'>\
         <stats xmlns='http://jitsi.org/protocol/colibri'>",
        ["7f3c", "2a91", "c0de"][i % 3]
    );
    for (k, v) in stats {
        s += &format!("<stat name='{k}' value='{v}'/>");
    }
    s += "</stats><x xmlns='http://jabber.org/protocol/muc#user'>\
          <item affiliation='none' role='participant'/></x></presence>";
    s
}

/// An ICE-UDP transport as the bridge returns it, with 4 candidates.
fn ice_transport(extra: &str) -> String {
    format!(
        "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='8vbq01hdp1la2' \
         pwd='4bq0n2l5bd5m4ajd4j0b1k0a7c'><rtcp-mux/>\
         <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>\
         1A:2B:3C:4D:5E:6F:70:81:92:A3:B4:C5:D6:E7:F8:09:1A:2B:3C:4D:5E:6F:70:81:92:A3:B4:C5:D6:E7:F8:09\
         </fingerprint>\
         <candidate component='1' foundation='1' generation='0' id='6e4b1f2a01' network='0' \
         priority='2130706431' protocol='udp' type='host' ip='10.0.1.17' port='10000'/>\
         <candidate component='1' foundation='2' generation='0' id='6e4b1f2a02' network='0' \
         priority='1694498815' protocol='udp' type='srflx' ip='203.0.113.17' port='10000' \
         rel-addr='10.0.1.17' rel-port='10000'/>\
         <candidate component='1' foundation='3' generation='0' id='6e4b1f2a03' network='0' \
         priority='2130706175' protocol='udp' type='host' ip='fd00:1::17' port='10000'/>\
         <candidate component='1' foundation='4' generation='0' id='6e4b1f2a04' network='0' \
         priority='16777215' protocol='udp' type='relay' ip='198.51.100.9' port='3478' \
         rel-addr='203.0.113.17' rel-port='10000'/>{extra}</transport>"
    )
}

fn source(ssrc: u32, name: &str, owner: &str, msid: &str, video: bool) -> String {
    let vt = if video { " videoType='camera'" } else { "" };
    format!(
        "<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='{ssrc}' name='{name}'{vt}>\
         <ssrc-info xmlns='http://jitsi.org/jitmeet' owner='{owner}'/>\
         <parameter name='msid' value='{msid}'/></source>"
    )
}

fn group(semantics: &str, ssrcs: &[u32]) -> String {
    let mut s =
        format!("<ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='{semantics}'>");
    for x in ssrcs {
        s += &format!("<source ssrc='{x}'/>");
    }
    s + "</ssrc-group>"
}

const FB: &str = "<rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='ccm' subtype='fir'/>\
    <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='nack'/>\
    <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='nack' subtype='pli'/>\
    <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='transport-cc'/>";

fn hdrext(id: u32, uri: &str) -> String {
    format!("<rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' id='{id}' uri='{uri}'/>")
}

/// The full current offer (§5.3): audio, video and data, the remote sources
/// of a participant with simulcast and RTX, the bridge's feedback sources.
fn session_initiate(n: u32) -> String {
    let to = format!("{ROOM}/abcd{n:04}");
    let mut audio_src = source(
        411312308,
        "jvb-a0",
        "jvb",
        "mixedmslabel mixedlabelaudio0",
        false,
    );
    let mut video_src = source(
        2917553204,
        "jvb-v0",
        "jvb",
        "mixedmslabel mixedlabelvideo0",
        true,
    );
    for (p, ep) in ["ef567890"].iter().enumerate() {
        let base = 1000 * (p as u32 + 1);
        audio_src += &source(
            base + 900,
            &format!("{ep}-a0"),
            ep,
            &format!("{ep}-audio-0 {ep}-a-track"),
            false,
        );
        let ssrcs: Vec<u32> = (1..=6).map(|k| base + k).collect();
        for s in &ssrcs {
            video_src += &source(
                *s,
                &format!("{ep}-v0"),
                ep,
                &format!("{ep}-video-0 {ep}-v-track"),
                true,
            );
        }
        video_src += &group("SIM", &ssrcs[..3]);
        for k in 0..3 {
            video_src += &group("FID", &[ssrcs[k], ssrcs[k + 3]]);
        }
    }
    let video_codecs: String = [
        (41, "AV1", ""),
        (100, "VP8", ""),
        (107, "H264", "h"),
        (101, "VP9", ""),
    ]
    .iter()
    .map(|(id, name, fmtp)| {
        let p = if fmtp.is_empty() {
            String::new()
        } else {
            "<parameter name='profile-level-id' value='42e01f'/>\
                 <parameter name='level-asymmetry-allowed' value='1'/>\
                 <parameter name='packetization-mode' value='1'/>"
                .to_string()
        };
        format!("<payload-type id='{id}' name='{name}' clockrate='90000'>{p}{FB}</payload-type>")
    })
    .chain(
        [(42, 41), (96, 100), (97, 101), (99, 107)]
            .iter()
            .map(|(id, apt)| {
                format!(
                    "<payload-type id='{id}' name='rtx' clockrate='90000'>\
                 <parameter name='apt' value='{apt}'/></payload-type>"
                )
            }),
    )
    .collect();
    format!(
        "<iq type='set' id='jingle-{n}' from='{FOCUS}' to='{to}'>\
         <jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' initiator='{FOCUS}' sid='7j2qv0l1d9kc{n}'>\
         <content creator='initiator' name='audio' senders='both'>\
         <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio' maxptime='60'>\
         <payload-type id='111' name='opus' clockrate='48000' channels='2'>\
         <parameter name='minptime' value='10'/><parameter name='useinbandfec' value='1'/>\
         <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='transport-cc'/></payload-type>\
         <payload-type id='126' name='telephone-event' clockrate='8000'/>\
         {}{}{}\
         <extmap-allow-mixed xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/><rtcp-mux/>{audio_src}\
         </description>{}</content>\
         <content creator='initiator' name='video' senders='both'>\
         <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'>{video_codecs}\
         {}{}{}{}\
         <extmap-allow-mixed xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/><rtcp-mux/>{video_src}\
         </description>{}</content>\
         <content creator='initiator' name='data' senders='both'>\
         <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='application'/>{}</content>\
         <group xmlns='urn:xmpp:jingle:apps:grouping:0' semantics='BUNDLE'>\
         <content name='audio'/><content name='video'/><content name='data'/></group>\
         <bridge-session xmlns='http://jitsi.org/protocol/focus' id='a4f2c1d0-8e7b-4c3a-9f10-5d6e7f8a9b0c' region='eu-west-1'/>\
         </jingle></iq>",
        hdrext(1, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
        hdrext(10, "urn:ietf:params:rtp-hdrext:sdes:mid"),
        hdrext(
            5,
            "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
        ),
        ice_transport(""),
        hdrext(
            11,
            "https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension"
        ),
        hdrext(10, "urn:ietf:params:rtp-hdrext:sdes:mid"),
        hdrext(
            3,
            "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
        ),
        hdrext(
            5,
            "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
        ),
        ice_transport(""),
        ice_transport(
            "<sctpmap xmlns='urn:xmpp:jingle:transports:dtls-sctp:1' number='5000' \
             protocol='webrtc-datachannel' streams='1024'/>"
        ),
    )
}

fn session_accept(n: u32) -> String {
    let ep = format!("abcd{n:04}");
    let transport = "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='Xy7q' \
        pwd='f0a1b2c3d4e5f60718293a4b'>\
        <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='active'>\
        AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\
        </fingerprint>\
        <candidate component='1' foundation='3151' generation='0' id='c1' network='1' \
        priority='2122260223' protocol='udp' type='host' ip='192.168.1.20' port='53000'/>\
        <candidate component='1' foundation='842' generation='0' id='c2' network='1' \
        priority='1686052607' protocol='udp' type='srflx' ip='198.51.100.77' port='53000' \
        rel-addr='192.168.1.20' rel-port='53000'/></transport>";
    let mut video = String::new();
    for k in 1..=6u32 {
        video += &format!(
            "<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='{}' name='{ep}-v0' videoType='camera'>\
             <parameter name='msid' value='{ep}-video-1 v1-track'/></source>",
            2000 + k
        );
    }
    video += &group("SIM", &[2001, 2002, 2003]);
    for k in 1..=3 {
        video += &group("FID", &[2000 + k, 2003 + k]);
    }
    format!(
        "<iq type='set' id='acc{n}' to='{ROOM}/focus' from='{ROOM}/{ep}'>\
         <jingle xmlns='urn:xmpp:jingle:1' action='session-accept' sid='7j2qv0l1d9kc{n}' \
         initiator='{FOCUS}' responder='{ROOM}/{ep}'>\
         <content creator='initiator' name='audio' senders='both'>\
         <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>\
         <payload-type id='111' name='opus' clockrate='48000' channels='2'>\
         <parameter name='minptime' value='10'/><parameter name='useinbandfec' value='1'/></payload-type>\
         <payload-type id='126' name='telephone-event' clockrate='8000'/>{}\
         <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='4011122233' name='{ep}-a0'>\
         <parameter name='msid' value='{ep}-audio-1 a1b2-track'/></source><rtcp-mux/>\
         </description>{transport}</content>\
         <content creator='initiator' name='video' senders='both'>\
         <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'>\
         <payload-type id='100' name='VP8' clockrate='90000'>{FB}</payload-type>\
         <payload-type id='96' name='rtx' clockrate='90000'><parameter name='apt' value='100'/></payload-type>\
         {video}<rtcp-mux/></description>{transport}</content>\
         <content creator='initiator' name='data' senders='both'>\
         <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='application'/>{transport}</content>\
         <group xmlns='urn:xmpp:jingle:apps:grouping:0' semantics='BUNDLE'>\
         <content name='audio'/><content name='video'/><content name='data'/></group>\
         </jingle></iq>",
        hdrext(1, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
    )
}

/// Colibri2 endpoint create (§4.2), as the bridge receives it.
fn conference_modify(n: u32) -> String {
    format!(
        "<iq type='get' id='colibri{n}' from='{FOCUS}' to='{BRIDGE}'>\
         <conference-modify xmlns='jitsi:colibri2' meeting-id='5d2b6a18-4c1f-4e3e-9f7a-0a3c2e1b9d44' \
         name='{ROOM}' create='true'>\
         <endpoint id='abcd{n:04}' create='true' stats-id='Alice-x1y'>\
         <media type='audio'>\
         <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='111' name='opus' clockrate='48000' channels='2'>\
         <parameter name='minptime' value='10'/><parameter name='useinbandfec' value='1'/>\
         <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='transport-cc'/></payload-type>\
         <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='126' name='telephone-event' clockrate='8000'/>\
         {}{}<extmap-allow-mixed xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/></media>\
         <media type='video'>\
         <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='100' name='VP8' clockrate='90000'>{FB}</payload-type>\
         <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='96' name='rtx' clockrate='90000'>\
         <parameter name='apt' value='100'/></payload-type>\
         <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='101' name='VP9' clockrate='90000'>{FB}</payload-type>\
         <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='97' name='rtx' clockrate='90000'>\
         <parameter name='apt' value='101'/></payload-type>{}{}</media>\
         <transport ice-controlling='true'><sctp/></transport><sources/>\
         <capability name='source-names'/><capability name='ssrc-rewriting'/></endpoint>\
         </conference-modify></iq>",
        hdrext(1, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
        hdrext(
            5,
            "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
        ),
        hdrext(
            3,
            "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
        ),
        hdrext(
            5,
            "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
        ),
    )
}

fn conference_modified(n: u32) -> String {
    format!(
        "<iq type='result' id='colibri{n}' from='{BRIDGE}' to='{FOCUS}'>\
         <conference-modified xmlns='jitsi:colibri2' meeting-id='5d2b6a18-4c1f-4e3e-9f7a-0a3c2e1b9d44'>\
         <endpoint id='abcd{n:04}'><transport>{}<sctp port='5000' role='server'/></transport></endpoint>\
         <sources><media-source type='audio' id='jvb-a0'>\
         <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='411312308' name='jvb-a0'/></media-source>\
         <media-source type='video' id='jvb-v0'>\
         <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='2917553204' name='jvb-v0'/></media-source>\
         </sources></conference-modified></iq>",
        ice_transport(
            "<web-socket xmlns='http://jitsi.org/protocol/colibri' \
             url='wss://meet.example.com/colibri-ws/default-id/5d2b6a18/abcd?pwd=4bq0n2l5bd5m4ajd4j0b1k0a7c'/>"
        ),
    )
}

fn muc_presence(n: u32) -> String {
    format!(
        "<presence from='{ROOM}/abcd{n:04}' to='{FOCUS}'>\
         <stats-id>Alice-x1y</stats-id><region xmlns='http://jitsi.org/jitsi-meet' id='eu-west-1'/>\
         <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://jitsi.org/jitsi-meet' \
         ver='cvjWXufsg4xT62Ec2mlATkFZ9lk='/>\
         <jitsi_participant_region>eu-west-1</jitsi_participant_region>\
         <jitsi_participant_codecList>av1,vp9,vp8,h264</jitsi_participant_codecList>\
         <nick xmlns='http://jabber.org/protocol/nick'>Zoë &amp; friends</nick>\
         <SourceInfo>{{\"abcd{n:04}-a0\":{{\"muted\":true}},\"abcd{n:04}-v0\":{{\"muted\":false,\"videoType\":\"camera\"}}}}</SourceInfo>\
         <audiomuted>true</audiomuted><videomuted>false</videomuted>\
         <x xmlns='http://jabber.org/protocol/muc#user'>\
         <item affiliation='none' jid='a1b2c3{n}@guest.meet.example.com/web-{n}' role='participant'/></x>\
         </presence>"
    )
}

fn focus_self_presence() -> String {
    format!(
        "<presence from='{ROOM}/focus' to='{FOCUS}'>\
         <etherpad xmlns='http://jitsi.org/jitmeet/etherpad'>lively-tiger-42</etherpad>\
         <versions xmlns='http://jitsi.org/jitmeet'><component name='focus'>1.0-1-g0000000</component></versions>\
         <conference-properties xmlns='http://jitsi.org/protocol/focus'>\
         <property key='support-terminate-restart' value='true'/><property key='bridge-count' value='1'/>\
         </conference-properties>\
         <x xmlns='http://jabber.org/protocol/muc#user'>\
         <item affiliation='owner' role='moderator' jid='{FOCUS}'/><status code='110'/></x></presence>"
    )
}

fn small_iqs(n: u32) -> Vec<String> {
    vec![
        format!("<iq type='result' id='jingle-{n}' from='{ROOM}/abcd{n:04}' to='{FOCUS}'/>"),
        format!(
            "<iq type='get' id='ping-{n}' from='meet.example.com' to='{FOCUS}'><ping xmlns='urn:xmpp:ping'/></iq>"
        ),
        format!(
            "<iq type='get' id='disco{n}' from='{ROOM}/abcd{n:04}' to='{FOCUS}'>\
             <query xmlns='http://jabber.org/protocol/disco#info'/></iq>"
        ),
        format!(
            "<iq type='set' id='conf{n}' from='a1b2c3{n}@guest.meet.example.com/web-{n}' \
             to='focus.meet.example.com'><conference xmlns='http://jitsi.org/protocol/focus' \
             room='{ROOM}' machine-uid='d41d8cd98f00b204e9800998ecf8427e'>\
             <property name='disableRtx' value='false'/><property name='startBitrate' value='800'/>\
             </conference></iq>"
        ),
    ]
}

/// The stream: header, `rounds` rounds of a conference's worth of traffic, close.
fn corpus(rounds: u32) -> (String, usize, Vec<(&'static str, usize)>) {
    let mut s = String::from(
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
         xmlns:stream='http://etherx.jabber.org/streams' id='c2s-4f2a' from='meet.example.com' \
         version='1.0' xml:lang='en'>",
    );
    let mut stanzas = 0;
    let mut sizes = vec![
        ("bridge presence", bridge_presence(0).len()),
        ("session-initiate", session_initiate(1).len()),
        ("session-accept", session_accept(1).len()),
        ("conference-modify", conference_modify(1).len()),
        ("conference-modified", conference_modified(1).len()),
        ("MUC presence", muc_presence(1).len()),
    ];
    sizes.push((
        "small IQ (avg)",
        small_iqs(1).iter().map(|s| s.len()).sum::<usize>() / 4,
    ));
    for r in 0..rounds {
        let mut add = |x: String| {
            s += &x;
            stanzas += 1;
        };
        for b in 0..3 {
            add(bridge_presence((r * 3 + b) as usize));
        }
        add(focus_self_presence());
        for p in 0..4 {
            let n = r * 4 + p;
            add(muc_presence(n));
            add(conference_modify(n));
            add(conference_modified(n));
            add(session_initiate(n));
            for iq in small_iqs(n) {
                add(iq);
            }
            add(session_accept(n));
        }
        s += " "; // a keep-alive
    }
    s += "</stream:stream>";
    (s, stanzas, sizes)
}

// ---------------------------------------------------------------------------
// The workloads. Each returns a checksum so the work cannot be optimised away.

fn baseline(stream: &str) -> u64 {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(stream);
    r.config_mut().trim_text(false);
    let mut sum = 0u64;
    loop {
        match r.read_event().expect("the corpus is well-formed") {
            Event::Start(e) | Event::Empty(e) => {
                sum += 1;
                // Without duplicate checks, like our parser's own scan (it
                // checks duplicates itself): the cheaper baseline.
                for a in e.attributes().with_checks(false) {
                    let a = a.expect("well-formed attribute");
                    sum += (a.key.as_ref().len() + a.value.len()) as u64;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    sum
}

fn walk(el: El<'_>) -> u64 {
    1 + el.children().map(walk).sum::<u64>()
}

/// Handles every frame the framer has; returns (checksum, stanzas).
fn drain(framer: &mut Framer, parser: &mut Parser) -> (u64, usize) {
    let mut sum = 0;
    let mut stanzas = 0;
    while let Some(frame) = framer.next_frame().expect("the corpus frames") {
        match frame {
            Frame::StreamOpen(r) => {
                let doc = parser.parse_open_tag(framer.bytes(r)).expect("header");
                sum += doc.root().attr_raw("id").map_or(0, |v| v.len() as u64);
            }
            Frame::Stanza(r) => {
                let doc = parser.parse(framer.bytes(r), ns::CLIENT).expect("stanza");
                let root = doc.root();
                sum += walk(root);
                sum += root.attr_raw("id").map_or(0, |v| v.len() as u64);
                stanzas += 1;
            }
            Frame::Whitespace | Frame::StreamClose => {}
        }
    }
    (sum, stanzas)
}

fn ours(framer: &mut Framer, parser: &mut Parser, stream: &[u8], chunk: usize) -> (u64, usize) {
    let mut sum = 0;
    let mut stanzas = 0;
    for c in stream.chunks(chunk) {
        framer.push(c);
        let (s, n) = drain(framer, parser);
        sum += s;
        stanzas += n;
    }
    // The next pass is a new stream on the same connection state.
    framer.restart();
    (sum, stanzas)
}

// ---------------------------------------------------------------------------
// Timing.

/// On-CPU time of this thread, in nanoseconds (Linux schedstat). The
/// machine's cores are shared with other work: time spent waiting for a core
/// must not count as parsing time.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Runs `f` for at least `min` of wall time and returns seconds per call, of
/// on-CPU time where the system tells it, else of wall time.
fn time_per_call(min: Duration, mut f: impl FnMut() -> u64) -> f64 {
    let mut calls = 0u64;
    let cpu0 = cpu_ns();
    let start = Instant::now();
    loop {
        black_box(f());
        calls += 1;
        let t = start.elapsed();
        if t >= min {
            let secs = match (cpu0, cpu_ns()) {
                (Some(a), Some(b)) => (b - a) as f64 / 1e9,
                _ => t.as_secs_f64(),
            };
            return secs / calls as f64;
        }
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this
    // binary without it, and then one short round is enough to prove it works.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let quick = std::env::args().any(|a| a == "--quick");
    // `--only baseline|whole|1500 [--passes N]`: run one workload for a few
    // seconds (or exactly N passes), for a profiler; prints nothing. Under
    // `valgrind --tool=callgrind`, the instruction counts of N and 1 passes
    // give a per-pass count that no other load on the machine can disturb.
    let arg = |name: &str| std::env::args().skip_while(|a| a != name).nth(1);
    let only = arg("--only");
    let passes: Option<u32> = arg("--passes").map(|n| n.parse().expect("--passes N"));
    let (rounds, per_round) = if smoke {
        (1, Duration::from_millis(10))
    } else if quick {
        (5, Duration::from_millis(100))
    } else {
        (15, Duration::from_millis(400))
    };
    let (stream, stanzas, sizes) = corpus(3);
    let bytes = stream.as_bytes();

    let mut framer = Framer::new(DEFAULT_MAX_FRAME);
    let mut parser = Parser::new();
    if let Some(w) = only {
        let mut run = || match w.as_str() {
            "baseline" => baseline(&stream),
            "whole" => ours(&mut framer, &mut parser, bytes, usize::MAX).0,
            "1500" => ours(&mut framer, &mut parser, bytes, 1500).0,
            other => panic!("unknown workload {other}"),
        };
        match passes {
            Some(n) => (0..n).for_each(|_| {
                black_box(run());
            }),
            None => {
                time_per_call(Duration::from_secs(5), run);
            }
        }
        return;
    }
    // Sanity and warm-up: both paths see the whole corpus.
    let (_, n) = ours(&mut framer, &mut parser, bytes, usize::MAX);
    assert_eq!(n, stanzas);
    let (_, n) = ours(&mut framer, &mut parser, bytes, 1500);
    assert_eq!(n, stanzas);
    black_box(baseline(&stream));

    // Allocations after warm-up, one pass of each.
    let allocs = |chunk: usize, framer: &mut Framer, parser: &mut Parser| {
        let (a0, b0) = alloc_counts();
        black_box(ours(framer, parser, bytes, chunk));
        let (a1, b1) = alloc_counts();
        (
            (a1 - a0) as f64 / stanzas as f64,
            (b1 - b0) as f64 / stanzas as f64,
        )
    };
    let alloc_whole = allocs(usize::MAX, &mut framer, &mut parser);
    let alloc_chunked = allocs(1500, &mut framer, &mut parser);
    let (a0, b0) = alloc_counts();
    black_box(baseline(&stream));
    let (a1, b1) = alloc_counts();
    let alloc_base = (
        (a1 - a0) as f64 / stanzas as f64,
        (b1 - b0) as f64 / stanzas as f64,
    );

    let mut t_base = Vec::new();
    let mut t_whole = Vec::new();
    let mut t_chunked = Vec::new();
    for _ in 0..rounds {
        t_base.push(time_per_call(per_round, || baseline(&stream)));
        t_whole.push(time_per_call(per_round, || {
            ours(&mut framer, &mut parser, bytes, usize::MAX).0
        }));
        t_chunked.push(time_per_call(per_round, || {
            ours(&mut framer, &mut parser, bytes, 1500).0
        }));
    }
    // The ratio is taken within each round (the three ran back to back),
    // then the median over rounds: load from elsewhere moves all three.
    let ratio = |t: &[f64]| {
        let mut r: Vec<f64> = t_base.iter().zip(t).map(|(b, o)| b / o).collect();
        median(&mut r)
    };
    let iqr = |v: &[f64]| {
        let mut s = v.to_vec();
        s.sort_by(|a, b| a.total_cmp(b));
        (s[s.len() * 3 / 4] - s[s.len() / 4]) / s[s.len() / 2] * 100.0
    };
    let rows = [
        ("quick-xml events (baseline)", &t_base, 1.0, alloc_base),
        (
            "framer+parser, whole stream",
            &t_whole,
            ratio(&t_whole),
            alloc_whole,
        ),
        (
            "framer+parser, 1500 B reads",
            &t_chunked,
            ratio(&t_chunked),
            alloc_chunked,
        ),
    ];

    println!(
        "corpus: {} bytes, {} stanzas in one stream (avg {} B); median of {} rounds, {} time",
        bytes.len(),
        stanzas,
        bytes.len() / stanzas,
        rounds,
        if cpu_ns().is_some() { "on-CPU" } else { "wall" }
    );
    for (name, size) in &sizes {
        println!("  {name:<20} {size:>6} B");
    }
    println!();
    println!(
        "{:<30} {:>9} {:>12} {:>8} {:>8} {:>11} {:>8}",
        "workload", "MB/s", "stanzas/s", "ratio", "IQR", "allocs/st", "B/st"
    );
    for (name, times, r, (a, b)) in &rows {
        let t = median(&mut times.to_vec());
        println!(
            "{:<30} {:>9.1} {:>12.0} {:>8.2} {:>7.1}% {:>11.2} {:>8.1}",
            name,
            bytes.len() as f64 / t / 1e6,
            stanzas as f64 / t,
            r,
            iqr(times),
            a,
            b
        );
    }
    println!();
    let keys = ["baseline", "ours_whole", "ours_1500"];
    for ((_, times, r, (a, b)), key) in rows.iter().zip(keys) {
        let t = median(&mut times.to_vec());
        println!(
            "metric parser.{key}.throughput {:.1} MB/s",
            bytes.len() as f64 / t / 1e6
        );
        println!(
            "metric parser.{key}.stanzas {:.0} stanzas/s",
            stanzas as f64 / t
        );
        if key != "baseline" {
            println!("metric parser.{key}.ratio {r:.2} x_baseline");
            println!("metric parser.{key}.allocs {a:.2} allocs/stanza");
            println!("metric parser.{key}.alloc_bytes {b:.1} bytes/stanza");
        }
    }
}
