//! Unit tests of Colibri2: protocol.md's literal XML, both sides, round
//! trips through the emulator's side, every row of the error table, and
//! every rule the bridge enforces.

use super::*;
use crate::stanza::colibri::tests::squash;
use crate::stanza::jingle::{Attrs, Candidate, Fingerprint, PayloadType, RtpHdrExt, WebSocket};
use crate::stanza::sources::Ssrc;
use crate::stanza::{ErrorType, IqType};
use crate::xml::Parser;

fn with_el<R>(xml: &str, f: impl FnOnce(El<'_>) -> R) -> R {
    let mut p = Parser::new();
    let doc = p.parse(xml.as_bytes(), ns::CLIENT).unwrap();
    f(doc.root())
}

fn with_iq<R>(xml: &str, f: impl FnOnce(&Iq<'_>) -> R) -> R {
    with_el(xml, |el| f(&Iq::parse(el).unwrap()))
}

fn s(out: Vec<u8>) -> String {
    String::from_utf8(out).unwrap()
}

const MEETING: &str = "5d2b6a18-4c1f-4e3e-9f7a-0a3c2e1b9d44";
const FOCUS: &str = "focus@auth.example.com/focus";
const BRIDGE: &str = "jvbbrewery@internal.auth.example.com/jvb-7f3c";

fn meeting() -> MeetingId<'static> {
    MeetingId::new(MEETING).unwrap()
}

fn request(m: &ConferenceModify<'_>, id: &str) -> String {
    let mut out = Vec::new();
    m.write(&mut out, id, Some(FOCUS), BRIDGE);
    s(out)
}

fn audio_media() -> RtpDescription {
    let opus = PayloadType::new(111, "opus", 48000, Some(2))
        .with_parameter("minptime", "10")
        .with_parameter("useinbandfec", "1")
        .with_rtcp_fb("transport-cc", None);
    let mut d = RtpDescription::new("audio");
    d.payload_types = vec![opus, PayloadType::new(126, "telephone-event", 8000, None)];
    d.hdrexts = vec![
        RtpHdrExt::new(1, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
        RtpHdrExt::new(
            5,
            "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
        ),
    ];
    d.extmap_allow_mixed = true;
    d
}

fn video_media() -> RtpDescription {
    let vp8 = PayloadType::new(100, "VP8", 90000, None)
        .with_rtcp_fb("ccm", Some("fir"))
        .with_rtcp_fb("nack", None);
    let rtx = PayloadType::new(96, "rtx", 90000, None).with_parameter("apt", "100");
    let mut d = RtpDescription::new("video");
    d.payload_types = vec![vp8, rtx];
    d.hdrexts = vec![RtpHdrExt::new(3, "urn:3gpp:video-orientation")];
    d
}

/// protocol.md's endpoint create; the elided video media completed and
/// the comment in `<sources>` dropped.
const CREATE: &str = "<iq type='get' id='k1' from='focus@auth.example.com/focus' to='jvbbrewery@internal.auth.example.com/jvb-7f3c'>
  <conference-modify xmlns='jitsi:colibri2' meeting-id='5d2b6a18-4c1f-4e3e-9f7a-0a3c2e1b9d44'
                     name='myroom@conference.example.com' create='true'>
    <endpoint id='abcd1234' create='true' stats-id='Alice-x1y'>
      <media type='audio'>
        <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='111' name='opus' clockrate='48000' channels='2'>
          <parameter name='minptime' value='10'/>
          <parameter name='useinbandfec' value='1'/>
          <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='transport-cc'/>
        </payload-type>
        <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='126' name='telephone-event' clockrate='8000'/>
        <rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' id='1' uri='urn:ietf:params:rtp-hdrext:ssrc-audio-level'/>
        <rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' id='5' uri='http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01'/>
        <extmap-allow-mixed xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/>
      </media>
      <media type='video'>
        <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='100' name='VP8' clockrate='90000'>
          <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='ccm' subtype='fir'/>
          <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='nack'/>
        </payload-type>
        <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='96' name='rtx' clockrate='90000'>
          <parameter name='apt' value='100'/>
        </payload-type>
        <rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' id='3' uri='urn:3gpp:video-orientation'/>
      </media>
      <transport ice-controlling='true'>
        <sctp/>
      </transport>
      <sources/>
      <capability name='source-names'/>
      <capability name='ssrc-rewriting'/>
    </endpoint>
  </conference-modify>
</iq>";

fn medias() -> [RtpDescription; 2] {
    [audio_media(), video_media()]
}

fn create_request(medias: &[RtpDescription]) -> String {
    let endpoint = EndpointCreate {
        stats_id: Some("Alice-x1y"),
        media: medias,
        sctp: true,
        capabilities: &[CAP_SOURCE_NAMES, CAP_SSRC_REWRITING],
        ..EndpointCreate::new("abcd1234")
    };
    let m = ConferenceModify::create_conference(
        meeting(),
        ConferenceCreate {
            name: "myroom@conference.example.com",
            rtcstats_enabled: true,
        },
        endpoint,
    );
    assert!(m.creates_conference());
    assert_eq!(m.created_endpoint().unwrap().id, "abcd1234");
    request(&m, "k1")
}

#[test]
fn endpoint_create_is_protocol_md_verbatim() {
    assert_eq!(create_request(&medias()), squash(CREATE));
    // The offer's data content has no `<media/>` (Jicofo offers the
    // bridge audio and video only); `rtcp-mux` and `maxptime` of a
    // description have no place in one.
    let mut audio = audio_media();
    audio.rtcp_mux = true;
    audio.maxptime = Some(60);
    let with_data = [audio, video_media(), RtpDescription::new("application")];
    assert_eq!(create_request(&with_data), squash(CREATE));
}

/// protocol.md's answer (without the `meeting-id` it shows on
/// `<conference-modified/>`: the bridge's builder writes no attribute
/// there), the elided values filled in.
const ANSWER: &str = "<iq type='result' id='k1' from='jvbbrewery@internal.auth.example.com/jvb-7f3c' to='focus@auth.example.com/focus'>
  <conference-modified xmlns='jitsi:colibri2'>
    <endpoint id='abcd1234'>
      <transport>
        <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='8vbq01hdp1la2' pwd='4bq0nx'>
          <rtcp-mux/>
          <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>1A:2B:FF</fingerprint>
          <candidate component='1' foundation='1' generation='0' id='c1' network='0' priority='2130706431'
                     protocol='udp' type='host' ip='10.0.1.17' port='10000'/>
          <web-socket xmlns='http://jitsi.org/protocol/colibri' url='wss://meet.example.com/colibri-ws/x/abcd1234?pwd=p'/>
        </transport>
        <sctp port='5000' role='server'/>
      </transport>
    </endpoint>
    <sources>
      <media-source type='audio' id='jvb-a0'><source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='411312308' name='jvb-a0'/></media-source>
      <media-source type='video' id='jvb-v0'><source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='2917553204' name='jvb-v0'/></media-source>
    </sources>
  </conference-modified>
</iq>";

#[test]
fn bridge_answer_is_read_and_written_back() {
    let answer = squash(ANSWER);
    let m = with_iq(&answer, |iq| {
        ConferenceModified::parse(iq.payload.unwrap()).unwrap()
    });
    let alloc = m.allocation("abcd1234", true).unwrap();
    assert_eq!(alloc.sctp_port, Some(5000));
    assert_eq!(alloc.transport.ufrag.as_deref(), Some("8vbq01hdp1la2"));
    assert_eq!(alloc.transport.candidates.len(), 1);
    assert_eq!(
        alloc.transport.web_sockets[0].url(),
        Some("wss://meet.example.com/colibri-ws/x/abcd1234?pwd=p")
    );
    let t = m.endpoint("abcd1234").unwrap().transport.as_ref().unwrap();
    assert_eq!(t.sctp.unwrap().role, Some(SctpRole::Server));
    assert_eq!(
        m.feedback_sources(),
        &[
            MediaSource::single(MediaType::Audio, "jvb-a0", 411312308),
            MediaSource::single(MediaType::Video, "jvb-v0", 2917553204),
        ]
    );
    let jvb = m.feedback_source_set();
    assert_eq!(
        jvb.sources,
        vec![
            Source::new(411312308, MediaType::Audio).with_name("jvb-a0"),
            Source::new(2917553204, MediaType::Video).with_name("jvb-v0"),
        ]
    );
    assert!(jvb.groups.is_empty());
    // The emulator's writer reproduces it.
    let mut out = Vec::new();
    with_iq(&squash(CREATE), |req| {
        write_conference_modified(&mut out, req, None, &m);
    });
    assert_eq!(s(out), answer);
}

#[test]
fn unusable_answers_to_a_create() {
    let no_transport = ConferenceModified {
        endpoints: vec![ModifiedEndpoint {
            id: "e".into(),
            expired: false,
            transport: None,
        }],
        sources: None,
    };
    assert_eq!(
        no_transport.allocation("e", false),
        Err(AllocationProblem::NoTransport)
    );
    assert_eq!(
        no_transport.allocation("other", false),
        Err(AllocationProblem::NoTransport)
    );
    let no_ice = ConferenceModified {
        endpoints: vec![ModifiedEndpoint {
            id: "e".into(),
            expired: false,
            transport: Some(Colibri2Transport::default()),
        }],
        sources: None,
    };
    // Jicofo checks SCTP before the ICE transport.
    assert_eq!(no_ice.allocation("e", true), Err(AllocationProblem::NoSctp));
    assert_eq!(
        no_ice.allocation("e", false),
        Err(AllocationProblem::NoTransport)
    );
    assert_eq!(no_ice.feedback_sources(), &[]);
    assert!(AllocationProblem::NoSctp.to_string().contains("SCTP"));
}

fn participant_transport() -> IceUdpTransport {
    let candidate = [
        ("component", "1"),
        ("foundation", "2"),
        ("generation", "0"),
        ("id", "p1"),
        ("network", "1"),
        ("priority", "100"),
        ("protocol", "udp"),
        ("type", "host"),
        ("ip", "192.0.2.9"),
        ("port", "5555"),
    ];
    IceUdpTransport {
        ufrag: Some("pU".into()),
        pwd: Some("pP".into()),
        fingerprints: vec![Fingerprint::new("sha-256", Some("active"), "AA:BB")],
        candidates: vec![Candidate {
            attrs: candidate
                .iter()
                .fold(Attrs::new(), |a, (n, v)| a.with(n, v)),
        }],
        ..IceUdpTransport::default()
    }
}

/// A transport as written.
fn xml_of(t: &IceUdpTransport) -> String {
    let mut out = Vec::new();
    t.write(&mut XmlWriter::new(&mut out));
    s(out)
}

/// The participant's sources: a named audio source, and a video source
/// whose RTX SSRC carries no name (it joins the default `abcd1234-v0`).
fn participant_set() -> EndpointSourceSet {
    EndpointSourceSet {
        sources: vec![
            Source::new(3735928559, MediaType::Audio).with_name("abcd1234-a0"),
            Source::new(1001, MediaType::Video).with_name("abcd1234-v0"),
            Source::new(1002, MediaType::Video),
        ],
        groups: vec![SsrcGroup::new("FID", MediaType::Video, &[1001, 1002])],
    }
}

/// [`participant_set`] as media sources.
fn participant_sources() -> Vec<MediaSource> {
    let mut v = MediaSource::single(MediaType::Video, "abcd1234-v0", 1001);
    v.sources.push(Source::new(1002, MediaType::Video));
    v.groups
        .push(SsrcGroup::new("FID", MediaType::Video, &[1001, 1002]));
    vec![
        MediaSource::single(MediaType::Audio, "abcd1234-a0", 3735928559),
        v,
    ]
}

#[test]
fn source_sets_become_media_sources_as_jicofo_converts_them() {
    let set = participant_set();
    assert_eq!(
        MediaSource::from_source_set("abcd1234", &set),
        participant_sources()
    );
    assert_eq!(MediaSource::to_source_set(&participant_sources()), set);
    // Unnamed sources go to the default names; a group follows the
    // source of its first SSRC, or its media's default name.
    let unnamed = EndpointSourceSet {
        sources: vec![
            Source::new(1, MediaType::Video),
            Source::new(2, MediaType::Audio),
            Source::new(3, MediaType::Video).with_name("e-v1"),
        ],
        groups: vec![
            SsrcGroup::new("FID", MediaType::Video, &[3, 4]),
            SsrcGroup::new("FID", MediaType::Video, &[8, 9]),
        ],
    };
    let m = MediaSource::from_source_set("e", &unnamed);
    assert_eq!(
        m.iter()
            .map(|m| (m.media, m.id.as_str(), m.sources.len(), m.groups.len()))
            .collect::<Vec<_>>(),
        vec![
            (MediaType::Video, "e-v0", 1, 1),
            (MediaType::Audio, "e-a0", 1, 0),
            (MediaType::Video, "e-v1", 1, 1),
        ]
    );
    assert_eq!(m[0].groups[0].ssrcs, vec![Ssrc(8), Ssrc(9)]);
    assert_eq!(MediaSource::to_source_set(&m), unnamed);
    assert!(MediaSource::from_source_set("e", &EndpointSourceSet::new()).is_empty());
    assert_eq!(default_source_name("ab", MediaType::Audio), "ab-a0");
}

#[test]
fn update_after_session_accept() {
    let t = participant_transport();
    let sources = participant_sources();
    let set = participant_set();
    let u = EndpointUpdate {
        stats_id: Some("Alice-x1y"),
        transport: Some(&t),
        sources: Some(&set),
        initial_last_n: Some(25),
        ..EndpointUpdate::new("abcd1234")
    };
    let written = request(&ConferenceModify::update_endpoint(meeting(), u), "k2");
    assert_eq!(
        written,
        format!(
            "<iq type='get' id='k2' from='{FOCUS}' to='{BRIDGE}'>\
             <conference-modify xmlns='jitsi:colibri2' meeting-id='{MEETING}'>\
             <endpoint id='abcd1234' stats-id='Alice-x1y'><transport>{}</transport>\
             <sources>\
             <media-source type='audio' id='abcd1234-a0'>\
             <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='3735928559' name='abcd1234-a0'/></media-source>\
             <media-source type='video' id='abcd1234-v0'>\
             <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='1001' name='abcd1234-v0'/>\
             <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='1002'/>\
             <ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='FID'>\
             <source ssrc='1001'/><source ssrc='1002'/></ssrc-group></media-source>\
             </sources><initial-last-n value='25'/></endpoint></conference-modify></iq>",
            xml_of(&t)
        )
    );
    with_iq(&written, |iq| {
        assert!(is_colibri2_request(iq));
        let r = Colibri2Request::parse(iq.payload.unwrap()).unwrap();
        assert!(!r.create && !r.wants_feedback_sources());
        assert!(!r.ignores_unknown_endpoints());
        let e = &r.endpoints[0];
        assert_eq!(e.stats_id.as_deref(), Some("Alice-x1y"));
        assert_eq!(e.transport.as_ref().unwrap().ice.as_ref(), Some(&t));
        assert_eq!(e.sources.as_deref(), Some(&sources[..]));
        assert_eq!(MediaSource::to_source_set(e.sources.as_ref().unwrap()), set);
        assert_eq!(e.initial_last_n, Some(25));
        assert!(!e.create && e.capabilities.is_empty());
    });
}

#[test]
fn force_mute_ice_restart_and_expiry() {
    let ops = [
        BatchOp::ForceMute {
            id: "a",
            mute: ForceMute {
                audio: true,
                video: false,
            },
        },
        BatchOp::ForceMute {
            id: "b",
            mute: ForceMute::default(),
        },
        BatchOp::Expire("c"),
    ];
    let written = request(&ConferenceModify::batch(meeting(), &ops).unwrap(), "k3");
    assert_eq!(
        written,
        format!(
            "<iq type='get' id='k3' from='{FOCUS}' to='{BRIDGE}'>\
             <conference-modify xmlns='jitsi:colibri2' meeting-id='{MEETING}'>\
             <endpoint id='a'><force-mute audio='true'/></endpoint>\
             <endpoint id='b'><force-mute/></endpoint>\
             <endpoint id='c' expire='true'/></conference-modify></iq>"
        )
    );
    with_iq(&written, |iq| {
        let r = Colibri2Request::parse(iq.payload.unwrap()).unwrap();
        assert!(r.ignores_unknown_endpoints());
        assert_eq!(
            r.endpoints[0].force_mute,
            Some(ForceMute {
                audio: true,
                video: false
            })
        );
        assert_eq!(r.endpoints[1].force_mute, Some(ForceMute::default()));
        assert!(r.endpoints[2].expire);
    });
    assert!(ConferenceModify::batch(meeting(), &[]).is_none());

    let restart = EndpointUpdate {
        ice_restart: true,
        ..EndpointUpdate::new("abcd1234")
    };
    assert_eq!(
        request(&ConferenceModify::update_endpoint(meeting(), restart), "k4"),
        format!(
            "<iq type='get' id='k4' from='{FOCUS}' to='{BRIDGE}'>\
             <conference-modify xmlns='jitsi:colibri2' meeting-id='{MEETING}'>\
             <endpoint id='abcd1234'><transport ice-restart='true'/></endpoint>\
             </conference-modify></iq>"
        )
    );
    let expire = request(&ConferenceModify::expire_conference(meeting()), "k5");
    assert_eq!(
        expire,
        format!(
            "<iq type='get' id='k5' from='{FOCUS}' to='{BRIDGE}'>\
             <conference-modify xmlns='jitsi:colibri2' meeting-id='{MEETING}' expire='true'/></iq>"
        )
    );
    with_iq(&expire, |iq| {
        let r = Colibri2Request::parse(iq.payload.unwrap()).unwrap();
        assert!(r.expire && r.endpoints.is_empty());
    });
}

#[test]
fn a_second_endpoint_joins_without_create_on_the_conference() {
    let set = participant_set();
    let e = EndpointCreate {
        sources: &set,
        force_mute: Some(ForceMute {
            audio: true,
            video: true,
        }),
        visitor: false,
        // Listing source-names again does not write it twice.
        capabilities: &[CAP_SOURCE_NAMES, CAP_PRIVATE_ADDRESS_CONNECTIVITY],
        ice_controlling: true,
        ..EndpointCreate::new("ef567890")
    };
    let m = ConferenceModify::create_endpoint(meeting(), e);
    assert!(!m.creates_conference());
    let written = request(&m, "k6");
    assert_eq!(written.matches("source-names").count(), 1);
    // The conference itself is neither created nor named again.
    assert!(written.contains(&format!(
        "<conference-modify xmlns='jitsi:colibri2' meeting-id='{MEETING}'><endpoint id='ef567890' create='true'>"
    )));
    with_iq(&written, |iq| {
        let r = Colibri2Request::parse(iq.payload.unwrap()).unwrap();
        assert!(!r.create && r.name.is_none());
        assert!(r.wants_feedback_sources());
        let e = &r.endpoints[0];
        assert!(e.create);
        assert_eq!(
            e.capabilities,
            vec![CAP_SOURCE_NAMES, CAP_PRIVATE_ADDRESS_CONNECTIVITY]
        );
        assert_eq!(
            e.force_mute,
            Some(ForceMute {
                audio: true,
                video: true
            })
        );
        let t = e.transport.as_ref().unwrap();
        assert!(t.ice_controlling && t.sctp.is_none() && t.ice.is_none());
        // The unnamed source takes this endpoint's default name.
        let sources = MediaSource::from_source_set("ef567890", &set);
        assert_eq!(sources[2].id, "ef567890-v0");
        assert_eq!(e.sources.as_deref(), Some(&sources[..]));
        assert_eq!(MediaSource::to_source_set(&sources), set);
    });
}

/// focus-write → bridge-parse → bridge-write → focus-parse.
#[test]
fn create_round_trip_through_the_emulator() {
    let written = create_request(&medias());
    let bridge_ice = IceUdpTransport {
        ufrag: Some("bU".into()),
        pwd: Some("bP".into()),
        rtcp_mux: true,
        fingerprints: vec![Fingerprint::new("sha-256", Some("actpass"), "1A")],
        web_sockets: vec![WebSocket::new("wss://jvb/ws")],
        ..IceUdpTransport::default()
    };
    let mut reply = Vec::new();
    with_iq(&written, |iq| {
        let r = Colibri2Request::parse(iq.payload.unwrap()).unwrap();
        assert_eq!(r.meeting_id, MEETING);
        assert_eq!(r.name.as_deref(), Some("myroom@conference.example.com"));
        assert!(r.create && r.rtcstats_enabled && !r.expire);
        assert!(r.wants_feedback_sources());
        let e = &r.endpoints[0];
        assert_eq!((e.id.as_str(), e.create), ("abcd1234", true));
        assert_eq!(e.media, medias().to_vec());
        assert_eq!(e.sources, Some(vec![]));
        let t = e.transport.as_ref().unwrap();
        assert!(t.ice_controlling);
        assert_eq!(t.sctp, Some(Sctp::default()));
        // What an emulator answers: its transport, SCTP, feedback sources.
        let answer = ConferenceModified {
            endpoints: vec![ModifiedEndpoint {
                id: e.id.clone(),
                expired: false,
                transport: Some(Colibri2Transport {
                    ice: Some(bridge_ice.clone()),
                    sctp: t.sctp.map(|_| Sctp {
                        port: Some(DEFAULT_SCTP_PORT),
                        role: Some(SctpRole::Server),
                    }),
                    ..Colibri2Transport::default()
                }),
            }],
            sources: r.wants_feedback_sources().then(|| {
                vec![
                    MediaSource::single(MediaType::Audio, "jvb-a0", 7),
                    MediaSource::single(MediaType::Video, "jvb-v0", 8),
                ]
            }),
        };
        write_conference_modified(&mut reply, iq, None, &answer);
    });
    let reply = s(reply);
    with_iq(&reply, |iq| {
        assert_eq!(iq.ty, IqType::Result);
        assert_eq!(iq.id, "k1");
        assert_eq!(iq.from.as_deref(), Some(BRIDGE));
        assert_eq!(iq.to.as_deref(), Some(FOCUS));
        let m = ConferenceModified::parse(iq.payload.unwrap()).unwrap();
        let a = m.allocation("abcd1234", true).unwrap();
        assert_eq!(a.transport, &bridge_ice);
        assert_eq!(a.transport.web_sockets[0].url(), Some("wss://jvb/ws"));
        assert_eq!(a.sctp_port, Some(5000));
        assert_eq!(m.feedback_sources()[1].sources[0].ssrc, Ssrc(8));
    });
}

// ---------------------------------------------------------------------------
// Errors

fn error_iq(error: &str) -> String {
    format!("<iq type='error' id='k1' from='{BRIDGE}' to='{FOCUS}'>{error}</iq>")
}

fn classify_xml(error: &str) -> Colibri2Failure {
    with_iq(&error_iq(error), |iq| {
        classify_colibri2_error(&iq.error().unwrap())
    })
}

/// Every row of protocol.md §3.6 that is about an error answer.
#[test]
fn every_error_table_row_is_classified() {
    use Colibri2Failure::*;
    let rows: &[(&str, Colibri2Failure)] = &[
        (
            "<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <error xmlns='jitsi:colibri2' reason='graceful_shutdown'/></error>",
            GracefulShutdown,
        ),
        (
            "<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>",
            ServiceUnavailable,
        ),
        (
            "<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <error xmlns='jitsi:colibri2' reason='unspecified'/></error>",
            ServiceUnavailable,
        ),
        (
            "<error type='cancel'><remote-server-timeout xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>",
            Other,
        ),
        (
            "<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Conference not found</text>\
             <error xmlns='jitsi:colibri2' reason='conference_not_found'/></error>",
            ConferenceNotFound,
        ),
        (
            "<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>",
            ItemNotFoundNoReason,
        ),
        (
            "<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <error xmlns='jitsi:colibri2' reason='feature_not_implemented'/></error>",
            ItemNotFoundNoReason,
        ),
        (
            "<error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <error xmlns='jitsi:colibri2' reason='conference_already_exists'/></error>",
            ConferenceAlreadyExists,
        ),
        (
            "<error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>",
            ConflictNoReason,
        ),
        (
            "<error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <error xmlns='jitsi:colibri2' reason='unspecified'/></error>",
            ConflictNoReason,
        ),
        (
            "<error type='modify'><bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>",
            BadRequest,
        ),
        (
            "<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <error xmlns='jitsi:colibri2' reason='unknown_endpoint'/>\
             <endpoint xmlns='jitsi:colibri2' id='abcd1234'/></error>",
            UnknownEndpoint(Some("abcd1234".into())),
        ),
        (
            "<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <error xmlns='jitsi:colibri2' reason='unknown_endpoint'/></error>",
            UnknownEndpoint(None),
        ),
        (
            "<error type='cancel'><feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <error xmlns='jitsi:colibri2' reason='feature_not_implemented'/></error>",
            Other,
        ),
        (
            "<error type='cancel'><internal-server-error xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>",
            Other,
        ),
        // An unknown reason counts as none; reasons are read case-blind.
        (
            "<error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <error xmlns='jitsi:colibri2' reason='brand_new'/></error>",
            ConflictNoReason,
        ),
        (
            "<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <error xmlns='jitsi:colibri2' reason='GRACEFUL_SHUTDOWN'/></error>",
            GracefulShutdown,
        ),
        // The reason must be in the Colibri2 namespace.
        (
            "<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <error xmlns='urn:other' reason='graceful_shutdown'/></error>",
            ServiceUnavailable,
        ),
        // No error child at all.
        ("", Other),
    ];
    for (xml, want) in rows {
        assert_eq!(&classify_xml(xml), want, "{xml}");
    }
}

#[test]
fn the_bridge_errors_classify_as_their_rows() {
    let cases = [
        (
            conference_not_found(MEETING),
            Colibri2Failure::ConferenceNotFound,
        ),
        (
            conference_already_exists(MEETING),
            Colibri2Failure::ConferenceAlreadyExists,
        ),
        (graceful_shutdown(), Colibri2Failure::GracefulShutdown),
        (
            unknown_endpoint("ab'12"),
            Colibri2Failure::UnknownEndpoint(Some("ab'12".into())),
        ),
        (
            endpoint_already_exists("abcd1234"),
            Colibri2Failure::ConflictNoReason,
        ),
    ];
    for (err, want) in cases {
        // Through the wire: the emulator writes, the focus reads.
        let mut out = Vec::new();
        with_iq(&squash(CREATE), |req| {
            write_colibri2_error(&mut out, req, None, &err);
        });
        let reply = s(out);
        with_iq(&reply, |iq| {
            assert_eq!(iq.ty, IqType::Error);
            assert_eq!(iq.id, "k1");
            assert_eq!(iq.from.as_deref(), Some(BRIDGE));
            assert_eq!(iq.to.as_deref(), Some(FOCUS));
            assert!(iq.payload.is_none(), "the bridge does not echo");
            let back = iq.error().unwrap();
            assert_eq!(back, err);
            assert_eq!(classify_colibri2_error(&back), want);
        });
    }
    assert_eq!(
        squash(&{
            let mut out = Vec::new();
            with_iq(&squash(CREATE), |req| {
                write_colibri2_error(&mut out, req, None, &graceful_shutdown())
            });
            s(out)
        }),
        format!(
            "<iq type='error' id='k1' from='{BRIDGE}' to='{FOCUS}'><error type='cancel'>\
             <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>in graceful shutdown</text>\
             <error xmlns='jitsi:colibri2' reason='graceful_shutdown'/></error></iq>"
        )
    );
}

#[test]
fn reasons_by_name() {
    for r in [
        Colibri2Reason::ConferenceNotFound,
        Colibri2Reason::ConferenceAlreadyExists,
        Colibri2Reason::FeatureNotImplemented,
        Colibri2Reason::GracefulShutdown,
        Colibri2Reason::UnknownEndpoint,
        Colibri2Reason::Unspecified,
    ] {
        assert_eq!(Colibri2Reason::from_name(r.name()), Some(r));
        assert_eq!(Colibri2Reason::from_name(&r.name().to_uppercase()), Some(r));
    }
    assert_eq!(Colibri2Reason::from_name("conference not found"), None);
    let e = colibri2_error(Condition::BadRequest, None, None);
    assert_eq!(e, StanzaError::new(Condition::BadRequest));
    assert_eq!(e.error_type, ErrorType::Modify);
}

// ---------------------------------------------------------------------------
// The bridge's rules

fn conference(attrs: &str, body: &str) -> String {
    format!(
        "<conference-modify xmlns='jitsi:colibri2' meeting-id='m1'{attrs}>{body}</conference-modify>"
    )
}

const GOOD_CREATE: &str = "<endpoint id='e' create='true'><transport/>\
    <capability name='source-names'/></endpoint>";

fn rejected(xml: &str) -> Colibri2RequestError {
    with_el(xml, Colibri2Request::parse).unwrap_err()
}

fn reason_of(e: &StanzaError) -> Option<&str> {
    e.app(ns::COLIBRI2).and_then(|a| a.attr("reason"))
}

#[test]
fn rule_violations_are_rejected_as_the_bridge_does() {
    use Colibri2RequestError::*;
    let cases: Vec<(String, Colibri2RequestError, Condition, Option<&str>)> = vec![
        (
            "<conference-modify xmlns='jitsi:colibri2'/>".into(),
            MissingMeetingId,
            Condition::BadRequest,
            None,
        ),
        (
            "<conference-modify xmlns='jitsi:colibri2' meeting-id='  '/>".into(),
            MissingMeetingId,
            Condition::BadRequest,
            None,
        ),
        (
            conference(" create='true' name='not a jid@'", GOOD_CREATE),
            BadConferenceName("not a jid@".into()),
            Condition::BadRequest,
            None,
        ),
        (
            conference(" create='true' name='conference.example.com'", GOOD_CREATE),
            BadConferenceName("conference.example.com".into()),
            Condition::BadRequest,
            None,
        ),
        (
            conference(" create='true' name='r@c.example.com/x'", GOOD_CREATE),
            BadConferenceName("r@c.example.com/x".into()),
            Condition::BadRequest,
            None,
        ),
        (
            conference("", "<endpoint id='a' expire='true'/><relay id='r'/>"),
            EndpointsAndRelays,
            Condition::FeatureNotImplemented,
            Some("feature_not_implemented"),
        ),
        (
            conference(
                "",
                &format!("{GOOD_CREATE}<endpoint id='b' expire='true'/>"),
            ),
            SeveralEndpointsWithMedia,
            Condition::FeatureNotImplemented,
            Some("feature_not_implemented"),
        ),
        (
            conference(
                "",
                "<endpoint id='a'><sources/></endpoint><endpoint id='b'><force-mute/></endpoint>",
            ),
            SeveralEndpointsWithMedia,
            Condition::FeatureNotImplemented,
            Some("feature_not_implemented"),
        ),
        (
            conference(
                "",
                "<endpoint id='a'><media type='audio'/></endpoint><endpoint id='b' expire='true'/>",
            ),
            SeveralEndpointsWithMedia,
            Condition::FeatureNotImplemented,
            Some("feature_not_implemented"),
        ),
        (
            conference(
                "",
                "<endpoint id='a'><transport/></endpoint><endpoint id='b' expire='true'/>",
            ),
            SeveralEndpointsWithMedia,
            Condition::FeatureNotImplemented,
            Some("feature_not_implemented"),
        ),
        (
            conference("", "<relay id='r1'/><relay id='r2'/>"),
            SeveralRelays,
            Condition::FeatureNotImplemented,
            Some("feature_not_implemented"),
        ),
        (
            conference(
                "",
                "<endpoint id='e' create='true'><capability name='source-names'/></endpoint>",
            ),
            CreateWithoutTransport("e".into()),
            Condition::BadRequest,
            None,
        ),
        (
            conference(
                "",
                "<endpoint id='e' create='true'><transport/><capability name='ssrc-rewriting'/></endpoint>",
            ),
            CreateWithoutSourceNames("e".into()),
            Condition::BadRequest,
            None,
        ),
        (
            conference(
                "",
                "<endpoint id='e' create='true'><transport><sctp role='client'/></transport>\
                 <capability name='source-names'/></endpoint>",
            ),
            SctpRoleNotServer("e".into()),
            Condition::FeatureNotImplemented,
            None,
        ),
        (
            conference(
                "",
                "<endpoint id='e' create='true'><transport><sctp port='5001'/></transport>\
                 <capability name='source-names'/></endpoint>",
            ),
            SctpPortNotDefault("e".into(), 5001),
            Condition::BadRequest,
            None,
        ),
        (
            conference(
                "",
                "<endpoint id='e' create='true' muc-role='visitor'><transport/>\
                 <sources><media-source type='audio' id='e-a0'>\
                 <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='1'/></media-source></sources>\
                 <capability name='source-names'/></endpoint>",
            ),
            VisitorWithSources("e".into()),
            Condition::BadRequest,
            None,
        ),
        (
            "<conference xmlns='jitsi:colibri2' meeting-id='m'/>".into(),
            NotConferenceModify,
            Condition::FeatureNotImplemented,
            None,
        ),
    ];
    for (xml, want, condition, reason) in cases {
        let got = rejected(&xml);
        assert_eq!(got, want, "{xml}");
        let err = got.to_stanza_error();
        assert_eq!(err.condition, condition, "{xml}");
        assert_eq!(reason_of(&err), reason, "{xml}");
        assert!(err.text.is_some() || want == NotConferenceModify);
    }
}

#[test]
fn malformed_elements_are_bad_requests() {
    for body in [
        "<endpoint/>",
        "<endpoint id='e' muc-role='king'/>",
        "<endpoint id='e'><media/></endpoint>",
        "<endpoint id='e'><media type='smell'/></endpoint>",
        "<endpoint id='e'><sources><media-source id='x'/></sources></endpoint>",
        "<endpoint id='e'><sources><media-source type='audio'/></sources></endpoint>",
        "<endpoint id='e'><transport><sctp role='peer'/></transport></endpoint>",
        "<endpoint id='e'><transport><sctp port='x'/></transport></endpoint>",
        "<endpoint id='e'><initial-last-n/></endpoint>",
        "<endpoint id='e'><initial-last-n value='many'/></endpoint>",
        "<endpoint id='e'><sources><media-source type='audio' id='a'>\
         <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='-1'/></media-source></sources></endpoint>",
        // Sources are audio or video; a source must have an SSRC.
        "<endpoint id='e'><sources><media-source type='data' id='d'/></sources></endpoint>",
        "<endpoint id='e'><sources><media-source type='audio' id='a'>\
         <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' name='a'/></media-source></sources></endpoint>",
        "<endpoint id='e'><media type='audio'>\
         <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' name='opus'/></media></endpoint>",
        "<relay/>",
    ] {
        let xml = conference("", body);
        let err = rejected(&xml);
        assert!(
            matches!(err, Colibri2RequestError::Malformed(_)),
            "{xml}: {err:?}"
        );
        assert_eq!(err.to_stanza_error().condition, Condition::BadRequest);
    }
}

#[test]
fn what_the_bridge_allows() {
    for xml in [
        // Several endpoints to expire, to force-mute, or both.
        conference(
            "",
            "<endpoint id='a' expire='true'/><endpoint id='b' expire='true'/>",
        ),
        conference(
            "",
            "<endpoint id='a'><force-mute audio='true'/></endpoint>\
             <endpoint id='b' expire='true'/><endpoint id='c'><initial-last-n value='3'/></endpoint>",
        ),
        // A data media, as the bridge's parser reads it.
        conference("", "<endpoint id='a'><media type='data'/></endpoint>"),
        // One endpoint with everything.
        conference(
            "",
            "<endpoint id='e' create='true' muc-role='visitor'><media type='video'/>\
             <transport ice-controlling='true'><sctp port='5000' role='server'/></transport>\
             <sources/><capability name='source-names'/></endpoint>",
        ),
        // A create without a name; one relay alone.
        conference(" create='true'", GOOD_CREATE),
        conference("", "<relay id='10.0.0.1'/>"),
        // Nothing at all.
        conference("", ""),
    ] {
        assert!(with_el(&xml, Colibri2Request::parse).is_ok(), "{xml}");
    }
    let r = with_el(&conference(" rtcstats-enabled='false'", ""), |el| {
        Colibri2Request::parse(el).unwrap()
    });
    assert!(!r.rtcstats_enabled);
    // An expiring endpoint skips the create checks, as in the bridge.
    let e = RequestedEndpoint {
        id: "x".into(),
        create: true,
        expire: true,
        stats_id: None,
        visitor: false,
        media: vec![],
        transport: None,
        sources: None,
        capabilities: vec![],
        force_mute: None,
        initial_last_n: None,
    };
    assert_eq!(e.check(), Ok(()));
}

#[test]
fn rtcstats_off_and_visitors_as_jicofo_writes_them() {
    let e = EndpointCreate {
        visitor: true,
        ..EndpointCreate::new("v1")
    };
    let m = ConferenceModify::create_conference(
        meeting(),
        ConferenceCreate {
            name: "r@conference.example.com",
            rtcstats_enabled: false,
        },
        e,
    );
    let written = request(&m, "k7");
    assert!(written.contains(
        "meeting-id='5d2b6a18-4c1f-4e3e-9f7a-0a3c2e1b9d44' name='r@conference.example.com' \
         rtcstats-enabled='false' create='true'>"
    ));
    assert!(written.contains("<endpoint id='v1' create='true' muc-role='visitor'>"));
    with_iq(&written, |iq| {
        let r = Colibri2Request::parse(iq.payload.unwrap()).unwrap();
        assert!(r.endpoints[0].visitor);
        assert!(!r.rtcstats_enabled);
    });
}

#[test]
fn meeting_ids_are_never_blank() {
    assert!(MeetingId::new("").is_none());
    assert!(MeetingId::new(" \t").is_none());
    assert_eq!(MeetingId::new("m").unwrap().as_str(), "m");
    assert_eq!(
        ConferenceModify::expire_conference(meeting())
            .meeting_id()
            .as_str(),
        MEETING
    );
}

#[test]
fn answers_with_expired_endpoints_and_odd_values() {
    let xml = "<conference-modified xmlns='jitsi:colibri2'>\
        <endpoint id='a' expire='true'/><endpoint id='b'/></conference-modified>";
    let m = with_el(xml, |el| ConferenceModified::parse(el).unwrap());
    assert!(m.endpoint("a").unwrap().expired);
    assert!(!m.endpoint("b").unwrap().expired);
    assert!(m.sources.is_none());
    let mut out = Vec::new();
    m.write(&mut XmlWriter::new(&mut out));
    assert_eq!(s(out), xml);
    for bad in [
        "<conference-modified xmlns='jitsi:colibri2'><endpoint/></conference-modified>",
        "<conference-modified xmlns='jitsi:colibri2'><endpoint id='a'><transport>\
         <sctp port='-1'/></transport></endpoint></conference-modified>",
        "<conference-modify xmlns='jitsi:colibri2' meeting-id='m'/>",
    ] {
        assert!(with_el(bad, ConferenceModified::parse).is_err(), "{bad}");
    }
}
