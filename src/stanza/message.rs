//! Message stanzas (RFC 6121 §5). The focus reads few: MUC room
//! notifications and errors, and Jitsi's JSON messages addressed to it. The
//! `type` is kept as received (a string) because RFC 6121 §5.2.2 says an
//! unknown message type is treated as `normal`, not rejected.

use std::borrow::Cow;

use super::{Head, StanzaError, StanzaParseError, error_child, open_stanza, read_head};
use crate::xml::{El, XmlWriter};

/// A received message, borrowing its frame.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    /// The `type` as received (`chat`, `groupchat`, `headline`, `normal`,
    /// `error`); `None` when absent, which means `normal`.
    pub ty: Option<Cow<'a, str>>,
    /// The sender as received.
    pub from: Option<Cow<'a, str>>,
    /// The recipient as received.
    pub to: Option<Cow<'a, str>>,
    /// The id, if any.
    pub id: Option<Cow<'a, str>>,
    /// The `<message/>` element itself.
    pub el: El<'a>,
}

impl<'a> Message<'a> {
    /// Reads a `<message/>` in either stanza namespace.
    pub fn parse(el: El<'a>) -> Result<Message<'a>, StanzaParseError> {
        let Head { ty, from, to, id } = read_head(&el, "message", "<message/>", Ok)?;
        Ok(Message {
            ty,
            from,
            to,
            id,
            el,
        })
    }

    /// The text of the first `<body/>` in the stanza namespace, unescaped.
    /// Bodies in other languages (`xml:lang`) are not told apart: the first
    /// one wins.
    pub fn body(&self) -> Option<Cow<'a, str>> {
        self.el.child("body", self.el.ns()).map(|b| b.text())
    }

    /// The `<subject/>` text (a MUC room subject change), if any.
    pub fn subject(&self) -> Option<Cow<'a, str>> {
        self.el.child("subject", self.el.ns()).map(|s| s.text())
    }

    /// True for `type='error'`.
    pub fn is_error(&self) -> bool {
        self.ty.as_deref() == Some("error")
    }

    /// For `type='error'`, the `<error/>` child parsed (`undefined-condition`
    /// when the peer left it out); `None` otherwise.
    pub fn error(&self) -> Option<StanzaError> {
        self.is_error().then(|| error_child(&self.el))
    }
}

/// Writes a message with an optional body and whatever else the closure
/// writes after it.
pub fn write_message(
    out: &mut Vec<u8>,
    ty: Option<&str>,
    id: Option<&str>,
    from: Option<&str>,
    to: &str,
    body: Option<&str>,
    extra: impl FnOnce(&mut XmlWriter<'_>),
) {
    let mut w = XmlWriter::new(out);
    open_stanza(&mut w, "message", ty, id, from, Some(to));
    if let Some(b) = body {
        w.text_element("body", b);
    }
    extra(&mut w);
    w.end();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stanza::Condition;
    use crate::stanza::with_root as with;
    use crate::xml::ns;

    #[test]
    fn parses_a_groupchat_message() {
        let xml = "<message type='groupchat' id='m1' from='room@conference.meet.test/ab12' \
            to='focus@auth.meet.test/f'><body>a &lt; b <![CDATA[& c]]></body>\
            <json-message xmlns='http://jitsi.org/jitmeet'>{\"x\":1}</json-message></message>";
        with(xml, ns::CLIENT, |el| {
            let m = Message::parse(el).unwrap();
            assert_eq!(m.ty.as_deref(), Some("groupchat"));
            assert_eq!(m.id.as_deref(), Some("m1"));
            assert_eq!(m.from.as_deref(), Some("room@conference.meet.test/ab12"));
            assert_eq!(m.to.as_deref(), Some("focus@auth.meet.test/f"));
            assert_eq!(m.body().as_deref(), Some("a < b & c"));
            assert_eq!(m.subject(), None);
            assert!(!m.is_error());
            assert_eq!(m.error(), None);
            assert_eq!(
                m.el.child("json-message", ns::JITMEET).unwrap().text(),
                "{\"x\":1}"
            );
        });
    }

    #[test]
    fn absent_type_and_body() {
        with(
            "<message><subject>Room</subject></message>",
            ns::COMPONENT,
            |el| {
                let m = Message::parse(el).unwrap();
                assert_eq!(m.ty, None);
                assert_eq!(m.body(), None);
                assert_eq!(m.subject().as_deref(), Some("Room"));
                assert_eq!(m.from, None);
            },
        );
        // On the component stream the body is in the component namespace.
        with("<message><body>c</body></message>", ns::COMPONENT, |el| {
            assert_eq!(Message::parse(el).unwrap().body().as_deref(), Some("c"));
        });
        // A body in a foreign namespace is not the message body.
        with(
            "<message><body xmlns='urn:x'>no</body></message>",
            ns::CLIENT,
            |el| {
                assert_eq!(Message::parse(el).unwrap().body(), None);
            },
        );
        // An unknown type is kept, not rejected.
        with("<message type='x-new'/>", ns::CLIENT, |el| {
            assert_eq!(Message::parse(el).unwrap().ty.as_deref(), Some("x-new"));
        });
    }

    #[test]
    fn error_message() {
        let xml = "<message type='error' from='room@conference.meet.test'>\
            <error type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>";
        with(xml, ns::CLIENT, |el| {
            let m = Message::parse(el).unwrap();
            assert!(m.is_error());
            assert_eq!(m.error().unwrap().condition, Condition::Forbidden);
        });
    }

    #[test]
    fn rejects_non_messages_and_bad_attributes() {
        with("<iq type='get' id='1'/>", ns::CLIENT, |el| {
            assert_eq!(
                Message::parse(el).unwrap_err(),
                StanzaParseError::NotA("<message/>")
            );
        });
        with("<message to='&bad;'/>", ns::CLIENT, |el| {
            assert_eq!(
                Message::parse(el).unwrap_err(),
                StanzaParseError::BadAttribute("to", "&bad;".into())
            );
        });
    }

    #[test]
    fn write_then_parse() {
        let mut out = Vec::new();
        write_message(
            &mut out,
            Some("chat"),
            Some("i'1"),
            Some("focus.meet.test"),
            "u@meet.test/r",
            Some("hi & bye"),
            |w| {
                w.start_ns("json-message", ns::JITMEET).text("{}").end();
            },
        );
        let xml = String::from_utf8(out).unwrap();
        assert_eq!(
            xml,
            "<message type='chat' id='i&apos;1' from='focus.meet.test' to='u@meet.test/r'>\
             <body>hi &amp; bye</body><json-message xmlns='http://jitsi.org/jitmeet'>{}</json-message>\
             </message>"
        );
        with(&xml, ns::CLIENT, |el| {
            let m = Message::parse(el).unwrap();
            assert_eq!(m.id.as_deref(), Some("i'1"));
            assert_eq!(m.body().as_deref(), Some("hi & bye"));
        });
    }
}
