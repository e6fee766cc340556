//! The media sources model: who sends which SSRCs, and how they are grouped.
//!
//! Participants announce their sources in Jingle (`session-accept`,
//! `source-add`, `source-remove`, protocol.md §5.4–5.5); the focus keeps them
//! per endpoint, tells the bridge (Colibri) and tells every other participant
//! (Jingle, with `<ssrc-info owner>`). This module is only the data: a
//! [`Source`], an [`SsrcGroup`], one endpoint's [`EndpointSourceSet`] and the
//! whole conference's [`ConferenceSourceMap`]. Every operation here is plain
//! set arithmetic and accepts anything, even what Jicofo's validation rejects
//! (SSRC 0, groups naming unknown SSRCs, an FID group of three): the
//! validation policy of §5.6 sits in front of these operations and decides
//! what reaches them, so the arithmetic stays simple and total.
//!
//! Sets compare as sets (order does not matter), as Jicofo's do; inside,
//! they keep insertion order, so what the focus writes is deterministic and
//! follows the order participants announced. Endpoint sets are small
//! (Jicofo's limits are 20 sources and 20 groups), so linear scans are the
//! right tool.

use std::collections::BTreeMap;
use std::rc::Rc;

/// An RTP synchronisation source identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ssrc(pub u32);

impl std::fmt::Display for Ssrc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The media a source carries. Data channels have no SSRCs, so only two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MediaType {
    /// `audio`
    Audio,
    /// `video`
    Video,
}

impl MediaType {
    /// Both, in the order the focus writes contents.
    pub const ALL: [MediaType; 2] = [MediaType::Audio, MediaType::Video];

    /// The name on the wire (Jingle `media`, content name, Colibri2 `type`).
    pub fn name(self) -> &'static str {
        match self {
            MediaType::Audio => "audio",
            MediaType::Video => "video",
        }
    }

    /// The media for a wire name; `None` for anything else (`application`,
    /// `data`, …). Exact match, as clients only ever send lower case.
    pub fn from_name(name: &str) -> Option<MediaType> {
        match name {
            "audio" => Some(MediaType::Audio),
            "video" => Some(MediaType::Video),
            _ => None,
        }
    }
}

/// One announced source: an SSRC of one media, with what identifies it.
///
/// CURRENT Jicofo keeps only the `msid` parameter plus the `name` and
/// `videoType` attributes and drops every other `<parameter>`; SEED kept all
/// of them (`cname`, `mslabel`, `label`) and rewrote some (§5.4). Both are
/// possible here: `msid` has its own field and the other parameters stay in
/// [`Source::parameters`] in the order received, for the policy to keep or
/// clear.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Source {
    /// The SSRC.
    pub ssrc: Ssrc,
    /// Audio or video (from the Jingle content it came in).
    pub media: MediaType,
    /// The source name (`abcd1234-v0`), from current clients.
    pub name: Option<Box<str>>,
    /// `camera` or `desktop` (the client's value, unchecked).
    pub video_type: Option<Box<str>>,
    /// The `msid` parameter: `<stream id> <track id>`.
    pub msid: Option<Box<str>>,
    /// Every other `<parameter>` as `(name, value)`, in order.
    pub parameters: Vec<(Box<str>, Box<str>)>,
}

impl Source {
    /// A source with only an SSRC.
    pub fn new(ssrc: u32, media: MediaType) -> Source {
        Source {
            ssrc: Ssrc(ssrc),
            media,
            name: None,
            video_type: None,
            msid: None,
            parameters: Vec::new(),
        }
    }

    /// Sets the source name.
    pub fn with_name(mut self, name: &str) -> Source {
        self.name = Some(name.into());
        self
    }

    /// Sets the video type.
    pub fn with_video_type(mut self, video_type: &str) -> Source {
        self.video_type = Some(video_type.into());
        self
    }

    /// Sets the msid.
    pub fn with_msid(mut self, msid: &str) -> Source {
        self.msid = Some(msid.into());
        self
    }

    /// Adds another parameter (`cname`, `mslabel`, …).
    pub fn with_parameter(mut self, name: &str, value: &str) -> Source {
        self.parameters.push((name.into(), value.into()));
        self
    }

    /// The value of another parameter, by name.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| &**v)
    }
}

/// `SIM`: simulcast layers, lowest first.
pub const SIM: &str = "SIM";
/// `FID`: a primary SSRC and its RTX (retransmission) SSRC.
pub const FID: &str = "FID";

/// A `<ssrc-group>`: SSRCs of one media bound by a semantics.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SsrcGroup {
    /// `SIM`, `FID`, `FEC-FR`, … as received (checked by validation).
    pub semantics: Box<str>,
    /// The media of the content the group came in; the wire group has no
    /// media of its own, but the focus must write it into the right content.
    pub media: MediaType,
    /// The SSRCs, in order (the order carries meaning for SIM and FID).
    pub ssrcs: Vec<Ssrc>,
}

impl SsrcGroup {
    /// A group from SSRC numbers.
    pub fn new(semantics: &str, media: MediaType, ssrcs: &[u32]) -> SsrcGroup {
        SsrcGroup {
            semantics: semantics.into(),
            media,
            ssrcs: ssrcs.iter().copied().map(Ssrc).collect(),
        }
    }

    /// True for `SIM`.
    pub fn is_sim(&self) -> bool {
        &*self.semantics == SIM
    }

    /// True for `FID`.
    pub fn is_fid(&self) -> bool {
        &*self.semantics == FID
    }

    /// True when the group names this SSRC.
    pub fn contains(&self, ssrc: Ssrc) -> bool {
        self.ssrcs.contains(&ssrc)
    }
}

/// The sources and groups of one endpoint (or any set of them: what a
/// `source-add` carries, what was removed).
#[derive(Debug, Clone, Default, Eq)]
pub struct EndpointSourceSet {
    /// Sources in announcement order, no two equal.
    pub sources: Vec<Source>,
    /// Groups in announcement order, no two equal.
    pub groups: Vec<SsrcGroup>,
}

/// Set equality: the same sources and groups in any order.
impl PartialEq for EndpointSourceSet {
    fn eq(&self, other: &Self) -> bool {
        self.sources.len() == other.sources.len()
            && self.groups.len() == other.groups.len()
            && self.sources.iter().all(|s| other.sources.contains(s))
            && other.sources.iter().all(|s| self.sources.contains(s))
            && self.groups.iter().all(|g| other.groups.contains(g))
            && other.groups.iter().all(|g| self.groups.contains(g))
    }
}

impl EndpointSourceSet {
    /// An empty set.
    pub const fn new() -> EndpointSourceSet {
        EndpointSourceSet {
            sources: Vec::new(),
            groups: Vec::new(),
        }
    }

    /// True when there is neither a source nor a group. (A set with groups
    /// but no sources is not empty: a `source-remove` may name only groups.)
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty() && self.groups.is_empty()
    }

    /// Adds a source unless an equal one is there; true when added.
    pub fn add_source(&mut self, source: Source) -> bool {
        if self.sources.contains(&source) {
            return false;
        }
        self.sources.push(source);
        true
    }

    /// Adds a group unless an equal one is there; true when added.
    pub fn add_group(&mut self, group: SsrcGroup) -> bool {
        if self.groups.contains(&group) {
            return false;
        }
        self.groups.push(group);
        true
    }

    /// Adds everything of `other` this set lacks (set union).
    pub fn merge(&mut self, other: &EndpointSourceSet) {
        for s in &other.sources {
            if !self.sources.contains(s) {
                self.sources.push(s.clone());
            }
        }
        for g in &other.groups {
            if !self.groups.contains(g) {
                self.groups.push(g.clone());
            }
        }
    }

    /// Removes what `other` names and returns what was actually removed.
    /// Sources are matched by media and SSRC only (a `source-remove` may
    /// name a source by SSRC alone, §5.5); groups must be equal. Groups that
    /// refer to a removed SSRC stay: dropping them is policy (CURRENT does,
    /// SEED did not).
    pub fn remove(&mut self, other: &EndpointSourceSet) -> EndpointSourceSet {
        let mut removed = EndpointSourceSet::new();
        self.sources.retain(|s| {
            let gone = other
                .sources
                .iter()
                .any(|o| o.ssrc == s.ssrc && o.media == s.media);
            if gone {
                removed.sources.push(s.clone());
            }
            !gone
        });
        self.groups.retain(|g| {
            let gone = other.groups.contains(g);
            if gone {
                removed.groups.push(g.clone());
            }
            !gone
        });
        removed
    }

    /// What this set has that `other` has not (set difference; items
    /// compare whole).
    pub fn difference(&self, other: &EndpointSourceSet) -> EndpointSourceSet {
        EndpointSourceSet {
            sources: self
                .sources
                .iter()
                .filter(|s| !other.sources.contains(s))
                .cloned()
                .collect(),
            groups: self
                .groups
                .iter()
                .filter(|g| !other.groups.contains(g))
                .cloned()
                .collect(),
        }
    }

    /// The sources of one media, in order.
    pub fn sources_of(&self, media: MediaType) -> impl Iterator<Item = &Source> {
        self.sources.iter().filter(move |s| s.media == media)
    }

    /// The groups of one media, in order.
    pub fn groups_of(&self, media: MediaType) -> impl Iterator<Item = &SsrcGroup> {
        self.groups.iter().filter(move |g| g.media == media)
    }

    /// The SSRCs of one media, in order.
    pub fn ssrcs_of(&self, media: MediaType) -> impl Iterator<Item = Ssrc> + '_ {
        self.sources_of(media).map(|s| s.ssrc)
    }

    /// True when the set has a source or a group of this media.
    pub fn has_media(&self, media: MediaType) -> bool {
        self.sources.iter().any(|s| s.media == media)
            || self.groups.iter().any(|g| g.media == media)
    }

    /// The first source with this SSRC, of either media.
    pub fn source(&self, ssrc: Ssrc) -> Option<&Source> {
        self.sources.iter().find(|s| s.ssrc == ssrc)
    }

    /// The set a receiver gets with `strip-simulcast` (§5.3): of each SIM
    /// group only the first SSRC, and of the FID groups only those whose
    /// primary survives. Unlike Jicofo, an FID group that is not a pair
    /// does not make this fail: it is kept or dropped like any other, as
    /// validation has rejected such groups before they get here.
    pub fn strip_simulcast(&self) -> EndpointSourceSet {
        let mut dropped: Vec<(MediaType, Ssrc)> = Vec::new();
        for g in self.groups.iter().filter(|g| g.is_sim()) {
            dropped.extend(g.ssrcs.iter().skip(1).map(|s| (g.media, *s)));
        }
        let mut dropped_fid: Vec<&SsrcGroup> = Vec::new();
        for g in self.groups.iter().filter(|g| g.is_fid()) {
            if let Some(primary) = g.ssrcs.first() {
                if dropped.contains(&(g.media, *primary)) {
                    dropped.extend(g.ssrcs.iter().skip(1).map(|s| (g.media, *s)));
                    dropped_fid.push(g);
                }
            }
        }
        EndpointSourceSet {
            sources: self
                .sources
                .iter()
                .filter(|s| !dropped.contains(&(s.media, s.ssrc)))
                .cloned()
                .collect(),
            groups: self
                .groups
                .iter()
                .filter(|g| !g.is_sim() && !dropped_fid.contains(g))
                .cloned()
                .collect(),
        }
    }
}

/// Every endpoint's sources in a conference, keyed by owner: the endpoint
/// id (the MUC nick), or `jvb` for the bridge's feedback sources. Owners
/// iterate in sorted order, so anything written from the map is
/// deterministic. An owner whose set becomes empty is dropped.
///
/// Owners and sets are reference-counted and copied on write: the focus
/// keeps, per participant, what it told that participant (a copy of the
/// conference's map, mostly unchanged), and a deep copy each would make
/// memory grow with the square of the room size.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConferenceSourceMap {
    map: BTreeMap<Rc<str>, Rc<EndpointSourceSet>>,
}

impl ConferenceSourceMap {
    /// An empty map.
    pub fn new() -> ConferenceSourceMap {
        ConferenceSourceMap::default()
    }

    /// True when no owner has any source or group.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Number of owners with a non-empty set.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// An owner's set.
    pub fn get(&self, owner: &str) -> Option<&EndpointSourceSet> {
        self.map.get(owner).map(|s| &**s)
    }

    /// Makes `owner`'s set here the same as in `other` (absent there:
    /// absent here), sharing it rather than copying it.
    pub fn set_owner_from(&mut self, other: &ConferenceSourceMap, owner: &str) {
        match other.map.get_key_value(owner) {
            Some((k, v)) => {
                self.map.insert(k.clone(), v.clone());
            }
            None => {
                self.map.remove(owner);
            }
        }
    }

    /// Drops an owner without handing its set back.
    pub fn drop_owner(&mut self, owner: &str) -> bool {
        self.map.remove(owner).is_some()
    }

    /// Where `owner`'s set here equals the one in `other`, shares
    /// `other`'s instead of keeping a copy of its own.
    pub fn share_owner_from(&mut self, other: &ConferenceSourceMap, owner: &str) {
        if let (Some(mine), Some(theirs)) = (self.map.get_mut(owner), other.map.get(owner))
            && !Rc::ptr_eq(mine, theirs)
            && **mine == **theirs
        {
            *mine = theirs.clone();
        }
    }

    /// Owners and their sets, owners sorted.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &EndpointSourceSet)> {
        self.map.iter().map(|(k, v)| (&**k, &**v))
    }

    /// Adds `set` to what `owner` has (union). An empty set adds no owner.
    pub fn add(&mut self, owner: &str, set: &EndpointSourceSet) {
        if set.is_empty() {
            return;
        }
        match self.map.get_mut(owner) {
            Some(mine) => Rc::make_mut(mine).merge(set),
            None => {
                // Through `merge` so duplicates inside `set` collapse.
                let mut mine = EndpointSourceSet::new();
                mine.merge(set);
                self.map.insert(owner.into(), Rc::new(mine));
            }
        }
    }

    /// Adds every owner's set of `other`.
    pub fn add_map(&mut self, other: &ConferenceSourceMap) {
        for (owner, set) in other.iter() {
            self.add(owner, set);
        }
    }

    /// Removes from `owner` what `set` names (see
    /// [`EndpointSourceSet::remove`]) and returns what was actually removed;
    /// nothing for an unknown owner.
    pub fn remove(&mut self, owner: &str, set: &EndpointSourceSet) -> EndpointSourceSet {
        let Some(mine) = self.map.get_mut(owner) else {
            return EndpointSourceSet::new();
        };
        let removed = Rc::make_mut(mine).remove(set);
        if mine.is_empty() {
            self.map.remove(owner);
        }
        removed
    }

    /// Removes every owner's set of `other` and returns what was actually
    /// removed, per owner.
    pub fn remove_map(&mut self, other: &ConferenceSourceMap) -> ConferenceSourceMap {
        let mut removed = ConferenceSourceMap::new();
        for (owner, set) in other.iter() {
            let r = self.remove(owner, set);
            removed.add(owner, &r);
        }
        removed
    }

    /// Drops an owner (a participant left) and returns its set.
    pub fn remove_owner(&mut self, owner: &str) -> Option<EndpointSourceSet> {
        self.map
            .remove(owner)
            .map(|s| Rc::try_unwrap(s).unwrap_or_else(|shared| (*shared).clone()))
    }

    /// The owner of the first source with this SSRC, and the source.
    pub fn find(&self, ssrc: Ssrc) -> Option<(&str, &Source)> {
        self.iter()
            .find_map(|(owner, set)| set.source(ssrc).map(|s| (owner, s)))
    }

    /// The map with every set passed through
    /// [`EndpointSourceSet::strip_simulcast`].
    pub fn strip_simulcast(&self) -> ConferenceSourceMap {
        let mut out = ConferenceSourceMap::new();
        for (owner, set) in self.iter() {
            out.add(owner, &set.strip_simulcast());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MediaType::{Audio, Video};

    /// A camera with three simulcast layers, each with RTX, as the current
    /// client announces it (peers.md).
    fn simulcast_camera(base: u32) -> EndpointSourceSet {
        let mut set = EndpointSourceSet::new();
        for ssrc in base..base + 6 {
            set.add_source(
                Source::new(ssrc, Video)
                    .with_name("ab-v0")
                    .with_video_type("camera")
                    .with_msid("s t"),
            );
        }
        set.add_group(SsrcGroup::new(SIM, Video, &[base, base + 1, base + 2]));
        for i in 0..3 {
            set.add_group(SsrcGroup::new(FID, Video, &[base + i, base + 3 + i]));
        }
        set.add_source(Source::new(7, Audio).with_name("ab-a0"));
        set
    }

    #[test]
    fn media_names() {
        for m in MediaType::ALL {
            assert_eq!(MediaType::from_name(m.name()), Some(m));
        }
        assert_eq!(MediaType::from_name("application"), None);
        assert_eq!(MediaType::from_name("Audio"), None);
    }

    #[test]
    fn sets_compare_as_sets_and_add_dedupes() {
        let mut a = EndpointSourceSet::new();
        assert!(a.add_source(Source::new(1, Audio)));
        assert!(!a.add_source(Source::new(1, Audio)));
        // Same SSRC with other data is another source (validation decides).
        assert!(a.add_source(Source::new(1, Audio).with_name("x")));
        assert!(a.add_group(SsrcGroup::new(FID, Video, &[2, 3])));
        assert!(!a.add_group(SsrcGroup::new(FID, Video, &[2, 3])));
        // Order inside a group matters.
        assert!(a.add_group(SsrcGroup::new(FID, Video, &[3, 2])));

        let mut b = EndpointSourceSet::new();
        b.add_group(SsrcGroup::new(FID, Video, &[3, 2]));
        b.add_group(SsrcGroup::new(FID, Video, &[2, 3]));
        b.add_source(Source::new(1, Audio).with_name("x"));
        b.add_source(Source::new(1, Audio));
        assert_eq!(a, b);
        b.groups.pop();
        assert_ne!(a, b);
        assert!(!a.is_empty());
        assert!(EndpointSourceSet::new().is_empty());
        let only_group = EndpointSourceSet {
            sources: vec![],
            groups: vec![SsrcGroup::new(SIM, Video, &[])],
        };
        assert!(!only_group.is_empty());
    }

    #[test]
    fn merge_remove_difference() {
        let cam = simulcast_camera(100);
        let mut set = EndpointSourceSet::new();
        set.merge(&cam);
        set.merge(&cam);
        assert_eq!(set, cam);
        assert_eq!(set.sources.len(), 7);

        // Remove by SSRC only: the request carries no name.
        let mut req = EndpointSourceSet::new();
        req.add_source(Source::new(7, Audio));
        req.add_source(Source::new(100, Audio)); // wrong media: not removed
        req.add_source(Source::new(999, Video)); // unknown: not removed
        req.add_group(SsrcGroup::new(SIM, Video, &[100, 101, 102]));
        let removed = set.remove(&req);
        assert_eq!(
            removed.sources,
            vec![Source::new(7, Audio).with_name("ab-a0")]
        );
        assert_eq!(
            removed.groups,
            vec![SsrcGroup::new(SIM, Video, &[100, 101, 102])]
        );
        assert_eq!(set.sources.len(), 6);
        assert_eq!(
            set.groups.len(),
            3,
            "FID groups stay: dropping them is policy"
        );

        let diff = cam.difference(&set);
        assert_eq!(diff, removed);
        assert!(set.difference(&cam).is_empty());
    }

    #[test]
    fn per_media_views() {
        let cam = simulcast_camera(100);
        assert_eq!(
            cam.ssrcs_of(Video).map(|s| s.0).collect::<Vec<_>>(),
            vec![100, 101, 102, 103, 104, 105]
        );
        assert_eq!(cam.ssrcs_of(Audio).collect::<Vec<_>>(), vec![Ssrc(7)]);
        assert_eq!(cam.groups_of(Video).count(), 4);
        assert_eq!(cam.groups_of(Audio).count(), 0);
        assert!(cam.has_media(Audio) && cam.has_media(Video));
        assert_eq!(cam.source(Ssrc(7)).unwrap().name.as_deref(), Some("ab-a0"));
        assert!(cam.source(Ssrc(8)).is_none());
        let s = Source::new(1, Audio).with_parameter("cname", "c");
        assert_eq!(s.parameter("cname"), Some("c"));
        assert_eq!(s.parameter("label"), None);
    }

    #[test]
    fn strip_simulcast_keeps_first_layer_and_its_rtx() {
        let cam = simulcast_camera(100);
        let s = cam.strip_simulcast();
        assert_eq!(
            s.sources.iter().map(|s| s.ssrc.0).collect::<Vec<_>>(),
            vec![100, 103, 7]
        );
        assert_eq!(s.groups, vec![SsrcGroup::new(FID, Video, &[100, 103])]);
        // Nothing to strip without SIM.
        let plain = EndpointSourceSet {
            sources: vec![Source::new(1, Video), Source::new(2, Video)],
            groups: vec![SsrcGroup::new(FID, Video, &[1, 2])],
        };
        assert_eq!(plain.strip_simulcast(), plain);
    }

    #[test]
    fn conference_map_add_remove_owner() {
        let mut map = ConferenceSourceMap::new();
        assert!(map.is_empty());
        map.add("zz", &EndpointSourceSet::new());
        assert!(map.is_empty(), "an empty set adds no owner");
        map.add("bb", &simulcast_camera(100));
        map.add("aa", &simulcast_camera(200));
        map.add(
            "jvb",
            &EndpointSourceSet {
                sources: vec![Source::new(5, Audio).with_name("jvb-a0")],
                groups: vec![],
            },
        );
        assert_eq!(map.len(), 3);
        assert_eq!(
            map.iter().map(|(o, _)| o).collect::<Vec<_>>(),
            vec!["aa", "bb", "jvb"]
        );
        assert_eq!(
            map.find(Ssrc(201)).map(|(o, s)| (o, s.ssrc)),
            Some(("aa", Ssrc(201)))
        );
        assert_eq!(map.find(Ssrc(5)).map(|(o, _)| o), Some("jvb"));
        assert!(map.find(Ssrc(6)).is_none());

        // Removing everything of an owner drops it.
        let all_bb = map.get("bb").unwrap().clone();
        let removed = map.remove("bb", &all_bb);
        assert_eq!(removed, all_bb);
        assert!(map.get("bb").is_none());
        assert!(map.remove("nobody", &all_bb).is_empty());

        let aa = map.remove_owner("aa").unwrap();
        assert_eq!(aa, simulcast_camera(200));
        assert_eq!(map.remove_owner("aa"), None);
        assert_eq!(map.len(), 1);
    }

    #[test]
    fn conference_map_add_and_remove_maps() {
        let mut a = ConferenceSourceMap::new();
        a.add("x", &simulcast_camera(10));
        let mut b = ConferenceSourceMap::new();
        b.add("y", &simulcast_camera(20));
        b.add("x", &simulcast_camera(30));
        a.add_map(&b);
        assert_eq!(
            a.get("x").unwrap().sources.len(),
            13,
            "7 + 6 new (audio 7 shared)"
        );
        let removed = a.remove_map(&b);
        assert_eq!(removed.get("y"), Some(&simulcast_camera(20)));
        assert!(a.get("y").is_none());
        // x keeps its first camera; SSRC 7 was named by both, so it went.
        let x = a.get("x").unwrap();
        assert_eq!(x.ssrcs_of(Video).count(), 6);
        assert_eq!(x.ssrcs_of(Audio).count(), 0);
        let stripped = a.strip_simulcast();
        assert_eq!(stripped.get("x").unwrap().sources.len(), 2);
    }
}
