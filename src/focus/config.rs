//! Settings of the focus logic, read from the properties (legacy SEED names
//! first, then the CURRENT `jicofo.*` names, as protocol.md §6 maps them).

use std::time::Duration;

use super::rate_limit::RateLimitConfig;
use super::sources::SourceConfig;
use crate::config::{Config, ConfigError, Properties};

/// Settings of the focus logic.
#[derive(Debug, Clone)]
pub struct FocusConfig {
    /// The component's JID, `focus.<domain>`.
    pub component_jid: String,
    /// The XMPP domain (`--domain`).
    pub domain: String,
    /// The focus user's bare JID, `focusjid` in conference responses.
    pub focus_bare_jid: String,
    /// The focus's nickname in rooms (`--user_name`).
    pub nick: String,
    /// MUC domains whose rooms the focus serves: `conference-muc-jid`
    /// (legacy `XMPP_MUC_COMPONENT_PREFIX` + domain), default
    /// `conference.<domain>`. A conference request for a room elsewhere is
    /// refused with `bad-request`.
    pub muc_domains: Vec<String>,
    /// A conference nobody joins is stopped after this
    /// (`org.jitsi.focus.IDLE_TIMEOUT`, `jicofo.conference.initial-timeout`; 15 s).
    pub idle_timeout: Duration,
    /// A conference down to one participant ends that participant's media
    /// after this (`org.jitsi.jicofo.SINGLE_PARTICIPANT_TIMEOUT`,
    /// `jicofo.conference.single-participant-timeout`; 20 s).
    pub single_participant_timeout: Duration,
    /// Grant owner to the first participant in join order
    /// (`org.jitsi.jicofo.DISABLE_AUTO_OWNER` inverted,
    /// `jicofo.conference.enable-auto-owner`; true).
    pub enable_auto_owner: bool,
    /// How long the focus waits for answers to its IQs (and for its room join).
    pub reply_timeout: Duration,
    /// Bare JID allowed to send the graceful-shutdown IQ
    /// (`org.jitsi.jicofo.SHUTDOWN_ALLOWED_JID`).
    pub shutdown_allowed_jid: Option<String>,
    /// The `client_proxy` component whose IQs carry the real sender in
    /// their resource (`jicofo.xmpp.client.client-proxy`).
    pub client_proxy: Option<String>,
    /// Domains whose occupants may claim to be Jibri/Jigasi
    /// (`jicofo.xmpp.trusted-domains`, comma separated).
    pub trusted_domains: Vec<String>,
    /// Source limits and signalling switches (`max-ssrcs-per-user`,
    /// `strip-simulcast`, …; protocol.md §5.5–5.6).
    pub sources: SourceConfig,
    /// How a participant is moved to a new bridge session
    /// (`jicofo.conference.reinvite-method`; `RestartJingle`).
    pub reinvite_method: ReinviteMethod,
    /// The rate limit on a participant's restart requests
    /// (`jicofo.conference.restart-request-rate-limits.*`; §5.9).
    pub restart_limits: RateLimitConfig,
    /// Our version, published in room presence.
    pub version: &'static str,
}

/// How a participant whose ICE failed, or whose bridge went away, gets a
/// new bridge session (protocol.md §3.6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReinviteMethod {
    /// End the Jingle session (`session-terminate`, reason `success`,
    /// "moving") and start a new one (`session-initiate`). CURRENT's
    /// default.
    #[default]
    RestartJingle,
    /// Keep the Jingle session and send `transport-replace` with the new
    /// bridge's transport; the client answers `transport-accept`.
    ReplaceTransport,
}

const REINVITE_KEYS: &[&str] = &["jicofo.conference.reinvite-method"];

impl ReinviteMethod {
    /// Reads `jicofo.conference.reinvite-method` (`RestartJingle` or
    /// `ReplaceTransport`, any letter case).
    pub fn from_props(p: &Properties) -> Result<ReinviteMethod, ConfigError> {
        let Some(v) = p.get(REINVITE_KEYS) else {
            return Ok(ReinviteMethod::default());
        };
        let v = v.trim().trim_matches('"');
        if v.eq_ignore_ascii_case("RestartJingle") {
            Ok(ReinviteMethod::RestartJingle)
        } else if v.eq_ignore_ascii_case("ReplaceTransport") {
            Ok(ReinviteMethod::ReplaceTransport)
        } else {
            Err(ConfigError::BadValue {
                key: REINVITE_KEYS[0].to_string(),
                value: v.to_string(),
                expected: "RestartJingle or ReplaceTransport".to_string(),
            })
        }
    }
}

const IDLE_KEYS: &[&str] = &[
    "org.jitsi.focus.IDLE_TIMEOUT",
    "jicofo.conference.initial-timeout",
];
const SINGLE_KEYS: &[&str] = &[
    "org.jitsi.jicofo.SINGLE_PARTICIPANT_TIMEOUT",
    "jicofo.conference.single-participant-timeout",
];
const MUC_PREFIX_KEYS: &[&str] = &["org.jitsi.jicofo.XMPP_MUC_COMPONENT_PREFIX"];
const MUC_JID_KEYS: &[&str] = &["jicofo.xmpp.client.conference-muc-jid"];

impl FocusConfig {
    /// Reads the focus settings from the whole configuration.
    pub fn from_config(cfg: &Config) -> Result<FocusConfig, ConfigError> {
        let p = cfg.props();
        let muc_domain = match (p.get(MUC_PREFIX_KEYS), p.get(MUC_JID_KEYS)) {
            (Some(prefix), _) => format!("{prefix}.{}", cfg.domain),
            (None, Some(jid)) => jid.to_string(),
            (None, None) => format!("conference.{}", cfg.domain),
        };
        let enable_auto_owner = match p.get(&["org.jitsi.jicofo.DISABLE_AUTO_OWNER"]) {
            Some(_) => !p.bool(&["org.jitsi.jicofo.DISABLE_AUTO_OWNER"], false)?,
            None => p.bool(&["jicofo.conference.enable-auto-owner"], true)?,
        };
        let list = |key: &str| -> Vec<String> {
            p.get(&[key])
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_ascii_lowercase())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(FocusConfig {
            component_jid: cfg.component_jid(),
            domain: cfg.domain.clone(),
            focus_bare_jid: cfg.focus_bare_jid(),
            nick: cfg.user_name.clone(),
            muc_domains: vec![muc_domain.to_ascii_lowercase()],
            idle_timeout: p.duration(IDLE_KEYS, Duration::from_secs(15))?,
            single_participant_timeout: p.duration(SINGLE_KEYS, Duration::from_secs(20))?,
            enable_auto_owner,
            reply_timeout: cfg.reply_timeout,
            shutdown_allowed_jid: p
                .get(&["org.jitsi.jicofo.SHUTDOWN_ALLOWED_JID"])
                .map(|s| s.to_ascii_lowercase()),
            client_proxy: p
                .get(&["jicofo.xmpp.client.client-proxy"])
                .map(|s| s.to_ascii_lowercase()),
            trusted_domains: list("jicofo.xmpp.trusted-domains"),
            sources: SourceConfig::from_props(p)?,
            reinvite_method: ReinviteMethod::from_props(p)?,
            restart_limits: RateLimitConfig::from_props(p)?,
            version: env!("CARGO_PKG_VERSION"),
        })
    }

    /// Defaults for tests and simulations: domain `meet.test`, focus user
    /// `focus@auth.meet.test`, rooms on `conference.meet.test`.
    pub fn for_tests() -> FocusConfig {
        FocusConfig {
            component_jid: "focus.meet.test".into(),
            domain: "meet.test".into(),
            focus_bare_jid: "focus@auth.meet.test".into(),
            nick: "focus".into(),
            muc_domains: vec!["conference.meet.test".into()],
            idle_timeout: Duration::from_secs(15),
            single_participant_timeout: Duration::from_secs(20),
            enable_auto_owner: true,
            reply_timeout: Duration::from_secs(15),
            shutdown_allowed_jid: None,
            client_proxy: None,
            trusted_domains: Vec::new(),
            sources: SourceConfig::default(),
            reinvite_method: ReinviteMethod::default(),
            restart_limits: RateLimitConfig::default(),
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reinvite_method_from_props() {
        let mut p = Properties::new();
        assert_eq!(
            ReinviteMethod::from_props(&p).unwrap(),
            ReinviteMethod::RestartJingle
        );
        p.set("jicofo.conference.reinvite-method", "ReplaceTransport");
        assert_eq!(
            ReinviteMethod::from_props(&p).unwrap(),
            ReinviteMethod::ReplaceTransport
        );
        p.set("jicofo.conference.reinvite-method", "\"restartjingle\"");
        assert_eq!(
            ReinviteMethod::from_props(&p).unwrap(),
            ReinviteMethod::RestartJingle
        );
        p.set("jicofo.conference.reinvite-method", "Teleport");
        let e = ReinviteMethod::from_props(&p).unwrap_err().to_string();
        assert!(e.contains("RestartJingle or ReplaceTransport"), "{e}");
    }
}
