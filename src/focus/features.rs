//! What a participant's client can do, from its disco#info answer or its
//! XEP-0115 caps (protocol.md §2.4, feature table), and the defaults when it
//! does not say.
//!
//! Features are a small bit set: the offer builder and the Colibri requests
//! only ask yes/no questions. A cache keyed by the caps `ver` string saves
//! the disco#info round trip for clients that advertise caps (CURRENT
//! behaviour); it is bounded, because `ver` strings come from clients.

use std::collections::HashMap;

/// One feature the focus cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Feature {
    /// `urn:xmpp:jingle:apps:rtp:audio`
    Audio = 1 << 0,
    /// `urn:xmpp:jingle:apps:rtp:video`
    Video = 1 << 1,
    /// `urn:xmpp:jingle:transports:dtls-sctp:1`: the data channel.
    Sctp = 1 << 2,
    /// `urn:ietf:rfc:4588`: RTX.
    Rtx = 1 << 3,
    /// `http://jitsi.org/tcc`: transport-wide congestion control.
    Tcc = 1 << 4,
    /// `http://jitsi.org/remb`
    Remb = 1 << 5,
    /// `http://jitsi.org/opus-red`
    OpusRed = 1 << 6,
    /// `http://jitsi.org/source-name`
    SourceNames = 1 << 7,
    /// `urn:ietf:rfc:5761` (rtcp-mux)
    RtcpMux = 1 << 8,
    /// `urn:ietf:rfc:5888` (BUNDLE)
    Bundle = 1 << 9,
    /// `urn:xmpp:jingle:transports:ice-udp:1`
    IceUdp = 1 << 10,
    /// `urn:xmpp:jingle:apps:dtls:0`
    Dtls = 1 << 11,
}

const VARS: &[(&str, Feature)] = &[
    ("urn:xmpp:jingle:apps:rtp:audio", Feature::Audio),
    ("urn:xmpp:jingle:apps:rtp:video", Feature::Video),
    ("urn:xmpp:jingle:transports:dtls-sctp:1", Feature::Sctp),
    ("urn:ietf:rfc:4588", Feature::Rtx),
    ("http://jitsi.org/tcc", Feature::Tcc),
    ("http://jitsi.org/remb", Feature::Remb),
    ("http://jitsi.org/opus-red", Feature::OpusRed),
    ("http://jitsi.org/source-name", Feature::SourceNames),
    ("urn:ietf:rfc:5761", Feature::RtcpMux),
    ("urn:ietf:rfc:5888", Feature::Bundle),
    ("urn:xmpp:jingle:transports:ice-udp:1", Feature::IceUdp),
    ("urn:xmpp:jingle:apps:dtls:0", Feature::Dtls),
];

/// A set of [`Feature`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Features(u16);

impl Features {
    /// What CURRENT Jicofo assumes when disco#info fails: audio, video, SCTP.
    pub const DEFAULT: Features =
        Features(Feature::Audio as u16 | Feature::Video as u16 | Feature::Sctp as u16);

    /// Reads the feature `var`s of a disco#info answer.
    pub fn from_vars<'a>(vars: impl IntoIterator<Item = &'a str>) -> Features {
        let mut f = Features(0);
        for v in vars {
            if let Some((_, feat)) = VARS.iter().find(|(name, _)| *name == v) {
                f.0 |= *feat as u16;
            }
        }
        f
    }

    /// True when the set has `f`.
    pub fn has(self, f: Feature) -> bool {
        self.0 & f as u16 != 0
    }

    /// The set with `f` added.
    pub fn with(self, f: Feature) -> Features {
        Features(self.0 | f as u16)
    }
}

/// Most caps `ver` strings remembered.
const CAPS_CACHE_MAX: usize = 1024;

/// Features learnt per XEP-0115 `ver`.
#[derive(Debug, Default)]
pub struct CapsCache {
    map: HashMap<Box<str>, Features>,
}

impl CapsCache {
    /// Features seen for this `ver`.
    pub fn get(&self, ver: &str) -> Option<Features> {
        self.map.get(ver).copied()
    }

    /// Remembers what a client with this `ver` can do. Beyond the bound the
    /// cache starts over rather than grow: correctness never depends on it.
    pub fn insert(&mut self, ver: &str, f: Features) {
        if self.map.len() >= CAPS_CACHE_MAX {
            self.map.clear();
        }
        self.map.insert(ver.into(), f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_known_vars_and_ignores_others() {
        let f = Features::from_vars([
            "urn:xmpp:jingle:apps:rtp:audio",
            "urn:ietf:rfc:4588",
            "urn:x:unknown",
        ]);
        assert!(f.has(Feature::Audio) && f.has(Feature::Rtx));
        assert!(!f.has(Feature::Video) && !f.has(Feature::Sctp));
        assert!(Features::DEFAULT.has(Feature::Sctp) && !Features::DEFAULT.has(Feature::Rtx));
    }

    #[test]
    fn cache_is_bounded() {
        let mut c = CapsCache::default();
        for i in 0..(CAPS_CACHE_MAX + 10) {
            c.insert(&i.to_string(), Features::DEFAULT);
        }
        assert!(c.map.len() <= CAPS_CACHE_MAX);
        c.insert("v", Features::DEFAULT.with(Feature::Rtx));
        assert_eq!(c.get("v"), Some(Features::DEFAULT.with(Feature::Rtx)));
    }
}
