//! A long-lived XMPP participant from an independent implementation: the
//! slixmpp agent `tests/peers/agent.py`, driven over JSON lines.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::json::{Json, spawn_line_reader};
use super::os;
use super::prosody::Prosody;
use super::{AUTH_DOMAIN, DOMAIN, FOCUS_PASSWORD, FOCUS_USER};

/// The agent script.
pub const AGENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/agent.py");

/// How a [`Peer`] logs in.
#[derive(Clone, Debug)]
pub struct Login {
    /// A bare JID to log in as, or a bare domain for ANONYMOUS.
    pub jid: String,
    /// The password (empty for anonymous).
    pub password: String,
    /// Force one SASL mechanism (`PLAIN`, `SCRAM-SHA-1`, …).
    pub mechanism: Option<String>,
    /// STARTTLS (default). `false` needs `ProsodyOpts::no_encryption`.
    pub tls: bool,
    /// Label for the peer's log file and panic messages.
    pub label: String,
    /// Slixmpp debug logging (every stanza) in the peer's log file.
    pub verbose: bool,
    /// How long `Peer::spawn` waits for `connected` (default 10 s).
    pub connect_timeout: Duration,
}

impl Login {
    /// ANONYMOUS on `domain` (e.g. `meet.test`).
    pub fn anonymous(domain: &str) -> Login {
        Login {
            jid: domain.into(),
            password: String::new(),
            mechanism: None,
            tls: true,
            label: format!("anon-{domain}"),
            verbose: true,
            connect_timeout: Duration::from_secs(10),
        }
    }

    /// An account, e.g. `Login::user("alice@meet.test", "pw")`.
    pub fn user(jid: &str, password: &str) -> Login {
        Login {
            password: password.into(),
            label: jid.split('@').next().unwrap_or(jid).into(),
            ..Login::anonymous(jid)
        }
    }

    /// A guest on `meet.test`.
    pub fn guest() -> Login {
        Login::anonymous(DOMAIN)
    }

    /// The focus's own account, `focus@auth.meet.test`.
    pub fn focus_user() -> Login {
        Login::user(&format!("{FOCUS_USER}@{AUTH_DOMAIN}"), FOCUS_PASSWORD)
    }

    /// Only this SASL mechanism.
    pub fn mechanism(mut self, mech: &str) -> Self {
        self.mechanism = Some(mech.into());
        self
    }

    /// Plaintext c2s (no STARTTLS).
    pub fn plaintext(mut self) -> Self {
        self.tls = false;
        self
    }

    /// Label for logs and messages.
    pub fn label(mut self, label: &str) -> Self {
        self.label = label.into();
        self
    }
}

/// A running slixmpp participant. Its events are collected by a reader
/// thread; [`Peer::wait_event`] takes them in order. Killed on drop.
#[derive(Debug)]
pub struct Peer {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<Json>,
    /// Received, not yet taken by `wait_event`.
    pending: VecDeque<Json>,
    /// Every event received so far, taken or not.
    history: Vec<Json>,
    jid: String,
    mechanism: Option<String>,
    label: String,
    log_path: PathBuf,
    next_tag: u64,
}

impl Peer {
    /// Starts a participant against `prosody` and waits for `connected`.
    /// Panics with the failure and the peer's log otherwise.
    #[track_caller]
    pub fn spawn(prosody: &Prosody, login: Login) -> Peer {
        match Peer::try_spawn(prosody, login) {
            Ok(peer) => peer,
            Err(e) => panic!("{e}"),
        }
    }

    /// Like [`Peer::spawn`], but a login that fails is an `Err` with the
    /// events and log (for tests that expect failure).
    pub fn try_spawn(prosody: &Prosody, login: Login) -> Result<Peer, String> {
        let python = std::env::var("JICOFO_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let log_path = prosody.new_log_path(&format!("peer-{}", login.label));
        let log = File::create(&log_path).expect("create peer log");
        let mut cmd = Command::new(&python);
        cmd.arg(AGENT)
            .arg("--jid")
            .arg(&login.jid)
            .arg("--password")
            .arg(&login.password)
            .arg("--host")
            .arg("127.0.0.1")
            .arg("--port")
            .arg(prosody.c2s_port.to_string())
            .arg("--ca-file")
            .arg(prosody.ca_file());
        if let Some(m) = &login.mechanism {
            cmd.arg("--mechanism").arg(m);
        }
        if !login.tls {
            cmd.arg("--no-tls");
        }
        if login.verbose {
            cmd.arg("--verbose");
        }
        let mut child = cmd
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONIOENCODING", "utf-8")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {python} (the slixmpp peer needs python3): {e}: {}",
                    os::INSTALL_HINT
                )
            });
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let rx = spawn_line_reader(format!("peer-{}", login.label), stdout);
        let mut peer = Peer {
            child,
            stdin,
            rx,
            pending: VecDeque::new(),
            history: Vec::new(),
            jid: String::new(),
            mechanism: None,
            label: login.label.clone(),
            log_path,
            next_tag: 0,
        };
        let outcome = peer.wait_event(
            |e| {
                [
                    "connected",
                    "fatal",
                    "eof",
                    "no_auth",
                    "failed_auth",
                    "ssl_invalid_chain",
                    "connection_failed",
                    "stream_error",
                    "disconnected",
                ]
                .iter()
                .any(|n| e.is_event(n))
            },
            login.connect_timeout,
        );
        match outcome {
            Some(ev) if ev.is_event("connected") => {
                peer.jid = ev.str_of("jid").unwrap_or_default().to_string();
                peer.mechanism = ev.str_of("mechanism").map(str::to_string);
                Ok(peer)
            }
            other => {
                let what = match &other {
                    // The agent's own message names the install script.
                    Some(ev) if ev.is_event("fatal") => ev["error"].as_str().unwrap_or("?").into(),
                    Some(ev) => format!("got {ev}"),
                    None => format!("no `connected` within {:?}", login.connect_timeout),
                };
                // Reap it first so its log is complete.
                os::kill(&mut peer.child);
                Err(format!(
                    "peer {} ({}) did not log in on port {}: {what}\nlog {}:\n{}",
                    login.label,
                    login.jid,
                    prosody.c2s_port,
                    peer.log_path.display(),
                    os::tail(&os::read_lossy(&peer.log_path), 25)
                ))
            }
        }
    }

    /// Our full JID as bound by the server.
    pub fn jid(&self) -> &str {
        &self.jid
    }

    /// The SASL mechanism that logged us in.
    pub fn mechanism(&self) -> Option<&str> {
        self.mechanism.as_deref()
    }

    /// PID of the python process.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The agent's log (slixmpp, stderr).
    pub fn log_text(&self) -> String {
        os::read_lossy(&self.log_path)
    }

    /// Sends a command without waiting; returns its tag (one is added when
    /// `cmd` has none).
    pub fn send(&mut self, mut cmd: Json) -> String {
        let tag = match cmd.str_of("tag") {
            Some(t) => t.to_string(),
            None => {
                self.next_tag += 1;
                let t = format!("t{}", self.next_tag);
                cmd.set("tag", t.as_str());
                t
            }
        };
        let line = format!("{cmd}\n");
        let ok = self.stdin.as_mut().is_some_and(|s| {
            s.write_all(line.as_bytes())
                .and_then(|()| s.flush())
                .is_ok()
        });
        assert!(
            ok,
            "peer {}: cannot write to the agent (has it exited?): {cmd}",
            self.label
        );
        tag
    }

    /// Sends a command and waits for its reply (for the command's `timeout`
    /// plus 5 s, default 15 s). Panics if the agent does not reply at all;
    /// XMPP-level failures are in the reply (`type` `error`, `timeout`, …).
    #[track_caller]
    pub fn request(&mut self, cmd: Json) -> Json {
        let secs = cmd["timeout"].as_f64().unwrap_or(10.0);
        let name = cmd.str_of("cmd").unwrap_or("?").to_string();
        let tag = self.send(cmd);
        let timeout = Duration::from_secs_f64(secs + 5.0);
        match self.wait_event(
            |e| e.is_event("reply") && e.str_of("tag") == Some(&tag),
            timeout,
        ) {
            Some(reply) => {
                assert!(
                    reply.str_of("type") != Some("failure"),
                    "peer {}: command {name} failed in the agent: {}",
                    self.label,
                    reply["error"]
                );
                reply
            }
            None => panic!(
                "peer {}: no reply to {name} (tag {tag}) within {timeout:?}\nlog:\n{}",
                self.label,
                os::tail(&self.log_text(), 25)
            ),
        }
    }

    /// Takes the first event (oldest first, including ones received before
    /// this call) that matches, waiting at most `timeout`. Events that do
    /// not match stay queued for later waits.
    pub fn wait_event(
        &mut self,
        mut pred: impl FnMut(&Json) -> bool,
        timeout: Duration,
    ) -> Option<Json> {
        if let Some(i) = self.pending.iter().position(&mut pred) {
            return self.pending.remove(i);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(ev) => {
                    self.history.push(ev.clone());
                    if pred(&ev) {
                        return Some(ev);
                    }
                    self.pending.push_back(ev);
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// Like [`Peer::wait_event`], but panics with `what` and the recent
    /// events when nothing matches in time.
    #[track_caller]
    pub fn expect_event(
        &mut self,
        what: &str,
        pred: impl FnMut(&Json) -> bool,
        timeout: Duration,
    ) -> Json {
        match self.wait_event(pred, timeout) {
            Some(ev) => ev,
            None => {
                let recent: Vec<String> = self
                    .history
                    .iter()
                    .rev()
                    .take(10)
                    .map(|e| {
                        let mut e = e.clone();
                        e.set("xml", Json::Null); // keep the message short
                        e.to_string()
                    })
                    .collect();
                panic!(
                    "peer {}: no {what} within {timeout:?}; last events (newest first):\n{}",
                    self.label,
                    recent.join("\n")
                )
            }
        }
    }

    /// Events received so far and not yet taken (does not wait).
    pub fn pending_events(&mut self) -> &VecDeque<Json> {
        while let Ok(ev) = self.rx.try_recv() {
            self.history.push(ev.clone());
            self.pending.push_back(ev);
        }
        &self.pending
    }

    /// Every event received so far, taken or not (does not wait).
    pub fn history(&mut self) -> &[Json] {
        let _ = self.pending_events();
        &self.history
    }

    /// Sends one `<iq/>` (no xmlns needed) and waits at most `timeout` for
    /// the answer: `type` is `result`, `error` (with `condition`) or
    /// `timeout`; `xml` is the answer.
    pub fn send_iq(&mut self, xml: &str, timeout: Duration) -> Json {
        self.request(cmd(
            "send_iq",
            [
                ("xml", xml.into()),
                ("timeout", timeout.as_secs_f64().into()),
            ],
        ))
    }

    /// Writes `xml` on the stream verbatim.
    pub fn send_raw(&mut self, xml: &str) {
        self.request(cmd("send_raw", [("xml", xml.into())]));
    }

    /// Joins `room` as `nick`: `type` is `joined` (with `codes`, `item`),
    /// `error` (with `condition`, e.g. `not-allowed`) or `timeout`.
    pub fn join(&mut self, room: &str, nick: &str) -> Json {
        self.request(cmd(
            "join",
            [
                ("room", room.into()),
                ("nick", nick.into()),
                ("timeout", 10.into()),
            ],
        ))
    }

    /// Joins with extra presence children (raw XML) and/or a password.
    pub fn join_with(
        &mut self,
        room: &str,
        nick: &str,
        extra_xml: Option<&str>,
        password: Option<&str>,
    ) -> Json {
        self.request(cmd(
            "join",
            [
                ("room", room.into()),
                ("nick", nick.into()),
                ("extra_xml", extra_xml.into()),
                ("password", password.into()),
                ("timeout", 10.into()),
            ],
        ))
    }

    /// Leaves `room` and waits for our unavailable presence (`type` `left`).
    pub fn leave(&mut self, room: &str) -> Json {
        self.request(cmd(
            "leave",
            [("room", room.into()), ("timeout", 10.into())],
        ))
    }

    /// Disco#info of `jid`: `identities` (category, type, name) and `features`.
    pub fn disco_info(&mut self, jid: &str) -> Json {
        self.request(cmd(
            "disco_info",
            [("jid", jid.into()), ("timeout", 10.into())],
        ))
    }

    /// XEP-0199 ping: `type` `result`, `error` or `timeout`.
    pub fn ping(&mut self, jid: &str, timeout: Duration) -> Json {
        self.request(cmd(
            "ping",
            [
                ("jid", jid.into()),
                ("timeout", timeout.as_secs_f64().into()),
            ],
        ))
    }

    /// Extra children (raw XML) for our presence in `room`; re-sent at once
    /// when joined.
    pub fn set_presence_extra(&mut self, room: &str, xml: &str) -> Json {
        self.request(cmd(
            "set_presence_extra",
            [("room", room.into()), ("xml", xml.into())],
        ))
    }

    /// When on, every incoming Jingle IQ set is answered with an empty
    /// result (its `iq` event still arrives, with `auto_acked: true`).
    pub fn auto_ack_jingle(&mut self, on: bool) {
        self.request(cmd("auto_ack_jingle", [("on", on.into())]));
    }

    /// Advertises `features` in our disco#info from now on (the focus asks
    /// a participant what media it supports before inviting it).
    pub fn add_features(&mut self, features: &[&str]) {
        let list: Vec<Json> = features.iter().map(|f| Json::from(*f)).collect();
        self.request(cmd("add_features", [("features", list.into())]));
    }

    /// Closes the stream and waits for the disconnection.
    pub fn disconnect(&mut self) -> Json {
        self.request(cmd("disconnect", [("timeout", 5.into())]))
    }

    /// Connects again after a disconnection: `type` `connected` (with the
    /// new `jid`, also stored) or `failed`.
    pub fn reconnect(&mut self) -> Json {
        let reply = self.request(cmd("connect", [("timeout", 10.into())]));
        if let Some(jid) = reply.str_of("jid") {
            self.jid = jid.to_string();
        }
        reply
    }

    /// Asks the agent to disconnect and exit, then reaps it (at most 3 s).
    pub fn quit(mut self) {
        let tag = self.send(cmd("quit", []));
        let _ = self.wait_event(
            |e| e.is_event("reply") && e.str_of("tag") == Some(&tag),
            Duration::from_secs(3),
        );
        self.stdin = None;
        os::wait_child(&mut self.child, Duration::from_secs(3));
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stdin = None;
        os::kill(&mut self.child);
    }
}

/// `{"cmd": name, ..args}`, skipping `null` arguments.
pub fn cmd<const N: usize>(name: &str, args: [(&str, Json); N]) -> Json {
    let mut pairs = vec![("cmd".to_string(), Json::from(name))];
    pairs.extend(
        args.into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.to_string(), v)),
    );
    Json::Obj(pairs)
}
