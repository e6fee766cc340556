//! Unit tests of the focus protocol types: literal XML in, literal XML out.

use super::*;
use crate::stanza::iq::{write_error_reply, write_result};
use crate::xml::Parser;

fn with_iq<R>(xml: &str, f: impl FnOnce(&Iq<'_>) -> R) -> R {
    let mut p = Parser::new();
    let doc = p.parse(xml.as_bytes(), ns::COMPONENT).unwrap();
    f(&Iq::parse(doc.root()).unwrap())
}

fn with_el<R>(xml: &str, f: impl FnOnce(El<'_>) -> R) -> R {
    let mut p = Parser::new();
    let doc = p.parse(xml.as_bytes(), ns::COMPONENT).unwrap();
    f(doc.root())
}

fn written(f: impl FnOnce(&mut XmlWriter<'_>)) -> String {
    let mut out = Vec::new();
    f(&mut XmlWriter::new(&mut out));
    String::from_utf8(out).unwrap()
}

/// Undoes `percent_encode`, for round trips (as the client's
/// `decodeURIComponent` would).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The request of protocol.md §1.2, verbatim: SEED properties carry no xmlns.
const SEED_REQUEST: &str =
    "<iq type='set' id='c1' to='focus.example.com' from='a1b2c3@guest.example.com/resA'>
  <conference xmlns='http://jitsi.org/protocol/focus'
              room='myroom@conference.example.com'
              machine-uid='5f2e1d0c9b8a7f6e5d4c3b2a19081726'>
    <property name='bridge' value='jitsi-videobridge.example.com'/>
    <property name='call_control' value='callcontrol.example.com'/>
    <property name='channelLastN' value='-1'/>
    <property name='adaptiveLastN' value='false'/>
    <property name='adaptiveSimulcast' value='false'/>
    <property name='openSctp' value='true'/>
    <property name='startAudioMuted' value='9'/>
    <property name='startVideoMuted' value='9'/>
    <property name='simulcastMode' value='rewriting'/>
  </conference>
</iq>";

#[test]
fn parses_the_seed_request_verbatim() {
    with_iq(SEED_REQUEST, |iq| {
        assert!(is_conference_request(iq));
        let req = ConferenceRequest::parse(iq.payload.unwrap()).unwrap();
        assert_eq!(req.room.as_deref(), Some("myroom@conference.example.com"));
        assert_eq!(
            req.machine_uid.as_deref(),
            Some("5f2e1d0c9b8a7f6e5d4c3b2a19081726")
        );
        assert_eq!(
            (req.session_id.as_deref(), req.token.as_deref()),
            (None, None)
        );
        let props: Vec<(&str, &str)> = req
            .properties
            .iter()
            .map(|(n, v)| (n.as_ref(), v.as_ref()))
            .collect();
        assert_eq!(
            props,
            [
                ("bridge", "jitsi-videobridge.example.com"),
                ("call_control", "callcontrol.example.com"),
                ("channelLastN", "-1"),
                ("adaptiveLastN", "false"),
                ("adaptiveSimulcast", "false"),
                ("openSctp", "true"),
                ("startAudioMuted", "9"),
                ("startVideoMuted", "9"),
                ("simulcastMode", "rewriting"),
            ]
        );
        assert_eq!(req.property("simulcastMode"), Some("rewriting"));
        assert_eq!(req.property("startAudioMuted"), Some("9"));
        assert_eq!(req.property("visitors-version"), None);
        assert_eq!(
            req.room_jid().unwrap().as_str(),
            "myroom@conference.example.com"
        );
    });
}

#[test]
fn parses_a_current_request_with_namespaced_properties() {
    let xml = "<iq type='set' id='k2' from='focus.meet.test/YWxpY2VAbWVldC50ZXN0L3Ix' to='focus@auth.meet.test/focus'>\
        <conference xmlns='http://jitsi.org/protocol/focus' room='Lobby@Conference.Meet.Test' \
        machine-uid='m1' session-id='S3cr3tS3ss10n' token='eyJhbGciOi.x.y'>\
        <property xmlns='http://jitsi.org/protocol/focus' name='rtcstatsEnabled' value='false'/>\
        <property xmlns='http://jitsi.org/protocol/focus' name='visitors-version' value='1'/>\
        <property xmlns='http://jitsi.org/protocol/focus' name='startAudioMuted' value='10'/>\
        </conference></iq>";
    with_iq(xml, |iq| {
        let req = ConferenceRequest::parse(iq.payload.unwrap()).unwrap();
        assert_eq!(req.session_id.as_deref(), Some("S3cr3tS3ss10n"));
        assert_eq!(req.token.as_deref(), Some("eyJhbGciOi.x.y"));
        assert_eq!(req.machine_uid.as_deref(), Some("m1"));
        assert_eq!(req.properties.len(), 3);
        assert_eq!(req.property("visitors-version"), Some("1"));
        assert_eq!(req.property("rtcstatsEnabled"), Some("false"));
        // The room JID comes back canonical.
        assert_eq!(
            req.room_jid().unwrap().as_str(),
            "lobby@conference.meet.test"
        );
        // Credentials never reach a log line through Debug.
        let dbg = format!("{req:?}");
        assert!(!dbg.contains("S3cr3t") && !dbg.contains("eyJ"), "{dbg}");
        assert!(dbg.contains("\"***\"") && dbg.contains("visitors-version"));
    });
}

#[test]
fn lenient_details_of_request_parsing() {
    let xml = "<conference xmlns='http://jitsi.org/protocol/focus' room='' session-id='' \
        machine-uid='' token='' ready='true' focusjid='f@a.test' identity='x@y'>\
        <property name='' value='dropped'/><property value='no name'/>\
        <property name='novalue'/>\
        <property xmlns='urn:other' name='foreign' value='kept'/>\
        <x xmlns='urn:x'><property name='nested' value='ignored'/></x>\
        <property name='dup' value='1'/><property name='dup' value='2'/>\
        <property name='esc' value='a&amp;b&lt;'/></conference>";
    with_el(xml, |el| {
        let req = ConferenceRequest::parse(el).unwrap();
        // Empty attributes read as absent, as Jicofo's parser did.
        assert_eq!(req.room, None);
        assert_eq!(req.session_id, None);
        assert_eq!(req.machine_uid, None);
        assert_eq!(req.token, None);
        assert_eq!(req.room_jid(), Err(missing_room()));
        let names: Vec<&str> = req.properties.iter().map(|(n, _)| n.as_ref()).collect();
        assert_eq!(names, ["novalue", "foreign", "dup", "dup", "esc"]);
        assert_eq!(req.property("novalue"), Some(""));
        assert_eq!(req.property("foreign"), Some("kept"));
        assert_eq!(req.property("nested"), None);
        assert_eq!(req.property("dup"), Some("2"));
        assert_eq!(req.property("esc"), Some("a&b<"));
    });
}

#[test]
fn rejects_what_is_not_a_conference_request() {
    for (xml, want) in [
        (
            "<conference xmlns='http://jitsi.org/protocol/colibri'/>",
            StanzaParseError::NotA("a focus <conference/>"),
        ),
        (
            "<conferences xmlns='http://jitsi.org/protocol/focus'/>",
            StanzaParseError::NotA("a focus <conference/>"),
        ),
        (
            "<conference xmlns='http://jitsi.org/protocol/focus' room='a&bogus;@b'/>",
            StanzaParseError::BadAttribute("room", "a&bogus;@b".into()),
        ),
        (
            "<conference xmlns='http://jitsi.org/protocol/focus'><property name='a' value='&x;'/></conference>",
            StanzaParseError::BadAttribute("value", "&x;".into()),
        ),
    ] {
        with_el(xml, |el| {
            assert_eq!(ConferenceRequest::parse(el).unwrap_err(), want, "{xml}")
        });
    }
    // Only a set is a conference request.
    with_iq(
        "<iq type='get' id='1'><conference xmlns='http://jitsi.org/protocol/focus'/></iq>",
        |iq| assert!(!is_conference_request(iq)),
    );
}

#[test]
fn room_jids_must_be_bare_with_a_localpart() {
    let req = |room: &str| ConferenceRequest {
        room: Some(Cow::Owned(room.to_string())),
        machine_uid: None,
        session_id: None,
        token: None,
        properties: Vec::new(),
    };
    for bad in [
        "conference.meet.test",
        "r@conference.meet.test/nick",
        "a@@b",
        "@conference.meet.test",
        "r@",
        "r s@conference.meet.test",
    ] {
        let e = req(bad).room_jid().unwrap_err();
        assert_eq!(e.condition, Condition::BadRequest, "{bad}");
        assert!(e.text.is_some(), "{bad}");
    }
    assert_eq!(
        req("R@Conference.Meet.Test").room_jid().unwrap().as_str(),
        "r@conference.meet.test"
    );
}

#[test]
fn writes_the_response_of_section_1_4() {
    let resp = ConferenceResponse {
        room: "myroom@conference.example.com",
        ready: true,
        focus_jid: "focus@auth.example.com",
        session_id: None,
        identity: None,
        properties: &[("authentication", "false"), ("sipGatewayEnabled", "true")],
    };
    let mut out = Vec::new();
    write_result(
        &mut out,
        "c1",
        Some("focus.example.com"),
        Some("a1b2c3@guest.example.com/resA"),
        |w| resp.write(w),
    );
    let xml = String::from_utf8(out).unwrap();
    assert_eq!(
        xml,
        "<iq type='result' id='c1' from='focus.example.com' to='a1b2c3@guest.example.com/resA'>\
         <conference xmlns='http://jitsi.org/protocol/focus' room='myroom@conference.example.com' \
         ready='true' focusjid='focus@auth.example.com'>\
         <property name='authentication' value='false'/>\
         <property name='sipGatewayEnabled' value='true'/></conference></iq>"
    );
    // Element by element against protocol.md's example, whitespace aside.
    let expected =
        "<iq type='result' id='c1' to='a1b2c3@guest.example.com/resA' from='focus.example.com'>
  <conference xmlns='http://jitsi.org/protocol/focus'
              room='myroom@conference.example.com'
              ready='true'
              focusjid='focus@auth.example.com'>
    <property name='authentication' value='false'/>
    <property name='sipGatewayEnabled' value='true'/>
  </conference>
</iq>";
    with_el(expected, |want| {
        with_el(&xml, |got| assert_same_tree(want, got))
    });
}

/// Same names, namespaces, attribute sets (order aside) and children.
fn assert_same_tree(want: El<'_>, got: El<'_>) {
    assert_eq!((want.name(), want.ns()), (got.name(), got.ns()));
    let attrs = |e: El<'_>| {
        let mut v: Vec<(String, String)> = e
            .raw_attrs()
            .filter(|a| a.name != "xmlns")
            .map(|a| (a.name.to_string(), a.raw_value.to_string()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(attrs(want), attrs(got), "<{}>", want.name());
    let (wc, gc): (Vec<_>, Vec<_>) = (want.children().collect(), got.children().collect());
    assert_eq!(wc.len(), gc.len(), "children of <{}>", want.name());
    for (w, g) in wc.into_iter().zip(gc) {
        assert_same_tree(w, g);
    }
}

#[test]
fn the_tree_comparison_can_fail() {
    let r = std::panic::catch_unwind(|| {
        with_el("<a x='1'><b/></a>", |w| {
            with_el("<a x='2'><b/></a>", |g| assert_same_tree(w, g))
        })
    });
    assert!(r.is_err());
}

#[test]
fn writes_an_authenticated_response_and_reads_it_back() {
    let resp = ConferenceResponse {
        room: "r@conference.meet.test",
        ready: false,
        focus_jid: "focus@auth.meet.test",
        session_id: Some("s'1"),
        identity: Some("alice@meet.test"),
        properties: &[("authentication", "true"), ("externalAuth", "false")],
    };
    let xml = written(|w| resp.write(w));
    assert_eq!(
        xml,
        "<conference xmlns='http://jitsi.org/protocol/focus' room='r@conference.meet.test' \
         ready='false' focusjid='focus@auth.meet.test' session-id='s&apos;1' \
         identity='alice@meet.test'><property name='authentication' value='true'/>\
         <property name='externalAuth' value='false'/></conference>"
    );
    // Our own parser reads the session back (clients send it the same way).
    with_el(&xml, |el| {
        let req = ConferenceRequest::parse(el).unwrap();
        assert_eq!(req.session_id.as_deref(), Some("s'1"));
        assert_eq!(req.property("externalAuth"), Some("false"));
    });
}

/// Answers the request `c3` with `err` and returns the reply.
fn error_reply(err: &StanzaError) -> String {
    let xml = "<iq type='set' id='c3' from='x9y8@guest.example.com/r1' to='focus.example.com'>\
        <conference xmlns='http://jitsi.org/protocol/focus' room='newroom@conference.example.com'/></iq>";
    let mut out = Vec::new();
    with_iq(xml, |iq| write_error_reply(&mut out, iq, None, err));
    String::from_utf8(out).unwrap()
}

const ECHO: &str = "<iq type='error' id='c3' from='focus.example.com' to='x9y8@guest.example.com/r1'>\
    <conference xmlns='http://jitsi.org/protocol/focus' room='newroom@conference.example.com'/>";
const STANZAS: &str = "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'";

#[test]
fn every_error_is_exactly_as_jicofo_sent_it() {
    let cases: Vec<(StanzaError, String)> = vec![
        (
            missing_room(),
            format!(
                "<error type='modify'><bad-request {STANZAS}/>\
                 <text {STANZAS}>No 'room' specified.</text></error>"
            ),
        ),
        (
            not_authorized(),
            format!(
                "<error type='auth'><not-authorized {STANZAS}/>\
                 <text {STANZAS}>not authorized user domain</text></error>"
            ),
        ),
        (
            session_invalid(),
            format!(
                "<error type='modify'><not-acceptable {STANZAS}/>\
                 <text {STANZAS}>invalid session</text>\
                 <session-invalid xmlns='http://jitsi.org/protocol/focus'/></error>"
            ),
        ),
        (
            machine_uid_mismatch(),
            format!(
                "<error type='modify'><not-acceptable {STANZAS}/>\
                 <text {STANZAS}>machine UID mismatch or empty</text></error>"
            ),
        ),
        (
            missing_machine_uid(),
            format!(
                "<error type='modify'><not-acceptable {STANZAS}/>\
                 <text {STANZAS}>Missing mandatory attribute 'machine-uid'</text></error>"
            ),
        ),
        (
            graceful_shutdown(),
            format!(
                "<error type='cancel'><service-unavailable {STANZAS}/>\
                 <graceful-shutdown xmlns='http://jitsi.org/protocol/colibri'/></error>"
            ),
        ),
        (
            bad_room("not a MUC domain we serve: x.test"),
            format!(
                "<error type='modify'><bad-request {STANZAS}/>\
                 <text {STANZAS}>not a MUC domain we serve: x.test</text></error>"
            ),
        ),
        (
            internal_error("joining the room failed"),
            format!(
                "<error type='cancel'><internal-server-error {STANZAS}/>\
                 <text {STANZAS}>joining the room failed</text></error>"
            ),
        ),
        (
            auth_unavailable(),
            format!("<error type='cancel'><service-unavailable {STANZAS}/></error>"),
        ),
    ];
    for (err, want) in cases {
        let reply = error_reply(&err);
        assert_eq!(reply, format!("{ECHO}{want}</iq>"));
        // And the reply reads back as the very same error.
        with_iq(&reply, |iq| assert_eq!(iq.error(), Some(err.clone())));
    }
}

#[test]
fn error_texts_are_the_documented_ones() {
    assert_eq!(
        session_invalid().app(ns::FOCUS).unwrap().name,
        "session-invalid"
    );
    assert_eq!(
        graceful_shutdown().app(ns::COLIBRI).unwrap().name,
        "graceful-shutdown"
    );
    assert_eq!(graceful_shutdown().text, None);
    assert_eq!(not_authorized().text.as_deref(), Some(NOT_AUTHORIZED_TEXT));
}

#[test]
fn login_url_round_trip() {
    let xml = "<iq type='get' id='l1' from='x@guest.example.com/r' to='focus.example.com'>\
        <login-url xmlns='http://jitsi.org/protocol/focus' room='myroom@conference.example.com' \
        machine-uid='5f2e' popup='true'/></iq>";
    with_iq(xml, |iq| {
        assert!(is_login_url_request(iq));
        let req = LoginUrlRequest::parse(iq.payload.unwrap()).unwrap();
        assert!(req.popup);
        let (room, muid) = req.validate().unwrap();
        assert_eq!(
            (room.as_str(), muid),
            ("myroom@conference.example.com", "5f2e")
        );
        let url = xmpp_login_url(&room);
        assert_eq!(url, "./myroom?login=true");
        let mut out = Vec::new();
        write_result(&mut out, &iq.id, None, iq.from.as_deref(), |w| {
            write_login_url_result(w, &url)
        });
        let reply = String::from_utf8(out).unwrap();
        assert_eq!(
            reply,
            "<iq type='result' id='l1' to='x@guest.example.com/r'>\
             <login-url xmlns='http://jitsi.org/protocol/focus' url='.%2Fmyroom%3Flogin%3Dtrue'/></iq>"
        );
        // What the client gets after decodeURIComponent.
        with_iq(&reply, |r| {
            let enc = r.payload.unwrap().attr("url").unwrap();
            assert_eq!(percent_decode(&enc), "./myroom?login=true");
        });
    });
    // A login-url is a get.
    with_iq(
        "<iq type='set' id='l'><login-url xmlns='http://jitsi.org/protocol/focus' room='a@b'/></iq>",
        |iq| assert!(!is_login_url_request(iq)),
    );
    // popup is only true when it says so.
    with_el(
        "<login-url xmlns='http://jitsi.org/protocol/focus' room='a@b' machine-uid='m' popup='1'/>",
        |el| assert!(!LoginUrlRequest::parse(el).unwrap().popup),
    );
}

#[test]
fn login_url_errors_in_jicofos_order() {
    let parse = |attrs: &str| {
        let xml = format!("<login-url xmlns='http://jitsi.org/protocol/focus' {attrs}/>");
        with_el(&xml, |el| {
            LoginUrlRequest::parse(el)
                .unwrap()
                .validate()
                .map(|(r, m)| (r.to_string(), m.to_string()))
        })
    };
    // No room: not-acceptable without text, even when machine-uid is missing too.
    let e = parse("").unwrap_err();
    assert_eq!(e, StanzaError::new(Condition::NotAcceptable));
    assert_eq!(parse("machine-uid='m' room=''").unwrap_err(), e);
    // No machine uid: bad-request with Jicofo's wording.
    let e = parse("room='r@conference.meet.test'").unwrap_err();
    assert_eq!(
        (e.condition, e.error_type, e.text.as_deref()),
        (
            Condition::BadRequest,
            crate::stanza::ErrorType::Modify,
            Some("missing mandatory attribute 'machineUID'")
        )
    );
    // A room that is not name@domain.
    let e = parse("room='conference.meet.test' machine-uid='m'").unwrap_err();
    assert_eq!(e.condition, Condition::BadRequest);
    assert_eq!(
        parse("room='r@conference.meet.test' machine-uid='m'").unwrap(),
        ("r@conference.meet.test".to_string(), "m".to_string())
    );
    // Not a login-url at all.
    with_el("<logout xmlns='http://jitsi.org/protocol/focus'/>", |el| {
        assert!(LoginUrlRequest::parse(el).is_err())
    });
}

#[test]
fn login_urls_of_odd_rooms_are_encoded() {
    let room = Jid::parse("caf\u{e9}+1@conference.meet.test").unwrap();
    let url = xmpp_login_url(&room);
    assert_eq!(url, "./caf\u{e9}+1?login=true");
    let xml = written(|w| write_login_url_result(w, &url));
    assert_eq!(
        xml,
        "<login-url xmlns='http://jitsi.org/protocol/focus' url='.%2Fcaf%C3%A9%2B1%3Flogin%3Dtrue'/>"
    );
}

#[test]
fn logout_round_trip() {
    let xml = "<iq type='set' id='o1' from='x@guest.example.com/r' to='focus.example.com'>\
        <logout xmlns='http://jitsi.org/protocol/focus' session-id='0b6cS3cr3t'/></iq>";
    with_iq(xml, |iq| {
        assert!(is_logout_request(iq));
        let req = LogoutRequest::parse(iq.payload.unwrap()).unwrap();
        assert_eq!(req.session_id.as_deref(), Some("0b6cS3cr3t"));
        assert!(!format!("{req:?}").contains("S3cr3t"));
        let mut out = Vec::new();
        write_result(&mut out, &iq.id, None, iq.from.as_deref(), |w| {
            write_logout_result(w, None)
        });
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<iq type='result' id='o1' to='x@guest.example.com/r'>\
             <logout xmlns='http://jitsi.org/protocol/focus'/></iq>"
        );
    });
    // External authorities send a logout URL, encoded.
    assert_eq!(
        written(|w| write_logout_result(w, Some("https://idp.example.com/logout"))),
        "<logout xmlns='http://jitsi.org/protocol/focus' \
         logout-url='https%3A%2F%2Fidp.example.com%2Flogout'/>"
    );
    // No session id (or an empty one) parses as None: the caller answers
    // session-invalid.
    with_el(
        "<logout xmlns='http://jitsi.org/protocol/focus' session-id=''/>",
        |el| assert_eq!(LogoutRequest::parse(el).unwrap().session_id, None),
    );
    // A logout is a set.
    with_iq(
        "<iq type='get' id='o'><logout xmlns='http://jitsi.org/protocol/focus'/></iq>",
        |iq| assert!(!is_logout_request(iq)),
    );
}

#[test]
fn percent_encoding() {
    assert_eq!(percent_encode(""), "");
    assert_eq!(
        percent_encode("AZaz09-._~"),
        "AZaz09-._~",
        "unreserved characters are kept"
    );
    assert_eq!(
        percent_encode(" !*'();:@&=+$,/?#[]%\""),
        "%20%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%2F%3F%23%5B%5D%25%22"
    );
    assert_eq!(
        percent_encode("\u{e9}\u{20ac}\u{1f600}"),
        "%C3%A9%E2%82%AC%F0%9F%98%80"
    );
    assert_eq!(percent_encode("\0\x7f"), "%00%7F");
    // Round trip over every char class.
    let all: String = (0u32..0x800).filter_map(char::from_u32).collect();
    let enc = percent_encode(&all);
    assert!(
        enc.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b))
    );
    assert_eq!(percent_decode(&enc), all);
}

#[test]
fn stats_answer() {
    with_iq(
        "<iq type='get' id='s1' from='admin@meet.test/x'><stats xmlns='http://jitsi.org/protocol/colibri'/></iq>",
        |iq| assert!(is_stats_request(iq)),
    );
    for xml in [
        "<iq type='set' id='s'><stats xmlns='http://jitsi.org/protocol/colibri'/></iq>",
        "<iq type='get' id='s'><stats xmlns='http://jitsi.org/protocol/focus'/></iq>",
    ] {
        with_iq(xml, |iq| assert!(!is_stats_request(iq), "{xml}"));
    }
    assert_eq!(
        written(|w| write_stats_result(w, 3, 7, false)),
        "<stats xmlns='http://jitsi.org/protocol/colibri'>\
         <stat name='conferences' value='3'/><stat name='participants' value='7'/>\
         <stat name='graceful_shutdown' value='false'/></stats>"
    );
    assert!(
        written(|w| write_stats_result(w, 0, 0, true))
            .contains("<stat name='graceful_shutdown' value='true'/>")
    );
}

#[test]
fn shutdown_requests() {
    let kind = |xml: &str| with_iq(xml, shutdown_request);
    assert_eq!(
        kind(
            "<iq type='set' id='g'><graceful-shutdown xmlns='http://jitsi.org/protocol/colibri'/></iq>"
        ),
        Some(ShutdownRequest::Graceful)
    );
    assert_eq!(
        kind(
            "<iq type='set' id='g'><force-shutdown xmlns='http://jitsi.org/protocol/colibri'/></iq>"
        ),
        Some(ShutdownRequest::Force)
    );
    for xml in [
        "<iq type='get' id='g'><graceful-shutdown xmlns='http://jitsi.org/protocol/colibri'/></iq>",
        "<iq type='set' id='g'><graceful-shutdown xmlns='http://jitsi.org/protocol/focus'/></iq>",
        "<iq type='set' id='g'/>",
    ] {
        assert_eq!(kind(xml), None, "{xml}");
    }

    let admin = Jid::parse("Admin@Meet.Test").unwrap();
    let from = Jid::parse("admin@meet.test/script").unwrap();
    let other = Jid::parse("eve@meet.test/script").unwrap();
    let g = ShutdownRequest::Graceful;
    assert_eq!(authorize_shutdown(g, Some(&from), Some(&admin)), Ok(()));
    let forbidden = Err(StanzaError::new(Condition::Forbidden));
    assert_eq!(authorize_shutdown(g, Some(&other), Some(&admin)), forbidden);
    assert_eq!(authorize_shutdown(g, Some(&from), None), forbidden);
    assert_eq!(authorize_shutdown(g, None, Some(&admin)), forbidden);
    // A forced shutdown is refused as malformed before the sender is looked at.
    assert_eq!(
        authorize_shutdown(ShutdownRequest::Force, Some(&from), Some(&admin)),
        Err(StanzaError::new(Condition::BadRequest))
    );
}
