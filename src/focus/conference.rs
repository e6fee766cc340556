//! One conference: one MUC room the focus sits in as owner.
//!
//! ```text
//!  Joining --self-presence, owner--> Idle | WaitingForSecond | Active
//!  Idle --participant joins--> WaitingForSecond --2nd joins--> Active
//!  Idle --idle timeout--> Stopped
//!  Active --down to one--> SingleParticipant --timeout--> WaitingForSecond
//!  SingleParticipant --another joins--> Active
//!  any in room --last participant leaves | room destroyed | focus not owner | kicked--> Stopped
//!  any in room --client stream down--> Disconnected --stream back--> Joining
//!  (created while the client stream is down) Disconnected --stream back--> Joining
//!  Joining --join refused | no self-presence in time--> Stopped
//! ```
//!
//! Timers are data in the state (`deadline`s). The focus never destroys a
//! room: stopping means leaving it.
//!
//! Reconnects (documented behaviour): when the focus's client stream drops,
//! a conference that still had participants waits in `Disconnected`; when
//! the stream is back the focus joins the room again (re-creating it if the
//! server lost it) and rebuilds the occupant list from the presences the
//! room sends. Participants see the `focus` occupant leave (once the server
//! notices the dropped stream) and join again; if everybody left meanwhile,
//! the rejoined conference sits in `Idle` and stops after the idle timeout.
//! A conference that had nobody in it is forgotten at once.
//!
//! Owners (protocol.md §2.3): without an auth authority, the first member
//! in join order who is not a gateway becomes owner (an owner already in
//! the room, anywhere in the list, is adopted instead, as in CURRENT); with
//! one, every member whose real JID is bound to an auth session is made
//! owner. Grants use a `muc#admin`
//! IQ with the bare JID; failures are logged, never fatal, and roles are
//! never revoked.

use std::time::Instant;

use super::auth::AuthAuthority;
use super::bridge::{BridgeId, BridgeRegistry};
use super::codecs::CodecConfig;
use super::config::FocusConfig;
use super::features::CapsCache;
use super::iq_tracker::IqTracker;
use super::media::{ConfInfo, Media, MediaOp};
use crate::conn::ConnId;
use crate::stanza::jingle::{JingleRequest, ReasonCondition, StartMuted};
use crate::stanza::muc::{self, Affiliation, MucPresence, Occupant};
use crate::stanza::mute::MediaKind;
use crate::stanza::{Jid, PresenceType, StanzaError};
use crate::util::rng::Rng;
use crate::xml::El;

/// Handle of a conference: slot index plus generation, so a stale handle
/// (an IQ answer arriving after its conference ended) never reaches a
/// newer conference in the same slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConfId {
    /// Slot in the focus's conference table.
    pub idx: u32,
    /// Generation of the slot.
    pub generation: u32,
}

/// What an outgoing IQ was for; the tracker hands it back with the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    /// The room's configuration form.
    OwnerForm(ConfId),
    /// Our submitted room configuration.
    OwnerSubmit(ConfId),
    /// A `muc#admin` owner grant for the member with this nick.
    Grant(ConfId, Box<str>),
    /// A mute notification to a participant.
    MuteNotice(ConfId),
    /// Media: disco, Colibri and Jingle requests of a conference.
    Media(ConfId, MediaOp),
    /// Bridge discovery and health checks, not tied to a conference.
    Bridge(BridgeOp),
}

/// A focus-wide bridge IQ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BridgeOp {
    /// disco#items to the XMPP domain (SEED discovery), in round `n`.
    DiscoItems(u64),
    /// disco#info to one item of round `n`.
    DiscoInfo(u64, Box<str>),
    /// A `<healthcheck/>` to a bridge.
    Health(BridgeId),
}

impl Pending {
    /// The conference this IQ belongs to, if any.
    pub fn conference(&self) -> Option<ConfId> {
        match self {
            Pending::OwnerForm(c)
            | Pending::OwnerSubmit(c)
            | Pending::Grant(c, _)
            | Pending::MuteNotice(c)
            | Pending::Media(c, _) => Some(*c),
            Pending::Bridge(_) => None,
        }
    }
}

/// Where a conference stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// The MUC join is sent; waiting for our self-presence.
    Joining {
        /// Give up (and stop) at this time.
        deadline: Instant,
    },
    /// In the room, no participant: stop at `deadline` unless one joins.
    Idle {
        /// The idle timeout.
        deadline: Instant,
    },
    /// One participant: media waits for a second one.
    WaitingForSecond,
    /// Two or more participants: media is set up.
    Active,
    /// Was active, down to one participant: its media ends at `deadline`.
    SingleParticipant {
        /// The single-participant timeout.
        deadline: Instant,
    },
    /// The client stream is down; join again when it is back.
    Disconnected,
    /// Over: the room was left. The focus removes it.
    Stopped,
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            State::Joining { .. } => "Joining",
            State::Idle { .. } => "Idle",
            State::WaitingForSecond => "WaitingForSecond",
            State::Active => "Active",
            State::SingleParticipant { .. } => "SingleParticipant",
            State::Disconnected => "Disconnected",
            State::Stopped => "Stopped",
        }
    }

    /// True while the focus is in the room.
    pub fn in_room(&self) -> bool {
        matches!(
            self,
            State::Idle { .. }
                | State::WaitingForSecond
                | State::Active
                | State::SingleParticipant { .. }
        )
    }
}

/// A conference request waiting for the focus to be in the room and to
/// have configured it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingRequest {
    /// The stream it came on (the answer goes back on it).
    pub conn: ConnId,
    /// The request's id.
    pub id: Box<str>,
    /// Where the answer goes (the request's `from`, as received).
    pub to: Box<str>,
    /// Our address for the answer on the component stream.
    pub from: Option<Box<str>>,
    /// Auth session to put in the answer: `(session-id, identity)`.
    pub session: Option<(Box<str>, Box<str>)>,
}

/// Shared context a conference works in: the clock, where to write, the IQ
/// tracker and settings. Built by the focus for each call.
pub struct Ctx<'a> {
    /// Now.
    pub now: Instant,
    /// Settings.
    pub cfg: &'a FocusConfig,
    /// The client stream's output.
    pub out: &'a mut Vec<u8>,
    /// Outgoing IQs.
    pub tracker: &'a mut IqTracker<Pending>,
    /// Randomness (meeting ids).
    pub rng: &'a mut Rng,
    /// The auth authority, when one is configured.
    pub auth: Option<&'a AuthAuthority>,
    /// Known bridges.
    pub registry: &'a mut BridgeRegistry,
    /// Features per caps `ver`.
    pub caps: &'a mut CapsCache,
    /// Codecs to offer.
    pub codecs: &'a CodecConfig,
    /// Our full JID on the client stream (the Jingle initiator).
    pub our_jid: &'a str,
}

impl Ctx<'_> {
    fn send_iq(&mut self, to: &str, pending: Pending, write: impl FnOnce(&mut Vec<u8>, &str)) {
        let out = &mut *self.out;
        self.tracker.register_with(
            self.now,
            ConnId::Client,
            to,
            self.cfg.reply_timeout,
            pending,
            |id| write(out, id),
        );
    }
}

/// Why a conference stopped, for the log and the waiting requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// Nobody joined within the idle timeout.
    IdleTimeout,
    /// The last participant left.
    LastParticipantLeft,
    /// The room was destroyed.
    RoomDestroyed,
    /// The focus is not (or no longer) owner.
    NotOwner,
    /// The focus was kicked or removed from the room.
    Kicked,
    /// The MUC refused the focus's join.
    JoinRefused(String),
    /// No self-presence within the reply timeout.
    JoinTimeout,
    /// The client stream went down and nobody was in the room.
    Disconnected,
    /// The focus is shutting down.
    Shutdown,
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::IdleTimeout => f.write_str("nobody joined within the idle timeout"),
            StopReason::LastParticipantLeft => f.write_str("the last participant left"),
            StopReason::RoomDestroyed => f.write_str("the room was destroyed"),
            StopReason::NotOwner => f.write_str("the focus is not owner of the room"),
            StopReason::Kicked => f.write_str("the focus was removed from the room"),
            StopReason::JoinRefused(c) => write!(f, "the MUC refused the focus's join ({c})"),
            StopReason::JoinTimeout => f.write_str("the MUC did not answer the focus's join"),
            StopReason::Disconnected => {
                f.write_str("the client stream went down with nobody in the room")
            }
            StopReason::Shutdown => f.write_str("the focus is shutting down"),
        }
    }
}

/// One conference.
#[derive(Debug)]
pub struct Conference {
    id: ConfId,
    room: Jid,
    /// `room@muc/<our nick>`.
    me: Box<str>,
    state: State,
    /// Occupants other than the focus, in join order.
    members: Vec<Occupant>,
    /// Nick of the member granted (or adopted as) owner by auto-owner.
    owner: Option<Box<str>>,
    /// Nicks already granted owner (so repeated elections do not repeat grants).
    granted: Vec<Box<str>>,
    /// Conference requests to answer once we are in the room and it is configured.
    waiting: Vec<WaitingRequest>,
    /// Our room configuration (`whois=anyone`) was answered, or failed:
    /// only then are requests answered `ready`. A participant that joined
    /// before it would not see the focus's real JID (rooms default to
    /// `whois=moderators`, and Prosody does not re-send presences when the
    /// setting changes), so its client would not recognise the focus.
    configured: bool,
    /// Answers ready to be written by the focus.
    answers: Vec<(WaitingRequest, Result<(), StanzaError>)>,
    /// Meeting id (room config `muc#roominfo_meetingId`, else random).
    meeting_id: Option<Box<str>>,
    /// Why it stopped.
    stopped: Option<StopReason>,
    /// Bridge sessions and participants' Jingle sessions.
    media: Media,
    /// Start-muted flags set by a moderator's `<startmuted/>` presence
    /// (protocol.md §2.6, §2.8, SEED: "everyone after me starts muted"),
    /// sent in the `session-initiate` of members who joined after them.
    start_muted: Option<StartMuted>,
    /// Members present when the flags were set: they do not start muted.
    start_muted_exempt: Vec<Box<str>>,
    /// `<bridgeNotAvailable/>` is in our published presence.
    no_bridge_published: bool,
}

/// The conference properties the focus publishes in its room presence
/// (protocol.md §2.2): clients may end a failed session with
/// `<bridge-session restart='true'/>` to be invited again (§5.9).
pub const CONFERENCE_PROPERTIES: &[(&str, &str)] = &[("support-terminate-restart", "true")];

/// Most conference requests kept waiting for one join; more are refused so
/// a flood of requests for a slow room cannot grow memory without bound.
pub const MAX_WAITING: usize = 64;

impl Conference {
    /// A conference for `room` that joins it now.
    pub fn start(id: ConfId, room: Jid, ctx: &mut Ctx<'_>) -> Conference {
        let mut c = Conference::new(id, room, ctx.cfg, State::Stopped);
        c.join(ctx);
        c
    }

    /// A conference for `room` asked for while the client stream is down:
    /// it waits in `Disconnected` (its requests with it) and joins when
    /// the stream is back ([`Conference::on_client_online`]). A join
    /// written now would be dropped with the dead stream.
    pub fn awaiting_client(id: ConfId, room: Jid, cfg: &FocusConfig) -> Conference {
        log::info!("conference {room}: the client stream is down; joining once it is back");
        Conference::new(id, room, cfg, State::Disconnected)
    }

    fn new(id: ConfId, room: Jid, cfg: &FocusConfig, state: State) -> Conference {
        let me = format!("{}/{}", room.bare(), cfg.nick).into_boxed_str();
        Conference {
            id,
            room,
            me,
            state,
            members: Vec::new(),
            owner: None,
            granted: Vec::new(),
            waiting: Vec::new(),
            configured: false,
            answers: Vec::new(),
            meeting_id: None,
            stopped: None,
            media: Media::new(&cfg.sources),
            start_muted: None,
            start_muted_exempt: Vec::new(),
            no_bridge_published: false,
        }
    }

    /// The room's bare JID.
    pub fn room(&self) -> &Jid {
        &self.room
    }

    /// The handle.
    pub fn id(&self) -> ConfId {
        self.id
    }

    /// The state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Occupants other than the focus, in join order.
    pub fn members(&self) -> &[Occupant] {
        &self.members
    }

    /// The meeting id, once known.
    pub fn meeting_id(&self) -> Option<&str> {
        self.meeting_id.as_deref()
    }

    /// Why the conference stopped, once it has.
    pub fn stop_reason(&self) -> Option<&StopReason> {
        self.stopped.as_ref()
    }

    /// True once stopped: the focus removes it.
    pub fn is_stopped(&self) -> bool {
        self.state == State::Stopped
    }

    fn set_state(&mut self, new: State) {
        if std::mem::discriminant(&self.state) != std::mem::discriminant(&new) {
            log::debug!(
                "conference {}: {} => {}",
                self.room,
                self.state.name(),
                new.name()
            );
        }
        self.state = new;
    }

    fn join(&mut self, ctx: &mut Ctx<'_>) {
        self.members.clear();
        self.owner = None;
        self.granted.clear();
        self.configured = false;
        self.no_bridge_published = false;
        let version = ctx.cfg.version;
        // `support-terminate-restart`: clients send `session-terminate`
        // with `restart='true'` only to a focus that says it handles it
        // (protocol.md §2.2, §5.9).
        muc::write_join(ctx.out, &self.me, |w| {
            muc::write_focus_extensions(w, None, version, CONFERENCE_PROPERTIES)
        });
        self.set_state(State::Joining {
            deadline: ctx.now + ctx.cfg.reply_timeout,
        });
    }

    /// A conference request for this room: answered now when the focus is
    /// in the room and has configured it, else once it has. Re-arms the
    /// idle timeout (CURRENT behaviour: every request for the room counts
    /// as activity).
    pub fn request(&mut self, ctx: &mut Ctx<'_>, req: WaitingRequest) {
        if let State::Idle { .. } = self.state {
            self.set_state(State::Idle {
                deadline: ctx.now + ctx.cfg.idle_timeout,
            });
        }
        let can_wait = self.state.in_room()
            || matches!(self.state, State::Joining { .. } | State::Disconnected);
        if self.state.in_room() && self.configured {
            self.answers.push((req, Ok(())));
        } else if can_wait && self.waiting.len() < MAX_WAITING {
            self.waiting.push(req);
        } else if can_wait {
            let err = StanzaError::new(crate::stanza::Condition::ResourceConstraint)
                .with_text("too many requests waiting for this room");
            self.answers.push((req, Err(err)));
        } else {
            let err = StanzaError::new(crate::stanza::Condition::InternalServerError)
                .with_text("the conference has ended");
            self.answers.push((req, Err(err)));
        }
    }

    /// Answers for the focus to write: `Ok` means `ready='true'`.
    pub fn take_answers(&mut self) -> Vec<(WaitingRequest, Result<(), StanzaError>)> {
        std::mem::take(&mut self.answers)
    }

    /// True when answers are waiting to be written.
    pub fn has_answers(&self) -> bool {
        !self.answers.is_empty()
    }

    /// A presence from the room.
    pub fn on_presence(&mut self, ctx: &mut Ctx<'_>, p: &MucPresence<'_>) {
        if self.state == State::Stopped || self.state == State::Disconnected {
            return;
        }
        let Some(nick) = p.nick.as_deref() else {
            // The room's own presence (ejabberd sends one on join): not an occupant.
            return;
        };
        if nick == ctx.cfg.nick || p.is_self() {
            self.on_self_presence(ctx, p);
        } else {
            self.on_member_presence(ctx, nick, p);
        }
    }

    fn on_self_presence(&mut self, ctx: &mut Ctx<'_>, p: &MucPresence<'_>) {
        match p.ty {
            PresenceType::Error => {
                let cond = p
                    .error
                    .as_ref()
                    .map(|e| e.condition.name())
                    .unwrap_or("unknown error");
                if matches!(self.state, State::Joining { .. }) {
                    log::error!(
                        "conference {}: the MUC refused the focus's join ({cond}); the focus user {} must be \
                         allowed to create rooms: make it an admin of the MUC component \
                         (admins = {{ \"{}\" }} in the server's config)",
                        self.room,
                        ctx.cfg.focus_bare_jid,
                        ctx.cfg.focus_bare_jid
                    );
                    self.stop(ctx, StopReason::JoinRefused(cond.to_string()));
                }
            }
            PresenceType::Unavailable if matches!(self.state, State::Joining { .. }) => {
                // We are not in the room yet, so this cannot be about this
                // join: it is the MUC's answer to the leave of an earlier
                // conference of this room, sent on the same stream before
                // our join (the last participant left and someone asked for
                // the room again at once). The self-presence follows.
                log::debug!(
                    "conference {}: ignoring the unavailable self-presence of an earlier leave",
                    self.room
                );
            }
            PresenceType::Unavailable => {
                let reason = if p.room_destroyed().is_some() {
                    StopReason::RoomDestroyed
                } else {
                    StopReason::Kicked
                };
                log::info!("conference {}: {reason}", self.room);
                // We are already out of the room: nothing to leave, but the
                // bridge still holds what we allocated.
                self.media.stop(ctx);
                self.finish(reason);
            }
            _ => {
                let affiliation = p
                    .item
                    .as_ref()
                    .map(|i| i.affiliation)
                    .unwrap_or(Affiliation::None);
                if affiliation != Affiliation::Owner {
                    log::error!(
                        "conference {}: the focus is {} in the room, not owner: make {} an admin of the MUC \
                         component (admins = {{ \"{}\" }} in the server's config); stopping the conference",
                        self.room,
                        affiliation.name(),
                        ctx.cfg.focus_bare_jid,
                        ctx.cfg.focus_bare_jid
                    );
                    self.stop(ctx, StopReason::NotOwner);
                    return;
                }
                if let State::Joining { .. } = self.state {
                    self.joined(ctx);
                }
            }
        }
    }

    /// Our self-presence as owner: configure the room (waiting requests are
    /// answered once that is done), settle the state from who is already
    /// there, elect an owner.
    fn joined(&mut self, ctx: &mut Ctx<'_>) {
        log::info!(
            "conference {}: joined as {} with {} participant(s) present",
            self.room,
            ctx.cfg.nick,
            self.members.len()
        );
        let room = self.room.bare();
        ctx.send_iq(room, Pending::OwnerForm(self.id), |out, id| {
            muc::write_owner_form_request(out, id, room)
        });
        let next = match self.members.len() {
            0 => State::Idle {
                deadline: ctx.now + ctx.cfg.idle_timeout,
            },
            1 => State::WaitingForSecond,
            _ => State::Active,
        };
        self.set_state(next);
        self.elect_owner(ctx);
        self.sync_media(ctx);
    }

    fn on_member_presence(&mut self, ctx: &mut Ctx<'_>, nick: &str, p: &MucPresence<'_>) {
        let idx = self.members.iter().position(|m| m.nick() == nick);
        match (p.ty, idx) {
            (PresenceType::Available, Some(i)) => {
                if let Some(changes) = self.members[i].update(p)
                    && changes.role
                {
                    log::debug!(
                        "conference {}: {nick} is now {}",
                        self.room,
                        self.members[i].member_role().name()
                    );
                }
                self.read_start_muted(nick);
            }
            (PresenceType::Available, None) => {
                let Some(o) = Occupant::from_presence(p) else {
                    return;
                };
                log::info!(
                    "conference {}: {nick} joined ({}){}",
                    self.room,
                    o.real_jid
                        .as_ref()
                        .map(|j| j.as_str())
                        .unwrap_or("real JID hidden"),
                    if self.state.in_room() {
                        ""
                    } else {
                        " before the focus"
                    }
                );
                push_small(&mut self.members, o);
                self.read_start_muted(nick);
                if self.state.in_room() {
                    self.member_joined(ctx);
                }
            }
            (PresenceType::Unavailable, Some(i)) => {
                let left = self.members.remove(i);
                let how = if p.was_kicked() { "was kicked" } else { "left" };
                log::info!("conference {}: {nick} {how}", self.room);
                if self.owner.as_deref() == Some(left.nick()) {
                    self.owner = None;
                }
                self.granted.retain(|g| **g != *left.nick());
                if self.state.in_room() {
                    let info = conf_info(self.id, &self.room, &mut self.meeting_id, ctx.rng);
                    self.media.member_left(ctx, info, left.nick());
                    self.member_left(ctx);
                }
            }
            _ => {}
        }
    }

    /// A moderator's `<startmuted audio video/>` sets the flags for
    /// everyone who joins after now.
    fn read_start_muted(&mut self, nick: &str) {
        let Some(m) = self.members.iter().find(|m| m.nick() == nick) else {
            return;
        };
        let Some((audio, video)) = m.start_muted else {
            return;
        };
        if !m.member_role().has_moderator_rights() {
            return;
        }
        let flags = (audio || video).then_some(StartMuted { audio, video });
        if flags == self.start_muted {
            return;
        }
        log::info!(
            "conference {}: {nick} set start muted: audio {audio}, video {video}",
            self.room
        );
        self.start_muted = flags;
        self.start_muted_exempt = self.members.iter().map(|m| m.nick().into()).collect();
    }

    fn member_joined(&mut self, ctx: &mut Ctx<'_>) {
        let n = self.members.len();
        match self.state {
            State::Idle { .. } => self.set_state(State::WaitingForSecond),
            State::WaitingForSecond | State::SingleParticipant { .. } if n >= 2 => {
                self.set_state(State::Active)
            }
            _ => {}
        }
        self.elect_owner(ctx);
        self.sync_media(ctx);
    }

    fn member_left(&mut self, ctx: &mut Ctx<'_>) {
        match self.members.len() {
            0 => self.stop(ctx, StopReason::LastParticipantLeft),
            1 if matches!(self.state, State::Active) => {
                let deadline = ctx.now + ctx.cfg.single_participant_timeout;
                self.set_state(State::SingleParticipant { deadline });
                self.elect_owner(ctx);
            }
            _ => self.elect_owner(ctx),
        }
    }

    /// Grants owner per §2.3: to authenticated members when an auth
    /// authority is configured, else to the first non-gateway member.
    fn elect_owner(&mut self, ctx: &mut Ctx<'_>) {
        if !self.state.in_room() {
            return;
        }
        if let Some(auth) = ctx.auth {
            for m in &self.members {
                if m.affiliation == Affiliation::Owner {
                    continue;
                }
                let Some(jid) = m
                    .real_jid
                    .as_ref()
                    .filter(|j| auth.is_authenticated(j).is_some())
                else {
                    continue;
                };
                Self::grant(
                    &mut self.granted,
                    &self.room,
                    self.id,
                    ctx,
                    m.nick(),
                    jid.bare(),
                );
            }
            return;
        }
        if !ctx.cfg.enable_auto_owner || self.owner.is_some() {
            return;
        }
        let trusted = &ctx.cfg.trusted_domains;
        let eligible = |m: &&Occupant| {
            !m.is_jigasi(trusted) && !m.is_jibri(trusted) && !m.is_transcriber(trusted)
        };
        // An owner already in the room is adopted wherever it is in the
        // list (as CURRENT does; SEED only looked at the first member): the
        // occupants present when the focus (re)joins come in the server's
        // order, not in join order, so "the first one" is arbitrary then.
        let candidate = self
            .members
            .iter()
            .filter(eligible)
            .find(|m| m.affiliation == Affiliation::Owner)
            .or_else(|| self.members.iter().find(eligible));
        let Some(m) = candidate else { return };
        let nick: Box<str> = m.nick().into();
        if m.affiliation == Affiliation::Owner {
            log::debug!("conference {}: {nick} is already owner", self.room);
            self.owner = Some(nick);
            return;
        }
        let Some(real_jid) = m.real_jid.as_ref() else {
            log::warn!(
                "conference {}: cannot make {nick} owner: the room hides its real JID",
                self.room
            );
            return;
        };
        // Borrow the JID from the member list while granting: only
        // `owner` and `granted` change meanwhile.
        Self::grant(
            &mut self.granted,
            &self.room,
            self.id,
            ctx,
            &nick,
            real_jid.bare(),
        );
        self.owner = Some(nick);
    }

    /// Sends a `muc#admin` owner grant for `nick` unless one was sent.
    fn grant(
        granted: &mut Vec<Box<str>>,
        room: &Jid,
        id: ConfId,
        ctx: &mut Ctx<'_>,
        nick: &str,
        bare_jid: &str,
    ) {
        if granted.iter().any(|g| **g == *nick) {
            return;
        }
        push_small(granted, nick.into());
        log::info!("conference {room}: granting owner to {nick} ({bare_jid})");
        let room = room.bare();
        ctx.send_iq(room, Pending::Grant(id, nick.into()), |out, id| {
            muc::write_grant(out, id, room, bare_jid, Affiliation::Owner)
        });
    }

    /// A real JID just got bound to an auth session: make it owner if it is here.
    pub fn on_authenticated(&mut self, ctx: &mut Ctx<'_>) {
        self.elect_owner(ctx);
    }

    /// The answer to one of this conference's IQs (`Err` for an error or a timeout).
    pub fn on_iq_answer(
        &mut self,
        ctx: &mut Ctx<'_>,
        pending: Pending,
        answer: Result<Option<El<'_>>, StanzaError>,
    ) {
        match (pending, answer) {
            (Pending::OwnerForm(_), Ok(payload)) => {
                if let Some(id) =
                    payload.and_then(|p| muc::owner_form_value(p, "muc#roominfo_meetingId"))
                {
                    self.meeting_id = Some(id.into());
                }
                let room = self.room.bare();
                ctx.send_iq(room, Pending::OwnerSubmit(self.id), |out, id| {
                    muc::write_owner_form_submit(
                        out,
                        id,
                        room,
                        &[("muc#roomconfig_whois", "anyone")],
                    )
                });
            }
            (Pending::OwnerForm(_) | Pending::OwnerSubmit(_), Err(e)) => {
                log::warn!(
                    "conference {}: room configuration failed ({e}); participants may not see the focus's real JID",
                    self.room
                );
                self.configuration_done(ctx);
            }
            (Pending::OwnerSubmit(_), Ok(_)) => {
                log::debug!("conference {}: room configured (whois=anyone)", self.room);
                self.configuration_done(ctx);
            }
            (Pending::Grant(_, nick), Ok(_)) => {
                log::debug!("conference {}: {nick} is owner", self.room)
            }
            (Pending::Grant(_, nick), Err(e)) => log::warn!(
                "conference {}: failed to grant owner to {nick}: {e}",
                self.room
            ),
            (Pending::MuteNotice(_), Err(e)) => {
                log::debug!("conference {}: mute notification failed: {e}", self.room)
            }
            (Pending::MuteNotice(_), Ok(_)) => {}
            (Pending::Media(_, op), answer) => {
                let caps_ver = match &op {
                    MediaOp::Disco(nick) => self
                        .member(nick)
                        .and_then(|m| m.caps.as_ref())
                        .map(|c| c.ver().to_string()),
                    _ => None,
                };
                let info = conf_info(self.id, &self.room, &mut self.meeting_id, ctx.rng);
                self.media
                    .on_answer(ctx, info, op, caps_ver.as_deref(), answer);
            }
            (Pending::Bridge(_), _) => {}
        }
        if self.meeting_id.is_none() && self.state.in_room() {
            self.meeting_id = Some(uuid(ctx.rng).into());
        }
    }

    /// The room configuration is over (done or failed): answer the
    /// requests that waited for it.
    fn configuration_done(&mut self, ctx: &mut Ctx<'_>) {
        if !self.state.in_room() {
            return;
        }
        self.configured = true;
        for w in self.waiting.drain(..) {
            self.answers.push((w, Ok(())));
        }
        self.sync_media(ctx);
    }

    /// With two participants or more (and the room configured), every
    /// member is invited (protocol.md §2.4: all at first, then each new one).
    fn sync_media(&mut self, ctx: &mut Ctx<'_>) {
        if !self.configured
            || !matches!(self.state, State::Active | State::SingleParticipant { .. })
        {
            return;
        }
        let info = conf_info(self.id, &self.room, &mut self.meeting_id, ctx.rng);
        for m in &self.members {
            if self.media.participant(m.nick()).is_none() {
                let exempt = self.start_muted_exempt.iter().any(|n| **n == *m.nick());
                let start_muted = self.start_muted.filter(|_| !exempt);
                self.media.invite(ctx, info, m, start_muted);
            }
        }
    }

    /// Publishes `<bridgeNotAvailable/>` in the focus's room presence
    /// while a participant waits for a bridge, and takes it out once none
    /// does (protocol.md §2.2, CURRENT). Called after every event.
    pub fn sync_presence(&mut self, out: &mut Vec<u8>, version: &str) {
        if !self.state.in_room() {
            return;
        }
        let waiting = self.media.waiting_for_bridge();
        if waiting == self.no_bridge_published {
            return;
        }
        self.no_bridge_published = waiting;
        if waiting {
            log::warn!(
                "conference {}: no bridge available; told the room",
                self.room
            );
        } else {
            log::info!("conference {}: a bridge is available again", self.room);
        }
        muc::write_presence_update(out, &self.me, |w| {
            muc::write_focus_extensions(w, None, version, CONFERENCE_PROPERTIES);
            if waiting {
                muc::write_bridge_not_available(w);
            }
        });
    }

    /// A mute IQ from `nick`'s moderator (or itself) succeeded: the bridge
    /// is told too (protocol.md §2.8).
    pub fn force_mute(&mut self, ctx: &mut Ctx<'_>, nick: &str, kind: MediaKind, mute: bool) {
        self.media.force_mute(ctx, nick, kind, mute);
    }

    /// The media state (bridge sessions, participants' Jingle sessions).
    pub fn media(&self) -> &Media {
        &self.media
    }

    /// A Jingle request from the occupant `nick`.
    pub fn on_jingle(
        &mut self,
        ctx: &mut Ctx<'_>,
        nick: &str,
        req: &JingleRequest<'_>,
    ) -> Result<(), StanzaError> {
        let info = conf_info(self.id, &self.room, &mut self.meeting_id, ctx.rng);
        self.media.on_jingle(ctx, info, nick, req, &self.members)
    }

    /// Sends every participant whose session is accepted the source
    /// updates queued for it (protocol.md §5.5). The focus calls this after
    /// answering whatever caused them.
    ///
    /// With `source-signaling-delays` configured for the conference's size,
    /// updates wait that long after the first queued change (merging in
    /// the queue meanwhile); a participant that just accepted gets its
    /// queue at once, as in Jicofo.
    pub fn flush_sources(&mut self, ctx: &mut Ctx<'_>) {
        if !self.media.has_signaling() {
            // Whoever it was due for left or was re-invited meanwhile.
            self.media.signaling_idle();
            return;
        }
        let delay = ctx.cfg.sources.signaling_delay(self.members.len());
        let due = self.media.signaling_due(ctx.now, delay) <= ctx.now;
        let info = conf_info(self.id, &self.room, &mut self.meeting_id, ctx.rng);
        self.media.flush_signaling(ctx, info, due);
    }

    /// A bridge failed or left: participants on it move to another one.
    pub fn bridge_gone(&mut self, ctx: &mut Ctx<'_>, bridge: &BridgeId) {
        let info = conf_info(self.id, &self.room, &mut self.meeting_id, ctx.rng);
        self.media.bridge_gone(ctx, info, bridge);
    }

    /// A bridge became usable: invites waiting for one go on.
    pub fn bridge_available(&mut self, ctx: &mut Ctx<'_>) {
        if self.media.waiting_for_bridge() {
            let info = conf_info(self.id, &self.room, &mut self.meeting_id, ctx.rng);
            self.media.bridge_available(ctx, info);
        }
    }

    /// When [`Conference::handle_timeout`] must run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let state = match self.state {
            State::Joining { deadline }
            | State::Idle { deadline }
            | State::SingleParticipant { deadline } => Some(deadline),
            _ => None,
        };
        // A delayed source flush happens in the focus's settle step after
        // the timeout call, like every other flush.
        match (state, self.media.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Advances the conference's timers.
    pub fn handle_timeout(&mut self, ctx: &mut Ctx<'_>) {
        match self.state {
            State::Joining { deadline } if ctx.now >= deadline => {
                log::error!(
                    "conference {}: no answer to the focus's room join within {:?}",
                    self.room,
                    ctx.cfg.reply_timeout
                );
                self.stop(ctx, StopReason::JoinTimeout);
            }
            State::Idle { deadline } if ctx.now >= deadline => {
                self.stop(ctx, StopReason::IdleTimeout)
            }
            State::SingleParticipant { deadline } if ctx.now >= deadline => {
                log::info!(
                    "conference {}: single participant for {:?}: its media session ends",
                    self.room,
                    ctx.cfg.single_participant_timeout
                );
                let info = conf_info(self.id, &self.room, &mut self.meeting_id, ctx.rng);
                self.media
                    .end_all(ctx, info, ReasonCondition::Expired, "Idle session timeout");
                self.set_state(State::WaitingForSecond);
            }
            _ => {}
        }
    }

    /// The client stream went down: wait to rejoin if anyone was here.
    pub fn on_client_offline(&mut self, _now: Instant) {
        if self.state == State::Stopped {
            return;
        }
        if self.members.is_empty() && self.waiting.is_empty() {
            self.finish(StopReason::Disconnected);
            return;
        }
        self.members.clear();
        self.owner = None;
        // Nothing can be sent now; the bridge expires what it has on its own.
        self.media.forget();
        self.set_state(State::Disconnected);
    }

    /// The client stream is back: join the room again.
    pub fn on_client_online(&mut self, ctx: &mut Ctx<'_>) {
        if self.state == State::Disconnected {
            log::info!(
                "conference {}: client stream is back, rejoining the room",
                self.room
            );
            self.join(ctx);
        }
    }

    /// Stops: leaves the room (never destroys it) and fails waiting requests.
    pub fn stop(&mut self, ctx: &mut Ctx<'_>, reason: StopReason) {
        if self.state == State::Stopped {
            return;
        }
        if !matches!(self.state, State::Disconnected) {
            self.media.stop(ctx);
            muc::write_leave(ctx.out, &self.me);
        }
        log::info!("conference {}: stopped: {reason}", self.room);
        self.finish(reason);
    }

    fn finish(&mut self, reason: StopReason) {
        if !self.waiting.is_empty() {
            let text = reason.to_string();
            for w in self.waiting.drain(..) {
                let err = StanzaError::new(crate::stanza::Condition::InternalServerError)
                    .with_text(text.clone());
                self.answers.push((w, Err(err)));
            }
        }
        self.members.clear();
        self.stopped = Some(reason);
        self.set_state(State::Stopped);
    }

    /// The member with this nick.
    pub fn member(&self, nick: &str) -> Option<&Occupant> {
        self.members.iter().find(|m| m.nick() == nick)
    }
}

/// Pushes onto a list that is usually short (the members of a conference,
/// the grants it sent): grows one element at a time up to four, where a
/// plain push would reserve four at once (a 176-byte snapshot each for the
/// members of a one-person conference), then as a `Vec` grows.
fn push_small<T>(v: &mut Vec<T>, x: T) {
    if v.len() == v.capacity() && v.len() < 4 {
        v.reserve_exact(1);
    }
    v.push(x);
}

/// What the media layer needs to know of its conference; the meeting id
/// (Colibri2 `meeting-id`) is the room's, else a random UUID made now.
fn conf_info<'c>(
    id: ConfId,
    room: &'c Jid,
    meeting_id: &'c mut Option<Box<str>>,
    rng: &mut Rng,
) -> ConfInfo<'c> {
    let mid = meeting_id.get_or_insert_with(|| uuid(rng).into());
    ConfInfo {
        id,
        room: room.bare(),
        meeting_id: mid,
    }
}

/// A random RFC 4122 version-4 UUID (the meeting id when the room has none).
pub fn uuid(rng: &mut Rng) -> String {
    let mut b = [0u8; 16];
    rng.fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push(char::from_digit((byte >> 4) as u32, 16).unwrap_or('0'));
        s.push(char::from_digit((byte & 0xf) as u32, 16).unwrap_or('0'));
    }
    s
}
