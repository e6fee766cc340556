//! Reading what participants send: session-accept (§5.4 and a current
//! client), legacy and current source-add/-remove, session-terminate and
//! session-info from clients, transport-info, and malformed input.

use super::*;
use crate::stanza::sources::{FID, SIM, Ssrc};
use MediaType::{Audio, Video};

// ---------------------------------------------------------------------------
// session-accept

/// protocol.md §5.4 with the elided parts filled in as a 2021 client fills
/// them: every simulcast SSRC carries the source name and msid.
pub(crate) const SECTION_5_4: &str = "<iq type='set' id='p1' to='myroom@conference.example.com/focus' from='myroom@conference.example.com/abcd1234'>
  <jingle xmlns='urn:xmpp:jingle:1' action='session-accept' sid='7j2qv0l1d9kc'
          initiator='focus@auth.example.com/focus1447' responder='myroom@conference.example.com/abcd1234'>
    <content creator='initiator' name='audio' senders='both'>
      <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>
        <payload-type id='111' name='opus' clockrate='48000' channels='2'>
          <parameter name='minptime' value='10'/>
          <parameter name='useinbandfec' value='1'/>
        </payload-type>
        <payload-type id='126' name='telephone-event' clockrate='8000'/>
        <rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' id='1' uri='urn:ietf:params:rtp-hdrext:ssrc-audio-level'/>
        <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='4011122233' name='abcd1234-a0'>
          <parameter name='msid' value='abcd1234-audio-1 a1b2-track'/>
        </source>
        <rtcp-mux/>
      </description>
      <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='Xy7q' pwd='f0a1b2c3d4e5f60718293a4b'>
        <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='active'>AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99</fingerprint>
        <candidate component='1' foundation='3151' generation='0' id='c1' network='1' priority='2122260223'
                   protocol='udp' type='host' ip='192.168.1.20' port='53000'/>
      </transport>
    </content>
    <content creator='initiator' name='video' senders='both'>
      <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'>
        <payload-type id='100' name='VP8' clockrate='90000'>
          <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='ccm' subtype='fir'/>
          <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='nack'/>
          <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='nack' subtype='pli'/>
        </payload-type>
        <payload-type id='96' name='rtx' clockrate='90000'><parameter name='apt' value='100'/></payload-type>
        <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='2001' name='abcd1234-v0' videoType='camera'>
          <parameter name='msid' value='abcd1234-video-1 v1-track'/></source>
        <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='2002' name='abcd1234-v0' videoType='camera'>
          <parameter name='msid' value='abcd1234-video-1 v1-track'/></source>
        <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='2003' name='abcd1234-v0' videoType='camera'>
          <parameter name='msid' value='abcd1234-video-1 v1-track'/></source>
        <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='2004' name='abcd1234-v0' videoType='camera'>
          <parameter name='msid' value='abcd1234-video-1 v1-track'/></source>
        <ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='SIM'>
          <source ssrc='2001'/><source ssrc='2002'/><source ssrc='2003'/></ssrc-group>
        <ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='FID'>
          <source ssrc='2001'/><source ssrc='2004'/></ssrc-group>
        <rtcp-mux/>
      </description>
      <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='Xy7q' pwd='f0a1b2c3d4e5f60718293a4b'>
        <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='active'>AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99</fingerprint>
      </transport>
    </content>
    <content creator='initiator' name='data' senders='both'>
      <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='application'/>
      <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='Xy7q' pwd='f0a1b2c3d4e5f60718293a4b'>
        <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='active'>AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99</fingerprint>
        <sctpmap xmlns='urn:xmpp:jingle:transports:dtls-sctp:1' number='5000' protocol='webrtc-datachannel' streams='1024'/>
      </transport>
    </content>
    <group xmlns='urn:xmpp:jingle:apps:grouping:0' semantics='BUNDLE'>
      <content name='audio'/><content name='video'/><content name='data'/>
    </group>
  </jingle>
</iq>";

#[test]
fn parses_the_section_5_4_session_accept() {
    with_jingle(SECTION_5_4, |j| {
        assert_eq!(j.action, Action::SessionAccept);
        assert_eq!(j.sid, "7j2qv0l1d9kc");
        assert_eq!(
            j.initiator.as_deref(),
            Some("focus@auth.example.com/focus1447")
        );
        assert_eq!(
            j.responder.as_deref(),
            Some("myroom@conference.example.com/abcd1234")
        );
        let contents: Vec<_> = j.contents().collect();
        assert_eq!(
            contents
                .iter()
                .map(|c| (
                    c.name().unwrap().into_owned(),
                    c.creator(),
                    c.senders(),
                    c.media().unwrap().into_owned(),
                    c.media_type()
                ))
                .collect::<Vec<_>>(),
            vec![
                (
                    "audio".into(),
                    Some(Creator::Initiator),
                    Some(Senders::Both),
                    "audio".into(),
                    Some(Audio)
                ),
                (
                    "video".into(),
                    Some(Creator::Initiator),
                    Some(Senders::Both),
                    "video".into(),
                    Some(Video)
                ),
                (
                    "data".into(),
                    Some(Creator::Initiator),
                    Some(Senders::Both),
                    "application".into(),
                    None
                ),
            ]
        );
        let bundle = j.bundle_group().expect("BUNDLE");
        assert_eq!(
            bundle.contents().collect::<Vec<_>>(),
            vec!["audio", "video", "data"]
        );

        // The transport of the first content, complete.
        let t = j.transport().unwrap().expect("a transport");
        assert_eq!(t.ufrag.as_deref(), Some("Xy7q"));
        assert_eq!(t.pwd.as_deref(), Some("f0a1b2c3d4e5f60718293a4b"));
        assert_eq!(
            t.fingerprints,
            vec![Fingerprint::new(
                "sha-256",
                Some("active"),
                "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"
            )]
        );
        assert_eq!(t.candidates.len(), 1);
        let c = &t.candidates[0];
        assert_eq!(
            (
                c.component(),
                c.foundation(),
                c.generation(),
                c.id(),
                c.network()
            ),
            (Some(1), Some("3151"), Some(0), Some("c1"), Some(1))
        );
        assert_eq!(
            (c.priority(), c.protocol(), c.typ(), c.ip(), c.port()),
            (
                Some(2122260223),
                Some("udp"),
                Some("host"),
                Some("192.168.1.20"),
                Some(53000)
            )
        );
        assert_eq!(t.sctpmap, None, "the sctpmap is in the data content");
        let data_t = contents[2].transport().unwrap().unwrap();
        assert_eq!(data_t.sctpmap, Some(SctpMap::datachannel(5000)));

        // Sources and groups per media.
        let msid = "abcd1234-video-1 v1-track";
        let mut want = EndpointSourceSet::new();
        want.add_source(
            Source::new(4011122233, Audio)
                .with_name("abcd1234-a0")
                .with_msid("abcd1234-audio-1 a1b2-track"),
        );
        for ssrc in 2001..=2004 {
            want.add_source(
                Source::new(ssrc, Video)
                    .with_name("abcd1234-v0")
                    .with_video_type("camera")
                    .with_msid(msid),
            );
        }
        want.add_group(SsrcGroup::new(SIM, Video, &[2001, 2002, 2003]));
        want.add_group(SsrcGroup::new(FID, Video, &[2001, 2004]));
        let got = j.sources().unwrap();
        assert_eq!(got, want);
        assert_eq!(
            got.sources.iter().map(|s| s.ssrc.0).collect::<Vec<_>>(),
            vec![4011122233, 2001, 2002, 2003, 2004],
            "announcement order is kept"
        );
        assert_eq!(contents[1].sources().unwrap().sources.len(), 4);
        assert!(contents[2].sources().unwrap().is_empty());

        // Answered codecs.
        let audio = j.rtp_description(Audio).unwrap().unwrap();
        assert_eq!(audio.media.as_ref(), "audio");
        assert!(audio.rtcp_mux && !audio.extmap_allow_mixed);
        assert_eq!(
            audio.payload_types,
            vec![
                PayloadType::new(111, "opus", 48000, Some(2))
                    .with_parameter("minptime", "10")
                    .with_parameter("useinbandfec", "1"),
                PayloadType::new(126, "telephone-event", 8000, None),
            ]
        );
        assert_eq!(
            audio.hdrexts,
            vec![RtpHdrExt::new(
                1,
                "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
            )]
        );
        let video = j.rtp_description(Video).unwrap().unwrap();
        assert_eq!(
            video.payload_type(100),
            Some(
                &PayloadType::new(100, "VP8", 90000, None)
                    .with_rtcp_fb("ccm", Some("fir"))
                    .with_rtcp_fb("nack", None)
                    .with_rtcp_fb("nack", Some("pli"))
            )
        );
        assert_eq!(
            video.payload_type(96).unwrap().parameter("apt"),
            Some("100")
        );
        let all = j.rtp_descriptions().unwrap();
        assert_eq!(
            all.iter().map(|d| &*d.media).collect::<Vec<_>>(),
            vec!["audio", "video", "application"]
        );
        assert!(all[2].payload_types.is_empty());
        // The same through the views.
        assert_eq!(contents[1].rtp_description().unwrap().unwrap(), video);
        assert_eq!(contents[0].description().unwrap().rtp().unwrap(), audio);

        // Nothing of the session-level extras.
        assert!(j.reason().is_none() && j.bridge_session().is_none());
        assert!(j.ice_state().is_none() && j.start_muted().is_none());
        assert!(!contents[0].has_estos_bundle());
        assert_eq!(contents[1].initial_last_n(), None);
    });
}

/// What the current lib-jitsi-meet writes (its `SDP.toJingle`): the group
/// first, `creator='responder'`, attributes in its order, three simulcast
/// SSRCs each with RTX, `initial-last-n` in the video content, and a data
/// content with no description.
pub(crate) const CURRENT_SESSION_ACCEPT: &str = "<iq xmlns='jabber:client' type='set' id='ab12cd34-5' to='myroom@meet.test/focus' from='myroom@conference.meet.test/3f9a2c7e'>\
<jingle xmlns='urn:xmpp:jingle:1' action='session-accept' initiator='focus@auth.meet.test/focus' responder='myroom@conference.meet.test/3f9a2c7e' sid='1c9e3rbk0f2oa'>\
<group xmlns='urn:xmpp:jingle:apps:grouping:0' semantics='BUNDLE'><content name='audio'/><content name='video'/><content name='data'/></group>\
<content creator='responder' name='audio' senders='both'>\
<description media='audio' xmlns='urn:xmpp:jingle:apps:rtp:1'>\
<payload-type id='111' name='opus' clockrate='48000' channels='2'><parameter name='minptime' value='10'/><parameter name='useinbandfec' value='1'/>\
<rtcp-fb type='transport-cc' xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0'/></payload-type>\
<payload-type id='126' name='telephone-event' clockrate='8000'/>\
<source name='3f9a2c7e-a0' ssrc='2948372615' xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'><parameter name='msid' value='a9e1d7c0-5b2f-4e8a-9c1d-0e7f3a2b1c4d 6c1b2a9e-7f3d-4c8b-a1e2-9d0f5b3c7a61'/></source>\
<rtcp-mux/>\
<rtp-hdrext id='1' uri='urn:ietf:params:rtp-hdrext:ssrc-audio-level' xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/>\
<rtp-hdrext id='5' uri='http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01' xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/>\
<rtp-hdrext id='10' uri='urn:ietf:params:rtp-hdrext:sdes:mid' xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/>\
<extmap-allow-mixed xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/>\
</description>\
<transport ufrag='k3Qw' pwd='Zr8pT2vN6xL1cF9hJ4mB0sD7' xmlns='urn:xmpp:jingle:transports:ice-udp:1'>\
<fingerprint hash='sha-256' setup='active' xmlns='urn:xmpp:jingle:apps:dtls:0'>3C:8E:51:0A:9B:F2:44:C7:1D:6E:A0:93:5F:28:B7:E4:0C:D1:7A:96:2B:F5:48:E3:61:0D:AC:37:9E:52:B8:14</fingerprint>\
<candidate foundation='2839437187' component='1' protocol='udp' priority='2122260223' ip='192.168.1.20' port='58214' type='host' generation='0' network='1' id='x7vb0ikfg9'/>\
<candidate foundation='842163049' component='1' protocol='udp' priority='1686052607' ip='198.51.100.23' port='58214' type='srflx' generation='0' rel-addr='192.168.1.20' rel-port='58214' network='1' id='x7vb0ikfga'/>\
<candidate foundation='4233069003' component='1' protocol='tcp' priority='1518280447' ip='192.168.1.20' port='9' type='host' generation='0' tcptype='active' network='1' id='x7vb0ikfgb'/>\
</transport></content>\
<content creator='responder' name='video' senders='both'>\
<initial-last-n value='25' xmlns='jitsi:colibri2'/>\
<description media='video' xmlns='urn:xmpp:jingle:apps:rtp:1'>\
<payload-type id='100' name='VP8' clockrate='90000'><rtcp-fb type='goog-remb' xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0'/><rtcp-fb type='transport-cc' xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0'/>\
<rtcp-fb type='ccm' xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' subtype='fir'/><rtcp-fb type='nack' xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0'/><rtcp-fb type='nack' xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' subtype='pli'/></payload-type>\
<payload-type id='96' name='rtx' clockrate='90000'><parameter name='apt' value='100'/></payload-type>\
<payload-type id='101' name='VP9' clockrate='90000'><parameter name='profile-id' value='0'/><rtcp-fb type='transport-cc' xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0'/></payload-type>\
<payload-type id='97' name='rtx' clockrate='90000'><parameter name='apt' value='101'/></payload-type>\
<source name='3f9a2c7e-v0' ssrc='1865403722' videoType='camera' xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'><parameter name='msid' value='b3c4d5e6 d9f0a1b2'/></source>\
<source name='3f9a2c7e-v0' ssrc='412876093' videoType='camera' xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'><parameter name='msid' value='b3c4d5e6 d9f0a1b2'/></source>\
<source name='3f9a2c7e-v0' ssrc='2743981547' videoType='camera' xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'><parameter name='msid' value='b3c4d5e6 d9f0a1b2'/></source>\
<source name='3f9a2c7e-v0' ssrc='998371245' videoType='camera' xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'><parameter name='msid' value='b3c4d5e6 d9f0a1b2'/></source>\
<source name='3f9a2c7e-v0' ssrc='3417628493' videoType='camera' xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'><parameter name='msid' value='b3c4d5e6 d9f0a1b2'/></source>\
<source name='3f9a2c7e-v0' ssrc='4041002311' videoType='camera' xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'><parameter name='msid' value='b3c4d5e6 d9f0a1b2'/></source>\
<ssrc-group semantics='FID' xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'><source ssrc='1865403722'/><source ssrc='412876093'/></ssrc-group>\
<ssrc-group semantics='FID' xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'><source ssrc='2743981547'/><source ssrc='998371245'/></ssrc-group>\
<ssrc-group semantics='FID' xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'><source ssrc='3417628493'/><source ssrc='4041002311'/></ssrc-group>\
<ssrc-group semantics='SIM' xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'><source ssrc='1865403722'/><source ssrc='2743981547'/><source ssrc='3417628493'/></ssrc-group>\
<rtcp-mux/>\
<rtp-hdrext id='3' uri='http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time' xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/>\
<rtp-hdrext id='5' uri='http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01' xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/>\
<rtp-hdrext id='10' uri='urn:ietf:params:rtp-hdrext:sdes:mid' xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/>\
<rtp-hdrext id='11' uri='https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension' xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/>\
<extmap-allow-mixed xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/>\
</description>\
<transport ufrag='k3Qw' pwd='Zr8pT2vN6xL1cF9hJ4mB0sD7' xmlns='urn:xmpp:jingle:transports:ice-udp:1'>\
<fingerprint hash='sha-256' setup='active' xmlns='urn:xmpp:jingle:apps:dtls:0'>3C:8E:51:0A:9B:F2:44:C7:1D:6E:A0:93:5F:28:B7:E4:0C:D1:7A:96:2B:F5:48:E3:61:0D:AC:37:9E:52:B8:14</fingerprint>\
</transport></content>\
<content creator='responder' name='data' senders='both'>\
<transport ufrag='k3Qw' pwd='Zr8pT2vN6xL1cF9hJ4mB0sD7' xmlns='urn:xmpp:jingle:transports:ice-udp:1'>\
<sctpmap number='5000' protocol='webrtc-datachannel' xmlns='urn:xmpp:jingle:transports:dtls-sctp:1' streams='0'/>\
<fingerprint hash='sha-256' setup='active' xmlns='urn:xmpp:jingle:apps:dtls:0'>3C:8E:51:0A:9B:F2:44:C7:1D:6E:A0:93:5F:28:B7:E4:0C:D1:7A:96:2B:F5:48:E3:61:0D:AC:37:9E:52:B8:14</fingerprint>\
</transport></content>\
</jingle></iq>";

#[test]
fn parses_a_current_lib_jitsi_meet_session_accept() {
    with_jingle(CURRENT_SESSION_ACCEPT, |j| {
        assert_eq!(
            (j.action, j.sid.as_ref()),
            (Action::SessionAccept, "1c9e3rbk0f2oa")
        );
        assert_eq!(
            j.bundle_group().unwrap().contents().collect::<Vec<_>>(),
            vec!["audio", "video", "data"]
        );
        let contents: Vec<_> = j.contents().collect();
        assert_eq!(contents.len(), 3);
        assert!(
            contents
                .iter()
                .all(|c| c.creator() == Some(Creator::Responder))
        );
        assert_eq!(contents[1].initial_last_n(), Some(25));
        assert_eq!(contents[0].initial_last_n(), None);
        // The data content has no description: its media is its name.
        assert!(contents[2].description().is_none());
        assert_eq!(contents[2].media().as_deref(), Some("data"));
        assert_eq!(contents[2].media_type(), None);
        let data_t = contents[2].transport().unwrap().unwrap();
        assert_eq!(
            data_t.sctpmap,
            Some(SctpMap {
                number: 5000,
                protocol: "webrtc-datachannel".into(),
                streams: Some(0)
            })
        );

        let t = j.transport().unwrap().unwrap();
        assert_eq!(t.ufrag.as_deref(), Some("k3Qw"));
        assert_eq!(t.fingerprints[0].setup(), Some("active"));
        assert_eq!(t.fingerprints[0].hash(), Some("sha-256"));
        assert_eq!(t.candidates.len(), 3);
        let srflx = &t.candidates[1];
        assert_eq!(
            (srflx.typ(), srflx.ip(), srflx.rel_addr(), srflx.rel_port()),
            (
                Some("srflx"),
                Some("198.51.100.23"),
                Some("192.168.1.20"),
                Some(58214)
            )
        );
        assert_eq!(t.candidates[2].tcptype(), Some("active"));
        // Attribute order is the client's, not ours.
        assert_eq!(
            t.candidates[0]
                .attrs
                .iter()
                .map(|(n, _)| n)
                .collect::<Vec<_>>(),
            vec![
                "foundation",
                "component",
                "protocol",
                "priority",
                "ip",
                "port",
                "type",
                "generation",
                "network",
                "id"
            ]
        );

        let mut want = EndpointSourceSet::new();
        want.add_source(
            Source::new(2948372615, Audio)
                .with_name("3f9a2c7e-a0")
                .with_msid(
                    "a9e1d7c0-5b2f-4e8a-9c1d-0e7f3a2b1c4d 6c1b2a9e-7f3d-4c8b-a1e2-9d0f5b3c7a61",
                ),
        );
        let layers = [
            (1865403722, 412876093),
            (2743981547, 998371245),
            (3417628493, 4041002311),
        ];
        for (primary, rtx) in layers {
            for ssrc in [primary, rtx] {
                want.add_source(
                    Source::new(ssrc, Video)
                        .with_name("3f9a2c7e-v0")
                        .with_video_type("camera")
                        .with_msid("b3c4d5e6 d9f0a1b2"),
                );
            }
            want.add_group(SsrcGroup::new(FID, Video, &[primary, rtx]));
        }
        want.add_group(SsrcGroup::new(
            SIM,
            Video,
            &[1865403722, 2743981547, 3417628493],
        ));
        let got = j.sources().unwrap();
        assert_eq!(got, want);
        assert_eq!(got.ssrcs_of(Video).count(), 6);
        assert_eq!(got.groups_of(Video).filter(|g| g.is_fid()).count(), 3);
        // The simulcast group keeps its layer order.
        assert_eq!(
            got.groups.iter().find(|g| g.is_sim()).unwrap().ssrcs,
            vec![Ssrc(1865403722), Ssrc(2743981547), Ssrc(3417628493)]
        );

        let audio = j.rtp_description(Audio).unwrap().unwrap();
        assert!(audio.extmap_allow_mixed && audio.rtcp_mux);
        assert_eq!(
            audio.payload_types[0].rtcp_fbs,
            vec![RtcpFb {
                ty: "transport-cc".into(),
                subtype: None
            }]
        );
        assert_eq!(
            audio.hdrexts.iter().map(|h| h.id).collect::<Vec<_>>(),
            vec![1, 5, 10]
        );
        let video = j.rtp_description(Video).unwrap().unwrap();
        assert_eq!(
            video.payload_types.iter().map(|p| p.id).collect::<Vec<_>>(),
            vec![100, 96, 101, 97]
        );
        assert_eq!(video.payload_types[0].rtcp_fbs.len(), 5);
        assert_eq!(
            video.payload_type(97).unwrap().parameter("apt"),
            Some("101")
        );
        // Only audio and video have descriptions.
        assert_eq!(j.rtp_descriptions().unwrap().len(), 2);
    });
}

// ---------------------------------------------------------------------------
// source-add / source-remove from participants

/// A 2015 client's `addsource`: the sources directly under the content,
/// all four SEED parameters, the video type in `<ssrc-info>`.
const LEGACY_ADDSOURCE: &str = "<iq type='set' id='a1' to='myroom@conference.example.com/focus' from='myroom@conference.example.com/abcd1234'>
  <jingle xmlns='urn:xmpp:jingle:1' action='addsource' sid='7j2qv0l1d9kc' initiator='focus@auth.example.com/focus1447'>
    <content name='video'>
      <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='3001'>
        <ssrc-info xmlns='http://jitsi.org/jitmeet' video-type='screen'/>
        <parameter name='cname' value='Vd2kq1zw'/>
        <parameter name='msid' value='screen-ef56 screen-track'/>
        <parameter name='mslabel' value='screen-ef56'/>
        <parameter name='label' value='screen-track'/>
      </source>
      <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='3002'>
        <parameter name='cname' value='Vd2kq1zw'/>
        <parameter name='msid' value='screen-ef56 screen-track'/>
      </source>
      <ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='FID'>
        <source ssrc='3001'/><source ssrc='3002'/>
      </ssrc-group>
    </content>
  </jingle>
</iq>";

#[test]
fn legacy_addsource_with_sources_directly_under_content() {
    with_jingle(LEGACY_ADDSOURCE, |j| {
        assert_eq!(j.action, Action::AddSource);
        assert_eq!(j.action_name, "addsource");
        assert!(j.action.is_source_add() && !j.action.is_source_remove());
        let c = j.contents().next().unwrap();
        assert!(c.description().is_none());
        assert_eq!(c.media_type(), Some(Video), "media from the content name");
        let set = j.sources().unwrap();
        let first = Source::new(3001, Video)
            .with_video_type("screen")
            .with_msid("screen-ef56 screen-track")
            .with_parameter("cname", "Vd2kq1zw")
            .with_parameter("mslabel", "screen-ef56")
            .with_parameter("label", "screen-track");
        assert_eq!(set.sources[0], first);
        assert_eq!(set.sources[0].parameters.len(), 3, "in order, msid apart");
        assert_eq!(
            set.sources[1].msid.as_deref(),
            Some("screen-ef56 screen-track")
        );
        assert_eq!(set.groups, vec![SsrcGroup::new(FID, Video, &[3001, 3002])]);
    });
}

#[test]
fn legacy_removesource_and_both_places_in_one_content() {
    let xml = "<iq type='set' id='r1'><jingle xmlns='urn:xmpp:jingle:1' action='removesource' sid='s'>\
        <content name='audio'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>\
        <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='11'/></description>\
        <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='12'/></content>\
        <content name='video'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'>\
        <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' rid='1'/>\
        <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='21'/></description></content>\
        </jingle></iq>";
    with_jingle(xml, |j| {
        assert_eq!(j.action, Action::RemoveSource);
        assert!(j.action.is_source_remove() && !j.action.is_source_add());
        let set = j.sources().unwrap();
        assert_eq!(
            set.sources,
            vec![
                Source::new(11, Audio),
                Source::new(12, Audio),
                Source::new(21, Video)
            ],
            "description first, then the legacy place; the rid source is skipped"
        );
    });
}

#[test]
fn participant_terminate_asking_for_a_restart() {
    // What a client sends after ICE failed (peers.md), text first.
    let xml = "<iq type='set' id='x' from='myroom@conference.meet.test/ab12'>\
        <jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' sid='7j2qv0l1d9kc'>\
        <reason><text>ICE failed</text><connectivity-error/><unknown-thing/></reason>\
        <bridge-session xmlns='http://jitsi.org/protocol/focus' id='9f0e1d2c' restart='TRUE'/>\
        </jingle></iq>";
    with_jingle(xml, |j| {
        assert_eq!(
            j.reason(),
            Some(Reason {
                condition: Some(ReasonCondition::ConnectivityError),
                text: Some("ICE failed".into())
            })
        );
        let b = j.bridge_session().unwrap();
        assert_eq!(b.id.as_deref(), Some("9f0e1d2c"));
        assert!(b.restart && !b.ice_restart);
    });
    // An unknown condition is no condition.
    with_jingle(
        "<iq type='set' id='x'><jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' sid='s'>\
         <reason><other-reason/></reason></jingle></iq>",
        |j| assert_eq!(j.reason().unwrap().condition, None),
    );
}

#[test]
fn session_info_of_section_5_8() {
    with_jingle(
        "<iq type='set' id='i1'><jingle xmlns='urn:xmpp:jingle:1' action='session-info' sid='7j2qv0l1d9kc'>\
         <ice-state xmlns='http://jitsi.org/protocol/focus'> failed\n</ice-state>\
         <bridge-session xmlns='http://jitsi.org/protocol/focus' id='9f0e'/></jingle></iq>",
        |j| {
            assert_eq!(j.action, Action::SessionInfo);
            assert_eq!(j.ice_state().as_deref(), Some("failed"));
            let b = j.bridge_session().unwrap();
            assert_eq!(
                (b.id.as_deref(), b.restart, b.ice_restart),
                (Some("9f0e"), false, false)
            );
        },
    );
    with_jingle(
        "<iq type='set' id='i2'><jingle xmlns='urn:xmpp:jingle:1' action='session-info' sid='7j2qv0l1d9kc'>\
         <bridge-session xmlns='http://jitsi.org/protocol/focus' id='9f0e' ice-restart='true'/></jingle></iq>",
        |j| {
            assert!(j.ice_state().is_none());
            assert!(j.bridge_session().unwrap().ice_restart);
        },
    );
}

#[test]
fn participant_transport_info_with_trickled_candidates() {
    // The 2021 client trickles its candidates (peers.md).
    let xml = "<iq type='set' id='ti'><jingle xmlns='urn:xmpp:jingle:1' action='transport-info' \
        initiator='focus@auth.meet.test/focus' sid='s'>\
        <content creator='responder' name='audio'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' \
        ufrag='k3Qw' pwd='pw'><candidate foundation='1' component='1' protocol='udp' priority='1' \
        ip='192.0.2.1' port='5000' type='host' generation='0' network='1' id='c'/></transport></content>\
        <content creator='responder' name='video'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' \
        ufrag='k3Qw' pwd='pw'/></content></jingle></iq>";
    with_jingle(xml, |j| {
        assert_eq!(j.action, Action::TransportInfo);
        let t = j.transport().unwrap().unwrap();
        assert_eq!(t.candidates[0].ip(), Some("192.0.2.1"));
        assert!(j.sources().unwrap().is_empty());
    });
    with_jingle(
        "<iq type='set' id='ti'><jingle xmlns='urn:xmpp:jingle:1' action='transport-info' sid='s'>\
         <content name='audio'/></jingle></iq>",
        |j| assert_eq!(j.transport().unwrap(), None),
    );
}

// ---------------------------------------------------------------------------
// Actions, unknowns, malformed input

#[test]
fn action_names() {
    for a in Action::KNOWN {
        assert_eq!(Action::from_name(a.name()), a, "{}", a.name());
    }
    assert_eq!(Action::from_name("Session-Accept"), Action::Unknown);
    with_jingle(
        "<iq type='set' id='u'><jingle xmlns='urn:xmpp:jingle:1' action='session-dance' sid='s'/></iq>",
        |j| {
            assert_eq!(j.action, Action::Unknown);
            assert_eq!(j.action_name, "session-dance");
            assert_eq!(j.contents().count(), 0);
        },
    );
    for (name, c) in [
        ("initiator", Creator::Initiator),
        ("responder", Creator::Responder),
    ] {
        assert_eq!(Creator::from_name(name), Some(c));
        assert_eq!(c.name(), name);
    }
    for s in [
        Senders::Both,
        Senders::Initiator,
        Senders::Responder,
        Senders::None,
        Senders::Rejected,
    ] {
        assert_eq!(Senders::from_name(s.name()), Some(s));
    }
    assert_eq!(
        (Creator::from_name("x"), Senders::from_name("x")),
        (None, None)
    );
}

#[test]
fn odd_content_attributes_read_as_absent() {
    with_jingle(
        "<iq type='set' id='u'><jingle xmlns='urn:xmpp:jingle:1' action='session-accept' sid='s'>\
         <content creator='nobody' senders='rejected'/><content name='a&bad;'/></jingle></iq>",
        |j| {
            let c: Vec<_> = j.contents().collect();
            assert_eq!(
                (c[0].name(), c[0].creator(), c[0].senders()),
                (None, None, Some(Senders::Rejected))
            );
            assert_eq!(c[0].media(), None);
            assert_eq!(c[1].name(), None);
            assert!(j.sources().unwrap().is_empty());
        },
    );
}

fn extraction_err(
    body: &str,
    f: impl FnOnce(&JingleRequest<'_>) -> Result<(), StanzaParseError>,
) -> StanzaParseError {
    let xml = format!(
        "<iq type='set' id='m'><jingle xmlns='urn:xmpp:jingle:1' action='source-add' sid='s'>{body}</jingle></iq>"
    );
    with_jingle(&xml, |j| f(j).expect_err(&xml))
}

#[test]
fn malformed_requests_are_errors() {
    assert_eq!(
        parse_err("<iq type='set' id='m'><jingle xmlns='urn:xmpp:jingle:1' sid='s'/></iq>"),
        StanzaParseError::MissingAttribute("action")
    );
    assert_eq!(
        parse_err(
            "<iq type='set' id='m'><jingle xmlns='urn:xmpp:jingle:1' action='source-add'/></iq>"
        ),
        StanzaParseError::MissingAttribute("sid")
    );
    assert_eq!(
        parse_err(
            "<iq type='set' id='m'><jingle xmlns='urn:xmpp:jingle:2' action='a' sid='s'/></iq>"
        ),
        StanzaParseError::NotA("a Jingle request")
    );
    assert_eq!(
        parse_err("<iq type='result' id='m'/>"),
        StanzaParseError::NotA("a Jingle request")
    );
    assert_eq!(
        parse_err(
            "<iq type='set' id='m'><jingle xmlns='urn:xmpp:jingle:1' action='a' sid='s&x;'/></iq>"
        ),
        StanzaParseError::BadAttribute("sid", "s&x;".into())
    );
}

#[test]
fn malformed_sources_are_errors() {
    let sources = |j: &JingleRequest<'_>| j.sources().map(|_| ());
    let src = |attrs: &str, inner: &str| {
        format!(
            "<content name='audio'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>\
             <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' {attrs}>{inner}</source></description></content>"
        )
    };
    for (ssrc, bad) in [
        ("x", "x"),
        ("-1", "-1"),
        ("4294967296", "4294967296"),
        ("", ""),
    ] {
        assert_eq!(
            extraction_err(&src(&format!("ssrc='{ssrc}'"), ""), sources),
            StanzaParseError::BadAttribute("ssrc", bad.into())
        );
    }
    assert_eq!(
        extraction_err(&src("ssrc='1' name='a&#1;'", ""), sources),
        StanzaParseError::BadAttribute("name", "a\u{1}".into()),
        "a control character could not be written back"
    );
    assert_eq!(
        extraction_err(
            &src("ssrc='1'", "<parameter name='msid' value='&#x1f;'/>"),
            sources
        ),
        StanzaParseError::BadAttribute("value", "\u{1f}".into())
    );
    let group = |inner: &str| {
        format!(
            "<content name='video'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'>{inner}</description></content>"
        )
    };
    assert_eq!(
        extraction_err(
            &group(
                "<ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'><source ssrc='1'/></ssrc-group>"
            ),
            sources
        ),
        StanzaParseError::MissingAttribute("semantics")
    );
    assert_eq!(
        extraction_err(
            &group(
                "<ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='SIM'><source rid='1'/></ssrc-group>"
            ),
            sources
        ),
        StanzaParseError::MissingAttribute("ssrc")
    );
    // Sources in a content that is neither audio nor video.
    assert_eq!(
        extraction_err(
            "<content name='data'><source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='1'/></content>",
            sources
        ),
        StanzaParseError::BadAttribute("media", "data".into())
    );
    assert_eq!(
        extraction_err(
            "<content><ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='SIM'/></content>",
            sources
        ),
        StanzaParseError::BadAttribute("media", "".into())
    );
    // Owners are required when sources are read by owner, and a group
    // must name a source of the request.
    let by_owner = |j: &JingleRequest<'_>| j.sources_by_owner().map(|_| ());
    assert_eq!(
        extraction_err(&src("ssrc='1'", ""), by_owner),
        StanzaParseError::MissingAttribute("owner")
    );
    assert_eq!(
        extraction_err(
            &group(
                "<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='1'><ssrc-info xmlns='http://jitsi.org/jitmeet' owner='o'/></source>\
                    <ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='FID'><source ssrc='2'/><source ssrc='1'/></ssrc-group>"
            ),
            by_owner
        ),
        StanzaParseError::NotA("a group of announced sources")
    );
}

#[test]
fn malformed_codecs_and_transports_are_errors() {
    let rtp = |j: &JingleRequest<'_>| j.rtp_descriptions().map(|_| ());
    let desc = |inner: &str| {
        format!(
            "<content name='audio'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>{inner}</description></content>"
        )
    };
    assert_eq!(
        extraction_err(&desc("<payload-type id='128' name='x'/>"), rtp),
        StanzaParseError::BadAttribute("id", "128".into())
    );
    assert_eq!(
        extraction_err(&desc("<payload-type id='opus'/>"), rtp),
        StanzaParseError::BadAttribute("id", "opus".into())
    );
    assert_eq!(
        extraction_err(&desc("<payload-type name='opus'/>"), rtp),
        StanzaParseError::MissingAttribute("id")
    );
    assert_eq!(
        extraction_err(&desc("<payload-type id='1' clockrate='fast'/>"), rtp),
        StanzaParseError::BadAttribute("clockrate", "fast".into())
    );
    assert_eq!(
        extraction_err(
            &desc("<rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' id='1'/>"),
            rtp
        ),
        StanzaParseError::MissingAttribute("uri")
    );
    // A bad codec does not hide the sources.
    with_jingle(
        &format!(
            "<iq type='set' id='m'><jingle xmlns='urn:xmpp:jingle:1' action='session-accept' sid='s'>{}</jingle></iq>",
            desc(
                "<payload-type id='999'/><source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='5'/>"
            )
        ),
        |j| {
            assert!(j.rtp_descriptions().is_err());
            assert_eq!(j.sources().unwrap().sources, vec![Source::new(5, Audio)]);
        },
    );

    let transport = |j: &JingleRequest<'_>| j.transport().map(|_| ());
    let tr = |inner: &str| {
        format!(
            "<content name='audio'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='u'>{inner}</transport></content>"
        )
    };
    assert_eq!(
        extraction_err(
            &tr(
                "<sctpmap xmlns='urn:xmpp:jingle:transports:dtls-sctp:1' protocol='webrtc-datachannel'/>"
            ),
            transport
        ),
        StanzaParseError::MissingAttribute("number")
    );
    assert_eq!(
        extraction_err(
            &tr("<sctpmap xmlns='urn:xmpp:jingle:transports:dtls-sctp:1' number='70000'/>"),
            transport
        ),
        StanzaParseError::BadAttribute("number", "70000".into())
    );
    assert_eq!(
        extraction_err(&tr("<candidate ip='&#2;'/>"), transport),
        StanzaParseError::BadAttribute("attribute", "&#2;".into())
    );
    assert_eq!(
        extraction_err(&tr("<candidate ip='&nope;'/>"), transport),
        StanzaParseError::BadAttribute("attribute", "&nope;".into())
    );
    assert_eq!(
        extraction_err(
            &tr(
                "<fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-1'>A&#3;</fingerprint>"
            ),
            transport
        ),
        StanzaParseError::BadAttribute("fingerprint", "A\u{3}".into())
    );
    let mut p = Parser::new();
    let doc = p
        .parse(
            b"<transport xmlns='urn:xmpp:jingle:transports:raw-udp:1'/>",
            ns::CLIENT,
        )
        .unwrap();
    assert_eq!(
        IceUdpTransport::parse(doc.root()),
        Err(StanzaParseError::NotA("an ICE-UDP transport"))
    );
}
