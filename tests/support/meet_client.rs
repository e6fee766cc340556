//! What a current Jitsi Meet client says in a conference, as XML text: the
//! media features it advertises and the `session-accept` it answers an
//! offer with. Shared by the demo (`examples/demo.rs`, slixmpp
//! participants) and the join-storm bench (`benches/join_storm.rs`, its own
//! load generator), so both put the same realistic load on the focus.
//!
//! The shape follows protocol.md and peers.md: one audio source, three
//! simulcast video sources each with RTX (SIM and FID groups), named
//! sources `<nick>-a0`/`<nick>-v0`, ICE-UDP with DTLS `setup='active'` and
//! one host candidate (the bridge is ICE-lite), BUNDLE of three contents.

/// `urn:xmpp:jingle:1`.
pub const NS_JINGLE: &str = "urn:xmpp:jingle:1";

/// What a current Jitsi Meet client advertises in disco#info.
pub const CLIENT_FEATURES: &[&str] = &[
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

/// The conference request payload for `room`, with the `machine-uid` and
/// the property current clients send.
pub fn conference_request(room: &str, machine_uid: &str) -> String {
    format!(
        "<conference xmlns='http://jitsi.org/protocol/focus' room='{room}' \
         machine-uid='{machine_uid}'><property name='rtcstatsEnabled' value='false'/>\
         </conference>"
    )
}

/// Each participant's SSRCs: audio `base+1`, video SIM `base+10..12`, RTX
/// `base+20..22`; distinct for distinct `index`es below 100,000.
pub fn ssrc_base(index: u32) -> u32 {
    1000 * (index % 100_000 + 1)
}

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

/// The `<jingle action='session-accept'/>` a current client answers the
/// offer `sid` with, as `room/nick`, its SSRCs from `ssrc_base(index)`:
/// 7 sources (1 audio, 6 video) and 4 groups.
pub fn session_accept(room: &str, nick: &str, index: u32, sid: &str) -> String {
    let b = ssrc_base(index);
    let ssma = "urn:xmpp:jingle:apps:rtp:ssma:0";
    let msid = |media: &str| format!("{nick}-{media}-1 {nick}-{media}-track");
    let src = |ssrc: u32, media: &str, m: char, extra: &str| {
        format!(
            "<source xmlns='{ssma}' ssrc='{ssrc}' name='{nick}-{m}0'{extra}>\
             <parameter name='msid' value='{}'/></source>",
            msid(media)
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
        "<jingle xmlns='{NS_JINGLE}' action='session-accept' sid='{sid}' \
         responder='{room}/{nick}'>\
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
         </jingle>",
        src(b + 1, "audio", 'a', ""),
        client_transport(nick, false),
        client_transport(nick, false),
        client_transport(nick, true),
    )
}
