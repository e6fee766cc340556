//! The Jingle elements as Colibri v1 and Colibri2 carry them, outside any
//! Jingle description: a bridge's transport (prefixed, with attributes
//! this crate does not know), payload types with their namespace, and
//! sources without owners.

use super::*;
use crate::stanza::sources::Ssrc;

fn with<R>(xml: &str, f: impl FnOnce(El<'_>) -> R) -> R {
    let mut p = Parser::new();
    let doc = p.parse(xml.as_bytes(), ns::CLIENT).unwrap();
    f(doc.root())
}

fn write_to_string(f: impl FnOnce(&mut XmlWriter<'_>)) -> String {
    let mut out = Vec::new();
    f(&mut XmlWriter::new(&mut out));
    String::from_utf8(out).unwrap()
}

/// The bridge transport of protocol.md §4.2, prefixed namespaces and an
/// attribute this crate does not know included.
const BRIDGE_TRANSPORT: &str = "<t:transport xmlns:t='urn:xmpp:jingle:transports:ice-udp:1' \
    ufrag='8vbq01hdp1la2' pwd=\"4bq0n'x\">\
    <t:rtcp-mux/>\
    <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'> 1A:2B:FF </fingerprint>\
    <t:candidate component='1' foundation='1' generation='0' id='c&amp;1' network='0' \
    priority='2130706431' protocol='udp' type='host' ip='10.0.1.17' port='10000' x-new='kept'/>\
    <t:candidate component='1' foundation='2' generation='0' id='c2' network='0' priority='1694498815' \
    protocol='udp' type='srflx' ip='203.0.113.7' port='10000' rel-addr='10.0.1.17' rel-port='10000'/>\
    <web-socket xmlns='http://jitsi.org/protocol/colibri' url='wss://meet.example.com/colibri-ws/x/ab?pwd=p'/>\
    </t:transport>";

#[test]
fn transport_fields_and_verbatim_copy() {
    let t = with(BRIDGE_TRANSPORT, |el| IceUdpTransport::parse(el).unwrap());
    assert_eq!(t.ufrag.as_deref(), Some("8vbq01hdp1la2"));
    assert_eq!(t.pwd.as_deref(), Some("4bq0n'x"));
    assert!(t.rtcp_mux);
    assert_eq!(t.candidates.len(), 2);
    let f = &t.fingerprints[0];
    // The text is kept as received, blanks included.
    assert_eq!(
        (f.hash(), f.setup(), &*f.value),
        (Some("sha-256"), Some("actpass"), " 1A:2B:FF ")
    );
    assert_eq!(
        t.web_sockets[0].url(),
        Some("wss://meet.example.com/colibri-ws/x/ab?pwd=p")
    );
    assert_eq!(
        write_to_string(|w| t.write(w)),
        "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' \
         ufrag='8vbq01hdp1la2' pwd='4bq0n&apos;x'><rtcp-mux/>\
         <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'> 1A:2B:FF </fingerprint>\
         <candidate component='1' foundation='1' generation='0' id='c&amp;1' network='0' \
         priority='2130706431' protocol='udp' type='host' ip='10.0.1.17' port='10000' x-new='kept'/>\
         <candidate component='1' foundation='2' generation='0' id='c2' network='0' priority='1694498815' \
         protocol='udp' type='srflx' ip='203.0.113.7' port='10000' rel-addr='10.0.1.17' rel-port='10000'/>\
         <web-socket xmlns='http://jitsi.org/protocol/colibri' url='wss://meet.example.com/colibri-ws/x/ab?pwd=p'/>\
         </transport>"
    );
    // Written inside another element, it reads back the same.
    let inside = write_to_string(|w| {
        w.start_ns("transport", ns::COLIBRI2);
        t.write(w);
        w.end();
    });
    let again = with(&inside, |el| {
        IceUdpTransport::parse(el.child("transport", ns::JINGLE_ICE_UDP).unwrap()).unwrap()
    });
    assert_eq!(again, t);
}

#[test]
fn write_with_sctpmap_appends_it() {
    let t = with(BRIDGE_TRANSPORT, |el| IceUdpTransport::parse(el).unwrap());
    let sctp = SctpMap {
        number: 5000,
        protocol: "".into(),
        streams: None,
    };
    let out = write_to_string(|w| t.write_with_sctpmap(w, Some(&sctp)));
    assert!(out.ends_with(
        "<sctpmap xmlns='urn:xmpp:jingle:transports:dtls-sctp:1' number='5000' protocol=''/></transport>"
    ));
    let back = with(&out, |el| IceUdpTransport::parse(el).unwrap());
    assert_eq!(back.sctpmap.map(|m| m.number), Some(5000));
    assert_eq!(back.candidates.len(), 2);

    // An empty transport is written empty; with rtcp-mux it opens up.
    let mut empty = IceUdpTransport::default();
    assert_eq!(
        write_to_string(|w| empty.write(w)),
        "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'/>"
    );
    empty.rtcp_mux = true;
    let out = write_to_string(|w| empty.write(w));
    assert_eq!(
        out,
        "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'><rtcp-mux/></transport>"
    );
    assert!(with(&out, |el| IceUdpTransport::parse(el).unwrap()).rtcp_mux);
}

#[test]
fn built_transport_equals_its_own_parse() {
    let candidate = [
        ("component", "1"),
        ("foundation", "1"),
        ("generation", "0"),
        ("id", "h1"),
        ("network", "0"),
        ("priority", "2130706431"),
        ("protocol", "udp"),
        ("type", "srflx"),
        ("ip", "203.0.113.7"),
        ("port", "10000"),
        ("rel-addr", "10.0.0.5"),
        ("rel-port", "10000"),
    ];
    let t = IceUdpTransport {
        ufrag: Some("u".into()),
        pwd: Some("p&w".into()),
        rtcp_mux: true,
        fingerprints: vec![Fingerprint::new("sha-256", Some("actpass"), "AB:CD")],
        candidates: vec![Candidate {
            attrs: candidate
                .iter()
                .fold(Attrs::new(), |a, (n, v)| a.with(n, v)),
        }],
        web_sockets: vec![WebSocket::new("wss://x/y")],
        sctpmap: None,
    };
    let xml = write_to_string(|w| t.write(w));
    let back = with(&xml, |el| IceUdpTransport::parse(el).unwrap());
    assert_eq!(back, t);
    assert_eq!(back.pwd.as_deref(), Some("p&w"));
    assert_eq!(back.candidates[0].rel_port(), Some(10000));
}

#[test]
fn seed_placeholder_is_the_offers_empty_transport() {
    let t = IceUdpTransport::seed_placeholder();
    let xml = write_to_string(|w| t.write(w));
    assert_eq!(
        xml,
        "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'>\
         <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0'/></transport>"
    );
    let back = with(&xml, |el| IceUdpTransport::parse(el).unwrap());
    assert_eq!(back, t);
    assert_eq!(back.fingerprints.len(), 1);
    assert_eq!(back.fingerprints[0].hash(), None);
    assert_eq!(&*back.fingerprints[0].value, "");
    assert!(back.candidates.is_empty());
    assert_eq!(back.ufrag, None);
}

/// Whatever a transport holds, its copy is well-formed XML that reads back
/// as the same transport: what cannot be kept (unknown children, prefixed
/// attributes) is left out, what cannot be read is an error.
#[test]
fn transport_copies_are_always_well_formed() {
    let copies_back = |xml: &str| {
        let t = with(xml, |el| IceUdpTransport::parse(el).unwrap());
        let copy = write_to_string(|w| t.write(w));
        assert_eq!(
            with(&copy, |el| IceUdpTransport::parse(el).unwrap()),
            t,
            "{xml}"
        );
        copy
    };
    // Deeper than the writer holds: the unknown subtree is not kept.
    let deep = format!(
        "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'>{}{}</transport>",
        "<a>".repeat(40),
        "</a>".repeat(40)
    );
    assert_eq!(
        copies_back(&deep),
        "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'/>"
    );
    // A prefix declared outside the transport: the attribute is left out.
    let prefixed = "<x xmlns:p='urn:p'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' \
        p:a='1' ufrag='u'/></x>";
    let t = with(prefixed, |el| {
        IceUdpTransport::parse(el.first_child().unwrap()).unwrap()
    });
    assert_eq!(t.ufrag.as_deref(), Some("u"));
    // Namespace names that would need escaping: children not kept.
    for odd_ns in [
        "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'><x xmlns=\"urn:a'b\"/></transport>",
        "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'><y xmlns='urn:a>b'/></transport>",
    ] {
        copies_back(odd_ns);
    }
    // An unknown entity cannot be read.
    let amp =
        "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'><candidate id='a&b'/></transport>";
    assert!(matches!(
        with(amp, IceUdpTransport::parse),
        Err(StanzaParseError::BadAttribute(..))
    ));
    let other = "<transport xmlns='urn:xmpp:jingle:transports:raw-udp:1'/>";
    assert_eq!(
        with(other, IceUdpTransport::parse),
        Err(StanzaParseError::NotA("an ICE-UDP transport"))
    );
    let bad_port = "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'>\
        <sctpmap xmlns='urn:xmpp:jingle:transports:dtls-sctp:1' number='70000'/></transport>";
    assert_eq!(
        with(bad_port, IceUdpTransport::parse),
        Err(StanzaParseError::BadAttribute("number", "70000".into()))
    );
}

#[test]
fn payload_types_round_trip_with_their_namespace() {
    let xml = "<payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='111' name='opus' clockrate='48000' channels='2'>\
        <parameter name='minptime' value='10'/><parameter name='useinbandfec' value='1'/>\
        <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='transport-cc'/>\
        <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='nack' subtype='pli'/></payload-type>";
    let pt = with(xml, |el| PayloadType::parse(el).unwrap());
    assert_eq!(pt.id, 111);
    assert_eq!(pt.channels, Some(2));
    assert_eq!(pt.parameters[1], ("useinbandfec".into(), "1".into()));
    assert_eq!(pt.rtcp_fbs[1].subtype.as_deref(), Some("pli"));
    assert_eq!(write_to_string(|w| pt.write_with_ns(w)), xml);
    for bad in [
        "<payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' name='x'/>",
        "<payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='300'/>",
        "<payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='1' clockrate='x'/>",
    ] {
        assert!(with(bad, PayloadType::parse).is_err(), "{bad}");
    }
    let ext = RtpHdrExt::new(1, "urn:ietf:params:rtp-hdrext:ssrc-audio-level");
    let xml = write_to_string(|w| ext.write(w));
    assert_eq!(with(&xml, |el| RtpHdrExt::parse(el).unwrap()), ext);
}

#[test]
fn sources_and_groups_round_trip_without_owner() {
    let s = Source::new(4_294_967_295, MediaType::Video)
        .with_name("ab-v0")
        .with_video_type("camera")
        .with_msid("s t");
    let xml = write_to_string(|w| write_source(w, &s, None));
    assert_eq!(
        xml,
        "<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='4294967295' name='ab-v0' \
         videoType='camera'><parameter name='msid' value='s t'/></source>"
    );
    let back = with(&xml, |el| {
        let p = parse_source(el, MediaType::Video).unwrap().unwrap();
        assert_eq!(p.owner, None);
        p.source
    });
    assert_eq!(back, s);
    let g = SsrcGroup::new("FID", MediaType::Video, &[1, 2]);
    let xml = write_to_string(|w| write_ssrc_group(w, &g));
    assert_eq!(
        with(&xml, |el| parse_ssrc_group(el, MediaType::Video).unwrap()),
        g
    );
    assert_eq!(g.ssrcs, vec![Ssrc(1), Ssrc(2)]);
    // Without an SSRC a Jingle source is skipped (Colibri refuses it).
    assert_eq!(
        with("<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'/>", |el| {
            parse_source(el, MediaType::Audio).map(|p| p.is_none())
        }),
        Ok(true)
    );
    for bad in [
        "<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='-1'/>",
        "<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='4294967296'/>",
    ] {
        assert!(
            with(bad, |el| parse_source(el, MediaType::Audio).is_err()),
            "{bad}"
        );
    }
}

#[test]
fn debug_hides_the_credentials() {
    let t = with(BRIDGE_TRANSPORT, |el| IceUdpTransport::parse(el).unwrap());
    let d = format!("{t:?}");
    assert!(d.contains("8vbq01hdp1la2"), "{d}");
    assert!(!d.contains("4bq0n") && !d.contains("pwd=p"), "{d}");
    // The candidates are there, both of them.
    assert!(d.contains("10.0.1.17") && d.contains("203.0.113.7"), "{d}");
    assert!(d.contains("web_sockets: [1 hidden]"), "{d}");
}
