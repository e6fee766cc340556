//! XEP-0339 `<source/>` and `<ssrc-group/>` elements, read into and
//! written from the [`sources`](crate::stanza::sources) model.
//!
//! The same elements appear in Jingle descriptions (with the Jitsi
//! `<ssrc-info owner/>` child when the focus relays them) and in Colibri
//! (v1 channels, Colibri2 `media-source`, without an owner), so these
//! functions are public for the Colibri writers too.
//!
//! ```xml
//! <source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='2001' name='abcd1234-v0' videoType='camera'>
//!   <ssrc-info xmlns='http://jitsi.org/jitmeet' owner='abcd1234'/>
//!   <parameter name='msid' value='abcd1234-video-1 v1-track'/>
//! </source>
//! <ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='FID'>
//!   <source ssrc='2001'/><source ssrc='2004'/>
//! </ssrc-group>
//! ```

use std::borrow::Cow;

use super::{checked_attr, num_attr, owned_attr};
use crate::stanza::StanzaParseError;
use crate::stanza::sources::{MediaType, Source, Ssrc, SsrcGroup};
use crate::xml::{El, XmlWriter, ns};

/// A source as read from a `<source/>`, with the owner the sender named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSource<'a> {
    /// The source.
    pub source: Source,
    /// `<ssrc-info owner>`: an endpoint id (CURRENT), an occupant JID
    /// (SEED), or `jvb`.
    pub owner: Option<Cow<'a, str>>,
}

/// Reads a `<source/>` of the given media. `Ok(None)` for a source without
/// an `ssrc` (Firefox announces simulcast by `rid`; the focus has nothing
/// to relay for those). The SSRC must be a 32-bit unsigned number. The
/// video type is the `videoType` attribute, or else the 2015 clients'
/// `<ssrc-info video-type>`. Parameters without a name keep an empty one.
pub fn parse_source<'a>(
    el: El<'a>,
    media: MediaType,
) -> Result<Option<ParsedSource<'a>>, StanzaParseError> {
    let Some(ssrc) = num_attr::<u32>(&el, "ssrc")? else {
        return Ok(None);
    };
    let mut source = Source::new(ssrc, media);
    source.name = owned_attr(&el, "name")?;
    source.video_type = owned_attr(&el, "videoType")?;
    let mut owner = None;
    for c in el.children() {
        if c.is("ssrc-info", ns::JITMEET) {
            if owner.is_none() {
                owner = checked_attr(&c, "owner")?;
            }
            if source.video_type.is_none() {
                source.video_type = owned_attr(&c, "video-type")?;
            }
        } else if c.name() == "parameter" {
            let name = owned_attr(&c, "name")?.unwrap_or_default();
            let value = owned_attr(&c, "value")?.unwrap_or_default();
            if &*name == "msid" && source.msid.is_none() {
                source.msid = Some(value);
            } else {
                source.parameters.push((name, value));
            }
        }
    }
    Ok(Some(ParsedSource { source, owner }))
}

/// Reads an `<ssrc-group/>` of the given media: `semantics` is required
/// (its value is not checked here) and every `<source/>` child must carry a
/// valid `ssrc`.
pub fn parse_ssrc_group(el: El<'_>, media: MediaType) -> Result<SsrcGroup, StanzaParseError> {
    let semantics =
        owned_attr(&el, "semantics")?.ok_or(StanzaParseError::MissingAttribute("semantics"))?;
    let mut ssrcs = Vec::new();
    for c in el.children().filter(|c| c.name() == "source") {
        let ssrc =
            num_attr::<u32>(&c, "ssrc")?.ok_or(StanzaParseError::MissingAttribute("ssrc"))?;
        ssrcs.push(Ssrc(ssrc));
    }
    Ok(SsrcGroup {
        semantics,
        media,
        ssrcs,
    })
}

/// Writes a `<source/>`: `ssrc`, `name`, `videoType`, then the
/// `<ssrc-info owner/>` when an owner is given, the `msid` parameter and
/// the other parameters (a parameter with an empty name is written without
/// one).
pub fn write_source(w: &mut XmlWriter<'_>, s: &Source, owner: Option<&str>) {
    w.start_ns("source", ns::JINGLE_SSMA)
        .attr_num("ssrc", s.ssrc.0)
        .attr_opt("name", s.name.as_deref())
        .attr_opt("videoType", s.video_type.as_deref());
    if let Some(owner) = owner {
        w.start_ns("ssrc-info", ns::JITMEET)
            .attr("owner", owner)
            .end();
    }
    if let Some(msid) = &s.msid {
        w.start("parameter")
            .attr("name", "msid")
            .attr("value", msid)
            .end();
    }
    for (name, value) in &s.parameters {
        w.start("parameter")
            .attr_opt("name", Some(&**name).filter(|n| !n.is_empty()))
            .attr("value", value)
            .end();
    }
    w.end();
}

/// Writes an `<ssrc-group/>` with a `<source ssrc/>` per member.
pub fn write_ssrc_group(w: &mut XmlWriter<'_>, g: &SsrcGroup) {
    w.start_ns("ssrc-group", ns::JINGLE_SSMA)
        .attr("semantics", &g.semantics);
    for ssrc in &g.ssrcs {
        w.start("source").attr_num("ssrc", ssrc.0).end();
    }
    w.end();
}
