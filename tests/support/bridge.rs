//! Emulated videobridges: the only bridges the focus meets before
//! deployment, so they answer as jitsi-videobridge does, errors and silence
//! included, and record everything they were asked.
//!
//! ```ignore
//! let p = Prosody::start(ProsodyOpts::default().user(JVB_USER, AUTH_DOMAIN, JVB_PASSWORD)
//!     .component("jvb.meet.test", "jvb_secret"));
//! // CURRENT: a c2s client in the brewery MUC, Colibri2 on its occupant JID.
//! let b2 = Bridge::colibri2(&p, BREWERY, "jvb1", BridgeOpts::default().region("eu"));
//! // SEED: an XEP-0114 component found by disco on the domain, Colibri v1.
//! let b1 = Bridge::colibri_v1(&p, "jvb.meet.test", "jvb_secret", BridgeOpts::default());
//! b2.wait_ready(T);                      // online (and in the brewery)
//! b2.fail_allocations(Fault::GracefulShutdown, 1);
//! b2.fail_updates(Fault::UnknownEndpoint, 1);
//! b2.set_silent(true); b2.fail_health(Some(Condition::InternalServerError));
//! b2.set_stats(|s| s.shutting_down = Some(true));   // presence sent at once
//! b2.requests(); b2.endpoints(); b2.transport_of("alice"); b2.endpoint("alice");
//! b2.wait_for("alice updated", T, |st| st.endpoint("alice").filter(|e| e.updates > 0).cloned());
//! b2.crash();   // socket dropped without a goodbye; b2.stop() leaves cleanly
//! ```
//!
//! What a real bridge does, and so the emulator:
//!
//! * Colibri2 (`conference-modify`, read with the crate's bridge-side
//!   [`Colibri2Request`] steps, in jitsi-videobridge's order): `create` for
//!   a meeting id it has is `conflict` + `conference_already_exists`, in
//!   graceful shutdown (or shutting down) `service-unavailable` +
//!   `graceful_shutdown`; without `create` an unknown meeting id is
//!   `item-not-found` + `conference_not_found`; then the name check, the
//!   conference is created (and stays, even when a later check of the same
//!   request fails), the shape rules, and each endpoint in order: an expire
//!   answers `<endpoint expire='true'/>` whether or not it existed; a create
//!   of an existing id is `conflict`, else the endpoint checks (transport,
//!   `source-names`, SCTP); an update of an unknown endpoint is
//!   `unknown_endpoint` unless the request only expires or force-mutes.
//!   Changes made before an error stay (the bridge does not roll back). A
//!   create answers the endpoint's own ICE transport (unique ufrag and pwd,
//!   the bridge's sha-256 DTLS fingerprint with `setup='actpass'`, a host
//!   and a server-reflexive candidate, `rtcp-mux`, a colibri web-socket) and
//!   `<sctp port='5000' role='server'/>` when asked; the feedback sources
//!   `jvb-a0`/`jvb-v0` go with every answer to a request that creates the
//!   conference or an endpoint. A request without `create` that leaves no
//!   endpoint expires the conference, as does `expire='true'`. Relays are
//!   refused (`feature-not-implemented`: Octo off).
//! * Colibri v1 (the 2015 bridge, [`parse_v1_request`]): no `id` creates a
//!   conference (`service-unavailable` + `<graceful-shutdown/>` when shutting
//!   down); an unknown conference or channel id is `feature-not-implemented`
//!   (its handler gave no answer). Each allocated channel gets an id, an
//!   expiry, a direction, `rtp-level-relay-type` and one `<source/>`: the
//!   bridge's own SSRC on it; a bundle gets its ICE transport (sha-1
//!   fingerprint, no `setup`, as in 2015). The answer describes the
//!   request's channels and every bundle of the conference. Channels with
//!   `expire='0'` go; the conference goes with its last channel.
//! * Health checks: an empty result, or the switched error.
//!
//! Faults are injected by [`Switches`] (shared with the test): the next
//! allocations or updates answered with a §3.6 error ([`Fault`]) instead of
//! being processed, silence (requests recorded, never answered nor
//! processed), health-check errors, stats flags (published at once), and a
//! crash. What the emulator does not model: media, ICE, endpoint expiry by
//! inactivity (real bridges expire endpoints whose ICE never connects after
//! about a minute; tests are shorter).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use jicofo::stanza::colibri::{
    BridgeStats, ContentKind, Direction, V1Bundle, V1Channel, V1Conference, V1SctpConnection,
    is_healthcheck, is_v1_request, parse_v1_request, v1_graceful_shutdown_error, v1_unknown_error,
    write_v1_response,
};
use jicofo::stanza::colibri2::{
    Colibri2Request, Colibri2Transport, ConferenceModified, DEFAULT_SCTP_PORT, ForceMute,
    MediaSource, ModifiedEndpoint, Sctp, SctpRole, colibri2_error, conference_already_exists,
    conference_not_found, endpoint_already_exists, graceful_shutdown, is_colibri2_request,
    unknown_endpoint, write_colibri2_error, write_conference_modified,
};
use jicofo::stanza::disco::{self, Identity};
use jicofo::stanza::iq::{write_empty_result, write_error_reply};
use jicofo::stanza::jingle::{
    Attrs, Candidate, Fingerprint, IceUdpTransport, RtpDescription, WebSocket,
};
use jicofo::stanza::muc;
use jicofo::stanza::ping::{is_ping, write_pong};
use jicofo::stanza::sources::{EndpointSourceSet, MediaType, Source};
use jicofo::stanza::{Condition, Iq, Jid, Presence, PresenceType, StanzaError};
use jicofo::util::rng::Rng;
use jicofo::xml::{El, ns};

use super::AUTH_DOMAIN;
use super::prosody::Prosody;
use super::xmpp_thread::{PeerInput, PeerThread, spawn_client, spawn_component};

/// The brewery room of a Debian Jitsi Meet deployment on `meet.test`.
pub const BREWERY: &str = "jvbbrewery@internal.auth.meet.test";
/// The bridges' account (local part) on [`AUTH_DOMAIN`]: register it with
/// `ProsodyOpts::user(JVB_USER, AUTH_DOMAIN, JVB_PASSWORD)`.
pub const JVB_USER: &str = "jvb";
/// Its password.
pub const JVB_PASSWORD: &str = "jvbpassword";
/// The owner of the bridge's feedback sources in offers.
pub const FEEDBACK_OWNER: &str = "jvb";

/// An error answer of protocol.md §3.6, injected instead of processing a
/// request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `service-unavailable` + `graceful_shutdown` (v1: `<graceful-shutdown/>`).
    GracefulShutdown,
    /// `item-not-found` + `conference_not_found`. The bridge forgets the
    /// conference first, as one that expired it would.
    ConferenceNotFound,
    /// `conflict` + `conference_already_exists`.
    ConferenceAlreadyExists,
    /// `item-not-found` without a Colibri2 reason (what the MUC answers
    /// when an occupant is gone).
    ItemNotFound,
    /// `conflict` without a reason.
    Conflict,
    /// `bad-request`.
    BadRequest,
    /// `service-unavailable` without a reason.
    ServiceUnavailable,
    /// `item-not-found` + `unknown_endpoint` naming the request's first
    /// endpoint, which the bridge forgets first (v1: `feature-not-implemented`,
    /// the 2015 bridge's answer for an unknown channel).
    UnknownEndpoint,
    /// `internal-server-error`.
    InternalServerError,
}

impl Fault {
    fn colibri2(self, meeting_id: &str, endpoint: &str) -> StanzaError {
        let plain = |c| colibri2_error(c, None, Some("injected by the emulator"));
        match self {
            Fault::GracefulShutdown => graceful_shutdown(),
            Fault::ConferenceNotFound => conference_not_found(meeting_id),
            Fault::ConferenceAlreadyExists => conference_already_exists(meeting_id),
            Fault::ItemNotFound => plain(Condition::ItemNotFound),
            Fault::Conflict => plain(Condition::Conflict),
            Fault::BadRequest => plain(Condition::BadRequest),
            Fault::ServiceUnavailable => plain(Condition::ServiceUnavailable),
            Fault::UnknownEndpoint => unknown_endpoint(endpoint),
            Fault::InternalServerError => plain(Condition::InternalServerError),
        }
    }

    fn v1(self) -> StanzaError {
        match self {
            Fault::GracefulShutdown => v1_graceful_shutdown_error(),
            Fault::ConferenceNotFound | Fault::UnknownEndpoint => v1_unknown_error(),
            Fault::ItemNotFound => StanzaError::new(Condition::ItemNotFound),
            Fault::Conflict | Fault::ConferenceAlreadyExists => {
                StanzaError::new(Condition::Conflict)
            }
            Fault::BadRequest => StanzaError::new(Condition::BadRequest),
            Fault::ServiceUnavailable => StanzaError::new(Condition::ServiceUnavailable),
            Fault::InternalServerError => StanzaError::new(Condition::InternalServerError),
        }
    }
}

/// Fault injection, shared with the test.
#[derive(Debug, Default)]
pub struct Switches {
    /// Errors for the next allocations (requests that create an endpoint,
    /// or v1 requests that allocate a channel), one per request.
    pub fail_allocations: VecDeque<Fault>,
    /// Errors for the next other requests about endpoints (updates: not
    /// those that only expire), one per request.
    pub fail_updates: VecDeque<Fault>,
    /// Record requests but never answer nor process them (a hung bridge).
    pub silent: bool,
    /// Answer health checks with this error.
    pub health: Option<Condition>,
}

/// How to run a bridge.
#[derive(Debug, Clone)]
pub struct BridgeOpts {
    /// Stats published in the brewery (Colibri2 bridges); `conferences` and
    /// `participants` are filled from the emulator's state.
    pub stats: BridgeStats,
    /// Stats are re-published this often (JVB: 5 s), and at once on change.
    pub stats_interval: Duration,
    /// The v1 component advertises the health-check feature.
    pub healthcheck_feature: bool,
    /// The bridge's private address (host candidate).
    pub local_ip: String,
    /// Its public address (server-reflexive candidate).
    pub public_ip: String,
    /// Its media port (one for all endpoints, as JVB's single-port harvester).
    pub port: u16,
}

impl Default for BridgeOpts {
    fn default() -> Self {
        BridgeOpts {
            stats: BridgeStats {
                stress_level: Some(0.05),
                average_participant_stress: Some(0.01),
                region: None,
                relay_id: None,
                version: Some("2.3.210".into()),
                release: Some("1234".into()),
                graceful_shutdown: Some(false),
                shutting_down: Some(false),
                drain: Some(false),
                healthy: Some(true),
                conferences: Some(0),
                participants: Some(0),
                colibri2: Some(true),
            },
            stats_interval: Duration::from_secs(5),
            healthcheck_feature: true,
            local_ip: "10.0.1.17".into(),
            public_ip: "203.0.113.7".into(),
            port: 10000,
        }
    }
}

impl BridgeOpts {
    /// `region`.
    pub fn region(mut self, region: &str) -> Self {
        self.stats.region = Some(region.into());
        self
    }
    /// `stress_level`.
    pub fn stress(mut self, stress: f64) -> Self {
        self.stats.stress_level = Some(stress);
        self
    }
    /// `graceful_shutdown`.
    pub fn graceful_shutdown(mut self, on: bool) -> Self {
        self.stats.graceful_shutdown = Some(on);
        self
    }
    /// `shutting_down`.
    pub fn shutting_down(mut self, on: bool) -> Self {
        self.stats.shutting_down = Some(on);
        self
    }
    /// `drain`.
    pub fn drain(mut self, on: bool) -> Self {
        self.stats.drain = Some(on);
        self
    }
    /// Addresses of the candidates (two bridges of a test should differ).
    pub fn addresses(mut self, local_ip: &str, public_ip: &str) -> Self {
        self.local_ip = local_ip.into();
        self.public_ip = public_ip.into();
        self
    }
}

/// What a request was, as the bridge read it.
#[derive(Debug, Clone)]
pub enum Request {
    /// A Colibri2 `conference-modify`.
    Colibri2(Colibri2Request),
    /// A Colibri v1 `<conference/>`.
    Colibri1(V1Conference),
    /// A Colibri request the bridge could not read (why).
    Unreadable(String),
    /// `<healthcheck/>`.
    HealthCheck,
    /// disco#info.
    DiscoInfo,
    /// Anything else: the payload's name.
    Other(String),
}

/// One request received.
#[derive(Debug, Clone)]
pub struct Received {
    /// When.
    pub at: Instant,
    /// `from` as received (the focus's occupant JID in the brewery, or its
    /// client JID).
    pub from: String,
    /// What it was.
    pub request: Request,
    /// The IQ as received.
    pub xml: String,
    /// The answer as sent; `None` when silent.
    pub answer: Option<String>,
}

impl Received {
    /// The Colibri2 request, if it is one.
    pub fn colibri2(&self) -> Option<&Colibri2Request> {
        match &self.request {
            Request::Colibri2(r) => Some(r),
            _ => None,
        }
    }

    /// The Colibri v1 request, if it is one.
    pub fn colibri1(&self) -> Option<&V1Conference> {
        match &self.request {
            Request::Colibri1(r) => Some(r),
            _ => None,
        }
    }

    /// True when it was answered with an error.
    pub fn answered_error(&self) -> bool {
        self.answer
            .as_deref()
            .is_some_and(|a| a.contains("type='error'") || a.contains("type=\"error\""))
    }
}

/// One endpoint on the bridge.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Its id (the participant's MUC nick).
    pub id: String,
    /// `stats-id`.
    pub stats_id: Option<String>,
    /// The bridge's ICE transport handed out for it.
    pub transport: IceUdpTransport,
    /// The SCTP port handed out, when a data channel was asked for.
    pub sctp_port: Option<u16>,
    /// The participant's transport, once the focus sent it.
    pub remote_transport: Option<IceUdpTransport>,
    /// The participant's sources and groups (Colibri2: all media sources;
    /// v1: every channel's).
    pub sources: EndpointSourceSet,
    /// Colibri2: the media sources as last signalled.
    pub media_sources: Vec<MediaSource>,
    /// The codecs the focus gave (Colibri2 `<media/>`, v1 per channel).
    pub media: Vec<RtpDescription>,
    /// `<force-mute/>` (Colibri2).
    pub force_mute: Option<ForceMute>,
    /// `<initial-last-n/>` (Colibri2).
    pub initial_last_n: Option<i32>,
    /// Colibri v1: its RTP channels as the bridge describes them (the
    /// `sources` are the bridge's own SSRC on each).
    pub channels: Vec<V1Channel>,
    /// Colibri v1: its SCTP connection.
    pub sctp: Option<V1SctpConnection>,
    /// Requests that changed it after its creation.
    pub updates: usize,
}

/// One conference on the bridge.
#[derive(Debug, Clone)]
pub struct Conference {
    /// The meeting id (Colibri2) or the bridge-assigned id (v1).
    pub id: String,
    /// The bridge's own id for it (Colibri2: in web-socket URLs).
    pub internal_id: String,
    /// `name`.
    pub name: Option<String>,
    /// Endpoints by id.
    pub endpoints: BTreeMap<String, Endpoint>,
    /// The bridge's audio and video feedback SSRCs (Colibri2).
    pub feedback: (u32, u32),
    /// Colibri v1: the bundles, by id, with the bridge's transport.
    pub bundles: BTreeMap<String, IceUdpTransport>,
}

/// Everything the emulator knows, shared with the test.
#[derive(Debug, Default)]
pub struct State {
    /// Fault injection.
    pub switches: Switches,
    /// The stats published (Colibri2).
    pub stats: BridgeStats,
    stats_dirty: bool,
    /// Our JID once the stream is up.
    pub online_as: Option<String>,
    /// In the brewery (our own presence came back).
    pub in_brewery: bool,
    /// Why joining the brewery failed, if it did.
    pub brewery_error: Option<String>,
    /// Nicks of the other brewery occupants (the focus is `focus`).
    pub brewery_occupants: Vec<String>,
    /// Every request, in order.
    pub received: Vec<Received>,
    /// Live conferences by id.
    pub conferences: BTreeMap<String, Conference>,
    /// Ids of expired conferences, in order.
    pub expired_conferences: Vec<String>,
    /// Ids of expired endpoints, in order, with their conference.
    pub expired_endpoints: Vec<(String, String)>,
}

impl State {
    /// The live endpoint with this id, in any conference.
    pub fn endpoint(&self, id: &str) -> Option<&Endpoint> {
        self.conferences.values().find_map(|c| c.endpoints.get(id))
    }

    /// Ids of live endpoints, by conference.
    pub fn endpoints(&self) -> BTreeMap<String, Vec<String>> {
        self.conferences
            .iter()
            .map(|(id, c)| (id.clone(), c.endpoints.keys().cloned().collect()))
            .collect()
    }

    /// The Colibri2 requests received, in order.
    pub fn colibri2_requests(&self) -> Vec<&Colibri2Request> {
        self.received
            .iter()
            .filter_map(Received::colibri2)
            .collect()
    }

    /// The Colibri v1 requests received, in order.
    pub fn colibri1_requests(&self) -> Vec<&V1Conference> {
        self.received
            .iter()
            .filter_map(Received::colibri1)
            .collect()
    }

    /// Health checks received.
    pub fn health_checks(&self) -> usize {
        self.received
            .iter()
            .filter(|r| matches!(r.request, Request::HealthCheck))
            .count()
    }
}

/// Which kind of bridge.
#[derive(Debug, Clone)]
enum Flavor {
    /// Brewery occupant `room/nick`, Colibri2.
    Colibri2 { occupant: String, nick: String },
    /// Component, Colibri v1.
    V1,
}

/// A running emulated bridge.
pub struct Bridge {
    address: String,
    state: Arc<Mutex<State>>,
    thread: Option<PeerThread>,
}

impl Bridge {
    /// A CURRENT bridge: logs in as [`JVB_USER`] (register it in Prosody),
    /// joins `brewery` as `nick` with its stats, answers Colibri2 and health
    /// checks on `brewery/nick`. Returns at once; see [`Bridge::wait_ready`].
    pub fn colibri2(prosody: &Prosody, brewery: &str, nick: &str, opts: BridgeOpts) -> Bridge {
        let occupant = format!("{brewery}/{nick}");
        let flavor = Flavor::Colibri2 {
            occupant: occupant.clone(),
            nick: nick.to_string(),
        };
        let (state, mut emu) = Emulator::new(flavor, &occupant, opts);
        let thread = spawn_client(
            prosody,
            JVB_USER,
            AUTH_DOMAIN,
            JVB_PASSWORD,
            move |i, out| emu.input(i, out),
        );
        Bridge {
            address: occupant,
            state,
            thread: Some(thread),
        }
    }

    /// A 2015 bridge: the XEP-0114 component `jid` (add it with
    /// `ProsodyOpts::component(jid, secret)`), found by disco on the domain,
    /// answering Colibri v1 and health checks.
    pub fn colibri_v1(prosody: &Prosody, jid: &str, secret: &str, opts: BridgeOpts) -> Bridge {
        let (state, mut emu) = Emulator::new(Flavor::V1, jid, opts);
        let thread = spawn_component(prosody, jid, secret, move |i, out| emu.input(i, out));
        Bridge {
            address: jid.to_string(),
            state,
            thread: Some(thread),
        }
    }

    /// The address the focus uses for this bridge (occupant or component JID).
    pub fn jid(&self) -> &str {
        &self.address
    }

    /// The shared state, locked.
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until the stream is up (and, for Colibri2, we are in the
    /// brewery). Panics with what went wrong otherwise.
    #[track_caller]
    pub fn wait_ready(&self, timeout: Duration) {
        let colibri2 = self.address.contains('/');
        self.wait_for("the bridge online", timeout, |s| {
            (s.online_as.is_some() && (!colibri2 || s.in_brewery)).then_some(())
        });
    }

    /// Polls `f` on the state every 20 ms until it gives a value; panics
    /// naming `what`, with the requests received, after `timeout`.
    #[track_caller]
    pub fn wait_for<R>(
        &self,
        what: &str,
        timeout: Duration,
        mut f: impl FnMut(&State) -> Option<R>,
    ) -> R {
        let deadline = Instant::now() + timeout;
        loop {
            {
                let st = self.state();
                if let Some(r) = f(&st) {
                    return r;
                }
                if Instant::now() >= deadline {
                    let reqs: Vec<String> = st
                        .received
                        .iter()
                        .rev()
                        .take(8)
                        .map(|r| format!("{}\n  -> {:?}", r.xml, r.answer))
                        .collect();
                    panic!(
                        "bridge {}: no {what} within {timeout:?}; online {:?}, brewery {} \
                         ({:?}), conferences {:?}; last requests (newest first):\n{}",
                        self.address,
                        st.online_as,
                        st.in_brewery,
                        st.brewery_error,
                        st.endpoints(),
                        reqs.join("\n")
                    );
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Received> {
        self.state().received.clone()
    }

    /// Live endpoint ids by conference.
    pub fn endpoints(&self) -> BTreeMap<String, Vec<String>> {
        self.state().endpoints()
    }

    /// The live endpoint with this id.
    pub fn endpoint(&self, id: &str) -> Option<Endpoint> {
        self.state().endpoint(id).cloned()
    }

    /// The transport handed out for endpoint `id` (while it lives).
    pub fn transport_of(&self, id: &str) -> Option<IceUdpTransport> {
        self.endpoint(id).map(|e| e.transport)
    }

    /// The next `n` allocations are answered with `fault`.
    pub fn fail_allocations(&self, fault: Fault, n: usize) {
        self.state()
            .switches
            .fail_allocations
            .extend((0..n).map(|_| fault));
    }

    /// The next `n` updates are answered with `fault`.
    pub fn fail_updates(&self, fault: Fault, n: usize) {
        self.state()
            .switches
            .fail_updates
            .extend((0..n).map(|_| fault));
    }

    /// Silence on or off.
    pub fn set_silent(&self, on: bool) {
        self.state().switches.silent = on;
    }

    /// Health checks answered with `error` (`None`: healthy).
    pub fn fail_health(&self, error: Option<Condition>) {
        self.state().switches.health = error;
    }

    /// Changes the stats; the presence goes out at once (Colibri2).
    pub fn set_stats(&self, f: impl FnOnce(&mut BridgeStats)) {
        let mut st = self.state();
        f(&mut st.stats);
        st.stats_dirty = true;
    }

    /// Drops the connection without a goodbye, as a crashed bridge.
    pub fn crash(mut self) {
        if let Some(t) = self.thread.take() {
            t.crash();
        }
    }

    /// Leaves (the brewery, for Colibri2) and closes the stream cleanly.
    pub fn stop(mut self) {
        if let Some(t) = self.thread.take() {
            t.stop();
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            t.stop();
        }
    }
}

// ---------------------------------------------------------------------------
// The emulator proper, on the peer thread.

struct Emulator {
    flavor: Flavor,
    /// Our address as the focus writes it (answers come `from` what the
    /// request was `to`, so this is only for web-socket URLs).
    server_id: String,
    state: Arc<Mutex<State>>,
    opts: BridgeOpts,
    rng: Rng,
    /// The bridge's DTLS certificate fingerprint (one for all endpoints).
    fingerprint: String,
    next_stats: Option<Instant>,
}

/// The bridge's certificate fingerprint: `n` random bytes, colon-separated
/// upper-case hex.
fn fingerprint(rng: &mut Rng, n: usize) -> String {
    let hex = rng.hex(n).to_ascii_uppercase();
    hex.as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

fn seed_from(name: &str) -> [u8; 32] {
    let mut seed = [0u8; 32];
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    for (i, b) in name.bytes().chain(nanos.to_le_bytes()).enumerate() {
        seed[i % 32] ^= b.rotate_left(i as u32 % 8);
    }
    seed
}

impl Emulator {
    fn new(flavor: Flavor, address: &str, opts: BridgeOpts) -> (Arc<Mutex<State>>, Emulator) {
        let mut rng = Rng::from_seed(seed_from(address));
        let n = match flavor {
            Flavor::Colibri2 { .. } => 32, // sha-256
            Flavor::V1 => 20,              // sha-1
        };
        let fingerprint = fingerprint(&mut rng, n);
        let state = Arc::new(Mutex::new(State {
            stats: opts.stats.clone(),
            ..State::default()
        }));
        let emu = Emulator {
            flavor,
            server_id: address.rsplit('/').next().unwrap_or(address).to_string(),
            state: Arc::clone(&state),
            opts,
            rng,
            fingerprint,
            next_stats: None,
        };
        (state, emu)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn input(&mut self, input: PeerInput<'_>, out: &mut Vec<u8>) {
        match input {
            PeerInput::Online(jid) => {
                self.lock().online_as = Some(jid.to_string());
                if let Flavor::Colibri2 { occupant, .. } = &self.flavor {
                    let stats = self.current_stats();
                    muc::write_join(out, occupant, |w| stats.write(w));
                    self.next_stats = Some(Instant::now() + self.opts.stats_interval);
                }
            }
            PeerInput::Stanza(el) => match el.name() {
                "iq" => self.iq(el, out),
                "presence" => self.presence(el),
                _ => {}
            },
            PeerInput::Tick(now) => self.tick(now, out),
        }
    }

    /// The stats with the live counts.
    fn current_stats(&self) -> BridgeStats {
        let mut st = self.lock();
        st.stats_dirty = false;
        let mut s = st.stats.clone();
        s.conferences = Some(st.conferences.len() as u32);
        s.participants = Some(
            st.conferences
                .values()
                .map(|c| c.endpoints.len() as u32)
                .sum(),
        );
        s
    }

    fn tick(&mut self, now: Instant, out: &mut Vec<u8>) {
        let Flavor::Colibri2 { occupant, .. } = &self.flavor else {
            return;
        };
        let Some(next) = self.next_stats else { return };
        let dirty = self.lock().stats_dirty;
        if dirty || now >= next {
            let stats = self.current_stats();
            muc::write_presence_update(out, occupant, |w| stats.write(w));
            self.next_stats = Some(now + self.opts.stats_interval);
        }
    }

    fn presence(&mut self, el: El<'_>) {
        let Flavor::Colibri2 { nick: ours, .. } = &self.flavor else {
            return;
        };
        let Ok(p) = Presence::parse(el) else { return };
        let Some(from) = p.from.as_deref().and_then(|f| Jid::parse(f).ok()) else {
            return;
        };
        let Some(nick) = from.resource() else { return };
        let mut st = self.lock();
        match p.ty {
            PresenceType::Error if nick == ours => {
                st.brewery_error = Some(format!("{:?}", p.error()));
            }
            PresenceType::Available if nick == ours => st.in_brewery = true,
            PresenceType::Unavailable if nick == ours => st.in_brewery = false,
            PresenceType::Available if !st.brewery_occupants.iter().any(|n| n == nick) => {
                st.brewery_occupants.push(nick.to_string());
            }
            PresenceType::Unavailable => st.brewery_occupants.retain(|n| n != nick),
            _ => {}
        }
    }

    fn iq(&mut self, el: El<'_>, out: &mut Vec<u8>) {
        let Ok(iq) = Iq::parse(el) else { return };
        if !iq.is_request() {
            return;
        }
        let request = self.read(&iq);
        let mut record = Received {
            at: Instant::now(),
            from: iq.from.as_deref().unwrap_or_default().to_string(),
            request: request.clone(),
            xml: el.outer_xml().to_string(),
            answer: None,
        };
        let (silent, health) = {
            let st = self.lock();
            (st.switches.silent, st.switches.health)
        };
        if silent {
            self.lock().received.push(record);
            return;
        }
        let start = out.len();
        match request {
            Request::Colibri2(req) => match self.colibri2(&req) {
                Ok(m) => write_conference_modified(out, &iq, None, &m),
                Err(e) => write_colibri2_error(out, &iq, None, &e),
            },
            Request::Colibri1(req) => match self.colibri1(&req) {
                Ok(c) => write_v1_response(out, &iq.id, iq.to.as_deref(), iq.from.as_deref(), &c),
                Err(e) => write_error_reply(out, &iq, None, &e),
            },
            Request::Unreadable(_) if is_colibri2_request(&iq) => {
                let e = Colibri2Request::read(iq.payload.expect("a payload"))
                    .err()
                    .map(|e| e.to_stanza_error())
                    .unwrap_or_else(|| StanzaError::new(Condition::BadRequest));
                write_colibri2_error(out, &iq, None, &e);
            }
            Request::Unreadable(_) => {
                let e = match iq.payload.map(parse_v1_request) {
                    Some(Err(e)) => e.to_stanza_error(),
                    _ => StanzaError::new(Condition::BadRequest),
                };
                write_error_reply(out, &iq, None, &e);
            }
            Request::HealthCheck => match health {
                None => write_empty_result(out, &iq.id, iq.to.as_deref(), iq.from.as_deref()),
                Some(c) => write_error_reply(out, &iq, None, &StanzaError::new(c)),
            },
            Request::DiscoInfo => self.disco_info(&iq, out),
            Request::Other(_) if is_ping(&iq) => write_pong(out, &iq, None),
            Request::Other(_) => write_error_reply(
                out,
                &iq,
                None,
                &StanzaError::new(Condition::FeatureNotImplemented),
            ),
        }
        record.answer = Some(String::from_utf8_lossy(&out[start..]).into_owned());
        self.lock().received.push(record);
    }

    /// What the request is, read as the bridge reads it.
    fn read(&self, iq: &Iq<'_>) -> Request {
        let colibri2 = matches!(self.flavor, Flavor::Colibri2 { .. });
        if colibri2 && is_colibri2_request(iq) {
            match Colibri2Request::read(iq.payload.expect("a payload")) {
                Ok(r) => Request::Colibri2(r),
                Err(e) => Request::Unreadable(e.to_string()),
            }
        } else if !colibri2 && is_v1_request(iq) {
            match parse_v1_request(iq.payload.expect("a payload")) {
                Ok(r) => Request::Colibri1(r),
                Err(e) => Request::Unreadable(e.to_string()),
            }
        } else if is_healthcheck(iq) {
            Request::HealthCheck
        } else if iq.payload_is("query", ns::DISCO_INFO) {
            Request::DiscoInfo
        } else {
            Request::Other(iq.payload.map(|p| p.name().to_string()).unwrap_or_default())
        }
    }

    fn disco_info(&self, iq: &Iq<'_>, out: &mut Vec<u8>) {
        let mut features: Vec<&str> = vec![
            ns::COLIBRI,
            ns::JINGLE_DTLS,
            ns::JINGLE_ICE_UDP,
            ns::JINGLE_RAW_UDP,
        ];
        if self.opts.healthcheck_feature || matches!(self.flavor, Flavor::Colibri2 { .. }) {
            features.push(ns::HEALTHCHECK);
        }
        let identity = Identity {
            category: "component",
            kind: "conference",
            name: Some("JitsiVideobridge"),
        };
        disco::write_info_result(out, iq, None, &[identity], &features);
    }

    // ------------------------------------------------------------ ICE

    /// A fresh ICE transport for one endpoint (or v1 bundle): its own ufrag
    /// and pwd, the bridge's fingerprint, host + srflx candidates on the
    /// bridge's single port, rtcp-mux; Colibri2 adds `setup='actpass'` and
    /// a web-socket.
    fn new_transport(&mut self, conference: &str, endpoint: &str) -> IceUdpTransport {
        let colibri2 = matches!(self.flavor, Flavor::Colibri2 { .. });
        let ufrag = self.rng.token(14).to_ascii_lowercase();
        let pwd = self.rng.token(26).to_ascii_lowercase();
        let port = self.opts.port.to_string();
        let cand = |rng: &mut Rng, foundation: &str, prio: &str, typ: &str, ip: &str| {
            let mut a = Attrs::new()
                .with("component", "1")
                .with("foundation", foundation)
                .with("generation", "0")
                .with("id", &rng.hex(12))
                .with("network", "0")
                .with("priority", prio)
                .with("protocol", "udp")
                .with("type", typ)
                .with("ip", ip)
                .with("port", &port);
            if typ == "srflx" {
                a = a
                    .with("rel-addr", &self.opts.local_ip)
                    .with("rel-port", &port);
            }
            Candidate { attrs: a }
        };
        let candidates = vec![
            cand(
                &mut self.rng,
                "1",
                "2130706431",
                "host",
                &self.opts.local_ip,
            ),
            cand(
                &mut self.rng,
                "2",
                "1694498815",
                "srflx",
                &self.opts.public_ip,
            ),
        ];
        let (hash, setup) = if colibri2 {
            ("sha-256", Some("actpass"))
        } else {
            ("sha-1", None)
        };
        let web_sockets = if colibri2 {
            vec![WebSocket::new(&format!(
                "wss://meet.test/colibri-ws/{}/{conference}/{endpoint}?pwd={pwd}",
                self.server_id
            ))]
        } else {
            Vec::new()
        };
        IceUdpTransport {
            ufrag: Some(ufrag.into()),
            pwd: Some(pwd.into()),
            rtcp_mux: true,
            fingerprints: vec![Fingerprint::new(hash, setup, &self.fingerprint)],
            candidates,
            web_sockets,
            sctpmap: None,
        }
    }

    fn ssrc(&mut self) -> u32 {
        (self.rng.u64() as u32).max(1)
    }

    // ------------------------------------------------------------ Colibri2

    fn colibri2(&mut self, req: &Colibri2Request) -> Result<ConferenceModified, StanzaError> {
        let mid = req.meeting_id.clone();
        let first = req
            .endpoints
            .first()
            .map(|e| e.id.clone())
            .unwrap_or_default();
        let fault = {
            let mut st = self.lock();
            if req.endpoints.iter().any(|e| e.create) {
                st.switches.fail_allocations.pop_front()
            } else if req.endpoints.iter().any(|e| !e.expire) {
                st.switches.fail_updates.pop_front()
            } else {
                None
            }
        };
        if let Some(f) = fault {
            let mut st = self.lock();
            match f {
                Fault::ConferenceNotFound => expire_conference(&mut st, &mid),
                Fault::UnknownEndpoint => {
                    if let Some(c) = st.conferences.get_mut(&mid) {
                        c.endpoints.remove(&first);
                    }
                }
                _ => {}
            }
            return Err(f.colibri2(&mid, &first));
        }
        let (exists, shutting) = {
            let st = self.lock();
            let s = &st.stats;
            (
                st.conferences.contains_key(&mid),
                s.graceful_shutdown == Some(true) || s.shutting_down == Some(true),
            )
        };
        if req.create {
            if exists {
                return Err(conference_already_exists(&mid));
            }
            if shutting {
                return Err(graceful_shutdown());
            }
        } else if !exists {
            return Err(conference_not_found(&mid));
        }
        let as_error = |e: jicofo::stanza::colibri2::Colibri2RequestError| e.to_stanza_error();
        req.check_name().map_err(as_error)?;
        if req.create {
            let feedback = (self.ssrc(), self.ssrc());
            let internal_id = self.rng.hex(8);
            self.lock().conferences.insert(
                mid.clone(),
                Conference {
                    id: mid.clone(),
                    internal_id,
                    name: req.name.clone(),
                    endpoints: BTreeMap::new(),
                    feedback,
                    bundles: BTreeMap::new(),
                },
            );
        }
        req.check_shape().map_err(as_error)?;
        if !req.relays.is_empty() {
            return Err(colibri2_error(
                Condition::FeatureNotImplemented,
                None,
                Some("Octo is disabled in configuration."),
            ));
        }
        let mut modified = ConferenceModified::default();
        for e in &req.endpoints {
            if let Some(m) = self.colibri2_endpoint(req, &mid, e)? {
                modified.endpoints.push(m);
            }
        }
        let mut st = self.lock();
        let conf = st.conferences.get(&mid).expect("the conference");
        if req.wants_feedback_sources() {
            let (a, v) = conf.feedback;
            let msid = |m: &str| format!("mixedmslabel mixedlabel{m}0");
            let mut audio = MediaSource::single(MediaType::Audio, "jvb-a0", a);
            audio.sources[0].msid = Some(msid("audio").into());
            let mut video = MediaSource::single(MediaType::Video, "jvb-v0", v);
            video.sources[0].msid = Some(msid("video").into());
            modified.sources = Some(vec![audio, video]);
        }
        if req.expire || (!req.create && conf.endpoints.is_empty()) {
            expire_conference(&mut st, &mid);
        }
        Ok(modified)
    }

    /// One endpoint of a request; `None` when the bridge skips it (unknown,
    /// in a request that only expires or force-mutes).
    fn colibri2_endpoint(
        &mut self,
        req: &Colibri2Request,
        mid: &str,
        e: &jicofo::stanza::colibri2::RequestedEndpoint,
    ) -> Result<Option<ModifiedEndpoint>, StanzaError> {
        let mut done = ModifiedEndpoint {
            id: e.id.clone(),
            expired: false,
            transport: None,
        };
        if e.expire {
            let mut st = self.lock();
            let conf = st.conferences.get_mut(mid).expect("the conference");
            if conf.endpoints.remove(&e.id).is_some() {
                st.expired_endpoints.push((mid.to_string(), e.id.clone()));
            }
            done.expired = true;
            return Ok(Some(done));
        }
        let exists = self.lock().conferences[mid].endpoints.contains_key(&e.id);
        if e.create {
            if exists {
                return Err(endpoint_already_exists(&e.id));
            }
            e.check().map_err(|x| x.to_stanza_error())?;
            let internal = self.lock().conferences[mid].internal_id.clone();
            let transport = self.new_transport(&internal, &e.id);
            let wants_sctp = e.transport.as_ref().is_some_and(|t| t.sctp.is_some());
            let ep = Endpoint {
                id: e.id.clone(),
                stats_id: None,
                transport,
                sctp_port: wants_sctp.then_some(DEFAULT_SCTP_PORT),
                remote_transport: None,
                sources: EndpointSourceSet::new(),
                media_sources: Vec::new(),
                media: Vec::new(),
                force_mute: None,
                initial_last_n: None,
                channels: Vec::new(),
                sctp: None,
                updates: 0,
            };
            self.lock()
                .conferences
                .get_mut(mid)
                .expect("the conference")
                .endpoints
                .insert(e.id.clone(), ep);
        } else if !exists {
            if req.ignores_unknown_endpoints() {
                return Ok(None);
            }
            return Err(unknown_endpoint(&e.id));
        }
        let ice_restart = e.transport.as_ref().is_some_and(|t| t.ice_restart);
        let fresh = if ice_restart {
            let internal = self.lock().conferences[mid].internal_id.clone();
            Some(self.new_transport(&internal, &e.id))
        } else {
            None
        };
        let mut st = self.lock();
        let ep = st
            .conferences
            .get_mut(mid)
            .and_then(|c| c.endpoints.get_mut(&e.id))
            .expect("the endpoint");
        if !e.create {
            ep.updates += 1;
        }
        if e.stats_id.is_some() {
            ep.stats_id = e.stats_id.clone();
        }
        ep.media.extend(e.media.iter().cloned());
        if let Some(t) = e.transport.as_ref().and_then(|t| t.ice.clone()) {
            ep.remote_transport = Some(t);
        }
        if let Some(t) = fresh {
            ep.transport = t;
        }
        if let Some(s) = &e.sources {
            ep.media_sources = s.clone();
            ep.sources = MediaSource::to_source_set(s);
        }
        if e.force_mute.is_some() {
            ep.force_mute = e.force_mute;
        }
        if e.initial_last_n.is_some() {
            ep.initial_last_n = e.initial_last_n;
        }
        if e.create || ice_restart {
            done.transport = Some(Colibri2Transport {
                ice: Some(ep.transport.clone()),
                sctp: ep.sctp_port.map(|p| Sctp {
                    port: Some(p),
                    role: Some(SctpRole::Server),
                }),
                ..Colibri2Transport::default()
            });
        }
        Ok(Some(done))
    }

    // ------------------------------------------------------------ Colibri v1

    fn colibri1(&mut self, req: &V1Conference) -> Result<V1Conference, StanzaError> {
        let allocates = req.channels.iter().any(|c| c.id.is_none())
            || req.sctp_connections.iter().any(|s| s.id.is_none());
        let fault = {
            let mut st = self.lock();
            if allocates {
                st.switches.fail_allocations.pop_front()
            } else if req.channels.iter().any(|c| c.expire != Some(0)) {
                st.switches.fail_updates.pop_front()
            } else {
                None
            }
        };
        if let Some(f) = fault {
            let mut st = self.lock();
            if let (Fault::ConferenceNotFound, Some(id)) = (f, &req.id) {
                expire_conference(&mut st, id);
            }
            return Err(f.v1());
        }
        let known = req
            .id
            .as_ref()
            .is_some_and(|id| self.lock().conferences.contains_key(id));
        let id = match &req.id {
            None => {
                let shutting = {
                    let s = &self.lock().stats;
                    s.graceful_shutdown == Some(true) || s.shutting_down == Some(true)
                };
                if shutting {
                    return Err(v1_graceful_shutdown_error());
                }
                let id = self.rng.hex(8);
                self.lock().conferences.insert(
                    id.clone(),
                    Conference {
                        id: id.clone(),
                        internal_id: id.clone(),
                        name: req.name.clone(),
                        endpoints: BTreeMap::new(),
                        feedback: (0, 0),
                        bundles: BTreeMap::new(),
                    },
                );
                id
            }
            Some(id) if known => id.clone(),
            Some(_) => return Err(v1_unknown_error()),
        };
        let mut answer = V1Conference {
            id: Some(id.clone()),
            name: req.name.clone(),
            ..V1Conference::default()
        };
        for ch in &req.channels {
            answer.channels.push(self.v1_channel(&id, ch)?);
        }
        for s in &req.sctp_connections {
            answer.sctp_connections.push(self.v1_sctp(&id, s)?);
        }
        let mut st = self.lock();
        let conf = st.conferences.get_mut(&id).expect("the conference");
        for b in &req.bundles {
            if let Some(t) = &b.transport {
                for ep in conf.endpoints.values_mut() {
                    let bundled = ep
                        .channels
                        .iter()
                        .any(|c| c.bundle_id.as_deref() == Some(b.id.as_str()));
                    if bundled {
                        ep.remote_transport = Some(t.clone());
                        ep.updates += 1;
                    }
                }
            }
        }
        // The 2015 bridge describes every bundle of the conference.
        answer.bundles = conf
            .bundles
            .iter()
            .map(|(id, t)| V1Bundle {
                id: id.clone(),
                transport: Some(t.clone()),
            })
            .collect();
        // Endpoints without channels are gone; the conference goes with
        // its last one.
        let gone: Vec<String> = conf
            .endpoints
            .values()
            .filter(|e| e.channels.is_empty() && e.sctp.is_none())
            .map(|e| e.id.clone())
            .collect();
        for e in &gone {
            conf.endpoints.remove(e);
        }
        let empty = conf.endpoints.is_empty();
        st.expired_endpoints
            .extend(gone.into_iter().map(|e| (id.clone(), e)));
        if empty {
            expire_conference(&mut st, &id);
        }
        Ok(answer)
    }

    /// The endpoint for a new channel of `endpoint` with `bundle`: created
    /// with its transport (the bundle's, or a fresh one).
    fn v1_endpoint<'s>(
        &mut self,
        st: &'s mut State,
        conf_id: &str,
        endpoint: &str,
        bundle: Option<&str>,
    ) -> &'s mut Endpoint {
        let conf = st.conferences.get_mut(conf_id).expect("the conference");
        if !conf.endpoints.contains_key(endpoint) {
            let transport = match bundle {
                Some(b) => conf
                    .bundles
                    .entry(b.to_string())
                    .or_insert_with(|| self.new_transport(conf_id, endpoint))
                    .clone(),
                None => self.new_transport(conf_id, endpoint),
            };
            conf.endpoints.insert(
                endpoint.to_string(),
                Endpoint {
                    id: endpoint.to_string(),
                    stats_id: None,
                    transport,
                    sctp_port: None,
                    remote_transport: None,
                    sources: EndpointSourceSet::new(),
                    media_sources: Vec::new(),
                    media: Vec::new(),
                    force_mute: None,
                    initial_last_n: None,
                    channels: Vec::new(),
                    sctp: None,
                    updates: 0,
                },
            );
        }
        conf.endpoints.get_mut(endpoint).expect("just inserted")
    }

    fn v1_channel(&mut self, conf_id: &str, ch: &V1Channel) -> Result<V1Channel, StanzaError> {
        let st = Arc::clone(&self.state);
        let mut st = st.lock().unwrap_or_else(|e| e.into_inner());
        let Some(id) = &ch.id else {
            // Allocation.
            let endpoint = ch.endpoint.clone().unwrap_or_else(|| self.rng.hex(4));
            let ssrc = self.ssrc();
            let channel_id = self.rng.hex(6);
            let ep = self.v1_endpoint(&mut st, conf_id, &endpoint, ch.bundle_id.as_deref());
            let mut d = RtpDescription::new(ch.media.name());
            d.payload_types = ch.payload_types.clone();
            d.hdrexts = ch.hdrexts.clone();
            ep.media.push(d);
            let mut own = V1Channel {
                id: Some(channel_id),
                endpoint: Some(endpoint.clone()),
                bundle_id: ch.bundle_id.clone(),
                initiator: ch.initiator,
                expire: Some(ch.expire.unwrap_or(60)),
                direction: Some(ch.direction.unwrap_or(Direction::SendRecv)),
                last_n: ch.last_n,
                rtp_level_relay_type: Some(
                    ch.rtp_level_relay_type
                        .clone()
                        .unwrap_or_else(|| "translator".into()),
                ),
                sources: Some(vec![Source::new(ssrc, ch.media)]),
                ..V1Channel::new(ch.media)
            };
            if ch.bundle_id.is_none() {
                own.transport = Some(ep.transport.clone());
            }
            ep.channels.push(own.clone());
            return Ok(own);
        };
        // An existing channel.
        let conf = st.conferences.get_mut(conf_id).expect("the conference");
        let Some(ep) = conf
            .endpoints
            .values_mut()
            .find(|e| e.channels.iter().any(|c| c.id.as_ref() == Some(id)))
        else {
            return Err(v1_unknown_error());
        };
        let media = ch.media;
        if let Some(list) = &ch.sources {
            ep.sources.sources.retain(|s| s.media != media);
            for s in list {
                ep.sources.add_source(s.clone());
            }
        }
        if let Some(groups) = &ch.ssrc_groups {
            ep.sources.groups.retain(|g| g.media != media);
            for g in groups {
                ep.sources.add_group(g.clone());
            }
        }
        if let Some(t) = &ch.transport {
            ep.remote_transport = Some(t.clone());
        }
        if !ch.payload_types.is_empty() || !ch.hdrexts.is_empty() {
            let mut d = RtpDescription::new(media.name());
            d.payload_types = ch.payload_types.clone();
            d.hdrexts = ch.hdrexts.clone();
            ep.media.push(d);
        }
        ep.updates += 1;
        let pos = ep
            .channels
            .iter()
            .position(|c| c.id.as_ref() == Some(id))
            .expect("found above");
        let own = &mut ep.channels[pos];
        if let Some(d) = ch.direction {
            own.direction = Some(d);
        }
        if let Some(x) = ch.expire {
            own.expire = Some(x);
        }
        let described = own.clone();
        if ch.expire == Some(0) {
            ep.channels.remove(pos);
        }
        Ok(described)
    }

    fn v1_sctp(
        &mut self,
        conf_id: &str,
        s: &V1SctpConnection,
    ) -> Result<V1SctpConnection, StanzaError> {
        let st = Arc::clone(&self.state);
        let mut st = st.lock().unwrap_or_else(|e| e.into_inner());
        match &s.id {
            None => {
                let endpoint = s.endpoint.clone().unwrap_or_else(|| self.rng.hex(4));
                let sctp_id = self.rng.hex(6);
                let ep = self.v1_endpoint(&mut st, conf_id, &endpoint, s.bundle_id.as_deref());
                let own = V1SctpConnection {
                    id: Some(sctp_id),
                    endpoint: Some(endpoint),
                    bundle_id: s.bundle_id.clone(),
                    initiator: s.initiator,
                    expire: Some(s.expire.unwrap_or(60)),
                    port: Some(s.port.unwrap_or(DEFAULT_SCTP_PORT)),
                    transport: s.bundle_id.is_none().then(|| ep.transport.clone()),
                };
                ep.sctp_port = own.port;
                ep.sctp = Some(own.clone());
                Ok(own)
            }
            Some(id) => {
                let conf = st.conferences.get_mut(conf_id).expect("the conference");
                let Some(ep) = conf
                    .endpoints
                    .values_mut()
                    .find(|e| e.sctp.as_ref().and_then(|c| c.id.as_ref()) == Some(id))
                else {
                    return Err(v1_unknown_error());
                };
                let own = ep.sctp.as_mut().expect("found above");
                if let Some(x) = s.expire {
                    own.expire = Some(x);
                }
                if let Some(t) = &s.transport {
                    ep.remote_transport = Some(t.clone());
                }
                let described = own.clone();
                if s.expire == Some(0) {
                    ep.sctp = None;
                }
                Ok(described)
            }
        }
    }
}

fn expire_conference(st: &mut State, id: &str) {
    if let Some(c) = st.conferences.remove(id) {
        for e in c.endpoints.into_keys() {
            st.expired_endpoints.push((id.to_string(), e));
        }
        st.expired_conferences.push(id.to_string());
    }
}

/// What every candidate, fingerprint and credential of a transport is, as
/// comparable text (attributes sorted): for "the offer carries exactly the
/// bridge's transport" checks against XML read back from a peer.
pub fn transport_summary(t: &IceUdpTransport) -> TransportSummary {
    let sorted = |a: &Attrs| {
        let mut v: Vec<(String, String)> = a
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        v.sort();
        v
    };
    TransportSummary {
        ufrag: t.ufrag.as_deref().map(str::to_string),
        pwd: t.pwd.as_deref().map(str::to_string),
        fingerprints: t
            .fingerprints
            .iter()
            .map(|f| (sorted(&f.attrs), f.value.to_string()))
            .collect(),
        candidates: t.candidates.iter().map(|c| sorted(&c.attrs)).collect(),
        web_sockets: t.web_sockets.iter().map(|w| sorted(&w.attrs)).collect(),
        rtcp_mux: t.rtcp_mux,
    }
}

/// A transport as comparable values (see [`transport_summary`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportSummary {
    /// `ufrag`.
    pub ufrag: Option<String>,
    /// `pwd`.
    pub pwd: Option<String>,
    /// Each fingerprint's sorted attributes and text.
    pub fingerprints: Vec<(Vec<(String, String)>, String)>,
    /// Each candidate's sorted attributes.
    pub candidates: Vec<Vec<(String, String)>>,
    /// Each web-socket's sorted attributes.
    pub web_sockets: Vec<Vec<(String, String)>>,
    /// `<rtcp-mux/>`.
    pub rtcp_mux: bool,
}
