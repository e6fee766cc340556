//! Jitsi mute IQs (protocol.md §2.8): a participant asks the focus to mute
//! itself or someone else, and the focus tells a participant it was muted.
//!
//! ```xml
//! <iq type='set' id='mu1' from='room@conference.example.com/abcd1234' …>
//!   <mute xmlns='http://jitsi.org/jitmeet/audio' jid='room@conference.example.com/ef567890'>true</mute>
//! </iq>
//! ```
//!
//! The element is `<mute/>` in all three namespaces (audio, video, desktop).
//! `jid` names the target occupant, `actor` (only in what the focus sends)
//! the occupant who muted it, and the text says mute or unmute.

use std::borrow::Cow;

use super::iq::{IqType, write_request};
use super::{Iq, StanzaParseError};
use crate::xml::{El, ns};

/// Which media a mute IQ is about; each has its own namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// `http://jitsi.org/jitmeet/audio`
    Audio,
    /// `http://jitsi.org/jitmeet/video`
    Video,
    /// `http://jitsi.org/jitmeet/desktop` (screen sharing)
    Desktop,
}

impl MediaKind {
    /// The IQ payload namespace.
    pub fn ns(self) -> &'static str {
        match self {
            MediaKind::Audio => ns::JITMEET_AUDIO,
            MediaKind::Video => ns::JITMEET_VIDEO,
            MediaKind::Desktop => ns::JITMEET_DESKTOP,
        }
    }

    /// The kind for a payload namespace; `None` for anything else.
    pub fn from_ns(ns: &str) -> Option<MediaKind> {
        Some(match ns {
            ns::JITMEET_AUDIO => MediaKind::Audio,
            ns::JITMEET_VIDEO => MediaKind::Video,
            ns::JITMEET_DESKTOP => MediaKind::Desktop,
            _ => return None,
        })
    }

    /// A short name for log lines.
    pub fn name(self) -> &'static str {
        match self {
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
            MediaKind::Desktop => "desktop",
        }
    }
}

/// A `<mute/>` payload, borrowing its frame. `jid` and `mute` are optional
/// here because Jicofo answers their absence with `bad-request` rather than
/// ignoring the IQ: the caller decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MuteRequest<'a> {
    /// Audio, video or desktop (from the namespace).
    pub kind: MediaKind,
    /// The occupant JID to (un)mute, as received; `None` when absent or
    /// unreadable.
    pub jid: Option<Cow<'a, str>>,
    /// `true` mute, `false` unmute (the text, trimmed, ASCII case ignored);
    /// `None` when the text is empty or anything else. Jicofo takes any
    /// text other than `true` as unmute; refusing it is safer than
    /// unmuting on garbage.
    pub mute: Option<bool>,
    /// Who asked for the mute (in the focus's notifications), as received.
    pub actor: Option<Cow<'a, str>>,
}

impl<'a> MuteRequest<'a> {
    /// Reads a `<mute/>` payload in one of the three namespaces; anything
    /// else is an error. Attributes with unknown entities read as absent.
    pub fn parse(payload: El<'a>) -> Result<MuteRequest<'a>, StanzaParseError> {
        let kind = MediaKind::from_ns(payload.ns())
            .filter(|_| payload.name() == "mute")
            .ok_or(StanzaParseError::NotA("a mute request"))?;
        let text = payload.text();
        let t = text.trim();
        let mute = if t.eq_ignore_ascii_case("true") {
            Some(true)
        } else if t.eq_ignore_ascii_case("false") {
            Some(false)
        } else {
            None
        };
        Ok(MuteRequest {
            kind,
            jid: payload.attr("jid"),
            mute,
            actor: payload.attr("actor"),
        })
    }

    /// The request in an IQ, if its payload is one (any IQ type: the caller
    /// checks that it is a `set`).
    pub fn from_iq(iq: &Iq<'a>) -> Option<MuteRequest<'a>> {
        MuteRequest::parse(iq.payload?).ok()
    }
}

/// Writes the IQ set the focus sends to a participant that another one
/// muted: `<mute xmlns=… jid='target' actor='muter'>true</mute>`. `from` is
/// needed on the component connection only.
#[allow(clippy::too_many_arguments)]
pub fn write_mute_notification(
    out: &mut Vec<u8>,
    id: &str,
    from: Option<&str>,
    to: &str,
    kind: MediaKind,
    target_jid: &str,
    mute: bool,
    actor: Option<&str>,
) {
    write_request(out, IqType::Set, id, from, to, |w| {
        w.start_ns("mute", kind.ns())
            .attr("jid", target_jid)
            .attr_opt("actor", actor)
            .text(if mute { "true" } else { "false" })
            .end();
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::Parser;

    fn with_iq<R>(xml: &str, f: impl FnOnce(&Iq<'_>) -> R) -> R {
        let mut p = Parser::new();
        let doc = p.parse(xml.as_bytes(), ns::CLIENT).unwrap();
        f(&Iq::parse(doc.root()).unwrap())
    }

    #[test]
    fn parses_the_request_of_section_2_8() {
        let xml = "<iq type='set' id='mu1' to='focus@auth.example.com/focus' \
            from='myroom@conference.example.com/abcd1234'>\
            <mute xmlns='http://jitsi.org/jitmeet/audio' \
            jid='myroom@conference.example.com/ef567890'>true</mute></iq>";
        with_iq(xml, |iq| {
            let m = MuteRequest::from_iq(iq).unwrap();
            assert_eq!(
                m,
                MuteRequest {
                    kind: MediaKind::Audio,
                    jid: Some("myroom@conference.example.com/ef567890".into()),
                    mute: Some(true),
                    actor: None,
                }
            );
        });
    }

    #[test]
    fn every_kind_and_value() {
        for (nsv, kind) in [
            (ns::JITMEET_AUDIO, MediaKind::Audio),
            (ns::JITMEET_VIDEO, MediaKind::Video),
            (ns::JITMEET_DESKTOP, MediaKind::Desktop),
        ] {
            assert_eq!(kind.ns(), nsv);
            for (text, want) in [
                ("false", Some(false)),
                (" TRUE\n", Some(true)),
                ("", None),
                ("yes", None),
                ("1", None),
            ] {
                let xml = format!(
                    "<iq type='set' id='1'><mute xmlns='{nsv}' jid='r@m/x' actor='r@m/y'>{text}</mute></iq>"
                );
                with_iq(&xml, |iq| {
                    let m = MuteRequest::from_iq(iq).unwrap();
                    assert_eq!(m.kind, kind);
                    assert_eq!(m.mute, want, "{text:?}");
                    assert_eq!(m.jid.as_deref(), Some("r@m/x"));
                    assert_eq!(m.actor.as_deref(), Some("r@m/y"));
                });
            }
        }
    }

    #[test]
    fn missing_jid_and_mute_are_none_not_errors() {
        with_iq(
            "<iq type='set' id='1'><mute xmlns='http://jitsi.org/jitmeet/video'/></iq>",
            |iq| {
                let m = MuteRequest::from_iq(iq).unwrap();
                assert_eq!(m.kind, MediaKind::Video);
                assert_eq!((m.jid, m.mute, m.actor), (None, None, None));
            },
        );
        with_iq(
            "<iq type='set' id='1'><mute xmlns='http://jitsi.org/jitmeet/desktop' jid='a&bad;'>false</mute></iq>",
            |iq| {
                let m = MuteRequest::from_iq(iq).unwrap();
                assert_eq!((m.jid, m.mute), (None, Some(false)));
            },
        );
    }

    #[test]
    fn other_payloads_are_not_mute_requests() {
        for xml in [
            "<iq type='set' id='1'><mute xmlns='http://jitsi.org/jitmeet/other'>true</mute></iq>",
            "<iq type='set' id='1'><unmute xmlns='http://jitsi.org/jitmeet/audio'/></iq>",
            "<iq type='set' id='1'><mute>true</mute></iq>",
            "<iq type='result' id='1'/>",
        ] {
            with_iq(xml, |iq| {
                assert_eq!(MuteRequest::from_iq(iq), None, "{xml}");
                if let Some(p) = iq.payload {
                    assert_eq!(
                        MuteRequest::parse(p).unwrap_err(),
                        StanzaParseError::NotA("a mute request")
                    );
                }
            });
        }
        assert_eq!(MediaKind::from_ns("urn:x"), None);
    }

    #[test]
    fn writes_the_notification_with_actor() {
        let mut out = Vec::new();
        write_mute_notification(
            &mut out,
            "n1",
            None,
            "myroom@conference.example.com/ef567890",
            MediaKind::Audio,
            "myroom@conference.example.com/ef567890",
            true,
            Some("myroom@conference.example.com/abcd1234"),
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<iq type='set' id='n1' to='myroom@conference.example.com/ef567890'>\
             <mute xmlns='http://jitsi.org/jitmeet/audio' jid='myroom@conference.example.com/ef567890' \
             actor='myroom@conference.example.com/abcd1234'>true</mute></iq>"
        );

        let mut out = Vec::new();
        write_mute_notification(
            &mut out,
            "n2",
            Some("focus@auth.example.com/focus"),
            "r@m/x",
            MediaKind::Desktop,
            "r@m/x",
            false,
            None,
        );
        let xml = String::from_utf8(out).unwrap();
        assert_eq!(
            xml,
            "<iq type='set' id='n2' from='focus@auth.example.com/focus' to='r@m/x'>\
             <mute xmlns='http://jitsi.org/jitmeet/desktop' jid='r@m/x'>false</mute></iq>"
        );
        // And it reads back as the same request.
        with_iq(&xml, |iq| {
            let m = MuteRequest::from_iq(iq).unwrap();
            assert_eq!(
                (m.kind, m.jid.as_deref(), m.mute, m.actor),
                (MediaKind::Desktop, Some("r@m/x"), Some(false), None)
            );
        });
    }
}
