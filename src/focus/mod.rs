//! The application core: what the focus does with the stanzas its two
//! streams deliver. Pure: `now` comes in, serialised stanzas go out through
//! per-stream output buffers the core moves onto the streams.

use std::time::Instant;

pub mod auth;
pub mod iq_tracker;

use crate::conn::ConnId;
use crate::stanza::disco::{self, Identity};
use crate::stanza::iq::{self, Iq};
use crate::stanza::{Condition, StanzaError, ping};
use crate::xml::{El, ns};

/// Our identity on disco#info, as Jicofo's component named itself.
const IDENTITY: Identity<'static> = Identity {
    category: "component",
    kind: "generic",
    name: Some("Jitsi Meet Focus"),
};
/// Features of the component: the focus protocol (conference requests).
const COMPONENT_FEATURES: &[&str] = &[ns::DISCO_INFO, ns::PING, ns::FOCUS];
/// Features of the client JID, where current deployments (client_proxy)
/// send conference requests too.
const CLIENT_FEATURES: &[&str] = &[ns::DISCO_INFO, ns::PING, ns::FOCUS];

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
    pub fn handle_stanza(&mut self, now: Instant, conn: ConnId, el: El<'_>) {
        log::trace!("{} <= {}", conn.name(), el.outer_xml());
        if el.name() == "iq" {
            match Iq::parse(el) {
                Ok(iq) if iq.is_request() => self.handle_request(now, conn, &iq),
                Ok(_) => {}
                Err(e) => self.bad_iq(conn, el, &e.to_string()),
            }
        }
    }

    /// An IQ get/set: RFC 6120 wants an answer to every one of them.
    fn handle_request(&mut self, _now: Instant, conn: ConnId, iq: &Iq<'_>) {
        let from = self.reply_from(conn, iq);
        let out = &mut self.out[conn as usize];
        if ping::is_ping(iq) {
            ping::write_pong(out, iq, from.as_deref());
        } else if disco::is_info_query(iq) {
            let features = match conn {
                ConnId::Component => COMPONENT_FEATURES,
                ConnId::Client => CLIENT_FEATURES,
            };
            disco::write_info_result(out, iq, from.as_deref(), &[IDENTITY], features);
        } else {
            let what = iq.payload.map(|p| p.name()).unwrap_or("an empty IQ");
            log::debug!(
                "{}: no handler for <{what}/> from {:?}",
                conn.name(),
                iq.from
            );
            iq::write_error_reply(
                out,
                iq,
                from.as_deref(),
                &StanzaError::new(Condition::ServiceUnavailable),
            );
        }
    }

    /// The `from` of our answers: on the component, the address the request
    /// was sent to (it must lie inside our domain); on c2s the server stamps it.
    fn reply_from(&self, conn: ConnId, iq: &Iq<'_>) -> Option<String> {
        match conn {
            ConnId::Component => Some(
                iq.to
                    .as_deref()
                    .unwrap_or(&self.cfg.component_jid)
                    .to_string(),
            ),
            ConnId::Client => None,
        }
    }

    /// A malformed IQ: answer `bad-request` when it was a request we can address.
    fn bad_iq(&mut self, conn: ConnId, el: El<'_>, why: &str) {
        log::debug!("{}: malformed IQ ({why}): {}", conn.name(), el.outer_xml());
        let (Some(id), Some(from)) = (el.attr("id"), el.attr("from")) else {
            return;
        };
        if !matches!(el.attr_raw("type"), Some("get" | "set")) {
            return;
        }
        let me = match conn {
            ConnId::Component => Some(
                el.attr("to")
                    .map(|t| t.into_owned())
                    .unwrap_or_else(|| self.cfg.component_jid.clone()),
            ),
            ConnId::Client => None,
        };
        let err = StanzaError::new(Condition::BadRequest).with_text(why);
        iq::write_error(
            &mut self.out[conn as usize],
            &id,
            me.as_deref(),
            Some(&from),
            &err,
        );
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
