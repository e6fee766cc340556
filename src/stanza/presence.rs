//! Presence stanzas (RFC 6121 §4): for the focus, MUC occupancy. Joining a
//! room, occupants arriving and leaving, their roles and their XEP-0115 caps
//! all arrive as presence; the MUC layer reads its `<x/>` children from
//! [`Presence::el`].

use std::borrow::Cow;

use super::{Head, StanzaError, StanzaParseError, error_child, open_stanza, read_head};
use crate::xml::{El, XmlWriter};

/// The presence types; no `type` attribute means [`PresenceType::Available`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PresenceType {
    /// No `type`: the entity is online (in a MUC: joined or changed).
    Available,
    /// `unavailable`: gone (in a MUC: left, kicked, or the room was destroyed).
    Unavailable,
    /// `error`: a presence we sent failed (in a MUC: the join was refused).
    Error,
    /// `subscribe`
    Subscribe,
    /// `subscribed`
    Subscribed,
    /// `unsubscribe`
    Unsubscribe,
    /// `unsubscribed`
    Unsubscribed,
    /// `probe`
    Probe,
}

impl PresenceType {
    /// The `type` attribute value; `None` for `Available`, which has none.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            PresenceType::Available => return None,
            PresenceType::Unavailable => "unavailable",
            PresenceType::Error => "error",
            PresenceType::Subscribe => "subscribe",
            PresenceType::Subscribed => "subscribed",
            PresenceType::Unsubscribe => "unsubscribe",
            PresenceType::Unsubscribed => "unsubscribed",
            PresenceType::Probe => "probe",
        })
    }

    /// The type for an attribute value. `available` is not a defined value
    /// (availability is the absence of `type`), so it is `None` like any
    /// other unknown value.
    pub fn from_name(name: &str) -> Option<PresenceType> {
        Some(match name {
            "unavailable" => PresenceType::Unavailable,
            "error" => PresenceType::Error,
            "subscribe" => PresenceType::Subscribe,
            "subscribed" => PresenceType::Subscribed,
            "unsubscribe" => PresenceType::Unsubscribe,
            "unsubscribed" => PresenceType::Unsubscribed,
            "probe" => PresenceType::Probe,
            _ => return None,
        })
    }
}

/// A received presence, borrowing its frame.
#[derive(Debug, Clone)]
pub struct Presence<'a> {
    /// The type.
    pub ty: PresenceType,
    /// The sender as received (in a MUC: the occupant JID `room@muc/nick`).
    pub from: Option<Cow<'a, str>>,
    /// The recipient as received.
    pub to: Option<Cow<'a, str>>,
    /// The id, if any (presence ids are optional).
    pub id: Option<Cow<'a, str>>,
    /// The `<presence/>` element itself.
    pub el: El<'a>,
}

impl<'a> Presence<'a> {
    /// Reads a `<presence/>` in either stanza namespace. An unknown `type`
    /// is an error: RFC 6120 §8.3.3 has the server bounce it, so one that
    /// reaches us is broken, and guessing "available" could seat a ghost.
    pub fn parse(el: El<'a>) -> Result<Presence<'a>, StanzaParseError> {
        let Head { ty, from, to, id } = read_head(&el, "presence", "<presence/>", |ty| match ty {
            None => Ok(PresenceType::Available),
            Some(t) => PresenceType::from_name(&t)
                .ok_or_else(|| StanzaParseError::bad_attribute("type", &t)),
        })?;
        Ok(Presence {
            ty,
            from,
            to,
            id,
            el,
        })
    }

    /// For `type='error'`, the `<error/>` child parsed (`undefined-condition`
    /// when the peer left it out); `None` for every other type.
    pub fn error(&self) -> Option<StanzaError> {
        (self.ty == PresenceType::Error).then(|| error_child(&self.el))
    }

    /// The text of a direct child in the stanza namespace (`show`, `status`,
    /// `priority`), if present.
    fn stanza_child_text(&self, name: &str) -> Option<Cow<'a, str>> {
        self.el.child(name, self.el.ns()).map(|c| c.text())
    }

    /// `<show/>` (`away`, `chat`, `dnd`, `xa`), if present.
    pub fn show(&self) -> Option<Cow<'a, str>> {
        self.stanza_child_text("show")
    }

    /// `<status/>` text, if present.
    pub fn status(&self) -> Option<Cow<'a, str>> {
        self.stanza_child_text("status")
    }

    /// `<priority/>` as a number; absent or unreadable is `None`.
    pub fn priority(&self) -> Option<i8> {
        self.stanza_child_text("priority")?.trim().parse().ok()
    }
}

/// Writes a presence with the children the closure writes. Presence ids are
/// optional, so `id` is too.
pub fn write_presence(
    out: &mut Vec<u8>,
    ty: PresenceType,
    id: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    children: impl FnOnce(&mut XmlWriter<'_>),
) {
    let mut w = XmlWriter::new(out);
    open_stanza(&mut w, "presence", ty.name(), id, from, to);
    children(&mut w);
    w.end();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stanza::Condition;
    use crate::stanza::with_root as with;
    use crate::xml::ns;

    #[test]
    fn parses_an_occupant_presence() {
        let xml = "<presence from='room@conference.meet.test/ab12' to='focus@auth.meet.test/f' id='p1'>\
            <show>away</show><status>brb &amp; back</status><priority> 5 </priority>\
            <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v='/>\
            <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='participant'/></x>\
            </presence>";
        with(xml, ns::CLIENT, |el| {
            let p = Presence::parse(el).unwrap();
            assert_eq!(p.ty, PresenceType::Available);
            assert_eq!(p.from.as_deref(), Some("room@conference.meet.test/ab12"));
            assert_eq!(p.to.as_deref(), Some("focus@auth.meet.test/f"));
            assert_eq!(p.id.as_deref(), Some("p1"));
            assert_eq!(p.show().as_deref(), Some("away"));
            assert_eq!(p.status().as_deref(), Some("brb & back"));
            assert_eq!(p.priority(), Some(5));
            assert_eq!(p.error(), None);
            let item =
                p.el.child("x", ns::MUC_USER)
                    .and_then(|x| x.child("item", ns::MUC_USER))
                    .unwrap();
            assert_eq!(item.attr("role").unwrap(), "participant");
        });
    }

    #[test]
    fn every_type_parses_and_round_trips() {
        for ty in [
            PresenceType::Unavailable,
            PresenceType::Error,
            PresenceType::Subscribe,
            PresenceType::Subscribed,
            PresenceType::Unsubscribe,
            PresenceType::Unsubscribed,
            PresenceType::Probe,
        ] {
            let name = ty.name().unwrap();
            assert_eq!(PresenceType::from_name(name), Some(ty));
            with(&format!("<presence type='{name}'/>"), ns::COMPONENT, |el| {
                assert_eq!(Presence::parse(el).unwrap().ty, ty);
            });
        }
        assert_eq!(PresenceType::Available.name(), None);
        assert_eq!(PresenceType::from_name("available"), None);
    }

    #[test]
    fn rejects_unknown_type_and_non_presence() {
        with("<presence type='available'/>", ns::CLIENT, |el| {
            assert_eq!(
                Presence::parse(el).unwrap_err(),
                StanzaParseError::BadAttribute("type", "available".into())
            );
        });
        with("<message/>", ns::CLIENT, |el| {
            assert_eq!(
                Presence::parse(el).unwrap_err(),
                StanzaParseError::NotA("<presence/>")
            );
        });
        with("<presence xmlns='urn:x'/>", ns::CLIENT, |el| {
            assert!(Presence::parse(el).is_err());
        });
    }

    #[test]
    fn error_presence_from_a_refused_join() {
        let xml = "<presence type='error' from='room@conference.meet.test/focus'>\
            <x xmlns='http://jabber.org/protocol/muc'/>\
            <error type='cancel' by='room@conference.meet.test'>\
            <conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>";
        with(xml, ns::CLIENT, |el| {
            let p = Presence::parse(el).unwrap();
            let e = p.error().unwrap();
            assert_eq!(e.condition, Condition::Conflict);
        });
        with("<presence type='error'/>", ns::CLIENT, |el| {
            let e = Presence::parse(el).unwrap().error().unwrap();
            assert_eq!(e.condition, Condition::UndefinedCondition);
        });
    }

    #[test]
    fn optional_children_absent_or_bad() {
        with(
            "<presence><priority>high</priority><status xmlns='urn:x'>no</status></presence>",
            ns::CLIENT,
            |el| {
                let p = Presence::parse(el).unwrap();
                assert_eq!(p.priority(), None);
                assert_eq!(p.status(), None, "status in another namespace is not ours");
                assert_eq!(p.show(), None);
                assert_eq!(p.id, None);
            },
        );
    }

    #[test]
    fn writes_a_join_and_a_leave() {
        let mut out = Vec::new();
        write_presence(
            &mut out,
            PresenceType::Available,
            None,
            None,
            Some("room@conference.meet.test/focus"),
            |w| {
                w.start_ns("x", ns::MUC).end();
            },
        );
        write_presence(
            &mut out,
            PresenceType::Unavailable,
            Some("l1"),
            None,
            Some("room@conference.meet.test/focus"),
            |_| {},
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<presence to='room@conference.meet.test/focus'>\
             <x xmlns='http://jabber.org/protocol/muc'/></presence>\
             <presence type='unavailable' id='l1' to='room@conference.meet.test/focus'/>"
        );
    }
}
