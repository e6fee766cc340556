//! A compact, zero-copy element tree over one complete frame.
//!
//! [`Parser`] runs quick-xml over a frame the framer found complete and records
//! each element as byte ranges of the frame (name, attributes, content) in
//! vectors it reuses from frame to frame, so the tree costs no allocation
//! once the vectors have grown. quick-xml's reader is new for each frame (it
//! cannot be given new input) and keeps its stack of open element names in
//! a `String` and a `Vec` of its own: about 4 small allocations per stanza,
//! under 1% of the parse time (`benches/parser.rs`).
//!
//! [`El`] is a cheap `Copy` handle for reading the tree: names, resolved
//! namespaces, attributes (unescaped only when they contain an entity),
//! children and text.
//!
//! A frame parsed alone does not see the declarations of the stream header, so
//! the caller passes the stream's default namespace (`jabber:client` or
//! `jabber:component:accept`); the `stream` prefix is bound to the streams
//! namespace and `xml` to its fixed namespace, as on every XMPP stream.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};

use super::ns;

const NONE: u32 = u32::MAX;
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Why a frame is not a well-formed element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// quick-xml rejected the markup (message included).
    Syntax(String),
    /// Valid XML that RFC 6120 forbids in a stanza (comments, PIs, DTDs).
    Restricted(&'static str),
    /// The frame is not exactly one element.
    NotOneElement,
    /// An element or attribute prefix without a namespace declaration.
    UnboundPrefix(String),
    /// The same attribute twice on one element.
    DuplicateAttribute(String),
    /// The frame is not UTF-8.
    Encoding,
    /// More nesting or attributes than one frame may hold.
    TooComplex,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::Syntax(m) => write!(f, "malformed XML: {m}"),
            ParseError::Restricted(what) => write!(f, "{what} not allowed in a stanza"),
            ParseError::NotOneElement => f.write_str("a frame must be exactly one element"),
            ParseError::UnboundPrefix(p) => write!(f, "undeclared namespace prefix '{p}'"),
            ParseError::DuplicateAttribute(a) => write!(f, "duplicate attribute '{a}'"),
            ParseError::Encoding => f.write_str("the stanza is not UTF-8"),
            ParseError::TooComplex => f.write_str("the stanza nests too deeply"),
        }
    }
}

impl std::error::Error for ParseError {}

impl From<quick_xml::Error> for ParseError {
    fn from(e: quick_xml::Error) -> Self {
        ParseError::Syntax(e.to_string())
    }
}

/// A namespace name: a range of the frame or a name known in advance.
#[derive(Debug, Clone, Copy)]
enum NsRef {
    Static(&'static str),
    Src(u32, u32),
}

#[derive(Debug, Clone, Copy)]
struct Node {
    /// Qualified name.
    qname: (u32, u32),
    /// Start of the local part (after `prefix:`).
    local: u32,
    ns: NsRef,
    /// Range of this element's attributes in `attrs`.
    attrs: (u32, u32),
    first_child: u32,
    last_child: u32,
    next_sibling: u32,
    /// The whole element, start tag to end tag.
    outer: (u32, u32),
    /// Between the start tag and the end tag (empty for `<x/>`).
    inner: (u32, u32),
}

#[derive(Debug, Clone, Copy)]
struct Attr {
    qname: (u32, u32),
    value: (u32, u32),
    quote: u8,
    /// `xmlns` or `xmlns:p`: declarations are not reported as attributes.
    decl: bool,
}

/// A namespace declaration in scope while parsing.
#[derive(Debug, Clone, Copy)]
struct Decl {
    /// Prefix range; empty for the default namespace.
    prefix: (u32, u32),
    ns: NsRef,
    depth: u32,
}

/// Nesting limit for one stanza; Jingle needs about 7, this leaves room.
/// The writer supports the same depth, so any parsed element can be copied.
pub(crate) const MAX_DEPTH: usize = 64;

/// Parses frames into trees, reusing its vectors between frames.
#[derive(Debug, Default)]
pub struct Parser {
    nodes: Vec<Node>,
    attrs: Vec<Attr>,
    decls: Vec<Decl>,
}

/// One parsed frame: the root element and everything below it.
#[derive(Debug, Clone, Copy)]
pub struct Doc<'a> {
    src: &'a str,
    nodes: &'a [Node],
    attrs: &'a [Attr],
}

fn span(src: &str, part: &str) -> (u32, u32) {
    // Safe pointer arithmetic: quick-xml's slice reader hands out sub-slices
    // of `src`, so the difference of addresses is the offset.
    let start = part.as_ptr() as usize - src.as_ptr() as usize;
    debug_assert!(start + part.len() <= src.len());
    (start as u32, (start + part.len()) as u32)
}

impl Parser {
    /// A parser with empty vectors.
    pub fn new() -> Self {
        Parser::default()
    }

    /// Parses one complete frame. `default_ns` is the stream's content namespace.
    pub fn parse<'a>(
        &'a mut self,
        frame: &'a [u8],
        default_ns: &'static str,
    ) -> Result<Doc<'a>, ParseError> {
        let src = std::str::from_utf8(frame).map_err(|_| ParseError::Encoding)?;
        self.run(src, default_ns, false)
    }

    /// Parses the stream header, an unclosed start tag, as a childless element.
    pub fn parse_open_tag<'a>(&'a mut self, frame: &'a [u8]) -> Result<Doc<'a>, ParseError> {
        let src = std::str::from_utf8(frame).map_err(|_| ParseError::Encoding)?;
        self.run(src, "", true)
    }

    fn run<'a>(
        &'a mut self,
        src: &'a str,
        default_ns: &'static str,
        open_only: bool,
    ) -> Result<Doc<'a>, ParseError> {
        if src.len() >= u32::MAX as usize {
            return Err(ParseError::TooComplex);
        }
        // quick-xml skips a leading byte order mark without counting it in
        // `buffer_position`, which would shift every content range by three
        // bytes: take it off here, so quick-xml never sees one. A second one
        // is character data before the element.
        let src = src.strip_prefix('\u{feff}').unwrap_or(src);
        if src.starts_with('\u{feff}') {
            return Err(ParseError::NotOneElement);
        }
        self.nodes.clear();
        self.attrs.clear();
        self.decls.clear();
        let mut reader = quick_xml::Reader::from_str(src);
        reader.config_mut().trim_text(false);
        let mut stack = [0u32; MAX_DEPTH];
        let mut depth = 0usize;
        let mut root_done = false;
        loop {
            let before = reader.buffer_position() as u32;
            let event = reader.read_event()?;
            let after = reader.buffer_position() as u32;
            match event {
                Event::Start(e) | Event::Empty(e) if root_done => {
                    let _ = e;
                    return Err(ParseError::NotOneElement);
                }
                Event::Start(e) => {
                    if depth == MAX_DEPTH {
                        return Err(ParseError::TooComplex);
                    }
                    let idx = self.open(src, &e, depth as u32, default_ns, before, after)?;
                    if depth > 0 {
                        self.link(stack[depth - 1], idx);
                    }
                    if open_only {
                        return Ok(self.doc(src));
                    }
                    stack[depth] = idx;
                    depth += 1;
                }
                Event::Empty(e) => {
                    let idx = self.open(src, &e, depth as u32, default_ns, before, after)?;
                    self.nodes[idx as usize].inner = (after, after);
                    if depth > 0 {
                        self.link(stack[depth - 1], idx);
                    } else {
                        root_done = true;
                    }
                    self.pop_decls(depth as u32);
                }
                Event::End(_) => {
                    // quick-xml checks that the end name matches.
                    depth -= 1;
                    let node = &mut self.nodes[stack[depth] as usize];
                    node.inner.1 = before;
                    node.outer.1 = after;
                    self.pop_decls(depth as u32);
                    if depth == 0 {
                        root_done = true;
                    }
                }
                Event::Text(t) => {
                    if depth == 0 && !t.as_ref().bytes().all(|b| b.is_ascii_whitespace()) {
                        return Err(ParseError::NotOneElement);
                    }
                }
                Event::CData(_) | Event::GeneralRef(_) => {
                    if depth == 0 {
                        return Err(ParseError::NotOneElement);
                    }
                }
                Event::Comment(_) => return Err(ParseError::Restricted("a comment")),
                Event::PI(_) | Event::Decl(_) => {
                    return Err(ParseError::Restricted("a processing instruction"));
                }
                Event::DocType(_) => {
                    return Err(ParseError::Restricted("a document type declaration"));
                }
                Event::Eof => break,
            }
        }
        if !root_done || depth != 0 {
            return Err(ParseError::NotOneElement);
        }
        Ok(self.doc(src))
    }

    fn doc<'a>(&'a self, src: &'a str) -> Doc<'a> {
        Doc {
            src,
            nodes: &self.nodes,
            attrs: &self.attrs,
        }
    }

    fn link(&mut self, parent: u32, child: u32) {
        let last = self.nodes[parent as usize].last_child;
        if last == NONE {
            self.nodes[parent as usize].first_child = child;
        } else {
            self.nodes[last as usize].next_sibling = child;
        }
        self.nodes[parent as usize].last_child = child;
    }

    fn pop_decls(&mut self, depth: u32) {
        while self.decls.last().is_some_and(|d| d.depth >= depth) {
            self.decls.pop();
        }
    }

    fn open(
        &mut self,
        src: &str,
        e: &BytesStart<'_>,
        depth: u32,
        default_ns: &'static str,
        before: u32,
        after: u32,
    ) -> Result<u32, ParseError> {
        let name: &str = e.name().into_inner();
        let qname = span(src, name);
        let attr_start = self.attrs.len() as u32;
        // quick-xml lets `<` through in a start tag (in a value, say), XML
        // does not. One look over the whole tag is cheaper than one per value.
        if memchr::memchr(b'<', e.as_bytes()).is_some() {
            return Err(ParseError::Syntax("'<' in a start tag".into()));
        }
        // Compared as bytes: slicing `src` as `str` checks char boundaries,
        // which showed in profiles of this loop.
        let bytes = src.as_bytes();
        for a in e.attributes().with_checks(false) {
            let a = a.map_err(|e| ParseError::Syntax(e.to_string()))?;
            let kname: &str = a.key.into_inner();
            let key = span(src, kname);
            let value = match &a.value {
                Cow::Borrowed(v) => span(src, v),
                Cow::Owned(_) => {
                    return Err(ParseError::Syntax("unexpected attribute form".into()));
                }
            };
            let quote = bytes[value.0 as usize - 1];
            let klen = key.1 - key.0;
            for prev in &self.attrs[attr_start as usize..] {
                if prev.qname.1 - prev.qname.0 == klen
                    && &bytes[prev.qname.0 as usize..prev.qname.1 as usize] == kname.as_bytes()
                {
                    return Err(ParseError::DuplicateAttribute(kname.to_string()));
                }
            }
            let decl = if kname == "xmlns" {
                self.decls.push(Decl {
                    prefix: (0, 0),
                    ns: NsRef::Src(value.0, value.1),
                    depth,
                });
                true
            } else if kname.starts_with("xmlns:") {
                self.decls.push(Decl {
                    prefix: (key.0 + 6, key.1),
                    ns: NsRef::Src(value.0, value.1),
                    depth,
                });
                true
            } else {
                false
            };
            self.attrs.push(Attr {
                qname: key,
                value,
                quote,
                decl,
            });
        }
        let (prefix, local_name) = match memchr::memchr(b':', name.as_bytes()) {
            Some(i) => (&name[..i], &name[i + 1..]),
            None => ("", name),
        };
        let local = qname.1 - local_name.len() as u32;
        // quick-xml lets `<>`, `<p:>` and `<p:a:b>` through: an element must
        // have a name, with at most one colon and a non-empty prefix before it.
        if local_name.is_empty()
            || memchr::memchr(b':', local_name.as_bytes()).is_some()
            || (local != qname.0 && prefix.is_empty())
        {
            return Err(ParseError::Syntax(format!(
                "malformed element name '{name}'"
            )));
        }
        let ns = self.resolve(src, prefix, default_ns)?;
        let idx = self.nodes.len() as u32;
        self.nodes.push(Node {
            qname,
            local,
            ns,
            attrs: (attr_start, self.attrs.len() as u32),
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
            outer: (before, after),
            inner: (after, after),
        });
        Ok(idx)
    }

    fn resolve(
        &self,
        src: &str,
        prefix: &str,
        default_ns: &'static str,
    ) -> Result<NsRef, ParseError> {
        let bytes = src.as_bytes();
        for d in self.decls.iter().rev() {
            if (d.prefix.1 - d.prefix.0) as usize == prefix.len()
                && &bytes[d.prefix.0 as usize..d.prefix.1 as usize] == prefix.as_bytes()
            {
                return Ok(d.ns);
            }
        }
        match prefix {
            "" => Ok(NsRef::Static(default_ns)),
            "stream" => Ok(NsRef::Static(ns::STREAMS)),
            "xml" => Ok(NsRef::Static(XML_NS)),
            p => Err(ParseError::UnboundPrefix(p.to_string())),
        }
    }
}

/// An element of a parsed frame: a cheap copyable handle.
#[derive(Clone, Copy)]
pub struct El<'a> {
    doc: Doc<'a>,
    idx: u32,
}

impl std::fmt::Debug for El<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.outer_xml())
    }
}

/// A raw attribute of an element, as it stands in the source.
#[derive(Debug, Clone, Copy)]
pub struct RawAttr<'a> {
    /// Qualified name.
    pub name: &'a str,
    /// Value with entities still escaped.
    pub raw_value: &'a str,
    /// The quote character used in the source.
    pub quote: u8,
}

/// A piece of an element's content: escaped text or a child element.
#[derive(Debug, Clone, Copy)]
pub enum Content<'a> {
    /// Character data as it stands in the source (escaped, or a CDATA section).
    Text(&'a str),
    /// A child element.
    Child(El<'a>),
}

impl<'a> Doc<'a> {
    /// The root element.
    pub fn root(&self) -> El<'a> {
        El { doc: *self, idx: 0 }
    }

    /// The frame's text.
    pub fn source(&self) -> &'a str {
        self.src
    }
}

impl<'a> El<'a> {
    fn node(&self) -> &'a Node {
        &self.doc.nodes[self.idx as usize]
    }

    fn s(&self, r: (u32, u32)) -> &'a str {
        &self.doc.src[r.0 as usize..r.1 as usize]
    }

    /// Local name (without prefix).
    pub fn name(&self) -> &'a str {
        let n = self.node();
        self.s((n.local, n.qname.1))
    }

    /// Qualified name as written.
    pub fn qname(&self) -> &'a str {
        self.s(self.node().qname)
    }

    /// Resolved namespace name, as its declaration is written: not
    /// unescaped, so it compares equal to the namespaces we speak (none of
    /// which needs escaping) without allocating.
    pub fn ns(&self) -> &'a str {
        match self.node().ns {
            NsRef::Static(s) => s,
            NsRef::Src(a, b) => self.s((a, b)),
        }
    }

    /// True when the element has this local name and namespace.
    pub fn is(&self, name: &str, ns: &str) -> bool {
        self.name() == name && self.ns() == ns
    }

    fn attr_list(&self) -> &'a [Attr] {
        let (a, b) = self.node().attrs;
        &self.doc.attrs[a as usize..b as usize]
    }

    /// An attribute's raw (still escaped) value; namespace declarations excluded.
    pub fn attr_raw(&self, name: &str) -> Option<&'a str> {
        self.attr_list()
            .iter()
            .find(|a| !a.decl && self.s(a.qname) == name)
            .map(|a| self.s(a.value))
    }

    /// An attribute's value, unescaped; `None` when absent or when it holds an
    /// unknown entity (a malformed value is treated as missing).
    pub fn attr(&self, name: &str) -> Option<Cow<'a, str>> {
        let raw = self.attr_raw(name)?;
        unescape(raw)
    }

    /// Attribute value when it needs no unescaping (ids, JIDs, numbers);
    /// falls back to an owned copy otherwise.
    pub fn attr_str(&self, name: &str) -> Option<Cow<'a, str>> {
        self.attr(name)
    }

    /// The default namespace this element declares itself (`xmlns='…'`).
    pub fn declared_ns(&self) -> Option<&'a str> {
        self.attr_list()
            .iter()
            .find(|a| a.decl && self.s(a.qname) == "xmlns")
            .map(|a| self.s(a.value))
    }

    /// All attributes except namespace declarations, raw.
    pub fn raw_attrs(&self) -> impl Iterator<Item = RawAttr<'a>> + 'a {
        let el = *self;
        self.attr_list()
            .iter()
            .filter(move |a| !a.decl || el.s(a.qname) != "xmlns")
            .map(move |a| RawAttr {
                name: el.s(a.qname),
                raw_value: el.s(a.value),
                quote: a.quote,
            })
    }

    /// Child elements in document order.
    pub fn children(&self) -> Children<'a> {
        Children {
            doc: self.doc,
            next: self.node().first_child,
        }
    }

    /// The first child with this name and namespace.
    pub fn child(&self, name: &str, ns: &str) -> Option<El<'a>> {
        self.children().find(|c| c.is(name, ns))
    }

    /// The first child in namespace `ns`, whatever its name.
    pub fn child_ns(&self, ns: &str) -> Option<El<'a>> {
        self.children().find(|c| c.ns() == ns)
    }

    /// The first child element, whatever it is (an IQ's payload).
    pub fn first_child(&self) -> Option<El<'a>> {
        self.children().next()
    }

    /// True when the element has no child elements.
    pub fn is_leaf(&self) -> bool {
        self.node().first_child == NONE
    }

    /// The element's direct character data, unescaped (CDATA included).
    /// Text interleaved with child elements is concatenated.
    pub fn text(&self) -> Cow<'a, str> {
        let mut pieces = self.content().filter_map(|c| match c {
            Content::Text(t) => Some(t),
            Content::Child(_) => None,
        });
        let Some(first) = pieces.next() else {
            return Cow::Borrowed("");
        };
        let mut out = text_piece(first);
        for p in pieces {
            out.to_mut().push_str(&text_piece(p));
        }
        out
    }

    /// Content pieces (raw text runs and children) in document order.
    pub fn content(&self) -> ContentIter<'a> {
        let n = self.node();
        ContentIter {
            el: *self,
            pos: n.inner.0,
            child: n.first_child,
        }
    }

    /// The element exactly as received.
    pub fn outer_xml(&self) -> &'a str {
        self.s(self.node().outer)
    }

    /// Between the start and end tags, exactly as received.
    pub fn inner_xml(&self) -> &'a str {
        self.s(self.node().inner)
    }
}

/// Unescapes one raw run of character data, which may hold CDATA sections.
fn text_piece(raw: &str) -> Cow<'_, str> {
    if !raw.contains("<![CDATA[") {
        return unescape(raw).unwrap_or(Cow::Borrowed(""));
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find("<![CDATA[") {
        out.push_str(&unescape(&rest[..i]).unwrap_or(Cow::Borrowed("")));
        let after = &rest[i + 9..];
        let end = after.find("]]>").unwrap_or(after.len());
        out.push_str(&after[..end]);
        rest = after.get(end + 3..).unwrap_or("");
    }
    out.push_str(&unescape(rest).unwrap_or(Cow::Borrowed("")));
    Cow::Owned(out)
}

/// Resolves the five predefined entities and character references.
pub fn unescape(raw: &str) -> Option<Cow<'_, str>> {
    if !raw.contains('&') {
        return Some(Cow::Borrowed(raw));
    }
    quick_xml::escape::unescape(raw).ok()
}

/// Iterator over child elements.
#[derive(Debug, Clone)]
pub struct Children<'a> {
    doc: Doc<'a>,
    next: u32,
}

impl<'a> Iterator for Children<'a> {
    type Item = El<'a>;
    fn next(&mut self) -> Option<El<'a>> {
        if self.next == NONE {
            return None;
        }
        let el = El {
            doc: self.doc,
            idx: self.next,
        };
        self.next = el.node().next_sibling;
        Some(el)
    }
}

/// Iterator over an element's content pieces.
#[derive(Debug, Clone)]
pub struct ContentIter<'a> {
    el: El<'a>,
    pos: u32,
    child: u32,
}

impl<'a> Iterator for ContentIter<'a> {
    type Item = Content<'a>;
    fn next(&mut self) -> Option<Content<'a>> {
        let end = self.el.node().inner.1;
        if self.pos >= end {
            return None;
        }
        let next_child_start = if self.child == NONE {
            end
        } else {
            self.el.doc.nodes[self.child as usize].outer.0
        };
        if self.pos < next_child_start {
            let text = self.el.s((self.pos, next_child_start));
            self.pos = next_child_start;
            return Some(Content::Text(text));
        }
        let c = El {
            doc: self.el.doc,
            idx: self.child,
        };
        self.pos = c.node().outer.1;
        self.child = c.node().next_sibling;
        Some(Content::Child(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::XmlWriter;

    fn with<R>(xml: &str, f: impl FnOnce(El<'_>) -> R) -> R {
        let mut p = Parser::new();
        let doc = p.parse(xml.as_bytes(), ns::CLIENT).unwrap();
        f(doc.root())
    }

    #[test]
    fn names_namespaces_attributes() {
        let xml = "<iq type='set' id='a&amp;b' to=\"r@c.meet.test/x\">\
            <jingle xmlns='urn:xmpp:jingle:1' action='session-initiate'>\
            <content name='audio'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>\
            <payload-type id='111' name='opus'/></description></content></jingle></iq>";
        with(xml, |iq| {
            assert_eq!(iq.name(), "iq");
            assert_eq!(iq.ns(), ns::CLIENT);
            assert_eq!(iq.attr("id").unwrap(), "a&b");
            assert_eq!(iq.attr_raw("id").unwrap(), "a&amp;b");
            assert_eq!(iq.attr("to").unwrap(), "r@c.meet.test/x");
            assert!(iq.attr("xmlns").is_none());
            let j = iq.child("jingle", ns::JINGLE).unwrap();
            assert_eq!(j.attr("action").unwrap(), "session-initiate");
            let c = j.child("content", ns::JINGLE).unwrap();
            let d = c.child("description", ns::JINGLE_RTP).unwrap();
            let pt = d.first_child().unwrap();
            assert_eq!(pt.ns(), ns::JINGLE_RTP, "namespace is inherited");
            assert_eq!(pt.attr("name").unwrap(), "opus");
            assert!(pt.is_leaf());
            assert!(j.child("content", ns::CLIENT).is_none());
        });
    }

    #[test]
    fn prefixes_resolve_including_stream_prefix() {
        with(
            "<stream:features><m:x xmlns:m='urn:m'><m:y/><z/></m:x></stream:features>",
            |f| {
                assert_eq!(f.name(), "features");
                assert_eq!(f.ns(), ns::STREAMS);
                let x = f.first_child().unwrap();
                assert!(x.is("x", "urn:m"));
                let kids: Vec<_> = x.children().map(|c| (c.name(), c.ns())).collect();
                assert_eq!(kids, vec![("y", "urn:m"), ("z", ns::CLIENT)]);
            },
        );
    }

    #[test]
    fn component_default_namespace() {
        let mut p = Parser::new();
        let doc = p.parse(b"<iq type='get'/>", ns::COMPONENT).unwrap();
        assert_eq!(doc.root().ns(), ns::COMPONENT);
    }

    #[test]
    fn text_unescaped_and_cdata() {
        with(
            "<message><body>a &lt; b &amp;&#x41;<![CDATA[<raw>]]>!</body><x/>tail</message>",
            |m| {
                let body = m.child("body", ns::CLIENT).unwrap();
                assert_eq!(body.text(), "a < b &A<raw>!");
                assert_eq!(m.text(), "tail");
            },
        );
    }

    #[test]
    fn rejects_malformed() {
        let mut p = Parser::new();
        for bad in [
            "<a><b></a>",
            "<a x='1' x='2'/>",
            "<a/><b/>",
            "<p:a/>",
            "<a><!-- c --></a>",
            "<a>",
            "text",
            "<a b='<'/>",
        ] {
            assert!(
                p.parse(bad.as_bytes(), ns::CLIENT).is_err(),
                "{bad} must be rejected"
            );
        }
        assert_eq!(
            p.parse(b"<a>\xff</a>", ns::CLIENT).unwrap_err(),
            ParseError::Encoding
        );
    }

    /// Fuzz crash (parse_write_parse): quick-xml accepts `<></>`; the tree
    /// had an element without a name, which the writer cannot write back.
    #[test]
    fn fuzz_doc_element_without_a_name() {
        crate::fuzzing::parse_write_parse(b"<><></></>");
        let mut p = Parser::new();
        for bad in [
            "<><></></>",
            "<></>",
            "<a><p:/></a>",
            "<:a xmlns:='u'/>",
            "<a><:b/></a>",
        ] {
            assert!(
                matches!(
                    p.parse(bad.as_bytes(), ns::CLIENT),
                    Err(ParseError::Syntax(_))
                ),
                "{bad} must be rejected"
            );
        }
        assert!(p.parse(b"<p:a xmlns:p='u'/>", ns::CLIENT).is_ok());
    }

    /// Fuzz crash (parse_write_parse): `<stream:errrn:i …/>` parsed with the
    /// local name `errrn:i`, which a copy turns into an unbound prefix.
    #[test]
    fn fuzz_doc_element_name_with_two_colons() {
        let data: &[u8] =
            b"<stream:errrn:i\x00\x00\x001pxm~ns='urn:i\x00\x00\x001params:xmO\x01\"\x05:xmms'/>";
        crate::fuzzing::parse_write_parse(data);
        let mut p = Parser::new();
        assert!(matches!(
            p.parse(data, ns::CLIENT),
            Err(ParseError::Syntax(_))
        ));
        assert!(matches!(
            p.parse(b"<a><b:c:d xmlns:b='u'/></a>", ns::CLIENT),
            Err(ParseError::Syntax(_))
        ));
    }

    /// Fuzz crash (parse_write_parse): with a byte order mark in front,
    /// every content range was three bytes off, because quick-xml does not
    /// count the mark it skips; text and `inner_xml` came out garbled.
    #[test]
    fn fuzz_doc_byte_order_mark_shifts_no_range() {
        let data: &[u8] = b"\xef\xbb\xbf<message to='a@b/c' type='chat' xml:lang='en'><body>x &lt; y<![CDATA[ <raw> ]] ]]> &amp; z</body><j:json-message xmlns:j='http://8       g/jitmeet'>{\"a\":1}</j:json-message><x xmlns='urn:x' a=\"it's\" b='say &quot;hi&quot;'><y/>tail</x></message>";
        crate::fuzzing::parse_write_parse(data);
        let mut p = Parser::new();
        let doc = p.parse(data, ns::CLIENT).unwrap();
        let m = doc.root();
        assert_eq!(
            m.child("body", ns::CLIENT).unwrap().text(),
            "x < y <raw> ]]  & z"
        );
        assert_eq!(m.child("x", "urn:x").unwrap().text(), "tail");
        assert!(m.outer_xml().starts_with("<message ") && m.outer_xml().ends_with("</message>"));
        assert_eq!(
            p.parse(b"\xef\xbb\xbf\xef\xbb\xbf<a/>", ns::CLIENT)
                .unwrap_err(),
            ParseError::NotOneElement
        );
    }

    #[test]
    fn open_tag_of_stream_header() {
        let mut p = Parser::new();
        let hdr = "<stream:stream xmlns='jabber:component:accept' \
            xmlns:stream='http://etherx.jabber.org/streams' from='focus.meet.test' id='3b7c'>";
        let doc = p.parse_open_tag(hdr.as_bytes()).unwrap();
        let r = doc.root();
        assert!(r.is("stream", ns::STREAMS));
        assert_eq!(r.attr("id").unwrap(), "3b7c");
        assert_eq!(r.attr_raw("xmlns"), None);
    }

    #[test]
    fn copy_roundtrips_with_namespaces() {
        let xml = "<x xmlns='urn:a'><transport xmlns='urn:t' ufrag='u&amp;1' pwd=\"p'q\">\
            <fingerprint xmlns='urn:f' hash='sha-256'>AA:BB</fingerprint>\
            <candidate port='1'/></transport></x>";
        let mut out = Vec::new();
        with(xml, |x| {
            let t = x.first_child().unwrap();
            XmlWriter::new(&mut out).copy(t, "urn:a");
        });
        let copied = String::from_utf8(out).unwrap();
        assert_eq!(
            copied,
            "<transport xmlns='urn:t' ufrag='u&amp;1' pwd=\"p'q\"><fingerprint xmlns='urn:f' \
             hash='sha-256'>AA:BB</fingerprint><candidate port='1'/></transport>"
        );
        // The copy parses to the same values.
        with(&copied, |t| {
            assert_eq!(t.attr("ufrag").unwrap(), "u&1");
            assert_eq!(t.attr("pwd").unwrap(), "p'q");
            assert_eq!(t.child("fingerprint", "urn:f").unwrap().text(), "AA:BB");
            assert_eq!(
                t.child("candidate", "urn:t").unwrap().attr("port").unwrap(),
                "1"
            );
        });
    }

    #[test]
    fn parser_reuses_vectors() {
        let mut p = Parser::new();
        let a = "<presence><x xmlns='a'><item role='p'/></x></presence>";
        p.parse(a.as_bytes(), ns::CLIENT).unwrap();
        let caps = (p.nodes.capacity(), p.attrs.capacity());
        for _ in 0..100 {
            let d = p.parse(a.as_bytes(), ns::CLIENT).unwrap();
            assert_eq!(
                d.root()
                    .first_child()
                    .unwrap()
                    .first_child()
                    .unwrap()
                    .attr("role")
                    .unwrap(),
                "p"
            );
        }
        assert_eq!(caps, (p.nodes.capacity(), p.attrs.capacity()));
    }
}
