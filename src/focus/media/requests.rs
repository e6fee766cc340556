//! Jingle requests from participants (protocol.md §5.4–5.9): who may
//! send them, `session-accept`/`transport-accept`, `source-add`,
//! `source-remove`, `transport-info`, `session-info` and
//! `session-terminate`. The module documentation of [`super`] says which
//! CURRENT behaviour is followed where SEED differed.

use super::{ConfInfo, Invite, Media, NO_SOURCES, Restart, bad};
use crate::focus::conference::Ctx;
use crate::focus::sources::SourceError;
use crate::stanza::jingle::{Action, JingleRequest};
use crate::stanza::muc::Occupant;
use crate::stanza::{Condition, StanzaError};

impl Media {
    /// A Jingle request from the occupant `nick`. Returns the error to
    /// answer with, or `Ok` for an empty result.
    ///
    /// A request is refused with `item-not-found` unless it comes from the
    /// occupant whose session its `sid` names (CURRENT answers an unknown
    /// sid with `bad-request`; sessions here are found by occupant first,
    /// so a sid that is not the sender's own is one it may not use, and
    /// both cases get the same answer). A refused request changes nothing.
    /// `members` are the room's occupants, whose presence says who sends
    /// audio and video (for the sender limits).
    pub fn on_jingle(
        &mut self,
        ctx: &mut Ctx<'_>,
        conf: ConfInfo<'_>,
        nick: &str,
        req: &JingleRequest<'_>,
        members: &[Occupant],
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
        match req.action {
            Action::SessionAccept => self.session_accept(ctx, conf, i, req),
            Action::TransportInfo => {
                let t = req
                    .transport()
                    .map_err(|e| bad(&e.to_string()))?
                    .ok_or_else(|| bad("missing transport"))?;
                self.update_bridge(ctx, conf, i, Some(&t), None, &[]);
                Ok(())
            }
            a if a.is_source_add() => self.source_add(ctx, conf, i, req, members),
            a if a.is_source_remove() => self.source_remove(ctx, conf, i, req),
            Action::SessionInfo => self.session_info(ctx, conf, i, req),
            Action::SessionTerminate => self.session_terminate(ctx, conf, i, req),
            // Answers a `transport-replace`: handled as `session-accept`.
            Action::TransportAccept => {
                let replaced = self.participants[i].session().is_some_and(|s| s.replaced);
                if !replaced {
                    return Err(StanzaError::new(Condition::UnexpectedRequest)
                        .with_text("no transport-replace to accept"));
                }
                self.session_accept(ctx, conf, i, req)
            }
            // As in Jicofo: only logged; the participant keeps waiting.
            Action::TransportReject => {
                log::warn!(
                    "conference {}: {nick} sent transport-reject; ignored",
                    conf.room
                );
                Ok(())
            }
            _ => Err(StanzaError::new(Condition::FeatureNotImplemented)
                .with_text(format!("unsupported action {}", req.action_name))),
        }
    }

    /// `session-accept` (§5.4): the session becomes active whatever its
    /// sources; they are validated as a whole (§5.6) and, when valid,
    /// stored, pushed to the bridge with the transport, and queued for
    /// the others. When not, the answer is the validation error, the
    /// session stays and its transport still goes to the bridge (so the
    /// participant receives media) without sources. What was queued for
    /// the participant is sent after the answer, either way.
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
        match std::mem::replace(&mut self.participants[i].invite, Invite::Discovering) {
            Invite::Initiating(s) | Invite::Invited(s) => {
                self.set_invite(conf.room, i, Invite::Active(s));
                self.participants[i].flush_now = true;
            }
            other => {
                self.participants[i].invite = other;
                return Err(
                    StanzaError::new(Condition::UnexpectedRequest).with_text("no offer to accept")
                );
            }
        }
        let nick = &self.participants[i].nick;
        let result = self.sources.try_add(nick, &sources);
        log::info!(
            "conference {}: {nick} accepted ({} sources{})",
            conf.room,
            sources.sources.len(),
            if result.is_err() { ", refused" } else { "" }
        );
        match result {
            Ok(added) => {
                self.signal(i, &added, true);
                let all = self.sources.get(&self.participants[i].nick);
                let all = all.unwrap_or(&NO_SOURCES);
                self.update_bridge(ctx, conf, i, transport.as_ref(), Some(all), &descriptions);
                Ok(())
            }
            Err(e) => {
                log::warn!(
                    "conference {}: sources of {} refused: {e}",
                    conf.room,
                    self.participants[i].nick
                );
                self.update_bridge(ctx, conf, i, transport.as_ref(), None, &descriptions);
                Err(e.into())
            }
        }
    }

    /// `source-add` (§5.5): refused with `resource-constraint` when it has
    /// audio (video) and as many members as `max-audio-senders`
    /// (`max-video-senders`) are unmuted in presence, then validated whole
    /// (§5.6); an accepted one goes to the bridge (the participant's
    /// complete set) and to the others.
    fn source_add(
        &mut self,
        ctx: &mut Ctx<'_>,
        conf: ConfInfo<'_>,
        i: usize,
        req: &JingleRequest<'_>,
        members: &[Occupant],
    ) -> Result<(), StanzaError> {
        let request = req.sources().map_err(|e| bad(&e.to_string()))?;
        if request.is_empty() {
            return Ok(());
        }
        let audio = members.iter().filter(|m| !m.is_audio_muted()).count();
        let video = members.iter().filter(|m| !m.is_video_muted()).count();
        ctx.cfg
            .sources
            .check_senders(&request, audio, video)
            .inspect_err(|e| self.log_refused(conf, i, "source-add", e))?;
        let added = self
            .sources
            .try_add(&self.participants[i].nick, &request)
            .inspect_err(|e| self.log_refused(conf, i, "source-add", e))?;
        if added.is_empty() {
            return Ok(());
        }
        self.signal(i, &added, true);
        self.push_sources(ctx, conf, i);
        Ok(())
    }

    /// `source-remove` (§5.5): only what the participant owns, else the
    /// whole request is refused; groups that lose a member go too.
    fn source_remove(
        &mut self,
        ctx: &mut Ctx<'_>,
        conf: ConfInfo<'_>,
        i: usize,
        req: &JingleRequest<'_>,
    ) -> Result<(), StanzaError> {
        let request = req.sources().map_err(|e| bad(&e.to_string()))?;
        if request.is_empty() {
            return Ok(());
        }
        let removed = self
            .sources
            .try_remove(&self.participants[i].nick, &request)
            .inspect_err(|e| self.log_refused(conf, i, "source-remove", e))?;
        self.signal(i, &removed, false);
        self.push_sources(ctx, conf, i);
        Ok(())
    }

    fn log_refused(&self, conf: ConfInfo<'_>, i: usize, what: &str, e: &SourceError) {
        log::warn!(
            "conference {}: {what} from {} refused: {e}",
            conf.room,
            self.participants[i].nick
        );
    }

    /// Pushes participant `i`'s complete source set to its bridge.
    fn push_sources(&self, ctx: &mut Ctx<'_>, conf: ConfInfo<'_>, i: usize) {
        let all = self.sources.get(&self.participants[i].nick);
        self.update_bridge(ctx, conf, i, None, Some(all.unwrap_or(&NO_SOURCES)), &[]);
    }

    /// The Colibri session id (`<bridge-session id>`) of participant `i`'s
    /// session is `id`.
    fn is_current_bridge_session(&self, i: usize, id: Option<&str>) -> bool {
        let Some(s) = self.participants[i].session() else {
            return false;
        };
        self.sessions
            .iter()
            .find(|x| *x.bridge() == s.bridge)
            .is_some_and(|x| Some(x.uuid()) == id)
    }

    /// `session-info` (§5.8): `<ice-state>failed</ice-state>` with the
    /// current bridge-session id re-invites the participant (a stale id
    /// is ignored); other states are ignored. The in-place ICE restart is
    /// not offered, so `ice-restart` gets `feature-not-implemented`.
    fn session_info(
        &mut self,
        ctx: &mut Ctx<'_>,
        conf: ConfInfo<'_>,
        i: usize,
        req: &JingleRequest<'_>,
    ) -> Result<(), StanzaError> {
        let bs = req.bridge_session();
        if bs.as_ref().is_some_and(|b| b.ice_restart) {
            return Err(StanzaError::new(Condition::FeatureNotImplemented)
                .with_text("ICE restart is not enabled"));
        }
        let failed = req
            .ice_state()
            .is_some_and(|s| s.eq_ignore_ascii_case("failed"));
        if !failed {
            return Ok(());
        }
        let id = bs.as_ref().and_then(|b| b.id.as_deref());
        if !self.is_current_bridge_session(i, id) {
            log::info!(
                "conference {}: ICE failure of {} for a stale bridge session ignored",
                conf.room,
                self.participants[i].nick
            );
            return Ok(());
        }
        log::info!(
            "conference {}: ICE failed for {}; inviting it again",
            conf.room,
            self.participants[i].nick
        );
        self.restart(ctx, conf, i, Restart::IceFailed);
        Ok(())
    }

    /// `session-terminate` from the participant (§5.9). A `<bridge-session>`
    /// it carries must name the current bridge session (`item-not-found`
    /// otherwise). With `restart='true'` the participant is invited again,
    /// rate limited (`resource-constraint` over the limit, and then the
    /// session stays as it is); without, its session ends: sources removed
    /// (`source-remove` to the others), endpoint expired, no new invite.
    fn session_terminate(
        &mut self,
        ctx: &mut Ctx<'_>,
        conf: ConfInfo<'_>,
        i: usize,
        req: &JingleRequest<'_>,
    ) -> Result<(), StanzaError> {
        let bs = req.bridge_session();
        if let Some(b) = &bs
            && !self.is_current_bridge_session(i, b.id.as_deref())
        {
            return Err(
                StanzaError::new(Condition::ItemNotFound).with_text("invalid bridge session id")
            );
        }
        let restart = bs.is_some_and(|b| b.restart);
        let p = &mut self.participants[i];
        if restart && !p.restarts.accept(ctx.now) {
            log::warn!(
                "conference {}: restart request of {} rate limited",
                conf.room,
                p.nick
            );
            return Err(StanzaError::new(Condition::ResourceConstraint)
                .with_text("restart requests are rate limited"));
        }
        if restart {
            log::info!(
                "conference {}: {} asked for a new session",
                conf.room,
                p.nick
            );
            self.restart(ctx, conf, i, Restart::Requested);
            return Ok(());
        }
        log::info!("conference {}: {} ended its session", conf.room, p.nick);
        if let Invite::Initiating(s) | Invite::Invited(s) | Invite::Active(s) =
            std::mem::replace(&mut p.invite, Invite::Ended)
        {
            self.end_session(ctx, conf, i, &s, Restart::Requested, false);
        }
        self.maybe_expire_sessions(ctx);
        Ok(())
    }
}
