//! Service discovery (XEP-0030). The focus asks: disco#items on the XMPP
//! domain and disco#info on each item to find bridges and gateways, and
//! disco#info on occupants to learn their media features. It answers:
//! disco#info on its component, advertising `http://jitsi.org/protocol/focus`.
//!
//! Answers are owned ([`DiscoInfo`], [`DiscoItem`]) because they outlive the
//! frame: the caller keeps them per bridge or per participant.

use super::iq::write_request;
use super::{Iq, IqType, Jid, StanzaParseError, open_stanza};
use crate::xml::{El, XmlWriter, ns};

/// An identity to advertise (`<identity category type name/>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity<'a> {
    /// `category`, e.g. `component`.
    pub category: &'a str,
    /// `type`, e.g. `conference` (named `kind` because `type` is a keyword).
    pub kind: &'a str,
    /// Optional human-readable `name`.
    pub name: Option<&'a str>,
}

/// Writes a disco#info request, optionally for a node.
pub fn write_info_query(
    out: &mut Vec<u8>,
    id: &str,
    from: Option<&str>,
    to: &str,
    node: Option<&str>,
) {
    write_request(out, IqType::Get, id, from, to, |w| {
        w.start_ns("query", ns::DISCO_INFO)
            .attr_opt("node", node)
            .end();
    });
}

/// Writes a disco#items request, optionally for a node.
pub fn write_items_query(
    out: &mut Vec<u8>,
    id: &str,
    from: Option<&str>,
    to: &str,
    node: Option<&str>,
) {
    write_request(out, IqType::Get, id, from, to, |w| {
        w.start_ns("query", ns::DISCO_ITEMS)
            .attr_opt("node", node)
            .end();
    });
}

/// Opens the result `<iq>` and `<query>` answering `request`, echoing the
/// node it asked about (XEP-0030 §3.2: the answer names the node).
fn open_answer<'w, 'b>(
    w: &'w mut XmlWriter<'b>,
    request: &Iq<'_>,
    from: Option<&str>,
    query_ns: &str,
) -> &'w mut XmlWriter<'b> {
    let node = request
        .payload
        .filter(|p| p.is("query", query_ns))
        .and_then(|q| q.attr("node"));
    open_stanza(
        w,
        "iq",
        Some("result"),
        Some(&request.id),
        from.or(request.to.as_deref()),
        request.from.as_deref(),
    );
    w.start_ns("query", query_ns)
        .attr_opt("node", node.as_deref())
}

/// Answers a disco#info request. `from` defaults to the address the request
/// was sent to, as for error replies. The `disco#info` feature is always
/// advertised (XEP-0030 §3.1 requires it), first and once, whether or not
/// `features` lists it; otherwise identities and features are written in
/// the order given.
pub fn write_info_result(
    out: &mut Vec<u8>,
    request: &Iq<'_>,
    from: Option<&str>,
    identities: &[Identity<'_>],
    features: &[&str],
) {
    let mut w = XmlWriter::new(out);
    open_answer(&mut w, request, from, ns::DISCO_INFO);
    for i in identities {
        w.start("identity")
            .attr("category", i.category)
            .attr("type", i.kind)
            .attr_opt("name", i.name)
            .end();
    }
    w.start("feature").attr("var", ns::DISCO_INFO).end();
    for f in features.iter().filter(|f| **f != ns::DISCO_INFO) {
        w.start("feature").attr("var", f).end();
    }
    w.end().end();
}

/// Answers a disco#items request with `items` (possibly none).
pub fn write_items_result(
    out: &mut Vec<u8>,
    request: &Iq<'_>,
    from: Option<&str>,
    items: &[DiscoItem],
) {
    let mut w = XmlWriter::new(out);
    open_answer(&mut w, request, from, ns::DISCO_ITEMS);
    for i in items {
        w.start("item")
            .attr("jid", i.jid.as_str())
            .attr_opt("node", i.node.as_deref())
            .attr_opt("name", i.name.as_deref())
            .end();
    }
    w.end().end();
}

/// A disco#info answer: identities and features.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiscoInfo {
    /// `(category, type, name)` of each identity, in document order.
    pub identities: Vec<(String, String, Option<String>)>,
    /// Each feature's `var`, in document order.
    pub features: Vec<String>,
}

impl DiscoInfo {
    /// Reads a disco#info `<query/>`. Identities without a category or type
    /// and features without a `var` are skipped, not fatal: one sloppy entry
    /// should not hide a bridge's other features.
    pub fn parse(query: El<'_>) -> Result<DiscoInfo, StanzaParseError> {
        if !query.is("query", ns::DISCO_INFO) {
            return Err(StanzaParseError::NotA("a disco#info query"));
        }
        let mut info = DiscoInfo::default();
        for c in query.children() {
            if c.is("identity", ns::DISCO_INFO) {
                if let (Some(cat), Some(ty)) = (c.attr("category"), c.attr("type")) {
                    info.identities.push((
                        cat.into_owned(),
                        ty.into_owned(),
                        c.attr("name").map(|n| n.into_owned()),
                    ));
                }
            } else if c.is("feature", ns::DISCO_INFO) {
                if let Some(var) = c.attr("var") {
                    info.features.push(var.into_owned());
                }
            }
        }
        Ok(info)
    }

    /// True when the feature is advertised.
    pub fn has_feature(&self, f: &str) -> bool {
        self.features.iter().any(|x| x == f)
    }

    /// True when an identity with this category and type is advertised.
    pub fn has_identity(&self, category: &str, kind: &str) -> bool {
        self.identities
            .iter()
            .any(|(c, k, _)| c == category && k == kind)
    }
}

/// One disco#items entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoItem {
    /// The item's address.
    pub jid: Jid,
    /// The node at that address, if any.
    pub node: Option<String>,
    /// Human-readable name, if any.
    pub name: Option<String>,
}

/// Reads a disco#items `<query/>`. Items whose `jid` is missing or invalid
/// are skipped: a server listing one bad component must not hide the rest.
pub fn parse_items(query: El<'_>) -> Result<Vec<DiscoItem>, StanzaParseError> {
    if !query.is("query", ns::DISCO_ITEMS) {
        return Err(StanzaParseError::NotA("a disco#items query"));
    }
    let items = query
        .children()
        .filter(|c| c.is("item", ns::DISCO_ITEMS))
        .filter_map(|c| {
            let jid = Jid::parse(&c.attr("jid")?).ok()?;
            Some(DiscoItem {
                jid,
                node: c.attr("node").map(|n| n.into_owned()),
                name: c.attr("name").map(|n| n.into_owned()),
            })
        })
        .collect();
    Ok(items)
}

/// True for a `get` whose payload is a disco#info query.
pub fn is_info_query(iq: &Iq<'_>) -> bool {
    iq.ty == IqType::Get && iq.payload_is("query", ns::DISCO_INFO)
}

/// True for a `get` whose payload is a disco#items query.
pub fn is_items_query(iq: &Iq<'_>) -> bool {
    iq.ty == IqType::Get && iq.payload_is("query", ns::DISCO_ITEMS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stanza::with_root as with;

    fn with_iq<R>(xml: &str, f: impl FnOnce(&Iq<'_>) -> R) -> R {
        with(xml, ns::COMPONENT, |el| f(&Iq::parse(el).unwrap()))
    }

    fn s(out: Vec<u8>) -> String {
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_queries() {
        let mut out = Vec::new();
        write_info_query(&mut out, "d2", None, "jvb.meet.test", None);
        assert_eq!(
            s(out),
            "<iq type='get' id='d2' to='jvb.meet.test'>\
             <query xmlns='http://jabber.org/protocol/disco#info'/></iq>"
        );
        let mut out = Vec::new();
        write_items_query(
            &mut out,
            "d1",
            Some("focus.meet.test"),
            "meet.test",
            Some("n&1"),
        );
        assert_eq!(
            s(out),
            "<iq type='get' id='d1' from='focus.meet.test' to='meet.test'>\
             <query xmlns='http://jabber.org/protocol/disco#items' node='n&amp;1'/></iq>"
        );
    }

    #[test]
    fn detects_queries() {
        with_iq(
            "<iq type='get' id='1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
            |iq| {
                assert!(is_info_query(iq));
                assert!(!is_items_query(iq));
            },
        );
        with_iq(
            "<iq type='get' id='1'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>",
            |iq| {
                assert!(is_items_query(iq));
                assert!(!is_info_query(iq));
            },
        );
        // A result carrying a query is an answer, not a query.
        with_iq(
            "<iq type='result' id='1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
            |iq| assert!(!is_info_query(iq)),
        );
        with_iq(
            "<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>",
            |iq| assert!(!is_info_query(iq) && !is_items_query(iq)),
        );
    }

    #[test]
    fn info_result_written_and_parsed_back() {
        let req = "<iq type='get' id='q1' from='u@meet.test/r' to='focus.meet.test'>\
            <query xmlns='http://jabber.org/protocol/disco#info' node='http://x#ver'/></iq>";
        let mut out = Vec::new();
        with_iq(req, |iq| {
            write_info_result(
                &mut out,
                iq,
                None,
                &[Identity {
                    category: "component",
                    kind: "focus",
                    name: Some("Jicofo & co"),
                }],
                &[ns::FOCUS, ns::DISCO_INFO, ns::PING],
            );
        });
        let xml = s(out);
        assert_eq!(
            xml,
            "<iq type='result' id='q1' from='focus.meet.test' to='u@meet.test/r'>\
             <query xmlns='http://jabber.org/protocol/disco#info' node='http://x#ver'>\
             <identity category='component' type='focus' name='Jicofo &amp; co'/>\
             <feature var='http://jabber.org/protocol/disco#info'/>\
             <feature var='http://jitsi.org/protocol/focus'/>\
             <feature var='urn:xmpp:ping'/></query></iq>"
        );
        with_iq(&xml, |iq| {
            assert_eq!(iq.ty, IqType::Result);
            let info = DiscoInfo::parse(iq.payload.unwrap()).unwrap();
            assert_eq!(
                info.identities,
                vec![(
                    "component".to_string(),
                    "focus".to_string(),
                    Some("Jicofo & co".to_string())
                )]
            );
            assert_eq!(info.features, [ns::DISCO_INFO, ns::FOCUS, ns::PING]);
            assert!(info.has_feature(ns::FOCUS));
            assert!(!info.has_feature(ns::COLIBRI));
            assert!(info.has_identity("component", "focus"));
            assert!(!info.has_identity("component", "conference"));
        });
    }

    #[test]
    fn info_result_without_node_or_identities() {
        let mut out = Vec::new();
        with_iq(
            "<iq type='get' id='q' from='meet.test'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
            |iq| write_info_result(&mut out, iq, Some("focus.meet.test"), &[], &[]),
        );
        assert_eq!(
            s(out),
            "<iq type='result' id='q' from='focus.meet.test' to='meet.test'>\
             <query xmlns='http://jabber.org/protocol/disco#info'>\
             <feature var='http://jabber.org/protocol/disco#info'/></query></iq>"
        );
    }

    #[test]
    fn parses_a_bridge_answer_leniently() {
        let xml = "<query xmlns='http://jabber.org/protocol/disco#info'>\
            <identity category='component' type='conference' name='JitsiVideobridge'/>\
            <identity category='broken'/>\
            <feature var='http://jitsi.org/protocol/colibri'/>\
            <feature/>\
            <feature var='urn:xmpp:jingle:apps:dtls:0'/>\
            <x xmlns='jabber:x:data' type='result'/></query>";
        with(xml, ns::CLIENT, |q| {
            let info = DiscoInfo::parse(q).unwrap();
            assert_eq!(info.identities.len(), 1);
            assert_eq!(info.identities[0].2.as_deref(), Some("JitsiVideobridge"));
            assert_eq!(
                info.features,
                [
                    "http://jitsi.org/protocol/colibri",
                    "urn:xmpp:jingle:apps:dtls:0"
                ]
            );
        });
        with(
            "<query xmlns='http://jabber.org/protocol/disco#items'/>",
            ns::CLIENT,
            |q| {
                assert_eq!(
                    DiscoInfo::parse(q).unwrap_err(),
                    StanzaParseError::NotA("a disco#info query")
                );
            },
        );
    }

    #[test]
    fn items_written_and_parsed_back() {
        let items = vec![
            DiscoItem {
                jid: Jid::parse("conference.meet.test").unwrap(),
                node: None,
                name: None,
            },
            DiscoItem {
                jid: Jid::parse("jvb.meet.test").unwrap(),
                node: Some("n1".into()),
                name: Some("Bridge 'one'".into()),
            },
        ];
        let mut out = Vec::new();
        with_iq(
            "<iq type='get' id='i' from='focus@auth.meet.test/f' to='meet.test'>\
             <query xmlns='http://jabber.org/protocol/disco#items'/></iq>",
            |iq| write_items_result(&mut out, iq, None, &items),
        );
        let xml = s(out);
        assert_eq!(
            xml,
            "<iq type='result' id='i' from='meet.test' to='focus@auth.meet.test/f'>\
             <query xmlns='http://jabber.org/protocol/disco#items'>\
             <item jid='conference.meet.test'/>\
             <item jid='jvb.meet.test' node='n1' name='Bridge &apos;one&apos;'/></query></iq>"
        );
        with_iq(&xml, |iq| {
            assert_eq!(parse_items(iq.payload.unwrap()).unwrap(), items);
        });
    }

    #[test]
    fn items_with_bad_jids_are_skipped() {
        let xml = "<query xmlns='http://jabber.org/protocol/disco#items'>\
            <item jid='Focus.Meet.Test'/><item jid='bad jid'/><item/><item jid='@x'/>\
            <item jid='jvb.meet.test'/><other jid='x.test'/></query>";
        with(xml, ns::CLIENT, |q| {
            let items = parse_items(q).unwrap();
            let jids: Vec<&str> = items.iter().map(|i| i.jid.as_str()).collect();
            assert_eq!(jids, ["focus.meet.test", "jvb.meet.test"]);
        });
        with(
            "<query xmlns='http://jabber.org/protocol/disco#info'/>",
            ns::CLIENT,
            |q| {
                assert!(parse_items(q).is_err());
            },
        );
    }
}
