//! The pieces Colibri v1 and Colibri2 share: media types, RTP payload types
//! and header extensions, SSRC sources and groups, and the bridge's ICE
//! transport kept verbatim.
//!
//! These are deliberately small, owned holders. The Jingle layer defines its
//! own richer types for the same wire elements; until the two are unified,
//! conversions go through the wire form: [`IceTransport::parse`] accepts any
//! `<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'/>` element,
//! wherever it was found, and [`IceTransport::write`] puts it back exactly as
//! received.
//!
//! Parsing never panics; a value that cannot be read is a
//! [`ColibriParseError`] naming the element and attribute.

use std::borrow::Cow;
use std::str::FromStr;

use super::is_xml_name;
use crate::xml::doc::unescape;
use crate::xml::{El, XmlWriter, ns};

/// Longest value kept in an error: a hostile value must not flood a log line.
const MAX_REPORTED_VALUE: usize = 64;

/// Why a Colibri element could not be read. The peer is at fault in every
/// case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColibriParseError {
    /// The element is not what the caller asked for (what was expected).
    NotA(&'static str),
    /// A required attribute is absent.
    MissingAttribute {
        /// The element that lacks it.
        element: &'static str,
        /// The attribute.
        attribute: &'static str,
    },
    /// An attribute holds a value we cannot use (cut to 64 bytes).
    BadAttribute {
        /// The element that carries it.
        element: &'static str,
        /// The attribute.
        attribute: &'static str,
        /// The value as received.
        value: String,
    },
    /// An element's text is not what it must be (cut to 64 bytes).
    BadText {
        /// The element.
        element: &'static str,
        /// The text as received.
        value: String,
    },
    /// An element sits where it cannot (what and where).
    Misplaced(&'static str),
    /// A transport that cannot be stored and written back as well-formed XML
    /// (why).
    Unstorable(&'static str),
}

impl std::fmt::Display for ColibriParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ColibriParseError::NotA(what) => write!(f, "not {what}"),
            ColibriParseError::MissingAttribute { element, attribute } => {
                write!(f, "<{element}/> without '{attribute}'")
            }
            ColibriParseError::BadAttribute {
                element,
                attribute,
                value,
            } => write!(f, "bad value {value:?} for '{attribute}' of <{element}/>"),
            ColibriParseError::BadText { element, value } => {
                write!(f, "bad text {value:?} in <{element}/>")
            }
            ColibriParseError::Misplaced(what) => write!(f, "misplaced {what}"),
            ColibriParseError::Unstorable(why) => write!(f, "transport cannot be stored: {why}"),
        }
    }
}

impl std::error::Error for ColibriParseError {}

/// `value` cut to at most 64 bytes on a char boundary.
pub(crate) fn cut(value: &str) -> String {
    let mut end = value.len().min(MAX_REPORTED_VALUE);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value[..end].to_string()
}

pub(crate) fn bad_attr(
    element: &'static str,
    attribute: &'static str,
    v: &str,
) -> ColibriParseError {
    ColibriParseError::BadAttribute {
        element,
        attribute,
        value: cut(v),
    }
}

/// An optional attribute, unescaped. A value with an unknown entity is an
/// error, not absent: an id we cannot read must not pass for one never sent.
pub(crate) fn opt<'a>(
    el: &El<'a>,
    element: &'static str,
    attribute: &'static str,
) -> Result<Option<Cow<'a, str>>, ColibriParseError> {
    match el.attr_raw(attribute) {
        None => Ok(None),
        Some(raw) => el
            .attr(attribute)
            .map(Some)
            .ok_or_else(|| bad_attr(element, attribute, raw)),
    }
}

/// An optional attribute as an owned string.
pub(crate) fn opt_owned(
    el: &El<'_>,
    element: &'static str,
    attribute: &'static str,
) -> Result<Option<String>, ColibriParseError> {
    Ok(opt(el, element, attribute)?.map(Cow::into_owned))
}

/// A required attribute, unescaped.
pub(crate) fn req<'a>(
    el: &El<'a>,
    element: &'static str,
    attribute: &'static str,
) -> Result<Cow<'a, str>, ColibriParseError> {
    opt(el, element, attribute)?.ok_or(ColibriParseError::MissingAttribute { element, attribute })
}

/// An optional number attribute. Java's `parseInt`/`parseLong` (what the
/// bridge and Jicofo use) accept what Rust's `from_str` accepts for
/// integers: an optional sign and digits, no spaces.
pub(crate) fn opt_num<T: FromStr>(
    el: &El<'_>,
    element: &'static str,
    attribute: &'static str,
) -> Result<Option<T>, ColibriParseError> {
    match opt(el, element, attribute)? {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| bad_attr(element, attribute, &v)),
    }
}

/// A required number attribute.
pub(crate) fn req_num<T: FromStr>(
    el: &El<'_>,
    element: &'static str,
    attribute: &'static str,
) -> Result<T, ColibriParseError> {
    opt_num(el, element, attribute)?
        .ok_or(ColibriParseError::MissingAttribute { element, attribute })
}

/// An optional boolean attribute read as Java's `Boolean.parseBoolean`
/// reads it (the bridge and Jicofo both do): `true` in any case is true,
/// anything else is false.
pub(crate) fn opt_java_bool(
    el: &El<'_>,
    element: &'static str,
    attribute: &'static str,
) -> Result<Option<bool>, ColibriParseError> {
    Ok(opt(el, element, attribute)?.map(|v| java_bool(&v)))
}

/// Java's `Boolean.parseBoolean`.
pub(crate) fn java_bool(v: &str) -> bool {
    v.eq_ignore_ascii_case("true")
}

/// `"true"` or `"false"`.
pub(crate) fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

// ---------------------------------------------------------------------------
// Media types

/// The media of a Colibri content (v1) or media / media-source (Colibri2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    /// `audio`
    Audio,
    /// `video`
    Video,
    /// `data` (Colibri v1 SCTP content only)
    Data,
}

impl MediaType {
    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            MediaType::Audio => "audio",
            MediaType::Video => "video",
            MediaType::Data => "data",
        }
    }

    /// The type for a wire name (exact, lower case, as the bridge's
    /// `MediaType.parseString` compares); `None` for anything else.
    pub fn from_name(name: &str) -> Option<MediaType> {
        Some(match name {
            "audio" => MediaType::Audio,
            "video" => MediaType::Video,
            "data" => MediaType::Data,
            _ => return None,
        })
    }
}

// ---------------------------------------------------------------------------
// RTP description pieces

/// `<rtcp-fb type subtype/>` (XEP-0293) inside a payload type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtcpFb {
    /// `type`, e.g. `nack`, `ccm`, `transport-cc`.
    pub kind: String,
    /// `subtype`, e.g. `pli`, `fir`.
    pub subtype: Option<String>,
}

/// `<payload-type/>` (XEP-0167) as the focus offers it and the bridge
/// reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadType {
    /// `id`, the RTP payload type number.
    pub id: u8,
    /// `name`, e.g. `opus`, `VP8` (empty when absent).
    pub name: String,
    /// `clockrate`.
    pub clockrate: Option<u32>,
    /// `channels` (written only when given; Jingle's default is 1).
    pub channels: Option<u8>,
    /// `<parameter name value/>` children in order.
    pub parameters: Vec<(String, String)>,
    /// `<rtcp-fb/>` children in order.
    pub rtcp_fbs: Vec<RtcpFb>,
}

impl PayloadType {
    /// A payload type with no parameters and no feedback.
    pub fn new(id: u8, name: &str, clockrate: u32, channels: Option<u8>) -> Self {
        PayloadType {
            id,
            name: name.to_string(),
            clockrate: Some(clockrate),
            channels,
            parameters: Vec::new(),
            rtcp_fbs: Vec::new(),
        }
    }

    /// Reads `<payload-type xmlns='urn:xmpp:jingle:apps:rtp:1'/>`.
    pub fn parse(el: El<'_>) -> Result<Self, ColibriParseError> {
        const E: &str = "payload-type";
        if !el.is(E, ns::JINGLE_RTP) {
            return Err(ColibriParseError::NotA("a <payload-type/>"));
        }
        let mut pt = PayloadType {
            id: req_num(&el, E, "id")?,
            name: opt_owned(&el, E, "name")?.unwrap_or_default(),
            clockrate: opt_num(&el, E, "clockrate")?,
            channels: opt_num(&el, E, "channels")?,
            parameters: Vec::new(),
            rtcp_fbs: Vec::new(),
        };
        for c in el.children() {
            if c.is("parameter", ns::JINGLE_RTP) {
                pt.parameters.push(parameter(&c)?);
            } else if c.is("rtcp-fb", ns::JINGLE_RTCP_FB) {
                pt.rtcp_fbs.push(RtcpFb {
                    kind: req(&c, "rtcp-fb", "type")?.into_owned(),
                    subtype: opt_owned(&c, "rtcp-fb", "subtype")?,
                });
            }
        }
        Ok(pt)
    }

    /// Writes `<payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' …/>`.
    pub fn write(&self, w: &mut XmlWriter<'_>) {
        w.start_ns("payload-type", ns::JINGLE_RTP)
            .attr_num("id", self.id)
            .attr("name", &self.name);
        if let Some(c) = self.clockrate {
            w.attr_num("clockrate", c);
        }
        if let Some(c) = self.channels {
            w.attr_num("channels", c);
        }
        for (n, v) in &self.parameters {
            w.start("parameter").attr("name", n).attr("value", v).end();
        }
        for fb in &self.rtcp_fbs {
            w.start_ns("rtcp-fb", ns::JINGLE_RTCP_FB)
                .attr("type", &fb.kind)
                .attr_opt("subtype", fb.subtype.as_deref())
                .end();
        }
        w.end();
    }
}

/// `<parameter name value/>`; a missing value reads as "".
fn parameter(el: &El<'_>) -> Result<(String, String), ColibriParseError> {
    Ok((
        req(el, "parameter", "name")?.into_owned(),
        opt_owned(el, "parameter", "value")?.unwrap_or_default(),
    ))
}

/// `<rtp-hdrext id uri/>` (XEP-0294).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpHdrExt {
    /// `id`, the extension's local identifier (1–255).
    pub id: u16,
    /// `uri`, what the extension is.
    pub uri: String,
}

impl RtpHdrExt {
    /// A header extension.
    pub fn new(id: u16, uri: &str) -> Self {
        RtpHdrExt {
            id,
            uri: uri.to_string(),
        }
    }

    /// Reads `<rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/>`.
    pub fn parse(el: El<'_>) -> Result<Self, ColibriParseError> {
        if !el.is("rtp-hdrext", ns::JINGLE_RTP_HDREXT) {
            return Err(ColibriParseError::NotA("an <rtp-hdrext/>"));
        }
        Ok(RtpHdrExt {
            id: req_num(&el, "rtp-hdrext", "id")?,
            uri: req(&el, "rtp-hdrext", "uri")?.into_owned(),
        })
    }

    /// Writes `<rtp-hdrext xmlns='…rtp-hdrext:0' id uri/>`.
    pub fn write(&self, w: &mut XmlWriter<'_>) {
        w.start_ns("rtp-hdrext", ns::JINGLE_RTP_HDREXT)
            .attr_num("id", self.id)
            .attr("uri", &self.uri)
            .end();
    }
}

// ---------------------------------------------------------------------------
// Sources (XEP-0339)

/// `<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc name videoType>`
/// with its `<parameter/>`s. Other children (`<ssrc-info/>`) are not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The SSRC.
    pub ssrc: u32,
    /// `name`: the source name (`abcd1234-v0`), or `jvb-a0` for the bridge.
    pub name: Option<String>,
    /// `videoType` (`camera`, `desktop`).
    pub video_type: Option<String>,
    /// `<parameter name value/>` children in order (`cname`, `msid`, …).
    pub parameters: Vec<(String, String)>,
}

impl Source {
    /// A source with only an SSRC.
    pub fn new(ssrc: u32) -> Self {
        Source {
            ssrc,
            name: None,
            video_type: None,
            parameters: Vec::new(),
        }
    }

    /// Reads a `<source/>` in the SSMA namespace. `ssrc` is required and
    /// must be an unsigned 32-bit number.
    pub fn parse(el: El<'_>) -> Result<Self, ColibriParseError> {
        const E: &str = "source";
        if !el.is(E, ns::JINGLE_SSMA) {
            return Err(ColibriParseError::NotA("an SSMA <source/>"));
        }
        let mut parameters = Vec::new();
        for c in el.children().filter(|c| c.is("parameter", ns::JINGLE_SSMA)) {
            parameters.push(parameter(&c)?);
        }
        Ok(Source {
            ssrc: req_num(&el, E, "ssrc")?,
            name: opt_owned(&el, E, "name")?,
            video_type: opt_owned(&el, E, "videoType")?,
            parameters,
        })
    }

    /// Writes `<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' …/>`.
    pub fn write(&self, w: &mut XmlWriter<'_>) {
        w.start_ns("source", ns::JINGLE_SSMA)
            .attr_num("ssrc", self.ssrc)
            .attr_opt("name", self.name.as_deref())
            .attr_opt("videoType", self.video_type.as_deref());
        for (n, v) in &self.parameters {
            w.start("parameter").attr("name", n).attr("value", v).end();
        }
        w.end();
    }
}

/// `<ssrc-group semantics><source ssrc/>…</ssrc-group>` (SIM, FID, FEC-FR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsrcGroup {
    /// `semantics`.
    pub semantics: String,
    /// The member SSRCs in order.
    pub ssrcs: Vec<u32>,
}

impl SsrcGroup {
    /// A group.
    pub fn new(semantics: &str, ssrcs: &[u32]) -> Self {
        SsrcGroup {
            semantics: semantics.to_string(),
            ssrcs: ssrcs.to_vec(),
        }
    }

    /// Reads an `<ssrc-group/>` in the SSMA namespace.
    pub fn parse(el: El<'_>) -> Result<Self, ColibriParseError> {
        const E: &str = "ssrc-group";
        if !el.is(E, ns::JINGLE_SSMA) {
            return Err(ColibriParseError::NotA("an SSMA <ssrc-group/>"));
        }
        let mut ssrcs = Vec::new();
        for c in el.children().filter(|c| c.is("source", ns::JINGLE_SSMA)) {
            ssrcs.push(req_num(&c, "source", "ssrc")?);
        }
        Ok(SsrcGroup {
            semantics: req(&el, E, "semantics")?.into_owned(),
            ssrcs,
        })
    }

    /// Writes `<ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' …/>`.
    pub fn write(&self, w: &mut XmlWriter<'_>) {
        w.start_ns("ssrc-group", ns::JINGLE_SSMA)
            .attr("semantics", &self.semantics);
        for s in &self.ssrcs {
            w.start("source").attr_num("ssrc", s).end();
        }
        w.end();
    }
}

// ---------------------------------------------------------------------------
// ICE transport, kept verbatim

/// A DTLS fingerprint (`<fingerprint hash setup>value</fingerprint>`,
/// XEP-0320).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// `hash`, e.g. `sha-256` (empty when absent).
    pub hash: String,
    /// `setup`: `actpass`, `active` or `passive`.
    pub setup: Option<String>,
    /// The fingerprint, trimmed (empty for SEED's placeholder).
    pub value: String,
}

/// One ICE candidate, for building a transport ([`IceTransport::from_parts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// `component` (1 = RTP).
    pub component: u8,
    /// `foundation`.
    pub foundation: String,
    /// `generation`.
    pub generation: u32,
    /// `id`.
    pub id: String,
    /// `network`.
    pub network: u32,
    /// `priority`.
    pub priority: u32,
    /// `protocol` (`udp`, `tcp`).
    pub protocol: String,
    /// `type`: `host`, `srflx`, `relay`.
    pub kind: String,
    /// `ip`.
    pub ip: String,
    /// `port`.
    pub port: u16,
    /// `rel-addr` and `rel-port`, for reflexive and relayed candidates.
    pub related: Option<(String, u16)>,
}

/// What [`IceTransport::from_parts`] builds a transport from.
#[derive(Debug, Clone, Copy, Default)]
pub struct IceParts<'a> {
    /// `ufrag`.
    pub ufrag: Option<&'a str>,
    /// `pwd`.
    pub pwd: Option<&'a str>,
    /// Written as `<rtcp-mux/>` first when true.
    pub rtcp_mux: bool,
    /// The fingerprints in order.
    pub fingerprints: &'a [Fingerprint],
    /// The candidates in order.
    pub candidates: &'a [Candidate],
    /// The bridge's Colibri web socket (`<web-socket url/>`).
    pub web_socket: Option<&'a str>,
}

/// An ICE-UDP `<transport/>` stored verbatim: the subtree as received,
/// re-serialised self-contained (every namespace declared, prefixes
/// dropped), plus the fields the focus reads. Writing it back reproduces
/// every attribute of every candidate and fingerprint, including ones this
/// type does not know.
///
/// The ICE password and the web socket URL (which carries one) are
/// credentials, so `Debug` shows neither, nor the stored XML.
#[derive(Clone, PartialEq, Eq)]
pub struct IceTransport {
    xml: Box<str>,
    ufrag: Option<String>,
    pwd: Option<String>,
    fingerprints: Vec<Fingerprint>,
    rtcp_mux: bool,
    candidates: usize,
    web_socket: Option<String>,
    sctp_port: Option<u16>,
}

impl std::fmt::Debug for IceTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "***");
        f.debug_struct("IceTransport")
            .field("ufrag", &self.ufrag)
            .field("pwd", &hidden(&self.pwd))
            .field("fingerprints", &self.fingerprints)
            .field("rtcp_mux", &self.rtcp_mux)
            .field("candidates", &self.candidates)
            .field("web_socket", &hidden(&self.web_socket))
            .field("sctp_port", &self.sctp_port)
            .field("xml_len", &self.xml.len())
            .finish()
    }
}

/// How deep a stored transport may nest: the writer holds 32 open
/// elements and `copy` starts at depth 0.
const MAX_TRANSPORT_DEPTH: usize = 31;

/// Whether `XmlWriter::copy` reproduces `el` as well-formed XML on its own:
/// names must be XML names, attributes unprefixed (or `xml:`/`xmlns:`,
/// which need no declaration from an ancestor we do not copy), values
/// readable, and the nesting within what the writer holds.
fn storable(el: El<'_>, depth: usize) -> Result<(), &'static str> {
    if depth > MAX_TRANSPORT_DEPTH {
        return Err("nested too deeply");
    }
    if !is_xml_name(el.name()) {
        return Err("an element name is not an XML name");
    }
    // `copy` escapes the namespace name it writes, and the tree reports it
    // as written: one that needs escaping would change on every copy.
    if el.ns().contains(['&', '<', '>', '\'', '"']) {
        return Err("a namespace name holds a character that needs escaping");
    }
    for a in el.raw_attrs() {
        let name_ok = match a.name.split_once(':') {
            None => is_xml_name(a.name),
            Some(("xmlns" | "xml", local)) => is_xml_name(local),
            Some(_) => false,
        };
        if !name_ok {
            return Err("an attribute name is prefixed or not an XML name");
        }
        if unescape(a.raw_value).is_none() {
            return Err("an attribute value holds an unknown entity");
        }
    }
    el.children().try_for_each(|c| storable(c, depth + 1))
}

impl IceTransport {
    /// Reads and stores an ICE-UDP `<transport/>`, from a bridge response
    /// or from a participant's Jingle content. Fields that do not parse
    /// (an unreadable `ufrag`, an `sctpmap` number that is not a port) are
    /// errors; unknown children and attributes are kept in the stored XML.
    pub fn parse(el: El<'_>) -> Result<Self, ColibriParseError> {
        const E: &str = "transport";
        if !el.is(E, ns::JINGLE_ICE_UDP) {
            return Err(ColibriParseError::NotA("an ICE-UDP <transport/>"));
        }
        storable(el, 0).map_err(ColibriParseError::Unstorable)?;
        let mut t = IceTransport {
            xml: Box::from(""),
            ufrag: opt_owned(&el, E, "ufrag")?,
            pwd: opt_owned(&el, E, "pwd")?,
            fingerprints: Vec::new(),
            rtcp_mux: false,
            candidates: 0,
            web_socket: None,
            sctp_port: None,
        };
        for c in el.children() {
            if c.is("fingerprint", ns::JINGLE_DTLS) {
                t.fingerprints.push(Fingerprint {
                    hash: opt_owned(&c, "fingerprint", "hash")?.unwrap_or_default(),
                    setup: opt_owned(&c, "fingerprint", "setup")?,
                    value: c.text().trim().to_string(),
                });
            } else if c.is("candidate", ns::JINGLE_ICE_UDP) {
                t.candidates += 1;
            } else if c.is("rtcp-mux", ns::JINGLE_ICE_UDP) {
                t.rtcp_mux = true;
            } else if c.is("web-socket", ns::COLIBRI) {
                if t.web_socket.is_none() {
                    t.web_socket = opt_owned(&c, "web-socket", "url")?;
                }
            } else if c.is("sctpmap", ns::JINGLE_DTLS_SCTP) && t.sctp_port.is_none() {
                t.sctp_port = opt_num(&c, "sctpmap", "number")?;
            }
        }
        let mut out = Vec::with_capacity(el.outer_xml().len() + 64);
        // An empty parent namespace: the copy declares its own.
        XmlWriter::new(&mut out).copy(el, "");
        // The copy is made of the frame's UTF-8 and ASCII markup.
        t.xml = String::from_utf8(out)
            .map_err(|_| ColibriParseError::Unstorable("not UTF-8"))?
            .into_boxed_str();
        Ok(t)
    }

    /// Builds a transport from its parts (the bridge emulator's answer, or
    /// a test's).
    pub fn from_parts(p: &IceParts<'_>) -> Self {
        let mut out = Vec::new();
        let mut w = XmlWriter::new(&mut out);
        w.start_ns("transport", ns::JINGLE_ICE_UDP)
            .attr_opt("ufrag", p.ufrag)
            .attr_opt("pwd", p.pwd);
        if p.rtcp_mux {
            w.start("rtcp-mux").end();
        }
        for f in p.fingerprints {
            w.start_ns("fingerprint", ns::JINGLE_DTLS)
                .attr("hash", &f.hash)
                .attr_opt("setup", f.setup.as_deref())
                .text(&f.value)
                .end();
        }
        for c in p.candidates {
            w.start("candidate")
                .attr_num("component", c.component)
                .attr("foundation", &c.foundation)
                .attr_num("generation", c.generation)
                .attr("id", &c.id)
                .attr_num("network", c.network)
                .attr_num("priority", c.priority)
                .attr("protocol", &c.protocol)
                .attr("type", &c.kind)
                .attr("ip", &c.ip)
                .attr_num("port", c.port);
            if let Some((addr, port)) = &c.related {
                w.attr("rel-addr", addr).attr_num("rel-port", port);
            }
            w.end();
        }
        if let Some(url) = p.web_socket {
            w.start_ns("web-socket", ns::COLIBRI).attr("url", url).end();
        }
        w.end();
        IceTransport {
            // Only `&str` went into the buffer.
            xml: String::from_utf8_lossy(&out).into_owned().into_boxed_str(),
            ufrag: p.ufrag.map(str::to_string),
            pwd: p.pwd.map(str::to_string),
            fingerprints: p.fingerprints.to_vec(),
            rtcp_mux: p.rtcp_mux,
            candidates: p.candidates.len(),
            web_socket: p.web_socket.map(str::to_string),
            sctp_port: None,
        }
    }

    /// The transport SEED put in its offer before the bridge answered, and
    /// so in the Colibri v1 allocation: no credentials, no candidates, one
    /// empty fingerprint (protocol.md §4.1).
    pub fn seed_placeholder() -> Self {
        IceTransport {
            xml: Box::from(
                "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'>\
                 <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0'/></transport>",
            ),
            ufrag: None,
            pwd: None,
            fingerprints: vec![Fingerprint {
                hash: String::new(),
                setup: None,
                value: String::new(),
            }],
            rtcp_mux: false,
            candidates: 0,
            web_socket: None,
            sctp_port: None,
        }
    }

    /// The stored XML, self-contained.
    pub fn xml(&self) -> &str {
        &self.xml
    }

    /// Writes the transport exactly as stored.
    pub fn write(&self, w: &mut XmlWriter<'_>) {
        w.raw(&self.xml);
    }

    /// Writes the transport with more children after the stored ones (the
    /// offer adds `<rtcp-mux/>` and `<sctpmap/>` to the bridge's transport).
    pub fn write_with(&self, w: &mut XmlWriter<'_>, extra: impl FnOnce(&mut XmlWriter<'_>)) {
        const END: &str = "</transport>";
        // The copy and `from_parts` write the root as `transport`, closed
        // either empty or with this exact end tag.
        if let Some(head) = self.xml.strip_suffix("/>") {
            w.raw(head).raw(">");
        } else if let Some(head) = self.xml.strip_suffix(END) {
            w.raw(head);
        } else {
            // Unreachable by construction; keep the stored form intact.
            w.raw(&self.xml);
            return;
        }
        extra(w);
        w.raw(END);
    }

    /// `ufrag`.
    pub fn ufrag(&self) -> Option<&str> {
        self.ufrag.as_deref()
    }

    /// `pwd`.
    pub fn pwd(&self) -> Option<&str> {
        self.pwd.as_deref()
    }

    /// Every DTLS fingerprint, in order.
    pub fn fingerprints(&self) -> &[Fingerprint] {
        &self.fingerprints
    }

    /// The first DTLS fingerprint.
    pub fn fingerprint(&self) -> Option<&Fingerprint> {
        self.fingerprints.first()
    }

    /// Whether `<rtcp-mux/>` is present.
    pub fn rtcp_mux(&self) -> bool {
        self.rtcp_mux
    }

    /// How many candidates it carries.
    pub fn candidate_count(&self) -> usize {
        self.candidates
    }

    /// The bridge's Colibri web socket URL (`<web-socket url/>`).
    pub fn web_socket(&self) -> Option<&str> {
        self.web_socket.as_deref()
    }

    /// The SCTP port of a Jingle data transport (`<sctpmap number/>`).
    pub fn sctp_port(&self) -> Option<u16> {
        self.sctp_port
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::Parser;

    fn with<R>(xml: &str, f: impl FnOnce(El<'_>) -> R) -> R {
        let mut p = Parser::new();
        let doc = p.parse(xml.as_bytes(), ns::CLIENT).unwrap();
        f(doc.root())
    }

    fn written(f: impl FnOnce(&mut XmlWriter<'_>)) -> String {
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
        let t = with(BRIDGE_TRANSPORT, |el| IceTransport::parse(el).unwrap());
        assert_eq!(t.ufrag(), Some("8vbq01hdp1la2"));
        assert_eq!(t.pwd(), Some("4bq0n'x"));
        assert!(t.rtcp_mux());
        assert_eq!(t.candidate_count(), 2);
        let f = t.fingerprint().unwrap();
        assert_eq!(
            (f.hash.as_str(), f.setup.as_deref(), f.value.as_str()),
            ("sha-256", Some("actpass"), "1A:2B:FF")
        );
        assert_eq!(
            t.web_socket(),
            Some("wss://meet.example.com/colibri-ws/x/ab?pwd=p")
        );
        assert_eq!(
            t.xml(),
            "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' xmlns:t='urn:xmpp:jingle:transports:ice-udp:1' \
             ufrag='8vbq01hdp1la2' pwd=\"4bq0n'x\"><rtcp-mux/>\
             <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'> 1A:2B:FF </fingerprint>\
             <candidate component='1' foundation='1' generation='0' id='c&amp;1' network='0' \
             priority='2130706431' protocol='udp' type='host' ip='10.0.1.17' port='10000' x-new='kept'/>\
             <candidate component='1' foundation='2' generation='0' id='c2' network='0' priority='1694498815' \
             protocol='udp' type='srflx' ip='203.0.113.7' port='10000' rel-addr='10.0.1.17' rel-port='10000'/>\
             <web-socket xmlns='http://jitsi.org/protocol/colibri' url='wss://meet.example.com/colibri-ws/x/ab?pwd=p'/>\
             </transport>"
        );
        // Written inside another element, it reads back the same.
        let inside = written(|w| {
            w.start_ns("transport", ns::COLIBRI2);
            t.write(w);
            w.end();
        });
        let again = with(&inside, |el| {
            IceTransport::parse(el.child("transport", ns::JINGLE_ICE_UDP).unwrap()).unwrap()
        });
        assert_eq!(again, t);
    }

    #[test]
    fn write_with_appends_children() {
        let t = with(BRIDGE_TRANSPORT, |el| IceTransport::parse(el).unwrap());
        let out = written(|w| {
            t.write_with(w, |w| {
                w.start_ns("sctpmap", ns::JINGLE_DTLS_SCTP)
                    .attr("number", "5000")
                    .end();
            })
        });
        assert!(out.ends_with(
            "<sctpmap xmlns='urn:xmpp:jingle:transports:dtls-sctp:1' number='5000'/></transport>"
        ));
        let back = with(&out, |el| IceTransport::parse(el).unwrap());
        assert_eq!(back.sctp_port(), Some(5000));
        assert_eq!(back.candidate_count(), 2);

        // An empty transport opens up for the extra child; nothing extra
        // leaves it equivalent.
        let empty = IceTransport::from_parts(&IceParts::default());
        assert_eq!(
            empty.xml(),
            "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'/>"
        );
        let out = written(|w| {
            empty.write_with(w, |w| {
                w.start("rtcp-mux").end();
            })
        });
        assert_eq!(
            out,
            "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'><rtcp-mux/></transport>"
        );
        assert!(with(&out, |el| IceTransport::parse(el).unwrap()).rtcp_mux());
    }

    #[test]
    fn from_parts_equals_its_own_parse() {
        let fp = [Fingerprint {
            hash: "sha-256".into(),
            setup: Some("actpass".into()),
            value: "AB:CD".into(),
        }];
        let cands = [Candidate {
            component: 1,
            foundation: "1".into(),
            generation: 0,
            id: "h1".into(),
            network: 0,
            priority: 2130706431,
            protocol: "udp".into(),
            kind: "srflx".into(),
            ip: "203.0.113.7".into(),
            port: 10000,
            related: Some(("10.0.0.5".into(), 10000)),
        }];
        let t = IceTransport::from_parts(&IceParts {
            ufrag: Some("u"),
            pwd: Some("p&w"),
            rtcp_mux: true,
            fingerprints: &fp,
            candidates: &cands,
            web_socket: Some("wss://x/y"),
        });
        let back = with(t.xml(), |el| IceTransport::parse(el).unwrap());
        assert_eq!(back, t);
        assert_eq!(back.pwd(), Some("p&w"));
    }

    #[test]
    fn seed_placeholder_is_the_offers_empty_transport() {
        let t = IceTransport::seed_placeholder();
        assert_eq!(
            t.xml(),
            "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'>\
             <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0'/></transport>"
        );
        let back = with(t.xml(), |el| IceTransport::parse(el).unwrap());
        assert_eq!(back, t);
        assert_eq!(back.fingerprint().unwrap().hash, "");
        assert_eq!(back.candidate_count(), 0);
        assert_eq!(back.ufrag(), None);
    }

    #[test]
    fn transports_that_cannot_be_stored_are_errors() {
        let deep = format!(
            "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'>{}{}</transport>",
            "<a>".repeat(32),
            "</a>".repeat(32)
        );
        assert_eq!(
            with(&deep, |el| IceTransport::parse(el).unwrap_err()),
            ColibriParseError::Unstorable("nested too deeply")
        );
        let fits = format!(
            "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'>{}{}</transport>",
            "<a>".repeat(31),
            "</a>".repeat(31)
        );
        assert!(with(&fits, IceTransport::parse).is_ok());
        // A prefix declared outside the transport would be unbound in the copy.
        let prefixed = "<x xmlns:p='urn:p'><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' \
            p:a='1'/></x>";
        assert!(matches!(
            with(prefixed, |el| IceTransport::parse(
                el.first_child().unwrap()
            )),
            Err(ColibriParseError::Unstorable(_))
        ));
        let amp = "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'><candidate id='a&b'/></transport>";
        assert!(matches!(
            with(amp, IceTransport::parse),
            Err(ColibriParseError::Unstorable(_))
        ));
        // Namespace names that `copy` would escape again on every copy.
        for odd_ns in [
            "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'><x xmlns=\"urn:a'b\"/></transport>",
            "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'><y xmlns='urn:a>b'/></transport>",
        ] {
            assert!(
                matches!(
                    with(odd_ns, IceTransport::parse),
                    Err(ColibriParseError::Unstorable(_))
                ),
                "{odd_ns}"
            );
        }
        let other = "<transport xmlns='urn:xmpp:jingle:transports:raw-udp:1'/>";
        assert_eq!(
            with(other, IceTransport::parse),
            Err(ColibriParseError::NotA("an ICE-UDP <transport/>"))
        );
        let bad_port = "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'>\
            <sctpmap xmlns='urn:xmpp:jingle:transports:dtls-sctp:1' number='70000'/></transport>";
        assert_eq!(
            with(bad_port, IceTransport::parse),
            Err(bad_attr("sctpmap", "number", "70000"))
        );
    }

    #[test]
    fn payload_types_round_trip() {
        let xml = "<payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='111' name='opus' clockrate='48000' channels='2'>\
            <parameter name='minptime' value='10'/><parameter name='useinbandfec' value='1'/>\
            <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='transport-cc'/>\
            <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='nack' subtype='pli'/></payload-type>";
        let pt = with(xml, |el| PayloadType::parse(el).unwrap());
        assert_eq!(pt.id, 111);
        assert_eq!(pt.channels, Some(2));
        assert_eq!(pt.parameters[1], ("useinbandfec".into(), "1".into()));
        assert_eq!(pt.rtcp_fbs[1].subtype.as_deref(), Some("pli"));
        assert_eq!(written(|w| pt.write(w)), xml);
        for bad in [
            "<payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' name='x'/>",
            "<payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='300'/>",
            "<payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='1' clockrate='x'/>",
        ] {
            assert!(with(bad, PayloadType::parse).is_err(), "{bad}");
        }
        let ext = RtpHdrExt::new(1, "urn:ietf:params:rtp-hdrext:ssrc-audio-level");
        let xml = written(|w| ext.write(w));
        assert_eq!(with(&xml, |el| RtpHdrExt::parse(el).unwrap()), ext);
    }

    #[test]
    fn sources_and_groups_round_trip() {
        let s = Source {
            ssrc: 4_294_967_295,
            name: Some("ab-v0".into()),
            video_type: Some("camera".into()),
            parameters: vec![("msid".into(), "s t".into())],
        };
        let xml = written(|w| s.write(w));
        assert_eq!(
            xml,
            "<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='4294967295' name='ab-v0' \
             videoType='camera'><parameter name='msid' value='s t'/></source>"
        );
        assert_eq!(with(&xml, |el| Source::parse(el).unwrap()), s);
        let g = SsrcGroup::new("FID", &[1, 2]);
        let xml = written(|w| g.write(w));
        assert_eq!(with(&xml, |el| SsrcGroup::parse(el).unwrap()), g);
        for bad in [
            "<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'/>",
            "<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='-1'/>",
            "<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='4294967296'/>",
        ] {
            assert!(with(bad, Source::parse).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_hides_the_credentials() {
        let t = with(BRIDGE_TRANSPORT, |el| IceTransport::parse(el).unwrap());
        let d = format!("{t:?}");
        assert!(d.contains("8vbq01hdp1la2"), "{d}");
        assert!(!d.contains("4bq0n") && !d.contains("pwd=p"), "{d}");
        assert!(d.contains("candidates: 2"), "{d}");
    }

    #[test]
    fn java_booleans_and_errors_display() {
        assert!(java_bool("TRUE") && java_bool("true"));
        assert!(!java_bool("1") && !java_bool("yes") && !java_bool(""));
        assert_eq!(
            ColibriParseError::MissingAttribute {
                element: "endpoint",
                attribute: "id"
            }
            .to_string(),
            "<endpoint/> without 'id'"
        );
        assert_eq!(cut(&"é".repeat(40)).len(), 64);
        assert_eq!(
            bad_attr("a", "b", &"€".repeat(30)),
            ColibriParseError::BadAttribute {
                element: "a",
                attribute: "b",
                value: "€".repeat(21)
            }
        );
    }
}
