//! Bridge settings from the properties: the legacy SEED name first (Jicofo
//! lets `sip-communicator.properties` win over `jicofo.conf`), then the
//! CURRENT `jicofo.*` name, then the CURRENT default (protocol.md §6.2, §6.3).
//!
//! Choices where SEED and CURRENT differ:
//!
//! * `failure-reset-threshold` defaults to CURRENT's 1 minute. SEED's
//!   default was 5 minutes, but SEED only read
//!   `org.jitsi.focus.BRIDGE_FAILURE_RESET_THRESHOLD` when PubSub stats
//!   mapping was configured and otherwise left the threshold at 0 (a failed
//!   bridge was eligible again at once). We do not copy that quirk: the key
//!   is honoured whenever it is set.
//! * The health-check retry delay defaults to half the *effective* interval
//!   (SEED's rule). CURRENT halves `jicofo.bridge.health-checks.interval`
//!   even when the legacy `HEALTH_CHECK_INTERVAL` overrides it, which gives
//!   5 s next to a legacy 20 s interval; that looks accidental.

use std::time::Duration;

use crate::config::{ConfigError, Properties};
use crate::stanza::Jid;

const STRATEGY_KEYS: &[&str] = &[
    "org.jitsi.jicofo.BridgeSelector.BRIDGE_SELECTION_STRATEGY",
    "jicofo.bridge.selection-strategy",
];
const MAX_PARTICIPANTS_KEYS: &[&str] = &[
    "org.jitsi.jicofo.BridgeSelector.MAX_PARTICIPANTS_PER_BRIDGE",
    "jicofo.bridge.max-bridge-participants",
];
const LOCAL_REGION_KEYS: &[&str] = &[
    "org.jitsi.jicofo.BridgeSelector.LOCAL_REGION",
    "jicofo.local-region",
];
const REGION_GROUPS_KEYS: &[&str] = &["jicofo.bridge.region-groups"];
const FAILURE_RESET_KEYS: &[&str] = &[
    "org.jitsi.focus.BRIDGE_FAILURE_RESET_THRESHOLD",
    "jicofo.bridge.failure-reset-threshold",
];
const STRESS_THRESHOLD_KEYS: &[&str] = &["jicofo.bridge.stress-threshold"];
const RAMPUP_KEYS: &[&str] = &["jicofo.bridge.participant-rampup-interval"];
const AVG_STRESS_KEYS: &[&str] = &["jicofo.bridge.average-participant-stress"];
const OCTO_KEYS: &[&str] = &["jicofo.octo.enabled"];
const MIXED_VERSIONS_KEYS: &[&str] = &["jicofo.octo.allow-mixed-versions"];
const LEGACY_HEALTH_INTERVAL_KEYS: &[&str] = &["org.jitsi.jicofo.HEALTH_CHECK_INTERVAL"];
const HEALTH_ENABLED_KEYS: &[&str] = &["jicofo.bridge.health-checks.enabled"];
const HEALTH_INTERVAL_KEYS: &[&str] = &["jicofo.bridge.health-checks.interval"];
const HEALTH_RETRY_KEYS: &[&str] = &[
    "org.jitsi.jicofo.HEALTH_CHECK_2NDTRY_DELAY",
    "jicofo.bridge.health-checks.retry-delay",
];
const USE_PRESENCE_KEYS: &[&str] = &["jicofo.bridge.health-checks.use-presence"];
const PRESENCE_TIMEOUT_KEYS: &[&str] = &["jicofo.bridge.health-checks.presence-timeout"];
const REDISCOVERY_KEYS: &[&str] = &["org.jitsi.jicofo.SERVICE_REDISCOVERY_INTERVAL"];
const BREWERY_KEYS: &[&str] = &["org.jitsi.jicofo.BRIDGE_MUC", "jicofo.bridge.brewery-jid"];

/// How a conference's participants are spread over bridges
/// (`jicofo.bridge.selection-strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SelectionStrategy {
    /// Jicofo's `SingleBridgeSelectionStrategy` (the default): a conference
    /// lives on one bridge, the least loaded in the first participant's
    /// region, else the least loaded overall.
    #[default]
    SingleBridge,
    /// `RegionBasedBridgeSelectionStrategy`: each participant on a bridge in
    /// its region when possible (multi-bridge only with Octo enabled).
    RegionBased,
    /// `SplitBridgeSelectionStrategy`: a different bridge per participant
    /// when possible; for testing relays. Always multi-bridge.
    Split,
}

impl SelectionStrategy {
    /// Jicofo's class name for the strategy, as the config spells it.
    pub fn class_name(self) -> &'static str {
        match self {
            SelectionStrategy::SingleBridge => "SingleBridgeSelectionStrategy",
            SelectionStrategy::RegionBased => "RegionBasedBridgeSelectionStrategy",
            SelectionStrategy::Split => "SplitBridgeSelectionStrategy",
        }
    }

    /// Reads a Jicofo class name, simple (`SplitBridgeSelectionStrategy`) or
    /// qualified (`org.jitsi.jicofo.bridge.SplitBridgeSelectionStrategy`,
    /// the older `org.jitsi.jicofo.…` package too), or a short name of ours
    /// (`single`, `single-bridge`, `region`, `region-based`, `split`), in any
    /// letter case.
    pub fn parse(name: &str) -> Option<SelectionStrategy> {
        let simple = name.trim().rsplit('.').next().unwrap_or("");
        let lower = simple.to_ascii_lowercase();
        let all = [
            SelectionStrategy::SingleBridge,
            SelectionStrategy::RegionBased,
            SelectionStrategy::Split,
        ];
        if let Some(s) = all
            .into_iter()
            .find(|s| s.class_name().eq_ignore_ascii_case(simple))
        {
            return Some(s);
        }
        match lower.as_str() {
            "single" | "single-bridge" | "singlebridge" => Some(SelectionStrategy::SingleBridge),
            "region" | "region-based" | "regionbased" => Some(SelectionStrategy::RegionBased),
            "split" => Some(SelectionStrategy::Split),
            _ => None,
        }
    }
}

/// Health-check settings (`jicofo.bridge.health-checks.*`).
#[derive(Debug, Clone, PartialEq)]
pub struct HealthConfig {
    /// Time between the end of one check and the next; `None` disables
    /// health checks (legacy `HEALTH_CHECK_INTERVAL` ≤ 0, or
    /// `enabled = false`). Default 10 s.
    pub interval: Option<Duration>,
    /// After a check got no reply, wait this long and try once more; zero
    /// means no second try. Default half the interval.
    pub retry_delay: Duration,
    /// CURRENT `use-presence`: judge health from the brewery presences
    /// (`healthy` stat, presence age) instead of sending IQs.
    pub use_presence: bool,
    /// With `use_presence`: no presence for this long is a timed-out check.
    /// Default 45 s.
    pub presence_timeout: Duration,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            interval: Some(Duration::from_secs(10)),
            retry_delay: Duration::from_secs(5),
            use_presence: false,
            presence_timeout: Duration::from_secs(45),
        }
    }
}

/// Everything the bridge registry, selection and health checks are tuned by.
#[derive(Debug, Clone, PartialEq)]
pub struct BridgeConfig {
    /// The selection strategy.
    pub strategy: SelectionStrategy,
    /// A conference puts at most this many participants on one bridge
    /// before the bridge counts as overloaded *for that conference*
    /// (default 80); `None` (configured as -1 or 0) for no maximum.
    pub max_bridge_participants: Option<u32>,
    /// This focus's region: the fallback for participants without one, and
    /// for regions without bridges (region-based strategy).
    pub local_region: Option<String>,
    /// Regions that count as one for region matching
    /// (`jicofo.bridge.region-groups`; `[["us-east","us-west"],["eu-west"]]`
    /// or the flat `us-east,us-west;eu-west`).
    pub region_groups: Vec<Vec<String>>,
    /// `jicofo.octo.enabled` (default false): whether a conference may use
    /// several bridges. The split strategy forces it on.
    pub octo_enabled: bool,
    /// `jicofo.octo.allow-mixed-versions` (default false): whether a
    /// conference's bridges may run different versions.
    pub allow_mixed_versions: bool,
    /// A bridge marked non-operational stays so for at least this long
    /// (default 1 minute; see the module notes for SEED's quirk).
    pub failure_reset_threshold: Duration,
    /// Corrected stress at or above this is overloaded (default 0.8).
    pub stress_threshold: f64,
    /// Endpoints added to a bridge within this window add to its stress
    /// until its own report catches up (default 20 s).
    pub participant_rampup_interval: Duration,
    /// Stress one endpoint adds, until a bridge reports its own value
    /// (default 0.01).
    pub average_participant_stress: f64,
    /// Health checks.
    pub health: HealthConfig,
    /// SEED disco#items/#info polling period of the XMPP domain
    /// (`org.jitsi.jicofo.SERVICE_REDISCOVERY_INTERVAL`, default 30 s);
    /// `None` (≤ 0) disables polling after the first round.
    pub rediscovery_interval: Option<Duration>,
    /// The brewery MUC the bridges join (`org.jitsi.jicofo.BRIDGE_MUC`,
    /// `jicofo.bridge.brewery-jid`); `None`: no brewery.
    pub brewery_jid: Option<Jid>,
}

impl Default for BridgeConfig {
    /// The CURRENT defaults.
    fn default() -> Self {
        BridgeConfig {
            strategy: SelectionStrategy::SingleBridge,
            max_bridge_participants: Some(80),
            local_region: None,
            region_groups: Vec::new(),
            octo_enabled: false,
            allow_mixed_versions: false,
            failure_reset_threshold: Duration::from_secs(60),
            stress_threshold: 0.8,
            participant_rampup_interval: Duration::from_secs(20),
            average_participant_stress: 0.01,
            health: HealthConfig::default(),
            rediscovery_interval: Some(Duration::from_secs(30)),
            brewery_jid: None,
        }
    }
}

impl BridgeConfig {
    /// Reads the bridge settings; absent keys take the defaults of
    /// [`BridgeConfig::default`].
    pub fn from_props(p: &Properties) -> Result<BridgeConfig, ConfigError> {
        let d = BridgeConfig::default();
        let strategy = match first(p, STRATEGY_KEYS) {
            None => d.strategy,
            Some((key, v)) => SelectionStrategy::parse(v).ok_or_else(|| {
                bad(
                    key,
                    v,
                    "one of SingleBridgeSelectionStrategy, RegionBasedBridgeSelectionStrategy, \
                     SplitBridgeSelectionStrategy",
                )
            })?,
        };
        let max_bridge_participants = match first(p, MAX_PARTICIPANTS_KEYS) {
            None => d.max_bridge_participants,
            Some((key, v)) => match v.parse::<i64>() {
                Ok(n) if n <= 0 => None,
                Ok(n) => Some(u32::try_from(n).unwrap_or(u32::MAX)),
                Err(_) => return Err(bad(key, v, "a whole number (-1 for no maximum)")),
            },
        };
        let region_groups = match first(p, REGION_GROUPS_KEYS) {
            None => Vec::new(),
            Some((key, v)) => parse_region_groups(v).ok_or_else(|| {
                bad(
                    key,
                    v,
                    "region groups such as [[\"us-east\",\"us-west\"],[\"eu-west\"]]",
                )
            })?,
        };
        let stress_threshold = p.f64(STRESS_THRESHOLD_KEYS, d.stress_threshold)?;
        let average_participant_stress = p.f64(AVG_STRESS_KEYS, d.average_participant_stress)?;
        let brewery_jid = match first(p, BREWERY_KEYS) {
            None => None,
            Some((key, v)) => match Jid::parse(v) {
                Ok(j) if j.is_bare() => Some(j),
                _ => {
                    return Err(bad(
                        key,
                        v,
                        "a bare MUC JID such as JvbBrewery@internal.auth.example.com",
                    ));
                }
            },
        };
        Ok(BridgeConfig {
            strategy,
            max_bridge_participants,
            local_region: p.get(LOCAL_REGION_KEYS).map(str::to_string),
            region_groups,
            octo_enabled: p.bool(OCTO_KEYS, d.octo_enabled)?,
            allow_mixed_versions: p.bool(MIXED_VERSIONS_KEYS, d.allow_mixed_versions)?,
            failure_reset_threshold: p.duration(FAILURE_RESET_KEYS, d.failure_reset_threshold)?,
            stress_threshold,
            participant_rampup_interval: p.duration(RAMPUP_KEYS, d.participant_rampup_interval)?,
            average_participant_stress,
            health: health_from_props(p)?,
            rediscovery_interval: p.interval(REDISCOVERY_KEYS, d.rediscovery_interval)?,
            brewery_jid,
        })
    }

    /// The regions that count as `region` for matching: its group, or just
    /// itself when it is in no group. Empty for no region (Jicofo's
    /// `getRegionGroup`).
    pub fn region_group<'a>(&'a self, region: Option<&'a str>) -> Vec<&'a str> {
        let Some(r) = region else {
            return Vec::new();
        };
        match self.region_groups.iter().find(|g| g.iter().any(|x| x == r)) {
            Some(g) => g.iter().map(String::as_str).collect(),
            None => vec![r],
        }
    }
}

/// The health settings: legacy `HEALTH_CHECK_INTERVAL` (≤ 0 disables)
/// overrides both `enabled` and `interval` of `jicofo.conf`.
fn health_from_props(p: &Properties) -> Result<HealthConfig, ConfigError> {
    let d = HealthConfig::default();
    let interval = if p.get(LEGACY_HEALTH_INTERVAL_KEYS).is_some() {
        p.interval(LEGACY_HEALTH_INTERVAL_KEYS, d.interval)?
    } else if !p.bool(HEALTH_ENABLED_KEYS, true)? {
        None
    } else {
        p.interval(HEALTH_INTERVAL_KEYS, d.interval)?
    };
    let half = interval.map_or(d.retry_delay, |i| i / 2);
    Ok(HealthConfig {
        interval,
        retry_delay: p.duration(HEALTH_RETRY_KEYS, half)?,
        use_presence: p.bool(USE_PRESENCE_KEYS, d.use_presence)?,
        presence_timeout: p.duration(PRESENCE_TIMEOUT_KEYS, d.presence_timeout)?,
    })
}

/// The first of `keys` that is set, with its value.
fn first<'k, 'p>(p: &'p Properties, keys: &[&'k str]) -> Option<(&'k str, &'p str)> {
    keys.iter().find_map(|&k| p.get(&[k]).map(|v| (k, v)))
}

fn bad(key: &str, value: &str, expected: &str) -> ConfigError {
    ConfigError::BadValue {
        key: key.to_string(),
        value: value.to_string(),
        expected: expected.to_string(),
    }
}

/// Parses the HOCON list of lists as one property value
/// (`[["a","b"],["c"]]`, quotes optional) or the flat form `a,b;c`.
fn parse_region_groups(v: &str) -> Option<Vec<Vec<String>>> {
    let v = v.trim();
    let mut texts = Vec::new();
    if let Some(inner) = v.strip_prefix('[') {
        let mut rest = inner.strip_suffix(']')?.trim();
        while !rest.is_empty() {
            let group = rest.strip_prefix('[')?;
            let end = group.find(']')?;
            texts.push(&group[..end]);
            rest = group[end + 1..].trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        }
    } else {
        texts.extend(v.split(';'));
    }
    let groups: Vec<Vec<String>> = texts
        .into_iter()
        .map(|g| {
            g.split(',')
                .map(|r| r.trim().trim_matches('"').trim())
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|g| !g.is_empty())
        .collect();
    if groups.iter().flatten().any(|r| r.contains(['[', ']', '"'])) {
        return None;
    }
    Some(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Properties {
        let mut p = Properties::new();
        for (k, v) in pairs {
            p.set(*k, *v);
        }
        p
    }

    #[test]
    fn defaults_are_current_jicofo_defaults() {
        let c = BridgeConfig::from_props(&Properties::new()).unwrap();
        assert_eq!(c, BridgeConfig::default());
        assert_eq!(c.strategy, SelectionStrategy::SingleBridge);
        assert_eq!(c.max_bridge_participants, Some(80));
        assert_eq!(c.failure_reset_threshold, Duration::from_secs(60));
        assert_eq!(c.stress_threshold, 0.8);
        assert_eq!(c.participant_rampup_interval, Duration::from_secs(20));
        assert_eq!(c.average_participant_stress, 0.01);
        assert_eq!(c.health.interval, Some(Duration::from_secs(10)));
        assert_eq!(c.health.retry_delay, Duration::from_secs(5));
        assert_eq!(c.rediscovery_interval, Some(Duration::from_secs(30)));
        assert_eq!(c.brewery_jid, None);
        assert!(!c.octo_enabled);
    }

    // Port of BridgeConfigTest "with both legacy and new config the legacy
    // values should be used".
    #[test]
    fn legacy_keys_win_over_current_ones() {
        let c = BridgeConfig::from_props(&props(&[
            (
                "org.jitsi.jicofo.BridgeSelector.MAX_PARTICIPANTS_PER_BRIDGE",
                "111",
            ),
            ("jicofo.bridge.max-bridge-participants", "222"),
            ("org.jitsi.jicofo.BridgeSelector.LOCAL_REGION", "legacy"),
            ("jicofo.local-region", "new"),
            ("org.jitsi.focus.BRIDGE_FAILURE_RESET_THRESHOLD", "300000"),
            ("jicofo.bridge.failure-reset-threshold", "2 minutes"),
            (
                "org.jitsi.jicofo.BRIDGE_MUC",
                "JvbBrewery@internal.auth.meet.test",
            ),
            ("jicofo.bridge.brewery-jid", "other@internal.auth.meet.test"),
        ]))
        .unwrap();
        assert_eq!(c.max_bridge_participants, Some(111));
        assert_eq!(c.local_region.as_deref(), Some("legacy"));
        assert_eq!(c.failure_reset_threshold, Duration::from_secs(300));
        assert_eq!(
            c.brewery_jid.unwrap().as_str(),
            "jvbbrewery@internal.auth.meet.test"
        );
    }

    #[test]
    fn current_keys_alone() {
        let c = BridgeConfig::from_props(&props(&[
            ("jicofo.bridge.max-bridge-participants", "222"),
            ("jicofo.local-region", "new"),
            ("jicofo.bridge.stress-threshold", "0.5"),
            ("jicofo.bridge.participant-rampup-interval", "5 s"),
            ("jicofo.bridge.average-participant-stress", "0.02"),
            ("jicofo.octo.enabled", "true"),
            ("jicofo.octo.allow-mixed-versions", "true"),
        ]))
        .unwrap();
        assert_eq!(c.max_bridge_participants, Some(222));
        assert_eq!(c.local_region.as_deref(), Some("new"));
        assert_eq!(c.stress_threshold, 0.5);
        assert_eq!(c.participant_rampup_interval, Duration::from_secs(5));
        assert_eq!(c.average_participant_stress, 0.02);
        assert!(c.octo_enabled && c.allow_mixed_versions);
    }

    #[test]
    fn no_maximum_participants() {
        for v in ["-1", "0"] {
            let c =
                BridgeConfig::from_props(&props(&[("jicofo.bridge.max-bridge-participants", v)]))
                    .unwrap();
            assert_eq!(c.max_bridge_participants, None, "{v}");
        }
        let e =
            BridgeConfig::from_props(&props(&[("jicofo.bridge.max-bridge-participants", "lots")]))
                .unwrap_err();
        assert!(e.to_string().contains("max-bridge-participants"), "{e}");
    }

    // Port of BridgeConfigTest "Selection strategy".
    #[test]
    fn strategy_names() {
        let get =
            |k: &str, v: &str| BridgeConfig::from_props(&props(&[(k, v)])).map(|c| c.strategy);
        let legacy = "org.jitsi.jicofo.BridgeSelector.BRIDGE_SELECTION_STRATEGY";
        let current = "jicofo.bridge.selection-strategy";
        assert_eq!(
            get(legacy, "SplitBridgeSelectionStrategy"),
            Ok(SelectionStrategy::Split)
        );
        assert_eq!(
            get(current, "RegionBasedBridgeSelectionStrategy"),
            Ok(SelectionStrategy::RegionBased)
        );
        assert_eq!(
            get(
                current,
                "org.jitsi.jicofo.bridge.SingleBridgeSelectionStrategy"
            ),
            Ok(SelectionStrategy::SingleBridge)
        );
        assert_eq!(
            get(
                legacy,
                "org.jitsi.jicofo.RegionBasedBridgeSelectionStrategy"
            ),
            Ok(SelectionStrategy::RegionBased)
        );
        assert_eq!(
            get(current, "region-based"),
            Ok(SelectionStrategy::RegionBased)
        );
        assert_eq!(get(current, "Split"), Ok(SelectionStrategy::Split));
        assert_eq!(get(current, "single"), Ok(SelectionStrategy::SingleBridge));
        let e = get(current, "IntraRegionBridgeSelectionStrategy").unwrap_err();
        assert!(
            e.to_string().contains("SingleBridgeSelectionStrategy"),
            "{e}"
        );
    }

    // Port of BridgeConfigTest "Health checks": the retry delay follows the
    // interval.
    #[test]
    fn health_interval_and_retry_delay() {
        let h = |pairs: &[(&str, &str)]| BridgeConfig::from_props(&props(pairs)).unwrap().health;
        let c = h(&[("jicofo.bridge.health-checks.interval", "2 minutes")]);
        assert_eq!(c.interval, Some(Duration::from_secs(120)));
        assert_eq!(c.retry_delay, Duration::from_secs(60));

        let c = h(&[("org.jitsi.jicofo.HEALTH_CHECK_INTERVAL", "20000")]);
        assert_eq!(c.interval, Some(Duration::from_secs(20)));
        assert_eq!(c.retry_delay, Duration::from_secs(10));

        let c = h(&[
            ("org.jitsi.jicofo.HEALTH_CHECK_INTERVAL", "20000"),
            ("org.jitsi.jicofo.HEALTH_CHECK_2NDTRY_DELAY", "3000"),
            ("jicofo.bridge.health-checks.retry-delay", "7 s"),
        ]);
        assert_eq!(c.retry_delay, Duration::from_secs(3));

        for off in ["0", "-1"] {
            let c = h(&[("org.jitsi.jicofo.HEALTH_CHECK_INTERVAL", off)]);
            assert_eq!(c.interval, None, "{off}");
        }
        // The legacy interval wins over the CURRENT switch.
        let c = h(&[
            ("org.jitsi.jicofo.HEALTH_CHECK_INTERVAL", "10000"),
            ("jicofo.bridge.health-checks.enabled", "false"),
        ]);
        assert_eq!(c.interval, Some(Duration::from_secs(10)));
        let c = h(&[("jicofo.bridge.health-checks.enabled", "false")]);
        assert_eq!(c.interval, None);

        let c = h(&[
            ("jicofo.bridge.health-checks.use-presence", "true"),
            ("jicofo.bridge.health-checks.presence-timeout", "30 s"),
        ]);
        assert!(c.use_presence);
        assert_eq!(c.presence_timeout, Duration::from_secs(30));
    }

    #[test]
    fn rediscovery_interval() {
        let r = |v: &str| {
            BridgeConfig::from_props(&props(&[(
                "org.jitsi.jicofo.SERVICE_REDISCOVERY_INTERVAL",
                v,
            )]))
            .unwrap()
            .rediscovery_interval
        };
        assert_eq!(r("60000"), Some(Duration::from_secs(60)));
        assert_eq!(r("0"), None);
        assert_eq!(r("-5"), None);
    }

    #[test]
    fn brewery_jid_must_be_a_bare_jid() {
        for v in ["jvbbrewery@internal.auth.meet.test/focus", "a@@b"] {
            let e =
                BridgeConfig::from_props(&props(&[("jicofo.bridge.brewery-jid", v)])).unwrap_err();
            assert!(e.to_string().contains("brewery-jid"), "{e}");
        }
    }

    // Port of BridgeConfigTest "Region groups".
    #[test]
    fn region_groups() {
        let c = BridgeConfig::default();
        assert!(c.region_groups.is_empty());
        let hocon = r#"[ [ "us-east", "us-west" ], [ "eu-central", "eu-west"] ]"#;
        for v in [hocon, "us-east, us-west; eu-central,eu-west"] {
            let c =
                BridgeConfig::from_props(&props(&[("jicofo.bridge.region-groups", v)])).unwrap();
            assert_eq!(
                c.region_groups,
                vec![vec!["us-east", "us-west"], vec!["eu-central", "eu-west"]],
                "{v}"
            );
            assert!(c.region_group(None).is_empty());
            assert_eq!(c.region_group(Some("abc")), vec!["abc"]);
            assert_eq!(c.region_group(Some("us-west")), vec!["us-east", "us-west"]);
        }
        assert!(
            BridgeConfig::from_props(&props(&[("jicofo.bridge.region-groups", "[[\"a\"")]))
                .is_err()
        );
    }
}
