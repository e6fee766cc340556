//! The whole focus as one sans-IO machine: both XMPP streams, their
//! connection lifecycle (connect, back off, reconnect), and the focus logic.
//!
//! The shell (`shell/`) owns the sockets and the clock and drives this in a
//! loop: feed what happened (`handle_connected`, `handle_input`,
//! `handle_eof`, `handle_timeout`, `shutdown`), then drain what to do
//! (`poll_action`, `output`) and sleep until `poll_timeout`.
//!
//! Each stream has a [`Link`]: `Down` (waiting out a back-off) → `Connecting`
//! (TCP connect in flight, bounded) → `Up` (the stream machine runs) → back
//! to `Down` on any retryable failure. A fatal error (wrong secret, rejected
//! password, untrusted certificate) ends the process instead: retrying a
//! configuration error forever only hides it.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::conn::client::{ClientConn, ClientOptions, ClientState};
use crate::conn::component::{ComponentConn, ComponentOptions};
use crate::conn::{ConnError, ConnEvent, ConnId, StreamCondition};
use crate::focus::{AuthConfig, Focus, FocusConfig, FocusEvent, MediaConfig};

/// First reconnect delay; doubled per failed attempt up to [`BACKOFF_CAP`].
pub const BACKOFF_START: Duration = Duration::from_millis(250);
/// Longest reconnect delay. Short, so the focus is back within seconds of
/// the server: a refused connect on a LAN costs nothing.
pub const BACKOFF_CAP: Duration = Duration::from_secs(3);
/// Longest a TCP connect may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a clean shutdown waits for the server to close the streams.
pub const SHUTDOWN_GRACE: Duration = Duration::from_millis(1500);
/// While a link keeps failing, repeat the warning at most this often.
const WARN_EVERY: Duration = Duration::from_secs(30);

/// What the shell must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Open a TCP connection for this stream, then report it with
    /// `handle_connected` or `handle_connect_failed`.
    Connect(ConnId),
    /// Write what is pending for this stream (best effort) and close its socket.
    Disconnect(ConnId),
    /// Exit the process with `code`; `message` is one plain sentence for stderr.
    Exit {
        /// Process exit code.
        code: i32,
        /// What went wrong, for a fatal error.
        message: Option<String>,
    },
}

/// Everything the core needs to start.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// The component stream.
    pub component: ComponentOptions,
    /// The client stream.
    pub client: ClientOptions,
    /// The focus logic.
    pub focus: FocusConfig,
    /// The auth authority, when `org.jitsi.jicofo.auth.URL` configures one.
    pub auth: Option<AuthConfig>,
    /// Bridges and codecs.
    pub media: MediaConfig,
    /// `host:port` of each stream, for log lines.
    pub addresses: [String; 2],
}

/// Connection lifecycle of one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Not connected; reconnect at `retry_at`.
    Down {
        /// When to try again.
        retry_at: Instant,
    },
    /// TCP connect in flight.
    Connecting {
        /// When to give up on it.
        deadline: Instant,
    },
    /// Connected; the stream machine runs (it may still be handshaking).
    Up,
    /// Shutting down: no reconnects.
    Stopped,
}

/// One stream's link: its state and failure bookkeeping.
#[derive(Debug, Clone, Copy)]
pub struct Link {
    /// Where the link stands.
    pub state: LinkState,
    /// Failed attempts since the last time the stream was online.
    pub failures: u32,
    /// When the first failure of the current series happened.
    failing_since: Option<Instant>,
    /// When we last warned about this series.
    last_warn: Option<Instant>,
}

/// The focus, both streams and their links.
#[derive(Debug)]
pub struct Core {
    component: ComponentConn,
    client: ClientConn,
    focus: Focus,
    links: [Link; 2],
    addresses: [String; 2],
    actions: VecDeque<Action>,
    shutdown_deadline: Option<Instant>,
    exiting: bool,
    /// When the core was made: start-up time is reported against it.
    started: Instant,
}

fn backoff(failures: u32) -> Duration {
    let factor = 1u32 << failures.min(16);
    (BACKOFF_START * factor).min(BACKOFF_CAP)
}

impl Core {
    /// A core that will connect both streams at once.
    pub fn new(now: Instant, cfg: CoreConfig, seed: [u8; 32]) -> Self {
        let link = Link {
            state: LinkState::Down { retry_at: now },
            failures: 0,
            failing_since: None,
            last_warn: None,
        };
        Core {
            component: ComponentConn::new(cfg.component),
            client: ClientConn::new(cfg.client),
            focus: Focus::with_media(cfg.focus, cfg.auth, cfg.media, seed),
            links: [link; 2],
            addresses: cfg.addresses,
            actions: VecDeque::new(),
            shutdown_deadline: None,
            exiting: false,
            started: now,
        }
    }

    /// A link's state, for tests and logs.
    pub fn link(&self, id: ConnId) -> &Link {
        &self.links[id as usize]
    }

    /// True when the stream is authenticated and ready.
    pub fn is_online(&self, id: ConnId) -> bool {
        match id {
            ConnId::Component => self.component.is_ready(),
            ConnId::Client => self.client.is_ready(),
        }
    }

    /// The focus logic, for inspection.
    pub fn focus(&self) -> &Focus {
        &self.focus
    }

    /// The next thing the shell must do.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The TCP connection of `id` is established.
    pub fn handle_connected(&mut self, now: Instant, id: ConnId) {
        if !matches!(self.links[id as usize].state, LinkState::Connecting { .. }) {
            return;
        }
        self.links[id as usize].state = LinkState::Up;
        log::debug!(
            "{} connection to {} established",
            id.name(),
            self.addresses[id as usize]
        );
        match id {
            ConnId::Component => self.component.start(now),
            ConnId::Client => {
                let nonce = self.focus.token(24);
                self.client.start(now, &nonce);
            }
        }
    }

    /// The TCP connect of `id` failed.
    pub fn handle_connect_failed(&mut self, now: Instant, id: ConnId, reason: &str) {
        if matches!(self.links[id as usize].state, LinkState::Connecting { .. }) {
            self.link_down(now, id, &format!("cannot connect: {reason}"), false);
        }
    }

    /// Bytes arrived on `id`'s socket.
    pub fn handle_input(&mut self, now: Instant, id: ConnId, data: &[u8]) {
        if self.links[id as usize].state != LinkState::Up {
            return;
        }
        let focus = &mut self.focus;
        let result = match id {
            ConnId::Component => {
                self.component.handle_input(data);
                self.component
                    .process(now, |el| focus.handle_stanza(now, id, el))
            }
            ConnId::Client => {
                self.client.handle_input(data);
                self.client
                    .process(now, |el| focus.handle_stanza(now, id, el))
            }
        };
        self.after_stream_step(now, id, result);
    }

    /// `id`'s socket reached end of file (or failed).
    pub fn handle_eof(&mut self, now: Instant, id: ConnId) {
        if self.links[id as usize].state != LinkState::Up {
            return;
        }
        let err = match id {
            ConnId::Component => self.component.handle_eof(),
            ConnId::Client => self.client.handle_eof(),
        };
        match err {
            Some(e) => self.stream_failed(now, id, e),
            None => self.stream_ended(now, id),
        }
    }

    /// Bytes to write to `id`'s socket.
    pub fn output(&mut self, id: ConnId) -> &[u8] {
        match id {
            ConnId::Component => self.component.output(),
            ConnId::Client => self.client.output(),
        }
    }

    /// `n` bytes of [`Core::output`] were written.
    pub fn consume_output(&mut self, id: ConnId, n: usize) {
        match id {
            ConnId::Component => self.component.consume_output(n),
            ConnId::Client => self.client.consume_output(n),
        }
    }

    /// The earliest time [`Core::handle_timeout`] must run.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut t = [
            self.component.poll_timeout(),
            self.client.poll_timeout(),
            self.focus.poll_timeout(),
            self.shutdown_deadline,
        ]
        .into_iter()
        .flatten()
        .min();
        for l in &self.links {
            let at = match l.state {
                LinkState::Down { retry_at } => Some(retry_at),
                LinkState::Connecting { deadline } => Some(deadline),
                _ => None,
            };
            t = match (t, at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        t
    }

    /// Advances every timer that is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        for id in ConnId::ALL {
            match self.links[id as usize].state {
                LinkState::Down { retry_at } if now >= retry_at => {
                    self.links[id as usize].state = LinkState::Connecting {
                        deadline: now + CONNECT_TIMEOUT,
                    };
                    self.actions.push_back(Action::Connect(id));
                }
                LinkState::Connecting { deadline } if now >= deadline => {
                    self.actions.push_back(Action::Disconnect(id));
                    self.link_down(now, id, "connect timed out", false);
                }
                LinkState::Up => {
                    let r = match id {
                        ConnId::Component => self.component.handle_timeout(now),
                        ConnId::Client => self.client.handle_timeout(now),
                    };
                    self.after_stream_step(now, id, r);
                }
                _ => {}
            }
        }
        self.focus.handle_timeout(now);
        self.flush_focus();
        self.focus_events(now);
        if let Some(deadline) = self.shutdown_deadline {
            let closed = self.links.iter().all(|l| l.state != LinkState::Up);
            if closed || now >= deadline {
                self.exit(0, None);
            }
        }
    }

    /// Starts a clean shutdown (SIGTERM/SIGINT): close both streams, then exit 0.
    pub fn shutdown(&mut self, now: Instant) {
        if self.shutdown_deadline.is_some() {
            return;
        }
        log::info!("shutting down: leaving every room and closing both XMPP streams");
        self.shutdown_deadline = Some(now + SHUTDOWN_GRACE);
        self.focus.shutdown(now);
        self.flush_focus();
        self.component.close(now);
        self.client.close(now);
        for id in ConnId::ALL {
            if self.links[id as usize].state != LinkState::Up {
                if matches!(self.links[id as usize].state, LinkState::Connecting { .. }) {
                    self.actions.push_back(Action::Disconnect(id));
                }
                self.links[id as usize].state = LinkState::Stopped;
            }
        }
        self.handle_timeout(now);
    }

    fn focus_events(&mut self, now: Instant) {
        while let Some(ev) = self.focus.poll_event() {
            match ev {
                FocusEvent::ShutdownComplete => self.shutdown(now),
            }
        }
    }

    fn exit(&mut self, code: i32, message: Option<String>) {
        if self.exiting {
            return;
        }
        self.exiting = true;
        self.actions.push_back(Action::Exit { code, message });
    }

    /// After a stream machine ran: deliver its events, route the focus's
    /// output, and handle the end of the stream.
    fn after_stream_step(&mut self, now: Instant, id: ConnId, result: Result<(), ConnError>) {
        loop {
            let ev = match id {
                ConnId::Component => self.component.poll_event(),
                ConnId::Client => self.client.poll_event(),
            };
            let Some(ConnEvent::Online { jid }) = ev else {
                break;
            };
            let link = &mut self.links[id as usize];
            if link.failures > 0 {
                log::info!(
                    "{} connection to {} is back as {jid}",
                    id.name(),
                    self.addresses[id as usize]
                );
            } else {
                let ms = now.duration_since(self.started).as_secs_f64() * 1000.0;
                log::info!(
                    "{} connection to {} is up as {jid} ({ms:.1} ms after start)",
                    id.name(),
                    self.addresses[id as usize]
                );
            }
            link.failures = 0;
            link.failing_since = None;
            link.last_warn = None;
            self.focus.handle_online(now, id, &jid);
        }
        self.flush_focus();
        self.focus_events(now);
        if let Err(e) = result {
            self.stream_failed(now, id, e);
        } else if self.shutdown_deadline.is_some() && !self.stream_open(id) {
            self.stream_ended(now, id);
        }
    }

    fn stream_open(&self, id: ConnId) -> bool {
        use crate::conn::component::ComponentState;
        match id {
            ConnId::Component => !matches!(
                self.component.state(),
                ComponentState::Closed | ComponentState::Idle
            ),
            ConnId::Client => {
                !matches!(self.client.state(), ClientState::Closed | ClientState::Idle)
            }
        }
    }

    /// Moves what the focus wrote onto the streams.
    fn flush_focus(&mut self) {
        for id in ConnId::ALL {
            let out = self.focus.output(id);
            if out.is_empty() {
                continue;
            }
            let sent = match id {
                ConnId::Component => self.component.send(out),
                ConnId::Client => self.client.send(out),
            };
            if !sent {
                log::debug!(
                    "{} stream not ready: dropped {} bytes of stanzas",
                    id.name(),
                    out.len()
                );
            }
            out.clear();
        }
    }

    fn stream_failed(&mut self, now: Instant, id: ConnId, err: ConnError) {
        if err.is_fatal() {
            self.actions.push_back(Action::Disconnect(id));
            self.exit(1, Some(err.to_string()));
            return;
        }
        let mut why = err.to_string();
        if let ConnError::Stream(se) = &err
            && se.condition == StreamCondition::Conflict
            && id == ConnId::Component
        {
            why.push_str(": another focus is connected as this component");
        }
        self.actions.push_back(Action::Disconnect(id));
        self.link_down(now, id, &why, true);
    }

    /// The stream closed cleanly (we asked for it).
    fn stream_ended(&mut self, now: Instant, id: ConnId) {
        self.actions.push_back(Action::Disconnect(id));
        if self.shutdown_deadline.is_some() {
            self.links[id as usize].state = LinkState::Stopped;
            self.focus.handle_offline(now, id);
            self.handle_timeout(now);
        } else {
            self.link_down(now, id, "the stream was closed", true);
        }
    }

    fn link_down(&mut self, now: Instant, id: ConnId, why: &str, was_up: bool) {
        if was_up {
            self.focus.handle_offline(now, id);
        }
        if self.shutdown_deadline.is_some() {
            self.links[id as usize].state = LinkState::Stopped;
            return;
        }
        let link = &mut self.links[id as usize];
        let delay = backoff(link.failures);
        link.failures = link.failures.saturating_add(1);
        link.state = LinkState::Down {
            retry_at: now + delay,
        };
        let since = *link.failing_since.get_or_insert(now);
        let warn = link
            .last_warn
            .is_none_or(|t| now.duration_since(t) >= WARN_EVERY);
        let addr = &self.addresses[id as usize];
        if warn {
            link.last_warn = Some(now);
            let for_how_long = now.duration_since(since);
            if for_how_long.is_zero() {
                log::warn!(
                    "{} connection to {addr}: {why}; reconnecting in {delay:?}",
                    id.name()
                );
            } else {
                log::warn!(
                    "{} connection to {addr}: {why}; still failing after {}s, reconnecting every {delay:?} at most",
                    id.name(),
                    for_how_long.as_secs()
                );
            }
        } else {
            log::debug!(
                "{} connection to {addr}: {why}; reconnecting in {delay:?}",
                id.name()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(0), Duration::from_millis(250));
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(3), Duration::from_secs(2));
        assert_eq!(backoff(4), BACKOFF_CAP);
        assert_eq!(backoff(40), BACKOFF_CAP);
    }
}
