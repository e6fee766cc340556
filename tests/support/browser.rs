//! The real Jitsi Meet client: lib-jitsi-meet in Debian's headless
//! Chromium, driven by `tests/browser/driver.js` (playwright-core) over
//! JSON lines. The page (`tests/browser/index.html` + `client.js`) is served
//! by the test's own Prosody (`ProsodyOpts::http_files_dir(BROWSER_DIR)`),
//! the same origin as its `/xmpp-websocket`.
//!
//! ```ignore
//! let p = Prosody::start(ProsodyOpts::default().http_files_dir(BROWSER_DIR));
//! let mut b = Browser::start(&p);                 // Chromium up, ~1 s
//! b.open("alice", "room1");                       // loads the page: it joins
//! let st = b.wait_state("alice", "joined", |s| s["joined"].as_bool() == Some(true), T);
//! b.state("alice"); b.leave("alice"); b.close("alice");
//! ```
//!
//! Needs node, Chromium (`/usr/bin/chromium`, or `$CHROMIUM`) and the npm
//! packages next to the page, all from `scripts/install-test-deps`; a
//! missing one is a failure naming that script. The driver runs in its own
//! process group, killed as a whole on drop, so no Chromium outlives a test.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::json::{Json, spawn_line_reader};
use super::os;
use super::prosody::Prosody;

/// The page, the client script, the driver and their npm packages.
pub const BROWSER_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser");

/// What to run when something the browser test needs is missing.
pub const BROWSER_INSTALL_HINT: &str = "run `sudo scripts/install-test-deps` from the repository \
     root (installs Debian's chromium, and playwright-core, jquery and lib-jitsi-meet from npm \
     into tests/browser)";

/// The browser and its pages. Killed (its whole process group) on drop.
#[derive(Debug)]
pub struct Browser {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<Json>,
    /// Replies and events received, not yet taken.
    pending: VecDeque<Json>,
    /// Page console errors and other events, for failure messages.
    events: Vec<Json>,
    http_base: String,
    log_path: PathBuf,
    next_seq: u64,
    /// The Chromium version the driver reported.
    pub version: String,
    /// How long the browser took to come up.
    pub startup: Duration,
}

/// Panics with the install hint unless the browser test's peers are here.
pub fn require_browser_peers() {
    let dir = Path::new(BROWSER_DIR);
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut missing = Vec::new();
    if os::which("node").is_none() {
        missing.push("node (Node.js) in PATH".to_string());
    }
    if !Path::new(&chromium).is_file() {
        missing.push(format!("Chromium at {chromium}"));
    }
    for f in [
        "node_modules/playwright-core/package.json",
        "node_modules/jquery/dist/jquery.min.js",
        "vendor/lib-jitsi-meet/lib-jitsi-meet.min.js",
    ] {
        if !dir.join(f).is_file() {
            missing.push(format!("tests/browser/{f}"));
        }
    }
    assert!(
        missing.is_empty(),
        "the real-client test needs {}: {BROWSER_INSTALL_HINT}",
        missing.join(", ")
    );
}

impl Browser {
    /// Starts the driver (one headless Chromium) for pages served by
    /// `prosody`, and waits until the browser is up.
    #[track_caller]
    pub fn start(prosody: &Prosody) -> Browser {
        require_browser_peers();
        let started = Instant::now();
        let log_path = prosody.new_log_path("browser");
        let log = File::create(&log_path).expect("create browser log");
        let mut cmd = Command::new("node");
        cmd.arg(Path::new(BROWSER_DIR).join("driver.js"))
            .current_dir(BROWSER_DIR)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            // Its own group: Chromium and its helpers die with it on drop.
            .process_group(0);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run node: {e}: {BROWSER_INSTALL_HINT}"));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let rx = spawn_line_reader("browser-driver".into(), stdout);
        let mut b = Browser {
            child,
            stdin,
            rx,
            pending: VecDeque::new(),
            events: Vec::new(),
            http_base: prosody.http_url(""),
            log_path,
            next_seq: 0,
            version: String::new(),
            startup: Duration::ZERO,
        };
        let ready = b.wait_line(
            |e| e.is_event("ready") || e.is_event("fatal") || e.is_event("eof"),
            Duration::from_secs(45),
        );
        match ready {
            Some(e) if e.is_event("ready") => {
                b.version = e.str_of("version").unwrap_or_default().to_string();
                b.startup = started.elapsed();
                b
            }
            other => panic!(
                "the browser driver did not start: {}\n{BROWSER_INSTALL_HINT}\nlog:\n{}",
                other.map_or("no answer within 45 s".to_string(), |e| e.to_string()),
                os::tail(&os::read_lossy(&b.log_path), 30)
            ),
        }
    }

    /// Opens a new client (own browser context) on the test page: it
    /// connects, makes fake local tracks and joins `room` (the local part).
    #[track_caller]
    pub fn open(&mut self, client: &str, room: &str) {
        let url = format!("{}/index.html?room={room}&label={client}", self.http_base);
        self.request(client, "open", &[("url", url.as_str())]);
    }

    /// The page's `window.clientState()` (see `tests/browser/client.js`).
    #[track_caller]
    pub fn state(&mut self, client: &str) -> Json {
        self.request(client, "state", &[])["state"].clone()
    }

    /// Polls the client's state every 100 ms until `pred` holds; panics
    /// with `what`, the last state and the console errors after `timeout`.
    #[track_caller]
    pub fn wait_state(
        &mut self,
        client: &str,
        what: &str,
        mut pred: impl FnMut(&Json) -> bool,
        timeout: Duration,
    ) -> Json {
        let deadline = Instant::now() + timeout;
        loop {
            let st = self.state(client);
            if pred(&st) {
                return st;
            }
            if Instant::now() >= deadline {
                panic!(
                    "client {client}: not {what} within {timeout:?}\nlast state: {}\n{}",
                    brief(&st),
                    self.recent_events()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Leaves the conference and disconnects, then closes the client.
    #[track_caller]
    pub fn leave(&mut self, client: &str) {
        self.request(client, "leave", &[]);
    }

    /// Closes the client's page at once (as a closed tab).
    #[track_caller]
    pub fn close(&mut self, client: &str) {
        self.request(client, "close", &[]);
    }

    /// The driver's stderr (Node.js and Playwright messages).
    pub fn log_text(&self) -> String {
        os::read_lossy(&self.log_path)
    }

    /// Console errors/warnings and page errors seen so far, newest last.
    pub fn recent_events(&mut self) -> String {
        self.drain();
        let lines: Vec<String> = self
            .events
            .iter()
            .rev()
            .take(40)
            .rev()
            .map(|e| e.to_string())
            .collect();
        format!("browser events (last 40):\n{}", lines.join("\n"))
    }

    #[track_caller]
    fn request(&mut self, client: &str, cmd: &str, args: &[(&str, &str)]) -> Json {
        self.next_seq += 1;
        let seq = self.next_seq;
        let mut msg = Json::obj([
            ("seq", Json::from(seq)),
            ("cmd", cmd.into()),
            ("client", client.into()),
        ]);
        for (k, v) in args {
            msg.set(k, *v);
        }
        let line = format!("{msg}\n");
        let ok = self.stdin.as_mut().is_some_and(|s| {
            s.write_all(line.as_bytes())
                .and_then(|()| s.flush())
                .is_ok()
        });
        assert!(ok, "cannot write to the browser driver (has it exited?)");
        let timeout = Duration::from_secs(30);
        let reply = self.wait_line(
            |e| e["seq"].as_i64() == Some(seq as i64) || e.is_event("eof"),
            timeout,
        );
        match reply {
            Some(r) if r["ok"].as_bool() == Some(true) => r,
            other => panic!(
                "browser driver: {cmd} {client} failed: {}\n{}\ndriver log:\n{}",
                other.map_or(format!("no reply within {timeout:?}"), |r| r.to_string()),
                self.recent_events(),
                os::tail(&self.log_text(), 20)
            ),
        }
    }

    fn drain(&mut self) {
        while let Ok(ev) = self.rx.try_recv() {
            self.take_event(ev);
        }
    }

    /// Events (no `seq`) go to `events`; replies to `pending`.
    fn take_event(&mut self, ev: Json) {
        if ev["seq"].is_null() {
            self.events.push(ev.clone());
        }
        self.pending.push_back(ev);
    }

    fn wait_line(
        &mut self,
        mut pred: impl FnMut(&Json) -> bool,
        timeout: Duration,
    ) -> Option<Json> {
        self.drain();
        if let Some(i) = self.pending.iter().position(&mut pred) {
            return self.pending.remove(i);
        }
        // Unmatched lines no one waits for would pile up: keep replies only.
        self.pending.retain(|e| !e["seq"].is_null());
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(ev) => {
                    if pred(&ev) {
                        if ev["seq"].is_null() {
                            self.events.push(ev.clone());
                        }
                        return Some(ev);
                    }
                    self.take_event(ev);
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            }
        }
    }
}

/// The state without the long parts, for failure messages.
pub fn brief(st: &Json) -> String {
    let mut s = st.clone();
    if let Some(log) = st["log"].as_array() {
        let tail: Vec<Json> = log.iter().rev().take(30).rev().cloned().collect();
        s.set("log", Json::Arr(tail));
    }
    s.to_string()
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Closing stdin asks the driver to close the browser and exit.
        self.stdin = None;
        if os::wait_child(&mut self.child, Duration::from_secs(3)).is_none() {
            // The whole group: the driver and the Chromium it started.
            let pgid = self.child.id();
            let _ = Command::new("sh")
                .args([
                    "-c",
                    "kill -KILL -- \"-$1\" 2>/dev/null",
                    "sh",
                    &pgid.to_string(),
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            os::kill(&mut self.child);
        }
    }
}
