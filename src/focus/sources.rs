//! Source policy: what the focus accepts from a participant's `source-add`,
//! `source-remove` and `session-accept`, and what it tells each other
//! participant (protocol.md §5.5, §5.6, CURRENT behaviour).
//!
//! [`crate::stanza::sources`] is the data and plain set arithmetic; this
//! module is the policy in front of it:
//!
//! * [`ValidatingSourceMap`] — the conference's sources by owner, changed
//!   only through [`try_add`](ValidatingSourceMap::try_add) and
//!   [`try_remove`](ValidatingSourceMap::try_remove), which apply every
//!   rule of §5.6 to the *whole* request and leave the map unchanged when
//!   one fails;
//! * [`SourceSignaling`] — per receiving participant, what it has been
//!   told and what it should know; a flush yields the net `source-remove`
//!   and `source-add` (at most one of each);
//! * [`SourceConfig`] — the limits and switches from the properties, and
//!   the audio/video sender limit, which is checked against the room's
//!   sender counts rather than the map;
//! * [`SourceError`] — why a request was refused, convertible into the
//!   stanza error the participant gets.
//!
//! How the caller uses them, after Jicofo's `JitsiMeetConferenceImpl`:
//! an accepted add goes to every *other* participant's queue with
//! [`SourceSignaling::add`]; an accepted remove with
//! [`SourceSignaling::remove`]. When a participant is re-invited or moved,
//! its sources are removed ([`ValidatingSourceMap::remove_owner`]) and the
//! removal is queued for the others; when it leaves the room nothing is
//! signalled (clients clean up on the MUC leave), and
//! [`SourceSignaling::forget_owner`] drops it from the queues silently.

mod signaling;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::config::{ConfigError, Properties};
use crate::stanza::sources::{EndpointSourceSet, MediaType, Ssrc};
use crate::stanza::{Condition, StanzaError};

pub use signaling::{SignalingOptions, SourceSignaling, SourceUpdate};
pub use validate::ValidatingSourceMap;

const MAX_SSRCS_KEYS: &[&str] = &[
    "org.jitsi.jicofo.MAX_SSRC_PER_USER",
    "jicofo.conference.max-ssrcs-per-user",
];
/// The groups limit has no legacy name. Its CURRENT default is a HOCON
/// reference to `max-ssrcs-per-user` (the new name only, not the legacy
/// one), hence the second key.
const MAX_GROUPS_KEYS: &[&str] = &[
    "jicofo.conference.max-ssrc-groups-per-user",
    "jicofo.conference.max-ssrcs-per-user",
];
const MAX_AUDIO_SENDERS_KEYS: &[&str] = &["jicofo.conference.max-audio-senders"];
const MAX_VIDEO_SENDERS_KEYS: &[&str] = &["jicofo.conference.max-video-senders"];
const STRIP_SIMULCAST_KEYS: &[&str] = &["jicofo.conference.strip-simulcast"];
const SSRC_REWRITING_KEYS: &[&str] = &["jicofo.conference.use-ssrc-rewriting"];
const DELAYS_KEY: &str = "jicofo.conference.source-signaling-delays";

/// Source limits and signalling switches (protocol.md §6.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceConfig {
    /// Sources one endpoint may have in total, audio and video together
    /// (`org.jitsi.jicofo.MAX_SSRC_PER_USER`, then
    /// `jicofo.conference.max-ssrcs-per-user`; 20).
    pub max_ssrcs_per_user: usize,
    /// SSRC groups one endpoint may have
    /// (`jicofo.conference.max-ssrc-groups-per-user`, else the CURRENT
    /// `max-ssrcs-per-user`; 20).
    pub max_ssrc_groups_per_user: usize,
    /// Participants that may send audio at once
    /// (`jicofo.conference.max-audio-senders`; 999999).
    pub max_audio_senders: usize,
    /// Participants that may send video at once
    /// (`jicofo.conference.max-video-senders`; 999999).
    pub max_video_senders: usize,
    /// Receivers get only the first simulcast layer and its RTX
    /// (`jicofo.conference.strip-simulcast`; true).
    pub strip_simulcast: bool,
    /// SSRC rewriting is allowed (`jicofo.conference.use-ssrc-rewriting`;
    /// true). It is used for a participant only when its client also
    /// advertises support; then the bridge signals sources and the focus
    /// sends it none.
    pub use_ssrc_rewriting: bool,
    /// How long a receiver's queue waits before a flush, by conference
    /// size: the entry with the largest size not above the conference's
    /// applies (`jicofo.conference.source-signaling-delays`; none, so 0).
    pub signaling_delays: BTreeMap<usize, Duration>,
}

impl Default for SourceConfig {
    fn default() -> Self {
        SourceConfig {
            max_ssrcs_per_user: 20,
            max_ssrc_groups_per_user: 20,
            max_audio_senders: 999_999,
            max_video_senders: 999_999,
            strip_simulcast: true,
            use_ssrc_rewriting: true,
            signaling_delays: BTreeMap::new(),
        }
    }
}

impl SourceConfig {
    /// Reads the settings, legacy names first.
    ///
    /// `source-signaling-delays` is a HOCON object in `jicofo.conf`; as
    /// properties it is given either one size per key
    /// (`jicofo.conference.source-signaling-delays.50=500`) or whole
    /// (`jicofo.conference.source-signaling-delays={ 50 = 500, 100 = 1000 }`,
    /// `:` also separating, newlines also ending entries). Delays are in
    /// milliseconds, or with a unit.
    pub fn from_props(p: &Properties) -> Result<SourceConfig, ConfigError> {
        let d = SourceConfig::default();
        let count = |keys: &[&str], default: usize| -> Result<usize, ConfigError> {
            Ok(p.u32(keys, default as u32)? as usize)
        };
        Ok(SourceConfig {
            max_ssrcs_per_user: count(MAX_SSRCS_KEYS, d.max_ssrcs_per_user)?,
            max_ssrc_groups_per_user: count(MAX_GROUPS_KEYS, d.max_ssrc_groups_per_user)?,
            max_audio_senders: count(MAX_AUDIO_SENDERS_KEYS, d.max_audio_senders)?,
            max_video_senders: count(MAX_VIDEO_SENDERS_KEYS, d.max_video_senders)?,
            strip_simulcast: p.bool(STRIP_SIMULCAST_KEYS, d.strip_simulcast)?,
            use_ssrc_rewriting: p.bool(SSRC_REWRITING_KEYS, d.use_ssrc_rewriting)?,
            signaling_delays: signaling_delays(p)?,
        })
    }

    /// The flush delay for a conference of `size` participants (Jicofo's
    /// floor lookup; zero below the smallest size configured).
    pub fn signaling_delay(&self, size: usize) -> Duration {
        self.signaling_delays
            .range(..=size)
            .next_back()
            .map(|(_, d)| *d)
            .unwrap_or(Duration::ZERO)
    }

    /// The sender limit, checked before validation: a request with an
    /// audio source is refused when `audio_senders` participants already
    /// send audio (at the limit, not only above it), likewise for video.
    /// The counts are the room's (participants not muted in presence), so
    /// the caller supplies them. Only sources count, not groups.
    pub fn check_senders(
        &self,
        request: &EndpointSourceSet,
        audio_senders: usize,
        video_senders: usize,
    ) -> Result<(), SourceError> {
        let has = |m| request.sources.iter().any(|s| s.media == m);
        let audio = has(MediaType::Audio) && audio_senders >= self.max_audio_senders;
        let video = has(MediaType::Video) && video_senders >= self.max_video_senders;
        if audio || video {
            Err(SourceError::SenderLimit { audio, video })
        } else {
            Ok(())
        }
    }
}

/// Reads both spellings of `source-signaling-delays`; per-size keys win
/// over the same size in the whole-object value.
fn signaling_delays(p: &Properties) -> Result<BTreeMap<usize, Duration>, ConfigError> {
    let mut delays = BTreeMap::new();
    if let Some(obj) = p.get(&[DELAYS_KEY]) {
        let bad = || ConfigError::BadValue {
            key: DELAYS_KEY.to_string(),
            value: obj.to_string(),
            expected: "an object of conference sizes and delays, such as { 50 = 500, 100 = 1000 }"
                .to_string(),
        };
        let inner = obj
            .trim()
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .ok_or_else(bad)?;
        for entry in inner.split([',', '\n']).map(str::trim) {
            if entry.is_empty() {
                continue;
            }
            let (size, delay) = entry.split_once(['=', ':']).ok_or_else(bad)?;
            let size: usize = size.trim().trim_matches('"').parse().map_err(|_| bad())?;
            // Through a scratch property so the delay syntax (units,
            // bare milliseconds) is the one every other duration uses.
            let mut one = Properties::new();
            one.set(DELAYS_KEY, delay.trim());
            delays.insert(size, one.duration(&[DELAYS_KEY], Duration::ZERO)?);
        }
    }
    let prefix = format!("{DELAYS_KEY}.");
    for (key, _) in p.iter() {
        let Some(size) = key.strip_prefix(&prefix) else {
            continue;
        };
        let size: usize = size.parse().map_err(|_| ConfigError::BadValue {
            key: key.to_string(),
            value: p.raw(key).unwrap_or_default().to_string(),
            expected: "a key ending in a conference size, such as \
                       jicofo.conference.source-signaling-delays.50"
                .to_string(),
        })?;
        if p.get(&[key]).is_some() {
            delays.insert(size, p.duration(&[key], Duration::ZERO)?);
        }
    }
    Ok(delays)
}

/// Why a source request was refused. The whole request is refused and
/// nothing changed. Every variant but [`SenderLimit`](Self::SenderLimit)
/// answers `bad-request`, as CURRENT Jicofo answers every validation
/// failure (the SSRC and group limits included); the sender limit answers
/// `resource-constraint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceError {
    /// SSRC 0 (the range is 1 to 2^32 − 1; the parser already refuses
    /// larger numbers).
    InvalidSsrc(Ssrc),
    /// The SSRC is already used in the conference, by anyone (this
    /// endpoint included), or twice in the request.
    SsrcAlreadyUsed(Ssrc),
    /// The endpoint would have more sources than allowed.
    SsrcLimitExceeded {
        /// `max-ssrcs-per-user`.
        limit: usize,
        /// What it would have had.
        would_have: usize,
    },
    /// The endpoint would have more SSRC groups than allowed.
    SsrcGroupLimitExceeded {
        /// `max-ssrc-groups-per-user`.
        limit: usize,
        /// What it would have had.
        would_have: usize,
    },
    /// A group's semantics is neither `SIM` nor `FID` (any letter case).
    InvalidGroupSemantics(Box<str>),
    /// A `videoType` other than `camera` or `desktop` (any letter case).
    InvalidVideoType {
        /// The source.
        ssrc: Ssrc,
        /// The value.
        video_type: Box<str>,
    },
    /// A group names an SSRC that is no source of this endpoint in the
    /// group's media.
    GroupUnknownSsrc {
        /// The group, as `SIM[1, 2, 3]`.
        group: Box<str>,
        /// The SSRC without a source.
        ssrc: Ssrc,
    },
    /// An FID group with other than two SSRCs.
    InvalidFidGroup {
        /// The group, as `FID[1, 2, 3]`.
        group: Box<str>,
    },
    /// A grouped source without an `msid`.
    MsidMissing {
        /// The source.
        ssrc: Ssrc,
    },
    /// The sources of one group have different `msid`s.
    GroupMsidMismatch {
        /// The group.
        group: Box<str>,
        /// The first SSRC whose msid differs from the group's first.
        ssrc: Ssrc,
    },
    /// The `msid` belongs to another endpoint, or to another stream (an
    /// independent source, FID pair or simulcast group) of the same
    /// media of this endpoint.
    MsidConflict {
        /// The msid.
        msid: Box<str>,
        /// The source that brought the conflict.
        ssrc: Ssrc,
    },
    /// A removal names a source the endpoint does not have.
    SourceNotOwned(Option<Ssrc>),
    /// A removal names a group the endpoint does not have.
    GroupNotOwned {
        /// The group.
        group: Box<str>,
    },
    /// The audio and/or video sender limit is reached.
    SenderLimit {
        /// The request has audio and the audio limit is reached.
        audio: bool,
        /// The request has video and the video limit is reached.
        video: bool,
    },
}

impl SourceError {
    /// The stanza error condition the participant gets.
    pub fn condition(&self) -> Condition {
        match self {
            SourceError::SenderLimit { .. } => Condition::ResourceConstraint,
            _ => Condition::BadRequest,
        }
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceError::InvalidSsrc(s) => {
                write!(f, "invalid SSRC {s}: an SSRC is from 1 to 4294967295")
            }
            SourceError::SsrcAlreadyUsed(s) => {
                write!(f, "SSRC {s} is already used in the conference")
            }
            SourceError::SsrcLimitExceeded { limit, would_have } => write!(
                f,
                "SSRC limit exceeded: at most {limit} sources per endpoint, the request makes {would_have}"
            ),
            SourceError::SsrcGroupLimitExceeded { limit, would_have } => write!(
                f,
                "ssrc-group limit exceeded: at most {limit} groups per endpoint, the request makes {would_have}"
            ),
            SourceError::InvalidGroupSemantics(s) => {
                write!(f, "invalid ssrc-group semantics '{s}': SIM or FID")
            }
            SourceError::InvalidVideoType { ssrc, video_type } => write!(
                f,
                "invalid videoType '{video_type}' of SSRC {ssrc}: camera or desktop"
            ),
            SourceError::GroupUnknownSsrc { group, ssrc } => write!(
                f,
                "ssrc-group {group} names SSRC {ssrc}, which is not a signalled source"
            ),
            SourceError::InvalidFidGroup { group } => {
                write!(f, "invalid FID group {group}: an FID group has 2 SSRCs")
            }
            SourceError::MsidMissing { ssrc } => {
                write!(f, "grouped SSRC {ssrc} has no msid parameter")
            }
            SourceError::GroupMsidMismatch { group, ssrc } => write!(
                f,
                "ssrc-group {group} has sources with different msids (SSRC {ssrc})"
            ),
            SourceError::MsidConflict { msid, ssrc } => {
                write!(f, "msid '{msid}' of SSRC {ssrc} is already used")
            }
            SourceError::SourceNotOwned(Some(s)) => write!(
                f,
                "Source does not exist or is not owned by endpoint (ssrc={s})"
            ),
            SourceError::SourceNotOwned(None) => {
                f.write_str("Source does not exist or is not owned by endpoint")
            }
            SourceError::GroupNotOwned { group } => write!(
                f,
                "ssrc-group {group} does not exist or is not owned by endpoint"
            ),
            SourceError::SenderLimit { audio, video } => write!(
                f,
                "sender limit reached for{}{}",
                if *audio { " audio" } else { "" },
                if *video { " video" } else { "" }
            ),
        }
    }
}

impl std::error::Error for SourceError {}

impl From<SourceError> for StanzaError {
    fn from(e: SourceError) -> StanzaError {
        StanzaError::new(e.condition()).with_text(e.to_string())
    }
}

#[cfg(test)]
mod tests;
