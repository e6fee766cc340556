//! The focus's side of bridge discovery, health and Jingle routing
//! (protocol.md §3.1, §3.3, §3.5, §5.1): it turns XMPP traffic into calls on
//! the pure [`BridgeRegistry`] and [`HealthChecker`], and the registry's
//! events into calls on every conference.
//!
//! Both discovery paths run at once: the brewery MUC (CURRENT, Colibri2
//! bridges addressed by their occupant JID) when one is configured, and
//! disco#items/disco#info rounds on the XMPP domain (SEED, Colibri v1
//! component bridges) every `SERVICE_REDISCOVERY_INTERVAL`.

use std::time::Instant;

use super::Focus;
use super::bridge::{
    BridgeConfig, BridgeEvent, BridgeId, BridgeStats, DiscoverySchedule, HealthAction,
    HealthChecker, Outcome,
};
use super::codecs::CodecConfig;
use super::conference::{BridgeOp, Pending};
use crate::config::{Config, ConfigError};
use crate::conn::ConnId;
use crate::stanza::colibri::{self, write_healthcheck};
use crate::stanza::disco::{self, DiscoInfo};
use crate::stanza::iq::{self, Iq};
use crate::stanza::jingle::JingleRequest;
use crate::stanza::muc::{self, MucPresence};
use crate::stanza::{Condition, Jid, PresenceType, StanzaError};
use crate::xml::El;

/// Bridge and codec settings.
#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// Bridges: discovery, selection, health.
    pub bridges: BridgeConfig,
    /// Codecs to offer.
    pub codecs: CodecConfig,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            bridges: BridgeConfig::from_props(&crate::config::Properties::new())
                .expect("defaults are valid"),
            codecs: CodecConfig::default(),
        }
    }
}

impl MediaConfig {
    /// Defaults without any bridge discovery or health checks: for
    /// simulations and benches that feed bridges in themselves.
    pub fn quiet() -> MediaConfig {
        let mut m = MediaConfig::default();
        m.bridges.rediscovery_interval = None;
        m.bridges.health.interval = None;
        m
    }

    /// Reads the bridge and codec settings.
    pub fn from_config(cfg: &Config) -> Result<MediaConfig, ConfigError> {
        Ok(MediaConfig {
            bridges: BridgeConfig::from_props(cfg.props())?,
            codecs: CodecConfig::from_props(cfg.props())?,
        })
    }
}

/// Discovery and health-check state.
#[derive(Debug)]
pub(super) struct Discovery {
    schedule: DiscoverySchedule,
    /// Current disco round and its unanswered disco#info requests.
    round: u64,
    outstanding: usize,
    health: HealthChecker,
    /// The brewery room, when configured.
    brewery: Option<Jid>,
    /// disco#items rounds on the domain are on.
    disco: bool,
}

impl Discovery {
    pub(super) fn new(cfg: &BridgeConfig) -> Discovery {
        Discovery {
            schedule: DiscoverySchedule::new(cfg.rediscovery_interval),
            round: 0,
            outstanding: 0,
            health: HealthChecker::new(),
            brewery: cfg.brewery_jid.clone().map(|j| j.to_bare()),
            disco: cfg.rediscovery_interval.is_some(),
        }
    }
}

impl Focus {
    fn send_bridge_iq(
        &mut self,
        now: Instant,
        to: &str,
        op: BridgeOp,
        write: impl FnOnce(&mut Vec<u8>, &str),
    ) {
        let timeout = self.shared.cfg.reply_timeout;
        let id =
            self.shared
                .tracker
                .register(now, ConnId::Client, to, timeout, Pending::Bridge(op));
        write(&mut self.shared.out[ConnId::Client as usize], &id);
    }

    /// The client stream is up: join the brewery, start disco rounds.
    pub(super) fn bridges_online(&mut self, now: Instant) {
        if let Some(room) = &self.discovery.brewery {
            let occupant = format!("{}/{}", room.bare(), self.shared.cfg.nick);
            log::info!("joining the bridge brewery {room}");
            muc::write_join(
                &mut self.shared.out[ConnId::Client as usize],
                &occupant,
                |_| {},
            );
        }
        // SERVICE_REDISCOVERY_INTERVAL <= 0 turns disco discovery off
        // (SEED still did one round at start; a brewery-only deployment
        // has no use for it).
        if self.discovery.disco {
            self.discovery.schedule.start(now);
        }
        self.discovery.health.connection_restored();
    }

    /// The client stream is down: every bridge learnt through it is lost.
    pub(super) fn bridges_offline(&mut self, now: Instant) {
        self.discovery.schedule.stop();
        self.discovery.outstanding = 0;
        let reg = &mut self.shared.registry;
        reg.discovery_lost(now);
        reg.brewery_reset(now);
        self.discovery.health.connection_lost(now, reg);
        self.bridge_events(now);
    }

    pub(super) fn bridges_poll_timeout(&self) -> Option<Instant> {
        let a = self.discovery.schedule.poll_timeout();
        let b = self.discovery.health.poll_timeout(&self.shared.registry);
        a.into_iter().chain(b).min()
    }

    pub(super) fn bridges_timeout(&mut self, now: Instant) {
        if self.discovery.schedule.handle_timeout(now) {
            self.discovery.round += 1;
            self.discovery.outstanding = 0;
            self.shared.registry.discovery_round_started(now);
            let domain = self.shared.cfg.domain.clone();
            let round = self.discovery.round;
            self.send_bridge_iq(now, &domain, BridgeOp::DiscoItems(round), |out, id| {
                disco::write_items_query(out, id, None, &domain, None)
            });
        }
        let actions = self
            .discovery
            .health
            .handle_timeout(now, &mut self.shared.registry);
        for HealthAction::SendCheck(bridge) in actions {
            let to = bridge.as_str().to_string();
            self.send_bridge_iq(now, &to, BridgeOp::Health(bridge), |out, id| {
                write_healthcheck(out, id, None, &to)
            });
        }
    }

    /// An answer (or timeout) to a discovery or health-check IQ.
    pub(super) fn bridge_answer(
        &mut self,
        now: Instant,
        pending: Pending,
        answer: Result<Option<El<'_>>, StanzaError>,
    ) {
        let Pending::Bridge(op) = pending else { return };
        match op {
            BridgeOp::DiscoItems(round) if round == self.discovery.round => match answer {
                Ok(Some(q)) => {
                    let items = disco::parse_items(q).unwrap_or_default();
                    self.discovery.outstanding = items.len();
                    for item in items {
                        let to = item.jid.as_str().to_string();
                        let op = BridgeOp::DiscoInfo(round, to.clone().into());
                        self.send_bridge_iq(now, &to, op, |out, id| {
                            disco::write_info_query(out, id, None, &to, None)
                        });
                    }
                    if self.discovery.outstanding == 0 {
                        self.shared.registry.discovery_round_done(now);
                    }
                }
                // A failed round says nothing about the bridges: keep them.
                _ => log::debug!(
                    "bridge discovery: disco#items on {} failed",
                    self.shared.cfg.domain
                ),
            },
            BridgeOp::DiscoInfo(round, jid) if round == self.discovery.round => {
                if let Ok(Some(q)) = answer
                    && let Ok(info) = DiscoInfo::parse(q)
                    && colibri::is_bridge(&info)
                    && let Ok(id) = BridgeId::parse(&jid)
                {
                    let health = info.has_feature(crate::xml::ns::HEALTHCHECK);
                    self.shared.registry.discovered(now, &id, health);
                }
                self.discovery.outstanding = self.discovery.outstanding.saturating_sub(1);
                if self.discovery.outstanding == 0 {
                    self.shared.registry.discovery_round_done(now);
                }
            }
            BridgeOp::Health(bridge) => {
                let outcome = match answer {
                    Ok(_) => Outcome::Ok,
                    Err(e) if e.condition == Condition::RemoteServerTimeout => Outcome::Timeout,
                    Err(e) => Outcome::Error(e.condition),
                };
                if let Some(verdict) = self.discovery.health.handle_result(
                    now,
                    &mut self.shared.registry,
                    &bridge,
                    outcome,
                ) {
                    log::info!("bridge {}: health check: {verdict:?}", bridge.as_str());
                }
            }
            _ => {}
        }
        self.bridge_events(now);
    }

    /// Tells every conference what happened to the bridges.
    pub(super) fn bridge_events(&mut self, now: Instant) {
        while let Some(ev) = self.shared.registry.poll_event() {
            match &ev {
                BridgeEvent::Added(id) | BridgeEvent::BackUp(id) => {
                    log::info!("bridge {} is available", id.as_str());
                    self.each_conference(now, |conf, ctx| conf.bridge_available(ctx));
                }
                BridgeEvent::Removed(id)
                | BridgeEvent::Failed(id)
                | BridgeEvent::ShuttingDown(id) => {
                    let id = id.clone();
                    let mut on_it = 0usize;
                    self.each_conference(now, |conf, ctx| {
                        if conf.media().bridges().any(|b| *b == id) {
                            on_it += 1;
                        }
                        conf.bridge_gone(ctx, &id)
                    });
                    if on_it > 0 {
                        log::warn!(
                            "bridge {} is gone ({ev:?}); moving the participants of {on_it} conference(s)",
                            id.as_str()
                        );
                    } else {
                        log::info!(
                            "bridge {} is gone ({ev:?}); no conference used it",
                            id.as_str()
                        );
                    }
                }
            }
        }
    }

    fn each_conference(
        &mut self,
        now: Instant,
        mut f: impl FnMut(&mut super::Conference, &mut super::Ctx<'_>),
    ) {
        for idx in 0..self.slots.len() as u32 {
            if let Some(conf) = self.slots[idx as usize].conf.as_mut() {
                let mut ctx = self.shared.ctx(now);
                f(conf, &mut ctx);
                self.settle(now, idx);
            }
        }
    }

    /// True when `room` is the bridge brewery.
    pub(super) fn is_brewery(&self, room: &str) -> bool {
        self.discovery
            .brewery
            .as_ref()
            .is_some_and(|b| b.bare().eq_ignore_ascii_case(room))
    }

    /// A presence in the brewery: a bridge's stats, or a bridge leaving.
    pub(super) fn brewery_presence(&mut self, now: Instant, p: &MucPresence<'_>) {
        let Some(nick) = p.nick.as_deref() else {
            return;
        };
        if nick == self.shared.cfg.nick {
            if p.ty == PresenceType::Error {
                log::error!("cannot join the bridge brewery {}: {:?}", p.room, p.error);
            }
            return;
        }
        let Ok(id) = BridgeId::parse(&p.occupant_jid) else {
            return;
        };
        match p.ty {
            PresenceType::Unavailable => self.shared.registry.brewery_left(now, &id),
            PresenceType::Available => match BridgeStats::from_presence(p.el) {
                Some(Ok(stats)) => self.shared.registry.update_from_brewery(now, &id, &stats),
                Some(Err(e)) => log::debug!("bridge {}: unreadable stats: {e}", id.as_str()),
                None => {}
            },
            _ => {}
        }
        self.bridge_events(now);
    }

    /// A Jingle request from an occupant (`from` = `room@muc/nick`).
    pub(super) fn handle_jingle(&mut self, now: Instant, iq: &Iq<'_>) {
        let out_err = |focus: &mut Focus, e: StanzaError| {
            iq::write_error_reply(&mut focus.shared.out[ConnId::Client as usize], iq, None, &e)
        };
        let req = match JingleRequest::from_iq(iq) {
            Ok(r) => r,
            Err(e) => {
                return out_err(
                    self,
                    StanzaError::new(Condition::BadRequest).with_text(e.to_string()),
                );
            }
        };
        let from = iq.from.as_deref().and_then(|f| Jid::parse(f).ok());
        let target = from
            .as_ref()
            .and_then(|f| Some((self.by_room.get(f.bare()).copied()?, f.resource()?)));
        let Some((idx, nick)) = target else {
            return out_err(
                self,
                StanzaError::new(Condition::ItemNotFound).with_text("no conference for this room"),
            );
        };
        let result = match self.slots[idx as usize].conf.as_mut() {
            Some(conf) => {
                let mut ctx = self.shared.ctx(now);
                conf.on_jingle(&mut ctx, nick, &req)
            }
            None => Err(StanzaError::new(Condition::ItemNotFound)),
        };
        match result {
            Ok(()) => iq::write_empty_result(
                &mut self.shared.out[ConnId::Client as usize],
                &iq.id,
                None,
                iq.from.as_deref(),
            ),
            Err(e) => {
                log::info!("Jingle {} from {nick} refused: {e}", req.action.name());
                out_err(self, e)
            }
        }
        self.settle(now, idx);
    }
}
