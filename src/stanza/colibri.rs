//! Colibri v1 (`http://jitsi.org/protocol/colibri`, protocol.md §4.1): the
//! 2015 bridge's `<conference/>` IQ, both sides of it; and the rest of what
//! the focus reads from and writes to bridges in that namespace: brewery
//! statistics (§3.3), the health check (§3.5) and bridge discovery (§3.1).
//!
//! One owned model, [`V1Conference`], describes a `<conference/>` in either
//! direction: the bridge emulator parses requests into it and writes its
//! answer from it, the focus parses the bridge's answer into it. The focus
//! writes its requests with typed builders instead ([`ChannelAllocation`],
//! [`V1Update`]), which borrow what they write and encode SEED's
//! conventions: `<source ssrc='-1'/>` for "no sources", an empty SIM group
//! for "no groups", a `channel-bundle` carrying the first content's
//! transport.
//!
//! The Jingle elements inside are the Jingle layer's types: payload types
//! and header extensions ([`crate::stanza::jingle`]), sources and groups
//! ([`crate::stanza::sources`]; a channel's media is theirs) and the
//! ICE-UDP transport ([`IceUdpTransport`]), copied attribute for attribute.
//! Only the `data` content, which has no sources, needs [`ContentKind`].
//!
//! Requests are IQ `get` for allocation (as SEED's builder sent them; the
//! bridge treats `get` and `set` alike) and `set` for everything else.

use super::colibri_common::{
    ColibriParseError, bad_attr, bool_str, cut, java_bool, opt_java_bool, opt_num, opt_owned,
    parse_colibri_group, parse_colibri_source, parse_hdrext, parse_payload_type, parse_transport,
    req,
};
use super::disco::DiscoInfo;
use super::iq::{IqType, write_request, write_result};
use super::jingle::{IceUdpTransport, PayloadType, RtpHdrExt, write_source, write_ssrc_group};
use super::sources::{EndpointSourceSet, MediaType, Source, SsrcGroup};
use super::{Condition, Iq, StanzaError};
use crate::xml::{El, XmlWriter, ns};

// ---------------------------------------------------------------------------
// The model

/// A Colibri v1 `<content name>`: the RTP channels of one media, or the
/// SCTP connections of the `data` content (which has no sources, so it is
/// no [`MediaType`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentKind {
    /// `audio` or `video`: RTP `<channel/>`s.
    Rtp(MediaType),
    /// `data`: `<sctpconnection/>`s.
    Data,
}

impl ContentKind {
    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            ContentKind::Rtp(m) => m.name(),
            ContentKind::Data => "data",
        }
    }

    /// The kind for a wire name (exact, lower case, as the bridge's
    /// `MediaType.parseString` compares); `None` for anything else.
    pub fn from_name(name: &str) -> Option<ContentKind> {
        match MediaType::from_name(name) {
            Some(m) => Some(ContentKind::Rtp(m)),
            None => (name == "data").then_some(ContentKind::Data),
        }
    }
}

impl From<MediaType> for ContentKind {
    fn from(m: MediaType) -> ContentKind {
        ContentKind::Rtp(m)
    }
}

/// A channel's media direction (`direction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `sendrecv`
    SendRecv,
    /// `sendonly`: the bridge sends but ignores what it receives (SEED's
    /// mute).
    SendOnly,
    /// `recvonly`
    RecvOnly,
    /// `inactive`
    Inactive,
}

impl Direction {
    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction for a wire name; `None` for anything else.
    pub fn from_name(name: &str) -> Option<Direction> {
        Some(match name {
            "sendrecv" => Direction::SendRecv,
            "sendonly" => Direction::SendOnly,
            "recvonly" => Direction::RecvOnly,
            "inactive" => Direction::Inactive,
            _ => return None,
        })
    }
}

/// An RTP `<channel/>` of an audio or video content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Channel {
    /// The content it sits in: audio or video.
    pub media: MediaType,
    /// `id`, bridge-assigned; absent in an allocation.
    pub id: Option<String>,
    /// `endpoint`: the participant's endpoint id (MUC nick).
    pub endpoint: Option<String>,
    /// `channel-bundle-id`.
    pub bundle_id: Option<String>,
    /// `initiator`: the peer is the ICE initiator.
    pub initiator: Option<bool>,
    /// `expire` in seconds (`0` = now; `-1`, "not specified", reads as
    /// absent).
    pub expire: Option<u32>,
    /// `direction`.
    pub direction: Option<Direction>,
    /// `last-n`.
    pub last_n: Option<i32>,
    /// `adaptive-last-n`.
    pub adaptive_last_n: Option<bool>,
    /// `adaptive-simulcast`.
    pub adaptive_simulcast: Option<bool>,
    /// `simulcast-mode`.
    pub simulcast_mode: Option<String>,
    /// `rtp-level-relay-type` (`translator`, `mixer`).
    pub rtp_level_relay_type: Option<String>,
    /// `<payload-type/>`s.
    pub payload_types: Vec<PayloadType>,
    /// `<rtp-hdrext/>`s.
    pub hdrexts: Vec<RtpHdrExt>,
    /// `<source/>`s. `None`: none sent (leave unchanged); `Some(empty)`:
    /// "remove all", written `<source ssrc='-1'/>`. From the bridge: its own
    /// SSRC for this channel.
    pub sources: Option<Vec<Source>>,
    /// `<ssrc-group/>`s. `None`: none sent; `Some(empty)`: "no groups",
    /// written as an empty SIM group (groups without members are dropped
    /// when reading).
    pub ssrc_groups: Option<Vec<SsrcGroup>>,
    /// `<ssrc>` children: SSRCs the bridge receives on the channel.
    pub ssrcs: Vec<u32>,
    /// The channel's own `<transport/>` when it is not bundled.
    pub transport: Option<IceUdpTransport>,
}

impl V1Channel {
    /// A channel with nothing but its media.
    pub fn new(media: MediaType) -> Self {
        V1Channel {
            media,
            id: None,
            endpoint: None,
            bundle_id: None,
            initiator: None,
            expire: None,
            direction: None,
            last_n: None,
            adaptive_last_n: None,
            adaptive_simulcast: None,
            simulcast_mode: None,
            rtp_level_relay_type: None,
            payload_types: Vec::new(),
            hdrexts: Vec::new(),
            sources: None,
            ssrc_groups: None,
            ssrcs: Vec::new(),
            transport: None,
        }
    }
}

/// An `<sctpconnection/>` of the data content.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct V1SctpConnection {
    /// `id`, bridge-assigned; absent in an allocation.
    pub id: Option<String>,
    /// `endpoint`.
    pub endpoint: Option<String>,
    /// `channel-bundle-id`.
    pub bundle_id: Option<String>,
    /// `initiator`.
    pub initiator: Option<bool>,
    /// `expire` in seconds.
    pub expire: Option<u32>,
    /// `port` (SCTP port, 5000 by default).
    pub port: Option<u16>,
    /// Its own `<transport/>` when not bundled.
    pub transport: Option<IceUdpTransport>,
}

/// A `<channel-bundle id>`: one transport shared by the channels naming it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Bundle {
    /// `id` (the endpoint id in Jicofo's use).
    pub id: String,
    /// The shared `<transport/>`.
    pub transport: Option<IceUdpTransport>,
}

/// A Colibri v1 `<conference/>`, in either direction. Channels are kept
/// flat with their media; writing groups them into one `<content/>` per
/// media, in order of first appearance, and the SCTP connections into the
/// `data` content. `<recording/>`, `<endpoint/>` and the other rarely used
/// children are not kept.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct V1Conference {
    /// `id`, bridge-assigned; absent when asking for a new conference.
    pub id: Option<String>,
    /// `name` (the room's local part in SEED; informational).
    pub name: Option<String>,
    /// RTP channels of the audio and video contents.
    pub channels: Vec<V1Channel>,
    /// SCTP connections of the data content.
    pub sctp_connections: Vec<V1SctpConnection>,
    /// Channel bundles.
    pub bundles: Vec<V1Bundle>,
    /// `<graceful-shutdown/>`: the bridge is shutting down gracefully.
    pub graceful_shutdown: bool,
}

/// One participant's channels as the focus keeps them after allocation:
/// what it needs to update and expire them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1ParticipantChannels {
    /// The endpoint id.
    pub endpoint: String,
    /// RTP channel ids with their media, in response order.
    pub channels: Vec<(MediaType, String)>,
    /// The SCTP connection id.
    pub sctp: Option<String>,
    /// The channel bundle id, when bundled.
    pub bundle_id: Option<String>,
}

/// `expire`: a number of seconds; `-1` is Jitsi's "not specified".
fn parse_expire(el: &El<'_>, element: &'static str) -> Result<Option<u32>, ColibriParseError> {
    match opt_num::<i64>(el, element, "expire")? {
        None | Some(-1) => Ok(None),
        Some(v) => u32::try_from(v)
            .map(Some)
            .map_err(|_| bad_attr(element, "expire", &v.to_string())),
    }
}

fn parse_channel(el: El<'_>, media: MediaType) -> Result<V1Channel, ColibriParseError> {
    const E: &str = "channel";
    let direction = match opt_owned(&el, E, "direction")? {
        None => None,
        Some(d) => Some(Direction::from_name(&d).ok_or_else(|| bad_attr(E, "direction", &d))?),
    };
    let mut ch = V1Channel {
        media,
        id: opt_owned(&el, E, "id")?,
        endpoint: opt_owned(&el, E, "endpoint")?,
        bundle_id: opt_owned(&el, E, "channel-bundle-id")?,
        initiator: opt_java_bool(&el, E, "initiator")?,
        expire: parse_expire(&el, E)?,
        direction,
        last_n: opt_num(&el, E, "last-n")?,
        adaptive_last_n: opt_java_bool(&el, E, "adaptive-last-n")?,
        adaptive_simulcast: opt_java_bool(&el, E, "adaptive-simulcast")?,
        simulcast_mode: opt_owned(&el, E, "simulcast-mode")?,
        rtp_level_relay_type: opt_owned(&el, E, "rtp-level-relay-type")?,
        ..V1Channel::new(media)
    };
    for c in el.children() {
        if c.is("payload-type", ns::JINGLE_RTP) {
            ch.payload_types.push(parse_payload_type(c)?);
        } else if c.is("rtp-hdrext", ns::JINGLE_RTP_HDREXT) {
            ch.hdrexts.push(parse_hdrext(c)?);
        } else if c.is("source", ns::JINGLE_SSMA) {
            let list = ch.sources.get_or_insert_with(Vec::new);
            // SEED's "remove all sources" marker.
            if c.attr_raw("ssrc") != Some("-1") {
                list.push(parse_colibri_source(c, media)?);
            }
        } else if c.is("ssrc-group", ns::JINGLE_SSMA) {
            let g = parse_colibri_group(c, media)?;
            let list = ch.ssrc_groups.get_or_insert_with(Vec::new);
            // An empty group ("simulcast off") only says "no groups".
            if !g.ssrcs.is_empty() {
                list.push(g);
            }
        } else if c.is("ssrc", ns::COLIBRI) {
            let text = c.text();
            let ssrc = text
                .trim()
                .parse()
                .map_err(|_| ColibriParseError::BadText {
                    element: "ssrc",
                    value: cut(&text),
                })?;
            ch.ssrcs.push(ssrc);
        } else if c.is("transport", ns::JINGLE_ICE_UDP) {
            ch.transport = Some(parse_transport(c)?);
        }
    }
    Ok(ch)
}

fn parse_sctp(el: El<'_>) -> Result<V1SctpConnection, ColibriParseError> {
    const E: &str = "sctpconnection";
    let transport = match el.child("transport", ns::JINGLE_ICE_UDP) {
        Some(t) => Some(parse_transport(t)?),
        None => None,
    };
    Ok(V1SctpConnection {
        id: opt_owned(&el, E, "id")?,
        endpoint: opt_owned(&el, E, "endpoint")?,
        bundle_id: opt_owned(&el, E, "channel-bundle-id")?,
        initiator: opt_java_bool(&el, E, "initiator")?,
        expire: parse_expire(&el, E)?,
        port: opt_num(&el, E, "port")?,
        transport,
    })
}

impl V1Conference {
    /// Reads a `<conference xmlns='http://jitsi.org/protocol/colibri'/>`,
    /// request or answer. Content names other than audio, video and data,
    /// channels outside audio/video and SCTP connections outside data are
    /// errors (the 2015 bridge failed on them too).
    pub fn parse(el: El<'_>) -> Result<Self, ColibriParseError> {
        const E: &str = "conference";
        if !el.is(E, ns::COLIBRI) {
            return Err(ColibriParseError::NotA("a Colibri <conference/>"));
        }
        let mut conf = V1Conference {
            id: opt_owned(&el, E, "id")?,
            name: opt_owned(&el, E, "name")?,
            ..V1Conference::default()
        };
        for c in el.children() {
            if c.is("content", ns::COLIBRI) {
                let name = req(&c, "content", "name")?;
                let kind = ContentKind::from_name(&name)
                    .ok_or_else(|| bad_attr("content", "name", &name))?;
                for item in c.children() {
                    if item.is("channel", ns::COLIBRI) {
                        let ContentKind::Rtp(media) = kind else {
                            return Err(ColibriParseError::Misplaced(
                                "<channel/> in the data content",
                            ));
                        };
                        conf.channels.push(parse_channel(item, media)?);
                    } else if item.is("sctpconnection", ns::COLIBRI) {
                        if kind != ContentKind::Data {
                            return Err(ColibriParseError::Misplaced(
                                "<sctpconnection/> outside the data content",
                            ));
                        }
                        conf.sctp_connections.push(parse_sctp(item)?);
                    }
                }
            } else if c.is("channel-bundle", ns::COLIBRI) {
                let transport = match c.child("transport", ns::JINGLE_ICE_UDP) {
                    Some(t) => Some(parse_transport(t)?),
                    None => None,
                };
                conf.bundles.push(V1Bundle {
                    id: req(&c, "channel-bundle", "id")?.into_owned(),
                    transport,
                });
            } else if c.is("graceful-shutdown", ns::COLIBRI) {
                conf.graceful_shutdown = true;
            }
        }
        Ok(conf)
    }

    /// Reads the bridge's answer to a request: as [`V1Conference::parse`],
    /// and the conference `id` and every channel's and SCTP connection's
    /// `id` must be there (the focus addresses them later).
    pub fn parse_response(el: El<'_>) -> Result<Self, ColibriParseError> {
        let conf = V1Conference::parse(el)?;
        let missing = |element| ColibriParseError::MissingAttribute {
            element,
            attribute: "id",
        };
        if conf.id.is_none() {
            return Err(missing("conference"));
        }
        if conf.channels.iter().any(|c| c.id.is_none()) {
            return Err(missing("channel"));
        }
        if conf.sctp_connections.iter().any(|c| c.id.is_none()) {
            return Err(missing("sctpconnection"));
        }
        Ok(conf)
    }

    /// Writes the `<conference/>` element.
    pub fn write(&self, w: &mut XmlWriter<'_>) {
        open_conference(w, self.id.as_deref(), self.name.as_deref());
        by_content(w, &self.channels, |c| c.media.into(), write_channel);
        by_content(w, &self.sctp_connections, |_| ContentKind::Data, write_sctp);
        for b in &self.bundles {
            w.start("channel-bundle").attr("id", &b.id);
            if let Some(t) = &b.transport {
                t.write(w);
            }
            w.end();
        }
        if self.graceful_shutdown {
            w.start("graceful-shutdown").end();
        }
        w.end();
    }

    /// The channels allocated for `endpoint`: ids by media, the SCTP
    /// connection and the bundle. `None` when nothing in the conference
    /// names that endpoint.
    pub fn participant(&self, endpoint: &str) -> Option<V1ParticipantChannels> {
        let mine = |e: &Option<String>| e.as_deref() == Some(endpoint);
        let channels: Vec<(MediaType, String)> = self
            .channels
            .iter()
            .filter(|c| mine(&c.endpoint))
            .filter_map(|c| Some((c.media, c.id.clone()?)))
            .collect();
        let sctp = self
            .sctp_connections
            .iter()
            .find(|s| mine(&s.endpoint))
            .and_then(|s| s.id.clone());
        if channels.is_empty() && sctp.is_none() {
            return None;
        }
        let bundle_id = self
            .channels
            .iter()
            .filter(|c| mine(&c.endpoint))
            .find_map(|c| c.bundle_id.clone())
            .or_else(|| {
                self.sctp_connections
                    .iter()
                    .filter(|s| mine(&s.endpoint))
                    .find_map(|s| s.bundle_id.clone())
            });
        Some(V1ParticipantChannels {
            endpoint: endpoint.to_string(),
            channels,
            sctp,
            bundle_id,
        })
    }

    /// The first channel of this media for `endpoint`.
    pub fn channel(&self, media: MediaType, endpoint: &str) -> Option<&V1Channel> {
        self.channels
            .iter()
            .find(|c| c.media == media && c.endpoint.as_deref() == Some(endpoint))
    }

    /// The bundle with this id. (The 2015 bridge answers with every bundle
    /// of the conference, not only the requester's.)
    pub fn bundle(&self, id: &str) -> Option<&V1Bundle> {
        self.bundles.iter().find(|b| b.id == id)
    }

    /// The bridge transport `endpoint` is to use for a content (SEED's
    /// `createOffer`): the bundle's transport when the channel is bundled,
    /// else the channel's own (for `Data`, the SCTP connection's).
    pub fn transport_for(&self, content: ContentKind, endpoint: &str) -> Option<&IceUdpTransport> {
        let (bundle_id, own) = match content {
            ContentKind::Data => {
                let s = self
                    .sctp_connections
                    .iter()
                    .find(|s| s.endpoint.as_deref() == Some(endpoint))?;
                (s.bundle_id.as_deref(), s.transport.as_ref())
            }
            ContentKind::Rtp(media) => {
                let c = self.channel(media, endpoint)?;
                (c.bundle_id.as_deref(), c.transport.as_ref())
            }
        };
        match bundle_id {
            Some(id) => self.bundle(id)?.transport.as_ref(),
            None => own,
        }
    }
}

fn open_conference(w: &mut XmlWriter<'_>, id: Option<&str>, name: Option<&str>) {
    w.start_ns("conference", ns::COLIBRI)
        .attr_opt("id", id)
        .attr_opt("name", name);
}

fn write_expire(w: &mut XmlWriter<'_>, expire: Option<u32>) {
    if let Some(e) = expire {
        w.attr_num("expire", e);
    }
}

fn write_channel(w: &mut XmlWriter<'_>, c: &V1Channel) {
    w.start("channel")
        .attr_opt("id", c.id.as_deref())
        .attr_opt("endpoint", c.endpoint.as_deref())
        .attr_opt("channel-bundle-id", c.bundle_id.as_deref())
        .attr_opt("initiator", c.initiator.map(bool_str));
    write_expire(w, c.expire);
    w.attr_opt("direction", c.direction.map(Direction::name));
    if let Some(n) = c.last_n {
        w.attr_num("last-n", n);
    }
    w.attr_opt("adaptive-last-n", c.adaptive_last_n.map(bool_str))
        .attr_opt("adaptive-simulcast", c.adaptive_simulcast.map(bool_str))
        .attr_opt("simulcast-mode", c.simulcast_mode.as_deref())
        .attr_opt("rtp-level-relay-type", c.rtp_level_relay_type.as_deref());
    write_codecs(w, &c.payload_types, &c.hdrexts);
    if let Some(sources) = &c.sources {
        write_sources_with_marker(w, sources);
    }
    if let Some(groups) = &c.ssrc_groups {
        write_groups_with_marker(w, groups);
    }
    for s in &c.ssrcs {
        w.start("ssrc").text(&s.to_string()).end();
    }
    if let Some(t) = &c.transport {
        t.write(w);
    }
    w.end();
}

fn write_sctp(w: &mut XmlWriter<'_>, s: &V1SctpConnection) {
    w.start("sctpconnection")
        .attr_opt("id", s.id.as_deref())
        .attr_opt("endpoint", s.endpoint.as_deref())
        .attr_opt("channel-bundle-id", s.bundle_id.as_deref())
        .attr_opt("initiator", s.initiator.map(bool_str));
    write_expire(w, s.expire);
    if let Some(p) = s.port {
        w.attr_num("port", p);
    }
    if let Some(t) = &s.transport {
        t.write(w);
    }
    w.end();
}

/// Payload types (each with its namespace) and header extensions.
fn write_codecs(w: &mut XmlWriter<'_>, payload_types: &[PayloadType], hdrexts: &[RtpHdrExt]) {
    for pt in payload_types {
        pt.write_with_ns(w);
    }
    for h in hdrexts {
        h.write(w);
    }
}

/// The sources, or SEED's `<source ssrc='-1'/>` when there are none: the
/// bridge then drops every source of the channel.
fn write_sources_with_marker<'s>(
    w: &mut XmlWriter<'_>,
    sources: impl IntoIterator<Item = &'s Source>,
) {
    let mut none = true;
    for s in sources {
        write_source(w, s, None);
        none = false;
    }
    if none {
        w.start_ns("source", ns::JINGLE_SSMA)
            .attr("ssrc", "-1")
            .end();
    }
}

/// The groups, or SEED's empty SIM group when there are none: the bridge
/// then turns simulcast off for the channel.
fn write_groups_with_marker<'g>(
    w: &mut XmlWriter<'_>,
    groups: impl IntoIterator<Item = &'g SsrcGroup>,
) {
    let mut none = true;
    for g in groups {
        write_ssrc_group(w, g);
        none = false;
    }
    if none {
        w.start_ns("ssrc-group", ns::JINGLE_SSMA)
            .attr("semantics", "SIM")
            .end();
    }
}

// ---------------------------------------------------------------------------
// Focus side: requests

/// The media content of an allocation, as the participant's offer has it.
#[derive(Debug, Clone, Copy)]
pub struct RtpContent<'a> {
    /// The payload types offered, in order.
    pub payload_types: &'a [PayloadType],
    /// The header extensions offered, in order.
    pub hdrexts: &'a [RtpHdrExt],
    /// The content's transport from the offer (SEED: an empty one, see
    /// [`IceUdpTransport::seed_placeholder`]); copied to the channel when
    /// not bundling, to the bundle when this is the first content.
    pub transport: Option<&'a IceUdpTransport>,
}

/// One content of an allocation request.
#[derive(Debug, Clone, Copy)]
pub enum AllocContent<'a> {
    /// An audio channel.
    Audio(RtpContent<'a>),
    /// A video channel.
    Video(RtpContent<'a>),
    /// An SCTP connection on `port` (5000), with the content's transport.
    Data {
        /// SCTP port.
        port: u16,
        /// The content's transport from the offer.
        transport: Option<&'a IceUdpTransport>,
    },
}

impl AllocContent<'_> {
    fn transport(&self) -> Option<&IceUdpTransport> {
        match self {
            AllocContent::Audio(c) | AllocContent::Video(c) => c.transport,
            AllocContent::Data { transport, .. } => *transport,
        }
    }
}

/// A channel allocation for one participant (SEED `addAllocateChannelsReq`),
/// sent as IQ `get`. Without `conference_id` the bridge creates a new
/// conference.
#[derive(Debug, Clone, Copy)]
pub struct ChannelAllocation<'a> {
    /// The bridge-assigned conference id once known.
    pub conference_id: Option<&'a str>,
    /// The conference `name` (SEED: the room's local part).
    pub name: Option<&'a str>,
    /// The participant's endpoint id (MUC nick).
    pub endpoint: &'a str,
    /// BUNDLE: every channel gets `channel-bundle-id=endpoint` and one
    /// `<channel-bundle>` carries the first content's transport; otherwise
    /// each channel carries its content's transport.
    pub bundle: bool,
    /// `initiator` on every channel (Jicofo: `true`, the peer initiates
    /// ICE from the bridge's view).
    pub initiator: bool,
    /// `last-n` on RTP channels.
    pub last_n: Option<i32>,
    /// `adaptive-last-n` on RTP channels.
    pub adaptive_last_n: Option<bool>,
    /// `adaptive-simulcast` on RTP channels.
    pub adaptive_simulcast: Option<bool>,
    /// `simulcast-mode` on RTP channels.
    pub simulcast_mode: Option<&'a str>,
    /// The contents, in offer order.
    pub contents: &'a [AllocContent<'a>],
}

impl ChannelAllocation<'_> {
    /// Writes the allocation IQ (`get`).
    pub fn write(&self, out: &mut Vec<u8>, iq_id: &str, from: Option<&str>, to: &str) {
        write_request(out, IqType::Get, iq_id, from, to, |w| {
            open_conference(w, self.conference_id, self.name);
            let bundle_id = self.bundle.then_some(self.endpoint);
            for content in self.contents {
                match content {
                    AllocContent::Audio(c) => self.write_rtp(w, MediaType::Audio, c, bundle_id),
                    AllocContent::Video(c) => self.write_rtp(w, MediaType::Video, c, bundle_id),
                    AllocContent::Data { port, transport } => {
                        w.start("content").attr("name", ContentKind::Data.name());
                        w.start("sctpconnection")
                            .attr("endpoint", self.endpoint)
                            .attr("initiator", bool_str(self.initiator))
                            .attr_opt("channel-bundle-id", bundle_id)
                            .attr_num("port", port);
                        if !self.bundle
                            && let Some(t) = transport
                        {
                            t.write(w);
                        }
                        w.end().end();
                    }
                }
            }
            if self.bundle
                && let Some(first) = self.contents.first()
            {
                w.start("channel-bundle").attr("id", self.endpoint);
                if let Some(t) = first.transport() {
                    t.write(w);
                }
                w.end();
            }
            w.end();
        });
    }

    fn write_rtp(
        &self,
        w: &mut XmlWriter<'_>,
        media: MediaType,
        c: &RtpContent<'_>,
        bundle_id: Option<&str>,
    ) {
        w.start("content").attr("name", media.name());
        w.start("channel")
            .attr("endpoint", self.endpoint)
            .attr("initiator", bool_str(self.initiator))
            .attr_opt("channel-bundle-id", bundle_id);
        if let Some(n) = self.last_n {
            w.attr_num("last-n", n);
        }
        w.attr_opt("adaptive-last-n", self.adaptive_last_n.map(bool_str))
            .attr_opt("adaptive-simulcast", self.adaptive_simulcast.map(bool_str))
            .attr_opt("simulcast-mode", self.simulcast_mode);
        write_codecs(w, c.payload_types, c.hdrexts);
        if bundle_id.is_none()
            && let Some(t) = c.transport
        {
            t.write(w);
        }
        w.end().end();
    }
}

/// The conference a later request addresses. SEED sent the `name` with
/// every request after allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct V1ConferenceRef<'a> {
    /// The bridge-assigned conference id.
    pub id: &'a str,
    /// The conference name.
    pub name: Option<&'a str>,
}

/// The complete current sources of one participant's channel (SEED sends
/// the whole list every time, never a delta).
#[derive(Debug, Clone, Copy)]
pub struct ChannelSources<'a> {
    /// The channel's media (audio or video).
    pub media: MediaType,
    /// The channel id.
    pub channel_id: &'a str,
    /// The participant's sources and groups; those of `media` are written
    /// (no source → `<source ssrc='-1'/>`, no group → an empty SIM group).
    pub sources: &'a EndpointSourceSet,
}

/// A participant's transport for one unbundled channel (or SCTP connection
/// for `Data`), with its `endpoint` as SEED sent it.
#[derive(Debug, Clone, Copy)]
pub struct ChannelTransport<'a> {
    /// Audio, video, or data (the SCTP connection).
    pub content: ContentKind,
    /// The channel or SCTP connection id.
    pub channel_id: &'a str,
    /// The endpoint id.
    pub endpoint: &'a str,
    /// The participant's transport.
    pub transport: &'a IceUdpTransport,
}

/// The payload types and header extensions the participant answered with,
/// for one channel.
#[derive(Debug, Clone, Copy)]
pub struct ChannelDescription<'a> {
    /// Audio or video.
    pub media: MediaType,
    /// The channel id.
    pub channel_id: &'a str,
    /// Payload types from the answer.
    pub payload_types: &'a [PayloadType],
    /// Header extensions from the answer.
    pub hdrexts: &'a [RtpHdrExt],
}

/// A request about existing channels (IQ `set`), SEED's updates after
/// `session-accept`, its mute and its expiry.
#[derive(Debug, Clone, Copy)]
pub enum V1Update<'a> {
    /// Step 1: the sources and groups of each listed channel.
    Sources(&'a [ChannelSources<'a>]),
    /// Step 2, bundled: the participant's transport on its channel bundle.
    BundleTransport {
        /// The bundle id (the endpoint id).
        bundle_id: &'a str,
        /// The participant's transport.
        transport: &'a IceUdpTransport,
    },
    /// Step 2, not bundled: each channel's transport.
    ChannelTransports(&'a [ChannelTransport<'a>]),
    /// Step 3: payload types and header extensions per channel.
    Descriptions(&'a [ChannelDescription<'a>]),
    /// A direction for each listed `(media, channel id)`: SEED's mute is
    /// `sendonly` on the participant's audio channels, unmute `sendrecv`.
    Direction {
        /// The channels.
        channels: &'a [(MediaType, &'a str)],
        /// The new direction.
        direction: Direction,
    },
    /// `expire='0'` on every channel and SCTP connection of the listed
    /// participants: one participant who left, or every participant to
    /// expire the conference (v1 has no conference delete; the bridge drops
    /// it with its last channel).
    Expire(&'a [&'a V1ParticipantChannels]),
}

/// Calls `item` once per content, in order of first appearance, with the
/// items of that content.
fn by_content<T>(
    w: &mut XmlWriter<'_>,
    items: &[T],
    media: impl Fn(&T) -> ContentKind,
    mut item: impl FnMut(&mut XmlWriter<'_>, &T),
) {
    let mut seen: Vec<ContentKind> = Vec::new();
    for first in items {
        let m = media(first);
        if seen.contains(&m) {
            continue;
        }
        seen.push(m);
        w.start("content").attr("name", m.name());
        for i in items.iter().filter(|i| media(i) == m) {
            item(w, i);
        }
        w.end();
    }
}

impl V1Update<'_> {
    /// Writes the request (`set`) addressed to `conference`.
    pub fn write(
        &self,
        out: &mut Vec<u8>,
        iq_id: &str,
        from: Option<&str>,
        to: &str,
        conference: V1ConferenceRef<'_>,
    ) {
        write_request(out, IqType::Set, iq_id, from, to, |w| {
            open_conference(w, Some(conference.id), conference.name);
            self.write_body(w);
            w.end();
        });
    }

    fn write_body(&self, w: &mut XmlWriter<'_>) {
        match *self {
            V1Update::Sources(items) => by_content(
                w,
                items,
                |i| i.media.into(),
                |w, i| {
                    w.start("channel").attr("id", i.channel_id);
                    write_sources_with_marker(w, i.sources.sources_of(i.media));
                    write_groups_with_marker(w, i.sources.groups_of(i.media));
                    w.end();
                },
            ),
            V1Update::BundleTransport {
                bundle_id,
                transport,
            } => {
                w.start("channel-bundle").attr("id", bundle_id);
                transport.write(w);
                w.end();
            }
            V1Update::ChannelTransports(items) => by_content(
                w,
                items,
                |i| i.content,
                |w, i| {
                    let name = match i.content {
                        ContentKind::Data => "sctpconnection",
                        ContentKind::Rtp(_) => "channel",
                    };
                    w.start(name)
                        .attr("id", i.channel_id)
                        .attr("endpoint", i.endpoint);
                    i.transport.write(w);
                    w.end();
                },
            ),
            V1Update::Descriptions(items) => by_content(
                w,
                items,
                |i| i.media.into(),
                |w, i| {
                    w.start("channel").attr("id", i.channel_id);
                    write_codecs(w, i.payload_types, i.hdrexts);
                    w.end();
                },
            ),
            V1Update::Direction {
                channels,
                direction,
            } => by_content(
                w,
                channels,
                |c| c.0.into(),
                |w, c| {
                    w.start("channel")
                        .attr("id", c.1)
                        .attr("direction", direction.name())
                        .end();
                },
            ),
            V1Update::Expire(participants) => {
                let mut rtp: Vec<(MediaType, &str)> = Vec::new();
                for p in participants {
                    rtp.extend(p.channels.iter().map(|(m, id)| (*m, id.as_str())));
                }
                by_content(
                    w,
                    &rtp,
                    |c| c.0.into(),
                    |w, c| {
                        w.start("channel").attr("id", c.1).attr("expire", "0").end();
                    },
                );
                let sctp: Vec<&V1ParticipantChannels> = participants
                    .iter()
                    .copied()
                    .filter(|p| p.sctp.is_some())
                    .collect();
                if !sctp.is_empty() {
                    w.start("content").attr("name", ContentKind::Data.name());
                    for p in sctp {
                        // The 2015 bridge still finds SCTP connections by
                        // endpoint, so SEED kept it on expiry.
                        w.start("sctpconnection")
                            .attr_opt("id", p.sctp.as_deref())
                            .attr("endpoint", &p.endpoint)
                            .attr("expire", "0")
                            .end();
                    }
                    w.end();
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Bridge side (the emulator)

/// True for a `get` or `set` whose payload is a Colibri v1 `<conference/>`.
pub fn is_v1_request(iq: &Iq<'_>) -> bool {
    iq.is_request() && iq.payload_is("conference", ns::COLIBRI)
}

/// A Colibri v1 request the 2015 bridge could not have read. Its IQ
/// conversion or handler threw, and its component framework answered
/// `internal-server-error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1RequestError(pub ColibriParseError);

impl std::fmt::Display for V1RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unreadable Colibri request: {}", self.0)
    }
}

impl std::error::Error for V1RequestError {}

impl V1RequestError {
    /// The error the 2015 bridge answered with.
    pub fn to_stanza_error(&self) -> StanzaError {
        StanzaError::new(Condition::InternalServerError)
    }
}

/// Reads a request the way the bridge does (the emulator's entry point).
pub fn parse_v1_request(payload: El<'_>) -> Result<V1Conference, V1RequestError> {
    V1Conference::parse(payload).map_err(V1RequestError)
}

/// Writes the bridge's answer: a result carrying `conference`.
pub fn write_v1_response(
    out: &mut Vec<u8>,
    iq_id: &str,
    from: Option<&str>,
    to: Option<&str>,
    conference: &V1Conference,
) {
    write_result(out, iq_id, from, to, |w| conference.write(w));
}

/// The 2015 bridge's refusal to create a conference in graceful shutdown:
/// `service-unavailable` with `<graceful-shutdown/>`.
pub fn v1_graceful_shutdown_error() -> StanzaError {
    StanzaError::new(Condition::ServiceUnavailable).with_app("graceful-shutdown", ns::COLIBRI, &[])
}

/// The 2015 bridge's answer when the conference id or a channel id is
/// unknown: its handler produced no answer and the component framework
/// (Whack) sent `feature-not-implemented`.
pub fn v1_unknown_error() -> StanzaError {
    StanzaError::new(Condition::FeatureNotImplemented)
}

// ---------------------------------------------------------------------------
// Brewery statistics (protocol.md §3.3)

/// The statistics a bridge publishes in its brewery presence
/// (`<stats xmlns='http://jitsi.org/protocol/colibri'><stat name value/>`),
/// the ones Jicofo uses. `None` means the stat was absent (or its value
/// unreadable); Jicofo then keeps what it had. Notably `drain` is taken as
/// `true` until a first report says otherwise: the caller decides with
/// [`BridgeStats::merge`] on a value that starts that way.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BridgeStats {
    /// `stress_level`: load, 0 to 1 and beyond.
    pub stress_level: Option<f64>,
    /// `average_participant_stress`.
    pub average_participant_stress: Option<f64>,
    /// `region`.
    pub region: Option<String>,
    /// `relay_id`: the bridge's Octo/relay id.
    pub relay_id: Option<String>,
    /// `version`.
    pub version: Option<String>,
    /// `release`.
    pub release: Option<String>,
    /// `graceful_shutdown`.
    pub graceful_shutdown: Option<bool>,
    /// `shutting_down`.
    pub shutting_down: Option<bool>,
    /// `drain`.
    pub drain: Option<bool>,
    /// `healthy`.
    pub healthy: Option<bool>,
    /// `conferences`.
    pub conferences: Option<u32>,
    /// `participants`.
    pub participants: Option<u32>,
    /// `colibri2`: whether the bridge speaks Colibri2. Brewery bridges are
    /// taken to speak it unless this is explicitly `false`.
    pub colibri2: Option<bool>,
}

/// A stat as a double, as Jicofo's `getDouble` reads it; non-finite values
/// are refused as well, so a comparison of stress levels never sees NaN.
fn stat_f64(v: &str) -> Option<f64> {
    v.trim().parse::<f64>().ok().filter(|f| f.is_finite())
}

impl BridgeStats {
    /// Reads a `<stats/>` element. The first `<stat/>` of a name counts, as
    /// in the Java extension; stats without a name or value are skipped.
    pub fn parse(el: El<'_>) -> Result<Self, ColibriParseError> {
        if !el.is("stats", ns::COLIBRI) {
            return Err(ColibriParseError::NotA("a Colibri <stats/>"));
        }
        let mut s = BridgeStats::default();
        let mut seen: Vec<&str> = Vec::new();
        for stat in el.children().filter(|c| c.is("stat", ns::COLIBRI)) {
            let (Some(name), Some(value)) = (stat.attr_raw("name"), stat.attr("value")) else {
                continue;
            };
            if seen.contains(&name) {
                continue;
            }
            seen.push(name);
            let text = || Some(value.to_string());
            match name {
                "stress_level" => s.stress_level = stat_f64(&value),
                "average_participant_stress" => s.average_participant_stress = stat_f64(&value),
                "region" => s.region = text(),
                "relay_id" => s.relay_id = text(),
                "version" => s.version = text(),
                "release" => s.release = text(),
                "graceful_shutdown" => s.graceful_shutdown = Some(java_bool(&value)),
                "shutting_down" => s.shutting_down = Some(java_bool(&value)),
                "drain" => s.drain = Some(java_bool(&value)),
                "healthy" => s.healthy = Some(java_bool(&value)),
                "conferences" => s.conferences = value.parse().ok(),
                "participants" => s.participants = value.parse().ok(),
                "colibri2" => s.colibri2 = Some(java_bool(&value)),
                _ => {}
            }
        }
        Ok(s)
    }

    /// The `<stats/>` of a brewery presence, if it carries one (a member
    /// without it is not a bridge).
    pub fn from_presence(presence: El<'_>) -> Option<Result<Self, ColibriParseError>> {
        presence.child("stats", ns::COLIBRI).map(BridgeStats::parse)
    }

    /// Folds a newer report in as Jicofo's `Bridge.setStats` does: a stat
    /// present in `newer` replaces the old value, an absent one keeps it,
    /// and `graceful_shutdown` and `shutting_down` only ever turn on.
    pub fn merge(&mut self, newer: &BridgeStats) {
        fn take<T: Clone>(old: &mut Option<T>, new: &Option<T>) {
            if new.is_some() {
                old.clone_from(new);
            }
        }
        // Once true, stays true; a `false` only fills an unknown value.
        fn sticky(old: &mut Option<bool>, new: Option<bool>) {
            if new == Some(true) || old.is_none() {
                *old = new.or(*old);
            }
        }
        take(&mut self.stress_level, &newer.stress_level);
        take(
            &mut self.average_participant_stress,
            &newer.average_participant_stress,
        );
        take(&mut self.region, &newer.region);
        take(&mut self.relay_id, &newer.relay_id);
        take(&mut self.version, &newer.version);
        take(&mut self.release, &newer.release);
        sticky(&mut self.graceful_shutdown, newer.graceful_shutdown);
        sticky(&mut self.shutting_down, newer.shutting_down);
        take(&mut self.drain, &newer.drain);
        take(&mut self.healthy, &newer.healthy);
        take(&mut self.conferences, &newer.conferences);
        take(&mut self.participants, &newer.participants);
        take(&mut self.colibri2, &newer.colibri2);
    }

    /// Writes `<stats xmlns='http://jitsi.org/protocol/colibri'>` with a
    /// `<stat/>` for each present value, in protocol.md's order (the bridge
    /// emulator's presence).
    pub fn write(&self, w: &mut XmlWriter<'_>) {
        w.start_ns("stats", ns::COLIBRI);
        let mut stat = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                w.start("stat").attr("name", name).attr("value", &v).end();
            }
        };
        let b = |v: Option<bool>| v.map(|b| bool_str(b).to_string());
        stat("stress_level", self.stress_level.map(|v| v.to_string()));
        stat(
            "average_participant_stress",
            self.average_participant_stress.map(|v| v.to_string()),
        );
        stat("region", self.region.clone());
        stat("relay_id", self.relay_id.clone());
        stat("version", self.version.clone());
        stat("release", self.release.clone());
        stat("graceful_shutdown", b(self.graceful_shutdown));
        stat("shutting_down", b(self.shutting_down));
        stat("drain", b(self.drain));
        stat("healthy", b(self.healthy));
        stat("conferences", self.conferences.map(|v| v.to_string()));
        stat("participants", self.participants.map(|v| v.to_string()));
        stat("colibri2", self.colibri2.map(|v| v.to_string()));
        w.end();
    }
}

// ---------------------------------------------------------------------------
// Health check (protocol.md §3.5) and discovery (§3.1)

/// Writes the health-check request
/// (`<healthcheck xmlns='http://jitsi.org/protocol/healthcheck'/>`, `get`).
/// A result means healthy; the bridge answers `internal-server-error` when
/// its own check fails.
pub fn write_healthcheck(out: &mut Vec<u8>, iq_id: &str, from: Option<&str>, to: &str) {
    write_request(out, IqType::Get, iq_id, from, to, |w| {
        w.start_ns("healthcheck", ns::HEALTHCHECK).end();
    });
}

/// True for a health-check request (the emulator's side).
pub fn is_healthcheck(iq: &Iq<'_>) -> bool {
    iq.ty == IqType::Get && iq.payload_is("healthcheck", ns::HEALTHCHECK)
}

/// The features SEED requires of a bridge, every one of them.
pub const BRIDGE_FEATURES: [&str; 4] = [
    ns::COLIBRI,
    ns::JINGLE_DTLS,
    ns::JINGLE_ICE_UDP,
    ns::JINGLE_RAW_UDP,
];

/// True when a disco#info answer advertises every bridge feature (SEED's
/// discovery on the XMPP domain).
pub fn is_bridge(info: &DiscoInfo) -> bool {
    BRIDGE_FEATURES.iter().all(|f| info.has_feature(f))
}

#[cfg(test)]
pub(crate) mod tests;
