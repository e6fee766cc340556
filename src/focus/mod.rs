//! The application core: what the focus does with the stanzas its two
//! streams deliver. Pure: `now` comes in, serialised stanzas go out through
//! per-stream output buffers the core moves onto the streams.

use std::time::Instant;

pub mod iq_tracker;

use crate::conn::ConnId;
use crate::xml::El;

/// Settings of the focus logic.
#[derive(Debug, Clone)]
pub struct FocusConfig {
    /// The component's JID, `focus.<domain>`.
    pub component_jid: String,
    /// The XMPP domain.
    pub domain: String,
}

/// The focus.
#[derive(Debug)]
pub struct Focus {
    cfg: FocusConfig,
    out: [Vec<u8>; 2],
    online: [Option<String>; 2],
}

impl Focus {
    /// A focus with no conferences.
    pub fn new(cfg: FocusConfig) -> Self {
        Focus {
            cfg,
            out: [Vec::new(), Vec::new()],
            online: [None, None],
        }
    }

    /// The settings.
    pub fn config(&self) -> &FocusConfig {
        &self.cfg
    }

    /// A stanza arrived on `conn`.
    pub fn handle_stanza(&mut self, _now: Instant, conn: ConnId, el: El<'_>) {
        log::trace!("{} stanza: {}", conn.name(), el.outer_xml());
    }

    /// `conn` is authenticated; `jid` is our address on it.
    pub fn handle_online(&mut self, _now: Instant, conn: ConnId, jid: &str) {
        self.online[conn as usize] = Some(jid.to_string());
    }

    /// `conn` went down.
    pub fn handle_offline(&mut self, _now: Instant, conn: ConnId) {
        self.online[conn as usize] = None;
        self.out[conn as usize].clear();
    }

    /// Stanzas waiting for `conn`.
    pub fn output(&mut self, conn: ConnId) -> &mut Vec<u8> {
        &mut self.out[conn as usize]
    }

    /// When [`Focus::handle_timeout`] must run next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    /// Advances timers.
    pub fn handle_timeout(&mut self, _now: Instant) {}
}
