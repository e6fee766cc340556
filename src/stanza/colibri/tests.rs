//! Unit tests of Colibri v1, stats, health check and discovery: protocol.md's
//! literal XML in and out, and round trips through both sides.

use super::*;
use crate::stanza::jingle::{Attrs, Candidate, Fingerprint, RtcpFb};
use crate::stanza::sources::Ssrc;
use crate::xml::Parser;

use MediaType::{Audio, Video};

/// Drops the whitespace between tags and folds line breaks inside tags, so
/// protocol.md's indented examples compare with what the writers produce.
pub(crate) fn squash(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut in_tag = false;
    let mut pending_ws = String::new();
    let mut chars = xml.chars().peekable();
    while let Some(c) = chars.next() {
        if in_tag {
            if c == '\n' {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                if !out.ends_with(' ') {
                    out.push(' ');
                }
                continue;
            }
            out.push(c);
            if c == '>' {
                in_tag = false;
            }
        } else if c == '<' {
            // Whitespace between two tags is layout, not text.
            if !(out.ends_with('>') && pending_ws.chars().all(char::is_whitespace)) {
                out.push_str(&pending_ws);
            }
            pending_ws.clear();
            out.push(c);
            in_tag = true;
        } else {
            pending_ws.push(c);
        }
    }
    out.push_str(&pending_ws);
    out
}

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

fn pt(id: u8, name: &str, rate: u32) -> PayloadType {
    PayloadType::new(id, name, rate, None)
}

fn fb(ty: &str, subtype: Option<&str>) -> RtcpFb {
    RtcpFb {
        ty: ty.into(),
        subtype: subtype.map(Into::into),
    }
}

/// A transport as written.
fn xml_of(t: &IceUdpTransport) -> String {
    let mut out = Vec::new();
    t.write(&mut XmlWriter::new(&mut out));
    s(out)
}

/// The audio codecs of protocol.md's allocation, the elided ones included.
fn audio_pts() -> Vec<PayloadType> {
    let mut opus = PayloadType::new(111, "opus", 48000, Some(2));
    opus.parameters = vec![
        ("minptime".into(), "10".into()),
        ("useinbandfec".into(), "1".into()),
    ];
    vec![
        opus,
        pt(103, "ISAC", 16000),
        pt(104, "ISAC", 32000),
        pt(0, "PCMU", 8000),
        pt(8, "PCMA", 8000),
        pt(106, "CN", 32000),
        pt(105, "CN", 16000),
        pt(13, "CN", 8000),
        pt(126, "telephone-event", 8000),
    ]
}

fn video_pts() -> Vec<PayloadType> {
    let mut vp8 = pt(100, "VP8", 90000);
    vp8.rtcp_fbs = vec![
        fb("ccm", Some("fir")),
        fb("nack", None),
        fb("nack", Some("pli")),
        fb("goog-remb", None),
    ];
    vec![vp8, pt(116, "red", 90000), pt(117, "ulpfec", 90000)]
}

const ALLOCATE: &str = "<iq type='get' id='a1' from='focus@auth.example.com/focus1447' to='jitsi-videobridge.example.com'>
  <conference xmlns='http://jitsi.org/protocol/colibri' name='myroom'>
    <content name='audio'>
      <channel endpoint='abcd1234' initiator='true' channel-bundle-id='abcd1234' last-n='-1'>
        <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='111' name='opus' clockrate='48000' channels='2'>
          <parameter name='minptime' value='10'/>
          <parameter name='useinbandfec' value='1'/>
        </payload-type>
        <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='103' name='ISAC' clockrate='16000'/>
        <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='104' name='ISAC' clockrate='32000'/>
        <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='0' name='PCMU' clockrate='8000'/>
        <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='8' name='PCMA' clockrate='8000'/>
        <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='106' name='CN' clockrate='32000'/>
        <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='105' name='CN' clockrate='16000'/>
        <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='13' name='CN' clockrate='8000'/>
        <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='126' name='telephone-event' clockrate='8000'/>
        <rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' id='1' uri='urn:ietf:params:rtp-hdrext:ssrc-audio-level'/>
      </channel>
    </content>
    <content name='video'>
      <channel endpoint='abcd1234' initiator='true' channel-bundle-id='abcd1234' last-n='-1'>
        <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='100' name='VP8' clockrate='90000'>
          <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='ccm' subtype='fir'/>
          <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='nack'/>
          <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='nack' subtype='pli'/>
          <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='goog-remb'/>
        </payload-type>
        <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='116' name='red' clockrate='90000'/>
        <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='117' name='ulpfec' clockrate='90000'/>
        <rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' id='2' uri='urn:ietf:params:rtp-hdrext:toffset'/>
        <rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' id='3' uri='http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time'/>
      </channel>
    </content>
    <content name='data'>
      <sctpconnection endpoint='abcd1234' initiator='true' channel-bundle-id='abcd1234' port='5000'/>
    </content>
    <channel-bundle id='abcd1234'>
      <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'>
        <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0'/>
      </transport>
    </channel-bundle>
  </conference>
</iq>";

const REPLY: &str = "<iq type='result' id='a1' from='jitsi-videobridge.example.com' to='focus@auth.example.com/focus1447'>
  <conference xmlns='http://jitsi.org/protocol/colibri' id='8f1d3c2b7a9e4d11' name='myroom'>
    <content name='audio'>
      <channel id='5b2f0e9c11aa' endpoint='abcd1234' channel-bundle-id='abcd1234' initiator='true'
               expire='60' direction='sendrecv' rtp-level-relay-type='translator'>
        <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='2846310773'/>
      </channel>
    </content>
    <content name='video'>
      <channel id='77d13f02b4c8' endpoint='abcd1234' channel-bundle-id='abcd1234' initiator='true'
               expire='60' direction='sendrecv' rtp-level-relay-type='translator'>
        <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='1190442351'/>
      </channel>
    </content>
    <content name='data'>
      <sctpconnection id='c0de11aa22bb' endpoint='abcd1234' channel-bundle-id='abcd1234'
                      initiator='true' expire='60' port='5000'/>
    </content>
    <channel-bundle id='abcd1234'>
      <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='2p9sk1a0mneg1h' pwd='3c2tq0n2l5bd5m4ajd4j0b1k0a'>
        <rtcp-mux/>
        <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-1'>5E:0A:…:C4</fingerprint>
        <candidate component='1' foundation='1' generation='0' id='6e4b1f2a0' network='0'
                   priority='2130706431' protocol='udp' type='host' ip='10.0.0.5' port='10000'/>
        <candidate component='1' foundation='2' generation='0' id='6e4b1f2a1' network='0'
                   priority='1694498815' protocol='udp' type='srflx' ip='203.0.113.7' port='10000'
                   rel-addr='10.0.0.5' rel-port='10000'/>
      </transport>
    </channel-bundle>
  </conference>
</iq>";

fn seed_allocation_write(bundle: bool, transport: &IceUdpTransport) -> String {
    let (a, v) = (audio_pts(), video_pts());
    let audio_ext = [RtpHdrExt::new(
        1,
        "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    )];
    let video_ext = [
        RtpHdrExt::new(2, "urn:ietf:params:rtp-hdrext:toffset"),
        RtpHdrExt::new(
            3,
            "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
        ),
    ];
    let contents = [
        AllocContent::Audio(RtpContent {
            payload_types: &a,
            hdrexts: &audio_ext,
            transport: Some(transport),
        }),
        AllocContent::Video(RtpContent {
            payload_types: &v,
            hdrexts: &video_ext,
            transport: Some(transport),
        }),
        AllocContent::Data {
            port: 5000,
            transport: Some(transport),
        },
    ];
    let alloc = ChannelAllocation {
        conference_id: None,
        name: Some("myroom"),
        endpoint: "abcd1234",
        bundle,
        initiator: true,
        last_n: Some(-1),
        adaptive_last_n: None,
        adaptive_simulcast: None,
        simulcast_mode: None,
        contents: &contents,
    };
    let mut out = Vec::new();
    alloc.write(
        &mut out,
        "a1",
        Some("focus@auth.example.com/focus1447"),
        "jitsi-videobridge.example.com",
    );
    s(out)
}

#[test]
fn squash_folds_layout_only() {
    assert_eq!(
        squash("<a x='1'\n     y='2'>\n  <b>t u</b>\n</a>"),
        "<a x='1' y='2'><b>t u</b></a>"
    );
}

#[test]
fn allocation_is_protocol_md_verbatim() {
    let written = seed_allocation_write(true, &IceUdpTransport::seed_placeholder());
    assert_eq!(written, squash(ALLOCATE));
}

#[test]
fn allocation_without_bundle_puts_a_transport_on_each_channel() {
    let written = seed_allocation_write(false, &IceUdpTransport::seed_placeholder());
    assert!(!written.contains("channel-bundle"));
    with_iq(&written, |iq| {
        let conf = parse_v1_request(iq.payload.unwrap()).unwrap();
        assert_eq!(conf.channels.len(), 2);
        assert!(conf.channels.iter().all(|c| c.transport.is_some()));
        assert!(conf.channels.iter().all(|c| c.bundle_id.is_none()));
        assert!(conf.sctp_connections[0].transport.is_some());
        assert!(conf.bundles.is_empty());
    });
}

#[test]
fn bridge_reply_is_read_and_written_back_verbatim() {
    // Layout inside the transport is kept verbatim, so compare without it.
    with_iq(&squash(REPLY), |iq| {
        let conf = V1Conference::parse_response(iq.payload.unwrap()).unwrap();
        assert_eq!(conf.id.as_deref(), Some("8f1d3c2b7a9e4d11"));
        assert_eq!(conf.name.as_deref(), Some("myroom"));
        let audio = conf.channel(MediaType::Audio, "abcd1234").unwrap();
        assert_eq!(audio.id.as_deref(), Some("5b2f0e9c11aa"));
        assert_eq!(audio.expire, Some(60));
        assert_eq!(audio.direction, Some(Direction::SendRecv));
        assert_eq!(audio.sources, Some(vec![Source::new(2846310773, Audio)]));
        let video = conf.channel(MediaType::Video, "abcd1234").unwrap();
        assert_eq!(video.sources.as_ref().unwrap()[0].ssrc, Ssrc(1190442351));
        assert_eq!(video.sources.as_ref().unwrap()[0].media, Video);
        let p = conf.participant("abcd1234").unwrap();
        assert_eq!(
            p,
            V1ParticipantChannels {
                endpoint: "abcd1234".into(),
                channels: vec![
                    (MediaType::Audio, "5b2f0e9c11aa".into()),
                    (MediaType::Video, "77d13f02b4c8".into())
                ],
                sctp: Some("c0de11aa22bb".into()),
                bundle_id: Some("abcd1234".into()),
            }
        );
        assert!(conf.participant("nobody").is_none());
        for content in [
            ContentKind::Rtp(Audio),
            ContentKind::Rtp(Video),
            ContentKind::Data,
        ] {
            let t = conf.transport_for(content, "abcd1234").unwrap();
            assert_eq!(t.ufrag.as_deref(), Some("2p9sk1a0mneg1h"));
            assert_eq!(t.candidates.len(), 2);
            assert!(t.rtcp_mux);
            assert_eq!(t.fingerprints[0].hash(), Some("sha-1"));
        }
        // The emulator's writer reproduces the bridge's reply exactly.
        let mut out = Vec::new();
        write_v1_response(
            &mut out,
            "a1",
            Some("jitsi-videobridge.example.com"),
            Some("focus@auth.example.com/focus1447"),
            &conf,
        );
        assert_eq!(s(out), squash(REPLY));
    });
}

#[test]
fn a_response_must_name_the_conference_and_every_channel() {
    for (xml, element) in [
        (
            "<conference xmlns='http://jitsi.org/protocol/colibri'/>",
            "conference",
        ),
        (
            "<conference xmlns='http://jitsi.org/protocol/colibri' id='c'>\
             <content name='video'><channel endpoint='e'/></content></conference>",
            "channel",
        ),
        (
            "<conference xmlns='http://jitsi.org/protocol/colibri' id='c'>\
             <content name='data'><sctpconnection endpoint='e'/></content></conference>",
            "sctpconnection",
        ),
    ] {
        assert_eq!(
            with_el(xml, V1Conference::parse_response),
            Err(ColibriParseError::MissingAttribute {
                element,
                attribute: "id"
            }),
            "{xml}"
        );
        // The request side accepts the same (allocations have no ids).
        assert!(with_el(xml, parse_v1_request).is_ok());
    }
}

const SOURCES_UPDATE: &str = "<iq type='set' id='u1' to='jitsi-videobridge.example.com'>
  <conference xmlns='http://jitsi.org/protocol/colibri' id='8f1d3c2b7a9e4d11'>
    <content name='audio'>
      <channel id='5b2f0e9c11aa'>
        <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='3735928559'>
          <parameter name='cname' value='Vd2kq1zw'/>
          <parameter name='msid' value='stream-abcd track-a'/>
        </source>
        <ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='SIM'/>
      </channel>
    </content>
    <content name='video'>
      <channel id='77d13f02b4c8'>
        <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='1001'/>
        <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='1002'/>
        <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='1003'/>
        <ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='SIM'>
          <source ssrc='1001'/><source ssrc='1002'/><source ssrc='1003'/>
        </ssrc-group>
      </channel>
    </content>
  </conference>
</iq>";

const CONF: V1ConferenceRef<'static> = V1ConferenceRef {
    id: "8f1d3c2b7a9e4d11",
    name: None,
};

fn update(u: &V1Update<'_>, id: &str, conf: V1ConferenceRef<'_>) -> String {
    let mut out = Vec::new();
    u.write(&mut out, id, None, "jitsi-videobridge.example.com", conf);
    s(out)
}

#[test]
fn sources_update_is_protocol_md_verbatim() {
    // protocol.md has `cname` before `msid`: both as plain parameters
    // keep that order.
    let audio = Source::new(3735928559, Audio)
        .with_parameter("cname", "Vd2kq1zw")
        .with_parameter("msid", "stream-abcd track-a");
    let sim = [SsrcGroup::new("SIM", Video, &[1001, 1002, 1003])];
    let set = EndpointSourceSet {
        sources: vec![
            Source::new(1001, Video),
            audio,
            Source::new(1002, Video),
            Source::new(1003, Video),
        ],
        groups: sim.to_vec(),
    };
    let items = [
        ChannelSources {
            media: MediaType::Audio,
            channel_id: "5b2f0e9c11aa",
            sources: &set,
        },
        ChannelSources {
            media: MediaType::Video,
            channel_id: "77d13f02b4c8",
            sources: &set,
        },
    ];
    let written = update(&V1Update::Sources(&items), "u1", CONF);
    assert_eq!(written, squash(SOURCES_UPDATE));

    // The bridge reads the conventions back: an empty SIM group is "no
    // groups", the group members are kept.
    with_iq(&written, |iq| {
        let conf = parse_v1_request(iq.payload.unwrap()).unwrap();
        assert_eq!(conf.channels[0].ssrc_groups, Some(vec![]));
        // Read back, `msid` has its own field: two parameters either way.
        let audio = &conf.channels[0].sources.as_ref().unwrap()[0];
        assert_eq!(audio.parameter("cname"), Some("Vd2kq1zw"));
        assert_eq!(audio.msid.as_deref(), Some("stream-abcd track-a"));
        assert_eq!(audio.parameters.len() + 1, 2);
        assert_eq!(conf.channels[1].ssrc_groups, Some(sim.to_vec()));
        assert_eq!(conf.channels[1].sources.as_ref().unwrap().len(), 3);
    });
}

#[test]
fn no_sources_is_remove_all() {
    // An audio source does not count for the video channel.
    let only_audio = EndpointSourceSet {
        sources: vec![Source::new(1, Audio)],
        groups: vec![],
    };
    let items = [ChannelSources {
        media: MediaType::Video,
        channel_id: "v1",
        sources: &only_audio,
    }];
    let written = update(&V1Update::Sources(&items), "u2", CONF);
    assert_eq!(
        written,
        "<iq type='set' id='u2' to='jitsi-videobridge.example.com'>\
         <conference xmlns='http://jitsi.org/protocol/colibri' id='8f1d3c2b7a9e4d11'>\
         <content name='video'><channel id='v1'>\
         <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='-1'/>\
         <ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='SIM'/>\
         </channel></content></conference></iq>"
    );
    with_iq(&written, |iq| {
        let conf = parse_v1_request(iq.payload.unwrap()).unwrap();
        assert_eq!(conf.channels[0].sources, Some(vec![]));
        assert_eq!(conf.channels[0].ssrc_groups, Some(vec![]));
        assert_eq!(conf.channels[0].id.as_deref(), Some("v1"));
    });
}

fn participant_transport() -> IceUdpTransport {
    IceUdpTransport {
        ufrag: Some("pU".into()),
        pwd: Some("pP".into()),
        rtcp_mux: true,
        fingerprints: vec![Fingerprint::new("sha-256", Some("active"), "AA:BB")],
        ..IceUdpTransport::default()
    }
}

#[test]
fn transport_updates_bundled_and_not() {
    let t = participant_transport();
    let named = V1ConferenceRef {
        id: "c1",
        name: Some("myroom"),
    };
    let written = update(
        &V1Update::BundleTransport {
            bundle_id: "abcd1234",
            transport: &t,
        },
        "u3",
        named,
    );
    assert_eq!(
        written,
        format!(
            "<iq type='set' id='u3' to='jitsi-videobridge.example.com'>\
             <conference xmlns='http://jitsi.org/protocol/colibri' id='c1' name='myroom'>\
             <channel-bundle id='abcd1234'>{}</channel-bundle></conference></iq>",
            xml_of(&t)
        )
    );
    with_iq(&written, |iq| {
        let conf = parse_v1_request(iq.payload.unwrap()).unwrap();
        assert_eq!(
            conf.bundle("abcd1234").unwrap().transport.as_ref(),
            Some(&t)
        );
    });

    let items = [
        ChannelTransport {
            content: ContentKind::Rtp(Audio),
            channel_id: "a1",
            endpoint: "abcd1234",
            transport: &t,
        },
        ChannelTransport {
            content: ContentKind::Data,
            channel_id: "s1",
            endpoint: "abcd1234",
            transport: &t,
        },
    ];
    let written = update(&V1Update::ChannelTransports(&items), "u4", CONF);
    with_iq(&written, |iq| {
        let conf = parse_v1_request(iq.payload.unwrap()).unwrap();
        let ch = &conf.channels[0];
        assert_eq!(
            (ch.id.as_deref(), ch.endpoint.as_deref()),
            (Some("a1"), Some("abcd1234"))
        );
        assert_eq!(ch.transport.as_ref(), Some(&t));
        let sc = &conf.sctp_connections[0];
        assert_eq!(sc.id.as_deref(), Some("s1"));
        assert_eq!(sc.endpoint.as_deref(), Some("abcd1234"));
        assert_eq!(sc.transport.as_ref(), Some(&t));
    });
}

#[test]
fn description_update_carries_the_answer() {
    let a = audio_pts();
    let ext = [RtpHdrExt::new(
        1,
        "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    )];
    let items = [ChannelDescription {
        media: MediaType::Audio,
        channel_id: "5b2f0e9c11aa",
        payload_types: &a[..1],
        hdrexts: &ext,
    }];
    let written = update(&V1Update::Descriptions(&items), "u5", CONF);
    with_iq(&written, |iq| {
        let conf = parse_v1_request(iq.payload.unwrap()).unwrap();
        assert_eq!(conf.channels[0].payload_types, a[..1].to_vec());
        assert_eq!(conf.channels[0].hdrexts, ext.to_vec());
        assert_eq!(conf.channels[0].sources, None);
    });
}

#[test]
fn mute_is_a_direction_change() {
    let chans = [(MediaType::Audio, "5b2f0e9c11aa")];
    let named = V1ConferenceRef {
        id: "8f1d3c2b7a9e4d11",
        name: Some("myroom"),
    };
    let written = update(
        &V1Update::Direction {
            channels: &chans,
            direction: Direction::SendOnly,
        },
        "m1",
        named,
    );
    assert_eq!(
        written,
        "<iq type='set' id='m1' to='jitsi-videobridge.example.com'>\
         <conference xmlns='http://jitsi.org/protocol/colibri' id='8f1d3c2b7a9e4d11' name='myroom'>\
         <content name='audio'><channel id='5b2f0e9c11aa' direction='sendonly'/></content>\
         </conference></iq>"
    );
    with_iq(&written, |iq| {
        let conf = parse_v1_request(iq.payload.unwrap()).unwrap();
        assert_eq!(conf.channels[0].direction, Some(Direction::SendOnly));
    });
}

const EXPIRE: &str = "<iq type='set' id='x1' to='jitsi-videobridge.example.com'>
  <conference xmlns='http://jitsi.org/protocol/colibri' id='8f1d3c2b7a9e4d11'>
    <content name='audio'><channel id='5b2f0e9c11aa' expire='0'/></content>
    <content name='video'><channel id='77d13f02b4c8' expire='0'/></content>
    <content name='data'><sctpconnection id='c0de11aa22bb' endpoint='abcd1234' expire='0'/></content>
  </conference>
</iq>";

#[test]
fn expire_is_protocol_md_verbatim() {
    let p = with_iq(REPLY, |iq| {
        V1Conference::parse_response(iq.payload.unwrap())
            .unwrap()
            .participant("abcd1234")
            .unwrap()
    });
    assert_eq!(update(&V1Update::Expire(&[&p]), "x1", CONF), squash(EXPIRE));
}

#[test]
fn expiring_the_conference_lists_every_channel() {
    let a = V1ParticipantChannels {
        endpoint: "a".into(),
        channels: vec![
            (MediaType::Audio, "a-au".into()),
            (MediaType::Video, "a-vi".into()),
        ],
        sctp: Some("a-sc".into()),
        bundle_id: Some("a".into()),
    };
    let b = V1ParticipantChannels {
        endpoint: "b".into(),
        channels: vec![
            (MediaType::Audio, "b-au".into()),
            (MediaType::Video, "b-vi".into()),
        ],
        sctp: None,
        bundle_id: None,
    };
    let written = update(&V1Update::Expire(&[&a, &b]), "x2", CONF);
    assert_eq!(
        written,
        "<iq type='set' id='x2' to='jitsi-videobridge.example.com'>\
         <conference xmlns='http://jitsi.org/protocol/colibri' id='8f1d3c2b7a9e4d11'>\
         <content name='audio'><channel id='a-au' expire='0'/><channel id='b-au' expire='0'/></content>\
         <content name='video'><channel id='a-vi' expire='0'/><channel id='b-vi' expire='0'/></content>\
         <content name='data'><sctpconnection id='a-sc' endpoint='a' expire='0'/></content>\
         </conference></iq>"
    );
    with_iq(&written, |iq| {
        let conf = parse_v1_request(iq.payload.unwrap()).unwrap();
        assert_eq!(conf.channels.len(), 4);
        assert!(conf.channels.iter().all(|c| c.expire == Some(0)));
        assert_eq!(conf.sctp_connections[0].expire, Some(0));
    });
}

fn bridge_transport(ufrag: &str) -> IceUdpTransport {
    let candidate = [
        ("component", "1"),
        ("foundation", "1"),
        ("generation", "0"),
        ("id", "c1"),
        ("network", "0"),
        ("priority", "2130706431"),
        ("protocol", "udp"),
        ("type", "host"),
        ("ip", "10.0.0.5"),
        ("port", "10000"),
    ];
    IceUdpTransport {
        ufrag: Some(ufrag.into()),
        pwd: Some("bridge-pwd".into()),
        rtcp_mux: true,
        fingerprints: vec![Fingerprint::new("sha-256", Some("actpass"), "1A:2B")],
        candidates: vec![Candidate {
            attrs: candidate
                .iter()
                .fold(Attrs::new(), |a, (n, v)| a.with(n, v)),
        }],
        ..IceUdpTransport::default()
    }
}

/// The focus's allocation goes through the bridge side and back:
/// focus-write → bridge-parse → bridge-write → focus-parse.
#[test]
fn allocation_round_trip_through_the_emulator() {
    let written = seed_allocation_write(true, &IceUdpTransport::seed_placeholder());
    let mut reply = Vec::new();
    with_iq(&written, |iq| {
        assert!(is_v1_request(iq));
        let req = parse_v1_request(iq.payload.unwrap()).unwrap();
        assert_eq!(req.id, None);
        assert_eq!(req.name.as_deref(), Some("myroom"));
        assert_eq!(req.channels.len(), 2);
        assert_eq!(req.channels[0].payload_types, audio_pts());
        assert_eq!(req.channels[1].payload_types, video_pts());
        assert_eq!(req.channels[0].last_n, Some(-1));
        assert_eq!(req.channels[0].initiator, Some(true));
        assert_eq!(req.sctp_connections[0].port, Some(5000));
        assert_eq!(
            req.bundles[0].transport.as_ref(),
            Some(&IceUdpTransport::seed_placeholder())
        );
        // What an emulator does: assign ids, answer with its transport.
        let mut answer = req.clone();
        answer.id = Some("conf1".into());
        for (i, c) in answer.channels.iter_mut().enumerate() {
            c.id = Some(format!("ch{i}"));
            c.payload_types.clear();
            c.hdrexts.clear();
            c.last_n = None;
            c.expire = Some(60);
            c.direction = Some(Direction::SendRecv);
            c.sources = Some(vec![Source::new(1000 + i as u32, c.media)]);
        }
        answer.sctp_connections[0].id = Some("sc0".into());
        answer.bundles[0].transport = Some(bridge_transport("bU"));
        // The 2015 bridge answers with every bundle of the conference.
        answer.bundles.push(V1Bundle {
            id: "other".into(),
            transport: Some(bridge_transport("oU")),
        });
        write_v1_response(
            &mut reply,
            &iq.id,
            iq.to.as_deref(),
            iq.from.as_deref(),
            &answer,
        );
    });
    with_iq(&s(reply), |iq| {
        assert_eq!(iq.ty, IqType::Result);
        assert_eq!(iq.id, "a1");
        let conf = V1Conference::parse_response(iq.payload.unwrap()).unwrap();
        assert_eq!(conf.id.as_deref(), Some("conf1"));
        let p = conf.participant("abcd1234").unwrap();
        assert_eq!(p.channels[1], (MediaType::Video, "ch1".to_string()));
        assert_eq!(p.sctp.as_deref(), Some("sc0"));
        let t = conf
            .transport_for(ContentKind::Rtp(Video), "abcd1234")
            .unwrap();
        assert_eq!(t, &bridge_transport("bU"));
        assert_eq!(
            conf.channel(MediaType::Audio, "abcd1234").unwrap().sources,
            Some(vec![Source::new(1000, Audio)])
        );
    });
}

#[test]
fn model_round_trips_with_everything_set() {
    let mut ch = V1Channel::new(MediaType::Video);
    ch.id = Some("v&1".into());
    ch.endpoint = Some("e".into());
    ch.initiator = Some(false);
    ch.expire = Some(0);
    ch.direction = Some(Direction::Inactive);
    ch.last_n = Some(5);
    ch.adaptive_last_n = Some(true);
    ch.adaptive_simulcast = Some(false);
    ch.simulcast_mode = Some("rewriting".into());
    ch.rtp_level_relay_type = Some("mixer".into());
    ch.payload_types = video_pts();
    ch.hdrexts = vec![RtpHdrExt::new(3, "urn:x")];
    ch.sources = Some(vec![]);
    ch.ssrc_groups = Some(vec![SsrcGroup::new("FID", Video, &[1, 2])]);
    ch.ssrcs = vec![1, 4_294_967_295];
    ch.transport = Some(bridge_transport("t"));
    let conf = V1Conference {
        id: Some("c".into()),
        name: Some("n'q".into()),
        channels: vec![ch, V1Channel::new(MediaType::Audio)],
        sctp_connections: vec![V1SctpConnection {
            port: Some(5000),
            ..V1SctpConnection::default()
        }],
        bundles: vec![V1Bundle {
            id: "b".into(),
            transport: None,
        }],
        graceful_shutdown: true,
    };
    let mut out = Vec::new();
    conf.write(&mut XmlWriter::new(&mut out));
    let back = with_el(&s(out), |el| V1Conference::parse(el).unwrap());
    assert_eq!(back, conf);
}

#[test]
fn requests_the_2015_bridge_could_not_read() {
    for xml in [
        // Unknown content name.
        "<conference xmlns='http://jitsi.org/protocol/colibri'><content name='text'/></conference>",
        // A channel in the data content, an SCTP connection elsewhere.
        "<conference xmlns='http://jitsi.org/protocol/colibri'><content name='data'><channel/></content></conference>",
        "<conference xmlns='http://jitsi.org/protocol/colibri'><content name='audio'><sctpconnection/></content></conference>",
        // Numbers that are not numbers.
        "<conference xmlns='http://jitsi.org/protocol/colibri'><content name='audio'><channel last-n='all'/></content></conference>",
        "<conference xmlns='http://jitsi.org/protocol/colibri'><content name='audio'><channel expire='-5'/></content></conference>",
        "<conference xmlns='http://jitsi.org/protocol/colibri'><content name='video'><channel><ssrc>x</ssrc></channel></content></conference>",
        "<conference xmlns='http://jitsi.org/protocol/colibri'><content name='video'><channel direction='up'/></content></conference>",
        "<conference xmlns='http://jitsi.org/protocol/colibri'><content name='data'><sctpconnection port='99999'/></content></conference>",
        "<conference xmlns='http://jitsi.org/protocol/colibri'><channel-bundle/></conference>",
        // A source without an SSRC (Jingle skips those; the bridge cannot).
        "<conference xmlns='http://jitsi.org/protocol/colibri'><content name='audio'><channel>\
         <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' name='x'/></channel></content></conference>",
        // A transport whose candidate cannot be read.
        "<conference xmlns='http://jitsi.org/protocol/colibri'><channel-bundle id='b'>\
         <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'><candidate id='a&b'/></transport>\
         </channel-bundle></conference>",
        // Another namespace.
        "<conference xmlns='http://jitsi.org/protocol/focus'/>",
    ] {
        let err = with_el(xml, parse_v1_request).unwrap_err();
        assert_eq!(
            err.to_stanza_error(),
            StanzaError::new(Condition::InternalServerError),
            "{xml}"
        );
    }
    // `expire='-1'` is Jitsi's "not specified".
    let ok = "<conference xmlns='http://jitsi.org/protocol/colibri'>\
        <content name='audio'><channel expire='-1'/></content></conference>";
    assert_eq!(
        with_el(ok, parse_v1_request).unwrap().channels[0].expire,
        None
    );
}

#[test]
fn content_kinds_by_name() {
    for k in [
        ContentKind::Rtp(Audio),
        ContentKind::Rtp(Video),
        ContentKind::Data,
    ] {
        assert_eq!(ContentKind::from_name(k.name()), Some(k));
    }
    assert_eq!(ContentKind::from(Video), ContentKind::Rtp(Video));
    assert_eq!(ContentKind::from_name("Data"), None);
    assert_eq!(ContentKind::from_name("application"), None);
}

#[test]
fn bridge_errors_of_2015() {
    let e = v1_graceful_shutdown_error();
    assert_eq!(e.condition, Condition::ServiceUnavailable);
    assert_eq!(e.app(ns::COLIBRI).unwrap().name, "graceful-shutdown");
    assert_eq!(
        v1_unknown_error().condition,
        Condition::FeatureNotImplemented
    );
    // A reply with <graceful-shutdown/> inside the conference is read.
    let xml = "<conference xmlns='http://jitsi.org/protocol/colibri' id='c'><graceful-shutdown/></conference>";
    assert!(
        with_el(xml, V1Conference::parse_response)
            .unwrap()
            .graceful_shutdown
    );
    with_iq(
        "<iq type='result' id='1'><conference xmlns='http://jitsi.org/protocol/colibri'/></iq>",
        |iq| {
            assert!(!is_v1_request(iq));
        },
    );
}

// ---------------------------------------------------------------------------
// Stats, health check, discovery

const BREWERY_PRESENCE: &str = "<presence from='jvbbrewery@internal.auth.example.com/jvb-7f3c' to='focus@auth.example.com/focus'>
  <stats xmlns='http://jitsi.org/protocol/colibri'>
    <stat name='stress_level' value='0.23'/>
    <stat name='average_participant_stress' value='0.005'/>
    <stat name='region' value='eu-west-1'/>
    <stat name='relay_id' value='10.0.1.17'/>
    <stat name='version' value='2.3.210'/>
    <stat name='release' value='1234'/>
    <stat name='graceful_shutdown' value='false'/>
    <stat name='shutting_down' value='false'/>
    <stat name='drain' value='false'/>
    <stat name='healthy' value='true'/>
    <stat name='conferences' value='12'/>
    <stat name='participants' value='57'/>
  </stats>
  <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='participant'/></x>
</presence>";

fn full_stats() -> BridgeStats {
    BridgeStats {
        stress_level: Some(0.23),
        average_participant_stress: Some(0.005),
        region: Some("eu-west-1".into()),
        relay_id: Some("10.0.1.17".into()),
        version: Some("2.3.210".into()),
        release: Some("1234".into()),
        graceful_shutdown: Some(false),
        shutting_down: Some(false),
        drain: Some(false),
        healthy: Some(true),
        conferences: Some(12),
        participants: Some(57),
        colibri2: None,
    }
}

#[test]
fn brewery_stats_are_read_and_written() {
    let stats = with_el(BREWERY_PRESENCE, |p| {
        BridgeStats::from_presence(p).unwrap().unwrap()
    });
    assert_eq!(stats, full_stats());
    let mut out = Vec::new();
    stats.write(&mut XmlWriter::new(&mut out));
    let start = BREWERY_PRESENCE.find("<stats").unwrap();
    let end = BREWERY_PRESENCE.find("</stats>").unwrap() + "</stats>".len();
    assert_eq!(s(out), squash(&BREWERY_PRESENCE[start..end]));
    // A member without stats is not a bridge.
    with_el(
        "<presence><x xmlns='http://jabber.org/protocol/muc#user'/></presence>",
        |p| {
            assert!(BridgeStats::from_presence(p).is_none());
        },
    );
}

#[test]
fn absent_and_unreadable_stats_are_none() {
    let xml = "<stats xmlns='http://jitsi.org/protocol/colibri'>\
        <stat name='stress_level' value='high'/>\
        <stat name='average_participant_stress' value='NaN'/>\
        <stat name='conferences' value='-3'/>\
        <stat name='participants' value='5'/><stat name='participants' value='6'/>\
        <stat name='drain' value='TRUE'/>\
        <stat name='healthy' value='yes'/>\
        <stat value='orphan'/><stat name='region'/></stats>";
    let s = with_el(xml, |el| BridgeStats::parse(el).unwrap());
    assert_eq!(
        s,
        BridgeStats {
            participants: Some(5),
            drain: Some(true),
            healthy: Some(false),
            ..BridgeStats::default()
        }
    );
    let empty = with_el("<stats xmlns='http://jitsi.org/protocol/colibri'/>", |el| {
        BridgeStats::parse(el).unwrap()
    });
    assert_eq!(empty, BridgeStats::default());
    assert_eq!(empty.drain, None, "the caller decides drain's default");
    assert!(with_el("<stats xmlns='urn:x'/>", BridgeStats::parse).is_err());
}

#[test]
fn merge_follows_jicofo() {
    // Jicofo starts a bridge as draining until a report says otherwise.
    let mut known = BridgeStats {
        drain: Some(true),
        ..BridgeStats::default()
    };
    known.merge(&BridgeStats {
        stress_level: Some(0.5),
        ..BridgeStats::default()
    });
    assert_eq!(known.drain, Some(true));
    assert_eq!(known.stress_level, Some(0.5));
    known.merge(&full_stats());
    assert_eq!(known, full_stats());
    // Graceful shutdown and shutting down are sticky; the rest follows.
    let mut turning = full_stats();
    turning.graceful_shutdown = Some(true);
    turning.shutting_down = Some(true);
    turning.drain = Some(true);
    known.merge(&turning);
    known.merge(&full_stats());
    assert_eq!(known.graceful_shutdown, Some(true));
    assert_eq!(known.shutting_down, Some(true));
    assert_eq!(known.drain, Some(false));
}

#[test]
fn health_check_and_discovery() {
    let mut out = Vec::new();
    write_healthcheck(
        &mut out,
        "h1",
        None,
        "jvbbrewery@internal.auth.example.com/jvb-7f3c",
    );
    let xml = s(out);
    assert_eq!(
        xml,
        "<iq type='get' id='h1' to='jvbbrewery@internal.auth.example.com/jvb-7f3c'>\
         <healthcheck xmlns='http://jitsi.org/protocol/healthcheck'/></iq>"
    );
    with_iq(&xml, |iq| assert!(is_healthcheck(iq)));
    with_iq(
        "<iq type='set' id='h'><healthcheck xmlns='http://jitsi.org/protocol/healthcheck'/></iq>",
        |iq| assert!(!is_healthcheck(iq)),
    );

    let info = "<query xmlns='http://jabber.org/protocol/disco#info'>\
        <identity category='component' type='conference' name='JitsiVideobridge'/>\
        <feature var='http://jitsi.org/protocol/colibri'/>\
        <feature var='urn:xmpp:jingle:apps:dtls:0'/>\
        <feature var='urn:xmpp:jingle:transports:ice-udp:1'/>\
        <feature var='urn:xmpp:jingle:transports:raw-udp:1'/></query>";
    let mut d = with_el(info, |el| DiscoInfo::parse(el).unwrap());
    assert!(is_bridge(&d));
    // Every one of the four is required.
    for f in BRIDGE_FEATURES {
        let mut less = d.clone();
        less.features.retain(|x| x != f);
        assert!(!is_bridge(&less), "{f}");
    }
    d.features.clear();
    assert!(!is_bridge(&d));
}
