//! XMPP stream connections, sans-IO.
//!
//! Two machines, one per stream the focus keeps with its XMPP server, exactly
//! as the classic Jicofo did:
//!
//! * [`component::ComponentConn`]: the XEP-0114 external component
//!   `<subdomain>.<domain>` that answers conference requests;
//! * [`client::ClientConn`]: the c2s client `<user_name>@<user_domain>` that
//!   joins rooms and talks Jingle and Colibri (STARTTLS, SASL, bind).
//!
//! Both take bytes with `handle_input(now, bytes)`, hand application stanzas
//! to a closure in `process(now, sink)`, queue bytes for the socket in an
//! output buffer (`output()` / `consume_output(n)`), and keep their timers as
//! data (`poll_timeout()` / `handle_timeout(now)`). They never touch a socket
//! or the clock. An `Err` from any of them means the stream is over; the
//! caller closes the socket, and [`ConnError::is_fatal`] says whether
//! reconnecting can help.

pub mod client;
pub mod component;
pub mod keepalive;
pub mod sasl;
pub mod stream;
pub mod tls;

use crate::xml::FramerError;
pub use stream::{StreamCondition, StreamError};

/// Why a stream ended, sorted by who is at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnError {
    /// The server sent bytes we cannot frame or parse; we answered with a
    /// stream error before giving up.
    Malformed(String),
    /// The server broke the stream protocol (an unexpected element, a missing
    /// attribute).
    Protocol(String),
    /// The server ended the stream with a stream error.
    Stream(StreamError),
    /// The server declined a login step for a reason that may pass (a
    /// temporary authentication failure, a refused resource binding):
    /// worth retrying later.
    Refused(String),
    /// The server closed the stream or the TCP connection.
    Closed,
    /// The server stopped answering (a handshake step or the keep-alive).
    Timeout(&'static str),
    /// Our configuration is wrong: retrying cannot help. The text names the
    /// cause and the fix.
    Fatal(String),
}

impl ConnError {
    /// True when reconnecting cannot help and the process should exit.
    pub fn is_fatal(&self) -> bool {
        matches!(self, ConnError::Fatal(_))
    }

    /// Maps a framing failure to the stream error we send and our error.
    pub(crate) fn from_framer(e: &FramerError) -> (StreamCondition, ConnError) {
        let cond = match e {
            FramerError::TooBig { .. } => StreamCondition::PolicyViolation,
            FramerError::NotWellFormed(_) => StreamCondition::NotWellFormed,
            FramerError::RestrictedXml(_) => StreamCondition::RestrictedXml,
        };
        (cond, ConnError::Malformed(e.to_string()))
    }
}

impl std::fmt::Display for ConnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnError::Malformed(m) => write!(f, "the server sent unreadable XML: {m}"),
            ConnError::Protocol(m) => write!(f, "the server broke the protocol: {m}"),
            ConnError::Stream(e) => write!(f, "the server closed the stream with error {e}"),
            ConnError::Refused(m) => write!(f, "the server refused the login for now: {m}"),
            ConnError::Closed => f.write_str("the server closed the connection"),
            ConnError::Timeout(what) => write!(f, "the server did not answer in time ({what})"),
            ConnError::Fatal(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ConnError {}

/// Something a connection tells its owner besides stanzas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnEvent {
    /// The stream is authenticated and ready; `jid` is our address on it.
    Online {
        /// Our full JID (client) or component domain.
        jid: String,
    },
}

/// Which of the two streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnId {
    /// The XEP-0114 component `focus.<domain>`.
    Component,
    /// The c2s client `focus@<user_domain>`.
    Client,
}

impl ConnId {
    /// Both streams, in a fixed order (array index = `as usize`).
    pub const ALL: [ConnId; 2] = [ConnId::Component, ConnId::Client];

    /// Lowercase name for log lines.
    pub fn name(self) -> &'static str {
        match self {
            ConnId::Component => "component",
            ConnId::Client => "client",
        }
    }
}
