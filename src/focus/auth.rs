//! The XMPP-domain authentication authority ("secure domain",
//! protocol.md §1.6): users logged in on one configured XMPP domain may
//! create rooms, and carry that right to another connection (typically an
//! anonymous guest one) through an auth session id.
//!
//! [`AuthAuthority`] owns the sessions. It is a pure machine with the house
//! verbs: [`AuthAuthority::process`] for each conference request,
//! [`AuthAuthority::handle_timeout`] / [`AuthAuthority::poll_timeout`] for
//! expiry, [`AuthAuthority::poll_event`] to tell the conference logic that a
//! JID got authenticated (so it can grant owner, protocol.md §2.3). Time and
//! randomness come in as arguments.
//!
//! Where it differs from Jicofo, on purpose:
//!
//! * Expiry is exact: a session dies when it has been idle for the lifetime,
//!   not at the next 10 s tick of a timer. (Jicofo's tick made the real
//!   lifetime up to 10 s longer; nobody can rely on that.)
//! * A session remembers the last [`MAX_BOUND_JIDS`] full JIDs that used it,
//!   not only the last one: with two tabs sharing a stored session id, the
//!   first tab's occupant would otherwise lose its right to owner as soon as
//!   the second tab asks. A JID belongs to at most one session: the last one
//!   it used.
//! * A second session request from the same user, machine and room reuses
//!   that session instead of piling up another one for 24 hours (Jicofo's
//!   XMPP authority created a new one on every request from the
//!   authenticated connection; the client stores whichever id it is given).
//! * A sender without a localpart (the domain itself, a component) never
//!   gets a session: it is not a user.
//!
//! Session ids are bearer credentials: they are never logged, and `Debug`
//! hides them.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use crate::config::{ConfigError, Properties};
use crate::stanza::focus::{
    machine_uid_mismatch, missing_machine_uid, session_invalid, xmpp_login_url,
};
use crate::stanza::{Jid, StanzaError};
use crate::util::rng::Rng;

/// SEED: `XMPP:<domain>` selects this authority; anything else selected
/// Shibboleth (CURRENT: `EXT_JWT:<domain>` a JWT authority).
const URL_KEY: &str = "org.jitsi.jicofo.auth.URL";
/// CURRENT: authentication on or off.
const ENABLED_KEY: &str = "jicofo.authentication.enabled";
/// CURRENT: `XMPP` or `JWT`.
const TYPE_KEY: &str = "jicofo.authentication.type";
/// CURRENT: for the XMPP type, the authenticated domain.
const LOGIN_URL_KEY: &str = "jicofo.authentication.login-url";
/// Idle lifetime of a session, legacy name first (the legacy file wins).
const LIFETIME_KEYS: &[&str] = &[
    "org.jitsi.jicofo.auth.AUTH_LIFETIME",
    "jicofo.authentication.authentication-lifetime",
];
/// SEED: destroy a room's sessions when its conference ends.
const DISABLE_AUTOLOGIN_KEY: &str = "org.jitsi.jicofo.auth.DISABLE_AUTOLOGIN";
/// CURRENT: the same, inverted.
const ENABLE_AUTO_LOGIN_KEY: &str = "jicofo.authentication.enable-auto-login";

/// The prefix of `org.jitsi.jicofo.auth.URL` that selects this authority.
const XMPP_PREFIX: &str = "XMPP:";

/// Default idle lifetime of a session: 24 hours, as in Jicofo.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// Characters of a session id from [`Rng::token`]: 22 × log2(62) ≈ 131
/// bits, more than a random UUID (122) as Jicofo used.
pub const SESSION_ID_LEN: usize = 22;

/// How many recent full JIDs a session keeps bound.
pub const MAX_BOUND_JIDS: usize = 8;

/// Settings of the XMPP-domain authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// Users of this XMPP domain are authenticated (canonical, lowercase).
    pub domain: String,
    /// A session dies after this long without use.
    pub lifetime: Duration,
    /// Destroy a room's sessions when its conference ends.
    pub disable_autologin: bool,
}

impl AuthConfig {
    /// Reads the authentication settings; `None` when authentication is off.
    ///
    /// SEED: `org.jitsi.jicofo.auth.URL=XMPP:<domain>`,
    /// `org.jitsi.jicofo.auth.AUTH_LIFETIME` (ms),
    /// `org.jitsi.jicofo.auth.DISABLE_AUTOLOGIN`. CURRENT (protocol.md §6.3):
    /// `jicofo.authentication.enabled`, `type` (default `XMPP`), `login-url`
    /// (the domain), `authentication-lifetime`, `enable-auto-login`. As in
    /// Jicofo, a legacy key wins over its CURRENT counterpart, and a legacy
    /// URL turns authentication on by itself.
    ///
    /// Only this authority exists here: a Shibboleth login URL, `EXT_JWT:` or
    /// `type = JWT` is an error rather than silently running an open focus
    /// (CURRENT Jicofo disabled authentication on an unknown URL). Like
    /// Jicofo, the domain is taken from whatever JID is given (`XMPP:u@d`
    /// means domain `d`).
    pub fn from_props(props: &Properties) -> Result<Option<AuthConfig>, ConfigError> {
        let (key, domain) = if let Some(url) = props.get(&[URL_KEY]) {
            match url.strip_prefix(XMPP_PREFIX) {
                Some(d) => (URL_KEY, d.trim()),
                None => {
                    return Err(bad_value(
                        URL_KEY,
                        url,
                        "XMPP:<domain>, the only authentication jicofo-rs implements \
                         (Shibboleth login URLs and EXT_JWT: are not supported)",
                    ));
                }
            }
        } else if props.bool(&[ENABLED_KEY], false)? {
            let ty = props.get(&[TYPE_KEY]).unwrap_or("XMPP");
            if ty.eq_ignore_ascii_case("NONE") {
                return Ok(None);
            }
            if !ty.eq_ignore_ascii_case("XMPP") {
                return Err(bad_value(
                    TYPE_KEY,
                    ty,
                    "XMPP, the only authentication type jicofo-rs implements",
                ));
            }
            let Some(d) = props.get(&[LOGIN_URL_KEY]) else {
                return Err(bad_value(
                    LOGIN_URL_KEY,
                    "",
                    "the XMPP domain whose users may create rooms \
                     (required with jicofo.authentication.type = XMPP)",
                ));
            };
            (LOGIN_URL_KEY, d)
        } else {
            return Ok(None);
        };
        let domain = match Jid::parse(domain) {
            Ok(j) => j.domain().to_string(),
            Err(_) => {
                return Err(bad_value(
                    key,
                    domain,
                    "an XMPP domain such as meet.example.com",
                ));
            }
        };

        let lifetime = props.duration(LIFETIME_KEYS, DEFAULT_LIFETIME)?;
        if lifetime.is_zero() {
            // Zero would kill every session before a guest could use it.
            let key = LIFETIME_KEYS
                .iter()
                .find(|k| props.get(&[k]).is_some())
                .unwrap_or(&LIFETIME_KEYS[0]);
            let value = props.get(&[key]).unwrap_or("0");
            return Err(bad_value(key, value, "a duration greater than zero"));
        }
        let disable_autologin = if props.get(&[DISABLE_AUTOLOGIN_KEY]).is_some() {
            props.bool(&[DISABLE_AUTOLOGIN_KEY], false)?
        } else {
            !props.bool(&[ENABLE_AUTO_LOGIN_KEY], true)?
        };
        Ok(Some(AuthConfig {
            domain,
            lifetime,
            disable_autologin,
        }))
    }
}

fn bad_value(key: &str, value: &str, expected: &str) -> ConfigError {
    ConfigError::BadValue {
        key: key.to_string(),
        value: value.to_string(),
        expected: expected.to_string(),
    }
}

/// What a request bound to a session puts in its answer (`session-id` and
/// `identity` of the `<conference/>` result).
#[derive(Clone, PartialEq, Eq)]
pub struct AuthResult {
    /// The session id, for the client to store.
    pub session_id: String,
    /// The authenticated user's bare JID.
    pub identity: String,
}

impl std::fmt::Debug for AuthResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthResult")
            .field("session_id", &"***")
            .field("identity", &self.identity)
            .finish()
    }
}

/// What the authority tells the conference logic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthEvent {
    /// `jid` used a session of `identity` in a request for `room`: if it is
    /// (or becomes) an occupant of a conference, it deserves owner.
    Authenticated {
        /// The full JID that is now authenticated.
        jid: Jid,
        /// The user's bare JID on the authenticated domain.
        identity: Jid,
        /// The room of the request.
        room: Jid,
    },
}

/// One auth session. The id is its key in [`AuthAuthority::sessions`].
#[derive(Debug)]
struct Session {
    machine_uid: String,
    /// Bare JID of the user who logged in.
    identity: Jid,
    /// The room it was created for (for DISABLE_AUTOLOGIN).
    room: Jid,
    /// Full JIDs that used it, oldest first, at most [`MAX_BOUND_JIDS`].
    jids: VecDeque<Jid>,
    last_activity: Instant,
}

/// The XMPP-domain authority and its sessions.
///
/// Sorted maps, not hash maps: the order of expiry and of events must not
/// depend on a per-process hash seed, so simulations replay exactly.
pub struct AuthAuthority {
    cfg: AuthConfig,
    sessions: BTreeMap<String, Session>,
    /// Bound full JID → session id.
    by_jid: BTreeMap<Jid, String>,
    events: VecDeque<AuthEvent>,
    /// No session expires before this. A lower bound, not exact: touching a
    /// session only moves its deadline later, so the bound stays valid and is
    /// made exact again at the next sweep. This keeps `process` O(log n).
    next_expiry: Option<Instant>,
}

impl std::fmt::Debug for AuthAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthAuthority")
            .field("cfg", &self.cfg)
            .field("sessions", &self.sessions.len())
            .field("bound_jids", &self.by_jid.len())
            .field("next_expiry", &self.next_expiry)
            .finish()
    }
}

impl AuthAuthority {
    /// An authority with no sessions.
    pub fn new(cfg: AuthConfig) -> Self {
        if cfg.disable_autologin {
            log::info!("auth: sessions end with their conference (auto-login disabled)");
        }
        AuthAuthority {
            cfg,
            sessions: BTreeMap::new(),
            by_jid: BTreeMap::new(),
            events: VecDeque::new(),
            next_expiry: None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &AuthConfig {
        &self.cfg
    }

    /// Live sessions.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// Whether the user must visit an external login page (`externalAuth`
    /// in the conference answer): never for this authority.
    pub fn is_external(&self) -> bool {
        false
    }

    /// The login URL for `room`: the Jitsi Meet page itself with
    /// `?login=true`, which makes the client show its login dialog.
    pub fn login_url(&self, room: &Jid) -> String {
        xmpp_login_url(room)
    }

    /// Authenticates a conference request (Jicofo's `processAuthentication`,
    /// protocol.md §1.6), in this order:
    ///
    /// 1. With a `session_id`: unknown (or expired) → [`session_invalid`];
    ///    known but `machine_uid` differs or is missing →
    ///    [`machine_uid_mismatch`].
    /// 2. Without one, from a user of the configured domain: no
    ///    `machine_uid` → [`missing_machine_uid`]; else a session for the
    ///    sender's bare JID (reused when it asked before from the same
    ///    machine for the same room).
    /// 3. With a session: `from` is bound to it, the session is touched, an
    ///    [`AuthEvent::Authenticated`] is queued, and the answer's
    ///    `session-id`/`identity` are returned.
    /// 4. Otherwise `Ok(None)`: nothing to add to the answer.
    ///
    /// Empty strings count as absent. The caller then refuses to create a
    /// room for a sender that is not authenticated
    /// ([`AuthAuthority::may_create_room`], protocol.md §1.3 step 3.2).
    pub fn process(
        &mut self,
        now: Instant,
        rng: &mut Rng,
        from: &Jid,
        room: &Jid,
        session_id: Option<&str>,
        machine_uid: Option<&str>,
    ) -> Result<Option<AuthResult>, StanzaError> {
        // A session past its lifetime must not be used, or revived, just
        // because the timer has not fired yet.
        self.handle_timeout(now);
        let session_id = session_id.filter(|s| !s.is_empty());
        let machine_uid = machine_uid.filter(|m| !m.is_empty());
        let id = match session_id {
            Some(sid) => {
                let Some(s) = self.sessions.get(sid) else {
                    log::info!("auth: {from} used an unknown or expired session (room {room})");
                    return Err(session_invalid());
                };
                if machine_uid != Some(s.machine_uid.as_str()) {
                    log::warn!(
                        "auth: {from} used the session of {} without its machine uid (room {room})",
                        s.identity
                    );
                    return Err(machine_uid_mismatch());
                }
                sid.to_string()
            }
            None if from.node().is_some() && from.domain() == self.cfg.domain => {
                let Some(muid) = machine_uid else {
                    return Err(missing_machine_uid());
                };
                self.find_or_create(now, rng, from, muid, room)
            }
            None => return Ok(None),
        };
        let result = self.bind(now, &id, from, room);
        #[cfg(test)]
        self.check_invariants();
        result.map(Some).ok_or_else(session_invalid)
    }

    /// The session of `identity` on `machine_uid` for `room`, or a new one.
    fn find_or_create(
        &mut self,
        now: Instant,
        rng: &mut Rng,
        from: &Jid,
        machine_uid: &str,
        room: &Jid,
    ) -> String {
        let identity = from.to_bare();
        if let Some((id, _)) = self.sessions.iter().find(|(_, s)| {
            s.identity == identity && s.machine_uid == machine_uid && s.room == *room
        }) {
            return id.clone();
        }
        let id = loop {
            let id = rng.token(SESSION_ID_LEN);
            if !self.sessions.contains_key(&id) {
                break id;
            }
        };
        log::info!("auth: session created for {identity} (room {room})");
        self.sessions.insert(
            id.clone(),
            Session {
                machine_uid: machine_uid.to_string(),
                identity,
                room: room.clone(),
                jids: VecDeque::new(),
                last_activity: now,
            },
        );
        if let Some(deadline) = now.checked_add(self.cfg.lifetime) {
            self.next_expiry = Some(self.next_expiry.map_or(deadline, |t| t.min(deadline)));
        }
        id
    }

    /// Binds `jid` to session `id`, touches the session and queues the
    /// event; `None` if there is no such session (which `process` rules out).
    fn bind(&mut self, now: Instant, id: &str, jid: &Jid, room: &Jid) -> Option<AuthResult> {
        if !self.sessions.contains_key(id) {
            return None;
        }
        // A JID belongs to the session it used last.
        if let Some(old) = self.by_jid.insert(jid.clone(), id.to_string()) {
            if old != id {
                if let Some(s) = self.sessions.get_mut(&old) {
                    s.jids.retain(|j| j != jid);
                }
            }
        }
        let s = self.sessions.get_mut(id)?;
        s.jids.retain(|j| j != jid);
        s.jids.push_back(jid.clone());
        if s.jids.len() > MAX_BOUND_JIDS {
            if let Some(dropped) = s.jids.pop_front() {
                self.by_jid.remove(&dropped);
            }
        }
        s.last_activity = now;
        log::info!("auth: {jid} authenticated as {} (room {room})", s.identity);
        self.events.push_back(AuthEvent::Authenticated {
            jid: jid.clone(),
            identity: s.identity.clone(),
            room: room.clone(),
        });
        Some(AuthResult {
            session_id: id.to_string(),
            identity: s.identity.as_str().to_string(),
        })
    }

    /// The identity `full_jid` is authenticated as: it used a session that
    /// is still alive (not expired at the last [`AuthAuthority::handle_timeout`]
    /// or [`AuthAuthority::process`], not logged out, not ended with its
    /// conference).
    pub fn is_authenticated(&self, full_jid: &Jid) -> Option<&str> {
        let id = self.by_jid.get(full_jid)?;
        self.sessions.get(id).map(|s| s.identity.as_str())
    }

    /// Whether `from` may create a room: it is authenticated.
    pub fn may_create_room(&self, from: &Jid) -> bool {
        self.is_authenticated(from).is_some()
    }

    /// Destroys a session (the `logout` IQ). Unknown → [`session_invalid`].
    /// As in Jicofo, whoever knows the id may log it out.
    pub fn logout(&mut self, session_id: &str) -> Result<(), StanzaError> {
        let removed = self.remove(session_id);
        #[cfg(test)]
        self.check_invariants();
        match removed {
            Some(s) => {
                log::info!("auth: session of {} logged out", s.identity);
                Ok(())
            }
            None => Err(session_invalid()),
        }
    }

    /// The conference of `room` ended: with auto-login disabled, the sessions
    /// created for that room are destroyed (others stay).
    pub fn conference_ended(&mut self, room: &Jid) {
        if !self.cfg.disable_autologin {
            return;
        }
        let ids: Vec<String> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.room == *room)
            .map(|(id, _)| id.clone())
            .collect();
        for id in ids {
            if let Some(s) = self.remove(&id) {
                log::info!(
                    "auth: session of {} ended with the conference {room}",
                    s.identity
                );
            }
        }
        #[cfg(test)]
        self.check_invariants();
    }

    /// Removes a session and unbinds its JIDs.
    fn remove(&mut self, id: &str) -> Option<Session> {
        let s = self.sessions.remove(id)?;
        for j in &s.jids {
            self.by_jid.remove(j);
        }
        Some(s)
    }

    /// The bookkeeping every operation must preserve: `by_jid` and the
    /// sessions' JID lists describe the same bindings, and `next_expiry` is
    /// a lower bound of every deadline.
    #[cfg(test)]
    fn check_invariants(&self) {
        for (j, id) in &self.by_jid {
            let s = self.sessions.get(id).expect("a bound JID's session exists");
            assert!(
                s.jids.contains(j),
                "{j} bound to a session that does not list it"
            );
        }
        for (id, s) in &self.sessions {
            assert!(s.jids.len() <= MAX_BOUND_JIDS);
            for (i, j) in s.jids.iter().enumerate() {
                assert_eq!(
                    self.by_jid.get(j),
                    Some(id),
                    "{j} listed but bound elsewhere"
                );
                assert!(
                    !s.jids.iter().skip(i + 1).any(|k| k == j),
                    "{j} listed twice"
                );
            }
            if let Some(d) = s.last_activity.checked_add(self.cfg.lifetime) {
                assert!(
                    self.next_expiry.is_some_and(|t| t <= d),
                    "expiry bound too late"
                );
            }
        }
    }

    /// When [`AuthAuthority::handle_timeout`] must run next: no later than
    /// the moment the least recently used session reaches its lifetime. It
    /// may be earlier (a touched session moved its deadline); that call then
    /// finds nothing to expire and computes the exact next deadline.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_expiry
    }

    /// Expires every session idle for the lifetime or longer at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.next_expiry.is_none_or(|t| now < t) {
            return;
        }
        let lifetime = self.cfg.lifetime;
        let deadline = |s: &Session| s.last_activity.checked_add(lifetime);
        let expired: Vec<String> = self
            .sessions
            .iter()
            .filter(|(_, s)| deadline(s).is_some_and(|d| d <= now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            if let Some(s) = self.remove(&id) {
                log::info!(
                    "auth: session of {} expired after {:?} unused",
                    s.identity,
                    lifetime
                );
            }
        }
        self.next_expiry = self.sessions.values().filter_map(deadline).min();
        #[cfg(test)]
        self.check_invariants();
    }

    /// The next event for the conference logic.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<AuthEvent> {
        self.events.pop_front()
    }
}

#[cfg(test)]
mod tests;
