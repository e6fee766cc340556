//! Source signalling of a conference's media (protocol.md §5.5): what
//! each participant is told about the others' sources. One
//! [`SourceSignaling`] queue per participant that has had an offer; an
//! accepted change of participant `i`'s sources is queued for every other
//! participant, never for `i`; queues of participants with an accepted
//! session are flushed after the answer to whatever caused the change, at
//! once or after `source-signaling-delays`, and a participant that just
//! accepted gets its queue at once.

use std::time::{Duration, Instant};

use super::{ConfInfo, Invite, Media};
use crate::focus::conference::Ctx;
use crate::focus::sources::SourceSignaling;
use crate::stanza::jingle::{self, Action};
use crate::stanza::sources::EndpointSourceSet;

impl Media {
    /// Queues `set`, just added to (or removed from) participant `i`'s
    /// sources, for every other participant that has had an offer. Never
    /// for `i` itself: a client is not told its own sources.
    pub(super) fn signal(&mut self, i: usize, set: &EndpointSourceSet, add: bool) {
        let (before, rest) = self.participants.split_at_mut(i);
        let Some((owner, after)) = rest.split_first_mut() else {
            return;
        };
        let current = self.sources.map();
        for q in before.iter_mut().chain(after) {
            if let Some(sig) = q.signaling.as_mut() {
                if add {
                    sig.add(&owner.nick, set);
                } else {
                    sig.remove(&owner.nick, set);
                }
                sig.share(&owner.nick, current);
            }
        }
    }

    /// True when a participant with an accepted session has source
    /// updates waiting.
    pub fn has_signaling(&self) -> bool {
        self.participants.iter().any(|p| {
            matches!(p.invite, Invite::Active(_))
                && p.signaling.as_ref().is_some_and(SourceSignaling::is_dirty)
        })
    }

    /// When the queued source updates are due: `delay` after the first
    /// change that is still queued (one deadline for the conference, so a
    /// later change may go out sooner than its own delay would say).
    pub fn signaling_due(&mut self, now: Instant, delay: Duration) -> Instant {
        *self.flush_at.get_or_insert(now + delay)
    }

    /// Nothing is queued for anyone with an accepted session: no flush is
    /// due, and a participant that just accepted has had its (empty) turn.
    pub fn signaling_idle(&mut self) {
        self.flush_at = None;
        for p in &mut self.participants {
            p.flush_now = false;
        }
    }

    /// The deadline of a delayed flush, for the conference's timer.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.flush_at
    }

    /// Sends participants with an accepted session their queued source
    /// updates: the net `source-remove`, then the net `source-add`
    /// (protocol.md §5.5). With `all` every such queue goes; without, only
    /// those of participants that just accepted. Participants still
    /// waiting for their accept keep theirs queued.
    pub fn flush_signaling(&mut self, ctx: &mut Ctx<'_>, conf: ConfInfo<'_>, all: bool) {
        if all {
            self.flush_at = None;
        }
        for p in &mut self.participants {
            let urgent = std::mem::take(&mut p.flush_now);
            let Invite::Active(s) = &p.invite else {
                continue;
            };
            if !all && !urgent {
                continue;
            }
            let Some(sig) = p.signaling.as_mut().filter(|q| q.is_dirty()) else {
                continue;
            };
            let update = sig.take();
            for (action, map) in [
                (Action::SourceRemove, &update.remove),
                (Action::SourceAdd, &update.add),
            ] {
                if map.is_empty() {
                    continue;
                }
                let owned: Vec<(&str, &EndpointSourceSet)> = map.iter().collect();
                let id = super::jingle_request_id(ctx, conf, p);
                jingle::write_source_update(
                    ctx.out,
                    action,
                    &id,
                    None,
                    &p.occupant_jid,
                    &s.sid,
                    &owned,
                );
                log::debug!(
                    "conference {}: {} to {} ({} owner(s))",
                    conf.room,
                    action.name(),
                    p.nick,
                    owned.len()
                );
            }
        }
    }
}
