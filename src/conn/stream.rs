//! What both stream machines share: stream headers, stream errors and the
//! RFC 6120 §4.9.3 conditions, told apart by who is at fault, and the steps
//! both take on a received frame (reading the header, parsing a stanza,
//! answering the server's close).

use super::ConnError;
use crate::xml::{Doc, El, Parser, XmlWriter, ns};

/// RFC 6120 §4.9.3 stream error conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamCondition {
    /// `bad-format`
    BadFormat,
    /// `bad-namespace-prefix`
    BadNamespacePrefix,
    /// `conflict`: another stream took our identity (a second focus).
    Conflict,
    /// `connection-timeout`
    ConnectionTimeout,
    /// `host-gone`
    HostGone,
    /// `host-unknown`: the server serves no such (component) domain.
    HostUnknown,
    /// `improper-addressing`
    ImproperAddressing,
    /// `internal-server-error`
    InternalServerError,
    /// `invalid-from`: a stanza's `from` is outside our domain.
    InvalidFrom,
    /// `invalid-namespace`
    InvalidNamespace,
    /// `invalid-xml`
    InvalidXml,
    /// `not-authorized`: wrong component secret, or stanzas before auth.
    NotAuthorized,
    /// `not-well-formed`
    NotWellFormed,
    /// `policy-violation`: for us, a stanza over the size limit.
    PolicyViolation,
    /// `remote-connection-failed`
    RemoteConnectionFailed,
    /// `reset`
    Reset,
    /// `resource-constraint`
    ResourceConstraint,
    /// `restricted-xml`
    RestrictedXml,
    /// `see-other-host`
    SeeOtherHost,
    /// `system-shutdown`: the server is going down.
    SystemShutdown,
    /// `undefined-condition`
    UndefinedCondition,
    /// `unsupported-encoding`
    UnsupportedEncoding,
    /// `unsupported-feature`
    UnsupportedFeature,
    /// `unsupported-stanza-type`
    UnsupportedStanzaType,
    /// `unsupported-version`
    UnsupportedVersion,
}

const CONDITIONS: &[(StreamCondition, &str)] = &[
    (StreamCondition::BadFormat, "bad-format"),
    (StreamCondition::BadNamespacePrefix, "bad-namespace-prefix"),
    (StreamCondition::Conflict, "conflict"),
    (StreamCondition::ConnectionTimeout, "connection-timeout"),
    (StreamCondition::HostGone, "host-gone"),
    (StreamCondition::HostUnknown, "host-unknown"),
    (StreamCondition::ImproperAddressing, "improper-addressing"),
    (
        StreamCondition::InternalServerError,
        "internal-server-error",
    ),
    (StreamCondition::InvalidFrom, "invalid-from"),
    (StreamCondition::InvalidNamespace, "invalid-namespace"),
    (StreamCondition::InvalidXml, "invalid-xml"),
    (StreamCondition::NotAuthorized, "not-authorized"),
    (StreamCondition::NotWellFormed, "not-well-formed"),
    (StreamCondition::PolicyViolation, "policy-violation"),
    (
        StreamCondition::RemoteConnectionFailed,
        "remote-connection-failed",
    ),
    (StreamCondition::Reset, "reset"),
    (StreamCondition::ResourceConstraint, "resource-constraint"),
    (StreamCondition::RestrictedXml, "restricted-xml"),
    (StreamCondition::SeeOtherHost, "see-other-host"),
    (StreamCondition::SystemShutdown, "system-shutdown"),
    (StreamCondition::UndefinedCondition, "undefined-condition"),
    (StreamCondition::UnsupportedEncoding, "unsupported-encoding"),
    (StreamCondition::UnsupportedFeature, "unsupported-feature"),
    (
        StreamCondition::UnsupportedStanzaType,
        "unsupported-stanza-type",
    ),
    (StreamCondition::UnsupportedVersion, "unsupported-version"),
];

impl StreamCondition {
    /// The element name on the wire.
    pub fn name(self) -> &'static str {
        CONDITIONS
            .iter()
            .find(|(c, _)| *c == self)
            .map(|(_, n)| *n)
            .unwrap_or("undefined-condition")
    }

    /// The condition for an element name; unknown names are `undefined-condition`.
    pub fn from_name(name: &str) -> StreamCondition {
        CONDITIONS
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(c, _)| *c)
            .unwrap_or(StreamCondition::UndefinedCondition)
    }
}

/// A stream error as received: condition and optional text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamError {
    /// The defined condition.
    pub condition: StreamCondition,
    /// Human-readable text the server added, if any.
    pub text: Option<String>,
}

impl StreamError {
    /// Reads `<stream:error>`; `None` when `el` is not one.
    pub fn parse(el: El<'_>) -> Option<StreamError> {
        if !el.is("error", ns::STREAMS) {
            return None;
        }
        let mut condition = StreamCondition::UndefinedCondition;
        let mut text = None;
        for c in el.children().filter(|c| c.ns() == ns::STREAM_ERRORS) {
            if c.name() == "text" {
                text = Some(c.text().into_owned());
            } else {
                condition = StreamCondition::from_name(c.name());
            }
        }
        Some(StreamError { condition, text })
    }
}

impl std::fmt::Display for StreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.condition.name())?;
        if let Some(t) = &self.text {
            write!(f, " ({t})")?;
        }
        Ok(())
    }
}

/// Writes our stream header. `content_ns` is `jabber:client` or
/// `jabber:component:accept`; `version` is omitted for XEP-0114 streams.
pub fn write_stream_header(
    out: &mut Vec<u8>,
    content_ns: &str,
    to: &str,
    from: Option<&str>,
    version: bool,
) {
    out.extend_from_slice(b"<?xml version='1.0'?>");
    let mut w = XmlWriter::new(out);
    w.start("stream:stream")
        .attr("xmlns", content_ns)
        .attr("xmlns:stream", ns::STREAMS)
        .attr("to", to);
    w.attr_opt("from", from);
    if version {
        w.attr("version", "1.0");
    }
    // The header stays open for the life of the stream: close only the start tag.
    out.push(b'>');
}

/// Writes a stream error followed by the stream close.
pub fn write_stream_error(out: &mut Vec<u8>, condition: StreamCondition, text: Option<&str>) {
    let mut w = XmlWriter::new(out);
    w.start("stream:error");
    w.start_ns(condition.name(), ns::STREAM_ERRORS).end();
    if let Some(t) = text {
        w.start_ns("text", ns::STREAM_ERRORS).text(t).end();
    }
    w.end();
    out.extend_from_slice(STREAM_CLOSE);
}

/// The closing tag of a stream.
pub const STREAM_CLOSE: &[u8] = b"</stream:stream>";

/// Fields of a received stream header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamHeader {
    /// Stream id (`id`), required for the XEP-0114 handshake.
    pub id: Option<String>,
    /// The server's name for itself (`from`).
    pub from: Option<String>,
    /// `version`; absent on XEP-0114 streams.
    pub version: Option<String>,
}

impl StreamHeader {
    /// Reads a stream header parsed as an open tag, checking the element and
    /// the content namespace.
    pub fn parse(root: El<'_>, content_ns: &str) -> Result<StreamHeader, StreamCondition> {
        if root.name() != "stream" {
            return Err(StreamCondition::NotWellFormed);
        }
        if root.ns() != ns::STREAMS {
            return Err(StreamCondition::InvalidNamespace);
        }
        // The content namespace must be the one this kind of stream speaks.
        if root.declared_ns().is_some_and(|d| d != content_ns) {
            return Err(StreamCondition::InvalidNamespace);
        }
        Ok(StreamHeader {
            id: root.attr("id").map(|v| v.into_owned()),
            from: root.attr("from").map(|v| v.into_owned()),
            version: root.attr("version").map(|v| v.into_owned()),
        })
    }
}

/// Reads the server's stream header frame: parses the open tag and checks
/// it with [`StreamHeader::parse`]. The error is the stream error to send
/// and ours.
pub(crate) fn read_header(
    parser: &mut Parser,
    frame: &[u8],
    content_ns: &str,
) -> Result<StreamHeader, (StreamCondition, ConnError)> {
    let header = match parser.parse_open_tag(frame) {
        Ok(doc) => StreamHeader::parse(doc.root(), content_ns),
        Err(_) => Err(StreamCondition::NotWellFormed),
    };
    header.map_err(|cond| (cond, ConnError::Protocol("an invalid stream header".into())))
}

/// Parses a stanza frame. One that is not XML is the server's fault: the
/// error is the stream error to send and ours.
pub(crate) fn parse_stanza<'a>(
    parser: &'a mut Parser,
    frame: &'a [u8],
    content_ns: &'static str,
) -> Result<Doc<'a>, (StreamCondition, ConnError)> {
    parser.parse(frame, content_ns).map_err(|e| {
        (
            StreamCondition::NotWellFormed,
            ConnError::Malformed(e.to_string()),
        )
    })
}

/// The server sent `</stream:stream>`. When we closed first (`closing`) the
/// close is the answer we waited for; otherwise we answer with ours and the
/// stream ended unexpectedly.
pub(crate) fn answer_close(out: &mut Vec<u8>, closing: bool) -> Result<(), ConnError> {
    if closing {
        Ok(())
    } else {
        out.extend_from_slice(STREAM_CLOSE);
        Err(ConnError::Closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::Parser;

    #[test]
    fn parses_stream_errors() {
        let mut p = Parser::new();
        let doc = p
            .parse(
                b"<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
                  <text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>bad secret</text></stream:error>",
                ns::COMPONENT,
            )
            .unwrap();
        let e = StreamError::parse(doc.root()).unwrap();
        assert_eq!(e.condition, StreamCondition::NotAuthorized);
        assert_eq!(e.text.as_deref(), Some("bad secret"));
        assert_eq!(e.to_string(), "not-authorized (bad secret)");
    }

    #[test]
    fn every_condition_round_trips_by_name() {
        for (c, n) in CONDITIONS {
            assert_eq!(c.name(), *n);
            assert_eq!(StreamCondition::from_name(n), *c);
        }
        assert_eq!(
            StreamCondition::from_name("x-new"),
            StreamCondition::UndefinedCondition
        );
    }

    #[test]
    fn header_written_and_read_back() {
        let mut out = Vec::new();
        write_stream_header(&mut out, ns::CLIENT, "auth.meet.test", None, true);
        let s = String::from_utf8(out.clone()).unwrap();
        assert_eq!(
            s,
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
             xmlns:stream='http://etherx.jabber.org/streams' to='auth.meet.test' version='1.0'>"
        );
        let mut p = Parser::new();
        let doc = p.parse_open_tag(&out[21..]).unwrap();
        let h = StreamHeader::parse(doc.root(), ns::CLIENT).unwrap();
        assert_eq!(h.version.as_deref(), Some("1.0"));
        let doc = p.parse_open_tag(&out[21..]).unwrap();
        assert_eq!(
            StreamHeader::parse(doc.root(), ns::COMPONENT),
            Err(StreamCondition::InvalidNamespace)
        );
    }

    #[test]
    fn stream_error_written() {
        let mut out = Vec::new();
        write_stream_error(&mut out, StreamCondition::PolicyViolation, Some("too big"));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
             <text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>too big</text></stream:error></stream:stream>"
        );
    }
}
