//! The body of the stanza fuzz target, compiled for `cargo fuzz`
//! (`cfg(fuzzing)`) and for the tests below, which run it over mutated
//! stanzas so a panic shows up in `cargo test` before a fuzzer finds it.
//!
//! Beyond "never panics", it checks the invariants the rest of the focus
//! relies on: a JID's canonical form parses back to itself and its parts
//! rebuild it, every reply we write to a parsed stanza is one
//! well-formed element that parses back as the reply we meant, an occupant
//! snapshot does not change when the same presence is applied again, and a
//! mute request survives the notification writer.

use super::disco::{self, DiscoInfo};
use super::focus::{self, ConferenceRequest, ConferenceResponse, LoginUrlRequest, LogoutRequest};
use super::forms::DataForm;
use super::muc::{self, MucPresence, Occupant};
use super::mute::{self, MuteRequest};
use super::{Condition, Iq, IqType, Jid, Presence, Stanza, StanzaError, iq, ping};
use crate::xml::{Parser, ns};

/// Parses `data` as a frame on both kinds of stream, drives every reader,
/// writes the replies the focus would write, and checks that they parse
/// back. Panics only when an invariant is broken.
pub fn fuzz_stanza(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        check_jid(s);
        let _ = muc::parse_source_info(s);
    }
    // The parser only ever sees frames the framer cut, and those start at
    // `<`. (After a leading BOM, the element tree's ranges are off by three
    // bytes: an xml-layer bug the framer keeps out of reach.)
    if data.first() != Some(&b'<') {
        return;
    }
    let mut parser = Parser::new();
    for default_ns in [ns::CLIENT, ns::COMPONENT] {
        let Ok(doc) = parser.parse(data, default_ns) else {
            continue;
        };
        let Ok(stanza) = Stanza::parse(doc.root()) else {
            continue;
        };
        match &stanza {
            Stanza::Iq(q) => drive_iq(q, default_ns),
            Stanza::Presence(p) => {
                let _ = (p.error(), p.show(), p.status(), p.priority());
                for a in [&p.from, &p.to].into_iter().flatten() {
                    check_jid(a);
                }
                drive_muc_presence(p);
            }
            Stanza::Message(m) => {
                let _ = (m.error(), m.body(), m.subject(), m.is_error());
                for a in [&m.from, &m.to].into_iter().flatten() {
                    check_jid(a);
                }
            }
        }
    }
}

fn drive_iq(q: &Iq<'_>, default_ns: &'static str) {
    for a in [&q.from, &q.to].into_iter().flatten() {
        check_jid(a);
    }
    if let Some(e) = q.error() {
        assert_eq!(q.ty, IqType::Error);
        check_error_round_trip(&e);
    }
    if let Some(p) = q.payload {
        drive_muc_payload(p, default_ns);
        if let Ok(info) = DiscoInfo::parse(p) {
            let _ = info.has_feature(ns::FOCUS);
        }
        if let Ok(items) = disco::parse_items(p) {
            items.iter().for_each(|i| check_jid(i.jid.as_str()));
        }
        drive_focus(p, default_ns);
        super::jingle::fuzz::drive(p);
    }
    let _ = (
        disco::is_info_query(q),
        disco::is_items_query(q),
        ping::is_ping(q),
        focus::is_conference_request(q),
        focus::is_login_url_request(q),
        focus::is_logout_request(q),
        focus::is_stats_request(q),
        focus::shutdown_request(q),
    );

    let err = StanzaError::new(Condition::ServiceUnavailable)
        .with_text("x")
        .with_app("graceful-shutdown", ns::COLIBRI, &[]);
    let mut out = Vec::new();
    iq::write_error_reply(&mut out, q, None, &err);
    reparse(&out, default_ns, |r| {
        assert_eq!(r.ty, IqType::Error);
        assert_eq!(r.id, q.id);
        assert_eq!(r.to, q.from);
        assert_eq!(r.from, q.to);
        assert_eq!(r.error().as_ref(), Some(&err));
    });

    let mut out = Vec::new();
    disco::write_info_result(&mut out, q, Some("focus.meet.test"), &[], &[ns::FOCUS]);
    reparse(&out, default_ns, |r| {
        let info = DiscoInfo::parse(r.payload.expect("a query")).expect("disco#info");
        assert!(info.has_feature(ns::FOCUS) && info.has_feature(ns::DISCO_INFO));
    });

    let mut out = Vec::new();
    ping::write_pong(&mut out, q, None);
    reparse(&out, default_ns, |r| {
        assert_eq!(
            (r.ty, &r.id, r.payload.is_none()),
            (IqType::Result, &q.id, true)
        );
    });
}

/// The MUC view of a presence, and the occupant snapshot it makes: applying
/// the same presence twice changes nothing the second time.
fn drive_muc_presence(p: &Presence<'_>) {
    let Ok(m) = MucPresence::parse(p) else {
        return;
    };
    let _ = (
        m.is_self(),
        m.room_created(),
        m.was_kicked(),
        m.was_banned(),
        m.was_removed(),
        m.new_nick(),
        m.room_destroyed(),
        m.member_role(),
    );
    assert_eq!(m.nick.is_some(), m.is_occupant());
    check_jid(&m.room);
    let Some(mut o) = Occupant::from_presence(&m) else {
        return;
    };
    assert_eq!(o.nick(), m.nick.as_deref().expect("an occupant has a nick"));
    let before = o.clone();
    let ch = o.update(&m).expect("an occupant accepts its own presence");
    assert!(!ch.any(), "a repeated presence changed {ch:?}");
    assert_eq!(o, before);
    let _ = (
        o.is_jibri(&["meet.test"]),
        o.is_jigasi(&["meet.test"]),
        o.is_switching_room(),
        o.video_codecs().count(),
        o.caps.as_ref().map(|c| (c.node(), c.ver(), c.hash())),
    );
}

/// IQ payloads the MUC layer reads: mute requests (which must survive a
/// round trip through the notification writer) and data forms.
fn drive_muc_payload(p: crate::xml::El<'_>, default_ns: &'static str) {
    if let Ok(form) = DataForm::parse(p) {
        let _ = (form.form_type(), form.bool_field("muc#roominfo_isbreakout"));
    }
    if let Some(form) = muc::owner_form(p) {
        let _ = form.field("muc#roominfo_meetingId");
    }
    let Ok(m) = MuteRequest::parse(p) else {
        return;
    };
    let (Some(jid), Some(mute)) = (m.jid.as_deref(), m.mute) else {
        return;
    };
    let mut out = Vec::new();
    mute::write_mute_notification(
        &mut out,
        "n",
        None,
        jid,
        m.kind,
        jid,
        mute,
        m.actor.as_deref(),
    );
    reparse(&out, default_ns, |r| {
        let back = MuteRequest::from_iq(r).expect("a mute request");
        assert_eq!(back, m);
    });
}

/// The focus protocol readers, and the answers built from what they read:
/// whatever a client put in a request, writing it back must read back the
/// same.
fn drive_focus(p: crate::xml::El<'_>, default_ns: &'static str) {
    if let Ok(req) = ConferenceRequest::parse(p) {
        let _ = (
            req.property("startAudioMuted"),
            req.room_jid(),
            format!("{req:?}"),
        );
        let props: Vec<(&str, &str)> = req
            .properties
            .iter()
            .map(|(n, v)| (n.as_ref(), v.as_ref()))
            .collect();
        let resp = ConferenceResponse {
            room: req.room.as_deref().unwrap_or(""),
            ready: true,
            focus_jid: "focus@auth.meet.test",
            session_id: req.session_id.as_deref(),
            identity: req.machine_uid.as_deref(),
            properties: &props,
        };
        let mut out = Vec::new();
        iq::write_result(&mut out, "r", None, Some("u@meet.test/r"), |w| {
            resp.write(w)
        });
        reparse(&out, default_ns, |r| {
            let back = ConferenceRequest::parse(r.payload.expect("a conference"))
                .expect("our conference answer parses");
            assert_eq!(back.room, req.room);
            assert_eq!(back.session_id, req.session_id);
            assert_eq!(back.properties, req.properties);
        });
    }
    if let Ok(req) = LoginUrlRequest::parse(p) {
        if let Ok((room, _)) = req.validate() {
            let url = focus::xmpp_login_url(&room);
            let mut out = Vec::new();
            iq::write_result(&mut out, "l", None, None, |w| {
                focus::write_login_url_result(w, &url)
            });
            reparse(&out, default_ns, |r| {
                let enc = r.payload.and_then(|l| l.attr("url")).expect("a url");
                assert_eq!(enc, focus::percent_encode(&url));
            });
        }
    }
    if let Ok(req) = LogoutRequest::parse(p) {
        let _ = format!("{req:?}");
    }
}

/// Parses an IQ we wrote (a reply, or a request of the Jingle and Colibri
/// bodies); it must be one well-formed `<iq/>`, which `check` then reads.
pub(crate) fn reparse(out: &[u8], default_ns: &'static str, check: impl FnOnce(&Iq<'_>)) {
    let mut p = Parser::new();
    let doc = p.parse(out, default_ns).unwrap_or_else(|e| {
        panic!(
            "what we wrote does not parse ({e}): {}",
            String::from_utf8_lossy(out)
        )
    });
    let iq = Iq::parse(doc.root()).expect("what we wrote is an <iq/>");
    check(&iq);
}

fn check_error_round_trip(e: &StanzaError) {
    let mut out = Vec::new();
    e.write(&mut crate::xml::XmlWriter::new(&mut out));
    let mut p = Parser::new();
    let doc = p.parse(&out, ns::CLIENT).expect("a written error parses");
    assert_eq!(&StanzaError::parse(doc.root()), e);
}

/// The canonical form is a fixed point, `check` agrees with `parse`, and the
/// parts rebuild the JID.
fn check_jid(s: &str) {
    let parsed = Jid::parse(s);
    assert_eq!(Jid::check(s), parsed.as_ref().map(|_| ()).map_err(|e| *e));
    let Ok(j) = parsed else { return };
    assert_eq!(Jid::parse(j.as_str()).as_ref(), Ok(&j));
    let rebuilt = Jid::from_parts(j.node(), j.domain(), j.resource());
    assert_eq!(rebuilt.as_ref(), Ok(&j));
    assert_eq!(j.to_bare().as_str(), j.bare());
    assert_eq!(j.is_bare(), j.resource().is_none());
    let r = j.with_resource("r").expect("a valid resource");
    assert_eq!((r.bare(), r.resource()), (j.bare(), Some("r")));
}

/// For the tests of the fuzz bodies: a small deterministic generator
/// (xorshift64), so that the mutations are reproducible.
#[cfg(test)]
struct XorShift(u64);

#[cfg(test)]
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// For the tests of the fuzz bodies (stanza, Colibri, Jingle): runs `body`
/// over `rounds` mutations of every seed, in order. Each mutation makes one
/// to three edits (overwrite, insert or remove a byte; new bytes come from
/// `spice`) with a generator started at `rng_seed`, so a run is
/// reproducible.
#[cfg(test)]
pub(crate) fn mutate_seeds(
    rng_seed: u64,
    seeds: &[&str],
    rounds: usize,
    spice: &[u8],
    body: impl Fn(&[u8]),
) {
    let mut rng = XorShift(rng_seed);
    for seed in seeds {
        for _ in 0..rounds {
            let mut data = seed.as_bytes().to_vec();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(data.len());
                match rng.below(3) {
                    0 => data[at] = spice[rng.below(spice.len())],
                    1 => data.insert(at, spice[rng.below(spice.len())]),
                    _ => {
                        data.remove(at);
                    }
                }
                if data.is_empty() {
                    break;
                }
            }
            body(&data);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stanzas of every kind the focus meets, as seeds for the mutations.
    const SEEDS: &[&str] = &[
        "<iq type='set' id='c1' from='x9@guest.meet.test/r1' to='focus.meet.test'>\
         <conference xmlns='http://jitsi.org/protocol/focus' room='r@conference.meet.test'>\
         <property name='a' value='&lt;'/></conference></iq>",
        "<iq type='error' id='7' from='jvb.meet.test' to='focus@auth.meet.test/f'>\
         <error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
         <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>t</text>\
         <error xmlns='jitsi:colibri2' reason='graceful_shutdown'/></error></iq>",
        "<iq type='result' id='d1' from='meet.test'><query xmlns='http://jabber.org/protocol/disco#items'>\
         <item jid='conference.meet.test'/><item jid='jvb.meet.test' node='n'/></query></iq>",
        "<iq type='result' id='d2' from='jvb.meet.test'><query xmlns='http://jabber.org/protocol/disco#info'>\
         <identity category='component' type='conference' name='J'/>\
         <feature var='http://jitsi.org/protocol/colibri'/></query></iq>",
        "<iq type='get' id='p' from='meet.test' to='focus.meet.test'><ping xmlns='urn:xmpp:ping'/></iq>",
        "<iq type='get' id='q' from='u@[::1]/r' to='focus.meet.test'>\
         <query xmlns='http://jabber.org/protocol/disco#info' node='n'/></iq>",
        "<presence from='room@conference.meet.test/ab12' type='error'><show>away</show>\
         <priority>5</priority><error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item role='participant'/></x></presence>",
        "<message type='error' from='room@conference.meet.test' id='m'><body>a &amp; b</body>\
         <subject>s</subject><error type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
         </error></message>",
        "Room@Conference.Meet.Test./Nick@home/x",
        "<presence from='room@conference.meet.test/focus' to='focus@auth.meet.test/focus'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' role='moderator' \
         jid='focus@auth.meet.test/focus'/><status code='110'/><status code='201'/></x></presence>",
        "<presence from='room@conference.meet.test/ab12'><status>switch_room</status>\
         <nick xmlns='http://jabber.org/protocol/nick'>Zo&amp;</nick>\
         <startmuted xmlns='http://jitsi.org/jitmeet/start-muted' audio='true' video='false'/>\
         <audiomuted>false</audiomuted><SourceInfo>{\"ab12-a0\":{\"muted\":false},\
         \"ab12-v0\":{\"muted\":true,\"videoType\":\"camera\",\"x\":[1,-2e3,\"\\u00e9\"]}}</SourceInfo>\
         <jitsi_participant_region>r</jitsi_participant_region><stats-id>s</stats-id>\
         <jitsi_participant_codecList>VP9,h264</jitsi_participant_codecList>\
         <features><feature var='http://jitsi.org/protocol/jibri'/></features>\
         <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v='/>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='participant' \
         jid='u@meet.test/r'/></x></presence>",
        "<presence type='unavailable' from='room@conference.meet.test/focus'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='none' nick='n2'/>\
         <destroy jid='alt@conference.meet.test'><reason>r</reason></destroy>\
         <status code='307'/><status code='303'/></x></presence>",
        "<presence type='error' from='room@conference.meet.test/focus'><error type='cancel'>\
         <not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>",
        "<iq type='set' id='mu1' from='room@conference.meet.test/ab12' to='focus@auth.meet.test/focus'>\
         <mute xmlns='http://jitsi.org/jitmeet/audio' jid='room@conference.meet.test/cd34' \
         actor='room@conference.meet.test/ab12'>true</mute></iq>",
        "<iq type='result' id='m1' from='room@conference.meet.test'>\
         <query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='form'>\
         <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roomconfig</value></field>\
         <field var='muc#roominfo_isbreakout' type='boolean'><value>1</value></field></x></query></iq>",
        "<iq type='set' id='k' from='f.meet.test/YQ' to='focus@auth.meet.test/focus'>\
         <conference xmlns='http://jitsi.org/protocol/focus' room='r@conference.meet.test' \
         machine-uid='m' session-id='s' token='t'><property xmlns='http://jitsi.org/protocol/focus' \
         name='visitors-version' value='1'/><property name='' value='x'/></conference></iq>",
        "<iq type='get' id='l1' to='focus.meet.test'><login-url xmlns='http://jitsi.org/protocol/focus' \
         room='caf\u{e9}@conference.meet.test' machine-uid='m' popup='true'/></iq>",
        "<iq type='set' id='o1'><logout xmlns='http://jitsi.org/protocol/focus' session-id='s'/></iq>",
        "<iq type='set' id='g'><graceful-shutdown xmlns='http://jitsi.org/protocol/colibri'/></iq>",
    ];

    /// Bytes that change the meaning of XML or of a JID.
    const SPICE: &[u8] = b"<>/'\"=&;:@[]. \t\x00\xc3\xa9xmlns";

    #[test]
    fn seeds_exercise_every_reader() {
        for seed in SEEDS {
            fuzz_stanza(seed.as_bytes());
        }
    }

    /// The MUC seeds reach the deep readers (else the mutations would only
    /// ever test the early exits).
    #[test]
    fn muc_seeds_reach_the_snapshot_and_the_round_trip() {
        let mut parser = Parser::new();
        let (mut occupants, mut mutes, mut forms) = (0, 0, 0);
        for seed in SEEDS {
            let Ok(doc) = parser.parse(seed.as_bytes(), ns::CLIENT) else {
                continue;
            };
            match Stanza::parse(doc.root()) {
                Ok(Stanza::Presence(p)) => {
                    if let Ok(m) = MucPresence::parse(&p) {
                        occupants += usize::from(Occupant::from_presence(&m).is_some());
                    }
                }
                Ok(Stanza::Iq(q)) => {
                    let payload = q.payload;
                    mutes +=
                        usize::from(payload.and_then(|p| MuteRequest::parse(p).ok()).is_some());
                    forms += usize::from(payload.and_then(muc::owner_form).is_some());
                }
                _ => {}
            }
        }
        assert_eq!((occupants, mutes, forms), (2, 1, 1));
    }

    #[test]
    fn truncations_never_panic() {
        for seed in SEEDS {
            for end in 0..seed.len() {
                fuzz_stanza(&seed.as_bytes()[..end]);
            }
        }
    }

    #[test]
    fn mutations_never_panic() {
        mutate_seeds(0x5eed_1234_abcd_ef01, SEEDS, 2000, SPICE, fuzz_stanza);
    }

    /// Found by `mutations_never_panic` with other seeds: quick-xml takes
    /// `:ingxmlns='urn:xmpp:ping'` for an element name, and echoing it in an
    /// error reply wrote a start tag that is not XML.
    #[test]
    fn regression_echo_of_a_name_that_is_not_a_name() {
        fuzz_stanza(
            b"<iq type='get' id='p' from='meet.test' to='mfocus.meet.test'>\
              <:ingxmlns='urn:xmpp:ping'/></iq>",
        );
    }

    #[test]
    fn the_invariants_can_fail() {
        // A reply check that is wrong must panic, or the checks prove nothing.
        let bad = std::panic::catch_unwind(|| {
            reparse(b"<iq type='result' id='1'/>", ns::CLIENT, |r| {
                assert_eq!(r.ty, IqType::Error);
            });
        });
        assert!(bad.is_err());
        let not_xml = std::panic::catch_unwind(|| reparse(b"<iq", ns::CLIENT, |_| {}));
        assert!(not_xml.is_err());
    }
}
