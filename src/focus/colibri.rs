//! One conference's session on one bridge, in either Colibri version
//! (protocol.md §4): allocate an endpoint per participant, push its
//! transport and sources after `session-accept`, expire it when it leaves,
//! expire the whole conference at the end.
//!
//! Colibri2 (current bridges): the first request for the conference on this
//! bridge carries `create='true'` and the room name; every request carries
//! the meeting id. Requests go out in order on one stream and the bridge
//! handles a conference's requests in order, so a second endpoint need not
//! wait for the first answer.
//!
//! Colibri v1 (2015 bridges): the bridge names the conference in its first
//! answer, and a request without that id would create a second conference,
//! so allocations wait while the first is in flight. Channel ids come back
//! per participant and are needed to update or expire its channels.

use super::bridge::{BridgeId, ColibriVersion};
use super::conference::{ConfId, Ctx, Pending};
use super::media::{ConfInfo, MediaOp};
use crate::conn::ConnId;
use crate::stanza::colibri::{
    AllocContent, ChannelAllocation, ChannelDescription, ChannelSources, ContentKind, Direction,
    RtpContent, V1Conference, V1ConferenceRef, V1ParticipantChannels, V1Update,
};
use crate::stanza::colibri2::{
    self, BatchOp, Colibri2Failure, ConferenceCreate, ConferenceModified, ConferenceModify,
    EndpointCreate, EndpointUpdate, ForceMute, MeetingId,
};
use crate::stanza::jingle::{IceUdpTransport, RtpDescription};
use crate::stanza::sources::{EndpointSourceSet, MediaType, Source};
use crate::stanza::{Condition, StanzaError};
use crate::xml::El;

/// What the bridge gave one endpoint.
#[derive(Debug, Clone)]
pub struct Allocation {
    /// The bridge's ICE/DTLS transport for it, copied verbatim into the offer.
    pub transport: IceUdpTransport,
    /// The bridge's SCTP port, when data was asked for.
    pub sctp_port: Option<u16>,
    /// The bridge's own sources, announced with owner `jvb`.
    pub feedback: EndpointSourceSet,
    /// Colibri v1: the endpoint's channel ids.
    pub v1: Option<V1ParticipantChannels>,
}

/// What to ask for one endpoint.
#[derive(Debug, Clone, Copy)]
pub struct AllocRequest<'a> {
    /// Endpoint id (the MUC nick).
    pub endpoint: &'a str,
    /// `stats-id`.
    pub stats_id: Option<&'a str>,
    /// Audio codecs offered, if audio.
    pub audio: Option<&'a RtpDescription>,
    /// Video codecs offered, if video.
    pub video: Option<&'a RtpDescription>,
    /// A data channel.
    pub sctp: bool,
}

/// Why an allocation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllocFailure {
    /// No answer within the reply timeout (or the stream went down).
    Timeout,
    /// A Colibri2 error, classified per §3.6.
    Colibri2(Colibri2Failure, String),
    /// A Colibri v1 error condition.
    V1(Condition, String),
    /// The answer was not usable.
    Malformed(String),
}

impl std::fmt::Display for AllocFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AllocFailure::Timeout => f.write_str("no answer from the bridge"),
            AllocFailure::Colibri2(_, e) | AllocFailure::V1(_, e) => write!(f, "{e}"),
            AllocFailure::Malformed(m) => write!(f, "unusable answer: {m}"),
        }
    }
}

/// What the conference does about a failed allocation (§3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaction {
    /// Only this participant's invite fails.
    FailParticipant,
    /// Drop the whole session and invite its participants again elsewhere.
    RemoveSession {
        /// Mark the bridge non-operational.
        bridge_down: bool,
        /// Flag the bridge as shutting down gracefully.
        graceful: bool,
    },
}

impl AllocFailure {
    /// The §3.6 row for this failure.
    pub fn reaction(&self) -> Reaction {
        let remove = |bridge_down, graceful| Reaction::RemoveSession {
            bridge_down,
            graceful,
        };
        match self {
            AllocFailure::Timeout => remove(true, false),
            AllocFailure::Colibri2(c, _) => match c {
                Colibri2Failure::GracefulShutdown => remove(false, true),
                Colibri2Failure::ConferenceNotFound | Colibri2Failure::ConferenceAlreadyExists => {
                    remove(false, false)
                }
                Colibri2Failure::ConflictNoReason => remove(false, false),
                Colibri2Failure::ItemNotFoundNoReason | Colibri2Failure::BadRequest => {
                    Reaction::FailParticipant
                }
                Colibri2Failure::UnknownEndpoint(_) => remove(false, false),
                Colibri2Failure::ServiceUnavailable | Colibri2Failure::Other => remove(true, false),
            },
            AllocFailure::V1(Condition::BadRequest, _) => Reaction::FailParticipant,
            AllocFailure::V1(..) => remove(true, false),
            AllocFailure::Malformed(_) => Reaction::FailParticipant,
        }
    }
}

/// What to do about a failed update (§3.6, "later requests").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateReaction {
    /// `unknown_endpoint` with its id: invite just that participant again.
    ReinviteParticipant,
    /// Any other error: drop the session, invite its participants again.
    RemoveSession,
    /// A timeout: only logged (Jicofo handles non-allocation answers
    /// asynchronously and only logs their timeout).
    Ignore,
}

/// Classifies the error answer to an update.
pub fn classify_update_error(e: &StanzaError) -> UpdateReaction {
    if e.condition == Condition::RemoteServerTimeout {
        return UpdateReaction::Ignore;
    }
    match colibri2::classify_colibri2_error(e) {
        Colibri2Failure::UnknownEndpoint(Some(_)) => UpdateReaction::ReinviteParticipant,
        _ => UpdateReaction::RemoveSession,
    }
}

/// One conference on one bridge.
#[derive(Debug)]
pub struct ColibriSession {
    conf: ConfId,
    meeting_id: Box<str>,
    bridge: BridgeId,
    version: ColibriVersion,
    /// Our id for the session, echoed by clients in `<bridge-session/>`.
    uuid: Box<str>,
    /// Colibri2: the conference-creating request has been sent.
    created: bool,
    /// Colibri v1: the bridge's conference id, once known.
    v1_id: Option<Box<str>>,
    /// Colibri v1: the first allocation is in flight.
    v1_first_in_flight: bool,
    /// Colibri v1: allocations waiting for the conference id.
    v1_queue: Vec<(Pending, QueuedAlloc)>,
    /// Colibri v1: every participant's channels, to expire the conference.
    v1_channels: Vec<V1ParticipantChannels>,
    /// Endpoints allocated or being allocated.
    endpoints: u32,
    /// Colibri2: the bridge's feedback sources, from the creating answer.
    feedback: EndpointSourceSet,
    failed: bool,
}

/// An allocation request kept while a v1 conference id is unknown.
#[derive(Debug, Clone)]
pub struct QueuedAlloc {
    endpoint: Box<str>,
    audio: Option<RtpDescription>,
    video: Option<RtpDescription>,
    sctp: bool,
}

impl ColibriSession {
    /// A session of conference `conf` on `bridge` speaking `version`.
    pub fn new(
        conf: ConfId,
        meeting_id: &str,
        bridge: BridgeId,
        version: ColibriVersion,
        uuid: String,
    ) -> Self {
        ColibriSession {
            conf,
            meeting_id: meeting_id.into(),
            bridge,
            version,
            uuid: uuid.into(),
            created: false,
            v1_id: None,
            v1_first_in_flight: false,
            v1_queue: Vec::new(),
            v1_channels: Vec::new(),
            endpoints: 0,
            feedback: EndpointSourceSet::new(),
            failed: false,
        }
    }

    /// The bridge.
    pub fn bridge(&self) -> &BridgeId {
        &self.bridge
    }

    /// Our session id.
    pub fn uuid(&self) -> &str {
        &self.uuid
    }

    /// Endpoints on it.
    pub fn endpoint_count(&self) -> u32 {
        self.endpoints
    }

    /// True once the session was given up.
    pub fn is_failed(&self) -> bool {
        self.failed
    }

    /// True when an endpoint whose allocation is unanswered can be expired
    /// by id right away (Colibri2: the bridge handles requests in order).
    pub fn can_expire_unanswered(&self) -> bool {
        self.version == ColibriVersion::V2
    }

    fn send(&self, ctx: &mut Ctx<'_>, pending: Pending, write: impl FnOnce(&mut Vec<u8>, &str)) {
        let id = ctx.tracker.register(
            ctx.now,
            ConnId::Client,
            self.bridge.as_str(),
            ctx.cfg.reply_timeout,
            pending,
        );
        write(ctx.out, &id);
    }

    /// Sends a Colibri v1 update for the conference `conf_id`.
    fn send_v1(&self, ctx: &mut Ctx<'_>, pending: Pending, conf_id: &str, u: V1Update<'_>) {
        let conf = V1ConferenceRef {
            id: conf_id,
            name: None,
        };
        self.send(ctx, pending, |out, id| {
            u.write(out, id, None, self.bridge.as_str(), conf)
        });
    }

    /// Sends a Colibri2 request that only expires or force-mutes endpoints.
    fn send_batch(&self, ctx: &mut Ctx<'_>, pending: Pending, ops: &[BatchOp<'_>]) {
        let Some(mid) = MeetingId::new(&self.meeting_id) else {
            return;
        };
        if let Some(m) = ConferenceModify::batch(mid, ops) {
            self.send(ctx, pending, |out, id| {
                m.write(out, id, None, self.bridge.as_str())
            });
        }
    }

    fn fire_and_forget(&self) -> Pending {
        Pending::Media(self.conf, MediaOp::FireAndForget(self.bridge.clone()))
    }

    /// Asks the bridge for an endpoint.
    pub fn allocate(
        &mut self,
        ctx: &mut Ctx<'_>,
        pending: Pending,
        room: &str,
        req: &AllocRequest<'_>,
    ) {
        let meeting_id = &*self.meeting_id;
        self.endpoints += 1;
        match self.version {
            ColibriVersion::V2 => {
                let media: Vec<RtpDescription> =
                    req.audio.into_iter().chain(req.video).cloned().collect();
                let mut ep = EndpointCreate::new(req.endpoint);
                ep.stats_id = req.stats_id;
                ep.media = &media;
                ep.sctp = req.sctp;
                let Some(mid) = MeetingId::new(meeting_id) else {
                    return;
                };
                let modify = if self.created {
                    ConferenceModify::create_endpoint(mid, ep)
                } else {
                    self.created = true;
                    ConferenceModify::create_conference(
                        mid,
                        ConferenceCreate {
                            name: room,
                            rtcstats_enabled: false,
                        },
                        ep,
                    )
                };
                self.send(ctx, pending, |out, id| {
                    modify.write(out, id, None, self.bridge.as_str())
                });
            }
            ColibriVersion::V1 => {
                let q = QueuedAlloc {
                    endpoint: req.endpoint.into(),
                    audio: req.audio.cloned(),
                    video: req.video.cloned(),
                    sctp: req.sctp,
                };
                if self.v1_id.is_none() && self.v1_first_in_flight {
                    self.v1_queue.push((pending, q));
                    return;
                }
                let room_local = room.split('@').next().unwrap_or(room);
                if self.v1_id.is_none() {
                    self.v1_first_in_flight = true;
                }
                self.send_v1_alloc(ctx, pending, room_local, &q);
            }
        }
    }

    fn send_v1_alloc(
        &self,
        ctx: &mut Ctx<'_>,
        pending: Pending,
        room_local: &str,
        q: &QueuedAlloc,
    ) {
        let mut contents = Vec::with_capacity(3);
        if let Some(a) = &q.audio {
            contents.push(AllocContent::Audio(RtpContent {
                payload_types: &a.payload_types,
                hdrexts: &a.hdrexts,
                transport: None,
            }));
        }
        if let Some(v) = &q.video {
            contents.push(AllocContent::Video(RtpContent {
                payload_types: &v.payload_types,
                hdrexts: &v.hdrexts,
                transport: None,
            }));
        }
        if q.sctp {
            contents.push(AllocContent::Data {
                port: 5000,
                transport: None,
            });
        }
        let alloc = ChannelAllocation {
            conference_id: self.v1_id.as_deref(),
            name: Some(room_local),
            endpoint: &q.endpoint,
            bundle: true,
            initiator: true,
            last_n: Some(-1),
            adaptive_last_n: None,
            adaptive_simulcast: None,
            simulcast_mode: None,
            contents: &contents,
        };
        self.send(ctx, pending, |out, id| {
            alloc.write(out, id, None, self.bridge.as_str())
        });
    }

    /// Reads the answer to an allocation for `endpoint`.
    pub fn allocation_answer(
        &mut self,
        ctx: &mut Ctx<'_>,
        conf: ConfInfo<'_>,
        endpoint: &str,
        sctp: bool,
        answer: Result<Option<El<'_>>, StanzaError>,
    ) -> Result<Allocation, AllocFailure> {
        let result = match (self.version, answer) {
            (_, Err(e)) if e.condition == Condition::RemoteServerTimeout => {
                Err(AllocFailure::Timeout)
            }
            (ColibriVersion::V2, Err(e)) => Err(AllocFailure::Colibri2(
                colibri2::classify_colibri2_error(&e),
                e.to_string(),
            )),
            (ColibriVersion::V1, Err(e)) => Err(AllocFailure::V1(e.condition, e.to_string())),
            (_, Ok(None)) => Err(AllocFailure::Malformed("an empty result".into())),
            (ColibriVersion::V2, Ok(Some(p))) => self.v2_allocation(p, endpoint, sctp),
            (ColibriVersion::V1, Ok(Some(p))) => self.v1_allocation(p, endpoint, sctp),
        };
        if self.version == ColibriVersion::V1 && self.v1_first_in_flight {
            self.v1_first_in_flight = false;
            let room_local = conf.room.split('@').next().unwrap_or(conf.room).to_string();
            // Whatever the first answer was, the queue can go now: with an id
            // it joins that conference, without one the next becomes the first.
            let queue = std::mem::take(&mut self.v1_queue);
            for (pending, q) in queue {
                if self.v1_id.is_none() && self.v1_first_in_flight {
                    self.v1_queue.push((pending, q));
                    continue;
                }
                if self.v1_id.is_none() {
                    self.v1_first_in_flight = true;
                }
                self.send_v1_alloc(ctx, pending, &room_local, &q);
            }
        }
        if result.is_err() {
            self.endpoints = self.endpoints.saturating_sub(1);
        }
        result
    }

    fn v2_allocation(
        &mut self,
        payload: El<'_>,
        endpoint: &str,
        sctp: bool,
    ) -> Result<Allocation, AllocFailure> {
        let m = ConferenceModified::parse(payload)
            .map_err(|e| AllocFailure::Malformed(e.to_string()))?;
        if m.sources.is_some() {
            self.feedback = m.feedback_source_set();
        }
        let a = m
            .allocation(endpoint, sctp)
            .map_err(|e| AllocFailure::Malformed(e.to_string()))?;
        Ok(Allocation {
            transport: a.transport.clone(),
            sctp_port: a.sctp_port,
            feedback: self.feedback.clone(),
            v1: None,
        })
    }

    fn v1_allocation(
        &mut self,
        payload: El<'_>,
        endpoint: &str,
        sctp: bool,
    ) -> Result<Allocation, AllocFailure> {
        let c = V1Conference::parse_response(payload)
            .map_err(|e| AllocFailure::Malformed(e.to_string()))?;
        if self.v1_id.is_none() {
            self.v1_id = c.id.as_deref().map(Into::into);
        }
        let channels = c
            .participant(endpoint)
            .ok_or_else(|| AllocFailure::Malformed(format!("no channels for {endpoint}")))?;
        let transport = [
            ContentKind::Rtp(MediaType::Audio),
            ContentKind::Rtp(MediaType::Video),
            ContentKind::Data,
        ]
        .into_iter()
        .find_map(|k| c.transport_for(k, endpoint))
        .cloned()
        .ok_or_else(|| AllocFailure::Malformed("no transport in the answer".into()))?;
        // The bridge's own SSRC on each channel is the `<source/>` of the
        // answer (protocol.md §4.1); `<ssrc>` children list what it
        // receives from the endpoint, not what it sends.
        let mut feedback = EndpointSourceSet::new();
        for ch in c
            .channels
            .iter()
            .filter(|ch| ch.endpoint.as_deref() == Some(endpoint))
        {
            for s in ch.sources.iter().flatten() {
                let label = format!("mixedlabel{}0", ch.media.name());
                feedback.add_source(
                    Source::new(s.ssrc.0, ch.media)
                        .with_parameter("cname", "mixed")
                        .with_parameter("label", &label)
                        .with_parameter("msid", &format!("mixedmslabel {label}"))
                        .with_parameter("mslabel", "mixedmslabel"),
                );
            }
        }
        let sctp_port = if sctp { Some(5000) } else { None };
        self.v1_channels.retain(|c| c.endpoint != channels.endpoint);
        self.v1_channels.push(channels.clone());
        Ok(Allocation {
            transport,
            sctp_port,
            feedback,
            v1: Some(channels),
        })
    }

    /// Pushes a participant's transport, complete source set and answered
    /// codecs to the bridge.
    #[allow(clippy::too_many_arguments)]
    pub fn update(
        &self,
        ctx: &mut Ctx<'_>,
        pending: Pending,
        endpoint: &str,
        alloc: &Allocation,
        transport: Option<&IceUdpTransport>,
        sources: Option<&EndpointSourceSet>,
        descriptions: &[RtpDescription],
    ) {
        match (self.version, &alloc.v1, self.v1_id.as_deref()) {
            (ColibriVersion::V2, _, _) => {
                let Some(mid) = MeetingId::new(&self.meeting_id) else {
                    return;
                };
                let mut u = EndpointUpdate::new(endpoint);
                u.transport = transport;
                u.sources = sources;
                let m = ConferenceModify::update_endpoint(mid, u);
                self.send(ctx, pending, |out, id| {
                    m.write(out, id, None, self.bridge.as_str())
                });
            }
            (ColibriVersion::V1, Some(ch), Some(conf_id)) => {
                let conf = V1ConferenceRef {
                    id: conf_id,
                    name: None,
                };
                let to = self.bridge.as_str();
                if let Some(set) = sources {
                    let per: Vec<ChannelSources<'_>> = ch
                        .channels
                        .iter()
                        .map(|(media, id)| ChannelSources {
                            media: *media,
                            channel_id: id,
                            sources: set,
                        })
                        .collect();
                    let u = V1Update::Sources(&per);
                    self.send(ctx, pending.clone(), |out, id| {
                        u.write(out, id, None, to, conf)
                    });
                }
                if let (Some(t), Some(bundle)) = (transport, ch.bundle_id.as_deref()) {
                    let u = V1Update::BundleTransport {
                        bundle_id: bundle,
                        transport: t,
                    };
                    self.send(ctx, pending.clone(), |out, id| {
                        u.write(out, id, None, to, conf)
                    });
                }
                let descs: Vec<ChannelDescription<'_>> = ch
                    .channels
                    .iter()
                    .filter_map(|(media, id)| {
                        let d = descriptions.iter().find(|d| &*d.media == media.name())?;
                        Some(ChannelDescription {
                            media: *media,
                            channel_id: id,
                            payload_types: &d.payload_types,
                            hdrexts: &d.hdrexts,
                        })
                    })
                    .collect();
                if !descs.is_empty() {
                    let u = V1Update::Descriptions(&descs);
                    self.send(ctx, pending, |out, id| u.write(out, id, None, to, conf));
                }
            }
            _ => {}
        }
    }

    /// Expires one endpoint (its channels, for v1). For Colibri2 the
    /// endpoint id is enough, even while its allocation is unanswered.
    pub fn expire(&mut self, ctx: &mut Ctx<'_>, endpoint: &str, alloc: Option<&Allocation>) {
        self.endpoints = self.endpoints.saturating_sub(1);
        let pending = self.fire_and_forget();
        match self.version {
            ColibriVersion::V2 => self.send_batch(ctx, pending, &[BatchOp::Expire(endpoint)]),
            ColibriVersion::V1 => {
                self.v1_channels.retain(|c| c.endpoint != endpoint);
                let (Some(ch), Some(conf_id)) =
                    (alloc.and_then(|a| a.v1.as_ref()), self.v1_id.as_deref())
                else {
                    return;
                };
                self.send_v1(ctx, pending, conf_id, V1Update::Expire(&[ch]));
            }
        }
    }

    /// Mutes or unmutes an endpoint on the bridge (protocol.md §2.8):
    /// Colibri2 `<force-mute audio video/>` with the endpoint's whole mute
    /// state; Colibri v1 the direction of its channels of that media,
    /// `sendonly` (the bridge drops what it receives) or `sendrecv`. The
    /// answer is only logged.
    pub fn force_mute(
        &self,
        ctx: &mut Ctx<'_>,
        endpoint: &str,
        alloc: &Allocation,
        state: ForceMute,
        changed: MediaType,
    ) {
        let pending = self.fire_and_forget();
        match (self.version, &alloc.v1, self.v1_id.as_deref()) {
            (ColibriVersion::V2, _, _) => {
                let ops = [BatchOp::ForceMute {
                    id: endpoint,
                    mute: state,
                }];
                self.send_batch(ctx, pending, &ops);
            }
            (ColibriVersion::V1, Some(ch), Some(conf_id)) => {
                let channels: Vec<(MediaType, &str)> = ch
                    .channels
                    .iter()
                    .filter(|(m, _)| *m == changed)
                    .map(|(m, id)| (*m, id.as_str()))
                    .collect();
                if channels.is_empty() {
                    return;
                }
                let muted = match changed {
                    MediaType::Audio => state.audio,
                    _ => state.video,
                };
                let direction = if muted {
                    Direction::SendOnly
                } else {
                    Direction::SendRecv
                };
                let u = V1Update::Direction {
                    channels: &channels,
                    direction,
                };
                self.send_v1(ctx, pending, conf_id, u);
            }
            _ => {}
        }
    }

    /// Puts a muted endpoint's mute state on this bridge after it moved
    /// here: one Colibri2 `force-mute`, or the v1 direction of each muted
    /// media.
    pub fn restore_mute(
        &self,
        ctx: &mut Ctx<'_>,
        endpoint: &str,
        alloc: &Allocation,
        state: ForceMute,
    ) {
        for (on, media) in [
            (state.audio, MediaType::Audio),
            (state.video, MediaType::Video),
        ] {
            if !on {
                continue;
            }
            self.force_mute(ctx, endpoint, alloc, state, media);
            if self.version == ColibriVersion::V2 {
                break;
            }
        }
    }

    /// Expires the whole conference on the bridge (fire and forget): the
    /// Colibri2 conference expire, or every v1 channel (v1 has no conference
    /// expire; the bridge drops a conference with its last channel).
    pub fn expire_conference(&self, ctx: &mut Ctx<'_>) {
        let pending = self.fire_and_forget();
        match self.version {
            ColibriVersion::V2 if self.created => {
                let Some(mid) = MeetingId::new(&self.meeting_id) else {
                    return;
                };
                let m = ConferenceModify::expire_conference(mid);
                self.send(ctx, pending, |out, id| {
                    m.write(out, id, None, self.bridge.as_str())
                });
            }
            ColibriVersion::V1 => {
                let (Some(conf_id), false) = (self.v1_id.as_deref(), self.v1_channels.is_empty())
                else {
                    return;
                };
                let all: Vec<&V1ParticipantChannels> = self.v1_channels.iter().collect();
                self.send_v1(ctx, pending, conf_id, V1Update::Expire(&all));
            }
            _ => {}
        }
    }

    /// Gives the session up (its bridge failed): nothing more is sent.
    pub fn fail(&mut self) {
        self.failed = true;
    }
}
