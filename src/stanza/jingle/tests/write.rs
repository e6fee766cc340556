//! Writing what the focus sends: offers (§5.2, §5.3), transport copies,
//! source-add/-remove (§5.5), session-terminate (§5.9); each read back.

use super::*;
use crate::stanza::sources::{FID, SIM, Ssrc};
use MediaType::{Audio, Video};

// ---------------------------------------------------------------------------
// Offers

fn bridge_transport_seed() -> IceUdpTransport {
    IceUdpTransport {
        ufrag: Some("2p9sk1a0mneg1h".into()),
        pwd: Some("3c2tq0n2l5bd5m4ajd4j0b1k0a".into()),
        rtcp_mux: true,
        fingerprints: vec![Fingerprint::new(
            "sha-1",
            None,
            "5E:0A:3B:C1:77:90:12:AB:CD:EF:01:23:45:67:89:9A:BC:DE:F0:C4",
        )],
        candidates: vec![Candidate {
            attrs: Attrs::new()
                .with("component", "1")
                .with("foundation", "1")
                .with("generation", "0")
                .with("id", "6e4b1f2a0")
                .with("network", "0")
                .with("priority", "2130706431")
                .with("protocol", "udp")
                .with("type", "host")
                .with("ip", "10.0.0.5")
                .with("port", "10000"),
        }],
        web_sockets: vec![],
        sctpmap: None,
    }
}

fn seed_audio() -> RtpDescription {
    let mut d = RtpDescription::new("audio");
    d.maxptime = Some(60);
    d.payload_types = vec![
        PayloadType::new(111, "opus", 48000, Some(2))
            .with_parameter("minptime", "10")
            .with_parameter("useinbandfec", "1"),
        PayloadType::new(103, "ISAC", 16000, None),
        PayloadType::new(104, "ISAC", 32000, None),
        PayloadType::new(0, "PCMU", 8000, None),
        PayloadType::new(8, "PCMA", 8000, None),
        PayloadType::new(106, "CN", 32000, None),
        PayloadType::new(105, "CN", 16000, None),
        PayloadType::new(13, "CN", 8000, None),
        PayloadType::new(126, "telephone-event", 8000, None),
    ];
    d.hdrexts = vec![RtpHdrExt::new(
        1,
        "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    )];
    d.rtcp_mux = true;
    d
}

fn seed_video() -> RtpDescription {
    let mut d = RtpDescription::new("video");
    d.payload_types = vec![
        PayloadType::new(100, "VP8", 90000, None)
            .with_rtcp_fb("ccm", Some("fir"))
            .with_rtcp_fb("nack", None)
            .with_rtcp_fb("nack", Some("pli"))
            .with_rtcp_fb("goog-remb", None),
        PayloadType::new(116, "red", 90000, None),
        PayloadType::new(117, "ulpfec", 90000, None),
    ];
    d.hdrexts = vec![
        RtpHdrExt::new(2, "urn:ietf:params:rtp-hdrext:toffset"),
        RtpHdrExt::new(
            3,
            "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
        ),
    ];
    d.rtcp_mux = true;
    d
}

/// The bridge's SSRCs as SEED signals them (§5.2).
fn seed_jvb_sources() -> EndpointSourceSet {
    let mixed = |ssrc, media: MediaType| {
        let label = format!("mixedlabel{}0", media.name());
        Source::new(ssrc, media)
            .with_msid(&format!("mixedmslabel {label}"))
            .with_parameter("cname", "mixed")
            .with_parameter("label", &label)
            .with_parameter("mslabel", "mixedmslabel")
    };
    EndpointSourceSet {
        sources: vec![mixed(2846310773, Audio), mixed(1190442351, Video)],
        groups: vec![],
    }
}

fn seed_participant_sources() -> EndpointSourceSet {
    let track = |ssrc, media, track: &str| {
        Source::new(ssrc, media)
            .with_msid(&format!("stream-ef56 {track}"))
            .with_parameter("cname", "Vd2kq1zw")
            .with_parameter("mslabel", "stream-ef56")
            .with_parameter("label", track)
    };
    EndpointSourceSet {
        sources: vec![
            track(3735928559, Audio, "track-a"),
            track(1001, Video, "track-v"),
            track(1002, Video, "track-v"),
        ],
        groups: vec![SsrcGroup::new(SIM, Video, &[1001, 1002])],
    }
}

/// The SEED offer of §5.2, as the writer must produce it byte for byte.
/// Two departures from the example's text, neither visible to a client:
/// `<ssrc-info>` comes first in each source (the CURRENT format of §5.3),
/// and `msid` is the first parameter.
pub(crate) const SECTION_5_2_OFFER: &str = concat!(
    "<iq type='set' id='j1' from='focus@auth.example.com/focus1447' to='myroom@conference.example.com/abcd1234'>",
    "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' initiator='focus@auth.example.com/focus1447' sid='7j2qv0l1d9kc'>",
    "<content creator='initiator' name='audio' senders='both'>",
    "<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio' maxptime='60'>",
    "<payload-type id='111' name='opus' clockrate='48000' channels='2'>",
    "<parameter name='minptime' value='10'/><parameter name='useinbandfec' value='1'/></payload-type>",
    "<payload-type id='103' name='ISAC' clockrate='16000'/>",
    "<payload-type id='104' name='ISAC' clockrate='32000'/>",
    "<payload-type id='0' name='PCMU' clockrate='8000'/>",
    "<payload-type id='8' name='PCMA' clockrate='8000'/>",
    "<payload-type id='106' name='CN' clockrate='32000'/>",
    "<payload-type id='105' name='CN' clockrate='16000'/>",
    "<payload-type id='13' name='CN' clockrate='8000'/>",
    "<payload-type id='126' name='telephone-event' clockrate='8000'/>",
    "<rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' id='1' uri='urn:ietf:params:rtp-hdrext:ssrc-audio-level'/>",
    "<rtcp-mux/>",
    "<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='2846310773'>",
    "<ssrc-info xmlns='http://jitsi.org/jitmeet' owner='jvb'/>",
    "<parameter name='msid' value='mixedmslabel mixedlabelaudio0'/><parameter name='cname' value='mixed'/>",
    "<parameter name='label' value='mixedlabelaudio0'/><parameter name='mslabel' value='mixedmslabel'/></source>",
    "<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='3735928559'>",
    "<ssrc-info xmlns='http://jitsi.org/jitmeet' owner='myroom@conference.example.com/ef567890'/>",
    "<parameter name='msid' value='stream-ef56 track-a'/><parameter name='cname' value='Vd2kq1zw'/>",
    "<parameter name='mslabel' value='stream-ef56'/><parameter name='label' value='track-a'/></source>",
    "</description>",
    "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='2p9sk1a0mneg1h' pwd='3c2tq0n2l5bd5m4ajd4j0b1k0a'>",
    "<rtcp-mux/>",
    "<fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-1'>5E:0A:3B:C1:77:90:12:AB:CD:EF:01:23:45:67:89:9A:BC:DE:F0:C4</fingerprint>",
    "<candidate component='1' foundation='1' generation='0' id='6e4b1f2a0' network='0' priority='2130706431' protocol='udp' type='host' ip='10.0.0.5' port='10000'/>",
    "</transport>",
    "<bundle xmlns='http://estos.de/ns/bundle'/>",
    "</content>",
    "<content creator='initiator' name='video' senders='both'>",
    "<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'>",
    "<payload-type id='100' name='VP8' clockrate='90000'>",
    "<rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='ccm' subtype='fir'/>",
    "<rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='nack'/>",
    "<rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='nack' subtype='pli'/>",
    "<rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='goog-remb'/>",
    "</payload-type>",
    "<payload-type id='116' name='red' clockrate='90000'/>",
    "<payload-type id='117' name='ulpfec' clockrate='90000'/>",
    "<rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' id='2' uri='urn:ietf:params:rtp-hdrext:toffset'/>",
    "<rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' id='3' uri='http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time'/>",
    "<rtcp-mux/>",
    "<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='1190442351'>",
    "<ssrc-info xmlns='http://jitsi.org/jitmeet' owner='jvb'/>",
    "<parameter name='msid' value='mixedmslabel mixedlabelvideo0'/><parameter name='cname' value='mixed'/>",
    "<parameter name='label' value='mixedlabelvideo0'/><parameter name='mslabel' value='mixedmslabel'/></source>",
    "<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='1001'>",
    "<ssrc-info xmlns='http://jitsi.org/jitmeet' owner='myroom@conference.example.com/ef567890'/>",
    "<parameter name='msid' value='stream-ef56 track-v'/><parameter name='cname' value='Vd2kq1zw'/>",
    "<parameter name='mslabel' value='stream-ef56'/><parameter name='label' value='track-v'/></source>",
    "<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='1002'>",
    "<ssrc-info xmlns='http://jitsi.org/jitmeet' owner='myroom@conference.example.com/ef567890'/>",
    "<parameter name='msid' value='stream-ef56 track-v'/><parameter name='cname' value='Vd2kq1zw'/>",
    "<parameter name='mslabel' value='stream-ef56'/><parameter name='label' value='track-v'/></source>",
    "<ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='SIM'><source ssrc='1001'/><source ssrc='1002'/></ssrc-group>",
    "</description>",
    "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='2p9sk1a0mneg1h' pwd='3c2tq0n2l5bd5m4ajd4j0b1k0a'>",
    "<rtcp-mux/>",
    "<fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-1'>5E:0A:3B:C1:77:90:12:AB:CD:EF:01:23:45:67:89:9A:BC:DE:F0:C4</fingerprint>",
    "<candidate component='1' foundation='1' generation='0' id='6e4b1f2a0' network='0' priority='2130706431' protocol='udp' type='host' ip='10.0.0.5' port='10000'/>",
    "</transport>",
    "<bundle xmlns='http://estos.de/ns/bundle'/>",
    "</content>",
    "<content creator='initiator' name='data' senders='both'>",
    "<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='application'/>",
    "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='2p9sk1a0mneg1h' pwd='3c2tq0n2l5bd5m4ajd4j0b1k0a'>",
    "<rtcp-mux/>",
    "<fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-1'>5E:0A:3B:C1:77:90:12:AB:CD:EF:01:23:45:67:89:9A:BC:DE:F0:C4</fingerprint>",
    "<candidate component='1' foundation='1' generation='0' id='6e4b1f2a0' network='0' priority='2130706431' protocol='udp' type='host' ip='10.0.0.5' port='10000'/>",
    "<sctpmap xmlns='urn:xmpp:jingle:transports:dtls-sctp:1' number='5000' protocol='webrtc-datachannel' streams='1024'/>",
    "</transport>",
    "<bundle xmlns='http://estos.de/ns/bundle'/>",
    "</content>",
    "<group xmlns='urn:xmpp:jingle:apps:grouping:0' semantics='BUNDLE'>",
    "<content name='audio'/><content name='video'/><content name='data'/></group>",
    "<startmuted xmlns='http://jitsi.org/jitmeet/start-muted' audio='false' video='true'/>",
    "</jingle></iq>",
);

#[test]
fn writes_the_section_5_2_offer_and_reads_it_back() {
    let transport = bridge_transport_seed();
    let (audio, video, data) = (
        seed_audio(),
        seed_video(),
        RtpDescription::new("application"),
    );
    let sctp = SctpMap::datachannel(5000);
    let content = |name, d| OfferContent {
        name,
        senders: Senders::Both,
        description: Some(d),
        transport: Some(&transport),
        sctpmap: None,
        estos_bundle: true,
    };
    let contents = [
        content("audio", &audio),
        content("video", &video),
        OfferContent {
            sctpmap: Some(&sctp),
            ..content("data", &data)
        },
    ];
    let (jvb, other) = (seed_jvb_sources(), seed_participant_sources());
    let owner = "myroom@conference.example.com/ef567890";
    let sources = [("jvb", &jvb), (owner, &other)];
    let offer = Offer {
        sid: "7j2qv0l1d9kc",
        initiator: "focus@auth.example.com/focus1447",
        contents: &contents,
        sources: &sources,
        bundle: true,
        start_muted: Some(StartMuted {
            audio: false,
            video: true,
        }),
        bridge_session: None,
    };
    let xml = written(|out| {
        write_session_initiate(
            out,
            "j1",
            Some("focus@auth.example.com/focus1447"),
            "myroom@conference.example.com/abcd1234",
            &offer,
        )
    });
    assert_eq!(xml, SECTION_5_2_OFFER);

    with_jingle(&xml, |j| {
        assert_eq!(j.action, Action::SessionInitiate);
        assert_eq!(j.sid, "7j2qv0l1d9kc");
        assert_eq!(
            j.initiator.as_deref(),
            Some("focus@auth.example.com/focus1447")
        );
        assert_eq!(
            j.rtp_descriptions().unwrap(),
            vec![audio.clone(), video.clone(), data.clone()]
        );
        assert_eq!(j.transport().unwrap(), Some(transport.clone()));
        let data_t = j.content("data").unwrap().transport().unwrap().unwrap();
        assert_eq!(data_t.sctpmap, Some(sctp.clone()));
        assert!(j.contents().all(|c| c.has_estos_bundle()
            && c.creator() == Some(Creator::Initiator)
            && c.senders() == Some(Senders::Both)));
        let by_owner = j.sources_by_owner().unwrap();
        assert_eq!(by_owner.len(), 2);
        assert_eq!(by_owner.get("jvb"), Some(&jvb));
        assert_eq!(by_owner.get(owner), Some(&other));
        assert_eq!(
            j.start_muted(),
            Some(StartMuted {
                audio: false,
                video: true
            })
        );
        assert_eq!(
            j.bundle_group().unwrap().contents().collect::<Vec<_>>(),
            vec!["audio", "video", "data"]
        );
        assert!(j.bridge_session().is_none());
    });
}

/// The CURRENT offer of §5.3: codecs from configuration, RED with an
/// unnamed parameter, named sources with endpoint-id owners, a
/// `<bridge-session/>`, no estos marker; also as `transport-replace`.
#[test]
fn writes_a_current_offer_with_bridge_session() {
    let tcc = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
    let mut audio = RtpDescription::new("audio");
    audio.maxptime = Some(60);
    audio.payload_types = vec![
        PayloadType::new(112, "red", 48000, Some(2)).with_parameter("", "111/111"),
        PayloadType::new(111, "opus", 48000, Some(2))
            .with_parameter("minptime", "10")
            .with_rtcp_fb("transport-cc", None),
        PayloadType::new(126, "telephone-event", 8000, None),
    ];
    audio.hdrexts = vec![
        RtpHdrExt::new(1, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
        RtpHdrExt::new(10, "urn:ietf:params:rtp-hdrext:sdes:mid"),
        RtpHdrExt::new(5, tcc),
    ];
    audio.extmap_allow_mixed = true;
    audio.rtcp_mux = true;
    let mut video = RtpDescription::new("video");
    for (id, name, rtx) in [
        (41, "AV1", 42),
        (100, "VP8", 96),
        (107, "H264", 99),
        (101, "VP9", 97),
    ] {
        let mut pt = PayloadType::new(id, name, 90000, None);
        if name == "H264" {
            pt = pt
                .with_parameter("profile-level-id", "42e01f")
                .with_parameter("level-asymmetry-allowed", "1")
                .with_parameter("packetization-mode", "1");
        }
        pt = pt
            .with_rtcp_fb("ccm", Some("fir"))
            .with_rtcp_fb("nack", None)
            .with_rtcp_fb("nack", Some("pli"))
            .with_rtcp_fb("transport-cc", None);
        video.payload_types.push(pt);
        video
            .payload_types
            .push(PayloadType::new(rtx, "rtx", 90000, None).with_parameter("apt", &id.to_string()));
    }
    video.rtcp_mux = true;
    let data = RtpDescription::new("application");
    let mut transport = bridge_transport_seed();
    transport.fingerprints[0] = Fingerprint::new("sha-256", Some("actpass"), "1A:2B:FF");
    let sctp = SctpMap::datachannel(5000);
    let content = |name, d| OfferContent {
        name,
        senders: Senders::Both,
        description: Some(d),
        transport: Some(&transport),
        sctpmap: None,
        estos_bundle: false,
    };
    let contents = [
        content("audio", &audio),
        content("video", &video),
        OfferContent {
            sctpmap: Some(&sctp),
            ..content("data", &data)
        },
    ];
    let jvb = EndpointSourceSet {
        sources: vec![
            Source::new(411312308, Audio)
                .with_name("jvb-a0")
                .with_msid("mixedmslabel mixedlabelaudio0"),
            Source::new(2917553204, Video)
                .with_name("jvb-v0")
                .with_msid("mixedmslabel mixedlabelvideo0"),
        ],
        groups: vec![],
    };
    let mut other = EndpointSourceSet::new();
    other.add_source(
        Source::new(4011122233, Audio)
            .with_name("ef567890-a0")
            .with_msid("m-a t-a"),
    );
    other.add_source(
        Source::new(2001, Video)
            .with_name("ef567890-v0")
            .with_video_type("camera")
            .with_msid("m-v t-v"),
    );
    other.add_source(
        Source::new(2004, Video)
            .with_name("ef567890-v0")
            .with_video_type("camera")
            .with_msid("m-v t-v"),
    );
    other.add_group(SsrcGroup::new(FID, Video, &[2001, 2004]));
    let sources = [("jvb", &jvb), ("ef567890", &other)];
    let offer = Offer {
        sid: "q8w7e6r5t4y3",
        initiator: "focus@auth.meet.test/focus",
        contents: &contents,
        sources: &sources,
        bundle: true,
        start_muted: None,
        bridge_session: Some(BridgeSession {
            id: Some("9f0e1d2c-3b4a-5968-7766-554433221100".into()),
            region: Some("eu-west-1".into()),
            ..BridgeSession::default()
        }),
    };
    for (action, write) in [
        (
            Action::SessionInitiate,
            write_session_initiate as fn(&mut Vec<u8>, &str, Option<&str>, &str, &Offer<'_>),
        ),
        (Action::TransportReplace, write_transport_replace),
    ] {
        let xml = written(|out| {
            write(
                out,
                "o1",
                None,
                "myroom@conference.meet.test/abcd1234",
                &offer,
            )
        });
        // The §5.3 source format, exactly.
        assert!(xml.contains(
            "<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='2001' name='ef567890-v0' videoType='camera'>\
             <ssrc-info xmlns='http://jitsi.org/jitmeet' owner='ef567890'/>\
             <parameter name='msid' value='m-v t-v'/></source>"
        ));
        assert!(xml.contains(
            "<payload-type id='112' name='red' clockrate='48000' channels='2'><parameter value='111/111'/></payload-type>"
        ));
        assert!(xml.contains(
            "<rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' id='5' uri='http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01'/>\
             <extmap-allow-mixed xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/><rtcp-mux/>"
        ));
        assert!(xml.ends_with(
            "<group xmlns='urn:xmpp:jingle:apps:grouping:0' semantics='BUNDLE'>\
             <content name='audio'/><content name='video'/><content name='data'/></group>\
             <bridge-session xmlns='http://jitsi.org/protocol/focus' \
             id='9f0e1d2c-3b4a-5968-7766-554433221100' region='eu-west-1'/></jingle></iq>"
        ));
        assert!(!xml.contains("estos") && !xml.contains("startmuted"));

        with_jingle(&xml, |j| {
            assert_eq!(j.action, action);
            assert_eq!(
                j.rtp_descriptions().unwrap(),
                vec![audio.clone(), video.clone(), data.clone()]
            );
            let red = &j.rtp_description(Audio).unwrap().unwrap().payload_types[0];
            assert_eq!(red.parameters, vec![("".into(), "111/111".into())]);
            let by_owner = j.sources_by_owner().unwrap();
            assert_eq!(by_owner.get("jvb"), Some(&jvb));
            assert_eq!(by_owner.get("ef567890"), Some(&other));
            assert_eq!(
                j.bridge_session(),
                Some(BridgeSession {
                    id: Some("9f0e1d2c-3b4a-5968-7766-554433221100".into()),
                    region: Some("eu-west-1".into()),
                    restart: false,
                    ice_restart: false,
                })
            );
            let t = j.transport().unwrap().unwrap();
            assert_eq!(t.fingerprints[0].setup(), Some("actpass"));
        });
    }
}

#[test]
fn offer_leaves_out_sources_of_media_it_does_not_offer() {
    let audio = seed_audio();
    let contents = [OfferContent {
        name: "audio",
        senders: Senders::Both,
        description: Some(&audio),
        transport: None,
        sctpmap: None,
        estos_bundle: false,
    }];
    let other = seed_participant_sources();
    let sources = [("ef", &other)];
    let offer = Offer {
        sid: "s",
        initiator: "f@a/b",
        contents: &contents,
        sources: &sources,
        bundle: false,
        start_muted: None,
        bridge_session: None,
    };
    let xml = written(|out| write_session_initiate(out, "1", None, "r@c/x", &offer));
    assert!(!xml.contains("<group") && !xml.contains("<transport"));
    with_jingle(&xml, |j| {
        let set = j.sources().unwrap();
        assert_eq!(
            set.ssrcs_of(Audio).collect::<Vec<_>>(),
            vec![Ssrc(3735928559)]
        );
        assert_eq!(set.ssrcs_of(Video).count(), 0);
        assert!(set.groups.is_empty());
        assert!(j.transport().unwrap().is_none());
        assert!(j.bundle_group().is_none());
    });
}

// ---------------------------------------------------------------------------
// Transport copies

/// A bridge transport as a Colibri2 answer carries it, in the writer's own
/// style, with every kind of candidate and an attribute nobody knows.
const BRIDGE_TRANSPORT: &str = concat!(
    "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='8vbq01hdp1la2' pwd='4bq0n5l1m3kc7s2cp0d6s1ci5'>",
    "<rtcp-mux/>",
    "<fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass' cryptex='true'>",
    "1A:2B:3C:4D:5E:6F:70:81:92:A3:B4:C5:D6:E7:F8:09:1A:2B:3C:4D:5E:6F:70:81:92:A3:B4:C5:D6:E7:F8:FF</fingerprint>",
    "<fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-1' setup='actpass'>AB:CD</fingerprint>",
    "<candidate component='1' foundation='1' generation='0' id='653aa1ba295b62b07a4d0b33' network='0' ",
    "priority='2130706431' protocol='udp' type='host' ip='10.0.1.17' port='10000'/>",
    "<candidate component='1' foundation='2' generation='0' id='653aa1ba295b62b07a4d0b34' network='0' ",
    "priority='1694498815' protocol='udp' type='srflx' ip='203.0.113.7' port='10000' rel-addr='10.0.1.17' rel-port='10000'/>",
    "<candidate component='1' foundation='3' generation='0' id='653aa1ba295b62b07a4d0b35' network='0' ",
    "priority='1518280447' protocol='tcp' type='host' ip='10.0.1.17' port='4443' tcptype='passive'/>",
    "<candidate component='1' foundation='4' generation='1' id='653aa1ba295b62b07a4d0b36' network='2' ",
    "priority='16777215' protocol='udp' type='relay' ip='198.51.100.9' port='3478' rel-addr='203.0.113.7' rel-port='10000' x-future='yes'/>",
    "<web-socket xmlns='http://jitsi.org/protocol/colibri' url='wss://meet.example.com/colibri-ws/default-id/5d2b/abcd1234?pwd=4bq0n5l1m3kc7s2cp0d6s1ci5'/>",
    "</transport>",
);

#[test]
fn transport_copy_is_verbatim() {
    // As the focus receives it: nested in a Colibri2 answer.
    let answer = format!(
        "<iq type='result' id='k1'><conference-modified xmlns='jitsi:colibri2' meeting-id='m'>\
         <endpoint id='abcd1234'><transport>{BRIDGE_TRANSPORT}<sctp port='5000' role='server'/>\
         </transport></endpoint></conference-modified></iq>"
    );
    let mut p = Parser::new();
    let doc = p.parse(answer.as_bytes(), ns::CLIENT).unwrap();
    let ice = doc
        .root()
        .first_child()
        .and_then(|c| c.first_child())
        .and_then(|e| e.first_child())
        .and_then(|t| t.first_child())
        .unwrap();
    let t = IceUdpTransport::parse(ice).unwrap();
    assert_eq!(t.candidates.len(), 4);
    assert_eq!(t.fingerprints.len(), 2);
    assert_eq!(t.fingerprints[0].attrs.get("cryptex"), Some("true"));
    assert_eq!(t.candidates[3].attrs.get("x-future"), Some("yes"));
    assert_eq!(t.candidates[3].generation(), Some(1));
    assert_eq!(t.candidates[3].network(), Some(2));
    assert_eq!(
        t.web_sockets[0].url(),
        Some(
            "wss://meet.example.com/colibri-ws/default-id/5d2b/abcd1234?pwd=4bq0n5l1m3kc7s2cp0d6s1ci5"
        )
    );

    // Written alone: the same bytes.
    let mut out = Vec::new();
    t.write(&mut XmlWriter::new(&mut out));
    assert_eq!(String::from_utf8(out).unwrap(), BRIDGE_TRANSPORT);

    // Written into an offer: the same bytes again, plus the SCTP map.
    let sctp = SctpMap::datachannel(5000);
    let contents = [OfferContent {
        name: "data",
        senders: Senders::Both,
        description: None,
        transport: Some(&t),
        sctpmap: Some(&sctp),
        estos_bundle: false,
    }];
    let offer = Offer {
        sid: "s",
        initiator: "f@a/b",
        contents: &contents,
        sources: &[],
        bundle: false,
        start_muted: None,
        bridge_session: None,
    };
    let xml = written(|out| write_session_initiate(out, "1", None, "r@c/x", &offer));
    let with_sctp = BRIDGE_TRANSPORT.replace(
        "</transport>",
        "<sctpmap xmlns='urn:xmpp:jingle:transports:dtls-sctp:1' number='5000' protocol='webrtc-datachannel' streams='1024'/></transport>",
    );
    assert!(xml.contains(&with_sctp), "{xml}");

    // And through transport-info.
    let xml = written(|out| write_transport_info(out, "ti", None, "r@c/x", "s", "audio", &t));
    assert!(xml.contains(BRIDGE_TRANSPORT));
    with_jingle(&xml, |j| {
        assert_eq!(j.action, Action::TransportInfo);
        let c = j.contents().next().unwrap();
        assert_eq!(
            (c.name().as_deref(), c.creator()),
            (Some("audio"), Some(Creator::Initiator))
        );
        assert_eq!(j.transport().unwrap(), Some(t.clone()));
    });
}

#[test]
fn transport_copy_normalises_quoting_but_keeps_values_and_order() {
    let xml = "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' pwd=\"p'w&amp;d\" ufrag=\"u\" \
        xmlns:p='urn:p' p:x='1' xml:lang='en'>\
        <candidate port=\"1\" ip=\"::1\" type='host' note='a&lt;b&quot;c'/>\
        <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' setup='active' hash='sha-256'><![CDATA[AA:BB]]></fingerprint>\
        <unknown xmlns='urn:x'/><rtcp-mux/></transport>";
    let mut p = Parser::new();
    let doc = p.parse(xml.as_bytes(), ns::CLIENT).unwrap();
    let t = IceUdpTransport::parse(doc.root()).unwrap();
    assert_eq!(
        (t.ufrag.as_deref(), t.pwd.as_deref()),
        (Some("u"), Some("p'w&d"))
    );
    assert_eq!(
        t.candidates[0].attrs.iter().collect::<Vec<_>>(),
        vec![
            ("port", "1"),
            ("ip", "::1"),
            ("type", "host"),
            ("note", "a<b\"c")
        ]
    );
    assert_eq!(t.fingerprints[0].value.as_ref(), "AA:BB");
    assert!(t.rtcp_mux);
    let mut out = Vec::new();
    t.write(&mut XmlWriter::new(&mut out));
    let copy = String::from_utf8(out).unwrap();
    assert_eq!(
        copy,
        "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='u' pwd='p&apos;w&amp;d'><rtcp-mux/>\
         <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' setup='active' hash='sha-256'>AA:BB</fingerprint>\
         <candidate port='1' ip='::1' type='host' note='a&lt;b&quot;c'/></transport>"
    );
    let doc = p.parse(copy.as_bytes(), ns::CLIENT).unwrap();
    assert_eq!(IceUdpTransport::parse(doc.root()).unwrap(), t);
}

#[test]
fn transport_attrs_edit_in_place() {
    let mut f = Fingerprint::new("sha-256", Some("actpass"), "AA");
    f.attrs.set("cryptex", "true");
    f.set_setup("active");
    assert_eq!(
        f.attrs.iter().collect::<Vec<_>>(),
        vec![
            ("hash", "sha-256"),
            ("setup", "active"),
            ("cryptex", "true")
        ]
    );
    assert!(f.attrs.remove("cryptex"));
    assert!(!f.attrs.remove("cryptex"));
    assert_eq!((f.attrs.len(), f.attrs.is_empty()), (2, false));
    assert_eq!(WebSocket::new("wss://x").url(), Some("wss://x"));
    // A name set by hand that is not an XML name is not written.
    let t = IceUdpTransport {
        candidates: vec![Candidate {
            attrs: Attrs::new().with("port", "1").with("bad name", "x"),
        }],
        ..IceUdpTransport::default()
    };
    let mut out = Vec::new();
    t.write(&mut XmlWriter::new(&mut out));
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'><candidate port='1'/></transport>"
    );
}

// ---------------------------------------------------------------------------
// source-add / source-remove from the focus

/// §5.5's `source-add`, complete.
pub(crate) const SECTION_5_5_SOURCE_ADD: &str = concat!(
    "<iq type='set' id='s1' from='focus@auth.example.com/focus1447' to='myroom@conference.example.com/ef567890'>",
    "<jingle xmlns='urn:xmpp:jingle:1' action='source-add' sid='q8w7e6r5t4y3'>",
    "<content name='audio'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>",
    "<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='4011122233' name='abcd1234-a0'>",
    "<ssrc-info xmlns='http://jitsi.org/jitmeet' owner='abcd1234'/>",
    "<parameter name='msid' value='abcd1234-audio-1 a1b2-track'/></source>",
    "</description></content>",
    "<content name='video'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'>",
    "<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='2001' name='abcd1234-v0' videoType='camera'>",
    "<ssrc-info xmlns='http://jitsi.org/jitmeet' owner='abcd1234'/>",
    "<parameter name='msid' value='abcd1234-video-1 v1-track'/></source>",
    "<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='2004' name='abcd1234-v0' videoType='camera'>",
    "<ssrc-info xmlns='http://jitsi.org/jitmeet' owner='abcd1234'/>",
    "<parameter name='msid' value='abcd1234-video-1 v1-track'/></source>",
    "<ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='FID'><source ssrc='2001'/><source ssrc='2004'/></ssrc-group>",
    "</description></content>",
    "</jingle></iq>",
);

fn abcd_sources() -> EndpointSourceSet {
    let v = |ssrc| {
        Source::new(ssrc, Video)
            .with_name("abcd1234-v0")
            .with_video_type("camera")
            .with_msid("abcd1234-video-1 v1-track")
    };
    EndpointSourceSet {
        sources: vec![
            Source::new(4011122233, Audio)
                .with_name("abcd1234-a0")
                .with_msid("abcd1234-audio-1 a1b2-track"),
            v(2001),
            v(2004),
        ],
        groups: vec![SsrcGroup::new(FID, Video, &[2001, 2004])],
    }
}

#[test]
fn source_add_matches_section_5_5_and_round_trips() {
    let set = abcd_sources();
    let xml = written(|out| {
        write_source_add(
            out,
            "s1",
            Some("focus@auth.example.com/focus1447"),
            "myroom@conference.example.com/ef567890",
            "q8w7e6r5t4y3",
            &[("abcd1234", &set)],
        )
    });
    assert_eq!(xml, SECTION_5_5_SOURCE_ADD);
    with_jingle(&xml, |j| {
        assert_eq!(
            (j.action, j.sid.as_ref()),
            (Action::SourceAdd, "q8w7e6r5t4y3")
        );
        assert_eq!(j.sources().unwrap(), set);
        let map = j.sources_by_owner().unwrap();
        assert_eq!(map.len(), 1);
        assert_eq!(map.get("abcd1234"), Some(&set));
    });
}

#[test]
fn source_remove_and_legacy_spellings_round_trip_with_two_owners() {
    let a = abcd_sources();
    let mut b = EndpointSourceSet::new();
    b.add_source(
        Source::new(7, Video)
            .with_name("ef-v1")
            .with_video_type("desktop"),
    );
    let owners = [("abcd1234", &a), ("ef", &b)];
    for action in [
        Action::SourceRemove,
        Action::SourceAdd,
        Action::AddSource,
        Action::RemoveSource,
    ] {
        let xml = written(|out| {
            if action == Action::SourceRemove {
                write_source_remove(out, "r", None, "x@y/z", "sid", &owners)
            } else {
                write_source_update(out, action, "r", None, "x@y/z", "sid", &owners)
            }
        });
        assert!(xml.contains(&format!("action='{}'", action.name())));
        with_jingle(&xml, |j| {
            assert_eq!(j.action, action);
            let map = j.sources_by_owner().unwrap();
            assert_eq!(map.get("abcd1234"), Some(&a));
            assert_eq!(map.get("ef"), Some(&b));
            let mut both = a.clone();
            both.merge(&b);
            assert_eq!(j.sources().unwrap(), both);
        });
    }
    // Only the media that have something get a content.
    let xml = written(|out| write_source_remove(out, "r", None, "x@y/z", "sid", &[("ef", &b)]));
    assert!(!xml.contains("name='audio'") && xml.contains("name='video'"));
    // A group alone (CURRENT may remove groups by themselves).
    let g = EndpointSourceSet {
        sources: vec![],
        groups: vec![SsrcGroup::new(SIM, Video, &[1, 2])],
    };
    let xml = written(|out| write_source_remove(out, "r", None, "x@y/z", "sid", &[("ef", &g)]));
    with_jingle(&xml, |j| assert_eq!(j.sources().unwrap(), g));
}

#[test]
fn values_that_need_escaping_survive_the_round_trip() {
    let mut set = EndpointSourceSet::new();
    set.add_source(
        Source::new(u32::MAX, Audio)
            .with_name("a'b\"c<d>&e")
            .with_msid("x & y")
            .with_parameter("", "unnamed"),
    );
    let owner = "room@conference.example.com/O'Brien & co";
    let xml = written(|out| write_source_add(out, "1", None, "r@c/x", "s", &[(owner, &set)]));
    with_jingle(&xml, |j| {
        assert_eq!(j.sources_by_owner().unwrap().get(owner), Some(&set));
    });
}

// ---------------------------------------------------------------------------
// session-terminate, session-info

#[test]
fn session_terminate_matches_section_5_9_and_reads_back() {
    let xml = written(|out| {
        write_session_terminate(
            out,
            "t1",
            Some("focus@auth.example.com/focus"),
            "myroom@conference.example.com/abcd1234",
            "7j2qv0l1d9kc",
            ReasonCondition::Expired,
            Some("Idle session timeout"),
            None,
        )
    });
    assert_eq!(
        xml,
        "<iq type='set' id='t1' from='focus@auth.example.com/focus' to='myroom@conference.example.com/abcd1234'>\
         <jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' sid='7j2qv0l1d9kc'>\
         <reason><expired/><text>Idle session timeout</text></reason></jingle></iq>"
    );
    with_jingle(&xml, |j| {
        assert_eq!(j.action, Action::SessionTerminate);
        assert_eq!(
            j.reason(),
            Some(Reason {
                condition: Some(ReasonCondition::Expired),
                text: Some("Idle session timeout".into())
            })
        );
    });

    let bs = BridgeSession {
        id: Some("9f0e".into()),
        restart: true,
        ..BridgeSession::default()
    };
    let xml = written(|out| {
        write_session_terminate(
            out,
            "t2",
            None,
            "r@c/x",
            "s",
            ReasonCondition::Success,
            Some("moving"),
            Some(&bs),
        )
    });
    assert!(xml.contains(
        "<reason><success/><text>moving</text></reason>\
         <bridge-session xmlns='http://jitsi.org/protocol/focus' id='9f0e' restart='true'/>"
    ));
    with_jingle(&xml, |j| {
        assert_eq!(
            j.reason().unwrap().condition,
            Some(ReasonCondition::Success)
        );
        assert_eq!(j.bridge_session(), Some(bs.clone()));
    });

    let xml = written(|out| {
        write_session_terminate(
            out,
            "t3",
            None,
            "r@c/x",
            "s",
            ReasonCondition::GeneralError,
            None,
            None,
        )
    });
    assert!(xml.contains("<reason><general-error/></reason></jingle>"));
    with_jingle(&xml, |j| {
        assert_eq!(
            j.reason(),
            Some(Reason {
                condition: Some(ReasonCondition::GeneralError),
                text: None
            })
        );
    });
}

#[test]
fn every_reason_condition_round_trips() {
    for c in ReasonCondition::ALL {
        assert_eq!(ReasonCondition::from_name(c.name()), Some(c));
        let xml =
            written(|out| write_session_terminate(out, "t", None, "r@c/x", "s", c, None, None));
        with_jingle(&xml, |j| assert_eq!(j.reason().unwrap().condition, Some(c)));
    }
    assert_eq!(ReasonCondition::from_name("text"), None);
}
