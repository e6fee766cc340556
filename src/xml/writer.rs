//! Serialising XML straight into a connection's write buffer.
//!
//! No intermediate tree: callers open elements, add attributes and text, and
//! close them; the writer escapes and keeps a small fixed stack of open
//! element names as ranges of the output itself, so writing a stanza does not
//! allocate beyond the buffer's own growth.

use super::doc::El;

/// Deepest nesting the writer supports; Jingle offers need about 7. Twice
/// what the parser accepts, so that [`XmlWriter::copy`] can place anything a
/// peer sent (say, a transport) inside a stanza we are building without ever
/// reaching the limit, which panics.
const MAX_DEPTH: usize = 2 * super::doc::MAX_DEPTH;

/// Writes one or more elements at the end of `out`.
#[derive(Debug)]
pub struct XmlWriter<'b> {
    out: &'b mut Vec<u8>,
    /// Open elements: byte range of each name inside `out`.
    stack: [(u32, u32); MAX_DEPTH],
    depth: usize,
    /// The last start tag is still open (`<name attr='…'` without `>`).
    in_start: bool,
}

impl<'b> XmlWriter<'b> {
    /// A writer appending to `out`.
    pub fn new(out: &'b mut Vec<u8>) -> Self {
        XmlWriter {
            out,
            stack: [(0, 0); MAX_DEPTH],
            depth: 0,
            in_start: false,
        }
    }

    fn close_start(&mut self) {
        if self.in_start {
            self.out.push(b'>');
            self.in_start = false;
        }
    }

    /// Opens `<name`. Attributes may follow until content or `end`.
    pub fn start(&mut self, name: &str) -> &mut Self {
        assert!(
            self.depth < MAX_DEPTH,
            "XML writer nesting deeper than {MAX_DEPTH}"
        );
        self.close_start();
        self.out.push(b'<');
        let at = self.out.len() as u32;
        self.out.extend_from_slice(name.as_bytes());
        self.stack[self.depth] = (at, name.len() as u32);
        self.depth += 1;
        self.in_start = true;
        self
    }

    /// Opens `<name xmlns='ns'`.
    pub fn start_ns(&mut self, name: &str, ns: &str) -> &mut Self {
        self.start(name).attr("xmlns", ns)
    }

    /// Adds an attribute to the open start tag; the value is escaped.
    pub fn attr(&mut self, name: &str, value: &str) -> &mut Self {
        debug_assert!(self.in_start, "attribute {name} outside a start tag");
        self.out.push(b' ');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"='");
        escape_into(self.out, value, true);
        self.out.push(b'\'');
        self
    }

    /// Adds the attribute only when a value is given.
    pub fn attr_opt(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.attr(name, v);
        }
        self
    }

    /// Adds an attribute whose value is already escaped for `quote`.
    fn attr_raw(&mut self, name: &str, value: &str, quote: u8) {
        self.out.push(b' ');
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(b'=');
        self.out.push(quote);
        self.out.extend_from_slice(value.as_bytes());
        self.out.push(quote);
    }

    /// Adds an attribute with a number value.
    pub fn attr_num(&mut self, name: &str, value: impl std::fmt::Display) -> &mut Self {
        use std::io::Write;
        self.out.push(b' ');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"='");
        let _ = write!(self.out, "{value}");
        self.out.push(b'\'');
        self
    }

    /// Writes escaped character data inside the current element.
    pub fn text(&mut self, text: &str) -> &mut Self {
        self.close_start();
        escape_into(self.out, text, false);
        self
    }

    /// Writes markup that is already serialised and well-formed.
    pub fn raw(&mut self, xml: &str) -> &mut Self {
        self.close_start();
        self.out.extend_from_slice(xml.as_bytes());
        self
    }

    /// Closes the innermost open element (`/>` when it has no content).
    pub fn end(&mut self) -> &mut Self {
        assert!(self.depth > 0, "XML writer: end() without an open element");
        self.depth -= 1;
        if self.in_start {
            self.out.extend_from_slice(b"/>");
            self.in_start = false;
        } else {
            let (at, len) = self.stack[self.depth];
            self.out.extend_from_slice(b"</");
            self.out
                .extend_from_within(at as usize..(at + len) as usize);
            self.out.push(b'>');
        }
        self
    }

    /// `<name>text</name>`.
    pub fn text_element(&mut self, name: &str, text: &str) -> &mut Self {
        self.start(name).text(text).end()
    }

    /// Open elements not yet closed.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Copies a parsed element and its subtree. Prefixes are dropped and
    /// namespaces written as default `xmlns` where they differ from
    /// `parent_ns`, so the copy means the same wherever it is placed.
    /// Attribute values and text are copied as received (already escaped).
    pub fn copy(&mut self, el: El<'_>, parent_ns: &str) -> &mut Self {
        let ns = el.ns();
        self.start(el.name());
        if ns != parent_ns {
            // `ns` is the declaration as written (see `El::ns`), already
            // escaped: write it verbatim, in a quote it does not contain
            // (a raw value never holds both kinds of quote).
            let quote = if ns.contains('\'') { b'"' } else { b'\'' };
            self.attr_raw("xmlns", ns, quote);
        }
        for a in el.raw_attrs() {
            self.attr_raw(a.name, a.raw_value, a.quote);
        }
        let mut any_child = false;
        for piece in el.content() {
            match piece {
                super::doc::Content::Text(raw) => {
                    self.raw(raw);
                }
                super::doc::Content::Child(c) => {
                    any_child = true;
                    self.copy(c, ns);
                }
            }
        }
        let _ = any_child;
        self.end()
    }
}

/// Bytes that need escaping: 1 in text and attribute values (`&`, `<`,
/// `>`), 2 only in attribute values (`'`, `"`).
const ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'&' as usize] = 1;
    t[b'<' as usize] = 1;
    t[b'>' as usize] = 1;
    t[b'\'' as usize] = 2;
    t[b'"' as usize] = 2;
    t
};

/// Escapes `s` for XML text (`&`, `<`, `>`) or a single-quoted attribute
/// value (also `'` and `"`). Most values need nothing escaped: they are
/// scanned with one table lookup per byte and copied in one piece.
pub fn escape_into(out: &mut Vec<u8>, s: &str, attr: bool) {
    let bytes = s.as_bytes();
    let mask = if attr { 3 } else { 1 };
    let Some(first) = bytes.iter().position(|&b| ESCAPE[b as usize] & mask != 0) else {
        out.extend_from_slice(bytes);
        return;
    };
    out.extend_from_slice(&bytes[..first]);
    let mut last = first;
    for (i, &b) in bytes.iter().enumerate().skip(first) {
        if ESCAPE[b as usize] & mask == 0 {
            continue;
        }
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'\'' => b"&apos;",
            _ => b"&quot;",
        };
        out.extend_from_slice(&bytes[last..i]);
        out.extend_from_slice(rep);
        last = i + 1;
    }
    out.extend_from_slice(&bytes[last..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[u8]) -> &str {
        std::str::from_utf8(v).unwrap()
    }

    #[test]
    fn writes_nested_elements_and_escapes() {
        let mut out = Vec::new();
        let mut w = XmlWriter::new(&mut out);
        w.start("iq").attr("type", "set").attr("id", "a'b\"c<&>");
        w.start_ns("query", "jabber:iq:x").end();
        w.start("body").text("1 < 2 & 'q' > \"0\"").end();
        w.end();
        assert_eq!(
            s(&out),
            "<iq type='set' id='a&apos;b&quot;c&lt;&amp;&gt;'><query xmlns='jabber:iq:x'/>\
             <body>1 &lt; 2 &amp; 'q' &gt; \"0\"</body></iq>"
        );
    }

    #[test]
    fn appends_to_existing_buffer() {
        let mut out = b"<x/>".to_vec();
        XmlWriter::new(&mut out)
            .start("presence")
            .attr_opt("to", None)
            .attr_num("n", 5)
            .end();
        assert_eq!(s(&out), "<x/><presence n='5'/>");
    }

    #[test]
    fn unicode_passes_through() {
        let mut out = Vec::new();
        XmlWriter::new(&mut out).text_element("nick", "Zoë 日本");
        assert_eq!(s(&out), "<nick>Zoë 日本</nick>");
    }

    #[test]
    #[should_panic(expected = "without an open element")]
    fn unbalanced_end_panics() {
        let mut out = Vec::new();
        XmlWriter::new(&mut out).end();
    }

    /// Fuzz crash (parse_write_parse): a namespace holding `"` (or `>`, `&`)
    /// was escaped a second time by `copy`, so the copy had another namespace.
    #[test]
    fn fuzz_writer_copy_keeps_namespace_as_written() {
        let data: &[u8] = b"<stream:error><not-authorized xm~ns='urn:\x0d\x00\x00\x00ietf:params:xml:ns:xmpp-rmpp-s*treams'/><text xmlns='urn:ietf:params:xml:nxml:ns:xmpp-s*trea\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"streams-str\x07\x00\x00\x00' xml:lang='en'>bad secret</text></stream:error>";
        crate::fuzzing::parse_write_parse(data);
        for (xml, copied) in [
            ("<r><t xmlns='a\"b'/></r>", "<r><t xmlns='a\"b'/></r>"),
            (
                "<r><t xmlns=\"a'b&amp;c>\"/></r>",
                "<r><t xmlns=\"a'b&amp;c>\"/></r>",
            ),
        ] {
            let mut p = crate::xml::Parser::new();
            let doc = p.parse(xml.as_bytes(), crate::xml::ns::CLIENT).unwrap();
            let mut out = Vec::new();
            XmlWriter::new(&mut out).copy(doc.root(), crate::xml::ns::CLIENT);
            assert_eq!(s(&out), copied);
            crate::fuzzing::parse_write_parse(xml.as_bytes());
        }
    }

    /// Fuzz crash (parse_write_parse, from a deep seed): the parser accepts
    /// 64 levels but the writer only had room for 32, so copying a deep
    /// element panicked.
    #[test]
    fn fuzz_writer_copies_as_deep_as_the_parser_parses() {
        let data = format!(
            "<iq type='set'>{}deep{}</iq>",
            (0..40)
                .map(|i| format!("<x{i} xmlns='urn:d{}'>", i % 3))
                .collect::<String>(),
            (0..40)
                .rev()
                .map(|i| format!("</x{i}>"))
                .collect::<String>()
        );
        crate::fuzzing::parse_write_parse(data.as_bytes());
        let deepest = format!("{}{}", "<a>".repeat(64), "</a>".repeat(64));
        crate::fuzzing::parse_write_parse(deepest.as_bytes());
        // Even into a stanza that is itself as deep as a parsed one can be.
        let mut p = crate::xml::Parser::new();
        let doc = p.parse(deepest.as_bytes(), crate::xml::ns::CLIENT).unwrap();
        let mut out = Vec::new();
        let mut w = XmlWriter::new(&mut out);
        for _ in 0..64 {
            w.start("b");
        }
        w.copy(doc.root(), crate::xml::ns::CLIENT);
        assert_eq!(w.depth(), 64);
    }
}
