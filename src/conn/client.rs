//! Placeholder of the c2s client stream until the real machine lands: the
//! same API, never online.

use std::time::Instant;

use super::keepalive::KeepAliveConfig;
use super::{ConnError, ConnEvent};
use crate::config::Secret;
use crate::xml::El;

/// Settings of the client stream.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Login domain.
    pub domain: String,
    /// Login name.
    pub username: String,
    /// Password; `None` for ANONYMOUS.
    pub password: Option<Secret>,
    /// Requested resource.
    pub resource: Option<String>,
    /// TLS settings.
    pub tls: std::sync::Arc<rustls::ClientConfig>,
    /// Plaintext allowed when no STARTTLS is offered.
    pub allow_plaintext: bool,
    /// Largest stanza accepted.
    pub max_stanza: usize,
    /// Keep-alive.
    pub keepalive: KeepAliveConfig,
}

/// The client stream machine (placeholder).
#[derive(Debug)]
pub struct ClientConn {
    out: Vec<u8>,
}

impl ClientConn {
    /// New machine.
    pub fn new(_opts: ClientOptions) -> Self {
        ClientConn { out: Vec::new() }
    }
    /// Ready?
    pub fn is_ready(&self) -> bool {
        false
    }
    /// Bound JID.
    pub fn jid(&self) -> Option<&str> {
        None
    }
    /// Start.
    pub fn start(&mut self, _now: Instant, _nonce: &str) {}
    /// Input.
    pub fn handle_input(&mut self, _data: &[u8]) {}
    /// Process.
    pub fn process(&mut self, _now: Instant, _sink: impl FnMut(El<'_>)) -> Result<(), ConnError> {
        Ok(())
    }
    /// Send.
    pub fn send(&mut self, _stanza: &[u8]) -> bool {
        false
    }
    /// Output.
    pub fn output(&mut self) -> &[u8] {
        &self.out
    }
    /// Consume.
    pub fn consume_output(&mut self, n: usize) {
        self.out.drain(..n);
    }
    /// Event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ConnEvent> {
        None
    }
    /// Timeout.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        None
    }
    /// Timers.
    pub fn handle_timeout(&mut self, _now: Instant) -> Result<(), ConnError> {
        Ok(())
    }
    /// Close.
    pub fn close(&mut self, _now: Instant) {}
    /// EOF.
    pub fn handle_eof(&mut self) -> Option<ConnError> {
        Some(ConnError::Closed)
    }
}
