//! IQ stanzas (RFC 6120 §8.2.3): the request/response half of XMPP that
//! carries nearly everything the focus does (conference requests, Jingle,
//! Colibri, disco, ping).
//!
//! [`Iq::parse`] is a borrowed view; the writers append one whole `<iq/>` to
//! an output buffer. On the component connection every stanza we send must
//! carry `from` (the server does not stamp it), on c2s it may be left out, so
//! every writer takes `from: Option<&str>`.

use std::borrow::Cow;

use super::{
    StanzaError, StanzaParseError, error_child, expect_stanza, is_xml_name, open_stanza, req_attr,
};
use crate::xml::doc::unescape;
use crate::xml::{El, XmlWriter};

/// The four IQ types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IqType {
    /// A request for data.
    Get,
    /// A request that changes something.
    Set,
    /// A successful answer.
    Result,
    /// A failed answer.
    Error,
}

impl IqType {
    /// The attribute value on the wire.
    pub fn name(self) -> &'static str {
        match self {
            IqType::Get => "get",
            IqType::Set => "set",
            IqType::Result => "result",
            IqType::Error => "error",
        }
    }

    /// The type for an attribute value; `None` for anything else.
    pub fn from_name(name: &str) -> Option<IqType> {
        Some(match name {
            "get" => IqType::Get,
            "set" => IqType::Set,
            "result" => IqType::Result,
            "error" => IqType::Error,
            _ => return None,
        })
    }
}

/// A received IQ, borrowing its frame.
#[derive(Debug, Clone)]
pub struct Iq<'a> {
    /// The type.
    pub ty: IqType,
    /// The id, unescaped (RFC 6120 requires it on every IQ).
    pub id: Cow<'a, str>,
    /// The sender as received, not validated.
    pub from: Option<Cow<'a, str>>,
    /// The recipient as received, not validated.
    pub to: Option<Cow<'a, str>>,
    /// The first child element that is not `<error/>`: the request or
    /// answer payload. `None` for an empty result.
    pub payload: Option<El<'a>>,
    /// The `<iq/>` element itself.
    pub el: El<'a>,
}

impl<'a> Iq<'a> {
    /// Reads an `<iq/>` in `jabber:client` or `jabber:component:accept`.
    /// `id` and a valid `type` are required.
    pub fn parse(el: El<'a>) -> Result<Iq<'a>, StanzaParseError> {
        expect_stanza(&el, "iq", "<iq/>")?;
        let ty = req_attr(&el, "type")?;
        let ty =
            IqType::from_name(&ty).ok_or_else(|| StanzaParseError::bad_attribute("type", &ty))?;
        let id = req_attr(&el, "id")?;
        let from = super::opt_attr(&el, "from")?;
        let to = super::opt_attr(&el, "to")?;
        let stanza_ns = el.ns();
        // An error reply may echo the request payload before <error/>; that
        // copy is still the payload, and <error/> never is.
        let payload = el
            .children()
            .find(|c| !(c.name() == "error" && c.ns() == stanza_ns));
        Ok(Iq {
            ty,
            id,
            from,
            to,
            payload,
            el,
        })
    }

    /// For `type='error'`, the `<error/>` child parsed. An error IQ without
    /// one (a broken peer) still reads as `undefined-condition`, so a caller
    /// matching on `Some` never takes a failure for a success. `None` for
    /// every other type.
    pub fn error(&self) -> Option<StanzaError> {
        (self.ty == IqType::Error).then(|| error_child(&self.el))
    }

    /// True for `get` and `set`: IQs that must be answered.
    pub fn is_request(&self) -> bool {
        matches!(self.ty, IqType::Get | IqType::Set)
    }

    /// True when the payload has this name and namespace.
    pub fn payload_is(&self, name: &str, ns: &str) -> bool {
        self.payload.is_some_and(|p| p.is(name, ns))
    }
}

/// Writes `<iq type='result'>` with whatever `payload` writes (nothing gives
/// an empty result `<iq …/>`).
pub fn write_result(
    out: &mut Vec<u8>,
    id: &str,
    from: Option<&str>,
    to: Option<&str>,
    payload: impl FnOnce(&mut XmlWriter<'_>),
) {
    let mut w = XmlWriter::new(out);
    open_stanza(&mut w, "iq", Some("result"), Some(id), from, to);
    payload(&mut w);
    w.end();
}

/// Writes an empty `<iq type='result'/>`.
pub fn write_empty_result(out: &mut Vec<u8>, id: &str, from: Option<&str>, to: Option<&str>) {
    write_result(out, id, from, to, |_| {});
}

/// Writes a request (`ty` is `Get` or `Set`) with the payload the closure
/// writes.
pub fn write_request(
    out: &mut Vec<u8>,
    ty: IqType,
    id: &str,
    from: Option<&str>,
    to: &str,
    payload: impl FnOnce(&mut XmlWriter<'_>),
) {
    debug_assert!(
        matches!(ty, IqType::Get | IqType::Set),
        "write_request with type {}",
        ty.name()
    );
    let mut w = XmlWriter::new(out);
    open_stanza(&mut w, "iq", Some(ty.name()), Some(id), from, Some(to));
    payload(&mut w);
    w.end();
}

/// Writes an error answer to `request`: same id, addressed to the
/// requester, from `from` or, when that is `None`, from the address the
/// request was sent to (on c2s the server overwrites it anyway). As Jicofo
/// does, the request payload is echoed before `<error/>` (RFC 6120 §8.3.1
/// allows it), so the requester sees what failed.
///
/// Only answer requests: RFC 6120 §8.2.3 forbids answering a result or an
/// error, and this function does not check.
pub fn write_error_reply(
    out: &mut Vec<u8>,
    request: &Iq<'_>,
    from: Option<&str>,
    err: &StanzaError,
) {
    let from = from.or(request.to.as_deref());
    let mut w = XmlWriter::new(out);
    open_stanza(
        &mut w,
        "iq",
        Some("error"),
        Some(&request.id),
        from,
        request.from.as_deref(),
    );
    if let Some(p) = request.payload.filter(|p| echoable(*p, 1)) {
        // The reply is written without xmlns, so it lives in the same stream
        // namespace as the request; `copy` adds xmlns where the payload
        // differs from it.
        w.copy(p, request.el.ns());
    }
    err.write(&mut w);
    w.end();
}

/// How deep an echoed payload may nest: the writer holds at most 32 open
/// elements (and panics beyond), the parser accepts 64, and the echo sits
/// inside `<iq>`.
const MAX_ECHO_DEPTH: usize = 31;

/// Whether `XmlWriter::copy` reproduces `el` as well-formed XML inside our
/// reply. Three kinds of thing stop it: nesting deeper than the writer
/// holds; a qualified attribute (`p:a`) whose prefix may be declared on an
/// ancestor we do not copy; names or attribute values quick-xml let through
/// that are not XML (`:a='b'` as a name, a bare `&` in a value). The echo is
/// optional (RFC 6120 §8.3.1), so such a payload is left out rather than
/// risk a panic or a reply the server rejects as not well-formed.
fn echoable(el: El<'_>, depth: usize) -> bool {
    let attr_ok = |name: &str| match name.split_once(':') {
        None => is_xml_name(name),
        Some(("xmlns" | "xml", local)) => is_xml_name(local),
        Some(_) => false,
    };
    depth <= MAX_ECHO_DEPTH
        && is_xml_name(el.name())
        && el
            .raw_attrs()
            .all(|a| attr_ok(a.name) && unescape(a.raw_value).is_some())
        && el.children().all(|c| echoable(c, depth + 1))
}

/// Writes an error IQ without echoing anything: for requests we could not
/// parse into an [`Iq`] but can still answer (we know id and sender).
pub fn write_error(
    out: &mut Vec<u8>,
    id: &str,
    from: Option<&str>,
    to: Option<&str>,
    err: &StanzaError,
) {
    let mut w = XmlWriter::new(out);
    open_stanza(&mut w, "iq", Some("error"), Some(id), from, to);
    err.write(&mut w);
    w.end();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stanza::with_root as with;
    use crate::stanza::{Condition, ErrorType};
    use crate::xml::{Parser, ns};

    fn s(out: Vec<u8>) -> String {
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn parses_a_request_with_payload() {
        let xml = "<iq type='set' id='c1&amp;2' from='x9@guest.meet.test/r1' to='focus.meet.test'>\
            <conference xmlns='http://jitsi.org/protocol/focus' room='r@conference.meet.test'/></iq>";
        with(xml, ns::COMPONENT, |el| {
            let iq = Iq::parse(el).unwrap();
            assert_eq!(iq.ty, IqType::Set);
            assert_eq!(iq.id, "c1&2");
            assert_eq!(iq.from.as_deref(), Some("x9@guest.meet.test/r1"));
            assert_eq!(iq.to.as_deref(), Some("focus.meet.test"));
            assert!(iq.is_request());
            assert!(iq.payload_is("conference", ns::FOCUS));
            assert!(!iq.payload_is("conference", ns::COLIBRI));
            assert_eq!(iq.error(), None);
        });
    }

    #[test]
    fn every_type_parses() {
        for (t, want) in [
            ("get", IqType::Get),
            ("set", IqType::Set),
            ("result", IqType::Result),
            ("error", IqType::Error),
        ] {
            let xml = format!("<iq type='{t}' id='1'/>");
            with(&xml, ns::CLIENT, |el| {
                let iq = Iq::parse(el).unwrap();
                assert_eq!(iq.ty, want);
                assert_eq!(iq.ty.name(), t);
                assert_eq!(iq.is_request(), t == "get" || t == "set");
            });
        }
    }

    #[test]
    fn missing_or_bad_id_and_type_are_errors() {
        let cases: &[(&str, StanzaParseError)] = &[
            ("<iq type='get'/>", StanzaParseError::MissingAttribute("id")),
            ("<iq id='1'/>", StanzaParseError::MissingAttribute("type")),
            (
                "<iq id='1' type='GET'/>",
                StanzaParseError::BadAttribute("type", "GET".into()),
            ),
            (
                "<iq id='1' type=''/>",
                StanzaParseError::BadAttribute("type", "".into()),
            ),
            (
                "<iq id='&nope;' type='get'/>",
                StanzaParseError::BadAttribute("id", "&nope;".into()),
            ),
            (
                "<presence type='get' id='1'/>",
                StanzaParseError::NotA("<iq/>"),
            ),
            (
                "<iq xmlns='urn:x' type='get' id='1'/>",
                StanzaParseError::NotA("<iq/>"),
            ),
        ];
        for (xml, want) in cases {
            with(xml, ns::CLIENT, |el| {
                assert_eq!(Iq::parse(el).unwrap_err(), *want, "{xml}");
            });
        }
    }

    #[test]
    fn component_and_client_namespaces_both_accepted() {
        for default_ns in [ns::CLIENT, ns::COMPONENT] {
            with("<iq type='result' id='k'/>", default_ns, |el| {
                let iq = Iq::parse(el).unwrap();
                assert_eq!(iq.el.ns(), default_ns);
                assert!(iq.payload.is_none());
            });
        }
    }

    #[test]
    fn payload_skips_error_child() {
        let xml = "<iq type='error' id='7' from='jvb.meet.test' to='focus@auth.meet.test/f'>\
            <error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
            <error xmlns='jitsi:colibri2' reason='graceful_shutdown'/></error>\
            <conference-modify xmlns='jitsi:colibri2' meeting-id='m'/></iq>";
        with(xml, ns::CLIENT, |el| {
            let iq = Iq::parse(el).unwrap();
            assert!(iq.payload_is("conference-modify", ns::COLIBRI2));
            let e = iq.error().unwrap();
            assert_eq!(e.condition, Condition::ServiceUnavailable);
            assert_eq!(
                e.app(ns::COLIBRI2).unwrap().attr("reason"),
                Some("graceful_shutdown")
            );
        });
        // Only <error/> in the stanza namespace is skipped.
        with(
            "<iq type='result' id='1'><error xmlns='urn:x'/></iq>",
            ns::CLIENT,
            |el| {
                assert!(Iq::parse(el).unwrap().payload_is("error", "urn:x"));
            },
        );
    }

    #[test]
    fn error_child_must_be_in_the_stanza_namespace() {
        let xml = "<iq type='error' id='1'><error xmlns='jitsi:colibri2' reason='x'/>\
            <error type='wait'><resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
            </error></iq>";
        with(xml, ns::COMPONENT, |el| {
            let iq = Iq::parse(el).unwrap();
            assert!(iq.payload_is("error", ns::COLIBRI2));
            assert_eq!(iq.error().unwrap().condition, Condition::ResourceConstraint);
        });
    }

    #[test]
    fn error_iq_without_error_child_is_still_an_error() {
        with("<iq type='error' id='1'/>", ns::CLIENT, |el| {
            let e = Iq::parse(el).unwrap().error().unwrap();
            assert_eq!(e.condition, Condition::UndefinedCondition);
        });
    }

    #[test]
    fn writes_results_and_requests() {
        let mut out = Vec::new();
        write_empty_result(
            &mut out,
            "a'1",
            Some("focus.meet.test"),
            Some("u@meet.test/r"),
        );
        assert_eq!(
            s(out),
            "<iq type='result' id='a&apos;1' from='focus.meet.test' to='u@meet.test/r'/>"
        );

        let mut out = Vec::new();
        write_result(&mut out, "2", None, Some("u@meet.test/r"), |w| {
            w.start_ns("conference", ns::FOCUS)
                .attr("ready", "true")
                .end();
        });
        assert_eq!(
            s(out),
            "<iq type='result' id='2' to='u@meet.test/r'>\
             <conference xmlns='http://jitsi.org/protocol/focus' ready='true'/></iq>"
        );

        let mut out = Vec::new();
        write_request(&mut out, IqType::Get, "3", None, "jvb.meet.test", |w| {
            w.start_ns("stats", ns::COLIBRI).end();
        });
        assert_eq!(
            s(out),
            "<iq type='get' id='3' to='jvb.meet.test'>\
             <stats xmlns='http://jitsi.org/protocol/colibri'/></iq>"
        );
    }

    #[test]
    fn written_request_parses_back() {
        let mut out = Vec::new();
        write_request(
            &mut out,
            IqType::Set,
            "q&1",
            Some("f@a.test/x"),
            "b.test",
            |w| {
                w.start_ns("query", "urn:q").text("x").end();
            },
        );
        with(std::str::from_utf8(&out).unwrap(), ns::CLIENT, |el| {
            let iq = Iq::parse(el).unwrap();
            assert_eq!(iq.ty, IqType::Set);
            assert_eq!(iq.id, "q&1");
            assert_eq!(iq.from.as_deref(), Some("f@a.test/x"));
            assert_eq!(iq.to.as_deref(), Some("b.test"));
            assert_eq!(iq.payload.unwrap().text(), "x");
        });
    }

    #[test]
    fn error_reply_echoes_payload_and_swaps_addresses() {
        let xml = "<iq type='set' id='c3' from='x9y8@guest.meet.test/r1' to='focus.meet.test'>\
            <conference xmlns='http://jitsi.org/protocol/focus' room='new@conference.meet.test' \
            session-id='0b6c'><property name='a' value='&lt;'/></conference></iq>";
        let err = StanzaError::new(Condition::NotAcceptable)
            .with_text("invalid session")
            .with_app("session-invalid", ns::FOCUS, &[]);
        let mut out = Vec::new();
        with(xml, ns::COMPONENT, |el| {
            let iq = Iq::parse(el).unwrap();
            write_error_reply(&mut out, &iq, None, &err);
        });
        let reply = s(out);
        assert_eq!(
            reply,
            "<iq type='error' id='c3' from='focus.meet.test' to='x9y8@guest.meet.test/r1'>\
             <conference xmlns='http://jitsi.org/protocol/focus' room='new@conference.meet.test' \
             session-id='0b6c'><property name='a' value='&lt;'/></conference>\
             <error type='modify'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>invalid session</text>\
             <session-invalid xmlns='http://jitsi.org/protocol/focus'/></error></iq>"
        );
        // The reply reads back as the same error with the echoed payload.
        with(&reply, ns::COMPONENT, |el| {
            let iq = Iq::parse(el).unwrap();
            assert_eq!(iq.ty, IqType::Error);
            assert!(iq.payload_is("conference", ns::FOCUS));
            assert_eq!(iq.error(), Some(err.clone()));
        });
    }

    #[test]
    fn error_reply_leaves_out_payloads_it_cannot_copy_faithfully() {
        let err = StanzaError::new(Condition::BadRequest);
        let reply = |xml: &str| {
            let mut out = Vec::new();
            with(xml, ns::CLIENT, |el| {
                write_error_reply(&mut out, &Iq::parse(el).unwrap(), None, &err);
            });
            s(out)
        };
        let bare = "<iq type='error' id='1'><error type='modify'>\
            <bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>";
        // Deeper than the writer can nest: echoing would panic.
        let deep = format!(
            "<iq type='get' id='1'>{}{}</iq>",
            "<a>".repeat(40),
            "</a>".repeat(40)
        );
        assert_eq!(reply(&deep), bare);
        // Exactly as deep as it can nest: echoed.
        let fits = format!(
            "<iq type='get' id='1'>{}{}</iq>",
            "<a>".repeat(31),
            "</a>".repeat(31)
        );
        assert!(reply(&fits).starts_with("<iq type='error' id='1'><a><a>"));
        // A prefixed attribute declared on the <iq>: the copy would be unbound.
        let prefixed = "<iq xmlns:p='urn:p' type='get' id='1'><q xmlns='urn:q' p:a='1'/></iq>";
        assert_eq!(reply(prefixed), bare);
        // Names quick-xml accepts but XML does not: copying would break.
        // (the parser now refuses them before they get here)
        let odd = "<iq type='get' id='1'><:a='b'/></iq>";
        assert!(Parser::new().parse(odd.as_bytes(), ns::CLIENT).is_err());
        let amp = "<iq type='get' id='1'><q xmlns='urn:q' a='x&y'/></iq>";
        assert_eq!(reply(amp), bare);
        // xml:lang needs no declaration and is echoed.
        let lang = "<iq type='get' id='1'><q xmlns='urn:q' xml:lang='en'/></iq>";
        assert!(reply(lang).contains("<q xmlns='urn:q' xml:lang='en'/>"));
    }

    #[test]
    fn error_reply_with_explicit_from_and_no_payload() {
        let mut out = Vec::new();
        with(
            "<iq type='get' id='p' from='meet.test'/>",
            ns::CLIENT,
            |el| {
                let iq = Iq::parse(el).unwrap();
                let err =
                    StanzaError::new(Condition::FeatureNotImplemented).with_type(ErrorType::Modify);
                write_error_reply(&mut out, &iq, Some("focus@auth.meet.test/f"), &err);
            },
        );
        assert_eq!(
            s(out),
            "<iq type='error' id='p' from='focus@auth.meet.test/f' to='meet.test'>\
             <error type='modify'><feature-not-implemented \
             xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
        );
    }

    #[test]
    fn error_without_echo() {
        let mut out = Vec::new();
        write_error(
            &mut out,
            "z",
            Some("focus.meet.test"),
            Some("u@meet.test/r"),
            &StanzaError::new(Condition::BadRequest).with_text("No 'room' specified."),
        );
        assert_eq!(
            s(out),
            "<iq type='error' id='z' from='focus.meet.test' to='u@meet.test/r'>\
             <error type='modify'><bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>No 'room' specified.</text>\
             </error></iq>"
        );
    }
}
