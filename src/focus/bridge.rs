//! Videobridges: which ones exist, which one a participant goes to, and
//! whether each is still alive (protocol.md §3). Pure logic: the caller feeds
//! in what the XMPP side learnt (brewery presences, disco answers, health
//! check replies) with the time, and reads back decisions and events.
//!
//! * [`BridgeRegistry`] (`registry`) knows every bridge from either discovery
//!   path, at once if need be: the CURRENT brewery MUC (a `<stats>` presence
//!   per bridge, [`BridgeRegistry::update_from_brewery`]) and the SEED
//!   disco#items/disco#info rounds on the XMPP domain
//!   ([`BridgeRegistry::discovery_round_started`] …). It queues
//!   [`BridgeEvent`]s for the conference logic.
//! * [`select`] (`selection`) is Jicofo's `BridgeSelector.selectBridge` with
//!   the single-bridge, region-based and split strategies (§3.4).
//! * [`HealthChecker`] (`health`) is Jicofo's JvbDoctor as a timer-driven
//!   machine: it says when to send a `<healthcheck/>` IQ to which bridge and
//!   turns the replies into healthy / failed / timed out (§3.5).
//! * [`BridgeConfig`] (`config`) reads every setting from the properties,
//!   legacy SEED names first.
//!
//! The [`BridgeStats`] here is a plain input struct on purpose: parsing the
//! brewery `<stats>` extension belongs to the Colibri stanza code, which
//! fills this in.

mod config;
mod health;
mod registry;
mod selection;

#[cfg(test)]
mod tests;

pub use config::{BridgeConfig, HealthConfig, SelectionStrategy};
pub use health::{HealthAction, HealthChecker, HealthVerdict, Outcome};
pub use registry::{
    Bridge, BridgeRegistry, DiscoverySchedule, HealthState, RegistryStats, Sources,
};
pub use selection::select;

use std::borrow::Borrow;
use std::fmt;

use crate::stanza::{Jid, JidError};

/// A bridge's address, which is also its identity: a component domain
/// (`jitsi-videobridge.example.com`) for a SEED bridge found by disco, or a
/// brewery occupant JID (`jvbbrewery@internal.auth.example.com/jvb-7f3c`) for
/// a CURRENT one. Kept in the canonical form of [`Jid`] (node and domain in
/// lower case) so that the same bridge seen with different letter cases is
/// one bridge.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BridgeId(Box<str>);

impl BridgeId {
    /// Validates `jid` and keeps its canonical form.
    pub fn parse(jid: &str) -> Result<BridgeId, JidError> {
        Ok(BridgeId::from(&Jid::parse(jid)?))
    }

    /// The JID as a string, to address Colibri and health-check IQs to.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&Jid> for BridgeId {
    fn from(jid: &Jid) -> Self {
        BridgeId(Box::from(jid.as_str()))
    }
}

impl From<Jid> for BridgeId {
    fn from(jid: Jid) -> Self {
        BridgeId::from(&jid)
    }
}

impl Borrow<str> for BridgeId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for BridgeId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BridgeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for BridgeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BridgeId({})", self.0)
    }
}

/// Which Colibri dialect a bridge speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColibriVersion {
    /// Colibri v1 (`http://jitsi.org/protocol/colibri` `<conference/>`
    /// IQs): the SEED bridges found by disco on the XMPP domain.
    V1,
    /// Colibri2 (`jitsi:colibri2` `<conference-modify/>`): the CURRENT
    /// bridges in the brewery MUC.
    V2,
}

/// What one brewery presence's `<stats>` said: the Colibri stanza layer's
/// typed stats (`None` for a stat the presence did not carry). Only present
/// stats change what the registry knows (Jicofo's `Bridge.setStats`).
pub use crate::stanza::colibri::BridgeStats;

/// Something the conference logic must react to, from
/// [`BridgeRegistry::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BridgeEvent {
    /// A bridge appeared (joined the brewery or answered disco). Conferences
    /// that are waiting for a bridge can now get one.
    Added(BridgeId),
    /// A bridge is gone (left the brewery, or did not answer a disco round):
    /// every conference session on it is lost and its participants must be
    /// re-invited elsewhere.
    Removed(BridgeId),
    /// A health check failed with an error: the bridge is non-operational
    /// and every conference on it must move away now.
    Failed(BridgeId),
    /// The bridge announced `shutting_down`: move everybody off it now.
    ShuttingDown(BridgeId),
    /// A bridge that had been marked non-operational passed a health check
    /// after the failure-reset threshold: it can be selected again.
    BackUp(BridgeId),
}

impl BridgeEvent {
    /// The bridge the event is about.
    pub fn bridge(&self) -> &BridgeId {
        match self {
            BridgeEvent::Added(id)
            | BridgeEvent::Removed(id)
            | BridgeEvent::Failed(id)
            | BridgeEvent::ShuttingDown(id)
            | BridgeEvent::BackUp(id) => id,
        }
    }
}
