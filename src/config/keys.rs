//! The property names this program knows about, so that `main` can point out
//! the others (typos, or settings of a Jicofo feature we do not implement).
//!
//! The table is deliberately wider than what we read today: every key named in
//! the protocol notes (SEED `org.jitsi.*` names and CURRENT `jicofo.*` names)
//! is "known", so a stock Debian `sip-communicator.properties` does not produce
//! a wall of noise.

/// Property names known to this program: the SEED (2015–2019) names from
/// `sip-communicator.properties`, the CURRENT `jicofo.conf` names (which can be
/// given as flat properties, e.g. `-Djicofo.xmpp.client.port=5222`), and the
/// names this program adds.
pub const KNOWN_KEYS: &[&str] = &[
    // SEED: set by Main from the command line, or given in the file.
    "org.jitsi.jicofo.HOSTNAME",
    "org.jitsi.jicofo.XMPP_DOMAIN",
    "org.jitsi.jicofo.FOCUS_USER_DOMAIN",
    "org.jitsi.jicofo.FOCUS_USER_NAME",
    "org.jitsi.jicofo.FOCUS_USER_PASSWORD",
    "org.jitsi.jicofo.XMPP_PORT",
    // SEED: authentication and its HTTP server.
    "org.jitsi.jicofo.auth.URL",
    "org.jitsi.jicofo.auth.LOGOUT_URL",
    "org.jitsi.jicofo.auth.DISABLE_AUTOLOGIN",
    "org.jitsi.jicofo.auth.AUTH_LIFETIME",
    "org.jitsi.jicofo.auth.jetty.port",
    "org.jitsi.jicofo.auth.jetty.tls.port",
    "org.jitsi.jicofo.auth.jetty.host",
    "org.jitsi.jicofo.auth.jetty.sslContextFactory.keyStorePath",
    "org.jitsi.jicofo.auth.jetty.sslContextFactory.keyStorePassword",
    "org.jitsi.jicofo.rest.jetty.port",
    // SEED: conference behaviour.
    "org.jitsi.jicofo.DISABLE_AUTO_OWNER",
    "org.jitsi.jicofo.SHUTDOWN_ALLOWED_JID",
    "org.jitsi.focus.IDLE_TIMEOUT",
    "org.jitsi.jicofo.SINGLE_PARTICIPANT_TIMEOUT",
    "org.jitsi.jicofo.MAX_SSRC_PER_USER",
    "org.jitsi.jicofo.XMPP_MUC_COMPONENT_PREFIX",
    "org.jitsi.jicofo.ALWAYS_TRUST_MODE_ENABLED",
    // SEED: bridge discovery, selection and health.
    "org.jitsi.jicofo.SERVICE_REDISCOVERY_INTERVAL",
    "org.jitsi.focus.BRIDGE_FAILURE_RESET_THRESHOLD",
    "org.jitsi.focus.pubsub.ADDRESS",
    "org.jitsi.focus.pubsub.RETRY_INTERVAL",
    "org.jitsi.jicofo.STATS_PUBSUB_NODE",
    "org.jitsi.focus.BRIDGE_PUBSUB_MAPPING",
    "org.jitsi.jicofo.MAX_STATS_REPORT_AGE",
    "org.jitsi.jicofo.HEALTH_CHECK_INTERVAL",
    "org.jitsi.jicofo.HEALTH_CHECK_2NDTRY_DELAY",
    "org.jitsi.jicofo.BRIDGE_MUC",
    "org.jitsi.jicofo.BRIDGE_MUC_XMPP_HOST",
    "org.jitsi.jicofo.BRIDGE_MUC_XMPP_PORT",
    "org.jitsi.jicofo.BRIDGE_MUC_XMPP_USER_DOMAIN",
    "org.jitsi.jicofo.BRIDGE_MUC_XMPP_USER",
    "org.jitsi.jicofo.BRIDGE_MUC_XMPP_USER_PASS",
    "org.jitsi.jicofo.BridgeSelector.BRIDGE_SELECTION_STRATEGY",
    "org.jitsi.jicofo.BridgeSelector.MAX_PARTICIPANTS_PER_BRIDGE",
    "org.jitsi.jicofo.BridgeSelector.LOCAL_REGION",
    "org.jitsi.jicofo.health.ENABLE_HEALTH_CHECKS",
    // SEED: component keep-alive.
    "org.jitsi.jicofo.PING_INTERVAL",
    "org.jitsi.jicofo.PING_TIMEOUT",
    "org.jitsi.jicofo.PING_THRESHOLD",
    // SEED: reservation system, recording, gateways.
    "org.jitsi.impl.reservation.rest.BASE_URL",
    "org.jitsi.videobridge.MEDIA_RECORDING_TOKEN",
    "org.jitsi.jicofo.jibri.BREWERY",
    "org.jitsi.jicofo.jibri.SIP_BREWERY",
    "org.jitsi.jicofo.jibri.PENDING_TIMEOUT",
    "org.jitsi.jicofo.NUM_JIBRI_RETRIES",
    "org.jitsi.jicofo.jigasi.BREWERY",
    // SEED: codec toggles and payload types.
    "org.jitsi.jicofo.ENABLE_VP8",
    "org.jitsi.jicofo.ENABLE_VP9",
    "org.jitsi.jicofo.ENABLE_H264",
    "org.jitsi.jicofo.ENABLE_AV1",
    "org.jitsi.jicofo.VP8_PT",
    "org.jitsi.jicofo.VP9_PT",
    "org.jitsi.jicofo.H264_PT",
    "org.jitsi.jicofo.AV1_PT",
    "org.jitsi.jicofo.VP8_RTX_PT",
    "org.jitsi.jicofo.VP9_RTX_PT",
    "org.jitsi.jicofo.H264_RTX_PT",
    "org.jitsi.jicofo.AV1_RTX_PT",
    "org.jitsi.jicofo.ENABLE_TOF",
    "org.jitsi.jicofo.ENABLE_AST",
    "org.jitsi.jicofo.ENABLE_RID",
    "org.jitsi.jicofo.ENABLE_VIDEO_CONTENT_TYPE",
    "org.jitsi.jicofo.ENABLE_FRAMEMARKING",
    // CURRENT: the XMPP client connection.
    "jicofo.xmpp.client.hostname",
    "jicofo.xmpp.client.port",
    "jicofo.xmpp.client.domain",
    "jicofo.xmpp.client.username",
    "jicofo.xmpp.client.resource",
    "jicofo.xmpp.client.password",
    "jicofo.xmpp.client.xmpp-domain",
    "jicofo.xmpp.client.conference-muc-jid",
    "jicofo.xmpp.client.disable-certificate-verification",
    "jicofo.xmpp.client.use-tls",
    "jicofo.xmpp.client.reply-timeout",
    "jicofo.xmpp.client.client-proxy",
    "jicofo.xmpp.trusted-domains",
    // Ours: the XML framer's hard limit (no Jicofo equivalent).
    "jicofo.xmpp.max-stanza-size",
    // CURRENT: bridges.
    "jicofo.bridge.brewery-jid",
    "jicofo.bridge.failure-reset-threshold",
    "jicofo.bridge.selection-strategy",
    "jicofo.bridge.max-bridge-participants",
    "jicofo.bridge.health-checks.enabled",
    "jicofo.bridge.health-checks.interval",
    "jicofo.bridge.health-checks.retry-delay",
    "jicofo.bridge.stress-threshold",
    "jicofo.bridge.participant-rampup-interval",
    "jicofo.bridge.average-participant-stress",
    "jicofo.bridge.health-checks.use-presence",
    "jicofo.bridge.health-checks.presence-timeout",
    "jicofo.local-region",
    // CURRENT: authentication.
    "jicofo.authentication.enabled",
    "jicofo.authentication.type",
    "jicofo.authentication.login-url",
    "jicofo.authentication.authentication-lifetime",
    "jicofo.authentication.enable-auto-login",
    // CURRENT: conferences.
    "jicofo.conference.enable-auto-owner",
    "jicofo.conference.initial-timeout",
    "jicofo.conference.single-participant-timeout",
    "jicofo.conference.max-ssrcs-per-user",
    "jicofo.conference.max-ssrc-groups-per-user",
    "jicofo.conference.min-participants",
    "jicofo.conference.max-audio-senders",
    "jicofo.conference.max-video-senders",
    "jicofo.conference.strip-simulcast",
    "jicofo.conference.use-ssrc-rewriting",
    "jicofo.conference.use-json-encoded-sources",
    "jicofo.conference.reinvite-method",
    "jicofo.conference.enable-ice-restart",
    // CURRENT: recording and gateways.
    "jicofo.jibri.brewery-jid",
    "jicofo.jibri.pending-timeout",
    "jicofo.jibri.num-retries",
    "jicofo.jibri-sip.brewery-jid",
    "jicofo.jigasi.brewery-jid",
    // CURRENT: Jicofo's own health check and HTTP server.
    "jicofo.health.enabled",
    "jicofo.health.interval",
    "jicofo.health.timeout",
    "jicofo.health.max-check-duration",
    "jicofo.health.room-name-prefix",
    "jicofo.rest.port",
    "jicofo.rest.host",
    "jicofo.rest.prometheus.enabled",
    "jicofo.rest.conference-request.enabled",
    "jicofo.rest.move-endpoints.enabled",
    "jicofo.rest.debug.enabled",
    "jicofo.rest.pin.enabled",
    // CURRENT: misc.
    "jicofo.octo.enabled",
    "jicofo.octo.allow-mixed-versions",
    "jicofo.sctp.enabled",
];

/// Prefixes of whole CURRENT key families that are known without listing
/// every member: the codec tree (`jicofo.codec.video.vp8.pt`, …), the
/// separate service connection, and the nested maps of `jicofo.conf`.
pub const KNOWN_PREFIXES: &[&str] = &[
    "jicofo.codec.",
    "jicofo.xmpp.service.",
    "jicofo.visitors.",
    "jicofo.bridge.region-groups",
    "jicofo.bridge.load-redistribution.",
    "jicofo.bridge.ice-failure-detection.",
    "jicofo.conference.source-signaling-delays",
    "jicofo.conference.restart-request-rate-limits.",
];

/// Whether `key` is in [`KNOWN_KEYS`] or starts with one of [`KNOWN_PREFIXES`].
pub fn is_known_key(key: &str) -> bool {
    KNOWN_KEYS.contains(&key) || KNOWN_PREFIXES.iter().any(|p| key.starts_with(p))
}
