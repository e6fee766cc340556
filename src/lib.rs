//! jicofo-rs: a Jitsi Meet conference focus.

pub mod config;
pub mod conn;
pub mod core;
pub mod focus;
pub mod shell;
pub mod stanza;
pub mod util;
pub mod xml;
