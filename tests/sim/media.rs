//! Media in the sim world: the bridge brewery, scripted bridges, and what
//! participants' clients do about media.
//!
//! * **Brewery bridges** (CURRENT, Colibri2) join the brewery MUC
//!   [`BREWERY`] with a `<stats xmlns='http://jitsi.org/protocol/colibri'>`
//!   presence ([`World::add_bridge`]); the focus addresses them by occupant
//!   JID, so their IQs go through the fake MUC, ids rewritten as Prosody
//!   does. They answer Colibri2 as jitsi-videobridge does, with the crate's
//!   bridge-side readers and writers ([`Colibri2Request`],
//!   [`write_conference_modified`], [`write_colibri2_error`]): conferences
//!   by meeting id, `conference_already_exists` for a second create,
//!   `conference_not_found` without one, `unknown_endpoint` for an update
//!   of an endpoint it does not have, `graceful_shutdown` for a create while
//!   its stats say so; a transport per endpoint (ICE credentials, DTLS
//!   fingerprint, host and srflx candidates, web-socket, rtcp-mux), the SCTP
//!   port, and the feedback sources `jvb-a0`/`jvb-v0`.
//! * **Component bridges** (SEED, Colibri v1) are XMPP components on the
//!   domain ([`World::add_v1_bridge`]): the fake server answers the focus's
//!   disco#items on [`DOMAIN`] with them and they answer disco#info with the
//!   bridge features, then Colibri v1 as the 2015 bridge did
//!   ([`parse_v1_request`], [`write_v1_response`]): a conference id on the
//!   first allocation, channel ids, the bridge's own SSRC per channel as a
//!   `<source/>`, the bundle transport, expiry by channel id.
//! * Per-bridge switches ([`SimBridge`]): [`Mode`] (answer, silence, hold
//!   until [`World::release`]), one-shot [`Rule`]s (an error or silence for
//!   the next matching request), the health-check answer, the stats (sent
//!   again with [`World::set_stats`]), leaving the brewery
//!   ([`World::bridge_leaves`]). Every request a bridge receives is logged
//!   parsed in [`SimBridge::received`], at arrival.
//! * **Clients** ([`Client`], per real JID): answer the focus's disco#info
//!   with their features, acknowledge Jingle requests (or answer an error,
//!   or nothing), and send `session-accept` with their transport and their
//!   sources (one audio source, three simulcast video SSRCs each with an RTX
//!   partner: a SIM group and three FID groups) after the acknowledgement,
//!   before it, or when the test says ([`World::accept`]).

use super::*;

use jicofo::focus::MediaConfig;
use jicofo::stanza::colibri::{
    self as v1, BridgeStats, Direction, V1Bundle, V1Channel, V1Conference, V1SctpConnection,
    parse_v1_request, write_v1_response,
};
use jicofo::stanza::colibri2::{
    self as c2, Colibri2Request, Colibri2Transport, ConferenceModified, MediaSource,
    ModifiedEndpoint, Sctp, SctpRole, write_colibri2_error, write_conference_modified,
};
use jicofo::stanza::iq::{self, Iq};
use jicofo::stanza::jingle::IceUdpTransport;
use jicofo::stanza::sources::{EndpointSourceSet, MediaType, Source, SsrcGroup};
use jicofo::stanza::{Condition, IqType, Jid, StanzaError};
use jicofo::xml::XmlWriter;

/// The brewery MUC.
pub const BREWERY: &str = "jvbbrewery@internal.auth.meet.test";
/// The XMPP domain (disco#items for SEED discovery).
pub const DOMAIN: &str = "meet.test";

/// Bridge settings for a world with the brewery and nothing periodic: no
/// disco rounds, no health checks (tests turn them on as they need).
pub fn media_config() -> MediaConfig {
    let mut m = MediaConfig::quiet();
    m.bridges.brewery_jid = Some(Jid::parse(BREWERY).expect("brewery JID"));
    m
}

/// Stats of a healthy, idle, non-draining bridge with this stress.
pub fn stats(stress: f64) -> BridgeStats {
    BridgeStats {
        stress_level: Some(stress),
        average_participant_stress: Some(0.01),
        version: Some("2.3.210".into()),
        release: Some("1234".into()),
        graceful_shutdown: Some(false),
        shutting_down: Some(false),
        drain: Some(false),
        healthy: Some(true),
        conferences: Some(0),
        participants: Some(0),
        ..BridgeStats::default()
    }
}

/// How a bridge treats requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Answer each at once.
    Answer,
    /// Answer nothing (a hung bridge): health checks included.
    Silent,
    /// Keep every request, in order, until [`World::release`].
    Hold,
}

/// How a bridge answers health checks (when its [`Mode`] answers at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// A result: healthy.
    Ok,
    /// An error with this condition (the bridge's own check failed).
    Error(Condition),
    /// Nothing (the check's IQ is lost, Colibri still works).
    Silent,
}

/// What a [`Rule`] matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Req {
    /// An endpoint create (Colibri2) or a channel allocation (v1).
    Create,
    /// Any other request naming an endpoint or channels, but no expiry.
    Update,
    /// An expiry (endpoints, channels, conference).
    Expire,
    /// A health check.
    Health,
    /// Anything.
    Any,
}

/// A scripted answer instead of the normal one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// This error; the bridge's state does not change.
    Error(StanzaError),
    /// No answer at all; the state does not change.
    Silent,
}

/// A one-shot rule: the first request matching `what` (and naming
/// `endpoint`, when given) gets `reply`; the rule is then used up.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Which request.
    pub what: Req,
    /// The endpoint it must name.
    pub endpoint: Option<String>,
    /// The answer.
    pub reply: Reply,
}

/// A request a bridge received, parsed.
#[derive(Debug, Clone)]
pub enum Request {
    /// Colibri2.
    V2(Colibri2Request),
    /// Colibri v1, with the IQ type (`get` for allocations).
    V1(IqType, V1Conference),
    /// `<healthcheck/>`.
    Health,
    /// disco#info.
    DiscoInfo,
    /// A Colibri request the bridge cannot read, and its answer.
    Invalid(StanzaError),
}

impl Request {
    /// What kind of request it is, for [`Rule`]s.
    pub fn kind(&self) -> Req {
        match self {
            Request::Health => Req::Health,
            Request::DiscoInfo | Request::Invalid(_) => Req::Any,
            Request::V2(r) => {
                if r.expire || r.endpoints.iter().any(|e| e.expire) {
                    Req::Expire
                } else if r.endpoints.iter().any(|e| e.create) {
                    Req::Create
                } else {
                    Req::Update
                }
            }
            Request::V1(_, c) => {
                let all = c
                    .channels
                    .iter()
                    .map(|ch| (ch.id.is_none(), ch.expire))
                    .chain(
                        c.sctp_connections
                            .iter()
                            .map(|s| (s.id.is_none(), s.expire)),
                    );
                let v: Vec<(bool, Option<u32>)> = all.collect();
                if v.iter().any(|(new, _)| *new) {
                    Req::Create
                } else if !v.is_empty() && v.iter().all(|(_, e)| *e == Some(0)) {
                    Req::Expire
                } else {
                    Req::Update
                }
            }
        }
    }

    /// The endpoints it names (Colibri2 ids, v1 `endpoint` attributes).
    pub fn endpoints(&self) -> Vec<String> {
        match self {
            Request::V2(r) => r.endpoints.iter().map(|e| e.id.clone()).collect(),
            Request::V1(_, c) => {
                let mut v: Vec<String> = c
                    .channels
                    .iter()
                    .filter_map(|ch| ch.endpoint.clone())
                    .chain(c.sctp_connections.iter().filter_map(|s| s.endpoint.clone()))
                    .chain(c.bundles.iter().map(|b| b.id.clone()))
                    .collect();
                v.dedup();
                v
            }
            _ => Vec::new(),
        }
    }

    /// The Colibri2 request, if it is one.
    pub fn v2(&self) -> Option<&Colibri2Request> {
        match self {
            Request::V2(r) => Some(r),
            _ => None,
        }
    }

    /// The Colibri v1 request, if it is one.
    pub fn v1(&self) -> Option<&V1Conference> {
        match self {
            Request::V1(_, c) => Some(c),
            _ => None,
        }
    }

    /// An endpoint create for `id` (Colibri2) or a channel allocation for it (v1).
    pub fn is_create_of(&self, id: &str) -> bool {
        self.kind() == Req::Create && self.endpoints().iter().any(|e| e == id)
    }

    /// Colibri2: the endpoints it expires.
    pub fn expired_endpoints(&self) -> Vec<String> {
        match self {
            Request::V2(r) => r
                .endpoints
                .iter()
                .filter(|e| e.expire)
                .map(|e| e.id.clone())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Colibri2: a whole-conference expire.
    pub fn expires_conference(&self) -> bool {
        matches!(self, Request::V2(r) if r.expire)
    }

    /// Colibri v1: the channel and SCTP connection ids it expires.
    pub fn expired_channels(&self) -> Vec<String> {
        match self {
            Request::V1(_, c) => c
                .channels
                .iter()
                .filter(|ch| ch.expire == Some(0))
                .filter_map(|ch| ch.id.clone())
                .chain(
                    c.sctp_connections
                        .iter()
                        .filter(|s| s.expire == Some(0))
                        .filter_map(|s| s.id.clone()),
                )
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// A received request and when it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    /// Since the start of the world.
    pub at: Duration,
    /// The request.
    pub req: Request,
}

/// An endpoint on a scripted bridge.
#[derive(Debug, Clone, Default)]
pub struct SimEndpoint {
    /// Colibri2: the sources last set.
    pub sources: Option<EndpointSourceSet>,
    /// The participant's transport last set.
    pub transport: Option<IceUdpTransport>,
    /// v1: channel ids by media.
    pub channels: Vec<(MediaType, String)>,
    /// v1: the SCTP connection id.
    pub sctp: Option<String>,
}

/// A conference on a scripted bridge.
#[derive(Debug, Clone, Default)]
pub struct SimConf {
    /// Colibri2 `name` / v1 `name`.
    pub name: Option<String>,
    /// Endpoints by id.
    pub endpoints: BTreeMap<String, SimEndpoint>,
}

/// A scripted bridge.
#[derive(Debug)]
pub struct SimBridge {
    /// Its name: brewery nick or component host label.
    pub name: String,
    /// A SEED Colibri v1 component (else a Colibri2 brewery bridge).
    pub v1: bool,
    /// The address the focus uses: occupant JID or component domain.
    pub addr: String,
    /// Where the MUC delivers (brewery bridges) or the component domain.
    pub real: String,
    /// The stats of its brewery presence.
    pub stats: BridgeStats,
    /// In the brewery / connected as a component.
    pub present: bool,
    /// Answer, silence or hold.
    pub mode: Mode,
    /// How it answers health checks.
    pub health: Health,
    /// A component advertises `http://jitsi.org/protocol/healthcheck`.
    pub health_feature: bool,
    /// One-shot scripted answers.
    pub rules: Vec<Rule>,
    /// The SCTP port it answers (Colibri2).
    pub sctp_port: u16,
    /// Every request, at arrival.
    pub received: Vec<Received>,
    /// Conferences by meeting id (Colibri2) or conference id (v1).
    pub confs: BTreeMap<String, SimConf>,
    /// The transport XML it gave each endpoint, last first overwritten.
    pub given: BTreeMap<String, String>,
    held: Vec<String>,
    counter: u32,
    index: u32,
}

impl SimBridge {
    /// Endpoint ids of every conference.
    pub fn endpoints(&self) -> Vec<String> {
        self.confs
            .values()
            .flat_map(|c| c.endpoints.keys().cloned())
            .collect()
    }

    /// The endpoint with this id, in any conference.
    pub fn endpoint(&self, id: &str) -> Option<&SimEndpoint> {
        self.confs.values().find_map(|c| c.endpoints.get(id))
    }

    /// Requests received since index `from`, of this kind.
    pub fn requests(&self, kind: Req) -> Vec<&Request> {
        self.received
            .iter()
            .map(|r| &r.req)
            .filter(|r| kind == Req::Any || r.kind() == kind)
            .collect()
    }

    /// Endpoint creates / channel allocations received, by endpoint, in order.
    pub fn creates(&self) -> Vec<String> {
        self.requests(Req::Create)
            .iter()
            .flat_map(|r| r.endpoints())
            .collect()
    }

    /// Colibri requests (no health checks, no disco).
    pub fn colibri(&self) -> Vec<&Request> {
        self.received
            .iter()
            .map(|r| &r.req)
            .filter(|r| matches!(r, Request::V1(..) | Request::V2(_)))
            .collect()
    }

    /// Health checks received.
    pub fn health_checks(&self) -> usize {
        self.requests(Req::Health).len()
    }

    /// The feedback sources it announces (Colibri2).
    pub fn feedback(&self) -> Vec<MediaSource> {
        vec![
            MediaSource::single(MediaType::Audio, "jvb-a0", self.ssrc_base() + 1),
            MediaSource::single(MediaType::Video, "jvb-v0", self.ssrc_base() + 2),
        ]
    }

    fn ssrc_base(&self) -> u32 {
        4_000_000_000 + self.index * 1000
    }

    fn next(&mut self) -> u32 {
        self.counter += 1;
        self.counter
    }

    /// The ICE transport for a new endpoint, as XML.
    fn transport_xml(&mut self, conf: &str, endpoint: &str) -> String {
        let n = self.next();
        let i = self.index;
        let name = &self.name;
        let ws = if self.v1 {
            String::new()
        } else {
            format!(
                "<web-socket xmlns='{}' url='wss://{name}.{DOMAIN}/colibri-ws/{name}/{conf}/{endpoint}?pwd={name}pwd{n}'/>",
                ns::COLIBRI
            )
        };
        format!(
            "<transport xmlns='{}' ufrag='{name}u{n}' pwd='{name}pwd{n}0123456789abcd'>\
             <rtcp-mux/>\
             <fingerprint xmlns='{}' hash='sha-256' setup='actpass'>1A:2B:3C:{i:02X}:{n:02X}:FF</fingerprint>\
             <candidate component='1' foundation='1' generation='0' id='{name}c{n}a' network='0' priority='2130706431' protocol='udp' type='host' ip='10.0.{i}.17' port='10000'/>\
             <candidate component='1' foundation='2' generation='0' id='{name}c{n}b' network='0' priority='1694498815' protocol='udp' type='srflx' ip='203.0.113.{i}' port='10000' rel-addr='10.0.{i}.17' rel-port='10000'/>\
             {ws}</transport>",
            ns::JINGLE_ICE_UDP,
            ns::JINGLE_DTLS,
        )
    }

    fn take_rule(&mut self, req: &Request) -> Option<Reply> {
        let kind = req.kind();
        let eps = req.endpoints();
        let i = self.rules.iter().position(|r| {
            (r.what == Req::Any || r.what == kind)
                && r.endpoint.as_ref().is_none_or(|e| eps.contains(e))
        })?;
        Some(self.rules.remove(i).reply)
    }

    /// Answers a Colibri2 request as jitsi-videobridge does.
    fn colibri2(&mut self, r: &Colibri2Request) -> Result<ConferenceModified, StanzaError> {
        let exists = self.confs.contains_key(&r.meeting_id);
        if r.create {
            if exists {
                return Err(c2::conference_already_exists(&r.meeting_id));
            }
            if self.stats.graceful_shutdown == Some(true) {
                return Err(c2::graceful_shutdown());
            }
        } else if !exists {
            return Err(c2::conference_not_found(&r.meeting_id));
        }
        r.check_name().map_err(|e| e.to_stanza_error())?;
        r.check_shape().map_err(|e| e.to_stanza_error())?;
        if r.create {
            self.confs.insert(
                r.meeting_id.clone(),
                SimConf {
                    name: r.name.clone(),
                    ..SimConf::default()
                },
            );
        }
        let mut m = ConferenceModified::default();
        if r.expire {
            self.confs.remove(&r.meeting_id);
            return Ok(m);
        }
        let ignore_unknown = r.ignores_unknown_endpoints();
        for e in &r.endpoints {
            let has = self.confs[&r.meeting_id].endpoints.contains_key(&e.id);
            if e.expire {
                if let Some(c) = self.confs.get_mut(&r.meeting_id) {
                    c.endpoints.remove(&e.id);
                }
                m.endpoints.push(ModifiedEndpoint {
                    id: e.id.clone(),
                    expired: true,
                    transport: None,
                });
                continue;
            }
            if e.create {
                if has {
                    return Err(c2::endpoint_already_exists(&e.id));
                }
                e.check().map_err(|err| err.to_stanza_error())?;
                let xml = self.transport_xml(&r.meeting_id, &e.id);
                let ice = parse_transport(&xml);
                self.given.insert(e.id.clone(), xml);
                let sctp = e.transport.as_ref().and_then(|t| t.sctp).map(|_| Sctp {
                    port: Some(self.sctp_port),
                    role: Some(SctpRole::Server),
                });
                let ep = SimEndpoint {
                    sources: e.sources.as_deref().map(MediaSource::to_source_set),
                    ..SimEndpoint::default()
                };
                if let Some(c) = self.confs.get_mut(&r.meeting_id) {
                    c.endpoints.insert(e.id.clone(), ep);
                }
                m.endpoints.push(ModifiedEndpoint {
                    id: e.id.clone(),
                    expired: false,
                    transport: Some(Colibri2Transport {
                        ice: Some(ice),
                        sctp,
                        ..Colibri2Transport::default()
                    }),
                });
                continue;
            }
            if !has {
                if ignore_unknown {
                    continue;
                }
                return Err(c2::unknown_endpoint(&e.id));
            }
            let Some(ep) = self
                .confs
                .get_mut(&r.meeting_id)
                .and_then(|c| c.endpoints.get_mut(&e.id))
            else {
                continue;
            };
            if let Some(s) = &e.sources {
                ep.sources = Some(MediaSource::to_source_set(s));
            }
            if let Some(t) = e.transport.as_ref().and_then(|t| t.ice.clone()) {
                ep.transport = Some(t);
            }
        }
        if r.wants_feedback_sources() {
            m.sources = Some(self.feedback());
        }
        Ok(m)
    }

    /// Answers a Colibri v1 request as the 2015 bridge did.
    fn colibri_v1(&mut self, ty: IqType, c: &V1Conference) -> Result<V1Conference, StanzaError> {
        let id = match &c.id {
            Some(id) if self.confs.contains_key(id) => id.clone(),
            Some(_) => return Err(v1::v1_unknown_error()),
            None if ty == IqType::Get => {
                if self.stats.graceful_shutdown == Some(true) {
                    return Err(v1::v1_graceful_shutdown_error());
                }
                let n = self.next();
                let id = format!("{}conf{n}", self.name);
                self.confs.insert(
                    id.clone(),
                    SimConf {
                        name: c.name.clone(),
                        ..SimConf::default()
                    },
                );
                id
            }
            None => return Err(v1::v1_unknown_error()),
        };
        let mut out = V1Conference {
            id: Some(id.clone()),
            ..V1Conference::default()
        };
        let mut bundles: Vec<String> = Vec::new();
        for ch in &c.channels {
            match &ch.id {
                None => {
                    let endpoint = ch.endpoint.clone().unwrap_or_default();
                    let n = self.next();
                    let cid = format!("{}ch{n}", self.name);
                    let ssrc = self.ssrc_base() + n;
                    let conf = self.confs.get_mut(&id).expect("conference");
                    conf.endpoints
                        .entry(endpoint.clone())
                        .or_default()
                        .channels
                        .push((ch.media, cid.clone()));
                    if let Some(b) = &ch.bundle_id
                        && !bundles.contains(b)
                    {
                        bundles.push(b.clone());
                    }
                    out.channels.push(V1Channel {
                        id: Some(cid),
                        endpoint: Some(endpoint),
                        bundle_id: ch.bundle_id.clone(),
                        initiator: Some(true),
                        expire: Some(60),
                        direction: Some(Direction::SendRecv),
                        rtp_level_relay_type: Some("translator".into()),
                        sources: Some(vec![Source::new(ssrc, ch.media)]),
                        ..V1Channel::new(ch.media)
                    });
                }
                Some(cid) => {
                    let conf = self.confs.get_mut(&id).expect("conference");
                    let found = conf
                        .endpoints
                        .values()
                        .any(|e| e.channels.iter().any(|(_, x)| x == cid));
                    if !found {
                        return Err(v1::v1_unknown_error());
                    }
                    if ch.expire == Some(0) {
                        for e in conf.endpoints.values_mut() {
                            e.channels.retain(|(_, x)| x != cid);
                        }
                    }
                    out.channels.push(V1Channel {
                        id: Some(cid.clone()),
                        ..V1Channel::new(ch.media)
                    });
                }
            }
        }
        for s in &c.sctp_connections {
            let conf = self.confs.get_mut(&id).expect("conference");
            match &s.id {
                None => {
                    let endpoint = s.endpoint.clone().unwrap_or_default();
                    let sid = format!("{}sctp{}", self.name, self.counter + 1);
                    self.counter += 1;
                    conf.endpoints.entry(endpoint.clone()).or_default().sctp = Some(sid.clone());
                    if let Some(b) = &s.bundle_id
                        && !bundles.contains(b)
                    {
                        bundles.push(b.clone());
                    }
                    out.sctp_connections.push(V1SctpConnection {
                        id: Some(sid),
                        endpoint: Some(endpoint),
                        bundle_id: s.bundle_id.clone(),
                        initiator: Some(true),
                        expire: Some(60),
                        port: Some(5000),
                        transport: None,
                    });
                }
                Some(sid) => {
                    if s.expire == Some(0) {
                        for e in conf.endpoints.values_mut() {
                            if e.sctp.as_deref() == Some(sid) {
                                e.sctp = None;
                            }
                        }
                    }
                    out.sctp_connections.push(V1SctpConnection {
                        id: Some(sid.clone()),
                        ..V1SctpConnection::default()
                    });
                }
            }
        }
        for b in &c.bundles {
            if let Some(t) = &b.transport
                && !t.candidates.is_empty()
            {
                // The participant's transport, after its session-accept.
                if let Some(e) = self
                    .confs
                    .get_mut(&id)
                    .and_then(|conf| conf.endpoints.get_mut(&b.id))
                {
                    e.transport = Some(t.clone());
                }
            }
        }
        for b in bundles {
            let xml = self.transport_xml(&id, &b);
            let t = parse_transport(&xml);
            self.given.insert(b.clone(), xml);
            out.bundles.push(V1Bundle {
                id: b,
                transport: Some(t),
            });
        }
        // The bridge drops a conference with its last channel.
        if let Some(conf) = self.confs.get_mut(&id) {
            conf.endpoints
                .retain(|_, e| !e.channels.is_empty() || e.sctp.is_some());
            if conf.endpoints.is_empty() && ty == IqType::Set {
                self.confs.remove(&id);
            }
        }
        Ok(out)
    }
}

/// Reads an ICE-UDP transport from XML.
pub fn parse_transport(xml: &str) -> IceUdpTransport {
    let mut p = Parser::new();
    let doc = p.parse(xml.as_bytes(), ns::CLIENT).expect("transport XML");
    IceUdpTransport::parse(doc.root()).expect("a transport")
}

/// Parses XML into a [`Node`].
pub fn node_of(xml: &str) -> Node {
    let mut p = Parser::new();
    let doc = p.parse(xml.as_bytes(), ns::CLIENT).expect("XML");
    Node::from_el(doc.root())
}

/// How a client answers a Jingle request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JingleReply {
    /// An empty result.
    Ack,
    /// An error with this condition.
    Error(&'static str),
    /// Nothing.
    Silent,
}

/// When a client sends `session-accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    /// Right after acknowledging the `session-initiate`.
    Auto,
    /// Before acknowledging it (a race Jicofo must accept).
    BeforeAck,
    /// When the test calls [`World::accept`].
    Manual,
}

/// The features of a current client.
pub const FULL_FEATURES: &[&str] = &[
    "urn:xmpp:jingle:1",
    "urn:xmpp:jingle:apps:rtp:1",
    "urn:xmpp:jingle:apps:rtp:audio",
    "urn:xmpp:jingle:apps:rtp:video",
    "urn:xmpp:jingle:transports:ice-udp:1",
    "urn:xmpp:jingle:apps:dtls:0",
    "urn:xmpp:jingle:transports:dtls-sctp:1",
    "urn:ietf:rfc:5761",
    "urn:ietf:rfc:5888",
    "urn:ietf:rfc:4588",
    "http://jitsi.org/tcc",
    "http://jitsi.org/source-name",
    "http://jitsi.org/receive-multiple-video-streams",
];

/// A participant's client.
#[derive(Debug, Clone)]
pub struct Client {
    /// disco#info features; `None` answers disco#info with an error.
    pub features: Option<Vec<String>>,
    /// How it answers Jingle requests.
    pub jingle: JingleReply,
    /// When it accepts an offer.
    pub accept: Accept,
    /// Its number, which makes its SSRCs.
    pub index: u32,
    /// Every Jingle request received, as the `<jingle/>` element.
    pub jingles: Vec<Node>,
}

impl Client {
    /// The `session-initiate`s it received.
    pub fn offers(&self) -> Vec<&Node> {
        self.jingles
            .iter()
            .filter(|j| j.attr("action") == Some("session-initiate"))
            .collect()
    }

    /// The Jingle requests with this action it received.
    pub fn actions(&self, action: &str) -> Vec<&Node> {
        self.jingles
            .iter()
            .filter(|j| j.attr("action") == Some(action))
            .collect()
    }
}

/// The SSRCs of client number `k`: audio, the three simulcast video SSRCs,
/// their three RTX partners.
pub fn client_ssrcs(k: u32) -> (u32, [u32; 3], [u32; 3]) {
    let b = 10_000 * (k + 1);
    (b + 1, [b + 11, b + 12, b + 13], [b + 21, b + 22, b + 23])
}

/// The source set client `k` (MUC nick `nick`) announces in its
/// `session-accept`, as the focus should keep it.
pub fn client_sources(k: u32, nick: &str) -> EndpointSourceSet {
    let (a, sim, rtx) = client_ssrcs(k);
    let mut set = EndpointSourceSet::new();
    set.add_source(
        Source::new(a, MediaType::Audio)
            .with_name(&format!("{nick}-a0"))
            .with_msid(&format!("{nick}-audio-1 {nick}-a-track")),
    );
    for s in sim.iter().chain(rtx.iter()) {
        set.add_source(
            Source::new(*s, MediaType::Video)
                .with_name(&format!("{nick}-v0"))
                .with_video_type("camera")
                .with_msid(&format!("{nick}-video-1 {nick}-v-track")),
        );
    }
    set.add_group(SsrcGroup::new("SIM", MediaType::Video, &sim));
    for (p, r) in sim.iter().zip(rtx.iter()) {
        set.add_group(SsrcGroup::new("FID", MediaType::Video, &[*p, *r]));
    }
    set
}

/// Client `k`'s ICE transport XML (the one in its `session-accept`).
pub fn client_transport_xml(k: u32) -> String {
    format!(
        "<transport xmlns='{}' ufrag='cl{k}u' pwd='cl{k}pwd0123456789abcdef'>\
         <fingerprint xmlns='{}' hash='sha-256' setup='active'>AA:BB:CC:{k:02X}</fingerprint>\
         <candidate component='1' foundation='3151' generation='0' id='cl{k}c1' network='1' priority='2122260223' protocol='udp' type='host' ip='192.168.1.{k}' port='53000'/>\
         </transport>",
        ns::JINGLE_ICE_UDP,
        ns::JINGLE_DTLS
    )
}

impl World {
    /// A world whose focus has these bridge settings (see [`media_config`]);
    /// both streams online, the brewery joined.
    pub fn with_media(media: MediaConfig, seed: [u8; 32]) -> World {
        World::with_configs(FocusConfig::for_tests(), media, seed)
    }

    /// [`World::with_media`] with these focus settings too.
    pub fn with_configs(cfg: FocusConfig, media: MediaConfig, seed: [u8; 32]) -> World {
        let mut w = World::new(FocusConfig::for_tests(), None, seed);
        let mut focus = Focus::with_media(cfg, None, media, seed);
        focus.handle_online(w.now, ConnId::Component, COMPONENT);
        focus.handle_online(w.now, ConnId::Client, FOCUS_FULL);
        w.focus = focus;
        w.drive();
        w
    }

    // ------------------------------------------------------------ bridges

    fn bridge_index(&self, name: &str) -> usize {
        self.media
            .bridges
            .iter()
            .position(|b| b.name == name)
            .unwrap_or_else(|| panic!("no bridge {name}"))
    }

    /// The scripted bridge with this name.
    pub fn bridge(&self, name: &str) -> &SimBridge {
        &self.media.bridges[self.bridge_index(name)]
    }

    /// The scripted bridge with this name, to change its switches.
    pub fn bridge_mut(&mut self, name: &str) -> &mut SimBridge {
        let i = self.bridge_index(name);
        &mut self.media.bridges[i]
    }

    /// The brewery occupant JID of a bridge (the focus's `BridgeId`).
    pub fn bridge_jid(name: &str) -> String {
        format!("{BREWERY}/{name}")
    }

    fn new_bridge(&mut self, name: &str, v1: bool, stats: BridgeStats) -> usize {
        let index = self.media.bridges.len() as u32 + 1;
        let (addr, real) = if v1 {
            let d = format!("{name}.{DOMAIN}");
            (d.clone(), d)
        } else {
            (
                format!("{BREWERY}/{name}"),
                format!("jvb@auth.{DOMAIN}/{name}"),
            )
        };
        self.media.bridges.push(SimBridge {
            name: name.to_string(),
            v1,
            addr,
            real,
            stats,
            present: false,
            mode: Mode::Answer,
            health: Health::Ok,
            health_feature: false,
            rules: Vec::new(),
            sctp_port: 5000,
            received: Vec::new(),
            confs: BTreeMap::new(),
            given: BTreeMap::new(),
            held: Vec::new(),
            counter: 0,
            index,
        });
        self.media.bridges.len() - 1
    }

    /// A Colibri2 bridge joins the brewery with these stats.
    pub fn add_bridge(&mut self, name: &str, stats: BridgeStats) {
        let i = self.new_bridge(name, false, stats);
        self.media.bridges[i].present = true;
        self.bridge_presence(i);
        self.settle();
    }

    /// A Colibri v1 bridge connects as a component on the domain; the focus
    /// finds it at its next disco round.
    pub fn add_v1_bridge(&mut self, name: &str) {
        let i = self.new_bridge(name, true, BridgeStats::default());
        self.media.bridges[i].present = true;
    }

    fn bridge_presence(&mut self, i: usize) {
        let b = &self.media.bridges[i];
        let mut out = Vec::new();
        b.stats.write(&mut XmlWriter::new(&mut out));
        let occ = Occ {
            nick: b.name.clone(),
            real: b.real.clone(),
            affiliation: "none".into(),
            role: "participant".into(),
            extra: String::from_utf8(out).expect("UTF-8"),
        };
        self.seat(BREWERY, occ, &[]);
    }

    /// Changes a brewery bridge's stats and sends its presence again.
    pub fn set_stats(&mut self, name: &str, f: impl FnOnce(&mut BridgeStats)) {
        let i = self.bridge_index(name);
        f(&mut self.media.bridges[i].stats);
        self.bridge_presence(i);
        self.settle();
    }

    /// A bridge leaves the brewery (crash or shutdown), or a component
    /// disconnects; what it held is lost.
    pub fn bridge_leaves(&mut self, name: &str) {
        let i = self.bridge_index(name);
        let b = &mut self.media.bridges[i];
        b.present = false;
        b.held.clear();
        let (v1, real) = (b.v1, b.real.clone());
        if !v1 {
            self.remove_occupant(BREWERY, &real, &[], "", true);
        }
        self.settle();
    }

    /// Adds a one-shot rule to a bridge.
    pub fn rule(&mut self, name: &str, what: Req, endpoint: Option<&str>, reply: Reply) {
        self.bridge_mut(name).rules.push(Rule {
            what,
            endpoint: endpoint.map(str::to_string),
            reply,
        });
    }

    /// Answers what a holding bridge kept, in order (and stops holding).
    pub fn release(&mut self, name: &str) {
        let i = self.bridge_index(name);
        self.media.bridges[i].mode = Mode::Answer;
        let held = std::mem::take(&mut self.media.bridges[i].held);
        for xml in held {
            self.bridge_answer(i, &xml);
        }
        self.settle();
    }

    /// An IQ reached a bridge's real address: answer it per its switches.
    pub(super) fn bridge_receives(&mut self, me: &str, node: &Node) -> bool {
        let Some(i) = self.media.bridges.iter().position(|b| b.real == me) else {
            return false;
        };
        if node.name != "iq" || !matches!(node.attr("type"), Some("get" | "set")) {
            return true;
        }
        let xml = node_xml(node, ns::CLIENT);
        let req = {
            let mut p = Parser::new();
            let doc = p.parse(xml.as_bytes(), ns::CLIENT).expect("request XML");
            let iq = Iq::parse(doc.root()).expect("an IQ");
            read_request(&iq)
        };
        let Some(req) = req else {
            return true;
        };
        let at = self.elapsed();
        let b = &mut self.media.bridges[i];
        b.received.push(Received { at, req });
        match b.mode {
            Mode::Silent => {}
            Mode::Hold => b.held.push(xml),
            Mode::Answer => self.bridge_answer(i, &xml),
        }
        true
    }

    fn bridge_answer(&mut self, i: usize, xml: &str) {
        if !self.media.bridges[i].present {
            return;
        }
        let mut out = Vec::new();
        {
            let mut p = Parser::new();
            let doc = p.parse(xml.as_bytes(), ns::CLIENT).expect("request XML");
            let iq = Iq::parse(doc.root()).expect("an IQ");
            let Some(req) = read_request(&iq) else { return };
            let b = &mut self.media.bridges[i];
            match b.take_rule(&req) {
                Some(Reply::Silent) => return,
                Some(Reply::Error(e)) => write_colibri2_error(&mut out, &iq, None, &e),
                None => match &req {
                    Request::Invalid(e) => write_colibri2_error(&mut out, &iq, None, e),
                    Request::Health => match b.health {
                        Health::Ok => iq::write_empty_result(
                            &mut out,
                            &iq.id,
                            iq.to.as_deref(),
                            iq.from.as_deref(),
                        ),
                        Health::Error(c) => {
                            write_colibri2_error(&mut out, &iq, None, &StanzaError::new(c))
                        }
                        Health::Silent => return,
                    },
                    Request::DiscoInfo => {
                        let mut features: Vec<&str> = v1::BRIDGE_FEATURES.to_vec();
                        if b.health_feature {
                            features.push(ns::HEALTHCHECK);
                        }
                        jicofo::stanza::disco::write_info_result(
                            &mut out,
                            &iq,
                            None,
                            &[jicofo::stanza::disco::Identity {
                                category: "component",
                                kind: "conference",
                                name: Some("JitsiVideobridge"),
                            }],
                            &features,
                        );
                    }
                    Request::V2(r) => match b.colibri2(r) {
                        Ok(m) => write_conference_modified(&mut out, &iq, None, &m),
                        Err(e) => write_colibri2_error(&mut out, &iq, None, &e),
                    },
                    Request::V1(ty, c) => match b.colibri_v1(*ty, c) {
                        Ok(conf) => write_v1_response(
                            &mut out,
                            &iq.id,
                            iq.to.as_deref(),
                            iq.from.as_deref(),
                            &conf,
                        ),
                        Err(e) => write_colibri2_error(&mut out, &iq, None, &e),
                    },
                },
            }
        }
        let reply = String::from_utf8(out).expect("UTF-8");
        if self.media.bridges[i].v1 {
            self.send_to(FOCUS_FULL, reply);
        } else {
            self.participant_to_occupant(&reply);
        }
    }

    /// IQs the focus sends to the server's domain, the MUC service or a
    /// component: answered here. True when handled.
    pub(super) fn server_iq(&mut self, node: &Node) -> bool {
        let to = node.attr("to").unwrap_or("");
        if node.name != "iq" || to.contains('@') || to.contains('/') {
            return false;
        }
        let ty = node.attr("type").unwrap_or("");
        if !matches!(ty, "get" | "set") {
            return true;
        }
        if let Some(i) = self.media.bridges.iter().position(|b| b.v1 && b.addr == to) {
            if self.media.bridges[i].present {
                let real = self.media.bridges[i].real.clone();
                let mut n = node.clone();
                set_attr(&mut n, "from", FOCUS_FULL);
                self.bridge_receives(&real, &n);
            } else {
                // Prosody: "Component not connected".
                self.iq_error(node, to, "service-unavailable");
            }
            return true;
        }
        let id = node.attr("id").unwrap_or("").to_string();
        let is_items = node.child("query", ns::DISCO_ITEMS).is_some();
        let is_info = node.child("query", ns::DISCO_INFO).is_some();
        if to == DOMAIN && is_items {
            let mut items = format!("<item jid='{MUC}'/>");
            for b in self.media.bridges.iter().filter(|b| b.v1 && b.present) {
                items.push_str(&format!("<item jid='{}'/>", b.addr));
            }
            let xml = format!(
                "<iq type='result' id='{id}' from='{DOMAIN}' to='{FOCUS_FULL}'><query xmlns='{}'>{items}</query></iq>",
                ns::DISCO_ITEMS
            );
            self.send_to(FOCUS_FULL, xml);
            return true;
        }
        if to == MUC && is_info {
            let xml = format!(
                "<iq type='result' id='{id}' from='{MUC}' to='{FOCUS_FULL}'><query xmlns='{}'>\
                 <identity category='conference' type='text' name='Chatrooms'/><feature var='{}'/></query></iq>",
                ns::DISCO_INFO,
                ns::MUC
            );
            self.send_to(FOCUS_FULL, xml);
            return true;
        }
        if to == DOMAIN || to == MUC {
            self.iq_error(node, to, "service-unavailable");
            return true;
        }
        false
    }

    // ------------------------------------------------------------ clients

    /// The client of a participant (made with the defaults on first use).
    pub fn client(&mut self, real: &str) -> &mut Client {
        let k = self.media.clients.len() as u32;
        self.media
            .clients
            .entry(real.to_string())
            .or_insert_with(|| Client {
                features: Some(FULL_FEATURES.iter().map(|s| s.to_string()).collect()),
                jingle: JingleReply::Ack,
                accept: Accept::Auto,
                index: k,
                jingles: Vec::new(),
            })
    }

    /// The client of a participant, read only.
    pub fn client_ref(&self, real: &str) -> &Client {
        self.media
            .clients
            .get(real)
            .unwrap_or_else(|| panic!("no client {real}"))
    }

    /// A participant's client reacts to an IQ request. True when handled.
    pub(super) fn client_iq(&mut self, me: &str, node: &Node) -> bool {
        let id = node.attr("id").unwrap_or("").to_string();
        let from = node.attr("from").unwrap_or("").to_string();
        if node.child("query", ns::DISCO_INFO).is_some() {
            let xml = match self.client(me).features.clone() {
                Some(f) => {
                    let mut q = format!(
                        "<query xmlns='{}'><identity category='client' type='web' name='Jitsi Meet'/>",
                        ns::DISCO_INFO
                    );
                    for v in f {
                        q.push_str(&format!("<feature var='{v}'/>"));
                    }
                    q.push_str("</query>");
                    format!("<iq type='result' id='{id}' from='{me}' to='{from}'>{q}</iq>")
                }
                None => format!(
                    "<iq type='error' id='{id}' from='{me}' to='{from}'><error type='cancel'><service-unavailable xmlns='{}'/></error></iq>",
                    ns::STANZAS
                ),
            };
            self.participant_to_occupant(&xml);
            return true;
        }
        let Some(j) = node.child("jingle", ns::JINGLE) else {
            return false;
        };
        let c = self.client(me);
        c.jingles.push(j.clone());
        let (reply, accept) = (c.jingle, c.accept);
        // A transport-replace is answered like an offer, with transport-accept.
        let initiate = matches!(
            j.attr("action"),
            Some("session-initiate" | "transport-replace")
        );
        if initiate && accept == Accept::BeforeAck {
            self.send_accept(me, &from, j);
        }
        match reply {
            JingleReply::Ack => {
                let xml = format!("<iq type='result' id='{id}' from='{me}' to='{from}'/>");
                self.participant_to_occupant(&xml);
            }
            JingleReply::Error(cond) => {
                let xml = format!(
                    "<iq type='error' id='{id}' from='{me}' to='{from}'><error type='cancel'><{cond} xmlns='{}'/></error></iq>",
                    ns::STANZAS
                );
                self.participant_to_occupant(&xml);
            }
            JingleReply::Silent => {}
        }
        if initiate && accept == Accept::Auto && reply == JingleReply::Ack {
            self.send_accept(me, &from, j);
        }
        true
    }

    /// The participant `real` accepts the last offer it got.
    pub fn accept(&mut self, real: &str) {
        let offer = self
            .client_ref(real)
            .offers()
            .last()
            .map(|n| (*n).clone())
            .expect("an offer to accept");
        let room = self
            .muc
            .rooms
            .iter()
            .find(|(_, r)| r.occupants.iter().any(|o| o.real == real))
            .map(|(k, _)| k.clone())
            .expect("in a room");
        self.send_accept(real, &format!("{room}/focus"), &offer);
        self.settle();
    }

    /// Sends a `session-accept` for `offer` (a `<jingle/>` element) to the
    /// focus's occupant JID `focus`, with the client's transport and
    /// sources, for the contents the offer has.
    fn send_accept(&mut self, me: &str, focus: &str, offer: &Node) {
        let room = bare(focus).to_string();
        let Some(nick) = self
            .muc
            .rooms
            .get(&room)
            .and_then(|r| r.occupants.iter().find(|o| o.real == me))
            .map(|o| o.nick.clone())
        else {
            return;
        };
        let k = self.client(me).index;
        let sid = offer.attr("sid").unwrap_or("");
        let initiator = offer.attr("initiator").unwrap_or("");
        let action = if offer.attr("action") == Some("transport-replace") {
            "transport-accept"
        } else {
            "session-accept"
        };
        let transport = client_transport_xml(k);
        let (a, sim, rtx) = client_ssrcs(k);
        let src = |ssrc: u32, name: &str, msid: &str, vt: bool| {
            let vt = if vt { " videoType='camera'" } else { "" };
            format!(
                "<source xmlns='{}' ssrc='{ssrc}' name='{name}'{vt}><parameter name='msid' value='{msid}'/></source>",
                ns::JINGLE_SSMA
            )
        };
        let mut contents = String::new();
        let mut names = String::new();
        for c in offer.children.iter().filter(|c| c.name == "content") {
            let name = c.attr("name").unwrap_or("");
            names.push_str(&format!("<content name='{name}'/>"));
            let desc = match name {
                "audio" => format!(
                    "<description xmlns='{}' media='audio'><payload-type id='111' name='opus' clockrate='48000' channels='2'/>\
                     <payload-type id='126' name='telephone-event' clockrate='8000'/>\
                     <rtp-hdrext xmlns='{}' id='1' uri='urn:ietf:params:rtp-hdrext:ssrc-audio-level'/>{}<rtcp-mux/></description>",
                    ns::JINGLE_RTP,
                    ns::JINGLE_RTP_HDREXT,
                    src(
                        a,
                        &format!("{nick}-a0"),
                        &format!("{nick}-audio-1 {nick}-a-track"),
                        false
                    )
                ),
                "video" => {
                    let mut s = String::new();
                    for x in sim.iter().chain(rtx.iter()) {
                        s.push_str(&src(
                            *x,
                            &format!("{nick}-v0"),
                            &format!("{nick}-video-1 {nick}-v-track"),
                            true,
                        ));
                    }
                    s.push_str(&format!(
                        "<ssrc-group xmlns='{}' semantics='SIM'><source ssrc='{}'/><source ssrc='{}'/><source ssrc='{}'/></ssrc-group>",
                        ns::JINGLE_SSMA,
                        sim[0],
                        sim[1],
                        sim[2]
                    ));
                    for (p, r) in sim.iter().zip(rtx.iter()) {
                        s.push_str(&format!(
                            "<ssrc-group xmlns='{}' semantics='FID'><source ssrc='{p}'/><source ssrc='{r}'/></ssrc-group>",
                            ns::JINGLE_SSMA
                        ));
                    }
                    format!(
                        "<description xmlns='{}' media='video'><payload-type id='100' name='VP8' clockrate='90000'/>\
                         <payload-type id='96' name='rtx' clockrate='90000'><parameter name='apt' value='100'/></payload-type>{s}<rtcp-mux/></description>",
                        ns::JINGLE_RTP
                    )
                }
                _ => format!(
                    "<description xmlns='{}' media='application'/>",
                    ns::JINGLE_RTP
                ),
            };
            contents.push_str(&format!(
                "<content creator='initiator' name='{name}' senders='both'>{desc}{transport}</content>"
            ));
        }
        let id = self.id("acc");
        let xml = format!(
            "<iq type='set' id='{id}' from='{me}' to='{focus}'><jingle xmlns='{}' action='{action}' sid='{sid}' initiator='{initiator}' responder='{room}/{nick}'>\
             {contents}<group xmlns='{}' semantics='BUNDLE'>{names}</group></jingle></iq>",
            ns::JINGLE,
            ns::JINGLE_GROUPING
        );
        self.participant_to_occupant(&xml);
    }

    /// The participant `real` sends a Jingle `action` for session `sid`
    /// to the focus (through the MUC, as a client does); `inner` is the
    /// XML inside `<jingle/>`. Returns the IQ id, for [`World::jingle_answer`].
    pub fn jingle_from(&mut self, real: &str, action: &str, sid: &str, inner: &str) -> String {
        let room = self
            .muc
            .rooms
            .iter()
            .find(|(_, r)| r.occupants.iter().any(|o| o.real == real))
            .map(|(k, _)| k.clone())
            .expect("in a room");
        let id = self.id("jg");
        let xml = format!(
            "<iq type='set' id='{id}' from='{real}' to='{room}/focus'><jingle xmlns='{}' action='{action}' sid='{sid}'>{inner}</jingle></iq>",
            ns::JINGLE
        );
        self.participant_to_occupant(&xml);
        self.settle();
        id
    }

    /// The answer `real` got to its IQ `id` (the MUC gives it back its own
    /// id); `None` before there is one.
    pub fn jingle_answer(&self, real: &str, id: &str) -> Option<&Node> {
        self.delivered
            .iter()
            .find(|d| {
                d.to == real
                    && d.node.name == "iq"
                    && d.node.attr("id") == Some(id)
                    && matches!(d.node.attr("type"), Some("result" | "error"))
            })
            .map(|d| &d.node)
    }

    /// The sid of the last offer `real` got.
    pub fn sid_of(&self, real: &str) -> String {
        self.offers(real)
            .last()
            .and_then(|o| o.attr("sid"))
            .expect("an offer")
            .to_string()
    }

    /// The `<bridge-session id>` of the last offer `real` got.
    pub fn bridge_session_of(&self, real: &str) -> String {
        self.offers(real)
            .last()
            .and_then(|o| o.child("bridge-session", ns::FOCUS))
            .and_then(|b| b.attr("id"))
            .expect("a bridge-session in the offer")
            .to_string()
    }

    /// The `session-initiate`s `real` received (their `<jingle/>`).
    pub fn offers(&self, real: &str) -> Vec<Node> {
        self.media
            .clients
            .get(real)
            .map(|c| c.offers().into_iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// Reads what kind of request a bridge got; `None` for anything a bridge
/// does not serve.
fn read_request(iq: &Iq<'_>) -> Option<Request> {
    if v1::is_healthcheck(iq) {
        return Some(Request::Health);
    }
    if jicofo::stanza::disco::is_info_query(iq) {
        return Some(Request::DiscoInfo);
    }
    if c2::is_colibri2_request(iq) {
        return Some(match Colibri2Request::read(iq.payload?) {
            Ok(r) => Request::V2(r),
            Err(e) => Request::Invalid(e.to_stanza_error()),
        });
    }
    if v1::is_v1_request(iq) {
        return Some(match parse_v1_request(iq.payload?) {
            Ok(c) => Request::V1(iq.ty, c),
            Err(e) => Request::Invalid(e.to_stanza_error()),
        });
    }
    None
}

fn set_attr(n: &mut Node, name: &str, value: &str) {
    match n.attrs.iter_mut().find(|(k, _)| k == name) {
        Some((_, v)) => *v = value.to_string(),
        None => n.attrs.push((name.to_string(), value.to_string())),
    }
}

/// State of the media part of the world.
#[derive(Debug, Default)]
pub struct MediaSim {
    /// Scripted bridges.
    pub bridges: Vec<SimBridge>,
    /// Clients by real JID.
    pub clients: BTreeMap<String, Client>,
}
