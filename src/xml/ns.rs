//! Namespace names of everything the focus reads or writes.

/// RFC 6120 client stream content.
pub const CLIENT: &str = "jabber:client";
/// XEP-0114 component stream content.
pub const COMPONENT: &str = "jabber:component:accept";
/// The stream element and its `stream:` children.
pub const STREAMS: &str = "http://etherx.jabber.org/streams";
/// Stream error conditions.
pub const STREAM_ERRORS: &str = "urn:ietf:params:xml:ns:xmpp-streams";
/// Stanza error conditions.
pub const STANZAS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";
/// STARTTLS.
pub const TLS: &str = "urn:ietf:params:xml:ns:xmpp-tls";
/// SASL.
pub const SASL: &str = "urn:ietf:params:xml:ns:xmpp-sasl";
/// Resource binding.
pub const BIND: &str = "urn:ietf:params:xml:ns:xmpp-bind";
/// Legacy session establishment (RFC 3921), optional on modern servers.
pub const SESSION: &str = "urn:ietf:params:xml:ns:xmpp-session";
/// XEP-0030 service discovery, info.
pub const DISCO_INFO: &str = "http://jabber.org/protocol/disco#info";
/// XEP-0030 service discovery, items.
pub const DISCO_ITEMS: &str = "http://jabber.org/protocol/disco#items";
/// XEP-0199 XMPP ping.
pub const PING: &str = "urn:xmpp:ping";
/// XEP-0115 entity capabilities.
pub const CAPS: &str = "http://jabber.org/protocol/caps";
/// XEP-0045 multi-user chat (join).
pub const MUC: &str = "http://jabber.org/protocol/muc";
/// XEP-0045 occupant data.
pub const MUC_USER: &str = "http://jabber.org/protocol/muc#user";
/// XEP-0045 owner operations (room configuration).
pub const MUC_OWNER: &str = "http://jabber.org/protocol/muc#owner";
/// XEP-0045 admin operations (affiliations and roles).
pub const MUC_ADMIN: &str = "http://jabber.org/protocol/muc#admin";
/// XEP-0004 data forms.
pub const DATA_FORMS: &str = "jabber:x:data";
/// Jitsi focus protocol: conference request, login-url, logout.
pub const FOCUS: &str = "http://jitsi.org/protocol/focus";
/// Colibri v1, also bridge/focus statistics and graceful shutdown.
pub const COLIBRI: &str = "http://jitsi.org/protocol/colibri";
/// Colibri2.
pub const COLIBRI2: &str = "jitsi:colibri2";
/// Bridge health checks.
pub const HEALTHCHECK: &str = "http://jitsi.org/protocol/healthcheck";
/// XEP-0166 Jingle.
pub const JINGLE: &str = "urn:xmpp:jingle:1";
/// XEP-0167 Jingle RTP.
pub const JINGLE_RTP: &str = "urn:xmpp:jingle:apps:rtp:1";
/// XEP-0176 ICE-UDP transport.
pub const JINGLE_ICE_UDP: &str = "urn:xmpp:jingle:transports:ice-udp:1";
/// XEP-0177 raw-UDP transport.
pub const JINGLE_RAW_UDP: &str = "urn:xmpp:jingle:transports:raw-udp:1";
/// XEP-0320 DTLS fingerprints.
pub const JINGLE_DTLS: &str = "urn:xmpp:jingle:apps:dtls:0";
/// DTLS/SCTP data channels.
pub const JINGLE_DTLS_SCTP: &str = "urn:xmpp:jingle:transports:dtls-sctp:1";
/// XEP-0338 grouping (BUNDLE).
pub const JINGLE_GROUPING: &str = "urn:xmpp:jingle:apps:grouping:0";
/// XEP-0339 source-specific media attributes.
pub const JINGLE_SSMA: &str = "urn:xmpp:jingle:apps:rtp:ssma:0";
/// XEP-0293 RTCP feedback.
pub const JINGLE_RTCP_FB: &str = "urn:xmpp:jingle:apps:rtp:rtcp-fb:0";
/// XEP-0294 RTP header extensions.
pub const JINGLE_RTP_HDREXT: &str = "urn:xmpp:jingle:apps:rtp:rtp-hdrext:0";
/// Jitsi Meet extensions (ssrc-info, json-message, versions).
pub const JITMEET: &str = "http://jitsi.org/jitmeet";
/// The focus's own features advertised on its component.
pub const FOCUS_FEATURE: &str = FOCUS;
/// XEP-0045 room configuration: the owner form's `FORM_TYPE`.
pub const MUC_ROOMCONFIG: &str = "http://jabber.org/protocol/muc#roomconfig";
/// XEP-0045 room information: the disco#info extended form's `FORM_TYPE`.
pub const MUC_ROOMINFO: &str = "http://jabber.org/protocol/muc#roominfo";
/// XEP-0172 user nickname (a participant's display name in its presence).
pub const NICK: &str = "http://jabber.org/protocol/nick";
/// Jitsi start-muted flags: in an owner's presence (SEED) and in
/// `session-initiate`.
pub const START_MUTED: &str = "http://jitsi.org/jitmeet/start-muted";
/// Jitsi audio mute IQ.
pub const JITMEET_AUDIO: &str = "http://jitsi.org/jitmeet/audio";
/// Jitsi video mute IQ.
pub const JITMEET_VIDEO: &str = "http://jitsi.org/jitmeet/video";
/// Jitsi desktop-sharing mute IQ.
pub const JITMEET_DESKTOP: &str = "http://jitsi.org/jitmeet/desktop";
/// The shared-document name the focus publishes in its presence.
pub const ETHERPAD: &str = "http://jitsi.org/jitmeet/etherpad";
/// The estos BUNDLE marker SEED put in every offer content.
pub const ESTOS_BUNDLE: &str = "http://estos.de/ns/bundle";
