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
//!  Initiating | Invited | Active --ICE failed | restart | bridge lost--> Allocating
//!  Initiating | Invited | Active --session-terminate from the client--> Ended
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
//!
//! Sources (protocol.md §5.4–5.6, CURRENT throughout): every source a
//! participant announces, in `session-accept`, `source-add` or
//! `source-remove`, passes the [`ValidatingSourceMap`] as a whole request;
//! a refused request is answered `bad-request` (or `resource-constraint`)
//! with a text and changes nothing, except that a refused `session-accept`
//! still makes the session active. What is accepted goes to the bridge
//! (the participant's complete set) and into the [`SourceSignaling`] queue
//! of every *other* participant that has had an offer. A queue starts from
//! exactly what the participant's offer carried and is flushed, as at most
//! one `source-remove` and one `source-add`, once its session is accepted
//! and after the answer to the request that caused it (the focus calls
//! [`Media::flush_signaling`] after writing the answer); before the accept
//! changes merge in the queue. Receivers get only what their features
//! allow and, with `strip-simulcast` (default on), only the first
//! simulcast layer and its RTX. SEED sent every source unvalidated and
//! unfiltered, and `source-remove` when a participant left; here a
//! participant that leaves has its sources dropped from the map and its
//! endpoint expired, and nobody is told (clients clean up on the MUC
//! leave), while a participant that is re-invited or moved has its
//! sources removed with `source-remove` to the others and added back by
//! its next accept. With `source-signaling-delays` set for the
//! conference's size, queues are flushed that long after the first change
//! still queued (one deadline per conference; the default is no delay),
//! except that a participant that just accepted gets its queue at once.
//!
//! Jingle from participants is answered after it was processed, with a
//! result or the specific error (CURRENT; SEED acknowledged everything
//! first). A request whose sid is not the sender's current session is
//! `item-not-found`, also for a session that ended (CURRENT says
//! `bad-request` for an unknown sid and `gone` for an ended one; sessions
//! here are found by the sending occupant, so both are one case).
//!
//! Session maintenance (§5.7–5.9, CURRENT): `transport-info` goes to the
//! bridge; `session-info` with ICE `failed` and the current bridge-session
//! id re-invites the participant (RestartJingle: `session-terminate`
//! "moving", endpoint expired, new allocation and offer); a participant's
//! `session-terminate` ends its session (sources removed and signalled,
//! endpoint expired) and with `restart='true'` invites it again, rate
//! limited per participant. `jicofo.conference.reinvite-method` picks how
//! an ICE failure or a lost bridge moves a participant: `RestartJingle`
//! (default) as above, or `ReplaceTransport`, which keeps the Jingle
//! session (no `session-terminate`), allocates anew and sends
//! `transport-replace` with the same sid; its `transport-accept` is handled
//! as a `session-accept`, a `transport-reject` only logged. Sources are
//! removed and re-added around either. A client's own restart request
//! always gets a new session (it ended the old one). While the new
//! allocation is made the kept sid is not a session yet, so Jingle with it
//! is refused until the `transport-replace` is sent. Actions CURRENT does
//! not handle get `feature-not-implemented` (SEED acknowledged and ignored
//! them).

mod requests;
mod signaling;

use super::bridge::{BridgeId, ColibriVersion};
use super::colibri::{AllocFailure, AllocRequest, Allocation, ColibriSession};
use super::conference::{ConfId, Ctx, Pending};
use super::config::ReinviteMethod;
use super::features::{Feature, Features};
use super::rate_limit::RateLimit;
use super::sources::{SignalingOptions, SourceConfig, SourceSignaling, ValidatingSourceMap};
use super::{codecs, colibri};
use crate::stanza::colibri2::ForceMute;
use crate::stanza::disco::{self, DiscoInfo};
use crate::stanza::jingle::StartMuted;
use crate::stanza::jingle::{
    self, BridgeSession, Offer, OfferContent, ReasonCondition, RtpDescription, SctpMap, Senders,
};
use crate::stanza::muc::Occupant;
use crate::stanza::mute::MediaKind;
use crate::stanza::sources::{ConferenceSourceMap, EndpointSourceSet, MediaType};
use crate::stanza::{Condition, StanzaError};
use crate::xml::El;
use std::time::Instant;

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
    /// The participant ended its session (`session-terminate` without
    /// `restart`): it stays in the room without media and is not invited
    /// again unless it rejoins.
    Ended,
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
            Invite::Ended => "Ended",
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
    /// The offer was a `transport-replace` in a kept session (answered by
    /// `transport-accept`), not a `session-initiate`.
    pub replaced: bool,
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
    /// What it has been told about the others' sources and what it should
    /// be told next; `None` until its offer is built (the offer carries
    /// every source there is then, so nothing needs queueing before).
    signaling: Option<SourceSignaling>,
    /// Its `session-terminate` restart requests (§5.9).
    restarts: RateLimit,
    /// With `ReplaceTransport`, the sid of the Jingle session kept while a
    /// new allocation is made: its next offer is a `transport-replace` in
    /// it.
    replacing: Option<Box<str>>,
    /// It just accepted: what is queued for it goes at the next flush,
    /// whatever the signalling delay (Jicofo sends the queue on accept).
    flush_now: bool,
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
#[derive(Debug)]
pub struct Media {
    participants: Vec<Participant>,
    sessions: Vec<ColibriSession>,
    /// Every participant's sources, changed only through validated requests.
    sources: ValidatingSourceMap,
    /// When the queued source updates are due (`source-signaling-delays`).
    flush_at: Option<Instant>,
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

/// The set a participant without sources has (what the bridge is told).
static NO_SOURCES: EndpointSourceSet = EndpointSourceSet::new();

/// How a participant is moved to a new session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Restart {
    /// Its bridge is gone or forgot it: `session-terminate` ("moving"),
    /// nothing to expire.
    Moved,
    /// Its ICE failed: `session-terminate` ("moving"), and its endpoint is
    /// expired before the new allocation.
    IceFailed,
    /// It asked (`session-terminate` with `restart`): its session is over
    /// already, so only the endpoint is expired.
    Requested,
}

impl Media {
    /// No participants, no sessions; sources limited as configured.
    pub fn new(cfg: &SourceConfig) -> Media {
        Media {
            participants: Vec::new(),
            sessions: Vec::new(),
            sources: ValidatingSourceMap::from_config(cfg),
            flush_at: None,
            refused: Vec::new(),
        }
    }

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
        self.sources.map()
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
            signaling: None,
            restarts: RateLimit::new(ctx.cfg.restart_limits),
            replacing: None,
            flush_now: false,
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
                self.sessions[s].restore_mute(ctx, nick, &alloc, muted);
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
    /// sources leave the conference (`source-remove` queued for the
    /// others), and a fresh invite starts (protocol.md §3.6, the default
    /// `RestartJingle` method). Its sources come back with its next accept.
    pub fn reinvite(&mut self, ctx: &mut Ctx<'_>, conf: ConfInfo<'_>, nick: &str) {
        let Some(i) = self.idx(nick) else { return };
        self.restart(ctx, conf, i, Restart::Moved);
    }

    fn restart(&mut self, ctx: &mut Ctx<'_>, conf: ConfInfo<'_>, i: usize, how: Restart) {
        let features =
            match std::mem::replace(&mut self.participants[i].invite, Invite::Discovering) {
                Invite::Initiating(s) | Invite::Invited(s) | Invite::Active(s) => {
                    // A session the client ended cannot be kept.
                    let keep = how != Restart::Requested
                        && ctx.cfg.reinvite_method == ReinviteMethod::ReplaceTransport;
                    let terminate = how != Restart::Requested && !keep;
                    self.end_session(ctx, conf, i, &s, how, terminate);
                    let features = s.features;
                    if keep {
                        self.participants[i].replacing = Some(s.sid);
                    }
                    features
                }
                Invite::Allocating(f, _) | Invite::WaitingForBridge(f) => f,
                Invite::Discovering | Invite::Leaving(_) | Invite::Ended => Features::DEFAULT,
            };
        self.allocate(ctx, conf, i, features);
    }

    /// Ends participant `i`'s session `s` (already taken out of its invite
    /// state) on the focus's side: tells the client when `terminate`,
    /// expires its endpoint unless the bridge lost it, and removes its
    /// sources, queueing `source-remove` for the others.
    fn end_session(
        &mut self,
        ctx: &mut Ctx<'_>,
        conf: ConfInfo<'_>,
        i: usize,
        s: &Session,
        how: Restart,
        terminate: bool,
    ) {
        let p = &mut self.participants[i];
        p.signaling = None;
        if terminate {
            send_terminate(ctx, conf, p, &s.sid, ReasonCondition::Success, "moving");
        }
        if how != Restart::Moved {
            self.expire_endpoint(ctx, i, s);
        }
        if let Some(removed) = self.sources.remove_owner(&self.participants[i].nick) {
            self.signal(i, &removed, false);
        }
    }

    /// Expires participant `i`'s endpoint of session `s`, whose invite
    /// state no longer names the bridge. With nobody else on that bridge
    /// the whole bridge conference goes instead (a bridge drops a
    /// conference with its last endpoint, and a later update would then
    /// find none); a new allocation creates it again.
    fn expire_endpoint(&mut self, ctx: &mut Ctx<'_>, i: usize, s: &Session) {
        let Some(k) = self.sessions.iter().position(|x| x.bridge() == &s.bridge) else {
            return;
        };
        ctx.registry.endpoints_removed(&s.bridge, 1);
        if bridge_in_use(&self.participants, &s.bridge) {
            let nick = &self.participants[i].nick;
            self.sessions[k].expire(ctx, nick, Some(&s.alloc));
        } else {
            self.sessions.remove(k).expire_conference(ctx);
        }
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
        let replaced = self.participants[i].replacing.take();
        let replace = replaced.is_some();
        let sid =
            replaced.unwrap_or_else(|| ctx.rng.token(13).to_ascii_lowercase().into_boxed_str());
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
        // The others' sources, filtered for this receiver; its signalling
        // queue starts from exactly what the offer carries.
        let mut others = self.sources.map().clone();
        others.drop_owner(&nick);
        let mut signaling = SourceSignaling::new(SignalingOptions {
            audio: features.has(Feature::Audio),
            video: features.has(Feature::Video),
            strip_simulcast: ctx.cfg.sources.strip_simulcast,
            ssrc_rewriting: false,
        });
        let offered = signaling.reset(&others);
        self.participants[i].signaling = Some(signaling);
        let mut sources: Vec<(&str, &EndpointSourceSet)> = vec![("jvb", &alloc.feedback)];
        sources.extend(offered.iter());
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
        if replace {
            jingle::write_transport_replace(ctx.out, &id, None, &to, &offer);
        } else {
            jingle::write_session_initiate(ctx.out, &id, None, &to, &offer);
        }
        log::info!(
            "conference {}: {} to {nick} (bridge {})",
            conf.room,
            if replace {
                "transport-replace"
            } else {
                "session-initiate"
            },
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
                replaced: replace,
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

    /// Pushes a participant's transport and/or complete source set to its bridge.
    fn update_bridge(
        &self,
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
        // No `source-remove` for a participant that left: clients drop the
        // sources of an occupant that left on their own (CURRENT; SEED
        // sent one). Queued changes of its sources are dropped with it.
        self.sources.remove_owner(nick);
        for p in &mut self.participants {
            if let Some(sig) = p.signaling.as_mut() {
                sig.forget_owner(nick);
            }
        }
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
            Invite::Discovering | Invite::WaitingForBridge(_) | Invite::Ended => {
                self.participants.remove(i);
            }
            Invite::Leaving(_) => {}
            _ => self.drop_participant(ctx, conf, i),
        }
        self.maybe_expire_sessions(ctx);
    }

    /// Expires a participant's allocation and forgets it. Sources it still
    /// has (none once it left) are removed and `source-remove` is queued
    /// for the others: it is still in the room, its media is not.
    fn drop_participant(&mut self, ctx: &mut Ctx<'_>, _conf: ConfInfo<'_>, i: usize) {
        if let Some(removed) = self.sources.remove_owner(&self.participants[i].nick) {
            self.signal(i, &removed, false);
        }
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
                send_terminate(ctx, conf, &p, &s.sid, reason, text);
            }
        }
        self.stop(ctx);
    }

    /// The conference ends: expire everything on every bridge.
    pub fn stop(&mut self, ctx: &mut Ctx<'_>) {
        for s in self.sessions.drain(..) {
            s.expire_conference(ctx);
        }
        self.forget();
    }

    /// Forgets every participant, session and source without sending
    /// anything (the stream is down, or everything was expired already).
    pub fn forget(&mut self) {
        self.flush_at = None;
        self.participants.clear();
        self.sessions.clear();
        self.sources.clear();
        self.refused.clear();
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

/// Registers a Jingle request of ours to participant `p` (its answer is
/// only logged) and returns the IQ id to write it with.
fn jingle_request_id(ctx: &mut Ctx<'_>, conf: ConfInfo<'_>, p: &Participant) -> String {
    ctx.tracker.register(
        ctx.now,
        crate::conn::ConnId::Client,
        &p.occupant_jid,
        ctx.cfg.reply_timeout,
        Pending::Media(conf.id, MediaOp::Jingle(p.nick.clone())),
    )
}

/// Ends `p`'s session `sid` with a `session-terminate` (protocol.md §5.9).
fn send_terminate(
    ctx: &mut Ctx<'_>,
    conf: ConfInfo<'_>,
    p: &Participant,
    sid: &str,
    reason: ReasonCondition,
    text: &str,
) {
    let id = jingle_request_id(ctx, conf, p);
    jingle::write_session_terminate(
        ctx.out,
        &id,
        None,
        &p.occupant_jid,
        sid,
        reason,
        Some(text),
        None,
    );
}

fn bad(text: &str) -> StanzaError {
    StanzaError::new(Condition::BadRequest).with_text(text.to_string())
}
