//! jicofo-rs: a Jitsi Meet conference focus.

pub mod config;
pub mod conn;
pub mod stanza;
pub mod xml;
