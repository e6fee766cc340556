//! Media of one conference: a bridge session per bridge used, and the
//! invite state machine of every participant (protocol.md §2.4–2.5, §2.9,
//! §5.1–5.4).
//!
//! ```text
//!  Discovering --features (disco#info or caps)--> WaitingForBridge | Allocating
//!  WaitingForBridge --a bridge is usable--> Allocating
//!  Allocating --Colibri answer--> Initiating (session-initiate sent)
//!  Initiating --result--> Invited --session-accept--> Active
//!  Initiating --session-accept first--> Active
//!  Initiating --error | no result in time--> (invite failed: allocation expired)
//!  Allocating --left (Colibri v1, channels not known yet)--> Leaving --answer--> expired
//!  any --left--> gone: exactly what was allocated is expired
//! ```
//!
//! Endpoint ids are MUC nicknames, in both Colibri versions, and so are the
//! `ssrc-info` owners of participants' sources, as Jicofo does. The bridge's
//! own (feedback) sources are announced with owner `jvb`.
//!
//! A `session-initiate` that gets no result within the reply timeout fails
//! the invite and expires its allocation (SEED behaviour, which the issue
//! asks for; CURRENT Jicofo counts a timeout as success).

use super::bridge::{BridgeId, ColibriVersion};
use super::colibri::{AllocFailure, AllocRequest, Allocation, ColibriSession};
use super::conference::{ConfId, Ctx, Pending};
use super::features::{Feature, Features};
use super::{codecs, colibri};
use crate::stanza::colibri2::ForceMute;
use crate::stanza::disco::{self, DiscoInfo};
use crate::stanza::jingle::StartMuted;
use crate::stanza::jingle::{
    self, BridgeSession, JingleRequest, Offer, OfferContent, ReasonCondition, RtpDescription,
    SctpMap, Senders,
};
use crate::stanza::muc::Occupant;
use crate::stanza::mute::MediaKind;
use crate::stanza::sources::{ConferenceSourceMap, EndpointSourceSet, MediaType};
use crate::stanza::{Condition, StanzaError};
use crate::xml::El;

/// What an outgoing media IQ was for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaOp {
    /// disco#info to a participant.
    Disco(Box<str>),
    /// A Colibri allocation for a participant on a bridge.
    Allocate(Box<str>, BridgeId),
    /// A Colibri update (transport/sources) for a participant.
    Update(Box<str>, BridgeId),
    /// An expire or any request whose answer only gets logged.
    FireAndForget(BridgeId),
    /// Our `session-initiate` to a participant, with its sid.
    Initiate(Box<str>, Box<str>),
    /// Any other Jingle request to a participant (terminate, source-add).
    Jingle(Box<str>),
}

/// Where one participant's invite stands.
#[derive(Debug)]
pub enum Invite {
    /// disco#info sent to the occupant.
    Discovering,
    /// Features known, no usable bridge yet.
    WaitingForBridge(Features),
    /// Colibri allocation in flight (or queued behind the conference's first
    /// Colibri v1 allocation).
    Allocating(Features, BridgeId),
    /// `session-initiate` sent.
    Initiating(Box<Session>),
    /// `session-initiate` acknowledged; waiting for `session-accept`.
    Invited(Box<Session>),
    /// `session-accept` received: media flows through the bridge.
    Active(Box<Session>),
    /// Left while a Colibri v1 allocation was in flight: its channels are
    /// expired when the answer tells us their ids.
    Leaving(BridgeId),
}

impl Invite {
    /// The state's name, for logs and tests.
    pub fn name(&self) -> &'static str {
        match self {
            Invite::Discovering => "Discovering",
            Invite::WaitingForBridge(_) => "WaitingForBridge",
            Invite::Allocating(..) => "Allocating",
            Invite::Initiating(_) => "Initiating",
            Invite::Invited(_) => "Invited",
            Invite::Active(_) => "Active",
            Invite::Leaving(_) => "Leaving",
        }
    }
}

/// A participant's Jingle session and what the bridge gave it.
#[derive(Debug)]
pub struct Session {
    /// Client features.
    pub features: Features,
    /// The bridge.
    pub bridge: BridgeId,
    /// The allocation on it.
    pub alloc: Allocation,
    /// The Jingle session id.
    pub sid: Box<str>,
}

/// One invited (or being invited) participant.
#[derive(Debug)]
pub struct Participant {
    /// Endpoint id: the MUC nickname.
    pub nick: Box<str>,
    /// `room@muc/nick`: where Jingle goes.
    pub occupant_jid: Box<str>,
    /// Region for bridge selection.
    pub region: Option<Box<str>>,
    /// `stats-id` passed to the bridge.
    pub stats_id: Option<Box<str>>,
    /// The invite state.
    pub invite: Invite,
    /// `<startmuted/>` for its `session-initiate`, decided when it joined.
    pub start_muted: Option<StartMuted>,
    /// What the bridge has been told to drop from it (mute IQs, §2.8).
    pub force_muted: ForceMute,
}

impl Participant {
    /// The session, once `session-initiate` was sent.
    pub fn session(&self) -> Option<&Session> {
        match &self.invite {
            Invite::Initiating(s) | Invite::Invited(s) | Invite::Active(s) => Some(s),
            _ => None,
        }
    }
}

/// Media state of one conference.
#[derive(Debug, Default)]
pub struct Media {
    participants: Vec<Participant>,
    sessions: Vec<ColibriSession>,
    sources: ConferenceSourceMap,
    /// Bridges that refused this conference because they are in graceful
    /// shutdown. Selection may still offer such a bridge when it is the only
    /// one; asking it again would be refused again at once, so invites wait
    /// for another bridge instead (until the set of bridges changes).
    refused: Vec<BridgeId>,
}

/// What the conference needs to tell the media layer about itself.
#[derive(Debug, Clone, Copy)]
pub struct ConfInfo<'a> {
    /// The conference handle (for pending IQ keys).
    pub id: ConfId,
    /// The room's bare JID.
    pub room: &'a str,
    /// The meeting id (Colibri2 `meeting-id`).
    pub meeting_id: &'a str,
}

impl Media {
    /// Participants being invited or in session.
    pub fn participants(&self) -> &[Participant] {
        &self.participants
    }

    /// The participant with this nick.
    pub fn participant(&self, nick: &str) -> Option<&Participant> {
        self.participants.iter().find(|p| &*p.nick == nick)
    }

    /// The conference's current sources by owner.
    pub fn sources(&self) -> &ConferenceSourceMap {
        &self.sources
    }

    /// Bridges this conference uses.
    pub fn bridges(&self) -> impl Iterator<Item = &BridgeId> {
        self.sessions.iter().map(|s| s.bridge())
    }

    fn idx(&self, nick: &str) -> Option<usize> {
        self.participants.iter().position(|p| &*p.nick == nick)
    }

    fn set_invite(&mut self, room: &str, i: usize, new: Invite) {
        let p = &mut self.participants[i];
        if std::mem::discriminant(&p.invite) != std::mem::discriminant(&new) {
            log::debug!(
                "conference {room}: participant {}: {} => {}",
                p.nick,
                p.invite.name(),
                new.name()
            );
        }
        p.invite = new;
    }

    /// Starts inviting an occupant (features first).
    pub fn invite(
        &mut self,
        ctx: &mut Ctx<'_>,
        conf: ConfInfo<'_>,
        o: &Occupant,
        start_muted: Option<StartMuted>,
    ) {
        let nick: Box<str> = o.nick().into();
        if self.idx(&nick).is_some() {
            return;
        }
        let occupant_jid: Box<str> = o.occupant_jid.as_str().into();
        let cached = o.caps.as_ref().and_then(|c| ctx.caps.get(c.ver()));
        self.participants.push(Participant {
            nick: nick.clone(),
            occupant_jid: occupant_jid.clone(),
            region: o.region.clone(),
            stats_id: o.stats_id.clone(),
            invite: Invite::Discovering,
            start_muted,
            force_muted: ForceMute::default(),
        });
        log::info!("conference {}: inviting {nick}", conf.room);
        match cached {
            Some(f) => {
                let i = self.participants.len() - 1;
                self.allocate(ctx, conf, i, f);
            }
            None => {
                let id = ctx.tracker.register(
                    ctx.now,
                    crate::conn::ConnId::Client,
                    &occupant_jid,
                    ctx.cfg.reply_timeout,
                    Pending::Media(conf.id, MediaOp::Disco(nick)),
                );
                disco::write_info_query(ctx.out, &id, None, &occupant_jid, None);
            }
        }
    }

    fn disco_answered(
        &mut self,
        ctx: &mut Ctx<'_>,
        conf: ConfInfo<'_>,
        nick: &str,
        caps_ver: Option<&str>,
        answer: Result<Option<El<'_>>, StanzaError>,
    ) {
        let Some(i) = self.idx(nick) else { return };
        if !matches!(self.participants[i].invite, Invite::Discovering) {
            return;
        }
        let features = match answer {
            Ok(Some(q)) => match DiscoInfo::parse(q) {
                Ok(info) => {
                    let f = Features::from_vars(info.features.iter().map(|s| s.as_str()));
                    if let Some(ver) = caps_ver {
                        ctx.caps.insert(ver, f);
                    }
                    f
                }
                Err(_) => Features::DEFAULT,
            },
            Ok(None) | Err(_) => {
                log::debug!(
                    "conference {}: no features from {nick}; assuming audio, video and data",
                    conf.room
                );
                Features::DEFAULT
            }
        };
        self.allocate(ctx, conf, i, features);
    }

    /// Picks a bridge and asks it for an endpoint for participant `i`.
    fn allocate(&mut self, ctx: &mut Ctx<'_>, conf: ConfInfo<'_>, i: usize, features: Features) {
        let existing: Vec<(BridgeId, u32)> = self
            .sessions
            .iter()
            .filter(|s| !s.is_failed())
            .map(|s| (s.bridge().clone(), s.endpoint_count()))
            .collect();
        let region = self.participants[i].region.clone();
        let Some(bridge) = ctx
            .registry
            .select(ctx.now, &existing, region.as_deref(), None)
        else {
            log::warn!(
                "conference {}: no operational bridge for {}; waiting for one",
                conf.room,
                self.participants[i].nick
            );
            self.set_invite(conf.room, i, Invite::WaitingForBridge(features));
            return;
        };
        if self.refused.contains(&bridge) {
            log::warn!(
                "conference {}: bridge {} refused this conference (graceful shutdown); {} waits for another bridge",
                conf.room,
                bridge.as_str(),
                self.participants[i].nick
            );
            self.set_invite(conf.room, i, Invite::WaitingForBridge(features));
            return;
        }
        let s = match self
            .sessions
            .iter()
            .position(|s| *s.bridge() == bridge && !s.is_failed())
        {
            Some(s) => s,
            None => {
                let version = ctx
                    .registry
                    .get(bridge.as_str())
                    .map(|b| b.colibri_version())
                    .unwrap_or(ColibriVersion::V2);
                let uuid = super::conference::uuid(ctx.rng);
                log::info!(
                    "conference {}: using bridge {} (Colibri {:?})",
                    conf.room,
                    bridge.as_str(),
                    version
                );
                self.sessions.push(ColibriSession::new(
                    conf.id,
                    conf.meeting_id,
                    bridge.clone(),
                    version,
                    uuid,
                ));
                self.sessions.len() - 1
            }
        };
        ctx.registry.endpoint_added(ctx.now, &bridge);
        let p = &self.participants[i];
        let audio = features
            .has(Feature::Audio)
            .then(|| codecs::audio(ctx.codecs, features));
        let video = features
            .has(Feature::Video)
            .then(|| codecs::video(ctx.codecs, features));
        let req = AllocRequest {
            endpoint: &p.nick,
            stats_id: p.stats_id.as_deref(),
            audio: audio.as_ref(),
            video: video.as_ref(),
            sctp: features.has(Feature::Sctp),
        };
        let nick = p.nick.clone();
        let pending = Pending::Media(conf.id, MediaOp::Allocate(nick.clone(), bridge.clone()));
        self.sessions[s].allocate(ctx, pending, conf.room, &req);
        self.set_invite(conf.room, i, Invite::Allocating(features, bridge));
    }

    fn allocation_answered(
        &mut self,
        ctx: &mut Ctx<'_>,
        conf: ConfInfo<'_>,
        nick: &str,
        bridge: &BridgeId,
        answer: Result<Option<El<'_>>, StanzaError>,
    ) {
        let Some(s) = self
            .sessions
            .iter()
            .position(|s| s.bridge() == bridge && !s.is_failed())
        else {
            return;
        };
        let Some(i) = self.idx(nick) else { return };
        let (features, leaving) = match &self.participants[i].invite {
            Invite::Allocating(f, b) if b == bridge => (*f, false),
            Invite::Leaving(b) if b == bridge => (Features::DEFAULT, true),
            _ => return,
        };
        let result = self.sessions[s].allocation_answer(
            ctx,
            conf,
            nick,
            features.has(Feature::Sctp),
            answer,
        );
        if leaving {
            if let Ok(alloc) = &result {
                self.sessions[s].expire(ctx, nick, Some(alloc));
            }
            self.participants.remove(i);
            self.maybe_expire_sessions(ctx);
            return;
        }
        match result {
            Ok(alloc) => {
                // Muted before a move: muted on the new bridge too.
                let muted = self.participants[i].force_muted;
                for (on, media) in [
                    (muted.audio, MediaType::Audio),
                    (muted.video, MediaType::Video),
                ] {
                    if on {
                        self.sessions[s].force_mute(ctx, nick, &alloc, muted, media);
                    }
                }
                self.initiate(ctx, conf, i, features, bridge.clone(), alloc)
            }
            Err(failure) => self.allocation_failed(ctx, conf, i, s, failure),
        }
    }

    /// protocol.md §3.6, as Jicofo's Colibri2 session manager reacts.
    fn allocation_failed(
        &mut self,
        ctx: &mut Ctx<'_>,
        conf: ConfInfo<'_>,
        i: usize,
        s: usize,
        failure: AllocFailure,
    ) {
        let nick = self.participants[i].nick.clone();
        let bridge = self.sessions[s].bridge().clone();
        log::warn!(
            "conference {}: allocation for {nick} on {} failed: {failure}",
            conf.room,
            bridge.as_str()
        );
        match failure.reaction() {
            colibri::Reaction::FailParticipant => {
                self.participants.remove(i);
            }
            colibri::Reaction::RemoveSession {
                bridge_down,
                graceful,
            } => {
                if bridge_down {
                    ctx.registry.mark_non_operational(ctx.now, &bridge);
                }
                if graceful {
                    ctx.registry.mark_graceful_shutdown(&bridge);
                    if !self.refused.contains(&bridge) {
                        self.refused.push(bridge.clone());
                    }
                }
                // Expired as Jicofo's removeSession does: the bridge may
                // still hold the conference, and the re-invite may create it
                // there again (a second create for the meeting id would be
                // refused with conference_already_exists, again and again).
                self.remove_session(ctx, conf, &bridge, true);
            }
        }
    }

    /// Drops a bridge session and moves its participants to another bridge.
    /// `expire` sends a conference expire first (the bridge is still there).
    pub fn remove_session(
        &mut self,
        ctx: &mut Ctx<'_>,
        conf: ConfInfo<'_>,
        bridge: &BridgeId,
        expire: bool,
    ) {
        let Some(s) = self.sessions.iter().position(|x| x.bridge() == bridge) else {
            return;
        };
        let session = self.sessions.remove(s);
        if expire {
            session.expire_conference(ctx);
        }
        let on_it: Vec<usize> = (0..self.participants.len())
            .filter(|&i| match &self.participants[i].invite {
                Invite::Allocating(_, b) | Invite::Leaving(b) => b == bridge,
                Invite::Initiating(x) | Invite::Invited(x) | Invite::Active(x) => {
                    &x.bridge == bridge
                }
                _ => false,
            })
            .collect();
        log::info!(
            "conference {}: bridge {} removed; moving {} participant(s)",
            conf.room,
            bridge.as_str(),
            on_it.len()
        );
        for &i in on_it.iter().rev() {
            if matches!(self.participants[i].invite, Invite::Leaving(_)) {
                self.participants.remove(i);
            }
        }
        let movers: Vec<Box<str>> = self
            .participants
            .iter()
            .filter(|p| match &p.invite {
                Invite::Allocating(_, b) => b == bridge,
                Invite::Initiating(x) | Invite::Invited(x) | Invite::Active(x) => {
                    &x.bridge == bridge
                }
                _ => false,
            })
            .map(|p| p.nick.clone())
            .collect();
        for nick in movers {
            self.reinvite(ctx, conf, &nick);
        }
    }

    /// Moves a participant to a (new) bridge: an established session is
    /// ended first (`session-terminate`, reason success, "moving"), its
    /// sources leave the conference, and a fresh invite starts (protocol.md
    /// §3.6, the default `RestartJingle` method).
    pub fn reinvite(&mut self, ctx: &mut Ctx<'_>, conf: ConfInfo<'_>, nick: &str) {
        let Some(i) = self.idx(nick) else { return };
        let features =
            match std::mem::replace(&mut self.participants[i].invite, Invite::Discovering) {
                Invite::Initiating(s) | Invite::Invited(s) | Invite::Active(s) => {
                    let p = &self.participants[i];
                    let id = ctx.tracker.register(
                        ctx.now,
                        crate::conn::ConnId::Client,
                        &p.occupant_jid,
                        ctx.cfg.reply_timeout,
                        Pending::Media(conf.id, MediaOp::Jingle(p.nick.clone())),
                    );
                    jingle::write_session_terminate(
                        ctx.out,
                        &id,
                        None,
                        &p.occupant_jid,
                        &s.sid,
                        ReasonCondition::Success,
                        Some("moving"),
                        None,
                    );
                    self.sources.remove_owner(nick);
                    s.features
                }
                Invite::Allocating(f, _) | Invite::WaitingForBridge(f) => f,
                Invite::Discovering | Invite::Leaving(_) => Features::DEFAULT,
            };
        self.allocate(ctx, conf, i, features);
    }

    fn initiate(
        &mut self,
        ctx: &mut Ctx<'_>,
        conf: ConfInfo<'_>,
        i: usize,
        features: Features,
        bridge: BridgeId,
        alloc: Allocation,
    ) {
        let sid = ctx.rng.token(13).to_ascii_lowercase().into_boxed_str();
        let audio = features
            .has(Feature::Audio)
            .then(|| codecs::audio(ctx.codecs, features));
        let video = features
            .has(Feature::Video)
            .then(|| codecs::video(ctx.codecs, features));
        let data = RtpDescription::new("application");
        let sctpmap = SctpMap::datachannel(alloc.sctp_port.unwrap_or(5000));
        let mut contents: Vec<OfferContent<'_>> = Vec::with_capacity(3);
        for (name, d) in [("audio", audio.as_ref()), ("video", video.as_ref())] {
            if let Some(d) = d {
                contents.push(OfferContent {
                    name,
                    senders: Senders::Both,
                    description: Some(d),
                    transport: Some(&alloc.transport),
                    sctpmap: None,
                    estos_bundle: false,
                });
            }
        }
        if features.has(Feature::Sctp) {
            contents.push(OfferContent {
                name: "data",
                senders: Senders::Both,
                description: Some(&data),
                transport: Some(&alloc.transport),
                sctpmap: Some(&sctpmap),
                estos_bundle: false,
            });
        }
        let nick = self.participants[i].nick.clone();
        let mut sources: Vec<(&str, &EndpointSourceSet)> = vec![("jvb", &alloc.feedback)];
        sources.extend(self.sources.iter().filter(|(owner, _)| *owner != &*nick));
        let session_id = self
            .sessions
            .iter()
            .find(|s| *s.bridge() == bridge)
            .map(|s| s.uuid().to_string());
        let region = ctx
            .registry
            .get(bridge.as_str())
            .and_then(|b| b.region())
            .map(str::to_string);
        let offer = Offer {
            sid: &sid,
            initiator: ctx.our_jid,
            contents: &contents,
            sources: &sources,
            bundle: true,
            start_muted: self.participants[i].start_muted,
            bridge_session: session_id.as_deref().map(|id| BridgeSession {
                id: Some(id.into()),
                region: region.as_deref().map(Into::into),
                restart: false,
                ice_restart: false,
            }),
        };
        let to = self.participants[i].occupant_jid.clone();
        let id = ctx.tracker.register(
            ctx.now,
            crate::conn::ConnId::Client,
            &to,
            ctx.cfg.reply_timeout,
            Pending::Media(conf.id, MediaOp::Initiate(nick.clone(), sid.clone())),
        );
        jingle::write_session_initiate(ctx.out, &id, None, &to, &offer);
        log::info!(
            "conference {}: session-initiate to {nick} (bridge {})",
            conf.room,
            bridge.as_str()
        );
        self.set_invite(
            conf.room,
            i,
            Invite::Initiating(Box::new(Session {
                features,
                bridge,
                alloc,
                sid,
            })),
        );
    }

    fn initiate_answered(
        &mut self,
        ctx: &mut Ctx<'_>,
        conf: ConfInfo<'_>,
        nick: &str,
        sid: &str,
        answer: Result<Option<El<'_>>, StanzaError>,
    ) {
        let Some(i) = self.idx(nick) else { return };
        let Invite::Initiating(s) = &self.participants[i].invite else {
            return;
        };
        if &*s.sid != sid {
            return;
        }
        match answer {
            Ok(_) => {
                let Invite::Initiating(s) =
                    std::mem::replace(&mut self.participants[i].invite, Invite::Discovering)
                else {
                    return;
                };
                self.set_invite(conf.room, i, Invite::Invited(s));
            }
            Err(e) => {
                log::warn!(
                    "conference {}: session-initiate to {nick} failed ({e}); expiring its allocation",
                    conf.room
                );
                self.drop_participant(ctx, conf, i);
            }
        }
    }

    /// An IQ answer for this conference's media.
    pub fn on_answer(
        &mut self,
        ctx: &mut Ctx<'_>,
        conf: ConfInfo<'_>,
        op: MediaOp,
        caps_ver: Option<&str>,
        answer: Result<Option<El<'_>>, StanzaError>,
    ) {
        match op {
            MediaOp::Disco(nick) => self.disco_answered(ctx, conf, &nick, caps_ver, answer),
            MediaOp::Allocate(nick, bridge) => {
                self.allocation_answered(ctx, conf, &nick, &bridge, answer)
            }
            MediaOp::Initiate(nick, sid) => self.initiate_answered(ctx, conf, &nick, &sid, answer),
            MediaOp::Update(nick, bridge) => {
                if let Err(e) = answer {
                    log::warn!(
                        "conference {}: bridge update for {nick} on {} failed: {e}",
                        conf.room,
                        bridge.as_str()
                    );
                    match colibri::classify_update_error(&e) {
                        colibri::UpdateReaction::ReinviteParticipant => {
                            self.reinvite(ctx, conf, &nick)
                        }
                        colibri::UpdateReaction::RemoveSession => {
                            self.remove_session(ctx, conf, &bridge, true)
                        }
                        colibri::UpdateReaction::Ignore => {}
                    }
                }
            }
            MediaOp::FireAndForget(bridge) => {
                if let Err(e) = answer {
                    log::debug!(
                        "conference {}: request to {} failed: {e}",
                        conf.room,
                        bridge.as_str()
                    );
                }
            }
            MediaOp::Jingle(nick) => {
                if let Err(e) = answer {
                    log::debug!(
                        "conference {}: Jingle request to {nick} failed: {e}",
                        conf.room
                    );
                }
            }
        }
    }

    /// A Jingle request from the occupant `nick`. Returns the error to
    /// answer with, or `Ok` for an empty result.
    pub fn on_jingle(
        &mut self,
        ctx: &mut Ctx<'_>,
        conf: ConfInfo<'_>,
        nick: &str,
        req: &JingleRequest<'_>,
    ) -> Result<(), StanzaError> {
        let Some(i) = self.idx(nick) else {
            return Err(StanzaError::new(Condition::ItemNotFound)
                .with_text("no Jingle session for this occupant"));
        };
        let sid_ok = self.participants[i]
            .session()
            .is_some_and(|s| *s.sid == *req.sid);
        if !sid_ok {
            return Err(StanzaError::new(Condition::ItemNotFound).with_text("unknown session id"));
        }
        use crate::stanza::jingle::Action;
        match req.action {
            Action::SessionAccept | Action::TransportAccept => {
                self.session_accept(ctx, conf, i, req)
            }
            Action::TransportInfo => {
                let t = req
                    .transport()
                    .map_err(|e| bad(&e.to_string()))?
                    .ok_or_else(|| bad("missing transport"))?;
                self.update_bridge(ctx, conf, i, Some(&t), None, &[]);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn session_accept(
        &mut self,
        ctx: &mut Ctx<'_>,
        conf: ConfInfo<'_>,
        i: usize,
        req: &JingleRequest<'_>,
    ) -> Result<(), StanzaError> {
        let transport = req.transport().map_err(|e| bad(&e.to_string()))?;
        let sources = req.sources().map_err(|e| bad(&e.to_string()))?;
        let descriptions = req.rtp_descriptions().unwrap_or_default();
        let nick = self.participants[i].nick.clone();
        match std::mem::replace(&mut self.participants[i].invite, Invite::Discovering) {
            Invite::Initiating(s) | Invite::Invited(s) | Invite::Active(s) => {
                self.set_invite(conf.room, i, Invite::Active(s));
            }
            other => {
                self.participants[i].invite = other;
                return Err(
                    StanzaError::new(Condition::UnexpectedRequest).with_text("no offer to accept")
                );
            }
        }
        log::info!(
            "conference {}: {nick} accepted ({} sources)",
            conf.room,
            sources.sources.len()
        );
        self.sources.remove_owner(&nick);
        if !sources.is_empty() {
            self.sources.add(&nick, &sources);
        }
        let all = self.sources.get(&nick).cloned().unwrap_or_default();
        self.update_bridge(ctx, conf, i, transport.as_ref(), Some(&all), &descriptions);
        Ok(())
    }

    /// Pushes a participant's transport and/or complete source set to its bridge.
    fn update_bridge(
        &mut self,
        ctx: &mut Ctx<'_>,
        conf: ConfInfo<'_>,
        i: usize,
        transport: Option<&jingle::IceUdpTransport>,
        sources: Option<&EndpointSourceSet>,
        descriptions: &[RtpDescription],
    ) {
        let p = &self.participants[i];
        let Some(sess) = p.session() else { return };
        let Some(s) = self.sessions.iter().find(|s| *s.bridge() == sess.bridge) else {
            return;
        };
        let pending = Pending::Media(
            conf.id,
            MediaOp::Update(p.nick.clone(), sess.bridge.clone()),
        );
        s.update(
            ctx,
            pending,
            &p.nick,
            &sess.alloc,
            transport,
            sources,
            descriptions,
        );
    }

    /// The occupant left (or was kicked): expire exactly what it had.
    pub fn member_left(&mut self, ctx: &mut Ctx<'_>, conf: ConfInfo<'_>, nick: &str) {
        let Some(i) = self.idx(nick) else { return };
        let removed = self.sources.remove_owner(nick);
        let _ = removed;
        match &self.participants[i].invite {
            Invite::Allocating(_, b) => {
                let b = b.clone();
                let s = self.sessions.iter().position(|x| *x.bridge() == b);
                match s {
                    Some(s) if self.sessions[s].can_expire_unanswered() => {
                        self.participants.remove(i);
                        // The last endpoint goes with the conference expire below.
                        if bridge_in_use(&self.participants, &b) {
                            self.sessions[s].expire(ctx, nick, None);
                        }
                    }
                    Some(_) => self.set_invite(conf.room, i, Invite::Leaving(b)),
                    None => {
                        self.participants.remove(i);
                    }
                }
            }
            Invite::Discovering | Invite::WaitingForBridge(_) => {
                self.participants.remove(i);
            }
            Invite::Leaving(_) => {}
            _ => self.drop_participant(ctx, conf, i),
        }
        self.maybe_expire_sessions(ctx);
    }

    /// Expires a participant's allocation and forgets it.
    fn drop_participant(&mut self, ctx: &mut Ctx<'_>, _conf: ConfInfo<'_>, i: usize) {
        let p = self.participants.remove(i);
        if let Invite::Initiating(s) | Invite::Invited(s) | Invite::Active(s) = p.invite {
            // The last endpoint goes with the conference expire below.
            let others = bridge_in_use(&self.participants, &s.bridge);
            if let Some(sess) = self.sessions.iter_mut().find(|x| *x.bridge() == s.bridge)
                && others
            {
                sess.expire(ctx, &p.nick, Some(&s.alloc));
            }
            ctx.registry.endpoints_removed(&s.bridge, 1);
        }
        self.sources.remove_owner(&p.nick);
        self.maybe_expire_sessions(ctx);
    }

    /// With nobody left on a bridge, its conference is expired: only the
    /// conference, as Jicofo does. A bridge expires a conference once its
    /// last endpoint is expired, so an endpoint expire before it would make
    /// the bridge answer the conference expire with `conference_not_found`.
    fn maybe_expire_sessions(&mut self, ctx: &mut Ctx<'_>) {
        let participants = &self.participants;
        self.sessions.retain(|s| {
            let used = bridge_in_use(participants, s.bridge());
            if !used {
                s.expire_conference(ctx);
            }
            used
        });
    }

    /// The single-participant timeout: end the last participant's session
    /// (reason `expired`) and expire the bridge conference; the focus stays.
    pub fn end_all(
        &mut self,
        ctx: &mut Ctx<'_>,
        conf: ConfInfo<'_>,
        reason: ReasonCondition,
        text: &str,
    ) {
        for p in std::mem::take(&mut self.participants) {
            if let Some(s) = p.session() {
                let id = ctx.tracker.register(
                    ctx.now,
                    crate::conn::ConnId::Client,
                    &p.occupant_jid,
                    ctx.cfg.reply_timeout,
                    Pending::Media(conf.id, MediaOp::Jingle(p.nick.clone())),
                );
                jingle::write_session_terminate(
                    ctx.out,
                    &id,
                    None,
                    &p.occupant_jid,
                    &s.sid,
                    reason,
                    Some(text),
                    None,
                );
            }
        }
        self.stop(ctx);
    }

    /// The conference ends: expire everything on every bridge.
    pub fn stop(&mut self, ctx: &mut Ctx<'_>) {
        for s in self.sessions.drain(..) {
            s.expire_conference(ctx);
        }
        self.participants.clear();
        self.sources = ConferenceSourceMap::new();
    }

    /// A bridge failed or went away: its sessions are removed and their
    /// participants invited again elsewhere.
    pub fn bridge_gone(&mut self, ctx: &mut Ctx<'_>, conf: ConfInfo<'_>, bridge: &BridgeId) {
        if self.sessions.iter().any(|s| s.bridge() == bridge) {
            self.remove_session(ctx, conf, bridge, false);
        }
    }

    /// A bridge became usable: invites waiting for one go on.
    pub fn bridge_available(&mut self, ctx: &mut Ctx<'_>, conf: ConfInfo<'_>) {
        self.refused.clear();
        let waiting: Vec<(usize, Features)> = self
            .participants
            .iter()
            .enumerate()
            .filter_map(|(i, p)| match p.invite {
                Invite::WaitingForBridge(f) => Some((i, f)),
                _ => None,
            })
            .collect();
        for (i, f) in waiting {
            self.allocate(ctx, conf, i, f);
        }
    }

    /// A mute IQ succeeded (§2.8): the bridge drops the participant's audio
    /// or video (desktop is video to the bridge) from now on, or no longer.
    /// The state is kept, so a participant invited again (moved to another
    /// bridge) is muted there too once its session is set up again.
    pub fn force_mute(&mut self, ctx: &mut Ctx<'_>, nick: &str, kind: MediaKind, mute: bool) {
        let Some(p) = self.participants.iter_mut().find(|p| &*p.nick == nick) else {
            return;
        };
        let media = match kind {
            MediaKind::Audio => {
                p.force_muted.audio = mute;
                MediaType::Audio
            }
            MediaKind::Video | MediaKind::Desktop => {
                p.force_muted.video = mute;
                MediaType::Video
            }
        };
        let state = p.force_muted;
        let Some(s) = p.session() else { return };
        if let Some(sess) = self.sessions.iter().find(|x| *x.bridge() == s.bridge) {
            sess.force_mute(ctx, nick, &s.alloc, state, media);
        }
    }

    /// True when someone waits for a bridge.
    pub fn waiting_for_bridge(&self) -> bool {
        self.participants
            .iter()
            .any(|p| matches!(p.invite, Invite::WaitingForBridge(_)))
    }
}

/// True while a participant is being invited to, or is in session on,
/// `bridge`.
fn bridge_in_use(participants: &[Participant], bridge: &BridgeId) -> bool {
    participants.iter().any(|p| match &p.invite {
        Invite::Allocating(_, b) | Invite::Leaving(b) => b == bridge,
        Invite::Initiating(x) | Invite::Invited(x) | Invite::Active(x) => &x.bridge == bridge,
        _ => false,
    })
}

fn bad(text: &str) -> StanzaError {
    StanzaError::new(Condition::BadRequest).with_text(text.to_string())
}
