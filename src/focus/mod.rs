//! The application core: what the focus does with the stanzas its two
//! streams deliver. Pure: `now` comes in, serialised stanzas go out through
//! per-stream output buffers the core moves onto the streams.
//!
//! [`Focus`] routes by room (as quinn's endpoint routes by connection):
//! conference requests (on the component, and on the client JID where
//! Prosody's `client_proxy` forwards them) create or find a [`Conference`];
//! room presences and IQs from occupants go to the conference of their room;
//! answers to the focus's own IQs go back, through the [`IqTracker`], to the
//! conference that asked. Component-wide IQs (disco, ping, Colibri stats,
//! graceful shutdown, login-url, logout) are answered here.
//!
//! Conference request processing follows protocol.md §1.3 (SEED order) with
//! the CURRENT answer timing: the answer is sent once the focus is in the
//! room and has configured it (`whois=anyone`, as SEED's synchronous room
//! creation did), so `ready` is always `true` (or the request fails with an
//! error); SEED's "force ready for a password-holding focus" is therefore moot.

pub mod auth;
pub mod bridge;
mod bridges;
pub mod codecs;
pub mod colibri;
pub mod conference;
pub mod config;
pub mod features;
pub mod iq_tracker;
pub mod media;
pub mod rate_limit;
pub mod sources;

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::Instant;

use crate::conn::ConnId;
use crate::stanza::disco::{self, Identity};
use crate::stanza::focus::{self as focus_iq, ConferenceRequest, ConferenceResponse};
use crate::stanza::iq::{self, Iq};
use crate::stanza::muc::MucPresence;
use crate::stanza::mute::{self as mute_iq, MuteRequest};
use crate::stanza::{Condition, Jid, Presence, StanzaError, ping};
use crate::util::rng::Rng;
use crate::xml::{El, XmlWriter, ns};

pub use auth::{AuthAuthority, AuthConfig};
use bridge::BridgeRegistry;
pub use bridges::MediaConfig;
use codecs::CodecConfig;
pub use conference::{ConfId, Conference, Ctx, Pending, State, StopReason, WaitingRequest};
pub use config::{FocusConfig, ReinviteMethod};
use features::CapsCache;
pub use iq_tracker::IqTracker;

/// Our identity on disco#info, as Jicofo's component named itself.
const IDENTITY: Identity<'static> = Identity {
    category: "component",
    kind: "generic",
    name: Some("Jitsi Meet Focus"),
};
/// Features of the component and of the client JID (current deployments
/// send conference requests to the latter through `client_proxy`).
const FEATURES: &[&str] = &[ns::DISCO_INFO, ns::PING, ns::FOCUS];

/// What the focus tells the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FocusEvent {
    /// Graceful shutdown was requested and the last conference ended.
    ShutdownComplete,
}

/// A slot of the conference table.
#[derive(Debug, Default)]
struct Slot {
    generation: u32,
    conf: Option<Conference>,
    /// The conference's deadline as entered in [`Focus::timers`].
    armed: Option<Instant>,
}

/// Everything a conference needs besides itself; kept apart from the
/// conference table so both can be borrowed at once.
#[derive(Debug)]
struct Shared {
    cfg: FocusConfig,
    out: [Vec<u8>; 2],
    tracker: IqTracker<Pending>,
    rng: Rng,
    auth: Option<AuthAuthority>,
    registry: BridgeRegistry,
    caps: CapsCache,
    codecs: CodecConfig,
    /// Our full JID on the client stream, once online.
    our_jid: String,
}

impl Shared {
    fn ctx(&mut self, now: Instant) -> Ctx<'_> {
        Ctx {
            now,
            cfg: &self.cfg,
            out: &mut self.out[ConnId::Client as usize],
            tracker: &mut self.tracker,
            rng: &mut self.rng,
            auth: self.auth.as_ref(),
            registry: &mut self.registry,
            caps: &mut self.caps,
            codecs: &self.codecs,
            our_jid: &self.our_jid,
        }
    }
}

/// The focus.
#[derive(Debug)]
pub struct Focus {
    shared: Shared,
    slots: Vec<Slot>,
    free: Vec<u32>,
    by_room: HashMap<Jid, u32>,
    /// Conference deadlines by time, so that the timer calls the shell
    /// makes on every wake-up cost O(log n), not a scan of every
    /// conference. Kept in step with the conferences by [`Focus::settle`].
    timers: BTreeSet<(Instant, u32)>,
    online: [Option<String>; 2],
    graceful_shutdown: bool,
    events: VecDeque<FocusEvent>,
    /// Bridge discovery (disco rounds, brewery) and health checks.
    discovery: bridges::Discovery,
}

impl Focus {
    /// A focus with no conferences and no bridge discovery (simulations
    /// feed bridges in). `seed` seeds its random generator (auth session
    /// ids, meeting ids, IQ ids).
    pub fn new(cfg: FocusConfig, auth: Option<AuthConfig>, seed: [u8; 32]) -> Self {
        Focus::with_media(cfg, auth, MediaConfig::quiet(), seed)
    }

    /// A focus with bridge and codec settings.
    pub fn with_media(
        cfg: FocusConfig,
        auth: Option<AuthConfig>,
        media: MediaConfig,
        seed: [u8; 32],
    ) -> Self {
        let mut rng = Rng::from_seed(seed);
        let prefix = rng.token(6);
        let discovery = bridges::Discovery::new(&media.bridges);
        Focus {
            shared: Shared {
                cfg,
                out: [Vec::new(), Vec::new()],
                tracker: IqTracker::new(prefix),
                rng,
                auth: auth.map(AuthAuthority::new),
                registry: BridgeRegistry::new(media.bridges),
                caps: CapsCache::default(),
                codecs: media.codecs,
                our_jid: String::new(),
            },
            slots: Vec::new(),
            free: Vec::new(),
            by_room: HashMap::new(),
            timers: BTreeSet::new(),
            online: [None, None],
            graceful_shutdown: false,
            events: VecDeque::new(),
            discovery,
        }
    }

    /// The settings.
    pub fn config(&self) -> &FocusConfig {
        &self.shared.cfg
    }

    /// A random token (SCRAM nonces).
    pub fn token(&mut self, len: usize) -> String {
        self.shared.rng.token(len)
    }

    /// The conference of a room, if any.
    pub fn conference(&self, room: &str) -> Option<&Conference> {
        let idx = *self.by_room.get(room)?;
        self.slots[idx as usize].conf.as_ref()
    }

    /// Number of conferences.
    pub fn conference_count(&self) -> usize {
        self.by_room.len()
    }

    /// Number of participants over all conferences.
    pub fn participant_count(&self) -> usize {
        self.slots
            .iter()
            .filter_map(|s| s.conf.as_ref())
            .map(|c| c.members().len())
            .sum()
    }

    /// The auth authority, if configured.
    pub fn auth(&self) -> Option<&AuthAuthority> {
        self.shared.auth.as_ref()
    }

    /// True once a graceful shutdown was requested.
    pub fn in_graceful_shutdown(&self) -> bool {
        self.graceful_shutdown
    }

    /// An event for the core, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<FocusEvent> {
        self.events.pop_front()
    }

    /// A stanza arrived on `conn`.
    pub fn handle_stanza(&mut self, now: Instant, conn: ConnId, el: El<'_>) {
        log::trace!("{} <= {}", conn.name(), el.outer_xml());
        match el.name() {
            "iq" => match Iq::parse(el) {
                Ok(iq) if iq.is_request() => self.handle_request(now, conn, &iq),
                Ok(iq) => self.handle_answer(now, conn, &iq),
                Err(e) => self.bad_iq(conn, el, &e.to_string()),
            },
            "presence" if conn == ConnId::Client => self.handle_presence(now, el),
            _ => {}
        }
    }

    // ---------------------------------------------------------------- IQs

    /// An IQ get/set: RFC 6120 wants an answer to every one of them.
    fn handle_request(&mut self, now: Instant, conn: ConnId, iq: &Iq<'_>) {
        let from = self.reply_from(conn, iq);
        if ping::is_ping(iq) {
            ping::write_pong(&mut self.shared.out[conn as usize], iq, from.as_deref());
        } else if disco::is_info_query(iq) {
            disco::write_info_result(
                &mut self.shared.out[conn as usize],
                iq,
                from.as_deref(),
                &[IDENTITY],
                FEATURES,
            );
        } else if focus_iq::is_conference_request(iq) {
            self.handle_conference_request(now, conn, iq, from);
        } else if focus_iq::is_login_url_request(iq) {
            self.handle_login_url(conn, iq, from);
        } else if focus_iq::is_logout_request(iq) {
            self.handle_logout(conn, iq, from);
        } else if focus_iq::is_stats_request(iq) {
            let (c, p, g) = (
                self.conference_count(),
                self.participant_count(),
                self.graceful_shutdown,
            );
            iq::write_result(
                &mut self.shared.out[conn as usize],
                &iq.id,
                from.as_deref(),
                iq.from.as_deref(),
                |w| focus_iq::write_stats_result(w, c, p, g),
            );
        } else if let Some(req) = focus_iq::shutdown_request(iq) {
            self.handle_shutdown_request(conn, iq, req, from);
        } else if conn == ConnId::Client && MuteRequest::from_iq(iq).is_some() {
            self.handle_mute(now, iq);
        } else if conn == ConnId::Client
            && iq.ty == crate::stanza::IqType::Set
            && iq.payload_is("jingle", ns::JINGLE)
        {
            self.handle_jingle(now, iq);
        } else {
            let what = iq.payload.map(|p| p.name()).unwrap_or("an empty IQ");
            log::debug!(
                "{}: no handler for <{what}/> from {:?}",
                conn.name(),
                iq.from
            );
            self.reply_error(
                conn,
                iq,
                from,
                StanzaError::new(Condition::ServiceUnavailable),
            );
        }
    }

    fn reply_error(
        &mut self,
        conn: ConnId,
        iq: &Iq<'_>,
        from: Option<Cow<'_, str>>,
        err: StanzaError,
    ) {
        iq::write_error_reply(
            &mut self.shared.out[conn as usize],
            iq,
            from.as_deref(),
            &err,
        );
    }

    /// The `from` of our answers: on the component, the address the request
    /// was sent to (it must lie inside our domain); on c2s the server stamps it.
    fn reply_from<'i>(&self, conn: ConnId, iq: &'i Iq<'_>) -> Option<Cow<'i, str>> {
        match conn {
            ConnId::Component => Some(match iq.to.as_deref() {
                Some(to) => Cow::Borrowed(to),
                None => Cow::Owned(self.shared.cfg.component_jid.clone()),
            }),
            ConnId::Client => None,
        }
    }

    /// Who really sent a request: its `from`, or, for a request forwarded by
    /// the configured `client_proxy`, the JID the proxy put in the resource.
    fn sender(&self, iq: &Iq<'_>) -> Option<Jid> {
        let from = Jid::parse(iq.from.as_deref()?).ok()?;
        match (&self.shared.cfg.client_proxy, from.resource()) {
            (Some(proxy), Some(res)) if from.bare() == proxy => Jid::parse(res).ok(),
            _ => Some(from),
        }
    }

    /// A malformed IQ: answer `bad-request` when it was a request we can address.
    fn bad_iq(&mut self, conn: ConnId, el: El<'_>, why: &str) {
        log::debug!("{}: malformed IQ ({why}): {}", conn.name(), el.outer_xml());
        let (Some(id), Some(from)) = (el.attr("id"), el.attr("from")) else {
            return;
        };
        if !matches!(el.attr_raw("type"), Some("get" | "set")) {
            return;
        }
        let me = match conn {
            ConnId::Component => Some(
                el.attr("to")
                    .map(|t| t.into_owned())
                    .unwrap_or_else(|| self.shared.cfg.component_jid.clone()),
            ),
            ConnId::Client => None,
        };
        let err = StanzaError::new(Condition::BadRequest).with_text(why);
        iq::write_error(
            &mut self.shared.out[conn as usize],
            &id,
            me.as_deref(),
            Some(&from),
            &err,
        );
    }

    /// A result or error to one of our IQs.
    fn handle_answer(&mut self, now: Instant, conn: ConnId, iq: &Iq<'_>) {
        let pending = match self
            .shared
            .tracker
            .take_reply(conn, &iq.id, iq.from.as_deref())
        {
            Ok(p) => p,
            Err(why) => {
                log::debug!(
                    "{}: unexpected answer {} from {:?} ({why:?})",
                    conn.name(),
                    iq.id,
                    iq.from
                );
                return;
            }
        };
        let answer = match iq.error() {
            Some(e) => Err(e),
            None => Ok(iq.payload),
        };
        self.deliver(now, pending, answer);
    }

    /// Hands an answer (or a timeout) to the conference that asked.
    fn deliver(
        &mut self,
        now: Instant,
        pending: Pending,
        answer: Result<Option<El<'_>>, StanzaError>,
    ) {
        let Some(id) = pending.conference() else {
            return self.bridge_answer(now, pending, answer);
        };
        let Some(slot) = self
            .slots
            .get_mut(id.idx as usize)
            .filter(|s| s.generation == id.generation)
        else {
            return;
        };
        let Some(conf) = slot.conf.as_mut() else {
            return;
        };
        let mut ctx = self.shared.ctx(now);
        conf.on_iq_answer(&mut ctx, pending, answer);
        self.settle(now, id.idx);
    }

    // ------------------------------------------------- conference requests

    fn handle_conference_request(
        &mut self,
        now: Instant,
        conn: ConnId,
        iq: &Iq<'_>,
        from: Option<Cow<'_, str>>,
    ) {
        let Some(payload) = iq.payload else { return };
        let req = match ConferenceRequest::parse(payload) {
            Ok(r) => r,
            Err(e) => {
                let err = StanzaError::new(Condition::BadRequest).with_text(e.to_string());
                return self.reply_error(conn, iq, from, err);
            }
        };
        let room = match req.room_jid() {
            Ok(r) => r,
            Err(e) => return self.reply_error(conn, iq, from, e),
        };
        if !self
            .shared
            .cfg
            .muc_domains
            .iter()
            .any(|d| d == room.domain())
        {
            let err = focus_iq::bad_room(&format!(
                "{} is not a MUC domain this focus serves",
                room.domain()
            ));
            return self.reply_error(conn, iq, from, err);
        }
        let exists = self.by_room.contains_key(&room);
        if self.graceful_shutdown && !exists {
            return self.reply_error(conn, iq, from, focus_iq::graceful_shutdown());
        }
        let mut session = None;
        if self.shared.auth.is_some() {
            let sender = self.sender(iq);
            let Some(auth) = self.shared.auth.as_mut() else {
                return;
            };
            let Some(sender) = sender.as_ref() else {
                return self.reply_error(conn, iq, from, focus_iq::not_authorized());
            };
            match auth.process(
                now,
                &mut self.shared.rng,
                sender,
                &room,
                req.session_id.as_deref(),
                req.machine_uid.as_deref(),
            ) {
                Ok(r) => {
                    session =
                        r.map(|r| (r.session_id.into_boxed_str(), r.identity.into_boxed_str()))
                }
                Err(e) => return self.reply_error(conn, iq, from, e),
            }
            if !exists && !auth.may_create_room(sender) {
                log::info!(
                    "conference request for {room} from {sender}: not authenticated, room does not exist"
                );
                return self.reply_error(conn, iq, from, focus_iq::not_authorized());
            }
        }
        let Some(to) = iq.from.as_deref() else { return };
        let waiting = WaitingRequest {
            conn,
            id: iq.id.as_ref().into(),
            to: to.into(),
            from: from.map(Box::from),
            session,
        };
        let idx = match self.by_room.get(&room) {
            Some(&idx) => idx,
            None => self.create_conference(now, room),
        };
        if let Some(conf) = self.slots[idx as usize].conf.as_mut() {
            let mut ctx = self.shared.ctx(now);
            conf.request(&mut ctx, waiting);
        }
        self.drain_auth_events(now);
        self.settle(now, idx);
    }

    fn create_conference(&mut self, now: Instant, room: Jid) -> u32 {
        let idx = self.free.pop().unwrap_or_else(|| {
            self.slots.push(Slot::default());
            (self.slots.len() - 1) as u32
        });
        let slot = &mut self.slots[idx as usize];
        slot.generation = slot.generation.wrapping_add(1);
        let id = ConfId {
            idx,
            generation: slot.generation,
        };
        log::info!("conference {room}: created");
        slot.conf = Some(if self.online[ConnId::Client as usize].is_some() {
            let mut ctx = self.shared.ctx(now);
            Conference::start(id, room.clone(), &mut ctx)
        } else {
            Conference::awaiting_client(id, room.clone(), &self.shared.cfg)
        });
        self.by_room.insert(room, idx);
        idx
    }

    /// Writes the answers a conference has ready, removes it once stopped,
    /// and brings its entry in the timer index up to date. Called after
    /// every call into a conference.
    ///
    /// Source updates the conference queued are sent first: after the
    /// answer to whatever caused them, so a participant's `session-accept`
    /// is acknowledged before the sources it was waiting for arrive
    /// (protocol.md §5.4).
    fn settle(&mut self, now: Instant, idx: u32) {
        let Some(conf) = self.slots[idx as usize].conf.as_mut() else {
            return self.sync_timer(idx);
        };
        if !conf.is_stopped() {
            let mut ctx = self.shared.ctx(now);
            conf.flush_sources(&mut ctx);
        }
        if conf.has_answers() {
            let answers = conf.take_answers();
            let room = conf.room().bare();
            for (w, result) in answers {
                write_conference_answer(&mut self.shared, &w, room, result);
            }
        }
        conf.sync_presence(
            &mut self.shared.out[ConnId::Client as usize],
            self.shared.cfg.version,
        );
        if !conf.is_stopped() {
            return self.sync_timer(idx);
        }
        let Some(conf) = self.slots[idx as usize].conf.take() else {
            return;
        };
        let (room, id) = (conf.room(), conf.id());
        self.sync_timer(idx);
        self.free.push(idx);
        self.by_room.remove(room);
        self.shared
            .tracker
            .cancel_where(|p| p.conference() == Some(id));
        if let Some(auth) = self.shared.auth.as_mut() {
            auth.conference_ended(room);
        }
        if self.graceful_shutdown && self.by_room.is_empty() {
            log::info!("graceful shutdown: the last conference ended");
            self.events.push_back(FocusEvent::ShutdownComplete);
        }
    }

    /// Moves slot `idx`'s entry in the timer index to its conference's
    /// current deadline (none once the conference is gone).
    fn sync_timer(&mut self, idx: u32) {
        let slot = &mut self.slots[idx as usize];
        let want = slot.conf.as_ref().and_then(Conference::poll_timeout);
        if slot.armed == want {
            return;
        }
        if let Some(old) = slot.armed {
            self.timers.remove(&(old, idx));
        }
        if let Some(new) = want {
            self.timers.insert((new, idx));
        }
        slot.armed = want;
    }

    /// Grants owner to occupants whose JID just got authenticated.
    fn drain_auth_events(&mut self, now: Instant) {
        let Some(auth) = self.shared.auth.as_mut() else {
            return;
        };
        let mut rooms = Vec::new();
        while let Some(auth::AuthEvent::Authenticated { room, .. }) = auth.poll_event() {
            rooms.push(room);
        }
        for room in rooms {
            if let Some(&idx) = self.by_room.get(&room)
                && let Some(conf) = self.slots[idx as usize].conf.as_mut()
            {
                let mut ctx = self.shared.ctx(now);
                conf.on_authenticated(&mut ctx);
                self.sync_timer(idx);
            }
        }
    }

    fn handle_login_url(&mut self, conn: ConnId, iq: &Iq<'_>, from: Option<Cow<'_, str>>) {
        let Some(auth) = self.shared.auth.as_ref() else {
            return self.reply_error(conn, iq, from, focus_iq::auth_unavailable());
        };
        let req = iq.payload.map(focus_iq::LoginUrlRequest::parse);
        let room = match req {
            Some(Ok(r)) => match r.validate() {
                Ok((room, _machine_uid)) => room,
                Err(e) => return self.reply_error(conn, iq, from, e),
            },
            _ => return self.reply_error(conn, iq, from, StanzaError::new(Condition::BadRequest)),
        };
        let url = auth.login_url(&room);
        iq::write_result(
            &mut self.shared.out[conn as usize],
            &iq.id,
            from.as_deref(),
            iq.from.as_deref(),
            |w| focus_iq::write_login_url_result(w, &url),
        );
    }

    fn handle_logout(&mut self, conn: ConnId, iq: &Iq<'_>, from: Option<Cow<'_, str>>) {
        let Some(auth) = self.shared.auth.as_mut() else {
            return self.reply_error(conn, iq, from, focus_iq::auth_unavailable());
        };
        let req = iq.payload.map(focus_iq::LogoutRequest::parse);
        let result = match req {
            Some(Ok(r)) => auth.logout(r.session_id.as_deref().unwrap_or("")),
            _ => Err(StanzaError::new(Condition::BadRequest)),
        };
        match result {
            Ok(()) => iq::write_result(
                &mut self.shared.out[conn as usize],
                &iq.id,
                from.as_deref(),
                iq.from.as_deref(),
                |w| focus_iq::write_logout_result(w, None),
            ),
            Err(e) => self.reply_error(conn, iq, from, e),
        }
    }

    fn handle_shutdown_request(
        &mut self,
        conn: ConnId,
        iq: &Iq<'_>,
        req: focus_iq::ShutdownRequest,
        from: Option<Cow<'_, str>>,
    ) {
        let sender = self.sender(iq);
        let allowed = self
            .shared
            .cfg
            .shutdown_allowed_jid
            .as_deref()
            .and_then(|j| Jid::parse(j).ok());
        if let Err(e) = focus_iq::authorize_shutdown(req, sender.as_ref(), allowed.as_ref()) {
            log::warn!("graceful shutdown refused for {:?}: {e}", iq.from);
            return self.reply_error(conn, iq, from, e);
        }
        log::info!(
            "graceful shutdown requested by {:?}: new rooms are refused; exiting after the last conference",
            iq.from
        );
        self.graceful_shutdown = true;
        iq::write_empty_result(
            &mut self.shared.out[conn as usize],
            &iq.id,
            from.as_deref(),
            iq.from.as_deref(),
        );
        if self.by_room.is_empty() {
            self.events.push_back(FocusEvent::ShutdownComplete);
        }
    }

    // -------------------------------------------------------------- mute

    /// A mute request (protocol.md §2.8, CURRENT rules), sent to the
    /// focus's occupant JID and delivered with the requester's occupant JID.
    fn handle_mute(&mut self, now: Instant, iq: &Iq<'_>) {
        let Some(req) = MuteRequest::from_iq(iq) else {
            return;
        };
        let err = |c: Condition, text: &str| StanzaError::new(c).with_text(text.to_string());
        if iq.ty != crate::stanza::IqType::Set {
            return self.reply_error(
                ConnId::Client,
                iq,
                None,
                err(Condition::BadRequest, "mute is a set"),
            );
        }
        let (Some(target), Some(mute)) = (req.jid.as_deref(), req.mute) else {
            return self.reply_error(
                ConnId::Client,
                iq,
                None,
                err(Condition::BadRequest, "missing jid or mute"),
            );
        };
        let requester = iq.from.as_deref().and_then(|f| Jid::parse(f).ok());
        let idx = requester
            .as_ref()
            .and_then(|r| self.by_room.get(r.bare()).copied());
        let (Some(requester), Some(idx)) = (requester, idx) else {
            return self.reply_error(
                ConnId::Client,
                iq,
                None,
                err(Condition::ItemNotFound, "no conference for this room"),
            );
        };
        let Some(conf) = self.slots[idx as usize].conf.as_ref() else {
            return;
        };
        let target = Jid::parse(target).ok();
        let (Some(muter), Some(target_nick)) = (
            requester.resource(),
            target.as_ref().and_then(|t| t.resource()),
        ) else {
            return self.reply_error(
                ConnId::Client,
                iq,
                None,
                err(Condition::BadRequest, "bad occupant JID"),
            );
        };
        // The target is looked up by nick in the requester's room: an
        // occupant JID of another room must not match a namesake here
        // (and get a mute notification from this room's moderator).
        if target.as_ref().map(|t| t.bare()) != Some(conf.room().bare()) {
            return self.reply_error(
                ConnId::Client,
                iq,
                None,
                err(
                    Condition::ItemNotFound,
                    "no such participant in this conference",
                ),
            );
        }
        let Some(muter_m) = conf.member(muter) else {
            return self.reply_error(
                ConnId::Client,
                iq,
                None,
                err(
                    Condition::NotAllowed,
                    "the requester is not in the conference",
                ),
            );
        };
        if conf.member(target_nick).is_none() {
            return self.reply_error(
                ConnId::Client,
                iq,
                None,
                err(Condition::ItemNotFound, "no such participant"),
            );
        }
        let own = muter == target_nick;
        if !own && (!mute || !muter_m.member_role().has_moderator_rights()) {
            let why = if mute {
                "only moderators may mute others"
            } else {
                "only the participant may unmute itself"
            };
            return self.reply_error(ConnId::Client, iq, None, err(Condition::NotAllowed, why));
        }
        log::info!(
            "conference {}: {muter} {} {} of {target_nick}",
            conf.room(),
            if mute { "muted" } else { "unmuted" },
            req.kind.name()
        );
        iq::write_empty_result(
            &mut self.shared.out[ConnId::Client as usize],
            &iq.id,
            None,
            iq.from.as_deref(),
        );
        if !own {
            let id = conf.id();
            let target = target
                .as_ref()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default();
            let actor = requester.as_str().to_string();
            let kind = req.kind;
            let tid = self.shared.tracker.register(
                now,
                ConnId::Client,
                &target,
                self.shared.cfg.reply_timeout,
                Pending::MuteNotice(id),
            );
            mute_iq::write_mute_notification(
                &mut self.shared.out[ConnId::Client as usize],
                &tid,
                None,
                &target,
                kind,
                &target,
                true,
                Some(&actor),
            );
        } // The bridge drops (or passes again) the target's media: Jicofo
        // force-mutes on every successful request, one's own included.
        let mut ctx = self.shared.ctx(now);
        if let Some(conf) = self.slots[idx as usize].conf.as_mut() {
            conf.force_mute(&mut ctx, target_nick, req.kind, mute);
        }
        self.settle(now, idx);
    }

    // ---------------------------------------------------------- presence

    fn handle_presence(&mut self, now: Instant, el: El<'_>) {
        let Ok(p) = Presence::parse(el) else { return };
        let Ok(mp) = MucPresence::parse(&p) else {
            return;
        };
        if self.is_brewery(&mp.room) {
            return self.brewery_presence(now, &mp);
        }
        // Rooms send their JIDs in canonical form: a hit on the string as
        // received needs no parsing (a key is canonical, so an equal string
        // is too); anything else is canonicalised and looked up again.
        let idx = match self.by_room.get(&*mp.room) {
            Some(&idx) => idx,
            None => match Jid::parse(&mp.room)
                .ok()
                .and_then(|room| self.by_room.get(&room))
            {
                Some(&idx) => idx,
                None => return,
            },
        };
        if let Some(conf) = self.slots[idx as usize].conf.as_mut() {
            let mut ctx = self.shared.ctx(now);
            conf.on_presence(&mut ctx, &mp);
        }
        self.settle(now, idx);
    }

    // ------------------------------------------------------------ streams

    /// `conn` is authenticated; `jid` is our address on it.
    pub fn handle_online(&mut self, now: Instant, conn: ConnId, jid: &str) {
        self.online[conn as usize] = Some(jid.to_string());
        if conn != ConnId::Client {
            return;
        }
        self.shared.our_jid = jid.to_string();
        self.bridges_online(now);
        for idx in 0..self.slots.len() as u32 {
            if let Some(conf) = self.slots[idx as usize].conf.as_mut() {
                let mut ctx = self.shared.ctx(now);
                conf.on_client_online(&mut ctx);
                self.settle(now, idx);
            }
        }
    }

    /// `conn` went down.
    pub fn handle_offline(&mut self, now: Instant, conn: ConnId) {
        self.online[conn as usize] = None;
        self.shared.out[conn as usize].clear();
        // Requests sent on it will never be answered.
        for pending in self.shared.tracker.drain_conn(conn) {
            let err =
                StanzaError::new(Condition::RemoteServerTimeout).with_text("the stream went down");
            self.deliver(now, pending, Err(err));
        }
        if conn != ConnId::Client {
            return;
        }
        self.bridges_offline(now);
        for idx in 0..self.slots.len() as u32 {
            if let Some(conf) = self.slots[idx as usize].conf.as_mut() {
                conf.on_client_offline(now);
            }
            self.settle(now, idx);
        }
    }

    /// Leaves every room (SIGTERM): the core closes the streams next.
    pub fn shutdown(&mut self, now: Instant) {
        for idx in 0..self.slots.len() as u32 {
            if let Some(conf) = self.slots[idx as usize].conf.as_mut() {
                let mut ctx = self.shared.ctx(now);
                conf.stop(&mut ctx, StopReason::Shutdown);
            }
            self.settle(now, idx);
        }
    }

    /// Stanzas waiting for `conn`.
    pub fn output(&mut self, conn: ConnId) -> &mut Vec<u8> {
        &mut self.shared.out[conn as usize]
    }

    /// When [`Focus::handle_timeout`] must run next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let confs = self.timers.first().map(|&(t, _)| t);
        let auth = self.shared.auth.as_ref().and_then(|a| a.poll_timeout());
        confs
            .into_iter()
            .chain(self.shared.tracker.poll_timeout())
            .chain(auth)
            .chain(self.bridges_poll_timeout())
            .min()
    }

    /// Advances timers: IQ deadlines, conference timers, auth session expiry.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(pending) = self.shared.tracker.pop_expired(now) {
            let err = StanzaError::new(Condition::RemoteServerTimeout)
                .with_text("no answer within the reply timeout");
            self.deliver(now, pending, Err(err));
        }
        while let Some(&(t, idx)) = self.timers.first() {
            if t > now {
                break;
            }
            if let Some(conf) = self.slots[idx as usize].conf.as_mut() {
                let mut ctx = self.shared.ctx(now);
                conf.handle_timeout(&mut ctx);
            }
            self.settle(now, idx);
            if self.slots[idx as usize].armed == Some(t) {
                // A deadline fires once: one its conference did not move
                // is dropped here rather than spun on.
                log::warn!("conference slot {idx}: deadline {t:?} passed without effect");
                self.timers.remove(&(t, idx));
                self.slots[idx as usize].armed = None;
            }
        }
        if let Some(auth) = self.shared.auth.as_mut() {
            auth.handle_timeout(now);
        }
        self.bridges_timeout(now);
        self.bridge_events(now);
    }
}

#[cfg(test)]
mod timer_tests;

/// Writes the answer to a conference request that waited for the room.
fn write_conference_answer(
    shared: &mut Shared,
    w: &WaitingRequest,
    room: &str,
    result: Result<(), StanzaError>,
) {
    let out = &mut shared.out[w.conn as usize];
    match result {
        Ok(()) => {
            let props: &[(&str, &str)] = if shared.auth.is_some() {
                &[
                    ("authentication", "true"),
                    ("externalAuth", "false"),
                    ("sipGatewayEnabled", "false"),
                ]
            } else {
                &[("authentication", "false"), ("sipGatewayEnabled", "false")]
            };
            let (session_id, identity) = match &w.session {
                Some((s, i)) => (Some(&**s), Some(&**i)),
                None => (None, None),
            };
            let resp = ConferenceResponse {
                room,
                ready: true,
                focus_jid: &shared.cfg.focus_bare_jid,
                session_id,
                identity,
                properties: props,
            };
            iq::write_result(out, &w.id, w.from.as_deref(), Some(&w.to), |x| {
                resp.write(x)
            });
        }
        Err(e) => {
            let mut x = XmlWriter::new(out);
            x.start("iq").attr("type", "error").attr("id", &w.id);
            x.attr_opt("from", w.from.as_deref()).attr("to", &w.to);
            x.start_ns("conference", ns::FOCUS).attr("room", room).end();
            e.write(&mut x);
            x.end();
        }
    }
}
