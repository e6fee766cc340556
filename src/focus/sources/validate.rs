//! The conference's sources, changed only through validated requests
//! (protocol.md §5.6, CURRENT column; Jicofo's
//! `ValidatingConferenceSourceMap`).
//!
//! A request is checked whole against the endpoint's resulting set and the
//! rest of the conference, and either applied whole or refused with the
//! map unchanged: the checks run on scratch copies and the map is touched
//! only after the last one passed.
//!
//! Where this differs from Jicofo, it is on input no client sends, and
//! always by refusing what Jicofo would have stored inconsistently:
//!
//! * two sources with one SSRC in a single request (Jicofo checks each
//!   against the conference only, so both got in);
//! * a group naming an SSRC that exists only in the *other* media (Jicofo
//!   matched group members by SSRC alone);
//! * an unknown group semantics or `videoType` is refused with
//!   `bad-request` here; Jicofo failed while parsing the Jingle.

use std::collections::HashMap;

use super::{SourceConfig, SourceError};
use crate::stanza::sources::{
    ConferenceSourceMap, EndpointSourceSet, FID, MediaType, SIM, Source, Ssrc, SsrcGroup,
};

/// The conference's sources by owner (endpoint id), with indexes of who
/// uses which SSRC and msid, so that the conference-wide checks do not
/// scan every endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatingSourceMap {
    max_ssrcs: usize,
    max_groups: usize,
    map: ConferenceSourceMap,
    /// Every SSRC in the map and its owner.
    ssrc_owner: HashMap<Ssrc, Box<str>>,
    /// Every msid in the map and its owner. An msid has one owner: the
    /// conflict check refuses a second.
    msid_owner: HashMap<Box<str>, Box<str>>,
}

impl ValidatingSourceMap {
    /// An empty map with these per-endpoint limits.
    pub fn new(max_ssrcs_per_user: usize, max_ssrc_groups_per_user: usize) -> Self {
        ValidatingSourceMap {
            max_ssrcs: max_ssrcs_per_user,
            max_groups: max_ssrc_groups_per_user,
            map: ConferenceSourceMap::new(),
            ssrc_owner: HashMap::new(),
            msid_owner: HashMap::new(),
        }
    }

    /// An empty map with the configured limits.
    pub fn from_config(cfg: &SourceConfig) -> Self {
        Self::new(cfg.max_ssrcs_per_user, cfg.max_ssrc_groups_per_user)
    }

    /// Every owner's sources (owners sorted).
    pub fn map(&self) -> &ConferenceSourceMap {
        &self.map
    }

    /// An owner's sources; `None` when it has none.
    pub fn get(&self, owner: &str) -> Option<&EndpointSourceSet> {
        self.map.get(owner)
    }

    /// Owners and their sources, owners sorted.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &EndpointSourceSet)> {
        self.map.iter()
    }

    /// Number of owners with sources.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when nobody has a source.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Who uses an SSRC.
    pub fn owner_of(&self, ssrc: Ssrc) -> Option<&str> {
        self.ssrc_owner.get(&ssrc).map(|o| &**o)
    }

    /// Adds `request` to `owner`'s sources if the result is valid, and
    /// returns what was added: the request normalised (parameters other
    /// than `msid` dropped, `videoType` and group semantics in their
    /// canonical spelling, repeated items once) without the empty groups
    /// and the groups the owner already has, which are ignored rather than
    /// refused. An empty request adds nothing and is no error.
    pub fn try_add(
        &mut self,
        owner: &str,
        request: &EndpointSourceSet,
    ) -> Result<EndpointSourceSet, SourceError> {
        // Unknown semantics and video types are refused first: Jicofo
        // fails on them while parsing, before any other check.
        let groups = normalize_groups(&request.groups)?;
        let sources = normalize_sources(&request.sources)?;
        let none = EndpointSourceSet::new();
        let existing = self.map.get(owner).unwrap_or(&none);

        // Per source, in request order: range, conference-wide SSRC, other
        // endpoints' msids, then the count (Jicofo's order, which decides
        // which error a request breaking several rules gets).
        let would_have = existing.sources.len() + sources.len();
        for (i, s) in sources.iter().enumerate() {
            if s.ssrc.0 == 0 {
                return Err(SourceError::InvalidSsrc(s.ssrc));
            }
            if self.ssrc_owner.contains_key(&s.ssrc)
                || sources[..i].iter().any(|o| o.ssrc == s.ssrc)
            {
                return Err(SourceError::SsrcAlreadyUsed(s.ssrc));
            }
            if let Some(msid) = &s.msid
                && self.msid_owner.get(msid).is_some_and(|o| &**o != owner)
            {
                return Err(SourceError::MsidConflict {
                    msid: msid.clone(),
                    ssrc: s.ssrc,
                });
            }
            if would_have > self.max_ssrcs {
                return Err(SourceError::SsrcLimitExceeded {
                    limit: self.max_ssrcs,
                    would_have,
                });
            }
        }

        let mut accepted_groups = Vec::new();
        for g in groups {
            if g.ssrcs.is_empty() {
                log::debug!("{owner}: empty {} group ignored", g.semantics);
                continue;
            }
            if existing.groups.contains(&g) {
                log::debug!("{owner}: group {} signalled again, ignored", show(&g));
                continue;
            }
            let known = |ssrc: &Ssrc| {
                existing
                    .sources
                    .iter()
                    .chain(&sources)
                    .any(|s| s.ssrc == *ssrc && s.media == g.media)
            };
            if let Some(&ssrc) = g.ssrcs.iter().find(|s| !known(s)) {
                return Err(SourceError::GroupUnknownSsrc {
                    group: show(&g),
                    ssrc,
                });
            }
            accepted_groups.push(g);
        }
        let would_have = existing.groups.len() + accepted_groups.len();
        if would_have > self.max_groups {
            return Err(SourceError::SsrcGroupLimitExceeded {
                limit: self.max_groups,
                would_have,
            });
        }

        let accepted = EndpointSourceSet {
            sources,
            groups: accepted_groups,
        };
        let mut result = existing.clone();
        result.sources.extend(accepted.sources.iter().cloned());
        result.groups.extend(accepted.groups.iter().cloned());
        validate_set(&result)?;

        // Every check passed: now, and only now, change the map.
        self.map.add(owner, &accepted);
        for s in &accepted.sources {
            self.ssrc_owner.insert(s.ssrc, owner.into());
            if let Some(msid) = &s.msid {
                self.msid_owner.insert(msid.clone(), owner.into());
            }
        }
        Ok(accepted)
    }

    /// Removes what `request` names from `owner`'s sources if the result
    /// is valid, and returns what was removed. Sources are named by SSRC
    /// alone (media and parameters need not match); groups must match
    /// exactly. Groups that lose a member are removed too and are part of
    /// the result, as are the stored sources with all their data (what
    /// the others were told). An empty request removes nothing and is no
    /// error.
    pub fn try_remove(
        &mut self,
        owner: &str,
        request: &EndpointSourceSet,
    ) -> Result<EndpointSourceSet, SourceError> {
        if request.is_empty() {
            return Ok(EndpointSourceSet::new());
        }
        let groups = normalize_groups(&request.groups)?;
        let Some(existing) = self.map.get(owner) else {
            let named = request
                .sources
                .iter()
                .map(|s| s.ssrc)
                .chain(request.groups.iter().flat_map(|g| g.ssrcs.iter().copied()))
                .next();
            return Err(SourceError::SourceNotOwned(named));
        };

        let mut removed = EndpointSourceSet::new();
        for s in &request.sources {
            let Some(found) = existing.sources.iter().find(|e| e.ssrc == s.ssrc) else {
                return Err(SourceError::SourceNotOwned(Some(s.ssrc)));
            };
            removed.add_source(found.clone());
        }
        if let Some(g) = groups.iter().find(|g| !existing.groups.contains(g)) {
            return Err(SourceError::GroupNotOwned { group: show(g) });
        }
        // In the owner's order; a group goes when named or when one of its
        // SSRCs does (SSRCs are unique in the conference, so the SSRC alone
        // identifies the source).
        removed.groups = existing
            .groups
            .iter()
            .filter(|g| groups.contains(g) || g.ssrcs.iter().any(|s| removed.source(*s).is_some()))
            .cloned()
            .collect();

        let result = EndpointSourceSet {
            sources: existing
                .sources
                .iter()
                .filter(|s| removed.source(s.ssrc).is_none())
                .cloned()
                .collect(),
            groups: existing
                .groups
                .iter()
                .filter(|g| !removed.groups.contains(g))
                .cloned()
                .collect(),
        };
        validate_set(&result)?;

        // Every check passed: change the map.
        self.map.remove(owner, &removed);
        self.unindex(owner, &removed);
        Ok(removed)
    }

    /// Drops every source of `owner` (it left, or is re-invited or moved)
    /// and returns them; `None` when it had none.
    pub fn remove_owner(&mut self, owner: &str) -> Option<EndpointSourceSet> {
        let removed = self.map.remove_owner(owner)?;
        self.unindex(owner, &removed);
        Some(removed)
    }

    /// Drops every owner's sources (the conference's media ended); the
    /// limits stay.
    pub fn clear(&mut self) {
        self.map = ConferenceSourceMap::new();
        self.ssrc_owner.clear();
        self.msid_owner.clear();
    }

    /// Takes `removed`, already gone from `owner`'s set, out of the
    /// indexes. An msid stays while another source of the owner has it
    /// (audio and video may share one).
    fn unindex(&mut self, owner: &str, removed: &EndpointSourceSet) {
        let remaining = self.map.get(owner);
        for s in &removed.sources {
            self.ssrc_owner.remove(&s.ssrc);
            if let Some(msid) = &s.msid {
                let still_used = remaining
                    .is_some_and(|r| r.sources.iter().any(|o| o.msid.as_ref() == Some(msid)));
                if !still_used {
                    self.msid_owner.remove(msid);
                }
            }
        }
    }

    /// Checks that the indexes say exactly what the map says (tests).
    #[cfg(test)]
    pub(crate) fn assert_consistent(&self) {
        let mut ssrcs = HashMap::new();
        let mut msids = HashMap::new();
        for (owner, set) in self.map.iter() {
            assert!(!set.is_empty(), "{owner} kept with an empty set");
            for s in &set.sources {
                assert!(
                    ssrcs.insert(s.ssrc, Box::<str>::from(owner)).is_none(),
                    "SSRC {} twice",
                    s.ssrc
                );
                if let Some(m) = &s.msid {
                    let prev = msids.insert(m.clone(), Box::<str>::from(owner));
                    assert!(prev.is_none_or(|p| &*p == owner), "msid {m} shared");
                }
            }
            validate_set(set).expect("a stored set is valid");
        }
        assert_eq!(ssrcs, self.ssrc_owner);
        assert_eq!(msids, self.msid_owner);
    }
}

/// The request's sources as they are stored: only the `msid` parameter
/// kept (CURRENT Jicofo reads no other), `videoType` spelled `camera` or
/// `desktop`, each distinct source once.
fn normalize_sources(sources: &[Source]) -> Result<Vec<Source>, SourceError> {
    let mut out: Vec<Source> = Vec::with_capacity(sources.len());
    for s in sources {
        let mut s = s.clone();
        s.parameters.clear();
        if let Some(vt) = &s.video_type {
            s.video_type =
                Some(
                    canonical_video_type(vt).ok_or_else(|| SourceError::InvalidVideoType {
                        ssrc: s.ssrc,
                        video_type: vt.clone(),
                    })?,
                );
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

fn canonical_video_type(vt: &str) -> Option<Box<str>> {
    ["camera", "desktop"]
        .into_iter()
        .find(|c| vt.eq_ignore_ascii_case(c))
        .map(Box::from)
}

/// The request's groups with semantics `SIM` or `FID` in upper case (Jicofo
/// reads them in any case and writes upper case), each distinct group once.
fn normalize_groups(groups: &[SsrcGroup]) -> Result<Vec<SsrcGroup>, SourceError> {
    let mut out: Vec<SsrcGroup> = Vec::with_capacity(groups.len());
    for g in groups {
        let semantics = [SIM, FID]
            .into_iter()
            .find(|k| g.semantics.eq_ignore_ascii_case(k))
            .ok_or_else(|| SourceError::InvalidGroupSemantics(g.semantics.clone()))?;
        let g = SsrcGroup {
            semantics: semantics.into(),
            media: g.media,
            ssrcs: g.ssrcs.clone(),
        };
        if !out.contains(&g) {
            out.push(g);
        }
    }
    Ok(out)
}

/// A group for messages: `SIM[1, 2, 3]`.
fn show(g: &SsrcGroup) -> Box<str> {
    let ssrcs: Vec<String> = g.ssrcs.iter().map(|s| s.to_string()).collect();
    format!("{}[{}]", g.semantics, ssrcs.join(", ")).into()
}

/// The rules on one endpoint's whole set: every group member is a source
/// of the group's media, an FID group has two members, grouped sources have
/// an msid and a group one msid, and no two streams of one media share an
/// msid. Groups are non-empty here (empty ones are dropped before).
fn validate_set(set: &EndpointSourceSet) -> Result<(), SourceError> {
    for g in &set.groups {
        let mut group_msid: Option<&str> = None;
        for &ssrc in &g.ssrcs {
            let Some(source) = set
                .sources
                .iter()
                .find(|s| s.ssrc == ssrc && s.media == g.media)
            else {
                // Unreachable through try_add/try_remove, which check or
                // remove such groups first; refusing beats panicking.
                return Err(SourceError::GroupUnknownSsrc {
                    group: show(g),
                    ssrc,
                });
            };
            if g.is_fid() && g.ssrcs.len() != 2 {
                return Err(SourceError::InvalidFidGroup { group: show(g) });
            }
            let Some(msid) = source.msid.as_deref() else {
                return Err(SourceError::MsidMissing { ssrc });
            };
            match group_msid {
                None => group_msid = Some(msid),
                Some(m) if m != msid => {
                    return Err(SourceError::GroupMsidMismatch {
                        group: show(g),
                        ssrc,
                    });
                }
                Some(_) => {}
            }
        }
    }

    // One msid per stream: a stream is a simulcast group with the RTX
    // pairs of its layers, else an FID pair, else a lone source. Audio and
    // video are separate (a camera and its microphone may share an msid).
    // Sources without an msid belong to no stream and never conflict.
    for media in MediaType::ALL {
        let mut streams: Vec<Stream> = Vec::new();
        let mut msids: Vec<&str> = Vec::new();
        for s in set.sources.iter().filter(|s| s.media == media) {
            let Some(msid) = s.msid.as_deref() else {
                continue;
            };
            let stream = stream_of(s.ssrc, media, &set.groups);
            if streams.contains(&stream) {
                continue;
            }
            streams.push(stream);
            if msids.contains(&msid) {
                return Err(SourceError::MsidConflict {
                    msid: msid.into(),
                    ssrc: s.ssrc,
                });
            }
            msids.push(msid);
        }
    }
    Ok(())
}

/// Which stream a source belongs to: a group's index, or itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    Group(usize),
    Alone(Ssrc),
}

/// The stream of `ssrc`: its simulcast group; else its FID pair, or, for
/// the RTX SSRC of a pair whose primary is a simulcast layer, that
/// simulcast group; else the source alone.
fn stream_of(ssrc: Ssrc, media: MediaType, groups: &[SsrcGroup]) -> Stream {
    let find = |want_sim: bool, member: Ssrc| {
        groups.iter().position(|g| {
            g.media == media
                && (if want_sim { g.is_sim() } else { g.is_fid() })
                && g.contains(member)
        })
    };
    if let Some(sim) = find(true, ssrc) {
        return Stream::Group(sim);
    }
    if let Some(fid) = find(false, ssrc) {
        let pair = &groups[fid].ssrcs;
        if pair.get(1) == Some(&ssrc)
            && let Some(sim) = find(true, pair[0])
        {
            return Stream::Group(sim);
        }
        return Stream::Group(fid);
    }
    Stream::Alone(ssrc)
}

#[cfg(test)]
mod tests;
