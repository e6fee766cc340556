//! What Colibri v1 and Colibri2 share beyond the Jingle elements they
//! carry: the parse error naming the Colibri element and attribute at
//! fault, and the attribute readers that produce it (Java's number and
//! boolean parsing, as the bridge and Jicofo read them).
//!
//! The elements themselves are the Jingle layer's: payload types, header
//! extensions and RTP descriptions ([`crate::stanza::jingle`]), sources and
//! groups ([`crate::stanza::sources`], read and written by
//! [`crate::stanza::jingle::parse_source`] and friends), and the ICE-UDP
//! transport ([`crate::stanza::jingle::IceUdpTransport`]), which keeps every
//! attribute of every candidate, fingerprint and web-socket in order so a
//! bridge's transport reaches the participant unchanged.
//!
//! Parsing never panics; a value that cannot be read is a
//! [`ColibriParseError`] naming the element and attribute.

use std::borrow::Cow;
use std::str::FromStr;

use super::StanzaParseError;
pub(crate) use super::cut;
use super::jingle::{IceUdpTransport, PayloadType, RtpHdrExt, parse_source, parse_ssrc_group};
use super::sources::{MediaType, Source, SsrcGroup};
use crate::xml::El;

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
    /// A Jingle element inside a Colibri one (a payload type, header
    /// extension, source, group or ICE-UDP transport) is malformed.
    Element {
        /// The element.
        element: &'static str,
        /// What is wrong with it.
        error: StanzaParseError,
    },
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
            ColibriParseError::Element { element, error } => write!(f, "bad <{element}/>: {error}"),
        }
    }
}

impl std::error::Error for ColibriParseError {}

/// Maps an error of a Jingle element's reader to the Colibri error.
pub(crate) fn in_element(element: &'static str) -> impl Fn(StanzaParseError) -> ColibriParseError {
    move |error| ColibriParseError::Element { element, error }
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
// The Jingle elements inside Colibri ones

/// Reads a `<payload-type/>` (the caller has checked name and namespace).
pub(crate) fn parse_payload_type(el: El<'_>) -> Result<PayloadType, ColibriParseError> {
    PayloadType::parse(el).map_err(in_element("payload-type"))
}

/// Reads an `<rtp-hdrext/>`.
pub(crate) fn parse_hdrext(el: El<'_>) -> Result<RtpHdrExt, ColibriParseError> {
    RtpHdrExt::parse(el).map_err(in_element("rtp-hdrext"))
}

/// Reads an ICE-UDP `<transport/>`.
pub(crate) fn parse_transport(el: El<'_>) -> Result<IceUdpTransport, ColibriParseError> {
    IceUdpTransport::parse(el).map_err(in_element("transport"))
}

/// Reads an SSMA `<source/>` of a Colibri channel or media source. Unlike
/// in Jingle, where a source without `ssrc` (announced by `rid`) is
/// skipped, the bridge requires it.
pub(crate) fn parse_colibri_source(
    el: El<'_>,
    media: MediaType,
) -> Result<Source, ColibriParseError> {
    match parse_source(el, media).map_err(in_element("source"))? {
        Some(parsed) => Ok(parsed.source),
        None => Err(ColibriParseError::MissingAttribute {
            element: "source",
            attribute: "ssrc",
        }),
    }
}

/// Reads an SSMA `<ssrc-group/>` of a Colibri channel or media source.
pub(crate) fn parse_colibri_group(
    el: El<'_>,
    media: MediaType,
) -> Result<SsrcGroup, ColibriParseError> {
    parse_ssrc_group(el, media).map_err(in_element("ssrc-group"))
}

#[cfg(test)]
mod tests {
    use super::*;

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
            ColibriParseError::Element {
                element: "source",
                error: StanzaParseError::MissingAttribute("ssrc")
            }
            .to_string(),
            "bad <source/>: missing attribute 'ssrc'"
        );
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
