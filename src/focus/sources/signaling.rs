//! What one receiving participant has been told about the others' sources,
//! and what it should be told next (protocol.md §5.5, CURRENT batching;
//! Jicofo's `SourceSignaling`).
//!
//! The queue keeps two maps rather than a list of operations: the sources
//! the receiver was last told (`signaled`) and the sources it should know
//! now (`updated`, which every add and remove changes). A flush sends the
//! difference of the two, after filtering both for the receiver, and makes
//! them equal again. So any sequence of adds and removes between two
//! flushes collapses to its net effect: an add undone by a remove sends
//! nothing, a remove undone by an identical re-add sends nothing, and a
//! source re-added with other data (a new msid, say) is sent as a remove
//! of the old and an add of the new. A flush yields at most one
//! `source-remove` and one `source-add`, the remove to be sent first.
//!
//! Filtering is per receiver: a client without audio or video support gets
//! no sources of that media (an owner left with no source of a supported
//! media is dropped whole), and with `strip-simulcast` only the first
//! simulcast layer and its RTX. Filtering both sides of the difference,
//! rather than the operations, keeps it right when a later change alters
//! what survives the filter.
//!
//! A receiver using SSRC rewriting gets its sources from the bridge: its
//! queue ignores adds and removes and never has anything to send.
//!
//! Cost: the queue remembers which owners changed since the last flush,
//! and a flush compares, filters and copies only theirs. Every change in a
//! room is flushed to every other participant, so a flush that walked the
//! whole map made each change cost O(room²): in rooms of 50, a hundred
//! thousand allocations per join.

use crate::stanza::sources::{ConferenceSourceMap, EndpointSourceSet, MediaType};

/// What a receiver can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignalingOptions {
    /// The receiver supports audio.
    pub audio: bool,
    /// The receiver supports video.
    pub video: bool,
    /// Send only the first simulcast layer and its RTX
    /// (`jicofo.conference.strip-simulcast`).
    pub strip_simulcast: bool,
    /// The bridge signals sources to this receiver (SSRC rewriting is
    /// enabled and the client supports it): the focus sends none.
    pub ssrc_rewriting: bool,
}

impl Default for SignalingOptions {
    /// Audio and video, simulcast stripped, no SSRC rewriting.
    fn default() -> Self {
        SignalingOptions {
            audio: true,
            video: true,
            strip_simulcast: true,
            ssrc_rewriting: false,
        }
    }
}

/// The net change a flush sends: `remove` first, then `add`. Either may
/// be empty, and then is not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceUpdate {
    /// For a `source-remove`.
    pub remove: ConferenceSourceMap,
    /// For a `source-add`.
    pub add: ConferenceSourceMap,
}

impl SourceUpdate {
    /// True when there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.remove.is_empty() && self.add.is_empty()
    }
}

/// One receiver's source-signalling queue.
#[derive(Debug, Clone)]
pub struct SourceSignaling {
    opts: SignalingOptions,
    /// Unfiltered: what the receiver was told, before its filter.
    signaled: ConferenceSourceMap,
    /// Unfiltered: what it should know now.
    updated: ConferenceSourceMap,
    /// Owners with an add or remove since the last flush or reset.
    changed: Vec<Box<str>>,
}

impl SourceSignaling {
    /// An empty queue for a receiver that was told nothing yet.
    pub fn new(opts: SignalingOptions) -> Self {
        SourceSignaling {
            opts,
            signaled: ConferenceSourceMap::new(),
            updated: ConferenceSourceMap::new(),
            changed: Vec::new(),
        }
    }

    /// The receiver's options.
    pub fn options(&self) -> &SignalingOptions {
        &self.opts
    }

    /// Queues `owner`'s new sources.
    pub fn add(&mut self, owner: &str, sources: &EndpointSourceSet) {
        if self.opts.ssrc_rewriting || sources.is_empty() {
            return;
        }
        self.updated.add(owner, sources);
        self.mark(owner);
    }

    fn mark(&mut self, owner: &str) {
        if !self.changed.iter().any(|o| **o == *owner) {
            self.changed.push(owner.into());
        }
    }

    /// After an [`add`](Self::add) or [`remove`](Self::remove) of
    /// `owner`'s sources: where the receiver's view of that owner is now
    /// the conference's (`current`), the two share one copy.
    pub fn share(&mut self, owner: &str, current: &ConferenceSourceMap) {
        self.updated.share_owner_from(current, owner);
    }

    /// Queues every owner's new sources.
    pub fn add_map(&mut self, sources: &ConferenceSourceMap) {
        for (owner, set) in sources.iter() {
            self.add(owner, set);
        }
    }

    /// Queues the removal of `owner`'s sources (matched by media and SSRC,
    /// groups exactly; see [`EndpointSourceSet::remove`]). Pass what the
    /// [`ValidatingSourceMap`](super::ValidatingSourceMap) says it removed,
    /// which includes the groups that lost a member.
    pub fn remove(&mut self, owner: &str, sources: &EndpointSourceSet) {
        if self.opts.ssrc_rewriting || sources.is_empty() {
            return;
        }
        self.updated.remove(owner, sources);
        self.mark(owner);
    }

    /// Queues the removal of every owner's sources.
    pub fn remove_map(&mut self, sources: &ConferenceSourceMap) {
        for (owner, set) in sources.iter() {
            self.remove(owner, set);
        }
    }

    /// Forgets `owner` without telling the receiver: for a participant
    /// that left the room, whose sources clients drop on their own. Any
    /// change of its sources still queued is dropped too, so a flush never
    /// names a participant that is gone. (Jicofo leaves the departed
    /// owner's sources in the queue, where a queued add would still be
    /// sent after the leave.)
    pub fn forget_owner(&mut self, owner: &str) {
        self.signaled.remove_owner(owner);
        self.updated.remove_owner(owner);
        self.changed.retain(|o| **o != *owner);
    }

    /// True when an add or remove came since the last flush or reset; the
    /// caller then schedules a flush. (The flush may still find nothing:
    /// the changes may have cancelled out.)
    pub fn is_dirty(&self) -> bool {
        !self.changed.is_empty()
    }

    /// What the receiver should be told now, after filtering, and records
    /// it as told. Send `remove` before `add`.
    pub fn take(&mut self) -> SourceUpdate {
        let mut update = SourceUpdate::default();
        for owner in std::mem::take(&mut self.changed) {
            let told = self.signaled.get(&owner).and_then(|s| self.filter_set(s));
            let known = self.updated.get(&owner).and_then(|s| self.filter_set(s));
            let none = EndpointSourceSet::new();
            let (told_ref, known_ref) = (
                told.as_ref().unwrap_or(&none),
                known.as_ref().unwrap_or(&none),
            );
            update.remove.add(&owner, &told_ref.difference(known_ref));
            update.add.add(&owner, &known_ref.difference(told_ref));
            self.signaled.set_owner_from(&self.updated, &owner);
        }
        update
    }

    /// The receiver is about to be told `sources` from scratch (the
    /// sources of a `session-initiate` or `transport-replace`): records
    /// them as told, drops whatever was queued, and returns them filtered
    /// for the receiver, which is what the offer carries.
    pub fn reset(&mut self, sources: &ConferenceSourceMap) -> ConferenceSourceMap {
        self.signaled = sources.clone();
        self.updated = sources.clone();
        self.changed.clear();
        self.filter(sources)
    }

    /// What the receiver has been told, filtered as it was sent.
    pub fn signaled(&self) -> ConferenceSourceMap {
        self.filter(&self.signaled)
    }

    /// `map` as this receiver may see it.
    fn filter(&self, map: &ConferenceSourceMap) -> ConferenceSourceMap {
        let mut out = ConferenceSourceMap::new();
        for (owner, set) in map.iter() {
            if let Some(set) = self.filter_set(set) {
                out.add(owner, &set);
            }
        }
        out
    }

    /// One owner's set as this receiver may see it; `None` when nothing
    /// of it is for the receiver.
    fn filter_set(&self, set: &EndpointSourceSet) -> Option<EndpointSourceSet> {
        let keep = |m: MediaType| match m {
            MediaType::Audio => self.opts.audio,
            MediaType::Video => self.opts.video,
        };
        let set = if self.opts.audio && self.opts.video {
            if !self.opts.strip_simulcast {
                return Some(set.clone());
            }
            set.strip_simulcast()
        } else {
            let sources: Vec<_> = set
                .sources
                .iter()
                .filter(|s| keep(s.media))
                .cloned()
                .collect();
            // As in Jicofo: an owner without a supported source is
            // dropped, groups and all.
            if sources.is_empty() {
                return None;
            }
            let set = EndpointSourceSet {
                sources,
                groups: set
                    .groups
                    .iter()
                    .filter(|g| keep(g.media))
                    .cloned()
                    .collect(),
            };
            if self.opts.strip_simulcast {
                set.strip_simulcast()
            } else {
                set
            }
        };
        Some(set)
    }
}

#[cfg(test)]
mod tests;
