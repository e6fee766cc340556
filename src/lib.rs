//! jicofo-rs: a Jitsi Meet conference focus.

pub mod xml;
