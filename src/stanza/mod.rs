//! Typed views of the XMPP stanzas the focus reads and writes.

pub mod jid;

pub use jid::{Jid, JidError};
