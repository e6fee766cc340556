//! XEP-0176 ICE-UDP transports as owned values, read from one party and
//! written to another.
//!
//! The focus never interprets ICE: it copies the bridge's transport into
//! every offer (§5.2) and a participant's transport to the bridge
//! (Colibri). A copy must not lose what the focus does not understand, so
//! candidates, fingerprints and web-socket elements keep their attributes
//! as ordered name/value lists ([`Attrs`]) and are written back attribute
//! for attribute: a bridge that adds an attribute tomorrow still reaches
//! the client. Values are kept unescaped and escaped again on writing, so
//! the copy means the same even where its quoting differs.
//!
//! What is not kept: attributes whose names are not plain XML names
//! (prefixed ones such as `xml:lang` included; writing them unprefixed
//! would change their meaning) and children other than `rtcp-mux`,
//! `fingerprint`, `candidate`, `web-socket` and `sctpmap`.

use super::{is_xml_char, num_attr, owned_attr};
use crate::stanza::{StanzaParseError, is_xml_name};
use crate::xml::{El, XmlWriter, ns};

/// Attributes in document order, values unescaped.
///
/// Kept in one buffer (`name value name value …` back to back) with the
/// end offsets of each name and value: an ICE candidate has about ten
/// attributes, and a pair of boxed strings each was twenty allocations per
/// candidate. The layout is canonical (no gaps, document order), so the
/// derived equality and hash are those of the pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Attrs {
    text: String,
    /// `(end of name, end of value)` in `text`, per attribute.
    ends: Vec<(u32, u32)>,
}

impl Attrs {
    /// No attributes.
    pub fn new() -> Attrs {
        Attrs::default()
    }

    /// Every attribute of `el` except namespace declarations, in order.
    /// Names that are not plain XML names are skipped; a value with an
    /// unknown entity or a character XML forbids is an error.
    pub fn from_el(el: &El<'_>) -> Result<Attrs, StanzaParseError> {
        let mut attrs = Attrs::new();
        for a in el.raw_attrs() {
            if !is_xml_name(a.name) || a.name.starts_with("xmlns") {
                continue;
            }
            let value = crate::xml::doc::unescape(a.raw_value)
                .filter(|v| v.chars().all(is_xml_char))
                .ok_or_else(|| StanzaParseError::bad_attribute("attribute", a.raw_value))?;
            attrs.push(a.name, &value);
        }
        Ok(attrs)
    }

    fn push(&mut self, name: &str, value: &str) {
        if self.ends.is_empty() {
            self.text.reserve(64);
        }
        self.text.push_str(name);
        let n = self.text.len() as u32;
        self.text.push_str(value);
        self.ends.push((n, self.text.len() as u32));
    }

    fn pair(&self, k: usize) -> (&str, &str) {
        let start = if k == 0 {
            0
        } else {
            self.ends[k - 1].1 as usize
        };
        let (n, v) = self.ends[k];
        (
            &self.text[start..n as usize],
            &self.text[n as usize..v as usize],
        )
    }

    fn position(&self, name: &str) -> Option<usize> {
        (0..self.ends.len()).find(|&k| self.pair(k).0 == name)
    }

    /// Rebuilt without attribute `skip`, with `replace` as its value when
    /// given (a rare path: parsed attributes are only read).
    fn rebuilt(&self, skip: usize, replace: Option<&str>) -> Attrs {
        let mut out = Attrs::new();
        for k in 0..self.ends.len() {
            let (n, v) = self.pair(k);
            match (k == skip, replace) {
                (false, _) => out.push(n, v),
                (true, Some(r)) => out.push(n, r),
                (true, None) => {}
            }
        }
        out
    }

    /// A value by name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.position(name).map(|k| self.pair(k).1)
    }

    /// Sets a value, in place when the name is there, else at the end.
    pub fn set(&mut self, name: &str, value: &str) {
        match self.position(name) {
            Some(k) => *self = self.rebuilt(k, Some(value)),
            None => self.push(name, value),
        }
    }

    /// Builder form of [`Attrs::set`].
    pub fn with(mut self, name: &str, value: &str) -> Attrs {
        self.set(name, value);
        self
    }

    /// Removes an attribute (every one of that name); true when it was
    /// there.
    pub fn remove(&mut self, name: &str) -> bool {
        let mut found = false;
        while let Some(k) = self.position(name) {
            *self = self.rebuilt(k, None);
            found = true;
        }
        found
    }

    /// `(name, value)` pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        (0..self.ends.len()).map(|k| self.pair(k))
    }

    /// Number of attributes.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Adds every attribute to the open start tag. Names set by hand that
    /// are not XML names are left out rather than breaking the stanza.
    fn write(&self, w: &mut XmlWriter<'_>) {
        for (n, v) in self.iter() {
            if is_xml_name(n) && !n.starts_with("xmlns") {
                w.attr(n, v);
            }
        }
    }

    fn num<T: std::str::FromStr>(&self, name: &str) -> Option<T> {
        self.get(name)?.trim().parse().ok()
    }
}

/// An ICE `<candidate/>`: every attribute kept, typed accessors for the
/// ones with a meaning.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Candidate {
    /// All attributes, in order.
    pub attrs: Attrs,
}

impl Candidate {
    /// `component` (1 = RTP).
    pub fn component(&self) -> Option<u8> {
        self.attrs.num("component")
    }
    /// `foundation`.
    pub fn foundation(&self) -> Option<&str> {
        self.attrs.get("foundation")
    }
    /// `generation` (grows with each ICE restart).
    pub fn generation(&self) -> Option<u32> {
        self.attrs.num("generation")
    }
    /// `id`.
    pub fn id(&self) -> Option<&str> {
        self.attrs.get("id")
    }
    /// `ip`.
    pub fn ip(&self) -> Option<&str> {
        self.attrs.get("ip")
    }
    /// `network`.
    pub fn network(&self) -> Option<u32> {
        self.attrs.num("network")
    }
    /// `port`.
    pub fn port(&self) -> Option<u16> {
        self.attrs.num("port")
    }
    /// `priority`.
    pub fn priority(&self) -> Option<u32> {
        self.attrs.num("priority")
    }
    /// `protocol` (`udp`, `tcp`, `ssltcp`).
    pub fn protocol(&self) -> Option<&str> {
        self.attrs.get("protocol")
    }
    /// `type` (`host`, `srflx`, `prflx`, `relay`).
    pub fn typ(&self) -> Option<&str> {
        self.attrs.get("type")
    }
    /// `rel-addr` (reflexive and relay candidates).
    pub fn rel_addr(&self) -> Option<&str> {
        self.attrs.get("rel-addr")
    }
    /// `rel-port`.
    pub fn rel_port(&self) -> Option<u16> {
        self.attrs.num("rel-port")
    }
    /// `tcptype` (`active`, `passive`, `so`).
    pub fn tcptype(&self) -> Option<&str> {
        self.attrs.get("tcptype")
    }
}

/// An XEP-0320 DTLS `<fingerprint/>`: attributes kept like a candidate's,
/// the text as received (not trimmed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    /// All attributes (`hash`, `setup`, `cryptex`, …), in order.
    pub attrs: Attrs,
    /// The fingerprint, colon-separated hex.
    pub value: Box<str>,
}

impl Fingerprint {
    /// A fingerprint with `hash` and, when given, `setup`.
    pub fn new(hash: &str, setup: Option<&str>, value: &str) -> Fingerprint {
        let mut attrs = Attrs::new().with("hash", hash);
        if let Some(s) = setup {
            attrs.set("setup", s);
        }
        Fingerprint {
            attrs,
            value: value.into(),
        }
    }

    /// `hash` (`sha-256`, …).
    pub fn hash(&self) -> Option<&str> {
        self.attrs.get("hash")
    }

    /// `setup` (`actpass` from the bridge, `active` from clients).
    pub fn setup(&self) -> Option<&str> {
        self.attrs.get("setup")
    }

    /// Sets `setup` (Colibri2 relays force `active`/`passive`).
    pub fn set_setup(&mut self, setup: &str) {
        self.attrs.set("setup", setup);
    }
}

/// `<web-socket xmlns='http://jitsi.org/protocol/colibri' url/>`: the
/// bridge's data-channel-over-websocket address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct WebSocket {
    /// All attributes, in order.
    pub attrs: Attrs,
}

impl WebSocket {
    /// A web-socket with a URL.
    pub fn new(url: &str) -> WebSocket {
        WebSocket {
            attrs: Attrs::new().with("url", url),
        }
    }

    /// `url`.
    pub fn url(&self) -> Option<&str> {
        self.attrs.get("url")
    }
}

/// `<sctpmap xmlns='urn:xmpp:jingle:transports:dtls-sctp:1'/>`: the SCTP
/// port of the data channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SctpMap {
    /// `number`: the SCTP port.
    pub number: u16,
    /// `protocol` (`webrtc-datachannel`).
    pub protocol: Box<str>,
    /// `streams` (the focus offers 1024; clients answer 0).
    pub streams: Option<u32>,
}

impl SctpMap {
    /// The map the focus offers: `webrtc-datachannel` with 1024 streams.
    pub fn datachannel(port: u16) -> SctpMap {
        SctpMap {
            number: port,
            protocol: "webrtc-datachannel".into(),
            streams: Some(1024),
        }
    }

    /// Reads an `<sctpmap/>`: `number` is required.
    pub fn parse(el: El<'_>) -> Result<SctpMap, StanzaParseError> {
        Ok(SctpMap {
            number: num_attr(&el, "number")?.ok_or(StanzaParseError::MissingAttribute("number"))?,
            protocol: owned_attr(&el, "protocol")?.unwrap_or_default(),
            streams: num_attr(&el, "streams")?,
        })
    }

    /// Writes the element with its namespace.
    pub fn write(&self, w: &mut XmlWriter<'_>) {
        w.start_ns("sctpmap", ns::JINGLE_DTLS_SCTP)
            .attr_num("number", self.number)
            .attr("protocol", &self.protocol);
        if let Some(s) = self.streams {
            w.attr_num("streams", s);
        }
        w.end();
    }
}

/// An ICE-UDP `<transport/>`, owned.
///
/// The ICE password and the web-socket URLs (which carry one) are
/// credentials, so `Debug` shows neither.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct IceUdpTransport {
    /// `ufrag`.
    pub ufrag: Option<Box<str>>,
    /// `pwd` (a secret: never log it).
    pub pwd: Option<Box<str>>,
    /// `<rtcp-mux/>`.
    pub rtcp_mux: bool,
    /// DTLS fingerprints, in order.
    pub fingerprints: Vec<Fingerprint>,
    /// Candidates, in order.
    pub candidates: Vec<Candidate>,
    /// Bridge web-sockets, in order.
    pub web_sockets: Vec<WebSocket>,
    /// The data channel's SCTP map.
    pub sctpmap: Option<SctpMap>,
}

impl std::fmt::Debug for IceUdpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IceUdpTransport")
            .field("ufrag", &self.ufrag)
            .field("pwd", &self.pwd.as_ref().map(|_| "***"))
            .field("rtcp_mux", &self.rtcp_mux)
            .field("fingerprints", &self.fingerprints)
            .field("candidates", &self.candidates)
            .field(
                "web_sockets",
                &format_args!("[{} hidden]", self.web_sockets.len()),
            )
            .field("sctpmap", &self.sctpmap)
            .finish()
    }
}

impl IceUdpTransport {
    /// The transport SEED put in its offer before the bridge answered, and
    /// so in the Colibri v1 allocation: no credentials, no candidates, one
    /// empty fingerprint, written `<fingerprint xmlns='…dtls:0'/>`
    /// (protocol.md §4.1).
    pub fn seed_placeholder() -> IceUdpTransport {
        IceUdpTransport {
            fingerprints: vec![Fingerprint::default()],
            ..IceUdpTransport::default()
        }
    }

    /// Reads a `<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'/>`.
    /// A malformed attribute value anywhere, or an `sctpmap` without a
    /// valid `number`, is an error.
    pub fn parse(el: El<'_>) -> Result<IceUdpTransport, StanzaParseError> {
        if !el.is("transport", ns::JINGLE_ICE_UDP) {
            return Err(StanzaParseError::NotA("an ICE-UDP transport"));
        }
        let mut t = IceUdpTransport {
            ufrag: owned_attr(&el, "ufrag")?,
            pwd: owned_attr(&el, "pwd")?,
            ..IceUdpTransport::default()
        };
        for c in el.children() {
            if c.is("candidate", ns::JINGLE_ICE_UDP) {
                t.candidates.push(Candidate {
                    attrs: Attrs::from_el(&c)?,
                });
            } else if c.is("fingerprint", ns::JINGLE_DTLS) {
                let value = c.text();
                if !value.chars().all(is_xml_char) {
                    return Err(StanzaParseError::bad_attribute("fingerprint", &value));
                }
                t.fingerprints.push(Fingerprint {
                    attrs: Attrs::from_el(&c)?,
                    value: value.into(),
                });
            } else if c.is("rtcp-mux", ns::JINGLE_ICE_UDP) {
                t.rtcp_mux = true;
            } else if c.is("web-socket", ns::COLIBRI) {
                t.web_sockets.push(WebSocket {
                    attrs: Attrs::from_el(&c)?,
                });
            } else if c.is("sctpmap", ns::JINGLE_DTLS_SCTP) && t.sctpmap.is_none() {
                t.sctpmap = Some(SctpMap::parse(c)?);
            }
        }
        Ok(t)
    }

    /// Writes the transport with its own SCTP map.
    pub fn write(&self, w: &mut XmlWriter<'_>) {
        self.write_with_sctpmap(w, self.sctpmap.as_ref());
    }

    /// Writes the transport with `sctpmap` in place of its own (the focus
    /// adds the bridge's SCTP port to the data content of an offer).
    /// Children in the order Jicofo writes them: `rtcp-mux`, fingerprints,
    /// candidates, web-sockets, `sctpmap`.
    pub fn write_with_sctpmap(&self, w: &mut XmlWriter<'_>, sctpmap: Option<&SctpMap>) {
        w.start_ns("transport", ns::JINGLE_ICE_UDP)
            .attr_opt("ufrag", self.ufrag.as_deref())
            .attr_opt("pwd", self.pwd.as_deref());
        if self.rtcp_mux {
            w.start("rtcp-mux").end();
        }
        for f in &self.fingerprints {
            w.start_ns("fingerprint", ns::JINGLE_DTLS);
            f.attrs.write(w);
            // An empty fingerprint (SEED's Colibri v1 request) stays `<fingerprint/>`.
            if !f.value.is_empty() {
                w.text(&f.value);
            }
            w.end();
        }
        for c in &self.candidates {
            w.start("candidate");
            c.attrs.write(w);
            w.end();
        }
        for s in &self.web_sockets {
            w.start_ns("web-socket", ns::COLIBRI);
            s.attrs.write(w);
            w.end();
        }
        if let Some(m) = sctpmap {
            m.write(w);
        }
        w.end();
    }
}
