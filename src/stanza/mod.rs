//! Typed views of the XMPP stanzas the focus reads and writes.
//!
//! This layer sits between [`crate::xml`] (frames → element trees) and the
//! machines. Reading is zero-copy: [`Iq`], [`presence::Presence`] and
//! [`message::Message`] borrow the parsed frame and keep the root [`El`] so
//! callers reach any child they need; only values that outlive a frame
//! (errors, disco answers, JIDs) are owned. Writing goes straight into a
//! connection's output buffer through [`XmlWriter`]; every writer appends one
//! whole stanza.
//!
//! Addresses in the stanza views are the strings as received, not [`Jid`]s:
//! most stanzas are routed by comparing them, and parsing every `from` would
//! allocate per stanza. Callers that keep an address parse it then (and may
//! answer `jid-malformed`).
//!
//! Parsing never panics on any input: `fuzz` (built for `cargo fuzz` and
//! for tests) feeds arbitrary frames through [`Stanza::parse`], every
//! accessor and the reply writers.

pub mod colibri;
pub mod colibri2;
pub mod colibri_common;
#[cfg(any(fuzzing, test))]
pub mod colibri_fuzz;
pub mod disco;
pub mod error;
pub mod focus;
pub mod forms;
#[cfg(any(fuzzing, test))]
pub mod fuzz;
pub mod iq;
pub mod jid;
pub mod jingle;
pub mod message;
pub mod muc;
pub mod mute;
pub mod ping;
pub mod presence;
pub mod sources;

use std::borrow::Cow;

use crate::xml::{El, XmlWriter, ns};

pub use error::{AppCondition, Condition, ErrorType, StanzaError};
pub use iq::{Iq, IqType};
pub use jid::{Jid, JidError};
pub use message::Message;
pub use presence::{Presence, PresenceType};

/// Longest attribute value kept in a [`StanzaParseError`]; a hostile value
/// should not flood the log line that reports it.
const MAX_REPORTED_VALUE: usize = 64;

/// Why an element is not the stanza a caller asked for. The peer is at fault
/// in every case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StanzaParseError {
    /// A required attribute is absent (or holds an unknown entity).
    MissingAttribute(&'static str),
    /// An attribute holds a value outside its allowed set (the value, cut
    /// to 64 bytes).
    BadAttribute(&'static str, String),
    /// An address that must be a valid JID is not.
    BadJid(JidError),
    /// The element is not this kind of stanza or payload (what was expected).
    NotA(&'static str),
}

impl std::fmt::Display for StanzaParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StanzaParseError::MissingAttribute(a) => write!(f, "missing attribute '{a}'"),
            StanzaParseError::BadAttribute(a, v) => write!(f, "bad value {v:?} for '{a}'"),
            StanzaParseError::BadJid(e) => write!(f, "bad JID: {e}"),
            StanzaParseError::NotA(what) => write!(f, "not {what}"),
        }
    }
}

impl std::error::Error for StanzaParseError {}

impl From<JidError> for StanzaParseError {
    fn from(e: JidError) -> Self {
        StanzaParseError::BadJid(e)
    }
}

impl StanzaParseError {
    /// A `BadAttribute` whose reported value is cut on a char boundary.
    pub(crate) fn bad_attribute(name: &'static str, value: &str) -> Self {
        StanzaParseError::BadAttribute(name, cut(value))
    }
}

/// `value` cut to at most 64 bytes on a char boundary, for an error
/// report.
pub(crate) fn cut(value: &str) -> String {
    let mut end = value.len().min(MAX_REPORTED_VALUE);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value[..end].to_string()
}

/// Any of the three stanza kinds, for routing a frame by its root.
#[derive(Debug, Clone)]
pub enum Stanza<'a> {
    /// `<iq/>`
    Iq(Iq<'a>),
    /// `<presence/>`
    Presence(Presence<'a>),
    /// `<message/>`
    Message(Message<'a>),
}

impl<'a> Stanza<'a> {
    /// Parses a frame's root as whichever stanza it is.
    pub fn parse(el: El<'a>) -> Result<Stanza<'a>, StanzaParseError> {
        if !is_stanza_ns(el.ns()) {
            return Err(StanzaParseError::NotA("a stanza"));
        }
        match el.name() {
            "iq" => Iq::parse(el).map(Stanza::Iq),
            "presence" => Presence::parse(el).map(Stanza::Presence),
            "message" => Message::parse(el).map(Stanza::Message),
            _ => Err(StanzaParseError::NotA("a stanza")),
        }
    }

    /// The root element.
    pub fn el(&self) -> El<'a> {
        match self {
            Stanza::Iq(s) => s.el,
            Stanza::Presence(s) => s.el,
            Stanza::Message(s) => s.el,
        }
    }
}

/// True for the two content namespaces stanzas live in: `jabber:client` on
/// the c2s connection, `jabber:component:accept` on the component one.
pub fn is_stanza_ns(ns: &str) -> bool {
    ns == ns::CLIENT || ns == ns::COMPONENT
}

/// Reads an optional attribute, unescaped. A value with an unknown entity is
/// an error rather than silently absent: an id or address we cannot read
/// must not be mistaken for one that was never sent.
pub(crate) fn opt_attr<'a>(
    el: &El<'a>,
    name: &'static str,
) -> Result<Option<Cow<'a, str>>, StanzaParseError> {
    match el.attr_raw(name) {
        None => Ok(None),
        Some(raw) => match el.attr(name) {
            Some(v) => Ok(Some(v)),
            None => Err(StanzaParseError::bad_attribute(name, raw)),
        },
    }
}

/// Reads a required attribute, unescaped.
pub(crate) fn req_attr<'a>(
    el: &El<'a>,
    name: &'static str,
) -> Result<Cow<'a, str>, StanzaParseError> {
    opt_attr(el, name)?.ok_or(StanzaParseError::MissingAttribute(name))
}

/// Checks that `el` is the stanza `name` in one of the stanza namespaces;
/// `what` names the stanza in the error (`<iq/>`).
pub(crate) fn expect_stanza(
    el: &El<'_>,
    name: &str,
    what: &'static str,
) -> Result<(), StanzaParseError> {
    if el.name() != name || !is_stanza_ns(el.ns()) {
        return Err(StanzaParseError::NotA(what));
    }
    Ok(())
}

/// The head a message and a presence share: the `type` as the stanza reads
/// it, and the addressing as received.
pub(crate) struct Head<'a, T> {
    pub ty: T,
    pub from: Option<Cow<'a, str>>,
    pub to: Option<Cow<'a, str>>,
    pub id: Option<Cow<'a, str>>,
}

/// Reads a stanza's head, in this order (the first problem is the one
/// reported): the element ([`expect_stanza`]), its `type` through `ty`,
/// then `from`, `to` and `id` ([`opt_attr`]).
pub(crate) fn read_head<'a, T>(
    el: &El<'a>,
    name: &str,
    what: &'static str,
    ty: impl FnOnce(Option<Cow<'a, str>>) -> Result<T, StanzaParseError>,
) -> Result<Head<'a, T>, StanzaParseError> {
    expect_stanza(el, name, what)?;
    let ty = ty(opt_attr(el, "type")?)?;
    Ok(Head {
        ty,
        from: opt_attr(el, "from")?,
        to: opt_attr(el, "to")?,
        id: opt_attr(el, "id")?,
    })
}

/// The `<error/>` child of an error stanza, parsed; the child inherits the
/// stanza's namespace, but either stanza namespace is accepted. An error
/// stanza without one (a broken peer) still reads as `undefined-condition`,
/// so a caller matching on `Some` never takes a failure for a success.
pub(crate) fn error_child(el: &El<'_>) -> StanzaError {
    el.children()
        .find(|c| c.name() == "error" && is_stanza_ns(c.ns()))
        .map_or_else(
            || StanzaError::new(Condition::UndefinedCondition),
            StanzaError::parse,
        )
}

/// True when `s` can be written back as an element or attribute name
/// without a prefix: a non-empty NCName. quick-xml does not check names, so
/// the tree can hold "names" like `a'b=` or `:x`; writing one back would
/// produce XML the server rejects and close the stream. ASCII follows the
/// XML grammar; non-ASCII is accepted (the grammar allows nearly all of it).
pub fn is_xml_name(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let start = |c: char| c.is_ascii_alphabetic() || c == '_' || !c.is_ascii();
    start(first)
        && chars.all(|c| start(c) || c.is_ascii_digit() || c == '-' || c == '.')
        && !s.chars().any(char::is_control)
}

/// Opens a stanza with its common attributes; the caller adds the rest and
/// closes it.
pub(crate) fn open_stanza<'w, 'b>(
    w: &'w mut XmlWriter<'b>,
    name: &str,
    ty: Option<&str>,
    id: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> &'w mut XmlWriter<'b> {
    w.start(name)
        .attr_opt("type", ty)
        .attr_opt("id", id)
        .attr_opt("from", from)
        .attr_opt("to", to)
}

/// For tests: parses `xml` as a frame of a stream whose default namespace
/// is `default_ns` and hands its root to `f`.
#[cfg(test)]
pub(crate) fn with_root<R>(xml: &str, default_ns: &'static str, f: impl FnOnce(El<'_>) -> R) -> R {
    let mut p = crate::xml::Parser::new();
    let doc = p.parse(xml.as_bytes(), default_ns).unwrap();
    f(doc.root())
}

#[cfg(test)]
mod tests {
    use super::with_root as parse_with;
    use super::*;

    #[test]
    fn dispatches_by_root() {
        parse_with("<iq type='get' id='1'/>", ns::CLIENT, |el| {
            assert!(matches!(Stanza::parse(el), Ok(Stanza::Iq(_))));
        });
        parse_with("<presence/>", ns::COMPONENT, |el| {
            let s = Stanza::parse(el).unwrap();
            assert!(matches!(s, Stanza::Presence(_)));
            assert_eq!(s.el().name(), "presence");
        });
        parse_with("<message><body>hi</body></message>", ns::CLIENT, |el| {
            assert!(matches!(Stanza::parse(el), Ok(Stanza::Message(_))));
        });
        parse_with("<handshake/>", ns::COMPONENT, |el| {
            assert_eq!(
                Stanza::parse(el).unwrap_err(),
                StanzaParseError::NotA("a stanza")
            );
        });
        parse_with(
            "<iq xmlns='urn:other' type='get' id='1'/>",
            ns::CLIENT,
            |el| {
                assert!(Stanza::parse(el).is_err());
            },
        );
        parse_with("<stream:features/>", ns::CLIENT, |el| {
            assert!(Stanza::parse(el).is_err());
        });
    }

    #[test]
    fn attributes_with_unknown_entities_are_errors_not_absent() {
        parse_with("<iq id='a&bogus;' type='get'/>", ns::CLIENT, |el| {
            assert_eq!(
                opt_attr(&el, "id"),
                Err(StanzaParseError::BadAttribute("id", "a&bogus;".into()))
            );
            assert_eq!(opt_attr(&el, "to"), Ok(None));
            assert_eq!(
                req_attr(&el, "to"),
                Err(StanzaParseError::MissingAttribute("to"))
            );
            assert_eq!(req_attr(&el, "type").unwrap(), "get");
        });
    }

    #[test]
    fn reported_values_are_cut_on_char_boundaries() {
        // Three-byte chars: byte 64 falls inside one.
        let long = "€".repeat(100);
        match StanzaParseError::bad_attribute("type", &long) {
            StanzaParseError::BadAttribute("type", v) => {
                assert_eq!(v, "€".repeat(MAX_REPORTED_VALUE / 3));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            StanzaParseError::bad_attribute("type", "short"),
            StanzaParseError::BadAttribute("type", "short".into())
        );
    }

    #[test]
    fn xml_names() {
        for ok in ["a", "session-invalid", "_x.1", "é", "payload-type"] {
            assert!(is_xml_name(ok), "{ok}");
        }
        for bad in [
            "", "1a", "-a", ".a", "a:b", ":a", "a'b", "a=b", "a b", "a>", "a\u{85}",
        ] {
            assert!(!is_xml_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn display_of_parse_errors() {
        assert_eq!(
            StanzaParseError::MissingAttribute("id").to_string(),
            "missing attribute 'id'"
        );
        assert_eq!(
            StanzaParseError::bad_attribute("type", "got").to_string(),
            "bad value \"got\" for 'type'"
        );
        assert_eq!(
            StanzaParseError::from(JidError::EmptyDomain).to_string(),
            "bad JID: the JID has no domain"
        );
        assert_eq!(StanzaParseError::NotA("<iq/>").to_string(), "not <iq/>");
    }
}
