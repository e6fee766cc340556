//! The body of a Colibri fuzz target, compiled for `cargo fuzz`
//! (`cfg(fuzzing)`) and for the tests below, which run it over mutated
//! Colibri stanzas so a panic shows up in `cargo test` first.
//!
//! Beyond "never panics" it checks what the focus and the bridge emulator
//! rely on: every element each reader accepts is written back as XML that
//! reads as the same value (after one normalising write, a fixed point), a
//! transport copies onto itself, the request checks agree with the plain
//! read, and every error the emulator writes reads back as the same error.
//! The Jingle elements Colibri carries are read with the Colibri readers
//! (a source must have an SSRC) and written with the Jingle writers.

use super::colibri::{self, BridgeStats, ContentKind, V1Conference};
use super::colibri_common::{
    parse_colibri_group, parse_colibri_source, parse_hdrext, parse_payload_type, parse_transport,
};
use super::colibri2::{self, Colibri2Request, ConferenceModified};
use super::fuzz::reparse;
use super::jingle::{SctpMap, write_source, write_ssrc_group};
use super::sources::MediaType;
use super::{Iq, IqType, StanzaError, is_stanza_ns};
use crate::xml::{El, Parser, XmlWriter, ns};

/// Parses `data` as one frame and drives every Colibri reader over every
/// element of it. Panics only when an invariant is broken.
pub fn fuzz_colibri(data: &[u8]) {
    // The framer only ever hands the parser frames that start at `<`.
    if data.first() != Some(&b'<') {
        return;
    }
    let mut parser = Parser::new();
    let Ok(doc) = parser.parse(data, ns::CLIENT) else {
        return;
    };
    let root = doc.root();
    visit(root);
    if let Ok(iq) = Iq::parse(root) {
        drive_iq(&iq);
    }
}

fn visit(el: El<'_>) {
    drive_element(el);
    for c in el.children() {
        visit(c);
    }
}

/// Writes with `write`, parses the output with `parse`, and returns the
/// value and the XML.
fn rewrite<T>(
    value: &T,
    write: impl Fn(&T, &mut XmlWriter<'_>),
    parse: impl Fn(El<'_>) -> Option<T>,
) -> (T, String) {
    let mut out = Vec::new();
    write(value, &mut XmlWriter::new(&mut out));
    let xml = String::from_utf8(out).expect("the writer writes UTF-8");
    let mut p = Parser::new();
    let doc = p
        .parse(xml.as_bytes(), ns::CLIENT)
        .unwrap_or_else(|e| panic!("written XML does not parse ({e}): {xml}"));
    let back = parse(doc.root()).unwrap_or_else(|| panic!("written XML does not read: {xml}"));
    (back, xml)
}

/// The writer and reader agree: once written, a value reads back as itself
/// and writes the same XML again.
fn fixed_point<T: PartialEq + std::fmt::Debug>(
    value: &T,
    write: impl Fn(&T, &mut XmlWriter<'_>),
    parse: impl Fn(El<'_>) -> Option<T>,
) {
    let (once, xml1) = rewrite(value, &write, &parse);
    let (twice, xml2) = rewrite(&once, &write, &parse);
    assert_eq!(once, twice, "value changed on a second write: {xml1}");
    assert_eq!(xml1, xml2, "XML changed on a second write");
}

fn drive_element(el: El<'_>) {
    if el.is("transport", ns::JINGLE_ICE_UDP)
        && let Ok(t) = parse_transport(el)
    {
        fixed_point(&t, |t, w| t.write(w), |e| parse_transport(e).ok());
        // Read once, the copy is exact.
        let (back, _) = rewrite(&t, |t, w| t.write(w), |e| parse_transport(e).ok());
        assert_eq!(back, t);
        // The offer's data content adds an SCTP map to the same transport.
        let sctp = SctpMap::datachannel(5000);
        let (extended, _) = rewrite(
            &t,
            |t, w| t.write_with_sctpmap(w, Some(&sctp)),
            |e| parse_transport(e).ok(),
        );
        assert_eq!(extended.sctpmap.as_ref(), Some(&sctp));
        assert_eq!(extended.candidates, t.candidates);
        assert_eq!(extended.fingerprints, t.fingerprints);
        assert_eq!(extended.web_sockets, t.web_sockets);
    }
    if el.is("payload-type", ns::JINGLE_RTP)
        && let Ok(p) = parse_payload_type(el)
    {
        fixed_point(
            &p,
            |p, w| p.write_with_ns(w),
            |e| parse_payload_type(e).ok(),
        );
    }
    if el.is("rtp-hdrext", ns::JINGLE_RTP_HDREXT)
        && let Ok(h) = parse_hdrext(el)
    {
        fixed_point(&h, |h, w| h.write(w), |e| parse_hdrext(e).ok());
    }
    for media in MediaType::ALL {
        if el.is("source", ns::JINGLE_SSMA)
            && let Ok(s) = parse_colibri_source(el, media)
        {
            fixed_point(
                &s,
                |s, w| write_source(w, s, None),
                |e| parse_colibri_source(e, media).ok(),
            );
        }
        if el.is("ssrc-group", ns::JINGLE_SSMA)
            && let Ok(g) = parse_colibri_group(el, media)
        {
            fixed_point(
                &g,
                |g, w| write_ssrc_group(w, g),
                |e| parse_colibri_group(e, media).ok(),
            );
        }
    }
    drive_v1(el);
    drive_colibri2(el);
    if let Ok(s) = BridgeStats::parse(el) {
        fixed_point(&s, |s, w| s.write(w), |e| BridgeStats::parse(e).ok());
        let mut merged = BridgeStats::default();
        merged.merge(&s);
        assert_eq!(merged, s, "merging into nothing keeps the report");
    }
    if el.name() == "error" && is_stanza_ns(el.ns()) {
        let _ = colibri2::classify_colibri2_error(&StanzaError::parse(el));
    }
}

fn drive_v1(el: El<'_>) {
    let Ok(conf) = V1Conference::parse(el) else {
        assert!(V1Conference::parse_response(el).is_err());
        assert!(colibri::parse_v1_request(el).is_err());
        return;
    };
    assert_eq!(colibri::parse_v1_request(el).as_ref(), Ok(&conf));
    if let Ok(r) = V1Conference::parse_response(el) {
        assert_eq!(r, conf);
    }
    fixed_point(&conf, |c, w| c.write(w), |e| V1Conference::parse(e).ok());
    for c in &conf.channels {
        if let Some(endpoint) = c.endpoint.as_deref() {
            let p = conf.participant(endpoint);
            assert!(p.is_some() || c.id.is_none());
            let _ = conf.transport_for(ContentKind::Rtp(c.media), endpoint);
            let _ = conf.transport_for(ContentKind::Data, endpoint);
        }
    }
}

fn drive_colibri2(el: El<'_>) {
    match Colibri2Request::parse(el) {
        Ok(r) => {
            let read = Colibri2Request::read(el).expect("checked implies readable");
            assert_eq!(read, r);
            let _ = (r.ignores_unknown_endpoints(), r.wants_feedback_sources());
        }
        Err(e) => {
            let err = e.to_stanza_error();
            let _ = colibri2::classify_colibri2_error(&err);
            let _ = e.to_string();
        }
    }
    if let Ok(m) = ConferenceModified::parse(el) {
        fixed_point(&m, |m, w| m.write(w), |e| ConferenceModified::parse(e).ok());
        for e in &m.endpoints {
            let _ = (m.allocation(&e.id, true), m.allocation(&e.id, false));
        }
    }
}

fn drive_iq(iq: &Iq<'_>) {
    if let Some(e) = iq.error() {
        let _ = colibri2::classify_colibri2_error(&e);
    }
    let _ = (
        colibri::is_v1_request(iq),
        colibri::is_healthcheck(iq),
        colibri2::is_colibri2_request(iq),
    );
    if !iq.is_request() {
        return;
    }
    // The emulator's answers, to whatever was asked, read back as sent.
    let err = match iq.payload.map(Colibri2Request::parse) {
        Some(Err(e)) => e.to_stanza_error(),
        _ => colibri2::unknown_endpoint("a'b"),
    };
    let mut out = Vec::new();
    colibri2::write_colibri2_error(&mut out, iq, Some("jvb@b.test/x"), &err);
    reparse(&out, ns::CLIENT, |r| {
        assert_eq!((r.ty, &r.id), (IqType::Error, &iq.id));
        assert_eq!(r.to, iq.from);
        assert_eq!(r.error().as_ref(), Some(&err));
    });
    let answer = ConferenceModified {
        endpoints: Vec::new(),
        sources: Some(vec![colibri2::MediaSource::single(
            MediaType::Audio,
            "jvb-a0",
            1,
        )]),
    };
    let mut out = Vec::new();
    colibri2::write_conference_modified(&mut out, iq, None, &answer);
    reparse(&out, ns::CLIENT, |r| {
        assert_eq!((r.ty, &r.id), (IqType::Result, &iq.id));
        let m = ConferenceModified::parse(r.payload.expect("a payload")).expect("readable");
        assert_eq!(m, answer);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stanza::fuzz::mutate_seeds;
    use crate::stanza::sources::Source;

    /// Colibri stanzas of protocol.md §3.3, §4.1 and §4.2, compacted.
    const SEEDS: &[&str] = &[
        "<iq type='get' id='a1' from='focus@auth.example.com/f' to='jvb.example.com'>\
         <conference xmlns='http://jitsi.org/protocol/colibri' name='myroom'>\
         <content name='audio'><channel endpoint='abcd1234' initiator='true' channel-bundle-id='abcd1234' last-n='-1'>\
         <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='111' name='opus' clockrate='48000' channels='2'>\
         <parameter name='minptime' value='10'/></payload-type>\
         <rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' id='1' uri='urn:ietf:params:rtp-hdrext:ssrc-audio-level'/>\
         </channel></content>\
         <content name='video'><channel endpoint='abcd1234' initiator='true' channel-bundle-id='abcd1234'>\
         <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='100' name='VP8' clockrate='90000'>\
         <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='nack' subtype='pli'/></payload-type>\
         </channel></content>\
         <content name='data'><sctpconnection endpoint='abcd1234' initiator='true' channel-bundle-id='abcd1234' port='5000'/></content>\
         <channel-bundle id='abcd1234'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'>\
         <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0'/></transport></channel-bundle></conference></iq>",
        "<iq type='result' id='a1' from='jvb.example.com'>\
         <conference xmlns='http://jitsi.org/protocol/colibri' id='8f1d' name='myroom'>\
         <content name='audio'><channel id='5b2f' endpoint='abcd1234' channel-bundle-id='abcd1234' initiator='true' \
         expire='60' direction='sendrecv' rtp-level-relay-type='translator'>\
         <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='2846310773'/><ssrc>5</ssrc></channel></content>\
         <content name='data'><sctpconnection id='c0de' endpoint='abcd1234' channel-bundle-id='abcd1234' expire='60' port='5000'/></content>\
         <channel-bundle id='abcd1234'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='2p9s' pwd='3c2t'>\
         <rtcp-mux/><fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-1'>5E:0A:C4</fingerprint>\
         <candidate component='1' foundation='1' generation='0' id='6e4b' network='0' priority='2130706431' \
         protocol='udp' type='host' ip='10.0.0.5' port='10000'/></transport></channel-bundle>\
         <graceful-shutdown/></conference></iq>",
        "<iq type='set' id='u1' to='jvb.example.com'><conference xmlns='http://jitsi.org/protocol/colibri' id='8f1d'>\
         <content name='video'><channel id='77d1'><source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='1001'>\
         <parameter name='msid' value='s t'/></source><source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='-1'/>\
         <ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='SIM'><source ssrc='1001'/></ssrc-group>\
         <ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='SIM'/></channel></content>\
         <content name='audio'><channel id='5b2f' expire='0' direction='sendonly'/></content></conference></iq>",
        "<iq type='get' id='k1' from='focus@auth.example.com/focus' to='jvbbrewery@internal.auth.example.com/jvb'>\
         <conference-modify xmlns='jitsi:colibri2' meeting-id='5d2b' name='myroom@conference.example.com' create='true'>\
         <endpoint id='abcd1234' create='true' stats-id='Alice'><media type='audio'>\
         <payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='126' name='telephone-event' clockrate='8000'/>\
         <extmap-allow-mixed xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/></media>\
         <transport ice-controlling='true'><sctp/></transport><sources/>\
         <capability name='source-names'/><capability name='ssrc-rewriting'/></endpoint></conference-modify></iq>",
        "<iq type='get' id='k2' to='jvb'><conference-modify xmlns='jitsi:colibri2' meeting-id='5d2b'>\
         <endpoint id='abcd1234' stats-id='Alice'><transport ice-restart='true'>\
         <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='u' pwd='p'>\
         <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='active'>AA</fingerprint></transport>\
         </transport><sources><media-source type='video' id='abcd1234-v0'>\
         <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='1' name='abcd1234-v0'/>\
         <ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='FID'><source ssrc='1'/><source ssrc='2'/></ssrc-group>\
         </media-source></sources><force-mute audio='true'/><initial-last-n value='25'/></endpoint></conference-modify></iq>",
        "<iq type='get' id='k3' to='jvb'><conference-modify xmlns='jitsi:colibri2' meeting-id='5d2b'>\
         <endpoint id='a' expire='true'/><endpoint id='b'><force-mute video='true'/></endpoint></conference-modify></iq>",
        "<iq type='result' id='k1' from='jvb'><conference-modified xmlns='jitsi:colibri2'>\
         <endpoint id='abcd1234'><transport><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='8v' pwd='4b'>\
         <rtcp-mux/><fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>1A:2B</fingerprint>\
         <candidate component='1' foundation='1' generation='0' id='c' network='0' priority='1' protocol='udp' \
         type='host' ip='10.0.1.17' port='10000'/>\
         <web-socket xmlns='http://jitsi.org/protocol/colibri' url='wss://m/colibri-ws/x'/></transport>\
         <sctp port='5000' role='server'/></transport></endpoint><endpoint id='z' expire='true'/>\
         <sources><media-source type='audio' id='jvb-a0'><source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='411312308' name='jvb-a0'/>\
         </media-source></sources></conference-modified></iq>",
        "<iq type='error' id='k9' from='jvb'><error type='cancel'>\
         <item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
         <error xmlns='jitsi:colibri2' reason='unknown_endpoint'/><endpoint xmlns='jitsi:colibri2' id='ab'/></error></iq>",
        "<presence from='jvbbrewery@internal.auth.example.com/jvb'><stats xmlns='http://jitsi.org/protocol/colibri'>\
         <stat name='stress_level' value='0.23'/><stat name='region' value='eu'/><stat name='drain' value='false'/>\
         <stat name='conferences' value='12'/><stat name='graceful_shutdown' value='true'/></stats></presence>",
        "<iq type='get' id='h1' to='jvb'><healthcheck xmlns='http://jitsi.org/protocol/healthcheck'/></iq>",
    ];

    /// Bytes that change the meaning of XML.
    const SPICE: &[u8] = b"<>/'\"=&;:-1 \t\xc3\xa9xmlns";

    #[test]
    fn seeds_exercise_every_reader() {
        for seed in SEEDS {
            fuzz_colibri(seed.as_bytes());
        }
    }

    /// The seeds reach the deep readers, else mutations would only ever
    /// test the early exits.
    #[test]
    fn seeds_reach_the_readers() {
        let mut parser = Parser::new();
        let mut hits = [0usize; 6];
        fn each(el: El<'_>, hits: &mut [usize; 6]) {
            hits[0] +=
                usize::from(el.is("transport", ns::JINGLE_ICE_UDP) && parse_transport(el).is_ok());
            hits[1] += usize::from(V1Conference::parse_response(el).is_ok());
            hits[2] += usize::from(colibri::parse_v1_request(el).is_ok());
            hits[3] += usize::from(Colibri2Request::parse(el).is_ok());
            hits[4] += usize::from(ConferenceModified::parse(el).is_ok());
            hits[5] += usize::from(BridgeStats::parse(el).is_ok());
            for c in el.children() {
                each(c, hits);
            }
        }
        for seed in SEEDS {
            let doc = parser.parse(seed.as_bytes(), ns::CLIENT).unwrap();
            each(doc.root(), &mut hits);
        }
        assert_eq!(hits, [4, 2, 3, 3, 1, 1]);
    }

    #[test]
    fn truncations_never_panic() {
        for seed in SEEDS {
            for end in 0..seed.len() {
                fuzz_colibri(&seed.as_bytes()[..end]);
            }
        }
    }

    #[test]
    fn mutations_never_panic() {
        mutate_seeds(0xc011_b412_5eed_0001, SEEDS, 1000, SPICE, fuzz_colibri);
    }

    #[test]
    fn the_invariants_can_fail() {
        // A writer that loses data must trip the fixed-point check.
        let audio = MediaType::Audio;
        let lossy = std::panic::catch_unwind(|| {
            let s = Source::new(7, audio);
            fixed_point(
                &s,
                |_, w| {
                    w.start_ns("source", ns::JINGLE_SSMA)
                        .attr("ssrc", "8")
                        .end();
                },
                |e| parse_colibri_source(e, audio).ok(),
            );
            // Fixed point holds for the lossy writer after one write; the
            // exact-copy check is what catches it.
            let (back, _) = rewrite(
                &s,
                |_, w| {
                    w.start_ns("source", ns::JINGLE_SSMA)
                        .attr("ssrc", "8")
                        .end();
                },
                |e| parse_colibri_source(e, audio).ok(),
            );
            assert_eq!(back, s);
        });
        assert!(lossy.is_err());
        // A writer that drifts on every write trips it too.
        let drifting = std::panic::catch_unwind(|| {
            fixed_point(
                &Source::new(1, audio),
                |s, w| {
                    w.start_ns("source", ns::JINGLE_SSMA)
                        .attr_num("ssrc", s.ssrc.0 + 1)
                        .end();
                },
                |e| parse_colibri_source(e, audio).ok(),
            );
        });
        assert!(drifting.is_err());
        let unreadable = std::panic::catch_unwind(|| {
            rewrite(
                &(),
                |_, w| {
                    w.raw("<a");
                },
                |_| Some(()),
            );
        });
        assert!(unreadable.is_err());
    }
}
