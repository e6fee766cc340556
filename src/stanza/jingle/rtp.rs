//! XEP-0167 RTP descriptions as owned values: the codecs the focus offers
//! (built from configuration, §5.2/§5.3) and the ones a participant
//! answered (forwarded to the bridge).
//!
//! Only what the focus uses is kept: payload types with their format
//! parameters and XEP-0293 feedback, XEP-0294 header extensions,
//! `extmap-allow-mixed`, `rtcp-mux` and `maxptime`. Sources are not part
//! of an [`RtpDescription`]: they differ per receiver and are written
//! beside it.

use super::{num_attr, owned_attr};
use crate::stanza::StanzaParseError;
use crate::xml::{El, XmlWriter, ns};

/// An XEP-0293 `<rtcp-fb type subtype/>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RtcpFb {
    /// `type`: `ccm`, `nack`, `goog-remb`, `transport-cc`, …
    pub ty: Box<str>,
    /// `subtype`: `fir`, `pli`, …
    pub subtype: Option<Box<str>>,
}

/// A `<payload-type/>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PayloadType {
    /// The RTP payload type number, 0–127.
    pub id: u8,
    /// The encoding name (`opus`, `VP8`, `rtx`); static types may omit it.
    pub name: Option<Box<str>>,
    /// The clock rate in Hz.
    pub clockrate: Option<u32>,
    /// Audio channels.
    pub channels: Option<u16>,
    /// Format parameters (`a=fmtp`) as `(name, value)`, in order; an empty
    /// name stands for a parameter written without one (RED's `111/111`).
    pub parameters: Vec<(Box<str>, Box<str>)>,
    /// Feedback messages for this payload type.
    pub rtcp_fbs: Vec<RtcpFb>,
}

impl PayloadType {
    /// A payload type with its rtpmap; no parameters, no feedback.
    pub fn new(id: u8, name: &str, clockrate: u32, channels: Option<u16>) -> PayloadType {
        PayloadType {
            id,
            name: Some(name.into()),
            clockrate: Some(clockrate),
            channels,
            parameters: Vec::new(),
            rtcp_fbs: Vec::new(),
        }
    }

    /// Adds a format parameter.
    pub fn with_parameter(mut self, name: &str, value: &str) -> PayloadType {
        self.parameters.push((name.into(), value.into()));
        self
    }

    /// Adds a feedback message.
    pub fn with_rtcp_fb(mut self, ty: &str, subtype: Option<&str>) -> PayloadType {
        self.rtcp_fbs.push(RtcpFb {
            ty: ty.into(),
            subtype: subtype.map(Into::into),
        });
        self
    }

    /// The value of a format parameter, by name.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| &**v)
    }

    /// Reads a `<payload-type/>`: `id` is required and must be 0–127.
    /// `<rtcp-fb/>` without a `type` is skipped.
    pub fn parse(el: El<'_>) -> Result<PayloadType, StanzaParseError> {
        let id = num_attr::<u8>(&el, "id")?.ok_or(StanzaParseError::MissingAttribute("id"))?;
        if id > 127 {
            return Err(StanzaParseError::bad_attribute("id", &id.to_string()));
        }
        let mut pt = PayloadType {
            id,
            name: owned_attr(&el, "name")?,
            clockrate: num_attr(&el, "clockrate")?,
            channels: num_attr(&el, "channels")?,
            parameters: Vec::new(),
            rtcp_fbs: Vec::new(),
        };
        for c in el.children() {
            if c.is("rtcp-fb", ns::JINGLE_RTCP_FB) {
                if let Some(ty) = owned_attr(&c, "type")? {
                    pt.rtcp_fbs.push(RtcpFb {
                        ty,
                        subtype: owned_attr(&c, "subtype")?,
                    });
                }
            } else if c.name() == "parameter" {
                pt.parameters.push((
                    owned_attr(&c, "name")?.unwrap_or_default(),
                    owned_attr(&c, "value")?.unwrap_or_default(),
                ));
            }
        }
        Ok(pt)
    }

    /// Writes the element (in the RTP namespace of its parent
    /// description).
    pub fn write(&self, w: &mut XmlWriter<'_>) {
        w.start("payload-type");
        self.write_rest(w);
    }

    /// Writes the element with its namespace declared (outside an RTP
    /// description: a Colibri channel or Colibri2 `<media/>`).
    pub fn write_with_ns(&self, w: &mut XmlWriter<'_>) {
        w.start_ns("payload-type", ns::JINGLE_RTP);
        self.write_rest(w);
    }

    /// The attributes and children of the open `<payload-type>`; closes it.
    fn write_rest(&self, w: &mut XmlWriter<'_>) {
        w.attr_num("id", self.id)
            .attr_opt("name", self.name.as_deref());
        if let Some(c) = self.clockrate {
            w.attr_num("clockrate", c);
        }
        if let Some(c) = self.channels {
            w.attr_num("channels", c);
        }
        for (name, value) in &self.parameters {
            w.start("parameter")
                .attr_opt("name", Some(&**name).filter(|n| !n.is_empty()))
                .attr("value", value)
                .end();
        }
        for fb in &self.rtcp_fbs {
            w.start_ns("rtcp-fb", ns::JINGLE_RTCP_FB)
                .attr("type", &fb.ty)
                .attr_opt("subtype", fb.subtype.as_deref())
                .end();
        }
        w.end();
    }
}

/// An XEP-0294 `<rtp-hdrext id uri/>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RtpHdrExt {
    /// The extension id (1–14 one-byte, up to 255 two-byte).
    pub id: u16,
    /// The extension URI.
    pub uri: Box<str>,
}

impl RtpHdrExt {
    /// A header extension.
    pub fn new(id: u16, uri: &str) -> RtpHdrExt {
        RtpHdrExt {
            id,
            uri: uri.into(),
        }
    }

    /// Reads an `<rtp-hdrext/>`; `id` and `uri` are required.
    pub fn parse(el: El<'_>) -> Result<RtpHdrExt, StanzaParseError> {
        Ok(RtpHdrExt {
            id: num_attr(&el, "id")?.ok_or(StanzaParseError::MissingAttribute("id"))?,
            uri: owned_attr(&el, "uri")?.ok_or(StanzaParseError::MissingAttribute("uri"))?,
        })
    }

    /// Writes the element with its namespace.
    pub fn write(&self, w: &mut XmlWriter<'_>) {
        w.start_ns("rtp-hdrext", ns::JINGLE_RTP_HDREXT)
            .attr_num("id", self.id)
            .attr("uri", &self.uri)
            .end();
    }
}

/// An RTP `<description/>` without its sources.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RtpDescription {
    /// `media`: `audio`, `video`, or `application` for the data content.
    pub media: Box<str>,
    /// `maxptime` (SEED and CURRENT offer 60 for audio).
    pub maxptime: Option<u32>,
    /// Payload types in preference order.
    pub payload_types: Vec<PayloadType>,
    /// Header extensions.
    pub hdrexts: Vec<RtpHdrExt>,
    /// `<extmap-allow-mixed/>`: one- and two-byte header extensions may mix.
    pub extmap_allow_mixed: bool,
    /// `<rtcp-mux/>`.
    pub rtcp_mux: bool,
}

impl RtpDescription {
    /// An empty description of this media.
    pub fn new(media: &str) -> RtpDescription {
        RtpDescription {
            media: media.into(),
            maxptime: None,
            payload_types: Vec::new(),
            hdrexts: Vec::new(),
            extmap_allow_mixed: false,
            rtcp_mux: false,
        }
    }

    /// The payload type with this id.
    pub fn payload_type(&self, id: u8) -> Option<&PayloadType> {
        self.payload_types.iter().find(|p| p.id == id)
    }

    /// Reads a `<description/>`; `media` falls back to `fallback_media`
    /// (the content name), then to empty. Any malformed payload type or
    /// header extension is an error.
    pub fn parse(
        el: El<'_>,
        fallback_media: Option<&str>,
    ) -> Result<RtpDescription, StanzaParseError> {
        let media = match owned_attr(&el, "media")? {
            Some(m) => m,
            None => fallback_media.unwrap_or_default().into(),
        };
        let mut d = RtpDescription::new("");
        d.media = media;
        d.maxptime = num_attr(&el, "maxptime")?;
        d.read_children(el)?;
        Ok(d)
    }

    /// Reads the payload types, header extensions, `extmap-allow-mixed`
    /// and `rtcp-mux` among `el`'s children (a `<description/>`, or a
    /// Colibri2 `<media/>`, which carries the same children).
    pub(crate) fn read_children(&mut self, el: El<'_>) -> Result<(), StanzaParseError> {
        for c in el.children() {
            if c.is("payload-type", ns::JINGLE_RTP) {
                self.payload_types.push(PayloadType::parse(c)?);
            } else if c.is("rtp-hdrext", ns::JINGLE_RTP_HDREXT) {
                self.hdrexts.push(RtpHdrExt::parse(c)?);
            } else if c.is("extmap-allow-mixed", ns::JINGLE_RTP_HDREXT) {
                self.extmap_allow_mixed = true;
            } else if c.is("rtcp-mux", ns::JINGLE_RTP) {
                self.rtcp_mux = true;
            }
        }
        Ok(())
    }

    /// Writes the payload types (each with its namespace), header
    /// extensions and `extmap-allow-mixed` into an open element outside a
    /// description (a Colibri2 `<media/>`).
    pub(crate) fn write_codecs_with_ns(&self, w: &mut XmlWriter<'_>) {
        for pt in &self.payload_types {
            pt.write_with_ns(w);
        }
        self.write_hdrexts(w);
    }

    /// The header extensions and `extmap-allow-mixed`.
    fn write_hdrexts(&self, w: &mut XmlWriter<'_>) {
        for h in &self.hdrexts {
            h.write(w);
        }
        if self.extmap_allow_mixed {
            w.start_ns("extmap-allow-mixed", ns::JINGLE_RTP_HDREXT)
                .end();
        }
    }

    /// Writes the start tag and everything but sources, leaving the
    /// element open for the caller's sources; close it with `end()`.
    pub(crate) fn write_open(&self, w: &mut XmlWriter<'_>) {
        w.start_ns("description", ns::JINGLE_RTP)
            .attr("media", &self.media);
        if let Some(p) = self.maxptime {
            w.attr_num("maxptime", p);
        }
        for pt in &self.payload_types {
            pt.write(w);
        }
        self.write_hdrexts(w);
        if self.rtcp_mux {
            w.start("rtcp-mux").end();
        }
    }

    /// Writes the whole element, without sources.
    pub fn write(&self, w: &mut XmlWriter<'_>) {
        self.write_open(w);
        w.end();
    }
}
