//! The Jingle part of the stanza fuzz target, for `cargo fuzz`
//! (`cfg(fuzzing)`) and for the tests below, which mutate real Jingle
//! stanzas.
//!
//! Beyond "never panics", it checks that whatever the focus extracts from a
//! request can be written by the focus's own writers and reads back as the
//! same values: sources through `source-add`, transports through
//! `transport-info`, codecs, sources and transport through an offer,
//! reasons and bridge sessions through `session-terminate`. That is what
//! makes relaying a participant's data to others safe: a value that parses
//! is a value we can write.

use super::*;
use crate::stanza::iq::IqType;
use crate::xml::Parser;

/// Parses `data` as a frame and, if it is an IQ with a Jingle payload,
/// drives [`drive`] over it.
pub fn fuzz_jingle(data: &[u8]) {
    if data.first() != Some(&b'<') {
        return;
    }
    let mut parser = Parser::new();
    let Ok(doc) = parser.parse(data, ns::CLIENT) else {
        return;
    };
    let Ok(iq) = Iq::parse(doc.root()) else {
        return;
    };
    if let Some(p) = iq.payload {
        drive(p);
    }
}

/// Every reader on one payload, and the round trips through the writers.
pub fn drive(payload: El<'_>) {
    let Ok(j) = JingleRequest::parse(payload) else {
        return;
    };
    let _ = (
        j.action.name(),
        j.action.is_source_add(),
        j.action.is_source_remove(),
        j.bundle_group()
            .map(|g| (g.semantics(), g.contents().count())),
        j.ice_state(),
        j.start_muted(),
        j.rtp_description(MediaType::Video),
    );
    for c in j.contents() {
        let _ = (
            c.name(),
            c.creator(),
            c.senders(),
            c.media(),
            c.media_type(),
            c.has_estos_bundle(),
            c.initial_last_n(),
            c.transport(),
            c.sources(),
            c.description().map(|d| (d.media(), d.rtcp_mux(), d.rtp())),
            c.rtp_description(),
        );
    }

    let sources = j.sources();
    if let Ok(set) = &sources {
        let mut out = Vec::new();
        write_source_add(&mut out, "f", None, "r@c/x", &j.sid, &[("o", set)]);
        reparse(&out, |back| {
            assert_eq!(&back.sources().expect("our source-add parses"), set);
            // By owner only when every group names one of the sources
            // first: the wire does not say whose a group is.
            if let Ok(map) = back.sources_by_owner() {
                assert!(map.len() <= 1);
                assert_eq!(map.get("o").unwrap_or(&EndpointSourceSet::new()), set);
            }
        });
    }

    let transport = j.transport();
    if let Ok(Some(t)) = &transport {
        let mut out = Vec::new();
        write_transport_info(&mut out, "f", None, "r@c/x", &j.sid, "audio", t);
        reparse(&out, |back| {
            assert_eq!(
                back.transport().expect("our transport parses").as_ref(),
                Some(t)
            );
        });
    }

    if let Ok(descriptions) = j.rtp_descriptions() {
        drive_offer(&j, &descriptions, transport.ok().flatten().as_ref());
    }

    if let Some(r) = j.reason() {
        let text = r.text.as_deref().filter(|t| t.chars().all(is_xml_char));
        let bs = j.bridge_session().filter(|b| {
            [&b.id, &b.region]
                .into_iter()
                .flatten()
                .all(|v| v.chars().all(is_xml_char))
        });
        if let Some(cond) = r.condition {
            let mut out = Vec::new();
            write_session_terminate(
                &mut out,
                "f",
                None,
                "r@c/x",
                &j.sid,
                cond,
                text,
                bs.as_ref(),
            );
            reparse(&out, |back| {
                let got = back.reason().expect("a reason");
                assert_eq!((got.condition, got.text.as_deref()), (Some(cond), text));
                assert_eq!(back.bridge_session(), bs);
            });
        }
    }
}

/// An offer made of what was read: each description in its own content,
/// the transport in the first, the sources by owner when there are owners.
fn drive_offer(
    j: &JingleRequest<'_>,
    descriptions: &[RtpDescription],
    transport: Option<&IceUdpTransport>,
) {
    let names: Vec<String> = (0..descriptions.len()).map(|i| format!("c{i}")).collect();
    let contents: Vec<OfferContent<'_>> = descriptions
        .iter()
        .zip(&names)
        .enumerate()
        .map(|(i, (d, name))| OfferContent {
            name,
            senders: Senders::Both,
            description: Some(d),
            transport: transport.filter(|_| i == 0),
            sctpmap: None,
            estos_bundle: i == 1,
        })
        .collect();
    let owned = j.sources_by_owner().unwrap_or_default();
    let sources: Vec<(&str, &EndpointSourceSet)> = owned.iter().collect();
    let offer = Offer {
        sid: &j.sid,
        initiator: "focus@auth.meet.test/focus",
        contents: &contents,
        sources: &sources,
        bundle: true,
        start_muted: Some(StartMuted {
            audio: true,
            video: false,
        }),
        bridge_session: Some(BridgeSession {
            id: Some("b".into()),
            ..BridgeSession::default()
        }),
    };
    let mut out = Vec::new();
    write_session_initiate(&mut out, "f", None, "r@c/x", &offer);
    reparse(&out, |back| {
        assert_eq!(back.action, Action::SessionInitiate);
        assert_eq!(
            back.rtp_descriptions().expect("our codecs parse"),
            descriptions
        );
        assert_eq!(
            back.transport().expect("our transport parses").as_ref(),
            transport
        );
        // Only media the offer has a description for carry sources.
        let offered: Vec<&str> = descriptions.iter().map(|d| &*d.media).collect();
        let mut want = ConferenceSourceMap::new();
        for (owner, set) in owned.iter() {
            let kept = EndpointSourceSet {
                sources: set
                    .sources
                    .iter()
                    .filter(|s| offered.contains(&s.media.name()))
                    .cloned()
                    .collect(),
                groups: set
                    .groups
                    .iter()
                    .filter(|g| offered.contains(&g.media.name()))
                    .cloned()
                    .collect(),
            };
            want.add(owner, &kept);
        }
        // A group whose first SSRC was a source of the other media (or
        // none) cannot be attributed on the way back; skip the comparison
        // then.
        if let Ok(got) = back.sources_by_owner() {
            assert_eq!(got, want);
        }
        assert_eq!(back.start_muted(), offer.start_muted);
        assert_eq!(back.bridge_session(), offer.bridge_session);
        assert_eq!(
            back.bundle_group().expect("BUNDLE").contents().count(),
            contents.len()
        );
    });
}

/// Parses a request we wrote; it must be one well-formed Jingle `<iq/>`.
fn reparse(out: &[u8], check: impl FnOnce(&JingleRequest<'_>)) {
    crate::stanza::fuzz::reparse(out, ns::CLIENT, |iq| {
        assert_eq!(iq.ty, IqType::Set);
        let j = JingleRequest::from_iq(iq).expect("our request is Jingle");
        check(&j);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stanza::fuzz::mutate_seeds;

    const SEEDS: &[&str] = &[
        super::super::tests::SECTION_5_2_OFFER,
        super::super::tests::SECTION_5_5_SOURCE_ADD,
        "<iq type='set' id='a1'><jingle xmlns='urn:xmpp:jingle:1' action='addsource' sid='s'>\
         <content name='video'><source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='3001'>\
         <ssrc-info xmlns='http://jitsi.org/jitmeet' video-type='screen' owner='o'/>\
         <parameter name='cname' value='c'/><parameter name='msid' value='m t'/></source>\
         <ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='FID'><source ssrc='3001'/>\
         <source ssrc='3002'/></ssrc-group></content></jingle></iq>",
        "<iq type='set' id='t'><jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' sid='s'>\
         <reason><connectivity-error/><text>t&amp;x</text></reason>\
         <bridge-session xmlns='http://jitsi.org/protocol/focus' id='9f' region='r' restart='true'/>\
         </jingle></iq>",
        "<iq type='set' id='i'><jingle xmlns='urn:xmpp:jingle:1' action='session-info' sid='s'>\
         <ice-state xmlns='http://jitsi.org/protocol/focus'>failed</ice-state>\
         <bridge-session xmlns='http://jitsi.org/protocol/focus' id='9f' ice-restart='true'/></jingle></iq>",
    ];

    /// Bytes that change the meaning of XML or of numbers.
    const SPICE: &[u8] = b"<>/'\"=&;:#x1-9 \t\x00\xc3\xa9";

    fn all_seeds() -> Vec<&'static str> {
        let mut s = SEEDS.to_vec();
        s.push(super::super::tests::SECTION_5_4);
        s.push(super::super::tests::CURRENT_SESSION_ACCEPT);
        s
    }

    /// The seeds reach the round trips, not only the early exits.
    #[test]
    fn seeds_reach_every_round_trip() {
        let mut parser = Parser::new();
        let (mut sources, mut transports, mut offers, mut reasons) = (0, 0, 0, 0);
        for seed in all_seeds() {
            fuzz_jingle(seed.as_bytes());
            let doc = parser.parse(seed.as_bytes(), ns::CLIENT).unwrap();
            let iq = Iq::parse(doc.root()).unwrap();
            let j = JingleRequest::from_iq(&iq).unwrap();
            sources += usize::from(j.sources().is_ok_and(|s| !s.is_empty()));
            transports += usize::from(j.transport().is_ok_and(|t| t.is_some()));
            offers += usize::from(j.rtp_descriptions().is_ok_and(|d| !d.is_empty()));
            reasons += usize::from(j.reason().is_some_and(|r| r.condition.is_some()));
        }
        assert_eq!((sources, transports, offers, reasons), (5, 3, 4, 1));
    }

    #[test]
    fn mutations_never_panic() {
        mutate_seeds(0x6a69_6e67_6c65_0001, &all_seeds(), 400, SPICE, fuzz_jingle);
    }

    #[test]
    fn the_round_trip_checks_can_fail() {
        let wrong = std::panic::catch_unwind(|| {
            reparse(SECTION_5_5.as_bytes(), |j| {
                assert_eq!(j.action, Action::SessionInitiate)
            });
        });
        assert!(wrong.is_err());
        let not_jingle = std::panic::catch_unwind(|| reparse(b"<iq type='set' id='1'/>", |_| {}));
        assert!(not_jingle.is_err());
    }

    const SECTION_5_5: &str = super::super::tests::SECTION_5_5_SOURCE_ADD;
}
