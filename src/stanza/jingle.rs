//! Jingle between the focus and participants (protocol.md §5): XEP-0166
//! sessions carrying XEP-0167 RTP descriptions, XEP-0176 ICE-UDP
//! transports with XEP-0320 DTLS fingerprints, XEP-0338 BUNDLE groups,
//! XEP-0339 sources and groups, XEP-0293 feedback, XEP-0294 header
//! extensions, SCTP maps and the Jitsi extensions (`ssrc-info`,
//! `startmuted`, `bridge-session`, `ice-state`, estos `bundle`).
//!
//! Reading is in two steps. [`JingleRequest::parse`] is a borrowed view of
//! a `<jingle/>` payload: action, sid, initiator and responder are read at
//! once, everything else on demand through [`Content`] and [`Description`]
//! views and the session-level accessors. What outlives the frame is then
//! extracted as owned values: the participant's transport
//! ([`IceUdpTransport`]), its sources ([`EndpointSourceSet`]) and its
//! answered codecs ([`RtpDescription`]). Extraction is where malformed
//! input is reported (an SSRC that is not a number, a payload type id out
//! of range); each extraction stands alone, so a bad header extension does
//! not hide the sources.
//!
//! The writers cover what the focus sends: `session-initiate` and
//! `transport-replace` from an [`Offer`] ([`write_session_initiate`],
//! [`write_transport_replace`]), [`write_source_add`]/[`write_source_remove`],
//! [`write_transport_info`] and [`write_session_terminate`].
//!
//! Every string we keep is checked to hold only characters XML 1.0 allows:
//! a character reference such as `&#1;` parses, but written back into
//! another participant's `source-add` it would make the server close the
//! focus's stream.

mod rtp;
mod ssma;
mod transport;
mod write;

#[cfg(any(fuzzing, test))]
pub mod fuzz;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

pub use rtp::{PayloadType, RtcpFb, RtpDescription, RtpHdrExt};
pub use ssma::{ParsedSource, parse_source, parse_ssrc_group, write_source, write_ssrc_group};
pub use transport::{Attrs, Candidate, Fingerprint, IceUdpTransport, SctpMap, WebSocket};
pub use write::{
    Offer, OfferContent, write_session_initiate, write_session_terminate, write_source_add,
    write_source_remove, write_source_update, write_transport_info, write_transport_replace,
};

use super::sources::{ConferenceSourceMap, EndpointSourceSet, MediaType, Source, SsrcGroup};
use super::{Iq, StanzaParseError, opt_attr, req_attr};
use crate::xml::{El, XmlWriter, ns};

/// A Jingle `action`. The legacy Jitsi names `addsource`/`removesource`
/// are their own variants so a focus speaking to old clients can answer in
/// kind; [`Action::is_source_add`] and [`Action::is_source_remove`] treat
/// both spellings alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `content-accept`
    ContentAccept,
    /// `content-add`
    ContentAdd,
    /// `content-modify`
    ContentModify,
    /// `content-reject`
    ContentReject,
    /// `content-remove`
    ContentRemove,
    /// `description-info`
    DescriptionInfo,
    /// `security-info`
    SecurityInfo,
    /// `session-accept`
    SessionAccept,
    /// `session-info`
    SessionInfo,
    /// `session-initiate`
    SessionInitiate,
    /// `session-terminate`
    SessionTerminate,
    /// `transport-accept`
    TransportAccept,
    /// `transport-info`
    TransportInfo,
    /// `transport-reject`
    TransportReject,
    /// `transport-replace`
    TransportReplace,
    /// `source-add` (Jitsi extension)
    SourceAdd,
    /// `source-remove` (Jitsi extension)
    SourceRemove,
    /// `addsource`: the first spelling of `source-add`.
    AddSource,
    /// `removesource`: the first spelling of `source-remove`.
    RemoveSource,
    /// Anything else; the request keeps the name it had.
    Unknown,
}

impl Action {
    /// Every known action, for tables and tests.
    pub const KNOWN: [Action; 19] = [
        Action::ContentAccept,
        Action::ContentAdd,
        Action::ContentModify,
        Action::ContentReject,
        Action::ContentRemove,
        Action::DescriptionInfo,
        Action::SecurityInfo,
        Action::SessionAccept,
        Action::SessionInfo,
        Action::SessionInitiate,
        Action::SessionTerminate,
        Action::TransportAccept,
        Action::TransportInfo,
        Action::TransportReject,
        Action::TransportReplace,
        Action::SourceAdd,
        Action::SourceRemove,
        Action::AddSource,
        Action::RemoveSource,
    ];

    /// The wire name; `unknown` for [`Action::Unknown`], which is never
    /// written.
    pub fn name(self) -> &'static str {
        match self {
            Action::ContentAccept => "content-accept",
            Action::ContentAdd => "content-add",
            Action::ContentModify => "content-modify",
            Action::ContentReject => "content-reject",
            Action::ContentRemove => "content-remove",
            Action::DescriptionInfo => "description-info",
            Action::SecurityInfo => "security-info",
            Action::SessionAccept => "session-accept",
            Action::SessionInfo => "session-info",
            Action::SessionInitiate => "session-initiate",
            Action::SessionTerminate => "session-terminate",
            Action::TransportAccept => "transport-accept",
            Action::TransportInfo => "transport-info",
            Action::TransportReject => "transport-reject",
            Action::TransportReplace => "transport-replace",
            Action::SourceAdd => "source-add",
            Action::SourceRemove => "source-remove",
            Action::AddSource => "addsource",
            Action::RemoveSource => "removesource",
            Action::Unknown => "unknown",
        }
    }

    /// The action for a wire name (exact match); [`Action::Unknown`] for
    /// anything else.
    pub fn from_name(name: &str) -> Action {
        Action::KNOWN
            .into_iter()
            .find(|a| a.name() == name)
            .unwrap_or(Action::Unknown)
    }

    /// `source-add` or `addsource`.
    pub fn is_source_add(self) -> bool {
        matches!(self, Action::SourceAdd | Action::AddSource)
    }

    /// `source-remove` or `removesource`.
    pub fn is_source_remove(self) -> bool {
        matches!(self, Action::SourceRemove | Action::RemoveSource)
    }
}

/// A content's `creator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Creator {
    /// `initiator` (every content of a focus session).
    Initiator,
    /// `responder`
    Responder,
}

impl Creator {
    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Creator::Initiator => "initiator",
            Creator::Responder => "responder",
        }
    }

    /// The creator for a wire name; `None` for anything else.
    pub fn from_name(name: &str) -> Option<Creator> {
        match name {
            "initiator" => Some(Creator::Initiator),
            "responder" => Some(Creator::Responder),
            _ => None,
        }
    }
}

/// A content's `senders`: who sends media.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Senders {
    /// `both` (every content of a focus offer).
    Both,
    /// `initiator`
    Initiator,
    /// `responder`
    Responder,
    /// `none`
    None,
    /// `rejected`: lib-jitsi-meet's marker for an m-line with port 0; not
    /// XEP-0166, but current clients send it.
    Rejected,
}

impl Senders {
    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Senders::Both => "both",
            Senders::Initiator => "initiator",
            Senders::Responder => "responder",
            Senders::None => "none",
            Senders::Rejected => "rejected",
        }
    }

    /// The value for a wire name; `None` for anything else.
    pub fn from_name(name: &str) -> Option<Senders> {
        Some(match name {
            "both" => Senders::Both,
            "initiator" => Senders::Initiator,
            "responder" => Senders::Responder,
            "none" => Senders::None,
            "rejected" => Senders::Rejected,
            _ => return None,
        })
    }
}

/// XEP-0166 `<reason/>` conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReasonCondition {
    /// `alternative-session`
    AlternativeSession,
    /// `busy`
    Busy,
    /// `cancel`
    Cancel,
    /// `connectivity-error`: what a client sends when ICE failed.
    ConnectivityError,
    /// `decline`
    Decline,
    /// `expired`: the focus's single-participant timeout.
    Expired,
    /// `failed-application`
    FailedApplication,
    /// `failed-transport`
    FailedTransport,
    /// `general-error`: the focus's failed invite.
    GeneralError,
    /// `gone`: SEED's participant-left.
    Gone,
    /// `incompatible-parameters`
    IncompatibleParameters,
    /// `media-error`
    MediaError,
    /// `security-error`
    SecurityError,
    /// `success`: the focus's re-invite ("moving").
    Success,
    /// `timeout`
    Timeout,
    /// `unsupported-applications`
    UnsupportedApplications,
    /// `unsupported-transports`
    UnsupportedTransports,
}

impl ReasonCondition {
    const ALL: [ReasonCondition; 17] = [
        ReasonCondition::AlternativeSession,
        ReasonCondition::Busy,
        ReasonCondition::Cancel,
        ReasonCondition::ConnectivityError,
        ReasonCondition::Decline,
        ReasonCondition::Expired,
        ReasonCondition::FailedApplication,
        ReasonCondition::FailedTransport,
        ReasonCondition::GeneralError,
        ReasonCondition::Gone,
        ReasonCondition::IncompatibleParameters,
        ReasonCondition::MediaError,
        ReasonCondition::SecurityError,
        ReasonCondition::Success,
        ReasonCondition::Timeout,
        ReasonCondition::UnsupportedApplications,
        ReasonCondition::UnsupportedTransports,
    ];

    /// The element name.
    pub fn name(self) -> &'static str {
        match self {
            ReasonCondition::AlternativeSession => "alternative-session",
            ReasonCondition::Busy => "busy",
            ReasonCondition::Cancel => "cancel",
            ReasonCondition::ConnectivityError => "connectivity-error",
            ReasonCondition::Decline => "decline",
            ReasonCondition::Expired => "expired",
            ReasonCondition::FailedApplication => "failed-application",
            ReasonCondition::FailedTransport => "failed-transport",
            ReasonCondition::GeneralError => "general-error",
            ReasonCondition::Gone => "gone",
            ReasonCondition::IncompatibleParameters => "incompatible-parameters",
            ReasonCondition::MediaError => "media-error",
            ReasonCondition::SecurityError => "security-error",
            ReasonCondition::Success => "success",
            ReasonCondition::Timeout => "timeout",
            ReasonCondition::UnsupportedApplications => "unsupported-applications",
            ReasonCondition::UnsupportedTransports => "unsupported-transports",
        }
    }

    /// The condition for an element name; `None` for anything else.
    pub fn from_name(name: &str) -> Option<ReasonCondition> {
        ReasonCondition::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// A `<reason/>`: condition and optional text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason<'a> {
    /// The condition; `None` when absent or not one of XEP-0166's.
    pub condition: Option<ReasonCondition>,
    /// The `<text/>`, unescaped.
    pub text: Option<Cow<'a, str>>,
}

/// `<bridge-session xmlns='http://jitsi.org/protocol/focus'/>`: the Colibri
/// session a Jingle session runs on. The focus puts it in offers; clients
/// echo the id in `session-terminate` (with `restart`) and `session-info`
/// (with `ice-restart`, or beside `<ice-state>`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BridgeSession<'a> {
    /// The Colibri session id.
    pub id: Option<Cow<'a, str>>,
    /// The bridge's region (written by the focus).
    pub region: Option<Cow<'a, str>>,
    /// `restart='true'`: the client asks for a new `session-initiate`.
    pub restart: bool,
    /// `ice-restart='true'`: the client asks for an in-place ICE restart.
    pub ice_restart: bool,
}

impl BridgeSession<'_> {
    /// Writes the element; flags only when true.
    pub fn write(&self, w: &mut XmlWriter<'_>) {
        w.start_ns("bridge-session", ns::FOCUS)
            .attr_opt("id", self.id.as_deref())
            .attr_opt("region", self.region.as_deref());
        if self.restart {
            w.attr("restart", "true");
        }
        if self.ice_restart {
            w.attr("ice-restart", "true");
        }
        w.end();
    }
}

/// `<startmuted xmlns='http://jitsi.org/jitmeet/start-muted'/>` in an
/// offer: the participant should join muted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct StartMuted {
    /// Start with audio muted.
    pub audio: bool,
    /// Start with video muted.
    pub video: bool,
}

impl StartMuted {
    /// Writes the element, both flags always.
    pub fn write(&self, w: &mut XmlWriter<'_>) {
        w.start_ns("startmuted", ns::START_MUTED)
            .attr("audio", if self.audio { "true" } else { "false" })
            .attr("video", if self.video { "true" } else { "false" })
            .end();
    }
}

/// A received `<jingle/>` payload, borrowing its frame.
#[derive(Debug, Clone)]
pub struct JingleRequest<'a> {
    /// The action.
    pub action: Action,
    /// The action as received (for logging an unknown one).
    pub action_name: Cow<'a, str>,
    /// The session id: the only key sessions are looked up by.
    pub sid: Cow<'a, str>,
    /// `initiator` as received.
    pub initiator: Option<Cow<'a, str>>,
    /// `responder` as received.
    pub responder: Option<Cow<'a, str>>,
    /// The `<jingle/>` element.
    pub el: El<'a>,
}

impl<'a> JingleRequest<'a> {
    /// Reads a `<jingle xmlns='urn:xmpp:jingle:1'/>`. `action` and `sid`
    /// are required (a missing action is SEED's `bad-request`); an action we
    /// do not know parses as [`Action::Unknown`].
    pub fn parse(payload: El<'a>) -> Result<JingleRequest<'a>, StanzaParseError> {
        if !payload.is("jingle", ns::JINGLE) {
            return Err(StanzaParseError::NotA("a Jingle request"));
        }
        let action_name = req_attr(&payload, "action")?;
        let sid = req_attr(&payload, "sid")?;
        Ok(JingleRequest {
            action: Action::from_name(&action_name),
            action_name,
            sid,
            initiator: opt_attr(&payload, "initiator")?,
            responder: opt_attr(&payload, "responder")?,
            el: payload,
        })
    }

    /// The request in an IQ's payload (any IQ type: the caller checks it is
    /// a `set`).
    pub fn from_iq(iq: &Iq<'a>) -> Result<JingleRequest<'a>, StanzaParseError> {
        match iq.payload {
            Some(p) => JingleRequest::parse(p),
            None => Err(StanzaParseError::NotA("a Jingle request")),
        }
    }

    /// The `<content/>` children in order.
    pub fn contents(&self) -> impl Iterator<Item = Content<'a>> + use<'a> {
        self.el
            .children()
            .filter(|c| c.is("content", ns::JINGLE))
            .map(|el| Content { el })
    }

    /// The first content with this name.
    pub fn content(&self, name: &str) -> Option<Content<'a>> {
        self.contents().find(|c| c.name().as_deref() == Some(name))
    }

    /// The XEP-0338 group with `semantics='BUNDLE'` (old clients spelled
    /// the attribute `type`).
    pub fn bundle_group(&self) -> Option<Group<'a>> {
        self.el
            .children()
            .filter(|c| c.is("group", ns::JINGLE_GROUPING))
            .map(|el| Group { el })
            .find(|g| g.semantics().as_deref() == Some("BUNDLE"))
    }

    /// The `<reason/>` (session-terminate).
    pub fn reason(&self) -> Option<Reason<'a>> {
        let r = self.el.child("reason", ns::JINGLE)?;
        let mut reason = Reason {
            condition: None,
            text: None,
        };
        for c in r.children().filter(|c| c.ns() == ns::JINGLE) {
            if c.name() == "text" {
                if reason.text.is_none() {
                    reason.text = Some(c.text());
                }
            } else if reason.condition.is_none() {
                reason.condition = ReasonCondition::from_name(c.name());
            }
        }
        Some(reason)
    }

    /// The `<bridge-session/>` (session-terminate, session-info, and the
    /// focus's own offers). `true` in any case counts as true, as Java's
    /// `Boolean.parseBoolean` does.
    pub fn bridge_session(&self) -> Option<BridgeSession<'a>> {
        let b = self.el.child("bridge-session", ns::FOCUS)?;
        let flag = |name: &str| b.attr(name).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        Some(BridgeSession {
            id: b.attr("id"),
            region: b.attr("region"),
            restart: flag("restart"),
            ice_restart: flag("ice-restart"),
        })
    }

    /// The `<ice-state/>` text, trimmed (session-info: `failed` asks for a
    /// re-invite).
    pub fn ice_state(&self) -> Option<Cow<'a, str>> {
        let text = self.el.child("ice-state", ns::FOCUS)?.text();
        Some(match text {
            Cow::Borrowed(t) => Cow::Borrowed(t.trim()),
            Cow::Owned(t) => Cow::Owned(t.trim().to_string()),
        })
    }

    /// The `<startmuted/>` flags (in offers the focus wrote).
    pub fn start_muted(&self) -> Option<StartMuted> {
        let s = self.el.child("startmuted", ns::START_MUTED)?;
        let flag = |name: &str| s.attr(name).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        Some(StartMuted {
            audio: flag("audio"),
            video: flag("video"),
        })
    }

    /// The participant's transport: the ICE-UDP transport of the first
    /// content that has one (with BUNDLE every content carries the same).
    /// `Ok(None)` when no content has one (`transport-info` without a
    /// transport is CURRENT's `bad-request` "missing transport").
    pub fn transport(&self) -> Result<Option<IceUdpTransport>, StanzaParseError> {
        self.contents()
            .find_map(|c| c.transport_el())
            .map(IceUdpTransport::parse)
            .transpose()
    }

    /// Every source and group of every content (under the description, and
    /// the legacy place directly under the content), as one set; owners
    /// (`ssrc-info`) are ignored. Sources without an `ssrc` (Firefox's
    /// `rid` sources) are skipped. A content whose media is neither audio
    /// nor video may carry none.
    pub fn sources(&self) -> Result<EndpointSourceSet, StanzaParseError> {
        let mut set = EndpointSourceSet::new();
        for c in self.contents() {
            c.each_source(|p| {
                set.add_source(p.source);
                Ok(())
            })?;
            c.each_group(|g| {
                set.add_group(g);
                Ok(())
            })?;
        }
        Ok(set)
    }

    /// The sources grouped by their `<ssrc-info owner>`, as in what the
    /// focus itself sends (offers, `source-add`). Every source must have an
    /// owner; a group goes to the owner of its first SSRC, which must be a
    /// source of the same media in this request.
    pub fn sources_by_owner(&self) -> Result<ConferenceSourceMap, StanzaParseError> {
        let mut owned: Vec<(Cow<'a, str>, Source)> = Vec::new();
        let mut groups: Vec<SsrcGroup> = Vec::new();
        for c in self.contents() {
            c.each_source(|p| {
                let owner = p.owner.ok_or(StanzaParseError::MissingAttribute("owner"))?;
                owned.push((owner, p.source));
                Ok(())
            })?;
            c.each_group(|g| {
                groups.push(g);
                Ok(())
            })?;
        }
        let mut map = ConferenceSourceMap::new();
        for g in groups {
            let owner = g
                .ssrcs
                .first()
                .and_then(|first| {
                    owned
                        .iter()
                        .find(|(_, s)| s.ssrc == *first && s.media == g.media)
                })
                .map(|(o, _)| o.clone())
                .ok_or(StanzaParseError::NotA("a group of announced sources"))?;
            map.add(
                &owner,
                &EndpointSourceSet {
                    sources: Vec::new(),
                    groups: vec![g],
                },
            );
        }
        for (owner, s) in owned {
            map.add(
                &owner,
                &EndpointSourceSet {
                    sources: vec![s],
                    groups: Vec::new(),
                },
            );
        }
        Ok(map)
    }

    /// The RTP description of every content that has one, owned: the
    /// answered payload types and header extensions per media (what Colibri
    /// v1 needs after a `session-accept`). The media falls back to the
    /// content name when the description has none.
    pub fn rtp_descriptions(&self) -> Result<Vec<RtpDescription>, StanzaParseError> {
        self.contents()
            .filter_map(|c| c.rtp_description())
            .collect()
    }

    /// The RTP description of the first content of this media.
    pub fn rtp_description(
        &self,
        media: MediaType,
    ) -> Result<Option<RtpDescription>, StanzaParseError> {
        self.contents()
            .find(|c| c.media().as_deref() == Some(media.name()))
            .and_then(|c| c.rtp_description())
            .transpose()
    }
}

/// A `<content/>` of a Jingle request, borrowing its frame.
#[derive(Debug, Clone, Copy)]
pub struct Content<'a> {
    /// The `<content/>` element.
    pub el: El<'a>,
}

impl<'a> Content<'a> {
    /// The content name (`audio`, `video`, `data`).
    pub fn name(&self) -> Option<Cow<'a, str>> {
        self.el.attr("name")
    }

    /// The creator; `None` when absent or unknown.
    pub fn creator(&self) -> Option<Creator> {
        Creator::from_name(&self.el.attr("creator")?)
    }

    /// Who sends; `None` when absent or unknown.
    pub fn senders(&self) -> Option<Senders> {
        Senders::from_name(&self.el.attr("senders")?)
    }

    /// The RTP `<description/>`.
    pub fn description(&self) -> Option<Description<'a>> {
        self.el
            .child("description", ns::JINGLE_RTP)
            .map(|el| Description { el })
    }

    /// The description's codecs, owned, with the content name as the media
    /// when the description has none; `None` without a description.
    pub fn rtp_description(&self) -> Option<Result<RtpDescription, StanzaParseError>> {
        let d = self.description()?;
        Some(RtpDescription::parse(d.el, self.name().as_deref()))
    }

    /// The media: the description's `media`, else the content name (as
    /// Jicofo reads it). `application` for a data content with a
    /// description, `data` for one without (current clients).
    pub fn media(&self) -> Option<Cow<'a, str>> {
        self.description()
            .and_then(|d| d.media())
            .or_else(|| self.name())
    }

    /// [`Content::media`] when it is audio or video.
    pub fn media_type(&self) -> Option<MediaType> {
        MediaType::from_name(&self.media()?)
    }

    /// The ICE-UDP `<transport/>` element.
    pub fn transport_el(&self) -> Option<El<'a>> {
        self.el.child("transport", ns::JINGLE_ICE_UDP)
    }

    /// The ICE-UDP transport, owned; `None` when the content has none.
    pub fn transport(&self) -> Option<Result<IceUdpTransport, StanzaParseError>> {
        self.transport_el().map(IceUdpTransport::parse)
    }

    /// True when the content carries the estos `<bundle/>` marker (SEED
    /// offers).
    pub fn has_estos_bundle(&self) -> bool {
        self.el.child("bundle", ns::ESTOS_BUNDLE).is_some()
    }

    /// `<initial-last-n xmlns='jitsi:colibri2' value='N'/>` (current clients
    /// put it in the video content); `None` when absent or not a number.
    pub fn initial_last_n(&self) -> Option<u32> {
        self.el
            .child("initial-last-n", ns::COLIBRI2)?
            .attr("value")?
            .trim()
            .parse()
            .ok()
    }

    /// This content's sources and groups (description and legacy place).
    pub fn sources(&self) -> Result<EndpointSourceSet, StanzaParseError> {
        let mut set = EndpointSourceSet::new();
        self.each_source(|p| {
            set.add_source(p.source);
            Ok(())
        })?;
        self.each_group(|g| {
            set.add_group(g);
            Ok(())
        })?;
        Ok(set)
    }

    /// `<source/>` elements under the description, then directly under the
    /// content (where SEED looked too).
    fn source_els(&self) -> impl Iterator<Item = El<'a>> + use<'a> {
        let desc = self.description().map(|d| d.el);
        desc.into_iter()
            .flat_map(|d| d.children())
            .chain(self.el.children())
            .filter(|c| c.is("source", ns::JINGLE_SSMA))
    }

    /// `<ssrc-group/>` elements, same places.
    fn group_els(&self) -> impl Iterator<Item = El<'a>> + use<'a> {
        let desc = self.description().map(|d| d.el);
        desc.into_iter()
            .flat_map(|d| d.children())
            .chain(self.el.children())
            .filter(|c| c.is("ssrc-group", ns::JINGLE_SSMA))
    }

    /// The media sources of this content are of: an error only when there
    /// are sources or groups and the media is not audio or video.
    fn source_media(&self) -> Result<Option<MediaType>, StanzaParseError> {
        if self.source_els().next().is_none() && self.group_els().next().is_none() {
            return Ok(None);
        }
        let media = self.media().unwrap_or_default();
        MediaType::from_name(&media)
            .map(Some)
            .ok_or_else(|| StanzaParseError::bad_attribute("media", &media))
    }

    fn each_source(
        &self,
        mut f: impl FnMut(ParsedSource<'a>) -> Result<(), StanzaParseError>,
    ) -> Result<(), StanzaParseError> {
        let Some(media) = self.source_media()? else {
            return Ok(());
        };
        for el in self.source_els() {
            if let Some(p) = parse_source(el, media)? {
                f(p)?;
            }
        }
        Ok(())
    }

    fn each_group(
        &self,
        mut f: impl FnMut(SsrcGroup) -> Result<(), StanzaParseError>,
    ) -> Result<(), StanzaParseError> {
        let Some(media) = self.source_media()? else {
            return Ok(());
        };
        for el in self.group_els() {
            f(parse_ssrc_group(el, media)?)?;
        }
        Ok(())
    }
}

/// An RTP `<description/>`, borrowing its frame. [`RtpDescription::parse`]
/// makes the owned codec list.
#[derive(Debug, Clone, Copy)]
pub struct Description<'a> {
    /// The `<description/>` element.
    pub el: El<'a>,
}

impl<'a> Description<'a> {
    /// `media`: `audio`, `video` or `application`.
    pub fn media(&self) -> Option<Cow<'a, str>> {
        self.el.attr("media")
    }

    /// True when the description has `<rtcp-mux/>`.
    pub fn rtcp_mux(&self) -> bool {
        self.el.child("rtcp-mux", ns::JINGLE_RTP).is_some()
    }

    /// The codecs, owned (see [`RtpDescription::parse`]; no fallback media).
    pub fn rtp(&self) -> Result<RtpDescription, StanzaParseError> {
        RtpDescription::parse(self.el, None)
    }
}

/// A XEP-0338 `<group/>`, borrowing its frame.
#[derive(Debug, Clone, Copy)]
pub struct Group<'a> {
    /// The `<group/>` element.
    pub el: El<'a>,
}

impl<'a> Group<'a> {
    /// `semantics` (or the older `type`).
    pub fn semantics(&self) -> Option<Cow<'a, str>> {
        self.el.attr("semantics").or_else(|| self.el.attr("type"))
    }

    /// The names of the grouped contents, in order.
    pub fn contents(&self) -> impl Iterator<Item = Cow<'a, str>> + use<'a> {
        self.el
            .children()
            .filter(|c| c.is("content", ns::JINGLE_GROUPING))
            .filter_map(|c| c.attr("name"))
    }
}

/// True for characters XML 1.0 allows in a document. quick-xml resolves
/// `&#1;` without complaint, and a string holding it cannot be written
/// into any stanza.
fn is_xml_char(c: char) -> bool {
    !matches!(c, '\0'..='\x08' | '\x0b' | '\x0c' | '\x0e'..='\x1f' | '\u{fffe}' | '\u{ffff}')
}

/// An optional attribute, unescaped and free of characters XML forbids;
/// either failing is an error.
fn checked_attr<'a>(
    el: &El<'a>,
    name: &'static str,
) -> Result<Option<Cow<'a, str>>, StanzaParseError> {
    match opt_attr(el, name)? {
        Some(v) if !v.chars().all(is_xml_char) => Err(StanzaParseError::bad_attribute(name, &v)),
        v => Ok(v),
    }
}

/// [`checked_attr`], owned.
fn owned_attr(el: &El<'_>, name: &'static str) -> Result<Option<Box<str>>, StanzaParseError> {
    Ok(checked_attr(el, name)?.map(|v| v.into()))
}

/// An optional number attribute, surrounding blanks allowed.
fn num_attr<T: std::str::FromStr>(
    el: &El<'_>,
    name: &'static str,
) -> Result<Option<T>, StanzaParseError> {
    match opt_attr(el, name)? {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| StanzaParseError::bad_attribute(name, &v)),
    }
}
