//! Real-peer test harness: a real Prosody per test, slixmpp participants,
//! and the focus binary as a process. Include it with `mod support;` from
//! any integration test (each test binary compiles its own copy).
//!
//! Peers must be installed (`scripts/install-test-deps`, as root): Prosody,
//! openssl, python3 with slixmpp 1.17.0; for the browser, Chromium, node and
//! the npm packages in `tests/browser`. A missing peer is a test failure
//! that names that script, never a skip. Recipes and traps behind every
//! choice here: `/work/shared/peers.md`.
//!
//! # Prosody
//!
//! ```ignore
//! let mut p = Prosody::start(ProsodyOpts::default());        // ~0.3 s, ready
//! let p2 = Prosody::start(ProsodyOpts::default().auth_plain().secure_domain()
//!     .user("alice", "meet.test", "alicepw")
//!     .component("jvb.meet.test", "jvb_secret")               // emulated bridge
//!     .http_files_dir("/path/to/page")                        // served at /
//!     .private_jids());                // rooms show real JIDs to moderators only
//! p.c2s_port; p.component_port; p.http_port; p.dir; p.ca_file(); p.pid();
//! p.log_text(); p.wait_log("needle", timeout); p.register(user, domain, pw);
//! p.stop();      // SIGTERM, ≤ 2 s, then SIGKILL
//! p.kill();      // SIGKILL: a crash
//! p.restart();   // same dir, ports, config, accounts; waits until ready
//! ```
//!
//! Layout (constants below): anonymous `meet.test` (in secure-domain mode it
//! needs a login and `guest.meet.test` is anonymous), `auth.meet.test` with
//! `focus`/`focuspassword` (SCRAM-hashed, or `internal_plain`), MUC
//! `conference.meet.test` (only admins create rooms; the focus user is admin,
//! hence owner of every room; real JIDs public unless `private_jids()`, as
//! in a stock Jitsi Meet; no room locking), brewery MUC
//! `internal.auth.meet.test`, component `focus.meet.test` with secret
//! `focus_secret`. TLS: a throwaway CA signs a server certificate for
//! `meet.test, *.meet.test, auth.meet.test, guest.meet.test, localhost`;
//! clients trust `ca_file()` and verify the domain name, not 127.0.0.1.
//! STARTTLS is required unless `no_encryption()`. HTTP serves
//! `/xmpp-websocket`, `/http-bind` and the files dir at `/`.
//!
//! Ready means: our PID (the `lua5.4` process) owns listening sockets on the
//! three ports (checked in `/proc`), and this run's log has no "Failed to
//! open server port" (a taken port is only logged; Prosody keeps running).
//! A start whose port was taken retries on new ports.
//!
//! # Peer (slixmpp, `tests/peers/agent.py`)
//!
//! ```ignore
//! let mut focus = Peer::spawn(&p, Login::focus_user());      // waits for `connected`
//! let mut guest = Peer::spawn(&p, Login::guest());           // ANONYMOUS on meet.test
//! let alice = Peer::spawn(&p, Login::user("alice@meet.test", "pw").mechanism("PLAIN"));
//! guest.jid(); guest.mechanism();
//! guest.join(room, nick)      // {"type": "joined", "codes": [..], "item": {..}}
//!                             // or {"type": "error", "condition": "not-allowed"}
//! guest.join_with(room, nick, Some("<stats-id>x</stats-id>"), None);
//! guest.leave(room); guest.disco_info(jid); guest.ping(jid, timeout);
//! guest.send_iq("<iq type='get' to='..'><query xmlns='..'/></iq>", timeout)
//!                             // {"type": "result"|"error"|"timeout", "xml": .., "condition": ..}
//! guest.send_raw(xml); guest.set_presence_extra(room, xml);
//! guest.auto_ack_jingle(true); guest.disconnect(); guest.reconnect();
//! guest.request(cmd("ping", [("jid", "meet.test".into())]));  // any agent command
//! let ev = guest.expect_event("focus presence",
//!     |e| e.is_event("presence") && e["item"]["jid"].as_str() == Some(..), timeout);
//! guest.wait_event(pred, timeout) -> Option<Json>;  guest.history();
//! ```
//!
//! Events (JSON objects, field `event`): `connected`, `disconnected`,
//! `presence` (`from`, `type`, `item` {`affiliation`, `role`, `jid`, `nick`},
//! `codes`, `condition`, `xml`), `iq` (incoming get/set: `from`, `id`,
//! `type`, `child`, `action` for Jingle, `auto_acked`, `xml`), `message`
//! (`from`, `type`, `body`, `xml`), `reply` (answers to commands, by `tag`),
//! and failure events (`failed_auth`, `no_auth`, `ssl_invalid_chain`,
//! `connection_failed`, `stream_error`, `fatal`, `eof`). `wait_event` takes
//! the oldest matching event, leaving the others queued. Unhandled incoming
//! IQ get/set get slixmpp's default error (`feature-not-implemented`).
//! The agent is SIGKILLed on drop.
//!
//! # Focus (the binary under test)
//!
//! ```ignore
//! let mut f = Focus::spawn(&p, &["--some-extra=1"]);  // standard args + extra
//! let args = Focus::standard_args(&p);                 // vary, then:
//! let mut f = Focus::spawn_with(&p, &args, &[("RUST_LOG", "trace")]);
//! f.wait_log("joined", timeout); f.log_text(); f.pid();
//! f.sigterm(); f.wait_exit(timeout); f.kill();
//! ```
//!
//! # Browser (the real Jitsi Meet client, `browser.rs`)
//!
//! ```ignore
//! let p = Prosody::start(ProsodyOpts::default().http_files_dir(BROWSER_DIR));
//! let mut b = Browser::start(&p);          // headless Chromium via tests/browser/driver.js
//! b.open("alice", "room1");                // lib-jitsi-meet joins room1@conference.meet.test
//! let st = b.wait_state("alice", "joined", |s| s["joined"].as_bool() == Some(true), t);
//! b.state("alice"); b.leave("alice"); b.close("alice");
//! ```
//!
//! The state (`tests/browser/client.js`): `myId` (endpoint id = nick),
//! `conferenceIq`, `jingle` (every Jingle IQ in/out with its sources and
//! SSRC groups, and the answer to ours), `remote` (SSRCs of the peer
//! connection's remote description, with owners), `local`, `signaling`,
//! `ice`, `iceFailed`, `tracks`, `participants`, `errors`, `log`.
//!
//! # Everything else
//!
//! All waits are bounded; polls sleep at most 25 ms. Each Prosody has its
//! own dir and ports, so tests run in parallel. Only processes the harness
//! started are signalled, by PID. Every log (Prosody, each peer, each focus)
//! lands in the Prosody dir, removed on drop unless `KEEP_TEST_DIRS=1`
//! (then printed). `JICOFO_TEST_PYTHON` picks the python, and
//! `JICOFO_TEST_RUST_LOG` the focus's `RUST_LOG` (default `debug`).

// Each test binary uses a different part of the harness.
#![allow(dead_code, unused_imports)]

pub mod bridge;
pub mod browser;
pub mod focus;
pub mod json;
pub mod meet_client;
pub mod os;
pub mod peer;
pub mod prosody;
pub mod xmpp_thread;

pub use browser::{BROWSER_DIR, Browser};
pub use focus::Focus;
pub use json::Json;
pub use peer::{Login, Peer, cmd};
pub use prosody::{Prosody, ProsodyOpts};

/// The Jitsi Meet domain (anonymous guests, or logins in secure mode).
pub const DOMAIN: &str = "meet.test";
/// Where the focus user and other accounts live.
pub const AUTH_DOMAIN: &str = "auth.meet.test";
/// The anonymous domain in secure-domain mode.
pub const GUEST_DOMAIN: &str = "guest.meet.test";
/// Conference rooms.
pub const MUC_DOMAIN: &str = "conference.meet.test";
/// The bridges' brewery room host.
pub const INTERNAL_MUC_DOMAIN: &str = "internal.auth.meet.test";
/// The focus's XEP-0114 component.
pub const FOCUS_COMPONENT: &str = "focus.meet.test";
/// Its component secret.
pub const FOCUS_SECRET: &str = "focus_secret";
/// The focus's user (local part) on `AUTH_DOMAIN`.
pub const FOCUS_USER: &str = "focus";
/// Its password.
pub const FOCUS_PASSWORD: &str = "focuspassword";
/// `focus@auth.meet.test`.
pub const FOCUS_JID: &str = "focus@auth.meet.test";
