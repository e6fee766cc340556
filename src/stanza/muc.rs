//! XEP-0045 multi-user chat as the focus uses it (protocol.md §2): joining
//! and leaving a room, configuring it, granting ownership, reading what the
//! room tells us about its occupants, and the presence extensions the focus
//! publishes.
//!
//! Reading has two levels. [`MucPresence`] is a borrowed view of one
//! presence from a room: who sent it, the `muc#user` item, status codes,
//! destruction and errors; it allocates nothing unless an address held
//! entities. [`Occupant`] is the owned snapshot the conference keeps per
//! occupant, built from the first presence and updated by the next ones; it
//! reads the Jitsi presence extensions of §2.6 and allocates only for values
//! that changed.
//!
//! What the servers do that shapes this module (peers.md): ejabberd sends a
//! joining occupant a presence from the room's bare JID (no nick) that is
//! not an occupant; Prosody's join errors are `type='error'` presences
//! without the muc `<x/>`. Both parse, and neither becomes an [`Occupant`].

mod source_info;

use std::borrow::Cow;

pub use source_info::{SourceMutes, parse_source_info};

use super::forms::{self, DataForm};
use super::iq::{IqType, write_request};
use super::presence::write_presence;
use super::{Jid, Presence, PresenceType, StanzaError, StanzaParseError, is_stanza_ns};
use crate::xml::{El, XmlWriter, ns};

/// Feature a Jibri (recorder) advertises in its presence `<features/>`.
pub const FEATURE_JIBRI: &str = "http://jitsi.org/protocol/jibri";
/// Feature a Jigasi (SIP gateway) advertises in its presence `<features/>`.
pub const FEATURE_JIGASI: &str = "http://jitsi.org/protocol/jigasi";
/// Feature a transcriber advertises in its presence `<features/>`.
pub const FEATURE_TRANSCRIBER: &str = "http://jitsi.org/protocol/transcriber";
/// The `<status/>` of a participant leaving for a breakout room: the last
/// one leaving like this does not stop the conference.
pub const SWITCH_ROOM_STATUS: &str = "switch_room";

/// XEP-0045 status codes the focus looks at.
pub mod status {
    /// Non-anonymous room: occupants see real JIDs.
    pub const NON_ANONYMOUS: u16 = 100;
    /// The room is being logged.
    pub const LOGGING: u16 = 170;
    /// This presence is about ourselves.
    pub const SELF_PRESENCE: u16 = 110;
    /// The room was created by this join.
    pub const ROOM_CREATED: u16 = 201;
    /// The occupant was banned.
    pub const BANNED: u16 = 301;
    /// The occupant changed nickname (the item carries the new one).
    pub const NICK_CHANGED: u16 = 303;
    /// The occupant was kicked.
    pub const KICKED: u16 = 307;
    /// Removed because its affiliation changed.
    pub const REMOVED_AFFILIATION: u16 = 321;
    /// Removed because the room became members-only.
    pub const REMOVED_MEMBERS_ONLY: u16 = 322;
    /// Removed because the MUC service is shutting down.
    pub const REMOVED_SHUTDOWN: u16 = 332;
}

/// An occupant's role in the room (XEP-0045 §5.1), ordered by privilege:
/// `None < Visitor < Participant < Moderator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Role {
    /// `none`: not in the room (the role in an unavailable presence).
    #[default]
    None,
    /// `visitor`: may watch, not speak.
    Visitor,
    /// `participant`
    Participant,
    /// `moderator`
    Moderator,
}

impl Role {
    /// The attribute value on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Role::None => "none",
            Role::Visitor => "visitor",
            Role::Participant => "participant",
            Role::Moderator => "moderator",
        }
    }

    /// The role for an attribute value; `None` for anything undefined.
    pub fn from_name(name: &str) -> Option<Role> {
        Some(match name {
            "none" => Role::None,
            "visitor" => Role::Visitor,
            "participant" => Role::Participant,
            "moderator" => Role::Moderator,
            _ => return None,
        })
    }

    /// True for `moderator`.
    pub fn is_moderator(self) -> bool {
        self == Role::Moderator
    }
}

/// An occupant's long-lived affiliation with the room (XEP-0045 §5.2),
/// ordered by privilege: `Outcast < None < Member < Admin < Owner`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Affiliation {
    /// `outcast`: banned.
    Outcast,
    /// `none`
    #[default]
    None,
    /// `member`
    Member,
    /// `admin`
    Admin,
    /// `owner`
    Owner,
}

impl Affiliation {
    /// The attribute value on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Affiliation::Outcast => "outcast",
            Affiliation::None => "none",
            Affiliation::Member => "member",
            Affiliation::Admin => "admin",
            Affiliation::Owner => "owner",
        }
    }

    /// The affiliation for an attribute value; `None` for anything undefined.
    pub fn from_name(name: &str) -> Option<Affiliation> {
        Some(match name {
            "outcast" => Affiliation::Outcast,
            "none" => Affiliation::None,
            "member" => Affiliation::Member,
            "admin" => Affiliation::Admin,
            "owner" => Affiliation::Owner,
            _ => return None,
        })
    }

    /// True for `owner`.
    pub fn is_owner(self) -> bool {
        self == Affiliation::Owner
    }

    /// True for `admin` and `owner`.
    pub fn is_admin_or_higher(self) -> bool {
        self >= Affiliation::Admin
    }
}

/// Jicofo's view of a member (`MemberRole`), computed from affiliation and
/// role, ordered `Visitor < Participant < Moderator < Owner`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MemberRole {
    /// Role `visitor` or `none`, affiliation below admin.
    Visitor,
    /// Role `participant`, affiliation below admin.
    Participant,
    /// Affiliation `admin`, or role `moderator` without ownership.
    Moderator,
    /// Affiliation `owner`.
    Owner,
}

impl MemberRole {
    /// Jicofo's mapping: owner affiliation → `Owner`, admin affiliation →
    /// `Moderator`, otherwise by role (`moderator`, `participant`, else
    /// `Visitor`).
    pub fn from(affiliation: Affiliation, role: Role) -> MemberRole {
        match (affiliation, role) {
            (Affiliation::Owner, _) => MemberRole::Owner,
            (Affiliation::Admin, _) | (_, Role::Moderator) => MemberRole::Moderator,
            (_, Role::Participant) => MemberRole::Participant,
            _ => MemberRole::Visitor,
        }
    }

    /// May moderate (mute others): `Moderator` or `Owner`.
    pub fn has_moderator_rights(self) -> bool {
        self >= MemberRole::Moderator
    }

    /// Is an owner.
    pub fn has_owner_rights(self) -> bool {
        self == MemberRole::Owner
    }

    /// A name for log lines.
    pub fn name(self) -> &'static str {
        match self {
            MemberRole::Visitor => "visitor",
            MemberRole::Participant => "participant",
            MemberRole::Moderator => "moderator",
            MemberRole::Owner => "owner",
        }
    }
}

/// How many status codes one presence keeps; real presences carry at most
/// four. Further codes are dropped.
const MAX_STATUS_CODES: usize = 8;

/// The `<status code/>`s of a presence, without allocating.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCodes {
    codes: [u16; MAX_STATUS_CODES],
    len: u8,
}

impl StatusCodes {
    /// True when `code` was present.
    pub fn contains(&self, code: u16) -> bool {
        self.as_slice().contains(&code)
    }

    /// The codes in document order, without duplicates.
    pub fn as_slice(&self) -> &[u16] {
        &self.codes[..self.len as usize]
    }

    fn push(&mut self, code: u16) {
        if (self.len as usize) < MAX_STATUS_CODES && !self.contains(code) {
            self.codes[self.len as usize] = code;
            self.len += 1;
        }
    }
}

impl std::fmt::Debug for StatusCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

/// The `<item/>` of a `muc#user` presence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MucItem<'a> {
    /// Affiliation; absent or unknown reads as `None`.
    pub affiliation: Affiliation,
    /// Role; absent or unknown reads as `None`.
    pub role: Role,
    /// The occupant's real JID, when the room shows it (non-anonymous).
    pub jid: Option<Cow<'a, str>>,
    /// The new nickname, in the unavailable presence of a nick change (303).
    pub nick: Option<Cow<'a, str>>,
}

/// The `<destroy/>` of the unavailable presence a destroyed room sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destroy<'a> {
    /// `<reason/>` text, if any.
    pub reason: Option<Cow<'a, str>>,
    /// An alternate venue (`jid`), if any.
    pub alternate: Option<Cow<'a, str>>,
}

/// A presence from a room, borrowing its frame.
#[derive(Debug, Clone)]
pub struct MucPresence<'a> {
    /// The sender as received: `room@muc/nick`, or the room's bare JID.
    pub occupant_jid: Cow<'a, str>,
    /// The room's bare JID as received (the part of `from` before `/`).
    pub room: Cow<'a, str>,
    /// The nickname; `None` when the room itself sent the presence (ejabberd
    /// does on join), which is not an occupant.
    pub nick: Option<Cow<'a, str>>,
    /// `Available`, `Unavailable` or `Error`.
    pub ty: PresenceType,
    /// The `muc#user` item, if any.
    pub item: Option<MucItem<'a>>,
    /// The `muc#user` status codes.
    pub status_codes: StatusCodes,
    /// Set when the room was destroyed.
    pub destroyed: Option<Destroy<'a>>,
    /// For `type='error'` (a refused join): the error.
    pub error: Option<StanzaError>,
    /// The `<presence/>` element, for the extensions [`Occupant`] reads.
    pub el: El<'a>,
}

impl<'a> MucPresence<'a> {
    /// Reads a presence from a room. It must come from a valid JID and be
    /// available, unavailable or an error. From an occupant (a JID with a
    /// nick) it must carry `<x xmlns='…muc#user'/>` unless it is an error:
    /// Prosody's join errors have none. From the room's bare JID nothing
    /// else is required (ejabberd's room presence carries only caps).
    pub fn parse(p: &Presence<'a>) -> Result<MucPresence<'a>, StanzaParseError> {
        const NOT_MUC: StanzaParseError = StanzaParseError::NotA("a MUC presence");
        if !matches!(
            p.ty,
            PresenceType::Available | PresenceType::Unavailable | PresenceType::Error
        ) {
            return Err(NOT_MUC);
        }
        let from = p
            .from
            .as_ref()
            .ok_or(StanzaParseError::MissingAttribute("from"))?;
        Jid::check(from)?;
        let (room, nick) = split_occupant(from);
        let x = p.el.children().find(|c| c.is("x", ns::MUC_USER));
        if x.is_none() && nick.is_some() && p.ty != PresenceType::Error {
            return Err(NOT_MUC);
        }
        let mut status_codes = StatusCodes::default();
        let mut item = None;
        let mut destroyed = None;
        for c in x.iter().flat_map(|x| x.children()) {
            if c.ns() != ns::MUC_USER {
                continue;
            }
            match c.name() {
                "status" => {
                    if let Some(code) = c.attr("code").and_then(|v| v.trim().parse().ok()) {
                        status_codes.push(code);
                    }
                }
                "item" if item.is_none() => {
                    item = Some(MucItem {
                        affiliation: c
                            .attr("affiliation")
                            .and_then(|a| Affiliation::from_name(&a))
                            .unwrap_or_default(),
                        role: c
                            .attr("role")
                            .and_then(|r| Role::from_name(&r))
                            .unwrap_or_default(),
                        jid: c.attr("jid"),
                        nick: c.attr("nick"),
                    });
                }
                "destroy" if destroyed.is_none() => {
                    destroyed = Some(Destroy {
                        reason: c.child("reason", ns::MUC_USER).map(|r| r.text()),
                        alternate: c.attr("jid"),
                    });
                }
                _ => {}
            }
        }
        Ok(MucPresence {
            occupant_jid: from.clone(),
            room,
            nick,
            ty: p.ty,
            item,
            status_codes,
            destroyed,
            error: p.error(),
            el: p.el,
        })
    }

    /// Status 110: the presence is about the receiver itself (our own join,
    /// our own role change, or our own removal).
    pub fn is_self(&self) -> bool {
        self.status_codes.contains(status::SELF_PRESENCE)
    }

    /// Status 201: our join created the room.
    pub fn room_created(&self) -> bool {
        self.status_codes.contains(status::ROOM_CREATED)
    }

    /// True when the presence is from an occupant, not from the room.
    pub fn is_occupant(&self) -> bool {
        self.nick.is_some()
    }

    /// Unavailable with status 307.
    pub fn was_kicked(&self) -> bool {
        self.ty == PresenceType::Unavailable && self.status_codes.contains(status::KICKED)
    }

    /// Unavailable with status 301.
    pub fn was_banned(&self) -> bool {
        self.ty == PresenceType::Unavailable && self.status_codes.contains(status::BANNED)
    }

    /// Unavailable with status 321, 322 or 332: removed by the service.
    pub fn was_removed(&self) -> bool {
        self.ty == PresenceType::Unavailable
            && [
                status::REMOVED_AFFILIATION,
                status::REMOVED_MEMBERS_ONLY,
                status::REMOVED_SHUTDOWN,
            ]
            .iter()
            .any(|c| self.status_codes.contains(*c))
    }

    /// For the unavailable presence of a nick change (303), the new nick.
    pub fn new_nick(&self) -> Option<&str> {
        if self.ty != PresenceType::Unavailable || !self.status_codes.contains(status::NICK_CHANGED)
        {
            return None;
        }
        self.item.as_ref()?.nick.as_deref()
    }

    /// For an unavailable presence with `<destroy/>`, the destruction.
    pub fn room_destroyed(&self) -> Option<&Destroy<'a>> {
        if self.ty != PresenceType::Unavailable {
            return None;
        }
        self.destroyed.as_ref()
    }

    /// The sender's [`MemberRole`] from its item; `Visitor` without one, as
    /// Jicofo does for an occupant it cannot find.
    pub fn member_role(&self) -> MemberRole {
        self.item.as_ref().map_or(MemberRole::Visitor, |i| {
            MemberRole::from(i.affiliation, i.role)
        })
    }
}

/// Splits `room@muc/nick` at the first `/`, borrowing when `from` does.
fn split_occupant<'a>(from: &Cow<'a, str>) -> (Cow<'a, str>, Option<Cow<'a, str>>) {
    match from {
        Cow::Borrowed(s) => match s.split_once('/') {
            Some((room, nick)) => (Cow::Borrowed(room), Some(Cow::Borrowed(nick))),
            None => (Cow::Borrowed(s), None),
        },
        Cow::Owned(s) => match s.split_once('/') {
            Some((room, nick)) => (Cow::Owned(room.into()), Some(Cow::Owned(nick.into()))),
            None => (Cow::Owned(s.clone()), None),
        },
    }
}

/// XEP-0115 entity capabilities from a presence `<c/>`, packed into one
/// allocation.
#[derive(Clone, PartialEq, Eq)]
pub struct Caps {
    /// `node`, `ver` and `hash` one after the other.
    buf: Box<str>,
    node_end: u32,
    ver_end: u32,
}

impl Caps {
    /// Packs the three attributes.
    pub fn new(node: &str, ver: &str, hash: &str) -> Caps {
        let mut s = String::with_capacity(node.len() + ver.len() + hash.len());
        s.push_str(node);
        s.push_str(ver);
        s.push_str(hash);
        Caps {
            node_end: node.len() as u32,
            ver_end: (node.len() + ver.len()) as u32,
            buf: s.into_boxed_str(),
        }
    }

    /// The software's node URI.
    pub fn node(&self) -> &str {
        self.buf.get(..self.node_end as usize).unwrap_or("")
    }

    /// The verification string (the hash of the feature set).
    pub fn ver(&self) -> &str {
        self.buf
            .get(self.node_end as usize..self.ver_end as usize)
            .unwrap_or("")
    }

    /// The hash function (`sha-1`); `None` for legacy caps without one.
    pub fn hash(&self) -> Option<&str> {
        self.buf
            .get(self.ver_end as usize..)
            .filter(|h| !h.is_empty())
    }

    fn is(&self, node: &str, ver: &str, hash: &str) -> bool {
        self.node() == node && self.ver() == ver && self.hash().unwrap_or("") == hash
    }
}

impl std::fmt::Debug for Caps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caps")
            .field("node", &self.node())
            .field("ver", &self.ver())
            .field("hash", &self.hash())
            .finish()
    }
}

/// What an [`Occupant::update`] changed, for the conference to react to
/// (sender counts, re-electing an owner, re-checking Jibri/Jigasi).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OccupantChanges {
    /// Role or affiliation. Jicofo ignores a change that makes a member a
    /// visitor or stops it being one (its counts would go wrong); compare
    /// the [`MemberRole`]s before and after to do the same.
    pub role: bool,
    /// The real JID (first seen, or different).
    pub real_jid: bool,
    /// `audio_muted`.
    pub audio_muted: bool,
    /// `video_muted`.
    pub video_muted: bool,
    /// The `<features/>` list.
    pub features: bool,
    /// The XEP-0115 caps.
    pub caps: bool,
}

impl OccupantChanges {
    /// True when anything changed.
    pub fn any(&self) -> bool {
        self.role
            || self.real_jid
            || self.audio_muted
            || self.video_muted
            || self.features
            || self.caps
    }
}

/// What the conference keeps about one occupant (protocol.md §2.6): an owned
/// snapshot built from its first presence and kept current by the next.
///
/// Which values survive a presence that omits them follows Jicofo:
/// *sticky* ones (kept): `real_jid`, `region`, `stats_id`, `caps`,
/// `display_name`; *per presence* (reset): `features`, the mute state,
/// `start_muted`, `status_text`, `diarize`; `video_codecs` is read from the
/// first presence only (Jicofo ignores later changes).
///
/// Strings are boxed (16 bytes, not 24) and replaced only when they change;
/// the whole snapshot is 176 bytes on 64-bit targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occupant {
    /// `room@muc/nick`, canonical (the room part ASCII-lowercased).
    pub occupant_jid: Jid,
    /// The occupant's real JID from the MUC item (non-anonymous rooms).
    pub real_jid: Option<Jid>,
    /// MUC role.
    pub role: Role,
    /// MUC affiliation.
    pub affiliation: Affiliation,
    /// Audio mute state from `<SourceInfo>` (any audio source unmuted →
    /// `false`) or, without it, the legacy `<audiomuted>`. `None` when the
    /// presence said nothing; Jicofo counts that as muted (see
    /// [`Occupant::is_audio_muted`]). A malformed `<SourceInfo>` keeps the
    /// previous value, as in Jicofo.
    pub audio_muted: Option<bool>,
    /// Video mute state, like `audio_muted`.
    pub video_muted: Option<bool>,
    /// `<startmuted audio video/>` flags `(audio, video)` from the latest
    /// presence (SEED: honoured from owners only; the caller checks).
    pub start_muted: Option<(bool, bool)>,
    /// `<jitsi_participant_diarize>true</…>` in the latest presence.
    pub diarize: bool,
    /// `<jitsi_participant_region>`: the region for bridge selection.
    pub region: Option<Box<str>>,
    /// `<stats-id>`: passed to the bridge.
    pub stats_id: Option<Box<str>>,
    /// XEP-0115 caps, to find features without disco#info.
    pub caps: Option<Caps>,
    /// `<features><feature var/></features>` as sent. Jibri/Jigasi markers
    /// are to be trusted only from trusted domains: see [`Occupant::is_jibri`].
    pub features: Box<[Box<str>]>,
    /// XEP-0172 `<nick xmlns='http://jabber.org/protocol/nick'>`: the
    /// display name (SEED logs it).
    pub display_name: Option<Box<str>>,
    /// `<status/>` of the latest presence (`switch_room` on the way to a
    /// breakout room).
    pub status_text: Option<Box<str>>,
    /// The video codecs the occupant prefers (`<jitsi_participant_codecList>`
    /// or the older `<jitsi_participant_codecType>`), lowercased,
    /// comma-separated, with `vp8` added when missing, as Jicofo does.
    pub video_codecs: Option<Box<str>>,
}

impl Occupant {
    /// The snapshot for an occupant's first presence; `None` when the
    /// presence is not an available one from an occupant (the room's own
    /// presence, an unavailable or error presence).
    pub fn from_presence(p: &MucPresence<'_>) -> Option<Occupant> {
        if p.ty != PresenceType::Available || p.nick.is_none() {
            return None;
        }
        let occupant_jid = Jid::parse(&p.occupant_jid).ok()?;
        let mut o = Occupant {
            occupant_jid,
            real_jid: None,
            role: Role::None,
            affiliation: Affiliation::None,
            audio_muted: None,
            video_muted: None,
            start_muted: None,
            diarize: false,
            region: None,
            stats_id: None,
            caps: None,
            features: Box::default(),
            display_name: None,
            status_text: None,
            video_codecs: None,
        };
        o.apply(p, true);
        Some(o)
    }

    /// Applies a later presence of the same occupant (available or
    /// unavailable) and says what changed; `None`, changing nothing, when
    /// the presence is from someone else or an error.
    pub fn update(&mut self, p: &MucPresence<'_>) -> Option<OccupantChanges> {
        if p.ty == PresenceType::Error || !self.is_sender_of(p) {
            return None;
        }
        Some(self.apply(p, false))
    }

    /// The occupant JID of `p` is ours: the room compared as the canonical
    /// form compares it (ASCII case ignored), the nick exactly.
    fn is_sender_of(&self, p: &MucPresence<'_>) -> bool {
        let Some(nick) = p.nick.as_deref() else {
            return false;
        };
        let room = p.room.strip_suffix('.').unwrap_or(&p.room);
        Some(nick) == self.occupant_jid.resource()
            && room.eq_ignore_ascii_case(self.occupant_jid.bare())
    }

    fn apply(&mut self, p: &MucPresence<'_>, first: bool) -> OccupantChanges {
        let mut ch = OccupantChanges::default();
        if let Some(item) = &p.item {
            ch.role = self.role != item.role || self.affiliation != item.affiliation;
            self.role = item.role;
            self.affiliation = item.affiliation;
            // Servers repeat the real JID in every presence, usually already
            // canonical: compare before parsing so a repeat allocates nothing.
            let known = |j: &str| self.real_jid.as_ref().is_some_and(|r| r.as_str() == j);
            if let Some(j) = item.jid.as_deref().filter(|j| !known(j)) {
                if let Ok(jid) = Jid::parse(j) {
                    ch.real_jid = self.real_jid.as_ref() != Some(&jid);
                    self.real_jid = Some(jid);
                }
            }
        }
        let x = Extensions::read(p.el);

        let (audio, video) = match x.source_info.as_deref().map(parse_source_info) {
            Some(Some(m)) => (Some(m.audio_muted), Some(m.video_muted)),
            // Malformed: Jicofo logs and keeps everything as it was.
            Some(None) => (self.audio_muted, self.video_muted),
            None => (
                x.audio_muted.as_deref().map(is_true),
                x.video_muted.as_deref().map(is_true),
            ),
        };
        ch.audio_muted = self.is_audio_muted() != audio.unwrap_or(true);
        ch.video_muted = self.is_video_muted() != video.unwrap_or(true);
        self.audio_muted = audio;
        self.video_muted = video;

        self.start_muted = x.start_muted;
        self.diarize = x.diarize.as_deref().is_some_and(is_true);
        if let Some(r) = &x.region {
            set_sticky(&mut self.region, r.trim());
        }
        if let Some(s) = &x.stats_id {
            set_sticky(&mut self.stats_id, s.trim());
        }
        if let Some(n) = &x.display_name {
            set_sticky(&mut self.display_name, n);
        }
        set_box(&mut self.status_text, x.status.as_deref());
        if let Some((node, ver, hash)) = &x.caps {
            if !self.caps.as_ref().is_some_and(|c| c.is(node, ver, hash)) {
                self.caps = Some(Caps::new(node, ver, hash));
                ch.caps = true;
            }
        }
        ch.features = self.set_features(x.features);
        if first {
            self.video_codecs = video_codecs(x.codec_list.as_deref(), x.codec_type.as_deref());
        }
        ch
    }

    /// Replaces the feature list when it differs; true when it did.
    fn set_features(&mut self, features: Option<El<'_>>) -> bool {
        let vars = || {
            features
                .into_iter()
                .flat_map(|f| f.children())
                .filter(|c| c.name() == "feature" && is_stanza_ns(c.ns()))
                .filter_map(|c| c.attr("var"))
        };
        if vars().eq(self.features.iter().map(|f| Cow::Borrowed(&**f))) {
            return false;
        }
        self.features = vars().map(|v| Box::from(&*v)).collect();
        true
    }

    /// The nickname: the endpoint id of the occupant's Jingle session.
    pub fn nick(&self) -> &str {
        self.occupant_jid.resource().unwrap_or("")
    }

    /// The room's bare JID (canonical).
    pub fn room(&self) -> &str {
        self.occupant_jid.bare()
    }

    /// Jicofo's role for this occupant.
    pub fn member_role(&self) -> MemberRole {
        MemberRole::from(self.affiliation, self.role)
    }

    /// Audio muted as Jicofo counts it: unknown is muted.
    pub fn is_audio_muted(&self) -> bool {
        self.audio_muted.unwrap_or(true)
    }

    /// Video muted as Jicofo counts it: unknown is muted.
    pub fn is_video_muted(&self) -> bool {
        self.video_muted.unwrap_or(true)
    }

    /// The occupant advertised `var` in its `<features/>` (not trusted by
    /// itself: anyone can send any feature).
    pub fn has_feature(&self, var: &str) -> bool {
        self.features.iter().any(|f| &**f == var)
    }

    /// The real JID's domain is one of `trusted_domains` (ASCII case
    /// ignored); false when the real JID is unknown.
    pub fn is_trusted<S: AsRef<str>>(&self, trusted_domains: &[S]) -> bool {
        self.real_jid.as_ref().is_some_and(|j| {
            trusted_domains
                .iter()
                .any(|d| d.as_ref().eq_ignore_ascii_case(j.domain()))
        })
    }

    /// A Jibri, as Jicofo decides: it advertises [`FEATURE_JIBRI`] and its
    /// real JID is in a trusted domain (`jicofo.xmpp.trusted-domains`).
    pub fn is_jibri<S: AsRef<str>>(&self, trusted_domains: &[S]) -> bool {
        self.has_feature(FEATURE_JIBRI) && self.is_trusted(trusted_domains)
    }

    /// A Jigasi: [`FEATURE_JIGASI`] from a trusted domain.
    pub fn is_jigasi<S: AsRef<str>>(&self, trusted_domains: &[S]) -> bool {
        self.has_feature(FEATURE_JIGASI) && self.is_trusted(trusted_domains)
    }

    /// A transcriber: [`FEATURE_TRANSCRIBER`] from a trusted domain.
    pub fn is_transcriber<S: AsRef<str>>(&self, trusted_domains: &[S]) -> bool {
        self.has_feature(FEATURE_TRANSCRIBER) && self.is_trusted(trusted_domains)
    }

    /// The latest presence said `switch_room`: leaving for a breakout room.
    pub fn is_switching_room(&self) -> bool {
        self.status_text.as_deref().map(str::trim) == Some(SWITCH_ROOM_STATUS)
    }

    /// The preferred video codecs, in order (empty when none were sent).
    pub fn video_codecs(&self) -> impl Iterator<Item = &str> {
        self.video_codecs
            .as_deref()
            .into_iter()
            .flat_map(|c| c.split(','))
    }
}

/// Java's `Boolean.parseBoolean`, trimmed: `true` in any case.
fn is_true(s: &str) -> bool {
    s.trim().eq_ignore_ascii_case("true")
}

/// Sets a sticky value: an empty one clears it, a changed one replaces it.
fn set_sticky(slot: &mut Option<Box<str>>, value: &str) {
    set_box(slot, Some(value).filter(|v| !v.is_empty()));
}

/// Replaces `slot` only when the value differs, so a repeated presence
/// allocates nothing.
fn set_box(slot: &mut Option<Box<str>>, value: Option<&str>) {
    if slot.as_deref() != value {
        *slot = value.map(Box::from);
    }
}

/// Jicofo's codec list: `codecList` lowercased with `vp8` appended when
/// missing; else `codecType` (one codec) plus `vp8`.
fn video_codecs(list: Option<&str>, single: Option<&str>) -> Option<Box<str>> {
    let mut s = list.or(single)?.trim().to_ascii_lowercase();
    if !s.split(',').any(|c| c == "vp8") {
        if !s.is_empty() {
            s.push(',');
        }
        s.push_str("vp8");
    }
    Some(s.into_boxed_str())
}

/// The §2.6 extensions of one presence, found in one pass over its children
/// (the first of each kind counts, as in Smack's `getExtension`).
#[derive(Default)]
struct Extensions<'a> {
    source_info: Option<Cow<'a, str>>,
    audio_muted: Option<Cow<'a, str>>,
    video_muted: Option<Cow<'a, str>>,
    start_muted: Option<(bool, bool)>,
    region: Option<Cow<'a, str>>,
    stats_id: Option<Cow<'a, str>>,
    display_name: Option<Cow<'a, str>>,
    status: Option<Cow<'a, str>>,
    caps: Option<(Cow<'a, str>, Cow<'a, str>, Cow<'a, str>)>,
    features: Option<El<'a>>,
    codec_list: Option<Cow<'a, str>>,
    codec_type: Option<Cow<'a, str>>,
    diarize: Option<Cow<'a, str>>,
}

impl<'a> Extensions<'a> {
    fn read(presence: El<'a>) -> Extensions<'a> {
        let mut x = Extensions::default();
        fn first<'b>(slot: &mut Option<Cow<'b, str>>, c: El<'b>) {
            if slot.is_none() {
                *slot = Some(c.text());
            }
        }
        for c in presence.children() {
            let cns = c.ns();
            if is_stanza_ns(cns) {
                match c.name() {
                    "SourceInfo" => first(&mut x.source_info, c),
                    "audiomuted" => first(&mut x.audio_muted, c),
                    "videomuted" => first(&mut x.video_muted, c),
                    "jitsi_participant_region" => first(&mut x.region, c),
                    "stats-id" => first(&mut x.stats_id, c),
                    "status" => first(&mut x.status, c),
                    "jitsi_participant_codecList" => first(&mut x.codec_list, c),
                    "jitsi_participant_codecType" => first(&mut x.codec_type, c),
                    "jitsi_participant_diarize" => first(&mut x.diarize, c),
                    "features" if x.features.is_none() => x.features = Some(c),
                    _ => {}
                }
            } else if c.is("nick", ns::NICK) {
                first(&mut x.display_name, c);
            } else if c.is("startmuted", ns::START_MUTED) && x.start_muted.is_none() {
                let flag = |a: &str| c.attr(a).is_some_and(|v| is_true(&v));
                x.start_muted = Some((flag("audio"), flag("video")));
            } else if c.is("c", ns::CAPS) && x.caps.is_none() {
                // `ver` is the point of caps; without it there is nothing to
                // look up.
                if let Some(ver) = c.attr("ver") {
                    x.caps = Some((
                        c.attr("node").unwrap_or_default(),
                        ver,
                        c.attr("hash").unwrap_or_default(),
                    ));
                }
            }
        }
        x
    }
}

// ---------------------------------------------------------------------------
// Writers

/// Writes the join (which creates the room when it is the first):
/// `<presence to='room@muc/nick'><x xmlns='…muc'/>…extra…</presence>`.
pub fn write_join(
    out: &mut Vec<u8>,
    room_occupant_jid: &str,
    extra: impl FnOnce(&mut XmlWriter<'_>),
) {
    write_presence(
        out,
        PresenceType::Available,
        None,
        None,
        Some(room_occupant_jid),
        |w| {
            w.start_ns("x", ns::MUC).end();
            extra(w);
        },
    );
}

/// Writes the leave: `<presence type='unavailable' to='room@muc/nick'/>`.
pub fn write_leave(out: &mut Vec<u8>, occupant: &str) {
    write_presence(
        out,
        PresenceType::Unavailable,
        None,
        None,
        Some(occupant),
        |_| {},
    );
}

/// Writes a presence update to the room (our extensions changed); unlike
/// the join it carries no muc `<x/>`, which would read as a new join.
pub fn write_presence_update(
    out: &mut Vec<u8>,
    occupant: &str,
    extra: impl FnOnce(&mut XmlWriter<'_>),
) {
    write_presence(
        out,
        PresenceType::Available,
        None,
        None,
        Some(occupant),
        extra,
    );
}

/// Writes the request for the room's configuration form:
/// `<iq type='get'><query xmlns='…muc#owner'/></iq>` to the room.
pub fn write_owner_form_request(out: &mut Vec<u8>, id: &str, room: &str) {
    write_request(out, IqType::Get, id, None, room, |w| {
        w.start_ns("query", ns::MUC_OWNER).end();
    });
}

/// Writes the configuration submit: a `muc#owner` query holding a `submit`
/// form with `FORM_TYPE` `muc#roomconfig` and `fields` (the focus submits
/// only `muc#roomconfig_whois=anyone`).
pub fn write_owner_form_submit(out: &mut Vec<u8>, id: &str, room: &str, fields: &[(&str, &str)]) {
    write_request(out, IqType::Set, id, None, room, |w| {
        w.start_ns("query", ns::MUC_OWNER);
        forms::write_submit(w, Some(ns::MUC_ROOMCONFIG), fields);
        w.end();
    });
}

/// The form in a `muc#owner` answer (the result of
/// [`write_owner_form_request`]), if any.
pub fn owner_form<'a>(payload: El<'a>) -> Option<DataForm<'a>> {
    if !payload.is("query", ns::MUC_OWNER) {
        return None;
    }
    DataForm::find(payload)
}

/// The first value of field `var` of the form in a `muc#owner` answer, as
/// `owner_form(payload)?.field(var)` reads it, without building the form.
pub fn owner_form_value<'a>(payload: El<'a>, var: &str) -> Option<Cow<'a, str>> {
    if !payload.is("query", ns::MUC_OWNER) {
        return None;
    }
    let x = payload.children().find(|c| c.is("x", ns::DATA_FORMS))?;
    forms::field_value(x, var)
}

/// Writes the affiliation change the focus uses to make someone owner:
/// a `muc#admin` item with the **bare** JID (Prosody refuses a full one
/// with `jid-malformed`, Jicofo issue #895). Anything from the first `/` of
/// `bare_jid` on is dropped, so a full JID cannot slip through.
pub fn write_grant(
    out: &mut Vec<u8>,
    id: &str,
    room: &str,
    bare_jid: &str,
    affiliation: Affiliation,
) {
    let bare = bare_jid.split_once('/').map_or(bare_jid, |(b, _)| b);
    write_request(out, IqType::Set, id, None, room, |w| {
        w.start_ns("query", ns::MUC_ADMIN)
            .start("item")
            .attr("affiliation", affiliation.name())
            .attr("jid", bare)
            .end()
            .end();
    });
}

/// Writes the focus's presence extensions (§2.2, CURRENT) inside a join or
/// update: the shared-document name, the focus version, and the conference
/// properties (left out when there are none).
pub fn write_focus_extensions(
    w: &mut XmlWriter<'_>,
    etherpad_name: Option<&str>,
    version: &str,
    conference_properties: &[(&str, &str)],
) {
    if let Some(name) = etherpad_name {
        w.start_ns("etherpad", ns::ETHERPAD).text(name).end();
    }
    w.start_ns("versions", ns::JITMEET)
        .start("component")
        .attr("name", "focus")
        .text(version)
        .end()
        .end();
    if !conference_properties.is_empty() {
        w.start_ns("conference-properties", ns::FOCUS);
        for (key, value) in conference_properties {
            w.start("property")
                .attr("key", key)
                .attr("value", value)
                .end();
        }
        w.end();
    }
}

/// Writes `<bridgeNotAvailable xmlns='http://jitsi.org/protocol/focus'/>`,
/// published while no bridge can be selected.
pub fn write_bridge_not_available(w: &mut XmlWriter<'_>) {
    w.start_ns("bridgeNotAvailable", ns::FOCUS).end();
}

#[cfg(test)]
mod tests;
