//! Invites per second, end to end, measured sans-IO: the bench drives
//! [`Focus`] directly (no sockets, no Prosody, no bridge) with the bytes a
//! MUC server, Jitsi Meet clients and jitsi-videobridges would send, framed
//! and parsed as a real stream is (`Framer` → `Parser` → `doc.root()` →
//! `Focus::handle_stanza`), and answers everything the focus asks at once.
//!
//! One *invite* is one participant brought into media:
//!
//! 1. its MUC presence reaches the focus (Jitsi Meet's, with XEP-0115 caps);
//! 2. features: from the caps cache (one disco#info per caps `ver`), or, in
//!    the `no caps` row, a disco#info answer for every participant;
//! 3. the focus picks a bridge and sends a Colibri2 `conference-modify`
//!    (endpoint create); the emulated bridge answers at once with a
//!    pre-built `conference-modified` carrying a realistic ICE transport
//!    (ufrag, pwd, DTLS fingerprint, host and srflx candidates, web-socket),
//!    an SCTP port and the bridge's feedback sources (`jvb-a0`, `jvb-v0`);
//! 4. the focus sends `session-initiate`; the client answers it with a
//!    result and a `session-accept` (the one lib-jitsi-meet writes: three
//!    contents, its ICE transport, one audio source, three simulcast video
//!    sources with RTX and their groups);
//! 5. the focus answers the `session-accept` and pushes the participant's
//!    transport and sources to the bridge, which answers.
//!
//! In a room the first member waits for a second one (the focus only sets up
//! media with two participants), so a room of *n* makes *n* invites; the
//! owner grant of the first member is answered too. Rooms are filled one
//! after the other, and they stay: at the end of a run every conference and
//! every participant is live (10,000 invited participants).
//!
//! Every stanza is one read of the shell loop: after it the bench does what
//! `shell::run` does per wake-up (`handle_timeout(now)`, `poll_timeout()`),
//! then scans the focus's output (byte searches, no parsing) for what it
//! asked, and queues the answers, assembled from pre-built heads and tails
//! around the IQ id, the JID and the Jingle `sid` the focus chose. All of
//! that runs inside the timed region and is charged to the focus; every
//! other input byte is built before the clock starts.
//!
//! Set-up, untimed for each run: a new `Focus::with_media` with a brewery
//! (`MediaConfig::quiet()`: no health checks, no disco rounds), both streams
//! online, the bridges' brewery presences, then every conference created
//! (conference IQ, self-presence as owner, owner form, submit result).
//!
//! Rows: rooms of 2, 10 and 50 participants, with one bridge and with 500
//! bridges in the brewery (the difference is the bridge selection inside
//! the focus), and rooms of 10 whose clients send no caps. Besides: the
//! cost of a brewery presence with 500 bridges (adding them, then updating
//! their stats).
//!
//! Baseline, same run: the same input bytes, read for read, through the same
//! framer and parser without the focus (recorded during the checked run).
//! The ratio is the focus logic's cost (and the emulation's output scan and
//! answer assembly) over parsing its input.
//!
//! Timings are this thread's CPU time (`/proc/thread-self/schedstat`), the
//! best of 5 runs with the baseline and the focus alternating.
//! Allocations are counted by a counting global allocator in this file.
//!
//! Run with `cargo bench --bench media`. With `MEDIA_BENCH_PROFILE=<size>`
//! (2, 10 or 50; one bridge, caps) it only drives the focus, 10 times over,
//! for a profiler or `valgrind --tool=cachegrind`.

use std::collections::VecDeque;
use std::hint::black_box;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use jicofo::conn::ConnId;
use jicofo::focus::media::Invite;
use jicofo::focus::{Focus, FocusConfig, MediaConfig};
use jicofo::stanza::Jid;
use jicofo::xml::{El, Frame, Framer, Parser, ns};
use memchr::memmem;

#[path = "common/alloc.rs"]
#[allow(dead_code)]
mod alloc;
use alloc::{ALLOCATED, ALLOCS, LIVE, cpu_ns};

// ---------------------------------------------------------------------------
// Constants

/// Invites per run, whatever the room size.
const INVITES: usize = 10_000;
const REPS: usize = 5;
const MANY_BRIDGES: usize = 500;

const FOCUS_FULL: &str = "focus@auth.meet.test/focus";
const MUC: &str = "conference.meet.test";
const BREWERY: &str = "jvbbrewery@internal.auth.meet.test";
const REGIONS: [&str; 5] = ["us-east", "us-west", "eu-central", "eu-west", "ap-south"];

const COMPONENT_HEADER: &[u8] = b"<stream:stream xmlns:stream='http://etherx.jabber.org/streams' \
    xmlns='jabber:component:accept' id='s1' from='focus.meet.test'>";
const CLIENT_HEADER: &[u8] = b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' id='c1' from='auth.meet.test' \
    version='1.0' xml:lang='en'>";

/// Endpoint ids are 8 hex digits, as Jitsi Meet's are; they encode the
/// participant's index (times an odd constant, mod 2^32), so the emulator
/// finds a participant's pre-built answers without a map.
const NICK_MUL: u32 = 0x9E37_79B1;
const NICK_INV: u32 = {
    // Newton's iteration for the inverse of an odd number mod 2^32.
    let mut inv = NICK_MUL;
    let mut i = 0;
    while i < 5 {
        inv = inv.wrapping_mul(2u32.wrapping_sub(NICK_MUL.wrapping_mul(inv)));
        i += 1;
    }
    inv
};

fn nick_of(i: usize) -> String {
    format!("{:08x}", (i as u32).wrapping_mul(NICK_MUL))
}

fn index_of(nick: &[u8]) -> usize {
    assert_eq!(nick.len(), 8, "a bench nick");
    let mut v = 0u32;
    for &b in nick {
        let d = (b as char).to_digit(16).expect("hex nick");
        v = (v << 4) | d;
    }
    v.wrapping_mul(NICK_INV) as usize
}

fn room_of(r: usize) -> String {
    format!("room{r:05}@{MUC}")
}

/// The room index of `room00042@conference.meet.test[/…]`.
fn room_index(jid: &[u8]) -> usize {
    jid[4..9]
        .iter()
        .fold(0, |n, &b| n * 10 + (b - b'0') as usize)
}

// ---------------------------------------------------------------------------
// Input

/// The room configuration form after the result's id, with the Jitsi
/// meeting-id field; the meeting id and the rest follow.
const FORM_HEAD: &str = "'><query xmlns='http://jabber.org/protocol/muc#owner'>\
<x xmlns='jabber:x:data' type='form'><title>Configuration for room</title>\
<instructions>Complete and submit this form to configure the room.</instructions>\
<field type='hidden' var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>\
<field type='fixed'><value>Room information</value></field>\
<field type='text-single' label='Title' var='muc#roomconfig_roomname'/>\
<field type='text-single' label='Description' var='muc#roomconfig_roomdesc'><value/></field>\
<field type='text-single' var='muc#roominfo_meetingId'><value>";
const FORM_TAIL: &str = "</value></field>\
<field type='boolean' label='Persistent (room should remain even when it is not occupied)' var='muc#roomconfig_persistentroom'><value>0</value></field>\
<field type='boolean' label='Include room information in public lists' var='muc#roomconfig_publicroom'><value>1</value></field>\
<field type='text-private' label='Password' var='muc#roomconfig_roomsecret'><value/></field>\
<field type='boolean' label='Only allow members to join' var='muc#roomconfig_membersonly'><value>0</value></field>\
<field type='list-single' label='Addresses (JIDs) of room occupants may be viewed by:' var='muc#roomconfig_whois'>\
<option label='Moderators only'><value>moderators</value></option><option label='Anyone'><value>anyone</value></option>\
<value>moderators</value></field>\
</x></query></iq>";

/// A Jitsi Meet client's disco#info answer, after the result's id.
const DISCO_TAIL: &str = "'><query xmlns='http://jabber.org/protocol/disco#info' \
node='https://jitsi.org/jitsi-meet#cvjWXufsg4xT62Ec2mlATkFZ9lk='>\
<identity category='client' type='web' name='https://jitsi.org/jitsi-meet'/>\
<feature var='http://jabber.org/protocol/caps'/>\
<feature var='http://jabber.org/protocol/disco#info'/>\
<feature var='http://jitsi.org/json-encoded-sources'/>\
<feature var='http://jitsi.org/opus-red'/>\
<feature var='http://jitsi.org/receive-multiple-video-streams'/>\
<feature var='http://jitsi.org/remb'/>\
<feature var='http://jitsi.org/source-name'/>\
<feature var='http://jitsi.org/ssrc-rewriting-1'/>\
<feature var='http://jitsi.org/tcc'/>\
<feature var='https://jitsi.org/meet/e2ee'/>\
<feature var='urn:ietf:rfc:4588'/>\
<feature var='urn:ietf:rfc:5761'/>\
<feature var='urn:ietf:rfc:5888'/>\
<feature var='urn:xmpp:jingle:1'/>\
<feature var='urn:xmpp:jingle:apps:dtls:0'/>\
<feature var='urn:xmpp:jingle:apps:rtp:1'/>\
<feature var='urn:xmpp:jingle:apps:rtp:audio'/>\
<feature var='urn:xmpp:jingle:apps:rtp:video'/>\
<feature var='urn:xmpp:jingle:transports:dtls-sctp:1'/>\
<feature var='urn:xmpp:jingle:transports:ice-udp:1'/>\
</query></iq>";

/// The MUC's answer to the focus's join, after `<presence from='room/focus'`.
const SELF_PRESENCE_TAIL: &str = "' to='focus@auth.meet.test/focus'>\
<versions xmlns='http://jitsi.org/jitmeet'><component name='focus'>0.1.0</component></versions>\
<x xmlns='http://jabber.org/protocol/muc#user'><status code='201'/>\
<item jid='focus@auth.meet.test/focus' affiliation='owner' role='moderator'/>\
<status code='110'/></x></presence>";

/// The bridge's answer to anything but an endpoint create, after the id.
const MODIFIED_EMPTY_TAIL: &str = "'><conference-modified xmlns='jitsi:colibri2'/></iq>";

const FINGERPRINT: &str = "3C:8E:51:0A:9B:F2:44:C7:1D:6E:A0:93:5F:28:B7:E4:0C:D1:7A:96:2B:F5:48:E3:61:0D:AC:37:9E:52:B8:14";

/// What one room needs.
struct RoomInput {
    request: Vec<u8>,
    /// The owner form after the result's id.
    form_tail: Vec<u8>,
}

impl RoomInput {
    fn new(r: usize) -> RoomInput {
        let room = room_of(r);
        let request = format!(
            "<iq type='set' id='conf-{r}' from='user{r:05}@meet.test/web-{r}' to='focus.meet.test' xml:lang='en'>\
             <conference xmlns='http://jitsi.org/protocol/focus' room='{room}' \
             machine-uid='5e2b7f0c6a914d38b1a0f3c9d2e4a617'>\
             <property name='rtcstatsEnabled' value='false'/>\
             <property name='visitors-version' value='1'/>\
             <property name='startAudioMuted' value='9'/>\
             <property name='startVideoMuted' value='9'/>\
             </conference></iq>"
        );
        let form_tail = format!("{FORM_HEAD}6d5a1e3c-2f4b-4e8a-9c1d-{r:012x}{FORM_TAIL}");
        RoomInput {
            request: request.into_bytes(),
            form_tail: form_tail.into_bytes(),
        }
    }
}

/// What one participant sends, and what the bridge answers for it.
struct PersonInput {
    join: Vec<u8>,
    leave: Vec<u8>,
    /// The bridge's `conference-modified` for its endpoint create, after
    /// the result's id.
    alloc_tail: Vec<u8>,
    /// `session-accept` up to the `sid` value.
    accept_head: Vec<u8>,
    /// `session-accept` after the `sid` value.
    accept_tail: Vec<u8>,
}

impl PersonInput {
    fn new(i: usize, r: usize, caps: bool) -> PersonInput {
        let room = room_of(r);
        let nick = nick_of(i);
        let user = format!("user{i:05}@meet.test/web-{nick}");
        let caps = if caps {
            "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' \
             node='https://jitsi.org/jitsi-meet' ver='cvjWXufsg4xT62Ec2mlATkFZ9lk='/>"
        } else {
            ""
        };
        let join = format!(
            "<presence from='{room}/{nick}' to='{FOCUS_FULL}' xml:lang='en'>\
             <stats-id>Lavern-Wq1</stats-id>{caps}\
             <jitsi_participant_codecList>av1,vp9,vp8,h264</jitsi_participant_codecList>\
             <SourceInfo>{{\"{nick}-a0\":{{\"muted\":true}},\"{nick}-v0\":{{\"muted\":false}}}}</SourceInfo>\
             <nick xmlns='http://jabber.org/protocol/nick'>Alice</nick>\
             <jitsi_participant_region>eu-central</jitsi_participant_region>\
             <features><feature var='https://jitsi.org/meet/e2ee'/></features>\
             <x xmlns='http://jabber.org/protocol/muc#user'>\
             <item jid='{user}' affiliation='none' role='participant'/></x></presence>"
        );
        let leave = format!(
            "<presence type='unavailable' from='{room}/{nick}' to='{FOCUS_FULL}'>\
             <x xmlns='http://jabber.org/protocol/muc#user'>\
             <item jid='{user}' affiliation='none' role='none'/></x></presence>"
        );
        let alloc_tail = format!(
            "'><conference-modified xmlns='jitsi:colibri2'>\
             <endpoint id='{nick}'><transport>\
             <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='b{nick}q1la2' pwd='4bq0nxk3vq5r0dc2i1f8h7lm6'>\
             <web-socket xmlns='http://jitsi.org/protocol/colibri' \
             url='wss://meet.test/colibri-ws/default-id/6d5a1e3c2f4b4e8a/{nick}?pwd=4bq0nxk3vq5r0dc2i1f8h7lm6'/>\
             <rtcp-mux/>\
             <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>{FINGERPRINT}</fingerprint>\
             <candidate component='1' foundation='1' generation='0' id='653a8f2e1' network='0' \
             priority='2130706431' protocol='udp' type='host' ip='10.0.1.17' port='10000'/>\
             <candidate component='1' foundation='2' generation='0' id='653a8f2e2' network='0' \
             priority='1694498815' protocol='udp' type='srflx' ip='203.0.113.17' port='10000' \
             rel-addr='10.0.1.17' rel-port='10000'/>\
             </transport><sctp port='5000' role='server'/></transport></endpoint>\
             <sources>\
             <media-source type='audio' id='jvb-a0'><source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='411312308' name='jvb-a0'/></media-source>\
             <media-source type='video' id='jvb-v0'><source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='2917553204' name='jvb-v0'/></media-source>\
             </sources></conference-modified></iq>"
        );
        let accept_head = format!(
            "<iq type='set' id='{nick}-sa' to='{room}/focus' from='{room}/{nick}'>\
             <jingle xmlns='urn:xmpp:jingle:1' action='session-accept' initiator='{FOCUS_FULL}' \
             responder='{room}/{nick}' sid='"
        );
        let s = |j: u32| 0x1000_0000u32 + (i as u32) * 8 + j;
        let (a, v1, v2, v3, r1, r2, r3) = (s(0), s(1), s(2), s(3), s(4), s(5), s(6));
        let transport_head = format!(
            "<transport ufrag='u{nick}' pwd='Zr8pT2vN6xL1cF9hJ4mB0sD7' xmlns='urn:xmpp:jingle:transports:ice-udp:1'>\
             <fingerprint hash='sha-256' setup='active' xmlns='urn:xmpp:jingle:apps:dtls:0'>{FINGERPRINT}</fingerprint>"
        );
        let msid = format!("{nick}-video-1 d9f0a1b2-{nick}");
        let vsrc = |ssrc: u32| {
            format!(
                "<source name='{nick}-v0' ssrc='{ssrc}' videoType='camera' xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'>\
                 <parameter name='msid' value='{msid}'/></source>"
            )
        };
        let accept_tail = format!(
            "'>\
<group xmlns='urn:xmpp:jingle:apps:grouping:0' semantics='BUNDLE'><content name='audio'/><content name='video'/><content name='data'/></group>\
<content creator='responder' name='audio' senders='both'>\
<description media='audio' xmlns='urn:xmpp:jingle:apps:rtp:1'>\
<payload-type id='111' name='opus' clockrate='48000' channels='2'><parameter name='minptime' value='10'/><parameter name='useinbandfec' value='1'/>\
<rtcp-fb type='transport-cc' xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0'/></payload-type>\
<payload-type id='126' name='telephone-event' clockrate='8000'/>\
<source name='{nick}-a0' ssrc='{a}' xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'><parameter name='msid' value='{nick}-audio-1 a1b2c3d4-{nick}'/></source>\
<rtcp-mux/>\
<rtp-hdrext id='1' uri='urn:ietf:params:rtp-hdrext:ssrc-audio-level' xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/>\
<rtp-hdrext id='5' uri='http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01' xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/>\
<rtp-hdrext id='10' uri='urn:ietf:params:rtp-hdrext:sdes:mid' xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/>\
<extmap-allow-mixed xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/>\
</description>\
{transport_head}\
<candidate foundation='2839437187' component='1' protocol='udp' priority='2122260223' ip='192.168.1.20' port='58214' type='host' generation='0' network='1' id='x7vb0ikfg9'/>\
<candidate foundation='842163049' component='1' protocol='udp' priority='1686052607' ip='198.51.100.23' port='58214' type='srflx' generation='0' rel-addr='192.168.1.20' rel-port='58214' network='1' id='x7vb0ikfga'/>\
<candidate foundation='4233069003' component='1' protocol='tcp' priority='1518280447' ip='192.168.1.20' port='9' type='host' generation='0' tcptype='active' network='1' id='x7vb0ikfgb'/>\
</transport></content>\
<content creator='responder' name='video' senders='both'>\
<initial-last-n value='25' xmlns='jitsi:colibri2'/>\
<description media='video' xmlns='urn:xmpp:jingle:apps:rtp:1'>\
<payload-type id='100' name='VP8' clockrate='90000'><rtcp-fb type='transport-cc' xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0'/>\
<rtcp-fb type='ccm' xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' subtype='fir'/><rtcp-fb type='nack' xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0'/><rtcp-fb type='nack' xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' subtype='pli'/></payload-type>\
<payload-type id='96' name='rtx' clockrate='90000'><parameter name='apt' value='100'/></payload-type>\
<payload-type id='101' name='VP9' clockrate='90000'><parameter name='profile-id' value='0'/><rtcp-fb type='transport-cc' xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0'/></payload-type>\
<payload-type id='97' name='rtx' clockrate='90000'><parameter name='apt' value='101'/></payload-type>\
{}{}{}{}{}{}\
<ssrc-group semantics='FID' xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'><source ssrc='{v1}'/><source ssrc='{r1}'/></ssrc-group>\
<ssrc-group semantics='FID' xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'><source ssrc='{v2}'/><source ssrc='{r2}'/></ssrc-group>\
<ssrc-group semantics='FID' xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'><source ssrc='{v3}'/><source ssrc='{r3}'/></ssrc-group>\
<ssrc-group semantics='SIM' xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'><source ssrc='{v1}'/><source ssrc='{v2}'/><source ssrc='{v3}'/></ssrc-group>\
<rtcp-mux/>\
<rtp-hdrext id='3' uri='http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time' xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/>\
<rtp-hdrext id='5' uri='http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01' xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/>\
<rtp-hdrext id='10' uri='urn:ietf:params:rtp-hdrext:sdes:mid' xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/>\
<rtp-hdrext id='11' uri='https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension' xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/>\
<extmap-allow-mixed xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/>\
</description>\
{transport_head}</transport></content>\
<content creator='responder' name='data' senders='both'>\
{transport_head}<sctpmap number='5000' protocol='webrtc-datachannel' xmlns='urn:xmpp:jingle:transports:dtls-sctp:1' streams='0'/>\
</transport></content>\
</jingle></iq>",
            vsrc(v1),
            vsrc(r1),
            vsrc(v2),
            vsrc(r2),
            vsrc(v3),
            vsrc(r3),
        );
        PersonInput {
            join: join.into_bytes(),
            leave: leave.into_bytes(),
            alloc_tail: alloc_tail.into_bytes(),
            accept_head: accept_head.into_bytes(),
            accept_tail: accept_tail.into_bytes(),
        }
    }
}

/// A bridge's brewery presence, as jitsi-videobridge 2.3 sends it.
fn brewery_presence(b: usize, stress: f64) -> Vec<u8> {
    let region = REGIONS[b % REGIONS.len()];
    format!(
        "<presence from='{BREWERY}/jvb-{b}' to='{FOCUS_FULL}'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='participant'/></x>\
         <stats xmlns='http://jitsi.org/protocol/colibri'>\
         <stat name='average_participant_stress' value='0.005'/>\
         <stat name='colibri2' value='true'/>\
         <stat name='conferences' value='{}'/>\
         <stat name='drain' value='false'/>\
         <stat name='graceful_shutdown' value='false'/>\
         <stat name='healthy' value='true'/>\
         <stat name='participants' value='{}'/>\
         <stat name='region' value='{region}'/>\
         <stat name='relay_id' value='jvb-{b}'/>\
         <stat name='release' value='2.3-210'/>\
         <stat name='shutting_down' value='false'/>\
         <stat name='stress_level' value='{stress:.4}'/>\
         <stat name='version' value='2.3.210-g5a1d2b3'/>\
         </stats></presence>",
        b % 40,
        b % 40 * 4,
    )
    .into_bytes()
}

/// Everything one scenario feeds.
struct Inputs {
    size: usize,
    rooms: Vec<RoomInput>,
    people: Vec<PersonInput>,
    bridges: Vec<Vec<u8>>,
}

impl Inputs {
    fn new(size: usize, bridges: usize, caps: bool) -> Inputs {
        let rooms = INVITES / size;
        Inputs {
            size,
            rooms: (0..rooms).map(RoomInput::new).collect(),
            people: (0..rooms * size)
                .map(|i| PersonInput::new(i, i / size, caps))
                .collect(),
            bridges: (0..bridges)
                .map(|b| brewery_presence(b, 0.01 + 0.6 * ((b * 37 % 100) as f64 / 100.0)))
                .collect(),
        }
    }
}

// ---------------------------------------------------------------------------
// The wire and the emulated peers

/// Framer and parser of both streams, as the connections hold them.
struct Wire {
    framers: [Framer; 2],
    parser: Parser,
}

impl Wire {
    fn new() -> Wire {
        let mut framers = [Framer::new(65536), Framer::new(65536)];
        for (f, header) in framers.iter_mut().zip([COMPONENT_HEADER, CLIENT_HEADER]) {
            f.push(header);
            assert!(matches!(f.next_frame(), Ok(Some(Frame::StreamOpen(_)))));
        }
        Wire {
            framers,
            parser: Parser::new(),
        }
    }

    /// One read on `conn`: every complete stanza in it goes to `sink`.
    fn feed(&mut self, conn: ConnId, bytes: &[u8], mut sink: impl FnMut(El<'_>)) {
        let default_ns = match conn {
            ConnId::Component => ns::COMPONENT,
            ConnId::Client => ns::CLIENT,
        };
        let framer = &mut self.framers[conn as usize];
        framer.push(bytes);
        while let Some(frame) = framer.next_frame().expect("input frames") {
            if let Frame::Stanza(range) = frame {
                let doc = self
                    .parser
                    .parse(framer.bytes(range.clone()), default_ns)
                    .unwrap_or_else(|e| {
                        panic!(
                            "input parses: {e:?}: {}",
                            String::from_utf8_lossy(framer.bytes(range))
                        )
                    });
                sink(doc.root());
            }
        }
    }
}

/// What a stanza fed to the focus is, for the allocation table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    ConferenceIq,
    SelfPresence,
    OwnerForm,
    SubmitResult,
    Brewery,
    Join,
    GrantResult,
    DiscoAnswer,
    AllocAnswer,
    InitiateResult,
    SessionAccept,
    BridgeResult,
    OtherResult,
    Leave,
}

const KINDS: usize = 14;
const KIND_NAMES: [&str; KINDS] = [
    "conference IQ",
    "self-presence",
    "owner form",
    "submit result",
    "brewery presence",
    "join",
    "grant result",
    "disco#info answer",
    "allocation answer",
    "initiate result",
    "session-accept",
    "bridge update result",
    "other result",
    "leave",
];
/// The rows of the per-invite table.
const INVITE_KINDS: [Kind; 8] = [
    Kind::Join,
    Kind::GrantResult,
    Kind::DiscoAnswer,
    Kind::AllocAnswer,
    Kind::InitiateResult,
    Kind::SessionAccept,
    Kind::BridgeResult,
    Kind::OtherResult,
];

/// The value of attribute `name` in the start tag at the head of `stanza`.
fn attr<'a>(stanza: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let end = memchr::memchr(b'>', stanza)?;
    let tag = &stanza[..end];
    let mut pat = [0u8; 16];
    let n = name.len() + 3;
    pat[0] = b' ';
    pat[1..=name.len()].copy_from_slice(name.as_bytes());
    pat[name.len() + 1] = b'=';
    pat[name.len() + 2] = b'\'';
    let at = memmem::find(tag, &pat[..n])? + n;
    let len = memchr::memchr(b'\'', &tag[at..])?;
    Some(&tag[at..at + len])
}

/// The value of the first `name='…'` anywhere in `hay`.
fn find_value<'a>(hay: &'a [u8], pat: &[u8]) -> Option<&'a [u8]> {
    let at = memmem::find(hay, pat)? + pat.len();
    let len = memchr::memchr(b'\'', &hay[at..])?;
    Some(&hay[at..at + len])
}

/// Counts of what the focus sent, for the checks.
#[derive(Default, Clone, Copy, Debug)]
struct Sent {
    endpoint_creates: usize,
    initiates: usize,
    bridge_updates: usize,
    expires: usize,
    disco_queries: usize,
    answers_ready: usize,
}

/// Reads recorded for the baseline.
#[derive(Default)]
struct Recording {
    bytes: Vec<u8>,
    reads: Vec<(ConnId, usize, usize)>,
}

/// Feeds the focus one stanza per read and answers what it asks, as the
/// MUC, the clients and the bridges would, at once.
struct Emu<'i> {
    inputs: &'i Inputs,
    wire: Wire,
    /// Stanzas waiting to be read by the focus, and where they are in `queue`.
    queue: Vec<u8>,
    fifo: VecDeque<(Kind, ConnId, usize, usize)>,
    /// Stanza starts in the focus's output (reused).
    starts: Vec<usize>,
    t0: Instant,
    ticks: u64,
    sent: Sent,
    out_bytes: usize,
    /// Checked run: assert on the output, count allocations per kind.
    check: bool,
    kind_allocs: [usize; KINDS],
    kind_count: [usize; KINDS],
    record: Option<Recording>,
    finders: Finders,
}

struct Finders {
    iq: memmem::Finder<'static>,
    presence: memmem::Finder<'static>,
    message: memmem::Finder<'static>,
}

impl<'i> Emu<'i> {
    fn new(inputs: &'i Inputs) -> Emu<'i> {
        Emu {
            inputs,
            wire: Wire::new(),
            queue: Vec::with_capacity(1 << 16),
            fifo: VecDeque::with_capacity(64),
            starts: Vec::with_capacity(64),
            t0: Instant::now(),
            ticks: 0,
            sent: Sent::default(),
            out_bytes: 0,
            check: false,
            kind_allocs: [0; KINDS],
            kind_count: [0; KINDS],
            record: None,
            finders: Finders {
                iq: memmem::Finder::new(b"<iq "),
                presence: memmem::Finder::new(b"<presence"),
                message: memmem::Finder::new(b"<message"),
            },
        }
    }

    fn push(&mut self, kind: Kind, conn: ConnId, parts: &[&[u8]]) {
        let start = self.queue.len();
        for p in parts {
            self.queue.extend_from_slice(p);
        }
        self.fifo.push_back((kind, conn, start, self.queue.len()));
    }

    /// Feeds `first` and everything the answers to it bring, until the
    /// focus asks nothing more.
    fn run(&mut self, focus: &mut Focus, kind: Kind, conn: ConnId, first: &[u8]) {
        self.push(kind, conn, &[first]);
        while let Some((kind, conn, s, e)) = self.fifo.pop_front() {
            self.ticks += 1;
            let now = self.t0 + Duration::from_micros(self.ticks);
            let before = if self.check { ALLOCS.load(Relaxed) } else { 0 };
            self.wire.feed(conn, &self.queue[s..e], |el| {
                focus.handle_stanza(now, conn, el)
            });
            // What the shell does on every wake-up.
            focus.handle_timeout(now);
            black_box(focus.poll_timeout());
            if self.check {
                self.kind_allocs[kind as usize] += ALLOCS.load(Relaxed) - before;
                self.kind_count[kind as usize] += 1;
            }
            if let Some(rec) = &mut self.record {
                let at = rec.bytes.len();
                rec.bytes.extend_from_slice(&self.queue[s..e]);
                rec.reads.push((conn, at, rec.bytes.len()));
            }
            let component = focus.output(ConnId::Component);
            if !component.is_empty() {
                if memmem::find(component, b"ready='true'").is_some() {
                    self.sent.answers_ready += 1;
                }
                self.out_bytes += component.len();
                component.clear();
            }
            let out = std::mem::take(focus.output(ConnId::Client));
            self.answer(&out, kind);
            self.out_bytes += out.len();
            // Hand the buffer back: its capacity stays with the focus.
            let mut out = out;
            out.clear();
            *focus.output(ConnId::Client) = out;
        }
        self.queue.clear();
    }

    /// Queues the answers to every request in the focus's client output.
    fn answer(&mut self, out: &[u8], fed: Kind) {
        self.starts.clear();
        self.starts.extend(self.finders.iq.find_iter(out));
        let iqs = self.starts.len();
        self.starts.extend(self.finders.presence.find_iter(out));
        self.starts.extend(self.finders.message.find_iter(out));
        if self.starts.len() != iqs {
            self.starts.sort_unstable();
        }
        for n in 0..self.starts.len() {
            let s = self.starts[n];
            let e = self.starts.get(n + 1).copied().unwrap_or(out.len());
            let stanza = &out[s..e];
            if stanza.starts_with(b"<iq ") {
                self.answer_iq(stanza, fed);
            } else if stanza.starts_with(b"<presence") {
                self.answer_presence(stanza);
            }
        }
    }

    fn answer_presence(&mut self, p: &[u8]) {
        let Some(to) = attr(p, "to") else { return };
        if attr(p, "type").is_some() || to.starts_with(BREWERY.as_bytes()) {
            return;
        }
        // The focus's room join: the MUC answers with its self-presence.
        self.push(
            Kind::SelfPresence,
            ConnId::Client,
            &[b"<presence from='", to, SELF_PRESENCE_TAIL.as_bytes()],
        );
    }

    fn result(&mut self, kind: Kind, to: &[u8], id: &[u8], tail: &[u8]) {
        self.push(
            kind,
            ConnId::Client,
            &[
                b"<iq type='result' to='focus@auth.meet.test/focus' from='",
                to,
                b"' id='",
                id,
                tail,
            ],
        );
    }

    fn answer_iq(&mut self, iq: &[u8], fed: Kind) {
        let ty = attr(iq, "type").expect("typed IQ");
        if ty != b"get" && ty != b"set" {
            return;
        }
        let inputs = self.inputs;
        let to = attr(iq, "to").expect("addressed IQ");
        let id = attr(iq, "id").expect("IQ id");
        let head = &iq[..iq.len().min(640)];
        let Some(slash) = memchr::memchr(b'/', to) else {
            // To the room: the owner form, our submit, an owner grant.
            if memmem::find(head, b"muc#admin").is_some() {
                return self.result(Kind::GrantResult, to, id, b"'/>");
            }
            if ty == b"get" {
                let form = &inputs.rooms[room_index(to)].form_tail;
                return self.result(Kind::OwnerForm, to, id, form);
            }
            return self.result(Kind::SubmitResult, to, id, b"'/>");
        };
        if &to[..slash] == BREWERY.as_bytes() {
            // A bridge: an endpoint create gets its transport and the
            // feedback sources, anything else an empty conference-modified.
            if let Some(at) = memmem::find(head, b"<endpoint id='")
                && let Some(ep) = find_value(&head[at..], b"id='")
                && head[at + 14 + ep.len()..].starts_with(b"' create='true'")
            {
                self.sent.endpoint_creates += 1;
                let tail = &inputs.people[index_of(ep)].alloc_tail;
                return self.result(Kind::AllocAnswer, to, id, tail);
            }
            if memmem::find(head, b"expire='true'").is_some() {
                self.sent.expires += 1;
            } else {
                self.sent.bridge_updates += 1;
                if self.check && fed == Kind::SessionAccept {
                    assert!(
                        memmem::find(iq, b"<media-source").is_some()
                            && memmem::find(iq, b" ufrag='u").is_some(),
                        "the bridge update carries the sources and the transport: {}",
                        String::from_utf8_lossy(iq)
                    );
                }
            }
            return self.result(Kind::BridgeResult, to, id, MODIFIED_EMPTY_TAIL.as_bytes());
        }
        // An occupant: Jingle or disco#info.
        let nick = &to[slash + 1..];
        if let Some(sid) =
            find_value(head, b"action='session-initiate'").and_then(|_| find_value(head, b" sid='"))
        {
            self.sent.initiates += 1;
            let p = &inputs.people[index_of(nick)];
            if self.check {
                let ufrag = format!(" ufrag='b{}q1la2'", String::from_utf8_lossy(nick));
                assert!(
                    memmem::find(iq, ufrag.as_bytes()).is_some()
                        && memmem::find(iq, b"owner='jvb'").is_some(),
                    "the offer carries the bridge's transport and feedback sources: {}",
                    String::from_utf8_lossy(iq)
                );
            }
            self.result(Kind::InitiateResult, to, id, b"'/>");
            return self.push(
                Kind::SessionAccept,
                ConnId::Client,
                &[&p.accept_head, sid, &p.accept_tail],
            );
        }
        if memmem::find(head, b"disco#info").is_some() {
            self.sent.disco_queries += 1;
            return self.result(Kind::DiscoAnswer, to, id, DISCO_TAIL.as_bytes());
        }
        self.result(Kind::OtherResult, to, id, b"'/>");
    }
}

// ---------------------------------------------------------------------------
// Runs

fn new_focus() -> Focus {
    let mut media = MediaConfig::quiet();
    media.bridges.brewery_jid = Some(Jid::parse(BREWERY).unwrap());
    let mut f = Focus::with_media(FocusConfig::for_tests(), None, media, [7; 32]);
    let now = Instant::now();
    f.handle_online(now, ConnId::Component, "focus.meet.test");
    f.handle_online(now, ConnId::Client, FOCUS_FULL);
    f.output(ConnId::Client).clear();
    f
}

/// Bridges and rooms, untimed.
fn set_up(emu: &mut Emu<'_>, focus: &mut Focus) {
    let inputs = emu.inputs;
    for b in &inputs.bridges {
        emu.run(focus, Kind::Brewery, ConnId::Client, b);
    }
    for room in &inputs.rooms {
        emu.run(focus, Kind::ConferenceIq, ConnId::Component, &room.request);
    }
}

/// The timed part: every participant joins, room after room.
fn joins(emu: &mut Emu<'_>, focus: &mut Focus) {
    let inputs = emu.inputs;
    for p in &inputs.people {
        emu.run(focus, Kind::Join, ConnId::Client, &p.join);
    }
}

struct Checked {
    kind_allocs: [usize; KINDS],
    kind_count: [usize; KINDS],
    recording: Recording,
    sent: Sent,
    out_bytes: usize,
}

/// Untimed run with checks: correctness, warm-up, the recording for the
/// baseline, allocations per kind of stanza; then everyone leaves.
fn checked_run(inputs: &Inputs) -> Checked {
    let mut emu = Emu::new(inputs);
    let mut focus = new_focus();
    emu.check = true;
    set_up(&mut emu, &mut focus);
    let rooms = inputs.rooms.len();
    assert_eq!(focus.conference_count(), rooms);
    assert_eq!(
        emu.sent.answers_ready, rooms,
        "every request answered ready"
    );
    let setup_sent = emu.sent;
    emu.kind_allocs = [0; KINDS];
    emu.kind_count = [0; KINDS];
    emu.out_bytes = 0;
    emu.record = Some(Recording::default());
    joins(&mut emu, &mut focus);
    let recording = emu.record.take().unwrap();
    let n = inputs.people.len();
    let sent = Sent {
        answers_ready: 0,
        ..emu.sent
    };
    assert_eq!(sent.endpoint_creates, n, "one endpoint per participant");
    assert_eq!(sent.initiates, n, "one session-initiate per participant");
    assert_eq!(
        sent.bridge_updates, n,
        "one bridge update per session-accept"
    );
    assert_eq!(sent.expires, 0);
    let _ = setup_sent;
    for r in 0..rooms {
        let conf = focus.conference(&room_of(r)).expect("live conference");
        let ps = conf.media().participants();
        assert_eq!(ps.len(), inputs.size, "room {r}");
        for p in ps {
            assert!(
                matches!(p.invite, Invite::Active(_)),
                "room {r}: {} is {:?}",
                p.nick,
                p.invite
            );
        }
    }
    let (kind_allocs, kind_count, out_bytes) = (emu.kind_allocs, emu.kind_count, emu.out_bytes);
    // Everyone leaves: every endpoint is expired, every conference ends.
    for p in &inputs.people {
        emu.run(&mut focus, Kind::Leave, ConnId::Client, &p.leave);
    }
    assert_eq!(focus.conference_count(), 0, "every conference ended");
    assert!(emu.sent.expires >= n, "every endpoint expired");
    Checked {
        kind_allocs,
        kind_count,
        recording,
        sent,
        out_bytes,
    }
}

struct Timing {
    cpu: f64,
    wall: f64,
    allocs: usize,
    bytes: usize,
    /// Growth of the live heap.
    live: isize,
}

fn measure(f: impl FnOnce()) -> Timing {
    let cpu0 = cpu_ns();
    let wall0 = Instant::now();
    let (a, b0, l0) = (
        ALLOCS.load(Relaxed),
        ALLOCATED.load(Relaxed),
        LIVE.load(Relaxed),
    );
    f();
    let (a1, b1, l1) = (
        ALLOCS.load(Relaxed),
        ALLOCATED.load(Relaxed),
        LIVE.load(Relaxed),
    );
    let wall = wall0.elapsed().as_secs_f64();
    let cpu = match (cpu0, cpu_ns()) {
        (Some(x), Some(y)) => (y - x) as f64 / 1e9,
        _ => wall,
    };
    Timing {
        cpu,
        wall,
        allocs: a1 - a,
        bytes: b1 - b0,
        live: l1 as isize - l0 as isize,
    }
}

/// The run with the least CPU time (contention only ever adds time).
fn best(v: Vec<Timing>) -> Timing {
    v.into_iter()
        .min_by(|a, b| a.cpu.total_cmp(&b.cpu))
        .expect("at least one run")
}

/// The recorded reads through a framer and parser, without the focus.
fn parse_only(wire: &mut Wire, rec: &Recording) {
    for &(conn, s, e) in &rec.reads {
        wire.feed(conn, &rec.bytes[s..e], |el| {
            black_box(el.name());
        });
    }
}

/// Baseline and focus, alternating, best of `REPS`.
fn timed(inputs: &Inputs, rec: &Recording) -> (Timing, Timing) {
    let (mut base, mut focus) = (Vec::new(), Vec::new());
    let mut wire = Wire::new();
    let mut emu = Emu::new(inputs);
    for _ in 0..REPS {
        base.push(measure(|| parse_only(&mut wire, rec)));
        let mut f = new_focus();
        set_up(&mut emu, &mut f);
        focus.push(measure(|| joins(&mut emu, &mut f)));
        assert_eq!(emu.fifo.len(), 0);
        drop(f);
    }
    (best(base), best(focus))
}

struct Scenario {
    name: &'static str,
    metric: &'static str,
    size: usize,
    bridges: usize,
    caps: bool,
}

const SCENARIOS: [Scenario; 7] = [
    Scenario {
        name: "rooms of 2, 1 bridge",
        metric: "room2_1bridge",
        size: 2,
        bridges: 1,
        caps: true,
    },
    Scenario {
        name: "rooms of 10, 1 bridge",
        metric: "room10_1bridge",
        size: 10,
        bridges: 1,
        caps: true,
    },
    Scenario {
        name: "rooms of 50, 1 bridge",
        metric: "room50_1bridge",
        size: 50,
        bridges: 1,
        caps: true,
    },
    Scenario {
        name: "rooms of 2, 500 bridges",
        metric: "room2_500bridges",
        size: 2,
        bridges: MANY_BRIDGES,
        caps: true,
    },
    Scenario {
        name: "rooms of 10, 500 bridges",
        metric: "room10_500bridges",
        size: 10,
        bridges: MANY_BRIDGES,
        caps: true,
    },
    Scenario {
        name: "rooms of 50, 500 bridges",
        metric: "room50_500bridges",
        size: 50,
        bridges: MANY_BRIDGES,
        caps: true,
    },
    Scenario {
        name: "rooms of 10, 1 bridge, no caps",
        metric: "room10_1bridge_nocaps",
        size: 10,
        bridges: 1,
        caps: false,
    },
];

/// Brewery presences with 500 bridges: adding them to a new focus, then a
/// stats update from each (what a brewery sends every few seconds).
fn brewery() -> (Timing, Timing, Timing) {
    let add: Vec<Vec<u8>> = (0..MANY_BRIDGES)
        .map(|b| brewery_presence(b, 0.1))
        .collect();
    let update: Vec<Vec<u8>> = (0..MANY_BRIDGES)
        .map(|b| brewery_presence(b, 0.2 + (b % 7) as f64 / 100.0))
        .collect();
    let inputs = Inputs {
        size: 1,
        rooms: Vec::new(),
        people: Vec::new(),
        bridges: Vec::new(),
    };
    let (mut base, mut adds, mut updates) = (Vec::new(), Vec::new(), Vec::new());
    let mut wire = Wire::new();
    let mut emu = Emu::new(&inputs);
    for _ in 0..REPS * 4 {
        base.push(measure(|| {
            for p in &add {
                wire.feed(ConnId::Client, p, |el| {
                    black_box(el.name());
                });
            }
        }));
        let mut f = new_focus();
        adds.push(measure(|| {
            for p in &add {
                emu.run(&mut f, Kind::Brewery, ConnId::Client, p);
            }
        }));
        updates.push(measure(|| {
            for p in &update {
                emu.run(&mut f, Kind::Brewery, ConnId::Client, p);
            }
        }));
    }
    (best(base), best(adds), best(updates))
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to filter here.
    if let Ok(size) = std::env::var("MEDIA_BENCH_PROFILE") {
        let size: usize = size.parse().expect("MEDIA_BENCH_PROFILE=2, 10 or 50");
        let inputs = Inputs::new(size, 1, true);
        let mut emu = Emu::new(&inputs);
        for _ in 0..10 {
            let mut f = new_focus();
            set_up(&mut emu, &mut f);
            joins(&mut emu, &mut f);
        }
        return;
    }

    println!(
        "media: invites end to end, sans-IO, instant bridges; {INVITES} invites per run, best of {REPS} runs"
    );
    println!("  (rates from this thread's CPU time; wall time per invite beside them)");
    println!(
        "  {:<34} {:>9} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {:>6}",
        "", "invites/s", "us/inv", "wall us", "parse us", "allocs/", "bytes/", "out B/", "ratio"
    );
    println!(
        "  {:<34} {:>9} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {:>6}",
        "", "(cpu)", "(cpu)", "", "(cpu)", "invite", "invite", "invite", ""
    );
    let mut metrics = Vec::new();
    let mut tables = Vec::new();
    let mut per_invite_us = Vec::new();
    let mut lives = Vec::new();
    for s in &SCENARIOS {
        let inputs = Inputs::new(s.size, s.bridges, s.caps);
        let checked = checked_run(&inputs);
        let (base, focus) = timed(&inputs, &checked.recording);
        let n = inputs.people.len() as f64;
        let us = focus.cpu * 1e6 / n;
        println!(
            "  {:<34} {:>9.0} {:>8.2} {:>8.2} {:>8.2} {:>9.1} {:>9.0} {:>9.0} {:>6.2}",
            s.name,
            n / focus.cpu,
            us,
            focus.wall * 1e6 / n,
            base.cpu * 1e6 / n,
            focus.allocs as f64 / n,
            focus.bytes as f64 / n,
            checked.out_bytes as f64 / n,
            focus.cpu / base.cpu,
        );
        let m = s.metric;
        let mut metric = |name: &str, value: f64, unit: &str| {
            metrics.push(format!("metric media_{m}_{name} {value:.2} {unit}"))
        };
        metric("invites_per_s", n / focus.cpu, "1/s");
        metric("us_per_invite", us, "us");
        metric("allocs_per_invite", focus.allocs as f64 / n, "allocs");
        metric("bytes_per_invite", focus.bytes as f64 / n, "bytes");
        metric("parse_us_per_invite", base.cpu * 1e6 / n, "us");
        metric("ratio_over_parse", focus.cpu / base.cpu, "x");
        let live = focus.live as f64 / n;
        metric("live_heap_per_participant", live, "bytes");
        metric(
            "output_bytes_per_invite",
            checked.out_bytes as f64 / n,
            "bytes",
        );
        per_invite_us.push(us);
        lives.push((s.name, live));
        tables.push((s.name, checked.kind_allocs, checked.kind_count, n));
        let _ = checked.sent;
    }
    println!("  goal: >= 20000 invites per second on one core");
    // Bridge selection inside the focus: 500 bridges against one, same rooms.
    for (k, size) in [2usize, 10, 50].iter().enumerate() {
        let d = per_invite_us[k + 3] - per_invite_us[k];
        println!(
            "  rooms of {size:<2}: 500 bridges cost {d:+.2} us per invite over 1 bridge (selection among 500 inside the focus)"
        );
        metrics.push(format!(
            "metric media_room{size}_selection_500_bridges_extra_us {d:.3} us"
        ));
    }

    println!("allocation calls per stanza fed (untimed checked run, parse included):");
    print!("    {:<22}", "");
    for (name, ..) in &tables {
        print!(" {:>12}", name.replace("rooms of ", "").replace(", ", "/"));
    }
    println!();
    for k in INVITE_KINDS {
        let k = k as usize;
        print!("    {:<22}", KIND_NAMES[k]);
        for (_, allocs, counts, _) in &tables {
            if counts[k] == 0 {
                print!(" {:>12}", "-");
            } else {
                print!(" {:>12.1}", allocs[k] as f64 / counts[k] as f64);
            }
        }
        println!();
    }
    print!("    {:<22}", "per invite, all");
    for (_, allocs, _, n) in &tables {
        print!(" {:>12.1}", allocs.iter().sum::<usize>() as f64 / n);
    }
    println!();
    println!("live heap per invited participant after the joins (focus state only):");
    for (name, live) in &lives {
        println!("    {name:<34} {live:>8.0} bytes");
    }

    let (base, adds, updates) = brewery();
    let b = MANY_BRIDGES as f64;
    println!(
        "brewery presences, {MANY_BRIDGES} bridges (best of {} runs):",
        REPS * 4
    );
    println!(
        "    parse only {:>8.2} us, bridge joins {:>8.2} us, stats updates {:>8.2} us per presence",
        base.cpu * 1e6 / b,
        adds.cpu * 1e6 / b,
        updates.cpu * 1e6 / b
    );
    metrics.push(format!(
        "metric media_brewery_add_us_per_presence {:.3} us",
        adds.cpu * 1e6 / b
    ));
    metrics.push(format!(
        "metric media_brewery_update_us_per_presence {:.3} us",
        updates.cpu * 1e6 / b
    ));
    metrics.push(format!(
        "metric media_brewery_parse_us_per_presence {:.3} us",
        base.cpu * 1e6 / b
    ));
    for m in metrics {
        println!("{m}");
    }
}
