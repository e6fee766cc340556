//! Colibri2 (`jitsi:colibri2`, protocol.md §4.2): the focus's
//! `<conference-modify/>` requests and the bridge's `<conference-modified/>`
//! answers and errors, both sides of each.
//!
//! Focus side: [`ConferenceModify`] is built from typed endpoint operations
//! and its constructors encode the rules the bridge enforces, so the focus
//! cannot write a request the bridge would refuse for its shape:
//! `meeting-id` always ([`MeetingId`] is never blank); `create` and `name`
//! only through [`ConferenceModify::create_conference`], which also creates
//! the first endpoint; at most one endpoint with create, media, transport or
//! sources per request (several endpoints only to expire them or set their
//! force-mute, [`ConferenceModify::batch`]); every endpoint create carries
//! `<transport>` (with `<sctp/>` when data is offered) and
//! `<capability name='source-names'/>`. [`ConferenceModified::parse`] reads
//! the answer, [`classify_colibri2_error`] an error (protocol.md §3.6).
//!
//! Bridge side (the emulator): [`Colibri2Request::parse`] reads a request
//! and checks the same rules as jitsi-videobridge, returning a
//! [`Colibri2RequestError`] that maps to the error the bridge answers;
//! [`write_conference_modified`] and [`write_colibri2_error`] answer.
//!
//! The builders take the focus's own values: RTP descriptions
//! ([`RtpDescription`], one `<media/>` each), the participant's
//! [`EndpointSourceSet`] (written as media sources by name, as Jicofo does:
//! [`MediaSource::from_source_set`]) and its [`IceUdpTransport`]; the
//! answer gives the bridge's [`IceUdpTransport`] back
//! ([`ConferenceModified::allocation`]) and its feedback sources as a set
//! ([`ConferenceModified::feedback_source_set`]).
//!
//! Every request is IQ `get`, as Jicofo sends them (the bridge reads the
//! payload, not the type). Relays (Octo) and `<connects/>` are not modelled
//! beyond the relay ids a request names.

use super::colibri::ContentKind;
use super::colibri_common::{
    ColibriParseError, bad_attr, cut, in_element, opt, opt_java_bool, opt_num, opt_owned,
    parse_colibri_group, parse_colibri_source, parse_transport, req,
};
use super::iq::{IqType, write_error, write_request, write_result};
use super::jingle::{IceUdpTransport, RtpDescription, write_source, write_ssrc_group};
use super::sources::{EndpointSourceSet, MediaType, Source, SsrcGroup};
use super::{Condition, Iq, Jid, StanzaError};
use crate::xml::{El, XmlWriter, ns};

/// The capability every endpoint create must carry: the bridge refuses an
/// endpoint without source-name signalling.
pub const CAP_SOURCE_NAMES: &str = "source-names";
/// The endpoint supports SSRC rewriting.
pub const CAP_SSRC_REWRITING: &str = "ssrc-rewriting";
/// The bridge may signal private host candidates (Jicofo: Jibri, Jigasi).
pub const CAP_PRIVATE_ADDRESS_CONNECTIVITY: &str = "private-address-connectivity";
/// The only SCTP port the bridge accepts in a request.
pub const DEFAULT_SCTP_PORT: u16 = 5000;

/// No sources: what [`EndpointCreate::new`] starts with.
const NO_SOURCES: &EndpointSourceSet = &EndpointSourceSet::new();

// ---------------------------------------------------------------------------
// Elements shared by requests and answers

/// `<force-mute audio video/>`. As in the Java extension, only a `true` is
/// written; an absent attribute reads as `false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ForceMute {
    /// Audio is force-muted.
    pub audio: bool,
    /// Video is force-muted.
    pub video: bool,
}

impl ForceMute {
    fn write(self, w: &mut XmlWriter<'_>) {
        w.start("force-mute");
        if self.audio {
            w.attr("audio", "true");
        }
        if self.video {
            w.attr("video", "true");
        }
        w.end();
    }
}

/// Reads a `<media type>` (what an endpoint receives for one media) as
/// the RTP description it carries: `media` is the `type` (`audio`,
/// `video`, or `data`, which the bridge's parser accepts too); payload
/// types, header extensions and `extmap-allow-mixed` are read as in a
/// Jingle `<description/>`.
fn parse_media(el: El<'_>) -> Result<RtpDescription, ColibriParseError> {
    let t = req(&el, "media", "type")?;
    let kind = ContentKind::from_name(&t).ok_or_else(|| bad_attr("media", "type", &t))?;
    let mut d = RtpDescription::new(kind.name());
    d.read_children(el).map_err(in_element("media"))?;
    Ok(d)
}

/// Writes a `<media type>` from an RTP description: its payload types,
/// header extensions and `extmap-allow-mixed`. A description of another
/// media than audio or video (the data content's `application`) is not
/// written, as Jicofo offers the bridge only audio and video media.
fn write_media(w: &mut XmlWriter<'_>, d: &RtpDescription) {
    let Some(media) = MediaType::from_name(&d.media) else {
        return;
    };
    w.start("media").attr("type", media.name());
    d.write_codecs_with_ns(w);
    w.end();
}

fn media_type(el: &El<'_>, element: &'static str) -> Result<MediaType, ColibriParseError> {
    let t = req(el, element, "type")?;
    MediaType::from_name(&t).ok_or_else(|| bad_attr(element, "type", &t))
}

/// `<media-source type id synthetic>`: one named source of an endpoint
/// (`abcd1234-v0`), or of the bridge (`jvb-a0`, `jvb-v0`), with its SSRCs
/// and groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaSource {
    /// `type`.
    pub media: MediaType,
    /// `id`: the source name.
    pub id: String,
    /// `synthetic`: injected by the server (translated audio).
    pub synthetic: bool,
    /// `<source/>`s, of [`MediaSource::media`].
    pub sources: Vec<Source>,
    /// `<ssrc-group/>`s, of [`MediaSource::media`].
    pub groups: Vec<SsrcGroup>,
}

impl MediaSource {
    /// A media source with one SSRC named like the source, as the bridge
    /// signals its feedback sources.
    pub fn single(media: MediaType, id: &str, ssrc: u32) -> Self {
        MediaSource {
            media,
            id: id.to_string(),
            synthetic: false,
            sources: vec![Source::new(ssrc, media).with_name(id)],
            groups: Vec::new(),
        }
    }

    /// An endpoint's sources as Colibri2 media sources, as Jicofo converts
    /// them: one media source per source name (a source without a name
    /// goes to `{endpoint}-a0` or `{endpoint}-v0`), in order of first
    /// appearance, and each group with the source of its first SSRC that
    /// the set has (else with the default name of its media). Names are
    /// kept apart per media, so every source stays in its media.
    pub fn from_source_set(endpoint: &str, set: &EndpointSourceSet) -> Vec<MediaSource> {
        fn slot(out: &mut Vec<MediaSource>, media: MediaType, id: String) -> &mut MediaSource {
            let i = match out.iter().position(|m| m.media == media && m.id == id) {
                Some(i) => i,
                None => {
                    out.push(MediaSource {
                        media,
                        id,
                        synthetic: false,
                        sources: Vec::new(),
                        groups: Vec::new(),
                    });
                    out.len() - 1
                }
            };
            &mut out[i]
        }
        let name_of = |media: MediaType, name: Option<&str>| match name {
            Some(n) => n.to_string(),
            None => default_source_name(endpoint, media),
        };
        let mut out = Vec::new();
        for s in &set.sources {
            let id = name_of(s.media, s.name.as_deref());
            slot(&mut out, s.media, id).sources.push(s.clone());
        }
        for g in &set.groups {
            let first = set
                .sources
                .iter()
                .find(|s| s.media == g.media && g.contains(s.ssrc));
            let id = name_of(g.media, first.and_then(|s| s.name.as_deref()));
            slot(&mut out, g.media, id).groups.push(g.clone());
        }
        out
    }

    /// The sources and groups of media sources, as one set (the bridge's
    /// feedback sources for the `jvb` owner, an endpoint's sources on the
    /// emulator's side).
    pub fn to_source_set(media_sources: &[MediaSource]) -> EndpointSourceSet {
        let mut set = EndpointSourceSet::new();
        for m in media_sources {
            for s in &m.sources {
                set.add_source(s.clone());
            }
            for g in &m.groups {
                set.add_group(g.clone());
            }
        }
        set
    }

    fn parse(el: El<'_>) -> Result<Self, ColibriParseError> {
        const E: &str = "media-source";
        let mut m = MediaSource {
            media: media_type(&el, E)?,
            id: req(&el, E, "id")?.into_owned(),
            synthetic: opt_java_bool(&el, E, "synthetic")?.unwrap_or(false),
            sources: Vec::new(),
            groups: Vec::new(),
        };
        for c in el.children() {
            if c.is("source", ns::JINGLE_SSMA) {
                m.sources.push(parse_colibri_source(c, m.media)?);
            } else if c.is("ssrc-group", ns::JINGLE_SSMA) {
                m.groups.push(parse_colibri_group(c, m.media)?);
            }
        }
        Ok(m)
    }

    fn write(&self, w: &mut XmlWriter<'_>) {
        w.start("media-source")
            .attr("type", self.media.name())
            .attr("id", &self.id);
        if self.synthetic {
            w.attr("synthetic", "true");
        }
        for s in &self.sources {
            write_source(w, s, None);
        }
        for g in &self.groups {
            write_ssrc_group(w, g);
        }
        w.end();
    }
}

/// Jicofo's name for the first source of a media of an endpoint that
/// signals none: `{endpoint}-a0`, `{endpoint}-v0`.
pub fn default_source_name(endpoint: &str, media: MediaType) -> String {
    let m = match media {
        MediaType::Audio => 'a',
        MediaType::Video => 'v',
    };
    format!("{endpoint}-{m}0")
}

fn parse_sources(el: El<'_>) -> Result<Vec<MediaSource>, ColibriParseError> {
    el.children()
        .filter(|c| c.is("media-source", ns::COLIBRI2))
        .map(MediaSource::parse)
        .collect()
}

fn write_sources(w: &mut XmlWriter<'_>, sources: &[MediaSource]) {
    w.start("sources");
    for s in sources {
        s.write(w);
    }
    w.end();
}

/// The SCTP role of `<sctp role>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SctpRole {
    /// `client`
    Client,
    /// `server`: what the bridge is, for endpoints.
    Server,
}

impl SctpRole {
    fn name(self) -> &'static str {
        match self {
            SctpRole::Client => "client",
            SctpRole::Server => "server",
        }
    }
}

/// `<sctp port role/>`: in a request, "open a data channel"; in an answer,
/// the bridge's port and role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sctp {
    /// `port`.
    pub port: Option<u16>,
    /// `role`.
    pub role: Option<SctpRole>,
}

impl Sctp {
    fn parse(el: El<'_>) -> Result<Self, ColibriParseError> {
        // The Java enum reads the role upper-cased.
        let role = match opt(&el, "sctp", "role")? {
            None => None,
            Some(r) if r.eq_ignore_ascii_case("client") => Some(SctpRole::Client),
            Some(r) if r.eq_ignore_ascii_case("server") => Some(SctpRole::Server),
            Some(r) => return Err(bad_attr("sctp", "role", &r)),
        };
        Ok(Sctp {
            port: opt_num(&el, "sctp", "port")?,
            role,
        })
    }

    fn write(self, w: &mut XmlWriter<'_>) {
        w.start("sctp");
        if let Some(p) = self.port {
            w.attr_num("port", p);
        }
        w.attr_opt("role", self.role.map(SctpRole::name)).end();
    }
}

/// The Colibri2 `<transport>` of an endpoint: flags, the ICE-UDP transport
/// and SCTP. In a request: the focus's role and the participant's
/// transport; in an answer: the bridge's transport and SCTP port.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Colibri2Transport {
    /// `ice-controlling`: the bridge is the controlling ICE agent.
    pub ice_controlling: bool,
    /// `use-unique-port` (relays).
    pub use_unique_port: bool,
    /// `ice-restart`: restart ICE in place.
    pub ice_restart: bool,
    /// The ICE-UDP `<transport/>`.
    pub ice: Option<IceUdpTransport>,
    /// `<sctp/>`.
    pub sctp: Option<Sctp>,
}

impl Colibri2Transport {
    fn parse(el: El<'_>) -> Result<Self, ColibriParseError> {
        const E: &str = "transport";
        let mut t = Colibri2Transport {
            ice_controlling: opt_java_bool(&el, E, "ice-controlling")?.unwrap_or(false),
            use_unique_port: opt_java_bool(&el, E, "use-unique-port")?.unwrap_or(false),
            ice_restart: opt_java_bool(&el, E, "ice-restart")?.unwrap_or(false),
            ice: None,
            sctp: None,
        };
        for c in el.children() {
            if c.is("transport", ns::JINGLE_ICE_UDP) && t.ice.is_none() {
                t.ice = Some(parse_transport(c)?);
            } else if c.is("sctp", ns::COLIBRI2) && t.sctp.is_none() {
                t.sctp = Some(Sctp::parse(c)?);
            }
        }
        Ok(t)
    }

    fn write(&self, w: &mut XmlWriter<'_>) {
        w.start("transport");
        if self.ice_controlling {
            w.attr("ice-controlling", "true");
        }
        if self.use_unique_port {
            w.attr("use-unique-port", "true");
        }
        if self.ice_restart {
            w.attr("ice-restart", "true");
        }
        if let Some(t) = &self.ice {
            t.write(w);
        }
        if let Some(s) = self.sctp {
            s.write(w);
        }
        w.end();
    }
}

// ---------------------------------------------------------------------------
// Focus side: requests

/// The MUC meeting id every request carries. Never blank: the bridge's
/// parser refuses a request without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeetingId<'a>(&'a str);

impl<'a> MeetingId<'a> {
    /// The id, or `None` when it is empty or only whitespace.
    pub fn new(id: &'a str) -> Option<Self> {
        (!id.trim().is_empty()).then_some(MeetingId(id))
    }

    /// The id.
    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

/// What only the first request for a conference on a bridge carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConferenceCreate<'a> {
    /// `name`: the room JID.
    pub name: &'a str,
    /// `rtcstats-enabled`, written only when `false` (the bridge's default
    /// is `true`).
    pub rtcstats_enabled: bool,
}

/// An endpoint to create (a participant joining on this bridge).
#[derive(Debug, Clone, Copy)]
pub struct EndpointCreate<'a> {
    /// `id`: the endpoint id (MUC nick).
    pub id: &'a str,
    /// `stats-id`.
    pub stats_id: Option<&'a str>,
    /// The RTP descriptions offered (from the participant's offer): a
    /// `<media/>` for each audio or video one.
    pub media: &'a [RtpDescription],
    /// `ice-controlling` on `<transport>` (Jicofo: `true`; the role signalled
    /// to the participant must match).
    pub ice_controlling: bool,
    /// `<sctp/>` in `<transport>`: the participant is offered a data channel.
    pub sctp: bool,
    /// The participant's sources (usually none on create), written as media
    /// sources ([`MediaSource::from_source_set`]). Written as `<sources/>`
    /// always, as Jicofo does.
    pub sources: &'a EndpointSourceSet,
    /// Capabilities besides `source-names`, which is always written first.
    pub capabilities: &'a [&'a str],
    /// Initial force-mute.
    pub force_mute: Option<ForceMute>,
    /// `muc-role='visitor'`.
    pub visitor: bool,
}

impl<'a> EndpointCreate<'a> {
    /// An endpoint create as Jicofo starts it: ICE-controlling bridge, no
    /// data channel, no media, no sources, no extra capabilities.
    pub fn new(id: &'a str) -> Self {
        EndpointCreate {
            id,
            stats_id: None,
            media: &[],
            ice_controlling: true,
            sctp: false,
            sources: NO_SOURCES,
            capabilities: &[],
            force_mute: None,
            visitor: false,
        }
    }

    fn write(&self, w: &mut XmlWriter<'_>) {
        w.start("endpoint")
            .attr("id", self.id)
            .attr("create", "true")
            .attr_opt("stats-id", self.stats_id);
        if self.visitor {
            w.attr("muc-role", "visitor");
        }
        for m in self.media {
            write_media(w, m);
        }
        Colibri2Transport {
            ice_controlling: self.ice_controlling,
            sctp: self.sctp.then(Sctp::default),
            ..Colibri2Transport::default()
        }
        .write(w);
        write_sources(w, &MediaSource::from_source_set(self.id, self.sources));
        if let Some(f) = self.force_mute {
            f.write(w);
        }
        w.start("capability").attr("name", CAP_SOURCE_NAMES).end();
        for c in self.capabilities.iter().filter(|c| **c != CAP_SOURCE_NAMES) {
            w.start("capability").attr("name", c).end();
        }
        w.end();
    }
}

/// Changes to an existing endpoint: after `session-accept`, `transport-info`,
/// `source-add`/`source-remove`, an ICE restart, a force-mute. Each part
/// only when it changed; `sources` is always the complete set.
#[derive(Debug, Clone, Copy)]
pub struct EndpointUpdate<'a> {
    /// `id`.
    pub id: &'a str,
    /// `stats-id` (Jicofo repeats it).
    pub stats_id: Option<&'a str>,
    /// The participant's ICE transport.
    pub transport: Option<&'a IceUdpTransport>,
    /// `ice-restart='true'`: the bridge answers with a new transport, or
    /// without one when it refuses.
    pub ice_restart: bool,
    /// The complete current source set, written as media sources
    /// ([`MediaSource::from_source_set`]).
    pub sources: Option<&'a EndpointSourceSet>,
    /// `<initial-last-n value/>`.
    pub initial_last_n: Option<i32>,
    /// `<force-mute/>`.
    pub force_mute: Option<ForceMute>,
}

impl<'a> EndpointUpdate<'a> {
    /// An update that changes nothing yet.
    pub fn new(id: &'a str) -> Self {
        EndpointUpdate {
            id,
            stats_id: None,
            transport: None,
            ice_restart: false,
            sources: None,
            initial_last_n: None,
            force_mute: None,
        }
    }

    fn write(&self, w: &mut XmlWriter<'_>) {
        w.start("endpoint")
            .attr("id", self.id)
            .attr_opt("stats-id", self.stats_id);
        if self.transport.is_some() || self.ice_restart {
            w.start("transport");
            if self.ice_restart {
                w.attr("ice-restart", "true");
            }
            if let Some(t) = self.transport {
                t.write(w);
            }
            w.end();
        }
        if let Some(s) = self.sources {
            write_sources(w, &MediaSource::from_source_set(self.id, s));
        }
        if let Some(f) = self.force_mute {
            f.write(w);
        }
        if let Some(n) = self.initial_last_n {
            w.start("initial-last-n").attr_num("value", n).end();
        }
        w.end();
    }
}

/// An operation allowed on several endpoints in one request: the bridge
/// ignores unknown endpoints in such a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchOp<'a> {
    /// `<endpoint id expire='true'/>`.
    Expire(&'a str),
    /// `<endpoint id><force-mute/></endpoint>`.
    ForceMute {
        /// The endpoint id.
        id: &'a str,
        /// The new state.
        mute: ForceMute,
    },
}

#[derive(Debug, Clone, Copy)]
enum Body<'a> {
    Create {
        conference: ConferenceCreate<'a>,
        endpoint: EndpointCreate<'a>,
    },
    CreateEndpoint(EndpointCreate<'a>),
    Update(EndpointUpdate<'a>),
    Batch(&'a [BatchOp<'a>]),
    ExpireConference,
}

/// A `<conference-modify/>` request. Only the constructors make one, and
/// each makes a request the bridge accepts for its shape.
#[derive(Debug, Clone, Copy)]
pub struct ConferenceModify<'a> {
    meeting_id: MeetingId<'a>,
    body: Body<'a>,
}

impl<'a> ConferenceModify<'a> {
    /// The first request to a bridge for this conference: `create='true'`,
    /// `name`, and the first endpoint. Send it once per (conference,
    /// bridge) session; every later request uses the other constructors.
    pub fn create_conference(
        meeting_id: MeetingId<'a>,
        conference: ConferenceCreate<'a>,
        endpoint: EndpointCreate<'a>,
    ) -> Self {
        ConferenceModify {
            meeting_id,
            body: Body::Create {
                conference,
                endpoint,
            },
        }
    }

    /// Creates one more endpoint in an existing conference.
    pub fn create_endpoint(meeting_id: MeetingId<'a>, endpoint: EndpointCreate<'a>) -> Self {
        ConferenceModify {
            meeting_id,
            body: Body::CreateEndpoint(endpoint),
        }
    }

    /// Updates one endpoint.
    pub fn update_endpoint(meeting_id: MeetingId<'a>, update: EndpointUpdate<'a>) -> Self {
        ConferenceModify {
            meeting_id,
            body: Body::Update(update),
        }
    }

    /// Expires and/or force-mutes several endpoints; `None` for an empty
    /// batch (Jicofo sends nothing then).
    pub fn batch(meeting_id: MeetingId<'a>, ops: &'a [BatchOp<'a>]) -> Option<Self> {
        (!ops.is_empty()).then_some(ConferenceModify {
            meeting_id,
            body: Body::Batch(ops),
        })
    }

    /// Expires the whole conference on this bridge.
    pub fn expire_conference(meeting_id: MeetingId<'a>) -> Self {
        ConferenceModify {
            meeting_id,
            body: Body::ExpireConference,
        }
    }

    /// The meeting id.
    pub fn meeting_id(&self) -> MeetingId<'a> {
        self.meeting_id
    }

    /// True for the request that creates the conference.
    pub fn creates_conference(&self) -> bool {
        matches!(self.body, Body::Create { .. })
    }

    /// The endpoint this request creates, if any (the one whose answer
    /// carries the bridge's transport).
    pub fn created_endpoint(&self) -> Option<&EndpointCreate<'a>> {
        match &self.body {
            Body::Create { endpoint, .. } | Body::CreateEndpoint(endpoint) => Some(endpoint),
            _ => None,
        }
    }

    /// Writes the request IQ (`get`).
    pub fn write(&self, out: &mut Vec<u8>, iq_id: &str, from: Option<&str>, to: &str) {
        write_request(out, IqType::Get, iq_id, from, to, |w| {
            w.start_ns("conference-modify", ns::COLIBRI2)
                .attr("meeting-id", self.meeting_id.as_str());
            match &self.body {
                Body::Create {
                    conference,
                    endpoint,
                } => {
                    w.attr("name", conference.name);
                    if !conference.rtcstats_enabled {
                        w.attr("rtcstats-enabled", "false");
                    }
                    w.attr("create", "true");
                    endpoint.write(w);
                }
                Body::CreateEndpoint(e) => e.write(w),
                Body::Update(u) => u.write(w),
                Body::Batch(ops) => {
                    for op in ops.iter() {
                        match *op {
                            BatchOp::Expire(id) => {
                                w.start("endpoint")
                                    .attr("id", id)
                                    .attr("expire", "true")
                                    .end();
                            }
                            BatchOp::ForceMute { id, mute } => {
                                w.start("endpoint").attr("id", id);
                                mute.write(w);
                                w.end();
                            }
                        }
                    }
                }
                Body::ExpireConference => {
                    w.attr("expire", "true");
                }
            }
            w.end();
        });
    }
}

// ---------------------------------------------------------------------------
// Answers (both sides)

/// One endpoint of a `<conference-modified/>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModifiedEndpoint {
    /// `id`.
    pub id: String,
    /// `expire='true'`: the bridge confirms an expiry.
    pub expired: bool,
    /// The bridge's transport: only on create and after an ICE restart.
    pub transport: Option<Colibri2Transport>,
}

/// A `<conference-modified/>` answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConferenceModified {
    /// The endpoints the bridge reports on, in order.
    pub endpoints: Vec<ModifiedEndpoint>,
    /// The bridge's feedback sources (`jvb-a0`, `jvb-v0`), sent with every
    /// answer to a request that creates the conference or an endpoint.
    pub sources: Option<Vec<MediaSource>>,
}

/// What the focus takes from the answer to an endpoint create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointAllocation<'a> {
    /// The bridge's ICE transport, to put in the offer.
    pub transport: &'a IceUdpTransport,
    /// The bridge's SCTP port, when a data channel was asked for.
    pub sctp_port: Option<u16>,
}

/// Why an answer to an endpoint create is unusable (Jicofo fails that
/// participant's allocation without blaming the bridge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocationProblem {
    /// No transport for the endpoint.
    NoTransport,
    /// A data channel was asked for and the answer has no SCTP port.
    NoSctp,
}

impl std::fmt::Display for AllocationProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AllocationProblem::NoTransport => "no transport for the endpoint in the answer",
            AllocationProblem::NoSctp => "SCTP was requested but the answer has no SCTP port",
        })
    }
}

impl ConferenceModified {
    /// Reads `<conference-modified xmlns='jitsi:colibri2'/>`.
    pub fn parse(el: El<'_>) -> Result<Self, ColibriParseError> {
        if !el.is("conference-modified", ns::COLIBRI2) {
            return Err(ColibriParseError::NotA("a <conference-modified/>"));
        }
        let mut m = ConferenceModified::default();
        for c in el.children() {
            if c.is("endpoint", ns::COLIBRI2) {
                const E: &str = "endpoint";
                let transport = match c.child("transport", ns::COLIBRI2) {
                    Some(t) => Some(Colibri2Transport::parse(t)?),
                    None => None,
                };
                m.endpoints.push(ModifiedEndpoint {
                    id: req(&c, E, "id")?.into_owned(),
                    expired: opt_java_bool(&c, E, "expire")?.unwrap_or(false),
                    transport,
                });
            } else if c.is("sources", ns::COLIBRI2) && m.sources.is_none() {
                m.sources = Some(parse_sources(c)?);
            }
        }
        Ok(m)
    }

    /// Writes the `<conference-modified/>` element.
    pub fn write(&self, w: &mut XmlWriter<'_>) {
        w.start_ns("conference-modified", ns::COLIBRI2);
        for e in &self.endpoints {
            w.start("endpoint").attr("id", &e.id);
            if e.expired {
                w.attr("expire", "true");
            }
            if let Some(t) = &e.transport {
                t.write(w);
            }
            w.end();
        }
        if let Some(s) = &self.sources {
            write_sources(w, s);
        }
        w.end();
    }

    /// The answer's entry for an endpoint.
    pub fn endpoint(&self, id: &str) -> Option<&ModifiedEndpoint> {
        self.endpoints.iter().find(|e| e.id == id)
    }

    /// The feedback sources (empty when the answer has none).
    pub fn feedback_sources(&self) -> &[MediaSource] {
        self.sources.as_deref().unwrap_or(&[])
    }

    /// The feedback sources as a set, for the `jvb` owner.
    pub fn feedback_source_set(&self) -> EndpointSourceSet {
        MediaSource::to_source_set(self.feedback_sources())
    }

    /// The transport and SCTP port for an endpoint just created, checked as
    /// Jicofo checks them: a Colibri2 transport must be there, then an SCTP
    /// port if a data channel was asked for, then the ICE transport.
    pub fn allocation(
        &self,
        endpoint: &str,
        sctp_requested: bool,
    ) -> Result<EndpointAllocation<'_>, AllocationProblem> {
        let t = self
            .endpoint(endpoint)
            .and_then(|e| e.transport.as_ref())
            .ok_or(AllocationProblem::NoTransport)?;
        let sctp_port = t.sctp.and_then(|s| s.port);
        if sctp_requested && sctp_port.is_none() {
            return Err(AllocationProblem::NoSctp);
        }
        let transport = t.ice.as_ref().ok_or(AllocationProblem::NoTransport)?;
        Ok(EndpointAllocation {
            transport,
            sctp_port,
        })
    }
}

// ---------------------------------------------------------------------------
// Errors: reasons, the bridge's errors, and the focus's classification

/// The `reason` of `<error xmlns='jitsi:colibri2' reason/>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Colibri2Reason {
    /// `conference_not_found`
    ConferenceNotFound,
    /// `conference_already_exists`
    ConferenceAlreadyExists,
    /// `feature_not_implemented`
    FeatureNotImplemented,
    /// `graceful_shutdown`
    GracefulShutdown,
    /// `unknown_endpoint`
    UnknownEndpoint,
    /// `unspecified`
    Unspecified,
}

impl Colibri2Reason {
    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Colibri2Reason::ConferenceNotFound => "conference_not_found",
            Colibri2Reason::ConferenceAlreadyExists => "conference_already_exists",
            Colibri2Reason::FeatureNotImplemented => "feature_not_implemented",
            Colibri2Reason::GracefulShutdown => "graceful_shutdown",
            Colibri2Reason::UnknownEndpoint => "unknown_endpoint",
            Colibri2Reason::Unspecified => "unspecified",
        }
    }

    /// The reason for a wire name, case ignored as the Java enum does;
    /// `None` for anything else.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Colibri2Reason::ConferenceNotFound,
            Colibri2Reason::ConferenceAlreadyExists,
            Colibri2Reason::FeatureNotImplemented,
            Colibri2Reason::GracefulShutdown,
            Colibri2Reason::UnknownEndpoint,
            Colibri2Reason::Unspecified,
        ]
        .into_iter()
        .find(|r| r.name().eq_ignore_ascii_case(name))
    }
}

/// An error with a condition, optionally a Colibri2 reason and text.
pub fn colibri2_error(
    condition: Condition,
    reason: Option<Colibri2Reason>,
    text: Option<&str>,
) -> StanzaError {
    let mut e = StanzaError::new(condition);
    if let Some(t) = text {
        e = e.with_text(t);
    }
    if let Some(r) = reason {
        e = e.with_app("error", ns::COLIBRI2, &[("reason", r.name())]);
    }
    e
}

/// `item-not-found` + `conference_not_found`: no conference with this
/// meeting id (a request without `create`).
pub fn conference_not_found(meeting_id: &str) -> StanzaError {
    colibri2_error(
        Condition::ItemNotFound,
        Some(Colibri2Reason::ConferenceNotFound),
        Some(&format!("no conference for meeting-id {meeting_id}")),
    )
}

/// `conflict` + `conference_already_exists`: `create` for a meeting id the
/// bridge already has.
pub fn conference_already_exists(meeting_id: &str) -> StanzaError {
    colibri2_error(
        Condition::Conflict,
        Some(Colibri2Reason::ConferenceAlreadyExists),
        Some(&format!("a conference for meeting-id {meeting_id} exists")),
    )
}

/// `service-unavailable` + `graceful_shutdown`: no new conferences.
pub fn graceful_shutdown() -> StanzaError {
    colibri2_error(
        Condition::ServiceUnavailable,
        Some(Colibri2Reason::GracefulShutdown),
        Some("in graceful shutdown"),
    )
}

/// `item-not-found` + `unknown_endpoint` + `<endpoint xmlns='jitsi:colibri2'
/// id/>`: a request names an endpoint the conference does not have.
pub fn unknown_endpoint(endpoint_id: &str) -> StanzaError {
    colibri2_error(
        Condition::ItemNotFound,
        Some(Colibri2Reason::UnknownEndpoint),
        Some(&format!("no endpoint {endpoint_id}")),
    )
    .with_app("endpoint", ns::COLIBRI2, &[("id", endpoint_id)])
}

/// `conflict` without a reason: an endpoint create for an id that exists.
pub fn endpoint_already_exists(endpoint_id: &str) -> StanzaError {
    colibri2_error(
        Condition::Conflict,
        None,
        Some(&format!("endpoint {endpoint_id} exists")),
    )
}

/// Writes the bridge's error answer to `request`. Like the bridge, the
/// request payload is not echoed.
pub fn write_colibri2_error(
    out: &mut Vec<u8>,
    request: &Iq<'_>,
    from: Option<&str>,
    err: &StanzaError,
) {
    let from = from.or(request.to.as_deref());
    write_error(out, &request.id, from, request.from.as_deref(), err);
}

/// Writes the bridge's answer to `request`: a result with `modified`.
pub fn write_conference_modified(
    out: &mut Vec<u8>,
    request: &Iq<'_>,
    from: Option<&str>,
    modified: &ConferenceModified,
) {
    let from = from.or(request.to.as_deref());
    write_result(out, &request.id, from, request.from.as_deref(), |w| {
        modified.write(w)
    });
}

/// What an error answer from a bridge means (protocol.md §3.6), row by row
/// of Jicofo's handling. The allocation rows apply to the answer to an
/// endpoint create, the update rows to later requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Colibri2Failure {
    /// `service-unavailable` + `graceful_shutdown`. Allocation: flag the
    /// bridge as shutting down gracefully, remove the session, re-invite.
    GracefulShutdown,
    /// `item-not-found` + `conference_not_found`: the bridge expired the
    /// conference. Allocation: remove the session and re-invite (the bridge
    /// stays operational).
    ConferenceNotFound,
    /// `conflict` + `conference_already_exists`. Allocation: the invite of
    /// this participant is cancelled. (Jicofo also removes the session, as
    /// for any conflict, and re-invites the participants it had.)
    ConferenceAlreadyExists,
    /// Reason `unknown_endpoint`, whatever the condition, with the endpoint
    /// id from `<endpoint xmlns='jitsi:colibri2' id/>`. Update: forget that
    /// endpoint and re-invite only its participant; without an id Jicofo
    /// treats it as any other update error. (The bridge never answers an
    /// endpoint create with it.)
    UnknownEndpoint(Option<String>),
    /// `bad-request`: probably the focus's bug. Allocation: fail this
    /// participant only, no re-invite, the bridge is not blamed.
    BadRequest,
    /// `item-not-found` without a reason (or with one other than the two
    /// above), e.g. the MUC saying the bridge's occupant is gone.
    /// Allocation: fail this participant only, no re-invite.
    ItemNotFoundNoReason,
    /// `service-unavailable` without `graceful_shutdown`. Allocation: the
    /// bridge is not operational; remove the session, re-invite.
    ServiceUnavailable,
    /// `conflict` without a reason or with another one. Allocation: remove
    /// the session, re-invite.
    ConflictNoReason,
    /// Any other condition. Allocation: the bridge is not operational;
    /// remove the session, re-invite.
    Other,
}

/// Classifies a bridge's error answer (protocol.md §3.6). Reasons are read
/// from `<error xmlns='jitsi:colibri2' reason/>`; an unknown reason counts
/// as none (every row treats the two alike). For any error on a later
/// update other than [`Colibri2Failure::UnknownEndpoint`] with an id,
/// Jicofo removes the session and re-invites its participants.
pub fn classify_colibri2_error(err: &StanzaError) -> Colibri2Failure {
    let app = |name: &str, attr: &str| {
        err.app
            .iter()
            .find(|a| a.ns == ns::COLIBRI2 && a.name == name)
            .and_then(|a| a.attr(attr))
    };
    let reason = app("error", "reason").and_then(Colibri2Reason::from_name);
    if reason == Some(Colibri2Reason::UnknownEndpoint) {
        return Colibri2Failure::UnknownEndpoint(app("endpoint", "id").map(str::to_string));
    }
    match err.condition {
        Condition::BadRequest => Colibri2Failure::BadRequest,
        Condition::ItemNotFound if reason == Some(Colibri2Reason::ConferenceNotFound) => {
            Colibri2Failure::ConferenceNotFound
        }
        Condition::ItemNotFound => Colibri2Failure::ItemNotFoundNoReason,
        Condition::Conflict if reason == Some(Colibri2Reason::ConferenceAlreadyExists) => {
            Colibri2Failure::ConferenceAlreadyExists
        }
        Condition::Conflict => Colibri2Failure::ConflictNoReason,
        Condition::ServiceUnavailable if reason == Some(Colibri2Reason::GracefulShutdown) => {
            Colibri2Failure::GracefulShutdown
        }
        Condition::ServiceUnavailable => Colibri2Failure::ServiceUnavailable,
        _ => Colibri2Failure::Other,
    }
}

// ---------------------------------------------------------------------------
// Bridge side: reading requests

/// An endpoint of a request, as the bridge reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedEndpoint {
    /// `id`.
    pub id: String,
    /// `create='true'`.
    pub create: bool,
    /// `expire='true'`.
    pub expire: bool,
    /// `stats-id`.
    pub stats_id: Option<String>,
    /// `muc-role='visitor'`.
    pub visitor: bool,
    /// `<media/>`s, each as the RTP description it carries.
    pub media: Vec<RtpDescription>,
    /// `<transport>`.
    pub transport: Option<Colibri2Transport>,
    /// `<sources>`: `Some(empty)` clears the endpoint's sources.
    pub sources: Option<Vec<MediaSource>>,
    /// `<capability name/>`s.
    pub capabilities: Vec<String>,
    /// `<force-mute/>`.
    pub force_mute: Option<ForceMute>,
    /// `<initial-last-n value/>`.
    pub initial_last_n: Option<i32>,
}

/// MUC roles the bridge's parser accepts in `muc-role`.
const MUC_ROLES: [&str; 4] = ["moderator", "participant", "visitor", "none"];

impl RequestedEndpoint {
    fn parse(el: El<'_>) -> Result<Self, ColibriParseError> {
        const E: &str = "endpoint";
        let visitor = match opt(&el, E, "muc-role")? {
            None => false,
            Some(r) if MUC_ROLES.contains(&r.as_ref()) => r == "visitor",
            Some(r) => return Err(bad_attr(E, "muc-role", &r)),
        };
        let mut e = RequestedEndpoint {
            id: req(&el, E, "id")?.into_owned(),
            create: opt_java_bool(&el, E, "create")?.unwrap_or(false),
            expire: opt_java_bool(&el, E, "expire")?.unwrap_or(false),
            stats_id: opt_owned(&el, E, "stats-id")?,
            visitor,
            media: Vec::new(),
            transport: None,
            sources: None,
            capabilities: Vec::new(),
            force_mute: None,
            initial_last_n: None,
        };
        for c in el.children().filter(|c| c.ns() == ns::COLIBRI2) {
            match c.name() {
                "media" => e.media.push(parse_media(c)?),
                "transport" if e.transport.is_none() => {
                    e.transport = Some(Colibri2Transport::parse(c)?);
                }
                "sources" if e.sources.is_none() => e.sources = Some(parse_sources(c)?),
                "capability" => {
                    if let Some(n) = opt_owned(&c, "capability", "name")? {
                        e.capabilities.push(n);
                    }
                }
                "force-mute" if e.force_mute.is_none() => {
                    e.force_mute = Some(ForceMute {
                        audio: opt_java_bool(&c, "force-mute", "audio")?.unwrap_or(false),
                        video: opt_java_bool(&c, "force-mute", "video")?.unwrap_or(false),
                    });
                }
                "initial-last-n" if e.initial_last_n.is_none() => {
                    e.initial_last_n = Some(opt_num(&c, "initial-last-n", "value")?.ok_or(
                        ColibriParseError::MissingAttribute {
                            element: "initial-last-n",
                            attribute: "value",
                        },
                    )?);
                }
                _ => {}
            }
        }
        Ok(e)
    }

    /// True when it carries what the bridge allows for one endpoint per
    /// request only: create, media, transport or sources.
    pub fn is_heavy(&self) -> bool {
        self.create || !self.media.is_empty() || self.transport.is_some() || self.sources.is_some()
    }

    /// True when it carries the capability.
    pub fn has_capability(&self, name: &str) -> bool {
        self.capabilities.iter().any(|c| c == name)
    }

    /// The bridge's stateless checks of one endpoint, in its order. The
    /// bridge checks "an endpoint with this id exists" (`conflict`) for a
    /// create before these, and an expiry skips them all.
    pub fn check(&self) -> Result<(), Colibri2RequestError> {
        if self.expire || !self.create {
            return Ok(());
        }
        let id = || self.id.clone();
        let transport = self
            .transport
            .as_ref()
            .ok_or_else(|| Colibri2RequestError::CreateWithoutTransport(id()))?;
        if !self.has_capability(CAP_SOURCE_NAMES) {
            return Err(Colibri2RequestError::CreateWithoutSourceNames(id()));
        }
        if let Some(sctp) = transport.sctp {
            if sctp.role.is_some_and(|r| r != SctpRole::Server) {
                return Err(Colibri2RequestError::SctpRoleNotServer(id()));
            }
            if let Some(p) = sctp.port.filter(|p| *p != DEFAULT_SCTP_PORT) {
                return Err(Colibri2RequestError::SctpPortNotDefault(id(), p));
            }
        }
        if self.visitor && self.sources.as_ref().is_some_and(|s| !s.is_empty()) {
            return Err(Colibri2RequestError::VisitorWithSources(id()));
        }
        Ok(())
    }
}

/// A `<conference-modify/>` as the bridge reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Colibri2Request {
    /// `meeting-id`.
    pub meeting_id: String,
    /// `name`.
    pub name: Option<String>,
    /// `create='true'`.
    pub create: bool,
    /// `expire='true'`.
    pub expire: bool,
    /// `rtcstats-enabled` (default `true`).
    pub rtcstats_enabled: bool,
    /// The endpoints, in order.
    pub endpoints: Vec<RequestedEndpoint>,
    /// The ids of the `<relay/>`s named (relays are not modelled further).
    pub relays: Vec<String>,
}

/// A request jitsi-videobridge refuses without looking at its state, and
/// why. [`Colibri2RequestError::to_stanza_error`] is its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Colibri2RequestError {
    /// The payload is not a `<conference-modify/>`.
    NotConferenceModify,
    /// `meeting-id` is absent or blank.
    MissingMeetingId,
    /// An element the bridge's parser cannot read.
    Malformed(ColibriParseError),
    /// `create` with a `name` that is not a bare JID with a local part.
    BadConferenceName(String),
    /// Endpoints and relays in one request.
    EndpointsAndRelays,
    /// Several endpoints, one of them with create, media, transport or
    /// sources.
    SeveralEndpointsWithMedia,
    /// More than one relay.
    SeveralRelays,
    /// An endpoint create without `<transport>` (the endpoint id).
    CreateWithoutTransport(String),
    /// An endpoint create without `<capability name='source-names'/>`.
    CreateWithoutSourceNames(String),
    /// `<sctp role>` other than `server`.
    SctpRoleNotServer(String),
    /// `<sctp port>` other than 5000.
    SctpPortNotDefault(String, u16),
    /// A visitor created with sources.
    VisitorWithSources(String),
}

impl std::fmt::Display for Colibri2RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use Colibri2RequestError::*;
        match self {
            NotConferenceModify => f.write_str("not a conference-modify"),
            MissingMeetingId => f.write_str("no meeting-id"),
            Malformed(e) => write!(f, "malformed request: {e}"),
            BadConferenceName(n) => write!(f, "conference name {n:?} is not a bare JID"),
            EndpointsAndRelays => f.write_str("endpoints and relays in one request"),
            SeveralEndpointsWithMedia => {
                f.write_str("create, media, transport or sources for several endpoints")
            }
            SeveralRelays => f.write_str("more than one relay in a request"),
            CreateWithoutTransport(id) => write!(f, "endpoint {id} created without transport"),
            CreateWithoutSourceNames(id) => {
                write!(
                    f,
                    "endpoint {id} created without the source-names capability"
                )
            }
            SctpRoleNotServer(id) => write!(f, "endpoint {id}: unsupported SCTP role"),
            SctpPortNotDefault(id, p) => write!(f, "endpoint {id}: SCTP port {p} requested"),
            VisitorWithSources(id) => write!(f, "visitor endpoint {id} with sources"),
        }
    }
}

impl std::error::Error for Colibri2RequestError {}

impl From<ColibriParseError> for Colibri2RequestError {
    fn from(e: ColibriParseError) -> Self {
        Colibri2RequestError::Malformed(e)
    }
}

impl Colibri2RequestError {
    /// The error jitsi-videobridge answers. The shape rules are
    /// `feature-not-implemented` with reason `feature_not_implemented`;
    /// endpoint rules are `bad-request` (an unsupported SCTP role
    /// `feature-not-implemented`), without a reason. A request its XMPP
    /// library cannot parse at all (`MissingMeetingId`, `Malformed`) gets no
    /// handler's answer on the real bridge; the emulator answers
    /// `bad-request` so the focus sees a prompt failure.
    pub fn to_stanza_error(&self) -> StanzaError {
        use Colibri2RequestError::*;
        let text = self.to_string();
        match self {
            NotConferenceModify => colibri2_error(Condition::FeatureNotImplemented, None, None),
            EndpointsAndRelays | SeveralEndpointsWithMedia | SeveralRelays => colibri2_error(
                Condition::FeatureNotImplemented,
                Some(Colibri2Reason::FeatureNotImplemented),
                Some(&text),
            ),
            SctpRoleNotServer(_) => {
                colibri2_error(Condition::FeatureNotImplemented, None, Some(&text))
            }
            MissingMeetingId
            | Malformed(_)
            | BadConferenceName(_)
            | CreateWithoutTransport(_)
            | CreateWithoutSourceNames(_)
            | SctpPortNotDefault(..)
            | VisitorWithSources(_) => colibri2_error(Condition::BadRequest, None, Some(&text)),
        }
    }
}

impl Colibri2Request {
    /// Reads a request and applies every stateless check of the bridge:
    /// [`Colibri2Request::read`], then [`Colibri2Request::check_name`],
    /// [`Colibri2Request::check_shape`] and each endpoint's
    /// [`RequestedEndpoint::check`].
    ///
    /// The bridge interleaves these with state: after reading, it answers
    /// "conference exists" / "graceful shutdown" (with `create`) or
    /// "conference not found" (without) before the name check, and an
    /// existing endpoint's `conflict` before that endpoint's checks. An
    /// emulator that wants that exact precedence calls the steps itself.
    pub fn parse(payload: El<'_>) -> Result<Self, Colibri2RequestError> {
        let r = Colibri2Request::read(payload)?;
        r.check_name()?;
        r.check_shape()?;
        for e in &r.endpoints {
            e.check()?;
        }
        Ok(r)
    }

    /// Reads a request as the bridge's XMPP parser does: required and
    /// well-formed values only, no rules.
    pub fn read(payload: El<'_>) -> Result<Self, Colibri2RequestError> {
        const E: &str = "conference-modify";
        if !payload.is(E, ns::COLIBRI2) {
            return Err(Colibri2RequestError::NotConferenceModify);
        }
        let meeting_id = opt_owned(&payload, E, "meeting-id")?
            .filter(|m| !m.trim().is_empty())
            .ok_or(Colibri2RequestError::MissingMeetingId)?;
        let mut r = Colibri2Request {
            meeting_id,
            name: opt_owned(&payload, E, "name")?,
            create: opt_java_bool(&payload, E, "create")?.unwrap_or(false),
            expire: opt_java_bool(&payload, E, "expire")?.unwrap_or(false),
            rtcstats_enabled: opt_java_bool(&payload, E, "rtcstats-enabled")?.unwrap_or(true),
            endpoints: Vec::new(),
            relays: Vec::new(),
        };
        for c in payload.children() {
            if c.is("endpoint", ns::COLIBRI2) {
                r.endpoints.push(RequestedEndpoint::parse(c)?);
            } else if c.is("relay", ns::COLIBRI2) {
                r.relays.push(req(&c, "relay", "id")?.into_owned());
            }
        }
        Ok(r)
    }

    /// With `create`, a `name` must be a bare JID with a local part (the
    /// room); no name is fine.
    pub fn check_name(&self) -> Result<(), Colibri2RequestError> {
        match (&self.name, self.create) {
            (Some(n), true) => match Jid::parse(n) {
                Ok(j) if j.node().is_some() && j.is_bare() => Ok(()),
                _ => Err(Colibri2RequestError::BadConferenceName(cut(n))),
            },
            _ => Ok(()),
        }
    }

    /// The bridge's limits on what one request may combine.
    pub fn check_shape(&self) -> Result<(), Colibri2RequestError> {
        if !self.endpoints.is_empty() && !self.relays.is_empty() {
            return Err(Colibri2RequestError::EndpointsAndRelays);
        }
        if self.endpoints.len() > 1 && self.endpoints.iter().any(RequestedEndpoint::is_heavy) {
            return Err(Colibri2RequestError::SeveralEndpointsWithMedia);
        }
        if self.relays.len() > 1 {
            return Err(Colibri2RequestError::SeveralRelays);
        }
        Ok(())
    }

    /// True when the bridge ignores unknown endpoints in this request (it
    /// only expires or force-mutes them); otherwise an unknown endpoint is
    /// [`unknown_endpoint`].
    pub fn ignores_unknown_endpoints(&self) -> bool {
        !self.endpoints.iter().any(RequestedEndpoint::is_heavy)
    }

    /// True when the answer must carry the feedback sources: the request
    /// creates the conference or an endpoint.
    pub fn wants_feedback_sources(&self) -> bool {
        self.create || self.endpoints.iter().any(|e| e.create)
    }
}

/// True for a request whose payload is a `<conference-modify/>`.
pub fn is_colibri2_request(iq: &Iq<'_>) -> bool {
    iq.is_request() && iq.payload_is("conference-modify", ns::COLIBRI2)
}

#[cfg(test)]
mod tests;
