//! XMPP ping (XEP-0199). The server pings the focus's connections and
//! expects an empty result; the focus pings to keep both of its streams
//! alive (the keep-alive machine decides when, this module only says what
//! the stanzas look like).

use super::iq::{write_empty_result, write_request};
use super::{Iq, IqType};
use crate::xml::ns;

/// True for a `get` carrying `<ping xmlns='urn:xmpp:ping'/>`.
pub fn is_ping(iq: &Iq<'_>) -> bool {
    iq.ty == IqType::Get && iq.payload_is("ping", ns::PING)
}

/// Writes a ping request.
pub fn write_ping(out: &mut Vec<u8>, id: &str, from: Option<&str>, to: &str) {
    write_request(out, IqType::Get, id, from, to, |w| {
        w.start_ns("ping", ns::PING).end();
    });
}

/// Answers a ping: an empty result to the sender with the same id, from
/// `from` or, when that is `None`, from the address the ping was sent to.
pub fn write_pong(out: &mut Vec<u8>, ping: &Iq<'_>, from: Option<&str>) {
    write_empty_result(
        out,
        &ping.id,
        from.or(ping.to.as_deref()),
        ping.from.as_deref(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{El, Parser};

    fn with_iq<R>(xml: &str, f: impl FnOnce(&Iq<'_>) -> R) -> R {
        let mut p = Parser::new();
        let doc = p.parse(xml.as_bytes(), ns::COMPONENT).unwrap();
        let el: El<'_> = doc.root();
        f(&Iq::parse(el).unwrap())
    }

    #[test]
    fn detects_pings() {
        with_iq(
            "<iq type='get' id='s2c1' from='meet.test' to='focus.meet.test'><ping xmlns='urn:xmpp:ping'/></iq>",
            |iq| assert!(is_ping(iq)),
        );
        // Prefixed form, same namespace.
        with_iq(
            "<iq type='get' id='2'><p:ping xmlns:p='urn:xmpp:ping'/></iq>",
            |iq| assert!(is_ping(iq)),
        );
    }

    #[test]
    fn non_pings() {
        for xml in [
            // A set is not a ping, nor is the answer.
            "<iq type='set' id='1'><ping xmlns='urn:xmpp:ping'/></iq>",
            "<iq type='result' id='1'><ping xmlns='urn:xmpp:ping'/></iq>",
            // Wrong namespace, wrong name, no payload.
            "<iq type='get' id='1'><ping xmlns='urn:xmpp:pong'/></iq>",
            "<iq type='get' id='1'><pong xmlns='urn:xmpp:ping'/></iq>",
            "<iq type='get' id='1'/>",
            // A ping that is not the payload (after another child).
            "<iq type='get' id='1'><query xmlns='jabber:iq:version'/><ping xmlns='urn:xmpp:ping'/></iq>",
        ] {
            with_iq(xml, |iq| assert!(!is_ping(iq), "{xml}"));
        }
    }

    #[test]
    fn writes_a_ping_that_reads_back_as_one() {
        let mut out = Vec::new();
        write_ping(&mut out, "ka-1", Some("focus.meet.test"), "meet.test");
        let xml = String::from_utf8(out).unwrap();
        assert_eq!(
            xml,
            "<iq type='get' id='ka-1' from='focus.meet.test' to='meet.test'>\
             <ping xmlns='urn:xmpp:ping'/></iq>"
        );
        with_iq(&xml, |iq| {
            assert!(is_ping(iq));
            assert_eq!(iq.id, "ka-1");
        });
    }

    #[test]
    fn answers_a_ping() {
        let mut out = Vec::new();
        with_iq(
            "<iq type='get' id='s&amp;1' from='meet.test' to='focus.meet.test'><ping xmlns='urn:xmpp:ping'/></iq>",
            |iq| write_pong(&mut out, iq, None),
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<iq type='result' id='s&amp;1' from='focus.meet.test' to='meet.test'/>"
        );
        let mut out = Vec::new();
        with_iq(
            "<iq type='get' id='c' from='meet.test'><ping xmlns='urn:xmpp:ping'/></iq>",
            |iq| write_pong(&mut out, iq, Some("focus@auth.meet.test/f")),
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<iq type='result' id='c' from='focus@auth.meet.test/f' to='meet.test'/>"
        );
    }
}
